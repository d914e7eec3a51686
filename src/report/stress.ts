/**
 * The stress part of the report model (DESIGN §11, docs/report.md "Stress"): stress runs grouped
 * by configuration (the RunSpec without `stress` and without setup, the same identity as the
 * history comparison) and population (the crash scenarios: kind 'scenario'; Monte Carlo paths: kind
 * 'path'), aggregated per margin setup with src/analysis/stress.ts, judged per population, and
 * turned into the sentence that says whether the history verdict holds under stress. Pure and
 * deterministic: runs are sorted by runId, pairs by their stress identity, the bootstrap is seeded.
 */
import { SETUP_IDS, setupRank, type SetupId } from '../engine/setups.js';
import { canonicalJson, sha256Hex } from '../shard/hash.js';
import type { RunResult } from '../shard/types.js';
import { liquidatedInHistory, shockLine, shockOutcome, timeToLiquidation, type HistoryOutcomes, type RunStressSpec } from '../stress/types.js';
import { fromU, toU } from '../analysis/money.js';
import {
  DEFAULT_SURVIVAL_THRESHOLD,
  MIN_PAIRS,
  RETURN_TOL_PP,
  fanBands,
  maxLeverageUnder,
  pairedBootstrap,
  summarizeOutcomes,
  survivalCurve,
  wilson,
  distribution,
  type Distribution,
  type FanBands,
  type OutcomeSummary,
  type PairedInterval,
  type Proportion,
  type StressOutcome,
  type SurvivalPoint,
} from '../analysis/stress.js';
import { cmpParams, heldPosition, identicalRuns, setupList, withTwins, dataLabeller, fmtMetric, fmtMoney, fmtNumber, fmtProbabilityPct, paramsLabel, paramsSortKeys } from './format.js';
import { rankSetups } from './rank.js';
import { grouped } from '../util/excerpt.js';

export type Population = 'crash' | 'paths';
export const POPULATIONS: readonly Population[] = ['crash', 'paths'];

/** How the survival tables show a leverage where no run held a position (SurvivalPoint.untested). */
export const UNTESTED = 'untested (no run held a position)';

export interface PairDiff {
  /** the difference is b − a */
  a: SetupId;
  b: SetupId;
  /** total return, percentage points */
  totalReturn: PairedInterval;
  /** wiped out (1) or not (0): difference of probabilities (the crash scenarios: before or by the shock) */
  wipeOut: PairedInterval;
  /** liquidated at least once (1) or not (0) */
  liquidation: PairedInterval;
}

export interface PopulationSummary {
  population: Population;
  /** distinct stress views (injections or paths) */
  views: number;
  bySetup: Partial<Record<SetupId, OutcomeSummary>>;
  /** paired differences between the setups present, a before b in setup order */
  diffs: PairDiff[];
  /** the setup that served the configuration under this population; null on a tie or without a verdict */
  winner: SetupId | null;
  /** a setup whose run was identical to another's in every view → that setup (compared as it: model.ts Verdict.identicalTo) */
  identicalTo: Partial<Record<SetupId, SetupId>>;
  /** false when fewer than two setups completed a run here (the others errored): no verdict, neither a tie nor a win */
  judged: boolean;
  /** one sentence with the numbers */
  line: string;
  /** equity quantile bands per setup (quote), over the views */
  fan: Partial<Record<SetupId, FanBands>>;
  /** loss at the shock (RunResult.stress.lossAtShock) as % of the initial capital, per setup; n = 0 for plain paths */
  lossAtShock: Partial<Record<SetupId, Distribution>>;
}

export interface ScenarioRow {
  scenario: string;
  injectAt: number;
  /** the setups whose run of this scenario and injection time errored (runs.csv has them): listed, never counted */
  errored: Partial<Record<SetupId, { runId: string; error: string }>>;
  bySetup: Partial<
    Record<
      SetupId,
      {
        runId: string;
        survived: boolean;
        wipedOut: boolean;
        /** what the shock did, apart from what happened before it (RunStressResult, shockOutcome) */
        liquidatedBeforeShock: boolean;
        liquidatedByShock: boolean;
        /** a liquidation after the shock's line that the history run has too: not the shock's */
        liquidatedAsHistory: boolean;
        wipedOutBeforeShock: boolean;
        wipedOutByShock: boolean;
        /** a wipe-out after the shock's line no sooner than the history run's own: not the shock's */
        wipedOutAsHistory: boolean;
        totalReturn: number | null;
        /** decimal string, quote; negative = loss */
        lossAtShock: string | null;
        /** % */
        peakMarginRatio: number;
        timeToLiquidationMs: number | null;
        firstLiquidated: { symbol: string; time: number }[];
      }
    >
  >;
}

