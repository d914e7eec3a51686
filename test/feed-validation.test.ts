/**
 * Each validation failure of the load boundary: exit code and message naming file, row and value.
 * Every case runs through loadDataset (the UserError's exit code and text, exactly what the CLI
 * prints); the cases marked `cli` also run through `marginlab data validate` as a subprocess.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// unchecked: these tests build datasets the loader must refuse (writeDataset checks what it writes)
import { writeDatasetUnchecked as writeDataset, type SeriesInput } from '../src/feed/write.js';
import { loadDataset } from '../src/feed/load.js';
import { UserError } from '../src/errors.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const BIN = CLI_BIN;
const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

function candles(n: number, mutate?: (c: { time: number[]; open: number[]; high: number[]; low: number[]; close: number[]; volume: number[] }) => void, symbol = 'BTCUSDT'): SeriesInput {
  const c = { time: [] as number[], open: [] as number[], high: [] as number[], low: [] as number[], close: [] as number[], volume: [] as number[] };
  for (let i = 0; i < n; i++) {
    c.time.push(T0 + i * H); c.open.push(100 + i); c.high.push(102 + i); c.low.push(99 + i); c.close.push(101 + i); c.volume.push(5);
  }
  mutate?.(c);
  return { symbol, kind: 'candles', timeframe: '1h', time: c.time, columns: { open: c.open, high: c.high, low: c.low, close: c.close, volume: c.volume } };
}

const root = mkdtempSync(join(tmpdir(), 'ml-feed-val-'));
const results = new Map<string, { code: number; stdout: string; stderr: string }>();

interface Case { name: string; build: (dir: string) => Promise<void>; args?: string[]; cli?: boolean }
const cases: Case[] = [
  { name: 'ok', cli: true, build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5)] }).then(() => undefined) },
  { name: 'duplicate', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.time[3] = c.time[2]!; })] }).then(() => undefined) },
  { name: 'order', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.time[3] = c.time[1]! - H; })] }).then(() => undefined) },
  { name: 'nonpositive', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.open[1] = -1; })] }).then(() => undefined) },
  { name: 'nan', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.close[2] = NaN; })] }).then(() => undefined) },
  { name: 'infinite', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.high[2] = Infinity; })] }).then(() => undefined) },
  { name: 'low', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.low[4] = 104.5; })] }).then(() => undefined) },
  { name: 'high', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.high[0] = 100.5; })] }).then(() => undefined) },
  { name: 'volume', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { c.volume[1] = -5; })] }).then(() => undefined) },
  { name: 'rate', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5), { symbol: 'BTCUSDT', kind: 'funding', time: [T0, T0 + 8 * H], columns: { rate: [0.0001, 1.5] } }] }).then(() => undefined) },
  { name: 'ratenan', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5), { symbol: 'BTCUSDT', kind: 'funding', time: [T0, T0 + 8 * H], columns: { rate: [NaN, 0.0001] } }] }).then(() => undefined) },
  { name: 'gap', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(6, (c) => { for (let i = 3; i < 6; i++) c.time[i] = c.time[i]! + 2 * H; })] }).then(() => undefined) },
  { name: 'gapwarn', cli: true, args: ['--gaps', 'warn'], build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(6, (c) => { for (let i = 3; i < 6; i++) c.time[i] = c.time[i]! + 2 * H; })] }).then(() => undefined) },
  { name: 'spacing', build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5, (c) => { for (let i = 2; i < 5; i++) c.time[i] = c.time[i]! + 60_000; })] }).then(() => undefined) },
  {
    name: 'many',
    cli: true,
    build: (d) => writeDataset(d, { venue: 'v', timeframe: '1h', series: [
      candles(5, (c) => { c.open[1] = 0; c.volume[3] = -1; }),
      candles(5, (c) => { c.time[2] = c.time[1]!; }, 'ETHUSDT'),
    ] }).then(() => undefined),
  },
  // 30m candles behind an entry that says 1h (a manifest edited by hand), and 2h candles behind one that says 1h
  { name: 'finertf', build: async (d) => { await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(300, (c) => { c.time = c.time.map((_, i) => T0 + i * H / 2); })] }); } },
  { name: 'coarsertf', cli: true, args: ['--gaps', 'warn'], build: async (d) => { await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(300, (c) => { c.time = c.time.map((_, i) => T0 + i * 2 * H); })] }); } },
  // a 1h series with a one-bar gap after every other bar: more 2h steps than 1h ones, yet gaps of its timeframe (2h does not fit its 1h steps)
  { name: 'gappy', cli: true, args: ['--gaps', 'warn'], build: async (d) => { await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(41, (c) => { c.time = c.time.map((_, i) => T0 + (i + Math.floor(i / 2)) * H); })] }); } },
  { name: 'tampered', build: async (d) => { await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5)] }); appendFileSync(join(d, 'BTCUSDT-candles-1h.arrow'), Buffer.from([0])); } },
  { name: 'missingfile', build: async (d) => { await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5)] }); unlinkSync(join(d, 'BTCUSDT-candles-1h.arrow')); } },
  // a manifest saved by an editor that writes a byte-order mark (Windows Notepad): still the dataset
  { name: 'bom', cli: true, build: async (d) => { await writeDataset(d, { venue: 'v', timeframe: '1h', series: [candles(5)] }); writeFileSync(join(d, 'manifest.json'), `\uFEFF${readFileSync(join(d, 'manifest.json'), 'utf8')}`); writeFileSync(join(d, '.marginlab.json'), '{"tool":"marginlab","kind":"dataset","entries":[]}'); } }, // (the marker as an import leaves it)
  { name: 'badjson2', build: async (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, 'manifest.json'), '{\n  "format": "marginlab-dataset",\n  "version": 1\n  "name": "x"\n}\n'); } },
  { name: 'badjson', build: async (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, 'manifest.json'), '{"format": "marginlab-dataset", '); } },
  { name: 'badmanifest', cli: true, build: async (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, 'manifest.json'), JSON.stringify({ format: 'marginlab-dataset', version: 1, name: 'x', venue: 'v', timeframe: '7q', symbols: [], files: [] })); } },
  { name: 'nomanifest', build: async (d) => { mkdirSync(d, { recursive: true }); } },
  { name: 'nofolder', cli: true, build: async () => undefined },
];

/** in-process: what the CLI would print (message + details on stderr) and its exit code */
async function inProcess(c: Case): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const md = await loadDataset(join(root, c.name), { gaps: c.args?.includes('warn') ? 'warn' : 'error' });
    return {
      code: 0,
      stdout: `ok: ${md.dataset} ${md.timeframe}: ${md.time.length} bars × ${md.symbols.length} symbol${md.symbols.length === 1 ? '' : 's'}`,
      stderr: (md.warnings ?? []).map((w) => `marginlab: warning: ${w}\n`).join(''),
    };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { code: e.exitCode, stdout: '', stderr: [`marginlab: ${e.message}`, ...e.details.map((d) => `  ${d}`)].join('\n') };
  }
}

