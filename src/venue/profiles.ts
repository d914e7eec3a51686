/**
 * Built-in venue profiles: binance-usdm, bybit-linear, hyperliquid, okx. Each profile is plain data
 * plus pure functions (VenueProfile); the account and engine never read a venue id.
 *
 * Sources and the choices made where the venues do not publish a number are in docs/margin.md.
 */
import type { BuiltVenueProfile, Side, Tier, VenueProfile } from './types.js';
import { buildTiers, loadBracketSnapshots, pickDated, BINANCE_TIERS_DIR, type DatedTable, type TierInput } from './tiers.js';
import { BINANCE_LOT_SIZES, HYPERLIQUID_LOT_SIZES, defaultLotSize, type LotSize, type LotSizeInput } from './lots.js';
import {
  bankruptcyPriceOf,
  bybitLiquidationPriceWallet,
  ClosedForm,
  maintenanceMargin,
  tieredLiquidationPrice,
  type MaintenanceModel,
} from './math.js';

/** Everything that defines a venue; a profile is built from a definition (plus overrides). */
export interface VenueDefinition {
  id: string;
  name: string;
  fees: { maker: number; taker: number };
  funding: VenueProfile['funding'];
  /** feeRate === 'taker' follows fees.taker (OKX: the liquidation fee is the taker rate) */
  penalty: 'remainingMargin' | { feeRate: number | 'taker' };
  /** extraRate === 'taker' follows fees.taker (OKX) */
  maintenance: { basis: 'mark' | 'entry'; extraRate: number | 'taker' };
  /** the published closed form used for mark-basis isolated liquidation prices */
  closedForm: ClosedForm;
  /** dated tables (lazily produced; loaded once) */
  tables: () => readonly DatedTable[];
  /** table for symbols a dated table does not list */
  defaultTiers: readonly Tier[];
  /** label of the default table, for reports */
  defaultLabel: string;
  /** canonical table key of a symbol name ('BTC/USDT:USDT' → 'BTCUSDT', Hyperliquid → 'BTC') */
  normalize: (symbol: string) => string;
  /** explicit per-symbol tables that take precedence over the dated ones (custom venues) */
  symbolOverrides?: ReadonlyMap<string, readonly Tier[]>;
  /** quantity grid per canonical symbol: [step, minQty, tick] (others: the default rule) */
  lotSizes: Readonly<Record<string, readonly [number, number, number]>>;
  /** label of the lot-size table, for reports */
  lotLabel: string;
  /** custom venues: per-symbol lot sizes (canonical key) and a fixed default replacing the rule ('*') */
  lotOverrides?: ReadonlyMap<string, LotSizeInput>;
  defaultLot?: LotSizeInput;
}

export function usdtSymbol(symbol: string): string {
  let s = symbol.toUpperCase().trim();
  s = s.replace(/:USDT$/, '').replace(/-SWAP$/, '').replace(/[/\-_]/g, '');
  if (!/USDT$|USDC$|USD$/.test(s)) s = `${s}USDT`;
  return s;
}

export function coinSymbol(symbol: string): string {
  let s = symbol.toUpperCase().trim();
  s = s.replace(/:USDT?C?$/, '').replace(/-SWAP$/, '').replace(/[/\-_]/g, '');
  return s.replace(/(USDT|USDC|USD)$/, '') || s;
}

function dated(snapshot: string, source: string, entries: Record<string, readonly Tier[]>): DatedTable {
  return { snapshot, source, fromMs: Date.parse(`${snapshot}T00:00:00Z`), symbols: new Map(Object.entries(entries)) };
}

/** a venue's dated tables, built on first use and kept (profile lookups call `tables()` every time) */
function once(build: () => readonly DatedTable[]): () => readonly DatedTable[] {
  let tables: readonly DatedTable[] | undefined;
  return () => (tables ??= build());
}

function t(rows: TierInput[], where: string): readonly Tier[] {
  return Object.freeze(buildTiers(rows, where));
}

// ---------------------------------------------------------------------------------------------
// Binance USDⓈ-M

/**
 * Default table for symbols not in a bundled snapshot: Binance's typical small-cap bracket
 * (1000BONKUSDT, snapshot 2024-10-24: 10k/30k/150k/300k/1.5M/3M/3.75M/7.5M/15M at
 * 1/1.5/2/2.5/5/10/12.5/25/50 %). cum by the recurrence.
 */
