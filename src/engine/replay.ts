/**
 * The replay engine: one synchronous pass over the bars, every account setup stepped on the same
 * bar before the next (DESIGN §4). Per bar and setup:
 *   1. funding events in (previous open, this open] settle (priced by the feed's funding price);
 *   2.+3. pending market orders fill at the open; then the intrabar path (open → nearer extreme →
 *      farther extreme → close by default) is walked as a parameter τ ∈ [0, 3] (segment k spans
 *      [k, k+1]); stop, take-profit and limit triggers (trade prices) and liquidations (mark
 *      prices at the bars where the symbol has a mark candle at the bar timeframe, else trade prices) are
 *      processed in τ order, liquidations first on ties. All symbols walk their paths in step.
 *      A cross pool holding several symbols is checked pessimistically (its legs take their
 *      adverse extremes first, all at once, and the liquidation point is bisected on excess = 0)
 *      or optimistically (only at the close; the close prices are bisected on the straight line
 *      from the prices at the bar's previous event on the path, the open when there was none). A gap
 *      past a liquidation price liquidates at the open.
 *   4. mark to market at the close (mark close, else trade close) into the setup's Float64Arrays;
 *   5. the strategy's onBar with history up to and including this bar, once every setup has done 1.–4. of the bar
 *      (runBars: no in-bar callback of a setup runs after another setup's onBar of the same bar).
 * The fast path (no pending orders, no funding, no liquidation trigger in the bar's range)
 * touches only typed arrays and numbers; the exact bookings happen in the account at events.
 *
 * Files: this one is the bar step (SetupRunner.step) and replay(); ./intrabar.ts the events of a
 * bar (gap liquidations, fills, the intrabar path, liquidations); ./runner-state.ts a setup's state,
 * its order entry for the strategy and the pools it watches; ./path.ts the pure path functions.
 */
import type { Account, AccountFactory } from '../account/types.js';
import { createAccount, MARGIN_RATIO_CAP, ownLedger } from '../account/index.js';
import { setLedger } from './ledger.js';
import { defaultLotSize, type LotSize } from '../venue/lots.js';
import type { MarketData, SymbolColumns } from '../feed/types.js';
import type { Strategy } from '../strategy/types.js';
import { liquidationSourceOf, Market, tierSwitchBars, truncateSeries, type SeriesPool } from './market.js';
import { CROSS_CHECKS, DEFAULT_EXECUTION, INTRABAR_PATHS, MAX_SLIPPAGE_BPS, SETUP_IDS } from './setups.js';
import { IntrabarRunner } from './intrabar.js';
import { checkSync, createThrown, ROW_BLOCK, StrategyFailure } from './runner-state.js';
import { EngineInvariantError, type ExecutionOptions, type ReplayOutput, type ReplayParams, type SetupOutput, type SetupSpec } from './types.js';
import { givenValue, isThenable, shownValue, thrownText } from '../util/excerpt.js';
import { editDistance, nearest } from '../util/nearest.js';
import { unparsedParams } from '../strategy/params.js';

/** The callbacks marginlab calls on a strategy instance (types.ts Strategy); frozen: strategy code runs in this realm. */
const CALLBACKS = Object.freeze(['onStart', 'onBar', 'onFill', 'onFunding', 'onLiquidation'] as const);
/** the callbacks a strategy may leave out (onBar is required) */
const OPTIONAL_CALLBACKS = Object.freeze(CALLBACKS.filter((c) => c !== 'onBar'));

/**
 * Whether member `k`, nearest() to callback `n`, reads as a misspelling of it rather than a word of
 * its own: a letter off (onFil, onfill, onLiqudation), or the callback's name with its end changed
 * (onLiquidate, onFilled, onStarted). onSell (onFill) and onShort (onStart), two letters off in the
 * middle, are helpers a long/short strategy names.
 */
function likeCallback(k: string, n: string): boolean {
  const a = k.toLowerCase();
  const b = n.toLowerCase();
  if (editDistance(a, b) <= 1) return true;
  let p = 0;
  while (p < a.length && p < b.length && a[p] === b[p]) p++;
  return p >= b.length - 3;
}

