/**
 * The Stress part of the reports (no browser): summary.json v3 with the stress aggregates
 * (schema-valid, byte-identical whatever the result order), runs.csv still one row per run, the
 * history comparison untouched by stress runs, verdicts that say whether they hold under stress,
 * the survival threshold option, and the report.md Stress section.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { buildModel, SummarySchema, writeReport } from '../src/report/index.js';
import { parseSurvivalThreshold } from '../src/cli/commands/report.js';
import { fmtThresholdPct } from '../src/report/format.js';
import { stressRunsPhrase, type StressModel } from '../src/report/stress.js';
import type { UserError } from '../src/errors.js';
import type { RunResult } from '../src/shard/types.js';
import { makeManifest } from './fixtures/report/fixture.js';
import { makeStressResults, STRESS_XSS_SCENARIO } from './fixtures/report/stress-fixture.js';

let results: RunResult[];
let dir: string;
const read = (f: string, d = dir) => readFileSync(join(d, f), 'utf8');

beforeAll(async () => {
  results = makeStressResults({ bars: 24 * 15, paths: 6, leverages: [3, 25] });
  dir = mkdtempSync(join(tmpdir(), 'ml-report-stress-'));
  await writeReport({ dir, results, manifest: makeManifest(results), formats: ['json', 'csv', 'md'] });
}, 120_000);

describe('the order of a parameter sweep under stress', () => {
  it('configurations and survival rows list numbers by value (lookback=12 before lookback=100; it was the label text)', () => {
    const at = (v: number) => results.filter((r) => r.spec.leverage === 3).map((r) => ({ ...r, runId: `${r.runId.slice(0, 12)}${String(v).padStart(4, '0')}`, spec: { ...r.spec, params: { ...r.spec.params, lookback: v } } }));
    const rs = [...at(100), ...at(12)];
    const st = buildModel(rs, makeManifest(rs)).stress!;
    const lookbacks = (labels: string[]) => [...new Set(labels.map((l) => /lookback=(\d+)/.exec(l)![1]))];
    expect(lookbacks(st.configs.map((c) => c.paramsLabel))).toEqual(['12', '100']);
    expect(lookbacks(st.survival.map((c) => c.paramsLabel))).toEqual(['12', '100']);
  });
});

describe('summary.json with stress runs', () => {
  it('validates (schema v3) and carries the aggregates', () => {
    const s = SummarySchema.parse(JSON.parse(read('summary.json')));
    expect(s.schemaVersion).toBe(3);
    const st = s.stress!;
    expect(st.survivalThreshold).toBe(0.05);
    expect(st.quantiles).toEqual([0.05, 0.25, 0.5, 0.75, 0.95]);
    expect(st.runs).toEqual({ crash: 2 * 2 * 9, paths: 2 * 2 * 6, errored: 0 });
    expect(st.configs.map((c) => c.leverage)).toEqual([3, 25]);
    for (const c of st.configs) {
      expect(c.populations.map((p) => [p.population, p.views])).toEqual([['crash', 9], ['paths', 6]]);
      for (const p of c.populations) {
        expect(p.setups.map((x) => x.setup)).toEqual(['isolated', 'cross']);
        expect(p.diffs).toHaveLength(1);
        for (const x of p.setups) expect(x.liquidation.n).toBe(p.views);
      }
      expect(c.scenarios).toHaveLength(9);
    }
    expect(st.survival.map((r) => `${r.population} ${r.setup} ${r.curve.map((p) => p.leverage).join(',')}`)).toEqual([
      'crash isolated 3,25', 'crash cross 3,25', 'paths isolated 3,25', 'paths cross 3,25',
    ]);
    // every run is listed; stress runs carry their view and figures, history runs null
    expect(s.runs).toHaveLength(results.length);
    expect(s.runs.filter((r) => r.stress === null)).toHaveLength(4);
    expect(s.runs.find((r) => r.stress?.view.kind === 'scenario')!.stress!.lossAtShock).toMatch(/^-?\d+(\.\d+)?$/);
    // the history comparison holds history runs only
    expect(s.comparisons).toHaveLength(2);
    for (const c of s.comparisons) for (const id of Object.values(c.runs)) expect(s.runs.find((r) => r.runId === id)!.stress).toBeNull();
  });

  it("one unit for margin ratios (%): a run's stress.peakMarginRatio is its scenario row's and 100 x its result's; the shock's liquidation loss is carried", () => {
    const s = SummarySchema.parse(JSON.parse(read('summary.json')));
    const rows = new Map(s.stress!.configs.flatMap((c) => c.scenarios.flatMap((sc) => sc.setups.map((x) => [x.runId, x] as const))));
    let scenarioRuns = 0;
    let positive = 0;
    for (const r of s.runs) {
      if (!r.stress) continue;
      const res = results.find((x) => x.runId === r.runId)!;
      expect(r.stress.peakMarginRatio).toBe(100 * res.stress!.peakMarginRatio);
      if (r.stress.peakMarginRatio! > 1) positive++;
      if (r.stress.view.kind === 'scenario') {
        scenarioRuns++;
        expect(rows.get(r.runId)!.peakMarginRatio).toBe(r.stress.peakMarginRatio);
        expect(r.stress.liquidationLossByShock).toBe(res.stress!.liquidationLossByShock ?? null);
      } else expect(r.stress.liquidationLossByShock).toBeNull();
    }
    expect(scenarioRuns).toBe(2 * 2 * 9);
    expect(positive).toBeGreaterThan(0);
    expect(s.runs.filter((r) => r.stress?.liquidationLossByShock !== null && r.stress?.liquidationLossByShock !== undefined).length).toBeGreaterThan(0);
  });

  it('is byte-identical whatever the order of the results', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'ml-report-stress2-'));
    try {
      const shuffled = [...results].reverse().map((r) => JSON.parse(JSON.stringify(r)) as RunResult);
      await writeReport({ dir: d2, results: shuffled, manifest: { ...makeManifest(results), workers: 1, wallClockMs: 5 }, formats: ['json', 'csv', 'md'] });
      for (const f of ['summary.json', 'runs.csv', 'report.md']) expect(read(f, d2)).toBe(read(f));
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it('runs.csv stays one row per run', () => {
    const rows = parse(read('runs.csv'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(results.length);
    expect(new Set(rows.map((r) => r.runId)).size).toBe(results.length);
  });

  it('the survival threshold is an option (and the config can set it)', () => {
    const lax = buildModel(results, makeManifest(results), { survivalThreshold: 1 }).stress!;
    const strict = buildModel(results, makeManifest(results)).stress!;
    expect(lax.threshold).toBe(1);
    for (const r of lax.survival) if (r.curve.every((p) => p.liquidation.p! < 1)) expect(r.maxLeverage!.leverage).toBe(25);
    const m = { ...makeManifest(results), config: { stress: { survivalThreshold: 1 } } };
    expect(buildModel(results, m).stress!.threshold).toBe(1);
    expect(strict.threshold).toBe(0.05);
  });

  it('marginlab report --survival-threshold takes a fraction or a percentage; anything else is a usage error (64)', () => {
    expect(parseSurvivalThreshold(undefined)).toBeUndefined();
    expect(parseSurvivalThreshold('0.1')).toBe(0.1);
    expect(parseSurvivalThreshold('2.5%')).toBe(0.025);
    expect(parseSurvivalThreshold('1')).toBe(1);
    // an exponent, as a number is written (it was refused while 0.001 was taken)
    expect(parseSurvivalThreshold('1e-3')).toBe(0.001);
    expect(parseSurvivalThreshold('5E-1%')).toBe(0.005);
    // the threshold is printed as given, not rounded: 'under 0.0%' above a 0 % leverage, 'under 5%' for 0.049
    expect([0.0004, 0.049, 0.505, 0.05, 1].map(fmtThresholdPct)).toEqual(['0.04', '4.9', '50.5', '5', '100']);
    for (const bad of ['0', '150%', 'five', '-0.1', '', '1e', 'e-3', '2e3']) {
      try {
        parseSurvivalThreshold(bad);
        expect.unreachable();
      } catch (e) {
        expect((e as UserError).exitCode).toBe(64);
        expect((e as UserError).message).toContain('--survival-threshold');
      }
    }
  });
});

describe('verdicts and report.md with stress runs', () => {
  it('every configuration verdict says whether it holds under the crash pack and over the paths, with the numbers', () => {
    const model = buildModel(results, makeManifest(results));
    for (const c of model.configs) {
      const line = c.verdict!.line;
      expect(line).toMatch(/ Stress: Under the crash scenarios \(9 injections\): isolated wiped out by the shock on \d of 9, liquidated by the shock on \d of 9( \(before the shock: [^)]*\))?, median return [−+]?[\d.,]+%/);
      expect(line).toMatch(/ Over 6 Monte Carlo paths: isolated wiped out \d+% \[\d+(\.\d)?–\d+(\.\d)?%\]/);
      expect(line).toMatch(/The history verdict \((a tie in history|(isolated|cross) was best in history)\) (holds|does not hold)/);
      const crash = c.stress!.populations.crash!;
      const holds = crash.winner === c.verdict!.winner;
      expect(line.includes('under the crash scenarios (') || holds).toBe(true);
    }
    expect(model.strategies[0]!.verdict!.line).toMatch(/Under stress, the history verdict holds in \d of 2 configurations under the crash scenarios and \d of 2 configurations over the Monte Carlo paths\./);
  });

  it('the note on path runs without their event log counts the results that lack it, whatever the config says', () => {
    const note = (rs: RunResult[], pathEvents: boolean): string | undefined => {
      const m = { ...makeManifest(rs), config: { stress: { pathEvents } } };
      return buildModel(rs, m).notes.find((n) => n.includes('Monte Carlo path runs keep their outcome only'));
    };
    const paths = results.filter((r) => r.spec.stress?.kind === 'path');
    const prices = { AAA: { time: [0], close: [1] } } as unknown as RunResult['prices'];
    const light = results.map((r) => (r.spec.stress?.kind === 'path' ? { ...r, prices: undefined } : r));
    expect(note(light, true)).toMatch(new RegExp(`^${paths.length} Monte Carlo path runs`));
    // a folder resumed or merged across a change of stress.pathEvents: half of the path runs kept their events
    const half = new Set(paths.slice(0, paths.length / 2).map((r) => r.runId));
    const mixed = light.map((r) => (half.has(r.runId) ? { ...r, prices } : r));
    expect(note(mixed, false)).toMatch(new RegExp(`^${paths.length - half.size} Monte Carlo path runs`));
    const full = light.map((r) => (r.spec.stress?.kind === 'path' ? { ...r, prices } : r));
    expect(note(full, false)).toBeUndefined();
    // an errored path run (its strategy threw) without its event log is one of them, not a maxEventsPerRun cut;
    // one that produced nothing (an internal error, a timeout: no events, no cap) is neither
    const threw = { ...light.find((r) => r.spec.stress?.kind === 'path')!, status: 'errored' as const, error: 'strategy threw: x', events: [], eventsCap: { limit: 0, total: 7, kept: 0 } };
    const nothing = { ...light.filter((r) => r.spec.stress?.kind === 'path')[1]!, status: 'errored' as const, error: 'timed out', events: [], eventsCap: undefined, books: {}, metrics: {} };
    // and an errored one that threw before any event still counts (its books say it ran)
    const early = { ...light.filter((r) => r.spec.stress?.kind === 'path')[2]!, status: 'errored' as const, error: 'strategy threw: x', events: [], eventsCap: undefined };
    const withErrors = light.map((r) => (r.runId === threw.runId ? threw : r.runId === nothing.runId ? nothing : r.runId === early.runId ? early : r));
    const notes = buildModel(withErrors, makeManifest(withErrors)).notes;
    expect(notes.find((n) => n.includes('keep their outcome only'))).toMatch(new RegExp(`^${paths.length - 1} Monte Carlo path runs`));
    expect(notes.some((n) => n.startsWith('maxEventsPerRun'))).toBe(false);
  });

  it('a scenario whose runs all errored stays listed (summary.json, report.md), its runs counted as errored, never as outcomes', async () => {
    const crash = results.filter((r) => r.spec.stress?.kind === 'scenario');
    const victim = crash[0]!.spec.stress as { scenario: string; injectAt: number };
    const broken = results.map((r) => {
      const s = r.spec.stress;
      return s?.kind === 'scenario' && s.scenario === victim.scenario ? { ...r, status: 'errored' as const, error: 'strategy threw: boom\nat line 2' } : r;
    });
    const k = broken.filter((r) => r.status === 'errored').length;
    expect(k).toBeGreaterThan(0);
    const out = mkdtempSync(join(tmpdir(), 'ml-report-stress-err-'));
    try {
      await writeReport({ dir: out, results: broken as RunResult[], manifest: makeManifest(broken as RunResult[]), formats: ['json', 'md', 'html'] });
      const st = SummarySchema.parse(JSON.parse(read('summary.json', out))).stress!;
      expect(st.runs).toEqual({ crash: 2 * 2 * 9, paths: 2 * 2 * 6, errored: k });
      for (const c of st.configs) {
        expect(c.scenarios).toHaveLength(9);
        const rows = c.scenarios.filter((x) => x.scenario === victim.scenario);
        expect(rows.length).toBeGreaterThan(0);
        for (const row of rows) {
          expect(row.setups).toEqual([]);
          expect(row.errored!.map((e) => [e.setup, e.error])).toEqual([['isolated', 'strategy threw: boom\nat line 2'], ['cross', 'strategy threw: boom\nat line 2']]);
        }
        // the crash pack's odds count the runs that completed only
        for (const p of c.populations.filter((x) => x.population === 'crash')) for (const x of p.setups) expect(x.liquidation.n).toBe(9 - rows.length);
      }
      const md = read('report.md', out);
      expect(md).toContain(`${2 * 2 * 9} crash-scenario runs (3 scenarios × 3 injection times)`);
      expect(md).toContain(`, ${k} of them errored (not counted; runs.csv says why)`);
      const scen = md.slice(md.indexOf('### Scenarios × injection times'));
      const lines = scen.split('\n').filter((l) => l.includes(`| ${victim.scenario} |`));
      expect(lines.length).toBe(k);
      for (const l of lines) expect(l).toMatch(/\| errored \|.*\| errored: strategy threw: boom \|$/);
      // report.html's scenario table has the same rows
      const html = read('report.html', out);
      expect(html.split('errored: strategy threw: boom</td>').length - 1).toBe(k);
      expect(html).toContain(`, ${k} of them errored (not counted; runs.csv says why)`);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('report.md has the Stress section, escaped', () => {
    const md = read('report.md');
    expect(md).toContain('## Stress: crash scenarios and Monte Carlo paths');
    expect(md).toContain('### Leverage survival: highest leverage with P(liquidation or wipe-out) under 5%');
    expect(md).toContain('### Mode difference (paired bootstrap, b − a)');
    // the hint says when a difference is noise: an interval containing 0, or too few pairs for one
    expect(md).toContain('an interval containing 0 is noise, as are fewer than 6 pairs (no interval)');
    expect(md).toContain('### Scenarios × injection times');
    expect(md).not.toContain(STRESS_XSS_SCENARIO);
    expect(md).toContain('&lt;svg onload=alert(3)&gt;');
    // the history comparison table has one row per history run
    const comp = md.slice(md.indexOf('## Comparison'), md.indexOf('## Leverage sweep'));
    expect(comp.split('\n').filter((l) => l.startsWith('| ma-trend'))).toHaveLength(4);
  });
});

describe('the stress section\'s run counts', () => {
  it('leave out a population with no run and group thousands (it read "0 crash-scenario runs (0 scenarios × 0 injection times)" under --scenarios none)', () => {
    const m = (crash: number, paths: number, errored = 0) => ({ runs: { crash, paths, errored } }) as StressModel;
    expect(stressRunsPhrase(m(0, 4), ' (0 scenarios × 0 injection times)')).toBe('4 Monte Carlo path runs');
    expect(stressRunsPhrase(m(1896, 0), ' (1 scenario × 948 injection times)')).toBe('1,896 crash-scenario runs (1 scenario × 948 injection times)');
    expect(stressRunsPhrase(m(1, 1200, 2))).toBe('1 crash-scenario run, 1,200 Monte Carlo path runs, 2 of them errored (not counted; runs.csv says why)');
  });
});

describe('the stress tables sort Params in reading order', () => {
  it('fast=12 before fast=100 (the stress tables sorted the label text: fast=100 first), as the history tables do', async () => {
    const { runIdOf } = await import('../src/shard/hash.js');
    const { renderHtml } = await import('../src/report/html.js');
    const { leverageSweep, modeTotals } = await import('../src/report/aggregate.js');
    const base = makeStressResults({ bars: 24 * 10, paths: 2, leverages: [3], scenarios: [{ id: 'wick-40', depth: 0.4, recover: 0.9 }] });
    const withFast = (fast: number) =>
      base.map((r) => {
        const spec = { ...structuredClone(r.spec), params: { fast, slow: 48 } };
        return { ...structuredClone(r), spec, runId: runIdOf(spec) } as RunResult;
      });
    const rs = [...withFast(100), ...withFast(12)];
    const model = buildModel(rs, makeManifest(rs));
    const keys = model.stress!.paramsKeys;
    expect(keys.get('fast=12, slow=48')! < keys.get('fast=100, slow=48')!).toBe(true);
    const html = renderHtml(model, leverageSweep(model.history), modeTotals(model.history));
    expect(html).toContain(`data-v="${keys.get('fast=12, slow=48')}"`);
    expect(html).not.toMatch(/data-v="fast=100, slow=48"/);
  });
});
