/**
 * The metrics registry (DESIGN §7). Every metric is defined once here (id, title with unit,
 * tags, direction, format, compute) and used by every report; definitions with formulas are in
 * docs/metrics.md.
 *
 * Conventions: a metric's value is in the unit its title names (percentages as percent, e.g.
 * 12.5 = 12.5 %; money in the quote currency; durations in days). Annualisation uses a 365-day
 * year. `null` means undefined for this run (e.g. Sharpe of a flat curve), never 0.
 * Per-bar returns are r_i = E_i / E_{i−1} − 1 with E_{−1} = initial capital, E_i = equity at the
 * close of bar i.
 */
import { decimalDiff, decimalPctChange, liquidationLossU, toU, uToNumber, type U } from './money.js';
import type { SetupOutput } from '../engine/types.js';
import { UNIT_DP } from '../account/fixed.js';
import type { RunEventRecord } from '../shard/result-schema.js';
import { setupItems } from '../shard/records.js';
import { closedTradePnls, recordItems, type LedgerItems } from './trades.js';
import { deepFreeze } from '../util/freeze.js';
import { parseDecimalText } from '../util/decimal-text.js';
import { shownValue } from '../util/excerpt.js';

export { reconstructTrades, closedTrades, type RoundTrip, type ExitReason } from './trades.js';
export { buildCurves, buildPriceCurves, downsampleIndices } from './curves.js';

export const YEAR_MS = 365 * 86_400_000;
export const DAY_MS = 86_400_000;

/**
 * Shortest window, in days, over which a return is annualised (CAGR, Calmar, capital
 * efficiency). An annual rate from a shorter window extrapolates a few weeks' outcome to a year
 * (60 days at −7 % reads −35 %/yr linear, more compounded) and says nothing the period figure
 * does not say better; those metrics are null below it and reports show the period figures
 * (total return, return on capital at risk) with the reason. Volatility, Sharpe and Sortino are
 * not extrapolations of an outcome but √time scalings of per-bar statistics, and stay
 * annualised. docs/metrics.md § Annualisation.
 */
export const MIN_ANNUALISE_DAYS = 365;

/** True when a window of `years` is long enough to annualise a return over it. */
export const canAnnualise = (years: number): boolean => years * 365 >= MIN_ANNUALISE_DAYS - 1e-9;

export type MetricTag = 'core' | 'perp' | 'margin';
export type MetricFormat = 'pct' | 'money' | 'int' | 'ratio' | 'days';
export type MetricUnit = '%' | '%/yr' | 'quote' | 'count' | 'ratio' | 'days';

export interface MetricsInput {
  output: SetupOutput;
  /** initial deposit in quote currency: a number, or a decimal string as `replay()` takes it ("10000") */
  initialCapital: number | string;
  /** bar length in ms */
  timeframeMs: number;
  symbols: string[];
  /** the output's events as result records, when the caller already has them (default: converted here) */
  records?: readonly RunEventRecord[];
}

/** MetricsInput with the initial deposit as a number (a decimal string read) */
export interface ReadMetricsInput extends MetricsInput {
  initialCapital: number;
}

/** Derived quantities shared by the metrics of one run (computed once). */
export interface MetricContext {
  input: ReadMetricsInput;
  /** number of bars */
  n: number;
  /** covered span in years (n × timeframe / 365 d) */
  years: number;
  barsPerYear: number;
  /** mean and sample stdev of the bar returns (NaN when undefined) */
  returnMean: number;
  returnStdev: number;
  /** downside deviation √(Σ min(r, 0)² ÷ n) of the bar returns (NaN without bars) */
  downsideDev: number;
  /** time-averages of initial margin and capital at risk over all bars (NaN without bars) */
  initialMarginAvg: number;
  capitalAtRiskAvg: number;
  /** largest initial margin and largest intrabar margin ratio at a bar (−∞ without bars) */
  initialMarginMax: number;
  marginRatioPeakMax: number;
  /** percentages of bars: gross notional > 0; close margin ratio ≥ 0.6 and ≥ 0.8 (null without bars) */
  exposedPct: number | null;
  above60Pct: number | null;
  above80Pct: number | null;
  finalEquity: number;
  netPnl: number;
  maxDrawdown: number;
  /** longest underwater stretch in bars */
  maxDrawdownBars: number;
  /** net PnL of each closed round trip, in close order (./trades.ts) */
  tradePnls: number[];
  /** sums over events (exact BigInt sums, ./money.ts, converted once) */
  ledger: {
    fees: number;
    fundingPaid: number;
    fundingReceived: number;
    fundingNet: number;
    liquidations: number;
    liquidationLoss: number;
    liquidationPenalty: number;
    insuranceShortfall: number;
    liquidationTimes: number[];
  };
}

