/**
 * `marginlab compare <baseline> <current> [--fail-on rules] [--json] [--out dir] [--force]`: the
 * regression gate of nightly sweeps (docs/scaling.md). Prints the differences that matter, writes
 * compare.md and compare.html (into the current folder unless --out), exits 1 when a --fail-on
 * rule fails, 0 otherwise; 64 for a bad rule, a refused output folder or a compared folder another
 * marginlab process is writing, 66 for a missing folder, 65 for a malformed one.
 *
 * The output folder follows the rules of every folder marginlab writes (src/util/outdir.ts): a new
 * or empty folder, a run folder, or a folder compare wrote before; never a dataset, never the
 * baseline or inside / around either input (the current folder itself is the default); a foreign
 * non-empty folder only with --force; locked while written. A compare.md or compare.html that
 * marginlab did not write is replaced only with --force. An incomplete compared folder
 * (interrupted, or planned runs without a result) is compared as it is, with a warning.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UserError, usageError } from '../../errors.js';

export { COMPARE_FILES } from '../../util/outdir.js';
import { COMPARE_FILES } from '../../util/outdir.js';
import { visible } from '../../util/excerpt.js';

/**
 * A compare.md / compare.html an earlier marginlab wrote before the folder's marker listed them:
 * recognised by how compare starts each file (the Markdown heading, the HTML title).
 */
function writtenByCompare(path: string): boolean {
  let head = '';
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(4096);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  return path.endsWith('.md') ? head.startsWith('# marginlab compare\n') : /<title>marginlab compare: /.test(head);
}

export function register(program: Command): void {
  program
    .command('compare')
    .description('compare two run folders (e.g. last night and tonight): differences per run and per setup, compare.md/html; exit 1 when a --fail-on rule fails')
    .argument('<baseline>', 'baseline run folder (the last good one)')
    .argument('<current>', 'current run folder')
    .option('--fail-on <rules...>', 'rules, comma-separated, e.g. "liquidations>0,maxDrawdown>+2pp,totalReturn<-1pp,status!=ok" (marginlab\'s docs/scaling.md)')
    .option('--json', 'print the comparison as JSON on stdout')
    .option('--out <dir>', 'folder for compare.md and compare.html (default: the current run folder): a new or empty folder, a run folder, or one compare wrote before')
    .option('--force', 'write into a non-empty folder marginlab did not make, and replace a compare.md / compare.html marginlab did not write')
    .action(async (baselineDir: string, currentDir: string, flags: { failOn?: string[]; json?: boolean; out?: string; force?: boolean }) => {
      const [{ parseRules }, { compareFolders }, { renderText, renderMarkdown, renderHtml, incompleteLines, unpairedLines }, { writeFilesAtomic }, { liveLock, lockHolder, openOutDir, realPathOf }, { withFsErrors }] =
        await Promise.all([
          import('../../compare/rules.js'),
          import('../../compare/index.js'),
          import('../../compare/render.js'),
          import('../../util/atomic.js'),
          import('../../util/outdir.js'),
          import('../../util/fs-errors.js'),
        ]);
      const rules = parseRules(flags.failOn ?? []);
      // a folder another marginlab command is writing has not got all its results yet: not compared
      for (const [which, dir] of [['baseline', baselineDir], ['current', currentDir]] as const) {
        const held = liveLock(resolve(dir));
        if (held) throw new UserError(`${which} run folder ${resolve(dir)} is being written by another marginlab process (${lockHolder(held)}); wait for it to finish, then compare`, ExitCode.USAGE);
      }
      const c = compareFolders(baselineDir, currentDir, rules);
      // a folder compared with itself matches whatever it holds: a gate pointed at the wrong path passed every night
      // (after the folders were read: one that is not a run folder is said as such first)
      if (realPathOf(baselineDir) === realPathOf(currentDir)) {
        throw usageError(`compare: ${baselineDir} and ${currentDir} are the same folder, which always matches itself; give the baseline run folder (the last good run) and the current one`);
      }
      for (const line of [...incompleteLines(c, true), ...unpairedLines(c, true)]) process.stderr.write(`marginlab: ${visible(line)}\n`);

      const target = resolve(flags.out ?? currentDir);
      const force = flags.force ? { force: true } : {};
      const baseline = { label: 'baseline run folder', path: resolve(baselineDir) };
      // the default: the current run folder itself (validated as one above); compare adds its two files there
      const out =
        realPathOf(target) === realPathOf(currentDir)
          ? openOutDir(target, { kind: 'run', name: flags.out ? '--out' : 'current run folder', inputs: realPathOf(baselineDir) === realPathOf(currentDir) ? [] : [baseline], accept: () => true, ...force })
          : openOutDir(target, { kind: 'compare', alsoInto: ['run'], inputs: [baseline, { label: 'current run folder', path: resolve(currentDir) }], ...force });
      try {
        out.claimFiles(COMPARE_FILES, !!flags.force, writtenByCompare);
        const files = [
          { name: COMPARE_FILES[0], data: renderMarkdown(c) },
          { name: COMPARE_FILES[1], data: renderHtml(c) },
        ];
        withFsErrors({ path: out.path, action: 'write compare.md and compare.html into', role: 'output' }, () => writeFilesAtomic(out.path, files));
      } catch (err) {
        out.discard();
        throw err;
      } finally {
        out.release();
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(c, null, 2)}\n`);
      else process.stdout.write(`${renderText(c)}wrote ${visible(resolve(out.path, COMPARE_FILES[0]))} and ${COMPARE_FILES[1]}\n`);
      process.exitCode = c.passed ? ExitCode.OK : ExitCode.FAILED;
    });
}
