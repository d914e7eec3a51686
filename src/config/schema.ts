/**
 * The backtest.config.ts schema (zod). One schema validates the whole file and reports every
 * problem with its key path; `resolveConfig` turns the validated input into the frozen
 * ResolvedConfig the run layer uses and the manifest records.
 */
import { TIMEFRAME_FORM, timeframeHint, timeframeMsOrNaN } from '../feed/timeframe.js';
import { z } from 'zod';
import type { VenueOverrides } from '../venue/index.js';
import { Decimal } from 'decimal.js';
import { UNIT_DP as BOOK_DECIMALS } from '../account/fixed.js';
import { dateHint, parseDate } from '../util/time.js';
import { scenarioSchema } from '../stress/scenario.js';
import { MAX_PATHS } from '../stress/plan.js';

/** the default of timeoutMs: a pass's time limit, and that of the strategies' code the CLI runs before the sweep (ms) */
export const DEFAULT_TIMEOUT_MS = 600_000;

export { parseDate };

import { CROSS_CHECKS, DEFAULT_EXECUTION, INTRABAR_PATHS, MAX_SLIPPAGE_BPS, SETUP_IDS, type SetupId } from '../engine/setups.js';

export { SETUP_IDS, type SetupId };
export const REPORT_FORMATS = ['json', 'csv', 'md', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/** what a config value was, for a message: a short excerpt of strings and numbers, else its kind */
const given = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v) : typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : Array.isArray(v) ? 'a list' : typeof v;

/** A date: ms UTC, or an ISO-8601 string ('2025-01-01' is midnight UTC). */
export const dateSchema = z.union([z.number().int().nonnegative(), z.string()], {
  error: (iss) => `expected a date (ms UTC or ISO-8601 like '2025-01-01'), got ${iss.input instanceof Date ? 'a Date object (write its .toISOString() or .getTime())' : typeof iss.input === 'number' || typeof iss.input === 'boolean' || iss.input === null ? String(iss.input) : typeof iss.input}`,
}).transform((v, ctx) => {
  const ms = parseDate(v);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: `expected a date (ms UTC or ISO-8601 like '2025-01-01'), got ${JSON.stringify(v)}${dateHint(v)}` });
    return z.NEVER;
  }
  return ms;
});

const datasetObject = z
  .object({
    /** dataset folder, relative to the config file */
    path: z.string({ error: (iss) => (iss.input === undefined ? "required: the dataset folder, e.g. path: 'data/my-set' (relative to the config file), or SAMPLE_DATA from 'marginlab'" : `expected a dataset folder (a string), got ${given(iss.input)}`) }).min(1),
    /** candle timeframe (default: the dataset's default) */
    timeframe: z.string().min(1).refine((tf) => Number.isFinite(timeframeMsOrNaN(tf)), { error: (iss) => `expected a timeframe: ${TIMEFRAME_FORM}${typeof iss.input === 'string' ? `, got ${given(iss.input)}${timeframeHint(iss.input)}` : ''}` }).optional(),
    /** subset of symbols to load (default: all) */
    symbols: z.array(z.string().min(1)).min(1).optional(),
    /** what a gap in candle spacing does (default 'error') */
    gaps: z.enum(['error', 'warn']).default('error'),
  })
  .strict();
const datasetSchema = z.union([z.string().min(1).transform((path) => ({ path, gaps: 'error' as const })), datasetObject]);

/**
 * The first place in `v` that is not JSON data (a run records params, grid values and venue
 * overrides in its RunSpec, JSON, hashed): NaN and ±Infinity (JSON would write null), a bigint, a
 * function, a symbol, undefined in a list, an object that is not plain (a Date, a Map, a class
 * instance). A key whose value is undefined is an absent key. null when it is all JSON data.
 */
export function nonJsonAt(v: unknown, path: (string | number)[] = []): { path: (string | number)[]; got: string } | null {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
  if (typeof v === 'number') return Number.isFinite(v) ? null : { path, got: String(v) };
  if (typeof v === 'bigint') return { path, got: `${v}n (a bigint: write a number)` };
  if (v === undefined || typeof v === 'function' || typeof v === 'symbol') return { path, got: v === undefined ? 'undefined' : `a ${typeof v}` };
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = nonJsonAt(v[i], [...path, i]);
      if (bad) return bad;
    }
    return null;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return { path, got: v instanceof Date ? 'a Date object (write its .toISOString())' : `a ${(v as object).constructor?.name ?? 'non-plain'} object` };
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (x === undefined) continue;
    const bad = nonJsonAt(x, [...path, k]);
    if (bad) return bad;
  }
  return null;
}

