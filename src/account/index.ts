/**
 * The account: one-way positions, exact books in decimal.js, isolated and cross margin side by
 * side (DESIGN §3, §5; margin-spec.md conventions).
 *
 * Books. Every booked amount (initial margin moved to an isolated wallet, realised PnL, fees,
 * funding, liquidation penalty, insurance draw, margin transfer) is a Decimal rounded to
 * BOOK_DP = 18 decimal places before it is booked, and is added to a wallet and to its ledger
 * total with the same value, so that
 *   deposit + realisedPnl − fees + fundingReceived − fundingPaid − penalties + insuranceDraws
 *   = cross wallet + Σ isolated wallets
 * holds exactly. Float mirrors of the books are refreshed at every event; the per-bar methods
 * (pools(), MarginPool.*, mark()) read only the mirrors and allocate nothing.
 *
 * Margin modes. The account never branches on a mode id outside the two MarginMode objects:
 * IsolatedMargin gives each position its own wallet and pool; CrossMargin leaves the margin in the
 * cross wallet and groups every cross position in one pool. The engine sees MarginPool objects.
 */
import { Decimal } from 'decimal.js';
import type { Tier, VenueProfile } from '../venue/types.js';
import { maintenanceMargin, DEFAULT_MAINTENANCE, type MaintenanceModel } from '../venue/math.js';
import { tierFor } from '../venue/tiers.js';
import { LotGrid, defaultLotSize, type LotSize } from '../venue/lots.js';
import { FillLog } from './fill-log.js';
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

export type * from './types.js';

/** Decimal constructor of the books: 64 significant digits, half-even. */
export const BookDecimal = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_EVEN });
type D = Decimal;
/** decimal places every booked amount is rounded to */
export const BOOK_DP = 18;

const ZERO = new BookDecimal(0);
const dec = (n: number | string): D => new BookDecimal(n);
/** round to BOOK_DP places (half-even); a value that already has ≤ BOOK_DP places is returned as is (same value, no allocation) */
const book = (d: D): D => (d.decimalPlaces() <= BOOK_DP ? d : d.toDecimalPlaces(BOOK_DP, Decimal.ROUND_HALF_EVEN));

/**
 * Decimal of a fill price, remembering the last one: the setups of a replay fill at the same bar
 * prices one after the other, so the second construction is usually a hit. Same value either way.
 */
let memoPrice = Number.NaN;
let memoPriceD: D = ZERO;
function priceDecimal(price: number): D {
  if (price !== memoPrice) {
    memoPriceD = dec(price);
    memoPrice = price;
  }
  return memoPriceD;
}

let memoPrPrice = Number.NaN;
let memoPrRate = Number.NaN;
let memoPrD: D = ZERO;

const PAD7 = ['', '000000', '00000', '0000', '000', '00', '0', ''];
/**
 * `d.toNumber()` without decimal.js's string formatting: the digit words of the documented
 * instance properties (d: base-1e7 words, e: decimal exponent, s: sign) are joined and parsed as
 * `<digits>e<exp>`. Number parsing rounds the exact decimal correctly, as toNumber does, so the
 * result is the same double (tested against toNumber in test/account.props.test.ts).
 */
export function decimalToNumber(x: D): number {
  const d = x.d;
  if (!d || d.length === 0) return x.toNumber();
  let str = '' + d[0]!;
  for (let k = 1; k < d.length; k++) {
    const w = '' + d[k]!;
    str += PAD7[w.length]! + w;
  }
  const v = +(str + 'e' + (x.e - (str.length - 1)));
  return x.s < 0 ? -v : v;
}

/**
 * Ceiling of the margin ratio. MM ÷ margin balance has no meaning once the margin balance is ≤ 0
 * (it would be ∞ or negative): a pool whose margin balance is at or below MM / MARGIN_RATIO_CAP —
 * bankrupt, or within a tenth of its maintenance margin — counts as MARGIN_RATIO_CAP, so a ratio
 * is always finite and never decreases as the margin balance falls (≥ 1 = liquidation territory).
 */
export const MARGIN_RATIO_CAP = 10;
/**
 * the same value as a module-local constant: the per-bar code reads this one (reading the exported
 * binding there made V8 box the ratio it is mixed with — an allocation per bar, seen with the
 * sampling heap profiler)
 */
const RATIO_CAP = 10;

/** margin ratio of one pool: MM ÷ MB, capped at MARGIN_RATIO_CAP (MB ≤ 0 included); 0 without maintenance margin */
export function marginRatioOf(mm: number, mb: number): number {
  return !(mm > 0) ? 0 : mb * RATIO_CAP > mm ? mm / mb : RATIO_CAP;
}

/** [0, NaN] read as typed-array elements (see positionQty) */
const CONST_CELLS = new Float64Array([0, Number.NaN]);