const BINANCE_DEFAULT = t(
  [
    { floor: 0, cap: 10_000, mmr: 0.01, maxLeverage: 75 },
    { floor: 10_000, cap: 30_000, mmr: 0.015, maxLeverage: 50 },
    { floor: 30_000, cap: 150_000, mmr: 0.02, maxLeverage: 25 },
    { floor: 150_000, cap: 300_000, mmr: 0.025, maxLeverage: 20 },
    { floor: 300_000, cap: 1_500_000, mmr: 0.05, maxLeverage: 10 },
    { floor: 1_500_000, cap: 3_000_000, mmr: 0.1, maxLeverage: 5 },
    { floor: 3_000_000, cap: 3_750_000, mmr: 0.125, maxLeverage: 4 },
    { floor: 3_750_000, cap: 7_500_000, mmr: 0.25, maxLeverage: 2 },
    { floor: 7_500_000, cap: 15_000_000, mmr: 0.5, maxLeverage: 1 },
  ],
  'binance-usdm default table',
);

/**
 * BTCUSDT/ETHUSDT brackets of margin-spec.md §1.2 (2024-10 and 2026-05), embedded so that the two
 * majors are exact even without the bundled files; the files in data/binance-tiers win when present.
 */
function binanceMajors(): DatedTable[] {
  const lev = [125, 100, 75, 50, 25, 20, 10, 5, 4, 3, 2, 1];
  const mmr = [0.004, 0.005, 0.0065, 0.01, 0.02, 0.025, 0.05, 0.1, 0.125, 0.15, 0.25, 0.5];
  const btc24 = [0, 50e3, 600e3, 3e6, 12e6, 70e6, 100e6, 230e6, 480e6, 600e6, 800e6, 1.2e9, 1.8e9];
  const eth24 = [0, 50e3, 600e3, 3e6, 12e6, 50e6, 65e6, 150e6, 320e6, 400e6, 530e6, 800e6, 1.2e9];
  const btc26 = [0, 300e3, 800e3, ...btc24.slice(3)];
  const eth26 = [0, 300e3, 800e3, ...eth24.slice(3)];
  const mk = (floors: number[], l: number[], where: string) =>
    t(
      mmr.map((m, i) => ({ floor: floors[i]!, cap: floors[i + 1]!, mmr: m, maxLeverage: l[i]! })),
      where,
    );
  const lev26 = [150, ...lev.slice(1)];
  return [
    dated('2024-10-24', 'margin-spec.md §1.2 (freqtrade binance_leverage_tiers.json @ c9ae5e1e)', {
      BTCUSDT: mk(btc24, lev, 'BTCUSDT 2024-10'),
      ETHUSDT: mk(eth24, lev, 'ETHUSDT 2024-10'),
    }),
    dated('2026-05-03', 'margin-spec.md §1.2 (upstream freqtrade binance_leverage_tiers.json, 2026-05)', {
      BTCUSDT: mk(btc26, lev26, 'BTCUSDT 2026-05'),
      ETHUSDT: mk(eth26, lev26, 'ETHUSDT 2026-05'),
    }),
  ];
}

function binanceTables(): readonly DatedTable[] {
  const embedded = binanceMajors();
  const files = loadBracketSnapshots(BINANCE_TIERS_DIR, 'binance-usdm');
  const bySnap = new Map<string, DatedTable>();
  for (const e of embedded) bySnap.set(e.snapshot, e);
  for (const f of files) {
    const base = bySnap.get(f.snapshot);
    if (!base) bySnap.set(f.snapshot, f);
    else {
      const merged = new Map(base.symbols);
      for (const [k, v] of f.symbols) merged.set(k, v);
      bySnap.set(f.snapshot, { snapshot: f.snapshot, fromMs: f.fromMs, source: f.source, symbols: merged });
    }
  }
  return [...bySnap.values()].sort((a, b) => a.fromMs - b.fromMs);
}

