/**
 * The crash pack counts what the shock did. A scenario run replays the whole window with the crash
 * spliced in, so a liquidation or a wipe-out in the calm history before the shock is not the
 * crash's doing: it is reported apart ("before the shock"), never mixed into P(liquidation) and
 * P(wipe-out) of the crash pack, the mode differences or the verdicts. Monte Carlo paths keep
 * counting the whole run.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal } from 'decimal.js';
import { SETUPS } from '../src/engine/index.js';
import { computeMetrics } from '../src/analysis/index.js';
import { scenarioSchema } from '../src/stress/scenario.js';
import { firstWipeOutFrom, shockOutcome, wipeOutSpans, WIPE_OUT_SPANS, type WipeOutSpan } from '../src/stress/types.js';
import { stressFigures, stressView } from '../src/stress/view.js';
import { buildModel, writeReport, SummarySchema } from '../src/report/index.js';
import type { RunResult } from '../src/shard/types.js';
import { HOUR, T0, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';
import { makeManifest } from './fixtures/report/fixture.js';
import { makeStressResults } from './fixtures/report/stress-fixture.js';

describe('a shock starting inside a bar', () => {
  it('a liquidation it causes is at 0 or more from the shock start, never before it (a shock at 10:45 liquidated "at 10:26": −1,114,458 ms)', () => {
    // flat BTC at 100, 10× long 500: a 10-minute slide to −30 % from 10:45 liquidates it in bar 10; the engine places the
    // liquidation inside the bar by its intrabar path (10:26 isolated, 10:33 cross), which knows nothing of 10:45
    const base = makeData({ BTCUSDT: { bars: Array.from({ length: 30 }, () => [100, 100, 100, 100] as Bar) } });
    const sc = scenarioSchema.parse({ id: 's', symbols: { BTC: { depth: -0.3, duration: '10m' } } });
    const stress = { kind: 'scenario' as const, scenario: 's', injectAt: T0 + 10.75 * HOUR };
    const view = stressView(base, stress, { s: sc });
    for (const setup of ['isolated', 'cross'] as const) {
      const out = run(view, scripted({ 0: (ctx) => void ctx.buy(0, 500) }, ['BTCUSDT']), { setups: [SETUPS[setup]], leverage: 10 });
      const f = stressFigures(stress, setupOf(out, setup), ['BTCUSDT'], 10_000, view, { s: sc });
      expect(f.firstLiquidated).toHaveLength(1);
      expect(f.firstLiquidated[0]!.time).toBeLessThan(stress.injectAt); // the premise: stamped inside the bar, before 10:45
      expect(f.shockBarOpen).toBe(T0 + 10 * HOUR);
      expect(f.timeToLiquidationMs).toBe(0);
      expect(shockOutcome(f)).toMatchObject({ liquidatedByShock: true, liquidatedBeforeShock: false, timeToLiquidationMs: 0 });
    }
  });
});

describe('a shock starting inside a bar, in a result written before msFromShock', () => {
  // the shock from 10:45 into its bar, a liquidation in that bar stamped 10:26: written before msFromShock, the
  // result stored −19 min; the report's scenario table read it 0 (msFromShock) while summary.json and compare kept −19 min
  const written = (): RunResult[] =>
    makeStressResults({ bars: 24 * 10, paths: 2, leverages: [10] }).map((r): RunResult => {
      const s = r.spec.stress;
      if (!s || s.kind !== 'scenario' || !r.stress || r.spec.setup !== 'isolated') return r;
      const liq = s.injectAt + 26 * 60_000;
      const injectAt = s.injectAt + 45 * 60_000;
      return {
        ...r,
        metrics: { ...r.metrics, liquidations: 1 },
        stress: { ...r.stress, injectAt, shockBarOpen: s.injectAt, survived: false, firstLiquidated: [{ symbol: 'BTCUSDT', time: liq }], timeToLiquidationMs: liq - injectAt },
      };
    });

  it('summary.json, the scenario table and compare read its time to liquidation as 0, not −19 min', async () => {
    const results = written();
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-shock-old-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['json'] });
      const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
      const runs = summary.runs.filter((r) => r.stress?.view.kind === 'scenario' && r.setup === 'isolated');
      expect(runs.length).toBeGreaterThan(0);
      for (const r of runs) expect([r.stress!.liquidatedByShock, r.stress!.timeToLiquidationMs]).toEqual([true, 0]);
      for (const sc of summary.stress!.configs[0]!.scenarios) expect(sc.setups.find((x) => x.setup === 'isolated')!.timeToLiquidationMs).toBe(0);
      const { compareFolders } = await import('../src/compare/index.js');
      const { writeRunFolder } = await import('./fixtures/report/fixture.js');
      const r = compareFolders(writeRunFolder(join(dir, 'a'), results, makeManifest(results)), writeRunFolder(join(dir, 'b'), results, makeManifest(results)), []);
      const altered = new Set(runs.map((x) => x.runId));
      const pairs = r.pairs.filter((p) => altered.has(p.baselineRunId));
      expect(pairs.length).toBeGreaterThan(0);
      for (const p of pairs) expect(p.stress!.timeToLiquidationMs).toEqual({ baseline: 0, current: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a scenario run liquidated before the shock (worker figures)', () => {
  // a BTC long at 100,000 with 10,000 at 10×: the dip to 85,000 at bar 5 liquidates it. 1 BTC under cross: the account
  // is gone (equity below 5 %). 0.5 BTC isolated: half the account is gone; bar 12 buys 0.5 BTC again, which the −30 % gap
  // at bar 20 (the shock) liquidates, taking the rest
  const n = 30;
  const btc = Array.from({ length: n }, (_, i) => (i === 5 ? [100_000, 100_000, 85_000, 100_000] : [100_000, 100_000, 100_000, 100_000]) as Bar);
  const base = makeData({ BTCUSDT: { bars: btc } });
  const sc = scenarioSchema.parse({ id: 'gap30', symbols: { BTC: { depth: -0.3, shape: 'gap', duration: '1h' } } });
  const figs = (rebuy: boolean, injectAt: number, setup: 'isolated' | 'cross') => {
    const script: Parameters<typeof scripted>[0] = { 0: (ctx) => void ctx.buy(0, rebuy ? 0.5 : 1) };
    if (rebuy) script[12] = (ctx) => void ctx.buy(0, 0.5);
    const strategy = scripted(script, ['BTCUSDT']);
    const stress = { kind: 'scenario' as const, scenario: sc.id, injectAt };
    const view = stressView(base, stress, { [sc.id]: sc });
    const out = run(view, strategy, { setups: [SETUPS[setup]], leverage: 10 });
    return stressFigures(stress, setupOf(out, setup), ['BTCUSDT'], 10_000, view, { [sc.id]: sc });
  };

  it('keeps the whole-run figures and adds the line of the shock: liquidated before it only', () => {
    const f = figs(false, T0 + 20 * HOUR, 'cross');
    expect(f.survived).toBe(false);
    expect(f.wipedOut).toBe(true);
    expect(f.timeToLiquidationMs).toBeLessThan(0);
    expect(f.shockBarOpen).toBe(T0 + 20 * HOUR);
    expect(f.wipedOutBeforeShock).toBe(true);
    // still wiped out at the shock's bar: its open is the first wiped-out bar from the shock on
    expect(f.wipedOutFromShockAt).toBe(T0 + 20 * HOUR);
    expect(shockOutcome(f)).toEqual({ liquidatedBeforeShock: true, liquidatedByShock: false, liquidatedAsHistory: false, wipedOutBeforeShock: true, wipedOutByShock: false, wipedOutAsHistory: false, timeToLiquidationMs: null });
    // the shock liquidated nothing: it lost nothing to liquidations
    expect(f.liquidationLossByShock).toBe('0');
  });

  it('the loss to the shock\'s liquidations leaves out the liquidation before it (the liquidationLoss metric keeps both)', () => {
    const f = figs(true, T0 + 20 * HOUR, 'isolated');
    const script: Parameters<typeof scripted>[0] = { 0: (ctx) => void ctx.buy(0, 0.5), 12: (ctx) => void ctx.buy(0, 0.5) };
    const stress = { kind: 'scenario' as const, scenario: sc.id, injectAt: T0 + 20 * HOUR };
    const view = stressView(base, stress, { [sc.id]: sc });
    const so = setupOf(run(view, scripted(script, ['BTCUSDT']), { setups: [SETUPS.isolated], leverage: 10 }), 'isolated');
    const liqs = so.events.filter((e) => e.type === 'liquidation');
    expect(liqs).toHaveLength(2);
    // each one's wallet loss, by the metric's formula in decimal
    const loss = (e: (typeof liqs)[number]) => new Decimal(e.penalty).minus(e.realizedPnl).minus(e.insuranceDraw);
    expect(Number(f.liquidationLossByShock)).toBeGreaterThan(0);
    expect(new Decimal(f.liquidationLossByShock!).eq(loss(liqs[1]!))).toBe(true);
    expect(computeMetrics({ output: so, initialCapital: 10_000, timeframeMs: HOUR, symbols: ['BTCUSDT'] }).liquidationLoss).toBe(loss(liqs[0]!).plus(loss(liqs[1]!)).toNumber());
  });

  it('a position opened again after the early liquidation and liquidated by the shock counts as the shock\'s', () => {
    const f = figs(true, T0 + 20 * HOUR, 'isolated');
    const hours = f.firstLiquidated.map((x) => (x.time - T0) / HOUR);
    expect(hours).toHaveLength(2);
    expect(Math.floor(hours[0]!)).toBe(5);
    expect(hours[1]).toBe(20);
    expect(f.wipedOut).toBe(true);
    expect(f.wipedOutBeforeShock).toBe(false);
    expect(shockOutcome(f)).toEqual({ liquidatedBeforeShock: true, liquidatedByShock: true, liquidatedAsHistory: false, wipedOutBeforeShock: false, wipedOutByShock: true, wipedOutAsHistory: false, timeToLiquidationMs: 0 });
    // paired with a history run wiped out from the same bar (or sooner) on, the wipe-out is not the shock's; later, it is
    const at = f.wipedOutFromShockAt!;
    expect(at).toBeGreaterThanOrEqual(T0 + 20 * HOUR);
    const outcome = (wipeOuts: WipeOutSpan[]) => shockOutcome(f, { liquidated: new Map(), barMs: HOUR, wipeOuts })!;
    expect([outcome([[at, null]]).wipedOutByShock, outcome([[at, null]]).wipedOutAsHistory]).toEqual([false, true]);
    expect([outcome([[T0, null]]).wipedOutByShock, outcome([[T0, null]]).wipedOutAsHistory]).toEqual([false, true]);
    expect([outcome([[at + HOUR, null]]).wipedOutByShock, outcome([[at + HOUR, null]]).wipedOutAsHistory]).toEqual([true, false]);
    expect(outcome([[T0, T0 + HOUR]]).wipedOutByShock).toBe(true); // the history's ended before the line
  });

  it('a liquidation after the line in the bar where the history run liquidated the same symbol is the history\'s, a ms or minutes apart; another bar or symbol is the shock\'s', () => {
    const f = figs(true, T0 + 20 * HOUR, 'isolated');
    const t = f.firstLiquidated[1]!.time;
    const sym = f.firstLiquidated[1]!.symbol;
    const with_ = (times: number[], symbol = sym) => shockOutcome(f, { liquidated: new Map([[symbol, times]]), barMs: HOUR, wipeOuts: [] })!;
    for (const d of [0, 1, -1, 59_000]) {
      const at = t + d;
      if (Math.floor(at / HOUR) !== Math.floor(t / HOUR)) continue; // (the same bar only)
      expect([with_([at]).liquidatedByShock, with_([at]).liquidatedAsHistory], `${d} ms`).toEqual([false, true]);
    }
    // the next bar, another symbol: the shock's
    expect(with_([t + HOUR]).liquidatedByShock).toBe(true);
    expect(with_([t], 'ETHUSDT').liquidatedByShock).toBe(true);
    // a bar length not dividing a day (3d): within one bar length; an unknown one: the same ms only
    const odd = (barMs: number, times: number[]) => shockOutcome(f, { liquidated: new Map([[sym, times]]), barMs, wipeOuts: [] })!.liquidatedAsHistory;
    expect([odd(3 * 24 * HOUR, [t + 2 * 24 * HOUR]), odd(3 * 24 * HOUR, [t + 3 * 24 * HOUR])]).toEqual([true, false]);
    expect([odd(Number.NaN, [t]), odd(Number.NaN, [t + 1])]).toEqual([true, false]);
  });

  it('a shock starting inside a bar draws the line at that bar\'s open (its bars are the shocked ones from there)', () => {
    const f = figs(true, T0 + 20 * HOUR + 30 * 60_000, 'isolated');
    expect(f.shockBarOpen).toBe(T0 + 20 * HOUR);
  });

  it('a path run has no shock line', () => {
    const strategy = scripted({ 0: (ctx) => void ctx.buy(0, 0.1) }, ['BTCUSDT']);
    const stress = { kind: 'path' as const, seed: 1, pathIndex: 0, blockBars: 4 };
    const view = stressView(base, stress, {});
    const out = run(view, strategy, { setups: [SETUPS.cross], leverage: 10 });
    const f = stressFigures(stress, setupOf(out, 'cross'), ['BTCUSDT'], 10_000, view, {});
    expect(f.shockBarOpen).toBeUndefined();
    expect(f.wipedOutBeforeShock).toBeUndefined();
    expect(shockOutcome(f)).toBeNull();
  });
});

/**
 * isolated: every crash run liquidated (and wiped out) 2 bars before the shock and never after it; cross: never
 * liquidated, never wiped out. Path runs: isolated liquidated on every path too (a path has no shock: the whole run counts).
 */
