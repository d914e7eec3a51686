/**
 * summary.json: the machine-readable report (schema documented in docs/report.md, validated by
 * SummarySchema). Stable and deterministic: runs sorted by runId, objects with sorted keys where
 * they come from user config, no wall-clock fields. Byte-identical for the same results whatever
 * the worker count or result order.
 */
import { z } from 'zod';
import { METRICS } from '../analysis/index.js';
import type { RunResult } from '../shard/types.js';
import { canonical, cmpStr, type ReportModel, type SweepRow } from './model.js';
import type { ModeTotals } from './aggregate.js';

export const SUMMARY_SCHEMA_VERSION = 1 as const;

const setupEnum = z.enum(['isolated', 'cross', 'mixed']);
const metricValue = z.number().nullable();

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
});

export const SummarySchema = z.strictObject({
  schema: z.literal('marginlab.summary'),
  schemaVersion: z.literal(SUMMARY_SCHEMA_VERSION),
  name: z.string(),
  marginlabVersion: z.string(),
  engineVersion: z.string(),
  shard: z.strictObject({ index: z.number().int(), count: z.number().int() }).nullable(),
  datasets: z.array(z.strictObject({ name: z.string(), hashes: z.record(z.string(), z.string()) })),
  counts: z.strictObject({ total: z.number().int(), ok: z.number().int(), errored: z.number().int() }),
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
      verdict: z.string().nullable(),
    }),
  ),
  strategies: z.array(z.strictObject({ strategy: z.string(), winner: setupEnum.nullable(), verdict: z.string().nullable() })),
  leverageSweep: z.array(
    z.strictObject({
      strategy: z.string(),
      params: z.string(),
      venue: z.string(),
      setup: setupEnum,
      leverages: z.array(z.number()),
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
});

export type Summary = z.infer<typeof SummarySchema>;

function summaryRun(r: RunResult): z.infer<typeof SummaryRunSchema> {
  const metrics: Record<string, number | null> = {};
  for (const m of METRICS) {
    const v = r.metrics[m.id];
    metrics[m.id] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  // metrics the registry does not know (newer writer) are kept, after the registry's
  for (const k of Object.keys(r.metrics).sort()) if (!(k in metrics)) metrics[k] = r.metrics[k] ?? null;
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
    rejections: canonical(r.rejections) as Record<string, number>,
    books: canonical(r.books) as Record<string, string>,
  };
}

export function buildSummary(model: ReportModel, sweep: SweepRow[], modes: ModeTotals[]): Summary {
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
    counts: model.counts,
    metrics: METRICS.map((d) => ({ id: d.id, title: d.title, unit: d.unit, tags: [...d.tags], higherIsBetter: d.higherIsBetter })),
    runs: model.runs.map(summaryRun),
    comparisons: model.configs.map((c) => {
      const runs: Partial<Record<'isolated' | 'cross' | 'mixed', string>> = {};
      for (const s of ['isolated', 'cross', 'mixed'] as const) if (c.runs[s]) runs[s] = c.runs[s]!.runId;
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
        verdict: c.verdict?.line ?? null,
      };
    }),
    strategies: model.strategies.map((s) => ({ strategy: s.strategy, winner: s.verdict?.winner ?? null, verdict: s.verdict?.line ?? null })),
    leverageSweep: sweep.map((r) => ({
      strategy: r.strategy,
      params: r.paramsLabel,
      venue: r.venue,
      setup: r.setup,
      leverages: r.leverages,
      maxSafeLeverage: r.maxSafeLeverage,
      minLiquidatedLeverage: r.minLiquidatedLeverage,
    })),
    modes: modes.map((x) => ({ ...x })),
  };
}

export function renderSummaryJson(summary: Summary): string {
  return `${JSON.stringify(summary, null, 2)}\n`;
}
