/**
 * What a strategy passes to the context's order, leverage and transfer methods is untrusted: any
 * value (a Symbol, a bigint, an object whose toString throws). A bad one is a recorded rejection
 * with its reason code, its message showing the value; describing it never runs the value's code
 * nor throws (a Symbol in a message template threw a TypeError, from the account an internal
 * engine error: exit 70).
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import type { StrategyContext } from '../src/strategy/types.js';
import { flat, makeData, run, scripted, setupOf } from './engine-fixtures.js';

const hostile = {
  toString(): string {
    throw new Error('toString called');
  },
  valueOf(): number {
    throw new Error('valueOf called');
  },
};
const BAD: [string, unknown, string][] = [
  ['a Symbol', Symbol('x'), 'a symbol'],
  ['a bigint', 5n, '5n'],
  ['an object whose toString throws', hostile, '{}'],
];

function rejections(act: (c: StrategyContext, v: unknown) => void, v: unknown) {
  const data = makeData({ BTCUSDT: { bars: flat(100, 4) } });
  const out = run(data, scripted({ 0: (c) => void c.buy(0, 1), 1: (c) => act(c, v) }, ['BTCUSDT']), { setups: [SETUPS.isolated, SETUPS.cross] });
  return out.setups.map((s) => {
    expect(s.error).toBeUndefined();
    return (s.events.filter((e) => e.type === 'rejection') as unknown as { reason: string; message: string }[]).map((e) => `${e.reason}: ${e.message}`);
  });
}

describe.each(BAD)('%s as an argument', (_name, v, shown) => {
  it('setLeverage(s, value): invalidLeverage showing it', () => {
    for (const r of rejections((c, x) => c.setLeverage(0, x as number), v)) expect(r).toEqual([`invalidLeverage: leverage must be a number ≥ 1, got ${shown}`]);
  });
  it('setLeverage(value, 5) and transferMargin(value, 1): symbolUnavailable showing it', () => {
    for (const r of rejections((c, x) => { c.setLeverage(x as number, 5); c.transferMargin(x as number, 1); }, v))
      expect(r).toEqual([`symbolUnavailable: no symbol with index ${shown}`, `symbolUnavailable: no symbol with index ${shown}`]);
  });
  it('transferMargin(s, value): invalidQuantity showing it (isolated; cross has no isolated margin to move)', () => {
    const [iso] = rejections((c, x) => c.transferMargin(0, x as number), v);
    expect(iso).toEqual([`invalidQuantity: BTCUSDT: margin amount must be a non-zero number, got ${shown}`]);
  });
  it('order({ qty | price | symbol | type | mode: value }): each its reason code, showing it', () => {
    for (const r of rejections((c, x) => {
      c.order({ symbol: 0, qty: x as number });
      c.order({ symbol: 0, qty: 1, type: 'limit', price: x as number });
      c.order({ symbol: x as number, qty: 1 });
      c.order({ symbol: 0, qty: 1, type: x as 'limit' });
      c.order({ symbol: 0, qty: 1, mode: x as 'cross' });
    }, v))
      expect(r).toEqual([
        `invalidQuantity: market order on BTCUSDT: quantity must be a finite non-zero number, got ${shown}`,
        `invalidPrice: limit order on BTCUSDT: price must be a positive number, got ${shown}`,
        `symbolUnavailable: order: symbol index ${shown} is not one of the run's symbols (0..0)`,
        `invalidOrderType: order on BTCUSDT: unknown order type ${shown} (market, limit, stop, takeProfit)`,
        `invalidMode: market order on BTCUSDT: unknown margin mode ${shown} (isolated, cross)`,
      ]);
  });
});

describe('a quantity that is not a number', () => {
  // buy/sell converted it with Math.abs: buy(0, '1') bought 1 while order({ qty: '1' }) was
  // refused, buy(0, { valueOf }) ran the strategy's valueOf, buy(0, 1n) threw a TypeError
  it.each<[string, unknown, string]>([
    ['a numeric string', '1', '"1"'],
    ['an object with valueOf', { valueOf: () => 1 }, '{}'],
    ['a bigint', 1n, '1n'],
    ['an object whose toString throws', hostile, '{}'],
  ])('%s is rejected invalidQuantity by buy, sell, order and targetPosition alike (no fill)', (_n, v, shown) => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 4) } });
    const ids: number[] = [];
    const out = run(
      data,
      scripted({ 1: (c) => void ids.push(c.buy(0, v as number), c.sell(0, v as number), c.buy(0, v as number, { tag: 't' }), c.sell(0, v as number, { type: 'limit', price: 90 }), c.order({ symbol: 0, qty: v as number }), c.targetPosition(0, v as number)) }, ['BTCUSDT']),
      { setups: [SETUPS.isolated] },
    );
    const s = setupOf(out, 'isolated');
    expect(s.error).toBeUndefined();
    expect(ids).toEqual([-1, -1, -1, -1, -1, -1]);
    expect(s.events.filter((e) => e.type === 'fill')).toHaveLength(0);
    expect(s.rejections).toEqual({ invalidQuantity: 6 });
    const msgs = (s.events as unknown as { message?: string }[]).map((e) => e.message);
    expect(msgs).toContain(`market order on BTCUSDT: quantity must be a finite non-zero number, got ${shown}`);
    expect(msgs).toContain(`limit order on BTCUSDT: quantity must be a finite non-zero number, got ${shown}`);
  });
});

describe('order(req) reads each field of the request once', () => {
  // a getter answering 'cross' while the request was checked and 'bogus' when the order was stored
  // reached the account at the fill: an internal engine error (exit 70)
  it.each<[string, unknown[], Record<string, number>, number]>([
    ['mode', ['cross', 'bogus'], {}, 1],
    ['mode', ['bogus', 'cross'], { invalidMode: 1 }, 0],
    ['type', ['market', 'bogus'], {}, 1],
    ['qty', [1, NaN], {}, 1],
    ['price', [undefined, 50], {}, 1],
  ])('a getter of %s answering %j: judged and kept by its first answer', (field, answers, rejections, nFills) => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 4) } });
    const out = run(
      data,
      scripted(
        {
          1: (c) => {
            let n = 0;
            const req = { symbol: 0, qty: 1 } as Record<string, unknown>;
            Object.defineProperty(req, field, { get: () => answers[Math.min(n++, answers.length - 1)] });
            c.order(req as never);
          },
        },
        ['BTCUSDT'],
      ),
      { setups: [SETUPS.mixed, SETUPS.isolated] },
    );
    for (const s of out.setups) {
      expect(s.error).toBeUndefined();
      expect(s.rejections).toEqual(rejections);
      expect(s.events.filter((e) => e.type === 'fill')).toHaveLength(nFills);
    }
  });
});

describe('a symbol argument that is not one of the run\'s indexes', () => {
  // closePosition(Symbol()) and leverage(1n) threw a TypeError from the account (`symbol | 0`), and
  // position('1') / position(1n) read symbol 1 through the array's key coercion
  it.each<[string, unknown]>([['a Symbol', Symbol('x')], ['a bigint', 1n], ['a numeric string', '0'], ['NaN', NaN], ['1.5', 1.5], ['-1', -1]])(
    '%s: closePosition and targetPosition are rejected symbolUnavailable as buy is; position and leverage throw a RangeError as position did',
    (_n, v) => {
      const data = makeData({ BTCUSDT: { bars: flat(100, 4) } });
      const thrown: string[] = [];
      const out = run(
        data,
        scripted(
          {
            0: (c) => void c.buy(0, 1),
            2: (c) => {
              expect(c.closePosition(v as number)).toBe(-1);
              expect(c.targetPosition(v as number, 0)).toBe(-1);
              expect(c.buy(v as number, 1)).toBe(-1);
              for (const f of [() => c.position(v as number), () => c.leverage(v as number)]) {
                try {
                  f();
                  thrown.push('no throw');
                } catch (e) {
                  thrown.push(e instanceof RangeError ? 'RangeError' : String(e));
                }
              }
            },
          },
          ['BTCUSDT'],
        ),
        { setups: [SETUPS.isolated, SETUPS.cross] },
      );
      for (const s of out.setups) {
        expect(s.error).toBeUndefined();
        expect(s.rejections).toEqual({ symbolUnavailable: 3 });
        expect(s.events.filter((e) => e.type === 'fill')).toHaveLength(1);
      }
      expect(thrown).toEqual(['RangeError', 'RangeError', 'RangeError', 'RangeError']);
    },
  );
});

describe('a rejected symbol argument is not kept', () => {
  // the rejection event kept the strategy's own value as its symbol: the worker, writing the run's
  // records after the pass (symbols[e.symbol]), ran its toString as strategy code outside every
  // callback — a change of the built-ins there was blamed on the next run, a throw errored the run
  // with the bare message
  it('every way a symbol is rejected records NaN for a value that is not a number, and the records run no strategy code', async () => {
    const { setupRecords } = await import('../src/shard/records.js');
    let calls = 0;
    const spy = {
      toString(): string {
        calls++;
        return '0';
      },
      valueOf(): number {
        calls++;
        return 0;
      },
    };
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 4) } }),
      scripted(
        {
          0: (c) => void c.buy(0, 1),
          1: (c) => {
            c.buy(spy as unknown as number, 1);
            c.order({ symbol: spy as unknown as number, qty: 1 });
            c.closePosition(spy as unknown as number);
            c.targetPosition(spy as unknown as number, 0);
            c.setLeverage(spy as unknown as number, 5);
            c.transferMargin(spy as unknown as number, 1);
            c.buy(7, 1);
          },
        },
        ['BTCUSDT'],
      ),
      { setups: [SETUPS.isolated, SETUPS.cross] },
    );
    const during = calls;
    for (const s of out.setups) {
      expect(s.error).toBeUndefined();
      const rej = s.events.filter((e) => e.type === 'rejection') as { symbol: unknown }[];
      expect(rej).toHaveLength(7);
      for (const e of rej.slice(0, 6)) expect(Number.isNaN(e.symbol)).toBe(true);
      expect(rej[6]!.symbol).toBe(7);
      const records = setupRecords(s, out.symbols).filter((r) => r.type === 'rejection') as { symbol: unknown }[];
      expect(records.map((r) => r.symbol)).toEqual([null, null, null, null, null, null, null]);
    }
    // reading the events and writing the records after the pass ran none of the strategy's code
    expect(calls).toBe(during);
  });
});

describe('reduceOnly and closePosition that are not true or false', () => {
  // a truthy non-boolean counted as false: sell(0, 5, { reduceOnly: 1 }) on a long of 1 sold 5 (flipped to a short of 4),
  // and buy(0, 3, { closePosition: 'yes' }) on a long bought 3 more instead of closing
  it.each<[string, Record<string, unknown>, string]>([
    ['reduceOnly: 1', { reduceOnly: 1 }, 'reduceOnly must be true or false, got 1'],
    ["reduceOnly: 'true'", { reduceOnly: 'true' }, 'reduceOnly must be true or false, got "true"'],
    ["closePosition: 'yes'", { closePosition: 'yes' }, 'closePosition must be true or false, got "yes"'],
    ['closePosition: a Symbol', { closePosition: Symbol('x') }, 'closePosition must be true or false, got a symbol'],
  ])('%s is rejected invalidOption showing it, by order(), buy/sell with options and targetPosition (no fill)', (_n, flag, why) => {
    const ids: number[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 5) } }),
      scripted({ 0: (c) => void c.buy(0, 1), 1: (c) => void ids.push(c.sell(0, 5, flag), c.order({ symbol: 0, qty: -5, ...flag }), c.targetPosition(0, -4, flag)) }, ['BTCUSDT']),
      { setups: [SETUPS.isolated, SETUPS.cross] },
    );
    for (const s of out.setups) {
      expect(s.error).toBeUndefined();
      expect(s.rejections).toEqual({ invalidOption: 3 });
      expect((s.events.filter((e) => e.type === 'fill') as { positionQty: number }[]).map((f) => f.positionQty)).toEqual([1]);
      expect((s.events as unknown as { message?: string }[]).filter((e) => e.message).map((e) => e.message)).toEqual([`market order on BTCUSDT: ${why}`, `market order on BTCUSDT: ${why}`, `market order on BTCUSDT: ${why}`]);
    }
    expect(ids).toEqual([-1, -1, -1, -1, -1, -1]);
  });
  it('left out, null, true or false are taken as before', () => {
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 5) } }),
      scripted({ 0: (c) => void c.buy(0, 2, { reduceOnly: null as unknown as boolean, closePosition: false }), 1: (c) => void c.sell(0, 5, { reduceOnly: true }) }, ['BTCUSDT']),
      { setups: [SETUPS.isolated] },
    );
    const s = setupOf(out, 'isolated');
    expect(s.rejections).toEqual({});
    expect((s.events.filter((e) => e.type === 'fill') as { positionQty: number }[]).map((f) => f.positionQty)).toEqual([2, 0]);
  });
});

describe('keys no order has, options a method ignores, and tags that are not strings (invalidOption)', () => {
  const messagesOf = (s: { events: readonly unknown[] }) => (s.events as { message?: string }[]).filter((e) => e.message).map((e) => e.message);
  const fillsOf = (s: { events: readonly unknown[] }) => (s.events as { type: string; positionQty: number }[]).filter((e) => e.type === 'fill').map((f) => f.positionQty);

  it.each<[string, (c: StrategyContext) => number, string]>([
    // `side` is not a key: the sign of qty is the side, so this bought
    ["order({ side: 'sell' })", (c) => c.order({ symbol: 0, qty: 1, side: 'sell' } as never), "no order has the key 'side'"],
    // a misspelt reduceOnly placed a plain order that could open or flip a position
    ['sell(…, { reduce_only: true })', (c) => c.sell(0, 5, { reduce_only: true } as never), "no order has the key 'reduce_only'"],
    ['buy(…, { reduceonly: true })', (c) => c.buy(0, 5, { reduceonly: true } as never), "no order has the key 'reduceonly'"],
    ["buy(…, { typ: 'limit' })", (c) => c.buy(0, 5, { typ: 'limit', price: 90 } as never), "no order has the key 'typ'"],
    // closePosition closes the whole position, targetPosition's quantity is its target: a qty among their options is not theirs
    ['closePosition(…, { qty: 1 })', (c) => c.closePosition(0, { qty: 1 } as never), "closePosition and targetPosition take no 'qty' among their options"],
    ['targetPosition(…, { qty: 1 })', (c) => c.targetPosition(0, 3, { qty: 1 } as never), "closePosition and targetPosition take no 'qty' among their options"],
    // targetPosition places a market order: a type or closePosition given to it was dropped, or closed the position
    ["targetPosition(…, { type: 'limit' })", (c) => c.targetPosition(0, 3, { type: 'limit', price: 90 }), "targetPosition places a market order; it takes no 'type'"],
    ['targetPosition(…, { closePosition: true })', (c) => c.targetPosition(0, 3, { closePosition: true }), "targetPosition places a market order; it takes no 'closePosition'"],
    // a price on a market order (its type 'limit' left out) was dropped: the order filled at the open
    ['order({ symbol, qty, price })', (c) => c.order({ symbol: 0, qty: 1, price: 90 }), 'a market order takes no price, got 90'],
    ["order({ type: 'market', price })", (c) => c.order({ symbol: 0, qty: -1, type: 'market', price: 120 }), 'a market order takes no price, got 120'],
    ['buy(…, { price: 90 })', (c) => c.buy(0, 1, { price: 90 }), 'a market order takes no price, got 90'],
    ["sell(…, { price: '120' })", (c) => c.sell(0, 1, { price: '120' as never }), 'a market order takes no price, got "120"'],
    ['closePosition(…, { price: 120 })', (c) => c.closePosition(0, { price: 120 }), 'a market order takes no price, got 120'],
    ['targetPosition(…, { price: 90 })', (c) => c.targetPosition(0, 3, { price: 90 }), 'a market order takes no price, got 90'],
    ['order({ tag: 7 })', (c) => c.order({ symbol: 0, qty: 1, tag: 7 as never }), 'tag must be a string, got 7'],
    ['buy(…, { tag: {} })', (c) => c.buy(0, 1, { tag: {} as never }), 'tag must be a string, got {}'],
  ])('%s is rejected, naming it; nothing fills', (_n, act, why) => {
    const ids: number[] = [];
    const out = run(makeData({ BTCUSDT: { bars: flat(100, 5) } }), scripted({ 0: (c) => void c.buy(0, 1), 1: (c) => void ids.push(act(c)) }, ['BTCUSDT']), {
      setups: [SETUPS.isolated, SETUPS.cross],
    });
    for (const s of out.setups) {
      expect(s.error).toBeUndefined();
      expect(s.rejections).toEqual({ invalidOption: 1 });
      expect(fillsOf(s)).toEqual([1]);
      const [m] = messagesOf(s);
      expect(m).toContain(why);
      expect(m).toContain('on BTCUSDT');
    }
    expect(ids).toEqual([-1, -1]);
  });

  it("an open order's own keys re-placed with a new price ({ ...o, price }), and a shared options object carrying symbol and qty, are taken as before", () => {
    const out = run(
      makeData({ BTCUSDT: { bars: [...flat(100, 3), [100, 100, 94, 95], ...flat(95, 2)] } }),
      scripted(
        {
          0: (c) => void c.order({ symbol: 0, qty: 1, type: 'limit', price: 90, tag: 'dip' }),
          1: (c) => {
            // move the resting limit up: cancel it, place it again from its own record
            for (const o of c.openOrders(0)) {
              c.cancel(o.id);
              c.order({ ...o, price: 95 });
            }
          },
          // options built once for several calls: buy/sell take the symbol and size from their arguments
          4: (c) => void c.sell(0, 1, { symbol: 0, qty: 9, reduceOnly: true, tag: 'exit' } as never),
        },
        ['BTCUSDT'],
      ),
      { setups: [SETUPS.isolated] },
    );
    const s = setupOf(out, 'isolated');
    expect(s.rejections).toEqual({});
    expect(fillsOf(s)).toEqual([1, 0]);
  });

  it('the keys orders take, a null tag, and targetPosition with type market or closePosition false are taken as before', () => {
    const tags: (string | undefined)[] = [];
    const strategy = scripted(
      {
        0: (c) => void c.order({ symbol: 0, qty: 1, type: 'market', price: undefined, reduceOnly: false, closePosition: false, mode: 'cross', tag: 'a' }),
        1: (c) => void c.buy(0, 1, { tag: null as never }),
        2: (c) => void c.targetPosition(0, 3, { type: 'market', closePosition: false, tag: 't' }),
      },
      ['BTCUSDT'],
    );
    strategy.create = ((orig) => (p: never) => {
      const inst = orig(p);
      return { ...inst, onFill: (f: { tag: string | undefined }) => void tags.push(f.tag) };
    })(strategy.create.bind(strategy) as (p: never) => ReturnType<typeof strategy.create>) as typeof strategy.create;
    const out = run(makeData({ BTCUSDT: { bars: flat(100, 6) } }), strategy, { setups: [SETUPS.isolated] });
    const s = setupOf(out, 'isolated');
    expect(s.rejections).toEqual({});
    expect(fillsOf(s)).toEqual([1, 2, 3]);
    expect(tags).toEqual(['a', undefined, 't']);
  });
});