export const binanceUsdm: VenueDefinition = {
  id: 'binance-usdm',
  name: 'Binance USDⓈ-M futures',
  // regular user (VIP 0) USDⓈ-M rates: maker 0.0200 %, taker 0.0500 %
  fees: { maker: 0.0002, taker: 0.0005 },
  funding: { intervalHours: 8, priceSource: 'mark', isolatedBooking: 'isolatedWallet', openCutoffMs: 15_000 },
  penalty: 'remainingMargin',
  maintenance: { basis: 'mark', extraRate: 0 },
  closedForm: ClosedForm.Binance,
  tables: once(binanceTables),
  defaultTiers: BINANCE_DEFAULT,
  defaultLabel: 'binance-usdm default (small-cap bracket, 1000BONKUSDT 2024-10-24)',
  normalize: usdtSymbol,
  lotSizes: BINANCE_LOT_SIZES,
  lotLabel: 'Binance USDⓈ-M exchangeInfo LOT_SIZE/PRICE_FILTER',
};

// ---------------------------------------------------------------------------------------------
// Bybit USDT perpetual (linear)

/**
 * Bybit risk-limit tiers: tier 1 MMR 0.5 % at 100x for BTC/ETH (Bybit's worked example, §2.1);
 * further tiers a plausible step-up (1, 2, 2.5, 5, 10, 25, 50 %), with the "mm deduction" (cum)
 * that keeps MM continuous. Documented approximation (docs/margin.md).
 */
const BYBIT_MAJOR = t(
  [
    { floor: 0, mmr: 0.005, maxLeverage: 100 },
    { floor: 2_000_000, mmr: 0.01, maxLeverage: 50 },
    { floor: 10_000_000, mmr: 0.02, maxLeverage: 25 },
    { floor: 20_000_000, mmr: 0.025, maxLeverage: 20 },
    { floor: 40_000_000, mmr: 0.05, maxLeverage: 10 },
    { floor: 80_000_000, mmr: 0.1, maxLeverage: 5 },
    { floor: 200_000_000, mmr: 0.25, maxLeverage: 2 },
    { floor: 400_000_000, cap: 800_000_000, mmr: 0.5, maxLeverage: 1 },
  ],
  'bybit-linear BTCUSDT/ETHUSDT',
);
const BYBIT_DEFAULT = t(
  [
    { floor: 0, mmr: 0.01, maxLeverage: 50 },
    { floor: 200_000, mmr: 0.015, maxLeverage: 33.33 },
    { floor: 1_000_000, mmr: 0.025, maxLeverage: 20 },
    { floor: 3_000_000, mmr: 0.05, maxLeverage: 10 },
    { floor: 6_000_000, mmr: 0.1, maxLeverage: 5 },
    { floor: 10_000_000, mmr: 0.25, maxLeverage: 2 },
    { floor: 20_000_000, cap: 40_000_000, mmr: 0.5, maxLeverage: 1 },
  ],
  'bybit-linear default table',
);

export const bybitLinear: VenueDefinition = {
  id: 'bybit-linear',
  name: 'Bybit USDT perpetual (linear, UTA)',
  // non-VIP derivatives: maker 0.02 %, taker 0.055 %
  fees: { maker: 0.0002, taker: 0.00055 },
  funding: { intervalHours: 8, priceSource: 'mark', isolatedBooking: 'availableFirst', openCutoffMs: 0 },
  // closed at the bankruptcy price: the position margin left at LP goes to the insurance fund (§2.1/2.2)
  penalty: 'remainingMargin',
  maintenance: { basis: 'entry', extraRate: 0 },
  closedForm: ClosedForm.Binance,
  tables: once(() => [dated('2024-10-24', 'Bybit risk-limit tiers (approximation, docs/margin.md)', { BTCUSDT: BYBIT_MAJOR, ETHUSDT: BYBIT_MAJOR })]),
  defaultTiers: BYBIT_DEFAULT,
  defaultLabel: 'bybit-linear default (1 % MMR, 50x first tier)',
  normalize: usdtSymbol,
  lotSizes: {},
  lotLabel: 'bybit-linear (not tabulated)',
};

// ---------------------------------------------------------------------------------------------
// Hyperliquid: MMR = 1 / (2 × max leverage) (§4); max leverage per coin as in the real positions
// of the verified liquidation prices (2024: BTC 50x, ETH 50x, SOL 20x).

const hl = (maxLev: number, where: string) => t([{ floor: 0, mmr: 1 / (2 * maxLev), maxLeverage: maxLev }], where);

