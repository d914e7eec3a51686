import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, mkdirSync, readFileSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse } from 'csv-parse/sync';
import { UserError } from '../src/errors.js';
import { METRICS } from '../src/analysis/index.js';
import { buildSummary, summaryJsonPieces, summaryRuns } from '../src/report/summary.js';
import { leverageSweep, modeTotals, runRows } from '../src/report/aggregate.js';
import { resultHeapBytes } from '../src/report/load.js';
import { heapBudget } from '../src/report/heap.js';
import { writeReport, loadRunFolder, loadResults, loadTrades, runTrades, SummarySchema, csvCell, renderCsv, verdictFor, buildModel, REPORT_FORMATS, TRADE_COLUMNS, LIQUIDATION_COLUMNS } from '../src/report/index.js';
import { MONEY_COLUMNS, renderLiquidationsCsv, renderTradesCsv, runLiquidations, tradeCells } from '../src/report/trades.js';
import { csvLine } from '../src/report/csv.js';
import { capRecords } from '../src/shard/records.js';
import { mergeRunFolders } from '../src/shard/merge.js';
import { parseFormats } from '../src/cli/commands/report.js';
import type { RunResult } from '../src/shard/types.js';
import { makeManifest, makeResults, writeRunFolder, XSS_NAME } from './fixtures/report/fixture.js';
import { makeStressResults } from './fixtures/report/stress-fixture.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

let results: RunResult[];
let dir: string;

beforeAll(async () => {
  results = makeResults();
  dir = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-report-')), results, makeManifest(results));
  await writeReport({ dir, results, manifest: makeManifest(results) });
});

