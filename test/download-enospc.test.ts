/**
 * `data download` on a disk that fills up while the archives are imported (the cache fit, the dataset's
 * Arrow files do not): a one-line error naming the dataset, exit 70, "not a marginlab bug", the dataset as it
 * was, the verified archives kept; it was an "internal error: ENOSPC … please report it". Injected by mocking
 * node:fs's writeSync (the Arrow writer's), as test/atomic-enospc.test.ts does.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fail = { on: false };
vi.mock('node:fs', async (orig) => {
  const fs = await orig<typeof import('node:fs')>();
  const writeSync = ((fd: number, ...rest: unknown[]) => {
    if (fail.on) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    return (fs.writeSync as (...a: unknown[]) => number)(fd, ...rest);
  }) as typeof fs.writeSync;
  return { ...fs, writeSync, default: { ...fs, writeSync } };
});

const { feedCli } = await import('./fixtures/feed/cli.js');
const { monthArchives, serveArchives } = await import('./fixtures/download/server.js');

const root = mkdtempSync(join(tmpdir(), 'ml-download-enospc-'));
let srv: Awaited<ReturnType<typeof serveArchives>>;
beforeAll(async () => { srv = await serveArchives(monthArchives('BTCUSDT', ['2024-11', '2024-12'])); });
afterAll(async () => { await srv.close(); rmSync(root, { recursive: true, force: true }); });

describe('data download on a full disk', () => {
  it('fails 70 naming the dataset and the full disk, not as an internal error; nothing imported, the archives kept for the next run', async () => {
    const out = join(root, 'ds');
    const args = ['data', 'download', 'binance-usdm', '--symbols', 'BTCUSDT', '--from', '2024-11', '--to', '2024-12', '--kinds', 'candles', '--out', out, '--base-url', srv.base, '--retries', '0'];
    fail.on = true;
    let r: Awaited<ReturnType<typeof feedCli>>;
    try { r = await feedCli(args); } finally { fail.on = false; }
    expect(r.code).toBe(70);
    expect(r.stderr).toMatch(/^marginlab: cannot write the dataset .*ds.*: no space left on the device \(ENOSPC\); free space .* and run the command again; this is not a marginlab bug$/m);
    expect(r.stderr.trim().split('\n').filter((l) => !l.startsWith('['))).toHaveLength(1);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(readdirSync(out).filter((f) => f.endsWith('.arrow') || f.endsWith('.tmp'))).toEqual([]);
    // the next run imports from the cache
    const before = srv.requests.length;
    const again = await feedCli(args);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('2 archives (0 downloaded, 2 from the cache, 0 missing)');
    expect(srv.requests.length).toBe(before);
  });
});
