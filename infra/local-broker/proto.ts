import { createRequire } from 'node:module';
import type {
  Status,
  Code as StatusCode,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import grpcPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
import servicePb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';

/*
 * The generated serializers check `instanceof` against their own classes, so every response is built
 * from the very modules the official client loads (CommonJS, hence the default imports).
 */
export const definition = definitionPb;
export const service = servicePb;
export const { MessagingServiceService } = grpcPb;
export const { Code } = definitionPb;

interface TimestampMessage {
  getSeconds(): number;
  getNanos(): number;
}
interface DurationMessage {
  getSeconds(): number;
  getNanos(): number;
  setSeconds(seconds: number): DurationMessage;
  setNanos(nanos: number): DurationMessage;
}
interface WellKnownTypes {
  Timestamp: { new (): TimestampMessage & { fromDate(date: Date): void } };
  Duration: { new (): DurationMessage };
}

// google-protobuf ships no type declarations; load it next to the client so it is the same instance.
const requireFromClient = createRequire(createRequire(import.meta.url).resolve('rocketmq-client-nodejs'));
const { Timestamp } = requireFromClient('google-protobuf/google/protobuf/timestamp_pb.js') as WellKnownTypes;
const { Duration } = requireFromClient('google-protobuf/google/protobuf/duration_pb.js') as WellKnownTypes;

export function timestampOf(epochMs: number): TimestampMessage {
  const timestamp = new Timestamp();
  timestamp.fromDate(new Date(epochMs));
  return timestamp;
}

export function durationOf(ms: number): DurationMessage {
  return new Duration().setSeconds(Math.floor(ms / 1000)).setNanos((ms % 1000) * 1_000_000);
}

/** Milliseconds of a protobuf Timestamp or Duration; `undefined` when the field is absent. */
export function millisOf(value: TimestampMessage | DurationMessage | undefined): number | undefined {
  if (!value) return undefined;
  return value.getSeconds() * 1000 + Math.floor(value.getNanos() / 1_000_000);
}

export type { StatusCode };

export function statusOf(code: StatusCode, message = ''): Status {
  return new definitionPb.Status().setCode(code).setMessage(message);
}
