/**
 * `marginlab calc` on the venues other than binance-usdm, checked against an independent decimal re-derivation of
 * margin-spec.md §2–§5 (the expected numbers are worked out in the comments).
 */
import { describe, expect, it } from 'vitest';
import { runCalcLiq } from '../src/venue/calc-cli.js';
import { evaluate, evaluateLine } from '../src/venue/calc.js';
import { UserError } from '../src/errors.js';

const liqJson = (opts: Record<string, string | boolean>) => JSON.parse(runCalcLiq({ json: true, ...opts })) as { liquidationPrice: number | null; notes?: string[] };

describe('calc liq, hyperliquid: the leverage note reads the maximum leverage the price was computed with', () => {
  const base = { venue: 'hyperliquid', side: 'long', entry: '100', qty: '1' };
  it('--max-leverage 50 with --leverage 40: no note (the default table\'s 10x was said to be exceeded)', () => {
    // l = 1/100, margin 2.5: LP = 100 − (2.5 − 1)/0.99 = 98.48…
    const r = liqJson({ ...base, leverage: '40', maxLeverage: '50' });
    expect(r.liquidationPrice).toBeCloseTo(100 - 1.5 / 0.99, 12);
    expect(r.notes ?? []).toEqual([]);
  });
  it('--max-leverage 50 with --leverage 60: the note names 50x (it named 10x)', () => {
    const r = liqJson({ ...base, leverage: '60', maxLeverage: '50' });
    expect(r.notes).toEqual([expect.stringMatching(/^leverage 60x is above the 50x maximum/)]);
  });
  it('--symbol BTC (50x) with --leverage 40: no note, with --leverage 60 one naming 50x', () => {
    expect(liqJson({ ...base, leverage: '40', symbol: 'BTC', asOf: '2025-01-01' }).notes ?? []).toEqual([]);
    expect(liqJson({ ...base, leverage: '60', symbol: 'BTC', asOf: '2025-01-01' }).notes).toEqual([expect.stringMatching(/^leverage 60x is above the 50x maximum/)]);
  });
});

describe('calc liq, okx: the explanation holds every term of the price', () => {
  it('BTCUSDT tier 3 (MMR 0.8 %, cum 7,000): the terms printed reproduce the price (cum was left out)', () => {
    // cum = 500,000 × 0.002 + 3,000,000 × 0.002 = 7,000; LP = (60,000 − (600,000 + 7,000)/100) / (1 − 0.0085) = 54,392.33…
    // (without cum, 54,462.93)
    const text = runCalcLiq({ venue: 'okx', side: 'long', entry: '60000', qty: '100', leverage: '10', symbol: 'BTCUSDT', asOf: '2025-01-01' });
    expect(text).toMatch(/^liquidation price: 54392\.3348462$/m);
    expect(text).toMatch(/^ {2}MMR, cum {4}0\.008, 7000 /m);
    expect(text).toMatch(/\(Margin \+ cum\)/);
  });
});

