/**
 * Inputs that exist but cannot be read (no permission, a folder where a file belongs) are the
 * user's: one line naming the path, exit 66 (docs: "missing or unreadable → 66"), never an
 * internal error (70). Permission cases run the CLI as another user (uid 65534) when the tests
 * run as root, since root reads any file.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeDataset } from '../src/feed/write.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const BIN = CLI_BIN;
const FEATHER = resolve(__dirname, 'fixtures', 'import', 'freqtrade', 'plain', 'XRP_USDT_USDT-5m-futures.feather');
const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const root = mkdtempSync(join(tmpdir(), 'ml-input-read-'));
chmodSync(root, 0o777);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** as root, run as nobody, for whom a mode-600 root file is unreadable */
const other = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

function cli(args: string[], asOther = false): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: root, ...(asOther ? other : {}) }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

async function dataset(name: string): Promise<string> {
  const dir = join(root, name);
  const t = Array.from({ length: 4 }, (_, i) => T0 + i * H);
  await writeDataset(dir, { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: t, columns: { open: t.map(() => 100), high: t.map(() => 102), low: t.map(() => 99), close: t.map(() => 101), volume: t.map(() => 5) } }] });
  chmodSync(dir, 0o777);
  return dir;
}

const noInternal = (r: { stderr: string }) => {
  expect(r.stderr).not.toContain('internal error');
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
};

