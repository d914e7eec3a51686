/** util/atomic.ts: several files placed all or nothing (compare's two files, a dataset's series and manifest). */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFilesAtomic } from '../src/util/atomic.js';

describe('writeFilesAtomic', () => {
  it('a file that cannot be placed leaves every file as it was (compare.md was replaced while compare.html could not be)', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-place-'));
    writeFileSync(join(d, 'a.md'), 'old a');
    // b.html is a non-empty folder: a rename over it fails
    mkdirSync(join(d, 'b.html'));
    writeFileSync(join(d, 'b.html', 'x'), 'x');
    expect(() => writeFilesAtomic(d, [{ name: 'a.md', data: 'new a' }, { name: 'b.html', data: 'new b' }])).toThrow();
    expect(readFileSync(join(d, 'a.md'), 'utf8')).toBe('old a');
    expect(readdirSync(d).sort()).toEqual(['a.md', 'b.html']);
    // and both placed when they can be, no temp or set-aside file left
    const e = mkdtempSync(join(tmpdir(), 'ml-place-'));
    writeFileSync(join(e, 'a.md'), 'old a');
    writeFilesAtomic(e, [{ name: 'a.md', data: 'new a' }, { name: 'b.html', data: 'new b' }]);
    expect(readdirSync(e).sort()).toEqual(['a.md', 'b.html']);
    expect([readFileSync(join(e, 'a.md'), 'utf8'), readFileSync(join(e, 'b.html'), 'utf8')]).toEqual(['new a', 'new b']);
  });
});
