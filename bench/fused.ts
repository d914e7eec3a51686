/**
 * The engine benchmark's reference: the same strategy and account rules as the engine's reference run (bench/engine.ts),
 * fused into one loop over typed arrays. Run in a worker thread of its own (bench/fused-worker.ts): called in the
 * engine's thread, its calls of the venue's and account's shared helpers (maintenanceMargin, tierIndex,
 * isolatedLiquidationPrice, marginRatioOf, LotGrid) between the engine's passes made V8's type feedback for them no
 * longer the engine's alone, which cost the engine ≈ 25 % in the bench (docs/benchmarks.md, stops 59 and 60) and no sweep
 * pays.
 */
import type { MarketData } from '../src/feed/types.js';
import { LotGrid, maintenanceMargin } from '../src/venue/index.js';
import type { Tier, VenueProfile } from '../src/venue/types.js';
import type { MaintenanceModel } from '../src/venue/math.js';
import { marginRatioOf } from '../src/account/index.js';

export const LEVERAGE = 20;
// 1 000 000 USDT: with 10 000 the fee drag takes equity below one BTC quantity step (0.001) about half-way
// through and the strategy stops trading; with 1 000 000 it stays in the market to the end (≈ 26 000 fills per setup;
// no liquidation in stop 60's runs with the data of seed 1 as the generator makes it now, one isolated liquidation at
// earlier stops: the bench compares the counts all the same)
export const CAPITAL = 1_000_000;
export const FAST = 10;
export const SLOW = 50;
export const FRACTION = 0.02;

export interface FusedResult {
  equity: number;
  trades: number;
  liquidations: number;
  /** the same per-bar series the engine produces (SetupSeries without time) */
  series: Record<SeriesKey, Float64Array>;
}

export const SERIES_KEYS = ['equity', 'marginBalance', 'maintenanceMargin', 'marginRatio', 'marginRatioPeak', 'initialMargin', 'capitalAtRisk', 'grossNotional'] as const;
export type SeriesKey = (typeof SERIES_KEYS)[number];

/** margin ratio of a position of signed size q with its wallet at mark m (a plain function: a closure over the loop's state would move q, entry and the wallets out of registers) */
function ratioAt(model: MaintenanceModel, tiers: readonly Tier[], q: number, entry: number, wallet: number, m: number): number {
  return marginRatioOf(maintenanceMargin(model, tiers, Math.abs(q), entry, m), wallet + q * (m - entry));
}

/**
 * The same strategy and account rules as the engine, fused into one loop over typed arrays:
 * SMAs as ring buffers, fills at the next open with the taker fee, funding from the CSR arrays
 * (isolated: into the position's wallet, Binance), liquidation when the mark path crosses the
 * venue's closed-form price (gap: at the mark open), mark to market at the mark close.
 */
/** the fused loop's output columns per setup and length (reused: fresh arrays page-fault on first write) */
const fusedColumns = new Map<string, Float64Array[]>();