/**
 * Members of what create() returned that are named on… and a misspelling of a callback it lacks
 * (`onFil`, `onfill`, `onLiquidate`; own keys and class methods, read by name only, no getter runs):
 * marginlab never calls them, so a misspelt onFill was a strategy whose stop-loss orders were never
 * placed, silently (TypeScript does not check a returned object literal's extra keys). A helper
 * further from every callback (`onSignal`), a word of its own (`onSell`, `onShort`: likeCallback) or
 * not named on… (`start`, `funding`, `liquidations`: state a strategy keeps) is not one.
 */
export function misspeltCallbacks(st: unknown): string[] {
  if ((typeof st !== 'object' && typeof st !== 'function') || st === null) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  for (let o: object | null = st; o !== null && o !== Object.prototype; o = Object.getPrototypeOf(o) as object | null) {
    for (const k of Object.getOwnPropertyNames(o)) {
      if (seen.has(k) || !/^on/i.test(k)) continue;
      seen.add(k);
      if ((CALLBACKS as readonly string[]).includes(k)) continue;
      const n = nearest(k, CALLBACKS);
      if (n !== null && !(n in st) && likeCallback(k, n)) out.push(`'${k}' (did you mean '${n}'?)`);
    }
  }
  return out;
}

/** Part of every RunId: bump whenever a change can alter replay results. */
export const ENGINE_VERSION = '1.5.48';

/**
 * MARGIN_RATIO_CAP of the account (checked below) as a module-local literal: reading an imported
 * binding in the bar loop made V8 box `peak` (an allocation per bar)
 */
const RATIO_CAP = 10;
if (RATIO_CAP !== MARGIN_RATIO_CAP) throw new Error('internal: RATIO_CAP differs from the account\'s MARGIN_RATIO_CAP');
/** ROW_BLOCK as a module-local literal (the stride of the row block's columns in the bar step) */
const RB = 2048;
if (RB !== ROW_BLOCK) throw new Error('internal: RB differs from ROW_BLOCK');

/** an error that is not the strategy's, as the EngineInvariantError that leaves replay() */
function internalFailure(e: unknown, setup: string, bar: number): EngineInvariantError {
  if (EngineInvariantError.is(e)) return e;
  const what = thrownText(e, true);
  return new EngineInvariantError(`setup ${setup}, bar ${bar}: ${what}`, { cause: e });
}

/** One account setup: the bar step (the events of a bar are ./intrabar.ts, the state ./runner-state.ts). */
class SetupRunner extends IntrabarRunner {
  // an explicit constructor with named parameters: a class without one may be compiled to
  // \`constructor(...args) { super(...args) }\`, whose spread runs the array iterator (a strategy that
  // replaced it would be handed the arguments: the market, whose columns hold the later bars)
  constructor(spec: SetupSpec, acct: Account, strat: Strategy, m: Market, symbols: readonly string[], fromIndex: number, time: Float64Array, pool?: SeriesPool) {
    super(spec, acct, strat, m, symbols, fromIndex, time, pool);
  }

  // ---- the bar step --------------------------------------------------------------------------

