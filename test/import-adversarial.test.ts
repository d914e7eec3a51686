/**
 * Import edge cases real users hit (review of data import): odd symbols, empty inputs of every
 * format, flags that cannot work, re-imports that must change nothing.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { importCsv } from '../src/feed/csv.js';
import { loadDataset } from '../src/feed/load.js';
import { readManifest } from '../src/feed/manifest.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';
import { startCli } from './fixtures/run/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ml-import-adv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(root, `ds-${++n}`);
const file = (name: string, text: string | Buffer): string => {
  const p = join(root, `${++n}-${name}`);
  writeFileSync(p, text);
  return p;
};
/** three real BTCUSDT 1h candles (Binance USDⓈ-M, 2025-05-22) */
const CANDLES = 'timestamp,open,high,low,close,volume\n1747872000000,109609.6,110146.4,109153.4,109925.4,16028.352\n1747875600000,109925.3,110549.9,109640.3,109892.5,12972.009\n1747879200000,109892.5,110977.2,109792.8,110440.8,14969.67\n';

describe('symbols', () => {
  it("a symbol holding '..' (a file name part, not a path step) imports into a dataset that loads", async () => {
    const out = outDir();
    const f = file('c.csv', CANDLES);
    for (const symbol of ['..', 'BTC..USDT']) await importCsv({ file: f, kind: 'candles', symbol, timeframe: '1h', out });
    expect(readManifest(out).manifest.files.map((x) => x.path)).toEqual(['..-candles-1h.arrow', 'BTC..USDT-candles-1h.arrow']);
    const md = await loadDataset(out);
    expect(md.symbols).toEqual(['..', 'BTC..USDT']);
    expect(md.columns[1]!.close[2]).toBe(110440.8);
  });

  it('one rule for every symbol, the flag\'s and the one an input names: no spaces or control characters, at most 64 characters; any script', async () => {
    const { mkdirSync } = await import('node:fs');
    const answer = (symbol: string) => JSON.stringify({ retCode: 0, result: { symbol, category: 'linear', list: [['1747875600000', '2', '3', '1', '2', '5', '10'], ['1747872000000', '1', '2', '0.5', '1.5', '3', '4']] }, time: 1747990000000 });
    for (const [symbol, why] of [['BTC\nUSDT', 'holds a space or a control character'], ['A'.repeat(300), 'has 300 characters (at most 64; it becomes a file name)']] as const) {
      const dir = join(root, `bybit-${++n}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'kline.json'), answer(symbol));
      const out = outDir();
      const r = await feedCli(['import', dir, '--format', 'bybit', '--out', out]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr.split('\n')).toHaveLength(2);
      expect(r.stderr).toContain(`kline.json row 1: the symbol '`);
      expect(r.stderr).toContain(`' the input names ${why}; give --symbol to name it`);
      expect(existsSync(out)).toBe(false);
      // --symbol names it
      expect((await feedCli(['import', dir, '--format', 'bybit', '--symbol', 'BTCUSDT', '--out', out])).code).toBe(0);
    }
    const f = file('c.csv', CANDLES);
    const dir = join(root, `bn-${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'BTCUSDT-1h-2025-05.csv'), CANDLES.replace('timestamp', 'open_time'));
    for (const args of [['import', 'csv', f, '--kind', 'candles', '--timeframe', '1h'], ['import', dir]]) {
      const r = await feedCli([...args, '--symbol', 'BTC USDT', '--out', outDir()]);
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toBe("marginlab: invalid --symbol 'BTC USDT': it holds a space or a control character\n");
    }
    const out = outDir();
    expect((await feedCli(['import', 'csv', f, '--kind', 'candles', '--timeframe', '1h', '--symbol', '币安人生USDT', '--out', out])).code).toBe(0);
    expect((await loadDataset(out)).symbols).toEqual(['币安人生USDT']);
  });

  it("a manifest path that steps out of the folder ('..' as a path step) is still refused", async () => {
    const out = outDir();
    await importCsv({ file: file('c.csv', CANDLES), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    for (const p of ['../BTCUSDT-candles-1h.arrow', 'sub/../../x.arrow', '..\\x.arrow', '/etc/passwd']) {
      m.files[0].path = p;
      writeFileSync(join(out, 'manifest.json'), JSON.stringify(m));
      let details: readonly string[] = [];
      try { readManifest(out); } catch (e) { details = (e as UserError).details; }
      // the manifest's own message shows the value given (issue-text ownWithValue, as result files)
      expect(details, p).toEqual([`files.0.path: must be a relative path inside the dataset folder, got ${JSON.stringify(p)}`]);
    }
  });
});

describe('empty inputs', () => {
  it('an empty freqtrade file (0-byte feather, json, json.gz; a gzip of nothing) is "no data rows" naming it (65), like every format', async () => {
    const { gzipSync } = await import('node:zlib');
    const dir = join(root, `ft-${++n}`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir);
    const cases: [string, Buffer][] = [
      ['BTC_USDT_USDT-1h-futures.feather', Buffer.alloc(0)],
      ['BTC_USDT_USDT-1h-mark.json', Buffer.alloc(0)],
      ['BTC_USDT_USDT-8h-funding_rate.json.gz', Buffer.alloc(0)],
      ['ETH_USDT_USDT-1h-futures.json.gz', gzipSync(Buffer.from('\n'))],
    ];
    for (const [name, data] of cases) {
      const p = join(dir, name);
      writeFileSync(p, data);
      const out = outDir();
      const r = await feedCli(['import', p, '--out', out]);
      expect(r.code, name).toBe(65);
      expect(r.stderr, name).toBe(`marginlab: ${p}: no data rows (the file is empty or holds a header only); nothing was imported. Re-download or re-export it, or leave it out of the import\n`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('a dataset file emptied behind its manifest (0 bytes) is named as empty when loaded, not as a file missing its columns', async () => {
    const out = outDir();
    await importCsv({ file: file('c.csv', CANDLES), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    writeFileSync(join(out, 'BTCUSDT-candles-1h.arrow'), '');
    const r = await feedCli(['data', 'validate', out]);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain('BTCUSDT-candles-1h.arrow: the file is empty (0 bytes), not an Arrow IPC file: re-import or re-download it');
    expect(r.stderr).not.toContain('missing column');
  });
});

describe('re-imports that change nothing', () => {
  it('a funding CSV imported again with --replace and no --timeframe leaves the manifest as it was (nominal interval and all)', async () => {
    const out = outDir();
    const f = file('funding.csv', 'timestamp,rate\n1747872000001,0.0001\n1747900800000,0.0001\n1747929600002,0.00005\n');
    await importCsv({ file: f, kind: 'funding', symbol: 'BTCUSDT', timeframe: '8h', out });
    const before = readFileSync(join(out, 'manifest.json'));
    const r = await importCsv({ file: f, kind: 'funding', symbol: 'BTCUSDT', out, replace: true });
    expect(r.added).toBe(0);
    expect(readFileSync(join(out, 'manifest.json')).equals(before)).toBe(true);
  });
});

describe('csv flags', () => {
  it("--delimiter '' and --columns #0 are usage errors (64) naming the flag, not a data error or a bad row per line", async () => {
    const f = file('c.csv', CANDLES);
    const base = ['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h'];
    let out = outDir();
    let r = await feedCli([...base, '--delimiter', '', '--out', out]);
    expect([r.code, r.stderr]).toEqual([64, "marginlab: --delimiter: expected one or more characters (e.g. ';', or '\\t' for a tab), got ''\n"]);
    expect(existsSync(out)).toBe(false);
    out = outDir();
    r = await feedCli([...base, '--columns', 'timestamp=#0,open=#2,high=#3,low=#4,close=#5,volume=#6', '--out', out]);
    expect([r.code, r.stderr]).toEqual([64, 'marginlab: --columns timestamp=#0: columns are numbered from #1\n']);
    expect(existsSync(out)).toBe(false);
    // a column past the header's: one line naming the header, not a bad row per line
    out = outDir();
    r = await feedCli([...base, '--columns', 'timestamp=#1,open=#2,high=#3,low=#4,close=#5,volume=#9', '--out', out]);
    expect([r.code, r.stderr]).toEqual([65, 'marginlab: --columns volume=#9: the header has 6 columns (timestamp, open, high, low, close, volume)\n']);
    expect(existsSync(out)).toBe(false);
  });

  it("--delimiter '\\t' as typed in a shell is a tab", async () => {
    const out = outDir();
    const f = file('c.tsv', CANDLES.replace(/,/g, '\t'));
    const r = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--delimiter', '\\t', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const md = await loadDataset(out);
    expect(Array.from(md.columns[0]!.close)).toEqual([109925.4, 109892.5, 110440.8]);
  });

  it('a .tsv file (or .tsv.gz) is a CSV import, tab-separated unless --delimiter says otherwise', async () => {
    const tsv = CANDLES.replace(/,/g, '\t');
    for (const f of [file('BTCUSDT-1h.tsv', tsv), file('BTCUSDT-1h.TSV.gz', gzipSync(tsv))]) {
      const out = outDir();
      // no --format and no --delimiter: detected by the name
      const r = await feedCli(['import', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(Array.from((await loadDataset(out)).columns[0]!.close)).toEqual([109925.4, 109892.5, 110440.8]);
    }
    // a .tsv whose fields are in fact comma-separated: --delimiter still decides
    const out = outDir();
    const r = await feedCli(['import', file('c.tsv', CANDLES), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--delimiter', ',', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    // and without it, the message names the delimiter to give
    const bad = await feedCli(['import', file('d.tsv', CANDLES), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir()]);
    expect(bad.code).toBe(65);
    expect(bad.stderr).toContain("give --delimiter ','");
    // a ';'-separated header with a comma inside a name: the delimiter that splits it into the most cells is named
    const semi = await feedCli(['import', file('e.tsv', 'time;open;high;low;close;"vol, base"\n1747872000000;1;1;1;1;1\n'), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir()]);
    expect(semi.code).toBe(65);
    expect(semi.stderr).toContain("give --delimiter ';'");
  });

  it("a ';'-separated file (Excel in many locales) imported without --delimiter says which delimiter to give", async () => {
    for (const [sep, flag] of [[';', "--delimiter ';'"], ['\t', "--delimiter '\\t'"], ['|', "--delimiter '|'"]] as const) {
      const f = file('semi.csv', `\uFEFF${CANDLES.replace(/,/g, sep).replace(/\n/g, '\r\n')}`);
      const out = outDir();
      const r = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
      expect(r.code).toBe(65);
      expect(r.stderr.split('\n').length, r.stderr).toBe(2);
      expect(r.stderr).toContain(`the header line has no ',' but has '${sep === '\t' ? '\\t' : sep}': give ${flag}`);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('output folder', () => {
  it('--out naming the input file is refused (64) suggesting a folder beside it, not one inside the file', async () => {
    const f = file('prices.csv', CANDLES);
    const r = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', f]);
    expect(r.code).toBe(64);
    expect(r.stderr).toBe(`marginlab: --out ${f} is the input file; choose a folder of its own (e.g. ${f.replace(/\.csv$/, '-dataset')})\n`);
    expect(readFileSync(f, 'utf8')).toBe(CANDLES);
  });
});

describe('--symbol over inputs of several symbols', () => {
  it('is refused (64) naming the symbols, for every format, instead of merging two markets into one series', async () => {
    const { mkdirSync, copyFileSync } = await import('node:fs');
    const { resolve } = await import('node:path');
    const FX = resolve(__dirname, 'fixtures', 'import');
    // Binance: BTC funding and an ETH funding file whose times differ by a few ms (they would interleave)
    const bin = join(root, `bin-${++n}`);
    mkdirSync(bin);
    // (June's rows only: a file named for a month holds that month's)
    const btc = readFileSync(join(FX, 'binance', 'series', 'BTCUSDT-fundingRate.csv'), 'utf8').split('\n').filter((l) => !/^\d/.test(l) || (Number(l.split(',')[0]) >= Date.UTC(2025, 5, 1) && Number(l.split(',')[0]) < Date.UTC(2025, 6, 1))).join('\n');
    writeFileSync(join(bin, 'BTCUSDT-fundingRate-2025-06.csv'), btc);
    writeFileSync(join(bin, 'ETHUSDT-fundingRate-2025-06.csv'), btc.replace(/^(\d+),8,/gm, (_, t: string) => `${Number(t) + 3},8,`));
    // freqtrade: two pairs
    const ft = join(root, `ft-${++n}`);
    mkdirSync(ft);
    copyFileSync(join(FX, 'freqtrade', 'plain', 'XRP_USDT_USDT-5m-futures.feather'), join(ft, 'XRP_USDT_USDT-5m-futures.feather'));
    copyFileSync(join(FX, 'freqtrade', 'plain', 'XRP_USDT_USDT-5m-futures.feather'), join(ft, 'ADA_USDT_USDT-5m-futures.feather'));
    // Bybit: the ETHUSDT answer and the same rows said to be of SOLUSDT
    const by = join(root, `by-${++n}`);
    mkdirSync(by);
    const eth = readFileSync(join(FX, 'bybit', 'ETHUSDT-kline-60.json'), 'utf8');
    writeFileSync(join(by, 'a.json'), eth);
    writeFileSync(join(by, 'b.json'), eth.replace('"symbol":"ETHUSDT"', '"symbol":"SOLUSDT"'));
    for (const [input, names, fmt] of [[bin, 'BTCUSDT, ETHUSDT', 'binance'], [ft, 'ADAUSDT, XRPUSDT', 'freqtrade'], [by, 'ETHUSDT, SOLUSDT', 'bybit']] as const) {
      const out = outDir();
      const r = await feedCli(['import', input, '--format', fmt, '--symbol', 'BTCUSDT', '--out', out]);
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toBe(`marginlab: --symbol BTCUSDT would name the data of 2 symbols (${names}) one symbol; import one symbol's files at a time, or leave --symbol out\n`);
      expect(existsSync(out)).toBe(false);
    }
    // one symbol's files renamed by --symbol is fine
    const out = outDir();
    const r = await feedCli(['import', join(bin, 'BTCUSDT-fundingRate-2025-06.csv'), '--symbol', 'BTC-PERP', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(out).manifest.symbols).toEqual(['BTC-PERP']);
  });
});

describe('OKX contract volume', () => {
  it('vol × ctVal is the exact decimal product: equal to OKX\'s own base volume (volCcy) in every row', async () => {
    const { resolve } = await import('node:path');
    const { readVenue } = await import('../src/feed/formats/venues.js');
    const src = resolve(__dirname, 'fixtures', 'import', 'okx', 'ETH-USDT-SWAP-1H.json');
    const rows = JSON.parse(readFileSync(src, 'utf8')).data as string[][];
    const volCcy = new Map(rows.map((r) => [Number(r[0]), Number(r[6])]));
    const [s] = readVenue('okx', [src]);
    const got = Array.from(s!.time, (t, i) => [t, s!.cols[4]![i]]);
    expect(got).toEqual(Array.from(s!.time, (t) => [t, volCcy.get(t)]));
  });
});

describe('Binance mark-price archives outside a markPriceKlines folder', () => {
  it('are refused (65) instead of becoming trade candles: klines and markPriceKlines share file names, mark rows have volume 0', async () => {
    const { resolve } = await import('node:path');
    const { mkdirSync, copyFileSync } = await import('node:fs');
    const dir = join(root, `dl-${++n}`);
    mkdirSync(dir);
    const zip = join(dir, 'BTCUSDT-8h-2025-06.zip');
    copyFileSync(resolve(__dirname, 'fixtures', 'import', 'binance', 'markPriceKlines', 'BTCUSDT-8h-2025-06.zip'), zip);
    let out = outDir();
    let r = await feedCli(['import', zip, '--out', out]);
    expect(r.code).toBe(65);
    expect(r.stderr).toBe(`marginlab: ${zip} (archive member BTCUSDT-8h-2025-06.csv): volume is 0 in all 90 rows, as in Binance's markPriceKlines archives (they have the klines' file names); give --kind mark for mark candles, or --kind candles if these are trade candles\n`);
    expect(existsSync(out)).toBe(false);
    r = await feedCli(['import', zip, '--kind', 'mark', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(out).manifest.files.map((f) => f.kind)).toEqual(['mark']);
    out = outDir();
    r = await feedCli(['import', zip, '--kind', 'candles', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(out).manifest.files.map((f) => f.kind)).toEqual(['candles']);
  });
});

describe('newest-first CSV', () => {
  it('a descending file (as many exports are) imports to the same ascending series; more rows than a batch; a row out of that order is a bad row', async () => {
    const lines = CANDLES.trim().split('\n');
    const head = lines[0]!;
    // 70,000 hourly rows, newest first (beyond one 65,536-row batch)
    const N = 70_000;
    const t0 = 1747872000000;
    const rows: string[] = [];
    for (let i = N - 1; i >= 0; i--) rows.push(`${t0 + i * 3_600_000},${100 + (i % 7)},${110 + (i % 7)},${90 + (i % 7)},${101 + (i % 7)},${i / 8}`);
    const out = outDir();
    const r = await importCsv({ file: file('desc.csv', `${head}\r\n${rows.join('\r\n')}\r\n`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    expect([r.rows, r.first, r.last, r.gaps]).toEqual([N, t0, t0 + (N - 1) * 3_600_000, 0]);
    const md = await loadDataset(out);
    const c = md.columns[0]!;
    for (const i of [0, 1, 65_535, 65_536, N - 1]) {
      expect([md.time[i], c.open[i], c.close[i], c.volume[i]]).toEqual([t0 + i * 3_600_000, 100 + (i % 7), 101 + (i % 7), i / 8]);
    }
    // funding newest-first, with a price column
    const fo = outDir();
    await importCsv({ file: file('f.csv', 'fundingTime,fundingRate,markPrice\n1747929600002,0.00005,110000.5\n1747900800000,0.0001,\n1747872000001,-0.0001,109609.6\n'), kind: 'funding', symbol: 'BTCUSDT', out: fo });
    const { readKindFile } = await import('../src/feed/arrow-io.js');
    const { ProblemList } = await import('../src/feed/validate.js');
    const fr = readKindFile(join(fo, 'BTCUSDT-funding.arrow'), 'f', 'funding', new ProblemList())!;
    expect(Array.from(fr.timestamp)).toEqual([1747872000001, 1747900800000, 1747929600002]);
    expect(Array.from(fr.columns.rate!)).toEqual([-0.0001, 0.0001, 0.00005]);
    expect(Array.from(fr.columns.price!)).toEqual([109609.6, NaN, 110000.5]);
    // appended with a conflict: the data row is counted from the top of the newest-first file
    const [h, r1, r2, r3] = CANDLES.trim().split('\n');
    const ao = outDir();
    await importCsv({ file: file('a.csv', `${h}\n${r1}\n${r2}\n`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out: ao });
    const changed = r1!.replace('109925.4', '109925.5');
    const ce = await importCsv({ file: file('b.csv', `${h}\n${r3}\n${r2}\n${changed}\n`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out: ao }).catch((x: UserError) => x);
    expect((ce as UserError).message).toContain('b.csv data row 3: the row at 2025-05-22T00:00:00.000Z');
    // a newest-first file whose first row is repeated: one duplicate bad row, the order still found
    const [, d1, d2, d3] = CANDLES.trim().split('\n');
    const de = await importCsv({ file: file('dd.csv', `${head}\n${d3}\n${d3}\n${d2}\n${d1}\n`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out: outDir() }).catch((x: UserError) => x);
    expect((de as UserError).details).toEqual([expect.stringContaining('line 3: duplicate timestamp 2025-05-22T02:00:00.000Z')]);
    // a row out of the descending order
    const bad = [lines[3], lines[2], lines[1], lines[3]].join('\n');
    const e = await importCsv({ file: file('d.csv', `${head}\n${bad}\n`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out: outDir() }).catch((x: UserError) => x);
    expect((e as UserError).details).toEqual([expect.stringContaining('line 5: timestamp 2025-05-22T02:00:00.000Z (1747879200000) is out of order (later than line 4')]);
  });
});

describe('archives re-zipped on a Mac', () => {
  it("a Binance archive holding Finder's __MACOSX/._*.csv resource forks imports its one real CSV", async () => {
    const { deflateRawSync } = await import('node:zlib');
    const { writeZip } = await import('../src/feed/formats/zip.js');
    const { readBinance } = await import('../src/feed/formats/binance.js');
    const { mkdirSync } = await import('node:fs');
    const dir = join(root, `mac-${++n}`);
    mkdirSync(dir);
    const csv = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n1747872000000,109609.6,110146.4,109153.4,109925.4,16028.352,1747875599999,0,1,0,0,0\n1747875600000,109925.3,110549.9,109640.3,109892.5,12972.009,1747879199999,0,1,0,0,0\n';
    const fork = Buffer.concat([Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]), Buffer.from('Mac OS X        '), Buffer.alloc(64)]);
    const zip = join(dir, 'BTCUSDT-1h-2025-05.zip');
    writeFileSync(zip, writeZip([
      { name: 'BTCUSDT-1h-2025-05.csv', data: Buffer.from(csv) },
      { name: '__MACOSX/', data: Buffer.alloc(0) },
      { name: '__MACOSX/._BTCUSDT-1h-2025-05.csv', data: fork },
      { name: '._BTCUSDT-1h-2025-05.csv', data: fork },
    ], (b) => deflateRawSync(b)));
    const series = readBinance([zip]);
    expect(series.map((x) => [x.symbol, x.kind, x.time.length])).toEqual([['BTCUSDT', 'candles', 2]]);
  });
});

describe('compressed CSV', () => {
  it('import csv reads a .csv.gz (streamed) and a ZIP of one .csv; an archive of none or several, or a cut gzip, is one line (65), nothing written', async () => {
    const { gzipSync, deflateRawSync } = await import('node:zlib');
    const { writeZip } = await import('../src/feed/formats/zip.js');
    const args = (f: string, out: string) => ['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out];
    const gz = file('p.csv.gz', gzipSync(CANDLES));
    const one = file('p.zip', writeZip([{ name: 'p.csv', data: Buffer.from(CANDLES) }, { name: '__MACOSX/._p.csv', data: Buffer.alloc(40) }], (b) => deflateRawSync(b)));
    for (const f of [gz, one]) {
      const out = outDir();
      const r = await feedCli(args(f, out));
      expect(r.code, r.stderr).toBe(0);
      expect(Array.from((await loadDataset(out)).columns[0]!.close)).toEqual([109925.4, 109892.5, 110440.8]);
    }
    // the generic command detects a .csv.gz as CSV
    const out = outDir();
    expect((await feedCli(['import', gz, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out])).code).toBe(0);
    const two = file('two.zip', writeZip([{ name: 'a.csv', data: Buffer.from(CANDLES) }, { name: 'b.csv', data: Buffer.from(CANDLES) }], (b) => deflateRawSync(b)));
    const none = file('none.zip', writeZip([{ name: 'readme.txt', data: Buffer.from('x') }], (b) => deflateRawSync(b)));
    const cut = file('cut.csv.gz', gzipSync(CANDLES.repeat(50)).subarray(0, 60));
    for (const [f, msg] of [
      [two, `${two}: the archive holds 2 .csv files (a.csv, b.csv); a CSV import reads one: extract it and import it by name`],
      [none, `${none}: the archive holds no .csv file; nothing was imported`],
      [cut, `${cut}: not a readable gzip file (unexpected end of file); it may be cut short: download or compress it again`],
    ] as const) {
      const o = outDir();
      const r = await feedCli(args(f, o));
      expect([r.code, r.stderr]).toEqual([65, `marginlab: ${msg}\n`]);
      expect(existsSync(o)).toBe(false);
    }
  });
});

describe('a Binance archive of several CSV files', () => {
  it('is refused naming them, as the CSV format refuses one (they were merged in silence under a name saying another month)', async () => {
    const { deflateRawSync } = await import('node:zlib');
    const { writeZip } = await import('../src/feed/formats/zip.js');
    const t0 = Date.UTC(2025, 4, 1);
    const month = (from: number) => Buffer.from(Array.from({ length: 3 }, (_, i) => `${from + i * 3_600_000},100,101,99,100.5,10,${from + i * 3_600_000 + 3_599_999},1000,5,5,500,0`).join('\n') + '\n');
    const zip = join(mkdtempSync(join(root, 'bn-zip-')), 'BTCUSDT-1h-2025-08.zip');
    writeFileSync(zip, writeZip([{ name: 'BTCUSDT-1h-2025-05.csv', data: month(t0) }, { name: 'BTCUSDT-1h-2025-06.csv', data: month(Date.UTC(2025, 5, 1)) }], (b) => deflateRawSync(b)));
    const o = outDir();
    const r = await feedCli(['import', zip, '--format', 'binance', '--out', o]);
    expect([r.code, r.stderr]).toEqual([65, `marginlab: ${zip}: the archive holds 2 .csv files (BTCUSDT-1h-2025-05.csv, BTCUSDT-1h-2025-06.csv); a Binance archive holds one: extract them and import the files by name; nothing was imported\n`]);
    expect(existsSync(o)).toBe(false);
  });
});

describe('Bybit kline answers', () => {
  it("leave out the still-forming candle Bybit puts first (its end is after the answer's time), so a later answer appends instead of conflicting", async () => {
    const { resolve } = await import('node:path');
    const src = JSON.parse(readFileSync(resolve(__dirname, 'fixtures', 'import', 'bybit', 'ETHUSDT-kline-60.json'), 'utf8'));
    const list = src.result.list as string[][];
    // an answer made at 00:20 past the newest candle's open: that candle is still forming
    const early = { ...src, result: { ...src.result, list: [['1748995200000', '2592.16', '2593', '2590', '2591', '1000', '2591000'], ...list] }, time: 1748995200000 + 20 * 60_000 };
    const later = { ...src, result: { ...src.result, list: [['1748995200000', '2592.16', '2599', '2580', '2596.5', '88000', '228000000'], ...list] }, time: 1748995200000 + 3_600_000 };
    const out = outDir();
    let r = await feedCli(['import', file('early.json', JSON.stringify(early)), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('candles ETHUSDT 1h: 72 new rows');
    r = await feedCli(['import', file('later.json', JSON.stringify(later)), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('candles ETHUSDT 1h: 1 new row, 73 in');
    const md = await loadDataset(out);
    expect(md.columns[0]!.close[72]).toBe(2596.5);
  });
});

describe('a failed import into a dataset made before marker files', () => {
  it('leaves the folder exactly as it was: no .marginlab.json added', async () => {
    const { readdirSync, unlinkSync } = await import('node:fs');
    const out = outDir();
    await importCsv({ file: file('c.csv', CANDLES), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    const marker = join(out, '.marginlab.json');
    if (existsSync(marker)) unlinkSync(marker);
    const before = readdirSync(out).sort();
    const conflicting = CANDLES.replace('110440.8', '110440.9');
    const r = await feedCli(['import', 'csv', file('d.csv', conflicting), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(r.code).toBe(65);
    expect(readdirSync(out).sort()).toEqual(before);
    // a successful import marks it
    const ok = await feedCli(['import', 'csv', file('e.csv', CANDLES), '--kind', 'candles', '--symbol', 'ETHUSDT', '--timeframe', '1h', '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(existsSync(marker)).toBe(true);
  });
});

describe('freqtrade feather column types', () => {
  it('float32 prices and rates read as the decimals written (as the loader reads them); int32 epoch seconds and int64 epoch ns by magnitude', async () => {
    const A = await import('apache-arrow');
    const { mkdirSync } = await import('node:fs');
    const { readFreqtrade } = await import('../src/feed/formats/freqtrade.js');
    const rows = CANDLES.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const write = (name: string, date: import('apache-arrow').Vector, priceType: import('apache-arrow').DataType, cols = ['open', 'high', 'low', 'close', 'volume']) => {
      const dir = join(root, `ft-types-${++n}`);
      mkdirSync(dir);
      const v: Record<string, import('apache-arrow').Vector> = { date };
      cols.forEach((c, k) => { v[c] = A.vectorFromArray(rows.map((r) => r[k + 1]!), priceType); });
      writeFileSync(join(dir, name), A.tableToIPC(new A.Table(v), 'file'));
      return dir;
    };
    const ms = rows.map((r) => r[0]!);
    const cases = [
      write('BTC_USDT_USDT-1h-futures.feather', A.vectorFromArray(ms, new A.TimestampMillisecond()), new A.Float32()),
      write('BTC_USDT_USDT-1h-futures.feather', A.vectorFromArray(ms.map((t) => t / 1000), new A.Int32()), new A.Float64()),
      write('BTC_USDT_USDT-1h-futures.feather', A.vectorFromArray(ms.map((t) => BigInt(t) * 1_000_000n), new A.Int64()), new A.Float64()),
    ];
    for (const dir of cases) {
      const [s] = readFreqtrade([dir]);
      expect(Array.from(s!.time), dir).toEqual(ms);
      for (let k = 0; k < 5; k++) expect(Array.from(s!.cols[k]!), `${dir} column ${k}`).toEqual(rows.map((r) => r[k + 1]));
    }
    // a float32 funding file: the rate in open as written (0.0001, not 0.00009999999747378752)
    const fdir = join(root, `ft-types-${++n}`);
    mkdirSync(fdir);
    const f: Record<string, import('apache-arrow').Vector> = { date: A.vectorFromArray([1747872000001, 1747900800000], new A.TimestampMillisecond()) };
    for (const c of ['open', 'high', 'low', 'close', 'volume']) f[c] = A.vectorFromArray(c === 'open' ? [0.0001, 0.00009321] : [0, 0], new A.Float32());
    writeFileSync(join(fdir, 'BTC_USDT_USDT-8h-funding_rate.feather'), A.tableToIPC(new A.Table(f), 'file'));
    expect(Array.from(readFreqtrade([fdir])[0]!.cols[0]!)).toEqual([0.0001, 0.00009321]);
  });
});

describe('a file in the dataset folder that the manifest does not list', () => {
  it('is never overwritten by an import of a new series (csv or any format): 64 naming it, the folder as it was', async () => {
    const { mkdirSync, readdirSync } = await import('node:fs');
    const out = outDir();
    expect((await feedCli(['import', 'csv', file('c.csv', CANDLES), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out])).code).toBe(0);
    writeFileSync(join(out, 'BTCUSDT-funding.arrow'), 'my own notes\n');
    writeFileSync(join(out, 'BTCUSDT-candles-30m.arrow'), 'my own file\n');
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    const entries = readdirSync(out).sort();
    const funding = file('f.csv', 'timestamp,rate\n1747872000001,0.0001\n1747900800000,0.0001\n');
    const ft = join(root, `ft-${++n}`);
    mkdirSync(ft);
    writeFileSync(join(ft, 'BTC_USDT_USDT-30m-futures.json'), JSON.stringify([[1747872000000, 1, 2, 0.5, 1.5, 10], [1747873800000, 1, 2, 0.5, 1.5, 10]]));
    for (const [args, name] of [
      [['import', 'csv', funding, '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out], 'BTCUSDT-funding.arrow'],
      [['import', 'csv', funding, '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out, '--replace'], 'BTCUSDT-funding.arrow'],
      [['import', ft, '--out', out], 'BTCUSDT-candles-30m.arrow'],
    ] as const) {
      const r = await feedCli([...args]);
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toBe(`marginlab: ${join(out, name)} exists but manifest.json does not list it, so it is not marginlab's: it would be overwritten by this import. Move it out of the dataset folder (or remove it if it is a leftover), or import into another --out\n`);
    }
    expect(readFileSync(join(out, 'BTCUSDT-funding.arrow'), 'utf8')).toBe('my own notes\n');
    expect(readFileSync(join(out, 'BTCUSDT-candles-30m.arrow'), 'utf8')).toBe('my own file\n');
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    expect(readdirSync(out).sort()).toEqual(entries);
  });
});

describe('funding rates written as percentages', () => {
  it("'0.0100%' (as exchange pages and exports show funding) is exactly a hundredth: 0.0001; a bad percentage is a bad row", async () => {
    const { readKindFile } = await import('../src/feed/arrow-io.js');
    const { ProblemList } = await import('../src/feed/validate.js');
    const out = outDir();
    const f = file('funding.csv', 'timestamp,rate\n1747872000001,0.0100%\n1747900800000,-0.0075%\n1747929600002, 1.5e-2 %\n1747958400006,0.00009321\n');
    const r = await importCsv({ file: f, kind: 'funding', symbol: 'BTCUSDT', out });
    expect(r.rows).toBe(4);
    const read = readKindFile(join(out, 'BTCUSDT-funding.arrow'), 'f', 'funding', new ProblemList())!;
    expect(Array.from(read.columns.rate!)).toEqual([0.0001, -0.000075, 0.00015, 0.00009321]);
    const bf = file('bad.csv', 'timestamp,rate\n1747872000001,%\n1747900800000,0.01%%\n1747929600002,150%\n');
    const bad = await importCsv({ file: bf, kind: 'funding', symbol: 'BTCUSDT', out: outDir() }).catch((e: UserError) => e);
    const name = bf.split('/').pop();
    expect((bad as UserError).details).toEqual([
      `${name} line 2: rate '%' is not a number`,
      `${name} line 3: rate '0.01%%' is not a number`,
      `${name} line 4: rate 1.5 is implausible (|rate| must be < 1; rates are fractions, 0.0001 = 0.01 %)`,
    ]);
  });
});

describe('JSON rows of another shape', () => {
  it('a null row, a row of another shape, a nested cell: one line naming the file and row (65) or a bad row, never an internal error', async () => {
    const { mkdirSync } = await import('node:fs');
    const put = (name: string, json: unknown) => {
      const dir = join(root, `json-${++n}`);
      mkdirSync(dir);
      writeFileSync(join(dir, name), JSON.stringify(json));
      return dir;
    };
    const row = ['1747872000000', '1', '2', '0.5', '1.5', '3', '4'];
    const cases: [string[], string][] = [
      [[put('BTCUSDT-kline.json', { retCode: 0, result: { symbol: 'BTCUSDT', list: [null, null] } }), '--format', 'bybit'], 'BTCUSDT-kline.json: row 1 is null, not an array of values; export the answer again'],
      [[put('BTCUSDT-kline.json', { retCode: 0, result: { symbol: 'BTCUSDT', list: [{ startTime: '1747872000000' }, null] } }), '--format', 'bybit'], 'BTCUSDT-kline.json: row 2 is null, not an object of fields like row 1; export the answer again'],
      [[put('BTC-USDT-SWAP-1h.json', { code: '0', data: [row, 'x'] }), '--format', 'okx'], `BTC-USDT-SWAP-1h.json: row 2 is "x", not an array of values; export the answer again`],
      [[put('BTC_USDT_USDT-1h-futures.json', [{ date: 1747872000000, open: 1 }])], 'BTC_USDT_USDT-1h-futures.json: row 1 is {"date":1747872000000,"open":1}, not an array [date, open, high, low, close, volume] as freqtrade writes'],
    ];
    for (const [args, text] of cases) {
      const out = outDir();
      const r = await feedCli(['import', ...args, '--out', out]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr.split('\n'), r.stderr).toHaveLength(2);
      expect(r.stderr).toContain(text);
      expect(existsSync(out)).toBe(false);
    }
    // a cell holding an array (arbitrarily deep) or a blank string is not a number: a bad row, not a stack overflow or 0
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const answer = JSON.stringify({ retCode: 0, result: { symbol: 'BTCUSDT', list: [row, ['1747875600000', 'DEEP', '2', '0.5', '1.5', '3', '4'], ['1747879200000', '1', '2', '0.5', '1.5', ' ', '4']] } }).replace('"DEEP"', deep);
    const dir = put('BTCUSDT-kline.json', {});
    writeFileSync(join(dir, 'BTCUSDT-kline.json'), answer);
    const r = await feedCli(['import', dir, '--format', 'bybit', '--timeframe', '1h', '--out', outDir()]);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toMatch(/kline\.json row 2: open '' is not a number\n.*kline\.json row 3: volume ' ' is not a number\n$/);
    const ft = put('BTC_USDT_USDT-1h-futures.json', [[1747872000000, 1, 2, 0.5, 1.5, 3], [1747875600000, 1, 2, 0.5, 1.5, ' '], [1747879200000, [[1]], 2, 0.5, 1.5, 3]]);
    const f = await feedCli(['import', ft, '--out', outDir()]);
    expect(f.code, f.stderr).toBe(65);
    expect(f.stderr).toContain("BTC_USDT_USDT-1h-futures.json row 2: volume ' ' is not a number");
    expect(f.stderr).toContain("BTC_USDT_USDT-1h-futures.json row 3: open '[…]' is not a number");
  });
});

describe('cells that are not numbers, in every format', () => {
  it('are quoted as the input has them (not "NaN"), and a time that is no epoch number says what is expected', async () => {
    const { mkdirSync } = await import('node:fs');
    const dir = (name: string, text: string) => {
      const d = join(root, `cells-${++n}`);
      mkdirSync(d);
      writeFileSync(join(d, name), text);
      return d;
    };
    const cases: [string[], string[]][] = [
      [[dir('BTCUSDT-1h-2025-05.csv', 'open_time,open,high,low,close,volume\n2025-05-22 00:00:00,1,2,0.5,1.5,3\n1747875600000,n/a,2,0.5,1.5,3\n')], [
        "BTCUSDT-1h-2025-05.csv line 2: time '2025-05-22 00:00:00' is not an epoch time (s, ms, µs or ns)",
        "BTCUSDT-1h-2025-05.csv line 3: open 'n/a' is not a number"]],
      [[dir('BTCUSDT-fundingRate-2025-05.csv', 'calc_time,funding_interval_hours,last_funding_rate\n1747872000000,8,0.01%\n')], ["BTCUSDT-fundingRate-2025-05.csv line 2: rate '0.01%' is not a number"]],
      [[dir('BTC_USDT_USDT-1h-futures.json', '[[1747872000000,null,2,0.5,1.5,3],["x",1,2,0.5,1.5,3]]')], [
        "BTC_USDT_USDT-1h-futures.json row 1: open 'null' is not a number",
        "BTC_USDT_USDT-1h-futures.json row 2: time 'x' is not an epoch time (s, ms, µs or ns)"]],
      [[dir('BTC-USDT-SWAP-1h.csv', 'ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm\n1747872000000,1,2,0.5,1.5,abc,1,1,1\n1747875600000,1,2,0.5,1.5,3,1,1,1\n'), '--format', 'okx'], ["BTC-USDT-SWAP-1h.csv line 2: volume 'abc' is not a number"]],
    ];
    for (const [args, lines] of cases) {
      const out = outDir();
      const r = await feedCli(['import', ...args, '--out', out]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr.trimEnd().split('\n').slice(1).map((l) => l.trim()), r.stderr).toEqual(lines);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('appending to a series file changed behind the manifest', () => {
  it('is refused (65) naming the file and both hashes, instead of listing the changed file (and the rows merged into it) as the dataset', async () => {
    const out = outDir();
    await importCsv({ file: file('c.csv', CANDLES), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    // the file rewritten by another tool with other prices (a valid Arrow file, its hash not in the manifest)
    const A = await import('apache-arrow');
    const rows = CANDLES.trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    const cols: Record<string, import('apache-arrow').Vector> = { timestamp: A.vectorFromArray(rows.map((r) => r[0]!), new A.TimestampMillisecond('UTC')) };
    ['open', 'high', 'low', 'close', 'volume'].forEach((c, k) => { cols[c] = A.vectorFromArray(rows.map((r) => 2 * r[k + 1]!), new A.Float64()); });
    const path = join(out, 'BTCUSDT-candles-1h.arrow');
    writeFileSync(path, A.tableToIPC(new A.Table(cols), 'file'));
    const edited = readFileSync(path);
    const manifest = readFileSync(join(out, 'manifest.json'), 'utf8');
    const later = file('later.csv', 'timestamp,open,high,low,close,volume\n1747882800000,110440.7,111866.4,110304.9,111755.9,20784.985\n');
    const r = await feedCli(['import', 'csv', later, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toMatch(new RegExp(`^marginlab: ${path.replace(/[.]/g, '\\.')}: sha256 [0-9a-f]{64} differs from the manifest's [0-9a-f]{64} .*; nothing was written\\. Import the whole series again with --replace, or restore the file\\n$`));
    expect(readFileSync(path).equals(edited)).toBe(true);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(manifest);
    // --replace is the way out; it says how many rows it replaced (it said only "imported 1 rows")
    const rep = await feedCli(['import', 'csv', later, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--replace']);
    expect(rep.code).toBe(0);
    expect(rep.stdout).toMatch(/, replacing the \d+ rows it held\) in /);
    expect(Array.from((await loadDataset(out)).columns[0]!.close)).toEqual([111755.9]);
  });
});

describe('a CSV from a pipe (/dev/stdin, a shell\'s <(zcat prices.csv.gz))', () => {
  it('imports as the file would: plain, gzip or a ZIP of one .csv; a cut gzip is a data error naming the pipe, not "cannot write the dataset: ESPIPE"', async () => {
    const { execFileSync } = await import('node:child_process');
    const { createWriteStream } = await import('node:fs');
    const { gzipSync, deflateRawSync } = await import('node:zlib');
    const { writeZip } = await import('../src/feed/formats/zip.js');
    const viaFifo = async (bytes: Buffer, args: string[] = []) => {
      const fifo = join(root, `fifo-${++n}`);
      execFileSync('mkfifo', [fifo]);
      const w = createWriteStream(fifo);
      w.on('error', () => { /* the reader may stop early */ });
      w.end(bytes);
      return feedCli(['import', 'csv', fifo, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', ...args]);
    };
    for (const bytes of [Buffer.from(CANDLES), gzipSync(CANDLES), writeZip([{ name: 'prices.csv', data: Buffer.from(CANDLES) }], (b) => deflateRawSync(b))]) {
      const out = outDir();
      const r = await viaFifo(bytes, ['--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(Array.from((await loadDataset(out)).columns[0]!.close)).toEqual([109925.4, 109892.5, 110440.8]);
    }
    const out = outDir();
    const cut = await viaFifo(gzipSync(CANDLES).subarray(0, 40), ['--out', out]);
    expect(cut.code, cut.stderr).toBe(65);
    expect(cut.stderr).toMatch(/^marginlab: \/.*fifo-\d+: not a readable gzip file \(unexpected end of file\); it may be cut short: download or compress it again\n$/);
    expect(existsSync(out)).toBe(false);
  });
});

describe('lone CR line ends (classic Mac, some spreadsheet exports)', () => {
  it('split lines in the Binance, Bybit and OKX readers as in the csv format: every row imported, not one row (headerless) or "no data rows"', async () => {
    const { mkdirSync } = await import('node:fs');
    const { readBinance } = await import('../src/feed/formats/binance.js');
    const { readVenue } = await import('../src/feed/formats/venues.js');
    const rows = CANDLES.trim().split('\n').slice(1);
    const put = (name: string, text: string) => {
      const d = join(root, `cr-${++n}`);
      mkdirSync(d);
      writeFileSync(join(d, name), text);
      return join(d, name);
    };
    for (const text of [`open_time,open,high,low,close,volume\r${rows.join('\r')}\r`, `${rows.join('\r')}\r`]) {
      const [s] = readBinance([put('BTCUSDT-1h-2025-05.csv', text)]);
      expect(Array.from(s!.time)).toEqual([1747872000000, 1747875600000, 1747879200000]);
      expect(Array.from(s!.cols[3]!)).toEqual([109925.4, 109892.5, 110440.8]);
    }
    const [b] = readVenue('bybit', [put('BTCUSDT-kline.csv', `startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover\r${rows.map((r) => `${r},1`).join('\r')}`)]);
    expect(Array.from(b!.cols[3]!)).toEqual([109925.4, 109892.5, 110440.8]);
  });
});

describe('one written form per timeframe', () => {
  it("--timeframe ' 1h', 60m and 3600s are the series 1h (one file, one manifest entry), for csv and the other formats", async () => {
    const { mkdirSync, readdirSync } = await import('node:fs');
    const out = outDir();
    const f = file('c.csv', CANDLES);
    for (const tf of [' 1h', '60m', '3600s', '1h']) {
      const r = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', tf, '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
    const m = readManifest(out).manifest;
    expect(m.timeframe).toBe('1h');
    expect(m.files.map((x) => [x.path, x.timeframe])).toEqual([['BTCUSDT-candles-1h.arrow', '1h']]);
    expect(readdirSync(out).filter((x) => x.endsWith('.arrow'))).toEqual(['BTCUSDT-candles-1h.arrow']);
    // a Binance file named 1h with --timeframe 60m: the same timeframe, not a contradiction
    const dir = join(root, `bn-${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'BTCUSDT-1h-2025-05.csv'), CANDLES.replace('timestamp', 'open_time'));
    const r = await feedCli(['import', dir, '--timeframe', '60m', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(readManifest(out).manifest.files).toHaveLength(1);
  });
});

describe('header names with spaces', () => {
  it("'Funding Rate', 'Open Time', 'mark-price' match their aliases (Binance's funding history export imports as it is, rates in %)", async () => {
    const { readKindFile } = await import('../src/feed/arrow-io.js');
    const { ProblemList } = await import('../src/feed/validate.js');
    const out = outDir();
    const ui = file('Funding Rate History.csv', '"Time","Contracts","Funding Interval","Funding Rate"\n"2025-05-22 00:00:00","BTCUSDT","8h","0.0100%"\n"2025-05-22 08:00:00","BTCUSDT","8h","-0.0052%"\n');
    await importCsv({ file: ui, kind: 'funding', symbol: 'BTCUSDT', out });
    const f = readKindFile(join(out, 'BTCUSDT-funding.arrow'), 'f', 'funding', new ProblemList())!;
    expect(Array.from(f.timestamp)).toEqual([1747872000000, 1747900800000]);
    expect(Array.from(f.columns.rate!)).toEqual([0.0001, -0.000052]);
    const withPrice = file('f.csv', 'Funding-Time,funding rate,Mark Price\n1747872000001,0.0001,109000.5\n');
    await importCsv({ file: withPrice, kind: 'funding', symbol: 'ETHUSDT', out });
    expect(Array.from(readKindFile(join(out, 'ETHUSDT-funding.arrow'), 'f', 'funding', new ProblemList())!.columns.price!)).toEqual([109000.5]);
    await importCsv({ file: file('k.csv', 'Open Time,Open,High,Low,Close,Base Volume\n2025-05-22 00:00:00,1,2,0.5,1.5,3\n'), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    expect(Array.from((await loadDataset(out, { symbols: ['BTCUSDT'] })).columns[0]!.volume)).toEqual([3]);
  });
});

describe('folders of symbolic links', () => {
  it('a linked month folder is read (it was skipped: a partial import, or "no importable files"); a link back up is no loop; a dangling data link is 66', async () => {
    const { mkdirSync, symlinkSync } = await import('node:fs');
    const base = join(root, `links-${++n}`);
    const may = join(base, 'store', 'may');
    const set = join(base, 'set');
    mkdirSync(may, { recursive: true });
    mkdirSync(join(set, 'june'), { recursive: true });
    const rows = CANDLES.trim().split('\n').slice(1);
    writeFileSync(join(may, 'BTCUSDT-1h-2025-05.csv'), `${rows.slice(0, 2).join('\n')}\n`);
    writeFileSync(join(set, 'june', 'BTCUSDT-1h-2025-05-22.csv'), `${rows[2]}\n`);
    symlinkSync(may, join(set, 'may'));
    symlinkSync('..', join(set, 'june', 'up'));
    const out = outDir();
    const r = await feedCli(['import', set, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(Array.from((await loadDataset(out)).time)).toEqual([1747872000000, 1747875600000, 1747879200000]);
    symlinkSync(join(base, 'gone', 'BTCUSDT-1h-2025-07.zip'), join(set, 'BTCUSDT-1h-2025-07.zip'));
    const broken = await feedCli(['import', set, '--out', outDir()]);
    expect(broken.code, broken.stderr).toBe(66);
    expect(broken.stderr).toBe(`marginlab: ${join(set, 'BTCUSDT-1h-2025-07.zip')} is a symbolic link to ${join(base, 'gone', 'BTCUSDT-1h-2025-07.zip')}, which does not exist; fix or remove the link\n`);
  });
});

describe('a dataset whose manifest lists files in a sub-folder', () => {
  it('is appended to and replaced (csv and other formats) with temp files beside the file, not at "<dataset>/.data/…" (ENOENT, blamed on --out)', async () => {
    const { mkdirSync, renameSync, readdirSync } = await import('node:fs');
    const out = outDir();
    const rows = CANDLES.trim().split('\n');
    await importCsv({ file: file('c.csv', `${rows.slice(0, 3).join('\n')}\n`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    mkdirSync(join(out, 'data'));
    renameSync(join(out, 'BTCUSDT-candles-1h.arrow'), join(out, 'data', 'BTCUSDT-candles-1h.arrow'));
    writeFileSync(join(out, 'manifest.json'), readFileSync(join(out, 'manifest.json'), 'utf8').replace('"path": "BTCUSDT-candles-1h.arrow"', '"path": "data/BTCUSDT-candles-1h.arrow"'));
    const later = file('later.csv', `${rows[0]}\n${rows[3]}\n`);
    const r = await feedCli(['import', 'csv', later, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(Array.from((await loadDataset(out)).columns[0]!.close)).toEqual([109925.4, 109892.5, 110440.8]);
    const dir = join(root, `bn-${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'BTCUSDT-1h-2025-05.csv'), `${rows.slice(0, 2).join('\n').replace('timestamp', 'open_time')}\n`);
    const f = await feedCli(['import', dir, '--replace', '--out', out]);
    expect(f.code, f.stderr).toBe(0);
    expect(f.stdout).toContain('candles BTCUSDT 1h: 1 new row, 1 in ');
    expect(f.stdout).toContain(', replacing the 3 rows it held)');
    expect(Array.from((await loadDataset(out)).columns[0]!.close)).toEqual([109925.4]);
    expect(readManifest(out).manifest.files.map((x) => x.path)).toEqual(['data/BTCUSDT-candles-1h.arrow']);
    expect(readdirSync(join(out, 'data'))).toEqual(['BTCUSDT-candles-1h.arrow']);
  });
});

describe('OKX symbols named like Object members', () => {
  it("--symbol toString or constructor is not found in the contract-value table (it was an internal error, 70): the volCcy column is used", async () => {
    const { readVenue } = await import('../src/feed/formats/venues.js');
    const f = file('okx.csv', 'ts,o,h,l,c,vol,volCcy,volCcyQuote,confirm\n1747872000000,1,2,0.5,1.5,3,0.03,1,1\n1747875600000,1,2,0.5,1.5,3,0.03,1,1\n');
    for (const symbol of ['toString', 'constructor', '__proto__']) {
      const [s] = readVenue('okx', [f], { symbol });
      expect(Array.from(s!.cols[4]!), symbol).toEqual([0.03, 0.03]);
    }
  });
});

describe('blank lines in an in-memory format', () => {
  it('cost nothing: a Binance file of 240 rows padded with millions of blank lines imports its rows (it made one string per line and ran out of memory)', async () => {
    const { splitCsv } = await import('../src/feed/formats/common.js');
    // the rows and their line numbers as before, whatever the line ends
    expect(splitCsv('\uFEFFa,b\r\n\r\n 1 ,"2"\r3,4\n\n')).toEqual([
      { cells: ['a', 'b'], line: 1 },
      { cells: ['1', '2'], line: 3 },
      { cells: ['3', '4'], line: 4 },
    ]);
    const t0 = Date.UTC(2025, 4, 22);
    const rows = Array.from({ length: 240 }, (_, i) => `${t0 + i * 3_600_000},100,101,99,100.5,10,${t0 + i * 3_600_000 + 3_599_999},1000,5,5,500,0`);
    const file = join(root, 'BTCUSDT-1h-2025-05.csv');
    writeFileSync(file, `${rows.join('\n')}\n${'\n'.repeat(20_000_000)}`);
    const out = join(root, 'blank-padded');
    // the real binary on a small heap: an array of 20 M lines is 160 MB of pointers alone
    const r = await startCli(['import', file, '--format', 'binance', '--out', out], root, { nodeArgs: ['--max-old-space-size=128'] }).done;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(readManifest(out).manifest.files).toMatchObject([{ path: 'BTCUSDT-candles-1h.arrow', rows: 240 }]);
  }, 60_000);
});

describe('a CSV of several symbols', () => {
  it('is refused naming the symbol column and both symbols (it gave only duplicate-time bad rows, and --skip-bad-rows kept whichever came first); one symbol in the column imports', async () => {
    const t0 = Date.UTC(2025, 4, 22);
    const rows = [0, 1, 2].flatMap((i) => [`${t0 + i * 3_600_000},BTCUSDT,100,101,99,100.5,10`, `${t0 + i * 3_600_000},ETHUSDT,2500,2510,2490,2505,100`]);
    const file = join(root, 'two-symbols.csv');
    writeFileSync(file, `timestamp,Symbol,open,high,low,close,volume\n${rows.join('\n')}\n`);
    const out = join(root, 'two-symbols');
    for (const extra of [[], ['--skip-bad-rows']]) {
      const r = await feedCli(['import', file, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, ...extra]);
      expect(r.code).toBe(65);
      expect(r.stderr).toBe(`marginlab: ${file}: line 3: column 'Symbol' names ETHUSDT where line 2 names BTCUSDT: the file holds rows of several symbols, and one file is one series (--symbol BTCUSDT); split it by that column and import each part with its own --symbol; nothing was written\n`);
      expect(existsSync(out)).toBe(false);
    }
    const one = join(root, 'one-symbol.csv');
    writeFileSync(one, `timestamp,symbol,open,high,low,close,volume\n${rows.filter((l) => l.includes('BTC')).join('\n')}\n`);
    const ok = await feedCli(['import', one, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readManifest(out).manifest.files).toMatchObject([{ path: 'BTCUSDT-candles-1h.arrow', rows: 3 }]);
  });
});
