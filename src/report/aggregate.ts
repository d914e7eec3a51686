/**
 * Aggregation of runs. The report's own aggregates (the leverage sweep, the per-mode totals) are
 * plain integer groupings computed here, so `marginlab run` and `report` never need danfo.js.
 * danfo.js is the DataFrame library of the analysis API (`loadResults`): an optional peer
 * dependency, imported lazily (~2 s) and only there. It is optional because danfojs depends on
 * xlsx through a CDN URL that a machine seeing only the npm registry cannot fetch, and a
 * dependency's `overrides` do not apply to its dependents: as a hard dependency it would make
 * `npm install marginlab` fail on exactly those machines.
 */
import type { DataFrame } from './dataframe.js';
import { METRICS } from '../analysis/index.js';
import { ExitCode, UserError } from '../errors.js';
import type { RunResult } from '../shard/types.js';
import { canonicalJson } from '../shard/hash.js';
import { setupRank, type SetupId } from '../engine/setups.js';
import { cmpStr, sweepKey, type SweepRow } from './model.js';
import { cmpParams, dataLabeller, heldPosition, paramsLabel, shownMetrics } from './format.js';
import { variantCells, VARIANT_COLUMNS } from './csv.js';

type Danfo = typeof import('danfojs');
let danfoPromise: Promise<Danfo> | null = null;

/** The one-line instruction for installing danfo.js in a project that has only the npm registry. */
export const DANFO_INSTALL_HINT =
  'loadResults and loadTrades need danfo.js, an optional peer dependency of marginlab: run `npm install danfojs@^1.2.0`; if the install fails fetching xlsx from cdn.sheetjs.com, first add "overrides": { "xlsx": "0.18.5" } to your package.json';

/** danfo.js, imported once per process; a UserError (66) saying what to install when it is missing. */
export function loadDanfo(): Promise<Danfo> {
  danfoPromise ??= import('danfojs').catch((err: unknown) => {
    danfoPromise = null;
    const code = (err as { code?: unknown })?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') throw new UserError(DANFO_INSTALL_HINT, ExitCode.NO_INPUT);
    throw err;
  });
  return danfoPromise;
}

export type RunRow = Record<string, string | number | boolean>;

/** the variant columns of runs.csv (csv.ts variantCells) as DataFrame cells: pathIndex NaN when empty */
function variantRow(r: RunResult): Record<(typeof VARIANT_COLUMNS)[number], string | number> {
  const [variant, scenario, injectAt, pathIndex] = variantCells(r.spec);
  return { variant, scenario, injectAt, pathIndex: pathIndex ?? NaN };
}

/** One flat row per run: identity columns then every registry metric (NaN for null). */
export function runRows(results: readonly RunResult[]): RunRow[] {
  return results.map((r) => {
    const row: RunRow = {
      runId: r.runId,
      status: r.status,
      strategy: r.spec.strategy,
      params: canonicalJson(r.spec.params),
      venue: r.spec.venue,
      mode: r.spec.setup,
      leverage: r.spec.leverage,
      ...variantRow(r),
      dataset: r.spec.dataset,
      timeframe: r.spec.timeframe,
      symbols: r.spec.symbols.join(' '),
      bars: r.bars,
    };
    const shown = shownMetrics(r);
    for (const m of METRICS) {
      const v = shown[m.id];
      row[m.id] = typeof v === 'number' && Number.isFinite(v) ? v : NaN;
    }
    return row;
  });
}

/** A danfo DataFrame of runs (see runRows); an empty frame with the columns when there are none. */
export async function runsDataFrame(results: readonly RunResult[]): Promise<DataFrame> {
  const dfd = await loadDanfo();
  const rows = runRows(results);
  if (rows.length === 0) {
    const columns = ['runId', 'status', 'strategy', 'params', 'venue', 'mode', 'leverage', ...VARIANT_COLUMNS, 'dataset', 'timeframe', 'symbols', 'bars', ...METRICS.map((m) => m.id)];
    return new dfd.DataFrame([], { columns });
  }
  return new dfd.DataFrame(rows);
}

