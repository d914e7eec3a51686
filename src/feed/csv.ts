/**
 * Streaming CSV import into a dataset folder (docs/data-format.md, "CSV import").
 *
 * The file is parsed with csv-parse as a stream and written as Arrow record batches of 65,536
 * rows, so memory stays flat with file size. Header names are matched case-insensitively with
 * aliases (timestamp|time|date|open_time|...); times may be ISO-8601 strings (UTC unless they name
 * a zone), seconds, milliseconds, microseconds or nanoseconds since the epoch (by magnitude);
 * BOM and CRLF are accepted. Every bad row is reported with its line number and reason. Without
 * `skipBadRows` any bad row fails the import (exit 65) and nothing is written; with it, bad rows
 * are left out and counted. The Arrow file is written under a temp name and renamed; the manifest
 * is then created or updated atomically.
 */
import { excerpt, excerptList } from '../util/excerpt.js';
import { isCalendarDate } from '../util/time.js';
import { DECIMAL_TEXT } from '../util/decimal-text.js';
import { closeSync, createReadStream, existsSync, openSync, readSync, rmSync, rmdirSync, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isDataMember, isZip, readZip } from './formats/zip.js';
import { readInput } from './formats/common.js';
import { basename, join, resolve } from 'node:path';
import { parse, type Options as CsvOptions } from 'csv-parse';
import { dataError, missingInput, usageError } from '../errors.js';
import { KindFileWriter, readKindFile } from './arrow-io.js';
import { seriesPath, symbolProblem, type FileKind, type Manifest, type ManifestFile } from './manifest.js';
import { canonicalTimeframe, fmtStep, fmtTime, fundingFinerText, fundingFinerThan, isMonthStart, monthlyRowsText, monthlySpacing, offExchangeGrid, otherSpacing, seriesStep, timeframeMs, timeframeMsOrNaN } from './timeframe.js';
import { tempBeside } from '../util/atomic.js';
import { mkdirs } from '../util/outdir.js';
import { commitSeriesYielding, nextManifest, openDataset, placeFiles, refuseUnlisted, rowProblem, spacingVerdict, unchangedFiles, KIND_NAMES, KIND_WORDS, type CommitResult } from './ingest.js';
import { FUNDING_TWICE_MS, ProblemList, fundingTwiceText, implausibleTime, sameRate } from './validate.js';
import { didYouMean } from '../util/nearest.js';
import { signalsBeforeCommit, trackTemp } from '../util/interrupt.js';

export interface CsvImportOptions {
  file: string;
  kind: FileKind;
  symbol: string;
  /**
   * candles and mark: the candles' length; without it, the rows' spacing says (feed/timeframe.ts
   * seriesStep: the most common step, or the finest step a tenth of the steps make that every step is
   * a multiple of), read in a first pass over the file (a pipe cannot be read twice: there it is
   * required). Funding: an optional nominal interval.
   */
  timeframe?: string;
  /** dataset folder (created when missing) */
  out: string;
  /** venue written when the manifest is created (default 'binance-usdm') */
  venue?: string;
  skipBadRows?: boolean;
  delimiter?: string;
  /** provenance text added to the manifest */
  provenance?: string;
  /** replace the dataset's series instead of appending to it */
  replace?: boolean;
  /**
   * column mapping: 'timestamp=open_time,open=o,…' (header names, or #N for the N-th column), or a
   * list naming each column in order ('timestamp,open,high,low,close,volume'; '_' skips one)
   */
  columns?: string;
  /** false: the file has no header line (then `columns` names the columns in order) */
  header?: boolean;
}

export interface CsvImportResult {
  path: string;
  rows: number;
  /** rows the dataset did not have before */
  added: number;
  badRows: number;
  /**
   * the bad rows listed: at most LISTED_PER_KIND of each kind of problem (and MAX_LISTED in all),
   * then per kind with more one line counting the rest; complete, nothing more to add
   */
  badRowLines: string[];
  gaps: number;
  /** the widest gap (missing bars, the times either side), when there is one */
  widestGap?: CommitResult['widestGap'];
  /** gaps the dataset's file had before this import appended to it (absent: a new or replaced file) */
  gapsBefore?: number;
  /** rows of the dataset's file that `replace` replaced (absent: appended, or a new file) */
  replacedRows?: number;
  first: number | null;
  last: number | null;
  manifest: Manifest;
  /** the timeframe the rows' spacing gave, when the options named none (candles and mark) */
  inferredTimeframe?: string;
  /** line 1, left out as a title above the header (CryptoDataDownload's URL line) */
  banner?: string;
  /** the time column's header, when it names a UTC offset its zone-less times were read in ('Time(UTC+8)') */
  zoneColumn?: string;
  /** header cells naming a column another cell names first, left unread ("'datetime' (column 2) also names the timestamp: 'timestamp' (column 1) is read") */
  alsoNamed?: string[];
}

const MAX_LISTED = 200;
/**
 * Rows listed of one kind of problem: a file whose every time is day-first ('22/05/2025 00:00')
 * listed 200 lines alike, then '... and 1258 more bad rows'; the rest of a kind is one counted line.
 */
const LISTED_PER_KIND = 3;
const BATCH = 65_536;

/** A problem with its values left out (quoted cells, numbers, times): rows of one kind share it. */
function problemKind(reason: string): string {
  return reason.replace(/'[^']*'/g, "'…'").replace(/\d[\d.:TZ+-]*/g, '#');
}

const ALIASES: Record<string, readonly string[]> = {
  timestamp: ['timestamp', 'time', 'date', 'open_time', 'opentime', 'open time', 'datetime', 'date_time', 'ts', 'open_timestamp', 'fundingtime', 'funding_time', 'calc_time'],
  open: ['open', 'o', 'open_price'],
  high: ['high', 'h', 'high_price'],
  low: ['low', 'l', 'low_price'],
  close: ['close', 'c', 'close_price'],
  volume: ['volume', 'vol', 'v', 'base_volume', 'volume_base'],
  rate: ['rate', 'funding_rate', 'fundingrate', 'funding', 'last_funding_rate', 'lastfundingrate'],
  price: ['price', 'mark_price', 'markprice', 'funding_price'],
};

/** the columns each kind needs (the Parquet importer's too) */
export const REQUIRED: Record<FileKind, readonly string[]> = {
  candles: ['timestamp', 'open', 'high', 'low', 'close', 'volume'],
  mark: ['timestamp', 'open', 'high', 'low', 'close'],
  funding: ['timestamp', 'rate'],
};

const CANONICAL = ['timestamp', 'open', 'high', 'low', 'close', 'volume', 'rate', 'price'];
/** a header cell naming the rows' symbol (aliasKey form) */
const SYMBOL_COLUMN = /^(?:symbol|pair|ticker|instrument|instrument_name|inst_id|instid|market|contract)$/;

