/**
 * CONTRACT: stress runs (src/stress, issue 10). Shared by the run layer (src/shard: RunSpec,
 * RunResult), the stress engine (src/stress: scenarios, overlays, Monte Carlo paths) and the
 * reports (src/analysis, src/report: aggregation of stress runs).
 *
 * A stress run is an ordinary run (same strategy × params × venue × leverage × setup, same
 * engine) whose market data is not the dataset itself but a view of it:
 *  - kind 'scenario': the dataset with one scenario (a crash) spliced in at `injectAt`;
 *  - kind 'path': a Monte Carlo path, a stationary block bootstrap of the dataset's joint bar
 *    returns (seed, pathIndex, mean block length `blockBars`), optionally with crashes spliced in.
 * The view is generated inside the worker that replays it; nothing is stored per path.
 *
 * History runs (the dataset as it is) have no `stress` field, in RunSpec and in RunResult.
 */

import type { RunEventRecord } from '../shard/result-schema.js';
import { timeframeMsOrNaN } from '../feed/timeframe.js';

/** One crash spliced into a run: which scenario, and when its shock starts (ms UTC). */
export interface StressInjection {
  /** scenario id (built-in crash pack or a custom scenario of the config's `stress.scenarios`) */
  scenario: string;
  /** ms UTC of the shock start */
  injectAt: number;
}

/**
 * RunSpec.stress: part of the canonical RunSpec, hence of the RunId (and of the TaskId: all
 * setups of one stress view share one replay pass).
 *
 * `scenarioHash` (scenario kind) / `crashes[].scenarioHash` are not in the first contract draft:
 * they are the first 12 hex digits of the sha256 of the scenario's resolved definition, so that a
 * custom scenario edited under the same id changes the RunId (and the plan: --resume into the old
 * folder is refused, naming the scenario defined anew; a fresh run replays it). Readers
 * may ignore them.
 */
export type RunStressSpec =
  | { kind: 'scenario'; scenario: string; injectAt: number; scenarioHash?: string }
  | {
      kind: 'path';
      /** the stress seed (config `stress.seed` or `--seed`) */
      seed: number;
      /** 0-based index of the path under this seed */
      pathIndex: number;
      /** mean block length of the stationary bootstrap, in bars (geometric block lengths) */
      blockBars: number;
      /** crashes spliced into the path, in time order (absent: a plain bootstrap path) */
      crashes?: (StressInjection & { scenarioHash?: string })[];
    };

/** Which stress run a spec is, for a line naming it ('path 22', 'crash-2025-10-10 at 2025-07-01T09:00:00.000Z'); '' for a history run. */
export function stressRunText(stress: RunStressSpec | undefined): string {
  if (stress === undefined) return '';
  return stress.kind === 'path' ? `path ${stress.pathIndex}` : `${stress.scenario} at ${new Date(stress.injectAt).toISOString()}`;
}

/**
 * RunResult.stress: present exactly when RunSpec.stress is. A RunResult is already one margin
 * setup of one run (RunResult.spec.setup), so these per-setup figures sit next to the setup's
 * other figures: `RunResult.metrics` (return, max drawdown, liquidation count and loss, ... from
 * the metrics registry), `RunResult.curves` (equity / drawdown / margin-ratio curves) and
 * `RunResult.events` (liquidations first). Aggregation over paths groups stress results by
 * `RunResult.spec` without `stress` (strategy, params, venue, leverage, setup, dataset, ...) and
 * splits them by `stress.kind` (and `stress.scenario` for the scenario table).
 */
export interface RunStressResult {
  /** echo of RunSpec.stress */
  kind: 'scenario' | 'path';
  /** scenario id (kind 'scenario') */
  scenario?: string;
  /** shock start, ms UTC (kind 'scenario') */
  injectAt?: number;
  /** path index and seed (kind 'path') */
  pathIndex?: number;
  seed?: number;
  /** crashes spliced into the path (kind 'path', when any) */
  crashes?: StressInjection[];

