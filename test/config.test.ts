import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig, formatIssues, loadConfig, resolveConfig, configSchema, parseDate, planRelevantConfig, type ResolvedConfig } from '../src/config/index.js';
import { defineConfig as publicDefineConfig } from '../src/index.js';
import { UserError } from '../src/errors.js';

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

  it('names a missing required key', async () => {
    const p = await problemsOf({ data: 'd' });
    expect(p.details).toContain('name: Invalid input: expected string, received undefined');
    expect(p.details.some((l) => l.startsWith('strategies:'))).toBe(true);
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

  it('checks from < to', async () => {
    const p = await problemsOf({ ...base, from: '2025-02-01', to: '2025-01-01' });
    expect(p.details).toEqual(["to: 'to' must be after 'from'"]);
  });

  it('normalises initial capital so equal amounts give equal ids', async () => {
    const a = await resolveConfig({ ...base, initialCapital: 10000 }, { configDir: '/x' });
    const b = await resolveConfig({ ...base, initialCapital: '10000.00' }, { configDir: '/x' });
    expect(a.initialCapital).toBe('10000');
    expect(b.initialCapital).toBe('10000');
  });

  it('planRelevantConfig leaves out runtime-only keys', async () => {
    const a = await resolveConfig({ ...base, workers: 1, output: { dir: 'a' } }, { configDir: '/x' });
    const b = await resolveConfig({ ...base, workers: 4, output: { dir: 'b' } }, { configDir: '/x' });
    expect(planRelevantConfig(a as ResolvedConfig)).toEqual(planRelevantConfig(b as ResolvedConfig));
  });

  it('parses dates', () => {
    expect(parseDate('2025-01-02')).toBe(Date.UTC(2025, 0, 2));
    expect(parseDate('2025-01-02T03:04:05Z')).toBe(Date.UTC(2025, 0, 2, 3, 4, 5));
    expect(parseDate('1735689600000')).toBe(1735689600000);
    expect(parseDate('soon')).toBeNull();
    expect(parseDate('2025-13-45')).toBeNull();
  });

  it('formatIssues writes array indexes in brackets', () => {
    const r = configSchema.safeParse({ ...base, data: [{ path: 'x', symbols: ['A', 5] }] });
    expect(r.success).toBe(false);
    if (!r.success) expect(formatIssues(r.error.issues)).toContain('data[0].symbols[1]: Invalid input: expected string, received number');
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
