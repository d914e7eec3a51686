/**
 * The one home of the result file format (results/<runId>.json): a zod schema that `marginlab
 * report`, `merge`, `loadResults` and `loadTrades` validate every file with, and the typed event
 * records (docs/report.md, "Result files"). Money is a decimal string (exact, as booked);
 * quantities, prices and rates are JSON numbers (the engine's float64 values, round-tripped
 * exactly); times are ms UTC (null where the engine had none, e.g. a rejected setLeverage).
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SETUP_IDS } from '../engine/setups.js';
import { WIPE_OUT_SPANS } from '../stress/types.js';
import { Decimal } from 'decimal.js';
import { booksImbalance } from '../account/books.js';
import type { BooksSnapshot } from '../account/types.js';
import type { RunSpec } from './types.js';
import { issueMessage, oneLine, valueAt } from '../util/issue-text.js';

export const RESULT_SCHEMA_VERSION = 2 as const;

/**
 * The metrics every ok result of this schema version stores (null when undefined): the registry's
 * when schema version 2 was fixed. A metric added to the registry later is absent from the files
 * written before it (last night's baseline of a nightly compare): they must still load, so a new
 * metric joins this list only with a new schema version (test/result-schema-metrics.test.ts holds
 * the registry to it).
 */
export const SCHEMA_METRICS: readonly string[] = Object.freeze([
  'totalReturn', 'netPnl', 'finalEquity', 'cagr', 'maxDrawdown', 'maxDrawdownDuration', 'volatility', 'sharpe', 'sortino', 'calmar',
  'trades', 'winRate', 'profitFactor', 'exposureTime', 'liquidations', 'liquidationLoss', 'liquidationPenalty', 'insuranceShortfall',
  'fundingPaid', 'fundingReceived', 'fundingNet', 'fees', 'rejectedOrders', 'marginRatioMax', 'timeAbove60', 'timeAbove80', 'nearMisses',
  'marginUsedAvg', 'marginUsedMax', 'capitalAtRiskAvg', 'capitalEfficiency', 'returnOnCapitalAtRisk', 'returnOnMargin',
]);

/** exact decimal string as the books write it (Decimal.toFixed()) */
const money = z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string like "-12.5"');
const num = z.number();
const time = z.number();
const side = z.enum(['buy', 'sell']);
const mode = z.enum(['isolated', 'cross']);

export const FillRecordSchema = z.strictObject({
  type: z.literal('fill'),
  time,
  symbol: z.string(),
  side,
  /** filled quantity, base units, > 0 (the side gives the direction) */
  qty: num.positive(),
  price: num,
  /** fee paid (≥ 0) */
  fee: money,
  /** PnL realised by the reducing part of the fill */
  realizedPnl: money,
  /** signed position after the fill */
  positionQty: num,
  mode,
  /** margin pool the position belongs to: 'isolated:<symbol>' or 'cross' */
  pool: z.string(),
  /** the strategy order the fill executed: its id (ctx.order's return), type and tag (absent in results before engine 1.5.33) */
  orderId: z.number().int().nonnegative().optional(),
  orderType: z.enum(['market', 'limit', 'stop', 'takeProfit']).optional(),
  tag: z.string().optional(),
});

export const FundingRecordSchema = z.strictObject({
  type: z.literal('funding'),
  time,
  symbol: z.string(),
  /** rate per interval (> 0: longs pay shorts) */
  rate: num,
  price: num,
  /** received (+) or paid (−) */
  amount: money,
});

export const LiquidationLegSchema = z.strictObject({
  symbol: z.string(),
  side: z.enum(['long', 'short']),
  /** position closed, base units, > 0 */
  qty: num.nonnegative(),
  /** price the position was closed at */
  closePrice: num,
  /** liquidation-source price (mark or trade) at the trigger point */
  triggerPrice: num.nullable(),
  /** the leg's liquidation price at the trigger (null when none) */
  liquidationPrice: num.nullable(),
});

