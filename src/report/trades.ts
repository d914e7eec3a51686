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
  'size', 'entryPrice', 'exitPrice', 'fills', 'realizedPnl', 'fees', 'funding', 'liquidationPenalty', 'insuranceDraw', 'netPnl', 'exitReason', 'status',
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

export function tradeCells(r: RunResult, t: RoundTrip): CsvCell[] {
  return [
    ...runCells(r), t.symbol, t.side > 0 ? 'long' : 'short', t.mode, iso(t.openTime), iso(t.closeTime),
    t.size, num(t.entryPrice), num(t.exitPrice), t.fills, t.realizedPnl, t.fees, t.funding, t.liquidationPenalty, t.insuranceDraw, t.netPnl, t.exitReason, r.status,
  ];
}

export function renderTradesCsv(results: readonly RunResult[]): string {
  const lines = [csvLine(TRADE_COLUMNS)];
  for (const r of [...results].sort(byRunId)) for (const t of runTrades(r)) lines.push(csvLine(tradeCells(r, t)));
  return `${lines.join('\r\n')}\r\n`;
}

export function renderLiquidationsCsv(results: readonly RunResult[]): string {
  const lines = [csvLine(LIQUIDATION_COLUMNS)];
  const list = (xs: (number | null)[]): string => xs.map((x) => (x === null ? '' : String(x))).join(' ');
  for (const r of [...results].sort(byRunId)) {
    for (const e of runLiquidations(r)) {
      const legs = e.legs;
      lines.push(
        csvLine([
          ...runCells(r), iso(e.time), e.pool, e.mode, legs.map((l) => l.symbol).join(' '), legs.map((l) => l.side).join(' '),
          // one leg: plain numbers; a multi-symbol cross pool: space-separated, in the order of `symbols`
          ...(legs.length === 1
            ? [legs[0]!.qty, legs[0]!.closePrice, num(legs[0]!.triggerPrice), num(legs[0]!.liquidationPrice)]
            : [list(legs.map((l) => l.qty)), list(legs.map((l) => l.closePrice)), list(legs.map((l) => l.triggerPrice)), list(legs.map((l) => l.liquidationPrice))]),
          num(e.marginRatio), e.realizedPnl, e.penalty, e.insuranceDraw, e.loss, r.status,
        ]),
      );
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}
