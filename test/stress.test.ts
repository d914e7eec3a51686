/**
 * src/stress: scenario splices (OHLC invariants, continuity, mark/trade consistency, the base
 * never written), bootstrap paths (same seed same bytes, cross-asset correlation kept), the
 * hand-computed −20 % correlated shock on a two-symbol long book, survival monotone in leverage,
 * config and plan checks.
 */
import { describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { fileURLToPath } from 'node:url';
import { totalmem } from 'node:os';
import type { MarketData } from '../src/feed/types.js';
import { loadDataset } from '../src/feed/load.js';
import { DEFAULT_EXECUTION, SETUPS, replay } from '../src/engine/index.js';
import { MARK_SETTLE_MS, applyScenario, computeBetas, symbolShocks } from '../src/stress/overlay.js';
import { bootstrapIndices, bootstrapPath, defaultBlockBars } from '../src/stress/bootstrap.js';
import { betaDepth, compileShock, factorAt, keyMatches, marketFallbackWarning, marketIndex, markExtraWarning, parseDuration, scenarioHash, scenarioMovesNone, scenarioSchema, type ScenarioInput } from '../src/stress/scenario.js';
import { CRASH_PACK } from '../src/stress/pack.js';
import { UserError } from '../src/errors.js';
import { checkPlanSize, crashesWarning, describeStressPlan, plannedCrashesPerPath, injectionTimes, injectionWarning, lateShockWarnings, pathCoverageWarning, pathsWarning, resolveStress, scenarioMiss, strategyScenarioWarnings, stressVariants } from '../src/stress/plan.js';
import { stressFigures, stressView } from '../src/stress/view.js';
import { resolveConfig } from '../src/config/index.js';
import buyAndHold from '../strategies/buy-and-hold.js';
import { HOUR, T0, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';
import { getVenue } from '../src/venue/index.js';

const BUNDLED = fileURLToPath(new URL('../data/binance-usdm-2025', import.meta.url));

/** a random-walk two-symbol dataset with mark candles and funding every 8 bars */
function walk(n: number, seed: number): MarketData {
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return ((x >>> 0) % 1_000_000) / 1_000_000;
  };
  const mk = (p0: number) => {
    const bars: Bar[] = [];
    const mark: Bar[] = [];
    let p = p0;
    for (let i = 0; i < n; i++) {
      const o = p;
      const c = p * (1 + (rnd() - 0.5) * 0.02);
      const h = Math.max(o, c) * (1 + rnd() * 0.005);
      const l = Math.min(o, c) * (1 - rnd() * 0.005);
      bars.push([o, h, l, c]);
      mark.push([o * 1.0001, h * 1.0001, l * 0.9999, c * 1.0001]);
      p = c;
    }
    return { bars, mark, funding: Array.from({ length: Math.floor(n / 8) }, (_, k) => ({ bar: 8 * k + 1, rate: 0.0001, price: bars[8 * k + 1]?.[0] ?? p0 })) };
  };
  return makeData({ BTCUSDT: mk(100_000), ETHUSDT: mk(3_000) });
}

function snapshot(md: MarketData): string {
  return md.columns.map((c) => [c.open, c.high, c.low, c.close, c.volume, c.markOpen, c.markHigh, c.markLow, c.markClose, c.fundingRate, c.fundingPrice].map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64')).join('|')).join('#');
}

function checkOhlc(md: MarketData): void {
  for (const c of md.columns) {
    for (let i = 0; i < md.time.length; i++) {
      if (!c.present[i]) continue;
      const [o, h, l, cl] = [c.open[i]!, c.high[i]!, c.low[i]!, c.close[i]!];
      expect(l).toBeGreaterThan(0);
      expect(l).toBeLessThanOrEqual(Math.min(o, cl) * (1 + 1e-12));
      expect(h).toBeGreaterThanOrEqual(Math.max(o, cl) * (1 - 1e-12));
      if (Number.isFinite(c.markOpen[i]!)) {
        expect(c.markLow[i]!).toBeLessThanOrEqual(Math.min(c.markOpen[i]!, c.markClose[i]!) * (1 + 1e-12));
        expect(c.markHigh[i]!).toBeGreaterThanOrEqual(Math.max(c.markOpen[i]!, c.markClose[i]!) * (1 - 1e-12));
      }
    }
  }
}

const shockArb = fc.record({
  depth: fc.double({ min: -0.9, max: 0.5, noNaN: true }),
  duration: fc.integer({ min: 0, max: 20 * HOUR }),
  shape: fc.constantFrom('gap', 'slide', 'wick'),
  recovery: fc.double({ min: 0, max: 1, noNaN: true }),
  markExtra: fc.double({ min: -0.9, max: 1, noNaN: true }),
  volume: fc.double({ min: 0.1, max: 10, noNaN: true }),
  fundingRate: fc.double({ min: -0.01, max: 0.01, noNaN: true }),
})
  // the schema refuses a mark falling past −95 % (depth × (1 + markExtra)); that refusal has its own test
  .filter((s) => -Math.min(0, s.depth) * (1 + s.markExtra) <= 0.95);

describe('scenario splice', () => {
  it('parses durations and matches symbols by base asset', () => {
    expect(parseDuration('3h15m')).toBe(3 * HOUR + 15 * 60_000);
    expect(parseDuration(5000)).toBe(5000);
    expect(parseDuration('soon')).toBeNull();
    expect(keyMatches('BTC', 'BTCUSDT')).toBe(true);
    expect(keyMatches('BTC', 'BTC-USD-PERP')).toBe(true);
    expect(keyMatches('BTC', 'BTCDOMUSDT')).toBe(false);
    expect(keyMatches('ETH', 'ETHBTC')).toBe(false);
  });

  it('two legs: −23 % after 1h, −51 % at the end of the second leg, held after', () => {
    const c = compileShock(CRASH_PACK.find((s) => s.id === 'crash-2020-03-12')!.symbols.BTC!);
    expect(factorAt(c, -1)).toBe(1);
    expect(factorAt(c, HOUR)).toBeCloseTo(0.77, 12);
    expect(factorAt(c, 13 * HOUR)).toBeCloseTo(0.77, 12);
    expect(factorAt(c, 16.25 * HOUR)).toBeCloseTo(0.49, 12);
    expect(factorAt(c, 100 * HOUR)).toBeCloseTo(0.49, 12);
  });

  it("a wick leg before the last gives back all by default: the shock's recovery is the last wick's own", () => {
    const sc = scenarioSchema.parse({
      id: 'two-wicks',
      symbols: { X: { legs: [{ depth: -0.2, duration: '2h', shape: 'wick' }, { depth: -0.4, duration: '2h', shape: 'wick', at: '3h' }], recovery: 0.5 } },
    } as ScenarioInput);
    const c = compileShock(sc.symbols.X!);
    expect(factorAt(c, HOUR)).toBeCloseTo(0.8, 12);
    // the first wick is back at the pre-shock level by its end (it gave back half before the fix: 0.9)
    expect(factorAt(c, 2 * HOUR)).toBeCloseTo(1, 12);
    expect(factorAt(c, 2.5 * HOUR)).toBeCloseTo(1, 12);
    expect(factorAt(c, 4 * HOUR)).toBeCloseTo(0.6, 12);
    // the last wick gives back the shock's recovery (half) by its end, and stays there
    expect(factorAt(c, 5 * HOUR)).toBeCloseTo(0.8, 12);
    expect(factorAt(c, 50 * HOUR)).toBeCloseTo(0.8, 12);
    // a leg's own recovery wins over both defaults
    const own = scenarioSchema.parse({
      id: 'own',
      symbols: { X: { legs: [{ depth: -0.2, duration: '2h', shape: 'wick', recovery: 0.25 }, { depth: -0.4, duration: '2h', shape: 'wick', at: '3h', recovery: 0 }], recovery: 0.5 } },
    } as ScenarioInput);
    const o = compileShock(own.symbols.X!);
    expect(factorAt(o, 2 * HOUR)).toBeCloseTo(0.85, 12);
    expect(factorAt(o, 5 * HOUR)).toBeCloseTo(0.6, 12);
  });

  it('a markExtra that would take the mark past −95 % is refused, naming markExtra and the most it may be', () => {
    const r = scenarioSchema.safeParse({ id: 'deep', symbols: { BTC: { depth: -0.6, duration: '1h', shape: 'wick', markExtra: 1 } } });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([
      expect.objectContaining({ path: ['symbols', 'BTC', 'markExtra'], message: expect.stringMatching(/mark would fall 120 % .*at most 0\.583333/) }),
    ]);
    // in a leg too, and in the market shock
    const legs = scenarioSchema.safeParse({ id: 'l', market: { legs: [{ depth: -0.2, duration: '1h' }, { depth: -0.5, duration: '1h', at: '1h' }], markExtra: 0.95 } });
    expect(legs.success).toBe(false);
    expect(legs.error!.issues[0]!.path).toEqual(['market', 'markExtra']);
    // at the bound, and a rise however large, are kept
    expect(scenarioSchema.safeParse({ id: 'b', symbols: { BTC: { depth: -0.5, duration: '1h', markExtra: 0.9 } } }).success).toBe(true);
    // a depth written past the floor is refused as written (it was kept at the floor without a word)
    for (const depth of [-0.99, -0.999999, -0.9500001]) {
      const floor = scenarioSchema.safeParse({ id: 'f', symbols: { BTC: { depth, duration: '1h' } } });
      expect(floor.error!.issues.map((i) => [i.path.join('.'), i.message]), String(depth)).toContainEqual(['symbols.BTC.depth', 'a shock moves a price at most -95 % (-0.95: a move to zero leaves no price to trade); give -0.95 or above']);
    }
    expect(scenarioSchema.safeParse({ id: 'f', symbols: { BTC: { depth: -0.95, duration: '1h' } } }).success).toBe(true);
    // −1 or below: one problem, not that one and the floor's beside it
    for (const depth of [-1, -1.2]) {
      const below = scenarioSchema.safeParse({ id: 'f', symbols: { BTC: { depth, duration: '1h' } } });
      expect(below.error!.issues.map((i) => i.message), String(depth)).toEqual(['a depth is a fraction of the price: above −1 (−0.2 = −20 %)']);
    }
    expect(scenarioSchema.safeParse({ id: 'f', symbols: { BTC: { depth: 11, duration: '1h' } } }).error!.issues.map((i) => i.message)).toEqual(['a depth is at most 10 (+1,000 %)']);
    expect(scenarioSchema.safeParse({ id: 'u', symbols: { BTC: { depth: 3, duration: '1h', markExtra: 10 } } }).success).toBe(true);
  });

  it('markExtra on symbols without mark candles at the bar timeframe is said: it moves only funding settlement prices there', () => {
    const sc = scenarioSchema.parse({ id: 'mw', symbols: { BTC: { depth: -0.2, duration: '1h', markExtra: 0.5 }, ETH: { depth: -0.2, duration: '1h' } }, market: { depth: -0.1, duration: '1h', markExtra: 0.2 } });
    const ds = (marks: boolean[]) => ({ name: 'd', timeframe: '1h', symbols: ['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], markAtBarTimeframe: marks });
    // BTC (its own markExtra) and SOL (the market's) lack mark candles; ETH's shock has none
    expect(markExtraWarning(sc, ds([false, false, false]))).toBe(
      "stress scenario 'mw' sets markExtra for BTCUSDT, SOLUSDT, which have no mark candles at the 1h bars of dataset d: liquidations there are judged on trade prices, so markExtra moves only the funding settlement prices; import mark candles at the bar timeframe (marginlab's docs/data.md) for it to move the liquidation source",
    );
    expect(markExtraWarning(sc, ds([true, false, true]))).toBeNull();
    expect(markExtraWarning(scenarioSchema.parse({ id: 'n', symbols: { BTC: { depth: -0.2, duration: '1h' } } }), ds([false, false, false]))).toBeNull();
  });

  it('scenarioMovesNone: no market shock and no key naming a symbol (run warns: the runs replay the data unchanged)', () => {
    const doge = scenarioSchema.parse({ id: 'doge', symbols: { DOGE: { depth: -0.3, duration: '1h' } } } as ScenarioInput);
    expect(scenarioMovesNone(doge, ['BTCUSDT', 'ETHUSDT'])).toBe(true);
    expect(scenarioMovesNone(doge, ['BTCUSDT', 'DOGEUSDT'])).toBe(false);
    const market = scenarioSchema.parse({ id: 'm', market: { depth: -0.1, duration: '1h' } } as ScenarioInput);
    expect(scenarioMovesNone(market, ['BTCUSDT'])).toBe(false);
    // one that moves nothing at all (no symbols, no market) is refused: it was a replay under a crash's name
    for (const empty of [{ id: 'e' }, { id: 'e', symbols: {} }]) {
      const r = scenarioSchema.safeParse(empty);
      expect(r.success).toBe(false);
      expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['symbols'], message: expect.stringContaining("a scenario moves prices: give 'symbols'") })]);
    }
    // nor one whose shock has depth 0 and nothing else (a funding or volume shock of depth 0 moves something)
    const zero = [
      [{ id: 'z', symbols: { BTC: { depth: 0, duration: '1h' } } }, ['symbols', 'BTC', 'depth']],
      [{ id: 'z', market: { legs: [{ depth: 0 }, { depth: 0, at: '1h' }] } }, ['market', 'legs']],
    ] as const;
    for (const [input, path] of zero) {
      const r = scenarioSchema.safeParse(input);
      expect(r.success, JSON.stringify(input)).toBe(false);
      expect(r.error!.issues).toEqual([expect.objectContaining({ path, message: expect.stringContaining('this shock moves nothing (depth 0') })]);
    }
    for (const moving of [
      { id: 'f', symbols: { BTC: { depth: 0, duration: '8h', fundingRate: 0.003 } } },
      { id: 'v', symbols: { BTC: { depth: 0, duration: '1h', volume: 3 } } },
      { id: 'l', market: { legs: [{ depth: 0 }, { depth: -0.1, at: '1h' }] } },
    ]) expect(scenarioSchema.safeParse(moving).success, moving.id).toBe(true);
  });

  it("two keys of a scenario's symbols that differ only in case are refused: one of them moved the symbol, the other was dropped without a word", () => {
    // 'btc' and 'BTC' both name BTCUSDT (a key matches a symbol's base asset ignoring case): the −10 % of the first ran, the −50 % was never used
    const r = scenarioSchema.safeParse({ id: 'x', symbols: { btc: { depth: -0.1, duration: '1h' }, BTC: { depth: -0.5, duration: '1h' } } });
    expect(r.success).toBe(false);
    expect(r.error!.issues).toEqual([expect.objectContaining({ path: ['symbols', 'BTC'], message: expect.stringContaining("'btc' and 'BTC' differ only in case") })]);
    expect(scenarioSchema.safeParse({ id: 'x', symbols: { ETHUSDT: { depth: -0.1 }, ethusdt: { depth: -0.2 } } }).success).toBe(false);
    // keys of different symbols, and an exact name beside a base asset (the exact name wins: docs/stress.md), still parse
    expect(scenarioSchema.safeParse({ id: 'x', symbols: { BTC: { depth: -0.1 }, ETH: { depth: -0.2 } } }).success).toBe(true);
    expect(scenarioSchema.safeParse({ id: 'x', symbols: { BTC: { depth: -0.1 }, BTCUSDT: { depth: -0.2 } } }).success).toBe(true);
  });

  it('marketFallbackWarning: a market shock whose market is none of the dataset\'s symbols says the betas fall back to the mean of all', () => {
    const ds = (...symbols: string[]) => ({ name: 'd', symbols });
    const pack = CRASH_PACK.find((s) => s.id === 'crash-2025-10-10')!;
    // the pack's market is BTC: present (exactly or as a base asset), or every symbol named by the scenario itself
    expect(marketFallbackWarning(pack, ds('BTCUSDT', 'LINKUSDT'))).toBeNull();
    expect(marketFallbackWarning(pack, ds('ETHUSDT', 'SOLUSDT'))).toBeNull();
    expect(marketFallbackWarning(pack, ds('ETHUSDT', 'LINKUSDT', 'DOTUSDT'))).toBe(
      "stress scenario 'crash-2025-10-10': its marketSymbol 'BTC' is none of the symbols of dataset d (ETHUSDT, LINKUSDT, DOTUSDT), so the market shock it gives LINKUSDT, DOTUSDT is scaled by their betas to the equal-weighted mean of all 3 symbols; set marketSymbol to one of them to choose the market",
    );
    const mine = scenarioSchema.parse({ id: 'mine', market: { depth: -0.2, duration: '1h' }, marketSymbol: 'SOL' } as ScenarioInput);
    expect(marketFallbackWarning(mine, ds('SOLUSDT', 'LINKUSDT'))).toBeNull();
    expect(marketFallbackWarning(mine, ds('BTCUSDT', 'LINKUSDT'))).toMatch(/^stress scenario 'mine': its marketSymbol 'SOL' is none of the symbols of dataset d \(BTCUSDT, LINKUSDT\)/);
    const noKey = scenarioSchema.parse({ id: 'nokey', market: { depth: -0.2, duration: '1h' } } as ScenarioInput);
    expect(marketFallbackWarning(noKey, ds('ETHUSDT'))).toMatch(/^stress scenario 'nokey': its default market BTC \(no marketSymbol\) is none/);
    // one symbol: the mean of one symbol is itself (beta 1), not 'the equal-weighted mean of all 1 symbols'
    expect(marketFallbackWarning(noKey, ds('ETHUSDT'))).toBe(
      "stress scenario 'nokey': its default market BTC (no marketSymbol) is none of the symbols of dataset d (ETHUSDT), so the market shock reaches ETHUSDT unscaled (its beta to the mean of one symbol, itself, is 1); set marketSymbol to ETHUSDT to say so",
    );
    const eth = scenarioSchema.parse({ id: 'eth', market: { depth: -0.2, duration: '1h' }, symbols: { ETH: { depth: -0.3, duration: '1h' } } } as ScenarioInput);
    expect(marketFallbackWarning(eth, ds('ETHUSDT', 'LINKUSDT'))).toContain('the market shock it gives LINKUSDT is scaled by its beta to the equal-weighted mean of all 2 symbols;');
    expect(marketFallbackWarning(noKey, ds('BTCUSDT'))).toBeNull();
    // no market shock: nothing is scaled by a beta
    const doge = scenarioSchema.parse({ id: 'doge', symbols: { DOGE: { depth: -0.3, duration: '1h' } } } as ScenarioInput);
    expect(marketFallbackWarning(doge, ds('ETHUSDT'))).toBeNull();
    // the market the betas use is the one the warning checks
    expect(marketIndex('BTC', ['ETHUSDT', 'BTCUSDT'])).toBe(1);
    expect(marketIndex('BTCUSDT', ['BTCUSDT_PERP', 'BTCUSDT'])).toBe(1);
    expect(marketIndex('SOL', ['ETHUSDT'])).toBe(-1);
  });

  it('legs given out of time order are the same shock (same keypoints, same scenario hash)', () => {
    const legs: { at: string | number; depth: number; duration: string }[] = [{ at: 0, depth: -0.23, duration: '1h' }, { at: '13h', depth: -0.51, duration: '3h15m' }];
    const mk = (l: typeof legs) => scenarioSchema.parse({ id: 'x', symbols: { BTC: { legs: l, recovery: 0.5 } } } as ScenarioInput);
    const a = mk(legs);
    const b = mk([...legs].reverse());
    expect(compileShock(b.symbols.BTC!)).toEqual(compileShock(a.symbols.BTC!));
    expect(scenarioHash(b)).toBe(scenarioHash(a));
    // the first leg starts at its own time, the recovery runs over the last leg's duration
    expect(factorAt(compileShock(b.symbols.BTC!), 6 * HOUR)).toBeCloseTo(0.77, 12);
    expect(compileShock(b.symbols.BTC!).t.at(-1)).toBe(16.25 * HOUR + 3.25 * HOUR);
  });

  it('keeps OHLC and mark invariants, leaves bars before the shock untouched, continues from the shocked level, never writes the base', () => {
    const base = walk(120, 7);
    const before = snapshot(base);
    fc.assert(
      fc.property(shockArb, fc.integer({ min: 0, max: 119 }), fc.integer({ min: 0, max: 59 }), (s, bar, minute) => {
        const sc = scenarioSchema.parse({ id: 'x', symbols: { BTC: s } } satisfies ScenarioInput);
        const injectAt = T0 + bar * HOUR + minute * 60_000;
        const v = applyScenario(base, sc, injectAt, null);
        checkOhlc(v);
        const [b, e] = [base.columns[0]!, v.columns[0]!];
        const shock = compileShock(sc.symbols.BTC!);
        const end = injectAt + shock.t[shock.t.length - 1]!;
        const final = shock.f[shock.f.length - 1]!;
        for (let i = 0; i < 120; i++) {
          const t = base.time[i]!;
          if (t + HOUR <= injectAt) {
            expect([e.open[i], e.high[i], e.low[i], e.close[i], e.volume[i]]).toEqual([b.open[i], b.high[i], b.low[i], b.close[i], b.volume[i]]);
          } else if (t >= end) {
            // continuity: every later bar continues from the level the shock left
            expect(e.open[i]! / b.open[i]!).toBeCloseTo(final, 10);
            expect(e.close[i]! / b.close[i]!).toBeCloseTo(final, 10);
            // the mark's extra move ends with the crash: back at the trade price's level an hour after the window
            if (t >= end + MARK_SETTLE_MS) {
              expect(e.markOpen[i]! / b.markOpen[i]!).toBeCloseTo(final, 10);
              expect(e.markClose[i]! / b.markClose[i]!).toBeCloseTo(final, 10);
            }
          }
        }
        // the untouched symbol is the base's own column
        expect(v.columns[1]).toBe(base.columns[1]);
        expect(snapshot(base)).toBe(before);
      }),
      { numRuns: 30 },
    );
  });

  it("markExtra moves the mark beyond the trade price's move in the crash and ends with it (the mark stayed 2.3 % under the trade price for the rest of the data)", () => {
    const flat = () => Array.from({ length: 24 }, () => [100, 100, 100, 100] as Bar);
    const base = makeData({ XRPUSDT: { bars: flat(), mark: flat(), funding: [{ bar: 4, rate: 0.0001, price: 100 }, { bar: 16, rate: 0.0001, price: 100 }] } });
    // a 2h slide to −30 %, the mark 10 % beyond it, held there (no recovery)
    const sc = scenarioSchema.parse({ id: 'mx', symbols: { XRP: { depth: -0.3, duration: '2h', markExtra: 0.1 } } } satisfies ScenarioInput);
    const c = applyScenario(base, sc, T0 + 2 * HOUR, null).columns[0]!;
    // the trough bar (the window ends at 04:00): trade −30 %, mark −33 %
    expect(c.close[3]).toBeCloseTo(70, 10);
    expect(c.markClose[3]).toBeCloseTo(67, 10);
    // back to the trade level over the hour after the window, then at it
    expect(c.markOpen[4]).toBeCloseTo(67, 10);
    expect(c.markClose[4]).toBeCloseTo(70, 10);
    expect(c.markLow[4]).toBeCloseTo(67, 10);
    for (let i = 5; i < 24; i++) expect([c.markOpen[i], c.markClose[i], c.close[i]].map((x) => Number(x!.toFixed(9)))).toEqual([70, 70, 70]);
    // a settlement in the window at the mark's own level; one after it at the trade price's level (it was scaled by 0.67)
    expect(c.fundingPrice[0]).toBeCloseTo(67, 10);
    expect(c.fundingPrice[1]).toBeCloseTo(70, 10);
    expect(MARK_SETTLE_MS).toBe(HOUR);
  });

  it('a wick inside one bar: open and close unchanged, the low goes 40 % down, the mark by its own extra', () => {
    const base = makeData({ ADAUSDT: { bars: Array.from({ length: 5 }, () => [1, 1.01, 0.99, 1] as Bar), mark: Array.from({ length: 5 }, () => [1, 1.01, 0.99, 1] as Bar) } });
    const v = applyScenario(base, CRASH_PACK.find((s) => s.id === 'alt-wick')!, T0 + 2 * HOUR + 20 * 60_000, null);
    const c = v.columns[0]!;
    expect([c.open[2], c.close[2], c.high[2]]).toEqual([1, 1, 1.01]);
    expect(c.low[2]).toBeCloseTo(0.99 * 0.6, 12);
    expect(c.markLow[2]).toBeCloseTo(0.99 * 0.8, 12);
    expect(c.close[3]).toBe(1);
  });

  it('the plan line says why scenario runs are fewer than history × scenarios × times (621 of 765 read as a miscount)', () => {
    const plan = { scenarios: 5, injectionTimes: 3, paths: 100, crashesPerPath: 0, blockBars: 24, seed: 1, historyRuns: 51, pathRuns: 5100 };
    const suffix = " (a scenario that moves none of a strategy's symbols is not planned for it)";
    expect(describeStressPlan({ ...plan, scenarioRuns: 621 })).toBe(`stress: 5 scenarios × 3 injection times and 100 Monte Carlo paths, mean block 24 bars, seed 1: 51 history + 621 scenario + 5,100 path runs${suffix}`);
    expect(describeStressPlan({ ...plan, scenarioRuns: 765 }).endsWith('5,100 path runs')).toBe(true);
    // no scenario (--scenarios none) or no path: said so (it read "0 scenarios × 0 injection times"); counts grouped
    expect(describeStressPlan({ ...plan, scenarios: 0, injectionTimes: 0, scenarioRuns: 0 })).toBe('stress: no scenario and 100 Monte Carlo paths, mean block 24 bars, seed 1: 51 history + 0 scenario + 5,100 path runs');
    expect(describeStressPlan({ ...plan, injectionTimes: 948, paths: 0, pathRuns: 0, scenarioRuns: 51 * 5 * 948 })).toBe('stress: 5 scenarios × 948 injection times and no Monte Carlo paths, seed 1: 51 history + 241,740 scenario + 0 path runs');
  });

  it('a market depth reaches a symbol by its log-return beta: (1 + d)^β − 1, never past −100 %', () => {
    expect(betaDepth(-0.51, 1)).toBe(-0.51);
    expect(betaDepth(-0.51, 1.484)).toBeCloseTo(-0.6531, 4); // ETH under BTC's 2020-03-12 low (β × d read −75.7 %)
    expect(betaDepth(-0.9, 3)).toBeCloseTo(-0.999, 12); // β × d: −270 %
    expect(betaDepth(0.1, 2)).toBeCloseTo(0.21, 12);
    expect(betaDepth(-0.2, 0) + 0).toBe(0);
  });

  it('funding follows the scenario in the window; the market shock scales by beta', () => {
    const base = walk(200, 3);
    const sc = scenarioSchema.parse({ id: 'm', market: { depth: -0.2, duration: '10h', fundingRate: -0.004 } });
    const betas = computeBetas(base, 'BTC');
    expect(betas[0]).toBeCloseTo(1, 12);
    const shocks = symbolShocks(base, sc, betas);
    // the beta of log returns: ln(1 + d_s) = β ln(1 + d), not β × d
    expect(shocks[1]!.f.at(-1)).toBeCloseTo(0.8 ** betas[1]!, 12);
    expect(betas[1]! > 1.05 || betas[1]! < 0.95).toBe(true);
    const v = applyScenario(base, sc, T0 + 40 * HOUR, betas);
    const c = v.columns[0]!;
    for (let e = 0; e < c.fundingTime.length; e++) {
      const x = c.fundingTime[e]! - (T0 + 40 * HOUR);
      expect(c.fundingRate[e]).toBe(x >= 0 && x <= 10 * HOUR ? -0.004 : 0.0001);
    }
  });
});

describe('Monte Carlo paths (stationary block bootstrap)', () => {
  it('same seed and index give the same bytes; another index another path; OHLC and funding stay consistent', () => {
    const base = walk(300, 11);
    const before = snapshot(base);
    const a = bootstrapPath(base, 42, 3, 12);
    const b = bootstrapPath(base, 42, 3, 12);
    const c = bootstrapPath(base, 42, 4, 12);
    expect(snapshot(a)).toBe(snapshot(b));
    expect(snapshot(a)).not.toBe(snapshot(c));
    expect(snapshot(base)).toBe(before);
    checkOhlc(a);
    for (const col of a.columns) {
      for (let j = 0; j < a.time.length; j++) {
        for (let e = col.fundingStart[j]!; e < col.fundingStart[j + 1]!; e++) {
          expect(col.fundingTime[e]!).toBeGreaterThan(j > 0 ? a.time[j - 1]! : -Infinity);
          expect(col.fundingTime[e]!).toBeLessThanOrEqual(a.time[j]!);
        }
      }
      // chained: each open is the previous close times the base bar's open/prev-close ratio
      for (let j = 2; j < a.time.length; j++) expect(col.open[j]! / col.close[j - 1]!).toBeGreaterThan(0.9);
    }
  });

  it('a funding event that settled inside a gap of the timeline stays inside its path bar\'s window (time[j − 1], time[j]]', () => {
    const n = 200;
    const bars = Array.from({ length: n }, (_, i): Bar => [100 + i, 101 + i, 99 + i, 100.5 + i]);
    const md = makeData({ BTCUSDT: { bars, funding: [{ bar: 100, rate: 0.0003, price: 200 }, { bar: 150, rate: 0.0001, price: 250 }] } });
    // a 3-bar gap before bar 100 (gaps: 'warn'); the event of bar 100 settled inside it, 2 h before the bar
    for (let i = 100; i < n; i++) md.time[i] = md.time[i]! + 3 * HOUR;
    const col = md.columns[0]!;
    col.fundingTime[0] = md.time[100]! - 2 * HOUR;
    col.fundingTime[1] = md.time[150]!;
    let moved = 0;
    for (let p = 0; p < 40; p++) {
      const path = bootstrapPath(md, 3, p, 8);
      const c = path.columns[0]!;
      for (let j = 0; j < n; j++) {
        for (let e = c.fundingStart[j]!; e < c.fundingStart[j + 1]!; e++) {
          const t = c.fundingTime[e]!;
          if (j > 0) expect(t).toBeGreaterThan(path.time[j - 1]!);
          expect(t).toBeLessThanOrEqual(path.time[j]!);
          if (c.fundingRate[e] === 0.0003 && t === path.time[j]! && path.time[j]! - path.time[j - 1]! === HOUR) moved++;
        }
      }
    }
    expect(moved).toBeGreaterThan(0);
  });

  it('block lengths are geometric with the configured mean, blocks shared by every symbol', () => {
    const n = 20_000;
    const idx = bootstrapIndices(n, 1, 0, 24);
    let starts = 0;
    for (let j = 2; j < n; j++) if (idx[j] !== idx[j - 1]! + 1 && !(idx[j - 1] === n - 1 && idx[j] === 1)) starts++;
    const mean = (n - 1) / (starts + 1);
    expect(mean).toBeGreaterThan(20);
    expect(mean).toBeLessThan(29);
    expect(defaultBlockBars(1440, HOUR)).toBe(24);
  });

  it('keeps the cross-asset correlation of the bundled data within 0.05 (mean over 20 paths)', async () => {
    const md = await loadDataset(BUNDLED, { timeframe: '1h' });
    const corr = (d: MarketData, a: number, b: number) => {
      const [x, y] = [d.columns[a]!, d.columns[b]!];
      const rx: number[] = [];
      const ry: number[] = [];
      for (let i = 1; i < d.time.length; i++) {
        if (!x.present[i] || !x.present[i - 1] || !y.present[i] || !y.present[i - 1]) continue;
        rx.push(Math.log(x.close[i]! / x.close[i - 1]!));
        ry.push(Math.log(y.close[i]! / y.close[i - 1]!));
      }
      const m = (v: number[]) => v.reduce((s, q) => s + q, 0) / v.length;
      const [mx, my] = [m(rx), m(ry)];
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      rx.forEach((v, i) => {
        sxy += (v - mx) * (ry[i]! - my);
        sxx += (v - mx) ** 2;
        syy += (ry[i]! - my) ** 2;
      });
      return sxy / Math.sqrt(sxx * syy);
    };
    for (const [a, b] of [[0, 1], [0, 2], [1, 3]] as const) {
      const real = corr(md, a, b);
      let sum = 0;
      for (let p = 0; p < 20; p++) sum += corr(bootstrapPath(md, 7, p, defaultBlockBars(md.time.length, md.timeframeMs)), a, b);
      expect(Math.abs(sum / 20 - real)).toBeLessThan(0.05);
      expect(real).toBeGreaterThan(0.5);
    }
  });
});

describe('a stress view made for the run\'s symbols only', () => {
  it('gives those symbols exactly the columns of the view of every symbol (paths, crashes with beta-scaled market shocks, scenarios)', async () => {
    const base = await loadDataset(BUNDLED, { timeframe: '1h' });
    const pack = Object.fromEntries(CRASH_PACK.map((sc) => [sc.id, sc]));
    // Black Thursday names BTC only: ETH, XRP and ADA take the market shock scaled by their betas
    const withMarket = CRASH_PACK.find((sc) => sc.id === 'crash-2020-03-12')!;
    expect(Object.keys(withMarket.symbols)).toEqual(['BTC']);
    const at = base.time[200]!;
    const specs = [
      { kind: 'path' as const, seed: 11, pathIndex: 3, blockBars: 24 },
      { kind: 'path' as const, seed: 11, pathIndex: 4, blockBars: 24, crashes: [{ scenario: withMarket.id, injectAt: at }] },
      { kind: 'scenario' as const, scenario: withMarket.id, injectAt: at },
    ];
    const cols = (c: MarketData['columns'][number]) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Float64Array) : v]));
    for (const spec of specs) {
      const full = stressView(base, spec, pack);
      for (const only of [['ETHUSDT'], ['XRPUSDT', 'ADAUSDT'], ['ADAUSDT', 'XRPUSDT']]) {
        const part = stressView(base, spec, pack, only);
        expect(part.symbols).toEqual(base.symbols.filter((x) => only.includes(x)));
        for (const [k, name] of part.symbols.entries()) expect(cols(part.columns[k]!), `${spec.kind} ${name}`).toEqual(cols(full.columns[full.symbols.indexOf(name)]!));
      }
      // the shock moved the columns (the comparison is not between unshocked copies)
      const eth = base.symbols.indexOf('ETHUSDT');
      expect(Array.from(full.columns[eth]!.close)).not.toEqual(Array.from(base.columns[eth]!.close));
    }
  });
});

