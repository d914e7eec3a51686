/**
 * The Stress section of report.md (the HTML one is in stress-html.ts; both read the same rows).
 */
import { isoTime } from '../feed/timeframe.js';
import { SETUP_IDS, type SetupId } from '../engine/setups.js';
import { MIN_PAIRS, QUANTILES, type Proportion, type PairedInterval, type SurvivalPoint } from '../analysis/stress.js';
import { mdTable as table, escapeMd, fmtLeverage as lev, fmtMetric, fmtNumber, fmtProbabilityPct, fmtThresholdPct } from './format.js';
import { POPULATIONS, UNTESTED, fmtLossAtShock, pairReadingText, stressRunsPhrase, type Population, type StressConfig, type StressModel } from './stress.js';

export const POPULATION_LABEL: Record<Population, string> = { crash: 'crash scenarios', paths: 'Monte Carlo' };

/** '12% [5–24%]' or '3 of 12 [..]' style: the probability with its 95 % Wilson interval. */
export function fmtProportion(x: Proportion): string {
  if (x.p === null) return '—';
  const f = fmtProbabilityPct;
  return `${f(x.p)}% [${f(x.lo!)}–${f(x.hi!)}%] (${x.k}/${x.n})`;
}

/** '+2.1 pp [−0.5, +4.7]'; `scale` 100 turns a difference of probabilities into percentage points. */
export function fmtInterval(x: PairedInterval, scale = 1): string {
  if (x.mean === null) return '—';
  const f = (v: number) => fmtNumber(scale * v, 1, true);
  return x.lo === null || x.hi === null ? `${f(x.mean)} pp` : `${f(x.mean)} pp [${f(x.lo)}, ${f(x.hi)}]`;
}

/** The crash scenarios' runs liquidated / wiped out before the shock, apart from P(liquidation) and P(wipe-out): 'liq. 3/12, wiped 0/12'; '—' for paths. */
export function fmtBeforeShock(b: { liquidation: Proportion; wipeOut: Proportion } | null): string {
  return b ? `liq. ${b.liquidation.k}/${b.liquidation.n}, wiped ${b.wipeOut.k}/${b.wipeOut.n}` : '—';
}

/**
 * A scenario run's liquidation or wipe-out, placed against the shock: 'no', 'by the shock', 'before
 * the shock', 'before and by the shock'; a liquidation after the shock that the history run has too
 * (`asHistory`, not the shock's) is said where nothing else is: 'after the shock as in the history'.
 */
export function fmtShockPlace(before: boolean, by: boolean, asHistory = false): string {
  const place = before && by ? 'before and by the shock' : by ? 'by the shock' : before ? 'before the shock' : 'no';
  if (!asHistory || by) return place;
  return before ? 'before the shock; after it as in the history' : 'after the shock as in the history';
}

/**
 * A survival curve in words: '3× 0% [0–24%] (0/12); 20× 8.3% [1.5–35%] (1/12, 0 liquidated)': the
 * probability of a liquidation or a wipe-out at each leverage, how many of those runs were
 * liquidated when not all of them were (the others wiped out without a liquidation) and, under the
 * crash scenarios, how many failed before the shock ('10/10, 10 before the shock').
 */
export function survivalCurveLabel(curve: readonly SurvivalPoint[]): string {
  return curve
    .map((pt) => {
      if (pt.untested) return `${lev(pt.leverage)} ${UNTESTED}`;
      const s = fmtProportion(pt.failure);
      const notes = [...(pt.liquidation.k !== pt.failure.k ? [`${pt.liquidation.k} liquidated`] : []), ...(pt.failedBeforeShock ? [`${pt.failedBeforeShock} before the shock`] : [])];
      return `${lev(pt.leverage)} ${notes.length ? `${s.slice(0, -1)}, ${notes.join(', ')})` : s}`;
    })
    .join('; ');
}

/**
 * The "highest under the threshold" cell: the leverage, and, when its runs are too few for the 95 %
 * interval to stay under the threshold (0 of 3 injections: 0 % [0–56 %]), what the interval reaches —
 * the point estimate alone read as "safe" from a handful of runs.
 */
export function maxLeverageLabel(pt: SurvivalPoint | null, threshold: number): string {
  if (!pt) return 'none';
  const hi = pt.failure.hi;
  if (hi === null || hi < threshold) return lev(pt.leverage);
  return `${lev(pt.leverage)} (${pt.failure.k}/${pt.failure.n}: too few runs to show it, the 95% interval reaches ${fmtNumber(100 * hi, 0)}%)`;
}

export function fmtDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const h = ms / 3_600_000;
  if (Math.abs(h) < 48) return `${fmtNumber(h, Math.abs(h) < 10 ? 1 : 0)} h`;
  return `${fmtNumber(h / 24, 1)} d`;
}

