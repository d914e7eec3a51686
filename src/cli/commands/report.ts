/**
 * `marginlab report <dir>`: re-render a run folder's reports (summary.json, runs.csv, report.md,
 * report.html) from its stored results/*.json and manifest.json, without rerunning anything.
 * Only the runs of the manifest's plan are rendered (other result files are named and left out).
 * Exit codes: 0 rendered, every planned run ok · 1 rendered, but a run errored or planned runs are missing · 64 bad flags · 65 malformed result/manifest · 66 folder, manifest or results missing · 130 interrupted (the report files as they were).
 */
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, usageError } from '../../errors.js';
import { visible } from '../../util/excerpt.js';

// config/schema REPORT_FORMATS, repeated so that registering the command does not load zod at CLI startup
const FORMATS = ['json', 'csv', 'md', 'html'] as const;
type Format = (typeof FORMATS)[number];

export function parseFormats(s: string | undefined): Format[] | undefined {
  if (s === undefined) return undefined;
  // case as typed does not matter (MD, Html): the file names and the config's formats are lower case
  const parts = [...new Set(s.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean))];
  const bad = parts.filter((p) => !(FORMATS as readonly string[]).includes(p));
  if (bad.length || !parts.length) throw usageError(`--formats: expected a comma-separated list of ${FORMATS.join(', ')}, got '${s}'`);
  return parts as Format[];
}

/** `--survival-threshold`: a probability in (0, 1], as a fraction (0.05) or a percentage (5%). */
export function parseSurvivalThreshold(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const m = /^\s*((?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*(%?)\s*$/i.exec(s);
  const v = m ? Number(m[1]) / (m[2] ? 100 : 1) : NaN;
  if (!(v > 0 && v <= 1)) throw usageError(`--survival-threshold: expected a probability (of a liquidation or a wipe-out) in (0, 1] such as 0.05 or 5%, got '${s}'`);
  return v;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('re-render the reports of a run folder from its stored results (no rerun)')
    .argument('<dir>', 'run folder written by `marginlab run` (holds manifest.json and results/)')
    .option('-f, --formats <list>', `formats to render, comma-separated (${FORMATS.join(',')}; default all)`)
    .option('-q, --quiet', 'print nothing on success')
    .option('--survival-threshold <p>', "stress: probability of a liquidation or a wipe-out under which a leverage counts as surviving (0.05 or 5%; default the config's stress.survivalThreshold, else 5%)")
    .action(async (dir: string, flags: { formats?: string; quiet?: boolean; survivalThreshold?: string }) => {
      const formats = parseFormats(flags.formats);
      const survivalThreshold = parseSurvivalThreshold(flags.survivalThreshold);
      const { loadRunFolder, renderReportFiles, REPORT_FILES, TRADES_FILE, LIQUIDATIONS_FILE } = await import('../../report/index.js');
      const { openOutDir } = await import('../../util/outdir.js');
      const { results, manifest, foreign, missing, expected } = loadRunFolder(dir, { forReport: true });
      // the folder is validated as a run folder: lock it while the report files are replaced
      const out = openOutDir(dir, { kind: 'run', name: 'run folder', accept: () => true, forceFlag: false, source: 'argument', resume: false });
      let written: string[];
      try {
        written = await renderReportFiles({ dir, results, manifest, ...(formats ? { formats } : {}), ...(survivalThreshold !== undefined ? { survivalThreshold } : {}), outSource: 'argument', resume: false });
        // a run interrupted in its report step left "interrupted": true with every result written:
        // once its report is rendered nothing of it is missing any more
        if (missing === 0) {
          const { setInterruptedMark } = await import('../../shard/manifest-mark.js');
          setInterruptedMark(join(dir, 'manifest.json'), false);
        }
        // a folder deleted (or its lock taken) while the report was written must not end in success
        out.assertHeld();
      } catch (err) {
        // the folder deleted meanwhile: that is what failed (OutDir.assertHeld)
        throw out.lostError() ?? err;
      } finally {
        out.release();
      }
      const errored = results.filter((r) => r.status !== 'ok').length;
      if (foreign.length > 0) {
        process.stderr.write(`marginlab: warning: ${foreign.length} result file${foreign.length === 1 ? ' is' : 's are'} not in the folder's plan and ${foreign.length === 1 ? 'was' : 'were'} left out: ${visible(foreign.slice(0, 5).join(', '))}${foreign.length > 5 ? ` and ${foreign.length - 5} more` : ''}\n`);
      }
      if (missing > 0) {
        // the command that finishes the folder, as compare and merge say it
        const [{ resumeCommand }, { missingRunsText }] = await Promise.all([import('../../shard/plan-change.js'), import('../../report/format.js')]);
        const again = resumeCommand(manifest.config, dir, manifest.shard, manifest.command);
        process.stderr.write(`marginlab: incomplete: ${missingRunsText(missing, expected)} (finish it with \`${visible(again)}\`, or merge the missing shards)\n`);
      }
      if (!flags.quiet) {
        process.stderr.write(`marginlab: rendered ${written.length} file${written.length === 1 ? '' : 's'} for ${results.length} run${results.length === 1 ? '' : 's'} (${errored} errored) in ${visible(dir)}: ${written.map((p) => basename(p)).join(', ')}\n`);
        // report files of the formats not asked for stay as an earlier render left them: say so
        const names = new Set(written.map((p) => basename(p)));
        const { existsSync } = await import('node:fs');
        const older = [...Object.values(REPORT_FILES), TRADES_FILE, LIQUIDATIONS_FILE].filter((f) => !names.has(f) && existsSync(join(dir, f)));
        if (older.length > 0) process.stderr.write(`marginlab: not re-rendered (other formats), as an earlier render left them: ${older.join(', ')}\n`);
      }
      // 1: a run errored or planned runs are missing (as `run` and `merge`)
      process.exitCode = errored > 0 || missing > 0 ? ExitCode.FAILED : ExitCode.OK;
    });
}

