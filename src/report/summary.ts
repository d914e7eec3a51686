/**
 * summary.json: the machine-readable report (schema documented in docs/report.md, validated by
 * SummarySchema). Stable and deterministic: runs sorted by runId, objects with sorted keys where
 * they come from user config, no wall-clock fields. Byte-identical for the same results whatever
 * the worker count or result order.
 */
import { z } from 'zod';
import { METRICS } from '../analysis/index.js';
import { SETUP_IDS, type SetupId } from '../engine/setups.js';
import type { RunResult } from '../shard/types.js';
import { canonical, cmpStr, type ReportModel, type SweepRow } from './model.js';
import { BOOTSTRAP_ITERATIONS, QUANTILES, type PairedInterval } from '../analysis/stress.js';
import { POPULATIONS, shockLiquidationLoss, type StressModel } from './stress.js';
import { shockOutcome, timeToLiquidation, type HistoryOutcomes, type ShockOutcome } from '../stress/types.js';
import type { ModeTotals } from './aggregate.js';
import { shownMetrics, shownOutcome } from './format.js';

/** 2: stress runs (runs[].stress, top-level stress), period metric returnOnCapitalAtRisk. 3: runs[].stress.peakMarginRatio in %, runs[].stress.liquidationLossByShock (added within 3: liquidatedAsHistory, wipedOutAsHistory; see docs/report.md). */
export const SUMMARY_SCHEMA_VERSION = 3 as const;

const setupEnum = z.enum(SETUP_IDS);
const metricValue = z.number().nullable();
const populationEnum = z.enum(['crash', 'paths']);

const proportionSchema = z.strictObject({ k: z.number().int().nonnegative(), n: z.number().int().nonnegative(), p: z.number().nullable(), lo: z.number().nullable(), hi: z.number().nullable() });
const distributionSchema = z.strictObject({ n: z.number().int().nonnegative(), q: z.array(z.number().nullable()), mean: z.number().nullable() });
const intervalSchema = z.strictObject({ n: z.number().int().nonnegative(), mean: z.number().nullable(), lo: z.number().nullable(), hi: z.number().nullable(), noise: z.boolean() });
const liquidatedSchema = z.array(z.strictObject({ symbol: z.string(), time: z.number() }));

/** Per run: the stress view replayed (RunSpec.stress) and the run's stress figures (RunResult.stress); null for history runs. */
const runStressSchema = z.strictObject({
  view: z.record(z.string(), z.unknown()),
  survived: z.boolean().nullable(),
  wipedOut: z.boolean().nullable(),
  /** scenario runs: what the shock did, apart from what happened before it; null for path runs */
  liquidatedBeforeShock: z.boolean().nullable(),
  liquidatedByShock: z.boolean().nullable(),
  /** scenario runs: a liquidation after the shock's line that the history run has too (same time and symbol), not counted as the shock's; null for path runs */
  liquidatedAsHistory: z.boolean().nullable(),
  wipedOutBeforeShock: z.boolean().nullable(),
  wipedOutByShock: z.boolean().nullable(),
  /** scenario runs: a wipe-out after the shock's line no sooner than the history run's own, not counted as the shock's; null for path runs */
  wipedOutAsHistory: z.boolean().nullable(),
  timeToLiquidationMs: z.number().nullable(),
  /** in % (100 = the liquidation point), as metrics.marginRatioMax and the scenario rows (a fraction in schema 2) */
  peakMarginRatio: z.number().nullable(),
  lossAtShock: z.string().nullable(),
  /** decimal string, quote: what the wallet lost to liquidations from the open of the shock's bar on (scenario runs); null for path runs and for results written before marginlab recorded it */
  liquidationLossByShock: z.string().nullable(),
  firstLiquidated: liquidatedSchema,
});