export const hyperliquid: VenueDefinition = {
  id: 'hyperliquid',
  name: 'Hyperliquid perpetuals',
  // base tier: maker 0.015 %, taker 0.045 %
  fees: { maker: 0.00015, taker: 0.00045 },
  funding: { intervalHours: 1, priceSource: 'oracle', isolatedBooking: 'availableFirst', openCutoffMs: 0 },
  // "maintenance margin is not returned" on liquidation (§4)
  penalty: 'remainingMargin',
  maintenance: { basis: 'mark', extraRate: 0 },
  closedForm: ClosedForm.Hyperliquid,
  tables: once(() => [
    dated('2024-10-01', 'Hyperliquid max leverage per coin (margin-spec.md §4 real positions)', {
      BTC: hl(50, 'hyperliquid BTC'),
      ETH: hl(50, 'hyperliquid ETH'),
      SOL: hl(20, 'hyperliquid SOL'),
    }),
  ]),
  defaultTiers: hl(10, 'hyperliquid default'),
  defaultLabel: 'hyperliquid default (max leverage 10x, MMR 5 %)',
  normalize: coinSymbol,
  lotSizes: HYPERLIQUID_LOT_SIZES,
  lotLabel: 'Hyperliquid szDecimals',
};

// ---------------------------------------------------------------------------------------------
// OKX USDT swaps, isolated formula per freqtrade (Gate form, §5) with MM + liquidation fee
// (position value × taker) as in OKX's margin ratio (§3).

const OKX_MAJOR = t(
  [
    { floor: 0, mmr: 0.004, maxLeverage: 100 },
    { floor: 500_000, mmr: 0.006, maxLeverage: 75 },
    { floor: 3_000_000, mmr: 0.008, maxLeverage: 50 },
    { floor: 10_000_000, mmr: 0.01, maxLeverage: 40 },
    { floor: 20_000_000, mmr: 0.015, maxLeverage: 30 },
    { floor: 40_000_000, mmr: 0.02, maxLeverage: 25 },
    { floor: 80_000_000, mmr: 0.03, maxLeverage: 20 },
    { floor: 150_000_000, mmr: 0.05, maxLeverage: 10 },
    { floor: 300_000_000, cap: 600_000_000, mmr: 0.1, maxLeverage: 5 },
  ],
  'okx BTCUSDT/ETHUSDT',
);
const OKX_DEFAULT = t(
  [
    { floor: 0, mmr: 0.01, maxLeverage: 50 },
    { floor: 100_000, mmr: 0.015, maxLeverage: 33.33 },
    { floor: 500_000, mmr: 0.02, maxLeverage: 25 },
    { floor: 2_000_000, mmr: 0.05, maxLeverage: 10 },
    { floor: 5_000_000, mmr: 0.1, maxLeverage: 5 },
    { floor: 10_000_000, cap: 20_000_000, mmr: 0.25, maxLeverage: 2 },
  ],
  'okx default table',
);

export const okx: VenueDefinition = {
  id: 'okx',
  name: 'OKX USDT-margined swaps',
  // regular user (Lv1) swap rates: maker 0.02 %, taker 0.05 %
  fees: { maker: 0.0002, taker: 0.0005 },
  funding: { intervalHours: 8, priceSource: 'mark', isolatedBooking: 'availableFirst', openCutoffMs: 0 },
  // liquidation fee = position value × taker rate; the rest of the margin is returned (§3): the
  // taker rate in force, also when fees.taker is overridden (as the maintenance add-on follows it)
  penalty: { feeRate: 'taker' },
  maintenance: { basis: 'mark', extraRate: 'taker' },
  closedForm: ClosedForm.Gate,
  tables: once(() => [dated('2024-10-24', 'OKX position tiers (approximation, docs/margin.md)', { BTCUSDT: OKX_MAJOR, ETHUSDT: OKX_MAJOR })]),
  defaultTiers: OKX_DEFAULT,
  defaultLabel: 'okx default (1 % MMR, 50x first tier)',
  normalize: usdtSymbol,
  lotSizes: {},
  lotLabel: 'okx (not tabulated)',
};

export const BUILT_IN: readonly VenueDefinition[] = [binanceUsdm, bybitLinear, hyperliquid, okx];

// ---------------------------------------------------------------------------------------------

export function resolveMaintenance(def: VenueDefinition): MaintenanceModel {
  return {
    basis: def.maintenance.basis,
    extraRate: def.maintenance.extraRate === 'taker' ? def.fees.taker : def.maintenance.extraRate,
  };
}