export interface MetricDef {
  id: string;
  /** display title including its unit */
  title: string;
  /** short column label for tables */
  short: string;
  unit: MetricUnit;
  tags: readonly MetricTag[];
  /** true: larger is better; false: smaller is better; null: neither (descriptive) */
  higherIsBetter: boolean | null;
  format: MetricFormat;
  /** one-line definition (the long form is in docs/metrics.md) */
  description: string;
  compute(ctx: MetricContext): number | null;
}

// ---------------------------------------------------------------- helpers

const finite = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** Count maximal runs of bars with marginRatioPeak ≥ threshold that saw no liquidation. */
export function countNearMisses(
  time: ArrayLike<number>,
  peak: ArrayLike<number>,
  liquidationTimes: readonly number[],
  timeframeMs: number,
  threshold = 0.9,
): number {
  let count = 0;
  const n = peak.length;
  let i = 0;
  while (i < n) {
    if (!(peak[i]! >= threshold)) {
      i++;
      continue;
    }
    const start = i;
    while (i + 1 < n && peak[i + 1]! >= threshold) i++;
    const from = time[start]!;
    const to = time[i]! + timeframeMs;
    if (!liquidationTimes.some((t) => t >= from && t < to)) count++;
    i++;
  }
  return count;
}

// ---------------------------------------------------------------- context

/**
 * The equity curve's first pass: Σ of the bar returns (for their mean), the deepest drawdown and the
 * longest stretch under water. Each pass over the bars is a function of its own: one function
 * holding the three loops was compiled by V8 once per loop as each became hot (on-stack
 * replacement, deoptimised on the next loop's missing feedback) — 9 compilations and ≈ 430 ms of
 * TurboFan per worker —, where a small function with one loop is compiled once.
 */
function equityPass(equity: Float64Array, initialCapital: number): { returnSum: number; maxDd: number; maxUnderwater: number } {
  const n = equity.length;
  let returnSum = 0;
  let prev = initialCapital;
  let peak = initialCapital;
  let maxDd = 0;
  let underwaterStart = -1; // bar index where the current underwater stretch started
  let maxUnderwater = 0;
  for (let i = 0; i < n; i++) {
    const e = equity[i]!;
    const r = prev !== 0 ? e / prev - 1 : 0;
    returnSum += r;
    prev = e;
    if (e >= peak) {
      if (underwaterStart >= 0) maxUnderwater = Math.max(maxUnderwater, i - underwaterStart);
      underwaterStart = -1;
      peak = e;
    } else {
      if (underwaterStart < 0) underwaterStart = i;
      const dd = peak > 0 ? 1 - e / peak : 0;
      if (dd > maxDd) maxDd = dd;
    }
  }
  if (underwaterStart >= 0) maxUnderwater = Math.max(maxUnderwater, n - underwaterStart);
  return { returnSum, maxDd, maxUnderwater };
}

/** The returns' squared deviations from their mean and their downside, in one pass (the sums in bar order). */
function deviationPass(equity: Float64Array, initialCapital: number, returnMean: number): { sq: number; down: number } {
  const n = equity.length;
  let sq = 0;
  let down = 0;
  let prev = initialCapital;
  for (let i = 0; i < n; i++) {
    const e = equity[i]!;
    const r = prev !== 0 ? e / prev - 1 : 0;
    prev = e;
    sq += (r - returnMean) ** 2;
    down += Math.min(r, 0) ** 2;
  }
  return { sq, down };
}