export const SummaryStressSchema = z.strictObject({
  /** quantile levels of every `q` array */
  quantiles: z.array(z.number()),
  survivalThreshold: z.number(),
  bootstrap: z.strictObject({ iterations: z.number().int(), confidence: z.number() }),
  runs: z.strictObject({ crash: z.number().int(), paths: z.number().int(), errored: z.number().int() }),
  configs: z.array(
    z.strictObject({
      id: z.string(),
      strategy: z.string(),
      params: z.string(),
      venue: z.string(),
      dataset: z.string(),
      timeframe: z.string(),
      leverage: z.number(),
      populations: z.array(
        z.strictObject({
          population: populationEnum,
          views: z.number().int(),
          winner: setupEnum.nullable(),
          identicalTo: z.partialRecord(setupEnum, setupEnum),
          verdict: z.string(),
          setups: z.array(
            z.strictObject({
              setup: setupEnum,
              runs: z.number().int(),
              liquidation: proportionSchema,
              wipeOut: proportionSchema,
              totalReturn: distributionSchema,
              expectedShortfall5: z.number().nullable(),
              maxDrawdown: distributionSchema,
              liquidationLoss: distributionSchema,
              timeToLiquidationMs: distributionSchema,
              lossAtShockPct: distributionSchema,
              /** crash scenarios: runs liquidated / wiped out before the shock (not in liquidation / wipeOut); null over paths */
              beforeShock: z.strictObject({ liquidation: proportionSchema, wipeOut: proportionSchema }).nullable(),
            }),
          ),
          diffs: z.array(z.strictObject({ a: setupEnum, b: setupEnum, totalReturn: intervalSchema, wipeOut: intervalSchema, liquidation: intervalSchema })),
        }),
      ),
      scenarios: z.array(
        z.strictObject({
          scenario: z.string(),
          injectAt: z.number(),
          setups: z.array(
            z.strictObject({
              setup: setupEnum,
              runId: z.string(),
              survived: z.boolean(),
              wipedOut: z.boolean(),
              liquidatedBeforeShock: z.boolean(),
              liquidatedByShock: z.boolean(),
              liquidatedAsHistory: z.boolean(),
              wipedOutBeforeShock: z.boolean(),
              wipedOutByShock: z.boolean(),
              wipedOutAsHistory: z.boolean(),
              totalReturn: z.number().nullable(),
              lossAtShock: z.string().nullable(),
              peakMarginRatio: z.number(),
              timeToLiquidationMs: z.number().nullable(),
              firstLiquidated: liquidatedSchema,
            }),
          ),
          /** the setups whose run errored here (listed, never counted); absent in older summaries */
          errored: z.array(z.strictObject({ setup: setupEnum, runId: z.string(), error: z.string() })).optional(),
        }),
      ),
    }),
  ),
  survival: z.array(
    z.strictObject({
      strategy: z.string(),
      params: z.string(),
      venue: z.string(),
      dataset: z.string(),
      timeframe: z.string(),
      setup: setupEnum,
      population: populationEnum,
      /** failure: liquidated or wiped out (what maxLeverage weighs); liquidation: liquidated */
      curve: z.array(z.strictObject({ leverage: z.number(), liquidation: proportionSchema, failure: proportionSchema, failedBeforeShock: z.number().int().nonnegative().nullable(), untested: z.boolean() })),
      maxLeverage: z.number().nullable(),
    }),
  ),
});

export const SummaryRunSchema = z.strictObject({
  runId: z.string().min(1),
  status: z.enum(['ok', 'errored']),
  error: z.string().nullable(),
  strategy: z.string(),
  params: z.record(z.string(), z.unknown()),
  venue: z.string(),
  venueOverrides: z.record(z.string(), z.unknown()).nullable(),
  setup: setupEnum,
  leverage: z.number().positive(),
  dataset: z.string(),
  timeframe: z.string(),
  symbols: z.array(z.string()),
  from: z.number().nullable(),
  to: z.number().nullable(),
  initialCapital: z.string(),
  bars: z.number().int().nonnegative(),
  liquidationPriceSource: z.enum(['mark', 'trade', 'mixed']),
  crossCheck: z.enum(['pessimistic', 'optimistic']),
  metrics: z.record(z.string(), metricValue),
  rejections: z.record(z.string(), z.number().int().nonnegative()),
  books: z.record(z.string(), z.string()),
  stress: runStressSchema.nullable(),
});

