import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../src/errors.js';
import { parseRules, ruleFails } from '../src/compare/rules.js';
import { decimalDiff, decimalSum } from '../src/analysis/money.js';
import { compareFolders, COMPARE_METRICS, type Comparison, type RunPair } from '../src/compare/index.js';
import { fmtDelta, incompleteLines, renderHtml, renderMarkdown, renderText, unpairedLines } from '../src/compare/render.js';
import { fmtLeverage, missingRunsText } from '../src/report/format.js';
import { runIdOf } from '../src/shard/hash.js';
import type { RunResult } from '../src/shard/types.js';
import { makeManifest, makeResults, writeRunFolder, XSS_NAME } from './fixtures/report/fixture.js';
import { runCli } from './fixtures/run/cli.js';

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const usage = (specs: string[]) => {
  try {
    parseRules(specs);
  } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as UserError).exitCode;
  }
  return 0;
};

describe('compare wording', () => {
  it('a change that rounds to zero has no sign (it printed −0.00 and +0.0pp)', () => {
    expect(fmtDelta('totalReturn', -0.004)).toBe('±0.0pp');
    expect(fmtDelta('totalReturn', 1e-9)).toBe('±0.0pp');
    expect(fmtDelta('fees', -0.001)).toBe('±0.00');
    expect(fmtDelta('fees', 0)).toBe('±0');
    expect(fmtDelta('fees', 0.5)).toBe('+0.50');
    expect(fmtDelta('totalReturn', -1.26)).toBe('−1.3pp');
    expect(fmtDelta('totalReturn', null)).toBe('—');
    // beside two figures that read apart (−23.94 → −23.96 shown as −23.9% → −24.0%) the change shows its first digit: it read ±0.0pp
    expect(fmtDelta('totalReturn', -0.02, true)).toBe('−0.02pp');
    expect(fmtDelta('fees', 0.004, true)).toBe('+0.004');
    expect(fmtDelta('totalReturn', -0.004, true)).toBe('−0.004pp');
    expect(fmtDelta('totalReturn', -1.26, true)).toBe('−1.3pp');
    expect(fmtDelta('totalReturn', 1e-12, true)).toBe('±0.0pp');
  });

  it('one run without a result is "has", several "have" (reports, compare and the CLI share the sentence)', () => {
    expect(missingRunsText(1, 51)).toBe('1 of the 51 planned runs has no result');
    expect(missingRunsText(4, 8)).toBe('4 of the 8 planned runs have no result');
  });
});

