/**
 * Prices and times an event on the intrabar path gets where floating point lands a hair off an exact value
 * (found by an independent decimal re-implementation of the rules): a stop, take-profit or limit met on the way
 * fills at its own price, and an event's stamp is open + floor(τ/3 × timeframe) of the exact τ.
 */
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { HOUR, T0, flat, makeData, run, scripted, type Bar, type Script } from './engine-fixtures.js';
import type { StrategyContext } from '../src/index.js';
import { getVenue } from '../src/venue/index.js';

type Ctx = StrategyContext;
const fills = (out: ReturnType<typeof run>, after: number) =>
  out.setups[0]!.events.filter((e) => e.type === 'fill' && e.time > after) as unknown as { price: number; time: number; fee: string }[];

describe('events on the intrabar path at exact values', () => {
  it('a stop, take-profit or limit met on the way fills at its own price (a stop at 15.81 filled at 15.809999999999999)', () => {
    const off: string[] = [];
    for (let k = 0; k < 300; k++) {
      const o = 18.3;
      const h = Math.round((19 + (k % 20) * 0.37) * 100) / 100;
      const l = Math.round((14 + ((k * 7) % 20) * 0.11) * 100) / 100;
      const c = 16.56;
      const lvl = Math.round((l + 0.01 + (((k * 13) % 97) / 97) * (Math.min(o, c) - l - 0.02)) * 100) / 100;
      const d = makeData({ ETHUSDT: { bars: [...flat(o, 2), [o, h, l, c], ...flat(c, 1)] as Bar[] } });
      for (const type of ['stop', 'limit', 'takeProfit'] as const) {
        const script: Script =
          type === 'stop'
            ? { 0: (x: Ctx) => void x.buy(0, 1), 1: (x: Ctx) => void x.order({ symbol: 0, qty: -1, type: 'stop', price: lvl }) }
            : type === 'limit'
              ? { 1: (x: Ctx) => void x.order({ symbol: 0, qty: 1, type: 'limit', price: lvl }) }
              : { 0: (x: Ctx) => void x.sell(0, 1), 1: (x: Ctx) => void x.order({ symbol: 0, qty: 1, type: 'takeProfit', price: lvl }) };
        const f = fills(run(d, scripted(script, ['ETHUSDT']), { setups: [SETUPS.cross], leverage: 2, capital: '100000' }), d.time[1]!);
        expect(f.length, `${type} ${lvl}`).toBe(1);
        if (f[0]!.price !== lvl) off.push(`${type} at ${lvl} filled at ${f[0]!.price}`);
      }
    }
    expect(off).toEqual([]);
  });

  it("the helper's case: a stop at 15.81 books the fee of 15.81 (1.49425844, not 1.49425843)", () => {
    const d = makeData({ ETHUSDT: { bars: [...flat(16.3, 2), [18.3, 21.72, 14.88, 16.56], ...flat(16, 1)] as Bar[] } });
    const out = run(d, scripted({ 0: (x: Ctx) => void x.buy(0, 189.027), 1: (x: Ctx) => void x.order({ symbol: 0, qty: -189.027, type: 'stop', price: 15.81 }) }, ['ETHUSDT']), {
      setups: [SETUPS.cross], leverage: 10, capital: '100000', venue: getVenue('binance-usdm'),
    });
    const f = fills(out, d.time[1]!);
    expect(f.map((x) => [x.price, x.fee])).toEqual([[15.81, '1.49425844']]);
  });

  it('an event at τ = 1.204 of an hour is stamped open + 1,444,800 ms (it was 1 ms early)', () => {
    const d = makeData({ BTCUSDT: { bars: [...flat(100, 1), [100, 104, 99, 103], ...flat(103, 1)] as Bar[] } });
    const f = fills(run(d, scripted({ 0: (x: Ctx) => void x.order({ symbol: 0, qty: -1, type: 'limit', price: 100.02 }) }, ['BTCUSDT']), { setups: [SETUPS.cross] }), T0);
    expect(f.map((x) => x.time - (T0 + HOUR))).toEqual([1_444_800]);
  });
});

/**
 * A liquidation threshold is a comparison with excess 0 on the exact books: a price exactly at the liquidation price
 * is liquidated, a fill leaving its pool at exactly 0 is refused. The closed form's double lands a few ulps either side
 * of the exact price (51 of 345 exact touches of an isolated long's liquidation price missed; 149 of 300 fills leaving
 * an isolated pool at excess 0 accepted).
 */