export function fused(data: MarketData, venue: VenueProfile, isolated: boolean, withSeries: boolean): FusedResult {
  const c = data.columns[0]!;
  const { open, close, fundingStart, fundingRate, fundingPrice } = c;
  const useMark = c.markAtBarTimeframe;
  const mOpen = useMark ? c.markOpen : c.open;
  const mLow = useMark ? c.markLow : c.low;
  const mHigh = useMark ? c.markHigh : c.high;
  const mClose = useMark ? c.markClose : c.close;
  const tiers = venue.tiers(c.symbol, data.time[0]!);
  const taker = venue.fees.taker;
  // the engine's quantity grid (orders rounded down to the step, positions whole steps)
  const grid = new LotGrid(venue.lotSize!(c.symbol, c.close[0]).step);
  const n = data.time.length;
  const fb = new Float64Array(FAST);
  const sb = new Float64Array(SLOW);
  let fs = 0;
  let ss = 0;
  let fp = 0;
  let sp = 0;
  let cnt = 0;
  let cw = CAPITAL; // cross wallet
  let iw = 0; // isolated wallet
  let q = 0;
  let entry = 0;
  let lp = NaN;
  let pending = 0; // order quantity for the next open
  let signal = 0;
  let equity = CAPITAL;
  let trades = 0;
  let liquidations = 0;
  // the per-bar outputs, as the engine records them
  // output columns reused from run to run, as the engine's SeriesPool reuses its own
  const key = `${isolated}:${n}`;
  const cols = withSeries ? (fusedColumns.get(key) ?? Array.from({ length: 8 }, () => new Float64Array(n))) : Array.from({ length: 8 }, () => new Float64Array(0));
  if (withSeries) fusedColumns.set(key, cols);
  const [sEq, sMb, sMm, sMr, sPeak, sIm, sCap, sGross] = cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  const mmModel = venue.maintenance ?? { basis: 'mark' as const, extraRate: 0 };
  let liquidated = false;
  /** the bar's ratios at points its close and adverse extreme do not cover (held into a fill at the open, at the liquidation) */
  let extra = 0;
  const liqPrice = () => {
    if (q === 0) return NaN;
    return venue.isolatedLiquidationPrice({
      side: q > 0 ? 1 : -1,
      qty: Math.abs(q),
      entryPrice: entry,
      walletBalance: isolated ? iw : cw,
      leverage: LEVERAGE,
      tiers,
    });
  };
  for (let i = 0; i < n; i++) {
    // 1. funding
    for (let e = fundingStart[i]!; e < fundingStart[i + 1]!; e++) {
      if (q === 0) break;
      const rec = -q * fundingPrice[e]! * fundingRate[e]!;
      if (isolated) iw += rec;
      else cw += rec;
      lp = liqPrice();
    }
    // 2. market order at the open
    if (pending !== 0) {
      // quantities in whole steps (lots), as the account holds them
      const dL = grid.lots(pending, 'nearest');
      const qL = grid.lots(q, 'nearest');
      const d = grid.qty(dL);
      pending = 0;
      const p = open[i]!;
      // the position held into the open, valued at the (mark) open before the fill changes it
      if (withSeries && q !== 0) extra = ratioAt(mmModel, tiers, q, entry, isolated ? iw : cw, mOpen[i]!);
      let openL = Math.abs(dL);
      if (qL !== 0 && qL > 0 !== dL > 0) {
        const closeL = Math.min(Math.abs(dL), Math.abs(qL));
        openL -= closeL;
        const closeQ = grid.qty(closeL);
        const sgn = q > 0 ? 1 : -1;
        cw += closeQ * (p - entry) * sgn;
        if (closeL === Math.abs(qL)) {
          q = 0;
          cw += iw;
          iw = 0;
        } else {
          const rel = iw * (closeL / Math.abs(qL));
          cw += rel;
          iw -= rel;
          q = grid.qty(qL - sgn * closeL);
        }
      }
      if (openL > 0) {
        const sgn = dL > 0 ? 1 : -1;
        const openQ = grid.qty(openL);
        entry = q === 0 ? p : (Math.abs(q) * entry + openQ * p) / (Math.abs(q) + openQ);
        q = grid.qty(grid.lots(q, 'nearest') + sgn * openL);
        if (isolated) {
          const im = (openQ * p) / LEVERAGE;
          cw -= im;
          iw += im;
        }
      }
      cw -= Math.abs(d) * p * taker;
      trades++;
      lp = liqPrice();
    }
    // 3. liquidation on the mark path
    if (q !== 0) {
      const hit = q > 0 ? mLow[i]! <= lp : mHigh[i]! >= lp;
      if (hit) {
        const mo = mOpen[i]!;
        const px = q > 0 ? (mo < lp ? mo : lp) : mo > lp ? mo : lp;
        // the pool closes at px and the trader loses its remaining margin (a shortfall past the
        // bankruptcy price is the insurance fund's): what is left is the rest of the wallet
        if (withSeries) {
          const r = ratioAt(mmModel, tiers, q, entry, isolated ? iw : cw, px);
          extra = r > extra ? r : extra;
          if (extra < 1) extra = 1;
        }
        if (isolated) iw = 0;
        else cw = 0;
        q = 0;
        lp = NaN;
        liquidations++;
        liquidated = true;
      }
    }
    // 4. mark to market at the mark close; the margin ratio also at the bar's adverse mark extreme
    if (!withSeries) {
      equity = cw + iw + (q === 0 ? 0 : q * (mClose[i]! - entry));
    } else if (q === 0) {
      equity = cw + iw;
      sEq[i] = equity;
      sMb[i] = 0;
      sMm[i] = 0;
      sMr[i] = 0;
      sIm[i] = 0;
      sCap[i] = 0;
      sGross[i] = 0;
      sPeak[i] = extra;
    } else {
      const aq = Math.abs(q);
      const m = mClose[i]!;
      const upnl = q * (m - entry);
      const mm = maintenanceMargin(mmModel, tiers, aq, entry, m);
      const nt = aq * m;
      const wallet = isolated ? iw : cw;
      const mb = wallet + upnl;
      const ratio = marginRatioOf(mm, mb);
      const ma = q > 0 ? mLow[i]! : mHigh[i]!;
      const mmA = maintenanceMargin(mmModel, tiers, aq, entry, ma);
      const mbA = wallet + q * (ma - entry);
      const ratioA = marginRatioOf(mmA, mbA);
      equity = cw + iw + upnl;
      sEq[i] = equity;
      sMb[i] = mb;
      sMm[i] = mm;
      sMr[i] = ratio;
      sIm[i] = nt / LEVERAGE;
      sCap[i] = isolated ? iw : mb;
      sGross[i] = nt;
      let peak = ratioA > ratio ? ratioA : ratio;
      if (extra > peak) peak = extra;
      if (liquidated && peak < 1) peak = 1;
      sPeak[i] = peak;
    }
    liquidated = false;
    extra = 0;
    // 5. strategy: SMA 10/50, always in the market
    const x = close[i]!;
    if (cnt < SLOW) {
      sb[sp] = x;
      ss += x;
      if (cnt < FAST) {
        fb[fp] = x;
        fs += x;
      } else {
        fs += x - fb[fp]!;
        fb[fp] = x;
      }
      cnt++;
    } else {
      ss += x - sb[sp]!;
      sb[sp] = x;
      fs += x - fb[fp]!;
      fb[fp] = x;
    }
    // as the library's Sma: each window replaced whole, its sum again from its values
    if (sp + 1 === SLOW) {
      sp = 0;
      ss = 0;
      for (let k = 0; k < SLOW; k++) ss += sb[k]!;
    } else sp++;
    if (fp + 1 === FAST) {
      fp = 0;
      fs = 0;
      for (let k = 0; k < FAST; k++) fs += fb[k]!;
    } else fp++;
    if (cnt < SLOW) continue;
    const f = fs / FAST;
    const s = ss / SLOW;
    const want = f > s ? 1 : f < s ? -1 : signal;
    if (want === 0) continue;
    if (want === signal && q !== 0) continue;
    signal = want;
    if (!(equity > 0)) continue;
    const qty = (FRACTION * equity * LEVERAGE) / x;
    const d = grid.floor(grid.floor(want * qty) - q);
    if (d !== 0) pending = d;
  }
  return {
    equity,
    trades,
    liquidations,
    series: { equity: sEq, marginBalance: sMb, maintenanceMargin: sMm, marginRatio: sMr, marginRatioPeak: sPeak, initialMargin: sIm, capitalAtRisk: sCap, grossNotional: sGross },
  };
}
