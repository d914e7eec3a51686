/**
 * The operations of `marginlab calc` (the public contract of the margin engine): one JSON object
 * in, one JSON object out. Field names are exact; see docs/margin.md for the list.
 *
 * Input problems throw CalcInputError (the CLI turns them into {"error": "..."} lines).
 * Prices that do not exist (no positive liquidation price) are null.
 */
import { getVenue, venueIdOf, venueIds } from './index.js';
import type { Side, Tier, VenueProfile } from './types.js';
import { buildTiers, tierFor, type TierInput } from './tiers.js';
import { dateHint, parseDate } from '../util/time.js';
import { fundingSettleTime } from '../feed/timeframe.js';
import { DECIMAL_TEXT } from '../util/decimal-text.js';
import { shownValue } from '../util/excerpt.js';
import { nearest } from '../util/nearest.js';
import { ClosedForm } from './math.js';
import { exactBankruptcyPrice, exactBybitWallet, exactLiquidationPrice, exactMaintenanceMargin, exactTierRoot, givenSign, XD, type XDecimal } from './math-exact.js';

export class CalcInputError extends Error {}

type Obj = Record<string, unknown>;
type Out = Record<string, number | boolean | string | null>;


const fail = (msg: string): never => {
  throw new CalcInputError(msg);
};

/** a value as a message shows it back, at most 60 characters (an input line may be megabytes): util/excerpt.ts shownValue, the one home */
export function shown(v: unknown): string {
  return shownValue(v, 60);
}

interface NumOpts {
  min?: number;
  positive?: boolean;
  /** a rate in [0, 1) (an MMR, as a tier table requires) */
  rate?: true;
  optional?: boolean;
}

/**
 * A number input as a decimal, every digit the user gave kept (a JSON number is what JSON.parse
 * made of it; a decimal string such as "999991362288.98567861", as marginlab's own result files write
 * money, keeps its 20 digits). The checks run on the decimal and a message shows the value as given.
 * It must also fit a double (the tier tables and the answer are numbers): not beyond 1.8e308, and
 * not a non-zero value a double rounds to 0 or a rate a double rounds to 1.
 */
function dec(o: Obj, key: string, opts: NumOpts & { optional?: false }): XDecimal;
function dec(o: Obj, key: string, opts: NumOpts & { optional: true }): XDecimal | undefined;
function dec(o: Obj, key: string, opts: NumOpts): XDecimal | undefined {
  const raw = o[key];
  if (raw === undefined || raw === null) {
    if (opts.optional) return undefined;
    return fail(`"${key}" is required (a number)`);
  }
  const text = typeof raw === 'string' ? raw.trim() : null;
  // JSON.parse reads 1e400 as Infinity (JSON has no NaN or Infinity literals)
  if (raw === Number.POSITIVE_INFINITY || raw === Number.NEGATIVE_INFINITY) return fail(`"${key}" is too large for a number (above 1.8e308)`);
  let d: XDecimal;
  if (typeof raw === 'number' && Number.isFinite(raw)) d = new XD(raw);
  else if (text !== null && DECIMAL_TEXT.test(text)) d = new XD(text);
  else return fail(`"${key}" must be a number (a JSON number or a decimal string such as "1234.5"), got ${shown(raw)}`);
  // the value as given: a decimal string's digits, unquoted (truncated at 60 characters)
  const given = text !== null ? (text.length > 60 ? `${text.slice(0, 59)}…` : text) : shown(raw);
  const n = d.toNumber();
  if (!Number.isFinite(n)) return fail(`"${key}" is too large for a number (above 1.8e308), got ${given}`);
  const { nonZero, negative } = givenSign(d, text);
  if (opts.positive && !(nonZero && !negative)) return fail(`"${key}" must be > 0, got ${given}`);
  if (opts.rate && !(!negative && d.gte(0) && d.lt(1))) return fail(`"${key}" must be a rate in [0, 1), got ${given}`);
  if (opts.rate && n >= 1) return fail(`"${key}" must be a rate in [0, 1), got ${given}, which is 1 to a number's 17 digits; give at most 16 nines`);
  if (opts.min !== undefined && (d.lt(opts.min) || (negative && opts.min >= 0))) return fail(`"${key}" must be ≥ ${opts.min}, got ${given}`);
  if (nonZero && n === 0) return fail(`"${key}" is too small for a number (${given}: a number's smallest is 5e-324); give 0 or a value a number can hold`);
  return d;
}

