/**
 * `marginlab strategies`: list the strategy library (plus folders given with --dir).
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';

export function register(program: Command): void {
  program
    .command('strategies')
    .description('list the available strategies with their default params')
    .option('-d, --dir <folder...>', 'extra folders of strategy files')
    .option('--json', 'print JSON')
    .action(async (flags: { dir?: string[]; json?: boolean }) => {
      const { listStrategies } = await import('../../strategy/registry.js');
      const dirs = (flags.dir ?? []).map((d) => resolve(d));
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
