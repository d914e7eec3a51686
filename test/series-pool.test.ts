/**
 * SeriesPool (src/engine/market.ts): a replay with pooled series gives the same series as one with
 * fresh arrays, whatever the pooled buffers held before; released buffers are reused.
 */
import { describe, expect, it } from 'vitest';
import { replay, SETUPS, SeriesPool } from '../src/engine/index.js';
import smaCross from '../strategies/sma-cross.js';
import { getVenue } from '../src/venue/index.js';
import { makeData, type Bar } from './engine-fixtures.js';

function bars(n: number, seed: number): Bar[] {
  let p = 100;
  let x = seed;
  const out: Bar[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    const o = p;
    p = Math.max(1, p * (1 + ((x / 2 ** 31) - 0.5) * 0.04));
    out.push([o, Math.max(o, p) * 1.01, Math.min(o, p) * 0.99, p]);
  }
  return out;
}

describe('SeriesPool', () => {
  it('pooled series equal fresh ones, run after run, with garbage left in the buffers', () => {
    const pool = new SeriesPool();
    const venue = getVenue('binance-usdm');
    for (const [n, seed] of [[400, 1], [250, 2], [400, 3], [600, 4]] as const) {
      const data = makeData({ BTCUSDT: { bars: bars(n, seed) } });
      const params = { data, symbols: ['BTCUSDT'], strategy: smaCross, params: smaCross.params.parse({ symbol: 'BTCUSDT', fast: 5, slow: 20 }), venue, setups: [SETUPS.isolated, SETUPS.cross], initialCapital: '10000', leverage: 20 };
      const fresh = replay(params);
      const pooled = replay({ ...params, seriesPool: pool });
      for (let k = 0; k < fresh.setups.length; k++) {
        const a = fresh.setups[k]!.series;
        const b = pooled.setups[k]!.series;
        for (const key of Object.keys(a) as (keyof typeof a)[]) expect(Array.from(b[key]), `${n} ${key}`).toEqual(Array.from(a[key]));
        // the run traded: the comparison is not between empty or flat series
        expect(fresh.setups[k]!.events.filter((e) => e.type === 'fill').length).toBeGreaterThan(3);
        expect(a.grossNotional.some((x) => x > 0)).toBe(true);
      }
      // scribble over what is given back: the next run must not see it
      for (const s of pooled.setups) {
        const buffers = [s.series.time, s.series.equity, s.series.marginRatio];
        pool.release(s.series);
        for (const c of buffers) new Float64Array(c.buffer).fill(12345);
      }
    }
  });
  it('the row buffers a finished replay gives back are reused without two setups sharing one (long and short runs, a setup stopped by its strategy)', () => {
    const venue = getVenue('binance-usdm');
    const long = makeData({ BTCUSDT: { bars: bars(5000, 7) } });
    const short = makeData({ BTCUSDT: { bars: bars(300, 8) } });
    const sma = smaCross.params.parse({ symbol: 'BTCUSDT', fast: 5, slow: 20 });
    const run = (data: typeof long, setups = [SETUPS.isolated, SETUPS.cross, SETUPS.mixed], strategy = smaCross) =>
      replay({ data, symbols: ['BTCUSDT'], strategy, params: sma, venue, setups, initialCapital: '10000', leverage: 20 });
    const series = (o: ReturnType<typeof run>) => o.setups.map((so) => Object.values(so.series).map((c) => Array.from(c as Float64Array)));
    const first = series(run(long));
    // each setup alone (other buffers, other neighbours) gives the same series
    for (const [k, setup] of [SETUPS.isolated, SETUPS.cross, SETUPS.mixed].entries()) expect(series(run(long, [setup]))[0]).toEqual(first[k]);
    const failing = { ...smaCross, create: (p: typeof sma) => { const inner = smaCross.create(p); let n = 0; return { ...inner, onBar: (ctx: Parameters<typeof inner.onBar>[0]) => { if (++n === 2500 && ctx.setup === 'cross') throw new Error('stop'); inner.onBar(ctx); } }; } };
    const stopped = run(long, undefined, failing as typeof smaCross);
    expect(stopped.setups[1]!.error).toMatch(/stop/);
    expect(stopped.setups[1]!.series.equity.length).toBe(2500); // the series keep the bar whose onBar threw
    expect(series(stopped)[0]).toEqual(first[0]);
    expect(series(stopped)[1]).toEqual(first[1]!.map((c) => c.slice(0, 2500)));
    run(short);
    run(short, [SETUPS.cross]);
    expect(series(run(long))).toEqual(first);
  });
  it("a pooled replay's time column is a pooled copy of the replayed bars' times, shared by its setups and given back once", () => {
    const pool = new SeriesPool();
    const venue = getVenue('binance-usdm');
    const data = makeData({ BTCUSDT: { bars: bars(300, 5) } });
    const params = { data, symbols: ['BTCUSDT'], strategy: smaCross, params: smaCross.params.parse({ symbol: 'BTCUSDT', fast: 5, slow: 20 }), venue, setups: [SETUPS.isolated, SETUPS.cross], initialCapital: '10000', leverage: 20, fromIndex: 40, toIndex: 260 };
    const first = replay({ ...params, seriesPool: pool });
    const t = first.setups[0]!.series.time;
    expect(first.setups[1]!.series.time).toBe(t);
    expect(Array.from(t)).toEqual(Array.from(data.time.subarray(40, 260)));
    expect(t.buffer).not.toBe(data.time.buffer); // a copy: the caller may scribble on it
    const buffer = t.buffer;
    for (const s of first.setups) pool.release(s.series);
    const second = replay({ ...params, seriesPool: pool });
    const reused = [second.setups[0]!.series, second.setups[1]!.series].flatMap((s) => Object.values(s) as Float64Array[]).filter((c) => c.buffer === buffer);
    expect(reused.length).toBeGreaterThan(0);
    expect(Array.from(second.setups[0]!.series.time)).toEqual(Array.from(data.time.subarray(40, 260)));
  });
  it('take reuses a released buffer with room, as a view of the asked length', () => {
    const pool = new SeriesPool();
    const a = pool.take(100);
    const cols = { time: new Float64Array(0), equity: a, marginBalance: pool.take(100), maintenanceMargin: pool.take(100), marginRatio: pool.take(100), marginRatioPeak: pool.take(100), initialMargin: pool.take(100), capitalAtRisk: pool.take(100), grossNotional: pool.take(100) };
    pool.release(cols);
    pool.release(cols); // twice: no buffer is handed out twice
    const b = pool.take(60);
    expect(b.length).toBe(60);
    const seen = new Set([b.buffer]);
    for (let k = 0; k < 7; k++) seen.add(pool.take(100).buffer);
    expect(seen.size).toBe(8);
    expect(pool.take(100).buffer).not.toBe(b.buffer);
  });
});
