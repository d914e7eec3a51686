/**
 * breakout — high-leverage momentum bets: when the close breaks above the highest high (below
 * the lowest low) of the previous `lookback` bars, open a position at the run's leverage with a
 * protective stop `stopAtr` ATRs away; a breakout the other way flips it.
 *
 * Demonstrates: many small, highly levered bets where isolated margin should cap the damage —
 * a wick that runs through a stop-less bet (or gaps through the stop) costs the isolated
 * position only its own `marginFraction` of equity, while under cross the same wick draws on
 * the whole wallet before the position is liquidated.
 */
import { defineStrategy, z, Atr, RollingExtreme } from 'marginlab';

const params = z.object({
  symbol: z.string().default('BTCUSDT'),
  lookback: z.number().int().min(2).default(24),
  atrPeriod: z.number().int().positive().default(14),
  /** stop distance in ATRs (0 = no stop) */
  stopAtr: z.number().min(0).default(3),
  marginFraction: z.number().positive().max(1).default(0.2),
});

export default defineStrategy({
  name: 'breakout',
  description: 'Donchian breakout with ATR stops (sweep it at high leverage); isolated caps the damage of each bet, cross risks the wallet.',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    const hh = new RollingExtreme(p.lookback, 'max');
    const ll = new RollingExtreme(p.lookback, 'min');
    const atr = new Atr(p.atrPeriod);
    return {
      onBar(ctx) {
        const d = ctx.data[0]!;
        const h = d.high.ago(0);
        const l = d.low.ago(0);
        const c = d.close.ago(0);
        // channel of the previous bars (before this bar's update)
        const upper = hh.value;
        const lower = ll.value;
        const ready = hh.ready && atr.ready;
        const a = atr.value;
        hh.update(h);
        ll.update(l);
        atr.update(h, l, c);
        if (!ready || !(c > 0)) return;
        const pos = ctx.position(0).qty;
        const dir = c > upper ? 1 : c < lower ? -1 : 0;
        if (dir === 0 || Math.sign(pos) === dir) return;
        const equity = ctx.account.equity;
        if (!(equity > 0)) return;
        ctx.cancelAll(0);
        const qty = (p.marginFraction * equity * ctx.leverage(0)) / c;
        ctx.targetPosition(0, dir * qty);
        if (p.stopAtr > 0 && a > 0) {
          const stop = c - dir * p.stopAtr * a;
          if (stop > 0) ctx.order({ symbol: 0, qty: -dir * qty, type: 'stop', price: stop, reduceOnly: true, tag: 'stop' });
        }
      },
    };
  },
});
