/**
 * The decimal.js reference of the books (issue 9, "Numbers"): random sequences of trades, funding,
 * margin transfers, leverage changes and liquidations run through the account; a separate
 * decimal.js re-implementation of the booking rules of docs/margin.md re-computes every booked
 * amount from the same events (each rounded half-even to 1e-8, as the rule says) and must agree
 * exactly, event by event, and on every total of the final books.
 */
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { createAccount, booksImbalance } from '../src/account/index.js';
import type { AccountEvent, ModeId } from '../src/account/types.js';
import { getVenue, venueIds } from '../src/venue/index.js';

const D = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_EVEN });
type Dec = InstanceType<typeof D>;
/** the books' rounding: half-even to 1e-8 */
const R = (x: Dec): Dec => x.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN);
const dec = (x: number | string): Dec => new D(x);
const ZERO = dec(0);

interface RefPos {
  lots: number;
  cost: Dec;
  iso: Dec;
  mode: ModeId | null;
  lev: number;
}

const SYMS = ['AUSDT', 'BUSDT', 'CUSDT'];
const STEP = 0.001;

const px = fc.oneof(
  fc.double({ min: 50, max: 150, noNaN: true }), // 17-digit doubles (the BigInt path)
  fc.integer({ min: 500_000, max: 1_500_000 }).map((t) => t / 10_000), // tick prices (the double path)
);
const opArb = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('trade' as const), sym: fc.nat(2), qty: fc.oneof(fc.integer({ min: -3000, max: 3000 }).map((l) => l * STEP), fc.double({ min: -3, max: 3, noNaN: true })), px, mode: fc.constantFrom('isolated' as const, 'cross' as const, undefined), maker: fc.boolean(), ro: fc.constantFrom(false, false, false, true) }), weight: 4 },
  fc.record({ k: fc.constant('funding' as const), sym: fc.nat(2), rate: fc.oneof(fc.double({ min: -0.01, max: 0.01, noNaN: true }), fc.constantFrom(0.0001, -0.000075)), px }),
  fc.record({ k: fc.constant('transfer' as const), sym: fc.nat(2), amt: fc.oneof(fc.integer({ min: -5000, max: 5000 }).map((c) => c / 100), fc.double({ min: -50, max: 50, noNaN: true })) }),
  fc.record({ k: fc.constant('leverage' as const), sym: fc.nat(2), lev: fc.oneof(fc.integer({ min: 1, max: 30 }), fc.constantFrom(2.5, 12.5)) }),
  fc.record({ k: fc.constant('liquidate' as const), pick: fc.nat(5), px: fc.double({ min: 20, max: 200, noNaN: true }) }),
);

