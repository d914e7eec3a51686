/**
 * writeReport's failure modes that a rendering error brings: files are written as they are rendered,
 * so a renderer can fail after other files of the report are written into the temp folder.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { UserError } from '../src/errors.js';
import { makeManifest, makeResults } from './fixtures/report/fixture.js';

// the HTML renderer fails with an error that carries a code, as a failed read of a bundled asset does
const renderFailure = Object.assign(new Error('cannot read the bundled chart library'), { code: 'ENOENT' });
vi.mock('../src/report/html.js', () => ({
  renderHtml: () => {
    throw renderFailure;
  },
}));

// file-system failures switched on per test
const fail: { tempDir?: string; renameAfter?: number; writeSync?: string; closeSync?: string } = {};
let renames = 0;
vi.mock('node:fs', async (orig) => {
  const fs = await orig<typeof import('node:fs')>();
  const coded = (code: string) => Object.assign(new Error(`${code}: injected`), { code });
  const mkdirSync = ((path: string, ...rest: unknown[]) => {
    if (fail.tempDir && String(path).includes('.report.')) throw coded(fail.tempDir);
    return (fs.mkdirSync as (...a: unknown[]) => unknown)(path, ...rest);
  }) as typeof fs.mkdirSync;
  const renameSync = ((from: string, to: string) => {
    if (fail.renameAfter !== undefined && renames++ >= fail.renameAfter) throw coded('EIO');
    return fs.renameSync(from, to);
  }) as typeof fs.renameSync;
  const writeSync = ((...a: unknown[]) => {
    if (fail.writeSync) throw coded(fail.writeSync);
    return (fs.writeSync as (...a: unknown[]) => number)(...a);
  }) as typeof fs.writeSync;
  const closeSync = ((fd: number) => {
    fs.closeSync(fd);
    if (fail.closeSync) throw coded(fail.closeSync);
  }) as typeof fs.closeSync;
  const over = { mkdirSync, renameSync, writeSync, closeSync };
  return { ...fs, ...over, default: { ...fs, ...over } };
});
const reset = () => {
  for (const k of Object.keys(fail)) delete fail[k as keyof typeof fail];
  renames = 0;
};

// the file writing itself (writeReport checks and locks the folder first, as the commands do before calling this)
const { renderReportFiles: writeReport } = await import('../src/report/index.js');

describe('writeReport when a renderer fails', () => {
  it('the rendering error passes unchanged (not a file-system user error), the earlier report stays, no temp folder is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-report-err-'));
    const results = makeResults();
    const manifest = makeManifest(results);
    await writeReport({ dir, results, manifest, formats: ['json', 'md'] });
    const before = Object.fromEntries(['summary.json', 'report.md'].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    let err: unknown;
    try {
      // json and md are written into the temp folder before html fails
      await writeReport({ dir, results: results.slice(1), manifest: makeManifest(results.slice(1)), formats: ['json', 'md', 'html'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBe(renderFailure);
    expect(err).not.toBeInstanceOf(UserError);
    for (const [f, text] of Object.entries(before)) expect(readFileSync(join(dir, f), 'utf8')).toBe(text);
    expect(readdirSync(dir).sort()).toEqual(['report.md', 'summary.json']);
  });

  it('a report into folders it had to make leaves none of them when it fails', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-report-err-'));
    const results = makeResults();
    await expect(writeReport({ dir: join(parent, 'a', 'b', 'new-report'), results, manifest: makeManifest(results), formats: ['md', 'html'] })).rejects.toBe(renderFailure);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('writeReport when the file system fails', () => {
  it('the temp folder cannot be made: one-line error, and the folders it made are removed', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-report-fs-'));
    const results = makeResults();
    fail.tempDir = 'ENOSPC';
    try {
      await expect(writeReport({ dir: join(parent, 'a', 'new'), results, manifest: makeManifest(results), formats: ['md'] })).rejects.toMatchObject({
        exitCode: 70,
        message: expect.stringContaining('no space left on the device (ENOSPC)'),
      });
    } finally {
      reset();
    }
    expect(readdirSync(parent)).toEqual([]);
  });

  it('a rename failing midway into a new folder keeps what it holds (the folder is not removed)', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-report-fs-'));
    const dir = join(parent, 'new');
    const results = makeResults();
    fail.renameAfter = 1;
    try {
      await expect(writeReport({ dir, results, manifest: makeManifest(results), formats: ['json', 'md'] })).rejects.toMatchObject({ exitCode: 70 });
    } finally {
      reset();
    }
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it('a folder in the place of a report file is refused before any file is replaced, naming that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-report-fs-'));
    const results = makeResults();
    await writeReport({ dir, results, manifest: makeManifest(results), formats: ['json', 'csv'] });
    const before = Object.fromEntries(['summary.json', 'runs.csv', 'trades.csv'].map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
    rmSync(join(dir, 'liquidations.csv'));
    mkdirSync(join(dir, 'liquidations.csv'));
    // other results: had summary.json been replaced, it would differ
    const fewer = results.slice(1);
    await expect(writeReport({ dir, results: fewer, manifest: makeManifest(fewer), formats: ['json', 'csv'] })).rejects.toMatchObject({
      exitCode: 64,
      message: expect.stringContaining(`cannot write the report file ${join(dir, 'liquidations.csv')}: is a folder, not a file (EISDIR)`),
    });
    for (const [f, text] of Object.entries(before)) expect(readFileSync(join(dir, f), 'utf8')).toBe(text);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('a failed write is the error reported, also when closing the file then fails too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ml-report-fs-'));
    const results = makeResults();
    fail.writeSync = 'ENOSPC';
    fail.closeSync = 'EIO';
    try {
      await expect(writeReport({ dir, results, manifest: makeManifest(results), formats: ['json'] })).rejects.toMatchObject({
        exitCode: 70,
        message: expect.stringContaining('(ENOSPC)'),
      });
    } finally {
      reset();
    }
    expect(readdirSync(dir)).toEqual([]);
  });
});
