/**
 * The public types as a strict consumer project sees them (`strict`, `exactOptionalPropertyTypes`,
 * `noUncheckedIndexedAccess`, NodeNext): small files importing 'marginlab' (here src/index.ts)
 * are type-checked with the TypeScript compiler API. Each snippet must compile cleanly; the
 * invalid usages it holds are marked `// @ts-expect-error`, so a type that accepts one fails the
 * test ("Unused '@ts-expect-error' directive").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const REPO = resolve(import.meta.dirname, '..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ml-types-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Diagnostics of consumer files, type-checked in one program (the library's own files are not reported). */
function checkAll(sources: { name: string; code: string }[]): string[] {
  const files = sources.map(({ name, code }) => {
    const file = join(dir, `${name}.ts`);
    writeFileSync(file, code);
    return { name, file };
  });
  const program = ts.createProgram(files.map((f) => f.file), {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
    typeRoots: [join(REPO, 'node_modules', '@types')],
    paths: { marginlab: [join(REPO, 'src', 'index.ts')] },
  });
  return files.flatMap(({ name, file }) => {
    const sf = program.getSourceFile(file)!;
    return [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)].map((d) => {
      const { line } = sf.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${name}.ts:${line + 1}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
  });
}

/** Diagnostics of one consumer file. */
function check(name: string, code: string): string[] {
  return checkAll([{ name, code }]);
}

describe('public types in a strict consumer project', () => {
  it('defineConfig checks a config object against UserConfig: an unknown or misspelt key is a type error', () => {
    const diags = check(
      'config',
      `import { defineConfig, SAMPLE_DATA } from 'marginlab';
export const ok = defineConfig({
  name: 'my-sweep',
  data: { path: SAMPLE_DATA, timeframe: '1h' },
  venue: 'binance-usdm',
  strategies: [{ name: 'sma-cross', grid: { fast: [10, 20], slow: { from: 50, to: 200, step: 50 } } }, 'pairs'],
  setups: ['isolated', 'cross'],
  leverage: [3, 10, 25],
  initialCapital: 10_000,
});
export const fn = defineConfig(({ env }) => ({ name: 'x', data: { path: SAMPLE_DATA }, strategies: 'all', workers: env['CI'] ? 2 : 'auto' }));
export const later = defineConfig(Promise.resolve({ name: 'x', data: { path: SAMPLE_DATA }, strategies: ['pairs'] }));
export const name: string = ok.name;
// @ts-expect-error misspelt key (the run refuses it: exit 78, "unknown key 'levrage'")
export const typo = defineConfig({ name: 'x', data: { path: SAMPLE_DATA }, strategies: 'all', levrage: [3] });
// @ts-expect-error unknown setup
export const setup = defineConfig({ name: 'x', data: { path: SAMPLE_DATA }, strategies: 'all', setups: ['isloated'] });
// venue overrides are typed as the venue takes them (a misspelt tier key was Record<string, unknown>: no error)
export const tiers = defineConfig({ name: 'x', data: SAMPLE_DATA, strategies: 'all', venue: { id: 'binance-usdm', overrides: { tiers: { XRPUSDT: [{ floor: 0, mmr: 0.02, maxLeverage: 5 }] }, lotSizes: { '*': { step: 0.1 } }, fees: { taker: 0.0004 } } } });
// @ts-expect-error misspelt key of a tier
export const tierTypo = defineConfig({ name: 'x', data: SAMPLE_DATA, strategies: 'all', venue: { id: 'binance-usdm', overrides: { tiers: { XRPUSDT: [{ floor: 0, mmr: 0.02, maxLevrage: 5 }] } } } });
// @ts-expect-error misspelt key of a section
export const feeTypo = defineConfig({ name: 'x', data: SAMPLE_DATA, strategies: 'all', venue: { id: 'binance-usdm', overrides: { fees: { takr: 0.0004 } } } });
`,
    );
    expect(diags).toEqual([]);
  });

  it("a misspelt key of a config object is the error TypeScript reports: the last overload's (tsc 7 shows only that one)", () => {
    // the Promise overload was last: tsc 7 printed "'name' does not exist in type 'Promise<…>'" at the
    // object's first line, naming neither the misspelt key nor its line
    const diags = check(
      'config-typo',
      `import { defineConfig, SAMPLE_DATA } from 'marginlab';
export default defineConfig({
  name: 'x',
  data: { path: SAMPLE_DATA },
  strategies: 'all',
  levrage: [3],
});
`,
    );
    expect(diags).toHaveLength(1);
    const last = diags[0]!.split(/Overload \d of \d/).at(-1)!;
    expect(last).toMatch(/'levrage' does not exist in type 'UserConfig'\. Did you mean to write 'leverage'\?/s);
  });

  it('defineConfig of a function without parameters, or of a promise, keeps its literals (it failed to type-check: \'all\' read as string); a value typed any is given as UserConfig', () => {
    // the first overload TypeScript tries fixes such a function's return type: an overload for values typed any came
    // first and widened every literal of the function form
    expect(
      check(
        'config-noparam',
        `import { defineConfig, SAMPLE_DATA, type ConfigEnv, type UserConfig } from 'marginlab';
export const a = defineConfig(() => ({ name: 'fn', data: SAMPLE_DATA, strategies: 'all' }));
export const b = defineConfig(async () => ({ name: 'fn', data: SAMPLE_DATA, strategies: 'all', workers: 'auto' }));
export const d = defineConfig(() => ({ name: 'fn', data: SAMPLE_DATA, strategies: 'all', leverage: [3, 5], execution: { intrabarPath: 'high-first' } }));
// @ts-expect-error misspelt key, no parameters
export const top = defineConfig(() => ({ name: 'x', data: SAMPLE_DATA, strategies: 'all', levrage: [3] }));
// @ts-expect-error a literal that is no setup
export const setup = defineConfig(() => ({ name: 'x', data: SAMPLE_DATA, strategies: 'all', setups: ['isloated'] }));
const shared: any = JSON.parse('{}');
const c = defineConfig(shared as UserConfig);
export const leverage: UserConfig['leverage'] = c.leverage;
// a promise of a config keeps its literals too ('all', 'auto' read as string under the function overload tried first)
export const p: Promise<UserConfig> = defineConfig(Promise.resolve({ name: 'p', data: SAMPLE_DATA, strategies: 'all', workers: 'auto' }));
export const q = defineConfig((async () => ({ name: 'q', data: SAMPLE_DATA, strategies: 'all', execution: { crossCheck: 'optimistic' } }))());
// @ts-expect-error misspelt key in a promise
export const pt = defineConfig(Promise.resolve({ name: 'x', data: SAMPLE_DATA, strategies: 'all', levrage: [3] }));
// @ts-expect-error a literal that is no setup, in a promise
export const ps = defineConfig(Promise.resolve({ name: 'x', data: SAMPLE_DATA, strategies: 'all', setups: ['isloated'] }));
export const fn: (env: ConfigEnv) => unknown = defineConfig(() => ({ name: 'fn', data: SAMPLE_DATA, strategies: 'all' }));
`,
      ),
    ).toEqual([]);
  });

  it('defineConfig in its function form (sync or async) refuses a misspelt key at any depth, as the object form does', () => {
    const diags = check(
      'config-fn',
      `import { defineConfig, SAMPLE_DATA, type UserConfig } from 'marginlab';
const base: UserConfig = { name: 'x', data: SAMPLE_DATA, strategies: 'all' };
export const ok = defineConfig(async ({ ci, env }) => ({
  name: 'x',
  data: [{ path: SAMPLE_DATA, timeframe: '1h', gaps: 'warn' }, SAMPLE_DATA],
  strategies: [{ name: 'sma-cross', params: { anyParam: 1 }, grid: { fast: [10, 20], slow: { from: 50, to: 200, step: 50 } }, setups: ['isolated'] }, 'pairs'],
  leverage: ci ? 2 : [3, 10],
  venue: { id: 'binance-usdm', overrides: { fees: { maker: 0 } } },
  output: { dir: env['OUT'] ?? 'out', formats: ['md'] },
  execution: { participation: { maxFraction: 0.1 } },
  stress: { scenarios: ['ftx-2022'], inject: { at: ['2025-01-01'] } },
}));
export const spread = defineConfig(() => ({ ...base, leverage: [5] }));
export const variable = defineConfig(({ env }) => (env['X'] ? { ...base, workers: 2 } : base));
// @ts-expect-error misspelt top-level key
export const top = defineConfig(() => ({ name: 'x', data: SAMPLE_DATA, strategies: 'all', levrage: [3] }));
// @ts-expect-error misspelt key of output, async
export const nested = defineConfig(async () => ({ name: 'x', data: SAMPLE_DATA, strategies: 'all', output: { dirr: 'a' } }));
// @ts-expect-error misspelt key of a dataset in a list
export const inList = defineConfig(() => ({ name: 'x', data: [SAMPLE_DATA, { path: 'a', symbol: ['BTCUSDT'] }], strategies: 'all' }));
// @ts-expect-error misspelt key of a strategy entry
export const entry = defineConfig(() => ({ name: 'x', data: SAMPLE_DATA, strategies: [{ name: 'pairs', parms: {} }] }));
// @ts-expect-error misspelt key of stress.inject
export const deep = defineConfig(() => ({ name: 'x', data: SAMPLE_DATA, strategies: 'all', stress: { inject: { evry: 3 } } }));
// @ts-expect-error misspelt key of a venue override's tier, returned by a function
export const tierFn = defineConfig(() => ({ name: 'x', data: SAMPLE_DATA, strategies: 'all', venue: { id: 'okx', overrides: { tiers: { '*': [{ floor: 0, mmr: 0.02, maxLevrage: 5 }] } } } }));
`,
    );
    expect(diags).toEqual([]);
  });

  it('a strategy callback that returns a promise (async onBar, onFill, ...) is a type error; any other return value is accepted', () => {
    const diags = check(
      'strategy-sync',
      `import { defineStrategy, z, type Strategy, type StrategyContext } from 'marginlab';
const params = z.object({ symbol: z.string().default('BTCUSDT') });
const base = { name: 's', description: 'd', params, symbols: (p: { symbol: string }) => [p.symbol] };
export const plain = defineStrategy({ ...base, create: () => ({ onBar(ctx) { ctx.buy(0, 1); } }) });
export const arrowValue = defineStrategy({ ...base, create: () => ({ onBar: (ctx) => ctx.buy(0, 1), onFill: (_f, ctx) => ctx.openOrders() }) });
class ByClass implements Strategy {
  onBar(ctx: StrategyContext): void { ctx.cancelAll(); }
  onStart(ctx: StrategyContext) { ctx.setLeverage(0, 2); }
}
export const byClass = defineStrategy({ ...base, create: () => new ByClass() });
// @ts-expect-error async onBar: the engine does not await it
export const asyncBar = defineStrategy({ ...base, create: () => ({ async onBar(ctx) { ctx.buy(0, 1); } }) });
// @ts-expect-error an onFill returning a promise
export const promiseFill = defineStrategy({ ...base, create: () => ({ onBar() {}, onFill: (_f, ctx) => Promise.resolve(ctx.bar) }) });
class AsyncClass implements Strategy {
  // @ts-expect-error async method of a class implementing Strategy
  async onBar(ctx: StrategyContext) { ctx.cancelAll(); }
}
export const asyncClass = AsyncClass;
`,
    );
    expect(diags).toEqual([]);
  });

  it('getVenue gives a profile whose lotSize, tierSource and maintenance are always there (docs/margin.md)', () => {
    const diags = check(
      'venue',
      `import { getVenue, type VenueProfile } from 'marginlab';
const venue = getVenue('binance-usdm', { fees: { maker: 0.0001, taker: 0.0004 }, lotSizes: { BTCUSDT: 0.01 } });
export const lot: { step: number; minQty: number; tick: number; source: string } = venue.lotSize('BTCUSDT');
export const table: string = getVenue('bybit-linear').tierSource('BTCUSDT', Date.parse('2025-06-01'));
export const basis: 'mark' | 'entry' = venue.maintenance.basis;
export const asProfile: VenueProfile = venue;
// a hand-made profile may leave them out
export const lotOf = (p: VenueProfile) => p.lotSize?.('BTCUSDT');
`,
    );
    expect(diags).toEqual([]);
  });

  it('writeDataset\'s input and the manifest it returns can be named (docs/data.md names them; they were not exported)', () => {
    const diags = check(
      'dataset-types',
      `import { writeDataset, type SeriesInput, type DatasetInput, type Manifest, type DatasetManifest, type WriteDatasetOptions } from 'marginlab';
const candles: SeriesInput = { symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: [0, 3_600_000], columns: { open: [1, 2], high: [2, 3], low: [1, 1], close: [2, 2], volume: [1, 1] } };
const input: DatasetInput = { venue: 'binance-usdm', timeframe: '1h', series: [candles] };
export const write = (dir: string): Promise<Manifest> => writeDataset(dir, input);
export const same = (m: Manifest): DatasetManifest => m;
const opts: WriteDatasetOptions = { force: true };
export const forced = (dir: string): Promise<Manifest> => writeDataset(dir, input, opts);
// @ts-expect-error force is a boolean
export const badForce = (dir: string) => writeDataset(dir, input, { force: 'yes' });
// @ts-expect-error a series needs its kind
export const noKind: SeriesInput = { symbol: 'BTCUSDT', time: [], columns: {} };
`,
    );
    expect(diags).toEqual([]);
  });

  it("every TypeScript example of README.md and docs/*.md that imports 'marginlab' compiles as written", () => {
    const files = ['README.md', ...readdirSync(join(REPO, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
    const blocks: { where: string; code: string }[] = [];
    for (const f of files) {
      const lines = readFileSync(join(REPO, f), 'utf8').split('\n');
      lines.forEach((l, i) => {
        if (!/^```ts\s*$/.test(l)) return;
        const end = lines.findIndex((x, j) => j > i && /^```\s*$/.test(x));
        const code = lines.slice(i + 1, end).join('\n');
        if (/from 'marginlab'/.test(code)) blocks.push({ where: `${f}:${i + 2}`, code });
      });
    }
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    // each block a module of its own (\`export {}\`: top-level await, no clash of names between blocks)
    const diags = checkAll(blocks.map((b, k) => ({ name: `doc${k}`, code: `// ${b.where}\n${b.code}\nexport {};\n` })));
    expect(diags).toEqual([]);
  });

  it('replay() takes a SeriesPool from the package (docs/engine.md), and the SetupOutput says where a strategy threw', () => {
    const diags = check(
      'pool',
      `import { replay, SeriesPool, type SetupOutput, type StrategyErrorPlace, type ReplayParams } from 'marginlab';
const pool = new SeriesPool();
export const withPool = (p: Omit<ReplayParams, 'seriesPool'>) => replay({ ...p, seriesPool: pool });
export const where = (s: SetupOutput): StrategyErrorPlace | undefined => s.errorAt;
`,
    );
    expect(diags).toEqual([]);
  });

  it('what computeMetrics takes and what buildCurves and a setup give can be named (MetricsInput, RunCurves, SetupSeries)', () => {
    const diags = check(
      'named',
      `import { computeMetrics, buildCurves, type MetricsInput, type RunCurves, type SetupSeries, type SetupOutput } from 'marginlab';
export const metricsOf = (m: MetricsInput) => computeMetrics(m);
export const equity = (s: SetupOutput): SetupSeries => s.series;
export const firstEquity = (s: SetupSeries): number | undefined => s.equity[0];
export const curvesOf = (...a: Parameters<typeof buildCurves>): RunCurves => buildCurves(...a);
`,
    );
    expect(diags).toEqual([]);
  });
});
