/**
 * The CLI flags and outputs not covered by cli-run.test.ts: `run --strategies/--from/--to`
 * (selection and their usage errors), `merge --json/--quiet`, its missing-runs warning and exit
 * codes, `strategies` (text, --json, --dir), and the internal-error path of src/cli/main.ts (exit 70).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { BIN, FIXTURE_STRATEGIES, resultFiles, runCli, startCli, writeConfig, type CliResult } from './fixtures/run/cli.js';
import type { RunResult } from '../src/shard/types.js';

let dir: string;
const results = (out: string) => resultFiles(out).map((f) => JSON.parse(readFileSync(join(out, 'results', f), 'utf8')) as RunResult);
const H = 3_600_000;
const START = Date.UTC(2025, 0, 1);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-flags-'));
  await makeDataset(join(dir, 'data'), { bars: 300, seed: 3 });
  writeConfig(dir, 'flags.config.ts', {
    name: 'flags',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 12] } }],
    leverage: [3],
    workers: 1,
    output: { formats: ['json'] },
  });
  writeConfig(dir, 'throws.config.ts', {
    name: 'throws',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-throws', params: { at: 100 } }],
    setups: ['cross'],
    workers: 1,
    output: { formats: ['json'] },
  });
});

describe('marginlab run: --strategies, --from, --to', () => {
  it('select strategies and the replay window; malformed values are usage errors (64)', async () => {
    const run = (args: string[]) => runCli(['run', '-c', 'flags.config.ts', '--quiet', ...args], dir);
    const [only, window, emptyList, badTo] = await Promise.all([
      // a name the config does not list runs with its default params
      run(['--strategies', 'fixture-throws', '--out', 'only']),
      run(['--from', '2025-01-03', '--to', '2025-01-05T00:00:00Z', '--out', 'window']),
      run(['--strategies', ' , ']),
      run(['--to', 'next week']),
    ]);
    expect([only.code, window.code]).toEqual([0, 0]);
    const o = results(join(dir, 'only'));
    expect(o.map((r) => [r.spec.strategy, r.spec.setup, r.spec.params.at]).sort()).toEqual([
      ['fixture-throws', 'cross', 1000],
      ['fixture-throws', 'isolated', 1000],
    ]);
    const w = results(join(dir, 'window'));
    expect(w).toHaveLength(2 * 2);
    for (const r of w) {
      expect(r.spec.from).toBe(START + 48 * H);
      expect(r.spec.to).toBe(START + 96 * H);
      expect(r.bars).toBe(48);
    }
    expect(emptyList.code).toBe(64);
    expect(emptyList.stderr).toMatch(/^marginlab: --strategies: expected a comma-separated list of strategy names\n/);
    expect(badTo.code).toBe(64);
    expect(badTo.stderr).toMatch(/^marginlab: --to: expected a date \(ISO-8601 like 2025-06-01, or ms UTC\), got 'next week'\n/);
  });

  it('commander usage errors are one line naming the flag with the nearest one, and a value flag given twice is refused (64)', async () => {
    const [typo, twice, twiceEq, extra, unknownCmd, list, nested] = await Promise.all([
      runCli(['run', '-c', 'flags.config.ts', '--wokers', '2'], dir),
      runCli(['run', '-c', 'flags.config.ts', '--workers', '1', '--workers', '2', '--out', 'twice'], dir),
      runCli(['run', '-c', 'flags.config.ts', '-w', '1', '--workers=2', '--out', 'twice'], dir),
      runCli(['run', '-c', 'flags.config.ts', 'extra'], dir),
      runCli(['rnu'], dir),
      runCli(['data', 'synth', '--symbols', '2', '--symbols', '3', '--bars', '10', '--out', 'synth-twice'], dir),
      runCli(['data', 'import', 'a.csv'], dir),
    ]);
    expect(typo).toMatchObject({ code: 64, stdout: '', stderr: "marginlab: unknown option '--wokers' (did you mean --workers?); see npx marginlab run --help\n" });
    expect(twice).toMatchObject({ code: 64, stderr: "marginlab: --workers given twice ('1', then '2'): give it once\n" });
    expect(twiceEq).toMatchObject({ code: 64, stderr: "marginlab: --workers given twice ('1', then '2'): give it once\n" });
    expect(extra).toMatchObject({ code: 64, stderr: "marginlab: too many arguments for 'run'. Expected 0 arguments but got 1; see npx marginlab run --help\n" });
    expect(unknownCmd).toMatchObject({ code: 64, stderr: "marginlab: unknown command 'rnu' (did you mean run?); see npx marginlab --help\n" });
    expect(list).toMatchObject({ code: 64, stderr: "marginlab: --symbols given twice ('2', then '3'): give it once\n" });
    // a top-level command under another: said where it is (`data --help` does not list import)
    expect(nested).toMatchObject({ code: 64, stderr: "marginlab: unknown command 'import' of 'data'; did you mean `npx marginlab import --help`? ('import' is a command of its own)\n" });
    for (const out of ['twice', 'synth-twice']) expect(existsSync(join(dir, out))).toBe(false);
    // an empty value (an unset shell variable) wrote into the config's output.dir
    const [emptyOut, emptyConfig] = await Promise.all([runCli(['run', '-c', 'flags.config.ts', '--out', ''], dir), runCli(['run', '-c', ' '], dir)]);
    expect(emptyOut).toMatchObject({ code: 64, stderr: 'marginlab: --out: expected a value, got an empty string\n' });
    expect(emptyConfig).toMatchObject({ code: 64, stderr: 'marginlab: --config: expected a value, got an empty string\n' });
    expect(existsSync(join(dir, 'reports'))).toBe(false);
  });

  it('--from 20250101 (a compact date) is a usage error (64) saying what to write, not a replay from 1970', async () => {
    const r = await runCli(['run', '-c', 'flags.config.ts', '--quiet', '--from', '20250101', '--out', 'compact'], dir);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe("marginlab: --from: expected a date (ISO-8601 like 2025-06-01, or ms UTC), got '20250101' (20250101 reads as ms UTC (1970-01-01T05:37:30.101Z), not as the compact date it looks like: write '2025-01-01')\n");
  });

  it('--to not after --from is a usage error of the flags (64), not an invalid config file', async () => {
    const r = await runCli(['run', '-c', 'flags.config.ts', '--quiet', '--from', '2025-01-05', '--to', '2025-01-03', '--out', 'swapped'], dir);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe('marginlab: --to 2025-01-03 must be after --from 2025-01-05 (swap them?)\n');
  });
});

describe('--max-runs', () => {
  it('sets the largest plan accepted (the config key maxRuns): below the plan refused (78) before anything runs, at it the runs run; not a positive integer: 64', async () => {
    const run = (args: string[]) => runCli(['run', '-c', 'flags.config.ts', '--quiet', ...args], dir);
    const [under, at, zero] = await Promise.all([run(['--max-runs', '3', '--out', 'max3']), run(['--max-runs', '4', '--out', 'max4']), run(['--max-runs', '0', '--out', 'max0'])]);
    expect(under.code, under.stderr).toBe(78);
    expect(under.stderr).toContain('the plan has 4 runs, above the limit of 3 (config key maxRuns, or --max-runs): narrow the grids, or raise the limit');
    expect(existsSync(join(dir, 'max3', 'results'))).toBe(false);
    expect(at.code, at.stderr).toBe(0);
    expect(results(join(dir, 'max4'))).toHaveLength(4);
    expect(zero).toMatchObject({ code: 64, stderr: "marginlab: --max-runs: expected a positive integer, got '0'\n" });
    // past 2^53 the number read is not the text typed: said as typed (it echoed 100000000000000000000)
    const huge = await run(['--max-runs', '99999999999999999999', '--out', 'maxhuge']);
    expect(huge).toMatchObject({ code: 64, stderr: "marginlab: --max-runs: '99999999999999999999' is too large (above 9007199254740991)\n" });
  });
});

describe('a window holding no bar', () => {
  // the flags' window past the data named the config file and its data key, exit 78: the config was not wrong
  it('set by --from/--to is a usage error naming the flags (64); set by the config, the config key (78); nothing written', async () => {
    writeConfig(dir, 'late.config.ts', {
      name: 'late',
      data: './data',
      from: '2026-01-01',
      strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', params: { lookback: 6 } }],
      workers: 1,
      output: { formats: ['json'] },
    });
    const [byFlags, byFrom, byConfig] = await Promise.all([
      runCli(['run', '-c', 'flags.config.ts', '--quiet', '--from', '2026-01-01', '--to', '2026-02-01', '--out', 'nowindow'], dir),
      runCli(['run', '-c', 'flags.config.ts', '--quiet', '--from', '2026-01-01', '--out', 'nowindow2'], dir),
      runCli(['run', '-c', 'late.config.ts', '--quiet', '--out', 'nowindow3'], dir),
    ]);
    expect(byFlags.code, byFlags.stderr).toBe(64);
    expect(byFlags.stderr).toMatch(/^marginlab: --from 2026-01-01 --to 2026-02-01: dataset .*data: no 1h bars in the selected range from 2026-01-01T00:00:00\.000Z .*choose a window that holds at least one bar's open time\n$/);
    expect(byFrom.code, byFrom.stderr).toBe(64);
    expect(byFrom.stderr).toMatch(/^marginlab: --from 2026-01-01: dataset /);
    expect(byConfig.code, byConfig.stderr).toBe(78);
    expect(byConfig.stderr).toMatch(/^marginlab: late\.config\.ts: data: dataset .*no 1h bars in the selected range/);
    for (const o of ['nowindow', 'nowindow2', 'nowindow3']) expect(existsSync(join(dir, o, 'results'))).toBe(false);
  });
});

describe('marginlab merge: --json, --quiet (which still says why it exits 1), missing runs, exit codes', () => {
  it('reports the merge as JSON, warns about missing planned runs, exits 1 when a merged run errored, 64 without --out', async () => {
    const shards = await Promise.all([
      runCli(['run', '-c', 'flags.config.ts', '--shard', '1/2', '--out', 's1', '--quiet'], dir),
      runCli(['run', '-c', 'flags.config.ts', '--shard', '2/2', '--out', 's2', '--quiet'], dir),
      runCli(['run', '-c', 'throws.config.ts', '--out', 'failed', '--quiet'], dir),
    ]);
    expect(shards.map((r) => r.code)).toEqual([0, 0, 1]);
    // --quiet drops progress and the summary, never the reason for exit 1
    expect(shards[0]).toMatchObject({ stdout: '', stderr: '' });
    expect(shards[2]!.stderr).toMatch(/^marginlab: 1 run failed:\n {2}\S+ fixture-throws \(at=100, symbol=AAAUSDT\) \S+ \d+x: .+\n$/);
    const [json, partial, quiet, failed, noOut] = await Promise.all([
      runCli(['merge', 's1', 's2', '--out', 'm-json', '--json'], dir),
      runCli(['merge', 's1', '--out', 'm-partial'], dir),
      runCli(['merge', 's1', '--out', 'm-quiet', '--quiet'], dir),
      runCli(['merge', 'failed', '--out', 'm-failed', '--quiet'], dir),
      runCli(['merge', 's1', 's2'], dir),
    ]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(json.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { event: 'merged', dir: join(dir, 'm-json'), runs: 4, ok: 4, errored: 0, total: 4, missing: 0, complete: true },
    ]);
    // missing planned runs: said on stderr and by exit 1 (docs/scaling.md, "What merge checks")
    expect(partial.code).toBe(1);
    expect(partial.stderr).toBe(
      `marginlab: merged 1 folder: 2 runs (2 ok, 0 errored) of 4 planned into ${join(dir, 'm-partial')}\n` +
        'marginlab: incomplete: 2 of 4 planned runs are missing (a shard not merged, or not finished); exit 1\n',
    );
    expect(resultFiles(join(dir, 'm-partial'))).toHaveLength(2);
    expect(quiet).toMatchObject({ code: 1, stdout: '', stderr: 'marginlab: incomplete: 2 of 4 planned runs are missing (a shard not merged, or not finished); exit 1\n' });
    expect(resultFiles(join(dir, 'm-quiet'))).toEqual(resultFiles(join(dir, 's1')));
    expect(failed).toMatchObject({ code: 1, stderr: `marginlab: 1 merged run errored (the report in ${join(dir, 'm-failed')} gives their errors); exit 1\n` });
    expect(noOut.code).toBe(64);
    expect(noOut.stderr).toMatch(/required option '-o, --out <dir>' not specified/);
  });
});

describe('strategy errors name the config file and the key', () => {
  it('a missing dataset folder is 66 at data.path (data[k].path in a list), under the config file as the other problems name it, saying how to import data into it or use the sample', async () => {
    writeConfig(dir, 'nodata.config.ts', { name: 'nodata', data: { path: 'data/binance-usdm-2025', timeframe: '1h' }, strategies: ['sma-cross'] });
    writeConfig(dir, 'nodata2.config.ts', { name: 'nodata2', data: ['./data', 'my data/set'], strategies: ['sma-cross'] });
    const [one, two] = await Promise.all([runCli(['run', '-c', 'nodata.config.ts', '--out', 'o-nodata'], dir), runCli(['stress', '-c', 'nodata2.config.ts', '--out', 'o-nodata2'], dir)]);
    expect(one.code).toBe(66);
    expect(one.stderr).toBe(
      `marginlab: nodata.config.ts: data.path: dataset folder 'data/binance-usdm-2025' does not exist (${join(dir, 'data', 'binance-usdm-2025')}); import your data into it (\`npx marginlab import <files> --out data/binance-usdm-2025\`, marginlab's docs/data.md) or use the bundled sample data (\`data: SAMPLE_DATA\`, imported from 'marginlab')\n`,
    );
    expect(two.code).toBe(66);
    expect(two.stderr).toMatch(/^marginlab: nodata2\.config\.ts: data\[1\]\.path: dataset folder 'my data\/set' does not exist .*--out 'my data\/set'`/);
    expect(two.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('every missing folder is named at once (one was named per try): two datasets and a strategy folder, 66', async () => {
    writeConfig(dir, 'nodata3.config.ts', { name: 'nodata3', data: ['./nope-a', { path: './data' }, { path: './nope-b', timeframe: '4h' }], strategyDirs: ['gone'], strategies: ['sma-cross'] });
    const r = await runCli(['run', '-c', 'nodata3.config.ts', '--out', 'o-nodata3'], dir);
    expect(r.code).toBe(66);
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toBe('marginlab: nodata3.config.ts: 3 folders the config names do not exist');
    expect(lines.slice(1).map((l) => l.trim().split(':')[0])).toEqual(['strategyDirs[0]', 'data[0].path', 'data[2].path']);
    expect(existsSync(join(dir, 'o-nodata3'))).toBe(false);
  });

  it('a timeframe or symbol the dataset lacks is 78 naming the config file and its data entry', async () => {
    writeConfig(dir, 'tf2h.config.ts', { name: 'tf2h', data: { path: './data', timeframe: '2h' }, strategies: ['sma-cross'] });
    // (data[0] lists its symbols: two entries of one folder and timeframe may not share any)
    writeConfig(dir, 'sym2.config.ts', { name: 'sym2', data: [{ path: './data', symbols: ['AAAUSDT', 'BBBUSDT'] }, { path: './data', symbols: ['NOPEUSDT'] }], strategies: ['sma-cross'] });
    const [tf, sym] = await Promise.all([runCli(['run', '-c', 'tf2h.config.ts', '--out', 'o-tf2h'], dir), runCli(['run', '-c', 'sym2.config.ts', '--out', 'o-sym2'], dir)]);
    expect(tf.code).toBe(78);
    expect(tf.stderr).toMatch(/^marginlab: tf2h\.config\.ts: data: dataset \S+ has no 2h candles \(timeframes: 1h\)\n$/);
    expect(sym.code).toBe(78);
    expect(sym.stderr).toMatch(/^marginlab: sym2\.config\.ts: data\[1\]: dataset \S+ has no symbol NOPEUSDT/);
  });

  it('a missing strategyDirs folder is 66 at strategyDirs[k]; an unknown strategy is 78 under the config file, 64 when only --strategies names it', async () => {
    writeConfig(dir, 'nodir.config.ts', { name: 'nodir', data: './data', strategyDirs: [FIXTURE_STRATEGIES, 'nowhere'], strategies: ['fixture-trend'] });
    writeConfig(dir, 'nostrat.config.ts', { name: 'nostrat', data: './data', strategies: ['no-such-strategy'] });
    writeConfig(dir, 'flagstrat.config.ts', { name: 'flagstrat', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'] });
    // the file wrong too (a parameter fixture-trend does not have): the flag's line beside the file's, 78
    writeConfig(dir, 'bothstrat.config.ts', { name: 'bothstrat', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookbak: 5 } }] });
    const [nodir, nostrat, flagstrat, flagtwo, bothstrat] = await Promise.all([
      runCli(['run', '-c', 'nodir.config.ts', '--out', 'o-nodir'], dir),
      runCli(['run', '-c', 'nostrat.config.ts', '--out', 'o-nostrat'], dir),
      runCli(['run', '-c', 'flagstrat.config.ts', '--strategies', 'fixture-trend,fixture-trnd', '--out', 'o-flagstrat'], dir),
      runCli(['stress', '-c', 'flagstrat.config.ts', '--quiet', '--strategies', 'nope,fixture-trend,nada', '--out', 'o-flagtwo'], dir),
      runCli(['run', '-c', 'bothstrat.config.ts', '--strategies', 'fixture-trend,nope', '--out', 'o-bothstrat'], dir),
    ]);
    expect(nodir.code).toBe(66);
    expect(nodir.stderr).toBe(`marginlab: nodir.config.ts: strategyDirs[1]: strategy folder '${join(dir, 'nowhere')}' does not exist or is not a folder\n`);
    expect(nostrat.code).toBe(78);
    // the config file as given (relative to the working folder), as the schema's problems name it
    expect(nostrat.stderr).toMatch(new RegExp(`^marginlab: nostrat\\.config\\.ts: invalid strategies \\(1 problem\\)\n  strategies\\[0\\]\\.name: unknown strategy 'no-such-strategy'`));
    // a name given with --strategies that no strategy folder holds: only the flag is wrong, a usage error on one line
    expect(flagstrat.code).toBe(64);
    expect(flagstrat.stderr).toMatch(/^marginlab: --strategies fixture-trend,fixture-trnd: unknown strategy 'fixture-trnd' \(did you mean 'fixture-trend'\?\); available: [^\n]*fixture-trend[^\n]*\n$/);
    expect(existsSync(join(dir, 'o-flagstrat', 'results'))).toBe(false);
    expect(flagtwo.code).toBe(64);
    expect(flagtwo.stderr).toMatch(/^marginlab: --strategies nope,fixture-trend,nada: 2 unknown strategies\n {2}unknown strategy 'nope'[^\n]*\n {2}unknown strategy 'nada'[^\n]*\n$/);
    // the file wrong as well: 78, the flag's line beside the file's, the message saying the flag was given
    expect(bothstrat.code).toBe(78);
    expect(bothstrat.stderr).toContain(`marginlab: bothstrat.config.ts with --strategies fixture-trend,nope: invalid strategies (2 problems)\n`);
    expect(bothstrat.stderr).toContain(`  strategies[1].name: unknown strategy 'nope'`);
    expect(bothstrat.stderr).toContain(`  strategies[0].params.lookbak: strategy 'fixture-trend' has no parameter 'lookbak'`);
  });
});

describe("a dataset of another venue than the config's", () => {
  // OKX data under a config left at binance-usdm was replayed under Binance's fees, funding, tiers and
  // liquidation rules without a word (the warning was tested as a function only)
  it('warns on stderr and records the warning in the manifest; the runs still run (exit 0)', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-venue-'));
    await makeDataset(join(d, 'okx'), { bars: 120, seed: 5 });
    const mPath = join(d, 'okx', 'manifest.json');
    writeFileSync(mPath, JSON.stringify({ ...JSON.parse(readFileSync(mPath, 'utf8')), venue: 'okx' }, null, 2));
    const base = { name: 'venue', data: './okx', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 6 } }], leverage: [3], setups: ['cross'], workers: 1, output: { formats: ['json'] } };
    writeConfig(d, 'binance.config.ts', base);
    writeConfig(d, 'okx.config.ts', { ...base, venue: 'okx' });
    const warning = "dataset okx holds okx data (its manifest's venue), replayed under binance-usdm's fees, funding, maintenance tiers and liquidation rules (the config's venue): set venue: 'okx' in the config if that venue is meant";
    const r = await runCli(['run', '-c', 'binance.config.ts', '--out', 'out-b'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warning: ${warning}`);
    expect(JSON.parse(readFileSync(join(d, 'out-b', 'manifest.json'), 'utf8')).warnings).toContain(warning);
    const o = await runCli(['run', '-c', 'okx.config.ts', '--out', 'out-o'], d);
    expect(o.code, o.stderr).toBe(0);
    expect(o.stderr).not.toContain('replayed under');
    expect(results(join(d, 'out-o'))[0]!.spec.venue).toBe('okx');
  });
});

describe('marginlab strategies', () => {
  it('lists the library with default params; --dir adds folders; --json prints JSON; a missing folder is 66', async () => {
    const [text, json, missing] = await Promise.all([
      runCli(['strategies'], dir),
      runCli(['strategies', '--dir', FIXTURE_STRATEGIES, '--json'], dir),
      runCli(['strategies', '--dir', 'nowhere'], dir),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^buy-and-hold +\S.*\n +defaults: \{.*\}\n/m);
    expect(text.stdout).not.toMatch(/fixture-/);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { name: string; description: string; file: string; defaults: Record<string, unknown> | null }[];
    expect(rows.map((r) => r.name)).toEqual([...rows.map((r) => r.name)].sort());
    expect(rows.map((r) => r.name)).toContain('buy-and-hold');
    expect(rows.find((r) => r.name === 'fixture-trend')).toEqual({
      name: 'fixture-trend',
      description: 'test fixture: momentum long/short on one symbol',
      file: join(FIXTURE_STRATEGIES, 'fixture-trend.ts'),
      defaults: { symbol: 'AAAUSDT', lookback: 24, size: 0.5, spinUs: 0 },
    });
    expect(missing.code).toBe(66);
    expect(missing.stderr).toMatch(/^marginlab: strategy folder '.*nowhere' does not exist or is not a folder\n$/);
  });

  it('.cts and .cjs files in a strategy folder are strategies, as config files of those extensions are (a .cjs strategy was skipped in silence and its name answered with another\'s "did you mean")', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'ml-cjs-strategies-'));
    const body = (name: string) => `{ name: '${name}', description: 'test fixture', params: { safeParse: () => ({ success: true, data: {} }) }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }) }`;
    // as a CommonJS strategy is written (module.exports = defineStrategy({ ... })), and a .cts compiled as CommonJS
    writeFileSync(join(folder, 'my-cjs.cjs'), `const s = ${body('my-cjs')};\nmodule.exports = s;\n`);
    writeFileSync(join(folder, 'my-cts.cts'), `export default ${body('my-cts')};\n`);
    const json = await runCli(['strategies', '--dir', folder, '--json'], dir);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { name: string; file: string }[];
    expect(rows.filter((r) => r.name.startsWith('my-')).map((r) => r.name)).toEqual(['my-cjs', 'my-cts']);
  });

  it('a strategy whose defaults are not plain data or whose schema throws is listed without them, saying why (was exit 70)', async () => {
    const folder = join(import.meta.dirname, 'fixtures', 'params', 'strategies');
    const [text, json] = await Promise.all([runCli(['strategies', '--dir', folder], dir), runCli(['strategies', '--dir', folder, '--json'], dir)]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^bigint-default +test fixture: a bigint default\n +defaults: not shown \(params\.n resolves to a bigint \(5n\)\)\n/m);
    expect(text.stdout).toMatch(/^throwing-default +test fixture: a default that throws\n +defaults: not shown \(its params schema threw: no default today\)\n/m);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as { name: string; defaults: unknown }[];
    expect(rows.filter((r) => r.name.endsWith('-default')).map((r) => r.defaults)).toEqual([null, null]);
  });

  it("from a project's subfolder, says that the project's config (and its strategyDirs) was not read", async () => {
    const project = mkdtempSync(join(tmpdir(), 'ml-strategies-'));
    mkdirSync(join(project, 'strategies'));
    writeFileSync(join(project, 'backtest.config.ts'), 'export default {};\n');
    const sub = await runCli(['strategies'], join(project, 'strategies'));
    expect(sub.code).toBe(0);
    expect(sub.stdout).toMatch(/^buy-and-hold /m);
    expect(sub.stderr).toBe(`marginlab: no backtest.config.ts here, so the list holds the library only (found ${join(project, 'backtest.config.ts')}: run from ${project}, or pass --config ${join(project, 'backtest.config.ts')})\n`);
    // nothing said where no config is near
    const alone = await runCli(['strategies'], mkdtempSync(join(tmpdir(), 'ml-strategies-')));
    expect(alone.stderr).toBe('');
  });
});

describe('internal errors', () => {
  // a failure that is no UserError: stdout refuses writes (preloaded before the CLI starts)
  const BROKEN_STDOUT = 'data:text/javascript,process.stdout.write=()=>{throw new TypeError("stdout is gone")}';
  const run = (env: Record<string, string>) =>
    new Promise<CliResult>((res) => {
      const child = spawn(process.execPath, ['--import', BROKEN_STDOUT, BIN, 'strategies'], {
        cwd: dir,
        env: { ...process.env, CI: 'true', FORCE_COLOR: '0', MARGINLAB_DEBUG: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('close', (code, signal) => res({ code, signal, stdout: '', stderr }));
    });

  it('exit 70 with one line and a hint, the stack only under MARGINLAB_DEBUG', async () => {
    const [plain, debug] = await Promise.all([run({}), run({ MARGINLAB_DEBUG: '1' })]);
    expect(plain.code).toBe(70);
    expect(plain.stderr).toBe('marginlab: internal error: stdout is gone\n  (set MARGINLAB_DEBUG=1 for the stack trace; please report it)\n');
    expect(debug.code).toBe(70);
    expect(debug.stderr).toMatch(/^marginlab: internal error: stdout is gone\nTypeError: stdout is gone\n\s+at /);
  });
});

describe('marginlab run --resume across a change of maxEventsPerRun', () => {
  /** writes <name>.config.ts: the fixture data, one worker, JSON output, the given cap and the rest */
  const capConfig = (name: string, max: number | null, rest: Record<string, unknown>) =>
    writeConfig(dir, `${name}.config.ts`, { name, data: './data', strategyDirs: [FIXTURE_STRATEGIES], workers: 1, maxEventsPerRun: max, output: { formats: ['json'] }, ...rest });

  it('results kept under another cap are named, removed and run again; the others are skipped', async () => {
    const capped = (max: number | null) => capConfig('cap', max, { strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 12] } }], leverage: [3] });
    const run = (args: string[]) => runCli(['run', '-c', 'cap.config.ts', '--out', 'cap', ...args], dir);
    capped(5);
    expect((await run(['--quiet'])).code).toBe(0);
    const first = results(join(dir, 'cap'));
    expect(first).toHaveLength(4);
    expect(first.every((r) => r.events.length === 5 && r.eventsCap?.limit === 5 && r.eventsCap.total > 5)).toBe(true);
    // the same cap: nothing to do
    const same = await run(['--resume']);
    expect(same.code).toBe(0);
    expect(same.stderr).toMatch(/0 runs to do \(4 already done, skipped\) of 4/);
    // no cap: every result is done again with all its events
    capped(null);
    const all = await run(['--resume']);
    expect(all.code).toBe(0);
    expect(all.stderr).toMatch(/--resume: .*results\/[0-9a-f]{16}\.json keeps 5 of its \d+ events, maxEventsPerRun null now keeps \d+; it is removed and the run done again/);
    expect(all.stderr).toMatch(/: 4 runs to do of 4 on/);
    const full = results(join(dir, 'cap'));
    for (const r of full) expect([r.eventsCap, r.events.length]).toEqual([undefined, first.find((f) => f.runId === r.runId)!.eventsCap!.total]);
    // a cap above every run's count keeps them all: the results stand
    capped(100_000);
    expect((await run(['--resume'])).stderr).toMatch(/0 runs to do \(4 already done, skipped\) of 4/);
    // a lower cap cuts them: done again
    capped(3);
    const lower = await run(['--resume']);
    expect(lower.stderr).toMatch(/: 4 runs to do of 4 on/);
    expect(results(join(dir, 'cap')).every((r) => r.events.length === 3 && r.eventsCap?.limit === 3)).toBe(true);
  }, 120_000);

  it('an errored run (its strategy threw) keeps its events too: it is run again under another cap', async () => {
    const capped = (max: number | null) => capConfig('capthrow', max, { strategies: [{ name: 'fixture-trades-then-throws', params: { at: 200 } }], setups: ['cross'] });
    const run = (args: string[]) => runCli(['run', '-c', 'capthrow.config.ts', '--out', 'capthrow', ...args], dir);
    capped(4);
    expect((await run(['--quiet'])).code).toBe(1); // a run errored
    const [first] = results(join(dir, 'capthrow'));
    expect([first!.status, first!.events.length, first!.eventsCap?.limit]).toEqual(['errored', 4, 4]);
    expect(first!.eventsCap!.total).toBeGreaterThan(4);
    capped(null);
    const again = await run(['--resume']);
    expect(again.stderr).toMatch(/--resume: .*keeps 4 of its \d+ events, maxEventsPerRun null now keeps \d+; it is removed and the run done again/);
    const [second] = results(join(dir, 'capthrow'));
    expect([second!.status, second!.events.length, second!.eventsCap]).toEqual(['errored', first!.eventsCap!.total, undefined]);
  }, 120_000);
});