describe('hand-computed: a two-symbol long book under a −20 % correlated shock', () => {
  it('wipes the cross pool and liquidates only the leveraged isolated leg', () => {
    // 10,000 USDT; long 0.5 BTC at 100,000 at 10× (isolated margin 5,000) and 50 ETH at 100 at 2× (margin 2,500); zero fees.
    // Cross: −20 % on 55,000 of notional = −11,000 > the 10,000 pool → both legs liquidated, equity ≈ 0.
    // Isolated: BTC loses 10,000 on 5,000 of margin → liquidated (−5,000); ETH loses 1,000 on 2,500 → survives: equity ≈ 4,000.
    const n = 30;
    const base = makeData({ BTCUSDT: { bars: Array.from({ length: n }, () => [100_000, 100_000, 100_000, 100_000] as Bar) }, ETHUSDT: { bars: Array.from({ length: n }, () => [100, 100, 100, 100] as Bar) } });
    const strategy = scripted({ 0: (ctx) => { ctx.setLeverage(0, 10); ctx.setLeverage(1, 2); ctx.buy(0, 0.5); ctx.buy(1, 50); } }, ['BTCUSDT', 'ETHUSDT']);
    const sc = scenarioSchema.parse({ id: 'minus20', market: { depth: -0.2, shape: 'gap', duration: '1h' } });
    const injectAt = T0 + 10 * HOUR;
    const stress = { kind: 'scenario' as const, scenario: 'minus20', injectAt };
    const view = stressView(base, stress, { minus20: sc });
    expect(view.columns[0]!.open[10]).toBeCloseTo(80_000, 6);
    const out = run(view, strategy, { setups: [SETUPS.isolated, SETUPS.cross], leverage: 10 });
    const figs = (id: string) => stressFigures(stress, setupOf(out, id), out.symbols, 10_000, view, { minus20: sc });
    const cross = figs('cross');
    const iso = figs('isolated');
    expect(cross.survived).toBe(false);
    expect(cross.wipedOut).toBe(true);
    expect(cross.firstLiquidated.map((l) => l.symbol).sort()).toEqual(['BTCUSDT', 'ETHUSDT']);
    expect(cross.timeToLiquidationMs).toBe(0);
    expect(Number(cross.lossAtShock)).toBeLessThan(-9_500);
    expect(iso.survived).toBe(false);
    expect(iso.wipedOut).toBe(false);
    expect(iso.firstLiquidated).toEqual([{ symbol: 'BTCUSDT', time: injectAt }]);
    const isoEq = setupOf(out, 'isolated').series.equity;
    expect(isoEq[n - 1]!).toBeGreaterThan(3_900);
    expect(isoEq[n - 1]!).toBeLessThanOrEqual(4_000 + 1e-6);
    expect(Number(iso.lossAtShock)).toBeCloseTo(isoEq[10]! - 10_000, 4);
    expect(iso.peakMarginRatio).toBeGreaterThanOrEqual(1);
  });
});

