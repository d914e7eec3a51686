/**
 * User code (a config, a strategy) may throw or reject with a value that has no text:
 * `Object.create(null)`, an object whose toString throws. Describing it must not fail in turn:
 * that made a rejected config promise end marginlab with exit 13 and no message, a config that
 * throws one or a strategy whose symbols() throws one an internal error (70), and a strategy that
 * throws one from onBar "an internal engine error (a marginlab bug)" with exit 70.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDataset } from './fixtures/run/data.js';
import { runCli } from './fixtures/run/cli.js';
import { thrownText } from '../src/util/excerpt.js';

const ENTRY = join(import.meta.dirname, '..', 'src', 'index.ts');
const NO_TEXT = 'an Object value that cannot be shown as text';

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ml-thrown-'));
  await makeDataset(join(dir, 'data'), { bars: 50, seed: 3 });
  mkdirSync(join(dir, 'strategies'));
  writeFileSync(join(dir, 'strategies', 'weird.ts'), `
import { z, type StrategyModule } from ${JSON.stringify(ENTRY)};
const weird = () => Object.create(null);
const params = z.object({ where: z.string().default('bar') });
const mod: StrategyModule<typeof params> = {
  name: 'weird',
  description: 'throws a value without text',
  params,
  symbols: (p) => { if (p.where === 'symbols') throw weird(); return ['AAAUSDT']; },
  create: () => ({ onBar(ctx) { if (ctx.bar === 3) throw weird(); } }),
};
export default mod;
`);
});

const config = (name: string, head: string, where = 'bar') =>
  writeFileSync(join(dir, name), `${head}
export default {
  name: 'weird', data: './data', strategyDirs: ['strategies'],
  strategies: [{ name: 'weird', params: { where: ${JSON.stringify(where)} } }],
  setups: ['isolated'], leverage: [2], workers: 1,
};
`);

describe('thrown values without text', () => {
  it('thrownText never throws', () => {
    expect(thrownText(new TypeError('x'))).toBe('x');
    expect(thrownText(new TypeError('x'), true)).toBe('TypeError: x');
    expect(thrownText('boom')).toBe('boom');
    expect(thrownText(null)).toBe('null');
    expect(thrownText(Symbol('s'))).toBe('Symbol(s)');
    expect(thrownText(Object.create(null))).toBe(NO_TEXT);
    expect(thrownText({ toString() { throw new Error('no'); } })).toBe(NO_TEXT);
  });

  it('a config that rejects or throws one: 78 with one line naming the file (was exit 13 silently, or 70)', async () => {
    writeFileSync(join(dir, 'rej.config.ts'), 'export default Promise.reject(Object.create(null));\n');
    writeFileSync(join(dir, 'top.config.ts'), 'throw Object.create(null);\nexport default {};\n');
    writeFileSync(join(dir, 'fn.config.ts'), 'export default () => { throw Object.create(null); };\n');
    const [rej, top, fn] = await Promise.all(['rej', 'top', 'fn'].map((c) => runCli(['run', '-c', `${c}.config.ts`, '--out', `o-${c}`], dir)));
    for (const r of [rej, top, fn]) {
      expect(r.code, r.stderr).toBe(78);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(NO_TEXT);
    }
    expect(rej.stderr).toBe(`marginlab: rej.config.ts: the config's promise was rejected: ${NO_TEXT}\n`);
    expect(top.stderr).toMatch(/^marginlab: top\.config\.ts: could not load the config: /);
    expect(fn.stderr).toBe(`marginlab: fn.config.ts: evaluating the config failed: ${NO_TEXT}\n`);
  }, 60_000);

  it("a strategy's symbols() throwing one is a config error (78), not an internal error", async () => {
    config('sym.config.ts', '', 'symbols');
    const r = await runCli(['run', '-c', 'sym.config.ts', '--out', 'o-sym'], dir);
    expect(r.code, r.stderr).toBe(78);
    expect(r.stderr).toContain(`strategies[0]: symbols(params) failed: ${NO_TEXT}`);
    expect(r.stderr).not.toContain('internal error');
  }, 60_000);

  it("onBar throwing one errors the run as the strategy's (exit 1), not as an internal engine error (70)", async () => {
    config('bar.config.ts', '');
    const r = await runCli(['run', '-c', 'bar.config.ts', '--out', 'o-bar'], dir);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/internal|marginlab bug/);
    const files = readdirSync(join(dir, 'o-bar', 'results')).filter((f) => f.endsWith('.json'));
    expect(files).toHaveLength(1);
    const res = JSON.parse(readFileSync(join(dir, 'o-bar', 'results', files[0]!), 'utf8')) as { status: string; error: string; internal?: boolean };
    expect(res.status).toBe('errored');
    // no stack to name a line: the callback and the bar only (by its open, ctx.time there: its close is 04:00)
    expect(res.error).toBe(`strategy threw: ${NO_TEXT} (in onBar of the bar at 2025-01-01T03:00:00.000Z)`);
    expect(res.internal).toBeFalsy();
  }, 60_000);
});

describe('a thrown proxy whose every trap throws', () => {
  // `e instanceof X` runs the getPrototypeOf trap: the engine's catch blocks asked it of what the
  // strategy threw, and the trap's error left replay() as an internal engine error (exit 70)
  const hostile = () =>
    new Proxy(
      {},
      {
        get: () => { throw new Error('get trap'); },
        getPrototypeOf: () => { throw new Error('getPrototypeOf trap'); },
        has: () => { throw new Error('has trap'); },
        ownKeys: () => { throw new Error('ownKeys trap'); },
        getOwnPropertyDescriptor: () => { throw new Error('gopd trap'); },
      },
    );
  it.each(['onStart', 'onBar', 'onFill'] as const)('thrown from %s: the setup errors as the strategy\'s, replay() does not throw', async (where) => {
    const { flat, makeData, run } = await import('./engine-fixtures.js');
    const { SETUPS } = await import('../src/engine/index.js');
    const data = makeData({ BTCUSDT: { bars: flat(100, 5) } });
    const out = run(
      data,
      {
        name: 'hostile',
        description: 'throws a hostile proxy',
        params: (await import('zod')).z.object({}),
        symbols: () => ['BTCUSDT'],
        create: () => ({
          onStart() { if (where === 'onStart') throw hostile(); },
          onBar(ctx) { if (ctx.bar === 0) ctx.buy(0, 1); if (where === 'onBar' && ctx.bar === 1) throw hostile(); },
          onFill() { if (where === 'onFill') throw hostile(); },
        }),
      },
      { setups: [SETUPS.isolated, SETUPS.cross] },
    );
    for (const s of out.setups) {
      expect(s.error).toBe('an object value that cannot be shown as text');
      expect(s.errorAt?.callback).toBe(where);
    }
  });
});
