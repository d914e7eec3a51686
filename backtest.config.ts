/**
 * The repository's sweep: `npm run backtest` (= `marginlab run`). The bundled real Binance USD-M
 * 2025 data (BTC, ETH, XRP, ADA, 1h), every strategy of the library with its default params,
 * isolated and cross margin side by side (plus mixed where a strategy asks for it, e.g.
 * core-satellite), three leverage levels, 10,000 USDT. Writes reports/binance-2025/.
 * Reference: docs/config.md.
 */
import { defineConfig } from 'marginlab';

export default defineConfig({
  name: 'binance-2025',
  data: { path: 'data/binance-usdm-2025', timeframe: '1h' },
  venue: 'binance-usdm',
  // every strategy of the library, default params; core-satellite asks for 'mixed' too
  // (its core cross, its satellites isolated), so it runs under all three setups
  strategies: 'all',
  setups: ['isolated', 'cross'],
  leverage: [3, 10, 25],
  initialCapital: 10_000,
  execution: { slippageBps: 1, intrabarPath: 'nearest-first', crossCheck: 'pessimistic' },
  timeoutMs: 120_000,
});
