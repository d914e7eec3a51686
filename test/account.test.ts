/** Unit tables for the account: trades, rejections, funding booking, transfers, liquidation, books. */
import { describe, expect, it } from 'vitest';
import { createAccount, booksImbalance, marginRatioOf, MARGIN_RATIO_CAP } from '../src/account/index.js';
import type { MarkSnapshot } from '../src/account/types.js';
import { getVenue } from '../src/venue/index.js';
import { FillLog } from '../src/account/fill-log.js';

const T2025 = Date.parse('2025-01-01T00:00:00Z');
const snap = (): MarkSnapshot => ({ equity: 0, marginBalance: 0, maintenanceMargin: 0, marginRatio: 0, initialMargin: 0, capitalAtRisk: 0, grossNotional: 0, available: 0 });

function acct(venue = 'binance-usdm', mode: 'isolated' | 'cross' = 'isolated', deposit = '10000', leverage = 10, overrides?: Parameters<typeof getVenue>[1]) {
  return createAccount({ venue: getVenue(venue, overrides), symbols: ['BTCUSDT', 'ETHUSDT'], initialDeposit: deposit, defaultMode: mode, leverage, asOfMs: T2025 });
}

describe('trades', () => {
  it('opens, increases (average entry), reduces, flips and closes with taker/maker fees', () => {
    const a = acct();
    const f1 = a.trade({ symbol: 0, qty: 0.1, price: 30000, liquidity: 'taker', time: 1 });
    expect(f1).toMatchObject({ ok: true, fee: '1.5', realizedPnl: '0', positionQty: 0.1, mode: 'isolated' });
    a.trade({ symbol: 0, qty: 0.1, price: 32000, liquidity: 'maker', time: 2 });
    expect(a.entryPrice(0)).toBe(31000);
    expect(a.isolatedWallet(0)).toBe(620); // 3000/10 + 3200/10
    const r = a.trade({ symbol: 0, qty: -0.05, price: 33000, liquidity: 'taker', time: 3 });
    expect(r).toMatchObject({ ok: true, realizedPnl: '100', positionQty: 0.15 });
    expect(a.isolatedWallet(0)).toBeCloseTo(465, 9);
    const flip = a.trade({ symbol: 0, qty: -0.25, price: 30000, liquidity: 'taker', time: 4 });
    expect(flip).toMatchObject({ ok: true, realizedPnl: '-150', positionQty: -0.1, mode: 'isolated' });
    expect(a.entryPrice(0)).toBe(30000);
    const c = a.trade({ symbol: 0, qty: 0.1, price: 29000, liquidity: 'taker', time: 5 });
    expect(c).toMatchObject({ ok: true, realizedPnl: '100', positionQty: 0 });
    expect(a.positionMode(0)).toBeNull();
    expect(a.pools()).toHaveLength(0);
    const b = a.books();
    expect(booksImbalance(b)).toBe('0');
    expect(b.realizedPnl).toBe('50');
    // fees: 1.5 + 0.64 (maker 0.02 %) + 0.825 + 3.75 + 1.45
    expect(b.fees).toBe('8.165');
    expect(b.wallet).toBe('10041.835');
  });

  it('rejects with reason codes and changes nothing', () => {
    const a = acct('binance-usdm', 'isolated', '1000', 20);
    expect(a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: false, reason: 'insufficientMargin' });
    expect(a.trade({ symbol: 0, qty: 0, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    expect(a.trade({ symbol: 0, qty: 1, price: -1, liquidity: 'taker', time: 1 })).toMatchObject({ ok: false, reason: 'invalidPrice' });
    expect(a.trade({ symbol: 5, qty: 1, price: 1, liquidity: 'taker', time: 1 })).toMatchObject({ ok: false, reason: 'symbolUnavailable' });
    expect(a.trade({ symbol: 0, qty: -0.01, price: 30000, liquidity: 'taker', time: 1, reduceOnly: true })).toMatchObject({ ok: false, reason: 'reduceOnlyViolation' });
    expect(a.trade({ symbol: 0, qty: 0.01, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    expect(a.trade({ symbol: 0, qty: 0.01, price: 30000, liquidity: 'taker', time: 1, mode: 'cross' })).toMatchObject({ ok: false, reason: 'modeLocked' });
    // reduce-only larger than the position is shrunk to a close (Binance)
    expect(a.trade({ symbol: 0, qty: -1, price: 30000, liquidity: 'taker', time: 2, reduceOnly: true })).toMatchObject({ ok: true, qty: -0.01, positionQty: 0 });
    expect(a.events.filter((e) => e.type === 'rejection').map((e) => (e as { reason: string }).reason)).toEqual([
      'insufficientMargin',
      'invalidQuantity',
      'invalidPrice',
      'symbolUnavailable',
      'reduceOnlyViolation',
      'modeLocked',
    ]);
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('every other rejection site: setLeverage, transferMargin, sub-step quantities, recordRejection', () => {
    const a = acct('binance-usdm', 'cross', '1000', 20);
    expect(a.setLeverage(7, 10)).toMatchObject({ ok: false, reason: 'symbolUnavailable', message: 'no symbol with index 7' });
    expect(a.setLeverage(0, 0.5)).toMatchObject({ ok: false, reason: 'invalidLeverage', message: 'leverage must be a number ≥ 1, got 0.5' });
    for (const bad of [0, -3, NaN, Infinity]) expect(a.setLeverage(0, bad)).toMatchObject({ ok: false, reason: 'invalidLeverage' });
    // BTCUSDT step 0.001: 0.0004 is below half a step
    expect(a.trade({ symbol: 0, qty: 0.0004, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({
      ok: false,
      reason: 'invalidQuantity',
      message: 'BTCUSDT: quantity 0.0004 is below half the quantity step 0.001',
    });
    // cross 0.5 BTC at 20x: IM 750 + fee 7.5 of 1000 → available 242.5; 10x would need IM 1500
    expect(a.trade({ symbol: 0, qty: 0.5, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    expect(a.setLeverage(0, 10)).toMatchObject({ ok: false, reason: 'insufficientMargin' });
    expect(a.leverage(0)).toBe(20);
    expect(a.setLeverage(0, 19)).toEqual({ ok: true }); // IM 789.47 ≤ 992.5
    expect(a.leverage(0)).toBe(19);
    expect(a.transferMargin(9, 10, 2)).toMatchObject({ ok: false, reason: 'symbolUnavailable' });
    expect(a.transferMargin(0, 10, 2)).toMatchObject({ ok: false, reason: 'noPosition', message: 'BTCUSDT: margin can only be moved for an open isolated position' });
    const b = acct('binance-usdm', 'isolated', '10000', 10);
    b.trade({ symbol: 0, qty: 0.1, price: 30000, liquidity: 'taker', time: 1 });
    expect(b.transferMargin(0, 0, 2)).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    expect(b.transferMargin(0, Number.NaN, 2)).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    expect(b.recordRejection(1, 'invalidPrice', 'ETHUSDT: no price', 3)).toEqual({ ok: false, reason: 'invalidPrice', message: 'ETHUSDT: no price' });
    expect(b.events.filter((e) => e.type === 'rejection')).toEqual([
      { type: 'rejection', time: 2, symbol: 0, reason: 'invalidQuantity', message: 'BTCUSDT: margin amount must be a non-zero number, got 0' },
      { type: 'rejection', time: 2, symbol: 0, reason: 'invalidQuantity', message: 'BTCUSDT: margin amount must be a non-zero number, got NaN' },
      { type: 'rejection', time: 3, symbol: 1, reason: 'invalidPrice', message: 'ETHUSDT: no price' },
    ]);
    expect(booksImbalance(a.books())).toBe('0');
    expect(booksImbalance(b.books())).toBe('0');
  });

  it('an open isolated position: raising its leverage is allowed, lowering it is refused leverageLocked (Binance −4161)', () => {
    const a = acct('binance-usdm', 'isolated', '10000', 10);
    expect(a.setLeverage(0, 5)).toEqual({ ok: true }); // flat: any leverage within the tier
    expect(a.trade({ symbol: 0, qty: 0.1, price: 30000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    const wallet = a.isolatedWallet(0);
    expect(a.setLeverage(0, 4, 7)).toMatchObject({ ok: false, reason: 'leverageLocked' });
    expect(a.leverage(0)).toBe(5);
    expect(a.setLeverage(0, 20)).toEqual({ ok: true });
    expect(a.isolatedWallet(0)).toBe(wallet); // the isolated wallet is not re-sized
    expect(a.setLeverage(0, 10)).toMatchObject({ ok: false, reason: 'leverageLocked' });
    expect(a.events.filter((e) => e.type === 'rejection').map((e) => e.time)).toEqual([7, Number.NaN]);
    // closed: lowering is allowed again
    expect(a.trade({ symbol: 0, qty: -0.1, price: 30000, liquidity: 'taker', time: 2 })).toMatchObject({ ok: true });
    expect(a.setLeverage(0, 3)).toEqual({ ok: true });
    expect(booksImbalance(a.books())).toBe('0');
  });

  // docs/margin.md, Trades: the available-balance check allows a shortfall below 1e-9 USDT (float mirrors)
  it('insufficientMargin: a shortfall of up to 1e-9 USDT passes, a larger one is refused', () => {
    const buy = (price: number) => {
      const a = createAccount({ venue: getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } }), symbols: ['AUSDT'], initialDeposit: '1', defaultMode: 'cross', leverage: 11, asOfMs: T2025 });
      return a.trade({ symbol: 0, qty: 1, price, liquidity: 'taker', time: 1 });
    };
    expect(buy(11.00000001)).toMatchObject({ ok: true }); // available 1 − 11.00000001 / 11 = −9.1e-10
    expect(buy(11.00000002)).toMatchObject({ ok: false, reason: 'insufficientMargin' }); // −1.8e-9
  });

  // docs/margin.md, setLeverage: lowering a cross position's leverage uses the fill's check, tolerance included
  it('lowering a cross leverage: a shortfall of up to 1e-9 USDT passes, a larger one is refused, as for a fill', () => {
    const lower = (price: number) => {
      const a = createAccount({ venue: getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } }), symbols: ['AUSDT'], initialDeposit: '1', defaultMode: 'cross', leverage: 12, asOfMs: T2025 });
      expect(a.trade({ symbol: 0, qty: 1, price, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
      return a.setLeverage(0, 11, 2);
    };
    expect(lower(11.00000001)).toEqual({ ok: true }); // available at 11x: 1 − 11.00000001 / 11 = −9.1e-10
    expect(lower(11.00000002)).toMatchObject({ ok: false, reason: 'insufficientMargin' }); // −1.8e-9
  });

  it('checks leverage against the tier at the resulting notional (BTCUSDT 2024-10: 125x up to 50k)', () => {
    const a = acct('binance-usdm', 'cross', '100000', 125);
    expect(a.trade({ symbol: 0, qty: 1, price: 40000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    expect(a.trade({ symbol: 0, qty: 1, price: 40000, liquidity: 'taker', time: 2 })).toMatchObject({ ok: false, reason: 'exceedsMaxLeverage' });
    expect(a.setLeverage(0, 126)).toMatchObject({ ok: false, reason: 'exceedsMaxLeverage' });
    expect(a.setLeverage(0, 100)).toEqual({ ok: true });
    // the refusal names the notional in the books' unit (1e-8), not the product's double (1.3 × 40000.3 = 52000.39000000001)
    const c = acct('binance-usdm', 'cross', '100000', 125);
    expect(c.trade({ symbol: 0, qty: 0.3, price: 40000.3, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    expect(c.trade({ symbol: 0, qty: 1, price: 40000.3, liquidity: 'taker', time: 2 })).toMatchObject({
      ok: false,
      reason: 'exceedsMaxLeverage',
      message: 'BTCUSDT: leverage 125x exceeds the 100x maximum of the tier at notional 52000.39',
    });
    expect(a.trade({ symbol: 0, qty: 1, price: 40000, liquidity: 'taker', time: 2 })).toMatchObject({ ok: true });
    // 2026-05 table: 150x up to 300k
    const b = createAccount({ venue: getVenue('binance-usdm'), symbols: ['BTCUSDT'], initialDeposit: '100000', defaultMode: 'cross', leverage: 150, asOfMs: Date.parse('2026-06-01') });
    expect(b.trade({ symbol: 0, qty: 5, price: 40000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
  });
});

describe('funding', () => {
  it('Binance books isolated funding into the isolated wallet, moving the liquidation price', () => {
    const a = acct();
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    const marks = new Float64Array([30000, 2000]);
    const lp0 = a.pools()[0]!.liquidationPrice(0, marks);
    expect(a.applyFunding(0, 0.001, 30000, 2)).toMatchObject({ received: '-30' });
    expect(a.isolatedWallet(0)).toBe(2970);
    expect(a.pools()[0]!.liquidationPrice(0, marks)).toBeGreaterThan(lp0);
    expect(a.applyFunding(1, 0.001, 2000, 2)).toBeNull();
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('Bybit takes isolated funding from the available balance first', () => {
    const a = acct('bybit-linear');
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    const cross0 = a.crossWalletBalance();
    a.applyFunding(0, 0.001, 30000, 2);
    expect(a.isolatedWallet(0)).toBe(3000);
    expect(a.crossWalletBalance()).toBeCloseTo(cross0 - 30, 9);
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('takes the available balance at its exact value, rounded once half-even: a sum ending on half a unit', () => {
    const a = acct('bybit-linear', 'isolated', '1000', 1, { fees: { maker: 0, taker: 0 } });
    expect(a.setLeverage(0, 32)).toEqual({ ok: true });
    a.trade({ symbol: 0, qty: 1, price: 100, liquidity: 'taker', time: 1, mode: 'cross' });
    a.trade({ symbol: 1, qty: 1, price: 10, liquidity: 'taker', time: 1 }); // isolated at 1×: its wallet 10, the cross wallet 990
    a.mark(Float64Array.from([100.00000048, 10]), snap());
    // available = 990 + 0.00000048 − 100.00000048 ÷ 32 = 986.875000465 exactly (98,687,500,046.5 units) → 986.87500046 (half-even: down)
    expect(a.availableUnits()).toBe(98_687_500_046n);
    a.applyFunding(1, 99, 10, 2); // the isolated ETH pays 990: 986.87500046 from the available balance, the rest from its wallet
    expect(a.crossWalletBalance()).toBe(3.12499954);
    expect(a.isolatedWallet(1)).toBe(6.87500046);
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('long pays and short receives (Fastback case: 1000 → 999 → 1000)', () => {
    const a = acct('binance-usdm', 'cross', '1000', 10, { fees: { maker: 0, taker: 0 } });
    a.trade({ symbol: 0, qty: 1, price: 100, liquidity: 'taker', time: 1 });
    a.applyFunding(0, 0.01, 100, 2);
    expect(a.books().wallet).toBe('999');
    a.trade({ symbol: 0, qty: -2, price: 100, liquidity: 'taker', time: 3 });
    a.applyFunding(0, 0.01, 100, 4);
    expect(a.books().wallet).toBe('1000');
  });
});

describe('the ledger of funding settlements (columnar until read)', () => {
  it('keeps the order of fills and settlements, each settlement with its time, symbol, rate, price and exact amount', () => {
    const a = acct('binance-usdm', 'cross', '100000');
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    const r = a.applyFunding(0, 0.0001, 30123.45, 2)!;
    expect({ symbol: r.symbol, received: r.received, rate: r.rate, price: r.price }).toEqual({ symbol: 0, received: '-3.012345', rate: 0.0001, price: 30123.45 });
    a.trade({ symbol: 1, qty: -2, price: 2000, liquidity: 'taker', time: 3 });
    a.applyFunding(1, 0.0003, 2001, 4); // a short receives
    a.applyFunding(0, -0.00005, 30000, 4);
    const ev = a.events;
    expect(ev.map((e) => `${e.type}@${e.time}`)).toEqual(['fill@1', 'funding@2', 'fill@3', 'funding@4', 'funding@4']);
    expect(ev[1]).toEqual({ type: 'funding', time: 2, symbol: 0, received: '-3.012345', rate: 0.0001, price: 30123.45 });
    expect(ev[3]).toEqual({ type: 'funding', time: 4, symbol: 1, received: '1.2006', rate: 0.0003, price: 2001 });
    expect(ev[4]).toEqual({ type: 'funding', time: 4, symbol: 0, received: '1.5', rate: -0.00005, price: 30000 });
    // reading the ledger again gives the same objects; later events join it
    expect(a.events[1]).toBe(ev[1]);
    a.applyFunding(0, 0.0001, 30000, 5);
    expect(a.events.map((e) => e.type)).toEqual(['fill', 'funding', 'fill', 'funding', 'funding', 'funding']);
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('the Fill of trade() and the settlement of applyFunding serialise to JSON with their amounts as strings', () => {
    const a = acct('binance-usdm', 'cross', '100000');
    const f = a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    expect(JSON.parse(JSON.stringify(f))).toEqual({ ok: true, symbol: 0, qty: 1, price: 30000, fee: '15', realizedPnl: '0', positionQty: 1, mode: 'cross' });
    const r = a.applyFunding(0, 0.0001, 30000, 2);
    expect(JSON.parse(JSON.stringify(r))).toEqual({ symbol: 0, received: '-3', rate: 0.0001, price: 30000 });
  });

  it('a settlement beyond the ±9.2e10 USDT of a BigInt64 cell keeps its exact amount', () => {
    // a 1e13 position: past Binance's largest (1.8e9), so on a table whose top tier has no cap
    const venue = getVenue('binance-usdm', { tiers: { BTCUSDT: [{ floor: 0, mmr: 0.004, maxLeverage: 125 }] } });
    const a = createAccount({ venue, symbols: ['BTCUSDT'], initialDeposit: '1e15', defaultMode: 'cross', leverage: 1, asOfMs: T2025 });
    expect(a.trade({ symbol: 0, qty: 1_000_000, price: 10_000_000, liquidity: 'maker', time: 1 }).ok).toBe(true);
    const r = a.applyFunding(0, 0.0123, 10_000_000, 2)!;
    expect(r.received).toBe('-123000000000');
    expect(a.events[1]).toMatchObject({ type: 'funding', received: '-123000000000' });
    expect(a.books().fundingPaid).toBe('123000000000');
    expect(booksImbalance(a.books())).toBe('0');
  });
});

describe('margin transfers', () => {
  it('adds and removes isolated margin within Binance limits', () => {
    const a = acct('binance-usdm', 'isolated', '5000', 10);
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    const lim = a.marginLimits(0);
    // removable = min(wallet − MM, wallet + uPnL − notional/leverage) = min(3000 − 150 + 50... , 0)
    expect(lim.removable).toBe(0);
    expect(a.transferMargin(0, -1, 2)).toMatchObject({ ok: false, reason: 'exceedsRemovableMargin' });
    expect(a.transferMargin(0, 500, 2)).toEqual({ ok: true });
    expect(a.marginLimits(0).removable).toBeCloseTo(500, 9);
    expect(a.transferMargin(0, -500, 3)).toEqual({ ok: true });
    expect(a.transferMargin(0, 1e9, 3)).toMatchObject({ ok: false, reason: 'insufficientMargin' });
    expect(a.transferMargin(1, 10, 3)).toMatchObject({ ok: false, reason: 'noPosition' });
    expect(booksImbalance(a.books())).toBe('0');
  });

  // docs/margin.md, Rounding rule of every booking: the limits are checked against the amount rounded to 1e-8, the one booked
  it('checks the limits against the amount rounded to the books unit, and an amount that rounds to 0 is invalidQuantity whatever the limits', () => {
    const a = acct('binance-usdm', 'isolated', '5000', 10);
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 }); // IM 3000, fee 15: 1985 addable
    expect(a.marginLimits(0)).toEqual({ addable: 1985, removable: 0 });
    // nothing removable: a removal that rounds to 0 is still a zero amount
    expect(a.transferMargin(0, -4e-9, 2)).toMatchObject({ ok: false, reason: 'invalidQuantity' });
    expect(a.transferMargin(0, 1985.000000006, 2)).toMatchObject({ ok: false, reason: 'insufficientMargin', message: 'BTCUSDT: cannot add 1985.00000001; at most 1985 can be added' });
    expect(a.transferMargin(0, 1985.000000004, 2)).toEqual({ ok: true }); // rounds to 1985 = the limit
    expect(a.events.at(-1)).toEqual({ type: 'transfer', time: 2, symbol: 0, amount: '1985' });
    expect(a.marginLimits(0)).toEqual({ addable: 0, removable: 1985 });
    expect(a.transferMargin(0, 4e-9, 3)).toMatchObject({ ok: false, reason: 'invalidQuantity' }); // not insufficientMargin
    expect(a.transferMargin(0, -1985.000000006, 3)).toMatchObject({ ok: false, reason: 'exceedsRemovableMargin', message: 'BTCUSDT: cannot remove 1985.00000001; at most 1985 can be removed' });
    expect(a.transferMargin(0, -1985.000000004, 3)).toEqual({ ok: true });
    expect(a.events.at(-1)).toEqual({ type: 'transfer', time: 3, symbol: 0, amount: '-1985' });
    expect(a.isolatedWallet(0)).toBe(3000);
    // an amount the rounding leaves alone is named as given, not in its 300 digits
    expect(a.transferMargin(0, 1e300, 4)).toMatchObject({ ok: false, reason: 'insufficientMargin', message: 'BTCUSDT: cannot add 1e+300; at most 1985 can be added' });
    expect(booksImbalance(a.books())).toBe('0');
  });

  // docs/margin.md, transferMargin: the limits are sums of doubles, checked with the margin checks' 1e-9 USDT tolerance
  it('the exact limit can be moved when the doubles put it a few ulps below, one unit more cannot', () => {
    const a = createAccount({ venue: getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } }), symbols: ['BTCUSDT'], initialDeposit: '100000', defaultMode: 'isolated', leverage: 20, asOfMs: T2025 });
    a.trade({ symbol: 0, qty: 0.32, price: 34435.5, liquidity: 'taker', time: 1 }); // isolated wallet 11019.36 / 20 = 550.968
    a.mark(new Float64Array([34587.5]), snap());
    // removable = min(550.968 − 44.272, 550.968 + 48.64 − 553.4) = 46.208 exactly; in doubles 46.20799999999997
    expect(a.marginLimits(0).removable).toBeLessThan(46.208);
    // the message names the limit in the books' unit, an amount that is accepted (not 46.20799999999997)
    expect(a.transferMargin(0, -46.20800001, 2)).toMatchObject({ ok: false, reason: 'exceedsRemovableMargin', message: 'BTCUSDT: cannot remove 46.20800001; at most 46.208 can be removed' });
    expect(a.transferMargin(0, -46.208, 2)).toEqual({ ok: true });
    expect(a.isolatedWallet(0)).toBe(504.76);
    // a limit with more places than the unit is floored to it: what the message names is accepted
    a.mark(new Float64Array([34612.123456789]), snap());
    const lim = a.marginLimits(0).removable;
    const r = a.transferMargin(0, -(lim + 1e-6), 3);
    expect(r).toMatchObject({ ok: false, reason: 'exceedsRemovableMargin' });
    const named = /at most (\S+) can be removed/.exec(r.ok ? '' : r.message)![1]!;
    expect(named).toMatch(/^\d+(\.\d{1,8})?$/);
    expect(Number(named)).toBeLessThanOrEqual(lim + 1e-9);
    expect(lim - Number(named)).toBeLessThan(1e-8);
    expect(a.transferMargin(0, -Number(named), 3)).toEqual({ ok: true });
    expect(booksImbalance(a.books())).toBe('0');
  });
});

describe('liquidation', () => {
  it('an isolated gap past bankruptcy draws on the insurance fund; the rest of the account is untouched', () => {
    const a = acct();
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    a.trade({ symbol: 1, qty: -1, price: 2000, liquidity: 'taker', time: 1, mode: 'cross' });
    const cross = a.crossWalletBalance();
    const pool = a.pools().find((p) => p.id === 'isolated:BTCUSDT')!;
    const out = a.liquidate(pool, new Float64Array([26000, 2100]), 2);
    expect(out).toMatchObject({ poolId: 'isolated:BTCUSDT', symbols: [0], prices: [26000], realizedPnl: '-4000', penalty: '0', insuranceDraw: '1000' });
    expect(a.crossWalletBalance()).toBe(cross);
    expect(a.positionQty(1)).toBe(-1);
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('at the liquidation price the trader loses the remaining margin (Binance) or a fee (OKX)', () => {
    for (const [venue, expectReturned] of [
      ['binance-usdm', false],
      ['okx', true],
    ] as const) {
      const a = acct(venue);
      a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
      const marks = new Float64Array([30000, 2000]);
      const pool = a.pools()[0]!;
      const lp = pool.liquidationPrice(0, marks);
      marks[0] = lp;
      expect(Math.abs(pool.excess(marks))).toBeLessThan(1e-6);
      const cross = a.crossWalletBalance();
      const out = a.liquidate(pool, marks, 2);
      expect(Number(out.insuranceDraw)).toBe(0);
      if (expectReturned) {
        // the fee rounded half-even to the books' unit (1e-8)
        expect(Math.abs(Number(out.penalty) - lp * 0.0005)).toBeLessThanOrEqual(0.5e-8 + 1e-12);
        expect(a.crossWalletBalance()).toBeGreaterThan(cross);
      } else {
        expect(a.crossWalletBalance()).toBe(cross);
      }
      expect(booksImbalance(a.books())).toBe('0');
    }
  });

  it('reproduces the Binance FAQ cross example through the account (BTC LP 26316.89, ETH 1153.26)', () => {
    const v = getVenue('binance-usdm', {
      id: 'binance-2021-example',
      fees: { maker: 0, taker: 0 },
      tiers: { BTCUSDT: [{ floor: 0, mmr: 0.025, cum: 16300, maxLeverage: 20 }], ETHUSDT: [{ floor: 0, mmr: 0.1, cum: 135365, maxLeverage: 10 }] },
    });
    const a = createAccount({ venue: v, symbols: ['BTCUSDT', 'ETHUSDT'], initialDeposit: '1535443.01', defaultMode: 'cross', leverage: 10, asOfMs: T2025 });
    expect(a.trade({ symbol: 0, qty: 109.488, price: 32481.98, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    expect(a.trade({ symbol: 1, qty: 3683.979, price: 1456.84, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    const marks = new Float64Array([31967.27, 1335.18]);
    const cross = a.pools()[0]!;
    expect(cross.id).toBe('cross');
    expect(Math.abs(cross.liquidationPrice(0, marks) - 26316.89)).toBeLessThan(0.005);
    expect(Math.abs(cross.liquidationPrice(1, marks) - 1153.26)).toBeLessThan(0.005);
    const s = snap();
    a.mark(marks, s);
    expect(s.maintenanceMargin).toBeCloseTo(71200.81144 + 356512.508, 3);
  });
});

describe('mark()', () => {
  it('fills the snapshot (equity, margin, ratios, available) and keeps NaN marks at the last price', () => {
    const a = acct('binance-usdm', 'cross', '10000', 10, { fees: { maker: 0, taker: 0 } });
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    const s = snap();
    a.mark(new Float64Array([31000, Number.NaN]), s);
    expect(s.equity).toBe(11000);
    expect(s.grossNotional).toBe(31000);
    expect(s.initialMargin).toBe(3100);
    expect(s.maintenanceMargin).toBeCloseTo(31000 * 0.004, 9);
    expect(s.marginRatio).toBeCloseTo((31000 * 0.004) / 11000, 12);
    expect(s.available).toBe(11000 - 3100);
    a.mark(new Float64Array([Number.NaN, Number.NaN]), s);
    expect(s.equity).toBe(11000);
  });
});

describe('margin ratio', () => {
  it('is MM ÷ margin balance, capped (finite) when the margin balance is ≤ MM / cap, including ≤ 0', () => {
    expect(marginRatioOf(4, 8)).toBe(0.5);
    expect(marginRatioOf(4, 4)).toBe(1);
    expect(marginRatioOf(4, 0.5)).toBe(8);
    expect(marginRatioOf(4, 0.4)).toBe(MARGIN_RATIO_CAP);
    expect(marginRatioOf(4, 0)).toBe(MARGIN_RATIO_CAP);
    expect(marginRatioOf(4, -100)).toBe(MARGIN_RATIO_CAP);
    expect(marginRatioOf(0, -100)).toBe(0);
    // never decreases as the margin balance falls
    let prev = 0;
    for (let mb = 100; mb >= -10; mb -= 0.01) {
      const r = marginRatioOf(4, mb);
      expect(r).toBeGreaterThanOrEqual(prev);
      prev = r;
    }
  });

  it('marginRatioInto values the positions at given prices and remembers nothing', () => {
    const a = acct('binance-usdm', 'isolated', '10000', 10, { fees: { maker: 0, taker: 0 } });
    a.trade({ symbol: 0, qty: 1, price: 30000, liquidity: 'taker', time: 1 });
    const out = new Float64Array(1);
    a.marginRatioInto(new Float64Array([28000, Number.NaN]), out);
    // isolated wallet 3000, margin balance 3000 − 2000 = 1000, MM 0.004 × 28000
    expect(out[0]).toBeCloseTo((28000 * 0.004) / 1000, 12);
    a.marginRatioInto(new Float64Array([26000, Number.NaN]), out); // margin balance −1000
    expect(out[0]).toBe(MARGIN_RATIO_CAP);
    const s = snap();
    a.mark(new Float64Array([Number.NaN, Number.NaN]), s); // last price: the fill's 30000, not 26000
    expect(s.marginRatio).toBeCloseTo((30000 * 0.004) / 3000, 12);
  });
});

describe('fill log totals', () => {
  it('sum every fill, amounts beyond the BigInt64 column included, read after any number of fills', () => {
    const log = new FillLog();
    const huge = 2n ** 70n;
    let fee = 0n;
    let real = 0n;
    const amounts: [bigint, bigint][] = [[5n, -7n], [huge, 1n], [3n, -huge], [-2n, 11n], [huge, huge]];
    for (const [k, [f, r]] of amounts.entries()) {
      log.push(k, 0, 1, 100, f, r, 1, 'cross');
      fee += f;
      real += r;
      if (k % 2 === 1) {
        expect(log.feeTotal()).toBe(fee);
        expect(log.realizedTotal()).toBe(real);
      }
    }
    expect(log.feeTotal()).toBe(fee);
    expect(log.realizedTotal()).toBe(real);
    expect((log.event(1) as { fee: string }).fee).toBe((huge / 100_000_000n).toString() + '.' + (huge % 100_000_000n).toString().padStart(8, '0').replace(/0+$/, ''));
  });
});

describe('the leverage tier of an entry-basis venue', () => {
  // bybit-linear chooses the maintenance tier by Q × entry (maintenance.basis 'entry'); the tier whose maximum leverage
  // applies is the same one: 5 bought at 100 (basis 500) and 1 more at 250 hold a basis of 750, in the first tier
  // (up to 1,000: 100×), though 6 × 250 = 1,500 is in the second (50×)
  const tiers = { '*': [{ floor: 0, mmr: 0.005, maxLeverage: 100 }, { floor: 1000, mmr: 0.01, maxLeverage: 50 }] };
  const account = (venue: string) => {
    const a = createAccount({ venue: getVenue(venue, { tiers, fees: { maker: 0, taker: 0 } }), symbols: ['FOOUSDT'], initialDeposit: '10000', defaultMode: 'isolated', leverage: 80, asOfMs: T2025 });
    expect(a.trade({ symbol: 0, qty: 5, price: 100, liquidity: 'taker', time: 0 }).ok).toBe(true);
    return a;
  };
  it('an increase is judged at the basis it leaves (750: 80× allowed), a mark-basis venue at Q × the fill price (1,500: refused)', () => {
    const bybit = account('bybit-linear').trade({ symbol: 0, qty: 1, price: 250, liquidity: 'taker', time: 1 });
    expect(bybit.ok).toBe(true);
    const binance = account('binance-usdm').trade({ symbol: 0, qty: 1, price: 250, liquidity: 'taker', time: 1 });
    expect(binance.ok ? 'ok' : binance.reason).toBe('exceedsMaxLeverage');
    // past the first tier's floor on the basis too: refused on both
    const more = account('bybit-linear').trade({ symbol: 0, qty: 3, price: 200, liquidity: 'taker', time: 1 });
    expect(more.ok ? 'ok' : more.reason).toBe('exceedsMaxLeverage');
  });
  it('a leverage change is judged at the basis notional too (5 at 100 marked at 250: 500 on bybit, 1,250 on binance)', () => {
    for (const [venue, ok] of [['bybit-linear', true], ['binance-usdm', false]] as const) {
      const a = account(venue);
      a.mark(new Float64Array([250]), snap());
      const r = a.setLeverage(0, 90, 2);
      expect(r.ok ? 'ok' : r.reason, venue).toBe(ok ? 'ok' : 'exceedsMaxLeverage');
    }
  });
});

describe('a pool judged at a notional on a tier floor', () => {
  it('is judged in the tier the exact notional is in: 0.1 at 0.7 is 0.07, the floor, which the double put an ulp below it', () => {
    // a table whose cum breaks the recurrence (given explicitly) makes the maintenance jump at the floor: 0.0007 below it,
    // 0.035 at and above it; the isolated long of 0.1 at 1 with 0.05 of margin is safe below the floor, breached at it
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, lotSizes: { FOOUSDT: 0.1 }, tiers: { FOOUSDT: [{ floor: 0, mmr: 0.01, maxLeverage: 100 }, { floor: 0.07, mmr: 0.5, cum: 0, maxLeverage: 2 }] } });
    const a = createAccount({ venue, symbols: ['FOOUSDT'], initialDeposit: '10', defaultMode: 'isolated', leverage: 2, asOfMs: T2025 });
    expect(a.trade({ symbol: 0, qty: 0.1, price: 1, liquidity: 'taker', time: 0 }).ok).toBe(true);
    const pool = a.pools()[0]!;
    expect(0.1 * 0.7).toBeLessThan(0.07);
    // margin 0.05 + uPnL −0.03 = 0.02 against 0.07 × 0.5 = 0.035: breached
    expect(pool.breached(new Float64Array([0.7]))).toBe(true);
    // a cent above the floor's price, and below it: the float answer stands
    expect(pool.breached(new Float64Array([0.71]))).toBe(true);
    expect(pool.breached(new Float64Array([0.69]))).toBe(false);
  });
});