describe('the change at the shock', () => {
  // long 1 BTC from bar 0 on flat bars; every bar's P&L is visible in the equity
  const n = 12;
  const bars = (p: number) => Array.from({ length: n }, () => [p, p, p, p] as Bar);
  // BTC steps up to 110 at bar 6, the bar right after a 2h window starting at bar 4
  const btc = Array.from({ length: n }, (_, i) => (i < 6 ? [100, 100, 100, 100] : [110, 110, 110, 110]) as Bar);
  const base = makeData({ BTCUSDT: { bars: btc }, ADAUSDT: { bars: bars(1) } });
  const strategy = scripted({ 0: (ctx) => void ctx.buy(0, 1) }, ['BTCUSDT']);
  const figsOf = (input: ScenarioInput) => {
    const sc = scenarioSchema.parse(input);
    const stress = { kind: 'scenario' as const, scenario: sc.id, injectAt: T0 + 4 * HOUR };
    const view = stressView(base, stress, { [sc.id]: sc });
    const out = run(view, strategy, { setups: [SETUPS.cross], leverage: 2 });
    // the run's symbols are its strategy's (the worker replays those); this fixture replays every symbol of the data
    return { f: stressFigures(stress, setupOf(out, 'cross'), ['BTCUSDT'], 10_000, view, { [sc.id]: sc }), eq: setupOf(out, 'cross').series.equity };
  };
  it('a window ending where a bar opens ends with the bar before it', () => {
    // −10 % over exactly 2h from a bar open: bars 4 and 5; bar 6 (the base's step up, 99 after the shock) is after it
    const { f, eq } = figsOf({ id: 'two-hours', symbols: { BTC: { depth: -0.1, duration: '2h', shape: 'slide' } } });
    expect(eq[6]! - eq[5]!).toBeCloseTo(9, 6);
    expect(Number(f.lossAtShock)).toBeCloseTo(eq[5]! - eq[3]!, 6);
    expect(Number(f.lossAtShock)).toBeCloseTo(-10, 6);
  });
  it('a scenario that moves none of the run\'s symbols has no change at the shock (null, not one ordinary bar)', () => {
    const { f } = figsOf({ id: 'ada-only', symbols: { ADA: { depth: -0.4, duration: '1h', shape: 'wick' } } });
    expect(f.lossAtShock).toBeNull();
  });
});

