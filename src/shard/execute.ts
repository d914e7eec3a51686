/**
 * The piscina pool (WorkerPool): up to `workers` threads, which may start while the main thread
 * still loads the data (run.ts starts one then); the datasets reach each worker once, before its
 * first task (SharedArrayBuffer columns are shared, never copied). At most
 * `workers` tasks are in flight, so each task's timeout starts when it starts running.
 * A task that throws, times out (its worker is terminated) or whose worker dies becomes errored
 * results; the others go on. Aborting `signal` (Ctrl-C) stops everything: in-flight tasks are
 * terminated and produce no result. So does a failure of `onResults` (a result that cannot be
 * written: a full disk): no further pass starts and no further result is handed on, and
 * executeTasks rejects with that failure once every lane has stopped (the passes stopped by it must
 * not become errored results, which --resume would keep).
 */
import { setMaxListeners } from 'node:events';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { MarketData } from '../feed/types.js';
import type { PlanTask } from './plan.js';
import type { Scenario } from '../stress/scenario.js';
import { DATASETS_WANTED, erroredResult, serializeResult, type DatasetsMessage, type SerializedResult, type WarmupTask, type WorkerBatch, type WorkerInit, type WorkerTask } from './worker.js';
import { thrownText } from '../util/excerpt.js';
import { ExitCode, UserError } from '../errors.js';
import { isoTime } from '../feed/timeframe.js';
import { processMemoryBytes } from '../util/memory.js';
import { reapChildProcessesAtExit } from '../util/interrupt.js';

export const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));

export interface ExecuteOptions {
  datasets: Record<string, MarketData>;
  strategyDirs: string[];
  /** the most worker threads to run */
  workers: number;
  /**
   * worker threads started at once (default `workers`); each further one is started, RAMP_MS after
   * the previous one or later, once the passes still waiting would keep the running workers busy
   * for more than RAMP_WORTH_MS at the pace seen so far (a small sweep finishes sooner on fewer:
   * every worker loads and compiles the code on its own)
   */
  initialWorkers?: number;
  timeoutMs: number;
  /** each worker's heap limit in MB (config workerMemoryMb); null or absent: sized from the memory the process may use (workerHeapLimit) */
  workerMemoryMb?: number | null;
  maxEvents: number | null;
  /** config stress.pathEvents: Monte Carlo path runs keep their events, liquidation-price steps and price curves */
  pathEvents?: boolean;
  curvePoints: number;
  /** stress scenario definitions by id, for stress runs (src/stress) */
  scenarios?: Record<string, Scenario>;
  /**
   * a pool started before the data was loaded (WorkerPool.early): used when its heap limit is the
   * one these datasets and workers give and it has lanes enough, else replaced; destroyed either way
   */
  pool?: WorkerPool;
  /** abort = stop (Ctrl-C) */
  signal?: AbortSignal;
  /** called with each task's results, in completion order */
  onResults(results: SerializedResult[]): void | Promise<void>;
  /** called about every 250 ms with the bars replayed so far by all workers */
  onBars?(bars: number): void;
}

export interface ExecuteOutcome {
  interrupted: boolean;
  /** worker threads that ran at least one pass */
  workersUsed: number;
  /** task messages posted to the pool (fewer than passes when short ones travel together; more when a failed message was run again pass by pass) */
  messages: number;
}

/** earliest start of each worker beyond `initialWorkers`, after the previous one */
export const RAMP_MS = 1500;
/** a further worker pays off when the waiting passes would take the running ones longer than this */
export const RAMP_WORTH_MS = 4000;
/** work units of a pass beyond its cost (bars × setups × symbols): strategy start-up, analysis, result JSON, ≈ 10 ms of a warm worker */
export const TASK_OVERHEAD_UNITS = 20_000;
/** the work units of a pass (its cost plus the fixed part), as the pool sizes itself */
export const taskUnits = (t: Pick<PlanTask, 'cost'>): number => t.cost + TASK_OVERHEAD_UNITS;
/**
 * Short passes travel to a worker several in one message, up to this many work units (≈ 50 ms of a
 * warm worker): a stress sweep's passes take a few ms each, and the round trip between two of them
 * (the result back, the main thread's turn, the next task out) left a worker idle about a quarter
 * of the time. A pass at or above it travels alone, as every pass of an ordinary sweep does.
 */
