/**
 * Inputs with no data rows (an empty file, a header only, `[]`, an empty archive member, an API
 * answer with an empty list): every importer refuses them (65, one line naming the file and what to
 * do), appending and --replace alike, and the dataset is left byte for byte as it was; a dataset
 * that already holds a series file with no rows is refused by `data inspect` as by `data validate`.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateRawSync, gzipSync } from 'node:zlib';
import { writeZip } from '../src/feed/formats/zip.js';
import { commitSeries } from '../src/feed/ingest.js';
import { KindFileWriter } from '../src/feed/arrow-io.js';
import { readManifest, writeManifest } from '../src/feed/manifest.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';

const FX = resolve(__dirname, 'fixtures', 'import');
const root = mkdtempSync(join(tmpdir(), 'ml-empty-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
/** a fresh folder for input files */
const inDir = () => {
  const d = join(root, `in-${++n}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** A good dataset: BTCUSDT 1h candles of June 2025 (Binance archive); validate passes. */
async function goodDataset(): Promise<string> {
  const out = join(root, `ds-${++n}`);
  const r = await feedCli(['import', join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), '--out', out]);
  expect(r.code).toBe(0);
  return out;
}

/** every file of a folder with its bytes */
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

/** `import args` into `out` is refused with 65 naming `named`, and the dataset still validates unchanged */
async function refused(out: string, args: string[], named: string): Promise<void> {
  const before = snapshot(out);
  const r = await feedCli(['import', ...args, '--out', out]);
  expect(r.code, r.stdout + r.stderr).toBe(65);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toContain(named);
  expect(lines[0]).toMatch(/no data rows|no confirmed candles/);
  expect(lines[0]).toMatch(/nothing was imported/);
  expect(snapshot(out)).toEqual(before);
  const v = await feedCli(['data', 'validate', out]);
  expect(v.code, v.stderr).toBe(0);
  const i = await feedCli(['data', 'inspect', out]);
  expect(i.code, i.stdout).toBe(0);
}

describe('an input with no rows is refused by every importer; the dataset is unchanged', () => {
  it('Binance: an empty XRPUSDT-1h-2025-05.csv (a new symbol), an empty and a header-only BTCUSDT file, appended or --replace', async () => {
    const out = await goodDataset();
    const d = inDir();
    const xrp = join(d, 'XRPUSDT-1h-2025-05.csv');
    writeFileSync(xrp, '');
    await refused(out, [xrp], xrp);
    const btc = join(d, 'BTCUSDT-1h-2025-05.csv');
    writeFileSync(btc, 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore\n');
    await refused(out, [btc], btc);
    await refused(out, [btc, '--replace'], btc);
    // one empty file among good ones: refused too (a cut download), nothing of the good ones is written
    await refused(out, [join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-07-01.zip'), btc], btc);
  });

  it('Binance: an archive with an empty .csv member, and an empty funding archive', async () => {
    const out = await goodDataset();
    const d = inDir();
    const zip = join(d, 'BTCUSDT-1h-2025-05.zip');
    writeFileSync(zip, writeZip([{ name: 'BTCUSDT-1h-2025-05.csv', data: Buffer.alloc(0) }], (b) => deflateRawSync(b)));
    await refused(out, [zip], `${zip} (archive member BTCUSDT-1h-2025-05.csv)`);
    await refused(out, [zip, '--replace'], `${zip} (archive member BTCUSDT-1h-2025-05.csv)`);
    const funding = join(d, 'BTCUSDT-fundingRate-2025-06.zip');
    writeFileSync(funding, writeZip([{ name: 'BTCUSDT-fundingRate-2025-06.csv', data: Buffer.from('calc_time,funding_interval_hours,last_funding_rate\n') }], (b) => deflateRawSync(b)));
    await refused(out, [funding], funding);
  });

  it('freqtrade: a [] JSON and an empty json.gz, appended or --replace', async () => {
    const out = await goodDataset();
    const d = inDir();
    const json = join(d, 'XRP_USDT_USDT-1h-futures.json');
    writeFileSync(json, '[]');
    await refused(out, [json], json);
    await refused(out, [json, '--replace'], json);
    const d2 = inDir();
    const gz = join(d2, 'BTC_USDT_USDT-1h-futures.json.gz');
    writeFileSync(gz, gzipSync(Buffer.from('[]\n')));
    await refused(out, [gz, '--replace'], gz);
  });

  it('Bybit and OKX: an answer with an empty list, a header-only CSV, only unconfirmed candles', async () => {
    const out = await goodDataset();
    const d = inDir();
    const bybit = join(d, 'ETHUSDT-kline-60.json');
    writeFileSync(bybit, JSON.stringify({ retCode: 0, retMsg: 'OK', result: { category: 'linear', symbol: 'ETHUSDT', list: [] } }));
    await refused(out, [bybit, '--timeframe', '1h'], bybit);
    const bybitCsv = join(d, 'ETHUSDT-funding.csv');
    writeFileSync(bybitCsv, 'symbol,fundingRate,fundingRateTimestamp\n');
    await refused(out, [bybitCsv, '--format', 'bybit'], bybitCsv);
    const okx = join(d, 'ETH-USDT-SWAP-1H.json');
    writeFileSync(okx, JSON.stringify({ code: '0', msg: '', data: [] }));
    await refused(out, [okx, '--timeframe', '1h'], okx);
    writeFileSync(okx, JSON.stringify({ code: '0', msg: '', data: [['1748991600000', '2603.42', '2603.9', '2585.07', '2592.16', '1075846.18', '107584.618', '278876543.39', '0']] }));
    await refused(out, [okx, '--timeframe', '1h'], okx);
  });

  it('CSV: an empty and a header-only file, appended to an existing series', async () => {
    const out = await goodDataset();
    const d = inDir();
    const f = join(d, 'btc.csv');
    writeFileSync(f, 'timestamp,open,high,low,close,volume\n');
    const args = (extra: string[] = []) => ['csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', ...extra];
    await refused(out, args(), f);
    await refused(out, args(['--replace']), f);
    writeFileSync(f, '');
    await refused(out, args(), f);
  });

  it('commitSeries refuses a series with no rows (any caller) and writes nothing', async () => {
    const out = await goodDataset();
    const before = snapshot(out);
    const e = (() => {
      try { commitSeries(out, [{ symbol: 'XRPUSDT', kind: 'candles', timeframe: '1h', time: new Float64Array(0), cols: Array.from({ length: 5 }, () => new Float64Array(0)), where: (i) => `row ${i + 1}` }], { replace: true }); } catch (err) { return err; }
      throw new Error('expected a UserError');
    })();
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).exitCode).toBe(65);
    expect((e as UserError).message).toBe('candles XRPUSDT 1h: no data rows to import; nothing was written');
    expect(snapshot(out)).toEqual(before);
  });

  it('Bybit and OKX: a folder with no export files is refused (65), creates no dataset and leaves one unchanged; commitSeries refuses no series', async () => {
    const d = inDir();
    const fresh = join(root, `ds-${++n}`);
    for (const format of ['bybit', 'okx']) {
      const r = await feedCli(['import', d, '--format', format, '--out', fresh]);
      expect(r.code, r.stdout + r.stderr).toBe(65);
      expect(r.stderr.trimEnd()).toBe(`marginlab: no ${format === 'bybit' ? 'Bybit' : 'OKX'} export files (.csv or .json) in ${d}; nothing was imported`);
      expect(readdirSync(root)).not.toContain(`ds-${n}`);
    }
    const out = await goodDataset();
    const before = snapshot(out);
    const r = await feedCli(['import', d, '--format', 'okx', '--out', out]);
    expect(r.code).toBe(65);
    expect(snapshot(out)).toEqual(before);
    expect(() => commitSeries(out, [])).toThrow(/no series to import .*; nothing was written/);
    expect(snapshot(out)).toEqual(before);
  });
});

describe('a dataset that holds a series file with no rows', () => {
  it('data inspect refuses it (65) as data validate does, naming the file and what to do', async () => {
    const good = await goodDataset();
    const out = join(root, `broken-${++n}`);
    cpSync(good, out, { recursive: true });
    // what an empty import used to leave behind: a series file with no rows, listed in the manifest
    const w = new KindFileWriter(join(out, 'XRPUSDT-candles-1h.arrow'), 'candles');
    const sha256 = w.close();
    const { manifest } = readManifest(out);
    writeManifest(out, { ...manifest, symbols: [...manifest.symbols, 'XRPUSDT'], files: [...manifest.files, { path: 'XRPUSDT-candles-1h.arrow', symbol: 'XRPUSDT', kind: 'candles', timeframe: '1h', rows: 0, first: null, last: null, sha256 }] });
    const v = await feedCli(['data', 'validate', out]);
    expect(v.code).toBe(65);
    expect(v.stderr).toContain('XRPUSDT-candles-1h.arrow: has no rows');
    const i = await feedCli(['data', 'inspect', out]);
    expect(i.code).toBe(65);
    expect(i.stdout).not.toContain('validation: ok');
    expect(i.stdout).toContain('1 validation problem:');
    expect(i.stdout).toContain('XRPUSDT-candles-1h.arrow: has no rows (no backtest can load it): re-import the series from a file with rows (import --replace), or remove its entry from manifest.json');
    // the way out the message names: --replace with rows
    const fix = await feedCli(['import', join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), '--symbol', 'XRPUSDT', '--replace', '--out', out]);
    expect(fix.code, fix.stderr).toBe(0);
    expect((await feedCli(['data', 'validate', out])).code).toBe(0);
  });
});

describe('an input folder is never the output, inside it or inside the output', () => {
  it('import of a folder of dumps into itself or a folder within it is refused (64) and writes nothing there', async () => {
    const raw = inDir();
    cpSync(join(FX, 'binance', 'klines', 'BTCUSDT-1h-2025-06.zip'), join(raw, 'BTCUSDT-1h-2025-06.zip'));
    const before = snapshot(raw);
    for (const [out, re] of [
      [raw, /is the input folder/],
      [join(raw, 'reports', 'out'), /is inside the input folder/],
    ] as const) {
      const r = await feedCli(['import', raw, '--out', out]);
      expect(r.code, r.stderr).toBe(64);
      expect(r.stderr).toMatch(re);
      expect(r.stderr).not.toMatch(/--force/);
      expect(snapshot(raw)).toEqual(before);
    }
    // an output holding the input folder is refused too
    const r = await feedCli(['import', raw, '--out', root]);
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/contains the input folder/);
  });
});
