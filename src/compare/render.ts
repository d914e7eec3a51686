/**
 * Renderings of a Comparison: the terminal summary, compare.md and compare.html (one
 * self-contained page, no script, every value escaped).
 */
import { escapeHtml, escapeMd, fmtLeverage, fmtMetric, fmtMoney, fmtNumber } from '../report/format.js';
import { visible } from '../util/excerpt.js';
import { COMPARE_METRICS, erroredOnBothSides, HIGHER_IS_BETTER, incompleteNote, METRIC_TITLES, shardOfPlan, type Comparison, type MetricDiff, type OneSided, type RunLabel, type RunPair } from './index.js';

/** Runs listed in the terminal summary beyond those failing a rule or changing status. */
const TERMINAL_TOP = 10;
/** lines per list of the terminal summary (failing runs, runs in one folder only); compare.md and --json list every run */
const TERMINAL_LIST = 20;
const capped = (lines: string[]): string[] =>
  lines.length > TERMINAL_LIST ? [...lines.slice(0, TERMINAL_LIST), `  ... and ${lines.length - TERMINAL_LIST} more (compare.md and --json list every run)`] : lines;

/**
 * The name of a run in the listings. Runs are paired by their dataset and timeframe too, so when
 * the compared runs span more than one of them (two folders run on different datasets, a config
 * with several `data` entries) the name says which, or runs that were not paired would read alike.
 */
function namer(c: Comparison): (r: RunLabel) => string {
  const all: RunLabel[] = [...c.pairs, ...c.onlyInBaseline, ...c.onlyInCurrent];
  const withData = new Set(all.map((r) => `${r.dataset}\u0000${r.timeframe}`)).size > 1;
  return (r) =>
    `${r.strategy}${r.params ? ` ${r.params}` : ''} · ${r.venue}${withData ? ` · ${r.dataset} ${r.timeframe}` : ''} · ${fmtLeverage(r.leverage)} ${r.setup}${r.stressRun ? ` · ${r.stressRun}` : ''}`;
}

/**
 * A change as shown beside its two figures. `digits`: when it rounds to zero at the figures' precision, it is shown
 * to its first significant digit (up to 8 decimals) instead: two figures on either side of a rounding boundary
 * (−23.94 → −23.96 shown as −23.9% → −24.0%) read '±0.0pp' beside a visible change.
 */
export function fmtDelta(id: string, d: number | null, digits = false): string {
  if (d === null) return '—';
  if (d === 0) return '±0';
  // signed metrics (return, funding net) are formatted with their sign: the delta's sign replaces it
  const s = fmtMetric(id, Math.abs(d)).replace(/^[+\u2212-]/, '');
  let pp = s.endsWith('%') ? `${s.slice(0, -1)}pp` : s.endsWith('%/yr') ? `${s.slice(0, -4)}pp/yr` : s;
  if (digits && !/[1-9]/.test(pp) && Number.isFinite(d)) {
    const k = Math.min(8, Math.max(0, Math.ceil(-Math.log10(Math.abs(d)))));
    const finer = fmtNumber(Math.abs(d), k);
    if (/[1-9]/.test(finer)) pp = pp.replace(/^[0-9.,]+/, finer);
  }
  // a change that rounds to zero at the shown precision has no sign ('+0.00' and '−0.0pp' read as changes)
  if (!/[1-9]/.test(pp)) return `±${pp}`;
  return `${d > 0 ? '+' : '−'}${pp}`;
}

const cell = (id: string, m: MetricDiff): string => {
  const b = fmtMetric(id, m.baseline);
  const c = fmtMetric(id, m.current);
  return `${b} → ${c} (${fmtDelta(id, m.delta, b !== c)})`;
};

/** `withIncomplete`: the warnings of incomplete folders (the terminal has them on stderr) */
function headline(c: Comparison, withIncomplete = true): string[] {
  const eng = c.engineVersionChanged ? `engine ${c.baseline.engineVersion} → ${c.current.engineVersion} (changed)` : `engine ${c.current.engineVersion}`;
  return [
    `baseline ${c.baseline.dir} (${c.baseline.name}, ${c.baseline.runs} run${c.baseline.runs === 1 ? '' : 's'}, ${c.baseline.createdAt})`,
    `current  ${c.current.dir} (${c.current.name}, ${c.current.runs} run${c.current.runs === 1 ? '' : 's'}, ${c.current.createdAt})`,
    `${c.pairs.length} matched, ${c.onlyInBaseline.length} only in baseline, ${c.onlyInCurrent.length} only in current; ${eng}`,
    ...(withIncomplete ? [...incompleteLines(c), ...unpairedLines(c)] : []),
  ];
}

