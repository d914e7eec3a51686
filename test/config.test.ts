import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  defineConfig, formatIssues, loadConfig, resolveConfig, configSchema, parseDate, planRelevantConfig, checkLeverageLimits, defaultTierWarnings, overrideSymbolProblems, fundingIntervalWarnings, venueMismatchWarnings, venueProblem,
  type LeverageUse, type ResolvedConfig,
} from '../src/config/index.js';
import { FIXTURE_STRATEGIES, REPO, runCli, writeConfig } from './fixtures/run/cli.js';
import type { RunManifest } from '../src/shard/types.js';
import { defineConfig as publicDefineConfig } from '../src/index.js';
import { UserError } from '../src/errors.js';
import { Decimal } from 'decimal.js';
import { getVenue } from '../src/venue/index.js';

const base = { name: 'demo', data: 'data/binance-usdm-2025', strategies: ['fixture-trend'] };

async function problemsOf(input: unknown): Promise<{ code: number; message: string; details: readonly string[] }> {
  try {
    await resolveConfig(input as never, { configDir: '/x' });
  } catch (e) {
    if (e instanceof UserError) return { code: e.exitCode, message: e.message, details: e.details };
    throw e;
  }
  throw new Error('expected a config error');
}

describe('config schema', () => {
  it('applies defaults and freezes the resolved config', async () => {
    const c = await resolveConfig(base, { configDir: '/x' });
    expect(c.setups).toEqual(['isolated', 'cross']);
    expect(c.leverage).toEqual([3]);
    expect(c.initialCapital).toBe('10000');
    expect(c.output.dir).toBe('reports/demo');
    expect(c.execution).toEqual({ slippageBps: 1, participation: null, intrabarPath: 'nearest-first', crossCheck: 'pessimistic' });
    expect(c.data).toEqual([{ path: 'data/binance-usdm-2025', timeframe: null, symbols: null, gaps: 'error' }]);
    expect(c.workers).toBeGreaterThanOrEqual(1);
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.execution)).toBe(true);
    expect(() => {
      (c as { name: string }).name = 'x';
    }).toThrow();
  });

  it('configs resolved many at once keep one listener of each rejection event (a listener each made Node warn of a leak past ten)', async () => {
    await new Promise((r) => setImmediate(r));
    const before = [process.listenerCount('unhandledRejection'), process.listenerCount('rejectionHandled')];
    const counts: number[][] = [];
    const watch = setInterval(() => counts.push([process.listenerCount('unhandledRejection'), process.listenerCount('rejectionHandled')]), 0);
    await Promise.all(Array.from({ length: 25 }, async () => {
      const c = resolveConfig(base, { configDir: '/x' });
      counts.push([process.listenerCount('unhandledRejection'), process.listenerCount('rejectionHandled')]);
      return c;
    }));
    for (let k = 0; k < 15; k++) {
      await resolveConfig(base, { configDir: '/x' });
      counts.push([process.listenerCount('unhandledRejection'), process.listenerCount('rejectionHandled')]);
    }
    clearInterval(watch);
    for (const [u, h] of counts) {
      expect(u - before[0]!).toBeLessThanOrEqual(1);
      expect(h - before[1]!).toBeLessThanOrEqual(1);
    }
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect([process.listenerCount('unhandledRejection'), process.listenerCount('rejectionHandled')]).toEqual(before);
  });

  it('reports every problem with its key path, exit 78', async () => {
    const p = await problemsOf({
      name: 'bad name!',
      data: [{ path: 'd', gaps: 'sometimes' }],
      strategies: [{ name: 'a', grid: { fast: [] , slow: { from: 5, to: 1, step: 1 } }, extra: 1 }],
      leverage: [3, -2, 3],
      initialCapital: '10k',
      execution: { slippageBps: -1, intrabarPath: 'sideways' },
      workers: 0,
      from: 'yesterday',
      bogus: true,
    });
    expect(p.code).toBe(78);
    expect(p.message).toMatch(/invalid config \(\d+ problems\)/);
    const text = p.details.join('\n');
    for (const key of [
      'name:', 'data[0].gaps:', 'strategies[0].grid.fast:', 'strategies[0].grid.slow:', "strategies[0]: unknown key 'extra'",
      'leverage[1]:', 'initialCapital:', 'execution.slippageBps:', 'execution.intrabarPath:', 'workers:', 'from:', "(root): unknown key 'bogus'",
    ]) expect(text).toContain(key);
  });

  it('an unknown key names the nearest known key at its place, at any depth, and only a near one', async () => {
    const p = await problemsOf({
      ...base,
      levrage: [3],
      oops: 1,
      data: { path: 'd', timefrme: '1h' },
      output: { dirr: 'x' },
      execution: { slipageBps: 2 },
      stress: { inject: { evry: 3 } },
      strategies: ['pairs', { name: 'sma-cross', parms: {} }],
    });
    expect(p.details).toEqual([
      "data: unknown key 'timefrme' (did you mean 'timeframe'?)",
      "strategies[1]: unknown key 'parms' (did you mean 'params'?)",
      "execution: unknown key 'slipageBps' (did you mean 'slippageBps'?)",
      "output: unknown key 'dirr' (did you mean 'dir'?)",
      "stress.inject: unknown key 'evry' (did you mean 'every'?)",
      "(root): unknown keys 'levrage' (did you mean 'leverage'?), 'oops'",
    ]);
  });

  it('a grid range with a step that is not positive is one problem (step), not also "more than 10,000 values"', async () => {
    for (const step of [0, -5]) {
      const p = await problemsOf({ ...base, strategies: [{ name: 'sma-cross', grid: { fast: { from: 5, to: 20, step } } }] });
      expect(p.details).toEqual([`strategies[0].grid.fast.step: expected a number > 0, got ${step}`]);
    }
    expect((await problemsOf({ ...base, strategies: [{ name: 'sma-cross', grid: { fast: { from: 0, to: 1e6, step: 1 } } }] })).details).toEqual(['strategies[0].grid.fast: range has more than 10,000 values']);
  });

  it('initialCapital with more decimals than the books count (1e-9 ran as a capital of 0, every run ok at -100 %) and a name too long for a folder are refused', async () => {
    const decimals = 'initialCapital: expected at most 8 decimals, at least 0.00000001 (the books count 0.00000001 USDT)';
    for (const initialCapital of [1e-9, '0.000000001', '10000.123456789', 0.123456789]) expect((await problemsOf({ ...base, initialCapital })).details).toEqual([decimals]);
    for (const initialCapital of ['0.00000001', 1e-8, 0.1, '10000.12345678']) expect((await resolveConfig({ ...base, initialCapital }, { configDir: '/x' })).initialCapital).toBe(new Decimal(initialCapital).toFixed());
    expect((await problemsOf({ ...base, name: 'a'.repeat(101) })).details).toEqual(['name: expected a name of at most 100 characters (it names the report folder reports/<name>)']);
    expect((await resolveConfig({ ...base, name: 'a'.repeat(100) }, { configDir: '/x' })).name).toHaveLength(100);
  });

  it('execution.slippageBps below 10,000 bp: 20,000 ran ok with every order rejected', async () => {
    const p = await problemsOf({ ...base, execution: { slippageBps: 20_000 } });
    expect(p.code).toBe(78);
    expect(p.details).toEqual([expect.stringMatching(/^execution\.slippageBps: /)]);
    expect((await resolveConfig({ ...base, execution: { slippageBps: 9_999 } }, { configDir: '/x' })).execution.slippageBps).toBe(9_999);
  });
  it('a dataset listed twice (the same folder written two ways, same timeframe and symbols) is refused naming both entries', async () => {
    const p = await problemsOf({ ...base, data: ['./d', { path: 'd/' }, { path: '/x/d', timeframe: '1h' }, { path: 'd', symbols: ['B', 'A'] }, { path: '/x/d/', symbols: ['A', 'B'] }] });
    expect(p.details).toEqual([
      'data[1]: the same dataset as data[0] (folder "d/", timeframe and symbols); list it once',
      // all of d's symbols and two of them: a run of A or B would be one run twice
      'data[3]: the same dataset folder and timeframe as data[0], with symbols in common: runs and reports know a dataset by its folder\'s name and timeframe, so their runs would be one; list it once with the symbols of both, or give each entry symbols of its own',
      'data[4]: the same dataset as data[3] (folder "/x/d/", timeframe and symbols); list it once',
    ]);
    expect(await resolveConfig({ ...base, data: ['d', { path: 'd', timeframe: '4h' }, { path: 'd', timeframe: '240m', symbols: ['A'] }] }, { configDir: '/x' }).catch((e: UserError) => e.details)).toEqual([
      expect.stringMatching(/^data\[2\]: the same dataset folder and timeframe as data\[1\], with symbols in common/),
    ]);
    expect((await resolveConfig({ ...base, data: ['d', { path: 'd', timeframe: '4h' }, { path: 'd', timeframe: '1d', symbols: ['A'] }, { path: 'd', timeframe: '1d', symbols: ['B'] }] }, { configDir: '/x' })).data).toHaveLength(4);
  });
  it('two dataset folders of one name at one timeframe are refused: runs and reports know a dataset by its folder\'s name (one\'s runs were dropped from the report)', async () => {
    const p = await problemsOf({ ...base, data: ['a/syn', 'b/syn', { path: 'c/syn', timeframe: '1h' }] });
    expect(p.code).toBe(78);
    expect(p.details).toEqual([
      `data[1]: folder "b/syn" has the same name as data[0]'s "a/syn" ('syn'): runs and reports know a dataset by its folder's name, so they would be one; rename one of the folders`,
    ]);
    // a link to the folder is the folder: its runs were planned twice
    const root = mkdtempSync(join(tmpdir(), 'ml-cfg-link-'));
    mkdirSync(join(root, 'syn'));
    symlinkSync(join(root, 'syn'), join(root, 'synlink'));
    const linked = await resolveConfig({ ...base, data: ['syn', 'synlink'] }, { configDir: root }).catch((e: UserError) => e.details);
    expect(linked).toEqual(['data[1]: the same dataset as data[0] (folder "synlink", timeframe and symbols); list it once']);
  });

  it('a value a flag put there is named as the flag: 64 when only flags are wrong, 78 naming the flag beside the file\'s problems', async () => {
    const err = async (input: unknown, overrides: object) => {
      try {
        await resolveConfig(input as never, { configDir: '/x', overrides, source: 'c.ts' });
      } catch (e) {
        if (e instanceof UserError) return { code: e.exitCode, message: e.message, details: e.details };
        throw e;
      }
      throw new Error('resolved');
    };
    expect(await err(base, { workers: 5000 })).toEqual({ code: 64, message: '--workers 5000: expected at most 1024 worker threads', details: [] });
    expect(await err({ ...base, stress: { crashesPerPath: 1 } }, { stress: { scenarios: ['alt-wik'] } })).toEqual({
      code: 64,
      message: expect.stringMatching(/^--scenarios alt-wik: unknown scenario 'alt-wik' \(did you mean 'alt-wick'\?\) \(known: /),
      details: [],
    });
    expect(await err({ ...base, leverage: [0] }, { workers: 5000, stress: { paths: 2_000_000 } })).toEqual({
      code: 78,
      message: 'c.ts: invalid config (3 problems)',
      details: ['leverage[0]: expected a leverage ≥ 1 (1 = no leverage)', '--workers 5000: expected at most 1024 worker threads', '--paths 2000000: expected a number ≤ 1000000, got 2000000'],
    });
  });

  it('params, grid values and venue overrides must be JSON data: NaN became null (\'expected number, received null\'), a bigint an internal error (70)', async () => {
    const json = 'expected JSON data (a finite number, a string, true/false, null, a list or a plain object), got';
    const p = await problemsOf({
      ...base,
      strategies: [
        { name: 'sma-cross', params: { marginFraction: NaN, fast: undefined, nested: { list: [1, -Infinity] } } },
        { name: 'pairs', params: { lookback: 5n, since: new Date(0) }, grid: { entryZ: [1, Infinity] } },
      ],
    });
    expect(p.details).toEqual([
      `strategies[0].params.marginFraction: ${json} NaN`,
      `strategies[1].params.lookback: ${json} 5n (a bigint: write a number)`,
      `strategies[1].grid.entryZ[1]: ${json} Infinity`,
    ]);
    // one problem per value tree (the first), and undefined is an absent key
    expect((await problemsOf({ ...base, strategies: [{ name: 'pairs', params: { since: new Date(0) } }] })).details).toEqual([`strategies[0].params.since: ${json} a Date object (write its .toISOString())`]);
    const ok = await resolveConfig({ ...base, strategies: [{ name: 'pairs', params: { a: undefined, b: [null, 'x', { c: true }] } }] }, { configDir: '/x' });
    expect(ok.strategies).toEqual([{ name: 'pairs', params: { b: [null, 'x', { c: true }] }, grid: {}, setups: null, leverage: null }]);
  });

  it('a value listed twice in setups, output.formats, strategyDirs or an entry\'s setups/leverage is refused at its index, as a duplicate leverage is (it was dropped silently)', async () => {
    const p = await problemsOf({ ...base, setups: ['cross', 'cross'], output: { formats: ['json', 'md', 'json'] }, strategyDirs: ['s', 's'], strategies: [{ name: 'sma-cross', setups: ['mixed', 'mixed'], leverage: [2, 5, 2] }] });
    // the top-level leverage in the same words (it said 'duplicate leverage 3')
    expect((await problemsOf({ ...base, leverage: [3, 5, 3] })).details).toEqual(['leverage[2]: 3 is listed twice; list it once']);
    expect(p.details).toEqual([
      'strategies[0].setups[1]: "mixed" is listed twice; list it once',
      'strategies[0].leverage[2]: 2 is listed twice; list it once',
      'setups[1]: "cross" is listed twice; list it once',
      'output.formats[2]: "json" is listed twice; list it once',
      'strategyDirs[1]: "s" is listed twice; list it once',
    ]);
  });

  it('names a missing required key', async () => {
    const p = await problemsOf({ data: 'd' });
    expect(p.details).toContain("name: required: the run's name, e.g. name: 'my-sweep'");
    expect(p.details).toContain("strategies: required: 'all' or a list of strategy names or entries, e.g. strategies: ['sma-cross']");
    expect(p.details).toHaveLength(2);
    // data and strategies are unions: an absent one was 'Invalid input' / 'expected "all"'
    const q = await problemsOf({ name: 'n' });
    expect(q.details).toEqual([
      "data: required: a dataset folder, e.g. data: 'data/my-set' or { path: 'data/my-set', timeframe: '1h' }",
      "strategies: required: 'all' or a list of strategy names or entries, e.g. strategies: ['sma-cross']",
    ]);
    // a present but wrong value keeps the schema's message
    expect((await problemsOf({ ...base, name: 'bad name!' })).details[0]).toMatch(/^name: expected a name of letters/);
    // a dataset object without its path (or with it misspelt) says what to write, in every position
    // (it was zod's 'Invalid input: expected string, received undefined')
    const path = "required: the dataset folder, e.g. path: 'data/my-set' (relative to the config file), or SAMPLE_DATA from 'marginlab'";
    expect((await problemsOf({ ...base, data: { timeframe: '1h' } })).details).toEqual([`data.path: ${path}`]);
    expect((await problemsOf({ ...base, data: [{ path: 'd' }, { pth: 'e' }] })).details).toEqual([`data[1].path: ${path}`, "data[1]: unknown key 'pth' (did you mean 'path'?)"]);
    expect((await problemsOf({ ...base, data: { path: 3 } })).details).toEqual(['data.path: expected a dataset folder (a string), got 3']);
  });

  it('from/to that are not a date say what a date is, also for a Date object (not "Invalid input")', async () => {
    const p = await problemsOf({ ...base, from: new Date('2025-06-01'), to: true });
    expect(p.details).toEqual([
      "from: expected a date (ms UTC or ISO-8601 like '2025-01-01'), got a Date object (write its .toISOString() or .getTime())",
      "to: expected a date (ms UTC or ISO-8601 like '2025-01-01'), got true",
    ]);
  });

  it('a function where a list goes is one line, the key\'s own message (was two: "expected a list" and zod\'s size check of the function\'s .length, "too small, got a function")', async () => {
    const fn = () => [3];
    const p = await problemsOf({ ...base, leverage: fn, setups: fn, strategies: fn, data: fn });
    expect(p.details).toEqual([
      'data: expected a dataset folder, { path, timeframe?, symbols?, gaps? } or a list of them, got function',
      "strategies: expected 'all' or a list of strategy names or entries, got function",
      'setups: expected a list, got a function',
      'leverage: expected a leverage ≥ 1 or a list of them (e.g. [3, 10]), got function',
    ]);
  });

  it('a malformed initialCapital string is one problem, not the same key twice', async () => {
    // (not also 'at most 1e15': '10,000' and 'abc' read as NaN, '1e20' as a number above it)
    for (const initialCapital of ['10,000', '-5', 'abc', '1e20', '1e-9', '2,000,000,000,000,000']) {
      const p = await problemsOf({ ...base, initialCapital });
      expect(p.message).toMatch(/invalid config \(1 problem\)/);
      expect(p.details).toEqual(['initialCapital: expected a positive decimal like "10000" (a number or a string, the same rule)']);
    }
    // an exponent the books could hold: the problem says how to write it
    for (const [initialCapital, plain] of [['1e4', '10000'], ['2.5E+6', '2500000'], ['1e-8', '0.00000001']]) {
      expect((await problemsOf({ ...base, initialCapital })).details).toEqual([`initialCapital: expected a positive decimal like "10000" (a number or a string, the same rule) (without an exponent: write "${plain}")`]);
    }
    expect((await problemsOf({ ...base, initialCapital: '0' })).details).toEqual(['initialCapital: expected a positive decimal like "10000" (a number or a string, the same rule)']);
    expect((await resolveConfig({ ...base, initialCapital: '10000.50' }, { configDir: '/x' })).initialCapital).toBe('10000.5');
    // not a number or a string, or a number that is not a positive amount: what was given, not zod's "Invalid input"
    for (const [initialCapital, got] of [[NaN, 'NaN'], [Infinity, 'Infinity'], [null, 'null'], [true, 'true'], [[1], 'a list']] as const) {
      expect((await problemsOf({ ...base, initialCapital })).details).toEqual([`initialCapital: expected a positive amount like 10000 or "10000", got ${got}`]);
    }
    for (const initialCapital of [-5, 0]) {
      expect((await problemsOf({ ...base, initialCapital })).details).toEqual([`initialCapital: expected a positive amount like 10000, got ${initialCapital}`]);
    }
  });

  it('a value of none of a key\'s accepted types says every accepted form, not the first branch\'s ("expected \"all\"", "Invalid input")', async () => {
    const one = async (extra: Record<string, unknown>) => (await problemsOf({ ...base, ...extra })).details;
    expect(await one({ strategies: 'sma-cross' })).toEqual([
      `strategies: expected 'all' or a list of strategy names or entries, got "sma-cross" (one strategy: write strategies: ["sma-cross"])`,
    ]);
    expect(await one({ leverage: '10' })).toEqual(['leverage: expected a leverage ≥ 1 or a list of them (e.g. [3, 10]), got "10"']);
    expect(await one({ workers: 'two' })).toEqual([`workers: expected 'auto' or a number of worker threads ≥ 1, got "two"`]);
    expect(await one({ workerMemoryMb: '2GB' })).toEqual([`workerMemoryMb: expected 'auto' or a heap limit per worker in MB, a whole number from 64 to 1048576, got "2GB"`]);
    expect(await one({ workerMemoryMb: 32 })).toEqual(['workerMemoryMb: expected at least 64 MB (a worker needs about 40 MB to load marginlab and a strategy)']);
    expect(await one({ data: 5 })).toEqual(['data: expected a dataset folder, { path, timeframe?, symbols?, gaps? } or a list of them, got 5']);
    expect(await one({ venue: 5 })).toEqual([`venue: expected a venue id such as 'binance-usdm', or { id, overrides }, got 5`]);
    // a value of the right type keeps its branch's own message
    expect(await one({ leverage: 0.5 })).toEqual(['leverage: expected a leverage ≥ 1 (1 = no leverage)']);
    expect(await one({ leverage: [3, 'x'] })).toEqual(['leverage[1]: expected a number, got "x"']);
    expect(await one({ strategies: [] })).toEqual(['strategies: expected at least 1 item, got []']);
    // 'all' inside the list was a strategy named all ("unknown strategy 'all'" at plan time)
    const allLine = "'all' is the whole value, not a list entry: write strategies: 'all', or '*' inside the list for every strategy it does not name";
    expect(await one({ strategies: ['all'] })).toEqual([`strategies[0]: ${allLine}`]);
    expect(await one({ strategies: ['sma-cross', { name: 'all', params: {} }] })).toEqual([`strategies[1]: ${allLine}`]);
    expect((await resolveConfig({ ...base, strategies: ['sma-cross', '*'] }, { configDir: '/x' })).strategies).toHaveLength(2);
  });

  it('accepts an async object and a function of the environment', async () => {
    const a = await resolveConfig(Promise.resolve(base), { configDir: '/x' });
    expect(a.name).toBe('demo');
    const f = await resolveConfig(
      defineConfig((env) => ({ ...base, workers: env.env.TEST_WORKERS_X ? Number(env.env.TEST_WORKERS_X) : 3, output: { dir: `${env.configDir}/out` } })),
      { configDir: '/cfg' },
    );
    expect(f.workers).toBe(3);
    expect(f.output.dir).toBe('/cfg/out');
    const g = await resolveConfig(async () => ({ ...base, leverage: 5 }), { configDir: '/x' });
    expect(g.leverage).toEqual([5]);
    expect(publicDefineConfig).toBe(defineConfig);
  });

  it('rejects a default export that is not an object', async () => {
    const p = await problemsOf(() => 42);
    expect(p.code).toBe(78);
    expect(p.message).toMatch(/expected the default export to be a config object/);
  });

  it('applies CLI overrides before validation', async () => {
    const c = await resolveConfig(
      { ...base, strategies: [{ name: 'fixture-trend', grid: { lookback: [10, 20] } }, 'fixture-throws'] },
      { configDir: '/x', overrides: { workers: 2, from: '2025-06-01', to: '2025-07-01T12:00', strategies: ['fixture-trend', 'other'] } },
    );
    expect(c.workers).toBe(2);
    expect(c.from).toBe(Date.UTC(2025, 5, 1));
    expect(c.to).toBe(Date.UTC(2025, 6, 1, 12));
    expect(c.strategies).toEqual([
      { name: 'fixture-trend', params: {}, grid: { lookback: [10, 20] }, setups: null, leverage: null },
      { name: 'other', params: {}, grid: {}, setups: null, leverage: null },
    ]);
  });

  it("--strategies all (or '*'): the config's entries with their grids, and every other strategy", async () => {
    const cfg = { ...base, strategies: [{ name: 'fixture-trend', grid: { lookback: [10, 20] } }, 'fixture-throws'] };
    const trend = { name: 'fixture-trend', params: {}, grid: { lookback: [10, 20] }, setups: null, leverage: null };
    const star = { name: '*', params: {}, grid: {}, setups: null, leverage: null };
    for (const all of ['all', '*']) {
      const c = await resolveConfig(cfg, { configDir: '/x', overrides: { strategies: [all] } });
      expect(c.strategies).toEqual([trend, { name: 'fixture-throws', params: {}, grid: {}, setups: null, leverage: null }, star]);
    }
    // a name listed beside it takes its own place; a config of 'all' stays every strategy
    const named = await resolveConfig(cfg, { configDir: '/x', overrides: { strategies: ['fixture-throws', 'all'] } });
    expect(named.strategies).toEqual([{ name: 'fixture-throws', params: {}, grid: {}, setups: null, leverage: null }, trend, star]);
    const fromAll = await resolveConfig({ ...base, strategies: 'all' }, { configDir: '/x', overrides: { strategies: ['all'] } });
    expect(fromAll.strategies).toEqual([star]);
  });

  it('checks from < to', async () => {
    const p = await problemsOf({ ...base, from: '2025-02-01', to: '2025-01-01' });
    expect(p.details).toEqual(["to: 'to' must be after 'from'"]);
    // one bound from a flag: the problem names it (and the config's value)
    const flagged = await resolveConfig({ ...base, to: '2025-01-01' }, { configDir: '/x', overrides: { from: '2025-02-01' } }).catch((e: UserError) => e);
    expect((flagged as UserError).details).toEqual(["to: the config's 'to' (2025-01-01) must be after --from 2025-02-01"]);
  });

  it('normalises initial capital so equal amounts give equal ids', async () => {
    const a = await resolveConfig({ ...base, initialCapital: 10000 }, { configDir: '/x' });
    const b = await resolveConfig({ ...base, initialCapital: '10000.00' }, { configDir: '/x' });
    expect(a.initialCapital).toBe('10000');
    expect(b.initialCapital).toBe('10000');
  });

  it('refuses an initial capital too large for the books (a run of 1e308 wrote results it then refused as bad data, 65)', async () => {
    // (a string just above 1e15 is the double 1e15: compared as a decimal)
    for (const initialCapital of [1e308, 1e16, '1' + '0'.repeat(20), '1000000000000000.01', '1000000000000000.00000001']) {
      const p = await problemsOf({ ...base, initialCapital });
      expect(p.code).toBe(78);
      expect(p.details).toEqual(['initialCapital: expected at most 1e15 USDT (1,000,000,000,000,000)']);
    }
    const ok = await resolveConfig({ ...base, initialCapital: 1e15 }, { configDir: '/x' });
    expect(ok.initialCapital).toBe('1000000000000000');
  });

  it('planRelevantConfig leaves out runtime-only keys', async () => {
    const a = await resolveConfig({ ...base, workers: 1, output: { dir: 'a' } }, { configDir: '/x' });
    const b = await resolveConfig({ ...base, workers: 4, output: { dir: 'b' } }, { configDir: '/x' });
    expect(planRelevantConfig(a as ResolvedConfig)).toEqual(planRelevantConfig(b as ResolvedConfig));
    // workers 'auto' (the default) and a number: the same plan (--resume and merge across them)
    const auto = await resolveConfig({ ...base }, { configDir: '/x' });
    expect(auto.workersAuto).toBe(true);
    expect(a.workersAuto).toBe(false);
    expect(planRelevantConfig(auto as ResolvedConfig)).toEqual(planRelevantConfig(a as ResolvedConfig));
  });

  it('parses dates', () => {
    expect(parseDate('2025-01-02')).toBe(Date.UTC(2025, 0, 2));
    expect(parseDate('2025-01-02T03:04:05Z')).toBe(Date.UTC(2025, 0, 2, 3, 4, 5));
    expect(parseDate('1735689600000')).toBe(1735689600000);
    // one parser for every date a user types (config, run flags, data synth, calc): a space may stand for the T
    expect(parseDate('2021-09-01 08:00:00Z')).toBe(Date.UTC(2021, 8, 1, 8));
    expect(parseDate('2021-09-01 08:00')).toBe(Date.UTC(2021, 8, 1, 8));
    expect(parseDate('Sep 1 2021')).toBeNull();
    expect(parseDate('soon')).toBeNull();
    expect(parseDate('2025-13-45')).toBeNull();
  });

  it('refuses a day the month does not have (Date.parse would roll it into the next month)', () => {
    expect(parseDate('2025-02-30')).toBeNull();
    expect(parseDate('2025-02-29T12:00:00Z')).toBeNull();
    expect(parseDate('2025-04-31 08:00')).toBeNull();
    expect(parseDate('2025-00-10')).toBeNull();
    expect(parseDate('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseDate('2025-12-31T23:00:00-01:00')).toBe(Date.UTC(2026, 0, 1));
  });

  it('refuses an integer that reads as a compact date, epoch seconds or a compact date-time, saying what to write', async () => {
    for (const v of [20250101, '20250101', 1735689600, '1735689600', 20250101120000, 1e20, '99999999999999999999']) expect(parseDate(v)).toBeNull();
    // ms a dataset can hold, and 8-digit integers that are no calendar date, are still ms
    for (const v of [0, 3_600_000, 12_345_678, 20_251_301, 946_684_800_000, 1_735_689_600_000]) expect(parseDate(v)).toBe(v);
    const p = await problemsOf({ ...base, from: 20250101, to: '1735689600', stress: { inject: { at: [20250601120000] } } });
    expect(p.details).toEqual([
      "from: expected a date (ms UTC or ISO-8601 like '2025-01-01'), got 20250101 (20250101 reads as ms UTC (1970-01-01T05:37:30.101Z), not as the compact date it looks like: write '2025-01-01')",
      "to: expected a date (ms UTC or ISO-8601 like '2025-01-01'), got \"1735689600\" (1735689600 reads as ms UTC (1970-01-21T02:08:09.600Z), not as the epoch seconds it looks like (2025-01-01T00:00:00.000Z): write 1735689600000 (ms) or an ISO date)",
      "stress.inject.at[0]: expected a date (ms UTC or ISO-8601 like '2025-01-01'), got 20250601120000 (20250601120000 reads as ms UTC (2611-09-19T22:58:40.000Z), not as the compact date-time it looks like: write '2025-06-01T12:00:00Z')",
    ]);
  });

  it('formatIssues writes array indexes in brackets', () => {
    const r = configSchema.safeParse({ ...base, data: [{ path: 'x', symbols: ['A', 5] }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(formatIssues(r.error.issues)).toContain('data[0].symbols[1]: expected a string');
  });
});

describe('config files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-config-'));

  it('loads a TypeScript config that imports from marginlab', async () => {
    const f = join(dir, 'ok.config.ts');
    writeFileSync(f, `import { defineConfig } from 'marginlab';\nconst n: number = 2;\nexport default defineConfig({ name: 'ts', data: './d', strategies: 'all', leverage: [n, 5] });\n`);
    // resolve 'marginlab' from inside the repository: place a copy next to package.json
    const local = join(process.cwd(), '.tmp', 'config-test');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    mkdirSync(local, { recursive: true });
    copyFileSync(f, join(local, 'ok.config.ts'));
    const loaded = await loadConfig(join(local, 'ok.config.ts'));
    expect(loaded.config.leverage).toEqual([2, 5]);
    expect(loaded.config.strategies).toBe('all');
    expect(loaded.baseDir).toBe(local);
  });

  it('a config file with no export at all in a CommonJS folder is "no default export", not three missing keys', async () => {
    // no package.json above the temp folder: tsx compiles the file as CommonJS, whose exports object is {}
    const noexp = join(dir, 'noexp.config.ts');
    writeFileSync(noexp, `const c = { name: 'x', data: 'd', strategies: 'all' };\nvoid c;\n`);
    await expect(loadConfig(noexp)).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/noexp\.config\.ts: no default export/), details: [] });
  });

  it('missing file is exit 66; syntax errors and missing default export are exit 78', async () => {
    await expect(loadConfig(join(dir, 'nope.config.ts'))).rejects.toMatchObject({ exitCode: 66 });
    const bad = join(dir, 'bad.config.ts');
    writeFileSync(bad, 'export default {{{;\n');
    await expect(loadConfig(bad)).rejects.toMatchObject({ exitCode: 78 });
    const nodef = join(dir, 'nodef.config.ts');
    writeFileSync(nodef, 'export const x = 1;\n');
    await expect(loadConfig(nodef)).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/no default export/) });
    const throws = join(dir, 'throws.config.ts');
    writeFileSync(throws, 'export default () => { throw new Error("no env"); };\n');
    await expect(loadConfig(throws)).rejects.toMatchObject({ exitCode: 78, message: expect.stringMatching(/no env/) });
  });
});

