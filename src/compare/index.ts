/**
 * `marginlab compare <baseline> <current>`: tonight's run folder against a baseline (last night's,
 * the last good one). Runs are matched by their spec without the engine version, the data hashes
 * and the replay window (strategy, params, venue and its overrides, leverage, setup, dataset,
 * timeframe, symbols, capital, execution, stress scenario/path), so a new engine or a refreshed
 * dataset still pairs; what differs beyond the key is listed per run. The figures that matter
 * for margin (return, drawdown, liquidations and their loss, funding, fees, peak margin ratio,
 * capital efficiency, stress survival) are compared per run and summed per setup; `--fail-on`
 * rules (rules.ts) decide the exit code.
 */
import { METRICS } from '../analysis/index.js';
import { decimalDiff, decimalSum } from '../analysis/money.js';
import { dataError } from '../errors.js';
import { loadRunFolder, resultFilesSize, type RunFolder } from '../report/load.js';
import { checkHeapNeed, HEAP_PER_FILE_BYTE, heapBudget, heapHint } from '../report/heap.js';
import { cmpParams, missingRunsText, paramsLabel, shownMetrics, shownOutcome } from '../report/format.js';
import { COMPARISON_METRICS } from '../report/markdown.js';
import { SETUP_IDS, setupRank, type SetupId } from '../engine/setups.js';
import { cmpStr, configIdentity } from '../report/model.js';
import { canonicalJson } from '../shard/hash.js';
import { resumeCommand } from '../shard/plan-change.js';
import type { RunManifest, RunResult, RunSpec } from '../shard/types.js';
import { applyOp, ruleFails, type Rule } from './rules.js';
import { historyIndex, shockOutcome, timeToLiquidation, type ShockOutcome } from '../stress/types.js';

/** The metrics compared per run, in this order: the report's comparison columns (one list for both). */
export const COMPARE_METRICS = COMPARISON_METRICS;

/** Spec fields that may differ between the two sides of a pair (shown, never part of the key). */
const UNKEYED: readonly (keyof RunSpec)[] = ['engineVersion', 'dataHashes', 'from', 'to'];

export interface Side {
  dir: string;
  name: string;
  engineVersion: string;
  marginlabVersion: string;
  createdAt: string;
  runs: number;
  /** runs the folder holds when complete (its plan, or its shard's part of it) */
  planned: number;
  /** planned runs with no result */
  missing: number;
  /** the run writing the folder did not finish (interrupted or killed: manifest.json still says inProgress) */
  interrupted: boolean;
  /** the command that finishes the folder: `marginlab run --resume`, or `marginlab stress --resume` with the flags of its stress runs */
  resumeWith: string;
  /** the folder is one shard of its plan (--shard i/N, not merged): null when it holds the whole plan */
  shard: { index: number; count: number } | null;
}

export interface MetricDiff {
  baseline: number | null;
  current: number | null;
  /** current − baseline (null when either is null) */
  delta: number | null;
}

export interface StressDiff {
  kind: 'scenario' | 'path';
  survived: { baseline: boolean; current: boolean };
  wipedOut: { baseline: boolean; current: boolean };
  peakMarginRatio: MetricDiff;
  /** decimal strings as stored */
  lossAtShock: { baseline: string | null; current: string | null };
  timeToLiquidationMs: { baseline: number | null; current: number | null };
  /** scenario runs: what the shock did, apart from what happened before it (src/stress/types.ts shockOutcome) */
  shock?: { [K in Exclude<keyof ShockOutcome, 'timeToLiquidationMs'>]: { baseline: boolean; current: boolean } };
}

export interface RunLabel {
  strategy: string;
  params: string;
  venue: string;
  setup: SetupId;
  leverage: number;
  dataset: string;
  timeframe: string;
  /** stress scenario / Monte Carlo path label, absent for history runs */
  stressRun?: string;
}

export interface RunPair extends RunLabel {
  baselineRunId: string;
  currentRunId: string;
  status: { baseline: 'ok' | 'errored'; current: 'ok' | 'errored' };
  /** error message of the current run when it errored */
  error?: string;
  engineVersion: { baseline: string; current: string };
  metrics: Record<string, MetricDiff>;
  /** stress runs whose both sides completed (an errored run's stress figures stop where it failed: none are compared) */
  stress?: StressDiff;
  /** spec fields outside the key that differ (engine version, data hashes, window) */
  specDifferences: string[];
  failedRules: string[];
}

export interface OneSided extends RunLabel {
  runId: string;
  status: 'ok' | 'errored';
  failedRules: string[];
}

