/**
 * What the Apache RocketMQ 5 proxy checks on every message it is sent, as read in its source. The
 * library validates against these before anything goes on the wire; the embedded broker enforces them
 * with the proxy's status codes, so that both agree with a real proxy and with each other.
 */

/**
 * Property names users may not set: `MessageConst.STRING_HASH_SET` (main branch, a superset of the
 * 5.0–5.3 sets), checked in `SendMessageActivity.buildMessageProperty` (40007).
 */
export const PROXY_SYSTEM_PROPERTY_NAMES: ReadonlySet<string> = new Set([
  'TRACE_ON',
  'MSG_REGION',
  'KEYS',
  'TAGS',
  'WAIT',
  'DELAY',
  'RETRY_TOPIC',
  'REAL_TOPIC',
  'REAL_QID',
  'TRAN_MSG',
  'PGROUP',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'BUYER_ID',
  'ORIGIN_MESSAGE_ID',
  'TRANSFER_FLAG',
  'CORRECTION_FLAG',
  'MQ2_FLAG',
  'RECONSUME_TIME',
  'UNIQ_KEY',
  'MAX_RECONSUME_TIMES',
  'CONSUME_START_TIME',
  'POP_CK',
  'POP_CK_OFFSET',
  '1ST_POP_TIME',
  'TRAN_PREPARED_QUEUE_OFFSET',
  'DUP_INFO',
  'EXTEND_UNIQ_INFO',
  'INSTANCE_ID',
  'CORRELATION_ID',
  'REPLY_TO_CLIENT',
  'TTL',
  'ARRIVE_TIME',
  'PUSH_REPLY_TIME',
  'CLUSTER',
  'MSG_TYPE',
  'INNER_MULTI_QUEUE_OFFSET',
  'TIMER_DELAY_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELIVER_MS',
  'TIMER_ENQUEUE_MS',
  'TIMER_DEQUEUE_MS',
  'TIMER_ROLL_TIMES',
  'TIMER_OUT_MS',
  'TIMER_DEL_UNIQKEY',
  'TIMER_DELAY_LEVEL',
  '__BORNHOST',
  'BORN_TIMESTAMP',
  'DLQ_ORIGIN_TOPIC',
  'DLQ_ORIGIN_MESSAGE_ID',
  '__CRC32#',
]);

/** `ProxyConfig` defaults: user properties per message, and their bytes with the tag and keys (43101). */
export const PROXY_MAX_USER_PROPERTIES = 128;
export const PROXY_MAX_USER_PROPERTY_BYTES = 16 * 1024;
/** `ProxyConfig.maxMessageGroupSize`: a message group of this many UTF-8 bytes or more is refused (40006). */
export const PROXY_MAX_MESSAGE_GROUP_SIZE = 64;

/**
 * Whether a string holds a character of Guava's `CharMatcher.javaIsoControl()` (U+0000–U+001F,
 * U+007F–U+009F), which the proxy rejects in tags, keys, property keys and values and message groups
 * (`GrpcValidator.containControlCharacter`).
 */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const unit = value.charCodeAt(i);
    if (unit <= 0x1f || (unit >= 0x7f && unit <= 0x9f)) return true;
  }
  return false;
}