/** a number input as a double (tier tables, times, limits), checked as `dec` checks it */
function num(o: Obj, key: string, opts: NumOpts & { optional?: false }): number;
function num(o: Obj, key: string, opts: NumOpts & { optional: true }): number | undefined;
function num(o: Obj, key: string, opts: NumOpts): number | undefined {
  const d = opts.optional ? dec(o, key, { ...opts, optional: true }) : dec(o, key, { ...opts, optional: false });
  return d === undefined ? undefined : d.toNumber();
}

function str(o: Obj, key: string, optional = false): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return optional ? undefined : fail(`"${key}" is required (a string)`);
  if (typeof v !== 'string' || v.length === 0) return fail(`"${key}" must be a non-empty string, got ${shown(v)}`);
  return v;
}

function side(o: Obj, key = 'side'): Side {
  const v = o[key];
  if (v === 'long') return 1;
  if (v === 'short') return -1;
  if (v === undefined || v === null) return fail(`"${key}" is required ("long" or "short")`);
  return fail(`"${key}" must be "long" or "short", got ${shown(v)}`);
}

/**
 * Refuses a key the op does not read: a misspelt optional key ("takerfee", "asof", "closeTIme")
 * would otherwise be ignored and the answer silently computed without it.
 */
function onlyKeys(o: Obj, known: readonly string[], what: string): void {
  for (const k of Object.keys(o)) {
    if (!known.includes(k)) fail(`unknown key ${shown(k)} for ${what}; known keys: ${known.join(', ')}`);
  }
}

/** the keys `liquidationPrice` reads, per venue (isolated) */
const LIQ_KEYS: Readonly<Record<string, readonly string[]>> = {
  'binance-usdm': ['walletBalance', 'leverage', 'mmr', 'maintenanceAmount', 'symbol', 'asOf'],
  'bybit-linear': ['leverage', 'mmr', 'maintenanceAmount', 'symbol', 'asOf', 'extraMargin', 'mmDeduction'],
  hyperliquid: ['margin', 'maxLeverage', 'symbol', 'asOf'],
  okx: ['walletBalance', 'leverage', 'takerFee', 'mmr', 'maintenanceAmount', 'symbol', 'asOf'],
};
const POSITION_KEYS = ['symbol', 'side', 'qty', 'entryPrice', 'markPrice', 'mmr', 'maintenanceAmount', 'asOf'];


/** ms UTC from a number (ms) or an ISO date string (see parseDate in src/util/time.ts) */
function time(o: Obj, key: string, optional = false): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return optional ? undefined : fail(`"${key}" is required (ms UTC or an ISO date)`);
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  // a digit string is the number it spells, as a JSON number is (calc's times may be relative: 0, 2592000000 = 30 days)
  if (typeof v === 'string' && /^\s*\d+\s*$/.test(v) && Number.isSafeInteger(Number(v))) return Number(v);
  if (typeof v === 'string') {
    const ms = parseDate(v);
    if (ms !== null) return ms;
  }
  return fail(`"${key}" must be ms since epoch or an ISO date, got ${shown(v)}${dateHint(v)}`);
}


function venueOf(o: Obj, required = true): VenueProfile | undefined {
  const v = o.venue;
  if (v === undefined || v === null) return required ? fail(`"venue" is required (one of ${venueIds().join(', ')})`) : undefined;
  if (typeof v !== 'string') return fail(`"venue" must be a string, got ${shown(v)}`);
  const id = venueIdOf(v);
  if (!venueIds().includes(id)) return fail(`unknown venue ${shown(v)}; known venues: ${venueIds().join(', ')}`);
  return getVenue(id);
}

function asOfOf(o: Obj): number {
  return time(o, 'asOf', true) ?? Date.now();
}

/**
 * a price as answered: null when it does not exist (none, or ≤ 0); a price beyond a double (a
 * notional above 1.8e308) is an error, not "no price"
 */
const out = (x: XDecimal | null): number | null => {
  if (x === null || !x.gt(0)) return null;
  const n = x.toNumber();
  if (n === Number.POSITIVE_INFINITY) return fail('the price overflows a number (above 1.8e308): give a position of a realistic size');
  if (!(n > 0)) return fail(`the price (${x.toSignificantDigits(6).toString()}) is too small for a number (below 5e-324): give the prices in a larger unit`);
  return n;
};

/**
 * an amount as answered: the decimal rounded once, to the nearest number (a JSON number). A
 * non-zero amount a number rounds to 0 is an error: the answer would read as exactly nothing.
 */
