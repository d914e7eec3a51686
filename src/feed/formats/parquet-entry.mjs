// Parquet decoding thread (src/feed/formats/parquet.ts readParquet): from the TypeScript sources the
// loaders first, from dist/ the compiled module as it is.
import { FROM_SOURCE, registerLoaders } from '../../util/register-loaders.mjs';

if (FROM_SOURCE) await registerLoaders();
await import(FROM_SOURCE ? './parquet-worker.ts' : './parquet-worker.js');