const q = (i: number) => QUANTILES.indexOf(i as (typeof QUANTILES)[number]);

/** Rows shared by both renderers: one per configuration × population × setup. */
export function oddsRows(m: StressModel): { c: StressConfig; pop: Population; setup: SetupId }[] {
  const out: { c: StressConfig; pop: Population; setup: SetupId }[] = [];
  for (const c of m.configs) for (const pop of POPULATIONS) for (const s of SETUP_IDS) if (c.populations[pop]?.bySetup[s]) out.push({ c, pop, setup: s });
  return out;
}

/** the cell of an errored run in a scenario table: its error's first line, cut at 120 characters */
export function erroredLabel(error: string): string {
  const line = error.split('\n')[0]!;
  return `errored: ${line.length > 120 ? `${line.slice(0, 119)}…` : line}`;
}

export function firstLiquidatedLabel(x: { symbol: string; time: number }[]): string {
  if (!x.length) return '—';
  const t0 = x[0]!.time;
  const first = x.filter((e) => e.time === t0).map((e) => e.symbol);
  const rest = x.length - first.length;
  return `${first.join(', ')} @ ${isoTime(t0)}${rest ? ` (+${rest} later)` : ''}`;
}

export function renderStressMarkdown(m: StressModel | null): string {
  if (!m) return '';
  const L: string[] = [];
  const scen = new Set<string>();
  const times = new Set<number>();
  for (const c of m.configs) {
    for (const r of c.scenarios) {
      scen.add(r.scenario);
      times.add(r.injectAt);
    }
  }
  L.push('## Stress: crash scenarios and Monte Carlo paths', '');
  L.push(
    `${stressRunsPhrase(m, ` (${scen.size} scenario${scen.size === 1 ? '' : 's'} × ${times.size} injection time${times.size === 1 ? '' : 's'})`)}. ` +
      `Probabilities with their 95% Wilson interval; the crash scenarios' runs count what the shock did (before the shock: its own column); quantiles over the runs; the mode difference is a paired bootstrap over the same paths or injections (95%, seeded; injections the shock changed nothing in count once): an interval containing 0 is noise, as are fewer than ${MIN_PAIRS} pairs (no interval). Wiped out = equity below 5% of the start. Equity fan charts: report.html. Definitions: marginlab's docs/report.md, Stress.`,
    '',
  );
  const showParams = m.configs.some((c) => c.paramsLabel !== '');
  const showData = m.configs.some((c) => c.dataLabel !== '');
  const dataHead: string[] = showData ? ['Data'] : [];
  const dataAlign: 'l'[] = showData ? ['l'] : [];
  const dataCell = (d: string) => (showData ? [escapeMd(d)] : []);

  L.push('### Liquidation and wipe-out odds', '');
  L.push(
    table(
      ['Strategy', ...(showParams ? ['Params'] : []), ...dataHead, 'Lev', 'Population', 'Mode', 'P(liquidation)', 'P(wipe-out)', 'Before the shock', 'Return p5 / median / p95', 'ES 5%', 'Max DD median', 'Liq loss median', 'Time to liq. median'],
      ['l', ...(showParams ? ['l' as const] : []), ...dataAlign, 'r', 'l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
      oddsRows(m).map(({ c, pop, setup }) => {
        const o = c.populations[pop]!.bySetup[setup]!;
        const r = o.totalReturn.q;
        return [
          escapeMd(c.strategy),
          ...(showParams ? [escapeMd(c.paramsLabel)] : []),
          ...dataCell(c.dataLabel),
          lev(c.leverage),
          POPULATION_LABEL[pop],
          setup,
          fmtProportion(o.liquidation),
          fmtProportion(o.wipeOut),
          fmtBeforeShock(o.beforeShock),
          `${fmtMetric('totalReturn', r[q(0.05)])} / ${fmtMetric('totalReturn', r[q(0.5)])} / ${fmtMetric('totalReturn', r[q(0.95)])}`,
          fmtMetric('totalReturn', o.expectedShortfall5),
          fmtMetric('maxDrawdown', o.maxDrawdown.q[q(0.5)]),
          fmtMetric('liquidationLoss', o.liquidationLoss.q[q(0.5)]),
          fmtDuration(o.timeToLiquidationMs.q[q(0.5)]),
        ];
      }),
    ),
    '',
  );

  L.push(`### Leverage survival: highest leverage with P(liquidation or wipe-out) under ${fmtThresholdPct(m.threshold)}%`, '');
  const sp = m.survival.some((r) => r.paramsLabel !== '');
  L.push(
    table(
      ['Strategy', ...(sp ? ['Params'] : []), 'Venue', ...dataHead, 'Population', 'Mode', 'P(liquidation or wipe-out) by leverage', 'Highest under threshold'],
      ['l', ...(sp ? ['l' as const] : []), 'l', ...dataAlign, 'l', 'l', 'l', 'r'],
      m.survival.map((r) => [
        escapeMd(r.strategy),
        ...(sp ? [escapeMd(r.paramsLabel)] : []),
        escapeMd(r.venue),
        ...dataCell(r.dataLabel),
        POPULATION_LABEL[r.population],
        r.setup,
        survivalCurveLabel(r.curve),
        maxLeverageLabel(r.maxLeverage, m.threshold),
      ]),
    ),
    '',
  );

  L.push('### Mode difference (paired bootstrap, b − a)', '');
  const diffRows: string[][] = [];
  for (const c of m.configs) {
    for (const pop of POPULATIONS) {
      const ps = c.populations[pop];
      if (!ps) continue;
      for (const d of ps.diffs) {
        const reading = pairReadingText(d);
        diffRows.push([
          escapeMd(c.strategy),
          ...(showParams ? [escapeMd(c.paramsLabel)] : []),
          ...dataCell(c.dataLabel),
          lev(c.leverage),
          POPULATION_LABEL[pop],
          `${d.b} − ${d.a}`,
          String(d.totalReturn.n),
          fmtInterval(d.totalReturn),
          fmtInterval(d.wipeOut, 100),
          fmtInterval(d.liquidation, 100),
          reading,
        ]);
      }
    }
  }
  L.push(
    diffRows.length
      ? table(
          ['Strategy', ...(showParams ? ['Params'] : []), ...dataHead, 'Lev', 'Population', 'b − a', 'Pairs', 'Return', 'Wipe-out', 'Liquidation', 'Reading'],
          ['l', ...(showParams ? ['l' as const] : []), ...dataAlign, 'r', 'l', 'l', 'r', 'r', 'r', 'r', 'l'],
          diffRows,
        )
      : 'Only one margin mode completed: no difference to measure.',
    '',
  );

  const scenRows: string[][] = [];
  for (const c of m.configs) {
    for (const row of c.scenarios) {
      for (const s of SETUP_IDS) {
        const x = row.bySetup[s];
        const bad = row.errored[s];
        if (!x && !bad) continue;
        const lead = [escapeMd(c.strategy), ...(showParams ? [escapeMd(c.paramsLabel)] : []), ...dataCell(c.dataLabel), lev(c.leverage), escapeMd(row.scenario), isoTime(row.injectAt), s];
        if (!x) {
          scenRows.push([...lead, 'errored', '—', '—', '—', '—', '—', escapeMd(erroredLabel(bad!.error))]);
          continue;
        }
        scenRows.push([
          ...lead,
          fmtShockPlace(x.liquidatedBeforeShock, x.liquidatedByShock, x.liquidatedAsHistory),
          fmtShockPlace(x.wipedOutBeforeShock, x.wipedOutByShock, x.wipedOutAsHistory),
          fmtMetric('totalReturn', x.totalReturn),
          fmtLossAtShock(x.lossAtShock),
          fmtMetric('marginRatioMax', x.peakMarginRatio),
          fmtDuration(x.timeToLiquidationMs),
          escapeMd(firstLiquidatedLabel(x.firstLiquidated)),
        ]);
      }
    }
  }
  if (scenRows.length) {
    L.push('### Scenarios × injection times', '');
    L.push(
      table(
        ['Strategy', ...(showParams ? ['Params'] : []), ...dataHead, 'Lev', 'Scenario', 'Injected at', 'Mode', 'Liquidated', 'Wiped out', 'Return', 'Change at shock', 'Peak MR', 'Time to liq.', 'First liquidated'],
        ['l', ...(showParams ? ['l' as const] : []), ...dataAlign, 'r', 'l', 'l', 'l', 'l', 'l', 'r', 'r', 'r', 'r', 'l'],
        scenRows,
      ),
      '',
      'Liquidated / Wiped out: by the shock (a liquidation from the bar the shock starts in on; equity below 5% at a bar close from it on, not before) or before the shock (in the history before it: not the crash\'s doing, and not counted in P(liquidation) and P(wipe-out) of the crash scenarios, which show it apart as "Before the shock"); "after the shock as in the history": a liquidation the history run of the same configuration and setup has too (same time and symbol), a wipe-out no sooner than its own, neither counted as the shock\'s. Change at shock = equity at the end of the shock window minus equity just before it (quote). Peak MR = highest intrabar margin ratio from the shock on (100% = liquidation). Time to liq. = from the shock start to the first liquidation (negative: before the shock).',
      '',
    );
  }
  return L.join('\n');
}
