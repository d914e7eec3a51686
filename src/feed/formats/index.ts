/**
 * Importers: which format a file or folder is (by name and content, or named by --format), and
 * reading it into series for the one commit path (../ingest.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { dataError, missingInput, usageError } from '../../errors.js';
import { symbolProblem, type FileKind } from '../manifest.js';
import type { SeriesData } from '../ingest.js';
import { readBinance, isBinanceFile, isBinanceIndexFile, binanceOtherContract } from './binance.js';
import { readFreqtrade, isFreqtradeFile, readsFreqtradeFile } from './freqtrade.js';
import { readVenue, sniffVenue } from './venues.js';
import { isParquetFile, listFiles } from './common.js';
import { excerpt, excerptList } from '../../util/excerpt.js';

export const IMPORT_FORMATS = ['binance', 'freqtrade', 'bybit', 'okx', 'csv', 'parquet'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export interface ReadOptions {
  symbol?: string;
  kind?: FileKind;
  timeframe?: string;
  contractSize?: number;
}

/** The format of the inputs, from file names and contents; a usage error when they disagree or nothing tells. */
export function detectFormat(paths: readonly string[]): ImportFormat {
  const found = new Set<ImportFormat>();
  for (const p of paths) {
    if (!existsSync(p)) throw missingInput(`not found: ${p}`);
    const folder = statSync(p).isDirectory();
    // in a folder: the Binance and freqtrade names, and Bybit/OKX exports (.csv/.json) told by their fields
    // a COIN-M or delivery contract's Binance file is Binance's, for the importer to say it does not read it
    const binance = (n: string) => isBinanceFile(n) || binanceOtherContract(n) !== null;
    const files = folder ? listFiles([p], (n) => binance(n) || isFreqtradeFile(n) || isParquetFile(n) || /\.(csv|json)$/i.test(n)) : [p];
    for (const f of files) {
      const n = basename(f);
      if (isParquetFile(n)) found.add('parquet');
      else if (folder && !binance(n) && !isFreqtradeFile(n)) {
        const v = sniffVenue(f);
        if (v) found.add(v);
      } else if (binance(n)) found.add('binance');
      else if (isFreqtradeFile(n)) found.add('freqtrade');
      else if (/\.(feather|json\.gz)$/.test(n)) found.add('freqtrade');
      else if (/\.zip$/i.test(n)) found.add('binance');
      else if (/\.(csv|txt|tsv)\.gz$/i.test(n) || /\.tsv$/i.test(n)) found.add('csv');
      else if (/\.(csv|json)$/i.test(n)) {
        const v = sniffVenue(f);
        if (v) found.add(v);
        else if (/\.json$/i.test(n) && Array.isArray(safeJson(f))) found.add('freqtrade');
        else found.add('csv');
      }
    }
  }
  if (found.size === 0) throw usageError(`no importable files in ${paths.join(', ')}; name the format with --format ${IMPORT_FORMATS.join('|')}`);
  if (found.size > 1) throw usageError(`the inputs mix formats (${[...found].join(', ')}); import them separately or name one with --format`);
  return [...found][0]!;
}

/** Names of files that hold market data in some form (what a folder of downloads or exports may hold). */
const DATA_FILE = /\.(csv|json|json\.gz|jsongz|feather|zip|csv\.gz|txt|txt\.gz|tsv|tsv\.gz|parquet|pq)$/i;

/** The files of a folder each importer reads (its reader lists the folder with the same test; csv and parquet read one file named). */
const READS: Record<Exclude<ImportFormat, 'csv' | 'parquet'>, (name: string) => boolean> = {
  binance: isBinanceFile,
  freqtrade: readsFreqtradeFile,
  bybit: (n) => /\.(csv|json)$/i.test(n),
  okx: (n) => /\.(csv|json)$/i.test(n),
};

/**
 * Data files inside the input folders that `format`'s importer does not read (a CSV copy beside
 * freqtrade's feather files, a plain CSV of another symbol): an import of the folder leaves them
 * out, which the command says rather than importing part of a folder in silence.
 */
export function unreadFiles(format: ImportFormat, paths: readonly string[]): string[] {
  if (format === 'csv' || format === 'parquet') return [];
  const reads = READS[format];
  const folders = paths.filter((p) => existsSync(p) && statSync(p).isDirectory());
  const left = listFiles(folders, (n) => DATA_FILE.test(n) && !reads(n));
  // Binance's index and premium-index klines have the klines' names: told apart by their folder
  return format === 'binance' ? [...left, ...listFiles(folders, isBinanceFile).filter(isBinanceIndexFile)] : left;
}

function safeJson(f: string): unknown {
  try { return JSON.parse(readFileSync(f, 'utf8')); } catch { return null; }
}

/** Read the inputs of a non-CSV format into series (CSV streams through ../csv.ts). */
export function readSources(format: Exclude<ImportFormat, 'csv' | 'parquet'>, paths: readonly string[], o: ReadOptions): SeriesData[] {
  const series = format === 'binance' ? readBinance(paths, o)
    : format === 'freqtrade' ? readFreqtrade(paths, o.kind ? { ...o, kinds: [o.kind] } : o)
    : readVenue(format, paths, o);
  // one rule for every symbol (a file name, a word in one-line messages): --symbol's, or the one an input names
  const badFlag = o.symbol !== undefined ? symbolProblem(o.symbol) : null;
  if (badFlag) throw usageError(`invalid --symbol '${excerpt(o.symbol!, 60)}': it ${badFlag}`);
  for (const s of series) {
    const bad = symbolProblem(s.symbol);
    if (bad) throw dataError(`${s.where(0)}: the symbol '${excerpt(s.symbol, 60)}' the input names ${bad}; give --symbol to name it`);
  }
  // --symbol renames one symbol's data; over several it would merge markets into one series
  const named = [...new Set(series.map((s) => s.named).filter((x): x is string => !!x))].sort();
  if (o.symbol !== undefined && named.length > 1) {
    throw usageError(`--symbol ${o.symbol} would name the data of ${named.length} symbols (${excerptList(named)}) one symbol; import one symbol's files at a time, or leave --symbol out`);
  }
  return series;
}
