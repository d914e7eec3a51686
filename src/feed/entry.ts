/**
 * The data layer's Arrow functions as the package entry (src/index.ts) exports them: the same
 * functions, with their module (and apache-arrow's 146 modules behind it) imported at the first
 * call. Every user module that imports 'marginlab' — a config file, a strategy — loads the entry,
 * in the CLI's main thread and in every worker; none of them reads or writes Arrow files (the data
 * loads in the loader thread), and importing the reader took ≈ 0.3 s of each.
 */
import type { LoadOptions, MarketData } from './types.js';
import type { Manifest } from './manifest.js';
import type { SynthOptions } from './synth.js';
import type { DatasetInput, WriteDatasetOptions } from './write.js';

/** Load a dataset folder (its manifest and Arrow files, checked) into shared memory: every symbol on one timeline (docs/data-format.md). */
export async function loadDataset(dir: string, opts: LoadOptions = {}): Promise<MarketData> {
  return (await import('./load.js')).loadDataset(dir, opts);
}

/** Write a synthetic dataset folder (same format as every dataset). */
export async function synthesize(opts: SynthOptions): Promise<Manifest> {
  return (await import('./synth.js')).synthesize(opts);
}

/**
 * Write a whole dataset folder atomically: a new or empty folder, or one marginlab wrote whole (its files are
 * replaced); a non-empty folder of the user's, or a dataset of imported data, only with `force` (64 naming it). The
 * series are checked as a default load checks them (gaps allowed): what that load could not read, an empty series or
 * one given twice is 65, and nothing is written.
 */
export async function writeDataset(dir: string, input: DatasetInput, opts: WriteDatasetOptions = {}): Promise<Manifest> {
  return (await import('./write.js')).writeDataset(dir, input, opts);
}
