/**
 * `marginlab run`: run the sweep of a backtest.config.ts and render its report folder.
 * Exit codes: 0 all runs ok · 1 some runs errored · 64 bad flags · 65 bad data · 66 missing
 * config/dataset · 70 an internal engine invariant failed in some run (a marginlab bug; every
 * result and the report are still written), a full disk, or the output folder deleted while the
 * run wrote it (OutDir.assertHeld: stopped, never made again) · 78 bad config · 130 interrupted (finished results
 * are kept; --resume goes on; interrupted while the report is written: the manifest says "interrupted", `marginlab report` writes the report).
 */
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ExitCode, UserError, usageError } from '../../errors.js';
import { dateHint } from '../../util/time.js';
import { visible } from '../../util/excerpt.js';

export interface RunFlags {
  config: string;
  workers?: string;
  maxRuns?: string;
  out?: string;
  strategies?: string;
  shard?: string;
  from?: string;
  to?: string;
  quiet?: boolean;
  json?: boolean;
  resume?: boolean;
  force?: boolean;
}

/** a flag's positive integer, else a usage error (64) naming it */
function positiveInt(flag: string, v: string): number {
  // beyond 2^53 the number is not the text typed (99999999999999999999 read as 100000000000000000000, and was echoed so)
  if (!/^\d+$/.test(v) || Number(v) < 1) throw usageError(`${flag}: expected a positive integer, got '${v}'`);
  // the key's own limit (workers: 1024) is the config's to say, for a number read as typed
  if (!Number.isSafeInteger(Number(v))) throw usageError(`${flag}: '${v}' is too large (above ${Number.MAX_SAFE_INTEGER})`);
  return Number(v);
}

/** `extra.stress`: `marginlab stress` turns the config's stress runs on (src/cli/commands/stress.ts). */
export async function runCommand(flags: RunFlags, extra: Pick<import('../../config/index.js').ConfigOverrides, 'stress'> = {}): Promise<number> {
  const [{ loadConfig, configPath, parseDate }, { parseShard }, { startLoaderThread }] = await Promise.all([
    import('../../config/index.js'),
    import('../../shard/plan.js'),
    import('../../shard/run.js'),
  ]);
  // the dataset loader thread loads its modules while the config loads
  startLoaderThread();
  const overrides: import('../../config/index.js').ConfigOverrides = { ...extra };
  if (flags.workers !== undefined) overrides.workers = positiveInt('--workers', flags.workers);
  if (flags.maxRuns !== undefined) overrides.maxRuns = positiveInt('--max-runs', flags.maxRuns);
  for (const k of ['from', 'to'] as const) {
    const v = flags[k];
    if (v === undefined) continue;
    if (parseDate(v) === null) throw usageError(`--${k}: expected a date (ISO-8601 like 2025-06-01, or ms UTC), got '${v}'${dateHint(v)}`);
    overrides[k] = v;
  }
  // both bounds on the command line: their order is a usage error of the flags, not of the config file
  if (flags.from !== undefined && flags.to !== undefined && parseDate(flags.to)! <= parseDate(flags.from)!) {
    throw usageError(`--to ${flags.to} must be after --from ${flags.from} (swap them?)`);
  }
  if (flags.strategies !== undefined) {
    const names = flags.strategies.split(',').map((s) => s.trim()).filter(Boolean);
    if (names.length === 0) throw usageError('--strategies: expected a comma-separated list of strategy names');
    overrides.strategies = names;
  }
  let shard = null;
  if (flags.shard !== undefined) {
    shard = parseShard(flags.shard);
    if (!shard) throw usageError(`--shard: expected i/N with 1 ≤ i ≤ N (e.g. --shard 2/4), got '${flags.shard}'`);
  }
  const loaded = await loadConfig(flags.config, overrides);
  const outDir = flags.out ? resolve(flags.out) : configPath(loaded, loaded.config.output.dir);
  // --out, the config's output.dir, or its default reports/<name> (an unwritable default is not a config error: 64)
  const outSource = flags.out ? 'flag' : loaded.config.output.dir === `reports/${loaded.config.name}` ? 'default' : 'config';
  const { openOutDir } = await import('../../util/outdir.js');
  // the output folder: never a dataset, inside one or containing one, never the config's folder;
  // a non-empty folder marginlab did not make needs --force; locked until the report is written
  const out = openOutDir(outDir, {
    kind: 'run',
    inputs: [
      ...loaded.config.data.map((d) => ({ label: 'dataset', path: configPath(loaded, d.path) })),
      ...loaded.config.strategyDirs.map((d) => ({ label: 'strategy folder', path: configPath(loaded, d) })),
    ],
    notEqual: [{ label: "config file's folder", path: loaded.baseDir }],
    ...(flags.force ? { force: true } : {}),
    source: outSource,
    name: flags.out ? '--out' : outSource === 'default' ? 'the default output folder' : 'output.dir',
  });
  // a second Ctrl-C during the sweep (the first stops it softly, see runInto) ends the process at once
  const { resumeHint } = await import('../../shard/run.js');
  out.interruptNote = `finished results are kept in ${join(out.path, 'results')} (finish with \`${resumeHint(loaded, shard, out.path)}\`)`;
  try {
    return await runInto(out, outSource, loaded, shard, flags);
  } catch (err) {
    out.discard();
    throw err;
  } finally {
    out.release();
  }
}

