/**
 * Data of report.html's price chart for one configuration: per traded symbol the close price
 * (downsampled, extremes kept), and per setup the entries, exits and liquidations as markers at
 * their fill / close prices and the liquidation price over time (a step line; null = flat).
 * Everything comes from the stored results (prices, events, liquidationPrices), an errored run's
 * up to where it failed. Large series are
 * thinned to the page's point budget: price and liquidation-price lines keep each bucket's
 * extremes; markers are thinned evenly (liquidations never) and the count left out is reported.
 */
import { downsampleIndices } from '../analysis/curves.js';
import type { RunResult } from '../shard/types.js';
import type { SetupId } from '../engine/setups.js';
import { timeframeMsOrNaN } from '../feed/timeframe.js';

/**
 * Where a bar's close is drawn: its time (a result's curves stamp bar i with its open) + the timeframe. Drawn at
 * the open, every close sat one bar early against the fills and liquidations, which are at their own times (a
 * daily buy-and-hold's entry fill at 05-23 00:00 over that day's close, 4 % off the line).
 */
export function closeTimeShift(r: Pick<RunResult, 'spec'>): number {
  const tf = timeframeMsOrNaN(r.spec.timeframe);
  return Number.isFinite(tf) ? tf : 0;
}

type Point = [number, number];
type MaybePoint = [number, number | null];

export interface PriceMarks {
  entry: Point[];
  exit: Point[];
  liq: Point[];
  /** fill markers left out by thinning */
  omitted: number;
}

export interface PricePanelRun {
  mode: SetupId;
  /** an errored run's markers and liquidation price stop where it failed (the page names it so) */
  status: RunResult['status'];
  /** per symbol */
  marks: Record<string, PriceMarks>;
  /** per symbol: the liquidation price as [time, price | null] steps, ending at the last bar */
  lp: Record<string, MaybePoint[]>;
}

export interface PricePanel {
  symbols: string[];
  t: number[];
  close: Record<string, (number | null)[]>;
  runs: PricePanelRun[];
}

/** every k-th element so that at most `max` remain (first and last kept) */
function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const out: T[] = [];
  const step = (xs.length - 1) / (max - 1);
  for (let k = 0; k < max; k++) out.push(xs[Math.round(k * step)]!);
  return out;
}

/** a step series thinned to ~max points, keeping each bucket's extremes and every switch to or from null */
function thinSteps(time: readonly number[], price: readonly (number | null)[], max: number): MaybePoint[] {
  const n = Math.min(time.length, price.length);
  const v = Float64Array.from({ length: n }, (_, i) => price[i] ?? Number.NaN);
  const keep = new Set(downsampleIndices(n, Math.max(8, max), { min: [v], max: [v] }));
  for (let i = 1; i < n; i++) if ((price[i] === null) !== (price[i - 1] === null)) keep.add(i).add(i - 1);
  return [...keep].sort((a, b) => a - b).map((i) => [time[i]!, price[i] ?? null]);
}

export function pricePanel(runs: readonly [SetupId, RunResult][], maxPoints: number): PricePanel | null {
  // the price line of the run that covers the most bars: an errored run's prices stop where it
  // failed, so an ok run's (the whole window) are taken before it whatever the setup order
  let withPrices: readonly [SetupId, RunResult] | undefined;
  for (const x of runs) if (x[1].prices && x[1].prices.time.length > (withPrices?.[1].prices!.time.length ?? 0)) withPrices = x;
  if (!withPrices) return null;
  const prices = withPrices[1].prices!;
  const symbols = withPrices[1].spec.symbols.filter((s) => prices.close[s]);
  // the price line: thinned again to the page budget, extremes of every symbol kept
  const n = prices.time.length;
  const cols = symbols.map((s) => Float64Array.from(prices.close[s]!, (x) => x ?? Number.NaN));
  const idx = downsampleIndices(n, Math.max(8, maxPoints), { min: cols, max: cols });
  const shift = closeTimeShift(withPrices[1]);
  const t = idx.map((i) => prices.time[i]! + shift);
  const close: Record<string, (number | null)[]> = {};
  for (const s of symbols) close[s] = idx.map((i) => prices.close[s]![i] ?? null);
  const end = prices.time[n - 1]! + shift;
  const markerBudget = Math.max(100, Math.floor(maxPoints / 2));

  const panelRuns: PricePanelRun[] = runs
    .map(([mode, r]) => {
      const marks: Record<string, PriceMarks> = {};
      for (const s of symbols) marks[s] = { entry: [], exit: [], liq: [], omitted: 0 };
      const pos = new Map<string, number>();
      for (const e of r.events) {
        if (e.type === 'fill') {
          const m = marks[e.symbol];
          const after = e.positionQty;
          const before = pos.get(e.symbol) ?? after - (e.side === 'buy' ? e.qty : -e.qty);
          pos.set(e.symbol, after);
          if (!m) continue;
          const flips = before !== 0 && after !== 0 && Math.sign(before) !== Math.sign(after);
          if (flips || Math.abs(after) < Math.abs(before)) m.exit.push([e.time, e.price]);
          if (flips || Math.abs(after) > Math.abs(before)) m.entry.push([e.time, e.price]);
        } else if (e.type === 'liquidation') {
          for (const l of e.legs) {
            pos.set(l.symbol, 0);
            marks[l.symbol]?.liq.push([e.time, l.closePrice]);
          }
        }
      }
      for (const s of symbols) {
        const m = marks[s]!;
        const before = m.entry.length + m.exit.length;
        m.entry = thin(m.entry, markerBudget);
        m.exit = thin(m.exit, markerBudget);
        m.omitted = before - m.entry.length - m.exit.length;
      }
      const lp: Record<string, MaybePoint[]> = {};
      for (const s of symbols) {
        const steps = r.liquidationPrices?.[s];
        if (!steps || steps.time.length === 0) {
          lp[s] = [];
          continue;
        }
        const pts = thinSteps(steps.time, steps.price, maxPoints);
        const last = pts[pts.length - 1]!;
        // held to the last bar; an errored run's line stops at its last step (it replayed no further)
        if (r.status === 'ok' && last[1] !== null && last[0] < end) pts.push([end, last[1]]);
        lp[s] = pts;
      }
      return { mode, status: r.status, marks, lp };
    });
  return { symbols, t, close, runs: panelRuns };
}