export const LiquidationRecordSchema = z.strictObject({
  type: z.literal('liquidation'),
  time,
  /** 'isolated:<symbol>' or 'cross' */
  pool: z.string(),
  mode,
  legs: z.array(LiquidationLegSchema).min(1),
  /** the pool's margin ratio (MM ÷ margin balance) at the trigger, just before the close */
  marginRatio: num.nullable(),
  /** realised PnL of the closed positions */
  realizedPnl: money,
  /** remaining margin lost to the liquidation (penalty / liquidation fee), ≥ 0 */
  penalty: money,
  /** paid by the insurance fund because the close was past the bankruptcy price, ≥ 0 */
  insuranceDraw: money,
  /** what the liquidation took from the account: −realisedPnl + penalty − insuranceDraw */
  loss: money,
});

export const TransferRecordSchema = z.strictObject({
  type: z.literal('transfer'),
  time,
  symbol: z.string(),
  /** isolated margin added (+) or removed (−) */
  amount: money,
});

export const RejectionRecordSchema = z.strictObject({
  type: z.literal('rejection'),
  time: time.nullable(),
  symbol: z.string().nullable(),
  /** reason code (RejectReason) */
  reason: z.string(),
  message: z.string(),
});

export const RunEventRecordSchema = z.discriminatedUnion('type', [
  FillRecordSchema,
  FundingRecordSchema,
  LiquidationRecordSchema,
  TransferRecordSchema,
  RejectionRecordSchema,
]);

export type FillRecord = z.infer<typeof FillRecordSchema>;
export type FundingRecord = z.infer<typeof FundingRecordSchema>;
export type LiquidationRecord = z.infer<typeof LiquidationRecordSchema>;
export type TransferRecord = z.infer<typeof TransferRecordSchema>;
export type RejectionRecord = z.infer<typeof RejectionRecordSchema>;
export type RunEventRecord = z.infer<typeof RunEventRecordSchema>;

/** set only when `maxEventsPerRun` cut the events (or, with limit 0, a Monte Carlo path run without stress.pathEvents): the first `kept` (in time order) of `total` */
export const EventsCapSchema = z.strictObject({
  limit: z.number().int().nonnegative(),
  total: z.number().int().nonnegative(),
  kept: z.number().int().nonnegative(),
});
export type EventsCap = z.infer<typeof EventsCapSchema>;

/** per symbol, the liquidation price as a step function (a point where it changed; null: none/flat) */
export const LiquidationPriceSeriesSchema = z.record(z.string(), z.strictObject({ time: z.array(time), price: z.array(num.nullable()) }));
export type LiquidationPriceSeries = z.infer<typeof LiquidationPriceSeriesSchema>;

/** per symbol, trade close prices at downsampled bars (extremes kept); null where absent */
export const PriceCurvesSchema = z.strictObject({ time: z.array(time), close: z.record(z.string(), z.array(num.nullable())) });
export type PriceCurves = z.infer<typeof PriceCurvesSchema>;

const nullableNum = z.number().nullable();
const setupEnum = z.enum(SETUP_IDS);

/**
 * A RunSpec (./types.ts) as a result file holds it: the one schema of it, for the result's own check
 * (resultProblems) and what src/shard/schema.ts re-derives the RunId from. Loose: later fields
 * (`stress`, src/stress/types.ts) are part of the spec and of its hash.
 */
export const RunSpecSchema = z.looseObject({
  strategy: z.string().min(1),
  params: z.record(z.string(), z.unknown()),
  venue: z.string().min(1),
  venueOverrides: z.record(z.string(), z.unknown()).optional(),
  setup: setupEnum,
  mixedDefaultMode: z.enum(['isolated', 'cross']).optional(),
  leverage: z.number().refine(Number.isFinite, 'expected a finite number').pipe(z.number().positive()),
  dataset: z.string(),
  timeframe: z.string(),
  symbols: z.array(z.string()),
  from: nullableNum,
  to: nullableNum,
  initialCapital: z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal string'),
  execution: z.record(z.string(), z.unknown()),
  dataHashes: z.record(z.string(), z.string()),
  engineVersion: z.string(),
});
/** the schema's fields are the RunSpec interface's (but `stress`, which the loose schema passes on): a field added to one alone does not compile */
type SameKeys<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const SPEC_FIELDS_AGREE: SameKeys<keyof typeof RunSpecSchema.shape, Exclude<keyof RunSpec, 'stress'>> = true;
void SPEC_FIELDS_AGREE;

