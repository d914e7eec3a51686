/**
 * Ctrl-C (SIGINT) and SIGTERM through the CLI (docs/scaling.md, "Interrupted commands"): a command
 * interrupted while it writes removes the temp files and folders it made and the lock it holds,
 * prints one line saying it was interrupted and what is left, and exits 130; `run` interrupted in
 * its report step records "interrupted" in its manifest; a later command removes what a killed
 * one left. Each signal is sent once the command is seen writing (its temp path exists and holds
 * data), and every wait polls with a generous limit, so a slow machine only makes it slower.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, REPO, resultFiles, runCli, startCli, waitFor, writeConfig } from './fixtures/run/cli.js';
import type { RunManifest } from '../src/shard/types.js';

const SLOW_REPORT = ['--import', join(REPO, 'test', 'fixtures', 'interrupt', 'slow-report.mjs')];
const REPORT_FILES = ['summary.json', 'runs.csv', 'report.md', 'report.html', 'trades.csv', 'liquidations.csv'];

let dir: string;
const read = (p: string) => readFileSync(p, 'utf8');

/** marginlab's temp names and locks anywhere under `root` (relative paths) */
function leftovers(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    if (!existsSync(d)) return;
    for (const f of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${f.name}` : f.name;
      if (/^\..*\.(tmp|old)$/.test(f.name) || f.name === '.marginlab.lock') out.push(r);
      else if (f.isDirectory()) walk(join(d, f.name), r);
    }
  };
  walk(root, '');
  return out.sort();
}

/** the entries of `d` whose name matches `re` (none while `d` does not exist: the command may not have made it yet) */
const ls = (d: string): string[] => {
  try {
    return readdirSync(d);
  } catch {
    return [];
  }
};
const temps = (d: string, re: RegExp): string[] => ls(d).filter((f) => re.test(f)).map((f) => join(d, f));
const size = (p: string): number => {
  try {
    return statSync(p).size;
  } catch {
    return 0;
  }
};
/** a `.build.*.tmp` folder of `out` holding a file with data: data synth is writing */
const synthWriting = (out: string) => temps(out, /^\.build\.\d+\.[0-9a-f]{8}\.tmp$/).some((t) => ls(t).some((f) => size(join(t, f)) > 0));
const lastLine = (s: string) => s.trimEnd().split('\n').pop() ?? '';

const bigSynth = (out: string) => ['data', 'synth', '--symbols', '1', '--bars', '6000000', '--timeframe', '1m', '--no-mark', '--out', out];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-interrupt-'));
  await makeDataset(join(dir, 'data'), { bars: 300, seed: 5 });
  writeConfig(dir, 'r.config.ts', {
    name: 'int',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }],
    leverage: [3, 20],
    workers: 1,
  });
  // a CSV of 1.5 M one-minute candles (about 50 MB): its import runs for seconds
  const lines = ['timestamp,open,high,low,close,volume'];
  const t0 = Date.UTC(2020, 0, 1);
  for (let i = 0; i < 1_500_000; i++) lines.push(`${t0 + i * 60_000},100,101,99,100.5,10`);
  writeFileSync(join(dir, 'big.csv'), `${lines.join('\n')}\n`);
  // candles as a Binance public-data file (no header, 12 columns): read and written without a turn of the event loop
  // (one-second candles: 1.5 M of them fit the month the file's name says, as an archive's rows must)
  const kl: string[] = [];
  for (let i = 0; i < 1_500_000; i++) kl.push(`${t0 + i * 1000},100,101,99,100.5,10,${t0 + i * 1000 + 999},1000,5,5,500,0`);
  writeFileSync(join(dir, 'SOLUSDT-1s-2020-01.csv'), `${kl.join('\n')}\n`);
}, 300_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Ctrl-C while a dataset is written', () => {
  it('data synth into a new folder, SIGINT: exit 130, one line, no temp folder, no lock, the folder it created is gone', async () => {
    const out = join(dir, 'synth-new');
    const { child, done } = startCli(bigSynth(out), dir);
    await waitFor(() => synthWriting(out), 180_000, 'data synth to write into its temp folder');
    child.kill('SIGINT');
    const r = await done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted \(SIGINT\); its temp files are removed; \S*synth-new was not created\n$/);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  it('data synth into an existing dataset, SIGTERM: the dataset is as it was, no temp folder, no lock', async () => {
    const out = join(dir, 'synth-old');
    const first = await runCli(['data', 'synth', '--symbols', '1', '--bars', '500', '--timeframe', '1h', '--out', out], dir);
    expect(first.code).toBe(0);
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, read(join(out, f))]));
    const { child, done } = startCli([...bigSynth(out), '--seed', '2'], dir);
    await waitFor(() => synthWriting(out), 180_000, 'data synth to write into its temp folder');
    child.kill('SIGTERM');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted \(SIGTERM\); its temp files are removed; \S*synth-old is as it was before\n$/);
    expect(Object.fromEntries(readdirSync(out).map((f) => [f, read(join(out, f))]))).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });

  /** an import of SOLUSDT 1m candles into `out`, sent SIGINT once its temp file holds bytes */
  const interruptImport = async (args: string[], out: string) => {
    const { child, done } = startCli(['import', ...args, '--out', out], dir);
    await waitFor(() => temps(out, /^\.SOLUSDT-candles-1[ms]\.arrow\.\d+\.[0-9a-f]{8}\.tmp$/).some((t) => size(t) > 0), 180_000, 'the import to write its temp file');
    child.kill('SIGINT');
    return done;
  };

  it('import csv, SIGINT: exit 130, one line, no .arrow temp file, no lock, no dataset folder', async () => {
    const out = join(dir, 'imported');
    const r = await interruptImport(['csv', 'big.csv', '--kind', 'candles', '--symbol', 'SOLUSDT', '--timeframe', '1m'], out);
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted \(SIGINT\); its temp files are removed; \S*imported was not created\n$/);
    expect(existsSync(out)).toBe(false);
    expect(leftovers(dir)).toEqual([]);
  });

  // the Binance (and freqtrade) readers never yield: a signal while they read and write was handled after the commit, the
  // dataset changed under "as it was before" (or it was dropped, exit 0); it now gets its turn before anything is put in place
  it('import binance into an existing dataset, SIGINT while its temp file is written: 130, the dataset as it was, one line', async () => {
    const out = join(dir, 'bn-dataset');
    await makeDataset(out, { bars: 300, seed: 6 });
    const before = Object.fromEntries(readdirSync(out).map((f) => [f, read(join(out, f))]));
    const r = await interruptImport(['SOLUSDT-1s-2020-01.csv', '--format', 'binance'], out);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted \(SIGINT\); its temp files are removed; \S*bn-dataset is as it was before\n$/);
    expect(Object.fromEntries(readdirSync(out).map((f) => [f, read(join(out, f))]))).toEqual(before);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a later command removes what a killed one left (its own temp names, of a dead process), nothing else', async () => {
    const out = join(dir, 'killed');
    const { child, done } = startCli(bigSynth(out), dir);
    await waitFor(() => synthWriting(out), 180_000, 'data synth to write into its temp folder');
    child.kill('SIGKILL'); // no handler runs: the temp folder and the lock stay
    await done;
    const stale = temps(out, /^\.build\./);
    expect(stale).toHaveLength(1);
    expect(existsSync(join(out, '.marginlab.lock'))).toBe(true);
    // look-alikes that are not a dead marginlab process's temp files
    const live = `.BTCUSDT-candles-1m.arrow.${process.pid}.0123abcd.tmp`; // a live process
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const orphanOld = `.gone.arrow.${dead}.0123abcd.old`; // the entry it replaced is missing: maybe the only copy
    for (const f of [live, orphanOld, '.notes.tmp', `.build.${dead}.not-hex.tmp`, 'keep.txt']) writeFileSync(join(out, f), 'user');
    const r = await runCli(['data', 'synth', '--symbols', '1', '--bars', '100', '--timeframe', '1h', '--out', out], dir);
    expect(r.code).toBe(0);
    expect(existsSync(stale[0]!)).toBe(false);
    expect(readdirSync(out).filter((f) => f.startsWith('.') || f === 'keep.txt').sort()).toEqual(
      ['.marginlab.json', '.notes.tmp', `.build.${dead}.not-hex.tmp`, live, orphanOld, 'keep.txt'].sort(),
    );
    rmSync(out, { recursive: true, force: true });
  });
});

describe('Ctrl-C while a report is written', () => {
  it('report, SIGINT: exit 130, one line, no temp folder, no lock; the folder is as it was', async () => {
    const out = join(dir, 'rep');
    const first = await runCli(['run', '-c', 'r.config.ts', '--out', 'rep', '--quiet'], dir);
    expect(first.code).toBe(0);
    for (const f of REPORT_FILES) rmSync(join(out, f), { force: true });
    const before = readdirSync(out).sort();
    const { child, done } = startCli(['report', 'rep'], dir, { nodeArgs: SLOW_REPORT });
    await waitFor(() => temps(out, /^\.report\./).length > 0, 180_000, 'the report temp folder');
    child.kill('SIGINT');
    const r = await done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/^marginlab: interrupted \(SIGINT\); its temp files are removed; \S*rep is as it was before\n$/);
    expect(readdirSync(out).sort()).toEqual(before);
    expect(leftovers(out)).toEqual([]);
  });

  it("run interrupted in its report step: exit 130, results kept, manifest says interrupted, no temp folder, no lock; `report` then renders it", async () => {
    const out = join(dir, 'run-rep');
    const { child, done } = startCli(['run', '-c', 'r.config.ts', '--out', 'run-rep', '--quiet'], dir, { nodeArgs: SLOW_REPORT });
    await waitFor(() => temps(out, /^\.report\./).length > 0, 180_000, 'the report temp folder');
    child.kill('SIGINT');
    const r = await done;
    expect(r.signal).toBeNull();
    expect(r.code).toBe(130);
    expect(lastLine(r.stderr)).toMatch(/^marginlab: interrupted \(SIGINT\); its temp files are removed; the 8 results are kept in \S*run-rep but the report was not written \(`npx marginlab report \S*run-rep` writes it\)$/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const man = JSON.parse(read(join(out, 'manifest.json'))) as RunManifest;
    expect(man.interrupted).toBe(true);
    expect(man.runs).toMatchObject({ total: 8, ok: 8 });
    expect(resultFiles(out)).toHaveLength(8);
    for (const f of REPORT_FILES) expect(existsSync(join(out, f))).toBe(false);
    expect(leftovers(out)).toEqual([]);
    const again = await runCli(['report', 'run-rep', '--quiet'], dir);
    expect(again.code).toBe(0);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    expect(leftovers(out)).toEqual([]);
    // every result is there and the report is now written: the manifest no longer says interrupted
    const after = JSON.parse(read(join(out, 'manifest.json'))) as RunManifest;
    expect(after.interrupted).toBeUndefined();
    // the same manifest otherwise (its digest is taken again)
    expect({ ...after, digest: undefined }).toEqual({ ...man, interrupted: undefined, digest: undefined });
  });
});
