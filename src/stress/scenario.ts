/**
 * Scenarios as data (zod schema) and their compiled form: per symbol a price-factor path over
 * time since the shock start (piecewise linear, gaps as jumps), the mark-price factor, a funding
 * spike and a volume scale. Reference: docs/stress.md.
 *
 * A symbol's shock is one or more legs. Each leg moves the price to `1 + depth` of the level
 * before the shock (depths are cumulative from the pre-shock level), starting `at` after the
 * shock start, over `duration`:
 *  - 'gap'   : jumps at `at`, holds for `duration`;
 *  - 'slide' : moves linearly over `duration`;
 *  - 'wick'  : reaches the depth at half the duration and comes back by `recovery` (default all
 *              the way) by its end.
 * After the last leg the price recovers by `recovery` (a fraction of the distance back to the
 * pre-shock level, default 0: stays at the shocked level) over `recoveryDuration`. The bars after
 * the shock window continue from the level reached.
 */
import { z } from 'zod';
import { canonicalJson, sha256Hex } from '../shard/hash.js';

/** A duration: ms, or a string like '70m', '3h15m', '90s', '1d'. */
export function parseDuration(v: number | string): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  const s = v.trim();
  if (!/^(\d+(\.\d+)?(ms|s|m|h|d))+$/.test(s)) return null;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let total = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(m[1]) * unit[m[2]!]!;
  return Math.round(total);
}

const durationSchema = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `expected a duration (ms, or like '70m', '3h15m', '1d'), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return ms;
});

/** The deepest move a shock makes, of the trade price and of the mark (after beta scaling): −95 %. */
export const DEPTH_FLOOR = -0.95;

// a depth written below the floor was kept at it without a word (−0.999999 replayed as −95 %): refused as written
const depthSchema = z
  .number()
  .gt(-1, 'a depth is a fraction of the price: above −1 (−0.2 = −20 %)')
  // (one problem for a depth of −1 or below: the line above says it)
  .refine((v) => v <= -1 || v >= DEPTH_FLOOR, `a shock moves a price at most ${DEPTH_FLOOR * 100} % (${DEPTH_FLOOR}: a move to zero leaves no price to trade); give ${DEPTH_FLOOR} or above`)
  .max(10, 'a depth is at most 10 (+1,000 %)');

const legSchema = z
  .object({
    /** cumulative move from the pre-shock level at the end of the leg (−0.2 = −20 %) */
    depth: depthSchema,
    /** time of the leg (gap: how long the gapped level holds) */
    duration: durationSchema.default(0),
    shape: z.enum(['gap', 'slide', 'wick']).default('slide'),
    /** start of the leg after the shock start */
    at: durationSchema.default(0),
    /** wick only: fraction of the leg's move given back by its end (default 1: all of it) */
    recovery: z.number().min(0).max(1).optional(),
  })
  .strict()
  // a gap or a slide leg gives nothing back: its recovery would be dropped without a word
  .superRefine((l, ctx) => {
    if (l.recovery !== undefined && l.shape !== 'wick') {
      ctx.addIssue({ code: 'custom', path: ['recovery'], message: `only a 'wick' leg gives back within the leg (this one is a '${l.shape}'); for a recovery after the last leg, set the shock's 'recovery' (and 'recoveryDuration')` });
    }
  });

