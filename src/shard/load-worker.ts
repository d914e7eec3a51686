/**
 * Body of the loader thread (see load-entry.mjs): loads the datasets named in workerData (or, in
 * a thread started before they were known, run.ts startLoaderThread, in its first message) and
 * posts them back (SharedArrayBuffer columns are shared, not copied). A UserError travels as
 * plain data (message, exit code, details, reason) so the main thread can rethrow it unchanged.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { LoadOptions, MarketData } from '../feed/types.js';
import { threadErrorData, type ThreadErrorData } from '../util/thread-error.js';

export interface LoadRequest {
  datasets: { dir: string; options: LoadOptions }[];
}

export type LoadReply =
  | { ok: true; data: MarketData[] }
  | ({ ok: false; stack?: string; /** the dataset being loaded (index into `datasets`) */ index: number } & ThreadErrorData);

// the modules load while the request is awaited (a thread started before the datasets were known gets it as its first message)
const feed = import('../feed/index.js');
feed.catch(() => undefined); // (its failure is the reply's, below)
// in a function, not at the module's top level: no module of marginlab's has a top-level await (src/cli/main.ts says why)
async function serve(): Promise<void> {
  const req = (workerData as LoadRequest | null) ?? (await new Promise<LoadRequest>((res) => parentPort!.once('message', res)));
  let reply: LoadReply;
  let index = -1;
  try {
    const { loadDataset } = await feed;
    const data: MarketData[] = [];
    for (const d of req.datasets) {
      index++;
      data.push(await loadDataset(d.dir, d.options));
    }
    reply = { ok: true, data };
  } catch (err) {
    const e = err as { stack?: unknown } | null;
    reply = {
      ok: false,
      ...threadErrorData(err),
      ...(typeof e?.stack === 'string' ? { stack: e.stack } : {}),
      index,
    };
  }
  parentPort!.postMessage(reply);
}
void serve();