async function runInto(
  out: import('../../util/outdir.js').OutDir,
  outSource: 'flag' | 'config' | 'default',
  loaded: import('../../config/index.js').LoadedConfig,
  shard: import('../../shard/plan.js').ShardSpec | null,
  flags: RunFlags,
): Promise<number> {
  const outDir = out.path;
  const [{ runSweep, resumeHint }, { createProgress, chooseProgressMode }, { setSoftStop }, { guardReportStep }] = await Promise.all([
    import('../../shard/run.js'),
    import('../../shard/progress.js'),
    import('../../util/interrupt.js'),
    import('../../shard/manifest-mark.js'),
  ]);
  const mode = chooseProgressMode({ quiet: !!flags.quiet, json: !!flags.json });
  const progress = createProgress(mode);
  // a line naming the user's things (the report folder's path) with its control characters escaped (visible)
  const say = (line: string) => {
    if (mode !== 'quiet' && mode !== 'json') process.stderr.write(`${visible(line)}\n`);
  };

  // the first Ctrl-C (SIGINT, SIGTERM) stops the sweep softly; a second one ends the process (src/util/interrupt.ts)
  const stop = new AbortController();
  setSoftStop(() => {
    say('marginlab: stopping (Ctrl-C again to quit at once); finished results are kept');
    stop.abort();
  });
  let outcome;
  try {
    const onWarning = (message: string) => {
      if (mode === 'json') process.stdout.write(`${JSON.stringify({ event: 'warning', message })}\n`);
      else if (mode !== 'quiet') process.stderr.write(`marginlab: warning: ${message}\n`);
    };
    const onNotice = (message: string) => {
      if (mode === 'json') process.stdout.write(`${JSON.stringify({ event: 'notice', message })}\n`);
      else if (mode !== 'quiet') process.stderr.write(`marginlab: ${message}\n`);
    };
    outcome = await runSweep({ loaded, outDir, outSource, shard, resume: !!flags.resume, progress, signal: stop.signal, onWarning, onNotice, out });
  } finally {
    setSoftStop(null);
  }
  const done = outcome.ok + outcome.errored;
  if (outcome.interrupted) {
    throw new UserError(`interrupted: ${done} of ${outcome.total} runs finished, kept in ${outDir}/results (finish with \`${resumeHint(loaded, shard, outDir)}\`)`, ExitCode.INTERRUPTED);
  }

  // a Ctrl-C while the report is written: its temp folder is removed, the results stay, and the
  // manifest says "interrupted" (the report files are missing or of an earlier run)
  const endReportStep = guardReportStep(out, `the ${done} results are kept in`);
  let written: string[] | null = null;
  /** runs that judged liquidations on trade prices at some bars (no mark candle there): said on stderr too, not only in report.md */
  let onTrade = 0;
  let okRuns = 0;
  /** the folder is not this command's any more (deleted, its lock taken): its manifest is left alone */
  let lost = false;
  try {
    out.assertHeld('results');
    const { loadRunFolder, renderReportFiles } = await import('../../report/index.js');
    // the results this command wrote or validated are read without their schema checked again (their bytes' sha256 is compared)
    const folder = loadRunFolder(outDir, { forReport: true, checked: outcome.checked });
    for (const r of folder.results) {
      if (r.status !== 'ok') continue;
      okRuns++;
      if (r.liquidationPriceSource !== 'mark') onTrade++;
    }
    written = await renderReportFiles({
      dir: outDir,
      results: folder.results,
      manifest: folder.manifest,
      formats: [...loaded.config.output.formats],
      outSource,
    });
  } catch (err) {
    // the folder deleted while the report was written: that is what failed
    const gone = out.lostError(['results']);
    lost = gone !== null;
    throw gone ?? err;
  } finally {
    endReportStep(written !== null || lost);
  }
  // a folder deleted (or its lock taken) while the report was written must not end in success
  out.assertHeld('results');
  if (onTrade > 0) {
    const note = `${onTrade} of ${okRuns} runs judged liquidations on trade prices at some or all bars (no mark-price candle of a symbol at those bars): liquidations may come earlier or later than on the venue; import mark candles at the bar timeframe (docs/data.md)`;
    if (mode === 'json') process.stdout.write(`${JSON.stringify({ event: 'notice', message: note })}\n`);
    else say(`marginlab: note: ${note}`);
  }
  if (mode === 'json') process.stdout.write(`${JSON.stringify({ event: 'report', dir: outDir, files: written })}\n`);
  say(
    `marginlab: ${outcome.ok} ok, ${outcome.errored} errored${outcome.skipped ? ` (${outcome.skipped} kept from before)` : ''} of ${outcome.total} runs` +
      `${shard ? ` (shard ${shard.index}/${shard.count} of ${outcome.plan.runs.length})` : ''} in ${(outcome.manifest.wallClockMs / 1000).toFixed(1)}s; report: ${outDir}`,
  );
  // failed runs are said even under --quiet (no progress, no summary): a silent exit 1 in a nightly job's log explains nothing
  if (outcome.errored > 0) {
    if (mode !== 'json') {
      process.stderr.write(`marginlab: ${outcome.errored} run${outcome.errored === 1 ? '' : 's'} failed:\n`);
      // control characters escaped (visible), as in the progress lines: a name or an error must not recolour the terminal or forge a line
      for (const f of outcome.failures.slice(0, 20)) process.stderr.write(`  ${visible(`${f.runId} ${f.strategy}${f.params ? ` (${f.params})` : ''} ${f.setup} ${f.leverage}x${f.stress ? ` ${f.stress}` : ''}: ${f.error}`)}\n`);
      if (outcome.failures.length > 20) process.stderr.write(`  ... and ${outcome.failures.length - 20} more (see report.md)\n`);
    }
  }
  const code = sweepExitCode(outcome.failures);
  if (code === ExitCode.INTERNAL)
    process.stderr.write(`marginlab: an internal engine invariant failed in ${outcome.failures.filter((f) => f.internal).length} run(s): a marginlab bug, not your strategy's; the results and the report are written (exit 70)\n`);
  return code;
}

