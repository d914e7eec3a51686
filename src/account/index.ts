/**
 * The account: one-way positions, exact fixed-point books, isolated and cross margin side by side
 * (DESIGN §3, §5; margin-spec.md conventions).
 *
 * Books. Every booked amount (initial margin moved to an isolated wallet, realised PnL, fees,
 * funding, liquidation penalty, insurance draw, margin transfer) is an integer number of units of
 * 1e-8 USDT, computed exactly from its decimal inputs and rounded once, half-even (./fixed.ts; the
 * rule of each booking is in docs/margin.md), and is added to a wallet and to its ledger total
 * with the same value, so that
 *   deposit + realisedPnl − fees + fundingReceived − fundingPaid − penalties + insuranceDraws
 *   = cross wallet + Σ isolated wallets
 * holds exactly (BigInt sums, no size limit). Float mirrors of the books are refreshed at every
 * event; the per-bar methods (pools(), MarginPool.*, mark()) read only the mirrors and allocate
 * nothing. A booking allocates only the BigInts it books (no pointers for the GC to trace).
 *
 * Margin modes. The account never compares mode ids: each position's MarginMode object
 * (./modes.ts) decides what it owns — how margin is held and released, where funding is booked,
 * the pool key, its share of the available balance, leverage changes, transfers, a liquidation's
 * margin and remainder. The per-bar loops read one flag of the mode (`ownsPool`: the position's
 * margin balance is its own wallet, or the shared cross wallet). The engine sees MarginPool objects.
 *
 * Files: fixed.ts (units, exact rounding), books.ts (ratio cap, books identity), position.ts, modes.ts,
 * pools.ts (MarginPool implementations), this file (events, float views, marks).
 */
import type { VenueProfile } from '../venue/types.js';
import { DEFAULT_MAINTENANCE, type MaintenanceModel } from '../venue/math.js';
import { maxNotional, tierFor } from '../venue/tiers.js';
import { shownValue } from '../util/excerpt.js';
import { LotGrid, defaultLotSize, type LotSize } from '../venue/lots.js';
import { FillLog, FundingLog, type Ledger } from './fill-log.js';
import { marginRatioOf } from './books.js';
import { mulDivUnits, mulUnits, parseUnits, roundedUnits, roundUnits, unitsDecimal, unitsPerQty, unitsToNumber, unitsToString } from './fixed.js';
import { MarginModes, type MarginMode } from './modes.js';
import { NO_TIER, positionMaintenance, type Position } from './position.js';
import { doubleFields } from '../util/double-fields.js';

export { BOOK_DP, MARGIN_RATIO_CAP, marginRatioOf, booksImbalance } from './books.js';
export { UNIT_DP, unitsToString } from './fixed.js';
export { MarginModes, type MarginMode } from './modes.js';

import type {
  Account,
  AccountEvent,
  AccountParams,
  BooksSnapshot,
  Fill,
  FundingSettlement,
  LiquidationOutcome,
  MarginPool,
  MarkSnapshot,
  ModeId,
  RejectReason,
  Rejection,
  TradeRequest,
} from './types.js';
import { freezeClass } from '../util/freeze.js';

export type * from './types.js';

/**
 * What a margin check lets pass beyond its limit (USDT): a tenth of the books' unit. The checks run on float mirrors
 * (the initial margin notional ÷ leverage is not on the unit grid, and a limit summed in doubles can land a few ulps
 * below the exact amount), so an exact limit of 145.12608 can come out as 145.12607999999997. One home for the fill's
 * available-balance check, the cross leverage lowering's (availableCovers) and the transfer limits (withinLimit).
 */
const MARGIN_CHECK_TOLERANCE = 1e-9;
/** a booked amount fits a limit computed on the float mirrors (MARGIN_CHECK_TOLERANCE) */
const withinLimit = (amount: number, limit: number): boolean => amount <= limit + MARGIN_CHECK_TOLERANCE;
/**
 * A limit (a sum of doubles: 13.559388880000142) as a refusal message shows it: in the books' unit
 * (1e-8), the largest amount withinLimit passes — 1984.9999999999998 reads 1985, 13.559388880000142
 * reads 13.55938888 (the amount a strategy can copy from the message and have accepted).
 */
function limitText(limit: number): string {
  if (!Number.isFinite(limit) || Math.abs(limit) >= 1e21) return String(limit);
  let u = roundUnits(limit, 1, 1, 1, 1);
  if (unitsToNumber(u) - limit > MARGIN_CHECK_TOLERANCE) u -= 1n;
  return unitsToString(u);
}
/** an amount (a notional) in a message: rounded to the books' unit (1e-8) */
const amountText = (x: number): string => (!Number.isFinite(x) || Math.abs(x) >= 1e21 ? String(x) : unitsToString(roundUnits(x, 1, 1, 1, 1)));
/** [0, NaN] read as typed-array elements (see positionQty) */
const CONST_CELLS = new Float64Array([0, Number.NaN]);
/** a position's fields that hold fractions or large step counts (util/double-fields.ts) */
const DOUBLE_POSITION_FIELDS = ['leverage', 'lots', 'qtyF', 'absQ', 'entryF', 'isoWalletF', 'tierMmr', 'tierCum'] as const;

/**
 * A fill as booked: the amounts are units, turned into decimal strings only when read (the
 * ledger materialises plain AccountEvent objects when `events` is read). The units are private
 * fields (not enumerable: JSON.stringify never meets a BigInt), and toJSON writes the strings.
 */