const answer = (v: XDecimal, key: string): number => {
  const n = v.toNumber();
  if (n === 0 && !v.isZero()) return fail(`"${key}" of the answer (${v.toSignificantDigits(6).toString()}) is too small for a number (below 5e-324); give the inputs in a larger unit`);
  return n;
};

/** refuses a position whose notional overflows a double (the tier it is in could not be chosen) */
function checkNotional(q: XDecimal, ep: XDecimal, where = ''): void {
  if (!Number.isFinite(q.toNumber() * ep.toNumber())) fail(`${where}"qty" × "entryPrice" (${q} × ${ep}) overflows a number (above 1.8e308); give a position of a realistic size`);
}

/** a tier table, and when it is one tier given by hand, its MMR and maintenance amount as written */
interface TiersGiven {
  tiers: readonly Tier[];
  single: { mmr: XDecimal; cum: XDecimal } | undefined;
}

/** what the line being evaluated should say beside its answer (evaluate() adds them as "note"; a line is evaluated at once) */
let lineNotes: string[] = [];

/**
 * A symbol's tier table at `asOf`; one without a table of its own takes the venue's default brackets, said in the answer's
 * "note" with the nearest symbol that has one (a misspelt major, BTCUSDTT, answered from the small-cap table in silence)
 */
function symbolTiers(venue: VenueProfile, symbol: string, asOf: number): readonly Tier[] {
  const note = noOwnTableNote(venue, symbol, asOf);
  if (note !== null && !lineNotes.includes(note)) lineNotes.push(note);
  return venue.tiers(symbol, asOf);
}

/** the note of a symbol that takes the venue's default brackets (no table of its own at `asOf`), else null */
export function noOwnTableNote(venue: VenueProfile, symbol: string, asOf: number): string | null {
  if (venue.tiers(symbol, asOf) !== venue.tiers('__default__', asOf)) return null;
  const near = nearest(symbol, venue.tableSymbols?.(asOf) ?? []);
  return `${venue.id} has no tier table of its own for ${symbol}${near !== null ? ` (did you mean '${near}'?)` : ''}: the venue's default brackets are used`;
}

/** tier table from a `symbol` (venue table at asOf) or from explicit mmr/cum (one open-ended tier) */
function tiersFor(o: Obj, venue: VenueProfile, mmrKey = 'mmr', cumKey = 'maintenanceAmount'): TiersGiven {
  const mmr = dec(o, mmrKey, { rate: true, optional: true });
  if (mmr !== undefined) {
    const cum = dec(o, cumKey, { optional: true }) ?? new XD(0);
    return { tiers: [{ floor: 0, cap: Number.POSITIVE_INFINITY, mmr: mmr.toNumber(), maxLeverage: Number.POSITIVE_INFINITY, cum: cum.toNumber() }], single: { mmr, cum } };
  }
  // with a symbol: its table has its own amounts; without one: the tier's rate is missing (it said "a symbol's table has its own" to an input naming no symbol)
  if (o[cumKey] !== undefined && o[cumKey] !== null) {
    return fail(str(o, 'symbol', true) ? `"${cumKey}" goes with "${mmrKey}" (one tier given by hand); a symbol's table has its own` : `"${cumKey}" goes with "${mmrKey}" (one tier given by hand): give "${mmrKey}" too, or "symbol" for the venue's tier table instead of both`);
  }
  const symbol = str(o, 'symbol', true);
  if (!symbol) return fail(`"${mmrKey}" is required unless "symbol" names the tier table to use`);
  return { tiers: symbolTiers(venue, symbol, asOfOf(o)), single: undefined };
}

