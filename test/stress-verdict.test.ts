/**
 * The stress population verdict weighs a return difference as the history verdict does: two
 * setups whose returns differ by a consistent but immaterial amount (both wiped out, one keeping
 * 15 cents of 10,000) tie; a difference beyond 1 pp still decides.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/report/index.js';
import { pairReadingText } from '../src/report/stress.js';
import type { RunResult } from '../src/shard/types.js';
import { makeManifest } from './fixtures/report/fixture.js';
import { makeStressResults } from './fixtures/report/stress-fixture.js';

/** Every run of the fixture with a fixed outcome per setup: both liquidated and wiped out, returns as given. */
function withReturns(iso: number, cross: number): RunResult[] {
  return makeStressResults({ bars: 24 * 10, paths: 6, leverages: [25] }).map((r) => {
    const ret = r.spec.setup === 'isolated' ? iso : cross;
    const out: RunResult = { ...r, metrics: { ...r.metrics, totalReturn: ret, liquidations: 1, maxDrawdown: 100 } };
    if (r.stress) out.stress = { ...r.stress, survived: false, wipedOut: true, firstLiquidated: [{ symbol: 'BTCUSDT', time: r.stress.equityGridTime[1]! }], timeToLiquidationMs: 3_600_000 };
    return out;
  });
}

describe('stress population verdict', () => {
  it('a consistent return difference within 1 pp is a tie, not a winner (0.0016 pp: both wiped out)', () => {
    const results = withReturns(-99.9984, -100);
    const model = buildModel(results, makeManifest(results));
    const c = model.configs[0]!;
    for (const p of ['crash', 'paths'] as const) {
      const pop = c.stress!.populations[p]!;
      expect(pop.diffs[0]!.totalReturn.noise).toBe(false);
      expect(pop.winner).toBeNull();
      expect(pop.line).toMatch(/tie: no difference beyond noise \(return difference isolated − cross [+−]?0\.0 pp \[.*\], within 1 pp\)\.$/);
    }
    // history: the same returns are a tie too (within 1 pp, same liquidation count and drawdown), so the verdict holds
    expect(c.verdict!.line).toContain('The history verdict (a tie in history) holds under the crash scenarios and over the Monte Carlo paths.');
  });

  it('a difference beyond 1 pp still decides', () => {
    const results = withReturns(-97, -100);
    const model = buildModel(results, makeManifest(results));
    for (const p of ['crash', 'paths'] as const) {
      const pop = model.configs[0]!.stress!.populations[p]!;
      expect(pop.winner).toBe('isolated');
      expect(pop.line).toContain('isolated served it (a higher return; return difference isolated − cross +3.0 pp');
    }
  });
});

describe('a configuration where no order filled', () => {
  it('has no history verdict to hold under stress (it read "The history verdict (a tie in history) holds under the crash scenarios ...")', () => {
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [125] }).map((r): RunResult => ({
      ...r,
      metrics: { ...r.metrics, totalReturn: 0, trades: 0, fees: 0, exposureTime: 0, liquidations: 0, liquidationLoss: 0, maxDrawdown: 0, rejectedOrders: 4 },
      rejections: { leverageAboveTierMax: 4 },
      ...(r.stress ? { stress: { ...r.stress, survived: true, wipedOut: false, firstLiquidated: [], timeToLiquidationMs: null } } : {}),
    }));
    const line = buildModel(results, makeManifest(results)).configs[0]!.verdict!.line;
    expect(line).toMatch(/^tie: isolated and cross held no position: every order was rejected/);
    expect(line).toContain(' Stress: Under the crash scenarios');
    expect(line).not.toMatch(/The history verdict/);
  });
});

