import { describe, expect, it } from 'vitest';
import { fromFcTimerEvent, fromScheduledEvent, fromTimerEvent } from '../../lib/triggers/index.js';
import { eventBytes, eventObject, expectError, withField } from './load-event.js';

describe('fromFcTimerEvent', () => {
  it('maps the FC timer fixture and parses its JSON payload', () => {
    // Act
    const tick = fromFcTimerEvent(eventBytes('fc/timer.json'));

    // Assess
    expect(tick).toEqual({
      source: 'fc-timer',
      name: 'orders-metrics-every-5m',
      time: '2026-11-24T08:00:00.000Z',
      payload: { gauges: { 'orders.pending': 12, 'orders.failed.lastHour': 0 } },
    });
  });

  it.each([
    ['awesome-fc', 'awesome-fc'],
    ['{not json', '{not json'],
    ['42', 42],
    ['"quoted"', 'quoted'],
    ['', undefined],
    ['   ', undefined],
    [null, undefined],
    [undefined, undefined],
  ])('reads the payload %j as %j', (payload, expected) => {
    // Prepare
    const event = withField(eventObject('fc/timer.json'), ['payload'], payload);

    // Act
    const tick = fromFcTimerEvent(event as never);

    // Assess
    expect(tick.payload).toEqual(expected);
  });

  it('drops __proto__ keys from a JSON payload', () => {
    const event = withField(eventObject('fc/timer.json'), ['payload'], '{"__proto__":{"polluted":1},"a":1}');
    const tick = fromFcTimerEvent(event as never);
    expect(tick.payload).toEqual({ a: 1 });
    expect(Object.hasOwn(tick.payload as object, '__proto__')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('normalises a timestamp with an offset to UTC', () => {
    const event = withField(eventObject('fc/timer.json'), ['triggerTime'], '2026-11-24T16:00:00+08:00');
    expect(fromFcTimerEvent(event as never).time).toBe('2026-11-24T08:00:00.000Z');
  });

  it.each([
    [['triggerName'], undefined, 'triggerName', /non-empty string, got nothing/],
    [['triggerTime'], '2026-11-24 08:00:00', 'triggerTime', /RFC 3339/],
    [['triggerTime'], 1795507200000, 'triggerTime', /non-empty string/],
    [['payload'], { metrics: [] }, 'payload', /must be a string/],
  ])('rejects %j = %j naming %s', (path, value, field, message) => {
    const event = withField(eventObject('fc/timer.json'), path, value);
    expectError(() => fromFcTimerEvent(event as never), {
      field,
      message: new RegExp(`^FC timer event: .*${message.source}`),
    });
  });
});

describe('fromScheduledEvent', () => {
  it('maps the EventBridge fixture with the rule name and no payload', () => {
    // Act
    const tick = fromScheduledEvent(eventObject('aws/schedule.json') as never);

    // Assess
    expect(tick).toEqual({
      source: 'eventbridge',
      name: 'orders-metrics-every-5m',
      time: '2026-11-24T08:00:00.000Z',
      payload: undefined,
    });
  });

  it.each([
    ['arn:aws:events:us-east-1:123456789012:rule/orders-bus/nightly', 'nightly'],
    ['arn:aws:scheduler:us-east-1:123456789012:schedule/default/nightly', 'nightly'],
    ['arn:aws-cn:events:cn-north-1:123456789012:rule/nightly', 'nightly'],
  ])('takes the name from %s', (arn, name) => {
    const event = withField(eventObject('aws/schedule.json'), ['resources'], [arn]);
    expect(fromScheduledEvent(withField(event, ['source'], 'aws.scheduler') as never).name).toBe(name);
  });

  it('passes a non-empty detail through as the payload', () => {
    const event = withField(eventObject('aws/schedule.json'), ['detail'], { report: 'daily' });
    expect(fromScheduledEvent(event as never).payload).toEqual({ report: 'daily' });
  });

  it.each([
    [['detail-type'], 'Object Created', 'detail-type', /must be "Scheduled Event"/],
    [['source'], 'aws.s3', 'source', /must be "aws.events" or "aws.scheduler"/],
    [['resources'], [], 'resources[0]', /non-empty string, got nothing/],
    [['resources'], 'arn:aws:events:us-east-1:1:rule/x', 'resources', /must be an array/],
    [
      ['resources'],
      ['arn:aws:sqs:us-east-1:123456789012:queue'],
      'resources[0]',
      /ARN of a rule or schedule/,
    ],
    [
      ['resources'],
      ['arn:aws:events:us-east-1:123456789012:rule/'],
      'resources[0]',
      /ARN of a rule or schedule/,
    ],
    [['time'], undefined, 'time', /non-empty string/],
  ])('rejects %j = %j naming %s', (path, value, field, message) => {
    const event = withField(eventObject('aws/schedule.json'), path, value);
    expectError(() => fromScheduledEvent(event as never), { field, message });
  });
});

describe('fromTimerEvent', () => {
  it('detects FC timer and EventBridge events', () => {
    expect(fromTimerEvent(eventBytes('fc/timer.json')).source).toBe('fc-timer');
    expect(fromTimerEvent(eventBytes('aws/schedule.json')).source).toBe('eventbridge');
  });

  it('names both shapes when it recognises neither', () => {
    expectError(() => fromTimerEvent(eventBytes('fc/oss-put.json')), {
      field: 'triggerTime',
      message: /expected an FC timer event \(triggerTime\) or an EventBridge scheduled event \(detail-type\)/,
    });
  });
});
