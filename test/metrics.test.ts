import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AccountEvent } from '../src/account/types.js';
import type { SetupOutput } from '../src/engine/types.js';
import { METRICS, MIN_ANNUALISE_DAYS, computeMetrics, countNearMisses, reconstructTrades as fromRecords, closedTrades } from '../src/analysis/index.js';
import { eventRecords } from '../src/shard/records.js';
import { buildCurves, downsampleIndices, drawdownSeries } from '../src/analysis/curves.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2024, 0, 1);

function output(p: {
  equity: number[];
  marginRatio?: number[];
  marginRatioPeak?: number[];
  initialMargin?: number[];
  capitalAtRisk?: number[];
  grossNotional?: number[];
  events?: AccountEvent[];
  rejections?: Record<string, number>;
}): SetupOutput {
  const n = p.equity.length;
  const z = () => new Array<number>(n).fill(0);
  return {
    setup: { id: 'isolated', defaultMode: 'isolated' },
    series: {
      time: Float64Array.from({ length: n }, (_, i) => T0 + i * DAY),
      equity: Float64Array.from(p.equity),
      marginBalance: Float64Array.from(p.equity),
      maintenanceMargin: Float64Array.from(z()),
      marginRatio: Float64Array.from(p.marginRatio ?? z()),
      marginRatioPeak: Float64Array.from(p.marginRatioPeak ?? p.marginRatio ?? z()),
      initialMargin: Float64Array.from(p.initialMargin ?? z()),
      capitalAtRisk: Float64Array.from(p.capitalAtRisk ?? z()),
      grossNotional: Float64Array.from(p.grossNotional ?? z()),
    },
    events: p.events ?? [],
    books: { initialDeposit: '100', wallet: '0', realizedPnl: '0', fees: '0', fundingReceived: '0', fundingPaid: '0', liquidationPenalties: '0', insuranceDraws: '0' },
    rejections: p.rejections ?? {},
    liquidationPriceSource: 'mark',
    crossCheck: 'pessimistic',
  };
}

const fill = (day: number, qty: number, price: number, fee: string, realizedPnl: string, positionQty: number): AccountEvent => ({
  type: 'fill', time: T0 + day * DAY, symbol: 0, qty, price, fee, realizedPnl, positionQty, mode: 'isolated',
});

/** A cross pool long 1 of symbol 0 and short 3 of symbol 1 (both at 100: notional 100 and 300), then liquidated at 100. */
/** closed round trips of account events (as the metrics count them) */
const reconstructTrades = (ev: AccountEvent[]) => closedTrades(fromRecords(eventRecords(ev, ['BTCUSDT', 'ETHUSDT'])));

const crossPairLiquidated = (liq: { penalty: string; insuranceDraw: string; realizedPnl: string }): AccountEvent[] => [
  { type: 'fill', time: 0, symbol: 0, qty: 1, price: 100, fee: '0', realizedPnl: '0', positionQty: 1, mode: 'cross' },
  { type: 'fill', time: 0, symbol: 1, qty: -3, price: 100, fee: '0', realizedPnl: '0', positionQty: -3, mode: 'cross' },
  { type: 'liquidation', time: 1, poolId: 'cross', symbols: [0, 1], prices: [100, 100], ...liq },
];

/*
 * Hand-worked case (initial capital 100, daily bars, 6 bars):
 *   equity            110   99   121  121  115  132
 *   close MR          0     .65  .85  .5   .95  0
 *   peak MR           0     .7   .95  .5   1.0  .91
 *   initial margin    0     50   50   50   30   0      → avg 30, max 50
 *   capital at risk   0     60   60   60   40   0      → avg 36.6667
 *   gross notional    0     500  500  500  300  0      → exposure 4/6
 * Trades (fills, funding, liquidation):
 *   T1 long 1: buy @100 fee .1, funding −.5, sell @110 (+10, fee .11)        → 10 − .21 − .5 = 9.29 (win)
 *   T2 long 2: buy @100 fee .2; sell 3 @95 flips (−10, fee .285 × 2/3=.19)   → −10.39
 *   T3 short 1: fee .285 × 1/3 = .095, funding +.3, liquidated (PnL −20, penalty 5, draw 1.5)
 *               → −.095 + .3 − 20 − 5 + 1.5 = −23.295 (the draw was paid by the insurance fund)
 */
