/**
 * What the dev console shows, as the server sends it to the page (JSON over Server-Sent Events). Every
 * string here is data: the page renders it as text, never as markup.
 */

export interface FunctionView {
  name: string;
  description: string;
  trigger: 'http' | 'object' | 'timer' | 'rocketmq';
  /** The trigger in words: `HTTP POST /orders`, `RocketMQ orders, orders-retry`, … */
  triggerLabel: string;
  /** Topics the manifest says it sends to and consumes from. */
  sends: string[];
  consumes: string[];
  samples: SampleView[];
}

export interface SampleView {
  /** Path under events/, e.g. `fc/oss-put.json`. */
  path: string;
  platform: 'fc' | 'aws';
}

export interface MessageView {
  /** Store order, across topics. */
  seq: number;
  topic: string;
  type: string;
  tag: string | null;
  keys: string[];
  messageId: string;
  size: number;
  storeTime: number;
  bornTime: number;
  properties: Record<string, string>;
  /** The body as text (cut at {@link BODY_PREVIEW_BYTES}), or base64 when it is not UTF-8. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  truncated: boolean;
  /** The invocation that sent it, when known. */
  sentBy: string | null;
  consumedBy: string[];
}

export type SendOutcome = 'pending' | 'sent' | 'failed' | 'spooled' | 'dropped';

export interface SentView {
  topic: string;
  mode: string;
  tag: string | null;
  keys: string[];
  messageId: string | null;
  outcome: SendOutcome;
  error: string | null;
}

export interface InvocationView {
  id: string;
  functionName: string;
  platform: 'fc' | 'aws';
  /** How it was started: `http`, `object`, `timer`, `rocketmq` or `sample`. */
  trigger: string;
  /** What started it, in words (`POST /orders`, `2 message(s) from orders`, …). */
  source: string;
  /** The sample under events/ the event came from, if it did. */
  sample: string | null;
  startedAt: number;
  durationMs: number | null;
  status: 'running' | 'ok' | 'error';
  /** The result as JSON text (cut at {@link RESULT_PREVIEW_CHARS}). */
  result: string | null;
  error: { type: string; code: string | null; message: string } | null;
  sent: SentView[];
  /** Message ids of the messages it was given. */
  consumed: string[];
  logs: string[];
  logsDropped: number;
}

export interface GraphCounts {
  /** `f:<fn>>t:<topic>` (sends) and `t:<topic>>f:<fn>` (triggers) → messages. */
  edges: Record<string, number>;
  /** Messages stored per topic since the console started. */
  topics: Record<string, number>;
  /** Invocations per function. */
  invocations: Record<string, number>;
}

export interface StatsSample {
  at: number;
  /** `stats()` of the functions' shared producer; null until a function created it. */
  stats: unknown;
}

export interface SpoolView {
  spool: string;
  records: unknown[];
}

export interface Snapshot {
  broker: { embedded: boolean; endpoint: string };
  functions: FunctionView[];
  /** Every topic the graph shows: the manifests' and any that held a message. */
  topics: string[];
  messages: MessageView[];
  invocations: InvocationView[];
  graph: GraphCounts;
  stats: StatsSample[];
  spool: SpoolView | null;
}

export const BODY_PREVIEW_BYTES = 8 * 1024;
export const RESULT_PREVIEW_CHARS = 8 * 1024;
export const MAX_MESSAGES = 1000;
export const MAX_INVOCATIONS = 300;
export const MAX_LOG_LINES = 300;
export const MAX_LOG_LINE_CHARS = 4000;
export const MAX_STATS_SAMPLES = 120;