export interface SetupSummary {
  setup: SetupId;
  matched: number;
  /** pairs whose status differs between the sides (ok → errored, errored → ok) */
  statusChanged: number;
  /** pairs that errored in both folders (status errored → errored): no figures on either side */
  erroredOnBothSides: number;
  meanReturnDelta: number | null;
  meanMaxDrawdownDelta: number | null;
  liquidations: { baseline: number; current: number };
  liquidationLoss: { baseline: number; current: number };
  fundingNet: { baseline: number; current: number };
  fees: { baseline: number; current: number };
  /** pairs with at least one failed rule */
  failing: number;
}

export interface RuleOutcome {
  rule: string;
  /** runs that fail it (for missing/added: the runs missing / added when the count fails the rule, else 0) */
  failures: number;
}

export interface Comparison {
  schemaVersion: 1;
  baseline: Side;
  current: Side;
  engineVersionChanged: boolean;
  rules: RuleOutcome[];
  /** true when no rule fails */
  passed: boolean;
  pairs: RunPair[];
  setups: SetupSummary[];
  onlyInBaseline: OneSided[];
  onlyInCurrent: OneSided[];
}

/**
 * A run's spec without what a nightly job changes on its own, and without its injection times: a
 * scenario run's time (drawn from the window, or every N bars of it) and the times of a path's
 * crashes move when the window does. Scenario runs are paired by the rank of their time among their
 * group's (index()); a path's crashes by their order.
 */
function matchKey(spec: RunSpec): string {
  const rest: Record<string, unknown> = { ...spec };
  for (const k of UNKEYED) delete rest[k];
  const st = spec.stress;
  if (st?.kind === 'scenario') {
    const { injectAt: _t, ...keyed } = st;
    rest.stress = keyed;
  } else if (st?.kind === 'path' && st.crashes) {
    rest.stress = { ...st, crashes: st.crashes.map(({ injectAt: _t, ...c }) => c) };
  }
  return canonicalJson(rest);
}

function stressLabel(spec: RunSpec): string | undefined {
  const s = spec.stress;
  if (!s) return undefined;
  if (s.kind === 'scenario') return `scenario ${s.scenario} at ${new Date(s.injectAt).toISOString()}`;
  return `path ${s.pathIndex} (seed ${s.seed}${s.crashes?.length ? `, ${s.crashes.length} crash${s.crashes.length > 1 ? 'es' : ''}` : ''})`;
}

function label(r: RunResult): RunLabel {
  const s = r.spec;
  const l: RunLabel = {
    strategy: s.strategy,
    params: paramsLabel(s.params),
    venue: s.venue,
    setup: s.setup,
    leverage: s.leverage,
    dataset: s.dataset,
    timeframe: s.timeframe,
  };
  const st = stressLabel(s);
  if (st !== undefined) l.stressRun = st;
  return l;
}

/**
 * The runs of a folder by the key they pair on. `byRank`: scenario runs of one spec at several
 * times pair the k-th time of one folder with the k-th of the other (the window, and with it the
 * times, may have moved); a folder missing runs (a shard, an interrupted run) has no reliable
 * ranks, and its scenario runs pair by their exact time instead.
 */
function index(results: readonly RunResult[], dir: string, byRank: boolean): Map<string, RunResult> {
  const m = new Map<string, RunResult>();
  const keyed = results.map((r) => ({ r, k: matchKey(r.spec) }));
  const times = new Map<string, number[]>();
  for (const { r, k } of keyed) if (r.spec.stress?.kind === 'scenario') (times.get(k) ?? times.set(k, []).get(k)!).push(r.spec.stress.injectAt);
  for (const t of times.values()) t.sort((a, b) => a - b);
  for (const { r, k: base } of keyed) {
    const st = r.spec.stress;
    const k = st?.kind === 'scenario' ? (byRank ? `${base}#${times.get(base)!.indexOf(st.injectAt)}` : `${base}@${st.injectAt}`) : base;
    const prev = m.get(k);
    if (prev) throw dataError(`${dir}: runs ${prev.runId} and ${r.runId} have the same spec apart from engine version, data hashes and window; compare cannot pair them`);
    m.set(k, r);
  }
  return m;
}

const num = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/**
 * A run's figures as compared: an errored run has none (its metrics cover only the bars before it
 * stopped, and the report shows it without figures too), so no value rule fires on it and its
 * cells read —; `status!=ok` is the rule that catches it.
 */
const figures = (r: RunResult): { status: RunResult['status']; metrics: Readonly<Record<string, number | null>> } => ({ status: r.status, metrics: shownMetrics(r) });

