import type { ServerResponse } from 'node:http';
import type { StoredMessage } from '../local-broker/index.js';
import {
  BODY_PREVIEW_BYTES,
  type FunctionView,
  type GraphCounts,
  type InvocationView,
  MAX_INVOCATIONS,
  MAX_LOG_LINE_CHARS,
  MAX_LOG_LINES,
  MAX_MESSAGES,
  MAX_STATS_SAMPLES,
  type MessageView,
  RESULT_PREVIEW_CHARS,
  type SentView,
  type Snapshot,
  type SpoolView,
  type StatsSample,
} from './model.js';

/** How often changed invocations and counts go out: log lines and sends come in bursts. */
const FLUSH_MS = 50;
/** A comment line now and then keeps proxies and the browser from giving up on a quiet stream. */
const KEEPALIVE_MS = 15_000;

function bodyPreview(body: Buffer): Pick<MessageView, 'body' | 'bodyEncoding' | 'truncated'> {
  const truncated = body.length > BODY_PREVIEW_BYTES;
  const head = truncated ? body.subarray(0, BODY_PREVIEW_BYTES) : body;
  try {
    // A fresh decoder each time: streaming mode (a cut body may end mid-character) keeps state.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: truncated });
    return { body: text, bodyEncoding: 'utf8', truncated };
  } catch {
    return { body: head.toString('base64'), bodyEncoding: 'base64', truncated };
  }
}

/** JSON text of a result, cut to a preview. */
export function resultPreview(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value ?? null, null, 2) ?? 'null';
  } catch {
    text = String(value);
  }
  return text.length > RESULT_PREVIEW_CHARS ? `${text.slice(0, RESULT_PREVIEW_CHARS)}…` : text;
}

/**
 * The console's state and its Server-Sent Events stream: every stored message, invocation and
 * producer sample, kept in bounded rings, and pushed to each open page as it happens.
 */
export class ConsoleHub {
  readonly #clients = new Set<ServerResponse>();
  readonly #messages = new Map<string, MessageView>();
  readonly #invocations = new Map<string, InvocationView>();
  readonly #dirty = new Set<InvocationView>();
  readonly #stats: StatsSample[] = [];
  readonly #graph: GraphCounts = { edges: {}, topics: {}, invocations: {} };
  readonly #topics: Set<string>;
  #graphDirty = false;
  #spool: SpoolView | null = null;
  #seq = 0;
  #flushTimer: NodeJS.Timeout | undefined;
  readonly #keepalive: NodeJS.Timeout;

