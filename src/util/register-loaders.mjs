// Loader setup shared by every entry point (the CLI, the run worker threads, the loader thread).
// - tsx, so that the user's TypeScript strategies and configs load whatever their package.json
//   "type" says: its ESM hooks for `import()`, its CommonJS hooks for `require()` inside a file
//   that Node treats as CommonJS.
// - When marginlab runs from its TypeScript sources (this repository: no compiled package-root.js
//   beside this file), the 'marginlab-source' export condition, so that `from 'marginlab'` in the
//   library strategies and the repository's config resolves to src/index.ts instead of dist/.
// The compiled package (dist/) itself needs no tsx: it is plain JavaScript.
import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { register as registerTsxEsm } from 'tsx/esm/api';
import { register as registerTsxCjs } from 'tsx/cjs/api';

/** true when running from src/*.ts (through tsx), false when running from dist/. */
export const FROM_SOURCE = !existsSync(new URL('./package-root.js', import.meta.url));

let registered = false;

/** Register the loaders once per thread. */
export function registerLoaders() {
  if (registered) return;
  registered = true;
  if (FROM_SOURCE) registerHooks(new URL('./source-condition.mjs', import.meta.url));
  registerTsxCjs();
  registerTsxEsm();
}
