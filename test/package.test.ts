/**
 * marginlab as a dependency, as a new user gets it: `npm pack` this repository once, install the
 * tarball into two fresh projects — package.json "type": "commonjs" (what `npm init -y` writes)
 * and "type": "module" — from the npm registry / local npm cache only (no CDN: danfo.js is an
 * optional peer and is not installed), then `init`, a strategy of the user's own, `run`, and the
 * report; plain `node` imports the API from dist in both module systems.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { promisify } from 'node:util';

const REPO = resolve(import.meta.dirname, '..');
const run = promisify(execFile);
const TIMEOUT = 600_000;

interface Out {
  code: number;
  stdout: string;
  stderr: string;
}
/** Run a command; never throws for a non-zero exit (the code is returned). */
async function sh(cmd: string, args: string[], cwd: string): Promise<Out> {
  // a clean environment for npm: nothing of the outer `npm test` (npm_config_*, npm_package_*)
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  try {
    const r = await run(cmd, args, { cwd, env: { ...env, CI: 'true', FORCE_COLOR: '0', NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024, timeout: TIMEOUT });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : -1, stdout: x.stdout ?? '', stderr: x.stderr ?? String(e) };
  }
}
const marginlab = (cwd: string, ...args: string[]) => sh('npx', ['--no', 'marginlab', ...args], cwd);

const MY_STRATEGY = `import { defineStrategy, z, Ema, type StrategyContext } from 'marginlab';

// a strategy of the user's own: long while the close is above its EMA, flat otherwise
const params = z.object({ symbol: z.string().default('ETHUSDT'), period: z.number().int().positive().default(20) });

function equityShare(ctx: StrategyContext): number {
  return (0.3 * ctx.account.equity * ctx.leverage(0)) / ctx.close(0);
}

export default defineStrategy({
  name: 'trend-mine',
  description: 'EMA trend filter, long only (user strategy)',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    const ema = new Ema(p.period);
    return {
      onBar(ctx) {
        const c = ctx.close(0);
        ema.update(c);
        if (!ema.ready || !(c > 0) || !(ctx.account.equity > 0)) return;
        ctx.targetPosition(0, c > ema.value ? equityShare(ctx) : 0);
      },
    };
  },
});
`;

let root: string;
let tarball: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ml-package-'));
  const packed = await sh('npm', ['pack', '--json', '--pack-destination', root], REPO);
  expect(packed.code, packed.stderr).toBe(0);
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  tarball = join(root, info[0]!.filename);
  const files = info[0]!.files.map((f) => f.path);
  // what the package holds: compiled JS + types, the strategy library, bundled data, docs; no sources, tests, CI
  expect(files).toContain('dist/src/index.js');
  expect(files).toContain('dist/src/index.d.ts');
  expect(files).toContain('dist/src/cli/bin.mjs');
  expect(files).toContain('dist/strategies/breakout.js');
  expect(files).toContain('data/binance-usdm-2025/manifest.json');
  expect(files).toContain('README.md');
  expect(files.filter((f) => /^(src|test|bench|scripts|\.ci)\//.test(f) || f.endsWith('.test.ts'))).toEqual([]);
}, TIMEOUT);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

const TYPES = ['commonjs', 'module'] as const;
const projectDir = (type: string) => join(root, type);

