/**
 * Incremental indicators against naive recomputation over the window, and the registry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Atr, Ema, RollingExtreme, RollingStdev, Sma, ZScore } from '../src/strategy/indicators.js';
import { listStrategies, resolveStrategy } from '../src/strategy/registry.js';
import { UserError } from '../src/errors.js';

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const sd = (a: number[]) => {
  const m = mean(a);
  return Math.sqrt(a.reduce((s, x) => s + (x - m) ** 2, 0) / a.length);
};

describe('indicators', () => {
  it('SMA, stdev, z-score, rolling max/min equal the naive window computation', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 30 }),
        (xs, n) => {
          const sma = new Sma(n);
          const st = new RollingStdev(n);
          const z = new ZScore(n);
          const mx = new RollingExtreme(n, 'max');
          const mn = new RollingExtreme(n, 'min');
          xs.forEach((x, i) => {
            sma.update(x);
            st.update(x);
            z.update(x);
            mx.update(x);
            mn.update(x);
            if (i + 1 < n) {
              expect(sma.value).toBeNaN();
              expect(sma.ready).toBe(false);
              return;
            }
            const w = xs.slice(i + 1 - n, i + 1);
            expect(sma.value).toBeCloseTo(mean(w), 6);
            // variance to 1e-9 of the squared scale (a rolling update cannot do better near 0)
            const scale = Math.max(...w.map(Math.abs));
            expect(Math.abs(st.value ** 2 - sd(w) ** 2)).toBeLessThanOrEqual(1e-9 * scale * scale);
            expect(mx.value).toBe(Math.max(...w));
            expect(mn.value).toBe(Math.min(...w));
            const s = sd(w);
            if (s > 0.05 * scale) expect(z.value).toBeCloseTo((x - mean(w)) / s, 4);
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('EMA seeds with the SMA and then smooths with 2/(n+1); ATR uses Wilder smoothing of the true range', () => {
    const e = new Ema(3);
    [1, 2, 3].forEach((x) => e.update(x));
    expect(e.value).toBe(2);
    e.update(6);
    expect(e.value).toBe(2 + 0.5 * (6 - 2));
    const a = new Atr(2);
    a.update(10, 8, 9); // TR 2
    a.update(12, 9, 11); // TR max(3, |12−9|, |9−9|) = 3
    expect(a.value).toBe(2.5);
    a.update(11, 7, 8); // TR max(4, 0, 4) = 4 → (2.5 + 4) / 2
    expect(a.value).toBe(3.25);
  });

  it('ignores NaN inputs (absent candles) and rejects bad periods', () => {
    const s = new Sma(2);
    s.update(1);
    s.update(NaN);
    s.update(3);
    expect(s.value).toBe(2);
    expect(() => new Sma(0)).toThrow(/period must be a whole number of inputs from 1 to 10,000,000, got 0/);
    // the type shown (it read 'got 20' for the string '20'), and a period no buffer can hold refused with the same line
    expect(() => new Sma('20' as unknown as number)).toThrow(/sma: period must be .*, got "20"$/);
    expect(() => new Ema(1e10)).toThrow(/ema: period must be a whole number of inputs from 1 to 10,000,000, got 10000000000$/);
  });

  it('ignores ±Infinity and non-numbers as it ignores NaN (an Infinity made the sums NaN for good; a z-score read 0 from then on)', () => {
    const feed = (ind: { update(x: number): number }, xs: unknown[]) => xs.map((x) => ind.update(x as number)).at(-1);
    const clean = [1, 2, 3, 4, 5, 6, 7, 100, 1, 50];
    for (const bad of [Infinity, -Infinity, undefined, '5']) {
      const dirty = [1, 2, 3, bad, 4, 5, 6, 7, 100, 1, 50];
      expect(feed(new Sma(3), dirty)).toBe(feed(new Sma(3), clean));
      expect(feed(new Ema(3), dirty)).toBe(feed(new Ema(3), clean));
      expect(feed(new RollingStdev(3), dirty)).toBeCloseTo(sd([100, 1, 50]), 12);
      expect(feed(new ZScore(3), dirty)).toBeCloseTo((50 - mean([100, 1, 50])) / sd([100, 1, 50]), 12);
      expect(feed(new RollingExtreme(3, 'max'), dirty)).toBe(100);
    }
    const atr = new Atr(2);
    for (const [h, l, c] of [[2, 1, 1.5], [Infinity, 1, 1.5], [3, 2, 2.5], [4, 3, 3.5]] as const) atr.update(h, l, c);
    expect(atr.value).toBeCloseTo((1 + 1.5) / 2 * 0.5 + 1.5 * 0.5, 12);
  });

  it("a rolling stdev's error lasts at most one window: after an outlier of 1e10 has left it, the stdev and z-score are the window's (6.6e-7 for two equal closes)", () => {
    const xs = Array.from({ length: 200 }, (_, i) => 1 + 0.01 * Math.sin(i));
    xs[50] = 1e10;
    const sdv = new RollingStdev(20);
    const z = new ZScore(20);
    for (const x of xs) {
      sdv.update(x);
      z.update(x);
    }
    const window = xs.slice(-20);
    expect(sdv.value).toBeCloseTo(sd(window), 12);
    expect(z.value).toBeCloseTo((xs.at(-1)! - mean(window)) / sd(window), 9);
    // two equal closes (the bundled BTC's 109500.1 twice) after others: a stdev of 0, a z-score of 0
    const two = new ZScore(2);
    for (const x of [108000.3, 109901.7, 109500.1, 109500.1]) two.update(x);
    expect(two.value).toBe(0);
  });

  it("an SMA's error lasts at most one window: after an outlier of 1e17 has left it, the value is the window's mean (it stayed off by whole units for good)", () => {
    const xs = Array.from({ length: 200 }, (_, i) => 1 + 0.01 * Math.sin(i));
    xs[50] = 1e17;
    for (const period of [7, 20]) {
      const s = new Sma(period);
      const seen: number[] = [];
      for (let i = 0; i < xs.length; i++) {
        seen.push(s.update(xs[i]!));
      }
      // every value once the outlier is a whole window behind: the window's mean (within float error of a sum of n values near 1)
      for (let i = 50 + 2 * period; i < xs.length; i++) expect(Math.abs(seen[i]! - mean(xs.slice(i + 1 - period, i + 1)))).toBeLessThan(1e-14);
    }
    // the order of the inputs is all that matters: the same inputs give the same value whatever came before them
    const a = new Sma(5);
    const b = new Sma(5);
    for (const x of [3e16, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) a.update(x);
    for (const x of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) b.update(x);
    expect(a.value).toBe(8);
    expect(b.value).toBe(8);
  });

  it('a period of 1 is the latest input exactly: an outlier of 1e17 before it leaves nothing behind (Sma read 0, 1, 2 for 1, 2, 3 for good)', () => {
    const s = new Sma(1);
    const sd = new RollingStdev(1);
    const z = new ZScore(1);
    const seen: [number, number, number][] = [];
    for (const x of [1e17, 1, 2, 3, 0.1]) seen.push([s.update(x), (sd.update(x), sd.mean), z.update(x)]);
    expect(seen.slice(1)).toEqual([[1, 1, 0], [2, 2, 0], [3, 3, 0], [0.1, 0.1, 0]]);
    expect(sd.value).toBe(0);
  });

  it("a rolling extreme's kind is 'max' or 'min' ('MAX' ran as a rolling minimum)", () => {
    expect(() => new RollingExtreme(3, 'MAX' as 'max')).toThrow(/rolling extreme: kind must be 'max' or 'min', got "MAX"/);
  });
});

describe('registry', () => {
  it('lists the library with descriptions and resolves by name', async () => {
    const list = await listStrategies();
    expect(list.map((s) => s.name)).toEqual(['breakout', 'buy-and-hold', 'core-satellite', 'funding-carry', 'grid', 'martingale', 'pairs', 'sma-cross']);
    for (const s of list) expect(s.description.length).toBeGreaterThan(20);
    const m = await resolveStrategy('pairs');
    expect(m.symbols(m.params.parse({}))).toEqual(['ETHUSDT', 'BTCUSDT']);
  });

  it('an unknown name is a configuration error (exit 78) listing the available strategies', async () => {
    const err = await resolveStrategy('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(78);
    expect((err as UserError).message).toMatch(/unknown strategy 'nope'; available: breakout, buy-and-hold, .*sma-cross/);
  });

  it('a missing extra folder exits 66', async () => {
    const err = await resolveStrategy('sma-cross', ['/no/such/dir']).catch((e: unknown) => e);
    expect((err as UserError).exitCode).toBe(66);
  });

  /** a folder holding the given files (name → source), removed after the tests */
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
  const folder = (files: Record<string, string>) => {
    const dir = mkdtempSync(join(tmpdir(), 'marginlab-strategies-'));
    dirs.push(dir);
    for (const [name, src] of Object.entries(files)) writeFileSync(join(dir, name), src);
    return dir;
  };
  const module = (name: string) =>
    `export default { name: '${name}', description: 'test', params: { safeParse() {} }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }) };\n`;
  const configErr = async (p: Promise<unknown>) => {
    const err = await p.then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(78);
    return (err as UserError).message;
  };

  it('extra folders add strategies; _private, .test and .d.ts files are skipped', async () => {
    const dir = folder({ 'my-one.mjs': module('my-one'), '_helper.mjs': 'throw new Error("loaded")', 'my-one.test.mjs': 'throw new Error("loaded")', 'x.d.ts': '' });
    expect((await resolveStrategy('my-one', [dir])).name).toBe('my-one');
    expect((await listStrategies([dir])).map((s) => s.name)).toEqual([
      'breakout', 'buy-and-hold', 'core-satellite', 'funding-carry', 'grid', 'martingale', 'my-one', 'pairs', 'sma-cross',
    ]);
  });

  it('a name defined twice, a file that fails to load, a wrong export or a name other than the file name is a configuration error (exit 78)', async () => {
    const twice = folder({ 'sma-cross.mjs': module('sma-cross') });
    // a library name: the message says to rename the user's file
    expect(await configErr(resolveStrategy('grid', [twice]))).toMatch(/^strategy 'sma-cross' is defined twice: .*strategies\/sma-cross\.ts and .*sma-cross\.mjs: 'sma-cross' is a library strategy; rename your file \(e\.g\. my-sma-cross\.mjs\) and use that name in the config$/);
    const twiceA = folder({ 'mine.mjs': module('mine') });
    const twiceB = folder({ 'mine.mjs': module('mine') });
    expect(await configErr(resolveStrategy('mine', [twiceA, twiceB]))).toMatch(/^strategy 'mine' is defined twice: .*mine\.mjs and .*mine\.mjs: rename one of the files \(the registry name is the file name\)$/);
    const broken = folder({ 'broken.mjs': 'export default {' });
    expect(await configErr(resolveStrategy('broken', [broken]))).toMatch(/^strategy 'broken' \(.*broken\.mjs\) failed to load: /);
    // a helper module (named exports only) in a strategy folder: the message says how to keep it there
    const helper = folder({ 'helpers.mjs': 'export const clamp = (x, lo, hi) => Math.max(lo, Math.min(hi, x));\n', 'my-two.mjs': module('my-two') });
    expect(await configErr(listStrategies([helper]))).toMatch(/^strategy file .*helpers\.mjs has no default export; .*a helper module goes in a subfolder or gets a name starting with _ \(e\.g\. _helpers\.mjs\)/);
    const bad = folder({ 'bad.mjs': 'export default { name: "bad" };' });
    expect(await configErr(resolveStrategy('bad', [bad]))).toMatch(/^strategy file .*bad\.mjs must default-export \{ name, description, params \(zod schema\), symbols\(params\), create\(params\) \} \(and optionally setups\): 'description' is missing \(a string\); 'params' is missing \(a zod schema: z\.object\(\{ \.\.\. \}\)\); 'symbols' is missing .*; 'create' is missing .*$/);
    const renamed = folder({ 'wrong-name.mjs': module('other') });
    expect(await configErr(listStrategies([renamed]))).toMatch(/^strategy file .*wrong-name\.mjs exports name 'other'; the name must equal the file name 'wrong-name'$/);
  });

  it('one name under two extensions in one folder (my-trend.ts and the my-trend.js `tsc` emitted beside it) is refused naming both (exit 78), not the first in sort order run in silence (the stale .js shadowed the edited .ts); .d.mts and .d.cts are declarations, not strategies', async () => {
    const both = folder({ 'my-trend.ts': module('my-trend'), 'my-trend.js': module('my-trend'), 'other.mjs': module('other') });
    const msg = await configErr(resolveStrategy('other', [both]));
    expect(msg).toMatch(/^strategy 'my-trend' is defined twice: \S*my-trend\.js and \S*my-trend\.ts \(one folder, two extensions\): /);
    expect(msg).toMatch(/a compiled copy/);
    expect(msg).not.toMatch(/\n/);
    expect(await configErr(listStrategies([both]))).toMatch(/^strategy 'my-trend' is defined twice: /);
    // declaration files tsc emits for .mts and .cts sources are skipped as .d.ts ones are
    const decl = folder({ 'mine.mts': module('mine'), 'mine.d.mts': 'export {};\n', 'x.d.cts': 'export {};\n' });
    expect((await listStrategies([decl])).map((s) => s.name)).toContain('mine');
  });

  it('a misspelt or unknown key of a strategy module, or setups that are not setup ids, is refused naming the key (exit 78), not ignored', async () => {
    const src = (name: string, extra: string) =>
      `export default { name: '${name}', description: 'test', params: { safeParse() {} }, symbols: () => ['BTCUSDT'], create: () => ({ onBar() {} }), ${extra} };\n`;
    // `setup` for `setups`: the mixed setup it asked for was dropped and the sweep ran without it
    const setup = folder({ 'ask-mixed.mjs': src('ask-mixed', "setup: ['mixed']") });
    expect(await configErr(resolveStrategy('ask-mixed', [setup]))).toMatch(/^strategy file .*ask-mixed\.mjs must default-export .*: unknown key 'setup' \(did you mean 'setups'\?\)$/);
    // `symbol` for `symbols`: named with the missing key
    const symbol = folder({ 'one.mjs': `export default { name: 'one', description: 'd', params: { safeParse() {} }, symbol: () => ['BTCUSDT'], create: () => ({ onBar() {} }) };\n` });
    expect(await configErr(resolveStrategy('one', [symbol]))).toMatch(/: unknown key 'symbol' \(did you mean 'symbols'\?\); 'symbols' is missing \(a function of the params returning the symbols traded\)$/);
    const typo = folder({ 'typo.mjs': src('typo', "setups: ['mixd']") });
    expect(await configErr(resolveStrategy('typo', [typo]))).toMatch(/: 'setups' must be a list of 'isolated', 'cross', 'mixed', got \["mixd"\]$/);
    const str = folder({ 'str.mjs': src('str', "setups: 'mixed'") });
    expect(await configErr(resolveStrategy('str', [str]))).toMatch(/: 'setups' must be a list of .*, got "mixed"$/);
    const fn = folder({ 'fn.mjs': 'export default () => ({});\n' });
    expect(await configErr(resolveStrategy('fn', [fn]))).toMatch(/^strategy file .*fn\.mjs must default-export .*: it exports a function, not an object$/);
    // a class instance may hold fields of its own (TypeScript's `class M implements StrategyModule` allows
    // them): they were refused ('unknown key 'cache''); a near miss of a module key still is
    const klass = (name: string, field: string) =>
      `class M { name = '${name}'; description = 'd'; params = { safeParse() {} }; ${field}; symbols() { return ['BTCUSDT']; } create() { return { onBar() {} }; } }\nexport default new M();\n`;
    const own = folder({ 'own-fields.mjs': klass('own-fields', 'cache = new Map()'), 'own-typo.mjs': klass('own-typo', "setup = ['mixed']") });
    expect((await resolveStrategy('own-fields', [own])).name).toBe('own-fields');
    expect(await configErr(resolveStrategy('own-typo', [own]))).toMatch(/: unknown key 'setup' \(did you mean 'setups'\?\)$/);
    // a module namespace as the default export (`import * as m from './_impl.mjs'; export default m`): its other
    // named exports are its own (it loaded before the check of unknown keys, which took its null prototype for
    // an object literal's); a near miss of a module key still is refused
    const impl = (name: string, extra: string) =>
      `export const name = '${name}';\nexport const description = 'd';\nexport const params = { safeParse() {} };\nexport function symbols() { return ['BTCUSDT']; }\nexport function create() { return { onBar() {} }; }\n${extra}\n`;
    const ns = folder({
      '_impl.mjs': impl('ns-fields', 'export const lookback = 20;\nexport function helper() {}'),
      'ns-fields.mjs': "import * as m from './_impl.mjs';\nexport default m;\n",
      '_impl2.mjs': impl('ns-typo', "export const setup = ['mixed'];"),
      'ns-typo.mjs': "import * as m from './_impl2.mjs';\nexport default m;\n",
    });
    expect((await resolveStrategy('ns-fields', [ns])).name).toBe('ns-fields');
    expect(await configErr(resolveStrategy('ns-typo', [ns]))).toMatch(/: unknown key 'setup' \(did you mean 'setups'\?\)$/);
    // a valid setups list loads
    const ok = folder({ 'fine.mjs': src('fine', "setups: ['mixed']") });
    expect((await resolveStrategy('fine', [ok])).setups).toEqual(['mixed']);
  });
});
