/**
 * pairs — market-neutral statistical arbitrage on the log spread ln(long) − ln(short) (default
 * long ETHUSDT / short BTCUSDT): when its z-score over `lookback` bars falls below −entryZ, buy
 * the spread (long `long`, short `short`, equal notionals); above +entryZ, sell it; close both
 * legs when |z| < exitZ.
 *
 * Demonstrates: where cross margin wins. The legs hedge each other, so a market-wide move
 * barely changes the pair's equity — but under isolated margin each leg must survive on its own
 * margin, and a sharp move liquidates the losing leg (leaving the other leg naked). Under cross
 * the winning leg's profit backs the losing one.
 */
import { defineStrategy, z, ZScore } from 'marginlab';

const params = z.object({
  long: z.string().default('ETHUSDT'),
  short: z.string().default('BTCUSDT'),
  lookback: z.number().int().min(2).default(72),
  entryZ: z.number().positive().default(2),
  exitZ: z.number().min(0).default(0.5),
  /** initial margin committed per leg, as a fraction of equity */
  marginFraction: z.number().positive().max(0.5).default(0.25),
})
  .refine((p) => p.exitZ < p.entryZ, { message: 'exitZ must be below entryZ', path: ['exitZ'] })
  .refine((p) => p.long !== p.short, { message: 'long and short must be two different symbols', path: ['short'] });

export default defineStrategy({
  name: 'pairs',
  description: 'Z-scored log-spread pair (long ETH / short BTC by default), equal notionals; cross avoids single-leg liquidations.',
  params,
  symbols: (p) => [p.long, p.short],
  create(p) {
    const z = new ZScore(p.lookback);
    let state = 0; // +1 long spread, −1 short spread, 0 flat
    return {
      onBar(ctx) {
        const a = ctx.close(0);
        const b = ctx.close(1);
        if (!(a > 0 && b > 0)) return;
        const zs = z.update(Math.log(a) - Math.log(b));
        if (!z.ready) return;
        const qa = ctx.position(0).qty;
        const qb = ctx.position(1).qty;
        // a leg lost (liquidated) while the other is open: flatten the survivor
        if (state !== 0 && (qa === 0) !== (qb === 0)) {
          ctx.targetPosition(0, 0);
          ctx.targetPosition(1, 0);
          state = 0;
          return;
        }
        if (state === 0 && qa === 0 && qb === 0) {
          const dir = zs < -p.entryZ ? 1 : zs > p.entryZ ? -1 : 0;
          if (dir === 0) return;
          const equity = ctx.account.equity;
          if (!(equity > 0)) return;
          const notional = p.marginFraction * equity * Math.min(ctx.leverage(0), ctx.leverage(1));
          ctx.targetPosition(0, (dir * notional) / a);
          ctx.targetPosition(1, (-dir * notional) / b);
          state = dir;
        } else if (state !== 0 && Math.abs(zs) < p.exitZ) {
          ctx.targetPosition(0, 0);
          ctx.targetPosition(1, 0);
          state = 0;
        } else if (state !== 0 && qa === 0 && qb === 0) {
          state = 0; // both legs gone (cross liquidation)
        }
      },
    };
  },
});