describe('stress population verdict of three setups', () => {
  it('names no winner unless one setup beats both others (the 1 pp rule need not be transitive)', () => {
    // every run wiped out and liquidated: only the return can decide. isolated −100, cross −99.2, mixed −98.4:
    // mixed beats isolated by 1.6 pp, each neighbour pair is within 1 pp: a tie of mixed and cross
    const base = withReturns(-100, -99.2);
    const mixed = base.filter((r) => r.spec.setup === 'cross').map((r): RunResult => ({ ...r, runId: `m${r.runId.slice(1)}`, spec: { ...r.spec, setup: 'mixed' }, metrics: { ...r.metrics, totalReturn: -98.4 } }));
    const results = [...base, ...mixed];
    const model = buildModel(results, makeManifest(results));
    for (const p of ['crash', 'paths'] as const) {
      const pop = model.configs[0]!.stress!.populations[p]!;
      expect(pop.winner).toBeNull();
      // the tie is of mixed and cross; the third setup, which mixed beat, is said (the sentence read as if no setup served better than another)
      expect(pop.line).toMatch(/tie: no difference beyond noise \(return difference mixed − cross \+0\.8 pp \[.*\], within 1 pp\); mixed served it better than isolated \(a higher return\)\.$/);
    }
  });
});

describe('the mode-difference tables', () => {
  it('read a consistent difference within 1 pp as a tie, not as "mixed"', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport } = await import('../src/report/index.js');
    const results = withReturns(-99.9984, -100);
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-verdict-'));
    await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html'] });
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const rows = md.split('\n').filter((l) => /^\| ma-trend .*\| cross − isolated \|/.test(l));
    expect(rows).toHaveLength(2);
    for (const l of rows) expect(l).toMatch(/\| tie \(within 1 pp\) \|$/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toContain('<span class="muted">tie (within 1 pp)</span>');
    expect(html).not.toMatch(/>mixed</);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('the mode-difference rows name the better setup of their own pair', () => {
  it('a decided pair that excludes the population winner reads as that pair (not "isolated served it" on mixed − cross)', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport } = await import('../src/report/index.js');
    // isolated: +10 %, never wiped out; mixed: 0 %, never wiped out; cross: wiped out every time.
    // Population winner: isolated (vs mixed: a higher return; vs cross: fewer wipe-outs); mixed − cross: mixed (fewer wipe-outs)
    const outcome = { isolated: { ret: 10, wiped: false }, cross: { ret: -100, wiped: true }, mixed: { ret: 0, wiped: false } } as const;
    const base = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [25] });
    // each injection moves every setup's return its own way (the same outcome at every injection would be the history's, counted once)
    const views = new Map<string, number>();
    const moved = (r: RunResult): number => {
      const s = r.spec.stress;
      if (s?.kind !== 'scenario') return 0;
      const k = `${s.scenario}@${s.injectAt}`;
      if (!views.has(k)) views.set(k, views.size);
      return views.get(k)! * 0.5;
    };
    const results = [...base, ...base.filter((r) => r.spec.setup === 'cross').map((r): RunResult => ({ ...r, runId: `${r.runId}m`, spec: { ...r.spec, setup: 'mixed' } }))].map((r): RunResult => {
      const o = outcome[r.spec.setup as keyof typeof outcome];
      const out: RunResult = { ...r, metrics: { ...r.metrics, totalReturn: o.wiped ? o.ret : o.ret - moved(r), liquidations: 0 } };
      if (r.stress) out.stress = { ...r.stress, survived: true, wipedOut: o.wiped, firstLiquidated: [], timeToLiquidationMs: null };
      return out;
    });
    const model = buildModel(results, makeManifest(results));
    for (const p of ['crash', 'paths'] as const) expect(model.configs[0]!.stress!.populations[p]!.winner).toBe('isolated');
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-pair-'));
    await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html'] });
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    const reading = (pair: string) => md.split('\n').filter((l) => l.startsWith('| ma-trend ') && l.includes(`| ${pair} |`)).map((l) => l.split('|').at(-2)!.trim());
    expect(reading('cross − isolated')).toEqual(['isolated served it', 'isolated served it']);
    expect(reading('mixed − isolated')).toEqual(['isolated served it', 'isolated served it']);
    expect(reading('mixed − cross')).toEqual(['mixed served it', 'mixed served it']);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const rows = html.split('<tr').filter((l) => l.includes('mixed − cross'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row).toContain('<span class="mode mode-mixed"><i></i>mixed</span> served it');
    rmSync(dir, { recursive: true, force: true });
  });
});

