/**
 * `marginlab data download binance-usdm`: Binance's public USDⓈ-M archives (data.binance.vision
 * layout) for candles (klines), mark candles (markPriceKlines) and funding (fundingRate):
 * monthly archives for complete months, daily ones for the current month up to yesterday. Every
 * archive is checked against its published `.CHECKSUM` (sha256) before it is kept; kept archives
 * live in a cache folder (default `<out>/.download-cache`, the archive's own path below it), so an
 * interrupted download resumes where it stopped. Network errors, dropped connections and 5xx
 * answers are retried with exponential backoff; a missing archive (404) is reported (and fails the
 * command unless `allowMissing`). The archives are then imported through the Binance importer and
 * the one commit path (append / --replace), with a provenance line per series in the manifest.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { dataError, missingInput, usageError, UserError } from '../errors.js';
import { fsError, withFsErrors } from '../util/fs-errors.js';
import type { FileKind } from './manifest.js';
import { commitSeriesYielding, type CommitResult } from './ingest.js';
import { readBinance } from './formats/binance.js';
import { canonicalTimeframe } from './timeframe.js';
import { writeFileAtomic } from '../util/atomic.js';
import { excerpt } from '../util/excerpt.js';

export const BINANCE_VISION = 'https://data.binance.vision';

export interface DownloadOptions {
  symbols: string[];
  /** first and last month, 'YYYY-MM' (inclusive) */
  from: string;
  to: string;
  timeframe: string;
  kinds: FileKind[];
  out: string;
  baseUrl?: string;
  cacheDir?: string;
  /** clock for "current month" and "yesterday" (ms UTC; default Date.now()) */
  now?: number;
  /** retries per request after the first try (default 4) */
  retries?: number;
  /** first backoff delay in ms, doubled per retry (default 1000) */
  retryDelayMs?: number;
  /** a request that receives nothing (no headers, no body bytes) for this long is abandoned and retried (ms; default 30000) */
  timeoutMs?: number;
  /** import around archives that are not published (404) instead of failing */
  allowMissing?: boolean;
  replace?: boolean;
  /** parallel requests (default 4) */
  concurrency?: number;
  onProgress?: (p: { done: number; total: number; path: string; status: 'cached' | 'downloaded' | 'missing' }) => void;
  /** one line per retry (reason and the wait) */
  onRetry?: (line: string) => void;
}

export interface Archive {
  symbol: string;
  kind: FileKind;
  /** path below the base URL, e.g. data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-01.zip */
  path: string;
  period: string;
}

export interface DownloadResult {
  archives: number;
  downloaded: number;
  cached: number;
  missing: string[];
  /** months and days not yet published (the current month's funding) */
  pending: string[];
  results: CommitResult[];
  cacheDir: string;
}

const DIR: Record<FileKind, string> = { candles: 'klines', mark: 'markPriceKlines', funding: 'fundingRate' };

/** the intervals data.binance.vision publishes USDⓈ-M klines and markPriceKlines at (1mo left out: docs/data.md) */
export const BINANCE_KLINE_INTERVALS = ['1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d', '3d', '1w'] as const;

/**
 * --timeframe as the archives name it: written one way (`60m` is `1h`, as everywhere in marginlab), and one
 * that Binance publishes (a `60m` or `45m` path is a 404 for every archive, which read as "not published").
 * Funding archives have no interval: with candles and mark left out, any valid timeframe is fine.
 */
