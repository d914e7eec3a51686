// Loader setup shared by every entry point (the CLI, the run worker threads, the loader thread).
// - tsx, so that the user's TypeScript strategies and configs load whatever their package.json
//   "type" says: its ESM hooks for `import()`, its CommonJS hooks for `require()` inside a file
//   that Node treats as CommonJS.
// - When marginlab runs from its TypeScript sources (this repository: no compiled package-root.js
//   beside this file), the 'marginlab-source' export condition, so that `from 'marginlab'` in the
//   library strategies and the repository's config resolves to src/index.ts instead of dist/.
// The compiled package (dist/) itself needs no tsx: it is plain JavaScript. Its entry points
// register nothing at start (entryLoaders) and tsx is registered when the first user module is
// about to load (userCodeLoaders): with tsx's hooks in place every later import, marginlab's own
// and its dependencies' included, goes through them (measured: `marginlab --version` 1.3 s with
// tsx registered at start, 0.5 s without).
import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';

/** true when running from src/*.ts (through tsx), false when running from dist/. */
export const FROM_SOURCE = !existsSync(new URL('./package-root.js', import.meta.url));

/** the registration of this thread, once started */
let registered = null;

/** Register the loaders once per thread; resolves when they are in place. */
export function registerLoaders() {
  return (registered ??= (async () => {
    // the package's entry first, without the hooks: user code imports 'marginlab', which is this
    // module graph — loaded through tsx's hooks it took 1.5 s of a worker's start, natively 0.2–0.4 s
    if (FROM_SOURCE) registerHooks(new URL('./source-condition.mjs', import.meta.url));
    else await import('../index.js');
    const [esm, cjs] = await Promise.all([import('tsx/esm/api'), import('tsx/cjs/api')]);
    cjs.register();
    esm.register();
  })());
}

/** whether user code loaded by this thread loads with tsx (set by entryLoaders) */
let forUserCode = false;

/**
 * An entry point of the CLI or of its threads: from the sources the loaders now (marginlab's own
 * modules are TypeScript); from dist/ none yet, and every user module (config, strategy: any
 * extension, as a .js strategy may import a .ts helper) is loaded with tsx (userCodeLoaders).
 */
export async function entryLoaders() {
  forUserCode = true;
  if (FROM_SOURCE) await registerLoaders();
}

/** Before user code loads: the loaders, in a thread whose entry point asked for them (entryLoaders); true when they are in place. */
export async function userCodeLoaders() {
  if (!forUserCode) return false;
  await registerLoaders();
  return true;
}
