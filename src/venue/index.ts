/**
 * Venue profiles: `getVenue(id, overrides?)` and `listVenues()`.
 *
 * A custom venue is a built-in one with parts overridden (fees, funding, liquidation penalty,
 * maintenance model, tier tables): `getVenue('binance-usdm', { id: 'my-binance', fees: { taker: 0.0004 } })`.
 * Bad overrides are configuration errors (exit 78) naming the key.
 */
import { configError } from '../errors.js';
import { shownValue } from '../util/excerpt.js';
import { didYouMean } from '../util/nearest.js';
import type { BuiltVenueProfile, Tier, VenueProfile } from './types.js';
import { BUILT_IN, profileFromDefinition, type VenueDefinition } from './profiles.js';
import { buildTiers, type TierInput } from './tiers.js';
import { checkLotSizeInput, type LotSizeInput } from './lots.js';

export type { Tier, VenueProfile, BuiltVenueProfile, Side } from './types.js';
export { LotGrid, defaultLotSize, defaultStep, DEFAULT_STEP_VALUE, BINANCE_LOT_SIZES, type LotSize, type LotSizeInput } from './lots.js';
export { buildTiers, tierFor, tierIndex, maintenanceFor, type TierInput } from './tiers.js';
export {
  maintenanceMargin,
  binanceLiquidationPrice,
  bybitLiquidationPrice,
  hyperliquidLiquidationPrice,
  gateLiquidationPrice,
  bankruptcyPriceOf,
  type MaintenanceModel,
} from './math.js';

export interface VenueOverrides {
  /** id of the custom venue (default: the base id) */
  id?: string;
  name?: string;
  fees?: { maker?: number; taker?: number };
  funding?: {
    intervalHours?: number;
    priceSource?: 'mark' | 'oracle';
    isolatedBooking?: 'isolatedWallet' | 'availableFirst';
    openCutoffMs?: number;
  };
  liquidation?: { penalty: 'remainingMargin' | { feeRate: number | 'taker' } };
  maintenance?: { basis?: 'mark' | 'entry'; extraRate?: number | 'taker' };
  /**
   * tier tables per symbol (e.g. "BTCUSDT"); the key "*" replaces the default table for symbols
   * without a table. cap/cum/maxLeverage may be left out (cum then follows Binance's recurrence).
   */
  tiers?: Record<string, TierInput[]>;
  /**
   * quantity grid per symbol: a step number or { step, minQty?, tick? }; the key "*" replaces the
   * default rule (step from the reference price) for symbols without an entry.
   */
  lotSizes?: Record<string, number | LotSizeInput>;
}

export interface VenueInfo {
  id: string;
  name: string;
  fees: { maker: number; taker: number };
  fundingIntervalHours: number;
}

const builtIn = new Map<string, VenueDefinition>(BUILT_IN.map((d) => [d.id, d]));
const plainCache = new Map<string, BuiltVenueProfile>();

export function listVenues(): VenueInfo[] {
  return BUILT_IN.map((d) => ({ id: d.id, name: d.name, fees: { ...d.fees }, fundingIntervalHours: d.funding.intervalHours }));
}

export function venueIds(): string[] {
  return BUILT_IN.map((d) => d.id);
}

function rate(v: unknown, key: string, lo: number, hi: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < lo || v > hi)
    throw configError(`venue override ${key}: expected a number in [${lo}, ${hi}], got ${shownValue(v)}`);
  return v;
}

/** short names `calc` and `calc liq` accept for the venue ids (a config names the id: an alias there is told the id) */
export const VENUE_ALIASES: Readonly<Record<string, string>> = { binance: 'binance-usdm', bybit: 'bybit-linear', gate: 'okx', hl: 'hyperliquid' };

/** the venue id a name stands for (an alias resolved; own keys only, so "constructor" stays itself) */
export const venueIdOf = (name: string): string => (Object.hasOwn(VENUE_ALIASES, name) ? VENUE_ALIASES[name]! : name);

