/**
 * report.html in headless Chromium (Debian /usr/bin/chromium; CI installs it via .ci/run).
 * No console errors, no network request, every chart drawn with data, one table row per run,
 * sorting by header click, and a strategy named like an XSS payload shown as text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { openReport } from './fixtures/report/browser.js';
import { writeReport } from '../src/report/index.js';
import { makeManifest, makeResults, XSS_NAME } from './fixtures/report/fixture.js';
import type { RunResult } from '../src/shard/types.js';

let browser: Browser;
let page: Page;
let dir: string;
let results: RunResult[];
let consoleErrors: string[];
let requests: string[];
let dialogs: string[];

beforeAll(async () => {
  results = makeResults();
  dir = mkdtempSync(join(tmpdir(), 'ml-html-'));
  await writeReport({ dir, results, manifest: makeManifest(results), formats: ['html'] });
  ({ browser, page, consoleErrors, requests, dialogs } = await openReport(join(dir, 'report.html')));
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report.html in headless Chromium', () => {
  it('is one self-contained file: no network request, no console error', async () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\/[^"'\s]*\.(js|css)/i);
    expect(requests).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
    expect(consoleErrors).toEqual([]);
    await page.screenshot({ path: join(process.cwd(), '.tmp', 'report.png'), fullPage: true }).catch(() => undefined);
  });

  it('draws every chart with data', async () => {
    const charts = await page.evaluate<{ kind: string; series: number; points: number; inked: number }[]>(`(() =>
      Array.from(document.querySelectorAll('.chart')).map((el) => {
        const inst = echarts.getInstanceByDom(el);
        const canvas = el.querySelector('canvas');
        let inked = 0;
        if (canvas) {
          const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < img.length; i += 4 * 97) if (img[i] > 0) inked++;
        }
        const series = inst ? inst.getOption().series : [];
        return { kind: el.getAttribute('data-kind'), series: series.length, points: series.reduce((a, s) => a + ((s.data && s.data.length) || 0), 0), inked };
      }))()`);
    // 3 strategies × 4 charts
    expect(charts).toHaveLength(12);
    for (const c of charts) {
      expect(c.series, `${c.kind} series`).toBeGreaterThanOrEqual(2);
      expect(c.points, `${c.kind} points`).toBeGreaterThan(0);
      expect(c.inked, `${c.kind} canvas pixels`).toBeGreaterThan(50);
    }
  });

  it('marks liquidations on the charts', async () => {
    // ma-trend at 3× has none; switch its configuration to 25× where isolated is liquidated
    const n = await page.evaluate<number>(`(() => {
      const ma = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'ma-trend');
      const sel = ma.querySelector('select');
      const opt = Array.from(sel.options).find((o) => o.textContent.includes('25×'));
      sel.value = opt.value;
      sel.dispatchEvent(new Event('change'));
      const eq = ma.querySelector('.chart[data-kind="equity"]');
      return echarts.getInstanceByDom(eq).getOption().series.filter((s) => s.type === 'scatter').reduce((a, s) => a + s.data.length, 0);
    })()`);
    const expected = results.find((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 25 && r.spec.setup === 'isolated')!.events.filter((e) => e.type === 'liquidation').length;
    expect(expected).toBeGreaterThan(0);
    expect(n).toBe(expected);
  });

  it('has one comparison row per run', async () => {
    const rows = await page.locator('#comparison-table tbody tr').count();
    expect(rows).toBe(results.length);
  });

  it('sorts a table by clicking a header, both directions', async () => {
    const header = page.locator('#comparison-table thead th', { hasText: /^Return$/ });
    const values = async () =>
      page.evaluate<(string | null)[]>(`(() => {
        const th = Array.from(document.querySelectorAll('#comparison-table thead th')).find((t) => t.textContent.trim().startsWith('Return'));
        const col = Number(th.getAttribute('data-col'));
        return Array.from(document.querySelectorAll('#comparison-table tbody tr')).map((tr) => tr.cells[col].getAttribute('data-v'));
      })()`);
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const asc = (await values()).filter((v) => v !== '').map(Number);
    expect(asc.length).toBe(results.length - 1);
    expect(asc).toEqual([...asc].sort((a, b) => a - b));
    expect((await values()).at(-1)).toBe(''); // the errored run sorts last
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    const desc = (await values()).filter((v) => v !== '').map(Number);
    expect(desc).toEqual([...desc].sort((a, b) => b - a));
  });

  it('shows a hostile strategy name as text and runs nothing', async () => {
    expect(dialogs).toEqual([]);
    expect(await page.locator('img').count()).toBe(0);
    const headings = await page.locator('section.strategy h2').allTextContents();
    expect(headings).toContain(XSS_NAME);
    await expect(page.getByText(XSS_NAME, { exact: true }).first().isVisible()).resolves.toBe(true);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('</script><script>alert(2)');
    // embedded JSON escapes < as \u003c
    const json = html.slice(html.indexOf('id="ml-data">'), html.indexOf('</script>', html.indexOf('id="ml-data">')));
    expect(json).not.toContain('<img');
  });
});
