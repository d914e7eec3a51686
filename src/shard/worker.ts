/**
 * Piscina worker: one task = one replay pass over the setups of one (strategy, params, venue,
 * leverage, dataset). The datasets arrive once per worker, before its first task, through a
 * BroadcastChannel named in workerData (SharedArrayBuffer-backed columns: shared, not copied; the
 * pool may start before the main thread has loaded them, execute.ts WorkerPool) and stay cached
 * for every task. Returns plain RunResult JSON.
 */
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { dirname, join } from 'node:path';
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MarketData } from '../feed/types.js';
import { symbolsWindow } from '../feed/slice.js';
import { EngineInvariantError, type ExecutionOptions, type SetupOutput, type SetupSpec, type StrategyErrorPlace } from '../engine/types.js';
import type { StrategyModule } from '../strategy/types.js';
import type { RunResult, RunResultErrored, RunSpec } from './types.js';
import type { Scenario } from '../stress/scenario.js';
import { wipeOutSpans } from '../stress/types.js';
import { RESULT_SCHEMA_VERSION, resultJson } from './result-schema.js';
import { excerpt, thrownText, visible } from '../util/excerpt.js';
import { capRecords, keepsDetail, noRecords, recordCount, setupRecords, liquidationPriceSeries } from './records.js';

/** Curve points of a stress run's result (history runs keep the task's curvePoints). */
export const STRESS_CURVE_POINTS = 200;
import { beginPass, endPass, installWorkerIsolation, RealmGuard, tamperMessage } from './isolation.js';
import { ownThreadId } from '../util/interrupt.js';

export interface WorkerInit {
  /**
   * the BroadcastChannel the datasets come through (execute.ts WorkerPool): the worker posts
   * DATASETS_WANTED on it and takes the first { datasets } message. A random name, kept in this
   * module only (as the worker data is)
   */
  dataChannel: string;
  /** absolute folders searched for strategies beyond the built-in library */
  strategyDirs: string[];
  /** SharedArrayBuffer of one BigInt64: bars replayed by all workers (progress) */
  progress: SharedArrayBuffer;
  /** SharedArrayBuffer of one Int32 per lane: the passes of the lane's message started so far (each start restarts the timeout) */
  started: SharedArrayBuffer;
  /** SharedArrayBuffer of one Int32 per lane: the Linux thread id of the worker running the lane's pass (0: unknown), whose child processes are ended at exit when the pass is stopped by its time limit (src/util/interrupt.ts) */
  threads: SharedArrayBuffer;
  /** SharedArrayBuffer of two Float64 per lane: where the lane's pass is (ReplayParams.position: bar, its time), for the timeout's message */
  where: SharedArrayBuffer;
  /** stress scenario definitions by id (src/stress); absent or empty without stress runs */
  scenarios?: Record<string, Scenario>;
}

export interface WorkerTask {
  taskId: string;
  datasetKey: string;
  runs: { runId: string; spec: RunSpec }[];
  setups: SetupSpec[];
  /** config maxEventsPerRun: null keeps every event */
  maxEvents: number | null;
  /** config stress.pathEvents: false leaves a Monte Carlo path run's result without per-event detail (no events, liquidation-price steps or price curves) */
  pathEvents: boolean;
  curvePoints: number;
  /** the pool lane running the task (index into WorkerInit.started) */
  lane: number;
}

const init = workerData as WorkerInit | undefined;
// the worker data (every dataset's columns, the whole future included, in memory shared by every
// worker) is kept in this module only: a strategy must not reach it through
// `import { workerData } from 'node:worker_threads'` or piscina's `workerData` (it could read
// later bars, or write into the columns other runs read)
if (init) hideWorkerData();

