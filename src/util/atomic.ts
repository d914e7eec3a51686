/**
 * Atomic file and folder writes: nothing is half-written. Files go to a temp name in the same
 * folder and are renamed; folders are built under a temp name and renamed into place.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * Build a folder atomically: `build` fills a fresh temp folder beside `target`; on success the
 * temp folder replaces `target` (an existing target is moved aside, then removed); on failure the
 * temp folder is removed and `target` is left as it was.
 */
export async function writeDirAtomic<T>(target: string, build: (tmpDir: string) => Promise<T> | T): Promise<T> {
  const parent = dirname(target);
  mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const tmp = join(parent, `.${basename(target)}.${tag}.tmp`);
  mkdirSync(tmp, { recursive: true });
  let result: T;
  try {
    result = await build(tmp);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  if (existsSync(target)) {
    const old = join(parent, `.${basename(target)}.${tag}.old`);
    renameSync(target, old);
    renameSync(tmp, target);
    rmSync(old, { recursive: true, force: true });
  } else {
    renameSync(tmp, target);
  }
  return result;
}