const events: AccountEvent[] = [
  fill(0, 1, 100, '0.1', '0', 1),
  { type: 'funding', time: T0 + 0.5 * DAY, symbol: 0, received: '-0.5', rate: 0.005, price: 100 },
  fill(1, -1, 110, '0.11', '10', 0),
  fill(2, 2, 100, '0.2', '0', 2),
  fill(3, -3, 95, '0.285', '-10', -1),
  { type: 'funding', time: T0 + 3.5 * DAY, symbol: 0, received: '0.3', rate: -0.003, price: 100 },
  { type: 'rejection', time: T0 + 3.6 * DAY, symbol: 0, reason: 'insufficientMargin', message: 'x' },
  { type: 'liquidation', time: T0 + 4 * DAY + 3_600_000, poolId: 'isolated:0', symbols: [0], prices: [115], penalty: '5', insuranceDraw: '1.5', realizedPnl: '-20' },
];

const handCase = output({
  equity: [110, 99, 121, 121, 115, 132],
  marginRatio: [0, 0.65, 0.85, 0.5, 0.95, 0],
  marginRatioPeak: [0, 0.7, 0.95, 0.5, 1.0, 0.91],
  initialMargin: [0, 50, 50, 50, 30, 0],
  capitalAtRisk: [0, 60, 60, 60, 40, 0],
  grossNotional: [0, 500, 500, 500, 300, 0],
  events,
  rejections: { insufficientMargin: 2, modeLocked: 1 },
});

describe('money metrics are exact sums converted to a number once', () => {
  it('funding net is the exact difference (16.97208183 received − 32.42687825 paid = −15.45479642, not −15.454796420000001)', () => {
    const ev: AccountEvent[] = [
      fill(0, 1, 100, '0', '0', 1),
      { type: 'funding', time: T0 + 0.5 * DAY, symbol: 0, received: '16.97208183', rate: -0.001, price: 100 },
      { type: 'funding', time: T0 + 1.5 * DAY, symbol: 0, received: '-32.42687825', rate: 0.001, price: 100 },
    ];
    const m = computeMetrics({ output: output({ equity: [100, 100, 100], events: ev }), initialCapital: 100, timeframeMs: DAY, symbols: ['BTCUSDT'] });
    expect(m.fundingReceived).toBe(16.97208183);
    expect(m.fundingPaid).toBe(32.42687825);
    expect(m.fundingNet).toBe(-15.45479642);
  });

  it('net PnL and total return are taken on the decimals final equity and capital print as (16422.37087315 − 10000 = 6422.37087315, not 6422.370873150001)', () => {
    const cases: [number, number, number, number][] = [
      [16422.37087315, 10000, 6422.37087315, 64.2237087315],
      [5078.95834, 10000, -4921.04166, -49.2104166],
      [10000.00000001, 10000, 1e-8, 1e-10],
      [0.3, 0.1, 0.2, 200],
    ];
    for (const [fe, ic, pnl, ret] of cases) {
      expect(fe - ic === pnl && 100 * (fe / ic - 1) === ret).toBe(false); // the doubles' arithmetic has the noise
      const m = computeMetrics({ output: output({ equity: [ic, fe], events: [] }), initialCapital: ic, timeframeMs: DAY, symbols: ['BTCUSDT'] });
      expect(m.finalEquity).toBe(fe);
      expect(m.netPnl).toBe(pnl);
      expect(m.totalReturn).toBe(ret);
    }
  });
});

