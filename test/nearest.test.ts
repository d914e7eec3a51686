import { describe, expect, it } from 'vitest';
import { nearest } from '../src/util/nearest.js';
import { resolveStrategy } from '../src/strategy/registry.js';

describe('nearest (did-you-mean hints)', () => {
  it('finds a misspelling by insertion, deletion, substitution or a swap, case ignored, and nothing far', () => {
    const names = ['breakout', 'buy-and-hold', 'pairs', 'sma-cross', 'grid'];
    expect(nearest('sma-crss', names)).toBe('sma-cross');
    expect(nearest('buy-and-hodl', names)).toBe('buy-and-hold');
    expect(nearest('pair', names)).toBe('pairs');
    expect(nearest('SMA-Cross', names)).toBe('sma-cross');
    expect(nearest('gird', names)).toBe('grid');
    expect(nearest('zzz', names)).toBeNull();
    expect(nearest('momentum', names)).toBeNull();
    expect(nearest('', names)).toBeNull();
  });

  it('an unknown strategy name suggests the nearest one (78)', async () => {
    await expect(resolveStrategy('sma-crss')).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/^unknown strategy 'sma-crss' \(did you mean 'sma-cross'\?\); available: /) });
    await expect(resolveStrategy('zzz')).rejects.toMatchObject({ message: expect.stringMatching(/^unknown strategy 'zzz'; available: /) });
  });
});
