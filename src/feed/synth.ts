/**
 * Synthetic perpetual-futures markets (docs/data.md): N correlated symbols as geometric Brownian
 * motion driven by one market factor plus idiosyncratic noise, per-symbol volatility, market-wide
 * crash jumps (every symbol drops in the same bar, scaled by its beta) and single-symbol wicks
 * (intrabar spikes that do not move the close), mark price = trade price × (1 + basis) with a
 * mean-reverting (AR(1)) basis, and funding every 8 h from a mean-reverting rate process.
 *
 * Deterministic: the same options give the same bytes (own PRNG, fixed draw order, no clock).
 * Streams record batches to disk, so memory stays bounded for any number of bars.
 */
import { join } from 'node:path';
import { usageError } from '../errors.js';
import { Rng } from '../util/rng.js';
import { shownValue } from '../util/excerpt.js';
import { writeDirAtomic } from '../util/atomic.js';
import { yieldToSignals } from '../util/interrupt.js';
import { KindFileWriter } from './arrow-io.js';
import { dataFileName, FORMAT_ID, FORMAT_VERSION, writeManifest, type Manifest, type ManifestFile } from './manifest.js';
import { offExchangeGrid, timeframeMs } from './timeframe.js';
import { importedDatasetAt, importedDatasetError, writeSeriesFile } from './write.js';
import { FUNDING_MEDIAN_WARN, implausibleTime, MAX_DATE_MS } from './validate.js';

export interface SynthOptions {
  /** dataset folder to write: new, empty, or one marginlab wrote (its files are replaced; src/util/outdir.ts) */
  out: string;
  /** write into a non-empty folder marginlab did not make (only files of the names written are replaced) */
  force?: boolean;
  symbols: number;
  bars: number;
  timeframe: string;
  seed: number;
  /** first bar open, ms UTC (default 2024-01-01T00:00:00Z) */
  start?: number;
  /** annualised diffusion volatility per symbol (default per symbol: BTC 0.55, ETH 0.70, ...); a shorter list is cycled */
  vols?: number[];
  /** pairwise correlation of the diffusion returns through the market factor, in [0, 1) (default 0.6) */
  correlation?: number;
  /** annualised drift of the price (default 0) */
  drift?: number;
  /** expected market-wide crashes per year (default 2) */
  crashesPerYear?: number;
  /** mean crash size as a fraction of price for beta 1 (default 0.10): log drop = size × (0.5 + Exp(1)/2) × beta */
  crashSize?: number;
  /** expected single-symbol wicks per symbol per year (default 12) */
  wicksPerYear?: number;
  /** mean wick depth as a fraction of price (default 0.05) */
  wickSize?: number;
  /** share of a wick's depth the mark price shows (default 0.25: mark is an index-based price and damps single-venue wicks) */
  markWickFactor?: number;
  /** stationary standard deviation of the mark basis in basis points (default 5) */
  basisBps?: number;
  /** half-life of the basis in bars (default 20) */
  basisHalfLifeBars?: number;
  /** long-run mean funding rate per interval (default 0.0001) */
  fundingMean?: number;
  /** stationary standard deviation of the funding rate (default 0.0001) */
  fundingVol?: number;
  /** half-life of the funding rate in intervals (default 6) */
  fundingHalfLife?: number;
  /** funding interval in hours (default 8; events on the UTC grid 00:00/08:00/16:00) */
  fundingIntervalHours?: number;
  /** write mark candles at the bar timeframe (default true) */
  mark?: boolean;
  /** venue id written to the manifest (default 'binance-usdm', so tier tables apply to the real symbol names) */
  venue?: string;
  /** record batch size (rows); default 65,536 */
  batchRows?: number;
  /** progress callback: bars done */
  onProgress?: (barsDone: number) => void;
}

