/**
 * Before any test: the compiled package in dist/ is brought up to date (`scripts/build.mjs
 * --if-stale`: nothing to do after `npm ci`, ≈ 8 s after a change to src/). The command-line
 * tests run the compiled CLI, as a user's `npx marginlab` does (its start-up without tsx
 * compiling marginlab's own TypeScript is ≈ 0.7 s shorter per command).
 *
 * The run's temporary files: TMPDIR points into one fresh folder for the whole run (the test
 * forks and every command they start inherit it, so `os.tmpdir()` is that folder), removed at the
 * end whatever the tests left there (a run wrote ≈ 130 folders and up to 1.6 GB into /tmp before).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): () => void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), '--if-stale'], { stdio: 'inherit' });
  const outer = process.env.TMPDIR;
  const dir = mkdtempSync(join(tmpdir(), 'marginlab-test-'));
  chmodSync(dir, 0o1777); // as /tmp is: tests that run a command as another user (uid 65534) reach their folders
  process.env.TMPDIR = dir;
  return () => {
    if (outer === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = outer;
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
}
