/**
 * The funding interval an import lists (--timeframe, or the one the dataset already lists) must agree with
 * the events: settlements finer than it are refused (65, naming the file, the row and the interval to pass),
 * as a load would otherwise take the coarser interval and tolerate that much missing funding at the ends.
 * A coarser or irregular schedule is the events' to say (fundingStepMs); a dataset already listing a coarser
 * interval than its events (written before the check) loads with a warning and its events' interval.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { feedCli } from './fixtures/feed/cli.js';
import { fundingFinerThan } from '../src/feed/timeframe.js';
import { loadDataset } from '../src/feed/load.js';
import { inspectDataset } from '../src/feed/inspect.js';

const root = mkdtempSync(join(tmpdir(), 'ml-fund-iv-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const H = 3_600_000;
const T = Date.UTC(2025, 4, 22);
const write = (name: string, text: string): string => {
  const p = join(root, `${++n}-${name}`);
  writeFileSync(p, text);
  return p;
};
const outDir = () => join(root, `ds-${++n}`);
/** a funding CSV: events at T + k·stepH hours (+1 ms of Binance's jitter) */
const fundingCsv = (count: number, stepH: number, from = T) => `timestamp,rate\n${Array.from({ length: count }, (_, k) => `${from + k * stepH * H + 1},0.0000125`).join('\n')}\n`;
const listed = (ds: string) => (JSON.parse(readFileSync(join(ds, 'manifest.json'), 'utf8')) as { files: { kind: string; timeframe?: string }[] }).files.find((f) => f.kind === 'funding')?.timeframe;