const PRESETS: { symbol: string; price: number; vol: number; beta: number; volume: number }[] = [
  { symbol: 'BTCUSDT', price: 60_000, vol: 0.55, beta: 0.8, volume: 3e9 },
  { symbol: 'ETHUSDT', price: 3_000, vol: 0.7, beta: 1.0, volume: 1.5e9 },
  { symbol: 'SOLUSDT', price: 150, vol: 0.9, beta: 1.3, volume: 6e8 },
  { symbol: 'XRPUSDT', price: 0.6, vol: 0.85, beta: 1.2, volume: 4e8 },
  { symbol: 'ADAUSDT', price: 0.5, vol: 0.85, beta: 1.2, volume: 2e8 },
  { symbol: 'BNBUSDT', price: 550, vol: 0.6, beta: 0.9, volume: 2e8 },
  { symbol: 'DOGEUSDT', price: 0.15, vol: 1.0, beta: 1.4, volume: 3e8 },
  { symbol: 'LINKUSDT', price: 15, vol: 0.9, beta: 1.2, volume: 1e8 },
];

export function synthSymbols(n: number): string[] {
  return Array.from({ length: n }, (_, i) => (i < PRESETS.length ? PRESETS[i]!.symbol : `SYN${i + 1}USDT`));
}

const YEAR_MS = 365 * 86_400_000;

/** SynthOptions keys that `marginlab data synth` takes as a flag, and the flag (the others are the library's only) */
const CLI_FLAGS: Readonly<Record<string, string>> = {
  out: '--out', symbols: '--symbols', bars: '--bars', timeframe: '--timeframe', seed: '--seed', start: '--start', vols: '--vol',
  correlation: '--correlation', drift: '--drift', crashesPerYear: '--crashes-per-year', crashSize: '--crash-size',
  wicksPerYear: '--wicks-per-year', wickSize: '--wick-size', basisBps: '--basis-bps', fundingMean: '--funding-mean', force: '--force',
};

/** Who called synthesize: the library (messages name SynthOptions keys) or `marginlab data synth` (they name its flags). */
export type SynthCaller = 'api' | 'cli';

/** How a caller's messages name an option and start: `--crash-size` / `data synth: ` on the command line, `crashSize` / `synthesize: ` in the library. */
function synthNames(by: SynthCaller): { name: (k: keyof SynthOptions) => string; prefix: string; force: string } {
  return by === 'cli'
    ? { name: (k) => CLI_FLAGS[k] ?? k, prefix: 'data synth: ', force: 'add --force' }
    : { name: (k) => k, prefix: 'synthesize: ', force: 'set force: true' };
}