/** 0 when no run errored, 70 when an internal engine invariant failed in any run, else 1 */
export function sweepExitCode(failures: readonly { internal: boolean }[]): number {
  if (failures.length === 0) return ExitCode.OK;
  return failures.some((f) => f.internal) ? ExitCode.INTERNAL : ExitCode.FAILED;
}

/** The flags of `run` after --config (shared with `marginlab stress`). */
export function sweepOptions(cmd: Command): Command {
  return cmd
    .option('-w, --workers <n>', 'worker threads (default: config, else auto: up to the available cores, fewer for a small sweep)')
    .option('-o, --out <dir>', 'output folder (default: config output.dir, else reports/<name>)')
    .option('-s, --strategies <names>', 'comma-separated strategy names (overrides the config list)')
    .option('--shard <i/N>', 'run only the i-th of N deterministic slices (1-based)')
    .option('--max-runs <n>', 'the largest plan accepted (default: config maxRuns, else 100,000)')
    .option('--from <date>', 'replay start (ISO date or ms UTC), overrides the config')
    .option('--to <date>', 'replay end, exclusive (ISO date or ms UTC), overrides the config')
    .option('-q, --quiet', 'no progress, warnings or summary (failed runs are still listed on stderr)')
    .option('--json', 'machine-readable progress events on stdout (one JSON object per line)')
    .option('-r, --resume', 'skip runs whose result already exists in the output folder (same plan only)')
    .option('--force', 'write into a non-empty folder marginlab did not make (only the files marginlab writes are replaced)');
}

export function register(program: Command): void {
  sweepOptions(
    program
      .command('run')
      .description('run the sweep of a backtest config (strategies × params × setups × leverage) and write its report')
      .option('-c, --config <file>', 'config file', 'backtest.config.ts'),
  ).action(async (flags: RunFlags) => {
    process.exitCode = await runCommand(flags);
  });
}
