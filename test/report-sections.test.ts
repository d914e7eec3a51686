/**
 * The sections of report.md and report.html that the fixture sweep alone does not reach: the notes
 * on liquidation-price source and optimistic cross checks, an all-ok folder (no failures), an empty
 * folder, and the Markdown sections after the comparison (per-configuration verdicts, mode totals,
 * perp costs with rejections by reason). Rendered in process from the report model.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/report/model.js';
import { leverageSweep, modeTotals, type ModeTotals } from '../src/report/aggregate.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { renderHtml } from '../src/report/html.js';
import type { SweepRow } from '../src/report/model.js';
import { buildSummary, SummarySchema } from '../src/report/summary.js';
import { renderCsv } from '../src/report/csv.js';
import type { RunResult } from '../src/shard/types.js';
import { makeManifest, makeResults } from './fixtures/report/fixture.js';
import { makeStressResults } from './fixtures/report/stress-fixture.js';

let results: RunResult[];
let sweep: SweepRow[];
let modes: ModeTotals[];

beforeAll(async () => {
  results = makeResults(24 * 30);
  [sweep, modes] = await Promise.all([leverageSweep(results), modeTotals(results)]);
});

const render = (rs: RunResult[]) => {
  const model = buildModel(rs, makeManifest(rs));
  return { md: renderMarkdown(model, sweep, modes), html: renderHtml(model, sweep, modes) };
};
const clone = (r: RunResult): RunResult => JSON.parse(JSON.stringify(r)) as RunResult;
const TRADE_NOTE = 'checked liquidations on trade prices at some or all bars (no mark-price candle for a symbol at those bars): liquidations may trigger earlier or later than on the venue.';
const CROSS_NOTE = 'multi-symbol runs checked cross pools at the close only (optimistic): intrabar cross liquidations can be missed.';

describe('liquidation-price-source note', () => {
  it('absent when every run checked liquidations on mark prices', () => {
    const { md, html } = render(results);
    for (const note of [TRADE_NOTE, CROSS_NOTE]) {
      expect(md).not.toContain(note);
      expect(html).not.toContain(note);
    }
  });
  it('counts ok runs on trade or mixed prices, in both reports', () => {
    const rs = results.map(clone);
    const ok = rs.filter((r) => r.status === 'ok');
    ok[0]!.liquidationPriceSource = 'trade';
    ok[1]!.liquidationPriceSource = 'mixed';
    rs.find((r) => r.status === 'errored')!.liquidationPriceSource = 'trade'; // an errored run is not counted
    const { md, html } = render(rs);
    expect(md).toContain(`> **Note:** 2 of ${rs.length} runs ${TRADE_NOTE}`);
    expect(html).toContain(`<p class="note">2 of ${rs.length} runs ${TRADE_NOTE}</p>`);
  });
});

describe('optimistic cross-check note', () => {
  it('only for runs with several symbols', () => {
    const rs = results.map(clone);
    rs[0]!.crossCheck = 'optimistic';
    expect(render(rs).md).not.toContain(CROSS_NOTE);
    rs[0]!.spec.symbols = ['BTCUSDT', 'ETHUSDT'];
    const { md, html } = render(rs);
    expect(md).toContain(`> **Note:** 1 ${CROSS_NOTE}`);
    expect(html).toContain(`<p class="note">1 ${CROSS_NOTE}</p>`);
  });
});

describe('failures section', () => {
  it('lists errored runs with their error', () => {
    const failed = results.find((r) => r.status === 'errored')!;
    const { html } = render(results);
    expect(html).toMatch(new RegExp(`<section id="failures"><h2>Failures</h2><ul class="failures"><li><code>${failed.runId}</code> <b>breakout-swing</b> fast=6, slow=100 · <span class="mode mode-cross"><i></i>cross</span> · 50×: strategy threw at bar 37`));
  });
  it('names an errored stress run\'s path or crash scenario, in both reports (failed paths were told apart only in runs.csv)', () => {
    const rs = results.map(clone);
    const failed = rs.find((r) => r.status === 'errored')!;
    failed.spec.stress = { kind: 'path', seed: 1, pathIndex: 22, blockBars: 24 };
    let { md, html } = render(rs);
    expect(md).toMatch(new RegExp(`- \`${failed.runId}\` breakout-swing fast=6, slow=100 · cross · 50× · path 22: strategy threw at bar 37`));
    expect(html).toMatch(new RegExp(`<li><code>${failed.runId}</code> <b>breakout-swing</b> fast=6, slow=100 · <span class="mode mode-cross"><i></i>cross</span> · 50× · path 22: strategy threw at bar 37`));
    failed.spec.stress = { kind: 'scenario', scenario: 'crash-2025-10-10', injectAt: Date.UTC(2025, 6, 1, 9) };
    ({ md, html } = render(rs));
    expect(md).toContain('· 50× · crash-2025-10-10 at 2025-07-01T09:00:00.000Z: strategy threw at bar 37');
    expect(html).toContain('· 50× · crash-2025-10-10 at 2025-07-01T09:00:00.000Z: strategy threw at bar 37');
  });
  it('says so when every run completed', () => {
    const { md, html } = render(results.filter((r) => r.status === 'ok'));
    expect(md).toContain('## Failures\n\nNone: every run completed.\n');
    expect(html).toContain('<section id="failures"><h2>Failures</h2><p class="muted">None: every run completed.</p></section>');
  });
});

describe('verdicts say which setups errored', () => {
  /** ma-trend at 10x under isolated (errored), cross and mixed (a copy of cross) */
  const withErroredIsolated = (): RunResult[] => {
    const rs = results.map(clone);
    const iso = rs.find((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 10 && r.spec.setup === 'isolated')!;
    iso.status = 'errored';
    iso.error = 'strategy threw at bar 9';
    const mixed = clone(rs.find((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 10 && r.spec.setup === 'cross')!);
    mixed.spec.setup = 'mixed';
    mixed.runId = 'ffffffffffffff01' as RunResult['runId'];
    return [...rs, mixed];
  };
  // a configuration whose isolated run errored was judged on cross and mixed as if isolated had not been planned,
  // and a configuration left without a verdict by errored runs dropped out of the strategy's headline in silence
  it('a configuration judged without an errored setup says so, in report.md, report.html and summary.json', () => {
    const rs = withErroredIsolated();
    const model = buildModel(rs, makeManifest(rs));
    const c = model.configs.find((x) => x.strategy === 'ma-trend' && x.leverage === 10)!;
    expect(c.verdict!.line).toMatch(/ isolated errored \(no figures: see Failures\), so it is not compared\.$/);
    const { md, html } = render(rs);
    expect(md).toContain('isolated errored (no figures: see Failures), so it is not compared.');
    expect(html).toContain('isolated errored (no figures: see Failures), so it is not compared.');
    const summary = buildSummary(model, sweep, modes);
    expect(summary.comparisons.find((x) => x.id === c.id)!.verdict).toContain('isolated errored');
  });
  it('a configuration left without a verdict by errored runs is counted in the strategy headline', () => {
    const model = buildModel(results, makeManifest(results));
    const s = model.strategies.find((x) => x.strategy === 'breakout-swing')!;
    // the 50x configuration planned cross only, and its run errored
    expect(s.verdict!.line).toContain('1 more configuration not judged: fewer than two modes completed (fast=6, slow=100 · binance-usdm · 50×: cross errored; see Failures).');
  });
  it('a strategy whose every configuration errored names them and points to Failures (it read a bare "no verdict"); its card says "no verdict"', () => {
    const rs = results.map((r) => (r.spec.strategy === 'ma-trend' ? { ...r, status: 'errored' as const, error: 'x' } : r));
    const v = buildModel(rs, makeManifest(rs)).strategies.find((x) => x.strategy === 'ma-trend')!.verdict!;
    expect(v.winner).toBeNull();
    expect(v.line).toMatch(/^no verdict: fewer than two modes completed in any of its \d+ configurations \(fast=12, slow=48 · binance-usdm · \d+×: isolated and cross errored; .*; see Failures\)\.$/);
    const { md, html } = render(rs);
    expect(md).toContain('- **ma-trend**: no verdict: fewer than two modes completed in any of its');
    expect(html).toMatch(/<h3>ma-trend<\/h3><p class="winner">no verdict<\/p><p>no verdict: fewer than two modes completed/);
  });
  it('three errored setups are listed as a list ("isolated, cross and mixed errored", not "isolated and cross and mixed")', () => {
    const rs = withErroredIsolated().map((r) => (r.spec.strategy === 'ma-trend' && r.spec.leverage === 10 ? { ...r, status: 'errored' as const, error: 'x' } : r));
    const model = buildModel(rs, makeManifest(rs));
    expect(model.strategies.find((x) => x.strategy === 'ma-trend')!.verdict!.line).toContain('fast=12, slow=48 · binance-usdm · 10×: isolated, cross and mixed errored; see Failures).');
  });
  it('an incomplete report covering one run says "1 run" (it said "cover 1 runs")', () => {
    const one = results.slice(0, 1);
    const manifest = makeManifest(one);
    manifest.runs = { total: 3, ok: 3, errored: 0 };
    const model = buildModel(one, manifest);
    expect(model.missing).toBe(2);
    expect(renderMarkdown(model, leverageSweep(one), modeTotals(one))).toContain('the tables below cover 1 run.');
    expect(renderHtml(model, leverageSweep(one), modeTotals(one))).toContain('the tables below cover 1 run.');
  });
  it('one run, not "1 runs"', () => {
    const rs = withErroredIsolated();
    const model = buildModel(rs.filter((r) => !(r.spec.strategy === 'ma-trend' && r.spec.leverage === 25)), makeManifest(rs));
    expect(model.strategies.find((x) => x.strategy === 'ma-trend')!.verdict!.line).toMatch(/isolated: [^;]* in 1 run;/);
  });
});

