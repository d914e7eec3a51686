/** Synthetic markets: determinism, realised volatility and correlation, crashes, wicks, mark basis, funding. */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/feed/synth.js';
import { loadDataset } from '../src/feed/load.js';
import { importCsv } from '../src/feed/csv.js';
import { openOutDir } from '../src/util/outdir.js';
import { feedCli } from './fixtures/feed/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ml-synth-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
/** every file's bytes; the manifest's `name` (= folder name) is the only field allowed to differ */
const bytes = (dir: string) => readdirSync(dir).sort().map((f) => [
  f,
  f === 'manifest.json' ? readFileSync(join(dir, f), 'utf8').replace(/"name": "[^"]*"/, '"name": ""') : readFileSync(join(dir, f)).toString('base64'),
]);

function logReturns(c: Float64Array): Float64Array {
  const r = new Float64Array(c.length - 1);
  for (let i = 1; i < c.length; i++) r[i - 1] = Math.log(c[i]! / c[i - 1]!);
  return r;
}
const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
const sd = (a: Float64Array) => { const m = mean(a); return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1)); };
const corr = (a: Float64Array, b: Float64Array) => {
  const ma = mean(a), mb = mean(b);
  let s = 0; for (let i = 0; i < a.length; i++) s += (a[i]! - ma) * (b[i]! - mb);
  return s / (a.length - 1) / sd(a) / sd(b);
};

