/**
 * The boundary where a setup's account events become result records (./result-schema.ts): one
 * typed record per event, in ledger order, liquidations completed with the engine's trigger
 * details. Also the liquidation-price steps per symbol and the optional cap (maxEventsPerRun).
 */
import { fromU, liquidationLossU, toU, unitsToU } from '../analysis/money.js';
import { asFill, fillItem, fundingItem, recordItems, type LedgerItems } from '../analysis/trades.js';
import type { AccountEvent, FillOrder } from '../account/types.js';
import type { LiquidationDetail, LiquidationPriceSteps, SetupOutput } from '../engine/types.js';
import type { Ledger } from '../account/fill-log.js';
import { ledgerOf } from '../engine/ledger.js';
import type { EventsCap, LiquidationPriceSeries, LiquidationRecord, RunEventRecord } from './result-schema.js';
import type { RunResult, RunSpec } from './types.js';

/**
 * Whether a run's result holds its event log, liquidation-price steps and price curves: every run
 * but a Monte Carlo path run without stress.pathEvents (docs/stress.md), which keeps its outcome.
 */
export function keepsDetail(spec: RunSpec, pathEvents: boolean): boolean {
  return spec.stress?.kind !== 'path' || pathEvents;
}

/** Whether the replay produced the result's books (ok, or errored because its strategy threw); an internal error or a timeout leaves them empty. */
export function hasOutput(r: RunResult): boolean {
  return Object.keys(r.books).length > 0;
}

/**
 * A result written without that detail, told by the result itself (a resume or merge can mix both
 * kinds): a path run with output (ok, or errored because its strategy threw) but no price curves;
 * a run that produced no output (an internal error, a timeout) is neither.
 */
export function outcomeOnly(r: RunResult): boolean {
  return r.spec.stress?.kind === 'path' && r.prices === undefined && hasOutput(r);
}

/** finite number, or null (JSON has no NaN) */
const fin = (x: number | undefined): number | null => (x !== undefined && Number.isFinite(x) ? x : null);

/** Every account event as a typed record; `liquidations` are the engine's details, one per liquidation event in order. */
export function eventRecords(events: readonly AccountEvent[], symbols: readonly string[], liquidations: readonly LiquidationDetail[] = []): RunEventRecord[] {
  return ledgerRecords(events, null, symbols, liquidations);
}

/**
 * A setup's events as typed records (as eventRecords(output.events, …)), read from the account's
 * ledger as recorded when the output has one (src/engine/ledger.ts): its fills and funding
 * settlements become records without becoming AccountEvents first.
 */
export function setupRecords(output: SetupOutput, symbols: readonly string[]): RunEventRecord[] {
  const ledger = ledgerOf(output);
  return ledger ? ledgerRecords(ledger.entries, ledger, symbols, output.liquidations ?? []) : eventRecords(output.events, symbols, output.liquidations);
}

/** the records of ledger entries: events, or (with `logs`) fill k ≥ 0 / settlement −1 − k of the logs */
function ledgerRecords(entries: readonly (AccountEvent | number)[], logs: Ledger | null, symbols: readonly string[], liquidations: readonly LiquidationDetail[]): RunEventRecord[] {
  const name = (s: number): string => symbols[s] ?? String(s);
  /** last known signed position per symbol (fallback for a liquidation without details) */
  const pos = new Map<number, number>();
  let liq = 0;
  const out: RunEventRecord[] = new Array(entries.length);
  for (let k = 0; k < entries.length; k++) {
    const e = entries[k]!;
    if (typeof e === 'number') {
      if (!logs) throw new TypeError(`eventRecords: event ${k} is not an event object`);
      if (e >= 0) {
        const f = logs.fills;
        const s = f.symbolOf(e);
        const positionQty = f.positionQtyOf(e);
        pos.set(s, positionQty);
        out[k] = fillRecord(f.timeOf(e), name(s), f.qtyOf(e), f.priceOf(e), f.feeText(e), f.realizedText(e), positionQty, f.modeOf(e), f.orderOf(e));
      } else {
        const f = logs.funding;
        const j = -1 - e;
        out[k] = fundingRecord(f.timeOf(j), name(f.symbolOf(j)), f.rateOf(j), f.priceOf(j), f.receivedText(j));
      }
      continue;
    }
    switch (e.type) {
      case 'fill': {
        pos.set(e.symbol, e.positionQty);
        out[k] = fillRecord(e.time, name(e.symbol), e.qty, e.price, e.fee, e.realizedPnl, e.positionQty, e.mode, e.order);
        break;
      }
      case 'funding':
        out[k] = fundingRecord(e.time, name(e.symbol), e.rate, e.price, e.received);
        break;
      case 'liquidation':
        out[k] = liquidationRecord(e, liquidations[liq++], pos, name);
        break;
      case 'transfer':
        out[k] = { type: 'transfer', time: e.time, symbol: name(e.symbol), amount: e.amount };
        break;
      case 'rejection':
        out[k] = { type: 'rejection', time: fin(e.time), symbol: symbols[e.symbol] ?? null, reason: e.reason, message: e.message };
        break;
    }
  }
  return out;
}

