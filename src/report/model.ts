/**
 * The report model: runs grouped into comparable configurations (same strategy, params, venue,
 * leverage, data and execution; differing only by margin setup), one verdict per configuration,
 * a verdict per strategy, the leverage sweep, and failures. Pure and deterministic: the same
 * results in any order give the same model.
 */
import { canonicalJson, sha256Hex } from '../shard/hash.js';
import { expectedRunCount } from '../shard/schema.js';
import { outcomeOnly } from '../shard/records.js';
import type { RunManifest, RunResult, RunSpec } from '../shard/types.js';
import { DAY_MS, MIN_ANNUALISE_DAYS } from '../analysis/index.js';
import { DEFAULT_SURVIVAL_THRESHOLD, RETURN_TOL_PP, nearlyEqual } from '../analysis/stress.js';
import { buildStressModel, stressVerdictLine, type StressConfig, type StressModel } from './stress.js';
import { timeframeMsOrNaN } from '../feed/timeframe.js';
import { WIPEOUT_FRACTION, historyIndex, type HistoryOutcomes } from '../stress/types.js';
import { cmpParams, dataLabeller, fmtLeverage, fmtMetric, fmtNumber, heldPosition, identicalRuns, isoDate, paramsLabel, setupList, withTwins } from './format.js';
import { SETUP_IDS, setupRank, type SetupId } from '../engine/setups.js';
import { rankSetups } from './rank.js';

/** Recursively key-sorted copy, for pretty-printed JSON whose keys are in canonical order (the string form is shard/hash canonicalJson). */
export function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v as Record<string, unknown>).sort()) o[k] = canonical((v as Record<string, unknown>)[k]);
    return o;
  }
  return v;
}

const shortHash = (s: string): string => sha256Hex(s).slice(0, 12);

/** Identity of a configuration: the spec without its setup and stress view (and without engine/data hashes, which are equal within a folder). */
export function configIdentity(spec: RunSpec, withLeverage: boolean): string {
  return canonicalJson({
    strategy: spec.strategy,
    params: spec.params,
    venue: spec.venue,
    venueOverrides: spec.venueOverrides ?? null,
    leverage: withLeverage ? spec.leverage : null,
    dataset: spec.dataset,
    timeframe: spec.timeframe,
    symbols: spec.symbols,
    from: spec.from,
    to: spec.to,
    initialCapital: spec.initialCapital,
    execution: spec.execution,
  });
}

export interface Verdict {
  /** the setup that served the configuration best; null on a tie */
  winner: SetupId | null;
  /** one line with the numbers why (plain text) */
  line: string;
  /** true when no completed mode held a position (every order rejected): a tie that compared nothing */
  notCompared?: true;
  /**
   * setups whose run was identical to another's (every metric equal: mixed with every position in its default
   * cross mode repeats the cross run), each → the setup it repeated; compared as that setup, it wins or ties with it
   */
  identicalTo?: Partial<Record<SetupId, SetupId>>;
}

/** Whether `setup` served the configuration: the winner, or a setup whose run was identical to the winner's. */
export function servedBy(v: Verdict | null | undefined, setup: SetupId): boolean {
  return !!v?.winner && (v.winner === setup || v.identicalTo?.[setup] === v.winner);
}

/** The winner as a verdict names it, with the setups identical to it: 'cross (mixed identical)'; null on a tie. */
export function winnerLabel(v: Verdict | null | undefined): string | null {
  return v?.winner ? withTwins(v.winner, SETUP_IDS.filter((s) => s !== v.winner && servedBy(v, s))) : null;
}

export interface ConfigGroup {
  /** short stable id (hash of the configuration identity) */
  id: string;
  strategy: string;
  params: Record<string, unknown>;
  paramsLabel: string;
  venue: string;
  leverage: number;
  dataset: string;
  timeframe: string;
  /** `dataset timeframe` when the folder's configurations span more than one of them (config `data: [...]`), else '' */
  dataLabel: string;
  symbols: string[];
  initialCapital: string;
  /** runs of this configuration by setup (ok or errored) */
  runs: Partial<Record<SetupId, RunResult>>;
  verdict: Verdict | null;
  /** the stress runs of this configuration, aggregated (null without stress runs) */
  stress: StressConfig | null;
}

export interface StrategySection {
  strategy: string;
  configs: ConfigGroup[];
  /** headline verdict line for the strategy */
  verdict: Verdict | null;
}

export interface SweepRow {
  strategy: string;
  paramsLabel: string;
  venue: string;
  /** as ConfigGroup.dataLabel */
  dataLabel: string;
  /** the runs' dataset and timeframe (one each: both are part of the configuration) */
  dataset: string;
  timeframe: string;
  setup: SetupId;
  /** leverages run (ok runs), ascending */
  leverages: number[];
  /** leverages of `leverages` where no run held a position (every order rejected): not evidence of safety */
  untestedLeverages: number[];
  /** highest leverage with zero liquidations where a run held a position; null when there is none */
  maxSafeLeverage: number | null;
  /** lowest tested leverage with at least one liquidation; null when none was */
  minLiquidatedLeverage: number | null;
}

