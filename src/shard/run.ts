/**
 * One sweep: load every dataset once (SharedArrayBuffer), build the plan, take this shard's
 * slice, skip finished runs (--resume), run the rest on the pool, write each result atomically
 * to <out>/results/<runId>.json, then manifest.json.
 */
import { cancelUserTimers, withTimeLimit } from '../util/time-limit.js';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ExitCode, UserError, type ExitCodeValue, type UserErrorReason } from '../errors.js';
import type { LoadReply, LoadRequest } from './load-worker.js';
import { writeFileAtomic } from '../util/atomic.js';
import { packageVersion } from '../util/package-root.js';
import { withFsErrors } from '../util/fs-errors.js';
import { grouped } from '../util/excerpt.js';
import { cliCommand, shellArg, shellPath } from '../util/shell.js';
import { gitCommit } from '../util/git-head.js';
import { signalsBeforeCommit } from '../util/interrupt.js';
import { stopAtEnd } from '../util/helper-threads.js';
import { parseRunResult, readRunManifest, RESULT_FIX } from './schema.js';
import { manifestText } from './result-schema.js';
import { capMismatch, hasOutput, keepsDetail, outcomeOnly } from './records.js';
import type { MarketData } from '../feed/types.js';
import { finestFundingStep } from '../feed/timeframe.js';
import { checkLeverageLimits, configPath, defaultTierWarnings, invalidConfig, overrideSymbolProblems, fundingIntervalWarnings, venueMismatchWarnings, planRelevantConfig, type LoadedConfig, type ResolvedConfig } from '../config/index.js';
import { canonicalJson, sha256Hex } from './hash.js';
import { describePlanChange, resumeCommand } from './plan-change.js';
import { buildPlan, shardTasks, type PlanDataset, type PlanTask, type RunPlan, type ShardSpec, type StrategySource } from './plan.js';
import { executeTasks, taskUnits, workerHeapLimit, WorkerPool } from './execute.js';
import type { SerializedResult } from './worker.js';
import type { ProgressReporter } from './progress.js';
import type { RunCommand, RunManifest, RunResult } from './types.js';
import { checkPlanSize, injectionTimes, plannedCrashesPerPath, scenarioTable, type RunCounts, type StressPlanSummary } from '../stress/plan.js';
import { defaultBlockBars } from '../stress/bootstrap.js';
import { shownPath } from '../util/module-default.js';
import { backslashHint, COMPARE_FILES, mkdirs, RUN_REPORT_ENTRIES, type OutDir } from '../util/outdir.js';
import { paramsLabel } from '../report/format.js';
import { stressRunText } from '../stress/types.js';

export const RESULT_FILE = /^([0-9a-f]{16})\.json$/;
export const CURVE_POINTS = 2000;
/** the output folder is checked to be still the run's (OutDir.assertHeld) before a result write at most this often, ms */
export const HELD_CHECK_MS = 100;

export interface SweepOptions {
  loaded: LoadedConfig;
  /** absolute output folder */
  outDir: string;
  shard: ShardSpec | null;
  resume: boolean;
  progress: ProgressReporter;
  /** abort = Ctrl-C; aborted before the runs start (while the data loads or the plan is built): a UserError 130, the folder untouched */
  signal?: AbortSignal;
  /** where outDir came from (--out or the config's output.dir): decides the exit code of an unusable folder (64 or 78) */
  outSource?: 'flag' | 'config' | 'default';
  /** called once per warning about the config meeting the data, before the runs start (also kept in manifest.warnings) */
  onWarning?: (message: string) => void;
  /** called with what the command does to the folder that the user may not expect (not a warning about the runs: not in the manifest) */
  onNotice?: (message: string) => void;
  /**
   * the output folder as the command holds it (its lock): before each write the sweep checks it is
   * still its own (OutDir.assertHeld), and stops (70) when it was deleted meanwhile; it never makes
   * the folder or its results/ again
   */
  out?: OutDir;
}

export interface SweepOutcome {
  outDir: string;
  plan: RunPlan;
  /** runs of this shard */
  total: number;
  ok: number;
  errored: number;
  skipped: number;
  interrupted: boolean;
  /** errored results of this shard (including earlier ones kept by --resume) */
  /** `params`: the run's strategy params as a label (`lookback=6, kind=2`): the runs of a grid point told apart in a log */
  failures: { runId: string; strategy: string; params: string; setup: string; leverage: number; stress?: string; error: string; internal: boolean }[];
  manifest: RunManifest;
  /**
   * sha256 of each result file this invocation wrote (the bytes its workers serialized from the
   * engine's output, after a pass's built-ins were restored: not validated by the schema) or read and
   * validated (--resume), by RunId: the report step reads a file whose bytes still hash to this
   * without validating it (report/load.ts LoadRunFolderOptions.checked)
   */
  checked: ReadonlyMap<string, string>;
}

/** marginlab's version, from its package.json */
export function marginlabVersion(): string {
  return packageVersion();
}

/**
 * Strategy lookup through the registry (the built-in library plus the config's strategyDirs). With
 * `configDir`, an unknown name whose file sits in the config's folder or its `strategies/` (a config
 * without the strategyDirs that names it) says which key to add.
 */
export async function registrySource(extraDirs: string[], configDir?: string): Promise<StrategySource> {
  const reg = await import('../strategy/registry.js');
  const stray = (name: string): string | null => {
    if (configDir === undefined) return null;
    const folders = [join(configDir, 'strategies'), configDir].filter((d) => !extraDirs.some((x) => resolve(x) === resolve(d)));
    return reg.strayStrategyFile(name, folders);
  };
  return {
    load: async (name) => {
      try {
        return await reg.resolveStrategy(name, extraDirs);
      } catch (err) {
        const file = err instanceof UserError && err.reason === 'unknownStrategy' ? stray(name) : null;
        if (file === null || configDir === undefined) throw err;
        const folder = relative(configDir, dirname(file));
        // the config's own folder as a strategy folder would load the config as a strategy too: a folder of their own
        const todo = folder === '' ? `move it into a folder of its own (e.g. strategies/) and add strategyDirs: ['strategies'] to the config` : `add strategyDirs: ['${folder}'] to the config`;
        throw new UserError(`${err instanceof Error ? err.message : String(err)}; ${relative(configDir, file)} is there, but no strategy folder of the config holds it: ${todo}`, ExitCode.CONFIG);
      }
    },
    list: async () => {
      const list = await reg.listStrategies(extraDirs);
      return list.map((s) => s.name);
    },
  };
}

const LOAD_ENTRY = fileURLToPath(new URL('./load-entry.mjs', import.meta.url));

/** a loader thread started before the datasets were known (startLoaderThread), its modules loading; unref'd until used */
let spareLoader: Worker | null = null;

/**
 * Starts the loader thread of the next loadInThread now, so that it imports its modules (Arrow,
 * the codecs: ≈ 0.2–0.4 s) while the caller does other work (the CLI's run and stress: while the
 * config loads). It does not keep the process alive; one that dies unused is replaced.
 */
