// The CLI's own helper threads (the spare dataset loader, a stopping watchdog) are stopped and waited for
// when a command ends: none is left starting up or stopping while the process ends (src/util/helper-threads.ts)
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { endHelperThreads, stopAtEnd, stopSoon } from '../src/util/helper-threads.js';

const idleThread = (): Worker => new Worker('setInterval(() => {}, 1000)', { eval: true });
const exited = (w: Worker): { done: boolean } => {
  const s = { done: false };
  w.once('exit', () => (s.done = true));
  return s;
};

describe('endHelperThreads', () => {
  it('stops a thread registered with stopAtEnd and resolves only once it has exited', async () => {
    const w = idleThread();
    w.unref();
    const s = exited(w);
    stopAtEnd(w);
    await endHelperThreads();
    expect(s.done).toBe(true);
    expect(w.threadId).toBe(-1);
  });

  it('waits for a thread stopSoon began to stop; one that exited on its own is dropped, not stopped again', async () => {
    const a = idleThread();
    const b = new Worker('', { eval: true });
    const sa = exited(a);
    stopSoon(a);
    stopAtEnd(b);
    // b runs nothing and exits by itself before the end
    await new Promise((r) => b.once('exit', r));
    await endHelperThreads();
    expect(sa.done).toBe(true);
  });

  it('with nothing registered it resolves at once, and again after an end', async () => {
    await endHelperThreads();
    await endHelperThreads();
  });
});