export function binanceInterval(timeframe: string, kinds: readonly FileKind[]): string {
  const tf = canonicalTimeframe(timeframe);
  if (kinds.some((k) => k !== 'funding') && !(BINANCE_KLINE_INTERVALS as readonly string[]).includes(tf)) {
    throw usageError(`--timeframe ${timeframe}: data.binance.vision publishes klines and markPriceKlines at ${BINANCE_KLINE_INTERVALS.join(', ')} only; choose one of them`);
  }
  return tf;
}
const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** The archives for the request, in order: monthly for complete months, then daily for the current month up to yesterday. */
export function planArchives(o: Pick<DownloadOptions, 'symbols' | 'from' | 'to' | 'timeframe' | 'kinds' | 'now'>): { archives: Archive[]; pending: string[]; timeframe: string } {
  const mf = MONTH.exec(o.from), mt = MONTH.exec(o.to);
  if (!mf) throw usageError(`--from: expected a month YYYY-MM, got '${o.from}'`);
  if (!mt) throw usageError(`--to: expected a month YYYY-MM, got '${o.to}'`);
  const now = o.now ?? Date.now();
  const cur = new Date(now);
  const curIdx = cur.getUTCFullYear() * 12 + cur.getUTCMonth();
  const a = Number(mf[1]) * 12 + Number(mf[2]) - 1, b = Number(mt[1]) * 12 + Number(mt[2]) - 1;
  if (a > b) throw usageError(`--from ${o.from} is after --to ${o.to}`);
  if (b > curIdx) throw usageError(`--to ${o.to} is in the future (now ${cur.toISOString().slice(0, 7)})`);
  const timeframe = binanceInterval(o.timeframe, o.kinds);
  const ym = (i: number) => `${Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`;
  const archives: Archive[] = [];
  const pending: string[] = [];
  for (const symbol of o.symbols) {
    if (!/^[A-Z0-9]+$/.test(symbol)) throw usageError(`--symbols: '${symbol}' is not a Binance symbol (e.g. BTCUSDT)`);
    for (const kind of o.kinds) {
      const d = DIR[kind];
      const name = (p: string) => (kind === 'funding' ? `${symbol}-fundingRate-${p}.zip` : `${symbol}-${timeframe}-${p}.zip`);
      const folder = (f: 'monthly' | 'daily') => (kind === 'funding' ? `data/futures/um/${f}/${d}/${symbol}` : `data/futures/um/${f}/${d}/${symbol}/${timeframe}`);
      for (let i = a; i <= b; i++) {
        if (i < curIdx) { archives.push({ symbol, kind, path: `${folder('monthly')}/${name(ym(i))}`, period: ym(i) }); continue; }
        // the current month: daily archives up to yesterday (funding is published monthly only)
        if (kind === 'funding') { pending.push(`${symbol} funding ${ym(i)} (fundingRate archives are monthly; published after the month ends)`); continue; }
        for (let day = 1; day < cur.getUTCDate(); day++) {
          const p = `${ym(i)}-${String(day).padStart(2, '0')}`;
          archives.push({ symbol, kind, path: `${folder('daily')}/${name(p)}`, period: p });
        }
      }
    }
  }
  return { archives, pending, timeframe };
}

/** A wait that ends early (rejecting) when `stop` is aborted. */
const sleep = (ms: number, stop?: AbortSignal) => new Promise<void>((resolve, reject) => {
  if (stop?.aborted) { reject(stop.reason); return; }
  const onStop = () => { clearTimeout(t); reject(stop!.reason); };
  const t = setTimeout(() => { stop?.removeEventListener('abort', onStop); resolve(); }, ms);
  stop?.addEventListener('abort', onStop, { once: true });
});


/** the longest wait between two tries (ms) */
export const MAX_RETRY_WAIT_MS = 60_000;

/** the wait before retry k (1-based): doubling from `base`, never more than a minute (--retries 20 would otherwise wait days, and past 2^31 ms setTimeout fires at once) */
export function retryWait(base: number, k: number): number {
  return Math.min(base * 2 ** (k - 1), MAX_RETRY_WAIT_MS);
}

/** GET a URL's whole body with retries; null on 404. `stop` (another archive failed) ends it at once, rejecting. */
async function get(url: string, o: DownloadOptions, stop?: AbortSignal): Promise<Buffer | null> {
  const retries = o.retries ?? 4;
  const base = o.retryDelayMs ?? 1000;
  const idle = o.timeoutMs ?? 30_000;
  let last = '';
  for (let k = 0; k <= retries; k++) {
    if (k > 0) {
      const wait = retryWait(base, k);
      o.onRetry?.(`retry ${k}/${retries} of ${url} in ${wait} ms (${last})`);
      await sleep(wait, stop);
    }
    if (stop?.aborted) throw stop.reason;
    // an idle timer: armed for the headers and again at every chunk of the body (a server that
    // stops answering would otherwise hold the command for undici's 300 s per try)
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => { timedOut = true; ac.abort(); }, idle);
    };
    const onStop = () => ac.abort();
    stop?.addEventListener('abort', onStop, { once: true });
    try {
      arm();
      const res = await fetch(url, { signal: ac.signal });
      if (res.status === 404) { await res.arrayBuffer().catch(() => undefined); return null; }
      if (!res.ok) { last = `HTTP ${res.status}`; await res.arrayBuffer().catch(() => undefined); if (res.status >= 500 || res.status === 429) continue; throw missingInput(`${url}: HTTP ${res.status}`); }
      const chunks: Buffer[] = [];
      if (res.body) for await (const c of res.body) { chunks.push(Buffer.from(c)); arm(); }
      const body = Buffer.concat(chunks);
      // Content-Length counts the bytes on the wire: with a Content-Encoding (gzip from a CDN) fetch
      // hands over the decoded body, whose length is another number
      const len = res.headers.get('content-length');
      const enc = (res.headers.get('content-encoding') ?? 'identity').trim().toLowerCase();
      if (len !== null && enc === 'identity' && Number(len) !== body.length) { last = `got ${body.length} of ${len} bytes`; continue; }
      return body;
    } catch (err) {
      if (err instanceof UserError) throw err;
      if (stop?.aborted) throw stop.reason;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      last = timedOut ? `nothing received for ${idle / 1000} s` : networkReason(e.cause?.code, e.cause?.message ?? e.message);
    } finally {
      clearTimeout(timer);
      stop?.removeEventListener('abort', onStop);
    }
  }
  throw missingInput(`${url}: failed after ${retries + 1} ${retries === 0 ? 'try' : 'tries'} (${last}); run the command again to resume`);
}

