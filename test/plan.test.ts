import { describe, expect, it } from 'vitest';
import { resolveConfig, type UserConfig } from '../src/config/index.js';
import { buildPlan, expandGrid, expandGridValue, parseShard, shardTasks, type PlanDataset, type StrategySource } from '../src/shard/plan.js';
import { canonicalJson, runIdOf } from '../src/shard/hash.js';
import type { StrategyModule } from '../src/strategy/types.js';
import { z } from 'zod';
import trend from './fixtures/run/strategies/fixture-trend.js';
import throws from './fixtures/run/strategies/fixture-throws.js';

const modules: Record<string, StrategyModule> = {
  'fixture-trend': trend as unknown as StrategyModule,
  'fixture-throws': throws as unknown as StrategyModule,
  'fixture-mixed': { ...(trend as unknown as StrategyModule), name: 'fixture-mixed', setups: ['mixed'] },
};
const source: StrategySource = {
  load: async (n) => {
    const m = modules[n];
    if (!m) throw new Error(`unknown strategy '${n}'`);
    return m;
  },
  list: async () => Object.keys(modules),
};
const ds: PlanDataset = { key: 'd0', name: 'fx', timeframe: '1h', symbols: ['AAAUSDT', 'BBBUSDT'], bars: 1000, hashes: { 'manifest.json': 'aa', 'AAAUSDT-candles-1h.arrow': 'bb' } };

async function plan(cfg: Partial<UserConfig>, opts: { datasets?: PlanDataset[]; engine?: string } = {}) {
  const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'], ...cfg } as UserConfig, { configDir: '/x' });
  return buildPlan(c, opts.datasets ?? [ds], source, opts.engine ?? 'E1');
}

describe('grids', () => {
  it('expands lists and inclusive ranges without float drift', () => {
    expect(expandGridValue({ from: 0.1, to: 0.5, step: 0.1 })).toEqual([0.1, 0.2, 0.3, 0.4, 0.5]);
    expect(expandGridValue({ from: 10, to: 50, step: 20 })).toEqual([10, 30, 50]);
    expect(expandGridValue({ from: 10, to: 55, step: 20 })).toEqual([10, 30, 50]);
    expect(expandGrid({ b: [1, 2], a: ['x', 'y', 'z'] })).toHaveLength(6);
    expect(expandGrid({})).toEqual([{}]);
  });
});

