/**
 * The report model: runs grouped into comparable configurations (same strategy, params, venue,
 * leverage, data and execution; differing only by margin setup), one verdict per configuration,
 * a verdict per strategy, the leverage sweep, and failures. Pure and deterministic: the same
 * results in any order give the same model.
 */
import { canonicalJson, sha256Hex } from '../shard/hash.js';
import type { RunManifest, RunResult, RunSpec } from '../shard/types.js';
import { fmtMetric, isoDate, paramsLabel } from './format.js';

export type SetupId = RunSpec['setup'];
export const SETUP_ORDER: readonly SetupId[] = ['isolated', 'cross', 'mixed'];

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

/** Identity of a configuration: the spec without its setup (and without engine/data hashes, which are equal within a folder). */
function configIdentity(spec: RunSpec, withLeverage: boolean): string {
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
  symbols: string[];
  initialCapital: string;
  /** runs of this configuration by setup (ok or errored) */
  runs: Partial<Record<SetupId, RunResult>>;
  verdict: Verdict | null;
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
  setup: SetupId;
  /** leverages run (ok runs), ascending */
  leverages: number[];
  /** highest tested leverage with zero liquidations; null when every leverage was liquidated */
  maxSafeLeverage: number | null;
  /** lowest tested leverage with at least one liquidation; null when none was */
  minLiquidatedLeverage: number | null;
}

export interface ReportModel {
  name: string;
  manifest: RunManifest;
  /** every run, sorted by runId */
  runs: RunResult[];
  configs: ConfigGroup[];
  strategies: StrategySection[];
  failures: RunResult[];
  counts: { total: number; ok: number; errored: number };
  /** notes the reader must see (e.g. liquidation checks on trade prices) */
  notes: string[];
}

