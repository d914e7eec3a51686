/**
 * The read-only market state of one replay, shared by every setup (the feed's columns, the
 * liquidation source per symbol, close marks advanced bar by bar, the quantity grids), and the
 * per-setup series buffers.
 */
import type { MarkSnapshot } from '../account/types.js';
import type { SymbolColumns } from '../feed/types.js';
import { LotGrid, type LotSize } from '../venue/lots.js';
import type { VenueProfile } from '../venue/types.js';
import { lowerBound } from '../util/typed-array.js';
import type { ExecutionOptions, SetupSeries } from './types.js';
import { freezeClass } from '../util/freeze.js';

export function newSnapshot(): MarkSnapshot {
  return {
    equity: 0,
    marginBalance: 0,
    maintenanceMargin: 0,
    marginRatio: 0,
    initialMargin: 0,
    capitalAtRisk: 0,
    grossNotional: 0,
    available: 0,
  };
}

/** Shared, read-only market state of one replay (identical for every setup). */
export class Market {
  readonly n: number;
  readonly cols: SymbolColumns[];
  readonly time: Float64Array;
  /** time.length, read once here, before any strategy code runs (see context.ts typedLength) */
  readonly timeLength: number;
  readonly tf: number;
  /** liquidation uses mark candles for symbol s */
  readonly liqMark: Uint8Array;
  /** liquidation-source low / high per symbol (mark candles when liqMark, else trade); a NaN entry falls back to the trade price */
  readonly lqLow: Float64Array[];
  readonly lqHigh: Float64Array[];
  readonly tradeLow: Float64Array[];
  readonly tradeHigh: Float64Array[];
  /** mark close, falling back to the trade close, per symbol (history view and mark to market) */
  readonly markClose: Float64Array[];
  /** mark-to-market price of each symbol at the current bar's close (last known when absent) */
  readonly closeMarks: Float64Array;
  /** last known mark of each symbol up to the current bar's open (used for absent symbols) */
  readonly lastMarks: Float64Array;
  /** quantity grid per symbol (orders are rounded down to it) */
  readonly grids: LotGrid[];
  /**
   * per symbol, the funding events' CSR start index per bar (the bar step reads it every bar: held
   * here, in one array of one shape, rather than through column objects whose shapes differ
   * between a loaded dataset and a stress view — that made V8 deoptimise the bar step)
   */
  readonly fundingStart: SymbolColumns['fundingStart'][];
  /**
   * each symbol's rank among the run's symbols by name: funding stamps of the same time settle in this
   * order, so which wallet pays when the available balance runs short does not follow the order the
   * strategy lists its symbols in
   */
  readonly nameRank: Int32Array;
  /**
   * which prices the liquidation checks of the replayed bars [from, to) use (counted once, here):
   * 'mark' when every symbol's bar with a price has a mark candle, 'trade' when none has, else 'mixed'
   */
  readonly liquidationPriceSource: 'mark' | 'trade' | 'mixed';
  constructor(
    cols: SymbolColumns[],
    time: Float64Array,
    tf: number,
    readonly exec: ExecutionOptions,
    readonly lots: readonly LotSize[],
    from = 0,
    to = time.length,
    /** the replayed bars at whose open a later dated tier table takes effect, ascending (tierSwitchBars) */
    readonly tierBars: Int32Array = new Int32Array(0),
  ) {
    this.grids = lots.map((l) => new LotGrid(l.step));
    this.n = cols.length;
    this.cols = cols;
    this.time = time;
    this.timeLength = time.length;
    this.tf = tf;
    this.liqMark = new Uint8Array(this.n);
    this.markClose = cols.map((c, s) => {
      if (!c.markAtBarTimeframe) return c.close;
      this.liqMark[s] = 1;
      // complete mark data is read as it is: a copy is fresh memory, whose first writes page-fault
      // (≈ 35 ms per million bars on the 2-core VM, more than a quiet replay's bar step of a symbol)
      if (!hasNaN(c.markClose)) return c.markClose;
      const out = new Float64Array(c.close.length);
      for (let i = 0; i < out.length; i++) {
        const m = c.markClose[i]!;
        out[i] = m === m ? m : c.close[i]!;
      }
      return out;
    });
    this.lqLow = cols.map((c) => (c.markAtBarTimeframe ? c.markLow : c.low));
    this.lqHigh = cols.map((c) => (c.markAtBarTimeframe ? c.markHigh : c.high));
    this.tradeLow = cols.map((c) => c.low);
    this.fundingStart = cols.map((c) => c.fundingStart);
    this.nameRank = new Int32Array(this.n);
    cols
      .map((c, s) => ({ name: c.symbol, s }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.s - b.s))
      .forEach((x, r) => (this.nameRank[x.s] = r));
    this.tradeHigh = cols.map((c) => c.high);
    this.closeMarks = new Float64Array(this.n).fill(NaN);
    this.lastMarks = new Float64Array(this.n).fill(NaN);
    this.liquidationPriceSource = liquidationSourceOf(cols, this.liqMark, from, to);
  }