/** One net position (one-way mode). */
interface Position {
  readonly idx: number;
  readonly symbol: string;
  readonly tiers: readonly Tier[];
  /** quantity grid: every order and position is an integer number of steps */
  readonly grid: LotGrid;
  readonly stepD: D;
  readonly lot: LotSize;
  leverage: number;
  /** signed position in steps (exact integer) */
  lots: number;
  /** cached Decimal of `leverage` (levDOf = the leverage it was made from) */
  levD: D | null;
  levDOf: number;
  // books (Decimal)
  /** signed position = stepD × lots (exact) */
  qty: D;
  entry: D;
  /** isolated wallet (0 for cross / flat) */
  isoWallet: D;
  mode: MarginMode | null;
  // float mirrors
  qtyF: number;
  absQ: number;
  side: 1 | -1;
  entryF: number;
  isoWalletF: number;
  pool: IsolatedPool | null;
}

/** How a margin mode holds margin, books funding and forms pools. */
export interface MarginMode {
  readonly id: ModeId;
  /** move initial margin `im` for a new or increased position out of the cross wallet (isolated) or leave it (cross) */
  allocate(acc: AccountImpl, p: Position, openQty: D, priceD: D): void;
  /** release the part closeLots/curLots (0..1] of the position's own margin back to the cross wallet when it is reduced/closed */
  release(acc: AccountImpl, p: Position, closeLots: number, curLots: number): void;
  /** book a funding amount (received > 0, paid < 0) for the position */
  bookFunding(acc: AccountImpl, p: Position, received: D): void;
  /** true: each position is its own pool (isolated); false: every position of the mode shares one pool (cross) */
  ownsPool: boolean;
  /**
   * why changing the leverage of the open position p from `from` to `to` is refused (message), or
   * null when allowed; p.leverage is already `to` when called
   */
  leverageChangeRefusal(acc: AccountImpl, p: Position, from: number, to: number): string | null;
}

const IsolatedMargin: MarginMode = {
  id: 'isolated',
  ownsPool: true,
  leverageChangeRefusal() {
    // the isolated wallet is not re-sized: the leverage applies to what the position opens next
    return null;
  },
  allocate(acc, p, openQty, priceD) {
    // initial margin of the opened part, notional / leverage, booked into the position's wallet
    const im = book(openQty.times(priceD).div(acc.leverageD(p)));
    p.isoWallet = p.isoWallet.isZero() ? im : p.isoWallet.plus(im);
    acc.crossWallet = acc.crossWallet.minus(im);
  },
  release(acc, p, closeLots, curLots) {
    if (closeLots >= curLots) {
      // the whole isolated wallet goes back
      if (!p.isoWallet.isZero()) acc.crossWallet = acc.crossWallet.plus(p.isoWallet);
      p.isoWallet = ZERO;
      return;
    }
    const amt = book(p.isoWallet.times(dec(closeLots).div(curLots)));
    p.isoWallet = p.isoWallet.minus(amt);
    acc.crossWallet = acc.crossWallet.plus(amt);
  },
  bookFunding(acc, p, received) {
    if (acc.venue.funding.isolatedBooking === 'isolatedWallet') {
      p.isoWallet = p.isoWallet.plus(received);
      return;
    }
    // 'availableFirst': receipts go to the available balance; payments come from it first and
    // from the position margin only for the part the available balance cannot cover
    if (received.gte(0)) {
      acc.crossWallet = acc.crossWallet.plus(received);
      return;
    }
    const need = received.neg();
    const avail = book(dec(Math.max(0, acc.availableF())));
    const fromAvail = Decimal.min(need, avail) as D;
    acc.crossWallet = acc.crossWallet.minus(fromAvail);
    p.isoWallet = p.isoWallet.minus(need.minus(fromAvail));
  },
};

const CrossMargin: MarginMode = {
  id: 'cross',
  ownsPool: false,
  leverageChangeRefusal(acc, p, from, to) {
    // raising the leverage lowers the initial margin (always allowed, as on the exchanges);
    // lowering it raises the initial margin, which must fit in the available balance
    if (to >= from || acc.availableF() >= 0) return null;
    return `${p.symbol}: lowering leverage from ${from}x to ${to}x needs more initial margin than the available balance`;
  },
  allocate() {
    /* the margin stays in the cross wallet; it is counted through Σ cross IM in the available balance */
  },
  release() {
    /* nothing held apart */
  },
  bookFunding(acc, _p, received) {
    acc.crossWallet = acc.crossWallet.plus(received);
  },
};

export const MarginModes: Readonly<Record<ModeId, MarginMode>> = Object.freeze({ isolated: IsolatedMargin, cross: CrossMargin });

/** reusable argument object for the venue's closed forms (no per-call allocation) */
interface LpArgs {
  side: 1 | -1;
  qty: number;
  entryPrice: number;
  walletBalance: number;
  leverage: number;
  tiers: readonly Tier[];
}

