/**
 * Faults of an unattended run, through the CLI as separate processes: a disk that fills up in the
 * middle of a sweep of several workers, a signal while the config loads. Each leaves the folder so
 * that the same command with --resume finishes it as an uninterrupted run would, byte for byte, and
 * says what happened in one line with its documented exit code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, REPO, resultFiles, runCli, startCli, waitFor, writeConfig } from './fixtures/run/cli.js';
import type { RunResult } from '../src/shard/types.js';
import { WORKER_HEAP_FLOOR_MB, outOfMemoryText, workerHeapLimit } from '../src/shard/execute.js';
import { processMemoryBytes } from '../src/util/memory.js';

const FULL_DISK = ['--import', join(REPO, 'test', 'fixtures', 'faults', 'full-disk.mjs')];
const MERGE_RACE = ['--import', join(REPO, 'test', 'fixtures', 'faults', 'merge-race.mjs')];

let dir: string;
const read = (p: string) => readFileSync(p, 'utf8');

/** marginlab's temp names and locks in a run folder and its results/ */
const leftovers = (out: string): string[] =>
  [out, join(out, 'results')].flatMap((d) => (existsSync(d) ? readdirSync(d) : []).filter((f) => /^\..*\.(tmp|old)$/.test(f) || f === '.marginlab.lock'));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-faults-'));
  await makeDataset(join(dir, 'data'), { bars: 1500, seed: 11 });
  // 12 passes of 2 setups on 2 workers: passes are in flight on the other worker when a write fails
  writeConfig(dir, 'f.config.ts', {
    name: 'faults',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 12, 24, 48] } }],
    leverage: [3, 10, 20],
    workers: 2,
  });
  writeConfig(dir, 'one.config.ts', { name: 'one', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], leverage: [3], workers: 1 });
  writeConfig(dir, 'two.config.ts', { name: 'one', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], leverage: [3, 10], workers: 1 });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a full disk in the middle of a sweep', () => {
  it('stops at the first result it cannot write (exit 70, one line); the passes it stopped leave no errored result; --resume finishes it byte for byte', async () => {
    const ref = await runCli(['run', '-c', 'f.config.ts', '--out', 'ref', '--quiet'], dir);
    expect(ref.code).toBe(0);
    const refFiles = resultFiles(join(dir, 'ref'));
    expect(refFiles).toHaveLength(24);

    // the disk is full after 3 results: bigger files fail part-way, small ones (an errored result) would still fit
    const full = await startCli(['run', '-c', 'f.config.ts', '--out', 'full', '--quiet'], dir, { nodeArgs: FULL_DISK, env: { FULL_DISK_AFTER: '3' } }).done;
    expect(full.code).toBe(70);
    expect(full.stderr).toMatch(/^marginlab: cannot write the result \S+\.json: no space left on the device \(ENOSPC\); .*--resume.*this is not a marginlab bug\n$/);
    const kept = resultFiles(join(dir, 'full'));
    expect(kept).toHaveLength(3);
    for (const f of kept) {
      // no pass stopped by the failure became an errored result ("The task has been aborted"): --resume would keep it
      expect((JSON.parse(read(join(dir, 'full', 'results', f))) as RunResult).status).toBe('ok');
      expect(read(join(dir, 'full', 'results', f))).toBe(read(join(dir, 'ref', 'results', f)));
    }
    expect(leftovers(join(dir, 'full'))).toEqual([]);

    const resumed = await runCli(['run', '-c', 'f.config.ts', '--out', 'full', '--resume', '--quiet'], dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resultFiles(join(dir, 'full'))).toEqual(refFiles);
    for (const f of refFiles) expect(read(join(dir, 'full', 'results', f))).toBe(read(join(dir, 'ref', 'results', f)));
    for (const f of ['summary.json', 'runs.csv', 'trades.csv', 'report.md']) expect(read(join(dir, 'full', f))).toBe(read(join(dir, 'ref', f)));
  }, 180_000);
});

