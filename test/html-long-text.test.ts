/**
 * A long unbroken user string (a 10,000-character param value: a label, a path, a base64 blob) in
 * report.html: it wraps where it is shown, so the page never gets wider than the window and no table
 * column grows to the string's width (docs/report.md: "the page itself never gets wider than the
 * window"). Before, the Params column of every table took the string's width (≈ 70,000 px: every
 * metric column beyond reach) and a stress fan chart's caption widened the page to ≈ 130,000 px.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { openReport } from './fixtures/report/browser.js';
import { renderReportFiles } from '../src/report/index.js';
import { makeManifest } from './fixtures/report/fixture.js';
import { makeStressResults } from './fixtures/report/stress-fixture.js';
import type { RunResult } from '../src/shard/types.js';

const LONG = 'L'.repeat(10_000);
let browser: Browser;
let page: Page;
let dir: string;

beforeAll(async () => {
  const results: RunResult[] = makeStressResults({ bars: 24 * 10, paths: 2, leverages: [3] }).map((r) => ({ ...r, spec: { ...r.spec, params: { ...r.spec.params, label: LONG } } }));
  dir = mkdtempSync(join(tmpdir(), 'ml-html-long-'));
  // the params changed after the fixture made its RunIds: rendered past the folder checks, as a crafted folder would be
  await renderReportFiles({ dir, results, manifest: makeManifest(results), formats: ['html'] });
  ({ browser, page } = await openReport(join(dir, 'report.html')));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a 10,000-character param value in report.html', () => {
  it('is shown in full, and wraps: the page is no wider than the window, no Params column wider than a screen', async () => {
    const m = await page.evaluate<{ pageW: number; winW: number; widest: number; shown: boolean; params: number }>(`(() => {
      const ths = Array.from(document.querySelectorAll('th')).filter((th) => th.textContent.trim() === 'Params');
      return {
        pageW: document.documentElement.scrollWidth,
        winW: window.innerWidth,
        widest: Math.max(...ths.map((th) => th.getBoundingClientRect().width)),
        params: ths.length,
        shown: document.body.innerText.replace(/\\s/g, '').includes(${JSON.stringify(LONG)}),
      };
    })()`);
    expect(m.params).toBeGreaterThan(0);
    expect(m.shown).toBe(true);
    expect(m.pageW).toBeLessThanOrEqual(m.winW);
    expect(m.widest).toBeLessThan(m.winW);
  });
});