/** Builds the VenueProfile of a definition. Tier lookups are cached per (symbol, table). */
export function profileFromDefinition(def: VenueDefinition): BuiltVenueProfile {
  const maintenance = Object.freeze(resolveMaintenance(def));
  const cache = new Map<string, { tiers: readonly Tier[]; label: string }>();
  const lookup = (symbol: string, asOfMs: number): { tiers: readonly Tier[]; label: string } => {
    const key = def.normalize(symbol);
    const over = def.symbolOverrides?.get(key) ?? def.symbolOverrides?.get(symbol);
    if (over) return { tiers: over, label: `${def.id} custom table for ${key}` };
    const tables = def.tables();
    const table = tables.length > 0 ? pickDated(tables, Number.isFinite(asOfMs) ? asOfMs : Date.now()) : null;
    const ck = `${key}|${table?.snapshot ?? ''}`;
    const hit = cache.get(ck);
    if (hit) return hit;
    const found = table?.symbols.get(key);
    const res = found
      ? { tiers: found, label: `${def.id} ${key} ${table!.snapshot} (${table!.source})` }
      : { tiers: def.defaultTiers, label: `${def.defaultLabel} for ${key}` };
    cache.set(ck, res);
    return res;
  };
  const form = maintenance.extraRate !== 0 ? ClosedForm.Gate : def.closedForm;
  const lotSize = (symbol: string, referencePrice?: number): LotSize => {
    const key = def.normalize(symbol);
    const over = def.lotOverrides?.get(key) ?? def.lotOverrides?.get(symbol);
    if (over) return { step: over.step, minQty: over.minQty ?? over.step, tick: over.tick ?? NaN, source: `${def.id} custom lot size for ${key}` };
    const row = Object.prototype.hasOwnProperty.call(def.lotSizes, key) ? def.lotSizes[key] : undefined;
    if (row) return { step: row[0], minQty: row[1], tick: row[2], source: `${def.lotLabel} ${key}` };
    const d = def.defaultLot;
    if (d) return { step: d.step, minQty: d.minQty ?? d.step, tick: d.tick ?? NaN, source: `${def.id} custom default lot size` };
    return defaultLotSize(referencePrice);
  };
  const profile: BuiltVenueProfile = {
    id: def.id,
    name: def.name,
    fees: Object.freeze({ ...def.fees }),
    funding: Object.freeze({ ...def.funding }),
    liquidation: Object.freeze({ penalty: typeof def.penalty === 'string' ? def.penalty : Object.freeze({ feeRate: def.penalty.feeRate === 'taker' ? def.fees.taker : def.penalty.feeRate }) }),
    maintenance,
    tiers: (symbol, asOfMs) => lookup(symbol, asOfMs).tiers,
    tierSource: (symbol, asOfMs) => lookup(symbol, asOfMs).label,
    tableSymbols: (asOfMs) => {
      const tables = def.tables();
      const table = tables.length > 0 ? pickDated(tables, Number.isFinite(asOfMs) ? asOfMs : Date.now()) : null;
      return [...(table?.symbols.keys() ?? []), ...(def.symbolOverrides?.keys() ?? [])];
    },
    tierChanges: (fromMs, toMs) => {
      // the earliest table is in force before its date too (pickDated): only the later dates switch
      const dates = def.tables().map((t) => t.fromMs).sort((a, b) => a - b);
      const out: number[] = [];
      for (let k = 1; k < dates.length; k++) if (dates[k]! > fromMs && dates[k]! <= toMs && dates[k] !== dates[k - 1]) out.push(dates[k]!);
      return out;
    },
    lotSize,
    isolatedLiquidationPrice(p) {
      const q = Math.abs(p.qty);
      const s: Side = p.side;
      if (maintenance.basis === 'entry') {
        const mm = maintenanceMargin(maintenance, p.tiers, q, p.entryPrice, p.entryPrice);
        return bybitLiquidationPriceWallet(s, q, p.entryPrice, p.walletBalance, mm);
      }
      return tieredLiquidationPrice(form, s, q, p.entryPrice, p.walletBalance, p.tiers, maintenance.extraRate, p.mark);
    },
    bankruptcyPrice(p) {
      return bankruptcyPriceOf(p.side, Math.abs(p.qty), p.entryPrice, p.walletBalance);
    },
  };
  return Object.freeze(profile);
}
