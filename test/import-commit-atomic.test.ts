/**
 * An import that fails at its last step (manifest.json cannot be replaced: EPERM, a full disk)
 * leaves the dataset folder exactly as it was: no series file placed without its manifest entry,
 * no replaced file lost, no temp file. The failure is injected by mocking node:fs's renameSync for
 * the rename onto manifest.json.
 */
import { afterAll, describe, expect, it, vi } from 'vitest';
import * as realFs from 'node:fs';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const fail = { on: false };
vi.mock('node:fs', async (orig) => {
  const fs = await orig<typeof import('node:fs')>();
  const renameSync = (from: realFs.PathLike, to: realFs.PathLike) => {
    if (fail.on && basename(String(to)) === 'manifest.json') throw Object.assign(new Error(`EPERM: operation not permitted, rename '${String(from)}' -> '${String(to)}'`), { code: 'EPERM', path: String(from), dest: String(to) });
    return fs.renameSync(from, to);
  };
  return { ...fs, renameSync, default: { ...fs, renameSync } };
});

const { feedCli } = await import('./fixtures/feed/cli.js');

const root = mkdtempSync(join(tmpdir(), 'ml-import-atomic-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CANDLES = 'timestamp,open,high,low,close,volume\n1747872000000,109609.6,110146.4,109153.4,109925.4,16028.352\n1747875600000,109925.3,110549.9,109640.3,109892.5,12972.009\n';
const MORE = 'timestamp,open,high,low,close,volume\n1747879200000,109892.5,110977.2,109792.8,110440.8,14969.67\n';
const FUNDING = 'timestamp,rate\n1747872000001,0.0001\n1747900800000,0.0001\n';
const snapshot = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f)).toString('base64')]));

describe('a manifest.json that cannot be replaced', () => {
  it('leaves the dataset as it was: a new series, an appended one, a replaced one, and a format import (64, one line)', async () => {
    const out = join(root, 'ds');
    const f = (name: string, text: string) => { const p = join(root, name); writeFileSync(p, text); return p; };
    expect((await feedCli(['import', 'csv', f('c.csv', CANDLES), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out])).code).toBe(0);
    const before = snapshot(out);
    const ft = join(root, 'ft');
    realFs.mkdirSync(ft);
    writeFileSync(join(ft, 'BTC_USDT_USDT-1h-futures.json'), JSON.stringify([[1747879200000, 109892.5, 110977.2, 109792.8, 110440.8, 14969.67]]));
    const cases = [
      ['import', 'csv', f('f.csv', FUNDING), '--kind', 'funding', '--symbol', 'BTCUSDT', '--out', out],
      ['import', 'csv', f('m.csv', MORE), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out],
      ['import', 'csv', f('m2.csv', MORE), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', out, '--replace'],
      ['import', ft, '--out', out],
    ];
    for (const args of cases) {
      fail.on = true;
      let r;
      try { r = await feedCli(args); } finally { fail.on = false; }
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(64);
      expect(r.stderr.trimEnd().split('\n'), r.stderr).toHaveLength(1);
      expect(r.stderr).toBe(`marginlab: cannot write the dataset ${join(out, 'manifest.json')}: operation not permitted (EPERM); choose a writable folder with --out\n`);
      expect(snapshot(out), args.join(' ')).toEqual(before);
    }
  });
});
