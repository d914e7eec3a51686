import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { canonicalJson, runIdOf, taskIdOf } from '../src/shard/hash.js';
import { erroredResult, strategyErrorText } from '../src/shard/worker.js';
import { capRecords, eventRecords } from '../src/shard/records.js';
import { RunEventRecordSchema } from '../src/shard/result-schema.js';
import { createProgress } from '../src/shard/progress.js';
import { stressRunText } from '../src/stress/types.js';
import { mergeRunFolders, sharePlanRunIds } from '../src/shard/merge.js';
import { poolSize, UNITS_PER_WORKER } from '../src/shard/run.js';
import { TASK_OVERHEAD_UNITS } from '../src/shard/execute.js';
import type { AccountEvent } from '../src/account/types.js';
import type { RunManifest, RunResult, RunSpec } from '../src/shard/types.js';
import { METRICS } from '../src/analysis/index.js';

const spec = (over: Partial<RunSpec> = {}): RunSpec => ({
  strategy: 's', params: { a: 1 }, venue: 'binance-usdm', setup: 'isolated', leverage: 3, dataset: 'd', timeframe: '1h',
  symbols: ['AAAUSDT'], from: null, to: null, initialCapital: '10000', execution: { slippageBps: 1 }, dataHashes: { f: 'h' }, engineVersion: 'E', ...over,
});

describe('canonical JSON and ids', () => {
  it('sorts keys at every level, drops undefined, rejects non-finite numbers', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: undefined }], c: -0 } })).toBe('{"a":{"c":0,"d":[3,{"z":1}]},"b":1}');
    expect(() => canonicalJson({ x: NaN })).toThrow(/non-finite number at \.x/);
    expect(() => canonicalJson({ f: () => 1 })).toThrow(/cannot encode function/);
  });
  it('writes every string, key and number as JSON.stringify does (quotes, control characters, lone surrogates)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean(), (s, n, b) => {
        expect(canonicalJson(s)).toBe(JSON.stringify(s));
        expect(canonicalJson({ [s]: [n, b] })).toBe(`{${JSON.stringify(s)}:[${JSON.stringify(Object.is(n, -0) ? 0 : n)},${b}]}`);
        expect(JSON.parse(canonicalJson({ k: s }))).toEqual({ k: s });
      }),
      { numRuns: 2000 },
    );
    expect(canonicalJson(['"\\\n\u0001\ud800 ok'])).toBe(JSON.stringify(['"\\\n\u0001\ud800 ok']));
  });
  it('setups of one pass share a TaskId but not a RunId', () => {
    const a = spec();
    const b = spec({ setup: 'cross' });
    expect(taskIdOf(a)).toBe(taskIdOf(b));
    expect(runIdOf(a)).not.toBe(runIdOf(b));
    expect(taskIdOf(spec({ leverage: 4 }))).not.toBe(taskIdOf(a));
  });
});

describe('event records', () => {
  const fill = (time: number): AccountEvent => ({ type: 'fill', time, symbol: 0, qty: 1, price: 100, fee: '0.1', realizedPnl: '0', positionQty: 1, mode: 'cross' });
  const events: AccountEvent[] = [];
  for (let i = 0; i < 300; i++) events.push(fill(i));
  events.push({ type: 'funding', time: 250.5, symbol: 0, received: '-1', rate: 0.0001, price: 100 });
  events.push({ type: 'liquidation', time: 260.5, poolId: 'cross', symbols: [0], prices: [90], penalty: '5', insuranceDraw: '0', realizedPnl: '-10' });
  events.push({ type: 'rejection', time: NaN, symbol: 0, reason: 'exceedsMaxLeverage', message: 'setLeverage 200' });
  const records = eventRecords(events, ['AAAUSDT'], [{ time: 260.5, marginRatio: 1.02, legs: [{ symbol: 0, qty: 300, triggerPrice: 89.5, liquidationPrice: 90 }] }]);
  it('one typed record per event, no cap by default (> 200 events kept)', () => {
    expect(records).toHaveLength(303);
    expect(capRecords(records, null)).toEqual({ events: records });
    expect(records[0]).toEqual({ type: 'fill', time: 0, symbol: 'AAAUSDT', side: 'buy', qty: 1, price: 100, fee: '0.1', realizedPnl: '0', positionQty: 1, mode: 'cross', pool: 'cross' });
    expect(records[300]).toEqual({ type: 'funding', time: 250.5, symbol: 'AAAUSDT', rate: 0.0001, price: 100, amount: '-1' });
    expect(records[301]).toEqual({
      type: 'liquidation', time: 260.5, pool: 'cross', mode: 'cross', marginRatio: 1.02, realizedPnl: '-10', penalty: '5', insuranceDraw: '0', loss: '15',
      legs: [{ symbol: 'AAAUSDT', side: 'long', qty: 300, closePrice: 90, triggerPrice: 89.5, liquidationPrice: 90 }],
    });
    expect(records[302]).toEqual({ type: 'rejection', time: null, symbol: 'AAAUSDT', reason: 'exceedsMaxLeverage', message: 'setLeverage 200' });
    // every record is valid against the result schema, and survives JSON
    for (const r of JSON.parse(JSON.stringify(records)) as unknown[]) expect(RunEventRecordSchema.safeParse(r).success).toBe(true);
  });
  it('a configured cap keeps the first N and says so', () => {
    const c = capRecords(records, 11);
    expect(c.events).toEqual(records.slice(0, 11));
    expect(c.eventsCap).toEqual({ limit: 11, total: 303, kept: 11 });
  });
});

