/**
 * marginlab's own helper threads that may still be alive when a command ends: the dataset loader
 * started before the datasets were known (shard/run.ts startLoaderThread) and a time limit's
 * watchdog being stopped (util/time-limit.ts). Both are unref'd, so they never keep the process
 * alive; but a process that ends while one of them is still starting up (importing its modules) or
 * stopping tears it down mid-way, a path on which Node 20 has crashed (the command ended by a signal,
 * no exit code). The CLI stops them and waits for them before it returns (endHelperThreads).
 */
import type { Worker } from 'node:worker_threads';

const stopping = new Set<Promise<unknown>>();
const alive = new Set<Worker>();

/** a thread to stop when the command ends, unless it has exited by then */
export function stopAtEnd(w: Worker): void {
  alive.add(w);
  w.once('exit', () => alive.delete(w));
}

/** stop `w` now without waiting; the command's end waits for it */
export function stopSoon(w: Worker): void {
  alive.delete(w);
  const p = w.terminate().catch(() => undefined);
  stopping.add(p);
  void p.finally(() => stopping.delete(p));
}

/** Stop every helper thread still alive and wait until each one stopping has stopped. */
export async function endHelperThreads(): Promise<void> {
  for (const w of [...alive]) stopSoon(w);
  await Promise.all([...stopping]);
}
