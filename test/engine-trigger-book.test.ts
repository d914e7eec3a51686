/**
 * The resting orders' trigger index (src/engine/orders.ts TriggerBook) without a replay, and the
 * engine's cost of orders that rest without ever filling.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { SETUPS } from '../src/engine/index.js';
import { z } from 'zod';
import { TriggerBook, triggersUp, type PendingOrder } from '../src/engine/orders.js';
import type { OrderType, StrategyModule } from '../src/strategy/types.js';
import { flat, makeData, run, setupOf, type Bar } from './engine-fixtures.js';

const order = (id: number, symbol: number, qty: number, type: OrderType, price: number): PendingOrder => ({
  id,
  symbol,
  qty,
  type,
  price,
  reduceOnly: false,
  closePosition: false,
  mode: undefined,
  tag: undefined,
  activeFrom: 0,
  marketable: false,
  dead: false,
});

/** what reachable() must find: every live resting order of s whose level the range [lo, hi] reaches */
const brute = (all: PendingOrder[], s: number, lo: number, hi: number): number[] =>
  all
    .filter((o) => !o.dead && o.symbol === s && o.type !== 'market' && (triggersUp(o) ? o.price <= hi : o.price >= lo))
    .map((o) => o.id)
    .sort((a, b) => a - b);

