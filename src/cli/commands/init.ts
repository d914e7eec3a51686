/**
 * `marginlab init [dir]`: a new project that runs right away — backtest.config.ts (the bundled
 * sample data, the example strategy, isolated vs cross at 3× and 10×), strategies/example.ts
 * (imports only from 'marginlab'), and package.json, tsconfig.json and .gitignore (reports/) when
 * there are none (an existing repository keeps its own, and is told what its .gitignore lacks). It
 * never overwrites: if backtest.config.ts or strategies/example.ts exists, it writes nothing,
 * names them and exits 64.
 */
import { existsSync, lstatSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UserError, usageError } from '../../errors.js';
import { withFsErrors, type FsErrorContext } from '../../util/fs-errors.js';
import { mkdirs } from '../../util/outdir.js';
import { PACKAGE_ROOT } from '../../util/package-root.js';
import { shellArg } from '../../util/shell.js';

const CONFIG = `/**
 * marginlab config. \`npx marginlab run\` replays every strategy below under isolated and cross
 * margin at each leverage and writes reports/<name>/ (report.html, report.md, summary.json, runs.csv).
 * Reference: node_modules/marginlab/docs/config.md
 */
import { defineConfig, SAMPLE_DATA } from 'marginlab';

export default defineConfig({
  name: 'example',
  // SAMPLE_DATA: real Binance USD-M perpetuals (BTC, ETH, XRP, ADA), 2025-05-22 → 2025-07-21,
  // bundled with marginlab. Your own data: \`npx marginlab import csv <file.csv> --help\`
  // (docs/data.md); synthetic data: \`npx marginlab data synth --symbols 4 --bars 20000
  // --timeframe 1h --out data/synth\`. Then write path: 'data/mine' (relative to this file).
  data: { path: SAMPLE_DATA, timeframe: '1h' },
  venue: 'binance-usdm',
  // your strategy files (one per file, file name = strategy name); the library's strategies are
  // available too: \`npx marginlab strategies\` lists them all
  strategyDirs: ['strategies'],
  strategies: ['example'],
  setups: ['isolated', 'cross'],
  leverage: [3, 10],
  initialCapital: 10_000,
});
`;

const STRATEGY = `/**
 * example — moving-average crossover on one symbol: long while the fast SMA is above the slow
 * one, short while below, with \`marginFraction\` of equity as initial margin at the run's leverage.
 * Everything a strategy needs comes from 'marginlab' (docs/strategies.md).
 */
import { defineStrategy, z, Sma } from 'marginlab';

const params = z.object({
  symbol: z.string().default('BTCUSDT'),
  fast: z.number().int().positive().default(12),
  slow: z.number().int().positive().default(48),
  marginFraction: z.number().positive().max(1).default(0.5),
});

export default defineStrategy({
  name: 'example',
  description: 'SMA crossover (long above, short below) on one symbol.',
  params,
  symbols: (p) => [p.symbol],
  create(p) {
    const fast = new Sma(p.fast);
    const slow = new Sma(p.slow);
    return {
      onBar(ctx) {
        const close = ctx.close(0);
        fast.update(close);
        slow.update(close);
        if (!fast.ready || !slow.ready || !(close > 0)) return;
        const equity = ctx.account.equity;
        if (!(equity > 0)) return;
        const dir = fast.value > slow.value ? 1 : -1;
        if (Math.sign(ctx.position(0).qty) === dir) return;
        ctx.targetPosition(0, (dir * p.marginFraction * equity * ctx.leverage(0)) / close);
      },
    };
  },
});
`;