export function startLoaderThread(): void {
  if (spareLoader) return;
  const w = new Worker(LOAD_ENTRY, { execArgv: [] });
  w.unref();
  w.on('error', () => undefined);
  // a command that ends before it loads its data (a config error) stops the thread and waits for it
  stopAtEnd(w);
  w.once('exit', () => {
    if (spareLoader === w) spareLoader = null;
  });
  spareLoader = w;
}

/**
 * Where a config error (78) of dataset `index` is to be fixed: the words put before the message
 * (the config file and key) and the exit code it leaves with (the error's own when left out).
 */
export type LoadBlame = (index: number, reason: UserErrorReason | null) => { where: string; exitCode?: ExitCodeValue };

/**
 * Load MarketData in a short-lived loader thread (see load-entry.mjs); columns come back shared. A
 * config error of dataset k (78: a timeframe, symbol or window it does not hold) is said as
 * `blame(k, reason)` tells (the config file and key, or the flags that set the window), so the user
 * is told where to change it.
 */
export async function loadInThread(datasets: LoadRequest['datasets'], blame?: LoadBlame): Promise<MarketData[]> {
  const request: LoadRequest = { datasets };
  const spare = spareLoader;
  spareLoader = null;
  const w = spare ?? new Worker(LOAD_ENTRY, { workerData: request, execArgv: [] });
  if (spare) {
    spare.ref();
    spare.postMessage(request);
  }
  const reply = await new Promise<LoadReply>((res, rej) => {
    w.once('message', res);
    w.once('error', rej);
    w.once('exit', (code) => rej(new Error(`dataset loader thread exited with code ${code}`)));
  });
  await w.terminate();
  if (reply.ok) return reply.data;
  if (reply.exitCode !== null && Object.values(ExitCode).includes(reply.exitCode as ExitCodeValue)) {
    const code = reply.exitCode as ExitCodeValue;
    const b = blame && code === ExitCode.CONFIG && reply.index >= 0 ? blame(reply.index, reply.reason) : null;
    throw new UserError(b ? `${b.where}: ${reply.message}` : reply.message, b?.exitCode ?? code, reply.details, reply.reason);
  }
  const err = new Error(reply.message);
  if (reply.stack) err.stack = reply.stack;
  throw err;
}

/** The config file as every problem of a run names it (relative to the working folder when inside it). */
const configNameOf = (loaded: LoadedConfig): string => (loaded.path ? shownPath(loaded.path) : 'config');

/** The window flags a command was given, as the user wrote them ('--from 2025-01-09 --to …'), '' when none. */
const windowFlags = (loaded: LoadedConfig): string => {
  const ov = loaded.overrides ?? {};
  return [ov.from !== undefined ? `--from ${String(ov.from)}` : '', ov.to !== undefined ? `--to ${String(ov.to)}` : ''].filter(Boolean).join(' ');
};

export async function loadDatasets(loaded: LoadedConfig): Promise<{ data: Record<string, MarketData>; plan: PlanDataset[] }> {
  const c = loaded.config;
  // a timeframe, symbol or window the dataset does not hold: the config's key says where to change it;
  // a window holding no bar that a flag set (--from, --to) is the flags' problem (64, naming them):
  // the config file was not what was wrong
  const flags = windowFlags(loaded);
  const blame: LoadBlame = (k, reason) =>
    reason === 'emptyWindow' && flags !== '' ? { where: flags, exitCode: ExitCode.USAGE } : { where: `${configNameOf(loaded)}: ${c.data.length === 1 ? 'data' : `data[${k}]`}` };
  const loadedData = await loadInThread(
    c.data.map((d) => ({
      dir: configPath(loaded, d.path),
      options: {
        ...(d.timeframe ? { timeframe: d.timeframe } : {}),
        ...(d.symbols ? { symbols: d.symbols } : {}),
        ...(c.from !== null ? { from: c.from } : {}),
        ...(c.to !== null ? { to: c.to } : {}),
        gaps: d.gaps,
      },
    })),
    blame,
  );
  const data: Record<string, MarketData> = {};
  const plan: PlanDataset[] = [];
  loadedData.forEach((md, i) => {
    const key = `d${i}`;
    data[key] = md;
    plan.push({ key, name: md.dataset, timeframe: md.timeframe, symbols: [...md.symbols], bars: md.time.length, hashes: { ...md.hashes }, time: md.time, timeframeMs: md.timeframeMs });
  });
  return { data, plan };
}

/** work units per worker started at once: a worker's start-up and its own JIT warm-up cost ≈ 1.5 s of CPU */
export const UNITS_PER_WORKER = 4_000_000;

/**
 * Worker threads for `tasks`: `max`, the configured count, never more than the tasks; `initial`,
 * those started at once. With a number for workers all start at once. With workers 'auto' only
 * one per UNITS_PER_WORKER units of work (each pass's cost, bars × setups × symbols, plus
 * execute.ts TASK_OVERHEAD_UNITS) start at once, at least one, and the others one by one when the passes still
 * waiting make it worth it (executeTasks), since every worker loads and compiles the code on its own:
 * the bundled sweep (51 short passes) ran in 2.9 s on one worker and 4.7 s on two, while a
 * strategy that is slow per bar still gets every core.
 */
export function poolSize(c: Pick<ResolvedConfig, 'workers' | 'workersAuto'>, tasks: readonly Pick<PlanTask, 'cost'>[]): { max: number; initial: number } {
  const max = Math.max(1, Math.min(c.workers, tasks.length || 1));
  if (!c.workersAuto) return { max, initial: max };
  let units = 0;
  for (const t of tasks) units += taskUnits(t);
  return { max, initial: Math.max(1, Math.min(max, Math.floor(units / UNITS_PER_WORKER))) };
}

/** what marginlab writes into results/: result files and their temp files (writeFileAtomic); anything else there is the user's */
const OWN_RESULT_ENTRY = /^(?:[0-9a-f]{16}\.json|\.[0-9a-f]{16}\.json\.\d+\.[0-9a-f]{8}\.tmp)$/;

/**
 * Checks the `results/` folder of an output folder before any work (run, merge): refuses a
 * results/ that is not a folder, or that holds a .json file marginlab did not write (the report
 * reads every .json there, so the command would stop at its report after all the work). Returns
 * the entries that are the user's (everything but result files and their temp files): marginlab
 * keeps them.
 */
