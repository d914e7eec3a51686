/**
 * report.md: the comparison for people, in plain Markdown (GitHub-flavoured tables).
 */
import type { RunResult } from '../shard/types.js';
import { mdTable as table, escapeMd, fmtLeverage as lev, fmtMetric, missingRunsText, paramsLabel, rejectionsLabel } from './format.js';
import { SETUP_IDS } from '../engine/setups.js';
import { dataPeriod, dataSummary, noVerdictText, servedBy, sweepLeverages, VERDICT_RULE, type ConfigGroup, type ReportModel, type SweepRow } from './model.js';
import type { ModeTotals } from './aggregate.js';
import { renderStressMarkdown } from './stress-md.js';
import { stressRunText } from '../stress/types.js';

/** Columns of the comparison table (metric ids), shared with the HTML report. */
export const COMPARISON_METRICS = [
  'totalReturn',
  'maxDrawdown',
  'liquidations',
  'liquidationLoss',
  'fundingNet',
  'fees',
  'marginRatioMax',
  'timeAbove80',
  'returnOnCapitalAtRisk',
  'sharpe',
] as const;

/** Columns of the perp-costs table (metric ids) and their headers, shared with the HTML report; a last column lists the rejections by reason. */
export const COST_METRICS = ['fundingPaid', 'fundingReceived', 'fees', 'liquidationPenalty', 'insuranceShortfall', 'nearMisses', 'rejectedOrders'] as const;
export const COST_HEADERS: Record<(typeof COST_METRICS)[number], string> = {
  fundingPaid: 'Funding paid',
  fundingReceived: 'Funding received',
  fees: 'Fees',
  liquidationPenalty: 'Liq penalty',
  insuranceShortfall: 'Insurance shortfall',
  nearMisses: 'Near misses',
  rejectedOrders: 'Rejected orders',
};
export const REJECTIONS_HEADER = 'Rejections by reason';
export const COSTS_TITLE = 'Perp costs and rejections';
/** Headers of the per-mode totals table (completed runs only: an errored run's counts cover part of it), shared with the HTML report. */
export const MODE_TOTAL_HEADERS = ['Mode', 'Completed runs', 'Liquidations', 'Runs liquidated', 'Near misses (MR ≥ 90%)'] as const;

export const COMPARISON_HEADERS: Record<(typeof COMPARISON_METRICS)[number], string> = {
  totalReturn: 'Return',
  maxDrawdown: 'Max DD',
  liquidations: 'Liqs',
  liquidationLoss: 'Liq loss',
  fundingNet: 'Funding net',
  fees: 'Fees',
  marginRatioMax: 'Max MR',
  timeAbove80: 'Time MR≥80%',
  returnOnCapitalAtRisk: 'Return on CaR',
  sharpe: 'Sharpe',
};

export function comparisonRows(model: ReportModel): { config: ConfigGroup; setup: (typeof SETUP_IDS)[number]; run: RunResult }[] {
  const out: { config: ConfigGroup; setup: (typeof SETUP_IDS)[number]; run: RunResult }[] = [];
  for (const c of model.configs) for (const s of SETUP_IDS) if (c.runs[s]) out.push({ config: c, setup: s, run: c.runs[s]! });
  return out;
}

