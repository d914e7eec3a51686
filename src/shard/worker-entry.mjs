// Piscina worker entry. The loaders for this thread (tsx for the user's strategies, registered
// when the first loads; from the sources at once, for marginlab's own modules), then the handler:
// compiled worker.js in the package, worker.ts in the repository.
import { FROM_SOURCE, entryLoaders } from '../util/register-loaders.mjs';

// the handler as a promise (piscina awaits a default export that is one), not a top-level await: a module with one
// goes through V8's async module evaluation, where Node aborts at random, rarely (src/cli/main.ts)
export default entryLoaders()
  .then(() => import(FROM_SOURCE ? './worker.ts' : './worker.js'))
  .then((mod) => mod.default);
