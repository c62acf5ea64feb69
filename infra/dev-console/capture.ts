import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import {
  CHANNEL_NAMES,
  type SendErrorEvent,
  type SendStartEvent,
  type SendSuccessEvent,
} from '../../lib/diagnostics.js';
import type { StoredMessage } from '../local-broker/index.js';
import type { ConsoleHub } from './hub.js';
import type { InvocationView, SentView } from './model.js';

/**
 * Ties what happens in the dev server's process to the invocation it happens in:
 * - each invocation runs in an AsyncLocalStorage scope of its own;
 * - the library's send events (`node:diagnostics_channel`) give each send its invocation, and the
 *   send's answer its message id, which links the stored message to its sender;
 * - what the functions write to stdout and stderr inside a scope (Powertools' JSON lines) is kept as
 *   that invocation's log lines, and still written as before.
 */

interface OpenSend {
  invocation: InvocationView;
  view: SentView;
  /** Matched to a stored message already (by topic, tag and keys, before the answer came back). */
  matched: boolean;
}

type Write = typeof process.stdout.write;

export class InvocationCapture {
  readonly #scope = new AsyncLocalStorage<InvocationView>();
  readonly #open = new Map<number, OpenSend>();
  /** Message ids answered before the broker's store notice reached us (an external broker: never). */
  readonly #senders = new Map<string, string>();
  readonly #restore: (() => void)[] = [];

  constructor(readonly hub: ConsoleHub) {
    const on = <T>(name: string, handler: (event: T) => void) => {
      const listener = (event: unknown) => handler(event as T);
      subscribe(name, listener);
      this.#restore.push(() => unsubscribe(name, listener));
    };
    on<SendStartEvent>(CHANNEL_NAMES.start, (event) => {
      const invocation = this.#scope.getStore();
      if (!invocation) return;
      const view: SentView = {
        topic: event.topic,
        mode: event.mode,
        tag: event.tag ?? null,
        keys: [...event.keys],
        messageId: null,
        outcome: 'pending',
        error: null,
      };
      this.#open.set(event.sendId, { invocation, view, matched: false });
      // Bounded: a failed async send of a producer without a spool is never settled further.
      if (this.#open.size > 10_000) this.#open.delete(this.#open.keys().next().value as number);
      hub.addSend(invocation, view);
    });
    on<SendSuccessEvent>(CHANNEL_NAMES.success, (event) => {
      const open = this.#take(event.sendId);
      if (!open) return;
      if (event.messageId && !open.view.messageId) {
        open.view.messageId = event.messageId;
        if (this.hub.message(event.messageId)) this.hub.setSender(event.messageId, open.invocation.id);
        else this.#remember(event.messageId, open.invocation.id);
      }
      hub.settleSend(open.invocation, open.view, 'sent');
    });
    on<SendErrorEvent>(CHANNEL_NAMES.error, (event) => {
      // Kept open for an async send: a spool event may follow and change its outcome to spooled.
      const open = event.mode === 'async' ? this.#open.get(event.sendId) : this.#take(event.sendId);
      if (!open) return;
      open.view.error = `${event.error.code}: ${event.error.message}`;
      hub.settleSend(open.invocation, open.view, 'failed');
    });
    on<{ sendId: number }>(CHANNEL_NAMES.spool, (event) => {
      const open = this.#take(event.sendId);
      if (open) hub.settleSend(open.invocation, open.view, 'spooled');
    });
    on<{ sendId: number }>(CHANNEL_NAMES.drop, (event) => {
      const open = this.#take(event.sendId);
      if (open) hub.settleSend(open.invocation, open.view, 'dropped');
    });
    this.#captureOutput(process.stdout);
    this.#captureOutput(process.stderr);
  }

  #take(sendId: number): OpenSend | undefined {
    const open = this.#open.get(sendId);
    this.#open.delete(sendId);
    return open;
  }

  #remember(messageId: string, invocationId: string): void {
    this.#senders.set(messageId, invocationId);
    // Bounded: with an external broker no store notice ever claims these.
    if (this.#senders.size > 1000) this.#senders.delete(this.#senders.keys().next().value as string);
  }

  /**
   * The invocation that sent a message the broker just stored: by its id when the answer came first,
   * else the oldest open send of the same topic, tag and keys (the store notice comes before the
   * answer, and a oneway answer may carry no id).
   */
  senderOf(message: StoredMessage): string | null {
    const known = this.#senders.get(message.messageId);
    if (known) {
      this.#senders.delete(message.messageId);
      return known;
    }
    for (const open of this.#open.values()) {
      const { view } = open;
      if (
        !open.matched &&
        view.outcome === 'pending' &&
        view.topic === message.topic &&
        view.tag === (message.tag ?? null) &&
        view.keys.join('\n') === message.keys.join('\n')
      ) {
        open.matched = true;
        view.messageId = message.messageId;
        this.hub.touch(open.invocation);
        return open.invocation.id;
      }
    }
    return null;
  }

  /** Runs `call` as `invocation`: its sends and log lines are recorded, and so is its outcome. */
  async run<T>(invocation: InvocationView, call: () => Promise<T>): Promise<T> {
    try {
      const result = await this.#scope.run(invocation, call);
      this.hub.endInvocation(invocation, { result });
      return result;
    } catch (error) {
      this.hub.endInvocation(invocation, { error });
      throw error;
    }
  }

  #captureOutput(stream: NodeJS.WriteStream): void {
    const original = stream.write;
    const scope = this.#scope;
    const hub = this.hub;
    const write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]) {
      const invocation = scope.getStore();
      // A timer an invocation started (the client's own upkeep) carries its scope on after it ended:
      // what it writes then is not that invocation's.
      const running = invocation?.status === 'running';
      if (invocation && running && (typeof chunk === 'string' || chunk instanceof Uint8Array)) {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        for (const line of text.split('\n')) if (line.trim() !== '') hub.addLog(invocation, line);
      }
      return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Write;
    stream.write = write;
    this.#restore.push(() => {
      // Only our own wrapper is taken off: something that wrapped it since keeps its place.
      if (stream.write === write) stream.write = original;
    });
  }

  close(): void {
    for (const restore of this.#restore.splice(0)) restore();
    this.#open.clear();
  }
}