/**
 * Highest leverage with zero liquidations and lowest leverage with any, per strategy
 * configuration (everything but leverage) and mode, over ok runs. A leverage where no run held a
 * position (format.ts heldPosition: e.g. every order rejected above the venue's tier limit) is untested: its 0
 * liquidations never make it the highest safe leverage (as SurvivalPoint.untested in stress).
 */
export function leverageSweep(results: readonly RunResult[]): SweepRow[] {
  const ok = results.filter((r) => r.status === 'ok');
  const groups = new Map<string, RunResult[]>();
  for (const r of ok) {
    const g = `${sweepKey(r.spec)}\u0000${r.spec.setup}`; // canonical JSON of everything but leverage
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  }
  const out: SweepRow[] = [];
  /** each row's params, for the sort (numbers as numbers: every=48 before every=200) */
  const paramsOf = new Map<SweepRow, Record<string, unknown>>();
  const dataLabel = dataLabeller(ok);
  // in key order (as before the stable sort below), so ties in the sort keep one order
  for (const g of [...groups.keys()].sort()) {
    const runs = groups.get(g)!;
    const spec = runs[0]!.spec;
    let safe: number | null = null;
    let liquidated: number | null = null;
    const held = new Set<number>();
    for (const r of runs) {
      const lev = r.spec.leverage;
      if ((r.metrics.liquidations ?? 0) > 0) liquidated = liquidated === null ? lev : Math.min(liquidated, lev);
      // a run that never held a position (every order rejected above the tier limit) says nothing about its leverage
      else if (heldPosition(r)) safe = safe === null ? lev : Math.max(safe, lev);
      if (heldPosition(r)) held.add(lev);
    }
    const leverages = [...new Set(runs.map((r) => r.spec.leverage))].sort((a, b) => a - b);
    const row: SweepRow = {
      strategy: spec.strategy,
      paramsLabel: paramsLabel(spec.params),
      venue: spec.venue,
      dataLabel: dataLabel(spec),
      dataset: spec.dataset,
      timeframe: spec.timeframe,
      setup: spec.setup as SetupId,
      leverages,
      untestedLeverages: leverages.filter((l) => !held.has(l)),
      maxSafeLeverage: safe,
      minLiquidatedLeverage: liquidated,
    };
    out.push(row);
    paramsOf.set(row, spec.params);
  }
  return out.sort(
    (a, b) =>
      cmpStr(a.strategy, b.strategy) || cmpStr(a.venue, b.venue) || cmpParams(paramsOf.get(a)!, paramsOf.get(b)!) || cmpStr(a.paramsLabel, b.paramsLabel) || cmpStr(a.dataLabel, b.dataLabel) || setupRank(a.setup) - setupRank(b.setup),
  );
}

export interface ModeTotals {
  mode: SetupId;
  runs: number;
  liquidations: number;
  runsLiquidated: number;
  nearMisses: number;
}

/** Per-mode totals over ok runs (integer counts). */
export function modeTotals(results: readonly RunResult[]): ModeTotals[] {
  const by = new Map<SetupId, ModeTotals>();
  for (const r of results) {
    if (r.status !== 'ok') continue;
    const mode = r.spec.setup as SetupId;
    let t = by.get(mode);
    if (!t) by.set(mode, (t = { mode, runs: 0, liquidations: 0, runsLiquidated: 0, nearMisses: 0 }));
    const liq = r.metrics.liquidations ?? 0;
    t.runs += 1;
    t.liquidations += Math.round(liq);
    t.runsLiquidated += liq > 0 ? 1 : 0;
    t.nearMisses += Math.round(r.metrics.nearMisses ?? 0);
  }
  return [...by.values()].sort((a, b) => setupRank(a.mode) - setupRank(b.mode));
}