describe('computeMetrics takes the initial deposit as replay() does', () => {
  it('a decimal string ("10000", as ReplayParams.initialCapital) gives the metrics of the number; anything else is a RangeError naming the key', () => {
    const out = output({ equity: [10_000, 10_500, 9_800], events: [] });
    const base = { output: out, timeframeMs: DAY, symbols: ['BTCUSDT'] };
    expect(computeMetrics({ ...base, initialCapital: '10000' })).toEqual(computeMetrics({ ...base, initialCapital: 10_000 }));
    expect(computeMetrics({ ...base, initialCapital: ' 1e4 ' }).totalReturn).toBe(-2);
    for (const bad of ['', '10,000', '0x10', 'Infinity', Number.NaN]) {
      expect(() => computeMetrics({ ...base, initialCapital: bad })).toThrow(/^computeMetrics: initialCapital must be a finite number or a decimal string/);
    }
  });
});

describe('final equity and total return on the books unit', () => {
  it('the same wallet reached through float sums that differ in the last bits prints the same final equity and return', () => {
    const m = (fe: number) => computeMetrics({ output: output({ equity: [10_000, fe] }), initialCapital: 10_000, timeframeMs: DAY, symbols: ['BTCUSDT'] });
    const a = m(11562.67337086);
    const b = m(11562.673370859999);
    expect(b.finalEquity).toBe(11562.67337086);
    expect(b.totalReturn).toBe(a.totalReturn);
    expect(a.totalReturn).toBe(15.6267337086);
  });
});

describe('computeMetrics on a hand-worked series', () => {
  const m = computeMetrics({ output: handCase, initialCapital: 100, timeframeMs: DAY, symbols: ['BTCUSDT'] });
  // bar returns, written out by hand
  const r = [0.1, -0.1, 22 / 99, 0, -6 / 121, 17 / 115];
  const mean = r.reduce((a, b) => a + b, 0) / 6;
  const sd = Math.sqrt(r.reduce((a, b) => a + (b - mean) ** 2, 0) / 5);
  const down = Math.sqrt((0.01 + (6 / 121) ** 2) / 6);
  const years = 6 / 365;

  const table: [string, number | null][] = [
    ['totalReturn', 32],
    ['netPnl', 32],
    ['finalEquity', 132],
    ['cagr', null], // 6 days: too short to annualise (MIN_ANNUALISE_DAYS)
    ['maxDrawdown', 10],
    ['maxDrawdownDuration', 1],
    ['volatility', 100 * sd * Math.sqrt(365)],
    ['sharpe', (mean / sd) * Math.sqrt(365)],
    ['sortino', (mean / down) * Math.sqrt(365)],
    ['calmar', null],
    ['trades', 3],
    ['winRate', 100 / 3],
    ['profitFactor', 9.29 / (10.39 + 23.295)],
    ['exposureTime', 400 / 6],
    ['liquidations', 1],
    ['liquidationLoss', 5 + 20 - 1.5],
    ['liquidationPenalty', 5],
    ['insuranceShortfall', 1.5],
    ['fundingPaid', 0.5],
    ['fundingReceived', 0.3],
    ['fundingNet', -0.2],
    ['fees', 0.695],
    ['rejectedOrders', 3],
    ['marginRatioMax', 100],
    ['timeAbove60', 50],
    ['timeAbove80', 100 / 3],
    ['nearMisses', 1],
    ['marginUsedAvg', 30],
    ['marginUsedMax', 50],
    ['capitalAtRiskAvg', 220 / 6],
    ['capitalEfficiency', null],
    ['returnOnCapitalAtRisk', (100 * 32) / (220 / 6)],
    ['returnOnMargin', (100 * 32) / 30],
  ];
  it.each(table)('%s', (id, expected) => {
    const v = m[id];
    if (expected === null) expect(v).toBeNull();
    else {
      expect(v).not.toBeNull();
      expect(v!).toBeCloseTo(expected, 8 - Math.max(0, Math.ceil(Math.log10(Math.abs(expected) + 1))));
    }
  });

  it('annualises a return only over a window of at least MIN_ANNUALISE_DAYS', () => {
    expect(MIN_ANNUALISE_DAYS).toBe(365);
    // the same 6 bars, each 61 days long: 366 days ≥ 365
    const long = computeMetrics({ output: handCase, initialCapital: 100, timeframeMs: 61 * DAY, symbols: ['BTCUSDT'] });
    const y = 366 / 365;
    expect(long.cagr!).toBeCloseTo(100 * (1.32 ** (1 / y) - 1), 8);
    expect(long.calmar!).toBeCloseTo((1.32 ** (1 / y) - 1) / 0.1, 8);
    expect(long.capitalEfficiency!).toBeCloseTo((100 * 32) / y / (220 / 6), 8);
    // 6 × 60 = 360 days: short by 5 days, so no annual rate; the period figure stays
    const short = computeMetrics({ output: handCase, initialCapital: 100, timeframeMs: 60 * DAY, symbols: ['BTCUSDT'] });
    expect([short.cagr, short.calmar, short.capitalEfficiency]).toEqual([null, null, null]);
    expect(short.returnOnCapitalAtRisk!).toBeCloseTo((100 * 32) / (220 / 6), 8);
    expect(short.sharpe).not.toBeNull(); // √time scaling of per-bar statistics stays
  });

  it('covers every registry metric, in registry order', () => {
    expect(Object.keys(m)).toEqual(METRICS.map((d) => d.id));
    expect(new Set(table.map((t) => t[0]))).toEqual(new Set(METRICS.map((d) => d.id)));
  });

  it('every metric has a title with a unit and a direction', () => {
    for (const d of METRICS) {
      expect(d.title).toMatch(/\(.+\)$/);
      expect(['core', 'perp', 'margin']).toContain(d.tags[0]);
    }
  });
});

