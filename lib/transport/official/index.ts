import type { ResolvedConfig } from '../../config.js';
import type { ClientLogger } from '../../log.js';
import type { PreparedMessage } from '../../message.js';
import { markRequestWritten } from '../errors.js';
import type { SendAttemptOptions, Transport, TransportReceipt } from '../types.js';
import { loadClientTransport } from './load.js';

/**
 * The transport over the official `rocketmq-client-nodejs` producer, loaded on first use so that
 * choosing the lean transport never loads the client.
 */
export class OfficialTransport implements Transport {
  readonly #config: ResolvedConfig;
  readonly #logger: ClientLogger;
  #inner: Transport | undefined;
  #loading: Promise<Transport> | undefined;
  #closed = false;

  constructor(config: ResolvedConfig, logger: ClientLogger) {
    this.#config = config;
    this.#logger = logger;
  }

  #load(): Promise<Transport> {
    if (this.#inner) return Promise.resolve(this.#inner);
    this.#loading ??= loadClientTransport().then((ClientTransport) => {
      this.#inner = new ClientTransport(this.#config, this.#logger);
      return this.#inner;
    });
    return this.#loading;
  }

  get generation(): number {
    return this.#inner?.generation ?? 0;
  }

  get answers(): number {
    return this.#inner?.answers ?? 0;
  }

  send(message: PreparedMessage, options?: SendAttemptOptions): Promise<TransportReceipt> {
    const inner = this.#inner;
    if (inner) return inner.send(message, options);
    if (this.#closed) return Promise.reject(markRequestWritten(new Error('Producer is not running now')));
    return this.#load().then((loaded) => loaded.send(message, options));
  }

  reset(generation: number, force?: boolean): boolean {
    return this.#inner?.reset(generation, force) ?? false;
  }

  forgetTopic(topic: string): void {
    this.#inner?.forgetTopic(topic);
  }

  async warmUp(topics: readonly string[]): Promise<void> {
    await (await this.#load()).warmUp(topics);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const inner = this.#inner ?? (this.#loading ? await this.#loading.catch(() => undefined) : undefined);
    await inner?.close();
  }
}
