/**
 * The run layer end to end, through the CLI as separate processes: determinism across worker
 * counts and shards, resume after a kill, failure isolation, Ctrl-C, and every exit code.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { Decimal } from 'decimal.js';
import { makeDataset } from './fixtures/run/data.js';
import { FIXTURE_STRATEGIES, REPO, resultFiles, runCli, SOURCES_BIN, startCli, waitFor, writeConfig } from './fixtures/run/cli.js';
import type { RunManifest, RunResult } from '../src/shard/types.js';

let dir: string;
const sweep = (extra: Record<string, unknown> = {}) => ({
  name: 'fx',
  data: './data',
  strategyDirs: [FIXTURE_STRATEGIES],
  strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }],
  leverage: [3, 20],
  ...extra,
});
const read = (p: string) => readFileSync(p, 'utf8');
const results = (out: string) => resultFiles(out).map((f) => JSON.parse(read(join(out, 'results', f))) as RunResult);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-run-'));
  await makeDataset(join(dir, 'data'), { bars: 1500, seed: 7 });
  writeConfig(dir, 'sweep.config.ts', sweep());
});

describe('determinism', () => {
  it('1 worker, 2 workers and two shards merged give byte-identical summary.json and results', async () => {
    const [w1, w2, s1, s2] = await Promise.all([
      runCli(['run', '-c', 'sweep.config.ts', '--workers', '1', '--out', 'w1', '--quiet'], dir),
      runCli(['run', '-c', 'sweep.config.ts', '--workers', '2', '--out', 'w2', '--json'], dir),
      runCli(['run', '-c', 'sweep.config.ts', '--shard', '1/2', '--workers', '1', '--out', 's1', '--quiet'], dir),
      runCli(['run', '-c', 'sweep.config.ts', '--shard', '2/2', '--workers', '1', '--out', 's2', '--quiet'], dir),
    ]);
    for (const r of [w1, w2, s1, s2]) expect(r.stderr).toBe('');
    // --json: machine-readable progress events on stdout
    const events = w2.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; [k: string]: unknown });
    expect(events[0]).toMatchObject({ event: 'start', totalRuns: 8, pending: 8, skipped: 0, workers: 2 });
    expect(events.filter((e) => e.event === 'run')).toHaveLength(8);
    expect(events.find((e) => e.event === 'done')).toMatchObject({ ok: 8, errored: 0, interrupted: false });
    expect(events.at(-1)).toMatchObject({ event: 'report' });
    expect([w1.code, w2.code, s1.code, s2.code]).toEqual([0, 0, 0, 0]);
    expect(resultFiles(join(dir, 'w1'))).toHaveLength(2 * 2 * 2);
    expect(resultFiles(join(dir, 's1')).length).toBeGreaterThan(0);
    expect(resultFiles(join(dir, 's2')).length).toBeGreaterThan(0);
    const m = await runCli(['merge', 's1', 's2', '--out', 'merged'], dir);
    expect(m.code).toBe(0);
    expect(m.stderr).toMatch(/merged 2 folders: 8 runs \(8 ok, 0 errored\) of 8 planned/);
    const summary = read(join(dir, 'w1', 'summary.json'));
    expect(read(join(dir, 'w2', 'summary.json'))).toBe(summary);
    expect(read(join(dir, 'merged', 'summary.json'))).toBe(summary);
    expect(read(join(dir, 'merged', 'runs.csv'))).toBe(read(join(dir, 'w1', 'runs.csv')));
    for (const f of resultFiles(join(dir, 'w1'))) {
      expect(read(join(dir, 'w2', 'results', f))).toBe(read(join(dir, 'w1', 'results', f)));
      expect(read(join(dir, 'merged', 'results', f))).toBe(read(join(dir, 'w1', 'results', f)));
    }
    const man = JSON.parse(read(join(dir, 'merged', 'manifest.json'))) as RunManifest;
    expect(man.shard).toBeNull();
    expect(man.mergedFrom?.map((x) => x.shard)).toEqual([{ index: 1, count: 2 }, { index: 2, count: 2 }]);
    const w1m = JSON.parse(read(join(dir, 'w1', 'manifest.json'))) as RunManifest;
    expect(w1m.runs).toEqual({ total: 8, ok: 8, errored: 0 });
    expect(w1m.workers).toBe(1);
    expect(Object.keys(w1m.datasets[0]!.hashes)).toContain('manifest.json');
    expect(Object.isFrozen(w1m)).toBe(false);
    // every run actually traded
    expect(results(join(dir, 'w1')).every((r) => r.status === 'ok' && r.bars === 1500 && (r.metrics.trades ?? 0) > 0)).toBe(true);
    // trades.csv and liquidations.csv are the same whatever the workers or shards
    for (const f of ['trades.csv', 'liquidations.csv']) {
      expect(read(join(dir, 'w2', f))).toBe(read(join(dir, 'w1', f)));
      expect(read(join(dir, 'merged', f))).toBe(read(join(dir, 'w1', f)));
    }
    // the wall-clock figures (workers, created, wall clock) are in the manifest and report.html's footer only, as
    // docs/scaling.md says (it said "only in manifest.json", while the footer shows them: docs/report.md)
    const reports = ['summary.json', 'runs.csv', 'report.md', 'report.html', 'trades.csv', 'liquidations.csv'];
    expect(reports.filter((f) => read(join(dir, 'w2', f)) !== read(join(dir, 'w1', f)))).toEqual(['report.html']);
    const footer = /<footer>[\s\S]*?<\/footer>/;
    expect(read(join(dir, 'w2', 'report.html'))).toMatch(/<footer>[^<]* · 2 workers · created [^<]* · wall clock [^<]*<\/footer>/);
    expect(read(join(dir, 'w2', 'report.html')).replace(footer, '')).toBe(read(join(dir, 'w1', 'report.html')).replace(footer, ''));
    const scaling = read(join(REPO, 'docs', 'scaling.md')).replace(/\s+/g, ' ');
    expect(scaling.match(/Wall-clock figures .*?\(tested\)\./)?.[0]).toBe(
      "Wall-clock figures (worker count, creation time, wall clock) live in `manifest.json` and in report.html's footer (docs/report.md), which therefore differs from run to run; none is in summary.json, runs.csv or report.md, so `summary.json` is byte-identical for any worker count and any sharding (tested).",
    );
  });

  it('trades.csv reconciles with the books of each run exactly; liquidations.csv matches the liquidation counts', () => {
    const D = Decimal.clone({ precision: 80 });
    const trades = parse(read(join(dir, 'w1', 'trades.csv')), { columns: true }) as Record<string, string>[];
    const liqs = parse(read(join(dir, 'w1', 'liquidations.csv')), { columns: true }) as Record<string, string>[];
    let liquidated = 0;
    for (const r of results(join(dir, 'w1'))) {
      const mine = trades.filter((t) => t.runId === r.runId);
      const total = (c: string) => mine.reduce((a, t) => a.plus(t[c]!), new D(0)).toFixed();
      const b = r.books;
      expect(total('realizedPnl')).toBe(new D(b.realizedPnl!).toFixed());
      expect(total('fees')).toBe(new D(b.fees!).toFixed());
      expect(total('funding')).toBe(new D(b.fundingReceived!).minus(b.fundingPaid!).toFixed());
      expect(total('liquidationPenalty')).toBe(new D(b.liquidationPenalties!).toFixed());
      expect(total('insuranceDraw')).toBe(new D(b.insuranceDraws!).toFixed());
      expect(liqs.filter((l) => l.runId === r.runId)).toHaveLength(r.metrics.liquidations!);
      expect(r.eventsCap).toBeUndefined();
      liquidated += r.metrics.liquidations!;
    }
    expect(liquidated).toBeGreaterThan(0);
  });

  it('the bundled sweep keeps every event: runs with more than 200 events keep them all, the trades sum to the books', async () => {
    const out = join(dir, 'bundled');
    const r = await runCli(['run', '-c', join(REPO, 'backtest.config.ts'), '--strategies', 'grid', '--out', out, '--quiet'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rs = results(out);
    const big = rs.filter((x) => x.events.length > 200);
    expect(big.length).toBeGreaterThan(0);
    for (const x of big) {
      expect(x.eventsCap).toBeUndefined();
      // every fill is there: one fill record per fill the trades metric counted, at least
      expect(x.events.filter((e) => e.type === 'fill').length).toBeGreaterThanOrEqual(2 * x.metrics.trades!);
    }
    const D = Decimal.clone({ precision: 80 });
    const trades = parse(read(join(out, 'trades.csv')), { columns: true }) as Record<string, string>[];
    for (const x of rs) {
      const fees = trades.filter((t) => t.runId === x.runId).reduce((a, t) => a.plus(t.fees!), new D(0));
      expect(fees.toFixed()).toBe(new D(x.books.fees!).toFixed());
    }
  });

  it("the TypeScript sources through tsx (src/cli/bin.mjs: what npm run backtest runs when dist/ is stale) give the compiled CLI's results", async () => {
    const out = join(dir, 'bundled-sources');
    const { child, done } = startCli(['run', '-c', join(REPO, 'backtest.config.ts'), '--strategies', 'grid', '--out', out, '--quiet'], dir, { bin: SOURCES_BIN });
    expect(child.spawnargs).toContain(SOURCES_BIN);
    const r = await done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const fromSources = results(out);
    const compiled = results(join(dir, 'bundled'));
    expect(fromSources.length).toBeGreaterThan(0);
    expect(fromSources.map((x) => x.runId)).toEqual(compiled.map((x) => x.runId));
    for (let k = 0; k < compiled.length; k++) {
      expect(fromSources[k]!.books).toEqual(compiled[k]!.books);
      expect(fromSources[k]!.metrics).toEqual(compiled[k]!.metrics);
      expect(fromSources[k]!.events).toEqual(compiled[k]!.events);
    }
  });

  it('shards of one plan run by the compiled CLI and by the sources merge: the built-in strategy is recorded by its source either way (merge said "ran different versions")', async () => {
    const cfg = join(REPO, 'backtest.config.ts');
    const a = await runCli(['run', '-c', cfg, '--strategies', 'buy-and-hold', '--shard', '1/2', '--out', 'mixed-1', '--quiet'], dir);
    const b = await startCli(['run', '-c', cfg, '--strategies', 'buy-and-hold', '--shard', '2/2', '--out', 'mixed-2', '--quiet'], dir, { bin: SOURCES_BIN }).done;
    expect([a.code, b.code]).toEqual([0, 0]);
    const hashes = (f: string) => (JSON.parse(read(join(dir, f, 'manifest.json'))) as { plan: { strategyHashes: Record<string, string> } }).plan.strategyHashes;
    expect(hashes('mixed-1')).toEqual(hashes('mixed-2'));
    const m = await runCli(['merge', 'mixed-1', 'mixed-2', '--out', 'mixed-merged', '--quiet'], dir);
    expect(m.stderr).toBe('');
    expect(m.code).toBe(0);
  });

  it('merge refuses folders of different configs, engines or data, exit 65', async () => {
    writeConfig(dir, 'other.config.ts', sweep({ leverage: [3, 21] }));
    const o = await runCli(['run', '-c', 'other.config.ts', '--shard', '2/2', '--out', 'other', '--quiet'], dir);
    expect(o.code).toBe(0);
    const r = await runCli(['merge', 's1', 'other', '--out', 'bad-merge'], dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/do not belong to one sweep/);
    expect(r.stderr).toMatch(/config: s1 and other differ in leverage/);
    expect(existsSync(join(dir, 'bad-merge'))).toBe(false);
    const missing = await runCli(['merge', 's1', 'nope', '--out', 'bad-merge'], dir);
    expect(missing.code).toBe(66);
  });
});

describe('resume', () => {
  it('a sweep killed midway and resumed equals an uninterrupted sweep', async () => {
    writeConfig(dir, 'slow.config.ts', sweep({ strategies: [{ name: 'fixture-trend', grid: { lookback: [4, 8, 12, 16, 20, 24] } }], leverage: [5], workers: 1 }));
    const out = join(dir, 'killed');
    // only the command killed is slowed (120 µs a bar, not a param: the same run ids); the others run at full speed
    const { child, done } = startCli(['run', '-c', 'slow.config.ts', '--out', 'killed', '--quiet'], dir, { env: { MARGINLAB_TEST_SPIN_US: '120' } });
    await waitFor(() => resultFiles(out).length >= 2, 60_000, 'two results');
    child.kill('SIGKILL');
    await done;
    const kept = resultFiles(out);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    expect(kept.length).toBeLessThan(12);
    // nothing half-written: every file parses, no temp files under a result name
    for (const f of kept) expect(() => JSON.parse(read(join(out, 'results', f)))).not.toThrow();
    const mtimes = new Map(kept.map((f) => [f, statSync(join(out, 'results', f)).mtimeMs]));

    const [resumed, full] = await Promise.all([
      runCli(['run', '-c', 'slow.config.ts', '--out', 'killed', '--resume'], dir),
      runCli(['run', '-c', 'slow.config.ts', '--out', 'full', '--quiet'], dir),
    ]);
    expect(resumed.code).toBe(0);
    expect(full.code).toBe(0);
    expect(resumed.stderr).toContain(`(${kept.length} already done, skipped) of 12`);
    for (const [f, t] of mtimes) expect(statSync(join(out, 'results', f)).mtimeMs).toBe(t);
    expect(resultFiles(out)).toEqual(resultFiles(join(dir, 'full')));
    for (const f of resultFiles(out)) expect(read(join(out, 'results', f))).toBe(read(join(dir, 'full', 'results', f)));
    expect(read(join(out, 'summary.json'))).toBe(read(join(dir, 'full', 'summary.json')));
    expect(readdirSync(join(out, 'results')).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // a pass with one setup done and the other missing replays only the missing one: same bytes
    const { rmSync } = await import('node:fs');
    const all = results(out);
    const oneOfPair = all.filter((r) => r.spec.setup === 'cross').slice(0, 2).map((r) => `${r.runId}.json`);
    for (const f of oneOfPair) rmSync(join(out, 'results', f));
    const again = await runCli(['run', '-c', 'slow.config.ts', '--out', 'killed', '--resume', '--quiet'], dir);
    expect(again.code).toBe(0);
    for (const f of oneOfPair) expect(read(join(out, 'results', f))).toBe(read(join(dir, 'full', 'results', f)));
  });
});

describe('failure isolation', () => {
  it("a run again into its folder (plain and --force) replaces only its own results: a user's file in results/ stays", async () => {
    writeConfig(dir, 'keep.config.ts', sweep({ leverage: [3] }));
    // the user's own folder (below) is checked side by side with the run's folder: nothing is shared but the config
    const keepFolder = async () => {
      const first = await runCli(['run', '-c', 'keep.config.ts', '--out', 'keep', '--quiet'], dir);
      expect(first.code).toBe(0);
      const note = join(dir, 'keep', 'results', 'notes.txt');
      writeFileSync(note, 'mine');
      // a result of an earlier plan (here one cut short): marginlab's, so a new run clears it
      writeFileSync(join(dir, 'keep', 'results', '0123456789abcdef.json'), '{"schemaVersion":3,"runId":"0123456789abcdef","spec":{"strat');
      // and an empty one (nothing in it to lose)
      writeFileSync(join(dir, 'keep', 'results', 'fedcba9876543210.json'), '');
      for (const extra of [[], ['--force']]) {
        const r = await runCli(['run', '-c', 'keep.config.ts', '--out', 'keep', '--quiet', ...extra], dir);
        expect(r.code, r.stderr).toBe(0);
        expect(read(note)).toBe('mine');
        expect(existsSync(join(dir, 'keep', 'results', '0123456789abcdef.json'))).toBe(false);
        expect(existsSync(join(dir, 'keep', 'results', 'fedcba9876543210.json'))).toBe(false);
        expect(resultFiles(join(dir, 'keep'))).toHaveLength(4); // 2 lookbacks × 2 setups × 1 leverage
      }
      // a file of a result's name that holds no result (its run id is not in it): the user's, refused and kept
      const named = join(dir, 'keep', 'results', '0000000000000000.json');
      writeFileSync(named, '{"mine": true}\n');
      for (const extra of [[], ['--force']]) {
        const r = await runCli(['run', '-c', 'keep.config.ts', '--out', 'keep', '--quiet', ...extra], dir);
        expect(r.code).toBe(64);
        expect(r.stderr.trim()).toBe(`marginlab: ${named} is named like a result but is not one marginlab wrote (its run id is not in it), and this command replaces the folder's results: move it out of that folder (marginlab never deletes it); nothing was changed`);
        expect(read(named)).toBe('{"mine": true}\n');
        expect(resultFiles(join(dir, 'keep'))).toHaveLength(5);
      }
      rmSync(named);
      // merge into a folder replaces its results too: refused the same way
      cpSync(join(dir, 'keep'), join(dir, 'keep-m'), { recursive: true });
      const namedM = join(dir, 'keep-m', 'results', '0000000000000000.json');
      writeFileSync(namedM, '{"mine": true}\n');
      const m = await runCli(['merge', 'keep', '--out', 'keep-m', '--force', '--quiet'], dir);
      expect(m.code, m.stderr).toBe(64);
      expect(m.stderr).toContain(`${namedM} is named like a result but is not one marginlab wrote`);
      expect(read(namedM)).toBe('{"mine": true}\n');
      // a .json of the user's there is refused before any work (the report would read it), and kept
      const mine = join(dir, 'keep', 'results', 'my-analysis.json');
      writeFileSync(mine, '{"mine":true}');
      for (const extra of [['--force'], ['--resume']]) {
        const r = await runCli(['run', '-c', 'keep.config.ts', '--out', 'keep', '--quiet', ...extra], dir);
        expect(r.code).toBe(64);
        expect(r.stderr.trim()).toBe(`marginlab: ${mine} is not a result marginlab wrote, and the report reads every .json file in results/: move it out of that folder (marginlab never deletes it)`);
        expect(read(mine)).toBe('{"mine":true}');
        expect(resultFiles(join(dir, 'keep'))).toHaveLength(5);
      }
      // the same folder named by the config's output.dir: a config error (78)
      writeConfig(dir, 'keep-dir.config.ts', sweep({ leverage: [3], output: { dir: 'keep' } }));
      const fromConfig = await runCli(['run', '-c', 'keep-dir.config.ts', '--quiet'], dir);
      expect(fromConfig.code).toBe(78);
      expect(fromConfig.stderr).toContain(`${mine} is not a result marginlab wrote`);
      expect(read(mine)).toBe('{"mine":true}');
    };
    const userFolder = async () => {
      // a user's folder (no marker) that --force is refused for stays the user's: no marker is left behind, so a later
      // command without --force is refused there too and the user's report.md is never replaced
      const user = join(dir, 'user-folder');
      mkdirSync(join(user, 'results'), { recursive: true });
      writeFileSync(join(user, 'report.md'), 'my notes\n');
      writeFileSync(join(user, 'results', 'abc.json'), '{"mine":1}');
      const forced = await runCli(['run', '-c', 'keep.config.ts', '--out', 'user-folder', '--quiet', '--force'], dir);
      expect(forced.code).toBe(64);
      expect(readdirSync(user).sort()).toEqual(['report.md', 'results']);
      rmSync(join(user, 'results', 'abc.json'));
      const plain = await runCli(['run', '-c', 'keep.config.ts', '--out', 'user-folder', '--quiet'], dir);
      expect(plain.code).toBe(64);
      expect(plain.stderr).toMatch(/is not empty and was not written by marginlab/);
      expect(read(join(user, 'report.md'))).toBe('my notes\n');
    };
    await Promise.all([keepFolder(), userFolder()]);
  });

  it('a throwing, a hanging and a dying strategy become errored results; the others finish; exit 1', async () => {
    writeConfig(dir, 'fail.config.ts', sweep({
      strategies: ['fixture-trend', { name: 'fixture-throws', params: { at: 1000 } }, 'fixture-hangs', 'fixture-dies'],
      leverage: [3],
      timeoutMs: 4000,
      workers: 2,
    }));
    const r = await runCli(['run', '-c', 'fail.config.ts', '--out', 'fail'], dir);
    expect(r.code).toBe(1);
    const res = results(join(dir, 'fail'));
    expect(res).toHaveLength(8);
    const by = (s: string) => res.filter((x) => x.spec.strategy === s);
    expect(by('fixture-trend').map((x) => x.status)).toEqual(['ok', 'ok']);
    for (const x of by('fixture-throws')) {
      expect(x.status).toBe('errored');
      // what it threw, then where: the callback, the failing bar (by its open: ctx.time there, the data's row) and the strategy's own line
      const bar1000 = new Date(Date.UTC(2025, 0, 1) + 1000 * 3_600_000).toISOString();
      expect(x.error).toMatch(new RegExp(`^strategy threw: Error: fixture-throws: boom at bar 1000 \\(in onBar of the bar at ${bar1000.replace(/\./g, '\\.')}, /.*/fixture-throws\\.ts:14:\\d+\\)$`));
      expect(x.bars).toBeGreaterThanOrEqual(1000);
      expect(x.bars).toBeLessThan(1500);
    }
    // where it hung: the bar (as the strategy counts it, ctx.bar) and its time
    for (const x of by('fixture-hangs')) expect(x).toMatchObject({ status: 'errored', error: expect.stringMatching(/^timeout: the run passed its 4000 ms limit at bar 10 \(ctx\.bar; its open \d{4}-\d\d-\d\dT\d\d:00:00\.000Z\) and was stopped$/) });
    for (const x of by('fixture-dies')) expect(x).toMatchObject({ status: 'errored', error: 'worker died (exit code 9)' });
    expect(r.stderr).toMatch(/6 runs failed:/);
    // each failed run with its params (the runs of a grid point were told apart only in report.md)
    for (const x of by('fixture-throws')) {
      expect(r.stderr).toContain(`  ${x.runId} fixture-throws (at=1000, symbol=AAAUSDT) ${x.spec.setup} 3x: strategy threw`);
      expect(r.stderr).toContain(`marginlab: run ${x.runId} (fixture-throws at=1000, symbol=AAAUSDT, ${x.spec.setup}, 3x) errored: strategy threw`);
    }
    const man = JSON.parse(read(join(dir, 'fail', 'manifest.json'))) as RunManifest;
    expect(man.runs).toEqual({ total: 8, ok: 2, errored: 6 });
    expect(read(join(dir, 'fail', 'report.md'))).toMatch(/boom at bar 1000/);
  });
});

describe('short passes travel several per pool message', () => {
  it('a batch is split when a pass kills its worker: only that pass is errored; results equal one pass per message', async () => {
    const trend = { name: 'fixture-trend', grid: { lookback: [4, 6, 8, 10, 12, 14, 16, 18, 20, 22] } };
    writeConfig(dir, 'batch.config.ts', sweep({ strategies: [trend], leverage: [3], workers: 1 }));
    // the same passes among others whose worker dies: the batches holding a dying pass are run again
    // pass by pass, so the trend passes come out ok and byte-identical (the two commands side by side:
    // one worker each, and the batches they form do not depend on the pace)
    writeConfig(dir, 'batch-dies.config.ts', sweep({ strategies: [trend, { name: 'fixture-dies', grid: { at: [10, 20] } }, 'fixture-hangs'], leverage: [3], workers: 1, timeoutMs: 3000 }));
    const [ok, r] = await Promise.all([
      runCli(['run', '-c', 'batch.config.ts', '--out', 'batch', '--quiet'], dir),
      runCli(['run', '-c', 'batch-dies.config.ts', '--out', 'batch-dies', '--quiet'], dir),
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    const man = JSON.parse(read(join(dir, 'batch', 'manifest.json'))) as RunManifest;
    expect(man.runs.total).toBe(20);
    // 10 passes of 1,500 bars: fewer messages than passes
    expect(man.timings?.poolMessages).toBeGreaterThan(1);
    expect(man.timings?.poolMessages).toBeLessThan(10);
    expect(r.code).toBe(1);
    const res = results(join(dir, 'batch-dies'));
    expect(res).toHaveLength(26);
    for (const x of res.filter((x) => x.spec.strategy === 'fixture-dies')) expect(x).toMatchObject({ status: 'errored', error: 'worker died (exit code 9)' });
    // a hanging pass has its own limit inside a message, and is reported with it
    for (const x of res.filter((x) => x.spec.strategy === 'fixture-hangs')) expect(x).toMatchObject({ status: 'errored', error: expect.stringMatching(/^timeout: the run passed its 3000 ms limit/) });
    const trendRuns = res.filter((x) => x.spec.strategy === 'fixture-trend');
    expect(trendRuns.map((x) => x.status)).toEqual(Array(20).fill('ok'));
    for (const x of trendRuns) expect(read(join(dir, 'batch-dies', 'results', `${x.runId}.json`))).toBe(read(join(dir, 'batch', 'results', `${x.runId}.json`)));
    // 13 passes in 6 messages (6, 3, then 4 alone as the queue runs short), plus the passes of each
    // split batch run again alone
    const dies = JSON.parse(read(join(dir, 'batch-dies', 'manifest.json'))) as RunManifest;
    expect(dies.timings?.poolMessages).toBeGreaterThan(6);
  });
});

describe('Ctrl-C and exit codes', () => {
  it('SIGINT stops cleanly with 130, keeping finished results; --resume finishes the sweep', async () => {
    writeConfig(dir, 'int.config.ts', sweep({ strategies: [{ name: 'fixture-trend', grid: { lookback: [4, 8, 12, 16, 20, 24] } }], leverage: [7], workers: 1 }));
    const out = join(dir, 'int');
    // the command interrupted is slowed (120 µs a bar, not a param: the same run ids), the --resume at full speed
    const { child, done } = startCli(['run', '-c', 'int.config.ts', '--out', 'int'], dir, { env: { MARGINLAB_TEST_SPIN_US: '120' } });
    await waitFor(() => resultFiles(out).length >= 2, 60_000, 'two results');
    child.kill('SIGINT');
    const r = await done;
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted: \d+ of 12 runs finished/);
    expect(r.stderr).not.toMatch(/at .*\.ts:\d+/);
    // the line names the command that finishes the folder (it said "run again with --resume", which
    // would take backtest.config.ts and its own output folder), and that command, copied, does it
    const hint = /\(finish with `npx marginlab (run --resume -c int\.config\.ts --out int)`\)$/m.exec(r.stderr);
    expect(hint, r.stderr).not.toBeNull();
    const man = JSON.parse(read(join(out, 'manifest.json'))) as RunManifest;
    expect(man.interrupted).toBe(true);
    const kept = resultFiles(out).length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(12);
    const again = await runCli([...hint![1]!.split(' '), '--quiet'], dir);
    expect(again.code).toBe(0);
    expect(resultFiles(out)).toHaveLength(12);
  });

  it("a fresh run stopped mid-sweep leaves no report of the run before it (a summary.json saying complete beside an emptied results/); a user's file and a --force folder's report.md stay; merge refuses such a shard", async () => {
    writeConfig(dir, 'again.config.ts', sweep({ strategies: [{ name: 'fixture-trend', grid: { lookback: [4, 8, 12, 16, 20, 24] } }], leverage: [7], workers: 1 }));
    const reports = ['summary.json', 'runs.csv', 'report.md', 'report.html', 'trades.csv', 'liquidations.csv'];
    const stopMidSweep = async (args: string[], out: string) => {
      // the commands stopped are slowed (120 µs a bar, not a param: the same run ids), the first run at full speed
      const { child, done } = startCli(args, dir, { env: { MARGINLAB_TEST_SPIN_US: '120' } });
      // this run's sweep under way (its manifest says so; the old results were cleared before it was written) with a result
      const sweeping = () => {
        try {
          return (JSON.parse(read(join(out, 'manifest.json'))) as { inProgress?: boolean }).inProgress === true && resultFiles(out).length >= 1;
        } catch {
          return false;
        }
      };
      await waitFor(sweeping, 60_000, 'a result of this run');
      child.kill('SIGTERM');
      const r = await done;
      expect(r.code).toBe(130);
      return r;
    };
    const out = join(dir, 'again');
    expect((await runCli(['run', '-c', 'again.config.ts', '--out', 'again', '--quiet'], dir)).code).toBe(0);
    for (const f of reports) expect(existsSync(join(out, f)), f).toBe(true);
    writeFileSync(join(out, 'my-notes.txt'), 'mine');
    // a folder that was not marginlab's, written with --force: its report.md is the user's until the run replaces it
    const forced = join(dir, 'forced');
    mkdirSync(forced);
    writeFileSync(join(forced, 'report.md'), 'my report');
    // a shard stopped mid-sweep (a cancelled CI job sends SIGTERM) is refused by merge as a killed one is, with the command that finishes it
    const shard = join(dir, 'again-s1');
    // the three commands write folders of their own: stopped side by side
    await Promise.all([
      stopMidSweep(['run', '-c', 'again.config.ts', '--out', 'again', '--quiet'], out),
      stopMidSweep(['run', '-c', 'again.config.ts', '--out', 'forced', '--force', '--quiet'], forced),
      stopMidSweep(['run', '-c', 'again.config.ts', '--out', 'again-s1', '--shard', '1/2', '--quiet'], shard),
    ]);
    for (const f of reports) expect(existsSync(join(out, f)), f).toBe(false);
    expect(read(join(out, 'my-notes.txt'))).toBe('mine');
    expect((JSON.parse(read(join(out, 'manifest.json'))) as RunManifest).interrupted).toBe(true);
    expect(read(join(forced, 'report.md'))).toBe('my report');
    const m = await runCli(['merge', 'again-s1', '--out', 'again-merged'], dir);
    expect(m.code).toBe(65);
    expect(m.stderr).toMatch(/^marginlab: merge: \S*again-s1\/manifest\.json: the run writing this folder was interrupted after \d of its 6 runs; finish it with `npx marginlab run --resume -c again\.config\.ts --shard 1\/2 --out \S*again-s1` first\n$/);
    expect(existsSync(join(dir, 'again-merged'))).toBe(false);
  });

  it('a missing config (66) says what to do: the config of a folder above, a backtest.config of another extension, else init or --config', async () => {
    const { mkdirSync, writeFileSync } = await import('node:fs');
    const proj = join(dir, 'my project');
    mkdirSync(join(proj, 'strategies', 'deep'), { recursive: true });
    writeFileSync(join(proj, 'backtest.config.ts'), 'export default {};\n');
    mkdirSync(join(dir, 'js-proj'));
    writeFileSync(join(dir, 'js-proj', 'backtest.config.js'), 'export default {};\n');
    mkdirSync(join(dir, 'nothing'));
    const [sub, js, none] = await Promise.all([runCli(['run'], join(proj, 'strategies', 'deep')), runCli(['stress'], join(dir, 'js-proj')), runCli(['run'], join(dir, 'nothing'))]);
    for (const r of [sub, js, none]) {
      expect(r.code).toBe(66);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    const q = (p: string) => `'${p}'`;
    expect(sub.stderr).toBe(`marginlab: config file not found: backtest.config.ts (found ${q(join(proj, 'backtest.config.ts'))}: run from ${q(proj)}, or pass --config ${q(join(proj, 'backtest.config.ts'))})\n`);
    expect(js.stderr).toBe('marginlab: config file not found: backtest.config.ts (found backtest.config.js: pass --config backtest.config.js)\n');
    expect(none.stderr).toBe('marginlab: config file not found: backtest.config.ts (`npx marginlab init` writes one, or pass --config <file>)\n');
  });

  it('64 usage, 65 bad data, 66 missing input, 78 bad config', async () => {
    const { cpSync, mkdirSync, writeFileSync } = await import('node:fs');
    cpSync(join(dir, 'data'), join(dir, 'bad-data'), { recursive: true });
    const arrow = join(dir, 'bad-data', 'AAAUSDT-candles-1h.arrow');
    const buf = readFileSync(arrow);
    buf.write('garbage!', 1500);
    writeFileSync(arrow, buf);
    writeConfig(dir, 'bad-data.config.ts', sweep({ data: './bad-data' }));
    writeConfig(dir, 'no-data.config.ts', sweep({ data: './nowhere' }));
    writeConfig(dir, 'invalid.config.ts', { ...sweep(), leverage: [0], workers: 'many', oops: 1 });
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeConfig(join(dir, 'sub'), 'backtest.config.ts', sweep({ data: '../data' }));
    const cases: [string[], number, RegExp][] = [
      [['run', '-c', 'sweep.config.ts', '--shard', '3/2'], 64, /--shard: expected i\/N/],
      [['run', '-c', 'sweep.config.ts', '--workers', 'two'], 64, /--workers: expected a positive integer/],
      [['run', '-c', 'sweep.config.ts', '--from', 'someday'], 64, /--from: expected a date/],
      [['run', '--bogus-flag'], 64, /unknown option/],
      // no command (a dropped command word in a script): help on stderr, a usage error; --help and `help` are answers (0, checked below)
      [[], 64, /Usage: marginlab/],
      [['data'], 64, /Usage: marginlab data/],
      [['run', '-c', 'bad-data.config.ts', '--quiet', '--out', 'o-bad'], 65, /bad-data/],
      [['run', '-c', 'missing.config.ts'], 66, /config file not found: missing\.config\.ts/],
      [['run', '-c', 'no-data.config.ts', '--out', 'o-nodata'], 66, /nowhere/],
      [['run'], 66, /config file not found: backtest\.config\.ts/],
      [['run', '-c', 'invalid.config.ts'], 78, /invalid config \(3 problems\)[\s\S]*leverage\[0\]: [\s\S]*workers: [\s\S]*unknown key 'oops'/],
      // a name only the flag gives, which no strategy folder holds: the flag's problem
      [['run', '-c', 'sweep.config.ts', '--strategies', 'no-such-strategy', '--out', 'o-nostrat'], 64, /^marginlab: --strategies no-such-strategy: unknown strategy 'no-such-strategy'/],
      [['run', '-c', 'invalid.config.ts', '--strategies', 'no-such-strategy', '--out', 'o-nostrat2'], 78, /invalid config/],
    ];
    const outs = await Promise.all(cases.map(([args]) => runCli(args, dir)));
    outs.forEach((o, i) => {
      const [args, code, re] = cases[i]!;
      expect({ args, code: o.code }).toEqual({ args, code });
      expect(o.stderr).toMatch(re);
      expect(o.stderr).not.toMatch(/internal error|\n\s+at /);
    });
    for (const args of [['--help'], ['help'], ['help', 'run'], ['data', '--help'], ['--version']]) expect({ args, code: (await runCli(args, dir)).code }).toEqual({ args, code: 0 });
    // the default config is ./backtest.config.ts
    const d = await runCli(['run', '--quiet', '--to', '2025-01-20'], join(dir, 'sub'));
    expect(d.code).toBe(0);
    expect(resultFiles(join(dir, 'sub', 'reports', 'fx'))).toHaveLength(8);
    expect(results(join(dir, 'sub', 'reports', 'fx'))[0]!.bars).toBe(19 * 24);
  });
});

describe("workers 'auto'", () => {
  it('a second worker starts while passes are still waiting (a strategy slow per bar, on a sweep small enough to start with one); results equal a --workers 1 run', async () => {
    // 4 passes of 1,500 bars × 2 setups at ~0.6 ms a bar: ~1.8 s each, so none has finished when
    // the second worker's earliest time comes (RAMP_MS); poolSize starts only one at once for this little work
    // (the spin is not a param: the --workers 1 run it is compared with, the same runs, goes at full speed beside it)
    writeConfig(dir, 'slow.config.ts', sweep({ strategies: [{ name: 'fixture-trend', grid: { lookback: [6, 24] } }] }));
    const [slow, one] = await Promise.all([
      startCli(['run', '-c', 'slow.config.ts', '--out', 'slow', '--quiet'], dir, { env: { MARGINLAB_TEST_SPIN_US: '600' } }).done,
      runCli(['run', '-c', 'slow.config.ts', '--out', 'slow1', '--workers', '1', '--quiet'], dir),
    ]);
    expect(slow.code).toBe(0);
    expect((JSON.parse(read(join(dir, 'slow', 'manifest.json'))) as RunManifest).workers).toBe(Math.min(2, availableParallelism()));
    expect(one.code).toBe(0);
    expect((JSON.parse(read(join(dir, 'slow1', 'manifest.json'))) as RunManifest).workers).toBe(1);
    expect(resultFiles(join(dir, 'slow'))).toHaveLength(8);
    for (const f of resultFiles(join(dir, 'slow'))) expect(read(join(dir, 'slow', 'results', f))).toBe(read(join(dir, 'slow1', 'results', f)));
  });
});

describe('trade-price liquidation checks are said on stderr, not only in report.md', () => {
  it('a dataset without mark candles at the bar timeframe gets one note line (a --json notice before the report event); one with them none', async () => {
    const text = await runCli(['run', '-c', 'sweep.config.ts', '--workers', '1', '--out', 'note-text'], dir);
    expect(text.code).toBe(0);
    const lines = text.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('marginlab: note: '))).toEqual([
      'marginlab: note: 8 of 8 runs judged liquidations on trade prices at some or all bars (no mark-price candle of a symbol at those bars): liquidations may come earlier or later than on the venue; import mark candles at the bar timeframe (docs/data.md)',
    ]);
    expect(lines.at(-1)).toMatch(/^marginlab: 8 ok, 0 errored of 8 runs in /);
    const json = await runCli(['run', '-c', 'sweep.config.ts', '--workers', '1', '--out', 'note-json', '--json'], dir);
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; message?: string });
    expect(events.slice(-2).map((e) => e.event)).toEqual(['notice', 'report']);
    expect(events.at(-2)!.message).toMatch(/^8 of 8 runs judged liquidations on trade prices/);
    // marks at the bar timeframe (data synth writes them): no note
    const synth = await runCli(['data', 'synth', '--symbols', '2', '--bars', '600', '--timeframe', '1h', '--out', 'marked', '--quiet'], dir);
    expect(synth.code).toBe(0);
    writeConfig(dir, 'marked.config.ts', sweep({ name: 'marked', data: './marked', strategies: [{ name: 'fixture-trend', grid: { symbol: ['BTCUSDT'], lookback: [6, 24] } }] }));
    const marked = await runCli(['run', '-c', 'marked.config.ts', '--workers', '1', '--out', 'note-marked'], dir);
    expect(marked.code).toBe(0);
    expect(marked.stderr).not.toContain('note:');
  });
});
