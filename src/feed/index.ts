/**
 * The data layer (src/feed): dataset folders of Arrow IPC files + manifest.json, loaded into
 * SharedArrayBuffer-backed columns on one timeline (contract: ./types.ts; format: docs/data-format.md).
 */
export type { MarketData, SymbolColumns, LoadOptions } from './types.js';
export { loadDataset, datasetTimeframes } from './load.js';
export { fundingSettleTime, FUNDING_JITTER_MS } from './timeframe.js';
export { sliceMarketData, sliceByTime, selectSymbols, fundingRange } from './slice.js';
export { readManifest, writeManifest, dataFileName, type Manifest, type ManifestFile, type FileKind } from './manifest.js';
export { timeframeMs, timeframeMsOrNaN, fmtTime } from './timeframe.js';
export { writeDataset, type SeriesInput, type DatasetInput } from './write.js';
export { synthesize, synthSymbols, type SynthOptions } from './synth.js';