export interface ReportModel {
  name: string;
  manifest: RunManifest;
  /** every run, sorted by runId */
  runs: RunResult[];
  /** the history runs (no RunSpec.stress), sorted by runId: the comparison, verdicts and leverage sweep */
  history: RunResult[];
  /** stress runs aggregated (null when the folder has none) */
  stress: StressModel | null;
  configs: ConfigGroup[];
  strategies: StrategySection[];
  failures: RunResult[];
  counts: { total: number; ok: number; errored: number };
  /** runs the folder holds when complete (its plan, or its shard's slice of it) */
  planned: number;
  /** planned runs with no result (0 when complete) */
  missing: number;
  /** notes the reader must see (e.g. liquidation checks on trade prices) */
  notes: string[];
  /** the liquidations of a run's history run (same configuration and setup; stress/types.ts historyIndex): a crash-pack run's later liquidations that it has too are not the shock's */
  historyOf: (r: RunResult) => HistoryOutcomes;
}

const num = (r: RunResult, id: string): number | null => {
  const v = r.metrics[id];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** A run that ended with equity below WIPEOUT_FRACTION (5 %) of its initial capital: the account was lost. */
const endedWipedOut = (r: RunResult): boolean => (num(r, 'totalReturn') ?? 0) < -100 * (1 - WIPEOUT_FRACTION);

/** Tolerances under which two modes count as equal on a criterion (the return's: analysis/stress.ts). */
const DD_TOL_PP = 1;

/**
 * Order two ok runs of one configuration: negative when `a` served better.
 * 1. total return (higher), unless within 1 percentage point;
 * 2. liquidations (fewer), unless both ended wiped out (one cross liquidation takes the whole pool where
 *    isolated counts one per position: cross's wipe-out read "fewer liquidations" against an isolated −99.2 %);
 * 3. max drawdown (lower), unless within 1 percentage point;
 * 0 (a tie) when all three are equal within tolerance. Capital at risk never breaks a tie: it
 * always favours isolated (its capital at risk is the allocated margin, cross's the whole pool),
 * so it is stated as a fact in the tie's line, not counted as a win.
 */
export function compareRuns(a: RunResult, b: RunResult): number {
  return decideRuns(a, b).order;
}

type Criterion = 'return' | 'liquidations' | 'drawdown' | 'none';

function decideRuns(a: RunResult, b: RunResult): { order: number; by: Criterion } {
  const ra = num(a, 'totalReturn') ?? -Infinity;
  const rb = num(b, 'totalReturn') ?? -Infinity;
  if (ra !== rb && (Math.abs(ra - rb) > RETURN_TOL_PP || !Number.isFinite(ra - rb))) return { order: rb > ra ? 1 : -1, by: 'return' };
  const la = num(a, 'liquidations') ?? 0;
  const lb = num(b, 'liquidations') ?? 0;
  if (la !== lb && !(endedWipedOut(a) && endedWipedOut(b))) return { order: la < lb ? -1 : 1, by: 'liquidations' };
  const da = num(a, 'maxDrawdown') ?? Infinity;
  const db = num(b, 'maxDrawdown') ?? Infinity;
  if (da !== db && (Math.abs(da - db) > DD_TOL_PP || !Number.isFinite(da - db))) return { order: da < db ? -1 : 1, by: 'drawdown' };
  return { order: 0, by: 'none' };
}

const f = fmtMetric;

function liqPhrase(setup: SetupId, r: RunResult): string {
  const n = num(r, 'liquidations') ?? 0;
  if (n === 0) return `${setup} 0`;
  return `${setup} ${n}× (${f('liquidationLoss', num(r, 'liquidationLoss'))} lost)`;
}

/** Equal within a relative 1e-9 (analysis/stress.ts nearlyEqual); null is never near */
const near = (x: number | null, y: number | null): boolean => x !== null && y !== null && nearlyEqual(x, y);

/** Both runs made the same round trips at the same cost: the trade count and the fees agree. */
export function sameTrades(a: RunResult, b: RunResult): boolean {
  return near(num(a, 'trades'), num(b, 'trades')) && near(num(a, 'fees'), num(b, 'fees'));
}

/** A run that never held a position although it placed orders: all were rejected (a leverage above the venue's tier maximum, margin too small, ...). */
function neverTraded(r: RunResult): boolean {
  // whether its orders were all rejected or it placed none: a run with nothing filled compares no margin mode
  // (a strategy that never ordered read "tie: the same trades" and counted as a tie in its headline). A fill leaves
  // a position at a close, a round trip (trades) or a liquidation (heldPosition), or a fee or a return
  return !heldPosition(r) && (num(r, 'fees') ?? 0) === 0 && (num(r, 'trades') ?? 0) === 0 && (num(r, 'totalReturn') ?? 0) === 0;
}

const rejectedAny = (r: RunResult): boolean => (num(r, 'rejectedOrders') ?? 0) > 0;

/**
 * why two runs that filled nothing hold no position: 'every order was rejected (…; …)', 'no order filled (…; cross had
 * none rejected)', 'no order filled and none was rejected …'. A result does not tell an order never placed from one
 * resting until the end (a limit never reached): "the strategy placed no order" was said of a resting buy limit.
 */
function noFillPhrase(xs: readonly { s: SetupId; r: RunResult }[]): string {
  const said = (x: { s: SetupId; r: RunResult }) => (rejectedAny(x.r) ? rejectedPhrase(x.r) : `${x.s} had none rejected`);
  if (xs.every((x) => rejectedAny(x.r))) return `every order was rejected (${xs.map(said).join('; ')})`;
  return xs.some((x) => rejectedAny(x.r)) ? `no order filled (${xs.map(said).join('; ')})` : 'no order filled and none was rejected (the strategy placed none, or they rested unfilled)';
}

/** `1,234 orders rejected, most for leverageAboveMax` */
function rejectedPhrase(r: RunResult): string {
  const n = num(r, 'rejectedOrders') ?? 0;
  let top = '';
  let most = 0;
  for (const [k, c] of Object.entries(r.rejections ?? {})) if (c > most || (c === most && k < top)) [top, most] = [k, c];
  return `${r.spec.setup} ${f('rejectedOrders', n)} rejected${top ? `, ${most === n ? 'all' : 'most'} for ${top}` : ''}`;
}

/** '31 round trips, the same fees 833.63' ('no round trip closed, …') */
function tradesPhrase(r: RunResult): string {
  const nt = num(r, 'trades') ?? 0;
  return `${nt === 0 ? 'no round trip closed' : `${f('trades', nt)} round trip${nt === 1 ? '' : 's'}`}, the same fees ${f('fees', num(r, 'fees'))}`;
}

/**
 * The capital-at-risk difference of a tie, as a fact (not a win). "They differ only in" when the two made the
 * same trades; a tie of other runs (both wiped out, or within the tolerances) differs in more (liquidations,
 * fees), which its line gives, so the fact is said without "only".
 */
function capitalAtRiskFact(a: { s: SetupId; r: RunResult }, b: { s: SetupId; r: RunResult }): string {
  const ca = num(a.r, 'capitalAtRiskAvg');
  const cb = num(b.r, 'capitalAtRiskAvg');
  if (ca === null || cb === null || near(ca, cb)) return '';
  const [lo, hi] = ca < cb ? [a, b] : [b, a];
  const what = (s: SetupId) => (s === 'isolated' ? 'its allocated margins' : s === 'cross' ? 'the whole pool behind the positions' : 'its isolated margins plus the cross pool');
  const lead = sameTrades(a.r, b.r) ? 'They differ only in capital at risk' : 'Capital at risk';
  return ` ${lead}, a fact of the mode rather than a result: ${lo.s} put an average ${f('capitalAtRiskAvg', num(lo.r, 'capitalAtRiskAvg'))} at risk (${what(lo.s)}), ${hi.s} ${f('capitalAtRiskAvg', num(hi.r, 'capitalAtRiskAvg'))} (${what(hi.s)}).`;
}

/**
 * What a strategy or configuration without a verdict says (as the verdict lines, lower-case first): when it was run under one margin
 * mode only, that (it read 'fewer than two margin modes completed', as if a run had failed), else that fewer than two
 * completed. `configs`: its configurations (their runs' setups).
 */
export function noVerdictText(configs: readonly { runs: Partial<Record<SetupId, RunResult>> }[]): string {
  const run = SETUP_IDS.filter((k) => configs.some((c) => c.runs[k] !== undefined));
  return run.length === 1
    ? `no verdict: only the ${run[0]} mode was run (list two or more setups, e.g. isolated and cross, to compare them).`
    : 'no verdict: fewer than two margin modes completed.';
}

/** Verdict of one configuration from its ok runs (null when fewer than two setups completed). */
export function verdictFor(runs: Partial<Record<SetupId, RunResult>>): Verdict | null {
  const ok = SETUP_IDS.filter((s) => runs[s]?.status === 'ok').map((s) => ({ s, r: runs[s]! }));
  if (ok.length < 2) return null;
  const v = verdictOfCompleted(ok);
  // a setup whose run errored is not in the comparison: said, so the verdict never reads as if it was not planned
  const errored = SETUP_IDS.filter((s) => runs[s] !== undefined && runs[s]!.status !== 'ok');
  return errored.length ? { ...v, line: `${v.line} ${erroredSetupsText(errored)}` } : v;
}

/** 'isolated errored (no figures: see Failures), so it is not compared.' */
function erroredSetupsText(errored: readonly SetupId[]): string {
  const one = errored.length === 1;
  return `${setupList(errored)} errored (no figures: see Failures), so ${one ? 'it is' : 'they are'} not compared.`;
}

function verdictOfCompleted(ok: readonly { s: SetupId; r: RunResult }[]): Verdict {
  // the winner beats every other mode (with three modes the rule's tolerances can go round in a circle: report/rank.ts);
  // a setup whose run repeated another's exactly is compared as that one
  const { ranked, winner, circular, twinOf } = rankSetups(ok, (x) => x.s, (x, y) => compareRuns(x.r, y.r), (x, y) => !neverTraded(x.r) && identicalRuns(x.r, y.r));
  const identicalTo: Partial<Record<SetupId, SetupId>> = {};
  for (const [x, t] of twinOf) identicalTo[x.s] = t.s;
  const v = foldedVerdict(ranked, winner, circular, (x) => [...twinOf].filter(([, t]) => t === x).map(([y]) => y.s));
  return twinOf.size ? { ...v, identicalTo } : v;
}

/** The verdict over setups with distinct runs (`twins(x)`: the setups whose run was identical to x's, folded into it). */
function foldedVerdict(ranked: readonly { s: SetupId; r: RunResult }[], winner: { s: SetupId } | null, circular: boolean, twins: (x: { s: SetupId; r: RunResult }) => SetupId[]): Verdict {
  const named = (x: { s: SetupId; r: RunResult }) => withTwins(x.s, twins(x));
  const w = ranked[0]!;
  const l = ranked[1];
  if (l === undefined) {
    // every completed setup made one run: nothing told them apart
    const nl = num(w.r, 'liquidations') ?? 0;
    return {
      winner: null,
      line: `tie: ${setupList([w.s, ...twins(w)])} made identical runs (${tradesPhrase(w.r)}): return ${f('totalReturn', num(w.r, 'totalReturn'))}, max drawdown ${f('maxDrawdown', num(w.r, 'maxDrawdown'))}; ${nl === 0 ? 'no liquidations' : `liquidations ${liqPhrase(w.s, w.r).slice(w.s.length + 1)} in each`}; max margin ratio ${f('marginRatioMax', num(w.r, 'marginRatioMax'))}.`,
    };
  }
  const pair = (id: string) => `${f(id, num(w.r, id))} vs ${f(id, num(l.r, id))}`;
  const liqW = num(w.r, 'liquidations') ?? 0;
  const liqL = num(l.r, 'liquidations') ?? 0;
  const liq = liqW === 0 && liqL === 0 ? 'no liquidations in either' : `liquidations ${liqPhrase(w.s, w.r)}, ${liqPhrase(l.s, l.r)}`;
  const mr = `max margin ratio ${pair('marginRatioMax')}`;
  const others = ranked.length > 2 ? ` (then ${ranked.slice(2).map((x) => `${named(x)} ${f('totalReturn', num(x.r, 'totalReturn'))}`).join(', ')})` : '';

  if (winner === null && circular) {
    const ok = [...ranked].sort((x, y) => setupRank(x.s) - setupRank(y.s));
    const each = (id: string) => ok.map((x) => `${named(x)} ${f(id, num(x.r, id))}`).join(', ');
    return {
      winner: null,
      line: `tie: no mode served it better than every other, the rules go round in a circle (${circlePhrase(ok)}): return ${each('totalReturn')}; max drawdown ${each('maxDrawdown')}; liquidations ${ok.map((x) => liqPhrase(x.s, x.r)).join(', ')}; max margin ratio ${each('marginRatioMax')}.`,
    };
  }
  if (winner === null) {
    const none = ranked.every((x) => neverTraded(x.r));
    const trades = none
      ? `held no position: ${noFillPhrase([w, l])}, so the modes were not compared`
      : sameTrades(w.r, l.r)
        ? `made the same trades (${tradesPhrase(w.r)})`
        : endedWipedOut(w.r) && endedWipedOut(l.r)
          ? `both ended wiped out (equity below ${100 * WIPEOUT_FRACTION}% of the initial capital; how many liquidations it took is the mode's bookkeeping, not a better outcome)`
          : `ended within ${RETURN_TOL_PP} pp of each other`;
    return {
      winner: null,
      ...(none ? { notCompared: true as const } : {}),
      line: `tie: ${named(w)} and ${named(l)}${others} ${trades}: return ${pair('totalReturn')}, max drawdown ${pair('maxDrawdown')}; ${liq}; ${mr}.${capitalAtRiskFact(w, l)}`,
    };
  }
  const { by } = decideRuns(w.r, l.r);
  const same = `same return within ${RETURN_TOL_PP} pp (${pair('totalReturn')})`;
  const why =
    by === 'return'
      ? `return ${pair('totalReturn')}, max drawdown ${pair('maxDrawdown')}`
      : by === 'liquidations'
        ? `${same} with fewer liquidations, max drawdown ${pair('maxDrawdown')}`
        : `${same} with a shallower max drawdown ${pair('maxDrawdown')}`;
  // the strongest counterpoint in favour of the runner-up
  const buts: string[] = [];
  const ddW = num(w.r, 'maxDrawdown');
  const ddL = num(l.r, 'maxDrawdown');
  if (ddW !== null && ddL !== null && ddL + DD_TOL_PP < ddW) buts.push(`${l.s} had the shallower drawdown (${f('maxDrawdown', ddL)})`);
  const ceW = num(w.r, 'returnOnCapitalAtRisk');
  const ceL = num(l.r, 'returnOnCapitalAtRisk');
  if (by === 'return' && ceW !== null && ceL !== null && ceL > 0 && ceL > ceW && ceL - ceW > 0.1 * Math.abs(ceW) + 0.5) {
    buts.push(`${l.s} earned more per unit of capital at risk (return on capital at risk ${f('returnOnCapitalAtRisk', ceL)} vs ${f('returnOnCapitalAtRisk', ceW)})`);
  }
  if (liqL < liqW) buts.push(`${l.s} was liquidated less often (${liqL} vs ${liqW})`);
  return {
    winner: w.s,
    line: `${named(w)} served it better than ${named(l)}${others}: ${why}; ${liq}; ${mr}${buts.length ? `; but ${buts.join(', and ')}` : ''}.`,
  };
}

/** `isolated over cross on liquidations, cross over mixed on liquidations, mixed over isolated on return`: each pair's better mode and why */
function circlePhrase(ok: readonly { s: SetupId; r: RunResult }[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ok.length; i++) {
    for (let j = i + 1; j < ok.length; j++) {
      const { order, by } = decideRuns(ok[i]!.r, ok[j]!.r);
      if (order === 0) continue;
      const [a, b] = order < 0 ? [ok[i]!, ok[j]!] : [ok[j]!, ok[i]!];
      parts.push(`${a.s} over ${b.s} with ${by === 'return' ? `a higher return (${f('totalReturn', num(a.r, 'totalReturn'))} vs ${f('totalReturn', num(b.r, 'totalReturn'))})` : by === 'liquidations' ? 'fewer liquidations' : 'a shallower drawdown'}`);
    }
  }
  return parts.join(', ');
}

/** Lower median (the middle value, the lower of the two middles for an even count); null when empty. */
export function lowerMedian(xs: readonly number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/**
 * Headline of a strategy over its configurations. A mode is named only when it won more
 * configurations than any other outcome (ties included) AND no other mode's median return is
 * higher by more than the return tolerance: a count of wins never overrides the medians it is
 * printed next to (a mode winning 2 of 3 configurations by small margins while losing the third by
 * 80 pp is not "the mode that served it").
 */
function strategyVerdict(configs: ConfigGroup[]): Verdict | null {
  const withVerdict = configs.filter((c) => c.verdict);
  // a configuration with errored runs and fewer than two completed setups has no verdict: counted apart, never silently left out
  const unjudged = configs.filter((c) => !c.verdict && SETUP_IDS.some((s) => c.runs[s] !== undefined && c.runs[s]!.status !== 'ok'));
  const unjudgedList = unjudged
    .map((c) => `${[c.paramsLabel, c.venue, c.dataLabel, fmtLeverage(c.leverage)].filter(Boolean).join(' · ')}: ${setupList(SETUP_IDS.filter((s) => c.runs[s] !== undefined && c.runs[s]!.status !== 'ok'))} errored`)
    .join('; ');
  if (withVerdict.length === 0) {
    // every configuration errored: which, and where to look (it read a bare "no verdict (fewer than two margin modes completed)")
    return unjudged.length ? { winner: null, line: `no verdict: fewer than two modes completed in ${unjudged.length === 1 ? 'its configuration' : `any of its ${unjudged.length} configurations`} (${unjudgedList}; see Failures).` } : null;
  }
  // a configuration whose every mode held no position (every order rejected) compared nothing:
  // it is left out of the counts and medians, and said apart
  const judged = withVerdict.filter((c) => !notCompared(c));
  const skipped = withVerdict.length - judged.length;
  const unjudgedNote = unjudged.length ? ` ${unjudged.length} more configuration${unjudged.length === 1 ? '' : 's'} not judged: fewer than two modes completed (${unjudgedList}; see Failures).` : '';
  // why configurations were not compared: every order rejected, or (some) none placed
  const allRejected = (cs: readonly ConfigGroup[]) => cs.every((c) => SETUP_IDS.every((s) => c.runs[s]?.status !== 'ok' || rejectedAny(c.runs[s]!)));
  if (judged.length === 0) {
    const v =
      withVerdict.length === 1
        ? withVerdict[0]!.verdict!
        : { winner: null, notCompared: true as const, line: `the modes were not compared: in all ${withVerdict.length} configurations every mode held no position (${allRejected(withVerdict) ? 'every order was rejected' : 'no order filled'}).` };
    return { ...v, line: v.line + unjudgedNote };
  }
  const notComparedNote =
    (skipped ? ` ${skipped} more configuration${skipped === 1 ? '' : 's'} not compared: ${allRejected(withVerdict.filter((c) => notCompared(c))) ? 'every order was rejected in every mode' : 'no order filled in any mode'}.` : '') + unjudgedNote;
  if (judged.length === 1) return { ...judged[0]!.verdict!, line: judged[0]!.verdict!.line + notComparedNote };
  // a configuration counts for every setup that served it: the winner, and a setup whose run was identical to its
  // (counted for the first of them only, mixed's wins went uncounted and cross was named for configurations mixed won alone)
  const wonBy = new Map<string, Set<ConfigGroup>>();
  for (const c of judged) {
    const served = SETUP_IDS.filter((s) => servedBy(c.verdict, s));
    for (const k of served.length ? served : ['tie']) wonBy.set(k, (wonBy.get(k) ?? new Set()).add(c));
  }
  const order = [...SETUP_IDS, 'tie'];
  const ranked = [...wonBy.entries()].map(([k, cs]) => [k, cs.size] as const).sort((a, b) => b[1] - a[1] || order.indexOf(a[0]) - order.indexOf(b[0]));
  const top = ranked[0]!;
  // setups level with the top one on the very configurations it served (identical runs in each) are named with it, not a tie
  const sameWins = (k: string) => k !== 'tie' && top[0] !== 'tie' && wonBy.get(k)!.size === top[1] && [...wonBy.get(top[0])!].every((c) => wonBy.get(k)!.has(c));
  const alongside = ranked.slice(1).filter(([k, n]) => n === top[1] && sameWins(k)).map(([k]) => k as SetupId);
  const tieTop = ranked.slice(1).some(([k, n]) => n === top[1] && !alongside.includes(k as SetupId));
  const parts = ranked.map(([k, n]) => (k === 'tie' ? `${n} tied` : `${k} in ${n}`)).join(', ');
  // aggregate numbers per setup across the configurations
  const stats = SETUP_IDS.map((s) => {
    const rs = judged.map((c) => c.runs[s]).filter((r): r is RunResult => r?.status === 'ok');
    if (!rs.length) return null;
    const liqs = rs.reduce((a, r) => a + (num(r, 'liquidations') ?? 0), 0);
    const returns = rs.map((r) => num(r, 'totalReturn')).filter((x): x is number => x !== null);
    return { s, runs: rs.length, liqs, med: lowerMedian(returns), evenCount: returns.length % 2 === 0 };
  }).filter((x): x is { s: SetupId; runs: number; liqs: number; med: number | null; evenCount: boolean } => x !== null);
  // an even count's median is the lower of the two middle returns (lowerMedian): said so, a reader averaging them would read another figure
  const agg = stats.map((x) => `${x.s}: ${x.evenCount && x.med !== null ? 'lower median' : 'median'} return ${f('totalReturn', x.med)}, ${x.liqs} liquidation${x.liqs === 1 ? '' : 's'} in ${x.runs} run${x.runs === 1 ? '' : 's'}`);
  const candidate = tieTop || top[0] === 'tie' ? null : (top[0] as SetupId);
  const candMed = stats.find((x) => x.s === candidate)?.med ?? null;
  const better = candidate === null ? [] : stats.filter((x) => x.s !== candidate && x.med !== null && (candMed === null || x.med > candMed + RETURN_TOL_PP));
  const winner = better.length ? null : candidate;
  let head: string;
  if (winner) head = `${alongside.length ? `${setupList([winner, ...alongside])} (identical runs)` : winner} served it in ${top[1]} of ${judged.length} configurations`;
  else if (candidate) {
    const b = better.sort((x, y) => y.med! - x.med!)[0]!;
    head = `no mode served it consistently across ${judged.length} configurations: ${candidate} won more of them, but ${b.s} has the higher median return (${f('totalReturn', b.med)} vs ${f('totalReturn', candMed)})`;
  } else if (top[0] === 'tie' && ranked.length === 1) head = `tie in all ${judged.length} configurations`;
  else head = `no mode served it consistently across ${judged.length} configurations`;
  return { winner, line: `${head} (${parts}); ${agg.join('; ')}.${notComparedNote}` };
}

/** A configuration whose verdict compared nothing: every completed mode held no position (verdictFor). */
const notCompared = (c: ConfigGroup): boolean => c.verdict?.notCompared === true;

/** The leverages of a sweep row as report.md/html list them: `1×, 125× (no position)` (an untested leverage, where no run held a position, is marked). */
export function sweepLeverages(r: SweepRow): string {
  return r.leverages.map((l) => (r.untestedLeverages.includes(l) ? `${fmtLeverage(l)} (no position)` : fmtLeverage(l))).join(', ');
}

export interface BuildModelOptions {
  /** liquidation-probability threshold of the stress survival table (default 5 %) */
  survivalThreshold?: number;
}

/** The survival threshold of a run folder: the option, else the config's `stress.survivalThreshold`, else 5 %. */
export function survivalThresholdOf(manifest: RunManifest, opts: BuildModelOptions = {}): number {
  if (opts.survivalThreshold !== undefined) return opts.survivalThreshold;
  const cfg = manifest.config as { stress?: { survivalThreshold?: unknown } | null } | null | undefined;
  const t = cfg?.stress?.survivalThreshold;
  return typeof t === 'number' && t > 0 && t <= 1 ? t : DEFAULT_SURVIVAL_THRESHOLD;
}

export function buildModel(results: readonly RunResult[], manifest: RunManifest, opts: BuildModelOptions = {}): ReportModel {
  const runs = [...results].sort(byRunId);
  const history = runs.filter((r) => !r.spec.stress);
  const historyOf = historyIndex(history, (s) => configIdentity(s, true));
  const stress = buildStressModel(
    runs.filter((r) => r.spec.stress),
    configIdentity,
    survivalThresholdOf(manifest, opts),
    historyOf,
  );
  const stressById = new Map((stress?.configs ?? []).map((c) => [c.id, c]));
  const byKey = new Map<string, ConfigGroup>();
  const dataLabel = dataLabeller(history);
  for (const r of history) {
    const ident = configIdentity(r.spec, true);
    let g = byKey.get(ident);
    if (!g) {
      g = {
        id: shortHash(ident),
        strategy: r.spec.strategy,
        params: canonical(r.spec.params) as Record<string, unknown>,
        paramsLabel: paramsLabel(r.spec.params),
        venue: r.spec.venue,
        leverage: r.spec.leverage,
        dataset: r.spec.dataset,
        timeframe: r.spec.timeframe,
        dataLabel: dataLabel(r.spec),
        symbols: [...r.spec.symbols],
        initialCapital: r.spec.initialCapital,
        runs: {},
        verdict: null,
        stress: null,
      };
      byKey.set(ident, g);
    }
    // two runs of one configuration and setup cannot happen in one folder; keep the first by runId
    if (!g.runs[r.spec.setup]) g.runs[r.spec.setup] = r;
  }
  const configs = [...byKey.values()].sort(
    (a, b) =>
      cmpStr(a.strategy, b.strategy) ||
      cmpStr(a.venue, b.venue) ||
      cmpParams(a.params, b.params) ||
      cmpStr(a.paramsLabel, b.paramsLabel) ||
      a.leverage - b.leverage ||
      cmpStr(a.dataset, b.dataset) ||
      cmpStr(a.timeframe, b.timeframe) ||
      cmpStr(a.id, b.id),
  );
  for (const c of configs) {
    c.verdict = verdictFor(c.runs);
    c.stress = stressById.get(c.id) ?? null;
    if (c.verdict && c.stress) c.verdict = { ...c.verdict, line: c.verdict.line + stressVerdictLine(c.verdict.winner, c.stress, c.verdict.notCompared !== true) };
  }

  const strategies: StrategySection[] = [];
  for (const c of configs) {
    let s = strategies.find((x) => x.strategy === c.strategy);
    if (!s) strategies.push((s = { strategy: c.strategy, configs: [], verdict: null }));
    s.configs.push(c);
  }
  for (const s of strategies) {
    s.verdict = strategyVerdict(s.configs);
    const held = stressHoldsLine(s.configs);
    if (s.verdict && held && s.configs.filter((c) => c.verdict && !notCompared(c)).length > 1) s.verdict = { ...s.verdict, line: `${s.verdict.line} ${held}` };
  }

  const failures = runs.filter((r) => r.status !== 'ok');
  const notes: string[] = [];
  const tradeSrc = runs.filter((r) => r.status === 'ok' && r.liquidationPriceSource !== 'mark');
  if (tradeSrc.length) {
    notes.push(
      `${tradeSrc.length} of ${runs.length} runs checked liquidations on trade prices at some or all bars (no mark-price candle for a symbol at those bars): liquidations may trigger earlier or later than on the venue.`,
    );
  }
  const optimistic = runs.filter((r) => r.crossCheck === 'optimistic' && r.spec.symbols.length > 1);
  if (optimistic.length) notes.push(`${optimistic.length} multi-symbol runs checked cross pools at the close only (optimistic): intrabar cross liquidations can be missed.`);
  const short = shortWindowNote(runs);
  if (short) notes.push(short);
  notes.push(...ownWindowNotes(runs));
  // Monte Carlo path runs keep their outcome, not their event log, unless stress.pathEvents was set
  // (docs/stress.md): told by each result (a --resume or merge can mix both), never by the config
  const light = new Set(runs.filter(outcomeOnly));
  if (light.size) {
    notes.push(
      `${light.size} Monte Carlo path runs keep their outcome only (stress.pathEvents is off): trades.csv and liquidations.csv have no rows for them; their metrics, books, curves and stress figures cover the whole run.`,
    );
  }
  const capped = runs.filter((r) => r.eventsCap && !light.has(r));
  if (capped.length) {
    const limits = [...new Set(capped.map((r) => r.eventsCap!.limit))].join(', ');
    notes.push(
      `maxEventsPerRun (${limits}) cut the events of ${capped.length} of ${runs.length} runs (kept the first events only): their trades.csv and liquidations.csv rows and the price chart cover those events only (metrics and books cover the whole run).`,
    );
  }
  // one shard's folder: its tables cover part of the sweep (the footer alone said so, and report.md not at all)
  if (manifest.shard && manifest.shard.count > 1) {
    notes.push(
      `This folder is shard ${manifest.shard.index} of ${manifest.shard.count}: it holds that shard's runs only, so the verdicts, medians and totals below cover part of the sweep; marginlab merge joins the shards' folders into the whole.`,
    );
  }
  // warnings about the config meeting the data (e.g. bars longer than the funding interval), recorded at run time
  for (const w of manifest.warnings ?? []) notes.push(w);

  const expected = expectedRunCount(manifest);
  return {
    name: manifest.name,
    manifest,
    runs,
    history,
    stress,
    configs,
    strategies,
    failures,
    counts: { total: runs.length, ok: runs.length - failures.length, errored: failures.length },
    planned: Math.max(expected, runs.length),
    missing: Math.max(0, expected - runs.length),
    notes,
    historyOf,
  };
}

/**
 * The note saying why annualised returns are missing: the longest ok run's window is shorter than
 * MIN_ANNUALISE_DAYS. null when every window is long enough (or there is no ok run).
 */
export function shortWindowNote(runs: readonly RunResult[]): string | null {
  // the longest ok run's window per dataset and timeframe: with several, those too short are named (a note saying
  // nothing because another dataset's year was long enough left their missing figures unexplained)
  const longest = new Map<string, number>();
  for (const r of runs) {
    if (r.status !== 'ok') continue;
    const tf = timeframeMsOrNaN(r.spec.timeframe);
    const k = `${r.spec.dataset} ${r.spec.timeframe}`;
    if (Number.isFinite(tf)) longest.set(k, Math.max(longest.get(k) ?? -1, (r.bars * tf) / DAY_MS));
  }
  const days = (d: number) => `${fmtNumber(d, d >= 10 ? 0 : 1)} days`;
  const short = [...longest].filter(([, d]) => d < MIN_ANNUALISE_DAYS).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (!short.length) return null;
  const why = `shorter than the ${MIN_ANNUALISE_DAYS} days an annual rate needs to mean more than an extrapolation; the period figures (total return, return on capital at risk) are shown instead (marginlab's docs/metrics.md, Annualisation).`;
  if (short.length === longest.size && short.length === 1) return `Annualised returns (CAGR, Calmar, capital efficiency) are not shown: the window is ${days(short[0]![1])}, ${why}`;
  const list = short.map(([k, d]) => `${k} (${days(d)})`).join(', ');
  return `Annualised returns (CAGR, Calmar, capital efficiency) are not shown for the runs on ${list}: ${short.length === 1 ? 'a window' : 'windows'} ${why}`;
}

/**
 * Runs replayed over fewer bars than the period because their symbols' candles start later (or end earlier) than
 * the dataset's (a run covers its symbols' bars: src/feed/slice.ts symbolsWindow): one note per dataset and symbols
 * saying their window, as their figures are over it, not over the period the header shows.
 */
export function ownWindowNotes(runs: readonly RunResult[]): string[] {
  // per dataset and timeframe: the span of its runs, and of each symbol set's runs
  const datasets = new Map<string, { from: number; to: number; spans: Map<string, { symbols: string; from: number; to: number }> }>();
  for (const r of runs) {
    const span = r.status === 'ok' && !r.spec.stress ? curveSpan(r) : null;
    if (!span) continue;
    const { from: a, to: b } = span;
    const dk = `${r.spec.dataset} ${r.spec.timeframe}`;
    let d = datasets.get(dk);
    if (!d) datasets.set(dk, (d = { from: a, to: b, spans: new Map() }));
    d.from = Math.min(d.from, a);
    d.to = Math.max(d.to, b);
    const symbols = r.spec.symbols.join(', ');
    if (!d.spans.has(symbols)) d.spans.set(symbols, { symbols, from: a, to: b });
  }
  const out: string[] = [];
  for (const [dk, d] of datasets) {
    for (const s of d.spans.values()) {
      if (s.from <= d.from && s.to >= d.to) continue;
      out.push(`The runs on ${s.symbols} (${dk}) cover ${isoDate(s.from)} → ${isoDate(s.to)}, the bars where their symbols have candles, not the whole ${isoDate(d.from)} → ${isoDate(d.to)} of the other runs: their figures (return, exposure, volatility, Sharpe) are over their own bars.`);
    }
  }
  return out;
}

/** 'Under stress, the history verdict holds in 2 of 3 configurations under the crash scenarios and 3 of 3 over the Monte Carlo paths.' */
function stressHoldsLine(configs: ConfigGroup[]): string {
  const parts: string[] = [];
  for (const [pop, name] of [['crash', 'under the crash scenarios'], ['paths', 'over the Monte Carlo paths']] as const) {
    const judged = configs.filter((c) => c.verdict && !notCompared(c) && c.stress?.populations[pop]?.judged);
    if (!judged.length) continue;
    const held = judged.filter((c) => c.stress!.populations[pop]!.winner === c.verdict!.winner).length;
    parts.push(`${held} of ${judged.length} configurations ${name}`);
  }
  return parts.length ? `Under stress, the history verdict holds in ${parts.join(' and ')}.` : '';
}

/** Code-unit string order (locale-independent, so reports are byte-stable). */
export function cmpStr(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Runs in runId order, the order of every report file. */
export const byRunId = (a: RunResult, b: RunResult): number => cmpStr(a.runId, b.runId);

/** Sweep identity: configuration without leverage. */
export function sweepKey(spec: RunSpec): string {
  return configIdentity(spec, false);
}

/** "dataset timeframe (SYM1, SYM2, …)" per dataset and timeframe, symbols merged and sorted. */
export function dataSummary(runs: readonly RunResult[]): string[] {
  const m = new Map<string, { symbols: Set<string>; runs: RunResult[] }>();
  for (const r of runs) {
    const k = `${r.spec.dataset} ${r.spec.timeframe}`;
    let e = m.get(k);
    if (!e) m.set(k, (e = { symbols: new Set(), runs: [] }));
    for (const s of r.spec.symbols) e.symbols.add(s);
    e.runs.push(r);
  }
  // datasets over different periods each say theirs (dataPeriod is then ''): one span from the earliest start to the
  // latest end read as if every run covered it
  const periods = new Map([...m].map(([k, e]) => [k, dataPeriod(e.runs)]));
  const several = new Set(periods.values()).size > 1;
  return [...m.keys()].sort().map((k) => `${k} (${[...m.get(k)!.symbols].sort().join(', ')})${several && periods.get(k) ? ` ${periods.get(k)}` : ''}`);
}

/** The runs' period when every dataset (and timeframe) covers the same one (dataSummary gives each its own otherwise). */
export function dataPeriod(runs: readonly RunResult[]): string {
  const per = new Map<string, RunResult[]>();
  for (const r of runs) {
    const k = `${r.spec.dataset} ${r.spec.timeframe}`;
    const list = per.get(k);
    if (list) list.push(r);
    else per.set(k, [r]);
  }
  const periods = new Set([...per.values()].map(spanText));
  return periods.size === 1 ? [...periods][0]! : '';
}

/** The bars a run's curves cover: its first bar's open to its last bar's close; null without curves or a known bar length. */
function curveSpan(r: RunResult): { from: number; to: number } | null {
  const t = r.curves?.time ?? [];
  const to = t.length ? t[t.length - 1]! + timeframeMsOrNaN(r.spec.timeframe) : Number.NaN;
  return Number.isFinite(to) ? { from: t[0]!, to } : null;
}

/**
 * 'YYYY-MM-DD → YYYY-MM-DD' from the earliest start to the latest (exclusive) end of the runs; ''
 * when unknown. A run's start is its `from`, else its first bar; its end its `to`, else its last
 * bar's close (a config without from / to replays the dataset's whole span).
 */
function spanText(runs: readonly RunResult[]): string {
  let from = Infinity;
  let to = -Infinity;
  for (const r of runs) {
    // an errored run's curves end where it stopped: its config window only (every run errored read "05-22 → 05-24" of a two-month dataset)
    const span = r.status === 'ok' ? curveSpan(r) : null;
    const start = r.spec.from ?? span?.from ?? Infinity;
    const end = r.spec.to ?? span?.to ?? -Infinity;
    if (start < from) from = start;
    if (end > to) to = end;
  }
  return Number.isFinite(from) && Number.isFinite(to) ? `${isoDate(from)} → ${isoDate(to)}` : '';
}

/** How a configuration's winner is picked, for table footnotes. */
export const VERDICT_RULE = `higher return; within ${RETURN_TOL_PP} pp, fewer liquidations (unless both ended wiped out), then a shallower drawdown (within ${DD_TOL_PP} pp: a tie, whatever the capital at risk)`;
