/**
 * What a strategy's callbacks at a bar's events check their margin transfers and leverage changes
 * against: the positions valued where the path is (every symbol's liquidation-source price at the
 * event), as a fill's margin check does — not at the previous close. Found by an independent
 * adversarial review: in onFunding at a gapped open, and in onLiquidation of an isolated pool before
 * the cross pool was judged at the same open, a transfer the open no longer allowed was accepted,
 * and the insurance fund made good what it took out (DESIGN §3, §5: an isolated position never loses
 * more than its margin; no money appears).
 */
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { SetupSpec } from '../src/engine/index.js';
import { getVenue } from '../src/venue/index.js';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';
import { flat, makeData, run, setupOf } from './engine-fixtures.js';

type Hooks = {
  onBar?: (ctx: StrategyContext) => void;
  onFunding?: (ctx: StrategyContext) => void;
  onLiquidation?: (poolId: string, ctx: StrategyContext) => void;
};

function strategy(symbols: string[], h: Hooks): StrategyModule {
  return {
    name: 'callback-marks',
    description: 'test',
    params: z.object({}),
    symbols: () => symbols,
    create: () => ({
      onBar: (ctx) => h.onBar?.(ctx),
      onFunding: (_f, ctx) => h.onFunding?.(ctx),
      onLiquidation: (l, ctx) => h.onLiquidation?.(l.poolId, ctx),
    }),
  };
}

const ISOLATED: SetupSpec = { id: 'isolated', defaultMode: 'isolated' };
const MIXED: SetupSpec = { id: 'mixed', defaultMode: 'cross' };

function identity(b: Record<string, string>): boolean {
  const lhs = new Decimal(b.initialDeposit!).plus(b.realizedPnl!).minus(b.fees!).plus(b.fundingReceived!).minus(b.fundingPaid!).minus(b.liquidationPenalties!).plus(b.insuranceDraws!);
  return lhs.eq(b.wallet!);
}

