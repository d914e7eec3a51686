/**
 * martingale — the over-leverage blow-up the margin articles warn about: buy a small long; every
 * time the price falls `stepPct` below the last buy, buy again with `multiplier`× the last size
 * (averaging down), up to `maxAdds` times; sell everything when the price recovers `takeProfitPct`
 * above the average entry.
 *
 * Demonstrates: why averaging down with leverage ends badly. Many small wins, then one trend
 * that outruns the doublings: under cross the whole wallet is consumed before the liquidation,
 * under isolated the loss is the (large) margin of the doubled-up position.
 */
import { defineStrategy, z } from 'marginlab';

const params = z.object({
  symbol: z.string().default('ETHUSDT'),
  /** initial margin of the first buy, fraction of equity */
  baseFraction: z.number().positive().max(0.5).default(0.02),
  /** below 1: a fall of 100 % or more never comes, so no add would ever be made */
  stepPct: z.number().positive().lt(1).default(0.02),
  multiplier: z.number().min(1).default(2),
  maxAdds: z.number().int().min(0).default(6),
  takeProfitPct: z.number().positive().default(0.01),
});

export default defineStrategy({
  name: 'martingale',
  description: 'Averaging-down long with doubling sizes; shows the over-leverage blow-up (cross loses the wallet, isolated the doubled margin).',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    let lastBuy = NaN;
    let lastQty = 0;
    let adds = 0;
    return {
      onFill(f) {
        if (f.qty > 0) {
          lastBuy = f.price;
          lastQty = f.qty;
        }
      },
      onLiquidation() {
        adds = 0;
      },
      onBar(ctx) {
        const c = ctx.close(0);
        if (!(c > 0)) return;
        const pos = ctx.position(0);
        const equity = ctx.account.equity;
        if (pos.qty === 0) {
          if (!(equity > 0)) return;
          adds = 0;
          ctx.buy(0, (p.baseFraction * equity * ctx.leverage(0)) / c, { tag: 'base' });
          return;
        }
        if (c >= pos.entryPrice * (1 + p.takeProfitPct)) {
          ctx.closePosition(0);
        } else if (adds < p.maxAdds && c <= lastBuy * (1 - p.stepPct)) {
          adds++;
          ctx.buy(0, lastQty * p.multiplier, { tag: `add-${adds}` });
        }
      },
    };
  },
});