describe('funding import: the interval named for the events', () => {
  it('refuses hourly settlements imported as --timeframe 8h (CSV), naming the file, the line, the interval seen and the flag to pass; nothing written', async () => {
    const f = write('hourly.csv', fundingCsv(200, 1));
    const out = outDir();
    const r = await feedCli(['import', 'csv', f, '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '8h', '--out', out]);
    expect(r.code).toBe(65);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(`${f}: line 3: the funding events settle every 1h`);
    expect(r.stderr).toMatch(/finer than 8h \(--timeframe\).*pass --timeframe 1h; nothing was imported/);
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    const ok = await feedCli(['import', 'csv', f, '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(listed(out)).toBe('1h');
  });

  it('takes a coarser --timeframe (stricter coverage) and an 8h schedule with a few 4h steps, refuses one that turned 4h', async () => {
    const out = outDir();
    expect((await feedCli(['import', 'csv', write('8h.csv', fundingCsv(90, 8)), '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out])).code).toBe(0);
    // 8h, then 4h for 2 of 40 steps: 8h
    const few = [...Array.from({ length: 38 }, (_, k) => T + k * 8 * H), T + 37 * 8 * H + 4 * H, T + 38 * 8 * H];
    const fewOut = outDir();
    const a = await feedCli(['import', 'csv', write('few.csv', `timestamp,rate\n${few.map((t) => `${t},0.0001`).join('\n')}\n`), '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '8h', '--out', fewOut]);
    expect(a.code, a.stderr).toBe(0);
    // 8h for 20 events, then 4h for 20: 4h (as a load reads it)
    const turned = [...Array.from({ length: 20 }, (_, k) => T + k * 8 * H), ...Array.from({ length: 20 }, (_, k) => T + 19 * 8 * H + (k + 1) * 4 * H)];
    const b = await feedCli(['import', 'csv', write('turned.csv', `timestamp,rate\n${turned.map((t) => `${t},0.0001`).join('\n')}\n`), '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '8h', '--out', outDir()]);
    expect(b.code).toBe(65);
    expect(b.stderr).toMatch(/line 22: the funding events settle every 4h .*pass --timeframe 4h/);
  });

  it('judges the interval the dataset lists when no --timeframe is given: an append and a --replace of hourly events to an 8h series', async () => {
    const out = outDir();
    expect((await feedCli(['import', 'csv', write('8h.csv', fundingCsv(90, 8)), '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '8h', '--out', out])).code).toBe(0);
    const later = write('later.csv', fundingCsv(48, 1, T + 90 * 8 * H));
    const app = await feedCli(['import', 'csv', later, '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out]);
    expect(app.code).toBe(65);
    expect(app.stderr).toMatch(/BTCUSDT-funding\.arrow row 92: the funding events settle every 1h .*finer than 8h \(the interval manifest\.json lists for BTCUSDT-funding\.arrow\).*pass --timeframe 1h; nothing was written/);
    const rep = await feedCli(['import', 'csv', later, '--kind', 'funding', '--symbol', 'BTCUSDT', '--replace', '--out', out]);
    expect(rep.code).toBe(65);
    expect(rep.stderr).toContain(`${later}: line 3: the funding events settle every 1h`);
    expect(listed(out)).toBe('8h');
    const fixed = await feedCli(['import', 'csv', later, '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out]);
    expect(fixed.code, fixed.stderr).toBe(0);
    expect(listed(out)).toBe('1h');
  });

  it('checks --timeframe for funding in the other formats too (Bybit, hourly)', async () => {
    const list = Array.from({ length: 50 }, (_, k) => ({ symbol: 'BTCUSDT', fundingRate: '0.0000125', fundingRateTimestamp: String(T + k * H) }));
    const f = write('bybit-funding.json', JSON.stringify({ retCode: 0, result: { category: 'linear', list } }));
    const r = await feedCli(['import', f, '--format', 'bybit', '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '8h', '--out', outDir()]);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/bybit-funding\.json row 2: the funding events settle every 1h .*finer than 8h \(--timeframe\).*pass --timeframe 1h/);
  });

  it('an interval a format read from its own events is not held against the rest: a venue that went 1h → 8h appends, or imports as two files, listing the events\' 1h', async () => {
    const bybit = (name: string, count: number, stepH: number, from: number) =>
      write(name, JSON.stringify({ retCode: 0, result: { category: 'linear', list: Array.from({ length: count }, (_, k) => ({ symbol: 'BTCUSDT', fundingRate: '0.0000125', fundingRateTimestamp: String(from + k * stepH * H) })).reverse() } }));
    const h1 = bybit('h1.json', 100, 1, T);
    const h8 = bybit('h8.json', 30, 8, T + 100 * H);
    const out = outDir();
    expect((await feedCli(['import', h1, '--format', 'bybit', '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out])).code).toBe(0);
    const app = await feedCli(['import', h8, '--format', 'bybit', '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out]);
    // it was refused naming a --timeframe nobody gave ("finer than 8h (--timeframe)")
    expect(app.code, app.stderr).toBe(0);
    expect(listed(out)).toBe('1h');
    const both = outDir();
    const two = await feedCli(['import', h8, h1, '--format', 'bybit', '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', both]);
    expect(two.code, two.stderr).toBe(0);
    expect(listed(both)).toBe('1h');
    // named by the user, it is still held to the events
    const named = await feedCli(['import', h8, h1, '--format', 'bybit', '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '8h', '--out', outDir()]);
    expect(named.code).toBe(65);
    expect(named.stderr).toMatch(/finer than 8h \(--timeframe\)/);
  });

  it('a dataset listing a coarser interval than its events (an import before the check) warns at a load and inspect, and the coverage check takes the events\' interval', async () => {
    const out = outDir();
    const candles = `timestamp,open,high,low,close,volume\n${Array.from({ length: 240 }, (_, k) => `${T + k * H},100,101,99,100,5`).join('\n')}\n`;
    expect((await feedCli(['import', 'csv', write('c.csv', candles), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out])).code).toBe(0);
    expect((await feedCli(['import', 'csv', write('f.csv', fundingCsv(200, 1)), '--kind', 'funding', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out])).code).toBe(0);
    const mf = join(out, 'manifest.json');
    writeFileSync(mf, readFileSync(mf, 'utf8').replace('"timeframe": "1h",\n      "rows": 200', '"timeframe": "8h",\n      "rows": 200'));
    expect(listed(out)).toBe('8h');
    const md = await loadDataset(out);
    const w = md.warnings ?? [];
    expect(w.some((x) => /BTCUSDT-funding\.arrow: row 2: the funding events of BTCUSDT settle every 1h .*finer than the interval 8h manifest\.json lists/.test(x)), w.join('\n')).toBe(true);
    // 40 hourly bars after the last event: beyond one interval (1h) of it, not within 8h
    expect(w.some((x) => /no funding is booked at the 39 bars more than one funding interval \(1h\)/.test(x)), w.join('\n')).toBe(true);
    const s = inspectDataset(out);
    expect(s.warnings.some((x) => /finer than the interval 8h manifest\.json lists/.test(x))).toBe(true);
  });

  it('fundingFinerThan: the events\' interval and first index, jitter rounded; null when the named interval is no coarser', () => {
    const t = [T + 3, T + H + 7, T + 2 * H + 1];
    expect(fundingFinerThan(t, 8 * H)).toEqual({ step: H, index: 1 });
    expect(fundingFinerThan(t, H)).toBeNull();
    expect(fundingFinerThan([T + 1, T + 8 * H], H)).toBeNull();
  });
});