/**
 * A line when runs of the baseline have no run of the same spec in the current folder and no
 * `missing` rule looks at them: the rules compared only the runs that pair, so a gate whose runs all
 * changed spec (a parameter default, a grid or a leverage edited) passed having compared nothing.
 * `hint`: and what to add to --fail-on (the terminal's warning).
 */
export function unpairedLines(c: Comparison, hint = false): string[] {
  const n = c.onlyInBaseline.length;
  // without rules a comparison that paired no run at all still says so (it passed in silence, having compared nothing)
  if (n === 0 || (c.rules.length === 0 && c.pairs.length > 0) || c.rules.some((r) => /^missing\W/.test(r.rule))) return [];
  // a current folder missing as many planned runs (a shard, an interrupted run) is why they are
  // unpaired, not a changed spec: incompleteLines says so, with the command that finishes it
  if (n <= c.current.missing || shardOfPlan(c.current, c.baseline)) return [];
  const total = n + c.pairs.length;
  const what = c.pairs.length === 0
    ? `no run of the current folder ${c.current.dir} pairs with one of the baseline's ${total} (${n} only in baseline, ${c.onlyInCurrent.length} only in current)`
    : `${n} of the baseline's ${total} run${total === 1 ? '' : 's'} have no run of the same spec in the current folder ${c.current.dir}`;
  const fix = hint ? '; add missing>0 to --fail-on to fail the gate on them' : '';
  return [`warning: ${what}: runs pair by their spec (strategy, params, venue, leverage, setup, dataset, timeframe, symbols, capital, execution), so a changed parameter default, grid, leverage or execution option makes new runs; ${c.rules.length ? 'the --fail-on rules compared none of them' : 'nothing was compared'}${fix}`];
}

/**
 * One line per compared folder that is incomplete: its runs are compared as they are. `hint`: and
 * the command that finishes it (the terminal's warning).
 */
export function incompleteLines(c: Comparison, hint = false): string[] {
  const out: string[] = [];
  for (const [which, s] of [['baseline', c.baseline], ['current', c.current]] as const) {
    const note = incompleteNote(s, which === 'baseline' ? c.current : c.baseline);
    if (note === null) continue;
    const finish = hint ? `; finish it (\`${s.resumeWith}\`, or merge the missing shards) for a full comparison` : '';
    out.push(`warning: the ${which} folder ${s.dir} is incomplete: ${note}; its runs are compared as they are${finish}`);
  }
  return out;
}

const verdict = (c: Comparison): string => `${c.passed ? 'pass' : 'FAIL'}${incompleteLines(c).length ? ' (of incomplete folders)' : ''}`;

function ruleLines(c: Comparison): string[] {
  if (c.rules.length === 0) return ['no --fail-on rules: exit 0'];
  const count = (r: { rule: string; failures: number }): string => {
    // missing / added count runs of one folder: say how many, also when the rule fails on none (missing==0)
    const k = /^(missing|added)\W/.exec(r.rule)?.[1];
    if (k === 'missing') return `${c.onlyInBaseline.length} run${c.onlyInBaseline.length === 1 ? '' : 's'} missing`;
    if (k === 'added') return `${c.onlyInCurrent.length} run${c.onlyInCurrent.length === 1 ? '' : 's'} added`;
    return `${r.failures} run${r.failures === 1 ? '' : 's'}`;
  };
  return c.rules.map((r) => `${r.failures === 0 ? 'pass' : 'FAIL'}  ${r.rule}${r.failures ? ` (${count(r)})` : ''}`);
}

function setupLine(s: Comparison['setups'][number]): string {
  return `${s.setup}: ${s.matched} run${s.matched === 1 ? '' : 's'}, return ${fmtDelta('totalReturn', s.meanReturnDelta)} on average, max drawdown ${fmtDelta('maxDrawdown', s.meanMaxDrawdownDelta)}, liquidations ${s.liquidations.baseline} → ${s.liquidations.current} (loss ${fmtMetric('liquidationLoss', s.liquidationLoss.baseline)} → ${fmtMetric('liquidationLoss', s.liquidationLoss.current)}), funding ${fmtMetric('fundingNet', s.fundingNet.baseline)} → ${fmtMetric('fundingNet', s.fundingNet.current)}, fees ${fmtMetric('fees', s.fees.baseline)} → ${fmtMetric('fees', s.fees.current)}${s.statusChanged ? `, ${s.statusChanged} changed status` : ''}${s.erroredOnBothSides ? `, ${s.erroredOnBothSides} errored on both sides` : ''}${s.failing ? `, ${s.failing} failing` : ''}`;
}