  /** no liquidation at all during the run (a scenario run: before the shock too, see liquidatedByShock) */
  survived: boolean;
  /** equity below 5 % of the initial capital at some bar close (WIPEOUT_FRACTION), anywhere in the run */
  wipedOut: boolean;
  /**
   * Scenario runs only (absent on path runs, and in results written before it: readers use
   * `shockOutcome`, which then takes `injectAt`). A scenario run replays the whole window with the
   * crash spliced in, so what happened before the shock is not the crash's doing. This is the line:
   * the open (ms UTC) of the bar the shock starts in, i.e. the injection time when that is a bar
   * open; from that bar on the bars are the shocked ones. A liquidation at or after it is one of
   * the shock's, one before it is not.
   */
  shockBarOpen?: number;
  /** scenario runs only: equity below 5 % of the initial capital at the close of a bar before the shock's bar */
  wipedOutBeforeShock?: boolean;
  /**
   * scenario runs only: the open (ms UTC) of the first bar from the shock's bar on whose close has
   * equity below 5 % of the initial capital, null when none; paired with the history run's
   * `RunResult.wipeOuts` (shockOutcome). Absent in results written before it (read unpaired).
   */
  wipedOutFromShockAt?: number | null;
  /**
   * ms from the shock start (scenario runs, msFromShock) or from the first bar's open (path runs) to
   * the first liquidation; null when none. For a scenario run a liquidation before the shock's bar
   * gives a negative value, one in or after it never does.
   */
  timeToLiquidationMs: number | null;
  /**
   * highest margin ratio (maintenance margin / margin balance of the worst pool, intrabar peak)
   * reached during the run; scenario runs: from the bar the shock starts in onwards. ≥ 1 means a
   * pool reached its liquidation point. 0 when never in a position.
   */
  peakMarginRatio: number;
  /**
   * decimal string: equity at the close of the last bar of the shock window minus equity at the
   * close of the bar before the shock starts (initial capital if the shock starts in the first
   * bar). Negative = loss. Scenario runs, and path runs with crashes (their first crash); null
   * for plain paths.
   */
  lossAtShock: string | null;
  /**
   * scenario runs: what the wallet lost to the liquidations at or after the open of the shock's bar
   * (the liquidationLoss metric over the shock's liquidations only), decimal string; absent for path
   * runs and in results written before it (their reports take the run's whole liquidationLoss)
   */
  liquidationLossByShock?: string;
  /** every position liquidated, in the order they went (a cross pool liquidation lists each of its symbols, same time) */
  firstLiquidated: { symbol: string; time: number }[];
  /**
   * equity at EQUITY_GRID_POINTS evenly spaced bars of the run (bar round(k × (bars − 1) /
   * (EQUITY_GRID_POINTS − 1)), k = 0..EQUITY_GRID_POINTS−1; all stress runs of one config share
   * these bars), for fan charts (quantile bands over paths at each point). Numbers rounded to 10
   * significant digits. Empty when the run replayed no bar.
   */
  equityGrid: number[];
  /** open times of the equityGrid bars, ms UTC */
  equityGridTime: number[];
}

/** Equity below this fraction of the initial capital = wiped out. */
export const WIPEOUT_FRACTION = 0.05;

/**
 * A stretch of bars whose close had equity below WIPEOUT_FRACTION of the initial capital: [the open
 * of its first bar, the open of the first bar after it back at or above (null: to the run's end)].
 */
export type WipeOutSpan = [number, number | null];
/** The most spans a result keeps (the last one kept then runs to the run's end). */
export const WIPE_OUT_SPANS = 64;

/** The wipe-out spans of a run's per-bar equity (bar open times `time`), in time order, at most WIPE_OUT_SPANS. */
export function wipeOutSpans(time: ArrayLike<number>, equity: ArrayLike<number>, initialCapital: number): WipeOutSpan[] {
  const floor = WIPEOUT_FRACTION * initialCapital;
  const out: WipeOutSpan[] = [];
  let open = false;
  for (let i = 0; i < time.length; i++) {
    const below = equity[i]! < floor;
    if (below && !open) {
      if (out.length === WIPE_OUT_SPANS) {
        out[out.length - 1]![1] = null;
        return out;
      }
      out.push([time[i]!, null]);
      open = true;
    } else if (!below && open) {
      out[out.length - 1]![1] = time[i]!;
      open = false;
    }
  }
  return out;
}

/** The open of the first bar at or after `line` (a bar open) inside a wipe-out span, null when none. */
export function firstWipeOutFrom(spans: readonly WipeOutSpan[], line: number): number | null {
  for (const [a, b] of spans) if (b === null || b > line) return Math.max(a, line);
  return null;
}
/** Points of RunStressResult.equityGrid. */
export const EQUITY_GRID_POINTS = 101;

