import type { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import type { BaseClient } from 'rocketmq-client-nodejs';

/**
 * Upstream behaviour, two defects of the client's telemetry sessions — rocketmq-client-nodejs 1.0.8,
 * src/client/TelemetrySession.ts
 * (https://github.com/apache/rocketmq-clients/blob/da8271b572b41b627bcbbdfb5b3310c0c5e4736b/nodejs/src/client/TelemetrySession.ts#L40-L163):
 * - it listens for a stream's `error` with `once` (line 89) and drops every listener when it releases
 *   the stream (line 45), yet the stream can still fail afterwards; an `error` event with no listener
 *   is an uncaught exception that kills the instance (crashes of the client on an unstable network
 *   are reported in apache/rocketmq-clients#966, closed as stale);
 * - after a stream error or end it renews the stream from a 1 s timer (lines 151-153 and 160-162) that
 *   `shutdown()` does not cancel, and the renewal opens a fresh channel: a shut-down client reconnects
 *   every second for ever. A fix of that timer leak was proposed in apache/rocketmq-clients#1368
 *   (closed unmerged).
 *
 * Why it matters: either defect outlives a serverless invocation. Every stream therefore keeps one
 * `error` listener that outlives the client's own, and once the client is retired, renewals get an
 * inert stream that holds no handle and never fails.
 *
 * Remove when released streams keep an error listener and shutdown cancels the renewal;
 * test/transport/upstream/telemetry-streams.test.ts notices.
 */
export function guardTelemetryStreams(
  client: Pick<BaseClient, 'createTelemetryStream'>,
  isRetired: () => boolean,
): void {
  const create = client.createTelemetryStream.bind(client);
  client.createTelemetryStream = (endpoints) => {
    if (isRetired()) return inertStream() as unknown as ReturnType<typeof create>;
    return keepErrorListener(create(endpoints));
  };
}

const ignore = () => undefined;

/** Gives `stream` an `error` listener that stays when the client removes the listeners it added. */
export function keepErrorListener<T extends EventEmitter>(stream: T): T {
  stream.on('error', ignore);
  const removeAll = stream.removeAllListeners.bind(stream);
  stream.removeAllListeners = (...event: [(string | symbol)?]) => {
    // Passing `undefined` explicitly would remove only an event named "undefined".
    removeAll(...event);
    if (event[0] === undefined || event[0] === 'error') stream.on('error', ignore);
    return stream;
  };
  return stream;
}

/** A stream that accepts every write, never reads, and holds nothing open. */
export function inertStream(): Duplex {
  return new Duplex({
    objectMode: true,
    read: () => undefined,
    write: (_chunk: unknown, _encoding: BufferEncoding, callback: () => void) => callback(),
  });
}