describe('the order of a parameter sweep', () => {
  it('numbers by value (fast=12, 48, 200; it was the label text: 200 before 48), in the configurations and the leverage sweep (stress and compare sort by cmpParams too)', async () => {
    const base = results.filter((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 3);
    const at = (fast: number) => base.map((r) => ({ ...structuredClone(r), runId: `${r.runId.slice(0, 12)}${String(fast).padStart(4, '0')}`, spec: { ...structuredClone(r.spec), params: { fast, slow: 48 } } }));
    const rs = [...at(200), ...at(12), ...at(48)];
    const model = buildModel(rs, makeManifest(rs));
    expect(model.configs.map((c) => c.paramsLabel)).toEqual(['fast=12, slow=48', 'fast=48, slow=48', 'fast=200, slow=48']);
    expect([...new Set(leverageSweep(model.history).map((r) => r.paramsLabel))]).toEqual(['fast=12, slow=48', 'fast=48, slow=48', 'fast=200, slow=48']);
    // report.html's Params column sorts by that order too (its cells' data-v; the label's text put fast=200 first)
    const { renderHtml } = await import('../src/report/html.js');
    const html = renderHtml(model, leverageSweep(model.history), modeTotals(model.history));
    const keyOf = (label: string) => new RegExp(`data-v="([^"]*)"[^>]*>${label}<`).exec(html)?.[1] ?? new RegExp(`>${label}<`).exec(html)?.[0];
    const keys = ['fast=12, slow=48', 'fast=48, slow=48', 'fast=200, slow=48'].map((l) => keyOf(l)!);
    expect([...keys].sort()).toEqual(keys);
    const { cmpParams } = await import('../src/report/format.js');
    expect([{ a: 10 }, { a: 9 }, { a: -1 }, { a: 'x' }, {}, { a: 2.5 }].sort(cmpParams)).toEqual([{}, { a: -1 }, { a: 2.5 }, { a: 9 }, { a: 10 }, { a: 'x' }]);
  });
});

describe('writeReport', () => {
  it('writes the four files and leaves no temp files', () => {
    for (const f of ['summary.json', 'runs.csv', 'trades.csv', 'liquidations.csv', 'report.md', 'report.html']) expect(existsSync(join(dir, f))).toBe(true);
    // the run folder's marker, no lock or temp file left
    expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual(['.marginlab.json']);
  });

  it('summary.json validates against the exported schema and holds every run sorted by runId', () => {
    const s = SummarySchema.parse(JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')));
    expect(s.schemaVersion).toBe(3);
    expect(s.stress).toBeNull(); // no stress runs in this folder
    expect(s.runs).toHaveLength(results.length);
    const ids = s.runs.map((r) => r.runId);
    expect(ids).toEqual([...ids].sort());
    expect(s.counts).toEqual({ total: 11, ok: 10, errored: 1, planned: 11, missing: 0 });
    expect(s.complete).toBe(true);
    expect(Object.keys(s.runs[0]!.metrics)).toEqual(METRICS.map((m) => m.id));
    expect(s.metrics.map((m) => m.id)).toEqual(METRICS.map((m) => m.id));
    const errored = s.runs.find((r) => r.status === 'errored')!;
    expect(errored.error).toMatch(/strategy threw/);
    // an errored run has no figures in any format (its stored metrics cover only the bars before it stopped)
    expect(results.find((r) => r.status === 'errored')!.metrics.totalReturn).toEqual(expect.any(Number));
    expect(Object.values(errored.metrics).every((v) => v === null)).toBe(true);
    // no wall-clock fields
    const text = readFileSync(join(dir, 'summary.json'), 'utf8');
    expect(text).not.toMatch(/createdAt|wallClock|workers/);
  });

  it('summary.json, written piece by piece, is exactly JSON.stringify(summary, null, 2) and a newline', () => {
    const text = readFileSync(join(dir, 'summary.json'), 'utf8');
    expect(text).toBe(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
    // the runs made one at a time as they are written: the same text as the whole summary's
    const model = buildModel(results, makeManifest(results));
    const [sweep, modes] = [leverageSweep(model.history), modeTotals(model.history)];
    const whole = buildSummary(model, sweep, modes);
    expect(whole.runs.length).toBeGreaterThan(1);
    expect([...summaryJsonPieces(buildSummary(model, sweep, modes, false), summaryRuns(model))].join('')).toBe(`${JSON.stringify(whole, null, 2)}\n`);
    // the pieces on the shapes JSON.stringify treats apart: empty arrays and objects, undefined and function values, nesting, escapes
    const odd = {
      a: [],
      b: {},
      c: undefined,
      d: () => 1,
      e: [1, undefined, { x: [[]], y: 'q"\n\u2028' }, [2, [3]]],
      f: null,
      g: [{ h: { i: [{}] } }],
      t: new Date(0),
    };
    expect([...summaryJsonPieces(odd as never)].join('')).toBe(`${JSON.stringify(odd, null, 2)}\n`);
    expect([...summaryJsonPieces({} as never)].join('')).toBe(`${JSON.stringify({}, null, 2)}\n`);
    expect([...summaryJsonPieces({ only: undefined } as never)].join('')).toBe(`${JSON.stringify({ only: undefined }, null, 2)}\n`);
  });

  it('the schema rejects a malformed summary', () => {
    const s = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    s.runs[0].metrics.totalReturn = 'high';
    expect(SummarySchema.safeParse(s).success).toBe(false);
    const t = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    t.extra = 1;
    expect(SummarySchema.safeParse(t).success).toBe(false);
  });

  it('summary.json is byte-identical whatever the order of results and manifest wall-clock fields', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'ml-report2-'));
    const shuffled = [...results].reverse().map((r) => JSON.parse(JSON.stringify(r)) as RunResult);
    const m2 = { ...makeManifest(results), createdAt: '2030-05-05T00:00:00.000Z', workers: 7, wallClockMs: 99999 };
    await writeReport({ dir: d2, results: shuffled, manifest: m2, formats: ['json', 'csv', 'md'] });
    expect(readFileSync(join(d2, 'summary.json'), 'utf8')).toBe(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(readFileSync(join(d2, 'runs.csv'), 'utf8')).toBe(readFileSync(join(dir, 'runs.csv'), 'utf8'));
    expect(readFileSync(join(d2, 'report.md'), 'utf8')).toBe(readFileSync(join(dir, 'report.md'), 'utf8'));
    expect(existsSync(join(d2, 'report.html'))).toBe(false);
  });

  it('rejects an unknown format and writes a repeated one once', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-formats-'));
    try {
      await expect(writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['md', 'pdf' as 'md'] })).rejects.toThrow(/unknown format 'pdf'/);
      expect(readdirSync(d)).toEqual([]);
      const written = await writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['csv', 'csv'] });
      expect(written).toEqual([join(d, 'runs.csv'), join(d, 'trades.csv'), join(d, 'liquidations.csv')]);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it("follows the output-folder rules: a user's folder is refused untouched (force writes only the report files), a dataset always", async () => {
    const base = mkdtempSync(join(tmpdir(), 'ml-report-rules-'));
    try {
      // a folder of the user's own: their report.md and notes are not overwritten
      const mine = join(base, 'mine');
      mkdirSync(mine);
      writeFileSync(join(mine, 'report.md'), 'my notes\n');
      writeFileSync(join(mine, 'strategy.ts'), 'export default {}\n');
      const err = await writeReport({ dir: mine, results, manifest: makeManifest(results), formats: ['md', 'json'] }).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect(err).toMatchObject({ exitCode: 64, message: expect.stringContaining(`writeReport: dir ${mine} is not empty and was not written by marginlab (2 entries`) });
      expect(readdirSync(mine).sort()).toEqual(['report.md', 'strategy.ts']);
      expect(readFileSync(join(mine, 'report.md'), 'utf8')).toBe('my notes\n');
      // with force: the report files replace theirs, nothing else is touched
      await writeReport({ dir: mine, results, manifest: makeManifest(results), formats: ['md'], force: true });
      expect(readFileSync(join(mine, 'report.md'), 'utf8')).toMatch(/^# marginlab report/);
      expect(readFileSync(join(mine, 'strategy.ts'), 'utf8')).toBe('export default {}\n');
      // and it stays theirs: no marker (one said marginlab owns a results/ and manifest.json there), force needed again
      expect(readdirSync(mine).sort()).toEqual(['report.md', 'strategy.ts']);
      await expect(writeReport({ dir: mine, results, manifest: makeManifest(results), formats: ['md'] })).rejects.toMatchObject({ exitCode: 64 });
      // an empty folder of theirs whose report fails (a result that is none, met while rendering): left empty, without the marker this call added
      const empty = join(base, 'empty');
      mkdirSync(empty);
      await expect(writeReport({ dir: empty, results: [null as never], manifest: makeManifest(results), formats: ['md'] })).rejects.toThrow();
      expect(readdirSync(empty)).toEqual([]);
      // a dataset folder is refused, force or not
      const ds = join(base, 'ds');
      mkdirSync(ds);
      writeFileSync(join(ds, 'manifest.json'), JSON.stringify({ format: 'marginlab-dataset', formatVersion: 1 }));
      for (const force of [false, true]) {
        await expect(writeReport({ dir: ds, results, manifest: makeManifest(results), formats: ['md'], force })).rejects.toMatchObject({ exitCode: 64, message: expect.stringContaining('is a marginlab dataset, not a run folder') });
      }
      expect(readdirSync(ds)).toEqual(['manifest.json']);
      // a run folder marginlab wrote is rewritten; a folder another process is writing is refused
      const again = await writeReport({ dir, results, manifest: makeManifest(results), formats: ['md'] });
      expect(again).toEqual([join(dir, 'report.md')]);
      writeFileSync(join(dir, '.marginlab.lock'), JSON.stringify({ pid: process.ppid, host: (await import('node:os')).hostname(), startedAt: new Date().toISOString(), command: 'run' }) + '\n');
      try {
        await expect(writeReport({ dir, results, manifest: makeManifest(results), formats: ['md'] })).rejects.toMatchObject({ exitCode: 64, message: expect.stringContaining('is being written by another marginlab process') });
      } finally {
        rmSync(join(dir, '.marginlab.lock'));
      }
      // a new folder: made, marked; on a failure it and the folders made above it are removed
      const fresh = join(base, 'x', 'y', 'new');
      await expect(writeReport({ dir: fresh, results: [null as never], manifest: makeManifest(results), formats: ['md'] })).rejects.toThrow();
      expect(existsSync(join(base, 'x'))).toBe(false);
      await writeReport({ dir: fresh, results, manifest: makeManifest(results), formats: ['md'] });
      expect(readdirSync(fresh).sort()).toEqual(['.marginlab.json', 'report.md']);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a failed write rejects and leaves no temp folder behind', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-failwrite-'));
    try {
      mkdirSync(join(d, 'report.md', 'blocker'), { recursive: true }); // report.md cannot be renamed over a non-empty folder
      await expect(writeReport({ dir: d, results, manifest: makeManifest(results), formats: ['md'] })).rejects.toThrow();
      expect(readdirSync(d)).toEqual(['report.md']);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('runs.csv has one row per run with metrics and escaped text', () => {
    const rows = parse(readFileSync(join(dir, 'runs.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(results.length);
    const byId = new Map(results.map((r) => [r.runId, r]));
    for (const row of rows) {
      const r = byId.get(row.runId!)!;
      expect(row.mode).toBe(r.spec.setup);
      const v = r.status === 'ok' ? r.metrics.totalReturn : null;
      expect(row.totalReturn).toBe(v === null || v === undefined ? '' : String(v));
      // an errored run: no figures (empty cells), as report.md/html show it; loadResults' rows NaN
      if (r.status !== 'ok') for (const m of METRICS) expect(row[m.id]).toBe('');
    }
    const erroredRow = runRows(results).find((x) => x.status === 'errored')!;
    expect(METRICS.every((m) => Number.isNaN(erroredRow[m.id]))).toBe(true);
    expect(rows.some((r) => r.strategy === XSS_NAME)).toBe(true);
    // written line by line: the same text as renderCsv, CRLF after every line
    const text = readFileSync(join(dir, 'runs.csv'), 'utf8');
    expect(text).toBe(renderCsv(results));
    expect(text.split('\r\n')).toHaveLength(results.length + 2);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('runs.csv, trades.csv and liquidations.csv tell history, scenario and path runs apart (variant, scenario, injectAt, pathIndex)', () => {
    const base = results[0]!;
    const at = Date.UTC(2025, 2, 1, 8);
    const variants: RunResult[] = [
      base,
      { ...base, runId: 'a000000000000001', spec: { ...base.spec, stress: { kind: 'scenario', scenario: 'crash-2020-03-12', injectAt: at } } },
      { ...base, runId: 'a000000000000002', spec: { ...base.spec, stress: { kind: 'path', seed: 1, pathIndex: 7, blockBars: 24 } } },
      { ...base, runId: 'a000000000000003', spec: { ...base.spec, stress: { kind: 'path', seed: 1, pathIndex: 8, blockBars: 24, crashes: [{ scenario: 'evil', injectAt: at }, { scenario: 'wick', injectAt: at + 3_600_000 }] } } },
    ];
    const rows = parse(renderCsv(variants), { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => [r.runId, r.variant, r.scenario, r.injectAt, r.pathIndex])).toEqual([
      ['a000000000000001', 'scenario', 'crash-2020-03-12', '2025-03-01T08:00:00.000Z', ''],
      ['a000000000000002', 'path', '', '', '7'],
      ['a000000000000003', 'path', 'evil wick', '2025-03-01T08:00:00.000Z 2025-03-01T09:00:00.000Z', '8'],
      [base.runId, 'history', '', '', ''],
    ]);
    for (const cols of [TRADE_COLUMNS, LIQUIDATION_COLUMNS]) expect(cols.slice(5, 9)).toEqual(['variant', 'scenario', 'injectAt', 'pathIndex']);
  });

  it('report.md has the comparison table, a verdict per strategy, the sweep and failures', () => {
    const md = readFileSync(join(dir, 'report.md'), 'utf8');
    expect(md).toContain('## Comparison: strategy × margin mode');
    expect(md).toMatch(/\| Strategy \| Params \| Venue \| Lev \| Mode \| Return \| Max DD \| Liqs \| Liq loss \| Funding net \| Fees \| Max MR \| Time MR≥80% \| Return on CaR \| Sharpe \|/);
    for (const s of ['ma-trend', 'breakout-swing']) expect(md).toMatch(new RegExp(`- \\*\\*${s}\\*\\*: (isolated|cross|no mode|tie)`));
    expect(md).not.toContain('<img');
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // sweep: ma-trend isolated liquidated at 10× (fixture), cross never
    expect(md).toMatch(/\| ma-trend \| fast=12, slow=48 \| binance-usdm \| isolated \| 3×, 10×, 25× \| 3× \| 10× \|/);
    expect(md).toMatch(/\| ma-trend \| fast=12, slow=48 \| binance-usdm \| cross \| 3×, 10×, 25× \| 25× \| — \|/);
    expect(md).toMatch(/## Failures\n\n- `[0-9a-f]+` breakout-swing fast=6, slow=100 · cross · 50×: strategy threw at bar 37/);
  });
});

describe('csv escaping', () => {
  it.each([
    ['=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+1', "'+1"],
    ['-cmd', "'-cmd"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['line\nbreak', '"line\nbreak"'],
    ['plain', 'plain'],
  ])('%j → %j', (input, out) => {
    expect(csvCell(input)).toBe(out);
  });
  it('numbers stay numbers, null is empty', () => {
    expect(csvCell(-12.5)).toBe('-12.5');
    expect(csvCell(null)).toBe('');
    expect(csvCell(Number.NaN)).toBe('');
  });
});

describe('verdicts', () => {
  const run = (setup: 'isolated' | 'cross', m: Record<string, number>): RunResult =>
    ({ status: 'ok', runId: setup, spec: { setup }, metrics: { liquidations: 0, liquidationLoss: 0, marginRatioMax: 50, ...m } }) as unknown as RunResult;
  it('higher return wins and the line gives the numbers', () => {
    const v = verdictFor({ isolated: run('isolated', { totalReturn: 12, maxDrawdown: 20 }), cross: run('cross', { totalReturn: -8, maxDrawdown: 40, liquidations: 2, liquidationLoss: 1500 }) })!;
    expect(v.winner).toBe('isolated');
    expect(v.line).toContain('+12.0% vs −8.0%');
    expect(v.line).toContain('cross 2× (1,500.00 lost)');
  });
  it('within 1 pp, fewer liquidations win', () => {
    const v = verdictFor({ isolated: run('isolated', { totalReturn: 5.5, maxDrawdown: 10, liquidations: 3 }), cross: run('cross', { totalReturn: 5, maxDrawdown: 30 }) })!;
    expect(v.winner).toBe('cross');
    expect(v.line).toMatch(/fewer liquidations/);
  });
  it('both ended wiped out: the count of liquidations does not decide (one cross liquidation takes the pool, isolated counts one per position)', () => {
    const lost = verdictFor({
      isolated: run('isolated', { totalReturn: -99.2, maxDrawdown: 99.3, liquidations: 6, liquidationLoss: 9121, trades: 6, fees: 40 }),
      cross: run('cross', { totalReturn: -100, maxDrawdown: 100, liquidations: 1, liquidationLoss: 9225, trades: 1, fees: 12 }),
    })!;
    // it read "cross served it better than isolated: same return within 1 pp with fewer liquidations"
    expect(lost.winner).toBeNull();
    expect(lost.line).toMatch(/^tie: (isolated and cross|cross and isolated) both ended wiped out \(equity below 5% of the initial capital/);
    // they differ in more than capital at risk (6 liquidations against 1, other fees): the fact is said without "only"
    const car = verdictFor({
      isolated: run('isolated', { totalReturn: -99.2, maxDrawdown: 99.3, liquidations: 21, liquidationLoss: 4790.36, trades: 21, fees: 24.88, capitalAtRiskAvg: 112.07 }),
      cross: run('cross', { totalReturn: -100, maxDrawdown: 100, liquidations: 1, liquidationLoss: 4901.68, trades: 1, fees: 12.5, capitalAtRiskAvg: 56.86 }),
    })!;
    expect(car.line).not.toContain('differ only');
    expect(car.line).toContain('Capital at risk, a fact of the mode rather than a result: cross put an average 56.86 at risk');
    // one of them kept more than 5 %: the liquidations decide as before
    const kept = verdictFor({ isolated: run('isolated', { totalReturn: -94.5, maxDrawdown: 95, liquidations: 6 }), cross: run('cross', { totalReturn: -95.2, maxDrawdown: 96, liquidations: 1 }) })!;
    expect(kept.winner).toBe('cross');
  });
  it('identical runs tie', () => {
    const v = verdictFor({ isolated: run('isolated', { totalReturn: 5, maxDrawdown: 10 }), cross: run('cross', { totalReturn: 5, maxDrawdown: 10 }) })!;
    expect(v.winner).toBeNull();
    expect(v.line).toMatch(/^tie: isolated and cross /);
  });
  it('capital at risk never breaks a tie: it is stated as a fact', () => {
    const same = { totalReturn: 9.4, maxDrawdown: 17.7, trades: 4, fees: 7.48 };
    const v = verdictFor({
      isolated: run('isolated', { ...same, capitalAtRiskAvg: 4926.93, capitalEfficiency: 114.2, returnOnCapitalAtRisk: 19 }),
      cross: run('cross', { ...same, capitalAtRiskAvg: 9774.88, capitalEfficiency: 57.5, returnOnCapitalAtRisk: 9.6 }),
    })!;
    expect(v.winner).toBeNull();
    expect(v.line).toMatch(/^tie: isolated and cross made the same trades \(4 round trips, the same fees 7\.48\)/);
    expect(v.line).toContain('isolated put an average 4,926.93 at risk (its allocated margins), cross 9,774.88 (the whole pool behind the positions)');
    expect(v.line).not.toMatch(/served it/);
  });
  it('a tie of two runs whose every order was rejected says so, not "made the same trades"', () => {
    const none = { totalReturn: 0, maxDrawdown: 0, trades: 0, fees: 0, exposureTime: 0, rejectedOrders: 25 };
    const iso = { ...run('isolated', none), rejections: { leverageAboveTierMax: 25 } } as RunResult;
    const cross = { ...run('cross', none), rejections: { leverageAboveTierMax: 20, insufficientMargin: 5 } } as RunResult;
    const v = verdictFor({ isolated: iso, cross })!;
    expect(v.winner).toBeNull();
    expect(v.line).toMatch(/^tie: isolated and cross held no position: every order was rejected \(isolated 25 rejected, all for leverageAboveTierMax; cross 25 rejected, most for leverageAboveTierMax\), so the modes were not compared: /);
    // a run that traded is compared as before (two identical runs: said so)
    const traded = verdictFor({ isolated: run('isolated', { ...none, exposureTime: 40, fees: 3 }), cross: run('cross', { ...none, exposureTime: 40, fees: 3 }) })!;
    expect(traded.line).toMatch(/^tie: isolated and cross made identical runs \(no round trip closed, the same fees 3\.00\)/);
    const traded2 = verdictFor({ isolated: run('isolated', { ...none, exposureTime: 40, fees: 3 }), cross: run('cross', { ...none, exposureTime: 40, fees: 3, capitalAtRiskAvg: 1 }) })!;
    expect(traded2.line).toMatch(/^tie: isolated and cross made the same trades \(no round trip closed, the same fees 3\.00\)/);
  });
  it("a strategy's headline leaves out configurations where every order was rejected in every mode (not compared): not counted as ties, not in the medians", async () => {
    const rejectedAll = (r: RunResult): RunResult =>
      ({ ...r, metrics: { ...r.metrics, totalReturn: 0, maxDrawdown: 0, liquidations: 0, liquidationLoss: 0, exposureTime: 0, trades: 0, fees: 0, rejectedOrders: 3 }, rejections: { exceedsMaxLeverage: 3 }, events: r.events.filter((e) => e.type !== 'fill' && e.type !== 'liquidation') }) as RunResult;
    const line = (rs: RunResult[]) => buildModel(rs, makeManifest(rs)).strategies.find((s) => s.strategy === 'ma-trend')!.verdict!.line;
    const before = line(results);
    expect(before).toMatch(/ 3 configurations/);
    // 25x as buy-and-hold at 125x on BTC: every order rejected in both modes
    const one = line(results.map((r) => (r.spec.strategy === 'ma-trend' && r.spec.leverage === 25 ? rejectedAll(r) : r)));
    expect(one).not.toMatch(/3 configurations/);
    expect(one).toMatch(/ 2 configurations/);
    expect(one).toMatch(/isolated: lower median return [^;]*, \d+ liquidations? in 2 runs; cross: lower median return [^;]*in 2 runs\./);
    expect(one).toMatch(/ 1 more configuration not compared: every order was rejected in every mode\.$/);
    // every configuration not compared: said so, never 'tie in all 3 configurations'
    const allRs = results.map((r) => (r.spec.strategy === 'ma-trend' ? rejectedAll(r) : r));
    const all = line(allRs);
    expect(all).toBe('the modes were not compared: in all 3 configurations every mode held no position (every order was rejected).');
    // its card says so (it read "no clear winner")
    const cardDir = mkdtempSync(join(tmpdir(), 'ml-card-'));
    await writeReport({ dir: cardDir, results: allRs, manifest: makeManifest(allRs), formats: ['html'] });
    expect(readFileSync(join(cardDir, 'report.html'), 'utf8')).toContain('<h3>ma-trend</h3><p class="winner">not compared</p><p>the modes were not compared:');
    rmSync(cardDir, { recursive: true, force: true });
    // a strategy that placed no order at all is not compared either (it read "tie: the same trades" and counted as a tie)
    const idle = (r: RunResult): RunResult => ({ ...rejectedAll(r), metrics: { ...rejectedAll(r).metrics, rejectedOrders: 0 }, rejections: {} }) as RunResult;
    const none = line(results.map((r) => (r.spec.strategy === 'ma-trend' && r.spec.leverage === 25 ? idle(r) : r)));
    expect(none).toMatch(/ 2 configurations/);
    expect(none).toMatch(/ 1 more configuration not compared: no order filled in any mode\.$/);
    const cfg = buildModel(results.map((r) => (r.spec.strategy === 'ma-trend' ? idle(r) : r)), makeManifest(results)).configs.find((c) => c.strategy === 'ma-trend')!;
    expect(cfg.verdict!.line).toMatch(/^tie: \w+ and \w+ held no position: no order filled and none was rejected \(the strategy placed none, or they rested unfilled\), so the modes were not compared: /);
  });
  it('the same drawdown and liquidations but a return 2 pp apart is not a tie', () => {
    const v = verdictFor({ isolated: run('isolated', { totalReturn: 7, maxDrawdown: 10 }), cross: run('cross', { totalReturn: 9, maxDrawdown: 10 }) })!;
    expect(v.winner).toBe('cross');
  });
  it('three modes: the winner beats both others; when the 1 pp rules go round in a circle it is a tie that says so', () => {
    const run3 = (setup: 'isolated' | 'cross' | 'mixed', m: Record<string, number>): RunResult =>
      ({ status: 'ok', runId: setup, spec: { setup }, metrics: { liquidations: 0, liquidationLoss: 0, marginRatioMax: 50, maxDrawdown: 10, ...m } }) as unknown as RunResult;
    // isolated beats cross (returns within 1 pp, fewer liquidations), cross beats mixed the same way,
    // and mixed beats isolated (return 1.8 pp higher): no mode served it better than both others
    const circle = verdictFor({
      isolated: run3('isolated', { totalReturn: 0 }),
      cross: run3('cross', { totalReturn: 0.9, liquidations: 1, liquidationLoss: 10 }),
      mixed: run3('mixed', { totalReturn: 1.8, liquidations: 2, liquidationLoss: 20 }),
    })!;
    expect(circle.winner).toBeNull();
    expect(circle.line).toBe(
      'tie: no mode served it better than every other, the rules go round in a circle (isolated over cross with fewer liquidations, mixed over isolated with a higher return (+1.8% vs 0.0%), cross over mixed with fewer liquidations): return isolated 0.0%, cross +0.9%, mixed +1.8%; max drawdown isolated 10.0%, cross 10.0%, mixed 10.0%; liquidations isolated 0, cross 1× (10.00 lost), mixed 2× (20.00 lost); max margin ratio isolated 50.0%, cross 50.0%, mixed 50.0%.',
    );
    // mixed beats isolated by 1.8 pp and ties cross (0.9 pp): a tie of mixed and cross, isolated last
    const tie = verdictFor({ isolated: run3('isolated', { totalReturn: 0 }), cross: run3('cross', { totalReturn: 0.9 }), mixed: run3('mixed', { totalReturn: 1.8 }) })!;
    expect(tie.winner).toBeNull();
    expect(tie.line).toMatch(/^tie: mixed and cross \(then isolated 0\.0%\) ended within 1 pp of each other: return \+1\.8% vs \+0\.9%/);
    // isolated beats cross by return but ties mixed: the tie names isolated and mixed, not isolated and cross
    const tie2 = verdictFor({ isolated: run3('isolated', { totalReturn: 2 }), cross: run3('cross', { totalReturn: 0.5, liquidations: 1, liquidationLoss: 5 }), mixed: run3('mixed', { totalReturn: 1.2 }) })!;
    expect(tie2.winner).toBeNull();
    expect(tie2.line).toMatch(/^tie: isolated and mixed \(then cross \+0\.5%\) ended within 1 pp of each other: return \+2\.0% vs \+1\.2%/);
    // a mode that beats both others still wins, against the better of the two
    const win = verdictFor({ isolated: run3('isolated', { totalReturn: 5 }), cross: run3('cross', { totalReturn: 1 }), mixed: run3('mixed', { totalReturn: 3 }) })!;
    expect(win.winner).toBe('isolated');
    expect(win.line).toMatch(/^isolated served it better than mixed \(then cross \+1\.0%\): return \+5\.0% vs \+3\.0%/);
  });
  it('one mode alone gives no verdict', () => {
    expect(verdictFor({ cross: run('cross', { totalReturn: 5 }) })).toBeNull();
  });
  it('a strategy headline never contradicts the medians printed next to it', () => {
    // isolated wins 2 of 3 configurations by small margins and loses the third by 80 pp:
    // medians isolated +10.0% vs cross +11.5%, so no mode is named
    const cfg = (lev: number, setup: 'isolated' | 'cross', m: Record<string, number>): RunResult => {
      const r = results.find((x) => x.status === 'ok' && x.spec.strategy === 'ma-trend' && x.spec.setup === setup && x.spec.leverage === 3)!;
      const spec = { ...r.spec, leverage: lev };
      return { ...r, runId: `${setup}-${lev}`, spec, metrics: { liquidations: 0, liquidationLoss: 0, marginRatioMax: 50, maxDrawdown: 10, ...m } };
    };
    const rs = [
      cfg(3, 'isolated', { totalReturn: 10 }), cfg(3, 'cross', { totalReturn: 8 }),
      cfg(10, 'isolated', { totalReturn: 12 }), cfg(10, 'cross', { totalReturn: 11.5, liquidations: 1, liquidationLoss: 100 }),
      cfg(25, 'isolated', { totalReturn: -50 }), cfg(25, 'cross', { totalReturn: 30 }),
    ];
    const s = buildModel(rs, makeManifest(rs)).strategies[0]!;
    expect(s.configs.map((c) => c.verdict?.winner)).toEqual(['isolated', 'isolated', 'cross']);
    expect(s.verdict!.winner).toBeNull();
    expect(s.verdict!.line).toMatch(/^no mode served it consistently across 3 configurations: isolated won more of them, but cross has the higher median return \(\+11\.5% vs \+10\.0%\)/);
    // the same wins with medians that agree name the mode
    rs[5] = cfg(25, 'cross', { totalReturn: -60 });
    const s2 = buildModel(rs, makeManifest(rs)).strategies[0]!;
    expect(s2.verdict!.winner).toBe('isolated');
    expect(s2.verdict!.line).toMatch(/^isolated served it in 3 of 3 configurations/);
  });
  it('every strategy of the fixture gets a verdict line', () => {
    const model = buildModel(results, makeManifest(results));
    expect(model.strategies.map((s) => s.strategy)).toEqual([XSS_NAME, 'breakout-swing', 'ma-trend']);
    for (const s of model.strategies) expect(s.verdict?.line.length).toBeGreaterThan(20);
  });
});

describe('leverage sweep', () => {
  it('a leverage where no run held a position (every order rejected) is untested, never the highest safe leverage', async () => {
    // ma-trend at 3x/10x/25x; its 25x runs made into buy-and-hold at 125x on BTC: every order rejected, no exposure
    const rs = results.map((r): RunResult =>
      r.spec.strategy === 'ma-trend' && r.spec.leverage === 25
        ? ({ ...r, metrics: { ...r.metrics, totalReturn: 0, liquidations: 0, exposureTime: 0, trades: 0, fees: 0, rejectedOrders: 1 }, rejections: { exceedsMaxLeverage: 1 } } as RunResult)
        : r,
    );
    const rows = leverageSweep(rs).filter((r) => r.strategy === 'ma-trend');
    expect(rows).toHaveLength(2);
    for (const row of rows) {
      expect(row.leverages).toEqual([3, 10, 25]);
      expect(row.untestedLeverages).toEqual([25]);
      expect(row.maxSafeLeverage === null || row.maxSafeLeverage < 25).toBe(true);
    }
    const d = mkdtempSync(join(tmpdir(), 'ml-sweep-'));
    try {
      await writeReport({ dir: d, results: rs, manifest: makeManifest(rs), formats: ['json', 'md', 'html'] });
      const s = SummarySchema.parse(JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')));
      const js = s.leverageSweep.filter((r) => r.strategy === 'ma-trend');
      expect(js.map((r) => [r.untestedLeverages, r.maxSafeLeverage])).toEqual(rows.map((r) => [[25], r.maxSafeLeverage]));
      const md = readFileSync(join(d, 'report.md'), 'utf8');
      expect(md).toContain('| 3×, 10×, 25× (no position) |');
      expect(md).not.toMatch(/\(no position\) \| 25× \|/);
      expect(readFileSync(join(d, 'report.html'), 'utf8')).toContain('3×, 10×, 25× (no position)');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('a strategy that never held a position at any leverage has no highest safe leverage and is not "none" (nothing was liquidated)', () => {
    const rs = results
      .filter((r) => r.spec.strategy === 'ma-trend')
      .map((r) => ({ ...r, metrics: { ...r.metrics, liquidations: 0, exposureTime: 0, rejectedOrders: 1 } }) as RunResult);
    for (const row of leverageSweep(rs)) expect([row.untestedLeverages, row.maxSafeLeverage, row.minLiquidatedLeverage]).toEqual([[3, 10, 25], null, null]);
  });
});

describe('loading a run folder', () => {
  it('reads results and manifest, sorted by runId', () => {
    const f = loadRunFolder(dir);
    expect(f.results.map((r) => r.runId)).toEqual(results.map((r) => r.runId).sort());
    expect(f.manifest.name).toBe('fixture sweep');
  });
  it('missing folder, manifest or results → UserError 66 naming the path', () => {
    const empty = mkdtempSync(join(tmpdir(), 'ml-empty-'));
    const expect66 = (p: string, re: RegExp) => {
      try {
        loadRunFolder(p);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).exitCode).toBe(66);
        expect((e as UserError).message).toMatch(re);
      }
    };
    expect66(join(empty, 'nope'), /does not exist/);
    expect66(empty, /manifest\.json is missing/);
    writeFileSync(join(empty, 'manifest.json'), JSON.stringify(makeManifest([])));
    expect66(empty, /results is missing/);
  });
  it('a malformed result → UserError 65 naming the file and field', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-bad-'));
    writeRunFolder(d, results.slice(0, 2), makeManifest(results));
    const bad = { ...results[0]!, runId: 'zzz', metrics: { totalReturn: 'x' } };
    writeFileSync(join(d, 'results', 'zzz.json'), JSON.stringify(bad));
    try {
      loadRunFolder(d);
      expect.unreachable();
    } catch (e) {
      expect((e as UserError).exitCode).toBe(65);
      expect((e as UserError).message).toContain('zzz.json');
      expect((e as UserError).details.join('\n')).toContain('metrics.totalReturn');
    }
  });
  it('invalid JSON, a malformed manifest or a repeated runId → UserError 65 naming the file', () => {
    const expect65 = (d: string, re: RegExp, detail?: string) => {
      try {
        loadRunFolder(d);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(UserError);
        expect((e as UserError).exitCode).toBe(65);
        expect((e as UserError).message).toMatch(re);
        if (detail) expect((e as UserError).details.join('\n')).toContain(detail);
      }
    };
    const d = mkdtempSync(join(tmpdir(), 'ml-bad65-'));
    try {
      writeRunFolder(d, results.slice(0, 2), makeManifest(results));
      writeFileSync(join(d, 'results', 'broken.json'), '{"runId": ');
      expect65(d, /broken\.json is not valid JSON/);
      rmSync(join(d, 'results', 'broken.json'));
      writeFileSync(join(d, 'results', 'copy.json'), JSON.stringify(results[0]));
      expect65(d, new RegExp(`results: run ${results[0]!.runId} is stored twice`));
      rmSync(join(d, 'results', 'copy.json'));
      writeFileSync(join(d, 'manifest.json'), JSON.stringify({ ...makeManifest(results), engineVersion: 2 }));
      expect65(d, /manifest\.json is not a valid run manifest/, 'engineVersion: expected a string, got 2');
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('loadResults gives a danfo DataFrame, one row per run', async () => {
    const df = await loadResults(dir);
    expect(df.shape[0]).toBe(results.length);
    for (const c of ['strategy', 'params', 'venue', 'mode', 'leverage', 'totalReturn', 'liquidations']) expect(df.columns).toContain(c);
  });
  it('trades.csv: one row per round trip of every run, the columns documented, money exact', () => {
    const rows = parse(readFileSync(join(dir, 'trades.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...TRADE_COLUMNS]);
    const expected = results.flatMap((r) => runTrades(r).map((t) => ({ r, t })));
    expect(rows).toHaveLength(expected.length);
    expect(rows.length).toBeGreaterThan(20);
    // every closed trade of a run is counted by the trades metric; the still-open ones are marked
    for (const r of results.filter((x) => x.status === 'ok')) {
      const mine = rows.filter((x) => x.runId === r.runId);
      expect(mine.filter((x) => x.exitReason !== 'open').length).toBe(r.metrics.trades);
      expect(mine.filter((x) => x.exitReason === 'liquidation').length).toBe(r.metrics.liquidations);
    }
    for (const x of rows) {
      expect(['long', 'short']).toContain(x.side);
      expect(['close', 'flip', 'liquidation', 'open']).toContain(x.exitReason);
      for (const c of MONEY_COLUMNS) expect(x[c]).toMatch(/^-?\d+(\.\d+)?$/);
      expect(x.entryTime).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    // a text cell that looks like a formula is neutralised (the XSS strategy's params start with '{', so look at the strategy name cell)
    expect(readFileSync(join(dir, 'trades.csv'), 'utf8')).not.toMatch(/(^|,)=/m);
  });
  it('liquidations.csv: one row per liquidation, matching the liquidation count metric', () => {
    const rows = parse(readFileSync(join(dir, 'liquidations.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(Object.keys(rows[0]!)).toEqual([...LIQUIDATION_COLUMNS]);
    const total = results.reduce((a, r) => a + (r.metrics.liquidations ?? 0), 0);
    expect(total).toBeGreaterThan(0);
    expect(rows).toHaveLength(total);
    for (const x of rows) {
      expect(Number(x.liquidationPrice)).toBeGreaterThan(0);
      expect(Number(x.triggerPrice)).toBeGreaterThan(0);
      // in % as runs.csv's marginRatioMax (it was the record's fraction, 1 = the liquidation point, beside a max of 100)
      expect(Number(x.marginRatio)).toBeGreaterThanOrEqual(100);
      expect(x.loss).toMatch(/^-?\d+(\.\d+)?$/);
    }
  });
  // trades.csv and liquidations.csv listed the rows of an errored run (its trades up to where its strategy
  // threw) like a whole run's, while runs.csv says it errored and shows no figures of it: a sum over
  // trades.csv counted part of a run with nothing to tell it apart
  it("trades.csv, liquidations.csv and loadTrades end with the run's status: an errored run's rows say so", async () => {
    const rs = results.map((r) => structuredClone(r));
    const err = rs.find((r) => r.status === 'ok' && (r.metrics.liquidations ?? 0) > 0 && runTrades(r).length > 1)!;
    Object.assign(err, { status: 'errored', error: 'strategy threw: Error: x (in onBar at 2024-01-05T00:00:00.000Z)' });
    const trades = parse(renderTradesCsv(rs), { columns: true }) as Record<string, string>[];
    const liqs = parse(renderLiquidationsCsv(rs), { columns: true }) as Record<string, string>[];
    for (const [rows, cols] of [[trades, TRADE_COLUMNS], [liqs, LIQUIDATION_COLUMNS]] as const) {
      // appended: every earlier column keeps its place
      expect(cols.at(-1)).toBe('status');
      expect(Object.keys(rows[0]!)).toEqual([...cols]);
      const mine = rows.filter((x) => x.runId === err.runId);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((x) => x.status === 'errored')).toBe(true);
      const others = rows.filter((x) => x.runId !== err.runId);
      expect(others.every((x) => x.status === rs.find((r) => r.runId === x.runId)!.status)).toBe(true);
    }
    const d = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-errored-trades-')), rs, makeManifest(rs));
    try {
      const df = await loadTrades(d);
      expect(df.columns.at(-1)).toBe('status');
      const status = df.column('status').values as string[];
      const ids = df.column('runId').values as string[];
      expect(ids.map((id) => rs.find((r) => r.runId === id)!.status)).toEqual(status);
      expect(status.filter((x) => x === 'errored').length).toBe(trades.filter((x) => x.status === 'errored').length);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  // the files are rendered run by run (the run's cells once, the lines streamed): every line must be
  // exactly the whole row's cells rendered on their own, whatever the params hold
  it('trades.csv and liquidations.csv lines are the rows rendered cell by cell (quoted params, an errored run, runs without rows)', () => {
    const rs = results.map((r) => structuredClone(r));
    rs[0]!.spec.params = { ...rs[0]!.spec.params, note: 'a "quoted", comma\nline', '=formula': '+1' };
    const noTrades = rs.find((r) => runTrades(r).length > 0 && r !== rs[0])!;
    noTrades.events = [];
    const errored = rs.find((r) => r !== rs[0] && r !== noTrades && runTrades(r).length > 0)!;
    Object.assign(errored, { status: 'errored', error: 'strategy threw: x' });
    const sorted = [...rs].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0));
    const trades = [csvLine(TRADE_COLUMNS), ...sorted.flatMap((r) => runTrades(r).map((t) => csvLine(tradeCells(r, t))))];
    expect(renderTradesCsv(rs)).toBe(`${trades.join('\r\n')}\r\n`);
    expect(trades.length).toBeGreaterThan(3);
    expect(renderTradesCsv(rs)).toContain('"{""=formula"":""+1""');
    const liqs = renderLiquidationsCsv(rs).split('\r\n');
    expect(liqs[0]).toBe(csvLine(LIQUIDATION_COLUMNS));
    expect(liqs.length - 2).toBe(sorted.reduce((n, r) => n + runLiquidations(r).length, 0));
    expect(renderTradesCsv([])).toBe(`${csvLine(TRADE_COLUMNS)}\r\n`);
  });
  it('a configured event cap is recorded and the report says so', () => {
    const r = results[0]!;
    expect(r.events.length).toBeGreaterThan(5);
    const capped = { ...r, ...capRecords(r.events, 5) };
    expect(capped.eventsCap).toEqual({ limit: 5, total: r.events.length, kept: 5 });
    const notes = buildModel([capped, ...results.slice(1)], makeManifest(results)).notes;
    expect(notes.some((n) => n.startsWith(`maxEventsPerRun (5) cut the events of 1 of ${results.length} runs`))).toBe(true);
    expect(buildModel(results, makeManifest(results)).notes.some((n) => n.includes('maxEventsPerRun'))).toBe(false);
  });
  it('loadTrades gives a danfo DataFrame, one row per trade, the trades.csv columns', async () => {
    const df = await loadTrades(dir);
    const rows = parse(readFileSync(join(dir, 'trades.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(df.shape[0]).toBe(rows.length);
    expect(df.columns).toEqual([...TRADE_COLUMNS]);
    const net = df.column('netPnl').values as number[];
    expect(net[0]).toBeCloseTo(Number(rows[0]!.netPnl), 6);
  });
  it('loadTrades names the runs whose events were cut in a warning (MARGINLAB_PARTIAL_EVENTS), and only then', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      await loadTrades(dir);
      expect(warn).not.toHaveBeenCalled();
      const cut = [{ ...results[0]!, ...capRecords(results[0]!.events, 5) }, { ...results[1]!, ...capRecords(results[1]!.events, 0) }, ...results.slice(2)];
      const d = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-cut-')), cut, makeManifest(cut));
      const df = await loadTrades(d);
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]![0]).toMatch(new RegExp(`^loadTrades\\(.*\\): of ${results.length} runs, 1 keeps part of their events \\(their trades cover those events only\\) and 1 keeps none \\(no trades\\): `));
      expect(warn.mock.calls[0]![1]).toEqual({ code: 'MARGINLAB_PARTIAL_EVENTS' });
      expect(df.shape[0]).toBeLessThan((await loadTrades(dir)).shape[0]);
    } finally {
      warn.mockRestore();
    }
  });
});

describe('marginlab report <dir>', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [CLI_BIN, ...args], { encoding: 'utf8', timeout: 90_000 });
  it('re-renders from stored results without rerunning', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-cli-'));
    writeRunFolder(d, results, makeManifest(results));
    const r = cli('report', d, '--formats', 'json,md');
    expect(r.stderr).toContain('rendered 2 files for 11 runs');
    // exit 1: one run of the folder errored (as `run` and `merge`)
    expect(r.status).toBe(1);
    expect(readFileSync(join(d, 'summary.json'), 'utf8')).toBe(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(existsSync(join(d, 'report.html'))).toBe(false);
    expect(r.stderr).not.toContain('not re-rendered');
    // a later render of one format says which files of the others an earlier render left
    const md = cli('report', d, '--formats', 'md');
    expect(md.stderr).toContain('rendered 1 file for 11 runs');
    expect(md.stderr).toContain('marginlab: not re-rendered (other formats), as an earlier render left them: summary.json\n');
  });
  it('exits 66 with one line for a missing folder and 64 for a bad format', () => {
    const missing = cli('report', join(tmpdir(), 'definitely-not-here-ml'));
    expect(missing.status).toBe(66);
    expect(missing.stderr.trim().split('\n')[0]).toMatch(/^marginlab: run folder .* does not exist/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const bad = cli('report', dir, '--formats', 'pdf');
    expect(bad.status).toBe(64);
    expect(bad.stderr).toContain('--formats');
  });
  it('--quiet renders all four files and prints nothing', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-cli-q-'));
    try {
      writeRunFolder(d, results, makeManifest(results));
      const r = cli('report', d, '--quiet');
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('');
      for (const f of ['summary.json', 'runs.csv', 'report.md', 'report.html']) expect(existsSync(join(d, f))).toBe(true);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('exits 65 for a malformed result, naming the file and the field', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-cli-65-'));
    try {
      writeRunFolder(d, results.slice(0, 2), makeManifest(results));
      writeFileSync(join(d, 'results', 'zzz.json'), JSON.stringify({ ...results[0]!, runId: 'zzz', status: 'done' }));
      const r = cli('report', d);
      expect(r.status).toBe(65);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toBe(`marginlab: ${join(d, 'results', 'zzz.json')} is not a valid run result: run the command that wrote the folder again with --resume (it runs a damaged result again)`);
      expect(lines.slice(1).join('\n')).toContain("status: Invalid discriminator value. Expected 'ok' | 'errored', got \"done\"");
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(d, 'report.md'))).toBe(false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('exits 65 for a result file holding another run (copied over), saying what to do', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-cli-65o-'));
    try {
      writeRunFolder(d, results.slice(0, 2), makeManifest(results));
      const [a, b] = [results[0]!.runId, results[1]!.runId];
      writeFileSync(join(d, 'results', `${a}.json`), readFileSync(join(d, 'results', `${b}.json`)));
      const r = cli('report', d);
      expect(r.status).toBe(65);
      expect(r.stderr).toBe(`marginlab: ${join(d, 'results', `${a}.json`)} holds run ${b}, not ${a}: run the command that wrote the folder again with --resume (it runs a damaged result again)\n`);
      expect(existsSync(join(d, 'report.md'))).toBe(false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('exits 65 for a result file cut short or emptied, naming it and what to do (it said only "a damaged or unfinished file")', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-cli-65c-'));
    try {
      writeRunFolder(d, results.slice(0, 2), makeManifest(results));
      const p = join(d, 'results', `${results[0]!.runId}.json`);
      const full = readFileSync(p, 'utf8');
      for (const [text, what] of [[full.slice(0, 300), /is not valid JSON \([^\n]*\): a damaged or unfinished file/], ['', /is empty \(0 bytes\): a damaged or unfinished file/]] as const) {
        writeFileSync(p, text);
        const r = cli('report', d);
        expect(r.status).toBe(65);
        expect(r.stderr).toMatch(what);
        expect(r.stderr).toContain(`marginlab: ${p} `);
        expect(r.stderr).toMatch(/: run the command that wrote the folder again with --resume \(it runs a damaged result again\)\n$/);
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('exits 65 for a malformed event record, naming the file and the event', () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-cli-65e-'));
    try {
      writeRunFolder(d, results.slice(0, 2), makeManifest(results));
      const bad = structuredClone(results[0]!);
      const k = bad.events.findIndex((e) => e.type === 'fill');
      expect(k).toBeGreaterThanOrEqual(0);
      (bad.events[k] as unknown as Record<string, unknown>).fee = 0.25; // a float where money must be a decimal string
      writeFileSync(join(d, 'results', `${bad.runId}.json`), JSON.stringify(bad));
      const r = cli('report', d);
      expect(r.status).toBe(65);
      const lines = r.stderr.trim().split('\n');
      expect(lines[0]).toBe(`marginlab: ${join(d, 'results', `${bad.runId}.json`)} is not a valid run result: run the command that wrote the folder again with --resume (it runs a damaged result again)`);
      expect(lines.slice(1).join('\n')).toContain(`events.${k}.fee: expected a string, got 0.25`);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(join(d, 'report.md'))).toBe(false);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('--formats: trimmed, comma-separated, any case, once each, the config formats; an empty list is a usage error', () => {
    expect(parseFormats(undefined)).toBeUndefined();
    expect(parseFormats(' md , html ')).toEqual(['md', 'html']);
    expect(parseFormats('MD,Html,md')).toEqual(['md', 'html']);
    expect(parseFormats(REPORT_FORMATS.join(','))).toEqual([...REPORT_FORMATS]);
    for (const bad of [',', '', 'md,pdf']) {
      try {
        parseFormats(bad);
        expect.unreachable();
      } catch (e) {
        expect((e as UserError).exitCode).toBe(64);
        expect((e as UserError).message).toContain(`got '${bad}'`);
      }
    }
  });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// `run` refuses a plan whose results it could not read back for the report (src/stress/plan.ts
// checkPlanSize), but `report` and `merge` read every result of a folder with no such check: a folder
// of 13,000 history runs (2.2 GB) ran `marginlab report` for 2 minutes into V8's 'JavaScript heap out
// of memory' (a native stack, exit 134), and `merge` joins shards that each fitted their machine
describe("a folder larger than the process's heap", () => {
  const bytes = (d: string) => readdirSync(join(d, 'results')).reduce((a, f) => a + statSync(join(d, 'results', f)).size, 0);
  it('report: refused with one line (exit 78) naming the folder, its size and the heap it needs, before the heap runs out', () => {
    const d = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-heap-')), results, makeManifest(results));
    try {
      const size = bytes(d);
      // every result kept whole (no path run here): 1.85 × its file, and the rendering 1.4 × that
      const need = size * 1.85 * 1.4;
      expect(loadRunFolder(d, { forReport: true, heapBudget: need * 1.01 }).results).toHaveLength(results.length);
      let err: unknown;
      try {
        loadRunFolder(d, { forReport: true, heapBudget: need * 0.99 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(78);
      expect((err as UserError).message).toMatch(new RegExp(`^run folder ${d} is too large for this machine's memory \\(11 results, \\d+ MB on disk\\): reading them for the report needs about \\d+ MB of heap; this process has \\d+ MB$`));
      expect((err as UserError).details).toEqual([`render its report (\`marginlab report ${d}\`) on a machine with more memory, or give Node more heap (NODE_OPTIONS=--max-old-space-size=<MB>, below the machine's memory; marginlab's docs/scaling.md)`]);
      // compare and loadResults read results whole, without the rendering
      expect(() => loadRunFolder(d, { heapBudget: need * 0.99 })).not.toThrow();
      // far too large: refused from the files' sizes, before any is read (a broken file is not reached)
      writeFileSync(join(d, 'results', '0000000000000000.json'), '{');
      expect(() => loadRunFolder(d, { forReport: true, heapBudget: size * 0.1 })).toThrow(/too large for this machine's memory \(12 results/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  // the report reads a path run without its curves, and 0.35 × its file is what one without its event log
  // holds (its curves are most of it); one written with stress.pathEvents keeps its events, liquidation-price
  // steps and price curves, and was weighed at 0.35 too: a folder (or a merge) of them projected at a
  // fraction of what it holds, past the check into V8's out-of-memory abort
  it('a path run written with stress.pathEvents is weighed whole; one without its event log at 0.35 × its file', () => {
    const base = results.find((r) => r.status === 'ok' && r.prices !== undefined && r.events.length > 0)!;
    const pathRun = (detail: boolean): RunResult => {
      const r = structuredClone(base);
      r.spec.stress = { kind: 'path' } as unknown as NonNullable<RunResult['spec']['stress']>;
      r.stress = { kind: 'path', equityGrid: [1, 0.9, 1.1] } as unknown as NonNullable<RunResult['stress']>;
      if (!detail) {
        r.events = [];
        delete r.prices;
        delete r.liquidationPrices;
      }
      return r;
    };
    expect(resultHeapBytes(pathRun(true), 1000, true)).toBeCloseTo(1850);
    expect(resultHeapBytes(pathRun(false), 1000, true)).toBeCloseTo(350);
    // read whole (compare, loadResults), either is weighed whole
    expect(resultHeapBytes(pathRun(false), 1000, false)).toBeCloseTo(1850);
  });
  // the projection was checked every 256 results and at the last one, and before any from the sizes at 0.35 × (a
  // path run read without its curves) for any reading: a folder of fewer than 256 large results was read to its
  // end before the check, and compare's second folder of 11 results of 6 MB each (67 MB, 124 MB of heap read
  // whole, 89 MB left after the first folder) ran into V8's out-of-memory abort (exit 134) instead of exit 78
  it('a folder of few large results is refused as it is read, and one read whole from its sizes, before its heap runs out', () => {
    const d = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-heap-few-')), results, makeManifest(results));
    try {
      const size = bytes(d);
      // read whole (compare, loadResults): every result takes 1.85 × its file, known before any is read
      writeFileSync(join(d, 'results', '0000000000000000.json'), '{');
      expect(() => loadRunFolder(d, { heapBudget: size * 1.85 * 0.99 })).toThrow(/too large for this machine's memory \(12 results/);
      // the report's reading: refused once what it holds and the rest at 0.35 × exceed the heap, before the last file
      rmSync(join(d, 'results', '0000000000000000.json'));
      writeFileSync(join(d, 'results', 'ffffffffffffffff.json'), '{');
      expect(() => loadRunFolder(d, { forReport: true, heapBudget: size * 1.85 * 1.4 * 0.5 })).toThrow(/too large for this machine's memory \(12 results/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  // the heap a reading may take was capped by the machine's memory only: in a container (or a Slurm job) of
  // 2 GB on a large machine the guard let a report grow to V8's 4 GB limit, and the kernel killed it
  it("the heap a reading may take stays within the process's cgroup limit", () => {
    const limit = 200e6;
    const spy = vi.spyOn(process, 'constrainedMemory').mockReturnValue(limit);
    try {
      expect(heapBudget()).toBeLessThanOrEqual(limit);
      // the default budget of a reading is it: this folder of 11 results (a few MB) is refused under a 1 kB cgroup
      spy.mockReturnValue(1000);
      const d = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-heap-cgroup-')), results, makeManifest(results));
      try {
        expect(() => loadRunFolder(d, { forReport: true })).toThrow(/too large for this machine's memory/);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
    } finally {
      spy.mockRestore();
    }
  });
  // the projection every 256 results took the rest at the ratio of those read: in RunId order a folder's
  // few large whole results can all come first (here the history and scenario runs whose RunId begins
  // below 4, before every path run), and a stress folder that fits was projected at 1.25 × its need
  it('a folder whose few large results come first is not refused when it fits', () => {
    const all = makeStressResults({ paths: 100 });
    for (const r of all) {
      if (r.spec.stress?.kind !== 'path') continue;
      // as a path run without stress.pathEvents is written: no event log, about 200 curve points
      r.events = [];
      delete r.liquidationPrices;
      const c = r.curves as unknown as Record<string, unknown[]>;
      for (const key of Object.keys(c)) c[key] = c[key]!.filter((_, i) => i % 6 === 0);
    }
    const rs = [...all.filter((r) => r.spec.stress?.kind !== 'path' && r.runId < '4'), ...all.filter((r) => r.spec.stress?.kind === 'path' && r.runId >= '4')];
    const d = writeRunFolder(mkdtempSync(join(tmpdir(), 'ml-heap-skew-')), rs, makeManifest(rs));
    try {
      const need = rs.reduce((a, r) => a + resultHeapBytes(r, statSync(join(d, 'results', `${r.runId}.json`)).size, true), 0) * 1.4;
      expect(rs.length).toBeGreaterThan(256);
      expect(loadRunFolder(d, { forReport: true, heapBudget: need * 1.15 }).results).toHaveLength(rs.length);
      expect(() => loadRunFolder(d, { forReport: true, heapBudget: need * 0.99 })).toThrow(/too large for this machine's memory/);
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });
  it('merge: refused before the merged folder is written', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ml-heap-merge-'));
    try {
      const d = writeRunFolder(join(root, 'a'), results, makeManifest(results));
      const need = bytes(d) * 1.85 * 1.4;
      await expect(mergeRunFolders([d], join(root, 'm'), { heapBudget: need * 0.99 })).rejects.toMatchObject({
        exitCode: 78,
        message: expect.stringMatching(/^merge: the merged folder is too large for this machine's memory \(11 results, \d+ MB on disk\): reading them for the report needs about \d+ MB of heap; this process has \d+ MB$/),
      });
      expect(existsSync(join(root, 'm'))).toBe(false);
      expect((await mergeRunFolders([d], join(root, 'm2'), { heapBudget: need * 1.01 })).runs).toBe(results.length);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('params labels', () => {
  it('show control characters as escapes: a param holding a line break printed a line of its own into a terminal or a CI log', async () => {
    const { paramsLabel } = await import('../src/report/format.js');
    expect(paramsLabel({ label: 'pipe|cell\nnewline | x', b: 2, 'k\ty': 'a\u0007', o: { n: 'x\ny' } })).toBe('b=2, k\\ty=a\\x07, label=pipe|cell\\nnewline | x, o={"n":"x\\ny"}');
    expect(paramsLabel({ fast: 10, slow: 50 })).toBe('fast=10, slow=50');
  });
  it('show bidi controls and C1 controls as escapes: a right-to-left override reversed the rest of the line (terminal, report.md, report.html)', async () => {
    const { paramsLabel } = await import('../src/report/format.js');
    expect(paramsLabel({ label: 'a\u202eb', 'k\u2066': ['x\u200f', '\u009b2J'] })).toBe('k\\u2066=["x\\u200f","\\x9b2J"], label=a\\u202eb');
  });
});

describe('a strategy run under one margin mode only', () => {
  it('says only that mode was run, not that fewer than two completed (which read as a failure), in report.md and report.html', async () => {
    const rs = results.filter((r) => r.spec.setup === 'isolated');
    const model = buildModel(rs, makeManifest(rs));
    const { renderMarkdown } = await import('../src/report/markdown.js');
    const { renderHtml } = await import('../src/report/html.js');
    const md = renderMarkdown(model, leverageSweep(model.history), modeTotals(model.history));
    const html = renderHtml(model, leverageSweep(model.history), modeTotals(model.history));
    expect(md).toContain('**ma-trend**: no verdict: only the isolated mode was run (list two or more setups, e.g. isolated and cross, to compare them).');
    expect(html).toContain('no verdict: only the isolated mode was run');
    expect(md + html).not.toMatch(/fewer than two margin modes completed/i);
  });
});