export interface StressConfig {
  /** same id as the history ConfigGroup of this configuration */
  id: string;
  strategy: string;
  paramsLabel: string;
  venue: string;
  /** `dataset timeframe` when the stress runs span more than one (format.ts dataLabeller), else '' */
  dataLabel: string;
  dataset: string;
  timeframe: string;
  leverage: number;
  initialCapital: string;
  populations: Partial<Record<Population, PopulationSummary>>;
  scenarios: ScenarioRow[];
}

export interface SurvivalRow {
  strategy: string;
  paramsLabel: string;
  venue: string;
  dataLabel: string;
  dataset: string;
  timeframe: string;
  setup: SetupId;
  population: Population;
  curve: SurvivalPoint[];
  /** highest leverage whose probability of a liquidation or a wipe-out stays under the threshold; null when none */
  maxLeverage: SurvivalPoint | null;
}

export interface StressModel {
  /** threshold of the survival table: the probability of a liquidation or a wipe-out */
  threshold: number;
  /** runs of the crash scenarios and of the paths, each completed or errored; `errored` of them all */
  runs: { crash: number; paths: number; errored: number };
  configs: StressConfig[];
  survival: SurvivalRow[];
  /** the Params columns' sort keys (format.ts paramsSortKeys): label → key in the params' reading order */
  paramsKeys: Map<string, string>;
}

/**
 * '144 crash-scenario runs (4 scenarios × 3 injection times), 1,200 Monte Carlo path runs, 2 of them errored (…)': a
 * population with no run is left out (it read "0 crash-scenario runs (0 scenarios × 0 injection times)" under
 * --scenarios none). `crashDetail`: what follows the crash count, e.g. ' (4 scenarios × 3 injection times)'.
 */
export function stressRunsPhrase(m: StressModel, crashDetail = ''): string {
  const runs = (n: number, what: string) => `${grouped(n)} ${what} run${n === 1 ? '' : 's'}`;
  const parts = [m.runs.crash > 0 ? `${runs(m.runs.crash, 'crash-scenario')}${crashDetail}` : '', m.runs.paths > 0 ? runs(m.runs.paths, 'Monte Carlo path') : ''].filter(Boolean);
  return `${parts.join(', ') || 'no stress run'}${m.runs.errored ? `, ${grouped(m.runs.errored)} of them errored (not counted; runs.csv says why)` : ''}`;
}

