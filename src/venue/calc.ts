/**
 * The operations of `marginlab calc` (the public contract of the margin engine): one JSON object
 * in, one JSON object out. Field names are exact; see docs/margin.md for the list.
 *
 * Input problems throw CalcInputError (the CLI turns them into {"error": "..."} lines).
 * Prices that do not exist (no positive liquidation price) are null.
 */
import { Decimal } from 'decimal.js';
import { getVenue, venueIdOf, venueIds } from './index.js';
import type { Side, Tier, VenueProfile } from './types.js';
import { buildTiers, tierFor, type TierInput } from './tiers.js';
import { dateHint, parseDate } from '../util/time.js';
import { parseDecimalText } from '../util/decimal-text.js';
import { shownValue } from '../util/excerpt.js';
import {
  bankruptcyPriceOf,
  binanceLiquidationPrice,
  bybitLiquidationPrice,
  ClosedForm,
  gateLiquidationPrice,
  hyperliquidLiquidationPrice,
  maintenanceMargin,
  tieredLiquidationPrice,
} from './math.js';

export class CalcInputError extends Error {}

type Obj = Record<string, unknown>;
type Out = Record<string, number | boolean | string | null>;

const D = Decimal.clone({ precision: 40 });

const fail = (msg: string): never => {
  throw new CalcInputError(msg);
};

/** a value as a message shows it back, at most 60 characters (an input line may be megabytes): util/excerpt.ts shownValue, the one home */
export function shown(v: unknown): string {
  return shownValue(v, 60);
}

/** opts.rate: a rate in [0, 1) (an MMR, as a tier table requires) */
function num(o: Obj, key: string, opts: { min?: number; positive?: boolean; rate?: true; optional?: false }): number;
function num(o: Obj, key: string, opts: { min?: number; positive?: boolean; rate?: true; optional: true }): number | undefined;
function num(o: Obj, key: string, opts: { min?: number; positive?: boolean; rate?: true; optional?: boolean }): number | undefined {
  const raw = o[key];
  if (raw === undefined || raw === null) {
    if (opts.optional) return undefined;
    return fail(`"${key}" is required (a number)`);
  }
  // a decimal string reads as its number: marginlab's own result files write money that way ("1234.5")
  const v = typeof raw === 'string' ? (parseDecimalText(raw) ?? raw) : raw;
  // JSON.parse reads 1e400 as Infinity (JSON has no NaN or Infinity literals); so does a decimal string
  if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) return fail(`"${key}" is too large for a number (above 1.8e308)`);
  if (typeof v !== 'number' || !Number.isFinite(v)) return fail(`"${key}" must be a number (a JSON number or a decimal string such as "1234.5"), got ${shown(v)}`);
  if (opts.positive && !(v > 0)) return fail(`"${key}" must be > 0, got ${v}`);
  if (opts.rate && !(v >= 0 && v < 1)) return fail(`"${key}" must be a rate in [0, 1), got ${v}`);
  if (opts.min !== undefined && v < opts.min) return fail(`"${key}" must be ≥ ${opts.min}, got ${v}`);
  return v;
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
 * a price as answered: null when it does not exist (≤ 0, or −∞: a long with more margin than a
 * double can count); +∞ or NaN means the inputs overflowed a double (a notional above 1.8e308), an
 * error, not "no price"
 */
const out = (x: number): number | null => {
  if (x === Number.POSITIVE_INFINITY) return fail('the price overflows a number (above 1.8e308): give a position of a realistic size');
  return x > 0 ? x : null;
};

/** refuses a position whose notional overflows a double (the closed forms would answer NaN: "no price") */
function checkNotional(q: number, ep: number, where = ''): void {
  if (!Number.isFinite(q * ep)) fail(`${where}"qty" × "entryPrice" (${q} × ${ep}) overflows a number (above 1.8e308); give a position of a realistic size`);
}
const dn = (x: number) => new D(x);