describe('a symbol listed later than the dataset', () => {
  it("is replayed from its first candle: its run's bars, exposure and curves are its own, and the report says its window", async () => {
    const late = join(dir, 'late-data');
    await makeDataset(late, { bars: 200, seed: 9, listedAt: { BBBUSDT: 80 } });
    writeConfig(dir, 'late-listed.config.ts', {
      name: 'late-listed',
      data: './late-data',
      strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', grid: { symbol: ['AAAUSDT', 'BBBUSDT'] }, params: { lookback: 6 } }],
      leverage: [3],
      setups: ['isolated'],
      workers: 1,
      output: { formats: ['json', 'md'] },
    });
    const r = await runCli(['run', '-c', 'late-listed.config.ts', '--quiet', '--out', 'late-out'], dir);
    expect(r.code, r.stderr).toBe(0);
    const rs = results(join(dir, 'late-out'));
    const bySymbol = (s: string) => rs.find((x) => x.spec.symbols[0] === s)!;
    const a = bySymbol('AAAUSDT');
    const b = bySymbol('BBBUSDT');
    expect([a.bars, b.bars]).toEqual([200, 120]);
    expect(b.curves.time[0]).toBe(START + 80 * H);
    expect(a.curves.time[0]).toBe(START);
    // in the market from the fill after its 7th bar on: 113 of its 120 bars (it read 113 of 200, the 80 bars before its listing flat)
    expect(b.metrics.exposureTime).toBeCloseTo((113 / 120) * 100, 6);
    const md = readFileSync(join(dir, 'late-out', 'report.md'), 'utf8');
    expect(md).toContain('> **Note:** The runs on BBBUSDT (');
    expect(md).toContain('cover 2025-01-04 → 2025-01-09, the bars where their symbols have candles, not the whole 2025-01-01 → 2025-01-09 of the other runs');
    expect(md).not.toContain('The runs on AAAUSDT');
  });
});

