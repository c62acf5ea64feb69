import type { ClientLogger } from '../../log.js';
import type { MessageQueueObject } from './proto.js';
import { PublishingRoute } from './route.js';
import { TOPIC_NOT_FOUND } from './status.js';

/** Routes are looked up again after this long, in the background, as the official client does every 30 s. */
const ROUTE_REFRESH_MS = 30_000;

interface RouteEntry {
  route: PublishingRoute;
  fetchedAt: number;
  refreshing: boolean;
}

export interface RouteTableOptions {
  /** Asks the broker for the queues of `topic` (QueryRoute); fails with the broker's verdict. */
  query: (topic: string, deadline: number) => Promise<readonly MessageQueueObject[]>;
  /** The clock route age is measured with. */
  clock: () => number;
  /** How long a background refresh may take. */
  refreshTimeoutMs: () => number;
  logger: ClientLogger;
}

/**
 * The publishing routes of the topics sent to: looked up once per topic at a time, kept, refreshed in
 * the background once old. A topic the broker does not know is never kept.
 */
export class RouteTable {
  readonly #options: RouteTableOptions;
  readonly #routes = new Map<string, RouteEntry>();
  readonly #lookups = new Map<string, Promise<PublishingRoute>>();

  constructor(options: RouteTableOptions) {
    this.#options = options;
  }

  /** The kept route of `topic`, if any; one getting old is refreshed without waiting for it. */
  cached(topic: string): PublishingRoute | undefined {
    const entry = this.#routes.get(topic);
    if (entry && !entry.refreshing && this.#options.clock() - entry.fetchedAt > ROUTE_REFRESH_MS) {
      this.#refreshInBackground(topic, entry);
    }
    return entry?.route;
  }

  /** Looks the route up; concurrent first sends share one lookup. */
  lookUp(topic: string, deadline: number): Promise<PublishingRoute> {
    let lookup = this.#lookups.get(topic);
    if (!lookup) {
      lookup = this.#fetch(topic, deadline).finally(() => this.#lookups.delete(topic));
      this.#lookups.set(topic, lookup);
    }
    return lookup;
  }

  forget(topic: string): void {
    this.#routes.delete(topic);
  }

  async #fetch(topic: string, deadline: number): Promise<PublishingRoute> {
    const queues = await this.#options.query(topic, deadline);
    const previous = this.#routes.get(topic)?.route;
    const route = previous ? previous.update(queues) : new PublishingRoute(queues);
    this.#routes.set(topic, { route, fetchedAt: this.#options.clock(), refreshing: false });
    this.#options.logger.debug('route of %s: %d writable queue(s)', topic, route.size);
    return route;
  }

  #refreshInBackground(topic: string, entry: RouteEntry): void {
    entry.refreshing = true;
    this.lookUp(topic, Date.now() + this.#options.refreshTimeoutMs()).then(
      () => undefined,
      (error: unknown) => {
        entry.refreshing = false;
        if ((error as { code?: unknown }).code === TOPIC_NOT_FOUND) this.#routes.delete(topic);
        this.#options.logger.warn('route refresh for %s failed: %s', topic, (error as Error).message);
      },
    );
  }
}
