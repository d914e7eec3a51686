/**
 * `marginlab strategies`: list the strategy library plus the config's `strategyDirs` (the config
 * given with --config, or ./backtest.config.ts when it exists; when it does not but one is found
 * above or with another extension, stderr says so) and folders given with --dir.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('strategies')
    .description('list the available strategies with their default params')
    .option('-c, --config <file>', "config whose strategyDirs to list too (default: backtest.config.ts when it exists)")
    .option('-d, --dir <folder...>', 'extra folders of strategy files')
    .option('--json', 'print JSON')
    .action(async (flags: { config?: string; dir?: string[]; json?: boolean }) => {
      const { listStrategies } = await import('../../strategy/registry.js');
      const { thrownText, visible } = await import('../../util/excerpt.js');
      const dirs: string[] = [];
      // the strategies' code (modules, params schemas) under the runs' time limit (src/util/time-limit.ts)
      const { withTimeLimit, nowRunning } = await import('../../util/time-limit.js');
      const { DEFAULT_TIMEOUT_MS } = await import('../../config/schema.js');
      let limit = { ms: DEFAULT_TIMEOUT_MS, key: 'timeoutMs' };
      const configFile = flags.config ?? (existsSync('backtest.config.ts') ? 'backtest.config.ts' : undefined);
      if (configFile === undefined) {
        // run from a project's subfolder (or beside a backtest.config.js): its strategyDirs would be missing from the list silently
        const { nearbyConfig } = await import('../../config/index.js');
        const near = nearbyConfig(resolve('backtest.config.ts'));
        if (near !== null) process.stderr.write(`marginlab: no backtest.config.ts here, so the list holds the library only (${near})\n`);
      } else {
        const { loadConfig, configPath } = await import('../../config/index.js');
        const loaded = await loadConfig(configFile);
        dirs.push(...loaded.config.strategyDirs.map((d) => configPath(loaded, d)));
        limit = { ms: loaded.config.timeoutMs, key: `timeoutMs of ${configFile}` };
      }
      for (const d of flags.dir ?? []) if (!dirs.includes(resolve(d))) dirs.push(resolve(d));
      const list = await withTimeLimit(limit, 'loading the strategy files (their top-level code)', () => listStrategies(dirs));
      const { paramPath, paramsDataProblem } = await import('../../strategy/params.js');
      const rows: { name: string; description: string; file: string; defaults: Record<string, unknown> | null }[] = [];
      /** why a strategy's defaults are not listed (text output; the JSON has defaults: null) */
      const unlisted = new Map<string, string>();
      await withTimeLimit(limit, 'the strategies\' params schemas', async () => {
        for (const entry of list) {
          nowRunning(`strategy '${entry.name}' (${entry.file}): its params schema`);
          // the schema is the strategy's code: its default functions may throw, and its output need not be
          // plain data (a bigint default stopped the listing, exit 70)
          let defaults: Record<string, unknown> | null = null;
          try {
            const parsed = entry.module.params.safeParse({});
            const bad = parsed.success ? paramsDataProblem(parsed.data) : null;
            if (bad !== null) unlisted.set(entry.name, `params${paramPath(bad.at)} resolves to ${bad.what}`);
            else if (parsed.success) defaults = parsed.data as Record<string, unknown>;
          } catch (err) {
            unlisted.set(entry.name, `its params schema threw: ${thrownText(err)}`);
          }
          rows.push({ name: entry.name, description: entry.description, file: entry.file, defaults });
        }
      });
      rows.sort((a, b) => (a.name < b.name ? -1 : 1));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      // a strategy's description, defaults and errors are its author's text: control characters shown escaped (visible),
      // so a listing cannot recolour the terminal, reverse a line or print a line of its own
      const w = Math.max(4, ...rows.map((r) => r.name.length));
      for (const r of rows) {
        process.stdout.write(`${visible(`${r.name.padEnd(w)}  ${r.description}`)}\n`);
        if (r.defaults) process.stdout.write(`${''.padEnd(w)}  defaults: ${visible(JSON.stringify(r.defaults))}\n`);
        else if (unlisted.has(r.name)) process.stdout.write(`${''.padEnd(w)}  defaults: not shown (${visible(unlisted.get(r.name)!)})\n`);
      }
    });
}