describe('round trips', () => {
  it('closes on flat, flips and liquidation, splitting the flip fee', () => {
    const t = reconstructTrades(events);
    expect(t.map((x) => x.side)).toEqual([1, 1, -1]);
    expect(t[0]!.pnl).toBeCloseTo(9.29, 12);
    expect(t[1]!.pnl).toBeCloseTo(-10.39, 12);
    expect(t[2]!.pnl).toBeCloseTo(-23.295, 12);
    expect(t.map((x) => x.liquidated)).toEqual([false, false, true]);
  });
  it('scales in and out within one trade and leaves an open trade out', () => {
    const t = reconstructTrades([
      fill(0, 1, 100, '0', '0', 1),
      fill(1, 1, 102, '0', '0', 2),
      fill(2, -1, 104, '0', '3', 1),
      fill(3, -1, 98, '0', '-3', 0),
      fill(4, -1, 98, '0', '0', -1),
    ]);
    expect(t).toHaveLength(1);
    expect(t[0]!.pnl).toBe(0);
  });
  it('splits a multi-symbol cross liquidation by notional', () => {
    const t = reconstructTrades(crossPairLiquidated({ penalty: '4', insuranceDraw: '0', realizedPnl: '-36' }));
    expect(t.map((x) => x.pnl)).toEqual([-10, -30]);
  });
});

describe('a gap past the bankruptcy price (insurance draw)', () => {
  /*
   * Isolated long 10 @ 100 with a 20 wallet (initial capital 20, no fees), the market gaps to open
   * at 90 and the position is closed there: realised 10 × (90 − 100) = −100, the wallet (20) is
   * gone, the insurance fund pays the other 80. The trader lost 20, not 100.
   */
  const gapEvents: AccountEvent[] = [
    fill(0, 10, 100, '0', '0', 10),
    { type: 'liquidation', time: T0 + 2 * DAY, poolId: 'isolated:0', symbols: [0], prices: [90], penalty: '0', insuranceDraw: '80', realizedPnl: '-100' },
  ];
  const m = computeMetrics({ output: output({ equity: [20, 20, 0], events: gapEvents }), initialCapital: 20, timeframeMs: DAY, symbols: ['BTCUSDT'] });

  it('liquidationLoss is what the wallet lost', () => {
    expect(m.netPnl).toBe(-20);
    expect(m.liquidationLoss).toBe(20);
    expect(m.insuranceShortfall).toBe(80);
    expect(m.liquidationPenalty).toBe(0);
  });
  it('the round trip loses the wallet, not the insurance draw', () => {
    const t = reconstructTrades(gapEvents);
    expect(t).toHaveLength(1);
    expect(t[0]!.pnl).toBe(-20);
    expect(t[0]!.liquidated).toBe(true);
    expect(m.trades).toBe(1);
    expect(m.profitFactor).toBe(0);
  });
  it('a cross liquidation splits the draw with the realised PnL by notional', () => {
    // legs 100 and 300 notional: (−120 − 0 + 40) split 1:3 → −20, −60
    const t = reconstructTrades(crossPairLiquidated({ penalty: '0', insuranceDraw: '40', realizedPnl: '-120' }));
    expect(t.map((x) => x.pnl)).toEqual([-20, -60]);
  });
});

