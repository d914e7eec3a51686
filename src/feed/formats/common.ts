/**
 * Shared pieces of the format readers: file lists from paths and folders, a plain CSV splitter for
 * machine-written files, time cells in s/ms/µs/ns, and the timeframe a series' spacing implies.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync, existsSync } from 'node:fs';
import { constants } from 'node:buffer';
import { join, sep } from 'node:path';
import { dataError, missingInput } from '../../errors.js';
import { fmtStep, fundingInterval as tfFundingInterval, isMonthStart, monthlyRowsText, monthlySpacing, seriesStep, stepCounts } from '../timeframe.js';
import { DECIMAL_TEXT } from '../../util/decimal-text.js';
import { grouped } from '../../util/excerpt.js';

/**
 * Files under `paths` (folders walked recursively, hidden entries skipped), sorted per folder.
 * Symbolic links are followed (a folder of links to the months of a download), each folder once
 * (a link back up is no loop); a link that leads nowhere, named as a data file, is 66 naming it.
 */
export function listFiles(paths: readonly string[], keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (dir: string, above: readonly string[] = []) => {
    const real = realpathSync(dir);
    // a folder walked already, or a link back up to a folder being walked (a loop, not more data)
    if (seen.has(real) || above.some((a) => a === real || a.startsWith(real + sep))) return;
    seen.add(real);
    const chain = [...above, real];
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      let isDir = e.isDirectory();
      if (e.isSymbolicLink()) {
        try {
          isDir = statSync(p).isDirectory();
        } catch {
          if (keep(e.name)) throw missingInput(`${p} is a symbolic link to ${readlinkSync(p)}, which does not exist; fix or remove the link`);
          continue;
        }
      }
      if (isDir) walk(p, chain);
      else if (keep(e.name)) out.push(p);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw missingInput(`not found: ${p}`);
    if (statSync(p).isDirectory()) walk(p);
    else out.push(p);
  }
  return out;
}

/** the most bytes an importer reads whole from one input file (Node's readFileSync refuses 2 GiB or more) */
const MAX_INPUT_BYTES = 2 ** 31 - 1;

/** The error for an input of `bytes` beyond `limit`, what an importer reads whole: 65 naming it and what to do. */
function tooLarge(file: string, bytes: number, limit: number, what: string): Error {
  const size = limit >= 2 ** 30 ? `${Math.round(limit / 2 ** 30)} GiB` : `${Math.round(limit / 2 ** 20)} MiB`;
  return dataError(`${file}: the file is ${grouped(bytes)} bytes, more than the ${size} marginlab reads whole from one ${what}; split it (a month a file, say) and import the parts: they append; nothing was imported`);
}

/**
 * The bytes of an input file the format readers read whole (Binance, freqtrade, Bybit/OKX, Parquet, a ZIP): a file
 * too large to read is 65 naming it and what to do, not Node's "File size … is greater than 2 GiB" (an internal error, 70).
 */
export function readInput(file: string): Buffer {
  const size = statSync(file).size;
  if (size > MAX_INPUT_BYTES) throw tooLarge(file, size, MAX_INPUT_BYTES, 'input file');
  return readFileSync(file);
}

/**
 * `buf` (the bytes of `file`, or of an archive member `file` names) as UTF-8 text; more text than a string holds is
 * 65 as readInput says a file too large, not "Cannot create a string longer than …" (70).
 */
export function inputText(buf: Buffer, file: string): string {
  try {
    return buf.toString('utf8');
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_STRING_TOO_LONG') throw tooLarge(file, buf.length, constants.MAX_STRING_LENGTH, 'text file');
    throw err;
  }
}

/**
 * Rows of a machine-written CSV (no quoting), BOM tolerated, lines ending in LF, CRLF or a lone CR
 * (classic Mac line ends, as some spreadsheet exports still write), empty lines dropped; with 1-based line numbers.
 */
export function splitCsv(text: string, delimiter = ','): { cells: string[]; line: number }[] {
  // scanned line by line, not split into an array of every line: a 192 kB archive of 240 rows and 190 M blank lines
  // made 190 M strings and ended in V8's out-of-memory abort (exit 134); blank lines now cost nothing
  const t = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const n = t.length;
  const rows: { cells: string[]; line: number }[] = [];
  let line = 0;
  for (let start = 0; start <= n; ) {
    let end = start;
    while (end < n) {
      const c = t.charCodeAt(end);
      if (c === 10 || c === 13) break;
      end++;
    }
    line++;
    const next = end >= n ? n + 1 : end + (t.charCodeAt(end) === 13 && t.charCodeAt(end + 1) === 10 ? 2 : 1);
    const l = end > start ? t.slice(start, end) : '';
    start = next;
    if (l.trim() === '') continue;
    const cells = l.split(delimiter);
    for (let k = 0; k < cells.length; k++) {
      let c = cells[k]!;
      if (c.charCodeAt(0) === 32 || c.charCodeAt(c.length - 1) === 32 || c.charCodeAt(0) === 9) c = c.trim();
      if (c.charCodeAt(0) === 34 && c.length >= 2 && c.charCodeAt(c.length - 1) === 34) c = c.slice(1, -1);
      cells[k] = c;
    }
    rows.push({ cells, line });
  }
  return rows;
}