describe('a full disk in the report step', () => {
  it("run and merge mark the manifest (the report files are not this run's, as after a Ctrl-C there); marginlab report writes them and drops the mark", async () => {
    const first = await runCli(['run', '-c', 'one.config.ts', '--out', 'stale', '--quiet'], dir);
    expect(first.code).toBe(0);
    const manifest = (d: string) => JSON.parse(read(join(dir, d, 'manifest.json'))) as { interrupted?: boolean; runs: { total: number } };
    const summaryTotal = (d: string) => (JSON.parse(read(join(dir, d, 'summary.json'))) as { counts: { total: number } }).counts.total;
    expect(summaryTotal('stale')).toBe(2);
    // another plan into the folder: its 4 results are written, its report is not
    const r = await startCli(['run', '-c', 'two.config.ts', '--out', 'stale', '--quiet'], dir, { nodeArgs: FULL_DISK, env: { FULL_DISK_REPORT: '1' } }).done;
    expect(r.stderr).toMatch(/^marginlab: cannot write the report into \S+: no space left on the device \(ENOSPC\); .*this is not a marginlab bug\n$/);
    expect(r.code).toBe(70);
    expect(resultFiles(join(dir, 'stale'))).toHaveLength(4);
    // the earlier run's report went with its results when this run began: no report of another run is left beside them
    expect(existsSync(join(dir, 'stale', 'summary.json'))).toBe(false);
    expect(manifest('stale')).toMatchObject({ interrupted: true, runs: { total: 4 } });
    expect(leftovers(join(dir, 'stale'))).toEqual([]);
    const rep = await runCli(['report', 'stale'], dir);
    expect(rep.code).toBe(0);
    expect(summaryTotal('stale')).toBe(4);
    expect(manifest('stale').interrupted).toBeUndefined();
    // merge: the merged results and manifest are in place, the report is not
    const m = await startCli(['merge', 'stale', '--out', 'merged-stale', '--quiet'], dir, { nodeArgs: FULL_DISK, env: { FULL_DISK_REPORT: '1' } }).done;
    expect(m.code).toBe(70);
    expect(resultFiles(join(dir, 'merged-stale'))).toHaveLength(4);
    expect(manifest('merged-stale')).toMatchObject({ interrupted: true });
    expect(existsSync(join(dir, 'merged-stale', 'summary.json'))).toBe(false);
  }, 120_000);
});

describe('a folder written while merge reads it', () => {
  it.each(['delete', 'manifest'] as const)('%s: merge refuses (64, one line) and writes nothing', async (race) => {
    const src = `race-${race}`;
    const first = await runCli(['run', '-c', 'two.config.ts', '--out', src, '--quiet'], dir);
    expect(first.code).toBe(0);
    const m = await startCli(['merge', src, '--out', `${src}-merged`, '--quiet'], dir, { nodeArgs: MERGE_RACE, env: { MERGE_RACE: race } }).done;
    expect(m.stderr).toMatch(new RegExp(`^marginlab: merge: \\S*${src} changed while it was merged \\(another marginlab command wrote it\\); merge again once that command has finished\\n$`));
    expect(m.code).toBe(64);
    expect(existsSync(join(dir, `${src}-merged`))).toBe(false);
  }, 120_000);
});

describe('a signal while the config loads', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s: exit 130 with the one interrupt line, not a config error with a stack (marginlab exits, the config may not)', async (signal) => {
    // a config that takes its time (top-level await) and says when it started
    const marker = join(dir, `loading-${signal}`);
    writeFileSync(
      join(dir, `slow-${signal}.config.mts`),
      `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'x');\nawait new Promise((r) => setTimeout(r, 30_000));\n` +
        `export default ${JSON.stringify({ name: 'slow', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], leverage: [3] })};\n`,
    );
    const { child, done } = startCli(['run', '-c', `slow-${signal}.config.mts`, '--out', `slow-${signal}`], dir);
    await waitFor(() => existsSync(marker), 60_000, 'the config to start loading');
    child.kill(signal);
    const r = await done;
    expect(r.signal).toBeNull();
    // (the output folder is not opened before the config is loaded)
    expect(r.stderr).toBe(`marginlab: interrupted (${signal}); no temp files are left\n`);
    expect(r.code).toBe(130);
    expect(existsSync(join(dir, `slow-${signal}`))).toBe(false);
  }, 120_000);
});

