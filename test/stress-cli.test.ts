/**
 * `marginlab stress` end to end: determinism across worker counts and merged shards with stress
 * runs on, the plan summary before the runs, --resume, and config errors.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { writeDataset } from '../src/feed/index.js';
import { FIXTURE_STRATEGIES, resultFiles, runCli, writeConfig } from './fixtures/run/cli.js';
import type { RunResult } from '../src/shard/types.js';
import { loadConfig } from '../src/config/index.js';
import { runSweep } from '../src/shard/run.js';
import { createProgress } from '../src/shard/progress.js';
import { loadRunFolder, writeReport } from '../src/report/index.js';

let dir: string;
const read = (p: string) => readFileSync(p, 'utf8');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-stress-'));
  await makeDataset(join(dir, 'data'), { bars: 400, seed: 3 });
  writeConfig(dir, 'stress.config.ts', {
    name: 'st',
    data: './data',
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }],
    leverage: [3, 20],
    stress: {
      scenarios: ['crash-2025-10-10', { id: 'aaa-gap', symbols: { AAA: { depth: -0.25, shape: 'gap', duration: '2h', recovery: 0.5 } } }],
      inject: { random: 1 },
      paths: 2,
      crashesPerPath: 1,
      seed: 5,
    },
  });
});

describe('marginlab stress', () => {
  it('1 worker, 2 workers and two merged shards give byte-identical summary.json and results', async () => {
    const [w1, w2, s1, s2] = await Promise.all([
      runCli(['stress', '-c', 'stress.config.ts', '--workers', '1', '--out', 'w1'], dir),
      runCli(['stress', '-c', 'stress.config.ts', '--workers', '2', '--out', 'w2', '--quiet'], dir),
      runCli(['stress', '-c', 'stress.config.ts', '--shard', '1/2', '--workers', '1', '--out', 's1', '--quiet'], dir),
      runCli(['stress', '-c', 'stress.config.ts', '--shard', '2/2', '--workers', '1', '--out', 's2', '--quiet'], dir),
    ]);
    expect([w1.code, w2.code, s1.code, s2.code]).toEqual([0, 0, 0, 0]);
    // the plan summary comes before the runs
    const lines = w1.stderr.split('\n');
    expect(lines[0]).toBe('marginlab: stress: 2 scenarios × 1 injection time and 2 Monte Carlo paths (1 crash each), mean block 24 bars, seed 5: 4 history + 8 scenario + 8 path runs');
    expect(lines[1]).toMatch(/^marginlab: 20 runs to do of 20 on 1 worker$/);
    const m = await runCli(['merge', 's1', 's2', '--out', 'merged'], dir);
    expect(m.code).toBe(0);
    const summary = read(join(dir, 'w1', 'summary.json'));
    expect(read(join(dir, 'w2', 'summary.json'))).toBe(summary);
    expect(read(join(dir, 'merged', 'summary.json'))).toBe(summary);
    // the byte comparison covers the stress aggregates (Wilson intervals, quantiles, seeded bootstrap), report.md too
    const agg = (JSON.parse(summary) as { stress: { configs: { populations: unknown[] }[] } | null }).stress;
    expect(agg?.configs.length).toBeGreaterThan(0);
    expect(agg!.configs.every((c) => c.populations.length > 0)).toBe(true);
    expect(read(join(dir, 'merged', 'report.md'))).toBe(read(join(dir, 'w1', 'report.md')));
    const files = resultFiles(join(dir, 'w1'));
    expect(files).toHaveLength(20);
    for (const f of files) {
      expect(read(join(dir, 'w2', 'results', f))).toBe(read(join(dir, 'w1', 'results', f)));
      expect(read(join(dir, 'merged', 'results', f))).toBe(read(join(dir, 'w1', 'results', f)));
    }
    const results = files.map((f) => JSON.parse(read(join(dir, 'w1', 'results', f))) as RunResult);
    expect(results.filter((r) => !r.spec.stress && !r.stress)).toHaveLength(4);
    const stress = results.filter((r) => r.spec.stress);
    expect(stress.every((r) => r.stress && r.stress.kind === r.spec.stress!.kind && r.stress.equityGrid.length === 101 && r.curves.time.length <= 200)).toBe(true);
    expect(new Set(stress.filter((r) => r.stress!.kind === 'scenario').map((r) => r.stress!.scenario))).toEqual(new Set(['crash-2025-10-10', 'aaa-gap']));
    expect(stress.filter((r) => r.stress!.kind === 'path').every((r) => r.stress!.crashes?.length === 1)).toBe(true);
    // a path run keeps its outcome, not its event log (stress.pathEvents off); scenario and history runs keep theirs
    const paths = stress.filter((r) => r.stress!.kind === 'path');
    expect(paths.every((r) => r.events.length === 0 && r.prices === undefined && r.liquidationPrices === undefined && r.metrics.trades !== undefined)).toBe(true);
    expect(paths.some((r) => (r.eventsCap?.total ?? 0) > 0 && r.eventsCap!.limit === 0)).toBe(true);
    expect(results.filter((r) => r.stress?.kind !== 'path').every((r) => r.prices !== undefined && r.eventsCap === undefined)).toBe(true);
    expect(read(join(dir, 'w1', 'report.md'))).toContain('8 Monte Carlo path runs keep their outcome only (stress.pathEvents is off)');
    // the report's reading leaves out the path runs' curves (drawn from the equity grid) and writes the same report files
    const whole = loadRunFolder(join(dir, 'w1'));
    const light = loadRunFolder(join(dir, 'w1'), { forReport: true });
    expect(light.results.filter((r) => r.curves.time.length === 0).map((r) => r.runId).sort()).toEqual(paths.map((r) => r.runId).sort());
    expect(whole.results.every((r) => r.curves.time.length > 0)).toBe(true);
    // … and holds one copy of what results repeat value for value (the report only reads them)
    const lightPaths = light.results.filter((r) => r.spec.stress?.kind === 'path');
    const wholePaths = whole.results.filter((r) => r.spec.stress?.kind === 'path');
    expect(lightPaths.length).toBeGreaterThan(1);
    for (const key of ['dataHashes', 'execution', 'params', 'symbols'] as const) {
      expect(new Set(lightPaths.map((r) => r.spec[key])).size, key).toBe(new Set(lightPaths.map((r) => JSON.stringify(r.spec[key]))).size);
      expect(new Set(wholePaths.map((r) => r.spec[key])).size, key).toBe(wholePaths.length);
    }
    expect(new Set(lightPaths.map((r) => r.stress!.equityGridTime)).size).toBe(new Set(lightPaths.map((r) => JSON.stringify(r.stress!.equityGridTime))).size);
    const written = await Promise.all(
      [whole, light].map(async (f, k) => {
        const out = join(dir, `reading-${k}`);
        await writeReport({ dir: out, results: f.results, manifest: f.manifest });
        return ['summary.json', 'report.md', 'report.html', 'runs.csv'].map((name) => read(join(out, name)));
      }),
    );
    expect(written[1]).toEqual(written[0]);
    // the shocks bite: the scenario runs differ from history
    const hist = results.find((r) => !r.spec.stress && r.spec.leverage === 3 && r.spec.setup === 'cross')!;
    const shocked = stress.filter((r) => r.stress!.kind === 'scenario' && r.spec.leverage === 3 && r.spec.setup === 'cross');
    expect(shocked.some((r) => JSON.stringify(r.curves.equity.at(-1)) !== JSON.stringify(hist.curves.equity.at(-1)))).toBe(true);
  }, 240_000);

  /** a small stress config without scenarios (<name>.config.ts), with stress.pathEvents as given */
  const smallStress = (name: string, pathEvents: boolean, rest: Record<string, unknown>) =>
    writeConfig(dir, `${name}.config.ts`, { name, data: './data', strategyDirs: [FIXTURE_STRATEGIES], leverage: [3], stress: { scenarios: [], paths: 2, seed: 5, pathEvents }, ...rest });
  const evConfig = (pathEvents: boolean) => smallStress('stress-ev', pathEvents, { strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }] });

  it('--scenarios in another order (and --strategies naming the config\'s own) plans the same runs: shards given either merge into the single run\'s results', async () => {
    // the crash pool in the config's order drew other crashes for every path of `--scenarios aaa-gap,crash-2025-10-10`,
    // and merge refused shards whose lists were in another order ("differ in stress")
    const w = await runCli(['stress', '-c', 'stress.config.ts', '--workers', '1', '--out', 'ord-w', '--quiet'], dir);
    const [o1, o2] = await Promise.all([
      runCli(['stress', '-c', 'stress.config.ts', '--scenarios', 'crash-2025-10-10,aaa-gap', '--strategies', 'fixture-trend', '--shard', '1/2', '--workers', '1', '--out', 'ord-1', '--quiet'], dir),
      runCli(['stress', '-c', 'stress.config.ts', '--scenarios', 'aaa-gap,crash-2025-10-10', '--shard', '2/2', '--workers', '1', '--out', 'ord-2', '--quiet'], dir),
    ]);
    expect([w.code, o1.code, o2.code]).toEqual([0, 0, 0]);
    const m = await runCli(['merge', 'ord-1', 'ord-2', '--out', 'ord-m'], dir);
    expect(m.stderr).not.toMatch(/do not belong/);
    expect(m.code).toBe(0);
    const files = resultFiles(join(dir, 'ord-w'));
    expect(resultFiles(join(dir, 'ord-m'))).toEqual(files);
    for (const f of files) expect(read(join(dir, 'ord-m', 'results', f))).toBe(read(join(dir, 'ord-w', 'results', f)));
  });

  it('the warning about a symbol with bars on part of the window names only symbols the path runs trade', async () => {
    // AAAUSDT on all 200 bars, BBBUSDT listed at bar 120
    const H = 3_600_000;
    const start = Date.UTC(2025, 0, 1);
    const candles = (symbol: string, from: number) => {
      const time: number[] = [];
      const col: number[] = [];
      for (let i = from; i < 200; i++) {
        time.push(start + i * H);
        col.push(100 + Math.sin(i / 7) * 3);
      }
      return { symbol, kind: 'candles' as const, timeframe: '1h', time, columns: { open: col, high: col.map((x) => x * 1.01), low: col.map((x) => x * 0.99), close: col, volume: col.map(() => 1000) } };
    };
    await writeDataset(join(dir, 'late'), { venue: 'binance-usdm', timeframe: '1h', symbols: ['AAAUSDT', 'BBBUSDT'], series: [candles('AAAUSDT', 0), candles('BBBUSDT', 120)] });
    const sweep = async (symbol: string) => {
      writeConfig(dir, 'late.config.ts', { name: 'late', data: './late', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 12, symbol } }], leverage: [3], setups: ['cross'], stress: { scenarios: [], paths: 1, seed: 5 } });
      const warnings: string[] = [];
      await runSweep({ loaded: await loadConfig(join(dir, 'late.config.ts')), outDir: join(dir, `late-${symbol}`), shard: null, resume: false, progress: createProgress('quiet'), onWarning: (w) => warnings.push(w) });
      return warnings.filter((w) => w.includes('on part of the window'));
    };
    // the runs trade AAAUSDT only: BBBUSDT's late listing changes none of their paths
    expect(await sweep('AAAUSDT')).toEqual([]);
    expect(await sweep('BBBUSDT')).toEqual([expect.stringMatching(/^stress: dataset late: BBBUSDT \(80 of 200\) has bars on part of the window only/)]);
  }, 120_000);

  it("two shock keys naming one symbol by its base asset ('BTC' and 'BTC-USD' for BTC-USD-PERP) are refused (78, naming both and the dataset): the first one's shock ran, the other's was dropped without a word", async () => {
    const H = 3_600_000;
    const start = Date.UTC(2025, 0, 1);
    const time = Array.from({ length: 60 }, (_, i) => start + i * H);
    const col = time.map((_, i) => 100 + Math.sin(i / 5));
    await writeDataset(join(dir, 'perp'), { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'BTC-USD-PERP', kind: 'candles', timeframe: '1h', time, columns: { open: col, high: col.map((x) => x * 1.01), low: col.map((x) => x * 0.99), close: col, volume: col.map(() => 1000) } }] });
    const config = (symbols: Record<string, unknown>) => {
      writeConfig(dir, 'perp.config.ts', { name: 'perp', data: './perp', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 12, symbol: 'BTC-USD-PERP' } }], leverage: [3], setups: ['cross'], stress: { scenarios: [{ id: 'two', symbols }], inject: { at: [start + 30 * H] }, paths: 0 } });
      return loadConfig(join(dir, 'perp.config.ts'));
    };
    const shock = { depth: -0.3, duration: '1h' };
    await expect(runSweep({ loaded: await config({ BTC: shock, 'BTC-USD': { ...shock, depth: -0.6 } }), outDir: join(dir, 'perp-two'), shard: null, resume: false, progress: createProgress('quiet') })).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^\S*perp\.config\.ts: stress scenario 'two': its keys 'BTC' and 'BTC-USD' both name BTC-USD-PERP of dataset perp \(a key names a symbol by its base asset\), and only the first one's shock would be used; keep one, or name the symbol exactly \('BTC-USD-PERP'\)$/),
    });
    expect(existsSync(join(dir, 'perp-two'))).toBe(false);
    // the symbol named exactly beside a base-asset key: the exact key is the one used, nothing is dropped unseen
    await runSweep({ loaded: await config({ BTC: shock, 'BTC-USD-PERP': shock }), outDir: join(dir, 'perp-exact'), shard: null, resume: false, progress: createProgress('quiet') });
    expect(resultFiles(join(dir, 'perp-exact')).length).toBeGreaterThan(0);
  }, 120_000);

  it('stress.pathEvents keeps the event log of path runs', async () => {
    evConfig(true);
    const r = await runCli(['stress', '-c', 'stress-ev.config.ts', '--workers', '1', '--out', 'ev', '--quiet'], dir);
    expect(r.code).toBe(0);
    const results = resultFiles(join(dir, 'ev')).map((f) => JSON.parse(read(join(dir, 'ev', 'results', f))) as RunResult);
    const paths = results.filter((x) => x.stress?.kind === 'path');
    expect(paths.length).toBe(4);
    expect(paths.every((x) => x.prices !== undefined && x.liquidationPrices !== undefined && x.eventsCap === undefined)).toBe(true);
    expect(paths.some((x) => x.events.length > 0)).toBe(true);
    expect(read(join(dir, 'ev', 'report.md'))).not.toContain('keep their outcome only');
    // --resume after turning it off: the path runs are done again without their event log, the others kept
    const before = new Map(results.map((x) => [x.runId, JSON.stringify(x)]));
    evConfig(false);
    const again = await runCli(['stress', '-c', 'stress-ev.config.ts', '--workers', '1', '--out', 'ev', '--resume'], dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/--resume: .*results\/[0-9a-f]{16}\.json was written with stress\.pathEvents true, the config now says false; it is removed and the run done again/);
    expect(again.stderr).toMatch(/4 runs to do \(2 already done, skipped\) of 6/);
    const after = resultFiles(join(dir, 'ev')).map((f) => JSON.parse(read(join(dir, 'ev', 'results', f))) as RunResult);
    expect(after.filter((x) => x.stress?.kind === 'path').every((x) => x.prices === undefined && x.events.length === 0)).toBe(true);
    for (const x of after.filter((y) => !y.stress)) expect(JSON.stringify(x)).toBe(before.get(x.runId));
    expect(read(join(dir, 'ev', 'report.md'))).toContain('4 Monte Carlo path runs keep their outcome only');
    // a resume stopped before any run started (a Ctrl-C while it loaded or planned): nothing in the
    // folder changes, not even the results the new config would redo
    evConfig(true);
    const stopped = new AbortController();
    stopped.abort();
    const warnings: string[] = [];
    const files = new Map(resultFiles(join(dir, 'ev')).map((f) => [f, read(join(dir, 'ev', 'results', f))]));
    const manifest = read(join(dir, 'ev', 'manifest.json'));
    await expect(
      runSweep({ loaded: await loadConfig(join(dir, 'stress-ev.config.ts')), outDir: join(dir, 'ev'), shard: null, resume: true, progress: createProgress('quiet'), signal: stopped.signal, onWarning: (w) => warnings.push(w) }),
    ).rejects.toMatchObject({ exitCode: 130, message: expect.stringMatching(/^interrupted before any run started: nothing in .* was changed$/) });
    expect(warnings).toHaveLength(0);
    expect(new Map(resultFiles(join(dir, 'ev')).map((f) => [f, read(join(dir, 'ev', 'results', f))]))).toEqual(files);
    expect(read(join(dir, 'ev', 'manifest.json'))).toBe(manifest);
  }, 120_000);

  it('--resume after a change of stress.pathEvents also redoes errored path runs that kept no events', async () => {
    const cfg = (pathEvents: boolean) => smallStress('stress-err', pathEvents, { strategies: [{ name: 'fixture-trades-then-throws', params: { at: 0 } }], setups: ['cross'] });
    cfg(true);
    const first = await runCli(['stress', '-c', 'stress-err.config.ts', '--workers', '1', '--out', 'err', '--quiet'], dir);
    expect(first.code).toBe(1);
    // the failed runs' list tells the paths apart (three alike lines before)
    const listed = first.stderr.split('\n').filter((l) => l.startsWith('  '));
    expect(listed).toHaveLength(3);
    expect(listed.filter((l) => / cross 3x path \d+: /.test(l))).toHaveLength(2);
    expect(new Set(listed).size).toBe(3);
    const paths = () => resultFiles(join(dir, 'err')).map((f) => JSON.parse(read(join(dir, 'err', 'results', f))) as RunResult).filter((x) => x.stress?.kind === 'path');
    expect(paths().map((x) => [x.status, x.events.length, x.prices !== undefined])).toEqual([['errored', 0, true], ['errored', 0, true]]);
    cfg(false);
    const again = await runCli(['stress', '-c', 'stress-err.config.ts', '--workers', '1', '--out', 'err', '--resume'], dir);
    expect(again.stderr).toMatch(/was written with stress\.pathEvents true, the config now says false; it is removed and the run done again/);
    expect(again.stderr).toMatch(/2 runs to do \(1 already done, skipped\) of 3/);
    expect(paths().map((x) => [x.status, x.prices === undefined])).toEqual([['errored', true], ['errored', true]]);
    expect(read(join(dir, 'err', 'report.md'))).toContain('2 Monte Carlo path runs keep their outcome only');
    // `marginlab run` of a config without a stress block into that folder replaces its stress results: it says so
    writeConfig(dir, 'nostress-err.config.ts', { name: 'nostress-err', data: './data', strategyDirs: [FIXTURE_STRATEGIES], leverage: [3], strategies: [{ name: 'fixture-trades-then-throws', params: { at: 0 } }], setups: ['cross'] });
    const history = await runCli(['run', '-c', 'nostress-err.config.ts', '--workers', '1', '--out', 'err'], dir);
    expect(history.code).toBe(1);
    expect(history.stderr).toContain(`marginlab: replacing the 3 results in ${join(dir, 'err')} of an earlier \`marginlab stress\` (its stress runs too) with this command's 1 history run;`);
    expect(resultFiles(join(dir, 'err'))).toHaveLength(1);
    // the same command again (no stress results left): no notice
    const again2 = await runCli(['run', '-c', 'nostress-err.config.ts', '--workers', '1', '--out', 'err'], dir);
    expect(again2.stderr).not.toContain('replacing the');
    // over a stress folder again: with --json a 'notice' event on stdout, with --quiet nothing
    expect((await runCli(['stress', '-c', 'stress-err.config.ts', '--workers', '1', '--out', 'err', '--quiet'], dir)).code).toBe(1);
    const json = await runCli(['run', '-c', 'nostress-err.config.ts', '--workers', '1', '--out', 'err', '--json'], dir);
    const notices = json.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { event: string; message?: string }).filter((e) => e.event === 'notice');
    expect(notices).toEqual([{ event: 'notice', message: expect.stringMatching(/^replacing the 3 results in .* of an earlier `marginlab stress`/) }]);
    expect(json.stderr).not.toContain('replacing the');
    expect((await runCli(['stress', '-c', 'stress-err.config.ts', '--workers', '1', '--out', 'err', '--quiet'], dir)).code).toBe(1);
    const quiet = await runCli(['run', '-c', 'nostress-err.config.ts', '--workers', '1', '--out', 'err', '--quiet'], dir);
    expect(quiet.stderr).not.toContain('replacing the');
    // but it is on record: manifest.json's warnings (a nightly --quiet job deleted hours of stress results without a word)
    const rec = JSON.parse(read(join(dir, 'err', 'manifest.json'))) as { warnings?: string[] };
    expect(rec.warnings).toEqual([expect.stringMatching(/^replacing the 3 results in .* of an earlier `marginlab stress` \(its stress runs too\) with this command's 1 history run;/)]);
    // a run with nothing replaced records none
    await runCli(['run', '-c', 'nostress-err.config.ts', '--workers', '1', '--out', 'err', '--quiet'], dir);
    expect((JSON.parse(read(join(dir, 'err', 'manifest.json'))) as { warnings?: string[] }).warnings).toBeUndefined();
  }, 120_000);

  it('--resume skips finished runs; an unknown scenario of --scenarios and --paths beyond the limit or not a number are usage errors (64) naming the flag', async () => {
    const r = await runCli(['stress', '-c', 'stress.config.ts', '--workers', '1', '--out', 'w1', '--resume'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/0 runs to do \(20 already done, skipped\) of 20/);
    const bad = await runCli(['stress', '-c', 'stress.config.ts', '--scenarios', 'crash-2021-05-1', '--out', 'bad'], dir);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/^marginlab: --scenarios crash-2021-05-1: unknown scenario 'crash-2021-05-1' \(did you mean 'crash-2021-05-19'\?\) \(known: /);
    const many = await runCli(['stress', '-c', 'stress.config.ts', '--paths', '2000000', '--out', 'many'], dir);
    expect(many).toMatchObject({ code: 64, stderr: "marginlab: --paths: expected a whole number from 0 to 1000000, got '2000000'\n" });
    const workers = await runCli(['run', '-c', 'stress.config.ts', '--workers', '5000', '--out', 'workers'], dir);
    expect(workers).toMatchObject({ code: 64, stderr: 'marginlab: --workers 5000: expected at most 1024 worker threads\n' });
    const usage = await runCli(['stress', '-c', 'stress.config.ts', '--paths', 'many'], dir);
    expect(usage.code).toBe(64);
    expect(usage.stderr).toMatch(/--paths: expected a whole number/);
    // a scenario that moves none of the dataset's symbols: a warning on stderr and in the manifest
    writeConfig(dir, 'doge.config.ts', {
      name: 'doge', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }], leverage: [3],
      stress: {
        scenarios: [{ id: 'doge-only', symbols: { DOGE: { depth: -0.3, duration: '1h' } } }, { id: 'sol-market', market: { depth: -0.2, duration: '1h' }, marketSymbol: 'SOL' }],
        inject: { random: 1 }, paths: 0, seed: 5,
      },
    });
    const doge = await runCli(['stress', '-c', 'doge.config.ts', '--out', 'doge'], dir);
    expect(doge.code, doge.stderr).toBe(0);
    const warning = /stress scenario 'doge-only' moves none of the symbols of dataset \S+ \(DOGE vs AAAUSDT, BBBUSDT\): its runs there are not planned \(they would replay the data unchanged and count as surviving the crash\)/;
    expect(doge.stderr).toMatch(warning);
    // a market shock whose market is none of the dataset's symbols: said for the config's own scenario (the crash pack's
    // documented fallback to the mean is not: stress.config.ts's first stderr line is the plan, tested above)
    const market = /stress scenario 'sol-market': its marketSymbol 'SOL' is none of the symbols of dataset \S+ \(AAAUSDT, BBBUSDT\), so the market shock it gives AAAUSDT, BBBUSDT is scaled by their betas to the equal-weighted mean of all 2 symbols; set marketSymbol to one of them to choose the market/;
    expect(doge.stderr).toMatch(market);
    expect(doge.stderr).not.toMatch(/stress scenario 'crash-/);
    expect((JSON.parse(read(join(dir, 'doge', 'manifest.json'))) as { warnings: string[] }).warnings).toEqual(expect.arrayContaining([expect.stringMatching(warning), expect.stringMatching(market)]));
    // a scenario moving a symbol of the dataset that a strategy does not trade: not planned for it (its runs replayed the
    // data unchanged and counted as surviving the crash, lowering P(liquidation)); planned for the one trading it
    writeConfig(dir, 'bbb.config.ts', {
      name: 'bbb', data: './data', strategyDirs: [FIXTURE_STRATEGIES], leverage: [3],
      strategies: [{ name: 'fixture-trend', grid: { symbol: ['AAAUSDT', 'BBBUSDT'] }, params: { lookback: 12 } }],
      stress: { scenarios: [{ id: 'bbb-only', symbols: { BBB: { depth: -0.3, duration: '1h' } } }], inject: { random: 2 }, paths: 0, seed: 5 },
    });
    const bbb = await runCli(['stress', '-c', 'bbb.config.ts', '--out', 'bbb'], dir);
    expect(bbb.code, bbb.stderr).toBe(0);
    const skipped = /stress scenario 'bbb-only' moves none of the symbols of strategy 'fixture-trend' \(AAAUSDT\) on dataset \S+ \(it moves BBB\): those runs are not planned/;
    expect(bbb.stderr).toMatch(skipped);
    const planned = resultFiles(join(dir, 'bbb')).map((f) => JSON.parse(read(join(dir, 'bbb', 'results', f))) as RunResult);
    expect(planned.filter((r) => !r.spec.stress)).toHaveLength(2 * 2); // the history runs of both symbols × 2 setups
    const scen = planned.filter((r) => r.spec.stress?.kind === 'scenario');
    // 2 injection times × 2 setups, for the BBB run only
    expect(scen.map((r) => r.spec.symbols.join())).toEqual(Array(scen.length).fill('BBBUSDT'));
    expect(scen.length).toBe(2 * 2);
  }, 120_000);

  it("a malformed stress block or an empty 'legs' is 78 naming the key, from stress as from run; --scenarios none ignores inject.at outside the window; 11 workers print no listener warning", async () => {
    const base = { name: 'bad', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: [{ name: 'fixture-trend', params: { lookback: 12 } }], leverage: [3] };
    for (const [file, stress, key] of [
      ['arr.config.ts', [], 'stress: expected an object, got []'],
      ['null.config.ts', null, 'stress: expected an object'],
      ['str.config.ts', 'abc', 'stress: expected an object'],
      ['legs.config.ts', { scenarios: [{ id: 'a', symbols: { AAA: { legs: [] } } }], paths: 0 }, 'stress.scenarios[0].symbols.AAA.legs: expected at least 1 item, got []'],
      ['mlegs.config.ts', { scenarios: [{ id: 'a', market: { legs: [] } }], paths: 0 }, 'stress.scenarios[0].market.legs: expected at least 1 item, got []'],
    ] as const) {
      writeConfig(dir, file, { ...base, stress });
      for (const cmd of ['stress', 'run']) {
        const r = await runCli([cmd, '-c', file, '--out', `o-${file}-${cmd}`, '-q'], dir);
        // (run ignores a stress block only when there is none)
        expect([r.code, r.stderr], `${cmd} ${file}`).toEqual([78, expect.stringContaining(key)]);
        expect(r.stderr, `${cmd} ${file}`).not.toMatch(/internal error|\n\s+at /);
      }
    }
    writeConfig(dir, 'at.config.ts', { ...base, stress: { scenarios: [{ id: 'x', symbols: { AAA: { depth: -0.1, duration: '1h' } } }], inject: { at: ['2020-01-01T00:00:00Z'] }, paths: 1, seed: 2 } });
    const outside = await runCli(['stress', '-c', 'at.config.ts', '--out', 'at1', '-q'], dir);
    expect([outside.code, outside.stderr]).toEqual([78, expect.stringContaining('marginlab: at.config.ts: stress.inject.at[0]: 2020-01-01T00:00:00.000Z is outside dataset')]);
    // inside the dataset but outside the window --from sets: the flag's problem (64), naming it
    writeConfig(dir, 'at2.config.ts', { ...base, stress: { scenarios: [{ id: 'x', symbols: { AAA: { depth: -0.1, duration: '1h' } } }], inject: { at: ['2025-01-03T00:00:00Z'] }, paths: 0 } });
    const flag = await runCli(['stress', '-c', 'at2.config.ts', '--from', '2025-01-10', '--out', 'at3', '-q'], dir);
    expect([flag.code, flag.stderr]).toEqual([64, expect.stringMatching(/^marginlab: --from 2025-01-10: stress\.inject\.at\[0\]: 2025-01-03T00:00:00\.000Z is outside dataset /)]);
    const none = await runCli(['stress', '-c', 'at.config.ts', '--scenarios', 'none', '--out', 'at2', '-q', '--workers', '11'], dir);
    expect([none.code, none.stderr]).toEqual([0, '']);
    expect(resultFiles(join(dir, 'at2')).length).toBe(4); // history and one path, × isolated and cross
  }, 120_000);

  it("pairs a wipe-out after the shock with the history run's own: a history run wiped out keeps its spans, a scenario run its first wiped-out bar, and a wick the history outlasts is not the shock's", async () => {
    // flat at 100 for 150 bars, then 80 to the end: a 10× long of 500 is wiped out at bar 150 in cross (the history's own)
    const H = 3_600_000;
    const T0 = Date.UTC(2025, 0, 1);
    const n = 200;
    const px = Array.from({ length: n }, (_, i) => (i < 150 ? 100 : 80));
    await writeDataset(join(dir, 'falls'), {
      venue: 'binance-usdm', timeframe: '1h',
      series: [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: px.map((_, i) => T0 + i * H), columns: { open: px, high: px, low: px, close: px, volume: px.map(() => 1000) } }],
    });
    mkdirSync(join(dir, 'hold'), { recursive: true });
    // the strategy imports 'marginlab' as a user's does: the package installed beside it
    mkdirSync(join(dir, 'node_modules'), { recursive: true });
    if (!existsSync(join(dir, 'node_modules', 'marginlab'))) symlinkSync(join(import.meta.dirname, '..'), join(dir, 'node_modules', 'marginlab'), 'dir');
    writeFileSync(join(dir, 'hold', 'hold.ts'), `import { defineStrategy, z } from 'marginlab';
export default defineStrategy({
  name: 'hold', description: 'buys 500 at the first bar', params: z.object({}), symbols: () => ['BTCUSDT'],
  create() { let done = false; return { onBar(ctx) { if (!done) { done = true; ctx.buy(0, 500); } } }; },
});
`);
    const base = { name: 'wipe', data: './falls', strategyDirs: ['./hold'], strategies: ['hold'], leverage: [10], setups: ['isolated', 'cross'], venue: { id: 'binance-usdm', overrides: { fees: { maker: 0, taker: 0 } } }, execution: { slippageBps: 0 }, initialCapital: 10_000 };
    // a -2 % wick at bar 50 (the history's wipe-out is 100 bars later), and a -60 % slide there (the shock's own)
    writeConfig(dir, 'wipe.config.ts', { ...base, stress: { scenarios: [{ id: 'wick', symbols: { BTC: { depth: -0.02, duration: '2h', shape: 'wick' } } }, { id: 'crash', symbols: { BTC: { depth: -0.6, duration: '1h' } } }], inject: { at: [T0 + 50 * H] }, paths: 0 } });
    const r = await runCli(['stress', '-c', 'wipe.config.ts', '--out', 'wipe', '-q'], dir);
    expect(r.code, r.stderr).toBe(0);
    const results = resultFiles(join(dir, 'wipe')).map((f) => JSON.parse(read(join(dir, 'wipe', 'results', f))) as RunResult);
    const one = (setup: string, scenario: string | null) => results.find((x) => x.spec.setup === setup && (scenario === null ? !x.spec.stress : x.spec.stress?.kind === 'scenario' && x.spec.stress.scenario === scenario))!;
    expect(one('cross', null).wipeOuts).toEqual([[T0 + 150 * H, null]]);
    expect(one('isolated', null).wipeOuts).toBeUndefined(); // isolated loses its margin only: never below 5 %
    expect(one('cross', 'wick').stress!.wipedOutFromShockAt).toBe(T0 + 150 * H);
    expect(one('cross', 'crash').stress!.wipedOutFromShockAt).toBe(T0 + 50 * H);
    const summary = JSON.parse(read(join(dir, 'wipe', 'summary.json'))) as { runs: { setup: string; stress: { view: { scenario?: string }; wipedOutByShock: boolean | null; wipedOutAsHistory: boolean | null } | null }[] };
    const cross = (sc: string) => summary.runs.find((x) => x.setup === 'cross' && x.stress?.view.scenario === sc)!.stress!;
    expect([cross('wick').wipedOutByShock, cross('wick').wipedOutAsHistory]).toEqual([false, true]);
    expect([cross('crash').wipedOutByShock, cross('crash').wipedOutAsHistory]).toEqual([true, false]);
    // a gap 30 minutes into a bar: the run warns that the bar shows it as a move, and records the warning
    writeConfig(dir, 'midgap.config.ts', { ...base, stress: { scenarios: [{ id: 'midgap', symbols: { BTC: { depth: -0.5, shape: 'gap', duration: '1h' } } }], inject: { at: [T0 + 50 * H + 30 * 60_000] }, paths: 0 } });
    const mid = await runCli(['stress', '-c', 'midgap.config.ts', '--out', 'midgap'], dir);
    expect(mid.code, mid.stderr).toBe(0);
    const said = `stress scenario 'midgap': its price jump (a 'gap' leg, or a 'slide' of duration 0) at ${new Date(T0 + 50 * H + 30 * 60_000).toISOString()} falls inside a 1h bar`;
    expect(mid.stderr).toContain(`marginlab: warning: ${said}`);
    expect((JSON.parse(read(join(dir, 'midgap', 'manifest.json'))) as { warnings: string[] }).warnings).toEqual(expect.arrayContaining([expect.stringContaining(said)]));
    expect(read(join(dir, 'wipe', 'report.md'))).toMatch(/\| wick \| [^|]+ \| cross \| [^|]+ \| after the shock as in the history \|/);
  }, 120_000);

  it('--list prints the crash pack (text and --json), with a config its own scenarios and what it runs; an empty --scenarios and a bad --seed are usage errors (64)', async () => {
    // a scenario moving none of the dataset's symbols plans no run: it is defined, not run (it read "run by the config")
    writeConfig(dir, 'doge.config.ts', { name: 'st', data: './data', strategyDirs: [FIXTURE_STRATEGIES], strategies: ['fixture-trend'], stress: { scenarios: ['crash-2025-10-10', 'alt-wick', { id: 'doge-only', symbols: { DOGE: { depth: -0.4, duration: '1h' } } }] } });
    const [text, json, empty, seed, withConfig, withConfigJson, missing, doge] = await Promise.all([
      runCli(['stress', '--list'], dir),
      runCli(['stress', '--list', '--json'], dir),
      runCli(['stress', '-c', 'stress.config.ts', '--scenarios', ',', '--out', 'x'], dir),
      runCli(['stress', '-c', 'stress.config.ts', '--seed', 'x', '--out', 'y'], dir),
      runCli(['stress', '--list', '-c', 'stress.config.ts'], dir),
      runCli(['stress', '--list', '--json', '-c', 'stress.config.ts'], dir),
      runCli(['stress', '--list', '-c', 'absent.config.ts'], dir),
      runCli(['stress', '--list', '-c', 'doge.config.ts'], dir),
    ]);
    expect(doge.code, doge.stderr).toBe(0);
    expect(doge.stdout).toMatch(/^crash-2025-10-10 +.*\[run by the config\]$/m);
    // the pack's alt-wick moves ADA only (no market shock)
    expect(doge.stdout).toMatch(/^alt-wick +.*\[not run by the config\]$/m);
    expect(doge.stdout).toMatch(/^doge-only +.*\[defined by the config; not run by the config\]$/m);
    // the config's custom scenario is listed after the pack, and each row says whether the config runs it
    expect(withConfig.code, withConfig.stderr).toBe(0);
    expect(withConfig.stdout).toMatch(/^crash-2025-10-10 +.*\[run by the config\]$/m);
    expect(withConfig.stdout).toMatch(/^alt-wick +.*\[not run by the config\]$/m);
    expect(withConfig.stdout).toMatch(/^aaa-gap +\(no title\)  \[defined by the config; run by the config\]$/m);
    const listed = JSON.parse(withConfigJson.stdout) as { id: string; source: string; runs: boolean }[];
    expect(listed.map((x) => [x.id, x.source, x.runs])).toEqual([
      ['crash-2025-10-10', 'pack', true], ['crash-2021-05-19', 'pack', false], ['crash-2020-03-12', 'pack', false],
      ['alt-wick', 'pack', false], ['correlation-break', 'pack', false], ['aaa-gap', 'config', true],
    ]);
    // the default config that does not load: warned about, the pack listed (a named one: its error, as above)
    const broken = mkdtempSync(join(tmpdir(), 'ml-stress-list-'));
    writeFileSync(join(broken, 'backtest.config.ts'), 'export default {\n');
    const fallback = await runCli(['stress', '--list'], broken);
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stderr).toMatch(/^marginlab: warning: backtest\.config\.ts did not load, so its own scenarios are not listed \(.*\); the crash pack:\n$/);
    expect(fallback.stdout).toMatch(/^alt-wick +/m);
    // a config named with -c that is absent is its usual error; without -c and without backtest.config.ts, the pack alone
    expect(missing.code).toBe(66);
    expect(missing.stderr).toMatch(/config file not found: absent\.config\.ts/);
    expect(text.stdout).not.toMatch(/run by the config/);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^crash-2025-10-10 +2025-10-10 /m);
    expect(text.stdout).toMatch(/^correlation-break /m);
    expect(json.code).toBe(0);
    const list = JSON.parse(json.stdout) as { id: string; title: string; date: string | null }[];
    expect(list.map((x) => x.id)).toEqual(['crash-2025-10-10', 'crash-2021-05-19', 'crash-2020-03-12', 'alt-wick', 'correlation-break']);
    expect(empty.code).toBe(64);
    expect(empty.stderr).toMatch(/--scenarios: expected a comma-separated list of scenario ids \(or 'none'\)/);
    expect(seed.code).toBe(64);
    expect(seed.stderr).toMatch(/--seed: expected a whole number from 0 to 4294967295, got 'x'/);
  }, 60_000);
});

