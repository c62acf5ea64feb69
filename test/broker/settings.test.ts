import { EventEmitter } from 'node:events';
import definitionPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import servicePb, {
  type TelemetryCommand,
} from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_pb.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { settingsReply, TelemetrySessions } from '../../infra/local-broker/settings.js';

const { ClientType } = definitionPb;
const policy = { maxBodySize: 1234, validateMessageType: true };

/** Stands in for a grpc-js duplex call: records what the broker writes. */
class FakeCall extends EventEmitter {
  cancelled = false;
  ended = false;
  readonly written: TelemetryCommand[] = [];
  write(command: TelemetryCommand) {
    this.written.push(command);
    return true;
  }
  end() {
    this.ended = true;
  }
}

function producerSettings() {
  return new definitionPb.Settings()
    .setClientType(ClientType.PRODUCER)
    .setPublishing(
      new definitionPb.Publishing().setTopicsList([new definitionPb.Resource().setName('orders')]),
    );
}

function open(sessions: TelemetrySessions, clientId = 'client-1') {
  const call = new FakeCall();
  sessions.open(call as never, clientId, undefined);
  call.emit('data', new servicePb.TelemetryCommand().setSettings(producerSettings()));
  return call;
}

describe('settings reply', () => {
  it('gives producers a backoff policy, the body limit and the validation flag', () => {
    const reply = settingsReply(producerSettings(), policy);
    expect(reply.getBackoffPolicy()?.hasExponentialBackoff()).toBe(true);
    expect(reply.getPublishing()?.toObject()).toMatchObject({ maxBodySize: 1234, validateMessageType: true });
    expect(
      reply
        .getPublishing()
        ?.getTopicsList()
        .map((topic) => topic.getName()),
    ).toEqual(['orders']);
  });

  it('gives push consumers a batch size and a short long-polling timeout', () => {
    const subscription = new definitionPb.Subscription().setGroup(new definitionPb.Resource().setName('g'));
    const push = new definitionPb.Settings()
      .setClientType(ClientType.PUSH_CONSUMER)
      .setSubscription(subscription);
    const reply = settingsReply(push, policy).getSubscription();
    expect(reply?.getReceiveBatchSize()).toBe(32);
    expect(reply?.getLongPollingTimeout()?.getSeconds()).toBe(2);
    expect(reply?.getFifo()).toBe(false);
  });
});

describe('telemetry sessions (the settings race)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('answers only once the client has no route query open and none answered for 50 ms, then once more after 1 s', () => {
    const sessions = new TelemetrySessions(policy, () => false);
    sessions.routeQueryStarted('client-1');
    sessions.routeQueryAnswered('client-1');
    const call = open(sessions);
    sessions.routeQueryStarted('client-1');
    vi.advanceTimersByTime(500);
    expect(call.written).toHaveLength(0);
    sessions.routeQueryAnswered('client-1');
    vi.advanceTimersByTime(49);
    expect(call.written).toHaveLength(0);
    vi.advanceTimersByTime(60);
    expect(call.written).toHaveLength(1);
    expect(call.written[0]?.getStatus()?.getCode()).toBe(definitionPb.Code.OK);
    expect(call.written[0]?.getSettings()?.getPublishing()?.getMaxBodySize()).toBe(1234);
    vi.advanceTimersByTime(1000);
    expect(call.written).toHaveLength(2);
    vi.advanceTimersByTime(60_000);
    expect(call.written).toHaveLength(2);
  });

  it('forgets a stream and its timers when the client half-closes or cancels', () => {
    const sessions = new TelemetrySessions(policy, () => false);
    const halfClosed = open(sessions, 'a');
    const cancelled = open(sessions, 'b');
    expect(sessions.size).toBe(2);
    halfClosed.emit('end');
    expect(halfClosed.ended).toBe(true);
    cancelled.cancelled = true;
    cancelled.emit('cancelled');
    expect(sessions.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('says nothing while silenced, and 40100 to an unauthorized client', () => {
    let silenced = true;
    const sessions = new TelemetrySessions(policy, () => silenced);
    const quiet = open(sessions);
    vi.advanceTimersByTime(5000);
    expect(quiet.written).toHaveLength(0);
    silenced = false;
    const rejected = new FakeCall();
    sessions.open(rejected as never, 'intruder', 'signature mismatch');
    rejected.emit('data', new servicePb.TelemetryCommand().setSettings(producerSettings()));
    expect(rejected.written.map((command) => command.getStatus()?.toObject())).toEqual([
      { code: 40100, message: 'signature mismatch' },
    ]);
    sessions.closeAll();
    expect(quiet.ended && rejected.ended).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});