const num = (r: RunResult, id: string): number | null => {
  const v = r.metrics[id];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

const populationOf = (s: RunStressSpec): Population => (s.kind === 'scenario' ? 'crash' : 'paths');

/** The identity a stress run shares with the same view replayed under the other setups. */
function viewKey(s: RunStressSpec): string {
  return canonicalJson(s);
}

/**
 * A crash-pack run's liquidation loss to the shock, decimal string: its liquidationLossByShock (every
 * liquidation from the shock's line on) less the liquidations there that the history run has too
 * (every leg, same symbol in the same bar; read from the run's events — a run whose events were cut is read unpaired,
 * historyIndex); undefined when the result has no liquidationLossByShock (written before it).
 */
export function shockLiquidationLoss(r: RunResult, history: HistoryOutcomes): string | undefined {
  const st = r.stress;
  const raw = st?.liquidationLossByShock;
  if (raw === undefined || history === null || st!.kind !== 'scenario' || st!.injectAt === undefined) return raw;
  const line = shockLine(st!);
  let u = 0n;
  for (const e of r.events) if (e.type === 'liquidation' && e.time >= line && e.legs.every((l) => liquidatedInHistory(history, e.time, l.symbol))) u += toU(e.loss);
  return u === 0n ? raw : fromU(toU(raw) - u);
}

/**
 * A stress run as the aggregation sees it. A crash-pack run counts what the shock did (a
 * liquidation at or after its start that the history run of its configuration and setup does not
 * have — `history`, shockOutcome —, a wipe-out not already there before it) and carries what
 * happened before the shock apart (`beforeShock`): the run replays the whole window, and a
 * position liquidated in calm markets before the crash, or by the dataset's own later bars as in
 * the history, says nothing about the crash.
 */
export function outcomeOf(r: RunResult, history: HistoryOutcomes = null): StressOutcome {
  const st = r.stress;
  const liqs = num(r, 'liquidations') ?? 0;
  const base = {
    totalReturn: num(r, 'totalReturn'),
    maxDrawdown: num(r, 'maxDrawdown'),
    liquidationLoss: num(r, 'liquidationLoss') ?? 0,
  };
  const shock = st ? shockOutcome(st, history) : null;
  if (shock) {
    const loss = shockLiquidationLoss(r, history);
    return {
      ...base,
      // the shock's liquidations only (a position liquidated in calm markets before it, or by the history's own later bars, lost nothing to the crash)
      ...(loss !== undefined ? { liquidationLoss: Number(loss) } : {}),
      liquidated: shock.liquidatedByShock,
      wipedOut: shock.wipedOutByShock,
      timeToLiquidationMs: shock.timeToLiquidationMs,
      beforeShock: { liquidated: shock.liquidatedBeforeShock, wipedOut: shock.wipedOutBeforeShock },
    };
  }
  return { ...base, liquidated: st ? !st.survived : liqs > 0, wipedOut: st?.wipedOut ?? false, timeToLiquidationMs: st ? timeToLiquidation(st) : null };
}

/**
 * Wiped out before or by the shock. A wipe-out is the end of the account: under the crash scenarios the
 * odds table counts the shock's apart from the ones before it, but a setup whose account was gone
 * before the crash did not serve better for not being wiped out by it, so the mode differences and
 * the verdicts weigh both (a liquidation, after which the account trades on, is weighed by the shock
 * only). Over paths: the run's wipe-out.
 */
const wipedOutAtAll = (o: StressOutcome): boolean => o.wipedOut || (o.beforeShock?.wipedOut ?? false);

/** The wipe-outs of `wipedOutAtAll` over a setup's runs (the two counts are of disjoint runs). */
function wipeOutsAtAll(o: OutcomeSummary): Proportion {
  return o.beforeShock ? wilson(o.wipeOut.k + o.beforeShock.wipeOut.k, o.wipeOut.n) : o.wipeOut;
}

const pct = (p: number | null): string => (p === null ? '—' : `${fmtProbabilityPct(p)}%`);
const interval = (x: { lo: number | null; hi: number | null }): string => (x.lo === null || x.hi === null ? '' : ` [${pct(x.lo).slice(0, -1)}–${pct(x.hi)}]`);
const pp = (v: number | null): string => (v === null ? '—' : `${fmtNumber(v, 1, true)} pp`);

/** 'k of n' for the crash scenarios, 'p% [lo–hi]' over paths. */
function share(pop: Population, x: { k: number; n: number; p: number | null; lo: number | null; hi: number | null }): string {
  return pop === 'crash' ? `${x.k} of ${x.n}` : `${pct(x.p)}${interval(x)}`;
}

/** A return difference that decides: its interval excludes 0 and its mean is beyond the verdicts' 1 pp (RETURN_TOL_PP). */
const returnDecides = (r: PairedInterval): boolean => !r.noise && Math.abs(r.mean!) > RETURN_TOL_PP;

/**
 * Order two setups under a population from their paired differences (b − a): negative when `a`
 * served better. Fewer wipe-outs, then a higher return (by more than 1 pp on average, as in the
 * history verdicts), then fewer liquidations; each counts only when its bootstrap interval
 * excludes 0 (otherwise it is noise). 0 = tie. A return or liquidation difference never orders the
 * pair against its wipe-outs: when one setup wiped out more often (a difference within noise, else
 * the wipe-outs decide), the other criteria cannot name it the one that served (`against`: the
 * setup they favoured, and by what) — a setup wiped out 3 times in 15 did not serve better than
 * one never wiped out for having fewer liquidations.
 */
function stressOrder(d: PairDiff): { order: number; by: 'wipeOut' | 'totalReturn' | 'liquidation' | 'none'; against?: { favoured: SetupId; by: 'totalReturn' | 'liquidation'; worse: 'wipeOut' | 'totalReturn' } } {
  if (!d.wipeOut.noise) return { order: d.wipeOut.mean! > 0 ? -1 : 1, by: 'wipeOut' };
  const lower: { order: number; by: 'totalReturn' | 'liquidation' } | null = returnDecides(d.totalReturn)
    ? { order: d.totalReturn.mean! > 0 ? 1 : -1, by: 'totalReturn' }
    : !d.liquidation.noise
      ? { order: d.liquidation.mean! > 0 ? -1 : 1, by: 'liquidation' }
      : null;
  if (!lower) return { order: 0, by: 'none' };
  const favoured = lower.order < 0 ? d.a : d.b;
  // the wipe-outs' own direction (b − a > 0: b wiped out more, which favours a: −1)
  const w = d.wipeOut.mean === null || d.wipeOut.mean === 0 ? 0 : d.wipeOut.mean > 0 ? -1 : 1;
  if (w !== 0 && w !== lower.order) return { order: 0, by: 'none', against: { favoured, by: lower.by, worse: 'wipeOut' } };
  // fewer liquidations with a return lower by more than 1 pp on average (within noise): a liquidation that cut a
  // loss short is no worse outcome than riding it down (buy-and-hold 3×: "cross served it (fewer liquidations)"
  // with cross −3.0 pp on average and 72 % lost where isolated's liquidation stopped at 50 %)
  const r = d.totalReturn.mean;
  if (lower.by === 'liquidation' && r !== null && Math.abs(r) > RETURN_TOL_PP && (r > 0 ? 1 : -1) !== lower.order) return { order: 0, by: 'none', against: { favoured, by: lower.by, worse: 'totalReturn' } };
  return lower;
}

/**
 * How a pair's differences read in the mode-difference tables: 'noise' (every interval contains
 * 0), 'within 1 pp' (only the return differs beyond noise, by 1 pp or less on average: a tie),
 * 'more wipe-outs' (the return or the liquidations favour a setup that wiped out more often: a
 * tie, see stressOrder) or 'decides' (the pair is ordered).
 */
export function pairReading(d: PairDiff): 'noise' | 'within 1 pp' | 'more wipe-outs' | 'a lower return' | 'decides' {
  if (d.totalReturn.noise && d.wipeOut.noise && d.liquidation.noise) return 'noise';
  const o = stressOrder(d);
  return o.order !== 0 ? 'decides' : o.against ? (o.against.worse === 'wipeOut' ? 'more wipe-outs' : 'a lower return') : 'within 1 pp';
}

/** why a pair is ordered, in the verdict's words */
const WHY = { wipeOut: 'fewer wipe-outs', totalReturn: 'a higher return', liquidation: 'fewer liquidations', none: 'nothing' } as const;

/** The reading of a pair in words, as both report tables show it: 'noise', 'tie (within 1 pp)', 'tie (cross: fewer liquidations, more wipe-outs)', 'isolated served it'. */
export function pairReadingText(d: PairDiff): string {
  const r = pairReading(d);
  if (r === 'noise') return 'noise';
  if (r === 'within 1 pp') return `tie (within ${RETURN_TOL_PP} pp)`;
  if (r === 'more wipe-outs' || r === 'a lower return') {
    const a = stressOrder(d).against!;
    return `tie (${a.favoured}: ${WHY[a.by]}, ${r})`;
  }
  return `${pairWinner(d)} served it`;
}

/**
 * The setup of the pair that its differences prefer (the order of the population verdict applied
 * to these two alone), null when they tie. A row of the mode-difference tables reads this, not the
 * population's winner, which may be neither of the pair.
 */
export function pairWinner(d: PairDiff): SetupId | null {
  const { order } = stressOrder(d);
  return order < 0 ? d.a : order > 0 ? d.b : null;
}

function diffOf(ds: PairDiff[], x: SetupId, y: SetupId): { d: PairDiff; sign: 1 | -1 } | null {
  for (const d of ds) {
    if (d.a === x && d.b === y) return { d, sign: 1 };
    if (d.a === y && d.b === x) return { d, sign: -1 };
  }
  return null;
}

/**
 * The pairs of two setups' outcomes that are evidence about the population. Over paths, every pair. Under the crash
 * scenarios, injections where the shock changed nothing for either setup (neither liquidated nor wiped out by it)
 * and whose outcomes are the same as another such injection's are the history's one outcome repeated, not
 * independent draws: counted once. Buy-and-hold 25× liquidated before every injection (cross wiped out, isolated not)
 * read "+100 pp [+100, +100]: isolated served it" from 12 copies of one pre-shock event; it is one pair, too few
 * for an interval (MIN_PAIRS).
 */
function distinctPairs(pop: Population, pairs: readonly (readonly [StressOutcome, StressOutcome])[]): [StressOutcome[], StressOutcome[]] {
  const oa: StressOutcome[] = [];
  const ob: StressOutcome[] = [];
  const seen = new Set<string>();
  const untouched = (o: StressOutcome) => !o.liquidated && !o.wipedOut;
  const key = (o: StressOutcome) => `${o.totalReturn}|${+wipedOutAtAll(o)}|${+(o.beforeShock?.liquidated ?? false)}`;
  for (const [x, y] of pairs) {
    if (pop === 'crash' && untouched(x) && untouched(y)) {
      const k = `${key(x)}\u0000${key(y)}`;
      if (seen.has(k)) continue;
      seen.add(k);
    }
    oa.push(x);
    ob.push(y);
  }
  return [oa, ob];
}

function summarizePopulation(pop: Population, runs: RunResult[], seed: number, outcome: (r: RunResult) => StressOutcome): PopulationSummary {
  const setups = SETUP_IDS.filter((s) => runs.some((r) => r.spec.setup === s && r.status === 'ok'));
  const bySetup: Partial<Record<SetupId, OutcomeSummary>> = {};
  const fan: Partial<Record<SetupId, FanBands>> = {};
  const lossAtShock: Partial<Record<SetupId, Distribution>> = {};
  // views (pairing keys) in a stable order; a view counts for a setup only when its run completed
  const byView = new Map<string, Partial<Record<SetupId, RunResult>>>();
  for (const r of runs) {
    if (r.status !== 'ok' || !r.spec.stress) continue;
    const k = viewKey(r.spec.stress);
    const v = byView.get(k) ?? {};
    v[r.spec.setup] ??= r;
    byView.set(k, v);
  }
  const views = [...byView.keys()].sort();
  for (const s of setups) {
    const rs = views.map((k) => byView.get(k)![s]).filter((r): r is RunResult => r !== undefined);
    bySetup[s] = summarizeOutcomes(rs.map(outcome));
    lossAtShock[s] = distribution(
      rs.map((r) => {
        const v = r.stress?.lossAtShock;
        const cap = Number(r.spec.initialCapital);
        return v === null || v === undefined || !(cap > 0) ? null : (100 * Number(v)) / cap;
      }),
    );
    fan[s] = fanBands(
      rs.map((r) =>
        r.stress && r.stress.equityGrid.length
          ? { time: r.stress.equityGridTime, value: r.stress.equityGrid }
          : { time: r.curves.time, value: r.curves.equity },
      ),
      101,
    );
  }
  const diffs: PairDiff[] = [];
  for (let i = 0; i < setups.length; i++) {
    for (let j = i + 1; j < setups.length; j++) {
      const a = setups[i]!;
      const b = setups[j]!;
      const both = views.map((k) => byView.get(k)!).filter((v) => v[a] && v[b]);
      const [oa, ob] = distinctPairs(pop, both.map((v) => [outcome(v[a]!), outcome(v[b]!)] as const));
      const opts = { seed };
      diffs.push({
        a,
        b,
        totalReturn: pairedBootstrap(ob.map((o) => o.totalReturn), oa.map((o) => o.totalReturn), opts),
        wipeOut: pairedBootstrap(ob.map((o) => +wipedOutAtAll(o)), oa.map((o) => +wipedOutAtAll(o)), opts),
        liquidation: pairedBootstrap(ob.map((o) => +o.liquidated), oa.map((o) => +o.liquidated), opts),
      });
    }
  }
  // rank the setups pairwise: the winner beats every other setup (with three the rule can go round in a circle: rank.ts)
  const pairOrder = (x: SetupId, y: SetupId): number => {
    const f = diffOf(diffs, x, y);
    return f ? f.sign * stressOrder(f.d).order : 0;
  };
  // a setup whose run repeated another's in every view (and held a position in one) is compared as that one
  const same = (x: SetupId, y: SetupId): boolean => {
    const vs = views.map((k) => byView.get(k)!);
    return vs.every((v) => (v[x] === undefined) === (v[y] === undefined) && (v[x] === undefined || identicalRuns(v[x]!, v[y]!))) && vs.some((v) => v[x] !== undefined && heldPosition(v[x]!));
  };
  const ranking = rankSetups(setups, (x) => x, pairOrder, same);
  const ranked = ranking.ranked;
  const identicalTo: Partial<Record<SetupId, SetupId>> = Object.fromEntries(ranking.twinOf);
  const named = (x: SetupId): string => withTwins(x, setups.filter((y) => identicalTo[y] === x));
  // why a pair is ordered (under the crash scenarios a wipe-out counts before or by the shock: it ends the account either way)
  const whyOf = (by: keyof typeof WHY): string => (by === 'wipeOut' && pop === 'crash' ? `${WHY.wipeOut}, before or by the shock` : WHY[by]);
  let winner: SetupId | null = null;
  let tail = '';
  if (ranking.circular) {
    // (worded as the history verdict's circle: the better mode of each decided pair and why)
    tail = `tie: no mode served it better than every other, the differences go round in a circle (${ranked
      .flatMap((x, i) => ranked.slice(i + 1).map((y) => [x, y] as const))
      .filter(([x, y]) => pairOrder(x, y) !== 0)
      .map(([x, y]) => {
        const [a, b] = pairOrder(x, y) < 0 ? [x, y] : [y, x];
        return `${named(a)} over ${named(b)} with ${whyOf(stressOrder(diffOf(diffs, a, b)!.d).by)}`;
      })
      .join(', ')})`;
  } else if (ranked.length === 1 && ranking.twinOf.size) {
    tail = `tie: ${setupList(setups)} made identical runs ${pop === 'crash' ? 'at every injection' : 'on every path'}`;
  } else if (ranked.length >= 2) {
    const w = ranked[0]!;
    const l = ranked[1]!;
    const f = diffOf(diffs, w, l)!;
    const { by } = stressOrder(f.d);
    const r = f.d.totalReturn; // stored as b − a; turned into w − l
    const wl = f.sign === 1 ? { mean: r.mean === null ? null : -r.mean, lo: r.hi === null ? null : -r.hi, hi: r.lo === null ? null : -r.lo } : r;
    const retDiff = `return difference ${w} − ${l} ${pp(wl.mean)}${wl.lo === null || wl.hi === null ? '' : ` [${pp(wl.lo)}, ${pp(wl.hi)}]`}`;
    if (ranking.winner === w) {
      winner = w;
      tail = `${named(w)} served it (${whyOf(by)}; ${retDiff})`;
    } else {
      // the return or the liquidations favoured a setup that wiped out more often: said, not crowned (the first
      // pair of the top setup where that happened: with three setups it may be with the third)
      const held = [f.d, ...ranked.slice(2).map((x) => diffOf(diffs, w, x)?.d)].find((d) => d && stressOrder(d).against);
      const against = held ? stressOrder(held).against : undefined;
      if (held && against) {
        const other = against.favoured === held.a ? held.b : held.a;
        const wo = (x: SetupId) => share(pop, wipeOutsAtAll(bySetup[x]!));
        tail =
          against.worse === 'wipeOut'
            ? `tie: ${against.favoured} had ${WHY[against.by]} but wiped out more often (${pop === 'crash' ? 'on ' : ''}${wo(against.favoured)} against ${wo(other)}${pop === 'crash' ? ', before or by the shock' : ''}, a difference within noise; ${retDiff})`
            : `tie: ${against.favoured} had ${WHY[against.by]} but a lower return on average, by more than ${RETURN_TOL_PP} pp (a difference within noise; ${retDiff})`;
      } else tail = `tie${ranking.twinOf.size ? ` of ${named(w)} and ${named(l)}` : ''}: no difference beyond noise (${retDiff}${!r.noise ? `, within ${RETURN_TOL_PP} pp` : r.lo === null ? `, ${r.n} pair${r.n === 1 ? '' : 's'}: too few for an interval (fewer than ${MIN_PAIRS})` : ', an interval containing 0'})`;
      // with three setups the tie is of the first two: a third that one or both of them beat is said (the
      // sentence read as if no setup had served better than another, while the tied two both beat cross)
      const beaten = ranked.slice(2).flatMap((x) => {
        const over = [w, l].filter((y) => pairOrder(y, x) < 0);
        if (!over.length) return [];
        const why = over.map((y) => whyOf(stressOrder(diffOf(diffs, y, x)!.d).by));
        const because = why.every((b) => b === why[0]) ? why[0]! : over.map((y, i) => `${y} with ${why[i]}`).join(', ');
        return [`${over.length === 2 ? `${named(over[0]!)} and ${named(over[1]!)} both` : named(over[0]!)} served it better than ${named(x)} (${because})`];
      });
      if (beaten.length) tail += `; ${beaten.join('; ')}`;
    }
  }
  // errored runs never win; a population with fewer than two completed setups has no verdict
  const erroredBy = SETUP_IDS.map((s) => [s, runs.filter((r) => r.spec.setup === s && r.status !== 'ok').length] as const).filter(([, k]) => k > 0);
  const judged = setups.length >= 2;
  if (!judged) {
    const missing = SETUP_IDS.filter((s) => !setups.includes(s) && runs.some((r) => r.spec.setup === s));
    tail = missing.length ? `no verdict: ${missing.join(' and ')} completed no run here` : '';
  }
  if (erroredBy.length) tail = `${erroredBy.map(([s, k]) => `${k} ${s} run${k === 1 ? '' : 's'} errored`).join(', ')}${tail ? `; ${tail}` : ''}`;
  const n = views.length;
  // paths with crashes spliced in (stress.crashesPerPath): said, else their odds read as those of the bootstrapped history alone
  const crashCounts = views.map((k) => {
    const v = byView.get(k)!;
    const st = (v.isolated ?? v.cross ?? v.mixed)?.spec.stress;
    return st?.kind === 'path' ? (st.crashes?.length ?? 0) : 0;
  });
  const withCrashes = crashCounts.filter((c) => c > 0).length;
  const c0 = crashCounts[0] ?? 0;
  const crashNote =
    withCrashes === 0 ? '' : withCrashes === n && crashCounts.every((c) => c === c0) ? ` (${c0} crash${c0 === 1 ? '' : 'es'} spliced into each)` : ` (crashes spliced into ${withCrashes} of them)`;
  const head = pop === 'crash' ? `under the crash scenarios (${n} injection${n === 1 ? '' : 's'})` : `over ${n} Monte Carlo path${n === 1 ? '' : 's'}${crashNote}`;
  const parts = setups.map((s) => {
    const o = bySetup[s]!;
    const med = o.totalReturn.q[2] ?? null;
    const shock = lossAtShock[s]!.n ? `, median change at the shock ${fmtMetric('totalReturn', lossAtShock[s]!.q[2] ?? null)} of the account` : '';
    // the crash scenarios count what the shock did; what happened before it is said apart, never mixed in
    const by = pop === 'crash' ? 'by the shock on ' : '';
    const bs = o.beforeShock;
    const before = bs && (bs.liquidation.k > 0 || bs.wipeOut.k > 0) ? ` (before the shock: liquidated on ${share(pop, bs.liquidation)}, wiped out on ${share(pop, bs.wipeOut)})` : '';
    return `${s} wiped out ${by}${share(pop, o.wipeOut)}, liquidated ${by}${share(pop, o.liquidation)}${before}, median return ${fmtMetric('totalReturn', med)} (5% expected shortfall ${fmtMetric('totalReturn', o.expectedShortfall5)})${shock}`;
  });
  const line = `${head}: ${parts.join('; ')}${tail ? `; ${tail}` : ''}.`;
  return { population: pop, views: n, bySetup, diffs, winner, identicalTo, judged, line, fan, lossAtShock };
}

/** Identity of a configuration, as the history comparison groups it (see model.ts configIdentity). */
export type ConfigKeyFn = (spec: RunResult['spec'], withLeverage: boolean) => string;

/**
 * `historyOf(r)`: the liquidations of the history run of r's configuration and setup (historyIndex),
 * which a crash-pack run's liquidations after the shock are told apart from; by default none known.
 */
export function buildStressModel(
  stressRuns: readonly RunResult[],
  configKey: ConfigKeyFn,
  threshold: number = DEFAULT_SURVIVAL_THRESHOLD,
  historyOf: (r: RunResult) => HistoryOutcomes = () => null,
): StressModel | null {
  if (!stressRuns.length) return null;
  const outcome = (r: RunResult): StressOutcome => outcomeOf(r, historyOf(r));
  const runs = [...stressRuns].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) {
    const k = configKey(r.spec, true);
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const configs: StressConfig[] = [];
  /** each configuration's params, for the sort (numbers as numbers: every=48 before every=200) */
  const paramsOf = new Map<string, Record<string, unknown>>();
  const dataLabel = dataLabeller(runs);
  for (const [k, rs] of groups) {
    const first = rs[0]!.spec;
    const id = sha256Hex(k).slice(0, 12);
    const seed = parseInt(id.slice(0, 8), 16);
    const populations: Partial<Record<Population, PopulationSummary>> = {};
    for (const pop of POPULATIONS) {
      const sub = rs.filter((r) => r.spec.stress && populationOf(r.spec.stress) === pop);
      if (sub.some((r) => r.status === 'ok')) populations[pop] = summarizePopulation(pop, sub, seed, outcome);
    }
    const rows = new Map<string, ScenarioRow>();
    for (const r of rs) {
      const s = r.spec.stress;
      if (!s || s.kind !== 'scenario' || (r.status === 'ok' && !r.stress)) continue;
      const key = `${s.scenario}\u0000${String(s.injectAt).padStart(16, '0')}`;
      const row = rows.get(key) ?? { scenario: s.scenario, injectAt: s.injectAt, bySetup: {}, errored: {} };
      rows.set(key, row);
      // a scenario whose runs all errored stays listed (it vanished from the report, runs.csv alone said it ran)
      if (r.status !== 'ok' || !r.stress) {
        if (r.status === 'errored') row.errored[r.spec.setup] ??= { runId: r.runId, error: r.error };
        continue;
      }
      const shock = shockOutcome(r.stress, historyOf(r));
      row.bySetup[r.spec.setup] ??= {
        runId: r.runId,
        survived: r.stress.survived,
        wipedOut: r.stress.wipedOut,
        liquidatedBeforeShock: shock?.liquidatedBeforeShock ?? false,
        liquidatedByShock: shock?.liquidatedByShock ?? !r.stress.survived,
        liquidatedAsHistory: shock?.liquidatedAsHistory ?? false,
        wipedOutBeforeShock: shock?.wipedOutBeforeShock ?? false,
        wipedOutByShock: shock?.wipedOutByShock ?? r.stress.wipedOut,
        wipedOutAsHistory: shock?.wipedOutAsHistory ?? false,
        totalReturn: num(r, 'totalReturn'),
        lossAtShock: r.stress.lossAtShock,
        peakMarginRatio: 100 * r.stress.peakMarginRatio,
        timeToLiquidationMs: timeToLiquidation(r.stress),
        firstLiquidated: r.stress.firstLiquidated.map((x) => ({ symbol: x.symbol, time: x.time })),
      };
    }
    paramsOf.set(id, first.params);
    configs.push({
      id,
      strategy: first.strategy,
      paramsLabel: paramsLabel(first.params),
      venue: first.venue,
      dataLabel: dataLabel(first),
      dataset: first.dataset,
      timeframe: first.timeframe,
      leverage: first.leverage,
      initialCapital: first.initialCapital,
      populations,
      scenarios: [...rows.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, v]) => v),
    });
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  configs.sort((a, b) => cmp(a.strategy, b.strategy) || cmp(a.venue, b.venue) || cmpParams(paramsOf.get(a.id)!, paramsOf.get(b.id)!) || cmp(a.paramsLabel, b.paramsLabel) || cmp(a.dataLabel, b.dataLabel) || a.leverage - b.leverage || cmp(a.id, b.id));

  // leverage survival per configuration without leverage × setup × population
  const sweeps = new Map<string, { spec: RunResult['spec']; setup: SetupId; population: Population; points: Parameters<typeof survivalCurve>[0][number][] }>();
  for (const r of runs) {
    if (r.status !== 'ok' || !r.spec.stress) continue;
    const population = populationOf(r.spec.stress);
    const k = `${configKey(r.spec, false)}\u0000${r.spec.setup}\u0000${population}`;
    const e = sweeps.get(k) ?? { spec: r.spec, setup: r.spec.setup, population, points: [] };
    // survival = neither liquidated nor wiped out. Under the crash scenarios a run that went before the shock did not
    // survive either (it never reached the crash alive; counting it as a survivor made a leverage whose every run
    // died in the history before the crash look safe): it fails, and the table says how many failed that way
    const o = outcome(r);
    const b = o.beforeShock;
    e.points.push({
      leverage: r.spec.leverage,
      liquidated: o.liquidated || (b?.liquidated ?? false),
      wipedOut: o.wipedOut || (b?.wipedOut ?? false),
      inPosition: heldPosition(r),
      ...(b ? { beforeShock: b.liquidated || b.wipedOut } : {}),
    });
    sweeps.set(k, e);
  }
  const rowParams = new Map<SurvivalRow, Record<string, unknown>>();
  const survival: SurvivalRow[] = [...sweeps.values()].map((e) => {
    const curve = survivalCurve(e.points);
    const row: SurvivalRow = { strategy: e.spec.strategy, paramsLabel: paramsLabel(e.spec.params), venue: e.spec.venue, dataLabel: dataLabel(e.spec), dataset: e.spec.dataset, timeframe: e.spec.timeframe, setup: e.setup, population: e.population, curve, maxLeverage: maxLeverageUnder(curve, threshold) };
    rowParams.set(row, e.spec.params);
    return row;
  });
  survival.sort(
    (a, b) =>
      cmp(a.strategy, b.strategy) || cmp(a.venue, b.venue) || cmpParams(rowParams.get(a)!, rowParams.get(b)!) || cmp(a.paramsLabel, b.paramsLabel) || cmp(a.dataLabel, b.dataLabel) || POPULATIONS.indexOf(a.population) - POPULATIONS.indexOf(b.population) || setupRank(a.setup) - setupRank(b.setup),
  );
  const ok = runs.filter((r) => r.status === 'ok' && r.spec.stress);
  return {
    threshold,
    runs: {
      crash: runs.filter((r) => r.spec.stress?.kind === 'scenario').length,
      paths: runs.filter((r) => r.spec.stress?.kind === 'path').length,
      errored: runs.length - ok.length,
    },
    configs,
    survival,
    paramsKeys: paramsSortKeys(configs.map((c) => [c.paramsLabel, paramsOf.get(c.id)!] as const)),
  };
}

