/**
 * Binance public data (data.binance.vision) for USDⓈ-M futures: klines, markPriceKlines and
 * fundingRate, monthly or daily, as the published `.zip` or an extracted `.csv`, with or without
 * the header line (older dumps have none), times in ms or µs.
 *
 *   klines / markPriceKlines: open_time, open, high, low, close, volume, close_time, quote_volume,
 *                             count, taker_buy_volume, taker_buy_quote_volume, ignore
 *   fundingRate:              calc_time, funding_interval_hours, last_funding_rate
 *
 * File names name the symbol and interval (BTCUSDT-1h-2024-01.zip, BTCUSDT-fundingRate-2024-01.zip).
 * klines and markPriceKlines archives share their file names: a file is mark candles when its path
 * has a markPriceKlines folder or `kind: 'mark'` is given.
 */
import { excerpt, excerptList } from '../../util/excerpt.js';
import { basename, sep } from 'node:path';
import { dataError, usageError } from '../../errors.js';
import type { FileKind } from '../manifest.js';
import { KIND_WORDS, noRowsError, type SeriesData } from '../ingest.js';
import { epochMs, inputText, isNumeric, listFiles, readInput, refuseCutRows, refuseWideRows, splitCsv, timeframeNameClash } from './common.js';
import { MONTHLY_CANDLES_HINT } from '../timeframe.js';
import { isDataMember, isZip, readZip } from './zip.js';

export const BINANCE_NAME = /^([A-Z0-9]+)-(\d+[smhdwM]|fundingRate)-(\d{4}-\d{2}(?:-\d{2})?)\.(zip|csv)$/;

export interface BinanceOptions {
  /** candles | mark when the path does not tell (klines and markPriceKlines share file names) */
  kind?: FileKind;
  /** overrides the symbol in the file name */
  symbol?: string;
  /** must agree with the interval in the file name */
  timeframe?: string;
}

export const isBinanceFile = (name: string): boolean => BINANCE_NAME.test(basename(name));

/** data.binance.vision's monthly candles (`BTCUSDT-1mo-2024-01.zip`; `-1M-` matches BINANCE_NAME and is refused as it is read) */
const MONTHLY_NAME = /^[A-Z0-9]+-1mo-\d{4}-\d{2}(?:-\d{2})?\.(?:zip|csv)$/;
export const isBinanceMonthlyFile = (name: string): boolean => MONTHLY_NAME.test(basename(name));
const MONTHLY_TEXT = `${MONTHLY_CANDLES_HINT}: import the daily, hourly or finer archives of the same months`;

/**
 * data.binance.vision's indexPriceKlines and premiumIndexKlines (the klines' file names, in folders of those names): not
 * market data marginlab uses. Named, refused (65); found in a folder (a mirror of data/futures/um), left out and said.
 */
export const isBinanceIndexFile = (file: string): boolean => {
  const parts = file.split(sep);
  return isBinanceFile(file) && (parts.includes('indexPriceKlines') || parts.includes('premiumIndexKlines'));
};
export const BINANCE_INDEX_HINT = 'index and premium-index klines are not market data marginlab uses (it reads klines, markPriceKlines and fundingRate)';

/**
 * data.binance.vision's files of contracts marginlab does not backtest, under names the USDⓈ-M perpetuals' pattern does not
 * match: COIN-M (`BTCUSD_PERP-1h-2025-01.zip`, data/futures/cm: inverse, margined in the coin, volume in contracts) and
 * delivery futures (`BTCUSDT_250328-…`, `BTCUSD_250328-…`: they expire and settle no funding). Null for another name.
 */
export function binanceOtherContract(file: string): string | null {
  const m = /^([A-Z0-9]+)_(PERP|\d{6})-(?:\d+[smhdwM]|fundingRate)-\d{4}-\d{2}(?:-\d{2})?\.(?:zip|csv)$/.exec(basename(file));
  if (!m) return null;
  const what = m[2] === 'PERP'
    ? `a COIN-M perpetual's (${m[1]}_PERP, data/futures/cm: an inverse contract, margined in ${m[1]!.replace(/USD$/, '')}, its volume counted in contracts)`
    : `a delivery contract's (${m[1]}_${m[2]}: it expires, and settles no funding)`;
  return `${file}: ${what} file: marginlab backtests USDⓈ-M perpetuals (data/futures/um/…, e.g. BTCUSDT-1h-2025-01.zip); nothing was imported`;
}