function checkOpts(o: SynthOptions, by: SynthCaller): void {
  const { name: flag, prefix } = synthNames(by);
  const bad = (m: string): never => { throw usageError(`${prefix}${m}`); };
  // (a library call without them failed inside with "Cannot read properties of undefined (reading 'trim')")
  if (typeof o.out !== 'string' || o.out === '') bad(`${flag('out')} must name the dataset folder to write (got ${shownValue(o.out)})`);
  if (typeof o.timeframe !== 'string') bad(`${flag('timeframe')} must be a timeframe such as '1m', '1h' or '1d' (got ${shownValue(o.timeframe)})`);
  if (!(Number.isInteger(o.symbols) && o.symbols >= 1 && o.symbols <= 1000)) bad(`${flag('symbols')} must be an integer 1..1000 (got ${o.symbols})`);
  if (!(Number.isInteger(o.bars) && o.bars >= 2)) bad(`${flag('bars')} must be an integer ≥ 2 (got ${o.bars})`);
  if (!Number.isSafeInteger(o.seed)) bad(`${flag('seed')} must be an integer (got ${o.seed})`);
  // (NaN or a date string read as "not on the exchanges' grid … NaN ms past one")
  if (o.start !== undefined && !Number.isSafeInteger(o.start)) bad(`${flag('start')} must be a time in ms UTC (got ${shownValue(o.start)})`);
  const c = o.correlation ?? 0.6;
  if (!(c >= 0 && c < 1)) bad(`${flag('correlation')} must be in [0, 1) (got ${c})`);
  for (const v of o.vols ?? []) if (!(v > 0 && v < 20)) bad(`${flag('vols')}: volatility ${v} must be in (0, 20) (annualised, 0.6 = 60 %)`);
  for (const [k, v] of [['crashesPerYear', o.crashesPerYear], ['crashSize', o.crashSize], ['wicksPerYear', o.wicksPerYear], ['wickSize', o.wickSize], ['basisBps', o.basisBps], ['fundingVol', o.fundingVol]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(`${flag(k)} must be a finite number ≥ 0 (got ${v})`);
  }
  if (o.crashSize !== undefined && o.crashSize >= 1) bad(`${flag('crashSize')} must be < 1 (got ${o.crashSize})`);
  // the mark is the trade price × (1 + basis): a basis sd past 10 % is no perpetual's, and near 100 % it
  // writes mark candles below zero that every load refuses
  if (o.basisBps !== undefined && o.basisBps > 1000) bad(`${flag('basisBps')} must be at most 1000 (10 %; venues' mark basis sits within a few bps, got ${o.basisBps})`);
  // rates are clamped to ±0.75 % a settlement; a mean or sd beyond 0.1 % is a percentage or an annual rate
  // (0.0001 = 0.01 %), and its dataset would draw the loader's funding-scale warning on every run (a median |rate| above
  // FUNDING_MEDIAN_WARN: the rates are normal about the mean, so their median |rate| is at most |mean| + 0.675 sd)
  if (o.fundingMean !== undefined && !(Number.isFinite(o.fundingMean) && Math.abs(o.fundingMean) <= FUNDING_MEDIAN_WARN)) bad(`${flag('fundingMean')} must be within ±${FUNDING_MEDIAN_WARN} a settlement (rates are fractions: 0.0001 = 0.01 %; got ${o.fundingMean})`);
  else if (o.fundingVol !== undefined && o.fundingVol > FUNDING_MEDIAN_WARN / 0.675) bad(`fundingVol must be at most ${Number((FUNDING_MEDIAN_WARN / 0.675).toPrecision(3))} a settlement (got ${o.fundingVol})`);
  else if (Math.abs(o.fundingMean ?? 0.0001) + 0.675 * (o.fundingVol ?? 0.0001) > FUNDING_MEDIAN_WARN)
    bad(`${flag('fundingMean')} ${o.fundingMean ?? 0.0001} with fundingVol ${o.fundingVol ?? 0.0001} puts the median |funding rate| above ${FUNDING_MEDIAN_WARN} a settlement, which every load warns about as a file of percentages: lower either`);
  if (o.drift !== undefined && !(Number.isFinite(o.drift) && Math.abs(o.drift) <= 10)) bad(`${flag('drift')} must be within ±10 (annualised, 0.2 = 20 %; got ${o.drift})`);
  if (o.markWickFactor !== undefined && !(o.markWickFactor >= 0 && o.markWickFactor <= 1)) bad(`markWickFactor must be in [0, 1] (got ${o.markWickFactor})`);
  for (const [k, v] of [['basisHalfLifeBars', o.basisHalfLifeBars], ['fundingHalfLife', o.fundingHalfLife]] as const)
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) bad(`${k} must be a finite number > 0 (got ${v})`);
  const fh = o.fundingIntervalHours;
  if (fh !== undefined && !(Number.isInteger(fh) && fh >= 1 && 24 % fh === 0)) bad(`fundingIntervalHours must be 1, 2, 3, 4, 6, 8, 12 or 24 (got ${fh})`);
  if (o.batchRows !== undefined && !(Number.isInteger(o.batchRows) && o.batchRows >= 1)) bad(`batchRows must be an integer ≥ 1 (got ${o.batchRows})`);
}