const RunResultBaseSchema = z.looseObject({
  schemaVersion: z.literal(RESULT_SCHEMA_VERSION),
  runId: z.string().min(1),
  spec: RunSpecSchema,
  metrics: z.record(z.string(), nullableNum),
  books: z.record(z.string(), z.string()),
  rejections: z.record(z.string(), z.number()),
  liquidationPriceSource: z.enum(['mark', 'trade', 'mixed']),
  crossCheck: z.enum(['pessimistic', 'optimistic']),
  bars: z.number().int().nonnegative(),
  events: z.array(RunEventRecordSchema),
  eventsCap: EventsCapSchema.optional(),
  liquidationPrices: LiquidationPriceSeriesSchema.optional(),
  prices: PriceCurvesSchema.optional(),
  curves: z.looseObject({ time: z.array(time), equity: z.array(num), drawdown: z.array(num), marginRatio: z.array(num) }),
  wipeOuts: z.array(z.tuple([time, time.nullable()])).max(WIPE_OUT_SPANS).optional(),
  digest: z.string().regex(/^[0-9a-f]{64}$/, 'expected the 64 hex digits of a sha256').optional(),
});

/** a result file: a union on `status` (an errored result says what went wrong; an ok one carries no error) */
export const RunResultSchema = z.discriminatedUnion('status', [
  RunResultBaseSchema.extend({ status: z.literal('ok'), error: z.undefined().optional(), internal: z.undefined().optional() }),
  RunResultBaseSchema.extend({ status: z.literal('errored'), error: z.string().min(1), internal: z.literal(true).optional() }),
]);

/**
 * The problems of a parsed result file, each as 'path: message' (at most `max`), or [] when it is
 * a valid result. An older result file (schemaVersion 1, free-text events) says so.
 */
export function resultProblems(v: unknown, max = 5): string[] {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const sv = (v as { schemaVersion?: unknown }).schemaVersion;
    if (sv !== RESULT_SCHEMA_VERSION && typeof sv === 'number') {
      return [`schemaVersion: expected ${RESULT_SCHEMA_VERSION}, got ${sv} (written by ${sv < RESULT_SCHEMA_VERSION ? 'an older' : 'a newer'} marginlab: run the sweep again without --resume)`];
    }
  }
  const r = RunResultSchema.safeParse(v, { reportInput: true });
  if (r.success) {
    // an ok result stores every metric of the registry (null when undefined): a missing one (a hand-edited file)
    // would read as null and decide verdicts ("return −1.6% vs —": the run without it loses)
    if (r.data.status !== 'ok') return [];
    const missing = SCHEMA_METRICS.filter((id) => !Object.hasOwn(r.data.metrics, id))
      .slice(0, max)
      .map((id) => `metrics.${id}: missing (an ok result stores every metric, null when undefined; run it again)`);
    return missing.length > 0 ? missing : consistencyProblems(r.data.books, r.data.spec.initialCapital);
  }
  return r.error.issues.slice(0, max).map((i) => {
    // the value at the issue's path (a union's issue carries the whole object as its input)
    const at = valueAt(v, i.path);
    const where = i.path.length ? oneLine(i.path.join('.')) : '(file)';
    // a member the file lacks: said so (a union's issue carries the whole object: "status: …, got {}" read as if status were {})
    const parent = i.path.length ? valueAt(v, i.path.slice(0, -1)) : null;
    if (at === undefined && parent !== null && typeof parent === 'object' && !Object.hasOwn(parent, i.path.at(-1)!)) {
      return `${where}: missing (${issueMessage(i, { value: undefined }).replace(/^required: /, '')})`;
    }
    const given = at !== undefined ? { value: at } : undefined;
    return `${where}: ${issueMessage(i, given, { ownWithValue: true })}`;
  });
}

