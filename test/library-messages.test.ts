/**
 * A library call's refusal names the call and its own parameters, never a command-line flag: writeDataset into a
 * folder of the user's said "--out … add --force" (a flag writeDataset has no equivalent of), synthesize said
 * "data synth: --symbols …". The command line keeps its flags (feed-cli.test.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize, writeDataset, writeReport, UserError, loadDataset, sliceByTime, sliceMarketData, selectSymbols } from '../src/index.js';
import type { DatasetInput } from '../src/index.js';
import { runCli } from './fixtures/run/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ml-libmsg-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const H = 3_600_000;
const input: DatasetInput = {
  venue: 'binance-usdm',
  timeframe: '1h',
  series: [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: [0, H, 2 * H], columns: { open: [1, 1, 1], high: [1, 1, 1], low: [1, 1, 1], close: [1, 1, 1], volume: [0, 0, 0] } }],
};

/** a folder of the user's: one file marginlab did not write */
function userFolder(name: string): string {
  const d = join(root, name);
  mkdirSync(d);
  writeFileSync(join(d, 'notes.txt'), 'mine');
  return d;
}

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(() => null, (x: unknown) => x);
  expect(e).toBeInstanceOf(UserError);
  return e as UserError;
}

/** a dataset `marginlab import` made (series added file by file: its marker lists no manifest.json) */
async function importedDataset(name: string): Promise<string> {
  const d = join(root, name);
  const csv = join(root, `${name}.csv`);
  writeFileSync(csv, `timestamp,open,high,low,close,volume\n${[0, 1, 2].map((i) => `${1747872000000 + i * H},10,11,9,10.5,1`).join('\n')}\n`);
  const r = await runCli(['import', csv, '--format', 'csv', '--kind', 'candles', '--symbol', 'ETHUSDT', '--timeframe', '1h', '--out', d], root);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return d;
}

