/**
 * RunPlan = strategies × params grid × venue × margin setups × leverage (× datasets).
 * Every run gets a RunSpec and a RunId (stable hash of the canonical spec, data hashes and engine
 * version included). Runs are sorted by RunId. Runs that differ only in their setup form one
 * task: a single replay pass runs all of them (each setup keeps its own RunResult and RunId).
 */
import { nowRunning } from '../util/time-limit.js';
import { ExitCode, UserError, configError, usageError } from '../errors.js';
import type { SetupSpec } from '../engine/types.js';
import type { StrategyModule } from '../strategy/types.js';
import type { GridRange, ResolvedConfig, ResolvedStrategyEntry, SetupId } from '../config/index.js';
import { formatIssues, sizeIssueCovered } from '../config/index.js';
import { heapBudget } from '../report/heap.js';
import { canonicalJson, runIdOf, sha256Hex, taskIdOf } from './hash.js';
import type { RunSpec } from './types.js';
import type { RunStressSpec } from '../stress/types.js';
import { MAX_RUNS, scenarioMiss, stressVariants, type RunCounts } from '../stress/plan.js';
import { SETUP_IDS, setupRank, setupSpec } from '../engine/setups.js';
import { shownValue, thrownText, grouped } from '../util/excerpt.js';
import { didYouMean } from '../util/nearest.js';
import { PLAIN_PARAMS, failingDefaults, paramPath, paramsDataProblem } from '../strategy/params.js';

export { setupSpec };

/** What the plan needs to know of a loaded dataset (MarketData without its columns). */
export interface PlanDataset {
  /** key of the dataset in the pool's worker data */
  key: string;
  name: string;
  timeframe: string;
  symbols: string[];
  bars: number;
  hashes: Record<string, string>;
  /** bar open times and bar length (stress runs pick their injection times on them) */
  time?: ArrayLike<number>;
  timeframeMs?: number;
}

export interface StrategySource {
  load(name: string): Promise<StrategyModule>;
  /** every strategy name available (for strategies: 'all') */
  list(): Promise<string[]>;
}

export interface PlannedRun {
  runId: string;
  taskId: string;
  spec: RunSpec;
}

export interface PlanTask {
  taskId: string;
  datasetKey: string;
  /** runs of this pass, one per setup, in setup order isolated, cross, mixed */
  runs: PlannedRun[];
  setups: SetupSpec[];
  /** estimated cost: bars × setups × symbols */
  cost: number;
}

export interface RunPlan {
  /** every run, sorted by RunId */
  runs: PlannedRun[];
  /** every task, sorted by TaskId */
  tasks: PlanTask[];
  /** hash of the sorted RunIds: equal plans have equal hashes */
  planHash: string;
  /** strategy names in the plan, sorted */
  strategies: string[];
}


/** Values of a grid entry: a list as given, or an inclusive range (rounded to 12 significant digits). */
export function expandGridValue(v: unknown[] | GridRange): unknown[] {
  if (Array.isArray(v)) return v;
  const out: number[] = [];
  const n = Math.floor((v.to - v.from) / v.step + 1e-9);
  for (let k = 0; k <= n; k++) out.push(Number((v.from + k * v.step).toPrecision(12)));
  return out;
}

/** The default of the config key maxRuns: the largest plan a run accepts. */
export const DEFAULT_MAX_RUNS = 100_000;

/**
 * Heap one planned run takes while the plan is built and held (its RunSpec with its own copy of the
 * data hashes, RunId, TaskId; measured with `marginlab stress` on the bundled config: 2.7–3.1 kB per
 * path run, 3.6 kB with 3 crashes per path), rounded up. Every shard builds the whole plan.
 */
export const PLAN_HEAP_PER_RUN = 4_000;

const fmtCount = (n: number): string => (Number.isFinite(n) ? grouped(n) : 'an unbounded number of');

/** How many values a grid entry has, without building them. */
export function gridValueCount(v: unknown[] | GridRange): number {
  return Array.isArray(v) ? v.length : Math.floor((v.to - v.from) / v.step + 1e-9) + 1;
}

/** Cartesian product of a grid (keys in sorted order; values in given order). */
export function expandGrid(grid: Record<string, unknown[] | GridRange>): Record<string, unknown>[] {
  let points: Record<string, unknown>[] = [{}];
  for (const key of Object.keys(grid).sort()) {
    const values = expandGridValue(grid[key]!);
    const next: Record<string, unknown>[] = [];
    for (const p of points) for (const v of values) next.push({ ...p, [key]: v });
    points = next;
  }
  return points;
}