function hideWorkerData(): void {
  const req = createRequire(import.meta.url);
  (req('node:worker_threads') as { workerData: unknown }).workerData = null;
  syncBuiltinESMExports();
  try {
    // piscina's worker keeps its own reference (Piscina.workerData); its modules are CommonJS, cached by file
    const dir = dirname(req.resolve('piscina'));
    (req(join(dir, 'common.js')) as { commonState: { workerData: unknown } }).commonState.workerData = null;
    const index = req.cache[join(dir, 'index.js')]?.exports as { workerData?: unknown } | undefined;
    if (index && 'workerData' in index) index.workerData = null;
  } catch {
    // another piscina layout: nothing of ours to hide there
  }
}
// a worker's realm is shared by the passes it runs: see isolation.ts
if (init) installWorkerIsolation();
let guard: RealmGuard | null = null;
/** strategies that changed shared built-ins when loaded: every run of theirs is errored, in every worker */
const tainted = new Map<string, string>();
const progress = init ? new BigInt64Array(init.progress) : null;
const startedFlags = init ? new Int32Array(init.started) : null;
const threadIds = init ? new Int32Array(init.threads) : null;
const threadId = ownThreadId();
const whereOf = (lane: number): Float64Array | undefined => (init ? new Float64Array(init.where, 16 * lane, 2) : undefined);
const strategyCache = new Map<string, StrategyModule>();

/** what a worker posts on WorkerInit.dataChannel to be sent the datasets */
export const DATASETS_WANTED = 'datasets?';
/** the message carrying them */
export interface DatasetsMessage {
  datasets: Record<string, MarketData>;
}
let datasetsOnce: Promise<Record<string, MarketData>> | null = null;
/** the datasets, asked for once (before the first task: the main thread has loaded them by then) */
function datasetsOf(channel: string): Promise<Record<string, MarketData>> {
  return (datasetsOnce ??= new Promise((resolve) => {
    const ch = new BroadcastChannel(channel);
    ch.onmessage = (ev: unknown) => {
      const d = (ev as { data?: unknown }).data;
      if (typeof d !== 'object' || d === null || !('datasets' in d)) return; // another worker asking
      ch.close();
      resolve((d as DatasetsMessage).datasets);
    };
    ch.postMessage(DATASETS_WANTED);
  }));
}
/** the worker's reusable series buffers (src/engine/market.ts SeriesPool), made on the first task */
let seriesPool: import('../engine/market.js').SeriesPool | null = null;

/**
 * A major collection after a task when the heap has grown well beyond what the last one left. A
 * pass's garbage (event records, result JSON) would otherwise let a worker's heap grow by several
 * passes' worth before V8 collects, which multiplies memory by the worker count; but a collection
 * after every task costs more than the task itself when tasks are short (a stress sweep's passes
 * over 1,458 bars: a quarter of the worker's time went to it), so it runs only when the used heap
 * is above twice what the last one left plus 32 MB. The per-bar series are pooled (SeriesPool),
 * not garbage.
 * The collection is requested asynchronously (V8 runs it from a queued task, in practice before the
 * next pass gets far) and what it left is read at the next check (so that baseline includes up to
 * one pass's garbage). (Any full collection freed the maps of the finished pass's engine objects
 * until the engine kept the last replay's objects: src/engine/replay.ts, previousRunners.) A
 * synchronous gc() is a forced collection: it
 * also frees the shapes (maps) no live object has any more, those of the finished pass's engine
 * objects, and so throws away the optimized code of every function that saw them, which V8 then
 * compiles again in the next pass (a 32-pass sweep, one worker: 377 such deoptimizations and
 * 1,091 compilations against 51 and 720). Worker execArgv cannot carry V8 flags, hence the flag is
 * set here and gc taken from a context.
 */
type Gc = (options?: { type: 'major'; execution: 'async' }) => void;
const gc: Gc | null = (() => {
  try {
    setFlagsFromString('--expose-gc');
    const fn = runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as Gc) : null;
  } catch {
    return null;
  }
})();
let heapAfterGc = 0;
let collecting = false;
function collect(): void {
  if (!gc) return;
  const used = getHeapStatistics().used_heap_size;
  if (collecting) {
    // the collection started after the last task has run alongside this one
    collecting = false;
    heapAfterGc = used;
    return;
  }
  if (used < 2 * heapAfterGc + 32 * 2 ** 20) return;
  gc({ type: 'major', execution: 'async' });
  collecting = true;
}