describe('--fail-on rules', () => {
  it('every mistake in a rule is one line (no detail lines) naming the rule and what to write', () => {
    const cases: [string, RegExp][] = [
      ['maxDrawdon>+2pp', /unknown field 'maxDrawdon' \(did you mean 'maxDrawdown'\?\)$/],
      ['zzz>1', /unknown field 'zzz' \(use status, missing, added or a metric id: totalReturn, .*returnOnMargin\)$/],
      ['zzz<(-1)', /unknown field 'zzz' \(use status/],
      ['maxDrawdown', /expected <field><op><value> with op one of .*, e\.g\. liquidations>0/],
      ['maxDrawdown>>2', /'>2' is not a number/],
      ['maxDrawdown>2pp', /needs a sign: maxDrawdown>\+2pp or maxDrawdown>-2pp$/],
      ['status>ok', /status takes == or !=$/],
      ['missing>+1', /missing is a count of runs/],
      ['trades>+1pp', /trades is not measured in %/],
    ];
    for (const [rule, text] of cases) {
      let err: unknown;
      try {
        parseRules([rule]);
      } catch (e) {
        err = e;
      }
      expect(err, rule).toBeInstanceOf(UserError);
      const u = err as UserError;
      expect(u.exitCode, rule).toBe(64);
      expect(u.message, rule).toMatch(text);
      expect(u.message.startsWith(`--fail-on: rule '${rule}': `), rule).toBe(true);
      expect(u.details ?? [], rule).toEqual([]);
    }
  });

  it("README's nightly gate is the recipe of docs/scaling.md (a liquidation more than the baseline's, not any liquidation) and parses", () => {
    const root = join(import.meta.dirname, '..');
    const gate = (file: string) => [...readFileSync(join(root, file), 'utf8').matchAll(/--fail-on '([^']+)'/g)].map((m) => m[1]!);
    const readme = gate('README.md');
    const recipe = gate('docs/scaling.md').at(-1)!;
    expect(readme).toEqual([recipe]);
    const rules = parseRules([recipe]);
    expect(rules.find((r) => r.field === 'liquidations')).toMatchObject({ op: '>', kind: 'delta', threshold: 0 });
  });

  it('parses values, changes in pp / units / %, status and counts', () => {
    const r = parseRules(['liquidations>0, maxDrawdown>+2pp', 'totalReturn<-1pp,status!=ok', 'fees>=+10%', 'missing>0', 'sharpe<=-0.5']);
    expect(r.map((x) => [x.field, x.op, x.kind, x.threshold])).toEqual([
      ['liquidations', '>', 'value', 0],
      ['maxDrawdown', '>', 'delta', 2],
      ['totalReturn', '<', 'delta', -1],
      ['status', '!=', 'status', NaN],
      ['fees', '>=', 'relative', 0.1],
      ['missing', '>', 'count', 0],
      ['sharpe', '<=', 'delta', -0.5],
    ]);
  });
  it('a value of the metric itself with a sign goes in parentheses (a bare signed number is a change)', () => {
    const r = parseRules(['totalReturn<(-5), sharpe<=(-0.5)', 'fees>(+100),liquidations>=(2)']);
    expect(r.map((x) => [x.field, x.op, x.kind, x.threshold])).toEqual([
      ['totalReturn', '<', 'value', -5],
      ['sharpe', '<=', 'value', -0.5],
      ['fees', '>', 'value', 100],
      ['liquidations', '>=', 'value', 2],
    ]);
    const cur = { status: 'ok' as const, metrics: { totalReturn: -7 } };
    const base = { status: 'ok' as const, metrics: { totalReturn: -8 } };
    // the value −7 is below −5 (fails), though the change +1 is not below −5
    expect(ruleFails(r[0]!, cur, base)).toBe(true);
    expect(ruleFails(parseRules(['totalReturn<-5'])[0]!, cur, base)).toBe(false);
    expect(ruleFails(r[0]!, cur, null)).toBe(true); // a run only in the current folder too
  });
  it('judges a change on the decimals the figures print as: a rise of exactly the threshold is not more than it', () => {
    const at = (fees: number, totalReturn: number) => ({ status: 'ok' as const, metrics: { fees, totalReturn } });
    // doubles: 147.76847767 − 97.76847767 = 50.000000000000014, 3.8159612445 − 4.8159612445 = −1.0000000000000004,
    // (110.11 − 100.1) ÷ 100.1 = 0.10000000000000006: each read as past its threshold
    expect(ruleFails(parseRules(['fees>+50'])[0]!, at(147.76847767, 0), at(97.76847767, 0))).toBe(false);
    expect(ruleFails(parseRules(['fees>+50'])[0]!, at(147.76847768, 0), at(97.76847767, 0))).toBe(true);
    expect(ruleFails(parseRules(['totalReturn<-1pp'])[0]!, at(0, 3.8159612445), at(0, 4.8159612445))).toBe(false);
    expect(ruleFails(parseRules(['totalReturn<-1pp'])[0]!, at(0, 3.8159612444), at(0, 4.8159612445))).toBe(true);
    expect(ruleFails(parseRules(['fees>+10%'])[0]!, at(110.11, 0), at(100.1, 0))).toBe(false);
    expect(ruleFails(parseRules(['fees>+10%'])[0]!, at(110.12, 0), at(100.1, 0))).toBe(true);
  });
  it('a figure with more than 18 places (1e-21, an exponent) is not rounded to units of 1e-18 on the way: its change is not 0', () => {
    const at = (sharpe: number, fees = 0) => ({ status: 'ok' as const, metrics: { sharpe, fees } });
    // 0 → 1e-21 read a change of 0 (and −4e-19 → 0, 3e-19 → 1e-19 too), so "sharpe<-0" passed a fall the doubles show
    expect(ruleFails(parseRules(['sharpe<-0'])[0]!, at(-4e-19), at(0))).toBe(true);
    expect(ruleFails(parseRules(['sharpe>+0'])[0]!, at(1e-21), at(0))).toBe(true);
    expect(decimalDiff(1e-21, 0)).toBe(1e-21);
    expect(decimalDiff(3e-19, 1e-19)).toBe(2e-19);
    expect(decimalDiff(1e21, 1)).toBe(1e21);
    expect(decimalDiff(1e21, 1e-21)).toBe(1e21);
    expect(decimalDiff(0.3, 0.1)).toBe(0.2); // the plain figures keep their exact path
    expect(decimalSum([1e-21, 2e-21, 0.1])).toBe(0.100000000000000000003);
    expect(decimalSum([1e-21, 1e-21])).toBe(2e-21);
    expect(decimalSum([5.156238940000001e-19, 0.2])).toBe(0.2);
  });
  it('a mistake stays on one line whatever the flag holds (a newline between rules, a control character, a long value)', () => {
    for (const spec of ['liquidations>0,\n,fees>+10%', 'fees>\u0001', `fees>${'9'.repeat(5000)}x`, 'status==\u0007']) {
      let err: unknown;
      try {
        parseRules([spec]);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(spec)).toBeInstanceOf(UserError);
      const u = err as UserError;
      expect(u.exitCode).toBe(64);
      expect(u.message, JSON.stringify(spec)).not.toMatch(/[\u0000-\u001f]/);
      expect(u.message.length, JSON.stringify(spec)).toBeLessThan(1000);
    }
  });
  it('an unknown field names the nearest one (`maxDrawdon>+2pp`: did you mean maxDrawdown?), as an unknown config key or flag does', () => {
    expect(() => parseRules(['status!=ok,maxDrawdon>+2pp'])).toThrow("--fail-on: rule 'maxDrawdon>+2pp': unknown field 'maxDrawdon' (did you mean 'maxDrawdown'?)");
    expect(() => parseRules(['liqudations>(1)'])).toThrow("unknown field 'liqudations' (did you mean 'liquidations'?)");
    expect(() => parseRules(['mising>0'])).toThrow("unknown field 'mising' (did you mean 'missing'?)");
  });
  it.each([
    ['liqudations>0'], // unknown field
    ['liquidations>+2pp'], // pp on a count
    ['maxDrawdown>2pp'], // pp without a sign
    ['status>ok'],
    ['status!=fine'],
    ['totalReturn=>1'],
    ['totalReturn<abc'],
    ['missing>+1'],
    ['missing>(-1)'],
    ['totalReturn<(-5pp)'],
    ['totalReturn<(-5%)'],
    ['totalReturn<(--5)'],
    ['totalReturn<(-5'],
    ['nosuch<(-5)'],
    ['liquidations>0,'],
    [''],
  ])('%s is a usage error (64)', (rule) => {
    expect(usage([rule])).toBe(64);
  });
});

describe('compare', () => {
  let base: RunResult[];
  let baseDir: string;
  let curDir: string;
  let c: Comparison;
  beforeAll(() => {
    base = makeResults(24 * 30);
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-'));
    baseDir = writeRunFolder(join(root, 'base'), base, makeManifest(base, 'nightly'));
    const cur = base.map(clone);
    for (const r of cur) {
      r.spec.engineVersion = '2';
      r.runId = runIdOf(r.spec);
    }
    // a regression: one run gets a liquidation and 3pp more drawdown
    const hit = cur.find((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 3 && r.spec.setup === 'isolated')!;
    hit.metrics.liquidations = (hit.metrics.liquidations ?? 0) + 1;
    hit.metrics.maxDrawdown = (hit.metrics.maxDrawdown ?? 0) + 3;
    hit.metrics.totalReturn = (hit.metrics.totalReturn ?? 0) - 0.5;
    // one run disappears, one is new
    const gone = cur.findIndex((r) => r.spec.strategy === 'ma-trend' && r.spec.leverage === 25 && r.spec.setup === 'cross');
    cur.splice(gone, 1);
    const added = clone(cur[0]!);
    added.spec.leverage = 50;
    added.runId = runIdOf(added.spec);
    cur.push(added);
    const m = makeManifest(cur, 'nightly');
    m.engineVersion = '2';
    curDir = writeRunFolder(join(root, 'cur'), cur, m);
    c = compareFolders(baseDir, curDir, parseRules(['maxDrawdown>+2pp', 'totalReturn<-1pp', 'missing>0', 'added>5']));
  });

  it('matches runs by spec across engine versions and lists one-sided runs', () => {
    expect(c.pairs.length).toBe(base.length - 1);
    expect(c.engineVersionChanged).toBe(true);
    expect(c.baseline.engineVersion).toBe('1');
    expect(c.current.engineVersion).toBe('2');
    for (const p of c.pairs) {
      expect(p.engineVersion).toEqual({ baseline: '1', current: '2' });
      expect(p.specDifferences).toContain('engine 1 → 2');
    }
    expect(c.onlyInBaseline.map((r) => [r.strategy, r.leverage, r.setup])).toEqual([['ma-trend', 25, 'cross']]);
    expect(c.onlyInCurrent.map((r) => r.leverage)).toEqual([50]);
  });

  it('evaluates rules per run: the drawdown rule fails once, the return rule not, missing once', () => {
    expect(c.rules).toEqual([
      { rule: 'maxDrawdown>+2pp', failures: 1 },
      { rule: 'totalReturn<-1pp', failures: 0 },
      { rule: 'missing>0', failures: 1 },
      { rule: 'added>5', failures: 0 },
    ]);
    expect(c.passed).toBe(false);
    const failing = c.pairs.filter((p) => p.failedRules.length > 0);
    expect(failing.map((p) => [p.strategy, p.leverage, p.setup, p.failedRules])).toEqual([['ma-trend', 3, 'isolated', ['maxDrawdown>+2pp']]]);
    const d = failing[0]!.metrics;
    expect(d.liquidations!.delta).toBe(1);
    expect(d.maxDrawdown!.delta).toBeCloseTo(3, 9);
    expect(d.totalReturn!.delta).toBeCloseTo(-0.5, 9);
  });

  it('counts missing / added rules by the runs they count, and a rule given twice once', () => {
    const base3 = makeResults(24 * 30);
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-count-'));
    const cur3 = base3.slice(3).map(clone);
    const r = compareFolders(
      writeRunFolder(join(root, 'a'), base3, makeManifest(base3)),
      writeRunFolder(join(root, 'b'), cur3, makeManifest(cur3)),
      parseRules(['missing>0', 'missing>0,status!=ok']),
    );
    expect(r.onlyInBaseline.length).toBe(3);
    expect(r.rules).toEqual([
      { rule: 'missing>0', failures: 3 },
      { rule: 'status!=ok', failures: r.pairs.filter((p) => p.status.current !== 'ok').length },
    ]);
    expect(renderText(r)).toContain('FAIL  missing>0 (3 runs missing)\n');
    expect(renderMarkdown(r).match(/missing&gt;0/g)?.length).toBe(1);
  });

  it('sums per setup and keeps the JSON shape', () => {
    const iso = c.setups.find((s) => s.setup === 'isolated')!;
    expect(iso.failing).toBe(1);
    expect(iso.liquidations.current - iso.liquidations.baseline).toBe(1);
    expect(Object.keys(c).sort()).toEqual(['baseline', 'current', 'engineVersionChanged', 'onlyInBaseline', 'onlyInCurrent', 'pairs', 'passed', 'rules', 'schemaVersion', 'setups']);
    expect(Object.keys(c.pairs[0]!.metrics)).toEqual([...COMPARE_METRICS]);
    expect(c.pairs.every((p) => p.stress === undefined)).toBe(true);
  });

  it('a change carries one sign, also for signed metrics (return, funding net): never ++, −+, +− or −−', () => {
    const text = [renderText(c), renderMarkdown(c), renderHtml(c)].join('\n');
    expect(text).not.toMatch(/[+\u2212-][+\u2212]\d/);
    const hit = c.pairs.find((p) => p.failedRules.length > 0)!;
    const md = renderMarkdown(c).split('\n').find((l) => l.includes(`${hit.leverage}× ${hit.setup}`) && l.includes('ma-trend'))!;
    expect(md).toContain('(\u22120.5pp)');
  });

  it('escapes names in compare.html (no script, no raw markup)', () => {
    const html = renderHtml(c);
    expect(c.pairs.some((p) => p.strategy === XSS_NAME)).toBe(true);
    expect(html).not.toContain(XSS_NAME);
    expect(html).not.toMatch(/<script/i);
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('gives the changes and the per-setup sums of money exact on the figures\' decimals (no doubles\' noise in --json)', () => {
    const two = base.filter((r) => r.spec.setup === 'cross').slice(0, 2).map(clone);
    const cu = two.map(clone);
    two[0]!.metrics.fundingNet = -274.12251731;
    cu[0]!.metrics.fundingNet = -297.69211555;
    two[1]!.metrics.fundingNet = -250.55291491;
    cu[1]!.metrics.fundingNet = -250.55291491;
    two[0]!.metrics.fees = 4.95623894;
    cu[0]!.metrics.fees = 4.37244654;
    cu[1]!.metrics.fees = 0.1;
    two[1]!.metrics.fees = 0.2;
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-exact-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), two, makeManifest(two)), writeRunFolder(join(root, 'b'), cu, makeManifest(cu)), []);
    const p0 = r.pairs.find((p) => p.baselineRunId === two[0]!.runId)!;
    expect(p0.metrics.fundingNet!.delta).toBe(-23.56959824); // doubles: -23.569598240000005
    expect(p0.metrics.fees!.delta).toBe(-0.5837924); // doubles: -0.5837924000000001
    const cross = r.setups.find((s) => s.setup === 'cross')!;
    expect(cross.fundingNet).toEqual({ baseline: -524.67543222, current: -548.24503046 });
    expect(cross.fees.baseline).toBe(5.15623894); // doubles: 5.156238940000001
    expect(cross.fees.current).toBe(4.47244654);
  });
  it('lists runs with their numbers by value: params (fast=12 before fast=100) and Monte Carlo paths (path 2 before path 10)', () => {
    const one = base.filter((r) => r.spec.setup === 'cross').slice(0, 1);
    const mk = (fast: number, pathIndex: number) => {
      const r = clone(one[0]!);
      r.spec.params = { ...r.spec.params, fast };
      r.spec.stress = { kind: 'path', seed: 1, pathIndex, blockBars: 24 };
      r.runId = runIdOf(r.spec);
      r.stress = { kind: 'path', seed: 1, pathIndex, survived: true, wipedOut: false, timeToLiquidationMs: null, peakMarginRatio: 0.4, lossAtShock: null, firstLiquidated: [], equityGrid: [], equityGridTime: [] } as unknown as RunResult['stress'];
      return r;
    };
    const b = [mk(100, 10), mk(12, 10), mk(100, 2), mk(12, 2), mk(12, 11)];
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-order-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), b, makeManifest(b)), writeRunFolder(join(root, 'b'), one, makeManifest(one)), []);
    expect(r.onlyInBaseline.map((x) => `${x.params.split(', ').find((p) => p.startsWith('fast='))} ${x.stressRun!.split(' (')[0]}`)).toEqual([
      'fast=12 path 2', 'fast=12 path 10', 'fast=12 path 11', 'fast=100 path 2', 'fast=100 path 10',
    ]);
  });

  it('compares stress figures when both sides completed (not an errored run\'s partial ones), and errored runs fail status!=ok', () => {
    const b = base.slice(0, 2).map(clone);
    const stress = { kind: 'scenario' as const, scenario: 'luna-2022', injectAt: Date.UTC(2024, 0, 5) };
    for (const r of b) {
      r.spec.stress = stress;
      r.runId = runIdOf(r.spec);
      r.stress = { kind: 'scenario', scenario: 'luna-2022', injectAt: stress.injectAt, survived: true, wipedOut: false, timeToLiquidationMs: null, peakMarginRatio: 0.4, lossAtShock: '-120.5', firstLiquidated: [], equityGrid: [], equityGridTime: [] };
    }
    const cu = b.map(clone);
    cu[0]!.stress!.survived = false;
    // errored after a liquidation: its stress figures, as its metrics, cover the bars before it stopped
    cu[1]!.stress!.survived = false;
    cu[1]!.stress!.peakMarginRatio = 1.2;
    cu[1]!.status = 'errored';
    cu[1]!.error = 'strategy threw';
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-stress-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), b, makeManifest(b)), writeRunFolder(join(root, 'b'), cu, makeManifest(cu)), parseRules(['status!=ok']));
    expect(r.pairs.length).toBe(2);
    expect(r.pairs.every((p) => p.stressRun?.startsWith('scenario luna-2022'))).toBe(true);
    const changed = r.pairs.find((p) => p.status.current === 'ok')!;
    expect(changed.stress!.survived).toEqual({ baseline: true, current: false });
    // the errored run's partial stress figures are not compared (compare.md said 'survived yes → no, peak margin ratio 40.0% → 120.0%')
    const errored = r.pairs.find((p) => p.status.current === 'errored')!;
    expect(errored.stress).toBeUndefined();
    expect(errored.failedRules).toEqual(['status!=ok']);
    expect(errored.error).toBe('strategy threw');
    expect(renderMarkdown(r)).not.toContain('120.0%');
    expect(r.rules).toEqual([{ rule: 'status!=ok', failures: 1 }]);
    // the peak margin ratio is stored as a fraction and the change at the shock as a decimal string: shown
    // as the report shows them (40.0%, −120.50), never as a bare 0.4 a reader takes for 0.4 %
    for (const text of [renderMarkdown(r), renderHtml(r)]) {
      expect(text).toContain('peak margin ratio 40.0% → 40.0%');
      expect(text).toContain('change at the shock \u2212120.50 → \u2212120.50');
      expect(text).not.toMatch(/peak margin ratio 0\.4/);
    }
  });

  it("an errored run's partial figures are not compared: shown as —, no value rule fires on them, status!=ok does", () => {
    const b: RunResult[] = base.filter((r) => r.status === 'ok').slice(0, 2).map(clone);
    const cu = b.map(clone);
    // errored after a liquidation: its figures cover the bars before it stopped
    cu[0]!.status = 'errored';
    cu[0]!.error = 'strategy threw';
    cu[0]!.metrics.liquidations = 1;
    cu[0]!.metrics.totalReturn = -60;
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-errored-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), b, makeManifest(b)), writeRunFolder(join(root, 'b'), cu, makeManifest(cu)), parseRules(['liquidations>0', 'totalReturn<-1pp', 'status!=ok']));
    const p = r.pairs.find((x) => x.status.current === 'errored')!;
    expect(p.failedRules).toEqual(['status!=ok']);
    expect(p.metrics.totalReturn).toEqual({ baseline: b[0]!.metrics.totalReturn, current: null, delta: null });
    expect(p.metrics.liquidations!.current).toBeNull();
    const setup = r.setups.find((x) => x.setup === p.setup)!;
    expect(setup.liquidations.current).toBe(r.pairs.filter((x) => x.setup === p.setup && x.status.current === 'ok').reduce((a, x) => a + (x.metrics.liquidations!.current ?? 0), 0));
    // the per-setup sums cover the same runs on both sides: the errored run's baseline figures are left out too
    // (its baseline fees in the baseline sum only read as fees that fell)
    const okBoth = r.pairs.filter((x) => x.setup === p.setup && x.status.baseline === 'ok' && x.status.current === 'ok');
    expect(setup.fees).toEqual({ baseline: okBoth.reduce((a, x) => a + x.metrics.fees!.baseline!, 0), current: okBoth.reduce((a, x) => a + x.metrics.fees!.current!, 0) });
    expect(setup.liquidations.baseline).toBe(okBoth.reduce((a, x) => a + x.metrics.liquidations!.baseline!, 0));
    const row = renderMarkdown(r).split('\n').find((l) => l.includes('| ok → errored |'))!;
    expect(row).toContain(' → — (—)');
    expect(row).not.toContain('−60.0%');
  });

  // a run that errored last night and again tonight was said nowhere in the terminal summary (it changed no
  // status, has no return change and, without status!=ok, fails no rule) nor in the per-setup counts of
  // --json, compare.md and compare.html, while the same run errored on one side read 'status ok → errored'
  // and counted in 'N changed status'
  it('a run that errored on both sides is said as one that errored on one side: status errored → errored, counted per setup', () => {
    const b: RunResult[] = base.filter((r) => r.status === 'ok').slice(0, 3).map(clone);
    const cu = b.map(clone);
    for (const r of [b[0]!, cu[0]!, cu[1]!]) Object.assign(r, { status: 'errored', error: 'strategy threw' });
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-both-errored-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), b, makeManifest(b)), writeRunFolder(join(root, 'b'), cu, makeManifest(cu)), []);
    const both = r.pairs.find((p) => p.baselineRunId === b[0]!.runId)!;
    const one = r.pairs.find((p) => p.baselineRunId === b[1]!.runId)!;
    expect(both.status).toEqual({ baseline: 'errored', current: 'errored' });
    expect(one.status).toEqual({ baseline: 'ok', current: 'errored' });
    const name = (p: RunPair) => `${p.strategy}${p.params ? ` ${p.params}` : ''} · ${p.venue} · ${fmtLeverage(p.leverage)} ${p.setup}`;
    const text = renderText(r);
    expect(text).toContain(`runs failing a rule, changing status or errored on both sides (2):`);
    expect(text).toContain(`  ${name(both)}: status errored → errored, return`);
    expect(text).toContain(`  ${name(one)}: status ok → errored, return`);
    // per setup (--json, the terminal, compare.md and compare.html), beside 'N changed status'
    const json = JSON.parse(JSON.stringify(r)) as Comparison;
    expect(json.setups.find((s) => s.setup === both.setup)!.erroredOnBothSides).toBe(1);
    expect(json.setups.reduce((a, s) => a + s.erroredOnBothSides, 0)).toBe(1);
    expect(json.setups.reduce((a, s) => a + s.statusChanged, 0)).toBe(1);
    expect(text).toMatch(new RegExp(`^${both.setup}: .*, 1 errored on both sides`, 'm'));
    expect(renderHtml(r)).toContain('1 errored on both sides');
    const md = renderMarkdown(r);
    expect(md).toContain('| status changed | errored on both sides | failing |');
    expect(md).toContain('| errored → errored |');
  });

  it('the terminal summary lists at most 20 runs per list (those failing a rule first); compare.md lists every one', () => {
    const one = base[0]!;
    const many = Array.from({ length: 45 }, (_, i) => {
      const r = clone(one);
      r.spec.leverage = 100 + i;
      r.runId = runIdOf(r.spec);
      return r;
    });
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-cap-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), [one], makeManifest([one])), writeRunFolder(join(root, 'b'), [one, ...many], makeManifest([one, ...many])), parseRules(['added>100', 'maxDrawdown>+1000pp']));
    expect(r.onlyInCurrent.length).toBe(45);
    const text = renderText(r);
    const list = text.split('only in current (45):\n')[1]!.split('\n');
    expect(list.slice(0, 20).every((l) => l.startsWith('  '))).toBe(true);
    expect(list[20]).toBe('  ... and 25 more (compare.md and --json list every run)');
    expect(text).toContain(', 1 run, ');
    // the one matched run's setup line says "1 run" (it said "1 runs")
    expect(text).toMatch(new RegExp(`^${one.spec.setup}: 1 run, return `, 'm'));
    expect(text).not.toMatch(/\b1 runs\b/);
    expect(renderMarkdown(r).split('\n').filter((l) => l.includes('100×') || /\b1[0-4]\d×/.test(l)).length).toBeGreaterThanOrEqual(45);
  });

  /** a scenario run of `base[0]`'s spec at `injectAt` with its stress figures (the pairing tests below) */
  const day = 86_400_000;
  const scenarioRun = (injectAt: number, survived: boolean) => {
    const r = clone(base[0]!);
    r.spec.stress = { kind: 'scenario', scenario: 'luna-2022', injectAt, scenarioHash: 'h' };
    r.runId = runIdOf(r.spec);
    r.stress = { kind: 'scenario', scenario: 'luna-2022', injectAt, survived, wipedOut: false, timeToLiquidationMs: null, peakMarginRatio: 0.4, lossAtShock: '-1', firstLiquidated: [], equityGrid: [], equityGridTime: [] };
    return r;
  };

  it('pairs scenario runs by the rank of their injection time and path runs by index when the window moved the times (a refreshed dataset)', () => {
    const one = base[0]!;
    const pathRun = (injectAt: number) => {
      const r = clone(one);
      r.spec.stress = { kind: 'path', seed: 1, pathIndex: 0, blockBars: 24, crashes: [{ scenario: 'luna-2022', injectAt, scenarioHash: 'h' }] };
      r.runId = runIdOf(r.spec);
      return r;
    };
    const t0 = Date.UTC(2024, 0, 1);
    // random draws over a longer window: every time moved, the order kept
    const b = [scenarioRun(t0 + 5 * day, true), scenarioRun(t0 + 9 * day, false), scenarioRun(t0 + 20 * day, true), pathRun(t0 + 7 * day)];
    const cu = [scenarioRun(t0 + 6 * day, true), scenarioRun(t0 + 11 * day, false), scenarioRun(t0 + 24 * day, true), pathRun(t0 + 8 * day)];
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-inject-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), b, makeManifest(b)), writeRunFolder(join(root, 'b'), cu, makeManifest(cu)), parseRules(['missing>0', 'added>0']));
    expect([r.pairs.length, r.onlyInBaseline.length, r.onlyInCurrent.length, r.passed]).toEqual([4, 0, 0, true]);
    const scen = r.pairs.filter((p) => p.stress?.kind === 'scenario');
    // the k-th time pairs with the k-th: the second run (not survived) on both sides
    expect(scen.map((p) => [p.stress!.survived.baseline, p.stress!.survived.current])).toEqual([[true, true], [false, false], [true, true]]);
    expect(scen.every((p) => p.specDifferences.some((d) => d.startsWith('shock at ')))).toBe(true);
    expect(r.pairs.find((p) => p.stressRun?.startsWith('path'))!.specDifferences).toContain('crash times moved with the window');
  });

  it('pairs scenario runs by their exact time when a folder misses runs (a shard, an interrupted run: the ranks shift)', () => {
    const t0 = Date.UTC(2024, 0, 1);
    const full = [scenarioRun(t0 + 5 * day, true), scenarioRun(t0 + 9 * day, false), scenarioRun(t0 + 20 * day, true)];
    // the current folder planned the same three runs; the first has no result (another shard, or not run yet)
    const partial = full.slice(1).map(clone);
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-inject-partial-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), full, makeManifest(full)), writeRunFolder(join(root, 'b'), partial, makeManifest(full)), []);
    expect([r.pairs.length, r.onlyInBaseline.length, r.onlyInCurrent.length, r.current.missing]).toEqual([2, 1, 0, 1]);
    // each run pairs with the run at its own time: no shock moved, no status flipped
    expect(r.pairs.every((p) => !p.specDifferences.some((d) => d.startsWith('shock at ')))).toBe(true);
    expect(r.pairs.map((p) => [p.stress!.survived.baseline, p.stress!.survived.current])).toEqual([[false, false], [true, true]]);
  });

  it('names the dataset and timeframe of each listed run when the runs span more than one (else unpaired runs read alike)', () => {
    const b = base.slice(0, 2).map(clone);
    const cu = b.map(clone);
    cu[0]!.spec.dataset = 'my-import';
    cu[0]!.runId = runIdOf(cu[0]!.spec);
    cu[1]!.spec.timeframe = '30m';
    cu[1]!.runId = runIdOf(cu[1]!.spec);
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-data-'));
    const r = compareFolders(writeRunFolder(join(root, 'a'), b, makeManifest(b)), writeRunFolder(join(root, 'b'), cu, makeManifest(cu)), []);
    expect([r.pairs.length, r.onlyInBaseline.length, r.onlyInCurrent.length]).toEqual([0, 2, 2]);
    const text = renderText(r);
    const lines = (title: string) => text.split(`${title} (2):\n`)[1]!.split('\n').slice(0, 2);
    expect(lines('only in baseline').every((l) => l.includes(' · synthetic-btc 1h · '))).toBe(true);
    const cur = lines('only in current');
    expect(cur.some((l) => l.includes(' · my-import 1h · '))).toBe(true);
    expect(cur.some((l) => l.includes(' · synthetic-btc 30m · '))).toBe(true);
    expect(renderMarkdown(r)).toContain(' · my-import 1h · ');
    expect(renderHtml(r)).toContain(' · my-import 1h · ');
    // one dataset and timeframe throughout: the names stay as they were
    expect(renderText(c)).not.toContain('synthetic-btc 1h');
  });

  it('CLI: exit 1 when a rule fails, 0 when none does, 64 for a bad rule, 66 for a missing folder; --json; writes compare.md/html', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ml-compare-out-'));
    const fail = await runCli(['compare', baseDir, curDir, '--fail-on', 'liquidations>0,maxDrawdown>+2pp', '--json', '--out', out], process.cwd());
    expect(fail.code).toBe(1);
    const j = JSON.parse(fail.stdout) as Comparison;
    expect(j.passed).toBe(false);
    expect(j.rules.map((r) => r.rule)).toEqual(['liquidations>0', 'maxDrawdown>+2pp']);
    expect(existsSync(join(out, 'compare.md'))).toBe(true);
    expect(readFileSync(join(out, 'compare.html'), 'utf8')).toContain('FAIL');
    const pass = await runCli(['compare', baseDir, curDir, '--fail-on', 'totalReturn<-1pp', '--out', out], process.cwd());
    expect(pass.code).toBe(0);
    expect(pass.stdout).toMatch(/only in baseline \(1\)/);
    expect(pass.stdout).toMatch(/engine 1 → 2 \(changed\)/);
    const bad = await runCli(['compare', baseDir, curDir, '--fail-on', 'maxDrawdown>2pp', '--out', out], process.cwd());
    expect(bad.code).toBe(64);
    expect(bad.stderr).toMatch(/needs a sign/);
    const missing = await runCli(['compare', join(out, 'nope'), curDir, '--out', out], process.cwd());
    expect(missing.code).toBe(66);
    // a folder compared with itself (also through a symlink) always matched: a gate pointed at the wrong path passed
    const link = join(mkdtempSync(join(tmpdir(), 'ml-compare-link-')), 'cur');
    symlinkSync(curDir, link);
    for (const other of [curDir, link]) {
      const self = await runCli(['compare', curDir, other, '--fail-on', 'totalReturn<-1pp', '--out', out], process.cwd());
      expect(self.code).toBe(64);
      expect(self.stderr).toBe(`marginlab: compare: ${curDir} and ${other} are the same folder, which always matches itself; give the baseline run folder (the last good run) and the current one\n`);
    }
  });

  it('says when baseline runs pair with nothing and no missing rule looks at them (a gate whose runs all changed spec passed having compared nothing)', async () => {
    // a parameter default edited: every run of the current folder has another spec
    const cur = base.map(clone);
    for (const r of cur) {
      r.spec.params = { ...r.spec.params, fast: 13 };
      r.runId = runIdOf(r.spec);
    }
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-unpaired-'));
    const other = writeRunFolder(join(root, 'cur'), cur, makeManifest(cur, 'nightly'));
    const gate = await runCli(['compare', baseDir, other, '--fail-on', 'maxDrawdown>+2pp,totalReturn<-1pp'], process.cwd());
    expect(gate.code, gate.stdout + gate.stderr).toBe(0);
    const warning = gate.stderr.split('\n').filter((l) => l.includes('warning: '));
    expect(warning).toHaveLength(1);
    expect(warning[0]).toMatch(new RegExp(`^marginlab: warning: no run of the current folder ${other} pairs with one of the baseline's ${base.length} \\(${base.length} only in baseline, ${cur.length} only in current\\): runs pair by their spec .*; the --fail-on rules compared none of them; add missing>0 to --fail-on to fail the gate on them$`));
    expect(readFileSync(join(other, 'compare.md'), 'utf8')).toContain("- warning: no run of the current folder");
    expect(readFileSync(join(other, 'compare.html'), 'utf8')).toContain('warning: no run of the current folder');
    // with missing>0 the gate fails on them and nothing is said twice; without rules, a comparison that paired no run
    // at all says so (it passed in silence, having compared nothing)
    const strict = await runCli(['compare', baseDir, other, '--fail-on', 'missing>0,totalReturn<-1pp'], process.cwd());
    expect(strict.code).toBe(1);
    expect(strict.stderr).not.toContain('warning: ');
    const plain = await runCli(['compare', baseDir, other], process.cwd());
    expect([plain.code, plain.stderr.includes('; nothing was compared')]).toEqual([0, true]);
    // some runs unpaired: counted among the baseline's
    const some = await runCli(['compare', baseDir, curDir, '--fail-on', 'totalReturn<-1pp', '--out', mkdtempSync(join(tmpdir(), 'ml-compare-out-'))], process.cwd());
    expect(some.stderr).toMatch(new RegExp(`warning: 1 of the baseline's ${base.length} runs have no run of the same spec in the current folder ${curDir}: `));
  });

  // a shard's folder (or an interrupted run) lacks the planned runs another shard holds: they were
  // said to be unpaired because 'a changed parameter default, grid or leverage makes new runs'
  it('does not blame a changed spec for the runs an incomplete current folder has not run yet', () => {
    const partial = base.slice(1).map(clone);
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-unpaired-shard-'));
    const r = compareFolders(baseDir, writeRunFolder(join(root, 'b'), partial, makeManifest(base)), parseRules(['totalReturn<-1pp']));
    expect([r.onlyInBaseline.length, r.current.missing]).toEqual([1, 1]);
    expect(incompleteLines(r, true)).toEqual([expect.stringMatching(/^warning: the current folder .* is incomplete: /)]);
    expect(unpairedLines(r, true)).toEqual([]);
    expect(renderMarkdown(r)).not.toContain('have no run of the same spec');
  });
});

