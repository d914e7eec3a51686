/**
 * CONTRACT: runs and their results (src/shard), consumed by reports (src/report).
 * Everything here is plain JSON: decimals as strings, numbers as numbers, no typed arrays.
 */

import type { RunStressResult, RunStressSpec, WipeOutSpan } from '../stress/types.js';
import type { SetupId } from '../engine/setups.js';

/** The canonical description of one run; RunId = stable hash of it (sorted keys). */
export interface RunSpec {
  strategy: string;
  /** fully resolved params (schema defaults applied) */
  params: Record<string, unknown>;
  venue: string;
  /** venue overrides from the config, if any (part of the identity) */
  venueOverrides?: Record<string, unknown>;
  setup: SetupId;
  /** a `mixed` run's only: the mode of its orders that name none (config `mixedDefaultMode`) */
  mixedDefaultMode?: 'isolated' | 'cross';
  leverage: number;
  dataset: string;
  timeframe: string;
  symbols: string[];
  /** ms UTC or null for the dataset's bounds */
  from: number | null;
  to: number | null;
  initialCapital: string;
  /** fill, slippage and intrabar options */
  execution: Record<string, unknown>;
  /** sha256 of each data file, from MarketData.hashes */
  dataHashes: Record<string, string>;
  engineVersion: string;
  /** stress runs only (src/stress/types.ts): the scenario or Monte Carlo path replayed instead of the dataset as it is; absent for history runs */
  stress?: RunStressSpec;
}

export type {
  RunEventRecord, FillRecord, FundingRecord, LiquidationRecord, TransferRecord, RejectionRecord, EventsCap, LiquidationPriceSeries, PriceCurves,
} from './result-schema.js';
import type { EventsCap, LiquidationPriceSeries, PriceCurves, RunEventRecord } from './result-schema.js';

/** Downsampled curves for charts (≤ ~2000 points; min/max-preserving). */
export interface RunCurves {
  time: number[];
  equity: number[];
  drawdown: number[];
  marginRatio: number[];
}

/** results/<runId>.json; validated on load by RunResultSchema (./result-schema.ts): a union on `status` */
export type RunResult = RunResultOk | RunResultErrored;

/** a run that replayed to its end */
export interface RunResultOk extends RunResultBase {
  status: 'ok';
  error?: undefined;
  internal?: undefined;
}

/** a run that did not: the strategy threw, a timeout, a worker that died, or an internal failure */
export interface RunResultErrored extends RunResultBase {
  status: 'errored';
  /** what went wrong, one line */
  error: string;
  /** true when an internal invariant of the engine failed (a marginlab bug): `run` and `stress` then exit 70 */
  internal?: true;
}

/** what every result carries */
export interface RunResultBase {
  schemaVersion: 2;
  runId: string;
  spec: RunSpec;
  /** metric id → value (null when undefined, e.g. Sharpe of a flat curve); ids from the metrics registry */
  metrics: Record<string, number | null>;
  books: Record<string, string>;
  rejections: Record<string, number>;
  liquidationPriceSource: 'mark' | 'trade' | 'mixed';
  crossCheck: 'pessimistic' | 'optimistic';
  bars: number;
  /** every event of the run in ledger order (fills, funding, liquidations, transfers, rejections), unless `maxEventsPerRun` cut them */
  events: RunEventRecord[];
  /** present only when the config's maxEventsPerRun cut `events`, or a Monte Carlo path run kept none (stress.pathEvents off; the report says so) */
  eventsCap?: EventsCap;
  /** per traded symbol: the liquidation price over time (a step at each change) */
  liquidationPrices?: LiquidationPriceSeries;
  /** per traded symbol: trade close prices at downsampled bars, for the report's price chart */
  prices?: PriceCurves;
  curves: RunCurves;
  /**
   * history runs (no spec.stress) that were wiped out: the spans of bars whose close had equity below
   * 5 % of the initial capital (src/stress/types.ts wipeOutSpans), so that a scenario run of the same
   * configuration wiped out no sooner after its shock is not counted as the shock's; absent otherwise
   */
  wipeOuts?: WipeOutSpan[];
  /** stress runs only (present exactly when spec.stress is): survival, time to liquidation, peak margin ratio, loss at the shock, ... (src/stress/types.ts) */
  stress?: RunStressResult;
  /**
   * the sha256 of the result's JSON without this member, the file's last member (src/shard/result-schema.ts
   * resultDigest): a value edited in the file no longer hashes to it, and the file is refused as edited
   */
  digest?: string;
}