describe('inputs that cannot be read', () => {
  it('a manifest.json that is a folder: data validate and data inspect exit 66 naming it', async () => {
    const dir = await dataset('manifest-folder');
    unlinkSync(join(dir, 'manifest.json'));
    mkdirSync(join(dir, 'manifest.json'));
    for (const cmd of ['validate', 'inspect']) {
      const r = await cli(['data', cmd, dir]);
      expect(r.code).toBe(66);
      expect(r.stderr).toContain(`${join(dir, 'manifest.json')}: is a folder, not a file (EISDIR)`);
      noInternal(r);
    }
  }, 60_000);

  it('an unreadable manifest.json or data file: data validate and data inspect exit 66 naming it', async () => {
    const a = await dataset('manifest-unreadable');
    chmodSync(join(a, 'manifest.json'), 0o600);
    const b = await dataset('file-unreadable');
    chmodSync(join(b, 'BTCUSDT-candles-1h.arrow'), 0o600);
    for (const cmd of ['validate', 'inspect']) {
      const ra = await cli(['data', cmd, a], true);
      expect(ra.code).toBe(66);
      expect(ra.stderr).toContain(`${join(a, 'manifest.json')}: permission denied (EACCES)`);
      noInternal(ra);
      const rb = await cli(['data', cmd, b], true);
      expect(rb.code).toBe(66);
      expect(rb.stderr).toContain(`${join(b, 'BTCUSDT-candles-1h.arrow')}: permission denied (EACCES)`);
      noInternal(rb);
    }
  }, 60_000);

  it('an unreadable input file of every import format: 66 naming it (a Parquet file was 65, "not a readable Parquet file")', async () => {
    const t = [T0, T0 + H, T0 + 2 * H];
    const pq = join(root, 'secret.parquet');
    writeFileSync(pq, new Uint8Array(parquetWriteBuffer({ columnData: [
      { name: 'timestamp', data: t.map((x) => BigInt(x)), type: 'INT64' },
      ...['open', 'high', 'low', 'close', 'volume'].map((name) => ({ name, data: [100, 100, 100], type: 'DOUBLE' as const })),
    ] })));
    const csv = join(root, 'secret.csv');
    writeFileSync(csv, `timestamp,open,high,low,close,volume\n${t.map((x) => `${x},100,100,100,100,1`).join('\n')}\n`);
    const bn = join(root, 'BTCUSDT-1h-2025-01.csv');
    writeFileSync(bn, t.map((x) => `${x},100,100,100,100,1,${x + H - 1},100,1,1,100,0`).join('\n') + '\n');
    for (const f of [pq, csv, bn]) chmodSync(f, 0o600);
    const cases: [string, string[]][] = [
      [pq, ['import', pq, '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', join(root, 'o-pq')]],
      [csv, ['import', csv, '--format', 'csv', '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', join(root, 'o-csv')]],
      [bn, ['import', bn, '--format', 'binance', '--out', join(root, 'o-bn')]],
    ];
    for (const [file, args] of cases) {
      const r = await cli(args, true);
      expect(r.code, file).toBe(66);
      expect(r.stderr, file).toContain(`${file}: permission denied (EACCES)`);
      noInternal(r);
    }
  }, 60_000);

  it('an unreadable config file: run exits 66 naming it (was 78, "could not load the config")', async () => {
    const c = join(root, 'secret.config.ts');
    writeFileSync(c, "export default { name: 'x', data: './data', strategies: ['sma-cross'] };\n");
    chmodSync(c, 0o600);
    const r = await cli(['run', '-c', c, '--out', join(root, 'o-cfg')], true);
    expect(r.code).toBe(66);
    // (named as every message names a config: relative to the working folder, here the folder it is in)
    expect(r.stderr).toBe(`marginlab: cannot read the config file secret.config.ts: permission denied (EACCES); check the path and its permissions\n`);
  }, 60_000);

  it('import: an unreadable input file (csv, bybit, freqtrade) or a folder inside an input folder exits 66 naming it, and creates no dataset', async () => {
    const csv = join(root, 'prices.csv');
    writeFileSync(csv, `timestamp,open,high,low,close,volume\n${T0},100,102,99,101,5\n${T0 + H},100,102,99,101,5\n`);
    chmodSync(csv, 0o600);
    const feather = join(root, 'XRP_USDT_USDT-5m-futures.feather');
    copyFileSync(FEATHER, feather);
    chmodSync(feather, 0o600);
    const folder = join(root, 'dumps');
    mkdirSync(join(folder, 'sub'), { recursive: true });
    copyFileSync(FEATHER, join(folder, 'XRP_USDT_USDT-5m-futures.feather'));
    chmodSync(folder, 0o755);
    chmodSync(join(folder, 'sub'), 0o700);
    const cases: [string[], string][] = [
      [['import', 'csv', csv, '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', join(root, 'o1')], csv],
      [['import', csv, '--format', 'bybit', '--out', join(root, 'o2')], csv],
      [['import', feather, '--out', join(root, 'o3')], feather],
      [['import', folder, '--out', join(root, 'o4')], join(folder, 'sub')],
      [['import', folder, '--format', 'freqtrade', '--out', join(root, 'o5')], join(folder, 'sub')],
    ];
    for (const [args, path] of cases) {
      const r = await cli(args, true);
      expect(r.code, args.join(' ')).toBe(66);
      expect(r.stderr).toContain(`cannot read the input ${path}: permission denied (EACCES)`);
      noInternal(r);
      expect(existsSync(args[args.length - 1]!)).toBe(false);
    }
  }, 120_000);
});

describe('a name holding a line break', () => {
  it('keeps the error on one line: the break is written \\n (a file named bad<newline>name.csv split the message over four lines)', async () => {
    writeFileSync(join(root, 'bad\nname.csv'), 'x\n');
    const [imp, val] = await Promise.all([
      cli(['import', 'bad\nname.csv', '--kind', 'candles', '--symbol', 'FOOUSDT', '--timeframe', '1h', '--out', 'nl-out']),
      cli(['data', 'validate', 'no\nsuch\r\nfolder']),
    ]);
    expect(imp.code).toBe(65);
    expect(imp.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(imp.stderr).toMatch(/^marginlab: bad\\nname\.csv: missing columns/);
    expect(val.code).toBe(66);
    expect(val.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(val.stderr).toContain('no\\nsuch\\r\\nfolder');
    expect(existsSync(join(root, 'nl-out'))).toBe(false);
  });
  it('an ESC sequence, a C1 control or a bidi control in a name is written as its escape too: it recoloured the terminal, or reversed the rest of the line', async () => {
    const r = await cli(['data', 'validate', 'no\u001b[31msuch\u009b\u202efolder\u0007']);
    expect(r.code).toBe(66);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toContain('no\\x1b[31msuch\\x9b\\u202efolder\\x07');
    expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
  });
});
