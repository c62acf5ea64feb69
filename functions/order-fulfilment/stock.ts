import type { Order } from '../order-confirmation/order.js';

/** Stock per SKU in one warehouse; the example's catalogue, kept in memory per instance. */
export type StockLevels = ReadonlyMap<string, number>;

export interface Reservation {
  sku: string;
  qty: number;
  warehouse: string;
}

export type ReserveResult =
  | { ok: true; reservations: Reservation[]; stock: StockLevels }
  | { ok: false; missing: Array<{ sku: string; wanted: number; available: number }> };

export const WAREHOUSE = 'hangzhou-1';

/** What the example warehouse holds when an instance starts. */
export function initialStock(): Map<string, number> {
  return new Map([
    ['A1', 500],
    ['B7', 200],
    ['C3', 1000],
  ]);
}

/**
 * Reserves every item of an order, or nothing: the stock after the reservation comes back as a new map,
 * the given one is left as it is. Items of the same SKU are added up before they are checked.
 */
export function reserveStock(order: Order, stock: StockLevels): ReserveResult {
  const wanted = new Map<string, number>();
  for (const item of order.items) wanted.set(item.sku, (wanted.get(item.sku) ?? 0) + item.qty);
  const missing = [...wanted]
    .filter(([sku, qty]) => (stock.get(sku) ?? 0) < qty)
    .map(([sku, qty]) => ({ sku, wanted: qty, available: stock.get(sku) ?? 0 }));
  if (missing.length > 0) return { ok: false, missing };
  const next = new Map(stock);
  for (const [sku, qty] of wanted) next.set(sku, (next.get(sku) ?? 0) - qty);
  return {
    ok: true,
    reservations: order.items.map((item) => ({ sku: item.sku, qty: item.qty, warehouse: WAREHOUSE })),
    stock: next,
  };
}
