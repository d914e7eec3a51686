/**
 * Pending orders of a setup: the record the engine keeps per order, the order types it knows and
 * the direction in which each type's trigger is crossed.
 */
import type { ModeId } from '../account/types.js';
import type { OrderType } from '../strategy/types.js';

/** the order types the engine executes; any other `type` is rejected `invalidOrderType` */
export const ORDER_TYPES: ReadonlySet<string> = new Set<OrderType>(['market', 'limit', 'stop', 'takeProfit']);

export interface PendingOrder {
  id: number;
  symbol: number;
  qty: number;
  type: OrderType;
  price: number;
  reduceOnly: boolean;
  closePosition: boolean;
  mode: ModeId | undefined;
  tag: string | undefined;
  /** first data index at which the order may execute */
  activeFrom: number;
  /** limit order that was marketable against the close it was placed at */
  marketable: boolean;
}

/** direction in which the order's trigger is crossed: up = price rising to the level */
export function triggersUp(o: PendingOrder): boolean {
  const buy = o.qty > 0;
  switch (o.type) {
    case 'limit':
      return !buy;
    case 'stop':
      return buy;
    case 'takeProfit':
      return !buy;
    default:
      return buy;
  }
}