class IsolatedPool implements MarginPool {
  readonly id: string;
  readonly symbols: readonly number[];
  private readonly args: LpArgs;
  constructor(
    private readonly acc: AccountImpl,
    private readonly p: Position,
  ) {
    this.id = `isolated:${p.symbol}`;
    this.symbols = Object.freeze([p.idx]);
    this.args = { side: 1, qty: 0, entryPrice: 0, walletBalance: 0, leverage: 1, tiers: p.tiers };
  }
  marginBalance(marks: Float64Array): number {
    const p = this.p;
    const m = this.acc.markOf(p.idx, marks);
    return p.isoWalletF + p.side * p.absQ * (m - p.entryF);
  }
  maintenance(marks: Float64Array): number {
    const p = this.p;
    return maintenanceMargin(this.acc.mm, p.tiers, p.absQ, p.entryF, this.acc.markOf(p.idx, marks));
  }
  excess(marks: Float64Array): number {
    if (this.p.absQ === 0) return Number.POSITIVE_INFINITY;
    return this.marginBalance(marks) - this.maintenance(marks);
  }
  liquidationPrice(symbol: number, _marks: Float64Array): number {
    const p = this.p;
    if (symbol !== p.idx || p.absQ === 0) return Number.NaN;
    const a = this.args;
    a.side = p.side;
    a.qty = p.absQ;
    a.entryPrice = p.entryF;
    a.walletBalance = p.isoWalletF;
    a.leverage = p.leverage;
    return this.acc.venue.isolatedLiquidationPrice(a);
  }
  bankruptcyPrice(symbol: number, _marks: Float64Array): number {
    const p = this.p;
    if (symbol !== p.idx || p.absQ === 0) return Number.NaN;
    const a = this.args;
    a.side = p.side;
    a.qty = p.absQ;
    a.entryPrice = p.entryF;
    a.walletBalance = p.isoWalletF;
    return this.acc.venue.bankruptcyPrice(a);
  }
}

class CrossPool implements MarginPool {
  readonly id = 'cross';
  private readonly args: LpArgs;
  constructor(
    private readonly acc: AccountImpl,
    readonly symbols: readonly number[],
  ) {
    this.args = { side: 1, qty: 0, entryPrice: 0, walletBalance: 0, leverage: 1, tiers: [] };
  }
  marginBalance(marks: Float64Array): number {
    const acc = this.acc;
    let mb = acc.crossWalletF;
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      mb += p.side * p.absQ * (acc.markOf(p.idx, marks) - p.entryF);
    }
    return mb;
  }
  maintenance(marks: Float64Array): number {
    const acc = this.acc;
    let mm = 0;
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      mm += maintenanceMargin(acc.mm, p.tiers, p.absQ, p.entryF, acc.markOf(p.idx, marks));
    }
    return mm;
  }
  excess(marks: Float64Array): number {
    return this.marginBalance(marks) - this.maintenance(marks);
  }
  /** cross wallet + Σ over the OTHER legs of (uPnL − MM [when withMM]) at marks */
  private others(symbol: number, marks: Float64Array, withMM: boolean): number {
    const acc = this.acc;
    let wb = acc.crossWalletF;
    for (let k = 0; k < this.symbols.length; k++) {
      const j = this.symbols[k]!;
      if (j === symbol) continue;
      const p = acc.pos[j]!;
      const m = acc.markOf(j, marks);
      wb += p.side * p.absQ * (m - p.entryF);
      if (withMM) wb -= maintenanceMargin(acc.mm, p.tiers, p.absQ, p.entryF, m);
    }
    return wb;
  }
  private member(symbol: number): Position | null {
    for (let k = 0; k < this.symbols.length; k++) if (this.symbols[k] === symbol) return this.acc.pos[symbol]!;
    return null;
  }
  liquidationPrice(symbol: number, marks: Float64Array): number {
    const p = this.member(symbol);
    if (!p || p.absQ === 0) return Number.NaN;
    const a = this.args;
    a.side = p.side;
    a.qty = p.absQ;
    a.entryPrice = p.entryF;
    // Binance §1.1: WB − TMM1 + UPNL1, other legs at mark
    a.walletBalance = this.others(symbol, marks, true);
    a.leverage = p.leverage;
    a.tiers = p.tiers;
    return this.acc.venue.isolatedLiquidationPrice(a);
  }
  bankruptcyPrice(symbol: number, marks: Float64Array): number {
    const p = this.member(symbol);
    if (!p || p.absQ === 0) return Number.NaN;
    const a = this.args;
    a.side = p.side;
    a.qty = p.absQ;
    a.entryPrice = p.entryF;
    a.walletBalance = this.others(symbol, marks, false);
    return this.acc.venue.bankruptcyPrice(a);
  }
}

interface SavedState {
  crossWallet: D;
  lots: number;
  qty: D;
  entry: D;
  isoWallet: D;
  mode: MarginMode | null;
  leverage: number;
  realized: D;
  fees: D;
}

