/**
 * A small ZIP reader (what Binance's public-data archives need): the central directory, stored
 * and deflated entries (node:zlib), ZIP64 sizes and offsets, and a CRC-32 check of every entry.
 */
import { constants } from 'node:buffer';
import { inflateRawSync } from 'node:zlib';
import { dataError } from '../../errors.js';

export interface ZipEntry {
  name: string;
  data: Buffer;
}

let CRC_TABLE: Uint32Array | null = null;
export function crc32(buf: Uint8Array): number {
  if (!CRC_TABLE) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** the largest entry read (the longest string Node makes) */
const MAX_ENTRY = constants.MAX_STRING_LENGTH;

/** A member that is data, not a resource fork Finder adds when zipping on a Mac (`__MACOSX/…`, `._name`). */
export const isDataMember = (name: string): boolean => !name.split('/').some((p) => p === '__MACOSX' || p.startsWith('._'));

export const isZip = (buf: Uint8Array): boolean => buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && (buf[2] === 3 || buf[2] === 5);

/** Every file entry of a ZIP archive held in memory (folders are skipped). `label` names it in errors. */
export function readZip(buf: Buffer, label: string): ZipEntry[] {
  const bad = (why: string) => dataError(`${label}: not a readable ZIP archive (${why})`);
  try {
    return readEntries(buf, bad);
  } catch (err) {
    // an offset or a length of the archive's own records that points past its end (a ZIP64 locator, an extra field):
    // a damaged archive (65), not an internal error (70)
    if (err instanceof RangeError) throw bad(`a record points past the end of the file (${buf.length} bytes)`);
    throw err;
  }
}

function readEntries(buf: Buffer, bad: (why: string) => Error): ZipEntry[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 65_535); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw bad('no end-of-central-directory record; the file may be truncated');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOff = buf.readUInt32LE(eocd + 16);
  if (cdOff === 0xffffffff || count === 0xffff) {
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) throw bad('ZIP64 locator missing');
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (buf.readUInt32LE(z64) !== 0x06064b50) throw bad('ZIP64 end record missing');
    count = Number(buf.readBigUInt64LE(z64 + 32));
    cdOff = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const out: ZipEntry[] = [];
  let p = cdOff;
  for (let e = 0; e < count; e++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw bad(`central directory entry ${e + 1} is damaged`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    let csize = buf.readUInt32LE(p + 20);
    let usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28), xlen = buf.readUInt16LE(p + 30), clen = buf.readUInt16LE(p + 32);
    let lho = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nlen);
    // ZIP64 extra field: the 0xFFFFFFFF fields, in order usize, csize, offset
    let x = p + 46 + nlen;
    const xend = x + xlen;
    while (x + 4 <= xend) {
      const id = buf.readUInt16LE(x), sz = buf.readUInt16LE(x + 2);
      if (id === 0x0001) {
        let q = x + 4;
        if (usize === 0xffffffff) { usize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (csize === 0xffffffff) { csize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (lho === 0xffffffff) { lho = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      x += 4 + sz;
    }
    p = xend + clen;
    if (name.endsWith('/')) continue;
    if (lho + 30 > buf.length || buf.readUInt32LE(lho) !== 0x04034b50) throw bad(`local header of ${name} is damaged`);
    const start = lho + 30 + buf.readUInt16LE(lho + 26) + buf.readUInt16LE(lho + 28);
    if (start + csize > buf.length) throw bad(`${name} is cut short`);
    // an entry is read as one string: a larger one (a few hundred KB of deflated zeros can say
    // 600 MB) is refused before it is inflated, and inflating stops at the size the directory gives
    if (usize > MAX_ENTRY) throw bad(`${name} is ${usize} bytes uncompressed, more than the ${MAX_ENTRY} bytes marginlab reads from one archive member`);
    const raw = buf.subarray(start, start + csize);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) {
      try { data = inflateRawSync(raw, { maxOutputLength: Math.max(1, usize) }); } catch (err) {
        throw bad((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? `${name} inflates to more than the ${usize} bytes the directory says` : `${name}: ${(err as Error).message}`);
      }
    } else throw bad(`${name} uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    if (data.length !== usize) throw bad(`${name} inflates to ${data.length} bytes, the directory says ${usize}`);
    if (crc32(data) !== crc) throw bad(`${name} fails its CRC-32 check`);
    out.push({ name, data });
  }
  return out;
}

/** A ZIP archive of `files` (deflated), as Binance publishes them; used by tests and fixtures. */
export function writeZip(files: { name: string; data: Buffer }[], deflate: (b: Buffer) => Buffer): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let off = 0;
  for (const f of files) {
    const comp = deflate(f.data);
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(f.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(8, 8);
    lh.writeUInt32LE(crc, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(f.data.length, 22); lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(8, 10);
    ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(f.data.length, 24); ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(off, 42);
    locals.push(lh, name, comp);
    central.push(ch, name);
    off += 30 + name.length + comp.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(off, 16);
  return Buffer.concat([...locals, cd, end]);
}