const num = (r: RunResult, id: string): number | null => {
  const v = r.metrics[id];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

/** Tolerances under which two modes count as equal on a criterion. */
const RETURN_TOL_PP = 1;
const DD_TOL_PP = 1;

/**
 * Order two ok runs of one configuration: negative when `a` served better.
 * 1. total return (higher), unless within 1 percentage point;
 * 2. liquidations (fewer);
 * 3. max drawdown (lower), unless within 1 percentage point;
 * 4. when both made money: capital efficiency (higher); otherwise average capital at risk (lower:
 *    the same result with less capital exposed);
 * 0 when all are equal within tolerance.
 */
export function compareRuns(a: RunResult, b: RunResult): number {
  return decideRuns(a, b).order;
}

type Criterion = 'return' | 'liquidations' | 'drawdown' | 'capitalEfficiency' | 'capitalAtRisk' | 'none';

function decideRuns(a: RunResult, b: RunResult): { order: number; by: Criterion } {
  const ra = num(a, 'totalReturn') ?? -Infinity;
  const rb = num(b, 'totalReturn') ?? -Infinity;
  if (ra !== rb && (Math.abs(ra - rb) > RETURN_TOL_PP || !Number.isFinite(ra - rb))) return { order: rb > ra ? 1 : -1, by: 'return' };
  const la = num(a, 'liquidations') ?? 0;
  const lb = num(b, 'liquidations') ?? 0;
  if (la !== lb) return { order: la < lb ? -1 : 1, by: 'liquidations' };
  const da = num(a, 'maxDrawdown') ?? Infinity;
  const db = num(b, 'maxDrawdown') ?? Infinity;
  if (da !== db && (Math.abs(da - db) > DD_TOL_PP || !Number.isFinite(da - db))) return { order: da < db ? -1 : 1, by: 'drawdown' };
  if (ra > 0 && rb > 0) {
    const ea = num(a, 'capitalEfficiency');
    const eb = num(b, 'capitalEfficiency');
    if (ea !== null && eb !== null && Math.abs(ea - eb) > 1e-9) return { order: eb > ea ? 1 : -1, by: 'capitalEfficiency' };
  } else {
    const ca = num(a, 'capitalAtRiskAvg');
    const cb = num(b, 'capitalAtRiskAvg');
    if (ca !== null && cb !== null && Math.abs(ca - cb) > 1e-9 * Math.max(1, Math.abs(ca))) return { order: ca < cb ? -1 : 1, by: 'capitalAtRisk' };
  }
  return { order: 0, by: 'none' };
}

const f = fmtMetric;

function liqPhrase(setup: SetupId, r: RunResult): string {
  const n = num(r, 'liquidations') ?? 0;
  if (n === 0) return `${setup} 0`;
  return `${setup} ${n}× (${f('liquidationLoss', num(r, 'liquidationLoss'))} lost)`;
}

/** Verdict of one configuration from its ok runs (null when fewer than two setups completed). */
export function verdictFor(runs: Partial<Record<SetupId, RunResult>>): Verdict | null {
  const ok = SETUP_ORDER.filter((s) => runs[s]?.status === 'ok').map((s) => ({ s, r: runs[s]! }));
  if (ok.length < 2) return null;
  const ranked = [...ok].sort((x, y) => compareRuns(x.r, y.r) || SETUP_ORDER.indexOf(x.s) - SETUP_ORDER.indexOf(y.s));
  const w = ranked[0]!;
  const l = ranked[1]!;
  const pair = (id: string) => `${f(id, num(w.r, id))} vs ${f(id, num(l.r, id))}`;
  const liqW = num(w.r, 'liquidations') ?? 0;
  const liqL = num(l.r, 'liquidations') ?? 0;
  const liq = liqW === 0 && liqL === 0 ? 'no liquidations in either' : `liquidations ${liqPhrase(w.s, w.r)}, ${liqPhrase(l.s, l.r)}`;
  const mr = `max margin ratio ${pair('marginRatioMax')}`;

  if (compareRuns(w.r, l.r) === 0) {
    return {
      winner: null,
      line: `${w.s} and ${l.s} served it equally: return ${pair('totalReturn')}, max drawdown ${pair('maxDrawdown')}; ${liq}; ${mr}.`,
    };
  }
  const { by } = decideRuns(w.r, l.r);
  const same = `same return within ${RETURN_TOL_PP} pp (${pair('totalReturn')})`;
  const why =
    by === 'return'
      ? `return ${pair('totalReturn')}, max drawdown ${pair('maxDrawdown')}`
      : by === 'liquidations'
        ? `${same} with fewer liquidations, max drawdown ${pair('maxDrawdown')}`
        : by === 'drawdown'
          ? `${same} with a shallower max drawdown ${pair('maxDrawdown')}`
          : by === 'capitalEfficiency'
            ? `${same} and drawdown (${pair('maxDrawdown')}), earned on less capital at risk: capital efficiency ${pair('capitalEfficiency')}`
            : `${same} and drawdown (${pair('maxDrawdown')}), with less capital at risk: average ${pair('capitalAtRiskAvg')}`;
  // the strongest counterpoint in favour of the runner-up
  const buts: string[] = [];
  const ddW = num(w.r, 'maxDrawdown');
  const ddL = num(l.r, 'maxDrawdown');
  if (ddW !== null && ddL !== null && ddL + DD_TOL_PP < ddW) buts.push(`${l.s} had the shallower drawdown (${f('maxDrawdown', ddL)})`);
  const ceW = num(w.r, 'capitalEfficiency');
  const ceL = num(l.r, 'capitalEfficiency');
  if (by === 'return' && ceW !== null && ceL !== null && ceL > 0 && ceL > ceW && ceL - ceW > 0.1 * Math.abs(ceW) + 0.5) {
    buts.push(`${l.s} earned more per unit of capital at risk (capital efficiency ${f('capitalEfficiency', ceL)} vs ${f('capitalEfficiency', ceW)})`);
  }
  if (liqL < liqW) buts.push(`${l.s} was liquidated less often (${liqL} vs ${liqW})`);
  const others = ranked.length > 2 ? ` (then ${ranked.slice(2).map((x) => `${x.s} ${f('totalReturn', num(x.r, 'totalReturn'))}`).join(', ')})` : '';
  return {
    winner: w.s,
    line: `${w.s} served it better than ${l.s}${others}: ${why}; ${liq}; ${mr}${buts.length ? `; but ${buts.join(', and ')}` : ''}.`,
  };
}

function strategyVerdict(configs: ConfigGroup[]): Verdict | null {
  const judged = configs.filter((c) => c.verdict);
  if (judged.length === 0) return null;
  if (judged.length === 1) return judged[0]!.verdict;
  const wins = new Map<string, number>();
  for (const c of judged) {
    const k = c.verdict!.winner ?? 'tie';
    wins.set(k, (wins.get(k) ?? 0) + 1);
  }
  const order = [...SETUP_ORDER, 'tie'];
  const ranked = [...wins.entries()].sort((a, b) => b[1] - a[1] || order.indexOf(a[0]) - order.indexOf(b[0]));
  const top = ranked[0]!;
  const tieTop = ranked.length > 1 && ranked[1]![1] === top[1];
  const parts = ranked.map(([k, n]) => (k === 'tie' ? `${n} tied` : `${k} in ${n}`)).join(', ');
  // aggregate numbers per setup across the configurations
  const agg = SETUP_ORDER.map((s) => {
    const rs = judged.map((c) => c.runs[s]).filter((r): r is RunResult => r?.status === 'ok');
    if (!rs.length) return null;
    const liqs = rs.reduce((a, r) => a + (num(r, 'liquidations') ?? 0), 0);
    const rets = rs.map((r) => num(r, 'totalReturn')).filter((x): x is number => x !== null).sort((a, b) => a - b);
    const med = rets.length ? rets[Math.floor((rets.length - 1) / 2)]! : null;
    return `${s}: median return ${f('totalReturn', med)}, ${liqs} liquidation${liqs === 1 ? '' : 's'} in ${rs.length} runs`;
  }).filter((x): x is string => x !== null);
  const winner = tieTop || top[0] === 'tie' ? null : (top[0] as SetupId);
  const head = winner ? `${winner} served it in ${top[1]} of ${judged.length} configurations` : `no mode served it consistently across ${judged.length} configurations`;
  return { winner, line: `${head} (${parts}); ${agg.join('; ')}.` };
}

export function buildModel(results: readonly RunResult[], manifest: RunManifest): ReportModel {
  const runs = [...results].sort(byRunId);
  const byKey = new Map<string, ConfigGroup>();
  for (const r of runs) {
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
        symbols: [...r.spec.symbols],
        initialCapital: r.spec.initialCapital,
        runs: {},
        verdict: null,
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
      cmpStr(a.paramsLabel, b.paramsLabel) ||
      a.leverage - b.leverage ||
      cmpStr(a.dataset, b.dataset) ||
      cmpStr(a.id, b.id),
  );
  for (const c of configs) c.verdict = verdictFor(c.runs);

  const strategies: StrategySection[] = [];
  for (const c of configs) {
    let s = strategies.find((x) => x.strategy === c.strategy);
    if (!s) strategies.push((s = { strategy: c.strategy, configs: [], verdict: null }));
    s.configs.push(c);
  }
  for (const s of strategies) s.verdict = strategyVerdict(s.configs);

  const failures = runs.filter((r) => r.status !== 'ok');
  const notes: string[] = [];
  const tradeSrc = runs.filter((r) => r.status === 'ok' && r.liquidationPriceSource !== 'mark');
  if (tradeSrc.length) {
    notes.push(
      `${tradeSrc.length} of ${runs.length} runs checked liquidations on trade prices (no mark-price candles for every symbol): liquidations may trigger earlier or later than on the venue.`,
    );
  }
  const optimistic = runs.filter((r) => r.crossCheck === 'optimistic' && r.spec.symbols.length > 1);
  if (optimistic.length) notes.push(`${optimistic.length} multi-symbol runs checked cross pools at the close only (optimistic): intrabar cross liquidations can be missed.`);
  // warnings about the config meeting the data (e.g. bars longer than the funding interval), recorded at run time
  for (const w of manifest.warnings ?? []) notes.push(w);

  return {
    name: manifest.name,
    manifest,
    runs,
    configs,
    strategies,
    failures,
    counts: { total: runs.length, ok: runs.length - failures.length, errored: failures.length },
    notes,
  };
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
  const m = new Map<string, Set<string>>();
  for (const r of runs) {
    const k = `${r.spec.dataset} ${r.spec.timeframe}`;
    let set = m.get(k);
    if (!set) m.set(k, (set = new Set()));
    for (const s of r.spec.symbols) set.add(s);
  }
  return [...m.keys()].sort().map((k) => `${k} (${[...m.get(k)!].sort().join(', ')})`);
}

/** 'YYYY-MM-DD → YYYY-MM-DD' from the earliest `from` to the latest `to` of the runs; '' when unknown. */
export function dataPeriod(runs: readonly RunResult[]): string {
  const from = Math.min(...runs.map((r) => r.spec.from ?? Infinity));
  const to = Math.max(...runs.map((r) => r.spec.to ?? -Infinity));
  return Number.isFinite(from) && Number.isFinite(to) ? `${isoDate(from)} → ${isoDate(to)}` : '';
}

/** How a configuration's winner is picked, for table footnotes. */
export const VERDICT_RULE =
  'higher return; within 1 pp, fewer liquidations, then shallower drawdown, then capital efficiency (if profitable) or less capital at risk';