describe('books = their decimal.js reference, booking by booking', () => {
  it('every fill, funding, transfer and liquidation amount and every total agree exactly', () => {
    const checkedEvents = { fill: 0, funding: 0, transfer: 0, liquidation: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...venueIds()), fc.constantFrom('isolated' as const, 'cross' as const), fc.array(opArb, { minLength: 10, maxLength: 60 }), (venueId, defaultMode, ops) => {
        const venue = getVenue(venueId);
        const a = createAccount({ venue, symbols: SYMS, initialDeposit: '1000.123456789', defaultMode, leverage: 5, asOfMs: Date.parse('2024-11-01'), lotSizes: SYMS.map(() => ({ step: STEP, minQty: STEP, tick: 0.0001, source: 'test' })) });
        // the reference state
        const pos: RefPos[] = SYMS.map(() => ({ lots: 0, cost: ZERO, iso: ZERO, mode: null, lev: 5 }));
        let cross = R(dec('1000.123456789'));
        const tot = { realized: ZERO, fees: ZERO, fr: ZERO, fp: ZERO, pen: ZERO, ins: ZERO };
        let seen = 0;
        const next = (): AccountEvent[] => {
          const ev = a.events.slice(seen);
          seen = a.events.length;
          return ev;
        };
        for (const op of ops) {
          if (op.k === 'leverage') {
            if (a.setLeverage(op.sym, op.lev).ok) pos[op.sym]!.lev = op.lev;
            next();
            continue;
          }
          if (op.k === 'trade') {
            a.trade({ symbol: op.sym, qty: op.qty, price: op.px, liquidity: op.maker ? 'maker' : 'taker', time: 0, mode: op.mode, reduceOnly: op.ro });
            for (const e of next()) {
              if (e.type !== 'fill') continue;
              const p = pos[e.symbol]!;
              const price = dec(e.price);
              const lots = Math.round(e.qty / STEP);
              const cur = p.lots;
              const reducing = cur !== 0 && cur < 0 !== lots < 0;
              const closeL = reducing ? Math.min(Math.abs(lots), Math.abs(cur)) : 0;
              const openL = Math.abs(lots) - closeL;
              let realized = ZERO;
              if (closeL > 0) {
                const proceeds = R(dec(closeL).times(STEP).times(price));
                const basis = closeL === Math.abs(cur) ? p.cost : R(p.cost.times(closeL).div(Math.abs(cur)));
                realized = cur < 0 ? basis.minus(proceeds) : proceeds.minus(basis);
                if (p.mode === 'isolated') {
                  const rel = closeL === Math.abs(cur) ? p.iso : R(p.iso.times(closeL).div(Math.abs(cur)));
                  p.iso = p.iso.minus(rel);
                  cross = cross.plus(rel);
                }
                cross = cross.plus(realized);
                tot.realized = tot.realized.plus(realized);
                p.cost = p.cost.minus(basis);
                p.lots = cur < 0 ? cur + closeL : cur - closeL;
                if (p.lots === 0) p.cost = ZERO;
              }
              if (openL > 0) {
                if (p.lots === 0) p.mode = e.mode;
                const notional = R(dec(openL).times(STEP).times(price));
                p.cost = p.cost.plus(notional);
                p.lots += lots < 0 ? -openL : openL;
                if (p.mode === 'isolated') {
                  const im = R(notional.div(p.lev));
                  p.iso = p.iso.plus(im);
                  cross = cross.minus(im);
                }
              }
              if (p.lots === 0) p.mode = null;
              const fee = R(dec(Math.abs(lots)).times(STEP).times(price).times(op.maker ? venue.fees.maker : venue.fees.taker));
              cross = cross.minus(fee);
              tot.fees = tot.fees.plus(fee);
              expect(e.fee).toBe(fee.toFixed());
              expect(e.realizedPnl).toBe(realized.toFixed());
              expect(Math.round(e.positionQty / STEP)).toBe(p.lots);
              checkedEvents.fill++;
            }
          } else if (op.k === 'funding') {
            const avail = a.availableF();
            a.applyFunding(op.sym, op.rate, op.px, 0);
            for (const e of next()) {
              if (e.type !== 'funding') continue;
              const p = pos[e.symbol]!;
              const received = R(dec(p.lots).times(STEP).times(e.price).times(e.rate).neg());
              expect(e.received).toBe(received.toFixed());
              if (p.mode === 'cross') cross = cross.plus(received);
              else if (venue.funding.isolatedBooking === 'isolatedWallet') p.iso = p.iso.plus(received);
              else if (received.gte(0)) cross = cross.plus(received);
              else {
                const fromAvail = Decimal.min(received.neg(), R(dec(Math.max(0, avail))));
                cross = cross.minus(fromAvail);
                p.iso = p.iso.minus(received.neg().minus(fromAvail));
              }
              if (received.gte(0)) tot.fr = tot.fr.plus(received);
              else tot.fp = tot.fp.minus(received);
              checkedEvents.funding++;
            }
          } else if (op.k === 'transfer') {
            a.transferMargin(op.sym, op.amt, 0);
            for (const e of next()) {
              if (e.type !== 'transfer') continue;
              expect(e.amount).toBe(R(dec(op.amt)).toFixed());
              pos[e.symbol]!.iso = pos[e.symbol]!.iso.plus(e.amount);
              cross = cross.minus(e.amount);
              checkedEvents.transfer++;
            }
          } else {
            const pools = a.pools();
            if (pools.length === 0) continue;
            a.liquidate(pools[op.pick % pools.length]!, new Float64Array([op.px, op.px * 1.1, op.px * 0.9]), 0);
            for (const e of next()) {
              if (e.type !== 'liquidation') continue;
              const isolated = pos[e.symbols[0]!]!.mode === 'isolated';
              const margin = isolated ? pos[e.symbols[0]!]!.iso : cross;
              let realized = ZERO;
              let notional = ZERO;
              e.symbols.forEach((s, k) => {
                const p = pos[s]!;
                const proceeds = R(dec(Math.abs(p.lots)).times(STEP).times(e.prices[k]!));
                realized = realized.plus(p.lots < 0 ? p.cost.minus(proceeds) : proceeds.minus(p.cost));
                notional = notional.plus(proceeds);
              });
              tot.realized = tot.realized.plus(realized);
              const remaining = margin.plus(realized);
              let penalty = ZERO;
              let draw = ZERO;
              if (remaining.isNeg()) draw = remaining.neg();
              else {
                const rule = venue.liquidation.penalty;
                penalty = rule === 'remainingMargin' ? remaining : Decimal.min(remaining, R(notional.times(rule.feeRate)));
              }
              const returned = remaining.isNeg() ? ZERO : remaining.minus(penalty);
              expect(e.realizedPnl).toBe(realized.toFixed());
              expect(e.penalty).toBe(penalty.toFixed());
              expect(e.insuranceDraw).toBe(draw.toFixed());
              tot.pen = tot.pen.plus(penalty);
              tot.ins = tot.ins.plus(draw);
              if (isolated) cross = cross.plus(returned);
              else cross = returned;
              for (const s of e.symbols) Object.assign(pos[s]!, { lots: 0, cost: ZERO, iso: ZERO, mode: null });
              checkedEvents.liquidation++;
            }
          }
        }
        const b = a.books();
        const wallet = pos.reduce((w, p) => w.plus(p.iso), cross);
        expect(b).toEqual({
          initialDeposit: '1000.12345679',
          wallet: wallet.toFixed(),
          realizedPnl: tot.realized.toFixed(),
          fees: tot.fees.toFixed(),
          fundingReceived: tot.fr.toFixed(),
          fundingPaid: tot.fp.toFixed(),
          liquidationPenalties: tot.pen.toFixed(),
          insuranceDraws: tot.ins.toFixed(),
        });
        expect(booksImbalance(b)).toBe('0');
        SYMS.forEach((_, i) => expect(a.isolatedWallet(i)).toBe(pos[i]!.iso.toNumber()));
      }),
      { numRuns: 300 },
    );
    // the sequences exercised every kind of booking
    expect(checkedEvents.fill).toBeGreaterThan(300);
    expect(checkedEvents.funding).toBeGreaterThan(50);
    expect(checkedEvents.transfer).toBeGreaterThan(3);
    expect(checkedEvents.liquidation).toBeGreaterThan(20);
  });

  it('booksImbalance is exact at any size (decimal.js keeps 20 digits by default)', () => {
    const b = { initialDeposit: '1000000000000', realizedPnl: '0.00000001', fees: '0', fundingReceived: '0', fundingPaid: '0', liquidationPenalties: '0', insuranceDraws: '0', wallet: '1000000000000.00000001' };
    expect(booksImbalance(b)).toBe('0');
    expect(booksImbalance({ ...b, realizedPnl: '0.00000004' })).toBe('0.00000003');
  });

  it('sums beyond 2^53 units stay exact (a top-tier position of 1e9 USDT notional)', () => {
    const a = createAccount({ venue: getVenue('binance-usdm'), symbols: ['BTCUSDT'], initialDeposit: '2000000000.00000001', defaultMode: 'cross', leverage: 1, asOfMs: Date.parse('2024-11-01') });
    expect(a.trade({ symbol: 0, qty: 15_000, price: 65432.12345678, liquidity: 'taker', time: 0 }).ok).toBe(true);
    expect(a.trade({ symbol: 0, qty: -15_000, price: 65432.12345679, liquidity: 'taker', time: 1 }).ok).toBe(true);
    const fills = a.events.filter((e) => e.type === 'fill');
    // 15 000 × 0.00000001 = 0.00015 realised; fees 0.0005 × notional each
    expect(fills[1]!.type === 'fill' && fills[1]!.realizedPnl).toBe('0.00015');
    expect(fills[0]!.type === 'fill' && fills[0]!.fee).toBe(R(dec(15_000).times('65432.12345678').times('0.0005')).toFixed());
    expect(booksImbalance(a.books())).toBe('0');
    expect(a.books().wallet).toBe(dec('2000000000.00000001').plus('0.00015').minus(R(dec(15_000).times('65432.12345678').times('0.0005'))).minus(R(dec(15_000).times('65432.12345679').times('0.0005'))).toFixed());
  });
});