describe('TriggerBook', () => {
  it('finds the orders a range reaches, by direction: rising triggers at or below its high, falling at or above its low', () => {
    const b = new TriggerBook(2);
    const all = [
      order(1, 0, -1, 'limit', 105), // sell limit: rising
      order(2, 0, 1, 'limit', 95), // buy limit: falling
      order(3, 0, 1, 'stop', 104), // buy stop: rising
      order(4, 0, -1, 'stop', 96), // sell stop: falling
      order(5, 0, -1, 'takeProfit', 110), // rising
      order(6, 1, 1, 'limit', 99), // other symbol
      order(7, 0, 1, 'market', NaN), // not indexed
    ];
    for (const o of all) b.add(o);
    const got = (lo: number, hi: number): number[] => {
      const out: PendingOrder[] = [];
      b.reachable(0, Float64Array.of(lo, hi), 0, 1, out);
      return out.map((o) => o.id).sort((x, y) => x - y);
    };
    expect(got(97, 103)).toEqual([]);
    expect(got(96, 104)).toEqual([3, 4]);
    expect(got(90, 120)).toEqual([1, 2, 3, 4, 5]);
    expect(got(NaN, NaN)).toEqual([]);
    expect(got(Infinity, -Infinity)).toEqual([]);
    all[2]!.dead = true;
    b.removed(all[2]!);
    expect(got(96, 104)).toEqual([4]);
    expect(b.size()).toBe(5);
    expect(b.has(1)).toBe(true);
  });

  it('property: after any sequence of adds and removals it finds exactly the live orders in reach', () => {
    const op = fc.oneof(
      fc.record({ add: fc.constant(true), symbol: fc.integer({ min: 0, max: 2 }), buy: fc.boolean(), type: fc.constantFrom<OrderType>('limit', 'stop', 'takeProfit', 'market'), price: fc.integer({ min: 1, max: 40 }) }),
      fc.record({ add: fc.constant(false), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 41 }), fc.integer({ min: 0, max: 41 })), { minLength: 1, maxLength: 10 }), (ops, queries) => {
        const b = new TriggerBook(3);
        const all: PendingOrder[] = [];
        let id = 1;
        for (const x of ops) {
          if (x.add) {
            const o = order(id++, x.symbol, x.buy ? 1 : -1, x.type, x.price);
            all.push(o);
            b.add(o);
          } else {
            const live = all.filter((o) => !o.dead);
            if (!live.length) continue;
            const o = live[x.pick % live.length]!;
            o.dead = true;
            b.removed(o);
          }
        }
        expect(b.size()).toBe(all.filter((o) => !o.dead && o.type !== 'market').length);
        for (const [s, a, c] of queries) {
          const lo = Math.min(a, c);
          const hi = Math.max(a, c);
          const out: PendingOrder[] = [];
          b.reachable(s, Float64Array.of(NaN, hi, lo), 2, 1, out);
          expect(out.map((o) => o.id).sort((p, q) => p - q)).toEqual(brute(all, s, lo, hi));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('orders resting without filling', () => {
  /** a strategy adding one far buy limit every bar and never cancelling, trading now and then */
  const restless = (every: number): StrategyModule => ({
    name: 'restless',
    description: 'adds a far limit order every bar',
    params: z.object({}),
    symbols: () => ['BTCUSDT'],
    create: () => ({
      onBar(ctx) {
        ctx.buy(0, 0.001, { type: 'limit', price: 1 + (ctx.bar % 7) * 0.01 });
        if (ctx.bar % every === 0) ctx.buy(0, 0.001);
        if (ctx.bar % every === every / 2) ctx.closePosition(0);
      },
    }),
  });

  it('cost no more per bar as they pile up: 60,000 of them resting by the end of a 60,000-bar replay', () => {
    // before the trigger index every bar tested every pending order: ≈ 90 s here (20,000 bars took 10 s)
    const n = 60_000;
    const bars: Bar[] = [];
    let p = 100;
    for (let i = 0; i < n; i++) {
      const o = p;
      p = p * (1 + 0.01 * Math.sin(i * 0.37));
      bars.push([o, Math.max(o, p) * 1.002, Math.min(o, p) * 0.998, p]);
    }
    const out = run(makeData({ BTCUSDT: { bars } }), restless(50), { capital: '1000000' });
    for (const id of ['isolated', 'cross']) {
      const so = setupOf(out, id);
      expect(so.error).toBeUndefined();
      // 1,200 round trips at the open, none of the far orders filled
      expect(so.events.filter((e) => e.type === 'fill').length).toBe(2 * (n / 50));
    }
  }, 30_000);

  it('the far orders fill when the price finally reaches them, earliest level first and ties to the earlier order', () => {
    const bars: Bar[] = [...flat(100, 5), [100, 100, 0.5, 50], ...flat(50, 2)];
    const fills: string[] = [];
    const strat: StrategyModule = {
      name: 'ladder',
      description: 'buy limits at 1.00 … 1.06, two at 1.03',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => ({
        onBar(ctx) {
          if (ctx.bar === 0) for (const px of [1.06, 1.0, 1.03, 1.03, 1.05]) ctx.buy(0, 0.001, { type: 'limit', price: px, tag: `${px}` });
        },
        onFill(f, ctx) {
          if (ctx.setup === 'isolated') fills.push(`${f.tag}#${f.orderId}@${f.price}`);
        },
      }),
    };
    run(makeData({ BTCUSDT: { bars } }), strat);
    // the falling path meets the highest level first; the two at 1.03 fill in submission order
    expect(fills).toEqual(['1.06#1@1.06', '1.05#5@1.05', '1.03#3@1.03', '1.03#4@1.03', '1#2@1']);
  });
});

describe('cancelled orders are not kept', () => {
  it('a market order placed and cancelled on every bar: the heap does not grow with the bars (the queues kept every cancelled order)', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const heap: number[] = [];
    const n = 200_000;
    const strat: StrategyModule = {
      name: 'fickle',
      description: 'places a market order and cancels it, every bar',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => ({
        onBar(ctx) {
          ctx.cancel(ctx.buy(0, 0.001));
          ctx.cancel(ctx.buy(0, 0.001, { type: 'limit', price: 1e6 })); // a marketable limit too
          if (ctx.bar === 10_000 || ctx.bar === n - 1) {
            gc();
            heap.push(process.memoryUsage().heapUsed);
          }
        },
      }),
    };
    const out = run(makeData({ BTCUSDT: { bars: flat(100, n) } }), strat, { setups: [SETUPS.isolated] });
    expect(setupOf(out, 'isolated').events.length).toBe(0);
    // 190,000 bars × 2 orders of ≈ 150 bytes each were ≈ 55 MB kept; now what the run allocates anyway
    expect(heap[1]! - heap[0]!).toBeLessThan(8_000_000);
  });
});