/** a refinement: every value JSON data (nonJsonAt), the first other one reported at its path */
const jsonData = (v: unknown, ctx: z.RefinementCtx): void => {
  const bad = nonJsonAt(v);
  if (bad) ctx.addIssue({ code: 'custom', path: bad.path, message: `expected JSON data (a finite number, a string, true/false, null, a list or a plain object), got ${bad.got}` });
};

/** the problem of a value a list holds twice, every list of the config alike */
const listedTwice = (v: unknown): string => `${JSON.stringify(v)} is listed twice; list it once`;

/** a refinement of a list: a value given twice is refused at its index (`setups[1]: "cross" is listed twice; list it once`), as a leverage is */
const noDuplicates = (list: readonly unknown[], ctx: z.RefinementCtx): void => {
  const seen = new Set<unknown>();
  list.forEach((v, i) => {
    if (seen.has(v)) ctx.addIssue({ code: 'custom', path: [i], message: listedTwice(v) });
    seen.add(v);
  });
};

/** A numeric range, inclusive at both ends: { from: 10, to: 50, step: 10 } = 10, 20, 30, 40, 50. */
const rangeSchema = z
  .object({ from: z.number(), to: z.number(), step: z.number().positive() })
  .strict()
  .superRefine((r, ctx) => {
    if (r.to < r.from) ctx.addIssue({ code: 'custom', message: `range 'to' (${r.to}) is below 'from' (${r.from})` });
    // a step that is not positive is its own problem (step: ...), not also "more than 10,000 values"
    else if (r.step > 0 && (r.to - r.from) / r.step > 10_000) ctx.addIssue({ code: 'custom', message: 'range has more than 10,000 values' });
  });
export type GridRange = z.infer<typeof rangeSchema>;

const gridValue = z.union([z.array(z.unknown()).min(1, 'a grid list needs at least one value'), rangeSchema]);

/** the largest initialCapital a config accepts (USDT) */
export const MAX_INITIAL_CAPITAL = 1e15;

/** A leverage: 1 = no leverage; below 1 no venue accepts it (the venue's maximum is checked against the data, see checkLeverageLimits). */
const leverageSchema = z.number().min(1, 'expected a leverage ≥ 1 (1 = no leverage)');

const strategyObject = z
  .object({
    name: z.string().min(1),
    /** fixed param values (passed as they are; arrays are values, not grids) */
    params: z.record(z.string(), z.unknown()).superRefine(jsonData).default({}),
    /** param grid: each key a list of values or a range; the plan takes the cartesian product */
    grid: z.record(z.string(), gridValue).superRefine(jsonData).default({}),
    /** margin setups compared for this strategy (default: the top-level `setups`, plus 'mixed' when the strategy asks for it) */
    setups: z.array(z.enum(SETUP_IDS)).min(1).superRefine(noDuplicates).optional(),
    /** leverage list for this strategy (default: the top-level `leverage`) */
    leverage: z.array(leverageSchema).min(1).superRefine(noDuplicates).optional(),
  })
  .strict();
/** 'all' inside the list read as a strategy named all ("unknown strategy 'all'"): it is the whole value, '*' the list's word */
function allInList(entries: readonly { name: string }[], ctx: z.RefinementCtx): void {
  entries.forEach((e, i) => {
    if (e.name === 'all') ctx.addIssue({ code: 'custom', path: [i], message: "'all' is the whole value, not a list entry: write strategies: 'all', or '*' inside the list for every strategy it does not name" });
  });
}
const strategyEntry = z.union([z.string().min(1).transform((name) => ({ name, params: {}, grid: {} })), strategyObject]);

const executionSchema = z
  .object({
    // below 10,000 bp (100 %): a sell at or past it fills at no price (20,000 bp ran 'ok' with every order rejected)
    slippageBps: z.number().min(0).lt(MAX_SLIPPAGE_BPS).default(DEFAULT_EXECUTION.slippageBps),
    participation: z.object({ maxFraction: z.number().gt(0).max(1) }).strict().nullable().default(null),
    intrabarPath: z.enum(INTRABAR_PATHS).default(DEFAULT_EXECUTION.intrabarPath),
    crossCheck: z.enum(CROSS_CHECKS).default(DEFAULT_EXECUTION.crossCheck),
  })
  .strict();

