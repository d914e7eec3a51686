/**
 * The Stress section of report.html: leverage-survival curves per setup (probability of a liquidation or a wipe-out
 * against leverage, with the 95 % Wilson interval), equity fan charts (5–95 % and 25–75 % bands
 * and the median, per setup) and the sortable odds, difference and scenario tables. Text is
 * escaped here; chart data goes through the page's JSON block and the script inserts no HTML.
 */
import { SETUP_IDS, type SetupId } from '../engine/setups.js';
import { isoTime } from '../feed/timeframe.js';
import { MIN_PAIRS, QUANTILES } from '../analysis/stress.js';
import { escapeHtml as esc, fmtLeverage as lev, fmtMetric, fmtNumber, fmtThresholdPct, jsonForScript } from './format.js';
import { POPULATIONS, fmtLossAtShock, pairReading, pairReadingText, pairWinner, stressRunsPhrase, type Population, type StressModel } from './stress.js';
import { POPULATION_LABEL, erroredLabel, firstLiquidatedLabel, maxLeverageLabel, fmtBeforeShock, fmtDuration, fmtInterval, fmtProportion, fmtShockPlace, oddsRows, survivalCurveLabel } from './stress-md.js';

type Cell = { html: string; v: string | number | null; cls?: string };
export interface StressHtmlHelpers {
  sortableTable(id: string, head: { label: string; num: boolean; title?: string }[], rows: { cells: Cell[]; cls?: string }[]): string;
  modeChip(s: SetupId): string;
}

export interface StressChartData {
  survival: { label: string; population: Population; threshold: number; setups: { mode: SetupId; lev: number[]; p: number[]; lo: number[]; hi: number[] }[] }[];
  fans: { label: string; population: Population; setups: { mode: SetupId; t: number[]; bands: number[][] }[] }[];
}

const round = (x: number, d: number) => Math.round(x * 10 ** d) / 10 ** d;

export function stressChartData(m: StressModel): StressChartData {
  const groups = new Map<string, StressChartData['survival'][number]>();
  for (const r of m.survival) {
    const label = [r.strategy, r.paramsLabel, r.venue, r.dataLabel].filter(Boolean).join(' · ');
    const k = `${label}\u0000${r.population}`;
    const g = groups.get(k) ?? { label, population: r.population, threshold: 100 * m.threshold, setups: [] };
    // an untested leverage (no run held a position) has no probability to draw
    const curve = r.curve.filter((p) => !p.untested);
    g.setups.push({
      mode: r.setup,
      lev: curve.map((p) => p.leverage),
      p: curve.map((p) => round(100 * (p.failure.p ?? 0), 3)),
      lo: curve.map((p) => round(100 * (p.failure.lo ?? 0), 3)),
      hi: curve.map((p) => round(100 * (p.failure.hi ?? 0), 3)),
    });
    groups.set(k, g);
  }
  const fans: StressChartData['fans'] = [];
  for (const c of m.configs) {
    for (const pop of POPULATIONS) {
      const ps = c.populations[pop];
      if (!ps) continue;
      const setups = SETUP_IDS.filter((s) => ps.fan[s] && ps.fan[s]!.runs > 0).map((s) => ({
        mode: s,
        t: ps.fan[s]!.time,
        bands: ps.fan[s]!.bands.map((b) => b.map((x) => round(x, 2))),
      }));
      if (setups.length) fans.push({ label: `${[c.strategy, c.paramsLabel, c.venue, c.dataLabel, lev(c.leverage)].filter(Boolean).join(' · ')} — ${POPULATION_LABEL[pop]} (${ps.views})`, population: pop, setups });
    }
  }
  return { survival: [...groups.values()], fans };
}

