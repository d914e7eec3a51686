/**
 * `data download binance-usdm`, as a user meets it: the timeframe as the rest of marginlab spells it
 * (`60m` is 1h), and the import's own reports (a gap the download leaves, the rows --replace drops).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planArchives } from '../src/feed/download.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';
import { monthArchives, serveArchives, type ArchiveServer } from './fixtures/download/server.js';

const root = mkdtempSync(join(tmpdir(), 'ml-download-review-'));
let srv: ArchiveServer;

beforeAll(async () => {
  // ETHUSDT: no December 2024 (a month the server does not have)
  srv = await serveArchives(new Map([...monthArchives('BTCUSDT', ['2024-11', '2024-12', '2025-01', '2025-02']), ...monthArchives('ETHUSDT', ['2024-11', '2025-01'])]));
});
afterAll(async () => {
  await srv.close();
  rmSync(root, { recursive: true, force: true });
});

const download = (out: string, ...more: string[]) =>
  feedCli(['data', 'download', 'binance-usdm', '--from', '2024-11', '--to', '2025-02', '--out', out, '--base-url', srv.base, '--retries', '0', ...more]);

describe('data download: the timeframe', () => {
  it('is read as marginlab reads timeframes everywhere: --timeframe 60m fetches and writes the 1h archives (it asked for BTCUSDT-60m-….zip and called them unpublished)', async () => {
    const { archives } = planArchives({ symbols: ['BTCUSDT'], from: '2024-11', to: '2024-11', timeframe: '60m', kinds: ['candles', 'mark'], now: Date.UTC(2025, 6, 4) });
    expect(archives.map((a) => a.path)).toEqual([
      'data/futures/um/monthly/klines/BTCUSDT/1h/BTCUSDT-1h-2024-11.zip',
      'data/futures/um/monthly/markPriceKlines/BTCUSDT/1h/BTCUSDT-1h-2024-11.zip',
    ]);
    const out = join(root, 'tf60');
    const r = await download(out, '--symbols', 'BTCUSDT', '--kinds', 'candles', '--timeframe', '60m');
    expect(r.stderr).not.toContain('not published');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('candles BTCUSDT 1h: 2880 new rows');
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).provenance).toContain('candles BTCUSDT 1h: 4 archives');
  });

  it('that data.binance.vision does not publish is a usage error (64) listing the ones it does, before any request (it was 66: every archive "not published")', async () => {
    let err: unknown;
    try { planArchives({ symbols: ['BTCUSDT'], from: '2024-11', to: '2024-11', timeframe: '45m', kinds: ['candles'], now: Date.UTC(2025, 6, 4) }); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(64);
    expect((err as UserError).message).toMatch(/--timeframe 45m: .*1m, 3m, 5m, 15m, 30m, 1h, 2h, 4h, 6h, 8h, 12h, 1d, 3d, 1w/);
    // funding archives have no timeframe: any --timeframe is fine with --kinds funding
    expect(planArchives({ symbols: ['BTCUSDT'], from: '2024-11', to: '2024-11', timeframe: '45m', kinds: ['funding'], now: Date.UTC(2025, 6, 4) }).archives).toHaveLength(1);
    const before = srv.requests.length;
    const r = await download(join(root, 'tf45'), '--symbols', 'BTCUSDT', '--kinds', 'candles', '--timeframe', '45m');
    expect(r.code).toBe(64);
    expect(srv.requests.length).toBe(before);
  });
});

describe('data download: what the import says', () => {
  it('a gap the download leaves (a month not published, imported around with --allow-missing) is warned of as an import warns of it', async () => {
    const r = await download(join(root, 'gap'), '--symbols', 'ETHUSDT', '--to', '2025-01', '--kinds', 'candles', '--allow-missing');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^marginlab: warning: candles ETHUSDT 1h now has 1 gap \(widest: 744 missing bars between 2024-11-30T23:00:00.000Z and 2025-01-01T00:00:00.000Z\); a run at 1h refuses a dataset with gaps unless the config's data entry says gaps: 'warn'/m);
    expect(r.stdout).toContain('candles ETHUSDT 1h: 1464 new rows, 1464 in');
    expect(r.stdout).toContain('1 gap');
  });

  it("an append that does not join the dataset's rows says so in a download's words (it said \"this import's rows … --replace imports the file alone\")", async () => {
    const out = join(root, 'nojoin');
    expect((await download(out, '--symbols', 'BTCUSDT', '--kinds', 'candles', '--to', '2024-11')).code).toBe(0);
    const r = await download(out, '--symbols', 'BTCUSDT', '--kinds', 'candles', '--from', '2025-01', '--to', '2025-01');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^marginlab: warning: candles BTCUSDT 1h now has 1 gap .*; this download's rows do not join the dataset's \(0 gaps before it\): `--replace` downloads the range alone$/m);
  });

  it('--replace says how many rows it replaced (a replace that dropped 2,880 rows said only "1416 new rows")', async () => {
    const out = join(root, 'replace');
    expect((await download(out, '--symbols', 'BTCUSDT', '--kinds', 'candles')).code).toBe(0);
    const r = await download(out, '--symbols', 'BTCUSDT', '--kinds', 'candles', '--from', '2025-01', '--replace');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('candles BTCUSDT 1h: 1416 new rows, 1416 in');
    expect(r.stdout).toContain('replacing the 2,880 rows it held');
  });
});

describe('data download: a request of nothing published yet', () => {
  it("(the current month's funding, the current month on its 1st) says why, without a request, not 'no archive of the request is published at <server>'", async () => {
    const { downloadBinanceUsdm } = await import('../src/feed/download.js');
    const before = srv.requests.length;
    const fail = async (o: Partial<Parameters<typeof downloadBinanceUsdm>[0]>) => {
      try { await downloadBinanceUsdm({ symbols: ['BTCUSDT'], from: '2025-07', to: '2025-07', timeframe: '1h', kinds: ['funding'], out: join(root, 'none'), baseUrl: srv.base, ...o }); } catch (e) { return e as UserError; }
      throw new Error('no error');
    };
    const f = await fail({ now: Date.UTC(2025, 6, 4, 12) });
    expect(f.exitCode).toBe(66);
    expect(f.message).toMatch(/^nothing to download for --from 2025-07 --to 2025-07: .*not published yet: BTCUSDT funding 2025-07 \(fundingRate archives are monthly; published after the month ends\)/);
    expect(f.message).not.toContain('no archive of the request is published at');
    const c = await fail({ kinds: ['candles'], now: Date.UTC(2025, 6, 1, 12) });
    expect(c.message).toMatch(/^nothing to download for --from 2025-07 --to 2025-07: .*daily archives of the current month begin with yesterday's/);
    expect(srv.requests.length).toBe(before);
  });
});