/** Stress runs (docs/stress.md): crash scenarios spliced into the data, Monte Carlo paths. */
export const stressSchema = z
  .object({
    /** scenarios replayed at every injection time: ids of the crash pack, or definitions (default: the whole pack) */
    scenarios: z.array(z.union([z.string().min(1), scenarioSchema])).optional(),
    /** when the scenarios are spliced in: dates, every N bars, K seeded random times (default: 3 random times) */
    inject: z
      .object({
        at: z.array(dateSchema).min(1).optional(),
        every: z.number().int().positive().optional(),
        random: z.number().int().min(0).max(10_000).optional(),
      })
      .strict()
      .default({}),
    /** Monte Carlo paths per configuration (stationary block bootstrap of the data's joint bars) */
    paths: z.number().int().min(0).max(MAX_PATHS).default(100),
    /** mean block length of the bootstrap, bars (default: one day of bars) */
    blockBars: z.number().int().positive().optional(),
    /** crashes spliced into each path at seeded random times (default 0) */
    crashesPerPath: z.number().int().min(0).max(100).default(0),
    /** scenario ids the path crashes are drawn from (default: stress.scenarios) */
    crashScenarios: z.array(z.string().min(1)).optional(),
    /** seed of every random choice (paths, injection times, crashes) */
    seed: z.number().int().min(0).max(4_294_967_295).default(1),
    /** reports: probability of a liquidation or a wipe-out under which a leverage counts as surviving (docs/report.md, Stress) */
    survivalThreshold: z.number().gt(0).max(1).default(0.05),
    /** Monte Carlo path runs keep their event log, liquidation-price steps and price curves (default false: outcome, metrics, books and curves only) */
    pathEvents: z.boolean().default(false),
  })
  .strict();

const decimalString = /^\d+(\.\d+)?$/;

/** the smallest and largest workerMemoryMb (a worker needs about 40 MB to load marginlab and a strategy) */
export const MIN_WORKER_MEMORY_MB = 64;
export const MAX_WORKER_MEMORY_MB = 1_048_576;
/** the most worker threads a config (or --workers) asks for */
export const MAX_WORKERS = 1024;

/** the longest run name: it names the report folder, and a file system's limit is 255 bytes a name */
export const MAX_NAME_LENGTH = 100;

