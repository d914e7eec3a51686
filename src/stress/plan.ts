/**
 * Planning stress runs: the config's `stress` block resolved (scenarios by id from the crash pack
 * or defined inline), and the stress variants every history run is repeated under (scenario ×
 * injection time, Monte Carlo path index with its crashes). All choices are made here, in the
 * main thread, from the seed and the dataset's timeline, and written into the RunSpecs: the
 * workers only replay them. Reference: docs/stress.md.
 */
import { statfsSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { totalmem } from 'node:os';
import { configError, ExitCode, UserError } from '../errors.js';
import { fmtSpan, fmtStep } from '../feed/timeframe.js';
import { grouped } from '../util/excerpt.js';
import { HEAP_PER_FILE_BYTE, heapBudget, reportHeap } from '../report/heap.js';
import { processMemoryBytes } from '../util/memory.js';
import { defaultBlockBars } from './bootstrap.js';
import { Rng } from '../util/rng.js';
import { CRASH_PACK } from './pack.js';
import { compileShock, factorAt, factorBefore, scenarioHash, scenarioMovesNone, shockKeyFor, shockStart, type Scenario } from './scenario.js';
import { barOf, type RunStressSpec } from './types.js';
import { didYouMean } from '../util/nearest.js';

/** The config's `stress` block, resolved (plain JSON, part of the frozen ResolvedConfig). */
export interface ResolvedStress {
  /** the scenarios replayed at every injection time (definitions, pack defaults applied) */
  scenarios: Scenario[];
  /** injection times: explicit dates (ms UTC), every N bars, K seeded random times */
  inject: { at: number[]; every: number | null; random: number };
  /** Monte Carlo paths per configuration */
  paths: number;
  /** mean block length of the bootstrap, bars (null: one day of bars, see defaultBlockBars) */
  blockBars: number | null;
  /** crashes spliced into each path at seeded random times */
  crashesPerPath: number;
  /** scenarios the path crashes are drawn from (definitions) */
  crashScenarios: Scenario[];
  seed: number;
  /** reports only: probability of a liquidation or a wipe-out under which a leverage counts as surviving (src/report/stress.ts) */
  survivalThreshold: number;
  /** path runs keep their events, liquidation-price steps and price curves (false: their results hold no per-event detail) */
  pathEvents: boolean;
}

/** What the schema hands over (config/schema.ts `stress`). */
export interface StressInput {
  scenarios?: (string | Scenario)[] | undefined;
  inject: { at?: number[] | undefined; every?: number | undefined; random?: number | undefined };
  paths: number;
  blockBars?: number | undefined;
  crashesPerPath: number;
  crashScenarios?: string[] | undefined;
  seed: number;
  survivalThreshold?: number | undefined;
  pathEvents?: boolean | undefined;
}

export const PACK_IDS: readonly string[] = CRASH_PACK.map((s) => s.id);

/** The problem of crashes per path with no scenario to draw them from. */
export const CRASHES_WITHOUT_SCENARIOS = 'stress.crashesPerPath: no scenario to draw crashes from (stress.crashScenarios or stress.scenarios is empty)';

/** Most Monte Carlo paths per configuration (`stress.paths`, `--paths`). */
export const MAX_PATHS = 1_000_000;

/** "unknown scenario 'x'" with the id meant (ids are case-sensitive) or the nearest, and the ids known */
export function unknownScenarioText(id: string, knownIds: readonly string[]): string {
  // ids are case-sensitive: name the one a different case meant, else the nearest one
  const near = knownIds.find((k) => k.toLowerCase() === id.toLowerCase());
  return `unknown scenario '${id}'${near ? ` (ids are case-sensitive: '${near}')` : didYouMean(id, knownIds)} (known: ${knownIds.join(', ')}; define custom ones in stress.scenarios)`;
}

/** Resolve the block; problems come back as `stress.<key>: ...` lines. */
export function resolveStress(
  input: StressInput,
  /** ids of scenarios the config defines that `input.scenarios` does not hold (--scenarios picked others): named in an unknown id's message */
  alsoKnown: readonly string[] = [],
  /**
   * those definitions (parsed, checked by the config): not run as scenarios, but `crashScenarios` draws from them
   * as without the flag
   */
  alsoDefined: readonly Scenario[] = [],
): { stress: ResolvedStress | null; problems: string[] } {
  const problems: string[] = [];
  const defined = new Map<string, Scenario>(CRASH_PACK.map((s) => [s.id, s]));
  const inline = new Set<string>();
  (input.scenarios ?? []).forEach((s, i) => {
    if (typeof s === 'string') return;
    if (inline.has(s.id)) problems.push(`stress.scenarios[${i}].id: duplicate scenario id '${s.id}'`);
    // a definition under a pack id replaced the pack's scenario without a word, and the reports cite
    // the pack's history (date, sources) by that id
    else if (PACK_IDS.includes(s.id)) problems.push(`stress.scenarios[${i}].id: '${s.id}' is the id of a crash-pack scenario (marginlab stress --list); give your scenario an id of its own (name '${s.id}' as a string to run the pack's)`);
    inline.add(s.id);
    defined.set(s.id, s);
  });
  const knownIds = () => [...new Set([...defined.keys(), ...alsoKnown])];
  const pick = (ids: readonly (string | Scenario)[], key: string, from: ReadonlyMap<string, Scenario> = defined): Scenario[] => {
    const out: Scenario[] = [];
    const seen = new Set<string>();
    ids.forEach((x, i) => {
      const id = typeof x === 'string' ? x : x.id;
      const s = from.get(id);
      if (!s) {
        problems.push(`${key}[${i}]: ${unknownScenarioText(id, knownIds())}`);
      }
      else if (!seen.has(id)) {
        seen.add(id);
        out.push(s);
      }
    });
    return out;
  };
  const before = problems.length;
  const scenarios = pick(input.scenarios ?? PACK_IDS, 'stress.scenarios');
  const drawable = new Map(defined);
  for (const s of alsoDefined) if (!drawable.has(s.id)) drawable.set(s.id, s);
  const crashScenarios = input.crashScenarios ? pick(input.crashScenarios, 'stress.crashScenarios', drawable) : scenarios;
  // (a list left empty by its unknown ids: those are the problem, not also "no scenario"; no paths
  // draw no crashes: `--paths 0 --scenarios none`, history only, is a plan)
  if (input.crashesPerPath > 0 && input.paths > 0 && crashScenarios.length === 0 && problems.length === before) problems.push(CRASHES_WITHOUT_SCENARIOS);
  const inject = { at: [...(input.inject.at ?? [])], every: input.inject.every ?? null, random: input.inject.random ?? (input.inject.at || input.inject.every ? 0 : 3) };
  if (problems.length > 0) return { stress: null, problems };
  return {
    stress: { scenarios, inject, paths: input.paths, blockBars: input.blockBars ?? null, crashesPerPath: input.crashesPerPath, crashScenarios, seed: input.seed, survivalThreshold: input.survivalThreshold ?? 0.05, pathEvents: input.pathEvents ?? false },
    problems,
  };
}

/** What stress variants need of a dataset. */
export interface StressTimeline {
  name: string;
  time: ArrayLike<number>;
  timeframeMs: number;
  /** the dataset's symbols: a scenario's shock starts at its earliest leg over the shocks that reach them (default: every shock) */
  symbols?: readonly string[];
}

/** Stream ids of the seeded choices (distinct from path indexes' streams). */
const STREAM_INJECT = 0x40000000;
const STREAM_CRASHES = 0x20000000;

/** The bars random choices fall on: [n/4, 9n/10) of the window (at least one bar), so strategies have warmed up and the shock has bars after it. */
function randomRange(n: number): [number, number] {
  const a = Math.floor(n / 4);
  return [a, Math.max(a + 1, Math.floor((9 * n) / 10))];
}

/** Crashes per path as planned for datasets of these bar counts: stress.crashesPerPath, at most the bars the longest window has to start them at (crashBars). */
export function plannedCrashesPerPath(stress: Pick<ResolvedStress, 'crashesPerPath'>, bars: readonly number[]): number {
  return Math.min(stress.crashesPerPath, Math.max(0, ...bars.map(crashBars)));
}

/** How many distinct bars a path's crashes can start at (randomBar's range): a path of n bars carries at most that many. */
function crashBars(n: number): number {
  const [a, b] = randomRange(n);
  return Math.min(n, b) - a;
}

/** Random bar in the middle of the window (randomRange). */
function randomBar(rng: Rng, n: number): number {
  const [a, b] = randomRange(n);
  return Math.min(n - 1, a + rng.int(b - a));
}

/** Injection times (ms UTC, sorted, distinct) of scenario runs on a dataset. */
export function injectionTimes(stress: ResolvedStress, ds: StressTimeline): number[] {
  const n = ds.time.length;
  if (n === 0) return [];
  const first = ds.time[0]!;
  const end = ds.time[n - 1]! + ds.timeframeMs;
  const out = new Set<number>();
  stress.inject.at.forEach((t, i) => {
    if (t < first || t >= end) {
      throw new UserError(
        `stress.inject.at[${i}]: ${new Date(t).toISOString()} is outside dataset ${ds.name} (${new Date(first).toISOString()} – ${new Date(end).toISOString()}); pick a date inside the replayed window`,
        ExitCode.CONFIG,
        [],
        'injectOutsideWindow',
      );
    }
    out.add(t);
  });
  if (stress.inject.every !== null) for (let i = stress.inject.every; i < n; i += stress.inject.every) out.add(ds.time[i]!);
  // K random times more, stratified: the range is cut into K equal strata and each gets one time, drawn from the middle
  // half of its stratum (4 bars or more wide; else the whole stratum), so two times are at least half a stratum apart.
  // K uniform draws over the whole range fell close together: seed 1, the default, put bars 709, 969 and 970 of the
  // bundled data's 1,458 (two crashes an hour apart: nearly the same runs, counted as two pieces of evidence), and 142
  // of 1,000 seeds put two of three within a day. A draw that falls on a time already chosen (inject.at,
  // inject.every) is drawn again in its stratum, and from any free bar of the range when its stratum has none, so
  // `random: K` is K scenario runs; every free bar of the range when it holds fewer than K
  const [a, b0] = randomRange(n);
  const b = Math.min(b0, n);
  // the bars already holding a time: an inject.at time inside a bar (15:30 of an hourly bar) takes the bar, so no draw
  // lands on its open (two shocks in one bar: nearly the same runs, counted twice)
  const takenBar = new Set<number>();
  for (const t of out) {
    const k = barOf(ds.time, t, ds.timeframeMs);
    if (k < n) takenBar.add(k);
  }
  const taken = (i: number) => takenBar.has(i);
  let free = 0;
  for (let i = a; i < b; i++) if (!taken(i)) free++;
  const rng = new Rng(stress.seed, STREAM_INJECT);
  const k = stress.inject.random;
  if (k >= free) {
    for (let i = a; i < b; i++) if (!taken(i)) out.add(ds.time[i]!);
  } else {
    for (let j = 0; j < k; j++) {
      const lo = a + Math.floor((j * (b - a)) / k);
      const hi = a + Math.floor(((j + 1) * (b - a)) / k);
      const w = hi - lo;
      const inLo = w >= 4 ? lo + Math.floor(w / 4) : lo;
      const inHi = w >= 4 ? hi - Math.floor(w / 4) : hi;
      const pick = (from: number, to: number): boolean => {
        let left = 0;
        for (let i = from; i < to; i++) if (!taken(i)) left++;
        if (left === 0) return false;
        // the r-th free bar of [from, to): one draw, whatever the taken bars
        let r = rng.int(left);
        for (let i = from; i < to; i++) {
          if (taken(i)) continue;
          if (r-- === 0) {
            out.add(ds.time[i]!);
            takenBar.add(i);
            return true;
          }
        }
        return false;
      };
      if (!pick(inLo, inHi) && !pick(lo, hi)) pick(a, b);
    }
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Offset (ms after the injection time) at which a scenario first moves a price of `symbols` (default: of
 * any symbol): its earliest leg over the shocks that reach them — a key naming one of them, and the
 * market shock when one of them is named by no key. A leg of a symbol the dataset lacks moves nothing there.
 */
export function shockStartOffset(sc: Pick<Scenario, 'symbols' | 'market'>, symbols?: readonly string[]): number {
  let first = Number.POSITIVE_INFINITY;
  for (const shock of reachingShocks(sc, symbols)) first = Math.min(first, shockStart(compileShock(shock)));
  return first === Number.POSITIVE_INFINITY ? 0 : first;
}

/** The shocks of `sc` that move some of `symbols` (a key naming one; the market shock for one no key names); every shock without `symbols`. */
function reachingShocks(sc: Pick<Scenario, 'symbols' | 'market'>, symbols?: readonly string[]): Scenario['symbols'][string][] {
  if (symbols === undefined) return [...Object.values(sc.symbols), ...(sc.market ? [sc.market] : [])];
  const shocks: Scenario['symbols'][string][] = [];
  for (const s of symbols) {
    const key = shockKeyFor(sc, s);
    const shock = key !== null ? sc.symbols[key] : sc.market;
    if (shock && !shocks.includes(shock)) shocks.push(shock);
  }
  return shocks;
}

/** Offset (ms after the injection time) at which the scenario's farthest move from the pre-shock level is reached, over the shocks that reach `symbols` (the latest of theirs). */
export function shockPeakOffset(sc: Pick<Scenario, 'symbols' | 'market'>, symbols?: readonly string[]): number {
  let peak = 0;
  for (const shock of reachingShocks(sc, symbols)) {
    const c = compileShock(shock);
    let k = 0;
    for (let j = 1; j < c.f.length; j++) if (Math.abs(c.f[j]! - 1) > Math.abs(c.f[k]! - 1)) k = j;
    peak = Math.max(peak, c.t[k]!);
  }
  return peak;
}

/**
 * The injection times of `ds` at which `sc` would start moving prices at or after the end of the
 * window (last bar's open + one bar): a run there would replay the data unchanged and read as
 * surviving the crash, so it is not planned (lateShockWarnings says so).
 */
function lateTimes(sc: Scenario, times: readonly number[], ds: StressTimeline): Set<number> {
  const n = ds.time.length;
  const late = new Set<number>();
  if (n === 0) return late;
  const end = ds.time[n - 1]! + ds.timeframeMs;
  const off = shockStartOffset(sc, ds.symbols);
  for (const t of times) if (t + off >= end) late.add(t);
  return late;
}

/**
 * Why a scenario run injected at `injectAt` would test nothing for a run trading `symbols` on `ds`: its
 * shock moves none of them ('none'), or starts moving them at or after the end of the window ('late').
 * Such a run would replay the run's data unchanged and count as surviving the crash: the plan leaves it
 * out (lateShockWarnings and strategyScenarioWarnings say so). null when the run tests the scenario.
 */
export function scenarioMiss(sc: Scenario, injectAt: number, symbols: readonly string[], ds: StressTimeline): 'none' | 'late' | null {
  if (scenarioMovesNone(sc, symbols)) return 'none';
  const n = ds.time.length;
  if (n === 0) return null;
  return injectAt + shockStartOffset(sc, symbols) >= ds.time[n - 1]! + ds.timeframeMs ? 'late' : null;
}

/**
 * Warnings for the scenario runs the plan leaves out for the symbols of what it trades on `ds`
 * (`traded`: each strategy and the symbols of its runs), beyond those said for the whole dataset
 * (a scenario moving none of its symbols, lateShockWarnings).
 */
export function strategyScenarioWarnings(stress: ResolvedStress, ds: StressTimeline & { symbols: readonly string[] }, traded: readonly { strategy: string; symbols: readonly string[] }[]): string[] {
  const out: string[] = [];
  // path crashes: drawn from the crash scenarios that move the run's symbols; with none, its paths carry no crash
  if (stress.paths > 0 && stress.crashesPerPath > 0 && stress.crashScenarios.length > 0) {
    for (const g of traded) {
      if (pathCrashPool(stress, g.symbols).length > 0) continue;
      out.push(
        `stress.crashScenarios: none of ${stress.crashScenarios.map((sc) => `'${sc.id}'`).join(', ')} moves the symbols of strategy '${g.strategy}' (${g.symbols.join(', ')}) on dataset ${ds.name}: its Monte Carlo paths carry no crash (plain bootstrap paths); add a scenario that moves them to stress.crashScenarios`,
      );
    }
  }
  const times = stress.scenarios.length > 0 ? injectionTimes(stress, ds) : [];
  if (times.length === 0) return out;
  for (const sc of stress.scenarios) {
    if (scenarioMovesNone(sc, ds.symbols)) continue; // said for the dataset
    const dsLate = times.filter((t) => scenarioMiss(sc, t, ds.symbols, ds) !== null).length;
    for (const g of traded) {
      const what = `strategy '${g.strategy}' (${g.symbols.join(', ')})`;
      if (scenarioMovesNone(sc, g.symbols)) {
        out.push(`stress scenario '${sc.id}' moves none of the symbols of ${what} on dataset ${ds.name} (it moves ${[...Object.keys(sc.symbols)].join(', ') || 'none'}): those runs are not planned (they would replay the data unchanged and count as surviving the crash)`);
        continue;
      }
      const late = times.filter((t) => scenarioMiss(sc, t, g.symbols, ds) !== null);
      if (late.length > dsLate) {
        out.push(
          `stress scenario '${sc.id}' starts moving the symbols of ${what} ${fmtSpan(shockStartOffset(sc, g.symbols))} after the injection time, at or after the end of dataset ${ds.name} at ${late.length} of its ${times.length} injection times (the first ${new Date(late[0]!).toISOString()}): those runs are not planned (they would replay the data unchanged and count as surviving the crash); lower its legs' 'at', or inject earlier (stress.inject.at)`,
        );
      }
    }
  }
  return out;
}

/**
 * The crash scenarios a path run trading `symbols` draws its crashes from: those that move at least
 * one of them (a crash that moves none would leave the path as it is and count as a crash survived).
 * All of them when `symbols` is not given. In id order (code units), whatever the order the config or
 * --scenarios listed them in: the pool is a set, and a path's draws index into it, so the same set and
 * seed give the same crashes (in the listed order, `--scenarios b,a` gave every path other crashes than `a,b`).
 */
export function pathCrashPool(stress: Pick<ResolvedStress, 'crashScenarios'>, symbols?: readonly string[]): Scenario[] {
  const pool = symbols === undefined ? [...stress.crashScenarios] : stress.crashScenarios.filter((sc) => !scenarioMovesNone(sc, symbols));
  return pool.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Every stress variant of a run on `ds`, in a fixed order (scenarios × times, then paths). A path's
 * crashes are drawn from pathCrashPool(stress, symbols): with no scenario there, its paths carry none.
 */
export function stressVariants(stress: ResolvedStress, ds: StressTimeline, symbols?: readonly string[]): RunStressSpec[] {
  const out: RunStressSpec[] = [];
  const times = stress.scenarios.length > 0 ? injectionTimes(stress, ds) : [];
  for (const sc of stress.scenarios) {
    const h = scenarioHash(sc);
    const late = lateTimes(sc, times, ds);
    for (const t of times) if (!late.has(t)) out.push({ kind: 'scenario', scenario: sc.id, injectAt: t, scenarioHash: h });
  }
  const n = ds.time.length;
  const blockBars = stress.blockBars ?? defaultBlockBars(n, ds.timeframeMs);
  const pool = pathCrashPool(stress, symbols);
  for (let p = 0; p < stress.paths; p++) {
    const spec: RunStressSpec = { kind: 'path', seed: stress.seed, pathIndex: p, blockBars };
    if (stress.crashesPerPath > 0 && n > 0 && pool.length > 0) {
      const rng = new Rng(stress.seed, STREAM_CRASHES + p);
      const crashes = [];
      // one crash per bar: two drawn onto one bar stacked their moves there (100 crashes of −95 % on a 40-bar window fell
      // on 26 bars and took BTC to 5e-126); a bar already taken is drawn again, and a path carries at most as many
      // crashes as the range has bars (crashesWarning says so)
      const taken = new Set<number>();
      const count = plannedCrashesPerPath(stress, [n]);
      for (let c = 0; c < count; c++) {
        const sc = pool[rng.int(pool.length)]!;
        let bar = randomBar(rng, n);
        while (taken.has(bar)) bar = randomBar(rng, n);
        taken.add(bar);
        crashes.push({ scenario: sc.id, injectAt: ds.time[bar]!, scenarioHash: scenarioHash(sc) });
      }
      crashes.sort((a, b) => a.injectAt - b.injectAt || (a.scenario < b.scenario ? -1 : 1));
      spec.crashes = crashes;
    }
    out.push(spec);
  }
  return out;
}

/**
 * A warning when a dataset is too short for the paths to differ: a path keeps bar 0 and draws
 * bars 1 … n − 1, so with fewer than 3 bars every path is the data itself (and its P(liquidation)
 * over N paths counts one replay N times); or when a given stress.blockBars is at or above the bar
 * count, which makes most paths rotations of the data. null otherwise.
 */
export function pathsWarning(stress: ResolvedStress, ds: Pick<StressTimeline, 'name' | 'time'>): string | null {
  const n = ds.time.length;
  if (stress.paths === 0) return null;
  if (n >= 3) {
    // a block as long as the window: a path starts (n − 2) ÷ blockBars new blocks on average, so most paths are the data rotated
    const b = stress.blockBars;
    if (b === null || b < n) return null;
    return `stress: stress.blockBars ${b} is at or above the ${n} bars of dataset ${ds.name}: a path starts a new block about ${((n - 2) / b).toFixed(2)} times on average, so most of its paths are the data rotated (one rotation in about ${Math.round(100 * Math.exp(-(n - 2) / b))} %), not resampled history; use a block length well below ${n} bars (leave stress.blockBars out for one day of bars, at most a quarter of the window)`;
  }
  return `stress: dataset ${ds.name} has ${n} bar${n === 1 ? '' : 's'}: every Monte Carlo path is the data itself (a path keeps bar 0 and resamples bars 1 … n − 1), so its ${stress.paths} paths per configuration are one replay counted ${stress.paths} times; use a longer window or stress.paths: 0`;
}

/**
 * A warning when stress.crashesPerPath is above the bars a path's crashes can start at (one crash per bar, in bars
 * ⌊n/4⌋ to ⌊9n/10⌋ − 1 of the window): each path then carries that many crashes. null otherwise.
 */
export function crashesWarning(stress: ResolvedStress, ds: Pick<StressTimeline, 'name' | 'time'>): string | null {
  const n = ds.time.length;
  if (stress.paths === 0 || stress.crashesPerPath === 0 || n === 0) return null;
  const k = crashBars(n);
  if (stress.crashesPerPath <= k) return null;
  const a = randomRange(n)[0];
  return `stress: stress.crashesPerPath ${stress.crashesPerPath} is above the ${k} bar${k === 1 ? '' : 's'} of dataset ${ds.name} a path's crashes can start at (one crash per bar, in its bars ${a} to ${a + k - 1}): each path carries ${k} crash${k === 1 ? '' : 'es'}; use a longer window or fewer crashes per path`;
}

/** Share of a dataset's bars a symbol may lack before its paths are warned about (pathCoverageWarning). */
const PATH_COVERAGE_MIN = 0.99;

/**
 * A warning when symbols of a dataset lack bars (listed late, delisted early, long gaps): a path takes
 * every symbol's bar from the same base bar, so such a symbol has no bar on every path bar drawn from
 * outside its span, scattered over the whole path (a symbol listed halfway through is missing on
 * about half the path bars, also before its listing), and a position in it is held at its last price
 * there. null when every symbol has at least 99 % of the bars (or no paths are planned).
 */
export function pathCoverageWarning(stress: ResolvedStress, ds: { name: string; symbols: readonly string[]; columns: readonly { present: ArrayLike<number> }[] }): string | null {
  if (stress.paths === 0) return null;
  const short: string[] = [];
  ds.columns.forEach((c, s) => {
    const n = c.present.length;
    let k = 0;
    for (let i = 0; i < n; i++) if (c.present[i]) k++;
    if (n > 0 && k < PATH_COVERAGE_MIN * n) short.push(`${ds.symbols[s]} (${k} of ${n})`);
  });
  if (short.length === 0) return null;
  return `stress: dataset ${ds.name}: ${short.join(', ')} ${short.length === 1 ? 'has' : 'have'} bars on part of the window only: a Monte Carlo path takes every symbol's bar from the same base bar, so on the path bars drawn from outside a symbol's bars it has none (scattered over the whole path, also before its first bar), and a position in it is held at its last price there, its paths understating its risk; choose a window where every symbol trades (--from/--to) or set stress.paths: 0`;
}

/**
 * A warning when the scenarios get no injection time on a dataset (`inject.every` not below its
 * bar count, or `inject.random: 0`, and no `inject.at`): its scenario runs would silently be none.
 * null otherwise.
 */
export function injectionWarning(stress: ResolvedStress, ds: StressTimeline): string | null {
  const k = stress.scenarios.length;
  if (k === 0) return null;
  const times = injectionTimes(stress, ds);
  const n = ds.time.length;
  if (times.length > 0) {
    // fewer free bars than `random: K` asks for: every one of them is taken (5000 became 948 without a word)
    const fixed = new Set(stress.inject.at);
    if (stress.inject.every !== null) for (let i = stress.inject.every; i < n; i += stress.inject.every) fixed.add(ds.time[i]!);
    const drawn = times.length - fixed.size;
    const want = stress.inject.random;
    if (drawn >= want) return null;
    const [a, b] = randomRange(n);
    return `stress.inject.random (${grouped(want)}): dataset ${ds.name} has ${grouped(drawn)} free bar${drawn === 1 ? '' : 's'} where random times fall (bars ${a} to ${Math.min(b, n) - 1} of its ${grouped(n)}, less those of stress.inject.at and stress.inject.every), so its scenarios run at ${grouped(drawn)} random time${drawn === 1 ? '' : 's'}; lower stress.inject.random to silence this`;
  }
  const [why, fix] =
    stress.inject.every !== null
      ? [`stress.inject.every (${stress.inject.every}) is not below its ${n} bar${n === 1 ? '' : 's'}, and stress.inject.random is 0 with no stress.inject.at`, 'lower stress.inject.every, add stress.inject.random or stress.inject.at']
      : ['stress.inject.random is 0, with no stress.inject.at or stress.inject.every', 'set stress.inject.random, stress.inject.at or stress.inject.every'];
  return `stress: dataset ${ds.name} gets no injection time (${why}): its ${k} scenario${k === 1 ? '' : 's'} run${k === 1 ? 's' : ''} nowhere; ${fix}, or --scenarios none`;
}

/**
 * A warning per scenario whose shock would start at or after the end of a dataset at some of its
 * injection times (a leg's `at` beyond what is left of the window): those runs are not planned (a
 * replay of unchanged data, counted as surviving the crash, made its odds look better).
 */
export function lateShockWarnings(stress: ResolvedStress, ds: StressTimeline): string[] {
  const times = stress.scenarios.length > 0 ? injectionTimes(stress, ds) : [];
  const n = ds.time.length;
  if (times.length === 0 || n === 0) return [];
  const end = ds.time[n - 1]! + ds.timeframeMs;
  const out: string[] = [];
  for (const sc of stress.scenarios) {
    const late = lateTimes(sc, times, ds);
    // a shock that starts inside the window but reaches its deepest point after its end: planned, only part of it replayed
    const peak = shockPeakOffset(sc, ds.symbols);
    const cut = times.filter((t) => !late.has(t) && t + peak >= end);
    if (cut.length > 0) {
      out.push(
        `stress scenario '${sc.id}': its shock reaches its farthest move ${fmtSpan(peak)} after the injection time, after the end of dataset ${ds.name} (${new Date(end).toISOString()}) at ${cut.length} of its ${times.length} injection time${times.length === 1 ? '' : 's'} (the first ${new Date(cut[0]!).toISOString()}): only the part of its move before the end is replayed there, and those runs read as a milder crash; inject earlier (stress.inject.at), or shorten its legs`,
      );
    }
    if (late.size === 0) continue;
    const first = [...late].sort((a, b) => a - b)[0]!;
    const which = late.size === times.length ? `at every one of its ${times.length} injection time${times.length === 1 ? '' : 's'}: it runs nowhere there` : `at ${late.size} of its ${times.length} injection times (the first ${new Date(first).toISOString()}): those are not run`;
    out.push(
      `stress scenario '${sc.id}': its shock starts ${fmtSpan(shockStartOffset(sc, ds.symbols))} after the injection time, at or after the end of dataset ${ds.name} (${new Date(end).toISOString()}), ${which} (a run there would replay the data unchanged and count as surviving the crash); lower its legs' 'at', or inject earlier (stress.inject.at)`,
    );
  }
  return out;
}

/**
 * A warning per crash scenario of the Monte Carlo paths whose shock would start at or after the end of a dataset from
 * some of the bars a path's crash can start at (bars ⌊n/4⌋ … of the window, randomBar): a crash drawn there moves
 * nothing, and its path reads as surviving it (the paths' odds were said to be "with 1 crash each"), as
 * lateShockWarnings says of scenario runs.
 */
export function pathCrashLateWarnings(stress: ResolvedStress, ds: StressTimeline): string[] {
  const n = ds.time.length;
  if (stress.paths === 0 || stress.crashesPerPath === 0 || n === 0) return [];
  const end = ds.time[n - 1]! + ds.timeframeMs;
  const a = randomRange(n)[0];
  const k = crashBars(n);
  const out: string[] = [];
  for (const sc of stress.crashScenarios) {
    const off = shockStartOffset(sc, ds.symbols);
    let late = 0;
    for (let i = a; i < a + k; i++) if (ds.time[i]! + off >= end) late++;
    if (late === 0) continue;
    const which =
      late === k
        ? `from every one of the ${k} bar${k === 1 ? '' : 's'} a path's crash can start at (bars ${a} to ${a + k - 1}): its crashes are replayed in no path`
        : `from ${late} of the ${k} bars a path's crash can start at (bars ${a + k - late} to ${a + k - 1}): a crash drawn there is not replayed`;
    out.push(
      `stress scenario '${sc.id}': drawn into the Monte Carlo paths, its shock starts ${fmtSpan(off)} after the crash's start, at or after the end of dataset ${ds.name} (${new Date(end).toISOString()}), ${which} (such a path replays the data without it and counts as surviving the crash); lower its legs' 'at', or leave it out of stress.crashScenarios`,
    );
  }
  return out;
}

/** Every scenario definition a run may need in a worker, by id. */
export function scenarioTable(stress: ResolvedStress | null): Record<string, Scenario> {
  const out: Record<string, Scenario> = {};
  for (const s of [...(stress?.scenarios ?? []), ...(stress?.crashScenarios ?? [])]) out[s.id] = s;
  return out;
}

/** Counts for the plan summary printed before the runs start. */
export interface StressPlanSummary {
  scenarios: number;
  injectionTimes: number;
  paths: number;
  crashesPerPath: number;
  blockBars: number | null;
  seed: number;
  historyRuns: number;
  scenarioRuns: number;
  pathRuns: number;
}

export function describeStressPlan(s: StressPlanSummary): string {
  return (
    `stress: ${s.scenarios === 0 ? 'no scenario' : `${grouped(s.scenarios)} scenario${s.scenarios === 1 ? '' : 's'} × ${grouped(s.injectionTimes)} injection time${s.injectionTimes === 1 ? '' : 's'}`}` +
    ` and ${s.paths === 0 ? 'no' : grouped(s.paths)} Monte Carlo path${s.paths === 1 ? '' : 's'}${s.crashesPerPath > 0 ? ` (${s.crashesPerPath} crash${s.crashesPerPath === 1 ? '' : 'es'} each)` : ''}` +
    `${s.paths > 0 && s.blockBars !== null ? `, mean block ${grouped(s.blockBars)} bars` : ''}, seed ${s.seed}: ` +
    `${grouped(s.historyRuns)} history + ${grouped(s.scenarioRuns)} scenario + ${grouped(s.pathRuns)} path runs` +
    // 621 where 51 × 5 × 3 = 765 read as a miscount: a scenario moving none of a strategy's symbols is not planned for it
    (s.scenarioRuns < s.historyRuns * s.scenarios * s.injectionTimes ? ' (a scenario that moves none of a strategy\'s symbols is not planned for it)' : '')
  );
}

/**
 * Bytes of one result file (≈, averages measured on the bundled config's `marginlab stress`):
 * a history run (2000 curve points, every event), a scenario run (200 curve points, every event),
 * a Monte Carlo path run (200 curve points, no event log; with stress.pathEvents, a scenario run's size).
 */
export const RESULT_BYTES = { history: 170_000, scenario: 85_000, path: 11_000 } as const;
/** Runs above which a plan is refused whatever the machine. */
export const MAX_RUNS = 2_000_000;

/** Runs of a plan (or of one shard of it) by kind. */
export interface RunCounts {
  history: number;
  scenario: number;
  path: number;
}

/**
 * Refuse (exit 78) a plan the machine cannot hold: more than MAX_RUNS runs in the plan (every
 * shard plans them all), or result files of the runs this machine writes (`here`: the shard's,
 * else the whole plan's) larger than the free disk space of the output folder, or more than the
 * memory the report step needs to read them back (≈ 4 × their size must stay under half the memory
 * this process may use — a container's limit, else the machine's —, and the heap they and the
 * rendering take under this process's: report/heap.ts).
 */
export function checkPlanSize(
  runs: RunCounts,
  pathEvents: boolean,
  outDir: string,
  source: string,
  here?: { runs: RunCounts; shard: { index: number; count: number } },
  /** heap the report step may take (bytes); default what this process has (report/heap.ts heapBudget) */
  budget: number = heapBudget(),
  /** `runs` are the runs certain to be made, counted before the plan is built (scenario runs may add to them) */
  atLeast = false,
): void {
  const stress = runs.scenario + runs.path;
  const total = runs.history + stress;
  const mine = here?.runs ?? runs;
  const bytes = mine.history * RESULT_BYTES.history + mine.scenario * RESULT_BYTES.scenario + mine.path * (pathEvents ? RESULT_BYTES.scenario : RESULT_BYTES.path);
  const mb = (b: number) => `${grouped(Math.ceil(b / 1e6))} MB`;
  const lines: string[] = [];
  if (total > MAX_RUNS) lines.push(`${grouped(total)} runs is above the limit of ${grouped(MAX_RUNS)}`);
  const whose = here ? `shard ${here.shard.index}/${here.shard.count}'s results (${grouped(mine.history + mine.scenario + mine.path)} runs)` : 'its results';
  let dir = outDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  try {
    const st = statfsSync(dir);
    const free = Number(st.bavail) * Number(st.bsize);
    if (bytes > free) lines.push(`${whose} need about ${mb(bytes)} on disk; ${dir} has ${mb(free)} free`);
  } catch {
    // no statfs (unusual file system): the disk check is skipped
  }
  // the memory this process may use: a container's or a Slurm job's limit, else the machine's
  const mem = processMemoryBytes();
  if (bytes * 4 > mem / 2) lines.push(`reading ${whose} back for the report needs about ${mb(bytes * 4)} of memory; ${mem < totalmem() ? 'this process may use' : 'the machine has'} ${mb(mem)}`);
  // the report runs in this process: what it holds must fit its heap too, which Node caps well below
  // the memory of a large machine (≈ 4 GB); a path run without its event log is read without its curves
  const whole = mine.history * RESULT_BYTES.history + (mine.scenario + (pathEvents ? mine.path : 0)) * RESULT_BYTES.scenario;
  const heap = reportHeap(whole * HEAP_PER_FILE_BYTE.whole + (pathEvents ? 0 : mine.path * RESULT_BYTES.path * HEAP_PER_FILE_BYTE.withoutCurves));
  const heapShort = heap > budget;
  if (heapShort) lines.push(`reading ${whose} back for the report needs about ${mb(heap)} of heap; this process has ${mb(budget)}`);
  if (lines.length > 0) {
    throw configError(
      `${source}: the plan is too large for this machine (${grouped(runs.history)} history + ${atLeast ? 'at least ' : ''}${grouped(stress)} stress runs): ${lines.join('; ')}`,
      [
        `lower stress.paths (--paths), the scenarios (--scenarios) or stress.inject, or split the plan with --shard i/N over several machines${
          heapShort ? " (merged, the whole plan's report must fit one process), or give Node more heap (NODE_OPTIONS=--max-old-space-size=<MB>, below the machine's memory)" : ''
        }`,
      ],
    );
  }
}

/** Offsets (ms after the shock start) at which a scenario's price jumps (a 'gap' leg, a 'slide' of duration 0), sorted. */
export function jumpOffsets(sc: Pick<Scenario, 'symbols' | 'market'>): number[] {
  const out = new Set<number>();
  for (const shock of [...Object.values(sc.symbols), ...(sc.market ? [sc.market] : [])]) {
    const c = compileShock(shock);
    for (const x of new Set(c.t)) if (factorBefore(c, x) !== factorAt(c, x)) out.add(x);
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * A warning per scenario whose price jump falls inside a bar of a dataset at one of its injection
 * times (or, drawn into Monte Carlo paths, whose jump is not a whole number of bars after its
 * start, a bar open): a bar cannot show a jump inside it, so the splice moves the price there along
 * the bar's intrabar path, and a position is liquidated at its liquidation price, not past it (no
 * gap, no insurance draw). Said, since the scenario reads as a gap (docs/stress.md, The splice).
 */
export function midBarJumpWarnings(stress: ResolvedStress, ds: StressTimeline): string[] {
  const n = ds.time.length;
  if (n === 0 || !(ds.timeframeMs > 0)) return [];
  const first = ds.time[0]!;
  const end = ds.time[n - 1]! + ds.timeframeMs;
  const onBar = (t: number) => (((t - first) % ds.timeframeMs) + ds.timeframeMs) % ds.timeframeMs === 0;
  const times = stress.scenarios.length > 0 ? injectionTimes(stress, ds) : [];
  const bar = fmtStep(ds.timeframeMs);
  const out: string[] = [];
  const said = new Set<string>();
  const say = (sc: Scenario, where: string) => {
    if (said.has(sc.id)) return;
    said.add(sc.id);
    out.push(
      `stress scenario '${sc.id}': its price jump (a 'gap' leg, or a 'slide' of duration 0) ${where} falls inside a ${bar} bar of dataset ${ds.name}: a bar cannot show a jump inside it, so there the price moves from the old level to the new one along the bar's intrabar path, and a position is liquidated at its liquidation price, not past it (no gap, no insurance draw); put the jump on a bar open (inject.at on a bar open, a leg's 'at' a whole number of ${bar} bars) to book it as a gap`,
    );
  };
  for (const sc of stress.scenarios) {
    const offs = jumpOffsets(sc);
    for (const t of times) {
      // a jump at or after the window's end is not replayed (no bar shows it): nothing to say (an 'at' of 1e300 ms, past
      // the dates a Date can hold, stopped the run with an internal error: "Invalid time value")
      const off = offs.find((x) => t + x < end && !onBar(t + x));
      if (off !== undefined) {
        say(sc, `at ${new Date(t + off).toISOString()}`);
        break;
      }
    }
  }
  if (stress.paths > 0 && stress.crashesPerPath > 0) {
    // path crashes start at bar opens, the earliest at bar ⌊n/4⌋ (randomRange): a jump at or after the end from
    // there is replayed in no path (it was said to fall inside a bar, '1e+300 ms after its start')
    const earliest = ds.time[randomRange(n)[0]]!;
    for (const sc of stress.crashScenarios) {
      const off = jumpOffsets(sc).find((x) => earliest + x < end && x % ds.timeframeMs !== 0);
      if (off !== undefined) say(sc, `${fmtSpan(off)} after its start, in the Monte Carlo paths,`);
    }
  }
  return out;
}
