/**
 * The one seeded random number generator of marginlab: xoshiro128** (Blackman and Vigna), its
 * state seeded by splitmix32 from (seed, stream). Independent streams of one seed (paths,
 * injection times, crashes, synthetic series, the report's bootstrap) are separate `stream`
 * numbers. Every draw is deterministic: the same seed and stream give the same sequence on every
 * machine and in every worker.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** the second Box–Muller deviate, NaN when none is waiting */
  private spare = Number.NaN;

  /** seed: any safe integer (its high 32 bits and its sign are mixed in); stream: 0, 1, 2, … */
  constructor(seed: number, stream = 0) {
    const abs = Math.floor(Math.abs(seed));
    let x = (abs % 4294967296) ^ Math.imul(stream + 1, 0x9e3779b9);
    const next = () => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    // the seed's high bits and its sign go into state words of their own, so no two seeds of one
    // stream share a state (seeds 0 … 2^32 − 1 are untouched by this)
    this.s2 ^= Math.floor(abs / 4294967296) | 0;
    if (seed < 0) this.s3 ^= 0x5bd1e995;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** next 32-bit unsigned integer */
  u32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** uniform in [0, 1), 32 random bits */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** uniform integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** uniform in (0, 1), 53 random bits (never 0: safe under a logarithm) */
  uniform(): number {
    const x = (this.u32() >>> 5) * 67108864 + (this.u32() >>> 6);
    return (x + 0.5) / 9007199254740992;
  }

  /** standard normal (Box–Muller, the second deviate kept for the next call) */
  normal(): number {
    if (this.spare === this.spare) {
      const s = this.spare;
      this.spare = Number.NaN;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const th = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(th);
    return r * Math.cos(th);
  }

  /** Exp(1) */
  exp(): number {
    return -Math.log(this.uniform());
  }

  /** bars until the next event of a per-bar probability p (≥ 1), Infinity when p = 0 */
  geometric(p: number): number {
    if (!(p > 0)) return Infinity;
    if (p >= 1) return 1;
    return Math.max(1, Math.ceil(Math.log(this.uniform()) / Math.log1p(-p)));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
