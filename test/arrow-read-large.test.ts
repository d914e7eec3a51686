/**
 * A data file of 2 GiB or more (a year or two of 1s candles): Node's readSync refuses a length of
 * 2^31 bytes or more (ERR_OUT_OF_RANGE), so the loader asked for the whole file in one call and
 * failed as an internal error. The file's size is faked here (fstat) and each read recorded, so no
 * gigabytes are read: every request stays below 2 GiB and the reads walk the whole file.
 */
import { describe, expect, it, vi } from 'vitest';

let FAKE_SIZE = 2 ** 31 + 12345; // 2 GiB and a bit
const asked: { at: number; length: number }[] = [];

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const big = new Set<number>();
  return {
    ...fs,
    openSync: (path: string, ...rest: unknown[]) => {
      const fd = (fs.openSync as (...a: unknown[]) => number)(path, ...rest);
      if (String(path).endsWith('huge.arrow')) big.add(fd);
      return fd;
    },
    fstatSync: (fd: number, ...rest: unknown[]) => {
      const st = (fs.fstatSync as (...a: unknown[]) => import('node:fs').Stats)(fd, ...rest);
      return big.has(fd) ? Object.assign(Object.create(Object.getPrototypeOf(st)), st, { size: FAKE_SIZE }) : st;
    },
    readSync: (fd: number, buf: Uint8Array, at: number, length: number, pos: unknown) => {
      if (!big.has(fd)) return fs.readSync(fd, buf, at, length, pos as null);
      if (!(length >= 0 && length <= 2 ** 31 - 1)) throw Object.assign(new RangeError(`The value of "length" is out of range. Received ${length}`), { code: 'ERR_OUT_OF_RANGE' });
      asked.push({ at, length });
      return length; // as if read (the buffer's untouched pages stay unmapped)
    },
    closeSync: (fd: number) => { big.delete(fd); fs.closeSync(fd); },
  };
});

describe('reading a data file of 2 GiB or more', () => {
  it('asks for at most 1 GiB per read and reads the whole size', async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { readKindFile } = await import('../src/feed/arrow-io.js');
    const { ProblemList } = await import('../src/feed/validate.js');
    const dir = mkdtempSync(join(tmpdir(), 'ml-read-large-'));
    try {
      const path = join(dir, 'huge.arrow');
      writeFileSync(path, 'x');
      const problems = new ProblemList();
      // the bytes are zeros, not Arrow: a data problem naming the file, never an internal error
      expect(() => readKindFile(path, 'huge.arrow', 'candles', problems)).not.toThrow();
      expect(asked.every((r) => r.length <= 2 ** 30)).toBe(true);
      expect(asked.reduce((a, r) => a + r.length, 0)).toBe(FAKE_SIZE);
      expect(asked.map((r) => r.at)).toEqual([0, 2 ** 30, 2 ** 31]);
      expect(problems.finish()).toEqual([expect.stringMatching(/^huge\.arrow: not a readable Arrow IPC file: /)]);
      // beyond what one typed array holds: one problem naming the file and its size, no attempt to read
      const { MAX_FILE_BYTES } = await import('../src/feed/arrow-io.js');
      FAKE_SIZE = MAX_FILE_BYTES + 1;
      asked.length = 0;
      const p2 = new ProblemList();
      expect(readKindFile(path, 'huge.arrow', 'candles', p2)).toBeNull();
      expect(asked).toEqual([]);
      expect(p2.finish()).toEqual([expect.stringMatching(/^huge\.arrow: the file is 4\.0 GiB, more than the 4 GiB a file may hold to be read; /)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
