/**
 * Reading Arrow IPC / Feather v2 files as freqtrade and pandas write them: uncompressed, LZ4
 * frame or ZSTD compressed record batches (decoded by ../arrow-io.ts's readIpcTable, as the
 * loader's files are).
 */
import { excerptList } from '../../util/excerpt.js';
import type { Table } from 'apache-arrow';
import { dataError } from '../../errors.js';
import { fillColumn, isNumberColumn, readIpcTable, timeScaleToMs } from '../arrow-io.js';

export function readArrowTable(buf: Uint8Array, label: string): Table {
  try {
    return readIpcTable(buf);
  } catch (err) {
    throw dataError(`${label}: not a readable Arrow IPC / feather file: ${(err as Error).message}; export it again`);
  }
}

/** One column as Float64 (nulls → NaN), read as the loader reads dataset files (arrow-io fillColumn): time columns to ms UTC. */
export function columnF64(table: Table, name: string, label: string, asTime = false): Float64Array {
  const field = table.schema.fields.find((f) => f.name === name);
  if (!field) throw dataError(`${label}: no column '${name}' (has: ${excerptList(table.schema.fields.map((f) => f.name))})`);
  const scale = asTime ? timeScaleToMs(field.type) : isNumberColumn(field.type) ? 1 : null;
  if (scale === null) throw dataError(`${label}: column '${name}' has type ${String(field.type)}, expected ${asTime ? 'a timestamp' : 'numbers'}`);
  const out = new Float64Array(table.numRows);
  try {
    fillColumn(table, field, out, scale, asTime);
  } catch (err) {
    throw dataError(`${label}: column '${name}' is not readable: ${(err as Error).message}; export it again`);
  }
  return out;
}
