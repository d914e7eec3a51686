/**
 * compare.html in headless Chromium: a phone screen shows nothing wider than itself but tables that
 * scroll inside their box, and a printed page keeps every column of the runs table on the paper.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { copyTable, launchChromium, pastedCells, scrollTableToEnd } from './fixtures/report/browser.js';
import { compareFolders } from '../src/compare/index.js';
import { parseRules } from '../src/compare/rules.js';
import { renderHtml } from '../src/compare/render.js';
import { runIdOf } from '../src/shard/hash.js';
import { makeManifest, makeResults, writeRunFolder } from './fixtures/report/fixture.js';

let browser: Browser;
let root: string;
let file: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ml-compare-html-'));
  const base = makeResults(24 * 30);
  const cur = base.map((r) => {
    const x = JSON.parse(JSON.stringify(r)) as typeof r;
    x.spec.engineVersion = '2';
    x.runId = runIdOf(x.spec);
    x.metrics.maxDrawdown = (x.metrics.maxDrawdown ?? 0) + 3;
    return x;
  });
  const m = makeManifest(cur, 'nightly-with-a-long-folder-name-that-a-phone-must-wrap-somewhere');
  m.engineVersion = '2';
  const c = compareFolders(writeRunFolder(join(root, 'base'), base, makeManifest(base, 'nightly')), writeRunFolder(join(root, 'cur'), cur, m), parseRules(['maxDrawdown>+2pp']));
  file = join(root, 'compare.html');
  writeFileSync(file, renderHtml(c));
  browser = await launchChromium('the compare.html test');
});

afterAll(async () => {
  await browser?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

async function inContext(options: BrowserContextOptions, fn: (p: Page) => Promise<void>): Promise<void> {
  const ctx = await browser.newContext(options);
  try {
    const p = await ctx.newPage();
    await p.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await fn(p);
  } finally {
    await ctx.close();
  }
}

/** elements reaching past the viewport's right edge that are not inside a box scrolling sideways */
const OVERFLOWING = `(() => {
  const vw = document.documentElement.clientWidth;
  const scrolls = (el) => { for (let a = el.parentElement; a; a = a.parentElement) if (/auto|scroll/.test(getComputedStyle(a).overflowX)) return true; return false; };
  return Array.from(document.body.querySelectorAll('*')).filter((el) => el.getBoundingClientRect().right > vw + 0.5 && !scrolls(el))
    .map((el) => el.tagName + ' ' + (el.textContent || '').slice(0, 40) + ' right ' + Math.round(el.getBoundingClientRect().right));
})()`;

describe('compare.html colours', () => {
  it('colours a change only when its figure shows one: a delta that prints ±0.0pp is neither green nor red', () => {
    const root2 = mkdtempSync(join(tmpdir(), 'ml-compare-colour-'));
    try {
      const base = makeResults(24 * 30).filter((r) => r.status === 'ok').slice(0, 2);
      const cur = base.map((r, i) => {
        const x = JSON.parse(JSON.stringify(r)) as typeof r;
        x.spec.engineVersion = '2';
        x.runId = runIdOf(x.spec);
        // run 0: max margin ratio 0.01 pp lower (prints the same at one decimal); run 1: 3 pp lower (a change)
        x.metrics.marginRatioMax = (x.metrics.marginRatioMax ?? 0) - (i === 0 ? 0.01 : 3);
        return x;
      });
      const m = makeManifest(cur, 'cur');
      m.engineVersion = '2';
      const c = compareFolders(writeRunFolder(join(root2, 'base'), base, makeManifest(base, 'base')), writeRunFolder(join(root2, 'cur'), cur, m), parseRules([]));
      const html = renderHtml(c);
      const cells = [...html.matchAll(/<td( class="(up|down)")?>([^<]*)<span class="nl"> <\/span><small>([^<]*)<\/small><\/td>/g)].map((x) => ({ cls: x[2] ?? '', delta: x[4]! }));
      expect(cells.length).toBeGreaterThan(0);
      // the one real change is coloured (a lower max margin ratio is better) ...
      expect(cells.filter((x) => x.cls !== '').map((x) => x.delta)).toEqual(['−3.0pp']);
      // ... and no cell whose delta reads as no change carries a colour
      for (const x of cells) if (x.delta.startsWith('±')) expect(x.cls, x.delta).toBe('');
      expect(cells.some((x) => x.delta === '±0.0pp')).toBe(true);
    } finally {
      rmSync(root2, { recursive: true, force: true });
    }
  });
});

