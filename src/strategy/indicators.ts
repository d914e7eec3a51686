/**
 * Incremental indicators: each update is O(1) and allocates nothing (ring buffers are allocated
 * once at construction). Values are NaN until `period` inputs have been seen. An input that is not
 * a finite number (NaN for an absent candle, ±Infinity from a log of 0 or a division by 0, undefined)
 * is ignored: the indicator keeps its state and value (an Infinity made the running sums NaN for good,
 * and a z-score read 0 from then on).
 */
import { freezeClass } from '../util/freeze.js';
import { shownValue } from '../util/excerpt.js';
import type { AtrIndicator, Indicator, IndicatorFactory } from './types.js';

/** the longest period an indicator takes (its ring buffer is allocated at once) */
export const MAX_PERIOD = 10_000_000;

function checkPeriod(name: string, period: number): void {
  if (typeof period !== 'number' || !Number.isInteger(period) || period < 1 || period > MAX_PERIOD) {
    throw new RangeError(`${name}: period must be a whole number of inputs from 1 to ${MAX_PERIOD.toLocaleString('en-US')}, got ${shownValue(period)}`);
  }
}

/** whether `x` is an input an indicator takes: a finite number (x − x is NaN for NaN and ±Infinity) */
const usable = (x: unknown): x is number => typeof x === 'number' && x - x === 0;

/**
 * Simple moving average over the last `period` inputs: a running sum updated in place, and computed again from the
 * window each time it has been replaced whole.
 */
