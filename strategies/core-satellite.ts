/**
 * core-satellite — one account, two margin modes: a hedged core (long `coreLong`, short
 * `coreShort`, equal notionals) held in CROSS margin, plus speculative satellites (EMA-crossover
 * momentum on each `satellites` symbol at `satLeverage`×) each in ISOLATED margin, chosen per
 * order. It asks for the 'mixed' setup, which honours those per-order modes; under 'isolated'
 * or 'cross' every position takes the setup's mode (the engine ignores the order's mode there),
 * so the report compares all three.
 *
 * Demonstrates: per-order margin mode. The core's legs back each other in the cross pool, while a
 * satellite blow-up costs only that satellite's isolated margin and never drags the core into a
 * liquidation.
 */
import { defineStrategy, z, Ema, type OrderOptions } from 'marginlab';

const params = z.object({
  coreLong: z.string().default('BTCUSDT'),
  coreShort: z.string().default('ETHUSDT'),
  satellites: z.array(z.string()).default(['XRPUSDT', 'ADAUSDT']),
  /** initial margin per core leg, fraction of equity */
  coreFraction: z.number().positive().max(0.5).default(0.2),
  /** initial margin per satellite bet, fraction of equity */
  satFraction: z.number().positive().max(0.5).default(0.05),
  satLeverage: z.number().min(1).default(20),
  fast: z.number().int().positive().default(12),
  slow: z.number().int().positive().default(48),
}).refine((p) => p.fast < p.slow, { message: 'fast must be below slow', path: ['fast'] });

export default defineStrategy({
  name: 'core-satellite',
  description: 'Cross-margined hedged core (long BTC / short ETH) plus isolated momentum satellites in one account (run under mixed).',
  params,
  symbols: (p) => [p.coreLong, p.coreShort, ...p.satellites],
  setups: ['mixed'],
  create(p) {
    const nSat = p.satellites.length;
    const fast = p.satellites.map(() => new Ema(p.fast));
    const slow = p.satellites.map(() => new Ema(p.slow));
    const signal = new Float64Array(nSat);
    let coreOpen = false;
    const coreOpts: OrderOptions = { mode: 'cross' };
    const satOpts: OrderOptions = { mode: 'isolated' };
    return {
      onStart(ctx) {
        for (let j = 0; j < nSat; j++) ctx.setLeverage(2 + j, p.satLeverage);
      },
      onBar(ctx) {
        const equity = ctx.account.equity;
        // core: open once, reopen both legs if either was liquidated
        const ql = ctx.position(0).qty;
        const qs = ctx.position(1).qty;
        if (coreOpen && (ql === 0 || qs === 0)) {
          ctx.targetPosition(0, 0, coreOpts);
          ctx.targetPosition(1, 0, coreOpts);
          coreOpen = false;
        } else if (!coreOpen && ql === 0 && qs === 0 && equity > 0) {
          const a = ctx.close(0);
          const b = ctx.close(1);
          if (a > 0 && b > 0) {
            const notional = p.coreFraction * equity * Math.min(ctx.leverage(0), ctx.leverage(1));
            ctx.targetPosition(0, notional / a, coreOpts);
            ctx.targetPosition(1, -notional / b, coreOpts);
            coreOpen = true;
          }
        }
        // satellites
        for (let j = 0; j < nSat; j++) {
          const s = 2 + j;
          const c = ctx.close(s);
          fast[j]!.update(c);
          slow[j]!.update(c);
          if (!slow[j]!.ready || !(c > 0)) continue;
          const want = fast[j]!.value > slow[j]!.value ? 1 : -1;
          // no new crossover: hold (also when the satellite was liquidated: wait for the next one)
          if (want === signal[j]) continue;
          signal[j] = want;
          if (!(equity > 0)) continue;
          const q = ctx.position(s).qty;
          const qty = (p.satFraction * equity * ctx.leverage(s)) / c;
          // close first so that a flip can reopen in the satellite's mode
          if (q !== 0) ctx.targetPosition(s, 0, satOpts);
          ctx.order({ ...satOpts, symbol: s, qty: want * qty, tag: 'satellite' });
        }
      },
    };
  },
});
