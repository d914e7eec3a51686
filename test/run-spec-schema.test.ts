/**
 * One RunSpec schema (src/shard/result-schema.ts): the result file's own check (resultProblems) and the
 * run folder loader (src/shard/schema.ts parseRunResult, which re-derives the RunId from the spec) judge a
 * spec alike. There were two copies, the result check's looser (an empty strategy, leverage 0, a capital
 * of '1e4' passed it and were refused only by the loader's).
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultProblems, resultJson } from '../src/shard/result-schema.js';
import { parseRunResult } from '../src/shard/schema.js';
import { erroredResult } from '../src/shard/worker.js';
import { runIdOf } from '../src/shard/hash.js';
import { UserError } from '../src/errors.js';
import { ENGINE_VERSION } from '../src/engine/index.js';
import type { RunSpec } from '../src/shard/types.js';

const spec: RunSpec = {
  strategy: 'sma-cross', params: {}, venue: 'binance-usdm', setup: 'cross', leverage: 3, dataset: 'd', timeframe: '1h', symbols: ['BTCUSDT'],
  from: null, to: null, initialCapital: '10000', execution: {}, dataHashes: {}, engineVersion: ENGINE_VERSION,
};
/** an errored result of `s` as a file's text, its RunId derived from `s` (so only the spec's own faults are judged) */
const fileOf = (s: Record<string, unknown>) => resultJson(erroredResult(runIdOf(s as unknown as RunSpec), s as unknown as RunSpec, 'x'));

function loaderDetails(text: string): string[] {
  try {
    parseRunResult(text, 'results/x.json');
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(65);
    return [...((e as UserError).details ?? [])];
  }
  return [];
}

describe('RunSpec: one schema for the result check and the loader', () => {
  const bad: [string, Record<string, unknown>][] = [
    ['strategy', { ...spec, strategy: '' }],
    ['venue', { ...spec, venue: '' }],
    ['leverage', { ...spec, leverage: 0 }],
    ['leverage', { ...spec, leverage: -2 }],
    ['initialCapital', { ...spec, initialCapital: '1e4' }],
    ['setup', { ...spec, setup: 'hedged' }],
  ];
  it('refuses the same specs, naming the key, in both (and takes a good one, with fields of later versions)', () => {
    for (const [key, s] of bad) {
      const json = JSON.parse(fileOf(s)) as unknown;
      expect(resultProblems(json).some((p) => p.startsWith(`spec.${key}: `)), `${key} ${JSON.stringify(s[key])}: ${resultProblems(json).join('; ')}`).toBe(true);
      expect(loaderDetails(fileOf(s)).some((p) => p.startsWith(`spec.${key}: `)), key).toBe(true);
    }
    const good = { ...spec, stress: { kind: 'scenario', id: 'x' } };
    expect(resultProblems(JSON.parse(fileOf(good)))).toEqual([]);
    expect(loaderDetails(fileOf(good))).toEqual([]);
  });

  it('is defined once in src (no second copy of the RunSpec schema)', () => {
    const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name)) : /\.m?ts$/.test(d.name) ? [join(dir, d.name)] : []));
    const defs = files(join(__dirname, '..', 'src')).flatMap((f) => {
      const text = readFileSync(f, 'utf8');
      // a zod object with the spec's identity fields (strategy, setup, leverage, dataHashes, engineVersion)
      return /export const RunSpecSchema\b/.test(text) || /dataHashes: z\./.test(text) ? [f.replace(/.*\/src\//, 'src/')] : [];
    });
    expect(defs).toEqual(['src/shard/result-schema.ts']);
  });
});