describe('an entry of results/ that is not a file', () => {
  it('a folder or a symbolic link named like a result: run and run --resume refuse it (64, one line) before any work and touch nothing', async () => {
    const first = await runCli(['run', '-c', 'one.config.ts', '--out', 'one', '--quiet'], dir);
    expect(first.code).toBe(0);
    const [a, b] = resultFiles(join(dir, 'one'));
    const results = join(dir, 'one', 'results');
    const summary = read(join(dir, 'one', 'summary.json'));
    // a folder where a result was
    rmSync(join(results, a!));
    mkdirSync(join(results, a!));
    writeFileSync(join(results, a!, 'notes.txt'), 'mine');
    for (const extra of [['--resume'], []]) {
      const r = await runCli(['run', '-c', 'one.config.ts', '--out', 'one', '--quiet', ...extra], dir);
      expect(r.stderr).toBe(`marginlab: ${join(results, a!)} is a folder, not a result marginlab wrote: move it out of that folder (marginlab never deletes it)\n`);
      expect(r.code).toBe(64);
      expect(read(join(results, a!, 'notes.txt'))).toBe('mine');
      expect(read(join(dir, 'one', 'summary.json'))).toBe(summary);
    }
    rmSync(join(results, a!), { recursive: true });
    // a symbolic link where a result was (to a file of the user's)
    writeFileSync(join(dir, 'mine.json'), '{"mine":true}');
    rmSync(join(results, b!));
    symlinkSync(join(dir, 'mine.json'), join(results, b!));
    const r = await runCli(['run', '-c', 'one.config.ts', '--out', 'one', '--resume', '--quiet'], dir);
    expect(r.stderr).toMatch(/^marginlab: \S+ is a symbolic link, not a result marginlab wrote: move it out of that folder \(marginlab never deletes it\)\n$/);
    expect(r.code).toBe(64);
    expect(lstatSync(join(results, b!)).isSymbolicLink()).toBe(true);
    expect(read(join(dir, 'mine.json'))).toBe('{"mine":true}');
  }, 120_000);

  it('a run folder whose results/ is a file: report, compare and merge say so in one line (65), none is an internal error', async () => {
    const first = await runCli(['run', '-c', 'one.config.ts', '--out', 'flat', '--quiet'], dir);
    expect(first.code).toBe(0);
    rmSync(join(dir, 'flat', 'results'), { recursive: true });
    writeFileSync(join(dir, 'flat', 'results'), 'not a folder');
    for (const args of [['report', 'flat'], ['compare', 'flat', 'flat', '--out', 'flat-compare'], ['merge', 'flat', '--out', 'flat-merged']]) {
      const r = await runCli(args, dir);
      expect(r.stderr).toMatch(/^marginlab: cannot read \S*flat\/results: a part of the path is a file, not a folder \(ENOTDIR\); [^\n]*\n$/);
      expect(r.code).toBe(65);
    }
    expect(existsSync(join(dir, 'flat-merged'))).toBe(false);
    // the run folder named is a file: said so (66), not 'does not exist'
    const file = await runCli(['report', join('flat', 'results')], dir);
    expect(file.stderr).toBe(`marginlab: run folder ${join('flat', 'results')} is a file, not a folder (expected a folder written by \`marginlab run\`)\n`);
    expect(file.code).toBe(66);
  }, 120_000);
});

describe('a strategy that throws a huge error', () => {
  it('its result, report and stderr keep at most 1,000 characters of it, on one line', async () => {
    writeConfig(dir, 'big-error.config.ts', {
      name: 'big-error', data: './data', strategyDirs: [join(REPO, 'test', 'fixtures', 'faults', 'strategies')], strategies: ['fixture-throws-big'], leverage: [3], workers: 1,
    });
    const r = await runCli(['run', '-c', 'big-error.config.ts', '--out', 'big-error'], dir);
    expect(r.code).toBe(1);
    // each line naming a failed run (as it fails, then in the list at the end) is short
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('strategy threw'))).toHaveLength(4);
    for (const l of lines) expect(l.length).toBeLessThan(1300);
    for (const f of resultFiles(join(dir, 'big-error'))) {
      const res = JSON.parse(read(join(dir, 'big-error', 'results', f))) as RunResult;
      expect(res.status).toBe('errored');
      expect(res.error).toMatch(/^strategy threw: Error: line 0: x+\\nline 1: x+.*… \([\d,]+ characters\) \(in onBar of the bar at \S+, \S+fixture-throws-big\.ts:\d+:\d+\)$/);
      expect(res.error!.length).toBeLessThan(1300);
    }
    expect(statSync(join(dir, 'big-error', 'summary.json')).size).toBeLessThan(50_000);
  }, 120_000);
});