describe('run plan', () => {
  it('size = strategies × grid × setups × leverage × datasets', async () => {
    const p = await plan({ strategies: [{ name: 'fixture-trend', grid: { lookback: [10, 20, 30], size: { from: 0.25, to: 0.5, step: 0.25 } } }, 'fixture-throws'], leverage: [3, 10] });
    // (3×2 + 1) params × 2 setups × 2 leverages
    expect(p.runs).toHaveLength((3 * 2 + 1) * 2 * 2);
    expect(p.tasks).toHaveLength(7 * 2);
    expect(p.tasks.every((t) => t.runs.length === 2 && t.setups.map((s) => s.id).join() === 'isolated,cross')).toBe(true);
    const ds2 = { ...ds, key: 'd1', name: 'fx2' };
    const p2 = await plan({ strategies: ['fixture-trend'], leverage: [3, 10, 25] }, { datasets: [ds, ds2] });
    expect(p2.runs).toHaveLength(1 * 2 * 3 * 2);
    expect(new Set(p2.tasks.map((t) => t.datasetKey))).toEqual(new Set(['d0', 'd1']));
  });

  it('adds mixed where a strategy asks; a config entry can choose setups', async () => {
    const p = await plan({ strategies: ['fixture-mixed', { name: 'fixture-trend', setups: ['cross'] }] });
    const bySetup = (name: string) => p.runs.filter((r) => r.spec.strategy === name).map((r) => r.spec.setup).sort();
    expect(bySetup('fixture-mixed')).toEqual(['cross', 'isolated', 'mixed']);
    expect(bySetup('fixture-trend')).toEqual(['cross']);
    const t = p.tasks.find((x) => x.runs[0]!.spec.strategy === 'fixture-mixed')!;
    expect(t.setups).toEqual([{ id: 'isolated', defaultMode: 'isolated' }, { id: 'cross', defaultMode: 'cross' }, { id: 'mixed', defaultMode: 'cross' }]);
  });

  it("a mixed run's default mode is part of its RunId (a --resume after changing mixedDefaultMode kept the old mixed results); the pass still holds every setup", async () => {
    const [c, i] = await Promise.all([plan({ strategies: ['fixture-mixed'] }), plan({ strategies: ['fixture-mixed'], mixedDefaultMode: 'isolated' })]);
    const ids = (p: typeof c, setup: string) => p.runs.filter((r) => r.spec.setup === setup).map((r) => r.runId);
    expect(ids(i, 'isolated')).toEqual(ids(c, 'isolated'));
    expect(ids(i, 'cross')).toEqual(ids(c, 'cross'));
    expect(ids(i, 'mixed')).not.toEqual(ids(c, 'mixed'));
    expect(i.planHash).not.toBe(c.planHash);
    expect(i.runs.find((r) => r.spec.setup === 'mixed')!.spec.mixedDefaultMode).toBe('isolated');
    expect(c.runs.find((r) => r.spec.setup === 'cross')!.spec).not.toHaveProperty('mixedDefaultMode');
    expect(i.tasks).toHaveLength(1);
    expect(i.tasks[0]!.setups.map((s) => `${s.id}:${s.defaultMode}`)).toEqual(['isolated:isolated', 'cross:cross', 'mixed:isolated']);
  });

  it("'all' takes every strategy of the source", async () => {
    const p = await plan({ strategies: 'all' });
    expect(p.strategies).toEqual(['fixture-mixed', 'fixture-throws', 'fixture-trend']);
    // '*' = every strategy the list does not name
    const q = await plan({ strategies: [{ name: 'fixture-trend', setups: ['mixed'], grid: { lookback: [5, 6] } }, '*'] });
    expect(q.strategies).toEqual(['fixture-mixed', 'fixture-throws', 'fixture-trend']);
    expect(q.runs.filter((r) => r.spec.strategy === 'fixture-trend').map((r) => r.spec.setup)).toEqual(['mixed', 'mixed']);
    expect(q.runs.filter((r) => r.spec.strategy === 'fixture-throws')).toHaveLength(2);
  });

  it('RunIds are stable, sorted, and change with every input that matters', async () => {
    const a = await plan({ leverage: [3] });
    const b = await plan({ leverage: [3] });
    expect(a.runs.map((r) => r.runId)).toEqual(b.runs.map((r) => r.runId));
    expect(a.planHash).toBe(b.planHash);
    const ids = a.runs.map((r) => r.runId);
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
    // the id is the hash of the canonical spec: key order does not matter
    const spec = a.runs[0]!.spec;
    const reverseKeys = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reverseKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).reverse().map((k) => [k, reverseKeys((v as Record<string, unknown>)[k])])) : v;
    const shuffled = reverseKeys(spec) as typeof spec;
    expect(Object.keys(shuffled)[0]).toBe(Object.keys(spec).at(-1));
    expect(runIdOf(shuffled)).toBe(a.runs[0]!.runId);
    const variants = await Promise.all([
      plan({ leverage: [4] }),
      plan({ leverage: [3] }, { engine: 'E2' }),
      plan({ leverage: [3] }, { datasets: [{ ...ds, hashes: { ...ds.hashes, 'manifest.json': 'ab' } }] }),
      plan({ leverage: [3], strategies: [{ name: 'fixture-trend', params: { lookback: 25 } }] }),
      plan({ leverage: [3], initialCapital: 5000 }),
      plan({ leverage: [3], execution: { slippageBps: 2 } }),
      plan({ leverage: [3], from: '2025-01-02' }),
      plan({ leverage: [3], venue: { id: 'binance-usdm', overrides: { fees: { taker: 0.001 } } } }),
    ]);
    for (const v of variants) expect(v.runs.map((r) => r.runId).some((id) => ids.includes(id))).toBe(false);
    // runtime-only keys do not change ids
    const w = await plan({ leverage: [3], workers: 7, timeoutMs: 5, output: { dir: 'elsewhere' } });
    expect(w.runs.map((r) => r.runId)).toEqual(ids);
  });

  it('params are resolved with defaults, so equal params give one run', async () => {
    const p = await plan({ strategies: [{ name: 'fixture-trend', grid: { lookback: [24, 12, 24] } }, { name: 'fixture-trend' }] });
    // lookback 24 is the default: three entries collapse into two param sets
    expect(p.runs).toHaveLength(2 * 2);
    expect(p.runs[0]!.spec.params).toEqual(expect.objectContaining({ symbol: 'AAAUSDT', size: 0.5 }));
    expect(canonicalJson(p.runs[0]!.spec)).toContain('"dataHashes":{"AAAUSDT-candles-1h.arrow":"bb","manifest.json":"aa"}');
  });

  it('invalid params and unknown symbols are config errors with key paths', async () => {
    await expect(plan({ strategies: [{ name: 'fixture-trend', grid: { lookback: [10, -1] }, params: { size: 'big' } }] })).rejects.toMatchObject({
      exitCode: 78,
      details: expect.arrayContaining([
        'strategies[0].grid.lookback: expected a number > 0, got -1',
        'strategies[0].params.size: expected a number, got "big"',
      ]),
    });
    await expect(plan({ strategies: [{ name: 'fixture-trend', params: { symbol: 'ZZZUSDT' } }] })).rejects.toMatchObject({
      exitCode: 78,
      details: [expect.stringMatching(/^strategies\[0\]: strategy 'fixture-trend' trades ZZZUSDT, not in dataset 'fx'/)],
    });
    // a symbol one edit away from one the dataset has (the quote currency short: BTCUSD for BTCUSDT) is hinted
    await expect(plan({ strategies: [{ name: 'fixture-trend', params: { symbol: 'AAAUSD' } }] })).rejects.toMatchObject({
      details: [expect.stringMatching(/^strategies\[0\]: strategy 'fixture-trend' trades AAAUSD \(did you mean 'AAAUSDT'\?\), not in dataset 'fx'/)],
    });
    await expect(plan({ strategies: ['nope'] })).rejects.toMatchObject({ exitCode: 78, details: ["strategies[0].name: unknown strategy 'nope'"] });
    await expect(plan({ strategies: [{ name: 'fixture-trend', params: { xyzzy: 1 } }] })).rejects.toMatchObject({ details: [expect.stringMatching(/has no parameter 'xyzzy' \(its parameters/)] });
  });

  it('a misspelt parameter in params or grid is a config error naming the key and the known parameters (it was dropped, merging its grid points into the default)', async () => {
    await expect(plan({ strategies: [{ name: 'fixture-trend', grid: { lookbak: [5, 10, 20] }, params: { sise: 1 } }] })).rejects.toMatchObject({
      exitCode: 78,
      details: [
        expect.stringMatching(/^strategies\[0\]\.params\.sise: strategy 'fixture-trend' has no parameter 'sise' \(did you mean 'size'\?\) \(its parameters: .*lookback.*\); check the spelling$/),
        expect.stringMatching(/^strategies\[0\]\.grid\.lookbak: strategy 'fixture-trend' has no parameter 'lookbak' \(did you mean 'lookback'\?\)/),
      ],
    });
    // through refinements, transforms and defaults the keys are still known
    const base = trend as unknown as StrategyModule;
    for (const params of [base.params.refine(() => true), base.params.transform((p) => p), base.params.optional().default({} as never)]) {
      const mod = { ...base, params } as unknown as StrategyModule;
      const only: StrategySource = { load: async () => mod, list: async () => ['fixture-trend'] };
      const c = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-trend', grid: { lookbak: [5] } }] }, { configDir: '/x' });
      await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({ exitCode: 78, details: [expect.stringContaining("has no parameter 'lookbak'")] });
    }
    // a schema that accepts any key (loose) is left to itself
    const loose = { ...base, params: (trend.params as unknown as { loose(): unknown }).loose() } as unknown as StrategyModule;
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-trend', params: { extra: 1 } }] }, { configDir: '/x' });
    const p = await buildPlan(c, [ds], { load: async () => loose, list: async () => ['fixture-trend'] }, 'E1');
    expect(p.runs.length).toBeGreaterThan(0);
  });

  it('one mistake in a grid is one line, however many points it refuses: the first value and a count (an integer key given { from: 0.5, to: 2000.5, step: 1 } said 2,001 lines)', async () => {
    await expect(plan({ strategies: [{ name: 'fixture-trend', grid: { lookback: { from: 0.5, to: 2000.5, step: 1 }, size: [0.5, -1] } }] })).rejects.toMatchObject({
      exitCode: 78,
      details: [
        'strategies[0].grid.lookback: expected a whole number, got 0.5 (grid point lookback=0.5, size=0.5; 2,000 more values of it refused alike)',
        // a value every point refuses alike is said once, as it is
        'strategies[0].grid.size: expected a number > 0, got -1',
      ],
    });
    // a list: the same
    await expect(plan({ strategies: [{ name: 'fixture-trend', grid: { lookback: [1.5, 2, 2.5, 3.5] } }] })).rejects.toMatchObject({
      details: ['strategies[0].grid.lookback: expected a whole number, got 1.5 (grid point lookback=1.5; 2 more values of it refused alike)'],
    });
  });

  it('a misspelt parameter does not hide a bad value of another given one (every grid point checked, each problem said once); rules across keys wait for the spelling', async () => {
    await expect(plan({ strategies: [{ name: 'fixture-trend', grid: { lookbak: [5, 10], size: [-1, 0.5, -1] }, params: { spinUs: 'slow' } }] })).rejects.toMatchObject({
      exitCode: 78,
      details: [
        expect.stringMatching(/^strategies\[0\]\.grid\.lookbak: strategy 'fixture-trend' has no parameter 'lookbak'/),
        'strategies[0].grid.size: expected a number > 0, got -1',
        'strategies[0].params.spinUs: expected a number, got "slow"',
      ],
    });
    // the other entries are checked as before
    await expect(plan({ strategies: [{ name: 'fixture-trend', params: { sise: 1 } }, { name: 'fixture-trend', grid: { lookback: [0] } }] })).rejects.toMatchObject({
      details: [expect.stringMatching(/has no parameter 'sise'/), 'strategies[1].grid.lookback: expected a number > 0, got 0'],
    });
  });

  it('a parameter without a default that the entry does not give says where a value goes (it said only "required: expected a number")', async () => {
    const bare = { ...(trend as unknown as StrategyModule), name: 'fixture-bare', params: z.object({ symbol: z.string().default('AAAUSDT'), n: z.number(), side: z.enum(['long', 'short']), k: z.number().default(1) }).refine((p) => p.k < 5, { message: 'k must be below 5', path: ['k'] }) } as unknown as StrategyModule;
    const only: StrategySource = { load: async () => bare, list: async () => ['fixture-bare'] };
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-bare'] }, { configDir: '/x' });
    await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({
      exitCode: 78,
      details: [
        "strategies[0].params.n: required: expected a number (strategy 'fixture-bare' has no default for 'n': give it in the entry's params, e.g. { name: 'fixture-bare', params: { n: … } }, or add .default(…) to its schema)",
        "strategies[0].params.side: required: expected one of 'long', 'short' (strategy 'fixture-bare' has no default for 'side': give it in the entry's params, e.g. { name: 'fixture-bare', params: { side: … } }, or add .default(…) to its schema)",
      ],
    });
    // a refinement naming a defaulted parameter the entry does not give is not a missing default
    const refined = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-bare', params: { n: 1, side: 'long' }, grid: { k: [1, 9] } }] }, { configDir: '/x' });
    await expect(buildPlan(refined, [ds], only, 'E1')).rejects.toMatchObject({ details: ['strategies[0].grid.k: k must be below 5 (grid point k=9)'] });
    // a value given but wrong keeps its own message
    const given = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-bare', params: { n: 'x', side: 'long' } }] }, { configDir: '/x' });
    await expect(buildPlan(given, [ds], only, 'E1')).rejects.toMatchObject({ details: ['strategies[0].params.n: expected a number, got "x"'] });
  });

  it('a problem of the params object as a whole is reported at the entry\'s params key', async () => {
    const base = trend as unknown as StrategyModule;
    const refined = { ...base, name: 'fixture-refined', params: (trend.params as typeof trend.params).refine((p) => p.lookback < 100, 'lookback must be below 100') } as unknown as StrategyModule;
    const only: StrategySource = { load: async () => refined, list: async () => ['fixture-refined'] };
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-refined', grid: { lookback: [10, 200] } }] }, { configDir: '/x' });
    await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({ exitCode: 78, details: ['strategies[0].params: lookback must be below 100 (grid point lookback=200)'] });
    // a refinement of two swept parameters: the first grid point it refused and how many more (it named none, so
    // 'fast must be < slow' of a 3 × 3 grid did not say which combinations)
    const pair = { ...base, name: 'fixture-pair', params: z.object({ symbol: z.string().default('AAAUSDT'), fast: z.number(), slow: z.number() }).refine((p) => p.fast < p.slow, { message: 'fast must be < slow', path: ['fast'] }) } as unknown as StrategyModule;
    const two: StrategySource = { load: async () => pair, list: async () => ['fixture-pair'] };
    const g = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-pair', grid: { fast: [10, 20, 30], slow: [15, 25, 35] } }] }, { configDir: '/x' });
    await expect(buildPlan(g, [ds], two, 'E1')).rejects.toMatchObject({ exitCode: 78, details: ['strategies[0].grid.fast: fast must be < slow (grid point fast=20, slow=15 and 2 more)'] });
  });
});

