/**
 * report.html: one self-contained page that works offline. ECharts is inlined from
 * node_modules/echarts/dist/echarts.min.js; data is embedded as JSON (every `<`, `>` and `&`
 * escaped as \u003c, \u003e, \u0026); a Content-Security-Policy forbids every network request.
 * Tables are rendered server-side (escaped) and sorted client-side; charts are drawn from the
 * embedded data. Every text from configs and strategy names is escaped; the page script only
 * ever inserts them with textContent.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { downsampleIndices } from '../analysis/curves.js';
import { METRIC_BY_ID } from '../analysis/index.js';
import type { RunResult } from '../shard/types.js';
import { escapeHtml, fmtLeverage as lev, fmtMetric, fmtNumber, jsonForScript, missingRunsText, paramsLabel, paramsSortKeys, rejectionsLabel, shownMetrics } from './format.js';
import { COMPARISON_HEADERS, COMPARISON_METRICS, COST_HEADERS, COST_METRICS, COSTS_TITLE, MODE_TOTAL_HEADERS, REJECTIONS_HEADER, comparisonRows, configLabel } from './markdown.js';
import { SETUP_IDS, type SetupId } from '../engine/setups.js';
import { dataPeriod, dataSummary, noVerdictText, servedBy, sweepLeverages, winnerLabel, VERDICT_RULE, type ReportModel, type SweepRow, type Verdict } from './model.js';
import type { ModeTotals } from './aggregate.js';
import { renderStressHtml, STRESS_CLIENT_JS } from './stress-html.js';
import { closeTimeShift, pricePanel } from './price-chart.js';
import { stressRunText } from '../stress/types.js';

export const MODE_COLORS: Record<SetupId, string> = { isolated: '#2563eb', cross: '#e8590c', mixed: '#7c3aed' };

let echartsSource: string | null = null;
function echartsJs(): string {
  if (echartsSource === null) {
    const require = createRequire(import.meta.url);
    const src = readFileSync(require.resolve('echarts/dist/echarts.min.js'), 'utf8');
    if (/<\/script|<!--/i.test(src)) throw new Error('echarts.min.js contains a sequence that cannot be inlined in <script>');
    echartsSource = src;
  }
  return echartsSource;
}

const esc = escapeHtml;

/** Points kept per run curve in the page: a total budget shared by all runs, clamped. */
function pointsPerRun(runs: number): number {
  return Math.max(250, Math.min(1500, Math.floor(400_000 / Math.max(1, runs))));
}

interface ChartRun {
  mode: SetupId;
  runId: string;
  status: 'ok' | 'errored';
  t: number[];
  eq: number[];
  dd: number[];
  mr: number[];
  liq: { t: number; amount: number | null; detail: string }[];
  /** the run's totals, as the perp-costs table gives them; null for an errored run (the table leaves it out: its figures stop where it failed) */
  costs: { fees: number; fundingPaid: number; fundingReceived: number; liquidationLoss: number; insuranceShortfall: number } | null;
}

/** A strategy card's outcome when no mode won: 'not compared' (no order filled), 'tie', 'no verdict' or 'no clear winner'. */
function cardOutcome(v: Verdict | null): string {
  if (v === null || v.line.startsWith('no verdict')) return 'no verdict';
  if (v.notCompared) return 'not compared';
  return v.line.startsWith('tie') ? 'tie' : 'no clear winner';
}

function chartRun(mode: SetupId, r: RunResult, maxPoints: number): ChartRun {
  const c = r.curves;
  const n = Math.min(c.time.length, c.equity.length, c.drawdown.length, c.marginRatio.length);
  const idx = downsampleIndices(n, maxPoints, { min: [c.equity], max: [c.equity, c.drawdown, c.marginRatio] });
  const shown = shownMetrics(r);
  // values at bar closes, drawn at the close (the curves stamp each bar with its open)
  const shift = closeTimeShift(r);
  const m = (id: string) => {
    const v = shown[id];
    return typeof v === 'number' && Number.isFinite(v) ? v : 0;
  };
  return {
    mode,
    runId: r.runId,
    status: r.status,
    t: idx.map((i) => c.time[i]! + shift),
    eq: idx.map((i) => c.equity[i]!),
    dd: idx.map((i) => -c.drawdown[i]!),
    mr: idx.map((i) => c.marginRatio[i]!),
    liq: r.events
      .filter((e) => e.type === 'liquidation')
      .map((e) => ({ t: e.time, amount: -Number(e.loss), detail: `${e.pool} closed at ${e.legs.map((l) => `${l.symbol} ${l.closePrice}`).join(', ')}` })),
    costs:
      r.status === 'ok'
        ? {
            fees: m('fees'),
            fundingPaid: m('fundingPaid'),
            fundingReceived: m('fundingReceived'),
            liquidationLoss: m('liquidationLoss'),
            insuranceShortfall: m('insuranceShortfall'),
          }
        : null,
  };
}