/** tier table from a `symbol` (venue table at asOf) or from explicit mmr/cum (one open-ended tier) */
function tiersFor(o: Obj, venue: VenueProfile, mmrKey = 'mmr', cumKey = 'maintenanceAmount'): { tiers: readonly Tier[]; single: boolean } {
  const mmr = num(o, mmrKey, { rate: true, optional: true });
  if (mmr !== undefined) {
    const cum = num(o, cumKey, { optional: true }) ?? 0;
    return { tiers: [{ floor: 0, cap: Number.POSITIVE_INFINITY, mmr, maxLeverage: Number.POSITIVE_INFINITY, cum }], single: true };
  }
  if (o[cumKey] !== undefined && o[cumKey] !== null) return fail(`"${cumKey}" goes with "${mmrKey}" (one tier given by hand); a symbol's table has its own`);
  const symbol = str(o, 'symbol', true);
  if (!symbol) return fail(`"${mmrKey}" is required unless "symbol" names the tier table to use`);
  return { tiers: venue.tiers(symbol, asOfOf(o)), single: false };
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
  const q = num(o, 'qty', { positive: true });
  const ep = num(o, 'entryPrice', { positive: true });
  checkNotional(q, ep);
  switch (venue.id) {
    case 'bybit-linear': {
      const lev = num(o, 'leverage', { min: 1 });
      const extra = num(o, 'extraMargin', { optional: true }) ?? 0;
      const { tiers } = tiersFor(o, venue);
      const t = tierFor(tiers, q * ep);
      const ded = num(o, 'mmDeduction', { optional: true }) ?? t.cum;
      return { liquidationPrice: out(bybitLiquidationPrice(s, q, ep, lev, t.mmr, extra, ded)) };
    }
    case 'hyperliquid': {
      const margin = num(o, 'margin', {});
      let maxLev = num(o, 'maxLeverage', { min: 1, optional: true });
      if (maxLev === undefined) {
        const symbol = str(o, 'symbol', true) ?? fail('"maxLeverage" is required unless "symbol" names the coin');
        maxLev = tierFor(venue.tiers(symbol, asOfOf(o)), q * ep).maxLeverage;
      }
      return { liquidationPrice: out(hyperliquidLiquidationPrice(s, q, ep, margin, maxLev)) };
    }
    case 'okx': {
      const wb = walletOf(o, q, ep);
      const taker = okxTaker(o, venue);
      const mmr = num(o, 'mmr', { rate: true, optional: true });
      if (mmr !== undefined) return { liquidationPrice: out(gateLiquidationPrice(s, q, ep, wb, mmr, taker, num(o, 'maintenanceAmount', { optional: true }) ?? 0)) };
      const { tiers } = tiersFor(o, venue);
      // the given taker rate, not the profile's, is the add-on of the Gate form (tier re-chosen at LP)
      return { liquidationPrice: out(tieredLiquidationPrice(ClosedForm.Gate, s, q, ep, wb, tiers, taker)) };
    }
    default: {
      const wb = walletOf(o, q, ep);
      const { tiers, single } = tiersFor(o, venue);
      if (single) return { liquidationPrice: out(binanceLiquidationPrice(s, q, ep, wb, tiers[0]!.mmr, tiers[0]!.cum)) };
      return { liquidationPrice: out(venue.isolatedLiquidationPrice({ side: s, qty: q, entryPrice: ep, walletBalance: wb, leverage: 1, tiers })) };
    }
  }
}

/** OKX: the liquidation fee rate added to the MMR (`takerFee`, default the venue's taker rate) */
function okxTaker(o: Obj, venue: VenueProfile): number {
  return num(o, 'takerFee', { min: 0, optional: true }) ?? venue.fees.taker;
}

/** walletBalance, or Q × EP / leverage when only the leverage is given */
function walletOf(o: Obj, q: number, ep: number): number {
  const wb = num(o, 'walletBalance', { optional: true });
  if (wb !== undefined) return wb;
  const lev = num(o, 'leverage', { min: 1, optional: true });
  if (lev === undefined) return fail('"walletBalance" is required (or "leverage", giving walletBalance = qty × entryPrice / leverage)');
  return (q * ep) / lev;
}

