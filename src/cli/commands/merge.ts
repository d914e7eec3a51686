/**
 * `marginlab merge <dir>... --out <dir>`: combine run folders (e.g. the N shards of one sweep)
 * into one and render its report. Refuses folders of different engine versions, configs or data
 * hashes (exit 65).
 */
import type { Command } from 'commander';
import { ExitCode, usageError } from '../../errors.js';

export function register(program: Command): void {
  program
    .command('merge')
    .description('merge run folders (shards of one sweep) into one folder and render its report')
    .argument('<dirs...>', 'run folders written by `marginlab run`')
    .requiredOption('-o, --out <dir>', 'merged output folder')
    .option('-q, --quiet', 'no summary line')
    .option('--json', 'print the outcome as one JSON object on stdout')
    .action(async (dirs: string[], flags: { out: string; quiet?: boolean; json?: boolean }) => {
      if (!flags.out) throw usageError('merge: --out <dir> is required');
      const { mergeRunFolders } = await import('../../shard/merge.js');
      const { loadRunFolder, writeReport } = await import('../../report/index.js');
      const outcome = await mergeRunFolders(dirs, flags.out);
      const folder = loadRunFolder(outcome.outDir);
      const cfg = folder.manifest.config as { output?: { formats?: ('json' | 'csv' | 'md' | 'html')[] } } | null;
      await writeReport({ dir: outcome.outDir, results: folder.results, manifest: folder.manifest, ...(cfg?.output?.formats ? { formats: cfg.output.formats } : {}) });
      const { ok, errored, total } = outcome.manifest.runs;
      if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'merged', dir: outcome.outDir, runs: outcome.runs, ok, errored, total, missing: outcome.missing })}\n`);
      else if (!flags.quiet) {
        process.stderr.write(`marginlab: merged ${dirs.length} folder${dirs.length === 1 ? '' : 's'}: ${outcome.runs} runs (${ok} ok, ${errored} errored) of ${total} planned into ${outcome.outDir}\n`);
        if (outcome.missing > 0) process.stderr.write(`marginlab: warning: ${outcome.missing} planned runs are missing (a shard not merged, or not finished)\n`);
      }
      process.exitCode = errored > 0 ? ExitCode.FAILED : ExitCode.OK;
    });
}
