/** Failure injection for tests; every fault is off until set and `reset()` turns all of them off. */
export interface BrokerFaults {
  /** Delays every unary response by this many milliseconds. */
  delayMs: number;
  /** The next `count` SendMessage calls are answered with this status code (e.g. 50001, 42900, 40100). */
  failNextSends(count: number, code: number, message?: string): void;
  /** The next `count` SendMessage calls fail at the gRPC layer with this code (e.g. 14 UNAVAILABLE). */
  failNextSendsWithGrpc(count: number, grpcCode: number): void;
  /** Closes every open HTTP/2 connection at once; clients have to reconnect. */
  dropConnections(): void;
  /** Accepts calls but never answers them, like a frozen or stale channel. */
  blackhole(on: boolean): void;
  /**
   * The connections open right now stop answering, while new ones work: what a client sees after its
   * instance was frozen long enough for the network to forget its connection. Only a client that opens
   * a fresh connection recovers.
   */
  freezeConnections(): void;
  reset(): void;
}

export type SendFault = { kind: 'status'; code: number; message: string } | { kind: 'grpc'; code: number };

export class FaultInjector implements BrokerFaults {
  delayMs = 0;
  #statusFailures = { remaining: 0, code: 0, message: '' };
  #grpcFailures = { remaining: 0, code: 0 };
  #blackholed = false;
  readonly #frozenPeers = new Set<string>();
  readonly #dropConnections: () => void;
  readonly #openPeers: () => string[];

  constructor(dropConnections: () => void, openPeers: () => string[]) {
    this.#dropConnections = dropConnections;
    this.#openPeers = openPeers;
  }

  get blackholed(): boolean {
    return this.#blackholed;
  }

  /** Whether a call from this peer (`host:port`, as grpc-js reports it) must go unanswered. */
  silences(peer: string): boolean {
    return this.#blackholed || this.#frozenPeers.has(peer);
  }

  freezeConnections(): void {
    for (const peer of this.#openPeers()) this.#frozenPeers.add(peer);
  }

  failNextSends(count: number, code: number, message = 'injected failure'): void {
    this.#statusFailures = { remaining: count, code, message };
  }

  failNextSendsWithGrpc(count: number, grpcCode: number): void {
    this.#grpcFailures = { remaining: count, code: grpcCode };
  }

  dropConnections(): void {
    this.#dropConnections();
  }

  blackhole(on: boolean): void {
    this.#blackholed = on;
  }

  reset(): void {
    this.delayMs = 0;
    this.#statusFailures.remaining = 0;
    this.#grpcFailures.remaining = 0;
    this.#blackholed = false;
    this.#frozenPeers.clear();
  }

  /** Consumes one injected SendMessage failure, gRPC-level ones first. */
  takeSendFault(): SendFault | undefined {
    if (this.#grpcFailures.remaining > 0) {
      this.#grpcFailures.remaining--;
      return { kind: 'grpc', code: this.#grpcFailures.code };
    }
    if (this.#statusFailures.remaining > 0) {
      this.#statusFailures.remaining--;
      const { code, message } = this.#statusFailures;
      return { kind: 'status', code, message };
    }
    return undefined;
  }
}