  /** seed last marks with the most recent price before `from` */
  seed(from: number): void {
    for (let s = 0; s < this.n; s++) {
      const mc = this.markClose[s]!;
      for (let i = from - 1; i >= 0; i--) {
        const v = mc[i]!;
        if (v === v) {
          this.lastMarks[s] = v;
          this.closeMarks[s] = v;
          break;
        }
      }
    }
  }

  /**
   * funding stamps of all symbols in the current bar (advance sets it): the bar step settles funding
   * only when there are some, so the settling code is off the path of the other ≈ 479 of 480 one-minute
   * bars (and out of V8's inlining budget for the bar step, which it spent there before the
   * strategy's own calls: their doubles were then boxed on every bar)
   */
  fundingStamps = 0;

  /** advance close marks to bar i (call after every setup finished bar i-1) */
  advance(i: number): void {
    let stamps = 0;
    for (let s = 0; s < this.n; s++) {
      this.lastMarks[s] = this.closeMarks[s]!;
      const v = this.markClose[s]![i]!;
      if (v === v) this.closeMarks[s] = v;
      const fs = this.fundingStart[s]!;
      stamps += fs[i + 1]! - fs[i]!;
    }
    this.fundingStamps = stamps;
  }
}

/** whether a column holds a NaN (a scan: ≈ 1 ms per million values, stopping at the first) */
function hasNaN(a: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v !== v) return true;
  }
  return false;
}

/**
 * The bars of [from, to) at whose open a later dated tier table of `venue` takes effect: for each
 * `venue.tierChanges` date after the first bar's open, the first bar opening at or after it
 * (ascending, each bar once). Empty when the venue has no dated tables.
 */
export function tierSwitchBars(venue: VenueProfile, time: Float64Array, from: number, to: number): Int32Array {
  if (to - from < 2 || venue.tierChanges === undefined) return new Int32Array(0);
  const dates = venue.tierChanges(time[from]!, time[to - 1]!);
  const out: number[] = [];
  for (let d = 0; d < dates.length; d++) {
    const i = lowerBound(time, dates[d]!, from + 1);
    if (i < to && (out.length === 0 || out[out.length - 1]! < i)) out.push(i);
  }
  return Int32Array.from(out);
}

/**
 * The liquidation price source of bars [from, to): a symbol's bar is checked on its mark candle
 * when liqMark is set and the mark open is a number (src/engine/intrabar.ts), else on its trade
 * candle when it has one. With no such bar at all (an empty range) the per-symbol flags decide.
 */
export function liquidationSourceOf(cols: readonly SymbolColumns[], liqMark: Uint8Array, from: number, to: number): 'mark' | 'trade' | 'mixed' {
  let mark = 0, trade = 0;
  for (let s = 0; s < cols.length; s++) {
    const c = cols[s]!;
    const present = c.present;
    if (liqMark[s] === 1) {
      const mo = c.markOpen;
      for (let i = from; i < to; i++) {
        if (mo[i]! === mo[i]!) mark++;
        else if (present[i] === 1) trade++;
      }
    } else {
      for (let i = from; i < to && trade === 0; i++) if (present[i] === 1) trade++;
    }
  }
  if (mark === 0 && trade === 0) {
    let flags = 0;
    for (let s = 0; s < liqMark.length; s++) flags += liqMark[s]!;
    return flags === liqMark.length ? 'mark' : flags === 0 ? 'trade' : 'mixed';
  }
  return trade === 0 ? 'mark' : mark === 0 ? 'trade' : 'mixed';
}