/** One symbol's shock (or the market shock). Either `legs`, or the fields of a single leg. */
export const symbolShockSchema = z
  .object({
    depth: depthSchema.optional(),
    duration: durationSchema.optional(),
    shape: z.enum(['gap', 'slide', 'wick']).optional(),
    at: durationSchema.optional(),
    legs: z.array(legSchema).min(1).optional(),
    /** after the last leg, fraction of the move given back (0 = stays at the shocked level; wick legs: within the leg) */
    recovery: z.number().min(0).max(1).optional(),
    /** time over which that recovery happens (default: the duration of the last leg, at least 1h) */
    recoveryDuration: durationSchema.optional(),
    /** mark price moves (1 + markExtra) × the trade price's move: 0.1 = mark wick 10 % beyond the trade wick, −0.3 = 30 % short of it */
    markExtra: z.number().min(-1).max(10).default(0),
    /** funding rate (per interval, fraction; > 0 longs pay) of every funding event settling in the shock window */
    fundingRate: z.number().min(-1).max(1).optional(),
    /** volume multiplier for the bars of the shock window */
    volume: z.number().positive().default(1),
  })
  .strict()
  .superRefine((s, ctx) => {
    const single = s.depth !== undefined || s.duration !== undefined || s.shape !== undefined || s.at !== undefined;
    if (s.legs && single) ctx.addIssue({ code: 'custom', message: "give either 'legs' or a single leg's 'depth'/'duration'/'shape'/'at', not both" });
    if (!s.legs && s.depth === undefined) ctx.addIssue({ code: 'custom', path: ['depth'], message: "a shock needs a 'depth' (or 'legs')" });
    // a shock ending in a wick gives back within the wick: no recovery after it, so its duration would be dropped without a word
    // an empty list is refused by its own .min(1) above, which does not stop this refinement
    if (s.legs && s.legs.length === 0) return;
    // a shock of depth 0 without a funding rate or a volume moves nothing: its scenario would replay the data
    // unchanged under a crash's name
    const depths = s.legs ? s.legs.map((l) => l.depth) : [s.depth];
    if (depths.every((d) => d === 0) && s.fundingRate === undefined && s.volume === 1) {
      ctx.addIssue({ code: 'custom', path: [s.legs ? 'legs' : 'depth'], message: "this shock moves nothing (depth 0, no 'fundingRate', no 'volume'): give a depth (−0.2 = −20 %), or drop the shock" });
    }
    // the mark moves (1 + markExtra) × the trade price's move: past the floor it would reach zero or below
    const written = Math.min(0, ...(s.legs ? s.legs.map((l) => l.depth) : [s.depth ?? 0]));
    const deepest = Math.max(DEPTH_FLOOR, written);
    // (a few ulps past the floor is the floor: markMap keeps the mark there)
    if (-deepest * (1 + s.markExtra) > -DEPTH_FLOOR + 1e-9) {
      const most = -DEPTH_FLOOR / -deepest - 1;
      ctx.addIssue({
        code: 'custom',
        path: ['markExtra'],
        message: `the mark would fall ${+(-deepest * (1 + s.markExtra) * 100).toFixed(4)} % (depth ${written}${written < deepest ? ` kept at ${DEPTH_FLOOR}` : ''} × (1 + markExtra ${s.markExtra})), past the −95 % a shock moves at most (at or below zero: no price); lower markExtra to at most ${+most.toFixed(6)} or make the shock shallower`,
      });
    }
    const last = s.legs ? [...s.legs].sort((a, b) => a.at - b.at).at(-1)!.shape : (s.shape ?? 'slide');
    if (s.recoveryDuration !== undefined && last === 'wick') {
      ctx.addIssue({ code: 'custom', path: ['recoveryDuration'], message: "a shock whose last leg is a 'wick' gives back within the wick (over its 'duration'), with no recovery after it; drop 'recoveryDuration' or end with a 'slide' or 'gap' leg" });
    } else if (s.recoveryDuration !== undefined && !((s.recovery ?? 0) > 0)) {
      // without a recovery (default 0) the price stays at the shocked level: nothing for the duration to time
      ctx.addIssue({ code: 'custom', path: ['recoveryDuration'], message: `nothing to time: this shock has ${s.recovery === undefined ? "no 'recovery' (0 by default)" : "'recovery: 0'"}, so the price stays at the shocked level after its last leg; set 'recovery' (the fraction of the move given back) or drop 'recoveryDuration'` });
    }
  })
  // legs in time order (stable for equal starts): the same shock written in another order is the
  // same scenario, with the same hash
  .transform((s) => (s.legs ? { ...s, legs: [...s.legs].sort((a, b) => a.at - b.at) } : s));

const scenarioIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected an id of letters, digits, ".", "_" or "-"');