function sortableTable(id: string, head: { label: string; num: boolean; title?: string }[], rows: { cells: { html: string; v: string | number | null; cls?: string }[]; cls?: string }[]): string {
  // a column sorts as numbers when its sort values are numbers, whatever its alignment: a text cell sorted by a count
  // (rejections by reason, leverages tested) sorted as text, 1, 113, 123, 3, 32, 44
  const numeric = head.map((h, i) => h.num || (rows.some((r) => typeof r.cells[i]?.v === 'number') && rows.every((r) => r.cells[i]?.v === null || typeof r.cells[i]?.v === 'number')));
  const th = head
    .map(
      (h, i) =>
        `<th scope="col" class="${h.num ? 'num' : ''}" data-col="${i}" data-type="${numeric[i] ? 'num' : 'text'}"${h.title ? ` title="${esc(h.title)}"` : ''}><button type="button">${esc(h.label)}<span class="arrow" aria-hidden="true"></span></button></th>`,
    )
    .join('');
  const tr = rows
    .map(
      (r) =>
        `<tr${r.cls ? ` class="${r.cls}"` : ''}>${r.cells
          .map((c, i) => `<td class="${[head[i]!.num ? 'num' : '', c.cls ?? ''].join(' ').trim()}" data-v="${c.v === null ? '' : esc(String(c.v))}">${c.html}</td>`)
          .join('')}</tr>`,
    )
    .join('\n');
  // the box scrolls both ways (its height at most the window's): the header row sticks to its top and the first column
  // to its left edge, which position: sticky does only inside the scrolling box itself; tabindex lets the keyboard scroll it
  return `<div class="table-wrap" tabindex="0"><table class="sortable" id="${id}"><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table></div>`;
}

// no flex item with an element of its own inside a table cell: Chromium copies one as a block, a line break that
// split a copied row ('8×\t\nisolated'); the chip is an inline-block, its dot and star inline, the star's space sized 0
// (the 6 px gap as before) but copied. The header's sort button stays a flex box: its arrow is a pseudo-element
// (`.arrow` is display: contents), which no copy includes
const modeChip = (s: SetupId, extra = ''): string => `<span class="mode mode-${esc(s)}"><i></i>${esc(s)}${extra}</span>`;

function signClass(id: string, v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return 'muted';
  if (id === 'liquidations' || id === 'liquidationLoss') return v > 0 ? 'alarm' : 'muted';
  if (id === 'totalReturn' || id === 'fundingNet' || id === 'capitalEfficiency' || id === 'returnOnCapitalAtRisk') return v > 0 ? 'good' : v < 0 ? 'bad' : '';
  if (id === 'marginRatioMax') return v >= 100 ? 'alarm' : v >= 80 ? 'warn' : '';
  if (id === 'timeAbove80') return v > 0 ? 'warn' : 'muted';
  return '';
}