/**
 * The parameter names a strategy's params schema knows: the keys of its object schema (through
 * transforms, pipes, optional and default wrappers), or null when it cannot say (not an object
 * schema, or one that passes unknown keys through: a catchall). Duck-typed on zod's definitions,
 * so a strategy built with its own copy of zod is read the same way.
 */
export function paramKeys(schema: unknown): string[] | null {
  let s = schema as { def?: { type?: string; in?: unknown; innerType?: unknown; catchall?: unknown; shape?: Record<string, unknown> } } | undefined;
  for (let depth = 0; depth < 8 && s?.def; depth++) {
    const d = s.def;
    if (d.type === 'object') {
      const shape = (s as { shape?: Record<string, unknown> }).shape ?? d.shape;
      if (!shape || typeof shape !== 'object') return null;
      const c = d.catchall as { def?: { type?: string } } | undefined;
      if (c && c.def?.type !== 'never') return null; // loose / passthrough: any key is accepted
      return Object.keys(shape);
    }
    if (d.type === 'pipe') s = d.in as typeof s;
    else if (d.type === 'optional' || d.type === 'default' || d.type === 'prefault' || d.type === 'nullable' || d.type === 'readonly') s = d.innerType as typeof s;
    else return null;
  }
  return null;
}

/** Setups a strategy module asks for beyond the config's list (StrategyModule.setups, e.g. ['mixed']). */
function moduleSetups(mod: StrategyModule): SetupId[] {
  const asked: readonly unknown[] = Array.isArray(mod.setups) ? mod.setups : [];
  return asked.filter((s): s is SetupId => (SETUP_IDS as readonly unknown[]).includes(s));
}


/**
 * What is wrong with what a strategy's symbols(params) returned, or null: it must be an array of one
 * or more symbol names. A string was spread into its letters ('lists A twice'), and an empty list
 * planned runs that trade nothing.
 */
function symbolsProblem(listed: unknown): string | null {
  if (!Array.isArray(listed)) return `returned ${shownValue(listed)}, not a list of symbol names (e.g. ['BTCUSDT'])`;
  if (listed.length === 0) return "returned no symbol: a run trades at least one of the dataset's symbols (e.g. ['BTCUSDT'])";
  for (let k = 0; k < listed.length; k++) {
    const v: unknown = listed[k];
    if (typeof v !== 'string' || v === '') return `lists ${shownValue(v)} (index ${k}): every entry is a symbol name (a non-empty string)`;
  }
  return null;
}

