/**
 * runs.csv: one row per run (sorted by runId), RFC 4180 quoting, formula-injection safe.
 * Text cells starting with = + - @ (or a tab / carriage return) are prefixed with a single quote
 * so spreadsheets show them as text. Numeric cells are plain numbers (a number is never a
 * formula); null metrics are empty cells.
 */
import { METRICS } from '../analysis/index.js';
import type { RunResult, RunSpec } from '../shard/types.js';
import { isoTime } from '../feed/timeframe.js';
import { canonicalJson } from '../shard/hash.js';
import { byRunId } from './model.js';
import { shownMetrics, shownOutcome } from './format.js';

export type CsvCell = string | number | null | undefined;

const DECIMAL = /^-?\d+(\.\d+)?$/;

/** One CSV cell: numbers as-is, text neutralised against formula injection and quoted when needed. */
export function csvCell(v: CsvCell): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  // an exact decimal (money as booked, e.g. '-12.5') is a number, never a formula: written as is
  if (DECIMAL.test(v)) return v;
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s)) s = `"${s.replace(/"/g, '""')}"`;
  return s;
}

export function csvLine(cells: readonly CsvCell[]): string {
  return cells.map(csvCell).join(',');
}

/**
 * Which replay of the data a run is (one home for runs.csv, trades.csv, liquidations.csv and the
 * DataFrames): `variant` history | scenario | path; `scenario` the scenario id (a path: the ids of
 * its crashes, space-separated, in time order); `injectAt` the shock start (ISO; a path: its
 * crashes' starts); `pathIndex` the Monte Carlo path's index (empty otherwise).
 */
export const VARIANT_COLUMNS = ['variant', 'scenario', 'injectAt', 'pathIndex'] as const;

export function variantCells(spec: RunSpec): [string, string, string, number | null] {
  const st = spec.stress;
  if (!st) return ['history', '', '', null];
  if (st.kind === 'scenario') return ['scenario', st.scenario, isoTime(st.injectAt), null];
  const crashes = st.crashes ?? [];
  return ['path', crashes.map((c) => c.scenario).join(' '), crashes.map((c) => isoTime(c.injectAt)).join(' '), st.pathIndex];
}

export const CSV_ID_COLUMNS = [
  'runId', 'status', 'strategy', 'params', 'venue', 'mode', 'leverage', ...VARIANT_COLUMNS, 'dataset', 'timeframe', 'symbols',
  'from', 'to', 'initialCapital', 'bars', 'liquidationPriceSource', 'crossCheck',
] as const;

const iso = (ms: number | null): string => (ms === null ? '' : isoTime(ms));

export function renderCsv(results: readonly RunResult[]): string {
  return [...csvLines(results)].join('');
}

/** runs.csv line by line (each with its CRLF): written as they come, the file is never one string in memory */
export function* csvLines(results: readonly RunResult[]): Generator<string> {
  const runs = [...results].sort(byRunId);
  const header = [...CSV_ID_COLUMNS, ...METRICS.map((m) => m.id), 'rejections', 'error'];
  yield `${csvLine(header)}\r\n`;
  for (const r of runs) {
    const s = r.spec;
    yield `${csvLine([
      r.runId, r.status, s.strategy, canonicalJson(s.params), s.venue, s.setup, s.leverage, ...variantCells(s), s.dataset, s.timeframe, s.symbols.join(' '),
      iso(s.from), iso(s.to), s.initialCapital, r.bars, r.liquidationPriceSource, r.crossCheck,
      ...METRICS.map((m) => shownMetrics(r)[m.id] ?? null),
      Object.keys(shownOutcome(r).rejections).length ? canonicalJson(shownOutcome(r).rejections) : '',
      r.status === 'ok' ? '' : (r.error ?? 'unknown error'),
    ])}\r\n`;
  }
}
