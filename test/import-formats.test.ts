/**
 * Importers (Binance public data, freqtrade, Bybit, OKX, CSV with --columns), appending with
 * identical / conflicting overlap, --replace, symbol-name collisions and the spacing check, on
 * fixtures derived from the real data (test/fixtures/import, built by scripts/make-import-fixtures.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { constants as zlibConstants, crc32 as zlibCrc32, deflateRawSync, gzipSync } from 'node:zlib';
import { readBinance } from '../src/feed/formats/binance.js';
import { readFreqtrade, freqtradeSymbol } from '../src/feed/formats/freqtrade.js';
import { readVenue } from '../src/feed/formats/venues.js';
import { detectFormat } from '../src/feed/formats/index.js';
import { readZip, writeZip } from '../src/feed/formats/zip.js';
import { commitSeries, defaultTimeframe, nextManifest } from '../src/feed/ingest.js';
import { importCsv } from '../src/feed/csv.js';
import { loadDataset } from '../src/feed/load.js';
import { inspectDataset } from '../src/feed/inspect.js';
import { readKindFile } from '../src/feed/arrow-io.js';
import { dataFileName, symbolFilePart } from '../src/feed/manifest.js';
import { ProblemList, fundingSanityTexts } from '../src/feed/validate.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';

const FX = resolve(__dirname, 'fixtures', 'import');
const root = mkdtempSync(join(tmpdir(), 'ml-formats-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(root, `ds-${++n}`);
async function userError(p: Promise<unknown> | (() => unknown)): Promise<UserError> {
  try { await (typeof p === 'function' ? p() : p); } catch (e) { if (e instanceof UserError) return e; throw e; }
  throw new Error('expected a UserError');
}
/** A one-entry ZIP of already-deflated data with the given CRC-32 and uncompressed size. */
function zipOf(name: string, comp: Buffer, crc: number, usize: number): Buffer {
  const nm = Buffer.from(name);
  const lh = Buffer.alloc(30);
  lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(8, 8);
  lh.writeUInt32LE(crc >>> 0, 14); lh.writeUInt32LE(comp.length, 18); lh.writeUInt32LE(usize, 22); lh.writeUInt16LE(nm.length, 26);
  const ch = Buffer.alloc(46);
  ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(8, 10);
  ch.writeUInt32LE(crc >>> 0, 16); ch.writeUInt32LE(comp.length, 20); ch.writeUInt32LE(usize, 24); ch.writeUInt16LE(nm.length, 28);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(46 + nm.length, 12); end.writeUInt32LE(30 + nm.length + comp.length, 16);
  return Buffer.concat([lh, nm, comp, ch, nm, end]);
}
/** The real BTC 1h rows (Binance layout, ms) the Binance fixtures were cut from. */
const series = readFileSync(join(FX, 'binance', 'series', 'BTCUSDT-1h.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
const readArrow = (path: string, kind: 'candles' | 'mark' | 'funding') => readKindFile(path, path, kind, new ProblemList())!;

describe('Binance public data', () => {
  it('reads a folder of monthly (zip, header, ms; csv without header) and daily (zip, µs) klines into one series equal to the source', () => {
    const s = readBinance([join(FX, 'binance', 'klines')]);
    expect(s.map((x) => [x.symbol, x.kind, x.timeframe])).toEqual(Array(5).fill(['BTCUSDT', 'candles', '1h']));
    const out = outDir();
    const [r] = commitSeries(out, s);
    const want = series.filter((x) => x[0]! < Date.UTC(2025, 6, 4));
    expect(r).toMatchObject({ rows: want.length, added: want.length, gaps: 0, first: want[0]![0], last: want.at(-1)![0] });
    const got = readArrow(r!.path, 'candles');
    expect(Array.from(got.timestamp)).toEqual(want.map((x) => x[0]));
    expect(Array.from(got.columns.close!)).toEqual(want.map((x) => x[4]));
    expect(Array.from(got.columns.volume!)).toEqual(want.map((x) => x[5]));
  });

  it("a Binance archive whose rows are not of the month or day its name says is refused naming both (a renamed file's rows went in under the name's provenance)", async () => {
    const ex = join(root, `renamed-${++n}`);
    mkdirSync(ex);
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(ex, 'BTCUSDT-1h-2025-07.zip'));
    expect(() => readBinance([join(ex, 'BTCUSDT-1h-2025-07.zip')])).toThrow(/BTCUSDT-1h-2025-07\.zip \(archive member [^)]*\): 720 of its 720 rows lie outside 2025-07, the month its name says \(rows from 2025-06-01 to 2025-06-30\): a file renamed or mislabelled\? Nothing was imported/);
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-07-01.zip'), join(ex, 'BTCUSDT-1h-2025-07-02.zip'));
    const r = await feedCli(['import', join(ex, 'BTCUSDT-1h-2025-07-02.zip'), '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/lie outside 2025-07-02, the day its name says \(rows from 2025-07-01 to 2025-07-01\)/);
    // as published: every row inside (funding's few ms of jitter included)
    expect(readBinance([join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(FX, 'binance', 'fundingRate')]).length).toBe(2);
  });

  it("monthly candles (data.binance.vision's BTCUSDT-1mo-2024-01.zip) are said to be unsupported, as a file or in a folder (it said the name was not a public-data one)", async () => {
    const ex = join(root, `monthly-${++n}`);
    mkdirSync(ex);
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(ex, 'BTCUSDT-1mo-2025-06.zip'));
    const said = /BTCUSDT-1mo-2025-06\.zip: monthly candles are not supported \(no fixed timeframe; docs\/data\.md, "Choices and what is left out"\): import the daily, hourly or finer archives of the same months$/;
    expect(() => readBinance([join(ex, 'BTCUSDT-1mo-2025-06.zip')])).toThrow(said);
    expect(() => readBinance([ex])).toThrow(said);
    // '1M' (a name of the klines' pattern) gets the same reason (it said "not a fixed timeframe")
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(ex, 'BTCUSDT-1M-2025-06.zip'));
    expect(() => readBinance([join(ex, 'BTCUSDT-1M-2025-06.zip')])).toThrow(/BTCUSDT-1M-2025-06\.zip: monthly candles are not supported/);
    rmSync(join(ex, 'BTCUSDT-1M-2025-06.zip'));
    // beside archives it reads: left out with that reason (the generic warning said to import it as CSV with --timeframe 1h)
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(ex, 'BTCUSDT-1h-2025-06.zip'));
    const folder = await feedCli(['import', ex, '--format', 'binance', '--out', outDir()]);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stderr).toContain('marginlab: warning: left out 1 monthly candle file of the input folder (BTCUSDT-1mo-2025-06.zip): monthly candles are not supported');
    expect(folder.stderr).not.toContain('--timeframe 1h');
  });

  it("spot klines (data.binance.vision's data/spot/…, the futures klines' file names) are not taken for the perpetual's: refused (65) unless --kind candles", async () => {
    const spot = join(root, 'data', 'spot', 'monthly', 'klines', 'BTCUSDT', '1h');
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(spot, 'BTCUSDT-1h-2025-06.zip'));
    expect(() => readBinance([join(root, 'data', 'spot')])).toThrow("spot klines (its path has a spot folder, as data.binance.vision's data/spot/…), the spot market's prices, not the perpetual's");
    const r = await feedCli(['import', spot, '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(readBinance([spot], { kind: 'candles' })[0]).toMatchObject({ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h' });
  });

  it('mark candles by their markPriceKlines folder, funding from fundingRate archives; the dataset loads', async () => {
    const out = outDir();
    const rs = commitSeries(out, readBinance([join(FX, 'binance')].map((p) => join(p, 'klines', 'BTCUSDT-1h-2025-06.zip')).concat([join(FX, 'binance', 'markPriceKlines'), join(FX, 'binance', 'fundingRate')])));
    expect(rs.map((r) => `${r.kind} ${r.rows}`)).toEqual(['candles 720', 'mark 90', 'funding 90']);
    const md = await loadDataset(out);
    expect(md.columns[0]!.fundingRate.length).toBe(90);
    expect(md.columns[0]!.fundingPrice[0]).toBeCloseTo(md.columns[0]!.open[0]!, -3);
  });

  it('appends: a later month extends the series, the same month again adds nothing, a changed row fails naming it and writes nothing, --replace replaces', async () => {
    const out = outDir();
    const june = join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip');
    const july = ['01', '02', '03'].map((d) => join(FX, 'binance', 'klines', `BTCUSDT-1h-2025-07-${d}.zip`));
    expect(commitSeries(out, readBinance([june]))[0]).toMatchObject({ rows: 720, added: 720 });
    expect(commitSeries(out, readBinance(july))[0]).toMatchObject({ rows: 792, added: 72, gaps: 0 });
    expect(commitSeries(out, readBinance([june]))[0]).toMatchObject({ rows: 792, added: 0 });
    // one changed close in a copy of the June archive
    const csv = readZip(readFileSync(june), 'june')[0]!.data.toString('utf8').split('\n');
    const cells = csv[100]!.split(',');
    const t = Number(cells[0]);
    cells[4] = String(Number(cells[4]) + 0.5);
    csv[100] = cells.join(',');
    const bad = join(root, 'BTCUSDT-1h-2025-06.zip');
    writeFileSync(bad, writeZip([{ name: 'BTCUSDT-1h-2025-06.csv', data: Buffer.from(csv.join('\n')) }], (b) => deflateRawSync(b)));
    const before = readFileSync(join(out, 'BTCUSDT-candles-1h.arrow'));
    const manifestBefore = readFileSync(join(out, 'manifest.json'), 'utf8');
    const e = await userError(() => commitSeries(out, readBinance([bad])));
    expect(e.exitCode).toBe(65);
    expect(e.message).toContain(`BTCUSDT-1h-2025-06.zip:BTCUSDT-1h-2025-06.csv line 101: the row at ${new Date(t).toISOString()} (${t}) conflicts with the dataset's BTCUSDT-candles-1h.arrow: close ${Number(cells[4])} vs ${Number(cells[4]) - 0.5}`);
    expect(readFileSync(join(out, 'BTCUSDT-candles-1h.arrow')).equals(before)).toBe(true);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifestBefore);
    expect(readdirSync(out).filter((f) => f.startsWith('.'))).toEqual([]);
    expect(commitSeries(out, readBinance([bad]), { replace: true })[0]).toMatchObject({ rows: 720, added: 720 });
  });

  it('two files disagreeing about one time in one import fail naming both; a damaged archive is a data error', async () => {
    const june = join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip');
    const text = readZip(readFileSync(june), 'june')[0]!.data.toString('utf8').split('\n');
    const d = join(root, `dup-${++n}`);
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(d, 'BTCUSDT-1h-2025-06.zip'));
    const row = text[1]!.split(',');
    row[2] = String(Number(row[2]) + 1);
    writeFileSync(join(d, 'BTCUSDT-1h-2025-06-01.csv'), `${row.join(',')}\n`);
    const e = await userError(() => commitSeries(outDir(), readBinance([d])));
    expect(e.details[0]).toMatch(/^BTCUSDT-1h-2025-06\.zip:BTCUSDT-1h-2025-06\.csv line 2: 2025-06-01T00:00:00\.000Z \(\d+\) is also at BTCUSDT-1h-2025-06-01\.csv line 1 with another high \([\d.]+ vs [\d.]+\)$/);
    const cut = join(root, 'BTCUSDT-1h-2025-04.zip');
    writeFileSync(cut, readFileSync(june).subarray(0, 2000));
    expect((await userError(() => readBinance([cut]))).message).toContain('not a readable ZIP archive');
  });

  it('a zip bomb (545 KB deflating to 512 MiB) is a data error naming the member, not an internal error; an entry inflating past its stated size is refused', async () => {
    // 512 copies of one sync-flushed deflate block of 1 MiB of '1', then an empty final block
    const MiB = Buffer.alloc(1 << 20, 0x31);
    const block = deflateRawSync(MiB, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    const copies = 512;
    const comp = Buffer.concat([...Array.from({ length: copies }, () => block), Buffer.from([0x03, 0x00])]);
    let crc = 0;
    for (let i = 0; i < copies; i++) crc = zlibCrc32(MiB, crc);
    const file = join(root, 'BTCUSDT-1h-2024-02.zip');
    writeFileSync(file, zipOf('BTCUSDT-1h-2024-02.csv', comp, crc, copies * MiB.length));
    const r = await feedCli(['import', file, '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${file}: not a readable ZIP archive (BTCUSDT-1h-2024-02.csv is 536870912 bytes uncompressed, more than the`);
    // the directory says 100 bytes: inflating stops there
    writeFileSync(file, zipOf('BTCUSDT-1h-2024-02.csv', comp, crc, 100));
    expect((await userError(() => readZip(readFileSync(file), file))).message).toContain('BTCUSDT-1h-2024-02.csv inflates to more than the 100 bytes the directory says');
  });

  it('an archive whose records point past its end is a data error (65), not an internal error (70)', async () => {
    const ok = writeZip([{ name: 'BTCUSDT-1h-2025-06.csv', data: Buffer.from('1,2,3\n') }], (b) => deflateRawSync(b));
    const eocd = ok.length - 22;
    // a directory entry's extra-field length running past the end
    const xlen = Buffer.from(ok);
    xlen.writeUInt16LE(60_000, xlen.readUInt32LE(eocd + 16) + 30);
    // a ZIP64 locator pointing past the end (the directory's offset 0xffffffff asks for one)
    const loc = Buffer.concat([ok.subarray(0, eocd), Buffer.alloc(20), ok.subarray(eocd)]);
    loc.writeUInt32LE(0x07064b50, eocd);
    loc.writeBigUInt64LE(10n ** 9n, eocd + 8);
    loc.writeUInt32LE(0xffffffff, eocd + 20 + 16);
    for (const [name, buf] of [['xlen', xlen], ['zip64', loc]] as const) {
      const e = await userError(() => readZip(buf, name));
      expect(e.exitCode, name).toBe(65);
      expect(e.message).toBe(`${name}: not a readable ZIP archive (a record points past the end of the file (${buf.length} bytes))`);
    }
    const file = join(root, 'BTCUSDT-1h-2025-01.zip');
    writeFileSync(file, loc);
    const r = await feedCli(['import', file, '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr).not.toMatch(/internal error/);
  });

  it('--timeframe must agree with the file name', async () => {
    const e = await userError(() => readBinance([join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip')], { timeframe: '30m' }));
    expect(e.exitCode).toBe(64);
    expect(e.message).toContain('the file name says 1h trade candles, but --timeframe 30m was given; drop --timeframe');
  });

  it('a --timeframe the names of a folder\'s files disagree with says what to do (it does not pick among them)', async () => {
    // a freqtrade folder holds 1h candles and mark, 8h funding: --timeframe 30m named the mark file as "candles" and said no more
    const ft = join(FX, 'freqtrade', 'binance', 'futures');
    const e = await userError(() => readFreqtrade([ft], { timeframe: '30m' }));
    expect(e.exitCode).toBe(64);
    expect(e.message).toMatch(/the file name says 1h (trade|mark-price) candles, but --timeframe 30m was given; --timeframe does not pick among the files of a folder: drop it \(each file's name gives its timeframe\), or name the files to import/);
    const mark = join(ft, 'XRP_USDT_USDT-1h-mark.feather');
    const m = await userError(() => readFreqtrade([mark], { timeframe: '30m' }));
    expect(m.message).toBe(`${mark}: the file name says 1h mark-price candles, but --timeframe 30m was given; drop --timeframe (the file's name gives its timeframe)`);
    const b = await userError(() => readBinance([join(FX, 'binance', 'klines')], { timeframe: '30m' }));
    expect(b.message).toMatch(/the file name says 1h trade candles, but --timeframe 30m was given; --timeframe does not pick among the files of a folder: drop it/);
  });
});

describe('a folder import says which data files its importer left out', () => {
  it('a CSV of another symbol beside freqtrade files is named on stderr, not dropped in silence', async () => {
    // a user's download folder: freqtrade's XRP files and a plain CSV of ETH candles (the real data's CSV copy)
    const inc = join(root, 'incoming');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures'), inc, { recursive: true });
    writeFileSync(join(inc, 'ETH_USDT_USDT-1h-futures.csv'), 'timestamp,open,high,low,close,volume\n1747872000000,2500,2510,2490,2505,10\n');
    writeFileSync(join(inc, 'notes.md'), 'not data\n');
    const r = await feedCli(['import', inc, '--out', outDir()]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('from freqtrade data into');
    // under freqtrade's name, without a .feather or .json beside it: its own import needs no flags (the name says them)
    expect(r.stderr).toBe(
      "marginlab: warning: left out 1 CSV file under freqtrade's names without a .feather or .json beside it (ETH_USDT_USDT-1h-futures.csv): import it on its own (`npx marginlab import <file.csv> --out DIR`: the name says its kind, symbol and timeframe)\n",
    );
    // a CSV copy of a freqtrade file beside it (the real data's folder holds both): mentioned, not warned about; another CSV still warned about
    const copies = join(root, 'incoming-copies');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures'), copies, { recursive: true });
    const feather = readdirSync(copies).find((f) => f.endsWith('-futures.feather'))!;
    writeFileSync(join(copies, feather.replace(/\.feather$/, '.csv')), 'timestamp,open,high,low,close,volume\n1747872000000,1,1,1,1,1\n');
    writeFileSync(join(copies, 'notes.csv'), 'a,b\n1,2\n');
    const cp = await feedCli(['import', copies, '--out', outDir()]);
    expect(cp.code).toBe(0);
    expect(cp.stderr).toContain(`marginlab: left out 1 CSV copy of the freqtrade files beside it (${feather.replace(/\.feather$/, '.csv')}): the same rows as those files\n`);
    expect(cp.stderr).toContain('warning: left out 1 file of the input folder that the freqtrade importer does not read: notes.csv;');
    expect(cp.stderr).not.toContain('without a .feather');
    // a tab-separated copy (.tsv, .tsv.gz) is a data file too
    const tsv = join(root, 'incoming-tsv');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures'), tsv, { recursive: true });
    writeFileSync(join(tsv, 'ETH-1h.tsv'), 'timestamp\topen\thigh\tlow\tclose\tvolume\n1747872000000\t2500\t2510\t2490\t2505\t10\n');
    writeFileSync(join(tsv, 'SOL-1h.tsv.gz'), gzipSync('timestamp\topen\thigh\tlow\tclose\tvolume\n1747872000000\t150\t151\t149\t150.5\t10\n'));
    const t = await feedCli(['import', tsv, '--out', outDir()]);
    expect(t.code).toBe(0);
    expect(t.stderr).toContain('left out 2 files of the input folder that the freqtrade importer does not read: ETH-1h.tsv, SOL-1h.tsv.gz;');
    // a folder whose every data file is read: no warning
    const clean = await feedCli(['import', join(FX, 'freqtrade', 'binance', 'futures'), '--out', outDir()]);
    expect(clean.code).toBe(0);
    expect(clean.stderr).toBe('');
  });
});

describe('what an import cannot take, or takes with a gap, is said naming the input', () => {
  it('--kind that disagrees with a named file\'s name is a usage error naming it; a folder without that kind is named; nothing is written', async () => {
    const mark = join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-mark.feather');
    const o1 = outDir();
    const r = await feedCli(['import', mark, '--kind', 'funding', '--out', o1]);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`marginlab: ${mark}: the file name says mark-price candles (-mark), but --kind funding was given; drop --kind (the name tells), or name the funding file\n`);
    expect(existsSync(o1)).toBe(false);
    // a folder holding no file of that kind: the inputs are named, not the output folder
    const noFunding = join(root, 'no-funding');
    mkdirSync(noFunding);
    cpSync(mark, join(noFunding, basename(mark)));
    const o2 = outDir();
    const f = await feedCli(['import', noFunding, '--kind', 'funding', '--out', o2]);
    expect(f.code).toBe(65);
    expect(f.stderr).toBe(`marginlab: no freqtrade funding files (--kind) in ${noFunding}; it holds 1 other data file (XRP_USDT_USDT-1h-mark.feather): drop --kind to import them\n`);
    expect(existsSync(o2)).toBe(false);
  });

  it("a freqtrade file whose name says another timeframe than its rows is told to be renamed (--timeframe, which the message offered, is refused beside a name that sets it)", async () => {
    const ex = join(root, `misnamed-${++n}`);
    mkdirSync(ex);
    const file = join(ex, 'XRP_USDT_USDT-30m-futures.feather');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-futures.feather'), file);
    const r = await feedCli(['import', file, '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/the data's spacing is 1h \(\d+ of \d+ steps\), not the timeframe 30m; the file name says 30m: rename it to XRP_USDT_USDT-1h-futures\.feather\n/);
    expect(r.stderr).not.toContain('--timeframe');
    // and the way out it names works
    renameSync(file, join(ex, 'XRP_USDT_USDT-1h-futures.feather'));
    expect((await feedCli(['import', join(ex, 'XRP_USDT_USDT-1h-futures.feather'), '--out', outDir()])).code).toBe(0);
    // a spot name (no -futures): the name it offers is that name at the data's timeframe
    const spot = join(ex, 'XRP_USDT-30m.feather');
    cpSync(join(ex, 'XRP_USDT_USDT-1h-futures.feather'), spot);
    const sp = await feedCli(['import', spot, '--kind', 'candles', '--out', outDir()]);
    expect(sp.code).toBe(65);
    expect(sp.stderr).toContain('the file name says 30m: rename it to XRP_USDT-1h.feather');
    // a name that sets nothing (rows under a name of their own, --timeframe given): --timeframe is the way out, as before
    const own = join(ex, 'ohlcv.feather');
    cpSync(join(ex, 'XRP_USDT_USDT-1h-futures.feather'), own);
    const o = await feedCli(['import', own, '--format', 'freqtrade', '--symbol', 'XRPUSDT', '--kind', 'candles', '--timeframe', '30m', '--out', outDir()]);
    expect(o.code).toBe(65);
    expect(o.stderr).toMatch(/not the timeframe 30m; import it with --timeframe 1h\n/);
    expect(o.stderr).not.toContain('rename');
  });

  it('an Arrow file given as freqtrade data under another extension (.arrow) is read by its bytes, not as JSON', async () => {
    const ex = join(root, `arrow-named-${++n}`);
    mkdirSync(ex);
    const file = join(ex, 'xrp.arrow');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-futures.feather'), file);
    const o = outDir();
    const r = await feedCli(['import', file, '--format', 'freqtrade', '--symbol', 'XRPUSDT', '--kind', 'candles', '--timeframe', '1h', '--out', o]);
    expect(r.stderr).not.toContain('JSON');
    expect(r.code, r.stderr).toBe(0);
    const o2 = outDir();
    expect((await feedCli(['import', join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-futures.feather'), '--out', o2])).code).toBe(0);
    // the same rows as the file read under its own name
    expect(readFileSync(join(o, 'XRPUSDT-candles-1h.arrow'))).toEqual(readFileSync(join(o2, 'XRPUSDT-candles-1h.arrow')));
  });

  it('an append whose rows do not join the series imports with a warning naming the gap (a run would refuse it)', async () => {
    const o = outDir();
    const first = await feedCli(['import', join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-futures.feather'), '--out', o]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toBe('');
    const later = join(root, 'xrp-2025.csv');
    writeFileSync(later, 'timestamp,open,high,low,close,volume\n1747872000000,2.3,2.4,2.2,2.35,10\n1747875600000,2.35,2.4,2.3,2.32,10\n');
    const r = await feedCli(['import', later, '--format', 'csv', '--kind', 'candles', '--symbol', 'XRPUSDT', '--timeframe', '1h', '--out', o]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^marginlab: warning: candles XRPUSDT 1h now has 1 gap \(widest: \d+ missing bars between 2021-11-\d\dT\d\d:00:00\.000Z and 2025-05-22T00:00:00\.000Z\); a run at 1h refuses a dataset with gaps unless the config's data entry says gaps: 'warn' \(docs\/data\.md\); this import's rows do not join the dataset's \(0 gaps before it\): `--replace` imports the file alone\n$/);
    // a later append that joins the series cleanly: the gap is still said, but not blamed on it (no --replace advice)
    const next = join(root, 'xrp-2025-next.csv');
    writeFileSync(next, 'timestamp,open,high,low,close,volume\n1747879200000,2.32,2.4,2.3,2.33,10\n');
    const clean = await feedCli(['import', next, '--format', 'csv', '--kind', 'candles', '--symbol', 'XRPUSDT', '--timeframe', '1h', '--out', o]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stderr).toMatch(/^marginlab: warning: candles XRPUSDT 1h now has 1 gap \(widest: \d+ missing bars between .*\(docs\/data\.md\)\n$/);
  });
});

describe('mark and funding prices far from the trade candles are warned about when loaded and by data inspect', () => {
  it('a mark file 1000× the candles (1h, and 8h pricing the funding), a funding price column 1e6× them: one warning each naming the file; the same prices at scale say nothing', async () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2025, 0, 1);
    const n = 48;
    const hours = Float64Array.from({ length: n }, (_, i) => t0 + i * H);
    const px = (i: number) => 100 + Math.sin(i / 5);
    const candles = (k: number): Float64Array[] => [Float64Array.from(hours, (_, i) => px(i) * k), Float64Array.from(hours, (_, i) => px(i) * k * 1.01), Float64Array.from(hours, (_, i) => px(i) * k * 0.99), Float64Array.from(hours, (_, i) => px(i) * k), new Float64Array(n).fill(5)];
    const eights = Float64Array.from({ length: n / 8 }, (_, i) => t0 + i * 8 * H);
    const where = (i: number) => `row ${i + 1}`;
    const build = (scale: { mark1h: number; mark8h: number; funding: number }) => {
      const out = outDir();
      commitSeries(out, [
        { symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: hours, cols: candles(1), where },
        { symbol: 'BTCUSDT', kind: 'mark', timeframe: '1h', time: hours, cols: candles(scale.mark1h).slice(0, 4), where },
        { symbol: 'BTCUSDT', kind: 'mark', timeframe: '8h', time: eights, cols: [0, 1, 2, 3].map((c) => Float64Array.from(eights, (_, i) => candles(scale.mark8h)[c]![i * 8]!)), where },
        { symbol: 'BTCUSDT', kind: 'funding', time: eights, cols: [new Float64Array(n / 8).fill(0.0001), Float64Array.from(eights, (_, i) => px(i * 8) * scale.funding)], where },
      ]);
      return out;
    };
    const fineDir = build({ mark1h: 1, mark8h: 1, funding: 1 });
    const fine = await loadDataset(fineDir);
    expect(fine.warnings ?? []).toEqual([]);
    expect(inspectDataset(fineDir).warnings).toEqual([]);
    const offDir = build({ mark1h: 1000, mark8h: 1000, funding: 1e6 });
    const off = await loadDataset(offDir);
    const offWarnings = [
      'BTCUSDT-mark-1h.arrow: the mark candles of BTCUSDT are 1000× its trade candles (the median ratio over 48 bars): a file of another unit or another symbol? liquidations are judged on the mark; check the file',
      'BTCUSDT-mark-8h.arrow: the mark candles of BTCUSDT are 1000× its trade candles (the median ratio over 6 bars): a file of another unit or another symbol? liquidations are judged on the mark; check the file',
      'BTCUSDT-funding.arrow: the funding prices of BTCUSDT are 1000000× its trade candles (the median ratio over 6 settlements): a file of another unit or another symbol? every funding payment is rate × position × this price; check the file',
    ];
    expect(off.warnings).toEqual(offWarnings);
    // data inspect says the same, for files it reads without a run (it loads nothing)
    expect(inspectDataset(offDir).warnings).toEqual(offWarnings);
    // a tenth of the price (a wrong symbol's file): said as a fraction
    const lowDir = build({ mark1h: 0.1, mark8h: 1, funding: 1 });
    const low = await loadDataset(lowDir);
    expect(low.warnings).toEqual([expect.stringContaining('BTCUSDT-mark-1h.arrow: the mark candles of BTCUSDT are 1/10 of its trade candles')]);
    expect(inspectDataset(lowDir).warnings).toEqual(low.warnings);
    // finer mark candles that make no bar (45m under 1h): said, as liquidation then reads trade prices
    const odd = outDir();
    const q = Float64Array.from({ length: 64 }, (_, i) => t0 + i * 45 * 60_000);
    commitSeries(odd, [
      { symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: hours, cols: candles(1), where },
      { symbol: 'BTCUSDT', kind: 'mark', timeframe: '45m', time: q, cols: [0, 1, 2, 3].map((c) => new Float64Array(64).fill([100, 101, 99, 100][c]!)), where },
    ]);
    const oddWarnings = [
      expect.stringMatching(/^no funding file for BTCUSDT/),
      'BTCUSDT-mark-45m.arrow: mark candles at 45m do not make 1h bars (45m does not divide 1h), so liquidation of BTCUSDT is checked on trade prices; import its mark candles at 1h or at a timeframe that divides it',
    ];
    expect((await loadDataset(odd)).warnings).toEqual(oddWarnings);
    expect(inspectDataset(odd).warnings).toEqual(oddWarnings);
  });
});

describe('funding files no venue would publish are warned about when loaded and by data inspect', () => {
  it('events every minute, rates beyond ±5 % a settlement: one warning each naming the file; 8-hourly rates of a few bp say nothing', async () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2025, 0, 1);
    const hours = Float64Array.from({ length: 48 }, (_, i) => t0 + i * H);
    const c = Float64Array.from(hours, () => 100);
    const candles = [c, Float64Array.from(c, (x) => x * 1.01), Float64Array.from(c, (x) => x * 0.99), c, Float64Array.from(c, () => 5)];
    const where = (i: number) => `row ${i + 1}`;
    const build = (time: Float64Array, rate: (k: number) => number) => {
      const out = outDir();
      commitSeries(out, [
        { symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: hours, cols: candles, where },
        { symbol: 'BTCUSDT', kind: 'funding', time, cols: [Float64Array.from(time, (_, k) => rate(k))], where },
      ]);
      return out;
    };
    const eights = Float64Array.from({ length: 6 }, (_, i) => t0 + i * 8 * H);
    const sane = build(eights, () => 0.0001);
    expect((await loadDataset(sane)).warnings ?? []).toEqual([]);
    expect(inspectDataset(sane).warnings).toEqual([]);
    const minutes = Float64Array.from({ length: 48 * 60 }, (_, k) => t0 + k * 60_000);
    const dense = build(minutes, () => 0.0001);
    const denseText = 'BTCUSDT-funding.arrow: the funding events of BTCUSDT come every 1m (their usual step): no venue settles funding more often than hourly, and every event is booked as a payment of rate × position × price; a file of another kind or unit? check the file';
    expect((await loadDataset(dense)).warnings).toContain(denseText);
    expect(inspectDataset(dense).warnings).toContain(denseText);
    const wild = build(eights, (k) => (k === 3 ? -0.999 : k === 1 ? 0.06 : 0.0001));
    const wildText = 'BTCUSDT-funding.arrow: 2 funding rates of BTCUSDT are beyond ±5 % a settlement, past every venue\'s cap (the largest -0.999 at row 4); rates are fractions per interval (0.0001 = 0.01 %): a percentage, cumulative or annualised rate? check the file';
    expect((await loadDataset(wild)).warnings).toEqual([wildText]);
    expect(inspectDataset(wild).warnings).toEqual([wildText]);
    // percentages written as fractions: 0.01 (meaning 0.01 %) every 8h, a hundred times every payment
    const pct = build(eights, (k) => (k % 2 ? 0.01 : -0.012));
    const pctText = 'BTCUSDT-funding.arrow: the median |funding rate| of BTCUSDT is 1 % a settlement (0.01 in the file), where venues\' rates sit near 0.01 %: rates are fractions (0.0001 = 0.01 %); a file of percentages or annualised rates? check the file';
    expect((await loadDataset(pct)).warnings).toEqual([pctText]);
    expect(inspectDataset(pct).warnings).toEqual([pctText]);
    // one or two events, NaN rates: no step, no median of nothing
    expect(fundingSanityTexts('f', 'X', Float64Array.of(0, 60_000), Float64Array.of(NaN, NaN), 2)).toEqual([]);
    // a few events off an 8h schedule (another source's appended): the usual step stays 8h, each of them is said
    const off = Float64Array.from([...eights, t0 + 8 * H + 37 * 60_000, t0 + 16 * H + 40 * 60_000].sort((a, b) => a - b));
    const offText = 'BTCUSDT-funding.arrow: 2 funding events of BTCUSDT come less than an hour after the one before (the first at 2025-01-01T08:37:00.000Z (1735720620000), 37m after it, row 3): no venue settles funding more often than hourly, and every event is booked as a payment of rate × position × price; events of another source or schedule appended? keep one source (import the series again from it with --replace)';
    const offDs = build(off, () => 0.0001);
    expect((await loadDataset(offDs)).warnings).toEqual([offText]);
    expect(inspectDataset(offDs).warnings).toEqual([offText]);
    // hourly settlements stamped a millisecond past the hour (Binance's …001) are an hour apart: nothing to say
    const hourly = Float64Array.from({ length: 40 }, (_, k) => t0 + k * H + (k % 2));
    expect(fundingSanityTexts('f', 'X', hourly, Float64Array.from(hourly, () => 0.0001), hourly.length)).toEqual([]);
  });
});

describe('an append to a dataset entry the loader refuses', () => {
  it('a link out of the folder (65) or a missing file (66): refused naming the entry, the link and the outside file untouched', async () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2025, 0, 1);
    const out = outDir();
    const hours = Float64Array.from({ length: 4 }, (_, i) => t0 + i * H);
    const col = Float64Array.from(hours, () => 100);
    commitSeries(out, [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: hours, cols: [col, col, col, col, col], where: (i: number) => `row ${i + 1}` }]);
    const f = 'BTCUSDT-candles-1h.arrow';
    const outside = join(root, `outside-${n}.arrow`);
    renameSync(join(out, f), outside);
    symlinkSync(outside, join(out, f));
    const before = readFileSync(outside);
    const more = join(root, `more-${n}.csv`);
    writeFileSync(more, `timestamp,open,high,low,close,volume\n${t0 + 4 * H},100,100,100,100,5\n`);
    const e = await userError(importCsv({ file: more, kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out }));
    expect(e.exitCode).toBe(65);
    expect(e.message).toBe(`${f} is a symbolic link to ${outside}, outside the dataset folder; copy the file into the folder (links inside it are fine); nothing was written`);
    expect(lstatSync(join(out, f)).isSymbolicLink()).toBe(true);
    expect(readFileSync(outside)).toEqual(before);
    rmSync(join(out, f));
    const gone = await userError(importCsv({ file: more, kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out }));
    expect(gone.exitCode).toBe(66);
    expect(gone.message).toMatch(/^file listed in the manifest is missing: .*BTCUSDT-candles-1h\.arrow \(restore it, re-import the series, or remove its entry from manifest\.json\); nothing was written$/);
  });
});

describe('a manifest entry whose rows or time range are not its file\'s', () => {
  it('is warned about by the load and data inspect (the file read as it is); the same bytes with the right entry say nothing', async () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2025, 0, 1);
    const hours = Float64Array.from({ length: 24 }, (_, i) => t0 + i * H);
    const col = (k: number) => Float64Array.from(hours, (_, i) => 100 + i + k);
    const out = outDir();
    commitSeries(out, [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: hours, cols: [col(0), col(1), col(-1), col(0), col(0)], where: (i: number) => `row ${i + 1}` }]);
    const funding = (w: readonly string[] | undefined) => (w ?? []).filter((x) => !x.startsWith('no funding file'));
    expect(funding((await loadDataset(out)).warnings)).toEqual([]);
    expect(funding(inspectDataset(out).warnings)).toEqual([]);
    const path = join(out, 'manifest.json');
    const m = JSON.parse(readFileSync(path, 'utf8'));
    m.files[0].rows = 30;
    m.files[0].last = t0 + 29 * H;
    writeFileSync(path, JSON.stringify(m));
    const loaded = await loadDataset(out);
    expect(loaded.time.length).toBe(24);
    expect(funding(loaded.warnings)).toEqual([expect.stringContaining('manifest.json: the entry of BTCUSDT-candles-1h.arrow says 30 rows')]);
    expect(funding(loaded.warnings)[0]).toContain('the file holds 24 (2025-01-01T00:00:00.000Z (1735689600000) → 2025-01-01T23:00:00.000Z (1735772400000)); the file is read as it is');
    expect(funding(inspectDataset(out).warnings)).toEqual(funding(loaded.warnings));
    // the right count with a time range moved by an hour: said too
    m.files[0].rows = 24;
    m.files[0].first = t0 + H;
    m.files[0].last = t0 + 24 * H;
    writeFileSync(path, JSON.stringify(m));
    expect(funding((await loadDataset(out)).warnings)).toEqual([expect.stringContaining('the entry of BTCUSDT-candles-1h.arrow says 24 rows (2025-01-01T01:00:00.000Z')]);
  });
});

describe('freqtrade', () => {
  const expected5m = () => readFreqtrade([join(FX, 'freqtrade', 'plain')])[0]!;
  it('reads feather uncompressed, LZ4 (freqtrade\'s default, the real file) and ZSTD to the same values', () => {
    const plain = expected5m();
    expect(plain.time.length).toBe(1999);
    expect(plain.time[0]).toBe(1636934400000);
    for (const c of ['lz4', 'zstd']) {
      const s = readFreqtrade([join(FX, 'freqtrade', c)])[0]!;
      expect(Array.from(s.time)).toEqual(Array.from(plain.time));
      for (let k = 0; k < 5; k++) expect(Array.from(s.cols[k]!)).toEqual(Array.from(plain.cols[k]!));
    }
  });

  it('a user_data futures folder: candles, mark and funding_rate (rate from open); json.gz equals feather', () => {
    const dir = join(FX, 'freqtrade', 'binance', 'futures');
    const s = readFreqtrade([dir]);
    expect(s.map((x) => `${x.symbol} ${x.kind} ${x.timeframe}`)).toEqual(['XRPUSDT candles 1h', 'XRPUSDT mark 1h', 'XRPUSDT funding 8h']);
    const f = s[2]!;
    expect(f.cols).toHaveLength(1);
    expect(f.time[0]).toBe(1637193600017);
    expect(Math.max(...f.cols[0]!.map(Math.abs))).toBeLessThan(0.01);
    const gz = readFreqtrade([join(dir, 'XRP_USDT_USDT-1h-futures.json.gz')])[0]!;
    expect(Array.from(gz.time)).toEqual(Array.from(s[0]!.time));
    // the same values (json keeps 15 significant digits, the feather file float64 noise such as 1.0520100000000001)
    for (let k = 0; k < 5; k++) gz.cols[k]!.forEach((v, i) => expect(Math.abs(v - s[0]!.cols[k]![i]!)).toBeLessThanOrEqual(Math.abs(v) * 1e-14));
    const out = outDir();
    expect(commitSeries(out, s).map((r) => r.rows)).toEqual([100, 100, 91]);
    // the json.gz appended to the feather's dataset: the same rows, nothing new, the feather's values kept (it was a
    // conflict: close 1.08543 vs 1.0854300000000001)
    const before = readKindFile(join(out, 'XRPUSDT-candles-1h.arrow'), 'c', 'candles', new ProblemList())!;
    expect(commitSeries(out, [gz]).map((r) => [r.rows, r.added])).toEqual([[100, 0]]);
    expect(Array.from(readKindFile(join(out, 'XRPUSDT-candles-1h.arrow'), 'c', 'candles', new ProblemList())!.columns.close!)).toEqual(Array.from(before.columns.close!));
    // a real difference still conflicts
    const moved = { ...gz, cols: gz.cols.map((c, k) => (k === 3 ? Float64Array.from(c, (v, i) => (i === 14 ? v * (1 + 1e-9) : v)) : c)) };
    expect(() => commitSeries(out, [moved])).toThrow(/row at .* conflicts with the dataset's .*: close /);
  });

  it('monthly candles (BTC_USDT_USDT-1M-futures.json) are left out of a folder with a warning, and said unsupported when named (one made the whole folder 65)', async () => {
    const ex = join(root, 'user_data-monthly');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures'), ex, { recursive: true });
    cpSync(join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-futures.feather'), join(ex, 'XRP_USDT_USDT-1M-futures.feather'));
    const hint = 'monthly candles are not supported (no fixed timeframe; docs/data.md, "Choices and what is left out")';
    const folder = await feedCli(['import', ex, '--out', outDir()]);
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stderr).toContain(`marginlab: warning: left out 1 monthly candle file of the input folder (XRP_USDT_USDT-1M-futures.feather): ${hint}\n`);
    const named = await feedCli(['import', join(ex, 'XRP_USDT_USDT-1M-futures.feather'), '--out', outDir()]);
    expect(named.code).toBe(65);
    expect(named.stderr).toBe(`marginlab: ${join(ex, 'XRP_USDT_USDT-1M-futures.feather')}: ${hint}: import the daily or finer files of the same pair\n`);
  });

  it("spot candles (ETH_USDT-1h.feather, no -futures suffix) are not taken for the perpetual's: left out of a folder with a warning, refused when named unless --kind candles", async () => {
    // the exchange folder of user_data: spot candles at its top, the futures folder below (it was imported whole, spot as ETHUSDT perp candles)
    const ex = join(root, 'user_data-binance');
    cpSync(join(FX, 'freqtrade', 'binance', 'futures'), join(ex, 'futures'), { recursive: true });
    cpSync(join(FX, 'freqtrade', 'binance', 'futures', 'XRP_USDT_USDT-1h-futures.feather'), join(ex, 'ETH_USDT-1h.feather'));
    const hint = "freqtrade's spot candles, not the perpetual's: a perpetual-futures backtest reads <PAIR>-<tf>-futures files (user_data/data/<exchange>/futures, from freqtrade download-data --trading-mode futures)";
    const out = outDir();
    const folder = await feedCli(['import', ex, '--out', out]);
    expect(folder.code).toBe(0);
    expect(folder.stdout).not.toContain('ETHUSDT');
    expect(folder.stderr).toBe(`marginlab: warning: left out 1 spot candle file of the input folder (ETH_USDT-1h.feather): ${hint}; to import spot prices as a symbol's candles anyway, name the file with --kind candles\n`);
    const named = await feedCli(['import', join(ex, 'ETH_USDT-1h.feather'), '--out', outDir()]);
    expect(named.code).toBe(65);
    expect(named.stderr).toBe(`marginlab: ${join(ex, 'ETH_USDT-1h.feather')}: ${hint}; to import these spot prices as the candles anyway, add --kind candles\n`);
    const asked = await feedCli(['import', join(ex, 'ETH_USDT-1h.feather'), '--kind', 'candles', '--out', outDir()]);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toContain('candles ETHUSDT 1h: 100 new rows');
    // a folder of spot files only: says what it holds
    const spotOnly = join(root, 'spot-only');
    cpSync(join(ex, 'ETH_USDT-1h.feather'), join(spotOnly, 'ETH_USDT-1h.feather'));
    expect(() => readFreqtrade([spotOnly])).toThrow(`no freqtrade data files (<PAIR>-<tf>-futures|mark|funding_rate.feather|json|json.gz) in ${spotOnly}; it holds 1 spot candle file (ETH_USDT-1h.feather): ${hint}`);
  });

  it('freqtrade\'s rows under a name of their own (a CCXT fetch_ohlcv answer saved as JSON) import with --symbol and --kind; without them the error says so', async () => {
    const rows = series.slice(0, 48).map((r) => r.slice(0, 6));
    const f = join(root, 'btc_ohlcv.json');
    writeFileSync(f, JSON.stringify(rows));
    const bare = await feedCli(['import', f, '--out', outDir()]);
    expect(bare.code).toBe(65);
    expect(bare.stderr).toContain('give --symbol and --kind');
    const out = outDir();
    const r = await feedCli(['import', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const md = await loadDataset(out);
    expect(md.timeframe).toBe('1h');
    expect(Array.from(md.time)).toEqual(rows.map((x) => x[0]));
    expect(Array.from(md.columns[0]!.close)).toEqual(rows.map((x) => x[4]));
    // any name, gzip or not; the timeframe given is checked against the rows' spacing
    const txt = join(root, 'btc_ohlcv.txt');
    writeFileSync(txt, JSON.stringify(rows));
    expect(readFreqtrade([txt], { symbol: 'BTCUSDT', kinds: ['candles'], timeframe: '1h' })[0]!.time.length).toBe(48);
    expect((await feedCli(['import', txt, '--format', 'freqtrade', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '30m', '--out', outDir()])).code).toBe(65);
    // one row: no spacing to read the timeframe from, a usage error asking for it (64), nothing written
    const one = join(root, 'one_ohlcv.json');
    writeFileSync(one, JSON.stringify(rows.slice(0, 1)));
    const oneOut = outDir();
    const r1 = await feedCli(['import', one, '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', oneOut]);
    expect(r1.code).toBe(64);
    expect(r1.stderr).toBe(`marginlab: ${one}: cannot tell the timeframe from fewer than two rows; give --timeframe\n`);
    expect(existsSync(join(oneOut, 'manifest.json'))).toBe(false);
  });

  it('pair names become symbols', () => {
    expect(freqtradeSymbol('BTC_USDT_USDT')).toBe('BTCUSDT');
    expect(freqtradeSymbol('1000PEPE_USDT_USDT')).toBe('1000PEPEUSDT');
    expect(freqtradeSymbol('BTC_USD_BTC')).toBe('BTC/USD:BTC');
  });
});

describe('Bybit and OKX exports', () => {
  it('a missing-column error quotes a bounded excerpt of a huge header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-venue-hdr-'));
    const file = join(dir, 'BIGUSDT-kline.csv');
    const head = ['startTime', ...Array.from({ length: 100_000 }, (_, i) => `col${i}`)];
    writeFileSync(file, `${head.join(',')}\n1700000000000${',1'.repeat(100_000)}\n1700003600000${',1'.repeat(100_000)}\n`);
    let msg = '';
    try { readVenue('bybit', [file], { symbol: 'BIGUSDT' }); } catch (e) { msg = (e as Error).message; }
    rmSync(dir, { recursive: true, force: true });
    expect(msg).toMatch(/missing column/);
    expect(msg).toMatch(/and \d+ more/);
    expect(msg.length).toBeLessThan(2_000);
  });
  it('a Binance, Bybit or OKX file without the export\'s columns says how to import it instead: --format csv (with --columns for names of its own)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-venue-cols-'));
    const text = 'ts,first,max,min,last,qty\n1700000000000,1,2,0.5,1.5,10\n1700003600000,1.5,2,1,1.2,11\n';
    const msgOf = (f: () => unknown): string => {
      try { f(); } catch (e) { return (e as Error).message; }
      return '';
    };
    writeFileSync(join(dir, 'BTCUSDT-1h-2023-11.csv'), text);
    writeFileSync(join(dir, 'BTCUSDT-kline.csv'), text);
    writeFileSync(join(dir, 'BTCUSDT-funding.csv'), 'ts,r\n1700000000000,0.0001\n');
    writeFileSync(join(dir, 'BTCUSDT-rate.csv'), 'fundingTime,r\n1700000000000,0.0001\n');
    const binance = msgOf(() => readBinance([join(dir, 'BTCUSDT-1h-2023-11.csv')]));
    const bybit = msgOf(() => readVenue('bybit', [join(dir, 'BTCUSDT-kline.csv')], { symbol: 'BTCUSDT' }));
    const okxFunding = msgOf(() => readVenue('okx', [join(dir, 'BTCUSDT-funding.csv')], { symbol: 'BTCUSDT', kind: 'funding' }));
    const okxRate = msgOf(() => readVenue('okx', [join(dir, 'BTCUSDT-rate.csv')], { symbol: 'BTCUSDT', kind: 'funding' }));
    rmSync(dir, { recursive: true, force: true });
    expect(binance).toMatch(/not a Binance klines file: import another CSV with --format csv --kind candles --symbol S --timeframe TF \(--columns maps column names of its own\)$/);
    expect(bybit).toMatch(/\(has: ts, first, max, min, last, qty\); if it is not a Bybit export, import it with --format csv --kind candles\|mark\|funding --symbol S --timeframe TF \(--columns maps column names of its own\)$/);
    expect(okxFunding).toMatch(/--kind funding, but the file has no funding time column \(.*\); if it is not an OKX export, import it with --format csv --kind funding --symbol S \(--columns maps column names of its own\)$/);
    expect(okxRate).toMatch(/no funding rate column \(.*\); if it is not an OKX export, import it with --format csv --kind funding --symbol S \(--columns maps column names of its own\)$/);
  });

  it('Bybit: newest-first JSON and CSV (startTime, openPrice, …) read to the same ascending series; funding by fundingRateTimestamp', () => {
    const [j] = readVenue('bybit', [join(FX, 'bybit', 'ETHUSDT-kline-60.json')]);
    const [c] = readVenue('bybit', [join(FX, 'bybit', 'ETHUSDT-kline-60.csv')], { symbol: 'ETHUSDT' });
    expect(j).toMatchObject({ symbol: 'ETHUSDT', kind: 'candles', timeframe: '1h' });
    expect(Array.from(c!.time)).toEqual(Array.from(j!.time));
    const out = outDir();
    const [r] = commitSeries(out, [j!]);
    expect(r).toMatchObject({ rows: 72, first: Date.UTC(2025, 5, 1), last: Date.UTC(2025, 5, 3, 23) });
    const [f] = readVenue('bybit', [join(FX, 'bybit', 'ETHUSDT-funding.csv')]);
    expect(f).toMatchObject({ symbol: 'ETHUSDT', kind: 'funding', timeframe: '8h' });
    expect(commitSeries(out, [f!])[0]!.rows).toBe(90);
  });

  it('OKX: vol in contracts × ctVal = base volume (= volCcy); the unconfirmed candle is left out; funding uses realizedRate', () => {
    const [s] = readVenue('okx', [join(FX, 'okx', 'ETH-USDT-SWAP-1H.json')]);
    expect(s).toMatchObject({ symbol: 'ETH-USDT-SWAP', kind: 'candles', timeframe: '1h' });
    expect(s!.time.length).toBe(71);
    const ccy = JSON.parse(readFileSync(join(FX, 'okx', 'ETH-USDT-SWAP-1H.json'), 'utf8')).data as string[][];
    const byTime = new Map(ccy.map((r) => [Number(r[0]), Number(r[6])]));
    for (let i = 0; i < s!.time.length; i++) expect(s!.cols[4]![i]).toBeCloseTo(byTime.get(s!.time[i]!)!, 9);
    // another contract value changes the volume; an unknown instrument without volCcy needs --contract-size
    const [s2] = readVenue('okx', [join(FX, 'okx', 'ETH-USDT-SWAP-1H.json')], { contractSize: 1 });
    expect(s2!.cols[4]![0]).toBeCloseTo(s!.cols[4]![0]! * 10, 6);
    const [f] = readVenue('okx', [join(FX, 'okx', 'ETH-USDT-SWAP-funding.json')]);
    expect(f).toMatchObject({ kind: 'funding', symbol: 'ETH-USDT-SWAP' });
    expect(commitSeries(outDir(), [s!, f!]).map((r) => r.rows)).toEqual([71, 90]);
  });

  it('formats are detected from names and contents', () => {
    expect(detectFormat([join(FX, 'binance', 'klines')])).toBe('binance');
    expect(detectFormat([join(FX, 'freqtrade', 'binance', 'futures')])).toBe('freqtrade');
    expect(detectFormat([join(FX, 'bybit', 'ETHUSDT-kline-60.csv')])).toBe('bybit');
    expect(detectFormat([join(FX, 'okx', 'ETH-USDT-SWAP-1H.json')])).toBe('okx');
    // a folder of Bybit or OKX exports, as of Binance or freqtrade files (was 64 'no importable files')
    expect(detectFormat([join(FX, 'bybit')])).toBe('bybit');
    expect(detectFormat([join(FX, 'okx')])).toBe('okx');
    expect(detectFormat([join(FX, 'freqtrade')])).toBe('freqtrade');
    expect(detectFormat([join(FX, 'binance')])).toBe('binance');
  });

  it('a folder of OKX exports imports through the CLI with the format detected, as its files one by one do', async () => {
    const out = outDir();
    const r = await feedCli(['import', join(FX, 'okx'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('from okx data into 2 series');
    // the manifest names the venue the data is from (a run under another venue's rules warns), unless --venue says otherwise
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).venue).toBe('okx');
    const by = outDir();
    expect((await feedCli(['import', join(FX, 'bybit', 'ETHUSDT-kline-60.json'), '--out', by])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(by, 'manifest.json'), 'utf8')).venue).toBe('bybit-linear');
    const named = outDir();
    expect((await feedCli(['import', join(FX, 'bybit', 'ETHUSDT-kline-60.json'), '--out', named, '--venue', 'binance-usdm'])).code).toBe(0);
    expect(JSON.parse(readFileSync(join(named, 'manifest.json'), 'utf8')).venue).toBe('binance-usdm');
  });
});

describe('symbols, spacing, columns', () => {
  it('file names are injective: BTC/USDT:USDT and BTC_USDT_USDT get their own files; names differing in case only are refused', async () => {
    expect(symbolFilePart('BTC/USDT:USDT')).toBe('BTC_2FUSDT_3AUSDT');
    expect(symbolFilePart('BTC_USDT_USDT')).toBe('BTC_5FUSDT_5FUSDT');
    expect(dataFileName('BTCUSDT', 'candles', '1h')).toBe('BTCUSDT-candles-1h.arrow');
    const out = outDir();
    const a = join(root, 'a.csv'), b = join(root, 'b.csv');
    writeFileSync(a, 'timestamp,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\n1735693200000,1.5,2,1,1.2,3\n');
    writeFileSync(b, 'timestamp,open,high,low,close,volume\n1735689600000,7,8,6,7,3\n1735693200000,7,8,6,7,3\n');
    await importCsv({ file: a, kind: 'candles', symbol: 'BTC/USDT:USDT', timeframe: '1h', out });
    await importCsv({ file: b, kind: 'candles', symbol: 'BTC_USDT_USDT', timeframe: '1h', out });
    const md = await loadDataset(out);
    expect(md.symbols).toEqual(['BTC/USDT:USDT', 'BTC_USDT_USDT']);
    expect([md.columns[0]!.open[0], md.columns[1]!.open[0]]).toEqual([1, 7]);
    const e = await userError(importCsv({ file: b, kind: 'candles', symbol: 'btc_usdt_usdt', timeframe: '1h', out }));
    expect(e.message).toContain('is already used by candles BTC_USDT_USDT');
  });

  it('a spacing other than --timeframe is an error naming the data\'s spacing (1h data as 30m)', async () => {
    const f = join(root, 'h.csv');
    writeFileSync(f, `timestamp,open,high,low,close,volume\n${series.slice(0, 48).map((r) => r.slice(0, 6).join(',')).join('\n')}\n`);
    const out = outDir();
    const e = await userError(importCsv({ file: f, kind: 'candles', symbol: 'BTCUSDT', timeframe: '30m', out }));
    expect(e.exitCode).toBe(65);
    // it named the series only ("candles BTCUSDT 30m: …"), where a coarser --timeframe (4h) named the file
    expect(e.message).toBe(`${f}: the data's spacing is 1h (47 of 47 steps), not the timeframe 30m; import it with --timeframe 1h; nothing was written`);
    expect(existsSync(out)).toBe(false);
    // the same through an importer that reads whole series: the file and a row of that spacing are named
    const r = await feedCli(['import', join(FX, 'bybit', 'ETHUSDT-kline-60.json'), '--timeframe', '30m', '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain("the data's spacing is 1h (71 of 71 steps), not the timeframe 30m");
    expect(r.stderr).toMatch(/ETHUSDT-kline-60\.json[^\n]*: the data's spacing is 1h/);
    const ft = join(root, 'btc_ohlcv.json');
    writeFileSync(ft, JSON.stringify(series.slice(0, 48).map((row) => row.slice(0, 6))));
    const r2 = await feedCli(['import', ft, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '30m', '--out', outDir()]);
    expect(r2.code).toBe(65);
    expect(r2.stderr).toMatch(/btc_ohlcv\.json row 2: the data's spacing is 1h \(47 of 47 steps\)/);
  });

  it('--columns maps header names or positions; --no-header with the columns in order', async () => {
    const rows = series.slice(0, 5);
    const f1 = join(root, 'c1.csv');
    writeFileSync(f1, `ot,vol,o,h,l,c,junk\n${rows.map((r) => [r[0], r[5], r[1], r[2], r[3], r[4], 'x'].join(',')).join('\n')}\n`);
    const out = outDir();
    const r1 = await feedCli(['import', 'csv', f1, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--columns', 'timestamp=ot,open=o,high=h,low=l,close=c,volume=#2']);
    expect(r1.stderr).toBe('');
    expect(r1.code).toBe(0);
    const f2 = join(root, 'c2.csv');
    writeFileSync(f2, `${series.slice(5, 8).map((r) => [r[0], r[1], r[2], r[3], r[4], r[5]].join(';')).join('\n')}\n`);
    const r2 = await feedCli(['import', f2, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--no-header', '--delimiter', ';', '--columns', 'timestamp,open,high,low,close,volume']);
    expect(r2.code).toBe(0);
    expect(r2.stdout).toMatch(/^imported 3 rows into .*\(.*, 3 new of 8 in all\)/);
    const got = readArrow(join(out, 'BTCUSDT-candles-1h.arrow'), 'candles');
    expect(Array.from(got.columns.volume!)).toEqual(series.slice(0, 8).map((r) => r[5]));
    const bad = await feedCli(['import', 'csv', f2, '--kind', 'candles', '--symbol', 'X', '--timeframe', '1h', '--out', outDir(), '--no-header']);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain('--no-header needs --columns');
    // the names a header may use (time, o, h, l, c, v) name the columns too; a misspelt one is said with the name meant
    const f3 = join(root, 'c3.csv');
    writeFileSync(f3, `${series.slice(8, 10).map((r) => [r[0], r[4], r[1], r[2], r[3], r[5]].join(';')).join('\n')}\n`);
    const r3 = await feedCli(['import', f3, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--no-header', '--delimiter', ';', '--columns', 'time,c,o,h,l,v']);
    expect([r3.code, r3.stderr]).toEqual([0, '']);
    expect(Array.from(readArrow(join(out, 'BTCUSDT-candles-1h.arrow'), 'candles').columns.close!)).toEqual(series.slice(0, 10).map((r) => r[4]));
    const typo = await feedCli(['import', f3, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir(), '--no-header', '--delimiter', ';', '--columns', 'timestamp,close,open,hgh,low,volume']);
    expect(typo.code).toBe(64);
    expect(typo.stderr).toMatch(/^marginlab: --columns: unknown column 'hgh' \(did you mean 'high'\?\) \(expected timestamp, open, high, low, close, volume, rate, price, or an alias a header may use: timestamp=time\|date\|open_time; open=o\|open_price; .*\)\n$/);
    const twice = await feedCli(['import', f3, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir(), '--no-header', '--delimiter', ';', '--columns', 'timestamp,close,open,high,low,vol,volume']);
    expect(twice.stderr).toContain("--columns: 'volume' is given twice");
  });

  it('the CLI detects the format of a folder and appends on a second run', async () => {
    const out = outDir();
    const r = await feedCli(['import', join(FX, 'freqtrade', 'binance', 'futures'), '--out', out]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('candles XRPUSDT 1h: 100 new rows, 100 in');
    expect(r.stdout).toContain('funding XRPUSDT: 91 new rows');
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    const again = await feedCli(['import', join(FX, 'freqtrade', 'binance', 'futures'), '--out', out]);
    expect(again.stdout).toContain('imported 0 new rows from freqtrade data into 3 series');
    expect(again.stdout).toContain('(nothing new: the dataset is unchanged)');
    // nothing new: the manifest (whose hash is part of every RunId) is left as it was, no second provenance line
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    const m = JSON.parse(manifest);
    expect(m.provenance).toBe('freqtrade import of futures');
    // the same rows with --replace: unchanged too; other content: replaced, with its provenance line
    const replaced = await feedCli(['import', join(FX, 'freqtrade', 'binance', 'futures'), '--out', out, '--replace']);
    expect(replaced.code).toBe(0);
    expect(replaced.stdout).toContain('imported 0 new rows from freqtrade data into 3 series');
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(again.stdout).toContain("the dataset's default timeframe is 1h (a config's data.timeframe chooses another)");
  });

  it("a new dataset's default timeframe is the finest one every symbol has candles for (not the first file's)", () => {
    const f = (symbol: string, kind: 'candles' | 'mark' | 'funding', timeframe?: string) => ({ path: `${symbol}-${kind}-${timeframe}.arrow`, symbol, kind, ...(timeframe ? { timeframe } : {}), rows: 1, first: 0, last: 0, sha256: '' });
    // freqtrade names sort 1d before 1h before 30m: the first file's timeframe was the coarsest
    expect(nextManifest('/x/ds', null, [f('BTCUSDT', 'candles', '1d'), f('BTCUSDT', 'candles', '1h'), f('BTCUSDT', 'candles', '30m'), f('BTCUSDT', 'mark', '5m')], {}).timeframe).toBe('30m');
    // 30m only for one symbol: 1h is the finest both have
    expect(defaultTimeframe([f('BTCUSDT', 'candles', '1d'), f('BTCUSDT', 'candles', '1h'), f('BTCUSDT', 'candles', '30m'), f('ETHUSDT', 'candles', '1h'), f('ETHUSDT', 'funding')])).toBe('1h');
    // none shared: the finest
    expect(defaultTimeframe([f('BTCUSDT', 'candles', '4h'), f('ETHUSDT', 'candles', '1d')])).toBe('4h');
    expect(defaultTimeframe([f('BTCUSDT', 'funding')])).toBeNull();
    // an existing dataset keeps its default while it has candles at it
    const m = nextManifest('/x/ds', null, [f('BTCUSDT', 'candles', '1h')], {});
    expect(nextManifest('/x/ds', m, [f('BTCUSDT', 'candles', '5m')], {}).timeframe).toBe('1h');
  });
});