function crossLiquidationPrice(o: Obj, venue: VenueProfile): Out {
  onlyKeys(o, ['op', 'venue', 'mode', 'walletBalance', ...(venue.id === 'hyperliquid' ? ['margin'] : []), ...(venue.id === 'okx' ? ['takerFee'] : []), 'target', 'positions', 'asOf'], `liquidationPrice on ${venue.id} (cross)`);
  if (o.margin !== undefined && o.walletBalance !== undefined) return fail('give "margin" (the account value) or "walletBalance", not both');
  const wallet = venue.id === 'hyperliquid' && o.walletBalance === undefined ? num(o, 'margin', {}) : num(o, 'walletBalance', {});
  const target = str(o, 'target')!;
  const positions = o.positions as unknown[];
  if (positions.length === 0) return fail('"positions" must list at least one position');
  let wb = wallet;
  let found: { s: Side; q: number; ep: number; tiers: readonly Tier[]; single: boolean } | null = null;
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
      const q = num(p, 'qty', { positive: true });
      const ep = num(p, 'entryPrice', { positive: true });
      checkNotional(q, ep);
      const merged: Obj = { ...p, asOf: p.asOf ?? o.asOf };
      const { tiers, single } = tiersFor(merged, venue);
      if (seen.has(sym)) fail(`symbol ${sym} appears twice (one-way mode holds one position per symbol)`);
      seen.add(sym);
      if (sym === target) {
        found = { s, q, ep, tiers, single };
        return;
      }
      const mp = num(p, 'markPrice', { positive: true });
      // Binance §1.1: other legs' uPnL and MM at mark (UPNL1, TMM1)
      wb += s * q * (mp - ep) - maintenanceMargin(model, tiers, q, ep, mp);
    } catch (e) {
      if (e instanceof CalcInputError) at(e);
      throw e;
    }
  });
  if (!found) return fail(`"target" ${target} is not among "positions"`);
  if (!Number.isFinite(wb)) return fail('the other positions\' uPnL and maintenance margin overflow a number (above 1.8e308); give positions of a realistic size');
  const f = found as { s: Side; q: number; ep: number; tiers: readonly Tier[]; single: boolean };
  if (venue.id === 'binance-usdm' && f.single) return { liquidationPrice: out(binanceLiquidationPrice(f.s, f.q, f.ep, wb, f.tiers[0]!.mmr, f.tiers[0]!.cum)) };
  if (taker !== undefined) return { liquidationPrice: out(tieredLiquidationPrice(ClosedForm.Gate, f.s, f.q, f.ep, wb, f.tiers, taker)) };
  return { liquidationPrice: out(venue.isolatedLiquidationPrice({ side: f.s, qty: f.q, entryPrice: f.ep, walletBalance: wb, leverage: 1, tiers: f.tiers })) };
}

function bankruptcyPrice(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'entryPrice', 'leverage', 'qty', 'walletBalance'], 'bankruptcyPrice');
  const s = side(o);
  const ep = num(o, 'entryPrice', { positive: true });
  const lev = num(o, 'leverage', { min: 1, optional: true });
  if (lev !== undefined && (o.qty !== undefined || o.walletBalance !== undefined)) return fail('give "leverage" or "qty" with "walletBalance", not both');
  if (lev !== undefined) {
    // Bybit "Bankruptcy Price (USDT Contract)": EP × (1 ∓ 1/leverage), in Decimal for exact round numbers
    const bp = dn(ep).times(new D(1).minus(new D(s).div(lev))).toNumber();
    return { bankruptcyPrice: out(bp) };
  }
  const q = num(o, 'qty', { positive: true });
  const wb = num(o, 'walletBalance', {});
  if (!Number.isFinite(ep + Math.abs(wb) / q)) return fail(`"walletBalance" ÷ "qty" (${wb} ÷ ${q}) overflows a number (above 1.8e308); give a position of a realistic size`);
  return { bankruptcyPrice: out(bankruptcyPriceOf(s, q, ep, wb)) };
}

interface TierRow {
  tier: Tier;
  maxLeverageGiven: boolean;
}

function maintenanceTier(o: Obj): Out {
  onlyKeys(o, o.tiers !== undefined ? ['op', 'notional', 'tiers'] : ['op', 'notional', 'venue', 'symbol', 'asOf'], `maintenanceTier${o.tiers !== undefined ? ' with "tiers"' : ''}`);
  const notional = num(o, 'notional', { min: 0 });
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
    rows = venue.tiers(symbol, asOfOf(o)).map((tier) => ({ tier, maxLeverageGiven: true }));
  }
  const r = rows.find((_, i) => i === rows.length - 1 || notional < rows[i + 1]!.tier.floor)!;
  return { mmr: r.tier.mmr, maintenanceAmount: r.tier.cum, maxLeverage: r.maxLeverageGiven ? r.tier.maxLeverage : null };
}

function fundingFee(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'price', 'rate'], 'fundingFee');
  const s = side(o);
  const q = num(o, 'qty', { min: 0 });
  const price = num(o, 'price', { min: 0 });
  const rate = num(o, 'rate', {});
  // payment = Q × price × rate; rate > 0: longs pay, shorts receive
  return { received: dn(q).times(price).times(rate).times(-s).toNumber() };
}

/**
 * Funding over a holding window: every funding event at t with open' ≤ t ≤ close, where open' is
 * the open time moved back to the full hour when it lies within the venue's cutoff after it
 * (Binance 15 s, freqtrade funding_fee_cutoff).
 */