function pairLine(p: RunPair, runName: (r: RunLabel) => string): string {
  const parts = [
    `return ${cell('totalReturn', p.metrics.totalReturn!)}`,
    `max DD ${cell('maxDrawdown', p.metrics.maxDrawdown!)}`,
    `liqs ${fmtMetric('liquidations', p.metrics.liquidations!.baseline)} → ${fmtMetric('liquidations', p.metrics.liquidations!.current)}`,
  ];
  // a run that errored is said whichever side: 'status ok → errored', and 'status errored → errored' (not compared at all)
  if (p.status.baseline !== p.status.current || erroredOnBothSides(p)) parts.unshift(`status ${p.status.baseline} → ${p.status.current}`);
  if (p.specDifferences.length) parts.push(p.specDifferences.join('; '));
  if (p.failedRules.length) parts.push(`FAILS ${p.failedRules.join(', ')}`);
  return `${runName(p)}: ${parts.join(', ')}`;
}

/** The terminal summary: rules, setups, failing / changed runs, the largest return changes, one-sided runs. */
export function renderText(c: Comparison): string {
  const runName = namer(c);
  const out = [...headline(c, false), '', ...ruleLines(c), ''];
  for (const s of c.setups) out.push(setupLine(s));
  const flagged = c.pairs.filter((p) => p.failedRules.length > 0 || p.status.baseline !== p.status.current || erroredOnBothSides(p));
  // a Set: flagged.includes(p) per pair was pairs × flagged steps when a rule fails on most runs
  const isFlagged = new Set(flagged);
  const rest = c.pairs
    .filter((p) => !isFlagged.has(p) && (p.metrics.totalReturn!.delta ?? 0) !== 0)
    .sort((a, b) => Math.abs(b.metrics.totalReturn!.delta ?? 0) - Math.abs(a.metrics.totalReturn!.delta ?? 0))
    .slice(0, TERMINAL_TOP);
  if (flagged.length) out.push('', `runs failing a rule, changing status or errored on both sides (${flagged.length}):`, ...capped(flagged.map((p) => `  ${pairLine(p, runName)}`)));
  if (rest.length) out.push('', `largest return changes${flagged.length ? ' among the other runs' : ''}:`, ...rest.map((p) => `  ${pairLine(p, runName)}`));
  const one = (title: string, xs: OneSided[]) =>
    xs.length
      ? ['', `${title} (${xs.length}):`, ...capped([...xs].sort((a, b) => Number(b.failedRules.length > 0) - Number(a.failedRules.length > 0)).map((x) => `  ${runName(x)} [${x.status}]${x.failedRules.length ? ` FAILS ${x.failedRules.join(', ')}` : ''}`))]
      : [];
  out.push(...one('only in baseline', c.onlyInBaseline), ...one('only in current', c.onlyInCurrent));
  out.push('', `result: ${verdict(c)}${c.passed ? '' : ' (exit 1)'}`);
  // each line with the control characters of the folders' paths and the run names shown as escapes (visible): an ESC
  // sequence or a line break in a folder's name recoloured the terminal or started a line of its own
  return `${out.map(visible).join('\n')}\n`;
}