describe('a strategy that keeps allocating', () => {
  it('ends only its own worker at the heap limit: its runs are errored with the limit and what to do, the others finish, exit 1', async () => {
    writeConfig(dir, 'leak.config.ts', {
      name: 'leak',
      data: './data',
      strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 12] } }, 'fixture-leaks'],
      leverage: [3],
      workers: 2,
      workerMemoryMb: 64,
    });
    const r = await runCli(['run', '-c', 'leak.config.ts', '--out', 'leak', '--quiet'], dir);
    expect(r.code).toBe(1);
    const message = 'worker ran out of memory: its heap limit is 64 MB (workerMemoryMb in the config); raise workerMemoryMb, or fix a strategy that keeps what it allocates';
    const res = resultFiles(join(dir, 'leak')).map((f) => JSON.parse(read(join(dir, 'leak', 'results', f))) as RunResult);
    const leaks = res.filter((x) => x.spec.strategy === 'fixture-leaks');
    const trend = res.filter((x) => x.spec.strategy === 'fixture-trend');
    expect(leaks.length).toBeGreaterThan(0);
    for (const x of leaks) expect(x).toMatchObject({ status: 'errored', error: message });
    expect(trend.length).toBeGreaterThan(0);
    expect(trend.every((x) => x.status === 'ok' && x.bars === 1500)).toBe(true);
    expect(r.stderr).toContain(`fixture-leaks (symbol=AAAUSDT) isolated 3x: ${message}\n`);
    expect(r.stderr).toMatch(new RegExp(`^marginlab: ${leaks.length} runs failed:\n`));
    expect(leftovers(join(dir, 'leak'))).toEqual([]);
  }, 120_000);

  it('the heap limit: the memory the process may use less the data and the main thread, shared by the workers, within a floor and V8\'s own default', () => {
    const MB = 2 ** 20;
    const v8Default = Math.floor(getHeapStatistics().heap_size_limit / MB);
    // a 4 GB container, 4 workers, 200 MB of data: (4096 - 200 - 512) / 4 - 64 = 782
    expect(workerHeapLimit(4, 200 * MB, null, 4096 * MB)).toEqual({ mb: 782, configured: false, memoryMb: 4096, workers: 4 });
    // a small container: never below the floor
    expect(workerHeapLimit(8, 0, null, 1024 * MB).mb).toBe(WORKER_HEAP_FLOOR_MB);
    // a large machine: V8's own default, as before (a run that fitted then still fits)
    expect(workerHeapLimit(1, 0, null, 1024 * 1024 * MB).mb).toBe(v8Default);
    // the config's value as it is
    expect(workerHeapLimit(4, 0, 100, 4096 * MB)).toMatchObject({ mb: 100, configured: true });
    expect(processMemoryBytes()).toBeGreaterThan(0);
    expect(processMemoryBytes()).toBeLessThanOrEqual(totalmem());
    expect(outOfMemoryText(workerHeapLimit(4, 200 * MB, null, 4096 * MB))).toBe(
      'worker ran out of memory: its heap limit is 782 MB (4096 MB this process may use, shared by 4 workers and the data); run with fewer workers (--workers) or set workerMemoryMb in the config, or fix a strategy that keeps what it allocates',
    );
  });
});

describe('the output folder deleted while run writes it', () => {
  it('the folder, its results/ or its lock deleted at the first result: stopped (70, one line naming the folder), never made again, never exit 0', async () => {
    writeConfig(dir, 'slow.config.ts', {
      name: 'slow',
      data: './data',
      strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', grid: { lookback: [4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26] } }],
      leverage: [7],
      workers: 1,
    });
    const tail = 'while marginlab was writing it (a user or a cleanup job?): stopped, nothing more is written there; make sure nothing else removes it, then';
    const cases = [
      { victim: '', what: 'was deleted', again: 'run the command again' },
      { victim: 'results', what: 'lost its results/ (deleted)', again: 'run the command again with --resume to finish it' },
      { victim: '.marginlab.lock', what: 'lost its lock .marginlab.lock (deleted)', again: 'run the command again with --resume to finish it' },
    ];
    // the three cases side by side (each its own folder)
    await Promise.all(
      cases.map(async (c, k) => {
        const out = join(dir, `deleted-${k}`);
        // slowed to 120 µs a bar (not a param: the --resume below runs the same runs at full speed)
        const { done } = startCli(['run', '-c', 'slow.config.ts', '--out', out, '--quiet'], dir, { env: { MARGINLAB_TEST_SPIN_US: '120' } });
        await waitFor(() => resultFiles(out).length >= 1, 60_000, 'the first result');
        // taken away at once (a rename out of the folder, then deleted): an rm -rf racing the run's next
        // write fails with ENOTEMPTY, or lets the run see the lock gone before the folder
        const gone = join(dir, `gone-${k}`);
        renameSync(join(out, c.victim), gone);
        // retried: a result the run was writing as the folder moved can land in gone/results while rmSync empties it
        // (ENOTEMPTY, seen once on a loaded CI machine)
        rmSync(gone, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
        const r = await done;
        expect(r.stderr).toBe(`marginlab: --out ${out} ${c.what} ${tail} ${c.again}; this is not a marginlab bug\n`);
        expect(r.code).toBe(70);
        if (c.victim === '') expect(existsSync(out)).toBe(false);
        else {
          // nothing was made again, no report claims the folder, and the marker stays
          expect(existsSync(join(out, 'results'))).toBe(c.victim !== 'results');
          expect(existsSync(join(out, 'summary.json'))).toBe(false);
          expect(existsSync(join(out, '.marginlab.json'))).toBe(true);
          expect(leftovers(out)).toEqual([]);
          expect((JSON.parse(read(join(out, 'manifest.json'))) as { inProgress?: boolean }).inProgress).toBe(true);
        }
      }),
    );
    // --resume finishes a folder that lost its results/
    const resumed = await runCli(['run', '-c', 'slow.config.ts', '--out', join(dir, 'deleted-1'), '--resume', '--quiet'], dir);
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    expect(resultFiles(join(dir, 'deleted-1'))).toHaveLength(24);
  }, 180_000);
});
