/**
 * Strategy registry: strategies are files in <repo>/strategies and in folders the config names,
 * one strategy per file, registry name = file name without extension (kebab-case). A file
 * default-exports a StrategyModule. Later folders do not override earlier ones: a name found in
 * two places is a configuration error.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ExitCode, UserError, configError } from '../errors.js';
import type { StrategyModule } from './types.js';
import { loadErrorMessage, moduleDefault } from '../util/module-default.js';
import { CONTROL_CHAR, excerpt, shownValue, visible } from '../util/excerpt.js';
import { SETUP_IDS } from '../engine/setups.js';
import { didYouMean } from '../util/nearest.js';
import { notCounted, nowRunning } from '../util/time-limit.js';
import { importUserModule } from '../util/user-import.js';
import { noteUserCode } from '../util/user-faults.js';

/** <repo>/strategies, found from this file's location (src/strategy/registry.ts). */
const BUILTIN_STRATEGY_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'strategies');

const EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs']);

interface Entry {
  name: string;
  file: string;
}

function scan(dirs: readonly string[]): Entry[] {
  const seen = new Map<string, string>();
  const out: Entry[] = [];
  /** files whose name holds a control character (util/excerpt CONTROL_CHAR), as the message names them */
  const badNames: string[] = [];
  for (const dir of [BUILTIN_STRATEGY_DIR, ...dirs.map((d) => resolve(d))]) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      if (dir === BUILTIN_STRATEGY_DIR) continue;
      throw new UserError(`strategy folder '${dir}' does not exist or is not a folder`, ExitCode.NO_INPUT);
    }
    for (const f of readdirSync(dir).sort()) {
      const ext = extname(f);
      if (!EXTENSIONS.has(ext) || /\.d\.[mc]?ts$/.test(f) || f.startsWith('_') || f.startsWith('.')) continue;
      if (/\.(test|spec)\.[mc]?[jt]s$/.test(f)) continue;
      const name = basename(f, ext);
      const file = join(dir, f);
      const control = CONTROL_CHAR.exec(name);
      if (control !== null) {
        badNames.push(`${visible(file)} (${visible(control[0])}, character ${[...name.slice(0, control.index)].length + 1})`);
        continue;
      }
      const prev = seen.get(name);
      if (prev !== undefined) {
        // same name, other extension in one folder: refused, not the first in sort order run (x.js sorts before x.ts,
        // so the copy `tsc` emitted beside the source ran, stale after the next edit of the .ts, in silence)
        const hint = dirname(prev) === dir
          ? ` (one folder, two extensions): delete the one you did not mean; a compiled copy of the other (tsc writes x.js beside x.ts unless its tsconfig has noEmit or an outDir) goes out of the strategy folder`
          : dirname(prev) === BUILTIN_STRATEGY_DIR
          ? `: '${name}' is a library strategy; rename your file (e.g. my-${name}${ext}) and use that name in the config`
          : ': rename one of the files (the registry name is the file name)';
        throw new UserError(`strategy '${name}' is defined twice: ${prev} and ${file}${hint}`, ExitCode.CONFIG, [], 'duplicateStrategy');
      }
      seen.set(name, file);
      out.push({ name, file });
    }
  }
  if (badNames.length > 0) {
    // the name is the strategy's in the config, run labels, runs.csv and the reports' headings: an ESC sequence
    // recoloured the terminal, a line break forged a line of marginlab's, a bidi control reversed the rest of a line
    const one = badNames.length === 1;
    const files = `${badNames.slice(0, 5).join(', ')}${badNames.length > 5 ? ` and ${badNames.length - 5} more` : ''}`;
    throw new UserError(
      `strategy file${one ? '' : 's'} whose name holds a control character: ${files}; a strategy's file name is its name in run labels, runs.csv and the reports: rename ${one ? 'the file' : 'them'} (e.g. letters, digits and -)`,
      ExitCode.CONFIG,
      [],
      'strategyFileName',
    );
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The keys of a StrategyModule (types.ts): the first five are required. */
const MODULE_KEYS = ['name', 'description', 'params', 'symbols', 'create', 'setups'] as const;
const MODULE_SHAPE = '{ name, description, params (zod schema), symbols(params), create(params) }';

/**
 * What is wrong with a strategy file's default export, one entry per key: a required key missing
 * or of the wrong type, an unknown key (a misspelt `symbol` or `setup` was ignored, and the strategy
 * ran without it), `setups` that is not a list of setup ids. Empty when it is a StrategyModule.
 */
function moduleProblems(m: unknown): string[] {
  if (typeof m !== 'object' || m === null) return [`it exports ${typeof m === 'function' ? 'a function' : shownValue(m)}, not an object`];
  const r = m as Record<string, unknown>;
  const problems: string[] = [];
  // an object literal's other keys are refused, as defineStrategy's type does; a class instance (a
  // class implementing StrategyModule may hold fields of its own: private cache = new Map()) and a
  // module namespace (`import * as m from './_impl.js'; export default m`, whose other named exports
  // are its own; its prototype is null too) have only the ones a letter or two from a module key refused
  const proto: unknown = Object.getPrototypeOf(r);
  const namespace = Object.prototype.toString.call(r) === '[object Module]';
  const literal = !namespace && (proto === Object.prototype || proto === null);
  const unknown = Object.keys(r).filter((k) => k !== '__esModule' && !(MODULE_KEYS as readonly string[]).includes(k));
  for (const k of unknown) {
    const near = didYouMean(k, MODULE_KEYS);
    if (literal || near !== '') problems.push(`unknown key '${k}'${near}`);
  }
  const want = (k: string, ok: boolean, what: string): void => {
    if (ok) return;
    problems.push(r[k] === undefined ? `'${k}' is missing (${what})` : `'${k}' must be ${what}, got ${shownValue(r[k])}`);
  };
  want('name', typeof r.name === 'string', 'a string: the file name');
  want('description', typeof r.description === 'string', 'a string');
  const params = r.params as { safeParse?: unknown } | undefined;
  want('params', typeof params === 'object' && params !== null && typeof params.safeParse === 'function', 'a zod schema: z.object({ ... })');
  want('symbols', typeof r.symbols === 'function', 'a function of the params returning the symbols traded');
  want('create', typeof r.create === 'function', 'a function of the params returning { onBar(ctx) { ... } }');
  if (r.setups !== undefined) {
    const ok = Array.isArray(r.setups) && r.setups.every((x) => (SETUP_IDS as readonly unknown[]).includes(x));
    want('setups', ok, `a list of ${SETUP_IDS.map((x) => `'${x}'`).join(', ')}`);
  }
  return problems;
}

/** What `ensureTypeScriptLoader` needs of src/util/register-loaders.mjs. */
export interface LoaderRegistration {
  FROM_SOURCE: boolean;
  registerLoaders(): Promise<void>;
  userCodeLoaders(): Promise<boolean>;
}

/**
 * A strategy file about to be imported gets tsx when it needs it; returns whether marginlab's
 * loaders are in place for it. The CLI and its worker threads load every user module with tsx,
 * registered when the first one loads (register-loaders.mjs entryLoaders: registering it at start
 * made every command ≈ 0.8 s slower). Plain `node` running the compiled package (a script of the
 * user's calling `resolveStrategy` or `listStrategies`) gets it for a TypeScript file only (Node
 * refused one: "Unknown file extension .ts"). From the sources (this repository, its tests) the
 * entry point, or vitest, has done it already.
 */
export async function ensureTypeScriptLoader(
  file: string,
  loaders: () => Promise<LoaderRegistration> = () => import('../util/register-loaders.mjs'),
): Promise<boolean> {
  const l = await loaders();
  if (l.FROM_SOURCE) return false;
  // tsx's set-up is marginlab's work: not counted to the time limit of the module's top-level code
  // (the first user module of a command whose config is JSON registers it here)
  if (await notCounted(() => l.userCodeLoaders())) return true;
  if (!/\.(?:ts|mts|cts)$/i.test(file)) return false;
  await notCounted(() => l.registerLoaders());
  return true;
}

/** A default export that reads as a config (defineConfig's `data` and `strategies`) rather than a strategy module. */
function looksLikeConfig(m: unknown): boolean {
  if (m === null || typeof m !== 'object') return false;
  const r = m as Record<string, unknown>;
  return 'data' in r && 'strategies' in r && typeof r.create !== 'function';
}

async function load(e: Entry): Promise<StrategyModule> {
  let mod: Record<string, unknown>;
  // a module's top-level code must not change shared built-ins (they are shared with every run and
  // the report), and its console output goes to stderr (stdout carries --json and command output)
  const { RealmGuard, tamperMessage, tampered, withConsoleOnStderr } = await import('../shard/isolation.js');
  // found by this load before, or by a config's that imported it (src/config guardConfigCode)
  const known = tampered.get(e.file);
  if (known) throw configError(known);
  // before the guard's snapshot: registering tsx is marginlab's doing, not the strategy's
  // (the library's own strategies are marginlab's compiled JavaScript: they need no loaders)
  if (dirname(e.file) !== BUILTIN_STRATEGY_DIR) await ensureTypeScriptLoader(e.file);
  // the package entry strategies import (`from 'marginlab'`: defineStrategy, z), loaded once, is marginlab's work too:
  // the first strategy of a command paid for its modules (0.2 s and more on a cold start), over a 200 ms timeoutMs
  await notCounted(() => import('../index.js'));
  const guard = new RealmGuard();
  // a fault of the user's code no stack names (a stream's 'error' event) is said to come from the code that ran (src/util/user-faults.ts)
  if (dirname(e.file) !== BUILTIN_STRATEGY_DIR) noteUserCode(e.file, `strategy '${e.name}'`);
  try {
    mod = await withConsoleOnStderr(async () => (await importUserModule(pathToFileURL(e.file).href)) as Record<string, unknown>);
  } catch (err) {
    throw configError(`strategy '${e.name}' (${e.file}) failed to load: ${excerpt(loadErrorMessage(err), 400)}`);
  }
  const changed = guard.restore();
  if (changed.length > 0) {
    const message = `strategy '${e.name}' (${e.file}): when its module loaded, the ${tamperMessage(changed)}`;
    tampered.set(e.file, message);
    throw configError(message);
  }
  const m = moduleDefault(mod);
  if (m === undefined) {
    // most often a helper module beside the strategies: every file of a strategy folder is loaded as one
    throw configError(
      `strategy file ${e.file} has no default export; a strategy file default-exports { name, description, params, symbols, create }, and a helper module goes in a subfolder or gets a name starting with _ (e.g. _${e.name}${extname(e.file)}), which the strategy folders' scan skips`,
    );
  }
  if (typeof m === 'function' && m.name === 'defineStrategy') {
    // `export default defineStrategy;` (not called): "it exports a function, not an object" said nothing of why
    throw configError(`strategy file ${e.file} default-exports defineStrategy itself, not a strategy: call it, export default defineStrategy({ name: '${e.name}', description, params, symbols, create })`);
  }
  const problems = moduleProblems(m);
  if (problems.length > 0 && looksLikeConfig(m)) {
    // a config file among the strategies (`strategyDirs: ['.']`, a config kept in strategies/): say so, not its keys one by one
    throw configError(`strategy file ${e.file} default-exports a config (its data and strategies keys), not a strategy: move it out of the strategy folder (a config is given with --config), or rename it to start with _ so the scan skips it`);
  }
  if (problems.length > 0) {
    throw configError(`strategy file ${e.file} must default-export ${MODULE_SHAPE} (and optionally setups): ${problems.join('; ')}`);
  }
  const sm = m as StrategyModule;
  if (sm.name !== e.name) {
    throw configError(`strategy file ${e.file} exports name '${sm.name}'; the name must equal the file name '${e.name}'`);
  }
  return sm;
}

/** Find a strategy by registry name in <repo>/strategies and `extraDirs`; unknown names exit 78 listing the available ones. */
export async function resolveStrategy(name: string, extraDirs: string[] = []): Promise<StrategyModule> {
  const entries = scan(extraDirs);
  const e = entries.find((x) => x.name === name);
  if (!e) {
    throw new UserError(`unknown strategy '${name}'${didYouMean(name, entries.map((x) => x.name))}; available: ${entries.map((x) => x.name).join(', ') || '(none)'}`, ExitCode.CONFIG, [], 'unknownStrategy');
  }
  return load(e);
}

/**
 * A file that would be strategy `name` in one of `folders` that are not strategy folders (a config's
 * own folder and its `strategies/`, when the config names no strategyDirs): the unknown-name message
 * points at it. Null when there is none.
 */
export function strayStrategyFile(name: string, folders: readonly string[]): string | null {
  for (const dir of folders) {
    for (const ext of EXTENSIONS) {
      const file = join(dir, `${name}${ext}`);
      if (existsSync(file) && statSync(file).isFile()) return file;
    }
  }
  return null;
}

/**
 * The file of each named strategy (names not found are left out): what a run records the code of. A built-in
 * strategy compiled into dist/ is recorded by its TypeScript source when the source is there (the repository): a run
 * from dist/ and one from the sources (`npm run backtest` with dist/ stale) ran the same code, and merge refused their
 * shards as two versions of it. An installed package holds dist/ only: its .js.
 */
export function strategyFiles(names: readonly string[], extraDirs: string[] = []): Map<string, string> {
  const want = new Set(names);
  const source = (file: string): string => {
    if (dirname(file) !== BUILTIN_STRATEGY_DIR || extname(file) !== '.js') return file;
    const ts = join(BUILTIN_STRATEGY_DIR, '..', '..', 'strategies', `${basename(file, '.js')}.ts`);
    return existsSync(ts) ? ts : file;
  };
  return new Map(scan(extraDirs).filter((e) => want.has(e.name)).map((e) => [e.name, source(e.file)] as const));
}

/** Every strategy available, sorted by name, with its loaded module. */
export async function listStrategies(extraDirs: string[] = []): Promise<{ name: string; description: string; file: string; module: StrategyModule }[]> {
  const out: { name: string; description: string; file: string; module: StrategyModule }[] = [];
  for (const e of scan(extraDirs)) {
    // under a time limit (src/util/time-limit.ts): the file whose top-level code never ends is named
    nowRunning(`strategy '${e.name}' (${e.file}): loading its module (its top-level code)`);
    const m = await load(e);
    out.push({ name: m.name, description: m.description, file: e.file, module: m });
  }
  return out;
}
