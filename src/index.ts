/**
 * marginlab's public entry: `import { defineConfig, loadResults, ... } from 'marginlab'`.
 *
 * - configs: defineConfig
 * - strategies: defineStrategy, the indicators, `z` (zod, for the params schema),
 *   resolveStrategy / listStrategies — everything a strategy file needs
 * - data: loadDataset, synthesize, slicing helpers
 * - margin: getVenue, listVenues, createAccount, booksImbalance (the books identity, exact)
 * - replay: replay, ENGINE_VERSION, DEFAULT_EXECUTION, SETUPS, SeriesPool
 * - results: computeMetrics, METRICS, buildCurves, loadResults (danfo.js DataFrame, one row per
 *   run), loadTrades (one row per round trip), loadRunFolder, runTrades / runLiquidations (exact,
 *   from one stored result), writeReport, SummarySchema (summary.json)
 * - stress: CRASH_PACK, scenarioSchema, applyScenario, computeBetas, bootstrapPath (docs/stress.md)
 * - errors: UserError, ExitCode
 * - SAMPLE_DATA: the bundled sample dataset's folder (what `marginlab init` configures)
 */
export { defineConfig } from './config/index.js';
export type { ConfigEnv, ConfigInput, UserConfig, ResolvedConfig } from './config/index.js';

export { defineStrategy, LookAheadError } from './strategy/types.js';
export type {
  StrategyModule,
  Strategy,
  SyncResult,
  StrategyContext,
  Series,
  FundingHistory,
  SymbolView,
  PositionView,
  AccountView,
  OrderType,
  OrderOptions,
  OrderRequest,
  OpenOrder,
  FillInfo,
  FundingInfo,
  LiquidationInfo,
  Indicator,
  AtrIndicator,
  IndicatorFactory,
} from './strategy/types.js';
/** zod, the params-schema library of strategies (`params: z.object({...})`): the same instance marginlab validates with. */
export { z } from 'zod';
export { Sma, Ema, RollingStdev, ZScore, Atr, RollingExtreme, indicators } from './strategy/indicators.js';
export { resolveStrategy, listStrategies } from './strategy/registry.js';

// the Arrow reader and writers through ./feed/entry.ts: imported at their first call, not with the entry
export { loadDataset, synthesize, writeDataset } from './feed/entry.js';
export { sliceMarketData, sliceByTime, selectSymbols } from './feed/slice.js';
export type { MarketData, SymbolColumns, LoadOptions, SynthOptions } from './feed/index.js';
// what writeDataset takes and what it and synthesize return (docs/data.md names them): a dataset folder's manifest
export type { SeriesInput, DatasetInput, WriteDatasetOptions } from './feed/write.js';
export type { Manifest, Manifest as DatasetManifest } from './feed/manifest.js';

export { getVenue, listVenues } from './venue/index.js';
export type { VenueProfile, BuiltVenueProfile, Tier, VenueOverrides } from './venue/index.js';
export { createAccount, booksImbalance } from './account/index.js';
export type { Account, AccountEvent, AccountParams, FillOrder, MarginPool, ModeId, RejectReason } from './account/index.js';

export { replay, ENGINE_VERSION, DEFAULT_EXECUTION, SETUPS, EngineInvariantError, SeriesPool } from './engine/index.js';
export type { ReplayParams, ReplayOutput, SetupOutput, SetupSeries, SetupSpec, ExecutionOptions, StrategyCallback, StrategyErrorPlace } from './engine/index.js';

export { computeMetrics, METRICS, buildCurves } from './analysis/index.js';
/** what computeMetrics takes (a setup's series, books and events with the run's facts) */
export type { MetricsInput } from './analysis/index.js';
export { writeReport, loadResults, loadRunFolder, loadTrades, runTrades, runLiquidations } from './report/index.js';
/** summary.json's schema (docs/report.md): `SummarySchema.parse(JSON.parse(text))` in a nightly job, `Summary` its type. */
export { SummarySchema, SUMMARY_SCHEMA_VERSION, type Summary } from './report/index.js';
export type { RunResult, RunSpec, RunManifest, RunCurves, RunEventRecord, FillRecord, FundingRecord, LiquidationRecord, TransferRecord, RejectionRecord } from './shard/types.js';
export type { RoundTrip } from './analysis/trades.js';
/** a replay()'s ledger events as the result files' records, and the round trips of records (docs/engine.md) */
export { eventRecords } from './shard/records.js';
export { reconstructTrades } from './analysis/trades.js';
export { WIPEOUT_FRACTION, EQUITY_GRID_POINTS } from './stress/types.js';
export { CRASH_PACK } from './stress/pack.js';
export { scenarioSchema } from './stress/scenario.js';
export type { Scenario, ScenarioInput } from './stress/scenario.js';
export { applyScenario, computeBetas } from './stress/overlay.js';
export { bootstrapPath } from './stress/bootstrap.js';
export type { RunStressSpec, RunStressResult, StressInjection } from './stress/types.js';

export { UserError, ExitCode } from './errors.js';
export { SAMPLE_DATA } from './util/package-root.js';
