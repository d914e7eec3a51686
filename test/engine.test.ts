/**
 * Engine behaviour: orders (limit/stop/take-profit/reduce-only/close-position, fees, slippage,
 * participation), rejections with reason codes, look-ahead protection, determinism, errors.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { getVenue } from '../src/venue/index.js';
import { replay, DEFAULT_EXECUTION, SETUPS } from '../src/engine/index.js';
import type { StrategyModule } from '../src/strategy/types.js';
import smaCross from '../strategies/sma-cross.js';
import { flat, HOUR, makeData, run, scripted, setupOf, T0, type Bar } from './engine-fixtures.js';

type FillEv = { type: 'fill'; qty: number; price: number; fee: string; time: number };
const fills = (out: ReturnType<typeof run>, id: string) =>
  setupOf(out, id).events.filter((e) => e.type === 'fill') as unknown as FillEv[];
const ISO = [{ id: 'isolated' as const, defaultMode: 'isolated' as const }];

describe('orders', () => {
  it('market orders fill at the next open with slippage and the taker fee; limits rest and fill at their price as maker', () => {
    const bars: Bar[] = [...flat(100, 1), [101, 102, 95, 96], [96, 99, 90, 98], ...flat(98, 1)];
    const venue = getVenue('binance-usdm', { fees: { maker: 0.0002, taker: 0.0005 } });
    const log: string[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars } }),
      scripted(
        {
          0: (c) => {
            c.buy(0, 1); // → 101 × (1 + 10 bps)
            c.buy(0, 2, { type: 'limit', price: 92 }); // not reached in bar 1 (low 95); reached in bar 2
          },
        },
        ['BTCUSDT'],
        log,
      ),
      { setups: ISO, venue, execution: { slippageBps: 10 } },
    );
    const f = fills(out, 'isolated');
    expect(f).toHaveLength(2);
    expect(f[0]!.price).toBeCloseTo(101 * 1.001, 12);
    expect(Number(f[0]!.fee)).toBeCloseTo(101 * 1.001 * 0.0005, 12);
    expect(f[0]!.time).toBe(T0 + HOUR);
    expect(f[1]!.price).toBe(92);
    expect(Number(f[1]!.fee)).toBeCloseTo(2 * 92 * 0.0002, 12);
    // bar 2: open 96 → low 90 first (6 < 3? no: high 99 is nearer) → path 96→99→90: 92 on segment 2
    expect(f[1]!.time).toBe(T0 + 2 * HOUR + Math.floor(((1 + (99 - 92) / 9) / 3) * HOUR));
    expect(log).toEqual([`isolated:fill:0:1@101.101:taker`, 'isolated:fill:0:2@92:maker']);
  });

  it('a marketable limit fills at the open as taker; a resting limit gapped through fills at its own price', () => {
    const bars: Bar[] = [...flat(100, 1), [97, 98, 96, 97], ...flat(97, 1)];
    const a = run(makeData({ BTCUSDT: { bars } }), scripted({ 0: (c) => c.buy(0, 1, { type: 'limit', price: 100 }) }, ['BTCUSDT']), { setups: ISO });
    expect(fills(a, 'isolated').map((f) => f.price)).toEqual([97]);
    const b = run(makeData({ BTCUSDT: { bars } }), scripted({ 0: (c) => c.buy(0, 1, { type: 'limit', price: 99 }) }, ['BTCUSDT']), { setups: ISO });
    expect(fills(b, 'isolated').map((f) => f.price)).toEqual([99]);
  });

  it('take-profit and close-position: the TP closes the position and the protective stop is cancelled with it', () => {
    const bars: Bar[] = [...flat(100, 2), [100, 112, 99, 111], [111, 111, 80, 85], ...flat(85, 1)];
    const out = run(
      makeData({ BTCUSDT: { bars } }),
      scripted(
        {
          0: (c) => c.buy(0, 1),
          1: (c) => {
            c.closePosition(0, { type: 'takeProfit', price: 110 });
            c.closePosition(0, { type: 'stop', price: 90 });
          },
        },
        ['BTCUSDT'],
      ),
      { setups: ISO },
    );
    const f = fills(out, 'isolated');
    expect(f.map((x) => [x.qty, x.price])).toEqual([
      [1, 100],
      [-1, 110],
    ]);
    expect(setupOf(out, 'isolated').events.filter((e) => e.type === 'rejection')).toHaveLength(0);
  });

  it('stops gap: a sell stop below a gap-down open fills at the open (with slippage)', () => {
    const bars: Bar[] = [...flat(100, 2), [95, 96, 94, 95], ...flat(95, 1)];
    const out = run(
      makeData({ BTCUSDT: { bars } }),
      scripted({ 0: (c) => c.buy(0, 1), 1: (c) => c.sell(0, 1, { type: 'stop', price: 98, reduceOnly: true }) }, ['BTCUSDT']),
      { setups: ISO, execution: { slippageBps: 5 } },
    );
    expect(fills(out, 'isolated')[1]!.price).toBeCloseTo(95 * (1 - 0.0005), 12);
  });

  it('rejections carry reason codes and are counted', () => {
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 4) } }),
      scripted(
        {
          0: (c) => {
            c.sell(0, 1, { reduceOnly: true }); // nothing to reduce
            c.buy(0, 0); // invalid quantity
            c.buy(0, 1, { type: 'limit' }); // no price
            c.buy(0, 1000); // 100 000 notional at 10× needs 10 000 + fee > deposit
            c.closePosition(0); // flat
          },
          1: (c) => {
            c.transferMargin(0, 10); // no isolated position
            c.setLeverage(0, 500); // above the venue's maximum
            c.buy(7, 1); // no such symbol
          },
        },
        ['BTCUSDT'],
      ),
      { setups: ISO, venue: getVenue('binance-usdm') },
    );
    const so = setupOf(out, 'isolated');
    expect(so.rejections).toEqual({
      reduceOnlyViolation: 1,
      invalidQuantity: 1,
      invalidPrice: 1,
      insufficientMargin: 1,
      noPosition: 2,
      exceedsMaxLeverage: 1,
      symbolUnavailable: 1,
    });
    // the counts are the ledger's rejection entries, reason by reason
    const fromLedger: Record<string, number> = {};
    for (const e of so.events) if (e.type === 'rejection') fromLedger[e.reason] = (fromLedger[e.reason] ?? 0) + 1;
    expect(so.rejections).toEqual(fromLedger);
  });

  it('volume participation fills at most maxFraction × bar volume and carries the rest to the next open', () => {
    const bars: Bar[] = [...flat(100, 1), [100, 100, 100, 100], [101, 101, 101, 101], ...flat(101, 2)];
    const out = run(makeData({ BTCUSDT: { bars, volume: 10 } }), scripted({ 0: (c) => c.buy(0, 2.5) }, ['BTCUSDT']), {
      setups: ISO,
      execution: { participation: { maxFraction: 0.1 } },
    });
    expect(fills(out, 'isolated').map((f) => [f.qty, f.price])).toEqual([
      [1, 100],
      [1, 101],
      [0.5, 101],
    ]);
  });

  it('per-order mode and per-symbol leverage: a mixed account holds a cross and an isolated position', () => {
    const data = makeData({ BTCUSDT: { bars: flat(10000, 3) }, ETHUSDT: { bars: flat(1000, 3) } });
    const out = run(
      data,
      scripted(
        {
          0: (c) => {
            expect(c.setLeverage(1, 20)).toBe(true);
            c.buy(0, 0.1, { mode: 'cross' });
            c.buy(1, 1, { mode: 'isolated' });
          },
          1: (c) => {
            expect(c.position(0).mode).toBe('cross');
            expect(c.position(1).mode).toBe('isolated');
            expect(c.leverage(1)).toBe(20);
            expect(c.transferMargin(1, 5)).toBe(true);
          },
        },
        ['BTCUSDT', 'ETHUSDT'],
      ),
      { setups: [SETUPS.mixed] },
    );
    const m = setupOf(out, 'mixed');
    expect(m.error).toBeUndefined();
    expect(m.events.filter((e) => e.type === 'transfer')).toHaveLength(1);
    // capital at risk: isolated wallet (1000/20 + 5) + cross pool equity (wallet − isolated)
    expect(m.series.initialMargin[2]).toBeCloseTo(1000 / 10 + 1000 / 20, 9);
  });
});

describe('look-ahead protection', () => {
  it('history ends at the current bar: reading a later bar is an error that ends the setup', () => {
    const seen: number[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars: [...flat(1, 1), ...flat(2, 1), ...flat(3, 1), ...flat(4, 1), ...flat(5, 1)] } }),
      scripted(
        {
          0: (c) => seen.push(c.data[0]!.close.length, c.close(0), c.data[0]!.close.ago(1)),
          1: (c) => seen.push(c.data[0]!.close.at(1), c.data[0]!.close.length),
          2: (c) => seen.push(c.data[0]!.close.at(3)),
        },
        ['BTCUSDT'],
      ),
    );
    // both setups run each bar: isolated first, then cross
    expect(seen.slice(0, 10)).toEqual([1, 1, NaN, 1, 1, NaN, 2, 2, 2, 2]);
    for (const s of out.setups) {
      expect(s.error).toMatch(/LookAheadError: look-ahead: BTCUSDT\.close\.at\(3\)/);
      expect(s.series.equity.length).toBe(3); // ends at the failing bar
    }
    const neg = run(makeData({ BTCUSDT: { bars: flat(1, 3) } }), scripted({ 1: (c) => c.data[0]!.high.ago(-1) }, ['BTCUSDT']));
    expect(setupOf(neg, 'cross').error).toMatch(/look-ahead/);
  });

  // An index that converts differently each time it is read: the views checked it with one value
  // and read with another, so bar 2 saw bar 7's close and the funding event of bar 6.
  it('an index object whose valueOf / toString changes between reads cannot pass the check with one value and read another', () => {
    const bars = Array.from({ length: 10 }, (_, i) => [100 + i, 100 + i, 100 + i, 100 + i] as Bar);
    const data = makeData({ BTCUSDT: { bars, funding: bars.map((_, i) => ({ bar: i, rate: i / 1000, price: 1 })) } });
    const flip = (a: number, b: number) => {
      let n = 0;
      return { valueOf: () => (n++ === 0 ? a : b) } as unknown as number;
    };
    const split = { valueOf: () => 0, toString: () => '7' } as unknown as number;
    const seen: number[] = [];
    run(
      data,
      scripted(
        {
          2: (c) => {
            const v = c.data[0]!;
            seen.push(v.close.ago(flip(0, -5)), v.close.at(split), v.present.ago(flip(0, -5)), v.present.at(split), v.funding.rate(flip(0, -4)), v.funding.time(flip(0, -4)), v.funding.price(flip(0, -4)));
          },
        },
        ['BTCUSDT'],
      ),
      { setups: ISO },
    );
    // the current bar (close 102), index 0 (close 100), presence 1, the latest settled event (bar 2)
    expect(seen).toEqual([102, 100, 1, 1, 0.002, T0 + 2 * HOUR, 1]);
  });

  it('callbacks inside a bar see history only up to the previous bar', () => {
    const seen: number[] = [];
    const mod: StrategyModule = {
      name: 'peek',
      description: '',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => ({
        onBar(ctx) {
          if (ctx.bar === 0) ctx.buy(0, 1);
        },
        onFill(_f, ctx) {
          seen.push(ctx.data[0]!.close.length, ctx.close(0), ctx.position(0).unrealizedPnl);
          expect(() => ctx.data[0]!.close.at(1)).toThrow(/look-ahead/);
        },
      }),
    };
    run(makeData({ BTCUSDT: { bars: [...flat(100, 1), [100, 120, 100, 120], ...flat(120, 1)] } }), mod, { setups: ISO });
    expect(seen).toEqual([1, 100, 0]);
  });
});

describe('determinism and isolation of setups', () => {
  function noisy(n: number, seed: number): Bar[] {
    let s = seed;
    let p = 100;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648);
    const out: Bar[] = [];
    for (let i = 0; i < n; i++) {
      const o = p;
      p = Math.max(1, p * (1 + (rnd() - 0.5) * 0.04));
      out.push([o, Math.max(o, p) * (1 + rnd() * 0.01), Math.min(o, p) * (1 - rnd() * 0.01), p]);
    }
    return out;
  }
  it('same inputs give bit-identical outputs', () => {
    const data = makeData({ BTCUSDT: { bars: noisy(3000, 42), funding: [{ bar: 100, rate: 0.0003, price: 100 }, { bar: 900, rate: -0.0002, price: 100 }] } });
    const go = () =>
      replay({
        data,
        symbols: ['BTCUSDT'],
        strategy: smaCross,
        params: smaCross.params.parse({ fast: 5, slow: 20 }),
        venue: getVenue('binance-usdm'),
        setups: [SETUPS.isolated, SETUPS.cross],
        initialCapital: '10000',
        leverage: 20,
        execution: { ...DEFAULT_EXECUTION, slippageBps: 3 },
      });
    const a = go();
    const b = go();
    expect(a.setups[0]!.events.length).toBeGreaterThan(20);
    for (let k = 0; k < a.setups.length; k++) {
      expect(JSON.stringify(b.setups[k]!.events)).toBe(JSON.stringify(a.setups[k]!.events));
      expect(b.setups[k]!.books).toEqual(a.setups[k]!.books);
      for (const key of Object.keys(a.setups[k]!.series) as (keyof typeof a.setups[0]['series'])[]) {
        expect(Buffer.from(b.setups[k]!.series[key].buffer).equals(Buffer.from(a.setups[k]!.series[key].buffer))).toBe(true);
      }
    }
    // a setup run alone gives the same result as in a multi-setup pass
    const alone = replay({
      data,
      symbols: ['BTCUSDT'],
      strategy: smaCross,
      params: smaCross.params.parse({ fast: 5, slow: 20 }),
      venue: getVenue('binance-usdm'),
      setups: [SETUPS.cross],
      initialCapital: '10000',
      leverage: 20,
      execution: { ...DEFAULT_EXECUTION, slippageBps: 3 },
    });
    expect(alone.setups[0]!.books).toEqual(a.setups[1]!.books);
  });

  it('a strategy that throws under one setup does not stop the others', () => {
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 5) } }),
      scripted(
        {
          2: (c) => {
            if (c.setup === 'isolated') throw new Error('boom');
          },
        },
        ['BTCUSDT'],
      ),
    );
    expect(setupOf(out, 'isolated').error).toBe('Error: boom');
    expect(setupOf(out, 'isolated').series.equity.length).toBe(3);
    expect(setupOf(out, 'cross').error).toBeUndefined();
    expect(setupOf(out, 'cross').series.equity.length).toBe(5);
  });

  it('replays a bar range and reports progress', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 10) } });
    const out = replay({
      data,
      symbols: ['BTCUSDT'],
      strategy: scripted({}, ['BTCUSDT']),
      params: {},
      venue: getVenue('binance-usdm'),
      setups: [SETUPS.cross],
      initialCapital: '500',
      leverage: 5,
      execution: DEFAULT_EXECUTION,
      fromIndex: 3,
      toIndex: 8,
      onProgress: (n) => expect(n).toBe(5),
    });
    expect(out.bars).toBe(5);
    expect([...out.setups[0]!.series.time]).toEqual([3, 4, 5, 6, 7].map((i) => T0 + i * HOUR));
    expect([...out.setups[0]!.series.equity]).toEqual([500, 500, 500, 500, 500]);
  });
});

describe('series rows across blocks', () => {
  it('every bar of a long run is recorded, also when a setup fails mid-block', () => {
    const n = 5000;
    const bars: Bar[] = Array.from({ length: n }, (_, i) => {
      const p = 100 + Math.sin(i / 50) * 5;
      return [p, p + 1, p - 1, p] as Bar;
    });
    const strategy = scripted(
      {
        0: (c) => c.buy(0, 1),
        3001: (c) => {
          if (c.setup === 'cross') throw new Error('late failure');
        },
      },
      ['BTCUSDT'],
    );
    const out = run(makeData({ BTCUSDT: { bars } }), strategy);
    const iso = setupOf(out, 'isolated');
    const cross = setupOf(out, 'cross');
    expect(iso.series.equity.length).toBe(n);
    expect(cross.series.equity.length).toBe(3002);
    expect(cross.error).toMatch(/late failure/);
    for (const s of [iso, cross]) {
      const se = s.series;
      for (let k = 2; k < se.equity.length; k++) {
        const close = bars[k]![3];
        // one unit long from bar 1's open: equity moves with the close exactly
        expect(se.equity[k]! - se.equity[k - 1]!).toBeCloseTo(close - bars[k - 1]![3], 9);
        expect(se.grossNotional[k]).toBeCloseTo(close, 9);
        expect(se.initialMargin[k]).toBeCloseTo(close / 10, 9);
      }
    }
  });

  it('a full block is copied without making a view: the views a replay makes do not grow with its bars', () => {
    const bars: Bar[] = Array.from({ length: 20_000 }, (_, i) => {
      const p = 100 + Math.sin(i / 50) * 5;
      return [p, p + 1, p - 1, p] as Bar;
    });
    const strategy = scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']);
    const proto = Float64Array.prototype;
    const subarray = proto.subarray;
    const viewsOf = (n: number) => {
      const data = makeData({ BTCUSDT: { bars: bars.slice(0, n) } });
      let views = 0;
      proto.subarray = function (this: Float64Array, begin?: number, end?: number) {
        views++;
        return subarray.call(this, begin, end);
      };
      let out: ReturnType<typeof run>;
      try {
        out = run(data, strategy);
      } finally {
        proto.subarray = subarray;
      }
      return { views, out };
    };
    // 1 full block and a partial one, against 9 full blocks and a partial one
    const short = viewsOf(3_000);
    const long = viewsOf(20_000);
    expect(long.views).toBe(short.views);
    const iso = setupOf(long.out, 'isolated');
    expect(iso.series.equity.length).toBe(20_000);
    for (const k of [1, 2047, 2048, 2049, 18_431, 18_432, 19_999]) expect(iso.series.grossNotional[k]).toBeCloseTo(bars[k]![3], 9);
  });
});