const viaCli = new Map<string, { code: number; stdout: string; stderr: string }>();
beforeAll(async () => {
  for (const c of cases) await c.build(join(root, c.name));
  for (const c of cases) results.set(c.name, await inProcess(c));
  const cliCases = cases.filter((c) => c.cli);
  const out = await Promise.all(cliCases.map((c) => cli(['data', 'validate', join(root, c.name), ...(c.args ?? [])])));
  cliCases.forEach((c, i) => viaCli.set(c.name, out[i]!));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const r = (name: string) => results.get(name)!;

describe('data validate (load boundary) through the CLI', () => {
  it('accepts a clean dataset (exit 0)', () => {
    // (the dataset holds no funding: its one warning)
    expect(r('ok').stderr).toMatch(/^marginlab: warning: no funding file for BTCUSDT: [^\n]*\n$/);
    expect(r('ok').code).toBe(0);
    expect(r('ok').stdout).toMatch(/ok: ok 1h: 5 bars × 1 symbol/);
    expect(viaCli.get('ok')!.code).toBe(0);
    expect(viaCli.get('ok')!.stderr).toMatch(/^marginlab: warning: no funding file for BTCUSDT: [^\n]*\n$/);
  });
  it('names a duplicate timestamp with file, row and value (65)', () => {
    expect(r('duplicate').code).toBe(65);
    expect(r('duplicate').stderr).toContain('BTCUSDT-candles-1h.arrow row 4: duplicate timestamp 2025-01-01T02:00:00.000Z (1735696800000) (same as row 3)');
    expect(r('duplicate').stderr).toContain('nothing was loaded');
    expect(r('duplicate').stderr).not.toMatch(/at .*\.ts:\d+/);
  });
  it('names an out-of-order timestamp (65)', () => {
    expect(r('order').code).toBe(65);
    expect(r('order').stderr).toMatch(/row 4: timestamp 2025-01-01T00:00:00\.000Z \(1735689600000\) is out of order \(earlier than row 3/);
  });
  it('rejects prices ≤ 0 (65)', () => {
    expect(r('nonpositive').code).toBe(65);
    expect(r('nonpositive').stderr).toContain('BTCUSDT-candles-1h.arrow row 2: open -1 must be a finite price > 0');
  });
  it('rejects NaN and infinite prices (65)', () => {
    expect(r('nan').code).toBe(65);
    expect(r('nan').stderr).toContain('row 3: close NaN (missing) must be a finite price > 0');
    expect(r('infinite').code).toBe(65);
    expect(r('infinite').stderr).toContain('row 3: high Infinity must be a finite price > 0');
  });
  it('rejects low above min(open, close) and high below max(open, close) (65)', () => {
    expect(r('low').code).toBe(65);
    expect(r('low').stderr).toContain('row 5: low 104.5 is above min(open, close) = 104');
    expect(r('high').code).toBe(65);
    expect(r('high').stderr).toContain('row 1: high 100.5 is below max(open, close) = 101');
  });
  it('rejects negative volume (65)', () => {
    expect(r('volume').code).toBe(65);
    expect(r('volume').stderr).toContain('row 2: volume -5 must be a finite number ≥ 0');
  });
  it('rejects implausible and missing funding rates (65)', () => {
    expect(r('rate').code).toBe(65);
    expect(r('rate').stderr).toContain('BTCUSDT-funding.arrow row 2: rate 1.5 is implausible');
    expect(r('ratenan').code).toBe(65);
    expect(r('ratenan').stderr).toContain('BTCUSDT-funding.arrow row 1: rate NaN (missing) is not a finite number');
  });
  it('lists gaps as errors by default (65) and loads with a warning under gaps=warn (0)', () => {
    expect(r('gap').code).toBe(65);
    expect(r('gap').stderr).toContain('BTCUSDT-candles-1h.arrow row 3: gap of 2 bars between 2025-01-01T02:00:00.000Z (1735696800000) and 2025-01-01T05:00:00.000Z (1735707600000)');
    expect(r('gapwarn').code).toBe(0);
    expect(r('gapwarn').stderr).toContain('warning: BTCUSDT-candles-1h.arrow row 3: gap of 2 bars');
    expect(r('gapwarn').stdout).toContain('6 bars');
  });
  it('rejects spacing that is not a whole number of bars (65)', () => {
    expect(r('spacing').code).toBe(65);
    expect(r('spacing').stderr).toContain('row 3: timestamp 2025-01-01T02:01:00.000Z (1735696860000) is 3660000 ms after row 2; expected a multiple of the 3600000 ms timeframe');
  });
  it("a file holding another timeframe's candles than its entry says is one problem naming both spacings, not a spacing error or gap per row (also under gaps=warn)", () => {
    expect(r('finertf').code).toBe(65);
    expect(r('finertf').stderr.trim().split('\n')).toEqual([
      expect.stringContaining('1 problem in 1 file'),
      "  BTCUSDT-candles-1h.arrow: the file's spacing is 30m (299 of 299 steps), not its timeframe 1h in manifest.json: set the entry's timeframe (and name) to 30m, or re-import the series",
    ]);
    expect(r('coarsertf').code).toBe(65);
    expect(r('coarsertf').stderr).toContain("BTCUSDT-candles-1h.arrow: the file's spacing is 2h (299 of 299 steps), not its timeframe 1h in manifest.json");
    expect(r('coarsertf').stderr).not.toContain('gap of');
    // a gappy 1h file whose 2h steps outnumber its 1h ones is not called a 2h file (2h does not fit its 1h steps)
    expect(r('gappy').code).toBe(0);
    expect(r('gappy').stderr.match(/gap of 1 bar/g)).toHaveLength(20);
    expect(r('gappy').stderr).not.toContain('spacing is 2h');
  });
  it("the importers' spacing rule is the loader's: another timeframe only when the data fits it", async () => {
    const { spacingVerdict } = await import('../src/feed/ingest.js');
    const gappy = new Map([[H, 20], [2 * H, 21]]);
    expect(() => spacingVerdict('x', gappy, H, '1h', 41)).not.toThrow();
    expect(() => spacingVerdict('x', new Map([[2 * H, 299]]), H, '1h', 299)).toThrow("x: the data's spacing is 2h (299 of 299 steps), not the timeframe 1h; import it with --timeframe 2h");
    expect(() => spacingVerdict('x', new Map([[H / 2, 290], [H, 9]]), H, '1h', 299)).toThrow(/spacing is 30m \(290 of 299 steps\)/);
  });
  it('reports every problem of every file together', () => {
    const { code, stderr } = r('many');
    expect(code).toBe(65);
    expect(stderr).toContain('4 problems in 2 files');
    expect(stderr).toContain('BTCUSDT-candles-1h.arrow row 2: open 0 must be a finite price > 0');
    expect(stderr).toContain('BTCUSDT-candles-1h.arrow row 4: volume -1 must be a finite number ≥ 0');
    expect(stderr).toContain('ETHUSDT-candles-1h.arrow row 3: duplicate timestamp');
    // ETH is then missing its 02:00 candle: a gap, listed too
    expect(stderr).toContain('ETHUSDT-candles-1h.arrow row 3: gap of 1 bar');
  });
  it('the CLI prints the same lines and exits with the same codes, without stack traces', () => {
    for (const [name, res] of viaCli) {
      const inproc = r(name);
      expect(res.code, name).toBe(inproc.code);
      for (const line of inproc.stderr.split('\n').filter(Boolean)) expect(res.stderr, name).toContain(line.trim());
      expect(res.stderr).not.toMatch(/\n\s+at .*:\d+:\d+/);
    }
    expect(viaCli.get('ok')!.stdout).toMatch(/^ok: ok 1h: 5 bars × 1 symbol \(BTCUSDT\)/);
    expect(viaCli.get('gapwarn')!.code).toBe(0);
  });
  it('detects a file changed after the manifest was written (65)', () => {
    expect(r('tampered').code).toBe(65);
    expect(r('tampered').stderr).toMatch(/BTCUSDT-candles-1h\.arrow: (sha256 [0-9a-f]{64} differs|not a readable Arrow IPC file)/);
  });
  it('exits 66 for a missing folder, manifest or data file', () => {
    expect(r('nofolder').code).toBe(66);
    expect(r('nofolder').stderr).toContain('dataset folder not found');
    expect(r('nomanifest').code).toBe(66);
    expect(r('nomanifest').stderr).toContain('manifest not found');
    expect(r('missingfile').code).toBe(66);
    expect(r('missingfile').stderr).toContain('file listed in the manifest is missing');
  });
  it('exits 65 for a malformed manifest, naming the key', () => {
    expect(r('badjson').code).toBe(65);
    expect(r('badjson').stderr).toContain('not valid JSON');
    // where, as an editor counts: line 4 column 3 is the "name" key after the missing comma
    expect(r('badjson2').code).toBe(65);
    expect(r('badjson2').stderr).toMatch(/manifest\.json: not valid JSON \(.*, line 4 column 3\); fix the file by hand or restore it from a copy \(an import into this folder refuses it too: if it is lost, import your data into a new folder\)$/m);
  });
  it('a manifest beginning with a byte-order mark loads (as the editor that saved it shows it), and synth still takes the folder for a dataset of imported data', async () => {
    expect(r('bom').code).toBe(0);
    expect(r('bom').stdout).toMatch(/^ok: bom 1h: 5 bars/);
    const { synthesize } = await import('../src/feed/synth.js');
    await expect(synthesize({ out: join(root, 'bom'), symbols: 1, bars: 3, timeframe: '1h', seed: 1 })).rejects.toMatchObject({ exitCode: 64 });
    expect(r('badmanifest').code).toBe(65);
    expect(r('badmanifest').stderr).toContain('timeframe: expected a timeframe such as 1m, 1h, 8h, 1d');
    expect(r('badmanifest').stderr).toMatch(/symbols: /);
  });
});

describe('funding rates written as percentages', () => {
  it('are warned about for the real 2025 BTCUSDT rates ×100 (a median of 0.42 % passed the 0.5 % threshold), not for the real rates', async () => {
    const { fundingSanityTexts } = await import('../src/feed/validate.js');
    const { tableFromIPC } = await import('apache-arrow');
    const { readFileSync } = await import('node:fs');
    for (const sym of ['BTCUSDT', 'ETHUSDT', 'XRPUSDT', 'ADAUSDT']) {
      const t = tableFromIPC(readFileSync(new URL(`../data/binance-usdm-2025/${sym}-funding.arrow`, import.meta.url)));
      const time = Float64Array.from(t.getChild('timestamp')!.toArray() as ArrayLike<bigint | number>, Number);
      const rate = Float64Array.from(t.getChild('rate')!.toArray() as ArrayLike<number>, Number);
      expect(fundingSanityTexts('f.arrow', sym, time, rate, rate.length), sym).toEqual([]);
      const pct = rate.map((r) => Number((r * 100).toPrecision(12)));
      expect(fundingSanityTexts('f.arrow', sym, time, pct, pct.length), sym).toEqual([expect.stringMatching(new RegExp(`^f\\.arrow: the median \\|funding rate\\| of ${sym} is 0?\\.?[0-9.]+ % a settlement`))]);
    }
    // a file whose median is small but a tenth of whose rates are exactly 0.01: the venues' default written as a percentage
    const n = 100;
    const time = Float64Array.from({ length: n }, (_, i) => i * 8 * 3_600_000);
    const rate = Float64Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 0.01 : 0.0002));
    expect(fundingSanityTexts('g.arrow', 'FOOUSDT', time, rate, n)).toEqual([expect.stringMatching(/^g\.arrow: 20 of the 100 funding rates of FOOUSDT are exactly 0\.01, the venues' default rate of 0\.01 % written as a percentage/)]);
  });
});