export const SummarySchema = z.strictObject({
  schema: z.literal('marginlab.summary'),
  schemaVersion: z.literal(SUMMARY_SCHEMA_VERSION),
  name: z.string(),
  marginlabVersion: z.string(),
  engineVersion: z.string(),
  shard: z.strictObject({ index: z.number().int(), count: z.number().int() }).nullable(),
  datasets: z.array(z.strictObject({ name: z.string(), hashes: z.record(z.string(), z.string()) })),
  counts: z.strictObject({ total: z.number().int(), ok: z.number().int(), errored: z.number().int(), planned: z.number().int(), missing: z.number().int() }),
  /** false when planned runs have no result (a shard not merged, an interrupted run): counts.missing says how many */
  complete: z.boolean(),
  metrics: z.array(
    z.strictObject({
      id: z.string(),
      title: z.string(),
      unit: z.string(),
      tags: z.array(z.enum(['core', 'perp', 'margin'])),
      higherIsBetter: z.boolean().nullable(),
    }),
  ),
  runs: z.array(SummaryRunSchema),
  comparisons: z.array(
    z.strictObject({
      id: z.string(),
      strategy: z.string(),
      params: z.record(z.string(), z.unknown()),
      venue: z.string(),
      leverage: z.number(),
      dataset: z.string(),
      timeframe: z.string(),
      symbols: z.array(z.string()),
      runs: z.partialRecord(setupEnum, z.string()),
      winner: setupEnum.nullable(),
      /** a setup whose run was identical to another's → that setup (compared as it: it wins or ties with it) */
      identicalTo: z.partialRecord(setupEnum, setupEnum),
      verdict: z.string().nullable(),
    }),
  ),
  strategies: z.array(z.strictObject({ strategy: z.string(), winner: setupEnum.nullable(), verdict: z.string().nullable() })),
  leverageSweep: z.array(
    z.strictObject({
      strategy: z.string(),
      params: z.string(),
      venue: z.string(),
      dataset: z.string(),
      timeframe: z.string(),
      setup: setupEnum,
      leverages: z.array(z.number()),
      untestedLeverages: z.array(z.number()),
      maxSafeLeverage: z.number().nullable(),
      minLiquidatedLeverage: z.number().nullable(),
    }),
  ),
  modes: z.array(
    z.strictObject({
      mode: setupEnum,
      runs: z.number().int(),
      liquidations: z.number().int(),
      runsLiquidated: z.number().int(),
      nearMisses: z.number().int(),
    }),
  ),
  /** stress aggregates (null when the folder has no stress runs); docs/report.md "Stress" */
  stress: SummaryStressSchema.nullable(),
});

export type Summary = z.infer<typeof SummarySchema>;

