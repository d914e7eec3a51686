/**
 * strategyFrame: the strategy's own line in a thrown error's stack (SetupOutput.errorAt.location),
 * skipping marginlab's modules, node's internals and node_modules.
 */
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { strategyFrame } from '../src/engine/runner-state.js';

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