/** What the shock did to a scenario run, apart from what happened before it (RunStressResult). */
export interface ShockOutcome {
  /** a liquidation before the shock's bar */
  liquidatedBeforeShock: boolean;
  /**
   * a liquidation at or after the open of the shock's bar (also when the run was liquidated before)
   * that the history run of the same configuration and setup does not have (HistoryOutcomes)
   */
  liquidatedByShock: boolean;
  /**
   * a liquidation at or after the shock's bar that the history run has too, same symbol in the same bar:
   * one the dataset's own later bars make whatever the crash did (weeks after it, say), not the shock's
   */
  liquidatedAsHistory: boolean;
  /** equity below 5 % at a bar close before the shock's bar */
  wipedOutBeforeShock: boolean;
  /**
   * equity below 5 % at a bar close from the shock's bar on, and not before, sooner than in the history
   * run of the same configuration and setup (when known: wipedOutAsHistory)
   */
  wipedOutByShock: boolean;
  /**
   * equity below 5 % from the shock's bar on, and not before, but no sooner than the history run's own
   * wipe-out from that bar on: the dataset's later bars wipe the account out whatever the crash did
   */
  wipedOutAsHistory: boolean;
  /** ms from the shock start to the first liquidation by the shock (msFromShock: never negative); null when none */
  timeToLiquidationMs: number | null;
}

/**
 * ms from a scenario run's shock start (`injectAt`) to a liquidation at `time`. A liquidation in the
 * shock's bar is the shock's (from `shockBarOpen` on), but the engine places it inside the bar by its
 * intrabar path, which knows nothing of when in the bar the shock began (the shocked bar's range is
 * the envelope of the base bar under the shock): a shock starting at 10:45 liquidated a position "at
 * 10:26", −18.6 min. Its time from the shock is then 0, never negative; a liquidation before the
 * shock's bar keeps its negative time.
 */
export function msFromShock(st: Pick<RunStressResult, 'injectAt' | 'shockBarOpen'>, time: number): number {
  const start = st.injectAt ?? time;
  const line = st.shockBarOpen ?? start;
  return time >= line ? Math.max(0, time - start) : time - start;
}

/**
 * RunStressResult.timeToLiquidationMs as every reader shows it: a scenario run's first liquidation
 * timed by msFromShock, also in a result written before it (whose stored time of a liquidation in the
 * shock's bar is negative); a path run's as stored.
 */
export function timeToLiquidation(st: RunStressResult): number | null {
  return st.kind === 'scenario' && st.injectAt !== undefined && st.firstLiquidated.length > 0 ? msFromShock(st, st.firstLiquidated[0]!.time) : st.timeToLiquidationMs;
}

/** a scenario run's line between its history and the shock: the open of the shock's bar (the injection time in a result written before shockBarOpen existed); NaN for a path run */
export const shockLine = (st: Pick<RunStressResult, 'shockBarOpen' | 'injectAt'>): number => st.shockBarOpen ?? st.injectAt ?? Number.NaN;

/**
 * What a history run (the dataset as it is) did that a scenario run of it may do too: the times its
 * positions were liquidated, by symbol, with its bar length (a scenario run's liquidation in the same bar of
 * the same symbol is the history's: the engine places a liquidation inside its bar by bisection, and a wallet
 * a few units apart after the crash moves it by milliseconds); and its wipe-out spans (RunResult.wipeOuts).
 * null when they are not all known (its events were cut, or it errored).
 */
export type HistoryOutcomes = { liquidated: ReadonlyMap<string, readonly number[]>; barMs: number; wipeOuts: readonly WipeOutSpan[] } | null;

/**
 * True when the history run liquidated `symbol` in the bar holding `time`: bars of a length dividing a day
 * open at its multiples from 00:00 UTC (the exchanges' grid); a longer bar (3d, 1w) counts within one bar
 * length of it; an unknown length, at the same ms.
 */
export function liquidatedInHistory(history: NonNullable<HistoryOutcomes>, time: number, symbol: string): boolean {
  const times = history.liquidated.get(symbol);
  if (!times) return false;
  const bar = history.barMs;
  const grid = bar > 0 && 86_400_000 % bar === 0;
  for (const t of times) {
    if (t === time) return true;
    if (!(bar > 0)) continue;
    if (grid ? Math.floor(t / bar) === Math.floor(time / bar) : Math.abs(t - time) < bar) return true;
  }
  return false;
}