describe('stress keys the data refuses', () => {
  // an injection time outside the window read 'marginlab: stress.inject.at[0]: … is outside dataset …', naming no file
  it('are config problems naming the config file, as its other problems are', async () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2025, 0, 1);
    const timed: PlanDataset = { ...ds, time: Array.from({ length: 1000 }, (_, i) => t0 + i * H), timeframeMs: H };
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'], stress: { inject: { at: ['2024-06-20T14:00:00Z'] } } }, { configDir: '/x' });
    await expect(buildPlan(c, [timed], source, 'E1', 'b.config.ts')).rejects.toMatchObject({
      exitCode: 78,
      message: 'b.config.ts: invalid config (1 problem)',
      details: [expect.stringMatching(/^stress\.inject\.at\[0\]: 2024-06-20T14:00:00\.000Z is outside dataset fx \(2025-01-01T00:00:00\.000Z – .*\); pick a date inside the replayed window$/)],
    });
  });
});

describe('symbols(params)', () => {
  // a string was spread into its letters ("lists A twice"), an empty list planned runs that trade nothing, a number
  // read "trades 1, not in dataset"
  it('must return a list of one or more symbol names: anything else is exit 78 naming what it returned', async () => {
    const base = trend as unknown as StrategyModule;
    const cases: [unknown, string][] = [
      ['AAAUSDT', `returned "AAAUSDT", not a list of symbol names (e.g. ['BTCUSDT'])`],
      [new Set(['AAAUSDT']), `returned {}, not a list of symbol names (e.g. ['BTCUSDT'])`],
      [undefined, `returned nothing, not a list of symbol names (e.g. ['BTCUSDT'])`],
      [[], "returned no symbol: a run trades at least one of the dataset's symbols (e.g. ['BTCUSDT'])"],
      [['AAAUSDT', 1], 'lists 1 (index 1): every entry is a symbol name (a non-empty string)'],
      [[''], 'lists "" (index 0): every entry is a symbol name (a non-empty string)'],
    ];
    for (const [listed, why] of cases) {
      const mod = { ...base, symbols: () => listed } as unknown as StrategyModule;
      const only: StrategySource = { load: async () => mod, list: async () => ['fixture-trend'] };
      const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'] }, { configDir: '/x' });
      await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({ exitCode: 78, details: [`strategies[0]: symbols(params) of strategy 'fixture-trend' ${why}`] });
    }
  });
});