describe('progress', () => {
  const sink = () => {
    let text = '';
    const w = { write: (s: string) => ((text += s), true), isTTY: false } as unknown as NodeJS.WriteStream;
    return { w, get: () => text };
  };
  it('nothing to do (a --resume of a finished folder): the start line says so and no "0/0 runs (100%), ETA ?" follows; a terminal says it in one line, no bar', () => {
    const o = sink();
    const p = createProgress('plain', { stdout: o.w, stderr: o.w }, 0);
    p.start({ totalRuns: 4, skipped: 4, pending: 0, totalBars: 0, workers: 1, shard: null });
    p.finish({ ok: 0, errored: 0, skipped: 4, interrupted: false, wallClockMs: 10, outDir: '/o' });
    expect(o.get()).toBe('marginlab: 0 runs to do (4 already done, skipped) of 4 on 1 worker\n');
    const t = sink();
    const tty = createProgress('tty', { stdout: t.w, stderr: t.w }, 0);
    tty.start({ totalRuns: 4, skipped: 4, pending: 0, totalBars: 0, workers: 1, shard: { index: 2, count: 2 } });
    tty.finish({ ok: 0, errored: 0, skipped: 4, interrupted: false, wallClockMs: 10, outDir: '/o' });
    expect(t.get()).toBe('marginlab: nothing to do: all 4 runs already done in shard 2/2\n');
    const one = sink();
    const tty1 = createProgress('tty', { stdout: one.w, stderr: one.w }, 0);
    tty1.start({ totalRuns: 1, skipped: 1, pending: 0, totalBars: 0, workers: 1, shard: null });
    tty1.finish({ ok: 0, errored: 0, skipped: 1, interrupted: false, wallClockMs: 10, outDir: '/o' });
    expect(one.get()).toBe('marginlab: nothing to do: its one run already done\n');
  });

  it('an errored run\'s line shows the control characters of its names, params, error and location as escapes: an ESC sequence recoloured the terminal, a line break forged a line, a bidi override reversed it', () => {
    const o = sink();
    const p = createProgress('plain', { stdout: o.w, stderr: o.w }, 60_000);
    p.start({ totalRuns: 1, skipped: 0, pending: 1, totalBars: 10, workers: 1, shard: null });
    // a strategy's error text and its file's location (a folder's name is the user's)
    const error = strategyErrorText('bad\u001b[2J', { callback: 'create', time: Number.NaN, location: 'strats\u001b[31m/x\u202e.ts:3:66' });
    expect(error).toBe('strategy threw: bad\\x1b[2J (in create, strats\\x1b[31m/x\\u202e.ts:3:66)');
    p.runDone({ runId: 'x', strategy: 'esc\u001b[31mRED\u0007\nmarginlab: all runs ok', params: 'k=\u202e', setup: 'cross', leverage: 3, status: 'errored', error });
    const lines = o.get().split('\n').filter(Boolean);
    expect(lines[1]).toBe('marginlab: run x (esc\\x1b[31mRED\\x07\\nmarginlab: all runs ok k=\\u202e, cross, 3x) errored: strategy threw: bad\\x1b[2J (in create, strats\\x1b[31m/x\\u202e.ts:3:66)');
    expect(o.get()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u202e]/);
  });

  it('plain mode writes a start line, errors, and a final line', () => {
    const o = sink();
    const p = createProgress('plain', { stdout: o.w, stderr: o.w }, 60_000);
    p.start({ totalRuns: 4, skipped: 1, pending: 3, totalBars: 300, workers: 2, shard: { index: 1, count: 2 } });
    p.runDone({ runId: 'x', strategy: 's', params: 'kind=2, lookback=6', setup: 'cross', leverage: 3, status: 'errored', error: 'boom' });
    // a stress run's line names its path or scenario (failed paths could not be told apart)
    p.runDone({ runId: 'y', strategy: 's', params: '', setup: 'cross', leverage: 3, status: 'errored', error: 'bust', stress: stressRunText({ kind: 'path', seed: 1, pathIndex: 22, blockBars: 24 }) });
    p.bars(100);
    p.finish({ ok: 0, errored: 1, skipped: 1, interrupted: false, wallClockMs: 10, outDir: '/o' });
    expect(o.get()).toMatch(/^marginlab: 3 runs to do \(1 already done, skipped\) of 4 in shard 1\/2 on 2 workers\n/);
    const one = sink();
    createProgress('plain', { stdout: one.w, stderr: one.w }, 60_000).start({ totalRuns: 1, skipped: 0, pending: 1, totalBars: 10, workers: 1, shard: null });
    expect(one.get()).toMatch(/^marginlab: 1 run to do of 1 on 1 worker/);
    // the runs of a grid point are told apart by their params
    expect(o.get()).toContain('run x (s kind=2, lookback=6, cross, 3x) errored: boom');
    expect(o.get()).toContain('run y (s, cross, 3x, path 22) errored: bust');
    expect(stressRunText({ kind: 'scenario', scenario: 'crash-2025-10-10', injectAt: Date.UTC(2025, 6, 1, 9) })).toBe('crash-2025-10-10 at 2025-07-01T09:00:00.000Z');
    expect(o.get()).toMatch(/2\/3 runs \(66%\), 2 errored, .* bars\/s, ETA/);
    // every run done, one of them stopped early (its bars never counted): ETA 0s, not the time the missing bars would take
    const d = sink();
    let now = 1_000_000;
    const clock = vi.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const q = createProgress('plain', { stdout: d.w, stderr: d.w }, 0);
      q.start({ totalRuns: 2, skipped: 0, pending: 2, totalBars: 4000, workers: 1, shard: null });
      now += 2000;
      q.bars(2000);
      q.runDone({ runId: 'a', strategy: 's', params: '', setup: 'cross', leverage: 3, status: 'ok' });
      now += 193; // 1,000 bars/s: the 1,807 bars never replayed would take 2 s more
      q.bars(2193);
      q.runDone({ runId: 'b', strategy: 's', params: '', setup: 'cross', leverage: 3, status: 'errored', error: 'timeout' });
    } finally {
      clock.mockRestore();
    }
    expect(d.get()).toMatch(/2\/2 runs \(100%\), 1 errored, 1\.0k bars\/s, ETA 0s\n$/);
    // workers: 'auto' starts fewer than it may use, and says so
    const a = sink();
    createProgress('plain', { stdout: a.w, stderr: a.w }, 60_000).start({ totalRuns: 51, skipped: 0, pending: 51, totalBars: 9, workers: 2, initialWorkers: 1, shard: null });
    expect(a.get()).toBe('marginlab: 51 runs to do of 51 on 1 worker, up to 2 as the work needs\n');
  });
  it('json mode writes one JSON event per line on stdout; quiet writes nothing', () => {
    const o = sink();
    const e = sink();
    const p = createProgress('json', { stdout: o.w, stderr: e.w });
    p.start({ totalRuns: 1, skipped: 0, pending: 1, totalBars: 10, workers: 1, shard: null });
    p.runDone({ runId: 'x', strategy: 's', params: '', setup: 'cross', leverage: 3, status: 'ok' });
    p.finish({ ok: 1, errored: 0, skipped: 0, interrupted: false, wallClockMs: 10, outDir: '/o' });
    expect(o.get().trim().split('\n').map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['start', 'run', 'done']);
    expect(e.get()).toBe('');
    const q = sink();
    const p2 = createProgress('quiet', { stdout: q.w, stderr: q.w });
    p2.start({ totalRuns: 1, skipped: 0, pending: 1, totalBars: 10, workers: 1, shard: null });
    p2.finish({ ok: 1, errored: 0, skipped: 0, interrupted: false, wallClockMs: 10, outDir: '/o' });
    expect(q.get()).toBe('');
  });
});

