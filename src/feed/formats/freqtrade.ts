/**
 * freqtrade data folders (`user_data/data/<exchange>/futures`): per pair and timeframe
 *   <PAIR>-<tf>-futures.<ext>       trade candles   date, open, high, low, close, volume
 *   <PAIR>-<tf>-mark.<ext>          mark candles    (volume, when present, is ignored)
 *   <PAIR>-<tf>-funding_rate.<ext>  funding         the rate is kept in `open` (high/low/close/volume 0)
 * with <ext> feather (Arrow IPC: uncompressed, lz4 or zstd), json or json.gz (rows of
 * [date_ms, open, high, low, close, volume]). <PAIR> is the pair with '/' and ':' as '_'
 * (BTC_USDT_USDT for BTC/USDT:USDT); it becomes the symbol BTCUSDT (base + quote) when the
 * settle currency is the quote, as on Binance USDⓈ-M; otherwise the pair with '/' and ':'.
 */
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dataError, usageError, UserError } from '../../errors.js';
import type { FileKind } from '../manifest.js';
import { KIND_WORDS, noRowsError, type SeriesData } from '../ingest.js';
import { epochMs, fundingInterval, inferTimeframe, inputText, isNumeric, listFiles, readInput, timeframeNameClash } from './common.js';
import { MONTHLY_CANDLES_HINT } from '../timeframe.js';
import { excerpt } from '../../util/excerpt.js';
import { columnF64, readArrowTable } from './feather.js';
import { beginsAsArrowIpc } from '../arrow-io.js';

export const FREQTRADE_NAME = /^([A-Za-z0-9]+(?:_[A-Za-z0-9]+)+)-(\d+[smhdwM])(?:-(futures|mark|funding_rate))?\.(feather|json|json\.gz|jsongz)$/;

export const isFreqtradeFile = (name: string): boolean => FREQTRADE_NAME.test(basename(name));

/** freqtrade's spot candles: a name without -futures, -mark or -funding_rate (`ETH_USDT-1h.feather`), another market's prices. */
export const isFreqtradeSpotFile = (name: string): boolean => FREQTRADE_NAME.exec(basename(name))?.[3] === undefined && isFreqtradeFile(name);

/** freqtrade's monthly candles (`BTC_USDT_USDT-1M-futures.json`): no fixed timeframe, not read (docs/data.md). */
export const isFreqtradeMonthlyFile = (name: string): boolean => FREQTRADE_NAME.exec(basename(name))?.[2]?.endsWith('M') === true;


/** The files of a folder the freqtrade importer reads: futures candles, mark candles, funding (not spot candles, not monthly ones). */
export const readsFreqtradeFile = (name: string): boolean => isFreqtradeFile(name) && !isFreqtradeSpotFile(name) && !isFreqtradeMonthlyFile(name);

/** Why spot candles are not imported, and where a perpetual's candles are. */
export const FREQTRADE_SPOT_HINT =
  "freqtrade's spot candles, not the perpetual's: a perpetual-futures backtest reads <PAIR>-<tf>-futures files (user_data/data/<exchange>/futures, from freqtrade download-data --trading-mode futures)";

/**
 * A CSV (or TSV) under a freqtrade data file's name, `BTC_USDT_USDT-1h-futures.csv` (a CSV copy of its
 * feather file): the kind, symbol and timeframe the name says, as FREQTRADE_NAME reads them; null for
 * another name (a spot name without -futures, -mark or -funding_rate says no kind) or a monthly timeframe.
 */
export function freqtradeCsvName(file: string): { kind: FileKind; symbol: string; timeframe: string } | null {
  const m = /^([A-Za-z0-9]+(?:_[A-Za-z0-9]+)+)-(\d+[smhdw])-(futures|mark|funding_rate)\.(?:csv|tsv)(?:\.gz)?$/.exec(basename(file));
  if (!m) return null;
  return { kind: m[3] === 'mark' ? 'mark' : m[3] === 'funding_rate' ? 'funding' : 'candles', symbol: freqtradeSymbol(m[1]!), timeframe: m[2]! };
}

