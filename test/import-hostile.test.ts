/**
 * Hostile inputs to the importers (review of the data path): rows wider than their header in the
 * machine-written formats, times no market has in the csv format, inputs too large to read whole.
 * Each is one line (65) naming the file and what to do, and nothing is written.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedCli } from './fixtures/feed/cli.js';
import { grouped } from '../src/util/excerpt.js';

const root = mkdtempSync(join(tmpdir(), 'ml-import-hostile-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(root, `ds-${++n}`);
/** `name` in a folder of its own */
const put = (name: string, text: string | Buffer): string => {
  const d = join(root, `in-${++n}`);
  mkdirSync(d);
  writeFileSync(join(d, name), text);
  return join(d, name);
};
/** three real BTCUSDT 1h klines (Binance USDⓈ-M, 2025-06-01), as data.binance.vision publishes them */
const KLINES = [
  '1748736000000,104544.6,104599.6,104277.3,104408.7,3438.526,1748739599999,359308921.3,100,1700.1,177700000.1,0',
  '1748739600000,104408.7,104477.8,103917.9,104085.2,4516.505,1748743199999,470601234.5,100,2200.2,229300000.2,0',
  '1748743200000,104085.1,104289.7,103860.9,104143.9,2927.375,1748746799999,304802345.6,100,1400.3,145900000.3,0',
];
const KLINE_HEAD = 'open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore';

