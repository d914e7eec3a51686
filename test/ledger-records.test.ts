/**
 * The result records read from the account's ledger as recorded (src/engine/ledger.ts,
 * setupRecords) are the records of its events (eventRecords(output.events)), value for value and
 * key for key, whatever the run holds: fills of both modes, funding paid and received, isolated
 * and multi-symbol cross liquidations, margin transfers, rejections, and events a reader already
 * built while the run went on. The metrics read the same records either way.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_EXECUTION, replay, SETUPS } from '../src/engine/index.js';
import { ledgerOf, liquidationEvents } from '../src/engine/ledger.js';
import { computeMetrics } from '../src/analysis/index.js';
import { eventRecords, recordCount, setupItems, setupRecords } from '../src/shard/records.js';
import { recordItems, type LedgerItems } from '../src/analysis/trades.js';
import { createAccount } from '../src/account/index.js';
import type { Strategy, StrategyModule } from '../src/strategy/types.js';
import { getVenue } from '../src/venue/index.js';
import { makeData, run, type Bar } from './engine-fixtures.js';

/** a random walk of n bars from p0 (steps up to ±step, a crash of −crash at bar `at`) */
function walk(n: number, p0: number, steps: number[], crashAt: number, crash: number): Bar[] {
  const out: Bar[] = [];
  let p = p0;
  for (let i = 0; i < n; i++) {
    const o = p;
    p = Math.max(1, p * (1 + steps[i % steps.length]!) * (i === crashAt ? 1 - crash : 1));
    out.push([o, Math.max(o, p) * 1.004, Math.min(o, p) * 0.996, p]);
  }
  return out;
}

/** orders on a schedule: market orders, flips, closes, margin transfers, invalid orders; reads the events mid-run when asked */
function busy(actions: number[], readEvents: boolean): StrategyModule {
  return {
    name: 'busy',
    description: 'test',
    params: z.object({}),
    symbols: () => ['AUSDT', 'BUSDT'],
    create(): Strategy {
      return {
        onBar(ctx) {
          const a = actions[ctx.bar % actions.length]!;
          const s = a % 2;
          const price = ctx.close(s);
          const qty = (200 + (a % 7) * 150) / price;
          switch (a % 6) {
            case 0:
              ctx.order({ symbol: s, type: 'market', qty });
              break;
            case 1:
              ctx.order({ symbol: s, type: 'market', qty: -2 * qty });
              break;
            case 2:
              ctx.closePosition(s);
              break;
            case 3:
              ctx.transferMargin(s, a % 4 === 0 ? 25 : -10);
              break;
            case 4:
              ctx.order({ symbol: s, type: 'market', qty: Number.NaN });
              break;
            default:
              break;
          }
          if (readEvents && ctx.bar % 5 === 0) void (ctx.account as unknown as { events?: unknown }).events;
        },
      };
    },
  };
}

/** a walk's items copied (the walk hands out one object per kind, changed from entry to entry) */
const itemsOf = (items: LedgerItems): unknown[] => {
  const out: unknown[] = [];
  items((it) => out.push({ ...it }));
  return out;
};

