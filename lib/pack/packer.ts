import { ConfigError, ErrorCode, MessageValidationError, RocketMQError } from '../errors.js';
import { type Message, type PreparedMessage, validateMessage } from '../message.js';
import { integer } from '../options/kinds.js';
import { checked } from '../options/schema.js';
import type { Producer } from '../producer/producer.js';
import {
  encodeFrame,
  PACK_CONTENT_TYPE,
  PACK_FORMAT_PROPERTY,
  PACK_FORMAT_VERSION,
  PACK_RECORDS_PROPERTY,
} from './format.js';

/**
 * The sending side of packing: records accumulate per topic and tag, and each full pack goes out as
 * ONE message through the producer. The format itself (and `unpack`) is in `format.ts`.
 */

/** The pack's own RocketMQ keys are its records' keys, up to these bounds (the rest stay inside). */
const MAX_PACK_KEYS = 64;
const MAX_PACK_KEY_BYTES = 4096;
const MAX_PACK_PROPERTY_BYTES = 8192;

/** A record handed to {@link Packer.add}. */
export interface PackRecord {
  /** Strings are encoded as UTF-8, bytes sent as they are, anything else as JSON (with a content-type). */
  body: string | Uint8Array | object;
  /** Carried inside the pack for the consumer; the first ones also become the pack's RocketMQ keys. */
  keys?: string | string[];
  /** Carried inside the pack, per record. */
  properties?: Record<string, string>;
}

export interface PackerOptions {
  /** A pack is sent once it holds this many records. @default 256 */
  maxRecords?: number;
  /**
   * A pack's body never exceeds this many bytes; a record that would push it over starts the next
   * pack. At most the producer's `maxBodyBytes`. @default 256 KiB (or `maxBodyBytes` if smaller)
   */
  maxBytes?: number;
  /** An open pack is sent this long after its first record (timers do not keep the process alive). @default 1000 */
  maxAgeMs?: number;
  /**
   * `oneway` (default): fire and forget, for logs and metrics. `async`: retried, and spooled on
   * failure when the producer has a spool.
   */
  mode?: 'oneway' | 'async';
  /**
   * Send a pack that holds a single record as a plain message (that record's body, keys and
   * properties) instead of a pack of one. `unpack` returns the same record either way. @default true
   */
  plainWhenSingle?: boolean;
  /** User properties set on every pack message. */
  properties?: Record<string, string>;
  /** Told about a pack that could not be sent (invalid at send time, producer closed, async failure). */
  onError?: (error: RocketMQError, pack: { topic: string; tag: string | undefined; records: number }) => void;
}

export const PACKER_DEFAULTS = {
  maxRecords: 256,
  maxBytes: 256 * 1024,
  maxAgeMs: 1000,
} as const;

interface OpenPack {
  readonly topic: string;
  readonly tag: string | undefined;
  readonly records: PreparedMessage[];
  readonly frames: Buffer[];
  bytes: number;
  timer: NodeJS.Timeout | undefined;
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  return value === undefined ? fallback : checked(integer(1), value, `packer ${name}`);
}

/**
 * Accumulates records per topic and tag and sends each full pack as ONE message through the producer.
 * A pack is sent when it reaches `maxRecords` or `maxBytes`, `maxAgeMs` after its first record, on
 * {@link Packer.flush}, and at the start of every `drain()`/`shutdown()` of the producer (so an
 * invocation's drain covers its packed records too).
 */
export class Packer {
  readonly #producer: Producer;
  readonly #maxRecords: number;
  readonly #maxBytes: number;
  readonly #maxAgeMs: number;
  readonly #mode: 'oneway' | 'async';
  readonly #plainWhenSingle: boolean;
  readonly #properties: Record<string, string>;
  readonly #onError: PackerOptions['onError'];
  readonly #open = new Map<string, OpenPack>();
  readonly #unregister: () => void;
  #closed = false;