function earlyLiquidations(opts: { stored: boolean }): RunResult[] {
  return makeStressResults({ bars: 24 * 10, paths: 6, leverages: [10] }).map((r) => {
    if (!r.stress) return r;
    const iso = r.spec.setup === 'isolated';
    const s = r.spec.stress!;
    const early = s.kind === 'scenario' ? s.injectAt - 2 * 3_600_000 : r.stress.equityGridTime[3]!;
    // (the fixture records the shock's liquidation loss as marginlab does now; a result written before it had none)
    const { liquidationLossByShock: _lossByShock, ...before } = r.stress;
    const stress = { ...before, survived: !iso, wipedOut: iso, firstLiquidated: iso ? [{ symbol: 'BTCUSDT', time: early }] : [], timeToLiquidationMs: iso ? (s.kind === 'scenario' ? -2 * 3_600_000 : 3 * 3_600_000) : null };
    if (opts.stored && s.kind === 'scenario') Object.assign(stress, { shockBarOpen: s.injectAt, wipedOutBeforeShock: iso, liquidationLossByShock: '0' });
    return { ...r, metrics: { ...r.metrics, liquidations: iso ? 1 : 0, liquidationLoss: iso ? 500 : 0, totalReturn: iso ? -96 : -5 }, stress };
  });
}