export const BATCH_UNITS = 150_000;
/** the most passes in one message */
export const BATCH_MAX = 16;

/** the main thread's memory beyond the datasets' columns: its heap (the plan, results on their way to disk) and Node itself */
export const MAIN_RESERVE_MB = 512;
/** a worker's memory outside its old generation: young generation, compiled code, stack, the tsx loader */
export const WORKER_OVERHEAD_MB = 64;
/** the smallest automatic heap limit of a worker (below it a worker cannot hold a long pass's results) */
export const WORKER_HEAP_FLOOR_MB = 256;

/** The bytes of the shared columns of `datasets` (each SharedArrayBuffer once): held by the main thread, seen by every worker. */
export function sharedDataBytes(datasets: Record<string, MarketData>): number {
  const seen = new Set<ArrayBufferLike>();
  let bytes = 0;
  const add = (a: unknown) => {
    if (!ArrayBuffer.isView(a) || seen.has(a.buffer)) return;
    seen.add(a.buffer);
    bytes += a.buffer.byteLength;
  };
  for (const md of Object.values(datasets)) {
    add(md.time);
    for (const cols of md.columns) for (const col of Object.values(cols)) add(col);
  }
  return bytes;
}

export interface WorkerHeapLimit {
  /** maxOldGenerationSizeMb of each worker */
  mb: number;
  /** set by the config (workerMemoryMb), or sized here */
  configured: boolean;
  /** what it was sized from (for the out-of-memory message) */
  memoryMb: number;
  workers: number;
}

/**
 * Each worker's heap limit: the config's workerMemoryMb, or the memory the process may use
 * (processMemoryBytes) less the datasets' shared columns and the main thread's MAIN_RESERVE_MB,
 * divided among the workers, less each one's WORKER_OVERHEAD_MB; at least WORKER_HEAP_FLOOR_MB
 * and at most V8's own default limit (the main thread's), which a worker had before: a run that
 * fitted then fits now on the same machine, while the workers together never claim more than the
 * process may use, so a strategy that keeps allocating ends its worker (its runs errored), never
 * the whole process (the kernel's OOM killer).
 */
export function workerHeapLimit(workers: number, dataBytes: number, configured: number | null | undefined, memoryBytes = processMemoryBytes()): WorkerHeapLimit {
  const memoryMb = Math.floor(memoryBytes / 2 ** 20);
  if (configured != null) return { mb: configured, configured: true, memoryMb, workers };
  const share = Math.floor((memoryMb - dataBytes / 2 ** 20 - MAIN_RESERVE_MB) / Math.max(1, workers)) - WORKER_OVERHEAD_MB;
  const v8Default = Math.floor(getHeapStatistics().heap_size_limit / 2 ** 20);
  return { mb: Math.max(WORKER_HEAP_FLOOR_MB, Math.min(share, v8Default)), configured: false, memoryMb, workers };
}

