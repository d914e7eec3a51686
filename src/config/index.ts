/**
 * backtest.config.ts: defineConfig, loading (through tsx), validation (every problem with its key
 * path, exit 78), CLI overrides, and the frozen ResolvedConfig written into the manifest.
 */
import { accessSync, constants as fsConstants, existsSync, readFileSync, statSync } from 'node:fs';
import { withFsErrors } from '../util/fs-errors.js';
import { deepFreeze } from '../util/freeze.js';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { availableParallelism } from 'node:os';
import { Decimal } from 'decimal.js';
import type { z } from 'zod';
import { configError, missingInput, usageError, UserError } from '../errors.js';
import { excerpt, isThenable, thrownText } from '../util/excerpt.js';
import { didYouMean } from '../util/nearest.js';
import { jsonDuplicateKey, jsonFault, protoKeyPath } from '../util/json-text.js';
import { realPathOf } from '../util/outdir.js';
import { timeframeMsOrNaN } from '../feed/timeframe.js';
import { getVenue, venueIds, type BuiltVenueProfile, type VenueOverrides, type VenueProfile } from '../venue/index.js';
import type { ExecutionOptions } from '../engine/types.js';
import { CRASHES_WITHOUT_SCENARIOS, PACK_IDS, resolveStress, unknownScenarioText, type ResolvedStress } from '../stress/plan.js';
import type { Scenario } from '../stress/scenario.js';
import { loadErrorMessage, moduleDefault, shownPath } from '../util/module-default.js';
import { shellArg, shellPath } from '../util/shell.js';
import { nowRunning, withTimeLimit, type TimeLimit } from '../util/time-limit.js';
import { collectRejections, noteUserCode } from '../util/user-faults.js';
import { issueMessage, oneLine, valueAt } from '../util/issue-text.js';
import { definedIn, RealmGuard, tamperMessage, tampered } from '../shard/isolation.js';
import { importUserModule, isImportFault } from '../util/user-import.js';
import { configSchema, stressSchema, type GridRange, type ReportFormat, type SetupId, type UserConfig } from './schema.js';

export { configSchema, parseDate, SETUP_IDS, REPORT_FORMATS } from './schema.js';
export type { UserConfig, SetupId, ReportFormat, GridRange } from './schema.js';

/** What a config function receives. */
export interface ConfigEnv {
  env: Readonly<Record<string, string | undefined>>;
  /** folder of the config file */
  configDir: string;
  /** true under CI=true */
  ci: boolean;
}

export type ConfigInput = UserConfig | Promise<UserConfig> | ((env: ConfigEnv) => UserConfig | Promise<UserConfig>);

type KeysOfUnion<U> = U extends unknown ? keyof U : never;
type ValueAt<S, K> = S extends unknown ? (K extends keyof S ? S[K] : never) : never;
type ElementOf<S> = S extends readonly (infer E)[] ? E : never;
/**
 * T with every key the config shape S has no place for turned into `never`, at every depth (S a
 * union: the keys of any of its object members). A returned object literal gets no excess-property
 * check of its own (TypeScript checks only fresh literals passed or assigned as they are), so this
 * is how a config function's misspelt key (`levrage`, `output.dirr`) becomes a type error there too.
 */
export type ExactConfig<T, S = UserConfig> = unknown extends S
  ? T
  : T extends readonly unknown[]
    ? { [I in keyof T]: ExactConfig<T[I], ElementOf<S>> }
    : T extends object
      ? { [K in keyof T]: K extends KeysOfUnion<Extract<S, object>> ? ExactConfig<T[K], ValueAt<Extract<S, object>, K>> : never }
      : T;

/**
 * Declare a backtest config: an object, a promise of one, or a function of the environment
 * (sync or async). Returns its argument unchanged; it exists for types and editor help.
 * A config object literal is checked against UserConfig itself (not generic on purpose), and a
 * function's returned object through ExactConfig, so a misspelt or unknown key (`levrage`, `oops`)
 * is a type error in every form, as it is an error when run (78).
 */
// first, the function and promise forms in one overload: the first overload TypeScript tries fixes the type of an
// argument that is not context-sensitive (`() => ({ ... })`, `Promise.resolve({ ... })`: computed once), and under
// any other it widened every literal ('all', 'auto', 'high-first' read as string): such a config failed to
// type-check. C tells the forms apart for the result's type. An argument typed any matches this overload too, so its
// result is typed as a union of the two forms: give it `as UserConfig`
export function defineConfig<T extends UserConfig, C extends ((env: ConfigEnv) => (T & ExactConfig<T>) | Promise<T & ExactConfig<T>>) | Promise<T & ExactConfig<T>>>(
  config: C | ((env: ConfigEnv) => (T & ExactConfig<T>) | Promise<T & ExactConfig<T>>) | Promise<T & ExactConfig<T>>,
): C extends PromiseLike<unknown> ? Promise<UserConfig> : (env: ConfigEnv) => UserConfig | Promise<UserConfig>;
// last: when no overload matches, TypeScript (tsc 7 only) reports the last one's error, and for the
// object form, the common one, that is the misspelt key itself ("'levrage' does not exist in type
// 'UserConfig'"); with the Promise overload last a typo read "'name' does not exist in type 'Promise<…>'"
export function defineConfig(config: UserConfig): UserConfig;
export function defineConfig(config: ConfigInput): ConfigInput {
  return config;
}

export interface ResolvedStrategyEntry {
  name: string;
  params: Record<string, unknown>;
  grid: Record<string, unknown[] | GridRange>;
  setups: SetupId[] | null;
  leverage: number[] | null;
}

export interface ResolvedDataset {
  /** as written, relative to the config folder unless absolute */
  path: string;
  timeframe: string | null;
  symbols: string[] | null;
  gaps: 'error' | 'warn';
}

/** The config error (78) listing a config's problems: "<where>: invalid config (N problems)" and one detail line each. */
export function invalidConfig(where: string, lines: string[]): UserError {
  return configError(`${where}: invalid config (${lines.length} problem${lines.length === 1 ? '' : 's'})`, lines);
}

/** The validated config, defaults applied, plain JSON, deeply frozen. */
export interface ResolvedConfig {
  name: string;
  data: ResolvedDataset[];
  from: number | null;
  to: number | null;
  venue: { id: string; overrides: Record<string, unknown> };
  strategies: 'all' | ResolvedStrategyEntry[];
  setups: SetupId[];
  mixedDefaultMode: 'isolated' | 'cross';
  leverage: number[];
  initialCapital: string;
  execution: ExecutionOptions;
  output: { dir: string; formats: ReportFormat[] };
  workers: number;
  /** workers was 'auto' (not set by the config or --workers): the sweep may start fewer (src/shard/run.ts poolSize) */
  workersAuto: boolean;
  timeoutMs: number;
  /** heap limit of each worker thread in MB; null ('auto'): sized from the memory the process may use (src/shard/execute.ts workerHeapLimit) */
  workerMemoryMb: number | null;
  strategyDirs: string[];
  maxEventsPerRun: number | null;
  /** the largest plan accepted (counted before it is built; exit 78 above it) */
  maxRuns: number;
  /** stress runs (src/stress/plan.ts); null: history only */
  stress: ResolvedStress | null;
}

/** Keys of ResolvedConfig that change how a run executes but never what it computes. */
export const RUNTIME_ONLY_KEYS = ['workers', 'workersAuto', 'output', 'timeoutMs', 'workerMemoryMb', 'maxRuns'] as const;

