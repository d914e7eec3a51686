/**
 * buy-and-hold — leveraged buy-and-hold baseline: buy once with `marginFraction` of equity as
 * initial margin at the run's leverage, then hold (paying or receiving funding) to the end.
 *
 * Demonstrates: the baseline every other strategy is compared with, and the simplest margin
 * story — isolated loses only the committed margin when a drawdown liquidates it, cross keeps
 * the position alive with the whole wallet until the drawdown exceeds it. Set `reenter` to buy
 * again after a liquidation.
 */
import { defineStrategy, z } from 'marginlab';

const params = z.object({
  symbol: z.string().default('BTCUSDT'),
  marginFraction: z.number().positive().max(1).default(0.5),
  /** buy again after a liquidation (default: stay out) */
  reenter: z.boolean().default(false),
});

export default defineStrategy({
  name: 'buy-and-hold',
  description: 'Leveraged buy-and-hold of one symbol; the baseline (isolated caps the loss at the committed margin, cross uses the wallet).',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    let bought = false;
    return {
      onBar(ctx) {
        if (bought && !p.reenter) return;
        if (ctx.position(0).qty !== 0 || ctx.openOrders(0).length > 0) return;
        const c = ctx.close(0);
        const equity = ctx.account.equity;
        if (!(c > 0) || !(equity > 0)) return;
        ctx.buy(0, (p.marginFraction * equity * ctx.leverage(0)) / c);
        bought = true;
      },
    };
  },
});