/** a worker ended by its heap limit (resourceLimits): Node's ERR_WORKER_OUT_OF_MEMORY */
const outOfMemory = (e: Error): boolean => (e as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY' || /reaching memory limit/.test(e.message);

/** the one-line error of the runs of a pass whose worker ran out of memory: the limit and what to do */
export function outOfMemoryText(limit: WorkerHeapLimit): string {
  return limit.configured
    ? `worker ran out of memory: its heap limit is ${limit.mb} MB (workerMemoryMb in the config); raise workerMemoryMb, or fix a strategy that keeps what it allocates`
    : `worker ran out of memory: its heap limit is ${limit.mb} MB (${limit.memoryMb} MB this process may use, shared by ${limit.workers} worker${limit.workers === 1 ? '' : 's'} and the data); ` +
        'run with fewer workers (--workers) or set workerMemoryMb in the config, or fix a strategy that keeps what it allocates';
}

/** what a pool is made with: the same for one started early and one started with the data loaded */
export interface WorkerPoolOptions {
  strategyDirs: string[];
  /** the most threads (and lanes) it may run */
  workers: number;
  heap: WorkerHeapLimit;
  scenarios?: Record<string, Scenario>;
}

type PoolMessage = WorkerTask | WorkerBatch | WarmupTask;

/**
 * The piscina pool and what its workers share: the lanes' progress, started and where buffers,
 * and the BroadcastChannel that hands each worker the datasets on its first task. It may start
 * before the datasets are loaded (early: one worker loading its modules while the main thread
 * loads the data and makes the plan, ≈ 0.3–0.7 s of a small run); `provide` gives them.
 */
export class WorkerPool {
  readonly pool: Piscina<PoolMessage, SerializedResult[]>;
  readonly progress: BigInt64Array;
  readonly started: Int32Array;
  readonly threads: Int32Array;
  readonly where: Float64Array;
  private readonly channel: BroadcastChannel;
  private datasets: Record<string, MarketData> | null = null;
  /** a worker asked before provide() */
  private asked = false;
  /** the warm-up posted when the pool started (its failure is kept for warmUp) */
  private first: Promise<{ error: unknown } | null> | null = null;
  private destroyed: Promise<void> | null = null;

  constructor(readonly options: WorkerPoolOptions, initial: number) {
    const progressBuf = new SharedArrayBuffer(8);
    const startedBuf = new SharedArrayBuffer(4 * options.workers);
    const whereBuf = new SharedArrayBuffer(16 * options.workers);
    const threadsBuf = new SharedArrayBuffer(4 * options.workers);
    this.progress = new BigInt64Array(progressBuf);
    this.started = new Int32Array(startedBuf);
    this.where = new Float64Array(whereBuf);
    this.threads = new Int32Array(threadsBuf);
    const dataChannel = `marginlab-datasets-${randomUUID()}`;
    this.channel = new BroadcastChannel(dataChannel);
    this.channel.onmessage = (ev: unknown) => {
      if ((ev as { data?: unknown }).data !== DATASETS_WANTED) return;
      if (this.datasets) this.post();
      else this.asked = true;
    };
    // the channel alone does not keep the process alive (the pool's workers do while they run)
    this.channel.unref();
    const init: WorkerInit = {
      dataChannel, strategyDirs: options.strategyDirs, progress: progressBuf, started: startedBuf, threads: threadsBuf, where: whereBuf,
      ...(options.scenarios && Object.keys(options.scenarios).length > 0 ? { scenarios: options.scenarios } : {}),
    };
    this.pool = new Piscina<PoolMessage, SerializedResult[]>({
      filename: WORKER_ENTRY,
      minThreads: Math.max(1, Math.min(initial, options.workers)),
      maxThreads: options.workers,
      idleTimeout: 60_000,
      concurrentTasksPerWorker: 1,
      workerData: init,
      // the main thread may have been started with loader flags; the entry registers tsx itself
      execArgv: [],
      // a small young generation: the replay loop allocates little, and per-worker memory adds up;
      // a heap limit per worker: the workers together stay within the memory the process may use
      resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: options.heap.mb },
    });
    // errors of idle workers (no task to blame) must not crash the process
    this.pool.on('error', () => undefined);
  }

  /** a pool with one worker loading its modules now, before the data is loaded */
  static early(options: WorkerPoolOptions): WorkerPool {
    const wp = new WorkerPool(options, 1);
    wp.first = wp.pool.run(wp.warmupMessage()).then(
      () => null,
      (error: unknown) => ({ error }),
    );
    return wp;
  }

  private warmupMessage(): WarmupTask {
    // with strategy folders of the user's, the warm-up registers their loaders too
    return { warmup: true, ...(this.options.strategyDirs.length > 0 ? { userCode: true } : {}) };
  }

  /** whether this pool can run `workers` lanes under the heap limit `heap` */
  fits(workers: number, heap: WorkerHeapLimit): boolean {
    return this.destroyed === null && workers <= this.options.workers && heap.mb === this.options.heap.mb;
  }

  /** the datasets the workers' tasks read (each worker asks once, on its first task) */
  provide(datasets: Record<string, MarketData>): void {
    this.datasets = datasets;
    if (this.asked) this.post();
  }

  private post(): void {
    this.channel.postMessage({ datasets: this.datasets! } satisfies DatasetsMessage);
  }

  /** `n` workers with their modules loaded (the early one's warm-up first); rejects as that warm-up failed */
  async warmUp(n: number, signal: AbortSignal): Promise<void> {
    if (this.first) {
      const aborted = new Promise<{ error: unknown }>((resolve) => {
        if (signal.aborted) resolve({ error: signal.reason });
        signal.addEventListener('abort', () => resolve({ error: signal.reason }), { once: true });
      });
      const failed = await Promise.race([this.first, aborted]);
      this.first = null;
      if (failed) throw failed.error;
    }
    // one message per worker, posted together: the idle early worker takes one, each other starts a worker
    const message = this.warmupMessage();
    await Promise.all(Array.from({ length: n }, () => this.pool.run(message, { signal })));
  }

  /** stops every worker (idempotent) */
  destroy(): Promise<void> {
    return (this.destroyed ??= (async () => {
      this.channel.close();
      await this.pool.destroy().catch(() => undefined);
    })());
  }
}

