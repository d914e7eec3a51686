/**
 * Body of the Parquet decoding thread (see parquet-entry.mjs): decodes the file named in
 * workerData, posts 'page' as each page is decoded (the main thread's stall watch), then the
 * columns (transferred) or the UserError met, as plain data.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { threadErrorData } from '../../util/thread-error.js';
import { decodeParquet, type DecodeReply, type ParquetOptions } from './parquet.js';

// in a function, not at the module's top level: no module of marginlab's has a top-level await (src/cli/main.ts says why)
async function serve(): Promise<void> {
  const req = workerData as { file: string; options: ParquetOptions };
  let reply: DecodeReply;
  // the stall watch starts now, not while the thread was starting
  parentPort!.postMessage('page');
  try {
    reply = await decodeParquet(req.file, req.options, () => parentPort!.postMessage('page'));
  } catch (err) {
    reply = { ok: false, ...threadErrorData(err) };
  }
  parentPort!.postMessage(reply, reply.ok ? [reply.time.buffer as ArrayBuffer, ...reply.cols.map((c) => c.buffer as ArrayBuffer)] : []);
}
void serve();