describe('survival over a fixed path set', () => {
  it('is monotone in leverage (buy-and-hold, isolated and cross)', async () => {
    const md = await loadDataset(BUNDLED, { timeframe: '1h', symbols: ['BTCUSDT'], to: Date.UTC(2025, 5, 22) });
    const venue = getVenue('binance-usdm');
    const paths = [0, 1, 2, 3].map((p) => bootstrapPath(md, 5, p, 24));
    const cache = new Map<string, boolean[]>();
    const liquidated = (pathIdx: number, lev: number): boolean[] => {
      const k = `${pathIdx}:${lev}`;
      let r = cache.get(k);
      if (!r) {
        const out = replay({
          data: paths[pathIdx]!, symbols: ['BTCUSDT'], strategy: buyAndHold, params: buyAndHold.params.parse({}) as Record<string, unknown>, venue,
          setups: [SETUPS.isolated, SETUPS.cross], initialCapital: '10000', leverage: lev, execution: DEFAULT_EXECUTION,
        });
        expect(out.setups.every((s) => Object.keys(s.rejections).length === 0)).toBe(true);
        r = out.setups.map((s) => s.events.some((e) => e.type === 'liquidation'));
        cache.set(k, r);
      }
      return r;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), (p, a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const [l, h] = [liquidated(p, lo), liquidated(p, hi)];
        for (let s = 0; s < 2; s++) if (l[s]) expect(h[s]).toBe(true);
      }),
      { numRuns: 40 },
    );
    // the set is not trivial: some leverage liquidates, some does not
    const all = [1, 40].flatMap((lev) => [0, 1, 2, 3].flatMap((p) => liquidated(p, lev)));
    expect(all).toContain(true);
    expect(all).toContain(false);
  }, 120_000);
});

