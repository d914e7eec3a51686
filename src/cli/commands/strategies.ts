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
      const dirs: string[] = [];
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
      }
      for (const d of flags.dir ?? []) if (!dirs.includes(resolve(d))) dirs.push(resolve(d));
      const list = await listStrategies(dirs);
      const rows: { name: string; description: string; file: string; defaults: Record<string, unknown> | null }[] = [];
      for (const entry of list) {
        const defaults = entry.module.params.safeParse({});
        rows.push({ name: entry.name, description: entry.description, file: entry.file, defaults: defaults.success ? (defaults.data as Record<string, unknown>) : null });
      }
      rows.sort((a, b) => (a.name < b.name ? -1 : 1));
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      const w = Math.max(4, ...rows.map((r) => r.name.length));
      for (const r of rows) {
        process.stdout.write(`${r.name.padEnd(w)}  ${r.description}\n`);
        if (r.defaults) process.stdout.write(`${''.padEnd(w)}  defaults: ${JSON.stringify(r.defaults)}\n`);
      }
    });
}
