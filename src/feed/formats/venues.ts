/**
 * Bybit and OKX exports, as their REST API answers (JSON, saved to a file) or as CSV with the API's
 * field names as the header. Newest-first order (as both APIs answer) or any other order is
 * accepted: rows are sorted, then checked.
 *
 * Bybit v5 (linear): /market/kline list rows [startTime, openPrice, highPrice, lowPrice,
 *   closePrice, volume, turnover] (volume in base coin; for category 'inverse' the base-coin
 *   volume is `turnover`); /market/mark-price-kline rows [startTime, open, high, low, close];
 *   /market/funding/history {symbol, fundingRate, fundingRateTimestamp}.
 * OKX v5 (SWAP): /market/history-candles rows [ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]
 *   where vol counts contracts: base volume = vol × the contract value (ctVal; --contract-size or
 *   the built-in table), else volCcy (base currency for swaps); /market/history-mark-price-candles
 *   rows [ts, o, h, l, c, confirm]; /public/funding-rate-history {instId, fundingTime, fundingRate,
 *   realizedRate} (the settled realizedRate is used when present). Unconfirmed candles
 *   (confirm = 0: still forming) are left out.
 */
import { readFileSync } from 'node:fs';
import { Decimal } from 'decimal.js';
import { basename } from 'node:path';
import { dataError, usageError } from '../../errors.js';
import { excerpt, excerptList } from '../../util/excerpt.js';
import { jsonFaultText } from '../../util/json-text.js';
import type { FileKind } from '../manifest.js';
import { noRowsError, type SeriesData } from '../ingest.js';
import { epochMs, fundingInterval, inferTimeframe, inputText, isNumeric, listFiles, readInput, refuseCutRows, refuseWideRows, splitCsv } from './common.js';
import { timeframeMsOrNaN } from '../timeframe.js';

export type Venue = 'bybit' | 'okx';

/** the venue id (src/venue) a dataset imported from each export is replayed under by default (its manifest's venue) */
export const VENUE_ID: Readonly<Record<Venue, string>> = { bybit: 'bybit-linear', okx: 'okx' };

export interface VenueOptions {
  symbol?: string;
  kind?: FileKind;
  timeframe?: string;
  /** base units per contract (OKX ctVal) */
  contractSize?: number;
}

/** OKX contract values (ctVal, base units per contract) of common USDT swaps; others take --contract-size. */
export const OKX_CONTRACT_VALUE: Record<string, number> = {
  'BTC-USDT-SWAP': 0.01, 'ETH-USDT-SWAP': 0.1, 'XRP-USDT-SWAP': 100, 'ADA-USDT-SWAP': 100,
  'SOL-USDT-SWAP': 1, 'DOGE-USDT-SWAP': 1000, 'LTC-USDT-SWAP': 1, 'BNB-USDT-SWAP': 0.01,
};

interface Table {
  head: string[]; rows: (string | undefined)[][]; lines: number[]; symbol?: string; category?: string; json?: boolean;
  /** Bybit: the answer's server time (ms); a candle that had not closed by then is still forming */
  asOf?: number;
}

const ALIAS: Record<string, string[]> = {
  time: ['starttime', 'start_time', 'ts', 'open_time', 'opentime', 'timestamp', 'time'],
  open: ['openprice', 'open_price', 'o', 'open'],
  high: ['highprice', 'high_price', 'h', 'high'],
  low: ['lowprice', 'low_price', 'l', 'low'],
  close: ['closeprice', 'close_price', 'c', 'close'],
  volume: ['volume', 'vol'],
  volccy: ['volccy', 'vol_ccy'],
  turnover: ['turnover'],
  confirm: ['confirm'],
  ftime: ['fundingratetimestamp', 'funding_rate_timestamp', 'fundingtime', 'funding_time'],
  rate: ['realizedrate', 'realized_rate', 'fundingrate', 'funding_rate'],
  symbol: ['symbol', 'instid', 'inst_id', 'instrument_name'],
};
const col = (head: string[], name: string): number => {
  for (const a of ALIAS[name]!) {
    const i = head.indexOf(a);
    if (i >= 0) return i;
  }
  return -1;
};