describe("an errored run's books, rejections and stress figures", () => {
  // summary.json kept the books of an errored run (a strategy that threw after a liquidation: its penalty
  // and loss up to there) and runs.csv / summary.json its rejections, while report.md, report.html and
  // compare show it without figures (shownMetrics): summing fees over summary.json counted part of a run
  it('are not shown: books {}, rejections {} (runs.csv: empty), stress figures null', () => {
    const rs = results.map(clone);
    const err = rs.find((r) => r.status === 'errored')!;
    expect(Object.keys(err.books).length).toBeGreaterThan(0);
    err.rejections = { insufficientMargin: 2 };
    const stressRun = makeStressResults({ bars: 24 * 10, paths: 1, leverages: [3] }).find((r) => r.spec.stress?.kind === 'path')!;
    expect(stressRun.stress).toBeDefined();
    const stressErr: RunResult = { ...clone(stressRun), status: 'errored', error: 'strategy threw' };
    const all = [...rs, stressErr];
    const model = buildModel(all, makeManifest(all));
    const summary = SummarySchema.parse(buildSummary(model, sweep, modes));
    const e = summary.runs.find((r) => r.runId === err.runId)!;
    expect(e.books).toEqual({});
    expect(e.rejections).toEqual({});
    const se = summary.runs.find((r) => r.runId === stressErr.runId)!;
    expect(se.stress).toMatchObject({ survived: null, wipedOut: null, peakMarginRatio: null, lossAtShock: null, firstLiquidated: [] });
    // an ok run keeps them
    const ok = rs.find((r) => r.status === 'ok')!;
    expect(summary.runs.find((r) => r.runId === ok.runId)!.books).toEqual(ok.books);
    const row = renderCsv(all).split('\r\n').find((l) => l.startsWith(err.runId))!;
    expect(row).not.toContain('insufficientMargin');
  });
});

