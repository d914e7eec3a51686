/**
 * The setups of one replay run the same strategy in lockstep: no setup's callbacks inside bar i (onFill, onFunding,
 * onLiquidation) run after another setup's onBar of bar i. State the instances share (a module variable, against the
 * advice of docs/strategies.md) carried bar i's close from the first setup's onBar into the next setups' fills of bar
 * i: the cross setup could cancel a stop the rest of the bar would trigger, knowing where the bar closes.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SETUPS } from '../src/engine/index.js';
import type { StrategyModule } from '../src/strategy/types.js';
import { makeData, run, type Bar } from './engine-fixtures.js';

describe('setups in lockstep', () => {
  it("no setup's in-bar callback runs after another setup's onBar of the same bar", () => {
    // bar 3 dips to 98 (the stop at 99 fills) and closes at 150
    const bars: Bar[] = [[100, 100, 100, 100], [100, 101, 99, 100], [100, 101, 99, 100], [100, 151, 98, 150], [150, 150, 150, 150], [150, 150, 150, 150]];
    const data = makeData({ AAA: { bars, funding: [{ bar: 3, rate: 0.001, price: 100 }] } });
    let shared = NaN; // shared by the setups' instances
    const order: string[] = [];
    const seen: [string, string, number, number][] = [];
    const strategy: StrategyModule = {
      name: 'lockstep',
      description: 'module state shared by the setups',
      params: z.object({}),
      symbols: () => ['AAA'],
      create: () => ({
        onBar(c) {
          shared = c.close(0);
          order.push(`${c.setup}:onBar:${c.index}`);
          if (c.bar === 1) c.buy(0, 1);
          if (c.bar === 2) c.order({ symbol: 0, qty: -1, type: 'stop', price: 99, reduceOnly: true });
        },
        onFill(_f, c) {
          order.push(`${c.setup}:onFill:${c.index + 1}`);
          seen.push([c.setup, 'onFill', c.close(0), shared]);
        },
        onFunding(_f, c) {
          order.push(`${c.setup}:onFunding:${c.index + 1}`);
          seen.push([c.setup, 'onFunding', c.close(0), shared]);
        },
      }),
    };
    const out = run(data, strategy, { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed] });
    for (const s of out.setups) expect(s.error).toBeUndefined();
    // every in-bar callback saw the shared state as of the previous bar's close, the close its own ctx shows
    expect(seen.length).toBe(9);
    for (const [, , close, sh] of seen) expect(sh).toBe(close);
    // bar 3: every setup's funding and fill, then every setup's onBar
    const bar3 = order.filter((x) => x.endsWith(':3'));
    expect(bar3).toEqual([
      'isolated:onFunding:3', 'isolated:onFill:3', 'cross:onFunding:3', 'cross:onFill:3', 'mixed:onFunding:3', 'mixed:onFill:3',
      'isolated:onBar:3', 'cross:onBar:3', 'mixed:onBar:3',
    ]);
  });
});