export function renderMarkdown(model: ReportModel, sweep: SweepRow[], modes: ModeTotals[]): string {
  const m = model.manifest;
  const L: string[] = [];
  L.push(`# marginlab report: ${escapeMd(model.name)}`, '');
  const ds = dataSummary(model.runs);
  const period = dataPeriod(model.runs);
  L.push(
    `${model.counts.total} run${model.counts.total === 1 ? '' : 's'} (${model.counts.ok} ok, ${model.counts.errored} errored) · data: ${escapeMd(ds.join('; ') || 'none')}` +
      (period ? ` · ${period}` : '') +
      ` · marginlab ${escapeMd(m.marginlabVersion)}, engine ${escapeMd(m.engineVersion)}`,
    '',
  );
  if (model.missing > 0) L.push(`> **Incomplete:** ${missingRunsText(model.missing, model.planned)} (a shard not merged, or a run not finished); the tables below cover ${model.counts.total} run${model.counts.total === 1 ? '' : 's'}.`, '');
  for (const n of model.notes) L.push(`> **Note:** ${escapeMd(n)}`, '');

  // verdicts first: the answer people came for
  L.push('## Verdicts', '');
  if (!model.strategies.length) L.push('No runs.', '');
  for (const s of model.strategies) {
    L.push(`- **${escapeMd(s.strategy)}**: ${s.verdict ? escapeMd(s.verdict.line) : escapeMd(noVerdictText(s.configs))}`);
    if (s.configs.filter((c) => c.verdict).length > 1) {
      for (const c of s.configs) {
        if (!c.verdict) continue;
        L.push(`  - ${escapeMd(configLabel(c))}: ${escapeMd(c.verdict.line)}`);
      }
    }
  }
  L.push('');

  L.push('## Comparison: strategy × margin mode', '');
  const showParams = model.configs.some((c) => c.paramsLabel !== '');
  const showData = model.configs.some((c) => c.dataLabel !== '');
  const header = ['Strategy', ...(showParams ? ['Params'] : []), 'Venue', ...(showData ? ['Data'] : []), 'Lev', 'Mode', ...COMPARISON_METRICS.map((id) => COMPARISON_HEADERS[id])];
  const align: ('l' | 'r')[] = ['l', ...(showParams ? ['l' as const] : []), 'l', ...(showData ? ['l' as const] : []), 'r', 'l', ...COMPARISON_METRICS.map(() => 'r' as const)];
  const rows = comparisonRows(model).map(({ config: c, setup, run }) => {
    const star = servedBy(c.verdict, setup) ? ' ★' : '';
    const cells =
      run.status === 'ok'
        ? COMPARISON_METRICS.map((id) => fmtMetric(id, run.metrics[id]))
        : COMPARISON_METRICS.map((_, i) => (i === 0 ? 'errored' : '—'));
    return [escapeMd(c.strategy), ...(showParams ? [escapeMd(c.paramsLabel)] : []), escapeMd(c.venue), ...(showData ? [escapeMd(c.dataLabel)] : []), lev(c.leverage), `${setup}${star}`, ...cells];
  });
  L.push(rows.length ? table(header, align, rows) : 'No runs.', '');
  L.push(
    `★ = the mode that served the configuration (${VERDICT_RULE}). Max MR = highest intrabar margin ratio (maintenance margin ÷ margin balance; 100% = liquidation). Time MR≥80% = share of bar closes at or above 80%. Return on CaR = net PnL ÷ time-average capital at risk (isolated: Σ isolated margins; cross: pool equity), over the whole window. Money in the quote currency. Definitions: marginlab's docs/metrics.md.`,
    '',
  );

  L.push('## Leverage sweep: highest leverage without a liquidation', '');
  if (!sweep.length) L.push('No completed runs.', '');
  else {
    const sh = sweep.some((r) => r.paramsLabel !== '');
    const sd = sweep.some((r) => r.dataLabel !== '');
    L.push(
      table(
        ['Strategy', ...(sh ? ['Params'] : []), 'Venue', ...(sd ? ['Data'] : []), 'Mode', 'Leverages tested', 'Highest with 0 liquidations', 'Lowest liquidated'],
        ['l', ...(sh ? ['l' as const] : []), 'l', ...(sd ? ['l' as const] : []), 'l', 'l', 'r', 'r'],
        sweep.map((r) => [
          escapeMd(r.strategy),
          ...(sh ? [escapeMd(r.paramsLabel)] : []),
          escapeMd(r.venue),
          ...(sd ? [escapeMd(r.dataLabel)] : []),
          r.setup,
          sweepLeverages(r),
          r.maxSafeLeverage !== null ? lev(r.maxSafeLeverage) : r.minLiquidatedLeverage === null ? '—' : 'none',
          r.minLiquidatedLeverage === null ? '—' : lev(r.minLiquidatedLeverage),
        ]),
      ),
      '',
    );
  }

  if (modes.length) {
    L.push('## Totals by mode', '');
    L.push(
      table(
        [...MODE_TOTAL_HEADERS],
        ['l', 'r', 'r', 'r', 'r'],
        modes.map((x) => [x.mode, String(x.runs), String(x.liquidations), String(x.runsLiquidated), String(x.nearMisses)]),
      ),
      '',
    );
  }

  const stress = renderStressMarkdown(model.stress);
  if (stress) L.push(stress);

  L.push(`## ${COSTS_TITLE}`, '');
  const costRows = comparisonRows(model)
    .filter((x) => x.run.status === 'ok')
    .map(({ config: c, setup, run }) => [
      escapeMd(c.strategy),
      ...(showParams ? [escapeMd(c.paramsLabel)] : []),
      ...(showData ? [escapeMd(c.dataLabel)] : []),
      lev(c.leverage),
      setup,
      ...COST_METRICS.map((id) => fmtMetric(id, run.metrics[id])),
      escapeMd(rejectionsLabel(run.rejections)) || '—',
    ]);
  L.push(
    costRows.length
      ? table(
          ['Strategy', ...(showParams ? ['Params'] : []), ...(showData ? ['Data'] : []), 'Lev', 'Mode', ...COST_METRICS.map((id) => COST_HEADERS[id]), REJECTIONS_HEADER],
          ['l', ...(showParams ? ['l' as const] : []), ...(showData ? ['l' as const] : []), 'r', 'l', ...COST_METRICS.map(() => 'r' as const), 'l'],
          costRows,
        )
      : 'No completed runs.',
    '',
  );

  L.push('## Failures', '');
  if (!model.failures.length) L.push('None: every run completed.', '');
  else {
    for (const r of model.failures) {
      const stress = stressRunText(r.spec.stress);
      // its params: two grid points' failures read alike without them
      const params = paramsLabel(r.spec.params ?? {});
      L.push(`- \`${r.runId}\` ${escapeMd(r.spec.strategy)}${params ? ` ${escapeMd(params)}` : ''} · ${escapeMd(r.spec.setup)} · ${escapeMd(lev(r.spec.leverage))}${stress ? ` · ${escapeMd(stress)}` : ''}: ${escapeMd(r.error ?? 'unknown error')}`);
    }
    L.push('');
  }
  L.push('---', '', `Runs: \`results/<runId>.json\` · machine-readable: summary.json (schema: marginlab's docs/report.md), runs.csv · reproduce: manifest.json.`, '');
  return L.join('\n');
}

export function configLabel(c: ConfigGroup): string {
  return [c.paramsLabel, c.venue, c.dataLabel, lev(c.leverage)].filter(Boolean).join(' · ');
}
