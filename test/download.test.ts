/**
 * `data download binance-usdm` against a local HTTP server on 127.0.0.1 serving archives in
 * data.binance.vision's layout, built from the real BTC rows (test/fixtures/import/binance/series):
 * monthly then daily archives, checksums, a dropped connection mid-body (retried), a wrong
 * checksum, a missing month (404), resuming from the cache, provenance in the manifest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { writeZip } from '../src/feed/formats/zip.js';
import { downloadBinanceUsdm, planArchives, retryWait } from '../src/feed/download.js';
import { errnoOf } from '../src/util/fs-errors.js';
import { loadDataset } from '../src/feed/load.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';

const FX = resolve(__dirname, 'fixtures', 'import', 'binance', 'series');
const root = mkdtempSync(join(tmpdir(), 'ml-download-'));
const files = new Map<string, Buffer>();
const requests: string[] = [];
const dropOnce = new Set<string>();
const closedHung: string[] = [];
let server: Server;
let base = '';
const NOW = Date.UTC(2025, 6, 4, 12); // 2025-07-04: June is complete, July is daily up to the 3rd

function lines(name: string): { head: string; rows: string[] } {
  const all = readFileSync(join(FX, name), 'utf8').trim().split('\n');
  return { head: all[0]!, rows: all.slice(1) };
}
function publish(path: string, head: string, rows: string[], checksum?: string): void {
  const name = path.split('/').pop()!;
  const zip = writeZip([{ name: name.replace(/\.zip$/, '.csv'), data: Buffer.from(`${head}\n${rows.join('\n')}\n`) }], (b) => deflateRawSync(b));
  files.set(`/${path}`, zip);
  files.set(`/${path}.CHECKSUM`, Buffer.from(`${checksum ?? createHash('sha256').update(zip).digest('hex')}  ${name}\n`));
}
const inPeriod = (p: string) => (r: string) => new Date(Number(r.split(',')[0])).toISOString().startsWith(p);

beforeAll(async () => {
  const k = lines('BTCUSDT-1h.csv'), f = lines('BTCUSDT-fundingRate.csv'), m = lines('BTCUSDT-8h-mark.csv');
  for (const p of ['2025-05', '2025-06']) {
    publish(`data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-${p}.zip`, k.head, k.rows.filter(inPeriod(p)));
    publish(`data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-${p}.zip`, f.head, f.rows.filter(inPeriod(p)));
    publish(`data/futures/um/monthly/markPriceKlines/BTCUSDT/8h/BTCUSDT-8h-${p}.zip`, k.head, m.rows.filter(inPeriod(p)));
  }
  for (const d of ['01', '02', '03']) {
    publish(`data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-07-${d}.zip`, k.head, k.rows.filter(inPeriod(`2025-07-${d}`)));
    publish(`data/futures/um/daily/markPriceKlines/BTCUSDT/8h/BTCUSDT-8h-2025-07-${d}.zip`, k.head, m.rows.filter(inPeriod(`2025-07-${d}`)));
  }
  publish('data/futures/um/monthly/klines/ADAUSDT/1h/ADAUSDT-1h-2025-06.zip', k.head, k.rows.filter(inPeriod('2025-06')));
  // LTCUSDT June: a checksum file written in capitals (sha256sum's output is lower case; the hash is the same)
  const ltc = 'data/futures/um/monthly/klines/LTCUSDT/1h/LTCUSDT-1h-2025-06.zip';
  publish(ltc, k.head, k.rows.filter(inPeriod('2025-06')));
  files.set(`/${ltc}.CHECKSUM`, Buffer.from(files.get(`/${ltc}.CHECKSUM`)!.toString('utf8').replace(/^[0-9a-f]+/, (h) => h.toUpperCase())));
  // ETHUSDT June: a published checksum that does not match the archive
  publish('data/futures/um/monthly/klines/ETHUSDT/1h/ETHUSDT-1h-2025-06.zip', k.head, k.rows.filter(inPeriod('2025-06')), 'ab'.repeat(32));
  dropOnce.add('/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-06.zip');
  server = createServer((req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    // SOLUSDT: refused (403); XRPUSDT: the server keeps failing (503)
    if (url.includes('/SOLUSDT/')) { res.writeHead(403).end('forbidden'); return; }
    if (url.includes('/XRPUSDT/')) { res.writeHead(503).end('unavailable'); return; }
    // DOGEUSDT: never answers; TRXUSDT: headers and a few bytes, then nothing
    if (url.includes('/DOGEUSDT/')) return;
    // BADUSDT: January's checksum is an error page (fails at once), every other request hangs
    if (url.includes('/BADUSDT/')) {
      if (url.endsWith('2025-01.zip.CHECKSUM')) { res.writeHead(200).end('<html>error</html>'); return; }
      res.on('close', () => closedHung.push(url));
      return;
    }
    // CUTUSDT: the archive's answer always ends after 100 of its bytes (the connection closes)
    if (url.includes('/CUTUSDT/') && url.endsWith('.zip')) { res.writeHead(200, { 'content-length': '5000' }); res.end(Buffer.alloc(100)); return; }
    if (url.includes('/CUTUSDT/')) { res.writeHead(200).end(`${'ab'.repeat(32)}  CUTUSDT-1h-2025-06.zip\n`); return; }
    if (url.includes('/TRXUSDT/')) { res.writeHead(200, { 'content-length': '1000' }); res.write('abc'); return; }
    const body = files.get(url);
    if (!body) { res.writeHead(404).end('not found'); return; }
    // ADAUSDT: sent gzip-encoded (as a CDN does for text), Content-Length the compressed size
    if (url.includes('/ADAUSDT/')) { const z = gzipSync(body); res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(z.length) }).end(z); return; }
    if (dropOnce.delete(url)) {
      // headers and half the body, then the connection drops
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, body.length >> 1), () => res.destroy());
      return;
    }
    res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

describe('data download binance-usdm', () => {
  it('plans monthly archives for complete months and daily ones for the current month up to yesterday', () => {
    const { archives, pending } = planArchives({ symbols: ['BTCUSDT'], from: '2025-06', to: '2025-07', timeframe: '1h', kinds: ['candles', 'funding'], now: NOW });
    expect(archives.map((a) => a.path)).toEqual([
      'data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-06.zip',
      'data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-07-01.zip',
      'data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-07-02.zip',
      'data/futures/um/daily/klines/BTCUSDT/1h/BTCUSDT-1h-2025-07-03.zip',
      'data/futures/um/monthly/fundingRate/BTCUSDT/BTCUSDT-fundingRate-2025-06.zip',
    ]);
    expect(pending).toHaveLength(1);
    expect(() => planArchives({ symbols: ['BTCUSDT'], from: '2025-06', to: '2025-08', timeframe: '1h', kinds: ['candles'], now: NOW })).toThrow(/in the future/);
  });

  it('downloads, verifies, retries a dropped connection, imports, and resumes from the cache without fetching again', async () => {
    const out = join(root, 'ds');
    const retries: string[] = [];
    const r = await downloadBinanceUsdm({ symbols: ['BTCUSDT'], from: '2025-05', to: '2025-07', timeframe: '1h', kinds: ['candles', 'funding'], out, baseUrl: base, now: NOW, retryDelayMs: 5, onRetry: (l) => retries.push(l) });
    expect(r).toMatchObject({ archives: 7, downloaded: 7, cached: 0, missing: [] });
    expect(retries.some((l) => l.includes('BTCUSDT-1h-2025-06.zip'))).toBe(true);
    expect(r.results.map((x) => `${x.kind} ${x.rows}`)).toEqual(['candles 1032', 'funding 120']);
    const md = await loadDataset(out);
    expect(md.time.length).toBe(1032);
    expect(new Date(md.time[0]!).toISOString()).toBe('2025-05-22T00:00:00.000Z');
    expect(new Date(md.time.at(-1)!).toISOString()).toBe('2025-07-03T23:00:00.000Z');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.provenance).toContain(`candles BTCUSDT 1h: 5 archives from ${base}/data/futures/um/{monthly,daily}/klines/BTCUSDT/ (2025-05 … 2025-07-03), each sha256-checked against its .CHECKSUM`);
    // second run: everything from the cache, no archive requested again, nothing new
    const before = requests.length;
    const again = await downloadBinanceUsdm({ symbols: ['BTCUSDT'], from: '2025-05', to: '2025-07', timeframe: '1h', kinds: ['candles', 'funding'], out, baseUrl: base, now: NOW, retryDelayMs: 5 });
    expect(again).toMatchObject({ downloaded: 0, cached: 7 });
    expect(requests.length).toBe(before);
    expect(again.results.map((x) => x.added)).toEqual([0, 0]);
  });

  it('an archive whose checksum file is in capitals is kept in the cache and not fetched again on the next run', async () => {
    const out = join(root, 'ds-upper');
    const o = { symbols: ['LTCUSDT'], from: '2025-06', to: '2025-06', timeframe: '1h', kinds: ['candles' as const], out, baseUrl: base, now: NOW, retryDelayMs: 5 };
    expect(await downloadBinanceUsdm(o)).toMatchObject({ downloaded: 1, cached: 0 });
    const before = requests.length;
    expect(await downloadBinanceUsdm(o)).toMatchObject({ downloaded: 0, cached: 1 });
    expect(requests.length).toBe(before);
  });

  it('an interrupted run resumes: a damaged cached archive is fetched again, verified ones are kept', async () => {
    const out = join(root, 'ds-resume');
    await downloadBinanceUsdm({ symbols: ['BTCUSDT'], from: '2025-06', to: '2025-06', timeframe: '8h', kinds: ['mark'], out, baseUrl: base, now: NOW, retryDelayMs: 5 });
    const zip = join(out, '.download-cache', 'data', 'futures', 'um', 'monthly', 'markPriceKlines', 'BTCUSDT', '8h', 'BTCUSDT-8h-2025-06.zip');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(zip, readFileSync(zip).subarray(0, 100)); // as if cut short
    const before = requests.length;
    const r = await downloadBinanceUsdm({ symbols: ['BTCUSDT'], from: '2025-06', to: '2025-07', timeframe: '8h', kinds: ['mark'], out, baseUrl: base, now: NOW, retryDelayMs: 5 });
    expect(r).toMatchObject({ downloaded: 4, cached: 0 });
    expect(requests.slice(before).filter((u) => u.endsWith('2025-06.zip'))).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ kind: 'mark', rows: 99, added: 9 });
  });

  it('a wrong checksum fails (65) naming the archive and both hashes; nothing is imported', async () => {
    const out = join(root, 'ds-bad');
    let err: unknown;
    try {
      await downloadBinanceUsdm({ symbols: ['ETHUSDT'], from: '2025-06', to: '2025-06', timeframe: '1h', kinds: ['candles'], out, baseUrl: base, now: NOW, retries: 1, retryDelayMs: 5 });
    } catch (e) { err = e; }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(65);
    expect((err as UserError).message).toMatch(/ETHUSDT-1h-2025-06\.zip: sha256 [0-9a-f]{64} does not match the published checksum (ab){32} after 2 downloads/);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });

  it('a missing month (404) fails (66) listing it unless --allow-missing; the CLI prints plain progress lines off a terminal', async () => {
    const out = join(root, 'ds-missing');
    const args = ['data', 'download', 'binance-usdm', '--symbols', 'BTCUSDT', '--from', '2025-04', '--to', '2025-06', '--timeframe', '1h', '--kinds', 'candles', '--out', out, '--base-url', base];
    const r1 = await feedCli(args);
    expect(r1.code).toBe(66);
    expect(r1.stderr).toContain('1 archive is not published (404); nothing was imported');
    expect(r1.stderr).toContain(`${base}/data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2025-04.zip`);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    const r2 = await feedCli([...args, '--allow-missing']);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toMatch(/\[\d\/3\] missing data\/futures\/um\/monthly\/klines\/BTCUSDT\/1h\/BTCUSDT-1h-2025-04\.zip/);
    expect(r2.stdout).toContain('3 archives (0 downloaded, 2 from the cache, 1 missing)');
    expect(r2.stderr).toMatch(/^marginlab: warning: not published: .*2025-04/m);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).provenance).toContain('not published: 2025-04');
    expect(readdirSync(join(out, '.download-cache')).length).toBe(1);
  });

  it('HTTP errors: a refusal (403) fails at once (66) naming the URL; a server error (503) is retried, then fails (66) with the count; nothing is imported', async () => {
    const out = join(root, 'ds-http');
    const common = ['--from', '2025-05', '--to', '2025-05', '--timeframe', '1h', '--kinds', 'candles', '--out', out, '--base-url', base];
    const before = requests.length;
    const r403 = await feedCli(['data', 'download', 'binance-usdm', '--symbols', 'SOLUSDT', '--retries', '3', ...common]);
    expect(r403.code).toBe(66);
    // (the archive's checksum file is fetched first)
    expect(r403.stderr).toContain(`${base}/data/futures/um/monthly/klines/SOLUSDT/1h/SOLUSDT-1h-2025-05.zip.CHECKSUM: HTTP 403`);
    expect(requests.slice(before).filter((u) => u.includes('/SOLUSDT/'))).toHaveLength(1);
    const r503 = await feedCli(['data', 'download', 'binance-usdm', '--symbols', 'XRPUSDT', '--retries', '1', ...common]);
    expect(r503.code).toBe(66);
    expect(r503.stderr).toMatch(/XRPUSDT-1h-2025-05\.zip\.CHECKSUM: failed after 2 tries \(HTTP 503\); run the command again to resume/);
    expect(requests.slice(before).filter((u) => u.includes('/XRPUSDT/'))).toHaveLength(2);
    // the retry said on its own line, as marginlab's other notes are
    expect(r503.stderr).toMatch(/^marginlab: note: retry 1\/1 of \S+XRPUSDT-1h-2025-05\.zip\.CHECKSUM in \d+ ms \(HTTP 503\)$/m);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    for (const r of [r403, r503]) expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a gzip-encoded answer (Content-Length the compressed size) is not taken for a cut one', async () => {
    const out = join(root, 'ds-gzip');
    const retries: string[] = [];
    const r = await downloadBinanceUsdm({ symbols: ['ADAUSDT'], from: '2025-06', to: '2025-06', timeframe: '1h', kinds: ['candles'], out, baseUrl: base, now: NOW, retries: 1, retryDelayMs: 5, onRetry: (l) => retries.push(l) });
    expect(retries).toEqual([]);
    expect(r).toMatchObject({ downloaded: 1, missing: [] });
    expect(r.results[0]).toMatchObject({ kind: 'candles', symbol: 'ADAUSDT', rows: 720 });
  });

  it('a server that stops answering (no headers, or a body that stalls) is given up on after the idle timeout, retried, then fails (66)', async () => {
    const out = join(root, 'ds-silent');
    for (const sym of ['DOGEUSDT', 'TRXUSDT']) {
      const retries: string[] = [];
      const t0 = Date.now();
      let err: unknown;
      try {
        await downloadBinanceUsdm({ symbols: [sym], from: '2025-06', to: '2025-06', timeframe: '1h', kinds: ['candles'], out, baseUrl: base, now: NOW, retries: 1, retryDelayMs: 5, timeoutMs: 200, onRetry: (l) => retries.push(l) });
      } catch (e) { err = e; }
      // two idle timeouts of 0.2 s, not the default 30 s (nor undici's 300 s): bounded far from both
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect((err as UserError).exitCode).toBe(66);
      expect((err as UserError).message).toContain(`${sym}-1h-2025-06.zip.CHECKSUM: failed after 2 tries (nothing received for 0.2 s); run the command again to resume`);
      expect(retries).toHaveLength(1);
    }
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  }, 60_000);

  it('the first failure stops the other requests: nothing in flight is left hanging, nothing new is requested', async () => {
    const out = join(root, 'ds-stop');
    const before = requests.length;
    const progress: string[] = [];
    let err: unknown;
    await downloadBinanceUsdm({ symbols: ['BADUSDT'], from: '2025-01', to: '2025-04', timeframe: '1h', kinds: ['candles'], out, baseUrl: base, now: NOW, retryDelayMs: 5, concurrency: 2, onProgress: (p) => progress.push(p.path), onRetry: (l) => progress.push(l) }).catch((e) => { err = e; });
    expect((err as UserError).exitCode).toBe(65);
    expect((err as UserError).message).toContain('BADUSDT-1h-2025-01.zip.CHECKSUM: not a sha256 checksum file');
    const asked = requests.slice(before);
    // January's checksum, and February's, which was in flight
    expect(asked).toHaveLength(2);
    // the server sees February's request closed (waited for, not timed: a loaded machine is late), and nothing new comes after
    const closed = () => closedHung.some((u) => u.endsWith('BADUSDT-1h-2025-02.zip.CHECKSUM'));
    for (const t0 = Date.now(); !closed() && Date.now() - t0 < 30_000; ) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    expect(closed()).toBe(true);
    expect(requests.length - before).toBe(2);
    expect(progress).toEqual([]);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });

  it('a connection that keeps closing mid-answer, and a refused connection, fail (66) saying so in words, not as undici codes alone', async () => {
    const out = join(root, 'ds-net');
    const o = { from: '2025-06', to: '2025-06', timeframe: '1h', kinds: ['candles' as const], out, now: NOW, retries: 1, retryDelayMs: 5 };
    await expect(downloadBinanceUsdm({ ...o, symbols: ['CUTUSDT'], baseUrl: base })).rejects.toMatchObject({
      exitCode: 66, message: expect.stringContaining('CUTUSDT-1h-2025-06.zip: failed after 2 tries (the server closed the connection before the whole answer arrived, UND_ERR_SOCKET); run the command again to resume'),
    });
    // a port nothing listens on: the server's port once it is closed
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    await expect(downloadBinanceUsdm({ ...o, symbols: ['BTCUSDT'], baseUrl: `http://127.0.0.1:${port}` })).rejects.toMatchObject({
      exitCode: 66, message: expect.stringContaining('failed after 2 tries (the connection was refused (nothing listens at that address), ECONNREFUSED)'),
    });
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
  });

  it('a --cache that is a file, or holds a file where a folder goes, fails (64) naming it and --cache, not as an internal error', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const cacheFile = join(root, 'cache-is-a-file');
    writeFileSync(cacheFile, 'mine');
    const args = ['data', 'download', 'binance-usdm', '--symbols', 'BTCUSDT', '--from', '2025-05', '--to', '2025-05', '--kinds', 'candles', '--base-url', base];
    const r1 = await feedCli([...args, '--out', join(root, 'ds-cachefile'), '--cache', cacheFile]);
    expect(r1.code).toBe(64);
    expect(r1.stderr).toBe(`marginlab: --cache ${cacheFile} is a file, not a folder; choose a folder with --cache (default <out>/.download-cache)\n`);
    const cache2 = join(root, 'cache-with-a-file');
    mkdirSync(join(cache2, 'data', 'futures'), { recursive: true });
    writeFileSync(join(cache2, 'data', 'futures', 'um'), 'mine');
    const r2 = await feedCli([...args, '--out', join(root, 'ds-cachefile2'), '--cache', cache2]);
    expect(r2.code).toBe(64);
    expect(r2.stderr).toMatch(/^marginlab: cannot keep the verified archive in the cache as .*BTCUSDT-1h-2025-05\.zip: a part of the path is a file, not a folder \(ENOTDIR\); choose a writable folder with --cache \(the cache is .*cache-with-a-file\)\n$/);
    expect(readFileSync(cacheFile, 'utf8')).toBe('mine');
    expect(readFileSync(join(cache2, 'data', 'futures', 'um'), 'utf8')).toBe('mine');
    expect(existsSync(join(root, 'ds-cachefile2', 'manifest.json'))).toBe(false);
  });

  it.each([
    [['nosuchvenue'], /only binance-usdm is supported, got 'nosuchvenue'/],
    [['binance-usdm', '--from', '2025-13'], /--from: expected a month YYYY-MM, got '2025-13'/],
    [['binance-usdm', '--from', '2025-03', '--to', '2025-02'], /--from 2025-03 is after --to 2025-02/],
    [['binance-usdm', '--kinds', 'candles,trades'], /--kinds: expected candles, mark or funding, got 'trades'/],
    [['binance-usdm', '--retries', '-1'], /--retries: expected an integer ≥ 0, got '-1'/],
    [['binance-usdm', '--timeframe', '7x'], /invalid timeframe '7x'/],
    [['binance-usdm', '--symbols', ''], /--symbols: give at least one symbol/],
    [['binance-usdm', '--base-url', 'ftp://x'], /--base-url: expected an http\(s\) URL, got 'ftp:\/\/x'/],
  ])('argument errors exit 64 with one line and fetch nothing: %j', async (args, message) => {
    const out = join(root, 'ds-args');
    const defaults: Record<string, string> = { '--symbols': 'BTCUSDT', '--from': '2025-05', '--to': '2025-06', '--base-url': base };
    const given = new Set(args.filter((a) => a.startsWith('--')));
    const rest = Object.entries(defaults).filter(([k]) => !given.has(k)).flat();
    const before = requests.length;
    const r = await feedCli(['data', 'download', ...args, ...rest, '--out', out]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(requests.length).toBe(before);
    expect(existsSync(out)).toBe(false);
  });
});

describe('retry waits and error codes', () => {
  it('the backoff doubles from its base but waits at most a minute (--retries 20 waited 2^19 s once, and past 2^31 ms setTimeout fired at once)', () => {
    expect([1, 2, 3, 4, 5].map((k) => retryWait(1000, k))).toEqual([1000, 2000, 4000, 8000, 16000]);
    expect(retryWait(1000, 7)).toBe(60_000);
    expect(retryWait(1000, 40)).toBe(60_000);
  });
  it("only a system error's errno is a file-system fault: Node's ERR_* codes (ERR_STRING_TOO_LONG) and parser codes are not", () => {
    const withCode = (code: unknown) => Object.assign(new Error('x'), { code });
    expect(errnoOf(withCode('ENOSPC'))).toBe('ENOSPC');
    expect(errnoOf(withCode('EACCES'))).toBe('EACCES');
    for (const code of ['ERR_STRING_TOO_LONG', 'ERR_INVALID_ARG_TYPE', 'CSV_INVALID_CLOSING_QUOTE', 42, undefined]) expect(errnoOf(withCode(code))).toBeUndefined();
  });
});