const CSV_HEAD = 'timestamp,open,high,low,close,volume';
/** `rows` (timestamp cells) as a csv-format candles file, imported as BTCUSDT into a fresh folder; `--timeframe 1h` unless `tf` is null */
const importCsvCandles = async (name: string, times: string[], tf: string | null = '1h') => {
  const out = outDir();
  const f = put(name, `${CSV_HEAD}\n${times.map((t) => `${t},1,2,0.5,1.5,3`).join('\n')}\n`);
  const r = await feedCli(['import', f, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', ...(tf ? ['--timeframe', tf] : []), '--out', out]);
  return { out, r };
};

describe('rows with more cells than the header, in the Binance, Bybit and OKX readers', () => {
  it('are refused (65) naming the line, not read shifted: a decimal comma made low 6 and volume a price, a silent liquidation', async () => {
    // '104599,6' (a decimal comma in a comma file) splits one cell into two: high 104599, low 6, close the low, volume the close
    const shifted = KLINES[1]!.replace('104477.8', '104477,8');
    for (const [text, line, where] of [
      [`${KLINE_HEAD}\n${KLINES[0]}\n${shifted}\n${KLINES[2]}\n`, 3, 'the header has 12'],
      [`${KLINES[0]}\n${shifted}\n${KLINES[2]}\n`, 2, "Binance's klines layout has 12"],
    ] as const) {
      const out = outDir();
      const r = await feedCli(['import', put('BTCUSDT-1h-2025-06.csv', text), '--out', out]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toContain(`BTCUSDT-1h-2025-06.csv line ${line}: 13 cells where ${where}`);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
    // a funding file: 3 cells a row
    const out = outDir();
    const f = await feedCli(['import', put('BTCUSDT-fundingRate-2025-06.csv', 'calc_time,funding_interval_hours,last_funding_rate\n1748736000001,8,-0.00000582\n1748764800002,8,0,00002335\n'), '--out', out]);
    expect(f.code, f.stderr).toBe(65);
    expect(f.stderr).toContain('BTCUSDT-fundingRate-2025-06.csv line 3: 4 cells where the header has 3');
    expect(existsSync(out)).toBe(false);
    // Bybit's CSV export
    const rows = KLINES.map((k) => k.split(',').slice(0, 6).join(',') + ',1');
    rows[1] = rows[1]!.replace('104477.8', '104477,8');
    const b = outDir();
    const rb = await feedCli(['import', put('BTCUSDT-kline.csv', `startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover\n${rows.join('\n')}\n`), '--format', 'bybit', '--out', b]);
    expect(rb.code, rb.stderr).toBe(65);
    expect(rb.stderr).toContain('BTCUSDT-kline.csv line 3: 8 cells where the header has 7');
    expect(existsSync(b)).toBe(false);
  });

  it('empty cells at the end of a row (a trailing comma) are no more cells: the rows import', async () => {
    const out = outDir();
    const r = await feedCli(['import', put('BTCUSDT-1h-2025-06.csv', `${KLINE_HEAD}\n${KLINES.map((k) => `${k},`).join('\n')}\n`), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('a last row cut short (a file that ends mid-line: a download or copy that stopped), in every CSV reader', () => {
  // the cut falls inside a value that is read: '84.08' of 84.082 (volume), and every check passes: it was imported in silence
  const cutKlines = `${KLINE_HEAD}\n${KLINES[0]}\n${KLINES[1]}\n${KLINES[2]!.slice(0, KLINES[2]!.indexOf(',1748746799999') - 2)}`;

  it('Binance klines (with a header, or in the published layout) are refused (65) naming the line, nothing written', async () => {
    for (const [text, where] of [
      [cutKlines, 'the header has 12'],
      [cutKlines.slice(KLINE_HEAD.length + 1), 'its other rows have 12'],
    ] as const) {
      const out = outDir();
      const r = await feedCli(['import', put('BTCUSDT-1h-2025-06.csv', text), '--out', out]);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toContain(`BTCUSDT-1h-2025-06.csv line ${where.startsWith('the header') ? 4 : 3}: 6 cells where ${where}: the row is cut short`);
      expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    }
    // a row that ends after the columns read (cut in close_time, or an older dump without the `ignore` cell) imports,
    // and so does a file whose every row was cut down to the six cells read (`cut -d, -f1-6`)
    for (const text of [`${KLINES.join('\n').slice(0, -40)}\n`, `${KLINES.map((k) => k.split(',').slice(0, 6).join(',')).join('\n')}\n`]) {
      const out = outDir();
      const r = await feedCli(['import', put('BTCUSDT-1h-2025-06.csv', text), '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it("Bybit's CSV export and the csv format refuse it too (the csv format: a bad row naming the value that may be cut)", async () => {
    const rows = KLINES.map((k) => k.split(',').slice(0, 6).join(',') + ',1000.5');
    const b = outDir();
    const rb = await feedCli(['import', put('BTCUSDT-kline.csv', `startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover\n${rows.join('\n').slice(0, -9)}`), '--format', 'bybit', '--symbol', 'BTCUSDT', '--out', b]);
    expect(rb.code, rb.stderr).toBe(65);
    expect(rb.stderr).toContain('BTCUSDT-kline.csv line 4: 6 cells where the header has 7: the row is cut short');
    expect(existsSync(b)).toBe(false);
    const c = outDir();
    const f = put('btc.csv', `${CSV_HEAD},quote_volume\n${KLINES.map((k) => k.split(',').slice(0, 6).join(',') + ',1000.5').join('\n').slice(0, -9)}`);
    const rc = await feedCli(['import', f, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', c]);
    expect(rc.code, rc.stderr).toBe(65);
    expect(rc.stderr).toContain("btc.csv line 4: 6 cells where the header has 7, ending in the volume '2927.3': the row is cut short");
    expect(existsSync(c)).toBe(false);
  });
});

describe('monthly candles (rows a calendar month apart) in every importer that reads a timeframe from the rows', () => {
  const month = (y: number, m: number) => Date.UTC(y, m - 1, 1);
  const MONTHLY_TEXT = 'its rows are a calendar month apart: monthly candles are not supported (no fixed timeframe; docs/data.md, "Choices and what is left out"); import daily or finer candles of the same months';

  it('a CCXT fetch_ohlcv JSON of a year of months says so (it said "29d after the row before; expected a multiple of the 31d timeframe")', async () => {
    const rows = Array.from({ length: 12 }, (_, i) => [month(2024, i + 1), 100, 110, 90, 105, 1]);
    const out = outDir();
    const r = await feedCli(['import', put('btc_1M.json', JSON.stringify(rows)), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', out]);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toContain(`btc_1M.json: ${MONTHLY_TEXT}`);
    expect(existsSync(out)).toBe(false);
  });

  it('July to September (two 31-day steps) is refused too, in JSON, Bybit and the csv format, not imported as "31d" candles', async () => {
    const rows = [7, 8, 9].map((m) => [month(2024, m), 100, 110, 90, 105, 1]);
    const json = outDir();
    const j = await feedCli(['import', put('btc_1M.json', JSON.stringify(rows)), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', json]);
    expect(j.code, j.stderr).toBe(65);
    expect(j.stderr).toContain(`btc_1M.json: ${MONTHLY_TEXT}`);
    expect(existsSync(json)).toBe(false);
    const bybit = outDir();
    const b = await feedCli(['import', put('BTCUSDT-kline.csv', `startTime,openPrice,highPrice,lowPrice,closePrice,volume,turnover\n${rows.map((r) => `${r.join(',')},1`).join('\n')}\n`), '--format', 'bybit', '--out', bybit]);
    expect(b.code, b.stderr).toBe(65);
    expect(b.stderr).toContain(`BTCUSDT-kline.csv: ${MONTHLY_TEXT}`);
    expect(existsSync(bybit)).toBe(false);
    const c = await importCsvCandles('btc-1M.csv', rows.map((r) => String(r[0])), null);
    expect(c.r.code, c.r.stderr).toBe(65);
    expect(c.r.stderr).toContain(`btc-1M.csv: ${MONTHLY_TEXT}`);
    expect(existsSync(c.out)).toBe(false);
    // 30-day candles off the 1st of the month (pandas' resample('30D')) are a timeframe, and import as 30d
    const d = await importCsvCandles('btc-30d.csv', [0, 1, 2, 3].map((i) => String(Date.UTC(2024, 0, 6) + i * 30 * 86_400_000)), null);
    expect(d.r.code, d.r.stderr).toBe(0);
    expect(d.r.stderr).toContain('timeframe 30d');
  });
});

describe("index and premium-index klines in a mirror of data.binance.vision's folders", () => {
  /** data/futures/um/monthly/{klines,premiumIndexKlines}/BTCUSDT/1h/BTCUSDT-1h-2025-06.csv: the same file names */
  const mirror = () => {
    const d = join(root, `mirror-${++n}`);
    for (const [folder, rows] of [['klines', KLINES], ['premiumIndexKlines', KLINES.map((k) => k.replace(/^(\d+),[^,]+,[^,]+,[^,]+,[^,]+,/, '$1,0.0001,0.0002,-0.0001,0.0001,'))]] as const) {
      mkdirSync(join(d, 'um', 'monthly', folder, 'BTCUSDT', '1h'), { recursive: true });
      writeFileSync(join(d, 'um', 'monthly', folder, 'BTCUSDT', '1h', 'BTCUSDT-1h-2025-06.csv'), `${rows.join('\n')}\n`);
    }
    return d;
  };

  it('are left out of a folder with a warning (the whole import was refused, 65), and refused (65) when named', async () => {
    const d = mirror();
    const out = outDir();
    const r = await feedCli(['import', join(d, 'um'), '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('candles BTCUSDT 1h: 3 new rows');
    expect(r.stderr).toContain('marginlab: warning: left out 1 index or premium-index klines file of the input folder (BTCUSDT-1h-2025-06.csv): index and premium-index klines are not market data marginlab uses (it reads klines, markPriceKlines and fundingRate)');
    // only them: nothing to import, said; named: refused
    for (const p of [join(d, 'um', 'monthly', 'premiumIndexKlines'), join(d, 'um', 'monthly', 'premiumIndexKlines', 'BTCUSDT', '1h', 'BTCUSDT-1h-2025-06.csv')]) {
      const o = outDir();
      const x = await feedCli(['import', p, '--out', o]);
      expect(x.code, x.stderr).toBe(65);
      expect(x.stderr).toContain('index and premium-index klines are not market data marginlab uses');
      expect(x.stderr).toContain('nothing was imported');
      expect(existsSync(o)).toBe(false);
    }
  });
});

describe("data.binance.vision's COIN-M and delivery contracts", () => {
  it('are refused (65) saying which contract it is (it said "not a Binance public-data file name", as if the file were renamed)', async () => {
    const text = `${KLINES.join('\n')}\n`;
    for (const [name, says] of [
      ['BTCUSD_PERP-1h-2025-06.csv', "a COIN-M perpetual's (BTCUSD_PERP, data/futures/cm: an inverse contract, margined in BTC, its volume counted in contracts) file: marginlab backtests USDⓈ-M perpetuals"],
      ['BTCUSDT_250627-1h-2025-06.csv', "a delivery contract's (BTCUSDT_250627: it expires, and settles no funding) file: marginlab backtests USDⓈ-M perpetuals"],
    ] as const) {
      const f = put(name, text);
      for (const args of [[f], [join(f, '..')], [join(f, '..'), '--format', 'binance']]) {
        const out = outDir();
        const r = await feedCli(['import', ...args, '--out', out]);
        expect(r.code, r.stderr).toBe(65);
        expect(r.stderr).toContain(`${name}: ${says}`);
        expect(existsSync(out)).toBe(false);
      }
    }
  });
});

describe('a time in the year 3000 or later in the csv format', () => {
  it('is a bad row naming the line (as every other importer and the loader refuse it), not a dataset no load accepts', async () => {
    const { out, r } = await importCsvCandles('p.csv', ['1747872000000', '1747875600000', '32503680000000']);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toContain('p.csv line 4: time 32503680000000 is in the year 3000');
    expect(existsSync(out)).toBe(false);
    // an ISO time too, and without --timeframe (the first pass reads the spacing)
    const { out: out2, r: q } = await importCsvCandles('q.csv', ['2025-05-22T00:00:00Z', '2025-05-22T01:00:00Z', '3000-01-01T00:00:00Z'], null);
    expect(q.code, q.stderr).toBe(65);
    expect(q.stderr).toContain('q.csv line 4: time 3000-01-01T00:00:00Z is in the year 3000');
    expect(existsSync(out2)).toBe(false);
  });
});

describe('an input too large to read whole', () => {
  /** a sparse file of `bytes` (no disk used) */
  const sparse = (name: string, bytes: number): string => {
    const p = put(name, '');
    const fd = openSync(p, 'r+');
    try { ftruncateSync(fd, bytes); } finally { closeSync(fd); }
    return p;
  };
  it('is one line (65) naming the file and what to do, for every importer that reads a file whole, not "internal error … please report it" (70)', async () => {
    const big = 2 ** 31 + 4096;
    for (const [name, extra] of [
      ['BTCUSDT-1h-2025-06.csv', []],
      ['BTCUSDT-1h-2025-06.zip', []],
      ['BTC_USDT_USDT-1h-futures.feather', []],
      ['BTC_USDT_USDT-1h-futures.json', []],
      ['BTCUSDT-kline.json', ['--format', 'bybit', '--symbol', 'BTCUSDT']],
      ['p.parquet', ['--kind', 'candles', '--symbol', 'BTCUSDT']],
    ] as const) {
      const f = sparse(name, big);
      if (name.endsWith('.parquet')) {
        // a file with the PAR1 marks, so that it is read
        const fd = openSync(f, 'r+');
        try { writeFileSync(fd, 'PAR1'); } finally { closeSync(fd); }
        const fd2 = openSync(f, 'r+');
        try { const { writeSync } = await import('node:fs'); writeSync(fd2, 'PAR1', big - 4); } finally { closeSync(fd2); }
      }
      const out = outDir();
      const r = await feedCli(['import', f, ...extra, '--out', out]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(65);
      expect(r.stderr, name).toContain(`${f}: the file is 2,147,487,744 bytes, more than the 2 GiB marginlab reads whole from one input file; split it`);
      expect(r.stderr.split('\n').filter(Boolean), name).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
      rmSync(f);
    }
  }, 120_000);

  it('a text input larger than the longest string is the same line, not "Cannot create a string longer than …" (70)', async () => {
    const { constants } = await import('node:buffer');
    for (const [name, extra] of [
      ['BTCUSDT-1h-2025-06.csv', []],
      ['BTCUSDT-kline.csv', ['--format', 'bybit', '--symbol', 'BTCUSDT']],
      ['BTC_USDT_USDT-1h-futures.json', []],
    ] as const) {
      const f = sparse(name, constants.MAX_STRING_LENGTH + 1024);
      const out = outDir();
      const r = await feedCli(['import', f, ...extra, '--out', out]);
      expect(r.code, `${name}: ${r.stderr}`).toBe(65);
      expect(r.stderr, name).toContain(`${f}: the file is ${grouped(constants.MAX_STRING_LENGTH + 1024)} bytes, more than the 512 MiB marginlab reads whole from one text file; split it`);
      expect(existsSync(out)).toBe(false);
      rmSync(f);
    }
  }, 120_000);
});

describe('an ISO time before 1970 in the csv format', () => {
  it('is a bad row naming the line, not a dataset whose load says "a negative epoch"', async () => {
    const { out, r } = await importCsvCandles('p.csv', ['1969-12-31T23:00:00Z', '1970-01-01T00:00:00Z']);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toContain('p.csv line 2: time 1969-12-31T23:00:00Z is before 1970-01-01');
    expect(existsSync(out)).toBe(false);
  });
});

describe('a CSV input without line breaks (a binary or sparse file given as CSV)', () => {
  it('is refused at its first MiB (65, one line naming the file), not parsed into one growing cell (a 2 GiB file ran for over half an hour)', async () => {
    const f = put('p.csv', Buffer.alloc(3 << 20));
    const out = outDir();
    const t0 = Date.now();
    const r = await feedCli(['import', f, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(r.code, r.stderr).toBe(65);
    expect(r.stderr).toBe(`marginlab: ${f}: line 1 is longer than 1 MiB, which no CSV of market data has (a binary file, or one without line breaks?); check the file, or export it again as CSV; nothing was imported\n`);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(existsSync(out)).toBe(false);
  }, 60_000);
});

describe('freqtrade JSON with a byte-order mark', () => {
  it('is read as without it (it was refused: "Unexpected token \'\uFEFF\'"), as the Bybit/OKX readers read theirs', async () => {
    const rows = [[1748736000000, 104000.1, 104500, 103900, 104200.5, 12.5], [1748739600000, 104200.5, 104700, 104100, 104600, 8.25], [1748743200000, 104600, 104800, 104300, 104400, 9]];
    const plain = put('BTC_USDT_USDT-1h-futures.json', JSON.stringify(rows));
    const bom = put('BTC_USDT_USDT-1h-futures.json', `\uFEFF${JSON.stringify(rows)}`);
    const a = outDir();
    const b = outDir();
    const ra = await feedCli(['import', plain, '--out', a]);
    const rb = await feedCli(['import', bom, '--out', b]);
    expect(ra.code, ra.stderr).toBe(0);
    expect(rb.code, rb.stderr).toBe(0);
    const files = async (d: string) =>
      (JSON.parse((await feedCli(['data', 'inspect', d, '--json'])).stdout) as { files: { path: string; rows: number; first?: unknown; last?: unknown }[] }).files.map((f) => ({ ...f, path: f.path.replace(d, '') }));
    const fa = await files(a);
    expect(fa[0]!.rows).toBe(3);
    expect(await files(b)).toEqual(fa);
  }, 60_000);
});

describe('times before any crypto market (epoch numbers below 1e11 are read as seconds)', () => {
  it('Excel serial dates in a CSV import as 1970 with a warning naming the series, what was read and what to do', async () => {
    // 45717 … : Excel's day numbers for 2025-03-01 …, read as seconds (1970-01-01T12:41:57Z); the import said nothing
    const { out, r } = await importCsvCandles('excel.csv', ['45717', '45718', '45719', '45720'], '1s');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'marginlab: warning: candles BTCUSDT 1s: its times start at 1970-01-01T12:41:57.000Z, before any crypto market (2009): epoch numbers below 1e11 are read as seconds, so an Excel serial date or a row number is not a time; export ISO-8601 times or epoch ms and import again with --replace',
    );
    expect(existsSync(out)).toBe(true);
    // a 2025 series says nothing of it
    const ok = await importCsvCandles('ok.csv', ['2025-03-01T00:00:00Z', '2025-03-01T01:00:00Z']);
    expect(ok.r.code, ok.r.stderr).toBe(0);
    expect(ok.r.stderr).not.toContain('before any crypto market');
  });
});