  /** bar i (data index), k = replayed bar number */
  step(i: number, k: number): void {
    const m = this.m;
    this.bar = i;
    this.cursor.i = i - 1;
    this.liquidatedThisBar = false;
    const t0 = m.time[i]!;
    let general = false;

    try {
      // 0. a later dated tier table takes effect at this bar's open (rare: an integer compare per bar)
      const tb = m.tierBars;
      if (this.tierNext < tb.length && tb[this.tierNext] === i) this.switchTiers(t0);
      // 1. funding, every symbol's stamps of the bar in time order (Market.advance counted them)
      if (m.fundingStamps !== 0) this.settleFunding(i);
      if (this.dirty) this.refresh();

      // 2.+3. fills and the intrabar path
      const orders = this.orders;
      for (let j = 0; j < orders.length; j++) {
        const o = orders[j]!;
        if (o.activeFrom <= i && !o.dead) {
          general = true;
          break;
        }
      }
      if (!general && this.hasPositions) general = this.quickTrigger(i);
      if (general) {
        this.eventTime = t0;
        this.runPath(i);
        if (this.dirty) this.refresh();
      }
    } catch (e) {
      // only a strategy callback's error stops the setup (wrapped in StrategyFailure by call());
      // anything else is an internal invariant failure of the engine or account: it leaves replay()
      if (!StrategyFailure.is(e)) throw internalFailure(e, this.setupId, i);
      this.fail(e, k);
      return;
    }

    // 4. mark to market at the close
    const acct = this.acct;
    const snap = this.snap;
    // the adverse-extreme evaluation first: Account.mark remembers the marks it was given, and
    // the close must be the last one it sees
    let advRatio = 0;
    if (general && this.pathPeaks) {
      // the path tracked the peak with the positions held on each stretch of it (runPath)
      advRatio = this.pathPeak[0]!;
      if (this.hasPositions || this.changed) acct.mark(m.closeMarks, snap);
      this.changed = false;
    } else if (this.hasPositions) {
      const adv = this.adv;
      this.adverse(i, adv);
      if (acct.markWithPeakInto !== undefined) {
        acct.markWithPeakInto(m.closeMarks, adv, snap, this.peakOut);
        advRatio = this.peakOut[0]!;
      } else {
        acct.mark(adv, this.peakSnap);
        advRatio = this.peakSnap.marginRatio;
        acct.mark(m.closeMarks, snap);
      }
      this.changed = false;
    } else if (this.changed) {
      acct.mark(m.closeMarks, snap);
      this.changed = false;
    }
    let peak = snap.marginRatio;
    if (advRatio > peak) peak = advRatio;
    if (this.liquidatedThisBar && peak < 1) peak = 1;
    if (!(peak <= RATIO_CAP)) peak = RATIO_CAP; // an account without the cap (accountFactory)
    // one row of the eight series into a small column-major block (cache-resident), copied into
    // the columns every ROW_BLOCK bars with one TypedArray.set per column
    const rows = this.rows;
    if (this.rowCount === 0) this.rowStart = k;
    const o = this.rowCount;
    rows[o] = snap.equity;
    rows[o + RB] = snap.marginBalance;
    rows[o + 2 * RB] = snap.maintenanceMargin;
    rows[o + 3 * RB] = snap.marginRatio;
    rows[o + 4 * RB] = peak;
    rows[o + 5 * RB] = snap.initialMargin;
    rows[o + 6 * RB] = snap.capitalAtRisk;
    rows[o + 7 * RB] = snap.grossNotional;
    if (++this.rowCount === ROW_BLOCK) this.flushRows();
  }

  /**
   * 5. the strategy's onBar of bar i, called once every setup has stepped bar i (runBars): no setup's callback
   * inside bar i (onFill, onFunding, onLiquidation) runs after another setup's onBar of that bar, so state the
   * strategy's instances share (a module variable) cannot carry bar i's close into another setup's fills of bar i
   */
  barClose(i: number, k: number): void {
    const m = this.m;
    const t0 = m.time[i]!;
    this.cursor.i = i;
    this.eventTime = t0 + m.tf;
    let threw = false;
    let thrown: unknown;
    try {
      const returned: unknown = this.strat.onBar(this.ctx);
      if (returned !== undefined) checkSync(returned, 'onBar');
    } catch (e) {
      threw = true;
      thrown = e;
    }
    // an engine failure inside a host call made by onBar is not the strategy's error (callbackOutcome throws it)
    if (threw || this.hostFailure !== null) this.fail(this.callbackOutcome(threw, thrown), k + 1, 'onBar');
  }

  output(bars: number): SetupOutput {
    this.releaseRows();
    const acct = this.acct;
    const n = this.dead ? this.endBar : bars;
    const m = this.m;
    const out: SetupOutput = {
      setup: this.spec,
      series: n === bars ? this.series : truncateSeries(this.series, n),
      // read when a consumer reads it: the fills' ledger entries are built from the columnar fill
      // log on first access (Account.events), not by every replay
      get events() {
        return acct.events;
      },
      books: acct.books(),
      rejections: { ...this.rejectionCounts },
      // counted over the bars this setup replayed (a setup stopped by its strategy's error replays fewer)
      liquidationPriceSource: n === bars ? m.liquidationPriceSource : liquidationSourceOf(m.cols, m.liqMark, this.fromIndex, this.fromIndex + n),
      crossCheck: m.exec.crossCheck,
      liquidations: this.details?.liquidations ?? [],
      liquidationPrices: this.details?.steps ?? { time: [], symbol: [], price: [] },
    };
    if (this.error !== undefined) out.error = this.error;
    if (this.errorAt !== undefined) out.errorAt = this.errorAt;
    setLedger(out, () => ownLedger(acct));
    return out;
  }
}

