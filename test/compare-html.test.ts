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
import { launchChromium } from './fixtures/report/browser.js';
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
