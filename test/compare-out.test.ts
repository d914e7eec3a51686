/**
 * `marginlab compare` writes compare.md / compare.html under the output-folder rules of every
 * command (src/util/outdir.ts): never over a file marginlab did not write, never into a dataset, an
 * input or a foreign folder without --force, never into a folder another process is writing; a
 * compared folder being written is refused, an incomplete one is named in a warning.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runIdOf } from '../src/shard/hash.js';
import type { RunResult } from '../src/shard/types.js';
import type { Comparison } from '../src/compare/index.js';
import { makeManifest, makeResults, writeRunFolder } from './fixtures/report/fixture.js';
import { runCli } from './fixtures/run/cli.js';

let root: string;
const read = (p: string) => readFileSync(p, 'utf8');
// (written now: a lock whose process started after it was written is one of a reused pid, stale)
const lock = (dir: string, pid: number) =>
  writeFileSync(join(dir, '.marginlab.lock'), `${JSON.stringify({ pid, host: hostname(), startedAt: new Date().toISOString(), command: 'run --out cur' })}\n`);
const oneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'ml-compare-out-'));
  const base = makeResults(24 * 10);
  writeRunFolder(join(root, 'base'), base, makeManifest(base, 'nightly'));
  const cur = base.map((r) => JSON.parse(JSON.stringify(r)) as RunResult);
  for (const r of cur) {
    r.spec.engineVersion = '2';
    r.runId = runIdOf(r.spec);
  }
  writeRunFolder(join(root, 'cur'), cur, { ...makeManifest(cur, 'nightly'), engineVersion: '2' });
});

describe('compare output folder', () => {
  it('never replaces a compare.md it did not write: a foreign --out, a user file in the run folder (--force replaces it, then it is marginlab\'s)', async () => {
    mkdirSync(join(root, 'notes2'));
    writeFileSync(join(root, 'notes2', 'compare.md'), 'MY');
    cpSync(join(root, 'cur'), join(root, 'cur-notes'), { recursive: true });
    writeFileSync(join(root, 'cur-notes', 'compare.md'), 'MINE');
    const [foreign, inRun] = await Promise.all([runCli(['compare', 'base', 'cur', '--out', 'notes2'], root), runCli(['compare', 'base', 'cur-notes'], root)]);
    expect([foreign.code, inRun.code]).toEqual([64, 64]);
    expect(foreign.stderr).toMatch(/--out .*notes2 is not empty and was not written by marginlab .*--force/);
    expect(inRun.stderr).toMatch(/current run folder .*cur-notes holds a compare\.md that marginlab did not write; move it away, choose another folder, or add --force/);
    for (const r of [foreign, inRun]) oneLine(r.stderr);
    expect(read(join(root, 'notes2', 'compare.md'))).toBe('MY');
    expect(read(join(root, 'cur-notes', 'compare.md'))).toBe('MINE');
    expect(readdirSync(join(root, 'notes2'))).toEqual(['compare.md']);
    expect(existsSync(join(root, 'cur-notes', 'compare.html'))).toBe(false);
    // --force replaces it; from then on it is marginlab's and is replaced without --force
    const forced = await runCli(['compare', 'base', 'cur-notes', '--force'], root);
    expect(forced.code).toBe(0);
    expect(read(join(root, 'cur-notes', 'compare.md'))).toMatch(/^# marginlab compare/);
    const again = await runCli(['compare', 'base', 'cur-notes'], root);
    expect(again.code).toBe(0);
    expect(readdirSync(join(root, 'cur-notes')).filter((f) => f.endsWith('.tmp') || f.endsWith('.old') || f === '.marginlab.lock')).toEqual([]);
    // files an earlier marginlab wrote before the marker listed them are recognised by their content
    const marker = join(root, 'cur-notes', '.marginlab.json');
    const m = JSON.parse(read(marker)) as { entries: string[] };
    writeFileSync(marker, JSON.stringify({ ...m, entries: m.entries.filter((e) => !e.startsWith('compare.')) }));
    const upgraded = await runCli(['compare', 'base', 'cur-notes'], root);
    expect(upgraded.code, upgraded.stderr).toBe(0);
  });

  it('refuses datasets (marker or not, even with --force), the inputs and what holds them; --force writes into a foreign folder touching nothing else', async () => {
    // two datasets alike, one for the plain try and one for --force: the two commands run at once, and one
    // holding a folder's lock while it judges it is refused to the other as "being written by another process"
    for (const ft of ['ft', 'ft2']) {
      mkdirSync(join(root, 'data', ft), { recursive: true });
      writeFileSync(join(root, 'data', ft, 'manifest.json'), JSON.stringify({ format: 'marginlab-dataset', version: 1, files: [] }));
      writeFileSync(join(root, 'data', ft, 'BTCUSDT-candles-1h.arrow'), 'arrow');
    }
    mkdirSync(join(root, 'data', 'marked'));
    writeFileSync(join(root, 'data', 'marked', 'a.arrow'), 'arrow');
    writeFileSync(join(root, 'data', 'marked', '.marginlab.json'), JSON.stringify({ tool: 'marginlab', kind: 'dataset', entries: ['a.arrow'] }));
    mkdirSync(join(root, 'mine'));
    writeFileSync(join(root, 'mine', 'todo.txt'), 'mine');
    const [ds, dsForce, marked, isBase, inCur, holds, foreign] = await Promise.all([
      runCli(['compare', 'base', 'cur', '--out', 'data/ft'], root),
      runCli(['compare', 'base', 'cur', '--out', 'data/ft2', '--force'], root),
      runCli(['compare', 'base', 'cur', '--out', 'data/marked', '--force'], root),
      runCli(['compare', 'base', 'cur', '--out', 'base'], root),
      runCli(['compare', 'base', 'cur', '--out', 'cur/cmp'], root),
      runCli(['compare', 'base', 'cur', '--out', '.', '--force'], root),
      runCli(['compare', 'base', 'cur', '--out', 'mine'], root),
    ]);
    expect([ds.code, dsForce.code, marked.code, isBase.code, inCur.code, holds.code, foreign.code]).toEqual([64, 64, 64, 64, 64, 64, 64]);
    expect(ds.stderr).toMatch(/--out .*data\/ft is a marginlab dataset, not a compare folder or run folder; choose another folder/);
    expect(dsForce.stderr).toMatch(/data\/ft2 is a marginlab dataset/);
    expect(marked.stderr).toMatch(/data\/marked is a marginlab dataset/);
    expect(isBase.stderr).toMatch(/--out .*base is the baseline run folder .*choose an output folder outside it/);
    expect(inCur.stderr).toMatch(/--out .*cmp is inside the current run folder/);
    expect(holds.stderr).toMatch(/contains the baseline run folder/);
    expect(foreign.stderr).toMatch(/--out .*mine is not empty and was not written by marginlab/);
    for (const r of [ds, dsForce, marked, isBase, inCur, holds, foreign]) oneLine(r.stderr);
    for (const ft of ['ft', 'ft2']) expect(readdirSync(join(root, 'data', ft)).sort()).toEqual(['BTCUSDT-candles-1h.arrow', 'manifest.json']);
    expect(readdirSync(join(root, 'data', 'marked')).sort()).toEqual(['.marginlab.json', 'a.arrow']);
    expect(existsSync(join(root, 'base', 'compare.md'))).toBe(false);
    expect(existsSync(join(root, 'cur', 'cmp'))).toBe(false);
    expect(existsSync(join(root, 'compare.md'))).toBe(false);
    const forced = await runCli(['compare', 'base', 'cur', '--out', 'mine', '--force'], root);
    expect(forced.code).toBe(0);
    expect(readdirSync(join(root, 'mine')).filter((f) => !f.startsWith('.')).sort()).toEqual(['compare.html', 'compare.md', 'todo.txt']);
    expect(read(join(root, 'mine', 'todo.txt'))).toBe('mine');
    // a new folder becomes a compare folder: written again without --force
    const fresh = await runCli(['compare', 'base', 'cur', '--out', 'cmp/new'], root);
    const fresh2 = await runCli(['compare', 'base', 'cur', '--out', 'cmp/new'], root);
    expect([fresh.code, fresh2.code]).toEqual([0, 0]);
    expect(JSON.parse(read(join(root, 'cmp', 'new', '.marginlab.json')))).toEqual({ tool: 'marginlab', kind: 'compare', entries: ['compare.html', 'compare.md'] });
  });
});

describe('compared folders', () => {
  const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

  it('a folder another marginlab process is writing is refused (default output or not); a stale lock is not', async () => {
    cpSync(join(root, 'cur'), join(root, 'busy'), { recursive: true });
    lock(join(root, 'busy'), process.pid); // this test process: alive, on this host
    const [cur, base] = await Promise.all([runCli(['compare', 'base', 'busy'], root), runCli(['compare', 'busy', 'cur', '--out', 'cmp/busy'], root)]);
    expect([cur.code, base.code]).toEqual([64, 64]);
    expect(cur.stderr).toMatch(new RegExp(`current run folder .*busy is being written by another marginlab process \\(pid ${process.pid} on .*: run --out cur\\); wait for it to finish, then compare`));
    expect(base.stderr).toMatch(/baseline run folder .*busy is being written by another marginlab process/);
    for (const r of [cur, base]) oneLine(r.stderr);
    expect(existsSync(join(root, 'busy', 'compare.md'))).toBe(false);
    expect(existsSync(join(root, 'cmp', 'busy'))).toBe(false);
    lock(join(root, 'busy'), deadPid());
    const stale = await runCli(['compare', 'base', 'busy'], root);
    expect(stale.code).toBe(0);
    expect(existsSync(join(root, 'busy', 'compare.md'))).toBe(true);
    expect(existsSync(join(root, 'busy', '.marginlab.lock'))).toBe(false);
  });

  it('an incomplete folder (interrupted, planned runs without a result) is compared with a warning, in the terminal, compare.md/html and --json', async () => {
    cpSync(join(root, 'cur'), join(root, 'half'), { recursive: true });
    const m = JSON.parse(read(join(root, 'half', 'manifest.json'))) as Record<string, unknown>;
    writeFileSync(join(root, 'half', 'manifest.json'), JSON.stringify({ ...m, inProgress: true }));
    const files = readdirSync(join(root, 'half', 'results')).sort();
    for (const f of files.slice(0, 2)) rmSync(join(root, 'half', 'results', f));
    const warning = new RegExp(`warning: the current folder .*half is incomplete: the run writing it did not finish \\(interrupted or killed\\); 2 of the ${files.length} planned runs have no result`);
    const text = await runCli(['compare', 'base', 'half'], root);
    expect(text.code).toBe(0);
    expect(text.stderr).toMatch(warning);
    expect(text.stderr).toMatch(/finish it \(`npx marginlab run --resume (-c \S+ )?--out half`, or merge the missing shards\)/);
    oneLine(text.stderr);
    expect(text.stdout).toMatch(/result: pass \(of incomplete folders\)/);
    expect(read(join(root, 'half', 'compare.md'))).toMatch(warning);
    expect(read(join(root, 'half', 'compare.html'))).toMatch(warning);
    const json = await runCli(['compare', 'base', 'half', '--json', '--fail-on', 'missing>0'], root);
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(warning);
    const c = JSON.parse(json.stdout) as Comparison;
    expect(c.current).toMatchObject({ interrupted: true, missing: 2, planned: files.length, runs: files.length - 2 });
    expect(c.baseline).toMatchObject({ interrupted: false, missing: 0 });
    // a complete pair: no warning
    const ok = await runCli(['compare', 'base', 'cur', '--out', 'cmp/ok'], root);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe('');
  });

  it('a shard folder compared with a whole folder is incomplete (its own runs were all there, so it passed as complete and the rest read as specs changed); shard with the same shard is not', async () => {
    const ids = readdirSync(join(root, 'cur', 'results')).map((f) => f.slice(0, 16)).sort();
    const mine = ids.slice(0, Math.ceil(ids.length / 2));
    for (const name of ['shard-a', 'shard-b']) {
      cpSync(join(root, 'cur'), join(root, name), { recursive: true });
      const m = JSON.parse(read(join(root, name, 'manifest.json'))) as Record<string, unknown>;
      writeFileSync(join(root, name, 'manifest.json'), JSON.stringify({ ...m, shard: { index: 1, count: 2 }, runIds: mine, runs: { total: mine.length, ok: mine.length, errored: 0 } }));
      for (const id of ids.slice(mine.length)) rmSync(join(root, name, 'results', `${id}.json`));
    }
    const r = await runCli(['compare', 'base', 'shard-a', '--fail-on', 'liquidations>+0'], root);
    expect(r.stderr).toMatch(/warning: the current folder .*shard-a is incomplete: it is shard 1\/2 of its plan: the runs of the other shards are not in it; its runs are compared as they are/);
    expect(r.stderr).not.toMatch(/changed parameter default/);
    oneLine(r.stderr);
    expect(r.stdout).toMatch(/result: (pass|FAIL) \(of incomplete folders\)/);
    const same = await runCli(['compare', 'shard-a', 'shard-b'], root);
    expect(same.code).toBe(0);
    expect(same.stderr).toBe('');
  });

  it('no run pairs and no --fail-on rule: said (it passed in silence, having compared nothing)', async () => {
    const r = await runCli(['compare', 'base', 'cur'], root);
    expect(r.stderr).toBe('');
    const other = makeResults(24 * 10).map((x) => {
      x.spec.execution = { ...x.spec.execution, slippageBps: 7 };
      x.runId = runIdOf(x.spec);
      return x;
    });
    writeRunFolder(join(root, 'other-spec'), other, makeManifest(other, 'nightly'));
    const none = await runCli(['compare', 'base', 'other-spec'], root);
    expect(none.stderr).toMatch(/^marginlab: warning: no run of the current folder .*other-spec pairs with one of the baseline's \d+ .*; nothing was compared; add missing>0 to --fail-on to fail the gate on them\n$/);
  });
});