/**
 * The engine, venue and analysis modules, imported once per worker: an import() per task, even of
 * a module already loaded, is resolved through the loader hooks (tsx), which run on a thread of
 * their own, a round trip per import and task.
 */
type CoreModules = [typeof import('../engine/index.js'), typeof import('../venue/index.js'), typeof import('../analysis/index.js')];
let coreModules: Promise<CoreModules> | null = null;
const loadCore = (): Promise<CoreModules> =>
  (coreModules ??= Promise.all([
    // a worker runs pass after pass: the engine keeps the last one's objects, so that their shapes, and the code V8 compiled for them, last (src/engine/replay.ts)
    import('../engine/index.js').then((engine) => (engine.retainLastReplay(true), engine)),
    import('../venue/index.js'),
    import('../analysis/index.js'),
  ]));
let stressModule: Promise<typeof import('../stress/view.js')> | null = null;
const loadStress = (): Promise<typeof import('../stress/view.js')> => (stressModule ??= import('../stress/view.js'));

async function loadStrategy(name: string, dirs: string[]): Promise<StrategyModule> {
  let mod = strategyCache.get(name);
  if (!mod) {
    const { resolveStrategy } = await import('../strategy/registry.js');
    guard ??= new RealmGuard();
    const loaded = await resolveStrategy(name, dirs);
    const changed = guard.restore();
    if (changed.length > 0) tainted.set(name, `${tamperMessage(changed)} (when its module loaded)`);
    // (a callback returning a promise is an error: the engine checks what each callback returns)
    mod = loaded;
    strategyCache.set(name, mod);
  }
  return mod;
}

const EMPTY_CURVES = { time: [], equity: [], drawdown: [], marginRatio: [] };

/** A RunResult for a run that produced no output (replay threw, timed out, worker died). */
/**
 * The most characters of what a strategy threw (or a failure's message) an errored result keeps: a
 * strategy may throw a 5 MB string or an error holding a JSON dump, which the result file, the
 * report and every stderr line naming the failure would repeat. Shown as one line (excerpt).
 */
export const ERROR_TEXT_CHARS = 1000;

export function erroredResult(runId: string, spec: RunSpec, message: string, internal = false): RunResultErrored {
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    runId,
    spec,
    status: 'errored',
    error: excerpt(message, ERROR_TEXT_CHARS),
    ...(internal ? { internal: true as const } : {}),
    metrics: {},
    books: {},
    rejections: {},
    liquidationPriceSource: 'trade',
    crossCheck: (spec.execution as { crossCheck?: 'pessimistic' | 'optimistic' }).crossCheck ?? 'pessimistic',
    bars: 0,
    events: [],
    curves: EMPTY_CURVES,
  };
}

/** where a strategy's create() threw: before any bar, so no event time */
interface CreatePlace {
  callback: 'create';
  time: number;
  location: string | null;
}

/**
 * An errored run's text: what the strategy threw, then where (callback, event time, its source
 * line), e.g. `strategy threw: Error: kaboom (in onBar of the bar at 2025-06-05T04:00:00.000Z, strategies/x.ts:31:15)`
 * (onBar: its bar's open, ctx.time there; other callbacks: the event's time).
 */
export function strategyErrorText(error: string, at: StrategyErrorPlace | CreatePlace | undefined): string {
  const what = excerpt(error, ERROR_TEXT_CHARS);
  if (!at) return `strategy threw: ${what}`;
  // onBar: the bar by its open, as ctx.time and the data's rows name it (its event time is the bar's close)
  const barOpen = 'barOpen' in at ? at.barOpen : undefined;
  const when = barOpen !== undefined && Number.isFinite(barOpen) ? ` of the bar at ${new Date(barOpen).toISOString()}` : Number.isFinite(at.time) ? ` at ${new Date(at.time).toISOString()}` : '';
  // the location is a path of the user's (a folder's name may hold a control character): shown escaped, as the error is
  return `strategy threw: ${what} (in ${at.callback}${when}${at.location ? `, ${visible(at.location)}` : ''})`;
}

