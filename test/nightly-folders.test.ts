/**
 * The unattended nightly path through the CLI: what a folder's manifest records and what `--resume`
 * and `merge` keep when a folder is not as marginlab left it.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, REPO, resultFiles, runCli, writeConfig } from './fixtures/run/cli.js';

let dir: string;
const read = (p: string) => readFileSync(p, 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-nightly-'));
  await makeDataset(join(dir, 'data'), { bars: 300, seed: 5 });
  // a strategy folder of the user's own, whose code the test changes
  mkdirSync(join(dir, 'strategies'));
  const src = read(join(FIXTURE_STRATEGIES, 'fixture-trend.ts'))
    .replace("'../../../../src/strategy/types.js'", `'${join(REPO, 'src', 'strategy', 'types.js')}'`)
    .replace("from 'zod'", `from '${join(REPO, 'node_modules', 'zod', 'index.js')}'`);
  writeFileSync(join(dir, 'strategies', 'fixture-trend.ts'), src);
  writeConfig(dir, 'n.config.ts', {
    name: 'n',
    data: './data',
    strategyDirs: ['./strategies'],
    strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }],
    leverage: [3],
    workers: 1,
  });
}, 120_000);

describe('--resume into a folder whose manifest.json is missing', () => {
  it('says that the strategy code of the kept results cannot be checked, as for a damaged manifest', async () => {
    const first = await runCli(['run', '-c', 'n.config.ts', '--out', 'M', '--quiet'], dir);
    expect(first.code, first.stderr).toBe(0);
    const kept = resultFiles(join(dir, 'M'));
    expect(kept.length).toBeGreaterThan(0);
    // the strategy changes; the folder's manifest is gone (deleted, or not copied along with results/)
    const file = join(dir, 'strategies', 'fixture-trend.ts');
    writeFileSync(file, read(file).replace('now > then ? qty : -qty', 'now > then ? -qty : qty'));
    rmSync(join(dir, 'M', 'manifest.json'));
    const resumed = await runCli(['run', '-c', 'n.config.ts', '--out', 'M', '--resume'], dir);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(
      `marginlab: warning: --resume: ${join(dir, 'M', 'manifest.json')} is missing beside the results in ${join(dir, 'M', 'results')}; every result is checked against this plan and the manifest written again ` +
        '(the strategy code the results were made with cannot be checked: run without --resume if a strategy file changed since)',
    );
    expect(resultFiles(join(dir, 'M'))).toEqual(kept);
    // a folder without results says nothing
    cpSync(join(dir, 'M'), join(dir, 'E'), { recursive: true });
    rmSync(join(dir, 'E', 'manifest.json'));
    rmSync(join(dir, 'E', 'results'), { recursive: true });
    const empty = await runCli(['run', '-c', 'n.config.ts', '--out', 'E', '--resume'], dir);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stderr).not.toContain('warning');
  });
});

describe('a comparison written into a run folder goes with the results it compared', () => {
  it('a fresh run and a merge into the folder remove the compare.md and compare.html marginlab wrote there; a compare.md of the user stays', async () => {
    const [c, s1, s2] = await Promise.all([
      runCli(['run', '-c', 'n.config.ts', '--out', 'C', '--quiet'], dir),
      runCli(['run', '-c', 'n.config.ts', '--shard', '1/2', '--out', 'S1', '--quiet'], dir),
      runCli(['run', '-c', 'n.config.ts', '--shard', '2/2', '--out', 'S2', '--quiet'], dir),
    ]);
    expect([c.code, s1.code, s2.code], c.stderr + s1.stderr + s2.stderr).toEqual([0, 0, 0]);
    const marker = () => (JSON.parse(read(join(dir, 'C', '.marginlab.json'))) as { entries: string[] }).entries;
    const compared = async () => {
      const cmp = await runCli(['compare', 'S1', 'C'], dir);
      expect(cmp.code, cmp.stderr).toBe(0);
      expect(existsSync(join(dir, 'C', 'compare.md'))).toBe(true);
      expect(marker()).toEqual(expect.arrayContaining(['compare.md', 'compare.html']));
    };
    // the folder run again: the comparison was of the results the run cleared
    await compared();
    const again = await runCli(['run', '-c', 'n.config.ts', '--out', 'C', '--quiet'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(join(dir, 'C', 'compare.md'))).toBe(false);
    expect(existsSync(join(dir, 'C', 'compare.html'))).toBe(false);
    expect(marker()).not.toContain('compare.md');
    // a merge into the folder replaces its results: the same
    await compared();
    const merged = await runCli(['merge', 'S1', '--out', 'C', '--quiet'], dir);
    expect(merged.code, merged.stderr).toBe(1); // one shard of two: runs missing
    expect(existsSync(join(dir, 'C', 'compare.md'))).toBe(false);
    expect(existsSync(join(dir, 'C', 'compare.html'))).toBe(false);
    expect(marker()).not.toContain('compare.html');
    // a compare.md of the user's own is never touched
    writeFileSync(join(dir, 'C', 'compare.md'), 'my notes\n');
    const mine = await runCli(['run', '-c', 'n.config.ts', '--out', 'C', '--quiet'], dir);
    expect(mine.code, mine.stderr).toBe(0);
    expect(read(join(dir, 'C', 'compare.md'))).toBe('my notes\n');
  });
});

describe('--resume records the commit its kept results were made at', () => {
  it('a resume at another commit than the kept results records none, and what it kept under resumedFrom; at the same commit that commit', async () => {
    // a project of its own in a git repository (the config's folder decides the commit a run records)
    const proj = join(dir, 'git-project');
    mkdirSync(proj);
    cpSync(join(dir, 'data'), join(proj, 'data'), { recursive: true });
    cpSync(join(dir, 'strategies'), join(proj, 'strategies'), { recursive: true });
    cpSync(join(dir, 'n.config.ts'), join(proj, 'n.config.ts'));
    const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=t@example.org', '-c', 'user.name=t', '-c', 'commit.gpgsign=false', ...args], { cwd: proj, encoding: 'utf8' }).trim();
    git('init', '-q');
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    const c1 = git('rev-parse', 'HEAD');
    const manifest = () => JSON.parse(read(join(proj, 'R', 'manifest.json'))) as { gitCommit: string | null; resumedFrom?: { runs: number; gitCommit?: string } };
    const first = await runCli(['run', '-c', 'n.config.ts', '--out', 'R', '--quiet'], proj);
    expect(first.code, first.stderr).toBe(0);
    expect(manifest().gitCommit).toBe(c1);
    expect(manifest().resumedFrom).toBeUndefined();
    const n = resultFiles(join(proj, 'R')).length;
    // one result gone, resumed at the same commit: the commit stays
    rmSync(join(proj, 'R', 'results', resultFiles(join(proj, 'R'))[0]!));
    const same = await runCli(['run', '-c', 'n.config.ts', '--out', 'R', '--quiet', '--resume'], proj);
    expect(same.code, same.stderr).toBe(0);
    expect(manifest()).toMatchObject({ gitCommit: c1, resumedFrom: { runs: n - 1, gitCommit: c1 } });
    // an unrelated commit later, a resume that runs nothing: the results are of c1, not of the new HEAD
    writeFileSync(join(proj, 'notes.txt'), 'x\n');
    git('add', 'notes.txt');
    git('commit', '-q', '-m', 'two');
    const c2 = git('rev-parse', 'HEAD');
    expect(c2).not.toBe(c1);
    const later = await runCli(['run', '-c', 'n.config.ts', '--out', 'R', '--quiet', '--resume'], proj);
    expect(later.code, later.stderr).toBe(0);
    expect(manifest()).toMatchObject({ gitCommit: null, resumedFrom: { runs: n, gitCommit: c1 } });
    // and a fresh run at c2 records c2 alone
    const fresh = await runCli(['run', '-c', 'n.config.ts', '--out', 'R', '--quiet'], proj);
    expect(fresh.code, fresh.stderr).toBe(0);
    expect(manifest().gitCommit).toBe(c2);
    expect(manifest().resumedFrom).toBeUndefined();
  });
});
