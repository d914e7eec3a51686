/**
 * Hand-built scenarios (issue 4): the expected events are computed by hand here from the
 * Binance formulas (tier 1 of BTCUSDT/ETHUSDT: MMR 0.4 %, cum 0; fees set to 0):
 *   isolated long LP = (WB − Q·EP) / (Q·(MMR − 1)), short LP = (WB + Q·EP) / (Q·(MMR + 1)).
 */
import { describe, expect, it } from 'vitest';
import { flat, HOUR, makeData, run, scripted, setupOf, T0, type Bar } from './engine-fixtures.js';
import { MARGIN_RATIO_CAP } from '../src/account/index.js';

const MMR = 0.004;
const longLp = (wb: number, q: number, ep: number) => (wb - q * ep) / (q * (MMR - 1));
const shortLp = (wb: number, q: number, ep: number) => (wb + q * ep) / (q * (MMR + 1));
const num = (s: string) => Number(s);

function liquidations(out: ReturnType<typeof run>, id: string) {
  return setupOf(out, id).events.filter((e) => e.type === 'liquidation') as Extract<
    ReturnType<typeof setupOf>['events'][number],
    { type: 'liquidation' }
  >[];
}

describe('hand-built scenarios', () => {
  it('a long is liquidated on a wick when isolated but survives when cross', () => {
    const data = makeData({ BTCUSDT: { bars: [...flat(10000, 1), [10000, 10050, 8900, 9900], ...flat(9900, 1)] } });
    const log: string[] = [];
    const out = run(data, scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT'], log));
    const lp = longLp(1000, 1, 10000); // 9036.1445…
    const iso = liquidations(out, 'isolated');
    expect(iso).toHaveLength(1);
    expect(iso[0]!.prices[0]).toBeCloseTo(lp, 6);
    // path: open 10000 → high 10050 (nearer) → low 8900; LP met on the second segment
    const tau = 1 + (10050 - lp) / (10050 - 8900);
    expect(iso[0]!.time).toBe(T0 + HOUR + Math.floor((tau / 3) * HOUR));
    expect(num(iso[0]!.penalty)).toBeCloseTo(lp * MMR, 6); // remaining margin = MM at LP
    expect(num(iso[0]!.realizedPnl)).toBeCloseTo(lp - 10000, 6);
    expect(num(setupOf(out, 'isolated').books.wallet)).toBeCloseTo(9000, 6);
    expect(setupOf(out, 'isolated').series.equity[1]).toBeCloseTo(9000, 6);
    expect(setupOf(out, 'isolated').series.marginRatioPeak[1]).toBe(1);
    expect(liquidations(out, 'cross')).toHaveLength(0);
    const cross = setupOf(out, 'cross');
    expect(cross.series.equity[1]).toBeCloseTo(9900, 9);
    // worst point: low 8900 → MM 35.6 / margin balance 8900
    expect(cross.series.marginRatioPeak[1]).toBeCloseTo((8900 * MMR) / 8900, 9);
    expect(cross.liquidationPriceSource).toBe('trade');
    expect(log).toEqual(['isolated:fill:0:1@10000:taker', 'isolated:liquidation:0', 'cross:fill:0:1@10000:taker']);
  });

  it('a hedged pair survives a crash under cross that liquidates a leg under isolated', () => {
    const data = makeData({
      BTCUSDT: { bars: [...flat(10000, 1), [10000, 10000, 8500, 8600], ...flat(8600, 1)] },
      ETHUSDT: { bars: [...flat(1000, 1), [1000, 1005, 850, 860], ...flat(860, 1)] },
    });
    for (const crossCheck of ['pessimistic', 'optimistic'] as const) {
      const out = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.sell(1, 10)) }, ['BTCUSDT', 'ETHUSDT']), { execution: { crossCheck } });
      const iso = liquidations(out, 'isolated');
      expect(iso).toHaveLength(1);
      expect(iso[0]!.symbols).toEqual([0]);
      expect(iso[0]!.prices[0]).toBeCloseTo(longLp(1000, 1, 10000), 6);
      expect(shortLp(1000, 10, 1000)).toBeGreaterThan(1005); // the short leg's LP is never reached
      expect(setupOf(out, 'isolated').series.equity[1]).toBeCloseTo(9000 + 10 * (1000 - 860), 6);
      expect(liquidations(out, 'cross')).toHaveLength(0);
      expect(setupOf(out, 'cross').series.equity[1]).toBeCloseTo(10000 - 1400 + 1400, 6);
      expect(setupOf(out, 'cross').crossCheck).toBe(crossCheck);
    }
  });

  it('a correlated crash wipes the cross account while isolated losses stop at the allocated margins', () => {
    const data = makeData({
      BTCUSDT: { bars: [...flat(10000, 1), [10000, 10000, 4000, 4500], ...flat(4500, 1)] },
      ETHUSDT: { bars: [...flat(1000, 1), [1000, 1000, 400, 450], ...flat(450, 1)] },
    });
    const out = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.buy(1, 10)) }, ['BTCUSDT', 'ETHUSDT']));
    // cross, pessimistic: both legs move from the open to their lows at once; at fraction f
    // excess = 10000 − 12000 f − MMR·(10000 − 6000 f) − MMR·10·(1000 − 600 f) = 9920 − 11952 f
    const f = 9920 / 11952;
    const cl = liquidations(out, 'cross');
    expect(cl).toHaveLength(1);
    expect([...cl[0]!.symbols].sort()).toEqual([0, 1]);
    const px = (s: number) => cl[0]!.prices[cl[0]!.symbols.indexOf(s)]!;
    expect(px(0)).toBeCloseTo(10000 - 6000 * f, 5);
    expect(px(1)).toBeCloseTo(1000 - 600 * f, 6);
    expect(cl[0]!.time).toBe(T0 + HOUR + Math.floor((f / 3) * HOUR));
    expect(num(cl[0]!.penalty)).toBeCloseTo(80 - 48 * f, 5);
    expect(num(setupOf(out, 'cross').books.wallet)).toBeCloseTo(0, 5);
    // isolated: each leg loses exactly its 1000 of margin
    const il = liquidations(out, 'isolated');
    expect(il).toHaveLength(2);
    expect(il.map((e) => e.prices[0]!).sort((a, b) => b - a)[0]).toBeCloseTo(longLp(1000, 1, 10000), 6);
    expect(num(setupOf(out, 'isolated').books.wallet)).toBeCloseTo(8000, 6);
    expect(setupOf(out, 'isolated').series.equity[2]).toBeCloseTo(8000, 6);
    // optimistic: checked at the close only; the cross pool still goes, priced on the open→close line
    const opt = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.buy(1, 10)) }, ['BTCUSDT', 'ETHUSDT']), {
      setups: [{ id: 'cross', defaultMode: 'cross' }],
      execution: { crossCheck: 'optimistic' },
    });
    const ol = liquidations(opt, 'cross');
    expect(ol).toHaveLength(1);
    // open→close line: BTC 10000 − 5500 g, ETH 1000 − 550 g: excess = 9920 − 11000 g + 44 g
    const g = 9920 / (11000 - 44);
    expect(ol[0]!.prices[ol[0]!.symbols.indexOf(0)]!).toBeCloseTo(10000 - 5500 * g, 5);
    expect(ol[0]!.time).toBe(T0 + 2 * HOUR);
  });

  it('funding moves an isolated liquidation price on binance-usdm', () => {
    const bars: Bar[] = [...flat(10000, 3), [10000, 10000, 9100, 9500], ...flat(9500, 1)];
    const withFunding = makeData({ BTCUSDT: { bars, funding: [{ bar: 2, rate: 0.01, price: 10000 }] } });
    const out = run(withFunding, scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']));
    const iso = setupOf(out, 'isolated');
    const funding = iso.events.filter((e) => e.type === 'funding');
    expect(funding).toHaveLength(1);
    expect(num((funding[0] as { received: string }).received)).toBeCloseTo(-100, 9);
    // the long paid 100 out of its isolated wallet: LP rises from 9036.14 to 9136.55, above the low of 9100
    const liq = liquidations(out, 'isolated');
    expect(liq).toHaveLength(1);
    expect(liq[0]!.prices[0]).toBeCloseTo(longLp(900, 1, 10000), 6);
    expect(liquidations(out, 'cross')).toHaveLength(0);
    expect(num(setupOf(out, 'cross').books.fundingPaid)).toBeCloseTo(100, 9);
    // control: without the funding event the same wick (9100 > 9036.14) does not liquidate
    const none = run(makeData({ BTCUSDT: { bars } }), scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']));
    expect(liquidations(none, 'isolated')).toHaveLength(0);
  });

  it('a gap through the bankruptcy price creates an insurance shortfall', () => {
    const data = makeData({ BTCUSDT: { bars: [...flat(10000, 2), [8800, 8900, 8700, 8850], ...flat(8850, 1)] } });
    const out = run(data, scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']), { setups: [{ id: 'isolated', defaultMode: 'isolated' }] });
    const liq = liquidations(out, 'isolated');
    expect(liq).toHaveLength(1);
    // LP 9036.14 and bankruptcy 9000 are both above the open 8800: closed at the open
    expect(liq[0]!.prices[0]).toBe(8800);
    expect(liq[0]!.time).toBe(T0 + 2 * HOUR);
    expect(num(liq[0]!.realizedPnl)).toBeCloseTo(-1200, 9);
    expect(num(liq[0]!.insuranceDraw)).toBeCloseTo(200, 9);
    expect(num(liq[0]!.penalty)).toBeCloseTo(0, 9);
    const books = setupOf(out, 'isolated').books;
    expect(num(books.insuranceDraws)).toBeCloseTo(200, 9);
    expect(num(books.wallet)).toBeCloseTo(9000, 9);
    // at the open, before the liquidation, the position's margin balance is 1000 − 1200 < 0: the capped ratio
    expect(setupOf(out, 'isolated').series.marginRatioPeak[2]).toBe(MARGIN_RATIO_CAP);
  });

  it('a stop that the path meets before the liquidation price closes the position; one below it does not', () => {
    const bars: Bar[] = [...flat(10000, 2), [10000, 10010, 8900, 9000], ...flat(9000, 1)];
    const data = makeData({ BTCUSDT: { bars } });
    const log: string[] = [];
    const out = run(
      data,
      scripted({ 0: (c) => (c.buy(0, 1), c.sell(0, 1, { type: 'stop', price: 9500, reduceOnly: true })) }, ['BTCUSDT'], log),
      { setups: [{ id: 'isolated', defaultMode: 'isolated' }] },
    );
    expect(liquidations(out, 'isolated')).toHaveLength(0);
    const fills = setupOf(out, 'isolated').events.filter((e) => e.type === 'fill') as { price: number; qty: number; time: number }[];
    expect(fills.map((f) => [f.qty, f.price])).toEqual([
      [1, 10000],
      [-1, 9500],
    ]);
    expect(fills[1]!.time).toBe(T0 + 2 * HOUR + Math.floor(((1 + (10010 - 9500) / 1110) / 3) * HOUR));
    expect(num(setupOf(out, 'isolated').books.wallet)).toBeCloseTo(9500, 9);
    // the position was held down to the stop at 9500 (flat at the close): MM 38 / (1000 − 500)
    expect(setupOf(out, 'isolated').series.marginRatioPeak[2]).toBeCloseTo((MMR * 9500) / (1000 - 500), 12);
    // a stop at 9000 lies past the LP (9036.14): the liquidation comes first and cancels the stop
    const out2 = run(data, scripted({ 0: (c) => (c.buy(0, 1), c.sell(0, 1, { type: 'stop', price: 9000, reduceOnly: true })) }, ['BTCUSDT']), {
      setups: [{ id: 'isolated', defaultMode: 'isolated' }],
    });
    expect(liquidations(out2, 'isolated')).toHaveLength(1);
    expect(setupOf(out2, 'isolated').events.filter((e) => e.type === 'fill')).toHaveLength(1);
  });

  it('liquidation uses mark candles when the dataset has them at the bar timeframe', () => {
    const bars: Bar[] = [...flat(10000, 1), [10000, 10000, 8900, 9900], ...flat(9900, 1)];
    const mark: Bar[] = [...flat(10000, 1), [10000, 10000, 9500, 9900], ...flat(9900, 1)];
    const withMark = run(makeData({ BTCUSDT: { bars, mark } }), scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']));
    expect(liquidations(withMark, 'isolated')).toHaveLength(0); // the mark low 9500 stays above LP 9036
    expect(setupOf(withMark, 'isolated').liquidationPriceSource).toBe('mark');
    const tradeOnly = run(makeData({ BTCUSDT: { bars } }), scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']));
    expect(liquidations(tradeOnly, 'isolated')).toHaveLength(1);
    expect(setupOf(tradeOnly, 'isolated').liquidationPriceSource).toBe('trade');
    const mixed = run(
      makeData({ BTCUSDT: { bars, mark }, ETHUSDT: { bars: flat(1000, 3) } }),
      scripted({}, ['BTCUSDT', 'ETHUSDT']),
    );
    expect(setupOf(mixed, 'cross').liquidationPriceSource).toBe('mixed');
  });
});

describe('marginRatioPeak follows the positions held along the intrabar path', () => {
  it('a position opened after the bar extreme is not valued at that extreme', () => {
    // path 100 → 90 (nearer) → 130 → 125; a buy-stop at 120 fills on the way up, after the low of 90
    const data = makeData({ BTCUSDT: { bars: [...flat(100, 1), [100, 130, 90, 125], ...flat(125, 2)] } });
    const log: string[] = [];
    const out = run(data, scripted({ 0: (c) => c.order({ symbol: 0, qty: 10, type: 'stop', price: 120 }) }, ['BTCUSDT'], log), { leverage: 50 });
    expect(log).toEqual(['isolated:fill:0:10@120:taker', 'cross:fill:0:10@120:taker']);
    const iso = setupOf(out, 'isolated').series;
    // isolated wallet 10 × 120 / 50 = 24; held from 120 up to 130 and back to 125: the worst point is the fill at 120
    const atFill = (MMR * 10 * 120) / 24; // 0.2
    const atClose = (MMR * 10 * 125) / (24 + 10 * (125 - 120)); // 5 / 74
    expect(iso.marginRatio[1]).toBeCloseTo(atClose, 12);
    expect(iso.marginRatioPeak[1]).toBeCloseTo(atFill, 12);
    expect(Array.from(iso.marginRatioPeak.subarray(2))).toEqual([atClose, atClose].map((x) => expect.closeTo(x, 12)));
    // (valued at the low of 90 the position would be bankrupt: 24 + 10 × (90 − 120) < 0)
    for (const s of out.setups) for (const v of s.series.marginRatioPeak) expect(Number.isFinite(v)).toBe(true);
    expect(Math.max(...iso.marginRatioPeak)).toBeLessThan(0.9); // no near miss
  });

  it('a position closed inside the bar counts with the worst point it was held through', () => {
    // long 10 @ 100 at 50x (isolated wallet 20, LP 98.39); path 100 → 98.45 (nearer) → 103.5 → 103;
    // the take-profit at 102 closes it on the way up, so the bar closes flat
    const data = makeData({ BTCUSDT: { bars: [...flat(100, 2), [100, 103.5, 98.45, 103], ...flat(103, 1)] } });
    const log: string[] = [];
    const script = {
      0: (c: Parameters<Parameters<typeof scripted>[0][number]>[0]) => c.buy(0, 10),
      1: (c: Parameters<Parameters<typeof scripted>[0][number]>[0]) => {
        c.order({ symbol: 0, qty: -10, type: 'takeProfit', price: 102, reduceOnly: true });
      },
    };
    const out = run(data, scripted(script, ['BTCUSDT'], log), { leverage: 50, setups: [{ id: 'isolated', defaultMode: 'isolated' }] });
    expect(log).toEqual(['isolated:fill:0:10@100:taker', 'isolated:fill:0:-10@102:taker']);
    expect(longLp(20, 10, 100)).toBeLessThan(98.45); // not liquidated
    const s = setupOf(out, 'isolated').series;
    expect(s.marginRatioPeak[1]).toBeCloseTo((MMR * 1000) / 20, 12); // 0.2 at the entry
    // at the low: MM 0.004 × 984.5 = 3.938, margin balance 20 + 10 × (98.45 − 100) = 4.5
    expect(s.marginRatioPeak[2]).toBeCloseTo((MMR * 10 * 98.45) / (20 + 10 * (98.45 - 100)), 12); // 0.87511…
    expect(s.marginRatio[2]).toBe(0);
    expect(s.marginRatioPeak[3]).toBe(0);
  });

  it('the positions held into the open count at the open before a market fill changes them', () => {
    // short 10 @ 100 at 50x (wallet 20); the next open gaps up to 101.5, where the short is closed by a market order
    const data = makeData({ BTCUSDT: { bars: [...flat(100, 2), [101.5, 101.5, 101.5, 101.5], ...flat(101.5, 1)] } });
    const out = run(
      data,
      scripted({ 0: (c) => c.sell(0, 10), 1: (c) => c.buy(0, 10) }, ['BTCUSDT']),
      { leverage: 50, setups: [{ id: 'isolated', defaultMode: 'isolated' }] },
    );
    const s = setupOf(out, 'isolated').series;
    expect(s.marginRatio[2]).toBe(0);
    // at the open: MM 0.004 × 1015 = 4.06, margin balance 20 − 10 × 1.5 = 5
    expect(s.marginRatioPeak[2]).toBeCloseTo((MMR * 1015) / 5, 12);
  });
});
