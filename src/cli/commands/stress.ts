/**
 * `marginlab stress`: the sweep of a backtest config with its stress runs on — every run of the
 * plan replayed on the history, under each crash scenario at each injection time, and over N Monte
 * Carlo paths (docs/stress.md). The config's `stress` block is used when present, else its
 * defaults (the whole crash pack at 3 seeded random times, 100 paths); the flags override it.
 * Same output folder, progress, --shard/--resume and exit codes as `marginlab run`.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { usageError } from '../../errors.js';
import { visible } from '../../util/excerpt.js';
import { runCommand, sweepOptions, type RunFlags } from './run.js';

export interface StressFlags extends RunFlags {
  paths?: string;
  scenarios?: string;
  seed?: string;
}

export async function stressCommand(flags: StressFlags): Promise<number> {
  const stress: { paths?: number; scenarios?: string[]; seed?: number } = {};
  // the stress modules when the command runs: imported with the CLI's commands, they (and zod behind
  // them) were loaded by every command, `--version` and `calc` included
  const { MAX_PATHS } = await import('../../stress/plan.js');
  if (flags.paths !== undefined) {
    if (!/^\d+$/.test(flags.paths) || Number(flags.paths) > MAX_PATHS) throw usageError(`--paths: expected a whole number from 0 to ${MAX_PATHS}, got '${flags.paths}'`);
    stress.paths = Number(flags.paths);
  }
  if (flags.seed !== undefined) {
    if (!/^\d+$/.test(flags.seed) || Number(flags.seed) > 4_294_967_295) throw usageError(`--seed: expected a whole number from 0 to 4294967295, got '${flags.seed}'`);
    stress.seed = Number(flags.seed);
  }
  if (flags.scenarios !== undefined) {
    const ids = flags.scenarios.split(',').map((s) => s.trim()).filter(Boolean);
    if (ids.length === 1 && ids[0] === 'none') stress.scenarios = [];
    else if (ids.length === 0) throw usageError("--scenarios: expected a comma-separated list of scenario ids (or 'none'); `npx marginlab stress --list` shows them");
    else if (ids.includes('none')) throw usageError(`--scenarios: 'none' (no scenario runs) stands alone, got '${flags.scenarios}': give --scenarios none, or the list of ids to run without it`);
    else stress.scenarios = ids;
  }
  return runCommand(flags, { stress });
}

/**
 * The crash pack, then the scenarios the config defines (its `stress.scenarios` definitions), each
 * marked with whether the config's stress runs replay it. The config is read when it exists, or when
 * `-c` named it (a named config that does not load is its usual error; the default one that does not
 * load is warned about and the pack listed); without one, the pack alone.
 */
async function listScenarios(json: boolean, config: string | null, named: boolean): Promise<number> {
  const { CRASH_PACK } = await import('../../stress/pack.js');
  const listed = (s: { id: string; title: string; date?: string | undefined }) => ({ id: s.id, title: s.title, date: s.date ?? null });
  let runs: Set<string> | null = null;
  let custom: ReturnType<typeof listed>[] = [];
  let loaded: import('../../config/index.js').LoadedConfig | null = null;
  if (config !== null) {
    const { loadConfig } = await import('../../config/index.js');
    const { UserError } = await import('../../errors.js');
    try {
      loaded = await loadConfig(config, { stress: {} });
    } catch (err) {
      // the default config that does not load: the pack is still listed, and the reason said (a config named with -c: its error)
      if (named || !(err instanceof UserError)) throw err;
      process.stderr.write(`marginlab: warning: ${visible(config)} did not load, so its own scenarios are not listed (${visible(err.message.split('\n')[0]!)}); the crash pack:\n`);
    }
  }
  if (loaded !== null) {
    const c = loaded.config;
    const { PACK_IDS } = await import('../../stress/plan.js');
    // a scenario moving none of the symbols of every dataset the config reads plans no run (the run warns so):
    // judged on the manifests' symbol lists (a dataset that cannot be read is not judged here: the run says why)
    const { readManifest } = await import('../../feed/manifest.js');
    const { configPath } = await import('../../config/index.js');
    const { scenarioMovesNone } = await import('../../stress/scenario.js');
    let symbolLists: string[][] | null = [];
    for (const d of c.data) {
      try {
        symbolLists.push(d.symbols ?? readManifest(configPath(loaded, d.path)).manifest.symbols);
      } catch {
        symbolLists = null;
        break;
      }
    }
    const lists = symbolLists;
    runs = new Set((c.stress?.scenarios ?? []).filter((s) => lists === null || lists.some((syms) => !scenarioMovesNone(s, syms))).map((s) => s.id));
    custom = (c.stress?.scenarios ?? []).filter((s) => !PACK_IDS.includes(s.id)).map(listed);
    // crash-path scenarios defined there and not replayed at injection times are defined all the same
    for (const s of c.stress?.crashScenarios ?? []) if (!PACK_IDS.includes(s.id) && !custom.some((x) => x.id === s.id)) custom.push(listed(s));
  }
  const rows = [
    ...CRASH_PACK.map((s) => ({ ...listed(s), source: 'pack' as const })),
    ...custom.map((s) => ({ ...s, source: 'config' as const })),
  ].map((r) => (runs === null ? r : { ...r, runs: runs.has(r.id) }));
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else {
    const width = Math.max(20, ...rows.map((r) => r.id.length + 1));
    for (const r of rows) {
      const notes = [r.source === 'config' ? 'defined by the config' : '', 'runs' in r ? (r.runs ? 'run by the config' : 'not run by the config') : ''].filter(Boolean);
      process.stdout.write(`${r.id.padEnd(width)} ${visible(r.title) || '(no title)'}${notes.length > 0 ? `  [${notes.join('; ')}]` : ''}\n`);
    }
  }
  return 0;
}

export function register(program: Command): void {
  sweepOptions(
    program
      .command('stress')
      .description('crash test the sweep of a config: history, the crash pack at injection times, and Monte Carlo paths (marginlab\'s docs/stress.md)')
      .option('-c, --config <file>', 'config file', 'backtest.config.ts')
      .option('-p, --paths <n>', 'Monte Carlo paths per configuration (default: config stress.paths, else 100)')
      .option('--scenarios <ids>', "comma-separated scenario ids (crash pack or the config's stress.scenarios), or 'none'")
      .option('--seed <s>', 'seed of the paths, injection times and crashes (default: config stress.seed, else 1)')
      .option('--list', "list the crash pack and the config's own scenarios (when it has a config) and exit"),
  ).action(async (flags: StressFlags & { list?: boolean }, cmd: Command) => {
    // the default config path when it is absent: the pack alone (a named one that is absent is an error)
    const named = cmd.getOptionValueSource('config') !== 'default';
    const config = !named && !existsSync(flags.config) ? null : flags.config;
    process.exitCode = flags.list ? await listScenarios(!!flags.json, config, named) : await stressCommand(flags);
  });
}
