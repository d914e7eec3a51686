/**
 * Maintenance-margin tier tables: construction (Binance's cum recurrence), lookup, dated tables,
 * and lazy loading of the bundled Binance bracket snapshots in data/binance-tiers/.
 *
 * Spec: margin-spec.md §1.2 (MM = notional × MMR − cum; cum_n = cum_{n−1} + floor_n × (MMR_n − MMR_{n−1});
 * tier = highest tier whose floor ≤ notional).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Decimal } from 'decimal.js';
import { configError, dataError } from '../errors.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { jsonDuplicateKey, jsonFaultText } from '../util/json-text.js';
import { didYouMean } from '../util/nearest.js';
import { shownValue } from '../util/excerpt.js';
import type { Tier } from './types.js';

/** A tier as a user or a table gives it: cap and cum optional (cap = next floor, cum by recurrence). */
export interface TierInput {
  floor: number;
  cap?: number;
  mmr: number;
  maxLeverage?: number;
  cum?: number;
}

/**
 * Builds a validated, sorted tier table. Missing `cum` values follow Binance's recurrence
 * (`cum_n = cum_{n−1} + floor_n × (mmr_n − mmr_{n−1})`, cum_0 = 0); missing caps are the next
 * floor (the last tier is open-ended); a missing maxLeverage is 1 / (2 × mmr) rounded down (≥ 1).
 * Throws a message naming `where` when the table is unusable.
 */
export function buildTiers(input: readonly TierInput[], where: string, onError = configError): Tier[] {
  if (!Array.isArray(input) || input.length === 0) throw onError(`${where}: a tier table needs at least one tier`);
  // each tier is checked, and named, in the order given ("tier 2" is the second written, whatever its floor): a table
  // written out of order named its tiers after sorting, and a misspelt key (maxLevrage) was left out in silence
  const keys = ['floor', 'cap', 'mmr', 'maxLeverage', 'cum'] as const;
  input.forEach((r: unknown, k) => {
    const at = `${where} tier ${k + 1}`;
    if (r === null || typeof r !== 'object' || Array.isArray(r)) throw onError(`${at}: expected an object { floor, mmr, maxLeverage?, cap?, cum? }, got ${r === null ? 'null' : Array.isArray(r) ? 'an array' : typeof r}`);
    for (const key of Object.keys(r)) {
      if (!(keys as readonly string[]).includes(key)) throw onError(`${at}: unknown key "${key}"${didYouMean(key, keys)} (known: ${keys.join(', ')})`);
    }
    const t = r as TierInput;
    if (typeof t.floor !== 'number' || !Number.isFinite(t.floor) || t.floor < 0) throw onError(`${at}: floor must be a number ≥ 0, got ${shownValue(t.floor)}`);
    if (typeof t.mmr !== 'number' || !Number.isFinite(t.mmr) || t.mmr < 0 || t.mmr >= 1) throw onError(`${at}: mmr must be a rate in [0, 1), got ${shownValue(t.mmr)}`);
    if (t.maxLeverage !== undefined && (typeof t.maxLeverage !== 'number' || !Number.isFinite(t.maxLeverage) || t.maxLeverage < 1)) throw onError(`${at}: maxLeverage must be ≥ 1, got ${shownValue(t.maxLeverage)}`);
    if (t.cum !== undefined && (typeof t.cum !== 'number' || !Number.isFinite(t.cum))) throw onError(`${at}: cum must be a number, got ${shownValue(t.cum)}`);
    if (t.cap !== undefined && (typeof t.cap !== 'number' || Number.isNaN(t.cap) || !(t.cap > t.floor))) throw onError(`${at}: cap ${shownValue(t.cap)} must exceed floor ${t.floor}`);
  });
  const order = input.map((r, k) => ({ r, k })).sort((a, b) => a.r.floor - b.r.floor || a.k - b.k);
  const rows = order.map((o) => o.r);
  const named = (i: number) => `tier ${order[i]!.k + 1}`;
  if (rows[0]!.floor !== 0) throw onError(`${where}: the first tier must start at notional 0, got a lowest floor of ${rows[0]!.floor} (${named(0)})`);
  for (let i = 1; i < rows.length; i++) {
    if (rows[i]!.floor === rows[i - 1]!.floor) throw onError(`${where} ${named(i)}: duplicate floor ${rows[i]!.floor} (${named(i - 1)} has it too): give each tier its own floor`);
    // tiers meet: a cap given below or above the next floor left notionals in no tier or in two
    const cap = rows[i - 1]!.cap;
    if (cap !== undefined && cap !== rows[i]!.floor) throw onError(`${where} ${named(i - 1)}: cap ${cap} is not the next tier's floor ${rows[i]!.floor} (${named(i)}): tiers must meet; leave cap out (it is the next floor)`);
  }
  const out: Tier[] = [];
  // the previous tier's cum: exact (a decimal) when the recurrence made it, so that the chain is not
  // rounded to a double at each tier; else the number given. A Decimal is made only for a tier whose
  // cum is left out (the bundled tables give every cum: building their 10,000 tiers made a Decimal
  // each; loading them took 45 ms, 38 ms now)
  let prevCumExact: Decimal | null = null;
  let prevCum = 0;
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const next = rows[i + 1];
    const cap = r.cap ?? (next ? next.floor : Number.POSITIVE_INFINITY);
    const maxLeverage = r.maxLeverage ?? Math.max(1, Math.floor(r.mmr > 0 ? 1 / (2 * r.mmr) : 125));
    const prev = out[i - 1];
    // the recurrence in decimal arithmetic, so that round tables give round cum values
    const chained: Decimal | null = r.cum !== undefined ? null : prev ? (prevCumExact ?? new Decimal(prevCum)).plus(new Decimal(r.floor).times(new Decimal(r.mmr).minus(prev.mmr))) : new Decimal(0);
    const cum = r.cum ?? chained!.toNumber();
    if (!Number.isFinite(cum)) throw onError(`${where} ${named(i)}: cum must be a number, got ${String(cum)}`);
    // frozen: a venue's tier tables are shared by every run of a worker (a strategy reaches them through createAccount)
    out.push(Object.freeze({ floor: r.floor, cap, mmr: r.mmr, maxLeverage, cum }));
    prevCumExact = chained;
    prevCum = cum;
  }
  return out;
}