/** The column of a header that names the rows' symbol (CSV and Parquet alike), -1 when none does. */
export const symbolColumnOf = (header: readonly string[]): number => header.findIndex((h) => SYMBOL_COLUMN.test(aliasKey(h)));

/** The refusal of a file whose symbol column names two symbols (one file is one series). */
export const severalSymbolsError = (file: string, where: string, column: string, value: string, firstWhere: string, first: string, symbol: string) =>
  dataError(
    `${file}: ${where}: column '${column}' names ${excerpt(value, 40)} where ${firstWhere} names ${excerpt(first, 40)}: the file holds rows of several symbols, and one file is one series (--symbol ${symbol}); split it by that column and import each part with its own --symbol; nothing was written`,
  );

/**
 * Which of several cells naming the time is read (mapHeader): the most specific name first, whatever its
 * position ('open_time' before a pandas 'date' of the day, ccxt's 'timestamp' before its 'datetime'); the
 * generic 'ts', 'time' and 'date' last. (ALIASES' order is the one messages show.)
 */
const TIME_PREFERENCE = ['timestamp', 'open_time', 'opentime', 'open_timestamp', 'fundingtime', 'funding_time', 'calc_time', 'datetime', 'date_time', 'ts', 'time', 'date'];

/**
 * A `--columns` spec to an index per canonical name: 'name=header' pairs (or 'name=#N', 1-based)
 * against `header`, or a list naming the columns in order ('_' or empty skips one).
 */
export function mapColumns(spec: string, header: readonly string[] | null, kind: FileKind): Record<string, number> {
  const items = spec.split(',').map((x) => x.trim());
  const index: Record<string, number> = {};
  const norm = header?.map((h) => h.replace(/^\uFEFF/, '').trim().toLowerCase()) ?? null;
  // a column named as a header may name it (time, o, h, l, c, v): the aliases of mapHeader; else the nearest name
  const canonical = (given: string): string => {
    if (CANONICAL.includes(given)) return given;
    const key = aliasKey(given);
    const col = CANONICAL.find((c) => ALIASES[c]!.map(aliasKey).includes(key));
    if (col !== undefined) return col;
    throw usageError(`--columns: unknown column '${given}'${didYouMean(given, CANONICAL)} (expected ${CANONICAL.join(', ')}, or an alias a header may use: ${CANONICAL.map((c) => `${c}=${ALIASES[c]!.slice(1, 4).join('|')}`).join('; ')})`);
  };
  const check = (given: string): string => {
    const name = canonical(given);
    if (index[name] !== undefined) throw usageError(`--columns: '${name}' is given twice${name === given ? '' : ` ('${given}' is ${name})`}`);
    return name;
  };
  if (items.every((x) => x.includes('='))) {
    for (const it of items) {
      const [k, v] = it.split('=').map((x) => x.trim()) as [string, string];
      const name = check(k.toLowerCase());
      const pos = /^#(\d+)$/.exec(v);
      if (pos && Number(pos[1]) < 1) throw usageError(`--columns ${it}: columns are numbered from #1`);
      if (pos && norm && Number(pos[1]) > norm.length) throw dataError(`--columns ${it}: the header has ${norm.length} column${norm.length === 1 ? '' : 's'} (${excerptList(norm)})`);
      if (pos) index[name] = Number(pos[1]) - 1;
      else {
        if (!norm) throw usageError(`--columns ${it}: without a header line, name columns by position (${name}=#N) or list them in order`);
        const i = norm.indexOf(v.toLowerCase());
        if (i < 0) throw dataError(`--columns ${it}: the header has no column '${v}' (has: ${norm.join(', ')})`);
        index[name] = i;
      }
    }
  } else {
    items.forEach((it, i) => {
      if (it === '' || it === '_') return;
      const name = check(it.toLowerCase());
      index[name] = i;
    });
  }
  const missing = REQUIRED[kind].filter((c) => index[c] === undefined);
  if (missing.length) throw usageError(`--columns: a ${kind} file needs ${REQUIRED[kind].join(', ')}; missing ${missing.join(', ')}`);
  return index;
}

/** A header name as the aliases are matched: any case, and spaces, '_' and '-' alike ('Funding Rate' is funding_rate). */
const aliasKey = (h: string) => h.replace(/^\uFEFF/, '').trim().toLowerCase().replace(/[\s_-]+/g, '_');

const PANDAS_INDEX = aliasKey('__index_level_0__');

/** A zone named after a time column's name (its alias key, where '-' reads '_'): '(utc)', '_(utc+8)', '_gmt_3:30', '_utc'. */
const ZONE_NOTE = /_?[([]?(?:utc|gmt)(?:[+_-]\d{1,2}(?::?\d{2})?)?[)\]]?$/;

/**
 * The UTC offset (ms) a time column's header names ('Time(UTC+8)': 8 h; 'Time(UTC)', or none: 0).
 * Times without a zone of their own in such a column are read in it; epoch numbers and times
 * naming their zone are UTC instants as they are.
 */
export function utcOffsetOfHeader(header: string): number {
  const m = /(?:utc|gmt)\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?\s*[)\]]?\s*$/i.exec(header.trim());
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 3_600_000 + Number(m[3] ?? 0) * 60_000) : 0;
}

/**
 * Map header cells to canonical columns; returns index per canonical name. Where several cells name one column, the
 * cell with the first of its aliases is read (for the time, the most specific: TIME_PREFERENCE) and `alsoNamed` says
 * which others were left; two cells of that same name are `duplicate`, the refusal's text (which one is meant is unknown).
 */
