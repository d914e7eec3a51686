/**
 * renderText picked the runs not flagged by a rule with `!flagged.includes(p)` for each pair: a scan
 * of the flagged list per pair, pairs × flagged steps (a nightly gate over 64,000 runs that all fail
 * a rule after an engine change: 2 billion comparisons, ≈ 1 s; 100,000: ≈ 2.5 s). A Set now. The
 * test counts the calls of Array.prototype.includes while the text is rendered (the comparisons
 * themselves cannot be counted): one per pair before, none per pair now.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compareFolders, type RunPair } from '../src/compare/index.js';
import { parseRules } from '../src/compare/rules.js';
import { renderText } from '../src/compare/render.js';
import { makeManifest, makeResults, writeRunFolder } from './fixtures/report/fixture.js';

afterEach(() => vi.restoreAllMocks());

describe('compare: the terminal text of many flagged pairs', () => {
  it('does not scan the flagged runs once per pair (4,000 pairs)', () => {
    const base = makeResults(24 * 10);
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-scale-'));
    const dir = writeRunFolder(join(root, 'a'), base, makeManifest(base, 'nightly'));
    const c = compareFolders(dir, dir, parseRules(['liquidations>0']));
    const one = c.pairs[0]!;
    const pairs: RunPair[] = Array.from({ length: 4000 }, (_, i) => ({ ...one, failedRules: i % 2 === 0 ? ['liquidations>0'] : [], metrics: { ...one.metrics, totalReturn: { ...one.metrics.totalReturn!, delta: 1 + i } } }));
    const big = { ...c, pairs };
    const spy = vi.spyOn(Array.prototype, 'includes');
    const text = renderText(big);
    const calls = spy.mock.calls.length;
    spy.mockRestore();
    expect(text).toContain('runs failing a rule, changing status or errored on both sides (2000):');
    expect(calls).toBeLessThan(1000);
  });
});
