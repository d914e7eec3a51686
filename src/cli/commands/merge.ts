/**
 * `marginlab merge <dir>... --out <dir>`: combine run folders (e.g. the N shards of one sweep)
 * into one and render its report. Refuses folders of different engine versions, configs or data
 * hashes (exit 65), results whose RunId does not re-derive from their spec or that are not in their
 * folder's plan (65, the files named), the same folder twice or a folder another process is writing (64), and an --out that is an
 * input, inside one, or a non-empty folder marginlab did not make (64; --force for the last).
 * Exit 1 when a merged run errored or planned runs are missing.
 */
import type { Command } from 'commander';
import { ExitCode, usageError } from '../../errors.js';
import { visible } from '../../util/excerpt.js';

export function register(program: Command): void {
  program
    .command('merge')
    .description('merge run folders (shards of one sweep) into one folder and render its report')
    .argument('<dirs...>', 'run folders written by `marginlab run`')
    .requiredOption('-o, --out <dir>', 'merged output folder')
    .option('-q, --quiet', 'no summary line (missing or errored runs are still said)')
    .option('--json', 'print the outcome as one JSON object on stdout')
    .option('--force', 'write into a non-empty folder marginlab did not make (only the files marginlab writes are replaced)')
    .action(async (dirs: string[], flags: { out: string; quiet?: boolean; json?: boolean; force?: boolean }) => {
      if (!flags.out) throw usageError('merge: --out <dir> is required');
      const { mergeRunFolders } = await import('../../shard/merge.js');
      const { loadRunFolder, renderReportFiles } = await import('../../report/index.js');
      const { openOutDir } = await import('../../util/outdir.js');
      const { guardReportStep } = await import('../../shard/manifest-mark.js');
      const { resolve } = await import('node:path');
      // the output folder stays locked from the merge to the last report file
      const out = openOutDir(flags.out, { kind: 'run', inputs: dirs.map((d) => ({ label: 'input folder', path: resolve(d) })), ...(flags.force ? { force: true } : {}), resume: false });
      let outcome;
      try {
        outcome = await mergeRunFolders(dirs, flags.out, { out, ...(flags.force ? { force: true } : {}) });
        // the merged results and manifest are in place: a Ctrl-C now leaves them with the mark (not "as it was before")
        const endReportStep = guardReportStep(out, 'the merged results are in');
        let written = false;
        try {
          const folder = loadRunFolder(outcome.outDir, { forReport: true });
          const cfg = folder.manifest.config as { output?: { formats?: ('json' | 'csv' | 'md' | 'html')[] } } | null;
          await renderReportFiles({ dir: outcome.outDir, results: folder.results, manifest: folder.manifest, ...(cfg?.output?.formats ? { formats: cfg.output.formats } : {}), resume: false });
          written = true;
        } finally {
          endReportStep(written);
        }
        // a folder deleted (or its lock taken) while it was written must not end in success
        out.assertHeld('results');
      } catch (err) {
        // the folder deleted meanwhile: that is what failed (OutDir.assertHeld)
        const lost = out.lostError();
        out.discard();
        throw lost ?? err;
      } finally {
        out.release();
      }
      const { ok, errored, total } = outcome.manifest.runs;
      if (flags.json) process.stdout.write(`${JSON.stringify({ event: 'merged', dir: outcome.outDir, runs: outcome.runs, ok, errored, total, missing: outcome.missing, complete: outcome.missing === 0 })}\n`);
      else {
        if (!flags.quiet) process.stderr.write(`marginlab: merged ${dirs.length} folder${dirs.length === 1 ? '' : 's'}: ${outcome.runs} runs (${ok} ok, ${errored} errored) of ${total} planned into ${visible(outcome.outDir)}\n`);
        // the reasons for exit 1 are said even under --quiet (it drops the summary line only)
        if (outcome.missing > 0) process.stderr.write(`marginlab: incomplete: ${outcome.missing} of ${total} planned runs are missing (a shard not merged, or not finished); exit 1\n`);
        if (errored > 0) process.stderr.write(`marginlab: ${errored} merged run${errored === 1 ? '' : 's'} errored (the report in ${visible(outcome.outDir)} gives their errors); exit 1\n`);
      }
      // 1: a merged run errored, or planned runs are missing (the report says which)
      process.exitCode = errored > 0 || outcome.missing > 0 ? ExitCode.FAILED : ExitCode.OK;
    });
}