export const scenarioSchema = z
  .object({
    id: scenarioIdSchema,
    title: z.string().default(''),
    /** the historical start of the shock (informative; injection times come from stress.inject) */
    date: z.string().optional(),
    /** where the figures come from */
    sources: z.array(z.string()).default([]),
    /** per-symbol shocks; a key matches a dataset symbol exactly or as its base asset ('BTC' matches BTCUSDT) */
    symbols: z.record(z.string().min(1), symbolShockSchema).default({}),
    /** market shock: applied to every symbol the `symbols` map does not name, scaled by its beta to the market */
    market: symbolShockSchema.optional(),
    /** the market the betas are measured against: a symbol key (default: the symbol matching 'BTC', else the equal-weighted mean of all symbols) */
    marketSymbol: z.string().min(1).optional(),
  })
  .strict()
  // a scenario moving nothing replays the data unchanged under a crash's name (the run warned "moves none of ( vs …)")
  .superRefine((s, ctx) => {
    // keys matching a symbol's base asset ignoring case ('btc' and 'BTC' both name BTCUSDT): the first moved it, the other
    // was dropped without a word (shockKeyFor)
    const keys = Object.keys(s.symbols);
    keys.forEach((k, i) => {
      const first = keys.slice(0, i).find((x) => x.toUpperCase() === k.toUpperCase());
      if (first !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['symbols', k], message: `'${first}' and '${k}' differ only in case: they name the same symbols (a key matches a symbol's base asset ignoring case), and only one of the two shocks would be used; keep one` });
      }
    });
    if (keys.length === 0 && s.market === undefined) {
      ctx.addIssue({ code: 'custom', path: ['symbols'], message: "a scenario moves prices: give 'symbols' (a shock per symbol, e.g. { BTC: { depth: -0.3, duration: '1h' } }) or 'market' (one for every symbol, by its beta)" });
    }
  });

export type ScenarioInput = z.input<typeof scenarioSchema>;
export type Scenario = z.output<typeof scenarioSchema>;
export type SymbolShock = z.output<typeof symbolShockSchema>;
export type SymbolShockInput = z.input<typeof symbolShockSchema>;

/** A compiled shock of one symbol: factor keypoints (offset ms since the shock start, factor). */
export interface CompiledShock {
  /** offsets, non-decreasing; two equal offsets = a gap (the second value holds from that instant) */
  t: number[];
  /** trade-price factor at each offset (1 = pre-shock level) */
  f: number[];
  /** mark factor = 1 + (f − 1) × (1 + markExtra) */
  markExtra: number;
  fundingRate: number | null;
  volume: number;
}

/**
 * A depth of the market moved to a symbol of beta `beta` (measured on log returns): ln(1 + d_s) = β · ln(1 + d).
 * β × d (the simple depth times β) overstated every crash of a β above 1 (ETH 1.48 under BTC −51 %: −75.7 % where
 * the log-return beta says −65.3 %), and could pass −100 %.
 */
export const betaDepth = (d: number, beta: number): number => (beta === 1 ? d : Math.expm1(beta * Math.log1p(d)));

/** Keypoints of a shock, depths moved by `scale` (a beta: betaDepth), depths kept at or above DEPTH_FLOOR. */
export function compileShock(s: SymbolShock, scale = 1): CompiledShock {
  // in time order: the first leg starts the shock, the last one's duration sets the default recovery time
  const legs = [
    ...(s.legs ?? [{ depth: s.depth ?? 0, duration: s.duration ?? 0, shape: s.shape ?? 'slide', at: s.at ?? 0, recovery: s.shape === 'wick' ? s.recovery : undefined }]),
  ].sort((a, b) => a.at - b.at);
  const clampDepth = (d: number) => Math.max(DEPTH_FLOOR, betaDepth(d, scale));
  const t: number[] = [];
  const f: number[] = [];
  let level = 1;
  let last = legs[0]!.at;
  t.push(last);
  f.push(1);
  let lastWick = false;
  for (let k = 0; k < legs.length; k++) {
    const leg = legs[k]!;
    const start = Math.max(leg.at, last);
    const target = 1 + clampDepth(leg.depth);
    if (start > last) {
      t.push(start);
      f.push(level);
    }
    if (leg.shape === 'gap') {
      t.push(start);
      f.push(target);
      if (leg.duration > 0) {
        t.push(start + leg.duration);
        f.push(target);
      }
      level = target;
    } else if (leg.shape === 'slide') {
      t.push(start + leg.duration);
      f.push(target);
      level = target;
    } else {
      // a wick gives back all by default; the shock's `recovery` (after the last leg) is the last wick's own
      const rec = leg.recovery ?? (k === legs.length - 1 ? s.recovery : undefined) ?? 1;
      t.push(start + leg.duration / 2);
      f.push(target);
      const end = target + (level - target) * rec;
      t.push(start + leg.duration);
      f.push(end);
      level = end;
    }
    last = t[t.length - 1]!;
    lastWick = leg.shape === 'wick';
  }
  const recovery = lastWick ? 0 : (s.recovery ?? 0);
  if (recovery > 0) {
    const lastLeg = legs[legs.length - 1]!;
    const dur = s.recoveryDuration ?? Math.max(3_600_000, lastLeg.duration);
    t.push(last + dur);
    f.push(level + (1 - level) * recovery);
  }
  return { t, f, markExtra: s.markExtra, fundingRate: s.fundingRate ?? null, volume: s.volume };
}