describe('params that are not plain data', () => {
  // NaN / Infinity defaults, a function, a symbol or a cycle stopped the plan as an internal error (exit 70, "please
  // report it"); a bigint or a Date reached create() as a string and a Set as {}; a default function that threw was exit 70
  it('are exit 78 naming the parameter and what it resolves to', async () => {
    const base = trend as unknown as StrategyModule;
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    const cases: [z.ZodType, string, string][] = [
      // (z.number() refuses NaN and Infinity: its default of one is refused as a failing default, below)
      [z.any().default(Number.NaN), '.v', 'NaN'],
      [z.number().default(1).transform(() => Number.POSITIVE_INFINITY), '.v', 'Infinity'],
      [z.bigint().default(5n), '.v', 'a bigint (5n)'],
      [z.date().default(new Date(0)), '.v', 'a Date object'],
      [z.set(z.string()).default(new Set(['a'])), '.v', 'a Set object'],
      [z.any().default(() => () => 1), '.v', 'a function'],
      [z.any().default(Symbol('s')), '.v', 'a symbol'],
      [z.number().default(1).transform(() => cyc), '.v.self', 'an object that contains itself'],
      [z.array(z.any()).default([1, Number.NaN]), '.v[1]', 'NaN'],
    ];
    for (const [v, at, what] of cases) {
      const mod = { ...base, params: z.object({ v }) } as unknown as StrategyModule;
      const only: StrategySource = { load: async () => mod, list: async () => ['fixture-trend'] };
      const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'] }, { configDir: '/x' });
      await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({
        exitCode: 78,
        details: [`strategies[0].params${at}: strategy 'fixture-trend' resolves this parameter to ${what}; a parameter is plain data — a finite number, a string, a boolean, null, or an array or object of them — as a run is keyed by its params and sent to its worker as JSON (check the schema's default or transform)`],
      });
    }
  });
  it("a size check alone on a value of no sized type (z.any().check(z.minLength(2)) given { length: 1 }) is said, not a grid point dropped without a word", async () => {
    const base = trend as unknown as StrategyModule;
    const mod = { ...base, params: z.object({ symbol: z.string().default('AAAUSDT'), tag: z.any().check(z.minLength(2)) }) } as unknown as StrategyModule;
    const only: StrategySource = { load: async () => mod, list: async () => ['fixture-trend'] };
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-trend', grid: { tag: ['ab', { length: 1 }] } }] } as UserConfig, { configDir: '/x' });
    await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({ exitCode: 78, details: ['strategies[0].grid.tag: too small, got {"length":1}'] });
    // beside the type's own issue it is left out (one line: "expected a list")
    const listy = { ...base, params: z.object({ symbol: z.string().default('AAAUSDT'), xs: z.array(z.number()).min(1).default([1]) }) } as unknown as StrategyModule;
    const c2 = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-trend', params: { xs: { length: 0 } } }] } as UserConfig, { configDir: '/x' });
    await expect(buildPlan(c2, [ds], { load: async () => listy, list: async () => ['fixture-trend'] }, 'E1')).rejects.toMatchObject({ exitCode: 78, details: ['strategies[0].params.xs: expected a list, got {"length":0}'] });
  });
  it('a params schema that throws (a default function) is exit 78 with its message', async () => {
    const base = trend as unknown as StrategyModule;
    const mod = { ...base, params: z.object({ v: z.number().default(() => { throw new Error('no default today'); }) }) } as unknown as StrategyModule;
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'] }, { configDir: '/x' });
    await expect(buildPlan(c, [ds], { load: async () => mod, list: async () => ['fixture-trend'] }, 'E1')).rejects.toMatchObject({
      exitCode: 78,
      details: ["strategies[0].params: strategy 'fixture-trend': its params schema threw: no default today"],
    });
  });
  it('plain data passes, -0 and members left undefined included', async () => {
    const base = trend as unknown as StrategyModule;
    const mod = { ...base, params: z.object({ symbol: z.string().default('AAAUSDT'), a: z.number().default(-0), b: z.any().default(undefined), c: z.object({ d: z.array(z.string()) }).default({ d: ['x'] }) }) } as unknown as StrategyModule;
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'] }, { configDir: '/x' });
    const p = await buildPlan(c, [ds], { load: async () => mod, list: async () => ['fixture-trend'] }, 'E1');
    expect(p.runs[0]!.spec.params).toEqual({ symbol: 'AAAUSDT', a: 0, c: { d: ['x'] } });
  });
});