describe('run-level checks at config resolution (exit 78, not a failed run)', () => {
  it('builds the venue: an unknown id or a bad override names its key', async () => {
    const cases: [unknown, string][] = [
      ['kraken', 'venue: unknown venue "kraken"; known venues: binance-usdm'],
      [{ id: 'kraken' }, 'venue.id: unknown venue "kraken"'],
      // the short names calc accepts, and a misspelt id, are told the venue id
      ['bybit', `venue: unknown venue "bybit" (did you mean 'bybit-linear'?); known venues: binance-usdm`],
      ['binance', `venue: unknown venue "binance" (did you mean 'binance-usdm'?)`],
      ['okk', `venue: unknown venue "okk" (did you mean 'okx'?)`],
      [{ id: 'binance-usdm', overrides: { fees: { taker: 'abc' } } }, 'venue.overrides.fees.taker: expected a number in [0, 0.1], got "abc"'],
      [{ id: 'binance-usdm', overrides: { funding: { intervalHours: 0 } } }, 'venue.overrides.funding.intervalHours: expected a number'],
      [{ id: 'binance-usdm', overrides: { tiers: { BTCUSDT: [{ floor: 0, mmr: -1 }] } } }, 'venue.overrides.tiers.BTCUSDT tier 1: mmr must be a rate'],
      [{ id: 'binance-usdm', overrides: { lotSizes: { BTCUSDT: 'x' } } }, 'venue.overrides.lotSizes.BTCUSDT: expected a step number'],
      [{ id: 'binance-usdm', overrides: { bogus: 1 } }, 'venue.overrides: unknown key "bogus"'],
      [{ id: 'binance-usdm', overrides: { fees: 'abc' } }, 'venue.overrides.fees: expected an object, got "abc"'],
      [{ id: 'binance-usdm', overrides: { funding: 5 } }, 'venue.overrides.funding: expected an object, got 5'],
      // overrides are JSON data (the RunSpec records them): NaN, Infinity, a bigint are refused at their key
      [{ id: 'binance-usdm', overrides: { fees: { taker: Infinity } } }, 'venue.overrides.fees.taker: expected JSON data (a finite number, a string, true/false, null, a list or a plain object), got Infinity'],
      [{ id: 'binance-usdm', overrides: { lotSizes: { BTCUSDT: { step: 1n } } } }, 'venue.overrides.lotSizes.BTCUSDT.step: expected JSON data (a finite number, a string, true/false, null, a list or a plain object), got 1n (a bigint: write a number)'],
    ];
    // getVenue (the library) shows what was given, not JSON's null for NaN and Infinity (nor a TypeError for a bigint)
    expect(() => getVenue('binance-usdm', { fees: { taker: Infinity } } as never)).toThrow('venue override fees.taker: expected a number in [0, 0.1], got Infinity');
    expect(() => getVenue('binance-usdm', { fees: { maker: NaN } } as never)).toThrow('got NaN');
    expect(() => getVenue('binance-usdm', { fees: { taker: 1n } } as never)).toThrow('got 1n');
    expect(() => getVenue('binance-usdm', { lotSizes: { BTCUSDT: { step: -Infinity } } } as never)).toThrow('step: expected a number > 0, got -Infinity');
    for (const [venue, line] of cases) {
      const p = await problemsOf({ ...base, venue });
      expect(p.code).toBe(78);
      expect(p.details).toHaveLength(1);
      expect(p.details[0]).toContain(line);
    }
    // good overrides pass and stay in the resolved config as written
    const ok = await resolveConfig({ ...base, venue: { id: 'bybit-linear', overrides: { fees: { maker: 0 }, funding: { intervalHours: 4 } } } }, { configDir: '/x' });
    expect(ok.venue).toEqual({ id: 'bybit-linear', overrides: { fees: { maker: 0 }, funding: { intervalHours: 4 } } });
    expect(venueProblem('okx', {})).toBeNull();
  });

  it('reports a bad venue together with the schema problems', async () => {
    const p = await problemsOf({ ...base, name: 'a b', venue: 'kraken', leverage: [2, 0.5] });
    expect(p.message).toMatch(/invalid config \(3 problems\)/);
    expect(p.details).toEqual(expect.arrayContaining([expect.stringMatching(/^name:/), expect.stringMatching(/^leverage\[1\]: expected a leverage ≥ 1/), expect.stringMatching(/^venue: unknown venue/)]));
  });

  it('every leverage is ≥ 1, top level and per strategy', async () => {
    expect((await problemsOf({ ...base, leverage: [0.5] })).details).toEqual(['leverage[0]: expected a leverage ≥ 1 (1 = no leverage)']);
    expect((await problemsOf({ ...base, leverage: 0.99 })).details).toEqual(['leverage: expected a leverage ≥ 1 (1 = no leverage)']);
    expect((await problemsOf({ ...base, strategies: [{ name: 's', leverage: [2, 0.9] }] })).details).toEqual([
      'strategies[0].leverage[1]: expected a leverage ≥ 1 (1 = no leverage)',
    ]);
    expect((await resolveConfig({ ...base, leverage: [1, 1.5] }, { configDir: '/x' })).leverage).toEqual([1, 1.5]);
  });
});

