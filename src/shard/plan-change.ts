/**
 * What differs between the plan a run folder holds and the plan of this command, said so that
 * the user knows which command resumes the folder: `--resume` refuses another plan (exit 64), and
 * the commonest cause is a folder written by `marginlab stress` (or with other `--paths`,
 * `--seed`, `--scenarios`) resumed with `marginlab run` or with other flags.
 */
import { planRelevantConfig, type ResolvedConfig } from '../config/index.js';
import { resolve } from 'node:path';
import { cliCommand, shellArg, shellPath } from '../util/shell.js';
import { canonicalJson } from './hash.js';
import type { RunCommand } from './types.js';

type Shard = { index: number; count: number } | null;

interface StressLike {
  paths?: unknown;
  seed?: unknown;
  scenarios?: unknown;
  crashScenarios?: unknown;
}

const asRecord = (x: unknown): Record<string, unknown> | null => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null);

function scenarioIds(s: StressLike): string {
  if (!Array.isArray(s.scenarios)) return '?';
  const ids = s.scenarios.map((x) => (typeof x === 'string' ? x : String(asRecord(x)?.id ?? '?')));
  return ids.length === 0 ? 'none' : ids.join(',');
}

/** [id, canonical definition] of each scenario of a list (stress.scenarios, stress.crashScenarios). */
function scenarioDefs(list: unknown): [string, string][] {
  return Array.isArray(list) ? list.map((x): [string, string] => [typeof x === 'string' ? x : String(asRecord(x)?.id ?? '?'), canonicalJson(x)]) : [];
}

/** A dataset as a run folder's manifest records it: its name and the content hashes of its files. */
export interface DatasetIdentity {
  name: string;
  hashes: Record<string, string>;
}

/** What a plan is made of beside its config and shard (a manifest's `datasets`, `engineVersion`, `plan.strategies`, `plan.strategyHashes`). */
export interface PlanInputs {
  datasets: readonly DatasetIdentity[];
  engineVersion: string;
  /** the strategies the plan runs (a manifest's plan.strategies): `strategies: 'all'` finds what strategyDirs hold */
  strategies?: readonly string[] | undefined;
  strategyHashes?: Record<string, string> | undefined;
}

/**
 * How the strategies two plans run differ, as a clause (`strategy 'foo' only in a2; strategies 'bar', 'baz' only in a1`), or null
 * when both run the same ones (or one of them did not record its list). A folder's strategy folders are compared by
 * their strategies' code (comparablePlanConfig): a strategy added to or removed from them is said here.
 */
export function strategySetChange(a: { name: string; strategies?: readonly string[] | undefined }, b: { name: string; strategies?: readonly string[] | undefined }): string | null {
  if (!a.strategies || !b.strategies) return null;
  const only = (x: readonly string[], y: readonly string[]) => x.filter((n) => !y.includes(n)).sort();
  const named = (ns: string[]) => `${ns.length === 1 ? 'strategy' : 'strategies'} ${ns.map((n) => `'${n}'`).join(', ')}`;
  const parts = [[only(a.strategies, b.strategies), a.name], [only(b.strategies, a.strategies), b.name]] as const;
  const said = parts.filter(([ns]) => ns.length > 0).map(([ns, where]) => `${named(ns)} only in ${where}`);
  return said.length > 0 ? said.join('; ') : null;
}

/** Whether two lists of datasets hold the same data (names and file contents; their paths and order do not count). */
export function sameDatasets(a: readonly DatasetIdentity[], b: readonly DatasetIdentity[]): boolean {
  const key = (ds: readonly DatasetIdentity[]) => canonicalJson(asSet(ds.map((d) => ({ name: d.name, hashes: d.hashes }))));
  return key(a) === key(b);
}

/** A list whose order decides nothing, in one order (by its items' canonical JSON); anything else as it is. */
function asSet(x: unknown): unknown {
  if (!Array.isArray(x)) return x;
  return x
    .map((v: unknown): [string, unknown] => [canonicalJson(v ?? null), v])
    .sort((p, q) => (p[0] < q[0] ? -1 : p[0] > q[0] ? 1 : 0))
    .map(([, v]) => v);
}