/** A pair whose run errored in both folders: nothing of it is compared, so the outputs name it beside the status changes. */
export const erroredOnBothSides = (p: RunPair): boolean => p.status.baseline === 'errored' && p.status.current === 'errored';

const diff = (b: number | null | undefined, c: number | null | undefined): MetricDiff => {
  const bb = num(b);
  const cc = num(c);
  // the change on the decimals the two figures print as (fees 4.95623894 → 4.37244654: −0.5837924, not −0.5837924000000001)
  return { baseline: bb, current: cc, delta: bb !== null && cc !== null ? decimalDiff(cc, bb) : null };
};

function specDifferences(a: RunSpec, b: RunSpec): string[] {
  const out: string[] = [];
  if (a.engineVersion !== b.engineVersion) out.push(`engine ${a.engineVersion} → ${b.engineVersion}`);
  if (canonicalJson(a.dataHashes) !== canonicalJson(b.dataHashes)) {
    const files = [...new Set([...Object.keys(a.dataHashes), ...Object.keys(b.dataHashes)])].filter((f) => a.dataHashes[f] !== b.dataHashes[f]).sort();
    out.push(`data changed (${files.length} file${files.length === 1 ? '' : 's'}: ${files.slice(0, 3).join(', ')}${files.length > 3 ? ', …' : ''})`);
  }
  const win = (x: number | null) => (x === null ? 'dataset bounds' : new Date(x).toISOString());
  if (a.from !== b.from) out.push(`from ${win(a.from)} → ${win(b.from)}`);
  if (a.to !== b.to) out.push(`to ${win(a.to)} → ${win(b.to)}`);
  // injection times move with the window (paired by rank / order: matchKey)
  const sa = a.stress, sb = b.stress;
  if (sa?.kind === 'scenario' && sb?.kind === 'scenario' && sa.injectAt !== sb.injectAt) out.push(`shock at ${win(sa.injectAt)} → ${win(sb.injectAt)}`);
  if (sa?.kind === 'path' && sb?.kind === 'path' && canonicalJson(sa.crashes ?? []) !== canonicalJson(sb.crashes ?? [])) out.push('crash times moved with the window');
  return out;
}

/** the spec behind each labelled run (objects spread from label() carry the label's key: set after the spread) */
const specOfLabel = new WeakMap<RunLabel, RunSpec>();
const withSpec = <T extends RunLabel>(l: T, r: RunResult): T => (specOfLabel.set(l, r.spec), l);

/** history runs, then scenarios (by id, then injection time), then Monte Carlo paths by number (path 2 before path 10) */
function cmpStressRun(a: RunSpec | undefined, b: RunSpec | undefined): number {
  const key = (s: RunSpec['stress'] | undefined): [number, string, number] =>
    !s ? [0, '', 0] : s.kind === 'scenario' ? [1, s.scenario, s.injectAt] : [2, String(s.seed), s.pathIndex];
  const [x, y] = [key(a?.stress), key(b?.stress)];
  return x[0] - y[0] || cmpStr(x[1], y[1]) || x[2] - y[2];
}

function sortLabels<T extends RunLabel>(xs: T[]): T[] {
  return xs.sort(
    (a, b) =>
      cmpStr(a.strategy, b.strategy) ||
      // numbers as numbers: every=48 before every=200
      cmpParams(specOfLabel.get(a)?.params ?? {}, specOfLabel.get(b)?.params ?? {}) ||
      cmpStr(a.params, b.params) ||
      cmpStr(a.venue, b.venue) ||
      cmpStr(a.dataset, b.dataset) ||
      cmpStressRun(specOfLabel.get(a), specOfLabel.get(b)) ||
      cmpStr(a.stressRun ?? '', b.stressRun ?? '') ||
      a.leverage - b.leverage ||
      setupRank(a.setup) - setupRank(b.setup),
  );
}

function side(dir: string, folder: RunFolder): Side {
  const m = folder.manifest;
  return {
    dir,
    name: m.name,
    engineVersion: m.engineVersion,
    marginlabVersion: m.marginlabVersion,
    createdAt: m.createdAt,
    runs: folder.results.length,
    planned: folder.expected,
    missing: folder.missing,
    interrupted: m.inProgress === true,
    resumeWith: resumeCommand(m.config, dir, m.shard, m.command),
    shard: m.shard ? { index: m.shard.index, count: m.shard.count } : null,
  };
}

/**
 * What makes a compared folder incomplete, in words (null when it is complete). `other`: the folder it is compared
 * with; a shard compared with another folder than the same shard holds part of the plan (a shard's own runs were all
 * there, so it passed as complete, and the other shards' runs read as specs changed).
 */