/**
 * The bar loop, a function of its own: V8 optimizes it with the types it sees here (always a
 * Market and SetupRunners), while replay()'s set-up code, which sees a differently shaped params
 * object from call to call, stays out of it (in one function the loop's optimized code was thrown
 * away at the next call's set-up and compiled again, every pass of a sweep).
 */
function runBars(market: Market, runners: SetupRunner[], from: number, to: number, onProgress: ((bars: number) => void) | undefined, position: Float64Array | undefined): void {
  const bars = to - from;
  const time = market.time;
  const nr = runners.length;
  let alive = 0;
  for (let j = 0; j < nr; j++) if (!runners[j]!.dead) alive++;
  for (let i = from; i < to; i++) {
    const k = i - from;
    let j = -1;
    if (position !== undefined) {
      position[0] = k;
      position[1] = time[i]!;
    }
    try {
      market.advance(i);
      // every setup's events of bar i (funding, fills, liquidations, the mark at its close), then every setup's onBar:
      // an in-bar callback never runs after an onBar of its bar (SetupRunner.barClose)
      for (j = 0; j < nr; j++) {
        const r = runners[j]!;
        if (r.dead) continue;
        r.step(i, k);
        if (r.dead) alive--;
      }
      for (j = 0; j < nr; j++) {
        const r = runners[j]!;
        if (r.dead) continue;
        r.barClose(i, k);
        if (r.dead) alive--;
      }
    } catch (e) {
      // a strategy's errors stop its setup inside step(): whatever leaves it is the engine's (or the account's)
      throw internalFailure(e, j >= 0 && j < nr ? runners[j]!.setupId : 'market', i);
    }
    if (alive === 0) break;
    if (onProgress && ((k + 1) & 0xffff) === 0) onProgress(k + 1);
  }
  if (onProgress && (bars & 0xffff) !== 0) onProgress(bars);
}

/**
 * A deep copy of a run's params (zod output: plain data). Params holding what structured cloning
 * cannot copy (a function) are passed as they are.
 */
function paramsCopy<T>(params: T): T {
  try {
    return structuredClone(params);
  } catch {
    return params;
  }
}

/**
 * replay()'s data, strategy and venue are objects marginlab makes (loadDataset, resolveStrategy or a strategy file,
 * getVenue); a JavaScript caller may pass what a config names them by (a dataset path, a strategy name, a venue id) or
 * the promise of loadDataset / resolveStrategy without its await, which failed inside the engine ("Cannot read
 * properties of undefined (reading 'indexOf')", "p.strategy.create is not a function").
 */
function checkReplayObjects(p: ReplayParams): void {
  const given: unknown = p;
  if (typeof given !== 'object' || given === null) {
    throw new TypeError(`replay: params must be one object { data, symbols, strategy, params, venue, setups, initialCapital, leverage } (docs/engine.md), got ${givenValue(given)}`);
  }
  const d: unknown = p.data;
  const dv = d as Partial<Record<keyof MarketData, unknown>> | null;
  if (typeof d !== 'object' || dv === null || !Array.isArray(dv.symbols) || !Array.isArray(dv.columns) || !ArrayBuffer.isView(dv.time) || typeof dv.timeframeMs !== 'number') {
    throw new TypeError(`replay: data must be the MarketData of loadDataset(dir, { timeframe }) (or sliceMarketData, sliceByTime, selectSymbols of one), got ${givenValue(d)}`);
  }
  const st: unknown = p.strategy;
  if (typeof st !== 'object' || st === null || typeof (st as { create?: unknown }).create !== 'function') {
    const inner = typeof st === 'object' && st !== null ? (st as { default?: unknown }).default : undefined;
    const namespace = typeof inner === 'object' && inner !== null && typeof (inner as { create?: unknown }).create === 'function';
    throw new TypeError(
      `replay: strategy must be a strategy module (await resolveStrategy(name), or a strategy file's default export: { name, description, params, symbols, create }), got ${namespace ? 'a module namespace: pass its default export' : givenValue(st)}`,
    );
  }
  const v: unknown = p.venue;
  const needs = ['tiers', 'isolatedLiquidationPrice', 'bankruptcyPrice'] as const;
  const lacks = typeof v === 'object' && v !== null ? needs.filter((k) => typeof (v as Record<string, unknown>)[k] !== 'function') : [...needs];
  if (lacks.length > 0) {
    const got = typeof v === 'string' ? `${shownValue(v)}: pass getVenue(${shownValue(v)})` : typeof v === 'object' && v !== null && !isThenable(v) ? `one without ${lacks.map((k) => `${k}()`).join(', ')}` : givenValue(v);
    throw new TypeError(`replay: venue must be a venue profile (getVenue('binance-usdm'), listVenues() names the ids), got ${got}`);
  }
  // the params schema's output, not the raw params: keys it always gives that are missing mean no parse() ran
  const missing = unparsedParams((st as { params?: unknown }).params, p.params);
  if (missing.length > 0) {
    const list = missing.map((m) => (m.shown === null ? `'${m.key}' (required)` : `'${m.key}' (default ${m.shown})`)).join(', ');
    throw new TypeError(
      `replay: params of strategy '${String((st as { name?: unknown }).name)}' lack ${list}: replay() takes the output of the strategy's params schema — pass strategy.params.parse(yourParams), which applies the defaults and checks the values (docs/engine.md)`,
    );
  }
}