  constructor(
    readonly broker: { embedded: boolean; endpoint: string },
    readonly functions: FunctionView[],
  ) {
    this.#topics = new Set(functions.flatMap((fn) => [...fn.sends, ...fn.consumes]));
    this.#keepalive = setInterval(() => {
      for (const client of this.#clients) client.write(': keepalive\n\n');
    }, KEEPALIVE_MS);
    this.#keepalive.unref();
  }

  snapshot(): Snapshot {
    return {
      broker: this.broker,
      functions: this.functions,
      topics: [...this.#topics],
      messages: [...this.#messages.values()],
      invocations: [...this.#invocations.values()],
      graph: this.#graph,
      stats: this.#stats,
      spool: this.#spool,
    };
  }

  /** Opens an event stream on `response`: a snapshot first, then every change. */
  subscribe(response: ServerResponse): void {
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    response.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify(this.snapshot())}\n\n`);
    this.#clients.add(response);
    response.once('close', () => this.#clients.delete(response));
  }

  #emit(event: string, data: unknown): void {
    if (this.#clients.size === 0) return;
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const client of this.#clients) client.write(frame);
  }

  #schedule(): void {
    this.#flushTimer ??= setTimeout(() => this.#flush(), FLUSH_MS);
  }

  #flush(): void {
    this.#flushTimer = undefined;
    for (const invocation of this.#dirty) this.#emit('invocation', invocation);
    this.#dirty.clear();
    if (this.#graphDirty) {
      this.#graphDirty = false;
      this.#emit('graph', { graph: this.#graph, topics: [...this.#topics] });
    }
  }

  #count(bucket: Record<string, number>, key: string, by = 1): void {
    bucket[key] = (bucket[key] ?? 0) + by;
    this.#graphDirty = true;
    this.#schedule();
  }

  /** A message the embedded broker stored; sent to the pages at once. */
  addMessage(message: StoredMessage, sentBy: string | null): MessageView {
    const view: MessageView = {
      seq: ++this.#seq,
      topic: message.topic,
      type: message.type,
      tag: message.tag ?? null,
      keys: message.keys,
      messageId: message.messageId,
      size: message.body.length,
      storeTime: message.storeTimestamp,
      bornTime: message.bornTimestamp,
      properties: message.properties,
      ...bodyPreview(message.body),
      sentBy,
      consumedBy: [],
    };
    this.#messages.delete(view.messageId);
    this.#messages.set(view.messageId, view);
    if (this.#messages.size > MAX_MESSAGES) {
      this.#messages.delete(this.#messages.keys().next().value as string);
    }
    this.#topics.add(view.topic);
    this.#count(this.#graph.topics, view.topic);
    this.#emit('message', view);
    return view;
  }

  message(messageId: string): MessageView | undefined {
    return this.#messages.get(messageId);
  }

  /** Records who sent a stored message (known only once the send's answer came back). */
  setSender(messageId: string, invocationId: string): void {
    const view = this.#messages.get(messageId);
    if (!view || view.sentBy === invocationId) return;
    view.sentBy = invocationId;
    this.#emit('message', view);
  }

  addConsumer(messageId: string, invocationId: string): void {
    const view = this.#messages.get(messageId);
    if (!view || view.consumedBy.includes(invocationId)) return;
    view.consumedBy.push(invocationId);
    this.#emit('message', view);
  }

  /** Messages stored in `[from, to]` whose sender is not known. */
  unattributed(from: number, to: number): MessageView[] {
    return [...this.#messages.values()].filter(
      (view) => view.sentBy === null && view.storeTime >= from && view.storeTime <= to,
    );
  }

  startInvocation(
    fields: Pick<InvocationView, 'functionName' | 'platform' | 'trigger' | 'source' | 'sample'>,
  ) {
    const invocation: InvocationView = {
      id: `inv-${++this.#seq}`,
      ...fields,
      startedAt: Date.now(),
      durationMs: null,
      status: 'running',
      result: null,
      error: null,
      sent: [],
      consumed: [],
      logs: [],
      logsDropped: 0,
    };
    this.#invocations.set(invocation.id, invocation);
    if (this.#invocations.size > MAX_INVOCATIONS) {
      this.#invocations.delete(this.#invocations.keys().next().value as string);
    }
    this.#count(this.#graph.invocations, invocation.functionName);
    this.#emit('invocation', invocation);
    return invocation;
  }

  /** Marks an invocation changed: it goes out with the next flush. */
  touch(invocation: InvocationView): void {
    this.#dirty.add(invocation);
    this.#schedule();
  }

  endInvocation(invocation: InvocationView, outcome: { result: unknown } | { error: unknown }): void {
    invocation.durationMs = Date.now() - invocation.startedAt;
    if ('result' in outcome) {
      invocation.status = 'ok';
      invocation.result = resultPreview(outcome.result);
    } else {
      const { name, code, message } = (outcome.error ?? {}) as {
        name?: unknown;
        code?: unknown;
        message?: unknown;
      };
      invocation.status = 'error';
      invocation.error = {
        type: typeof name === 'string' ? name : 'Error',
        code: typeof code === 'string' || typeof code === 'number' ? String(code) : null,
        message: typeof message === 'string' ? message : String(outcome.error),
      };
    }
    this.touch(invocation);
  }

  addLog(invocation: InvocationView, line: string): void {
    if (invocation.logs.length >= MAX_LOG_LINES) invocation.logsDropped++;
    else
      invocation.logs.push(line.length > MAX_LOG_LINE_CHARS ? `${line.slice(0, MAX_LOG_LINE_CHARS)}…` : line);
    this.touch(invocation);
  }

  addSend(invocation: InvocationView, send: SentView): void {
    invocation.sent.push(send);
    this.touch(invocation);
  }

  /** A send reached its outcome; a stored one counts on its function → topic edge. */
  settleSend(invocation: InvocationView, send: SentView, outcome: SentView['outcome']): void {
    send.outcome = outcome;
    if (outcome === 'sent') this.#count(this.#graph.edges, `f:${invocation.functionName}>t:${send.topic}`);
    this.touch(invocation);
  }

  addConsumed(invocation: InvocationView, messages: { messageId: string; topic: string }[]): void {
    for (const { messageId, topic } of messages) {
      invocation.consumed.push(messageId);
      this.#count(this.#graph.edges, `t:${topic}>f:${invocation.functionName}`);
      this.addConsumer(messageId, invocation.id);
    }
    this.touch(invocation);
  }

  addStats(sample: StatsSample): void {
    this.#stats.push(sample);
    if (this.#stats.length > MAX_STATS_SAMPLES) this.#stats.shift();
    this.#emit('stats', sample);
  }

  setSpool(spool: SpoolView): void {
    if (JSON.stringify(spool) === JSON.stringify(this.#spool)) return;
    this.#spool = spool;
    this.#emit('spool', spool);
  }

  /** Ends every open stream (a stop must not wait for them) and the timers. */
  close(): void {
    clearInterval(this.#keepalive);
    clearTimeout(this.#flushTimer);
    for (const client of this.#clients) client.end();
    this.#clients.clear();
  }
}