export interface ConfigOverrides {
  workers?: number;
  /** --max-runs: the config key maxRuns */
  maxRuns?: number;
  /** strategy names: keep the config's entries for these names, add default entries for others; 'all' (or '*') = the config's entries and every other strategy */
  strategies?: string[];
  from?: string | number | null;
  to?: string | number | null;
  /** `marginlab stress`: turn stress runs on (the config's block, or defaults), with these flags over it */
  stress?: { paths?: number; scenarios?: string[]; seed?: number };
}

export interface LoadedConfig {
  config: ResolvedConfig;
  /** absolute path of the config file (null when given as an object) */
  path: string | null;
  /** folder relative paths of the config are resolved against */
  baseDir: string;
  /** the command-line overrides applied (messages name the flag a value came from) */
  overrides?: ConfigOverrides;
}

/**
 * zod issues → one line each: `key.path[0]: message`; `prefix` (a key path) goes before each issue's
 * path. With the `schema` the issues came from, an unknown key names the known key nearest to it
 * (`unknown key 'levrage' (did you mean 'leverage'?)`). With `root` (the value the issues came from),
 * each message shows the value given at its path (util/issue-text.ts).
 */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = '', schema?: unknown, root?: { value: unknown }): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    if (sizeIssueCovered(issue, issues)) continue;
    if (issue.code === 'invalid_union' && 'errors' in issue && Array.isArray(issue.errors) && issue.errors.length > 0) {
      // report the branch that got furthest (most specific path), once
      const branches = issue.errors as z.core.$ZodIssue[][];
      // a union with a message of its own says it when the value matched no branch's type at all
      // ('meanrev' for strategies: not "expected "all"", which only the literal branch would say)
      // (without a message of its own, issueMessage lists what every branch takes: "expected a number or 'auto'")
      const typeOnly = branches.every((b) => b.every(typeOnlyIssue));
      if (typeOnly && issue.message !== 'Invalid input') {
        const path = formatPath(issue.path);
        const where = prefix && path && !path.startsWith('[') ? `${prefix}.${path}` : prefix + path;
        lines.push(oneLine(`${where || '(root)'}: ${issue.message}`));
        continue;
      }
      const best = branches.reduce((a, b) => (depth(b) > depth(a) ? b : a));
      if (!typeOnly && (depth(best) > 0 || branches.every((b) => b.length === 0))) {
        lines.push(...formatIssues(best.map((i) => ({ ...i, path: [...issue.path, ...i.path] })), prefix, schema, root));
        continue;
      }
    }
    const path = formatPath(issue.path);
    let msg = issueMessage(issue, root && { value: valueAt(root.value, issue.path) });
    if (issue.code === 'unrecognized_keys') {
      const known = schema === undefined ? [] : objectKeysAt(schema, issue.path);
      msg = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${k}'${didYouMean(k, known)}`).join(', ')}`;
    }
    const where = prefix && path && !path.startsWith('[') ? `${prefix}.${path}` : prefix + path;
    lines.push(oneLine(`${where || '(root)'}: ${msg}`));
  }
  return [...new Set(lines)];
}

interface SchemaDef {
  type?: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  options?: unknown[];
  element?: unknown;
  valueType?: unknown;
  left?: unknown;
  right?: unknown;
}
const defOf = (s: unknown): SchemaDef | undefined => (s as { _zod?: { def?: SchemaDef } } | undefined)?._zod?.def;

/** The keys the object schemas at `path` inside a zod schema know (every branch of a union), duck-typed on zod 4's definitions. */
export function objectKeysAt(schema: unknown, path: readonly PropertyKey[], depth = 0): string[] {
  const d = defOf(schema);
  if (!d || depth > 64) return [];
  const again = (s: unknown, p: readonly PropertyKey[] = path) => objectKeysAt(s, p, depth + 1);
  switch (d.type) {
    case 'optional': case 'nullable': case 'default': case 'prefault': case 'readonly': case 'catch': case 'nonoptional':
      return again(d.innerType);
    case 'pipe':
      return again(d.in);
    case 'union':
      return [...new Set((d.options ?? []).flatMap((o) => again(o)))];
    case 'intersection':
      return [...new Set([...again(d.left), ...again(d.right)])];
    case 'array':
      return path.length > 0 && typeof path[0] === 'number' ? again(d.element, path.slice(1)) : [];
    case 'record':
      return path.length > 0 ? again(d.valueType, path.slice(1)) : [];
    case 'object':
      if (path.length === 0) return Object.keys(d.shape ?? {});
      return typeof path[0] === 'string' && d.shape && Object.hasOwn(d.shape, path[0]) ? again(d.shape[path[0]], path.slice(1)) : [];
    default:
      return [];
  }
}

/**
 * zod's size check (`.min(1)` of a list) run on a value of another type, which zod reports beside the
 * type's issue with the origin 'unknown': a function has a `.length`, so `leverage: () => 3` said
 * "expected a list" and "too small, got a function". Only the type's issue is the value's problem.
 */
const sizeOfWrongType = (i: z.core.$ZodIssue): boolean => (i.code === 'too_small' || i.code === 'too_big') && (i as { origin?: unknown }).origin === 'unknown';

/**
 * sizeOfWrongType beside the type's own issue at the same path, which says the value's problem: left out. Alone (a
 * strategy's `z.any().check(z.minLength(2))` given `{ length: 1 }`) it is the only word on the value and is said:
 * a caller that left it out dropped the grid point without a word.
 */
export function sizeIssueCovered(i: z.core.$ZodIssue, all: readonly z.core.$ZodIssue[]): boolean {
  if (!sizeOfWrongType(i)) return false;
  const at = JSON.stringify(i.path.map(String));
  return all.some((j) => j !== i && j.code === 'invalid_type' && JSON.stringify(j.path.map(String)) === at);
}

/** an issue saying only that a value is of none of the accepted types (nested unions included), at the value itself */
function typeOnlyIssue(i: z.core.$ZodIssue): boolean {
  if (i.path.length > 0) return false;
  if (i.code === 'invalid_type' || i.code === 'invalid_value' || sizeOfWrongType(i)) return true;
  return i.code === 'invalid_union' && 'errors' in i && Array.isArray(i.errors) && (i.errors as z.core.$ZodIssue[][]).every((b) => b.every(typeOnlyIssue));
}

function depth(issues: readonly z.core.$ZodIssue[]): number {
  return issues.reduce((m, i) => Math.max(m, i.path.length + (i.code === 'invalid_type' ? 0 : 0.5)), 0);
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const k of path) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out ? `.${String(k)}` : String(k);
  }
  return out;
}

function plainClone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/**
 * A copy of a config's plain objects and lists (other values as they are), read once: a getter or a
 * proxy that throws, and a value that contains itself, are config errors naming the key (they were
 * internal errors, 70, in the validation or in a JSON copy of the params).
 */
