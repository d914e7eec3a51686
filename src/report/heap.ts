/**
 * What reading a run folder's results takes on the heap, and the refusal of a folder (or a plan)
 * whose results a process cannot hold: `report`, `merge`, `compare` and the loaders (report/load.ts)
 * project it from the result files, `run` / `stress` from the plan (stress/plan.ts checkPlanSize).
 */
import { getHeapStatistics } from 'node:v8';
import { configError } from '../errors.js';
import { grouped } from '../util/excerpt.js';
import { processMemoryBytes } from '../util/memory.js';

/**
 * Heap a result takes once read, per byte of its file (measured with the bundled config: a history
 * run, 172 kB on disk, holds 314 kB; a Monte Carlo path run read for the report without its curves,
 * 9.9 kB on disk, 3.0 kB), rounded up.
 */
export const HEAP_PER_FILE_BYTE = { whole: 1.85, withoutCurves: 0.35 } as const;
/** The report's rendering on top of the results it holds (measured: at most 1.4 × their heap, a 9,000-run folder). */
const RENDER_HEAP = 1.4;
/** The heap of the report of results holding `heap` (their own and the rendering's). */
export const reportHeap = (heap: number): number => heap * RENDER_HEAP;

/**
 * Heap this process may still take: its V8 heap limit (never more than the memory the process may use:
 * its container's or job's cgroup limit, else the machine's) less what it holds.
 */
export function heapBudget(): number {
  const h = getHeapStatistics();
  return Math.min(h.heap_size_limit, processMemoryBytes()) - h.used_heap_size;
}

export interface HeapNeed {
  /** what takes the heap, as the message says it: 'reading them', 'reading them for the report' */
  doing: string;
  /** results of the folder and the bytes of their files */
  runs: number;
  bytes: number;
  /** heap the reading (and, for the report, the rendering) takes, projected (bytes) */
  need: number;
  budget: number;
}

const mb = (b: number): string => `${grouped(Math.ceil(b / 1e6))} MB`;

/**
 * Refuse (exit 78, one line) a folder whose results this process cannot hold, before it runs out
 * of heap (V8 aborts with a stack and exit 134 minutes into the reading: a 13,000-run folder of
 * 2.2 GB under the default 4 GB heap). `what`: the folder, as the message names it; `hint`: what to do.
 */
export function checkHeapNeed(n: HeapNeed, what: string, hint: string): void {
  if (n.need <= n.budget) return;
  throw configError(
    `${what} is too large for this machine's memory (${grouped(n.runs)} results, ${mb(n.bytes)} on disk): ${n.doing} needs about ${mb(n.need)} of heap; this process has ${mb(n.budget)}`,
    [hint],
  );
}

/** how to get past checkHeapNeed: `doing` on a machine with more memory, or with more heap */
export const heapHint = (doing: string): string =>
  `${doing} on a machine with more memory, or give Node more heap (NODE_OPTIONS=--max-old-space-size=<MB>, below the machine's memory; marginlab's docs/scaling.md)`;