export function renderHtml(model: ReportModel, sweep: SweepRow[], modes: ModeTotals[]): string {
  const m = model.manifest;
  const rows = comparisonRows(model);
  const showParams = model.configs.some((c) => c.paramsLabel !== '');
  const showVenue = new Set(model.configs.map((c) => c.venue)).size > 1;
  const showData = model.configs.some((c) => c.dataLabel !== '');
  const paramsHead = showParams ? [{ label: 'Params', num: false }] : [];
  const dataHead = showData ? [{ label: 'Data', num: false }] : [];
  // the column sorts by the params' reading order (cmpParams: fast=12 before fast=100), not by the label's text
  const paramsRank = paramsSortKeys(model.configs.map((c) => [c.paramsLabel, c.params] as const));
  const paramsCell = (p: string) => (showParams ? [{ html: esc(p), v: paramsRank.get(p) ?? p, cls: 'params' }] : []);
  const dataCell = (d: string) => (showData ? [{ html: esc(d), v: d }] : []);
  const perRun = pointsPerRun(model.runs.length);

  // ------------------------------------------------------------- comparison table
  const compHead = [
    { label: 'Strategy', num: false },
    ...paramsHead,
    ...(showVenue ? [{ label: 'Venue', num: false }] : []),
    ...dataHead,
    { label: 'Lev', num: true, title: 'leverage' },
    { label: 'Mode', num: false },
    ...COMPARISON_METRICS.map((id) => ({ label: COMPARISON_HEADERS[id], num: true, title: METRIC_BY_ID.get(id)?.title ?? id })),
  ];
  const compRows = rows.map(({ config: c, setup, run }) => {
    const win = servedBy(c.verdict, setup);
    return {
      cls: `${win ? 'winner' : ''}${run.status !== 'ok' ? ' errored' : ''}`.trim(),
      cells: [
        { html: esc(c.strategy), v: c.strategy, cls: 'strat' },
        ...paramsCell(c.paramsLabel),
        ...(showVenue ? [{ html: esc(c.venue), v: c.venue }] : []),
        ...dataCell(c.dataLabel),
        { html: lev(c.leverage), v: c.leverage },
        { html: modeChip(setup, win ? '<span class="sp"> </span><b class="star" title="served this configuration best">★</b>' : ''), v: setup },
        ...COMPARISON_METRICS.map((id, i) => {
          if (run.status !== 'ok') return { html: i === 0 ? '<span class="bad">errored</span>' : '—', v: null, cls: 'muted' };
          const v = run.metrics[id] ?? null;
          return { html: esc(fmtMetric(id, v)), v, cls: signClass(id, v) };
        }),
      ],
    };
  });

  // ------------------------------------------------------------- sweep table
  const sweepHead = [
    { label: 'Strategy', num: false },
    ...paramsHead,
    { label: 'Venue', num: false },
    ...dataHead,
    { label: 'Mode', num: false },
    { label: 'Leverages tested', num: false },
    { label: 'Highest with 0 liquidations', num: true },
    { label: 'Lowest liquidated', num: true },
  ];
  const sweepRows = sweep.map((r) => ({
    cells: [
      { html: esc(r.strategy), v: r.strategy, cls: 'strat' },
      ...paramsCell(r.paramsLabel),
      { html: esc(r.venue), v: r.venue },
      ...dataCell(r.dataLabel),
      { html: modeChip(r.setup), v: r.setup },
      { html: esc(sweepLeverages(r)), v: r.leverages.length },
      r.maxSafeLeverage !== null
        ? { html: lev(r.maxSafeLeverage), v: r.maxSafeLeverage, cls: 'good' }
        : r.minLiquidatedLeverage === null
          ? { html: '—', v: -1, cls: 'muted' }
          : { html: '<span class="bad">none</span>', v: -1, cls: '' },
      { html: r.minLiquidatedLeverage === null ? '—' : lev(r.minLiquidatedLeverage), v: r.minLiquidatedLeverage ?? Number.MAX_SAFE_INTEGER, cls: r.minLiquidatedLeverage === null ? 'muted' : 'bad' },
    ],
  }));

  // ------------------------------------------------------------- costs table
  const costIds = COST_METRICS;
  const costHead = [
    { label: 'Strategy', num: false },
    ...paramsHead,
    ...dataHead,
    { label: 'Lev', num: true },
    { label: 'Mode', num: false },
    ...costIds.map((id) => ({ label: COST_HEADERS[id], num: true, title: METRIC_BY_ID.get(id)!.title })),
    { label: REJECTIONS_HEADER, num: false },
  ];
  const costRows = rows
    .filter((x) => x.run.status === 'ok')
    .map(({ config: c, setup, run }) => ({
      cells: [
        { html: esc(c.strategy), v: c.strategy, cls: 'strat' },
        ...paramsCell(c.paramsLabel),
        ...dataCell(c.dataLabel),
        { html: lev(c.leverage), v: c.leverage },
        { html: modeChip(setup), v: setup },
        ...costIds.map((id) => ({ html: esc(fmtMetric(id, run.metrics[id])), v: run.metrics[id] ?? null })),
        {
          html: esc(rejectionsLabel(run.rejections) || '—'),
          v: Object.values(run.rejections).reduce((a, b) => a + b, 0),
        },
      ],
    }));

  // ------------------------------------------------------------- strategy sections + chart data
  const chartData = model.strategies.map((s, si) => ({
    id: `s${si}`,
    configs: s.configs.map((c) => ({
      id: c.id,
      label: configLabel(c),
      runs: SETUP_IDS.filter((k) => c.runs[k]).map((k) => chartRun(k, c.runs[k]!, perRun)),
      price: pricePanel(SETUP_IDS.filter((k) => c.runs[k]).map((k) => [k, c.runs[k]!] as [SetupId, RunResult]), perRun),
    })),
  }));

  const verdictCards = model.strategies
    .map((s) => {
      const w = s.verdict?.winner ?? null;
      return `<article class="verdict ${w ? `won-${w}` : ''}"><h3>${esc(s.strategy)}</h3><p class="winner">${
        w ? `${modeChip(w)} served it` : cardOutcome(s.verdict)
      }</p><p>${esc(s.verdict?.line ?? noVerdictText(s.configs))}</p></article>`;
    })
    .join('\n');

  const sections = model.strategies
    .map((s, si) => {
      const select =
        s.configs.length > 1
          ? `<label class="cfg">Configuration <select data-strategy="${si}">${s.configs
              .map((c, ci) => `<option value="${ci}">${esc(configLabel(c))}${c.verdict?.winner ? ` — ${esc(winnerLabel(c.verdict)!)} ★` : ''}</option>`)
              .join('')}</select></label>`
          : `<p class="cfg-one">${esc(configLabel(s.configs[0]!))}</p>`;
      const cfgVerdicts = s.configs
        .map((c, ci) => `<p class="cfg-verdict" data-strategy="${si}" data-config="${ci}"${ci ? ' hidden' : ''}>${esc(c.verdict?.line ?? noVerdictText([c]))}</p>`)
        .join('');
      const symbols = [...new Set(s.configs.flatMap((c) => c.symbols))];
      const symbolSelect =
        symbols.length > 1
          ? `<label class="cfg">Symbol <select data-symbol="${si}">${symbols.map((x) => `<option value="${esc(x)}">${esc(x)}</option>`).join('')}</select></label>`
          : '';
      return `<section class="strategy" id="strategy-${si}">
<h2>${esc(s.strategy)}</h2>
${select}
${cfgVerdicts}
<div class="charts">
  <figure><figcaption>Equity (quote) <small>▲ = liquidation</small></figcaption><div class="chart" data-kind="equity" data-strategy="${si}"></div></figure>
  <figure><figcaption>Drawdown (% below running peak)</figcaption><div class="chart" data-kind="drawdown" data-strategy="${si}"></div></figure>
  <figure><figcaption>Margin ratio (%, intrabar peak; 100% = liquidation)</figcaption><div class="chart" data-kind="margin" data-strategy="${si}"></div></figure>
  <figure><figcaption>Funding, fees and liquidation costs (quote)</figcaption><div class="chart" data-kind="costs" data-strategy="${si}"></div></figure>
  <figure class="wide"><figcaption>Price with entries ▲, exits ▼ and liquidations ✕ per mode; dashed: the liquidation price over time ${symbolSelect}<small class="price-note" data-strategy="${si}"></small></figcaption><div class="chart tall" data-kind="price" data-strategy="${si}"></div></figure>
</div>
</section>`;
    })
    .join('\n');

  const modeTable = modes.length
    ? `<table class="plain"><thead><tr>${MODE_TOTAL_HEADERS.map((h, i) => `<th${i ? ' class="num"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${modes
        .map(
          (x) =>
            `<tr><td>${modeChip(x.mode)}</td><td class="num">${x.runs}</td><td class="num ${x.liquidations ? 'bad' : 'muted'}">${x.liquidations}</td><td class="num">${x.runsLiquidated}</td><td class="num">${x.nearMisses}</td></tr>`,
        )
        .join('')}</tbody></table>`
    : '';

  const failures = model.failures.length
    ? `<ul class="failures">${model.failures
        .map((r) => {
          const stress = stressRunText(r.spec.stress);
          const params = paramsLabel(r.spec.params ?? {});
          return `<li><code>${esc(r.runId)}</code> <b>${esc(r.spec.strategy)}</b>${params ? ` ${esc(params)}` : ''} · ${modeChip(r.spec.setup)} · ${esc(lev(r.spec.leverage))}${stress ? ` · ${esc(stress)}` : ''}: ${esc(r.error ?? 'unknown error')}</li>`;
        })
        .join('')}</ul>`
    : '<p class="muted">None: every run completed.</p>';

  const ds = dataSummary(model.runs);
  if (!showVenue && model.configs.length) ds.unshift(model.configs[0]!.venue);
  const period = dataPeriod(model.runs);
  const legend = SETUP_IDS.filter((s) => model.runs.some((r) => r.spec.setup === s))
    .map((s) => modeChip(s))
    .join(' ');

  const data = { modes: MODE_COLORS, strategies: chartData };

  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="marginlab ${esc(m.marginlabVersion)}">
<title>marginlab · ${esc(model.name)}</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <div class="brand">marginlab report</div>
  <h1>${esc(model.name)}</h1>
  <p class="meta">${model.counts.total} run${model.counts.total === 1 ? '' : 's'} · <span class="good">${model.counts.ok} ok</span>${model.counts.errored ? ` · <span class="bad">${model.counts.errored} errored</span>` : ''} · ${esc(ds.join(' | ') || 'no data')}${period ? ` · ${esc(period)}` : ''}</p>
  <p class="legend">${legend}</p>
</header>
<main>
${model.missing > 0 ? `<p class="note incomplete"><b>Incomplete:</b> ${missingRunsText(model.missing, model.planned)} (a shard not merged, or a run not finished); the tables below cover ${model.counts.total} run${model.counts.total === 1 ? '' : 's'}.</p>\n` : ''}${model.notes.map((n) => `<p class="note">${esc(n)}</p>`).join('\n')}
<section id="verdicts"><h2>Which margin mode served each strategy</h2><div class="verdicts">${verdictCards || '<p class="muted">No runs.</p>'}</div></section>
<section id="comparison"><h2>Comparison: strategy × margin mode</h2>
<p class="hint">Click a column header to sort. ★ marks the mode that served the configuration best (${esc(VERDICT_RULE)}).</p>
${sortableTable('comparison-table', compHead, compRows)}
<p class="foot">Max MR: highest intrabar margin ratio (maintenance margin ÷ margin balance; 100% = liquidation). Time MR≥80%: share of bar closes at or above 80%. Return on CaR: net PnL ÷ time-average capital at risk (isolated: Σ isolated margins; cross: pool equity), over the whole window. Money in the quote currency.</p>
</section>
<section id="sweep"><h2>Leverage sweep: highest leverage without a liquidation</h2>
${sweepRows.length ? sortableTable('sweep-table', sweepHead, sweepRows) : '<p class="muted">No completed runs.</p>'}
${modeTable}
</section>
${renderStressHtml(model.stress, { sortableTable, modeChip })}
${sections}
<section id="costs"><h2>${esc(COSTS_TITLE)}</h2>
${costRows.length ? sortableTable('costs-table', costHead, costRows) : '<p class="muted">No completed runs.</p>'}
</section>
<section id="failures"><h2>Failures</h2>${failures}</section>
</main>
<footer>
  marginlab ${esc(m.marginlabVersion)} · engine ${esc(m.engineVersion)} · ${m.gitCommit ? `commit ${esc(m.gitCommit.slice(0, 12))} · ` : ''}${esc(m.node)} · ${esc(String(m.workers))} worker${m.workers === 1 ? '' : 's'} · created ${esc(m.createdAt)} · wall clock ${esc(fmtNumber(m.wallClockMs / 1000, 1))} s${
    m.shard ? ` · shard ${esc(String(m.shard.index))}/${esc(String(m.shard.count))}` : ''
  } · summary.json, runs.csv and results/ hold every number on this page.
</footer>
<script type="application/json" id="ml-data">${jsonForScript(data)}</script>
<script>${echartsJs()}</script>
<script>${CLIENT_JS}</script>${model.stress ? `\n<script>${STRESS_CLIENT_JS}</script>` : ''}
</body>
</html>
`;
}

