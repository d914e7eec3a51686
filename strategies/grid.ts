/**
 * grid — neutral range trading: around a centre price, resting limit buys every `stepPct` below
 * and limit sells every `stepPct` above (`levels` each side, `levelFraction` of equity as margin
 * per level). Each filled buy places a sell one step above it and each filled sell a buy one step
 * below, harvesting the range in many small trades (maker fees). When the close leaves the grid
 * by more than one step, everything is cancelled and closed, and the grid re-centres.
 *
 * Demonstrates: many small positions and resting orders. In a trend the grid accumulates a
 * growing position against the move; isolated margin pins each add-on to the same position's
 * wallet, cross lets the wallet absorb the drawdown until the re-centre stop.
 */
import { defineStrategy, z } from 'marginlab';

const params = z.object({
  symbol: z.string().default('XRPUSDT'),
  levels: z.number().int().positive().default(5),
  stepPct: z.number().positive().default(0.01),
  levelFraction: z.number().positive().max(0.2).default(0.04),
}).refine((p) => p.levels * p.stepPct < 1, {
  // the lowest buy is price × (1 − levels × stepPct): at or below 0 it is no price
  message: 'levels × stepPct must be below 1 (the lowest buy level is price × (1 − levels × stepPct))',
  path: ['stepPct'],
});

export default defineStrategy({
  name: 'grid',
  description: 'Neutral limit-order grid around a re-centring price; many small maker trades, accumulating against trends.',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    let center = NaN;
    let qty = 0;
    const step = p.stepPct;
    return {
      onBar(ctx) {
        const c = ctx.close(0);
        if (!(c > 0)) return;
        if (center === center) {
          const lo = center * (1 - (p.levels + 1) * step);
          const hi = center * (1 + (p.levels + 1) * step);
          if (c >= lo && c <= hi) return;
          // out of range: flatten and re-centre on the next bar
          ctx.cancelAll(0);
          if (ctx.position(0).qty !== 0) ctx.closePosition(0);
          center = NaN;
          return;
        }
        const equity = ctx.account.equity;
        if (!(equity > 0) || ctx.position(0).qty !== 0) return;
        center = c;
        qty = (p.levelFraction * equity * ctx.leverage(0)) / c;
        for (let k = 1; k <= p.levels; k++) {
          ctx.buy(0, qty, { type: 'limit', price: c * (1 - k * step), tag: 'grid' });
          ctx.sell(0, qty, { type: 'limit', price: c * (1 + k * step), tag: 'grid' });
        }
      },
      onFill(f, ctx) {
        if (f.tag !== 'grid' || center !== center) return;
        if (f.qty > 0) ctx.sell(0, qty, { type: 'limit', price: f.price * (1 + step), tag: 'grid' });
        else ctx.buy(0, qty, { type: 'limit', price: f.price * (1 - step), tag: 'grid' });
      },
      onLiquidation(_l, ctx) {
        ctx.cancelAll(0);
        center = NaN;
      },
    };
  },
});