describe('undefined metrics are null, never 0 or NaN', () => {
  it('flat curve', () => {
    const m = computeMetrics({ output: output({ equity: [100, 100, 100] }), initialCapital: 100, timeframeMs: DAY, symbols: ['X'] });
    expect(m.totalReturn).toBe(0);
    expect(m.sharpe).toBeNull();
    expect(m.sortino).toBeNull();
    expect(m.calmar).toBeNull();
    expect(m.winRate).toBeNull();
    expect(m.profitFactor).toBeNull();
    expect(m.capitalEfficiency).toBeNull();
    expect(m.returnOnMargin).toBeNull();
    expect(m.maxDrawdown).toBe(0);
    expect(m.trades).toBe(0);
  });
  it('no bars', () => {
    const m = computeMetrics({ output: output({ equity: [] }), initialCapital: 100, timeframeMs: DAY, symbols: ['X'] });
    for (const id of ['totalReturn', 'cagr', 'maxDrawdown', 'volatility', 'sharpe', 'marginRatioMax', 'exposureTime']) expect(m[id]).toBeNull();
  });
  it('a wiped-out account has CAGR −100% and drawdown 100%', () => {
    const m = computeMetrics({ output: output({ equity: [50, 0] }), initialCapital: 100, timeframeMs: 200 * DAY, symbols: ['X'] });
    expect(m.cagr).toBe(-100);
    expect(m.maxDrawdown).toBe(100);
    expect(m.maxDrawdownDuration).toBe(400);
  });
  it('rejects a non-positive timeframe', () => {
    expect(() => computeMetrics({ output: output({ equity: [1] }), initialCapital: 1, timeframeMs: 0, symbols: [] })).toThrow(/timeframeMs/);
  });
});

describe('near misses', () => {
  it('counts episodes, not bars, and drops episodes with a liquidation', () => {
    const time = [0, 1, 2, 3, 4, 5, 6].map((i) => i * 10);
    const peak = [0.95, 0.97, 0.5, 0.92, 0.3, 0.99, 0.99];
    expect(countNearMisses(time, peak, [], 10)).toBe(3);
    expect(countNearMisses(time, peak, [35], 10)).toBe(2); // inside bar 3
    expect(countNearMisses(time, peak, [45], 10)).toBe(3); // bar 4 is not in an episode
    expect(countNearMisses(time, peak, [69], 10)).toBe(2); // last bar of the final episode
  });
});

