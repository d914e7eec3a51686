// Dataset loader thread. The main thread loads datasets here, in a short-lived worker: the
// columns live in SharedArrayBuffers that outlive the thread, while the loader's transient
// memory (file buffers, Arrow decoding) goes away with it instead of staying in the main
// thread's allocator for the rest of the sweep.
// It loads no user code: from dist/ it needs no loaders.
import { FROM_SOURCE, registerLoaders } from '../util/register-loaders.mjs';

// no top-level await (src/cli/main.ts says why)
void (FROM_SOURCE ? registerLoaders() : Promise.resolve()).then(() => import(FROM_SOURCE ? './load-worker.ts' : './load-worker.js'));