describe('a default its own schema refuses', () => {
  // zod 4's .default(v) hands v out unchecked: z.number().positive().default(-1) ran with -1 while a given -1 is refused
  it('is exit 78 at the parameter, saying it is the default; a given value, a transform\'s default and a good default pass', async () => {
    const base = trend as unknown as StrategyModule;
    const params = z.object({
      symbol: z.string().default('AAAUSDT'),
      n: z.number().positive().default(-1),
      e: z.enum(['a', 'b']).default('c' as 'a'),
      t: z.string().transform(Number).default(3),
      ok: z.number().int().default(2),
    });
    const mod = { ...base, params } as unknown as StrategyModule;
    const only: StrategySource = { load: async () => mod, list: async () => ['fixture-trend'] };
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'] }, { configDir: '/x' });
    const tail = " (the default of strategy 'fixture-trend', which its own schema refuses: fix the default, or give the parameter)";
    await expect(buildPlan(c, [ds], only, 'E1')).rejects.toMatchObject({
      exitCode: 78,
      details: [`strategies[0].params.n: expected a number > 0, got -1${tail}`, `strategies[0].params.e: expected one of 'a', 'b', got "c" (did you mean 'a'?)${tail}`],
    });
    const given = await resolveConfig({ name: 'p', data: 'x', strategies: [{ name: 'fixture-trend', params: { n: 2, e: 'b' } }] }, { configDir: '/x' });
    expect((await buildPlan(given, [ds], only, 'E1')).runs[0]!.spec.params).toEqual({ symbol: 'AAAUSDT', n: 2, e: 'b', t: 3, ok: 2 });
  });
});