export function incompleteNote(s: Side, other?: Side): string | null {
  const parts: string[] = [];
  if (s.interrupted) parts.push('the run writing it did not finish (interrupted or killed)');
  if (s.missing > 0) parts.push(missingRunsText(s.missing, s.planned));
  if (shardOfPlan(s, other)) parts.push(`it is shard ${s.shard!.index}/${s.shard!.count} of its plan: the runs of the other shards are not in it`);
  return parts.length ? parts.join('; ') : null;
}

/** `s` is one shard of its plan, compared with a folder that is not the same shard (of the same count). */
export function shardOfPlan(s: Side, other?: Side): boolean {
  return s.shard !== null && !(other?.shard && other.shard.index === s.shard.index && other.shard.count === s.shard.count);
}

/**
 * Compare two run folders (written by `marginlab run` or `merge`) under `rules`. Both are held at once:
 * refused (exit 78) before the first is read when their results together would take more heap than the
 * process has (`heapBudget`, default report/heap.ts heapBudget), as each folder is by loadRunFolder.
 */
export function compareFolders(baselineDir: string, currentDir: string, rules: readonly Rule[], opts: { heapBudget?: number } = {}): Comparison {
  const sizes = [baselineDir, currentDir].map(resultFilesSize);
  if (sizes[0] && sizes[1]) {
    const bytes = sizes[0].bytes + sizes[1].bytes;
    checkHeapNeed(
      { doing: 'reading them', runs: sizes[0].runs + sizes[1].runs, bytes, need: bytes * HEAP_PER_FILE_BYTE.whole, budget: opts.heapBudget ?? heapBudget() },
      `compare: ${baselineDir} with ${currentDir}`,
      heapHint('compare them'),
    );
  }
  const base = loadRunFolder(baselineDir);
  const cur = loadRunFolder(currentDir);
  return compareResults(side(baselineDir, base), base.results, side(currentDir, cur), cur.results, rules);
}