/** Index of the tier for `notional`: the highest tier whose floor ≤ notional (floors inclusive). */
export function tierIndex(tiers: readonly Tier[], notional: number): number {
  let i = 0;
  for (let k = 1; k < tiers.length; k++) {
    if (notional >= tiers[k]!.floor) i = k;
    else break;
  }
  return i;
}

/**
 * The largest position notional a table allows at any leverage: its top tier's cap (Binance: the last bracket's
 * notionalCap, error -2027), Infinity for a table whose last tier has none (Hyperliquid, a custom table).
 */
export function maxNotional(tiers: readonly Tier[]): number {
  return tiers[tiers.length - 1]!.cap;
}

export function tierFor(tiers: readonly Tier[], notional: number): Tier {
  return tiers[tierIndex(tiers, notional)]!;
}

/** MM = notional × MMR − cum with the tier chosen by notional (Binance §1.2). */
export function maintenanceFor(tiers: readonly Tier[], notional: number): number {
  const t = tiers[tierIndex(tiers, notional)]!;
  return notional * t.mmr - t.cum;
}

/** A table in force from `fromMs` (inclusive) for a set of symbols, plus a default for others. */
export interface DatedTable {
  /** snapshot label, e.g. '2024-10-24' */
  snapshot: string;
  fromMs: number;
  source: string;
  symbols: ReadonlyMap<string, readonly Tier[]>;
}

/** Picks the table in force at `asOfMs`: the latest whose date ≤ asOf, else the earliest. */
export function pickDated<T extends { fromMs: number }>(tables: readonly T[], asOfMs: number): T {
  if (tables.length === 0) throw new Error('pickDated: no tables');
  let best: T | undefined;
  let earliest = tables[0]!;
  for (const t of tables) {
    if (t.fromMs < earliest.fromMs) earliest = t;
    if (t.fromMs <= asOfMs && (!best || t.fromMs > best.fromMs)) best = t;
  }
  return best ?? earliest;
}

// ---------------------------------------------------------------------------------------------
// Bundled Binance bracket snapshots (data/binance-tiers/binance-usdm-YYYY-MM-DD.json)

/** bundled with the package: <package root>/data/binance-tiers */
export const BINANCE_TIERS_DIR = resolve(PACKAGE_ROOT, 'data', 'binance-tiers');

interface BracketFile {
  venue: string;
  snapshot: string;
  source: string;
  columns: string[];
  symbols: Record<string, number[][]>;
}

const fileCache = new Map<string, DatedTable[]>();

/**
 * Loads (once per process, lazily) every `<prefix>-YYYY-MM-DD.json` file of `dir`. Bad files are
 * data errors (65) naming the file and key.
 */
export function loadBracketSnapshots(dir: string, prefix: string): DatedTable[] {
  const key = `${dir}|${prefix}`;
  const hit = fileCache.get(key);
  if (hit) return hit;
  const tables: DatedTable[] = [];
  if (existsSync(dir)) {
    const re = new RegExp(`^${prefix.replace(/[-.]/g, (c) => `\\${c}`)}-(\\d{4}-\\d{2}-\\d{2})\\.json$`);
    for (const f of readdirSync(dir).sort()) {
      const m = re.exec(f);
      if (!m) continue;
      const file = join(dir, f);
      let parsed: BracketFile;
      let text = '';
      try {
        text = readFileSync(file, 'utf8');
        parsed = JSON.parse(text) as BracketFile;
      } catch (e) {
        throw dataError(`${file}: not valid JSON (${jsonFaultText(text, e)})`);
      }
      // a symbol's tiers written twice (two snapshots pasted together): JSON keeps the last in silence
      const dup = jsonDuplicateKey(text);
      if (dup) throw dataError(`${file}: '${dup.key}' is written twice in ${dup.path} (line ${dup.line}); JSON keeps only the last: keep one`);
      const cols = parsed.columns;
      const want = ['floor', 'cap', 'mmr', 'maxLeverage', 'cum'];
      if (!Array.isArray(cols) || want.some((c, i) => cols[i] !== c))
        throw dataError(`${file}: "columns" must be ${JSON.stringify(want)}`);
      if (!parsed.symbols || typeof parsed.symbols !== 'object') throw dataError(`${file}: missing "symbols" object`);
      const symbols = new Map<string, readonly Tier[]>();
      for (const [sym, rows] of Object.entries(parsed.symbols)) {
        if (!Array.isArray(rows)) throw dataError(`${file}: symbols.${sym} must be an array of [floor,cap,mmr,maxLeverage,cum]`);
        const tiers = buildTiers(
          rows.map((r) => ({ floor: r[0]!, cap: r[1]!, mmr: r[2]!, maxLeverage: r[3]!, cum: r[4]! })),
          `${file} symbols.${sym}`,
          dataError,
        );
        symbols.set(sym, Object.freeze(tiers));
      }
      const snapshot = m[1]!;
      tables.push({ snapshot, fromMs: Date.parse(`${snapshot}T00:00:00Z`), source: String(parsed.source ?? file), symbols });
    }
  }
  tables.sort((a, b) => a.fromMs - b.fromMs);
  fileCache.set(key, tables);
  return tables;
}