function liquidationPrice(o: Obj): Out {
  const venue = venueOf(o)!;
  const mode = o.mode ?? 'isolated';
  if (mode !== 'isolated' && mode !== 'cross') return fail(`"mode" must be "isolated" or "cross", got ${shown(mode)}`);
  if (mode === 'cross' && o.positions !== undefined) {
    if (!Array.isArray(o.positions)) return fail('"positions" must be an array of {symbol, side, qty, entryPrice, markPrice, mmr?, maintenanceAmount?}');
    return crossLiquidationPrice(o, venue);
  }
  onlyKeys(o, ['op', 'venue', 'mode', 'side', 'qty', 'entryPrice', ...LIQ_KEYS[venue.id]!], `liquidationPrice on ${venue.id} (${mode}${mode === 'cross' ? ' without "positions"' : ''})`);
  const s = side(o);
  const q = dec(o, 'qty', { positive: true });
  const ep = dec(o, 'entryPrice', { positive: true });
  checkNotional(q, ep);
  switch (venue.id) {
    case 'bybit-linear': {
      const lev = dec(o, 'leverage', { min: 1 });
      const extra = dec(o, 'extraMargin', { optional: true }) ?? new XD(0);
      // mmDeduction is Bybit's name of a hand-given tier's maintenance amount: with maintenanceAmount too one was dropped in silence,
      // and with a symbol's table it replaced the table's deduction under the table's MMR (MM no longer that of any tier)
      const hasDed = o.mmDeduction !== undefined && o.mmDeduction !== null;
      if (hasDed && o.maintenanceAmount !== undefined && o.maintenanceAmount !== null) return fail('give "mmDeduction" or "maintenanceAmount", not both: they are the same maintenance amount of the tier given by "mmr"');
      const { tiers, single } = tiersFor(o, venue, 'mmr', hasDed ? 'mmDeduction' : 'maintenanceAmount');
      const t = tierFor(tiers, q.toNumber() * ep.toNumber());
      const mmr = single?.mmr ?? new XD(t.mmr);
      const ded = single?.cum ?? new XD(t.cum);
      // LP = EP ∓ (IM − MM)/Q ∓ extra/Q, IM = Q·EP/leverage, MM = Q·EP·MMR − deduction (on the entry notional)
      const notional = q.times(ep);
      return { liquidationPrice: out(exactBybitWallet(s, q, ep, notional.div(lev).plus(extra), notional.times(mmr).minus(ded))) };
    }
    case 'hyperliquid': {
      const margin = dec(o, 'margin', {});
      let maxLev = dec(o, 'maxLeverage', { min: 1, optional: true });
      if (maxLev === undefined) {
        const symbol = str(o, 'symbol', true) ?? fail('"maxLeverage" is required unless "symbol" names the coin');
        maxLev = new XD(tierFor(symbolTiers(venue, symbol, asOfOf(o)), q.toNumber() * ep.toNumber()).maxLeverage);
      }
      // l = 1 / (2 × max leverage), no maintenance amount
      return { liquidationPrice: out(exactTierRoot(ClosedForm.Hyperliquid, s, q, ep, margin, new XD(1).div(maxLev.times(2)), 0, 0)) };
    }
    default: {
      const wb = walletOf(o, q, ep);
      // OKX: the given taker rate, not the profile's, is the add-on of the Gate form (tier re-chosen at LP)
      const extraRate = venue.id === 'okx' ? okxTaker(o, venue) : undefined;
      const { tiers, single } = tiersFor(o, venue);
      // a long only: a short's threshold stays a price at any sum (Q·EP + M = Q·P·(1 + MMR + taker))
      if (extraRate !== undefined && s === 1) checkOkxRates(tiers, single, extraRate);
      return { liquidationPrice: out(exactLiquidationPrice(venue, { side: s, qty: q, entryPrice: ep, walletBalance: wb, tiers, single, extraRate })) };
    }
  }
}

/**
 * OKX (Gate form): maintenance plus the liquidation fee is Q·P·(MMR + taker). At a sum of 1 or more a long's excess falls as the price rises
 * and is M − Q·EP < 0 at P = 0: past its threshold at every price, which the closed form answered as no price (null, "cannot be
 * liquidated") or, at exactly 1, a division by zero said to be an overflow. The tier (of `tiers`, or the one given by hand) whose sum
 * is 1 or more, as a message's clause; null when every sum is below 1. A long's question only: a short's excess
 * M + Q·(EP − P) − Q·P·(MMR + taker) falls as the price rises at any sum, to 0 at a price the closed form gives.
 */
export function okxRateSumFault(tiers: readonly Tier[], single: { mmr: XDecimal } | undefined, taker: number | XDecimal): string | null {
  const fee = new XD(taker);
  const rows = single ? [{ mmr: single.mmr, name: 'the MMR given' }] : tiers.map((t, i) => ({ mmr: new XD(t.mmr), name: `tier ${i + 1}'s MMR` }));
  const bad = rows.find((r) => r.mmr.plus(fee).gte(1));
  return bad ? `${bad.name} ${bad.mmr.toString()} + taker rate ${fee.toString()} = ${bad.mmr.plus(fee).toString()}` : null;
}