/**
 * A liquidation's record: the account's event completed with the engine's details `d` (trigger and
 * liquidation prices, the legs' quantities); without them a leg's quantity is its last known
 * position in `pos` (which the liquidation sets to 0).
 */
function liquidationRecord(e: Extract<AccountEvent, { type: 'liquidation' }>, d: LiquidationDetail | undefined, pos: Map<number, number>, name: (s: number) => string): LiquidationRecord {
  const legs = e.symbols.map((s, j) => {
    const leg = d?.legs.find((l) => l.symbol === s);
    const q = leg ? leg.qty : (pos.get(s) ?? 0);
    pos.set(s, 0);
    return {
      symbol: name(s),
      side: q < 0 ? ('short' as const) : ('long' as const),
      qty: Math.abs(q),
      closePrice: e.prices[j]!,
      triggerPrice: fin(leg?.triggerPrice),
      liquidationPrice: fin(leg?.liquidationPrice),
    };
  });
  return {
    type: 'liquidation', time: e.time, pool: e.poolId, mode: e.poolId === 'cross' ? 'cross' : 'isolated', legs,
    marginRatio: fin(d?.marginRatio), realizedPnl: e.realizedPnl, penalty: e.penalty, insuranceDraw: e.insuranceDraw,
    loss: fromU(liquidationLossU(e)),
  };
}

/**
 * A setup's ledger items (analysis/trades.ts LedgerItems: what the metrics walk), read from the
 * account's ledger as recorded when the output has one — a fill's amounts straight from its columns,
 * no record or decimal string made — else from its events' records. The same items as
 * recordItems(setupRecords(output, symbols)), amount for amount.
 */
export function setupItems(output: SetupOutput, symbols: readonly string[]): LedgerItems {
  const ledger = ledgerOf(output);
  if (!ledger) return recordItems(eventRecords(output.events, symbols, output.liquidations));
  const liquidations = output.liquidations ?? [];
  return (visit) => {
    const name = (s: number): string => symbols[s] ?? String(s);
    const pos = new Map<number, number>();
    const fill = fillItem();
    const funding = fundingItem();
    let liq = 0;
    const { entries, fills, funding: settlements } = ledger;
    for (let k = 0; k < entries.length; k++) {
      const e = entries[k]!;
      if (typeof e === 'number') {
        if (e >= 0) {
          const s = fills.symbolOf(e);
          const positionQty = fills.positionQtyOf(e);
          pos.set(s, positionQty);
          visit(asFill(fill, fills.timeOf(e), name(s), fills.qtyOf(e), fills.priceOf(e), positionQty, fills.modeOf(e), unitsToU(fills.feeUnits(e)), unitsToU(fills.realizedUnits(e)), fills.orderTypeOf(e), fills.tagOf(e)));
        } else {
          const j = -1 - e;
          funding.symbol = name(settlements.symbolOf(j));
          funding.amount = unitsToU(settlements.receivedUnits(j));
          visit(funding);
        }
        continue;
      }
      if (e.type === 'fill') {
        pos.set(e.symbol, e.positionQty);
        visit(asFill(fill, e.time, name(e.symbol), e.qty, e.price, e.positionQty, e.mode, toU(e.fee), toU(e.realizedPnl), e.order?.type ?? null, e.order?.tag ?? null));
      } else if (e.type === 'funding') {
        funding.symbol = name(e.symbol);
        funding.amount = toU(e.received);
        visit(funding);
      } else if (e.type === 'liquidation') visit(liquidationRecord(e, liquidations[liq++], pos, name));
    }
  };
}