// compare holds both folders at once, but each was weighed alone as it was read: the baseline was read
// whole (minutes for a large one) before the current folder was refused with the heap the first left
describe("two folders larger together than the process's heap", () => {
  it('are refused before the first is read (exit 78, one line naming both)', () => {
    const root = mkdtempSync(join(tmpdir(), 'ml-compare-heap-'));
    try {
      const rs = makeResults(24 * 30);
      const a = writeRunFolder(join(root, 'a'), rs, makeManifest(rs));
      const b = writeRunFolder(join(root, 'b'), rs, makeManifest(rs));
      const size = (d: string) => readdirSync(join(d, 'results')).reduce((n, f) => n + statSync(join(d, 'results', f)).size, 0);
      const whole = (size(a) + size(b)) * 1.85;
      expect(compareFolders(a, b, [], { heapBudget: whole * 1.01 }).pairs).toHaveLength(rs.length);
      // a broken first file of the baseline: reading it would fail (65); the weighing comes first
      writeFileSync(join(a, 'results', '0000000000000000.json'), '{');
      let err: unknown;
      try {
        compareFolders(a, b, [], { heapBudget: whole * 0.99 });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(78);
      expect((err as UserError).message).toMatch(
        new RegExp(`^compare: ${a} with ${b} is too large for this machine's memory \\(${2 * rs.length + 1} results, \\d+ MB on disk\\): reading them needs about \\d+ MB of heap; this process has \\d+ MB$`),
      );
      expect((err as UserError).details).toEqual([expect.stringMatching(/^compare them on a machine with more memory, or give Node more heap/)]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
