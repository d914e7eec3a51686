// Piscina worker entry. The loaders for this thread (tsx for the user's strategies, registered
// when the first loads; from the sources at once, for marginlab's own modules), then the handler:
// compiled worker.js in the package, worker.ts in the repository.
import { FROM_SOURCE, entryLoaders } from '../util/register-loaders.mjs';

await entryLoaders();
const mod = await import(FROM_SOURCE ? './worker.ts' : './worker.js');
export default mod.default;