/** Run one strategy under every setup of `p.setups` in one pass over the bars. */
export function replay(p: ReplayParams): ReplayOutput {
  checkReplayObjects(p);
  const data = p.data;
  // one frozen copy, made before any strategy code runs: every setup's ctx.symbols is this array,
  // and a strategy that reordered or emptied the caller's array changed the names the other setups
  // saw and the output's symbols (the names of every event's symbol index)
  // an array of one or more names, as the plan requires of symbols(params): [] replayed a run that traded
  // nothing (every order symbolUnavailable), a string failed with "symbols.filter is not a function"
  if (!Array.isArray(p.symbols) || p.symbols.length === 0) {
    throw new TypeError(`replay: symbols must be an array of one or more symbol names of dataset '${data.dataset}' (${data.symbols.join(', ')}), got ${shownValue(p.symbols)}`);
  }
  const symbols: readonly string[] = Object.freeze(p.symbols.slice());
  const twice = symbols.filter((s, k) => symbols.indexOf(s) !== k);
  if (twice.length > 0) throw new RangeError(`replay: symbol '${twice[0]}' is listed twice (each symbol once)`);
  const cols: SymbolColumns[] = symbols.map((name) => {
    const k = data.symbols.indexOf(name);
    if (k < 0) throw new RangeError(`replay: symbol '${name}' is not in dataset '${data.dataset}' (${data.symbols.join(', ')})`);
    return data.columns[k]!;
  });
  const nAll = data.time.length;
  const from = p.fromIndex ?? 0;
  const to = p.toIndex ?? nAll;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to <= nAll && from <= to)) {
    throw new RangeError(`replay: bar range [${from}, ${to}) is outside the dataset's 0..${nAll}`);
  }
  if (p.setups.length === 0) throw new RangeError('replay: no account setups');
  // a key given as undefined takes its default, as the config's does (a spread copied the undefined over it)
  const exec: ExecutionOptions = { ...DEFAULT_EXECUTION };
  for (const [k, v] of Object.entries(p.execution ?? {})) {
    // a misspelt option (slipageBps) ran with the default in silence; the config refuses it
    if (!Object.hasOwn(DEFAULT_EXECUTION, k)) {
      const near = nearest(k, Object.keys(DEFAULT_EXECUTION));
      throw new RangeError(`replay: execution.${k} is not an execution option${near !== null ? ` (did you mean '${near}'?)` : ''}; they are ${Object.keys(DEFAULT_EXECUTION).join(', ')}`);
    }
    if (v !== undefined) (exec as unknown as Record<string, unknown>)[k] = v;
  }
  // what the config refuses, replay() refuses too: a negative slippage ran as a price improvement, a capital of '0' and a
  // leverage of 0 ran or failed inside the account with a message naming neither
  if (typeof exec.slippageBps !== 'number' || !(exec.slippageBps >= 0 && exec.slippageBps < MAX_SLIPPAGE_BPS)) {
    throw new RangeError(`replay: execution.slippageBps must be a number of basis points in [0, ${MAX_SLIPPAGE_BPS}), got ${shownValue(exec.slippageBps)}`);
  }
  if (typeof p.initialCapital !== 'string' || !(Number(p.initialCapital) > 0) || !Number.isFinite(Number(p.initialCapital))) {
    throw new RangeError(`replay: initialCapital must be a decimal string above 0 (e.g. '10000'), got ${shownValue(p.initialCapital)}`);
  }
  if (typeof p.leverage !== 'number' || !Number.isFinite(p.leverage) || p.leverage < 1) {
    throw new RangeError(`replay: leverage must be a number ≥ 1 (1 = no leverage), got ${shownValue(p.leverage)}`);
  }
  // the config's enums and bounds (config/schema.ts): 'Pessimistic' ran the optimistic check under the name it was given,
  // 'low_first' the nearest-first path, a participation of −1 turned a buy into sells growing every bar
  const oneOf = (key: string, v: unknown, allowed: readonly string[]): void => {
    if (typeof v !== 'string' || !allowed.includes(v)) throw new RangeError(`replay: ${key} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${shownValue(v)}`);
  };
  oneOf('execution.intrabarPath', exec.intrabarPath, INTRABAR_PATHS);
  oneOf('execution.crossCheck', exec.crossCheck, CROSS_CHECKS);
  const part: unknown = exec.participation;
  if (part !== null && part !== undefined) {
    const f = typeof part === 'object' ? (part as { maxFraction?: unknown }).maxFraction : undefined;
    if (typeof f !== 'number' || !(f > 0 && f <= 1)) throw new RangeError(`replay: execution.participation.maxFraction must be a fraction of the bar's volume in (0, 1], got ${shownValue(f ?? part)}`);
  }
  for (let k = 0; k < p.setups.length; k++) {
    const su: unknown = p.setups[k];
    const o = (typeof su === 'object' && su !== null ? su : {}) as Partial<SetupSpec>;
    oneOf(`setups[${k}].id`, o.id, SETUP_IDS);
    oneOf(`setups[${k}].defaultMode`, o.defaultMode, ['isolated', 'cross']);
    if (o.perOrderMode !== undefined && typeof o.perOrderMode !== 'boolean') throw new RangeError(`replay: setups[${k}].perOrderMode must be true or false, got ${shownValue(o.perOrderMode)}`);
  }
  // quantity grid per symbol: the venue's table, else its default rule at the symbol's first price
  // in the dataset (not the replayed slice: the grid must not depend on where a replay starts)
  const lotSizes: LotSize[] = symbols.map((name, s) => {
    const close = cols[s]!.close;
    let ref = NaN;
    for (let i = 0; i < close.length; i++) {
      const v = close[i]!;
      if (v === v && v > 0) {
        ref = v;
        break;
      }
    }
    const ls = p.venue.lotSize ? p.venue.lotSize(name, ref) : defaultLotSize(ref);
    if (!(Number.isFinite(ls.step) && ls.step > 0)) throw new RangeError(`replay: quantity step of ${name} must be > 0, got ${ls.step}`);
    return ls;
  });
  const market = new Market(cols, data.time, data.timeframeMs, exec, lotSizes, from, to, tierSwitchBars(p.venue, data.time, from, to));
  market.seed(from);
  const time = p.seriesPool ? p.seriesPool.copy(data.time.subarray(from, to)) : data.time.slice(from, to);
  const factory: AccountFactory = p.accountFactory ?? createAccount;
  const asOfMs = from < nAll ? data.time[from]! : 0;
  // the strategy instances before the setups' runners: from the first strategy code on, the engine
  // must not pass anything holding the market through a built-in the strategy may have replaced (an
  // array method or an iterator would hand it the shared columns, later bars included)
  // each setup's create() gets its own copy of the params, all made before the first create() runs: one
  // shared object let a create() that changed its params (p.size *= 10) hand the next setup other
  // params (sizes 10, 100, 1000 under isolated, cross, mixed), a difference that is not the margin mode's
  const params: unknown[] = [];
  for (let j = 0; j < p.setups.length; j++) params[j] = paramsCopy(p.params);
  if (p.position !== undefined) {
    p.position[0] = -1;
    p.position[1] = NaN;
  }
  const strats: Strategy[] = [];
  for (let j = 0; j < p.setups.length; j++) {
    // what create() throws is the strategy's whatever it is (a string, undefined, an error without a
    // stack): it leaves replay() marked as create()'s (createThrown), and the worker errors the runs with it
    let st: unknown;
    try {
      st = p.strategy.create(params[j] as typeof p.params);
    } catch (e) {
      throw createThrown(e);
    }
    // a misspelt callback (onbar, onBars) made every bar fail with "this.strat.onBar is not a function"
    if (typeof st !== 'object' || st === null || typeof (st as { onBar?: unknown }).onBar !== 'function') {
      const got = typeof st !== 'object' || st === null ? String(st) : `an object with ${Object.keys(st).length > 0 ? Object.keys(st).join(', ') : 'no keys'}`;
      throw new TypeError(`strategy '${p.strategy.name}': create() must return an object with an onBar(ctx) function; it returned ${got}`);
    }
    // the optional callbacks are called when truthy: one that is not a function (onFill: 'log') made the
    // setup error at its first fill with "TypeError: st.onFill is not a function", marginlab's variable
    for (let c = 0; c < OPTIONAL_CALLBACKS.length; c++) {
      const name = OPTIONAL_CALLBACKS[c]!;
      const v: unknown = (st as Record<string, unknown>)[name];
      if (v && typeof v !== 'function') {
        throw new TypeError(`strategy '${p.strategy.name}': create() returned an object whose ${name} is ${shownValue(v)}, not a function (onStart, onFill, onFunding and onLiquidation are optional: give a function or leave it out)`);
      }
    }
    // a misspelt callback (onFil) was never called: the strategy ran without it, silently
    const misspelt = misspeltCallbacks(st);
    if (misspelt.length > 0) {
      throw new TypeError(`strategy '${p.strategy.name}': create() returned ${misspelt.join(', ')}, which marginlab never calls: the callbacks are ${CALLBACKS.join(', ')}`);
    }
    strats[j] = st as Strategy;
  }

  // an indexed loop, not p.setups.map(): create() has run, and a map() it replaced would be handed
  // the array of runners it returns (they hold the market)
  const runners: SetupRunner[] = [];
  for (let j = 0; j < p.setups.length; j++) {
    const spec = p.setups[j]!;
    const acct = factory({
      venue: p.venue,
      symbols,
      initialDeposit: p.initialCapital,
      defaultMode: spec.defaultMode,
      leverage: p.leverage,
      asOfMs,
      lotSizes,
    });
    runners[j] = new SetupRunner(spec, acct, strats[j]!, market, symbols, from, time, p.seriesPool);
  }
  // from here on strategy code has run (create, onStart): no Array.prototype method or iterator on
  // the runners, which hold the market (a replaced one would hand them to the strategy)
  const bars = to - from;
  let setups: SetupOutput[];
  try {
    for (let j = 0; j < runners.length; j++) runners[j]!.start();
    runBars(market, runners, from, to, p.onProgress, p.position);
    try {
      setups = [];
      for (let j = 0; j < runners.length; j++) setups[j] = runners[j]!.output(bars);
    } catch (e) {
      throw internalFailure(e, 'output', to);
    }
  } finally {
    // a context the strategy kept (in a module variable) sees nothing of this replay once it is over
    for (let j = 0; j < runners.length; j++) runners[j]!.retire();
    previousRunners = retainLast ? runners : null;
  }
  return { symbols: [...symbols], bars, setups };
}

/**
 * The runners of the last replay in this thread (retired), kept until the next one ends when
 * retainLastReplay(true) was called (a pool worker does: src/shard/worker.ts). V8 gives an object the
 * shape (map) its constructor's stores lead to, and keeps that map only while some object has it:
 * once a replay's engine objects were all garbage, a full collection freed their maps, and every
 * optimized function that had seen them was thrown away ("weak objects", "code dependencies") and
 * compiled again in the next pass: in a 32-pass sweep on one worker, 196 such deoptimizations and
 * 649 compilations (TurboFan ≈ 60 % of V8's helper threads' time, through the whole pool) against 29
 * and 480 with the last replay's objects kept (and an account's last fill and settlement). Off by
 * default: a replay's market holds the data it replayed, which a caller of replay() expects to be
 * free once it drops it; a worker holds one replay's objects more (a stress pass's view among them).
 */
let previousRunners: SetupRunner[] | null = null;
let retainLast = false;

/** keep the last replay's engine objects in this thread until the next replay ends (see previousRunners); false drops them */
export function retainLastReplay(on: boolean): void {
  retainLast = on;
  if (!on) previousRunners = null;
}