function fundingFees(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'openTime', 'closeTime', 'venue', 'cutoffMs', 'events'], 'fundingFees');
  const s = side(o);
  const q = num(o, 'qty', { min: 0 });
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
  let total = new D(0);
  (o.events as unknown[]).forEach((r, i) => {
    if (!r || typeof r !== 'object') fail(`events[${i}] must be an object`);
    const e = r as Obj;
    try {
      onlyKeys(e, ['time', 'rate', 'price'], 'a funding event');
      const t = time(e, 'time')!;
      const rate = num(e, 'rate', {});
      const price = num(e, 'price', { min: 0 });
      if (t >= openEff && t <= close) total = total.plus(dn(q).times(price).times(rate).times(-s));
    } catch (err) {
      if (err instanceof CalcInputError) fail(`events[${i}]: ${err.message}`);
      throw err;
    }
  });
  return { received: total.toNumber() };
}

/** Hyperliquid: F = P + clamp(I − P, −0.05 %, +0.05 %) per 8 h; paid hourly at F/8, capped at 4 %/h */
function fundingRate(o: Obj): Out {
  onlyKeys(o, ['op', 'premium', 'interestRate', 'venue'], 'fundingRate');
  // Hyperliquid's formula: a venue, when given, must be that one
  if (o.venue !== undefined && venueOf(o)!.id !== 'hyperliquid') return fail(`fundingRate is Hyperliquid's formula; "venue" must be hyperliquid (or left out), got ${shown(o.venue)}`);
  const premium = num(o, 'premium', {});
  const interest = num(o, 'interestRate', { optional: true }) ?? 0.0001;
  const d = new D(interest).minus(premium);
  const clamped = D.max(-0.0005, D.min(0.0005, d));
  const f8 = new D(premium).plus(clamped);
  const hourly = D.max(-0.04, D.min(0.04, f8.div(8)));
  return { fundingRate8h: f8.toNumber(), fundingRateHourly: hourly.toNumber() };
}

function tradePnl(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'entryPrice', 'exitPrice', 'feeRateOpen', 'feeRateClose', 'fundingReceived', 'leverage'], 'tradePnl');
  const s = side(o);
  const q = dn(num(o, 'qty', { positive: true }));
  const ep = dn(num(o, 'entryPrice', { positive: true }));
  const xp = dn(num(o, 'exitPrice', { positive: true }));
  const fo = num(o, 'feeRateOpen', { min: 0, optional: true }) ?? 0;
  const fc = num(o, 'feeRateClose', { min: 0, optional: true }) ?? 0;
  const funding = num(o, 'fundingReceived', { optional: true }) ?? 0;
  const pnl = q.times(xp.minus(ep)).times(s).minus(q.times(ep).times(fo)).minus(q.times(xp).times(fc)).plus(funding);
  const lev = num(o, 'leverage', { min: 1, optional: true });
  if (lev === undefined) return { pnl: pnl.toNumber() };
  // freqtrade's profit ratio: pnl / (open value / leverage), open value = Q × EP × (1 ± fee) (+ long, − short)
  const openValue = q.times(ep).times(new D(1).plus(new D(fo).times(s)));
  return { pnl: pnl.toNumber(), profitRatio: pnl.div(openValue.div(lev)).toNumber() };
}

function marginRatio(o: Obj): Out {
  onlyKeys(o, ['op', 'walletBalance', 'unrealizedPnl', 'maintenanceMargin'], 'marginRatio');
  const wb = dn(num(o, 'walletBalance', {}));
  const upnl = num(o, 'unrealizedPnl', {});
  const mm = dn(num(o, 'maintenanceMargin', { min: 0 }));
  const mb = wb.plus(upnl);
  return {
    marginBalance: mb.toNumber(),
    // Binance convention: MM / margin balance; null when the margin balance is ≤ 0 (ratio unbounded)
    marginRatio: mb.gt(0) ? mm.div(mb).toNumber() : null,
    liquidated: mb.lte(mm),
  };
}

/** position figures as Binance's positionRisk reports them: signed notional, uPnL, isolated margin */
function position(o: Obj): Out {
  onlyKeys(o, ['op', 'side', 'qty', 'entryPrice', 'markPrice', 'isolatedWallet'], 'position');
  const s = side(o);
  const q = dn(num(o, 'qty', { positive: true }));
  const ep = dn(num(o, 'entryPrice', { positive: true }));
  const mp = dn(num(o, 'markPrice', { positive: true }));
  const upnl = q.times(mp.minus(ep)).times(s);
  const res: Out = { notional: q.times(mp).times(s).toNumber(), unrealizedPnl: upnl.toNumber() };
  const iw = num(o, 'isolatedWallet', { optional: true });
  if (iw !== undefined) res.isolatedMargin = upnl.plus(iw).toNumber();
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
  const res = f(o);
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
