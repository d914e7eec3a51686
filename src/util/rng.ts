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

  /**
   * seed: any safe integer (its high bits and its sign count); stream: 0 … 2^32 − 1 (its low 32 bits
   * are used). The state is injective in (seed, stream): the seed's low word, its high word with the
   * sign bit, and the stream each go through a bijection of 32-bit words (splitmix32's finaliser
   * after an xor with a constant of its own) into a state word of their own, the fourth word is a
   * non-zero constant, and the generator's own step, a bijection of the 128-bit state, is then taken
   * 16 times to spread every input over every word. Distinct (seed, stream) pairs start distinct
   * states, so no two give one sequence (seed xor stream did: seed 2723777227 stream 0 was seed 0
   * stream 1), and the state is never all zero.
   */
  constructor(seed: number, stream = 0) {
    const abs = Math.floor(Math.abs(seed));
    const low = abs % 4294967296;
    const high = (Math.floor(abs / 4294967296) | (seed < 0 ? 0x80000000 : 0)) >>> 0;
    this.s0 = mix32(low ^ 0x9e3779b9);
    this.s1 = mix32((stream >>> 0) ^ 0x85ebca6b);
    this.s2 = mix32(high ^ 0xc2b2ae35);
    this.s3 = 0x27d4eb2f;
    for (let i = 0; i < 16; i++) this.u32();
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

/** splitmix32's finaliser: a bijection of 32-bit words (xor-shifts and odd multipliers are each invertible) */
function mix32(x: number): number {
  let z = x | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
