/**
 * writeReport's failure modes that a rendering error brings: files are written as they are rendered,
 * so a renderer can fail after other files of the report are written into the temp folder.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
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

const { writeReport } = await import('../src/report/index.js');

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

  it('a report into a folder it had to make leaves no folder when it fails', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'ml-report-err-'));
    const dir = join(parent, 'new-report');
    const results = makeResults();
    await expect(writeReport({ dir, results, manifest: makeManifest(results), formats: ['md', 'html'] })).rejects.toBe(renderFailure);
    expect(existsSync(dir)).toBe(false);
  });
});