/**
 * A fill as booked: the Decimal amounts are kept and turned into strings only when read (the
 * ledger materialises plain AccountEvent objects when `events` is read), so a fill costs no
 * string conversion in the replay loop.
 */
class FillRecord implements Fill {
  readonly ok = true as const;
  constructor(
    readonly symbol: number,
    readonly qty: number,
    readonly price: number,
    private readonly feeD: D,
    private readonly realizedD: D,
    readonly positionQty: number,
    readonly mode: ModeId,
    readonly time: number,
  ) {}
  get fee(): string {
    return this.feeD.toFixed();
  }
  get realizedPnl(): string {
    return this.realizedD.toFixed();
  }
  /** row in the columnar fill log */
  log(into: FillLog): number {
    return into.push(this.time, this.symbol, this.qty, this.price, this.feeD, this.realizedD, this.positionQty, this.mode);
  }
}

export class AccountImpl implements Account {
  readonly symbols: readonly string[];
  readonly venue: VenueProfile;
  /** the ledger as recorded: fills are indices into the columnar fill log until read */
  private readonly rawEvents: (AccountEvent | number)[] = [];
  private readonly fillLog = new FillLog();
  private materialized = 0;
  private readonly makerD: D;
  private readonly takerD: D;
  readonly mm: MaintenanceModel;
  readonly pos: Position[];
  readonly asOfMs: number;
  private readonly defaultMode: MarginMode;
  private readonly deposit: D;

  crossWallet: D;
  crossWalletF = 0;
  /** ledger totals (booked Decimals, updated at every fill and liquidation) */
  private realized: D = ZERO;
  private fees: D = ZERO;
  private fundingReceived: D = ZERO;
  private fundingPaid: D = ZERO;
  private penalties: D = ZERO;
  private insurance: D = ZERO;

  /** last known price per symbol (marks or fills) */
  private readonly lastMark: Float64Array;
  private poolList: MarginPool[] = [];

  constructor(params: AccountParams) {
    if (!params.venue) throw new TypeError('createAccount: venue is required');
    this.venue = params.venue;
    this.mm = params.venue.maintenance ?? DEFAULT_MAINTENANCE;
    this.symbols = Object.freeze([...params.symbols]);
    this.asOfMs = params.asOfMs;
    let deposit: D;
    try {
      deposit = book(dec(params.initialDeposit));
    } catch {
      throw new TypeError(`createAccount: initialDeposit must be a decimal string, got ${JSON.stringify(params.initialDeposit)}`);
    }
    if (!deposit.isFinite() || deposit.isNeg()) throw new TypeError(`createAccount: initialDeposit must be ≥ 0, got ${params.initialDeposit}`);
    if (!(params.leverage >= 1) || !Number.isFinite(params.leverage)) throw new TypeError(`createAccount: leverage must be a number ≥ 1, got ${params.leverage}`);
    this.deposit = deposit;
    this.crossWallet = deposit;
    this.makerD = dec(params.venue.fees.maker);
    this.takerD = dec(params.venue.fees.taker);
    this.defaultMode = MarginModes[params.defaultMode] ?? CrossMargin;
    this.lastMark = new Float64Array(this.symbols.length).fill(Number.NaN);
    const lotSizes = params.lotSizes;
    if (lotSizes !== undefined && lotSizes.length !== this.symbols.length)
      throw new TypeError(`createAccount: lotSizes has ${lotSizes.length} entries for ${this.symbols.length} symbols`);
    this.pos = this.symbols.map((symbol, idx) => {
      const lot = lotSizes?.[idx] ?? params.venue.lotSize?.(symbol) ?? defaultLotSize(undefined);
      if (!(Number.isFinite(lot.step) && lot.step > 0)) throw new TypeError(`createAccount: quantity step of ${symbol} must be > 0, got ${lot.step}`);
      return {
      idx,
      symbol,
      tiers: params.venue.tiers(symbol, params.asOfMs),
      grid: new LotGrid(lot.step),
      stepD: dec(lot.step),
      lot,
      leverage: params.leverage,
      lots: 0,
      levD: null,
      levDOf: NaN,
      qty: ZERO,
      entry: ZERO,
      isoWallet: ZERO,
      mode: null,
      qtyF: 0,
      absQ: 0,
      side: 1 as const,
      entryF: 0,
      isoWalletF: 0,
      pool: null,
    };
    });
    this.refresh();
  }

  // ------------------------------------------------------------------ float helpers (no allocation)

  markOf(i: number, marks: Float64Array | null): number {
    const m = marks ? marks[i]! : Number.NaN;
    if (m === m) return m; // not NaN
    const l = this.lastMark[i]!;
    return l === l ? l : this.pos[i]!.entryF;
  }

