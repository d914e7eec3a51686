/**
 * report.html's Stress section in headless Chromium: the leverage-survival curves and the equity
 * fan charts are drawn with data (one survival chart per strategy configuration × population, one
 * fan chart per configuration × population, every setup present), the stress tables have one row
 * per figure, no console error, no network request, and a scenario named like an XSS payload is
 * shown as text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { openReport, scrollTableToEnd } from './fixtures/report/browser.js';
import { buildModel, writeReport } from '../src/report/index.js';
import { makeManifest } from './fixtures/report/fixture.js';
import { makeStressResults, STRESS_XSS_SCENARIO } from './fixtures/report/stress-fixture.js';
import type { RunResult } from '../src/shard/types.js';

let browser: Browser;
let page: Page;
let dir: string;
let results: RunResult[];
let consoleErrors: string[];
let requests: string[];
let dialogs: string[];

beforeAll(async () => {
  results = makeStressResults({ bars: 24 * 15, paths: 6, leverages: [3, 25] });
  dir = mkdtempSync(join(tmpdir(), 'ml-html-stress-'));
  await writeReport({ dir, results, manifest: makeManifest(results), formats: ['html'] });
  ({ browser, page, consoleErrors, requests, dialogs } = await openReport(join(dir, 'report.html')));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('report.html Stress section in headless Chromium', () => {
  it('loads without a console error or a network request', () => {
    expect(consoleErrors).toEqual([]);
    expect(requests).toEqual([pathToFileURL(join(dir, 'report.html')).href]);
    expect(dialogs).toEqual([]);
  });

  it('draws a leverage-survival curve per setup and a fan chart per configuration, with ink', async () => {
    const charts = await page.evaluate<{ kind: string; names: string[]; points: number; inked: number }[]>(`(() =>
      Array.from(document.querySelectorAll('#stress .chart')).map((el) => {
        const inst = echarts.getInstanceByDom(el);
        const canvas = el.querySelector('canvas');
        let inked = 0;
        if (canvas) {
          const img = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          for (let i = 3; i < img.length; i += 4 * 97) if (img[i] > 0) inked++;
        }
        const series = inst ? inst.getOption().series : [];
        return { kind: el.getAttribute('data-kind'), names: [...new Set(series.map((s) => s.name))], points: series.reduce((a, s) => a + ((s.data && s.data.length) || 0), 0), inked };
      }))()`);
    const model = buildModel(results, makeManifest(results));
    const stress = model.stress!;
    const survival = charts.filter((c) => c.kind === 'survival');
    const fans = charts.filter((c) => c.kind === 'fan');
    // one strategy configuration (without leverage) × two populations
    expect(survival).toHaveLength(2);
    // 2 leverages × 2 populations
    expect(fans).toHaveLength(stress.configs.length * 2);
    for (const c of [...survival, ...fans]) {
      expect(c.names.sort()).toEqual(['cross', 'isolated']);
      expect(c.points).toBeGreaterThan(0);
      expect(c.inked).toBeGreaterThan(20);
    }
    // survival: p, lo, hi per setup, one point per leverage
    for (const c of survival) expect(c.points).toBe(2 * 3 * 2);
    // fan: 5 series (two stacked bands and the median) of 101 grid points per setup
    for (const c of fans) expect(c.points).toBe(2 * 5 * 101);
  });

  it('stress tables have one row per figure and sort', async () => {
    const rows = await page.evaluate<Record<string, number>>(`(() => Object.fromEntries(['stress-survival-table', 'stress-odds-table', 'stress-diff-table', 'stress-scenario-table'].map((id) => [id, document.querySelectorAll('#' + id + ' tbody tr').length])))()`);
    const m = buildModel(results, makeManifest(results)).stress!;
    expect(rows['stress-survival-table']).toBe(m.survival.length);
    expect(rows['stress-odds-table']).toBe(m.configs.length * 2 * 2);
    expect(rows['stress-diff-table']).toBe(m.configs.length * 2);
    expect(rows['stress-scenario-table']).toBe(m.configs.reduce((a, c) => a + c.scenarios.length * 2, 0));
    await page.click('#stress-odds-table th[data-col="5"] button');
    const sorted = await page.evaluate<number[]>(`Array.from(document.querySelectorAll('#stress-odds-table tbody tr td:nth-child(6)')).map((td) => Number(td.getAttribute('data-v')))`);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
  });

  it('shows a scenario named like an XSS payload as text', async () => {
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).not.toContain(STRESS_XSS_SCENARIO);
    const shown = await page.evaluate<number>(`Array.from(document.querySelectorAll('#stress-scenario-table td')).filter((td) => td.textContent === ${JSON.stringify(STRESS_XSS_SCENARIO)}).length`);
    expect(shown).toBeGreaterThan(0);
    expect(await page.evaluate<number>(`document.querySelectorAll('#stress svg[onload]').length`)).toBe(0);
  });
});

describe('report.html stress tables on a laptop (1440 px) and a phone (390 px)', () => {
  const TABLES = ['stress-survival-table', 'stress-odds-table', 'stress-diff-table', 'stress-scenario-table'];
  for (const [width, height] of [[1440, 900], [390, 700]] as const) {
    it(`${width} px: the page is no wider than the window; a table wider than its box scrolls in it, the header row and first column (the strategy) staying in sight`, async () => {
      const ctx = await browser.newContext({ viewport: { width, height } });
      try {
        const p = await ctx.newPage();
        await p.goto(pathToFileURL(join(dir, 'report.html')).href, { waitUntil: 'load' });
        await p.waitForFunction('Array.isArray(window.__marginlabCharts)');
        expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(width);
        const scrolled: string[] = [];
        for (const id of TABLES) {
          const r = await scrollTableToEnd(p, `#${id}`);
          if (r.scrollX > 0) scrolled.push(id);
          expect(new Set(r.headTops), id).toEqual(new Set([0]));
          expect(r.firstLefts.length, id).toBeGreaterThan(0);
          expect(new Set(r.firstLefts), id).toEqual(new Set([0]));
          expect(r.hidden, id).toEqual([]);
        }
        // the odds table (16 columns) is wider than a laptop's page: it is the case this test is about
        expect(scrolled).toContain('stress-odds-table');
        // the scenario table is taller than the window: it scrolled under its header
        expect((await scrollTableToEnd(p, '#stress-scenario-table')).scrollY).toBeGreaterThan(0);
      } finally {
        await ctx.close();
      }
    });
  }
});