export function renderStressHtml(m: StressModel | null, h: StressHtmlHelpers): string {
  if (!m) return '';
  const data = stressChartData(m);
  const survivalFigs = data.survival
    .map((g, i) => `<figure><figcaption>${esc(g.label)} <small>${esc(POPULATION_LABEL[g.population])}: P(liquidation or wipe-out) vs leverage, 95% interval dashed</small></figcaption><div class="chart" data-kind="survival" data-index="${i}"></div></figure>`)
    .join('\n');
  const fanFigs = data.fans
    .map((g, i) => `<figure><figcaption>${esc(g.label)} <small>equity: median, 25–75% and 5–95% bands</small></figcaption><div class="chart" data-kind="fan" data-index="${i}"></div></figure>`)
    .join('\n');

  const showParams = m.configs.some((c) => c.paramsLabel !== '');
  const showData = m.configs.some((c) => c.dataLabel !== '');
  const dataHead = showData ? [{ label: 'Data', num: false }] : [];
  const dataCell = (d: string) => (showData ? [{ html: esc(d), v: d }] : []);
  const q = (x: number) => QUANTILES.indexOf(x as (typeof QUANTILES)[number]);
  const oddsHead = [
    { label: 'Strategy', num: false },
    ...(showParams ? [{ label: 'Params', num: false }] : []),
    ...dataHead,
    { label: 'Lev', num: true },
    { label: 'Population', num: false },
    { label: 'Mode', num: false },
    { label: 'P(liquidation)', num: true, title: 'probability of at least one liquidation, 95% Wilson interval' },
    { label: 'P(wipe-out)', num: true, title: 'probability that equity falls below 5% of the start, 95% Wilson interval' },
    { label: 'Before the shock', num: true, title: 'crash scenarios: runs liquidated / wiped out before the shock (not the crash\'s doing; not counted in P(liquidation) and P(wipe-out), which count what the shock did)' },
    { label: 'Return p5', num: true },
    { label: 'Median', num: true },
    { label: 'p95', num: true },
    { label: 'ES 5%', num: true, title: 'expected shortfall: mean of the worst 5% of returns' },
    { label: 'Max DD median', num: true },
    { label: 'Liq loss median', num: true },
    { label: 'Time to liq. median', num: true },
  ];
  const oddsRowsHtml = oddsRows(m).map(({ c, pop, setup }) => {
    const o = c.populations[pop]!.bySetup[setup]!;
    const r = o.totalReturn.q;
    const pc = (id: string, v: number | null | undefined) => ({ html: esc(fmtMetric(id, v)), v: v ?? null });
    return {
      cells: [
        { html: esc(c.strategy), v: c.strategy, cls: 'strat' },
        ...(showParams ? [{ html: esc(c.paramsLabel), v: m.paramsKeys.get(c.paramsLabel) ?? c.paramsLabel, cls: 'params' }] : []),
        ...dataCell(c.dataLabel),
        { html: lev(c.leverage), v: c.leverage },
        { html: esc(POPULATION_LABEL[pop]), v: pop },
        { html: h.modeChip(setup), v: setup },
        { html: esc(fmtProportion(o.liquidation)), v: o.liquidation.p, cls: o.liquidation.k ? 'bad' : 'muted' },
        { html: esc(fmtProportion(o.wipeOut)), v: o.wipeOut.p, cls: o.wipeOut.k ? 'alarm' : 'muted' },
        { html: esc(fmtBeforeShock(o.beforeShock)), v: o.beforeShock ? o.beforeShock.liquidation.k + o.beforeShock.wipeOut.k : null, cls: o.beforeShock && (o.beforeShock.liquidation.k || o.beforeShock.wipeOut.k) ? '' : 'muted' },
        pc('totalReturn', r[q(0.05)]),
        pc('totalReturn', r[q(0.5)]),
        pc('totalReturn', r[q(0.95)]),
        pc('totalReturn', o.expectedShortfall5),
        pc('maxDrawdown', o.maxDrawdown.q[q(0.5)]),
        pc('liquidationLoss', o.liquidationLoss.q[q(0.5)]),
        { html: esc(fmtDuration(o.timeToLiquidationMs.q[q(0.5)])), v: o.timeToLiquidationMs.q[q(0.5)] ?? null },
      ],
    };
  });

  const survHead = [
    { label: 'Strategy', num: false },
    { label: 'Params', num: false },
    { label: 'Venue', num: false },
    ...dataHead,
    { label: 'Population', num: false },
    { label: 'Mode', num: false },
    { label: 'P(liquidation or wipe-out) by leverage', num: false, title: 'a leverage survives when its runs were neither liquidated nor wiped out; the liquidated count follows when they differ' },
    { label: `Highest under ${fmtThresholdPct(m.threshold)}%`, num: true },
  ];
  const survRows = m.survival.map((r) => ({
    cells: [
      { html: esc(r.strategy), v: r.strategy, cls: 'strat' },
      { html: esc(r.paramsLabel), v: m.paramsKeys.get(r.paramsLabel) ?? r.paramsLabel, cls: 'params' },
      { html: esc(r.venue), v: r.venue },
      ...dataCell(r.dataLabel),
      { html: esc(POPULATION_LABEL[r.population]), v: r.population },
      { html: h.modeChip(r.setup), v: r.setup },
      { html: esc(survivalCurveLabel(r.curve)), v: r.curve.length, cls: 'params' },
      {
        html: r.maxLeverage ? esc(maxLeverageLabel(r.maxLeverage, m.threshold)) : '<span class="bad">none</span>',
        v: r.maxLeverage?.leverage ?? -1,
        // under the threshold on its point estimate only (too few runs for its interval): not shown as safe
        cls: r.maxLeverage ? ((r.maxLeverage.failure.hi ?? 1) < m.threshold ? 'good' : 'warn') : '',
      },
    ],
  }));

  const diffHead = [
    { label: 'Strategy', num: false },
    ...(showParams ? [{ label: 'Params', num: false }] : []),
    ...dataHead,
    { label: 'Lev', num: true },
    { label: 'Population', num: false },
    { label: 'b − a', num: false },
    { label: 'Pairs', num: true },
    { label: 'Return (pp)', num: true },
    { label: 'Wipe-out (pp)', num: true },
    { label: 'Liquidation (pp)', num: true },
    { label: 'Reading', num: false },
  ];
  const diffRows: { cells: Cell[] }[] = [];
  for (const c of m.configs) {
    for (const pop of POPULATIONS) {
      const ps = c.populations[pop];
      if (!ps) continue;
      for (const d of ps.diffs) {
        const reading = pairReading(d);
        diffRows.push({
          cells: [
            { html: esc(c.strategy), v: c.strategy, cls: 'strat' },
            ...(showParams ? [{ html: esc(c.paramsLabel), v: m.paramsKeys.get(c.paramsLabel) ?? c.paramsLabel, cls: 'params' }] : []),
            ...dataCell(c.dataLabel),
            { html: lev(c.leverage), v: c.leverage },
            { html: esc(POPULATION_LABEL[pop]), v: pop },
            { html: `${esc(d.b)} − ${esc(d.a)}`, v: `${d.b}-${d.a}` },
            { html: String(d.totalReturn.n), v: d.totalReturn.n },
            { html: esc(fmtInterval(d.totalReturn)), v: d.totalReturn.mean, cls: d.totalReturn.noise ? 'muted' : '' },
            { html: esc(fmtInterval(d.wipeOut, 100)), v: d.wipeOut.mean, cls: d.wipeOut.noise ? 'muted' : '' },
            { html: esc(fmtInterval(d.liquidation, 100)), v: d.liquidation.mean, cls: d.liquidation.noise ? 'muted' : '' },
            reading === 'decides'
              ? { html: `${h.modeChip(pairWinner(d)!)} served it`, v: pairWinner(d)! }
              : { html: `<span class="muted">${esc(pairReadingText(d))}</span>`, v: reading === 'noise' ? 'noise' : 'tie' },
          ],
        });
      }
    }
  }

  const scenHead = [
    { label: 'Strategy', num: false },
    ...(showParams ? [{ label: 'Params', num: false }] : []),
    ...dataHead,
    { label: 'Lev', num: true },
    { label: 'Scenario', num: false },
    { label: 'Injected at', num: false },
    { label: 'Mode', num: false },
    { label: 'Liquidated', num: false, title: 'by the shock (from the bar it starts in on) or before it (not the crash\'s doing)' },
    { label: 'Wiped out', num: false, title: 'equity below 5% of the start at a bar close: by the shock, or already before it' },
    { label: 'Return', num: true },
    { label: 'Change at shock', num: true },
    { label: 'Peak MR', num: true },
    { label: 'Time to liq.', num: true },
    { label: 'First liquidated', num: false },
  ];
  const scenRows: { cells: Cell[] }[] = [];
  for (const c of m.configs) {
    for (const row of c.scenarios) {
      for (const s of SETUP_IDS) {
        const x = row.bySetup[s];
        const bad = row.errored[s];
        if (!x && !bad) continue;
        const lead: Cell[] = [
          { html: esc(c.strategy), v: c.strategy, cls: 'strat' },
          ...(showParams ? [{ html: esc(c.paramsLabel), v: m.paramsKeys.get(c.paramsLabel) ?? c.paramsLabel, cls: 'params' }] : []),
          ...dataCell(c.dataLabel),
          { html: lev(c.leverage), v: c.leverage },
          { html: esc(row.scenario), v: row.scenario, cls: 'strat' },
          { html: esc(isoTime(row.injectAt)), v: row.injectAt },
          { html: h.modeChip(s), v: s },
        ];
        if (!x) {
          const none = { html: '—', v: null, cls: 'muted' };
          const label = erroredLabel(bad!.error);
          scenRows.push({ cells: [...lead, { html: '<span class="alarm">errored</span>', v: -1 }, none, none, none, none, none, { html: esc(label), v: label, cls: 'bad' }] });
          continue;
        }
        scenRows.push({
          cells: [
            ...lead,
            { html: x.liquidatedByShock ? `<span class="bad">${fmtShockPlace(x.liquidatedBeforeShock, true)}</span>` : fmtShockPlace(x.liquidatedBeforeShock, false, x.liquidatedAsHistory), v: (x.liquidatedByShock ? 2 : 0) + (x.liquidatedBeforeShock ? 1 : 0) },
            { html: x.wipedOutByShock ? `<span class="alarm">${fmtShockPlace(false, true)}</span>` : fmtShockPlace(x.wipedOutBeforeShock, false, x.wipedOutAsHistory), v: x.wipedOutByShock ? 2 : x.wipedOutBeforeShock ? 1 : 0 },
            { html: esc(fmtMetric('totalReturn', x.totalReturn)), v: x.totalReturn, cls: x.totalReturn === null ? 'muted' : x.totalReturn < 0 ? 'bad' : 'good' },
            { html: esc(fmtLossAtShock(x.lossAtShock)), v: x.lossAtShock === null ? null : Number(x.lossAtShock) },
            { html: esc(fmtMetric('marginRatioMax', x.peakMarginRatio)), v: x.peakMarginRatio, cls: x.peakMarginRatio >= 100 ? 'alarm' : x.peakMarginRatio >= 80 ? 'warn' : '' },
            { html: esc(fmtDuration(x.timeToLiquidationMs)), v: x.timeToLiquidationMs },
            { html: esc(firstLiquidatedLabel(x.firstLiquidated)), v: firstLiquidatedLabel(x.firstLiquidated) },
          ],
        });
      }
    }
  }

  return `<section id="stress"><h2>Stress: crash scenarios and Monte Carlo paths</h2>
<p class="hint">${esc(stressRunsPhrase(m))}. Probabilities carry their 95% Wilson interval; the crash scenarios' runs count what the shock did (a liquidation from the bar it starts in on, a wipe-out not there before it), what happened before the shock is in its own column. The mode difference is a paired bootstrap over the same paths or injections (injections the shock changed nothing in count once; an interval containing 0 is noise, as are fewer than ${MIN_PAIRS} pairs: no interval). Wiped out = equity below 5% of the start.</p>
<h3>Leverage survival</h3>
<div class="charts">${survivalFigs}</div>
${h.sortableTable('stress-survival-table', survHead, survRows)}
<h3>Equity fan charts</h3>
<div class="charts">${fanFigs}</div>
<h3>Liquidation and wipe-out odds</h3>
${h.sortableTable('stress-odds-table', oddsHead, oddsRowsHtml)}
<h3>Mode difference (paired bootstrap, b − a)</h3>
${diffRows.length ? h.sortableTable('stress-diff-table', diffHead, diffRows) : '<p class="muted">Only one margin mode completed: no difference to measure.</p>'}
${scenRows.length ? `<h3>Scenarios × injection times</h3>\n${h.sortableTable('stress-scenario-table', scenHead, scenRows)}` : ''}
</section>
<script type="application/json" id="ml-stress-data">${jsonForScript(data)}</script>`;
}

