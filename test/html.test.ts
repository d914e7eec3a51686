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
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { copyTable, openReport, pastedCells, scrollTableToEnd } from './fixtures/report/browser.js';
import { writeReport } from '../src/report/index.js';
import { makeManifest, makeResults, XSS_NAME } from './fixtures/report/fixture.js';
import type { RunEventRecord, RunResult } from '../src/shard/types.js';

/**
 * breakout-swing's runs become two-symbol runs (for the symbol selector): every event repeated on
 * ETHUSDT at 1/20 of the price and 20× the quantity, with its own prices and liquidation prices.
 */
function twoSymbols(r: RunResult): RunResult {
  if (r.spec.strategy !== 'breakout-swing' || r.status !== 'ok') return r;
  const x = structuredClone(r);
  const k = 20;
  x.spec.symbols = ['BTCUSDT', 'ETHUSDT'];
  if (x.prices) x.prices.close.ETHUSDT = x.prices.close.BTCUSDT!.map((p) => (p === null ? null : p / k));
  const lp = x.liquidationPrices!.BTCUSDT!;
  x.liquidationPrices!.ETHUSDT = { time: [...lp.time], price: lp.price.map((p) => (p === null ? null : p / k)) };
  x.events = x.events.flatMap((e): RunEventRecord[] => {
    if (e.type === 'fill') return [e, { ...e, symbol: 'ETHUSDT', price: e.price / k, qty: e.qty * k, positionQty: e.positionQty * k, pool: e.pool.replace('BTCUSDT', 'ETHUSDT') }];
    if (e.type === 'liquidation') {
      return [e, { ...e, pool: e.pool.replace('BTCUSDT', 'ETHUSDT'), legs: e.legs.map((l) => ({ ...l, symbol: 'ETHUSDT', qty: l.qty * k, closePrice: l.closePrice / k, triggerPrice: l.triggerPrice && l.triggerPrice / k, liquidationPrice: l.liquidationPrice && l.liquidationPrice / k })) }];
    }
    return [e];
  });
  return x;
}

/** ma-trend's runs get rejected orders, counts of one, two and three digits (the costs table sorts them as numbers) */
const REJECTED = [3, 12, 100, 9, 25, 1];
function withRejections(r: RunResult, i: number): RunResult {
  if (r.spec.strategy !== 'ma-trend' || r.status !== 'ok') return r;
  const n = REJECTED[i % REJECTED.length]!;
  return { ...r, rejections: { insufficientMargin: n }, metrics: { ...r.metrics, rejectedOrders: n } };
}

/** WCAG contrast ratio of a #rgb / #rrggbb colour against white */
function contrastOnWhite(hex: string): number {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? h.split('').map((c) => c + c).join('') : h;
  const lin = (c: number) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const [r, g, b] = [0, 2, 4].map((k) => lin(parseInt(full.slice(k, k + 2), 16) / 255));
  return 1.05 / (0.2126 * r! + 0.7152 * g! + 0.0722 * b! + 0.05);
}

/** the price chart of a strategy section: its series, summarised */
const priceChart = (strategy: string) => `(() => {
  const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === ${JSON.stringify(strategy)});
  const el = sec.querySelector('.chart[data-kind="price"]');
  return echarts.getInstanceByDom(el).getOption().series.map((s) => ({ name: s.name, type: s.type, n: s.data.length, first: s.data.find((d) => d[1] !== null) || null }));
})()`;
/** chart texts drawn over a value axis' name (a legend entry over 'price'), as 'kind: name under text' */
const AXIS_NAME_CLASHES = `(() => Array.from(document.querySelectorAll('.chart')).flatMap((el) => {
        const inst = echarts.getInstanceByDom(el);
        const names = new Set(inst.getOption().yAxis.map((a) => a.name).filter(Boolean));
        const boxes = inst.getZr().storage.getDisplayList().filter((e) => e.style && typeof e.style.text === 'string' && e.style.text).map((e) => {
          const r = e.getBoundingRect().clone();
          r.applyTransform(e.getComputedTransform());
          return { text: e.style.text, x0: r.x, y0: r.y, x1: r.x + r.width, y1: r.y + r.height };
        });
        const out = [];
        for (const a of boxes) for (const b of boxes) {
          if (a === b || !names.has(a.text)) continue;
          if (a.x0 < b.x1 - 0.5 && b.x0 < a.x1 - 0.5 && a.y0 < b.y1 - 0.5 && b.y0 < a.y1 - 0.5) out.push(el.getAttribute('data-kind') + ': ' + a.text + ' under ' + b.text);
        }
        return out;
      }))()`;
type PriceSeries = { name: string; type: string; n: number; first: [number, number] | null };

let browser: Browser;
let page: Page;
let dir: string;
let results: RunResult[];
let consoleErrors: string[];
let requests: string[];
let dialogs: string[];