const CSS = `
:root{--fg:#1f2933;--muted:#6b7785;--line:#e3e7ec;--bg:#f7f8fa;--card:#fff;--good:#0f7b3f;--bad:#c2261d;--warn:#b45f06;
--iso:${MODE_COLORS.isolated};--cross:${MODE_COLORS.cross};--mixed:${MODE_COLORS.mixed}}
*{box-sizing:border-box}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--fg);background:var(--bg);overflow-wrap:anywhere}
header{background:#111827;color:#f9fafb;padding:28px max(24px,calc((100% - 1392px)/2)) 20px}
header .brand{font-size:12px;letter-spacing:.12em;text-transform:uppercase;color:#9ca3af}
header h1{margin:4px 0 6px;font-size:26px;font-weight:650;word-break:break-word}
header .meta{margin:0;color:#d1d5db}
header .good{color:#6ee7a8}header .bad{color:#fca5a5}
header .legend{margin:10px 0 0}
header .mode{background:#1f2937;color:#f3f4f6}
main{max-width:1440px;margin:0 auto;padding:8px 24px 40px}
section{margin-top:28px}
h2{font-size:19px;font-weight:650;margin:0 0 10px}
h3{margin:0 0 4px;font-size:16px;word-break:break-word}
.hint,.foot{color:var(--muted);font-size:12.5px;margin:4px 0 8px}
.note{background:#fff7e6;border:1px solid #f5d18a;border-radius:8px;padding:8px 12px;margin:16px 0 0}
.verdicts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(340px,100%),1fr));gap:12px}
.verdict{background:var(--card);border:1px solid var(--line);border-left:4px solid #9ca3af;border-radius:8px;padding:12px 14px}
.verdict.won-isolated{border-left-color:var(--iso)}.verdict.won-cross{border-left-color:var(--cross)}.verdict.won-mixed{border-left-color:var(--mixed)}
.verdict p{margin:4px 0;color:#374151}.verdict .winner{font-weight:600;color:var(--fg)}
.mode{display:inline-block;vertical-align:top;padding:1px 8px 1px 6px;border-radius:999px;background:#eef1f5;font-size:12.5px;font-weight:600;white-space:nowrap}
.mode i{width:9px;height:9px;border-radius:50%;display:inline-block;vertical-align:middle;margin-right:6px}
.mode .sp{font-size:0}.mode .star{margin-left:6px}
.mode-isolated i{background:var(--iso)}.mode-cross i{background:var(--cross)}.mode-mixed i{background:var(--mixed)}
.star{color:#d97706}
.table-wrap{overflow:auto;max-height:85vh;max-height:85svh;overscroll-behavior-x:contain;background:var(--card);border:1px solid var(--line);border-radius:8px}
table{border-collapse:separate;border-spacing:0;width:100%}
th,td{padding:6px 9px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap;background:var(--card);overflow-wrap:normal}
td.num{font-variant-numeric:tabular-nums}
td.params{white-space:normal;min-width:120px;color:#4b5563;font-size:12.5px;overflow-wrap:anywhere}
td.strat{font-weight:600;min-width:min(9em,34vw);max-width:260px;white-space:normal;overflow-wrap:anywhere}
th{background:#f1f4f8;font-size:12px;font-weight:650;color:#374151;position:sticky;top:0;z-index:2;white-space:normal;min-width:4.5em;vertical-align:bottom}
.sortable th:first-child,.sortable td:first-child{position:sticky;left:0;z-index:1;box-shadow:inset -1px 0 var(--line)}
.sortable th:first-child{z-index:3}
th button{all:unset;cursor:pointer;display:inline-flex;gap:4px;align-items:baseline}
th .arrow{display:contents}th .arrow::after{content:""}
th button:focus-visible,select:focus-visible{outline:2px solid var(--iso);outline-offset:2px;border-radius:3px}
.table-wrap:focus-visible{outline:2px solid var(--iso);outline-offset:2px}
th.num button{justify-content:flex-end;width:100%;text-align:right}
th[aria-sort="ascending"] .arrow::after{content:"▲";font-size:9px}
th[aria-sort="descending"] .arrow::after{content:"▼";font-size:9px}
.num{text-align:right}
tbody tr:hover td{background:#f8fafc}
tr.winner td{background:#fffbeb}
tbody tr.winner:hover td{background:#fef3c7}
@media (max-width:600px){main{padding:8px 12px 32px}th,td{padding:5px 7px}}
tr.errored td{color:var(--muted)}
.good{color:var(--good)}.bad{color:var(--bad)}.alarm{color:var(--bad);font-weight:700}.warn{color:var(--warn)}.muted{color:var(--muted)}
table.plain{margin-top:14px;width:auto;max-width:100%;display:block;overflow-x:auto;background:var(--card);border:1px solid var(--line);border-radius:8px}
.strategy{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 18px}
.strategy h2{word-break:break-word}
.cfg{font-size:13px;color:var(--muted)}
.cfg select{margin-left:6px;font:inherit;color:var(--fg);padding:3px 6px;border:1px solid var(--line);border-radius:6px;max-width:100%}
.cfg-one{color:var(--muted);font-size:13px;margin:0}
.cfg-verdict{margin:8px 0 4px;color:#374151}
#stress h3{margin:18px 0 6px;font-size:15px}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(480px,100%),1fr));gap:12px 20px;margin-top:8px}
figure{min-width:0}
figure{margin:0}
figcaption{font-size:13px;font-weight:600;color:#374151;margin:6px 0 2px}
figcaption small{font-weight:400;color:var(--muted);margin-left:6px}
.chart{height:260px;width:100%}
figure.wide{grid-column:1/-1}.chart.tall{height:360px}
figcaption .cfg{margin-left:10px;font-weight:400}
.failures{padding-left:18px}.failures li{margin:4px 0}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eef1f5;padding:1px 5px;border-radius:4px}
footer{max-width:1440px;margin:0 auto;padding:16px 24px 40px;color:var(--muted);font-size:12px;border-top:1px solid var(--line)}
@media print{.chart{break-inside:avoid}
.table-wrap,table.plain{overflow:visible;max-height:none}
th,td{white-space:normal;padding:4px 5px;font-size:11px}
td.strat,td.params,th{min-width:0}
th,.sortable th:first-child,.sortable td:first-child{position:static;box-shadow:none}}
`;

