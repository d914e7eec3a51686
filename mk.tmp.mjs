import { tableFromIPC, tableToIPC, makeTable, vectorFromArray, Table, TimestampMillisecond, Float64, Field, Schema, RecordBatch, makeData, Struct } from 'apache-arrow';
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
const [src, dir, file, mode] = process.argv.slice(2);
const t = tableFromIPC(readFileSync(src));
const n = t.numRows;
const cols = t.schema.fields.map(f => Array.from(t.getChild(f.name).toArray(), Number));
let idx = [...Array(n).keys()];
if (mode === 'gap') idx = idx.filter(i => i < 100 || i > 110);
if (mode === 'dup') idx.splice(51, 0, 50);
if (mode === 'dupdiff') idx.splice(51, 0, 50);
if (mode === 'unsorted') { [idx[60], idx[61]] = [idx[61], idx[60]]; }
const out = cols.map(c => Float64Array.from(idx.map(i => c[i])));
if (mode === 'nan') out[4][70] = NaN;
if (mode === 'inf') out[1][70] = Infinity;
if (mode === 'dupdiff') out[4][51] += 1;
if (mode === 'hilo') { out[2][80] = out[3][80] - 1; }
if (mode === 'neg') out[1][90] = -5;
const fields = t.schema.fields;
const data = makeData({ type: new Struct(fields), length: idx.length, nullCount: 0, children: fields.map((f, j) => makeData({ type: f.type, length: idx.length, nullCount: 0, data: j === 0 ? BigInt64Array.from(out[0], BigInt) : out[j] })) });
const rb = new RecordBatch(new Schema(fields, t.schema.metadata), data);
const bytes = tableToIPC(new Table([rb]), 'file');
writeFileSync(`${dir}/${file}`, bytes);
const m = JSON.parse(readFileSync(`${dir}/manifest.json`, 'utf8'));
const e = m.files.find(f => f.path === file);
e.sha256 = createHash('sha256').update(bytes).digest('hex'); e.rows = idx.length; e.first = out[0][0]; e.last = out[0].at(-1);
writeFileSync(`${dir}/manifest.json`, JSON.stringify(m, null, 2));