export const OKX_SUM_TAIL = 'maintenance plus the liquidation fee would be the whole notional or more, so a long is past its threshold at every price';

/** fails when an OKX liquidation price is asked with an MMR + taker rate of 1 or more (okxRateSumFault) */
function checkOkxRates(tiers: readonly Tier[], single: { mmr: XDecimal } | undefined, taker: number): void {
  const fault = okxRateSumFault(tiers, single, taker);
  if (fault !== null) fail(`"mmr" + "takerFee" must be below 1 (${fault}): ${OKX_SUM_TAIL}`);
}

/** OKX: the liquidation fee rate added to the MMR (`takerFee`, default the venue's taker rate) */
function okxTaker(o: Obj, venue: VenueProfile): number {
  return num(o, 'takerFee', { rate: true, optional: true }) ?? venue.fees.taker;
}

/** walletBalance, or Q × EP / leverage when only the leverage is given */
function walletOf(o: Obj, q: XDecimal, ep: XDecimal): XDecimal {
  const wb = dec(o, 'walletBalance', { optional: true });
  if (wb !== undefined) return wb;
  const lev = dec(o, 'leverage', { min: 1, optional: true });
  if (lev === undefined) return fail('"walletBalance" is required (or "leverage", giving walletBalance = qty × entryPrice / leverage)');
  return q.times(ep).div(lev);
}

function crossLiquidationPrice(o: Obj, venue: VenueProfile): Out {
  onlyKeys(o, ['op', 'venue', 'mode', 'walletBalance', ...(venue.id === 'hyperliquid' ? ['margin'] : []), ...(venue.id === 'okx' ? ['takerFee'] : []), 'target', 'positions', 'asOf'], `liquidationPrice on ${venue.id} (cross)`);
  if (o.margin !== undefined && o.walletBalance !== undefined) return fail('give "margin" (the cross wallet: collateral without unrealised PnL) or "walletBalance", not both');
  const wallet = venue.id === 'hyperliquid' && o.walletBalance === undefined ? dec(o, 'margin', {}) : dec(o, 'walletBalance', {});
  const target = str(o, 'target')!;
  const positions = o.positions as unknown[];
  if (positions.length === 0) return fail('"positions" must list at least one position');
  let wb = wallet;
  let found: { s: Side; q: XDecimal; ep: XDecimal; given: TiersGiven } | null = null;
  // OKX: the given taker rate is the add-on of every leg's maintenance margin and of the target's formula
  const taker = venue.id === 'okx' ? okxTaker(o, venue) : undefined;
  const model = taker !== undefined ? { basis: 'mark' as const, extraRate: taker } : (venue.maintenance ?? { basis: 'mark' as const, extraRate: 0 });
  const seen = new Set<string>();
  positions.forEach((raw, i) => {
    if (!raw || typeof raw !== 'object') fail(`positions[${i}] must be an object`);
    const p = raw as Obj;
    const at = (e: unknown): never => fail(`positions[${i}]: ${(e as Error).message}`);
    try {
      onlyKeys(p, POSITION_KEYS, 'a position');
      const sym = str(p, 'symbol')!;
      const s = side(p);
      const q = dec(p, 'qty', { positive: true });
      const ep = dec(p, 'entryPrice', { positive: true });
      checkNotional(q, ep);
      const merged: Obj = { ...p, asOf: p.asOf ?? o.asOf };
      const given = tiersFor(merged, venue);
      if (seen.has(sym)) fail(`symbol ${sym} appears twice (one-way mode holds one position per symbol)`);
      seen.add(sym);
      if (sym === target) {
        found = { s, q, ep, given };
        return;
      }
      const mp = dec(p, 'markPrice', { positive: true });
      // Binance §1.1: other legs' uPnL and MM at mark (UPNL1, TMM1)
      wb = wb.plus(mp.minus(ep).times(q).times(s)).minus(exactMaintenanceMargin(model, given.tiers, q, ep, mp, given.single));
    } catch (e) {
      if (e instanceof CalcInputError) at(e);
      throw e;
    }
  });
  if (!found) return fail(`"target" ${target} is not among "positions"`);
  if (!Number.isFinite(wb.toNumber())) return fail('the other positions\' uPnL and maintenance margin overflow a number (above 1.8e308); give positions of a realistic size');
  const f = found as { s: Side; q: XDecimal; ep: XDecimal; given: TiersGiven };
  if (taker !== undefined && f.s === 1) checkOkxRates(f.given.tiers, f.given.single, taker);
  return { liquidationPrice: out(exactLiquidationPrice(venue, { side: f.s, qty: f.q, entryPrice: f.ep, walletBalance: wb, tiers: f.given.tiers, single: f.given.single, extraRate: taker })) };
}