describe('liquidation thresholds on the exact books', () => {
  const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, tiers: { '*': [{ floor: 0, mmr: 0.004, maxLeverage: 125 }] } });
  const liqs = (out: ReturnType<typeof run>) => out.setups[0]!.events.filter((e) => e.type === 'liquidation') as unknown as { prices: number[]; time: number }[];
  // a long of 1 at 100 whose pool holds w (isolated: 10 of initial margin and a transfer of the rest) is liquidated at
  // L = (100 − w) / 0.996; a short of 1 at 100 at L = (100 + w) / 1.004
  const wallet = (side: 1 | -1, l: number) => (side > 0 ? new Decimal(100).minus(new Decimal(l).times('0.996')) : new Decimal(l).times('1.004').minus(100));
  const levels = (side: 1 | -1) => Array.from({ length: 120 }, (_, k) => Math.round(((side > 0 ? 80 : 110) + k * 0.07) * 100) / 100);

  for (const side of [1, -1] as const) {
    for (const where of ['the extreme', 'the open'] as const) {
      it(`an isolated ${side > 0 ? 'long' : 'short'} is liquidated when ${where === 'the open' ? where : side > 0 ? 'the low' : 'the high'} is exactly its liquidation price, not a cent before`, () => {
        const missed: string[] = [];
        for (const l of levels(side)) {
          const add = wallet(side, l).minus(10).toNumber();
          for (const [at, expectLiq] of [[l, true], [side > 0 ? l + 0.01 : l - 0.01, false]] as const) {
            const bar: Bar = where === 'the open' ? [at, Math.max(at, 100), Math.min(at, 100), at] : side > 0 ? [100, 100, at, 99] : [100, at, 100, 101];
            const d = makeData({ BTCUSDT: { bars: [...flat(100, 3), bar, ...flat(100, 1)] } });
            const out = run(d, scripted({ 0: (x: Ctx) => void x.order({ symbol: 0, qty: side, type: 'market' }), 1: (x: Ctx) => void x.transferMargin(0, add) }, ['BTCUSDT']), {
              setups: [SETUPS.isolated], capital: '1000', venue,
            });
            const got = liqs(out);
            if ((got.length === 1) !== expectLiq) missed.push(`${at} (threshold ${l}): ${got.length} liquidations`);
            else if (expectLiq && got[0]!.prices[0] !== at) missed.push(`${at}: liquidated at ${got[0]!.prices[0]}`);
            // the record's margin ratio at the trigger: 1 or more (the doubles gave 0.9999999999999953 on the threshold)
            const ratio = out.setups[0]!.liquidations?.[0]?.marginRatio;
            if (expectLiq && !(ratio! >= 1)) missed.push(`${at}: recorded at a margin ratio of ${ratio}`);
          }
        }
        expect(missed).toEqual([]);
      });
    }
  }

  it('a single-leg cross pool is liquidated when the low is exactly its liquidation price', () => {
    const missed: string[] = [];
    for (const l of levels(1)) {
      const d = makeData({ BTCUSDT: { bars: [...flat(100, 2), [100, 100, l, 99], ...flat(99, 1)] } });
      const out = run(d, scripted({ 0: (x: Ctx) => void x.buy(0, 1) }, ['BTCUSDT']), { setups: [SETUPS.cross], capital: wallet(1, l).toFixed(), venue });
      if (liqs(out).length !== 1) missed.push(String(l));
    }
    expect(missed).toEqual([]);
  });

  it('a two-leg cross pool whose excess is exactly 0 at both lows is liquidated there', () => {
    const missed: string[] = [];
    for (const l of levels(1)) {
      // BTC long 1 at 100 and ETH long 1 at 50 down to l and 45: w + (l − 100) + (45 − 50) − 0.004 (l + 45) = 0
      const w = new Decimal(105).minus(new Decimal(l).times('0.996')).plus('0.18');
      const d = makeData({ BTCUSDT: { bars: [...flat(100, 2), [100, 100, l, 99], ...flat(99, 1)] }, ETHUSDT: { bars: [...flat(50, 2), [50, 50, 45, 49], ...flat(49, 1)] } });
      const out = run(d, scripted({ 0: (x: Ctx) => { x.buy(0, 1); x.buy(1, 1); } }, ['BTCUSDT', 'ETHUSDT']), { setups: [SETUPS.cross], capital: w.toFixed(), leverage: 20, venue });
      if (liqs(out).length !== 1) missed.push(String(l));
    }
    expect(missed).toEqual([]);
  });

  it('a fill leaving its isolated pool at exactly excess 0 at the mark is refused (immediateLiquidation), a cent of margin more is accepted', () => {
    const wrong: string[] = [];
    for (let k = 1; k <= 150; k++) {
      const l = Math.round((80 + k * 0.1) * 100) / 100;
      // initial margin w at leverage 100 ÷ w: the mark at l leaves excess w + (l − 100) − 0.004 l = 0
      const w = wallet(1, l);
      for (const [im, refused] of [[w, true], [w.plus('0.01'), false]] as const) {
        const d = makeData({ BTCUSDT: { bars: [...flat(100, 3)], mark: [[100, 100, 100, 100], [l, l, l, l], [100, 100, 100, 100]] } });
        const out = run(d, scripted({ 0: (x: Ctx) => { x.setLeverage(0, new Decimal(100).div(im).toNumber()); x.buy(0, 1); } }, ['BTCUSDT']), { setups: [SETUPS.isolated], capital: '1000', venue });
        const ev = out.setups[0]!.events;
        const rej = ev.some((e) => e.type === 'rejection' && (e as unknown as { reason: string }).reason === 'immediateLiquidation');
        if (rej !== refused) wrong.push(`${l} with ${im.toFixed()}: ${rej ? 'refused' : 'accepted'}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('a liquidation where the path crosses the liquidation price mid-segment records a margin ratio of at least 1 (0.99999999999996 for 15 of 41 of the bundled data\'s)', () => {
    const below: string[] = [];
    for (let k = 0; k < 200; k++) {
      const l = 80 + k * 0.0731;
      const add = wallet(1, Math.round(l * 100) / 100).minus(10).toNumber();
      // the low far below the threshold: the path crosses it between the open and the low, at an interpolated price
      const d = makeData({ BTCUSDT: { bars: [...flat(100, 3), [100, 100, 50 + (k % 7), 60], ...flat(60, 1)] } });
      const out = run(d, scripted({ 0: (x: Ctx) => void x.order({ symbol: 0, qty: 1, type: 'market' }), 1: (x: Ctx) => void x.transferMargin(0, add + (k % 13) * 0.00123) }, ['BTCUSDT']), {
        setups: [SETUPS.isolated, SETUPS.cross], capital: '1000', venue,
      });
      for (const so of out.setups) for (const r of so.liquidations ?? []) if (!(r.marginRatio >= 1)) below.push(`${so.setup.id} ${k}: ${r.marginRatio}`);
    }
    expect(below).toEqual([]);
  });

  it('a position whose basis notional sits on a floor of a continuous tier table never goes to the exact books far from its threshold (bybit: every bar did)', async () => {
    const { IsolatedPool, CrossPool } = await import('../src/account/pools.js');
    let calls = 0;
    const restore: (() => void)[] = [];
    for (const P of [IsolatedPool, CrossPool]) {
      const proto = P.prototype as unknown as { exactExcess: (m: Float64Array) => unknown };
      const orig = proto.exactExcess;
      proto.exactExcess = function (this: unknown, m: Float64Array) {
        calls++;
        return orig.call(this, m);
      };
      restore.push(() => (proto.exactExcess = orig));
    }
    try {
      // entry basis: 2 at 100 is a basis of 200, the second tier's floor, for as long as it is held; the table is
      // continuous there (cum by the recurrence), so the tier an ulp either side changes the maintenance by float noise
      const continuous = getVenue('bybit-linear', { fees: { maker: 0, taker: 0 }, tiers: { '*': [{ floor: 0, mmr: 0.005, maxLeverage: 100 }, { floor: 200, mmr: 0.01, maxLeverage: 50 }] } });
      const bars: Bar[] = Array.from({ length: 600 }, (_, i) => (i < 2 ? [100, 100, 100, 100] : [100 + (i % 7), 101 + (i % 7), 99 + (i % 7), 100 + (i % 5)]) as Bar);
      const d = makeData({ FOOUSDT: { bars }, BARUSDT: { bars } });
      const out = run(d, scripted({ 0: (x: Ctx) => { x.buy(0, 2); x.buy(1, 2); } }, ['FOOUSDT', 'BARUSDT']), { setups: [SETUPS.isolated, SETUPS.cross], capital: '10000', leverage: 5, venue: continuous });
      expect(out.setups.every((so) => (so.liquidations ?? []).length === 0)).toBe(true);
      expect(calls).toBe(0);
      // a table whose cum breaks the recurrence there: the exact books decide near the floor (and still no liquidation)
      const jumping = getVenue('bybit-linear', { fees: { maker: 0, taker: 0 }, tiers: { '*': [{ floor: 0, mmr: 0.005, maxLeverage: 100 }, { floor: 200, mmr: 0.01, cum: 0, maxLeverage: 50 }] } });
      run(d, scripted({ 0: (x: Ctx) => { x.buy(0, 2); x.buy(1, 2); } }, ['FOOUSDT', 'BARUSDT']), { setups: [SETUPS.isolated, SETUPS.cross], capital: '10000', leverage: 5, venue: jumping });
      expect(calls).toBeGreaterThan(0);
    } finally {
      for (const r of restore) r();
    }
  });
});
