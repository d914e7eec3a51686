/**
 * What a flip (long → short, or back, in one fill) and a flat position do to close-position and reduce-only
 * orders (docs/engine.md, Orders): a flip does not close the position, so such orders stay and are rejected
 * `reduceOnlyViolation` when they execute against the new side; a reduce-only order placed while flat is
 * accepted and reduces the position open when it executes.
 */
import { describe, expect, it } from 'vitest';
import { makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';

const bars = (): Bar[] => {
  const b: Bar[] = Array.from({ length: 10 }, () => [100, 101, 99, 100] as Bar);
  b[6] = [100, 110, 99, 100]; // bar 6 reaches 105 and beyond
  return b;
};
const summary = (out: ReturnType<typeof run>) =>
  setupOf(out, 'cross').events.flatMap((e) =>
    e.type === 'fill' ? [`fill ${e.qty}@${e.price} ${e.order?.type}`] : e.type === 'rejection' ? [`rejection ${e.reason}`] : []);

describe('close-position and reduce-only orders across a flip', () => {
  it('a protective close-position stop of a short survives a flip to long and is rejected when it triggers', () => {
    const out = run(makeData({ BTCUSDT: { bars: bars() } }), scripted({
      1: (ctx) => { ctx.sell(0, 1); },
      2: (ctx) => { ctx.order({ symbol: 0, qty: 0, type: 'stop', price: 105, closePosition: true }); },
      3: (ctx) => { ctx.buy(0, 3); },
    }, ['BTCUSDT']));
    expect(summary(out)).toEqual(['fill -1@100 market', 'fill 3@100 market', 'rejection reduceOnlyViolation']);
  });

  it('a resting reduce-only limit of a long survives a flip to short and is rejected when it is reached', () => {
    const out = run(makeData({ BTCUSDT: { bars: bars() } }), scripted({
      1: (ctx) => { ctx.buy(0, 1); },
      2: (ctx) => { ctx.order({ symbol: 0, qty: -1, type: 'limit', price: 105, reduceOnly: true }); },
      3: (ctx) => { ctx.sell(0, 3); },
    }, ['BTCUSDT']));
    expect(summary(out)).toEqual(['fill 1@100 market', 'fill -3@100 market', 'rejection reduceOnlyViolation']);
  });

  it('a reduce-only limit placed while flat rests and reduces a position opened later', () => {
    const out = run(makeData({ BTCUSDT: { bars: bars() } }), scripted({
      1: (ctx) => { expect(ctx.order({ symbol: 0, qty: -1, type: 'limit', price: 105, reduceOnly: true })).toBeGreaterThan(0); },
      3: (ctx) => { ctx.buy(0, 2); },
    }, ['BTCUSDT']));
    expect(summary(out)).toEqual(['fill 2@100 market', 'fill -1@105 limit']);
  });
});