describe('merge', () => {
  const manifest = (over: Partial<RunManifest> = {}): RunManifest => ({
    schemaVersion: 1, name: 'n', createdAt: 'x', marginlabVersion: '0.1.0', engineVersion: 'E', gitCommit: null, node: 'v20',
    config: { name: 'n', leverage: [3], workers: 1, output: { dir: 'a' } }, datasets: [{ name: 'd', path: 'd', hashes: { f: 'h' } }],
    runs: { total: 2, ok: 1, errored: 0 }, shard: { index: 1, count: 2 }, workers: 1, wallClockMs: 5, plan: { hash: 'p', total: 2, strategies: ['s'] }, ...over,
  });
  const folder = (root: string, name: string, m: RunManifest, results: RunResult[]) => {
    const d = join(root, name);
    mkdirSync(join(d, 'results'), { recursive: true });
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    for (const r of results) writeFileSync(join(d, 'results', `${r.runId}.json`), JSON.stringify(r));
    return d;
  };
  it('unions results (an ok re-run wins over a failure) and refuses mismatches', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ml-merge-'));
    const s1 = spec();
    const s2 = spec({ setup: 'cross' });
    const id1 = runIdOf(s1);
    const id2 = runIdOf(s2);
    const failed = erroredResult(id2, s2, 'timeout');
    const { error: _unused, internal: _none, ...okBase } = erroredResult(id2, s2, 'x');
    const ok2: RunResult = { ...okBase, status: 'ok', metrics: Object.fromEntries(METRICS.map((m) => [m.id, null])) };
    const a = folder(root, 'a', manifest(), [erroredResult(id1, s1, 'x'), failed]);
    const b = folder(root, 'b', manifest({ shard: { index: 2, count: 2 }, config: { name: 'n', leverage: [3], workers: 8, output: { dir: 'b' } } }), [ok2]);
    const out = await mergeRunFolders([a, b], join(root, 'm'));
    expect(out.runs).toBe(2);
    expect(out.duplicates).toBe(1);
    expect(out.missing).toBe(0);
    expect(JSON.parse(readFileSync(join(root, 'm', 'results', `${id2}.json`), 'utf8'))).toMatchObject({ status: 'ok' });
    expect(out.manifest.runs).toEqual({ total: 2, ok: 1, errored: 1 });
    expect(out.manifest.mergedFrom).toEqual([{ path: a, shard: { index: 1, count: 2 }, runs: 2 }, { path: b, shard: { index: 2, count: 2 }, runs: 1 }]);

    const c = folder(root, 'c', manifest({ engineVersion: 'E2' }), []);
    const d = folder(root, 'd', manifest({ datasets: [{ name: 'd', path: 'd', hashes: { f: 'other' } }] }), []);
    const e = folder(root, 'e', manifest({ config: { name: 'n', leverage: [5], workers: 1, output: { dir: 'a' } } }), []);
    await expect(mergeRunFolders([a, c], join(root, 'x'))).rejects.toMatchObject({ exitCode: 65, details: [expect.stringMatching(/^engine version: .* has E, .* has E2$/)] });
    await expect(mergeRunFolders([a, d], join(root, 'x'))).rejects.toMatchObject({ details: [expect.stringMatching(/^data hashes:/)] });
    await expect(mergeRunFolders([a, e], join(root, 'x'))).rejects.toMatchObject({ details: [expect.stringMatching(/^config: .* differ in leverage$/)] });
    writeFileSync(join(a, 'results', `${id1}.json`), JSON.stringify({ schemaVersion: 1, runId: id1 }));
    await expect(mergeRunFolders([a, b], join(root, 'x'))).rejects.toMatchObject({ exitCode: 65, message: expect.stringMatching(/ is not a valid run result: run the command that wrote the folder again with --resume \(it runs a damaged result again\)$/) });
    writeFileSync(join(a, 'results', `${id1}.json`), '{"half":');
    await expect(mergeRunFolders([a, b], join(root, 'x'))).rejects.toMatchObject({ exitCode: 65 });
  });
  it('records the commit the shards were run at, not the one of the folder merge runs in', async () => {
    // this test runs inside the repository's own work tree: its HEAD is not the shards' commit
    const root = mkdtempSync(join(tmpdir(), 'ml-merge-git-'));
    const s1 = spec();
    const s2 = spec({ setup: 'cross' });
    const shardCommit = 'a'.repeat(40);
    const a = folder(root, 'a', manifest({ gitCommit: shardCommit }), [erroredResult(runIdOf(s1), s1, 'x')]);
    const b = folder(root, 'b', manifest({ gitCommit: shardCommit, shard: { index: 2, count: 2 } }), [erroredResult(runIdOf(s2), s2, 'x')]);
    const same = await mergeRunFolders([a, b], join(root, 'm1'));
    expect(same.manifest.gitCommit).toBe(shardCommit);
    expect(JSON.parse(readFileSync(join(root, 'm1', 'manifest.json'), 'utf8'))).toMatchObject({ gitCommit: shardCommit });
    // shards run at two commits: no one commit made the merged results; each source keeps its own
    const other = 'b'.repeat(40);
    const c = folder(root, 'c', manifest({ gitCommit: other, shard: { index: 2, count: 2 } }), [erroredResult(runIdOf(s2), s2, 'x')]);
    const mixed = await mergeRunFolders([a, c], join(root, 'm2'));
    expect(mixed.manifest.gitCommit).toBeNull();
    expect(mixed.manifest.mergedFrom).toEqual([
      { path: a, shard: { index: 1, count: 2 }, runs: 1, gitCommit: shardCommit },
      { path: c, shard: { index: 2, count: 2 }, runs: 1, gitCommit: other },
    ]);
    // shards run outside any repository: none
    const d = folder(root, 'd', manifest(), [erroredResult(runIdOf(s1), s1, 'x')]);
    const e = folder(root, 'e', manifest({ shard: { index: 2, count: 2 } }), [erroredResult(runIdOf(s2), s2, 'x')]);
    expect((await mergeRunFolders([d, e], join(root, 'm3'))).manifest.gitCommit).toBeNull();
  });
  it('judges folders by what decides their runs: lists in another order and a data folder by another path are one sweep; a real difference is named by its key', async () => {
    const { resolveConfig } = await import('../src/config/index.js');
    const root = mkdtempSync(join(tmpdir(), 'ml-merge3-'));
    const conf = async (over: Record<string, unknown>, flags: { strategies?: string[]; scenarios?: string[]; seed?: number } = {}) =>
      JSON.parse(JSON.stringify(await resolveConfig({
        name: 'n', data: 'data/d', strategies: ['buy-and-hold', { name: 'sma-cross', grid: { fast: [5, 10] } }], leverage: [3, 10], setups: ['isolated', 'cross'],
        stress: { scenarios: ['crash-2025-10-10', 'alt-wick', { id: 'btc-gap', symbols: { BTC: { depth: -0.3, duration: '1h' } } }], inject: { at: ['2025-06-20T14:00:00Z', '2025-06-10T00:00:00Z'] }, crashesPerPath: 1, paths: 2, seed: 1 },
        ...over,
      } as never, { configDir: '/x', overrides: { ...(flags.strategies ? { strategies: flags.strategies } : {}), stress: { ...(flags.scenarios ? { scenarios: flags.scenarios } : {}), ...(flags.seed ? { seed: flags.seed } : {}) } } }))) as unknown;
    const s1 = spec();
    const plan = { hash: 'p', total: 2, strategies: ['buy-and-hold', 'sma-cross'], strategyHashes: { 'buy-and-hold': 'h1', 'sma-cross': 'h2' } };
    const ref = folder(root, 'ref', manifest({ config: await conf({}), plan }), [erroredResult(runIdOf(s1), s1, 'x')]);
    const same = [
      // --strategies and --scenarios in another order (the same plan: `run --resume` took the folder)
      await conf({}, { strategies: ['sma-cross', 'buy-and-hold'], scenarios: ['btc-gap', 'alt-wick', 'crash-2025-10-10'] }),
      // the config's own lists in another order, the data folder by its absolute path, the strategies' folder by another path (their code is compared by hash)
      await conf({
        data: '/work/p/data/d', strategyDirs: ['/work/p/strategies'], leverage: [10, 3], setups: ['cross', 'isolated'],
        strategies: [{ name: 'sma-cross', grid: { fast: [10, 5] } }, 'buy-and-hold'],
        stress: { scenarios: ['alt-wick', { id: 'btc-gap', symbols: { BTC: { depth: -0.3, duration: '1h' } } }, 'crash-2025-10-10'], inject: { at: ['2025-06-10T00:00:00Z', '2025-06-20T14:00:00Z'] }, crashesPerPath: 1, paths: 2, seed: 1 },
      }),
    ];
    for (const [k, config] of same.entries()) {
      const other = folder(root, `same${k}`, manifest({ shard: { index: 2, count: 2 }, config, plan, datasets: [{ name: 'd', path: k === 1 ? '/work/p/data/d' : 'data/d', hashes: { f: 'h' } }] }), []);
      expect((await mergeRunFolders([ref, other], join(root, `m${k}`))).runs).toBe(1);
    }
    // a real difference is refused, named by its key (it read "differ in stress")
    const seeded = folder(root, 'seeded', manifest({ shard: { index: 2, count: 2 }, config: await conf({}, { seed: 8 }), plan: { ...plan, hash: 'q' } }), []);
    await expect(mergeRunFolders([ref, seeded], join(root, 'x'))).rejects.toMatchObject({ exitCode: 65, details: ['config: ' + ref + ' and ' + seeded + ' differ in stress.seed', `plan: ${ref} and ${seeded} have different run plans (p vs q)`] });
    // the strategies' folder is compared when a folder has no strategy code hashes (written before them)
    const { strategyHashes: _h, ...noHashes } = plan;
    const unhashed = folder(root, 'unhashed', manifest({ shard: { index: 2, count: 2 }, config: same[1], plan: noHashes }), []);
    await expect(mergeRunFolders([ref, unhashed], join(root, 'x'))).rejects.toMatchObject({ details: [`config: ${ref} and ${unhashed} differ in strategyDirs`] });
    // a strategy found by one shard's strategy folders and not the other's (strategies: 'all'): named, not "planned otherwise"
    const more = folder(root, 'more', manifest({ shard: { index: 2, count: 2 }, config: same[1], plan: { ...plan, hash: 'q', strategies: [...plan.strategies, 'foo'], strategyHashes: { ...plan.strategyHashes, foo: 'h3' } } }), []);
    await expect(mergeRunFolders([ref, more], join(root, 'x'))).rejects.toMatchObject({ details: [`strategies: strategy 'foo' only in ${more}`, `plan: ${ref} and ${more} have different run plans (p vs q)`] });
    // other data: named by the datasets when their names differ
    const renamed = folder(root, 'renamed', manifest({ shard: { index: 2, count: 2 }, config: await conf({}), plan, datasets: [{ name: 'e', path: 'data/d', hashes: { f: 'h' } }] }), []);
    await expect(mergeRunFolders([ref, renamed], join(root, 'x'))).rejects.toMatchObject({ details: [`data hashes: ${ref} was run on dataset d, ${renamed} on e`] });
    // the same config, data, engine and code but another plan: planned by another marginlab, said so
    const replanned = folder(root, 'replanned', manifest({ shard: { index: 2, count: 2 }, config: await conf({}), plan: { ...plan, hash: 'q' } }), []);
    await expect(mergeRunFolders([ref, replanned], join(root, 'x'))).rejects.toMatchObject({ details: [expect.stringMatching(/^plan: .* have different run plans \(p vs q\): their configs, data, engine and strategy code agree, so an earlier marginlab planned one of them otherwise/)] });
  });
  it('refuses a folder whose run has not finished (65) and the same folder named twice, also through a symlink (64)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ml-merge2-'));
    const s1 = spec();
    const a = folder(root, 'a', manifest(), [erroredResult(runIdOf(s1), s1, 'x')]);
    const busy = folder(root, 'busy', manifest({ shard: { index: 2, count: 2 }, inProgress: true }), []);
    await expect(mergeRunFolders([a, busy], join(root, 'x'))).rejects.toMatchObject({ exitCode: 65, message: expect.stringMatching(/busy.manifest\.json: the run writing this folder has not finished/) });
    // stopped mid-sweep (Ctrl-C, SIGTERM): interrupted with fewer results than its runs, as unfinished as a killed one
    const stopped = folder(root, 'stopped', manifest({ shard: { index: 2, count: 2 }, interrupted: true, runs: { total: 1, ok: 0, errored: 0 } }), []);
    await expect(mergeRunFolders([a, stopped], join(root, 'x'))).rejects.toMatchObject({ exitCode: 65, message: expect.stringMatching(/stopped.manifest\.json: the run writing this folder was interrupted after 0 of its 1 runs; finish it with `.*--resume.*` first$/) });
    // interrupted in its report step (every result there), or a merged folder marked so (its missing runs are shards not
    // merged): merged
    const s2 = spec({ setup: 'cross' });
    const inReport = folder(root, 'in-report', manifest({ shard: { index: 2, count: 2 }, interrupted: true, runs: { total: 1, ok: 0, errored: 1 } }), [erroredResult(runIdOf(s2), s2, 'y')]);
    const half = folder(root, 'half', manifest({ shard: null, interrupted: true, runs: { total: 2, ok: 0, errored: 1 }, mergedFrom: [{ path: a, shard: { index: 1, count: 2 }, runs: 1 }] }), [erroredResult(runIdOf(s1), s1, 'x')]);
    expect((await mergeRunFolders([a, inReport], join(root, 'm1'))).runs).toBe(2);
    expect((await mergeRunFolders([half, inReport], join(root, 'm2'))).runs).toBe(2);
    symlinkSync(a, join(root, 'link'));
    await expect(mergeRunFolders([a, a], join(root, 'x'))).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/are the same folder; name each folder once$/) });
    await expect(mergeRunFolders([a, join(root, 'link')], join(root, 'x'))).rejects.toMatchObject({ exitCode: 64 });
  });
});

