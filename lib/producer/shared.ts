import { getLogger, LIBRARY_SOURCE, registerLogRecordSender } from '../log.js';
import { Packer } from '../pack/index.js';
import { trackInInvocation } from '../trace-context.js';
import { type DrainResult, Producer, type ProducerOptions } from './producer.js';

let shared: Producer | undefined;

/** Log shipping's packer, bound to the shared producer it was made for. */
let shipping: { producer: Producer; packer: Packer } | undefined;

/**
 * Log shipping (`ROCKETMQ_LOG_TOPIC`) sends through the shared producer, oneway and packed: the lines
 * of one level wait in one pack, sent when full, a second after its first line, or at the invocation's
 * drain (a lone line goes as a plain message). Consumers read them with `unpack`.
 */
function shipLogRecord(topic: string, record: { level: string; body: string; keys: string[] }): void {
  // Only an open shared producer ships: creating one here would drop the options its first real
  // caller passes, and one created after shutdown would keep the process alive.
  if (!shared || shared.closed) return;
  if (shipping?.producer !== shared) {
    shipping?.packer.close();
    // Packs up to the body limit, so that any line a plain message could carry still ships.
    shipping = { producer: shared, packer: new Packer(shared, { maxBytes: shared.config.maxBodyBytes }) };
  }
  shipping.packer.add(
    topic,
    { body: record.body, keys: record.keys, properties: { 'content-type': 'application/json' } },
    { tag: record.level },
  );
}

/**
 * The module-scoped producer: created on the first call in a process and reused by every warm
 * invocation after it. Options count only on the call that creates it. The client behind it starts
 * lazily on the first send, and concurrent first sends share that one startup. After `shutdown()` the
 * next call creates a fresh producer. It counts each send with the invocation that started it (unless
 * the options bring a `track` hook of their own), and log shipping goes through it.
 */
export function getProducer(options?: ProducerOptions): Producer {
  if (!shared || shared.closed) {
    shared = createProducer(options);
    sharedOptions = options;
    registerLogRecordSender(shipLogRecord);
  } else if (options !== undefined && options !== sharedOptions && !ignoredOptionsWarned) {
    ignoredOptionsWarned = true;
    warnIgnoredOptions();
  }
  return shared;
}

let sharedOptions: ProducerOptions | undefined;
let ignoredOptionsWarned = false;

function warnIgnoredOptions(): void {
  getLogger().warn({
    message:
      'getProducer() options ignored: the shared producer already exists with the options of its first call',
    source: LIBRARY_SOURCE,
  });
}

/** Whether the shared producer exists and is not shut down. */
export function hasOpenSharedProducer(): boolean {
  return shared !== undefined && !shared.closed;
}

/** Shuts the shared producer down, if there is one; for preStop hooks, SIGTERM handlers and tests. */
export async function shutdownSharedProducer(
  options?: Parameters<Producer['shutdown']>[0],
): Promise<DrainResult | undefined> {
  const producer = shared;
  shared = undefined;
  return producer?.shutdown(options);
}

/**
 * A new, independent producer (most code wants {@link getProducer}). Like the shared one, it counts
 * each send with the invocation that started it unless the options bring a `track` hook of their own.
 */
export function createProducer(options?: ProducerOptions): Producer {
  // Anything but an object goes to the constructor as it is, to be refused there.
  const isObject = typeof options === 'object' && options !== null;
  return new Producer(isObject || options === undefined ? { track: trackInInvocation, ...options } : options);
}