export function userResultEntries(resultsDir: string, source: 'flag' | 'config' | 'default', replacing = false): string[] {
  // the output folder named by --out is a usage error (64), by the config's output.dir a config error (78); the
  // default reports/<name> of an unset output.dir is the flag's to change (64)
  const code = source === 'config' ? ExitCode.CONFIG : ExitCode.USAGE;
  const where = source === 'config' ? "the config's output.dir" : source === 'default' ? 'output folder (--out, or output.dir in the config)' : '--out';
  let st;
  try {
    st = lstatSync(resultsDir);
  } catch {
    return []; // none yet
  }
  if (!st.isDirectory())
    throw new UserError(`${resultsDir} is not a folder of results marginlab wrote (a ${st.isSymbolicLink() ? 'symbolic link' : 'file'}); move it away or choose another ${where}`, code);
  const entries = readdirSync(resultsDir, { withFileTypes: true });
  const alien = entries.find((e) => e.name.endsWith('.json') && !e.name.startsWith('.') && !OWN_RESULT_ENTRY.test(e.name));
  if (alien !== undefined)
    throw new UserError(`${join(resultsDir, alien.name)} is not a result marginlab wrote, and the report reads every .json file in results/: move it out of that folder (marginlab never deletes it)`, code);
  // a result's name on a folder or a link: marginlab writes files only (and would clear or replace it)
  const notFile = entries.find((e) => RESULT_FILE.test(e.name) && !e.isFile());
  if (notFile !== undefined)
    throw new UserError(`${join(resultsDir, notFile.name)} is a ${notFile.isDirectory() ? 'folder' : notFile.isSymbolicLink() ? 'symbolic link' : 'special file'}, not a result marginlab wrote: move it out of that folder (marginlab never deletes it)`, code);
  // the command replaces the results: a file of a result's name that holds none is the user's (--resume judges each file itself)
  if (replacing) {
    const head = Buffer.alloc(HEAD_BYTES);
    for (const e of entries) {
      const id = RESULT_FILE.exec(e.name)?.[1];
      if (id === undefined || ownResultHead(join(resultsDir, e.name), id, head)) continue;
      throw new UserError(
        `${join(resultsDir, e.name)} is named like a result but is not one marginlab wrote (its run id is not in it), and this command replaces the folder's results: move it out of that folder (marginlab never deletes it); nothing was changed`,
        code,
      );
    }
  }
  return entries.map((e) => e.name).filter((f) => !OWN_RESULT_ENTRY.test(f));
}

/** a problem line without its last '; what to do' part (--resume says what it does instead) */
const withoutFix = (line: string): string => line.replace(/; [^;]*$/, '');

/** the bytes of a result file's start read to tell whether marginlab wrote it */
const HEAD_BYTES = 512;

/**
 * Whether a file named like result `id` is one marginlab wrote: its RunId among its first members
 * (`{"schemaVersion":…,"runId":"<id>"`, also re-indented or cut short), or empty (nothing to lose).
 * The start only: thousands of results are judged before a sweep replaces them.
 */
function ownResultHead(path: string, id: string, head: Buffer): boolean {
  const fd = openSync(path, 'r');
  try {
    const n = readSync(fd, head, 0, head.length, 0);
    if (n === 0) return true;
    return new RegExp(`"runId"\\s*:\\s*"${id}"`).test(head.toString('utf8', 0, n));
  } finally {
    closeSync(fd);
  }
}

/**
 * Prepares `resultsDir` before the pool starts (userResultEntries); without --resume clears the
 * result files and temp files of an earlier run, nothing else (a user's note there stays).
 */
function prepareResults(resultsDir: string, clear: boolean, source: 'flag' | 'config' | 'default'): void {
  userResultEntries(resultsDir, source, clear);
  if (clear && existsSync(resultsDir)) for (const f of readdirSync(resultsDir)) if (OWN_RESULT_ENTRY.test(f)) rmSync(join(resultsDir, f), { force: true });
}

export function listResultIds(resultsDir: string): Set<string> {
  if (!existsSync(resultsDir)) return new Set();
  return new Set(readdirSync(resultsDir).map((f) => RESULT_FILE.exec(f)?.[1]).filter((x): x is string => !!x));
}

/** how many files named like a result a folder's results/ holds (0 when it is missing or cannot be listed: the sweep says why later) */
function storedResultCount(resultsDir: string): number {
  try {
    return listResultIds(resultsDir).size;
  } catch {
    return 0;
  }
}

/** The config file and the plan-changing flags of this command, as the manifest records them (`command`). */
export function runCommandOf(loaded: LoadedConfig): RunCommand {
  return {
    config: loaded.path,
    ...(loaded.overrides?.strategies ? { strategies: [...loaded.overrides.strategies] } : {}),
    ...(loaded.overrides?.from !== undefined ? { from: loaded.overrides.from } : {}),
    ...(loaded.overrides?.to !== undefined ? { to: loaded.overrides.to } : {}),
    ...(loaded.overrides?.maxRuns !== undefined ? { maxRuns: loaded.overrides.maxRuns } : {}),
  };
}

/** The command that finishes the folder `outDir` this command writes (`marginlab run --resume …`), to print when it stops. */
export function resumeHint(loaded: LoadedConfig, shard: ShardSpec | null, outDir: string): string {
  return resumeCommand(JSON.parse(JSON.stringify(loaded.config)) as unknown, shownPath(outDir, process.cwd()), shard ? { index: shard.index, count: shard.count } : null, runCommandOf(loaded));
}

export function configHash(loaded: LoadedConfig): string {
  return sha256Hex(canonicalJson(planRelevantConfig(loaded.config))).slice(0, 16);
}

export async function runSweep(opts: SweepOptions): Promise<SweepOutcome> {
  const early: { pool?: WorkerPool } = {};
  try {
    return await sweep(opts, early);
  } catch (err) {
    // an injection date outside the window: the config's problem, named under its file as its other
    // problems are (78), or the flags' when they set the window (64, naming them)
    if (!(err instanceof UserError) || err.reason !== 'injectOutsideWindow') throw err;
    const flags = windowFlags(opts.loaded);
    if (flags !== '') throw new UserError(`${flags}: ${err.message}`, ExitCode.USAGE, err.details, err.reason);
    throw new UserError(`${configNameOf(opts.loaded)}: ${err.message}`, err.exitCode, err.details, err.reason);
  } finally {
    // a sweep stopped before its passes (a config or plan error, nothing to do, Ctrl-C) stops the pool it started
    await early.pool?.destroy();
  }
}

/**
 * The bytes of the files of the dataset folders: what the workers' heap limit is first sized from,
 * before the data is loaded (executeTasks keeps the pool only when the loaded data gives the same
 * limit, as it does wherever the memory is ample: V8's default limit either way).
 */
function datasetFileBytes(dirs: readonly string[]): number {
  let bytes = 0;
  for (const dir of dirs) {
    try {
      for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isFile()) bytes += statSync(join(dir, e.name)).size;
    } catch {
      // unreadable: loadDatasets says so
    }
  }
  return bytes;
}

