/**
 * Atomic file and folder writes: nothing is half-written. Files go to a temp name in the same
 * folder and are renamed (the temp file is removed when the write fails, e.g. disk full); folders
 * are built in a temp folder whose entries then replace those of the same names (src/util/outdir.ts:
 * the output-folder rules, marker and lock).
 */
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';
import { mkdirs, writeOutDir, type OutDir, type OutDirOptions } from './outdir.js';
import { trackTemp } from './interrupt.js';

/** `opts.createDir` false: the folder must exist (a run's results/: one deleted meanwhile is not made again, see OutDir.assertHeld) */
export function writeFileAtomic(path: string, data: string | Uint8Array, opts: { createDir?: boolean } = {}): void {
  writeFilesAtomic(dirname(path), [{ name: basename(path), data }], opts);
}

/**
 * Several files of one folder (compare.md and compare.html): every file is written to a temp name
 * first, and only when all are written is each renamed into place, so a failed write (disk full)
 * leaves the earlier files as they were. No temp file is left behind (an interrupt removes them:
 * ./interrupt.ts).
 */
export function writeFilesAtomic(dir: string, files: readonly { name: string; data: string | Uint8Array }[], opts: { createDir?: boolean } = {}): void {
  if (opts.createDir !== false) mkdirs(dir);
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmps = files.map((f) => join(dir, `.${f.name}.${tag}.tmp`));
  const untrack = tmps.map((t) => trackTemp(t));
  try {
    files.forEach((f, i) => writeFileSync(tmps[i]!, f.data));
    files.forEach((f, i) => renameSync(tmps[i]!, join(dir, f.name)));
  } finally {
    for (const t of tmps) rmSync(t, { force: true });
    for (const u of untrack) u();
  }
}

/**
 * Build a folder atomically: `build` fills a fresh temp folder; on success its entries replace
 * those of `target` (only the entries marginlab wrote are ever replaced or deleted); on failure the
 * temp folder is removed and `target` is left as it was. `target` must be new, empty, or a folder
 * marginlab wrote (see openOutDir); default kind 'dataset'.
 */
export async function writeDirAtomic<T>(target: string | OutDir, build: (tmpDir: string) => Promise<T> | T, opts: OutDirOptions = { kind: 'dataset' }): Promise<T> {
  return writeOutDir(target, opts, build);
}
