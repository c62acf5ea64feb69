/** Topic of each function, from the environment with the defaults the embedded broker creates. */
export const topics = {
  get orders(): string {
    return process.env.ORDERS_TOPIC || 'orders';
  },
  /** Orders whose fulfilment failed, for another attempt. */
  get ordersRetry(): string {
    return process.env.ORDERS_RETRY_TOPIC || 'orders-retry';
  },
  /** Orders that failed every attempt. */
  get ordersDeadLetter(): string {
    return process.env.ORDERS_DLQ_TOPIC || 'orders-dlq';
  },
  get shipments(): string {
    return process.env.SHIPMENTS_TOPIC || 'shipments';
  },
  get objectEvents(): string {
    return process.env.OBJECT_EVENTS_TOPIC || 'object-events';
  },
  get metrics(): string {
    return process.env.METRICS_TOPIC || 'metrics';
  },
};