/** The fixture with a mixed setup (a copy of cross) and, on every path run, the outcome `of` gives per setup and path index. */
function threeSetups(paths: number, of: (setup: 'isolated' | 'cross' | 'mixed', pathIndex: number) => { ret: number; wiped: boolean; liquidated: boolean }): RunResult[] {
  const base = makeStressResults({ bars: 24 * 10, paths, leverages: [25] });
  return [...base, ...base.filter((r) => r.spec.setup === 'cross').map((r): RunResult => ({ ...r, runId: `${r.runId}m`, spec: { ...r.spec, setup: 'mixed' } }))].map((r): RunResult => {
    const s = r.spec.stress;
    if (!s || s.kind !== 'path' || !r.stress) return r;
    const o = of(r.spec.setup as 'isolated' | 'cross' | 'mixed', s.pathIndex);
    const liq = o.liquidated ? [{ symbol: 'BTCUSDT', time: r.stress.equityGridTime[2]! }] : [];
    return { ...r, metrics: { ...r.metrics, totalReturn: o.ret, liquidations: liq.length }, stress: { ...r.stress, survived: !o.liquidated, wipedOut: o.wiped, firstLiquidated: liq, timeToLiquidationMs: o.liquidated ? 1 : null } };
  });
}

describe('a population whose pairs disagree (no setup served better than every other one)', () => {
  it('names no winner and says so (it named the first of the sort, isolated, which mixed beat)', () => {
    // over 20 paths, nobody wiped out: isolated beats mixed (fewer liquidations: 0 vs 10; returns within 1 pp), mixed beats
    // cross (fewer liquidations: 10 vs 20; within 1 pp), cross beats isolated (+1.6 pp): a cycle, so no setup served it
    const ret = { isolated: 0, mixed: 0.8, cross: 1.6 } as const;
    const liq = { isolated: 0, mixed: 10, cross: 20 } as const;
    const results = threeSetups(20, (setup, i) => ({ ret: ret[setup], wiped: false, liquidated: i < liq[setup] }));
    const c = buildModel(results, makeManifest(results)).configs[0]!;
    const paths = c.stress!.populations.paths!;
    const decided = (a: string, b: string) => {
      const d = paths.diffs.find((x) => x.a === a && x.b === b)!;
      return { liquidation: !d.liquidation.noise, totalReturn: !d.totalReturn.noise };
    };
    // the premise: the pairwise readings form a cycle
    expect(decided('isolated', 'cross')).toEqual({ liquidation: true, totalReturn: true });
    expect(decided('isolated', 'mixed')).toEqual({ liquidation: true, totalReturn: true });
    expect(decided('cross', 'mixed')).toEqual({ liquidation: true, totalReturn: true });
    expect(paths.judged).toBe(true);
    expect(paths.winner).toBeNull();
    expect(paths.line).toMatch(/; tie: no mode served it better than every other, the differences go round in a circle \((\w+ over \w+ with [a-z -]+, ){2}\w+ over \w+ with [a-z -]+\)\.$/);
    for (const x of ['cross over isolated with a higher return', 'isolated over mixed with fewer liquidations', 'mixed over cross with fewer liquidations']) expect(paths.line).toContain(x);
    expect(paths.line).not.toMatch(/(isolated|cross|mixed) served it \(/);
    // the history tie is not contradicted by a setup the paths did not name
    expect(c.verdict!.line).not.toMatch(/over the Monte Carlo paths \(\w+ served it there\)/);
  });
});

describe('a setup that wiped out more often never served it for its return or its liquidations', () => {
  it('nor do fewer liquidations make cross the one that served when its return is lower by more than 1 pp on average (within noise)', () => {
    // isolated's liquidation cut each loss at −20 %; cross rode 3 of the 15 crashes down to −40 % and gained 2 pp on the others
    const results = threeSetups(15, (setup, i) => (setup === 'isolated' ? { ret: -20, wiped: false, liquidated: true } : { ret: i < 3 ? -40 : -18, wiped: false, liquidated: false })).filter((r) => r.spec.setup !== 'mixed');
    const paths = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!;
    const d = paths.diffs[0]!;
    expect([d.a, d.b, d.liquidation.noise, d.totalReturn.noise, d.wipeOut.noise]).toEqual(['isolated', 'cross', false, true, true]);
    expect(d.totalReturn.mean).toBeCloseTo(-2.4, 9);
    // it read "cross served it (fewer liquidations; ...)"
    expect(paths.winner).toBeNull();
    expect(paths.line).toMatch(/; tie: cross had fewer liquidations but a lower return on average, by more than 1 pp \(a difference within noise; return difference isolated − cross \+2\.4 pp \[/);
    expect(pairReadingText(d)).toBe('tie (cross: fewer liquidations, a lower return)');
    // within 1 pp the liquidations still decide
    const close = threeSetups(15, (setup, i) => (setup === 'isolated' ? { ret: -20, wiped: false, liquidated: true } : { ret: i < 3 ? -22 : -20, wiped: false, liquidated: false })).filter((r) => r.spec.setup !== 'mixed');
    expect(buildModel(close, makeManifest(close)).configs[0]!.stress!.populations.paths!.winner).toBe('cross');
  });

  it('fewer liquidations do not make cross the one that served when it wiped out 3 times in 15 and isolated never (wipe-outs within noise)', async () => {
    // buy-and-hold 5× under a crash, 15 views: isolated liquidated every time and never wiped out; cross liquidated and wiped
    // out on 3 (the pool went), else neither. Liquidations (−80 pp) decide beyond noise, wipe-outs (+20 pp [0, 40]) do not.
    const results = threeSetups(15, (setup, i) => (setup === 'isolated' ? { ret: -20, wiped: false, liquidated: true } : { ret: i < 3 ? -96 : -20, wiped: i < 3, liquidated: i < 3 })).filter((r) => r.spec.setup !== 'mixed');
    const c = buildModel(results, makeManifest(results)).configs[0]!;
    const paths = c.stress!.populations.paths!;
    const d = paths.diffs[0]!;
    expect([d.a, d.b, d.wipeOut.noise, d.liquidation.noise]).toEqual(['isolated', 'cross', true, false]);
    expect(paths.winner).toBeNull();
    // the interval as the odds table prints it (the sentence had its own digits: [7–45%] beside the table's [7.0–45%])
    expect(paths.line).toMatch(/; tie: cross had fewer liquidations but wiped out more often \(20% \[7\.0–45%\] against 0% \[0–20%\], a difference within noise; return difference/);
    expect(paths.line).not.toContain('served it');
    expect(c.verdict!.line).not.toContain('(cross served it there)');
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport } = await import('../src/report/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-wipe-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html'] });
      const row = readFileSync(join(dir, 'report.md'), 'utf8').split('\n').find((l) => l.includes('| Monte Carlo | cross − isolated |'))!;
      expect(row).toMatch(/\| tie \(cross: fewer liquidations, more wipe-outs\) \|$/);
      const odds = readFileSync(join(dir, 'report.md'), 'utf8').split('\n').find((l) => l.includes('| Monte Carlo | cross |') && l.includes('(3/15)'))!;
      expect(odds).toContain('| 20% [7.0–45%] (3/15) |');
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('<span class="muted">tie (cross: fewer liquidations, more wipe-outs)</span>');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a higher return does not either; the same criteria agreeing with the wipe-outs still decide', () => {
    // over 20 paths: mixed wiped out 3 times (noise against isolated's 0) with +10 pp: a tie, not "mixed served it"
    const wipes = { isolated: 0, mixed: 3, cross: 0 } as const;
    const ret = { isolated: 0, mixed: 10, cross: 12 } as const;
    const results = threeSetups(20, (setup, i) => ({ ret: ret[setup], wiped: i < wipes[setup], liquidated: false }));
    const paths = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!;
    const pair = (a: string, b: string) => paths.diffs.find((x) => x.a === a && x.b === b)!;
    expect(pair('isolated', 'mixed').wipeOut.noise).toBe(true);
    // cross: +12 pp without a wipe-out beats both (over mixed the return and the wipe-outs agree); mixed − isolated is a tie for its wipe-outs
    expect(pairReadingText(pair('isolated', 'mixed'))).toBe('tie (mixed: a higher return, more wipe-outs)');
    expect(pairReadingText(pair('cross', 'mixed'))).toBe('cross served it');
    expect(paths.winner).toBe('cross');
    expect(paths.line).toContain('cross served it (a higher return;');
    expect(paths.diffs.map((x) => `${x.b} − ${x.a}`)).toContain('mixed − isolated');
  });

  it('with three setups, the tie names the pair where it happened (cross beat isolated; mixed\'s higher return came with more wipe-outs)', () => {
    const wipes = { isolated: 0, mixed: 3, cross: 0 } as const;
    const ret = { isolated: 0, mixed: 20, cross: 10 } as const;
    const results = threeSetups(20, (setup, i) => ({ ret: ret[setup], wiped: i < wipes[setup], liquidated: false }));
    const paths = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!;
    expect(paths.winner).toBeNull();
    expect(paths.line).toMatch(/; tie: mixed had a higher return but wiped out more often \(15% \[5\.2–36%\] against 0% \[0–16%\], a difference within noise; return difference/);
  });
});

describe('a tie of two setups that both served it better than the third', () => {
  it('says so: "tie: no difference beyond noise (…); isolated and mixed both served it better than cross (fewer wipe-outs)"', () => {
    // isolated and mixed never wiped out and returned the same; cross wiped out on 8 of 20 paths
    const results = threeSetups(20, (setup, i) => ({ ret: setup === 'cross' ? (i < 8 ? -100 : 5) : 10, wiped: setup === 'cross' && i < 8, liquidated: false }));
    const paths = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!;
    expect(paths.winner).toBeNull();
    expect(paths.line).toMatch(/; tie: no difference beyond noise \(return difference isolated − mixed 0\.0 pp .*\); isolated and mixed both served it better than cross \(fewer wipe-outs\)\.$/);
  });
});

describe('errored stress runs', () => {
  it('a population where one setup errored on every run has no verdict (not "a tie there") and says so', () => {
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [25] }).map((r): RunResult =>
      r.spec.setup === 'cross' && r.spec.stress?.kind === 'path' ? ({ ...r, status: 'errored', error: 'timed out' } as unknown as RunResult) : r,
    );
    const model = buildModel(results, makeManifest(results));
    const c = model.configs[0]!;
    const paths = c.stress!.populations.paths!;
    expect(paths.judged).toBe(false);
    expect(paths.winner).toBeNull();
    expect(paths.line).toMatch(/^over 6 Monte Carlo paths: isolated wiped out .*; 6 cross runs errored; no verdict: cross completed no run here\.$/);
    const line = c.verdict!.line;
    expect(line).not.toContain('over the Monte Carlo paths (a tie there)');
    expect(line).toMatch(/The history verdict \(.*\) (holds|does not hold) under the crash scenarios[^.]*\.$/);
    expect(c.stress!.populations.crash!.judged).toBe(true);
  });

  it('some errored runs are counted in the line; the verdict stands on the completed pairs', () => {
    let k = 0;
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [25] }).map((r): RunResult =>
      r.spec.setup === 'isolated' && r.spec.stress?.kind === 'path' && k++ < 2 ? ({ ...r, status: 'errored', error: 'timed out' } as unknown as RunResult) : r,
    );
    const paths = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!;
    expect(paths.judged).toBe(true);
    expect(paths.bySetup.isolated!.runs).toBe(4);
    expect(paths.line).toMatch(/; 2 isolated runs errored(; .*)?\.$/);
  });
});