/**
 * The plan-relevant part of a config (planRelevantConfig) as two plans' configs are compared (merge
 * across shards, --resume naming what changed): by what decides their runs, not how it was written.
 * Lists whose order decides nothing are taken as sets: the strategies (and a strategy entry's setups,
 * leverage and grid values), setups, leverage, the data folders, stress.scenarios,
 * stress.crashScenarios (paths draw their crashes in id order) and stress.inject.at; the plan sorts
 * its runs by RunId. A data folder is compared without its path (`/work/p/data/x` on one machine,
 * `data/x` on another): its name and content are in the datasets' hashes, compared beside the config.
 * `strategyCodeHashed` (both folders recorded plan.strategyHashes, compared beside it): the strategy
 * folders' paths are left out too, the strategies' code being compared by content.
 */
export function comparablePlanConfig(config: unknown, opts: { strategyCodeHashed?: boolean } = {}): Record<string, unknown> {
  const c = planRelevantConfig((asRecord(config) ?? {}) as unknown as ResolvedConfig);
  const withSets = (o: unknown, keys: readonly string[]): unknown => {
    const r = asRecord(o);
    return r ? { ...r, ...Object.fromEntries(keys.filter((k) => k in r).map((k) => [k, asSet(r[k])])) } : o;
  };
  if (Array.isArray(c.strategies)) {
    c.strategies = asSet(
      c.strategies.map((e: unknown) => {
        const r = withSets(e, ['setups', 'leverage']);
        const grid = asRecord(asRecord(r)?.grid);
        return grid ? { ...asRecord(r), grid: Object.fromEntries(Object.entries(grid).map(([k, v]) => [k, asSet(v)])) } : r;
      }),
    );
  }
  c.setups = asSet(c.setups);
  c.leverage = asSet(c.leverage);
  if (Array.isArray(c.data)) {
    c.data = asSet(
      c.data.map((d: unknown) => {
        const r = asRecord(d);
        if (!r) return d;
        const { path: _path, ...rest } = r;
        return rest;
      }),
    );
  }
  const stress = asRecord(c.stress);
  if (stress) c.stress = { ...(withSets(stress, ['scenarios', 'crashScenarios']) as Record<string, unknown>), ...('inject' in stress ? { inject: withSets(stress.inject, ['at']) } : {}) };
  if (opts.strategyCodeHashed) delete c.strategyDirs;
  return c;
}

/**
 * The keys in which two plans' configs differ (comparablePlanConfig): a top-level key, or for a
 * block (stress, execution, venue) its keys that differ (`stress.seed`, `execution.slippageBps`);
 * sorted, empty when they decide the same runs.
 */
export function planConfigDifferences(a: unknown, b: unknown, opts: { strategyCodeHashed?: boolean } = {}): string[] {
  const ca = comparablePlanConfig(a, opts);
  const cb = comparablePlanConfig(b, opts);
  const differing = (x: Record<string, unknown>, y: Record<string, unknown>) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])].filter((k) => canonicalJson(x[k] ?? null) !== canonicalJson(y[k] ?? null)).sort();
  return differing(ca, cb).flatMap((k) => {
    const x = asRecord(ca[k]);
    const y = asRecord(cb[k]);
    const sub = x && y ? differing(x, y) : [];
    return sub.length > 0 ? sub.map((s) => `${k}.${s}`) : [k];
  });
}

/** The flags of `marginlab stress` that give a stress block its paths, seed and scenarios. */
function stressFlags(s: StressLike): string {
  return `--paths ${String(s.paths)} --seed ${String(s.seed)} --scenarios ${scenarioIds(s)}`;
}

/**
 * One clause (no trailing punctuation) saying what changed between the folder's plan and this
 * command's: the stress runs and the flags that resume them, the config keys, the shard, or the data.
 */