/**
 * The profile of a built-in venue, optionally with overrides. Unknown ids are configuration errors
 * (exit 78) listing the known venues.
 */
export function getVenue(id: string, overrides?: VenueOverrides): BuiltVenueProfile {
  const base = builtIn.get(id);
  if (!base) throw configError(`unknown venue "${id}"${venueIdOf(id) !== id ? ` (did you mean '${venueIdOf(id)}'?)` : didYouMean(id, venueIds())}; known venues: ${venueIds().join(', ')}`);
  if (!overrides || Object.keys(overrides).length === 0) {
    let p = plainCache.get(id);
    if (!p) {
      p = profileFromDefinition(base);
      plainCache.set(id, p);
    }
    return p;
  }
  return profileFromDefinition(applyOverrides(base, overrides));
}

export function applyOverrides(base: VenueDefinition, o: VenueOverrides): VenueDefinition {
  // ('base' was listed here and read nowhere: overrides: { base: 'okx' } ran Binance's rules in silence)
  const known = new Set(['id', 'name', 'fees', 'funding', 'liquidation', 'maintenance', 'tiers', 'lotSizes']);
  for (const k of Object.keys(o)) {
    if (k === 'base') throw configError(`venue override: unknown key "base": the rules a custom venue starts from are venue.id's (now ${base.id}); set venue.id to the venue to start from, and overrides.id to the custom venue's name`);
    if (!known.has(k)) throw configError(`venue override: unknown key "${k}"${didYouMean(k, [...known])} (known: ${[...known].join(', ')})`);
  }
  // sections that are objects must be objects: a string or number there is a mistake, not "no override"
  for (const k of ['fees', 'funding', 'liquidation', 'maintenance', 'tiers', 'lotSizes'] as const) {
    const v: unknown = o[k];
    if (v !== undefined && (v === null || typeof v !== 'object' || Array.isArray(v)))
      throw configError(`venue override ${k}: expected an object, got ${shownValue(v)}`);
  }
  // the keys of each section: a misspelt one (fees.takr, funding.intervalHour) was left out in silence, the run
  // replaying the venue's default in its place
  const sectionKeys = { fees: ['maker', 'taker'], funding: ['intervalHours', 'priceSource', 'isolatedBooking', 'openCutoffMs'], liquidation: ['penalty'], maintenance: ['basis', 'extraRate'] } as const;
  for (const [k, keys] of Object.entries(sectionKeys)) {
    const v = o[k as keyof typeof sectionKeys] as Record<string, unknown> | undefined;
    if (v === undefined) continue;
    for (const key of Object.keys(v)) {
      if (!(keys as readonly string[]).includes(key)) throw configError(`venue override ${k}: unknown key "${key}"${didYouMean(key, keys)} (known: ${keys.join(', ')})`);
    }
  }
  const penalty: unknown = o.liquidation?.penalty;
  if (penalty && typeof penalty === 'object') {
    for (const key of Object.keys(penalty)) if (key !== 'feeRate') throw configError(`venue override liquidation.penalty: unknown key "${key}"${didYouMean(key, ['feeRate'])} (known: feeRate)`);
  }
  const def: VenueDefinition = { ...base };
  if (o.id !== undefined) {
    if (typeof o.id !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/i.test(o.id)) throw configError(`venue override id: expected a name of letters, digits, '.', '_' or '-', got ${shownValue(o.id)}`);
    // another built-in venue's id on this one's rules: the reports named okx where Binance's maths and fees ran
    if (o.id !== base.id && builtIn.has(o.id)) throw configError(`venue override id: '${o.id}' is another built-in venue, while the rules are ${base.id}'s; name the custom venue otherwise (e.g. '${base.id}-custom'), or set venue.id to '${o.id}' for its rules`);
    def.id = o.id;
  }
  if (o.name !== undefined) def.name = String(o.name);
  if (o.fees) {
    def.fees = {
      maker: o.fees.maker === undefined ? base.fees.maker : rate(o.fees.maker, 'fees.maker', -0.01, 0.1),
      // a maker rebate is a negative maker fee; a taker fee is paid (a negative one would turn OKX's liquidation
      // fee and maintenance add-on, which follow it, into payments to the liquidated trader)
      taker: o.fees.taker === undefined ? base.fees.taker : rate(o.fees.taker, 'fees.taker', 0, 0.1),
    };
  }
  if (o.funding) {
    const f = { ...base.funding };
    if (o.funding.intervalHours !== undefined) f.intervalHours = rate(o.funding.intervalHours, 'funding.intervalHours', 1 / 60, 24 * 7);
    if (o.funding.priceSource !== undefined) {
      if (o.funding.priceSource !== 'mark' && o.funding.priceSource !== 'oracle') throw configError(`venue override funding.priceSource: expected "mark" or "oracle", got ${shownValue(o.funding.priceSource)}`);
      f.priceSource = o.funding.priceSource;
    }
    if (o.funding.isolatedBooking !== undefined) {
      if (o.funding.isolatedBooking !== 'isolatedWallet' && o.funding.isolatedBooking !== 'availableFirst')
        throw configError(`venue override funding.isolatedBooking: expected "isolatedWallet" or "availableFirst", got ${shownValue(o.funding.isolatedBooking)}`);
      f.isolatedBooking = o.funding.isolatedBooking;
    }
    if (o.funding.openCutoffMs !== undefined) f.openCutoffMs = rate(o.funding.openCutoffMs, 'funding.openCutoffMs', 0, 3_600_000);
    def.funding = f;
  }
  if (o.liquidation) {
    const p = o.liquidation.penalty;
    if (p === 'remainingMargin') def.penalty = p;
    else if (p && typeof p === 'object') def.penalty = { feeRate: p.feeRate === 'taker' ? 'taker' : rate(p.feeRate, 'liquidation.penalty.feeRate', 0, 1) };
    else throw configError(`venue override liquidation.penalty: expected "remainingMargin" or { feeRate } (a rate, or 'taker' for the taker fee), got ${shownValue(p)}`);
  }
  if (o.maintenance) {
    const m = { ...base.maintenance };
    if (o.maintenance.basis !== undefined) {
      if (o.maintenance.basis !== 'mark' && o.maintenance.basis !== 'entry') throw configError(`venue override maintenance.basis: expected "mark" or "entry", got ${shownValue(o.maintenance.basis)}`);
      m.basis = o.maintenance.basis;
    }
    if (o.maintenance.extraRate !== undefined) m.extraRate = o.maintenance.extraRate === 'taker' ? 'taker' : rate(o.maintenance.extraRate, 'maintenance.extraRate', 0, 0.5);
    def.maintenance = m;
  }
  if (o.tiers) {
    if (typeof o.tiers !== 'object') throw configError('venue override tiers: expected an object { SYMBOL: [tiers] }');
    const map = new Map<string, readonly Tier[]>();
    for (const [sym, rows] of Object.entries(o.tiers)) {
      const tiers = Object.freeze(buildTiers(rows, `venue override tiers.${sym}`));
      if (sym === '*') def.defaultTiers = tiers;
      else map.set(base.normalize(sym), tiers);
    }
    def.symbolOverrides = map;
    if (o.tiers['*']) def.defaultLabel = `${def.id} custom default table`;
  }
  if (o.lotSizes !== undefined) {
    if (!o.lotSizes || typeof o.lotSizes !== 'object' || Array.isArray(o.lotSizes)) throw configError('venue override lotSizes: expected an object { SYMBOL: step | { step, minQty?, tick? } }');
    const map = new Map<string, LotSizeInput>();
    for (const [sym, v] of Object.entries(o.lotSizes)) {
      const r = checkLotSizeInput(v);
      if (!r.ok) throw configError(`venue override lotSizes.${sym}: ${r.reason}`);
      if (sym === '*') def.defaultLot = r.value;
      else map.set(base.normalize(sym), r.value);
    }
    def.lotOverrides = map;
  }
  return def;
}