/** compare.md: everything, every matched run. */
export function renderMarkdown(c: Comparison): string {
  const runName = namer(c);
  const md = escapeMd;
  const out: string[] = ['# marginlab compare', '', ...headline(c).map((l) => `- ${md(l)}`), '', '## Rules', ''];
  out.push(...ruleLines(c).map((l) => `- ${md(l)}`), '', `**${verdict(c)}**`, '', '## Per setup', '');
  if (c.setups.length === 0) out.push('No matched runs.');
  else {
    out.push('| setup | runs | Δ return (mean) | Δ max DD (mean) | liquidations | liquidation loss | funding net | fees | status changed | errored on both sides | failing |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const s of c.setups) {
      out.push(
        `| ${s.setup} | ${s.matched} | ${fmtDelta('totalReturn', s.meanReturnDelta)} | ${fmtDelta('maxDrawdown', s.meanMaxDrawdownDelta)} | ${s.liquidations.baseline} → ${s.liquidations.current} | ${fmtMetric('liquidationLoss', s.liquidationLoss.baseline)} → ${fmtMetric('liquidationLoss', s.liquidationLoss.current)} | ${fmtMetric('fundingNet', s.fundingNet.baseline)} → ${fmtMetric('fundingNet', s.fundingNet.current)} | ${fmtMetric('fees', s.fees.baseline)} → ${fmtMetric('fees', s.fees.current)} | ${s.statusChanged} | ${s.erroredOnBothSides} | ${s.failing} |`,
      );
    }
  }
  out.push('', '## Runs', '');
  if (c.pairs.length === 0) out.push('No matched runs.');
  else {
    out.push(`| run | status | ${COMPARE_METRICS.map((id) => METRIC_TITLES[id]).join(' | ')} | notes |`, `|---|---|${COMPARE_METRICS.map(() => '---:').join('|')}|---|`);
    for (const p of c.pairs) {
      const notes = [...p.specDifferences, ...(p.stress ? [stressNote(p)] : []), ...(p.error ? [`error: ${p.error}`] : []), ...(p.failedRules.length ? [`FAILS ${p.failedRules.join(', ')}`] : [])];
      out.push(
        `| ${md(runName(p))} | ${p.status.baseline} → ${p.status.current} | ${COMPARE_METRICS.map((id) => md(cell(id, p.metrics[id]!))).join(' | ')} | ${md(notes.join('; '))} |`,
      );
    }
  }
  for (const [title, xs] of [
    ['Only in the baseline', c.onlyInBaseline],
    ['Only in the current folder', c.onlyInCurrent],
  ] as const) {
    out.push('', `## ${title}`, '');
    out.push(xs.length ? xs.map((x) => `- ${md(runName(x))} [${x.status}]${x.failedRules.length ? ` FAILS ${md(x.failedRules.join(', '))}` : ''}`).join('\n') : 'None.');
  }
  return `${out.join('\n')}\n`;
}

function stressNote(p: RunPair): string {
  const s = p.stress!;
  const yn = (b: boolean) => (b ? 'yes' : 'no');
  // the stored peak margin ratio is a fraction (1 = liquidation): shown in % like every margin ratio of the reports
  const mr = (x: number | null) => fmtMetric('marginRatioMax', x === null ? null : 100 * x);
  const money = (x: string | null) => (x === null ? '—' : fmtMoney(Number(x), true));
  const two = (x: { baseline: boolean; current: boolean }) => `${yn(x.baseline)} → ${yn(x.current)}`;
  // a scenario run: what the shock did, and apart from it what happened before the shock (not the crash's doing)
  const outcome = s.shock
    ? `liquidated by the shock ${two(s.shock.liquidatedByShock)} (before it ${two(s.shock.liquidatedBeforeShock)}${s.shock.liquidatedAsHistory.baseline || s.shock.liquidatedAsHistory.current ? `; after it as in the history ${two(s.shock.liquidatedAsHistory)}` : ''}), wiped out by the shock ${two(s.shock.wipedOutByShock)} (before it ${two(s.shock.wipedOutBeforeShock)}${s.shock.wipedOutAsHistory.baseline || s.shock.wipedOutAsHistory.current ? `; after it as in the history ${two(s.shock.wipedOutAsHistory)}` : ''})`
    : `survived ${two(s.survived)}, wiped out ${two(s.wipedOut)}`;
  return `stress: ${outcome}, peak margin ratio ${mr(s.peakMarginRatio.baseline)} → ${mr(s.peakMarginRatio.current)}, change at the shock ${money(s.lossAtShock.baseline)} → ${money(s.lossAtShock.current)}`;
}

/**
 * A line break inside a table cell that a copy of the table gives as a space: a `<br>` is copied as a line break,
 * which splits the cell's row in two where a spreadsheet pastes it. Its space is sized 0 (the cells measure as with a
 * `<br>`) and the break is drawn by its ::after, which no copy includes.
 */
const NL = '<span class="nl"> </span>';