describe('callbacks at a bar\'s events see the positions at the event\'s prices', () => {
  // isolated long 1 BTC at 10,000, 10×: wallet 1,000. Bar 1 closes at 11,000 (removable then
  // min(1000 − 44, 1000 + 1000 − 1100) = 900). Bar 2 opens gapped down at 9,500 with a funding stamp:
  // removable at the open = max(0, min(1000 − 38, 1000 − 500 − 950)) = 0
  const data = makeData({
    BTCUSDT: { bars: [[10000, 10000, 10000, 10000], [10000, 11000, 10000, 11000], [9500, 9500, 9500, 9500], ...flat(9500, 2)], funding: [{ bar: 2, rate: 0.00001, price: 9500 }] },
  });

  it('onFunding at a gapped open: removing margin the open has lost is refused, nothing is liquidated, no insurance draw', () => {
    const answers: boolean[] = [];
    const out = run(data, strategy(['BTCUSDT'], { onBar: (c) => void (c.bar === 0 && c.buy(0, 1)), onFunding: (c) => void answers.push(c.transferMargin(0, -899.9)) }), { setups: [ISOLATED] });
    const s = setupOf(out, 'isolated');
    expect(s.error).toBeUndefined();
    expect(answers).toEqual([false]);
    const rej = s.events.filter((e) => e.type === 'rejection') as { reason: string; message: string }[];
    expect(rej.map((e) => e.reason)).toEqual(['exceedsRemovableMargin']);
    expect(rej[0]!.message).toContain('at most 0 can be removed');
    expect(s.events.filter((e) => e.type === 'liquidation')).toHaveLength(0);
    expect(s.books.insuranceDraws).toBe('0');
    expect(identity(s.books as unknown as Record<string, string>)).toBe(true);
    // the same run without the transfer: what the strategy ends with is the same
    const plain = setupOf(run(data, strategy(['BTCUSDT'], { onBar: (c) => void (c.bar === 0 && c.buy(0, 1)) }), { setups: [ISOLATED] }), 'isolated');
    expect(s.books.wallet).toBe(plain.books.wallet);
    expect(s.series.equity[4]).toBe(plain.series.equity[4]);
  });

  it('onFunding after a payment that sank an isolated pool: adding margin is refused, the pool is liquidated at the open as without the callback', () => {
    // isolated long 1 BTC at 30,000, 10× (wallet 3,000, maintenance 1 %): a +20 % funding at 30,000 pays 6,000, the
    // wallet is −3,000; a transfer of 6,500 in onFunding rescued it (no liquidation, no insurance draw)
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, tiers: { BTCUSDT: [{ floor: 0, mmr: 0.01, maxLeverage: 50 }] } });
    const d = makeData({ BTCUSDT: { bars: flat(30000, 5), funding: [{ bar: 2, rate: 0.2, price: 30000 }] } });
    const answers: boolean[] = [];
    const hold = (c: StrategyContext) => void (c.bar === 0 && c.buy(0, 1));
    const s = setupOf(run(d, strategy(['BTCUSDT'], { onBar: hold, onFunding: (c) => void answers.push(c.transferMargin(0, 6500)) }), { setups: [ISOLATED], venue, capital: '10000', leverage: 10 }), 'isolated');
    expect(s.error).toBeUndefined();
    expect(answers).toEqual([false]);
    const rej = s.events.filter((e) => e.type === 'rejection') as { reason: string; message: string }[];
    expect(rej.map((e) => e.reason)).toEqual(['immediateLiquidation']);
    expect(rej[0]!.message).toBe('BTCUSDT: its margin pool is past its liquidation threshold at the marks (30000), so it is liquidated before margin can reach it');
    const plain = setupOf(run(d, strategy(['BTCUSDT'], { onBar: hold }), { setups: [ISOLATED], venue, capital: '10000', leverage: 10 }), 'isolated');
    expect(s.events.filter((e) => e.type === 'liquidation')).toEqual(plain.events.filter((e) => e.type === 'liquidation'));
    expect(s.books).toEqual(plain.books);
    expect(s.books.insuranceDraws).toBe('3000');
    expect(identity(s.books as unknown as Record<string, string>)).toBe(true);
    // a pool the payment left above its threshold still takes margin
    const mild = makeData({ BTCUSDT: { bars: flat(30000, 5), funding: [{ bar: 2, rate: 0.05, price: 30000 }] } });
    const ok: boolean[] = [];
    run(mild, strategy(['BTCUSDT'], { onBar: hold, onFunding: (c) => void ok.push(c.transferMargin(0, 500)) }), { setups: [ISOLATED], venue, capital: '10000', leverage: 10 });
    expect(ok).toEqual([true]);
  });

  it('onFunding after a payment that sank the cross pool: removing isolated margin into it is refused, the cross pool is liquidated at the open as without the callback', () => {
    // mixed: BTC isolated 0.1 @ 30,000 opened at 2× (wallet 1,500), then raised to 10× (removable 1,200); ETH cross 3 @ 2,000
    // (cross wallet 1,500). A +40 % funding on ETH at 2,000 pays 2,400: cross wallet −900, past its 60 of maintenance
    const tiers = [{ floor: 0, mmr: 0.01, maxLeverage: 50 }];
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, tiers: { BTCUSDT: tiers, ETHUSDT: tiers } });
    const d = makeData({ BTCUSDT: { bars: flat(30000, 5) }, ETHUSDT: { bars: flat(2000, 5), funding: [{ bar: 2, rate: 0.4, price: 2000 }] } });
    const onBar = (c: StrategyContext) => {
      if (c.bar === 0) {
        c.setLeverage(0, 2);
        c.buy(0, 0.1, { mode: 'isolated' });
        c.buy(1, 3, { mode: 'cross' });
      }
      if (c.bar === 1) c.setLeverage(0, 10);
    };
    const answers: boolean[] = [];
    const opts = { setups: [MIXED], venue, capital: '3000', leverage: 10 };
    const s = setupOf(run(d, strategy(['BTCUSDT', 'ETHUSDT'], { onBar, onFunding: (c) => void answers.push(c.transferMargin(0, -1200)) }), opts), 'mixed');
    expect(s.error).toBeUndefined();
    expect(answers).toEqual([false]);
    const rej = s.events.filter((e) => e.type === 'rejection') as { reason: string; message: string }[];
    expect(rej.map((e) => e.reason)).toEqual(['immediateLiquidation']);
    expect(rej[0]!.message).toBe('BTCUSDT: the cross pool the removed margin would go to is past its liquidation threshold at the marks (2000), so it is liquidated before margin can reach it');
    const plain = setupOf(run(d, strategy(['BTCUSDT', 'ETHUSDT'], { onBar }), opts), 'mixed');
    const liquidations = (x: typeof s) => x.events.filter((e) => e.type === 'liquidation');
    expect(liquidations(plain)).toHaveLength(1);
    expect(liquidations(s)).toEqual(liquidations(plain));
    expect(s.books).toEqual(plain.books);
    expect(identity(s.books as unknown as Record<string, string>)).toBe(true);
  });

  it('onFunding at a gapped open: a leverage raise is checked against the tier at the open\'s notional', () => {
    // 20 BTC long at 10,000 at 10× (notional 200,000: the 50× tier's floor is 50,000, its max 250,000… );
    // the open gaps to 30,000: notional 600,000, whose tier allows at most 20× on Binance's brackets
    const d = makeData({
      BTCUSDT: { bars: [...flat(10000, 2), [30000, 30000, 30000, 30000], ...flat(30000, 2)], funding: [{ bar: 2, rate: 0.00001, price: 30000 }] },
    });
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } });
    const tiers = venue.tiers('BTCUSDT', d.time[0]!);
    const atOpen = tiers.filter((t) => t.floor <= 600_000).at(-1)!.maxLeverage;
    const atClose = tiers.filter((t) => t.floor <= 200_000).at(-1)!.maxLeverage;
    expect(atOpen).toBeLessThan(atClose); // the data makes the two tiers differ
    const answers: boolean[] = [];
    const out = run(d, strategy(['BTCUSDT'], { onBar: (c) => void (c.bar === 0 && c.buy(0, 20)), onFunding: (c) => void answers.push(c.setLeverage(0, atClose)) }), { setups: [ISOLATED], capital: '1000000' });
    const s = setupOf(out, 'isolated');
    expect(s.error).toBeUndefined();
    expect(answers).toEqual([false]);
    expect((s.events.filter((e) => e.type === 'rejection') as { reason: string }[]).map((e) => e.reason)).toEqual(['exceedsMaxLeverage']);
  });

  it('onLiquidation of an isolated pool at a gapped open: adding margin from a cross wallet the open has emptied is refused', () => {
    // mixed, capital 3,000: BTC isolated 1 @ 10,000 10× (wallet 1,000), SOL isolated 10 @ 100 10× (100),
    // ETH cross 10 @ 1,000 10×: cross wallet 1,900. Bar 2 opens with BTC at 8,000 (past its bankruptcy
    // price 9,000) and ETH at 800 (the cross pool: 1,900 − 2,000 < 0). Isolated pools go first; in BTC's
    // onLiquidation the available balance at the open is max(0, 1,900 − 2,000 − 800) = 0
    const d = makeData({
      BTCUSDT: { bars: [...flat(10000, 2), ...flat(8000, 3)] },
      ETHUSDT: { bars: [...flat(1000, 2), ...flat(800, 3)] },
      SOLUSDT: { bars: flat(100, 5) },
    });
    const open = (c: StrategyContext) => {
      if (c.bar !== 0) return;
      c.buy(0, 1, { mode: 'isolated' });
      c.buy(1, 10, { mode: 'cross' });
      c.buy(2, 10, { mode: 'isolated' });
    };
    const answers: string[] = [];
    const out = run(d, strategy(['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], { onBar: open, onLiquidation: (id, c) => void (id.startsWith('isolated') && answers.push(`${id} ${c.transferMargin(2, 900)}`)) }), { setups: [MIXED], capital: '3000' });
    const s = setupOf(out, 'mixed');
    expect(s.error).toBeUndefined();
    expect(answers).toEqual(['isolated:BTCUSDT false']);
    expect((s.events.filter((e) => e.type === 'rejection') as { reason: string }[]).map((e) => e.reason)).toEqual(['insufficientMargin']);
    expect(identity(s.books as unknown as Record<string, string>)).toBe(true);
    const plain = setupOf(run(d, strategy(['BTCUSDT', 'ETHUSDT', 'SOLUSDT'], { onBar: open }), { setups: [MIXED], capital: '3000' }), 'mixed');
    expect(s.books.insuranceDraws).toBe(plain.books.insuranceDraws);
    expect(s.books.wallet).toBe(plain.books.wallet);
  });
});

describe('mid-bar, a callback is checked at the prices the pools are judged at', () => {
  // found by a review of 1.5.26: marked on each leg's own path, an onLiquidation transfer out of the
  // cross wallet passed, and the multi-leg cross pool was liquidated at once on its adverse-first path
  // (the pessimistic check) with an insurance draw of 1,296
  it('onLiquidation under the pessimistic check: a transfer that would leave the cross pool past its threshold is refused', () => {
    const d = makeData({
      BTCUSDT: { bars: [...flat(10000, 2), [10000, 13000, 8000, 8000], ...flat(8000, 2)] },
      ETHUSDT: { bars: [...flat(1000, 2), [1000, 1200, 700, 1000], ...flat(1000, 2)] },
      SOLUSDT: { bars: flat(100, 5) },
      XRPUSDT: { bars: flat(1, 5) },
    });
    const symbols = ['BTCUSDT', 'ETHUSDT', 'SOLUSDT', 'XRPUSDT'];
    const open = (c: StrategyContext) => {
      if (c.bar !== 0) return;
      c.buy(0, 1, { mode: 'isolated' });
      c.buy(1, 10, { mode: 'cross' });
      c.buy(2, 1, { mode: 'cross' });
      c.buy(3, 1000, { mode: 'isolated' });
    };
    const moved: number[] = [];
    const out = run(
      d,
      strategy(symbols, {
        onBar: open,
        onLiquidation: (id, c) => {
          if (!id.includes('BTC')) return;
          for (const x of [3800, 3750, 3700, 3600, 3000, 2000, 1000]) if (c.transferMargin(3, x)) return void moved.push(x);
        },
      }),
      { setups: [MIXED], capital: '5000' },
    );
    const s = setupOf(out, 'mixed');
    expect(s.error).toBeUndefined();
    const plain = setupOf(run(d, strategy(symbols, { onBar: open }), { setups: [MIXED], capital: '5000' }), 'mixed');
    expect(plain.books.insuranceDraws).toBe('0');
    // the addable amount with ETH on its adverse-first path at the liquidation's point (3,757 on its own path)
    const rej = s.events.filter((e) => e.type === 'rejection') as { reason: string; message: string }[];
    expect(rej).toHaveLength(6);
    expect(rej[0]!.message).toBe('XRPUSDT: cannot add 3800; at most 1588.79518072 can be added');
    expect(moved).toEqual([1000]);
    // the transfer the check let through left the cross pool above its threshold there: the path's later
    // fall liquidates it without a shortfall (with 3,750 moved it was liquidated at once, drawing 1,295.78)
    expect(s.books.insuranceDraws).toBe('0');
    expect(identity(s.books as unknown as Record<string, string>)).toBe(true);
  });
});
