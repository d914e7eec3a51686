/**
 * `marginlab compare <baseline> <current> [--fail-on rules] [--json] [--out dir]`: the regression
 * gate of nightly sweeps (docs/scaling.md). Prints the differences that matter, writes
 * compare.md and compare.html (into the current folder unless --out), exits 1 when a --fail-on
 * rule fails, 0 otherwise; 64 for a bad rule, 66 for a missing folder, 65 for a malformed one.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode } from '../../errors.js';

export function register(program: Command): void {
  program
    .command('compare')
    .description('compare two run folders (e.g. last night and tonight): differences per run and per setup, compare.md/html; exit 1 when a --fail-on rule fails')
    .argument('<baseline>', 'baseline run folder (the last good one)')
    .argument('<current>', 'current run folder')
    .option('--fail-on <rules...>', 'rules, comma-separated, e.g. "liquidations>0,maxDrawdown>+2pp,totalReturn<-1pp,status!=ok" (docs/scaling.md)')
    .option('--json', 'print the comparison as JSON on stdout')
    .option('--out <dir>', 'folder for compare.md and compare.html (default: the current run folder)')
    .action(async (baselineDir: string, currentDir: string, flags: { failOn?: string[]; json?: boolean; out?: string }) => {
      const [{ parseRules }, { compareFolders }, { renderText, renderMarkdown, renderHtml }, { writeFileAtomic }] = await Promise.all([
        import('../../compare/rules.js'),
        import('../../compare/index.js'),
        import('../../compare/render.js'),
        import('../../util/atomic.js'),
      ]);
      const rules = parseRules(flags.failOn ?? []);
      const c = compareFolders(baselineDir, currentDir, rules);
      const out = resolve(flags.out ?? currentDir);
      writeFileAtomic(resolve(out, 'compare.md'), renderMarkdown(c));
      writeFileAtomic(resolve(out, 'compare.html'), renderHtml(c));
      if (flags.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
      else process.stdout.write(`${renderText(c)}wrote ${resolve(out, 'compare.md')} and compare.html\n`);
      process.exitCode = c.passed ? ExitCode.OK : ExitCode.FAILED;
    });
}