function bankruptcyPrice(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'entryPrice', 'leverage', 'qty', 'walletBalance'], 'bankruptcyPrice');
  const s = side(o);
  const ep = dec(o, 'entryPrice', { positive: true });
  const lev = dec(o, 'leverage', { min: 1, optional: true });
  if (lev !== undefined && (o.qty !== undefined || o.walletBalance !== undefined)) return fail('give "leverage" or "qty" with "walletBalance", not both');
  // Bybit "Bankruptcy Price (USDT Contract)": EP × (1 ∓ 1/leverage)
  if (lev !== undefined) return { bankruptcyPrice: out(ep.times(new XD(1).minus(new XD(s).div(lev)))) };
  const q = dec(o, 'qty', { positive: true });
  const wb = dec(o, 'walletBalance', {});
  const bp = exactBankruptcyPrice(s, q, ep, wb);
  if (!Number.isFinite(bp.abs().toNumber())) return fail(`"walletBalance" ÷ "qty" (${shown(o.walletBalance)} ÷ ${shown(o.qty)}) overflows a number (above 1.8e308); give a position of a realistic size`);
  return { bankruptcyPrice: out(bp) };
}

interface TierRow {
  tier: Tier;
  maxLeverageGiven: boolean;
}

function maintenanceTier(o: Obj): Out {
  onlyKeys(o, o.tiers !== undefined ? ['op', 'notional', 'tiers'] : ['op', 'notional', 'venue', 'symbol', 'asOf'], `maintenanceTier${o.tiers !== undefined ? ' with "tiers"' : ''}`);
  const notional = dec(o, 'notional', { min: 0 });
  let rows: TierRow[];
  if (o.tiers !== undefined) {
    if (!Array.isArray(o.tiers) || o.tiers.length === 0) return fail('"tiers" must be a non-empty array of {minNotional, mmr, maintenanceAmount?, maxLeverage?}');
    const inputs: TierInput[] = [];
    const given = new Map<number, boolean>();
    (o.tiers as unknown[]).forEach((r, i) => {
      if (!r || typeof r !== 'object') fail(`tiers[${i}] must be an object`);
      const t = r as Obj;
      try {
        onlyKeys(t, ['minNotional', 'floor', 'mmr', 'maintenanceAmount', 'cum', 'maxLeverage'], 'a tier');
        const floor = num(t, t.minNotional !== undefined ? 'minNotional' : 'floor', { min: 0 });
        const mmr = num(t, 'mmr', { rate: true });
        const cum = num(t, t.maintenanceAmount !== undefined ? 'maintenanceAmount' : 'cum', { optional: true });
        const maxLeverage = num(t, 'maxLeverage', { min: 1, optional: true });
        given.set(floor, maxLeverage !== undefined);
        inputs.push({ floor, mmr, ...(cum !== undefined ? { cum } : {}), ...(maxLeverage !== undefined ? { maxLeverage } : {}) });
      } catch (e) {
        if (e instanceof CalcInputError) fail(`tiers[${i}]: ${e.message}`);
        throw e;
      }
    });
    let built: Tier[];
    try {
      built = buildTiers(inputs, 'tiers');
    } catch (e) {
      return fail((e as Error).message);
    }
    rows = built.map((tier) => ({ tier, maxLeverageGiven: given.get(tier.floor) ?? false }));
  } else {
    const venue = venueOf(o)!;
    const symbol = str(o, 'symbol')!;
    rows = symbolTiers(venue, symbol, asOfOf(o)).map((tier) => ({ tier, maxLeverageGiven: true }));
  }
  const r = rows.find((_, i) => i === rows.length - 1 || notional.lt(rows[i + 1]!.tier.floor))!;
  return { mmr: r.tier.mmr, maintenanceAmount: r.tier.cum, maxLeverage: r.maxLeverageGiven ? r.tier.maxLeverage : null };
}

function fundingFee(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'price', 'rate'], 'fundingFee');
  const s = side(o);
  const q = dec(o, 'qty', { min: 0 });
  const price = dec(o, 'price', { min: 0 });
  const rate = dec(o, 'rate', {});
  // payment = Q × price × rate; rate > 0: longs pay, shorts receive
  return { received: answer(q.times(price).times(rate).times(-s), 'received') };
}

