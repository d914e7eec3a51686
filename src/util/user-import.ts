/**
 * Importing a user's module (a config, a strategy) past a fault of Node 20: a .cts file reached by
 * a path the callers cannot foresee (a package name, a tsconfig `paths` alias, a computed
 * specifier) is handed to Node by tsx as CommonJS source, whose require() of an ES module
 * (marginlab) Node's ES-module loader fails; through tsx's tsImport it loads.
 */

/**
 * Node 20 failing a require() inside CommonJS source its ES-module loader runs, of an ES module:
 * "Cannot read properties of undefined (reading 'exports')" thrown by that require, or
 * "request for '…' is not in cache".
 */
function requireOfEsmFault(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (/^request for '.*' is not in cache$/.test(err.message)) return true;
  const frame = /\n\s*at (.*)/.exec(String(err.stack));
  return frame !== null && frame[1]!.startsWith('require (node:internal/modules/esm/translators:');
}

/**
 * what a user module's import failed with (reported, or retried): a CommonJS module's error (a .cts
 * or .cjs file it imports) Node rejects a promise of its own with as well, left unhandled, some time
 * later (it crashed marginlab with a stack trace after the one-line message)
 */
const importFaults = new WeakSet<object>();
let importFaulted = false;

/** an import's error Node rejects a second promise with (importFaults): listeners of 'unhandledRejection' ignore it */
export function isImportFault(reason: unknown): boolean {
  // (WeakSet.has runs no code of the reason: a proxy's traps)
  return typeof reason === 'object' && reason !== null && importFaults.has(reason);
}

/**
 * Once an import has failed: importFaults' second rejection is ignored; any other rejection is left
 * to what Node does without a listener (it crashes the process) when no other listener takes it.
 */
const onStrayRejection = (reason: unknown): void => {
  if (isImportFault(reason) || process.listenerCount('unhandledRejection') > 1) return;
  process.nextTick(() => {
    throw reason;
  });
};

/**
 * Why Node cannot import the file of `url`, or null: its path holds a backslash (a POSIX file or folder name may),
 * which a file URL holds encoded (%5C) and Node's ES-module loader refuses ("Invalid module … must not include
 * encoded "/" or "\\" characters imported from" marginlab's own file). Said of the user's file, with what to rename.
 */
export function unimportablePath(url: string): string | null {
  if (!url.startsWith('file:')) return null;
  const path = new URL(url).pathname;
  if (!/%5C|%2F/i.test(path)) return null;
  const parts = path.split('/');
  const folder = parts.slice(0, -1).find((p) => /%5C|%2F/i.test(p));
  return `Node cannot import a file whose path holds a backslash: rename ${folder === undefined ? 'the file' : `the folder '${decodeURIComponent(folder)}'`} without it`;
}

export type TsImport = (url: string, parent: string) => Promise<unknown>;

/**
 * A user module imported through tsImport, or as any module (tsImport null); then, when it fails
 * as requireOfEsmFault says, once more through tsImport (other errors are not retried: no second
 * run of the module's code).
 */
export async function importUserModule(url: string, tsImport: TsImport | null = null): Promise<unknown> {
  const unimportable = unimportablePath(url);
  if (unimportable !== null) throw new Error(unimportable);
  try {
    return await (tsImport === null ? import(url) : tsImport(url, import.meta.url));
  } catch (err) {
    if (typeof err === 'object' && err !== null) {
      importFaults.add(err);
      if (!importFaulted) process.on('unhandledRejection', onStrayRejection);
      importFaulted = true;
    }
    if (tsImport !== null || !requireOfEsmFault(err)) throw err;
    return importUserModule(url, (await import('tsx/esm/api')).tsImport);
  }
}
