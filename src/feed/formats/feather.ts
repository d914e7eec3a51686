/**
 * Reading Arrow IPC / Feather v2 files as freqtrade and pandas write them: uncompressed, LZ4
 * frame or ZSTD compressed record batches (decoded by ../arrow-io.ts's readIpcTable, as the
 * loader's files are).
 */
import { excerptList } from '../../util/excerpt.js';
import type { Data, Table } from 'apache-arrow';
import { dataError } from '../../errors.js';
import { isNumberColumn, readIpcTable, timeScaleToMs } from '../arrow-io.js';

export function readArrowTable(buf: Uint8Array, label: string): Table {
  try {
    return readIpcTable(buf);
  } catch (err) {
    throw dataError(`${label}: not a readable Arrow IPC / feather file: ${(err as Error).message}; export it again`);
  }
}

/** One column as Float64 (nulls → NaN); time columns converted to ms UTC. */
export function columnF64(table: Table, name: string, label: string, asTime = false): Float64Array {
  const field = table.schema.fields.find((f) => f.name === name);
  if (!field) throw dataError(`${label}: no column '${name}' (has: ${excerptList(table.schema.fields.map((f) => f.name))})`);
  const scale = asTime ? timeScaleToMs(field.type) : isNumberColumn(field.type) ? 1 : null;
  if (scale === null) throw dataError(`${label}: column '${name}' has type ${String(field.type)}, expected ${asTime ? 'a timestamp' : 'numbers'}`);
  const out = new Float64Array(table.numRows);
  let at = 0;
  for (const d of table.getChild(name)!.data as Data[]) {
    const v = d.values as ArrayLike<number | bigint>;
    for (let i = 0; i < d.length; i++) {
      const valid = d.nullCount === 0 || !d.nullBitmap || (d.nullBitmap[(d.offset + i) >> 3]! & (1 << ((d.offset + i) & 7))) !== 0;
      const raw = v[i]!;
      let x: number;
      if (typeof raw === 'bigint') x = scale < 1 ? Number(raw / BigInt(Math.round(1 / scale))) - (raw < 0n && raw % BigInt(Math.round(1 / scale)) !== 0n ? 1 : 0) : Number(raw) * scale;
      else x = scale < 1 ? Math.floor(raw * scale) : raw * scale;
      out[at + i] = valid ? x : NaN;
    }
    at += d.length;
  }
  return out;
}
