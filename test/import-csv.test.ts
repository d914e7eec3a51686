/** CSV import: formats accepted, bad rows, missing columns, empty file, round-trip exactness. */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCsv, parseTime } from '../src/feed/csv.js';
import { loadDataset } from '../src/feed/load.js';
import { readKindFile } from '../src/feed/arrow-io.js';
import { ProblemList } from '../src/feed/validate.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const BIN = CLI_BIN;
const root = mkdtempSync(join(tmpdir(), 'ml-import-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const file = (text: string | Buffer): string => {
  const p = join(root, `in-${++n}.csv`);
  writeFileSync(p, text);
  return p;
};
const outDir = () => join(root, `ds-${++n}`);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function userError(p: Promise<unknown>): Promise<UserError> {
  try { await p; } catch (e) { if (e instanceof UserError) return e; throw e; }
  throw new Error('expected a UserError');
}

describe('parseTime', () => {
  it('reads ISO strings (UTC unless zoned), seconds, ms, us and ns', () => {
    expect(parseTime('2025-05-22T00:00:00Z')).toBe(1747872000000);
    expect(parseTime('2025-05-22 00:00:00')).toBe(1747872000000);
    expect(parseTime('2025-05-22')).toBe(1747872000000);
    expect(parseTime('2025-05-22T02:00:00+02:00')).toBe(1747872000000);
    expect(parseTime('2025-05-22T00:00:00.001Z')).toBe(1747872000001);
    // an offset of hours alone (PostgreSQL's timestamptz, ISO-8601's ±hh), with or without minutes' colon, and BigQuery's ' UTC'
    expect(parseTime('2025-05-22 00:00:00+00')).toBe(1747872000000);
    expect(parseTime('2025-05-22 02:00:00+02')).toBe(1747872000000);
    expect(parseTime('2025-05-21 19:00:00-05')).toBe(1747872000000);
    expect(parseTime('2025-05-21T18:30-0530')).toBe(1747872000000);
    expect(parseTime('2025-05-22 00:00:00.001+00')).toBe(1747872000001);
    expect(parseTime('2025-05-22 00:00:00 UTC')).toBe(1747872000000);
    expect(parseTime('2025-05-22T00:00:00utc')).toBe(1747872000000);
    expect(parseTime('2025-05-22 00:00:00+25')).toMatch(/not a valid date-time/);
    expect(parseTime('2025-05-22 00:00:00+0')).toMatch(/neither an epoch number nor an ISO-8601/);
    // a day the month does not have is a bad row, not the next month's day (Date.parse rolls it over)
    expect(parseTime('2025-02-30 00:00:00')).toMatch(/no such day/);
    expect(parseTime('2025-02-29')).toMatch(/no such day/);
    expect(parseTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime('1747872000')).toBe(1747872000000);
    expect(parseTime('1747872000.5')).toBe(1747872000500);
    expect(parseTime('1747872000001')).toBe(1747872000001);
    expect(parseTime('1747872000001000')).toBe(1747872000001);
    expect(parseTime('1747872000001000000')).toBe(1747872000001);
    expect(parseTime('yesterday')).toMatch(/neither an epoch number nor an ISO-8601/);
    expect(parseTime('')).toBe('empty time');
  });
});

describe('import csv', () => {
  it('accepts BOM, CRLF, header aliases in any case, and mixed time formats; round trip is exact', async () => {
    const rows = [
      ['2025-05-22T00:00:00Z', '109609.6', '110146.4', '109153.4', '109925.4', '16028.352'],
      ['1747875600', '109925.3', '110549.9', '109640.3', '109892.5', '12972.009'],
      ['1747879200000', '0.1', '0.30000000000000004', '0.1', '0.2', '1e-7'],
      ['2025-05-22 03:00:00', '1.1997200000000001', '1.2', '1.19', '1.19972', '0'],
    ];
    const text = `\uFEFFOpen_Time,OPEN,High,low,Close,Vol\r\n${rows.map((r) => r.join(',')).join('\r\n')}\r\n`;
    const out = outDir();
    const r = await importCsv({ file: file(text), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    expect(r.rows).toBe(4);
    const md = await loadDataset(out);
    expect(Array.from(md.time)).toEqual([1747872000000, 1747875600000, 1747879200000, 1747882800000]);
    const c = md.columns[0]!;
    const cols = [c.open, c.high, c.low, c.close, c.volume];
    rows.forEach((row, i) => cols.forEach((col, k) => expect(Object.is(col[i], Number(row[k + 1]))).toBe(true)));
  });

  it("takes pandas' unnamed index (df.to_csv(): an empty first header cell) as the time when no column is named like one", async () => {
    const body = '2025-05-22 00:00:00+00:00,1,2,0.5,1.5,3\n2025-05-22 01:00:00+00:00,1.5,2,1,1.2,3\n';
    for (const head of [',open,high,low,close,volume', '"",Open,High,Low,Close,Volume']) {
      const out = outDir();
      const r = await importCsv({ file: file(`${head}\n${body}`), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
      expect(r.rows).toBe(2);
      expect(Array.from((await loadDataset(out)).time)).toEqual([1747872000000, 1747875600000]);
    }
    // a named time column wins over the unnamed index (a RangeIndex beside a 'date' column)
    const out = outDir();
    await importCsv({ file: file(',date,open,high,low,close,volume\n0,2025-05-22,1,2,0.5,1.5,3\n1,2025-05-22 01:00,1.5,2,1,1.2,3\n'), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out });
    expect(Array.from((await loadDataset(out)).time)).toEqual([1747872000000, 1747875600000]);
  });

  it("a title line above the header (CryptoDataDownload's URL) is left out and said; the header below it is read as usual", async () => {
    const text = 'https://www.CryptoDataDownload.com\nUnix,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USDT,tradecount\n1735693200000,2025-01-01 01:00:00,BTCUSDT,1.5,2,1,1.2,11,13,4\n1735689600000,2025-01-01 00:00:00,BTCUSDT,1,2,0.5,1.5,10,15,3\n';
    const out = outDir();
    const r = await importCsv({ file: file(text), kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', columns: 'timestamp=Unix,open=Open,high=High,low=Low,close=Close,volume=Volume BTC', out });
    expect(r.banner).toBe('https://www.CryptoDataDownload.com');
    const md = await loadDataset(out);
    expect(Array.from(md.time)).toEqual([1735689600000, 1735693200000]);
    expect(Array.from(md.columns[0]!.volume)).toEqual([10, 11]);
    const c = await cli(['import', 'csv', file(text), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--columns', 'timestamp=Date,open=Open,high=High,low=Low,close=Close,volume=Volume BTC', '--out', outDir()]);
    expect(c.code).toBe(0);
    expect(c.stderr).toBe('marginlab: line 1 is a title, not the header: left out (https://www.CryptoDataDownload.com)\n');
    // a one-word first line is no title: the header's problem is said as before
    expect((await userError(importCsv({ file: file('prices\n1735689600000,1,2,0.5,1.5,10\n'), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }))).message).toContain('missing columns');
  });

  it('rows out of time order (two monthly files concatenated in the wrong order) are data to sort, not only bad rows to leave out: the error says so', async () => {
    const feb = '1738368000000,2,3,1,2,5\n1738371600000,2,3,1,2,5\n1738375200000,2,3,1,2,5\n';
    const jan = '1735689600000,1,2,0.5,1.5,3\n1735693200000,1,2,0.5,1.5,3\n';
    const e = await userError(importCsv({ file: file(`timestamp,open,high,low,close,volume\n${feb}${jan}`), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(e.exitCode).toBe(65);
    expect(e.message).toMatch(/: 2 bad rows; nothing was written \(2 of them out of time order: sort the rows by time \(the header line first\), or import the file's parts in time order \(each appends\); --skip-bad-rows leaves them out\)$/);
    // other bad rows alone keep the short hint
    const e2 = await userError(importCsv({ file: file(`timestamp,open,high,low,close,volume\n${jan}1735696800000,x,2,0.5,1.5,3\n`), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(e2.message).toMatch(/: 1 bad row; nothing was written \(--skip-bad-rows leaves them out\)$/);
  });

  it('a header naming one column twice is refused (65, nothing written); two aliases of one column read the first alias and say so', async () => {
    const rows = '1735689600000,1,2,0.5,1.5,3,6\n1735693200000,1.5,2,1,1.8,4,7\n';
    const out = outDir();
    const e = await userError(importCsv({ file: file(`timestamp,open,high,low,close,volume,open\n${rows}`), kind: 'candles', symbol: 'X', timeframe: '1h', out }));
    expect(e.exitCode).toBe(65);
    expect(e.message).toMatch(/: line 1: 'open' \(column 2\) and 'open' \(column 7\) both name the open, so which one is meant is unknown: rename one, or give --columns \(name=#N picks a column by position\)$/);
    expect(existsSync(out)).toBe(false);
    // ccxt's exports: a datetime beside the timestamp, read by the first alias wherever it stands
    const iso = 'datetime,timestamp,open,high,low,close,volume\n2025-01-01T00:00:00Z,1735689600000,1,2,0.5,1.5,3\n2025-01-01T01:00:00Z,1735693200000,1.5,2,1,1.8,4\n';
    const r = await importCsv({ file: file(iso), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() });
    expect(r.alsoNamed).toEqual(["'datetime' (column 1) also names the timestamp: 'timestamp' (column 2) is read"]);
    expect(Array.from(readKindFile(r.path, 'c', 'candles', new ProblemList())!.timestamp)).toEqual([1735689600000, 1735693200000]);
    const c = await cli(['import', 'csv', file(iso), '--kind', 'candles', '--symbol', 'X', '--timeframe', '1h', '--out', outDir()]);
    expect(c.code).toBe(0);
    expect(c.stderr).toContain("marginlab: 'datetime' (column 1) also names the timestamp: 'timestamp' (column 2) is read (give --columns to read another)\n");
    // the most specific name wins, wherever it stands: a Binance kline export with a pandas 'date' of the day added
    // (read from 'date', its repeated days were duplicate times: 65)
    const kl = 'open_time,open,high,low,close,volume,date\n1735689600000,1,2,0.5,1.5,3,2025-01-01\n1735693200000,1.5,2,1,1.8,4,2025-01-01\n1735696800000,1.8,2,1,1.9,4,2025-01-01\n';
    const k = await importCsv({ file: file(kl), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() });
    expect(k.rows).toBe(3);
    expect(k.alsoNamed).toEqual(["'date' (column 7) also names the timestamp: 'open_time' (column 1) is read"]);
    // when the rows fail, the error says which cell the time was read from
    const bad = await userError(importCsv({ file: file('time,open,high,low,close,volume,ts\n2025-01-01T00:00:00Z,1,2,0.5,1.5,3,x\n2025-01-01T01:00:00Z,1.5,2,1,1.8,4,y\n'), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(bad.message).toMatch(/: 2 bad rows; nothing was written \(--skip-bad-rows leaves them out\); 'time' \(column 1\) also names the timestamp: 'ts' \(column 7\) is read \(--columns reads another\)$/);
    // one name each: nothing said
    expect((await importCsv({ file: file(`timestamp,open,high,low,close,volume\n${rows.replace(/,6\n|,7\n/g, '\n')}`), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() })).alsoNamed).toBeUndefined();
  });

  it("a time column naming its zone ('Time(UTC)', 'Time(UTC+8)', 'Date (UTC-5)') is found, and its times without a zone are read in that zone; epoch and zoned times stay as they are", async () => {
    const T = 1747872000000; // 2025-05-22T00:00Z
    const cases: [string, string[], number][] = [
      ['Time(UTC)', ['2025-05-22 00:00:00', '2025-05-22 08:00:00'], 0],
      ['Time(UTC+8)', ['2025-05-22 08:00:00', '2025-05-22 16:00:00'], 8],
      ['Date (UTC-5)', ['2025-05-21 19:00:00', '2025-05-22 03:00:00'], -5],
      ['timestamp_utc', ['2025-05-22T00:00:00', '2025-05-22T08:00:00'], 0],
      // numbers are instants and zoned strings name their own zone, whatever the header says
      ['Time(UTC+8)', [String(T), '2025-05-22T08:00:00Z'], 8],
    ];
    for (const [head, times, h] of cases) {
      const out = outDir();
      const r = await importCsv({ file: file(`${head},Symbol,Funding Rate\n${times[0]},BTCUSDT,0.0100%\n${times[1]},BTCUSDT,-0.0050%\n`), kind: 'funding', symbol: 'BTCUSDT', out });
      expect(r.zoneColumn).toBe(h === 0 ? undefined : head);
      expect(Array.from(readKindFile(r.path, 'f', 'funding', new ProblemList())!.timestamp), head).toEqual([T, T + 8 * 3_600_000]);
    }
    // the command says in which zone it read them
    const c = await cli(['import', 'csv', file('Time(UTC+8),Symbol,Funding Rate\n2025-05-22 08:00:00,BTCUSDT,0.0100%\n'), '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', outDir()]);
    expect(c.code).toBe(0);
    expect(c.stderr).toContain("marginlab: times without a zone in column 'Time(UTC+8)' read in the zone its name gives\n");
    // mapped by --columns too
    const out = outDir();
    await importCsv({ file: file('Open time (UTC+2),o,h,l,c,v\n2025-05-22 02:00,1,2,0.5,1.5,3\n2025-05-22 03:00,1,2,0.5,1.5,3\n'), kind: 'candles', symbol: 'X', timeframe: '1h', columns: 'timestamp=Open time (UTC+2),open=o,high=h,low=l,close=c,volume=v', out });
    expect(Array.from((await loadDataset(out)).time)).toEqual([T, T + 3_600_000]);
  });

  it('a funding file no venue would publish is warned about at the import (CSV and the other formats), as at a load; sane rates say nothing', async () => {
    const H = 8 * 3_600_000;
    const T = 1747872000000; // 2025-05-22T00:00Z
    const rows = (rate: (k: number) => string) => Array.from({ length: 6 }, (_, k) => `${T + k * H},${rate(k)}`).join('\n');
    // percentages written as fractions: 0.01 meant 0.01 %
    const pct = await cli(['import', 'csv', file(`timestamp,rate\n${rows((k) => (k % 2 ? '0.01' : '-0.012'))}\n`), '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', outDir()]);
    expect(pct.code).toBe(0);
    expect(pct.stderr).toMatch(/^marginlab: warning: \/.*\/BTCUSDT-funding\.arrow: the median \|funding rate\| of BTCUSDT is 1 % a settlement \(0\.01 in the file\)/m);
    const sane = await cli(['import', 'csv', file(`timestamp,rate\n${rows(() => '0.0001')}\n`), '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', outDir()]);
    expect(sane.code).toBe(0);
    expect(sane.stderr).toBe('');
    // through the common commit path (a Bybit export): a rate beyond ±5 %
    const bybit = join(root, `bybit-${++n}`);
    mkdirSync(bybit);
    writeFileSync(join(bybit, 'ETHUSDT-funding.csv'), `symbol,fundingRate,fundingRateTimestamp\n${Array.from({ length: 6 }, (_, k) => `ETHUSDT,${k === 2 ? '-0.5' : '0.0001'},${T + k * H}`).join('\n')}\n`);
    const b = await cli(['import', join(bybit, 'ETHUSDT-funding.csv'), '--format', 'bybit', '--out', outDir()]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(/^marginlab: warning: \/.*\/ETHUSDT-funding\.arrow: 1 funding rate of ETHUSDT is beyond ±5 % a settlement, past every venue's cap \(the largest -0\.5 at row 3\)/m);
    // --venue for a dataset that already names one (a Bybit import wrote bybit-linear): left out, and said
    const out2 = outDir();
    expect((await cli(['import', join(bybit, 'ETHUSDT-funding.csv'), '--format', 'bybit', '--out', out2])).code).toBe(0);
    writeFileSync(join(bybit, 'ETHUSDT-funding.csv'), `symbol,fundingRate,fundingRateTimestamp\nETHUSDT,0.0001,${T + 6 * H}\n`);
    const kept = await cli(['import', join(bybit, 'ETHUSDT-funding.csv'), '--format', 'bybit', '--venue', 'okx', '--out', out2]);
    expect(kept.code, kept.stderr).toBe(0);
    expect(kept.stderr).toContain(`marginlab: warning: --venue okx left out: the dataset ${out2} already names venue bybit-linear`);
  });

  it("a number with a decimal comma (a spreadsheet of a ';' locale) is a bad row that says so", async () => {
    const e = await userError(importCsv({ file: file('Date;Open;High;Low;Close;Volume\n2025-05-22 00:00;109609,6;110146,4;109153,4;109925,4;16028,352\n'), kind: 'candles', symbol: 'X', timeframe: '1h', delimiter: ';', out: outDir() }));
    expect(e.details[0]).toMatch(/line 2: open '109609,6' is not a number \(written with a decimal comma, as spreadsheets in many locales write numbers: export the file with '\.' as the decimal separator\)$/);
    const f = await userError(importCsv({ file: file('time;rate\n2025-05-22 00:00;0,0100%\n'), kind: 'funding', symbol: 'X', delimiter: ';', out: outDir() }));
    expect(f.details[0]).toContain("rate '0,0100%' is not a number (written with a decimal comma");
    const g = await userError(importCsv({ file: file('time,open,high,low,close,volume\n2025-05-22 00:00,abc,2,0.5,1.5,3\n'), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(g.details[0]).toMatch(/open 'abc' is not a number$/);
  });

  it('two rows swapped at the start of a file are named as such (65, even with --skip-bad-rows), not every later row as out of order in a file of descending times', async () => {
    const row = (h: number) => `2025-05-22 0${h}:00,1,2,0.5,1.5,3\n`;
    const up = `time,open,high,low,close,volume\n${[1, 0, 2, 3, 4, 5].map(row).join('')}`;
    for (const skipBadRows of [false, true]) {
      const e = await userError(importCsv({ file: file(up), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir(), skipBadRows }));
      expect(e.exitCode).toBe(65);
      expect(e.message).toMatch(/: the rows' times ascend \(4 of 5 steps\), but lines 2 and 3, which set the file's direction, descend: 4 rows were read as out of order; sort the rows by time \(the header line first\) and import again; nothing was written$/);
    }
    // a file without a header line: no header line to keep first
    const bare = await userError(importCsv({ file: file([1, 0, 2, 3, 4, 5].map(row).join('')), kind: 'candles', symbol: 'X', timeframe: '1h', header: false, columns: 'timestamp,open,high,low,close,volume', out: outDir() }));
    expect(bare.message).toMatch(/but lines 1 and 2, which set the file's direction, descend: 4 rows were read as out of order; sort the rows by time and import again; nothing was written$/);
    // a newest-first file with its first two rows swapped: the same, the other way round
    const down = `time,open,high,low,close,volume\n${[4, 5, 3, 2, 1, 0].map(row).join('')}`;
    const d = await userError(importCsv({ file: file(down), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(d.message).toMatch(/the rows' times descend \(4 of 5 steps\), but lines 2 and 3, which set the file's direction, ascend/);
    // one row out of place later in an ascending file: still that one bad row
    const one = `time,open,high,low,close,volume\n${[0, 1, 2, 4, 3, 5].map(row).join('')}`;
    const o = await userError(importCsv({ file: file(one), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(o.message).toMatch(/1 bad row; nothing was written \(1 of them out of time order/);
    // as many steps up as down (three rows, the first two swapped): no direction is blamed on the one right row
    const tie = `time,open,high,low,close,volume\n${[1, 0, 2].map(row).join('')}`;
    const t = await userError(importCsv({ file: file(tie), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(t.exitCode).toBe(65);
    expect(t.message).toMatch(/: the rows are not in time order \(1 step up, 1 down, from line 2\); sort the rows by time \(the header line first\) and import again; nothing was written$/);
    expect(t.message).not.toContain('descending');
  });

  it('a row of fewer cells than the header is cut short, said so (not a column read as an empty number)', async () => {
    const short = 'time,open,high,low,close,volume\n2025-05-22 00:00,100,101,99,100.5,10\n2025-05-22 01:00,1,2\n';
    const e = await userError(importCsv({ file: file(short), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(e.details[0]).toMatch(/line 3: 3 cells where the header has 6: the row is cut short \(no low\); complete it, or leave it out$/);
    // a funding file without its optional price cell on a row is not cut short
    const funding = 'time,rate,price\n2025-05-22 00:00,0.0001,100\n2025-05-22 08:00,0.0001\n';
    const r = await importCsv({ file: file(funding), kind: 'funding', symbol: 'X', out: outDir() });
    expect(r.rows).toBe(2);
  });

  it('a row of more cells than the header (a decimal comma in a comma file shifts every value after it) is a bad row, not shifted numbers imported', async () => {
    // '100,5' split in two: open 100, high 5, low 101, close 99 — numbers each; high < low is caught, but not every shift is
    const shifted = 'time,open,high,low,close,volume\n2025-05-22 00:00,100,101,99,100.5,10\n2025-05-22 01:00,100,5,100.5,99,100,10\n';
    const e = await userError(importCsv({ file: file(shifted), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(e.exitCode).toBe(65);
    expect(e.details).toEqual([expect.stringMatching(/line 3: 7 cells where the header has 6 \(a value written with a decimal comma, or a separator inside an unquoted value, shifts the columns\): fix the row, or quote the value$/)]);
    // --no-header: the first row sets the width (a Binance kline file has 12 cells and --columns names 6)
    const wide = '1747872000000,1,2,0.5,1.5,3,x,y\n1747875600000,1,2,0.5,1.5,3,x,y,z\n';
    const n = await userError(importCsv({ file: file(wide), kind: 'candles', symbol: 'X', timeframe: '1h', header: false, columns: 'timestamp,open,high,low,close,volume', out: outDir() }));
    expect(n.details).toEqual([expect.stringMatching(/line 2: 9 cells where the first good row \(line 1\) has 8 /)]);
    // a first row cut short (or otherwise bad) sets no width: only it is bad, not every row after it
    const cut = '1747872000000,1,2\n1747875600000,1,2,0.5,1.5,3,x,y\n1747879200000,1,2,0.5,1.5,3,x,y\n';
    const c = await userError(importCsv({ file: file(cut), kind: 'candles', symbol: 'X', timeframe: '1h', header: false, columns: 'timestamp,open,high,low,close,volume', out: outDir() }));
    expect(c.details).toHaveLength(1);
    expect(c.details[0]).toMatch(/line 1: /);
    expect((await importCsv({ file: file(cut), kind: 'candles', symbol: 'X', timeframe: '1h', header: false, columns: 'timestamp,open,high,low,close,volume', skipBadRows: true, out: outDir() })).rows).toBe(2);
    // a funding file whose price cell (a column --columns names) appears only in later rows is read whole
    const fout = outDir();
    const fr = await importCsv({ file: file('1735689600000,0.0001\n1735718400000,-0.0002,1.33\n1735747200000,0.0003,1.35\n'), kind: 'funding', symbol: 'X', header: false, columns: 'timestamp,rate,price', out: fout });
    expect(fr.rows).toBe(3);
    // and the width is the columns --columns maps when the first good row is narrower: one cell more is still refused
    const fw = await userError(importCsv({ file: file('1735689600000,0.0001\n1735718400000,-0.0002,1.33,9\n'), kind: 'funding', symbol: 'X', header: false, columns: 'timestamp,rate,price', out: outDir() }));
    expect(fw.details).toEqual([expect.stringMatching(/line 2: 4 cells where the first good row \(line 1\) has 3 /)]);
    // empty trailing cells (a trailing separator) are no values: imported
    const out = outDir();
    const r = await importCsv({ file: file('time,open,high,low,close,volume\n2025-05-22 00:00,1,2,0.5,1.5,3,\n2025-05-22 01:00,1,2,0.5,1.5,3, \n'), kind: 'candles', symbol: 'X', timeframe: '1h', out });
    expect(r.rows).toBe(2);
    const ok = outDir();
    expect((await importCsv({ file: file(wide.replace(',z', '')), kind: 'candles', symbol: 'X', timeframe: '1h', header: false, columns: 'timestamp,open,high,low,close,volume', out: ok })).rows).toBe(2);
  });

  it('imports mark and funding (with optional price) and updates the manifest', async () => {
    const out = outDir();
    await importCsv({ file: file('timestamp,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\n1735693200000,1.5,2,1,1.2,3\n'), kind: 'candles', symbol: 'AUSDT', timeframe: '1h', out });
    await importCsv({ file: file('timestamp,open,high,low,close\n1735689600000,1.01,2,0.5,1.5\n1735693200000,1.49,2,1,1.2\n'), kind: 'mark', symbol: 'AUSDT', timeframe: '1h', out });
    await importCsv({ file: file('fundingTime,fundingRate,markPrice\n1735689600001,0.0001,\n1735693200003,-0.0002,1.33\n'), kind: 'funding', symbol: 'AUSDT', out });
    await importCsv({ file: file('date,open,high,low,close,volume\n2025-01-01T01:00:00Z,5,6,4,5,1\n'), kind: 'candles', symbol: 'BUSDT', timeframe: '1h', out });
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m.symbols).toEqual(['AUSDT', 'BUSDT']);
    expect(m.files.map((f: { path: string }) => f.path)).toEqual(['AUSDT-candles-1h.arrow', 'AUSDT-funding.arrow', 'AUSDT-mark-1h.arrow', 'BUSDT-candles-1h.arrow']);
    const md = await loadDataset(out);
    const a = md.columns[0]!;
    expect(a.markAtBarTimeframe).toBe(true);
    expect(Array.from(a.markOpen)).toEqual([1.01, 1.49]);
    expect(Array.from(a.fundingStart)).toEqual([0, 1, 2]);
    expect(Array.from(a.fundingRate)).toEqual([0.0001, -0.0002]);
    // first: no price in the file → mark open of the containing candle; second: the file's price
    expect(Array.from(a.fundingPrice)).toEqual([1.01, 1.33]);
    expect(Array.from(md.columns[1]!.present)).toEqual([0, 1]);
    // a re-import with a different row conflicts (65, nothing written); --replace replaces the file, does not duplicate it
    const changed = file('timestamp,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\n1735693200000,1.5,2,1,1.3,3\n');
    const before = readFileSync(join(out, 'AUSDT-candles-1h.arrow'));
    const conflict = await userError(importCsv({ file: changed, kind: 'candles', symbol: 'AUSDT', timeframe: '1h', out }));
    expect(conflict.exitCode).toBe(65);
    expect(conflict.message).toContain('2025-01-01T01:00:00.000Z (1735693200000) conflicts with the dataset\'s AUSDT-candles-1h.arrow: close 1.3 vs 1.2');
    expect(readFileSync(join(out, 'AUSDT-candles-1h.arrow')).equals(before)).toBe(true);
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await importCsv({ file: changed, kind: 'candles', symbol: 'AUSDT', timeframe: '1h', out, replace: true });
    const m2 = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m2.files).toHaveLength(4);
    expect((await loadDataset(out)).columns[0]!.close[1]).toBe(1.3);
  });

  it('reports every bad row with its line number and writes nothing (65)', async () => {
    const out = outDir();
    const text = 'timestamp,open,high,low,close,volume\n' +
      '1735689600000,1,2,0.5,1.5,3\n' +
      '1735693200000,abc,2,1,1.2,3\n' + // line 3: not a number
      '1735696800000,1,0.5,0.9,1,3\n' + // line 4: high below
      '1735696800000,1,2,0.9,1,3\n' + // ok (the bad line 4 was not accepted)
      '1735696800000,1,2,0.9,1,3\n' + // line 6: duplicate
      '1735693200000,1,2,0.9,1,3\n' + // line 7: out of order
      'noon,1,2,0.9,1,3\n' + // line 8: bad time
      '1735700400000,1,2,0.9,1,-1\n'; // line 9: volume
    const e = await userError(importCsv({ file: file(text), kind: 'candles', symbol: 'X', timeframe: '1h', out }));
    expect(e.exitCode).toBe(65);
    expect(e.message).toContain('6 bad rows; nothing was written');
    const d = e.details.join('\n');
    expect(d).toContain("line 3: open 'abc' is not a number");
    expect(d).toContain('line 4: high 0.5 is below max(open, close) = 1');
    expect(d).toContain('line 6: duplicate timestamp 2025-01-01T02:00:00.000Z (1735696800000) (same as line 5)');
    expect(d).toContain('line 7: timestamp 2025-01-01T01:00:00.000Z (1735693200000) is out of order');
    expect(d).toContain("line 8: time 'noon' is neither an epoch number nor an ISO-8601 date-time");
    expect(d).toContain('line 9: volume -1 must be ≥ 0');
    expect(existsSync(out)).toBe(false);
  });

  it('lists a few rows of each kind of problem and counts the rest (a day-first file listed 200 lines alike), and says what a day-first time needs', async () => {
    const H = 3_600_000;
    const t0 = Date.UTC(2025, 4, 22);
    const dd = (ms: number) => { const d = new Date(ms); const p = (n: number) => String(n).padStart(2, '0'); return `${p(d.getUTCDate())}/${p(d.getUTCMonth() + 1)}/${d.getUTCFullYear()} ${p(d.getUTCHours())}:00`; };
    const rows = Array.from({ length: 500 }, (_, i) => `${i < 400 ? dd(t0 + i * H) : t0 + i * H},1,2,0.5,1.5,${i >= 400 && i % 2 ? 'x' : '3'}`);
    const f = file(`timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`);
    const r = await cli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir()]);
    expect(r.code).toBe(65);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/: 450 bad rows; nothing was written \(--skip-bad-rows leaves them out\)$/);
    expect(lines.slice(1).map((l) => l.trim().replace(/^\S+ line/, 'line'))).toEqual([
      "line 2: time '22/05/2025 00:00' is neither an epoch number nor an ISO-8601 date-time (day/month/year and month/day/year read alike: export the times as ISO-8601, 2025-05-22T00:00:00Z, or epoch ms)",
      "line 3: time '22/05/2025 01:00' is neither an epoch number nor an ISO-8601 date-time (day/month/year and month/day/year read alike: export the times as ISO-8601, 2025-05-22T00:00:00Z, or epoch ms)",
      "line 4: time '22/05/2025 02:00' is neither an epoch number nor an ISO-8601 date-time (day/month/year and month/day/year read alike: export the times as ISO-8601, 2025-05-22T00:00:00Z, or epoch ms)",
      "line 403: volume 'x' is not a number",
      "line 405: volume 'x' is not a number",
      "line 407: volume 'x' is not a number",
      '... and 397 more rows like line 2',
      '... and 47 more rows like line 403',
    ]);
  });

  it('--skip-bad-rows leaves bad rows out and reports the count (CLI, exit 0); without it the CLI exits 65', async () => {
    const out = outDir();
    const f = file('time,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\nbad,1,2,1,1,1\n1735693200000,1.5,2,1,1.2,3\n');
    const [ok, fail] = await Promise.all([
      cli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--skip-bad-rows']),
      cli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', `${out}-strict`]),
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stderr).toContain('skipped 1 bad row');
    expect(ok.stderr).toContain("line 3: time 'bad' is neither");
    expect(ok.stdout).toMatch(/imported 2 rows into .*BTCUSDT-candles-1h\.arrow .*1 bad rows skipped/);
    expect((await loadDataset(out)).time.length).toBe(2);
    expect(fail.code).toBe(65);
    expect(fail.stderr).toContain('1 bad row; nothing was written');
    expect(existsSync(`${out}-strict`)).toBe(false);
  });

  it('fails with 65 naming missing columns, and for an empty file; 66 for a missing file; 64 for a bad kind', async () => {
    const miss = await userError(importCsv({ file: file('timestamp,open,close\n1735689600000,1,1\n'), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(miss.exitCode).toBe(65);
    expect(miss.message).toContain('missing columns high, low, volume in the header');
    const empty = await userError(importCsv({ file: file(''), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(empty.exitCode).toBe(65);
    expect(empty.message).toContain('the file is empty (expected a header line with timestamp, open, high, low, close, volume');
    const headerOnly = await userError(importCsv({ file: file('timestamp,rate\n'), kind: 'funding', symbol: 'X', out: outDir() }));
    expect(headerOnly.exitCode).toBe(65);
    expect(headerOnly.message).toContain('no data rows');
    const missing = await userError(importCsv({ file: join(root, 'nope.csv'), kind: 'funding', symbol: 'X', out: outDir() }));
    expect(missing.exitCode).toBe(66);
    const [bad, missCli] = await Promise.all([
      cli(['import', 'csv', file('a\n'), '--kind', 'trades', '--symbol', 'X', '--out', outDir()]),
      cli(['import', 'csv', file('timestamp,open\n1735689600000,1\n'), '--kind', 'mark', '--symbol', 'X', '--timeframe', '1h', '--out', outDir()]),
    ]);
    expect(bad.code).toBe(64);
    expect(bad.stderr).toContain("--kind: expected candles, mark or funding, got 'trades'");
    expect(missCli.code).toBe(65);
    expect(missCli.stderr).toContain('missing columns high, low, close');
    // nothing half-written anywhere
    expect(readdirSync(root).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a header lacking columns says what to give: --no-header for a first line of data, --kind for another kind\'s columns, else --columns', async () => {
    const rows = '1735689600000,1,2,0.5,1.5,10\n1735693200000,1.5,2,1,1.2,11\n';
    const err = async (text: string, kind: 'candles' | 'mark' | 'funding') =>
      (await userError(importCsv({ file: file(text), kind, symbol: 'X', ...(kind === 'funding' ? {} : { timeframe: '1h' }), out: outDir() }))).message;
    const noHeader = await err(rows, 'candles');
    expect(noHeader).toMatch(/: line 1 is data, not a header naming the columns \(1735689600000,1,2,0\.5,1\.5,10\): give --no-header --columns timestamp,open,high,low,close,volume \(the file's columns in order, _ skipping one\), or add a header line$/);
    expect(noHeader).not.toContain('missing column');
    // mark candles (no volume) imported as candles; a funding file as candles; candles as funding (the most columns: candles, not mark)
    expect(await err('timestamp,open,high,low,close\n1735689600000,1,2,0.5,1.5\n', 'candles')).toMatch(/: the header has the columns of a mark CSV: if the file holds mark-price candles, give --kind mark; else name the file's columns with --columns timestamp=timestamp,open=open,high=high,low=low,close=close,volume=<column>$/);
    expect(await err('timestamp,rate\n1735689600000,0.0001\n', 'mark')).toContain('the header has the columns of a funding CSV: if the file holds funding rates, give --kind funding;');
    expect(await err(`date,open,high,low,close,volume\n${rows}`, 'funding')).toMatch(/the header has the columns of a candles CSV: if the file holds trade candles, give --kind candles; else name the file's columns with --columns timestamp=date,rate=<column>$/);
    // names of the user's own
    expect(await err(`ts,first,max,min,last,qty\n${rows}`, 'candles')).toMatch(/\): name the file's columns with --columns timestamp=ts,open=<column>,high=<column>,low=<column>,close=<column>,volume=<column>$/);
    // CryptoDataDownload's columns: trade candles with their volume in two named columns, not mark candles (--kind mark would import trade prices as mark prices)
    const cdd = await err(`Unix,Date,Symbol,Open,High,Low,Close,Volume BTC,Volume USDT,tradecount\n1735689600000,2025-01-01 00:00:00,BTCUSDT,1,2,0.5,1.5,10,15,3\n`, 'candles');
    expect(cdd).not.toContain('--kind mark');
    expect(cdd).toMatch(/: name the file's columns with --columns 'timestamp=Date,open=Open,high=High,low=Low,close=Close,volume=<Volume BTC or Volume USDT: the one in the base currency>'$/);
    // --columns without --no-header read line 1 as the header: its row was dropped (1457 of 1458 rows imported, exit 0)
    const withColumns = (await userError(importCsv({ file: file(rows), kind: 'candles', symbol: 'X', timeframe: '1h', columns: 'timestamp,open,high,low,close,volume', out: outDir() }))).message;
    expect(withColumns).toMatch(/: line 1 is data, not a header naming the columns \(1735689600000,1,2,0\.5,1\.5,10\): give --no-header as well, or --columns would skip it as the header$/);
    const both = await importCsv({ file: file(rows), kind: 'candles', symbol: 'X', timeframe: '1h', columns: 'timestamp,open,high,low,close,volume', header: false, out: outDir() });
    expect(both.rows).toBe(2);
    // through the CLI: one line
    const r = await cli(['import', 'csv', file(rows), '--kind', 'candles', '--symbol', 'X', '--timeframe', '1h', '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('is data, not a header naming the columns (1735689600000,1,2,0.5,1.5,10): give --no-header --columns timestamp,open,high,low,close,volume');
  });

  it('rejects |rate| ≥ 1 and spacing off the timeframe', async () => {
    const e1 = await userError(importCsv({ file: file('timestamp,rate\n1735689600000,0.0001\n1735718400000,2\n'), kind: 'funding', symbol: 'X', out: outDir() }));
    expect(e1.details[0]).toContain('line 3: rate 2 is implausible');
    const e2 = await userError(importCsv({ file: file('timestamp,open,high,low,close\n1735689600000,1,1,1,1\n1735691400000,1,1,1,1\n'), kind: 'mark', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(e2.details[0]).toContain('line 3: timestamp 2025-01-01T00:30:00.000Z (1735691400000) is 1800000 ms after line 2; expected a multiple of the 1h timeframe');
  });
});

describe('import csv flags', () => {
  it('--venue names a built-in venue (its short name read as the id); another name is refused (64) before anything is written', async () => {
    const f = file('timestamp,rate\n1735689600000,0.0001\n');
    for (const [flag, id] of [['bybit', 'bybit-linear'], ['hyperliquid', 'hyperliquid']] as const) {
      const out = outDir();
      const r = await feedCli(['import', 'csv', f, '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out, '--venue', flag]);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).venue).toBe(id);
    }
    for (const [flag, hint] of [['ftx', ''], ['binanc', " (did you mean 'binance'?)"]] as const) {
      const out = outDir();
      const r = await feedCli(['import', 'csv', f, '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out, '--venue', flag]);
      expect(r.code).toBe(64);
      expect(r.stderr).toBe(`marginlab: --venue: unknown venue '${flag}'${hint}; known venues: binance-usdm, bybit-linear, hyperliquid, okx (the venue a config names to replay the dataset)\n`);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('--delimiter, --venue and --provenance reach the import; the summary line counts gaps', async () => {
    const out = outDir();
    const f = file('time;open;high;low;close;volume\n1735689600000;1;2;0.5;1.5;3\n1735693200000;1.5;2;1;1.2;3\n1735704000000;1.2;2;1;1.3;3\n');
    const r = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--delimiter', ';', '--venue', 'okx', '--provenance', 'exported by hand']);
    expect(r.code).toBe(0);
    // a series with a gap imports, with a warning that a run refuses it by default (a new file: nothing appended)
    expect(r.stderr).toBe("marginlab: warning: candles BTCUSDT 1h now has 1 gap (widest: 2 missing bars between 2025-01-01T01:00:00.000Z and 2025-01-01T04:00:00.000Z); a run at 1h refuses a dataset with gaps unless the config's data entry says gaps: 'warn' (docs/data.md)\n");
    expect(r.stdout).toMatch(/^imported 3 rows into .*BTCUSDT-candles-1h\.arrow \(2025-01-01T00:00:00\.000Z → 2025-01-01T04:00:00\.000Z, 1 gap\) in \d+\.\d s\n$/);
    const m = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m).toMatchObject({ venue: 'okx', timeframe: '1h', provenance: 'exported by hand' });
    // into an existing dataset: --venue is only written when the manifest is created; provenance lines add up
    const r2 = await feedCli(['import', 'csv', file('timestamp,rate\n1735689600000,0.0001\n'), '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out, '--venue', 'bybit-linear']);
    expect(r2.code).toBe(0);
    expect(r2.stderr).toBe(`marginlab: warning: --venue bybit-linear left out: the dataset ${out} already names venue okx (--venue is written when a dataset is created); a config's venue chooses the rules a run replays it under\n`);
    const m2 = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(m2.venue).toBe('okx');
    expect(m2.provenance).toMatch(/^exported by hand\nfunding BTCUSDT imported from in-\d+\.csv$/);
    // the same rows again (appended, or with --replace): nothing new, the manifest is left byte for byte as it was
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    for (const extra of [[], ['--replace']]) {
      const r3 = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--delimiter', ';', ...extra]);
      expect(r3.code).toBe(0);
      expect(r3.stdout).toMatch(/; nothing new: the dataset is unchanged\n$/);
      expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(before);
    }
    // a tab typed as a tab ($'\t' in bash), not as \t, is a delimiter, not an empty value
    const tsv = file('time\topen\thigh\tlow\tclose\tvolume\n1735689600000\t1\t2\t0.5\t1.5\t3\n');
    const rt = await cli(['import', 'csv', tsv, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir(), '--delimiter', '\t']);
    expect(rt.stderr).toBe('');
    expect(rt.code).toBe(0);
    // the default delimiter is ',': the same ';' file fails, saying which --delimiter to give
    const strict = await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir()]);
    expect(strict.code).toBe(65);
    expect(strict.stderr).toContain("the header line has no ',' but has ';': give --delimiter ';'");
  });

  it('--timeframe must be a timeframe, and is needed for candles and mark only where the rows cannot tell it (a single row, a pipe); --symbol must be a plain name (64)', async () => {
    const f = file('timestamp,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\n');
    const outs = [outDir(), outDir(), outDir(), outDir()];
    const [noTf, badTf, badFundingTf, badSym] = [
      await feedCli(['import', 'csv', f, '--kind', 'mark', '--symbol', 'X', '--out', outs[0]!]),
      await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'X', '--timeframe', 'hourly', '--out', outs[1]!]),
      await feedCli(['import', 'csv', file('timestamp,rate\n1735689600000,0.0001\n'), '--kind', 'funding', '--symbol', 'X', '--timeframe', '8x', '--out', outs[2]!]),
      await feedCli(['import', 'csv', f, '--kind', 'candles', '--symbol', 'BTC USDT', '--timeframe', '1h', '--out', outs[3]!]),
    ];
    expect(noTf.code).toBe(64);
    expect(noTf.stderr).toContain("the rows' spacing gives no timeframe (fewer than two distinct times): give --timeframe (e.g. --timeframe 1h), the length of the mark candles");
    // a step finer than a second is no timeframe: the times' unit is asked about first
    const ms = await cli(['import', 'csv', file('timestamp,open,high,low,close\n1735689600000,1,2,0.5,1.5\n1735689600001,1,2,0.5,1.5\n1735689600002,1,2,0.5,1.5\n'), '--kind', 'mark', '--symbol', 'X', '--out', outDir()]);
    expect(ms.code).toBe(64);
    expect(ms.stderr).toContain("the rows' spacing gives no timeframe (their usual step is 1 ms): are the times in another unit? else give --timeframe (e.g. --timeframe 1h), the length of the mark candles");
    // rows a calendar month apart: monthly candles, said unsupported (read as 31d, every shorter month was a bad row)
    const months = ['2024-01-01', '2024-02-01', '2024-03-01', '2024-04-01', '2024-05-01'].map((d) => `${d}T00:00:00Z,100,101,99,100,1`).join('\n');
    const mon = await cli(['import', 'csv', file(`timestamp,open,high,low,close,volume\n${months}\n`), '--kind', 'candles', '--symbol', 'X', '--out', outDir()]);
    expect(mon.code).toBe(65);
    expect(mon.stderr).toMatch(/: its rows are a calendar month apart: monthly candles are not supported \(no fixed timeframe; docs\/data\.md, "Choices and what is left out"\); import daily or finer candles of the same months\n$/);
    // every missing flag at once, not one per attempt
    const bare = await feedCli(['import', 'csv', f, '--out', outDir()]);
    expect(bare.code).toBe(64);
    expect(bare.stderr).toBe('marginlab: a CSV import needs --kind (candles, mark or funding), --symbol (e.g. BTCUSDT): add them (`npx marginlab import --help`)\n');
    // several files: said first (it asked for --symbol, then, given, said 'takes one file (got 2)' and no more)
    const two = await feedCli(['import', f, file('timestamp,open,high,low,close,volume\n'), '--format', 'csv', '--out', outDir()]);
    expect(two.code).toBe(64);
    expect(two.stderr).toMatch(/^marginlab: a CSV import takes one file, got 2 \(.*\.csv, .*\.csv\): one file is one series, so import each on its own with its own --kind and --symbol \(`npx marginlab import <file> --format csv --kind candles\|mark\|funding --symbol S --timeframe 1h --out DIR`\)\n$/);
    const noSym = await feedCli(['import', 'csv', f, '--kind', 'candles', '--out', outDir()]);
    expect(noSym.stderr).toBe('marginlab: a CSV import needs --symbol (e.g. BTCUSDT): add it (`npx marginlab import --help`)\n');
    // and data-format.md's CSV section says so
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'data-format.md'), 'utf8').replace(/\s+/g, ' ');
    expect(doc).toContain('from a pipe, whose rows cannot be read twice, `--timeframe` is required for `--kind candles` and `--kind mark`: 64 without it');
    expect(badTf.code).toBe(64);
    expect(badTf.stderr).toContain("invalid timeframe 'hourly'");
    expect(badFundingTf.code).toBe(64);
    expect(badFundingTf.stderr).toContain("invalid timeframe '8x'");
    expect(badSym.code).toBe(64);
    expect(badSym.stderr).toContain("invalid --symbol 'BTC USDT': it holds a space");
    expect(outs.filter((o) => existsSync(o))).toEqual([]);
  });

  it('without --timeframe, a header only, bad rows and a folder are refused as with it (65, 65, 66), not asked for a timeframe', async () => {
    const t0 = 1735689600000;
    const H = 3_600_000;
    const header = 'timestamp,open,high,low,close,volume\n';
    // five rows, four bad: high below open, a close that is no number, a negative volume, a missing cell
    const bad = `${header}${t0},1,2,0.5,1.5,3\n${t0 + H},1,0.8,0.5,0.9,3\n${t0 + 2 * H},1,2,0.5,abc,3\n${t0 + 3 * H},1,2,0.5,1.5,-1\n${t0 + 4 * H},1,2,0.5,1.5\n`;
    const folder = join(root, `afolder-${++n}`);
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);
    for (const [input, code, says] of [
      [file(header), 65, 'no data rows (a header only); nothing was imported'],
      [file(bad), 65, '4 bad rows; nothing was written'],
      [folder, 66, 'is a folder, not a CSV file'],
    ] as const) {
      const outs = [outDir(), outDir()];
      const without = await feedCli(['import', 'csv', input, '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', outs[0]!]);
      const withTf = await feedCli(['import', 'csv', input, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outs[1]!]);
      expect(without.code, without.stderr).toBe(code);
      expect(without.stderr).toContain(says);
      expect(without.stderr.replace(/ds-\d+/g, '')).toBe(withTf.stderr.replace(/ds-\d+/g, ''));
      expect(outs.filter((o) => existsSync(o))).toEqual([]);
    }
    // the bad rows listed by line, as with --timeframe
    const r = await feedCli(['import', 'csv', file(bad), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', outDir()]);
    expect(r.stderr).toContain('line 3: high 0.8 is below max(open, close) = 1');
    // with --skip-bad-rows the one good row is not enough to tell a timeframe: asked for (64)
    const one = await feedCli(['import', 'csv', file(bad), '--kind', 'candles', '--symbol', 'BTCUSDT', '--skip-bad-rows', '--out', outDir()]);
    expect(one.code, one.stderr).toBe(64);
    expect(one.stderr).toContain("the rows' spacing gives no timeframe");
  });

  it("without --timeframe, candles and mark take the timeframe of the rows' spacing (a first pass): the same file, bytes and manifest as with it; gaps, newest-first, bad rows and header errors as with it", async () => {
    const { createHash } = await import('node:crypto');
    const H = 3_600_000;
    const t0 = 1735689600000;
    // 1h candles missing every third bar: as many 2h steps as 1h ones, and 1h with gaps
    const times = Array.from({ length: 30 }, (_, i) => t0 + i * H).filter((_, i) => i % 3 !== 2);
    const rows = times.map((t, i) => `${t},${100 + i},${102 + i},${99 + i},${101 + i},5`);
    const text = `timestamp,open,high,low,close,volume\n${rows.join('\n')}\n`;
    const sha = (d: string, name: string) => createHash('sha256').update(readFileSync(join(d, name))).digest('hex');
    const [given, read] = [outDir(), outDir()];
    const a = await feedCli(['import', 'csv', file(text), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', given]);
    const b = await feedCli(['import', 'csv', file(text), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', read]);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    const gapped = "marginlab: warning: candles BTCUSDT 1h now has 9 gaps (widest: 1 missing bar between 2025-01-01T01:00:00.000Z and 2025-01-01T03:00:00.000Z); a run at 1h refuses a dataset with gaps unless the config's data entry says gaps: 'warn' (docs/data.md)\n";
    expect(a.stderr).toBe(gapped);
    expect(b.stderr).toBe(`marginlab: timeframe 1h, from the rows' spacing (--timeframe sets it)\n${gapped}`);
    const shown = (x: string) => x.replace(/in-\d+|ds-\d+/g, '').replace(/in \d+\.\d s/, 'in s');
    expect(shown(b.stdout)).toBe(shown(a.stdout));
    expect(b.stdout).toContain(`${times.length} rows`);
    expect(b.stdout).toContain(', 9 gaps)');
    expect(sha(read, 'BTCUSDT-candles-1h.arrow')).toBe(sha(given, 'BTCUSDT-candles-1h.arrow'));
    const manifest = (d: string) => JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { timeframe: string; files: unknown[]; provenance?: string };
    expect(manifest(read).files).toEqual(manifest(given).files);
    expect(manifest(read).timeframe).toBe('1h');
    // the library says which timeframe it read
    const lib = await importCsv({ file: file(text), kind: 'candles', symbol: 'ETHUSDT', out: outDir() });
    expect(lib.inferredTimeframe).toBe('1h');
    expect((await importCsv({ file: file(text), kind: 'candles', symbol: 'ETHUSDT', timeframe: '1h', out: outDir() })).inferredTimeframe).toBeUndefined();
    // newest-first 30m mark candles
    const mark = `time,open,high,low,close\n${Array.from({ length: 6 }, (_, i) => `${t0 + (5 - i) * 1_800_000},10,11,9,10`).join('\n')}\n`;
    const m = outDir();
    const r = await feedCli(['import', 'csv', file(mark), '--kind', 'mark', '--symbol', 'BTCUSDT', '--out', m]);
    expect(r.code, r.stderr).toBe(0);
    expect(readdirSync(m)).toContain('BTCUSDT-mark-30m.arrow');
    // a bad row: the import's own report (65, the line), nothing written; with --skip-bad-rows left out
    const bad = text.replace(`${t0 + 4 * H},`, `${t0 + 4 * H + 60_000},`);
    const o = outDir();
    const e = await feedCli(['import', 'csv', file(bad), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', o]);
    expect(e.code, e.stderr).toBe(65);
    expect(e.stderr).toContain('expected a multiple of the 1h timeframe');
    expect(existsSync(o)).toBe(false);
    const skipped = await feedCli(['import', 'csv', file(bad), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', o, '--skip-bad-rows']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain('skipped 1 bad row');
    // a header lacking a column: the same error (65) with or without --timeframe, nothing written
    const noClose = 'timestamp,open,high,low,volume\n1735689600000,1,2,0.5,3\n1735693200000,1,2,0.5,3\n';
    const [h1, h2] = [await feedCli(['import', 'csv', file(noClose), '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', outDir()]), await feedCli(['import', 'csv', file(noClose), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', outDir()])];
    expect(h1.code).toBe(65);
    expect(h1.stderr.replace(/in-\d+/g, '')).toBe(h2.stderr.replace(/in-\d+/g, ''));
    // from a pipe it cannot be read twice: --timeframe is asked for (64), nothing created
    const { execFileSync } = await import('node:child_process');
    const fifo = join(root, `fifo-${++n}`);
    execFileSync('mkfifo', [fifo]);
    const p = outDir();
    const piped = await feedCli(['import', 'csv', fifo, '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', p]);
    expect(piped.code).toBe(64);
    expect(piped.stderr).toBe(`marginlab: --timeframe is required for --kind candles read from a pipe (${fifo}; its rows cannot be read twice to find their spacing): give the candles' length, e.g. --timeframe 1h\n`);
    expect(existsSync(p)).toBe(false);
  });

  it('refuses a folder with .arrow files but no manifest (65); the first candles import sets the default timeframe', async () => {
    const out = outDir();
    await importCsv({ file: file('timestamp,rate\n1735689600000,0.0001\n'), kind: 'funding', symbol: 'X', out });
    rmSync(join(out, 'manifest.json'));
    const e = await userError(importCsv({ file: file('timestamp,rate\n1735689600000,0.0001\n'), kind: 'funding', symbol: 'Y', out }));
    expect(e.exitCode).toBe(65);
    expect(e.message).toContain('holds .arrow files but no manifest.json; refusing to write into it');

    // a dataset started with funding has no candles at its placeholder default (1h) until candles arrive
    const out2 = outDir();
    await importCsv({ file: file('timestamp,rate\n1735689600000,0.0001\n'), kind: 'funding', symbol: 'X', out: out2 });
    await importCsv({ file: file('timestamp,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\n'), kind: 'candles', symbol: 'X', timeframe: '30m', out: out2 });
    await importCsv({ file: file('timestamp,open,high,low,close,volume\n1735689600000,1,2,0.5,1.5,3\n'), kind: 'candles', symbol: 'X', timeframe: '1d', out: out2 });
    expect(JSON.parse(readFileSync(join(out2, 'manifest.json'), 'utf8')).timeframe).toBe('30m');
  });
});

describe('a CSV under a freqtrade data file name', () => {
  it('the name says kind, symbol and timeframe (the import of BTC_USDT_USDT-1h-futures.csv asked for --kind and --symbol); a flag given says it instead', async () => {
    const dir = join(root, 'ft-csv');
    mkdirSync(dir, { recursive: true });
    const T0 = Date.UTC(2025, 4, 22);
    const candles = ['timestamp,open,high,low,close,volume', ...Array.from({ length: 4 }, (_, i) => `${T0 + i * 3_600_000},100,101,99,100.5,7`)].join('\n') + '\n';
    writeFileSync(join(dir, 'BTC_USDT_USDT-1h-futures.csv'), candles);
    writeFileSync(join(dir, 'ETH_USDT_USDT-8h-mark.csv'), ['timestamp,open,high,low,close', ...Array.from({ length: 3 }, (_, i) => `${T0 + i * 28_800_000},10,11,9,10`)].join('\n') + '\n');
    writeFileSync(join(dir, 'BTC_USDT_USDT-8h-funding_rate.csv'), `timestamp,rate\n${T0},0.0001\n${T0 + 28_800_000},-0.0002\n`);
    const out = outDir();
    const c = await feedCli(['import', join(dir, 'BTC_USDT_USDT-1h-futures.csv'), '--out', out]);
    expect(c.code).toBe(0);
    expect(c.stderr).toBe('marginlab: BTC_USDT_USDT-1h-futures.csv: BTCUSDT 1h trade candles, as the file name says (freqtrade\'s names; --kind, --symbol and --timeframe set them)\n');
    const m = await feedCli(['import', join(dir, 'ETH_USDT_USDT-8h-mark.csv'), '--out', out]);
    expect(m.stderr).toContain('ETHUSDT 8h mark-price candles, as the file name says');
    const f = await feedCli(['import', 'csv', join(dir, 'BTC_USDT_USDT-8h-funding_rate.csv'), '--out', out]);
    expect(f.code).toBe(0);
    expect(f.stderr).toContain('BTCUSDT funding rates, as the file name says');
    const files = (JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { files: { symbol: string; kind: string; timeframe?: string; rows: number }[] }).files;
    expect(files.map((x) => `${x.symbol} ${x.kind} ${x.timeframe ?? '-'} ${x.rows}`).sort()).toEqual(['BTCUSDT candles 1h 4', 'BTCUSDT funding - 2', 'ETHUSDT mark 8h 3']);
    // a flag given with the other taken from the name: the note says what the import read
    const half = await feedCli(['import', join(dir, 'BTC_USDT_USDT-1h-futures.csv'), '--symbol', 'XBTUSDT', '--out', outDir()]);
    expect(half.code).toBe(0);
    expect(half.stderr).toContain('BTC_USDT_USDT-1h-futures.csv: 1h trade candles, as the file name says (--symbol XBTUSDT as given)');
    // a --kind given is the flag's, not the name's (a mark file imported as funding read "funding rates, as the file name says")
    const kindGiven = await feedCli(['import', join(dir, 'ETH_USDT_USDT-8h-mark.csv'), '--kind', 'candles', '--out', outDir()]);
    expect(kindGiven.stderr).toContain('ETH_USDT_USDT-8h-mark.csv: ETHUSDT 8h, as the file name says (--kind candles as given)');
    // flags given win, without a note: the same candles as another symbol
    const own = await feedCli(['import', join(dir, 'BTC_USDT_USDT-1h-futures.csv'), '--kind', 'candles', '--symbol', 'XBTUSD', '--out', out]);
    expect(own.code).toBe(0);
    expect(own.stderr).not.toContain('as the file name says');
    expect(readdirSync(out)).toContain('XBTUSD-candles-1h.arrow');
    // a name freqtrade would give spot candles (no -futures) says no kind: the flags are asked for
    writeFileSync(join(dir, 'BTC_USDT-1h.csv'), candles);
    const spot = await feedCli(['import', join(dir, 'BTC_USDT-1h.csv'), '--out', outDir()]);
    expect(spot.code).toBe(64);
    expect(spot.stderr).toContain('a CSV import needs --kind');
  });
});

describe('one funding settlement twice', () => {
  it('the same events appended with time stamps a few ms off are refused (65, nothing written), as are two rows of one file and a dataset holding them', async () => {
    const T = 1747872000000;
    const H8 = 8 * 3_600_000;
    const rows = (shift: number) => `timestamp,rate\n${Array.from({ length: 6 }, (_, k) => `${T + k * H8 + shift},${k % 2 ? '0.0001' : '-0.00005'}`).join('\n')}\n`;
    const out = outDir();
    await importCsv({ file: file(rows(1)), kind: 'funding', symbol: 'BTCUSDT', out });
    const before = readFileSync(join(out, 'manifest.json'), 'utf8');
    // a second source's stamps: …000 where the first had …001 (they were kept as 12 events, every settlement charged twice)
    const again = await userError(importCsv({ file: file(rows(0)), kind: 'funding', symbol: 'BTCUSDT', out }));
    expect(again.exitCode).toBe(65);
    expect(again.message).toMatch(/^funding BTCUSDT: BTCUSDT-funding\.arrow row \d+: funding events at \S+ \(\d+000\) and \S+ \(\d+001\) are 1 ms apart: one settlement twice .*; nothing was written$/);
    expect(readFileSync(join(out, 'manifest.json'), 'utf8')).toBe(before);
    // in one file: a bad row naming both lines
    const one = await userError(importCsv({ file: file('timestamp,rate\n1747872000000,0.0001\n1747872005000,0.0001\n1747900800000,0.0002\n'), kind: 'funding', symbol: 'X', out: outDir() }));
    expect(one.details[0]).toMatch(/line 3: funding events at .* are 5s apart: one settlement twice .*\(line 2 and this one\)$/);
    // other rates a few seconds apart are two events (a venue's own irregular file): kept
    const two = await importCsv({ file: file('timestamp,rate\n1747872000000,0.0001\n1747872005000,0.0003\n'), kind: 'funding', symbol: 'X', out: outDir() });
    expect(two.rows).toBe(2);
    // a dataset written holding them (by another tool, or before this check) is refused by the load (65)
    const { writeDatasetUnchecked } = await import('../src/feed/write.js');
    const ds = outDir();
    const c = [1, 1, 1];
    await writeDatasetUnchecked(ds, { venue: 'binance-usdm', timeframe: '1h', series: [
      { symbol: 'X', kind: 'candles', timeframe: '1h', time: [T, T + 3_600_000, T + 7_200_000], columns: { open: c, high: c, low: c, close: c, volume: c } },
      { symbol: 'X', kind: 'funding', time: [T, T + 1], columns: { rate: [0.0001, 0.0001] } },
    ] });
    const load = await userError(loadDataset(ds));
    expect(load.exitCode).toBe(65);
    expect(load.details.join('\n')).toContain('are 1 ms apart: one settlement twice');
  });
});

describe('data finer than --timeframe', () => {
  // 5m candles imported with --timeframe 1h: the rows between the hours were bad rows, and the message
  // offered --skip-bad-rows, which then wrote every 12th 5m candle as a 1h candle
  const rows = (n: number, stepMs: number) => ['timestamp,open,high,low,close,volume', ...Array.from({ length: n }, (_, i) => `${1735689600000 + i * stepMs},1,2,0.5,1.5,3`)].join('\n') + '\n';
  it('is refused naming the data\'s spacing, with or without --skip-bad-rows, nothing written', async () => {
    for (const skipBadRows of [false, true]) {
      const out = outDir();
      const e = await userError(importCsv({ file: file(rows(60, 300_000)), kind: 'candles', symbol: 'X', timeframe: '1h', out, ...(skipBadRows ? { skipBadRows } : {}) }));
      expect(e.message).toMatch(/the data's spacing is 5m \(59 of 59 steps\), not the timeframe 1h; import it with --timeframe 5m/);
      expect(e.message).not.toMatch(/--skip-bad-rows leaves them out/);
      expect(e.exitCode).toBe(65);
      expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    }
  });
  it('still lists a few stray off-grid rows of 1h data as bad rows', async () => {
    const text = rows(30, 3_600_000).replace(/\n(1735696800000),/, '\n1735696500000,');
    const e = await userError(importCsv({ file: file(text), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    expect(e.message).toMatch(/1 bad row; nothing was written \(--skip-bad-rows leaves them out\)/);
  });
  it('lists as bad rows 1h rows every other one stamped 2 s early (a step the timeframe is no multiple of: no finer timeframe to import with)', async () => {
    const text = ['timestamp,open,high,low,close,volume', ...Array.from({ length: 100 }, (_, i) => `${1735689600000 + i * 3_600_000 - (i % 2) * 2000},1,2,0.5,1.5,3`)].join('\n') + '\n';
    const e = await userError(importCsv({ file: file(text), kind: 'candles', symbol: 'X', timeframe: '1h', out: outDir() }));
    // it said "the data's spacing is 3598s (50 of 99 steps), not the timeframe 1h; import it with --timeframe 3598s"
    expect(e.message).toMatch(/50 bad rows; nothing was written \(--skip-bad-rows leaves them out\)/);
    expect(e.message).not.toMatch(/spacing/);
  });
});