/** Node's and undici's error codes for a failed request, as a user reads them (the code kept, for a search) */
const NETWORK_REASONS: Record<string, string> = {
  UND_ERR_SOCKET: 'the server closed the connection before the whole answer arrived',
  ECONNRESET: 'the connection was reset',
  ECONNREFUSED: 'the connection was refused (nothing listens at that address)',
  ENOTFOUND: 'the host name was not found (DNS)',
  EAI_AGAIN: 'the host name could not be looked up (DNS; offline?)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable (offline?)',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
};
function networkReason(code: string | undefined, message: string): string {
  const known = code ? NETWORK_REASONS[code] : undefined;
  return known ? `${known}, ${code}` : code ?? message;
}

/** the file a file-system error is about: a rename's destination (manifest.json, not its temp file), else its path */
function errPath(err: unknown): string | undefined {
  const e = err as { dest?: unknown; path?: unknown } | null;
  return typeof e?.dest === 'string' ? e.dest : typeof e?.path === 'string' ? e.path : undefined;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A cached archive is usable when its .CHECKSUM is cached too and matches. */
function cachedOk(zip: string): boolean {
  if (!existsSync(zip) || !existsSync(`${zip}.CHECKSUM`)) return false;
  // lower-cased as when it was checked on download (a checksum file in capitals is the same hash)
  const want = readFileSync(`${zip}.CHECKSUM`, 'utf8').trim().split(/\s+/)[0]!.toLowerCase();
  return want === sha256(readFileSync(zip));
}

/**
 * A file-system error in the cache folder (a file where a folder should be, no permission, a full
 * disk) said as such, naming the path and --cache (64; a full disk or I/O error 70), not as an
 * internal error.
 */
function inCache<T>(cache: string, path: string, action: string, fn: () => T): T {
  return withFsErrors({ path, action, role: 'output', source: 'flag', resume: false, flag: `--cache (the cache is ${cache})` }, fn);
}

/** Fetch one archive into the cache (checksum verified); 'missing' on 404. */
async function fetchArchive(a: Archive, base: string, cache: string, o: DownloadOptions, stop: AbortSignal): Promise<'cached' | 'downloaded' | 'missing'> {
  const dest = join(cache, ...a.path.split('/'));
  if (inCache(cache, dest, 'read the cached archive', () => cachedOk(dest))) return 'cached';
  // leftovers of an interrupted run
  inCache(cache, dirname(dest), 'clean up the cache folder', () => {
    if (existsSync(dirname(dest))) for (const f of readdirSync(dirname(dest))) if (f.startsWith(`.${basename(dest)}.`) && f.endsWith('.tmp')) rmSync(join(dirname(dest), f), { force: true });
  });
  const url = `${base}/${a.path}`;
  const tries = (o.retries ?? 4) + 1;
  let got = '', want = '';
  for (let k = 0; k < tries; k++) {
    const sum = await get(`${url}.CHECKSUM`, o, stop);
    if (sum === null) return 'missing';
    const text = sum.toString('utf8').trim();
    want = text.split(/\s+/)[0]!.toLowerCase();
    if (!/^[0-9a-f]{64}$/.test(want)) throw dataError(`${url}.CHECKSUM: not a sha256 checksum file ('${excerpt(text, 80)}')`);
    const zip = await get(url, o, stop);
    if (zip === null) return 'missing';
    got = sha256(zip);
    if (got === want) {
      inCache(cache, dest, 'keep the verified archive in the cache as', () => {
        writeFileAtomic(dest, zip);
        writeFileAtomic(`${dest}.CHECKSUM`, Buffer.from(`${text}\n`));
      });
      return 'downloaded';
    }
    o.onRetry?.(`checksum mismatch for ${url} (sha256 ${got}, published ${want}); downloading again`);
  }
  throw dataError(`${url}: sha256 ${got} does not match the published checksum ${want} after ${tries} downloads; nothing was imported (verified archives are kept in the cache)`);
}

export async function downloadBinanceUsdm(o: DownloadOptions): Promise<DownloadResult> {
  if (o.symbols.length === 0) throw usageError('--symbols: give at least one symbol');
  if (o.kinds.length === 0) throw usageError('--kinds: give at least one of candles, mark, funding');
  const { archives, pending, timeframe } = planArchives(o);
  // the range holds no archive Binance publishes yet: said why (it said "no archive of the request is published at
  // <server>" without asking the server, and the note on the current month's funding was never printed)
  if (archives.length === 0) {
    const why = [
      ...(o.kinds.some((k) => k !== 'funding') ? ["the daily archives of the current month begin with yesterday's (none on its 1st)"] : []),
      ...(pending.length ? [`not published yet: ${pending.join('; ')}`] : []),
    ].join('; ');
    throw missingInput(`nothing to download for --from ${o.from} --to ${o.to}: ${why}; nothing was imported (end --to at the month before, or run it again later)`);
  }
  const base = (o.baseUrl ?? BINANCE_VISION).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(base)) throw usageError(`--base-url: expected an http(s) URL, got '${o.baseUrl}'`);
  const out = resolve(o.out);
  const cache = resolve(o.cacheDir ?? join(out, '.download-cache'));
  let cacheIsFile = false;
  try { cacheIsFile = !statSync(cache).isDirectory(); } catch { /* not there yet, made when the first archive is kept */ }
  if (cacheIsFile) throw usageError(`--cache ${cache} is a file, not a folder; choose a folder with --cache (default <out>/.download-cache)`);
  const status: ('cached' | 'downloaded' | 'missing')[] = new Array(archives.length);
  let next = 0, done = 0;
  // the first failure stops the other workers (no new archive, requests in flight aborted) and is
  // thrown once they have all ended: nothing is fetched, printed or written to the cache after it
  const stop = new AbortController();
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (!stop.signal.aborted && next < archives.length) {
      const i = next++;
      const a = archives[i]!;
      try {
        status[i] = await fetchArchive(a, base, cache, o, stop.signal);
      } catch (err) {
        if (!failure) { failure = { err }; stop.abort(err); }
        return;
      }
      done++;
      o.onProgress?.({ done, total: archives.length, path: a.path, status: status[i]! });
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 4, Math.max(1, archives.length)) }, worker));
  if (failure) throw (failure as { err: unknown }).err;
  const missing = archives.filter((_, i) => status[i] === 'missing').map((a) => `${base}/${a.path}`);
  if (missing.length && !o.allowMissing) {
    throw missingInput(`${missing.length} archive${missing.length === 1 ? ' is' : 's are'} not published (404); nothing was imported (--allow-missing imports around them; verified archives are kept in ${cache})`, missing);
  }
  const have = archives.filter((_, i) => status[i] !== 'missing');
  if (have.length === 0) throw missingInput(`no archive of the request is published at ${base}; nothing was imported`, missing);
  const stamp = new Date(o.now ?? Date.now()).toISOString();
  const series = [];
  const prov: string[] = [];
  for (const symbol of o.symbols) {
    for (const kind of o.kinds) {
      const mine = have.filter((a) => a.symbol === symbol && a.kind === kind);
      if (mine.length === 0) continue;
      const paths = mine.map((a) => join(cache, ...a.path.split('/')));
      try {
        series.push(...readBinance(paths, { kind: kind === 'funding' ? undefined : kind }));
      } catch (err) {
        throw fsError(err, { path: errPath(err) ?? paths[0]!, action: 'read the cached archive', role: 'output', source: 'flag', resume: false, flag: `--cache (the cache is ${cache})` });
      }
      const gone = archives.filter((a, i) => a.symbol === symbol && a.kind === kind && status[i] === 'missing').map((a) => a.period);
      prov.push(`${kind} ${symbol}${kind === 'funding' ? '' : ` ${timeframe}`}: ${mine.length} archive${mine.length === 1 ? '' : 's'} from ${base}/data/futures/um/{monthly,daily}/${DIR[kind]}/${symbol}/ (${mine[0]!.period} … ${mine.at(-1)!.period}), each sha256-checked against its .CHECKSUM, fetched ${stamp}${gone.length ? `; not published: ${gone.join(', ')}` : ''}`);
    }
  }
  // a full disk or an unwritable dataset folder said as such (70 or 64, naming it), as an import says it; the
  // dataset stays as it was and the verified archives stay in the cache
  const results = await commitSeriesYielding(out, series, { replace: o.replace, venue: 'binance-usdm', provenance: prov }).catch((err: unknown) => {
    throw fsError(err, { path: errPath(err) ?? out, action: 'write the dataset', role: 'output', source: 'flag', resume: false });
  });
  return {
    archives: archives.length,
    downloaded: status.filter((s) => s === 'downloaded').length,
    cached: status.filter((s) => s === 'cached').length,
    missing, pending, results, cacheDir: cache,
  };
}