/**
 * Rows of a machine-written CSV (splitCsv's) with more non-empty cells than `width`, the header's or the published
 * layout's (`widthIs` says which): a value written with a decimal comma (`104477,8`) or a separator inside a value
 * splits one cell into two, and the shifted numbers can pass every check (high 104477, low 8, the low read as the
 * close, the close as the volume: a wick to 8 that liquidates every long). 65 naming the first such line and how
 * many there are, as the csv format refuses such a row (empty cells at the end, a trailing comma, are no cells).
 */
export function refuseWideRows(rows: readonly { cells: string[]; line: number }[], width: number, label: string, widthIs: string): void {
  let first: { cells: number; line: number } | null = null;
  let count = 0;
  for (const r of rows) {
    let c = r.cells.length;
    if (c <= width) continue;
    while (c > width && r.cells[c - 1] === '') c--;
    if (c <= width) continue;
    count++;
    first ??= { cells: c, line: r.line };
  }
  if (first) {
    throw dataError(`${label} line ${first.line}: ${first.cells} cells where ${widthIs} ${width} (a value written with a decimal comma, or a separator inside a value, shifts the columns after it)${count > 1 ? `, and ${count - 1} more row${count === 2 ? '' : 's'} like it` : ''}: fix the file (export it with '.' as the decimal separator), or re-download it; nothing was imported`);
  }
}

/**
 * Rows of a machine-written CSV (splitCsv's) cut short: fewer cells than `width` (the header's or the published layout's,
 * `widthIs` says which) and ending in a cell that is read (`reads(k)`, every cell when not given). The row of a file that
 * stopped mid-line (a download or copy cut off, a disk that filled) ends inside that value, which then reads as another
 * number that passes every check: `…,102343.1,84.08` for a volume of 84.082, a close of 102343 for 102343.1. 65 naming the
 * first such line and how many there are, as refuseWideRows refuses a row with cells too many.
 */
export function refuseCutRows(rows: readonly { cells: string[]; line: number }[], width: number, label: string, widthIs: string, reads?: (k: number) => boolean): void {
  let first: { cells: number; line: number } | null = null;
  let count = 0;
  for (const r of rows) {
    const c = r.cells.length;
    if (c >= width || (reads && !reads(c - 1))) continue;
    count++;
    first ??= { cells: c, line: r.line };
  }
  if (first) {
    throw dataError(`${label} line ${first.line}: ${first.cells} cell${first.cells === 1 ? '' : 's'} where ${widthIs} ${width}: the row is cut short, so its last value may be cut too (a file that ends mid-line: a download or copy that stopped)${count > 1 ? `, and ${count - 1} more row${count === 2 ? '' : 's'} like it` : ''}: re-download or re-extract the file; nothing was imported`);
  }
}

/** An epoch number in s, ms, µs or ns (by magnitude) to ms UTC; NaN when not a number. */
export function epochMs(v: number): number {
  if (!Number.isFinite(v) || v < 0) return NaN;
  return v < 1e11 ? Math.round(v * 1000) : v < 1e14 ? v : v < 1e17 ? Math.floor(v / 1e3) : Math.floor(v / 1e6);
}

export const isNumeric = (s: string | undefined): boolean => s !== undefined && DECIMAL_TEXT.test(s.trim());

/**
 * The timeframe of a candle series from its steps ('1h', feed/timeframe.ts seriesStep); null with fewer than 2 rows.
 * Rows a calendar month apart (monthly candles, no fixed timeframe) are 65 naming `file`, as in the csv format.
 */
export function inferTimeframe(time: Float64Array, file: string): string | null {
  const counts = stepCounts(time);
  if (monthlySpacing(counts, time.every((t) => t !== t || isMonthStart(t)))) throw dataError(monthlyRowsText(file));
  const best = time.length < 2 ? 0 : seriesStep(counts);
  return best > 0 ? fmtStep(best) : null;
}

/** The nominal interval of funding times, e.g. '8h' (one home: feed/timeframe.ts fundingInterval); undefined when none. */
export const fundingInterval = (time: Float64Array): string | undefined => tfFundingInterval(time) ?? undefined;

/** A Parquet file by its name: .parquet (and the short .pq some tools write); read by ./parquet.ts. */
export const isParquetFile = (name: string): boolean => /\.(parquet|pq)$/i.test(name);

/**
 * A file whose name gives its timeframe (Binance's and freqtrade's names), imported with another --timeframe (64): what to
 * do. --timeframe does not pick among a folder's files, as --kind does (their funding and mark files are of other
 * timeframes), so a file found in a folder says to drop it or to name the files.
 */
export function timeframeNameClash(file: string, named: string, what: string, given: string, inFolder: boolean): string {
  return `${file}: the file name says ${named} ${what}, but --timeframe ${given} was given; ` +
    (inFolder
      ? `--timeframe does not pick among the files of a folder: drop it (each file's name gives its timeframe), or name the files to import`
      : `drop --timeframe (the file's name gives its timeframe)`);
}