class TimeoutReason extends Error {}

/** where a lane's pass is, for the timeout's message: ' at bar 1234 (ctx.bar; its open 2025-03-04T10:00:00.000Z)', ' in create() or onStart …', or '' */
function whereText(where: Float64Array, lane: number): string {
  const bar = where[2 * lane]!;
  if (!(bar === bar)) return '';
  if (bar < 0) return ' in create() or onStart, before the first bar';
  return ` at bar ${bar} (ctx.bar; its open ${isoTime(where[2 * lane + 1]!)})`;
}

function describe(err: unknown, limit: WorkerHeapLimit): string {
  const e = err instanceof Error ? err : new Error(thrownText(err));
  if (outOfMemory(e)) return outOfMemoryText(limit);
  const exited = /worker exited with code:?\s*(-?\d+)/.exec(e.message);
  if (exited) return `worker died (exit code ${exited[1]})`;
  return e.message.split('\n')[0] || e.name;
}

export async function executeTasks(tasks: readonly PlanTask[], opts: ExecuteOptions): Promise<ExecuteOutcome> {
  const workers = Math.max(1, Math.min(opts.workers, tasks.length));
  const initial = Math.max(1, Math.min(opts.initialWorkers ?? workers, workers));
  if (tasks.length === 0 || opts.signal?.aborted) {
    await opts.pool?.destroy();
    return { interrupted: !!opts.signal?.aborted, workersUsed: 0, messages: 0 };
  }
  const heap = workerHeapLimit(workers, sharedDataBytes(opts.datasets), opts.workerMemoryMb);
  let wp = opts.pool;
  if (wp && !wp.fits(workers, heap)) {
    await wp.destroy();
    wp = undefined;
  }
  wp ??= new WorkerPool({ strategyDirs: opts.strategyDirs, workers, heap, ...(opts.scenarios ? { scenarios: opts.scenarios } : {}) }, initial);
  wp.provide(opts.datasets);
  const { pool, progress, started, threads, where } = wp;

  const ticker = opts.onBars ? setInterval(() => opts.onBars!(Number(Atomics.load(progress, 0))), 250) : null;
  let interrupted = false;
  /** the first failure of onResults (a result that could not be written): everything stops, then it is thrown */
  let failed: { error: unknown } | null = null;
  /** no pass starts and no result is handed on once interrupted or failed */
  const halted = (): boolean => interrupted || failed !== null;
  const queue = [...tasks];
  const stopAll = new AbortController();
  // every lane's pass and every warm-up message listens to it (one listener each): 11 workers or more
  // passed Node's default of 10 and printed a MaxListenersExceededWarning, under -q too
  setMaxListeners(0, stopAll.signal);
  const onStop = () => {
    interrupted = true;
    stopAll.abort(new Error('interrupted'));
  };
  opts.signal?.addEventListener('abort', onStop, { once: true });

  /**
   * The next passes to post: one, or (short ones, while enough wait for every worker to get some)
   * several in one message (BATCH_UNITS)
   */
  const takeBatch = (): PlanTask[] => {
    const first = queue.shift();
    if (first === undefined) return [];
    const batch = [first];
    const most = Math.min(BATCH_MAX, Math.floor(queue.length / (2 * workers)));
    let units = taskUnits(first);
    while (batch.length < most && queue.length > 0 && units + taskUnits(queue[0]!) <= BATCH_UNITS) {
      const t = queue.shift()!;
      units += taskUnits(t);
      batch.push(t);
    }
    return batch;
  };

  /**
   * runs passes on lane `lane` (one message); their results, or null when halted (posted to
   * the pool before the first await). A message of several passes that fails as a whole (a
   * timeout, a worker that died, a pass that threw) is run again pass by pass, so that only the
   * pass at fault gets errored results and every message (and timeout) is its own.
   */
  const runBatch = async (batch: readonly PlanTask[], lane: number): Promise<SerializedResult[] | null> => {
    const together = await runOne(batch, lane);
    if (together !== 'split') return together;
    const all: SerializedResult[] = [];
    for (let k = 0; k < batch.length; k++) {
      const r = await runOne([batch[k]!], lane);
      if (r === null || r === 'split') return null; // (a message of one pass is never split)
      for (const x of r) all.push(x);
    }
    return all;
  };

  const workerTask = (task: PlanTask, lane: number): WorkerTask => ({
    taskId: task.taskId,
    datasetKey: task.datasetKey,
    runs: task.runs.map((r) => ({ runId: r.runId, spec: r.spec })),
    setups: task.setups,
    maxEvents: opts.maxEvents,
    pathEvents: opts.pathEvents ?? false,
    curvePoints: opts.curvePoints,
    lane,
  });

  /**
   * runs the passes of `batch` in one message on lane `lane`: their results; null when halted
   * (interrupted, or onResults failed; the message is posted to the pool before the first await);
   * 'split' when a message of several fails (one pass alone that fails gets errored results)
   */
  async function runOne(batch: readonly PlanTask[], lane: number): Promise<SerializedResult[] | null | 'split'> {
    const ac = new AbortController();
    const onAll = () => ac.abort(new Error('interrupted'));
    stopAll.signal.addEventListener('abort', onAll, { once: true });
    // the timeout runs from the moment the worker starts the pass (modules loaded), so the start-up
    // of a replacement worker never counts; a worker that does not start at all is stopped too
    Atomics.store(started, lane, 0);
    where[2 * lane] = NaN;
    const submitted = Date.now();
    let startedAt = 0;
    let seen = 0;
    const startLimit = Math.max(120_000, opts.timeoutMs);
    const timer = setInterval(() => {
      const now = Date.now();
      // the worker counts the passes it has started on this lane: each pass of a message has its own limit
      const passes = Atomics.load(started, lane);
      if (passes !== seen) {
        seen = passes;
        startedAt = now;
      }
      if (startedAt !== 0 && now - startedAt > opts.timeoutMs) {
        // its worker is stopped: one blocked in a synchronous child process would hold the process's exit
        reapChildProcessesAtExit(Atomics.load(threads, lane));
        ac.abort(new TimeoutReason(`timeout: the run passed its ${opts.timeoutMs} ms limit${whereText(where, lane)} and was stopped`));
      } else if (startedAt === 0 && now - submitted > startLimit) {
        ac.abort(new TimeoutReason(`timeout: the worker did not start the run within ${startLimit} ms`));
      }
    }, Math.min(50, Math.max(5, Math.floor(opts.timeoutMs / 10))));
    const msg: WorkerTask | WorkerBatch = batch.length > 1 ? { batch: batch.map((t) => workerTask(t, lane)) } : workerTask(batch[0]!, lane);
    let results: SerializedResult[];
    messages++;
    try {
      results = await pool.run(msg, { signal: ac.signal });
    } catch (err) {
      if (halted()) return null;
      if (batch.length > 1) return 'split';
      const reason = ac.signal.aborted ? (ac.signal.reason as unknown) : err;
      const message = reason instanceof TimeoutReason ? reason.message : describe(reason, heap);
      results = batch[0]!.runs.map((r) => serializeResult(erroredResult(r.runId, r.spec, message)));
    } finally {
      clearInterval(timer);
      stopAll.signal.removeEventListener('abort', onAll);
    }
    return halted() ? null : results;
  }

  // start the first workers and load their modules before the first timeout starts (a worker started
  // later loads its modules before it raises its lane's started flag, so its timeout excludes them too)
  try {
    await wp.warmUp(initial, stopAll.signal);
  } catch (err) {
    if (!interrupted) {
      await wp.destroy();
      if (ticker) clearInterval(ticker);
      opts.signal?.removeEventListener('abort', onStop);
      const text = describe(err, heap);
      // a workerMemoryMb too small for a worker to load marginlab and the strategies: the config's to change
      if (heap.configured && err instanceof Error && outOfMemory(err))
        throw new UserError(`workerMemoryMb: ${heap.mb} MB is too small for a worker to load marginlab and the strategies; raise it (or remove it: sized from the memory the process may use)`, ExitCode.CONFIG);
      throw new Error(`could not start the worker pool: ${text}`);
    }
  }

  const lanes: Promise<void>[] = [];
  const t0 = Date.now();
  let used = 0;
  let messages = 0;
  /** work units of the passes finished so far (the pace of the running workers) */
  let doneUnits = 0;
  /** a further worker is worth starting: no pass has finished yet, or the waiting ones would take the running workers more than RAMP_WORTH_MS */
  const worthAnother = (): boolean => {
    if (doneUnits === 0) return true;
    let waiting = 0;
    for (const t of queue) waiting += taskUnits(t);
    return (waiting * (Date.now() - t0)) / doneUnits > RAMP_WORTH_MS;
  };
  let lastStart = t0;
  for (let w = 0; w < workers; w++) {
    lanes.push(
      (async () => {
        // a lane beyond the initial ones starts its worker only when that is worth it (see worthAnother)
        if (w >= initial) {
          for (;;) {
            if (halted() || queue.length === 0) return;
            const at = lastStart + RAMP_MS;
            if (Date.now() >= at && used === w && worthAnother()) break;
            await new Promise((res) => setTimeout(res, Math.max(10, Math.min(250, at - Date.now()))));
          }
          lastStart = Date.now();
        }
        used++;
        // the next task is posted before the previous one's results are written, so the worker
        // replays while the main thread writes (short passes, as in a stress sweep, left the
        // workers idle about a tenth of the time otherwise)
        let done: SerializedResult[] | null = null;
        for (;;) {
          const batch = halted() ? [] : takeBatch();
          const running = batch.length > 0 ? runBatch(batch, w) : null;
          if (done && !halted()) {
            try {
              await opts.onResults(done);
            } catch (error) {
              // stop the other lanes' passes (their results would be dropped) and take no more
              failed ??= { error };
              stopAll.abort(new Error('stopped: a result could not be handed on'));
            }
          }
          if (!running) return;
          done = await running;
          for (const t of batch) doneUnits += taskUnits(t);
        }
      })(),
    );
  }
  try {
    await Promise.all(lanes);
  } finally {
    if (ticker) clearInterval(ticker);
    opts.onBars?.(Number(Atomics.load(progress, 0)));
    opts.signal?.removeEventListener('abort', onStop);
    await wp.destroy();
  }
  if (failed) throw (failed as { error: unknown }).error;
  return { interrupted, workersUsed: used, messages };
}