describe("the report's period", () => {
  it("is the completed runs' bars or the config window, never how far an errored run got", async () => {
    const { dataPeriod } = await import('../src/report/model.js');
    const D = 86_400_000;
    const run = (status: 'ok' | 'errored', days: number, from?: number) =>
      ({ status, spec: { timeframe: '1d', ...(from !== undefined ? { from } : {}) }, curves: { time: Array.from({ length: days }, (_, i) => START + i * D) } }) as unknown as RunResult;
    expect(dataPeriod([run('ok', 60), run('errored', 2)])).toBe('2025-01-01 → 2025-03-02');
    // every run errored after two days: no period known from them (it read 2025-01-01 → 2025-01-03)
    expect(dataPeriod([run('errored', 2)])).toBe('');
    expect(dataPeriod([run('errored', 2, START)])).toBe('');
  });

  it('is each dataset\'s own when datasets cover different periods, and the short-window note names those too short to annualise', async () => {
    const { dataPeriod, dataSummary, shortWindowNote } = await import('../src/report/model.js');
    const D = 86_400_000;
    const run = (dataset: string, days: number, symbol: string) =>
      ({ status: 'ok', bars: days, spec: { dataset, timeframe: '1d', symbols: [symbol] }, curves: { time: Array.from({ length: days }, (_, i) => START + i * D) } }) as unknown as RunResult;
    // one period: the header's, each dataset without its own
    const same = [run('a', 400, 'BTCUSDT'), run('b', 400, 'ETHUSDT')];
    expect(dataPeriod(same)).toBe('2025-01-01 → 2026-02-05');
    expect(dataSummary(same)).toEqual(['a 1d (BTCUSDT)', 'b 1d (ETHUSDT)']);
    expect(shortWindowNote(same)).toBeNull();
    // a year of one and 60 days of the other: no period over both (it read 2025-01-01 → 2026-02-05 for the 60 days too)
    const mixed = [run('a', 400, 'BTCUSDT'), run('b', 60, 'ETHUSDT')];
    expect(dataPeriod(mixed)).toBe('');
    expect(dataSummary(mixed)).toEqual(['a 1d (BTCUSDT) 2025-01-01 → 2026-02-05', 'b 1d (ETHUSDT) 2025-01-01 → 2025-03-02']);
    // the year-long dataset kept the note away, and the 60-day runs' missing CAGR went unexplained
    expect(shortWindowNote(mixed)).toMatch(/^Annualised returns \(CAGR, Calmar, capital efficiency\) are not shown for the runs on b 1d \(60 days\): a window shorter than the 365 days/);
    expect(shortWindowNote([run('b', 60, 'ETHUSDT')])).toMatch(/^Annualised returns \(CAGR, Calmar, capital efficiency\) are not shown: the window is 60 days, shorter/);
  });
});