describe('installed from the tarball', () => {
  beforeAll(async () => {
    // both projects at once: the install is mostly waiting on the registry / cache
    await Promise.all(
      TYPES.map(async (type) => {
        const dir = projectDir(type);
        mkdirSync(dir);
        writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `user-${type}`, version: '1.0.0', private: true, type }, null, 2)}\n`);
        const t0 = Date.now();
        const inst = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], dir);
        expect(inst.code, inst.stderr).toBe(0);
        console.log(`[package] npm install of the tarball ("type": "${type}"): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      }),
    );
  }, TIMEOUT);

  it.concurrent.each(TYPES)('"type": "%s": plain node imports the API from dist (require and import); danfo.js is not installed', async (type) => {
    const dir = projectDir(type);
    expect(existsSync(join(dir, 'node_modules', 'danfojs'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules', 'xlsx'))).toBe(false);
    const probe = 'typeof m.defineStrategy + " " + typeof m.z.object + " " + m.ENGINE_VERSION + " " + require("fs").existsSync(m.SAMPLE_DATA)';
    const cjs = await sh(process.execPath, ['-e', `const m = require('marginlab'); console.log(${probe})`], dir);
    expect(cjs.stderr).toBe('');
    expect(cjs.stdout.trim()).toMatch(/^function function \S+ true$/);
    const esm = await sh(process.execPath, ['--input-type=module', '-e', `import * as m from 'marginlab'; import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); console.log(${probe})`], dir);
    expect(esm.stdout.trim()).toBe(cjs.stdout.trim());
    // the engine is plain JavaScript: no TypeScript sources in the installed package
    expect(existsSync(join(dir, 'node_modules', 'marginlab', 'src'))).toBe(false);
  }, TIMEOUT);

  it.concurrent.each(TYPES)('"type": "%s": init, a strategy of the user\'s own, run, report; init refuses to overwrite (64)', async (type) => {
    const dir = projectDir(type);
    const t0 = Date.now();
    const init = await marginlab(dir, 'init');
    expect(init.code, init.stderr).toBe(0);
    for (const f of ['backtest.config.ts', 'strategies/example.ts', 'tsconfig.json', '.gitignore']) expect(existsSync(join(dir, f))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).type).toBe(type); // the user's package.json is kept
    const again = await marginlab(dir, 'init');
    expect(again.code).toBe(64);
    expect(again.stderr).toMatch(/already exist/);

    writeFileSync(join(dir, 'strategies', 'trend-mine.ts'), MY_STRATEGY);
    const cfg = join(dir, 'backtest.config.ts');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace("strategies: ['example'],", "strategies: ['example', 'trend-mine'],"));

    const list = await marginlab(dir, 'strategies', '--json');
    expect(list.code, list.stderr).toBe(0);
    const names = (JSON.parse(list.stdout) as { name: string }[]).map((x) => x.name);
    expect(names).toEqual(expect.arrayContaining(['example', 'trend-mine', 'breakout', 'sma-cross']));

    const r = await marginlab(dir, 'run', '--quiet');
    expect(r.code, r.stderr).toBe(0);
    console.log(`[package] init + strategies + run ("type": "${type}"): ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const out = join(dir, 'reports', 'example');
    for (const f of ['summary.json', 'runs.csv', 'report.md', 'report.html', 'manifest.json']) expect(existsSync(join(out, f))).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { runs: { strategy: string; status: string }[] };
    expect(new Set(summary.runs.map((x) => x.strategy))).toEqual(new Set(['example', 'trend-mine']));
    expect(summary.runs.length).toBe(8); // 2 strategies × isolated/cross × 3×/10×
    expect(summary.runs.every((x) => x.status === 'ok')).toBe(true);
    expect(readFileSync(join(out, 'report.md'), 'utf8')).toContain('trend-mine');
    expect(readdirSync(join(out, 'results')).length).toBe(8);

    // a command marginlab prints for copying runs as it is in this project, where the PATH has no
    // `marginlab` (it said `marginlab run --resume …`: "marginlab: command not found")
    const half = await marginlab(dir, 'run', '--quiet', '--strategies', 'trend-mine', '--out', 'reports/half');
    expect(half.code, half.stderr).toBe(0);
    rmSync(join(dir, 'reports', 'half', 'results', readdirSync(join(dir, 'reports', 'half', 'results'))[0]!));
    const cmp = await marginlab(dir, 'compare', 'reports/example', 'reports/half');
    const hint = /finish it \(`([^`]+)`/.exec(cmp.stderr);
    expect(hint, cmp.stderr).not.toBeNull();
    // report says the same command (it said only "incomplete: 1 of the 4 planned runs have no result")
    const rep = await marginlab(dir, 'report', 'reports/half', '--quiet');
    expect(rep.code).toBe(1);
    expect(rep.stderr).toBe(`marginlab: incomplete: 1 of the 4 planned runs has no result (finish it with \`${hint![1]!}\`, or merge the missing shards)\n`);
    const pathWithoutBin = (process.env.PATH ?? '').split(':').filter((p) => !/node_modules[\\/]\.bin/.test(p)).join(':');
    const copied = await sh('sh', ['-c', `PATH='${pathWithoutBin}' ${hint![1]!} --quiet`], dir);
    expect(copied.code, `${hint![1]}: ${copied.stderr}`).toBe(0);
    expect(readdirSync(join(dir, 'reports', 'half', 'results')).length).toBe(4);

    // the analysis API without danfo.js: one line saying what to install
    const lr = await sh(process.execPath, ['--input-type=module', '-e', "import { loadResults } from 'marginlab'; try { await loadResults('reports/example'); } catch (e) { console.log(e.exitCode, e.message); }"], dir);
    expect(lr.stdout).toMatch(/^66 loadResults and loadTrades need danfo\.js.*npm install danfojs/);
  }, TIMEOUT);

  it.concurrent.each(TYPES)('"type": "%s": a .cts config, and a .ts config importing a .cts helper (itself or through a .ts module), load', async (type) => {
    // the CLI imported them as any module once tsx was registered: Node 20 cannot require() marginlab
    // (an ES module) from the CommonJS source tsx gives it for a .cts file ("request for
    // './config/index.js' is not in cache", or a crash with a stack trace); exit 0 before
    const dir = join(root, `cts-${type}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `cts-${type}`, private: true, type }));
    symlinkSync(join(projectDir(type), 'node_modules'), join(dir, 'node_modules'));
    const body = "{ name: 'cts', data: { path: SAMPLE_DATA, timeframe: '1h' }, venue: 'binance-usdm', strategies: ['sma-cross'], setups: ['isolated'], leverage: lev }";
    writeFileSync(join(dir, 'lev.cts'), "import { z } from 'marginlab';\nexport const lev: number[] = z.array(z.number()).parse([3]);\n");
    writeFileSync(join(dir, 'a.config.cts'), `import { defineConfig, SAMPLE_DATA } from 'marginlab';\nconst lev = [3];\nexport default defineConfig(${body});\n`);
    writeFileSync(join(dir, 'b.config.ts'), `import { defineConfig, SAMPLE_DATA } from 'marginlab';\nimport { lev } from './lev.cts';\nexport default defineConfig(${body});\n`);
    // and one importing it through a .ts module of its own
    writeFileSync(join(dir, 'mid.ts'), "export { lev } from './lev.cts';\n");
    writeFileSync(join(dir, 'c.config.ts'), `import { defineConfig, SAMPLE_DATA } from 'marginlab';\nimport { lev } from './mid.ts';\nexport default defineConfig(${body});\n`);
    for (const cfg of ['a.config.cts', 'b.config.ts', 'c.config.ts']) {
      const r = await marginlab(dir, 'strategies', '-c', cfg, '--json');
      expect(r.stderr, cfg).toBe('');
      expect(r.code, cfg).toBe(0);
    }
  }, TIMEOUT);

  it('the user project (init\'s tsconfig) type-checks against the shipped .d.ts', async () => {
    const dir = projectDir('commonjs');
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = await sh(process.execPath, [tsc, '-p', 'tsconfig.json'], dir);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, TIMEOUT);

  it("type-checking as README.md says (npm install --save-dev typescript @types/node, npx tsc) with the TypeScript a user gets today: Node's globals are known", async () => {
    // a fresh project: init's next steps name the install; TypeScript 6 and later include no @types
    // package unless tsconfig's `types` names it, so `console` was unknown ("Cannot find name 'console'")
    const dir = join(root, 'typecheck');
    mkdirSync(dir);
    const init = await sh(process.execPath, [join(projectDir('module'), 'node_modules', 'marginlab', 'dist', 'src', 'cli', 'bin.mjs'), 'init'], dir);
    expect(init.code, init.stderr).toBe(0);
    const hint = init.stdout.split('\n').find((l) => l.includes('npx tsc'));
    expect(hint).toContain('npm install --save-dev typescript @types/node && npx tsc');
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    expect(readme).toContain('`npm install --save-dev typescript @types/node`,\nthen `npx tsc`');
    // init's package.json names marginlab where the project it ran from installed it (the tarball, relative
    // to this folder): npm installs it from there, not from the registry (where "^0.1.0" failed with E404)
    const spec = `file:${relative(dir, tarball).split(sep).join('/')}`;
    expect((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies).toEqual({ marginlab: spec });
    expect(init.stdout).toContain(`\n  npm install   # marginlab from ${spec}, as package.json names it\n`);
    const inst = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', '--save-dev', 'typescript', '@types/node'], dir);
    expect(inst.code, inst.stderr).toBe(0);
    expect(existsSync(join(dir, 'node_modules', 'marginlab', 'package.json'))).toBe(true);
    // a helper module among the strategies (not loaded as one: '_'), logging as strategies may
    writeFileSync(join(dir, 'strategies', '_log.ts'), "export function note(s: string): void {\n  if (process.env.DEBUG) console.log(s);\n  setTimeout(() => undefined, 0);\n}\n");
    const r = await sh('npx', ['--no', 'tsc'], dir);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, TIMEOUT);

  it('a strict project without skipLibCheck type-checks against the shipped .d.ts with danfo.js not installed; loadResults gives unknown, not any', async () => {
    const dir = projectDir('module');
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022', lib: ['ES2023'], module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true,
        exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, skipLibCheck: false,
        types: ['node'], typeRoots: [join(REPO, 'node_modules', '@types')],
      },
      files: ['strict-check.ts'],
    };
    writeFileSync(join(dir, 'tsconfig.strict.json'), JSON.stringify(tsconfig, null, 2));
    writeFileSync(
      join(dir, 'strict-check.ts'),
      `import { loadResults, loadTrades, loadRunFolder, runTrades } from 'marginlab';
export async function analyse(dir: string): Promise<string | undefined> {
  const runs = await loadResults(dir);
  // @ts-expect-error danfo.js is not installed: the DataFrame is unknown (it was any)
  runs.print();
  const trades = await loadTrades(dir);
  // @ts-expect-error as above
  const n: number = trades;
  const { results } = loadRunFolder(dir);
  return runTrades(results[0]!)[0]?.netPnl ?? String(n);
}
`,
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = await sh(process.execPath, [tsc, '-p', 'tsconfig.strict.json'], dir);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.code).toBe(0);
  }, TIMEOUT);
});