/**
 * Funding over a holding window: every funding event at t with open' ≤ t ≤ close, where open' is
 * the open time moved back to the full hour when it lies within the venue's cutoff after it
 * (Binance 15 s, freqtrade funding_fee_cutoff), and t the event's time moved down to the whole minute
 * when it lies less than 1 s past it (as a replay settles it: src/feed/timeframe.ts fundingSettleTime).
 */
function fundingFees(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'openTime', 'closeTime', 'venue', 'cutoffMs', 'events'], 'fundingFees');
  const s = side(o);
  const q = dec(o, 'qty', { min: 0 });
  const open = time(o, 'openTime')!;
  const close = time(o, 'closeTime', true) ?? Number.POSITIVE_INFINITY;
  // a time as the message shows it (ISO when a Date can hold it; any finite number is accepted as ms)
  const at = (t: number) => (Math.abs(t) <= 8.64e15 ? new Date(t).toISOString() : `${t} ms`);
  if (close < open) return fail(`"closeTime" (${at(close)}) is before "openTime" (${at(open)})`);
  const venue = venueOf(o, false);
  const cutoff = num(o, 'cutoffMs', { min: 0, optional: true }) ?? venue?.funding.openCutoffMs ?? 0;
  if (!Array.isArray(o.events)) return fail('"events" must be an array of {time, rate, price}');
  const hour = 3_600_000;
  const floorHour = Math.floor(open / hour) * hour;
  const openEff = open - floorHour < cutoff ? floorHour : open;
  let total = new XD(0);
  (o.events as unknown[]).forEach((r, i) => {
    if (!r || typeof r !== 'object') fail(`events[${i}] must be an object`);
    const e = r as Obj;
    try {
      onlyKeys(e, ['time', 'rate', 'price'], 'a funding event');
      // settled at the whole minute when stamped less than 1 s past it, as a replay settles it (Binance's fundingTime
      // jitter, 16:00:00.999 for 16:00): a long closed at the 16:00 open pays it there, and here
      const t = fundingSettleTime(time(e, 'time')!);
      const rate = dec(e, 'rate', {});
      const price = dec(e, 'price', { min: 0 });
      if (t >= openEff && t <= close) total = total.plus(q.times(price).times(rate).times(-s));
    } catch (err) {
      if (err instanceof CalcInputError) fail(`events[${i}]: ${err.message}`);
      throw err;
    }
  });
  return { received: answer(total, 'received') };
}

/** Hyperliquid: F = P + clamp(I − P, −0.05 %, +0.05 %) per 8 h; paid hourly at F/8, capped at 4 %/h */
function fundingRate(o: Obj): Out {
  onlyKeys(o, ['op', 'premium', 'interestRate', 'venue'], 'fundingRate');
  // Hyperliquid's formula: a venue, when given, must be that one
  if (o.venue !== undefined && venueOf(o)!.id !== 'hyperliquid') return fail(`fundingRate is Hyperliquid's formula; "venue" must be hyperliquid (or left out), got ${shown(o.venue)}`);
  const premium = dec(o, 'premium', {});
  const interest = dec(o, 'interestRate', { optional: true }) ?? new XD('0.0001');
  const clamped = XD.max(-0.0005, XD.min(0.0005, interest.minus(premium)));
  const f8 = premium.plus(clamped);
  const hourly = XD.max(-0.04, XD.min(0.04, f8.div(8)));
  return { fundingRate8h: answer(f8, 'fundingRate8h'), fundingRateHourly: answer(hourly, 'fundingRateHourly') };
}

function tradePnl(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'entryPrice', 'exitPrice', 'feeRateOpen', 'feeRateClose', 'fundingReceived', 'leverage'], 'tradePnl');
  const s = side(o);
  const q = dec(o, 'qty', { positive: true });
  const ep = dec(o, 'entryPrice', { positive: true });
  const xp = dec(o, 'exitPrice', { positive: true });
  const fo = dec(o, 'feeRateOpen', { min: 0, optional: true }) ?? new XD(0);
  const fc = dec(o, 'feeRateClose', { min: 0, optional: true }) ?? new XD(0);
  const funding = dec(o, 'fundingReceived', { optional: true }) ?? new XD(0);
  const pnl = q.times(xp.minus(ep)).times(s).minus(q.times(ep).times(fo)).minus(q.times(xp).times(fc)).plus(funding);
  const lev = dec(o, 'leverage', { min: 1, optional: true });
  if (lev === undefined) return { pnl: answer(pnl, 'pnl') };
  // freqtrade's profit ratio: pnl / (open value / leverage), open value = Q × EP × (1 ± fee) (+ long, − short)
  const openValue = q.times(ep).times(new XD(1).plus(fo.times(s)));
  return { pnl: answer(pnl, 'pnl'), profitRatio: answer(pnl.div(openValue.div(lev)), 'profitRatio') };
}