describe('the crash pack counts liquidations and wipe-outs by the shock', () => {
  it('a run liquidated and wiped out before the shock only is neither in P(liquidation) nor P(wipe-out): it is in "before the shock"', () => {
    const results = earlyLiquidations({ stored: true });
    const c = buildModel(results, makeManifest(results)).configs[0]!;
    const crash = c.stress!.populations.crash!;
    const iso = crash.bySetup.isolated!;
    expect(crash.views).toBe(9);
    expect(iso.liquidation.k).toBe(0);
    expect(iso.wipeOut.k).toBe(0);
    expect(iso.timeToLiquidationMs.n).toBe(0);
    expect(iso.beforeShock).toEqual({ liquidation: expect.objectContaining({ k: 9, n: 9 }), wipeOut: expect.objectContaining({ k: 9, n: 9 }) });
    expect(crash.bySetup.cross!.beforeShock).toEqual({ liquidation: expect.objectContaining({ k: 0, n: 9 }), wipeOut: expect.objectContaining({ k: 0, n: 9 }) });
    // the shock liquidated neither (difference 0); the wipe-out difference weighs isolated's account, gone before the crash
    const d = crash.diffs[0]!;
    expect([d.wipeOut.mean, d.liquidation.mean]).toEqual([-1, 0]);
    expect(crash.line).toContain('isolated wiped out by the shock on 0 of 9, liquidated by the shock on 0 of 9 (before the shock: liquidated on 9 of 9, wiped out on 9 of 9)');
    expect(crash.line).toContain('cross wiped out by the shock on 0 of 9, liquidated by the shock on 0 of 9, median');
    // the shock's liquidation loss: nothing, although each isolated run lost 500 to its liquidation before it
    expect(iso.liquidationLoss.q).toEqual([0, 0, 0, 0, 0]);
    // paths keep the whole run
    const paths = c.stress!.populations.paths!;
    expect(paths.bySetup.isolated!.liquidation.k).toBe(6);
    expect(paths.bySetup.isolated!.wipeOut.k).toBe(6);
    expect(paths.bySetup.isolated!.beforeShock).toBeNull();
  });

  it('reads a result written before the shock line existed from its liquidation times (wipe-outs then count as the shock\'s)', () => {
    const results = earlyLiquidations({ stored: false });
    const iso = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.crash!.bySetup.isolated!;
    expect(iso.liquidation.k).toBe(0);
    expect(iso.beforeShock!.liquidation.k).toBe(9);
    expect(iso.wipeOut.k).toBe(9);
    expect(iso.beforeShock!.wipeOut.k).toBe(0);
    // without liquidationLossByShock: the run's whole liquidation loss, as before
    expect(iso.liquidationLoss.q).toEqual([500, 500, 500, 500, 500]);
  });

  it('report.md, report.html and summary.json show the shock\'s figures and what came before apart', async () => {
    const results = earlyLiquidations({ stored: true });
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-shock-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html', 'json'] });
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      const odds = md.split('\n').filter((l) => /^\| ma-trend \| fast=12, slow=48 \| 10× \| crash scenarios \| isolated \|/.test(l));
      expect(odds).toHaveLength(1);
      expect(odds[0]).toContain('| 0% [0–30%] (0/9) | 0% [0–30%] (0/9) | liq. 9/9, wiped 9/9 |');
      const scen = md.split('\n').filter((l) => /^\| ma-trend \| fast=12, slow=48 \| 10× \| crash-2025-10-10 \| .* \| isolated \|/.test(l));
      expect(scen).toHaveLength(3);
      for (const l of scen) expect(l).toMatch(/\| isolated \| before the shock \| before the shock \|/);
      const pathRow = md.split('\n').find((l) => /^\| ma-trend \| fast=12, slow=48 \| 10× \| Monte Carlo \| isolated \|/.test(l))!;
      expect(pathRow).toMatch(/\(6\/6\) \| — \|/);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      expect(html).toContain('liq. 9/9, wiped 9/9');
      expect(html).toContain('<th');
      expect(html).toMatch(/>Before the shock</);
      const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
      const crash = summary.stress!.configs[0]!.populations.find((p) => p.population === 'crash')!;
      const iso = crash.setups.find((s) => s.setup === 'isolated')!;
      expect([iso.liquidation.k, iso.wipeOut.k, iso.beforeShock!.liquidation.k, iso.beforeShock!.wipeOut.k]).toEqual([0, 0, 9, 9]);
      expect(summary.stress!.configs[0]!.populations.find((p) => p.population === 'paths')!.setups[0]!.beforeShock).toBeNull();
      const row = summary.stress!.configs[0]!.scenarios[0]!.setups.find((s) => s.setup === 'isolated')!;
      expect([row.survived, row.liquidatedBeforeShock, row.liquidatedByShock, row.wipedOutBeforeShock, row.wipedOutByShock]).toEqual([false, true, false, true, false]);
      const run = summary.runs.find((r) => r.stress?.view.kind === 'scenario' && r.setup === 'isolated')!;
      expect([run.stress!.liquidatedBeforeShock, run.stress!.liquidatedByShock]).toEqual([true, false]);
      expect(summary.runs.find((r) => r.stress?.view.kind === 'path')!.stress!.liquidatedByShock).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a liquidation after the shock that the history run has too is not the shock\'s', () => {
  // a scenario run goes on to the end of the data: a strategy the calm history liquidates weeks after the
  // crash showed "liquidated by the shock" on every injection (P(liquidation) 100 %), found by a new user
  const liq = (time: number, loss: string) => ({
    type: 'liquidation' as const, time, pool: 'isolated:BTCUSDT', mode: 'isolated' as const,
    legs: [{ symbol: 'BTCUSDT', side: 'long' as const, qty: 1, closePrice: 90, triggerPrice: 90, liquidationPrice: 90 }],
    marginRatio: 1, realizedPnl: `-${loss}`, penalty: '0', insuranceDraw: '0', loss,
  });
  function lateLiquidations(opts: { historyCapped?: boolean; scenarioCapped?: boolean } = {}): { results: RunResult[]; late: number } {
    const base = makeStressResults({ bars: 24 * 10, paths: 2, leverages: [10] });
    const late = Math.max(...base.filter((r) => !r.spec.stress).map((r) => r.curves.time.at(-1)!));
    let k = 0;
    const results = base.map((r) => {
      if (r.spec.setup !== 'isolated') return r;
      if (!r.spec.stress) return { ...r, events: [...r.events, liq(late, '700')], ...(opts.historyCapped ? { eventsCap: { limit: 1, total: r.events.length + 1, kept: 1 } } : {}) };
      const s = r.spec.stress;
      if (s.kind !== 'scenario') return r;
      // every scenario run has the history's late liquidation; the first one also one of its own, an hour earlier
      const own = k++ === 0;
      const events = [...r.events, ...(own ? [liq(late - 3_600_000, '300')] : []), liq(late, '700')];
      const first = [...(own ? [{ symbol: 'BTCUSDT', time: late - 3_600_000 }] : []), { symbol: 'BTCUSDT', time: late }];
      const cap = opts.scenarioCapped ? { eventsCap: { limit: 1, total: events.length, kept: 1 } } : {};
      return { ...r, events, ...cap, stress: { ...r.stress!, survived: false, firstLiquidated: first, shockBarOpen: s.injectAt, wipedOutBeforeShock: false, liquidationLossByShock: own ? '1000' : '700' } };
    });
    return { results, late };
  }

  it('leaves it out of P(liquidation), the time to liquidation and the liquidation loss of the crash pack, and says it apart', () => {
    const { results } = lateLiquidations();
    const model = buildModel(results, makeManifest(results));
    const iso = model.configs[0]!.stress!.populations.crash!.bySetup.isolated!;
    expect([iso.liquidation.k, iso.liquidation.n]).toEqual([1, 9]);
    // one run lost 300 to its own liquidation, the others nothing the history did not lose too (700 each)
    expect(iso.liquidationLoss.q[2]).toBe(0);
    expect(iso.liquidationLoss.q[4]).toBeGreaterThan(0);
    expect(iso.liquidationLoss.q[4]).toBeLessThanOrEqual(300);
    const rows = model.configs[0]!.stress!.scenarios.map((r) => r.bySetup.isolated!);
    expect(rows.map((r) => r.liquidatedByShock).filter(Boolean)).toHaveLength(1);
    expect(rows.every((r) => r.liquidatedAsHistory)).toBe(true);
  });

  it('report.md names it, summary.json carries it (and the shock\'s loss without it)', async () => {
    const { results } = lateLiquidations();
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-late-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html', 'json'] });
      expect(readFileSync(join(dir, 'report.html'), 'utf8')).toContain('after the shock as in the history');
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      const scen = md.split('\n').filter((l) => /^\| ma-trend \| fast=12, slow=48 \| 10× \| [^|]+ \| [^|]+ \| isolated \| /.test(l) && !/Monte Carlo|crash scenarios/.test(l));
      expect(scen).toHaveLength(9);
      expect(scen.filter((l) => l.includes('| after the shock as in the history |'))).toHaveLength(8);
      expect(scen.filter((l) => l.includes('| by the shock |'))).toHaveLength(1);
      const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
      const runs = summary.runs.filter((r) => r.stress?.view.kind === 'scenario' && r.setup === 'isolated');
      expect(runs.map((r) => [r.stress!.liquidatedByShock, r.stress!.liquidatedAsHistory, r.stress!.liquidationLossByShock]).sort()).toEqual([[false, true, '0'], ...Array(7).fill([false, true, '0']), [true, true, '300']].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("compare.md says it when one folder pairs a run with its history run and the other cannot (a folder of stress runs only)", async () => {
    const { compareFolders } = await import('../src/compare/index.js');
    const { renderMarkdown } = await import('../src/compare/render.js');
    const { writeRunFolder } = await import('./fixtures/report/fixture.js');
    const { results } = lateLiquidations();
    const stressOnly = results.filter((r) => r.spec.stress);
    const root = mkdtempSync(join(tmpdir(), 'ml-stress-late-cmp-'));
    try {
      const r = compareFolders(writeRunFolder(join(root, 'a'), stressOnly, makeManifest(stressOnly)), writeRunFolder(join(root, 'b'), results, makeManifest(results)), []);
      const md = renderMarkdown(r);
      expect(md).toContain('stress: liquidated by the shock yes → no (before it no → no; after it as in the history no → yes)');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it.each([['a history run', { historyCapped: true }], ['a scenario run', { scenarioCapped: true }]] as const)('%s whose events were cut is read unpaired: every liquidation after the line counts as the shock\'s, flag and loss alike', (_n, opts) => {
    const { results } = lateLiquidations(opts);
    const model = buildModel(results, makeManifest(results));
    const iso = model.configs[0]!.stress!.populations.crash!.bySetup.isolated!;
    expect([iso.liquidation.k, iso.liquidation.n]).toEqual([9, 9]);
    expect(iso.liquidationLoss.q[0]).toBe(700);
    expect(model.configs[0]!.stress!.scenarios.every((r) => !r.bySetup.isolated!.liquidatedAsHistory)).toBe(true);
  });
});

describe("compare's stress note", () => {
  it('says what the shock did and what happened before it, for a scenario run (a path run keeps survived / wiped out)', async () => {
    const { compareFolders } = await import('../src/compare/index.js');
    const { renderMarkdown } = await import('../src/compare/render.js');
    const { writeRunFolder } = await import('./fixtures/report/fixture.js');
    const all = earlyLiquidations({ stored: true });
    const pick = all.filter((r) => r.spec.setup === 'isolated' && r.stress && (r.spec.stress!.kind === 'path' ? r.spec.stress!.pathIndex === 0 : r.spec.stress!.scenario === 'crash-2025-10-10'));
    const before = [pick.find((r) => r.spec.stress!.kind === 'scenario')!, pick.find((r) => r.spec.stress!.kind === 'path')!];
    // the current side: the same runs, the scenario run liquidated by the shock too
    const after = before.map((r): RunResult => {
      const c = structuredClone(r);
      const s = c.spec.stress!;
      if (s.kind === 'scenario') c.stress!.firstLiquidated.push({ symbol: 'BTCUSDT', time: s.injectAt + 3_600_000 });
      return c;
    });
    const root = mkdtempSync(join(tmpdir(), 'ml-stress-shock-cmp-'));
    try {
      const r = compareFolders(writeRunFolder(join(root, 'a'), before, makeManifest(before)), writeRunFolder(join(root, 'b'), after, makeManifest(after)), []);
      const scen = r.pairs.find((p) => p.stress?.kind === 'scenario')!;
      expect(scen.stress!.shock).toEqual({
        liquidatedBeforeShock: { baseline: true, current: true },
        liquidatedByShock: { baseline: false, current: true },
        liquidatedAsHistory: { baseline: false, current: false },
        wipedOutBeforeShock: { baseline: true, current: true },
        wipedOutByShock: { baseline: false, current: false },
        wipedOutAsHistory: { baseline: false, current: false },
      });
      const md = renderMarkdown(r);
      expect(md).toContain('stress: liquidated by the shock no → yes (before it yes → yes), wiped out by the shock no → no (before it yes → yes), peak margin ratio');
      expect(r.pairs.find((p) => p.stress?.kind === 'path')!.stress!.shock).toBeUndefined();
      expect(md).toContain('stress: survived no → no, wiped out yes → yes, peak');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('the crash verdict weighs a wipe-out before the shock', () => {
  it('a setup whose account was gone before the crash did not serve better for not being wiped out by it', () => {
    // cross: every crash run wiped out (and liquidated) 2 h before the shock; isolated: wiped out by the shock on 5 of 9
    let k = 0;
    const results = makeStressResults({ bars: 24 * 10, paths: 6, leverages: [10] }).map((r): RunResult => {
      const s = r.spec.stress;
      if (!s || s.kind !== 'scenario' || !r.stress) return r;
      const cross = r.spec.setup === 'cross';
      const at = cross ? 0 : k++ % 9;
      const wipedByShock = !cross && at < 5;
      const firstLiquidated = cross ? [{ symbol: 'BTCUSDT', time: s.injectAt - 7_200_000 }] : wipedByShock ? [{ symbol: 'BTCUSDT', time: s.injectAt }] : [];
      return {
        ...r,
        // (a survivor's return moves with each injection: the same one at every injection would be the history's, counted once)
        metrics: { ...r.metrics, totalReturn: cross ? -96 : wipedByShock ? -97 : -10 - at, liquidations: firstLiquidated.length },
        stress: { ...r.stress, survived: firstLiquidated.length === 0, wipedOut: cross || wipedByShock, firstLiquidated, timeToLiquidationMs: firstLiquidated.length ? firstLiquidated[0]!.time - s.injectAt : null, shockBarOpen: s.injectAt, wipedOutBeforeShock: cross },
      };
    });
    const crash = buildModel(results, makeManifest(results)).configs[0]!.stress!.populations.crash!;
    // the odds keep the shock's figures apart from what came before
    expect([crash.bySetup.cross!.wipeOut.k, crash.bySetup.cross!.beforeShock!.wipeOut.k, crash.bySetup.isolated!.wipeOut.k]).toEqual([0, 9, 5]);
    expect(crash.diffs[0]!.wipeOut.mean).toBeCloseTo(4 / 9, 12); // cross − isolated, before or by the shock
    expect(crash.winner).toBe('isolated');
    expect(crash.line).toContain('isolated served it (fewer wipe-outs, before or by the shock;');
  });
});

describe('wipe-out spans', () => {
  const T = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => 1000 * i);
  it.each([
    [[100, 100, 100, 100, 100, 100, 100, 100], []],
    [[100, 4, 4, 100, 100, 3, 100, 2], [[1000, 3000], [5000, 6000], [7000, null]]],
    [[4.99, 5, 4, 4, 4, 4, 4, 4], [[0, 1000], [2000, null]]],
  ] as const)('equity %j: spans %j (below 5 % of 100 at a close)', (equity, want) => {
    expect(wipeOutSpans(T, equity, 100)).toEqual(want);
  });
  it('keeps at most WIPE_OUT_SPANS, the last then to the end; firstWipeOutFrom reads the first wiped-out bar from a line on', () => {
    const t = Array.from({ length: 400 }, (_, i) => i);
    const spans = wipeOutSpans(t, t.map((i) => (i % 2 ? 1 : 100)), 100);
    expect(spans).toHaveLength(WIPE_OUT_SPANS);
    expect(spans.at(-1)).toEqual([2 * WIPE_OUT_SPANS - 1, null]);
    const s: WipeOutSpan[] = [[1000, 3000], [5000, null]];
    expect([0, 1000, 2000, 3000, 4000, 6000].map((line) => firstWipeOutFrom(s, line))).toEqual([1000, 1000, 2000, 5000, 5000, 6000]);
    expect(firstWipeOutFrom([[1000, 3000]], 3000)).toBeNull();
  });
});

describe("a wipe-out after the shock no sooner than the history run's own is not the shock's", () => {
  // the history run is wiped out late (the dataset's own bars); every scenario run too, at the same bar,
  // and the first scenario run an hour sooner: only that one is the shock's
  function lateWipeOuts(opts: { historyWithout?: boolean; scenarioWithout?: boolean } = {}): RunResult[] {
    const base = makeStressResults({ bars: 24 * 10, paths: 2, leverages: [10] });
    const late = Math.max(...base.filter((r) => !r.spec.stress).map((r) => r.curves.time.at(-1)!));
    let k = 0;
    return base.map((r) => {
      if (r.spec.setup !== 'isolated') return r;
      if (!r.spec.stress) return opts.historyWithout ? r : { ...r, wipeOuts: [[late, null]] as WipeOutSpan[] };
      const s = r.spec.stress;
      if (s.kind !== 'scenario') return r;
      const at = k++ === 0 ? late - 3_600_000 : late;
      const { wipedOutFromShockAt: _drop, ...st } = r.stress!;
      return { ...r, stress: { ...st, wipedOut: true, shockBarOpen: s.injectAt, wipedOutBeforeShock: false, ...(opts.scenarioWithout ? {} : { wipedOutFromShockAt: at }) } };
    });
  }

  it('leaves it out of P(wipe-out) of the crash pack and the leverage survival, and says it apart (report.md, summary.json)', async () => {
    const results = lateWipeOuts();
    const model = buildModel(results, makeManifest(results));
    const iso = model.configs[0]!.stress!.populations.crash!.bySetup.isolated!;
    expect([iso.wipeOut.k, iso.wipeOut.n]).toEqual([1, 9]);
    const rows = model.configs[0]!.stress!.scenarios.map((r) => r.bySetup.isolated!);
    expect(rows.filter((r) => r.wipedOutByShock)).toHaveLength(1);
    expect(rows.filter((r) => r.wipedOutAsHistory)).toHaveLength(8);
    const dir = mkdtempSync(join(tmpdir(), 'ml-stress-wipe-'));
    try {
      await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'json'] });
      const md = readFileSync(join(dir, 'report.md'), 'utf8');
      const scen = md.split('\n').filter((l) => /^\| ma-trend \| fast=12, slow=48 \| 10× \| [^|]+ \| [^|]+ \| isolated \| /.test(l) && !/Monte Carlo|crash scenarios/.test(l));
      expect(scen).toHaveLength(9);
      // the Wiped out cell (the Liquidated one is 'no' or the run's own)
      expect(scen.filter((l) => l.split(' | ')[7] === 'after the shock as in the history')).toHaveLength(8);
      expect(scen.filter((l) => l.split(' | ')[7] === 'by the shock')).toHaveLength(1);
      const summary = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
      const runs = summary.runs.filter((r) => r.stress?.view.kind === 'scenario' && r.setup === 'isolated');
      expect(runs.map((r) => [r.stress!.wipedOutByShock, r.stress!.wipedOutAsHistory]).sort()).toEqual([[true, false], ...Array(8).fill([false, true])].sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([['a history run never wiped out (or written before wipeOuts)', { historyWithout: true }], ['a scenario run written before wipedOutFromShockAt', { scenarioWithout: true }]] as const)('%s: every wipe-out after the line is the shock\'s', (_n, opts) => {
    const results = lateWipeOuts(opts);
    const model = buildModel(results, makeManifest(results));
    expect(model.configs[0]!.stress!.populations.crash!.bySetup.isolated!.wipeOut.k).toBe(9);
    expect(model.configs[0]!.stress!.scenarios.every((r) => !r.bySetup.isolated!.wipedOutAsHistory)).toBe(true);
  });
});