// Type checking only (tsx runs the files): 'Bundler' resolution reads marginlab's "exports"
// whatever the package's "type" is. `types: ['node']` names Node's globals (console, process,
// setTimeout): TypeScript 6 and later include no @types package unless `types` names it, so
// without it `console.log` in a strategy is a type error ("Cannot find name 'console'").
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2023'],
      types: ['node'],
      module: 'ESNext',
      moduleResolution: 'Bundler',
      strict: true,
      skipLibCheck: true,
      noEmit: true,
      isolatedModules: true,
      esModuleInterop: true,
    },
    // every config of the project (`-c research.config.ts` beside backtest.config.ts), not the first one only
    include: ['*.config.ts', 'strategies'],
  },
  null,
  2,
)}\n`;

const GITIGNORE = `node_modules/\nreports/\n`;

/**
 * What `npm install` in `dir` can install this marginlab from: the spec the project it is installed
 * in names (a tarball or folder as `file:` relative to `dir`, a registry range or a git URL as
 * written), else, run from a checkout, that folder; null when none can be told (then package.json
 * names no marginlab and the next steps say to install it). `^0.1.0` was written before, which npm
 * looked up in the registry, where marginlab is not published: `npm install` failed with E404.
 */
export function installSpec(dir: string, root: string = PACKAGE_ROOT): string | null {
  const fileSpec = (target: string) => {
    const rel = relative(dir, target).split(sep).join('/');
    return `file:${rel === '' ? '.' : rel.startsWith('.') || isAbsolute(rel) ? rel : `./${rel}`}`;
  };
  const parts = root.split(sep);
  // the first node_modules: the project's (a nested npm install, pnpm's node_modules/.pnpm/<pkg>/node_modules, sit below it)
  const at = parts.indexOf('node_modules');
  if (at < 0) return existsSync(join(root, 'package.json')) ? fileSpec(root) : null;
  const project = parts.slice(0, at).join(sep) || sep;
  const readJson = (f: string): Record<string, unknown> | null => {
    try {
      const v = JSON.parse(readFileSync(join(project, f), 'utf8').replace(/^\uFEFF/, '')) as unknown;
      return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : null;
    } catch {
      return null;
    }
  };
  const named = (spec: unknown): string | null => {
    if (typeof spec !== 'string' || spec === '') return null;
    if (spec.startsWith('file:')) return fileSpec(resolve(project, spec.slice(5)));
    // a tarball or folder path written without file: (npm accepts ./x.tgz, ../x, /abs/x)
    if (/^(\.{1,2}\/|\/)/.test(spec)) return fileSpec(resolve(project, spec));
    return spec;
  };
  const pkg = readJson('package.json');
  for (const k of ['dependencies', 'devDependencies', 'optionalDependencies']) {
    const deps = pkg?.[k];
    const spec = deps && typeof deps === 'object' ? named((deps as Record<string, unknown>).marginlab) : null;
    if (spec) return spec;
  }
  // installed without --save (npm install --no-save x.tgz): the lock file still says where from
  const lock = readJson('package-lock.json');
  const entry = (lock?.packages as Record<string, { resolved?: unknown }> | undefined)?.['node_modules/marginlab'];
  const resolved = entry?.resolved;
  if (typeof resolved === 'string' && resolved.startsWith('file:')) return named(resolved);
  return null;
}

/**
 * The npm project `dir` sits in below its top when that project uses marginlab (its package.json names it, or its
 * node_modules holds it): the nearest ancestor folder with a package.json, or null. init in `proj/backtests` wrote a
 * second project there (package.json with "type": "module" and its own marginlab to install) where Node finds the
 * enclosing project's marginlab anyway.
 */
export function enclosingProject(dir: string): string | null {
  for (let d = dirname(dir); ; d = dirname(d)) {
    const pkgFile = join(d, 'package.json');
    if (existsSync(pkgFile)) {
      let pkg: Record<string, unknown> | null;
      try {
        pkg = JSON.parse(readFileSync(pkgFile, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown> | null;
      } catch {
        // a package.json that does not parse is not a project init can rely on, whatever its node_modules holds: Node
        // fails on it for every file below it that has no package.json nearer ("Error parsing …/package.json")
        return null;
      }
      if (existsSync(join(d, 'node_modules', 'marginlab', 'package.json'))) return d;
      for (const k of ['dependencies', 'devDependencies', 'optionalDependencies']) {
        const deps = pkg !== null && typeof pkg === 'object' ? pkg[k] : undefined;
        if (deps && typeof deps === 'object' && Object.hasOwn(deps, 'marginlab')) return d;
      }
      return null;
    }
    if (dirname(d) === d) return null;
  }
}

/** marginlab installed where Node resolves it from `dir`: node_modules/marginlab in `dir` or an ancestor */
function installedFrom(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'node_modules', 'marginlab', 'package.json'))) return true;
    if (dirname(d) === d) return false;
  }
}

function packageJson(dir: string, spec: string | null): string {
  const name =
    basename(dir)
      .toLowerCase()
      .replace(/[^a-z0-9._-]+/g, '-')
      .replace(/^[._-]+|-+$/g, '') || 'backtests';
  const pkg = {
    name,
    version: '0.1.0',
    private: true,
    type: 'module',
    scripts: { backtest: 'marginlab run' },
    ...(spec !== null ? { devDependencies: { marginlab: spec } } : {}),
  };
  return `${JSON.stringify(pkg, null, 2)}\n`;
}

export interface InitOutcome {
  dir: string;
  written: string[];
  /** the user's own files init left as they are (package.json, tsconfig.json, .gitignore) */
  kept: string[];
  /** lines the kept .gitignore lacks (what init's own would hold) */
  gitignoreLacks: string[];
  /** where npm installs marginlab from (installSpec); null when it cannot be told */
  spec: string | null;
  /** the enclosing npm project that uses marginlab (enclosingProject), when init wrote no package.json for it */
  enclosing: string | null;
}

/** the lines of GITIGNORE an existing .gitignore does not hold (as written, or without the trailing slash) */
function gitignoreLacks(path: string): string[] {
  let have: Set<string>;
  try {
    have = new Set(readFileSync(path, 'utf8').split(/\r?\n/).map((l) => l.trim().replace(/^\//, '')));
  } catch {
    return [];
  }
  return GITIGNORE.split('\n').filter((l) => l !== '' && !have.has(l) && !have.has(l.replace(/\/$/, '')));
}

/** Write the project files into `dir` (created if missing); UserError 64 when the config or the example strategy exists. */
export async function initProject(dirArg: string): Promise<InitOutcome> {
  const dir = resolve(dirArg);
  // a folder that cannot be made or written (read-only, under /proc, a file in the path): 64, one line
  const fsCtx = (path: string, action: string): FsErrorContext => ({ path, action, role: 'output', resume: false, hint: 'choose a writable folder for init' });
  if (existsSync(dir) && !withFsErrors(fsCtx(dir, 'use the folder'), () => statSync(dir)).isDirectory()) throw new UserError(`${dirArg} exists and is not a folder`, ExitCode.USAGE);
  const files: [string, string][] = [
    ['backtest.config.ts', CONFIG],
    [join('strategies', 'example.ts'), STRATEGY],
  ];
  // an entry of that name, a link to nowhere too, is the user's
  const present = (p: string) => {
    try {
      lstatSync(p);
      return true;
    } catch {
      return false;
    }
  };
  const existing = files.map(([f]) => f).filter((f) => present(join(dir, f)));
  if (existing.length > 0) {
    throw new UserError(
      `init writes nothing: ${existing.map((f) => join(dirArg, f)).join(', ')} already exist${existing.length === 1 ? 's' : ''} (init never overwrites; move ${existing.length === 1 ? 'it' : 'them'} away or choose another folder)`,
      ExitCode.USAGE,
    );
  }
  // a repository's own package.json, tsconfig.json and .gitignore stay as they are
  const kept: string[] = [];
  if (present(join(dir, 'package.json'))) {
    // a package.json that does not parse stops npm, and tsx, which loads the config: `run` would fail on it (78)
    let problem: string | null = null;
    try {
      // (npm reads a package.json that starts with a byte-order mark; so does this check)
      const v = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8').replace(/^\uFEFF/, '')) as unknown;
      if (v === null || typeof v !== 'object' || Array.isArray(v)) problem = 'it does not hold a JSON object';
    } catch (err) {
      problem = (err as { code?: string }).code ? `it cannot be read (${(err as { code?: string }).code})` : `it is not valid JSON (${(err as Error).message})`;
    }
    if (problem !== null) {
      throw new UserError(`init writes nothing: ${join(dirArg, 'package.json')} is yours, but ${problem}; npm and marginlab (tsx, loading the config) read it: fix it or move it away, then run init again`, ExitCode.CONFIG);
    }
    kept.push('package.json');
  }
  const spec = installSpec(dir);
  // a folder inside a project that uses marginlab is part of that project: no second package.json (and npm install) here
  const enclosing = kept.includes('package.json') ? null : enclosingProject(dir);
  if (!kept.includes('package.json') && enclosing === null) files.unshift(['package.json', packageJson(dir, spec)]);
  for (const [f, text] of [['tsconfig.json', TSCONFIG], ['.gitignore', GITIGNORE]] as const) {
    if (present(join(dir, f))) kept.push(f);
    else files.push([f, text]);
  }
  const lacks = kept.includes('.gitignore') ? gitignoreLacks(join(dir, '.gitignore')) : [];
  const { writeFileAtomic } = await import('../../util/atomic.js');
  const written: string[] = [];
  // the folders first (a `strategies` that is a file stops init before any file is written), then the
  // files; a write that fails (a full disk) takes back what this init wrote: nothing half-made is left
  const made: string[] = [];
  const undo = () => {
    for (const f of written) rmSync(join(dir, f), { force: true });
    for (const d of made.reverse()) {
      try {
        rmdirSync(d); // only when still empty
      } catch {
        /* something else is in it now: left */
      }
    }
  };
  for (const d of new Set(files.map(([f]) => dirname(join(dir, f))))) {
    try {
      withFsErrors(fsCtx(d, 'create the folder'), () => {
        mkdirs(d, made); // each folder as it is made: taken back on a later failure (only while empty)
        // a file of the folder's name (`strategies`): no folder to write into
        if (!statSync(d).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${d}'`), { code: 'ENOTDIR' });
      });
    } catch (err) {
      undo();
      throw err;
    }
  }
  try {
    for (const [f, text] of files) {
      const p = join(dir, f);
      if (present(p)) throw new UserError(`${p} appeared while init was writing; stopped, nothing written`, ExitCode.USAGE);
      withFsErrors(fsCtx(p, 'write'), () => writeFileAtomic(p, text));
      written.push(f);
    }
  } catch (err) {
    undo();
    throw err;
  }
  return { dir, written, kept, gitignoreLacks: lacks, spec, enclosing };
}