function marginRatio(o: Obj): Out {
  onlyKeys(o, ['op', 'walletBalance', 'unrealizedPnl', 'maintenanceMargin'], 'marginRatio');
  const wb = dec(o, 'walletBalance', {});
  const upnl = dec(o, 'unrealizedPnl', {});
  const mm = dec(o, 'maintenanceMargin', { min: 0 });
  const mb = wb.plus(upnl);
  return {
    marginBalance: answer(mb, 'marginBalance'),
    // Binance convention: MM / margin balance; null when the margin balance is ≤ 0 (ratio unbounded)
    marginRatio: mb.gt(0) ? answer(mm.div(mb), 'marginRatio') : null,
    liquidated: mb.lte(mm),
  };
}

/** position figures as Binance's positionRisk reports them: signed notional, uPnL, isolated margin */
function position(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'entryPrice', 'markPrice', 'isolatedWallet'], 'position');
  const s = side(o);
  const q = dec(o, 'qty', { positive: true });
  const ep = dec(o, 'entryPrice', { positive: true });
  const mp = dec(o, 'markPrice', { positive: true });
  const upnl = q.times(mp.minus(ep)).times(s);
  const res: Out = { notional: answer(q.times(mp).times(s), 'notional'), unrealizedPnl: answer(upnl, 'unrealizedPnl') };
  const iw = dec(o, 'isolatedWallet', { optional: true });
  if (iw !== undefined) res.isolatedMargin = answer(upnl.plus(iw), 'isolatedMargin');
  return res;
}

export const OPS: Record<string, (o: Obj) => Out> = {
  liquidationPrice,
  bankruptcyPrice,
  maintenanceTier,
  fundingFee,
  fundingFees,
  fundingRate,
  tradePnl,
  marginRatio,
  position,
};

/** Evaluates one parsed input object. Throws CalcInputError for bad input. */
export function evaluate(input: unknown): Out {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return fail('each line must be a JSON object');
  const o = input as Obj;
  const op = o.op;
  if (typeof op !== 'string') return fail(`"op" is required; one of ${Object.keys(OPS).join(', ')}`);
  // own keys only: "constructor" or "__proto__" are not ops
  const f = Object.hasOwn(OPS, op) ? OPS[op] : undefined;
  if (!f) return fail(`unknown op ${shown(op)}; known ops: ${Object.keys(OPS).join(', ')}`);
  lineNotes = [];
  const res = f(o);
  if (lineNotes.length > 0) res.note = lineNotes.join('; ');
  // JSON writes a non-finite number as null, which would read as "does not exist": an answer beyond a double is an error
  for (const [k, v] of Object.entries(res)) {
    if (typeof v === 'number' && !Number.isFinite(v)) fail(`"${k}" of the answer does not fit a number (it came out ${v}: inputs beyond a realistic size, or a division by zero); check the inputs`);
  }
  return res;
}

/** the {"error"} line of an input line: the message, and the input line number when known */
export const errorLine = (message: string, lineNo?: number): string => JSON.stringify(lineNo === undefined ? { error: message } : { error: message, line: lineNo });

/**
 * Evaluates one line of JSON Lines input; returns the output line (without newline) and whether it
 * was handled. `lineNo` (1-based, blank lines counted) goes into an {"error"} line as "line".
 */
export function evaluateLine(line: string, lineNo?: number): { text: string; ok: boolean } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    return { text: errorLine(`not valid JSON: ${(e as Error).message}`, lineNo), ok: false };
  }
  try {
    return { text: JSON.stringify(evaluate(parsed)), ok: true };
  } catch (e) {
    if (e instanceof CalcInputError) return { text: errorLine(e.message, lineNo), ok: false };
    const err = e as Error & { exitCode?: number };
    if (err && typeof err.exitCode === 'number') return { text: errorLine(err.message, lineNo), ok: false };
    throw e;
  }
}
