/**
 * sma-cross — trend following on one symbol: long while the fast SMA of the close is above the
 * slow one, short while below, always in the market once both are ready.
 *
 * Demonstrates: the plain single-symbol case. With one position the cross pool is the whole
 * wallet, so cross survives adverse moves that liquidate the isolated position (which only owns
 * `marginFraction` of equity) — at the price of risking the whole wallet when it does go.
 * This is also the engine benchmark's reference strategy (SMA 10/50, leverage 20).
 */
import { defineStrategy, z, Sma } from 'marginlab';

const params = z.object({
  symbol: z.string().default('BTCUSDT'),
  fast: z.number().int().positive().default(10),
  slow: z.number().int().positive().default(50),
  /** initial margin committed per position, as a fraction of equity */
  marginFraction: z.number().positive().max(1).default(0.5),
}).refine((p) => p.fast < p.slow, { message: 'fast must be below slow', path: ['fast'] });

export default defineStrategy({
  name: 'sma-cross',
  description: 'SMA fast/slow crossover on one symbol, always in the market; the single-symbol baseline for isolated vs cross.',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    const fast = new Sma(p.fast);
    const slow = new Sma(p.slow);
    let signal = 0;
    return {
      onBar(ctx) {
        const c = ctx.close(0);
        fast.update(c);
        slow.update(c);
        if (!slow.ready) return;
        const want = fast.value > slow.value ? 1 : fast.value < slow.value ? -1 : signal;
        if (want === 0) return;
        const pos = ctx.position(0).qty;
        if (want === signal && pos !== 0) return;
        signal = want;
        const equity = ctx.account.equity;
        if (!(equity > 0)) return;
        const qty = (p.marginFraction * equity * ctx.leverage(0)) / c;
        ctx.targetPosition(0, want * qty);
      },
    };
  },
});