/**
 * manifest.json of a run folder: everything needed to reproduce it. Wall-clock figures live
 * here (never in summary.json, which must be byte-identical across worker counts and shards).
 */
/** The config file and plan-changing flags of the command that wrote a run folder (`--resume` needs them again). */
export interface RunCommand {
  config: string | null;
  strategies?: string[];
  from?: string | number | null;
  to?: string | number | null;
  /** --max-runs when given: a plan above the config's maxRuns needs it again to go on */
  maxRuns?: number;
}

export interface RunManifest {
  schemaVersion: 1;
  name: string;
  createdAt: string;
  marginlabVersion: string;
  engineVersion: string;
  gitCommit: string | null;
  node: string;
  /** the resolved, frozen config as JSON */
  config: unknown;
  datasets: { name: string; path: string; hashes: Record<string, string> }[];
  runs: { total: number; ok: number; errored: number };
  shard: { index: number; count: number } | null;
  workers: number;
  wallClockMs: number;
  /** (added by src/shard) the whole plan this folder belongs to, before any --shard slicing */
  plan?: { hash: string; total: number; strategies: string[]; /** sha256 (16 hex) of each strategy's file: results of another version are not resumed or merged */ strategyHashes?: Record<string, string>; runIds?: string[] };
  /** (added by src/shard) the RunIds this folder holds when complete: its shard's slice of the plan (absent: the whole plan, plan.runIds) */
  runIds?: string[];
  /** (added by src/shard) true while `run` is writing the folder (the manifest is written before the first run, and again at the end) */
  inProgress?: boolean;
  /** (added by src/shard) hash of the plan-relevant config (what merge compares) */
  configHash?: string;
  /** (added by src/shard) how the run was started, for the command that resumes it: the config file (absolute) and the flags that changed the plan */
  command?: RunCommand;
  /** (added by src/shard) true when the run was stopped (Ctrl-C) before every run finished */
  interrupted?: boolean;
  /** (added by src/shard) wall-clock phases of this invocation, ms: loading data, planning, the pool (first task to last result), and the CPU time of the whole process (all threads) during the pool phase */
  timings?: { loadMs: number; planMs: number; sweepMs: number; sweepCpuMs?: number; /** task messages posted to the worker pool (short passes travel several per message) */ poolMessages?: number };
  /** (added by the config checks) warnings about the config meeting the data, e.g. bars longer than the venue's funding interval; absent when none */
  warnings?: string[];
  /** (added by src/shard) set by `marginlab run --resume` when it kept results: how many, and the commit the folder's manifest said they were made at (absent when it said none, or there was no manifest); `gitCommit` is then null unless that is this command's commit */
  resumedFrom?: { runs: number; gitCommit?: string };
  /** (added by src/shard) set by `marginlab merge`: the folders merged, with their shards and the commit each run was at (`gitCommit`; none outside a repository) */
  mergedFrom?: { path: string; shard: { index: number; count: number } | null; runs: number; gitCommit?: string }[];
  /** sha256 of the manifest's compact JSON without this member, always its last (result-schema.ts manifestText): a value edited by hand is refused (65); absent in manifests written before it */
  digest?: string;
}

/*
 * Run folder layout (reports/<name>/):
 *   results/<runId>.json   one RunResult per run (written atomically; --resume skips existing ids)
 *   manifest.json          RunManifest
 *   summary.json runs.csv report.md report.html   rendered by src/report from results + manifest
 */
