/**
 * Quantity grid (lot sizes): venue tables and the default rule, orders rounded down to the step in
 * the engine, the account snapping to the grid, and no position ever left below one step (so no
 * liquidation can hit floating-point dust).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAccount, booksImbalance } from '../src/account/index.js';
import { getVenue, LotGrid, defaultStep } from '../src/venue/index.js';
import { UserError } from '../src/errors.js';
import type { StrategyModule } from '../src/strategy/types.js';
import { z } from 'zod';
import { flat, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';

const T2025 = Date.parse('2025-01-01');

describe('venue lot sizes', () => {
  it('tabulates the Binance filters of the bundled symbols and derives others from the price', () => {
    const v = getVenue('binance-usdm');
    expect(v.lotSize!('BTCUSDT')).toMatchObject({ step: 0.001, minQty: 0.001, tick: 0.1 });
    expect(v.lotSize!('BTC/USDT:USDT')).toMatchObject({ step: 0.001 });
    expect(v.lotSize!('ETHUSDT')).toMatchObject({ step: 0.001, tick: 0.01 });
    expect(v.lotSize!('XRPUSDT')).toMatchObject({ step: 0.1, tick: 0.0001 });
    expect(v.lotSize!('ADAUSDT')).toMatchObject({ step: 1 });
    // default rule: one step worth 0.01–0.1 quote at the reference price
    expect(v.lotSize!('FOOUSDT', 60_000).step).toBe(1e-6);
    expect(v.lotSize!('FOOUSDT', 0.6).step).toBe(0.1);
    expect(v.lotSize!('FOOUSDT', 0.05).step).toBe(1);
    expect(v.lotSize!('FOOUSDT').step).toBe(1e-8);
    for (const price of [1e-6, 0.0123, 1, 7.5, 99.99, 100, 3000, 1e5, 5e7]) {
      const step = defaultStep(price);
      const value = step * price;
      if (step > 1e-8 && step < 1000) {
        expect(value).toBeGreaterThan(0.01 - 1e-15);
        expect(value).toBeLessThanOrEqual(0.1 + 1e-15);
      }
    }
    expect(getVenue('hyperliquid').lotSize!('BTCUSDT').step).toBe(0.00001);
  });

  it('custom venues override steps per symbol and the default; bad values are configuration errors', () => {
    const v = getVenue('binance-usdm', { lotSizes: { BTCUSDT: 0.01, '*': { step: 0.5, minQty: 1 } } });
    expect(v.lotSize!('BTCUSDT').step).toBe(0.01);
    expect(v.lotSize!('ETHUSDT').step).toBe(0.001); // table entry still wins over '*'
    expect(v.lotSize!('FOOUSDT', 10)).toMatchObject({ step: 0.5, minQty: 1 });
    const bad = (o: unknown) => () => getVenue('binance-usdm', { lotSizes: o as Record<string, number> });
    expect(bad({ BTCUSDT: 0 })).toThrow(UserError);
    expect(bad({ BTCUSDT: 0 })).toThrow(/lotSizes\.BTCUSDT: step/);
    expect(bad({ BTCUSDT: { step: 0.1, minQty: 0.01 } })).toThrow(/minQty/);
    expect(bad({ BTCUSDT: { step: 0.1, lot: 1 } })).toThrow(/unknown key "lot"/);
    expect(bad([1])).toThrow(/lotSizes/);
  });

  it('LotGrid: round down / nearest with float tolerance, quantities as the closest double', () => {
    const g = new LotGrid(0.1);
    expect(g.lots(0.1 + 0.2, 'down')).toBe(3);
    expect(g.lots(0.3, 'down')).toBe(3);
    expect(g.lots(0.29999, 'down')).toBe(2);
    expect(g.lots(-0.36, 'nearest')).toBe(-4);
    expect(g.lots(-0.34, 'nearest')).toBe(-3);
    expect(g.lots(0.04, 'nearest')).toBe(0);
    expect(g.qty(3)).toBe(0.3);
    expect(new LotGrid(0.001).qty(667)).toBe(0.667);
    expect(new LotGrid(5).floor(12.3)).toBe(10);
  });

  // found by test/engine-barstep-model.test.ts: selling 21645.207 ETHUSDT at step 0.001 filled 21645.206 — the quotient
  // 21645.207 / 0.001 is 21645206.999999996 in doubles, 4e-9 of a step below the grid point, past the 1e-9 tolerance
  it('property: a grid point\'s quantity rounds down to exactly that point at any size (both signs)', () => {
    expect(new LotGrid(0.001).lots(-21645.207, 'down')).toBe(-21645207);
    expect(new LotGrid(0.001).floor(21645.207)).toBe(21645.207);
    fc.assert(
      fc.property(fc.constantFrom(0.001, 0.01, 0.1, 1e-8, 0.003, 2.5e-7, 1, 1000), fc.integer({ min: 1, max: 2 ** 40 }), fc.boolean(), (step, l, neg) => {
        const g = new LotGrid(step);
        const q = neg ? -g.qty(l) : g.qty(l);
        expect(g.lots(q, 'down')).toBe(neg ? -l : l);
        expect(g.lots(q, 'nearest')).toBe(neg ? -l : l);
      }),
      { numRuns: 3000, seed: 7 },
    );
  });
});

describe('account on the quantity grid', () => {
  const acct = (symbols = ['XRPUSDT', 'BTCUSDT']) =>
    createAccount({ venue: getVenue('binance-usdm'), symbols, initialDeposit: '10000', defaultMode: 'isolated', leverage: 10, asOfMs: T2025 });

  it('buy 0.1 + 0.2 then sell 0.3 is flat, with exact books', () => {
    const a = acct();
    a.trade({ symbol: 0, qty: 0.1, price: 0.5, liquidity: 'taker', time: 1 });
    a.trade({ symbol: 0, qty: 0.2, price: 0.6, liquidity: 'taker', time: 2 });
    expect(a.positionQty(0)).toBe(0.3);
    const f = a.trade({ symbol: 0, qty: -(0.1 + 0.2), price: 0.7, liquidity: 'taker', time: 3 });
    expect(f).toMatchObject({ ok: true, positionQty: 0 });
    expect(a.positionQty(0)).toBe(0);
    expect(a.positionMode(0)).toBeNull();
    expect(a.pools()).toHaveLength(0);
    expect(a.isolatedWallet(0)).toBe(0);
    expect(booksImbalance(a.books())).toBe('0');
    // realised: 0.1 × 0.2 + 0.2 × 0.1 = 0.04 exactly
    expect(a.books().realizedPnl).toBe('0.04');
  });

  it('within half a step of a grid point is that point; below half a step is rejected, not thrown', () => {
    const a = acct();
    expect(a.trade({ symbol: 1, qty: 0.0674, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true, qty: 0.067 });
    expect(a.trade({ symbol: 1, qty: -0.0670000000001, price: 30000, liquidity: 'taker', time: 2 })).toMatchObject({ ok: true, positionQty: 0 });
    expect(a.trade({ symbol: 1, qty: 0.0004, price: 30000, liquidity: 'taker', time: 3 })).toMatchObject({ ok: false, reason: 'invalidQuantity' });
  });

  it('an order or a position beyond 2^52 steps is refused invalidQuantity: no step is lost from the position, every quantity prints exactly', () => {
    // step 1e-8, 1e12 base units = 1e20 steps: one step more was lost (1e20 + 1 = 1e20 in a double),
    // so buy 1e12, buy 1e-8, sell 1e12 ended flat with the 1e-8 bought gone and realised PnL −0.00000001
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, tiers: { '*': [{ floor: 0, mmr: 0.001, maxLeverage: 125 }] } });
    const a = createAccount({ venue, symbols: ['AUSDT'], initialDeposit: '1000000000000000', defaultMode: 'cross', leverage: 1, asOfMs: T2025, lotSizes: [{ step: 1e-8, minQty: 1e-8, tick: NaN, source: 'test' }] });
    const big = a.trade({ symbol: 0, qty: 1e12, price: 1, liquidity: 'taker', time: 1 });
    expect(big).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    expect(big.ok === false && big.message).toMatch(/counts more than 4503599627370495 quantity steps of 1e-8, the most a position can hold exactly/);
    // the largest position that fits (2^52 − 1 steps), then one step more
    expect(a.trade({ symbol: 0, qty: 45035996.27370495, price: 1, liquidity: 'taker', time: 2 })).toMatchObject({ ok: true, positionQty: 45035996.27370495 });
    expect(String(a.positionQty(0))).toBe('45035996.27370495');
    expect(a.trade({ symbol: 0, qty: 1e-8, price: 1, liquidity: 'taker', time: 3 })).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    // a reduce-only order larger than that is shrunk to the position (Binance) and closes it
    expect(a.trade({ symbol: 0, qty: -1e12, price: 1, liquidity: 'taker', time: 4, reduceOnly: true })).toMatchObject({ ok: true, positionQty: 0 });
    expect(a.books()).toMatchObject({ realizedPnl: '0', wallet: '1000000000000000' });
    // a flip is held to the same bound on the position it leaves
    a.trade({ symbol: 0, qty: 45035996.27370495, price: 1, liquidity: 'taker', time: 5 });
    expect(a.trade({ symbol: 0, qty: -2 * 45035996.27370495 - 1e-8, price: 1, liquidity: 'taker', time: 6 })).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('near the bound, selling -positionQty closes the position (its quantity turns back into its steps exactly)', () => {
    // |q| ÷ 1e-8 is off by about a step at 4.5e15 steps: 45035996.27340493 read back as 4503599627340494 steps, so
    // the close flipped the position to one step short
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, tiers: { '*': [{ floor: 0, mmr: 0.001, maxLeverage: 125 }] } });
    for (const [step, qty] of [[1e-8, 45035996.27340493], [0.001, 4503599627340.485], [1000, 4503599627340384000], [1e-7, 450359962.7340493]] as const) {
      const a = createAccount({ venue, symbols: ['AUSDT'], initialDeposit: '1000000000000000000000000', defaultMode: 'cross', leverage: 1, asOfMs: T2025, lotSizes: [{ step, minQty: step, tick: NaN, source: 'test' }] });
      expect(a.trade({ symbol: 0, qty, price: 1e-9, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true, positionQty: qty });
      expect(a.trade({ symbol: 0, qty: -a.positionQty(0), price: 1e-9, liquidity: 'taker', time: 2 })).toMatchObject({ ok: true, positionQty: 0 });
    }
  });

  it('a step that is not a power of ten: quantities are the exact multiples, never float dust', () => {
    // 3 × 0.003 was 0.009000000000000001 and 3 × 0.3 was 0.8999999999999999 (lots × step as a float product)
    expect(new LotGrid(0.003).qty(3)).toBe(0.009);
    expect(new LotGrid(0.3).qty(3)).toBe(0.9);
    expect(new LotGrid(0.025).qty(7)).toBe(0.175);
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, lotSizes: { XRPUSDT: { step: 0.3 } } });
    const a = createAccount({ venue, symbols: ['XRPUSDT'], initialDeposit: '1000', defaultMode: 'cross', leverage: 1, asOfMs: T2025 });
    for (let i = 0; i < 3; i++) a.trade({ symbol: 0, qty: 0.3, price: 0.5, liquidity: 'taker', time: i });
    expect(a.positionQty(0)).toBe(0.9);
    expect(a.events.filter((e) => e.type === 'fill').map((e) => e.type === 'fill' && e.positionQty)).toEqual([0.3, 0.6, 0.9]);
  });

  it('property: after every trade of random float quantities |qty| is 0 or a whole number of steps ≥ one step', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), fc.double({ min: -3, max: 3, noNaN: true }), fc.double({ min: 0.9, max: 1.1, noNaN: true }), fc.boolean()), {
          minLength: 1,
          maxLength: 40,
        }),
        (ops) => {
          const a = createAccount({ venue: getVenue('binance-usdm'), symbols: ['XRPUSDT', 'ADAUSDT'], initialDeposit: '100000', defaultMode: 'cross', leverage: 5, asOfMs: T2025 });
          const steps = [0.1, 1];
          const held = [0, 0];
          for (const [s, q, px, reduce] of ops) {
            // quantities built by float arithmetic around the current position (the dust generator)
            const qty = reduce && held[s] !== 0 ? -held[s]! * 0.1 * 3 - held[s]! * 0.7 : q;
            a.trade({ symbol: s, qty, price: px, liquidity: 'taker', time: 0, reduceOnly: reduce && held[s] !== 0 });
            held[s] = a.positionQty(s);
            for (let k = 0; k < 2; k++) {
              const x = Math.abs(a.positionQty(k));
              const lots = x / steps[k]!;
              expect(x === 0 || x >= steps[k]!).toBe(true);
              expect(Math.abs(lots - Math.round(lots))).toBeLessThan(1e-9);
            }
          }
          expect(booksImbalance(a.books())).toBe('0');
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('engine orders on the quantity grid', () => {
  const ISO = [{ id: 'isolated' as const, defaultMode: 'isolated' as const }];

  it('a strategy that buys 0.1 + 0.2 and sells 0.3 ends flat', () => {
    const out = run(
      makeData({ XRPUSDT: { bars: flat(0.5, 6) } }),
      scripted({ 0: (c) => c.buy(0, 0.1), 1: (c) => c.buy(0, 0.2), 2: (c) => c.sell(0, 0.1 + 0.2) }, ['XRPUSDT']),
      { setups: ISO },
    );
    const s = setupOf(out, 'isolated');
    const fills = s.events.filter((e) => e.type === 'fill') as { positionQty: number; qty: number }[];
    expect(fills.map((f) => f.qty)).toEqual([0.1, 0.2, -0.3]);
    expect(fills.at(-1)!.positionQty).toBe(0);
    expect(s.series.grossNotional.at(-1)).toBe(0);
    expect(s.rejections).toEqual({});
  });

  it('orders are rounded down to the step; an order that rounds to 0 is an invalidQuantity rejection', () => {
    const out = run(
      makeData({ BTCUSDT: { bars: flat(30000, 5) } }),
      scripted({ 0: (c) => c.buy(0, 0.0679), 1: (c) => c.sell(0, 0.0009), 2: (c) => c.targetPosition(0, 0.0005) }, ['BTCUSDT']),
      { setups: ISO },
    );
    const s = setupOf(out, 'isolated');
    const fills = s.events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
    expect(fills.map((f) => f.qty)).toEqual([0.067, -0.067]);
    expect(s.rejections).toEqual({ invalidQuantity: 1 });
    expect(fills.at(-1)!.positionQty).toBe(0);
  });

  it('a large order on the grid fills its whole quantity (sell 21645.207 ETHUSDT at step 0.001 filled 21645.206)', () => {
    const out = run(
      makeData({ ETHUSDT: { bars: flat(2426.6, 4) } }),
      scripted({ 0: (c) => c.sell(0, 21645.207), 1: (c) => c.buy(0, 21645.207) }, ['ETHUSDT']),
      { setups: ISO, capital: '1000000000' },
    );
    const fills = setupOf(out, 'isolated').events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
    expect(fills.map((f) => [f.qty, f.positionQty])).toEqual([[-21645.207, -21645.207], [21645.207, 0]]);
  });

  it('a quantity whose step count overflows (Number.MAX_VALUE at step 0.001) is ordered as given and refused at execution like any size past 2^52 steps', () => {
    // its floor on the grid was Infinity: buy() placed an order of Infinity (refused at execution as "got Infinity"), and
    // targetPosition() ordered nothing and returned 0 ("already there": the difference Infinity floored to 0)
    expect(new LotGrid(0.001).floor(Number.MAX_VALUE)).toBe(Number.MAX_VALUE);
    expect(new LotGrid(0.001).floor(-Number.MAX_VALUE)).toBe(-Number.MAX_VALUE);
    expect(new LotGrid(0.001).floor(Number.POSITIVE_INFINITY)).toBe(0);
    const ret: number[] = [];
    const qtys: number[] = [];
    const out = run(
      makeData({ BTCUSDT: { bars: flat(30000, 5) } }),
      scripted({ 0: (c) => { ret.push(c.buy(0, Number.MAX_VALUE)); qtys.push(...c.openOrders(0).map((o) => o.qty)); }, 1: (c) => void ret.push(c.targetPosition(0, -Number.MAX_VALUE)) }, ['BTCUSDT']),
      { setups: ISO },
    );
    const s = setupOf(out, 'isolated');
    expect(ret).toEqual([1, 2]);
    expect(qtys).toEqual([Number.MAX_VALUE]);
    const rej = s.events.filter((e) => e.type === 'rejection') as unknown as { reason: string; message: string }[];
    expect(rej.map((r) => r.reason)).toEqual(['invalidQuantity', 'invalidQuantity']);
    for (const r of rej) expect(r.message).toMatch(/counts more than \d+ quantity steps of 0\.001, the most a position can hold exactly/);
  });

  it('minimum quantity: opening orders below it are rejected, reduce-only ones are not', () => {
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, lotSizes: { BTCUSDT: { step: 0.001, minQty: 0.01 } } });
    const out = run(
      makeData({ BTCUSDT: { bars: flat(30000, 5) } }),
      scripted({ 0: (c) => c.buy(0, 0.005), 1: (c) => c.buy(0, 0.012), 2: (c) => c.sell(0, 0.005, { reduceOnly: true }) }, ['BTCUSDT']),
      { setups: ISO, venue },
    );
    const s = setupOf(out, 'isolated');
    expect(s.rejections).toEqual({ invalidQuantity: 1 });
    expect((s.events.filter((e) => e.type === 'fill') as { positionQty: number }[]).map((f) => f.positionQty)).toEqual([0.012, 0.007]);
  });

  it('participation caps are on the grid and carry the rest', () => {
    const out = run(
      makeData({ XRPUSDT: { bars: flat(0.5, 6), volume: 10 } }),
      scripted({ 0: (c) => c.buy(0, 0.35) }, ['XRPUSDT']),
      { setups: ISO, execution: { participation: { maxFraction: 0.015 } } },
    );
    const fills = setupOf(out, 'isolated').events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
    expect(fills.map((f) => f.qty)).toEqual([0.1, 0.1, 0.1]);
    expect(fills.at(-1)!.positionQty).toBe(0.3);
  });

  it('property: random order sequences never leave |qty| in (0, step), so liquidations only hit whole positions', () => {
    const params = z.object({});
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            kind: fc.constantFrom('buy', 'sell', 'target', 'close', 'reduce', 'limit'),
            qty: fc.double({ min: 1e-4, max: 40, noNaN: true }),
            k: fc.double({ min: 0.05, max: 1.5, noNaN: true }),
          }),
          { minLength: 5, maxLength: 30 },
        ),
        fc.array(fc.double({ min: 0.3, max: 0.8, noNaN: true }), { minLength: 40, maxLength: 40 }),
        (ops, path) => {
          const bars: Bar[] = path.map((p, i) => {
            const o = i === 0 ? p : path[i - 1]!;
            return [o, Math.max(o, p) * 1.03, Math.min(o, p) * 0.97, p];
          });
          const strategy: StrategyModule = {
            name: 'random-orders',
            description: 'test',
            params,
            symbols: () => ['XRPUSDT'],
            create: () => ({
              onBar(ctx) {
                const op = ops[ctx.bar % ops.length]!;
                const pos = ctx.position(0).qty;
                switch (op.kind) {
                  case 'buy':
                    ctx.buy(0, op.qty);
                    break;
                  case 'sell':
                    ctx.sell(0, op.qty);
                    break;
                  case 'target':
                    ctx.targetPosition(0, (op.k - 0.7) * 30 + pos * 0.1 * 3);
                    break;
                  case 'close':
                    if (pos !== 0) ctx.closePosition(0);
                    break;
                  case 'reduce':
                    if (pos !== 0) ctx.order({ symbol: 0, qty: -pos * op.k * 0.3 * (1 / 0.3), reduceOnly: true });
                    break;
                  case 'limit':
                    ctx.buy(0, op.qty, { type: 'limit', price: ctx.close(0) * (1 - 0.02 * op.k) });
                    break;
                }
              },
            }),
          };
          const out = run(makeData({ XRPUSDT: { bars } }), strategy, { leverage: 50, capital: '20', venue: getVenue('binance-usdm') });
          for (const s of out.setups) {
            expect(s.error).toBeUndefined();
            let held = 0;
            for (const e of s.events) {
              if (e.type === 'fill') {
                held = e.positionQty;
                const a = Math.abs(held);
                expect(a === 0 || a >= 0.1).toBe(true);
                expect(Math.abs(a * 10 - Math.round(a * 10))).toBeLessThan(1e-9);
              } else if (e.type === 'liquidation') {
                expect(Math.abs(held)).toBeGreaterThanOrEqual(0.1);
                held = 0;
              }
            }
            expect(booksImbalance(s.books)).toBe('0');
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('a quantity exactly half a step past a grid point', () => {
  it('snaps away from zero by its shortest decimal, not by the float quotient (1.005 at 0.01 went to 1.00, 0.015 to 0.02)', () => {
    const g = new LotGrid(0.01);
    const snapped = (q: number) => g.qty(g.lots(q, 'nearest'));
    expect([0.005, 0.015, 0.025, 1.005, 1.015, 2.675, -1.005].map(snapped)).toEqual([0.01, 0.02, 0.03, 1.01, 1.02, 2.68, -1.01]);
    // a hair off the half is not a tie
    expect([1.00499999, 1.00500001, 0.0049999].map(snapped)).toEqual([1, 1.01, 0]);
    const g3 = new LotGrid(0.003);
    expect([0.0015, 1.0005, 1.0035].map((q) => g3.qty(g3.lots(q, 'nearest')))).toEqual([0.003, 1.002, 1.005]);
    // past 1e9 steps the quotient's float error outgrows a fixed window: 12345678.0005 at 0.001 went to 12345678.000
    const big = new LotGrid(0.001);
    expect(big.lots(12345678.0005, 'nearest')).toBe(12345678001);
    expect(new LotGrid(0.0001).lots(1234567.00005, 'nearest')).toBe(12345670001);
    // and the account books what it snapped: a trade of 1.005 at 0.01 is a position of 1.01
    const a = createAccount({ venue: getVenue('binance-usdm', { lotSizes: { FOOUSDT: 0.01 } }), symbols: ['FOOUSDT'], initialDeposit: '1000', defaultMode: 'cross', leverage: 10, asOfMs: Date.UTC(2025, 0, 1) });
    expect(a.trade({ symbol: 0, qty: 1.005, price: 100, liquidity: 'taker', time: 0 }).ok).toBe(true);
    expect(a.positionQty(0)).toBe(1.01);
  });
});