/** The margin series in one pass (each was a pass of its own: ≈ 1 ms per 320 k bars apiece). */
function marginPass(s: MetricsInput['output']['series'], n: number): { imSum: number; imMax: number; carSum: number; peakMax: number; exposed: number; above60: number; above80: number } {
  const im = s.initialMargin;
  const car = s.capitalAtRisk;
  const gross = s.grossNotional;
  const mr = s.marginRatio;
  const pk = s.marginRatioPeak;
  let imSum = 0;
  let imMax = -Infinity;
  let carSum = 0;
  let peakMax = -Infinity;
  let exposed = 0;
  let above60 = 0;
  let above80 = 0;
  for (let i = 0; i < n; i++) {
    const a = im[i]!;
    imSum += a;
    if (a > imMax) imMax = a;
    carSum += car[i]!;
    const p = pk[i]!;
    if (p > peakMax) peakMax = p;
    if (gross[i]! > 0) exposed++;
    const r = mr[i]!;
    if (r >= 0.6) above60++;
    if (r >= 0.8) above80++;
  }
  return { imSum, imMax, carSum, peakMax, exposed, above60, above80 };
}

/**
 * The ledger's totals, exact (units of 1e-18), the liquidations' times and the closed trips' net PnL,
 * in one walk over the run's ledger items (its records, or its account's ledger as recorded).
 */
function ledgerPass(items: LedgerItems): { fees: U; fundingPaid: U; fundingReceived: U; liqLoss: U; liqPenalty: U; shortfall: U; liquidations: number; liquidationTimes: number[]; tradePnls: number[] } {
  let fees = 0n;
  let fundingPaid = 0n;
  let fundingReceived = 0n;
  let liqLoss = 0n;
  let liqPenalty = 0n;
  let shortfall = 0n;
  let liquidations = 0;
  const liquidationTimes: number[] = [];
  const tradePnls = closedTradePnls((visit) =>
    items((ev) => {
      if (ev.type === 'fill') fees += ev.fee;
      else if (ev.type === 'funding') {
        const r = ev.amount;
        if (r < 0n) fundingPaid -= r;
        else fundingReceived += r;
      } else {
        liquidations++;
        liquidationTimes.push(ev.time);
        const penalty = toU(ev.penalty);
        const draw = toU(ev.insuranceDraw);
        liqPenalty += penalty;
        // what the wallet lost: the insurance fund's draw covered part of the realised loss
        liqLoss += liquidationLossU(ev);
        shortfall += draw;
      }
      visit(ev);
    }),
  );
  return { fees, fundingPaid, fundingReceived, liqLoss, liqPenalty, shortfall, liquidations, liquidationTimes, tradePnls };
}

/** `x` rounded to the books' unit (UNIT_DP decimals) where a double can say it; as it is beyond (|x| ≥ 1e21, not finite) */
function onUnit(x: number): number {
  return Number.isFinite(x) && Math.abs(x) < 1e21 ? Number(x.toFixed(UNIT_DP)) : x;
}

/** the initial deposit as a number: a decimal string ("10000", as replay() takes it) is read; anything else is a RangeError naming the key */
function readCapital(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? parseDecimalText(v) : null;
  if (n === null || !Number.isFinite(n)) throw new RangeError(`computeMetrics: initialCapital must be a finite number or a decimal string such as "10000" (got ${shownValue(v)})`);
  return n;
}