export function allocSeries(time: Float64Array, pool?: SeriesPool): SetupSeries {
  const n = time.length;
  const col = pool ? (): Float64Array => pool.take(n) : (): Float64Array => new Float64Array(n);
  return {
    time,
    equity: col(),
    marginBalance: col(),
    maintenanceMargin: col(),
    marginRatio: col(),
    marginRatioPeak: col(),
    initialMargin: col(),
    capitalAtRisk: col(),
    grossNotional: col(),
  };
}

/**
 * Reusable buffers for the per-bar series, for a caller that is done with a replay's series before
 * it starts the next one (the sweep's workers: metrics and curves are computed, then the series are
 * released). A fresh 8 MB Float64Array is fresh memory: the first write to each page faults, which
 * on the 2-vCPU machine cost about as much as writing the series itself, and its release returns
 * the pages to the OS only for the next run to fault them in again. Taken columns are views of
 * exactly the asked length; their contents are whatever the last user left (the engine writes every
 * row it reports). Nothing here is shared between threads.
 */
export class SeriesPool {
  private readonly free: Float64Array[] = [];

  /** a column of length n (a view of a pooled buffer with room for n, else a new one) */
  take(n: number): Float64Array {
    let best = -1;
    for (let k = 0; k < this.free.length; k++) {
      const cap = this.free[k]!.length;
      if (cap >= n && (best < 0 || cap < this.free[best]!.length)) best = k;
    }
    if (best < 0) {
      // outgrown: free buffers too small for this run are unlikely to fit the next ones either
      for (let k = this.free.length - 1; k >= 0; k--) if (this.free[k]!.length < n) this.free.splice(k, 1);
      return new Float64Array(n);
    }
    const buf = this.free.splice(best, 1)[0]!;
    return buf.length === n ? buf : new Float64Array(buf.buffer, buf.byteOffset, n);
  }

  /** a pooled copy of `src` (the replayed bars' times: a fresh copy would page-fault as a fresh column does) */
  copy(src: Float64Array): Float64Array {
    const out = this.take(src.length);
    out.set(src);
    return out;
  }

  /** gives back the columns of `s` (its time too: the setups of one replay share it, and a buffer is kept once) */
  release(s: SetupSeries): void {
    for (const c of [s.time, s.equity, s.marginBalance, s.maintenanceMargin, s.marginRatio, s.marginRatioPeak, s.initialMargin, s.capitalAtRisk, s.grossNotional]) {
      const whole = new Float64Array(c.buffer, 0, c.buffer.byteLength / 8);
      if (!this.free.some((f) => f.buffer === c.buffer)) this.free.push(whole);
    }
    // at most MAX_FREE buffers kept (the largest): a worker serving mixed sizes does not hoard them
    if (this.free.length > SeriesPool.MAX_FREE) {
      this.free.sort((a, b) => b.length - a.length);
      this.free.length = SeriesPool.MAX_FREE;
    }
  }

  /** buffers kept at most: 8 columns × 4 setups and their time */
  static readonly MAX_FREE = 33;
}

export function truncateSeries(s: SetupSeries, n: number): SetupSeries {
  return {
    time: s.time.subarray(0, n),
    equity: s.equity.subarray(0, n),
    marginBalance: s.marginBalance.subarray(0, n),
    maintenanceMargin: s.maintenanceMargin.subarray(0, n),
    marginRatio: s.marginRatio.subarray(0, n),
    marginRatioPeak: s.marginRatioPeak.subarray(0, n),
    initialMargin: s.initialMargin.subarray(0, n),
    capitalAtRisk: s.capitalAtRisk.subarray(0, n),
    grossNotional: s.grossNotional.subarray(0, n),
  };
}

// one per worker, reachable from a strategy (through createAccount, the context or the package entry):
// frozen so that a strategy changing it cannot change the later runs of its worker (src/engine/context.ts)
freezeClass(SeriesPool);