/** The factor at offset x: right-continuous (at a gap, the value after the jump). */
export function factorAt(c: CompiledShock, x: number): number {
  const { t, f } = c;
  if (x < t[0]!) return 1;
  const n = t.length;
  if (x >= t[n - 1]!) return f[n - 1]!;
  // last keypoint with t ≤ x
  let k = 0;
  while (k + 1 < n && t[k + 1]! <= x) k++;
  const t0 = t[k]!;
  const t1 = t[k + 1]!;
  return t1 === t0 ? f[k + 1]! : f[k]! + ((f[k + 1]! - f[k]!) * (x - t0)) / (t1 - t0);
}

/** The factor just before offset x (left limit; differs from factorAt only at a gap). */
export function factorBefore(c: CompiledShock, x: number): number {
  const { t, f } = c;
  if (x <= t[0]!) return 1;
  const n = t.length;
  if (x > t[n - 1]!) return f[n - 1]!;
  let k = 0;
  while (k + 1 < n && t[k + 1]! < x) k++;
  const t0 = t[k]!;
  const t1 = t[k + 1]!;
  return t1 === t0 ? f[k]! : f[k]! + ((f[k + 1]! - f[k]!) * (x - t0)) / (t1 - t0);
}

/**
 * Lowest and highest factor over offsets [a, b). The first keypoint at an offset is the level
 * just before it (a jump's start), so at x = a it is skipped: a bar that opens at a jump opens
 * after it and never prints the level before it (an instantaneous wick's depth at a counts).
 */
export function factorRange(c: CompiledShock, a: number, b: number): [number, number] {
  let lo = Math.min(factorAt(c, a), factorBefore(c, b));
  let hi = Math.max(factorAt(c, a), factorBefore(c, b));
  for (let k = 0; k < c.t.length; k++) {
    const x = c.t[k]!;
    if (x === a && (k === 0 || c.t[k - 1]! < a)) continue;
    if (x >= a && x < b) {
      lo = Math.min(lo, c.f[k]!);
      hi = Math.max(hi, c.f[k]!);
    }
  }
  return [lo, hi];
}

/** Offset at which the shock window ends (the last keypoint). */
export function shockEnd(c: CompiledShock): number {
  return c.t[c.t.length - 1]!;
}

/** Offset at which the shock starts moving the price (its first keypoint). */
export function shockStart(c: CompiledShock): number {
  return c.t[0]!;
}

const QUOTE_SUFFIX = /^[-_/]?(USDT|USDC|USD|BUSD|FDUSD|PERP)([-_/:]?(PERP|SWAP|USDT|USDC|USD))?$/i;

/** Does scenario key `key` name dataset symbol `symbol`? Exactly, or as its base asset ('BTC' ~ BTCUSDT, BTC-USD-PERP). */
export function keyMatches(key: string, symbol: string): boolean {
  if (key === symbol) return true;
  const k = key.toUpperCase();
  const s = symbol.toUpperCase();
  return s.startsWith(k) && QUOTE_SUFFIX.test(s.slice(k.length));
}

/** True when `scenario` moves none of `symbols`: no market shock and no symbol key naming one of them. */
export function scenarioMovesNone(scenario: Pick<Scenario, 'symbols' | 'market'>, symbols: readonly string[]): boolean {
  return !scenario.market && symbols.every((s) => shockKeyFor(scenario, s) === null);
}

/** The index of the symbol of `symbols` that market key `key` names (exact match first), or −1. */
export function marketIndex(key: string, symbols: readonly string[]): number {
  const exact = symbols.indexOf(key);
  return exact >= 0 ? exact : symbols.findIndex((s) => keyMatches(key, s));
}