  /** Binance available balance: cross wallet + Σ cross uPnL − Σ cross IM (at last marks), not floored */
  availableF(): number {
    let a = this.crossWalletF;
    for (let i = 0; i < this.pos.length; i++) {
      const p = this.pos[i]!;
      if (p.absQ === 0 || p.mode !== CrossMargin) continue;
      const m = this.markOf(i, null);
      a += p.side * p.absQ * (m - p.entryF) - (p.absQ * m) / p.leverage;
    }
    return a;
  }

  private refreshPos(p: Position): void {
    p.qtyF = p.grid.qty(p.lots);
    p.absQ = Math.abs(p.qtyF);
    p.side = p.lots < 0 ? -1 : 1;
    p.entryF = p.entry === ZERO ? 0 : decimalToNumber(p.entry);
    p.isoWalletF = p.isoWallet === ZERO ? 0 : decimalToNumber(p.isoWallet);
  }

  /** like refreshOne, when the entry was just set to the fill price: Decimal(price).toNumber() === price */
  private refreshOneAtPrice(p: Position, price: number): void {
    this.crossWalletF = decimalToNumber(this.crossWallet);
    p.qtyF = p.grid.qty(p.lots);
    p.absQ = Math.abs(p.qtyF);
    p.side = p.lots < 0 ? -1 : 1;
    p.entryF = price;
    p.isoWalletF = p.isoWallet === ZERO ? 0 : decimalToNumber(p.isoWallet);
  }

  /** the ledger: every event in order (plain objects; fills are materialised here, once) */
  get events(): readonly AccountEvent[] {
    const raw = this.rawEvents;
    for (let k = this.materialized; k < raw.length; k++) {
      const e = raw[k]!;
      if (typeof e === 'number') raw[k] = this.fillLog.event(e);
    }
    this.materialized = raw.length;
    return raw as AccountEvent[];
  }

  /** the quantity grid of `symbol` (step, minimum quantity, tick, source) */
  lotSize(symbol: number): LotSize {
    const p = this.pos[symbol];
    if (!p) throw new RangeError(`lotSize: no symbol with index ${symbol}`);
    return p.lot;
  }

  private refreshOne(p: Position): void {
    this.crossWalletF = decimalToNumber(this.crossWallet);
    this.refreshPos(p);
  }

  /** price × fee rate (remembered for the last price and rate, shared by the setups of a replay) */
  private priceTimesRate(price: number, priceD: D, maker: boolean): D {
    const rate = maker ? this.venue.fees.maker : this.venue.fees.taker;
    if (price !== memoPrPrice || rate !== memoPrRate) {
      memoPrD = priceD.times(maker ? this.makerD : this.takerD);
      memoPrPrice = price;
      memoPrRate = rate;
    }
    return memoPrD;
  }

  /** leverage of p as a Decimal (cached: the same value `div(number)` would construct) */
  leverageD(p: Position): D {
    if (p.levD === null || p.levDOf !== p.leverage) {
      p.levD = dec(p.leverage);
      p.levDOf = p.leverage;
    }
    return p.levD;
  }

  private refresh(): void {
    this.crossWalletF = decimalToNumber(this.crossWallet);
    for (const p of this.pos) this.refreshPos(p);
  }

  private rebuildPools(): void {
    const list: MarginPool[] = [];
    const cross: number[] = [];
    for (const p of this.pos) {
      if (p.absQ === 0 || !p.mode) {
        p.pool = null;
        continue;
      }
      if (p.mode.ownsPool) {
        if (!p.pool) p.pool = new IsolatedPool(this, p);
        list.push(p.pool);
      } else {
        p.pool = null;
        cross.push(p.idx);
      }
    }
    if (cross.length > 0) list.push(new CrossPool(this, Object.freeze(cross)));
    this.poolList = list;
  }

  private reject(symbol: number, reason: RejectReason, message: string, time: number): Rejection {
    this.rawEvents.push({ type: 'rejection', time, symbol, reason, message });
    return { ok: false, reason, message };
  }

  private save(p: Position): SavedState {
    return { crossWallet: this.crossWallet, lots: p.lots, qty: p.qty, entry: p.entry, isoWallet: p.isoWallet, mode: p.mode, leverage: p.leverage, realized: this.realized, fees: this.fees };
  }

  private restore(p: Position, s: SavedState): void {
    this.crossWallet = s.crossWallet;
    p.lots = s.lots;
    p.qty = s.qty;
    p.entry = s.entry;
    p.isoWallet = s.isoWallet;
    p.mode = s.mode;
    p.leverage = s.leverage;
    this.realized = s.realized;
    this.fees = s.fees;
    this.refresh();
  }

  private checkSymbol(symbol: number): boolean {
    return Number.isInteger(symbol) && symbol >= 0 && symbol < this.pos.length;
  }

  // ------------------------------------------------------------------ events

