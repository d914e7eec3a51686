/**
 * Before any test: the compiled package in dist/ is brought up to date (`scripts/build.mjs
 * --if-stale`: nothing to do after `npm ci`, ≈ 8 s after a change to src/). The command-line
 * tests run the compiled CLI, as a user's `npx marginlab` does (its start-up without tsx
 * compiling marginlab's own TypeScript is ≈ 0.7 s shorter per command).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build.mjs', import.meta.url)), '--if-stale'], { stdio: 'inherit' });
}