/** Read Binance public-data files and folders (monthly and daily, any mix) into series. */
export function readBinance(paths: readonly string[], opts: BinanceOptions = {}): SeriesData[] {
  const found = listFiles(paths, (n) => BINANCE_NAME.test(n));
  // index and premium-index klines inside a folder given: left out (the import says so), as freqtrade's spot files are
  const files = found.filter((f) => paths.includes(f) || !isBinanceIndexFile(f));
  if (files.length === 0 && found.length > 0) {
    throw dataError(`no klines, markPriceKlines or fundingRate files in ${paths.join(', ')}; it holds ${found.length} index or premium-index klines file${found.length === 1 ? '' : 's'} (${excerpt(basename(found[0]!))}${found.length > 1 ? ', …' : ''}): ${BINANCE_INDEX_HINT}; nothing was imported`);
  }
  if (files.length === 0) {
    const monthly = listFiles(paths, isBinanceMonthlyFile);
    if (monthly.length > 0) throw dataError(`${monthly[0]}${monthly.length > 1 ? ` (and ${monthly.length - 1} more)` : ''}: ${MONTHLY_TEXT}`);
    const other = listFiles(paths, (n) => binanceOtherContract(n) !== null);
    if (other.length > 0) throw dataError(`${binanceOtherContract(other[0]!)!}${other.length > 1 ? ` (and ${other.length - 1} more such file${other.length === 2 ? '' : 's'})` : ''}`);
    throw dataError(`no Binance public-data files (SYMBOL-INTERVAL-YYYY-MM[-DD].zip|.csv) in ${paths.join(', ')}`);
  }
  const out: SeriesData[] = [];
  for (const file of files) {
    const name = basename(file);
    const m = BINANCE_NAME.exec(name);
    if (!m && MONTHLY_NAME.test(name)) throw dataError(`${file}: ${MONTHLY_TEXT}`);
    const other = m ? null : binanceOtherContract(file);
    if (other !== null) throw dataError(other);
    if (!m) throw dataError(`${file}: not a Binance public-data file name (expected SYMBOL-INTERVAL-YYYY-MM[-DD].zip, e.g. BTCUSDT-1h-2024-01.zip)`);
    const interval = m[2]!;
    const parts = file.split(sep);
    let kind: FileKind;
    if (interval === 'fundingRate') kind = 'funding';
    else if (parts.includes('markPriceKlines')) kind = 'mark';
    else if (isBinanceIndexFile(file)) throw dataError(`${file}: ${BINANCE_INDEX_HINT}; nothing was imported`);
    else if (parts.some((p, i) => p === 'spot' && (parts[i + 1] === 'monthly' || parts[i + 1] === 'daily')) && opts.kind !== 'candles') {
      // data.binance.vision's data/spot/… klines have the futures klines' file names (and µs times since 2025):
      // another market's prices, which would stand for the perpetual's without a word (as freqtrade's spot files)
      throw dataError(`${file}: spot klines (its path has a spot folder, as data.binance.vision's data/spot/…), the spot market's prices, not the perpetual's: a perpetual-futures backtest reads data/futures/um/…/klines; to import these spot prices as the candles anyway, add --kind candles`);
    } else kind = opts.kind && opts.kind !== 'funding' ? opts.kind : 'candles';
    if (opts.kind === 'funding' && kind !== 'funding') throw usageError(`${file}: a klines file, but --kind funding was given`);
    if (interval.endsWith('M')) throw dataError(`${file}: ${MONTHLY_TEXT}`);
    if (kind !== 'funding' && opts.timeframe && opts.timeframe !== interval) {
      throw usageError(timeframeNameClash(file, interval, KIND_WORDS[kind], opts.timeframe, !paths.includes(file)));
    }
    const buf = readInput(file);
    const texts: { label: string; what: string; text: string }[] = [];
    if (isZip(buf)) {
      const isData = (n: string) => n.toLowerCase().endsWith('.csv') && isDataMember(n);
      for (const e of readZip(buf, file)) if (isData(e.name)) texts.push({ label: `${name}:${e.name}`, what: `${file} (archive member ${e.name})`, text: inputText(e.data, `${file} (archive member ${e.name})`) });
      if (texts.length === 0) throw dataError(`${file}: the archive holds no .csv file`);
      // a data.binance.vision archive holds the one CSV its name says; several (May and June under '2025-08') were
      // merged in silence under a name that says another month, where the CSV format refuses them
      if (texts.length > 1) throw dataError(`${file}: the archive holds ${texts.length} .csv files (${excerptList(texts.map((t) => t.label.slice(name.length + 1)))}); a Binance archive holds one: extract them and import the files by name; nothing was imported`);
    } else if (name.endsWith('.zip')) {
      throw dataError(`${file}: not a ZIP archive (the download may have been cut or replaced by an error page)`);
    } else texts.push({ label: name, what: file, text: inputText(buf, file) });
    for (const t of texts) {
      const s = parseBinanceCsv(t.text, t.label, opts.symbol ?? m[1]!, kind, kind === 'funding' ? undefined : interval);
      if (s.time.length === 0) throw noRowsError(t.what);
      // a markPriceKlines archive has the klines' name and volume 0 in every row: refused as trade candles unless --kind candles says so
      if (kind === 'candles' && opts.kind !== 'candles' && s.cols[4]!.every((v) => v === 0)) {
        throw dataError(`${t.what}: volume is 0 in all ${s.time.length} rows, as in Binance's markPriceKlines archives (they have the klines' file names); give --kind mark for mark candles, or --kind candles if these are trade candles`);
      }
      // rows of another period than the name says (a renamed or mislabelled file): its name is the import's provenance
      const off = outsidePeriod(s.time, m[3]!);
      if (off !== null) throw dataError(`${t.what}: ${off}: a file renamed or mislabelled? Nothing was imported; give it the name of its rows' ${m[3]!.length > 7 ? 'day' : 'month'}, or import it with --format csv`);
      out.push({ ...s, named: m[1]! });
    }
  }
  return out;
}