  leverage(symbol: number): number {
    const ok = symbol === (symbol | 0) && symbol >= 0 && symbol < this.pos.length;
    return ok ? this.pos[symbol]!.leverage : CONST_CELLS[1]!;
  }

  setLeverage(symbol: number, leverage: number, time = Number.NaN): { ok: true } | Rejection {
    if (!this.checkSymbol(symbol)) return this.reject(symbol, 'symbolUnavailable', `no symbol with index ${symbol}`, time);
    const p = this.pos[symbol]!;
    if (!Number.isFinite(leverage) || leverage < 1)
      return this.reject(symbol, 'exceedsMaxLeverage', `leverage must be a number ≥ 1, got ${leverage}`, time);
    const notional = p.absQ * this.markOf(symbol, null);
    const tier = tierFor(p.tiers, notional);
    if (leverage > tier.maxLeverage)
      return this.reject(symbol, 'exceedsMaxLeverage', `${p.symbol}: leverage ${leverage}x exceeds the ${tier.maxLeverage}x maximum of the tier at notional ${notional}`, time);
    const before = p.leverage;
    p.leverage = leverage;
    // the position's margin mode decides whether the change is allowed (cross: lowering needs the extra initial margin)
    const refusal = p.absQ > 0 && p.mode ? p.mode.leverageChangeRefusal(this, p, before, leverage) : null;
    if (refusal !== null) {
      p.leverage = before;
      return this.reject(symbol, 'insufficientMargin', refusal, time);
    }
    return { ok: true };
  }

  trade(req: TradeRequest): Fill | Rejection {
    const { symbol, time } = req;
    if (!this.checkSymbol(symbol)) return this.reject(symbol, 'symbolUnavailable', `no symbol with index ${symbol}`, time);
    const p = this.pos[symbol]!;
    if (!Number.isFinite(req.price) || req.price <= 0) return this.reject(symbol, 'invalidPrice', `${p.symbol}: price must be > 0, got ${req.price}`, time);
    if (!Number.isFinite(req.qty) || req.qty === 0) return this.reject(symbol, 'invalidQuantity', `${p.symbol}: quantity must be a non-zero number, got ${req.qty}`, time);
    if (p.absQ > 0 && req.mode && p.mode && req.mode !== p.mode.id)
      return this.reject(symbol, 'modeLocked', `${p.symbol}: the open position is ${p.mode.id}; a ${req.mode} order cannot change it until it is closed`, time);

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
    const price = req.price;
    const absL = Math.abs(lots);
    const absCur = Math.abs(cur);
    const closeL = reducing ? (absL < absCur ? absL : absCur) : 0;
    const openL = absL - closeL; // ≥ 0, in the direction of the order
    const newL = cur + lots;

    // leverage against the tier at the resulting notional (only when exposure grows)
    if (openL > 0) {
      const notional = g.qty(Math.abs(newL)) * price;
      const tier = tierFor(p.tiers, notional);
      if (p.leverage > tier.maxLeverage)
        return this.reject(symbol, 'exceedsMaxLeverage', `${p.symbol}: leverage ${p.leverage}x exceeds the ${tier.maxLeverage}x maximum of the tier at notional ${notional}`, time);
    }

    const saved = this.save(p);
    const prevMark = this.lastMark[symbol]!;
    this.lastMark[symbol] = price;
    const membershipBefore = p.mode;
    const priceD = priceDecimal(price);
    let realized = ZERO;

    // 1. the reducing part
    if (closeL > 0) {
      const closeQty = closeL === absCur ? (cur < 0 ? p.qty.neg() : p.qty) : p.stepD.times(closeL);
      const r = book(closeQty.times(priceD.minus(p.entry)));
      realized = cur < 0 ? r.neg() : r; // rounding half-even is symmetric: book(−x) = −book(x)
      p.mode!.release(this, p, closeL, absCur);
      this.crossWallet = this.crossWallet.plus(realized);
      this.realized = this.realized.plus(realized);
      p.lots = cur < 0 ? cur + closeL : cur - closeL;
      if (p.lots === 0) {
        p.qty = ZERO;
        // any rounding remainder of the isolated wallet goes back too
        if (!p.isoWallet.isZero()) {
          this.crossWallet = this.crossWallet.plus(p.isoWallet);
          p.isoWallet = ZERO;
        }
        p.entry = ZERO;
      } else {
        p.qty = p.stepD.times(p.lots);
      }
    }
    const closedMode = p.mode;
    if (p.lots === 0) p.mode = null;
    let entryIsPrice = false;

    // 2. the opening / increasing part
    if (openL > 0) {
      const openQty = p.stepD.times(openL);
      if (p.lots === 0) {
        p.mode = closedMode ?? (req.mode ? MarginModes[req.mode] : this.defaultMode);
        p.entry = priceD;
        entryIsPrice = true;
        p.lots = lots < 0 ? -openL : openL;
        p.qty = lots < 0 ? openQty.neg() : openQty;
      } else {
        const total = p.lots + (lots < 0 ? -openL : openL);
        const totalQty = p.stepD.times(total);
        p.entry = p.qty.abs().times(p.entry).plus(openQty.times(priceD)).div(totalQty.abs());
        p.lots = total;
        p.qty = totalQty;
      }
      p.mode!.allocate(this, p, openQty, priceD);
    }

    // 3. the fee on the whole traded notional
    const tradedQty = p.stepD.times(absL);
    // (q × p) × r = q × (p × r) exactly: every factor has far fewer than 64 digits, so no product rounds
    const fee = book(tradedQty.times(this.priceTimesRate(price, priceD, req.liquidity === 'maker')));
    this.crossWallet = this.crossWallet.minus(fee);
    this.fees = this.fees.plus(fee);
    if (entryIsPrice) this.refreshOneAtPrice(p, price);
    else this.refreshOne(p);

    if (openL > 0 && this.availableF() < -1e-9) {
      const need = (g.qty(openL) * price) / p.leverage;
      this.restore(p, saved);
      this.lastMark[symbol] = prevMark;
      return this.reject(symbol, 'insufficientMargin', `${p.symbol}: initial margin ${need.toPrecision(8)} plus fee exceeds the available balance ${this.availableF().toPrecision(8)}`, time);
    }

    if (p.mode !== membershipBefore || (p.lots === 0) !== (saved.lots === 0)) this.rebuildPools();
    const fill = new FillRecord(symbol, g.qty(lots), price, fee, realized, p.qtyF, (p.mode ?? closedMode ?? this.defaultMode).id, time);
    this.rawEvents.push(fill.log(this.fillLog));
    return fill;
  }