export function mapHeader(header: readonly string[], kind: FileKind): { index: Record<string, number>; missing: string[]; duplicate: string | null; alsoNamed: string[] } {
  const norm = header.map(aliasKey);
  const index: Record<string, number> = {};
  const wanted = kind === 'funding' ? [...REQUIRED.funding, 'price'] : REQUIRED[kind];
  let duplicate: string | null = null;
  const alsoNamed: string[] = [];
  for (const col of wanted) {
    const keys = col === 'timestamp' ? TIME_PREFERENCE : ALIASES[col]!.map(aliasKey);
    // a time column may name its zone: 'Time(UTC)', 'Date (UTC+8)', 'timestamp_utc' (see utcOffsetOfHeader)
    const rank = (h: string) => keys.indexOf(col === 'timestamp' ? h.replace(ZONE_NOTE, '') : h);
    let best = -1;
    let bestRank = Infinity;
    const hits: number[] = [];
    for (let i = 0; i < norm.length; i++) {
      const r = rank(norm[i]!);
      if (r < 0) continue;
      hits.push(i);
      if (r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) continue;
    index[col] = best;
    const cell = (i: number) => `'${header[i]!.replace(/^\uFEFF/, '').trim()}' (column ${i + 1})`;
    const same = hits.filter((i) => i !== best && norm[i] === norm[best]);
    if (same.length && duplicate === null)
      duplicate = `${cell(best)} and ${same.map(cell).join(', ')} both name the ${col}, so which one is meant is unknown: rename one, or give --columns (name=#N picks a column by position)`;
    for (const i of hits) if (i !== best && norm[i] !== norm[best]) alsoNamed.push(`${cell(i)} also names the ${col}: ${cell(best)} is read`);
  }
  // pandas' unnamed index (a DatetimeIndex) is the time when no column is named like one:
  // `df.to_csv()` writes its header cell empty, a Parquet file names it __index_level_0__
  if (index.timestamp === undefined) {
    const i = norm.length > 1 && norm[0] === '' ? 0 : norm.indexOf(PANDAS_INDEX);
    if (i >= 0) index.timestamp = i;
  }
  const missing = REQUIRED[kind].filter((c) => index[c] === undefined);
  return { index, missing, duplicate, alsoNamed };
}

/**
 * A title line above the header: one cell (no ',', ';', tab or '|' in it) that reads as a URL or
 * words, not a column name, a number or a time ("https://www.CryptoDataDownload.com").
 */
const isBanner = (cells: readonly string[]): boolean => {
  if (cells.length !== 1) return false;
  const c = cells[0]!.trim();
  return /[\s:/]/.test(c) && !/[;\t|]/.test(c) && !Number.isFinite(Number(c)) && typeof parseTime(c) !== 'number';
};

/** A number written with a decimal comma ('109609,6', '1.234,5', '0,0001%'). */
const DECIMAL_COMMA = /^[+-]?\d{1,3}(?:[.\s]\d{3})*,\d+%?$|^[+-]?\d+,\d+%?$/;

/** A first line of numbers and times: a file without a header (it wants --no-header). */
const looksLikeData = (cells: readonly string[]): boolean =>
  cells.length > 1 && cells.every((c) => c.trim() !== '' && (Number.isFinite(Number(c.trim())) || typeof parseTime(c) === 'number'));

/**
 * What to do about a header that lacks columns `kind` needs: a header with another kind's columns
 * (mark candles imported as candles) wants --kind; other names want --columns.
 */
export function missingColumnsFix(header: readonly string[], kind: FileKind): string {
  // the columns the header names already, filled in; a volume under a name of its own ('Volume BTC',
  // 'Volume USDT') is offered by those names (a file with one is candles, not mark candles)
  const { index } = mapHeader(header, kind);
  const cells = header.map((h) => h.replace(/^\uFEFF/, '').trim());
  const volumes = kind === 'candles' && index.volume === undefined ? cells.filter((h) => /vol/i.test(h)) : [];
  const cell = (c: string) => index[c] !== undefined ? cells[index[c]!]! : c === 'volume' && volumes.length ? `<${volumes.slice(0, 4).join(' or ')}: the one in the base currency>` : '<column>';
  const spec = REQUIRED[kind].map((c) => `${c}=${cell(c)}`).join(',');
  const byColumns = `name the file's columns with --columns ${/\s/.test(spec) || volumes.length ? `'${spec}'` : spec}`;
  // the kind whose columns the header has (the most of them: a candles header has the mark columns too)
  const other = volumes.length ? undefined : (['candles', 'mark', 'funding'] as const).filter((k) => k !== kind && mapHeader(header, k).missing.length === 0).sort((a, b) => REQUIRED[b].length - REQUIRED[a].length)[0];
  return other ? `the header has the columns of a ${other} CSV: if the file holds ${KIND_WORDS[other]}, give --kind ${other}; else ${byColumns}` : byColumns;
}

const ISO_NO_ZONE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?$/;
/**
 * A zoned date-time: `Z`, an offset of hours and minutes (`+02:00`, `+0200`) or of hours alone (`+00`, as
 * PostgreSQL writes a timestamptz), or ` UTC` (BigQuery's export); group 1 is the offset's sign and hours, 2 its minutes
 */
const ISO_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z| ?UTC|([+-]\d{2})(?::?(\d{2}))?)$/i;

/**
 * Parse a time cell to ms UTC, or return a reason string. Numbers by magnitude: < 1e11 seconds,
 * < 1e14 milliseconds, < 1e17 microseconds, else nanoseconds (sub-ms parts are floored).
 */
export function parseTime(cell: string): number | string {
  const s = cell.trim();
  if (s === '') return 'empty time';
  if (DECIMAL_TEXT.test(s)) {
    const v = Number(s);
    if (!Number.isFinite(v) || v < 0) return `time '${excerpt(s, 40)}' is not a valid epoch value`;
    const ms = v < 1e11 ? Math.round(v * 1000) : v < 1e14 ? v : v < 1e17 ? Math.floor(v / 1e3) : Math.floor(v / 1e6);
    if (!Number.isInteger(ms)) return `time '${excerpt(s, 40)}' has a fraction of a millisecond`;
    return ms;
  }
  let iso = s;
  if (ISO_NO_ZONE.test(s)) iso = `${s.replace(' ', 'T')}${s.length === 10 ? 'T00:00:00' : ''}Z`;
  else if (ISO_ZONE.test(s)) iso = s.replace(' ', 'T').replace(/ ?UTC$|([+-]\d{2})(?::?(\d{2}))?$/i, (_, hh?: string, mm?: string) => (hh === undefined ? 'Z' : `${hh}:${mm ?? '00'}`));
  else if (/^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}\b/.test(s)) return `time '${excerpt(s, 40)}' is neither an epoch number nor an ISO-8601 date-time (day/month/year and month/day/year read alike: export the times as ISO-8601, 2025-05-22T00:00:00Z, or epoch ms)`;
  else return `time '${excerpt(s, 40)}' is neither an epoch number nor an ISO-8601 date-time`;
  if (!isCalendarDate(s)) return `time '${excerpt(s, 40)}' is not a valid date-time (no such day)`;
  const ms = Date.parse(iso.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isFinite(ms) ? ms : `time '${excerpt(s, 40)}' is not a valid date-time`;
}

/**
 * Why a parsed time (ms UTC) is one no market data has, else null: before 1970 (an ISO time; an epoch number is never
 * negative here), or in the year 3000 or later (implausibleTime: µs or ns read as ms, or a date mistyped).
 */
