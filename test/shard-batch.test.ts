/**
 * The batch-job machinery a nightly job relies on, through the CLI: Ctrl-C while `run` loads its
 * data and builds its plan, shard specs, merge into a folder holding the user's files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, REPO, resultFiles, runCli, startCli, waitFor, writeConfig } from './fixtures/run/cli.js';
import { manifestText } from '../src/shard/result-schema.js';

let dir: string;
const read = (p: string) => readFileSync(p, 'utf8');
const SLOW_LOAD = join(REPO, 'test', 'fixtures', 'shard', 'slow-load');
/** every file of a folder (relative path → content), marginlab's lock and temp names included */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string) => {
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${f.name}` : f.name;
      if (f.isDirectory()) walk(join(d, f.name), r);
      else out[r] = read(join(d, f.name));
    }
  };
  walk(root, '');
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-batch-'));
  await makeDataset(join(dir, 'data'), { bars: 200, seed: 3 });
  writeConfig(dir, 'b.config.ts', {
    name: 'batch',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES, SLOW_LOAD],
    strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }, 'fixture-slow-load'],
    leverage: [3],
    workers: 1,
  });
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Ctrl-C while run plans', () => {
  it('a run (no --resume) interrupted while it builds its plan leaves the folder of the previous run as it was: exit 130, one line', async () => {
    const out = join(dir, 'prev');
    expect((await runCli(['run', '-c', 'b.config.ts', '--out', 'prev', '--quiet'], dir)).code).toBe(0);
    expect(resultFiles(out)).toHaveLength(6);
    const before = snapshot(out);
    const mark = join(dir, 'planning-prev');
    const go = join(dir, 'go-prev');
    const { child, done } = startCli(['run', '-c', 'b.config.ts', '--out', 'prev', '--quiet'], dir, { env: { MARGINLAB_TEST_LOAD_MARK: mark, MARGINLAB_TEST_LOAD_GO: go } });
    await waitFor(() => existsSync(mark), 60_000, 'the plan being built');
    child.kill('SIGINT');
    writeFileSync(go, '');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted before any run started: nothing in \S*prev was changed\n$/);
    expect(snapshot(out)).toEqual(before);
  }, 120_000);

  it('into a new folder: no folder is left, and the line does not claim results are kept there', async () => {
    const out = join(dir, 'fresh');
    const mark = join(dir, 'planning-fresh');
    const go = join(dir, 'go-fresh');
    const { child, done } = startCli(['run', '-c', 'b.config.ts', '--out', 'fresh'], dir, { env: { MARGINLAB_TEST_LOAD_MARK: mark, MARGINLAB_TEST_LOAD_GO: go } });
    await waitFor(() => existsSync(mark), 60_000, 'the plan being built');
    child.kill('SIGINT');
    writeFileSync(go, '');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^marginlab: interrupted before any run started: nothing in \S*fresh was changed$/);
    expect(r.stderr).not.toMatch(/kept in|run again with --resume/);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});

describe('merge', () => {
  beforeAll(async () => {
    for (const i of [1, 2]) expect((await runCli(['run', '-c', 'b.config.ts', '--shard', `${i}/2`, '--out', `sh-${i}`, '--quiet'], dir)).code).toBe(0);
  }, 120_000);

  it("keeps the user's files in results/ (as run does), refuses a .json there that marginlab did not write (64, before any work)", async () => {
    const { mkdirSync } = await import('node:fs');
    // an earlier merge, then the user's notes in its results/
    expect((await runCli(['merge', 'sh-1', 'sh-2', '--out', 'merged', '--quiet'], dir)).code).toBe(0);
    const res = join(dir, 'merged', 'results');
    writeFileSync(join(res, 'NOTES.md'), 'why run 3 failed');
    mkdirSync(join(res, 'plots'));
    writeFileSync(join(res, 'plots', 'a.svg'), '<svg/>');
    expect((await runCli(['merge', 'sh-1', 'sh-2', '--out', 'merged', '--quiet'], dir)).code).toBe(0);
    expect(read(join(res, 'NOTES.md'))).toBe('why run 3 failed');
    expect(read(join(res, 'plots', 'a.svg'))).toBe('<svg/>');
    expect(resultFiles(join(dir, 'merged'))).toHaveLength(6);
    // a folder marginlab did not write, with --force: its results/ notes stay too
    const foreign = join(dir, 'foreign');
    mkdirSync(join(foreign, 'results'), { recursive: true });
    writeFileSync(join(foreign, 'results', 'keep.txt'), 'mine');
    expect((await runCli(['merge', 'sh-1', 'sh-2', '--out', 'foreign', '--force', '--quiet'], dir)).code).toBe(0);
    expect(read(join(foreign, 'results', 'keep.txt'))).toBe('mine');
    expect(resultFiles(foreign)).toHaveLength(6);
    // a .json of the user's in results/: refused before anything is written, naming it
    writeFileSync(join(res, 'my-analysis.json'), '{}');
    const before = snapshot(join(dir, 'merged'));
    const r = await runCli(['merge', 'sh-1', 'sh-2', '--out', 'merged'], dir);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/^marginlab: \S*merged\/results\/my-analysis\.json is not a result marginlab wrote.*move it out of that folder/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(snapshot(join(dir, 'merged'))).toEqual(before);
  }, 120_000);

  it('an input that is a file, or absent, is named as such (66), nothing written', async () => {
    const { mergeRunFolders } = await import('../src/shard/merge.js');
    const file = join(dir, 'big.ts');
    writeFileSync(file, 'export {}\n');
    await expect(mergeRunFolders([join(dir, 'sh-1'), file], join(dir, 'm-file'))).rejects.toMatchObject({ exitCode: 66, message: `merge: ${file} is a file, not a run folder (merge takes the --out folders of the shards' runs)` });
    await expect(mergeRunFolders([join(dir, 'sh-1'), join(dir, 'nope')], join(dir, 'm-nope'))).rejects.toMatchObject({ exitCode: 66, message: `merge: folder not found: ${join(dir, 'nope')}` });
    // a dataset's folder: one line saying what it is (it was the run manifest schema's ten lines), no details
    const data = join(REPO, 'data', 'binance-usdm-2025');
    const ds = await mergeRunFolders([join(dir, 'sh-1'), data], join(dir, 'm-data')).then(() => null, (e: unknown) => e);
    expect(ds).toMatchObject({ exitCode: 66, message: `merge: ${data} is a dataset (market data), not a run folder: give the folders \`marginlab run\` wrote (the shards' --out)` });
    expect((ds as { details?: string[] }).details ?? []).toEqual([]);
    const { existsSync } = await import('node:fs');
    expect(existsSync(join(dir, 'm-file')) || existsSync(join(dir, 'm-nope')) || existsSync(join(dir, 'm-data'))).toBe(false);
  });

  it('a shard interrupted in its report step (every result written) does not mark the complete merge "interrupted"; a missing run does', async () => {
    const { cpSync, rmSync: rm } = await import('node:fs');
    const { mergeRunFolders } = await import('../src/shard/merge.js');
    const a = join(dir, 'int-1');
    cpSync(join(dir, 'sh-1'), a, { recursive: true });
    const man = JSON.parse(read(join(a, 'manifest.json'))) as Record<string, unknown>;
    writeFileSync(join(a, 'manifest.json'), manifestText({ ...man, interrupted: true }));
    const whole = await mergeRunFolders([a, join(dir, 'sh-2')], join(dir, 'int-merged'));
    expect(whole.missing).toBe(0);
    expect(whole.manifest.interrupted).toBeUndefined();
    // the interrupted shard lacks a run: the merge is incomplete and says so
    rm(join(a, 'results', resultFiles(a)[0]!));
    const part = await mergeRunFolders([a, join(dir, 'sh-2')], join(dir, 'int-merged-2'));
    expect(part.missing).toBe(1);
    expect(part.manifest.interrupted).toBe(true);
  });

  it('merge interrupted while its report is written: exit 130, the line says the merged results are there without a report, the manifest is marked until `report` renders it', async () => {
    const out = join(dir, 'int-report');
    const slow = ['--import', join(REPO, 'test', 'fixtures', 'interrupt', 'slow-report.mjs')];
    const { child, done } = startCli(['merge', 'sh-1', 'sh-2', '--out', 'int-report'], dir, { nodeArgs: slow });
    await waitFor(() => existsSync(out) && readdirSync(out).some((f) => f.startsWith('.report.')), 60_000, 'the report temp folder');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted \(SIGINT\); its temp files are removed; the merged results are in \S*int-report but the report was not written \(`npx marginlab report \S*int-report` writes it\)\n$/);
    expect(resultFiles(out)).toHaveLength(6);
    expect((JSON.parse(read(join(out, 'manifest.json'))) as { interrupted?: boolean }).interrupted).toBe(true);
    expect(readdirSync(out).filter((f) => /\.(tmp|old)$/.test(f) || f === '.marginlab.lock')).toEqual([]);
    expect((await runCli(['report', 'int-report', '--quiet'], dir)).code).toBe(0);
    expect((JSON.parse(read(join(out, 'manifest.json'))) as { interrupted?: boolean }).interrupted).toBeUndefined();
  }, 120_000);

  it('refuses (64) an input folder another marginlab process is writing, naming it and the holder', async () => {
    const { cpSync } = await import('node:fs');
    const { spawn } = await import('node:child_process');
    const busy = join(dir, 'busy-1');
    cpSync(join(dir, 'sh-1'), busy, { recursive: true });
    // a live process of this host holds the folder's lock (as a `run --resume` on it would)
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    try {
      writeFileSync(join(busy, '.marginlab.lock'), `${JSON.stringify({ pid: holder.pid, host: (await import('node:os')).hostname(), startedAt: new Date().toISOString(), command: 'run --resume' })}\n`);
      const r = await runCli(['merge', 'busy-1', 'sh-2', '--out', 'busy-merged'], dir);
      expect(r.code).toBe(64);
      expect(r.stderr).toMatch(new RegExp(`^marginlab: merge: \\S*busy-1 is being written by another marginlab process \\(pid ${holder.pid} .*run --resume\\); wait for it to finish, then merge\\n$`));
      expect(existsSync(join(dir, 'busy-merged'))).toBe(false);
    } finally {
      holder.kill();
    }
  }, 60_000);
});
