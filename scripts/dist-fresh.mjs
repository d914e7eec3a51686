// Whether dist/ is the build of the current sources. scripts/build.mjs writes dist/.build-stamp last
// (a failed build leaves none), holding the newest modification time of its inputs taken when the
// build started: dist/ is fresh while no input is newer than that (a source saved during the build
// makes it stale; the stamp's own time would not). Used by the build itself (--if-stale) and by the
// repository's command (bin/marginlab.mjs), which runs dist/ when it is fresh and the sources
// through tsx when it is not.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** what the build reads, relative to the repository's root */
export const BUILD_INPUTS = ['src', 'strategies', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json', 'scripts/build.mjs', 'scripts/dist-fresh.mjs'];

/** the newest modification time of a file or of anything under a folder */
function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(p)) t = Math.max(t, newest(join(p, e)));
  return t;
}

/** the newest modification time of the build's inputs under `root` (throws when one is missing) */
export function newestInput(root) {
  return Math.max(...BUILD_INPUTS.map((p) => newest(join(root, p))));
}

/** the stamp's text for a build that started when the newest input was `newestMs` */
export function stampText(newestMs) {
  return `${JSON.stringify({ newestInputMs: newestMs, builtAt: new Date().toISOString() })}\n`;
}

/** true when <root>/dist/.build-stamp exists and no build input is newer than the one it records (false when an input is missing) */
export function distIsFresh(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return false;
  try {
    const recorded = JSON.parse(readFileSync(stamp, 'utf8')).newestInputMs;
    return typeof recorded === 'number' && newestInput(root) <= recorded;
  } catch {
    return false;
  }
}