describe('leverage against the venue maximum', () => {
  const T = Date.UTC(2025, 4, 22);
  // binance-usdm at 2025-05-22: BTCUSDT 125x, ADAUSDT 75x (tier 1)
  const use = (strategy: string, leverage: number, symbols: string[]): LeverageUse => ({ strategy, leverage, symbols, dataset: 'ds', startMs: T });
  const resolved = (c: Record<string, unknown>) => resolveConfig({ ...base, strategies: 'all', ...c }, { configDir: '/x' });
  const thrown = (f: () => void): { code: number; message: string; details: readonly string[] } => {
    try {
      f();
    } catch (e) {
      if (e instanceof UserError) return { code: e.exitCode, message: e.message, details: e.details };
      throw e;
    }
    throw new Error('expected a config error');
  };

  it('names the key, the symbol and the limit', async () => {
    const c = await resolved({ leverage: [10, 100, 130] });
    const runs = [10, 100, 130].flatMap((l) => [use('a', l, ['BTCUSDT']), use('b', l, ['ADAUSDT', 'XRPUSDT'])]);
    const p = thrown(() => checkLeverageLimits(c, runs, 'my.config.ts'));
    expect(p.code).toBe(78);
    expect(p.message).toBe('my.config.ts: invalid config (2 problems)');
    expect(p.details[0]).toBe(
      'leverage[1]: 100x is above the maximum leverage binance-usdm allows for ADAUSDT: 75x (tier 1 of the table in force at 2025-05-22, the first bar of ds); also above XRPUSDT (75x)',
    );
    expect(p.details[1]).toMatch(/^leverage\[2\]: 130x is above the maximum leverage binance-usdm allows for ADAUSDT: 75x .*; also above .*BTCUSDT \(125x\)/);
  });

  it('only checks the symbols of the runs that use the leverage', async () => {
    const c = await resolved({ leverage: [100] });
    expect(() => checkLeverageLimits(c, [use('a', 100, ['BTCUSDT']), use('b', 3, ['ADAUSDT'])])).not.toThrow();
    expect(() => checkLeverageLimits(c, [use('a', 125, ['BTCUSDT'])])).not.toThrow();
  });

  it('names a strategy\'s own leverage list, and follows the venue and its tier overrides', async () => {
    const c = await resolved({ strategies: [{ name: 'a', leverage: [5, 80] }, 'b'], leverage: [80] });
    const p = thrown(() => checkLeverageLimits(c, [use('a', 80, ['ADAUSDT']), use('b', 80, ['BTCUSDT'])]));
    expect(p.details).toEqual([expect.stringMatching(/^strategies\[0\]\.leverage\[1\]: 80x .* ADAUSDT: 75x/)]);
    // '*' stands for the strategies the list does not name
    const star = await resolved({ strategies: [{ name: 'a', leverage: [5] }, { name: '*', leverage: [80] }] });
    expect(thrown(() => checkLeverageLimits(star, [use('c', 80, ['ADAUSDT'])])).details).toEqual([expect.stringMatching(/^strategies\[1\]\.leverage\[0\]: 80x/)]);
    const hl = await resolved({ venue: 'hyperliquid', leverage: [20] });
    expect(thrown(() => checkLeverageLimits(hl, [use('a', 20, ['ADAUSDT'])])).details[0]).toMatch(/hyperliquid allows for ADAUSDT: 10x/);
    const custom = await resolved({ venue: { id: 'binance-usdm', overrides: { tiers: { '*': [{ floor: 0, mmr: 0.05, maxLeverage: 8 }] } } }, leverage: [10] });
    expect(thrown(() => checkLeverageLimits(custom, [use('a', 10, ['AAAUSDT'])])).details[0]).toMatch(/AAAUSDT: 8x/);
  });

  it('warns when bars are longer than the funding interval', async () => {
    const c = await resolved({});
    expect(fundingIntervalWarnings(c, [{ name: 'ds', timeframe: '1h', timeframeMs: 3_600_000 }, { name: 'ds', timeframe: '8h', timeframeMs: 8 * 3_600_000 }])).toEqual([]);
    const w = fundingIntervalWarnings(c, [{ name: 'ds', timeframe: '1d', timeframeMs: 86_400_000 }]);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatch(/^dataset ds: 1d bars are longer than binance-usdm's 8h funding interval/);
    const hl = await resolved({ venue: 'hyperliquid' });
    expect(fundingIntervalWarnings(hl, [{ name: 'ds', timeframe: '4h', timeframeMs: 4 * 3_600_000 }])[0]).toMatch(/hyperliquid's 1h funding interval/);
    // the data's own funding interval where it has one: 4h bars of hourly funding under binance-usdm (not warned), and
    // 4h bars of 8h funding under hyperliquid (warned about its 1h)
    const H = 3_600_000;
    expect(fundingIntervalWarnings(c, [{ name: 'ds', timeframe: '4h', timeframeMs: 4 * H, fundingStepMs: H }])).toEqual([
      'dataset ds: 4h bars are longer than its funding\'s 1h interval; funding events between two bar opens settle at the next open, to the positions held then (marginlab\'s docs/config.md, "Known semantics")',
    ]);
    expect(fundingIntervalWarnings(hl, [{ name: 'ds', timeframe: '4h', timeframeMs: 4 * H, fundingStepMs: 8 * H }])).toEqual([]);
    expect(fundingIntervalWarnings(c, [{ name: 'ds', timeframe: '1d', timeframeMs: 24 * H, fundingStepMs: 0 }])[0]).toMatch(/binance-usdm's 8h funding interval/);
  });

  it("warns when a symbol has no tier table while the venue has one for the same asset under its own name (BTC-PERP margined with the small-cap brackets)", async () => {
    const c = await resolved({});
    const t0 = Date.UTC(2025, 5, 1);
    const w = defaultTierWarnings(c, [{ symbols: ['BTC-PERP', 'ETHUSDT'], dataset: 'mine', startMs: t0 }, { symbols: ['FOOUSDT', 'AAAUSDT', 'eth_usdt'], dataset: 'mine', startMs: t0 }]);
    expect(w).toEqual([
      "dataset mine: binance-usdm has no tier table for BTC-PERP, and has one for BTCUSDT: BTC-PERP is margined with the venue's default brackets (binance-usdm default (small-cap bracket, 1000BONKUSDT 2024-10-24)), not BTCUSDT's; name the symbol as the venue does (import it with --symbol BTCUSDT), or give it its own table (venue.overrides.tiers)",
    ]);
    expect(defaultTierWarnings(c, [{ symbols: ['BTCUSDT', 'AAAUSDT'], dataset: 'd', startMs: t0 }])).toEqual([]);
  });

  it('a tier table or lot size for a symbol no dataset holds: a near miss of a held symbol is a problem (it ran the venue table in silence), another a warning', async () => {
    const c = await resolved({
      venue: {
        id: 'binance-usdm',
        overrides: { tiers: { BTCUSDTT: [{ floor: 0, mmr: 0.4, maxLeverage: 2 }], SOLUSDT: [{ floor: 0, mmr: 0.01 }], '*': [{ floor: 0, mmr: 0.02 }], 'eth/usdt:usdt': [{ floor: 0, mmr: 0.03 }] }, lotSizes: { XRPUSD: 1, ADAUSDT: 1 } },
      },
    });
    const ds = [{ name: 'b25', symbols: ['BTCUSDT', 'ETHUSDT', 'XRPUSDT', 'ADAUSDT'] }];
    const r = overrideSymbolProblems(c, ds);
    expect(r.problems).toEqual([
      "venue.overrides.tiers.BTCUSDTT: no dataset of the config holds BTCUSDTT (did you mean 'BTCUSDT'?); dataset b25 holds ADAUSDT, BTCUSDT, ETHUSDT, XRPUSDT: name the symbol as the data does, or its table is not used",
      "venue.overrides.lotSizes.XRPUSD: no dataset of the config holds XRPUSD (did you mean 'XRPUSDT'?); dataset b25 holds ADAUSDT, BTCUSDT, ETHUSDT, XRPUSDT: name the symbol as the data does, or its lot size is not used",
    ]);
    // the venue's own spelling of a held symbol ('eth/usdt:usdt' is ETHUSDT) and '*' are used
    expect(r.warnings).toEqual(['venue.overrides.tiers.SOLUSDT: no dataset of the config holds SOLUSDT (dataset b25 holds ADAUSDT, BTCUSDT, ETHUSDT, XRPUSDT): its table is not used']);
    // a symbol held by any of the datasets is used
    expect(overrideSymbolProblems(c, [...ds, { name: 'alts', symbols: ['SOLUSDT', 'BTCUSDTT'] }])).toEqual({ problems: [expect.stringMatching(/^venue\.overrides\.lotSizes\.XRPUSD: .*; the datasets hold ADAUSDT, BTCUSDT, BTCUSDTT, ETHUSDT, SOLUSDT, XRPUSDT:/)], warnings: [] });
    expect(overrideSymbolProblems(await resolved({}), ds)).toEqual({ problems: [], warnings: [] });
  });

  it("warns when a dataset's manifest names another built-in venue than the config's (OKX data replayed under binance-usdm's rules)", async () => {
    const c = await resolved({});
    expect(venueMismatchWarnings(c, [{ name: 'a', venue: 'binance-usdm' }, { name: 'b', venue: 'v' }, { name: 'c', venue: 'synthetic' }])).toEqual([]);
    expect(venueMismatchWarnings(c, [{ name: 'okx-set', venue: 'okx' }])).toEqual([
      "dataset okx-set holds okx data (its manifest's venue), replayed under binance-usdm's fees, funding, maintenance tiers and liquidation rules (the config's venue): set venue: 'okx' in the config if that venue is meant",
    ]);
    expect(venueMismatchWarnings(await resolved({ venue: { id: 'okx', overrides: { fees: { maker: 0 } } } }), [{ name: 'okx-set', venue: 'okx' }])).toEqual([]);
    // a custom venue of Binance's rules under a name of its own: the rules are the data's venue's (it said "set venue: 'binance-usdm'")
    const vip = await resolved({ venue: { id: 'binance-usdm', overrides: { id: 'binance-vip', fees: { taker: 0.0003 } } } });
    expect(venueMismatchWarnings(vip, [{ name: 'bn', venue: 'binance-usdm' }])).toEqual([]);
    expect(venueMismatchWarnings(vip, [{ name: 'okx-set', venue: 'okx' }])[0]).toMatch(/^dataset okx-set holds okx data \(its manifest's venue\), replayed under binance-vip's fees/);
  });
});

describe('run-level config checks through the CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ml-config-cli-'));
  const cfg = (extra: Record<string, unknown>) => ({
    name: 'cc',
    data: { path: join(REPO, 'data', 'binance-usdm-2025'), timeframe: '1d' },
    strategyDirs: [FIXTURE_STRATEGIES],
    strategies: [{ name: 'fixture-trend', params: { symbol: 'ADAUSDT', lookback: 3 } }],
    setups: ['isolated'],
    leverage: [3],
    workers: 1,
    ...extra,
  });

  it('exit 78 with the key path for a bad venue, a bad override, a leverage below 1 or above the venue maximum; 1d bars warn', async () => {
    writeConfig(dir, 'kraken.config.ts', cfg({ venue: 'kraken' }));
    writeConfig(dir, 'fees.config.ts', cfg({ venue: { id: 'binance-usdm', overrides: { fees: { taker: 'abc' } } } }));
    writeConfig(dir, 'half.config.ts', cfg({ leverage: [0.5] }));
    writeConfig(dir, 'max.config.ts', cfg({ leverage: [3, 100] }));
    writeConfig(dir, 'daily.config.ts', cfg({}));
    const cases: [string, number, RegExp][] = [
      ['kraken', 78, /kraken\.config\.ts: invalid config \(1 problem\)\n\s+venue: unknown venue "kraken"/],
      ['fees', 78, /venue\.overrides\.fees\.taker: expected a number in \[0, 0\.1\], got "abc"/],
      ['half', 78, /leverage\[0\]: expected a leverage ≥ 1/],
      ['max', 78, /max\.config\.ts: invalid config \(1 problem\)\n\s+leverage\[1\]: 100x is above the maximum leverage binance-usdm allows for ADAUSDT: 75x \(tier 1 of the table in force at 2025-05-22/],
      ['daily', 0, /marginlab: warning: dataset binance-usdm-2025: 1d bars are longer than its funding's 8h interval/],
    ];
    const outs = await Promise.all(cases.map(([n]) => runCli(['run', '-c', `${n}.config.ts`, '--out', `out-${n}`], dir)));
    outs.forEach((o, i) => {
      const [n, code, re] = cases[i]!;
      expect({ n, code: o.code }).toEqual({ n, code });
      expect(o.stderr).toMatch(re);
      expect(o.stderr).not.toMatch(/internal error|\n\s+at /);
    });
    // no run started for a config error; the warning is kept in the manifest
    expect(outs[3]!.stderr).not.toMatch(/runs? failed|errored/);
    const man = JSON.parse(readFileSync(join(dir, 'out-daily', 'manifest.json'), 'utf8')) as RunManifest;
    expect(man.runs).toEqual({ total: 1, ok: 1, errored: 0 });
    expect(man.warnings).toEqual([expect.stringMatching(/^dataset binance-usdm-2025: 1d bars are longer than its funding's 8h interval/)]);
  }, 60_000);

  it("a tier table under a misspelt symbol is 78 naming the key (the venue's own table ran in silence); one for a symbol no dataset holds is a warning kept in the manifest", async () => {
    writeConfig(dir, 'tiertypo.config.ts', cfg({ venue: { id: 'binance-usdm', overrides: { tiers: { ADAUSDTT: [{ floor: 0, mmr: 0.4, maxLeverage: 2 }] } } } }));
    writeConfig(dir, 'tierother.config.ts', cfg({ venue: { id: 'binance-usdm', overrides: { tiers: { SOLUSDT: [{ floor: 0, mmr: 0.01 }] } } } }));
    const [typo, other] = await Promise.all([runCli(['run', '-c', 'tiertypo.config.ts', '--out', 'out-tiertypo'], dir), runCli(['run', '-c', 'tierother.config.ts', '--out', 'out-tierother'], dir)]);
    expect(typo.code).toBe(78);
    expect(typo.stderr).toBe(
      "marginlab: tiertypo.config.ts: invalid config (1 problem)\n  venue.overrides.tiers.ADAUSDTT: no dataset of the config holds ADAUSDTT (did you mean 'ADAUSDT'?); dataset binance-usdm-2025 holds ADAUSDT, BTCUSDT, ETHUSDT, XRPUSDT: name the symbol as the data does, or its table is not used\n",
    );
    expect(existsSync(join(dir, 'out-tiertypo'))).toBe(false);
    expect(other.code).toBe(0);
    const w = 'venue.overrides.tiers.SOLUSDT: no dataset of the config holds SOLUSDT (dataset binance-usdm-2025 holds ADAUSDT, BTCUSDT, ETHUSDT, XRPUSDT): its table is not used';
    expect(other.stderr).toContain(`marginlab: warning: ${w}\n`);
    expect((JSON.parse(readFileSync(join(dir, 'out-tierother', 'manifest.json'), 'utf8')) as RunManifest).warnings).toEqual([expect.stringMatching(/1d bars are longer/), w]);
  }, 60_000);

  it('the funding-interval warning is a JSON event with --json and silent with --quiet', async () => {
    writeConfig(dir, 'daily-flags.config.ts', cfg({ output: { formats: ['json'] } }));
    const [json, quiet] = await Promise.all([
      runCli(['run', '-c', 'daily-flags.config.ts', '--out', 'out-daily-json', '--json'], dir),
      runCli(['run', '-c', 'daily-flags.config.ts', '--out', 'out-daily-quiet', '--quiet'], dir),
    ]);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as { event: string; message?: string });
    expect(events[0]).toEqual({ event: 'warning', message: expect.stringMatching(/^dataset binance-usdm-2025: 1d bars are longer than its funding's 8h interval/) });
    expect(events.filter((e) => e.event === 'warning')).toHaveLength(1);
    expect(quiet).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const man = JSON.parse(readFileSync(join(dir, 'out-daily-quiet', 'manifest.json'), 'utf8')) as RunManifest;
    expect(man.warnings).toHaveLength(1);
  }, 60_000);
});