describe("the crash pack's mark moves on data without bar-timeframe mark candles", () => {
  it("are warned about as a config's own scenario's are: XRP's mark 10 % past its wick moves nothing the liquidations read", async () => {
    const d = join(dir, 'xrp-data');
    await makeDataset(d, { bars: 400, seed: 4, symbols: ['XRPUSDT', 'BTCUSDT'] });
    // fixture-trend trading one symbol of the XRP + BTC data
    const trading = (name: string, symbol: string) =>
      writeConfig(dir, `${name}.config.ts`, {
        name,
        data: './xrp-data',
        strategyDirs: [FIXTURE_STRATEGIES],
        strategies: [{ name: 'fixture-trend', params: { lookback: 12, symbol } }],
        leverage: [3],
        setups: ['isolated'],
        workers: 1,
        output: { formats: ['json'] },
      });
    trading('xrp', 'XRPUSDT');
    const r = await runCli(['stress', '-c', 'xrp.config.ts', '--scenarios', 'crash-2025-10-10', '--paths', '0', '--out', 'xrp-out'], dir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain("marginlab: warning: stress scenario 'crash-2025-10-10' sets markExtra for XRPUSDT, which has no mark candles at the 1h bars of dataset ");
    // the pack's own BTC market falls back to nothing here (the dataset has BTC): no market warning either way
    expect(r.stderr).not.toContain('equal-weighted mean');
    // a strategy trading BTC only on the same data: XRP's mark move changes none of its runs, so nothing is said of it
    // (it was told to import mark candles for a symbol no run trades)
    trading('xrp-btc', 'BTCUSDT');
    const btc = await runCli(['stress', '-c', 'xrp-btc.config.ts', '--scenarios', 'crash-2025-10-10', '--paths', '0', '--out', 'xrp-btc-out'], dir);
    expect(btc.code, btc.stderr).toBe(0);
    expect(btc.stderr).not.toContain('sets markExtra');
    expect(read(join(dir, 'xrp-btc-out', 'manifest.json'))).not.toContain('sets markExtra');
  });
});

describe("a path's crashes on a short window, through the command", () => {
  it('the plan line says the crashes a path carries, and the warnings say why (more crashes than bars; a crash whose shock starts after the end of every path); no jump after the end is said to fall inside a bar', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-stress-crashes-'));
    await makeDataset(join(d, 'data'), { bars: 40, seed: 3 });
    writeConfig(d, 'short.config.ts', {
      name: 'short',
      data: './data',
      strategyDirs: [FIXTURE_STRATEGIES],
      strategies: [{ name: 'fixture-trend', params: { lookback: 6 } }],
      setups: ['isolated'],
      leverage: [3],
      stress: {
        scenarios: [
          { id: 'aaa-gap', symbols: { AAA: { depth: -0.3, shape: 'gap', duration: 0 } } },
          { id: 'aaa-late', symbols: { AAA: { depth: -0.3, shape: 'gap', duration: 0, at: '30d30m' } } },
        ],
        crashScenarios: ['aaa-gap', 'aaa-late'],
        paths: 2,
        crashesPerPath: 100,
        seed: 1,
      },
    });
    const r = await runCli(['stress', '-c', 'short.config.ts', '--scenarios', 'none', '--out', 'out'], d);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^marginlab: stress: no scenario and 2 Monte Carlo paths \(26 crashes each\)/m);
    expect(r.stderr).toContain("stress.crashesPerPath 100 is above the 26 bars of dataset data a path's crashes can start at (one crash per bar, in its bars 10 to 35): each path carries 26 crashes");
    expect(r.stderr).toMatch(/stress scenario 'aaa-late': drawn into the Monte Carlo paths, its shock starts .* from every one of the 26 bars a path's crash can start at \(bars 10 to 35\): its crashes are replayed in no path/);
    expect(r.stderr).not.toContain('falls inside');
    // every path run carries 26 crashes on 26 distinct bars
    const paths = resultFiles(join(d, 'out')).map((f) => JSON.parse(read(join(d, 'out', 'results', f))) as RunResult).filter((x) => x.spec.stress?.kind === 'path');
    expect(paths).toHaveLength(2);
    for (const p of paths) {
      const at = p.spec.stress?.kind === 'path' ? (p.spec.stress.crashes ?? []).map((c) => c.injectAt) : [];
      expect(new Set(at).size).toBe(26);
    }
  });
});