export class Sma implements Indicator {
  private readonly buf: Float64Array;
  private pos = 0;
  private n = 0;
  private sum = 0;
  value = NaN;
  constructor(readonly period: number) {
    checkPeriod('sma', period);
    this.buf = new Float64Array(period);
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
  update(x: number): number {
    if (!usable(x)) return this.value;
    const p = this.period;
    if (this.n < p) {
      this.buf[this.pos] = x;
      this.sum += x;
      this.n++;
    } else {
      this.sum += x - this.buf[this.pos]!;
      this.buf[this.pos] = x;
    }
    if (this.pos + 1 === p) {
      this.pos = 0;
      // a whole window replaced (or first filled): the sum again from its values (O(period) once per period), so an
      // update's rounding error lasts at most one window (an outlier of 1e17 among prices near 1 left the running sum
      // off by whole units for good once it had left the window); a period of 1 too, whose every update replaces the
      // window (sum + (x − old) is not x: Sma(1) read 0, 1, 2 for 1, 2, 3 after a 1e17)
      const b = this.buf;
      let sum = 0;
      for (let k = 0; k < p; k++) sum += b[k]!;
      this.sum = sum;
    } else this.pos++;
    this.value = this.n >= p ? this.sum / p : NaN;
    return this.value;
  }
  reset(): void {
    this.buf.fill(0);
    this.pos = 0;
    this.n = 0;
    this.sum = 0;
    this.value = NaN;
  }
}

/** Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first `period` inputs. */
export class Ema implements Indicator {
  private readonly alpha: number;
  private n = 0;
  private seed = 0;
  value = NaN;
  constructor(readonly period: number) {
    checkPeriod('ema', period);
    this.alpha = 2 / (period + 1);
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
  update(x: number): number {
    if (!usable(x)) return this.value;
    if (this.n < this.period) {
      this.seed += x;
      this.n++;
      if (this.n === this.period) this.value = this.seed / this.period;
    } else {
      this.value += this.alpha * (x - this.value);
    }
    return this.value;
  }
  reset(): void {
    this.n = 0;
    this.seed = 0;
    this.value = NaN;
  }
}

/**
 * Rolling population standard deviation over the last `period` inputs: mean and sum of squared
 * deviations updated in place (Welford), and computed again from the window each time it has been
 * replaced whole, so the error of an update (an outlier of 1e10 that has left the window) lasts at
 * most one window: it was carried for ever (a z-score of 4.75 for 1.29, sixty bars later).
 */
export class RollingStdev implements Indicator {
  private readonly buf: Float64Array;
  private pos = 0;
  private n = 0;
  mean = NaN;
  private m2 = 0;
  value = NaN;
  constructor(readonly period: number) {
    checkPeriod('stdev', period);
    this.buf = new Float64Array(period);
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
  update(x: number): number {
    if (!usable(x)) return this.value;
    const p = this.period;
    if (this.n < p) {
      this.buf[this.pos] = x;
      this.n++;
      if (this.n === 1) {
        this.mean = x;
        this.m2 = 0;
      } else {
        const d = x - this.mean;
        this.mean += d / this.n;
        this.m2 += d * (x - this.mean);
      }
    } else {
      const old = this.buf[this.pos]!;
      this.buf[this.pos] = x;
      const oldMean = this.mean;
      this.mean = oldMean + (x - old) / p;
      this.m2 += (x - old) * (x - this.mean + old - oldMean);
      if (this.m2 < 0 || p === 1) this.m2 = 0;
    }
    this.pos = this.pos + 1 === p ? 0 : this.pos + 1;
    // a whole window replaced: mean and squared deviations from its values (two passes, O(period) once per period);
    // a period of 1 too (its mean is the input: oldMean + (x − old) after a 1e17 was 0 for 1)
    if (this.pos === 0 && this.n >= p) {
      let sum = 0;
      for (let k = 0; k < p; k++) sum += this.buf[k]!;
      const mean = sum / p;
      let m2 = 0;
      for (let k = 0; k < p; k++) {
        const d = this.buf[k]! - mean;
        m2 += d * d;
      }
      this.mean = mean;
      this.m2 = m2;
    }
    this.value = this.n >= p ? Math.sqrt(this.m2 / p) : NaN;
    return this.value;
  }
  reset(): void {
    this.buf.fill(0);
    this.pos = 0;
    this.n = 0;
    this.mean = NaN;
    this.m2 = 0;
    this.value = NaN;
  }
}

/** z-score of the latest input against the rolling mean and population stdev of the last `period` inputs (0 when the stdev is 0). */
export class ZScore implements Indicator {
  private readonly sd: RollingStdev;
  value = NaN;
  constructor(readonly period: number) {
    checkPeriod('zscore', period);
    this.sd = new RollingStdev(period);
  }
  get ready(): boolean {
    return this.sd.ready;
  }
  update(x: number): number {
    if (!usable(x)) return this.value;
    const s = this.sd.update(x);
    if (!this.sd.ready) return (this.value = NaN);
    this.value = s > 0 ? (x - this.sd.mean) / s : 0;
    return this.value;
  }
  reset(): void {
    this.sd.reset();
    this.value = NaN;
  }
}

/** Average true range with Wilder smoothing (seeded with the mean of the first `period` true ranges). */
export class Atr implements AtrIndicator {
  private prevClose = NaN;
  private n = 0;
  private seed = 0;
  value = NaN;
  constructor(readonly period: number) {
    checkPeriod('atr', period);
  }
  get ready(): boolean {
    return this.n >= this.period;
  }
  update(high: number, low: number, close: number): number {
    if (!usable(high) || !usable(low) || !usable(close)) return this.value;
    const pc = this.prevClose;
    let tr = high - low;
    if (pc === pc) {
      const a = Math.abs(high - pc);
      const b = Math.abs(low - pc);
      if (a > tr) tr = a;
      if (b > tr) tr = b;
    }
    this.prevClose = close;
    const p = this.period;
    if (this.n < p) {
      this.seed += tr;
      this.n++;
      if (this.n === p) this.value = this.seed / p;
    } else {
      this.value = (this.value * (p - 1) + tr) / p;
    }
    return this.value;
  }
  reset(): void {
    this.prevClose = NaN;
    this.n = 0;
    this.seed = 0;
    this.value = NaN;
  }
}

/**
 * Rolling maximum (or minimum) over the last `period` inputs: a monotone deque in preallocated
 * ring buffers, amortised O(1) per update.
 */
export class RollingExtreme implements Indicator {
  private readonly vals: Float64Array;
  private readonly idx: Float64Array;
  private head = 0;
  private size = 0;
  private t = 0;
  value = NaN;
  constructor(
    readonly period: number,
    readonly kind: 'max' | 'min',
  ) {
    // (a JavaScript strategy is not type-checked: 'MAX' ran as a rolling minimum)
    if (kind !== 'max' && kind !== 'min') throw new RangeError(`rolling extreme: kind must be 'max' or 'min', got ${shownValue(kind)}`);
    checkPeriod(`rolling ${kind}`, period);
    this.vals = new Float64Array(period);
    this.idx = new Float64Array(period);
  }
  get ready(): boolean {
    return this.t >= this.period;
  }
  update(x: number): number {
    if (!usable(x)) return this.value;
    const p = this.period;
    const max = this.kind === 'max';
    // drop the expired front
    if (this.size > 0 && this.idx[this.head]! <= this.t - p) {
      this.head = this.head + 1 === p ? 0 : this.head + 1;
      this.size--;
    }
    // drop dominated values at the back
    while (this.size > 0) {
      const back = (this.head + this.size - 1) % p;
      const v = this.vals[back]!;
      if (max ? v <= x : v >= x) this.size--;
      else break;
    }
    const slot = (this.head + this.size) % p;
    this.vals[slot] = x;
    this.idx[slot] = this.t;
    this.size++;
    this.t++;
    this.value = this.t >= p ? this.vals[this.head]! : NaN;
    return this.value;
  }
  reset(): void {
    this.head = 0;
    this.size = 0;
    this.t = 0;
    this.value = NaN;
  }
}

// frozen: one instance serves every pass of a worker (a strategy that replaced a method or a factory would change other runs)
for (const c of [Sma, Ema, RollingStdev, ZScore, Atr, RollingExtreme]) freezeClass(c);

export const indicators: IndicatorFactory = Object.freeze<IndicatorFactory>({
  max: (n) => new RollingExtreme(n, 'max'),
  min: (n) => new RollingExtreme(n, 'min'),
  sma: (n) => new Sma(n),
  ema: (n) => new Ema(n),
  stdev: (n) => new RollingStdev(n),
  zscore: (n) => new ZScore(n),
  atr: (n) => new Atr(n),
});