function csvTimeProblem(t: number, cell: string): string | null {
  const s = excerpt(cell.trim(), 40);
  if (t < 0) return `time ${s} is before 1970-01-01, when no market data is stamped (times are from 1970 on)`;
  const late = implausibleTime(t);
  if (late === null) return null;
  return DECIMAL_TEXT.test(cell.trim()) ? `time ${s} ${late}` : `time ${s} is in the year ${new Date(t).getUTCFullYear()}, when no market data is stamped (times are before the year 3000)`;
}

/** the longest line the csv format reads (csv-parse's max_record_size, in characters) */
const MAX_LINE_BYTES = 1 << 20;

function parseNum(cell: string | undefined): number {
  if (cell === undefined) return NaN;
  const s = cell.trim();
  return s === '' || !DECIMAL_TEXT.test(s) ? NaN : Number(s);
}

/**
 * A funding rate cell: a fraction ('0.0001') or a percentage as exchange pages and exports show
 * funding ('0.0100%'), read as exactly a hundredth of it (the decimal's exponent moved, no float
 * division): '0.01%' is 0.0001.
 */
export function parseRate(cell: string | undefined): number {
  const s = cell?.trim() ?? '';
  if (!s.endsWith('%')) return parseNum(s);
  const t = s.slice(0, -1).trim();
  if (!DECIMAL_TEXT.test(t)) return NaN;
  const m = /^(.*?)(?:[eE]([+-]?\d+))?$/.exec(t)!;
  return Number(`${m[1]}e${Number(m[2] ?? 0) - 2}`);
}

/**
 * The CSV text of `file` as a stream: the file itself, a gzip of it (`prices.csv.gz`, streamed), or
 * a ZIP archive holding one .csv file (read into memory). Errors name the file (65).
 */
function openCsvInput(file: string): Readable {
  // a pipe (/dev/stdin, a shell's <(zcat prices.csv.gz)) cannot be read at a position: told by its first bytes as they stream
  if (!statSync(file).isFile()) return Readable.from(pipedCsv(file), { objectMode: false });
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  let got: number;
  try { got = readSync(fd, head, 0, 4, 0); } finally { closeSync(fd); }
  if (got >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    // a damaged gzip fails with a Z_* code, turned into a data error by importCsv
    const gunzip = createGunzip();
    const raw = createReadStream(file);
    raw.on('error', (e) => gunzip.destroy(e));
    return raw.pipe(gunzip);
  }
  if (isZip(head.subarray(0, got))) return Readable.from([zipMember(readInput(file), file)]);
  return createReadStream(file);
}

/** The CSV text of a pipe, as openCsvInput reads a file: plain, a gzip (streamed) or a ZIP of one .csv (read whole). */
async function* pipedCsv(file: string): AsyncGenerator<Buffer> {
  const it = createReadStream(file)[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  let done = false;
  while (head.length < 4 && !done) {
    const n = await it.next();
    if (n.done) done = true;
    else head = Buffer.concat([head, n.value]);
  }
  async function* all(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    for (let n = await it.next(); !n.done; n = await it.next()) yield n.value;
  }
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(all()).pipe(createGunzip());
  } else if (isZip(head)) {
    const parts: Buffer[] = [];
    for await (const b of all()) parts.push(b);
    yield zipMember(Buffer.concat(parts), file);
  } else yield* all();
}

/** The one .csv of a ZIP archive (65 naming the archive when it holds none or several). */
function zipMember(buf: Buffer, file: string): Buffer {
  const members = readZip(buf, file).filter((e) => e.name.toLowerCase().endsWith('.csv') && isDataMember(e.name));
  if (members.length === 0) throw dataError(`${file}: the archive holds no .csv file; nothing was imported`);
  if (members.length > 1) throw dataError(`${file}: the archive holds ${members.length} .csv files (${excerptList(members.map((e) => e.name))}); a CSV import reads one: extract it and import it by name`);
  return members[0]!.data;
}

export async function importCsv(options: CsvImportOptions): Promise<CsvImportResult> {
  const { file, kind } = options;
  if (kind === 'funding' || options.timeframe) return (await readCsv(options, null))!;
  if (!existsSync(file)) throw missingInput(`CSV file not found: ${file}`);
  if (statSync(file).isFile()) {
    // a first pass reads the rows' spacing (the same parse: header, columns and time errors as the import's)
    const steps = new Map<number, number>();
    const firsts = { all: true };
    await readCsv(options, steps, firsts);
    // rows a calendar month apart: monthly candles, which no fixed timeframe holds (timeframe.ts monthlySpacing)
    if (monthlySpacing(steps, firsts.all)) throw dataError(monthlyRowsText(file));
    const step = seriesStep(steps);
    const tf = step > 0 ? fmtStep(step) : '';
    if (!(timeframeMsOrNaN(tf) > 0))
      throw usageError(
        `${file}: the rows' spacing gives no timeframe (${step > 0 ? `their usual step is ${fmtStep(step)}` : 'fewer than two distinct times'}): ` +
          // a step finer than a second is no timeframe: times of another unit, more likely than a --timeframe left out
          (step > 0 && step < 1000 ? 'are the times in another unit? else give --timeframe' : 'give --timeframe') +
          ` (e.g. --timeframe 1h), the length of the ${kind === 'mark' ? 'mark candles' : 'candles'}`,
      );
    return { ...(await readCsv({ ...options, timeframe: tf }, null))!, inferredTimeframe: tf };
  }
  if (statSync(file).isDirectory()) throw missingInput(`${file} is a folder, not a CSV file`);
  throw usageError(`--timeframe is required for --kind ${kind} read from a pipe (${file}; its rows cannot be read twice to find their spacing): give the candles' length, e.g. --timeframe 1h`);
}

/**
 * The import (`probe` null), or a first pass that only parses and counts the steps between the
 * rows' times into `probe` (nothing written; the timeframe is then read from them), and whether every good row opens
 * at 00:00 UTC on the 1st of a month into `probeFirsts` (monthly candles, timeframe.ts monthlySpacing).
 */
