/**
 * report.md holds no raw HTML, its own text included: `results/<runId>.json` in the footer was an
 * inline HTML tag to a CommonMark renderer (GitHub, VS Code), which drops it or hides it, so the line
 * read "Runs: results/.json". Every `<` outside a code span is escaped, as user text is (escapeMd).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderReportFiles } from '../src/report/index.js';
import { makeManifest, makeResults } from './fixtures/report/fixture.js';

describe('report.md', () => {
  it('has no raw HTML tag outside code spans', async () => {
    const results = makeResults(24 * 10);
    const d = mkdtempSync(join(tmpdir(), 'ml-md-raw-'));
    await renderReportFiles({ dir: d, results, manifest: makeManifest(results), formats: ['md'] });
    const md = readFileSync(join(d, 'report.md'), 'utf8');
    const outsideCode = md.replace(/`[^`\n]*`/g, '');
    // a CommonMark open or closing tag: < or </, a letter, then letters, digits or -
    expect(outsideCode.match(/<\/?[A-Za-z][A-Za-z0-9-]*[^\n]*?>/g) ?? []).toEqual([]);
    expect(md).toContain('`results/<runId>.json`');
  });
});