function sortedRecord<T>(r: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.keys(r).sort().map((k) => [k, r[k]!]));
}

export async function runTask(task: WorkerTask, init: WorkerInit): Promise<RunResult[]> {
  const base = (await datasetsOf(init.dataChannel))[task.datasetKey];
  if (!base) throw new Error(`worker: dataset '${task.datasetKey}' not in worker data`);
  const first = task.runs[0]!.spec;
  // a stress run replays a view of the shared base columns (fresh arrays in this worker; the base is only read)
  const stressMod = first.stress ? await loadStress() : null;
  const scenarios = init.scenarios ?? {};
  const data = stressMod && first.stress ? stressMod.stressView(base, first.stress, scenarios, first.symbols) : base;
  const curvePoints = first.stress ? Math.min(task.curvePoints, STRESS_CURVE_POINTS) : task.curvePoints;
  const [[{ replay, SeriesPool }, { getVenue }, analysis], strategy] = await Promise.all([loadCore(), loadStrategy(first.strategy, init.strategyDirs)]);
  const venue = getVenue(first.venue, (first.venueOverrides ?? {}) as Parameters<typeof getVenue>[1]);
  // modules are loaded: the pass's timeout starts now
  // one more pass started on this lane (a message of several counts each: each has its own time limit)
  if (threadIds) Atomics.store(threadIds, task.lane, threadId);
  if (startedFlags) Atomics.add(startedFlags, task.lane, 1);
  let reported = 0;
  guard ??= new RealmGuard();
  beginPass();
  seriesPool ??= new SeriesPool();
  let out: ReturnType<typeof replay> | null = null;
  let internalError: string | null = null;
  let createError: string | null = null;
  let stray: string[];
  let changed: string[];
  // the bars of the run's own symbols (a symbol listed later than the dataset's others is measured from its listing)
  const window = symbolsWindow(data, first.symbols);
  try {
    out = replay({
    data,
    fromIndex: window.from,
    toIndex: window.to,
    symbols: first.symbols,
    strategy,
    params: first.params,
    venue,
    setups: task.setups,
    initialCapital: first.initialCapital,
    leverage: first.leverage,
    execution: first.execution as unknown as ExecutionOptions,
    seriesPool,
    position: whereOf(task.lane),
    onProgress: (done: number) => {
      if (progress) Atomics.add(progress, 0, BigInt(done - reported));
      reported = done;
    },
  });
  } catch (e) {
    // an internal invariant of the engine failed (a marginlab bug): its runs are errored as internal
    // (run / stress exit 70); what the strategy's create() threw (a line of the strategy on its stack)
    // errors the runs as a callback's throw does, saying where ('Cannot read properties of undefined'
    // and 'import_marginlab.SMA is not a constructor' came without the file or line); anything else
    // (a config error replay() refused) stays a task failure
    if (EngineInvariantError.is(e)) internalError = `internal engine error (a marginlab bug; please report it with this run's spec): ${e.message}`;
    else {
      // replay() wraps what create() threw (a string, undefined, an error without a stack came as
      // the bare 'plain string', 'undefined', without 'strategy threw' or where)
      const { strategyFrame, thrownByCreate } = await import('../engine/runner-state.js');
      const byCreate = thrownByCreate(e);
      const created = byCreate !== null;
      const thrown = byCreate ? byCreate.inner : e;
      const location = strategyFrame(thrown);
      if (location === null && !created) throw e;
      const text = thrownText(thrown, true);
      createError = strategyErrorText(text === '' ? 'the strategy threw an empty value' : text, { callback: 'create', time: NaN, location });
    }
  } finally {
    // errors after a callback returned are this pass's; its timers are cancelled; built-ins it changed are restored before any metric is computed
    stray = await endPass();
    changed = guard.restore();
  }
  // the strategy's own misconduct first: a strategy that broke a shared built-in can make the engine fail, and that is not a marginlab bug
  const blame = tainted.get(first.strategy) ?? (changed.length > 0 ? tamperMessage(changed) : null) ?? (stray.length > 0 ? `${stray[0]}${stray.length > 1 ? ` (and ${stray.length - 1} more)` : ''}` : null);
  if (blame !== null) return task.runs.map((run) => erroredResult(run.runId, run.spec, blame));
  if (createError !== null) return task.runs.map((run) => erroredResult(run.runId, run.spec, createError));
  if (internalError !== null || out === null) return task.runs.map((run) => erroredResult(run.runId, run.spec, internalError ?? 'internal engine error: no output', true));
  if (progress && out.bars > reported) Atomics.add(progress, 0, BigInt(out.bars - reported));
  const initialCapital = Number(first.initialCapital);
  // the price curves depend only on the bars replayed: setups that ran the same bars share them
  const priceCurves = new Map<string, ReturnType<typeof analysis.buildPriceCurves>>();
  const pricesFor = (time: Float64Array) => {
    const key = `${time.length}:${time[0]}:${time[time.length - 1]}`;
    let p = priceCurves.get(key);
    if (!p) priceCurves.set(key, (p = analysis.buildPriceCurves(data, time, out.symbols, curvePoints)));
    return p;
  };
  const results = task.runs.map((run, k): RunResult => {
    const so: SetupOutput | undefined = out.setups.find((s) => s.setup.id === run.spec.setup) ?? out.setups[k];
    if (!so) return erroredResult(run.runId, run.spec, `engine returned no output for setup '${run.spec.setup}'`);
    // a run that keeps no events (a Monte Carlo path without its detail) makes no records: its metrics read the ledger
    const detail = keepsDetail(run.spec, task.pathEvents);
    const records = detail ? setupRecords(so, out.symbols) : null;
    const metrics = analysis.computeMetrics({ output: so, initialCapital, timeframeMs: data.timeframeMs, symbols: out.symbols, ...(records ? { records } : {}) });
    const result: RunResult = {
      schemaVersion: RESULT_SCHEMA_VERSION,
      runId: run.runId,
      spec: run.spec,
      ...(so.error !== undefined ? { status: 'errored' as const, error: strategyErrorText(so.error, so.errorAt) } : { status: 'ok' as const }),
      metrics,
      books: { ...so.books } as unknown as Record<string, string>,
      rejections: sortedRecord(so.rejections),
      liquidationPriceSource: so.liquidationPriceSource,
      crossCheck: so.crossCheck,
      bars: so.series.time.length,
      ...(records ? capRecords(records, task.maxEvents) : noRecords(recordCount(so))),
      ...(detail ? { liquidationPrices: liquidationPriceSeries(so.liquidationPrices, out.symbols), prices: pricesFor(so.series.time) } : {}),
      curves: analysis.buildCurves(so.series, curvePoints, initialCapital),
      ...(run.spec.stress ? {} : historyWipeOuts(so.series, initialCapital)),
      ...(stressMod && run.spec.stress ? { stress: stressMod.stressFigures(run.spec.stress, so, out.symbols, initialCapital, data, scenarios) } : {}),
    };
    return result;
  });
  // the series were read (metrics, curves, stress figures): their buffers serve the next pass
  for (const so of out.setups) seriesPool.release(so.series);
  return results;
}