/**
 * A warning when `scenario`'s market shock reaches symbols of a dataset (those its `symbols` map
 * does not name) but its market (`marketSymbol`, default BTC) is none of the dataset's symbols:
 * their betas are then measured against the equal-weighted mean of every symbol, silently. null otherwise.
 */
export function marketFallbackWarning(scenario: Pick<Scenario, 'id' | 'symbols' | 'market' | 'marketSymbol'>, dataset: { name: string; symbols: readonly string[] }): string | null {
  if (!scenario.market) return null;
  const shocked = dataset.symbols.filter((s) => shockKeyFor(scenario, s) === null);
  if (shocked.length === 0) return null;
  const key = scenario.marketSymbol ?? 'BTC';
  if (marketIndex(key, dataset.symbols) >= 0) return null;
  const named = scenario.marketSymbol !== undefined ? `its marketSymbol '${key}'` : `its default market BTC (no marketSymbol)`;
  const head = `stress scenario '${scenario.id}': ${named} is none of the symbols of dataset ${dataset.name} (${dataset.symbols.join(', ')}), so the market shock`;
  // one symbol: the mean is that symbol, its beta 1 ('the mean of all 1 symbols' said nothing of the kind)
  if (dataset.symbols.length === 1) return `${head} reaches ${shocked[0]} unscaled (its beta to the mean of one symbol, itself, is 1); set marketSymbol to ${shocked[0]} to say so`;
  const betas = shocked.length === 1 ? 'its beta' : 'their betas';
  return `${head} it gives ${shocked.join(', ')} is scaled by ${betas} to the equal-weighted mean of all ${dataset.symbols.length} symbols; set marketSymbol to one of them to choose the market`;
}

/**
 * A warning when `scenario` gives a mark move (`markExtra` ≠ 0) to symbols of a dataset that has no mark
 * candles at its bar timeframe: liquidations there are judged on trade prices, so markExtra moves only the
 * funding settlement prices — it looked like a mark wick and changed nothing a liquidation sees. null otherwise.
 */
export function markExtraWarning(
  scenario: Pick<Scenario, 'id' | 'symbols' | 'market'>,
  dataset: { name: string; timeframe: string; symbols: readonly string[]; markAtBarTimeframe: readonly boolean[] },
): string | null {
  const hit = dataset.symbols.filter((s, i) => {
    if (dataset.markAtBarTimeframe[i]) return false;
    const key = shockKeyFor(scenario, s);
    const shock = key !== null ? scenario.symbols[key] : scenario.market;
    return shock !== undefined && shock.markExtra !== 0;
  });
  if (hit.length === 0) return null;
  return `stress scenario '${scenario.id}' sets markExtra for ${hit.join(', ')}, which ${hit.length === 1 ? 'has' : 'have'} no mark candles at the ${dataset.timeframe} bars of dataset ${dataset.name}: liquidations there are judged on trade prices, so markExtra moves only the funding settlement prices; import mark candles at the bar timeframe (marginlab's docs/data.md) for it to move the liquidation source`;
}

/** The scenario key naming `symbol` (exact match first), or null. */
export function shockKeyFor(scenario: Pick<Scenario, 'symbols'>, symbol: string): string | null {
  const keys = Object.keys(scenario.symbols);
  return keys.find((k) => k === symbol) ?? keys.find((k) => keyMatches(k, symbol)) ?? null;
}

/**
 * The first of `symbols` that two keys of `scenario.symbols` both name by its base asset, none naming it exactly ('BTC' and
 * 'BTC-USD' for BTC-USD-PERP), with those keys: shockKeyFor takes the first and the other's shock is dropped without a
 * word. null when there is none.
 */
export function ambiguousShockKeys(scenario: Pick<Scenario, 'symbols'>, symbols: readonly string[]): { keys: [string, string]; symbol: string } | null {
  const keys = Object.keys(scenario.symbols);
  for (const symbol of symbols) {
    if (keys.includes(symbol)) continue;
    const named = keys.filter((k) => keyMatches(k, symbol));
    if (named.length > 1) return { keys: [named[0]!, named[1]!], symbol };
  }
  return null;
}

/** First 12 hex digits of the sha256 of a scenario's resolved definition (canonical, sorted keys). */
export function scenarioHash(s: Scenario): string {
  return sha256Hex(canonicalJson(s)).slice(0, 12);
}

