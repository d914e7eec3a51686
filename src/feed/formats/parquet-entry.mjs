// Parquet decoding thread (src/feed/formats/parquet.ts readParquet): from the TypeScript sources the
// loaders first, from dist/ the compiled module as it is.
import { FROM_SOURCE, registerLoaders } from '../../util/register-loaders.mjs';

// no top-level await (src/cli/main.ts says why)
void (FROM_SOURCE ? registerLoaders() : Promise.resolve()).then(() => import(FROM_SOURCE ? './parquet-worker.ts' : './parquet-worker.js'));
