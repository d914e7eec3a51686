/**
 * bench:engine's reference loop in a thread of its own (bench/fused.ts says why): loads the bench's dataset from the
 * folder it is given, then answers each message { id, isolated, withSeries, keepSeries } with the fused loop's time
 * and results ({ id, ms, equity, trades, liquidations, series }: the per-bar series only when keepSeries).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadDataset } from '../src/feed/index.js';
import { getVenue } from '../src/venue/index.js';
import { fused } from './fused.js';

interface Request {
  id: number;
  isolated: boolean;
  withSeries: boolean;
  keepSeries: boolean;
}

const port = parentPort;
if (port === null) throw new Error('bench/fused-worker.ts runs as a worker thread of bench/engine.ts');
const data = await loadDataset((workerData as { dataset: string }).dataset);
const venue = getVenue('binance-usdm');
port.on('message', (r: Request) => {
  const t = performance.now();
  const res = fused(data, venue, r.isolated, r.withSeries);
  const ms = performance.now() - t;
  // (postMessage copies the series: the loop's columns, reused from pass to pass, stay here)
  port.postMessage({ id: r.id, ms, equity: res.equity, trades: res.trades, liquidations: res.liquidations, series: r.keepSeries ? res.series : null });
});
port.postMessage('ready');