  /** Binance's published limits (margin-spec.md §0): max addable and max removable isolated margin, at last marks */
  marginLimits(symbol: number): { addable: number; removable: number } {
    const p = this.pos[symbol];
    if (!p || p.absQ === 0 || p.mode !== IsolatedMargin) return { addable: 0, removable: 0 };
    let crossMM = 0;
    for (const q of this.pos) {
      if (q.absQ === 0 || q.mode !== CrossMargin) continue;
      crossMM += maintenanceMargin(this.mm, q.tiers, q.absQ, q.entryF, this.markOf(q.idx, null));
    }
    const addable = Math.max(0, Math.min(this.crossWalletF - crossMM, this.availableF()));
    const m = this.markOf(symbol, null);
    const mmIso = maintenanceMargin(this.mm, p.tiers, p.absQ, p.entryF, m);
    const removable = Math.max(0, Math.min(p.isoWalletF - mmIso, p.isoWalletF + p.side * p.absQ * (m - p.entryF) - (m * p.absQ) / p.leverage));
    return { addable, removable };
  }

  transferMargin(symbol: number, amount: number, time: number): { ok: true } | Rejection {
    if (!this.checkSymbol(symbol)) return this.reject(symbol, 'symbolUnavailable', `no symbol with index ${symbol}`, time);
    const p = this.pos[symbol]!;
    if (p.absQ === 0 || p.mode !== IsolatedMargin) return this.reject(symbol, 'noPosition', `${p.symbol}: margin can only be moved for an open isolated position`, time);
    if (!Number.isFinite(amount) || amount === 0) return this.reject(symbol, 'invalidQuantity', `${p.symbol}: margin amount must be a non-zero number, got ${amount}`, time);
    const { addable, removable } = this.marginLimits(symbol);
    if (amount > 0 && amount > addable) return this.reject(symbol, 'insufficientMargin', `${p.symbol}: cannot add ${amount}; at most ${addable} can be added`, time);
    if (amount < 0 && -amount > removable) return this.reject(symbol, 'exceedsRemovableMargin', `${p.symbol}: cannot remove ${-amount}; at most ${removable} can be removed`, time);
    const d = book(dec(amount));
    p.isoWallet = p.isoWallet.plus(d);
    this.crossWallet = this.crossWallet.minus(d);
    this.refreshOne(p);
    this.rawEvents.push({ type: 'transfer', time, symbol, amount: d.toFixed() });
    return { ok: true };
  }

  applyFunding(symbol: number, rate: number, price: number, time: number): FundingSettlement | null {
    const p = this.pos[symbol];
    if (!p || p.absQ === 0 || !p.mode) return null;
    if (!Number.isFinite(rate) || !Number.isFinite(price) || price <= 0) return null;
    // payment = Q × price × rate; rate > 0: longs pay, shorts receive (§1.3, §7)
    const received = book(p.qty.times(dec(price)).times(dec(rate)).neg());
    p.mode.bookFunding(this, p, received);
    if (received.gte(0)) this.fundingReceived = this.fundingReceived.plus(received);
    else this.fundingPaid = this.fundingPaid.minus(received);
    this.refreshOne(p);
    const out: FundingSettlement = { symbol, received: received.toFixed(), rate, price };
    this.rawEvents.push({ type: 'funding', time, ...out });
    return out;
  }

