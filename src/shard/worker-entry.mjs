// Piscina worker entry. Registers the loaders for this thread (tsx for the user's TypeScript
// strategies; from the sources also for marginlab's own), then loads the handler: compiled
// worker.js in the package, worker.ts in the repository.
import { FROM_SOURCE, registerLoaders } from '../util/register-loaders.mjs';

registerLoaders();
const mod = await import(FROM_SOURCE ? './worker.ts' : './worker.js');
export default mod.default;