function summaryRun(r: RunResult, history: HistoryOutcomes): z.infer<typeof SummaryRunSchema> {
  const metrics: Record<string, number | null> = {};
  const shown = shownMetrics(r);
  // an errored run shows no books, rejections or stress figures either (they stop where it failed)
  const out = shownOutcome(r);
  const st = out.stress;
  for (const m of METRICS) {
    const v = shown[m.id];
    metrics[m.id] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  // metrics the registry does not know (newer writer) are kept, after the registry's
  for (const k of Object.keys(shown).sort()) if (!(k in metrics)) metrics[k] = shown[k] ?? null;
  return {
    runId: r.runId,
    status: r.status,
    error: r.status === 'ok' ? null : (r.error ?? 'unknown error'),
    strategy: r.spec.strategy,
    params: canonical(r.spec.params) as Record<string, unknown>,
    venue: r.spec.venue,
    venueOverrides: r.spec.venueOverrides ? (canonical(r.spec.venueOverrides) as Record<string, unknown>) : null,
    setup: r.spec.setup,
    leverage: r.spec.leverage,
    dataset: r.spec.dataset,
    timeframe: r.spec.timeframe,
    symbols: [...r.spec.symbols],
    from: r.spec.from,
    to: r.spec.to,
    initialCapital: r.spec.initialCapital,
    bars: r.bars,
    liquidationPriceSource: r.liquidationPriceSource,
    crossCheck: r.crossCheck,
    metrics,
    rejections: canonical(out.rejections) as Record<string, number>,
    books: canonical(out.books) as Record<string, string>,
    stress: r.spec.stress
      ? {
          view: canonical(r.spec.stress) as Record<string, unknown>,
          survived: st?.survived ?? null,
          wipedOut: st?.wipedOut ?? null,
          ...shockFields(st ? shockOutcome(st, history) : null),
          timeToLiquidationMs: st ? timeToLiquidation(st) : null,
          peakMarginRatio: st ? 100 * st.peakMarginRatio : null,
          lossAtShock: st?.lossAtShock ?? null,
          liquidationLossByShock: st ? (shockLiquidationLoss(r, history) ?? null) : null,
          firstLiquidated: (st?.firstLiquidated ?? []).map((x) => ({ symbol: x.symbol, time: x.time })),
        }
      : null,
  };
}

const shockFields = (x: ShockOutcome | null) => ({
  liquidatedBeforeShock: x?.liquidatedBeforeShock ?? null,
  liquidatedByShock: x?.liquidatedByShock ?? null,
  liquidatedAsHistory: x?.liquidatedAsHistory ?? null,
  wipedOutBeforeShock: x?.wipedOutBeforeShock ?? null,
  wipedOutByShock: x?.wipedOutByShock ?? null,
  wipedOutAsHistory: x?.wipedOutAsHistory ?? null,
});

function summaryStress(m: StressModel | null): z.infer<typeof SummaryStressSchema> | null {
  if (!m) return null;
  const pick = <T>(rec: Partial<Record<SetupId, T>>): [SetupId, T][] => SETUP_IDS.filter((s) => rec[s] !== undefined).map((s) => [s, rec[s]!]);
  const iv = (x: PairedInterval) => ({ n: x.n, mean: x.mean, lo: x.lo, hi: x.hi, noise: x.noise });
  return {
    quantiles: [...QUANTILES],
    survivalThreshold: m.threshold,
    bootstrap: { iterations: BOOTSTRAP_ITERATIONS, confidence: 0.95 },
    runs: { ...m.runs },
    configs: m.configs.map((c) => ({
      id: c.id,
      strategy: c.strategy,
      params: c.paramsLabel,
      venue: c.venue,
      dataset: c.dataset,
      timeframe: c.timeframe,
      leverage: c.leverage,
      populations: POPULATIONS.filter((p) => c.populations[p]).map((p) => {
        const ps = c.populations[p]!;
        return {
          population: p,
          views: ps.views,
          winner: ps.winner,
          identicalTo: { ...ps.identicalTo },
          verdict: ps.line,
          setups: pick(ps.bySetup).map(([setup, o]) => ({
            setup,
            runs: o.runs,
            liquidation: { ...o.liquidation },
            wipeOut: { ...o.wipeOut },
            totalReturn: { ...o.totalReturn, q: [...o.totalReturn.q] },
            expectedShortfall5: o.expectedShortfall5,
            maxDrawdown: { ...o.maxDrawdown, q: [...o.maxDrawdown.q] },
            liquidationLoss: { ...o.liquidationLoss, q: [...o.liquidationLoss.q] },
            timeToLiquidationMs: { ...o.timeToLiquidationMs, q: [...o.timeToLiquidationMs.q] },
            lossAtShockPct: { ...ps.lossAtShock[setup]!, q: [...ps.lossAtShock[setup]!.q] },
            beforeShock: o.beforeShock ? { liquidation: { ...o.beforeShock.liquidation }, wipeOut: { ...o.beforeShock.wipeOut } } : null,
          })),
          diffs: ps.diffs.map((d) => ({ a: d.a, b: d.b, totalReturn: iv(d.totalReturn), wipeOut: iv(d.wipeOut), liquidation: iv(d.liquidation) })),
        };
      }),
      scenarios: c.scenarios.map((row) => ({
        scenario: row.scenario,
        injectAt: row.injectAt,
        setups: pick(row.bySetup).map(([setup, x]) => ({ setup, ...x, firstLiquidated: x.firstLiquidated.map((f) => ({ ...f })) })),
        errored: pick(row.errored).map(([setup, x]) => ({ setup, runId: x.runId, error: x.error })),
      })),
    })),
    survival: m.survival.map((r) => ({
      strategy: r.strategy,
      params: r.paramsLabel,
      venue: r.venue,
      dataset: r.dataset,
      timeframe: r.timeframe,
      setup: r.setup,
      population: r.population,
      curve: r.curve.map((pt) => ({ leverage: pt.leverage, liquidation: { ...pt.liquidation }, failure: { ...pt.failure }, failedBeforeShock: pt.failedBeforeShock ?? null, untested: pt.untested })),
      maxLeverage: r.maxLeverage?.leverage ?? null,
    })),
  };
}

/**
 * The summary of a report model. `withRuns` false leaves `runs` empty, for summaryJsonPieces to
 * write them from the model one at a time (see summaryRuns).
 */
export function buildSummary(model: ReportModel, sweep: SweepRow[], modes: ModeTotals[], withRuns = true): Summary {
  const m = model.manifest;
  return {
    schema: 'marginlab.summary',
    schemaVersion: SUMMARY_SCHEMA_VERSION,
    name: model.name,
    marginlabVersion: m.marginlabVersion,
    engineVersion: m.engineVersion,
    shard: m.shard ? { index: m.shard.index, count: m.shard.count } : null,
    datasets: [...m.datasets]
      .map((d) => ({ name: d.name, hashes: canonical(d.hashes) as Record<string, string> }))
      .sort((a, b) => cmpStr(a.name, b.name)),
    counts: { ...model.counts, planned: model.planned, missing: model.missing },
    complete: model.missing === 0,
    metrics: METRICS.map((d) => ({ id: d.id, title: d.title, unit: d.unit, tags: [...d.tags], higherIsBetter: d.higherIsBetter })),
    runs: withRuns ? model.runs.map((r) => summaryRun(r, model.historyOf(r))) : [],
    comparisons: model.configs.map((c) => {
      const runs: Partial<Record<SetupId, string>> = {};
      for (const s of SETUP_IDS) if (c.runs[s]) runs[s] = c.runs[s]!.runId;
      return {
        id: c.id,
        strategy: c.strategy,
        params: c.params,
        venue: c.venue,
        leverage: c.leverage,
        dataset: c.dataset,
        timeframe: c.timeframe,
        symbols: c.symbols,
        runs,
        winner: c.verdict?.winner ?? null,
        identicalTo: c.verdict?.identicalTo ?? {},
        verdict: c.verdict?.line ?? null,
      };
    }),
    strategies: model.strategies.map((s) => ({ strategy: s.strategy, winner: s.verdict?.winner ?? null, verdict: s.verdict?.line ?? null })),
    leverageSweep: sweep.map((r) => ({
      strategy: r.strategy,
      params: r.paramsLabel,
      venue: r.venue,
      dataset: r.dataset,
      timeframe: r.timeframe,
      setup: r.setup,
      leverages: r.leverages,
      untestedLeverages: r.untestedLeverages,
      maxSafeLeverage: r.maxSafeLeverage,
      minLiquidatedLeverage: r.minLiquidatedLeverage,
    })),
    modes: modes.map((x) => ({ ...x })),
    stress: summaryStress(model.stress),
  };
}

/** JSON.stringify(v, null, 2) as it reads nested `level` levels deep (its inner lines indented by as much) */
const nestedJson = (v: unknown, level: number): string => (JSON.stringify(v, null, 2) ?? 'null').replaceAll('\n', `\n${'  '.repeat(level)}`);

/** the summary's runs of a model, each made when it is read (for summaryJsonPieces) */
export function summaryRuns(model: ReportModel): LazyItems {
  return { count: model.runs.length, item: (j) => summaryRun(model.runs[j]!, model.historyOf(model.runs[j]!)) };
}

/** items of an array made one at a time */
export interface LazyItems {
  count: number;
  item: (j: number) => unknown;
}

/**
 * summary.json in pieces whose concatenation is exactly JSON.stringify(summary, null, 2) and a
 * newline: one piece per top-level key, and one per element of a top-level array (the runs, the
 * comparisons). Written piece by piece, a large folder's summary (hundreds of MB for a stress run
 * over thousands of paths) is never one string in memory. `runs`, when given, stands for the
 * summary's runs (built without them): each run's entry is then made as it is written. For plain
 * data, as a Summary is: a top-level value with a toJSON or a symbol is not treated as
 * JSON.stringify would treat it.
 */
export function* summaryJsonPieces(summary: Summary, runs?: LazyItems): Generator<string> {
  // what JSON.stringify writes of an object: its own enumerable keys, without undefined or function values
  const entries = Object.entries(summary).filter(([, v]) => v !== undefined && typeof v !== 'function');
  if (entries.length === 0) {
    yield '{}\n';
    return;
  }
  yield '{\n';
  for (let k = 0; k < entries.length; k++) {
    const [key, v] = entries[k]!;
    const head = `  ${JSON.stringify(key)}: `;
    const tail = k + 1 < entries.length ? ',\n' : '\n';
    const items: LazyItems | null = key === 'runs' && runs ? runs : Array.isArray(v) ? { count: v.length, item: (j) => v[j] } : null;
    if (items && items.count > 0) {
      yield `${head}[\n`;
      for (let j = 0; j < items.count; j++) yield `    ${nestedJson(items.item(j), 2)}${j + 1 < items.count ? ',' : ''}\n`;
      yield `  ]${tail}`;
    } else yield `${head}${nestedJson(v, 1)}${tail}`;
  }
  yield '}\n';
}
