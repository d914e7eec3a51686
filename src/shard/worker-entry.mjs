// Piscina worker entry. Node 20 cannot load TypeScript in a worker thread by itself, so the
// worker registers tsx's loader for its own thread, then loads the TypeScript handler.
import { register } from 'tsx/esm/api';

register();
const mod = await import('./worker.ts');
export default mod.default;