/** Page script for the stress charts: reads #ml-stress-data, pushes its instances to window.__marginlabCharts. */
export const STRESS_CLIENT_JS = String.raw`
(function () {
  'use strict';
  var el = document.getElementById('ml-stress-data');
  if (!el) return;
  var DATA = JSON.parse(el.textContent);
  var COLORS = JSON.parse(document.getElementById('ml-data').textContent).modes;
  var charts = window.__marginlabCharts || (window.__marginlabCharts = []);
  var nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  function base(yName) {
    return { useUTC: true, animation: false, grid: { left: 64, right: 18, top: 30, bottom: 34 },
      legend: { top: 0, right: 8, itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 11 } },
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return v === null || v === undefined ? '—' : nf.format(v); } },
      yAxis: { type: 'value', name: yName, nameTextStyle: { fontSize: 11, color: '#6b7785', align: 'left' }, axisLabel: { fontSize: 11, formatter: function (v) { return nf.format(v); } }, splitLine: { lineStyle: { color: '#eef1f5' } } },
      series: [] };
  }
  function zip(a, b) { var o = new Array(a.length); for (var i = 0; i < a.length; i++) o[i] = [a[i], b[i]]; return o; }
  function survival(g) {
    var o = base('% liquidated or wiped out');
    o.xAxis = { type: 'log', logBase: 2, name: 'leverage', nameLocation: 'middle', nameGap: 22, nameTextStyle: { fontSize: 11 }, axisLabel: { fontSize: 11, formatter: function (v) { return nf.format(v) + '×'; } } };
    o.yAxis.min = 0; o.yAxis.max = 100;
    o.tooltip = { trigger: 'item' };
    g.setups.forEach(function (s, i) {
      var c = COLORS[s.mode];
      var line = { name: s.mode, type: 'line', symbolSize: 7, color: c, data: zip(s.lev, s.p), z: 4 };
      if (i === 0) line.markLine = { silent: true, symbol: 'none', label: { fontSize: 10, formatter: '{b}', position: 'insideEndTop' },
        data: [{ yAxis: g.threshold, name: 'threshold ' + nf.format(g.threshold) + '%', lineStyle: { color: '#b45f06', type: 'dashed' } }] };
      o.series.push(line);
      o.series.push({ name: s.mode, type: 'line', symbol: 'none', color: c, lineStyle: { type: 'dashed', width: 1, opacity: 0.6 }, data: zip(s.lev, s.lo), tooltip: { show: false } });
      o.series.push({ name: s.mode, type: 'line', symbol: 'none', color: c, lineStyle: { type: 'dashed', width: 1, opacity: 0.6 }, data: zip(s.lev, s.hi), tooltip: { show: false } });
    });
    return o;
  }
  function fan(g) {
    var o = base('quote');
    o.xAxis = { type: 'time', axisLabel: { fontSize: 11, hideOverlap: true } };
    o.yAxis.scale = true;
    g.setups.forEach(function (s) {
      var c = COLORS[s.mode], b = s.bands; // b: 5, 25, 50, 75, 95 %
      function diff(hi, lo) { var out = new Array(hi.length); for (var i = 0; i < hi.length; i++) out[i] = [s.t[i], hi[i] - lo[i]]; return out; }
      var outer = s.mode + '-outer', inner = s.mode + '-inner';
      o.series.push({ name: s.mode, type: 'line', stack: outer, symbol: 'none', lineStyle: { opacity: 0 }, color: c, data: zip(s.t, b[0]), tooltip: { show: false } });
      o.series.push({ name: s.mode, type: 'line', stack: outer, symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: c, opacity: 0.12 }, color: c, data: diff(b[4], b[0]), tooltip: { show: false } });
      o.series.push({ name: s.mode, type: 'line', stack: inner, symbol: 'none', lineStyle: { opacity: 0 }, color: c, data: zip(s.t, b[1]), tooltip: { show: false } });
      o.series.push({ name: s.mode, type: 'line', stack: inner, symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: c, opacity: 0.22 }, color: c, data: diff(b[3], b[1]), tooltip: { show: false } });
      o.series.push({ name: s.mode, type: 'line', symbol: 'none', color: c, lineStyle: { width: 1.6 }, data: zip(s.t, b[2]), z: 4 });
    });
    return o;
  }
  Array.prototype.forEach.call(document.querySelectorAll('#stress .chart'), function (node) {
    var kind = node.getAttribute('data-kind');
    var i = Number(node.getAttribute('data-index'));
    var g = kind === 'survival' ? DATA.survival[i] : DATA.fans[i];
    if (!g) return;
    var inst = echarts.init(node, null, { renderer: 'canvas' });
    charts.push(inst);
    inst.setOption(kind === 'survival' ? survival(g) : fan(g), true);
  });
  window.addEventListener('resize', function () { charts.forEach(function (c) { c.resize(); }); });
})();
`;
