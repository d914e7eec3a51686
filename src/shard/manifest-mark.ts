/**
 * The `"interrupted": true` mark of a run folder's manifest.json: set by `run` when a Ctrl-C stops
 * it in its report step (also `merge`), dropped by `report` once every planned run has a result and the report is
 * rendered. The file is rewritten atomically with the rest of it as it was.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic.js';
import { manifestText } from './result-schema.js';
import { onInterrupt } from '../util/interrupt.js';
import { cliCommand, shellArg } from '../util/shell.js';
import type { OutDir } from '../util/outdir.js';

/** Set (`on`) or drop the mark; false when the manifest already was so. Throws when it cannot be read or written. */
export function setInterruptedMark(manifestPath: string, on: boolean): boolean {
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  if ((m.interrupted === true) === on) return false;
  if (on) m.interrupted = true;
  else delete m.interrupted;
  writeFileAtomic(manifestPath, manifestText(m));
  return true;
}

/** Set the mark if the manifest can be read and written (a command that is ending anyway: best effort). */
function markInterrupted(out: OutDir): void {
  try {
    setInterruptedMark(join(out.path, 'manifest.json'), true);
  } catch {
    /* no manifest to mark, or the disk refuses even that */
  }
}

/**
 * The report step of a command whose results and manifest are in place (`run` after its sweep,
 * `merge` after it wrote the merged folder): until the returned function is called, a Ctrl-C
 * marks the manifest "interrupted" (the report files are missing or of an earlier run) and says
 * that `marginlab report` writes the report. Call it with `written` false when the step failed (a
 * full disk, an I/O error): the manifest gets the same mark, so that `report`, `compare` and
 * `merge` see the report files are not this run's.
 */
export function guardReportStep(out: OutDir, what: string): (written: boolean) => void {
  out.interruptNote = `${what} ${out.path} but the report was not written (\`${cliCommand(`report ${shellArg(out.path)}`)}\` writes it)`;
  const off = onInterrupt(() => markInterrupted(out));
  return (written) => {
    off();
    out.interruptNote = null;
    if (!written) markInterrupted(out);
  };
}