/** The comparison of two sets of results (compareFolders without the folders). */
export function compareResults(baseline: Side, baseResults: readonly RunResult[], current: Side, curResults: readonly RunResult[], rules: readonly Rule[]): Comparison {
  // ranks pair only complete folders: with a run missing on one side, every later time's rank shifts
  const byRank = baseline.missing === 0 && current.missing === 0;
  const b = index(baseResults, baseline.dir, byRank);
  const c = index(curResults, current.dir, byRank);
  // each folder's history runs: a crash-pack run's liquidation that its history run has too is not the shock's (as the report reads it)
  const baseHistory = historyIndex(baseResults, (s) => configIdentity(s, true));
  const curHistory = historyIndex(curResults, (s) => configIdentity(s, true));
  // a rule given twice (two --fail-on flags, or once in each of two lists) is one rule: counted once
  rules = rules.filter((r, i) => rules.findIndex((x) => x.text === r.text) === i);
  const runRules = rules.filter((r) => r.kind !== 'count');
  const failures = new Map<string, number>(rules.map((r) => [r.text, 0]));
  const fail = (r: Rule) => failures.set(r.text, (failures.get(r.text) ?? 0) + 1);

  const pairs: RunPair[] = [];
  const onlyInCurrent: OneSided[] = [];
  for (const [k, cr] of c) {
    const br = b.get(k);
    const failed: string[] = [];
    for (const rule of runRules) {
      if (ruleFails(rule, figures(cr), br ? figures(br) : null)) {
        failed.push(rule.text);
        fail(rule);
      }
    }
    if (!br) {
      onlyInCurrent.push(withSpec({ ...label(cr), runId: cr.runId, status: cr.status, failedRules: failed }, cr));
      continue;
    }
    const metrics: Record<string, MetricDiff> = {};
    for (const id of COMPARE_METRICS) metrics[id] = diff(figures(br).metrics[id], figures(cr).metrics[id]);
    const pair: RunPair = {
      ...label(cr),
      baselineRunId: br.runId,
      currentRunId: cr.runId,
      status: { baseline: br.status, current: cr.status },
      engineVersion: { baseline: br.spec.engineVersion, current: cr.spec.engineVersion },
      metrics,
      specDifferences: specDifferences(br.spec, cr.spec),
      failedRules: failed,
    };
    if (cr.status === 'errored' && cr.error) pair.error = cr.error;
    // the stress figures as the report shows them: an errored run has none (they stop where it failed, as its
    // metrics), so a pair is compared under stress only when both of its runs completed
    const bst = shownOutcome(br).stress;
    const cst = shownOutcome(cr).stress;
    if (bst && cst) {
      pair.stress = {
        kind: cst.kind,
        survived: { baseline: bst.survived, current: cst.survived },
        wipedOut: { baseline: bst.wipedOut, current: cst.wipedOut },
        peakMarginRatio: diff(bst.peakMarginRatio, cst.peakMarginRatio),
        lossAtShock: { baseline: bst.lossAtShock, current: cst.lossAtShock },
        timeToLiquidationMs: { baseline: timeToLiquidation(bst), current: timeToLiquidation(cst) },
      };
      const bs = shockOutcome(bst, baseHistory(br));
      const cs = shockOutcome(cst, curHistory(cr));
      if (bs && cs) {
        const two = (k: Exclude<keyof ShockOutcome, 'timeToLiquidationMs'>) => ({ baseline: bs[k], current: cs[k] });
        pair.stress.shock = {
          liquidatedBeforeShock: two('liquidatedBeforeShock'),
          liquidatedByShock: two('liquidatedByShock'),
          liquidatedAsHistory: two('liquidatedAsHistory'),
          wipedOutBeforeShock: two('wipedOutBeforeShock'),
          wipedOutByShock: two('wipedOutByShock'),
          wipedOutAsHistory: two('wipedOutAsHistory'),
        };
      }
    }
    pairs.push(withSpec(pair, cr));
  }
  const onlyInBaseline: OneSided[] = [];
  for (const [k, br] of b) if (!c.has(k)) onlyInBaseline.push(withSpec({ ...label(br), runId: br.runId, status: br.status, failedRules: [] }, br));

  for (const rule of rules) {
    if (rule.kind !== 'count') continue;
    const n = rule.field === 'missing' ? onlyInBaseline.length : onlyInCurrent.length;
    // its failures are the runs it counts (missing>0 with 3 runs missing: 3 runs), not 1
    if (applyOp(rule.op, n, rule.threshold)) failures.set(rule.text, Math.max(n, 1));
  }

  const setups: SetupSummary[] = [];
  for (const setup of SETUP_IDS) {
    const ps = pairs.filter((p) => p.setup === setup);
    if (ps.length === 0) continue;
    const mean = (id: string): number | null => {
      const ds = ps.map((p) => p.metrics[id]!.delta).filter((d): d is number => d !== null);
      return ds.length ? decimalSum(ds) / ds.length : null;
    };
    // both sides summed over the same runs: the pairs with figures on both sides (as the mean changes), so a run
    // that errored on one side (no figures) does not leave its other side's fees or liquidations in one sum only
    const sum = (id: string) => {
      const both = ps.filter((p) => p.metrics[id]!.baseline !== null && p.metrics[id]!.current !== null);
      return {
        // exact on the figures' decimals, as the books sum money (−519.79797255, not −519.7979725499999)
        baseline: decimalSum(both.map((p) => p.metrics[id]!.baseline!)),
        current: decimalSum(both.map((p) => p.metrics[id]!.current!)),
      };
    };
    setups.push({
      setup,
      matched: ps.length,
      statusChanged: ps.filter((p) => p.status.baseline !== p.status.current).length,
      erroredOnBothSides: ps.filter(erroredOnBothSides).length,
      meanReturnDelta: mean('totalReturn'),
      meanMaxDrawdownDelta: mean('maxDrawdown'),
      liquidations: sum('liquidations'),
      liquidationLoss: sum('liquidationLoss'),
      fundingNet: sum('fundingNet'),
      fees: sum('fees'),
      failing: ps.filter((p) => p.failedRules.length > 0).length,
    });
  }
  const outcomes = rules.map((r) => ({ rule: r.text, failures: failures.get(r.text) ?? 0 }));
  return {
    schemaVersion: 1,
    baseline,
    current,
    engineVersionChanged: baseline.engineVersion !== current.engineVersion,
    rules: outcomes,
    passed: outcomes.every((o) => o.failures === 0),
    pairs: sortLabels(pairs),
    setups,
    onlyInBaseline: sortLabels(onlyInBaseline),
    onlyInCurrent: sortLabels(onlyInCurrent),
  };
}

export const METRIC_TITLES: Record<string, string> = Object.fromEntries(METRICS.map((m) => [m.id, m.short]));
/** metric id → whether higher is better (null: neither), from the metrics registry */
export const HIGHER_IS_BETTER: Record<string, boolean | null> = Object.fromEntries(METRICS.map((m) => [m.id, m.higherIsBetter]));
