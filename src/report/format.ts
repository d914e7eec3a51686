/**
 * Number and text formatting shared by the Markdown and HTML renderers. Deterministic (fixed
 * en-US grouping, no locale lookups at run time).
 */
import { METRIC_BY_ID } from '../analysis/index.js';
import { MARGIN_RATIO_CAP } from '../account/books.js';
import type { RunResult } from '../shard/types.js';
import { canonicalJson } from '../shard/hash.js';
import { visible } from '../util/excerpt.js';

/** Metrics shown with an explicit + sign when positive. */
const SIGNED = new Set(['totalReturn', 'cagr', 'netPnl', 'fundingNet', 'capitalEfficiency', 'returnOnCapitalAtRisk', 'returnOnMargin']);

const MINUS = '−';

function group(intPart: string): string {
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Fixed decimals with thousands separators and a true minus sign. */
export function fmtNumber(v: number, decimals: number, signed = false): string {
  if (!Number.isFinite(v)) return '—';
  let s = Math.abs(v).toFixed(decimals);
  // avoid "−0.0"
  const isZero = Number(s) === 0;
  const [i, f] = s.split('.');
  s = group(i!) + (f !== undefined ? `.${f}` : '');
  if (isZero) return s;
  if (v < 0) return MINUS + s;
  return signed ? `+${s}` : s;
}

/**
 * A probability in percent without the sign, as every stress table and verdict sentence prints it:
 * one decimal below 10 % (4.6, 0.4), none from there (25). The verdict sentence had its own rule
 * (a decimal below 1 % only), so the interval the table gave as [4.6–70%] read [5–70%] beside it.
 */
export function fmtProbabilityPct(p: number): string {
  return fmtNumber(100 * p, p > 0 && p < 0.1 ? 1 : 0);
}

/**
 * The leverage-survival threshold in percent as it was given (0.0004 → 0.04, 0.049 → 4.9, 0.505 → 50.5): rounded,
 * the heading said "under 0.0%" above a 0 % leverage, or "under 5%" for a 4.9 % one that failed 0.049.
 */
export function fmtThresholdPct(t: number): string {
  return String(Number((100 * t).toPrecision(12)));
}

export function fmtMoney(v: number, signed = false): string {
  const a = Math.abs(v);
  return fmtNumber(v, a >= 10_000 ? 0 : 2, signed);
}

/** Format a metric value with its unit; '—' for null. */
export function fmtMetric(id: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const m = METRIC_BY_ID.get(id);
  const signed = SIGNED.has(id);
  // the ratio's cap (a margin balance at or below a tenth of the maintenance margin, bankrupt included) is a bound, not a ratio
  if (id === 'marginRatioMax' && v >= 100 * MARGIN_RATIO_CAP) return `≥ ${fmtNumber(100 * MARGIN_RATIO_CAP, 0)}%`;
  switch (m?.format) {
    case 'pct':
      return `${fmtNumber(v, Math.abs(v) >= 1000 ? 0 : 1, signed)}%${m.unit === '%/yr' ? '/yr' : ''}`;
    case 'money':
      return fmtMoney(v, signed);
    case 'int':
      return fmtNumber(v, 0);
    case 'days':
      return `${fmtNumber(v, v >= 10 ? 0 : 1)} d`;
    case 'ratio':
      return fmtNumber(v, 2, false);
    default:
      return fmtNumber(v, 2);
  }
}

/** '1 of the 51 planned runs has no result' / '3 of the 51 planned runs have no result' (reports, compare, the CLI alike) */
export function missingRunsText(missing: number, planned: number): string {
  return `${missing} of the ${planned} planned runs ${missing === 1 ? 'has' : 'have'} no result`;
}

/** Leverage as `10×` (two decimals when fractional). */
export function fmtLeverage(x: number): string {
  return `${fmtNumber(x, Number.isInteger(x) ? 0 : 2)}×`;
}

/** Rejections by reason, `reason n` sorted by reason and comma-separated; '' when there are none. */
export function rejectionsLabel(rejections: Record<string, number>): string {
  return Object.keys(rejections)
    .sort()
    .map((k) => `${k} ${fmtNumber(rejections[k]!, 0)}`)
    .join(', ');
}

export function isoDate(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '';
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString().slice(0, 10);
}

/**
 * What tells a configuration's data apart in the reports' labels and tables: `dataset timeframe`
 * when the runs span more than one dataset or timeframe (a config with several `data` entries),
 * '' when they share one (the header names it).
 */
export function dataLabeller(runs: readonly { spec: { dataset: string; timeframe: string } }[]): (spec: { dataset: string; timeframe: string }) => string {
  const k = (s: { dataset: string; timeframe: string }) => `${s.dataset} ${s.timeframe}`;
  const several = new Set(runs.map((r) => k(r.spec))).size > 1;
  return (spec) => (several ? k(spec) : '');
}

/** Compact params label: `fast=10, slow=50` (nested values as JSON). */
export function paramsLabel(params: Record<string, unknown>): string {
  const keys = Object.keys(params).sort();
  // control characters shown as escapes (\n, \x1b, \u202e: util/excerpt visible): a param holding a line break printed
  // a line of its own into a terminal or a CI log (compare's summary), where it could pass for one of marginlab's lines;
  // a bidi control reversed the rest of the line
  return keys.map((k) => `${visible(k)}=${visible(typeof params[k] === 'object' && params[k] !== null ? JSON.stringify(params[k]) : String(params[k]))}`).join(', ');
}

/**
 * A table's Params column sort keys: each params label → a key whose text order is the params' reading order
 * (cmpParams: fast=12 before fast=100, which the labels' text put first). `entries`: label and params, repeats allowed.
 */
export function paramsSortKeys(entries: Iterable<readonly [string, Record<string, unknown>]>): Map<string, string> {
  const order = [...new Map(entries).entries()].sort((a, b) => cmpParams(a[1], b[1]) || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return new Map(order.map(([label], i) => [label, String(i).padStart(8, '0')]));
}

/**
 * Strategy params in reading order: key by key (sorted), numbers by value (every=48 before every=200, which the
 * label's text order put first) and before other values, those by their JSON text; a key one side lacks comes first there.
 */
export function cmpParams(a: Record<string, unknown>, b: Record<string, unknown>): number {
  for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const x = a[k];
    const y = b[k];
    if (x === undefined || y === undefined) {
      if (x !== y) return x === undefined ? -1 : 1;
      continue;
    }
    const nx = typeof x === 'number';
    const ny = typeof y === 'number';
    if (nx !== ny) return nx ? -1 : 1;
    const jx = JSON.stringify(x) ?? '';
    const jy = JSON.stringify(y) ?? '';
    const c = nx ? (x < (y as number) ? -1 : x > (y as number) ? 1 : 0) : jx < jy ? -1 : jx > jy ? 1 : 0;
    if (c !== 0) return c;
  }
  return 0;
}

/** HTML text or attribute value: markup characters as references, control characters (bidi controls too) shown as escapes (visible). */
export function escapeHtml(s: string): string {
  return visible(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** a Markdown table: header row, alignment row (l / r), body rows (cells already escaped) */
export function mdTable(header: string[], align: ('l' | 'r')[], rows: string[][]): string {
  const sep = align.map((a) => (a === 'r' ? '---:' : ':---'));
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** Markdown table cell: escape the characters that would change table structure or inline HTML. */
export function escapeMd(s: string): string {
  // every line ending (CommonMark: LF, CRLF and a lone CR; and the Unicode separators) becomes a space,
  // so user text cannot end a table row or list item and start a line of its own; the other control
  // characters (ESC, a bidi control that reversed the rest of the row) are shown as escapes, as on the
  // terminal (visible), their backslash then escaped with the text's own
  return visible(s.replace(/\r\n|[\r\n\u2028\u2029]/g, ' '))
    // a character reference (&lt; &copy; &#60;) would be shown as the character it names: its & is escaped
    .replace(/&(?=#?[A-Za-z0-9]+;)/g, '&amp;')
    .replace(/\\/g, '\\\\')
    .replace(/\|/g, '\\|')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([*_`[\]])/g, '\\$1');
}

/** JSON safe to embed inside an HTML <script> element. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

const NO_FIGURES: Readonly<Record<string, number | null>> = Object.freeze({});

/**
 * The metrics every report shows for a run (summary.json, runs.csv, loadResults, report.md/html,
 * compare): an errored run has none. Its stored metrics cover only the bars before it stopped (a
 * strategy that threw) or are empty (a timeout, a dead worker), so a figure of it would read as the
 * whole run's; the result file keeps what was stored.
 */
export function shownMetrics(r: RunResult): Readonly<Record<string, number | null>> {
  return r.status === 'ok' ? r.metrics : NO_FIGURES;
}

/**
 * The rest of a run's figures as the reports show them (summary.json's books, rejections and stress
 * figures, runs.csv's rejections): an errored run has none, for the reason of shownMetrics (its books
 * stop where it failed: a strategy that threw after a liquidation kept the penalty and the loss).
 */
export function shownOutcome(r: RunResult): { books: Readonly<Record<string, string>>; rejections: Readonly<Record<string, number>>; stress: RunResult['stress'] } {
  return r.status === 'ok' ? { books: r.books, rejections: r.rejections, stress: r.stress } : { books: {}, rejections: {}, stress: undefined };
}

/** 'isolated', 'isolated and cross', 'isolated, cross and mixed' */
export const setupList = (xs: readonly string[]): string => (xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')} and ${xs[xs.length - 1]}`);

/** A setup named with the setups whose run was identical to its, folded into it: 'cross (mixed identical)'. */
export const withTwins = (setup: string, twins: readonly string[]): string => (twins.length ? `${setup} (${setupList(twins)} identical)` : setup);

/** Two runs that agree on every metric and rejection: one run twice (mixed with every position in its default cross mode repeats cross). */
export function identicalRuns(a: RunResult, b: RunResult): boolean {
  return canonicalJson(a.metrics) === canonicalJson(b.metrics) && canonicalJson(a.rejections ?? {}) === canonicalJson(b.rejections ?? {});
}

/**
 * Whether a run ever held a position: time in the market or a liquidation. A run that did not says nothing about its leverage or mode
 * (every order rejected above the venue's tier maximum): the leverage sweep and the stress survival
 * curve call such a leverage untested, and a verdict between such runs compares nothing.
 */
export function heldPosition(r: RunResult): boolean {
  const m = r.metrics;
  const pos = (id: string) => {
    const v = m[id];
    return typeof v === 'number' && v > 0;
  };
  return pos('exposureTime') || pos('liquidations');
}
