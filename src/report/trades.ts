/**
 * trades.csv and liquidations.csv (docs/report.md): every round trip and every liquidation of
 * every run of a folder, from the stored event records. Round trips come from the one
 * reconstruction (src/analysis/trades.ts); money columns are the exact decimal strings, so the
 * trades of a run sum to its books (realised PnL, fees, funding, penalties, insurance draws).
 * Same CSV conventions as runs.csv (RFC 4180, formula-injection safe, runs sorted by runId).
 * The last column of both, `status`, is the run's (runs.csv's): an errored run's rows are the
 * trades and liquidations up to where it stopped, so a reader filters them by it (docs/report.md).
 */
import { reconstructTrades, type RoundTrip } from '../analysis/trades.js';
import { isoTime } from '../feed/timeframe.js';
import { canonicalJson } from '../shard/hash.js';
import type { LiquidationRecord, RunResult } from '../shard/types.js';
import { csvLine, variantCells, VARIANT_COLUMNS, type CsvCell } from './csv.js';
import { byRunId } from './model.js';

export const TRADE_COLUMNS = [
  'runId', 'strategy', 'params', 'mode', 'leverage', ...VARIANT_COLUMNS, 'symbol', 'side', 'positionMode', 'entryTime', 'exitTime',
  'size', 'entryPrice', 'exitPrice', 'fills', 'realizedPnl', 'fees', 'funding', 'liquidationPenalty', 'insuranceDraw', 'netPnl', 'exitReason', 'exitOrder', 'exitTag', 'entryTag', 'status',
] as const;

/** columns holding exact decimal strings (money) */
export const MONEY_COLUMNS = ['realizedPnl', 'fees', 'funding', 'liquidationPenalty', 'insuranceDraw', 'netPnl'] as const;

export const LIQUIDATION_COLUMNS = [
  'runId', 'strategy', 'params', 'mode', 'leverage', ...VARIANT_COLUMNS, 'time', 'pool', 'positionMode', 'symbols', 'sides', 'qty', 'closePrice', 'triggerPrice',
  'liquidationPrice', 'marginRatio', 'realizedPnl', 'penalty', 'insuranceDraw', 'loss', 'status',
] as const;

const iso = (ms: number | null): string => (ms === null || !Number.isFinite(ms) ? '' : isoTime(ms));
const num = (x: number | null): CsvCell => (x === null || !Number.isFinite(x) ? null : x);

/** the run's identifying cells (the first nine columns of both files) */
const runCells = (r: RunResult): CsvCell[] => [r.runId, r.spec.strategy, canonicalJson(r.spec.params), r.spec.setup, r.spec.leverage, ...variantCells(r.spec)];

/** Every round trip of a run (closed ones in close order, then those still open at the end). */
export function runTrades(r: RunResult): RoundTrip[] {
  return reconstructTrades(r.events);
}

/** The liquidation records of a run, in time order. */
export function runLiquidations(r: RunResult): LiquidationRecord[] {
  return r.events.filter((e): e is LiquidationRecord => e.type === 'liquidation');
}

/** a trade's own cells (between the run's identifying cells and its status) */
const tripCells = (t: RoundTrip): CsvCell[] => [
  t.symbol, t.side > 0 ? 'long' : 'short', t.mode, iso(t.openTime), iso(t.closeTime),
  t.size, num(t.entryPrice), num(t.exitPrice), t.fills, t.realizedPnl, t.fees, t.funding, t.liquidationPenalty, t.insuranceDraw, t.netPnl, t.exitReason,
  t.exitOrder, t.exitTag, t.entryTag,
];

export function tradeCells(r: RunResult, t: RoundTrip): CsvCell[] {
  return [...runCells(r), ...tripCells(t), r.status];
}

/**
 * CSV lines (each with its CRLF) of `rows` of each run, runs sorted by runId, after the header:
 * a run's identifying cells and its status are rendered once per run, not once per row (a sweep's
 * trades.csv has hundreds of thousands of rows), and the lines are handed to the report writer
 * one by one instead of joined into one string of the whole file.
 */
function* runRowLines<T>(header: readonly string[], results: readonly RunResult[], rows: (r: RunResult) => readonly T[], cells: (row: T, r: RunResult) => CsvCell[]): Generator<string> {
  yield `${csvLine(header)}\r\n`;
  for (const r of [...results].sort(byRunId)) {
    const list = rows(r);
    if (list.length === 0) continue;
    const head = csvLine(runCells(r));
    const tail = csvLine([r.status]);
    for (const row of list) yield `${head},${csvLine(cells(row, r))},${tail}\r\n`;
  }
}

/** trades.csv's lines (src/report/index.ts streams them into the file) */
export function tradesCsvLines(results: readonly RunResult[]): Generator<string> {
  return runRowLines(TRADE_COLUMNS, results, runTrades, tripCells);
}

export function renderTradesCsv(results: readonly RunResult[]): string {
  return [...tradesCsvLines(results)].join('');
}

/** a liquidation's own cells (between the run's identifying cells and its status) */
function liquidationCells(e: LiquidationRecord): CsvCell[] {
  const legs = e.legs;
  const list = (xs: (number | null)[]): string => xs.map((x) => (x === null ? '' : String(x))).join(' ');
  return [
    iso(e.time), e.pool, e.mode, legs.map((l) => l.symbol).join(' '), legs.map((l) => l.side).join(' '),
    // one leg: plain numbers; a multi-symbol cross pool: space-separated, in the order of `symbols`
    ...(legs.length === 1
      ? [legs[0]!.qty, legs[0]!.closePrice, num(legs[0]!.triggerPrice), num(legs[0]!.liquidationPrice)]
      : [list(legs.map((l) => l.qty)), list(legs.map((l) => l.closePrice)), list(legs.map((l) => l.triggerPrice)), list(legs.map((l) => l.liquidationPrice))]),
    // in % (100 = the liquidation point) as runs.csv's marginRatioMax beside it (the record's is a fraction: 1)
    num(e.marginRatio === null ? null : 100 * e.marginRatio), e.realizedPnl, e.penalty, e.insuranceDraw, e.loss,
  ];
}

/** liquidations.csv's lines (src/report/index.ts streams them into the file) */
export function liquidationsCsvLines(results: readonly RunResult[]): Generator<string> {
  return runRowLines(LIQUIDATION_COLUMNS, results, runLiquidations, liquidationCells);
}

export function renderLiquidationsCsv(results: readonly RunResult[]): string {
  return [...liquidationsCsvLines(results)].join('');
}