beforeAll(async () => {
  results = makeResults().map(twoSymbols).map(withRejections);
  dir = mkdtempSync(join(tmpdir(), 'ml-html-'));
  await writeReport({ dir, results, manifest: makeManifest(results), formats: ['html'] });
  ({ browser, page, consoleErrors, requests, dialogs } = await openReport(join(dir, 'report.html')));
});

afterAll(async () => {
  await browser?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** the report opened in a fresh browser context of its own (time zone, viewport) */
async function inContext(options: BrowserContextOptions, fn: (p: Page) => Promise<void>): Promise<void> {
  const ctx = await browser.newContext(options);
  try {
    const p = await ctx.newPage();
    await p.goto(pathToFileURL(join(dir, 'report.html')).href, { waitUntil: 'load' });
    await p.waitForFunction('Array.isArray(window.__marginlabCharts)');
    await fn(p);
  } finally {
    await ctx.close();
  }
}

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
    // 3 strategies × 5 charts
    expect(charts).toHaveLength(15);
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
    const run = results.find((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 25 && r.spec.setup === 'isolated')!;
    const liqs = run.events.filter((e) => e.type === 'liquidation');
    expect(liqs.length).toBeGreaterThan(0);
    expect(n).toBe(liqs.length);
    // each marker sits on the curve at the close of the bar the liquidation happened in (drawn at closes, the
    // point at or before its time is the bar before: a liquidation was drawn at a margin ratio of 8-88 %)
    const marks = await page.evaluate<{ eq: [number, number][]; mr: [number, number][] }>(`(() => {
      const ma = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'ma-trend');
      const pts = (kind) => echarts.getInstanceByDom(ma.querySelector('.chart[data-kind="' + kind + '"]')).getOption().series
        .filter((s) => s.type === 'scatter' && s.name === 'isolated liquidation')[0].data;
      return { eq: pts('equity'), mr: pts('margin') };
    })()`);
    liqs.forEach((e, k) => {
      const bar = run.curves.time.findIndex((t, i) => t <= e.time && (run.curves.time[i + 1] ?? Infinity) > e.time);
      expect(marks.eq[k]![0]).toBe(e.time);
      expect(marks.eq[k]![1]).toBe(run.curves.equity[bar]);
      expect(marks.mr[k]![1]).toBe(run.curves.marginRatio[bar]);
      expect(marks.mr[k]![1]).toBeGreaterThanOrEqual(100);
    });
  });

  it('the price chart marks entries, exits and liquidations and draws the liquidation price per mode', async () => {
    // the previous test selected ma-trend's 25× configuration, where isolated is liquidated
    const series = await page.evaluate<PriceSeries[]>(priceChart('ma-trend'));
    const runs = results.filter((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 25);
    expect(series[0]).toMatchObject({ name: 'BTCUSDT', type: 'line' });
    expect(series[0]!.n).toBeGreaterThan(100);
    for (const r of runs) {
      const mode = r.spec.setup;
      const count = (name: string) => series.find((s) => s.name === `${mode} ${name}`)?.n ?? 0;
      const fills = r.events.filter((e) => e.type === 'fill').length;
      expect(count('entry') + count('exit'), mode).toBeGreaterThanOrEqual(fills);
      expect(count('liquidation'), mode).toBe(r.events.filter((e) => e.type === 'liquidation').length);
      const lp = series.find((s) => s.name === `${mode} liquidation price`)!;
      expect(lp.type).toBe('line');
      expect(lp.n).toBeGreaterThan(2);
      // the first liquidation price drawn is the one stored for the first position
      expect(lp.first![1]).toBeCloseTo(r.liquidationPrices!.BTCUSDT!.price.find((p) => p !== null)!, 6);
    }
    expect(series.some((s) => s.name === 'isolated liquidation' && s.n > 0)).toBe(true);
  });

  it('the symbol selector switches the price chart to the other symbol', async () => {
    const before = await page.evaluate<PriceSeries[]>(priceChart('breakout-swing'));
    expect(before[0]!.name).toBe('BTCUSDT');
    const options = await page.evaluate<string[]>(`(() => {
      const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'breakout-swing');
      const sel = sec.querySelector('select[data-symbol]');
      const opts = Array.from(sel.options).map((o) => o.value);
      sel.value = 'ETHUSDT';
      sel.dispatchEvent(new Event('change'));
      return opts;
    })()`);
    expect(options).toEqual(['BTCUSDT', 'ETHUSDT']);
    const after = await page.evaluate<PriceSeries[]>(priceChart('breakout-swing'));
    expect(after[0]!.name).toBe('ETHUSDT');
    expect(after[0]!.first![1]).toBeCloseTo(before[0]!.first![1] / 20, 6);
    expect(after.map((s) => s.n)).toEqual(before.map((s) => s.n));
    // the other charts of the section are untouched by the symbol; the single-symbol strategies have no selector
    expect(await page.locator('select[data-symbol]').count()).toBe(1);
    expect(consoleErrors).toEqual([]);
  });

  it('dates the time axes in UTC whatever the reader\'s time zone', async () => {
    // a reader in India (UTC+5:30): local midnights fall at hh:30 UTC, so a tick off the UTC hour is a local date
    await inContext({ timezoneId: 'Asia/Kolkata', viewport: { width: 1440, height: 1000 } }, async (p) => {
      const ticks = await p.evaluate<{ kind: string; t: number; label: string }[]>(`Array.from(document.querySelectorAll('.chart:not([data-kind="costs"])')).flatMap((el) =>
        echarts.getInstanceByDom(el).getModel().getComponent('xAxis', 0).axis.getViewLabels().map((l) => ({ kind: el.getAttribute('data-kind'), t: l.tickValue, label: l.formattedLabel })))`);
      expect(ticks.length).toBeGreaterThan(20);
      for (const x of ticks) {
        expect(x.t % 3_600_000, `${x.kind} tick ${x.label} at ${new Date(x.t).toISOString()}`).toBe(0);
        // a day label names the UTC day of its tick
        const day = /^(\d+) [A-Z][a-z]{2}$/.exec(x.label);
        if (day) expect(Number(day[1]), x.label).toBe(new Date(x.t).getUTCDate());
      }
    });
  });

  it('fits a phone screen: nothing wider than the viewport but what scrolls inside a table box', async () => {
    await inContext({ viewport: { width: 375, height: 800 } }, async (p) => {
      const wide = await p.evaluate<string[]>(`(() => {
        const vw = document.documentElement.clientWidth;
        // inside a box that scrolls sideways (the tables) is fine
        const scrolls = (el) => { for (let a = el.parentElement; a; a = a.parentElement) if (/auto|scroll/.test(getComputedStyle(a).overflowX)) return true; return false; };
        return Array.from(document.querySelectorAll('main *, header *')).filter((el) => el.getBoundingClientRect().right > vw + 0.5 && !scrolls(el))
          .map((el) => el.tagName + '.' + el.className + ' right ' + Math.round(el.getBoundingClientRect().right));
      })()`);
      expect(wide).toEqual([]);
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(375);
      // the cost chart's category labels are readable: no two overlap
      const labels = await p.evaluate<[string, number, number, number, number][]>(`(() => {
        const inst = echarts.getInstanceByDom(document.querySelector('.chart[data-kind="costs"]'));
        const names = ['Fees', 'Funding paid', 'Funding received', 'Liquidation loss', 'Insurance shortfall'];
        return inst.getZr().storage.getDisplayList().filter((e) => e.style && names.includes(e.style.text)).map((e) => {
          const r = e.getBoundingRect().clone();
          r.applyTransform(e.getComputedTransform());
          return [e.style.text, r.x, r.y, r.x + r.width, r.y + r.height];
        });
      })()`);
      expect(labels.map((l) => l[0]).sort()).toEqual(['Fees', 'Funding paid', 'Funding received', 'Insurance shortfall', 'Liquidation loss']);
      for (const a of labels) for (const b of labels) {
        if (a === b) continue;
        const overlap = a[1] < b[3] && b[1] < a[3] && a[2] < b[4] && b[2] < a[4];
        expect(overlap, `${a[0]} overlaps ${b[0]}`).toBe(false);
      }
    });
  });

  it('prints: page.pdf works, every chart is redrawn to its box and every table fits the paper', async () => {
    await inContext({ viewport: { width: 1440, height: 1000 } }, async (p) => {
      // recorded when the print layout applies (after the page's own listeners)
      await p.evaluate(`(() => { window.__print = []; matchMedia('print').addEventListener('change', (e) => { if (e.matches) window.__print.push({
        charts: Array.from(document.querySelectorAll('.chart')).map((el) => [el.clientWidth, el.querySelector('canvas').clientWidth]),
        tables: Array.from(document.querySelectorAll('.table-wrap')).map((el) => [el.querySelector('table').id, el.clientWidth, el.scrollWidth]) }); }); })()`);
      const pdf = await p.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      const layouts = await p.evaluate<{ charts: [number, number][]; tables: [string, number, number][] }[]>('window.__print');
      expect(layouts.length).toBeGreaterThan(0);
      for (const [box, canvas] of layouts[0]!.charts) expect(canvas, `a chart ${box} px wide in print`).toBeLessThanOrEqual(box);
      // paper does not scroll: a table wider than its box would lose its last columns
      for (const [id, box, content] of layouts[0]!.tables) expect(content, `${id} in a ${box} px box in print`).toBeLessThanOrEqual(box);
    });
  });

  it('has one comparison row per run', async () => {
    const rows = await page.locator('#comparison-table tbody tr').count();
    expect(rows).toBe(results.length);
  });

  it('the drawdown chart, drawn below 0, reads as the tables give it: 6.8% below the peak, never −6.8%', async () => {
    const r = await page.evaluate<{ tip: string; axis: string; min: number }>(`(() => {
      const o = echarts.getInstanceByDom(document.querySelector('.chart[data-kind="drawdown"]')).getOption();
      return { tip: o.tooltip[0].valueFormatter(-6.79), axis: o.yAxis[0].axisLabel.formatter(-20), min: Math.min(...o.series.flatMap((x) => x.data.map((d) => d[1]))) };
    })()`);
    expect(r.min).toBeLessThan(0); // the curve is drawn under water
    expect(r.tip).toBe('6.79%');
    expect(r.axis).toBe('20%');
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

  it("labels an errored run's partial curves as errored, and shows no costs of it (the tables show it without figures)", async () => {
    const names = await page.evaluate<Record<string, string[]>>(`(() => {
      const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'breakout-swing');
      const sel = sec.querySelector('select');
      const opt = Array.from(sel.options).find((o) => o.textContent.includes('50×'));
      sel.value = opt.value;
      sel.dispatchEvent(new Event('change'));
      const out = {};
      for (const kind of ['equity', 'drawdown', 'margin', 'costs', 'price']) {
        out[kind] = echarts.getInstanceByDom(sec.querySelector('.chart[data-kind="' + kind + '"]')).getOption().series.map((s) => s.name);
      }
      const costs = echarts.getInstanceByDom(sec.querySelector('.chart[data-kind="costs"]')).getOption();
      out.costBars = costs.series.flatMap((s) => s.data).filter((v) => v !== null && v !== '-').map(String);
      out.costTitle = (costs.title || []).map((t) => t.text);
      sel.value = '0';
      sel.dispatchEvent(new Event('change'));
      return out;
    })()`);
    for (const kind of ['equity', 'drawdown', 'margin']) expect(names[kind], kind).toEqual(['cross (errored: until it stopped)']);
    // the costs chart gives totals, as the perp-costs table, which leaves an errored run out: it drew the
    // partial fees and funding of the run (up to where it stopped) as bars beside the whole runs'
    expect(names.costs).toEqual(['cross (errored: no figures)']);
    expect(names.costBars).toEqual([]);
    expect(names.costTitle).toEqual(['no figures: every run of this configuration errored (see Failures)']);
    // nor does the page carry them: its data holds the numbers of summary.json and runs.csv only
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    const data = JSON.parse(html.slice(html.indexOf('id="ml-data">') + 'id="ml-data">'.length, html.indexOf('</script>', html.indexOf('id="ml-data">')))) as {
      strategies: { configs: { runs: { status: string; costs: unknown }[] }[] }[];
    };
    const runs = data.strategies.flatMap((s) => s.configs.flatMap((c) => c.runs));
    expect(runs.filter((r) => r.status !== 'ok').map((r) => r.costs)).toEqual([null]);
    expect(runs.filter((r) => r.status === 'ok').every((r) => r.costs !== null)).toBe(true);
    // the price chart shows its fills up to where it stopped, named the same way (they were left out)
    expect(names.price!.length).toBeGreaterThan(1);
    expect(names.price!.slice(1).every((n) => n.startsWith('cross (errored: until it stopped) ')), names.price!.join(', ')).toBe(true);
    expect(names.price).toContain('cross (errored: until it stopped) entry');
    expect(consoleErrors).toEqual([]);
  });

  // the liquidation markers of an errored run's equity and margin curves were named '<mode> liquidation', as
  // a whole run's, beside its curve '<mode> (errored: until it stopped)' (the price chart named them so)
  it("names an errored run's liquidation markers on the equity and margin charts as its curves", async () => {
    const rs = results.map((r) => (r.spec.strategy === 'ma-trend' && r.spec.leverage === 25 && r.spec.setup === 'isolated' ? { ...r, status: 'errored' as const, error: 'strategy threw' } : r));
    expect(rs.find((r) => r.status === 'errored' && r.spec.strategy === 'ma-trend')!.events.some((e) => e.type === 'liquidation')).toBe(true);
    const d = mkdtempSync(join(tmpdir(), 'ml-html-errliq-'));
    try {
      await writeReport({ dir: d, results: rs, manifest: makeManifest(rs), formats: ['html'] });
      const p = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      try {
        await p.goto(pathToFileURL(join(d, 'report.html')).href, { waitUntil: 'load' });
        await p.waitForFunction('Array.isArray(window.__marginlabCharts)');
        const names = await p.evaluate<Record<string, string[]>>(`(() => {
          const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'ma-trend');
          const sel = sec.querySelector('select');
          sel.value = Array.from(sel.options).find((o) => o.textContent.includes('25×')).value;
          sel.dispatchEvent(new Event('change'));
          const out = {};
          for (const kind of ['equity', 'margin', 'price']) {
            out[kind] = echarts.getInstanceByDom(sec.querySelector('.chart[data-kind="' + kind + '"]')).getOption().series.filter((s) => s.type === 'scatter' && / liquidation$/.test(s.name)).map((s) => s.name);
          }
          return out;
        })()`);
        for (const kind of ['equity', 'margin', 'price']) expect(names[kind], kind).toContain('isolated (errored: until it stopped) liquidation');
        for (const kind of ['equity', 'margin']) expect(names[kind], kind).not.toContain('isolated liquidation');
      } finally {
        await p.close();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
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

describe('report.html for its readers: legible, keyboard-usable, consistent', () => {
  it('draws every chart text legibly: 4.5:1 contrast on white at least (the time axes drew their dates in the axis line grey, 1.6:1)', async () => {
    const texts = await page.evaluate<[string, string, string][]>(`(() => Array.from(document.querySelectorAll('.chart')).flatMap((el) =>
      echarts.getInstanceByDom(el).getZr().storage.getDisplayList()
        .filter((e) => e.style && typeof e.style.text === 'string' && e.style.text && typeof e.style.fill === 'string' && /^#[0-9a-f]{3,6}$/i.test(e.style.fill))
        .map((e) => [el.getAttribute('data-kind'), e.style.text, e.style.fill])))()`);
    // every chart has its time axis dated (the costs chart has categories)
    expect(texts.filter(([kind, text]) => kind !== 'costs' && /^\d+ [A-Z][a-z]{2}$|^[A-Z][a-z]{2} \d{4}$/.test(text)).length).toBeGreaterThan(20);
    const faint = texts.filter(([, , fill]) => contrastOnWhite(fill) < 4.5).map(([kind, text, fill]) => `${kind}: '${text}' in ${fill} (${contrastOnWhite(fill).toFixed(1)}:1)`);
    expect([...new Set(faint)]).toEqual([]);
  });

  it('on a phone, no legend covers an axis name (the price legend was drawn over "price")', async () => {
    await inContext({ viewport: { width: 375, height: 800 } }, async (p) => {
      expect(await p.evaluate<string[]>(AXIS_NAME_CLASHES)).toEqual([]);
    });
  });

  it('turned to a phone\'s width after it was drawn (a phone turned upright, a window narrowed), no legend covers an axis name either', async () => {
    // the charts kept the layout of the width they were first drawn at: a resize only rescaled them
    await inContext({ viewport: { width: 900, height: 800 } }, async (p) => {
      expect(await p.evaluate<string[]>(AXIS_NAME_CLASHES)).toEqual([]);
      await p.setViewportSize({ width: 375, height: 800 });
      await p.waitForTimeout(300);
      expect(await p.evaluate<string[]>(AXIS_NAME_CLASHES)).toEqual([]);
      // and back: the wide layout again (the plot 30 px from the top, under a legend at the right)
      await p.setViewportSize({ width: 900, height: 800 });
      await p.waitForTimeout(300);
      const tops = await p.evaluate<number[]>(`Array.from(document.querySelectorAll('.chart[data-strategy]')).filter((el) => el.getAttribute('data-kind') !== 'costs').map((el) => echarts.getInstanceByDom(el).getOption().grid[0].top)`);
      expect(new Set(tops)).toEqual(new Set([30]));
    });
  });

  it("the price chart's legend shows exits as ▼, as its caption does (it showed ▲ for entries and exits alike)", async () => {
    const legend = await page.evaluate<{ series: string[]; icons: [string, string | null][] }>(`(() => {
      const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'ma-trend');
      const o = echarts.getInstanceByDom(sec.querySelector('.chart[data-kind="price"]')).getOption();
      return { series: o.series.map((s) => s.name), icons: (o.legend[0].data || []).map((d) => typeof d === 'string' ? [d, null] : [d.name, d.icon || null]) };
    })()`);
    expect(legend.series.some((n) => n.endsWith(' exit'))).toBe(true);
    // every series is in the legend, the exits with an icon of their own: a triangle pointing down
    expect(legend.icons.map(([n]) => n)).toEqual(legend.series);
    for (const [name, icon] of legend.icons) {
      if (!name.endsWith(' exit')) {
        expect(icon, name).toBe(null);
        continue;
      }
      expect(icon, name).toMatch(/^path:\/\//);
      const ys = icon!.slice(7).match(/-?\d+(\.\d+)?/g)!.map(Number).filter((_, k) => k % 2 === 1);
      // two corners share the top, the apex is alone at the bottom
      expect(ys.filter((y) => y === Math.min(...ys)).length, name).toBe(2);
      expect(ys.filter((y) => y === Math.max(...ys)).length, name).toBe(1);
    }
  });

  it('puts empty cells of a text column last in both directions, as number columns do (they sorted first ascending)', async () => {
    const col = Number(await page.locator('#comparison-table thead th', { hasText: /^Strategy$/ }).getAttribute('data-col'));
    // one row's text cell emptied (a Data column's cell is empty for a run of the dataset without a label)
    await page.evaluate(`(() => { const tr = document.querySelector('#comparison-table tbody tr'); tr.id = 'empty-text-row'; tr.cells[${col}].setAttribute('data-v', ''); })()`);
    const header = page.locator('#comparison-table thead th', { hasText: /^Strategy$/ });
    const lastId = () => page.evaluate<string>(`Array.from(document.querySelectorAll('#comparison-table tbody tr')).at(-1).id`);
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    expect(await lastId()).toBe('empty-text-row');
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('descending');
    expect(await lastId()).toBe('empty-text-row');
  });

  it('sorts a count column as numbers, not as text (rejections 1, 3, 9, 12, 25, 100; not 1, 100, 12, 25, 3, 9)', async () => {
    const header = page.locator('#costs-table thead th', { hasText: /^Rejections by reason$/ });
    await header.locator('button').click();
    expect(await header.getAttribute('aria-sort')).toBe('ascending');
    const col = Number(await header.getAttribute('data-col'));
    const vs = await page.evaluate<number[]>(`Array.from(document.querySelectorAll('#costs-table tbody tr')).map((tr) => Number(tr.cells[${col}].getAttribute('data-v')))`);
    expect(vs.filter((v) => v > 0)).toEqual([...REJECTED].sort((a, b) => a - b));
    expect(vs).toEqual([...vs].sort((a, b) => a - b));
    // and the leverage-sweep's leverages-tested column, a count as well
    expect(await page.locator('#sweep-table thead th', { hasText: /^Leverages tested$/ }).getAttribute('data-type')).toBe('num');
  });

  it("a winner's row keeps its highlight under the pointer, and other rows still show the pointer (hovering a winner painted it as any row)", async () => {
    await inContext({ viewport: { width: 1440, height: 1000 } }, async (p) => {
      const bg = (sel: string) => p.evaluate(`getComputedStyle(document.querySelector(${JSON.stringify(sel)})).backgroundColor`) as Promise<string>;
      const winner = 'tr.winner td:nth-child(3)';
      const plain = 'tbody tr:not(.winner):not(.errored) td:nth-child(3)';
      expect(await p.locator('tr.winner').count()).toBeGreaterThan(0);
      const [winnerIdle, plainIdle] = [await bg(winner), await bg(plain)];
      await p.locator(plain).first().scrollIntoViewIfNeeded();
      await p.locator(plain).first().hover();
      const plainHover = await bg(plain);
      await p.locator(winner).first().scrollIntoViewIfNeeded();
      await p.locator(winner).first().hover();
      const winnerHover = await bg(winner);
      expect(plainHover).not.toBe(plainIdle);
      // still a winner's yellow (red above green and blue), and not the plain row's hover grey
      expect(winnerHover).not.toBe(plainHover);
      const [r, g, b] = winnerHover.match(/\d+/g)!.map(Number) as [number, number, number];
      expect(r).toBeGreaterThan(b);
      expect(winnerHover).not.toBe(winnerIdle);
    });
  });

  it('shows where the keyboard is: a focused sort button has a visible focus ring', async () => {
    await inContext({ viewport: { width: 1440, height: 1000 } }, async (p) => {
      let focused: { tag: string; ring: boolean; visible: boolean } | null = null;
      for (let i = 0; i < 30; i++) {
        await p.keyboard.press('Tab');
        focused = await p.evaluate(`(() => {
          const a = document.activeElement;
          const cs = getComputedStyle(a);
          return { tag: a.tagName + (a.closest('th') ? ' in th' : ''), ring: (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none', visible: a.matches(':focus-visible') };
        })()`);
        if (focused!.tag === 'BUTTON in th') break;
      }
      expect(focused!.tag).toBe('BUTTON in th');
      expect(focused!.visible).toBe(true);
      expect(focused!.ring).toBe(true);
      // Enter sorts by it
      await p.keyboard.press('Enter');
      expect(await p.evaluate(`document.activeElement.closest('th').getAttribute('aria-sort')`)).toBe('ascending');
    });
  });

  it("the symbol selector names the symbol drawn: a configuration that does not trade the chosen symbol draws its own, and the selector says which", async () => {
    const state = await page.evaluate<{ drawn: string; selected: string; disabled: string[] }>(`(() => {
      const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'breakout-swing');
      const sym = sec.querySelector('select[data-symbol]');
      const cfg = sec.querySelector('select[data-strategy]');
      cfg.value = '0'; cfg.dispatchEvent(new Event('change'));
      sym.value = 'ETHUSDT'; sym.dispatchEvent(new Event('change'));
      // the 50× configuration (its run errored on BTCUSDT alone) trades no ETHUSDT
      const i = Array.from(cfg.options).findIndex((o) => o.textContent.includes('50×'));
      cfg.value = String(i); cfg.dispatchEvent(new Event('change'));
      const drawn = echarts.getInstanceByDom(sec.querySelector('.chart[data-kind="price"]')).getOption().series[0].name;
      return { drawn, selected: sym.value, disabled: Array.from(sym.options).filter((o) => o.disabled).map((o) => o.value) };
    })()`);
    expect(state).toEqual({ drawn: 'BTCUSDT', selected: 'BTCUSDT', disabled: ['ETHUSDT'] });
    // back on the configuration that trades both, both can be chosen again
    const back = await page.evaluate<string[]>(`(() => {
      const sec = Array.from(document.querySelectorAll('section.strategy')).find((s) => s.querySelector('h2').textContent === 'breakout-swing');
      const cfg = sec.querySelector('select[data-strategy]');
      cfg.value = '0'; cfg.dispatchEvent(new Event('change'));
      return Array.from(sec.querySelector('select[data-symbol]').options).filter((o) => o.disabled).map((o) => o.value);
    })()`);
    expect(back).toEqual([]);
    expect(consoleErrors).toEqual([]);
  });
});

describe('report.html tables on a laptop and a phone: headers and the first column stay in sight', () => {
  it('a long table scrolls in its own box under its header row (sticky inside the box that scrolls, not a page that does not)', async () => {
    // a window too short for the comparison table: its box, at most 85% of the window high, scrolls
    await inContext({ viewport: { width: 1440, height: 400 } }, async (p) => {
      const r = await scrollTableToEnd(p, '#comparison-table');
      expect(r.scrollY).toBeGreaterThan(0);
      expect(r.headTops.length).toBeGreaterThan(5);
      expect(new Set(r.headTops)).toEqual(new Set([0]));
      expect(r.hidden).toEqual([]);
      // laptop width: nothing wider than the window
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1440);
    });
  });

  it('on a phone, a table scrolled to its last column keeps its first column (the strategy) in sight, over nothing and under nothing', async () => {
    await inContext({ viewport: { width: 390, height: 700 } }, async (p) => {
      for (const id of ['comparison-table', 'sweep-table', 'costs-table']) {
        const r = await scrollTableToEnd(p, `#${id}`);
        expect(r.scrollX, id).toBeGreaterThan(0);
        expect(r.firstLefts.length, id).toBeGreaterThan(0);
        expect(new Set(r.firstLefts), id).toEqual(new Set([0]));
        expect(new Set(r.headTops), id).toEqual(new Set([0]));
        expect(r.hidden, id).toEqual([]);
      }
      expect(await p.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    });
  });

  it('the keyboard reaches a table box and scrolls it both ways', async () => {
    await inContext({ viewport: { width: 390, height: 700 } }, async (p) => {
      let inBox = false;
      for (let i = 0; i < 40 && !inBox; i++) {
        await p.keyboard.press('Tab');
        inBox = await p.evaluate<boolean>(`document.activeElement.classList.contains('table-wrap') && !!document.activeElement.querySelector('#comparison-table')`);
      }
      expect(inBox).toBe(true);
      expect(await p.evaluate<boolean>(`document.activeElement.matches(':focus-visible') && getComputedStyle(document.activeElement).outlineStyle !== 'none'`)).toBe(true);
      await p.keyboard.press('ArrowDown');
      await p.keyboard.press('ArrowRight');
      // scrolled smoothly: polled (the page's CSP forbids waitForFunction's string evaluation)
      let at: [number, number] = [0, 0];
      for (let i = 0; i < 50 && !(at[0] > 0 && at[1] > 0); i++) {
        await p.waitForTimeout(40);
        at = await p.evaluate<[number, number]>('[document.activeElement.scrollTop, document.activeElement.scrollLeft]');
      }
      expect(at[0]).toBeGreaterThan(0);
      expect(at[1]).toBeGreaterThan(0);
    });
  });

  it('sorts a table of 200,000 rows (one replaceChildren call with a row per argument overflowed the stack from about 130,000)', async () => {
    await inContext({ viewport: { width: 1440, height: 1000 } }, async (p) => {
      const errors: string[] = [];
      p.on('pageerror', (e) => errors.push(e.message));
      // the comparison table grown to 200,000 rows (copies of its own, each with a Return of its own)
      const col = await p.evaluate<number>(`(() => {
        const t = document.getElementById('comparison-table');
        const th = Array.from(t.tHead.rows[0].cells).find((c) => c.textContent.trim().startsWith('Return'));
        const col = Number(th.getAttribute('data-col'));
        const tb = t.tBodies[0];
        const proto = Array.from(tb.rows).find((tr) => tr.cells[col].getAttribute('data-v') !== '');
        const f = document.createDocumentFragment();
        for (let i = 0; i < 200000; i++) {
          const tr = proto.cloneNode(true);
          tr.cells[col].setAttribute('data-v', String((i * 7919) % 200000));
          f.appendChild(tr);
        }
        tb.replaceChildren(f);
        // not laid out (minutes for 200,000 rows on a loaded machine): the sort's code is the same
        t.closest('.table-wrap').hidden = true;
        return col;
      })()`);
      // clicked from the page (the layout of 200,000 rows outlasts a locator's wait for the button to be stable)
      const r = await p.evaluate<{ n: number; sorted: boolean; first: string | null; sort: string | null }>(`(() => {
        const th = document.querySelector('#comparison-table thead th[data-col="${col}"]');
        th.querySelector('button').click();
        const rows = document.getElementById('comparison-table').tBodies[0].rows;
        let sorted = true;
        for (let i = 1; i < rows.length && sorted; i++) sorted = Number(rows[i - 1].cells[${col}].getAttribute('data-v')) <= Number(rows[i].cells[${col}].getAttribute('data-v'));
        return { n: rows.length, sorted, first: rows[0].cells[${col}].getAttribute('data-v'), sort: th.getAttribute('aria-sort') };
      })()`);
      expect(errors).toEqual([]);
      expect(r).toEqual({ n: 200000, sorted: true, first: '0', sort: 'ascending' });
    });
  }, 120_000);

  it("copies as a table: a selection of the sorted table gives a line per row shown and a tab between cells, in the order shown (a header label and a mode chip each broke their row's line)", async () => {
    // a spreadsheet splits pasted text at line breaks and tabs: the header's sort buttons and the Mode column's chips,
    // flex boxes, copied as blocks of their own (a header of one label per line, 'isolated' on a line of its own)
    await inContext({ viewport: { width: 1440, height: 1000 }, permissions: ['clipboard-read', 'clipboard-write'] }, async (p) => {
      await p.locator('#comparison-table thead th', { hasText: /^Max DD$/ }).locator('button').click();
      for (const id of ['comparison-table', 'sweep-table', 'costs-table']) {
        const t = await copyTable(p, `#${id}`);
        expect(t.shown[0]![0], id).toBe('Strategy');
        expect(pastedCells(t.selected), id).toEqual(t.shown);
        // Ctrl+C's text/plain is that selection's text
        expect(t.copied, id).toBe(t.selected);
      }
      // a winner's star stays in its mode's cell, a space apart
      const t = await copyTable(p, '#comparison-table');
      const mode = t.shown[0]!.indexOf('Mode');
      expect(pastedCells(t.copied).some((r) => /^(isolated|cross|mixed) ★$/.test(r[mode]!))).toBe(true);
    });
  });
});

describe('curves that coincide', () => {
  it('isolated is drawn wide and translucent, cross over it, mixed dashed on top: a mixed curve identical to cross leaves both visible', async () => {
    const all = makeResults();
    const cross = all.find((r) => r.status === 'ok' && r.spec.setup === 'cross')!;
    const mixed = structuredClone(cross);
    mixed.spec.setup = 'mixed';
    mixed.runId = cross.runId.split('').reverse().join('');
    const same = all.filter((r) => r.spec.strategy === cross.spec.strategy && r.spec.leverage === cross.spec.leverage && JSON.stringify(r.spec.params) === JSON.stringify(cross.spec.params));
    const results = [...same, mixed];
    const d = mkdtempSync(join(tmpdir(), 'ml-html-mixed-'));
    const o = { browser: undefined as Browser | undefined };
    try {
      await writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['html'] });
      const opened = await openReport(join(d, 'report.html'));
      o.browser = opened.browser;
      const styles = await opened.page.evaluate<{ name: string; width: number; type: string; opacity: number; z: number }[]>(`(() => {
        const el = document.querySelector('.chart[data-kind="equity"]');
        return echarts.getInstanceByDom(el).getOption().series.filter((s) => s.type === 'line')
          .map((s) => ({ name: s.name, width: s.lineStyle.width, type: s.lineStyle.type || 'solid', opacity: s.lineStyle.opacity, z: s.z }));
      })()`);
      const by = Object.fromEntries(styles.map((s) => [s.name, s]));
      expect(Object.keys(by).sort()).toEqual(['cross', 'isolated', 'mixed']);
      expect(by.isolated!.width).toBeGreaterThan(by.cross!.width);
      expect(by.isolated!.opacity).toBeLessThan(1);
      expect([by.cross!.type, by.mixed!.type]).toEqual(['solid', 'dashed']);
      expect(by.mixed!.z).toBeGreaterThan(by.cross!.z);
      expect(by.cross!.z).toBeGreaterThan(by.isolated!.z);
      expect(opened.consoleErrors).toEqual([]);
    } finally {
      await o.browser?.close();
      rmSync(d, { recursive: true, force: true });
    }
  });
});