export function describePlanChange(
  prevConfig: unknown,
  prevShard: Shard,
  config: ResolvedConfig,
  shard: Shard,
  folder: { dir: string; command?: RunCommand | undefined },
  /** this command's flags that set config keys (--from, --to, --strategies): a difference they make is theirs, not the config's */
  asked: { from?: string | number | null; to?: string | number | null; strategies?: string[] } = {},
  /** what else the folder's plan and this command's were made of (its manifest's; this command's), when known */
  inputs?: { folder: PlanInputs; command: PlanInputs },
): string {
  const parts: string[] = [];
  // the whole command that goes on with the folder (its config file, flags, --shard, --out), as compare and merge give it
  const resume = () => resumeCommand(prevConfig, folder.dir, prevShard, folder.command);
  const prev = asRecord(prevConfig);
  if (prev) {
    // compared as sets where the order decides nothing, data folders without their paths (comparablePlanConfig)
    const a = comparablePlanConfig(prev);
    const b = comparablePlanConfig(config);
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => canonicalJson(a[k] ?? null) !== canonicalJson(b[k] ?? null)).sort();
    // (as given, to name them; compared in the form above)
    const ps = asRecord(planRelevantConfig(prev as unknown as ResolvedConfig).stress) as StressLike | null;
    const cs = asRecord(planRelevantConfig(config).stress) as StressLike | null;
    const pn = asRecord(a.stress) as StressLike | null;
    const cn = asRecord(b.stress) as StressLike | null;
    if (keys.includes('stress')) {
      if (ps && !cs) {
        parts.push(`the folder holds the stress runs of \`marginlab stress ${stressFlags(ps)}\` and this command runs history only; resume it with \`${resume()}\``);
      } else if (!ps && cs) {
        parts.push(`the folder holds the history runs of \`marginlab run\` and this command adds stress runs; resume it with \`${resume()}\``);
      } else if (ps && cs && pn && cn) {
        // what the flags of `marginlab stress` set (a resume command can give it back) ...
        const diffs: string[] = [];
        if (canonicalJson(ps.paths ?? null) !== canonicalJson(cs.paths ?? null)) diffs.push(`--paths ${String(ps.paths)} (this command: ${String(cs.paths)})`);
        if (canonicalJson(ps.seed ?? null) !== canonicalJson(cs.seed ?? null)) diffs.push(`--seed ${String(ps.seed)} (this command: ${String(cs.seed)})`);
        if (scenarioIds(pn) !== scenarioIds(cn)) diffs.push(`--scenarios ${scenarioIds(ps)} (this command: ${scenarioIds(cs)})`);
        // ... and what only the config sets: a scenario defined anew under the same id, the block's other keys
        const before = [...scenarioDefs(ps.scenarios), ...scenarioDefs(ps.crashScenarios)];
        const after = [...scenarioDefs(cs.scenarios), ...scenarioDefs(cs.crashScenarios)];
        const edited = [...new Set(before.filter(([id, def]) => after.some(([id2, def2]) => id2 === id && def2 !== def)).map(([id]) => `'${id}'`))];
        // (the crash pool by its ids: an edited definition is named above; a pool that is the scenarios
        // themselves, as stress.crashScenarios defaults to, changes with --scenarios and is said there)
        const crashPool = (st: StressLike): string[] | 'the scenarios' => {
          const ids = scenarioDefs(st.crashScenarios).map(([id]) => id);
          return canonicalJson(ids) === canonicalJson(scenarioDefs(st.scenarios).map(([id]) => id)) ? 'the scenarios' : ids;
        };
        const value = (st: StressLike, k: string): string => canonicalJson(k === 'crashScenarios' ? crashPool(st) : ((st as Record<string, unknown>)[k] ?? null));
        const keys = [...new Set([...Object.keys(pn), ...Object.keys(cn)])]
          .filter((k) => !['paths', 'seed', 'scenarios'].includes(k) && value(pn, k) !== value(cn, k))
          .sort()
          .map((k) => `stress.${k}`);
        const config = [...(edited.length ? [`the definition of scenario${edited.length === 1 ? '' : 's'} ${edited.join(', ')}`] : []), ...keys];
        parts.push(
          config.length > 0
            ? `the config's stress block changed (${config.join(', ')})${diffs.length > 0 ? `, and the folder's stress runs were planned with ${diffs.join(', ')}` : ''}`
            : diffs.length > 0
              ? `the folder's stress runs were planned with ${diffs.join(', ')}; resume it with \`${resume()}\``
              : 'the config\'s stress block changed',
        );
      }
    }
    const others = keys.filter((k) => k !== 'stress');
    if (others.length > 0) {
      // keys the folder's command set by flags (`run --from X --to Y`, `--strategies a,b`): a resume repeats them
      const cmd = folder.command;
      const given = (k: string): string | null => {
        if (k === 'strategies' && cmd?.strategies) return `--strategies ${shellArg(cmd.strategies.join(','))}`;
        const v = k === 'from' ? cmd?.from : k === 'to' ? cmd?.to : undefined;
        return v === undefined || v === null ? null : `--${k} ${shellArg(String(v))}`;
      };
      const flags = others.map(given).filter((f): f is string => f !== null);
      // a key this command set by a flag: said as the flag (`run --resume --from X` said "the config differs in from")
      const mine = (k: string): string | null => {
        if (k === 'strategies' && asked.strategies) return `--strategies ${shellArg(asked.strategies.join(','))}`;
        const v = k === 'from' ? asked.from : k === 'to' ? asked.to : undefined;
        return v === undefined || v === null ? null : `--${k} ${shellArg(String(v))}`;
      };
      const byFlag = others.filter((k) => mine(k) !== null);
      let clause =
        byFlag.length === 0
          ? `the config differs in ${others.join(', ')}`
          : `this command's plan differs in ${others.map((k) => (mine(k) !== null ? `${k} (this command's ${mine(k)!})` : k)).join(', ')}`;
      if (flags.length > 0) clause += ` (the folder was run with ${flags.join(' ')})`;
      if (flags.length === others.length && !keys.includes('stress')) clause += `; resume it with \`${resume()}\``;
      parts.push(clause);
    }
  }
  if (canonicalJson(prevShard) !== canonicalJson(shard)) {
    const s = (x: Shard) => (x ? `--shard ${x.index}/${x.count}` : 'no --shard');
    parts.push(`the folder was run with ${s(prevShard)}, this command with ${s(shard)}`);
  }
  if (parts.length === 0) {
    // the config and shard the same: the data, the engine, a strategy's code or marginlab's planning changed
    // (it said "the data files changed" for each)
    const f = inputs?.folder;
    const n = inputs?.command;
    const code = f && n ? Object.keys(n.strategyHashes ?? {}).filter((k) => f.strategyHashes?.[k] !== undefined && f.strategyHashes[k] !== n.strategyHashes?.[k]).sort() : [];
    const strategies = f && n ? strategySetChange({ name: 'the folder', strategies: f.strategies }, { name: 'this command', strategies: n.strategies }) : null;
    if (!f || !n || !sameDatasets(f.datasets, n.datasets)) parts.push('the data files changed');
    else if (f.engineVersion !== n.engineVersion) parts.push(`its runs are of engine ${f.engineVersion}, this command's of engine ${n.engineVersion}`);
    else if (strategies !== null) parts.push(`the strategies it plans changed (${strategies}: a strategy file added to or removed from its strategy folders)`);
    else if (code.length > 0) parts.push(`the code of strategy ${code.map((k) => `'${k}'`).join(', ')} changed`);
    else parts.push('its config, shard, data and strategy code are this command\'s, but an earlier marginlab planned them otherwise (docs/stress.md, "Runs, RunIds, shards", lists such changes): resume it with the marginlab that wrote it');
  }
  return parts.join('; ');
}