async function readCsv(options: CsvImportOptions, probe: Map<number, number> | null, probeFirsts?: { all: boolean }): Promise<CsvImportResult | null> {
  // one written form per timeframe ('60m' and ' 1h' are the series 1h)
  const opts = options.timeframe ? { ...options, timeframe: canonicalTimeframe(options.timeframe) } : options;
  const { file, kind, symbol } = opts;
  if (!existsSync(file)) throw missingInput(`CSV file not found: ${file}`);
  if (statSync(file).isDirectory()) throw missingInput(`${file} is a folder, not a CSV file`);
  const badSymbol = symbolProblem(symbol);
  if (badSymbol) throw usageError(`invalid --symbol '${excerpt(symbol, 60)}': it ${badSymbol}`);
  if (kind !== 'funding' && !opts.timeframe && !probe) throw usageError(`--timeframe is required for --kind ${kind}`);
  const tfMs = kind === 'funding' || probe ? null : timeframeMs(opts.timeframe!);
  if (kind === 'funding' && opts.timeframe) timeframeMs(opts.timeframe);
  // a pipe's name says little (/dev/fd/63): messages give its whole path
  const label = statSync(file).isFile() ? basename(file) : file;

  // '\t' as typed in a shell is a tab; an empty delimiter cannot split anything
  const delimiter = (opts.delimiter ?? ',').replace(/\\t/g, '\t');
  if (delimiter === '') throw usageError(`--delimiter: expected one or more characters (e.g. ';', or '\\t' for a tab), got ''`);
  if (opts.header === false && !opts.columns) throw usageError('--no-header needs --columns naming the columns in order, e.g. --columns timestamp,open,high,low,close,volume');

  // existing manifest (validated) or a new one
  // (the first pass of a timeframe read from the spacing writes nothing and opens no dataset)
  const outDir = resolve(opts.out);
  const manifest: Manifest | null = probe ? null : openDataset(outDir);
  const rel = probe ? '' : seriesPath(manifest, symbol, kind, kind === 'funding' ? undefined : opts.timeframe);
  if (!probe) refuseUnlisted(outDir, manifest, rel);
  const appendTo = opts.replace ? undefined : manifest?.files.find((f) => f.path === rel);

  const createdDir = !probe && !existsSync(outDir);
  if (!probe) mkdirs(outDir);
  const tmp = probe ? '' : tempBeside(outDir, rel, 'tmp');
  // removed on Ctrl-C too (src/util/interrupt.ts)
  const untrack = probe ? () => undefined : trackTemp(tmp);
  const cleanup = () => {
    if (tmp) rmSync(tmp, { force: true });
    untrack();
    if (createdDir) { try { rmdirSync(outDir); } catch { /* not empty: leave it */ } }
  };

  // created once the header is read (a funding file's schema has a price column only when the CSV has one)
  let w = null as KindFileWriter | null;
  const bad: string[] = [];
  /** per kind of problem (problemKind): rows listed, rows counted only, the first such row's reason */
  const badKinds = new Map<string, { listed: number; more: number; line: number; reason: string }>();
  let badCount = 0;
  /** bad rows that are only out of time order */
  let outOfOrder = 0;
  let gaps = 0;
  let widest = { step: 0, from: 0, to: 0 };
  let headerIndex: Record<string, number> | null = null;
  // a header cell naming the rows' symbol: a file of several symbols (BTC and ETH rows at each time) read as one series
  // gave only "duplicate timestamp" bad rows, and --skip-bad-rows kept whichever symbol came first at each time
  let symbolColumn: { at: number; name: string; first: string | null; line: number } | null = null;
  /** what the result says besides its rows: a title line above the header, left out (see isBanner); a time column naming its zone */
  const notes: Pick<CsvImportResult, 'banner' | 'zoneColumn' | 'alsoNamed'> = {};
  /** value columns per row (after the time): candles 5, mark 4, funding 1 or 2 (with price) */
  let nCols = 0;
  /**
   * the cells of a row: the header's, or (--no-header) the most of the columns --columns maps and the
   * first good row's cells (a row refused never sets it; a funding file's price cell may come later);
   * a row with more non-empty ones is refused. 0: not known yet
   */
  let nCells = 0;
  /** --no-header: the cells --columns maps (its highest index + 1) */
  let mappedCells = 0;
  /** --no-header: the line that set nCells */
  let widthLine = 0;
  const time = new Float64Array(BATCH);
  const cols = Array.from({ length: 5 }, () => new Float64Array(BATCH));
  let fill = 0;
  let lastT = NaN;
  /** the rate of the last good row (funding: one settlement read twice has the same rate) */
  let lastRate = NaN;
  /** good rows the first pass (probe) read */
  let probeRows = 0;
  /** whether times descend (a newest-first file), known from the second row; such rows are held here */
  let desc: boolean | null = null;
  /** the line whose time, against the first good row's, set `desc` */
  let descLine = 0;
  /** the steps between consecutive rows with a time, whatever else is wrong with them: how many go up and down */
  let rawPrevT = NaN;
  let rawUp = 0;
  let rawDown = 0;
  /** those steps (ms, either direction) → how often: data finer than --timeframe shows here, as its rows between bars are bad rows */
  const rawSteps = new Map<number, number>();
  const descTime: number[] = [];
  const descCols: number[][] = Array.from({ length: 5 }, () => []);
  let lastLine = 0;
  // the first good row (every later one is a whole number of bars from it: on the exchanges' grid with it, or off it)
  let firstT = NaN;
  /** a funding series written anew: its kept times and their lines (funding files are small), judged against the interval named for it */
  const fund = kind === 'funding' && !probe && !appendTo ? { time: [] as number[], line: [] as number[] } : null;
  let firstLine = 0;
  const steps = new Map<number, number>();
  const flush = () => {
    if (fill === 0) return;
    w!.writeBatch(time, cols.slice(0, nCols), fill);
    fill = 0;
  };
  const reject = (line: number, reason: string) => {
    badCount++;
    const kind = problemKind(reason);
    let k = badKinds.get(kind);
    if (!k) badKinds.set(kind, (k = { listed: 0, more: 0, line, reason }));
    if (k.listed < LISTED_PER_KIND && bad.length < MAX_LISTED) {
      k.listed++;
      bad.push(`${label} line ${line}: ${reason}`);
    } else k.more++;
  };
  /** the listed rows, then a count per kind of problem of the rows not listed */
  const badLines = (): string[] => [
    ...bad,
    ...[...badKinds.values()].filter((k) => k.more > 0).map((k) => `... and ${k.more} more row${k.more === 1 ? '' : 's'} like line ${k.line}${k.listed > 0 ? '' : `: ${k.reason}`}`),
  ];

  try {
    const parser = parse({
      bom: true,
      delimiter,
      skip_empty_lines: false,
      relax_column_count: true,
      relax_quotes: true,
      // a line of market data is well under a kilobyte: a longer one is no CSV line (a binary or sparse file, a file
      // of one line), refused at once instead of parsed into one growing cell (a 2 GiB file ran for over half an hour)
      max_record_size: MAX_LINE_BYTES,
    } as CsvOptions);
    // line numbers: one record per line (market-data CSVs have no quoted line breaks); asking
    // csv-parse for per-record info halves its speed
    const names = kind === 'candles' ? ['open', 'high', 'low', 'close', 'volume'] : kind === 'mark' ? ['open', 'high', 'low', 'close'] : ['rate', 'price'];
    const vals = new Float64Array(5);
    let lineNo = 0;
    /** the UTC offset the time column's header names, for its times without a zone (utcOffsetOfHeader) */
    let zoneOffset = 0;
    const start = (index: Record<string, number>, header: readonly string[] | null = null) => {
      headerIndex = index;
      nCells = header ? header.length : 0;
      zoneOffset = header ? utcOffsetOfHeader(header[index.timestamp!] ?? '') : 0;
      if (zoneOffset !== 0) notes.zoneColumn = header![index.timestamp!]!.trim();
      const withPrice = kind === 'funding' && index.price !== undefined;
      nCols = kind === 'funding' ? (withPrice ? 2 : 1) : names.length;
      if (!probe) w = new KindFileWriter(tmp, kind, { withPrice });
    };
    if (opts.header === false) {
      const index = mapColumns(opts.columns!, null, kind);
      mappedCells = Math.max(...Object.values(index)) + 1;
      start(index);
    }
    const handle = (line: number, record: string[]): void => {
      if (headerIndex === null && line === 1 && isBanner(record)) {
        // a title line above the header (CryptoDataDownload's URL, an export's "Exported from …"): left out, and said
        notes.banner = record[0]!;
        return;
      }
      if (headerIndex === null && opts.columns) {
        // --columns without --no-header reads line 1 as the header: a line of data there would be dropped without a word
        if (looksLikeData(record)) throw dataError(`${file}: line ${line} is data, not a header naming the columns (${excerpt(record.join(','))}): give --no-header as well, or --columns would skip it as the header`);
        start(mapColumns(opts.columns, record, kind), record);
        return;
      }
      if (headerIndex === null) {
        const { index, missing, duplicate, alsoNamed } = mapHeader(record, kind);
        if (missing.length) {
          // one cell holding another usual separator: a file saved with ';' (Excel in many locales), tabs, '|', or commas in a .tsv
          // (the one splitting the header into the most cells: a name such as "vol, base" holds a comma too)
          let other: string | undefined;
          let most = 1;
          if (record.length === 1) {
            for (const c of [',', ';', '\t', '|']) {
              const cells = c === delimiter ? 0 : record[0]!.split(c).length;
              if (cells > most) [other, most] = [c, cells];
            }
          }
          const shown = (c: string) => (c === '\t' ? '\\t' : c);
          if (other) throw dataError(`${file}: the header line has no '${shown(delimiter)}' but has '${shown(other)}': give --delimiter '${shown(other)}' (line ${line}: ${excerpt(record[0]!)})`);
          if (looksLikeData(record)) {
            throw dataError(`${file}: line ${line} is data, not a header naming the columns (${excerpt(record.join(','))}): give --no-header --columns ${REQUIRED[kind].join(',')} (the file's columns in order, _ skipping one), or add a header line`);
          }
          throw dataError(
            `${file}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in the header (line ${line}: ${excerpt(record.join(','))}); a ${kind} CSV needs ${REQUIRED[kind].join(', ')} (aliases: ${REQUIRED[kind].map((c) => `${c}=${ALIASES[c]!.slice(0, 4).join('|')}`).join('; ')}): ${missingColumnsFix(record, kind)}`,
          );
        }
        if (duplicate !== null) throw dataError(`${file}: line ${line}: ${duplicate}`);
        if (alsoNamed.length) notes.alsoNamed = alsoNamed;
        const sc = symbolColumnOf(record);
        if (sc >= 0) symbolColumn = { at: sc, name: record[sc]!.replace(/^\uFEFF/, '').trim(), first: null, line: 0 };
        start(index, record);
        return;
      }
      const idx = headerIndex as Record<string, number>;
      if (symbolColumn !== null && record.length > symbolColumn.at) {
        const v = record[symbolColumn.at]!.trim();
        if (symbolColumn.first === null) [symbolColumn.first, symbolColumn.line] = [v, line];
        else if (v !== symbolColumn.first) throw severalSymbolsError(file, `line ${line}`, symbolColumn.name, v, `line ${symbolColumn.line}`, symbolColumn.first, opts.symbol);
      }
      // more cells than the header: a value written with a decimal comma ('100,5' in a comma file) or a
      // separator inside an unquoted value shifts the cells, and shifted numbers can pass every check
      if (nCells > 0 && record.length > nCells && record.slice(nCells).some((c) => c.trim() !== '')) {
        reject(line, `${record.length} cells where the ${opts.header === false ? `first good row (line ${widthLine}) has` : 'header has'} ${nCells} (a value written with a decimal comma, or a separator inside an unquoted value, shifts the columns): fix the row, or quote the value`);
        return;
      }
      // fewer cells than a column read needs: the row was cut short (its values would read as '' below)
      if (nCells > 0 && record.length < nCells) {
        let lastRead: string | null = null;
        let missing = false;
        const short = `${record.length} cell${record.length === 1 ? '' : 's'} where the ${opts.header === false ? `first good row (line ${widthLine}) has` : 'header has'} ${nCells}`;
        for (let k = 0; k < nCols; k++) {
          const at = idx[names[k]!]!;
          if (at >= record.length && names[k] !== 'price') {
            reject(line, `${short}: the row is cut short (no ${names[k]}); complete it, or leave it out`);
            return;
          }
          if (at >= record.length) missing = true;
          if (at === record.length - 1) lastRead = names[k]!;
        }
        // every column read is there, but the row ends in one of them and the header's columns after it are gone: a file
        // that stopped mid-line (a cut download or copy) ends inside that value ('8.669' of 8.66928), which passes every check
        if (lastRead !== null && !missing) {
          reject(line, `${short}, ending in the ${lastRead} '${excerpt(record[record.length - 1]!, 40)}': the row is cut short, so that value may be cut too (a file that ends mid-line: a download or copy that stopped); complete the row, or leave it out`);
          return;
        }
      }
      const cell = record[idx.timestamp!] ?? '';
      let t = parseTime(cell);
      if (typeof t === 'string') { reject(line, t); return; }
      if (zoneOffset !== 0 && ISO_NO_ZONE.test(cell.trim())) t -= zoneOffset;
      // a time no market data has (before 1970, or in the year 3000 or later): refused as the other importers and the
      // loader refuse it (validate.ts implausibleTime), not written into a dataset every load refuses
      const implausible = csvTimeProblem(t, cell);
      if (implausible !== null) { reject(line, implausible); return; }
      if (t > rawPrevT) rawUp++;
      else if (t < rawPrevT) rawDown++;
      if (t !== rawPrevT && Number.isFinite(rawPrevT)) {
        const d = Math.abs(t - rawPrevT);
        if (rawSteps.size < 64 || rawSteps.has(d)) rawSteps.set(d, (rawSteps.get(d) ?? 0) + 1);
      }
      rawPrevT = t;
      let reason: string | null = null;
      let nv = 0;
      for (let k = 0; k < nCols; k++) {
        const nm = names[k]!;
        const raw = record[idx[nm]!];
        if (nm === 'price' && (raw === undefined || raw.trim() === '')) { vals[nv++] = NaN; continue; }
        const v = nm === 'rate' ? parseRate(raw) : parseNum(raw);
        if (!Number.isFinite(v)) { reason = `${nm} '${excerpt(raw ?? '', 40)}' is not a number${DECIMAL_COMMA.test((raw ?? '').trim()) ? " (written with a decimal comma, as spreadsheets in many locales write numbers: export the file with '.' as the decimal separator)" : ''}`; break; }
        vals[nv++] = v;
      }
      if (reason === null) reason = rowProblem(kind, vals, nv);
      // newest-first files (many exports) are read too: the first two rows set the direction
      if (reason === null && Number.isFinite(lastT) && desc === null && t !== lastT) {
        desc = t < lastT;
        descLine = line;
      }
      const step = desc ? lastT - t : t - lastT;
      if (reason === null && Number.isFinite(lastT)) {
        if (t === lastT) reason = `duplicate timestamp ${fmtTime(t)} (same as line ${lastLine})`;
        else if (kind === 'funding' && step > 0 && step < FUNDING_TWICE_MS && sameRate(vals[0]!, lastRate)) reason = `${fundingTwiceText(desc ? t : lastT, desc ? lastT : t)} (line ${lastLine} and this one)`;
        else if (step < 0) {
          outOfOrder++;
          reason = `timestamp ${fmtTime(t)} is out of order (${desc ? 'later' : 'earlier'} than line ${lastLine}: ${fmtTime(lastT)}, in a file of ${desc ? 'descending' : 'ascending'} times)`;
        } else if (tfMs !== null && step !== tfMs) {
          if (step % tfMs === 0) {
            gaps++;
            if (step > widest.step) widest = { step, from: desc ? t : lastT, to: desc ? lastT : t };
          }
          else reason = `timestamp ${fmtTime(t)} is ${step} ms ${desc ? 'before' : 'after'} line ${lastLine}; expected a multiple of the ${opts.timeframe} timeframe`;
        }
      }
      if (reason !== null) { reject(line, reason); return; }
      if (nCells === 0) {
        // --no-header: the first good row sets the width (its empty cells at the end not counted)
        let n = record.length;
        while (n > 0 && record[n - 1]!.trim() === '') n--;
        nCells = Math.max(mappedCells, n);
        widthLine = line;
      }
      if (!Number.isFinite(lastT)) { firstT = t; firstLine = line; }
      if (fund) { fund.time.push(t); fund.line.push(line); }
      if (tfMs !== null && Number.isFinite(lastT)) steps.set(step, (steps.get(step) ?? 0) + 1);
      if (probe) {
        // the first pass: the steps between good rows, nothing kept
        probeRows++;
        if (Number.isFinite(lastT)) probe.set(step, (probe.get(step) ?? 0) + 1);
        if (probeFirsts && !isMonthStart(t)) probeFirsts.all = false;
        lastT = t;
        lastRate = vals[0]!;
        lastLine = line;
        return;
      }
      if (desc) {
        // held until the end, then written oldest first (the batch holds the first row)
        if (fill > 0) { for (let i = 0; i < fill; i++) { descTime.push(time[i]!); for (let c = 0; c < nv; c++) descCols[c]!.push(cols[c]![i]!); } fill = 0; }
        descTime.push(t);
        for (let c = 0; c < nv; c++) descCols[c]!.push(vals[c]!);
        lastT = t;
        lastRate = vals[0]!;
        lastLine = line;
        return;
      }
      time[fill] = t;
      for (let c = 0; c < nv; c++) cols[c]![fill] = vals[c]!;
      fill++;
      lastT = t;
      lastRate = vals[0]!;
      lastLine = line;
      if (fill === BATCH) flush();
    };
    await new Promise<void>((res, rej) => {
      const input = openCsvInput(file);
      input.on('error', rej);
      parser.on('error', rej);
      parser.on('readable', () => {
        try {
          let record: string[] | null;
          while ((record = parser.read() as string[] | null) !== null) {
            lineNo++;
            if (record.length === 1 && record[0]!.trim() === '') continue; // empty line
            handle(lineNo, record);
          }
        } catch (e) {
          input.destroy();
          rej(e);
        }
      });
      parser.on('end', () => res());
      input.pipe(parser);
    });
    if (headerIndex === null || (w === null && !probe)) throw dataError(`${file}: no data rows: the file is empty (expected a header line with ${REQUIRED[kind].join(', ')} and data rows); nothing was imported. Re-download or re-export it, or leave it out of the import`);
    const sortFirst = opts.header === false ? '' : ' (the header line first)';
    const refuseBadRows = () => {
      // the first two rows set the direction; when most of the file runs the other way, two rows were
      // swapped at its start: every later row read as out of order (--skip-bad-rows would keep two rows)
      if (outOfOrder > 0 && desc !== null && rawUp === rawDown) {
        // as many steps up as down (a small file, rows swapped): neither direction is the file's
        throw dataError(`${file}: the rows are not in time order (${rawUp} step${rawUp === 1 ? '' : 's'} up, ${rawDown} down, from line ${firstLine}); sort the rows by time${sortFirst} and import again; nothing was written`);
      }
      if (outOfOrder > 0 && desc !== null && (desc ? rawUp > rawDown : rawDown > rawUp)) {
        const [most, few] = desc ? [rawUp, rawDown] : [rawDown, rawUp];
        throw dataError(
          `${file}: the rows' times ${desc ? 'ascend' : 'descend'} (${most} of ${most + few} steps), but lines ${firstLine} and ${descLine}, which set the file's direction, ${desc ? 'descend' : 'ascend'}: ` +
            `${outOfOrder} row${outOfOrder === 1 ? ' was' : 's were'} read as out of order; sort the rows by time${sortFirst} and import again; nothing was written`,
        );
      }
      // data finer than the timeframe (5m candles with --timeframe 1h): every row between two bars is a bad row, and
      // leaving them out (--skip-bad-rows) would write every 12th 5m candle as a 1h candle; said as the spacing it is
      // (one such row stays a bad row: a stray time, not a spacing; so does a step the timeframe is no whole multiple of,
      // 1h rows every other one stamped 2 s early, which is no finer timeframe to import with: "--timeframe 3598s")
      if (badCount > 1 && tfMs !== null) {
        const finer = otherSpacing(rawSteps, tfMs);
        if (finer && finer.step < tfMs && tfMs % finer.step === 0) {
          let n = 0;
          for (const c of rawSteps.values()) n += c;
          spacingVerdict(`${file}`, rawSteps, tfMs, opts.timeframe!, n, (other) => `import it with --timeframe ${other}; nothing was written`);
        }
      }
      if (badCount === 0 || opts.skipBadRows) return;
      // rows out of time order are data to keep: leaving them out is the last thing to advise
      const sortHint = outOfOrder > 0 ? `${outOfOrder} of them out of time order: sort the rows by time${sortFirst}, or import the file's parts in time order (each appends); ` : '';
      // a column chosen among several cells naming it (alsoNamed): which one was read, as its values may be the fault
      const chosen = notes.alsoNamed?.length ? `; ${notes.alsoNamed.join('; ')} (--columns reads another)` : '';
      throw dataError(`${file}: ${badCount} bad row${badCount === 1 ? '' : 's'}; nothing was written (${sortHint}--skip-bad-rows leaves them out)${chosen}`, badLines());
    };
    const refuseNoRows = (rows: number) => {
      if (rows === 0) throw dataError(`${file}: no data rows${badCount ? ` (all ${badCount} rows were bad)` : ' (a header only)'}; nothing was imported. Re-download or re-export it, or leave it out of the import`, badLines());
    };
    if (probe) {
      // the first pass refuses what the import would, whatever the timeframe (bad rows, no data
      // rows): the spacing of rows it would refuse gave no timeframe, and asking for --timeframe hid them
      refuseBadRows();
      refuseNoRows(probeRows);
      return null;
    }
    if (w === null) return null;
    for (let i = descTime.length - 1; i >= 0; i--) {
      time[fill] = descTime[i]!;
      for (let c = 0; c < nCols; c++) cols[c]![fill] = descCols[c]![i]!;
      if (++fill === BATCH) flush();
    }
    flush();
    refuseBadRows();
    refuseNoRows(w.rows);
    const sha256 = w.close();

    if (tfMs !== null) {
      spacingVerdict(`${file}`, steps, tfMs, opts.timeframe!, w.rows - 1, (other) => `import it with --timeframe ${other}; nothing was written`);
      const off = offExchangeGrid(firstT, tfMs, opts.timeframe!);
      if (off !== null) throw dataError(`${file}: line ${firstLine}: ${off}; nothing was imported`);
    }
    if (fund) {
      // the interval the entry will list (--timeframe, else the one the dataset lists, kept by --replace) may not be coarser than the events'
      const named = opts.timeframe ?? manifest?.files.find((f) => f.path === rel)?.timeframe;
      if (named) {
        if (desc) { fund.time.reverse(); fund.line.reverse(); }
        const finer = fundingFinerThan(fund.time, timeframeMs(named));
        if (finer) {
          const by = opts.timeframe ? '--timeframe' : `the interval manifest.json lists for ${rel} (kept by --replace without --timeframe)`;
          throw dataError(`${file}: line ${fund.line[finer.index]}: ${fundingFinerText(finer.step, fund.time[finer.index]!, named, by)}; nothing was imported`);
        }
      }
    }
    const prov = opts.provenance ?? `${kind} ${symbol}${opts.timeframe ? ` ${opts.timeframe}` : ''} imported from ${label}`;

    if (appendTo) {
      // append: merge with the dataset's series (identical overlap or nothing is written)
      const problems = new ProblemList();
      const read = readKindFile(tmp, label, kind, problems)!;
      rmSync(tmp, { force: true });
      untrack();
      const cols = KIND_NAMES[kind].filter((c) => read.columns[c] !== undefined).map((c) => read.columns[c]!);
      const [r] = await commitSeriesYielding(outDir, [{
        symbol, kind, timeframe: opts.timeframe, time: read.timestamp, cols, where: (i) => `${label} data row ${desc ? read.rows - i : i + 1}`,
      }], { provenance: [prov] });
      const m = openDataset(outDir)!;
      return { path: r!.path, rows: r!.rows, added: r!.added, badRows: badCount, badRowLines: badLines(), gaps: r!.gaps, ...(r!.widestGap ? { widestGap: r!.widestGap } : {}), ...(r!.gapsBefore !== undefined ? { gapsBefore: r!.gapsBefore } : {}), first: r!.first, last: r!.last, manifest: m, ...notes };
    }

    // place the file and update the manifest
    // funding without --timeframe keeps the nominal interval the dataset lists (as commitSeries does)
    const tf = opts.timeframe ?? manifest?.files.find((f) => f.path === rel)?.timeframe;
    const entry: ManifestFile = {
      path: rel, symbol, kind, ...(tf ? { timeframe: tf } : {}),
      rows: w.rows, first: w.first, last: w.last, sha256,
    };
    if (unchangedFiles(manifest, [entry])) {
      // --replace with the same rows: the dataset stays as it is (its manifest's hash is part of every RunId)
      rmSync(tmp, { force: true });
      untrack();
      return { path: join(outDir, rel), rows: w.rows, added: 0, badRows: badCount, badRowLines: badLines(), gaps, first: w.first, last: w.last, manifest: manifest!, ...notes };
    }
    const m = nextManifest(outDir, manifest, [entry], { venue: opts.venue, provenance: [prov] });
    // a Ctrl-C during the sort and write above gets its turn before the file is put in place (ingest.ts commitSeriesYielding)
    await signalsBeforeCommit();
    placeFiles(outDir, [{ tmp, rel }], m);
    untrack();
    const widestGap = gaps > 0 && tfMs !== null ? { missingBars: widest.step / tfMs - 1, from: widest.from, to: widest.to } : undefined;
    const replaced = manifest?.files.find((f) => f.path === rel)?.rows;
    return { path: join(outDir, rel), rows: w.rows, added: w.rows, badRows: badCount, badRowLines: badLines(), gaps, ...(widestGap ? { widestGap } : {}), first: w.first, last: w.last, manifest: m, ...(replaced !== undefined ? { replacedRows: replaced } : {}), ...notes };
  } catch (err) {
    try { w?.close(); } catch { /* already failed */ } // close() is idempotent
    cleanup();
    if (err instanceof Error && (err as { code?: unknown }).code === 'CSV_MAX_RECORD_SIZE') {
      const at = (err as { lines?: unknown }).lines;
      throw dataError(`${file}: ${typeof at === 'number' ? `line ${at}` : 'a line'} is longer than ${MAX_LINE_BYTES / 2 ** 20} MiB, which no CSV of market data has (a binary file, or one without line breaks?); check the file, or export it again as CSV; nothing was imported`);
    }
    if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string' && String((err as { code: string }).code).startsWith('CSV_')) {
      throw dataError(`${file}: CSV syntax error: ${err.message}`);
    }
    if (err instanceof Error && /^Z_/.test(String((err as { code?: unknown }).code))) throw dataError(`${file}: not a readable gzip file (${err.message}); it may be cut short: download or compress it again`);
    throw err;
  }
}