/**
 * The text a result file is written as (src/shard/worker.ts serializeResult): its JSON with, as the
 * last member, `digest`, the sha256 of the JSON before it (resultDigest). `r` must hold no digest.
 */
export function resultJson(r: object): string {
  let body: object = r;
  if (Object.hasOwn(r, 'digest')) {
    // a result read from a file (it carries the digest of its text then): its own members only, the digest taken again
    body = withoutDigest(r);
  }
  const json = JSON.stringify(body);
  return `${json.slice(0, -1)},"digest":"${resultDigest(json)}"}`;
}

/** a file's own members but its digest, made as data properties: a member named "__proto__" is content too */
function withoutDigest(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([k]) => k !== 'digest'));
}

/** the sha256 (hex) of a result's JSON text without its digest member */
export function resultDigest(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}

/**
 * A result whose content no longer hashes to its digest was edited (a metric changed by hand was
 * rendered as the run's) or damaged. JSON.stringify of the parsed file without the digest is the text
 * the digest was taken of, whatever the file's whitespace: a value changed, or members reordered, is
 * caught. A result without a digest (written before marginlab wrote one) is not judged. Checked
 * last (src/shard/schema.ts parseRunResult): a spec or books edited is named as such first.
 */
export function digestProblems(v: Record<string, unknown>, fix = 'run it again'): string[] {
  const d = v.digest;
  if (typeof d !== 'string') return [];
  const actual = resultDigest(JSON.stringify(withoutDigest(v)));
  return actual === d ? [] : [`digest: the file's content hashes to ${actual.slice(0, 16)}…, not to its digest ${d.slice(0, 16)}…: the file was edited or damaged (a value in it changed since marginlab wrote it); ${fix}`];
}

/**
 * The text a run folder's manifest.json is written as (run, merge, the interrupted mark): pretty
 * JSON whose last member, `digest`, is the sha256 of the compact JSON before it, as a result's
 * (resultJson): a plan's RunIds or counts edited by hand no longer hash to it (parseRunManifest).
 * Any digest `m` holds (a manifest read back) is taken again.
 */
export function manifestText(m: object): string {
  const rest = withoutDigest(m);
  const digest = resultDigest(JSON.stringify(rest));
  return `${JSON.stringify({ ...rest, digest }, null, 2)}\n`;
}

const BOOK_KEYS = ['initialDeposit', 'wallet', 'realizedPnl', 'fees', 'fundingReceived', 'fundingPaid', 'liquidationPenalties', 'insuranceDraws'] as const satisfies readonly (keyof BooksSnapshot)[];

/**
 * What an ok result's books say of themselves, which a hand-edited or damaged file breaks: they
 * balance exactly (account/books.ts booksImbalance: the identity every run keeps) and start from
 * the run's initial capital. A metric edited alone is not caught (metrics are floats derived from
 * the bars' equity, not from the books); a books figure changed is. Books a result does not carry
 * in full, or not as numbers, are not judged.
 */
function consistencyProblems(books: Record<string, string>, initialCapital: string): string[] {
  if (!BOOK_KEYS.every((k) => typeof books[k] === 'string')) return [];
  const b = books as unknown as BooksSnapshot;
  let off: string;
  let sameDeposit: boolean;
  try {
    off = booksImbalance(b);
    sameDeposit = new Decimal(b.initialDeposit).eq(initialCapital);
  } catch {
    return [];
  }
  return [
    ...(off !== '0' ? [`books: do not balance (initialDeposit + realizedPnl − fees + fundingReceived − fundingPaid − liquidationPenalties + insuranceDraws is ${off} away from wallet ${b.wallet}): the file was edited or damaged; run it again`] : []),
    ...(sameDeposit ? [] : [`books.initialDeposit: ${b.initialDeposit} is not the run's initial capital ${initialCapital} (spec.initialCapital): the file was edited or damaged; run it again`]),
  ];
}
