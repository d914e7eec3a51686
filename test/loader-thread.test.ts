/**
 * The dataset loader thread (src/shard/run.ts loadInThread): the CLI's run and stress start it
 * before the config is loaded (startLoaderThread), so it imports its modules meanwhile, and hand it
 * the datasets in a message once they are known. It loads what a thread started with them does, a
 * load error is the same one-line error, and a started thread never keeps the process alive.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { loadInThread, startLoaderThread } from '../src/shard/run.js';
import { UserError } from '../src/errors.js';
import { REPO } from './fixtures/run/cli.js';

const SAMPLE = join(REPO, 'data', 'binance-usdm-2025');

/** the columns of a load as plain arrays (what the runs read) */
function plain(md: Awaited<ReturnType<typeof loadInThread>>[number]): unknown {
  return { symbols: md.symbols, time: Array.from(md.time), columns: md.columns.map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v]))) };
}

describe('the loader thread started before the datasets are known', () => {
  it('loads what a thread started with the request loads, columns shared', async () => {
    const [fresh] = await loadInThread([{ dir: SAMPLE, options: { gaps: 'warn' } }]);
    startLoaderThread();
    const [early] = await loadInThread([{ dir: SAMPLE, options: { gaps: 'warn' } }]);
    expect(early!.time.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(plain(early!)).toEqual(plain(fresh!));
    expect(early!.hashes).toEqual(fresh!.hashes);
  }, 60_000);

  it('a dataset problem is the same error, with the config key it is blamed on; the next load gets a thread of its own', async () => {
    startLoaderThread();
    const reasons: unknown[] = [];
    const err = await loadInThread([{ dir: SAMPLE, options: { timeframe: '1m', gaps: 'warn' } }], (k, reason) => {
      reasons.push([k, reason]);
      return { where: 'cfg.ts: data' };
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(78);
    expect((err as UserError).message).toMatch(/^cfg\.ts: data: /);
    // the reason crosses the thread with the error (a timeframe the dataset lacks: datasetTimeframe, src/errors.ts)
    expect((err as UserError).reason).toBe('datasetTimeframe');
    expect(reasons).toEqual([[0, 'datasetTimeframe']]);
    const [again] = await loadInThread([{ dir: SAMPLE, options: { gaps: 'warn' } }]);
    expect(again!.symbols.length).toBeGreaterThan(0);
  }, 60_000);

  it('a window holding no bar crosses the thread as reason emptyWindow, and the blame may change its exit code', async () => {
    const far = Date.UTC(2090, 0, 1);
    const err = await loadInThread([{ dir: SAMPLE, options: { from: far, gaps: 'warn' } }], (k, reason) =>
      reason === 'emptyWindow' ? { where: `--from 2090-01-01 (dataset ${k})`, exitCode: 64 } : { where: 'cfg.ts: data' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).reason).toBe('emptyWindow');
    expect((err as UserError).exitCode).toBe(64);
    expect((err as UserError).message).toMatch(/^--from 2090-01-01 \(dataset 0\): dataset .*no \w+ bars in the selected range from 2090-01-01/);
    // without a blame: the loader's own error, unchanged
    const bare = await loadInThread([{ dir: SAMPLE, options: { from: far, gaps: 'warn' } }]).catch((e: unknown) => e);
    expect(bare).toMatchObject({ exitCode: 78, reason: 'emptyWindow', message: expect.stringMatching(/^dataset /) });
  }, 60_000);

  it('a thread started and never used does not keep the process alive', () => {
    const runJs = join(REPO, 'dist', 'src', 'shard', 'run.js');
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', `const m = await import(${JSON.stringify(runJs)}); m.startLoaderThread(); console.log('started');`], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain('started');
    expect(r.signal).toBeNull(); // not killed by the timeout
    expect(r.status).toBe(0);
  }, 30_000);
});
