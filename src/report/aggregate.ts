/**
 * Aggregation with danfo.js (imported lazily: ~2 s). One row per run; grouped for the leverage
 * sweep and the per-mode totals. danfo stores numbers as 32-bit-typed columns in places, so
 * grouping here works on exact integer codes (leverage index, counts), never on float values.
 */
import type { DataFrame } from 'danfojs';
import { METRICS } from '../analysis/index.js';
import type { RunResult } from '../shard/types.js';
import { canonicalJson } from '../shard/hash.js';
import { cmpStr, SETUP_ORDER, sweepKey, type SetupId, type SweepRow } from './model.js';
import { paramsLabel } from './format.js';

type Danfo = typeof import('danfojs');
let danfoPromise: Promise<Danfo> | null = null;

/** danfo.js, imported once per process. */
export function loadDanfo(): Promise<Danfo> {
  danfoPromise ??= import('danfojs');
  return danfoPromise;
}

export type RunRow = Record<string, string | number | boolean>;

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
      dataset: r.spec.dataset,
      timeframe: r.spec.timeframe,
      symbols: r.spec.symbols.join(' '),
      bars: r.bars,
    };
    for (const m of METRICS) {
      const v = r.metrics[m.id];
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
    const columns = ['runId', 'status', 'strategy', 'params', 'venue', 'mode', 'leverage', 'dataset', 'timeframe', 'symbols', 'bars', ...METRICS.map((m) => m.id)];
    return new dfd.DataFrame([], { columns });
  }
  return new dfd.DataFrame(rows);
}

/**
 * Highest leverage with zero liquidations and lowest leverage with any, per strategy
 * configuration (everything but leverage) and mode, over ok runs.
 */
export async function leverageSweep(results: readonly RunResult[]): Promise<SweepRow[]> {
  const ok = results.filter((r) => r.status === 'ok');
  if (ok.length === 0) return [];
  const dfd = await loadDanfo();
  const keyOf = ok.map((r) => sweepKey(r.spec)); // canonical JSON: once per run
  const keys = [...new Set(keyOf)].sort();
  const keyIndex = new Map(keys.map((k, i) => [k, i]));
  const code = keyOf.map((k) => keyIndex.get(k)!);
  const levs = [...new Set(ok.map((r) => r.spec.leverage))].sort((a, b) => a - b);
  const rows = ok.map((r, i) => ({
    key: code[i]!,
    mode: r.spec.setup,
    lev: levs.indexOf(r.spec.leverage),
    liq: (r.metrics.liquidations ?? 0) > 0 ? 1 : 0,
  }));
  const df = new dfd.DataFrame(rows);
  const groupMap = async (liquidated: 0 | 1, how: 'max' | 'min'): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    const sub = df.query(df['liq'].eq(liquidated));
    if (sub.shape[0] === 0) return out;
    const g = sub.groupby(['key', 'mode']).col(['lev']);
    const res = how === 'max' ? g.max() : g.min();
    for (const row of res.values as (string | number)[][]) out.set(`${row[0]}|${row[1]}`, Number(row[2]));
    return out;
  };
  const safe = await groupMap(0, 'max');
  const liquidated = await groupMap(1, 'min');

  const groups = new Map<string, RunResult[]>();
  ok.forEach((r, i) => {
    const g = `${code[i]}|${r.spec.setup}`;
    const list = groups.get(g);
    if (list) list.push(r);
    else groups.set(g, [r]);
  });
  const out: SweepRow[] = [];
  for (let k = 0; k < keys.length; k++) {
    for (const mode of SETUP_ORDER) {
      const runs = groups.get(`${k}|${mode}`);
      if (!runs) continue;
      const spec = runs[0]!.spec;
      const s = safe.get(`${k}|${mode}`);
      const l = liquidated.get(`${k}|${mode}`);
      out.push({
        strategy: spec.strategy,
        paramsLabel: paramsLabel(spec.params),
        venue: spec.venue,
        setup: mode as SetupId,
        leverages: [...new Set(runs.map((r) => r.spec.leverage))].sort((a, b) => a - b),
        maxSafeLeverage: s === undefined ? null : levs[s]!,
        minLiquidatedLeverage: l === undefined ? null : levs[l]!,
      });
    }
  }
  return out.sort(
    (a, b) =>
      cmpStr(a.strategy, b.strategy) || cmpStr(a.venue, b.venue) || cmpStr(a.paramsLabel, b.paramsLabel) || SETUP_ORDER.indexOf(a.setup) - SETUP_ORDER.indexOf(b.setup),
  );
}

export interface ModeTotals {
  mode: SetupId;
  runs: number;
  liquidations: number;
  runsLiquidated: number;
  nearMisses: number;
}

/** Per-mode totals over ok runs (a danfo groupby of integer columns). */
export async function modeTotals(results: readonly RunResult[]): Promise<ModeTotals[]> {
  const ok = results.filter((r) => r.status === 'ok');
  if (ok.length === 0) return [];
  const dfd = await loadDanfo();
  const df = new dfd.DataFrame(
    ok.map((r) => ({
      mode: r.spec.setup,
      one: 1,
      liq: Math.round(r.metrics.liquidations ?? 0),
      liqd: (r.metrics.liquidations ?? 0) > 0 ? 1 : 0,
      nm: Math.round(r.metrics.nearMisses ?? 0),
    })),
  );
  const g = df.groupby(['mode']).agg({ one: 'sum', liq: 'sum', liqd: 'sum', nm: 'sum' });
  const col = (name: string): number => {
    const i = (g.columns as string[]).indexOf(name);
    if (i < 0) throw new Error(`danfo groupby: missing column ${name} (got ${g.columns.join(', ')})`);
    return i;
  };
  const [cm, c1, cl, cd, cn] = [col('mode'), col('one_sum'), col('liq_sum'), col('liqd_sum'), col('nm_sum')];
  const out: ModeTotals[] = (g.values as (string | number)[][]).map((row) => ({
    mode: row[cm] as SetupId,
    runs: Number(row[c1]),
    liquidations: Number(row[cl]),
    runsLiquidated: Number(row[cd]),
    nearMisses: Number(row[cn]),
  }));
  return out.sort((a, b) => SETUP_ORDER.indexOf(a.mode) - SETUP_ORDER.indexOf(b.mode));
}