describe('calc, okx: an MMR plus taker rate of 1 or more is refused', () => {
  // maintenance + liquidation fee = Q·P·(MMR + taker) ≥ Q·P: a long's excess M + Q(P − EP) − Q·P·(MMR + taker) falls as the price
  // rises and is M − Q·EP < 0 at P = 0, so it is past its threshold at every price. It was answered "no price" (null: cannot be
  // liquidated), or at a sum of exactly 1 "the price overflows a number: give a position of a realistic size"
  const line = { op: 'liquidationPrice', venue: 'okx', side: 'long', qty: 1, entryPrice: 100, walletBalance: 10 };
  it('JSON lines: an error naming mmr and takerFee', () => {
    for (const extra of [{ mmr: 0.9995 }, { mmr: 0.9999 }, { mmr: 0.5, takerFee: 0.6 }, { symbol: 'BTCUSDT', takerFee: 0.95, asOf: '2025-01-01' }]) {
      const r = evaluateLine(JSON.stringify({ ...line, ...extra }));
      expect(r.ok, JSON.stringify(extra)).toBe(false);
      expect(JSON.parse(r.text).error).toMatch(/"mmr".*"takerFee".*below 1/);
    }
    const cross = { op: 'liquidationPrice', venue: 'okx', mode: 'cross', walletBalance: 10, target: 'AUSDT', takerFee: 0.6, positions: [{ symbol: 'AUSDT', side: 'long', qty: 1, entryPrice: 100, markPrice: 100, mmr: 0.5 }] };
    expect(JSON.parse(evaluateLine(JSON.stringify(cross)).text).error).toMatch(/"mmr".*"takerFee".*below 1/);
    // just below 1 is answered (a short's price exists: (100 + 10) / (1 + 0.9999))
    expect(evaluate({ ...line, side: 'short', mmr: 0.9994 }).liquidationPrice).toBeCloseTo(110 / 1.9999, 12);
  });
  it('a short is answered at any sum: its excess M + Q(EP − P) − Q·P·(MMR + taker) reaches 0 at (Q·EP + M) / (Q·(1 + MMR + taker))', () => {
    // it was refused with "a long is past its threshold at every price" (the answers below are the ones before that check)
    expect(evaluate({ ...line, side: 'short', mmr: 0.9995 }).liquidationPrice).toBeCloseTo(110 / 2, 12);
    expect(evaluate({ ...line, side: 'short', mmr: 0.6, takerFee: 0.5 }).liquidationPrice).toBeCloseTo(110 / 2.1, 12);
    const cross = { op: 'liquidationPrice', venue: 'okx', mode: 'cross', walletBalance: 10, target: 'AUSDT', takerFee: 0.6, positions: [{ symbol: 'AUSDT', side: 'short', qty: 1, entryPrice: 100, markPrice: 100, mmr: 0.5 }] };
    expect(evaluate(cross).liquidationPrice).toBeCloseTo(110 / 2.1, 12);
    expect(liqJson({ venue: 'okx', side: 'short', entry: '100', qty: '1', wallet: '10', mmr: '0.5', taker: '0.6' }).liquidationPrice).toBeCloseTo(110 / 2.1, 12);
  });
  it('calc liq: a usage error (64) naming --mmr and --taker', () => {
    const opts = { venue: 'okx', side: 'long', entry: '100', qty: '1', wallet: '10' };
    for (const extra of [{ mmr: '0.9995' }, { mmr: '0.5', taker: '0.6' }]) {
      let err: unknown;
      try {
        runCalcLiq({ ...opts, ...extra });
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(extra)).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(64);
      expect((err as Error).message).toMatch(/--mmr.*--taker.*below 1/);
    }
  });
});

describe('calc, bybit-linear: mmDeduction is the maintenance amount of a tier given by hand', () => {
  const line = { op: 'liquidationPrice', venue: 'bybit-linear', side: 'long', qty: 1, entryPrice: 100, leverage: 10 };
  it('with maintenanceAmount too: an error (mmDeduction won in silence: 91 where maintenanceAmount 5 gives 86)', () => {
    // LP = EP − (IM − MM)/Q = 100 − (10 − (1 − 5)) = 86 with a deduction of 5; 91 with 0
    expect(evaluate({ ...line, mmr: 0.01, maintenanceAmount: 5 }).liquidationPrice).toBe(86);
    expect(evaluate({ ...line, mmr: 0.01, mmDeduction: 5 }).liquidationPrice).toBe(86);
    const r = evaluateLine(JSON.stringify({ ...line, mmr: 0.01, maintenanceAmount: 5, mmDeduction: 0 }));
    expect(r.ok).toBe(false);
    expect(JSON.parse(r.text).error).toMatch(/"mmDeduction".*"maintenanceAmount"/);
  });
  it('with a symbol\'s table: an error, as maintenanceAmount (the table\'s MMR with another deduction: 85.5)', () => {
    const r = evaluateLine(JSON.stringify({ ...line, symbol: 'BTCUSDT', mmDeduction: 5 }));
    expect(r.ok).toBe(false);
    expect(JSON.parse(r.text).error).toMatch(/"mmDeduction" goes with "mmr"/);
  });
});

describe('calc liq, hyperliquid cross: the margin it reads is the cross wallet without uPnL', () => {
  it('the explanation says collateral without unrealised PnL (it said "account value", which on Hyperliquid includes uPnL)', () => {
    const text = runCalcLiq({ venue: 'hyperliquid', side: 'long', entry: '100', qty: '1', wallet: '20', maxLeverage: '50', mode: 'cross' });
    expect(text).toMatch(/margin\s+20 \(cross wallet: collateral without unrealised PnL/);
    expect(text).not.toMatch(/\(account value\)/);
  });
});

describe('calc: a tier amount given without its rate', () => {
  it('without a symbol asks for the rate (it said "a symbol\'s table has its own" to an input naming no symbol); with a symbol says the table has its own', () => {
    const line = (o: Record<string, unknown>) => JSON.parse(evaluateLine(JSON.stringify(o)).text) as { error?: string };
    const base = { op: 'liquidationPrice', venue: 'bybit-linear', side: 'long', qty: 1, entryPrice: 100, leverage: 10, mmDeduction: 5 };
    expect(line(base).error).toBe('"mmDeduction" goes with "mmr" (one tier given by hand): give "mmr" too, or "symbol" for the venue\'s tier table instead of both');
    expect(line({ ...base, symbol: 'BTCUSDT' }).error).toBe('"mmDeduction" goes with "mmr" (one tier given by hand); a symbol\'s table has its own');
  });
});
