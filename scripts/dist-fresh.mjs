// Whether dist/ is the build of the current sources: its stamp, which scripts/build.mjs writes last
// (a failed build leaves none), is newer than every file the build reads. Used by the build itself
// (--if-stale) and by the repository's command (bin/marginlab.mjs), which runs dist/ when it is
// fresh and the sources through tsx when it is not.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** what the build reads, relative to the repository's root */
export const BUILD_INPUTS = ['src', 'strategies', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs', 'scripts/dist-fresh.mjs'];

/** the newest modification time of a file or of anything under a folder */
function newest(p) {
  const st = statSync(p);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(p)) t = Math.max(t, newest(join(p, e)));
  return t;
}

/** true when <root>/dist/.build-stamp is newer than every build input (false when either is missing) */
export function distIsFresh(root) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return false;
  try {
    return statSync(stamp).mtimeMs > Math.max(...BUILD_INPUTS.map((p) => newest(join(root, p))));
  } catch {
    return false;
  }
}