function fromJson(json: unknown, venue: Venue, label: string): Table {
  const o = json as Record<string, unknown> | null;
  let list: unknown;
  let symbol: string | undefined;
  let category: string | undefined;
  let asOf: number | undefined;
  if (venue === 'bybit') {
    asOf = typeof o?.time === 'number' && Number.isFinite(o.time) ? o.time : undefined;
    const r = o?.result as Record<string, unknown> | undefined;
    list = r?.list;
    symbol = typeof r?.symbol === 'string' ? r.symbol : undefined;
    category = typeof r?.category === 'string' ? r.category : undefined;
    if (o && typeof o.retCode === 'number' && o.retCode !== 0) throw dataError(`${label}: the saved Bybit answer is an error (retCode ${o.retCode}: ${excerpt(String(o.retMsg ?? ''))})`);
  } else {
    list = o?.data;
    if (o && o.code !== undefined && String(o.code) !== '0') throw dataError(`${label}: the saved OKX answer is an error (code ${excerpt(String(o.code))}: ${excerpt(String(o.msg ?? ''))})`);
  }
  if (Array.isArray(json)) list = json;
  if (!Array.isArray(list)) throw dataError(`${label}: expected a ${venue === 'bybit' ? 'Bybit v5 answer ({"result":{"list":[…]}})' : 'OKX v5 answer ({"data":[…]})'} or an array of rows`);
  const first = list[0];
  // every row of one shape: objects (field names) or arrays (the API's column order); a cell is a string or a number
  const objects = first !== null && typeof first === 'object' && !Array.isArray(first);
  const bad = list.findIndex((r) => (objects ? r === null || typeof r !== 'object' || Array.isArray(r) : !Array.isArray(r)));
  if (bad >= 0) throw dataError(`${label}: row ${bad + 1} is ${excerpt(JSON.stringify(list[bad]) ?? String(list[bad]), 60)}, not ${objects ? 'an object of fields like row 1' : 'an array of values'}; export the answer again`);
  const cell = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  if (objects) {
    const keys = Object.keys(first as object);
    const head = keys.map((k) => k.toLowerCase());
    return { head, rows: list.map((r) => keys.map((k) => cell((r as Record<string, unknown>)[k]))), lines: list.map((_, i) => i + 1), symbol, category, asOf };
  }
  const width = Array.isArray(first) ? first.length : 0;
  const head = venue === 'bybit'
    ? (width >= 6 ? ['starttime', 'openprice', 'highprice', 'lowprice', 'closeprice', 'volume', 'turnover'] : ['starttime', 'open', 'high', 'low', 'close'])
    : (width >= 7 ? ['ts', 'o', 'h', 'l', 'c', 'vol', 'volccy', 'volccyquote', 'confirm'] : ['ts', 'o', 'h', 'l', 'c', 'confirm']);
  return { head, rows: list.map((r) => (r as unknown[]).map(cell)), lines: list.map((_, i) => i + 1), symbol, category, asOf };
}

function readTable(file: string, venue: Venue): Table {
  const text = inputText(readInput(file), file);
  const t = text.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    let json: unknown;
    try { json = JSON.parse(t); } catch (err) { throw dataError(`${file}: not valid JSON (${jsonFaultText(t, err)})`); }
    return { ...fromJson(json, venue, file), json: true };
  }
  const rows = splitCsv(text);
  if (rows.length === 0) throw noRowsError(file);
  refuseWideRows(rows.slice(1), rows[0]!.cells.length, basename(file), 'the header has');
  // an export writes every cell of every row (empty ones as ''): a row with fewer was cut short, inside a value or after it
  refuseCutRows(rows.slice(1), rows[0]!.cells.length, basename(file), 'the header has');
  return { head: rows[0]!.cells.map((c) => c.toLowerCase()), rows: rows.slice(1).map((r) => r.cells), lines: rows.slice(1).map((r) => r.line) };
}

