/**
 * The `"interrupted": true` mark of a run folder's manifest.json: set by `run` when a Ctrl-C stops
 * it in its report step, dropped by `report` once every planned run has a result and the report is
 * rendered. The file is rewritten atomically with the rest of it as it was.
 */
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

/** Set (`on`) or drop the mark; false when the manifest already was so. Throws when it cannot be read or written. */
export function setInterruptedMark(manifestPath: string, on: boolean): boolean {
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  if ((m.interrupted === true) === on) return false;
  if (on) m.interrupted = true;
  else delete m.interrupted;
  writeFileAtomic(manifestPath, `${JSON.stringify(m, null, 2)}\n`);
  return true;
}
