import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';

/**
 * The TCP side of the broker. The broker owns the listening socket and hands each connection to
 * grpc-js, because grpc-js does not expose its connections: owning them is what lets the broker
 * drop every connection at once and listen again on the same port.
 */
export class TcpListener {
  readonly #handOver: (socket: Socket) => void;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #onIdle: (() => void) | undefined;

  constructor(handOver: (socket: Socket) => void) {
    this.#handOver = handOver;
  }

  /** Starts listening and resolves with the bound port (useful when `port` is 0). */
  async listen(host: string, port: number): Promise<number> {
    const server = createServer((socket) => {
      // Small gRPC frames must not wait for Nagle's algorithm, or every reply can take 40 ms.
      socket.setNoDelay(true);
      this.#sockets.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        if (this.#sockets.size === 0) this.#onIdle?.();
      });
      this.#handOver(socket);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
    return (server.address() as AddressInfo).port;
  }

  /** `address:port` of every open connection, in the form grpc-js gives as a call's peer. */
  peers(): string[] {
    return [...this.#sockets].map((socket) => `${socket.remoteAddress}:${socket.remotePort}`);
  }

  dropConnections(): void {
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
  }

  /**
   * Stops accepting connections, gives the open ones `graceMs` to finish on their own (after the
   * caller asked grpc-js to close its HTTP/2 sessions), then destroys the rest.
   */
  async close(graceMs: number): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    if (this.#sockets.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#onIdle = resolve;
        timer = setTimeout(resolve, graceMs);
      });
      clearTimeout(timer);
      this.#onIdle = undefined;
    }
    this.dropConnections();
    await closed;
  }
}