/** compare.html: the same content as compare.md, one page without scripts or external resources. */
export function renderHtml(c: Comparison): string {
  const runName = namer(c);
  const e = escapeHtml;
  // coloured only when the change printed in the cell is one (an unrounded delta coloured '1.3% → 1.3% ±0.0pp' green)
  const cls = (d: number | null, shown: string, higherIsBetter: boolean | null) =>
    d === null || higherIsBetter === null || shown.startsWith('±') ? '' : (d > 0) === higherIsBetter ? ' class="up"' : ' class="down"';
  const rows = c.pairs
    .map((p) => {
      const notes = [...p.specDifferences, ...(p.stress ? [stressNote(p)] : []), ...(p.error ? [`error: ${p.error}`] : [])];
      return `<tr${p.failedRules.length ? ' class="fail"' : ''}><td>${e(runName(p))}</td><td>${e(p.status.baseline)} → ${e(p.status.current)}</td>${COMPARE_METRICS.map((id) => {
        const m = p.metrics[id]!;
        const shown = fmtDelta(id, m.delta, fmtMetric(id, m.baseline) !== fmtMetric(id, m.current));
        return `<td${cls(m.delta, shown, HIGHER_IS_BETTER[id] ?? null)}>${e(fmtMetric(id, m.baseline))} → ${e(fmtMetric(id, m.current))}${NL}<small>${e(shown)}</small></td>`;
      }).join('')}<td>${e(notes.join('; '))}${p.failedRules.length ? `${NL}<b>fails ${e(p.failedRules.join(', '))}</b>` : ''}</td></tr>`;
    })
    .join('\n');
  const setupRows = c.setups.map((s) => `<tr><td>${e(s.setup)}</td><td>${e(setupLine(s).replace(/^[a-z]+: /, ''))}</td></tr>`).join('\n');
  const one = (title: string, xs: OneSided[]) =>
    `<h2>${e(title)} (${xs.length})</h2>${xs.length ? `<ul>${xs.map((x) => `<li>${e(runName(x))} [${e(x.status)}]${x.failedRules.length ? ` <b>fails ${e(x.failedRules.join(', '))}</b>` : ''}</li>`).join('')}</ul>` : '<p>None.</p>'}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>marginlab compare: ${e(c.baseline.name)} → ${e(c.current.name)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#111;overflow-wrap:anywhere}
.table-wrap{overflow:auto;max-height:85vh;max-height:85svh;overscroll-behavior-x:contain;margin:.5rem 0 1.5rem}
.table-wrap:focus-visible{outline:2px solid #2563eb;outline-offset:2px}
table{border-collapse:separate;border-spacing:0}td,th{border:solid #ddd;border-width:0 1px 1px 0;padding:.3rem .5rem;vertical-align:top;text-align:left;overflow-wrap:normal;background:#fff}
tr>:first-child{border-left-width:1px}tr:first-child>*{border-top-width:1px}
td:first-child,td:last-child{min-width:min(12em,34vw);overflow-wrap:anywhere}
th{background:#f4f4f5;position:sticky;top:0;z-index:2}
tr>:first-child{position:sticky;left:0;z-index:1}tr>th:first-child{z-index:3}
.nl{font-size:0}.nl::after{content:"\\A";white-space:pre}
.up{color:#15803d}.down{color:#b91c1c}tr.fail td{background:#fef2f2}
.verdict{font-size:1.2rem;font-weight:600}.verdict.fail{color:#b91c1c}.verdict.pass{color:#15803d}small{color:#555}
@media (max-width:600px){body{margin:.75rem}td,th{padding:.25rem .35rem}}
@media print{body{margin:0}.table-wrap{overflow:visible;max-height:none}th,tr>:first-child{position:static}table{width:100%;table-layout:fixed}td,th{font-size:9px;padding:2px 3px;overflow-wrap:anywhere}td:first-child,td:last-child{min-width:0}tr{break-inside:avoid}}
</style></head><body>
<h1>marginlab compare</h1>
<ul>${headline(c).map((l) => `<li>${e(l)}</li>`).join('')}</ul>
<p class="verdict ${c.passed ? 'pass' : 'fail'}">${e(verdict(c))}</p>
<h2>Rules</h2><ul>${ruleLines(c).map((l) => `<li>${e(l)}</li>`).join('')}</ul>
<h2>Per setup</h2>${c.setups.length ? `<div class="table-wrap" tabindex="0"><table><tr><th>setup</th><th>changes</th></tr>${setupRows}</table></div>` : '<p>No matched runs.</p>'}
<h2>Runs (${c.pairs.length})</h2>${c.pairs.length ? `<div class="table-wrap" tabindex="0"><table><tr><th>run</th><th>status</th>${COMPARE_METRICS.map((id) => `<th>${e(METRIC_TITLES[id] ?? id)}</th>`).join('')}<th>notes</th></tr>\n${rows}</table></div>` : '<p>No matched runs.</p>'}
${one('Only in the baseline', c.onlyInBaseline)}
${one('Only in the current folder', c.onlyInCurrent)}
</body></html>
`;
}
