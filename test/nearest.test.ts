import { describe, expect, it } from 'vitest';
import { didYouMean, nearest } from '../src/util/nearest.js';
import { resolveConfig } from '../src/config/index.js';
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

  it("a hint names the one candidate a name begins (3 letters or more) when none is near by edits: 'maxFrac' for maxFraction, 'nearest' for 'nearest-first' (they had none)", async () => {
    expect(didYouMean('maxFrac', ['maxFraction'])).toBe(" (did you mean 'maxFraction'?)");
    expect(didYouMean('NEAREST', ['nearest-first', 'high-first', 'low-first'])).toBe(" (did you mean 'nearest-first'?)");
    // the edit distance first; two candidates it begins, or fewer than 3 letters: none
    expect(didYouMean('hgh-first', ['nearest-first', 'high-first', 'low-first'])).toBe(" (did you mean 'high-first'?)");
    expect(didYouMean('mom', ['momentum', 'momentum-long'])).toBe('');
    expect(didYouMean('ma', ['maxFraction'])).toBe('');
    expect(nearest('maxFrac', ['maxFraction'])).toBeNull(); // nearest() itself (which also decides misspelt callbacks) is unchanged
    const input = { name: 'x', data: './d', strategies: ['buy-and-hold'], execution: { intrabarPath: 'nearest', participation: { maxFraction: 0.1, maxFrac: 0.1 } } };
    const r = await resolveConfig(input as unknown as Parameters<typeof resolveConfig>[0], { configDir: '/tmp' }).catch((e: unknown) => e);
    const text = [(r as Error).message, ...((r as { details?: string[] }).details ?? [])].join('\n');
    expect(text).toContain(`execution.intrabarPath: expected one of 'nearest-first', 'high-first', 'low-first', got "nearest" (did you mean 'nearest-first'?)`);
    expect(text).toContain(`execution.participation: unknown key 'maxFrac' (did you mean 'maxFraction'?)`);
  });

  it('an unknown strategy name suggests the nearest one (78)', async () => {
    await expect(resolveStrategy('sma-crss')).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/^unknown strategy 'sma-crss' \(did you mean 'sma-cross'\?\); available: /) });
    await expect(resolveStrategy('zzz')).rejects.toMatchObject({ message: expect.stringMatching(/^unknown strategy 'zzz'; available: /) });
  });
});
