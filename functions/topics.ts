/** Topic of each function, from the environment with the defaults the embedded broker creates. */
export const topics = {
  get orders(): string {
    return process.env.ORDERS_TOPIC || 'orders';
  },
  get objectEvents(): string {
    return process.env.OBJECT_EVENTS_TOPIC || 'object-events';
  },
  get metrics(): string {
    return process.env.METRICS_TOPIC || 'metrics';
  },
};