describe('curves', () => {
  it('keeps every point of a short series and computes drawdown from the initial capital', () => {
    const c = buildCurves(handCase.series, 2000, 100);
    expect(c.time).toHaveLength(6);
    expect(c.equity).toEqual([110, 99, 121, 121, 115, 132]);
    expect(c.drawdown[1]).toBeCloseTo(10, 9);
    expect(c.marginRatio).toEqual([0, 70, 95, 50, 100, 91]);
    const d2 = drawdownSeries([90, 100], 100);
    expect(d2[0]).toBeCloseTo(10, 12);
    expect(d2[1]).toBe(0);
  });

  it('downsamples a million bars to ≤ maxPoints preserving extremes and endpoints', () => {
    const n = 1_000_000;
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296);
    const eq = new Float64Array(n);
    const mr = new Float64Array(n);
    let e = 1000;
    for (let i = 0; i < n; i++) {
      e *= 1 + (rand() - 0.5) * 0.01;
      eq[i] = e;
      mr[i] = rand() * 0.5;
    }
    mr[777_777] = 0.99;
    const z = new Float64Array(n);
    const series = { time: Float64Array.from({ length: n }, (_, i) => i * 60_000), equity: eq, marginBalance: eq, maintenanceMargin: z, marginRatio: mr, marginRatioPeak: mr, initialMargin: z, capitalAtRisk: z, grossNotional: z };
    const t0 = performance.now();
    const c = buildCurves(series, 2000, 1000);
    const ms = performance.now() - t0;
    expect(c.time.length).toBeLessThanOrEqual(2000);
    expect(c.time.length).toBeGreaterThan(1000);
    for (let i = 1; i < c.time.length; i++) expect(c.time[i]!).toBeGreaterThan(c.time[i - 1]!);
    let maxE = -Infinity;
    let minE = Infinity;
    for (const x of eq) {
      if (x > maxE) maxE = x;
      if (x < minE) minE = x;
    }
    expect(Math.max(...c.equity)).toBeCloseTo(maxE, 5);
    expect(Math.min(...c.equity)).toBeCloseTo(minE, 5);
    expect(Math.max(...c.marginRatio)).toBeCloseTo(99, 6);
    const dd = drawdownSeries(eq, 1000);
    let maxDd = 0;
    for (const x of dd) if (x > maxDd) maxDd = x;
    expect(Math.max(...c.drawdown)).toBeCloseTo(maxDd, 3);
    expect(c.time[0]).toBe(0);
    expect(c.time[c.time.length - 1]).toBe((n - 1) * 60_000);
    console.log(`buildCurves: 1,000,000 bars → ${c.time.length} points in ${ms.toFixed(0)} ms`);
  });

  it('buildCurves gives the same curves whatever it built before (its drawdown column is reused from call to call)', () => {
    const series = (n: number, seed: number) => {
      const eq = new Float64Array(n);
      let x = 1000;
      for (let i = 0; i < n; i++) eq[i] = x *= 1 + Math.sin(i * seed) * 0.01;
      const z = new Float64Array(n);
      const t = Float64Array.from({ length: n }, (_, i) => i * 60_000);
      return { time: t, equity: eq, marginBalance: z, maintenanceMargin: z, marginRatio: z, marginRatioPeak: Float64Array.from(eq, (e) => 1000 / e / 10), initialMargin: z, capitalAtRisk: z, grossNotional: z };
    };
    const short = series(3000, 7);
    const first = buildCurves(short, 200, 1000);
    // the drawdowns of a long run that fell far (large values left in the reused column), then the short run again
    const long = series(20_000, 3);
    long.equity.fill(1, 10_000);
    buildCurves(long, 200, 1000);
    expect(buildCurves(short, 200, 1000)).toEqual(first);
    // drawdownSeries into a column too short for the run: a new array
    const into = new Float64Array(2);
    const dd = drawdownSeries([100, 50, 75], 100, into);
    expect(Array.from(dd)).toEqual([0, 50, 25]);
    expect(dd.buffer).not.toBe(into.buffer);
    expect(Array.from(drawdownSeries([100, 50], 100, into))).toEqual([0, 50]);
  });

  it('downsampleIndices returns sorted unique indices within budget', () => {
    const a = Array.from({ length: 1000 }, (_, i) => Math.sin(i));
    const idx = downsampleIndices(1000, 50, { min: [a], max: [a] });
    expect(idx.length).toBeLessThanOrEqual(50);
    expect([...new Set(idx)].sort((x, y) => x - y)).toEqual(idx);
  });

  it('downsampleIndices: NaN never wins an extreme, a bucket of NaN keeps its first bar, ties keep the earliest', () => {
    // 10 bars, 4 points: one bucket per series pair... budget (4 − 2) / 2 = 1 bucket over all bars
    const s = [Number.NaN, 5, 3, Number.NaN, 3, 9, 9, Number.NaN, 1, Number.NaN];
    expect(downsampleIndices(10, 4, { min: [s], max: [s] })).toEqual([0, 5, 8, 9]);
    // two buckets of 5 (budget 6): [NaN, 5, 3, NaN, 3] → min 2, max 1; [9, 9, NaN, 1, NaN] → min 8, max 5
    expect(downsampleIndices(10, 6, { min: [s], max: [s] })).toEqual([0, 1, 2, 5, 8, 9]);
    const allNaN = new Float64Array(10).fill(Number.NaN);
    expect(downsampleIndices(10, 6, { min: [allNaN], max: [allNaN] })).toEqual([0, 5, 9]);
  });
});