async function sweep(opts: SweepOptions, early: { pool?: WorkerPool }): Promise<SweepOutcome> {
  const t0 = Date.now();
  const { loaded, outDir } = opts;
  const c = loaded.config;
  /** Monte Carlo path runs keep their event log (stress.pathEvents; records.ts keepsDetail) */
  const pathEvents = c.stress?.pathEvents ?? false;
  const strategyDirs = c.strategyDirs.map((d) => configPath(loaded, d));
  // the config file as every problem below names it, as the schema's messages do (relative to the working folder when inside it)
  const configName = configNameOf(loaded);
  const { ENGINE_VERSION } = await import('../engine/index.js');
  // a strategy folder the config names must exist (reported at its key, not at the first strategy's), and so must a
  // dataset folder, the message saying how to fill one (a config copied from the docs names data/binance-usdm-2025):
  // every missing folder at once (one was named per try)
  const missing: string[] = [];
  strategyDirs.forEach((d, k) => {
    let dir = false;
    try {
      dir = statSync(d).isDirectory();
    } catch {
      /* missing */
    }
    if (!dir) missing.push(`${configName}: strategyDirs[${k}]: strategy folder '${d}' does not exist or is not a folder`);
  });
  c.data.forEach((d, k) => {
    const abs = configPath(loaded, d.path);
    if (existsSync(abs)) return;
    const key = c.data.length === 1 ? 'data.path' : `data[${k}].path`;
    missing.push(
      `${configName}: ${key}: dataset folder '${d.path}' does not exist (${abs})${backslashHint(d.path) ? ` (${backslashHint(d.path)})` : ''}; import your data into it (\`npx marginlab import <files> --out ${shellPath(abs)}\`, marginlab's docs/data.md) or use the bundled sample data (\`data: SAMPLE_DATA\`, imported from 'marginlab')`,
    );
  });
  if (missing.length === 1) throw new UserError(missing[0]!, ExitCode.NO_INPUT);
  if (missing.length > 1) throw new UserError(`${configName}: ${missing.length} folders the config names do not exist`, ExitCode.NO_INPUT, missing.map((l) => l.slice(configName.length + 2)));
  // one worker starts loading its modules (and the loaders of the user's strategies) while the data
  // loads and the plan is made: the first pass no longer waits for it (a small run's 0.3–0.7 s)
  const scenarios = scenarioTable(c.stress);
  early.pool = WorkerPool.early({
    strategyDirs,
    workers: c.workers,
    heap: workerHeapLimit(c.workers, datasetFileBytes(c.data.map((d) => configPath(loaded, d.path))), c.workerMemoryMb),
    scenarios,
  });
  const datasets = await loadDatasets(loaded);
  const warnings = fundingIntervalWarnings(
    c,
    datasets.plan.map((d) => ({ name: d.name, timeframe: d.timeframe, timeframeMs: datasets.data[d.key]!.timeframeMs, fundingStepMs: finestFundingStep(datasets.data[d.key]!) })),
  );
  warnings.push(...venueMismatchWarnings(c, datasets.plan.map((d) => ({ name: d.name, venue: datasets.data[d.key]!.venue }))));
  // a tier table or lot size given for a symbol no dataset holds: a near miss of a held symbol is a typo (78), else said
  const overrideSymbols = overrideSymbolProblems(c, datasets.plan.map((d) => ({ name: d.name, symbols: d.symbols })));
  if (overrideSymbols.problems.length > 0) throw invalidConfig(configName, overrideSymbols.problems);
  warnings.push(...overrideSymbols.warnings);
  // data warnings (gaps under data.gaps: 'warn'): on stderr, in manifest.warnings and the reports; at most 20 per dataset
  datasets.plan.forEach((d, i) => {
    const ws = datasets.data[d.key]!.warnings ?? [];
    for (const w of ws.slice(0, 20)) warnings.push(`dataset ${d.name}: ${w}`);
    // the command that lists them: the dataset's folder (its name is the manifest's), loaded as the config loads it
    const { path, timeframe, symbols } = c.data[i]!;
    const validate = cliCommand(`data validate ${shellPath(configPath(loaded, path))}${timeframe ? ` --timeframe ${timeframe}` : ''}${symbols ? ` --symbols ${shellArg(symbols.join(','))}` : ''} --gaps warn`);
    if (ws.length > 20) warnings.push(`dataset ${d.name}: ... and ${ws.length - 20} more warnings (\`${validate}\` lists them all)`);
  });
  // every scenario the stress runs replay: the scenarios, and the crash scenarios drawn into paths when paths carry crashes (each once)
  const drawn = c.stress && c.stress.paths > 0 && c.stress.crashesPerPath > 0 ? c.stress.crashScenarios : [];
  const stressScenarios = c.stress ? [...new Map([...c.stress.scenarios, ...drawn].map((x) => [x.id, x])).values()] : [];
  // stress plans that would not do what they seem to: too short for paths, no injection time, a scenario that moves none
  // of a dataset's symbols (a plain replay there), a market the dataset lacks
  if (c.stress) {
    const { scenarioMovesNone, marketFallbackWarning, scenarioHash, ambiguousShockKeys } = await import('../stress/scenario.js');
    // two shock keys naming one symbol of a dataset by its base asset: one of the two shocks would be dropped without a word
    for (const sc of stressScenarios) {
      for (const d of datasets.plan) {
        const two = ambiguousShockKeys(sc, d.symbols);
        if (two === null) continue;
        const [a, b] = two.keys;
        throw new UserError(`${configName}: stress scenario '${sc.id}': its keys '${a}' and '${b}' both name ${two.symbol} of dataset ${d.name} (a key names a symbol by its base asset), and only the first one's shock would be used; keep one, or name the symbol exactly ('${two.symbol}')`, ExitCode.CONFIG);
      }
    }
    const { pathsWarning, crashesWarning, injectionWarning, midBarJumpWarnings, lateShockWarnings, pathCrashLateWarnings } = await import('../stress/plan.js');
    for (const d of datasets.plan) {
      const data = datasets.data[d.key]!;
      const timeline = { name: d.name, time: data.time, timeframeMs: data.timeframeMs, symbols: d.symbols };
      for (const w of [pathsWarning(c.stress, timeline), crashesWarning(c.stress, timeline), injectionWarning(c.stress, timeline), ...midBarJumpWarnings(c.stress, timeline), ...lateShockWarnings(c.stress, timeline), ...pathCrashLateWarnings(c.stress, timeline)]) if (w) warnings.push(w);
    }
    for (const sc of c.stress.scenarios) {
      for (const d of datasets.plan) {
        if (scenarioMovesNone(sc, d.symbols)) warnings.push(`stress scenario '${sc.id}' moves none of the symbols of dataset ${d.name} (${Object.keys(sc.symbols).join(', ')} vs ${d.symbols.join(', ')}): its runs there are not planned (they would replay the data unchanged and count as surviving the crash)`);
      }
    }
    // betas are measured on the whole dataset: a market the dataset lacks falls back to the mean of its
    // symbols, as documented for the crash pack (BTC); said for a scenario the config defines
    const { packScenario } = await import('../stress/pack.js');
    for (const sc of stressScenarios) {
      const pack = packScenario(sc.id);
      const asPacked = pack !== undefined && scenarioHash(pack) === scenarioHash(sc);
      for (const d of datasets.plan) {
        const data = datasets.data[d.key]!;
        const w = asPacked ? null : marketFallbackWarning(sc, { name: d.name, symbols: data.symbols });
        if (w) warnings.push(w);
      }
    }
  }
  for (const w of warnings) opts.onWarning?.(w);
  const tLoaded = Date.now();
  // strategies given with --strategies: the messages say so (the entries' indexes are those of the list it made)
  const planSource = loaded.path === null ? undefined : loaded.overrides?.strategies ? `${configName} with --strategies ${loaded.overrides.strategies.join(',')}` : configName;
  // the strategies' code the plan runs here (modules, params schemas, symbols()) under the runs' time limit (src/util/time-limit.ts)
  // a plan whose history and path runs alone would not fit the disk or the report's memory is refused before it is built
  // (docs/stress.md, Plan size: 150,000 paths built 900,000 runs in 80 s before being refused); a shard's share of the runs
  // is known only once the plan is built and dealt (checked below)
  const precheck = c.stress && !(opts.shard && opts.shard.count > 1)
    ? (certain: RunCounts, exact: boolean) => checkPlanSize(certain, pathEvents, outDir, configName, undefined, undefined, !exact)
    : undefined;
  const plan = await withTimeLimit({ ms: c.timeoutMs, key: 'timeoutMs' }, 'planning (strategy files)', async () => buildPlan(c, datasets.plan, await registrySource(strategyDirs, loaded.baseDir), ENGINE_VERSION, planSource, undefined, loaded.overrides?.strategies, precheck));
  // no user code runs on this thread after the plan: what the config's or the strategies' code left
  // scheduled here would run in the middle of the sweep, outside any time limit (util/time-limit.ts)
  const leftTimers = cancelUserTimers();
  if (leftTimers.length > 0) {
    const w = `the code of the config or a strategy left ${leftTimers.length} timer${leftTimers.length === 1 ? '' : 's'} on the main thread (started at ${[...new Set(leftTimers)].slice(0, 3).join(', ')}${new Set(leftTimers).size > 3 ? ', …' : ''}): cancelled here, since they would run during the sweep, where nothing limits them; but a strategy module's top-level code runs again in every worker, and a timer it starts there runs during the runs (what it throws errors them): a run's own code belongs in the strategy's callbacks`;
    warnings.push(w);
    opts.onWarning?.(w);
  }
  // leverage above the venue's maximum for a symbol a run trades: a config error (exit 78) before any run starts
  // what each run trades from its dataset's first bar: the leverage limits and the tier tables are judged there
  const uses = plan.tasks.flatMap((t) => {
    const time = datasets.data[t.datasetKey]!.time;
    const startMs = time.length > 0 ? time[0]! : Number.NaN;
    return t.runs.map((r) => ({ strategy: r.spec.strategy, leverage: r.spec.leverage, symbols: r.spec.symbols, dataset: r.spec.dataset, startMs }));
  });
  checkLeverageLimits(c, uses, configName);
  // a traded symbol without a tier table of the venue: margined with its default brackets (BTC renamed BTC-PERP read
  // the 1 % / 75x small-cap table of binance-usdm, with no word in the run or its reports)
  for (const w of defaultTierWarnings(c, uses)) {
    warnings.push(w);
    opts.onWarning?.(w);
  }
  // scenario runs left out for what a strategy trades (a scenario moving none of its symbols, or starting after the
  // window's end for them): said per strategy, beyond what was said for the whole dataset above; and paths that
  // carry no crash because no crash scenario moves the strategy's symbols
  if (c.stress && (c.stress.scenarios.length > 0 || (c.stress.paths > 0 && c.stress.crashesPerPath > 0))) {
    const { strategyScenarioWarnings } = await import('../stress/plan.js');
    for (const d of datasets.plan) {
      const traded = new Map<string, { strategy: string; symbols: string[] }>();
      for (const r of plan.runs) if (!r.spec.stress && r.spec.dataset === d.name && r.spec.timeframe === d.timeframe) traded.set(`${r.spec.strategy}\u0000${r.spec.symbols.join(',')}`, { strategy: r.spec.strategy, symbols: r.spec.symbols });
      const data = datasets.data[d.key]!;
      for (const w of strategyScenarioWarnings(c.stress, { name: d.name, time: data.time, timeframeMs: data.timeframeMs, symbols: d.symbols }, [...traded.values()])) {
        warnings.push(w);
        opts.onWarning?.(w);
      }
    }
  }
  // a scenario's mark moves (the pack's own too: XRP's mark 10 % past its wick, alt-wick's ADA mark at half of it) on
  // symbols without mark candles at the bar timeframe move nothing the liquidations read (the bundled data's are
  // 8-hourly): said for the symbols the runs of the scenario, or the paths it crashes, trade (a symbol of the dataset
  // no run trades changes nothing, and it was told to import mark candles for it)
  if (c.stress) {
    const { markExtraWarning } = await import('../stress/scenario.js');
    const tradedBy = new Map<string, Map<string, Set<string>>>();
    for (const t of plan.tasks) {
      for (const r of t.runs) {
        const st = r.spec.stress;
        const ids = st?.kind === 'scenario' ? [st.scenario] : st?.kind === 'path' ? (st.crashes ?? []).map((x) => x.scenario) : [];
        for (const id of ids) {
          let per = tradedBy.get(id);
          if (!per) tradedBy.set(id, (per = new Map()));
          let set = per.get(t.datasetKey);
          if (!set) per.set(t.datasetKey, (set = new Set()));
          for (const x of r.spec.symbols) set.add(x);
        }
      }
    }
    for (const sc of stressScenarios) {
      for (const d of datasets.plan) {
        const set = tradedBy.get(sc.id)?.get(d.key);
        if (!set) continue;
        const data = datasets.data[d.key]!;
        const idx = data.symbols.flatMap((x, i) => (set.has(x) ? [i] : []));
        const m = markExtraWarning(sc, { name: d.name, timeframe: d.timeframe, symbols: idx.map((i) => data.symbols[i]!), markAtBarTimeframe: idx.map((i) => data.columns[i]!.markAtBarTimeframe) });
        if (m) {
          warnings.push(m);
          opts.onWarning?.(m);
        }
      }
    }
  }
  // symbols with bars on part of the window, among those the Monte Carlo path runs trade (a symbol of the
  // dataset no run trades changes no path run)
  if (c.stress && c.stress.paths > 0) {
    const { pathCoverageWarning } = await import('../stress/plan.js');
    const traded = new Map<string, Set<string>>();
    for (const t of plan.tasks) {
      for (const r of t.runs) {
        if (r.spec.stress?.kind !== 'path') continue;
        let set = traded.get(t.datasetKey);
        if (!set) traded.set(t.datasetKey, (set = new Set()));
        for (const x of r.spec.symbols) set.add(x);
      }
    }
    for (const d of datasets.plan) {
      const set = traded.get(d.key);
      if (!set) continue;
      const data = datasets.data[d.key]!;
      const idx = data.symbols.flatMap((x, i) => (set.has(x) ? [i] : []));
      const w = pathCoverageWarning(c.stress, { name: d.name, symbols: idx.map((i) => data.symbols[i]!), columns: idx.map((i) => data.columns[i]!) });
      if (w) {
        warnings.push(w);
        opts.onWarning?.(w);
      }
    }
  }
  let stressSummary: StressPlanSummary | undefined;
  if (c.stress) {
    const history = plan.runs.filter((r) => !r.spec.stress).length;
    const scenarioRuns = plan.runs.filter((r) => r.spec.stress?.kind === 'scenario').length;
    // no scenario (--scenarios none): no injection time to count, nor one outside the window to refuse
    const times = c.stress.scenarios.length === 0 ? [] : datasets.plan.map((d) => injectionTimes(c.stress!, { name: d.name, time: d.time ?? [], timeframeMs: d.timeframeMs ?? 0 }).length);
    stressSummary = {
      scenarios: c.stress.scenarios.length, injectionTimes: Math.max(0, ...times), paths: c.stress.paths,
      // a path carries at most as many crashes as its window has bars to start them at (crashesWarning says so)
      crashesPerPath: plannedCrashesPerPath(c.stress, datasets.plan.map((d) => d.bars)),
      blockBars: c.stress.blockBars ?? (datasets.plan.length === 1 ? defaultBlockBars(datasets.plan[0]!.bars, datasets.plan[0]!.timeframeMs ?? 0) : null),
      seed: c.stress.seed, historyRuns: history, scenarioRuns, pathRuns: plan.runs.length - history - scenarioRuns,
    };
  }
  const tPlanned = Date.now();
  const tasks = shardTasks(plan.tasks, opts.shard);
  const resultsDir = join(outDir, 'results');
  const shardRuns = tasks.flatMap((t) => t.runs);
  if (stressSummary) {
    // the results this machine writes and reads back are its shard's: --shard i/N is a way out of a plan too large for one machine
    const counts = (runs: readonly { spec: { stress?: { kind: 'scenario' | 'path' } } }[]): RunCounts => {
      const n: RunCounts = { history: 0, scenario: 0, path: 0 };
      for (const r of runs) n[r.spec.stress?.kind ?? 'history']++;
      return n;
    };
    checkPlanSize(counts(plan.runs), pathEvents, outDir, configName, opts.shard && opts.shard.count > 1 ? { runs: counts(shardRuns), shard: opts.shard } : undefined);
  }
  const shardIds = new Set(shardRuns.map((r) => r.runId));
  const outCtx = (path: string, action: string) => ({ path, action, role: 'output' as const, source: opts.outSource ?? ('flag' as const) });

  // the code of each strategy the plan runs (the RunIds hold its name and params, not its code):
  // --resume and merge refuse results of another version of a strategy file
  const { strategyFiles } = await import('../strategy/registry.js');
  const files = strategyFiles(plan.strategies, strategyDirs);
  const strategyHashes: Record<string, string> = {};
  for (const [name, file] of files) strategyHashes[name] = strategyCodeHash(withFsErrors({ path: file, action: 'read the strategy file', role: 'input' }, () => readFileSync(file, 'utf8')));

  // the folder's previous plan: --resume goes on only with the same plan and shard; a fresh run replaces the folder's results
  const manifestPath = join(outDir, 'manifest.json');
  /** why the folder's manifest cannot say which plan its results are of (--resume), null when it can */
  let manifestDamaged: 'damaged' | 'missing' | null = null;
  /** --resume: the commit the folder's manifest says its results were made at (undefined: no manifest to say it) */
  let prevCommit: string | null | undefined;
  if (opts.resume && existsSync(manifestPath)) {
    let prev: RunManifest | null = null;
    try {
      const read = readRunManifest(withFsErrors({ path: manifestPath, action: 'read', role: 'output' }, () => readFileSync(manifestPath, 'utf8')), manifestPath);
      prev = read.manifest;
      prevCommit = prev.gitCommit;
      // edited by hand (its digest says so): its plan, shard and strategy code are still judged below
      if (read.edited.length) {
        opts.onWarning?.(
          `--resume: ${manifestPath} is not a valid run manifest (${withoutFix(read.edited[0]!)}); ` +
            'its plan, shard and strategy code are still checked against this command\'s, every result is checked against this plan and the manifest written again',
        );
      }
    } catch (err) {
      if (!(err instanceof UserError) || err.exitCode !== ExitCode.DATA) throw err;
      // a damaged manifest: the results are checked one by one below (one of another plan or shard stops the command)
      manifestDamaged = 'damaged';
      opts.onWarning?.(
        `--resume: ${err.message}${err.details.length ? ` (${withoutFix(err.details[0]!)})` : ''}; every result is checked against this plan and the manifest written again ` +
          '(the strategy code the results were made with cannot be checked: run without --resume if a strategy file changed since)',
      );
    }
    if (prev && prev.plan && (prev.plan.hash !== plan.planHash || canonicalJson(prev.shard) !== canonicalJson(opts.shard))) {
      throw new UserError(
        `--resume: ${outDir} holds runs of another plan (${prev.plan.total} runs, plan ${prev.plan.hash}${prev.shard ? `, shard ${prev.shard.index}/${prev.shard.count}` : ''}) ` +
          `than this command (${plan.runs.length} runs, plan ${plan.planHash}${opts.shard ? `, shard ${opts.shard.index}/${opts.shard.count}` : ''}): ${describePlanChange(prev.config, prev.shard, c, opts.shard, { dir: outDir, command: prev.command }, opts.loaded.overrides ?? {}, {
            folder: { datasets: prev.datasets, engineVersion: prev.engineVersion, strategies: prev.plan.strategies, strategyHashes: prev.plan.strategyHashes },
            command: { datasets: datasets.plan, engineVersion: ENGINE_VERSION, strategies: plan.strategies, strategyHashes },
          })}; ` +
          'otherwise run without --resume to replace the folder\'s results, or choose another --out',
        ExitCode.USAGE,
      );
    }
    const before = prev?.plan?.strategyHashes;
    const changed = before ? Object.keys(strategyHashes).filter((n) => before[n] !== undefined && before[n] !== strategyHashes[n]) : [];
    if (changed.length > 0) {
      throw new UserError(
        `--resume: ${changed.map((n) => `strategy '${n}' (${files.get(n)})`).join(', ')} changed since the results in ${outDir} were written, ` +
          'so they are of the old code; run without --resume to run them again, or choose another --out',
        ExitCode.USAGE,
      );
    }
  } else if (opts.resume && storedResultCount(resultsDir) > 0) {
    // results without the manifest that says which plan, shard and strategy code made them (deleted, or not copied
    // along): judged one by one below as under a damaged manifest, and said as that one is (the results of an old
    // version of a strategy file were kept in silence, and the manifest written again claimed them for the new one)
    manifestDamaged = 'missing';
    opts.onWarning?.(
      `--resume: ${manifestPath} is missing beside the results in ${resultsDir}; every result is checked against this plan and the manifest written again ` +
        '(the strategy code the results were made with cannot be checked: run without --resume if a strategy file changed since)',
    );
  } else if (!opts.resume && existsSync(manifestPath)) {
    // `marginlab run` into the folder of a `marginlab stress` (its default is the same folder) replaces the stress
    // results, which may have taken hours, with history runs: said, not done in silence (the folder is marginlab's own)
    try {
      const prev = readRunManifest(readFileSync(manifestPath, 'utf8'), manifestPath).manifest;
      const cfg = prev.config as { stress?: unknown } | null | undefined;
      const held = cfg !== null && typeof cfg === 'object' && cfg.stress !== null && typeof cfg.stress === 'object';
      if (held && !c.stress && prev.plan && prev.plan.hash !== plan.planHash) {
        const m =
          `replacing the ${grouped(prev.plan.total)} results in ${outDir} of an earlier \`marginlab stress\` (its stress runs too) with this command's ${grouped(plan.runs.length)} history run${plan.runs.length === 1 ? '' : 's'}; ` +
          'next time keep them with --out <another folder>, or run `marginlab stress`, which writes both';
        opts.onNotice?.(m);
        // kept in manifest.warnings as well: under --quiet (no notice on stderr) hours of results went without a word
        warnings.push(m);
      }
    } catch {
      /* not a manifest this command can read: replaced as before */
    }
  }
  // a Ctrl-C while the data loaded or the plan was built: stop before the folder is touched (a fresh
  // run would clear the previous results below, and the manifest would claim the folder for this plan)
  await signalsBeforeCommit();
  if (opts.signal?.aborted) throw new UserError(`interrupted before any run started: nothing in ${outDir} was changed`, ExitCode.INTERRUPTED);
  // the folder may have been deleted while the data loaded (that can take minutes): never made again
  const held = (...sub: string[]) => opts.out?.assertHeld(...sub);
  held();
  withFsErrors(outCtx(resultsDir, 'clear the old results in'), () => prepareResults(resultsDir, !opts.resume, opts.outSource ?? 'flag'));
  // the earlier run's report files go with its results: a fresh run stopped before its report (Ctrl-C, a kill, a full
  // disk) left a summary.json saying "complete" beside an empty results/ (only marginlab's own: a marker listed them)
  if (!opts.resume && opts.out) {
    const out = opts.out;
    withFsErrors(outCtx(outDir, 'clear the old report files in'), () => {
      // files only: a folder of such a name is not a report marginlab wrote (its report step then says it cannot write there)
      for (const e of RUN_REPORT_ENTRIES) {
        if (!out.previous.includes(e)) continue;
        const p = join(outDir, e);
        const st = lstatSync(p, { throwIfNoEntry: false });
        if (st && (st.isFile() || st.isSymbolicLink())) rmSync(p, { force: true });
      }
    });
    // and a comparison `compare` wrote into the folder: of results this run has just cleared
    out.dropOwnFiles(COMPARE_FILES);
  }
  withFsErrors(outCtx(resultsDir, 'create'), () => mkdirs(resultsDir));
  // --resume: a result counts as done only when it parses, its RunId re-derives from its spec, it is of this shard
  // and it holds the events the config keeps now (a Monte Carlo path run: its event log exactly when
  // stress.pathEvents asks for it; every other run: as many as maxEventsPerRun keeps);
  // damaged ones (0 bytes, cut short, edited) are named, removed and run again
  const existing = new Set<string>();
  /** sha256 of the result files written or validated here (SweepOutcome.checked) */
  const checked = new Map<string, string>();
  /** outcome of each result kept by --resume (read once, here) */
  const kept = new Map<string, Pick<RunResult, 'status' | 'error' | 'internal'>>();
  if (opts.resume) {
    // every file is judged first: a file of a result's name that is neither a run of this plan nor a
    // result marginlab wrote (it does not parse) is the user's: refused before anything is removed
    const planIds = new Set(plan.runs.map((r) => r.runId));
    const judged: { id: string; p: string; problem: string | null }[] = [];
    for (const id of listResultIds(resultsDir)) {
      const p = join(resultsDir, `${id}.json`);
      let problem: string | null = null;
      let parsed = false;
      try {
        const bytes = readFileSync(p);
        const r = parseRunResult(bytes.toString('utf8'), p, id);
        parsed = true;
        checked.set(id, sha256Hex(bytes));
        kept.set(id, { status: r.status, error: r.error, internal: r.internal } as Pick<RunResult, 'status' | 'error' | 'internal'>);
        const detail = keepsDetail(r.spec, pathEvents);
        if (hasOutput(r) && detail === outcomeOnly(r)) problem = `${p} was written with stress.pathEvents ${!pathEvents}, the config now says ${pathEvents}`;
        else {
          const cap = capMismatch(r, detail ? c.maxEventsPerRun : 0, detail ? `maxEventsPerRun ${String(c.maxEventsPerRun)}` : 'stress.pathEvents false');
          if (cap !== null) problem = `${p} ${cap}`;
        }
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      if (!parsed && !planIds.has(id)) {
        const source = opts.outSource ?? 'flag';
        throw new UserError(
          `--resume: ${p} is not a result marginlab wrote (${(problem ?? 'unreadable').replace(p, 'it').replace(/^it: /, '')}) and not a run of this plan: move it out of that folder (marginlab never deletes it); nothing was changed`,
          source === 'config' ? ExitCode.CONFIG : ExitCode.USAGE,
        );
      }
      // a result marginlab wrote of another plan or shard (copied in, or the folder's manifest is damaged
      // and said nothing of it): its compute is not thrown away by a --resume, which keeps results
      if (parsed && !shardIds.has(id)) {
        throw new UserError(
          `--resume: ${p} is a result of ${planIds.has(id) && opts.shard ? `this plan but not of shard ${opts.shard.index}/${opts.shard.count}` : 'another plan'}, ` +
            `not a run of this command${manifestDamaged ? ` (the folder's manifest.json is ${manifestDamaged} and cannot say which plan the folder holds)` : ''}: ` +
            `run without --resume to replace the folder's results, move it out of that folder, or choose another --out; nothing was changed`,
          ExitCode.USAGE,
        );
      }
      judged.push({ id, p, problem });
    }
    for (const { id, p, problem } of judged) {
      if (problem !== null) {
        opts.onWarning?.(`--resume: ${problem}; it is removed${shardIds.has(id) ? ' and the run done again' : ''}`);
        withFsErrors(outCtx(p, 'remove'), () => rmSync(p, { force: true }));
        kept.delete(id); // not done: an interrupted resume must not count it
        checked.delete(id);
      } else existing.add(id);
    }
  }

  /**
   * writes a file of the folder (the manifest, a result) into a folder that must still be this
   * command's: a folder (or results/) deleted meanwhile stops the sweep (70), never made again.
   * Results are checked at most every HELD_CHECK_MS (a stress sweep writes thousands a second);
   * between two checks a deleted folder still fails the write (its folder is never made), and the
   * manifest is always checked.
   */
  let checkedAt = -Infinity;
  const writeOwn = (file: string, action: string, text: string | Uint8Array, always = false) =>
    withFsErrors(outCtx(file, action), () => {
      const now = Date.now();
      if (always || now - checkedAt >= HELD_CHECK_MS) {
        held('results');
        checkedAt = now;
      }
      try {
        writeFileAtomic(file, text, { createDir: false });
      } catch (err) {
        held('results');
        throw err;
      }
    });
  const writeManifest = (m: RunManifest) => writeOwn(manifestPath, 'write', manifestText(m), true);
  // the commit the folder's results were made at: a --resume that keeps results of another commit (or of one no
  // manifest names) records none, and what it kept under `resumedFrom` (it recorded this command's HEAD for them all)
  const headCommit = gitCommit(loaded.baseDir);
  const mixed = existing.size > 0 && prevCommit !== headCommit;
  const base: Omit<RunManifest, 'runs' | 'wallClockMs' | 'createdAt'> = {
    schemaVersion: 1,
    name: c.name,
    marginlabVersion: marginlabVersion(),
    engineVersion: ENGINE_VERSION,
    gitCommit: mixed ? null : headCommit,
    ...(existing.size > 0 ? { resumedFrom: { runs: existing.size, ...(typeof prevCommit === 'string' ? { gitCommit: prevCommit } : {}) } } : {}),
    node: process.version,
    config: JSON.parse(JSON.stringify(c)) as unknown,
    datasets: c.data.map((d, i) => ({ name: datasets.plan[i]!.name, path: d.path, hashes: datasets.plan[i]!.hashes })),
    shard: opts.shard ? { index: opts.shard.index, count: opts.shard.count } : null,
    workers: poolSize(c, tasks).max,
    plan: { hash: plan.planHash, total: plan.runs.length, strategies: plan.strategies, strategyHashes, runIds: plan.runs.map((r) => r.runId) },
    ...(opts.shard ? { runIds: shardRuns.map((r) => r.runId).sort() } : {}),
    configHash: configHash(loaded),
    command: runCommandOf(loaded),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  // written before the first run: the folder says which plan it belongs to even when the run is killed
  writeManifest({ ...base, createdAt: new Date().toISOString(), runs: { total: shardRuns.length, ok: 0, errored: 0 }, wallClockMs: 0, inProgress: true });

  const todo = tasks
    .map((t) => {
      const runs = t.runs.filter((r) => !existing.has(r.runId));
      return { ...t, runs, setups: t.setups.filter((_, k) => !existing.has(t.runs[k]!.runId)), cost: (t.cost / t.runs.length) * runs.length };
    })
    .filter((t) => t.runs.length > 0)
    // longest first (fewer idle workers at the end), ties by TaskId
    .sort((a, b) => b.cost - a.cost || (a.taskId < b.taskId ? -1 : 1));
  const skipped = shardRuns.length - todo.reduce((n, t) => n + t.runs.length, 0);
  const barsOf = new Map(datasets.plan.map((d) => [d.key, d.bars]));
  const { max: workers, initial: initialWorkers } = poolSize(c, todo);
  opts.progress.start({
    totalRuns: shardRuns.length,
    skipped,
    pending: shardRuns.length - skipped,
    totalBars: todo.reduce((n, t) => n + (barsOf.get(t.datasetKey) ?? 0), 0),
    workers,
    initialWorkers,
    shard: opts.shard,
    ...(stressSummary ? { stress: stressSummary } : {}),
  });

  // status of each result written by this invocation (the tally below reads only older files)
  const writtenNow = new Map<string, Pick<RunResult, 'status' | 'error' | 'internal'>>();
  const tSweep = Date.now();
  const cpuSweep = process.cpuUsage();
  const exec = await executeTasks(todo, {
    datasets: datasets.data,
    strategyDirs,
    workers,
    initialWorkers,
    timeoutMs: c.timeoutMs,
    workerMemoryMb: c.workerMemoryMb,
    maxEvents: c.maxEventsPerRun,
    pathEvents,
    curvePoints: CURVE_POINTS,
    scenarios,
    pool: early.pool,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onResults: (results: SerializedResult[]) => {
      for (const r of results) {
        const file = join(resultsDir, `${r.runId}.json`);
        writeOwn(file, 'write the result', r.bytes);
        checked.set(r.runId, sha256Hex(r.bytes));
        writtenNow.set(r.runId, { status: r.status, error: r.error, internal: r.internal } as Pick<RunResult, 'status' | 'error' | 'internal'>);
        opts.progress.runDone({
          runId: r.runId, strategy: r.spec.strategy, params: paramsLabel(r.spec.params), setup: r.spec.setup, leverage: r.spec.leverage, status: r.status,
          ...(r.error ? { error: r.error } : {}),
          ...(r.spec.stress ? { stress: stressRunText(r.spec.stress) } : {}),
        });
      }
    },
    onBars: (b) => opts.progress.bars(b),
  });

  const sweepMs = Date.now() - tSweep;
  const cpu = process.cpuUsage(cpuSweep);
  const sweepCpuMs = Math.round((cpu.user + cpu.system) / 1000);
  // count what is on disk for this shard (results of earlier --resume passes included)
  let ok = 0;
  let errored = 0;
  const failures: SweepOutcome['failures'] = [];
  const onDisk = listResultIds(resultsDir);
  for (const r of shardRuns) {
    let res = writtenNow.get(r.runId) ?? kept.get(r.runId);
    if (!res) {
      if (!onDisk.has(r.runId)) continue;
      const p = join(resultsDir, `${r.runId}.json`);
      res = parseRunResult(withFsErrors({ path: p, action: 'read', role: 'data' }, () => readFileSync(p, 'utf8')), p, r.runId, RESULT_FIX);
    }
    if (res.status === 'ok') ok++;
    else {
      errored++;
      failures.push({
        runId: r.runId, strategy: r.spec.strategy, params: paramsLabel(r.spec.params), setup: r.spec.setup, leverage: r.spec.leverage,
        ...(r.spec.stress ? { stress: stressRunText(r.spec.stress) } : {}),
        error: res.error ?? 'errored', internal: res.internal === true,
      });
    }
  }
  const manifest: RunManifest = {
    ...base,
    createdAt: new Date().toISOString(),
    runs: { total: shardRuns.length, ok, errored },
    // the worker threads that ran passes (with workers 'auto', as many as the work called for)
    workers: Math.max(1, exec.workersUsed),
    wallClockMs: Date.now() - t0,
    timings: { loadMs: tLoaded - t0, planMs: tPlanned - tLoaded, sweepMs, sweepCpuMs, poolMessages: exec.messages },
    ...(exec.interrupted ? { interrupted: true } : {}),
  };
  writeManifest(manifest);
  opts.progress.finish({ ok, errored, skipped, interrupted: exec.interrupted, wallClockMs: manifest.wallClockMs, outDir: resolve(outDir) });
  return { outDir, plan, total: shardRuns.length, ok, errored, skipped, interrupted: exec.interrupted, failures, manifest, checked };
}

/**
 * The identity of a strategy file's code (16 hex of a sha256) for --resume and merge: line endings
 * and a byte-order mark are not code, so a CRLF checkout (git autocrlf on Windows) and an LF one of
 * the same file agree.
 */
export function strategyCodeHash(text: string): string {
  return sha256Hex(text.replace(/^\uFEFF/, '').replace(/\r\n?/g, '\n')).slice(0, 16);
}
