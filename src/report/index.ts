/**
 * Report rendering (DESIGN §9): summary.json, runs.csv, report.md, report.html from stored
 * RunResults and the RunManifest. Files are rendered into a temp folder inside `dir` and renamed
 * into place one by one, so a reader never sees a half-written file.
 */
import { closeSync, existsSync, lstatSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { REPORT_FORMATS, type ReportFormat } from '../config/schema.js';
import type { RunManifest, RunResult } from '../shard/types.js';
import { buildModel } from './model.js';
import { mkdirs } from '../util/outdir.js';
import { fsError, withFsErrors, type OutSource } from '../util/fs-errors.js';
import { trackTemp, yieldToSignals } from '../util/interrupt.js';
import { leverageSweep, modeTotals } from './aggregate.js';
import { buildSummary, summaryJsonPieces, summaryRuns } from './summary.js';
import { csvLines } from './csv.js';
import { renderMarkdown } from './markdown.js';
import { givenValue, isThenable, shownValue } from '../util/excerpt.js';

export { loadRunFolder, loadResults, loadTrades } from './load.js';
export { renderTradesCsv, renderLiquidationsCsv, runTrades, runLiquidations, TRADE_COLUMNS, LIQUIDATION_COLUMNS } from './trades.js';
export { SummarySchema, SummaryRunSchema, SUMMARY_SCHEMA_VERSION, type Summary } from './summary.js';
export { buildModel, verdictFor, compareRuns, type ReportModel, type Verdict } from './model.js';
export { renderCsv, csvCell } from './csv.js';

export { REPORT_FORMATS, type ReportFormat };
export const REPORT_FILES: Record<ReportFormat, string> = {
  json: 'summary.json',
  csv: 'runs.csv',
  md: 'report.md',
  html: 'report.html',
};
/** written with the 'csv' format, next to runs.csv */
export const TRADES_FILE = 'trades.csv';
export const LIQUIDATIONS_FILE = 'liquidations.csv';

export interface WriteReportParams {
  dir: string;
  results: RunResult[];
  manifest: RunManifest;
  /** default: all four */
  formats?: ReportFormat[];
  /** liquidation-probability threshold of the stress survival table (default: the config's stress.survivalThreshold, else 5 %) */
  survivalThreshold?: number;
  /** where `dir` came from, for the exit code and hint of a file-system error: this call's parameter (writeReport's default), --out (renderReportFiles' default), the config's output.dir, or a command's argument */
  outSource?: OutSource;
  /** false: the command has no --resume (report, merge): a full disk's hint does not offer it */
  resume?: false;
  /**
   * write into a non-empty folder marginlab did not make (a run folder, an empty or a new folder need
   * none): only the report files are replaced there, nothing else is touched. A dataset is refused always.
   */
  force?: boolean;
}

/** the formats asked for, each once (default all); an unknown one is a RangeError */
function reportFormats(p: WriteReportParams): ReportFormat[] {
  const formats = p.formats && p.formats.length ? [...new Set(p.formats)] : [...REPORT_FORMATS];
  for (const f of formats) if (!REPORT_FORMATS.includes(f)) throw new RangeError(`writeReport: unknown format '${String(f)}'`);
  return formats;
}

/**
 * Render the chosen formats into `dir`; returns the paths written. `dir` follows the rules of every
 * output folder (docs/scaling.md, "Output folders"): new, empty, or marginlab's run folder (a
 * non-empty folder marginlab did not make only with `force`; a dataset never), locked while written.
 * A refused folder is a UserError (exit code 64) naming it; nothing is written then.
 */
export async function writeReport(p: WriteReportParams): Promise<string[]> {
  // a JavaScript caller's shapes (results without the manifest failed with "Cannot read properties of undefined (reading 'config')")
  if (typeof p !== 'object' || p === null) throw new TypeError(`writeReport: params must be one object { dir, results, manifest } (loadRunFolder(dir) gives results and manifest), got ${shownValue(p)}`);
  reportFormats(p);
  const given = p as Partial<WriteReportParams>;
  if (typeof given.dir !== 'string' || given.dir === '') throw new TypeError(`writeReport: dir must be the run folder to write into, got ${shownValue(given.dir)}`);
  if (!Array.isArray(given.results)) throw new TypeError(`writeReport: results must be an array of run results (loadRunFolder(dir).results), got ${shownValue(given.results)}`);
  if (typeof given.manifest !== 'object' || given.manifest === null) throw new TypeError(`writeReport: manifest must be the run folder's manifest (loadRunFolder(dir).manifest), got ${shownValue(given.manifest)}`);
  const { openOutDir, MARKER_FILE } = await import('../util/outdir.js');
  // the folders above `dir` this call makes, removed again (if left empty) when it fails
  const missing: string[] = [];
  for (let d = resolve(p.dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.push(d);
  const takeBack = () => {
    for (const d of missing) {
      if (!existsSync(d)) continue; // (the folder itself, removed by discard or openOutDir)
      try {
        rmdirSync(d); // only while empty
      } catch {
        break;
      }
    }
  };
  let out;
  try {
    out = openOutDir(p.dir, { kind: 'run', name: 'writeReport: dir', source: p.outSource ?? 'api', force: p.force === true, forceFlag: 'set force: true', resume: false });
  } catch (err) {
    takeBack();
    throw err;
  }
  let ok = false;
  try {
    // a manifest of another shape ({}, the promise of one) failed inside the report ("Cannot read properties of undefined
    // (reading 'total')"); said once the folder is judged (a folder of the user's is refused first), which is then left as it was
    const { manifestProblem } = await import('../shard/schema.js');
    const problem = manifestProblem(p.manifest);
    if (problem !== null) {
      const what = isThenable(p.manifest) ? givenValue(p.manifest) : `not a run manifest (${problem})`;
      throw new TypeError(`writeReport: manifest must be the run folder's manifest (loadRunFolder(dir).manifest), got ${what}`);
    }
    const written = await renderReportFiles({ ...p, outSource: p.outSource ?? 'api' });
    // a folder deleted (or its lock taken) while the report was written must not end in success
    out.assertHeld();
    ok = true;
    return written;
  } catch (err) {
    throw out.lostError() ?? err;
  } finally {
    if (!ok && out.discard()) takeBack();
    // a marker this call added goes with a failure, and off a folder of the user's written into with force: it stays
    // theirs (a marker would say marginlab owns its results/ and manifest.json, for a later `run --out` to replace)
    else if (out.markerAdded && (!ok || out.forced)) rmSync(join(out.path, MARKER_FILE), { force: true });
    out.release();
  }
}

/**
 * writeReport without the folder's checks and lock: for a command that holds the folder already
 * (run, merge, report open it with openOutDir first). Not part of the package's API.
 */
export async function renderReportFiles(p: WriteReportParams): Promise<string[]> {
  const formats = reportFormats(p);
  const model = buildModel(p.results, p.manifest, { survivalThreshold: p.survivalThreshold });
  const sweep = leverageSweep(model.history);
  const modes = modeTotals(model.history);

  // Not src/util/atomic: writeDirAtomic would replace the whole run folder (results/ and
  // manifest.json live there too), and writeFileAtomic file by file would rename the first file
  // before the next is written (a failed write would leave a mixed old/new set and its temp file).
  // Here every file is written before any is renamed, and the temp folder is always removed. Each
  // file is written as soon as it is rendered, so only one rendered text is in memory at a time
  // (a stress report over thousands of paths renders a summary.json of hundreds of MB).
  // Only the file system calls are mapped to a user error naming the folder: an error of the
  // rendering, which runs between the writes, passes unchanged whatever its code.
  const ctx = { path: p.dir, action: 'write the report into', role: 'output', source: p.outSource ?? 'flag', ...(p.resume === false ? { resume: false as const } : {}) } as const;
  const fsCall = <T>(fn: () => T): T => withFsErrors(ctx, fn);
  const made = fsCall(() => mkdirs(p.dir));
  const tmp = join(p.dir, `.report.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const written: string[] = [];
  // after each file and each MB written, a Ctrl-C gets its turn (src/util/interrupt.ts removes the temp folder)
  const write = async (name: string, text: string | Iterable<string>): Promise<void> => {
    const path = join(tmp, name);
    if (typeof text === 'string') fsCall(() => writeFileSync(path, text));
    else {
      // pieces gathered into chunks of about 1 MB, each written as it fills
      const fd = fsCall(() => openSync(path, 'w'));
      let complete = false;
      try {
        let chunk = '';
        const flush = () => {
          const buf = Buffer.from(chunk);
          fsCall(() => {
            for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off);
          });
          chunk = '';
        };
        for (const piece of text) {
          chunk += piece;
          if (chunk.length >= 1 << 20) {
            flush();
            await yieldToSignals();
          }
        }
        if (chunk.length > 0) flush();
        complete = true;
      } finally {
        // after an error the descriptor is closed quietly: the error on its way out says what happened
        if (complete) fsCall(() => closeSync(fd));
        else {
          try {
            closeSync(fd);
          } catch {
            /* see above */
          }
        }
      }
    }
    written.push(name);
    await yieldToSignals();
  };
  let tmpMade = false;
  let done = false;
  let untrack = () => {};
  try {
    fsCall(() => mkdirSync(tmp));
    tmpMade = true;
    untrack = trackTemp(tmp);
    for (const f of formats) {
      switch (f) {
        case 'json':
          await write(REPORT_FILES.json, summaryJsonPieces(buildSummary(model, sweep, modes, false), summaryRuns(model)));
          break;
        case 'csv': {
          await write(REPORT_FILES.csv, csvLines(model.runs));
          const { tradesCsvLines, liquidationsCsvLines } = await import('./trades.js');
          await write(TRADES_FILE, tradesCsvLines(model.runs));
          await write(LIQUIDATIONS_FILE, liquidationsCsvLines(model.runs));
          break;
        }
        case 'md':
          await write(REPORT_FILES.md, renderMarkdown(model, sweep, modes));
          break;
        case 'html': {
          const { renderHtml } = await import('./html.js');
          await write(REPORT_FILES.html, renderHtml(model, sweep, modes));
          break;
        }
      }
    }
    // a report file's name taken by a folder would fail its rename after the files before it were
    // renamed (a mixed old/new set): refuse before renaming any, naming the file
    for (const name of written) {
      const target = join(p.dir, name);
      let st;
      try {
        st = lstatSync(target);
      } catch {
        continue; // none yet
      }
      if (st.isDirectory()) throw fsError(Object.assign(new Error(`EISDIR: ${target}`), { code: 'EISDIR' }), { ...ctx, path: target, action: 'write the report file' });
    }
    for (const name of written) fsCall(() => renameSync(join(tmp, name), join(p.dir, name)));
    done = true;
  } finally {
    // (only a temp folder this call made: a name taken by someone else is left alone)
    if (tmpMade) rmSync(tmp, { recursive: true, force: true });
    untrack();
    // a report that failed leaves none of the folders it made, if they are empty (rmdir removes nothing else)
    if (!done) {
      for (const dir of [...made].reverse()) {
        try {
          rmdirSync(dir);
        } catch {
          break; // not empty (a file renamed into it before the failure) or gone: its parents stay too
        }
      }
    }
  }
  return written.map((name) => join(p.dir, name));
}
