/**
 * A position's notional is bounded by the top tier's cap of the venue's table (Binance: the last bracket's
 * notionalCap, the largest position the venue holds at any leverage; error -2027). An order that would
 * grow a position past it is refused, not booked with the top tier's rate extrapolated to any size.
 */
import { describe, expect, it } from 'vitest';
import { createAccount, booksImbalance } from '../src/account/index.js';
import { getVenue } from '../src/venue/index.js';
import { makeData, run, scripted } from './engine-fixtures.js';
import { runCalcLiq } from '../src/venue/calc-cli.js';

const T2025 = Date.parse('2025-01-01T00:00:00Z');
const acct = (deposit: string, venue = getVenue('binance-usdm'), symbols = ['BTCUSDT']) =>
  createAccount({ venue, symbols, initialDeposit: deposit, defaultMode: 'cross', leverage: 1, asOfMs: T2025 });

describe("the top tier's cap bounds a position's notional", () => {
  it('binance BTCUSDT (2024-10-24: top bracket 1.2B-1.8B): up to the cap fills, past it is exceedsMaxLeverage', () => {
    const a = acct('1000000000000');
    // 18,000 BTC at 100,000 = 1.8e9, the cap itself
    expect(a.trade({ symbol: 0, qty: 18_000, price: 100_000, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
    const r = a.trade({ symbol: 0, qty: 0.001, price: 100_000, liquidity: 'taker', time: 2 });
    expect(r).toMatchObject({ ok: false, reason: 'exceedsMaxLeverage' });
    expect((r as { message: string }).message).toMatch(/BTCUSDT: a position of notional 1800000100 is above 1800000000, the largest position/);
    // reducing is always allowed
    expect(a.trade({ symbol: 0, qty: -18_000, price: 100_000, liquidity: 'taker', time: 3 })).toMatchObject({ ok: true, positionQty: 0 });
    expect(booksImbalance(a.books())).toBe('0');
  });

  it('past the cap at a leverage above the top tier maximum the message names the cap, not a leverage that no setLeverage could meet', () => {
    // leverage 3 > the top bracket's 1x: the order is refused at 1x as well, so "3x exceeds the 1x maximum" sent users to setLeverage(1)
    const a = createAccount({ venue: getVenue('binance-usdm'), symbols: ['BTCUSDT'], initialDeposit: '1000000000000', defaultMode: 'cross', leverage: 3, asOfMs: T2025 });
    const r = a.trade({ symbol: 0, qty: 1e6, price: 100_000, liquidity: 'taker', time: 1 });
    expect(r).toMatchObject({ ok: false, reason: 'exceedsMaxLeverage' });
    expect((r as { message: string }).message).toMatch(/BTCUSDT: a position of notional 100000000000 is above 1800000000, the largest position the venue's tier table allows/);
    // within the cap, a leverage above the tier's maximum is still said as such
    const b = createAccount({ venue: getVenue('binance-usdm'), symbols: ['BTCUSDT'], initialDeposit: '1000000000000', defaultMode: 'cross', leverage: 3, asOfMs: T2025 });
    const r2 = b.trade({ symbol: 0, qty: 17_000, price: 100_000, liquidity: 'taker', time: 1 });
    expect((r2 as { message: string }).message).toMatch(/leverage 3x exceeds the 1x maximum of the tier at notional 1700000000/);
  });

  it("a symbol on the venue's default table (top cap 15M) cannot hold a 1e8 position at 1x", () => {
    const a = acct('1000000000000', getVenue('binance-usdm'), ['PEPEUSDT']);
    const r = a.trade({ symbol: 0, qty: 1e7, price: 10, liquidity: 'taker', time: 1 });
    expect(r).toMatchObject({ ok: false, reason: 'exceedsMaxLeverage' });
    expect(a.positionQty(0)).toBe(0);
    expect(a.books().wallet).toBe('1000000000000');
  });

  it('a custom table without a cap on its last tier has no limit', () => {
    const v = getVenue('binance-usdm', { tiers: { '*': [{ floor: 0, mmr: 0.01, maxLeverage: 10 }] } });
    const a = acct('1000000000000', v, ['XUSDT']);
    expect(a.trade({ symbol: 0, qty: 1e6, price: 1e4, liquidity: 'taker', time: 1 })).toMatchObject({ ok: true });
  });

  it('a replay records the refusal instead of building a position the venue would not hold', () => {
    const p = 1e6;
    const data = makeData({ BTCUSDT: { bars: [[p, p, p, p], [p, p, p, p], [p, p, p, p]] } });
    const out = run(data, scripted({ 0: (ctx) => void ctx.buy(0, 1e4) }, ['BTCUSDT']), { capital: '1000000000000', leverage: 1 });
    for (const s of out.setups) {
      expect(s.events.some((e) => e.type === 'fill')).toBe(false);
      expect(s.rejections).toEqual({ exceedsMaxLeverage: 1 });
    }
  });

  it('calc liq says when the entry notional is above the cap (a venue would refuse the order)', () => {
    const liq = (qty: string) => JSON.parse(runCalcLiq({ venue: 'binance-usdm', side: 'long', entry: '100000', qty, leverage: '1', symbol: 'BTCUSDT', 'as-of': '2025-01-01', json: true })) as { notes?: string[] };
    expect(liq('18000').notes ?? []).toEqual([]);
    expect(liq('20000').notes).toEqual(['the entry notional 2000000000 is above 1800000000, the largest position the tier table allows (its top tier\'s cap): a venue would refuse the order']);
  });

  it("calc liq past the cap at a leverage above the top tier's maximum names the cap, not the leverage (as the account's rejection, engine 1.5.43)", () => {
    const notes = (leverage: string) => (JSON.parse(runCalcLiq({ venue: 'binance-usdm', side: 'long', entry: '100000', qty: '20000', leverage, symbol: 'BTCUSDT', 'as-of': '2025-01-01', json: true })) as { notes?: string[] }).notes;
    const cap = 'the entry notional 2000000000 is above 1800000000, the largest position the tier table allows (its top tier\'s cap): a venue would refuse the order';
    // 3x > the top bracket's 1x: "leverage 3x is above the 1x maximum" sent the user to a leverage that cannot help
    expect(notes('3')).toEqual([cap]);
    expect(notes('1')).toEqual([cap]);
    // within the cap the leverage note stays
    const within = JSON.parse(runCalcLiq({ venue: 'binance-usdm', side: 'long', entry: '100000', qty: '17000', leverage: '3', symbol: 'BTCUSDT', 'as-of': '2025-01-01', json: true })) as { notes?: string[] };
    expect(within.notes).toEqual([expect.stringMatching(/^leverage 3x is above the 1x maximum of the tier at the entry notional 1700000000/)]);
  });
});