  constructor(producer: Producer, options: PackerOptions = {}) {
    this.#producer = producer;
    const limit = producer.config.maxBodyBytes;
    this.#maxRecords = positiveInteger(options.maxRecords, PACKER_DEFAULTS.maxRecords, 'maxRecords');
    this.#maxBytes = positiveInteger(options.maxBytes, Math.min(PACKER_DEFAULTS.maxBytes, limit), 'maxBytes');
    if (this.#maxBytes > limit) {
      throw new ConfigError(`packer maxBytes ${this.#maxBytes} is over the producer's maxBodyBytes ${limit}`);
    }
    this.#maxAgeMs = positiveInteger(options.maxAgeMs, PACKER_DEFAULTS.maxAgeMs, 'maxAgeMs');
    if (options.mode !== undefined && options.mode !== 'oneway' && options.mode !== 'async') {
      throw new ConfigError(`packer mode must be 'oneway' or 'async'`);
    }
    this.#mode = options.mode ?? 'oneway';
    this.#plainWhenSingle = options.plainWhenSingle ?? true;
    // Checked like any message's properties, once, so that sending a pack cannot fail on them; kept
    // small so that they, the tag and the pack's keys stay within the proxy's 16 KiB together.
    this.#properties = {
      ...validateMessage({ topic: 'pack', properties: options.properties, body: 'x' }).properties,
    };
    const propertyBytes = Object.entries(this.#properties).reduce(
      (sum, [key, value]) => sum + Buffer.byteLength(key) + Buffer.byteLength(value),
      0,
    );
    if (propertyBytes > MAX_PACK_PROPERTY_BYTES) {
      throw new ConfigError(`packer properties are ${propertyBytes} bytes, over ${MAX_PACK_PROPERTY_BYTES}`);
    }
    this.#onError = options.onError;
    this.#unregister = producer.onDrain(() => this.flush());
  }

  /** Records added and not yet handed to the producer. */
  get pendingRecords(): number {
    let count = 0;
    for (const pack of this.#open.values()) count += pack.records.length;
    return count;
  }

  /**
   * Adds a record to the open pack of `topic` and `tag`. Throws a {@link MessageValidationError} at
   * once for a record that could never be sent (bad topic, tag, keys or properties, or too large for a
   * pack); nothing is added then.
   */
  add(topic: string, record: PackRecord, options: { tag?: string } = {}): void {
    if (this.#closed) {
      throw new RocketMQError(ErrorCode.PRODUCER_CLOSED, 'the packer was closed', { topic });
    }
    if (record === null || typeof record !== 'object') {
      throw new MessageValidationError(ErrorCode.MESSAGE_INVALID, 'invalid pack record: must be an object', {
        topic,
        field: 'record',
      });
    }
    const message: Message = { topic, body: record.body };
    if (options.tag !== undefined) message.tag = options.tag;
    if (record.keys !== undefined) message.keys = record.keys;
    if (record.properties !== undefined) message.properties = record.properties;
    // The record is checked as the message it becomes when sent alone; a record body may be empty.
    const prepared = validateMessage({ ...message, allowEmptyBody: true }, { maxBodyBytes: this.#maxBytes });
    const frame = encodeFrame(prepared);
    if (frame.length > this.#maxBytes) {
      throw new MessageValidationError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `pack record is ${frame.length} bytes with its framing, over the pack limit of ${this.#maxBytes}`,
        { topic, field: 'body' },
      );
    }
    const destination = `${topic}\n${prepared.tag ?? ''}`;
    let pack = this.#open.get(destination);
    if (pack && pack.bytes + frame.length > this.#maxBytes) {
      this.#send(destination, pack);
      pack = undefined;
    }
    if (!pack) {
      pack = { topic, tag: prepared.tag, records: [], frames: [], bytes: 0, timer: undefined };
      const opened = pack;
      pack.timer = setTimeout(() => {
        if (this.#open.get(destination) === opened) this.#send(destination, opened);
      }, this.#maxAgeMs);
      pack.timer.unref();
      this.#open.set(destination, pack);
    }
    pack.records.push(prepared);
    pack.frames.push(frame);
    pack.bytes += frame.length;
    if (pack.records.length >= this.#maxRecords || pack.bytes >= this.#maxBytes)
      this.#send(destination, pack);
  }

  /** Sends every open pack now; returns how many messages it handed to the producer. */
  flush(): number {
    let sent = 0;
    for (const [destination, pack] of [...this.#open]) {
      this.#send(destination, pack);
      sent++;
    }
    return sent;
  }

  /** Flushes and detaches from the producer's drain; later `add` calls throw. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.flush();
    this.#closed = true;
    this.#unregister();
  }

  #send(destination: string, pack: OpenPack): void {
    clearTimeout(pack.timer);
    this.#open.delete(destination);
    if (pack.records.length === 0) return;
    const message = this.#messageOf(pack);
    const report = (error: unknown) => {
      const failure =
        error instanceof RocketMQError
          ? error
          : new RocketMQError(ErrorCode.UNKNOWN, `pack send failed: ${String(error)}`, { cause: error });
      this.#onError?.(failure, { topic: pack.topic, tag: pack.tag, records: pack.records.length });
    };
    try {
      if (this.#mode === 'oneway') {
        this.#producer.sendOneway(message);
      } else {
        this.#producer.sendAsync(message, {
          onSuccess: () => {},
          onException: ({ exception }) => report(exception),
        });
      }
    } catch (error) {
      // A drain hook must not throw; the caller of add() already learnt about invalid records.
      report(error);
    }
  }

  #messageOf(pack: OpenPack): Message {
    const [only] = pack.records;
    // An empty body cannot travel as a plain message (proxies reject it), so it stays a pack of one.
    if (only && pack.records.length === 1 && this.#plainWhenSingle && only.body.length > 0) {
      return {
        topic: pack.topic,
        ...(pack.tag !== undefined && { tag: pack.tag }),
        keys: [...only.keys],
        properties: { ...this.#properties, ...only.properties },
        body: only.body,
      };
    }
    return {
      topic: pack.topic,
      ...(pack.tag !== undefined && { tag: pack.tag }),
      keys: packKeys(pack.records),
      properties: {
        ...this.#properties,
        'content-type': PACK_CONTENT_TYPE,
        [PACK_FORMAT_PROPERTY]: String(PACK_FORMAT_VERSION),
        [PACK_RECORDS_PROPERTY]: String(pack.records.length),
      },
      body: Buffer.concat(pack.frames, pack.bytes),
    };
  }
}

/** The records' distinct keys in order, within the bounds that keep a pack's properties small. */
function packKeys(records: readonly PreparedMessage[]): string[] {
  const keys = new Set<string>();
  let bytes = 0;
  for (const record of records) {
    for (const key of record.keys) {
      if (keys.has(key)) continue;
      const size = Buffer.byteLength(key);
      if (keys.size >= MAX_PACK_KEYS || bytes + size > MAX_PACK_KEY_BYTES) return [...keys];
      keys.add(key);
      bytes += size;
    }
  }
  return [...keys];
}
