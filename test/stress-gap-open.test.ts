/**
 * A jump (gap, zero-length slide or wick) that starts exactly at a bar open: the bar opens at the
 * jumped level, so its range is the base range under the factor from the jump on, never the
 * level before the jump (docs/stress.md, The splice: "low × min g over the bar", g right-continuous).
 * A jump inside a bar cannot be shown by it: a slide there, said by a warning.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { applyScenario } from '../src/stress/overlay.js';
import { compileShock, factorRange, scenarioSchema, type Scenario } from '../src/stress/scenario.js';
import { jumpOffsets, midBarJumpWarnings, pathCrashLateWarnings, type ResolvedStress } from '../src/stress/plan.js';
import { stressFigures, stressView } from '../src/stress/view.js';
import { HOUR, T0, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';

const n = 20;
const bars = (): Bar[] => Array.from({ length: n }, () => [100, 100.5, 99.5, 100] as Bar);

describe('a jump at a bar open', () => {
  it('factorRange over [a, b) starting at the jump holds only the jumped level', () => {
    const gap = compileShock(scenarioSchema.parse({ id: 'g', symbols: { X: { depth: -0.3, shape: 'gap', duration: '2h' } } }).symbols.X!);
    expect(factorRange(gap, 0, HOUR)).toEqual([0.7, 0.7]);
    const jump = compileShock(scenarioSchema.parse({ id: 'j', symbols: { X: { depth: -0.3, shape: 'slide', duration: 0 } } }).symbols.X!);
    expect(factorRange(jump, 0, HOUR)).toEqual([0.7, 0.7]);
    // a zero-length wick at the open is a spike inside the bar: its depth counts, the level before it does not
    const wick = compileShock(scenarioSchema.parse({ id: 'w', symbols: { X: { depth: 0.2, shape: 'wick', duration: 0, recovery: 0.5 } } }).symbols.X!);
    const [lo, hi] = factorRange(wick, 0, HOUR);
    expect(lo).toBeCloseTo(1.1, 12);
    expect(hi).toBeCloseTo(1.2, 12);
    // a jump inside the bar still spans both levels
    expect(factorRange(gap, -HOUR / 2, HOUR / 2)).toEqual([0.7, 1]);
  });

  it("a zero-length jump's volume multiplier scales the bar it falls in, also at the bar's open", () => {
    const base = makeData({ BTCUSDT: { bars: bars() } });
    const vol = (injectAt: number) => {
      const sc = scenarioSchema.parse({ id: 'z', symbols: { BTC: { depth: -0.3, shape: 'gap', duration: 0, volume: 5 } } });
      const v = applyScenario(base, sc, injectAt, null).columns[0]!;
      return Array.from(v.volume).map((x, i) => x / base.columns[0]!.volume[i]!);
    };
    const only = (k: number) => Array.from({ length: n }, (_, i) => (i === k ? 5 : 1));
    expect(vol(T0 + 10 * HOUR)).toEqual(only(10));
    expect(vol(T0 + 10.5 * HOUR)).toEqual(only(10));
  });

  it('the gapped bar keeps the base range scaled by the gapped level (trade and mark)', () => {
    const base = makeData({ BTCUSDT: { bars: bars(), mark: bars() } });
    const sc = scenarioSchema.parse({ id: 'gap', symbols: { BTC: { depth: -0.3, shape: 'gap', duration: '1h' } } });
    const v = applyScenario(base, sc, T0 + 10 * HOUR, null).columns[0]!;
    expect(v.open[10]).toBeCloseTo(70, 9);
    expect(v.high[10]).toBeCloseTo(70.35, 9);
    expect(v.low[10]).toBeCloseTo(69.65, 9);
    expect(v.markHigh[10]).toBeCloseTo(70.35, 9);
  });

  it('a beta above 1 scaling a market shock past the floor keeps the mark at −95 %, as the trade price (it was 0.1 % of it)', () => {
    // depth −0.5 with markExtra 0.8: the mark falls 90 %, allowed; a beta of 1.5 makes it (1 − 0.5^1.5) × 1.8 = −116 %
    const base = makeData({ BTCUSDT: { bars: bars(), mark: bars() }, ETHUSDT: { bars: bars(), mark: bars() } });
    const sc = scenarioSchema.parse({ id: 'm', market: { depth: -0.5, shape: 'gap', duration: '1h', markExtra: 0.8 } });
    const v = applyScenario(base, sc, T0 + 10 * HOUR, Float64Array.from([1, 1.5])).columns;
    expect(v[0]!.markOpen[10]).toBeCloseTo(10, 9); // beta 1: 1 − 0.5 × 1.8 = 0.1
    expect(v[1]!.open[10]).toBeCloseTo(100 * 0.5 ** 1.5, 9); // beta 1.5 on log returns: the trade price −64.6 %
    expect(v[1]!.markOpen[10]).toBeCloseTo(5, 9); // the mark at the floor, 1 − 0.95
    expect(v[1]!.markLow[10]).toBeCloseTo(99.5 * 0.05, 9); // the base low under the floor factor
  });

  it('a hedged cross pool is not liquidated by a correlated gap at a bar open (pessimistic check)', () => {
    // long 500 BTC and short 500 ETH at 100, 10×, cross, zero fees; both gap −30 % at bar 10's open:
    // the legs cancel (−15,000 + 15,000). The short's adverse extreme is the gapped bar's high, 70.35.
    const base = makeData({ BTCUSDT: { bars: bars() }, ETHUSDT: { bars: bars() } });
    const strategy = scripted({ 0: (ctx) => { ctx.buy(0, 500); ctx.sell(1, 500); } }, ['BTCUSDT', 'ETHUSDT']);
    const sc = scenarioSchema.parse({ id: 'gap', market: { depth: -0.3, shape: 'gap', duration: '1h' } });
    const stress = { kind: 'scenario' as const, scenario: 'gap', injectAt: T0 + 10 * HOUR };
    const view = stressView(base, stress, { gap: sc });
    const out = run(view, strategy, { setups: [SETUPS.cross], leverage: 10, execution: { crossCheck: 'pessimistic' } });
    const f = stressFigures(stress, setupOf(out, 'cross'), out.symbols, 10_000, view, { gap: sc });
    expect(f.firstLiquidated).toEqual([]);
    expect(f.survived).toBe(true);
  });

  it("a short's stop inside the gap bar's pre-shock range is not triggered by a gap down", () => {
    // bars ranging 99.8–100.2, except bar 10 (the gap bar): 99.5–100.5 before the shock
    const b = Array.from({ length: n }, (_, i) => (i === 10 ? [100, 100.5, 99.5, 100] : [100, 100.2, 99.8, 100]) as Bar);
    const base = makeData({ BTCUSDT: { bars: b } });
    const strategy = scripted({ 0: (ctx) => { ctx.sell(0, 10); ctx.buy(0, 10, { type: 'stop', price: 100.4, reduceOnly: true }); } }, ['BTCUSDT']);
    const sc = scenarioSchema.parse({ id: 'gap', symbols: { BTC: { depth: -0.3, shape: 'gap', duration: '1h' } } });
    const view = stressView(base, { kind: 'scenario', scenario: 'gap', injectAt: T0 + 10 * HOUR }, { gap: sc });
    const out = run(view, strategy, { setups: [SETUPS.isolated], leverage: 2 });
    const fills = setupOf(out, 'isolated').events.filter((e) => e.type === 'fill');
    expect(fills).toHaveLength(1);
  });
});

describe('a jump inside a bar', () => {
  // long 500 BTC at 100, 10×, 10,000 USDT, zero fees; a −50 % gap at bar 10's open or 1 ms after it
  const gapRun = (injectAt: number) => {
    const base = makeData({ BTCUSDT: { bars: bars() } });
    const strategy = scripted({ 0: (ctx) => { ctx.buy(0, 500); } }, ['BTCUSDT']);
    const sc = scenarioSchema.parse({ id: 'g', symbols: { BTC: { depth: -0.5, shape: 'gap', duration: '1h' } } });
    const view = stressView(base, { kind: 'scenario', scenario: 'g', injectAt }, { g: sc });
    const out = run(view, strategy, { setups: [SETUPS.isolated], leverage: 10 });
    return setupOf(out, 'isolated').events.flatMap((e) => (e.type === 'liquidation' ? [e] : []));
  };

  it('is a gap at the open (closed at the gapped open, the shortfall drawn from the insurance fund), a slide inside the bar (closed at the liquidation price, nothing drawn), as docs/stress.md says', () => {
    const atOpen = gapRun(T0 + 10 * HOUR);
    expect(atOpen).toHaveLength(1);
    expect(atOpen[0]!.prices[0]).toBe(50);
    expect(Number(atOpen[0]!.insuranceDraw)).toBeGreaterThan(0);
    const inside = gapRun(T0 + 10 * HOUR + 1);
    expect(inside).toHaveLength(1);
    expect(inside[0]!.prices[0]).toBeGreaterThan(90);
    expect(inside[0]!.insuranceDraw).toBe('0');
  });

  it('is said by a warning naming the scenario, the time and the bar, once per scenario and dataset; a jump on a bar open, a slide or a wick is not', () => {
    const time = Array.from({ length: n }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const sc = (id: string, shock: Record<string, unknown>) => scenarioSchema.parse({ id, symbols: { BTC: shock } });
    const stress = (scenarios: Scenario[], at: number[], extra: Partial<ResolvedStress> = {}): ResolvedStress => ({
      scenarios, inject: { at, every: null, random: 0 }, paths: 0, blockBars: null, crashesPerPath: 0, crashScenarios: [], seed: 1, survivalThreshold: 0.05, pathEvents: false, ...extra,
    });
    const gap = sc('g', { depth: -0.3, shape: 'gap', duration: '1h' });
    const late = sc('late', { legs: [{ depth: -0.1, duration: '1h' }, { depth: -0.3, shape: 'gap', at: '90m' }] });
    const jump = sc('j', { depth: -0.3, duration: 0 });
    const slide = sc('s', { depth: -0.3, duration: '90m' });
    const wick = sc('w', { depth: -0.3, shape: 'wick', duration: 0 });
    expect(jumpOffsets(gap)).toEqual([0]);
    expect(jumpOffsets(late)).toEqual([90 * 60_000]);
    expect(jumpOffsets(slide)).toEqual([]);
    expect(jumpOffsets(wick)).toEqual([]); // down and back at one instant: no level changes
    expect(midBarJumpWarnings(stress([gap, jump, slide, wick], [T0 + 5 * HOUR, T0 + 6 * HOUR]), ds)).toEqual([]);
    const w = midBarJumpWarnings(stress([gap, jump, slide, wick, late], [T0 + 5 * HOUR, T0 + 6.5 * HOUR, T0 + 7.5 * HOUR]), ds);
    expect(w).toHaveLength(3);
    expect(w[0]).toBe(
      `stress scenario 'g': its price jump (a 'gap' leg, or a 'slide' of duration 0) at ${new Date(T0 + 6.5 * HOUR).toISOString()} falls inside a 1h bar of dataset d: a bar cannot show a jump inside it, so there the price moves from the old level to the new one along the bar's intrabar path, and a position is liquidated at its liquidation price, not past it (no gap, no insurance draw); put the jump on a bar open (inject.at on a bar open, a leg's 'at' a whole number of 1h bars) to book it as a gap`,
    );
    expect(w[1]).toContain("stress scenario 'j':");
    // the leg 90m after a bar-open start
    expect(w[2]).toContain(`stress scenario 'late': its price jump (a 'gap' leg, or a 'slide' of duration 0) at ${new Date(T0 + 6.5 * HOUR).toISOString()}`);
    // drawn into the Monte Carlo paths (crashes start at bar opens)
    const paths = midBarJumpWarnings(stress([], [], { paths: 2, crashesPerPath: 1, crashScenarios: [gap, late] }), ds);
    expect(paths).toEqual([expect.stringContaining("stress scenario 'late': its price jump (a 'gap' leg, or a 'slide' of duration 0) 1h30m after its start, in the Monte Carlo paths, falls inside a 1h bar of dataset d")]);
  });
});

describe('durations in stress warnings', () => {
  it('read as a config writes them (975m read as 16h15m; a whole number of hours stays in hours)', async () => {
    const { fmtSpan } = await import('../src/feed/timeframe.js');
    expect([975 * 60_000, 31 * 3_600_000, 90 * 60_000, 30 * 60_000, 61_000, 1_500].map(fmtSpan)).toEqual(['16h15m', '31h', '1h30m', '30m', '1m1s', '1500 ms']);
  });
});

describe('a jump after the end of the data', () => {
  it('is not said (it is not replayed), and an offset past the dates a Date holds is no internal error', () => {
    const time = Array.from({ length: n }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const stress = (scenarios: Scenario[], at: number[]): ResolvedStress => ({
      scenarios, inject: { at, every: null, random: 0 }, paths: 0, blockBars: null, crashesPerPath: 0, crashScenarios: [], seed: 1, survivalThreshold: 0.05, pathEvents: false,
    });
    const far = scenarioSchema.parse({ id: 'far', symbols: { BTC: { depth: -0.5, at: '99999999999d' } } });
    const huge = scenarioSchema.parse({ id: 'huge', symbols: { BTC: { depth: -0.5, at: 1e300 } } });
    const after = scenarioSchema.parse({ id: 'after', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '30h30m' } } });
    expect(midBarJumpWarnings(stress([far, huge, after], [T0 + 5 * HOUR]), ds)).toEqual([]);
    // inside the window a mid-bar jump is still said
    const inside = scenarioSchema.parse({ id: 'inside', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '3h30m' } } });
    expect(midBarJumpWarnings(stress([inside], [T0 + 5 * HOUR]), ds)).toEqual([expect.stringContaining(`stress scenario 'inside': its price jump (a 'gap' leg, or a 'slide' of duration 0) at ${new Date(T0 + 8.5 * HOUR).toISOString()}`)]);
  });

  it("drawn into the Monte Carlo paths, a jump after the end of every path is not said either (a path's crashes start in bars ⌊n/4⌋ …)", () => {
    const time = Array.from({ length: n }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const paths = (crashScenarios: Scenario[]): ResolvedStress => ({
      scenarios: [], inject: { at: [], every: null, random: 0 }, paths: 2, blockBars: null, crashesPerPath: 1, crashScenarios, seed: 1, survivalThreshold: 0.05, pathEvents: false,
    });
    // the earliest crash starts at bar 5 of 20 (T0 + 5h): a jump 15h30m after it is at T0 + 20h30m, past the end (T0 + 20h)
    const huge = scenarioSchema.parse({ id: 'huge', symbols: { BTC: { depth: -0.5, shape: 'gap', at: 1e300 } } });
    const after = scenarioSchema.parse({ id: 'after', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '15h30m' } } });
    expect(midBarJumpWarnings(paths([huge, after]), ds)).toEqual([]);
    // 14h30m after a start at bar 5 is inside the last bar: still said
    const inside = scenarioSchema.parse({ id: 'inside', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '14h30m' } } });
    expect(midBarJumpWarnings(paths([inside]), ds)).toEqual([expect.stringContaining("stress scenario 'inside': its price jump (a 'gap' leg, or a 'slide' of duration 0) 14h30m after its start, in the Monte Carlo paths, falls inside")]);
  });

  it("drawn into the Monte Carlo paths, a crash whose shock starts after the end from some or every bar a path's crash can start at is said (such a path counts as surviving it)", () => {
    const time = Array.from({ length: n }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const paths = (crashScenarios: Scenario[], p = 2): ResolvedStress => ({
      scenarios: [], inject: { at: [], every: null, random: 0 }, paths: p, blockBars: null, crashesPerPath: 1, crashScenarios, seed: 1, survivalThreshold: 0.05, pathEvents: false,
    });
    // a path's crashes start in bars 5 … 17 of 20; the end is T0 + 20h
    const never = scenarioSchema.parse({ id: 'never', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '16h' } } });
    const some = scenarioSchema.parse({ id: 'some', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '10h' } } });
    const soon = scenarioSchema.parse({ id: 'soon', symbols: { BTC: { depth: -0.5, shape: 'gap', at: '2h' } } });
    const w = pathCrashLateWarnings(paths([never, some, soon]), ds);
    expect(w).toEqual([
      `stress scenario 'never': drawn into the Monte Carlo paths, its shock starts 16h after the crash's start, at or after the end of dataset d (${new Date(T0 + 20 * HOUR).toISOString()}), from every one of the 13 bars a path's crash can start at (bars 5 to 17): its crashes are replayed in no path (such a path replays the data without it and counts as surviving the crash); lower its legs' 'at', or leave it out of stress.crashScenarios`,
      expect.stringContaining("stress scenario 'some': drawn into the Monte Carlo paths, its shock starts 10h after the crash's start, at or after the end of dataset d (" + new Date(T0 + 20 * HOUR).toISOString() + "), from 8 of the 13 bars a path's crash can start at (bars 10 to 17): a crash drawn there is not replayed"),
    ]);
    expect(pathCrashLateWarnings(paths([never], 0), ds)).toEqual([]);
  });
});
