import { ErrorCode, EventError } from 'rocketmq-serverless';

export interface OrderItem {
  sku: string;
  qty: number;
}

export interface Order {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  total: number;
  currency?: string;
}

/** Order ids become message keys (`ORDERID_<id>`), so they keep to characters keys allow everywhere. */
const ORDER_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_ITEMS = 500;

function invalid(field: string, problem: string): EventError {
  return new EventError(ErrorCode.EVENT_INVALID, `invalid order: ${field} ${problem}`, { field });
}

function text(value: unknown, field: string, max = 128): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) {
    throw invalid(field, `must be a non-empty string of at most ${max} characters`);
  }
  return value;
}

/** Checks the shape of an order and returns a copy with only the known fields. */
export function parseOrder(value: unknown): Order {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('body', 'must be a JSON object');
  const input = value as Record<string, unknown>;
  const orderId = typeof input.orderId === 'number' ? String(input.orderId) : input.orderId;
  if (typeof orderId !== 'string' || !ORDER_ID.test(orderId)) {
    throw invalid('orderId', 'must be 1-64 letters, digits, _ or -');
  }
  if (!Array.isArray(input.items) || input.items.length === 0 || input.items.length > MAX_ITEMS) {
    throw invalid('items', `must be a list of 1 to ${MAX_ITEMS} items`);
  }
  const items = input.items.map((item: unknown, index): OrderItem => {
    if (typeof item !== 'object' || item === null) throw invalid(`items[${index}]`, 'must be an object');
    const { sku, qty } = item as Record<string, unknown>;
    if (typeof qty !== 'number' || !Number.isInteger(qty) || qty < 1) {
      throw invalid(`items[${index}].qty`, 'must be a positive integer');
    }
    return { sku: text(sku, `items[${index}].sku`), qty };
  });
  if (typeof input.total !== 'number' || !Number.isFinite(input.total) || input.total < 0) {
    throw invalid('total', 'must be a non-negative number');
  }
  const order: Order = {
    orderId,
    customerId: text(input.customerId, 'customerId'),
    items,
    total: input.total,
  };
  if (input.currency !== undefined) order.currency = text(input.currency, 'currency', 3);
  return order;
}
