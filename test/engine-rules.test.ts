/**
 * Engine rules found by an independent re-implementation of the spec and adversarial runs
 * (issue 9, "Right answers"): gap liquidation before fills, setLeverage rejections, leverage
 * changes of cross positions, one trigger path in every setup, closePosition's quantity rule,
 * rejections for unknown order types/modes, duplicate symbols, schema refinements, and no public
 * property of a history view reaching the future.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { booksImbalance, createAccount } from '../src/account/index.js';
import { replay, DEFAULT_EXECUTION, EngineInvariantError, SETUPS } from '../src/engine/index.js';
import type { AccountEvent } from '../src/account/types.js';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';
import { resolveConfig, type UserConfig } from '../src/config/index.js';
import { buildPlan, type PlanDataset, type StrategySource } from '../src/shard/plan.js';
import smaCross from '../strategies/sma-cross.js';
import pairs from '../strategies/pairs.js';
import coreSatellite from '../strategies/core-satellite.js';
import grid from '../strategies/grid.js';
import martingale from '../strategies/martingale.js';
import { flat, makeData, run, scripted, setupOf, zeroFeeVenue, HOUR, T0, type Bar } from './engine-fixtures.js';
import { getVenue } from '../src/venue/index.js';

const fills = (ev: readonly AccountEvent[]) => ev.filter((e) => e.type === 'fill');
const liqs = (ev: readonly AccountEvent[]) => ev.filter((e) => e.type === 'liquidation');
const rejections = (ev: readonly AccountEvent[]) => ev.filter((e) => e.type === 'rejection');

describe('gap liquidation before fills at the open (DESIGN §4.2)', () => {
  // 5 BTC long at 30 000 (notional 150 000, 20x: IM 7 500) on 10 000; the next open gaps 60 % down
  const gapBars = (): Bar[] => [...flat(30000, 2), [12000, 12000, 12000, 12000], ...flat(12000, 2)];

  for (const close of [true, false]) {
    it(`a long ${close ? 'ordered closed at the previous close' : 'held'} across a 60 % gap: liquidated at the open, wallet 0 (cross) / margin lost (isolated)`, () => {
      const data = makeData({ BTCUSDT: { bars: gapBars() } });
      const script: Record<number, (c: StrategyContext) => void> = { 0: (c) => c.buy(0, 5) };
      if (close) script[1] = (c) => void c.closePosition(0);
      const out = run(data, scripted(script, ['BTCUSDT']), { leverage: 20, capital: '10000', setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed] });
      for (const id of ['isolated', 'cross', 'mixed']) {
        const s = setupOf(out, id);
        expect(fills(s.events), id).toHaveLength(1); // the close order is cancelled by the liquidation
        const l = liqs(s.events);
        expect(l, id).toHaveLength(1);
        expect(l[0]).toMatchObject({ time: T0 + 2 * HOUR, prices: [12000], realizedPnl: '-90000' });
        expect(booksImbalance(s.books), id).toBe('0');
        expect(new Decimal(s.books.wallet).gte(0), id).toBe(true);
      }
      // cross: the whole wallet goes, the shortfall past bankruptcy is the insurance fund's
      expect(setupOf(out, 'cross').books).toMatchObject({ wallet: '0', insuranceDraws: '80000' });
      // isolated: the position loses exactly its margin (7 500); the rest of the wallet stays
      expect(setupOf(out, 'isolated').books).toMatchObject({ wallet: '2500', insuranceDraws: '82500' });
    });
  }

  it('a resting limit the open gapped past does not rescue a pool the open gapped through: the pool is liquidated first and the limit cancelled (docs/engine.md)', () => {
    // isolated 10x long of 1 at 30 000 (margin 3 000, liquidation ≈ 27 108); a buy limit at 28 000 rests from bar 1.
    // The open of bar 3 gaps to 26 300: filled first, the limit would have made the position 2 at 29 000 with
    // margin 5 800 (liquidation ≈ 26 206) and saved it; the gap liquidation comes first (DESIGN §4.2)
    const data = makeData({ BTCUSDT: { bars: [...flat(30000, 2), [29000, 29000, 29000, 29000], ...flat(26300, 2)] } });
    const script = { 0: (c: StrategyContext) => c.buy(0, 1), 1: (c: StrategyContext) => void c.order({ symbol: 0, qty: 1, type: 'limit', price: 28000 }) };
    const out = run(data, scripted(script, ['BTCUSDT']), { leverage: 10, capital: '10000', setups: [SETUPS.isolated, SETUPS.cross], venue: zeroFeeVenue() });
    const iso = setupOf(out, 'isolated');
    expect(fills(iso.events)).toHaveLength(1);
    expect(liqs(iso.events)).toHaveLength(1);
    expect(liqs(iso.events)[0]).toMatchObject({ time: T0 + 3 * HOUR, prices: [26300], realizedPnl: '-3700' });
    expect(iso.books).toMatchObject({ wallet: '7000', insuranceDraws: '700' });
    expect(booksImbalance(iso.books)).toBe('0');
    // cross (the whole 10 000 behind it) is not gapped through: the limit fills on the way, at its own price
    const cross = setupOf(out, 'cross');
    expect(liqs(cross.events)).toHaveLength(0);
    expect(fills(cross.events).map((f) => f.price)).toEqual([30000, 28000]);
  });

  it('a short gapped through (up) is liquidated before a market order that would increase it', () => {
    const data = makeData({ BTCUSDT: { bars: [...flat(30000, 2), [45000, 45000, 45000, 45000], ...flat(45000, 2)] } });
    const out = run(data, scripted({ 0: (c) => c.sell(0, 2), 1: (c) => c.sell(0, 1) }, ['BTCUSDT']), { leverage: 10, capital: '10000' });
    for (const s of out.setups) {
      expect(liqs(s.events)).toHaveLength(1);
      expect(fills(s.events)).toHaveLength(1);
      expect(new Decimal(s.books.wallet).gte(0)).toBe(true);
      expect(booksImbalance(s.books)).toBe('0');
    }
  });

  it('a market fill whose slippage carries it past the liquidation price liquidates the pool there instead', () => {
    // long 1 BTC at 30 000, 50x on 1 000 (IM 600): the liquidation price is about 29 530; the open 29 600 is
    // above it, but a close with 100 bp slippage would fill at 29 304, past bankruptcy (29 000 + …)
    const data = makeData({ BTCUSDT: { bars: [...flat(30000, 2), ...flat(29600, 3)] } });
    const out = run(data, scripted({ 0: (c) => c.buy(0, 1), 1: (c) => void c.closePosition(0) }, ['BTCUSDT']), {
      leverage: 50,
      capital: '1000',
      setups: [SETUPS.isolated],
      execution: { slippageBps: 100 },
    });
    const s = out.setups[0]!;
    expect(liqs(s.events)).toHaveLength(1);
    expect(fills(s.events)).toHaveLength(1);
    expect(new Decimal(s.books.wallet).gte(0)).toBe(true);
    expect(booksImbalance(s.books)).toBe('0');
  });

  it('a reducing fill past the threshold but short of bankruptcy books as it is: the mark, not the fill price, liquidates (same open, every setup)', () => {
    // flat into bar 1; its open fills a buy of 1 at 30 105 (35 bp) and a reduce-only sell at 29 895: −210 against
    // the 240.84 isolated margin at 125x (its liquidation price ≈ 29 984, bankruptcy 29 864.16) or the 300 cross
    // wallet. The trade path (the liquidation source) stays at 30 000, above the threshold: the sell books in every
    // setup. Before, a close priced past the threshold was turned into a liquidation (isolated lost its margin,
    // cross its whole wallet).
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const out = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.sell(0, 1, { reduceOnly: true })) }, ['BTCUSDT']), {
      leverage: 125,
      capital: '300',
      setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed],
      execution: { slippageBps: 35 },
      venue: zeroFeeVenue(),
    });
    for (const s of out.setups) {
      expect(fills(s.events), s.setup.id).toHaveLength(2);
      expect(liqs(s.events), s.setup.id).toHaveLength(0);
      expect(s.books, s.setup.id).toMatchObject({ wallet: '90', realizedPnl: '-210', insuranceDraws: '0' });
      expect(booksImbalance(s.books), s.setup.id).toBe('0');
    }
  });

  it('a reducing fill priced past bankruptcy (its close fee included) liquidates the pool at that price instead; the same fill books where the pool can pay', () => {
    // as above with a 0.2 % taker fee on 400: the buy pays 60.21 from the cross wallet; the sell at 29 895 leaves the
    // isolated pool 240.84 − 210 = 30.84, less than the 59.79 fee of that close: booked, the isolated position
    // would lose more than its margin. It is liquidated at 29 895 (penalty: the 30.84 left), the wallet keeping
    // 400 − 60.21 − 240.84. The cross pool (339.79 − 210 − 59.79 = 70 > 0) books the same sell.
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const venue = getVenue('binance-usdm', { fees: { maker: 0.002, taker: 0.002 } });
    const out = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.sell(0, 1, { reduceOnly: true })) }, ['BTCUSDT']), {
      leverage: 125,
      capital: '400',
      setups: [SETUPS.isolated, SETUPS.cross],
      execution: { slippageBps: 35 },
      venue,
    });
    const iso = setupOf(out, 'isolated');
    expect(fills(iso.events)).toHaveLength(1);
    expect(liqs(iso.events)).toHaveLength(1);
    expect(liqs(iso.events)[0]).toMatchObject({ time: T0 + HOUR, prices: [29895], realizedPnl: '-210', penalty: '30.84', insuranceDraw: '0' });
    expect(iso.books).toMatchObject({ wallet: '98.95', insuranceDraws: '0' });
    const cross = setupOf(out, 'cross');
    expect(fills(cross.events)).toHaveLength(2);
    expect(liqs(cross.events)).toHaveLength(0);
    expect(cross.books).toMatchObject({ wallet: '70', fees: '120' });
    for (const s of out.setups) expect(booksImbalance(s.books), s.setup.id).toBe('0');
  });

  it("a stop met on a trade wick the mark never followed, filling past bankruptcy: the pool is liquidated at the stop's price, its record giving the mark as the trigger and the ratio there", () => {
    // isolated long 1 at 30 000, 40x on 1 000 (margin 750, liquidation price ≈ 29 367, bankruptcy 29 250); bar 2's trade
    // candle wicks to 28 000, its mark candle stays at 30 000: the reduce-only stop at 29 000 fills past bankruptcy on
    // the trade path, so the pool is liquidated at 29 000 (the insurance fund pays 250). The record's trigger is the
    // liquidation source at that point (the mark, 30 000) and its ratio the pool's there (120 / 750): it gave the
    // stop's 29 000 and a ratio of 10 (1,000 %), above the bar's marginRatioPeak of 1
    const bars: Bar[] = [...flat(30000, 2), [30000, 30000, 28000, 30000], ...flat(30000, 2)];
    const data = makeData({ BTCUSDT: { bars, mark: flat(30000, 5) } });
    const strat = scripted({ 0: (c) => (c.buy(0, 1), c.order({ symbol: 0, qty: -1, type: 'stop', price: 29000, reduceOnly: true })) }, ['BTCUSDT']);
    const out = run(data, strat, { leverage: 40, capital: '1000', setups: [SETUPS.isolated] });
    const s = out.setups[0]!;
    expect(liqs(s.events)).toHaveLength(1);
    expect(liqs(s.events)[0]).toMatchObject({ time: T0 + 2 * HOUR + HOUR / 2, prices: [29000], realizedPnl: '-1000', insuranceDraw: '250' });
    const d = s.liquidations![0]!;
    expect(d.legs[0]!.triggerPrice).toBe(30000);
    expect(d.legs[0]!.liquidationPrice).toBeCloseTo(29367.47, 1);
    expect(d.marginRatio).toBeCloseTo(120 / 750, 12);
    // the bar's peak (at least 1 in a bar with a liquidation) is not below the record's ratio
    expect(s.series.marginRatioPeak[2]).toBe(1);
    expect(Math.max(...s.series.marginRatioPeak)).toBeGreaterThanOrEqual(d.marginRatio);
    expect(booksImbalance(s.books)).toBe('0');
  });

  it('a close judged solvent in doubles is booked only with room for the exact books: at 3.9e6 of isolated margin a close one unit past bankruptcy is liquidated', () => {
    // a marketable buy limit of 958.651 at 40 713.7, 10x, on exactly its initial margin plus the open fee (the cross
    // wallet ends at 0); the next trade open is 36 660.66033016508 while the mark stays at 0.97 × 40 713.7. In doubles
    // the close left its pool 1e-9 above its fee; booked exactly it lost its margin and 1e-8 more (wallet −0.00000001)
    const P = 40713.7;
    const F = 36660.66033016508;
    const flatBar = (p: number): Bar => [p, p, p, p];
    const venue = getVenue('binance-usdm', { tiers: { '*': [{ floor: 0, mmr: 0.005, maxLeverage: 125 }] } });
    const data = makeData({ BTCUSDT: { bars: [flatBar(P), flatBar(P), flatBar(F), flatBar(F)], mark: [flatBar(P), flatBar(P), flatBar(P * 0.97), flatBar(P * 0.97)] } });
    const out = run(data, scripted({ 0: (c) => void c.buy(0, 958.651, { type: 'limit', price: P }), 1: (c) => void c.closePosition(0) }, ['BTCUSDT']), {
      leverage: 10,
      capital: '3922538.03647935',
      setups: [SETUPS.isolated],
      venue,
    });
    const s = setupOf(out, 'isolated');
    expect(new Decimal(s.books.wallet).gte(0)).toBe(true);
    expect(s.books.insuranceDraws).toBe('0');
    expect(liqs(s.events)).toHaveLength(1);
    expect(booksImbalance(s.books)).toBe('0');
  });

  it('an order the account refuses without a price (a mode other than the open position\'s) never liquidates the pool at its price', () => {
    // mixed: a cross long of 0.33 at 30 000 (10x on 1 000); an isolated sell with 1 100 bp of slippage would fill at
    // 26 700, past the cross pool's bankruptcy, but the account refuses it (modeLocked) whatever its price
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const strat = scripted({ 0: (c) => void c.buy(0, 0.33, { mode: 'cross', type: 'limit', price: 30000 }), 1: (c) => void c.sell(0, 0.33, { mode: 'isolated' }) }, ['BTCUSDT']);
    for (const slippageBps of [0, 1100]) {
      const s = setupOf(run(data, strat, { leverage: 10, capital: '1000', setups: [SETUPS.mixed], execution: { slippageBps } }), 'mixed');
      expect(liqs(s.events), `${slippageBps} bp`).toHaveLength(0);
      expect(s.rejections, `${slippageBps} bp`).toEqual({ modeLocked: 1 });
      expect(s.events.find((e) => e.type === 'rejection')).toMatchObject({ message: 'BTCUSDT: the open position is cross; an isolated order cannot change it until it is closed' });
      expect(s.books.wallet).toBe('1000');
    }
  });

  it('a fill that would leave its pool past the threshold at the liquidation-source price is refused (immediateLiquidation), in every setup', () => {
    // a buy of 1 at 30 300 (100 bp) is worth 30 000 on the liquidation-source path at once: −300 against
    // 242.4 of isolated margin, or a 300 cross wallet, with 120 of maintenance. It used to fill and be
    // liquidated at that same open, the insurance fund making good 357.6 (isolated) or 300 (cross).
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const out = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.sell(0, 1, { reduceOnly: true })) }, ['BTCUSDT']), {
      leverage: 125,
      capital: '300',
      setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed],
      execution: { slippageBps: 100 },
      venue: zeroFeeVenue(),
    });
    for (const s of out.setups) {
      expect(fills(s.events), s.setup.id).toHaveLength(0);
      expect(liqs(s.events), s.setup.id).toHaveLength(0);
      const rej = s.events.filter((e) => e.type === 'rejection').map((e) => (e as { reason: string }).reason);
      expect(rej, s.setup.id).toEqual(['immediateLiquidation', 'reduceOnlyViolation']);
      expect(s.books, s.setup.id).toMatchObject({ wallet: '300', insuranceDraws: '0' });
    }
    // at 10x the same slippage is well inside the margin: it fills
    const low = run(data, scripted({ 0: (c) => void c.buy(0, 1) }, ['BTCUSDT']), {
      leverage: 10,
      capital: '4000',
      setups: [SETUPS.isolated, SETUPS.cross],
      execution: { slippageBps: 100 },
      venue: zeroFeeVenue(),
    });
    for (const s of low.setups) expect(fills(s.events), s.setup.id).toMatchObject([{ price: 30300, qty: 1 }]);
  });

  it('a buy at a trade open far above the mark open is refused, not booked and liquidated at the mark (a stress mark wick)', () => {
    // bar 1: trades open at 100, the mark opens at 85. A 10x buy of 10 at 100 has 100 of margin and is
    // worth −150 at the mark: it used to fill and be liquidated at 85 at once (insurance 50 isolated).
    const bars = flat(100, 4);
    const mark = flat(100, 4);
    mark[1] = [85, 100, 85, 100];
    const data = makeData({ BTCUSDT: { bars, mark } });
    const out = run(data, scripted({ 0: (c) => void c.buy(0, 10) }, ['BTCUSDT']), {
      leverage: 10,
      capital: '1000',
      setups: [SETUPS.isolated, SETUPS.cross],
      venue: zeroFeeVenue(),
    });
    const iso = setupOf(out, 'isolated');
    expect(fills(iso.events)).toHaveLength(0);
    expect(liqs(iso.events)).toHaveLength(0);
    expect(iso.events.find((e) => e.type === 'rejection')).toMatchObject({ reason: 'immediateLiquidation', time: T0 + HOUR });
    expect(iso.books).toMatchObject({ wallet: '1000', insuranceDraws: '0' });
    // the cross wallet (1000) covers the −150 at the mark: it fills and is not liquidated
    const cross = setupOf(out, 'cross');
    expect(fills(cross.events)).toMatchObject([{ price: 100, qty: 10 }]);
    expect(liqs(cross.events)).toHaveLength(0);
    // with the mark at the trade price it fills in both
    const same = run(makeData({ BTCUSDT: { bars, mark: flat(100, 4) } }), scripted({ 0: (c) => void c.buy(0, 10) }, ['BTCUSDT']), {
      leverage: 10,
      capital: '1000',
      setups: [SETUPS.isolated, SETUPS.cross],
      venue: zeroFeeVenue(),
    });
    for (const s of same.setups) expect(fills(s.events), s.setup.id).toHaveLength(1);
  });

  it('a resting limit the open gaps past fills at its price, judged where it traded, and the pool is then liquidated at the open (isolated); cross holds', () => {
    // a buy limit of 1 at 95 rests from bar 0 at 100; bar 2 opens at 80. It was judged at the open (80) after the fill
    // and refused (immediateLiquidation) under isolated only, so the dip-buy vanished there and filled under cross
    const bars: Bar[] = [...flat(100, 2), ...flat(80, 2)];
    const data = makeData({ BTCUSDT: { bars } });
    const out = run(data, scripted({ 0: (c) => void c.buy(0, 1, { type: 'limit', price: 95 }) }, ['BTCUSDT']), {
      leverage: 10,
      capital: '100',
      setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed],
      venue: zeroFeeVenue(),
    });
    for (const s of out.setups) {
      expect(fills(s.events), s.setup.id).toMatchObject([{ price: 95, qty: 1, time: T0 + 2 * HOUR }]);
      expect(s.rejections, s.setup.id).toEqual({});
      expect(booksImbalance(s.books), s.setup.id).toBe('0');
    }
    // isolated: 9.5 of margin, worth −15 at the open: liquidated there, the insurance fund paying the 5.5 past it
    const iso = setupOf(out, 'isolated');
    expect(liqs(iso.events)).toMatchObject([{ time: T0 + 2 * HOUR, prices: [80], realizedPnl: '-15', insuranceDraw: '5.5' }]);
    expect(iso.books).toMatchObject({ wallet: '90.5', insuranceDraws: '5.5' });
    // cross: the 100 wallet covers the −15
    expect(liqs(setupOf(out, 'cross').events)).toHaveLength(0);
    expect(setupOf(out, 'cross').books.wallet).toBe('100');
  });

  it("a multi-leg cross pool is judged after a fill where it is judged (the adverse-first path), not on each leg's own path", () => {
    // cross, 55 at 50x, long 1 BTC and 1 ETH at 100. Bar 2: BTC 100/101/60/100, ETH 100/101/91/100; a buy limit of
    // ETH at 99.5 fills on the way down. On the legs' own paths the pool holds at that point; on the adverse-first
    // path the pessimistic check reads (both legs at their lows together) it is past its threshold: the fill was
    // booked and the pool liquidated at once, the insurance fund paying (0.35 with 2 ETH, 7.35 with 3)
    for (const q of [2, 3]) {
      const A: Bar[] = [...flat(100, 2), [100, 101, 60, 100], ...flat(100, 2)];
      const B: Bar[] = [...flat(100, 2), [100, 101, 91, 100], ...flat(100, 2)];
      const data = makeData({ BTCUSDT: { bars: A }, ETHUSDT: { bars: B } });
      const out = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.buy(1, 1)), 1: (c) => void c.buy(1, q, { type: 'limit', price: 99.5 }) }, ['BTCUSDT', 'ETHUSDT']), {
        leverage: 50,
        capital: '55',
        setups: [SETUPS.cross],
      });
      const s = setupOf(out, 'cross');
      expect(s.events.find((e) => e.type === 'rejection'), `${q}`).toMatchObject({ reason: 'immediateLiquidation', symbol: 1 });
      expect(fills(s.events), `${q}`).toHaveLength(2);
      expect(s.books.insuranceDraws, `${q}`).toBe('0');
      expect(booksImbalance(s.books)).toBe('0');
    }
  });

  it('mixed: an isolated fill that would leave the cross pool it takes margin from past its threshold is refused too', () => {
    // cross legs: long 1 A and 1 B at 100 (50x, 55 of capital); bar 2 an isolated buy limit of C at 99.5 fills at
    // open + 10 min, its margin (≈ 50) taken from the cross wallet; on the adverse-first path the cross pool is then
    // past its threshold: it was liquidated at once at A 80 / B 95.5, the insurance fund paying 19.25
    const A: Bar[] = [...flat(100, 2), [100, 101, 60, 100], ...flat(100, 2)];
    const B: Bar[] = [...flat(100, 2), [100, 101, 91, 100], ...flat(100, 2)];
    const C: Bar[] = [...flat(100, 2), [100, 103, 99, 100], ...flat(100, 2)];
    const data = makeData({ AUSDT: { bars: A }, BUSDT: { bars: B }, CUSDT: { bars: C } });
    const out = run(
      data,
      scripted({ 0: (c) => (c.buy(0, 1), c.buy(1, 1)), 1: (c) => void c.buy(2, 25, { type: 'limit', price: 99.5, mode: 'isolated' }) }, ['AUSDT', 'BUSDT', 'CUSDT']),
      { leverage: 50, capital: '55', setups: [SETUPS.mixed] },
    );
    const s = setupOf(out, 'mixed');
    expect(s.events.find((e) => e.type === 'rejection')).toMatchObject({ reason: 'immediateLiquidation', symbol: 2 });
    expect(s.events.find((e) => e.type === 'rejection' && (e as { message: string }).message.includes('or the cross pool it draws on'))).toBeDefined();
    expect(fills(s.events)).toHaveLength(2);
    expect(s.books.insuranceDraws).toBe('0');
    expect(booksImbalance(s.books)).toBe('0');
  });

  it('a limit placed in onStart, with no close to judge it by, is judged at the first open (marketable: taker at the open)', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 3) } });
    const limitAt = (price: number): StrategyModule => ({
      ...scripted({}, ['BTCUSDT']),
      create: () => ({ onStart: (c) => void c.buy(0, 1, { type: 'limit', price }), onBar: () => {} }),
    });
    // at or better than the open: fills there as taker (it was filled at its own 200, maker, before)
    const taken = run(data, limitAt(200), { setups: [SETUPS.cross], venue: zeroFeeVenue() });
    expect(fills(setupOf(taken, 'cross').events)).toMatchObject([{ time: T0, price: 100, qty: 1 }]);
    // worse than the open: it rests and never fills on flat bars
    const rests = run(data, limitAt(90), { setups: [SETUPS.cross], venue: zeroFeeVenue() });
    expect(fills(setupOf(rests, 'cross').events)).toHaveLength(0);
  });

  it('a marketable limit on a symbol without candles yet arrives at its first candle: taker at that open, not maker at its own price', () => {
    // ETH lists at bar 3 (open 100); a buy limit at 200 placed at bar 0, 1 or 2 fills at 100
    const data = makeData({ BTCUSDT: { bars: flat(30000, 6) }, ETHUSDT: { bars: [null, null, null, ...flat(100, 3)] as unknown as Bar[] } });
    for (const at of [0, 1, 2]) {
      const out = run(data, scripted({ [at]: (c) => void c.buy(1, 1, { type: 'limit', price: 200 }) }, ['BTCUSDT', 'ETHUSDT']), { setups: [SETUPS.cross], venue: zeroFeeVenue() });
      expect(fills(setupOf(out, 'cross').events), `placed at bar ${at}`).toMatchObject([{ time: T0 + 3 * HOUR, price: 100, qty: 1 }]);
    }
  });

  it('property: across random gaps, slippage and orders, a wallet never ends negative and isolated losses stop at the margin', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -0.7, max: -0.2, noNaN: true }), fc.double({ min: -0.05, max: 0.05, noNaN: true }), fc.double({ min: 0.2, max: 0.7, noNaN: true })), { minLength: 4, maxLength: 12 }),
        // one to three orders per bar: an open and a close queued at the same close fill at the same open
        fc.array(fc.array(fc.record({ act: fc.constantFrom('buy', 'sell', 'close', 'close', 'stop', 'reduce'), qty: fc.integer({ min: 1, max: 20 }) }), { minLength: 1, maxLength: 3 }), {
          minLength: 4,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 125 }),
        fc.integer({ min: 0, max: 300 }),
        (moves, acts, leverage, slippageBps) => {
          const bars: Bar[] = [];
          let p = 1000;
          for (const mv of moves) {
            const o = p * (1 + mv);
            const c = o * (1 + mv / 4);
            bars.push([o, Math.max(o, c) * 1.01, Math.min(o, c) * 0.99, c]);
            p = c;
          }
          const data = makeData({ ETHUSDT: { bars } });
          const script: Record<number, (c: StrategyContext) => void> = {};
          acts.forEach((list, k) => {
            script[k] = (c) => {
              for (const a of list) {
                const qty = (a.qty / 20) * Math.max(1, Math.min(leverage, 75) / 5); // up to the leverage's worth of the capital
                if (a.act === 'buy') c.buy(0, qty);
                else if (a.act === 'sell') c.sell(0, qty);
                else if (a.act === 'close') c.closePosition(0);
                else if (a.act === 'reduce') c.order({ symbol: 0, qty: a.qty % 2 ? qty : -qty, reduceOnly: true });
                else if (c.position(0).qty !== 0) c.closePosition(0, { type: 'stop', price: c.close(0) * (c.position(0).qty > 0 ? 0.9 : 1.1) });
              }
            };
          });
          const out = run(data, scripted(script, ['ETHUSDT']), {
            leverage: Math.min(leverage, 75),
            capital: '1000',
            setups: [SETUPS.isolated, SETUPS.cross],
            execution: { slippageBps },
            venue: zeroFeeVenue(),
          });
          for (const s of out.setups) {
            expect(booksImbalance(s.books)).toBe('0');
            expect(new Decimal(s.books.wallet).gte(0), `${s.setup.id} wallet ${s.books.wallet}`).toBe(true);
            // isolated with zero fees: a liquidation never takes more than the pool's margin (penalty ≥ 0, the rest is the insurance fund's)
            for (const l of liqs(s.events)) expect(new Decimal((l as { penalty: string }).penalty).gte(0)).toBe(true);
          }
        },
      ),
      { numRuns: 150, seed: 9 },
    );
  });
});

describe('leverage changes', () => {
  it('a setLeverage rejection is recorded at the engine event time, never NaN', () => {
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const out = run(data, scripted({ 1: (c) => void c.setLeverage(0, 0.5), 2: (c) => void c.setLeverage(0, 1000) }, ['BTCUSDT']));
    for (const s of out.setups) {
      const r = rejections(s.events);
      expect(r.map((e) => e.time)).toEqual([T0 + 2 * HOUR, T0 + 3 * HOUR]);
      expect(r.every((e) => Number.isFinite(e.time))).toBe(true);
      expect(JSON.parse(JSON.stringify(r))[0].time).toBe(T0 + 2 * HOUR);
    }
  });

  it('raising the leverage of a cross position is allowed when the available balance is negative; lowering is refused', () => {
    // 1 BTC at 30 000, 10x cross on 3 100 (IM 3 000); the price falls to 29 000: available = 3 100 − 1 000 − 2 900 < 0
    const data = makeData({ BTCUSDT: { bars: [...flat(30000, 2), ...flat(29000, 4)] } });
    const results: boolean[] = [];
    const out = run(
      data,
      scripted({ 0: (c) => c.buy(0, 1), 2: (c) => results.push(c.setLeverage(0, 20)), 3: (c) => results.push(c.setLeverage(0, 5)) }, ['BTCUSDT']),
      { leverage: 10, capital: '3100', setups: [SETUPS.cross] },
    );
    expect(results).toEqual([true, false]);
    const r = rejections(out.setups[0]!.events);
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ reason: 'insufficientMargin', time: T0 + 4 * HOUR });
    expect((r[0] as { message: string }).message).toContain('lowering');
  });
});

describe('one trigger path in every setup (the pessimistic bound is for the liquidation check only)', () => {
  it('a bracket on a BTC long resolves the same way under isolated, cross and mixed when ETH is a second cross leg', () => {
    // bar 2 of BTC: open 100, high 104 (nearer), low 95: nearest-first meets the take-profit at 103 first;
    // adverse-first (the long's low first) would meet the stop at 96
    const btc: Bar[] = [...flat(100, 2), [100, 104, 95, 100], ...flat(100, 2)];
    const eth: Bar[] = [...flat(50, 2), [50, 51, 49, 50], ...flat(50, 2)];
    const data = makeData({ BTCUSDT: { bars: btc }, ETHUSDT: { bars: eth } });
    const strat = scripted(
      {
        0: (c) => {
          c.buy(0, 1);
          c.buy(1, 1);
        },
        1: (c) => {
          c.closePosition(0, { type: 'stop', price: 96 });
          c.closePosition(0, { type: 'takeProfit', price: 103 });
        },
      },
      ['BTCUSDT', 'ETHUSDT'],
    );
    const out = run(data, strat, { leverage: 5, capital: '100000', setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed] });
    const key = (ev: readonly AccountEvent[]) => fills(ev).map((f) => `${f.time}:${f.symbol}:${(f as { qty: number }).qty}@${(f as { price: number }).price}`);
    const iso = key(setupOf(out, 'isolated').events);
    expect(iso).toContain(`${T0 + 2 * HOUR + HOUR / 4}:0:-1@103`); // τ = 0.75 on the way to the high
    expect(key(setupOf(out, 'cross').events)).toEqual(iso);
    expect(key(setupOf(out, 'mixed').events)).toEqual(iso);
  });

  it('property: a strategy that is never liquidated gets identical fills under isolated, cross and mixed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.double({ min: -0.03, max: 0.03, noNaN: true }), fc.double({ min: -0.03, max: 0.03, noNaN: true })), { minLength: 6, maxLength: 20 }),
        fc.array(
          fc.record({
            sym: fc.integer({ min: 0, max: 1 }),
            side: fc.constantFrom(1, -1),
            type: fc.constantFrom('market', 'limit', 'stop', 'takeProfit'),
            off: fc.double({ min: 0.002, max: 0.03, noNaN: true }),
          }),
          { minLength: 3, maxLength: 15 },
        ),
        fc.constantFrom<'nearest-first' | 'high-first' | 'low-first'>('nearest-first', 'high-first', 'low-first'),
        (moves, orders, intrabarPath) => {
          const mk = (p0: number, k: 0 | 1): Bar[] => {
            let p = p0;
            return moves.map((m) => {
              const o = p;
              const c = o * (1 + m[k]);
              p = c;
              return [o, Math.max(o, c) * (1 + Math.abs(m[1 - k]!)), Math.min(o, c) * (1 - Math.abs(m[1 - k]!) / 2), c];
            });
          };
          const data = makeData({ BTCUSDT: { bars: mk(30000, 0) }, ETHUSDT: { bars: mk(2000, 1) } });
          const script: Record<number, (c: StrategyContext) => void> = {};
          orders.forEach((o, k) => {
            script[k] = (c) => {
              const px = c.close(o.sym);
              const qty = o.sym === 0 ? 0.01 : 0.1;
              if (o.type === 'market') c.order({ symbol: o.sym, qty: o.side * qty });
              else if (o.type === 'limit') c.order({ symbol: o.sym, qty: o.side * qty, type: 'limit', price: px * (1 - o.side * o.off) });
              else if (o.type === 'stop') c.order({ symbol: o.sym, qty: o.side * qty, type: 'stop', price: px * (1 + o.side * o.off) });
              else c.order({ symbol: o.sym, qty: o.side * qty, type: 'takeProfit', price: px * (1 - o.side * o.off) });
            };
          });
          const out = run(data, scripted(script, ['BTCUSDT', 'ETHUSDT']), {
            leverage: 5,
            capital: '1000000',
            setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed],
            execution: { intrabarPath },
          });
          const key = (ev: readonly AccountEvent[]) => fills(ev).map((f) => `${f.time}:${f.symbol}:${(f as { qty: number }).qty}@${(f as { price: number }).price}`);
          const iso = setupOf(out, 'isolated');
          for (const s of out.setups) expect(liqs(s.events)).toHaveLength(0);
          expect(key(setupOf(out, 'cross').events)).toEqual(key(iso.events));
          expect(key(setupOf(out, 'mixed').events)).toEqual(key(iso.events));
        },
      ),
      { numRuns: 40, seed: 19 },
    );
  });
});

describe('order rules', () => {
  it('closePosition ignores qty: whatever its value or sign, the whole position is closed', () => {
    const data = makeData({ BTCUSDT: { bars: flat(30000, 8) } });
    const out = run(
      data,
      scripted(
        {
          0: (c) => c.buy(0, 2),
          1: (c) => void c.order({ symbol: 0, qty: 5, closePosition: true }), // same sign as the position
          3: (c) => c.sell(0, 1),
          4: (c) => void c.order({ symbol: 0, qty: 0, closePosition: true }),
          6: (c) => void c.order({ symbol: 0, qty: -0.5, closePosition: true }), // flat: rejected
        },
        ['BTCUSDT'],
      ),
    );
    for (const s of out.setups) {
      expect(fills(s.events).map((f) => (f as { positionQty: number }).positionQty)).toEqual([2, 0, -1, 0]);
      expect(rejections(s.events).map((r) => (r as { reason: string }).reason)).toEqual(['noPosition']);
    }
  });

  it('an unknown order type or margin mode is a rejection with a reason code, not a stop or a TypeError', () => {
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const ids: number[] = [];
    const out = run(
      data,
      scripted(
        {
          0: (c) => {
            ids.push(c.order({ symbol: 0, qty: 1, type: 'stopLimit' as never, price: 31000 }));
            ids.push(c.order({ symbol: 0, qty: 1, mode: 'portfolio' as never }));
            ids.push(c.buy(0, 1, { mode: 'Cross' as never }));
          },
        },
        ['BTCUSDT'],
      ),
      { setups: [SETUPS.isolated, SETUPS.mixed] },
    );
    expect(ids).toEqual([-1, -1, -1, -1, -1, -1]);
    for (const s of out.setups) {
      expect(s.error).toBeUndefined();
      expect(fills(s.events)).toHaveLength(0);
      expect(s.rejections).toEqual({ invalidOrderType: 1, invalidMode: 2 });
      expect((rejections(s.events)[0] as { message: string }).message).toContain('"stopLimit"');
    }
  });

  it('an internal failure of the engine or account leaves replay() instead of passing for a strategy error', () => {
    const data = makeData({ BTCUSDT: { bars: flat(30000, 4) } });
    const params = {
      data,
      symbols: ['BTCUSDT'],
      strategy: scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']),
      params: {},
      venue: zeroFeeVenue(),
      setups: [SETUPS.cross],
      initialCapital: '100000',
      leverage: 10,
      accountFactory: (p: Parameters<typeof createAccount>[0]) => {
        const a = createAccount(p);
        // defined, not assigned: the account's prototype is frozen (a strategy must not change it for the later runs of
        // its worker), and an assignment cannot shadow a read-only inherited method
        Object.defineProperty(a, 'trade', {
          value: () => {
            throw new Error('internal: books out of balance');
          },
        });
        return a;
      },
    };
    expect(() => replay(params)).toThrow('internal: books out of balance');
    // as an EngineInvariantError naming the setup and the bar (the worker records its runs as internal failures: exit 70)
    let thrown: unknown;
    try {
      replay(params);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(EngineInvariantError);
    expect((thrown as Error).message).toBe('setup cross, bar 1: Error: internal: books out of balance');
    // the mark at the close (step 4) and an account call made for onBar (step 5) are engine failures too
    const throwing = (what: 'mark' | 'setLeverage') => (p: Parameters<typeof createAccount>[0]) => {
      const a = createAccount(p);
      Object.defineProperty(a, what, {
        value: () => {
          throw new TypeError(`internal: ${what} broke`);
        },
      });
      return a;
    };
    expect(() => replay({ ...params, accountFactory: throwing('mark') })).toThrow(EngineInvariantError);
    expect(() => replay({ ...params, strategy: scripted({ 1: (c) => void c.setLeverage(0, 5) }, ['BTCUSDT']), accountFactory: throwing('setLeverage') })).toThrow(
      /^setup cross: TypeError: internal: setLeverage broke$/,
    );
    // a strategy that throws an empty value is still an errored setup, with a message
    const empty = replay({ ...params, accountFactory: undefined, strategy: scripted({ 1: () => { throw ''; } }, ['BTCUSDT']) });
    expect(empty.setups[0]!.error).toBe('the strategy threw an empty value');
    // a strategy's own error still stops only its setup
    const out = replay({ ...params, accountFactory: undefined, strategy: scripted({ 1: () => { throw new Error('boom'); } }, ['BTCUSDT']) });
    expect(out.setups[0]!.error).toBe('Error: boom');
    // and says where: the callback, the engine's event time (bar 1's close), the strategy's own line (this file)
    expect(out.setups[0]!.errorAt).toEqual({ callback: 'onBar', time: T0 + 2 * HOUR, barOpen: T0 + HOUR, location: expect.stringMatching(/^test\/engine-rules\.test\.ts:\d+:\d+$/) });
    // a throw in onFill (bar 1's open fill of the order placed at bar 0), onStart, or with no stack
    const fillThrows: StrategyModule = { ...scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']), create: () => ({ onBar: (c) => { if (c.bar === 0) c.buy(0, 1); }, onFill: () => { throw new RangeError('in fill'); } }) };
    const f = replay({ ...params, accountFactory: undefined, strategy: fillThrows }).setups[0]!;
    expect([f.error, f.errorAt?.callback, f.errorAt?.time]).toEqual(['RangeError: in fill', 'onFill', T0 + HOUR]);
    const startThrows: StrategyModule = { ...fillThrows, create: () => ({ onStart: () => { throw new Error('no start'); }, onBar: () => {} }) };
    expect(replay({ ...params, accountFactory: undefined, strategy: startThrows }).setups[0]!.errorAt).toMatchObject({ callback: 'onStart', time: T0 });
    expect(empty.setups[0]!.errorAt).toEqual({ callback: 'onBar', time: T0 + 2 * HOUR, barOpen: T0 + HOUR, location: null });
  });

  it('replay() refuses a symbol listed twice', () => {
    const data = makeData({ BTCUSDT: { bars: flat(30000, 3) } });
    expect(() =>
      replay({
        data,
        symbols: ['BTCUSDT', 'BTCUSDT'],
        strategy: scripted({}, ['BTCUSDT', 'BTCUSDT']),
        params: {},
        venue: zeroFeeVenue(),
        setups: [SETUPS.cross],
        initialCapital: '1000',
        leverage: 10,
        execution: DEFAULT_EXECUTION,
      }),
    ).toThrow(/listed twice/);
  });
});

describe('plan-time checks (exit 78)', () => {
  const ds: PlanDataset = { key: 'd0', name: 'fx', timeframe: '1h', symbols: ['BTCUSDT', 'ETHUSDT'], bars: 1000, hashes: {} };
  const dup: StrategyModule = { ...scripted({}, []), name: 'dup', params: z.object({ a: z.string().default('BTCUSDT') }), symbols: (p: { a: string }) => [p.a, 'ETHUSDT', p.a] } as unknown as StrategyModule;
  const modules: Record<string, StrategyModule> = {
    dup,
    'sma-cross': smaCross as unknown as StrategyModule,
    pairs: pairs as unknown as StrategyModule,
    'core-satellite': coreSatellite as unknown as StrategyModule,
    grid: grid as unknown as StrategyModule,
    martingale: martingale as unknown as StrategyModule,
  };
  const source: StrategySource = { load: async (n) => modules[n]!, list: async () => Object.keys(modules) };
  const plan = async (strategies: UserConfig['strategies']) =>
    buildPlan(await resolveConfig({ name: 'p', data: 'x', strategies } as UserConfig, { configDir: '/x' }), [ds], source, 'E1');

  it('symbols() returning a symbol twice is a config error naming it', async () => {
    await expect(plan(['dup'])).rejects.toMatchObject({ exitCode: 78, details: [expect.stringContaining('lists BTCUSDT twice')] });
    await expect(plan([{ name: 'pairs', params: { long: 'BTCUSDT', short: 'BTCUSDT' } }])).rejects.toMatchObject({ exitCode: 78 });
  });

  it('parameter constraints of the library strategies are schema refinements, rejected at plan time', async () => {
    await expect(plan([{ name: 'sma-cross', params: { fast: 50, slow: 10 } }])).rejects.toMatchObject({
      exitCode: 78,
      details: [expect.stringMatching(/strategies\[0\]\.params.*fast must be below slow/)],
    });
    await expect(plan([{ name: 'sma-cross', grid: { fast: [5, 60] } }])).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/grid.*fast must be below slow/)] });
    await expect(plan([{ name: 'pairs', params: { entryZ: 1, exitZ: 1.5 } }])).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/exitZ must be below entryZ/)] });
    await expect(plan([{ name: 'sma-cross', params: { fast: 5, slow: 20 } }])).resolves.toBeDefined();
    // core-satellite's satellite EMAs are fast/slow too; grid's lowest buy level and martingale's add step must be prices
    const ds4: PlanDataset = { ...ds, symbols: ['BTCUSDT', 'ETHUSDT', 'XRPUSDT', 'ADAUSDT'] };
    const plan4 = async (strategies: UserConfig['strategies']) => buildPlan(await resolveConfig({ name: 'p', data: 'x', strategies } as UserConfig, { configDir: '/x' }), [ds4], source, 'E1');
    await expect(plan4([{ name: 'core-satellite', grid: { fast: [12, 60] } }])).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^strategies\[0\]\.grid\.fast: fast must be below slow/)] });
    await expect(plan4([{ name: 'grid', params: { levels: 5, stepPct: 0.2 } }])).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^strategies\[0\]\.params\.stepPct: levels × stepPct must be below 1/)] });
    await expect(plan4([{ name: 'martingale', params: { stepPct: 1 } }])).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^strategies\[0\]\.params\.stepPct: expected a number < 1, got 1$/)] });
    await expect(plan4(['core-satellite', 'grid', 'martingale'])).resolves.toBeDefined();
  });
});

describe('history views do not reach the future', () => {
  it('no property reachable from the context holds a price array or the cursor', () => {
    const data = makeData({ BTCUSDT: { bars: flat(30000, 5) }, ETHUSDT: { bars: flat(2000, 5) } });
    const found: string[] = [];
    const walk = (v: unknown, path: string, seen: Set<unknown>, depth: number) => {
      if (v === null || (typeof v !== 'object' && typeof v !== 'function') || seen.has(v) || depth > 8) return;
      seen.add(v);
      if (ArrayBuffer.isView(v)) {
        found.push(path);
        return;
      }
      if (typeof v === 'object' && 'i' in (v as object) && Object.keys(v as object).length === 1) found.push(`${path} (cursor)`);
      for (const k of Reflect.ownKeys(v as object)) {
        if (typeof v === 'function' && (k === 'caller' || k === 'arguments')) continue;
        const d = Object.getOwnPropertyDescriptor(v as object, k);
        if (d && 'value' in d) walk(d.value, `${path}.${String(k)}`, seen, depth + 1);
      }
    };
    const strat = scripted(
      {
        1: (c) => {
          walk(c, 'ctx', new Set(), 0);
          expect((c.data[0]!.close as unknown as { arr?: unknown }).arr).toBeUndefined();
          expect((c as unknown as { h?: unknown; closes?: unknown }).h).toBeUndefined();
          expect((c as unknown as { closes?: unknown }).closes).toBeUndefined();
        },
      },
      ['BTCUSDT', 'ETHUSDT'],
    );
    const out = run(data, strat, { setups: [SETUPS.cross] });
    expect(out.setups[0]!.error).toBeUndefined();
    expect(found).toEqual([]);
  });
});

describe('a cross leg opened at the open walks the path of a leg held into it', () => {
  // BTC short 5 at 100 and ETH short 1 at 100 in one cross pool of 60; bar 3 of BTC: open 100, low 97 (nearer, so the trade
  // path goes low first), high 112, close 105. The pessimistic check takes the legs adverse-first: BTC's high first.
  const data = () =>
    makeData({
      BTCUSDT: { bars: [...flat(100, 2), [100, 100, 99, 99], [100, 112, 97, 105], ...flat(105, 1)] as Bar[] },
      ETHUSDT: { bars: flat(100, 5) },
    });
  const stopLoss = { symbol: 0, qty: 5, type: 'stop' as const, price: 105, reduceOnly: true };
  const cases: Record<string, Record<number, (x: StrategyContext) => void>> = {
    'held into the open': { 0: (x) => { x.sell(0, 5); x.sell(1, 1); }, 2: (x) => void x.order(stopLoss) },
    'closed and re-opened at the open': {
      0: (x) => { x.sell(0, 5); x.sell(1, 1); },
      2: (x) => { x.order({ symbol: 0, qty: 5, type: 'stop', price: 99, closePosition: true }); x.order({ symbol: 0, qty: -5, type: 'limit', price: 99 }); x.order(stopLoss); },
    },
    'opened at the open by a marketable limit': { 0: (x) => void x.sell(1, 1), 2: (x) => { x.order({ symbol: 0, qty: -5, type: 'limit', price: 99 }); x.order(stopLoss); } },
  };
  it('is liquidated at the same point, before its stop-loss fills, however it came to be held at the open', () => {
    const seen: Record<string, string> = {};
    for (const [name, script] of Object.entries(cases)) {
      const out = run(data(), scripted(script, ['BTCUSDT', 'ETHUSDT']), { setups: [SETUPS.cross], capital: '60', leverage: 10 });
      const ev = out.setups[0]!.events.filter((e) => e.time >= T0 + 3 * HOUR && !(e.type === 'fill' && e.time === T0 + 3 * HOUR));
      seen[name] = ev.map((e) => (e.type === 'liquidation' ? `liquidation at ${e.time - T0 - 3 * HOUR} ms ${(e as unknown as { prices: number[] }).prices.join(',')}` : e.type)).join(' | ');
    }
    expect(seen['held into the open']).toMatch(/^liquidation at \d+ ms 111\.47/);
    expect(seen).toEqual({ 'held into the open': seen['held into the open'], 'closed and re-opened at the open': seen['held into the open'], 'opened at the open by a marketable limit': seen['held into the open'] });
  });
});
