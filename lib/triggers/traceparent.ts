/**
 * W3C Trace Context `traceparent` (https://www.w3.org/TR/trace-context/#traceparent-header), version 00:
 * `00-<trace-id: 32 hex>-<parent-id: 16 hex>-<flags: 2 hex>`, lower case. The spec makes all-zero ids
 * invalid; a header that fails any of this is ignored rather than forwarded, so a broken or hostile value
 * never reaches message properties.
 */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_PARENT_ID = '0'.repeat(16);

/** The header value when it is a well-formed version-00 `traceparent`, else `undefined`. */
export function parseTraceparent(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const match = TRACEPARENT.exec(value);
  if (!match || match[1] === ZERO_TRACE_ID || match[2] === ZERO_PARENT_ID) return undefined;
  return value;
}