export const configSchema = z
  .object({
    /** run name: the report goes to reports/<name>/ unless output.dir says otherwise */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'expected a name of letters, digits, ".", "_" or "-"')
      // it names the report folder (reports/<name>): a file system refuses a folder name of more than 255 bytes
      .max(MAX_NAME_LENGTH, `expected a name of at most ${MAX_NAME_LENGTH} characters (it names the report folder reports/<name>)`),
    /** one dataset or several (every run is planned on each) */
    data: z.union([datasetSchema, z.array(datasetSchema).min(1)], {
      error: (iss) => `expected a dataset folder, { path, timeframe?, symbols?, gaps? } or a list of them, got ${given(iss.input)}`,
    }),
    /** inclusive start / exclusive end of the replay, ms UTC or ISO date (null = dataset bounds) */
    from: dateSchema.nullable().default(null),
    to: dateSchema.nullable().default(null),
    venue: z
      .union([
        z.string().min(1).transform((id) => ({ id, overrides: {} as Record<string, unknown> })),
        z.object({ id: z.string().min(1), overrides: z.record(z.string(), z.unknown()).superRefine(jsonData).default({}) }).strict(),
      ], { error: (iss) => `expected a venue id such as 'binance-usdm', or { id, overrides }, got ${given(iss.input)}` })
      .default({ id: 'binance-usdm', overrides: {} }),
    /** 'all' = every strategy the registry finds, default params; in a list, the name '*' stands for every strategy the list does not name */
    strategies: z.union([z.literal('all'), z.array(strategyEntry).min(1).superRefine(allInList)], {
      error: (iss) =>
        `expected 'all' or a list of strategy names or entries, got ${given(iss.input)}${typeof iss.input === 'string' ? ` (one strategy: write strategies: [${JSON.stringify(iss.input)}])` : ''}`,
    }),
    setups: z.array(z.enum(SETUP_IDS)).min(1).superRefine(noDuplicates).default(['isolated', 'cross']),
    /** mode of positions whose order names no mode, in the 'mixed' setup */
    mixedDefaultMode: z.enum(['isolated', 'cross']).default('cross'),
    leverage: z.union([leverageSchema, z.array(leverageSchema).min(1)], { error: (iss) => `expected a leverage ≥ 1 or a list of them (e.g. [3, 10]), got ${given(iss.input)}` }).default([3]),
    initialCapital: z
      .union([z.number().positive({ error: (iss) => `expected a positive amount like 10000, got ${given(iss.input)}` }), z.string().refine((v) => decimalString.test(v) && Number(v) > 0, {
          error: (iss) => {
            const v = String(iss.input);
            // "1e6" reads as a number to a person: say that the exponent is the problem
            const exp = /^\s*\+?(\d+\.?\d*|\.\d+)[eE][+-]?\d+\s*$/.test(v) && Number(v) > 0 && Number(v) <= MAX_INITIAL_CAPITAL && new Decimal(v.trim()).decimalPlaces() <= BOOK_DECIMALS ? ` (without an exponent: write "${new Decimal(v.trim()).toFixed()}")` : '';
            return `expected a positive decimal like "10000" (a number or a string, the same rule)${exp}`;
          },
        })], {
        error: (iss) => `expected a positive amount like 10000 or "10000", got ${given(iss.input)}`,
      })
      // the books count 1e-8 USDT units: far above this the amounts no longer fit a float and every curve is Infinity
      // (a string the branch above refused is its one problem: '10,000' is not also "more than 1e15"); compared as a
      // decimal: '1000000000000000.01' is the double 1e15
      .refine((v) => (typeof v === 'string' && !(decimalString.test(v) && Number(v) > 0)) || new Decimal(typeof v === 'string' ? v.trim() : v).lte(MAX_INITIAL_CAPITAL), 'expected at most 1e15 USDT (1,000,000,000,000,000)')
      // the books count 0.00000001 USDT: a 9th decimal was dropped by the account, and 1e-9 ran as a capital of 0 (every run 'ok', -100 %)
      .refine(
        (v) => (typeof v === 'string' && !(decimalString.test(v) && Number(v) > 0)) || (typeof v === 'number' && !(v > 0)) || new Decimal(v).decimalPlaces() <= BOOK_DECIMALS,
        `expected at most ${BOOK_DECIMALS} decimals, at least 0.00000001 (the books count 0.00000001 USDT)`,
      )
      .default('10000'),
    execution: executionSchema.default({ ...DEFAULT_EXECUTION, participation: null }),
    output: z
      .object({
        /** report folder, relative to the config file (default reports/<name>) */
        dir: z.string().min(1).optional(),
        formats: z.array(z.enum(REPORT_FORMATS)).min(1).superRefine(noDuplicates).default([...REPORT_FORMATS]),
      })
      .strict()
      .default({ formats: [...REPORT_FORMATS] }),
    /** worker threads ('auto' = os.availableParallelism()) */
    workers: z.union([z.literal('auto'), z.number().int().positive().max(MAX_WORKERS, `expected at most ${MAX_WORKERS} worker threads`)], { error: (iss) => `expected 'auto' or a number of worker threads ≥ 1, got ${given(iss.input)}` }).default('auto'),
    /** heap limit of each worker thread, MB ('auto' = the memory the process may use, shared among the workers; src/shard/execute.ts workerHeapLimit) */
    workerMemoryMb: z
      .union([z.literal('auto'), z.number().int().min(MIN_WORKER_MEMORY_MB, `expected at least ${MIN_WORKER_MEMORY_MB} MB (a worker needs about 40 MB to load marginlab and a strategy)`).max(MAX_WORKER_MEMORY_MB, `expected at most ${MAX_WORKER_MEMORY_MB} MB (1 TB)`)], {
        error: (iss) => `expected 'auto' or a heap limit per worker in MB, a whole number from ${MIN_WORKER_MEMORY_MB} to ${MAX_WORKER_MEMORY_MB}, got ${given(iss.input)}`,
      })
      .default('auto'),
    /** per replay pass (one task = the setups of one strategy × params × leverage), ms */
    timeoutMs: z.number().int().positive().default(DEFAULT_TIMEOUT_MS),
    /** extra folders of strategy files, relative to the config file */
    strategyDirs: z.array(z.string().min(1)).superRefine(noDuplicates).default([]),
    /** events kept per run in results: null (default) keeps every event; a number keeps the first N and the report says where it cut */
    maxEventsPerRun: z.number().int().nonnegative().nullable().default(null),
    /** the largest plan (runs before --shard) a run accepts; counted before the plan is built */
    maxRuns: z.number().int().positive().default(100_000),
    /** stress runs next to the history runs (absent: history only; `marginlab stress` adds it) */
    stress: stressSchema.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.from !== null && c.to !== null && c.to <= c.from) ctx.addIssue({ code: 'custom', path: ['to'], message: `'to' must be after 'from'` });
    const lev = new Set<number>();
    (Array.isArray(c.leverage) ? c.leverage : [c.leverage]).forEach((l, i) => {
      if (lev.has(l)) ctx.addIssue({ code: 'custom', path: ['leverage', i], message: listedTwice(l) });
      lev.add(l);
    });
  });

/**
 * The config as a user writes it (before defaults). `venue.overrides` is typed as the venue takes it (VenueOverrides), so a misspelt key in a
 * tier table or a section (`maxLevrage`, `fees.takr`) is a type error as it is an error when run (78).
 */
export type UserConfig = Omit<z.input<typeof configSchema>, 'venue'> & {
  /** a venue id ('binance-usdm', 'bybit-linear', 'okx', 'hyperliquid'), or { id, overrides } (docs/margin.md) */
  venue?: string | { id: string; overrides?: VenueOverrides };
};