describe('stress config and plan', () => {
  const cfg = (stress: unknown) => resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress } as never, { configDir: '/tmp' });

  it('resolves pack ids and inline scenarios; rejects unknown ids with the known ones', async () => {
    const c = await cfg({ scenarios: ['alt-wick', { id: 'mine', symbols: { BTC: { depth: -0.1 } } }], paths: 2 });
    expect(c.stress!.scenarios.map((s) => s.id)).toEqual(['alt-wick', 'mine']);
    expect(c.stress!.inject).toEqual({ at: [], every: null, random: 3 });
    await expect(cfg({ scenarios: ['nope'] })).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^stress\.scenarios\[0\]: unknown scenario 'nope' \(known: crash-2025-10-10/)] });
    await expect(cfg({ scenarios: [{ id: 'x', symbols: { BTC: { duration: '1h' } } }] })).rejects.toMatchObject({ exitCode: 78 });
    expect((await resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'] }, { configDir: '/tmp' })).stress).toBeNull();
  });

  it('a scenario key that would do nothing is refused naming it: a recovery on a gap or slide leg, a recoveryDuration after a closing wick', async () => {
    const legRec = { scenarios: [{ id: 'x', symbols: { BTC: { legs: [{ depth: -0.3, duration: '1h' }, { at: '2h', depth: -0.5, duration: '1h', shape: 'gap', recovery: 0.5 }] } } }] };
    await expect(cfg(legRec)).rejects.toMatchObject({
      exitCode: 78,
      details: ["stress.scenarios[0].symbols.BTC.legs[1].recovery: only a 'wick' leg gives back within the leg (this one is a 'gap'); for a recovery after the last leg, set the shock's 'recovery' (and 'recoveryDuration')"],
    });
    const wickDur = (shock: unknown) => cfg({ scenarios: [{ id: 'x', market: shock }] });
    for (const shock of [{ depth: -0.4, duration: '10m', shape: 'wick', recovery: 0.5, recoveryDuration: '3h' }, { legs: [{ depth: -0.2, duration: '1h' }, { at: '1h', depth: -0.4, duration: '10m', shape: 'wick' }], recovery: 0.5, recoveryDuration: '3h' }]) {
      await expect(wickDur(shock)).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^stress\.scenarios\[0\]\.market\.recoveryDuration: a shock whose last leg is a 'wick' gives back within the wick/)] });
    }
    // a recoveryDuration with no recovery after the last leg (none given, or 0) times nothing: the price stays at the shocked level
    for (const [shock, said] of [
      [{ depth: -0.3, duration: '1h', recoveryDuration: '6h' }, "no 'recovery' (0 by default)"],
      [{ depth: -0.3, duration: '1h', shape: 'gap', recovery: 0, recoveryDuration: '6h' }, "'recovery: 0'"],
      [{ legs: [{ depth: -0.2, duration: '1h' }, { at: '1h', depth: -0.4, duration: '1h' }], recoveryDuration: '6h' }, "no 'recovery' (0 by default)"],
    ] as const) {
      await expect(wickDur(shock)).rejects.toMatchObject({
        exitCode: 78,
        details: [`stress.scenarios[0].market.recoveryDuration: nothing to time: this shock has ${said}, so the price stays at the shocked level after its last leg; set 'recovery' (the fraction of the move given back) or drop 'recoveryDuration'`],
      });
    }
    // what does something still parses: a wick leg's own recovery, a recovery after a closing slide
    await expect(cfg({ scenarios: [{ id: 'x', symbols: { BTC: { legs: [{ depth: -0.4, duration: '10m', shape: 'wick', recovery: 0.5 }, { at: '1h', depth: -0.2, duration: '1h' }], recovery: 0.5, recoveryDuration: '3h' } } }] })).resolves.toBeTruthy();
  });

  it("the config's own stress.paths, .seed and .scenarios are checked when a flag replaces them (78, the config's problem; it passed under --paths or --seed)", async () => {
    const base = { name: 't', data: 'd', strategies: ['buy-and-hold'] };
    const resolve = (stress: Record<string, unknown>, over: Record<string, unknown>) => resolveConfig({ ...base, stress } as never, { configDir: '/tmp', overrides: { stress: over } as never });
    await expect(resolve({ paths: 'x' }, { paths: 1 })).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^stress\.paths: /)] });
    await expect(resolve({ seed: -1 }, { seed: 2 })).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^stress\.seed: /)] });
    await expect(resolve({ scenarios: [{ id: 'bad', symbols: { BTC: { depth: 11 } } }] }, { scenarios: ['alt-wick'] })).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^stress\.scenarios\[0\]/)] });
    // a config that does not parse: an unknown id given with --scenarios is said beside the file's problems (it showed on the next try)
    const both = await resolveConfig({ ...base, leverage: [0] } as never, { configDir: '/tmp', overrides: { stress: { scenarios: ['alt-wik'] } } }).then(() => null, (e: unknown) => e);
    expect(both).toMatchObject({ exitCode: 78 });
    expect((both as { details: string[] }).details).toEqual([expect.stringMatching(/^leverage\[0\]: /), expect.stringMatching(/^--scenarios alt-wik: unknown scenario 'alt-wik' \(did you mean 'alt-wick'\?\)/)]);
    // a good config under the same flags resolves, with the flags' values
    const ok = await resolve({ paths: 4, seed: 1 }, { paths: 1, seed: 2 });
    expect(ok.stress).toMatchObject({ paths: 1, seed: 2 });
  });

  it("a definition --scenarios picks from the config is the config's problem, said once under its own key (it came twice, once as '--scenarios: …' without the key)", async () => {
    const good = { id: 'ok', symbols: { BTC: { depth: -0.1 } } };
    const bad = { id: 'w', symbols: { BTC: { depth: -0.3, shape: 'wick', duration: '1h', recoveryDuration: '2h' } } };
    const pick = (scenarios: string[]) =>
      resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { scenarios: [good, bad] } } as never, { configDir: '/tmp', overrides: { stress: { scenarios } } }).then(() => null, (e: unknown) => e);
    const own = /^stress\.scenarios\[1\]\.symbols\.BTC\.recoveryDuration: a shock whose last leg is a 'wick'/;
    for (const ids of [['w'], ['alt-wick', 'w'], ['w', 'ok']]) {
      const e = (await pick(ids)) as { exitCode: number; message: string; details: string[] };
      expect(e).toMatchObject({ exitCode: 78 });
      expect(e.message).toMatch(/invalid config \(1 problem\)/);
      expect(e.details).toEqual([expect.stringMatching(own)]);
    }
    // with an unknown id beside it, both are said: the flag's under the flag, the definition's under its key
    const both = (await pick(['w', 'nope'])) as { exitCode: number; details: string[] };
    expect(both.exitCode).toBe(78);
    expect(both.details).toEqual([expect.stringMatching(/^--scenarios nope: unknown scenario 'nope'/), expect.stringMatching(own)]);
  });

  it('an unknown id given with --scenarios names the flag, and a case slip names the id meant', async () => {
    const withFlag = (scenarios: string[]) => resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'] }, { configDir: '/tmp', overrides: { stress: { scenarios } } });
    // only a flag is wrong: a usage error (64) naming it
    await expect(withFlag(['alt-wick', 'ALT-WICK'])).rejects.toMatchObject({
      exitCode: 64,
      message: expect.stringMatching(/^--scenarios ALT-WICK: unknown scenario 'ALT-WICK' \(ids are case-sensitive: 'alt-wick'\) \(known: crash-2025-10-10/),
    });
    // --scenarios none under a config with crashes per path: the message names the flag and the way out
    const crashes = (scenarios: string[]) =>
      resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { crashesPerPath: 2 } } as never, { configDir: '/tmp', overrides: { stress: { scenarios } } });
    await expect(crashes([])).rejects.toMatchObject({
      exitCode: 78,
      details: ['stress.crashesPerPath: 2 crash(es) per path need scenarios to draw from, and --scenarios none leaves stress.scenarios empty: list them in stress.crashScenarios, or drop --scenarios none'],
    });
    expect((await crashes(['alt-wick'])).stress!.crashScenarios.map((s) => s.id)).toEqual(['alt-wick']);
    // with no paths there are no crashes to draw: --paths 0 --scenarios none (history only) is a plan, not a config error
    const historyOnly = await resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { crashesPerPath: 2 } } as never, { configDir: '/tmp', overrides: { stress: { scenarios: [], paths: 0 } } });
    expect(historyOnly.stress).toMatchObject({ scenarios: [], paths: 0, crashesPerPath: 2 });
    expect((await cfg({ scenarios: [], crashesPerPath: 1, paths: 0 })).stress!.scenarios).toEqual([]);
    await expect(cfg({ scenarios: [], crashesPerPath: 1 })).rejects.toMatchObject({ details: ['stress.crashesPerPath: no scenario to draw crashes from (stress.crashScenarios or stress.scenarios is empty)'] });
    // an id given twice with the flag runs once, a pack id or one the config defines alike
    const mine = { id: 'mine', symbols: { BTC: { depth: -0.1 } } };
    const twice = await resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { scenarios: [mine] } } as never, {
      configDir: '/tmp',
      overrides: { stress: { scenarios: ['mine', 'alt-wick', 'mine', 'alt-wick'] } },
    });
    expect(twice.stress!.scenarios.map((s) => s.id)).toEqual(['mine', 'alt-wick']);
    await expect(withFlag(['alt-wick', 'alt-wick', 'nope'])).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/^--scenarios nope: unknown scenario 'nope'/) });
    // a slip on an id the config defines (not picked by the flag, so resolveStress did not know it): named with it
    const typo = resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress: { scenarios: [{ id: 'btc-two-leg', symbols: { BTC: { depth: -0.1 } } }] } } as never, {
      configDir: '/tmp',
      overrides: { stress: { scenarios: ['btc-two-lg'] } },
    });
    await expect(typo).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/^--scenarios btc-two-lg: unknown scenario 'btc-two-lg' \(did you mean 'btc-two-leg'\?\) \(known: crash-2025-10-10.*, btc-two-leg; define custom ones in stress\.scenarios\)$/) });
    await expect(cfg({ scenarios: ['Crash-2020-03-12'] })).rejects.toMatchObject({ details: [expect.stringMatching(/^stress\.scenarios\[0\]: unknown scenario 'Crash-2020-03-12' \(ids are case-sensitive: 'crash-2020-03-12'\)/)] });
  });

  it("--scenarios picks which scenarios run, not which the config defines: stress.crashScenarios draws from the config's definitions, and their ids are checked as without the flag", async () => {
    const mine = { id: 'mine', symbols: { BTC: { depth: -0.3, duration: '1h' } } };
    const withFlag = (stress: Record<string, unknown>, scenarios: string[]) =>
      resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], stress } as never, { configDir: '/tmp', overrides: { stress: { scenarios } } });
    // the way out the --scenarios none message names ("list them in stress.crashScenarios") was refused for a scenario the config
    // defines: "unknown scenario 'mine' (ids are case-sensitive: 'mine') (known: …, mine; …)"
    for (const ids of [[], ['alt-wick']]) {
      const c = await withFlag({ scenarios: [mine], crashScenarios: ['mine'], crashesPerPath: 1, paths: 2 }, ids);
      expect(c.stress!.scenarios.map((s) => s.id)).toEqual(ids);
      expect(c.stress!.crashScenarios).toEqual([expect.objectContaining({ id: 'mine', symbols: { BTC: expect.objectContaining({ depth: -0.3, duration: 3_600_000 }) } })]);
    }
    // two definitions under one id: refused without the flag; with it, the first ran without a word (--scenarios x) or
    // the problem went unsaid (--scenarios alt-wick)
    const twice = { scenarios: [mine, { ...mine, symbols: { BTC: { depth: -0.5, duration: '1h' } } }], paths: 0 };
    for (const ids of [['mine'], ['alt-wick']]) {
      await expect(withFlag(twice, ids)).rejects.toMatchObject({ exitCode: 78, details: ["stress.scenarios[1].id: duplicate scenario id 'mine'"] });
    }
    // a definition under a pack id: the config's problem under its key (78), also when the flag names the pack's id (it read
    // "--scenarios: 'alt-wick' is the id of a crash-pack scenario", a usage error) or another one (unsaid)
    const packId = { scenarios: [{ ...mine, id: 'alt-wick' }], paths: 0 };
    for (const ids of [['alt-wick'], ['crash-2020-03-12']]) {
      await expect(withFlag(packId, ids)).rejects.toMatchObject({ exitCode: 78, details: [expect.stringMatching(/^stress\.scenarios\[0\]\.id: 'alt-wick' is the id of a crash-pack scenario/)] });
    }
  });

  it('--paths above the schema limit is a usage error naming the flag (64), not two config lines', async () => {
    const { stressCommand } = await import('../src/cli/commands/stress.js');
    for (const v of ['1000001', '99999999999999999999']) {
      await expect(stressCommand({ paths: v } as never)).rejects.toMatchObject({ exitCode: 64, message: `--paths: expected a whole number from 0 to 1000000, got '${v}'` });
    }
    // 'none' inside a list was read as a scenario id ('unknown scenario 'none'')
    await expect(stressCommand({ scenarios: 'none,alt-wick' } as never)).rejects.toMatchObject({ exitCode: 64, message: "--scenarios: 'none' (no scenario runs) stands alone, got 'none,alt-wick': give --scenarios none, or the list of ids to run without it" });
  });

  it('a scenario defined under a crash-pack id is a config error naming it (it replaced the pack\'s without a word)', () => {
    const own = { id: 'alt-wick', symbols: { BTC: { depth: -0.1, duration: '1h' } } };
    const { stress, problems } = resolveStress({ scenarios: ['crash-2020-03-12', own as never], inject: {}, paths: 0, crashesPerPath: 0, seed: 1 });
    expect(stress).toBeNull();
    expect(problems).toEqual([`stress.scenarios[1].id: 'alt-wick' is the id of a crash-pack scenario (marginlab stress --list); give your scenario an id of its own (name 'alt-wick' as a string to run the pack's)`]);
    // under an id of its own it runs beside the pack's
    const ok = resolveStress({ scenarios: ['alt-wick', { ...own, id: 'my-wick' } as never], inject: {}, paths: 0, crashesPerPath: 0, seed: 1 });
    expect(ok.problems).toEqual([]);
    expect(ok.stress!.scenarios.map((s) => s.id)).toEqual(['alt-wick', 'my-wick']);
  });

  it('injection times and paths are seeded choices; a date outside the data is a config error', () => {
    const { stress } = resolveStress({ scenarios: ['alt-wick'], inject: { random: 2, every: 100 }, paths: 3, crashesPerPath: 2, seed: 9 });
    const time = Float64Array.from({ length: 400 }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const v = stressVariants(stress!, ds);
    expect(v).toEqual(stressVariants(stress!, ds));
    const t = injectionTimes(stress!, ds);
    expect(t).toEqual(expect.arrayContaining([T0 + 100 * HOUR, T0 + 200 * HOUR, T0 + 300 * HOUR]));
    expect(t.length).toBe(5);
    expect(v.filter((x) => x.kind === 'path').map((x) => (x.kind === 'path' ? x.crashes!.length : 0))).toEqual([2, 2, 2]);
    const { stress: s2 } = resolveStress({ inject: { at: [T0 - HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 });
    expect(() => injectionTimes(s2!, ds)).toThrow(/stress\.inject\.at\[0\].*outside dataset d/);
  });

  it("a path's crashes start at distinct bars (two on one bar stacked their moves there), at most as many as the range has bars, with a warning", () => {
    const { stress } = resolveStress({ scenarios: ['crash-2020-03-12'], inject: {}, paths: 20, crashesPerPath: 20, seed: 3 });
    const time = Float64Array.from({ length: 40 }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd40', time, timeframeMs: HOUR };
    const paths = stressVariants(stress!, ds).filter((x) => x.kind === 'path');
    expect(paths).toHaveLength(20);
    for (const p of paths) {
      const at = (p.kind === 'path' ? p.crashes ?? [] : []).map((c) => c.injectAt);
      // bars 10 … 35 of 40 (⌊n/4⌋ to ⌊9n/10⌋ − 1): 20 crashes on 20 distinct bars of them
      expect(at).toHaveLength(20);
      expect(new Set(at).size).toBe(20);
      expect(Math.min(...at)).toBeGreaterThanOrEqual(T0 + 10 * HOUR);
      expect(Math.max(...at)).toBeLessThanOrEqual(T0 + 35 * HOUR);
    }
    expect(crashesWarning(stress!, ds)).toBeNull();
    // more crashes than the 26 bars: each path carries 26, one on every bar of the range, and the plan warns
    const { stress: many } = resolveStress({ scenarios: ['crash-2020-03-12'], inject: {}, paths: 2, crashesPerPath: 100, seed: 3 });
    for (const p of stressVariants(many!, ds).filter((x) => x.kind === 'path')) {
      const at = (p.kind === 'path' ? p.crashes ?? [] : []).map((c) => (c.injectAt - T0) / HOUR);
      expect(at).toEqual(Array.from({ length: 26 }, (_, k) => 10 + k));
    }
    expect(crashesWarning(many!, ds)).toBe("stress: stress.crashesPerPath 100 is above the 26 bars of dataset d40 a path's crashes can start at (one crash per bar, in its bars 10 to 35): each path carries 26 crashes; use a longer window or fewer crashes per path");
    expect(crashesWarning({ ...many!, paths: 0 }, ds)).toBeNull();
    // the plan line says what the paths carry: 26 on this window (it said 100), 100 on a longer one
    expect(plannedCrashesPerPath(many!, [40])).toBe(26);
    expect(plannedCrashesPerPath(many!, [40, 1000])).toBe(100);
    expect(plannedCrashesPerPath(stress!, [40])).toBe(20);
  });
  it("a path run's crashes are drawn from the crash scenarios that move its symbols; with none, its paths carry no crash and the run warns", () => {
    const { stress } = resolveStress({ scenarios: ['alt-wick', 'crash-2020-03-12', 'correlation-break'], inject: {}, paths: 40, crashesPerPath: 2, seed: 4 });
    const time = Float64Array.from({ length: 400 }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const drawn = (symbols?: string[]) => stressVariants(stress!, ds, symbols).flatMap((x) => (x.kind === 'path' ? x.crashes ?? [] : []).map((c) => c.scenario));
    // alt-wick moves ADA only: a BTC run never draws it, an ADA run does; every crash of a BTC path moves BTC
    expect(new Set(drawn())).toEqual(new Set(['alt-wick', 'crash-2020-03-12', 'correlation-break']));
    expect(drawn(['BTCUSDT']).length).toBe(80);
    expect(new Set(drawn(['BTCUSDT']))).toEqual(new Set(['crash-2020-03-12', 'correlation-break']));
    expect(drawn(['ADAUSDT'])).toContain('alt-wick');
    // symbols every crash scenario moves: the same draws as the whole pool (RunIds of earlier plans stay)
    const { stress: market } = resolveStress({ scenarios: ['crash-2020-03-12', 'crash-2025-10-10'], inject: {}, paths: 10, crashesPerPath: 1, seed: 4 });
    expect(stressVariants(market!, ds, ['BTCUSDT', 'ETHUSDT'])).toEqual(stressVariants(market!, ds));
    // a pool that moves none of a strategy's symbols: plain paths, and a warning naming the strategy
    const { stress: ada } = resolveStress({ scenarios: ['alt-wick'], inject: {}, paths: 3, crashesPerPath: 1, seed: 4 });
    expect(stressVariants(ada!, ds, ['BTCUSDT']).map((x) => (x.kind === 'path' ? x.crashes : 'scenario'))).toEqual(['scenario', 'scenario', 'scenario', undefined, undefined, undefined]);
    const w = strategyScenarioWarnings(ada!, { ...ds, symbols: ['BTCUSDT', 'ADAUSDT'] }, [{ strategy: 'trend', symbols: ['BTCUSDT'] }]);
    expect(w).toContain("stress.crashScenarios: none of 'alt-wick' moves the symbols of strategy 'trend' (BTCUSDT) on dataset d: its Monte Carlo paths carry no crash (plain bootstrap paths); add a scenario that moves them to stress.crashScenarios");
  });

  it("a path's crashes depend on the set of crash scenarios, not on the order they are listed in (--scenarios b,a drew other crashes than a,b)", () => {
    const time = Float64Array.from({ length: 400 }, (_, i) => T0 + i * HOUR);
    const ds = { name: 'd', time, timeframeMs: HOUR };
    const own = { id: 'btc-gap', symbols: { BTC: { depth: -0.3, shape: 'gap', duration: '30m' } } };
    const paths = (scenarios: (string | object)[], crashScenarios?: string[], symbols?: string[]) => {
      const { stress } = resolveStress({ scenarios: scenarios as never, inject: {}, paths: 30, crashesPerPath: 2, ...(crashScenarios ? { crashScenarios } : {}), seed: 12345 });
      return stressVariants(stress!, ds, symbols).filter((x) => x.kind === 'path');
    };
    const a = paths(['crash-2025-10-10', 'alt-wick', own]);
    // every order of the same set: the same paths (RunSpecs, hence RunIds), for the whole pool and for a run's part of it
    for (const order of [['alt-wick', own, 'crash-2025-10-10'], [own, 'crash-2025-10-10', 'alt-wick'], ['crash-2025-10-10', own, 'alt-wick']]) {
      expect(paths(order)).toEqual(a);
      expect(paths(order, undefined, ['BTCUSDT'])).toEqual(paths(['crash-2025-10-10', 'alt-wick', own], undefined, ['BTCUSDT']));
    }
    // stress.crashScenarios alike (the scenario runs' own list apart)
    expect(paths(['crash-2021-05-19', 'alt-wick', 'crash-2020-03-12'], ['crash-2020-03-12', 'alt-wick', 'crash-2021-05-19'])).toEqual(paths(['crash-2021-05-19'], ['alt-wick', 'crash-2021-05-19', 'crash-2020-03-12']));
    // the draws still spread over the whole pool
    expect(new Set(a.flatMap((x) => (x.kind === 'path' ? x.crashes! : []).map((c) => c.scenario)))).toEqual(new Set(['crash-2025-10-10', 'alt-wick', 'btc-gap']));
  });

  it("a shock starting at or after the window's end is not planned at that injection time, and the run says so", () => {
    // 100 bars; injections at bars 50 and 90; the scenario's only leg starts 20 bars after the injection
    const late = scenarioSchema.parse({ id: 'late', symbols: { BTC: { depth: -0.3, duration: '1h', at: '20h' } } });
    const soon = scenarioSchema.parse({ id: 'soon', symbols: { BTC: { depth: -0.3, duration: '1h' } }, market: { depth: -0.1, duration: '1h', at: '30h' } });
    const { stress } = resolveStress({ scenarios: [late as never, soon as never], inject: { at: [T0 + 50 * HOUR, T0 + 90 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 });
    const ds = { name: 'd', time: Float64Array.from({ length: 100 }, (_, i) => T0 + i * HOUR), timeframeMs: HOUR };
    const v = stressVariants(stress!, ds).map((x) => (x.kind === 'scenario' ? `${x.scenario}@${(x.injectAt - T0) / HOUR}` : ''));
    // 'late' at bar 90 would start at bar 110, past the end (bar 100); 'soon' starts at once (its earliest leg)
    expect(v).toEqual(['late@50', 'soon@50', 'soon@90']);
    expect(lateShockWarnings(stress!, ds)).toEqual([
      `stress scenario 'late': its shock starts 20h after the injection time, at or after the end of dataset d (${new Date(T0 + 100 * HOUR).toISOString()}), at 1 of its 2 injection times (the first ${new Date(T0 + 90 * HOUR).toISOString()}): those are not run (a run there would replay the data unchanged and count as surviving the crash); lower its legs' 'at', or inject earlier (stress.inject.at)`,
      // 'soon' starts at once but its market leg (at 30h) reaches its farthest move after the end at bar 90: planned, said
      expect.stringMatching(new RegExp(`^stress scenario 'soon': its shock reaches its farthest move 31h after the injection time, after the end of dataset d \\(.+\\) at 1 of its 2 injection times \\(the first ${new Date(T0 + 90 * HOUR).toISOString().replace(/\./g, '\\.')}\\): only the part of its move before the end is replayed there`)),
    ]);
    // at the last bar's open + 20h - 1 bar it still starts inside the window (its last bar)
    const { stress: edge } = resolveStress({ scenarios: [late as never], inject: { at: [T0 + 79 * HOUR, T0 + 80 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 });
    expect(stressVariants(edge!, ds).map((x) => (x.kind === 'scenario' ? (x.injectAt - T0) / HOUR : -1))).toEqual([79]);
    const edgeW = lateShockWarnings(edge!, ds);
    // at 79 it starts in the last bar, but its move ends at the window's end: said as cut; at 80 it is not run
    expect(edgeW).toHaveLength(2);
    expect(edgeW[0]).toContain(`farthest move 21h after the injection time, after the end of dataset d (${new Date(T0 + 100 * HOUR).toISOString()}) at 1 of its 2 injection times (the first ${new Date(T0 + 79 * HOUR).toISOString()})`);
    expect(edgeW[1]).toContain(`at 1 of its 2 injection times (the first ${new Date(T0 + 80 * HOUR).toISOString()})`);
    const { stress: none } = resolveStress({ scenarios: [late as never], inject: { at: [T0 + 95 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 });
    expect(stressVariants(none!, ds)).toEqual([]);
    expect(lateShockWarnings(none!, ds)[0]).toContain('at every one of its 1 injection time: it runs nowhere there');
    // a leg of a symbol the dataset lacks moves nothing there: the shock starts at the legs that reach its symbols
    const mixed = scenarioSchema.parse({ id: 'mixed', symbols: { DOGE: { depth: -0.3, duration: '1h' }, BTC: { depth: -0.3, duration: '1h', at: '20h' } }, market: { depth: -0.1, duration: '1h' } });
    const { stress: ms } = resolveStress({ scenarios: [mixed as never], inject: { at: [T0 + 50 * HOUR, T0 + 90 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 });
    const at = (symbols?: string[]) => stressVariants(ms!, { ...ds, ...(symbols ? { symbols } : {}) }).map((x) => (x.kind === 'scenario' ? (x.injectAt - T0) / HOUR : -1));
    expect(at(['BTCUSDT'])).toEqual([50]);
    // the market shock reaches a symbol no key names (ETH): it starts at once there
    expect(at(['BTCUSDT', 'ETHUSDT'])).toEqual([50, 90]);
    expect(at(['DOGEUSDT'])).toEqual([50, 90]);
    expect(at()).toEqual([50, 90]);
    // per run: what its symbols see (BTC's leg at 20h is late at bar 90; DOGE moves at once; ETH only by the market)
    expect(scenarioMiss(mixed, T0 + 90 * HOUR, ['BTCUSDT'], ds)).toBe('late');
    expect(scenarioMiss(mixed, T0 + 50 * HOUR, ['BTCUSDT'], ds)).toBeNull();
    expect(scenarioMiss(mixed, T0 + 90 * HOUR, ['DOGEUSDT', 'BTCUSDT'], ds)).toBeNull();
    const btcOnly = scenarioSchema.parse({ id: 'btc-only', symbols: { BTC: { depth: -0.3, duration: '1h' } } });
    expect(scenarioMiss(btcOnly, T0 + 50 * HOUR, ['ETHUSDT'], ds)).toBe('none');
    const { stress: two } = resolveStress({ scenarios: [mixed as never, btcOnly as never], inject: { at: [T0 + 50 * HOUR, T0 + 90 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 });
    const w = strategyScenarioWarnings(two!, { ...ds, symbols: ['BTCUSDT', 'ETHUSDT'] }, [{ strategy: 'a', symbols: ['BTCUSDT'] }, { strategy: 'b', symbols: ['ETHUSDT'] }]);
    expect(w).toEqual([
      expect.stringMatching(/^stress scenario 'mixed' starts moving the symbols of strategy 'a' \(BTCUSDT\) 20h after the injection time, at or after the end of dataset d at 1 of its 2 injection times/),
      expect.stringMatching(/^stress scenario 'btc-only' moves none of the symbols of strategy 'b' \(ETHUSDT\) on dataset d \(it moves BTC\): those runs are not planned/),
    ]);
  });

  it('inject.random K gives K distinct times more, also when two draws meet (seed 1 on 480 bars drew one bar twice)', () => {
    const tl = (n: number) => ({ name: 'd', time: Float64Array.from({ length: n }, (_, i) => T0 + i * HOUR), timeframeMs: HOUR });
    const times = (inject: { at?: number[]; every?: number; random?: number }, seed: number, n: number) =>
      injectionTimes(resolveStress({ inject, paths: 0, crashesPerPath: 0, seed }).stress!, tl(n));
    const inRange = (n: number, t: number) => t >= T0 + Math.floor(n / 4) * HOUR && t < T0 + Math.floor((9 * n) / 10) * HOUR;
    for (const [seed, n] of [[1, 480], [15, 1458], [1, 40], [2, 40], [13, 40]] as const) {
      const t = times({ random: 3 }, seed, n);
      expect(t).toHaveLength(3);
      expect(t.every((x) => inRange(n, x))).toBe(true);
    }
    // stratified: one time in the middle half of each of K equal strata of the range, so at least half a stratum apart
    // (uniform draws put bars 709, 969 and 970 of 1,458 with seed 1, the default, and two of three within a day for 142
    // of 1,000 seeds)
    const range = Math.floor((9 * 1458) / 10) - Math.floor(1458 / 4);
    for (let seed = 1; seed <= 200; seed++) {
      const t = times({ random: 3 }, seed, 1458).map((x) => (x - T0) / HOUR);
      expect(Math.min(t[1]! - t[0]!, t[2]! - t[1]!), `seed ${seed}: ${t.join(', ')}`).toBeGreaterThanOrEqual(Math.floor(range / 3 / 2) - 1);
    }
    expect(times({ random: 3 }, 1, 1458)).toEqual(times({ random: 3 }, 1, 1458));
    // an inject.at time inside a bar takes the bar: no random time lands on its open (two shocks in one bar)
    for (let seed = 1; seed <= 40; seed++) {
      const base = times({ random: 3 }, seed, 1458);
      for (const t of base) {
        const mid = t + HOUR / 2;
        const withAt = times({ at: [mid], random: 3 }, seed, 1458);
        expect(withAt).toHaveLength(4);
        expect(withAt.filter((x) => Math.floor((x - T0) / HOUR) === Math.floor((mid - T0) / HOUR))).toEqual([mid]);
      }
    }
    expect(new Set(Array.from({ length: 20 }, (_, s) => times({ random: 3 }, s + 1, 1458).join())).size).toBeGreaterThan(15);
    // random times come on top of inject.at / inject.every ones, never in their place
    const every = times({ every: 4, random: 0 }, 3, 40);
    expect(times({ every: 4, random: 5 }, 3, 40)).toHaveLength(every.length + 5);
    const at = times({ random: 3 }, 1, 480);
    expect(times({ at, random: 3 }, 1, 480)).toHaveLength(6);
    // more than the range holds: every bar of it, once
    expect(times({ random: 1000 }, 7, 40)).toEqual(Array.from({ length: 36 - 10 }, (_, i) => T0 + (10 + i) * HOUR));
  });

  it('warns when a symbol lacks bars: on a path it has none wherever a bar is drawn from outside its span (ETH listed at bar 100 of 200 flickered on and off)', () => {
    const bars = (from: number) => Array.from({ length: 200 }, (_, i) => (i < from ? null : ([100, 101, 99, 100] as Bar)));
    const data = makeData({ BTCUSDT: { bars: bars(0) }, ETHUSDT: { bars: bars(100) } });
    const { stress } = resolveStress({ inject: {}, paths: 4, crashesPerPath: 0, seed: 1 });
    const w = pathCoverageWarning(stress!, { name: 'd', symbols: data.symbols, columns: data.columns });
    expect(w).toBe(
      "stress: dataset d: ETHUSDT (100 of 200) has bars on part of the window only: a Monte Carlo path takes every symbol's bar from the same base bar, so on the path bars drawn from outside a symbol's bars it has none (scattered over the whole path, also before its first bar), and a position in it is held at its last price there, its paths understating its risk; choose a window where every symbol trades (--from/--to) or set stress.paths: 0",
    );
    // and it is so: ETH is there before bar 100 of the path and missing after it
    const p = bootstrapPath(data, 1, 0, 10).columns[1]!.present;
    expect(p.subarray(1, 100).some((x) => x === 1) && p.subarray(100).some((x) => x === 0)).toBe(true);
    // every symbol on (nearly) every bar, or no paths: no warning
    expect(pathCoverageWarning(stress!, { name: 'd', symbols: ['BTCUSDT'], columns: [data.columns[0]!] })).toBeNull();
    expect(pathCoverageWarning(resolveStress({ inject: {}, paths: 0, crashesPerPath: 0, seed: 1 }).stress!, { name: 'd', symbols: data.symbols, columns: data.columns })).toBeNull();
  });

  it('warns when a given stress.blockBars is at or above the window\'s bar count (most paths are the data rotated), not below it or by default', () => {
    const ds = (n: number) => ({ name: 'd', time: Float64Array.from({ length: n }, (_, i) => T0 + i * HOUR) });
    const withBlock = (b: number | undefined) => resolveStress({ inject: {}, paths: 20, crashesPerPath: 0, seed: 1, ...(b === undefined ? {} : { blockBars: b }) }).stress!;
    expect(pathsWarning(withBlock(100), ds(100))).toBe(
      'stress: stress.blockBars 100 is at or above the 100 bars of dataset d: a path starts a new block about 0.98 times on average, so most of its paths are the data rotated (one rotation in about 38 %), not resampled history; use a block length well below 100 bars (leave stress.blockBars out for one day of bars, at most a quarter of the window)',
    );
    expect(pathsWarning(withBlock(5000), ds(100))).toMatch(/^stress: stress\.blockBars 5000 is at or above the 100 bars/);
    expect(pathsWarning(withBlock(99), ds(100))).toBeNull();
    expect(pathsWarning(withBlock(undefined), ds(5))).toBeNull();
    expect(pathsWarning({ ...withBlock(100), paths: 0 }, ds(100))).toBeNull();
    // what it says is what bootstrapIndices does: with blockBars = n, a path of bars 1 … n − 1 that starts no new block is one rotation
    const n = 50;
    let rotations = 0;
    const P = 2000;
    for (let p = 0; p < P; p++) {
      const idx = bootstrapIndices(n, 1, p, n);
      let jumps = 0;
      for (let i = 2; i < n; i++) if (idx[i] !== (idx[i - 1] === n - 1 ? 1 : idx[i - 1]! + 1)) jumps++;
      if (jumps === 0) rotations++;
    }
    expect(Math.abs(rotations / P - Math.exp(-(n - 2) / n))).toBeLessThan(0.04);
  });

  it('warns when a dataset is too short for the paths to differ (fewer than 3 bars: every path is the data)', () => {
    const { stress } = resolveStress({ inject: {}, paths: 12, crashesPerPath: 0, seed: 1 });
    const ds = (n: number) => ({ name: 'd', time: Float64Array.from({ length: n }, (_, i) => T0 + i * HOUR) });
    for (const n of [1, 2]) {
      expect(pathsWarning(stress!, ds(n))).toMatch(new RegExp(`^stress: dataset d has ${n} bars?: every Monte Carlo path is the data itself .* its 12 paths per configuration are one replay counted 12 times`));
      // and it is true: every path of such data is byte for byte the data
      const md = makeData({ BTCUSDT: { bars: Array.from({ length: n }, (_, i): Bar => [10 + i, 11 + i, 9 + i, 10.5 + i]) } });
      for (let p = 0; p < 5; p++) expect(snapshot(bootstrapPath(md, 1, p, 2))).toBe(snapshot(md));
    }
    expect(pathsWarning(stress!, ds(3))).toBeNull();
    expect(pathsWarning({ ...stress!, paths: 0 }, ds(1))).toBeNull();
    // scenarios that get no injection time on a dataset run nowhere: said, not silent
    const tl = (n: number) => ({ ...ds(n), timeframeMs: HOUR });
    expect(injectionWarning(stress!, tl(100))).toBeNull();
    const every = resolveStress({ inject: { every: 100 }, paths: 0, crashesPerPath: 0, seed: 1 }).stress!;
    expect(injectionWarning(every, tl(101))).toBeNull();
    expect(injectionWarning(every, tl(100))).toBe(
      'stress: dataset d gets no injection time (stress.inject.every (100) is not below its 100 bars, and stress.inject.random is 0 with no stress.inject.at): its 5 scenarios run nowhere; lower stress.inject.every, add stress.inject.random or stress.inject.at, or --scenarios none',
    );
    // (not "random is 0, and no … inject.random time", nor "lower inject.every" when there is none)
    expect(injectionWarning(resolveStress({ inject: { random: 0 }, paths: 0, crashesPerPath: 0, seed: 1 }).stress!, tl(100))).toBe(
      'stress: dataset d gets no injection time (stress.inject.random is 0, with no stress.inject.at or stress.inject.every): its 5 scenarios run nowhere; set stress.inject.random, stress.inject.at or stress.inject.every, or --scenarios none',
    );
    expect(injectionWarning({ ...every, scenarios: [] }, tl(10))).toBeNull();
    // more random times asked for than the window has free bars: every free bar is taken, and said (5000 became 948 in silence)
    const many = resolveStress({ inject: { random: 500 }, paths: 0, crashesPerPath: 0, seed: 1 }).stress!;
    expect(injectionTimes(many, tl(100))).toHaveLength(65);
    expect(injectionWarning(many, tl(100))).toBe('stress.inject.random (500): dataset d has 65 free bars where random times fall (bars 25 to 89 of its 100, less those of stress.inject.at and stress.inject.every), so its scenarios run at 65 random times; lower stress.inject.random to silence this');
    const withAt = resolveStress({ inject: { random: 65, at: [T0 + 30 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 }).stress!;
    expect(injectionWarning(withAt, tl(100))).toMatch(/^stress\.inject\.random \(65\): dataset d has 64 free bars /);
    expect(injectionWarning(resolveStress({ inject: { random: 64, at: [T0 + 30 * HOUR] }, paths: 0, crashesPerPath: 0, seed: 1 }).stress!, tl(100))).toBeNull();
    // three bars already give different paths
    const md3 = makeData({ BTCUSDT: { bars: [[10, 11, 9, 10.5], [10.5, 12, 10, 11], [11, 11.5, 9.5, 10]] } });
    expect(new Set(Array.from({ length: 20 }, (_, p) => snapshot(bootstrapPath(md3, 1, p, 2)))).size).toBeGreaterThan(1);
  });

  it('refuses a plan too large for the machine with the numbers (exit 78)', () => {
    expect(() => checkPlanSize({ history: 10, scenario: 0, path: 3_000_000 }, false, '/tmp', 'backtest.config.ts')).toThrow(/too large for this machine \(10 history \+ 3,000,000 stress runs\): 3,000,010 runs is above the limit of 2,000,000/);
    expect(() => checkPlanSize({ history: 10, scenario: 50, path: 50 }, false, '/tmp', 'c')).not.toThrow();
    // path runs with their event log (stress.pathEvents) weigh as much as scenario runs
    const n = Math.ceil(totalmem() / 8 / 40_000);
    const memoryProblem = (pathEvents: boolean): string => {
      try {
        checkPlanSize({ history: 0, scenario: 0, path: n }, pathEvents, '/tmp', 'c');
        return '';
      } catch (e) {
        return /of memory/.test((e as Error).message) ? 'memory' : '';
      }
    };
    expect(memoryProblem(false)).toBe('');
    expect(memoryProblem(true)).toBe('memory');
  });

  // the report step runs in the process that ran the plan, under Node's heap limit (≈ 4 GB however large
  // the machine): 30,000 scenario runs (≈ 2.6 GB of results) passed the memory check on a 24 GB machine and
  // would run out of heap in their report (a 13,000-run folder of 2.2 GB did: report/heap.ts)
  // (the heap Node gives a process by default on a large machine: the test's own limit is whatever NODE_OPTIONS
  // says, and --max-old-space-size=8000 there made the 30,000 scenario runs fit)
  const HEAP = 4e9;
  it("refuses a plan whose results the report could not hold in this process's heap, saying how to get more", () => {
    let err: unknown;
    try {
      checkPlanSize({ history: 0, scenario: 30_000, path: 0 }, false, '/tmp', 'c', undefined, HEAP);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(78);
    const needMb = Math.ceil((30_000 * 85_000 * 1.85 * 1.4) / 1e6).toLocaleString('en-US');
    expect((err as UserError).message).toMatch(new RegExp(`reading its results back for the report needs about ${needMb} MB of heap; this process has 4,000 MB`));
    expect((err as UserError).details[0]).toMatch(/\(merged, the whole plan's report must fit one process\), or give Node more heap \(NODE_OPTIONS=--max-old-space-size=<MB>, below the machine's memory\)$/);
    // a path run without its event log is read without its curves: 30,000 of them fit
    expect(() => checkPlanSize({ history: 0, scenario: 0, path: 30_000 }, false, '/tmp', 'c', undefined, HEAP)).not.toThrow();
  });
  // the memory check took the machine's memory whatever the process may use: in a container or a Slurm job of
  // 1 GB on a large machine, 2,000 scenario runs (≈ 680 MB to read back) passed and the kernel killed the report
  it("weighs the results read back against the memory this process may use (a container's limit), not the machine's", () => {
    const spy = vi.spyOn(process, 'constrainedMemory').mockReturnValue(1e9);
    try {
      expect(() => checkPlanSize({ history: 0, scenario: 2_000, path: 0 }, false, '/tmp', 'c', undefined, HEAP)).toThrow(
        /reading its results back for the report needs about 680 MB of memory; this process may use 1,000 MB$/,
      );
    } finally {
      spy.mockRestore();
    }
    // without a limit below the machine's, the machine's memory (this one's: far above 1.4 GB)
    expect(() => checkPlanSize({ history: 0, scenario: 2_000, path: 0 }, false, '/tmp', 'c', undefined, HEAP)).not.toThrow();
  });
});
