/**
 * A full disk (ENOSPC) while writing a result or a report: the error names the path, says what to
 * do, and no temp file is left behind. The failure is injected by mocking node:fs's writeFileSync
 * (it writes part of the data, then throws ENOSPC, as a full disk does).
 */
import { describe, expect, it, vi } from 'vitest';
import * as realFs from 'node:fs';
import { copyFileSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fail = { on: false, fd: false };
vi.mock('node:fs', async (orig) => {
  const fs = await orig<typeof import('node:fs')>();
  const writeFileSync = (path: realFs.PathOrFileDescriptor, data: string | NodeJS.ArrayBufferView, opts?: realFs.WriteFileOptions) => {
    if (fail.on && typeof path === 'string' && path.includes('.tmp')) {
      fs.writeFileSync(path, typeof data === 'string' ? data.slice(0, 3) : 'par');
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC', path });
    }
    return fs.writeFileSync(path, data, opts);
  };
  // summary.json is written through a descriptor in chunks: the first chunk fails part-way
  const writeSync = ((fd: number, buffer: NodeJS.ArrayBufferView, ...rest: unknown[]) => {
    if (fail.on && fail.fd) {
      (fs.writeSync as (fd: number, b: NodeJS.ArrayBufferView, o: number, l: number) => number)(fd, buffer, 0, 3);
      throw Object.assign(new Error(`ENOSPC: no space left on device, write`), { code: 'ENOSPC' });
    }
    return (fs.writeSync as (...a: unknown[]) => number)(fd, buffer, ...rest);
  }) as typeof fs.writeSync;
  // a copy fails at its destination; the error names the source in `path` and the destination in `dest`
  const copyFileSync = (src: realFs.PathLike, dest: realFs.PathLike, mode?: number) => {
    if (fail.on) throw Object.assign(new Error(`ENOSPC: no space left on device, copyfile '${String(src)}' -> '${String(dest)}'`), { code: 'ENOSPC', path: String(src), dest: String(dest) });
    return fs.copyFileSync(src, dest, mode);
  };
  return { ...fs, writeFileSync, writeSync, copyFileSync, default: { ...fs, writeFileSync, writeSync, copyFileSync } };
});

const { writeFileAtomic, writeFilesAtomic } = await import('../src/util/atomic.js');
const { withFsErrors } = await import('../src/util/fs-errors.js');
const { openOutDir, writeOutDir } = await import('../src/util/outdir.js');
// the file writing itself (writeReport checks and locks the folder first, as the commands do before calling this)
const { renderReportFiles: writeReport } = await import('../src/report/index.js');
const { makeManifest, makeResults } = await import('./fixtures/report/fixture.js');

describe('ENOSPC', () => {
  it('a result write fails with one line naming the file; no temp file is left', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-enospc-'));
    const file = join(d, 'results', '0123456789abcdef.json');
    fail.on = true;
    try {
      expect(() => withFsErrors({ path: file, action: 'write the result', role: 'output' }, () => writeFileAtomic(file, '{"x":1}'))).toThrow(
        expect.objectContaining({ exitCode: 70, message: expect.stringMatching(/^cannot write the result .*0123456789abcdef\.json: no space left on the device \(ENOSPC\); free space .* --resume/) }),
      );
    } finally {
      fail.on = false;
    }
    expect(readdirSync(join(d, 'results'))).toEqual([]);
  });
  it('compare.md and compare.html (writeFilesAtomic): a failed write leaves the earlier files as they were and no temp file', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-enospc-c-'));
    writeFilesAtomic(d, [{ name: 'compare.md', data: 'old md' }, { name: 'compare.html', data: 'old html' }]);
    fail.on = true;
    try {
      expect(() => writeFilesAtomic(d, [{ name: 'compare.md', data: 'new md' }, { name: 'compare.html', data: 'new html' }])).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    } finally {
      fail.on = false;
    }
    expect(readdirSync(d).sort()).toEqual(['compare.html', 'compare.md']);
    expect(realFs.readFileSync(join(d, 'compare.md'), 'utf8')).toBe('old md');
  });
  it('a full disk while a dataset or compare folder is opened (its lock) does not offer --resume; a run folder does', () => {
    for (const kind of ['dataset', 'compare', 'run'] as const) {
      const d = mkdtempSync(join(tmpdir(), 'ml-enospc-o-'));
      fail.on = true;
      try {
        expect(() => openOutDir(d, { kind })).toThrow(
          expect.objectContaining({ exitCode: 70, message: expect.stringMatching(kind === 'run' ? /no space left on the device \(ENOSPC\); .*use --resume/ : /no space left on the device \(ENOSPC\); free space \(or fix the device\) and run the command again; this is not a marginlab bug$/) }),
        );
      } finally {
        fail.on = false;
      }
      expect(readdirSync(d)).toEqual([]);
    }
  });
  it('a copy into an output folder (merge copying results) fails at its destination: the full disk is said, not an internal error', async () => {
    const src = join(mkdtempSync(join(tmpdir(), 'ml-enospc-src-')), 'r.json');
    realFs.writeFileSync(src, '{}');
    const d = join(mkdtempSync(join(tmpdir(), 'ml-enospc-cp-')), 'out');
    const build = (tmp: string) => {
      realFs.mkdirSync(join(tmp, 'results'));
      fail.on = true; // (the lock and the marker are written)
      copyFileSync(src, join(tmp, 'results', 'r.json'));
    };
    try {
      await expect(writeOutDir(d, { kind: 'run' }, build)).rejects.toMatchObject({
        exitCode: 70,
        message: expect.stringMatching(/^cannot write \S+r\.json: no space left on the device \(ENOSPC\); .*this is not a marginlab bug$/),
      });
    } finally {
      fail.on = false;
    }
    expect(realFs.existsSync(d)).toBe(false);
  });
  it('a report write fails and leaves neither a temp folder nor a half file', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-enospc-r-'));
    const results = makeResults(24 * 10);
    fail.on = true;
    try {
      await expect(writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['json', 'md'] })).rejects.toMatchObject({ exitCode: 70, message: expect.stringContaining(`cannot write the report into ${d}: no space left on the device (ENOSPC)`) });
    } finally {
      fail.on = false;
    }
    expect(readdirSync(d)).toEqual([]);
  });
  it('a full disk while merge or report writes a run folder does not offer --resume (they have none); run does', async () => {
    const results = makeResults(24 * 2);
    for (const resume of [false, undefined] as const) {
      const d = mkdtempSync(join(tmpdir(), 'ml-enospc-h-'));
      fail.on = true;
      try {
        const hint = resume === false ? /\(ENOSPC\); free space \(or fix the device\) and run the command again; this is not a marginlab bug$/ : /\(ENOSPC\); .*use --resume\); this is not a marginlab bug$/;
        await expect(writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['md'], ...(resume === false ? { resume } : {}) })).rejects.toMatchObject({ exitCode: 70, message: expect.stringMatching(hint) });
        expect(() => openOutDir(d, { kind: 'run', ...(resume === false ? { resume } : {}) })).toThrow(expect.objectContaining({ exitCode: 70, message: expect.stringMatching(hint) }));
      } finally {
        fail.on = false;
      }
    }
  });
  it('summary.json, written in chunks, fails the same way', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-enospc-s-'));
    const results = makeResults(24 * 10);
    fail.on = true;
    fail.fd = true;
    try {
      await expect(writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['json'] })).rejects.toMatchObject({ exitCode: 70, message: expect.stringContaining(`cannot write the report into ${d}: no space left on the device (ENOSPC)`) });
    } finally {
      fail.on = false;
      fail.fd = false;
    }
    expect(readdirSync(d)).toEqual([]);
  });
});
