/**
 * Property tests (fast-check) of the margin engine: exact books, isolation, funding symmetry,
 * cross vs isolated on a hedged pair, published margin-transfer effect, and agreement of each
 * venue's closed-form liquidation price with the account's own margin check (1e-9 relative).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decimal } from 'decimal.js';
import { createAccount, booksImbalance, type AccountImpl } from '../src/account/index.js';
import type { MarginPool } from '../src/account/types.js';
import { getVenue, venueIds } from '../src/venue/index.js';
import { maintenanceMargin } from '../src/venue/math.js';
import { NO_TIER, positionMaintenance, type Position } from '../src/account/position.js';

const SYMBOLS = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'];
const DATES = [Date.parse('2024-11-01'), Date.parse('2026-06-01')];
const RUNS = 150;

/**
 * `prices`: each symbol's reference price for the venue's quantity grid (the engine passes the
 * symbol's first close): without one an untabulated symbol's step is 1e-8, and a 1e9 notional at a
 * price of 1 would be 1e17 steps, beyond the 2^53 a position can count (refused invalidQuantity)
 */
function account(venue: string, mode: 'isolated' | 'cross', deposit: string, leverage: number, asOf = DATES[0]!, prices?: readonly number[]): AccountImpl {
  const v = getVenue(venue);
  const lotSizes = prices ? SYMBOLS.map((s, i) => v.lotSize!(s, prices[i])) : undefined;
  return createAccount({ venue: v, symbols: SYMBOLS, initialDeposit: deposit, defaultMode: mode, leverage, asOfMs: asOf, lotSizes });
}

/**
 * The price of `symbol` at which pool.excess first reaches 0 (others at marks), by bisection on
 * the account's own margin check. NaN when the check never trips at a positive price.
 */