function configData(raw: Record<string, unknown>, where: string): Record<string, unknown> {
  const key = (path: readonly (string | number)[]) => formatPath(path) || '(root)';
  const copy = (v: unknown, path: (string | number)[], open: unknown[]): unknown => {
    if (v === null || typeof v !== 'object') return v;
    let plain: boolean;
    try {
      plain = Array.isArray(v) || [Object.prototype, null].includes(Object.getPrototypeOf(v) as object | null);
    } catch (err) {
      throw configError(`${where}: reading the config at ${key(path)} failed: ${excerpt(thrownText(err), 200)}`);
    }
    if (!plain) return v;
    const at = open.indexOf(v);
    if (at >= 0) throw configError(`${where}: ${key(path)} contains itself (it is ${key(path.slice(0, at))}); a config is plain data, without cycles`);
    open.push(v);
    try {
      if (Array.isArray(v)) {
        const out: unknown[] = [];
        for (let i = 0; i < v.length; i++) out.push(copy(read(v, i, [...path, i]), [...path, i], open));
        return out;
      }
      const out: Record<string, unknown> = {};
      let keys: string[];
      try {
        keys = Object.keys(v);
      } catch (err) {
        throw configError(`${where}: reading the config at ${key(path)} failed: ${excerpt(thrownText(err), 200)}`);
      }
      for (const k of keys) out[k] = copy(read(v, k, [...path, k]), [...path, k], open);
      return out;
    } finally {
      open.pop();
    }
  };
  const read = (o: object, k: string | number, path: (string | number)[]): unknown => {
    try {
      return (o as Record<string | number, unknown>)[k];
    } catch (err) {
      throw configError(`${where}: reading the config's key ${key(path)} failed: ${excerpt(thrownText(err), 200)}`);
    }
  };
  return copy(raw, [], []) as Record<string, unknown>;
}

/** config keys a flag overrides, and the flag (from/to have their own wording, above) */
const FLAG_KEYS: readonly { key: string; flag: string; value: (ov: ConfigOverrides) => unknown }[] = [
  { key: 'workers', flag: '--workers', value: (ov) => ov.workers },
  { key: 'maxRuns', flag: '--max-runs', value: (ov) => ov.maxRuns },
  { key: 'stress.paths', flag: '--paths', value: (ov) => ov.stress?.paths },
  { key: 'stress.seed', flag: '--seed', value: (ov) => ov.stress?.seed },
  // its problems name the scenario id
  { key: 'stress.scenarios', flag: '--scenarios', value: (ov) => (ov.stress?.scenarios ? '' : undefined) },
];

/** a problem line of a key a flag set: `--workers 99999: <problem>`; null when no flag set its key */
function flagProblem(line: string, ov: ConfigOverrides): string | null {
  // already named after its flag (the --scenarios ids, above)
  if (line.startsWith('--')) return line;
  for (const { key, flag, value } of FLAG_KEYS) {
    const v = value(ov);
    if (v === undefined || !(line.startsWith(`${key}:`) || line.startsWith(`${key}[`) || line.startsWith(`${key}.`))) continue;
    return `${flag}${v === '' ? '' : ` ${String(v)}`}: ${line.slice(line.indexOf(': ') + 2)}`;
  }
  return null;
}

/** The keys a config must give, and what to write there. */
const REQUIRED_KEYS: readonly (readonly [string, string])[] = [
  ['name', "the run's name, e.g. name: 'my-sweep'"],
  ['data', "a dataset folder, e.g. data: 'data/my-set' or { path: 'data/my-set', timeframe: '1h' }"],
  ['strategies', "'all' or a list of strategy names or entries, e.g. strategies: ['sma-cross']"],
];

/**
 * Validate a user config (after evaluating a function/promise) and apply CLI overrides.
 * Throws a UserError (exit 78) listing every problem with its key path.
 */