/** Write a synthetic dataset folder (same format as every dataset); `by`: who called, for the messages' words. */
export async function synthesize(opts: SynthOptions, by: SynthCaller = 'api'): Promise<Manifest> {
  checkOpts(opts, by);
  const { name: flag, prefix, force } = synthNames(by);
  const tf = opts.timeframe;
  const tfMs = timeframeMs(tf);
  const n = opts.symbols;
  const bars = opts.bars;
  const start = opts.start ?? Date.UTC(2024, 0, 1);
  const off = offExchangeGrid(start, tfMs, tf);
  if (off !== null) throw usageError(`${prefix}${flag('start')} ${off}`);
  // the loader's bounds (feed/validate.ts): a dataset of bars before 1970 or in the year 3000 or later was written, then refused by every load
  const lastBar = start + (bars - 1) * tfMs;
  const late = implausibleTime(lastBar);
  if (!(start >= 0) || late !== null) {
    const when = start < 0 ? 'begin before 1970-01-01' : lastBar > MAX_DATE_MS ? 'end after the year 275760' : `end in the year ${new Date(lastBar).getUTCFullYear()}`;
    throw usageError(`${prefix}${flag('start')} ${Math.abs(start) <= MAX_DATE_MS ? new Date(start).toISOString() : start}: its ${bars} bars would ${when}, which every load refuses (times from 1970 to before the year 3000): ${start < 0 ? 'give a start from 1970 on' : 'give an earlier start, or fewer bars'}`);
  }
  const dt = tfMs / YEAR_MS;
  const sqdt = Math.sqrt(dt);
  const rho = opts.correlation ?? 0.6;
  const sqRho = Math.sqrt(rho), sqIdio = Math.sqrt(1 - rho);
  const drift = opts.drift ?? 0;
  const symbols = synthSymbols(n);
  const preset = (i: number) => PRESETS[i % PRESETS.length]!;
  const vols = symbols.map((_, i) => (opts.vols && opts.vols.length ? opts.vols[i % opts.vols.length]! : i < PRESETS.length ? preset(i).vol : 0.8));
  const betas = symbols.map((_, i) => (i < PRESETS.length ? preset(i).beta : 1.1));
  const crashP = (opts.crashesPerYear ?? 2) * dt;
  const crashSize = opts.crashSize ?? 0.1;
  const wickP = (opts.wicksPerYear ?? 12) * dt;
  const wickSize = opts.wickSize ?? 0.05;
  const markWick = opts.markWickFactor ?? 0.25;
  const basisSd = (opts.basisBps ?? 5) / 1e4;
  const phiB = Math.pow(0.5, 1 / (opts.basisHalfLifeBars ?? 20));
  const basisInnov = basisSd * Math.sqrt(1 - phiB * phiB);
  const withMark = opts.mark ?? true;
  const fMean = opts.fundingMean ?? 0.0001;
  const fVol = opts.fundingVol ?? 0.0001;
  const phiF = Math.pow(0.5, 1 / (opts.fundingHalfLife ?? 6));
  const fInnov = fVol * Math.sqrt(1 - phiF * phiF);
  const fIntMs = (opts.fundingIntervalHours ?? 8) * 3_600_000;
  const CH = opts.batchRows ?? 65_536;

  const generator = {
    // 2: drawn from src/util/rng.ts (the same options and seed give other numbers than version 1)
    kind: 'synth', version: 2, symbols: n, bars, timeframe: tf, seed: opts.seed, start,
    vols, correlation: rho, drift, crashesPerYear: opts.crashesPerYear ?? 2, crashSize,
    wicksPerYear: opts.wicksPerYear ?? 12, wickSize, markWickFactor: markWick, basisBps: opts.basisBps ?? 5,
    basisHalfLifeBars: opts.basisHalfLifeBars ?? 20, fundingMean: fMean, fundingVol: fVol,
    fundingHalfLife: opts.fundingHalfLife ?? 6, fundingIntervalHours: fIntMs / 3_600_000, mark: withMark,
  };

  // a dataset of imported or downloaded market data is the user's: synthetic files of the same names would replace
  // its series and leave the others orphaned beside a new manifest
  const found = opts.force ? null : importedDatasetAt(opts.out);
  if (found) throw importedDatasetError(prefix, opts.out, found, `choose another ${flag('out')}, or ${force} to replace them`);
  return writeDirAtomic(opts.out, async (tmp) => {
    const main = new Rng(opts.seed, 0);
    const jumps = new Rng(opts.seed, 1);
    const fundRng = new Rng(opts.seed, 2);
    const candleW = symbols.map((s) => new KindFileWriter(join(tmp, dataFileName(s, 'candles', tf)), 'candles'));
    const markW = withMark ? symbols.map((s) => new KindFileWriter(join(tmp, dataFileName(s, 'mark', tf)), 'mark')) : [];
    const cols = symbols.map(() => Array.from({ length: 9 }, () => new Float64Array(CH)));
    const time = new Float64Array(CH);
    const price = Float64Array.from(symbols, (_, i) => (i < PRESETS.length ? preset(i).price : 10 * (1 + (i % 7))));
    const basis = new Float64Array(n);
    for (let i = 0; i < n; i++) basis[i] = basisSd * main.normal();
    const volBase = symbols.map((_, i) => (i < PRESETS.length ? preset(i).volume : 5e7) * dt / price[i]!); // base units per bar
    let nextCrash = jumps.geometric(crashP);
    /** crashes drawn so far (a price carried out of range names their flags too) */
    let crashes = 0;
    const nextWick = symbols.map(() => jumps.geometric(wickP));
    const driftTerm = vols.map((v) => (drift - 0.5 * v * v) * dt);
    // funding
    const fTime: number[] = [];
    const fRates: number[][] = symbols.map(() => []);
    const fRate = new Float64Array(n).fill(fMean);
    let nextFunding = Math.ceil(start / fIntMs) * fIntMs;

    for (let b0 = 0; b0 < bars; b0 += CH) {
      const len = Math.min(CH, bars - b0);
      for (let k = 0; k < len; k++) {
        const bar = b0 + k;
        const t = start + bar * tfMs;
        time[k] = t;
        const zm = main.normal();
        let crash = 0;
        let crashOvershoot = 0;
        if (bar === nextCrash) {
          crashes++;
          crash = crashSize * (0.5 + 0.5 * jumps.exp());
          crashOvershoot = crash * 0.3 * jumps.uniform();
          nextCrash = bar + jumps.geometric(crashP);
        }
        for (let i = 0; i < n; i++) {
          const c = cols[i]!;
          const sig = vols[i]! * sqdt;
          const eps = sqRho * zm + sqIdio * main.normal();
          let x = driftTerm[i]! + sig * eps; // log return of the bar
          const o = price[i]!;
          // intrabar extremes of a Brownian bridge from 0 to x (exact marginal law of the max/min)
          const s2 = sig * sig;
          let up = 0.5 * (x + Math.sqrt(x * x - 2 * s2 * Math.log(main.uniform()))) - Math.max(0, x);
          let dn = 0.5 * (-x + Math.sqrt(x * x - 2 * s2 * Math.log(main.uniform()))) - Math.max(0, -x);
          const zv = main.normal();
          const bPrev = basis[i]!;
          const bNext = phiB * bPrev + basisInnov * main.normal();
          basis[i] = bNext;
          let markUp = up, markDn = dn;
          if (crash > 0) {
            const drop = crash * betas[i]!;
            x -= drop;
            const extra = crashOvershoot * betas[i]!;
            dn = Math.max(0, dn - drop) + extra; // measured below min(open, close) after the drop
            markDn = dn;
          }
          if (bar === nextWick[i]) {
            const depth = wickSize * jumps.exp();
            if (jumps.uniform() < 0.7) { dn += depth; markDn += depth * markWick; } else { up += depth; markUp += depth * markWick; }
            nextWick[i] = bar + jumps.geometric(wickP);
          }
          const cl = o * Math.exp(x);
          // a volatility and drift that carry a price out of floating point (to 0 or past 1e300) over many bars
          if (!(cl > 1e-12 && cl < 1e15)) {
            // crashes took it there as well (1e12 a year): those flags named too (it named only --vol and --drift); a crash
            // only drops a price, so a price carried past 1e15 names them not (it blamed --crashes-per-year for a --drift of 10)
            const lower = crashes > 0 && !(cl >= 1e15) ? `${flag('crashesPerYear')} or ${flag('crashSize')} (${crashes} crash${crashes === 1 ? '' : 'es'} so far), ${flag('vols')} or ${flag('drift')}` : `${flag('vols')} or ${flag('drift')}`;
            throw usageError(`${prefix}${symbols[i]}'s price left 1e-12 … 1e15 at bar ${bar + 1} (${cl}): lower ${lower}, or write fewer ${flag('bars')}`);
          }
          const hiBase = Math.max(o, cl), loBase = Math.min(o, cl);
          const eUp = Math.exp(up), eDn = Math.exp(-dn);
          c[0]![k] = o;
          c[1]![k] = hiBase * eUp;
          c[2]![k] = loBase * eDn;
          c[3]![k] = cl;
          c[4]![k] = volBase[i]! * Math.exp(0.5 * zv) * (1 + Math.abs(eps));
          if (withMark) {
            const mo = o * (1 + bPrev), mc = cl * (1 + bNext);
            const mid = 1 + 0.5 * (bPrev + bNext);
            c[5]![k] = mo;
            c[6]![k] = Math.max(mo, mc, hiBase * mid * (markUp === up ? eUp : Math.exp(markUp)));
            c[7]![k] = Math.min(mo, mc, loBase * mid * (markDn === dn ? eDn : Math.exp(-markDn)));
            c[8]![k] = mc;
          }
          price[i] = cl;
        }
        // funding events at or before this bar's open that are due
        while (nextFunding <= t) {
          fTime.push(nextFunding);
          for (let i = 0; i < n; i++) {
            const r = fMean + phiF * (fRate[i]! - fMean) + fInnov * fundRng.normal();
            fRate[i] = Math.max(-0.0075, Math.min(0.0075, r));
            fRates[i]!.push(fRate[i]!);
          }
          nextFunding += fIntMs;
        }
      }
      for (let i = 0; i < n; i++) {
        const c = cols[i]!;
        candleW[i]!.writeBatch(time, [c[0]!, c[1]!, c[2]!, c[3]!, c[4]!], len);
        if (withMark) markW[i]!.writeBatch(time, [c[5]!, c[6]!, c[7]!, c[8]!], len);
      }
      opts.onProgress?.(b0 + len);
      // a Ctrl-C is handled between batches (src/util/interrupt.ts: the temp folder is removed)
      await yieldToSignals();
    }

    const files: ManifestFile[] = [];
    const entry = (w: KindFileWriter, s: string, kind: 'candles' | 'mark'): ManifestFile => {
      const sha256 = w.close();
      return { path: dataFileName(s, kind, tf), symbol: s, kind, timeframe: tf, rows: w.rows, first: w.first, last: w.last, sha256 };
    };
    symbols.forEach((s, i) => {
      files.push(entry(candleW[i]!, s, 'candles'));
      if (withMark) files.push(entry(markW[i]!, s, 'mark'));
      // a window no funding time falls in (400 1m bars from 09:00) has no funding file: an empty series is never
      // written (docs/data.md; a manifest listing one is refused by every loader), and the loader says none is there
      if (fTime.length === 0) return;
      const rel = dataFileName(s, 'funding');
      files.push(writeSeriesFile(join(tmp, rel), rel, {
        symbol: s, kind: 'funding', timeframe: `${fIntMs / 3_600_000}h`, time: Float64Array.from(fTime), columns: { rate: Float64Array.from(fRates[i]!) },
      }));
    });
    const manifest: Manifest = {
      format: FORMAT_ID,
      version: FORMAT_VERSION,
      name: opts.out.split(/[\\/]/).filter(Boolean).pop() ?? 'synth',
      venue: opts.venue ?? 'binance-usdm',
      timeframe: tf,
      symbols,
      files,
      provenance: `Synthetic data generated by marginlab data synth (seed ${opts.seed}); not market data. Model: GBM with one market factor, crash jumps, single-symbol wicks, AR(1) mark basis, AR(1) funding (marginlab's docs/data.md).`,
      generator,
    };
    writeManifest(tmp, manifest);
    return manifest;
  }, by === 'cli' ? { kind: 'dataset', force: opts.force === true } : { kind: 'dataset', name: 'synthesize: out', source: 'api', force: opts.force === true, forceFlag: force });
}