describe('a reader that closes the pipe early', () => {
  it('stops a sweep as a first Ctrl-C does (130, finished results kept, --resume finishes it); it ended with exit 0 and no report', async () => {
    writeConfig(dir, 'piped.config.ts', {
      name: 'piped',
      data: './data',
      strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 12, 18, 24] } }],
      leverage: [3],
      workers: 1,
      output: { formats: ['json'] },
    });
    // `marginlab run --json | head -1`: the reader takes the first line and closes its end
    // this command slowed to 3 ms a bar (not a param: the same run ids), the --resume below at full speed
    const { child, done } = startCli(['run', '-c', 'piped.config.ts', '--json', '--out', 'piped'], dir, { env: { MARGINLAB_TEST_SPIN_US: '3000' } });
    child.stdout!.once('data', () => child.stdout!.destroy());
    const { code, stderr } = await done;
    expect(code, stderr).toBe(130);
    expect(stderr).toMatch(/interrupted: \d+ of 8 runs finished/);
    const manifest = JSON.parse(readFileSync(join(dir, 'piped', 'manifest.json'), 'utf8')) as { interrupted?: boolean };
    expect(manifest.interrupted).toBe(true);
    const again = await runCli(['run', '-c', 'piped.config.ts', '--quiet', '--resume', '--out', 'piped'], dir);
    expect(again.code, again.stderr).toBe(0);
    expect(results(join(dir, 'piped'))).toHaveLength(8);
  });
});