class FillRecord implements Fill {
  readonly ok = true as const;
  readonly #feeU: bigint;
  readonly #realizedU: bigint;
  constructor(
    readonly symbol: number,
    readonly qty: number,
    readonly price: number,
    feeU: bigint,
    realizedU: bigint,
    readonly positionQty: number,
    readonly mode: ModeId,
  ) {
    this.#feeU = feeU;
    this.#realizedU = realizedU;
  }
  get fee(): string {
    return unitsToString(this.#feeU);
  }
  get realizedPnl(): string {
    return unitsToString(this.#realizedU);
  }
  toJSON(): Fill {
    return { ok: true, symbol: this.symbol, qty: this.qty, price: this.price, fee: this.fee, realizedPnl: this.realizedPnl, positionQty: this.positionQty, mode: this.mode };
  }
}

/** A funding settlement as booked: the amount is units (a private field), a decimal string only when read; toJSON writes it. */
class FundingRecord implements FundingSettlement {
  readonly #receivedU: bigint;
  constructor(
    readonly symbol: number,
    receivedU: bigint,
    readonly rate: number,
    readonly price: number,
  ) {
    this.#receivedU = receivedU;
  }
  get received(): string {
    return unitsToString(this.#receivedU);
  }
  toJSON(): FundingSettlement {
    return { symbol: this.symbol, received: this.received, rate: this.rate, price: this.price };
  }
}

/** the accounts this module made (a wrapper of one, e.g. a Proxy, is not one of them) */
const OWN_ACCOUNTS = new WeakSet<object>();

/** the ledger as recorded of an account this module made, else null (a wrapper or another implementation: read its events) */
export function ownLedger(a: Account): Ledger | null {
  return OWN_ACCOUNTS.has(a) ? (a as AccountImpl).ledger() : null;
}

export class AccountImpl implements Account {
  readonly symbols: readonly string[];
  readonly venue: VenueProfile;
  /**
   * the ledger as recorded: fills are indices k ≥ 0 into the columnar fill log, funding settlements
   * −1 − k into the funding log, until read
   */
  private readonly rawEvents: (AccountEvent | number)[] = [];
  private readonly fillLog = new FillLog();
  private readonly fundingLog = new FundingLog();
  private materialized = 0;
  /**
   * the last fill and settlement handed out: one object of each kept alive while the account is
   * (src/engine/replay.ts keeps the last replay's accounts): when none is left, a full GC frees their
   * shapes and V8 throws away the code compiled for them, to compile it again in the next pass
   */
  private lastFill: FillRecord | null = null;
  private lastFunding: FundingRecord | null = null;
  readonly mm: MaintenanceModel;
  readonly pos: Position[];
  readonly asOfMs: number;
  private readonly defaultMode: MarginMode;
  /** the initial deposit (units) */
  private readonly deposit: bigint;

  /** the cross wallet (units): the wallet balance minus the isolated wallets */
  crossWallet: bigint;
  crossWalletF = 0;
  /** ledger totals (units, updated at every booking; fills' fees and realised PnL are summed from the fill log when read) */
  private liquidationRealized = 0n;
  private fundingReceived = 0n;
  private fundingPaid = 0n;
  private penalties = 0n;
  private insurance = 0n;

  /** state a trade may have to undo (a rejection changes nothing); scalars, so saving allocates nothing */
  private svCross = 0n;
  private svLots = 0;
  private svCost = 0n;
  private svIso = 0n;
  private svMode: MarginMode | null = null;

  /** last known price per symbol (marks or fills) */
  private readonly lastMark: Float64Array;
  /** the marks a growing fill's pool is valued at in trade() (NaN: markOf's last mark); all NaN between trades */
  private readonly markScratch: Float64Array;
  private poolList: MarginPool[] = [];

  constructor(params: AccountParams) {
    OWN_ACCOUNTS.add(this);
    if (!params.venue) throw new TypeError('createAccount: venue is required');
    this.venue = params.venue;
    this.mm = params.venue.maintenance ?? DEFAULT_MAINTENANCE;
    this.symbols = Object.freeze([...params.symbols]);
    this.asOfMs = params.asOfMs;
    const deposit = parseUnits(params.initialDeposit, 'createAccount: initialDeposit');
    if (deposit < 0n) throw new TypeError(`createAccount: initialDeposit must be ≥ 0, got ${params.initialDeposit}`);
    if (!(params.leverage >= 1) || !Number.isFinite(params.leverage)) throw new TypeError(`createAccount: leverage must be a number ≥ 1, got ${params.leverage}`);
    this.deposit = deposit;
    this.crossWallet = deposit;
    const defaultMode = MarginModes[params.defaultMode];
    if (!defaultMode) throw new TypeError(`createAccount: defaultMode must be 'isolated' or 'cross', got ${JSON.stringify(params.defaultMode)}`);
    this.defaultMode = defaultMode;
    this.lastMark = new Float64Array(this.symbols.length).fill(Number.NaN);
    this.markScratch = new Float64Array(this.symbols.length).fill(Number.NaN);
    const lotSizes = params.lotSizes;
    if (lotSizes !== undefined && lotSizes.length !== this.symbols.length)
      throw new TypeError(`createAccount: lotSizes has ${lotSizes.length} entries for ${this.symbols.length} symbols`);
    this.pos = this.symbols.map((symbol, idx) => {
      const lot = lotSizes?.[idx] ?? params.venue.lotSize?.(symbol) ?? defaultLotSize(undefined);
      if (!(Number.isFinite(lot.step) && lot.step > 0)) throw new TypeError(`createAccount: quantity step of ${symbol} must be > 0, got ${lot.step}`);
      const p: Position = {
        idx,
        symbol,
        tiers: params.venue.tiers(symbol, params.asOfMs),
        grid: new LotGrid(lot.step),
        step: lot.step,
        lot,
        leverage: params.leverage,
        lots: 0,
        cost: 0n,
        isoWallet: 0n,
        mode: null,
        qtyF: 0,
        absQ: 0,
        side: 1 as const,
        entryF: 0,
        isoWalletF: 0,
        pool: null,
        ...NO_TIER,
      };
      // fields that take fractions (or more than 2^30 steps) laid out as doubles from the start
      return doubleFields(p, DOUBLE_POSITION_FIELDS);
    });
    this.refresh();
  }

  // ------------------------------------------------------------------ float helpers (no allocation)

  markOf(i: number, marks: Float64Array | null): number {
    const m = marks ? marks[i]! : CONST_CELLS[1]!;
    if (m === m) return m; // not NaN
    const l = this.lastMark[i]!;
    return l === l ? l : this.pos[i]!.entryF;
  }

  /**
   * The margin check of a fill and of a cross leverage lowering (docs/margin.md, Trades): the available balance after
   * the change is not negative, up to a shortfall of MARGIN_CHECK_TOLERANCE
   */
  availableCovers(): boolean {
    return withinLimit(0, this.availableF());
  }

  /** Binance available balance: cross wallet + Σ cross uPnL − Σ cross IM (at last marks), not floored */
  availableF(): number {
    let a = this.crossWalletF;
    for (let i = 0; i < this.pos.length; i++) {
      const p = this.pos[i]!;
      if (p.absQ === 0 || !p.mode) continue;
      a += p.mode.availableShare(p, this.markOf(i, null));
    }
    return a;
  }

  /**
   * The available balance in units, exactly: R(cross wallet + Σ the modes' shares at last marks),
   * half-even, the shares summed exactly — what a booking takes from it (an available-first funding
   * payment). The margin checks use availableF, its float view, with a tolerance.
   */
  availableUnits(): bigint {
    let a = unitsDecimal(this.crossWallet);
    for (let i = 0; i < this.pos.length; i++) {
      const p = this.pos[i]!;
      if (p.absQ === 0 || !p.mode) continue;
      const share = p.mode.availableShareUnits(p, this.markOf(i, null));
      if (share !== null) a = a.plus(share);
    }
    return roundedUnits(a);
  }

  private refreshPos(p: Position): void {
    p.qtyF = p.grid.qty(p.lots);
    p.absQ = Math.abs(p.qtyF);
    p.side = p.lots < 0 ? -1 : 1;
    p.entryF = p.lots === 0 ? 0 : unitsPerQty(p.cost, p.lots, p.step);
    p.isoWalletF = unitsToNumber(p.isoWallet);
  }

  /** the ledger: every event in order (plain objects; fills and funding settlements are materialised here, once) */
  get events(): readonly AccountEvent[] {
    const raw = this.rawEvents;
    for (let k = this.materialized; k < raw.length; k++) {
      const e = raw[k]!;
      if (typeof e === 'number') raw[k] = e >= 0 ? this.fillLog.event(e) : this.fundingLog.event(-1 - e);
    }
    this.materialized = raw.length;
    return raw as AccountEvent[];
  }

  /** the ledger as recorded, fills and funding settlements not built into objects (fill-log.ts Ledger) */
  ledger(): Ledger {
    return { entries: this.rawEvents, fills: this.fillLog, funding: this.fundingLog };
  }

  /** the quantity grid of `symbol` (step, minimum quantity, tick, source) */
  lotSize(symbol: number): LotSize {
    const p = this.pos[symbol];
    if (!p) throw new RangeError(`lotSize: no symbol with index ${symbol}`);
    return p.lot;
  }

  private refreshOne(p: Position): void {
    this.crossWalletF = unitsToNumber(this.crossWallet);
    this.refreshPos(p);
  }

  private refresh(): void {
    this.crossWalletF = unitsToNumber(this.crossWallet);
    for (const p of this.pos) this.refreshPos(p);
  }

  /** groups the open positions into pools by their mode's pool key (pools re-made only here, at events) */
  private rebuildPools(): void {
    const groups = new Map<string, { mode: MarginMode; members: number[] }>();
    for (const p of this.pos) {
      if (p.absQ === 0 || !p.mode) continue;
      const key = p.mode.poolKey(p);
      const g = groups.get(key);
      if (g) g.members.push(p.idx);
      else groups.set(key, { mode: p.mode, members: [p.idx] });
    }
    const list: MarginPool[] = [];
    for (const p of this.pos) if (p.absQ === 0 || !p.mode) p.pool = null;
    // pools that own their margin (isolated) come before the shared one (cross), each in symbol order: a
    // liquidation of the former returns its rest to the wallet the latter draws on, so the engine, which
    // liquidates the pools gapped through at one open in this order, judges the shared pool after them
    // whatever the order of the run's symbols
    for (let own = 1; own >= 0; own--) {
      for (const [key, g] of groups) {
        if (g.mode.ownsPool !== (own === 1)) continue;
        const first = this.pos[g.members[0]!]!;
        const pool = g.mode.createPool(this, key, g.members, g.members.length === 1 ? first.pool : null);
        for (const i of g.members) this.pos[i]!.pool = pool;
        list.push(pool);
      }
    }
    this.poolList = list;
  }

  private reject(symbol: number, reason: RejectReason, message: string, time: number): Rejection {
    // the event keeps a number: a strategy's own value given as a symbol (an object, a string) would be
    // converted where the event is read — by the worker writing the run's records, after the pass, its
    // toString or valueOf running as strategy code outside every callback (NaN: not a symbol, null in results)
    this.rawEvents.push({ type: 'rejection', time, symbol: typeof symbol === 'number' ? symbol : Number.NaN, reason, message });
    return { ok: false, reason, message };
  }

  private save(p: Position): void {
    this.svCross = this.crossWallet;
    this.svLots = p.lots;
    this.svCost = p.cost;
    this.svIso = p.isoWallet;
    this.svMode = p.mode;
  }

  private restore(p: Position): void {
    this.crossWallet = this.svCross;
    p.lots = this.svLots;
    p.cost = this.svCost;
    p.isoWallet = this.svIso;
    p.mode = this.svMode;
    this.refreshOne(p);
  }

  private checkSymbol(symbol: number): boolean {
    return Number.isInteger(symbol) && symbol >= 0 && symbol < this.pos.length;
  }

  // ------------------------------------------------------------------ events

  useTiersAt(asOfMs: number): boolean {
    let changed = false;
    for (let i = 0; i < this.pos.length; i++) {
      const p = this.pos[i]!;
      const tiers = this.venue.tiers(p.symbol, asOfMs);
      if (tiers === p.tiers) continue;
      p.tiers = tiers;
      // the cached bracket belongs to the old table: the next valuation looks the tier up again
      p.tierLo = NO_TIER.tierLo;
      p.tierHi = NO_TIER.tierHi;
      p.tierMmr = NO_TIER.tierMmr;
      p.tierCum = NO_TIER.tierCum;
      p.tierJump = NO_TIER.tierJump;
      changed = true;
    }
    return changed;
  }

  leverage(symbol: number): number {
    const ok = symbol === (symbol | 0) && symbol >= 0 && symbol < this.pos.length;
    return ok ? this.pos[symbol]!.leverage : CONST_CELLS[1]!;
  }

  setLeverage(symbol: number, leverage: number, time = Number.NaN): { ok: true } | Rejection {
    if (!this.checkSymbol(symbol)) return this.reject(symbol, 'symbolUnavailable', `no symbol with index ${shownValue(symbol)}`, time);
    const p = this.pos[symbol]!;
    if (!Number.isFinite(leverage) || leverage < 1)
      return this.reject(symbol, 'invalidLeverage', `leverage must be a number ≥ 1, got ${shownValue(leverage)}`, time);
    // the tier of the position's basis notional, as its maintenance margin's (an entry-basis venue: Q × entry)
    const notional = p.absQ * (this.mm.basis === 'entry' ? p.entryF : this.markOf(symbol, null));
    const tier = tierFor(p.tiers, notional);
    if (leverage > tier.maxLeverage)
      return this.reject(symbol, 'exceedsMaxLeverage', `${p.symbol}: leverage ${leverage}x exceeds the ${tier.maxLeverage}x maximum of the tier at notional ${amountText(notional)}`, time);
    const before = p.leverage;
    p.leverage = leverage;
    // the position's margin mode decides whether the change is allowed (cross: lowering needs the extra
    // initial margin; isolated: lowering is refused while open)
    const refusal = p.absQ > 0 && p.mode ? p.mode.leverageChangeRefusal(this, p, before, leverage) : null;
    if (refusal !== null) {
      p.leverage = before;
      return this.reject(symbol, refusal.reason, refusal.message, time);
    }
    return { ok: true };
  }

  trade(req: TradeRequest): Fill | Rejection {
    const { symbol, time } = req;
    if (!this.checkSymbol(symbol)) return this.reject(symbol, 'symbolUnavailable', `no symbol with index ${shownValue(symbol)}`, time);
    const p = this.pos[symbol]!;
    if (!Number.isFinite(req.price) || req.price <= 0) return this.reject(symbol, 'invalidPrice', `${p.symbol}: price must be > 0, got ${shownValue(req.price)}`, time);
    if (!Number.isFinite(req.qty) || req.qty === 0) return this.reject(symbol, 'invalidQuantity', `${p.symbol}: quantity must be a non-zero number, got ${shownValue(req.qty)}`, time);
    if (p.absQ > 0 && req.mode && p.mode && req.mode !== p.mode.id)
      return this.reject(symbol, 'modeLocked', `${p.symbol}: the open position is ${p.mode.id}; ${req.mode === 'isolated' ? 'an' : 'a'} ${req.mode} order cannot change it until it is closed`, time);

    // quantities on the symbol's grid, in whole steps (within half a step of a grid point is that point)
    const g = p.grid;
    let lots = g.lots(req.qty, 'nearest');
    if (lots === 0)
      return this.reject(symbol, 'invalidQuantity', `${p.symbol}: quantity ${req.qty} is below half the quantity step ${g.step}`, time);
    const cur = p.lots;
    const reducing = cur !== 0 && cur < 0 !== lots < 0;
    if (req.reduceOnly) {
      if (!reducing) return this.reject(symbol, 'reduceOnlyViolation', `${p.symbol}: a reduce-only order must reduce the open position (position ${p.qtyF}, order ${req.qty})`, time);
      if (Math.abs(lots) > Math.abs(cur)) lots = -cur; // Binance shrinks a reduce-only order to the position size
    }
    // positions are whole steps in a double: beyond 2^53 steps a step added is lost (the fills would no longer add up
    // to the position), and from 2^52 steps of the step's last decimal place a quantity no longer prints exactly
    const maxL = g.maxLots;
    if (lots > maxL || lots < -maxL || cur + lots > maxL || cur + lots < -maxL)
      return this.reject(symbol, 'invalidQuantity', `${p.symbol}: an order of ${req.qty} on a position of ${p.qtyF} counts more than ${maxL} quantity steps of ${g.step}, the most a position can hold exactly (trade a smaller size or use a coarser lotSizes step)`, time);
    const price = req.price;
    const absL = Math.abs(lots);
    const absCur = Math.abs(cur);
    const closeL = reducing ? (absL < absCur ? absL : absCur) : 0;
    const openL = absL - closeL; // ≥ 0, in the direction of the order
    const newL = cur + lots;

    // leverage against the tier at the resulting notional (only when exposure grows)
    if (openL > 0) {
      // the resulting position's basis notional, which its maintenance tier is chosen by: Q × the fill price, or on an
      // entry-basis venue (Bybit) its cost basis, the part it keeps plus the fill's (it was Q × the fill price there too,
      // so an increase at a higher price was judged in a tier its maintenance margin is not)
      const notional = this.mm.basis === 'entry' && !reducing ? unitsToNumber(p.cost) + g.qty(openL) * price : g.qty(Math.abs(newL)) * price;
      // the top tier's cap is the largest position the venue holds at any leverage (Binance: the last bracket's
      // notionalCap, error -2027): past it the table has no rate, and the top tier's is not extrapolated to any size.
      // Checked first: past the cap no leverage is allowed, so the leverage check's message ("3x exceeds the 1x
      // maximum of the tier") would send the user to a setLeverage that cannot help
      const top = maxNotional(p.tiers);
      if (notional > top)
        return this.reject(symbol, 'exceedsMaxLeverage', `${p.symbol}: a position of notional ${amountText(notional)} is above ${amountText(top)}, the largest position the venue's tier table allows (its top tier's cap) at any leverage`, time);
      const tier = tierFor(p.tiers, notional);
      if (p.leverage > tier.maxLeverage)
        return this.reject(symbol, 'exceedsMaxLeverage', `${p.symbol}: leverage ${p.leverage}x exceeds the ${tier.maxLeverage}x maximum of the tier at notional ${amountText(notional)}`, time);
    }

    this.save(p);
    const prevMark = this.lastMark[symbol]!;
    this.lastMark[symbol] = price;
    const membershipBefore = p.mode;
    let realized = 0n;

    // 1. the reducing part: proceeds of the closed quantity against the cost basis it releases
    if (closeL > 0) {
      const proceeds = roundUnits(closeL, p.step, price, 1, 1);
      const basis = closeL === absCur ? p.cost : mulDivUnits(p.cost, closeL, absCur);
      realized = cur < 0 ? basis - proceeds : proceeds - basis;
      p.mode!.release(this, p, closeL, absCur);
      this.crossWallet = this.crossWallet + realized;
      p.cost -= basis;
      p.lots = cur < 0 ? cur + closeL : cur - closeL;
      if (p.lots === 0) p.cost = 0n;
    }
    const closedMode = p.mode;
    if (p.lots === 0) p.mode = null;

    // 2. the opening / increasing part: its notional, booked, joins the cost basis
    if (openL > 0) {
      const notional = roundUnits(openL, p.step, price, 1, 1);
      if (p.lots === 0) p.mode = closedMode ?? (req.mode ? MarginModes[req.mode] : this.defaultMode);
      p.cost = p.cost + notional;
      p.lots += lots < 0 ? -openL : openL;
      p.mode!.allocate(this, p, notional);
    }

    // 3. the fee on the whole traded notional
    const rate = req.liquidity === 'maker' ? this.venue.fees.maker : this.venue.fees.taker;
    const fee = roundUnits(absL, p.step, price, rate, 1);
    this.crossWallet = this.crossWallet - fee;
    this.refreshOne(p);

    if (openL > 0 && !this.availableCovers()) {
      const need = (g.qty(openL) * price) / p.leverage;
      this.restore(p);
      this.lastMark[symbol] = prevMark;
      return this.reject(symbol, 'insufficientMargin', `${p.symbol}: initial margin ${need.toPrecision(8)} plus fee exceeds the available balance ${this.availableF().toPrecision(8)}`, time);
    }

    const regrouped = p.mode !== membershipBefore || (p.lots === 0) !== (this.svLots === 0);
    if (regrouped) this.rebuildPools();
    // a fill that grows exposure is valued at the marks too when they are given (the engine gives every
    // symbol's liquidation-source price at that point of the path, as its pools are judged there): a pool it
    // leaves at or past its threshold there would be liquidated at once, the insurance fund making good a fill
    // priced away from the mark (slippage, a mark wick), so it is refused, as a venue's price band and
    // open-loss margin refuse it
    const given = req.marks;
    const own = req.mark ?? (given ? given[symbol] : undefined);
    if (openL > 0 && p.pool && (given !== undefined || (own !== undefined && own === own && own > 0))) {
      const at = this.markScratch;
      if (given) {
        for (let i = 0; i < at.length; i++) {
          const v = given[i];
          at[i] = v !== undefined && v === v && v > 0 ? v : Number.NaN;
        }
      }
      if (own !== undefined && own === own && own > 0) at[symbol] = own;
      const shown = at[symbol]!;
      // its own pool, and the pool that shares the cross wallet it took margin and fee from (an isolated fill
      // emptying a cross pool left it to be liquidated at once)
      let past = p.pool.breached(at);
      for (let k = 0; k < this.poolList.length && !past; k++) {
        const q = this.poolList[k]!;
        if (q !== p.pool && !this.pos[q.symbols[0]!]!.mode!.ownsPool) past = q.breached(at);
      }
      at.fill(Number.NaN);
      if (past) {
        this.restore(p);
        this.lastMark[symbol] = prevMark;
        if (regrouped) this.rebuildPools();
        const where = shown === shown ? `at the mark ${shownValue(shown)}` : 'at the marks';
        return this.reject(symbol, 'immediateLiquidation', `${p.symbol}: a fill at ${shownValue(price)} would leave its margin pool (or the cross pool it draws on) past its liquidation threshold ${where} (it would be liquidated at once)`, time);
      }
    }
    const mode = (p.mode ?? closedMode ?? this.defaultMode).id;
    const qty = g.qty(lots);
    this.rawEvents.push(this.fillLog.push(time, symbol, qty, price, fee, realized, p.qtyF, mode, req.order));
    return (this.lastFill = new FillRecord(symbol, qty, price, fee, realized, p.qtyF, mode));
  }

  /** the pool of the positions that share the cross wallet (null when none is open) */
  private sharedPool(): MarginPool | null {
    for (const q of this.poolList) if (!this.pos[q.symbols[0]!]!.mode!.ownsPool) return q;
    return null;
  }

  /**
   * `pool` past its liquidation threshold at the last marks by more than the limits' tolerance and the float error
   * of its sums. A removal within the limits leaves an isolated pool's excess at max(uPnL, IM − MM) or more, so a pool
   * at its threshold only where the leverage's initial margin is below its maintenance (a custom tier allowing more
   * than 1 ÷ its rate): past it, the removal is not taken back; the pool is liquidated at the next check, as a venue
   * liquidates it at once
   */
  private pastThreshold(pool: MarginPool): boolean {
    const at = this.lastMark;
    const mb = pool.marginBalance(at);
    const mm = pool.maintenance(at);
    let notional = 0;
    for (const s of pool.symbols) notional += this.pos[s]!.absQ * this.markOf(s, null);
    return mb - mm < -(MARGIN_CHECK_TOLERANCE + 16 * Number.EPSILON * (Math.abs(mb) + mm + notional));
  }

  /** Binance's published limits (margin-spec.md §0): max addable and max removable isolated margin, at last marks */
  marginLimits(symbol: number): { addable: number; removable: number } {
    const p = this.pos[symbol];
    if (!p || p.absQ === 0 || !p.mode || p.mode.transferRefusal(p) !== null) return { addable: 0, removable: 0 };
    let crossMM = 0;
    for (const q of this.pos) {
      if (q.absQ === 0 || !q.mode || q.mode.ownsPool) continue;
      crossMM += positionMaintenance(this.mm, q, this.markOf(q.idx, null));
    }
    const addable = Math.max(0, Math.min(this.crossWalletF - crossMM, this.availableF()));
    const m = this.markOf(symbol, null);
    const mmIso = positionMaintenance(this.mm, p, m);
    const removable = Math.max(0, Math.min(p.isoWalletF - mmIso, p.isoWalletF + p.side * p.absQ * (m - p.entryF) - (m * p.absQ) / p.leverage));
    return { addable, removable };
  }

  transferMargin(symbol: number, amount: number, time: number): { ok: true } | Rejection {
    if (!this.checkSymbol(symbol)) return this.reject(symbol, 'symbolUnavailable', `no symbol with index ${shownValue(symbol)}`, time);
    const p = this.pos[symbol]!;
    const refusal = p.absQ === 0 || !p.mode ? `${p.symbol}: margin can only be moved for an open isolated position` : p.mode.transferRefusal(p);
    if (refusal !== null) return this.reject(symbol, 'noPosition', refusal, time);
    if (!Number.isFinite(amount) || amount === 0) return this.reject(symbol, 'invalidQuantity', `${p.symbol}: margin amount must be a non-zero number, got ${shownValue(amount)}`, time);
    // the amount (its shortest decimal) in units, rounded half-even: the limits are checked against what is booked
    const d = roundUnits(amount, 1, 1, 1, 1);
    if (d === 0n) return this.reject(symbol, 'invalidQuantity', `${p.symbol}: margin amount ${amount} rounds to 0 at the books' unit (1e-8)`, time);
    const booked = unitsToNumber(d < 0n ? -d : d);
    // the amount as checked: as given when rounding left it alone (1e+300, not its 300 digits), else its rounded decimal
    const shown = booked === Math.abs(amount) ? String(booked) : unitsToString(d < 0n ? -d : d);
    // the pool the margin goes to (added: the position's own; removed: the cross pool, whose wallet takes it), past
    // its liquidation threshold at the last marks, is the venue's to liquidate before margin can reach it (a callback
    // between a funding payment that sank it and the open's liquidation rescued it)
    const into = d > 0n ? p.pool : this.sharedPool();
    if (into !== null && this.pastThreshold(into))
      return this.reject(symbol, 'immediateLiquidation', `${p.symbol}: ${d > 0n ? 'its margin pool' : 'the cross pool the removed margin would go to'} is past its liquidation threshold at the marks${into.symbols.length === 1 ? ` (${shownValue(this.markOf(into.symbols[0]!, null))})` : ''}, so it is liquidated before margin can reach it`, time);
    const { addable, removable } = this.marginLimits(symbol);
    if (d > 0n && !withinLimit(booked, addable)) return this.reject(symbol, 'insufficientMargin', `${p.symbol}: cannot add ${shown}; at most ${limitText(addable)} can be added`, time);
    if (d < 0n && !withinLimit(booked, removable)) return this.reject(symbol, 'exceedsRemovableMargin', `${p.symbol}: cannot remove ${shown}; at most ${limitText(removable)} can be removed`, time);
    p.isoWallet = p.isoWallet + d;
    this.crossWallet = this.crossWallet - d;
    this.refreshOne(p);
    this.rawEvents.push({ type: 'transfer', time, symbol, amount: unitsToString(d) });
    return { ok: true };
  }

  applyFunding(symbol: number, rate: number, price: number, time: number): FundingSettlement | null {
    const p = this.pos[symbol];
    if (!p || p.absQ === 0 || !p.mode) return null;
    if (!Number.isFinite(rate) || !Number.isFinite(price) || price <= 0) return null;
    // payment = Q × price × rate; rate > 0: longs pay, shorts receive (§1.3, §7)
    // rounded half-even (symmetric): a short receives exactly what a long of the same size pays
    const received = -roundUnits(p.lots, p.step, price, rate, 1);
    p.mode.bookFunding(this, p, received);
    if (received >= 0n) this.fundingReceived = this.fundingReceived + received;
    else this.fundingPaid = this.fundingPaid - received;
    this.refreshOne(p);
    this.rawEvents.push(-1 - this.fundingLog.push(time, symbol, rate, price, received));
    return (this.lastFunding = new FundingRecord(symbol, received, rate, price));
  }

  recordRejection(symbol: number, reason: RejectReason, message: string, time: number): Rejection {
    return this.reject(symbol, reason, message, time);
  }

  pools(): readonly MarginPool[] {
    return this.poolList;
  }

  liquidate(pool: MarginPool, prices: Float64Array, time: number): LiquidationOutcome {
    if (!this.poolList.includes(pool)) throw new TypeError(`liquidate: pool ${pool.id} is not an open pool of this account`);
    const symbols = [...pool.symbols];
    // the pool's margin mode says where its margin comes from and where the remainder goes
    const mode = this.pos[symbols[0]!]!.mode!;
    const closePrices: number[] = [];
    let realizedTotal = 0n;
    let notional = 0n;
    // the pool's margin before the close: isolated wallet, or the cross wallet
    const margin = mode.liquidationMargin(this, symbols);
    for (const i of symbols) {
      const p = this.pos[i]!;
      const px = this.markOf(i, prices);
      closePrices.push(px);
      // proceeds of the whole position at the close price against its cost basis, as a close does
      const proceeds = roundUnits(p.lots < 0 ? -p.lots : p.lots, p.step, px, 1, 1);
      realizedTotal = realizedTotal + (p.lots < 0 ? p.cost - proceeds : proceeds - p.cost);
      notional = notional + proceeds;
      this.lastMark[i] = px;
    }
    this.liquidationRealized = this.liquidationRealized + realizedTotal;
    const remaining = margin + realizedTotal;
    let penalty = 0n;
    let draw = 0n;
    let returned = 0n;
    if (remaining < 0n) {
      draw = -remaining;
    } else {
      const rule = this.venue.liquidation.penalty;
      if (rule === 'remainingMargin') penalty = remaining;
      else {
        const fee = mulUnits(notional, rule.feeRate);
        penalty = fee < remaining ? fee : remaining;
      }
      returned = remaining - penalty;
    }
    this.penalties = this.penalties + penalty;
    this.insurance = this.insurance + draw;
    mode.settleLiquidation(this, symbols, returned);
    for (const i of symbols) {
      const p = this.pos[i]!;
      p.lots = 0;
      p.cost = 0n;
      p.mode = null;
    }
    this.refresh();
    this.rebuildPools();
    const out: LiquidationOutcome = {
      poolId: pool.id,
      symbols,
      prices: closePrices,
      penalty: unitsToString(penalty),
      insuranceDraw: unitsToString(draw),
      realizedPnl: unitsToString(realizedTotal),
    };
    this.rawEvents.push({ type: 'liquidation', time, ...out, symbols: [...symbols], prices: [...closePrices] });
    return out;
  }

  // The float views below return a typed-array element on every path: a literal (0, NaN) in one
  // branch and a field in another makes the optimiser box the result (an allocation per call).
  positionQty(symbol: number): number {
    const ok = symbol === (symbol | 0) && symbol >= 0 && symbol < this.pos.length;
    return ok ? this.pos[symbol]!.qtyF : CONST_CELLS[0]!;
  }
  entryPrice(symbol: number): number {
    const ok = symbol === (symbol | 0) && symbol >= 0 && symbol < this.pos.length && this.pos[symbol]!.absQ > 0;
    return ok ? this.pos[symbol]!.entryF : CONST_CELLS[1]!;
  }
  positionMode(symbol: number): ModeId | null {
    const p = this.pos[symbol];
    return p && p.absQ > 0 && p.mode ? p.mode.id : null;
  }
  /** isolated wallet of `symbol` as a float (0 when not isolated) */
  isolatedWallet(symbol: number): number {
    return this.pos[symbol]?.isoWalletF ?? 0;
  }
  /** cross wallet (wallet − isolated wallets) as a float */
  crossWalletBalance(): number {
    return this.crossWalletF;
  }

  // mark(), markWithPeakInto() and marginRatioInto() below are deliberate copies of one per-pool
  // computation, kept apart for the bar loop: the engine calls mark() or markWithPeakInto() every
  // bar and marginRatioInto() at every stretch of a bar with events. Each is one flat loop over
  // numbers that allocates nothing; mark() as markWithPeakInto(marks, marks, …) would value every
  // position twice, and a shared loop steered by flags adds branches to the hottest loop. Merge
  // them only with a bench:engine run showing no slowdown. test/account.props.test.ts checks that
  // the three agree exactly: change them together.
  mark(marks: Float64Array, out: MarkSnapshot): void {
    for (let i = 0; i < this.pos.length; i++) {
      const m = marks[i]!;
      if (m === m && m > 0) this.lastMark[i] = m;
    }
    let equity = this.crossWalletF;
    let mbTotal = 0;
    let mmTotal = 0;
    let imTotal = 0;
    let gross = 0;
    let capital = 0;
    let worst = 0;
    let crossMb = this.crossWalletF;
    let crossMm = 0;
    let crossIm = 0;
    let crossOpen = false;
    for (let i = 0; i < this.pos.length; i++) {
      const p = this.pos[i]!;
      equity += p.isoWalletF;
      if (p.absQ === 0) continue;
      const m = this.markOf(i, null);
      const upnl = p.side * p.absQ * (m - p.entryF);
      const mm = positionMaintenance(this.mm, p, m);
      const n = p.absQ * m;
      equity += upnl;
      mmTotal += mm;
      imTotal += n / p.leverage;
      gross += n;
      if (!p.mode!.ownsPool) {
        crossOpen = true;
        crossMb += upnl;
        crossMm += mm;
        crossIm += n / p.leverage;
      } else {
        const mb = p.isoWalletF + upnl;
        mbTotal += mb;
        capital += p.isoWalletF;
        const r = marginRatioOf(mm, mb);
        if (r > worst) worst = r;
      }
    }
    if (crossOpen) {
      mbTotal += crossMb;
      capital += crossMb;
      const r = marginRatioOf(crossMm, crossMb);
      if (r > worst) worst = r;
    }
    out.equity = equity;
    out.marginBalance = mbTotal;
    out.maintenanceMargin = mmTotal;
    out.marginRatio = worst;
    out.initialMargin = imTotal;
    out.capitalAtRisk = capital;
    out.grossNotional = gross;
    out.available = Math.max(0, crossMb - crossIm);
  }

  /**
   * One pass doing what `mark(adverse, scratch)` followed by `mark(marks, out)` does (same numbers,
   * same remembered marks): fills `out` at `marks` and writes the worst pool's margin ratio with
   * every symbol at `adverse` into peak[0] (the engine's marginRatioPeak input). No allocation.
   */
  markWithPeakInto(marks: Float64Array, adverse: Float64Array, out: MarkSnapshot, peak: Float64Array): void {
    const pos = this.pos;
    const last = this.lastMark;
    let equity = this.crossWalletF;
    let mbTotal = 0;
    let mmTotal = 0;
    let imTotal = 0;
    let gross = 0;
    let capital = 0;
    let worst = 0;
    let crossMb = this.crossWalletF;
    let crossMm = 0;
    let crossIm = 0;
    let crossOpen = false;
    // adverse-side pool sums
    let worstA = 0;
    let crossMbA = this.crossWalletF;
    let crossMmA = 0;
    const mm = this.mm;
    for (let i = 0; i < pos.length; i++) {
      const p = pos[i]!;
      const a = adverse[i]!;
      const c = marks[i]!;
      const aValid = a === a && a > 0;
      if (aValid) last[i] = a;
      const lA = last[i]!;
      const mA = lA === lA ? lA : p.entryF;
      if (c === c && c > 0) last[i] = c;
      equity += p.isoWalletF;
      if (p.absQ === 0) continue;
      const l = last[i]!;
      const m = l === l ? l : p.entryF;
      const sq = p.side * p.absQ;
      const upnl = sq * (m - p.entryF);
      const mmC = positionMaintenance(mm, p, m);
      const upnlA = sq * (mA - p.entryF);
      const mmA = positionMaintenance(mm, p, mA);
      const n = p.absQ * m;
      equity += upnl;
      mmTotal += mmC;
      imTotal += n / p.leverage;
      gross += n;
      if (!p.mode!.ownsPool) {
        crossOpen = true;
        crossMb += upnl;
        crossMm += mmC;
        crossIm += n / p.leverage;
        crossMbA += upnlA;
        crossMmA += mmA;
      } else {
        const mb = p.isoWalletF + upnl;
        mbTotal += mb;
        capital += p.isoWalletF;
        const r = marginRatioOf(mmC, mb);
        if (r > worst) worst = r;
        const mbA = p.isoWalletF + upnlA;
        const rA = marginRatioOf(mmA, mbA);
        if (rA > worstA) worstA = rA;
      }
    }
    if (crossOpen) {
      mbTotal += crossMb;
      capital += crossMb;
      const r = marginRatioOf(crossMm, crossMb);
      if (r > worst) worst = r;
      const rA = marginRatioOf(crossMmA, crossMbA);
      if (rA > worstA) worstA = rA;
    }
    out.equity = equity;
    out.marginBalance = mbTotal;
    out.maintenanceMargin = mmTotal;
    out.marginRatio = worst;
    out.initialMargin = imTotal;
    out.capitalAtRisk = capital;
    out.grossNotional = gross;
    out.available = Math.max(0, crossMb - crossIm);
    peak[0] = worstA;
  }

  /** worst pool's margin ratio with every open position's symbol at prices[symbol] (NaN → last known), into out[0]; remembers nothing */
  marginRatioInto(prices: Float64Array, out: Float64Array): void {
    const pos = this.pos;
    const mm = this.mm;
    let worst = 0;
    let crossMb = this.crossWalletF;
    let crossMm = 0;
    let crossOpen = false;
    for (let i = 0; i < pos.length; i++) {
      const p = pos[i]!;
      if (p.absQ === 0) continue;
      const m = this.markOf(i, prices);
      const upnl = p.side * p.absQ * (m - p.entryF);
      const mmP = positionMaintenance(mm, p, m);
      if (!p.mode!.ownsPool) {
        crossOpen = true;
        crossMb += upnl;
        crossMm += mmP;
      } else {
        const r = marginRatioOf(mmP, p.isoWalletF + upnl);
        if (r > worst) worst = r;
      }
    }
    if (crossOpen) {
      const r = marginRatioOf(crossMm, crossMb);
      if (r > worst) worst = r;
    }
    out[0] = worst;
  }

  books(): BooksSnapshot {
    let wallet = this.crossWallet;
    for (const p of this.pos) wallet = wallet + p.isoWallet;
    return {
      initialDeposit: unitsToString(this.deposit),
      wallet: unitsToString(wallet),
      realizedPnl: unitsToString(this.fillLog.realizedTotal() + this.liquidationRealized),
      fees: unitsToString(this.fillLog.feeTotal()),
      fundingReceived: unitsToString(this.fundingReceived),
      fundingPaid: unitsToString(this.fundingPaid),
      liquidationPenalties: unitsToString(this.penalties),
      insuranceDraws: unitsToString(this.insurance),
    };
  }
}

/** Creates an account (implements the Account contract of ./types.ts). */
export function createAccount(params: AccountParams): AccountImpl {
  return new AccountImpl(params);
}

// one per worker, reachable from a strategy (through createAccount, the context or the package entry):
// frozen so that a strategy changing it cannot change the later runs of its worker (src/engine/context.ts)
for (const c of [AccountImpl, FillRecord, FundingRecord]) freezeClass(c);