describe("report.md names marginlab's docs, not a docs/ folder of the reader's project", () => {
  // in a project that installed marginlab there is no docs/ folder: 'Definitions: docs/metrics.md' sent the reader nowhere
  it('every docs/ reference reads "marginlab’s docs/…" (comparison legend, short-window note, stress legend, footer)', () => {
    const stress = makeStressResults({ bars: 24 * 10, paths: 2, leverages: [3] });
    for (const rs of [results, stress]) {
      const md = renderMarkdown(buildModel(rs, makeManifest(rs)), sweep, modes);
      const refs = md.match(/.{0,12}docs\/[a-z-]+\.md/g) ?? [];
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(r).toContain("marginlab's docs/");
    }
  });
});

describe('an empty run folder', () => {
  it('renders every section with a placeholder', () => {
    const model = buildModel([], makeManifest([]));
    const md = renderMarkdown(model, [], []);
    expect(md).toContain('0 runs (0 ok, 0 errored) · data: none ·');
    expect(md).toMatch(/## Verdicts\n\nNo runs\.\n/);
    expect(md).toMatch(/## Comparison: strategy × margin mode\n\nNo runs\.\n/);
    expect(md).toMatch(/## Leverage sweep: highest leverage without a liquidation\n\nNo completed runs\.\n/);
    expect(md).not.toContain('## Totals by mode');
    expect(md).toMatch(/## Perp costs and rejections\n\nNo completed runs\.\n/);
    const html = renderHtml(model, [], []);
    expect(html).toContain('<div class="verdicts"><p class="muted">No runs.</p></div>');
    expect(html).toMatch(/<section id="sweep"><h2>[^<]+<\/h2>\n<p class="muted">No completed runs\.<\/p>/);
    expect(html).toMatch(/<section id="costs"><h2>[^<]+<\/h2>\n<p class="muted">No completed runs\.<\/p>/);
    expect(html).not.toContain('<section class="strategy"');
  });
});

describe('report.md sections after the comparison', () => {
  it('a strategy with several configurations gets a headline and one line per configuration', () => {
    const { md } = render(results);
    expect(md).toMatch(/- \*\*ma-trend\*\*: (?:(?:isolated|cross) served it in \d of 3 configurations|no mode served it consistently across 3 configurations) \(.+\); isolated: median return .+, \d+ liquidations? in 3 runs; cross: median return .+, \d+ liquidations? in 3 runs\.\n/);
    for (const lev of [3, 10, 25]) expect(md).toMatch(new RegExp(`\\n  - fast=12, slow=48 · binance-usdm · ${lev}×: (isolated|cross|tie)`));
  });

  it('mode totals sum the ok runs of each mode', () => {
    const { md } = render(results);
    for (const mode of ['isolated', 'cross'] as const) {
      const rs = results.filter((r) => r.status === 'ok' && r.spec.setup === mode);
      const liqs = rs.reduce((a, r) => a + (r.metrics.liquidations ?? 0), 0);
      const liquidated = rs.filter((r) => (r.metrics.liquidations ?? 0) > 0).length;
      const near = rs.reduce((a, r) => a + (r.metrics.nearMisses ?? 0), 0);
      expect(md).toContain(`| ${mode} | ${rs.length} | ${liqs} | ${liquidated} | ${near} |`);
    }
  });

  it('perp costs: one row per ok run, the rejected count, rejections by reason (escaped) or —', () => {
    const rs = results.map(clone);
    const target = rs.find((r) => r.status === 'ok' && r.spec.strategy === 'breakout-swing' && r.spec.setup === 'cross')!;
    target.rejections = { 'x|y': 1, insufficientMargin: 4 };
    const { md, html } = render(rs);
    const section = md.slice(md.indexOf('## Perp costs and rejections'), md.indexOf('## Failures'));
    const rows = section.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Strategy') && !l.startsWith('| :'));
    expect(rows).toHaveLength(rs.filter((r) => r.status === 'ok').length);
    expect(rows.filter((l) => l.endsWith(' | — |'))).toHaveLength(rows.length - 1);
    expect(section).toMatch(/\| breakout-swing \| fast=6, slow=100 \| 5× \| cross \|( [^|]+ \|){7} insufficientMargin 4, x\\\|y 1 \|/);
    expect(html).toContain('>insufficientMargin 4, x|y 1</td>');
  });
});

describe('run warnings from the manifest', () => {
  it('appear as notes in both reports, escaped', () => {
    const warning = 'dataset d: 1d bars are longer than binance-usdm\'s 8h funding interval; <funding> settles at bar opens';
    const model = buildModel(results, { ...makeManifest(results), warnings: [warning] });
    const md = renderMarkdown(model, sweep, modes);
    const html = renderHtml(model, sweep, modes);
    expect(md).toContain('> **Note:** dataset d: 1d bars are longer than');
    expect(html).toContain('<p class="note">dataset d: 1d bars are longer than binance-usdm&#39;s 8h funding interval; &lt;funding&gt; settles at bar opens</p>');
  });
});

describe('user text with line breaks in report.md', () => {
  it('a carriage return (a Markdown line ending on its own) in a param or an error message cannot end a table row or a list item', () => {
    const rs = results.map(clone);
    const ok = rs.find((r) => r.status === 'ok')!;
    ok.spec.params = { ...ok.spec.params, label: 'a\r# all passed\u2028x' };
    const err = rs.find((r) => r.status === 'errored')!;
    err.error = 'boom\r| injected | row |\r\n\n## Verdicts';
    const { md } = render(rs);
    expect(md).not.toMatch(/[\r\u2028\u2029]/);
    // every line that holds the injected text is still one line of its table / list
    for (const line of md.split('\n').filter((l) => l.includes('all passed') || l.includes('injected'))) {
      expect(line.startsWith('| ') || line.startsWith('- ') || line.startsWith('  - ')).toBe(true);
    }
  });
});

describe('bidi and other control characters in report.md and report.html', () => {
  it('a bidi control (RLO U+202E, an isolate, an LRM) or an ESC in a strategy name, a param or an error is shown as its escape, in the Markdown and in the HTML text', () => {
    const rs = results.map(clone);
    // a result file carries the name as written (the strategy folders' scan refuses such a file name; a crafted folder does not)
    for (const r of rs) r.spec.strategy = `${r.spec.strategy}-\u202e x`;
    const ok = rs.find((r) => r.status === 'ok')!;
    ok.spec.params = { ...ok.spec.params, label: 'a\u2067b\u200e\u001b[31m' };
    const err = rs.find((r) => r.status === 'errored')!;
    err.error = 'boom \u202e reversed';
    const { md, html } = render(rs);
    const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u001b]/;
    expect(md).not.toMatch(BIDI);
    expect(md).toContain('-\\\\u202e x');
    expect(md).toContain('label=a\\\\u2067b\\\\u200e\\\\x1b\\[31m');
    expect(md).toContain('boom \\\\u202e reversed');
    // the page's data (inside its script element, read with textContent, shown nowhere as markup) keeps the values as they are
    const text = html.replace(/<script[^]*?<\/script>/g, '');
    expect(text).not.toMatch(BIDI);
    expect(text).toContain('-\\u202e x');
    expect(text).toContain('label=a\\u2067b\\u200e\\x1b[31m');
  });
});

describe('a sweep over two datasets or timeframes (config data: [...])', () => {
  // the same configurations on the 1h bars and on 30m bars: every row and configuration label must say which
  const twoData = (): RunResult[] => {
    const rs = results.filter((r) => r.status === 'ok').map(clone);
    const other = rs.map((r) => {
      const x = clone(r);
      x.spec.timeframe = '30m';
      x.runId = `${r.runId.slice(0, 12)}3030`;
      x.metrics.totalReturn = (x.metrics.totalReturn ?? 0) + 1;
      return x;
    });
    return [...rs, ...other];
  };
  /** stress runs on the 1h bars and the same on 30m bars */
  const twoDataStress = (): RunResult[] => {
    const one = makeStressResults({ bars: 24 * 10, paths: 3, leverages: [3, 25] });
    return [...one, ...one.map((r) => {
      const x = clone(r);
      x.spec.timeframe = '30m';
      x.runId = `${r.runId.slice(0, 12)}3030`;
      return x;
    })];
  };
  /** the identity cells (every column but the figures) of each row of the Markdown table under `heading` */
  const mdIdentities = (md: string, heading: string): string[] => {
    const lines = md.split(`## ${heading}`)[1]!.split('\n## ')[0]!.split('\n').filter((l) => l.startsWith('| '));
    const head = lines[0]!.slice(2, -2).split(' | ');
    const keep = head.map((h) => ['Strategy', 'Params', 'Venue', 'Data', 'Lev', 'Mode'].includes(h));
    return lines.slice(2).map((l) => l.slice(2, -2).split(' | ').filter((_, i) => keep[i]).join(' | '));
  };
  const unique = (xs: string[]) => expect(new Set(xs).size, xs.join('\n')).toBe(xs.length);

  it('report.md: comparison, leverage sweep, perp costs and per-configuration verdicts name the data', () => {
    const rs = twoData();
    const model = buildModel(rs, makeManifest(rs));
    const md = renderMarkdown(model, leverageSweep(rs), modeTotals(rs));
    for (const h of ['Comparison: strategy × margin mode', 'Leverage sweep: highest leverage without a liquidation', 'Perp costs and rejections']) {
      const ids = mdIdentities(md, h);
      expect(ids.length, h).toBeGreaterThan(4);
      unique(ids);
      expect(ids.some((x) => x.includes('synthetic-btc 30m')), h).toBe(true);
    }
    unique(md.split('\n').filter((l) => l.startsWith('  - ')).map((l) => l.split(': ')[0]!));
  });

  it('report.html: table rows and the configuration selector name the data', () => {
    const rs = twoData();
    const model = buildModel(rs, makeManifest(rs));
    const html = renderHtml(model, leverageSweep(rs), modeTotals(rs));
    for (const id of ['comparison-table', 'sweep-table', 'costs-table']) {
      const table = html.split(`id="${id}"`)[1]!.split('</table>')[0]!;
      const heads = [...table.matchAll(/<button type="button">([^<]*)</g)].map((m) => m[1]!);
      const keep = heads.map((h) => ['Strategy', 'Params', 'Venue', 'Data', 'Lev', 'Mode'].includes(h));
      const rows = [...table.matchAll(/<tr[^>]*>(<td.*?)<\/tr>/g)].map((m) => [...m[1]!.matchAll(/data-v="([^"]*)"/g)].map((x) => x[1]!).filter((_, i) => keep[i]).join(' | '));
      expect(rows.length, id).toBeGreaterThan(4);
      unique(rows);
    }
    for (const sel of html.match(/<select data-strategy="\d+">.*?<\/select>/g)!) unique([...sel.matchAll(/<option[^>]*>([^<]*)</g)].map((m) => m[1]!));
  });

  it('report.md and report.html Stress sections: every table row and chart caption names the data', () => {
    const rs = twoDataStress();
    const model = buildModel(rs, makeManifest(rs));
    const md = renderMarkdown(model, leverageSweep(model.history), modeTotals(model.history));
    const stress = md.split('## Stress')[1]!.split('\n## ')[0]!;
    const tables = stress.split('\n\n').filter((b) => b.startsWith('| '));
    expect(tables.length).toBeGreaterThanOrEqual(4);
    const ident = ['Strategy', 'Params', 'Venue', 'Data', 'Lev', 'Population', 'Mode', 'Scenario', 'Injected at', 'b − a'];
    for (const t of tables) {
      const lines = t.split('\n');
      const head = lines[0]!.slice(2, -2).split(' | ');
      expect(head).toContain('Data');
      unique(lines.slice(2).map((l) => l.slice(2, -2).split(' | ').filter((_, i) => ident.includes(head[i]!)).join(' | ')));
    }
    const html = renderHtml(model, leverageSweep(model.history), modeTotals(model.history));
    unique([...html.split('id="stress"')[1]!.matchAll(/<figcaption>(.*?)<\/figcaption>/g)].map((m) => m[1]!));
  });

  it('summary.json: leverage-sweep, stress-config and survival rows carry dataset and timeframe (rows otherwise alike)', () => {
    const rs = twoDataStress();
    const model = buildModel(rs, makeManifest(rs));
    const s = SummarySchema.parse(buildSummary(model, leverageSweep(model.history), modeTotals(model.history)));
    const rowsOf = (xs: readonly object[]) => xs.map((x) => JSON.stringify(Object.fromEntries(Object.entries(x).filter(([k]) => !['leverages', 'untestedLeverages', 'maxSafeLeverage', 'minLiquidatedLeverage', 'curve', 'maxLeverage', 'populations', 'scenarios', 'id'].includes(k)))));
    for (const [name, rows] of [['leverageSweep', s.leverageSweep], ['stress.configs', s.stress!.configs], ['stress.survival', s.stress!.survival]] as const) {
      expect(rows.length, name).toBeGreaterThan(1);
      unique(rowsOf(rows));
      expect(new Set(rows.map((r) => r.timeframe)), name).toEqual(new Set(['1h', '30m']));
      for (const r of rows) expect(r.dataset, name).toBe(rs[0]!.spec.dataset);
    }
  });
});

describe('character references in user text in report.md', () => {
  it('a param or error holding &lt; &copy; &#60; shows those characters as written, not as < © <', () => {
    const rs = results.map(clone);
    const ok = rs.find((r) => r.status === 'ok')!;
    ok.spec.params = { ...ok.spec.params, label: 'R&D &lt;b&gt; &copy; &#60; &#x3C;' };
    rs.find((r) => r.status === 'errored')!.error = 'failed on &quot;x&quot;';
    const { md } = render(rs);
    expect(md).toContain('label=R&D &amp;lt;b&amp;gt; &amp;copy; &amp;#60; &amp;#x3C;');
    expect(md).toContain('failed on &amp;quot;x&amp;quot;');
    // a reference that is text in the report (our own &lt; for a <) is left alone
    expect(md).not.toMatch(/&(?!amp;|lt;|gt;)[#A-Za-z0-9]+;/);
  });
});

describe('the data period in the header', () => {
  it('comes from the bars when the config set no from / to (the usual case), in both reports', () => {
    const rs = results.map(clone);
    for (const r of rs) { r.spec.from = null; r.spec.to = null; }
    const ok = rs.filter((r) => r.status === 'ok');
    const first = Math.min(...ok.map((r) => r.curves.time[0]!));
    const end = Math.max(...ok.map((r) => r.curves.time.at(-1)! + 3_600_000));
    const period = `${new Date(first).toISOString().slice(0, 10)} → ${new Date(end).toISOString().slice(0, 10)}`;
    const { md, html } = render(rs);
    expect(md.split('\n')[2]).toContain(` · ${period} · `);
    expect(html).toMatch(new RegExp(`<p class="meta">[^\\n]* · ${period}</p>`));
  });
});

describe('a shard folder', () => {
  it('says in both reports that it covers one shard of the sweep', () => {
    const model = buildModel(results, { ...makeManifest(results), shard: { index: 2, count: 4 } });
    const md = renderMarkdown(model, sweep, modes);
    const html = renderHtml(model, sweep, modes);
    expect(md).toContain('> **Note:** This folder is shard 2 of 4: it holds that shard');
    expect(html).toContain('<p class="note">This folder is shard 2 of 4: it holds that shard');
    const whole = buildModel(results, makeManifest(results));
    expect(renderMarkdown(whole, sweep, modes)).not.toContain('This folder is shard');
  });
});

describe('report.md and report.html label their tables alike', () => {
  it('the perp-costs and per-mode totals tables have the same title and headers in both (the mode totals count completed runs)', () => {
    const rs = makeResults();
    const model = buildModel(rs, makeManifest(rs));
    const md = renderMarkdown(model, leverageSweep(rs), modeTotals(rs));
    const html = renderHtml(model, leverageSweep(rs), modeTotals(rs));
    const mdHeader = (after: string) => {
      const lines = md.slice(md.indexOf(after)).split('\n');
      return lines.find((l) => l.startsWith('| '))!.slice(2, -2).split(' | ');
    };
    const text = (s: string) => s.replace(/<[^>]+>/g, '').replace(/&amp;/g, '&').trim();
    const htmlHeaders = [...html.matchAll(/<thead><tr>(.*?)<\/tr><\/thead>/g)].map((m) => [...m[1]!.matchAll(/<th[^>]*>(.*?)<\/th>/g)].map((t) => text(t[1]!)));
    const costs = htmlHeaders.find((h) => h.includes('Fees') && h.includes('Liq penalty'))!;
    expect(md).toContain('## Perp costs and rejections');
    expect(html).toContain('<h2>Perp costs and rejections</h2>');
    // the HTML names the venue in its header when there is one (no Venue column), as in its comparison table
    expect(costs).toEqual(mdHeader('## Perp costs and rejections'));
    expect(costs.slice(-3)).toEqual(['Near misses', 'Rejected orders', 'Rejections by reason']);
    const modes = htmlHeaders.find((h) => h[0] === 'Mode' && h.includes('Runs liquidated'))!;
    expect(modes).toEqual(mdHeader('## Totals by mode'));
    expect(modes[1]).toBe('Completed runs');
  });
});
