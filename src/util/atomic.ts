/**
 * Atomic file and folder writes: nothing is half-written. Files go to a temp name in the same
 * folder and are renamed (the temp file is removed when the write fails, e.g. disk full); folders
 * are built in a temp folder whose entries then replace those of the same names (src/util/outdir.ts:
 * the output-folder rules, marker and lock).
 */
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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
  const tag = newTag();
  const tmps = files.map((f) => tempBeside(dir, f.name, 'tmp', tag));
  const untrack = tmps.map((t) => trackTemp(t));
  try {
    files.forEach((f, i) => writeFileSync(tmps[i]!, f.data));
    placeAll(files.map((f, i) => ({ tmp: tmps[i]!, dest: join(dir, f.name) })), tag);
  } finally {
    for (const t of tmps) rmSync(t, { force: true });
    for (const u of untrack) u();
  }
}

const newTag = (): string => `${process.pid}.${randomBytes(4).toString('hex')}`;

/** A temp name beside `rel` in `dir` (`.<name>.<pid>.<hex>.tmp|old`, which removeStaleTemps recognises). */
export function tempBeside(dir: string, rel: string, ext: 'tmp' | 'old', tag = newTag()): string {
  return join(dir, dirname(rel), `.${basename(rel)}.${tag}.${ext}`);
}

/**
 * Move written temp files into place, all or nothing: every destination but the last that exists is
 * set aside first (`.<name>.<tag>.old`); the last is renamed over its destination in one step (a
 * manifest listing the others: never missing, it commits them); when any move fails, every file
 * moved is removed and every file set aside put back. The set-aside files are removed on success;
 * the temp files that were not moved stay the caller's.
 */
export function placeAll(entries: readonly { tmp: string; dest: string }[], tag = newTag()): void {
  const placed: { dest: string; backup: string | null; moved: boolean }[] = [];
  try {
    entries.forEach((e, i) => {
      const p = { dest: e.dest, backup: null as string | null, moved: false };
      placed.push(p);
      if (i < entries.length - 1 && existsSync(e.dest)) {
        const backup = tempBeside(dirname(e.dest), basename(e.dest), 'old', tag);
        renameSync(e.dest, backup);
        p.backup = backup;
      }
      renameSync(e.tmp, e.dest);
      p.moved = i < entries.length - 1;
    });
  } catch (err) {
    for (const p of placed.reverse()) {
      try {
        if (p.moved) rmSync(p.dest, { force: true });
        if (p.backup) renameSync(p.backup, p.dest);
      } catch { /* as much as can be put back */ }
    }
    throw err;
  }
  for (const p of placed) if (p.backup) rmSync(p.backup, { force: true });
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