describe('a Windows path on a system whose separator is /', () => {
  it.skipIf(process.platform === 'win32')("--out reports\\x is refused (64) before a folder of that one name is made; a missing data\\mine says why", async () => {
    const out = await runCli(['run', '-c', 'flags.config.ts', '--quiet', '--out', 'reports\\win'], dir);
    expect(out.code).toBe(64);
    expect(out.stderr).toMatch(/^marginlab: --out \S*reports\\win: '\\' is not a folder separator on this system \(a Windows path\?\): write '\S*reports\/win'\n$/);
    expect(existsSync(join(dir, 'reports\\win'))).toBe(false);
    // a drive names no folder here: its suggestion is the rest of the path (it was '<cwd>/C:/reports', a folder named 'C:')
    const drive = await runCli(['run', '-c', 'flags.config.ts', '--quiet', '--out', 'C:\\reports\\win'], dir);
    expect(drive.code).toBe(64);
    expect(drive.stderr).toMatch(/^marginlab: --out \S*C:\\reports\\win: 'C:' is a Windows drive, not a folder on this system: give a path of this system \(e\.g\. 'reports\/win'\)\n$/);
    expect(readdirSync(dir).filter((f) => f.startsWith('C:'))).toEqual([]);
    writeConfig(dir, 'winpath.config.ts', { name: 'winpath', data: '.\\data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], workers: 1 });
    const data = await runCli(['run', '-c', 'winpath.config.ts', '--quiet', '--out', 'winpath'], dir);
    expect(data.code).toBe(66);
    expect(data.stderr).toContain("dataset folder '.\\data' does not exist");
    expect(data.stderr).toContain("('\\' is not a folder separator on this system (a Windows path?): write './data'); import your data");
    // set by the config's output.dir: 78
    writeConfig(dir, 'winout.config.ts', { name: 'winout', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], workers: 1, output: { dir: 'reports\\cfg' } });
    const cfg = await runCli(['run', '-c', 'winout.config.ts', '--quiet'], dir);
    expect(cfg.code, cfg.stderr).toBe(78);
    expect(cfg.stderr).toContain("is not a folder separator on this system (a Windows path?): write '");
    expect(existsSync(join(dir, 'reports\\cfg'))).toBe(false);
  });
});