export function buildContext(raw: MetricsInput): MetricContext {
  const input: ReadMetricsInput = { ...raw, initialCapital: readCapital(raw.initialCapital) };
  const { output, initialCapital, timeframeMs } = input;
  const s = output.series;
  const n = s.equity.length;
  const years = (n * timeframeMs) / YEAR_MS;
  const barsPerYear = YEAR_MS / timeframeMs;

  // the bar returns are not kept: the second pass computes each again, to the same double (a
  // fresh column of n returns page-faulted ≈ 10 ms per 320,000 bars, the largest part of the metrics)
  const { returnSum, maxDd, maxUnderwater } = equityPass(s.equity, initialCapital);
  const returnMean = n ? returnSum / n : NaN;
  const { sq, down } = deviationPass(s.equity, initialCapital, returnMean);
  const { imSum, imMax, carSum, peakMax, exposed, above60, above80 } = marginPass(s, n);
  const pct = (c: number): number | null => (n ? (100 * c) / n : null);
  // the records when the caller has them (the worker's result holds them), else the account's ledger as recorded
  const items = input.records ? recordItems(input.records) : setupItems(output, input.symbols);
  const { fees, fundingPaid, fundingReceived, liqLoss, liqPenalty, shortfall, liquidations, liquidationTimes, tradePnls } = ledgerPass(items);

  // on the books' unit (1e-8 of the quote): the same trades booked under isolated and under cross end on the same
  // wallet, but their float equity sums differ in the last bits (11562.67337086 and 11562.673370859999), which the
  // final equity and the total return printed
  const finalEquity = n > 0 ? onUnit(s.equity[n - 1]!) : initialCapital;
  return {
    input,
    n,
    years,
    barsPerYear,
    returnMean,
    // sample standard deviation (n − 1)
    returnStdev: n < 2 ? NaN : Math.sqrt(sq / (n - 1)),
    downsideDev: n ? Math.sqrt(down / n) : NaN,
    initialMarginAvg: n ? imSum / n : NaN,
    capitalAtRiskAvg: n ? carSum / n : NaN,
    initialMarginMax: imMax,
    marginRatioPeakMax: peakMax,
    exposedPct: pct(exposed),
    above60Pct: pct(above60),
    above80Pct: pct(above80),
    finalEquity,
    netPnl: decimalDiff(finalEquity, initialCapital),
    maxDrawdown: maxDd,
    maxDrawdownBars: maxUnderwater,
    tradePnls,
    ledger: {
      fees: uToNumber(fees),
      fundingPaid: uToNumber(fundingPaid),
      fundingReceived: uToNumber(fundingReceived),
      // the exact difference, converted once (the difference of the two numbers can be off in the last digit)
      fundingNet: uToNumber(fundingReceived - fundingPaid),
      liquidations,
      liquidationLoss: uToNumber(liqLoss),
      liquidationPenalty: uToNumber(liqPenalty),
      insuranceShortfall: uToNumber(shortfall),
      liquidationTimes,
    },
  };
}

function cagr(c: MetricContext): number | null {
  if (c.n === 0 || !canAnnualise(c.years) || c.input.initialCapital <= 0) return null;
  const growth = c.finalEquity / c.input.initialCapital;
  if (growth <= 0) return -100;
  return finite(100 * (growth ** (1 / c.years) - 1));
}

// ---------------------------------------------------------------- registry