export function register(program: Command): void {
  program
    .command('init')
    .description('start a project: backtest.config.ts, strategies/example.ts (and package.json, tsconfig.json, .gitignore where missing); never overwrites (exit 64)')
    .argument('[dir]', 'project folder (created if missing)', '.')
    .action(async (dirArg: string) => {
      // an empty argument (an unset shell variable: `init "$DIR"`) wrote the project into the current folder
      if (dirArg.trim() === '') throw usageError(`init: expected a project folder, got an empty string (leave the argument out for the current folder)`);
      const out = await initProject(dirArg);
      const r = relative(process.cwd(), out.dir);
      const rel = r === '' ? '.' : r.startsWith('..') ? out.dir : r;
      process.stdout.write(`marginlab: initialised ${rel}: ${out.written.join(', ')}${out.kept.length ? ` (kept your ${out.kept.join(', ')})` : ''}\n`);
      if (out.gitignoreLacks.length > 0) {
        const one = out.gitignoreLacks.length === 1;
        // each entry with what it holds: `lacks reports/ (installed packages, run folders)` named both whatever was missing
        const what = (l: string) => `${l}${l === 'node_modules/' ? ' (installed packages)' : l === 'reports/' ? ' (run folders)' : ''}`;
        process.stdout.write(`marginlab: your .gitignore lacks ${out.gitignoreLacks.map(what).join(' and ')}: add ${one ? 'it' : 'them'} so that git leaves ${one ? 'it' : 'them'} out\n`);
      }
      if (out.enclosing !== null) process.stdout.write(`marginlab: no package.json written: this folder is part of the project in ${out.enclosing}, which uses marginlab\n`);
      const needsInstall = !installedFrom(out.dir);
      process.stdout.write(
        [
          'next:',
          rel === '.' ? null : `  cd ${shellArg(rel)}`,
          needsInstall
            ? out.written.includes('package.json') && out.spec !== null
              ? `  npm install   # marginlab from ${out.spec}, as package.json names it`
              : out.spec !== null
                ? `  npm install --save-dev ${shellArg(out.spec)}`
                : `  npm install --save-dev marginlab   # (or the tarball you installed from)`
            : null,
          `  npx marginlab run   # the sample data, strategies/example.ts, isolated vs cross at 3x and 10x`,
          `  then open reports/example/report.html`,
          out.written.includes('tsconfig.json') ? `to type-check your config and strategies: npm install --save-dev typescript @types/node && npx tsc` : null,
        ]
          .filter((l) => l !== null)
          .join('\n') + '\n',
      );
    });
}