/** Page script: plain ES2017, no string-built HTML from data (textContent only). */
const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var DATA = JSON.parse(document.getElementById('ml-data').textContent);
  var COLORS = DATA.modes;
  var charts = [];
  window.__marginlabCharts = charts;

  // ---------------------------------------------------------------- sortable tables
  function cellValue(td, type) {
    var v = td.getAttribute('data-v');
    if (type === 'num') { if (v === '' || v === null) return null; var x = Number(v); return isNaN(x) ? null : x; }
    // an empty text cell is no value, as an empty number cell: last in both directions (it sorted first ascending)
    var t = v === null ? td.textContent : v;
    return t === '' ? null : t.toLowerCase();
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.sortable'), function (table) {
    var ths = table.querySelectorAll('thead th');
    Array.prototype.forEach.call(ths, function (th) {
      th.querySelector('button').addEventListener('click', function () {
        var col = Number(th.getAttribute('data-col'));
        var type = th.getAttribute('data-type');
        var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
        Array.prototype.forEach.call(ths, function (o) { o.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var tbody = table.tBodies[0];
        var rows = Array.prototype.slice.call(tbody.rows).map(function (tr, i) { return { tr: tr, i: i, v: cellValue(tr.cells[col], type) }; });
        var sign = dir === 'ascending' ? 1 : -1;
        rows.sort(function (a, b) {
          if (a.v === null && b.v === null) return a.i - b.i;
          if (a.v === null) return 1; // empty cells last in both directions
          if (b.v === null) return -1;
          if (a.v < b.v) return -sign;
          if (a.v > b.v) return sign;
          return a.i - b.i;
        });
        // one replaceChildren, not an appendChild per row: 3,000 single moves cost about as much again as the
        // table's layout (measured in headless Chromium, docs/report.md); the rows after the first 30,000 appended
        // 30,000 at a time (a call with a row per argument overflows the stack from about 130,000)
        var ordered = rows.map(function (r) { return r.tr; });
        if (tbody.replaceChildren) {
          tbody.replaceChildren.apply(tbody, ordered.slice(0, 30000));
          for (var k = 30000; k < ordered.length; k += 30000) tbody.append.apply(tbody, ordered.slice(k, k + 30000));
        } else ordered.forEach(function (tr) { tbody.appendChild(tr); });
      });
    });
  });

  // ---------------------------------------------------------------- charts
  var nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
  // ECharts draws an axis' labels in its axis line's colour unless told otherwise: the time axes' light grey line
  // (#c7ced6, 1.6:1 on white) drew their dates all but unreadable; they take ECharts' own label grey (5:1), as the value axes
  var AXIS_LABEL = '#6E7079';
  var EXIT_ICON = 'path://M0,0L10,0L5,10Z';
  // below this width (a phone) a chart takes its narrow layout: the legend in a scrolling row above the plot, the
  // costs chart's bars sideways; chosen when a chart is drawn, and again when a resize takes it across (fit)
  var NARROW = 560;
  function fmt(v) { return v === null || v === undefined ? '—' : nf.format(v); }
  function baseOption(yName, yFmt) {
    return {
      // timestamps are UTC (the data's time base), never the reader's local time zone
      useUTC: true,
      animation: false,
      grid: { left: 64, right: 18, top: 30, bottom: 28 },
      legend: { top: 0, right: 8, itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 11 } },
      tooltip: { trigger: 'axis', valueFormatter: function (v) { return fmt(v) + (yFmt || ''); } },
      xAxis: { type: 'time', axisLabel: { fontSize: 11, color: AXIS_LABEL, hideOverlap: true, formatter: { year: '{yyyy}', month: '{MMM} {yyyy}', day: '{d} {MMM}', hour: '{HH}:{mm}', minute: '{HH}:{mm}' } }, axisLine: { lineStyle: { color: '#c7ced6' } } },
      yAxis: { type: 'value', scale: true, name: yName, nameTextStyle: { fontSize: 11, color: '#6b7785', align: 'left' },
        axisLabel: { fontSize: 11, formatter: function (v) { return nf.format(v) + (yFmt || ''); } }, splitLine: { lineStyle: { color: '#eef1f5' } } },
      series: []
    };
  }
  function zip(t, v) { var out = new Array(t.length); for (var i = 0; i < t.length; i++) out[i] = [t[i], v[i]]; return out; }
  function valueAt(run, arr, t) {
    // the first curve point after t: the close of the bar an event at t happened in (points are drawn at bar
    // closes; the one at or before t is the bar before, whose margin ratio put a liquidation at 8-88 %); curves
    // keep their extremes, so a thinned curve still holds the liquidation bar's peak
    var lo = 0, hi = run.t.length - 1, best = run.t.length - 1;
    while (lo <= hi) { var mid = (lo + hi) >> 1; if (run.t[mid] > t) { best = mid; hi = mid - 1; } else lo = mid + 1; }
    return arr[best];
  }
  // an errored run's curves stop where it failed: its legend entry says so, so its partial curves are
  // never read as a whole run's (the tables show it as errored, without figures)
  function runName(run) { return run.status === 'ok' ? run.mode : run.mode + ' (errored: until it stopped)'; }
  function lineSeries(run, key) {
    // isolated drawn wide and translucent underneath, cross over it, mixed dashed on top: curves that coincide (a
    // strategy never liquidated, mixed trading as cross) leave each one visible
    var under = run.mode === 'isolated';
    var dashed = run.mode === 'mixed';
    return { name: runName(run), type: 'line', showSymbol: false, symbol: 'none', z: under ? 2 : dashed ? 4 : 3,
      lineStyle: { width: under ? 3 : 1.3, opacity: under ? 0.55 : 1, type: dashed ? 'dashed' : 'solid' }, color: COLORS[run.mode],
      data: zip(run.t, run[key]), emphasis: { disabled: true } };
  }
  function liqSeries(run, key) {
    return { name: runName(run) + ' liquidation', type: 'scatter', symbol: 'triangle', symbolSize: 11, color: COLORS[run.mode],
      itemStyle: { borderColor: '#111827', borderWidth: 1 }, z: 5,
      data: run.liq.map(function (e) { return [e.t, valueAt(run, run[key], e.t)]; }),
      tooltip: { trigger: 'item' } };
  }
  function symbolOf(si, P) {
    var sel = document.querySelector('select[data-symbol="' + si + '"]');
    if (!P) return null;
    if (sel && P.symbols.indexOf(sel.value) >= 0) return sel.value;
    return P.symbols.length ? P.symbols[0] : null;
  }
  function optionFor(kind, cfg, si, width) {
    var o;
    if (kind === 'equity') {
      o = baseOption('quote', '');
      cfg.runs.forEach(function (r) { o.series.push(lineSeries(r, 'eq')); if (r.liq.length) o.series.push(liqSeries(r, 'eq')); });
    } else if (kind === 'drawdown') {
      o = baseOption('%', '%');
      o.yAxis.scale = false; o.yAxis.max = 0;
      // drawn below 0, read as the tables give it: the % below the running peak (a drawdown of 6.8%, never −6.8%)
      o.tooltip.valueFormatter = function (v) { return v === null || v === undefined ? '—' : nf.format(Math.abs(v)) + '%'; };
      o.yAxis.axisLabel.formatter = function (v) { return nf.format(Math.abs(v)) + '%'; };
      cfg.runs.forEach(function (r) { o.series.push(lineSeries(r, 'dd')); });
    } else if (kind === 'margin') {
      o = baseOption('%', '%');
      o.yAxis.scale = false; o.yAxis.min = 0;
      // a gap past the bankruptcy price reads the ratio's cap (1,000 %): the axis stops at 200 %, so the 80 % and 100 %
      // lines stay readable (the tooltip gives the value)
      o.yAxis.max = function (v) { return Math.min(200, Math.max(100, Math.ceil(v.max / 10) * 10)); };
      cfg.runs.forEach(function (r, i) {
        var s = lineSeries(r, 'mr');
        if (i === 0) s.markLine = { silent: true, symbol: 'none', label: { fontSize: 10, formatter: '{b}', position: 'insideEndTop' },
          data: [{ yAxis: 80, name: '80%', lineStyle: { color: '#b45f06', type: 'dashed' } }, { yAxis: 100, name: 'liquidation', lineStyle: { color: '#c2261d', type: 'solid' } }] };
        o.series.push(s);
        if (r.liq.length) o.series.push(liqSeries(r, 'mr'));
      });
    } else if (kind === 'price') {
      o = baseOption('price', '');
      var P = cfg.price;
      var sym = symbolOf(si, P);
      if (!P || !sym) { o.title = { text: 'no price data stored for this configuration', left: 'center', top: 'middle', textStyle: { fontSize: 12, color: '#6b7785' } }; return o; }
      o.tooltip = { trigger: 'item', valueFormatter: fmt };
      o.series.push({ name: sym, type: 'line', showSymbol: false, symbol: 'none', color: '#4b5563', lineStyle: { width: 1.2 }, z: 2,
        data: zip(P.t, P.close[sym]), connectNulls: false, emphasis: { disabled: true } });
      var omitted = 0;
      P.runs.forEach(function (r) {
        var m = r.marks[sym], c = COLORS[r.mode], nm = runName(r);
        if (r.lp[sym] && r.lp[sym].length) o.series.push({ name: nm + ' liquidation price', type: 'line', step: 'end', showSymbol: false, symbol: 'none',
          color: c, lineStyle: { width: 1.4, type: 'dashed' }, z: 3, data: r.lp[sym], connectNulls: false, emphasis: { disabled: true } });
        if (!m) return;
        omitted += m.omitted;
        if (m.entry.length) o.series.push({ name: nm + ' entry', type: 'scatter', symbol: 'triangle', symbolSize: 8, color: c, z: 4, data: m.entry });
        if (m.exit.length) o.series.push({ name: nm + ' exit', type: 'scatter', symbol: 'triangle', symbolRotate: 180, symbolSize: 8, color: c, itemStyle: { opacity: 0.7 }, z: 4, data: m.exit });
        if (m.liq.length) o.series.push({ name: nm + ' liquidation', type: 'scatter', symbol: 'path://M0,0L10,10M10,0L0,10', symbolSize: 12, color: c,
          itemStyle: { borderColor: c, borderWidth: 2.5 }, z: 5, data: m.liq });
      });
      o.legend.type = 'scroll';
      // a legend draws a series' symbol unrotated (it showed ▲ for entries and exits alike): the exits name their own
      // icon, the triangle pointing down they are drawn as
      o.legend.data = o.series.map(function (s) { return / exit$/.test(s.name) ? { name: s.name, icon: EXIT_ICON } : { name: s.name }; });
      var note = document.querySelector('.price-note[data-strategy="' + si + '"]');
      if (note) note.textContent = omitted ? '(' + omitted + ' fill markers thinned out)' : '';
    } else {
      var cats = ['Fees', 'Funding paid', 'Funding received', 'Liquidation loss', 'Insurance shortfall'];
      var catAxis = { type: 'category', data: cats, axisLabel: { fontSize: 11, interval: 0 } };
      var valAxis = { type: 'value', name: 'quote', nameTextStyle: { fontSize: 11, color: '#6b7785', align: 'left' }, axisLabel: { fontSize: 11, hideOverlap: true, formatter: function (v) { return nf.format(v); } }, splitLine: { lineStyle: { color: '#eef1f5' } } };
      // too narrow for the five category names side by side (a phone): bars run sideways, names stacked on the left
      var sideways = width < NARROW;
      if (sideways) { catAxis.inverse = true; valAxis.nameTextStyle.align = 'right'; }
      o = { animation: false, grid: sideways ? { left: 8, right: 24, top: 30, bottom: 8, containLabel: true } : { left: 64, right: 18, top: 30, bottom: 28 },
        legend: { top: 0, right: 8, itemWidth: 14, itemHeight: 8, textStyle: { fontSize: 11 } },
        tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' }, valueFormatter: fmt },
        xAxis: sideways ? valAxis : catAxis,
        yAxis: sideways ? catAxis : valAxis,
        // a run's totals, as the perp-costs table gives them: an errored run has none there (its costs stop
        // where it failed, and a bar of them would read as the whole run's), so here its legend entry says
        // so and it has no bar
        series: cfg.runs.map(function (r) {
          var c = r.costs;
          return { name: c ? r.mode : r.mode + ' (errored: no figures)', type: 'bar', color: COLORS[r.mode], barMaxWidth: 28,
            data: c ? [c.fees, c.fundingPaid, c.fundingReceived, c.liquidationLoss, c.insuranceShortfall] : [null, null, null, null, null] };
        }) };
      if (!cfg.runs.some(function (r) { return r.costs; })) o.title = { text: 'no figures: every run of this configuration errored (see Failures)', left: 'center', top: 'middle', textStyle: { fontSize: 12, color: '#6b7785' } };
    }
    if (kind !== 'costs' && width < NARROW) {
      // a phone: the legend, right-aligned at the top, ran over the value axis' name ('price' under 'BTCUSDT', 'quote'
      // under a legend wrapped to two lines); it takes one scrolling row of the whole width, and the plot starts below
      // it, the axis name between the two
      o.legend.type = 'scroll';
      o.legend.left = 8;
      o.grid.top = 52;
    }
    return o;
  }
  function draw(si, ci) {
    var cfg = DATA.strategies[si].configs[ci];
    // the symbol selector lists every symbol of the strategy's configurations: one this configuration does not trade
    // cannot be chosen, and the selector names the symbol the chart draws (it said ETHUSDT over a BTCUSDT chart)
    var symSel = document.querySelector('select[data-symbol="' + si + '"]');
    if (symSel && cfg.price) {
      var drawn = symbolOf(si, cfg.price);
      Array.prototype.forEach.call(symSel.options, function (o) { o.disabled = cfg.price.symbols.indexOf(o.value) < 0; });
      if (drawn) symSel.value = drawn;
    }
    Array.prototype.forEach.call(document.querySelectorAll('.chart[data-strategy="' + si + '"]'), function (el) {
      var inst = echarts.getInstanceByDom(el) || echarts.init(el, null, { renderer: 'canvas' });
      if (charts.indexOf(inst) < 0) charts.push(inst);
      inst.setOption(optionFor(el.getAttribute('data-kind'), cfg, si, el.clientWidth), true);
      el.setAttribute('data-narrow', el.clientWidth < NARROW ? '1' : '0');
    });
    Array.prototype.forEach.call(document.querySelectorAll('.cfg-verdict[data-strategy="' + si + '"]'), function (p) {
      p.hidden = p.getAttribute('data-config') !== String(ci);
    });
  }
  DATA.strategies.forEach(function (s, si) { draw(si, 0); });
  function selectedConfig(si) {
    var sel = document.querySelector('select[data-strategy="' + si + '"]');
    return sel ? Number(sel.value) : 0;
  }
  Array.prototype.forEach.call(document.querySelectorAll('select[data-strategy]'), function (sel) {
    sel.addEventListener('change', function () { draw(Number(sel.getAttribute('data-strategy')), Number(sel.value)); });
  });
  Array.prototype.forEach.call(document.querySelectorAll('select[data-symbol]'), function (sel) {
    sel.addEventListener('change', function () { var si = Number(sel.getAttribute('data-symbol')); draw(si, selectedConfig(si)); });
  });
  function fit() {
    // a chart a resize took across NARROW (a phone turned upright, a window narrowed) is drawn again in the layout of
    // its new width: a resize alone kept the old one (the wide legend over the axis name 'price' on a phone)
    DATA.strategies.forEach(function (s, si) {
      var across = Array.prototype.some.call(document.querySelectorAll('.chart[data-strategy="' + si + '"]'), function (el) {
        return el.hasAttribute('data-narrow') && el.getAttribute('data-narrow') !== (el.clientWidth < NARROW ? '1' : '0');
      });
      if (across) draw(si, selectedConfig(si));
    });
    charts.forEach(function (c) { c.resize(); });
  }
  window.addEventListener('resize', fit);
  // printing lays the page out at the paper's width without a resize event: redraw every chart
  // (the stress charts too, same array) to its box when the print layout applies and again after
  var printing = window.matchMedia ? window.matchMedia('print') : null;
  if (printing && printing.addEventListener) printing.addEventListener('change', fit);
  else if (printing && printing.addListener) printing.addListener(fit);
})();
`;
