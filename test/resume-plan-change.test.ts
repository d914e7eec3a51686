/**
 * `--resume` into a folder of another plan says what changed and which command resumes it: the
 * folder of an interrupted `marginlab stress --paths N` resumed with `marginlab run`, or with
 * `marginlab stress` and other --paths, used to be told only "the config, data or --shard changed".
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, writeConfig } from './fixtures/run/cli.js';
import { loadConfig, type ConfigOverrides } from '../src/config/index.js';
import { runSweep } from '../src/shard/run.js';
import { createProgress } from '../src/shard/progress.js';
import { UserError } from '../src/errors.js';
import { compareFolders } from '../src/compare/index.js';
import { incompleteLines } from '../src/compare/render.js';
import { mergeRunFolders } from '../src/shard/merge.js';
import { resumeCommand } from '../src/shard/plan-change.js';
import { manifestText } from '../src/shard/result-schema.js';

let dir: string;
let cfg: string;
const sweep = async (overrides: ConfigOverrides, resume: boolean, shard: { index: number; count: number } | null = null) =>
  runSweep({ loaded: await loadConfig(cfg, overrides), outDir: join(dir, 'out'), shard, resume, progress: createProgress('quiet') });
const refusal = async (overrides: ConfigOverrides, shard: { index: number; count: number } | null = null): Promise<UserError> => {
  try {
    await sweep(overrides, true, shard);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return e as UserError;
  }
  throw new Error('--resume was not refused');
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-resume-plan-'));
  await makeDataset(join(dir, 'data'), { bars: 120, seed: 4 });
  cfg = writeConfig(dir, 'r.config.ts', {
    name: 'r',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }],
    leverage: [3],
  });
  // the folder of `marginlab stress --paths 1 --scenarios alt-wick`
  const out = await sweep({ stress: { paths: 1, scenarios: ['alt-wick'] } }, false);
  expect(out.ok).toBeGreaterThan(2);
});

describe('--resume into a folder of another plan', () => {
  it('a stress folder resumed by `run`: names the stress command and its flags (64)', async () => {
    const e = await refusal({});
    expect(e.exitCode).toBe(64);
    expect(e.message).toContain('holds the stress runs of `marginlab stress --paths 1 --seed 1 --scenarios alt-wick`');
    // the whole command, as compare and merge give it: without the config file and --out it would resume another folder
    expect(e.message).toContain(`resume it with \`npx marginlab stress --resume --paths 1 --seed 1 --scenarios alt-wick -c ${cfg} --out ${join(dir, 'out')}\``);
    expect(e.message).not.toContain('\n');
  });

  it('a stress folder resumed with other --paths: names the flag and both values', async () => {
    const e = await refusal({ stress: { paths: 3, scenarios: ['alt-wick'] } });
    expect(e.message).toContain('planned with --paths 1 (this command: 3)');
    expect(e.message).toContain(`resume it with \`npx marginlab stress --resume --paths 1 --seed 1 --scenarios alt-wick -c ${cfg} --out ${join(dir, 'out')}\``);
    expect(e.message).not.toContain('--seed 1 (this command');
  });

  it('another config key or --shard: named', async () => {
    const e = await refusal({ stress: { paths: 1, scenarios: ['alt-wick'] }, from: '2025-01-02' }, { index: 1, count: 2 });
    // set by this command's flag, not by the config: said as the flag
    expect(e.message).toContain("this command's plan differs in from (this command's --from 2025-01-02)");
    expect(e.message).not.toContain('the config differs');
    expect(e.message).toContain('the folder was run with no --shard, this command with --shard 1/2');
    expect(e.message).toMatch(/otherwise run without --resume to replace/);
  });

  it('a folder run with --from/--to/--strategies resumed without them: names the flags and the command that resumes it', async () => {
    const out = join(dir, 'window');
    const win = { strategies: ['fixture-trend'], from: '2025-01-02', to: '2025-01-04' };
    await runSweep({ loaded: await loadConfig(cfg, win), outDir: out, shard: null, resume: false, progress: createProgress('quiet') });
    let e: unknown;
    try {
      await runSweep({ loaded: await loadConfig(cfg, {}), outDir: out, shard: null, resume: true, progress: createProgress('quiet') });
    } catch (err) {
      e = err;
    }
    expect(e).toBeInstanceOf(UserError);
    const m = (e as UserError).message;
    expect(m).toContain(`the config differs in from, to (the folder was run with --from 2025-01-02 --to 2025-01-04); resume it with \`npx marginlab run --resume -c ${cfg} --strategies fixture-trend --from 2025-01-02 --to 2025-01-04 --out ${out}\``);
    expect(m).not.toContain('\n');
    // a key the flags did not set as well: the flags named, no resume command (the config file itself changed)
    const cfg5 = writeConfig(dir, 'r5.config.ts', { name: 'r', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }], leverage: [5] });
    let e5: unknown;
    try {
      await runSweep({ loaded: await loadConfig(cfg5, { strategies: ['fixture-trend'] }), outDir: out, shard: null, resume: true, progress: createProgress('quiet') });
    } catch (err) {
      e5 = err;
    }
    expect((e5 as UserError).message).toContain('the config differs in from, leverage, to (the folder was run with --from 2025-01-02 --to 2025-01-04); otherwise run without --resume');
  });

  it('compare and merge name the command that finishes an interrupted stress folder', async () => {
    const half = join(dir, 'half');
    cpSync(join(dir, 'out'), half, { recursive: true });
    const mp = join(half, 'manifest.json');
    writeFileSync(mp, manifestText({ ...(JSON.parse(readFileSync(mp, 'utf8')) as object), inProgress: true }));
    const c = compareFolders(join(dir, 'out'), half, []);
    const lines = incompleteLines(c, true);
    expect(lines).toHaveLength(1);
    // the config file is not the working folder's backtest.config.ts: the command names it
    expect(lines[0]).toContain(`finish it (\`npx marginlab stress --resume --paths 1 --seed 1 --scenarios alt-wick -c ${cfg} --out ${half}\`, or merge the missing shards)`);
    expect(incompleteLines(c)[0]).not.toContain('finish it');
    await expect(mergeRunFolders([half], join(dir, 'merged'))).rejects.toThrow(`finish it with \`npx marginlab stress --resume --paths 1 --seed 1 --scenarios alt-wick -c ${cfg} --out ${half}\` first`);
  });

  it('the command that finishes a folder repeats the flags that made its plan (--strategies, --from, --to) and the config file', async () => {
    const out = join(dir, 'flags out');
    // (--max-runs too: a plan above the file's maxRuns is refused without it)
    await runSweep({ loaded: await loadConfig(cfg, { strategies: ['fixture-trend'], from: '2025-01-02', maxRuns: 5000 }), outDir: out, shard: { index: 1, count: 2 }, resume: false, progress: createProgress('quiet') });
    const mp = join(out, 'manifest.json');
    const m = JSON.parse(readFileSync(mp, 'utf8')) as Record<string, unknown>;
    expect(m.command).toEqual({ config: cfg, strategies: ['fixture-trend'], from: '2025-01-02', maxRuns: 5000 });
    writeFileSync(mp, manifestText({ ...m, inProgress: true }));
    const hint = incompleteLines(compareFolders(out, out, []), true)[0]!;
    expect(hint).toContain(`\`npx marginlab run --resume -c ${cfg} --strategies fixture-trend --from 2025-01-02 --max-runs 5000 --shard 1/2 --out '${out}'\``);
    // from the config's folder: the config is its backtest.config.ts or named relative to it
    expect(resumeCommand(null, 'o', null, { config: join(dir, 'backtest.config.ts') }, dir)).toBe('npx marginlab run --resume --out o');
    expect(resumeCommand(null, 'o', null, { config: cfg }, dir)).toBe('npx marginlab run --resume -c r.config.ts --out o');
  });
});

describe('--resume after an edit of the config stress block', () => {
  it('names the scenario defined anew under the same id and the changed keys, not "--scenarios mine (this command: mine)" with a resume command that cannot give it back', async () => {
    const { resolveConfig } = await import('../src/config/index.js');
    const { describePlanChange } = await import('../src/shard/plan-change.js');
    const conf = (depth: number, extra: Record<string, unknown> = {}) =>
      resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { scenarios: [{ id: 'mine', symbols: { BTC: { depth, duration: '1h' } } }], crashesPerPath: 1, paths: 2, ...extra } } as never, { configDir: '/tmp' });
    const a = await conf(-0.3);
    const edited = describePlanChange(a, null, await conf(-0.4), null, { dir: '/tmp/out' });
    expect(edited).toBe("the config's stress block changed (the definition of scenario 'mine')");
    expect(edited).not.toContain('--scenarios mine (this command: mine)');
    expect(describePlanChange(a, null, await conf(-0.4, { inject: { every: 10 }, paths: 3 }), null, { dir: '/tmp/out' })).toBe(
      "the config's stress block changed (the definition of scenario 'mine', stress.inject), and the folder's stress runs were planned with --paths 2 (this command: 3)",
    );
    // what the flags set alone still comes with the command that resumes the folder
    expect(describePlanChange(a, null, await conf(-0.3, { paths: 3 }), null, { dir: '/tmp/out' })).toMatch(/^the folder's stress runs were planned with --paths 2 \(this command: 3\); resume it with `.*stress --resume --paths 2 --seed 1 --scenarios mine --out \/tmp\/out`$/);
  });

  it('--scenarios alone is a flag change with its resume command, not "the config\'s stress block changed (stress.crashScenarios)" (the crash pool defaults to the scenarios)', async () => {
    const { resolveConfig } = await import('../src/config/index.js');
    const { describePlanChange } = await import('../src/shard/plan-change.js');
    const conf = (scenarios?: string[], crashScenarios?: string[]) =>
      resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { crashesPerPath: 1, paths: 2, ...(scenarios ? { scenarios } : {}), ...(crashScenarios ? { crashScenarios } : {}) } } as never, { configDir: '/tmp' });
    const all = await conf();
    expect(describePlanChange(all, null, await conf(['alt-wick']), null, { dir: '/tmp/out' })).toMatch(
      /^the folder's stress runs were planned with --scenarios crash-2025-10-10,crash-2021-05-19,crash-2020-03-12,alt-wick,correlation-break \(this command: alt-wick\); resume it with `.*stress --resume --paths 2 --seed 1 --scenarios crash-2025-10-10,crash-2021-05-19,crash-2020-03-12,alt-wick,correlation-break --out \/tmp\/out`$/,
    );
    // a crash pool the config gives is a config key, still named
    expect(describePlanChange(all, null, await conf(undefined, ['alt-wick']), null, { dir: '/tmp/out' })).toBe("the config's stress block changed (stress.crashScenarios)");
  });
});

describe('--resume into a folder whose config, shard and data are this command\'s but whose plan is not', () => {
  it('names the engine, a strategy\'s code or marginlab\'s planning, not "the data files changed"; a reordered list is no change', async () => {
    const { resolveConfig } = await import('../src/config/index.js');
    const { describePlanChange } = await import('../src/shard/plan-change.js');
    const conf = (scenarios: string[], paths = 2) =>
      resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { scenarios, crashesPerPath: 1, paths } } as never, { configDir: '/tmp' });
    const a = await conf(['alt-wick', 'crash-2020-03-12']);
    const b = await conf(['crash-2020-03-12', 'alt-wick']);
    const data = [{ name: 'd', hashes: { f: 'h' } }];
    const inputs = (over: Record<string, unknown> = {}) => ({ folder: { datasets: data, engineVersion: 'E', strategyHashes: { 'buy-and-hold': 'c' } }, command: { datasets: data, engineVersion: 'E', strategyHashes: { 'buy-and-hold': 'c' }, ...over } });
    // the same set of scenarios in another order: not named as a change (paths draw their crashes in id order)
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' }, {}, inputs())).toBe(
      'its config, shard, data and strategy code are this command\'s, but an earlier marginlab planned them otherwise (docs/stress.md, "Runs, RunIds, shards", lists such changes): resume it with the marginlab that wrote it',
    );
    expect(describePlanChange(a, null, await conf(['crash-2020-03-12', 'alt-wick'], 3), null, { dir: '/tmp/out' })).toMatch(/^the folder's stress runs were planned with --paths 2 \(this command: 3\); resume it with/);
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' }, {}, inputs({ engineVersion: 'F' }))).toBe("its runs are of engine E, this command's of engine F");
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' }, {}, inputs({ strategyHashes: { 'buy-and-hold': 'd' } }))).toBe("the code of strategy 'buy-and-hold' changed");
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' }, {}, inputs({ datasets: [{ name: 'd', hashes: { f: 'other' } }] }))).toBe('the data files changed');
    // a strategy file added to the strategy folders of `strategies: 'all'` (it said an earlier marginlab planned them otherwise)
    const found = (folder: string[], command: string[]) => ({ folder: { ...inputs().folder, strategies: folder }, command: { ...inputs().command, strategies: command } });
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' }, {}, found(['buy-and-hold'], ['bar', 'buy-and-hold']))).toBe(
      "the strategies it plans changed (strategy 'bar' only in this command: a strategy file added to or removed from its strategy folders)",
    );
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' }, {}, found(['a', 'b', 'buy-and-hold'], ['buy-and-hold', 'c']))).toMatch(/^the strategies it plans changed \(strategies 'a', 'b' only in the folder; strategy 'c' only in this command:/);
    expect(describePlanChange(a, null, b, null, { dir: '/tmp/out' })).toBe('the data files changed');
  });
});