describe('result records from the ledger as recorded', () => {
  it('equal the records of the events, for random runs with every kind of event', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -0.03, max: 0.03, noNaN: true }), { minLength: 5, maxLength: 20 }),
        fc.array(fc.nat(40), { minLength: 3, maxLength: 12 }),
        fc.integer({ min: 5, max: 55 }),
        fc.double({ min: 0, max: 0.6, noNaN: true }),
        fc.constantFrom(5, 20, 50, 100),
        fc.boolean(),
        (steps, actions, crashAt, crash, leverage, readEvents) => {
          const n = 60;
          const funding = Array.from({ length: 7 }, (_, k) => ({ bar: 4 + 8 * k, rate: (k % 3) - 1 === 0 ? 0.0001 : ((k % 3) - 1) * 0.0004, price: 100 }));
          const data = makeData({
            AUSDT: { bars: walk(n, 100, steps, crashAt, crash), funding },
            BUSDT: { bars: walk(n, 50, steps.map((x) => -x), crashAt, crash * 0.8), funding: funding.map((f) => ({ ...f, price: 50 })) },
          });
          const out = run(data, busy(actions, readEvents), { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed], leverage, capital: '5000' });
          for (const so of out.setups) {
            expect(ledgerOf(so)).not.toBeNull();
            const fromLedger = setupRecords(so, out.symbols);
            // read before so.events, which builds every fill's event into the ledger
            const ledgerItems = itemsOf(setupItems(so, out.symbols));
            const base = { output: so, initialCapital: 5000, timeframeMs: data.timeframeMs, symbols: out.symbols };
            const ledgerMetrics = computeMetrics(base);
            const fromEvents = eventRecords(so.events, out.symbols, so.liquidations);
            // same keys in the same order (the result file's JSON), same values
            expect(JSON.stringify(fromLedger)).toBe(JSON.stringify(fromEvents));
            expect(fromLedger).toEqual(fromEvents);
            // the items the metrics walk, from the ledger without records, are the records' items
            expect(ledgerItems).toEqual(itemsOf(recordItems(fromEvents)));
            expect(ledgerMetrics).toEqual(computeMetrics({ ...base, records: fromEvents }));
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it('cover fills, funding, liquidations, transfers and rejections (the property above is not vacuous)', () => {
    const funding = Array.from({ length: 7 }, (_, k) => ({ bar: 4 + 8 * k, rate: k % 2 ? 0.0005 : -0.0003, price: 100 }));
    const data = makeData({
      AUSDT: { bars: walk(60, 100, [0.01, -0.005, 0.002], 30, 0.5), funding },
      BUSDT: { bars: walk(60, 50, [-0.01, 0.004], 30, 0.4), funding: funding.map((f) => ({ ...f, price: 50 })) },
    });
    const out = run(data, busy([0, 3, 6, 4, 13, 1, 9, 2, 0, 19], true), { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed], leverage: 50, capital: '5000' });
    // the same run again, its events not read (the ledger as recorded: fills and settlements as column entries)
    const fresh = run(data, busy([0, 3, 6, 4, 13, 1, 9, 2, 0, 19], false), { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed], leverage: 50, capital: '5000' });
    const kinds = new Set(out.setups.flatMap((so) => setupRecords(so, out.symbols).map((r) => r.type)));
    expect([...kinds].sort()).toEqual(['fill', 'funding', 'liquidation', 'rejection', 'transfer']);
    for (const so of out.setups) {
      expect(setupRecords(so, out.symbols)).toEqual(eventRecords(so.events, out.symbols, so.liquidations));
      expect(recordCount(so)).toBe(so.events.length);
    }
    // the liquidations the stress figures read, from the ledger as recorded, are the events' liquidations
    const liquidations = fresh.setups.map((so) => liquidationEvents(so));
    // the items of every kind the metrics read: fills (both sides), settlements paid and received, liquidations
    const items = fresh.setups.flatMap((so) => itemsOf(setupItems(so, fresh.symbols))) as { type: string; buy?: boolean; amount?: bigint }[];
    expect(new Set(items.map((i) => (i.type === 'fill' ? `fill:${i.buy}` : i.type === 'funding' ? `funding:${i.amount! < 0n}` : i.type)))).toEqual(
      new Set(['fill:true', 'fill:false', 'funding:true', 'funding:false', 'liquidation']),
    );
    expect(liquidations.flat().length).toBeGreaterThan(0);
    fresh.setups.forEach((so, k) => expect(liquidations[k]).toEqual(so.events.filter((e) => e.type === 'liquidation')));
  });

  it('the metrics read the same records whether the caller gives them or not', () => {
    const data = makeData({ AUSDT: { bars: walk(60, 100, [0.02, -0.015, 0.004], 40, 0.3), funding: [{ bar: 8, rate: 0.0004, price: 100 }, { bar: 16, rate: -0.0002, price: 100 }] }, BUSDT: { bars: walk(60, 50, [-0.01], 40, 0.2) } });
    const out = run(data, busy([0, 1, 2, 0, 1, 5], false), { leverage: 20 });
    for (const so of out.setups) {
      const base = { output: so, initialCapital: 10000, timeframeMs: data.timeframeMs, symbols: out.symbols };
      expect(computeMetrics(base)).toEqual(computeMetrics({ ...base, records: eventRecords(so.events, out.symbols, so.liquidations) }));
    }
  });

  it("an output whose account is not marginlab's own (accountFactory) has no ledger: its events are read", () => {
    const data = makeData({ AUSDT: { bars: walk(30, 100, [0.01, -0.01], 10, 0) }, BUSDT: { bars: walk(30, 50, [0.01], 10, 0) } });
    const strategy = busy([0, 1, 2, 3], false);
    const base = run(data, strategy, { leverage: 5 });
    // a wrapper of marginlab's account (an object of its own, not an AccountImpl)
    const wrapped = replay({
      data,
      symbols: data.symbols,
      strategy,
      params: {},
      venue: getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } }),
      setups: [SETUPS.isolated, SETUPS.cross],
      initialCapital: '10000',
      leverage: 5,
      execution: { ...DEFAULT_EXECUTION, slippageBps: 0 },
      accountFactory: (p) => {
        const a = createAccount(p);
        return new Proxy(a, {
          get(target, key) {
            const v = Reflect.get(target, key, target) as unknown;
            return typeof v === 'function' ? (v as (...args: unknown[]) => unknown).bind(target) : v;
          },
        });
      },
    });
    for (const [k, so] of wrapped.setups.entries()) {
      expect(ledgerOf(so)).toBeNull();
      const records = setupRecords(so, wrapped.symbols);
      expect(records.length).toBeGreaterThan(0);
      expect(records).toEqual(setupRecords(base.setups[k]!, base.symbols));
    }
  });
});