describe('leverage survival with a leverage that never opened a position', () => {
  it('is "untested", not 0 % liquidated, and is never the highest surviving leverage', async () => {
    // 25x: every order rejected (no exposure, no liquidation, no trade); 3x: traded and survived
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [3, 25] }).map((r): RunResult => {
      if (r.spec.leverage === 3) return { ...r, metrics: { ...r.metrics, liquidations: 0, exposureTime: 40 }, ...(r.stress ? { stress: { ...r.stress, survived: true, firstLiquidated: [], timeToLiquidationMs: null } } : {}) };
      return { ...r, metrics: { ...r.metrics, liquidations: 0, exposureTime: 0, trades: 0, totalReturn: 0, rejectedOrders: 1 }, ...(r.stress ? { stress: { ...r.stress, survived: true, wipedOut: false, firstLiquidated: [], timeToLiquidationMs: null } } : {}) };
    });
    const model = buildModel(results, makeManifest(results));
    expect(model.stress!.survival).toHaveLength(4);
    for (const row of model.stress!.survival) {
      expect(row.curve.map((p) => [p.leverage, p.untested])).toEqual([[3, false], [25, true]]);
      expect(row.maxLeverage!.leverage).toBe(3);
    }
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport, SummarySchema } = await import('../src/report/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-untested-'));
    await writeReport({ dir, results, manifest: makeManifest(results), formats: ['json', 'md'] });
    const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
    expect(summary.stress!.survival.every((r) => r.maxLeverage === 3 && r.curve[1]!.untested && !r.curve[0]!.untested)).toBe(true);
    expect(readFileSync(join(dir, 'report.md'), 'utf8')).toMatch(/25× untested \(no run held a position\) \| 3× \(0\/\d+: too few runs to show it, the 95% interval reaches \d+%\) \|/);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('leverage survival of a stress population', () => {
  it('a leverage where a path wiped the account out without a liquidation is not safe (report.md, report.html, summary.json)', async () => {
    // 25×: the first path wiped out without a liquidation; nothing else liquidated or wiped out anywhere
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [3, 10, 25] }).map((r): RunResult => {
      if (!r.stress) return r;
      const wiped = r.spec.leverage === 25 && r.spec.stress!.kind === 'path' && r.spec.stress!.pathIndex === 0;
      return { ...r, metrics: { ...r.metrics, liquidations: 0, exposureTime: 40 }, stress: { ...r.stress, survived: true, wipedOut: wiped, firstLiquidated: [], timeToLiquidationMs: null } };
    });
    const model = buildModel(results, makeManifest(results));
    const rows = model.stress!.survival.filter((r) => r.population === 'paths');
    expect(rows).toHaveLength(2);
    const iso = rows.find((r) => r.setup === 'isolated')!;
    expect(iso.curve.map((p) => [p.leverage, p.liquidation.k, p.failure.k])).toEqual([[3, 0, 0], [10, 0, 0], [25, 0, 1]]);
    expect(iso.maxLeverage!.leverage).toBe(10);
    // the crash pack, where nothing failed, keeps 25×
    expect(model.stress!.survival.find((r) => r.population === 'crash' && r.setup === 'isolated')!.maxLeverage!.leverage).toBe(25);
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport, SummarySchema } = await import('../src/report/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-survival-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html', 'json'] });
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      expect(md).toContain('### Leverage survival: highest leverage with P(liquidation or wipe-out) under 5%');
      // (0 of 6 paths: under 5% on its point estimate only; the cell says what the interval reaches)
      expect(md).toContain('| Monte Carlo | isolated | 3× 0% [0–39%] (0/6); 10× 0% [0–39%] (0/6); 25× 17% [3.0–56%] (1/6, 0 liquidated) | 10× (0/6: too few runs to show it, the 95% interval reaches 39%) |');
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('25× 17% [3.0–56%] (1/6, 0 liquidated)');
      expect(html).toContain('10× (0/6: too few runs to show it, the 95% interval reaches 39%)</td>');
      expect(html).toMatch(/<td class="num warn"[^>]*>10× \(0\/6/);
      const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
      const row = summary.stress!.survival.find((r) => r.population === 'paths' && r.setup === 'isolated')!;
      expect(row.maxLeverage).toBe(10);
      expect(row.curve[2]!.failure.k).toBe(1);
      expect(row.curve[2]!.liquidation.k).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('under the crash pack, a leverage whose runs all went before the shock did not survive it (they never reached the crash)', async () => {
    // 25×: every crash run liquidated 2 h before the shock and never after it; 3× and 10×: nothing
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [3, 10, 25] }).map((r): RunResult => {
      if (!r.stress) return r;
      const s = r.spec.stress!;
      const early = r.spec.leverage === 25 && s.kind === 'scenario';
      const firstLiquidated = early ? [{ symbol: 'BTCUSDT', time: s.injectAt - 7_200_000 }] : [];
      return { ...r, metrics: { ...r.metrics, liquidations: firstLiquidated.length, exposureTime: 40 }, stress: { ...r.stress, survived: !early, wipedOut: false, firstLiquidated, timeToLiquidationMs: early ? -7_200_000 : null, ...(s.kind === 'scenario' ? { shockBarOpen: s.injectAt, wipedOutBeforeShock: false } : {}) } };
    });
    const model = buildModel(results, makeManifest(results));
    const crash = model.stress!.survival.find((r) => r.population === 'crash' && r.setup === 'isolated')!;
    expect(crash.curve.map((p) => [p.leverage, p.failure.k, p.failedBeforeShock])).toEqual([[3, 0, 0], [10, 0, 0], [25, 9, 9]]);
    expect(crash.maxLeverage!.leverage).toBe(10);
    // the odds table still counts what the shock did: 0 liquidated by it, 9 before it
    const odds = model.configs.find((c) => c.leverage === 25)!.stress!.populations.crash!.bySetup.isolated!;
    expect([odds.liquidation.k, odds.beforeShock!.liquidation.k]).toEqual([0, 9]);
    expect(model.stress!.survival.find((r) => r.population === 'paths' && r.setup === 'isolated')!.curve[0]!.failedBeforeShock).toBeUndefined();
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeReport, SummarySchema } = await import('../src/report/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-survival-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'json'] });
      expect(readFileSync(join(dir, 'report.md'), 'utf8')).toContain('| crash scenarios | isolated | 3× 0% [0–30%] (0/9); 10× 0% [0–30%] (0/9); 25× 100% [70–100%] (9/9, 9 before the shock) | 10× (0/9: too few runs to show it, the 95% interval reaches 30%) |');
      const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
      const row = summary.stress!.survival.find((r) => r.population === 'crash' && r.setup === 'isolated')!;
      expect([row.maxLeverage, row.curve[2]!.failedBeforeShock, row.curve[2]!.failure.k]).toEqual([10, 9, 9]);
      expect(summary.stress!.survival.find((r) => r.population === 'paths')!.curve[0]!.failedBeforeShock).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('tiny path counts decide nothing', () => {
  it('2 of 2 paths wiped out under cross and none under isolated is no verdict: too few pairs for an interval (it read "isolated served it", +100 pp [+100, +100])', () => {
    const results = threeSetups(2, (setup) => (setup === 'isolated' ? { ret: -50, wiped: false, liquidated: true } : { ret: -100, wiped: true, liquidated: true })).filter((r) => r.spec.setup !== 'mixed');
    const paths = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!;
    const d = paths.diffs[0]!;
    expect([d.wipeOut.n, d.wipeOut.lo, d.wipeOut.noise, d.totalReturn.noise]).toEqual([2, null, true, true]);
    expect(paths.winner).toBeNull();
    expect(paths.line).toMatch(/; tie: no difference beyond noise \(return difference \w+ − \w+ [+−]50\.0 pp, 2 pairs: too few for an interval \(fewer than 6\)\)\.$/);
    expect(paths.line).not.toContain('served it');
    expect(paths.line).not.toContain('an interval containing 0');
  });
});

describe('crash injections the shock changed nothing in are the history repeated, counted once', () => {
  /** 25× crash runs liquidated 2 h before every shock; cross wiped out there too; `vary` moves a run's return per injection */
  function beforeEveryShock(vary: boolean): RunResult[] {
    const views = new Map<string, number>();
    return makeStressResults({ bars: 24 * 10, paths: 6, leverages: [25] }).map((r): RunResult => {
      const s = r.spec.stress;
      if (!r.stress || s?.kind !== 'scenario') return r;
      const k = `${s.scenario}@${s.injectAt}`;
      if (!views.has(k)) views.set(k, views.size);
      const cross = r.spec.setup === 'cross';
      const ret = (cross ? -99 : -40) - (vary ? views.get(k)! : 0);
      const firstLiquidated = [{ symbol: 'BTCUSDT', time: s.injectAt - 7_200_000 }];
      return { ...r, metrics: { ...r.metrics, totalReturn: ret, liquidations: 1 }, stress: { ...r.stress, survived: false, wipedOut: cross, firstLiquidated, timeToLiquidationMs: -7_200_000, shockBarOpen: s.injectAt, wipedOutBeforeShock: cross, wipedOutFromShockAt: null } };
    });
  }

  it('cross wiped out and isolated liquidated before every injection: one pair, no interval, no winner (it read "+100 pp [+100, +100]: isolated served it")', () => {
    const crash = buildModel(beforeEveryShock(false), makeManifest(beforeEveryShock(false))).configs[0]!.stress!.populations.crash!;
    const d = crash.diffs[0]!;
    expect([d.wipeOut.n, d.wipeOut.lo, d.wipeOut.noise, d.totalReturn.n]).toEqual([1, null, true, 1]);
    expect(crash.winner).toBeNull();
    expect(crash.line).toContain('1 pair: too few for an interval (fewer than 6)');
    // the odds table still counts every injection
    expect(crash.bySetup.cross!.beforeShock!.wipeOut.k).toBe(9);
  });

  it('outcomes that differ from one injection to another are each evidence: the same wipe-outs then decide', () => {
    const results = beforeEveryShock(true);
    const crash = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.crash!;
    const d = crash.diffs[0]!;
    expect([d.wipeOut.n, d.wipeOut.noise]).toEqual([9, false]);
    expect(crash.winner).toBe('isolated');
  });
});

describe('Monte Carlo paths with crashes spliced in (stress.crashesPerPath)', () => {
  it('the population sentence says so: "over 6 Monte Carlo paths" read as plain bootstrap paths, 100 % liquidated by crashes it never named', () => {
    const plain = withReturns(-97, -100);
    const sentence = (results: RunResult[]) => buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.paths!.line;
    expect(sentence(plain)).toMatch(/^over 6 Monte Carlo paths: /);
    // k crashes spliced into each path, or into the paths `only` keeps (by path index)
    const withCrashes = (k: number, only: (pathIndex: number) => boolean = () => true) =>
      plain.map((r): RunResult => {
        const s = r.spec.stress;
        if (s?.kind !== 'path' || !only(s.pathIndex)) return r;
        const crashes = Array.from({ length: k }, (_, i) => ({ scenario: 'crash-2025-10-10', injectAt: r.stress!.equityGridTime[10 + i]!, scenarioHash: 'abcdef012345' }));
        return { ...r, spec: { ...r.spec, stress: { ...s, crashes } } };
      });
    expect(sentence(withCrashes(1))).toMatch(/^over 6 Monte Carlo paths \(1 crash spliced into each\): /);
    expect(sentence(withCrashes(2))).toMatch(/^over 6 Monte Carlo paths \(2 crashes spliced into each\): /);
    // crashes in some paths only: how many of them
    expect(sentence(withCrashes(1, (p) => p % 2 === 0))).toMatch(/^over 6 Monte Carlo paths \(crashes spliced into 3 of them\): /);
  });
});