describe('compare.html in headless Chromium', () => {
  it('fits a phone screen: only the tables scroll, inside their box', async () => {
    await inContext({ viewport: { width: 375, height: 800 } }, async (p) => {
      expect(await p.evaluate<string[]>(OVERFLOWING)).toEqual([]);
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      // the runs table is wider than the phone: it scrolls in its box (all its columns reachable)
      const [box, content] = await p.evaluate<[number, number]>(`(() => { const w = document.querySelectorAll('.table-wrap')[1]; return [w.clientWidth, w.scrollWidth]; })()`);
      expect(content).toBeGreaterThan(box);
    });
  });

  it('the runs table scrolls in its own box: its header row sticks to the top, its first column (the run) to the left edge', async () => {
    for (const [width, height] of [[1440, 500], [375, 700]] as const) {
      await inContext({ viewport: { width, height } }, async (p) => {
        expect(await p.evaluate<string[]>(OVERFLOWING)).toEqual([]);
        const r = await scrollTableToEnd(p, '.table-wrap:nth-of-type(2) table');
        const at = `${width}x${height}`;
        expect(r.scrollY, at).toBeGreaterThan(0);
        if (width < 400) expect(r.scrollX, at).toBeGreaterThan(0);
        expect(new Set(r.headTops), at).toEqual(new Set([0]));
        expect(new Set(r.firstLefts), at).toEqual(new Set([0]));
        expect(r.hidden, at).toEqual([]);
      });
    }
  });

  it("copies as a table: a selection of a table gives a line per run and a tab between cells (a change's second line broke its row in two)", async () => {
    // a spreadsheet splits pasted text at line breaks and tabs: a <br> before a change's delta and before 'fails'
    // copied as a line break, each run's row pasted as two rows per metric
    await inContext({ viewport: { width: 1440, height: 1000 }, permissions: ['clipboard-read', 'clipboard-write'] }, async (p) => {
      for (const sel of ['.table-wrap:nth-of-type(1) table', '.table-wrap:nth-of-type(2) table']) {
        const t = await copyTable(p, sel);
        expect(t.shown.length, sel).toBeGreaterThan(2);
        expect(pastedCells(t.selected), sel).toEqual(t.shown);
        expect(t.copied, sel).toBe(t.selected);
      }
      const runs = pastedCells((await copyTable(p, '.table-wrap:nth-of-type(2) table')).copied);
      const dd = runs[0]!.indexOf('Max DD');
      // the figures and their change, a space apart; the failed rule after the notes
      expect(runs[1]![dd]).toMatch(/^[\d.]+% → [\d.]+% \+3\.0pp$/);
      expect(runs[1]!.at(-1)).toMatch(/ fails maxDrawdown>\+2pp$/);
    });
  });

  it('prints: every table fits the paper (nothing cut off at the right edge)', async () => {
    await inContext({ viewport: { width: 1440, height: 1000 } }, async (p) => {
      const pdf = await p.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      // A4 at 96 dpi is 794 px wide; Chromium's default print margins leave ≈ 720 px
      await p.setViewportSize({ width: 720, height: 1000 });
      await p.emulateMedia({ media: 'print' });
      const tables = await p.evaluate<[number, number][]>(`Array.from(document.querySelectorAll('.table-wrap')).map((w) => [w.clientWidth, w.querySelector('table').scrollWidth])`);
      expect(tables.length).toBe(2);
      for (const [box, content] of tables) expect(content).toBeLessThanOrEqual(box);
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(720);
    });
  });
});