/** freqtrade's pair part of a file name to a marginlab symbol ('BTC_USDT_USDT' → 'BTCUSDT'). */
export function freqtradeSymbol(pairPart: string): string {
  const p = pairPart.split('_');
  if (p.length === 3 && p[1] === p[2]) return `${p[0]}${p[1]}`;
  if (p.length === 2) return `${p[0]}${p[1]}`;
  return p.length === 3 ? `${p[0]}/${p[1]}:${p[2]}` : pairPart;
}

export interface FreqtradeOptions {
  symbol?: string;
  timeframe?: string;
  /** only these kinds (default all) */
  kinds?: readonly FileKind[];
}

export function readFreqtrade(paths: readonly string[], opts: FreqtradeOptions = {}): SeriesData[] {
  // in folders: futures, mark and funding files (spot candles are left out, and the import says so); a file named: as it is
  const files = listFiles(paths, readsFreqtradeFile);
  if (files.length === 0) {
    const spot = listFiles(paths, isFreqtradeSpotFile);
    const monthly = listFiles(paths, isFreqtradeMonthlyFile);
    throw dataError(
      `no freqtrade data files (<PAIR>-<tf>-futures|mark|funding_rate.feather|json|json.gz) in ${paths.join(', ')}` +
        `${spot.length ? `; it holds ${spot.length} spot candle file${spot.length === 1 ? '' : 's'} (${excerpt(basename(spot[0]!))}${spot.length > 1 ? ', …' : ''}): ${FREQTRADE_SPOT_HINT}` : ''}` +
        `${monthly.length ? `; it holds ${monthly.length} monthly candle file${monthly.length === 1 ? '' : 's'} (${excerpt(basename(monthly[0]!))}${monthly.length > 1 ? ', …' : ''}): ${MONTHLY_CANDLES_HINT}` : ''}`,
    );
  }
  // a spot file named as an input: its prices would stand for the perpetual's without a word, unless --kind candles says so
  const spotNamed = files.find((f) => isFreqtradeSpotFile(f));
  if (spotNamed && !opts.kinds?.includes('candles')) {
    throw dataError(`${spotNamed}: ${FREQTRADE_SPOT_HINT}; to import these spot prices as the candles anyway, add --kind candles`);
  }
  // a pair stored as both feather and json: read one (feather first)
  const seen = new Set<string>();
  const out: SeriesData[] = [];
  const order = (f: string) => (f.endsWith('.feather') ? 0 : 1);
  for (const file of [...files].sort((a, b) => order(a) - order(b))) {
    const m = FREQTRADE_NAME.exec(basename(file));
    if (!m) {
      // rows freqtrade writes, under a name of its own (a CCXT fetch_ohlcv answer saved as JSON is
      // exactly [[ms, open, high, low, close, volume], …]): --symbol and --kind say what it holds
      const kind = opts.kinds?.length === 1 ? opts.kinds[0]! : undefined;
      if (opts.symbol === undefined || kind === undefined) {
        throw dataError(`${file}: not a freqtrade data file name (expected e.g. BTC_USDT_USDT-1h-futures.feather); for rows of [time, open, high, low, close, volume] under another name (a CCXT fetch_ohlcv answer saved as JSON), give --symbol and --kind`);
      }
      const s = readFreqtradeFile(file, opts.symbol, kind, opts.timeframe ?? '');
      if (kind !== 'funding' && !opts.timeframe) {
        const tf = inferTimeframe(s.time, file);
        if (!tf) throw usageError(`${file}: cannot tell the timeframe from fewer than two rows; give --timeframe`);
        s.timeframe = tf;
      }
      out.push({ ...s, named: opts.symbol });
      continue;
    }
    const kind: FileKind = m[3] === 'mark' ? 'mark' : m[3] === 'funding_rate' ? 'funding' : 'candles';
    if (opts.kinds && !opts.kinds.includes(kind)) {
      // a file named as an input is what the user meant to import: its name and --kind disagree (in a folder, --kind picks)
      if (paths.includes(file)) throw usageError(`${file}: the file name says ${KIND_WORDS[kind]} (-${m[3]}), but --kind ${opts.kinds.join(',')} was given; drop --kind (the name tells), or name the ${opts.kinds.join(' or ')} file`);
      continue;
    }
    const tf = m[2]!;
    if (tf.endsWith('M')) throw dataError(`${file}: ${MONTHLY_CANDLES_HINT}: import the daily or finer files of the same pair`);
    if (kind !== 'funding' && opts.timeframe && opts.timeframe !== tf) throw usageError(timeframeNameClash(file, tf, KIND_WORDS[kind], opts.timeframe, !paths.includes(file)));
    const key = `${m[1]}|${tf}|${kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const s = readFreqtradeFile(file, opts.symbol ?? freqtradeSymbol(m[1]!), kind, tf);
    // the name sets candles' and marks' timeframe: a spacing that disagrees is fixed by renaming, not by --timeframe (refused beside it)
    const renamed = (other: string) => `${m[1]}-${other}${m[3] ? `-${m[3]}` : ''}.${m[4]}`;
    out.push({ ...s, named: freqtradeSymbol(m[1]!), ...(kind === 'funding' ? {} : { timeframeFix: (other: string) => `the file name says ${tf}: rename it to ${renamed(other)}` }) });
  }
  if (out.length === 0 && opts.kinds) throw dataError(`no freqtrade ${opts.kinds.join(' or ')} files (--kind) in ${paths.join(', ')}; it holds ${files.length} other data file${files.length === 1 ? '' : 's'} (${excerpt(basename(files[0]!))}${files.length > 1 ? ', …' : ''}): drop --kind to import them`);
  return out;
}

function readFreqtradeFile(file: string, symbol: string, kind: FileKind, tf: string): SeriesData {
  const name = basename(file);
  const buf = readInput(file);
  // an empty file (0 bytes, or a gzip of nothing) is an input with no rows, as in every format
  if (buf.length === 0) throw noRowsError(file);
  let time: Float64Array;
  let cols: Float64Array[];
  let raw: SeriesData['raw'];
  // by its bytes too: an Arrow file or stream under another name (`.arrow`, `.ipc`) was read as JSON ("Unexpected token 'A'")
  if (name.endsWith('.feather') || beginsAsArrowIpc(buf)) {
    const t = readArrowTable(buf, file);
    time = columnF64(t, 'date', file, true);
    const names = kind === 'funding' ? ['open'] : kind === 'mark' ? ['open', 'high', 'low', 'close'] : ['open', 'high', 'low', 'close', 'volume'];
    cols = names.map((c) => columnF64(t, c, file));
  } else {
    let json: unknown;
    try {
      const text = inputText(buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf, file);
      if (text.trim() === '') throw noRowsError(file);
      json = JSON.parse(text.replace(/^\uFEFF/, ''));
    } catch (err) {
      if (err instanceof UserError) throw err;
      throw dataError(`${file}: not readable freqtrade JSON (${(err as Error).message})`);
    }
    if (!Array.isArray(json)) throw dataError(`${file}: expected an array of [date, open, high, low, close, volume] rows`);
    const rows = json as unknown[];
    raw = (i, k) => { const v = (rows[i] as unknown[])[k + 1]; return v === undefined ? '' : v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? '[…]' : '{…}'; };
    const bad = rows.findIndex((r) => !Array.isArray(r));
    if (bad >= 0) throw dataError(`${file}: row ${bad + 1} is ${excerpt(JSON.stringify(rows[bad]) ?? String(rows[bad]), 60)}, not an array [date, open, high, low, close, volume] as freqtrade writes; export it again (freqtrade download-data --data-format-ohlcv json)`);
    const nc = kind === 'funding' ? 1 : kind === 'mark' ? 4 : 5;
    time = new Float64Array(rows.length);
    cols = Array.from({ length: nc }, () => new Float64Array(rows.length));
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] as unknown[];
      const cell = (k: number) => (typeof r[k] === 'number' ? (r[k] as number) : typeof r[k] === 'string' && isNumeric(r[k]) ? Number(r[k]) : NaN);
      time[i] = epochMs(cell(0));
      for (let k = 0; k < nc; k++) cols[k]![i] = cell(k + 1);
    }
  }
  if (time.length === 0) throw noRowsError(file);
  return {
    symbol, kind, timeframe: kind === 'funding' ? fundingInterval(time) : tf, ...(kind === 'funding' ? { intervalFromEvents: true } : {}), time, cols,
    where: (i) => `${name} row ${i + 1}`, ...(raw ? { raw } : {}),
  };
}
