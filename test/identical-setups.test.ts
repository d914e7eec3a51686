/**
 * Setups that made one run twice (mixed with every position in its default cross mode repeats the
 * cross run exactly) are compared as one: they win or tie together, the reports say so, and
 * summary.json maps the repeat to the setup it repeated (identicalTo).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SummarySchema, buildModel, verdictFor } from '../src/report/index.js';
import type { RunResult } from '../src/shard/types.js';
import { REPO, runCli, writeConfig } from './fixtures/run/cli.js';

type S = 'isolated' | 'cross' | 'mixed';
const run = (setup: S, m: Record<string, number>, rejections: Record<string, number> = {}): RunResult =>
  ({ status: 'ok', runId: setup, spec: { setup }, rejections, metrics: { liquidations: 0, liquidationLoss: 0, marginRatioMax: 50, maxDrawdown: 10, exposureTime: 80, trades: 2, fees: 5, ...m } }) as unknown as RunResult;

describe('verdict over identical runs', () => {
  it('two identical setups that beat the third win together (it read "tie: cross and mixed" though both beat isolated by 80 pp)', () => {
    const held = { totalReturn: 31.3, maxDrawdown: 56 };
    const v = verdictFor({ isolated: run('isolated', { totalReturn: -50.2, maxDrawdown: 53.9, liquidations: 1, liquidationLoss: 4813.14 }), cross: run('cross', held), mixed: run('mixed', held) })!;
    expect(v.winner).toBe('cross');
    expect(v.identicalTo).toEqual({ mixed: 'cross' });
    expect(v.line).toMatch(/^cross \(mixed identical\) served it better than isolated: return \+31\.3% vs −50\.2%/);
  });
  it('an identical pair that loses is named as one loser', () => {
    const lost = { totalReturn: -100, maxDrawdown: 100, liquidations: 1, liquidationLoss: 9593.71 };
    const v = verdictFor({ isolated: run('isolated', { totalReturn: -50.5, maxDrawdown: 57.3, liquidations: 1, liquidationLoss: 4848.32 }), cross: run('cross', lost), mixed: run('mixed', lost) })!;
    expect(v.winner).toBe('isolated');
    expect(v.identicalTo).toEqual({ mixed: 'cross' });
    expect(v.line).toMatch(/^isolated served it better than cross \(mixed identical\): return −50\.5% vs −100\.0%/);
    expect(v.line).not.toMatch(/then mixed/);
  });
  it('a tie with one of an identical pair names the pair; all identical is a tie of identical runs', () => {
    const v = verdictFor({ isolated: run('isolated', { totalReturn: 9.4, capitalAtRiskAvg: 4926 }), cross: run('cross', { totalReturn: 9.4, capitalAtRiskAvg: 9774 }), mixed: run('mixed', { totalReturn: 9.4, capitalAtRiskAvg: 9774 }) })!;
    expect(v.winner).toBeNull();
    expect(v.identicalTo).toEqual({ mixed: 'cross' });
    expect(v.line).toMatch(/^tie: isolated and cross \(mixed identical\) made the same trades/);
    const all = verdictFor({ cross: run('cross', { totalReturn: 4 }), mixed: run('mixed', { totalReturn: 4 }) })!;
    expect(all.winner).toBeNull();
    expect(all.line).toBe('tie: cross and mixed made identical runs (2 round trips, the same fees 5.00): return +4.0%, max drawdown 10.0%; no liquidations; max margin ratio 50.0%.');
  });
  it('runs that differ in one metric or one rejection are not identical', () => {
    const a = { totalReturn: 31.3, maxDrawdown: 56 };
    const v = verdictFor({ isolated: run('isolated', { totalReturn: -50 }), cross: run('cross', a), mixed: run('mixed', { ...a, capitalAtRiskAvg: 1 }) })!;
    expect(v.identicalTo).toBeUndefined();
    expect(v.winner).toBeNull();
    const r = verdictFor({ isolated: run('isolated', { totalReturn: -50 }), cross: run('cross', a, { insufficientMargin: 1 }), mixed: run('mixed', a, { leverageAboveTierMax: 1 }) })!;
    expect(r.identicalTo).toBeUndefined();
  });
  it('runs that held no position are not folded: the modes were not compared', () => {
    const none = { totalReturn: 0, maxDrawdown: 0, trades: 0, fees: 0, exposureTime: 0, rejectedOrders: 3 };
    const v = verdictFor({ isolated: run('isolated', none, { leverageAboveTierMax: 3 }), cross: run('cross', none, { leverageAboveTierMax: 3 }), mixed: run('mixed', none, { leverageAboveTierMax: 3 }) })!;
    expect(v.notCompared).toBe(true);
    expect(v.identicalTo).toBeUndefined();
  });
});

describe('a real sweep where mixed repeats cross (buy-and-hold, one symbol, bundled data)', () => {
  let dir: string;
  let out: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ml-identical-'));
    out = join(dir, 'out');
    const cfg = writeConfig(dir, 'c.config.mjs', {
      name: 'identical',
      data: { path: join(REPO, 'data', 'binance-usdm-2025'), timeframe: '1h' },
      venue: 'binance-usdm',
      strategies: ['buy-and-hold'],
      setups: ['isolated', 'cross', 'mixed'],
      leverage: [10, 15],
      initialCapital: 10_000,
      stress: { paths: 8, scenarios: ['crash-2025-10-10'] },
    });
    const r = await runCli(['stress', '-c', cfg, '--out', out, '--quiet'], dir);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('summary.json, report.md and report.html name cross and mixed together', () => {
    const s = SummarySchema.parse(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')));
    expect(s.comparisons).toHaveLength(2);
    for (const c of s.comparisons) {
      expect(c.winner).toBe('cross');
      expect(c.identicalTo).toEqual({ mixed: 'cross' });
      expect(c.verdict).toMatch(/^cross \(mixed identical\) served it better than isolated: /);
    }
    expect(s.strategies[0]!.winner).toBe('cross');
    expect(s.strategies[0]!.verdict).toMatch(/^cross and mixed \(identical runs\) served it in 2 of 2 configurations/);
    for (const c of s.stress!.configs) for (const p of c.populations) expect(p.identicalTo).toEqual({ mixed: 'cross' });
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    const rows = md.split('\n').filter((l) => l.startsWith('| buy-and-hold') && / 10× \| /.test(l));
    const starred = rows.filter((l) => l.includes('★')).map((l) => l.match(/\| (isolated|cross|mixed)/)![1]);
    expect(starred).toEqual(['cross', 'mixed']);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html.match(/<b class="star"/g)?.length).toBe(4);
    // the configuration selector names the pair as the verdict does (it read '— cross ★')
    expect(html.match(/ — cross \(mixed identical\) ★<\/option>/g)?.length).toBe(2);
  });
});

describe("a strategy's headline over identical runs", () => {
  const cfg = (lev: number, setup: S, m: Record<string, number>): RunResult =>
    ({ ...run(setup, m), events: [], curves: { time: [], equity: [], drawdown: [], marginRatio: [] }, bars: 10, runId: `${setup}-${lev}`, spec: { strategy: 'st', params: {}, venue: 'v', setup, leverage: lev, dataset: 'd', timeframe: '1h', symbols: ['BTCUSDT'], initialCapital: '10000', execution: {} } }) as unknown as RunResult;
  const headline = (rs: RunResult[]) => buildModel(rs, { config: null, plan: { total: rs.length } } as never).strategies[0]!.verdict!;
  it('counts a configuration for every setup that served it: mixed that served all three is named (cross was, for two it shared)', () => {
    const same = { totalReturn: 20 };
    const v = headline([
      cfg(2, 'isolated', { totalReturn: -40 }), cfg(2, 'cross', same), cfg(2, 'mixed', same),
      cfg(3, 'isolated', { totalReturn: -40 }), cfg(3, 'cross', same), cfg(3, 'mixed', same),
      cfg(5, 'isolated', { totalReturn: -40 }), cfg(5, 'cross', { totalReturn: -60, liquidations: 1, liquidationLoss: 100 }), cfg(5, 'mixed', same),
    ]);
    expect(v.winner).toBe('mixed');
    expect(v.line).toMatch(/^mixed served it in 3 of 3 configurations \(mixed in 3, cross in 2\); /);
  });
  it('two setups identical in every configuration they won are named together', () => {
    const same = { totalReturn: 20 };
    const v = headline([
      cfg(2, 'isolated', { totalReturn: -40 }), cfg(2, 'cross', same), cfg(2, 'mixed', same),
      cfg(3, 'isolated', { totalReturn: -40 }), cfg(3, 'cross', same), cfg(3, 'mixed', same),
    ]);
    expect(v.winner).toBe('cross');
    expect(v.line).toMatch(/^cross and mixed \(identical runs\) served it in 2 of 2 configurations \(cross in 2, mixed in 2\)/);
  });
});
