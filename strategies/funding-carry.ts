/**
 * funding-carry — hold the side that receives funding, hedged: of two correlated symbols,
 * short the one whose recent funding (mean of the last `window` settled rates) is higher and
 * long the other, equal notionals. Positive funding is paid by longs, so the short collects the
 * richer rate and the long pays the cheaper one. Re-ranks after every funding settlement and
 * rotates when the funding gap exceeds `minSpread`.
 *
 * Demonstrates: a hedged carry position that earns slowly and must survive the legs' divergence.
 * Under Binance isolated margin funding is booked into each position's own wallet, moving its
 * liquidation price; under cross it hits the shared wallet and the hedge protects both legs.
 */
import { defineStrategy, z, type FundingHistory } from 'marginlab';

const params = z.object({
  a: z.string().default('BTCUSDT'),
  b: z.string().default('ETHUSDT'),
  window: z.number().int().positive().default(9),
  /** minimum difference of mean funding rates (per interval) to hold the pair */
  minSpread: z.number().min(0).default(0.00002),
  marginFraction: z.number().positive().max(0.5).default(0.3),
});

function meanRate(f: FundingHistory, n: number): number {
  const m = Math.min(n, f.count);
  if (m === 0) return NaN;
  let s = 0;
  for (let k = 0; k < m; k++) s += f.rate(k);
  return s / m;
}

export default defineStrategy({
  name: 'funding-carry',
  description: 'Short the higher-funding symbol, long the lower, equal notionals; isolated funding moves each leg\'s liquidation price.',
  params,
  symbols: (p) => [p.a, p.b],
  create(p) {
    let seen = -1;
    let side = 0; // +1: short a / long b, −1: long a / short b
    return {
      onBar(ctx) {
        const fa = ctx.data[0]!.funding;
        const fb = ctx.data[1]!.funding;
        const events = fa.count + fb.count;
        const qa = ctx.position(0).qty;
        const qb = ctx.position(1).qty;
        const broken = side !== 0 && (qa === 0) !== (qb === 0);
        if (events === seen && !broken) return;
        seen = events;
        const ra = meanRate(fa, p.window);
        const rb = meanRate(fb, p.window);
        if (!(ra === ra && rb === rb)) return;
        const want = Math.abs(ra - rb) < p.minSpread ? 0 : ra > rb ? 1 : -1;
        if (want === side && !broken) return;
        const ca = ctx.close(0);
        const cb = ctx.close(1);
        const equity = ctx.account.equity;
        if (!(ca > 0 && cb > 0 && equity > 0)) return;
        side = want;
        const notional = p.marginFraction * equity * Math.min(ctx.leverage(0), ctx.leverage(1));
        ctx.targetPosition(0, want === 0 ? 0 : (-want * notional) / ca);
        ctx.targetPosition(1, want === 0 ? 0 : (want * notional) / cb);
      },
    };
  },
});