function tripPrice(pool: MarginPool, symbol: number, marks: Float64Array, side: 1 | -1): number {
  const m = new Float64Array(marks);
  const f = (p: number) => {
    m[symbol] = p;
    return pool.excess(m);
  };
  const start = marks[symbol]!;
  if (!(f(start) > 0)) return Number.NaN;
  let lo: number;
  let hi: number;
  if (side === 1) {
    // long: excess rises with the price; the trip is below
    lo = start * 1e-12;
    hi = start;
    if (f(lo) > 0) return Number.NaN;
  } else {
    lo = start;
    hi = start * 2;
    let k = 0;
    while (f(hi) > 0) {
      hi *= 2;
      if (++k > 80) return Number.NaN;
    }
  }
  // invariant: the check holds on one side and trips on the other
  for (let i = 0; i < 400 && hi - lo > hi * 1e-15; i++) {
    const mid = (lo + hi) / 2;
    const tripped = f(mid) <= 0;
    if (side === 1) {
      if (tripped) lo = mid;
      else hi = mid;
    } else if (tripped) hi = mid;
    else lo = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Relative agreement 1e-9. A liquidation price below 1e-6 × the entry price (a practically
 * unliquidatable position, where float cancellation dominates both views) is compared absolutely
 * at 1e-12 × entry.
 */
function agree(cf: number, trip: number, entry: number, what: string): void {
  if (Number.isNaN(trip) || trip < 1e-6 * entry) {
    const ok = Number.isNaN(cf) ? Number.isNaN(trip) || trip < 1e-6 * entry : Math.abs(cf - (Number.isNaN(trip) ? 0 : trip)) <= 1e-12 * entry;
    expect(ok, `${what}: margin check trips at ${trip}, closed form says ${cf}`).toBe(true);
    return;
  }
  expect(Math.abs(cf - trip) / trip, `${what}: closed form ${cf} vs margin check ${trip}`).toBeLessThanOrEqual(1e-9);
}

/** log-uniform notional from 1e3 to 1e9 so that every tier of the tables is visited */
const notionalArb = fc.double({ min: 3, max: 9, noNaN: true }).map((e) => 10 ** e);
const priceArb = fc.double({ min: 0, max: 5, noNaN: true }).map((e) => 10 ** e);

describe('closed form = margin check (1e-9 relative)', () => {
  it('isolated, every venue, across tiers, with margin added', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.constantFrom(0, 1, 2),
        fc.constantFrom(1, -1),
        notionalArb,
        priceArb,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        fc.constantFrom(...DATES),
        (venue, sym, side, notionalAsked, price, levFrac, extraFrac, asOf) => {
          const v = getVenue(venue);
          const tiers = v.tiers(SYMBOLS[sym]!, asOf);
          // within the top tier's cap, the largest position the venue holds (docs/margin.md, Trades)
          const notional = Math.min(notionalAsked, 0.99 * tiers[tiers.length - 1]!.cap);
          const tier = tiers.find((t, i) => i === tiers.length - 1 || notional < tiers[i + 1]!.floor)!;
          const lev = Math.max(1, Math.min(tier.maxLeverage, 1 + levFrac * (tier.maxLeverage - 1)));
          const qty = notional / price;
          const a = account(venue, 'isolated', String(Math.ceil(notional * 3)), lev, asOf, [price, price, price]);
          const fill = a.trade({ symbol: sym, qty: side * qty, price, liquidity: 'taker', time: 0 });
          expect(fill.ok).toBe(true);
          if (extraFrac > 0) a.transferMargin(sym, Math.min(a.marginLimits(sym).addable, (extraFrac * notional) / lev), 1);
          const marks = new Float64Array([1, 1, 1]);
          marks[sym] = price;
          const pool = a.pools()[0]!;
          agree(pool.liquidationPrice(sym, marks), tripPrice(pool, sym, marks, side as 1 | -1), price, `${venue} ${SYMBOLS[sym]} ${side} n=${notional} lev=${lev}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('cross with several legs valued at mark, every venue', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.array(fc.record({ side: fc.constantFrom(1, -1), notional: notionalArb, price: priceArb, move: fc.double({ min: -0.15, max: 0.15, noNaN: true }) }), { minLength: 2, maxLength: 3 }),
        fc.double({ min: 1.05, max: 4, noNaN: true }),
        (venue, legsAsked, depositMult) => {
          const v = getVenue(venue);
          // each leg within its top tier's cap, the largest position the venue holds (docs/margin.md, Trades)
          const legs = legsAsked.map((l, i) => {
            const tiers = v.tiers(SYMBOLS[i]!, DATES[0]!);
            return { ...l, notional: Math.min(l.notional, 0.99 * tiers[tiers.length - 1]!.cap) };
          });
          const levs = legs.map((l, i) => {
            const tiers = v.tiers(SYMBOLS[i]!, DATES[0]!);
            return Math.min(2, tiers.find((t, k) => k === tiers.length - 1 || l.notional < tiers[k + 1]!.floor)!.maxLeverage);
          });
          const im = legs.reduce((s, l, i) => s + l.notional / levs[i]!, 0);
          const a = account(venue, 'cross', String(Math.ceil(im * depositMult + 0.001 * legs.reduce((s, l) => s + l.notional, 0))), 1, DATES[0]!, SYMBOLS.map((_, i) => legs[i]?.price ?? 1));
          legs.forEach((l, i) => {
            expect(a.setLeverage(i, levs[i]!)).toEqual({ ok: true });
            expect(a.trade({ symbol: i, qty: (l.side * l.notional) / l.price, price: l.price, liquidity: 'taker', time: 0 }).ok).toBe(true);
          });
          const marks = new Float64Array(legs.map((l) => l.price * (1 + l.move)).concat([1, 1, 1]).slice(0, 3));
          const pool = a.pools()[0]!;
          if (!(pool.excess(marks) > 0)) return; // already past liquidation: nothing to compare
          legs.forEach((l, i) => agree(pool.liquidationPrice(i, marks), tripPrice(pool, i, marks, l.side as 1 | -1), l.price, `${venue} cross leg ${i}`));
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('books and isolation', () => {
  const opArb = fc.oneof(
    fc.record({ k: fc.constant('trade' as const), sym: fc.nat(2), qty: fc.double({ min: -3, max: 3, noNaN: true }), px: fc.double({ min: 50, max: 150, noNaN: true }), mode: fc.constantFrom('isolated', 'cross', undefined), maker: fc.boolean(), ro: fc.boolean() }),
    fc.record({ k: fc.constant('funding' as const), sym: fc.nat(2), rate: fc.double({ min: -0.01, max: 0.01, noNaN: true }), px: fc.double({ min: 50, max: 150, noNaN: true }) }),
    fc.record({ k: fc.constant('transfer' as const), sym: fc.nat(2), amt: fc.double({ min: -50, max: 50, noNaN: true }) }),
    fc.record({ k: fc.constant('leverage' as const), sym: fc.nat(2), lev: fc.integer({ min: 1, max: 30 }) }),
    fc.record({ k: fc.constant('liquidate' as const), pick: fc.nat(5), px: fc.double({ min: 20, max: 200, noNaN: true }) }),
  );

  it('deposit + realised PnL − fees + funding − penalties + insurance = wallet, exactly, after every event', () => {
    fc.assert(
      fc.property(fc.constantFrom(...venueIds()), fc.constantFrom('isolated' as const, 'cross' as const), fc.array(opArb, { maxLength: 40 }), (venue, mode, ops) => {
        const a = createAccount({ venue: getVenue(venue), symbols: ['AUSDT', 'BUSDT', 'CUSDT'], initialDeposit: '1000.123456789', defaultMode: mode, leverage: 5, asOfMs: DATES[0]! });
        for (const op of ops) {
          if (op.k === 'trade') a.trade({ symbol: op.sym, qty: op.qty, price: op.px, liquidity: op.maker ? 'maker' : 'taker', time: 0, mode: op.mode, reduceOnly: op.ro });
          else if (op.k === 'funding') a.applyFunding(op.sym, op.rate, op.px, 0);
          else if (op.k === 'transfer') a.transferMargin(op.sym, op.amt, 0);
          else if (op.k === 'leverage') a.setLeverage(op.sym, op.lev);
          else {
            const pools = a.pools();
            if (pools.length > 0) a.liquidate(pools[op.pick % pools.length]!, new Float64Array([op.px, op.px * 1.1, op.px * 0.9]), 0);
          }
          expect(booksImbalance(a.books())).toBe('0');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('a fill given a mark: refused immediateLiquidation changing nothing, or booked leaving its pool short of the threshold at the mark', () => {
    const seen = { refused: 0, grown: 0 };
    const state = (a: AccountImpl) => JSON.stringify([a.books(), [0, 1, 2].map((i) => [a.positionQty(i), a.entryPrice(i), a.isolatedWallet(i), a.positionMode(i)]), a.pools().map((p) => [p.id, p.symbols])]);
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.constantFrom('isolated' as const, 'cross' as const),
        fc.integer({ min: 1, max: 50 }),
        fc.array(fc.record({ sym: fc.nat(2), qty: fc.integer({ min: -30, max: 30 }).filter((q) => q !== 0), px: fc.double({ min: 50, max: 150, noNaN: true }), off: fc.double({ min: -0.3, max: 0.3, noNaN: true }), mode: fc.constantFrom('isolated' as const, 'cross' as const, undefined), others: fc.option(fc.double({ min: -0.2, max: 0.2, noNaN: true })) }), { maxLength: 25 }),
        (venue, mode, lev, ops) => {
          const a = createAccount({ venue: getVenue(venue), symbols: ['AUSDT', 'BUSDT', 'CUSDT'], initialDeposit: '10000', defaultMode: mode, leverage: lev, asOfMs: DATES[0]! });
          const marks = new Float64Array(3).fill(100);
          let refused = 0;
          let grown = 0;
          for (const op of ops) {
            const mark = op.px * (1 + op.off);
            marks[op.sym] = mark;
            a.mark(marks, { equity: 0, marginBalance: 0, maintenanceMargin: 0, marginRatio: 0, initialMargin: 0, capitalAtRisk: 0, grossNotional: 0, available: 0 });
            const before = state(a);
            // the symbol's mark alone (the others at their last marks), or every symbol's marks, the others moved too
            const all = op.others === null ? null : marks.map((m, i) => (i === op.sym ? mark : m * (1 + op.others!)));
            const r = a.trade({ symbol: op.sym, qty: op.qty, price: op.px, liquidity: 'taker', time: 0, mode: op.mode, ...(all ? { marks: all } : { mark }) });
            if (!r.ok) {
              if (r.reason === 'immediateLiquidation') refused++;
              expect(state(a)).toBe(before);
            } else if (a.positionQty(op.sym) !== 0) {
              // the pool holding the symbol, valued with it at the mark (others at their marks)
              const pool = a.pools().find((p) => p.symbols.includes(op.sym))!;
              const at = all ?? new Float64Array(marks);
              const grew = Math.abs(a.positionQty(op.sym)) > 0 && Math.sign(r.qty) === Math.sign(a.positionQty(op.sym));
              if (grew) {
                grown++;
                expect(pool.breached(at)).toBe(false);
              }
            }
            expect(booksImbalance(a.books())).toBe('0');
          }
          seen.refused += refused;
          seen.grown += grown;
        },
      ),
      { numRuns: RUNS },
    );
    // the cases reach both outcomes
    expect(seen.refused).toBeGreaterThan(0);
    expect(seen.grown).toBeGreaterThan(0);
  });

  it('an isolated liquidation never changes another position or the cross pool', () => {
    fc.assert(
      fc.property(fc.constantFrom(...venueIds()), fc.constantFrom(1, -1), fc.double({ min: 0.3, max: 1.7, noNaN: true }), (venue, side, move) => {
        const a = account(venue, 'isolated', '100000', 10);
        a.trade({ symbol: 0, qty: side * 1, price: 30000, liquidity: 'taker', time: 0 });
        a.trade({ symbol: 1, qty: -side * 5, price: 2000, liquidity: 'taker', time: 0 });
        a.trade({ symbol: 2, qty: side * 100, price: 150, liquidity: 'taker', time: 0, mode: 'cross' });
        const before = [1, 2].map((i) => [a.positionQty(i), a.entryPrice(i), a.isolatedWallet(i), a.positionMode(i)]);
        const cross = a.crossWalletBalance();
        const crossPool = a.pools().find((p) => p.id === 'cross')!;
        const marks = new Float64Array([30000 * move, 2000, 150]);
        const crossExcess = crossPool.excess(marks);
        const out = a.liquidate(a.pools().find((p) => p.id === 'isolated:BTCUSDT')!, marks, 1);
        expect([1, 2].map((i) => [a.positionQty(i), a.entryPrice(i), a.isolatedWallet(i), a.positionMode(i)])).toEqual(before);
        // only what the venue returns to the trader (OKX: margin left after the fee) reaches the cross wallet
        const returned = a.crossWalletBalance() - cross;
        if (a.venue.liquidation.penalty === 'remainingMargin' || Number(out.insuranceDraw) > 0) expect(returned).toBe(0);
        else expect(returned).toBeGreaterThanOrEqual(0);
        expect(a.pools().find((p) => p.id === 'cross')!.excess(marks)).toBeCloseTo(crossExcess + returned, 6);
        expect(booksImbalance(a.books())).toBe('0');
      }),
      { numRuns: 60 },
    );
  });

  it('funding between an equal long and short is zero-sum, exactly', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.double({ min: 0.001, max: 10, noNaN: true }),
        fc.double({ min: -0.01, max: 0.01, noNaN: true }),
        fc.double({ min: 100, max: 50000, noNaN: true }),
        fc.constantFrom('isolated' as const, 'cross' as const),
        (venue, qty, rate, px, mode) => {
          const l = account(venue, mode, '1000000', 5);
          const s = account(venue, mode, '1000000', 5);
          l.trade({ symbol: 0, qty, price: px, liquidity: 'taker', time: 0 });
          s.trade({ symbol: 0, qty: -qty, price: px, liquidity: 'taker', time: 0 });
          const a = l.applyFunding(0, rate, px, 1)!;
          const b = s.applyFunding(0, rate, px, 1)!;
          expect(booksImbalance({ initialDeposit: '0', wallet: '0', realizedPnl: a.received, fees: '0', fundingReceived: b.received, fundingPaid: '0', liquidationPenalties: '0', insuranceDraws: '0' })).toBe('0');
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('cross vs isolated and margin transfers', () => {
  it('a hedged pair held cross survives a common move that liquidates the same legs held isolated', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.integer({ min: 3, max: 10 }),
        fc.double({ min: 1.3, max: 4, noNaN: true }),
        fc.boolean(),
        (venue, lev, k, up) => {
          const move = Math.min(0.6, k / lev) * (up ? 1 : -1);
          const setups = (['isolated', 'cross'] as const).map((mode) => {
            const a = createAccount({ venue: getVenue(venue), symbols: SYMBOLS, initialDeposit: String(Math.ceil((10000 / lev) * 1.02 + 20)), defaultMode: mode, leverage: lev, asOfMs: DATES[0]! });
            expect(a.trade({ symbol: 0, qty: 0.1, price: 50000, liquidity: 'taker', time: 0 }).ok).toBe(true);
            expect(a.trade({ symbol: 1, qty: -2.5, price: 2000, liquidity: 'taker', time: 0 }).ok).toBe(true);
            return a;
          });
          const marks = new Float64Array([50000 * (1 + move), 2000 * (1 + move), 1]);
          const [iso, cross] = setups as [AccountImpl, AccountImpl];
          expect(Math.min(...iso.pools().map((p) => p.excess(marks)))).toBeLessThanOrEqual(0);
          expect(cross.pools()).toHaveLength(1);
          expect(cross.pools()[0]!.excess(marks)).toBeGreaterThan(0);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('adding isolated margin moves the liquidation price by the published amount', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.constantFrom(1, -1),
        fc.double({ min: 100, max: 20000, noNaN: true }),
        fc.integer({ min: 2, max: 20 }),
        fc.double({ min: 0.01, max: 0.5, noNaN: true }),
        (venue, side, notional, lev, frac) => {
          const a = account(venue, 'isolated', '1000000', lev);
          const price = 30000;
          a.trade({ symbol: 0, qty: (side * notional) / price, price, liquidity: 'taker', time: 0 });
          const q = Math.abs(a.positionQty(0)); // on the symbol's quantity grid
          const marks = new Float64Array([price, 1, 1]);
          const pool = a.pools()[0]!;
          const lp0 = pool.liquidationPrice(0, marks);
          const add = (frac * notional) / lev;
          expect(a.transferMargin(0, add, 1)).toEqual({ ok: true });
          const lp1 = pool.liquidationPrice(0, marks);
          if (!Number.isFinite(lp1) || !Number.isFinite(lp0)) return;
          const tiers = a.venue.tiers('BTCUSDT', DATES[0]!);
          const t = tiers[0]!; // small notionals stay in tier 1 at both prices
          if (q * lp0 >= (tiers[1]?.floor ?? Infinity) || q * lp1 >= (tiers[1]?.floor ?? Infinity)) return;
          const s = side as 1 | -1;
          let expected: number;
          if (venue === 'bybit-linear') expected = (-s * add) / q; // LP = EP ∓ (IM − MM)/Q ∓ extra/Q
          else if (venue === 'hyperliquid') expected = (-s * add) / q / (1 - t.mmr * s); // liq = price − side·margin/size/(1 − l·side)
          else if (venue === 'okx') expected = (-s * add) / q / (1 - s * (t.mmr + a.venue.fees.taker)); // (EP ∓ M/Q)/(1 ∓ (MMR + taker))
          else expected = add / (q * t.mmr - s * q); // Binance: ∂LP/∂WB = 1/(Q·MMR − s·Q)
          expect(Math.abs(lp1 - lp0 - expected)).toBeLessThanOrEqual(1e-9 * price);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('the per-bar snapshot copies agree', () => {
  // mark(), markWithPeakInto() and marginRatioInto() are hand-fused copies of one computation (for
  // the bar loop's speed); they must give the same numbers and remember the same marks
  const priceOrNaN = fc.oneof(fc.double({ min: 20, max: 200, noNaN: true }), fc.constant(Number.NaN));
  const tradeArb = fc.record({ sym: fc.nat(2), qty: fc.double({ min: -3, max: 3, noNaN: true }), px: fc.double({ min: 50, max: 150, noNaN: true }), mode: fc.constantFrom('isolated' as const, 'cross' as const) });
  const marksArb = fc.array(priceOrNaN, { minLength: 3, maxLength: 3 });
  const snap = () => ({ equity: 0, marginBalance: 0, maintenanceMargin: 0, marginRatio: 0, initialMargin: 0, capitalAtRisk: 0, grossNotional: 0, available: 0 });

  it('markWithPeakInto = mark(adverse) then mark(marks); marginRatioInto(prices) = mark(prices).marginRatio', () => {
    fc.assert(
      fc.property(fc.constantFrom(...venueIds()), fc.array(tradeArb, { maxLength: 12 }), fc.array(fc.tuple(marksArb, marksArb), { minLength: 1, maxLength: 6 }), (venue, trades, bars) => {
        const mk = () => createAccount({ venue: getVenue(venue), symbols: ['AUSDT', 'BUSDT', 'CUSDT'], initialDeposit: '1000', defaultMode: 'cross', leverage: 5, asOfMs: DATES[0]! });
        const fused = mk();
        const plain = mk();
        for (const t of trades)
          for (const a of [fused, plain]) a.trade({ symbol: t.sym, qty: t.qty, price: t.px, liquidity: 'taker', time: 0, mode: t.mode });
        const out = snap();
        const peak = new Float64Array(1);
        const ratio = new Float64Array(1);
        const atAdverse = snap();
        const atClose = snap();
        for (const [m, adv] of bars) {
          const marks = new Float64Array(m);
          const adverse = new Float64Array(adv);
          fused.marginRatioInto(adverse, ratio);
          fused.markWithPeakInto(marks, adverse, out, peak);
          plain.mark(adverse, atAdverse);
          plain.mark(marks, atClose);
          expect(out).toEqual(atClose);
          expect(peak[0]).toBe(atAdverse.marginRatio);
          expect(ratio[0]).toBe(atAdverse.marginRatio);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('a pool breached() = its excess ≤ 0', () => {
  // breached() writes marginBalance − maintenance out in one loop (no double returned by a call: the
  // bar loop asks it at every point of a path); it must decide as the two sums do wherever their float error cannot
  // change the sign, and as the exact books do everywhere (a price exactly at the threshold is breached)
  const priceOrNaN = fc.oneof(fc.double({ min: 1, max: 400, noNaN: true }), fc.constant(Number.NaN));
  const tradeArb = fc.record({ sym: fc.nat(2), qty: fc.double({ min: -3, max: 3, noNaN: true }), px: fc.double({ min: 50, max: 150, noNaN: true }), mode: fc.constantFrom('isolated' as const, 'cross' as const) });
  it('isolated and cross pools of one and several legs, every venue, marks near and past the thresholds (NaN: the last known price)', () => {
    let breachedSeen = 0;
    let notSeen = 0;
    fc.assert(
      fc.property(fc.constantFrom(...venueIds()), fc.array(tradeArb, { minLength: 1, maxLength: 12 }), fc.array(fc.array(priceOrNaN, { minLength: 3, maxLength: 3 }), { minLength: 1, maxLength: 8 }), (venue, trades, bars) => {
        const a = createAccount({ venue: getVenue(venue), symbols: ['AUSDT', 'BUSDT', 'CUSDT'], initialDeposit: '300', defaultMode: 'cross', leverage: 20, asOfMs: DATES[0]! });
        for (const t of trades) a.trade({ symbol: t.sym, qty: t.qty, price: t.px, liquidity: 'taker', time: 0, mode: t.mode });
        const check = (pool: MarginPool, marks: Float64Array) => {
          const b = pool.breached(marks);
          const ex = pool.excess(marks);
          const exact = (pool as unknown as { exactExcess(m: Float64Array): Decimal }).exactExcess(marks).div(1e8);
          // the exact excess is the float one to its rounding (the scale: the pool's wallet and notionals)
          const scale = 300 + pool.symbols.reduce((t, s) => t + Math.abs(a.positionQty(s)) * 400, 0);
          expect(Math.abs(exact.toNumber() - ex)).toBeLessThan(1e-9 * scale);
          expect(b).toBe(exact.lte(0));
          if (Math.abs(ex) > 1e-9 * scale) expect(b).toBe(ex <= 0);
          if (b) breachedSeen++;
          else notSeen++;
        };
        for (const m of bars) {
          const marks = new Float64Array(m);
          for (const pool of a.pools()) {
            check(pool, marks);
            // each leg right around its liquidation price (the others at the marks): where the maintenance decides
            for (const s of pool.symbols) {
              const lp = pool.liquidationPrice(s, marks);
              if (!(lp > 0 && Number.isFinite(lp))) continue;
              for (const e of [-1e-6, -1e-12, 0, 1e-12, 1e-6]) {
                const at = marks.slice();
                at[s] = lp * (1 + e);
                check(pool, at);
              }
            }
          }
        }
      }),
      { numRuns: RUNS * 2, seed: 36 },
    );
    // both answers were met (the property is not about one side only)
    expect(breachedSeen).toBeGreaterThan(20);
    expect(notSeen).toBeGreaterThan(20);
  });
});

describe('columnar fill log rows', () => {
  it('round-trips every field; amounts in units come back as exact decimal strings', async () => {
    const { FillLog } = await import('../src/account/fill-log.js');
    const log = new FillLog();
    const rows: [number, number, number, number, bigint, bigint, number, 'isolated' | 'cross'][] = [];
    for (let k = 0; k < 3000; k++) {
      const wide = k % 997 === 0 ? 10n ** 30n : 1n; // beyond BigInt64: kept aside
      rows.push([k * 60_000, k % 3, (k % 2 ? -1 : 1) * 0.001 * k, 30000 + k / 7, BigInt(k * 1_000_003) * wide, BigInt(-(k % 5) * 100_000_001) * wide, 0.1 * k, k % 2 ? 'cross' : 'isolated']);
    }
    for (const r of rows) log.push(...r);
    rows.forEach((r, k) => {
      expect(log.event(k)).toEqual({
        type: 'fill', time: r[0], symbol: r[1], qty: r[2], price: r[3],
        fee: new Decimal(r[4].toString()).div(1e8).toFixed(), realizedPnl: new Decimal(r[5].toString()).div(1e8).toFixed(), positionQty: r[6], mode: r[7],
      });
    });
  });
});

describe('tier cache (positionMaintenance)', () => {
  it('equals maintenanceMargin exactly while the notional wanders across tiers, up and down, for every venue and basis', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...venueIds()),
        fc.constantFrom(...SYMBOLS),
        fc.constantFrom<'mark' | 'entry'>('mark', 'entry'),
        fc.constantFrom(0, 0.001),
        // notionals spread over every tier (log-uniform from 10 to 3e9), each step a new size and
        // mark; a step with a tier pick lands exactly on that tier's floor, or just below it
        fc.array(
          fc.tuple(fc.double({ min: 1, max: 9.5, noNaN: true }), fc.double({ min: 0.01, max: 2e5, noNaN: true }), fc.boolean(), fc.option(fc.nat(), { nil: null }), fc.boolean()),
          { minLength: 1, maxLength: 40 },
        ),
        (venueId, symbol, basis, extraRate, steps) => {
          const venue = getVenue(venueId);
          const tiers = venue.tiers(symbol, DATES[1]!);
          const model = { basis, extraRate } as const;
          const p = { tiers, absQ: 0, entryF: 0, ...NO_TIER } as unknown as Position;
          for (const [log10, price0, moveEntry, pick, below] of steps) {
            let price = price0;
            if (pick !== null) {
              // notional = absQ × 1 = the floor exactly (or the double just below it), on either basis
              const floor = tiers[pick % tiers.length]!.floor;
              price = 1;
              p.absQ = below && floor > 0 ? floor - floor * Number.EPSILON : floor;
              p.entryF = 1;
            } else {
              p.absQ = 10 ** log10 / price;
              if (moveEntry) p.entryF = price * 0.9;
            }
            expect(positionMaintenance(model, p, price)).toBe(maintenanceMargin(model, tiers, p.absQ, p.entryF, price));
          }
          // a NaN mark (and so a NaN notional on the mark basis) neither matches nor spoils the bracket
          expect(positionMaintenance(model, p, Number.NaN)).toEqual(maintenanceMargin(model, tiers, p.absQ, p.entryF, Number.NaN));
          expect(positionMaintenance(model, p, 1)).toBe(maintenanceMargin(model, tiers, p.absQ, p.entryF, 1));
        },
      ),
      { numRuns: RUNS },
    );
  });
});
