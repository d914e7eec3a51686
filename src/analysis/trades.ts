/**
 * Round trips reconstructed from a setup's account events (docs/metrics.md, "Trades").
 *
 * A trade on a symbol opens when its position leaves zero and closes when it returns to zero
 * (a closing fill or a liquidation) or flips sign (the flipping fill closes one trade and opens
 * the next). A trade's net PnL = realised PnL of its fills − their fees + funding settled on the
 * symbol while it was open − liquidation penalty + the insurance fund's draw on a close past the
 * bankruptcy price (the part of the realised loss the trader did not pay). Amounts are summed in Decimal and converted to
 * numbers once per trade.
 */
import { Decimal } from 'decimal.js';
import type { AccountEvent } from '../account/types.js';

export interface RoundTrip {
  symbol: number;
  /** +1 long, −1 short */
  side: 1 | -1;
  openTime: number;
  closeTime: number;
  /** net PnL in quote currency (realised − fees + funding − liquidation penalty + insurance draw) */
  pnl: number;
  liquidated: boolean;
}

interface OpenTrade {
  side: 1 | -1;
  openTime: number;
  pnl: Decimal;
}

const ZERO = new Decimal(0);

/** Closed round trips in close order. Trades still open after the last event are not returned. */
export function reconstructTrades(events: readonly AccountEvent[]): RoundTrip[] {
  const open = new Map<number, OpenTrade>();
  /** last known signed position per symbol (from fills; zero after liquidation) */
  const qty = new Map<number, number>();
  const out: RoundTrip[] = [];

  const close = (symbol: number, t: OpenTrade, time: number, liquidated: boolean) => {
    out.push({ symbol, side: t.side, openTime: t.openTime, closeTime: time, pnl: t.pnl.toNumber(), liquidated });
    open.delete(symbol);
  };

  for (const ev of events) {
    switch (ev.type) {
      case 'fill': {
        const after = ev.positionQty;
        const before = after - ev.qty;
        const fee = new Decimal(ev.fee);
        const realized = new Decimal(ev.realizedPnl);
        const wasOpen = Math.abs(before) > 0 && open.has(ev.symbol);
        const flips = before !== 0 && after !== 0 && Math.sign(before) !== Math.sign(after);
        if (wasOpen && (after === 0 || flips)) {
          const t = open.get(ev.symbol)!;
          // on a flip, the closing part |before| of |qty| carries its share of the fee
          const share = flips ? new Decimal(Math.abs(before)).div(Math.abs(ev.qty)) : new Decimal(1);
          t.pnl = t.pnl.plus(realized).minus(fee.times(share));
          close(ev.symbol, t, ev.time, false);
          if (flips) {
            open.set(ev.symbol, {
              side: after > 0 ? 1 : -1,
              openTime: ev.time,
              pnl: ZERO.minus(fee.times(new Decimal(1).minus(share))),
            });
          }
        } else if (after !== 0 && !open.has(ev.symbol)) {
          // opening from flat (or first sight of a position we did not see open)
          open.set(ev.symbol, { side: after > 0 ? 1 : -1, openTime: ev.time, pnl: realized.minus(fee) });
        } else if (open.has(ev.symbol)) {
          const t = open.get(ev.symbol)!;
          t.pnl = t.pnl.plus(realized).minus(fee);
        }
        qty.set(ev.symbol, after);
        break;
      }
      case 'funding': {
        const t = open.get(ev.symbol);
        if (t) t.pnl = t.pnl.plus(ev.received);
        break;
      }
      case 'liquidation': {
        // split the pool's realised PnL, penalty and insurance draw over its symbols by notional at the close price
        const legs = ev.symbols.map((s, k) => ({ s, w: Math.abs(qty.get(s) ?? 0) * (ev.prices[k] ?? 0) }));
        const total = legs.reduce((a, l) => a + l.w, 0);
        const amount = new Decimal(ev.realizedPnl).minus(ev.penalty).plus(ev.insuranceDraw);
        for (const leg of legs) {
          const t = open.get(leg.s);
          const w = total > 0 ? leg.w / total : 1 / legs.length;
          if (t) {
            t.pnl = t.pnl.plus(amount.times(w));
            close(leg.s, t, ev.time, true);
          }
          qty.set(leg.s, 0);
        }
        break;
      }
      default:
        break;
    }
  }
  return out;
}