export function readVenue(venue: Venue, paths: readonly string[], opts: VenueOptions = {}): SeriesData[] {
  const files = listFiles(paths, (n) => /\.(csv|json)$/i.test(n));
  if (files.length === 0) throw dataError(`no ${venue === 'bybit' ? 'Bybit' : 'OKX'} export files (.csv or .json) in ${paths.join(', ')}; nothing was imported`);
  return files.map((f) => readVenueFile(venue, f, opts));
}

/** What to do with a file that lacks the columns of the venue's export: the generic CSV importer maps any names. */
function notThisFormat(venue: Venue, kind: FileKind | undefined): string {
  return `if it is not ${venue === 'bybit' ? 'a Bybit' : 'an OKX'} export, import it with --format csv --kind ${kind ?? 'candles|mark|funding'} --symbol S${kind === 'funding' ? '' : ' --timeframe TF'} (--columns maps column names of its own)`;
}

function readVenueFile(venue: Venue, file: string, opts: VenueOptions): SeriesData {
  const name = basename(file);
  const t = readTable(file, venue);
  if (t.rows.length === 0) throw noRowsError(file);
  const where = (i: number) => `${name} ${t.json ? 'row' : 'line'} ${t.lines[i]}`;
  const isFunding = col(t.head, 'ftime') >= 0;
  const hasVolume = col(t.head, 'volume') >= 0;
  const kind: FileKind = opts.kind ?? (isFunding ? 'funding' : hasVolume ? 'candles' : 'mark');
  if (kind === 'funding' && !isFunding) throw usageError(`${file}: --kind funding, but the file has no funding time column (${ALIAS.ftime!.join(', ')}); ${notThisFormat(venue, kind)}`);
  const symCol = col(t.head, 'symbol');
  const named = t.symbol ?? (symCol >= 0 ? t.rows[0]?.[symCol] : undefined) ?? symbolFromName(name);
  const symbol = opts.symbol ?? named;
  if (!symbol) throw usageError(`${file}: the file does not name its symbol; give --symbol`);
  if (symCol >= 0 && !opts.symbol) {
    const other = t.rows.findIndex((r) => r[symCol] !== undefined && r[symCol] !== symbol);
    if (other >= 0) throw dataError(`${file}: rows of more than one symbol (${excerpt(symbol)}, ${excerpt(String(t.rows[other]![symCol]))} at ${where(other)}); split the file per symbol`);
  }
  const n = t.rows.length;
  const num = (r: (string | undefined)[], i: number) => (i >= 0 && isNumeric(r[i]) ? Number(r[i]) : NaN);
  if (kind === 'funding') {
    const ti = col(t.head, 'ftime');
    // OKX: the settled realizedRate when the column is there and filled, else fundingRate
    const ri = col(t.head, 'rate');
    const fi = t.head.findIndex((h) => h === 'fundingrate' || h === 'funding_rate');
    if (ri < 0) throw dataError(`${file}: no funding rate column (${ALIAS.rate!.join(', ')}); ${notThisFormat(venue, opts.kind)}`);
    const time = new Float64Array(n), rate = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const r = t.rows[i]!;
      time[i] = epochMs(num(r, ti));
      rate[i] = Number.isFinite(num(r, ri)) ? num(r, ri) : num(r, fi);
    }
    return { symbol, kind, timeframe: fundingInterval(time), intervalFromEvents: true, time, cols: [rate], where, named, raw: (i, k) => t.rows[i]![k < 0 ? ti : ri] ?? '' };
  }
  const need = ['time', 'open', 'high', 'low', 'close'];
  const idx = need.map((c) => col(t.head, c));
  const miss = need.filter((_, k) => idx[k]! < 0);
  if (miss.length) throw dataError(`${file}: missing column${miss.length > 1 ? 's' : ''} ${miss.join(', ')} (has: ${excerptList(t.head)}); ${notThisFormat(venue, opts.kind)}`);
  let volScale = 1;
  let volIdx = col(t.head, 'volume');
  if (kind === 'candles') {
    if (venue === 'bybit' && t.category === 'inverse') volIdx = col(t.head, 'turnover');
    if (venue === 'okx') {
      // own keys only: a symbol such as toString or constructor is not in the table
      const ct = opts.contractSize ?? (Object.hasOwn(OKX_CONTRACT_VALUE, symbol) ? OKX_CONTRACT_VALUE[symbol] : undefined);
      const ccy = col(t.head, 'volccy');
      if (ct !== undefined) volScale = ct;
      else if (ccy >= 0) volIdx = ccy;
      else throw usageError(`${file}: OKX counts volume in contracts and the contract value of ${symbol} is not known; give --contract-size (ctVal, base units per contract)`);
    }
    if (volIdx < 0) throw dataError(`${file}: no volume column`);
  }
  const ci = col(t.head, 'confirm');
  let keep: number[] = [];
  for (let i = 0; i < n; i++) if (ci < 0 || t.rows[i]![ci] !== '0') keep.push(i);
  // Bybit answers with the current, still-forming candle first (no confirm flag): one whose end is after the answer's time is left out
  if (t.asOf !== undefined) {
    const tf = opts.timeframe ?? inferTimeframe(Float64Array.from(keep, (i) => epochMs(num(t.rows[i]!, idx[0]!))), file);
    const tfMs = tf ? timeframeMsOrNaN(tf) : NaN;
    if (Number.isFinite(tfMs)) keep = keep.filter((i) => !(epochMs(num(t.rows[i]!, idx[0]!)) + tfMs > t.asOf!));
  }
  const m = keep.length;
  if (m === 0) throw dataError(`${file}: no confirmed candles (every row is a candle still open when the answer was made${ci >= 0 ? ': confirm = 0' : ''}); nothing was imported. Export again once a candle has closed`);
  const time = new Float64Array(m);
  const nc = kind === 'candles' ? 5 : 4;
  const cols = Array.from({ length: nc }, () => new Float64Array(m));
  for (let j = 0; j < m; j++) {
    const r = t.rows[keep[j]!]!;
    time[j] = epochMs(num(r, idx[0]!));
    for (let k = 0; k < 4; k++) cols[k]![j] = num(r, idx[k + 1]!);
    // contracts × ctVal as an exact decimal product, rounded once (0.1 × 1075846.18 in binary is 1 ulp off OKX's volCcy)
    if (kind === 'candles') cols[4]![j] = volScale === 1 || !isNumeric(r[volIdx]) ? num(r, volIdx) * volScale : new Decimal(r[volIdx]!.trim()).times(volScale).toNumber();
  }
  const timeframe = opts.timeframe ?? inferTimeframe(time, file) ?? undefined;
  if (!timeframe) throw usageError(`${file}: cannot tell the timeframe from fewer than two rows; give --timeframe`);
  return { symbol, kind, timeframe, time, cols, where: (j) => where(keep[j]!), named, raw: (j, k) => t.rows[keep[j]!]![k < 0 ? idx[0]! : k < 4 ? idx[k + 1]! : volIdx] ?? '' };
}

/** 'BTC-USDT-SWAP' or 'BTCUSDT' at the start of a file name (e.g. BTC-USDT-SWAP-1h.json, BTCUSDT_kline.csv). */
function symbolFromName(name: string): string | undefined {
  const okx = /^([A-Z0-9]+-[A-Z0-9]+-SWAP)/.exec(name);
  if (okx) return okx[1];
  const by = /^([A-Z0-9]{5,})(?=[-_.])/.exec(name);
  return by?.[1];
}

/** Which venue a .csv/.json export comes from, by its fields; null when neither. */
export function sniffVenue(file: string): Venue | null {
  let head: string;
  try { head = readFileSync(file, 'utf8').slice(0, 4096); } catch { return null; }
  if (/"retCode"|"result"\s*:|\bstartTime\b|\bopenPrice\b|\bfundingRateTimestamp\b/.test(head)) return 'bybit';
  if (/"code"\s*:\s*"0"|\binstId\b|\bvolCcy\b|\brealizedRate\b|^ts,o,h,l,c/m.test(head)) return 'okx';
  return null;
}