/**
 * The command that goes on with the folder `dir` whose manifest holds `config` (and `shard`, and the
 * `command` that wrote it): `marginlab stress` with its flags for a folder of stress runs, the config
 * file when it is not the working folder's backtest.config.ts, and the flags that changed the plan.
 */
export function resumeCommand(config: unknown, dir: string, shard: Shard = null, command?: RunCommand, cwd = process.cwd()): string {
  const s = asRecord(asRecord(config)?.stress) as StressLike | null;
  const flags: string[] = [];
  if (command?.config && command.config !== resolve(cwd, 'backtest.config.ts')) {
    flags.push(`-c ${shellPath(command.config, cwd)}`);
  }
  if (command?.strategies) flags.push(`--strategies ${shellArg(command.strategies.join(','))}`);
  if (command?.from !== undefined && command.from !== null) flags.push(`--from ${shellArg(String(command.from))}`);
  if (command?.to !== undefined && command.to !== null) flags.push(`--to ${shellArg(String(command.to))}`);
  // a plan above the file's maxRuns ran by --max-runs: without it the command refused the plan (78)
  if (command?.maxRuns !== undefined) flags.push(`--max-runs ${command.maxRuns}`);
  const where = `${flags.length ? ` ${flags.join(' ')}` : ''}${shard ? ` --shard ${shard.index}/${shard.count}` : ''} --out ${shellArg(dir)}`;
  return cliCommand(s ? `stress --resume ${stressFlags(s)}${where}` : `run --resume${where}`);
}