/** the number of records setupRecords(output) makes (one per ledger entry), without making them */
export function recordCount(output: SetupOutput): number {
  return ledgerOf(output)?.entries.length ?? output.events.length;
}

/** a fill's record (`qty` signed: its sign is the side) */
function fillRecord(time: number, symbol: string, qty: number, price: number, fee: string, realizedPnl: string, positionQty: number, mode: 'isolated' | 'cross', order: FillOrder | undefined): RunEventRecord {
  const r: RunEventRecord = {
    type: 'fill', time, symbol, side: qty >= 0 ? 'buy' : 'sell', qty: Math.abs(qty), price,
    fee, realizedPnl, positionQty, mode,
    pool: mode === 'cross' ? 'cross' : `isolated:${symbol}`,
  };
  if (order) {
    r.orderId = order.id;
    r.orderType = order.type;
    if (order.tag !== undefined) r.tag = order.tag;
  }
  return r;
}

/** a funding settlement's record (`amount` received, < 0 paid) */
function fundingRecord(time: number, symbol: string, rate: number, price: number, amount: string): RunEventRecord {
  return { type: 'funding', time, symbol, rate, price, amount };
}

/**
 * The records a result keeps: all of them, or — only when the config sets maxEventsPerRun and the
 * run has more — the first `limit` in ledger order, with `eventsCap` saying so (a Monte Carlo path
 * run without stress.pathEvents keeps none: limit 0).
 */
export function capRecords(records: RunEventRecord[], limit: number | null | undefined): { events: RunEventRecord[]; eventsCap?: EventsCap } {
  if (limit === null || limit === undefined || records.length <= limit) return { events: records };
  return { events: records.slice(0, limit), eventsCap: { limit, total: records.length, kept: limit } };
}

/** capRecords(records, 0) for a run whose `total` records were never made (a path run without its detail) */
export function noRecords(total: number): { events: RunEventRecord[]; eventsCap?: EventsCap } {
  return total === 0 ? { events: [] } : { events: [], eventsCap: { limit: 0, total, kept: 0 } };
}

/**
 * Whether a result holds the events capRecords would keep under `limit` now (a --resume across a
 * change of maxEventsPerRun or stress.pathEvents): null when it does, else what differs. `limit`
 * is what the worker would pass now (maxEventsPerRun, or 0 for a run without its detail), `why`
 * names it for the message; the total is the result's own (eventsCap.total, else its events).
 * Any status: a run whose strategy threw keeps its events too.
 */
export function capMismatch(r: Pick<RunResult, 'events' | 'eventsCap'>, limit: number | null, why: string): string | null {
  const total = r.eventsCap?.total ?? r.events.length;
  const want = limit === null || total <= limit ? total : limit;
  if (r.events.length === want) return null;
  return `keeps ${r.events.length} of its ${total} events, ${why} now keeps ${want}`;
}

/** The engine's liquidation-price steps per symbol name (NaN → null). */
export function liquidationPriceSeries(steps: LiquidationPriceSteps | undefined, symbols: readonly string[]): LiquidationPriceSeries {
  const out: LiquidationPriceSeries = {};
  for (const s of symbols) out[s] = { time: [], price: [] };
  if (!steps) return out;
  for (let k = 0; k < steps.time.length; k++) {
    const sym = symbols[steps.symbol[k]!];
    if (sym === undefined) continue;
    const series = out[sym]!;
    series.time.push(steps.time[k]!);
    series.price.push(fin(steps.price[k]));
  }
  return out;
}
