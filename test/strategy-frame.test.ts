/**
 * strategyFrame: the strategy's own line in a thrown error's stack (SetupOutput.errorAt.location),
 * skipping marginlab's modules, node's internals and node_modules.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { strategyFrame } from '../src/engine/runner-state.js';
import { SETUPS } from '../src/engine/index.js';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';
import { z } from 'zod';
import { flat, makeData, run } from './engine-fixtures.js';

const own = fileURLToPath(new URL('../src/engine/replay.ts', import.meta.url));
const withStack = (stack: string) => Object.assign(new Error('x'), { stack });

describe('strategyFrame', () => {
  it('takes the first frame outside marginlab, node internals and node_modules, relative to the working folder when inside it', () => {
    const e = withStack([
      'Error: kaboom',
      '    at ensure (node:internal/errors:123:4)',
      '    at Object.helper (/home/me/proj/node_modules/some-lib/index.js:10:5)',
      '    at Object.onBar (file:///home/me/proj/strategies/my%20strat.ts:31:15)',
      `    at SetupRunner.step (${own}:140:20)`,
    ].join('\n'));
    expect(strategyFrame(e, '/home/me/proj')).toBe('strategies/my strat.ts:31:15');
    expect(strategyFrame(e, '/elsewhere')).toBe('/home/me/proj/strategies/my strat.ts:31:15');
  });
  it('reads a frame without a function name, and a function name with parentheses; null without a usable frame', () => {
    expect(strategyFrame(withStack('Error: x\n    at /srv/s.mjs:2:3'), '/srv')).toBe('s.mjs:2:3');
    expect(strategyFrame(withStack('Error: x\n    at Object.<anonymous> (weird (name)) (/srv/s.mjs:4:1)'), '/')).toBe('srv/s.mjs:4:1');
    expect(strategyFrame(withStack(`Error: x\n    at step (${own}:1:1)\n    at node:internal/x:1:1`))).toBeNull();
    expect(strategyFrame('a string')).toBeNull();
    expect(strategyFrame(withStack('no frames at all'))).toBeNull();
  });
});

describe('errorAt.location of a callback that returned a promise', () => {
  // marginlab raises that error after the callback returned: no line of the strategy is on its stack, and the first
  // frame outside marginlab was the code that called replay() (test/engine-fixtures.ts:107:10), named as the strategy's line
  it('is null (no strategy line to name), in every callback', () => {
    // plain JavaScript (or a type error ignored): a promise is not a SyncResult
    const async = {
      name: 'async',
      description: 'x',
      params: z.object({}),
      symbols: () => ['BTCUSDT'],
      create: () => ({
        onBar(ctx: StrategyContext) {
          if (ctx.bar === 1) ctx.buy(0, 1);
          return ctx.bar === 3 ? Promise.resolve() : undefined;
        },
        async onFill() {},
      }),
    } as unknown as StrategyModule;
    const out = run(makeData({ BTCUSDT: { bars: flat(100, 6) } }), async, { setups: [SETUPS.isolated] });
    expect(out.setups[0]!.error).toBe('Error: onFill returned a Promise: strategy callbacks are synchronous (remove async/await; the engine does not wait for promises)');
    expect(out.setups[0]!.errorAt).toMatchObject({ callback: 'onFill', location: null });
    const bar = { ...async, create: () => ({ onBar: async () => undefined }) } as unknown as StrategyModule;
    expect(run(makeData({ BTCUSDT: { bars: flat(100, 6) } }), bar, { setups: [SETUPS.isolated] }).setups[0]!.errorAt).toMatchObject({ callback: 'onBar', location: null });
  });
});