export async function resolveConfig(input: ConfigInput, opts: { configDir: string; overrides?: ConfigOverrides; source?: string }): Promise<ResolvedConfig> {
  let raw: unknown = input;
  const where = opts.source ?? 'config';
  // `export default defineConfig;` (not called): as a function of the environment it would give the environment back
  // (config code loaded through tsx may hold its own copy of this module, so by name)
  if (typeof raw === 'function' && (raw === defineConfig || raw.name === 'defineConfig')) {
    throw configError(`${where}: the default export is defineConfig itself, not a config: call it, export default defineConfig({ name: ..., data: ..., strategies: [...] })`);
  }
  try {
    raw = await guardConfigCode(where, async () => {
      // the function under the config code's time limit (a loop that never returns), its promise under settle's
      const v = typeof raw === 'function'
        ? (await withTimeLimit(configCodeLimit(), `${where}: the config's function`, async () => ({ v: (raw as (env: ConfigEnv) => unknown)({ env: process.env, configDir: opts.configDir, ci: process.env.CI === 'true' || process.env.CI === '1' }) }))).v
        : raw;
      // its promise: settle's timer ends a wait at the limit (its own message); the guard, a second later,
      // code that never returns (a `then` that loops, an async function looping after an await), which
      // leaves no turn to that timer
      return withTimeLimit({ ...configCodeLimit(), graceMs: 1000 }, `${where}: the config's promise`, () => settle(v, where));
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw configError(`${where}: evaluating the config failed: ${excerpt(thrownText(err), 300)}`);
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw configError(`${where}: expected the default export to be a config object (use defineConfig({...})), got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`);
  }
  // reading its values runs its getters and proxies: under the limit as well
  const obj = await withTimeLimit(configCodeLimit(), `${where}: reading the config's values (its getters)`, async () => configData(raw as Record<string, unknown>, where));
  if (typeof obj.create === 'function' && typeof obj.symbols === 'function' && !('data' in obj) && !('strategies' in obj)) {
    // a strategy file given as the config (`-c strategies/mine.ts`): say so, not "unknown keys 'params', 'symbols', 'create'; data: required; ..."
    const name = typeof obj.name === 'string' ? `'${excerpt(obj.name, 60)}'` : 'it';
    throw configError(`${where} default-exports a strategy (defineStrategy), not a config: give --config a config file (export default defineConfig({...}), e.g. backtest.config.ts) that names ${name} in its strategies and the strategy's folder in strategyDirs`);
  }
  const ov = opts.overrides ?? {};
  if (ov.workers !== undefined) obj.workers = ov.workers;
  if (ov.maxRuns !== undefined) obj.maxRuns = ov.maxRuns;
  if (ov.from !== undefined) obj.from = ov.from;
  if (ov.to !== undefined) obj.to = ov.to;
  if (ov.strategies !== undefined) {
    const current = obj.strategies;
    const entries = Array.isArray(current) ? (current as unknown[]) : [];
    const nameOf = (e: unknown): string | undefined =>
      typeof e === 'string' ? e : e && typeof e === 'object' && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : undefined;
    const next: unknown[] = [];
    const every = (n: string) => n === 'all' || n === '*';
    for (const name of ov.strategies) {
      if (every(name)) {
        // every strategy: the config's entries (grids included) but those of names listed beside it, and '*' for the rest
        for (const e of entries) if (!ov.strategies.some((n) => !every(n) && n === nameOf(e)) && !next.includes(e)) next.push(e);
        if (!next.some((e) => nameOf(e) === '*')) next.push('*');
        continue;
      }
      const mine = entries.filter((e) => nameOf(e) === name);
      next.push(...(mine.length > 0 ? mine : [name]));
    }
    obj.strategies = next;
  }
  // the ids of the scenarios the config defines, when --scenarios picks among them (an unknown id is named with them:
  // resolveStress sees only those picked)
  let configScenarioIds: string[] = [];
  // --scenarios picking the config's definitions: the index each has in the flag's list → its index in the config (its
  // problems are the config's, said under its own key: ownStress, below)
  const defIndexOf = new Map<number, number>();
  // scenario ids given as a flag, each once (an id given twice runs once, a pack id or one the config defines alike)
  const flagIds = ov.stress?.scenarios === undefined ? undefined : [...new Set(ov.stress.scenarios)];
  // a stress block that is not an object ([], null, 'abc') is left as it is: the schema refuses it naming 'stress' (it ran the defaults)
  const stressBlock = obj.stress === undefined || (typeof obj.stress === 'object' && obj.stress !== null && !Array.isArray(obj.stress));
  /**
   * the config's own stress.paths, .seed and .scenarios, which a flag replaces below: checked as written (a paths: 'x'
   * passed under --paths 1, and the same file failed `marginlab run`); the config's problems, never the flag's
   */
  let ownStress: string[] = [];
  /**
   * the scenarios the config defines that --scenarios did not pick: still defined (stress.crashScenarios may draw
   * from them; "unknown scenario 'mine' … (known: …, mine)" refused the way out the --scenarios none message names)
   */
  const unpicked: Scenario[] = [];
  if (ov.stress !== undefined && stressBlock && obj.stress !== undefined) {
    const replaced = new Set([ov.stress.paths !== undefined ? 'paths' : '', ov.stress.seed !== undefined ? 'seed' : '', ov.stress.scenarios !== undefined ? 'scenarios' : '']);
    // the block alone (the rest of the config is parsed once, below)
    const own = await withTimeLimit(configCodeLimit(), `${where}: reading the config's values (its getters)`, async () => stressSchema.safeParse(obj.stress));
    if (!own.success) ownStress = formatIssues(own.error.issues.filter((i) => replaced.has(String(i.path[0]))), 'stress', stressSchema, { value: obj.stress });
    else if (ov.stress.scenarios !== undefined) {
      // the config's own scenario list, judged as without the flag (two definitions under one id, one under a pack id, an
      // unknown id): the flag replaced it before resolveStress saw it, so `--scenarios x` ran the first of two 'x' without a word
      ownStress = resolveStress(own.data).problems.filter((l) => l.startsWith('stress.scenarios['));
      const picked = new Set(ov.stress.scenarios);
      for (const d of own.data.scenarios ?? []) if (typeof d !== 'string' && !picked.has(d.id) && !PACK_IDS.includes(d.id) && !unpicked.some((u) => u.id === d.id)) unpicked.push(d);
    }
  }
  if (ov.stress !== undefined && stressBlock) {
    const block = obj.stress === undefined ? {} : { ...(obj.stress as Record<string, unknown>) };
    if (ov.stress.paths !== undefined) block.paths = ov.stress.paths;
    if (ov.stress.seed !== undefined) block.seed = ov.stress.seed;
    if (ov.stress.scenarios !== undefined) {
      // inline definitions of the config stay available by id
      const defs = Array.isArray(block.scenarios) ? (block.scenarios as unknown[]).filter((x) => x && typeof x === 'object') : [];
      configScenarioIds = defs.map((d) => (d as { id?: unknown }).id).filter((id): id is string => typeof id === 'string');
      block.scenarios = (flagIds ?? []).map((id, i) => {
        // a pack id runs the pack's scenario (a definition under it is the config's problem, said under its own key above)
        const d = PACK_IDS.includes(id) ? undefined : defs.find((x) => (x as { id?: unknown }).id === id);
        if (d === undefined) return id;
        defIndexOf.set(i, (block.scenarios as unknown[]).indexOf(d));
        return d;
      });
    }
    obj.stress = block;
  }
  // objects that are not plain data (class instances) reach the schema as they are: their getters run in its parse
  const parsed = await withTimeLimit(configCodeLimit(), `${where}: reading the config's values (its getters)`, async () => configSchema.safeParse(obj));
  let lines = parsed.success ? [] : formatIssues(parsed.error.issues, '', configSchema, { value: obj });
  // a problem inside a definition --scenarios picked is the config's (its stress.scenarios[j]), not the flag's: it read
  // "--scenarios: <problem>" without the key, beside the same line of the config's own block (ownStress: "2 problems")
  if (defIndexOf.size > 0) {
    lines = lines.filter((l) => {
      const m = /^stress\.scenarios\[(\d+)\]([.[:])/.exec(l);
      const j = m ? defIndexOf.get(Number(m[1])) : undefined;
      if (m === null || j === undefined) return true;
      const own = `stress.scenarios[${j}]${m[2]}${l.slice(m[0].length)}`;
      if (!ownStress.includes(own)) ownStress.push(own);
      return false;
    });
  }
  // a window bound given as a flag: the problem names the flag, not only the config's key
  if (ov.from !== undefined || ov.to !== undefined) {
    const side = (k: 'from' | 'to') => (ov[k] !== undefined ? `--${k} ${String(ov[k])}` : `the config's '${k}' (${String(obj[k])})`);
    lines = lines.map((l) => (l === "to: 'to' must be after 'from'" ? `to: ${side('to')} must be after ${side('from')}` : l));
  }
  // a required key that is absent: say so, instead of what its schema's union reports for undefined
  for (const [key, hint] of REQUIRED_KEYS) {
    if (obj[key] !== undefined || !lines.some((l) => l.startsWith(`${key}:`))) continue;
    lines = [...lines.filter((l) => !l.startsWith(`${key}:`)), `${key}: required: ${hint}`];
  }
  // the venue (id and overrides) is checked by building it, when its shape passed the schema
  if (parsed.success || !parsed.error.issues.some((i) => i.path[0] === 'venue')) {
    const v = obj.venue === undefined ? { id: 'binance-usdm' } : typeof obj.venue === 'string' ? { id: obj.venue } : (obj.venue as { id: string; overrides?: Record<string, unknown> });
    const problem = venueProblem(v.id, v.overrides ?? {}, typeof obj.venue === 'string' ? 'venue' : 'venue.id');
    if (problem) lines.push(problem);
  }
  // a dataset listed twice ('./data' and 'data/'): its runs were one set, while the reports listed the dataset twice
  // (a link to the folder is the folder); and two folders of one name at one timeframe: runs and reports know a dataset
  // by its folder's name, so a/syn and b/syn were one dataset there, and the report showed one's runs, dropping the other's
  if (parsed.success && Array.isArray(parsed.data.data)) {
    const seen = new Map<string, number>();
    const named = new Map<string, number[]>();
    const entries = parsed.data.data as { path: string; timeframe?: string; symbols?: string[] }[];
    const folders = entries.map((o) => realPathOf(resolve(opts.configDir, o.path)));
    entries.forEach((o, i) => {
      const folder = folders[i]!;
      const tf = o.timeframe === undefined ? null : timeframeMsOrNaN(o.timeframe);
      const key = JSON.stringify([folder, tf, o.symbols ? [...new Set(o.symbols)].sort() : null]);
      const first = seen.get(key);
      if (first !== undefined) {
        lines.push(`data[${i}]: the same dataset as data[${first}] (folder ${JSON.stringify(o.path)}, timeframe and symbols); list it once`);
        return;
      }
      seen.set(key, i);
      const name = basename(resolve(opts.configDir, o.path));
      const nameKey = JSON.stringify([name, tf]);
      const before = named.get(nameKey) ?? [];
      named.set(nameKey, [...before, i]);
      for (const j of before) {
        const prev = entries[j]!;
        if (folders[j] !== folder) {
          lines.push(`data[${i}]: folder ${JSON.stringify(o.path)} has the same name as data[${j}]'s ${JSON.stringify(prev.path)} ('${name}'${tf === null ? '' : ` at ${o.timeframe}`}): runs and reports know a dataset by its folder's name, so they would be one; rename one of the folders`);
          return;
        }
        // the same folder and timeframe with symbols in common: a run of a symbol both lists hold would be one run twice
        const shared = o.symbols === undefined || prev.symbols === undefined || o.symbols.some((x) => prev.symbols!.includes(x));
        if (shared) {
          lines.push(`data[${i}]: the same dataset folder and timeframe as data[${j}], with symbols in common: runs and reports know a dataset by its folder's name and timeframe, so their runs would be one; list it once with the symbols of both, or give each entry symbols of its own`);
          return;
        }
      }
    });
  }
  let stress: ResolvedStress | null = null;
  if (parsed.success && parsed.data.stress) {
    const r = resolveStress(parsed.data.stress, configScenarioIds, unpicked);
    // ids given with --scenarios: the problem names the flag, not a key the config may not have
    const named = (l: string): string =>
      l === CRASHES_WITHOUT_SCENARIOS && flagIds?.length === 0
        ? `stress.crashesPerPath: ${parsed.data.stress!.crashesPerPath} crash(es) per path need scenarios to draw from, and --scenarios none leaves stress.scenarios empty: list them in stress.crashScenarios, or drop --scenarios none`
        : flagIds === undefined
          ? l
          : l.replace(/^stress\.scenarios\[(\d+)\]: /, (_, i: string) => `--scenarios ${flagIds[Number(i)] ?? ''}: `);
    lines.push(...r.problems.map(named));
    stress = r.stress;
  } else if (!parsed.success && flagIds !== undefined) {
    // the config did not parse: the ids given with --scenarios are judged all the same, so their line comes beside the
    // file's (else the flag's typo showed only on the next try)
    const known = [...new Set([...PACK_IDS, ...configScenarioIds])];
    for (const id of flagIds) if (!known.includes(id)) lines.push(`--scenarios ${id}: ${unknownScenarioText(id, known)}`);
  }
  if (!parsed.success || lines.length > 0 || ownStress.length > 0) {
    // a value a flag put there (--workers 99999, --paths 2000000, --scenarios typo) is the flag's problem: named as the flag,
    // and a usage error (64) when every problem is a flag's
    const flagged = lines.map((l) => flagProblem(l, ov));
    if (ownStress.length === 0 && flagged.every((l) => l !== null)) {
      throw usageError(flagged.length === 1 ? flagged[0]! : `invalid command-line values (${flagged.length} problems)`, flagged.length === 1 ? [] : flagged as string[]);
    }
    lines = [...lines.map((l, i) => flagged[i] ?? l), ...ownStress];
    throw invalidConfig(where, lines);
  }
  const c = parsed.data;
  const resolved: ResolvedConfig = {
    name: c.name,
    data: (Array.isArray(c.data) ? c.data : [c.data]).map((d) => {
      const o = d as { path: string; timeframe?: string; symbols?: string[]; gaps: 'error' | 'warn' };
      return { path: o.path, timeframe: o.timeframe ?? null, symbols: o.symbols ? [...o.symbols] : null, gaps: o.gaps };
    }),
    from: c.from,
    to: c.to,
    venue: { id: c.venue.id, overrides: plainClone(c.venue.overrides) },
    strategies:
      c.strategies === 'all'
        ? 'all'
        : c.strategies.map((s) => {
            const o = s as { name: string; params: Record<string, unknown>; grid: Record<string, unknown[] | GridRange>; setups?: SetupId[]; leverage?: number[] };
            return { name: o.name, params: plainClone(o.params), grid: plainClone(o.grid), setups: o.setups ?? null, leverage: o.leverage ?? null };
          }),
    setups: [...new Set(c.setups)],
    mixedDefaultMode: c.mixedDefaultMode,
    leverage: Array.isArray(c.leverage) ? [...c.leverage] : [c.leverage],
    initialCapital: new Decimal(c.initialCapital).toFixed(),
    execution: { ...c.execution },
    output: { dir: c.output.dir ?? `reports/${c.name}`, formats: [...new Set(c.output.formats)] },
    workers: c.workers === 'auto' ? availableParallelism() : c.workers,
    workersAuto: c.workers === 'auto',
    timeoutMs: c.timeoutMs,
    workerMemoryMb: c.workerMemoryMb === 'auto' ? null : c.workerMemoryMb,
    strategyDirs: [...c.strategyDirs],
    maxEventsPerRun: c.maxEventsPerRun,
    maxRuns: c.maxRuns,
    stress: stress ? plainClone(stress) : null,
  };
  return deepFreeze(resolved);
}

/**
 * Build the venue of a config (`getVenue(id, overrides)`); a problem comes back as one line with
 * the config key path (`venue.id: ...`, `venue.overrides.fees.taker: ...`), null when it builds.
 */
export function venueProblem(id: string, overrides: Record<string, unknown>, idKey = 'venue.id'): string | null {
  try {
    getVenue(id, overrides as VenueOverrides);
    return null;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (!(err instanceof UserError)) return `venue.overrides: ${msg}`;
    if (/^unknown venue /.test(msg)) return `${idKey}: ${msg}`;
    // venue messages read "venue override <key>: <problem>" or "venue override: <problem>"
    // ("venue override tiers.BTCUSDT tier 2: ..." keeps its " tier 2")
    const m = /^venue override(?: ([^\s:]+)([^:]*))?:\s*(.*)$/s.exec(msg);
    if (m) return `venue.overrides${m[1] ? `.${m[1]}${m[2] ?? ''}` : ''}: ${m[3]}`;
    return `venue.overrides: ${msg}`;
  }
}

/** The venue profile of a resolved config. */
export function configVenue(config: Pick<ResolvedConfig, 'venue'>): BuiltVenueProfile {
  return getVenue(config.venue.id, config.venue.overrides as VenueOverrides);
}

export interface DatasetLimitsInput {
  /** dataset name (for messages) */
  name: string;
  /** bar length, ms */
  timeframeMs: number;
  timeframe: string;
}

/** One planned run as the leverage check sees it. */
export interface LeverageUse {
  strategy: string;
  leverage: number;
  /** the symbols the run trades */
  symbols: readonly string[];
  /** dataset name (for messages) */
  dataset: string;
  /** open time of the replay's first bar, ms UTC: the tier tables in force then apply to the whole run */
  startMs: number;
}

/**
 * Every leverage key of a config with its value and which strategy names take their leverage from
 * it (`leverage[i]`: entries without their own list, or every strategy under 'all';
 * `strategies[j].leverage[i]`: entry j, whose name '*' stands for every strategy the list does not name).
 */
export function leverageKeys(config: Pick<ResolvedConfig, 'leverage' | 'strategies'>): { key: string; leverage: number; uses: (strategy: string) => boolean }[] {
  const out: { key: string; leverage: number; uses: (strategy: string) => boolean }[] = [];
  const entries = config.strategies === 'all' ? null : config.strategies;
  const named = new Set((entries ?? []).filter((e) => e.name !== '*').map((e) => e.name));
  const matches = (e: ResolvedStrategyEntry, name: string) => (e.name === '*' ? !named.has(name) : e.name === name);
  const topUses = (name: string) => entries === null || entries.some((e) => e.leverage === null && matches(e, name));
  config.leverage.forEach((l, i) => out.push({ key: `leverage[${i}]`, leverage: l, uses: topUses }));
  entries?.forEach((e, j) => e.leverage?.forEach((l, i) => out.push({ key: `strategies[${j}].leverage[${i}]`, leverage: l, uses: (name) => matches(e, name) })));
  return out;
}

const isoDay = (ms: number): string => (Number.isFinite(ms) ? new Date(ms).toISOString().replace('T00:00:00.000Z', '').replace('.000Z', 'Z') : String(ms));

/**
 * Reject (exit 78) a leverage above the highest maximum leverage the venue allows (its first tier)
 * for a symbol a planned run with that leverage trades, in the tier table in force at the run's
 * first bar. One line per leverage key, naming the symbol with the lowest limit it exceeds, the
 * limit and the venue.
 */
export function checkLeverageLimits(config: Pick<ResolvedConfig, 'leverage' | 'strategies' | 'venue'>, runs: readonly LeverageUse[], source = 'config'): void {
  const venue = configVenue(config);
  const maxCache = new Map<string, number>();
  const maxOf = (symbol: string, asOf: number): number => {
    const k = `${symbol}@${asOf}`;
    let m = maxCache.get(k);
    if (m === undefined) {
      m = venue.tiers(symbol, asOf).reduce((a, t) => Math.max(a, t.maxLeverage), 0);
      maxCache.set(k, m);
    }
    return m;
  };
  const lines: string[] = [];
  for (const { key, leverage, uses } of leverageKeys(config)) {
    const over = new Map<string, { symbol: string; max: number; dataset: string; asOf: number }>();
    for (const r of runs) {
      if (r.leverage !== leverage || !Number.isFinite(r.startMs) || !uses(r.strategy)) continue;
      for (const symbol of r.symbols) {
        const max = maxOf(symbol, r.startMs);
        const prev = over.get(symbol);
        if (max > 0 && leverage > max && (!prev || max < prev.max)) over.set(symbol, { symbol, max, dataset: r.dataset, asOf: r.startMs });
      }
    }
    if (over.size === 0) continue;
    const sorted = [...over.values()].sort((a, b) => a.max - b.max || (a.symbol < b.symbol ? -1 : 1));
    const first = sorted[0]!;
    const more = sorted.slice(1).map((l) => `${l.symbol} (${l.max}x)`);
    lines.push(
      `${key}: ${leverage}x is above the maximum leverage ${venue.id} allows for ${first.symbol}: ${first.max}x ` +
        `(tier 1 of the table in force at ${isoDay(first.asOf)}, the first bar of ${first.dataset})` +
        (more.length > 0 ? `; also above ${more.slice(0, 5).join(', ')}${more.length > 5 ? ` and ${more.length - 5} more` : ''}` : ''),
    );
  }
  if (lines.length > 0) throw invalidConfig(source, lines);
}

/**
 * Warnings about how the venue's rules meet the data (printed by `marginlab run`, kept in
 * manifest.warnings): bars longer than the funding interval settle the funding events between two
 * bar opens at the next open, to whoever holds a position then.
 */
export function fundingIntervalWarnings(config: Pick<ResolvedConfig, 'venue'>, datasets: readonly (DatasetLimitsInput & { fundingStepMs?: number })[]): string[] {
  const venue = configVenue(config);
  const venueMs = venue.funding.intervalHours * 3_600_000;
  const hours = (ms: number) => `${Number((ms / 3_600_000).toFixed(4))}h`;
  const tail = 'funding events between two bar opens settle at the next open, to the positions held then (marginlab\'s docs/config.md, "Known semantics")';
  // the data's own interval where its funding has one (4h bars of hourly funding under binance-usdm's 8h were not
  // warned about; 4h bars of 8h funding under hyperliquid's 1h were), else the venue's
  return datasets.flatMap((d) => {
    const own = d.fundingStepMs !== undefined && d.fundingStepMs > 0;
    const intervalMs = own ? d.fundingStepMs! : venueMs;
    if (!(d.timeframeMs > intervalMs)) return [];
    return [`dataset ${d.name}: ${d.timeframe} bars are longer than ${own ? `its funding's ${hours(intervalMs)} interval` : `${venue.id}'s ${hours(intervalMs)} funding interval`}; ${tail}`];
  });
}

/**
 * Datasets whose manifest names another built-in venue than the config's (OKX data imported, the
 * config left at its default binance-usdm): the runs would replay them under the config venue's
 * fees, funding, tiers and liquidation rules without a word.
 */
export function venueMismatchWarnings(config: Pick<ResolvedConfig, 'venue'>, datasets: readonly { name: string; venue: string }[]): string[] {
  // judged by the built-in venue whose rules run (venue.id), not the name an override gives them: binance-usdm data under
  // overrides { id: 'binance-vip' } read "replayed under binance-vip's rules: set venue: 'binance-usdm'", as the config does
  const rules = config.venue.id;
  const venue = configVenue(config);
  return datasets
    .filter((d) => d.venue !== rules && d.venue !== venue.id && venueIds().includes(d.venue))
    .map((d) => `dataset ${d.name} holds ${d.venue} data (its manifest's venue), replayed under ${venue.id}'s fees, funding, maintenance tiers and liquidation rules (the config's venue): set venue: '${d.venue}' in the config if that venue is meant`);
}

/**
 * Symbols the runs trade that the venue has no tier table for while it has one for the same asset under the venue's own
 * name (BTCUSDT imported as BTC-PERP): their maintenance margin and maximum leverage come from the venue's default
 * brackets, the 1 % / 75x small-cap table of binance-usdm for bitcoin, with no word in the run or its reports.
 */
export function defaultTierWarnings(config: Pick<ResolvedConfig, 'venue'>, runs: readonly { symbols: readonly string[]; dataset: string; startMs: number }[]): string[] {
  const venue = configVenue(config);
  const byDataset = new Map<string, { asOf: number; symbols: Set<string> }>();
  for (const r of runs) {
    if (!Number.isFinite(r.startMs)) continue;
    const d = byDataset.get(r.dataset) ?? { asOf: r.startMs, symbols: new Set<string>() };
    for (const s of r.symbols) d.symbols.add(s);
    byDataset.set(r.dataset, d);
  }
  const out: string[] = [];
  for (const [dataset, { asOf, symbols }] of byDataset) {
    // the default brackets are one table object: a symbol the lookup found none for gets that very object
    const fallback = venue.tiers('__default__', asOf);
    for (const s of [...symbols].sort()) {
      if (venue.tiers(s, asOf) !== fallback) continue;
      const base = s.toUpperCase().split(/[-_/:.]/)[0]!.replace(/(USDT|USDC|BUSD|USD|PERP)$/, '');
      const named = `${base}USDT`;
      if (base === '' || named === s || venue.tiers(named, asOf) === fallback) continue;
      const label = (venue.tierSource?.('__default__', asOf) ?? 'the venue default table').replace(/ for \S+$/, '');
      out.push(`dataset ${dataset}: ${venue.id} has no tier table for ${s}, and has one for ${named}: ${s} is margined with the venue's default brackets (${label}), not ${named}'s; name the symbol as the venue does (import it with --symbol ${named}), or give it its own table (venue.overrides.tiers)`);
    }
  }
  return out;
}

/**
 * Symbols of venue.overrides.tiers and .lotSizes that no dataset of the config holds: their tables are not used. A key
 * close to a symbol the data holds (BTCUSDTT) is a typo that ran the venue's own table in silence: a problem (exit 78);
 * another (a shared override block naming more markets than this config's data) is a warning.
 */
export function overrideSymbolProblems(config: Pick<ResolvedConfig, 'venue'>, datasets: readonly { name: string; symbols: readonly string[] }[]): { problems: string[]; warnings: string[] } {
  const venue = configVenue(config);
  const held = [...new Set(datasets.flatMap((d) => d.symbols))].sort();
  const problems: string[] = [];
  const warnings: string[] = [];
  const sections = [
    { key: 'tiers', what: 'table', source: (s: string) => venue.tierSource(s, 0) },
    { key: 'lotSizes', what: 'lot size', source: (s: string) => venue.lotSize(s).source },
  ] as const;
  for (const { key, what, source } of sections) {
    const section = config.venue.overrides[key];
    if (section === null || typeof section !== 'object') continue;
    for (const sym of Object.keys(section)) {
      if (sym === '*') continue;
      // the lookup's label names the override's symbol as the venue normalises it: equal labels, the same override
      const label = source(sym);
      if (held.some((s) => source(s) === label)) continue;
      const where = `venue.overrides.${key}.${sym}`;
      const near = didYouMean(sym, held);
      const holds = `${datasets.length === 1 ? `dataset ${datasets[0]!.name} holds` : 'the datasets hold'} ${held.slice(0, 8).join(', ')}${held.length > 8 ? ', …' : ''}`;
      if (near !== '') problems.push(`${where}: no dataset of the config holds ${sym}${near}; ${holds}: name the symbol as the data does, or its ${what} is not used`);
      else warnings.push(`${where}: no dataset of the config holds ${sym} (${holds}): its ${what} is not used`);
    }
  }
  return { problems, warnings };
}

/** How long a config's code may run and its promise take to settle (ms; MARGINLAB_CONFIG_TIMEOUT_MS overrides it). */
export const CONFIG_SETTLE_MS = 30_000;
const settleMs = (): number => {
  const v = Number(process.env.MARGINLAB_CONFIG_TIMEOUT_MS);
  return Number.isFinite(v) && v > 0 ? v : CONFIG_SETTLE_MS;
};

/** The time limit of a config's code (its top-level code, its function) on the CLI's main thread (src/util/time-limit.ts). */
const configCodeLimit = (): TimeLimit => ({ ms: settleMs(), key: 'MARGINLAB_CONFIG_TIMEOUT_MS' });

/**
 * Wait for a config's value (a promise or not). A promise that can never settle (nothing left in
 * the event loop for it to wait on) or that takes longer than CONFIG_SETTLE_MS is a config error.
 */
function settle(v: unknown, where: string): Promise<unknown> {
  if (!isThenable(v)) return Promise.resolve(v);
  return new Promise((resolvePromise, reject) => {
    const done = () => {
      process.off('beforeExit', never);
      clearTimeout(timer);
    };
    const never = () => {
      done();
      reject(configError(`${where}: the config's promise never settles (nothing is left for it to wait on); its default export must be, or resolve to, a config object`));
    };
    // a ref'd timer: it keeps the process alive while a promise that waits on nothing never settles
    const ms = settleMs();
    const timer = setTimeout(() => {
      done();
      reject(configError(`${where}: the config's promise did not settle within ${ms / 1000} s; its default export must be, or resolve to, a config object`));
    }, ms);
    process.on('beforeExit', never);
    (v as PromiseLike<unknown>).then(
      (x) => {
        done();
        resolvePromise(x);
      },
      (err: unknown) => {
        done();
        if (err instanceof UserError) return reject(err);
        reject(configError(`${where}: the config's promise was rejected: ${excerpt(thrownText(err), 300)}`));
      },
    );
  });
}

/** configs being guarded (or just done): the one no-op 'rejectionHandled' listener stays while any is */
let guardedConfigs = 0;
const onRejectionHandled = (): undefined => undefined;
/** the guarded configs' rejection handlers, fed by one 'unhandledRejection' listener */
const rejectionSinks = new Set<(reason: unknown) => void>();
const onUnhandledRejection = (reason: unknown): void => {
  if (isImportFault(reason)) return;
  for (const sink of rejectionSinks) sink(reason);
};

/**
 * Run config code (its import, its function, its promise) so that what it does wrong becomes a
 * config error (78) naming the file: process.exit() is refused instead of ending marginlab, a
 * promise it rejects without handling is reported instead of crashing, and shared built-ins it
 * changes (Array.prototype.map, Math.random: it or any module its import evaluates, a strategy
 * among them, which then loads already evaluated, past the registry's own check) are put back and
 * refused, naming the file whose function replaced them when the inspector can tell.
 */
async function guardConfigCode<T>(where: string, fn: () => Promise<T>): Promise<T> {
  // (isolation.js imported statically: an await here left a turn between the import's guard and the
  // function's, in which the rejected default export of a CommonJS config was unhandled: a crash)
  const realm = new RealmGuard();
  try {
    return await guardedConfigCode(where, fn);
  } finally {
    const replaced: unknown[] = [];
    const changed = realm.restore(replaced);
    if (changed.length > 0) {
      const file = await definedIn(replaced);
      const who = file === null ? 'the config (its code or a module it imports)' : shownPath(file) === where ? 'the config' : shownPath(file);
      const message = `${where}: while the config's code ran, ${tamperMessage(changed, who)}`;
      // a strategy among them is refused by the registry too: evaluated already, it changes nothing when it loads there
      if (file !== null) tampered.set(file, message);
      // replaces the code's outcome (its value or its error): it came about with the built-ins changed
      throw configError(message);
    }
  }
}

async function guardedConfigCode<T>(where: string, fn: () => Promise<T>): Promise<T> {
  const exit = process.exit;
  let rejected: unknown = undefined;
  let sawRejection = false;
  const onRejection = (reason: unknown) => {
    sawRejection = true;
    rejected = reason;
  };
  process.exit = ((code?: number | string | null) => {
    throw configError(`${where}: the config called process.exit(${code ?? ''}); a config must export a config object (defineConfig({...})), not end the process`);
  }) as typeof process.exit;
  // one listener of each however many configs are loaded at once (a listener each made Node warn of
  // a leak past ten configs loaded at once, as a program resolving many configs does)
  if (rejectionSinks.size === 0) process.on('unhandledRejection', onUnhandledRejection);
  rejectionSinks.add(onRejection);
  // the CLI's guard of user code (src/util/user-faults.ts) leaves them to this one meanwhile
  const collected = collectRejections();
  if (guardedConfigs++ === 0) process.on('rejectionHandled', onRejectionHandled);
  try {
    const v = await fn();
    if (sawRejection) throw configError(`${where}: the config left a rejected promise unhandled: ${excerpt(rejected instanceof Error ? rejected.message : String(rejected), 300)}`);
    return v;
  } finally {
    process.exit = exit;
    collected();
    rejectionSinks.delete(onRejection);
    if (rejectionSinks.size === 0) process.off('unhandledRejection', onUnhandledRejection);
    // a rejection handled later (the config's own default export, awaited below) must not warn
    setImmediate(() => {
      if (--guardedConfigs === 0) process.off('rejectionHandled', onRejectionHandled);
    }).unref();
  }
}

/** Import a config file (TypeScript via tsx, or JS/MJS) and return its default export. */
export async function importConfigFile(path: string, shownAs: string = path): Promise<ConfigInput> {
  return (await importConfigBox(path, shownAs)).input;
}

const CONFIG_EXTENSIONS = ['.ts', '.mts', '.cts', '.js', '.mjs', '.cjs'];
const isFile = (p: string): boolean => existsSync(p) && statSync(p).isFile();

/**
 * What to do about a config file that is not there: the same file in a folder above (marginlab run
 * from a subfolder of the project), the same name with another extension (a JavaScript project's
 * backtest.config.js), else how to make one.
 */
function missingConfigHint(abs: string): string {
  return nearbyConfig(abs) ?? `\`npx marginlab init\` writes one, or pass --config <file>`;
}

/**
 * Where the config a missing `abs` may have meant is: the same name in a folder above (a command run
 * from a project's subfolder), or the same stem with another extension; what to do about it, or null.
 */
export function nearbyConfig(abs: string): string | null {
  const name = basename(abs);
  for (let dir = dirname(dirname(abs)); ; dir = dirname(dir)) {
    const above = join(dir, name);
    if (isFile(above)) return `found ${shellPath(above)}: run from ${shellPath(dir)}, or pass --config ${shellPath(above)}`;
    if (dirname(dir) === dir) break;
  }
  const stem = CONFIG_EXTENSIONS.reduce((n, ext) => (n.endsWith(ext) ? n.slice(0, -ext.length) : n), name);
  const other = CONFIG_EXTENSIONS.map((ext) => join(dirname(abs), stem + ext)).find((p) => p !== abs && isFile(p));
  if (other) return `found ${shellPath(other)}: pass --config ${shellPath(other)}`;
  return null;
}

/**
 * A .cts config, or one whose local imports (followed from file to file) name a .cts file (`./x.cts`,
 * or `./x.cjs` as TypeScript spells it): tsx hands Node such a file as CommonJS source, whose
 * require() of an ES module (marginlab) Node 20 fails ("request for './config/index.js' is not in
 * cache", or a crash with a stack trace); through tsImport it loads.
 */
function importsCts(abs: string, seen: Set<string> = new Set()): boolean {
  if (/\.cts$/i.test(abs)) return true;
  if (seen.has(abs)) return false;
  seen.add(abs);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch {
    return false;
  }
  if (/\.c[jt]s['"`]/.test(text)) return true;
  for (const [, spec] of text.matchAll(/['"`](\.\.?\/[^'"`\n]+)['"`]/g)) {
    const base = resolve(dirname(abs), spec!);
    const file = [base, base.replace(/js$/, 'ts'), `${base}.ts`, `${base}.mts`, join(base, 'index.ts')].find((f) => /\.[mc]?[jt]s$/.test(f) && isFile(f));
    if (file !== undefined && importsCts(file, seen)) return true;
  }
  return false;
}

/** importConfigFile's work; the default export comes boxed, so a promise is not adopted (awaited) on the way out */
async function importConfigBox(path: string, shownAs: string = path): Promise<{ input: ConfigInput }> {
  const abs = resolve(path);
  path = shownAs;
  if (!existsSync(abs)) throw missingInput(`config file not found: ${path} (${missingConfigHint(abs)})`);
  if (statSync(abs).isDirectory()) {
    const inside = join(abs, 'backtest.config.ts');
    throw missingInput(`config file ${path} is a folder, not a file; give the config file${existsSync(inside) ? ` (-c ${shellArg(join(path, 'backtest.config.ts'))})` : ''}`);
  }
  // an unreadable config is a missing input (66, naming it), not code that failed to load
  withFsErrors({ path, action: 'read the config file', role: 'input' }, () => accessSync(abs, fsConstants.R_OK));
  // a JSON config is data: parsed as it is (tsx would import it as a module whose keys are named exports)
  if (extname(abs).toLowerCase() === '.json') {
    const text = withFsErrors({ path, action: 'read the config file', role: 'input' }, () => readFileSync(abs, 'utf8')).replace(/^\uFEFF/, '');
    let input: ConfigInput;
    try {
      input = JSON.parse(text) as ConfigInput;
    } catch (err) {
      // the place as file:line:column, as a syntax error of a .ts config says it
      const f = jsonFault(text, err);
      throw configError(`${path}: not valid JSON${f.line === null ? '' : ` at ${path}:${f.line}:${f.column}`}: ${f.message}`);
    }
    // JSON.parse keeps the last of a key written twice: the first (a grid, a leverage list) would be dropped in silence
    const dup = jsonDuplicateKey(text);
    if (dup) throw configError(`${path}: '${dup.key}' is written twice in ${dup.path} (at ${path}:${dup.line}:${dup.column}); JSON keeps only the last: keep one`);
    // '__proto__' is no config key: copied into the resolved config, its keys would be read as defaults
    const proto = protoKeyPath(input);
    if (proto !== null) throw configError(`${path}: '${proto}' is no config key (JavaScript reads it as the object's prototype); write its keys in the object itself`);
    return { input };
  }
  let mod: Record<string, unknown>;
  // the CLI registers tsx when user code first loads: here, before the config code's guard (tsx's
  // own set-up is marginlab's doing, not the config's). With tsx in place the config is imported
  // as any module; elsewhere (a script of the user's, the tests) through tsImport, which loads it
  // and everything it imports — marginlab included — once more, as modules of their own: 1.2 s
  // of a 5 s `run` in a fresh project, against 0.03–0.1 s (0.5 s under "type": "commonjs")
  const withLoaders = await (await import('../util/register-loaders.mjs')).userCodeLoaders();
  try {
    const tsImport = withLoaders && !importsCts(abs) ? null : (await import('tsx/esm/api')).tsImport;
    // a fault of its code no stack names (a stream's 'error' event) is said to come from the code that ran (src/util/user-faults.ts)
    noteUserCode(abs, 'the config');
    mod = await guardConfigCode(path, async () => {
      // its top-level code under a time limit: a loop that never ends, or a top-level await that waits for ever
      return withTimeLimit(configCodeLimit(), `${path}: the config file's top-level code`, async () => {
        const url = pathToFileURL(abs).href;
        const m = (await importUserModule(url, tsImport)) as Record<string, unknown>;
        nowRunning(`${path}: reading the config's default export`);
        // a default export that is a rejected promise: handled here (it is awaited, and reported, by resolveConfig);
        // its `then` (a getter, a proxy, a method of a thenable: the config's code) under the limit as well
        const d = m.default as { then?: unknown } | undefined;
        if (d && typeof d.then === 'function') (d as PromiseLike<unknown>).then(undefined, () => undefined);
        return m;
      });
    });
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw configError(`${path}: could not load the config: ${loadErrorMessage(err)}`);
  }
  // a default export that loops when read (a proxy, a getter): under the limit
  const { def, empty } = await withTimeLimit(configCodeLimit(), `${path}: reading the config's default export`, async () => {
    try {
      const d = moduleDefault(mod);
      // a file with no export at all, compiled as CommonJS ("type": "commonjs" or no type), comes back as an empty exports object
      return { def: d, empty: d !== null && typeof d === 'object' && Object.getPrototypeOf(d) === Object.prototype && Reflect.ownKeys(d).length === 0 };
    } catch (err) {
      // a default export that throws when read (a proxy, a getter): the config's code, not marginlab's
      throw configError(`${path}: reading the config's default export failed: ${excerpt(thrownText(err), 300)}`);
    }
  });
  if (def === undefined) throw configError(`${path}: no default export (write \`export default defineConfig({...})\`)`);
  if (empty) throw configError(`${path}: no default export, or an empty object as the default export (write \`export default defineConfig({...})\`)`);
  return { input: def as ConfigInput };
}

/** Load, validate and resolve a config file. */
export async function loadConfig(path: string, overrides: ConfigOverrides = {}): Promise<LoadedConfig> {
  const abs = resolve(path);
  // named as every later message names it (shard/run.ts configNameOf): relative to the working folder
  // when inside it, else absolute (`../p/c.ts` was named so here and by its absolute path at plan time)
  const shown = shownPath(abs);
  const { input } = await importConfigBox(abs, shown);
  const baseDir = dirname(abs);
  const config = await resolveConfig(input, { configDir: baseDir, overrides, source: shown });
  return { config, path: abs, baseDir, overrides };
}

/** Resolve a path of the config against its folder. */
export function configPath(loaded: Pick<LoadedConfig, 'baseDir'>, p: string): string {
  return isAbsolute(p) ? p : resolve(loaded.baseDir, p);
}

/** The part of a config that decides what runs compute (merge compares it across shards). */
export function planRelevantConfig(config: ResolvedConfig): Record<string, unknown> {
  const out: Record<string, unknown> = { ...config };
  for (const k of RUNTIME_ONLY_KEYS) delete out[k];
  return out;
}