/** A history run's wipe-out spans, when it has any (RunResult.wipeOuts: a scenario run of it is paired with them). */
function historyWipeOuts(series: SetupOutput['series'], initialCapital: number): Pick<RunResult, 'wipeOuts'> {
  const spans = wipeOutSpans(series.time, series.equity, initialCapital);
  return spans.length > 0 ? { wipeOuts: spans } : {};
}

/** A warm-up message: load the engine's modules before any task's timeout starts. */
export interface WarmupTask {
  warmup: true;
  /** the user's strategies will load: register their loaders too (tsx, and marginlab's entry loaded natively: register-loaders.mjs) */
  userCode?: boolean;
}

async function warmup(task: WarmupTask): Promise<RunResult[]> {
  await Promise.all([
    loadCore(),
    import('../strategy/registry.js'),
    ...(init && init.scenarios && Object.keys(init.scenarios).length > 0 ? [loadStress()] : []),
    ...(task.userCode ? [import('../util/register-loaders.mjs').then((l) => l.userCodeLoaders())] : []),
  ]);
  return [];
}

/**
 * A result as it crosses back to the main thread: the file's bytes, written by the worker (so the
 * serialisation of events runs in parallel, not on the main thread), with the fields the main
 * thread reads for progress and the outcome. The bytes are moved, not copied (moveResults): a
 * string of a few MB posted to the main thread was flattened and copied in the worker, copied
 * again into a string on the main thread and encoded there into bytes to be written, and the
 * worker waited for its next pass meanwhile (1-worker bench sweep: the main thread 0.11 → 0.06
 * cores, the worker busy 0.86–0.88 → 0.93–0.95 of a core, the pool ≈ 8 % shorter).
 */