/** `configFile` names the config in messages (omitted: "the config") */
export async function buildPlan(
  config: ResolvedConfig,
  datasets: PlanDataset[],
  source: StrategySource,
  engineVersion: string,
  configFile?: string,
  /** heap the plan may take (bytes); default what this process has (report/heap.ts heapBudget) */
  budget: number = heapBudget(),
  /** the names given with --strategies: one no strategy folder holds is the flag's problem (64 when it is the only kind) */
  flagStrategies?: readonly string[],
  /**
   * called with the runs certain to be made (history and paths; scenario runs 0) once they are counted, before the plan
   * is built: a check that throws there refuses the plan without building it. `exact`: no scenario run can add to them
   */
  precheck?: (certain: RunCounts, exact: boolean) => void,
): Promise<RunPlan> {
  const problems: string[] = [];
  /** the problems that are a name of --strategies no strategy folder holds */
  const flagProblems = new Set<string>();
  let entries: { entry: ResolvedStrategyEntry; path: string }[];
  if (config.strategies === 'all') {
    const names = [...(await source.list())].sort();
    if (names.length === 0) throw configError('strategies: "all" found no strategy files');
    entries = names.map((name) => ({ entry: { name, params: {}, grid: {}, setups: null, leverage: null }, path: `strategies(all:${name})` }));
  } else {
    // '*' stands for every strategy the list does not name (default params)
    const named = new Set(config.strategies.filter((e) => e.name !== '*').map((e) => e.name));
    const all = config.strategies.some((e) => e.name === '*') ? [...(await source.list())].sort() : [];
    entries = config.strategies.flatMap((entry, i) =>
      entry.name === '*'
        ? all.filter((n) => !named.has(n)).map((name) => ({ entry: { ...entry, name }, path: `strategies[${i}](*:${name})` }))
        : [{ entry, path: `strategies[${i}]` }],
    );
  }

  const byId = new Map<string, PlannedRun>();
  // stress variants (src/stress/plan.ts) of each dataset: every history run is repeated under each
  // a stress key the data refuses (an injection time outside the window) is the config's problem: said as its others are, naming the file
  const variants = (ds: PlanDataset, symbols?: readonly string[], stress = config.stress): RunStressSpec[] => {
    if (!stress) return [];
    try {
      return stressVariants(stress, { name: ds.name, time: ds.time ?? [], timeframeMs: ds.timeframeMs ?? 0, symbols: ds.symbols }, symbols);
    } catch (err) {
      if (!(err instanceof UserError) || err.exitCode !== ExitCode.CONFIG || configFile === undefined) throw err;
      throw configError(`${configFile}: invalid config (1 problem)`, [err.message, ...(err.details ?? [])]);
    }
  };
  // the scenario variants of each dataset are built at once (a few per injection time); the path variants only when the
  // plan is built, after its count passed the limits: a million paths drew a million crash sets before being refused (30 s)
  const scenarioCount = new Map<string, number>(datasets.map((ds) => [ds.key, config.stress ? variants(ds, undefined, { ...config.stress, paths: 0 }).length : 0]));
  const pathCount = config.stress?.paths ?? 0;
  const variantsOfMemo = new Map<string, (RunStressSpec | undefined)[]>();
  const variantsOf = (ds: PlanDataset): (RunStressSpec | undefined)[] => {
    let v = variantsOfMemo.get(ds.key);
    if (v === undefined) variantsOfMemo.set(ds.key, (v = [undefined, ...variants(ds)]));
    return v;
  };
  // a run's variants: its path crashes drawn from the crash scenarios that move its symbols (pathCrashPool),
  // the same for every run of those symbols on the dataset (the setups of a configuration pair path by path)
  const runVariants = new Map<string, (RunStressSpec | undefined)[]>();
  const variantsFor = (ds: PlanDataset, symbols: readonly string[]): (RunStressSpec | undefined)[] => {
    const all = variantsOf(ds);
    if (!config.stress || config.stress.paths === 0 || config.stress.crashesPerPath === 0) return all;
    const key = JSON.stringify([ds.key, symbols]);
    let v = runVariants.get(key);
    if (v === undefined) runVariants.set(key, (v = [undefined, ...variants(ds, symbols)]));
    return v;
  };
  const scenarioById = new Map((config.stress?.scenarios ?? []).map((sc) => [sc.id, sc]));
  const datasetKeyOf = new Map<string, string>();
  // count the plan before building it: a grid of 10^7 points is refused with the numbers, not built
  const mods: (StrategyModule | null)[] = [];
  /** the count before building: exact, but for the scenario runs, which go only to runs whose symbols a scenario moves */
  let count = 0;
  /** the same without the scenario runs: what the plan has at least */
  let countLow = 0;
  /** the history and path runs of the count: certain to be made (src/stress/plan.ts checkPlanSize weighs them before building) */
  const certain: RunCounts = { history: 0, scenario: 0, path: 0 };
  const parts: { n: number; line: string }[] = [];
  const variantsTotal = datasets.reduce((n, ds) => n + 1 + scenarioCount.get(ds.key)! + pathCount, 0);
  const scenarioVariants = datasets.reduce((n, ds) => n + scenarioCount.get(ds.key)!, 0);
  for (const { entry, path } of entries) {
    let mod: StrategyModule;
    try {
      nowRunning(`strategy '${entry.name}' (${path}): loading its module (its top-level code)`);
      mod = await source.load(entry.name);
    } catch (err) {
      // two strategy folders holding one name, a file name holding a control character: the folders' problem, said once,
      // whichever entry was being loaded
      const folders = err instanceof UserError && (err.reason === 'duplicateStrategy' || err.reason === 'strategyFileName');
      const line = folders ? `strategyDirs: ${err.message}` : `${path}.name: ${thrownText(err)}`;
      if (!problems.includes(line)) problems.push(line);
      if (err instanceof UserError && err.reason === 'unknownStrategy' && flagStrategies?.includes(entry.name)) flagProblems.add(line);
      mods.push(null);
      continue;
    }
    mods.push(mod);
    const nSetups = entry.setups ? new Set(entry.setups).size : new Set([...config.setups, ...moduleSetups(mod)]).size;
    const nLev = (entry.leverage ?? config.leverage).length;
    const points = Object.values(entry.grid).reduce((n, v) => n * gridValueCount(v), 1);
    const n = points * nLev * nSetups * variantsTotal;
    count += n;
    countLow += points * nLev * nSetups * (variantsTotal - scenarioVariants);
    certain.history += points * nLev * nSetups * datasets.length;
    certain.path += points * nLev * nSetups * pathCount * datasets.length;
    parts.push({
      n,
      line: `${path} (${entry.name}): ${fmtCount(points)} grid point${points === 1 ? '' : 's'} × ${nLev} leverage${nLev === 1 ? '' : 's'} × ${nSetups} setup${nSetups === 1 ? '' : 's'} × ${variantsTotal === datasets.length ? `${datasets.length} dataset${datasets.length === 1 ? '' : 's'}` : `${fmtCount(variantsTotal)} dataset variants (history and stress)`} = ${scenarioVariants > 0 ? 'at most ' : ''}${fmtCount(n)} runs`,
    });
  }
  // what makes a large plan smaller, leading with the stress keys when stress variants are in it
  const lower = `${variantsTotal > datasets.length ? 'lower stress.paths (--paths), the scenarios (--scenarios) or stress.inject, ' : ''}narrow the grids`;
  const maxRuns = config.maxRuns ?? DEFAULT_MAX_RUNS;
  const at = configFile === undefined ? '' : `${configFile}: `;
  const mb = (b: number) => `${grouped(Math.ceil(b / 1e6))} MB`;
  /**
   * how many runs the plan has, as far as it is known: exact when no scenario runs are in it; with them, the
   * count before building is a range (a scenario that moves none of a run's symbols makes no run) and a plan
   * stopped while building has more than the runs built
   */
  const said = (built?: string): string =>
    built !== undefined
      ? `${built} runs (at most ${fmtCount(count)})`
      : count === countLow
        ? `${fmtCount(count)} runs`
        : `${fmtCount(countLow)} to ${fmtCount(count)} runs (scenario runs only where a scenario moves the run's symbols)`;
  const tooMany = (built?: string) =>
    configError(
      `${at}the plan has ${said(built)}, above the limit of ${fmtCount(maxRuns)} (config key maxRuns, or --max-runs): ${lower}, or raise the limit (every run is one replay; time and memory grow with the count)`,
      parts.sort((a, b) => b.n - a.n).slice(0, 5).map((p) => p.line),
    );
  // a plan the heap cannot hold is refused with the numbers before it is built: 2,000,002 runs (under
  // maxRuns and MAX_RUNS) took the default 4 GB heap in 3 minutes and ended in V8's out-of-memory abort
  const tooBig = (runs: number, built?: string) =>
    configError(
      `${at}the plan has ${said(built)}: building it needs ${built === undefined && count === countLow ? 'about' : 'at least'} ${mb(runs * PLAN_HEAP_PER_RUN)} of heap; this process has ${mb(budget)}: ` +
        `${lower}, or give Node more heap (NODE_OPTIONS=--max-old-space-size=<MB>, below the machine's memory); --shard i/N does not help here (every shard builds the whole plan)`,
      parts.sort((a, b) => b.n - a.n).slice(0, 5).map((p) => p.line),
    );
  // refused before building when even the runs certain to be made are too many; a plan within reach is
  // built and held to the same limits by its exact count as it grows (a 10^7-point grid is never built)
  if (countLow > maxRuns) throw tooMany();
  if (countLow * PLAN_HEAP_PER_RUN > budget) throw tooBig(countLow);
  if (problems.length === 0) precheck?.(certain, scenarioVariants === 0);
  let entryIndex = -1;
  for (const { entry, path } of entries) {
    entryIndex++;
    const mod = mods[entryIndex];
    if (!mod) continue;
    const setups: SetupId[] = entry.setups
      ? [...new Set(entry.setups)]
      : [...new Set([...config.setups, ...moduleSetups(mod)])];
    setups.sort((a, b) => setupRank(a) - setupRank(b));
    const leverages = entry.leverage ?? config.leverage;
    // a misspelt parameter would otherwise be dropped by the schema and its grid points merge into the default
    const known = paramKeys(mod.params);
    /**
     * the parameters given under known names, when some other was misspelt: their values are still
     * checked (a misspelt key must not hide a bad value beside it), nothing else is (no runs are
     * planned, and a rule across keys such as fast < slow would judge the misspelt one's default)
     */
    let onlyGiven: Set<string> | null = null;
    let params = entry.params;
    let grid = entry.grid;
    if (known) {
      const unknown = [
        ...Object.keys(entry.params).filter((k) => !known.includes(k)).map((k) => `${path}.params.${k}`),
        ...Object.keys(entry.grid).filter((k) => !known.includes(k)).map((k) => `${path}.grid.${k}`),
      ];
      if (unknown.length > 0) {
        for (const key of unknown) {
          const given = key.slice(key.lastIndexOf('.') + 1);
          problems.push(`${key}: strategy '${entry.name}' has no parameter '${given}'${didYouMean(given, known)} (its parameters: ${known.join(', ') || 'none'}); check the spelling`);
        }
        const keep = <T>(o: Record<string, T>): Record<string, T> => Object.fromEntries(Object.entries(o).filter(([k]) => known.includes(k)));
        params = keep(entry.params);
        grid = keep(entry.grid);
        onlyGiven = new Set([...Object.keys(params), ...Object.keys(grid)]);
      }
    }
    // where a parameter's problem is named: the grid when it sweeps the key, else params
    const keyBase = (key: PropertyKey | undefined): string => (typeof key === 'string' && key in entry.grid ? `${path}.grid` : `${path}.params`);
    /**
     * a problem the grid points share, said once with the first point and a count of the others: a refinement's line
     * (fast must be < slow), which names no value, by its text; a swept key's value problem by the key and the issue,
     * counting the values refused (an integer key given { from: 0.5, to: 2000.5, step: 1 } said 'expected a whole
     * number, got 0.5', 'got 1.5', … in 2,001 lines); a value every point refuses alike is said as it is
     */
    // (a value's lines keep the place of its first point among the problems, `at`; a rule's follow them all)
    const refused = new Map<string, { lines: string[]; point: string; more: number; values: Set<string> | null; at: number }>();
    const refusedAt = (key: string, lines: string[], point: Record<string, unknown>, byValue: boolean): void => {
      const seen = refused.get(key);
      const text = lines.join('\n');
      if (seen === undefined) {
        refused.set(key, { lines, point: Object.entries(point).map(([k, v]) => `${k}=${shownValue(v)}`).join(', '), more: 0, values: byValue ? new Set([text]) : null, at: problems.length });
        if (byValue) problems.push(...lines);
      } else if (seen.values === null) seen.more++;
      else if (!seen.values.has(text)) {
        seen.values.add(text);
        seen.more++;
      }
    };
    /** a value problem of a given parameter, said once however many grid points carry it */
    const said = new Set<string>();
    for (const point of expandGrid(grid)) {
      const raw = { ...params, ...point };
      let parsed: ReturnType<typeof mod.params.safeParse>;
      try {
        nowRunning(`strategy '${entry.name}' (${path}): its params schema`);
        parsed = mod.params.safeParse(raw);
      } catch (err) {
        // the schema's own code (a default function, a refine, a transform) threw
        problems.push(`${path}.params: strategy '${entry.name}': its params schema threw: ${thrownText(err)}`);
        continue;
      }
      if (!parsed.success) {
        for (const issue of parsed.error.issues) {
          if (onlyGiven && (issue.code === 'custom' || typeof issue.path[0] !== 'string' || !onlyGiven.has(issue.path[0]))) continue;
          // (not zod's size check of a value of another type beside that type's issue, which says it)
          if (sizeIssueCovered(issue, parsed.error.issues)) continue;
          const lines = formatIssues([issue], keyBase(issue.path[0]), undefined, { value: raw });
          if (issue.code !== 'custom' && typeof issue.path[0] === 'string' && Object.hasOwn(point, issue.path[0])) {
            refusedAt(`${JSON.stringify(issue.path.map(String))}\u0000${issue.code}\u0000${issue.message}`, lines, point, true);
            continue;
          }
          if (onlyGiven) {
            for (const l of lines) {
              if (said.has(l)) continue;
              said.add(l);
              problems.push(l);
            }
            continue;
          }
          if (issue.code === 'custom' && Object.keys(point).length > 0) {
            for (const l of lines) refusedAt(l, [l], point, false);
            continue;
          }
          // a parameter the schema gives no default and the entry no value: say where a value goes
          const key = issue.path.length === 1 && typeof issue.path[0] === 'string' ? issue.path[0] : null;
          const noDefault = key !== null && !Object.hasOwn(raw, key);
          problems.push(...(noDefault ? lines.map((l) => (!l.includes(': required: ') ? l : `${l} (strategy '${entry.name}' has no default for '${key}': give it in the entry's params, e.g. { name: '${entry.name}', params: { ${key}: … } }, or add .default(…) to its schema)`)) : lines));
        }
        continue;
      }
      // a misspelt key beside: its values are checked, nothing more
      if (onlyGiven) continue;
      const badDefaults = failingDefaults(mod.params, raw, parsed.data as Record<string, unknown>);
      if (badDefaults.length > 0) {
        for (const line of formatIssues(badDefaults, `${path}.params`, undefined, { value: parsed.data })) {
          problems.push(`${line} (the default of strategy '${entry.name}', which its own schema refuses: fix the default, or give the parameter)`);
        }
        continue;
      }
      const notData = paramsDataProblem(parsed.data);
      if (notData !== null) {
        problems.push(
          `${keyBase(notData.at[0])}${paramPath(notData.at)}: strategy '${entry.name}' resolves this parameter to ${notData.what}; ${PLAIN_PARAMS}`,
        );
        continue;
      }
      const canonical = JSON.parse(canonicalJson(parsed.data)) as Record<string, unknown>;
      let symbols: string[];
      try {
        nowRunning(`strategy '${entry.name}' (${path}): symbols(params)`);
        const listed: unknown = mod.symbols(parsed.data);
        const bad = symbolsProblem(listed);
        if (bad !== null) {
          problems.push(`${path}: symbols(params) of strategy '${entry.name}' ${bad}`);
          continue;
        }
        symbols = [...(listed as string[])];
      } catch (err) {
        problems.push(`${path}: symbols(params) failed: ${thrownText(err)}`);
        continue;
      }
      // marginlab's own work on plain copies from here (the runs of this point): not under the strategy's time limit
      nowRunning(null);
      const twice = symbols.filter((s, k) => symbols.indexOf(s) !== k);
      if (twice.length > 0) {
        problems.push(`${path}: strategy '${entry.name}' lists ${[...new Set(twice)].join(', ')} twice in symbols(params); give each symbol once (check the params naming symbols)`);
        continue;
      }
      for (const ds of datasets) {
        const missing = symbols.filter((s) => !ds.symbols.includes(s));
        if (missing.length > 0) {
          problems.push(`${path}: strategy '${entry.name}' trades ${missing.map((m) => m + didYouMean(m, ds.symbols)).join(', ')}, not in dataset '${ds.name}' (has ${ds.symbols.join(', ')})`);
          continue;
        }
        for (const leverage of leverages) {
          for (const setup of setups) {
            const spec: RunSpec = {
              strategy: entry.name,
              params: canonical,
              venue: config.venue.id,
              ...(Object.keys(config.venue.overrides).length > 0 ? { venueOverrides: config.venue.overrides } : {}),
              setup,
              // the mode of a mixed account's orders that name none changes its results: part of its identity
              ...(setup === 'mixed' ? { mixedDefaultMode: config.mixedDefaultMode } : {}),
              leverage,
              dataset: ds.name,
              timeframe: ds.timeframe,
              symbols,
              from: config.from,
              to: config.to,
              initialCapital: config.initialCapital,
              execution: { ...config.execution },
              dataHashes: { ...ds.hashes },
              engineVersion,
            };
            for (const stress of variantsFor(ds, symbols)) {
              // a scenario that moves none of this run's symbols, or starts moving them after the window's end, tests
              // nothing: its run would replay the data unchanged and count as surviving the crash (the run warns)
              if (stress?.kind === 'scenario') {
                const sc = scenarioById.get(stress.scenario);
                if (sc && scenarioMiss(sc, stress.injectAt, symbols, { name: ds.name, time: ds.time ?? [], timeframeMs: ds.timeframeMs ?? 0 }) !== null) continue;
              }
              const clean = JSON.parse(canonicalJson(stress ? { ...spec, stress } : spec)) as RunSpec;
              const runId = runIdOf(clean);
              if (!byId.has(runId)) byId.set(runId, { runId, taskId: taskIdOf(clean), spec: clean });
              datasetKeyOf.set(runId, ds.key);
            }
            if (byId.size > maxRuns) throw tooMany(`more than ${fmtCount(maxRuns)}`);
            if (byId.size * PLAN_HEAP_PER_RUN > budget) throw tooBig(byId.size, `at least ${fmtCount(byId.size)}`);
            if (byId.size > MAX_RUNS) {
              const perConfig = 1 + scenarioCount.get(ds.key)! + pathCount;
              throw configError(
                `the plan is too large for this machine: more than ${grouped(MAX_RUNS)} runs (${grouped(perConfig)} per configuration: history + ${grouped(perConfig - 1)} stress variants)`,
                ['lower stress.paths (--paths), the scenarios (--scenarios) or stress.inject, or split the plan with --shard i/N over several machines'],
              );
            }
          }
        }
      }
    }
    for (const { lines, point, more, values, at } of refused.values()) {
      // a rule's count is of grid points, a value problem's of the key's other values refused alike (not of points)
      const others = values !== null ? `; ${grouped(more)} more value${more === 1 ? '' : 's'} of it refused alike` : ` and ${grouped(more)} more`;
      const shown = lines.map((line) => (values !== null && more === 0 ? line : `${line} (grid point ${point}${more > 0 ? others : ''})`));
      if (values === null) problems.push(...shown);
      else problems.splice(at, shown.length, ...shown);
    }
  }
  if (problems.length > 0) {
    const uniq = [...new Set(problems)];
    // only names of the flag are wrong: a usage error naming the flag (docs/config.md: 64 when only flags are wrong)
    if (flagStrategies !== undefined && uniq.every((l) => flagProblems.has(l))) {
      const flag = `--strategies ${flagStrategies.join(',')}`;
      const whats = uniq.map((l) => l.slice(l.indexOf('.name: ') + '.name: '.length));
      throw whats.length === 1 ? usageError(`${flag}: ${whats[0]}`) : usageError(`${flag}: ${whats.length} unknown strategies`, whats);
    }
    throw configError(`${configFile === undefined ? 'invalid strategies in the config' : `${configFile}: invalid strategies`} (${uniq.length} problem${uniq.length === 1 ? '' : 's'})`, uniq);
  }
  const runs = [...byId.values()].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  const tasksById = new Map<string, PlanTask>();
  const barsOf = new Map(datasets.map((d) => [d.key, d.bars]));
  for (const r of runs) {
    const dsKey = datasetKeyOf.get(r.runId)!;
    let t = tasksById.get(r.taskId);
    if (!t) {
      t = { taskId: r.taskId, datasetKey: dsKey, runs: [], setups: [], cost: 0 };
      tasksById.set(r.taskId, t);
    }
    t.runs.push(r);
  }
  for (const t of tasksById.values()) {
    t.runs.sort((a, b) => setupRank(a.spec.setup) - setupRank(b.spec.setup));
    t.setups = t.runs.map((r) => setupSpec(r.spec.setup, r.spec.mixedDefaultMode ?? config.mixedDefaultMode));
    t.cost = (barsOf.get(t.datasetKey) ?? 0) * t.runs.length * Math.max(1, t.runs[0]!.spec.symbols.length);
  }
  const tasks = [...tasksById.values()].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
  return {
    runs,
    tasks,
    planHash: sha256Hex(runs.map((r) => r.runId).join('\n')).slice(0, 16),
    strategies: [...new Set(runs.map((r) => r.spec.strategy))].sort(),
  };
}

export interface ShardSpec {
  /** 1-based */
  index: number;
  count: number;
}

/** Parse `i/N` (1 ≤ i ≤ N). Returns null when malformed. */
export function parseShard(s: string): ShardSpec | null {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  if (!m) return null;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (!Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) return null;
  return { index, count };
}

/** The i-th of N deterministic slices: tasks in TaskId order, dealt round-robin. */
export function shardTasks(tasks: readonly PlanTask[], shard: ShardSpec | null): PlanTask[] {
  if (!shard || shard.count === 1) return [...tasks];
  return tasks.filter((_, k) => k % shard.count === shard.index - 1);
}