describe('shards', () => {
  it('parses i/N (1-based)', () => {
    expect(parseShard('1/4')).toEqual({ index: 1, count: 4 });
    expect(parseShard(' 4 / 4 ')).toEqual({ index: 4, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '1', '-1/2', '1/2/3']) expect(parseShard(bad)).toBeNull();
    // beyond the safe integers: the manifest could not record it (the run used to stop at its report, exit 65)
    for (const bad of ['1/99999999999999999999', '99999999999999999999/99999999999999999999', '9007199254740993/9007199254740993']) expect(parseShard(bad)).toBeNull();
  });

  it('slices are disjoint, cover the plan, and never split a task', async () => {
    const p = await plan({ strategies: [{ name: 'fixture-trend', grid: { lookback: { from: 5, to: 50, step: 5 } } }], leverage: [3, 10] });
    for (const n of [1, 2, 3, 7, 40]) {
      const parts = Array.from({ length: n }, (_, i) => shardTasks(p.tasks, { index: i + 1, count: n }));
      const ids = parts.flat().flatMap((t) => t.runs.map((r) => r.runId)).sort();
      expect(ids).toEqual(p.runs.map((r) => r.runId));
      const sizes = parts.map((x) => x.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
    // deterministic: the same slice twice
    expect(shardTasks(p.tasks, { index: 2, count: 3 }).map((t) => t.taskId)).toEqual(shardTasks(p.tasks, { index: 2, count: 3 }).map((t) => t.taskId));
  });
});

describe('plan size limit (maxRuns)', () => {
  it('a plan is counted before it is built: 10^7 grid points are refused at once with the numbers (78); maxRuns raises the limit', async () => {
    const t0 = Date.now();
    const big = { strategies: [{ name: 'fixture-trend', grid: { lookback: { from: 1, to: 10_000, step: 1 }, spinUs: { from: 0, to: 999, step: 1 } } }], leverage: [3, 10] };
    await expect(plan(big)).rejects.toMatchObject({
      exitCode: 78,
      message: 'the plan has 40,000,000 runs, above the limit of 100,000 (config key maxRuns, or --max-runs): narrow the grids, or raise the limit (every run is one replay; time and memory grow with the count)',
      details: ['strategies[0] (fixture-trend): 10,000,000 grid points × 2 leverages × 2 setups × 1 dataset = 40,000,000 runs'],
    });
    expect(Date.now() - t0).toBeLessThan(20_000);
    const small = { strategies: [{ name: 'fixture-trend', grid: { lookback: [5, 10, 15] } }], leverage: [3] };
    await expect(plan({ ...small, maxRuns: 5 })).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/^the plan has 6 runs, above the limit of 5/) });
    expect((await plan({ ...small, maxRuns: 6 })).runs).toHaveLength(6);
    // with the config file known (marginlab run), the line names it, as every other config problem does
    const c = await resolveConfig({ name: 'p', data: 'x', ...small, maxRuns: 5 } as UserConfig, { configDir: '/x' });
    await expect(buildPlan(c, [ds], source, 'E1', 'sweep.config.ts')).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/^sweep\.config\.ts: the plan has 6 runs, above the limit of 5 \(config key maxRuns, or --max-runs\)/) });
  });

  it('a plan above maxRuns by its stress variants names what makes them (--paths 1000000 read only "narrow the grids, or raise maxRuns")', async () => {
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'], stress: { paths: 100_000, scenarios: [] } } as UserConfig, { configDir: '/x' });
    const dsT = { ...ds, time: Array.from({ length: 100 }, (_, i) => i * 3_600_000), timeframeMs: 3_600_000 };
    await expect(buildPlan(c, [dsT], source, 'E1')).rejects.toMatchObject({
      exitCode: 78,
      message: 'the plan has 200,002 runs, above the limit of 100,000 (config key maxRuns, or --max-runs): lower stress.paths (--paths), the scenarios (--scenarios) or stress.inject, narrow the grids, or raise the limit (every run is one replay; time and memory grow with the count)',
    });
  });

  it('scenario runs go only where a scenario moves the run\'s symbols: maxRuns holds the plan to its exact count, not to the count before building (a plan of 352 runs was refused at --max-runs 352 as 400)', async () => {
    const dsT: PlanDataset = { ...ds, time: Array.from({ length: 100 }, (_, i) => i * 3_600_000), timeframeMs: 3_600_000 };
    const cfg = (maxRuns?: number) =>
      resolveConfig(
        { name: 'p', data: 'x', strategies: [{ name: 'fixture-trend', grid: { symbol: ['AAAUSDT', 'BBBUSDT'] } }], ...(maxRuns ? { maxRuns } : {}), stress: { paths: 1, scenarios: [{ id: 'a-only', symbols: { AAA: { depth: -0.3, duration: '1h' } } }] } } as UserConfig,
        { configDir: '/x' },
      );
    // AAAUSDT: (history + 1 path + 3 injections of a-only) × 2 setups; BBBUSDT: (history + 1 path) × 2 setups
    const exact = (await buildPlan(await cfg(), [dsT], source, 'E1')).runs;
    expect(exact.filter((r) => r.spec.symbols[0] === 'AAAUSDT')).toHaveLength(10);
    expect(exact.filter((r) => r.spec.symbols[0] === 'BBBUSDT')).toHaveLength(4);
    expect((await buildPlan(await cfg(14), [dsT], source, 'E1')).runs).toHaveLength(14);
    const line = 'strategies[0] (fixture-trend): 2 grid points × 1 leverage × 2 setups × 5 dataset variants (history and stress) = at most 20 runs';
    // over the limit while building: said as more than the limit, with the count's upper bound
    await expect(buildPlan(await cfg(13), [dsT], source, 'E1', 'sweep.config.ts')).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^sweep\.config\.ts: the plan has more than 13 runs \(at most 20\), above the limit of 13 \(config key maxRuns, or --max-runs\)/),
      details: [line],
    });
    // over the limit by the runs certain to be made (history and paths: 8): refused before building, with the range
    await expect(buildPlan(await cfg(7), [dsT], source, 'E1', 'sweep.config.ts')).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^sweep\.config\.ts: the plan has 8 to 20 runs \(scenario runs only where a scenario moves the run's symbols\), above the limit of 7/),
      details: [line],
    });
    // the heap check counts the same way: 14 runs × 4 kB fit 60 kB, though the count before building (20) does not
    expect((await buildPlan(await cfg(), [dsT], source, 'E1', 'sweep.config.ts', 60_000)).runs).toHaveLength(14);
    await expect(buildPlan(await cfg(), [dsT], source, 'E1', 'sweep.config.ts', 50_000)).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^sweep\.config\.ts: the plan has at least 14 runs \(at most 20\): building it needs at least 1 MB of heap/),
    });
    // even the runs certain to be made (8 × 4 kB) do not fit: refused before building, with the range
    await expect(buildPlan(await cfg(), [dsT], source, 'E1', 'sweep.config.ts', 20_000)).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^sweep\.config\.ts: the plan has 8 to 20 runs \(scenario runs only where a scenario moves the run's symbols\): building it needs at least 1 MB of heap; this process has 1 MB/),
      details: [line],
    });
  });

  it('a plan the heap cannot hold is refused (78) before it is built, also under maxRuns (2,000,002 runs ended in an out-of-memory abort)', async () => {
    // 2 setups × (1 history + 2,499 paths) = 5,000 runs: about 20 MB to plan
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'], maxRuns: 5_000_000, stress: { paths: 2_499, scenarios: [] } } as UserConfig, { configDir: '/x' });
    const dsT = { ...ds, time: Array.from({ length: 100 }, (_, i) => i * 3_600_000), timeframeMs: 3_600_000 };
    const t0 = Date.now();
    await expect(buildPlan(c, [dsT], source, 'E1', 'sweep.config.ts', 10e6)).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^sweep\.config\.ts: the plan has 5,000 runs: building it needs about 20 MB of heap; this process has 10 MB: lower stress\.paths \(--paths\).*NODE_OPTIONS=--max-old-space-size=<MB>/),
      details: ['strategies[0] (fixture-trend): 1 grid point × 1 leverage × 2 setups × 2,500 dataset variants (history and stress) = 5,000 runs'],
    });
    expect((await buildPlan(c, [dsT], source, 'E1', 'sweep.config.ts', 30e6)).runs).toHaveLength(5_000);
    // before it is built: 2,000,000 runs (building them took 170 s and ended out of memory) are refused
    // in well under the time building even a tenth of them takes (a bound on the machine, not the product)
    const huge = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'], maxRuns: 5_000_000, stress: { paths: 999_999, scenarios: [] } } as UserConfig, { configDir: '/x' });
    await expect(buildPlan(huge, [dsT], source, 'E1', 'sweep.config.ts', 10e6)).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/^sweep\.config\.ts: the plan has 2,000,000 runs: building it needs about/) });
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a plan above maxRuns by its paths is refused before any path is drawn (1,000,000 paths × 100 crashes were drawn first: minutes)', { timeout: 15_000 }, async () => {
    const c = await resolveConfig(
      { name: 'p', data: 'x', strategies: ['fixture-trend'], stress: { paths: 1_000_000, crashesPerPath: 100, scenarios: [{ id: 'a-only', symbols: { AAA: { depth: -0.3, duration: '1h' } } }] } } as UserConfig,
      { configDir: '/x' },
    );
    const dsT = { ...ds, time: Array.from({ length: 100 }, (_, i) => i * 3_600_000), timeframeMs: 3_600_000 };
    await expect(buildPlan(c, [dsT], source, 'E1', 'sweep.config.ts')).rejects.toMatchObject({
      exitCode: 78,
      message: expect.stringMatching(/^sweep\.config\.ts: the plan has 2,000,002 to 2,000,008 runs \(scenario runs only where a scenario moves the run's symbols\), above the limit of 100,000/),
    });
  });

  it('a plan without stress refused for its heap names no stress key (it read "lower stress.paths (--paths) …" for a plain grid)', async () => {
    const c = await resolveConfig({ name: 'p', data: 'x', strategies: ['fixture-trend'], maxRuns: 5_000_000 } as UserConfig, { configDir: '/x' });
    const err = await buildPlan(c, [ds], source, 'E1', 'sweep.config.ts', 1_000).catch((e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 78, message: expect.stringMatching(/^sweep\.config\.ts: the plan has 2 runs: building it needs about 1 MB of heap; this process has 1 MB: narrow the grids, or give Node more heap/) });
    expect((err as Error).message).not.toMatch(/stress/);
  });
});
