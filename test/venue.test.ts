/** Venue profiles: dated tier tables, defaults, overrides, and each venue's published closed form. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UserError } from '../src/errors.js';
import { createAccount } from '../src/account/index.js';
import { getVenue, listVenues, tierFor, buildTiers, maintenanceFor, type VenueOverrides } from '../src/venue/index.js';
import { loadBracketSnapshots, BINANCE_TIERS_DIR, pickDated } from '../src/venue/tiers.js';

const D2024 = Date.parse('2024-11-01');
const D2026 = Date.parse('2026-06-01');

describe('registry', () => {
  it('lists the four built-in venues', () => {
    expect(listVenues().map((v) => v.id)).toEqual(['binance-usdm', 'bybit-linear', 'hyperliquid', 'okx']);
  });
  it('rejects an unknown venue with exit 78, listing the known ones', () => {
    let err: unknown;
    try {
      getVenue('ftx');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(78);
    expect((err as UserError).message).toContain('binance-usdm, bybit-linear, hyperliquid, okx');
  });
});

describe('Binance dated tables', () => {
  const v = getVenue('binance-usdm');
  it('picks the table in force at the date (latest ≤ asOf, else the earliest)', () => {
    expect(v.tiers('BTCUSDT', D2024).map((t) => t.cum)).toEqual([0, 50, 950, 11450, 131450, 481450, 2981450, 14481450, 26481450, 41481450, 121481450, 421481450]);
    expect(v.tiers('BTC/USDT:USDT', D2026).slice(0, 6).map((t) => [t.floor, t.mmr, t.maxLeverage, t.cum])).toEqual([
      [0, 0.004, 150, 0],
      [300000, 0.005, 100, 300],
      [800000, 0.0065, 75, 1500],
      [3000000, 0.01, 50, 12000],
      [12000000, 0.02, 25, 132000],
      [70000000, 0.025, 20, 482000],
    ]);
    expect(v.tiers('ETHUSDT', D2026)[5]!.cum).toBe(382000);
    expect(v.tiers('BTCUSDT', Date.parse('2020-01-01'))).toBe(v.tiers('BTCUSDT', D2024));
    expect(v.tierSource!('BTCUSDT', D2026)).toContain('2026-05-03');
  });
  it("a snapshot with a symbol's tiers written twice is 65 naming it and its line (JSON kept the last in silence)", () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-tiers-dup-'));
    const row = '[0, 50000, 0.004, 125, 0]';
    writeFileSync(join(dir, 'dup-2025-01-01.json'), `{ "columns": ["floor", "cap", "mmr", "maxLeverage", "cum"], "symbols": {\n  "BTCUSDT": [${row}],\n  "BTCUSDT": [${row}] } }`);
    expect(() => loadBracketSnapshots(dir, 'dup')).toThrow(expect.objectContaining({ exitCode: 65, message: `${join(dir, 'dup-2025-01-01.json')}: 'BTCUSDT' is written twice in symbols (line 3); JSON keeps only the last: keep one` }));
    rmSync(dir, { recursive: true, force: true });
  });

  it('bundles every symbol of both snapshots, each with MM continuous in notional (cum recurrence)', () => {
    const tables = loadBracketSnapshots(BINANCE_TIERS_DIR, 'binance-usdm');
    expect(tables.map((t) => [t.snapshot, t.symbols.size])).toEqual([
      ['2024-10-24', 318],
      ['2026-05-03', 673],
    ]);
    let worst = 0;
    for (const t of tables)
      for (const tiers of t.symbols.values())
        for (let i = 1; i < tiers.length; i++) {
          const b = tiers[i]!.floor;
          worst = Math.max(worst, Math.abs(b * tiers[i - 1]!.mmr - tiers[i - 1]!.cum - (b * tiers[i]!.mmr - tiers[i]!.cum)) / Math.max(1, b));
        }
    expect(worst).toBeLessThan(1e-9);
    expect(pickDated(tables, D2026).snapshot).toBe('2026-05-03');
  });
  it('uses the documented default table for symbols without one', () => {
    const t = v.tiers('NOSUCHCOINUSDT', D2024);
    expect(t[0]).toMatchObject({ floor: 0, mmr: 0.01, maxLeverage: 75, cum: 0 });
    expect(t[1]!.cum).toBe(50);
    expect(v.tierSource!('NOSUCHCOINUSDT', D2024)).toContain('default');
  });
  it('selects tiers with inclusive floors', () => {
    const t = v.tiers('BTCUSDT', D2024);
    expect(tierFor(t, 49999.99).mmr).toBe(0.004);
    expect(tierFor(t, 50000).mmr).toBe(0.005);
    expect(maintenanceFor(t, 50000)).toBeCloseTo(200, 9);
  });
});

describe('published closed forms (unit table)', () => {
  const cases: [string, string, Parameters<ReturnType<typeof getVenue>['isolatedLiquidationPrice']>[0], number, number][] = [
    // Binance FAQ isolated (freqtrade test_liquidation_price_binance): 1114.78
    ['binance-usdm', 'isolated ETH', { side: 1, qty: 3683.979, entryPrice: 1456.84, walletBalance: 1535443.01, leverage: 1, tiers: buildTiers([{ floor: 0, mmr: 0.1, cum: 135365 }], 't') }, 1114.78, 0.005],
    // Bybit example (freqtrade): 50x, EP 40000, MMR 0.5 % → 39400; EP 20000 → 19700
    ['bybit-linear', '50x 40000', { side: 1, qty: 1, entryPrice: 40000, walletBalance: 800, leverage: 50, tiers: buildTiers([{ floor: 0, mmr: 0.005 }], 't') }, 39400, 1e-9],
    ['bybit-linear', '50x 20000', { side: 1, qty: 1, entryPrice: 20000, walletBalance: 400, leverage: 50, tiers: buildTiers([{ floor: 0, mmr: 0.005 }], 't') }, 19700, 1e-9],
    // Hyperliquid real position (freqtrade test_hyperliquid_dry_run_liquidation_price #17)
    ['hyperliquid', 'BTC long 5x', { side: 1, qty: 0.0015, entryPrice: 66930, walletBalance: 20.043862, leverage: 5, tiers: getVenue('hyperliquid').tiers('BTC', D2024) }, 54108.51043771, 54108.51 * 1e-4],
    // Gate/OKX (freqtrade test_get_liquidation_price): short 3x, MMR 1 %, taker 0.06 %
    ['okx', 'short 3x', { side: -1, qty: 1, entryPrice: 10, walletBalance: 10 / 3, leverage: 3, tiers: buildTiers([{ floor: 0, mmr: 0.01 }], 't') }, 13.193482419684678, 1e-6],
  ];
  it.each(cases)('%s %s', (venue, _name, p, expected, tol) => {
    const v = venue === 'okx' ? getVenue('okx', { fees: { taker: 0.0006 } }) : getVenue(venue);
    expect(Math.abs(v.isolatedLiquidationPrice(p) - expected)).toBeLessThanOrEqual(tol);
  });
  it('re-chooses the Binance tier at the liquidation notional', () => {
    const v = getVenue('binance-usdm');
    const tiers = v.tiers('BTCUSDT', D2024);
    // 1.1 BTC long at 46000 (notional 50.6k, tier 2) with 20x margin: LP notional falls into tier 1 (< 50k)
    const lp = v.isolatedLiquidationPrice({ side: 1, qty: 1.1, entryPrice: 46000, walletBalance: 2530, leverage: 20, tiers });
    expect(1.1 * lp).toBeLessThan(50000);
    expect(lp).toBeCloseTo((2530 - 1.1 * 46000) / (1.1 * 0.004 - 1.1), 9);
  });
  it('gives NaN when no positive price exists and bankruptcy at zero margin', () => {
    const v = getVenue('binance-usdm');
    expect(v.isolatedLiquidationPrice({ side: 1, qty: 1, entryPrice: 100, walletBalance: 200, leverage: 1, tiers: v.tiers('X', D2024) })).toBeNaN();
    expect(v.bankruptcyPrice({ side: -1, qty: 2, entryPrice: 100, walletBalance: 20 })).toBe(110);
  });
  it('Hyperliquid maintenance rate is half the initial margin at max leverage', () => {
    const t = getVenue('hyperliquid').tiers('SOL/USDC:USDC', D2024);
    expect(t[0]).toMatchObject({ maxLeverage: 20, mmr: 0.025 });
  });
  it('venue facts: fees, funding interval and price, isolated funding booking, penalty, maintenance basis', () => {
    const f = (id: string) => {
      const v = getVenue(id);
      return [v.fees.taker, v.funding.intervalHours, v.funding.priceSource, v.funding.isolatedBooking, v.liquidation.penalty, v.maintenance?.basis];
    };
    expect(f('binance-usdm')).toEqual([0.0005, 8, 'mark', 'isolatedWallet', 'remainingMargin', 'mark']);
    expect(f('bybit-linear')).toEqual([0.00055, 8, 'mark', 'availableFirst', 'remainingMargin', 'entry']);
    expect(f('hyperliquid')).toEqual([0.00045, 1, 'oracle', 'availableFirst', 'remainingMargin', 'mark']);
    expect(f('okx')).toEqual([0.0005, 8, 'mark', 'availableFirst', { feeRate: 0.0005 }, 'mark']);
  });
  it("OKX's liquidation fee is the taker rate in force: an overridden taker fee moves the penalty as it moves the maintenance add-on", () => {
    const v = getVenue('okx', { fees: { taker: 0.0002 } });
    expect(v.liquidation.penalty).toEqual({ feeRate: 0.0002 });
    expect(v.maintenance?.extraRate).toBe(0.0002);
    // 'taker' in an override follows the venue's taker fee too; a rate stays as given
    expect(getVenue('binance-usdm', { fees: { taker: 0.0007 }, liquidation: { penalty: { feeRate: 'taker' } } }).liquidation.penalty).toEqual({ feeRate: 0.0007 });
    expect(getVenue('okx', { fees: { taker: 0.0002 }, liquidation: { penalty: { feeRate: 0.001 } } }).liquidation.penalty).toEqual({ feeRate: 0.001 });
  });
});

describe('custom venues (built-in + overrides)', () => {
  it('overrides fees, funding, penalty and tiers', () => {
    const v = getVenue('binance-usdm', {
      id: 'my-binance',
      fees: { taker: 0.0004 },
      funding: { intervalHours: 4, isolatedBooking: 'availableFirst' },
      liquidation: { penalty: { feeRate: 0.01 } },
      tiers: { 'BTC/USDT:USDT': [{ floor: 0, mmr: 0.01, maxLeverage: 50 }, { floor: 100000, mmr: 0.02, maxLeverage: 20 }], '*': [{ floor: 0, mmr: 0.05, maxLeverage: 10 }] },
    });
    expect(v.id).toBe('my-binance');
    expect(v.fees).toEqual({ maker: 0.0002, taker: 0.0004 });
    expect(v.funding).toMatchObject({ intervalHours: 4, isolatedBooking: 'availableFirst', priceSource: 'mark' });
    expect(v.liquidation.penalty).toEqual({ feeRate: 0.01 });
    expect(v.tiers('BTCUSDT', D2024)[1]).toMatchObject({ floor: 100000, cum: 1000 });
    expect(v.tiers('ETHUSDT', D2024)[0]!.mmr).toBe(0.004); // dated table still used
    expect(v.tiers('DOGEXUSDT', D2024)[0]!.mmr).toBe(0.05);
    expect(getVenue('binance-usdm').fees.taker).toBe(0.0005); // the built-in is unchanged
  });
  it('names the key and the expected value of every override check', () => {
    const cases: [VenueOverrides, string][] = [
      [{ id: 'my venue' }, `venue override id: expected a name of letters, digits, '.', '_' or '-', got "my venue"`],
      [{ funding: { priceSource: 'index' as never } }, 'venue override funding.priceSource: expected "mark" or "oracle", got "index"'],
      [{ funding: { isolatedBooking: 'cross' as never } }, 'venue override funding.isolatedBooking: expected "isolatedWallet" or "availableFirst", got "cross"'],
      [{ funding: { openCutoffMs: -1 } }, 'venue override funding.openCutoffMs: expected a number in [0, 3600000], got -1'],
      [{ liquidation: { penalty: { feeRate: 2 } } }, 'venue override liquidation.penalty.feeRate: expected a number in [0, 1], got 2'],
      [{ maintenance: { basis: 'index' as never } }, 'venue override maintenance.basis: expected "mark" or "entry", got "index"'],
      [{ maintenance: { extraRate: 0.9 } }, 'venue override maintenance.extraRate: expected a number in [0, 0.5], got 0.9'],
      [{ tiers: [] as never }, 'venue override tiers: expected an object, got []'],
      // a taker fee is paid: a negative one made OKX's liquidation fee (the taker rate) a payment to the liquidated
      [{ fees: { taker: -0.005 } }, 'venue override fees.taker: expected a number in [0, 0.1], got -0.005'],
      [{ fees: { maker: -0.02 } }, 'venue override fees.maker: expected a number in [-0.01, 0.1], got -0.02'],
      // a misspelt key of a section was left out in silence, the venue's default replayed in its place
      [{ fees: { takr: 0.001 } as never }, `venue override fees: unknown key "takr" (did you mean 'taker'?) (known: maker, taker)`],
      [{ funding: { intervalHour: 4 } as never }, `venue override funding: unknown key "intervalHour" (did you mean 'intervalHours'?) (known: intervalHours, priceSource, isolatedBooking, openCutoffMs)`],
      [{ maintenance: { basiss: 'entry' } as never }, `venue override maintenance: unknown key "basiss" (did you mean 'basis'?) (known: basis, extraRate)`],
      [{ liquidation: { penalty: 'remainingMargin', fee: 1 } as never }, `venue override liquidation: unknown key "fee" (known: penalty)`],
      [{ liquidation: { penalty: { feeRat: 0.01 } } as never }, `venue override liquidation.penalty: unknown key "feeRat" (did you mean 'feeRate'?) (known: feeRate)`],
      // 'base' was a known key read nowhere: { base: 'binance-usdm' } ran OKX's rules in silence
      [{ base: 'binance-usdm' } as never, `venue override: unknown key "base": the rules a custom venue starts from are venue.id's (now okx); set venue.id to the venue to start from, and overrides.id to the custom venue's name`],
      [{ feez: {} } as never, `venue override: unknown key "feez" (did you mean 'fees'?) (known: id, name, fees, funding, liquidation, maintenance, tiers, lotSizes)`],
      // another built-in venue's name on these rules: the reports named okx where Binance's ran
      [{ id: 'binance-usdm' }, `venue override id: 'binance-usdm' is another built-in venue, while the rules are okx's; name the custom venue otherwise (e.g. 'okx-custom'), or set venue.id to 'binance-usdm' for its rules`],
    ];
    for (const [o, message] of cases) expect(() => getVenue('okx', o)).toThrow(expect.objectContaining({ exitCode: 78, message }));
  });
  it('a negative maker fee is a rebate: accepted, booked as a negative fee that the books identity counts', () => {
    const v = getVenue('okx', { fees: { maker: -0.0001 } });
    expect(v.fees.maker).toBe(-0.0001);
    const acct = createAccount({ venue: v, symbols: ['BTCUSDT'], initialDeposit: '10000', defaultMode: 'cross', leverage: 5, asOfMs: Date.UTC(2025, 0, 1) });
    const f = acct.trade({ symbol: 0, qty: 0.1, price: 30000, liquidity: 'maker', time: 0 });
    expect(f.ok && f.fee).toBe('-0.3');
    const b = acct.books();
    expect(b.fees).toBe('-0.3');
    expect(b.wallet).toBe('10000.3'); // deposit − fees: the rebate is paid into the wallet
  });
  it('rejects bad overrides with exit 78 naming the key', () => {
    const bad = [
      () => getVenue('okx', { fees: { taker: -1 } }),
      () => getVenue('okx', { tiers: { BTCUSDT: [{ floor: 10, mmr: 0.01 }] } }),
      () => getVenue('okx', { liquidation: { penalty: 'all' as never } }),
      () => getVenue('okx', { colour: 'red' } as never),
    ];
    for (const f of bad) {
      let err: unknown;
      try {
        f();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(78);
    }
  });
});

describe('buildTiers: every tier checked and named as written', () => {
  const err = (rows: unknown[]) => {
    try {
      buildTiers(rows as never, 'venue override tiers.XRPUSDT');
    } catch (e) {
      expect(e).toBeInstanceOf(UserError);
      expect((e as UserError).exitCode).toBe(78);
      return (e as Error).message;
    }
    return null;
  };
  it('a misspelt key is refused naming the tier and the key it meant (maxLevrage was left out in silence)', () => {
    expect(err([{ floor: 0, mmr: 0.02, maxLevrage: 5 }])).toBe(`venue override tiers.XRPUSDT tier 1: unknown key "maxLevrage" (did you mean 'maxLeverage'?) (known: floor, cap, mmr, maxLeverage, cum)`);
    expect(err([{ floor: 0, mmr: 0.01 }, { floor: 100, mmr: 0.02, cumm: 1 }])).toMatch(/^venue override tiers\.XRPUSDT tier 2: unknown key "cumm" \(did you mean 'cum'\?\)/);
    expect(err([{ floor: 0, mmr: 0.01 }, 5])).toBe('venue override tiers.XRPUSDT tier 2: expected an object { floor, mmr, maxLeverage?, cap?, cum? }, got number');
    expect(err([{ floor: '0', mmr: 0.01 }])).toBe('venue override tiers.XRPUSDT tier 1: floor must be a number ≥ 0, got "0"');
  });
  it('tiers written out of order are named in the order written (the second entry is tier 2, whatever its floor)', () => {
    expect(err([{ floor: 100, mmr: 0.5 }, { floor: 0, mmr: 1.2 }])).toBe('venue override tiers.XRPUSDT tier 2: mmr must be a rate in [0, 1), got 1.2');
    expect(err([{ floor: 100, mmr: 0.5 }, { floor: 50, mmr: 0.2 }])).toBe('venue override tiers.XRPUSDT: the first tier must start at notional 0, got a lowest floor of 50 (tier 2)');
    // a duplicate floor is said as one (it was "cap 0 must exceed floor 0", of a cap the user never wrote)
    expect(err([{ floor: 0, mmr: 0.5, maxLeverage: 10 }, { floor: 0, mmr: 0.6 }])).toBe('venue override tiers.XRPUSDT tier 2: duplicate floor 0 (tier 1 has it too): give each tier its own floor');
    expect(err([{ floor: 1000, mmr: 0.02 }, { floor: 0, mmr: 0.01 }, { floor: 1000, mmr: 0.03 }])).toBe('venue override tiers.XRPUSDT tier 3: duplicate floor 1000 (tier 1 has it too): give each tier its own floor');
    // out of order but sound: sorted by floor, the same table as written in order
    expect(buildTiers([{ floor: 50_000, mmr: 0.005 }, { floor: 0, mmr: 0.004 }], 't')).toEqual(buildTiers([{ floor: 0, mmr: 0.004 }, { floor: 50_000, mmr: 0.005 }], 't'));
  });
  it("a cap given is the next tier's floor: a gap or an overlap is refused", () => {
    expect(err([{ floor: 0, cap: 200, mmr: 0.01 }, { floor: 100, mmr: 0.02 }])).toBe("venue override tiers.XRPUSDT tier 1: cap 200 is not the next tier's floor 100 (tier 2): tiers must meet; leave cap out (it is the next floor)");
    expect(err([{ floor: 0, cap: 50, mmr: 0.01 }, { floor: 100, mmr: 0.02 }])).toMatch(/tier 1: cap 50 is not the next tier's floor 100/);
    expect(err([{ floor: 10, mmr: 0.02 }, { floor: 0, cap: 10, mmr: 0.01 }])).toBeNull();
    expect(err([{ floor: 0, cap: 0, mmr: 0.01 }])).toBe('venue override tiers.XRPUSDT tier 1: cap 0 must exceed floor 0');
    expect(buildTiers([{ floor: 0, cap: 5000, mmr: 0.01 }], 't')[0]!.cap).toBe(5000);
  });
});

describe('buildTiers: the cum recurrence', () => {
  it('chains exactly in decimals, from a cum the table gives as well as from one it made', () => {
    // 250,000 × (0.0065 − 0.005) is 374.99999999999994 in doubles; the decimal chain gives 375
    expect(buildTiers([{ floor: 0, mmr: 0.004 }, { floor: 50_000, mmr: 0.005 }, { floor: 250_000, mmr: 0.0065 }], 't').map((t) => t.cum)).toEqual([0, 50, 425]);
    // a given cum (10) starts the chain again: 10 + 250,000 × 0.0015 = 385; the next tier chains from that
    expect(buildTiers([{ floor: 0, mmr: 0.004 }, { floor: 50_000, mmr: 0.005, cum: 10 }, { floor: 250_000, mmr: 0.0065 }, { floor: 1_000_000, mmr: 0.0075 }], 't').map((t) => t.cum)).toEqual([0, 10, 385, 1385]);
  });
});
