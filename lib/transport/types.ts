import type { ResolvedConfig } from '../config.js';
import type { ClientLogger } from '../log.js';
import type { PreparedMessage } from '../message.js';

/** What one successful attempt returns. */
export interface TransportReceipt {
  messageId: string;
  offset: number;
}

/** Per-attempt options the retry layer may pass. */
export interface SendAttemptOptions {
  /**
   * Epoch milliseconds by which this attempt must be answered; sent to the broker as `grpc-timeout`.
   * @default now + the config's `sendTimeoutMs`
   */
  deadline?: number;
}

/**
 * One attempt of one send, and the lifecycle of the connections behind it. The producer owns retry,
 * deadlines and modes; a transport only moves bytes. Tests may substitute a fault-injecting transport.
 *
 * Errors a transport throws are classified by `classifyError` (lib/producer/classify.ts): a broker
 * verdict carries the broker's numeric status as `code` (≥ 10000); a gRPC failure carries the gRPC
 * status as numeric `code` plus `details`; a check made locally is a plain `TypeError`. A failure also
 * says, where the transport knows, whether the request reached the connection: `requestWritten: false`
 * means the broker cannot have stored the message (the connection was never established).
 */
export interface Transport {
  /** Increases each time the connections are replaced; lets concurrent failures share one reset. */
  readonly generation: number;
  /**
   * How many answers the broker has given, of any kind: proof the channel is alive. A count, not a time,
   * so an answer in the same millisecond as the start of an attempt is not mistaken for a later one.
   */
  readonly answers: number;
  send(message: PreparedMessage, options?: SendAttemptOptions): Promise<TransportReceipt>;
  /**
   * Replaces the connections if they are still the ones of `generation` (and, unless `force`, if the
   * last replacement was not just now); returns whether it did.
   */
  reset(generation: number, force?: boolean): boolean;
  /** Drops a topic the broker does not know from the route cache and refresh list. */
  forgetTopic(topic: string): void;
  /** Connects and looks up the routes of `topics`, so the first send skips both. */
  warmUp(topics: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export type TransportFactory = (config: ResolvedConfig, logger: ClientLogger) => Transport;

/** The property a transport error carries to say whether the request reached the connection. */
export interface TransportFailure {
  requestWritten?: boolean;
}
