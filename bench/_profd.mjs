import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDataset } from '../dist/src/feed/index.js';
import { synthesize } from '../dist/src/feed/synth.js';
import { getVenue } from '../dist/src/venue/index.js';
import { replay, DEFAULT_EXECUTION, SETUPS, SeriesPool } from '../dist/src/engine/index.js';
import smaCross from '../dist/strategies/sma-cross.js';
import buyAndHold from '../dist/strategies/buy-and-hold.js';
const which = process.env.STRAT ?? 'sma';
const dir = mkdtempSync(join(tmpdir(), 'mlprof-'));
await synthesize({ out: join(dir, 's'), symbols: 1, bars: 1048576, timeframe: '1m', seed: 1 });
const data = await loadDataset(join(dir, 's'));
const venue = getVenue('binance-usdm');
const strat = which === 'sma' ? smaCross : buyAndHold;
const params = which === 'sma' ? smaCross.params.parse({ symbol: data.symbols[0], fast: 10, slow: 50, marginFraction: 0.02 }) : buyAndHold.params.parse({ symbol: data.symbols[0], marginFraction: 0.02 });
const pool = new SeriesPool();
let last  = null;
const times = [];
for (let r = 0; r < Number(process.env.REP ?? 12); r++) {
  if (last) for (const s of last.setups) pool.release(s.series);
  const t = performance.now();
  last = replay({ seriesPool: pool, data, symbols: [data.symbols[0]], strategy: strat, params, venue, setups: [SETUPS.isolated, SETUPS.cross], initialCapital: '1000000', leverage: 20, execution: { ...DEFAULT_EXECUTION, slippageBps: 0 } });
  times.push(performance.now() - t);
}
console.log(which, times.map((x) => x.toFixed(0)).join(' '), 'best', Math.min(...times).toFixed(1));