/** The HistoryOutcomes of a history run's result. */
export function historyOutcomes(r: { spec: { timeframe?: string }; status: string; events: readonly RunEventRecord[]; eventsCap?: unknown; wipeOuts?: readonly WipeOutSpan[] }): HistoryOutcomes {
  if (r.status !== 'ok' || r.eventsCap !== undefined) return null;
  const liquidated = new Map<string, number[]>();
  for (const e of r.events) {
    if (e.type !== 'liquidation') continue;
    for (const l of e.legs) {
      const list = liquidated.get(l.symbol);
      if (list) list.push(e.time);
      else liquidated.set(l.symbol, [e.time]);
    }
  }
  const barMs = r.spec.timeframe === undefined ? Number.NaN : timeframeMsOrNaN(r.spec.timeframe);
  // a result without wipeOuts was never wiped out (or was written before them: its scenario runs then have no wipedOutFromShockAt either)
  return { liquidated, barMs, wipeOuts: r.wipeOuts ?? [] };
}

/**
 * The shock outcome of a scenario run's figures; null for a path run. `history`: the liquidations of
 * the history run of the same configuration and setup (the dataset without the crash) — a
 * liquidation after the shock's line that it has too, same symbol in the same bar, is not the shock's (the
 * run goes on to the end of the data, and the calm history's own liquidation weeks after the crash
 * is in it); null when unknown (no such run read, or its events cut): every liquidation after the
 * line counts as the shock's. A wipe-out from the line on is paired the same way: when the history
 * run's own wipe-out from the line on (its `wipeOuts`) comes no later than this run's
 * (`wipedOutFromShockAt`), it is not the shock's (wipedOutAsHistory). A result written before
 * `shockBarOpen` / `wipedOutBeforeShock` existed takes the injection time as the line (the same for
 * a shock starting at a bar open, as every `inject.every` / `inject.random` time does); its wipe-out
 * cannot be placed and counts as the shock's (the reading of those files), as does one written
 * before `wipedOutFromShockAt`.
 */
export function shockOutcome(st: RunStressResult, history: HistoryOutcomes = null): ShockOutcome | null {
  if (st.kind !== 'scenario' || st.injectAt === undefined) return null;
  const line = shockLine(st);
  const inHistory = (x: { symbol: string; time: number }) => history !== null && liquidatedInHistory(history, x.time, x.symbol);
  const by = st.firstLiquidated.find((x) => x.time >= line && !inHistory(x));
  const wipedOutBeforeShock = st.wipedOutBeforeShock ?? false;
  const wipedFromLine = st.wipedOut && !wipedOutBeforeShock;
  // the history's own wipe-out from the line on came no later than this run's: not the shock's
  const own = st.wipedOutFromShockAt;
  const historyAt = history !== null && own !== undefined && own !== null ? firstWipeOutFrom(history.wipeOuts, line) : null;
  const asHistory = wipedFromLine && historyAt !== null && historyAt <= own!;
  return {
    liquidatedBeforeShock: st.firstLiquidated.some((x) => x.time < line),
    liquidatedByShock: by !== undefined,
    liquidatedAsHistory: st.firstLiquidated.some((x) => x.time >= line && inHistory(x)),
    wipedOutBeforeShock,
    wipedOutByShock: wipedFromLine && !asHistory,
    wipedOutAsHistory: asHistory,
    timeToLiquidationMs: by === undefined ? null : msFromShock(st, by.time),
  };
}

/**
 * For each run, the HistoryOutcomes of its history run (same configuration by `identity`,
 * same setup) among `runs`; null when there is none, and for a run whose own events were cut
 * (`maxEventsPerRun`): its liquidations' losses cannot be told apart, so it is read unpaired, its
 * flags and its loss alike.
 */
export function historyIndex<R extends { spec: { setup: string; timeframe?: string; stress?: unknown }; status: string; events: readonly RunEventRecord[]; eventsCap?: unknown }>(
  runs: readonly R[],
  identity: (spec: R['spec']) => string,
): (r: R) => HistoryOutcomes {
  const byKey = new Map<string, HistoryOutcomes>();
  for (const r of runs) if (!r.spec.stress) byKey.set(`${identity(r.spec)}\u0000${r.spec.setup}`, historyOutcomes(r));
  return (r) => (r.eventsCap !== undefined ? null : (byKey.get(`${identity(r.spec)}\u0000${r.spec.setup}`) ?? null));
}

/** First bar index whose open time is ≥ t, or whose bar contains t (time.length when none). */
export function barOf(time: ArrayLike<number>, t: number, timeframeMs: number): number {
  let lo = 0;
  let hi = time.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (time[mid]! + timeframeMs <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