describe('library refusals name the call and its parameters', () => {
  it('writeDataset into a folder of the user\'s: 64 naming writeDataset and { force: true }; with it, the user\'s file stays', async () => {
    const d = userFolder('ds');
    const e = await refusal(writeDataset(d, input));
    expect(e.exitCode).toBe(64);
    expect(e.message).toMatch(/^writeDataset: dir .*ds is not empty and was not written by marginlab \(1 entry, e\.g\. notes\.txt\); choose a new or empty folder, or pass \{ force: true \} as its third argument to write into it/);
    expect(e.message).not.toMatch(/--/);
    expect(readdirSync(d)).toEqual(['notes.txt']);
    await writeDataset(d, input, { force: true });
    expect(readFileSync(join(d, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(join(d, 'manifest.json'))).toBe(true);
    // a Windows path
    const w = await refusal(writeDataset('a\\b', input));
    expect(w.message).toMatch(/^writeDataset: dir a\\b: '\\' is not a folder separator/);
  });
  it('synthesize: its option keys, not data synth\'s flags', async () => {
    const out = join(root, 'synth');
    const cases: [Parameters<typeof synthesize>[0], string][] = [
      [{ out, symbols: 0, bars: 10, timeframe: '1h', seed: 1 }, 'synthesize: symbols must be an integer 1..1000 (got 0)'],
      [{ out, symbols: 1, bars: 1, timeframe: '1h', seed: 1 }, 'synthesize: bars must be an integer ≥ 2 (got 1)'],
      [{ out, symbols: 1, bars: 10, timeframe: '1h', seed: 1.5 }, 'synthesize: seed must be an integer (got 1.5)'],
      [{ out, symbols: 1, bars: 10, timeframe: '1h', seed: 1, crashSize: 2 }, 'synthesize: crashSize must be < 1 (got 2)'],
      [{ out, symbols: 1, bars: 10, timeframe: '1h', seed: 1, basisBps: 5000 }, 'synthesize: basisBps must be at most 1000'],
      [{ out, symbols: 1, bars: 10, timeframe: '1h', seed: 1, vols: [50] }, 'synthesize: vols: volatility 50 must be in (0, 20)'],
      [{ out, symbols: 1, bars: 10, timeframe: '1h', seed: 1, drift: 20 }, 'synthesize: drift must be within ±10'],
      [{ out, symbols: 1, bars: 10, seed: 1 } as never, "synthesize: timeframe must be a timeframe such as '1m', '1h' or '1d' (got nothing)"],
      [{ symbols: 1, bars: 10, timeframe: '1h', seed: 1 } as never, 'synthesize: out must name the dataset folder to write (got nothing)'],
    ];
    for (const [o, msg] of cases) {
      const e = await refusal(synthesize(o));
      expect(e.exitCode).toBe(64);
      expect(e.message).toContain(msg);
      expect(e.message).not.toMatch(/--|data synth/);
    }
    expect(existsSync(out)).toBe(false);
    const d = userFolder('synth-user');
    const e = await refusal(synthesize({ out: d, symbols: 1, bars: 10, timeframe: '1h', seed: 1 }));
    expect(e.message).toMatch(/^synthesize: out .*synth-user is not empty .*or set force: true to write into it/);
    // a dataset of imported data is not replaced without force, said in the library's words
    const imported = await importedDataset('imported');
    const i = await refusal(synthesize({ out: imported, symbols: 1, bars: 10, timeframe: '1h', seed: 1 }));
    expect(i.message).toMatch(/^synthesize: .*imported holds the dataset 'imported' of imported or downloaded data, whose files this write would replace \(its other series left unlisted beside the new manifest\); choose another out, or set force: true to replace them$/);
  });
  it('writeReport into a folder of the user\'s offers its own force', async () => {
    const d = userFolder('report');
    const e = await refusal(writeReport({ dir: d, results: [], manifest: {} as never }));
    expect(e.message).toMatch(/^writeReport: dir .*report is not empty .*or set force: true to write into it/);
    expect(e.message).not.toMatch(/--/);
  });
});

describe('the slicing calls name themselves and what they were given', () => {
  it('sliceByTime of a window without bars names the times and the data\'s; sliceMarketData its indexes; selectSymbols a near name', async () => {
    const d = join(root, 'slices');
    await writeDataset(d, input);
    const md = await loadDataset(d);
    // it said "bar range [3, 3) is not inside [0, 3) or is empty": indexes the caller never gave
    const late = (() => { try { sliceByTime(md, 10 * H, 20 * H); return null; } catch (e) { return e as UserError; } })();
    expect(late).toBeInstanceOf(UserError);
    expect(late!.exitCode).toBe(78);
    expect(late!.message).toBe('sliceByTime: no bar of dataset slices opens in [1970-01-01T10:00:00.000Z (36000000), 1970-01-01T20:00:00.000Z (72000000)); its bars open from 1970-01-01T00:00:00.000Z (0) to 1970-01-01T02:00:00.000Z (7200000)');
    expect(() => sliceByTime(md, Date.parse('not a date'), H)).toThrow('sliceByTime: fromMs must be a time in ms UTC, got NaN');
    expect(() => sliceMarketData(md, 2, 1)).toThrow('sliceMarketData: bar range [2, 1) is not inside [0, 3) or is empty');
    expect(() => selectSymbols(md, ['BTCUSD'])).toThrow("selectSymbols: symbol BTCUSD (did you mean 'BTCUSDT'?) is not in dataset slices (symbols: BTCUSDT)");
    expect(sliceByTime(md, H, 3 * H).time.length).toBe(2);
  });
});

describe("writeReport's params", () => {
  it('results without the manifest (or a manifest without results) throws naming the param and where it comes from, and makes no folder', async () => {
    // "Cannot read properties of undefined (reading 'config')" from inside the report
    const d = join(root, 'no-manifest');
    const call = (p: Record<string, unknown>) => writeReport({ dir: d, ...p } as never).then(() => null, (e: unknown) => e as Error);
    expect((await call({ results: [] }))?.message).toBe("writeReport: manifest must be the run folder's manifest (loadRunFolder(dir).manifest), got nothing");
    expect((await call({ manifest: {} }))?.message).toBe('writeReport: results must be an array of run results (loadRunFolder(dir).results), got nothing');
    expect((await writeReport({ results: [], manifest: {} } as never).then(() => null, (e: unknown) => e as Error))?.message).toBe('writeReport: dir must be the run folder to write into, got nothing');
    expect(existsSync(d)).toBe(false);
    // no params object at all ("Cannot read properties of undefined (reading 'formats')")
    const none = await (writeReport as (p?: unknown) => Promise<string[]>)().then(() => null, (e: unknown) => e as Error);
    expect(none?.message).toBe('writeReport: params must be one object { dir, results, manifest } (loadRunFolder(dir) gives results and manifest), got nothing');
    // a manifest of another shape, or its promise ("Cannot read properties of undefined (reading 'total')")
    expect((await call({ results: [], manifest: {} }))?.message).toMatch(/^writeReport: manifest must be the run folder's manifest \(loadRunFolder\(dir\)\.manifest\), got not a run manifest \(schemaVersion: /);
    expect((await call({ results: [], manifest: Promise.resolve({}) }))?.message).toBe("writeReport: manifest must be the run folder's manifest (loadRunFolder(dir).manifest), got a Promise (await it)");
    expect(existsSync(d)).toBe(false);
  });
});

describe('writeDataset writes what a load can read, and never half of an imported dataset', () => {
  it('a series no load could read is refused (65) naming the file, and nothing is written', async () => {
    const bad = structuredClone(input);
    bad.series[0]!.columns.low = [1, 3, 1];
    bad.series[0]!.columns.high = [1, 3, 1];
    const d = join(root, 'bad-ohlc');
    const e = await refusal(writeDataset(d, { ...bad, series: [{ ...bad.series[0]!, columns: { ...bad.series[0]!.columns, open: [1, 1, 1], close: [1, 2, 1] } }] }));
    expect(e.exitCode).toBe(65);
    expect(e.message).toMatch(/^writeDataset: dataset .*bad-ohlc: 1 problem in 1 file; nothing was written$/);
    expect(e.details.join('\n')).toMatch(/BTCUSDT-candles-1h\.arrow/);
    expect(existsSync(d)).toBe(false);
    // unsorted times, a series given twice
    const unsorted = { ...input, series: [{ ...input.series[0]!, time: [0, 2 * H, H] }] };
    expect((await refusal(writeDataset(join(root, 'unsorted'), unsorted))).exitCode).toBe(65);
    const twice = await refusal(writeDataset(join(root, 'twice'), { ...input, series: [input.series[0]!, input.series[0]!] }));
    expect(twice.exitCode).toBe(65);
    expect(twice.message).toBe('writeDataset: series[1] (BTCUSDT candles 1h) is the series of series[0] again (both are BTCUSDT-candles-1h.arrow); give each series once');
    const empty = await refusal(writeDataset(join(root, 'empty'), { ...input, series: [{ ...input.series[0]!, time: [], columns: { open: [], high: [], low: [], close: [], volume: [] } }] }));
    expect(empty.message).toBe('writeDataset: series[0] (BTCUSDT candles 1h) has no rows; a dataset holds no empty series: leave it out');
    expect(existsSync(join(root, 'empty'))).toBe(false);
    expect(existsSync(join(root, 'unsorted'))).toBe(false);
    expect(existsSync(join(root, 'twice'))).toBe(false);
  });
  it("a JavaScript caller's series of another shape is refused (65) naming the series and the key, and nothing is written", async () => {
    // a CSV read column by column, its `timestamp` among the columns and no `time`, failed with
    // "Cannot read properties of undefined (reading 'length')" and a stack trace
    const { time, columns } = input.series[0]!;
    const csvLike = { symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', columns: { timestamp: time, ...columns } };
    const shapes: [string, unknown, string][] = [
      ['no-time', [csvLike], "writeDataset: series[0] (BTCUSDT candles 1h).time must be the rows' times (ms UTC) as an array or a Float64Array, got nothing; its columns hold 'timestamp': give those values as time"],
      ['no-columns', [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time }], 'writeDataset: series[0] (BTCUSDT candles 1h).columns must be an object of arrays by column name (open, high, low, close, volume), got nothing'],
      ['no-symbol', [{ ...input.series[0]!, symbol: undefined }], "writeDataset: series[0].symbol must be the symbol's name (e.g. 'BTCUSDT'), got nothing"],
      // a misspelt column: 'clsoe' gave "writeSeriesFile(…): missing columns close" (a plain Error, no exit code), and a
      // funding series' misspelt optional 'prcie' was dropped in silence (the events priced at the candles instead)
      ['misspelt', [{ ...input.series[0]!, columns: { open: columns.open, high: columns.high, low: columns.low, clsoe: columns.close, volume: columns.volume } }],
        "writeDataset: series[0] (BTCUSDT candles 1h).columns: no column 'clsoe' (did you mean 'close'?); lacks 'close' (candles columns: open, high, low, close, volume)"],
      ['funding-misspelt', [input.series[0]!, { symbol: 'BTCUSDT', kind: 'funding', time: [time[0]!], columns: { rate: [0.0001], prcie: [100] } }],
        "writeDataset: series[1] (BTCUSDT funding).columns: no column 'prcie' (did you mean 'price'?) (funding columns: rate, price (optional))"],
      ['uneven', [{ ...input.series[0]!, columns: { ...columns, close: [...columns.close].slice(1) } }],
        `writeDataset: series[0] (BTCUSDT candles 1h).columns: close has ${time.length - 1} values for ${time.length} timestamps (every column one value per timestamp)`],
      ['not-object', [input.series[0]!, 'BTCUSDT'], 'writeDataset: series[1] must be an object { symbol, kind, timeframe?, time, columns }, got "BTCUSDT"'],
      ['not-array', input.series[0]!, 'writeDataset: series must be an array of { symbol, kind, timeframe?, time, columns }, got {"symbol":"BTCUSDT","kind":"candles","timeframe":"1h","time…'],
    ];
    for (const [name, series, message] of shapes) {
      const d = join(root, name);
      const e = await refusal(writeDataset(d, { ...input, series } as never));
      expect(e.exitCode, name).toBe(65);
      expect(e.message, name).toBe(message);
      expect(existsSync(d), name).toBe(false);
    }
  });
  it('over an imported dataset only with force; over its own dataset the old series go', async () => {
    const imported = await importedDataset('imported2');
    const before = readdirSync(imported).sort();
    const e = await refusal(writeDataset(imported, input));
    expect(e.exitCode).toBe(64);
    expect(e.message).toMatch(/^writeDataset: dir .*imported2 holds the dataset 'imported2' of imported or downloaded data, .*; choose another folder, or pass \{ force: true \} as its third argument to replace them$/);
    expect(readdirSync(imported).sort()).toEqual(before);
    // its own dataset (written whole): replaced whole, the series it no longer holds removed
    const own = join(root, 'own');
    const eth = { ...input.series[0]!, symbol: 'ETHUSDT' };
    await writeDataset(own, { ...input, series: [input.series[0]!, eth] });
    expect(readdirSync(own).filter((f) => f.endsWith('.arrow')).sort()).toEqual(['BTCUSDT-candles-1h.arrow', 'ETHUSDT-candles-1h.arrow']);
    await writeDataset(own, { ...input, series: [eth] });
    expect(readdirSync(own).filter((f) => f.endsWith('.arrow'))).toEqual(['ETHUSDT-candles-1h.arrow']);
    // a series imported into it since makes it partly imported: a whole-folder write would leave that series unlisted
    const csv = join(root, 'more.csv');
    writeFileSync(csv, `timestamp,open,high,low,close,volume\n${[0, 1, 2].map((i) => `${1747872000000 + i * H},10,11,9,10.5,1`).join('\n')}\n`);
    const imp = await runCli(['import', csv, '--format', 'csv', '--kind', 'candles', '--symbol', 'XRPUSDT', '--timeframe', '1h', '--out', own], root);
    expect(imp.code, imp.stderr).toBe(0);
    const e2 = await refusal(writeDataset(own, { ...input, series: [eth] }));
    expect(e2.message).toMatch(/^writeDataset: dir .*own holds the dataset 'own' of imported or downloaded data/);
    const s2 = await refusal(synthesize({ out: own, symbols: 1, bars: 10, timeframe: '1h', seed: 1 }));
    expect(s2.message).toMatch(/^synthesize: .*own holds the dataset 'own' of imported or downloaded data/);
  });
});