describe('pool size', () => {
  const tasks = (n: number, cost: number) => Array.from({ length: n }, () => ({ cost }));
  it('an explicit worker count starts at once, capped by the number of passes', () => {
    expect(poolSize({ workers: 8, workersAuto: false }, tasks(3, 10))).toEqual({ max: 3, initial: 3 });
    expect(poolSize({ workers: 2, workersAuto: false }, tasks(100, 10))).toEqual({ max: 2, initial: 2 });
    expect(poolSize({ workers: 4, workersAuto: false }, [])).toEqual({ max: 1, initial: 1 });
  });
  it("'auto' starts one worker per UNITS_PER_WORKER of work (pass costs plus a fixed cost a pass) at once, at least one; the rest may follow", () => {
    // the bundled sweep: 24 passes of 1,458 bars × 2 setups
    expect(poolSize({ workers: 2, workersAuto: true }, tasks(24, 2 * 1458))).toEqual({ max: 2, initial: 1 });
    // many short passes add up through their fixed cost
    const many = Math.ceil((2 * UNITS_PER_WORKER) / TASK_OVERHEAD_UNITS);
    expect(poolSize({ workers: 16, workersAuto: true }, tasks(many, 0))).toEqual({ max: 16, initial: 2 });
    // a large sweep starts every core at once
    expect(poolSize({ workers: 2, workersAuto: true }, tasks(32, 640_000))).toEqual({ max: 2, initial: 2 });
    expect(poolSize({ workers: 16, workersAuto: true }, tasks(32, 640_000))).toEqual({ max: 16, initial: Math.floor((32 * (640_000 + TASK_OVERHEAD_UNITS)) / UNITS_PER_WORKER) });
    expect(poolSize({ workers: 4, workersAuto: true }, [])).toEqual({ max: 1, initial: 1 });
  });
});

describe('merge: the plan\'s RunIds held once', () => {
  const manifest = (ids: string[] | undefined) => ({ plan: ids ? { hash: 'h', total: ids.length, strategies: [], runIds: ids } : undefined }) as unknown as RunManifest;
  it('a shard manifest whose plan.runIds equal the first manifest\'s takes the first\'s list; a differing or missing list is kept', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => i.toString(16).padStart(16, '0'));
    const first = manifest(ids);
    expect(sharePlanRunIds(first, undefined)).toBe(first);
    const same = sharePlanRunIds(manifest([...ids]), first);
    expect(same.plan!.runIds).toBe(ids);
    const other = [...ids];
    other[999] = 'ffffffffffffffff';
    expect(sharePlanRunIds(manifest(other), first).plan!.runIds).toBe(other);
    const shorter = ids.slice(1);
    expect(sharePlanRunIds(manifest(shorter), first).plan!.runIds).toBe(shorter);
    expect(sharePlanRunIds(manifest(undefined), first).plan).toBeUndefined();
    expect(sharePlanRunIds(manifest(ids.slice()), manifest(undefined)).plan!.runIds).not.toBe(ids);
  });
});