export interface SerializedResult {
  runId: string;
  spec: RunSpec;
  status: RunResult['status'];
  error?: string;
  internal?: true;
  /** results/<runId>.json as UTF-8, newline-terminated (a Uint8Array owning its whole buffer) */
  bytes: Uint8Array;
}

const utf8 = new TextEncoder();

/** what the main thread receives for a result (made in the worker, or on the main thread for a task that failed as a whole) */
export function serializeResult(r: RunResult): SerializedResult {
  // with its digest (a value edited in the file is then refused: result-schema.ts)
  const json = resultJson(r);
  const n = Buffer.byteLength(json);
  // a buffer of its own (not a slice of Buffer's shared pool: it is transferred), the newline after the JSON
  const bytes = new Uint8Array(n + 1);
  utf8.encodeInto(json, bytes);
  bytes[n] = 10;
  return {
    runId: r.runId,
    spec: r.spec,
    status: r.status,
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(r.internal ? { internal: true as const } : {}),
    bytes,
  };
}

/** a handler's results with their bytes moved to the main thread (piscina's transfer list), not copied */
function moveResults(results: SerializedResult[]): SerializedResult[] {
  const buffers = results.map((r) => r.bytes.buffer);
  return move({ [transferableSymbol]: buffers, [valueSymbol]: results }) as unknown as SerializedResult[];
}

/** several short passes in one message (src/shard/execute.ts BATCH_UNITS), run one after another as separate messages would be */
export interface WorkerBatch {
  batch: WorkerTask[];
}

/** piscina handler */
export default async function handler(task: WorkerTask | WorkerBatch | WarmupTask): Promise<SerializedResult[]> {
  if (!init) throw new Error('worker started without worker data');
  if ('warmup' in task) return moveResults((await warmup(task)).map(serializeResult));
  if ('batch' in task) {
    const out: SerializedResult[] = [];
    try {
      for (let k = 0; k < task.batch.length; k++) {
        // between passes what would run between two messages (each pass ends with the realm restored)
        if (k > 0) collect();
        const results = await runTask(task.batch[k]!, init);
        for (let j = 0; j < results.length; j++) out.push(serializeResult(results[j]!));
      }
      return moveResults(out);
    } finally {
      setImmediate(collect);
    }
  }
  try {
    return moveResults((await runTask(task, init)).map(serializeResult));
  } finally {
    // after the results are built: the pass's garbage is collected when it has piled up (collect above)
    setImmediate(collect);
  }
}
