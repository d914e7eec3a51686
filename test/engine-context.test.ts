/**
 * The strategy context (src/engine/context.ts): order management (cancel, cancelAll, openOrders,
 * targetPosition), reduce-only clipping, the per-order mode under each setup, setLeverage
 * rejections, the funding and presence views, onStart's history, and the user errors a strategy
 * can cause (unknown symbols, out-of-range indexes, look-ahead).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_EXECUTION, replay, SETUPS } from '../src/engine/index.js';
import { LookAheadError, type StrategyContext, type StrategyModule } from '../src/strategy/types.js';
import { z } from 'zod';
import { createAccount } from '../src/account/index.js';
import { flat, HOUR, makeData, run, scripted, setupOf, T0, zeroFeeVenue, type Bar } from './engine-fixtures.js';
import { sliceMarketData } from '../src/feed/slice.js';

type FillEv = { type: 'fill'; qty: number; price: number; mode: string };
const fills = (out: ReturnType<typeof run>, id: string) =>
  setupOf(out, id).events.filter((e) => e.type === 'fill') as unknown as FillEv[];
const ISO = [SETUPS.isolated];

describe('order management', () => {
  it('openOrders lists resting orders (per symbol or all); cancel removes one, cancelAll the rest; cancelled orders never fill', () => {
    const data = makeData({ BTCUSDT: { bars: [...flat(100, 1), [100, 130, 70, 100], ...flat(100, 1)] }, ETHUSDT: { bars: flat(10, 3) } });
    const seen: unknown[] = [];
    const out = run(
      data,
      scripted(
        {
          0: (c) => {
            const a = c.buy(0, 1, { type: 'limit', price: 80, tag: 'a' });
            const b = c.sell(0, 1, { type: 'limit', price: 120, reduceOnly: true });
            c.buy(1, 1, { type: 'stop', price: 12, mode: 'cross' });
            seen.push(c.openOrders(0), c.openOrders().length);
            seen.push(c.cancel(a), c.cancel(a), c.openOrders(0).map((o) => o.id));
            seen.push(c.cancelAll(0), c.openOrders(0).length, c.openOrders(1).length);
            seen.push(c.cancelAll(), c.openOrders().length, b);
          },
        },
        ['BTCUSDT', 'ETHUSDT'],
      ),
      { setups: ISO },
    );
    expect(seen).toEqual([
      [
        { id: 1, symbol: 0, qty: 1, type: 'limit', price: 80, reduceOnly: false, closePosition: false, mode: undefined, tag: 'a' },
        { id: 2, symbol: 0, qty: -1, type: 'limit', price: 120, reduceOnly: true, closePosition: false, mode: undefined, tag: undefined },
      ],
      3,
      true,
      false,
      [2],
      1,
      0,
      1,
      1,
      0,
      2,
    ]);
    // the bar's range 70..130 would have filled both limits
    expect(fills(out, 'isolated')).toHaveLength(0);
  });

  it('plain market orders (one reused request object) are each their own order; an order with options right after is unaffected', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) }, ETHUSDT: { bars: flat(10, 3) } });
    const seen: unknown[] = [];
    const out = run(
      data,
      scripted(
        {
          0: (c) => {
            c.buy(0, 1);
            c.sell(1, 2);
            c.buy(1, 3, { type: 'limit', price: 5, tag: 't' });
            c.targetPosition(0, -4);
            seen.push(c.openOrders().map((o) => [o.symbol, o.qty, o.type, o.price, o.reduceOnly, o.closePosition, o.mode, o.tag]));
          },
        },
        ['BTCUSDT', 'ETHUSDT'],
      ),
      { setups: ISO },
    );
    // and they fill as placed at the next open (the limit at 5 does not: the price stays at 10)
    expect(fills(out, 'isolated').map((f) => [(f as unknown as { symbol: number }).symbol, f.qty, f.price])).toEqual([
      [1, -2, 10],
      [0, -4, 100],
    ]);
    expect(seen).toEqual([
      [
        [1, -2, 'market', NaN, false, false, undefined, undefined],
        [1, 3, 'limit', 5, false, false, undefined, 't'],
        [0, -4, 'market', NaN, false, false, undefined, undefined],
      ],
    ]);
  });

  it('orders with options (one reused request): options read by name (class getters too), null = none, an option getter that places an order does not change the outer one', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const seen: unknown[] = [];
    class Opts {
      get type() {
        return 'limit' as const;
      }
      get price() {
        return 90;
      }
      tag = 'cls';
    }
    const out = run(
      data,
      scripted(
        {
          0: (c) => {
            c.buy(0, 1, new Opts());
            c.sell(0, 2, null as unknown as undefined);
            const sneaky = {
              type: 'stop' as const,
              get price() {
                c.buy(0, 7, { type: 'limit', price: 50, tag: 'inner' });
                return 120;
              },
              tag: 'outer',
            };
            c.buy(0, 3, sneaky);
            c.closePosition(0, { tag: 'close' }); // flat: rejected noPosition
            seen.push(c.openOrders().map((o) => [o.qty, o.type, o.price, o.reduceOnly, o.closePosition, o.tag]));
          },
        },
        ['BTCUSDT'],
      ),
      { setups: ISO },
    );
    expect(seen).toEqual([
      [
        [1, 'limit', 90, false, false, 'cls'],
        [-2, 'market', NaN, false, false, undefined],
        [7, 'limit', 50, false, false, 'inner'],
        [3, 'stop', 120, false, false, 'outer'],
      ],
    ]);
    expect(setupOf(out, 'isolated').rejections).toEqual({ noPosition: 1 });
  });

  it('targetPosition cancels the symbol\'s pending market orders, orders the difference, and returns 0 at the target', () => {
    const ids: number[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 4) } }),
      scripted(
        {
          0: (c) => {
            c.buy(0, 5);
            ids.push(c.targetPosition(0, 2), c.openOrders(0).length);
          },
          1: (c) => ids.push(c.targetPosition(0, 2), c.targetPosition(0, -1)),
        },
        ['BTCUSDT'],
      ),
      { setups: ISO },
    );
    expect(ids).toEqual([2, 1, 0, 3]);
    expect(fills(out, 'isolated').map((f) => f.qty)).toEqual([2, -3]);
  });

  it('a reduce-only order larger than the position is clipped to it', () => {
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 4) } }),
      scripted({ 0: (c) => c.buy(0, 1), 1: (c) => c.sell(0, 5, { reduceOnly: true }) }, ['BTCUSDT']),
      { setups: ISO },
    );
    expect(fills(out, 'isolated').map((f) => f.qty)).toEqual([1, -1]);
    expect(setupOf(out, 'isolated').rejections).toEqual({});
  });
});

describe('margin mode and leverage', () => {
  it('an order\'s mode is honoured only under mixed; isolated and cross setups give every position their own mode', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const strat = scripted({ 0: (c) => c.buy(0, 1, { mode: 'isolated' }), 1: (c) => c.buy(0, 1, { mode: 'cross' }) }, ['BTCUSDT']);
    const out = run(data, strat, { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed] });
    expect(fills(out, 'isolated').map((f) => f.mode)).toEqual(['isolated', 'isolated']);
    expect(fills(out, 'cross').map((f) => f.mode)).toEqual(['cross', 'cross']);
    // mixed: the first order opens an isolated position; the second names another mode → modeLocked
    expect(fills(out, 'mixed').map((f) => f.mode)).toEqual(['isolated']);
    expect(setupOf(out, 'mixed').rejections).toEqual({ modeLocked: 1 });
  });

  it('setLeverage above the tier maximum (exceedsMaxLeverage) or below 1 (invalidLeverage) returns false, records the rejection and keeps the leverage', () => {
    const seen: unknown[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 2) } }),
      scripted({ 0: (c) => seen.push(c.setLeverage(0, 1000), c.setLeverage(0, 0.5), c.leverage(0), c.position(0).leverage) }, ['BTCUSDT']),
      { setups: ISO },
    );
    expect(seen).toEqual([false, false, 10, 10]);
    expect(setupOf(out, 'isolated').rejections).toEqual({ exceedsMaxLeverage: 1, invalidLeverage: 1 });
  });
});

describe('history views', () => {
  it('funding history holds the events settled so far (k = 0 latest); NaN when none; a negative k is look-ahead', () => {
    const seen: number[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars: flat(100, 4), funding: [{ bar: 2, rate: 0.0001, price: 101 }] } }),
      scripted(
        {
          1: (c) => {
            const f = c.data[0]!.funding;
            seen.push(f.count, f.rate(), f.time(), f.price());
          },
          2: (c) => {
            const f = c.data[0]!.funding;
            seen.push(f.count, f.rate(0), f.time(0), f.price(0), f.rate(1));
            f.rate(-1);
          },
        },
        ['BTCUSDT'],
      ),
      { setups: ISO },
    );
    expect(seen).toEqual([0, NaN, NaN, NaN, 1, 0.0001, T0 + 2 * HOUR, 101, NaN]);
    expect(setupOf(out, 'isolated').error).toBe('LookAheadError: look-ahead: funding(-1) reads an event after the current bar');
  });

  it('on data cut with sliceMarketData, the funding history holds the events of the replayed bars only (count held every event since the dataset began)', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 8), funding: [{ bar: 1, rate: 0.0001, price: 100 }, { bar: 3, rate: 0.0002, price: 101 }, { bar: 5, rate: 0.0003, price: 102 }] } });
    const seen: number[] = [];
    const look = (c: StrategyContext) => {
      const f = c.data[0]!.funding;
      seen.push(f.count, f.rate(0), f.time(0), f.rate(1));
    };
    // bars 3..7: the event of bar 3 settles at the slice's first bar, bar 1's is not of it
    run(sliceMarketData(data, 3), scripted({ 0: look, 2: look }, ['BTCUSDT']), { setups: ISO });
    expect(seen).toEqual([1, 0.0002, T0 + 3 * HOUR, NaN, 2, 0.0003, T0 + 5 * HOUR, 0.0002]);
  });

  it('onFunding gets the settlement as the ledger records it (symbol, amount as a decimal string, rate, price, time)', () => {
    const got: unknown[] = [];
    const strategy = scripted({ 0: (c) => c.buy(0, 2) }, ['BTCUSDT']);
    const create = strategy.create.bind(strategy);
    strategy.create = (p) => ({ ...create(p), onFunding: (f) => void got.push({ ...f }) });
    const out = run(makeData({ BTCUSDT: { bars: flat(100, 4), funding: [{ bar: 2, rate: 0.0001, price: 101 }] } }), strategy, { setups: ISO });
    const ledger = setupOf(out, 'isolated').events.filter((e) => e.type === 'funding');
    expect(got).toEqual([{ symbol: 0, received: '-0.0202', rate: 0.0001, price: 101, time: T0 + 2 * HOUR }]);
    expect(ledger).toEqual([{ type: 'funding', symbol: 0, received: '-0.0202', rate: 0.0001, price: 101, time: T0 + 2 * HOUR }]);
  });

  it('present is 1 for a bar with a candle and 0 without; mark falls back to the trade close', () => {
    const bars: (Bar | null)[] = [[100, 100, 100, 100], null, [102, 102, 102, 102]];
    const mark: (Bar | null)[] = [[99, 99, 99, 99], [99, 99, 99, 99], null];
    const seen: number[] = [];
    run(
      makeData({ BTCUSDT: { bars, mark } }),
      scripted({ 2: (c) => seen.push(c.data[0]!.present.at(0), c.data[0]!.present.ago(1), c.data[0]!.present.length, c.data[0]!.mark.ago(0), c.data[0]!.mark.at(0)) }, [
        'BTCUSDT',
      ]),
      { setups: ISO },
    );
    expect(seen).toEqual([1, 0, 3, 102, 99]);
  });

  it('onStart sees the bars before the replayed range (none from the first bar): at() past them throws, ago() before them is NaN', () => {
    const data = makeData({ BTCUSDT: { bars: [...flat(1, 1), ...flat(2, 1), ...flat(3, 1), ...flat(4, 1)] } });
    const start = (fromIndex: number) => {
      const seen: unknown[] = [];
      const strategy = scripted({}, ['BTCUSDT']);
      const create = strategy.create;
      strategy.create = (p) => ({
        ...create(p),
        onStart(ctx) {
          const close = ctx.data[0]!.close;
          seen.push(close.length, close.ago(0), close.ago(close.length), ctx.bar, ctx.index);
          expect(() => close.at(fromIndex)).toThrow(LookAheadError);
        },
      });
      const out = replay({
        data,
        symbols: ['BTCUSDT'],
        strategy,
        params: {},
        venue: zeroFeeVenue(),
        setups: ISO,
        initialCapital: '1000',
        leverage: 10,
        execution: DEFAULT_EXECUTION,
        fromIndex,
      });
      expect(out.setups[0]!.error).toBeUndefined();
      return seen;
    };
    expect(start(0)).toEqual([0, NaN, NaN, -1, -1]);
    expect(start(2)).toEqual([2, 2, NaN, -1, 1]);
  });
});

describe('strategy errors end the setup with a one-line message', () => {
  const cases: [string, (c: StrategyContext) => unknown, string][] = [
    ['an unknown symbol name', (c) => c.symbolIndex('DOGEUSDT'), "RangeError: unknown symbol 'DOGEUSDT' (this run trades BTCUSDT)"],
    ['position() of a symbol index out of range', (c) => c.position(1), 'RangeError: position(1): symbol index out of range 0..0'],
    ['close() of a symbol index out of range', (c) => c.close(-1), 'RangeError: close(-1): symbol index out of range 0..0'],
    // close('0') and close(0n) read symbol 0 (the array's key coercion) while position('0') threw
    ["close() of the string '0'", (c) => c.close('0' as unknown as number), 'RangeError: close("0"): symbol index out of range 0..0'],
    ['close() of the bigint 0n', (c) => c.close(0n as unknown as number), 'RangeError: close(0n): symbol index out of range 0..0'],
    // cancelAll(NaN) and cancelAll('0') cancelled the orders of every symbol, cancelAll(1) none, silently
    ['cancelAll() of NaN', (c) => c.cancelAll(NaN), 'RangeError: cancelAll(NaN): symbol index out of range 0..0'],
    ["cancelAll() of the string '0'", (c) => c.cancelAll('0' as unknown as number), 'RangeError: cancelAll("0"): symbol index out of range 0..0'],
    ['cancelAll() of a symbol index out of range', (c) => c.cancelAll(1), 'RangeError: cancelAll(1): symbol index out of range 0..0'],
    ['openOrders() of a symbol index out of range', (c) => c.openOrders(-1), 'RangeError: openOrders(-1): symbol index out of range 0..0'],
    ['a look-ahead with ago(-k)', (c) => c.data[0]!.present.ago(-2), 'LookAheadError: look-ahead: BTCUSDT.present.ago(-2) reads a bar after the current one'],
    ['a look-ahead with at(i)', (c) => c.data[0]!.volume.at(2), 'LookAheadError: look-ahead: BTCUSDT.volume.at(2) reads a bar after the current one (last visible index 1)'],
  ];
  it.each(cases)('%s', (_name, act, message) => {
    const out = run(makeData({ BTCUSDT: { bars: flat(100, 4) } }), scripted({ 1: (c) => void act(c) }, ['BTCUSDT']), { setups: ISO });
    const s = setupOf(out, 'isolated');
    expect(s.error).toBe(message);
    expect(s.series.equity.length).toBe(2);
  });
});

describe('an order, leverage change or margin transfer on a symbol index the run does not have is a rejection', () => {
  const cases: [string, (c: StrategyContext) => unknown, unknown][] = [
    ['buy(3, 1)', (c) => c.buy(3, 1), -1],
    ['sell(-1, 1)', (c) => c.sell(-1, 1), -1],
    ['order({ symbol: 0.5 })', (c) => c.order({ symbol: 0.5, qty: 1 }), -1],
    ['targetPosition(1, 5)', (c) => c.targetPosition(1, 5), -1],
    ['setLeverage(1, 5)', (c) => c.setLeverage(1, 5), false],
    ['transferMargin(NaN, 5)', (c) => c.transferMargin(Number.NaN, 5), false],
    // a JavaScript strategy's order(null) or order(42): a TypeError inside the engine ended the setup before
    ['order(null)', (c) => c.order(null as never), -1],
    ['order(42)', (c) => c.order(42 as never), -1],
  ];
  it.each(cases)('%s: recorded as symbolUnavailable, the run goes on', (_name, act, ret) => {
    let got: unknown;
    const out = run(makeData({ BTCUSDT: { bars: flat(100, 4) } }), scripted({ 1: (c) => void (got = act(c)) }, ['BTCUSDT']), { setups: ISO });
    const s = setupOf(out, 'isolated');
    expect(got).toBe(ret);
    expect(s.error).toBeUndefined();
    expect(s.series.equity.length).toBe(4);
    expect(s.rejections).toEqual({ symbolUnavailable: 1 });
    const rej = s.events.filter((e) => e.type === 'rejection');
    expect(rej).toHaveLength(1);
    expect(rej[0]!.type === 'rejection' && Number.isFinite(rej[0]!.time)).toBe(true);
  });
});

describe('what create() returns', () => {
  // 96f1e9e wrapped every throw of create() in marginlab's internal StrategyFailure: replay()'s caller got
  // another error (not the RangeError it threw, instanceof and its fields lost); only a string or undefined is wrapped
  it("what create() throws leaves replay() as it was thrown (a value that is not an object, in an Error with its text)", () => {
    const data = makeData({ A: { bars: flat(100, 5) } });
    const base = scripted({}, ['A']);
    const err = new RangeError('bad size');
    const caught = (create: () => never): unknown => {
      try {
        run(data, { ...base, create }, { setups: ISO });
      } catch (e) {
        return e;
      }
      return 'nothing thrown';
    };
    expect(caught(() => { throw err; })).toBe(err);
    const wrapped = caught(() => { throw 'no sizes'; });
    expect(wrapped).toBeInstanceOf(Error);
    expect((wrapped as Error).message).toBe('no sizes');
  });
  it('an object without an onBar function is refused naming what it has (a misspelt callback)', () => {
    const data = makeData({ A: { bars: flat(100, 5) } });
    const base = scripted({}, ['A']);
    const typo = { ...base, create: () => ({ onbar() {}, onEnd() {} }) as unknown as ReturnType<typeof base.create> };
    expect(() => run(data, typo, { setups: ISO })).toThrow("strategy 'scripted': create() must return an object with an onBar(ctx) function; it returned an object with onbar, onEnd");
    const none = { ...base, create: () => undefined as unknown as ReturnType<typeof base.create> };
    expect(() => run(data, none, { setups: ISO })).toThrow(/it returned undefined$/);
  });
  // a truthy callback that is not a function made the setup error at its first fill / funding / start with
  // "TypeError: st.onFill is not a function" (marginlab's variable), its location the code that called replay()
  it('an optional callback that is given but not a function is refused naming it; a falsy one counts as left out', () => {
    const data = makeData({ A: { bars: flat(100, 5) } });
    const base = scripted({ 0: (c) => void c.buy(0, 1) }, ['A']);
    for (const [name, v, shown] of [['onFill', 'log', '"log"'], ['onFunding', {}, '{}'], ['onStart', 1, '1'], ['onLiquidation', true, 'true']] as const) {
      const mod = { ...base, create: () => ({ onBar() {}, [name]: v }) as unknown as ReturnType<typeof base.create> };
      expect(() => run(data, mod, { setups: ISO })).toThrow(
        `strategy 'scripted': create() returned an object whose ${name} is ${shown}, not a function (onStart, onFill, onFunding and onLiquidation are optional: give a function or leave it out)`,
      );
    }
    const falsy = { ...base, create: () => ({ ...base.create({}), onFill: null, onFunding: undefined, onStart: false }) as unknown as ReturnType<typeof base.create> };
    expect(setupOf(run(data, falsy, { setups: ISO }), 'isolated').error).toBeUndefined();
  });
});

describe('ctx.symbols', () => {
  it("is one frozen copy: a setup's strategy cannot reorder the names another setup, the output or the caller sees", () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) }, ETHUSDT: { bars: flat(10, 3) } });
    const names = ['BTCUSDT', 'ETHUSDT'];
    const seen: string[] = [];
    const out = replay({
      data,
      symbols: names,
      strategy: {
        ...scripted({}, names),
        create: () => ({
          onBar(c: StrategyContext) {
            seen.push(`${c.setup}:${c.symbols.join(',')}`);
            // strategy modules are ES modules (strict): writing a frozen array throws, the setup errors
            if (c.setup === 'isolated') (c.symbols as string[]).reverse();
          },
        }),
      },
      params: {},
      venue: zeroFeeVenue(),
      setups: [SETUPS.isolated, SETUPS.cross],
      initialCapital: '10000',
      leverage: 10,
      execution: DEFAULT_EXECUTION,
    });
    expect(seen).toEqual(['isolated:BTCUSDT,ETHUSDT', 'cross:BTCUSDT,ETHUSDT', 'cross:BTCUSDT,ETHUSDT', 'cross:BTCUSDT,ETHUSDT']);
    expect(out.symbols).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(names).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(out.setups[0]!.error).toMatch(/^TypeError: Cannot assign to read only property '0'/);
    expect(out.setups[1]!.error).toBeUndefined();
  });
});

describe('history views at an index that is not a whole number', () => {
  it('answer NaN, a number (ago(0.5) read the typed array at 4.5: undefined)', () => {
    const seen: unknown[] = [];
    run(
      makeData({ BTCUSDT: { bars: flat(100, 4), funding: [{ bar: 1, rate: 0.001, price: 100 }] } }),
      scripted({ 2: (c) => void seen.push(c.data[0]!.close.ago(0.5), c.data[0]!.close.at(1.5), c.data[0]!.present.ago(1.5), c.data[0]!.mark.at(0.25), c.data[0]!.funding.rate(0.5), c.data[0]!.funding.time(0.5), c.data[0]!.funding.price(0.5), c.data[0]!.funding.rate(0)) }, ['BTCUSDT']),
      { setups: ISO },
    );
    expect(seen).toEqual([NaN, NaN, NaN, NaN, NaN, NaN, NaN, 0.001]);
  });
});

describe('params', () => {
  it("each setup's create() gets its own copy: one that changes its params does not change another setup's, nor the caller's", () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 4) } });
    const params = { size: 1, list: [1] };
    const out = replay({
      data,
      symbols: ['BTCUSDT'],
      strategy: {
        ...scripted({}, ['BTCUSDT']),
        create: (p: Record<string, unknown>) => {
          p.size = (p.size as number) * 10;
          (p.list as number[]).push(2);
          const size = p.size as number;
          return { onBar: (c: StrategyContext) => void (c.bar === 0 && c.buy(0, size)) };
        },
      },
      params,
      venue: zeroFeeVenue(),
      setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed],
      initialCapital: '1000000',
      leverage: 10,
      execution: DEFAULT_EXECUTION,
    });
    // was 10, 100, 1000: the setups shared one params object
    expect(out.setups.map((s) => (s.events.filter((e) => e.type === 'fill') as unknown as { qty: number }[]).map((e) => e.qty))).toEqual([[10], [10], [10]]);
    expect(params).toEqual({ size: 1, list: [1] });
  });
});

describe('a context kept after its replay', () => {
  it('shows no bar, price or valuation of that replay (a later run in the worker would read bars after its own)', () => {
    let kept: StrategyContext | null = null;
    const data = makeData({ BTCUSDT: { bars: [...flat(100, 3), ...flat(150, 3)] } });
    run(
      data,
      scripted({ 0: (c) => void ((kept = c), c.buy(0, 1), c.buy(0, 1, { type: 'limit', price: 1 })) }, ['BTCUSDT']),
      { setups: ISO },
    );
    const c = kept! as StrategyContext;
    expect([c.close(0), c.data[0]!.close.ago(0), c.data[0]!.close.length, c.time, c.data[0]!.funding.count]).toEqual([NaN, NaN, 0, NaN, 0]);
    expect(() => c.data[0]!.close.at(5)).toThrow(LookAheadError);
    expect([c.account.equity, c.account.available, c.position(0).unrealizedPnl, c.position(0).notional]).toEqual([NaN, NaN, NaN, NaN]);
    // nor how it ended: its final position (long 1 here), entry, mode, leverage, liquidation price, resting orders
    const p = c.position(0);
    expect([p.qty, p.entryPrice, p.mode, p.leverage, p.liquidationPrice, c.openOrders().length]).toEqual([NaN, NaN, null, NaN, NaN, 0]);
  });

  it('acts on nothing of that replay: orders, cancels, leverage and transfers answer the same whether it ended flat or long, and its events stay as returned', () => {
    // closePosition answered an order id when the replay ended long and -1 when flat, cancelAll the
    // number of orders left, setLeverage / transferMargin the finished account's verdict, and each
    // call appended a rejection or a transfer to the events of the output already returned
    const answers = [true, false].map((long) => {
      let kept: StrategyContext | null = null;
      const data = makeData({ BTCUSDT: { bars: [...flat(100, 3), ...flat(150, 3)] } });
      const out = run(
        data,
        scripted({ 0: (c) => void ((kept = c), long && c.buy(0, 1), c.buy(0, 1, { type: 'limit', price: 1 })) }, ['BTCUSDT']),
        { setups: ISO },
      );
      const so = setupOf(out, 'isolated');
      const events = JSON.stringify(so.events);
      const books = JSON.stringify(so.books);
      const c = kept! as StrategyContext;
      const got = [
        c.closePosition(0), c.buy(0, 1), c.sell(0, 1, { reduceOnly: true }), c.targetPosition(0, 0), c.order({ symbol: 0, qty: 1, type: 'limit', price: 1 }),
        c.cancel(2), c.cancel(1), c.cancelAll(), c.cancelAll(0), c.setLeverage(0, 1), c.setLeverage(0, 20), c.transferMargin(0, 1), c.transferMargin(0, -1),
      ];
      expect(JSON.stringify(so.events), `ended ${long ? 'long' : 'flat'}`).toBe(events);
      expect(JSON.stringify(so.books)).toBe(books);
      return got;
    });
    expect(answers[0]).toEqual(answers[1]);
    // (targetPosition: 0, no order, as the position it would be measured against is not shown)
    expect(answers[0]).toEqual([-1, -1, -1, 0, -1, false, false, 0, 0, false, false, false, false]);
  });
});

describe('ReplayParams.position (what a timed-out run\'s message names)', () => {
  it('is −1 while create() runs, then each bar\'s ctx.bar and its open time while the bar is stepped', () => {
    const position = new Float64Array(new SharedArrayBuffer(16));
    const seen: number[][] = [];
    const strat: StrategyModule = {
      name: 'where',
      description: 'records the position slot',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => {
        seen.push([position[0]!, position[1]!]);
        return {
          onBar(ctx) {
            seen.push([position[0]!, position[1]!, ctx.bar]);
          },
        };
      },
    };
    const data = makeData({ BTCUSDT: { bars: flat(100, 6) } });
    replay({ data, symbols: data.symbols, strategy: strat, params: {}, venue: zeroFeeVenue(), setups: [SETUPS.isolated], initialCapital: '1000', leverage: 2, execution: DEFAULT_EXECUTION, fromIndex: 2, position });
    expect(seen[0]).toEqual([-1, NaN]);
    expect(seen.slice(1)).toEqual([0, 1, 2, 3].map((k) => [k, T0 + (k + 2) * HOUR, k]));
  });
});

describe('the time of an in-bar callback', () => {
  // the fill's time on the path is linear in τ within a segment: from two fills of one bar (limits at 99 and 98 on
  // the way from the high 101 to the low 80) onFill worked out the low, 80.00003, before the path reached it
  it('is the open of the bar the event happened in; the result records keep the time on the path', () => {
    const bars: Bar[] = [[100, 100, 100, 100], [100, 100, 100, 100], [100, 101, 80, 90], [90, 90, 90, 90]];
    const got: string[] = [];
    const mod: StrategyModule = {
      name: 'probe',
      description: 'x',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => ({
        onBar(c) {
          if (c.bar === 1) for (const price of [99, 98]) c.buy(0, 1, { type: 'limit', price });
        },
        onFill: (f) => void got.push(`fill ${f.price} ${f.time}`),
        onLiquidation: (l) => void got.push(`liquidation ${l.time}`),
      }),
    };
    const s = setupOf(run(makeData({ BTCUSDT: { bars } }), mod, { setups: ISO, leverage: 20 }), 'isolated');
    const open = T0 + 2 * HOUR;
    expect(got).toEqual([`fill 99 ${open}`, `fill 98 ${open}`, `liquidation ${open}`]);
    const times = s.events.map((e) => e.time);
    expect(times).toHaveLength(3);
    for (const t of times) expect(t).toBeGreaterThan(open);
    expect(new Set(times).size).toBe(3);
  });
});

describe("replay()'s symbols", () => {
  // [] replayed a run that traded nothing (every order symbolUnavailable); a string threw "symbols.filter is not a function"
  it('must be an array of one or more names: anything else throws naming what was given', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const mod = scripted({ 0: (c) => void c.buy(0, 1) }, ['BTCUSDT']);
    for (const [symbols, shown] of [[[], '[]'], ['BTCUSDT', '"BTCUSDT"'], [undefined, 'nothing']] as const) {
      expect(() =>
        replay({ data, symbols: symbols as unknown as string[], strategy: mod, params: {}, venue: zeroFeeVenue(), setups: ISO, initialCapital: '1000', leverage: 5, execution: DEFAULT_EXECUTION }),
      ).toThrow(`replay: symbols must be an array of one or more symbol names of dataset 'fixture' (BTCUSDT), got ${shown}`);
    }
  });
});

describe("replay()'s money and leverage", () => {
  // what the config refuses: a negative slippage ran as a price improvement, '0' capital ran, leverage 0 failed in the account
  it('a slippage outside [0, 10000) bp, a capital not above 0 and a leverage below 1 throw naming the param and what was given', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const mod = scripted({ 0: (c) => void c.buy(0, 1) }, ['BTCUSDT']);
    const run = (over: Record<string, unknown>) => () =>
      replay({ data, symbols: ['BTCUSDT'], strategy: mod, params: {}, venue: zeroFeeVenue(), setups: ISO, initialCapital: '1000', leverage: 5, execution: DEFAULT_EXECUTION, ...over } as never);
    expect(run({ execution: { ...DEFAULT_EXECUTION, slippageBps: -3 } })).toThrow('replay: execution.slippageBps must be a number of basis points in [0, 10000), got -3');
    expect(run({ execution: { slippageBps: NaN } })).toThrow('got NaN');
    expect(run({ initialCapital: '0' })).toThrow(`replay: initialCapital must be a decimal string above 0 (e.g. '10000'), got "0"`);
    expect(run({ initialCapital: 1000 })).toThrow('got 1000');
    expect(run({ initialCapital: 'abc' })).toThrow('got "abc"');
    for (const [lev, shown] of [[0, '0'], [NaN, 'NaN'], [0.5, '0.5'], ['5', '"5"']] as const) {
      expect(run({ leverage: lev })).toThrow(`replay: leverage must be a number ≥ 1 (1 = no leverage), got ${shown}`);
    }
    expect(run({})().setups[0]!.error).toBeUndefined();
    expect(run({ execution: { slippageBps: 0 }, initialCapital: '0.5', leverage: 1 })().setups).toHaveLength(1);
  });
});

describe("replay()'s data, strategy and venue", () => {
  // a JavaScript caller (or a TypeScript one through a cast) passing what the config names them by: a dataset path, a
  // strategy name, a venue id, or the promise of loadDataset / resolveStrategy without its await, failed inside the
  // engine ("Cannot read properties of undefined (reading 'indexOf')", "p.strategy.create is not a function",
  // "params.venue.tiers is not a function")
  it('anything but a MarketData, a strategy module and a venue profile throws naming the param, what was given and what to pass', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const mod = scripted({ 0: (c) => void c.buy(0, 1) }, ['BTCUSDT']);
    const run = (over: Record<string, unknown>) => () =>
      replay({ data, symbols: ['BTCUSDT'], strategy: mod, params: {}, venue: zeroFeeVenue(), setups: [SETUPS.isolated], initialCapital: '1000', leverage: 5, ...over } as never);
    const DATA = 'replay: data must be the MarketData of loadDataset(dir, { timeframe }) (or sliceMarketData, sliceByTime, selectSymbols of one)';
    expect(run({ data: 'data/btc' })).toThrow(`${DATA}, got "data/btc"`);
    expect(run({ data: undefined })).toThrow(`${DATA}, got nothing`);
    expect(run({ data: Promise.resolve(data) })).toThrow(`${DATA}, got a Promise (await it)`);
    expect(run({ data: { path: 'data/btc', timeframe: '1h' } })).toThrow(`${DATA}, got {"path":"data/btc","timeframe":"1h"}`);
    const STRATEGY = "replay: strategy must be a strategy module (await resolveStrategy(name), or a strategy file's default export: { name, description, params, symbols, create })";
    expect(run({ strategy: 'buy-and-hold' })).toThrow(`${STRATEGY}, got "buy-and-hold"`);
    expect(run({ strategy: Promise.resolve(mod) })).toThrow(`${STRATEGY}, got a Promise (await it)`);
    expect(run({ strategy: { default: mod } })).toThrow(`${STRATEGY}, got a module namespace: pass its default export`);
    const VENUE = "replay: venue must be a venue profile (getVenue('binance-usdm'), listVenues() names the ids)";
    expect(run({ venue: 'binance-usdm' })).toThrow(`${VENUE}, got "binance-usdm": pass getVenue("binance-usdm")`);
    expect(run({ venue: { id: 'x', fees: { maker: 0, taker: 0 } } })).toThrow(`${VENUE}, got one without tiers(), isolatedLiquidationPrice(), bankruptcyPrice()`);
    expect(run({})().setups[0]!.error).toBeUndefined();
    // no params object at all ("Cannot read properties of undefined (reading 'data')")
    const PARAMS = 'replay: params must be one object { data, symbols, strategy, params, venue, setups, initialCapital, leverage } (docs/engine.md)';
    expect(() => replay(undefined as never)).toThrow(`${PARAMS}, got nothing`);
    expect(() => replay('data/btc' as never)).toThrow(`${PARAMS}, got "data/btc"`);
  });
});

describe("replay()'s params", () => {
  // replay() takes the params schema's output; given raw params it ran create() on them: sma-cross with
  // { fast: 50, slow: 10 } replayed without a single order (marginFraction undefined: every size NaN) and ended ok
  it('params that leave out keys the schema always gives (a default, a required key) throw naming them and what to pass', async () => {
    const { default: smaCross } = await import('../strategies/sma-cross.js');
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const run = (params: unknown) => () =>
      replay({ data, symbols: ['BTCUSDT'], strategy: smaCross, params: params as never, venue: zeroFeeVenue(), setups: [SETUPS.isolated], initialCapital: '1000', leverage: 5 });
    const WHAT = "replay() takes the output of the strategy's params schema — pass strategy.params.parse(yourParams), which applies the defaults and checks the values (docs/engine.md)";
    expect(run({ fast: 50, slow: 10 })).toThrow(`replay: params of strategy 'sma-cross' lack 'symbol' (default "BTCUSDT"), 'marginFraction' (default 0.5): ${WHAT}`);
    expect(run({})).toThrow("lack 'symbol' (default \"BTCUSDT\"), 'fast' (default 10), 'slow' (default 50), 'marginFraction' (default 0.5)");
    expect(run(undefined)).toThrow("replay: params of strategy 'sma-cross' lack 'symbol'");
    expect(run({ ...smaCross.params.parse({}), fast: undefined })).toThrow("lack 'fast' (default 10):");
    // the schema's output runs (twice over: parse is idempotent for it)
    expect(run(smaCross.params.parse({}))().setups[0]!.error).toBeUndefined();
    expect(run(smaCross.params.parse(smaCross.params.parse({ fast: 3 })))().setups[0]!.error).toBeUndefined();
    // a required key, an optional one (left out: fine), and a schema that is not an object of marginlab's zod (left alone)
    const mod = (schema: unknown): StrategyModule => ({ ...scripted({}, ['BTCUSDT']), name: 'own', params: schema as never });
    const own = (schema: unknown, params: unknown) => () =>
      replay({ data, symbols: ['BTCUSDT'], strategy: mod(schema), params: params as never, venue: zeroFeeVenue(), setups: [SETUPS.isolated], initialCapital: '1000', leverage: 5 });
    expect(own(z.object({ size: z.number(), note: z.string().optional() }), {})).toThrow("replay: params of strategy 'own' lack 'size' (required):");
    expect(own(z.object({ size: z.number(), note: z.string().optional() }), { size: 1 })().setups[0]!.error).toBeUndefined();
    expect(own(z.object({ size: z.number().default(1) }).transform((o) => ({ n: o.size })), {})().setups[0]!.error).toBeUndefined();
  });
});

describe("replay()'s execution options and setups", () => {
  // the config's enums and bounds: 'Pessimistic' ran the optimistic check under the name given, 'low_first' the
  // nearest-first path, a participation of −1 turned one buy into sells growing every bar, a made-up setup id ran
  it('a path, cross check, participation or setup the config would refuse throws naming the key and the value', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const mod = scripted({ 0: (c) => void c.buy(0, 1) }, ['BTCUSDT']);
    const run = (over: Record<string, unknown>) => () =>
      replay({ data, symbols: ['BTCUSDT'], strategy: mod, params: {}, venue: zeroFeeVenue(), setups: ISO, initialCapital: '1000', leverage: 5, ...over } as never);
    expect(run({ execution: { crossCheck: 'Pessimistic' } })).toThrow(`replay: execution.crossCheck must be one of 'pessimistic', 'optimistic', got "Pessimistic"`);
    expect(run({ execution: { crossCheck: 'pessimistic ' } })).toThrow('got "pessimistic "');
    expect(run({ execution: { intrabarPath: 'low_first' } })).toThrow(`replay: execution.intrabarPath must be one of 'nearest-first', 'high-first', 'low-first', got "low_first"`);
    for (const [part, shown] of [[{ maxFraction: -1 }, '-1'], [{ maxFraction: 0 }, '0'], [{ maxFraction: 1.5 }, '1.5'], [{}, '{}'], [0.5, '0.5']] as const) {
      expect(run({ execution: { participation: part } })).toThrow(`replay: execution.participation.maxFraction must be a fraction of the bar's volume in (0, 1], got ${shown}`);
    }
    expect(run({ setups: [{ id: 'bogus', defaultMode: 'cross' }] })).toThrow(`replay: setups[0].id must be one of 'isolated', 'cross', 'mixed', got "bogus"`);
    expect(run({ setups: [SETUPS.cross, { id: 'mixed', defaultMode: 'Cross' }] })).toThrow(`replay: setups[1].defaultMode must be one of 'isolated', 'cross', got "Cross"`);
    expect(run({ setups: [{ id: 'mixed', defaultMode: 'cross', perOrderMode: 1 }] })).toThrow('replay: setups[0].perOrderMode must be true or false, got 1');
    expect(run({ setups: [null] })).toThrow('replay: setups[0].id must be one of');
    expect(run({ execution: { slipageBps: 5 } })).toThrow(`replay: execution.slipageBps is not an execution option (did you mean 'slippageBps'?); they are slippageBps, participation, intrabarPath, crossCheck`);
    // what the config takes runs; a key given as undefined takes its default, as in the config
    for (const execution of [{ crossCheck: 'optimistic', intrabarPath: 'low-first', participation: { maxFraction: 1 } }, { participation: null }, {}, { intrabarPath: undefined, crossCheck: undefined, slippageBps: undefined, participation: undefined }]) {
      expect(run({ execution })().setups[0]!.error).toBeUndefined();
    }
  });
});

describe('an error inside a host call', () => {
  // setLeverage called at the bottom of a deep recursion overflowed inside the account: host() reported it as an
  // EngineInvariantError (an internal engine failure), and a strategy that caught it went on — its run ended ok
  // (the account here throws as the overflow did: where a real one happens depends on the stack)
  const throwing = (err: Error) => (p: Parameters<typeof createAccount>[0]) => {
    const a = createAccount(p);
    return new Proxy(a, {
      get(t, k) {
        if (k === 'setLeverage') return () => { throw err; };
        const v: unknown = Reflect.get(t, k, t);
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
      },
    });
  };
  const catching: StrategyModule = {
    name: 'catching',
    description: 'x',
    params: z.object({}),
    symbols: () => ['BTCUSDT'],
    create: () => ({
      onBar(c) {
        if (c.bar !== 1) return;
        try {
          c.setLeverage(0, 2);
        } catch {
          // swallowed
        }
      },
    }),
  };
  const replayWith = (err: Error) =>
    replay({ data: makeData({ BTCUSDT: { bars: flat(100, 4) } }), symbols: ['BTCUSDT'], strategy: catching, params: {}, venue: zeroFeeVenue(), setups: ISO, initialCapital: '1000', leverage: 5, execution: DEFAULT_EXECUTION, accountFactory: throwing(err) });
  it("a stack overflow is the strategy's error and ends the setup, even when the strategy caught it", () => {
    const s = replayWith(new RangeError('Maximum call stack size exceeded')).setups[0]!;
    expect(s.error).toBe('RangeError: Maximum call stack size exceeded');
    expect(s.errorAt).toMatchObject({ callback: 'onBar' });
    expect(s.series.equity.length).toBe(2);
  });
  it('any other is an engine failure that leaves replay(), even when the strategy caught it', () => {
    expect(() => replayWith(new TypeError('account bug'))).toThrow(/setup isolated: TypeError: account bug/);
  });
});