  recordRejection(symbol: number, reason: RejectReason, message: string, time: number): Rejection {
    return this.reject(symbol, reason, message, time);
  }

  pools(): readonly MarginPool[] {
    return this.poolList;
  }

  liquidate(pool: MarginPool, prices: Float64Array, time: number): LiquidationOutcome {
    if (!(pool instanceof IsolatedPool) && !(pool instanceof CrossPool)) throw new TypeError('liquidate: not a pool of this account');
    if (!this.poolList.includes(pool)) throw new TypeError(`liquidate: pool ${pool.id} is no longer open`);
    const symbols = [...pool.symbols];
    const closePrices: number[] = [];
    let realizedTotal = ZERO;
    let notional = ZERO;
    // the pool's margin before the close: isolated wallet, or the cross wallet
    const isolated = pool instanceof IsolatedPool;
    const margin = isolated ? this.pos[symbols[0]!]!.isoWallet : this.crossWallet;
    for (const i of symbols) {
      const p = this.pos[i]!;
      const px = this.markOf(i, prices);
      closePrices.push(px);
      const pxD = dec(px);
      const r = book(p.qty.times(pxD.minus(p.entry)));
      realizedTotal = realizedTotal.plus(r);
      notional = notional.plus(p.qty.abs().times(pxD));
      this.lastMark[i] = px;
    }
    this.realized = this.realized.plus(realizedTotal);
    const remaining = margin.plus(realizedTotal);
    let penalty = ZERO;
    let draw = ZERO;
    let returned = ZERO;
    if (remaining.isNeg()) {
      draw = remaining.neg();
    } else {
      const rule = this.venue.liquidation.penalty;
      penalty = rule === 'remainingMargin' ? remaining : (Decimal.min(remaining, book(notional.times(rule.feeRate))) as D);
      returned = remaining.minus(penalty);
    }
    this.penalties = this.penalties.plus(penalty);
    this.insurance = this.insurance.plus(draw);
    if (isolated) {
      const p = this.pos[symbols[0]!]!;
      // the isolated wallet leaves the books with the position; what is returned goes to the cross wallet
      this.crossWallet = this.crossWallet.plus(returned);
      p.isoWallet = ZERO;
    } else {
      this.crossWallet = returned;
    }
    for (const i of symbols) {
      const p = this.pos[i]!;
      p.lots = 0;
      p.qty = ZERO;
      p.entry = ZERO;
      p.mode = null;
    }
    this.refresh();
    this.rebuildPools();
    const out: LiquidationOutcome = {
      poolId: pool.id,
      symbols,
      prices: closePrices,
      penalty: penalty.toFixed(),
      insuranceDraw: draw.toFixed(),
      realizedPnl: realizedTotal.toFixed(),
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
      const mm = maintenanceMargin(this.mm, p.tiers, p.absQ, p.entryF, m);
      const n = p.absQ * m;
      equity += upnl;
      mmTotal += mm;
      imTotal += n / p.leverage;
      gross += n;
      if (p.mode === CrossMargin) {
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
      const mmC = maintenanceMargin(mm, p.tiers, p.absQ, p.entryF, m);
      const upnlA = sq * (mA - p.entryF);
      const mmA = maintenanceMargin(mm, p.tiers, p.absQ, p.entryF, mA);
      const n = p.absQ * m;
      equity += upnl;
      mmTotal += mmC;
      imTotal += n / p.leverage;
      gross += n;
      if (p.mode === CrossMargin) {
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
      const mmP = maintenanceMargin(mm, p.tiers, p.absQ, p.entryF, m);
      if (p.mode === CrossMargin) {
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
    for (const p of this.pos) wallet = wallet.plus(p.isoWallet);
    return {
      initialDeposit: this.deposit.toFixed(),
      wallet: wallet.toFixed(),
      realizedPnl: this.realized.toFixed(),
      fees: this.fees.toFixed(),
      fundingReceived: this.fundingReceived.toFixed(),
      fundingPaid: this.fundingPaid.toFixed(),
      liquidationPenalties: this.penalties.toFixed(),
      insuranceDraws: this.insurance.toFixed(),
    };
  }
}

/** Creates an account (implements the Account contract of ./types.ts). */
export function createAccount(params: AccountParams): AccountImpl {
  return new AccountImpl(params);
}

/** Checks the books invariant exactly in Decimal; returns the difference (0 when the books balance). */
export function booksImbalance(b: BooksSnapshot): string {
  const lhs = dec(b.initialDeposit)
    .plus(b.realizedPnl)
    .minus(b.fees)
    .plus(b.fundingReceived)
    .minus(b.fundingPaid)
    .minus(b.liquidationPenalties)
    .plus(b.insuranceDraws);
  return lhs.minus(b.wallet).toFixed();
}