describe('the per-bar aggregates (one fused pass) equal each metric computed on its own', () => {
  // the definitions, one pass per metric over the series (as before the passes were fused)
  const meanOf = (a: ArrayLike<number>) => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]!;
    return a.length ? s / a.length : NaN;
  };
  const maxOf = (a: ArrayLike<number>) => {
    let m = -Infinity;
    for (let i = 0; i < a.length; i++) if (a[i]! > m) m = a[i]!;
    return m;
  };
  const pctOf = (a: ArrayLike<number>, ok: (x: number) => boolean) => {
    let c = 0;
    for (let i = 0; i < a.length; i++) if (ok(a[i]!)) c++;
    return a.length ? (100 * c) / a.length : null;
  };
  const val = fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 2, noNaN: true }) }, { weight: 1, arbitrary: fc.constant(Number.NaN) });
  it('property: volatility, Sharpe, Sortino, exposure, margin ratio and margin figures, bit for bit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 40 }).chain((n) => fc.tuple(...Array.from({ length: 6 }, () => fc.array(val, { minLength: n, maxLength: n })))), ([eq, mr, pk, im, car, gross]) => {
        const equity = eq.map((x) => 50 + 100 * x);
        const out = output({ equity, marginRatio: mr, marginRatioPeak: pk, initialMargin: im, capitalAtRisk: car, grossNotional: gross });
        const m = computeMetrics({ output: out, initialCapital: 100, timeframeMs: DAY, symbols: ['BTCUSDT'] });
        const n = equity.length;
        const r = equity.map((e, i) => (i === 0 ? e / 100 - 1 : equity[i - 1] !== 0 ? e / equity[i - 1]! - 1 : 0));
        const mean = meanOf(r);
        let sq = 0;
        for (const x of r) sq += (x - mean) ** 2;
        const sd = n < 2 ? NaN : Math.sqrt(sq / (n - 1));
        let down = 0;
        for (const x of r) down += Math.min(x, 0) ** 2;
        const dd = Math.sqrt(down / n);
        const bpy = 365;
        const fin = (x: number) => (Number.isFinite(x) ? x : null);
        expect(m.volatility).toBe(fin(100 * sd * Math.sqrt(bpy)));
        expect(m.sharpe).toBe(sd > 0 ? fin((mean / sd) * Math.sqrt(bpy)) : null);
        expect(m.sortino).toBe(n >= 2 && dd > 0 ? fin((mean / dd) * Math.sqrt(bpy)) : null);
        expect(m.exposureTime).toBe(pctOf(gross, (x) => x > 0));
        expect(m.timeAbove60).toBe(pctOf(mr, (x) => x >= 0.6));
        expect(m.timeAbove80).toBe(pctOf(mr, (x) => x >= 0.8));
        expect(m.marginRatioMax).toBe(n ? fin(100 * maxOf(pk)) : null);
        expect(m.marginUsedMax).toBe(n ? fin(maxOf(im)) : null);
        expect(m.marginUsedAvg).toBe(n ? fin(meanOf(im)) : null);
        expect(m.capitalAtRiskAvg).toBe(n ? fin(meanOf(car)) : null);
      }),
      { numRuns: 300, seed: 5 },
    );
  });
});