describe('synthesize', () => {
  it('refuses a start whose bars every load would refuse (before 1970, or into the year 3000): nothing written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ml-synth-dates-'));
    try {
      const late = synthesize({ symbols: 1, bars: 10, timeframe: '1h', seed: 1, start: Date.UTC(2999, 11, 31, 20), out: join(root, 'late') });
      await expect(late).rejects.toMatchObject({ exitCode: 64, message: 'synthesize: start 2999-12-31T20:00:00.000Z: its 10 bars would end in the year 3000, which every load refuses (times from 1970 to before the year 3000): give an earlier start, or fewer bars' });
      await expect(synthesize({ symbols: 1, bars: 10, timeframe: '1h', seed: 1, start: -3_600_000, out: join(root, 'early') })).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/would begin before 1970-01-01, .*: give a start from 1970 on$/) });
      await expect(synthesize({ symbols: 1, bars: 99_999_999_999, timeframe: '1w', seed: 1, out: join(root, 'far') })).rejects.toMatchObject({ message: expect.stringContaining('would end after the year 275760') });
      for (const start of [Number.NaN, '2025-01-01']) {
        await expect(synthesize({ symbols: 1, bars: 10, timeframe: '1h', seed: 1, start: start as number, out: join(root, 'nan') })).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/^synthesize: start must be a time in ms UTC \(got /) });
      }
      // the command says it with its flag (64), nothing written
      const cli = await feedCli(['data', 'synth', '--symbols', '1', '--bars', '10', '--timeframe', '1h', '--start', '3001-01-01', '--out', join(root, 'cli')]);
      expect(cli).toMatchObject({ code: 64, stderr: 'marginlab: data synth: --start 3001-01-01T00:00:00.000Z: its 10 bars would end in the year 3001, which every load refuses (times from 1970 to before the year 3000): give an earlier start, or fewer bars\n' });
      expect(readdirSync(root)).toEqual([]);
      // the last hour before the year 3000 is written and loads
      await synthesize({ symbols: 1, bars: 10, timeframe: '1h', seed: 1, start: Date.UTC(2999, 11, 31, 14), out: join(root, 'ok') });
      expect((await loadDataset(join(root, 'ok'))).time.length).toBe(10);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('is deterministic: same seed, same bytes; another seed, other bytes', async () => {
    const o = { symbols: 3, bars: 5000, timeframe: '5m', seed: 7 };
    await synthesize({ ...o, out: join(root, 'a') });
    await synthesize({ ...o, out: join(root, 'b') });
    await synthesize({ ...o, seed: 8, out: join(root, 'c') });
    const a = bytes(join(root, 'a'));
    expect(bytes(join(root, 'b'))).toEqual(a);
    const c = bytes(join(root, 'c'));
    expect(c.find(([f]) => f === 'BTCUSDT-candles-5m.arrow')![1]).not.toBe(a.find(([f]) => f === 'BTCUSDT-candles-5m.arrow')![1]);
  });

  it('realised volatility and correlation match the request (no jumps)', async () => {
    const vols = [0.5, 0.8, 1.2];
    const out = join(root, 'stats');
    await synthesize({ out, symbols: 3, bars: 60_000, timeframe: '1h', seed: 11, vols, correlation: 0.7, crashesPerYear: 0, wicksPerYear: 0 });
    const md = await loadDataset(out);
    const rets = md.columns.map((c) => logReturns(c.close));
    const perYear = Math.sqrt(365 * 24);
    rets.forEach((r, i) => expect(Math.abs(sd(r) * perYear / vols[i]! - 1)).toBeLessThan(0.03));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect(Math.abs(corr(rets[i]!, rets[j]!) - 0.7)).toBeLessThan(0.02);
  });

  it('crashes hit every symbol in the same bar; wicks hit one symbol and leave the close alone', async () => {
    const out = join(root, 'jumps');
    await synthesize({ out, symbols: 4, bars: 20_000, timeframe: '1h', seed: 3, vols: [0.2], crashesPerYear: 40, crashSize: 0.1, wicksPerYear: 0 });
    const md = await loadDataset(out);
    const rets = md.columns.map((c) => logReturns(c.close));
    let together = 0, alone = 0;
    for (let k = 0; k < rets[0]!.length; k++) {
      const big = rets.filter((r) => r[k]! < -0.03).length; // 0.2 vol per hour sd ≈ 0.002: -3 % is a jump
      if (big === 4) together++;
      else if (big > 0) alone++;
    }
    expect(together).toBeGreaterThan(40); // ≈ 91 expected
    expect(alone).toBe(0);

    const out2 = join(root, 'wicks');
    await synthesize({ out: out2, symbols: 4, bars: 20_000, timeframe: '1h', seed: 4, vols: [0.2], crashesPerYear: 0, wicksPerYear: 50, wickSize: 0.05 });
    const w = await loadDataset(out2);
    let wickBars = 0, shared = 0, bigClose = 0;
    for (let k = 0; k < w.time.length; k++) {
      const deep = w.columns.filter((c) => c.low[k]! / Math.min(c.open[k]!, c.close[k]!) < 0.985 || c.high[k]! / Math.max(c.open[k]!, c.close[k]!) > 1.015);
      if (deep.length) wickBars++;
      if (deep.length > 1) shared++;
      for (const c of w.columns) if (k > 0 && Math.abs(Math.log(c.close[k]! / c.close[k - 1]!)) > 0.03) bigClose++;
    }
    expect(wickBars).toBeGreaterThan(150); // ≈ 4 × 114 × P(depth > 1.5 %)
    expect(shared).toBeLessThan(wickBars * 0.05);
    expect(bigClose).toBe(0);
  });

  it('mark = trade × (1 + small mean-reverting basis); funding every 8 h around its mean; candles valid', async () => {
    const out = join(root, 'mark');
    await synthesize({ out, symbols: 2, bars: 30_000, timeframe: '15m', seed: 5, basisBps: 5, fundingMean: 0.0001 });
    const md = await loadDataset(out); // full validation passes
    const c = md.columns[0]!;
    expect(c.markAtBarTimeframe).toBe(true);
    const basis = new Float64Array(md.time.length);
    for (let i = 0; i < basis.length; i++) basis[i] = c.markClose[i]! / c.close[i]! - 1;
    expect(Math.abs(mean(basis))).toBeLessThan(0.0002);
    expect(sd(basis)).toBeGreaterThan(0.0003);
    expect(sd(basis)).toBeLessThan(0.0008);
    expect(Math.max(...basis.map(Math.abs))).toBeLessThan(0.005);
    // funding: one event per 8 h (30,000 × 15 min = 312.5 days → 937 or 938 events), placed on their bar exactly
    expect(c.fundingTime.length).toBeGreaterThanOrEqual(937);
    for (let i = 1; i < c.fundingTime.length; i++) expect(c.fundingTime[i]! - c.fundingTime[i - 1]!).toBe(8 * 3_600_000);
    for (let i = 0; i < md.time.length; i++) {
      for (let e = c.fundingStart[i]!; e < c.fundingStart[i + 1]!; e++) {
        expect(c.fundingTime[e]).toBe(md.time[i]);
        expect(c.fundingPrice[e]).toBe(c.markOpen[i]);
      }
    }
    expect(Math.abs(mean(c.fundingRate) - 0.0001)).toBeLessThan(0.00003);
  });

  it('refuses to write over a dataset of imported data (64, nothing changed) unless force; replaces its own synthetic dataset', async () => {
    const dir = join(root, 'imported');
    const csv = join(root, 'btc.csv');
    writeFileSync(csv, 'timestamp,open,high,low,close,volume\n' + [0, 1, 2, 3].map((i) => `${Date.UTC(2024, 0, 1, i)},100,101,99,100,5`).join('\n') + '\n');
    // as `marginlab import` does: the folder is opened (marked as marginlab's dataset) and locked while imported into
    const out = openOutDir(dir, { kind: 'dataset', accept: (_d, entries) => entries.includes('manifest.json'), forceFlag: false });
    await importCsv({ file: csv, kind: 'candles', symbol: 'BTCUSDT', timeframe: '1h', out: dir });
    out.release();
    const before = bytes(dir);
    const o = { symbols: 1, bars: 10, timeframe: '1h', seed: 1, out: dir };
    await expect(synthesize(o)).rejects.toMatchObject({ exitCode: 64, message: expect.stringMatching(/holds the dataset 'imported' of imported or downloaded data.*set force: true/) });
    expect(bytes(dir)).toEqual(before);
    await synthesize({ ...o, force: true });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).generator.kind).toBe('synth');
    // a synthetic dataset is synth's to regenerate
    await synthesize({ ...o, seed: 2 });
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).generator.seed).toBe(2);
  });

  it('a folder whose manifest.json is not a dataset\'s (a web app\'s) is a foreign folder, not "the dataset of imported data" (64, nothing changed)', async () => {
    const dir = join(root, 'webapp');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'manifest.json'), '{"name":"my-app","short_name":"x"}');
    writeFileSync(join(dir, 'index.html'), '<html>');
    const before = bytes(dir);
    const err = await synthesize({ symbols: 1, bars: 10, timeframe: '1h', seed: 1, out: dir }).then(() => null, (e: unknown) => e);
    expect(err).toMatchObject({ exitCode: 64, message: expect.stringContaining('is not empty and was not written by marginlab (2 entries, e.g. index.html, manifest.json)') });
    expect((err as Error).message).not.toContain('holds the dataset');
    // what force would replace of the user's is said before it is added (in the library's words: synthesize's own option)
    expect((err as Error).message).toContain('set force: true to write into it (only the files marginlab writes are replaced, nothing else is touched; it would replace your manifest.json, a name marginlab writes there)');
    expect(bytes(dir)).toEqual(before);
  });

  it('rejects bad options with a usage error (64)', async () => {
    await expect(synthesize({ out: join(root, 'x'), symbols: 0, bars: 10, timeframe: '1m', seed: 1 })).rejects.toMatchObject({ exitCode: 64 });
    await expect(synthesize({ out: join(root, 'x'), symbols: 1, bars: 10, timeframe: '1q', seed: 1 })).rejects.toMatchObject({ exitCode: 64 });
    await expect(synthesize({ out: join(root, 'x'), symbols: 1, bars: 10, timeframe: '1m', seed: 1, correlation: 1 })).rejects.toMatchObject({ exitCode: 64 });
  });

  it('refuses options whose dataset every load would refuse or warn about, naming the option (64, nothing written)', async () => {
    const base = { out: join(root, 'range'), symbols: 2, bars: 200, timeframe: '1h', seed: 1 };
    const cases: [Partial<Parameters<typeof synthesize>[0]>, string][] = [
      // a basis sd of 200 % writes mark candles below zero
      [{ basisBps: 20_000 }, 'synthesize: basisBps must be at most 1000'],
      [{ fundingMean: 0.01 }, 'fundingMean must be within ±0.001'],
      [{ fundingMean: -0.02 }, 'fundingMean must be within ±0.001'],
      [{ fundingMean: Number.NaN }, 'fundingMean must be within ±0.001'],
      [{ fundingVol: 0.1 }, 'fundingVol must be at most 0.00148'],
      // each within its bound, together a median |rate| the loader reads as percentages
      [{ fundingMean: 0.0009, fundingVol: 0.0005 }, 'puts the median |funding rate| above 0.001 a settlement'],
      [{ drift: 1e6 }, 'drift must be within ±10'],
      [{ wickSize: -0.1 }, 'wickSize must be a finite number ≥ 0'],
      [{ markWickFactor: 2 }, 'markWickFactor must be in [0, 1]'],
      [{ basisHalfLifeBars: 0 }, 'basisHalfLifeBars must be a finite number > 0'],
      [{ fundingIntervalHours: 5 }, 'fundingIntervalHours must be 1, 2, 3, 4, 6, 8, 12 or 24'],
      // a volatility that carries a price to 0 within the bars asked for
      [{ vols: [19.9], bars: 20_000, timeframe: '1d' }, "price left 1e-12 … 1e15"],
      // crashes that carry it there name their own flags (it said only "lower --vol or --drift")
      [{ crashesPerYear: 1e12, bars: 1000 }, 'lower crashesPerYear or crashSize ('],
      // a drift that carries it past 1e15 despite the crashes drawn on the way: a crash only drops a price, so not blamed
      [{ drift: 10, bars: 400_000, timeframe: '1h' }, "): lower vols or drift, or write fewer bars"],
    ];
    for (const [o, msg] of cases) {
      const err = await synthesize({ ...base, ...o }).then(() => null, (e: unknown) => e as { exitCode?: number; message: string });
      expect(err, JSON.stringify(o)).toMatchObject({ exitCode: 64 });
      expect(err!.message).toContain(msg);
    }
    expect(existsSync(base.out)).toBe(false);
    // the edges themselves are valid datasets
    await synthesize({ ...base, basisBps: 1000, fundingMean: -0.0009 });
    await expect(loadDataset(base.out)).resolves.toBeTruthy();
  });
});