/**
 * The sentence appended to a history verdict: what each stress population says and whether the
 * history verdict (winner, or null for a tie / no verdict) holds under it.
 */
export function stressVerdictLine(history: SetupId | null, sc: StressConfig, compared = true): string {
  const pops = POPULATIONS.filter((p) => sc.populations[p]);
  if (!pops.length) return '';
  // a history where no order filled compared no mode: there is no verdict to hold (it read "The history verdict (a
  // tie in history) holds under the crash scenarios ..." for a 125x configuration whose every order was rejected)
  const lines = ` Stress: ${pops.map((p) => sc.populations[p]!.line.replace(/^./, (c) => c.toUpperCase())).join(' ')}`;
  if (!compared) return lines;
  const name = (p: Population) => (p === 'crash' ? 'under the crash scenarios' : 'over the Monte Carlo paths');
  const holds: string[] = [];
  const fails: string[] = [];
  for (const p of pops) {
    if (!sc.populations[p]!.judged) continue;
    const w = sc.populations[p]!.winner;
    if (w === history) holds.push(name(p));
    else fails.push(`${name(p)} (${w ? `${w} served it there` : 'a tie there'})`);
  }
  const hist = history === null ? 'a tie in history' : `${history} was best in history`;
  const verdict =
    holds.length === 0 && fails.length === 0
      ? ''
      : fails.length === 0
        ? ` The history verdict (${hist}) holds ${holds.join(' and ')}.`
        : holds.length === 0
          ? ` The history verdict (${hist}) does not hold ${fails.join(' or ')}.`
          : ` The history verdict (${hist}) holds ${holds.join(' and ')} but not ${fails.join(' or ')}.`;
  return `${lines}${verdict}`;
}

/** Loss at the shock as a money figure, '—' when absent. */
export function fmtLossAtShock(v: string | null): string {
  if (v === null) return '—';
  const x = Number(v);
  return Number.isFinite(x) ? fmtMoney(x, true) : '—';
}