/**
 * What is wrong when rows (ms UTC) lie outside the month (YYYY-MM) or day (YYYY-MM-DD) of a Binance archive's name,
 * else null. (A funding settlement's few ms of jitter past the hour never reach past the period.)
 */
export function outsidePeriod(time: Float64Array, period: string): string | null {
  const [y, mo, d] = period.split('-').map(Number) as [number, number, number | undefined];
  const from = d === undefined ? Date.UTC(y, mo - 1, 1) : Date.UTC(y, mo - 1, d);
  const to = d === undefined ? Date.UTC(y, mo, 1) : Date.UTC(y, mo - 1, d + 1);
  let lo = Infinity;
  let hi = -Infinity;
  let outside = 0;
  for (let i = 0; i < time.length; i++) {
    const t = time[i]!;
    if (!(t === t)) continue;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
    if (t < from || t >= to) outside++;
  }
  if (outside === 0) return null;
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  return `${outside} of its ${time.length} rows lie outside ${period}, the ${d === undefined ? 'month' : 'day'} its name says (rows from ${day(lo)} to ${day(hi)})`;
}

const KLINE_COLS = ['open_time', 'open', 'high', 'low', 'close', 'volume'];
const FUNDING_COLS = ['calc_time', 'last_funding_rate'];
/** the cells of a row as data.binance.vision publishes them (klines and markPriceKlines alike; fundingRate) */
const KLINE_WIDTH = 12;
const FUNDING_WIDTH = 3;

/** One Binance CSV (klines or fundingRate layout) into a series. */
export function parseBinanceCsv(text: string, label: string, symbol: string, kind: FileKind, timeframe?: string): SeriesData {
  const rows = splitCsv(text);
  let start = 0;
  let idx: number[];
  if (rows.length > 0 && !isNumeric(rows[0]!.cells[0])) {
    const head = rows[0]!.cells.map((c) => c.toLowerCase());
    const want = kind === 'funding' ? FUNDING_COLS : KLINE_COLS.slice(0, kind === 'mark' ? 5 : 6);
    idx = want.map((c) => head.indexOf(c));
    const missing = want.filter((_, k) => idx[k]! < 0);
    if (missing.length) throw dataError(`${label}: missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} in the header (${excerpt(head.join(', '))}); not a Binance ${kind === 'funding' ? 'fundingRate' : 'klines'} file: import another CSV with --format csv --kind ${kind} --symbol S${kind === 'funding' ? '' : ' --timeframe TF'} (--columns maps column names of its own)`);
    start = 1;
    refuseWideRows(rows.slice(1), head.length, label, 'the header has');
    refuseCutRows(rows.slice(1), head.length, label, 'the header has', (k) => idx.includes(k));
  } else {
    // no header: the published column order
    idx = kind === 'funding' ? [0, 2] : kind === 'mark' ? [0, 1, 2, 3, 4] : [0, 1, 2, 3, 4, 5];
    const width = kind === 'funding' ? FUNDING_WIDTH : KLINE_WIDTH;
    refuseWideRows(rows, width, label, `Binance's ${kind === 'funding' ? 'fundingRate' : 'klines'} layout has`);
    // a row narrower than the file's others (the published 12 or 3 cells, or the 6 a file cut down to its prices has)
    let widest = 0;
    for (const r of rows) if (r.cells.length > widest) widest = r.cells.length;
    refuseCutRows(rows, widest, label, 'its other rows have', (k) => idx.includes(k));
  }
  const n = rows.length - start;
  const time = new Float64Array(n);
  const nc = idx.length - 1;
  const cols = Array.from({ length: nc }, () => new Float64Array(n));
  const lines = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    const row = rows[r + start]!;
    lines[r] = row.line;
    const tc = row.cells[idx[0]!];
    time[r] = isNumeric(tc) ? epochMs(Number(tc)) : NaN;
    for (let k = 0; k < nc; k++) {
      const c = row.cells[idx[k + 1]!];
      cols[k]![r] = isNumeric(c) ? Number(c) : NaN;
    }
  }
  return {
    symbol, kind, timeframe, time, cols, where: (i) => `${label} line ${lines[i]}`,
    raw: (i, k) => rows[i + start]!.cells[idx[k + 1]!] ?? '',
  };
}
