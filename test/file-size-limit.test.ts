/**
 * A file-size limit (`ulimit -f`: writes fail with EFBIG, as on a full disk) while `data synth` and
 * `import` write a dataset: one line saying the machine refused the write (70), not "internal
 * error … please report it", no --resume offered (they have none), and no folder left behind.
 */
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './fixtures/run/cli.js';

function underLimit(args: string[], cwd: string): Promise<{ code: number | null; stderr: string }> {
  // 64 blocks of 1 KiB: node ignores SIGXFSZ, so a write past it fails with EFBIG
  const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const child = spawn('bash', ['-c', `ulimit -f 64; exec ${q(process.execPath)} ${q(BIN)} ${args.map(q).join(' ')}`], { cwd, env: { ...process.env, CI: 'true' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((res) => child.on('close', (code) => res({ code, stderr })));
}

describe('writing a dataset past a file-size limit', () => {
  it('data synth: 70 with one line naming the folder and EFBIG; nothing left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-efbig-'));
    const r = await underLimit(['data', 'synth', '--symbols', '2', '--bars', '20000', '--timeframe', '1m', '--out', 'synth', '--quiet'], dir);
    expect(r.code).toBe(70);
    expect(r.stderr).toBe(`marginlab: cannot write the dataset ${join(dir, 'synth')}: file too large for the file system (EFBIG); free space (or fix the device) and run the command again; this is not a marginlab bug\n`);
    expect(existsSync(join(dir, 'synth'))).toBe(false);
  }, 60_000);

  it('import csv: the same line, without the --resume of a run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-efbig-'));
    const rows = ['timestamp,open,high,low,close,volume'];
    for (let i = 0; i < 20_000; i++) rows.push(`${1735689600000 + i * 60_000},100,101,99,100,1`);
    writeFileSync(join(dir, 'big.csv'), `${rows.join('\n')}\n`);
    const r = await underLimit(['import', 'csv', 'big.csv', '--kind', 'candles', '--symbol', 'AAAUSDT', '--timeframe', '1m', '--out', 'ds'], dir);
    expect(r.code).toBe(70);
    expect(r.stderr).toBe(`marginlab: cannot write the dataset ${join(dir, 'ds')}: file too large for the file system (EFBIG); free space (or fix the device) and run the command again; this is not a marginlab bug\n`);
    expect(existsSync(join(dir, 'ds'))).toBe(false);
  }, 60_000);
});