export const METRICS: readonly MetricDef[] = deepFreeze<MetricDef[]>([
  {
    id: 'totalReturn', title: 'Total return (%)', short: 'Return', unit: '%', tags: ['core'], higherIsBetter: true, format: 'pct',
    description: 'final equity ÷ initial capital − 1',
    compute: (c) => (c.n && c.input.initialCapital > 0 ? decimalPctChange(c.finalEquity, c.input.initialCapital) : null),
  },
  {
    id: 'netPnl', title: 'Net PnL (quote)', short: 'Net PnL', unit: 'quote', tags: ['core'], higherIsBetter: true, format: 'money',
    description: 'final equity − initial capital',
    compute: (c) => (c.n ? c.netPnl : null),
  },
  {
    id: 'finalEquity', title: 'Final equity (quote)', short: 'Final equity', unit: 'quote', tags: ['core'], higherIsBetter: true, format: 'money',
    description: 'equity (wallet + unrealised PnL) at the close of the last bar',
    compute: (c) => (c.n ? c.finalEquity : null),
  },
  {
    id: 'cagr', title: 'CAGR (%/yr)', short: 'CAGR', unit: '%/yr', tags: ['core'], higherIsBetter: true, format: 'pct',
    description: '(final ÷ initial)^(1/years) − 1, 365-day year; −100 when equity ends ≤ 0; null over a window shorter than 365 days',
    compute: cagr,
  },
  {
    id: 'maxDrawdown', title: 'Max drawdown (%)', short: 'Max DD', unit: '%', tags: ['core'], higherIsBetter: false, format: 'pct',
    description: 'largest fall of close equity from its running peak (peak starts at initial capital)',
    compute: (c) => (c.n ? 100 * c.maxDrawdown : null),
  },
  {
    id: 'maxDrawdownDuration', title: 'Max drawdown duration (days)', short: 'DD days', unit: 'days', tags: ['core'], higherIsBetter: false, format: 'days',
    description: 'longest stretch below a previous equity peak, in days (to recovery or end of data)',
    compute: (c) => (c.n ? (c.maxDrawdownBars * c.input.timeframeMs) / DAY_MS : null),
  },
  {
    id: 'volatility', title: 'Volatility (%/yr)', short: 'Vol', unit: '%/yr', tags: ['core'], higherIsBetter: false, format: 'pct',
    description: 'sample stdev of bar returns × √(bars per year)',
    compute: (c) => finite(100 * c.returnStdev * Math.sqrt(c.barsPerYear)),
  },
  {
    id: 'sharpe', title: 'Sharpe ratio (annualised)', short: 'Sharpe', unit: 'ratio', tags: ['core'], higherIsBetter: true, format: 'ratio',
    description: 'mean bar return ÷ sample stdev × √(bars per year), risk-free rate 0',
    compute: (c) => (c.returnStdev > 0 ? finite((c.returnMean / c.returnStdev) * Math.sqrt(c.barsPerYear)) : null),
  },
  {
    id: 'sortino', title: 'Sortino ratio (annualised)', short: 'Sortino', unit: 'ratio', tags: ['core'], higherIsBetter: true, format: 'ratio',
    description: 'mean bar return ÷ downside deviation √(Σ min(r,0)² ÷ n) × √(bars per year)',
    compute: (c) => (c.n >= 2 && c.downsideDev > 0 ? finite((c.returnMean / c.downsideDev) * Math.sqrt(c.barsPerYear)) : null),
  },
  {
    id: 'calmar', title: 'Calmar ratio (×)', short: 'Calmar', unit: 'ratio', tags: ['core'], higherIsBetter: true, format: 'ratio',
    description: 'CAGR ÷ max drawdown (both as fractions); null over a window shorter than 365 days',
    compute: (c) => {
      const g = cagr(c);
      return g !== null && c.maxDrawdown > 0 ? finite(g / 100 / c.maxDrawdown) : null;
    },
  },
  {
    id: 'trades', title: 'Trades (round trips)', short: 'Trades', unit: 'count', tags: ['core'], higherIsBetter: null, format: 'int',
    description: 'closed round trips: flat → flat, a flip closes one and opens the next, liquidation closes',
    compute: (c) => c.tradePnls.length,
  },
  {
    id: 'winRate', title: 'Win rate (%)', short: 'Win rate', unit: '%', tags: ['core'], higherIsBetter: true, format: 'pct',
    description: 'share of round trips with net PnL > 0',
    compute: (c) => {
      const p = c.tradePnls;
      let wins = 0;
      for (let k = 0; k < p.length; k++) if (p[k]! > 0) wins++;
      return p.length ? (100 * wins) / p.length : null;
    },
  },
  {
    id: 'profitFactor', title: 'Profit factor (×)', short: 'PF', unit: 'ratio', tags: ['core'], higherIsBetter: true, format: 'ratio',
    description: 'Σ winning trade PnL ÷ |Σ losing trade PnL| (null without losing trades)',
    compute: (c) => {
      let win = 0;
      let loss = 0;
      for (const pnl of c.tradePnls) {
        if (pnl > 0) win += pnl;
        else loss -= pnl;
      }
      return loss > 0 ? win / loss : null;
    },
  },
  {
    id: 'exposureTime', title: 'Exposure time (%)', short: 'Exposure', unit: '%', tags: ['core'], higherIsBetter: null, format: 'pct',
    description: 'share of bars closing with an open position (gross notional > 0)',
    compute: (c) => c.exposedPct,
  },
  {
    id: 'liquidations', title: 'Liquidations (count)', short: 'Liqs', unit: 'count', tags: ['perp'], higherIsBetter: false, format: 'int',
    description: 'liquidation events (one per liquidated pool: an isolated position or the cross pool)',
    compute: (c) => c.ledger.liquidations,
  },
  {
    id: 'liquidationLoss', title: 'Liquidation loss (quote)', short: 'Liq loss', unit: 'quote', tags: ['perp'], higherIsBetter: false, format: 'money',
    description: 'Σ over liquidations of (penalty − realised PnL of the forced close − insurance draw): what the wallet lost',
    compute: (c) => c.ledger.liquidationLoss,
  },
  {
    id: 'liquidationPenalty', title: 'Liquidation penalty (quote)', short: 'Liq penalty', unit: 'quote', tags: ['perp'], higherIsBetter: false, format: 'money',
    description: 'Σ remaining margin / liquidation fee taken at liquidations',
    compute: (c) => c.ledger.liquidationPenalty,
  },
  {
    id: 'insuranceShortfall', title: 'Insurance shortfall (quote)', short: 'Shortfall', unit: 'quote', tags: ['perp'], higherIsBetter: false, format: 'money',
    description: 'Σ insurance-fund draws from closes past the bankruptcy price',
    compute: (c) => c.ledger.insuranceShortfall,
  },
  {
    id: 'fundingPaid', title: 'Funding paid (quote)', short: 'Fund paid', unit: 'quote', tags: ['perp'], higherIsBetter: false, format: 'money',
    description: 'Σ |funding| of settlements the account paid',
    compute: (c) => c.ledger.fundingPaid,
  },
  {
    id: 'fundingReceived', title: 'Funding received (quote)', short: 'Fund recv', unit: 'quote', tags: ['perp'], higherIsBetter: true, format: 'money',
    description: 'Σ funding of settlements the account received',
    compute: (c) => c.ledger.fundingReceived,
  },
  {
    id: 'fundingNet', title: 'Funding net (quote)', short: 'Funding', unit: 'quote', tags: ['perp'], higherIsBetter: true, format: 'money',
    description: 'funding received − funding paid',
    compute: (c) => c.ledger.fundingNet,
  },
  {
    id: 'fees', title: 'Fees (quote)', short: 'Fees', unit: 'quote', tags: ['perp'], higherIsBetter: false, format: 'money',
    description: 'Σ trading fees of fills (liquidation penalties excluded)',
    compute: (c) => c.ledger.fees,
  },
  {
    id: 'rejectedOrders', title: 'Rejected orders (count)', short: 'Rejected', unit: 'count', tags: ['perp'], higherIsBetter: false, format: 'int',
    description: 'orders rejected, all reasons (by reason: RunResult.rejections)',
    compute: (c) => Object.values(c.input.output.rejections).reduce((a, b) => a + b, 0),
  },
  {
    id: 'marginRatioMax', title: 'Max margin ratio (%)', short: 'Max MR', unit: '%', tags: ['margin'], higherIsBetter: false, format: 'pct',
    description: 'highest intrabar margin ratio (marginRatioPeak), MM ÷ margin balance of the worst pool',
    compute: (c) => (c.n ? finite(100 * c.marginRatioPeakMax) : null),
  },
  {
    id: 'timeAbove60', title: 'Time with margin ratio ≥ 60% (%)', short: 'MR≥60%', unit: '%', tags: ['margin'], higherIsBetter: false, format: 'pct',
    description: 'share of bars whose close margin ratio is ≥ 60%',
    compute: (c) => c.above60Pct,
  },
  {
    id: 'timeAbove80', title: 'Time with margin ratio ≥ 80% (%)', short: 'MR≥80%', unit: '%', tags: ['margin'], higherIsBetter: false, format: 'pct',
    description: 'share of bars whose close margin ratio is ≥ 80%',
    compute: (c) => c.above80Pct,
  },
  {
    id: 'nearMisses', title: 'Near misses (count)', short: 'Near miss', unit: 'count', tags: ['margin'], higherIsBetter: false, format: 'int',
    description: 'episodes of consecutive bars with intrabar margin ratio ≥ 90% that ended without a liquidation',
    compute: (c) =>
      countNearMisses(c.input.output.series.time, c.input.output.series.marginRatioPeak, c.ledger.liquidationTimes, c.input.timeframeMs),
  },
  {
    id: 'marginUsedAvg', title: 'Margin used, average (quote)', short: 'IM avg', unit: 'quote', tags: ['margin'], higherIsBetter: null, format: 'money',
    description: 'time-average of initial margin (Σ notional ÷ leverage) over all bars',
    compute: (c) => (c.n ? c.initialMarginAvg : null),
  },
  {
    id: 'marginUsedMax', title: 'Margin used, max (quote)', short: 'IM max', unit: 'quote', tags: ['margin'], higherIsBetter: null, format: 'money',
    description: 'largest initial margin at a bar close',
    compute: (c) => (c.n ? c.initialMarginMax : null),
  },
  {
    id: 'capitalAtRiskAvg', title: 'Capital at risk, average (quote)', short: 'CaR avg', unit: 'quote', tags: ['margin'], higherIsBetter: null, format: 'money',
    description: 'time-average of capital at risk (isolated: Σ isolated margins; cross: pool equity while a cross position is open)',
    compute: (c) => (c.n ? c.capitalAtRiskAvg : null),
  },
  {
    id: 'capitalEfficiency', title: 'Capital efficiency (%/yr)', short: 'Cap. eff.', unit: '%/yr', tags: ['margin'], higherIsBetter: true, format: 'pct',
    description: '(net PnL ÷ years) ÷ time-average capital at risk; null over a window shorter than 365 days (see returnOnCapitalAtRisk)',
    compute: (c) => (c.capitalAtRiskAvg > 0 && canAnnualise(c.years) ? finite((100 * c.netPnl) / c.years / c.capitalAtRiskAvg) : null),
  },
  {
    id: 'returnOnCapitalAtRisk', title: 'Return on capital at risk (%)', short: 'RoCaR', unit: '%', tags: ['margin'], higherIsBetter: true, format: 'pct',
    description: 'net PnL ÷ time-average capital at risk, over the whole window (not annualised)',
    compute: (c) => (c.capitalAtRiskAvg > 0 ? finite((100 * c.netPnl) / c.capitalAtRiskAvg) : null),
  },
  {
    id: 'returnOnMargin', title: 'Return on margin (%)', short: 'RoM', unit: '%', tags: ['margin'], higherIsBetter: true, format: 'pct',
    description: 'net PnL ÷ time-average initial margin used',
    compute: (c) => (c.initialMarginAvg > 0 ? finite((100 * c.netPnl) / c.initialMarginAvg) : null),
  },
]);

export const METRIC_BY_ID: ReadonlyMap<string, MetricDef> = new Map(METRICS.map((m) => [m.id, m]));

/** Every registry metric for one setup's output, in registry order. */
export function computeMetrics(input: MetricsInput): Record<string, number | null> {
  if (!(input.timeframeMs > 0)) throw new RangeError(`computeMetrics: timeframeMs must be > 0 (got ${input.timeframeMs})`);
  const ctx = buildContext(input);
  const out: Record<string, number | null> = {};
  for (const m of METRICS) {
    const v = m.compute(ctx);
    out[m.id] = v === null || !Number.isFinite(v) ? null : v;
  }
  return out;
}
