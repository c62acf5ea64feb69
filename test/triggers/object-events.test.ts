import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../lib/errors.js';
import { fromObjectEvent, fromOssEvent, fromS3Event, type ObjectEvent } from '../../lib/triggers/index.js';
import { eventBytes, eventObject, expectError, withField } from './load-event.js';

const OSS_EXPECTED: ObjectEvent[] = [
  {
    source: 'oss',
    bucket: 'orders-uploads',
    key: 'uploads/2026/11/orders-1001.csv',
    size: 2048,
    eTag: '0CC175B9C0F1B6A831C399E269772661',
    eventType: 'ObjectCreated:PutObject',
    time: '2026-11-24T08:01:00.000Z',
    region: 'cn-hangzhou',
  },
  {
    source: 'oss',
    bucket: 'orders-uploads',
    key: 'uploads/2026/11/invoice 1001.pdf',
    size: 51234,
    eTag: '92EB5FFEE6AE2FEC3AD71C777531578F',
    eventType: 'ObjectCreated:PutObject',
    time: '2026-11-24T08:01:01.000Z',
    region: 'cn-hangzhou',
  },
  {
    source: 'oss',
    bucket: 'orders-uploads',
    key: 'uploads/images/商品-A1.png',
    size: 183311,
    eTag: '4A8A08F09D37B73795649038408B5F33',
    eventType: 'ObjectCreated:PutObject',
    time: '2026-11-24T08:01:02.000Z',
    region: 'cn-hangzhou',
  },
];

describe('fromOssEvent', () => {
  it('maps the three records of the FC OSS fixture from a Buffer', () => {
    // Act
    const events = fromOssEvent(eventBytes('fc/oss-put.json'));

    // Assess
    expect(events).toEqual(OSS_EXPECTED);
  });

  it('maps the same from a string and from an object', () => {
    expect(fromOssEvent(eventBytes('fc/oss-put.json').toString())).toEqual(OSS_EXPECTED);
    expect(fromOssEvent(eventObject('fc/oss-put.json') as never)).toEqual(OSS_EXPECTED);
  });

  it('keeps an OSS key as delivered, percent signs included', () => {
    const event = withField(
      eventObject('fc/oss-put.json'),
      ['events', 0, 'oss', 'object', 'key'],
      'a%20b+c.txt',
    );
    expect(fromOssEvent(event as never)[0]?.key).toBe('a%20b+c.txt');
  });

  it('returns an empty list for an empty notification', () => {
    expect(fromOssEvent({ events: [] })).toEqual([]);
  });

  it('reports a removal without size as size 0 and without eTag', () => {
    // Prepare
    let event = withField(
      eventObject('fc/oss-put.json'),
      ['events', 1, 'eventName'],
      'ObjectRemoved:DeleteObject',
    );
    event = withField(event, ['events', 1, 'oss', 'object', 'size'], undefined);
    event = withField(event, ['events', 1, 'oss', 'object', 'eTag'], undefined);

    // Act
    const removed = fromOssEvent(event as never)[1];

    // Assess
    expect(removed).toMatchObject({ eventType: 'ObjectRemoved:DeleteObject', size: 0 });
    expect(removed).not.toHaveProperty('eTag');
  });

  it.each([
    [
      ['events', 2, 'oss', 'object', 'key'],
      undefined,
      'events[2].oss.object.key',
      /must be a non-empty string/,
    ],
    [['events', 1, 'oss', 'bucket', 'name'], '', 'events[1].oss.bucket.name', /must be a non-empty string/],
    [['events', 0, 'oss', 'bucket'], undefined, 'events[0].oss.bucket', /must be an object/],
    [['events', 0, 'oss'], null, 'events[0].oss', /must be an object, got null/],
    [['events', 0, 'oss', 'object', 'size'], '2048', 'events[0].oss.object.size', /whole number of bytes/],
    [['events', 0, 'oss', 'object', 'size'], -1, 'events[0].oss.object.size', /whole number of bytes/],
    [['events', 0, 'oss', 'object', 'size'], undefined, 'events[0].oss.object.size', /whole number/],
    [['events', 0, 'oss', 'object', 'eTag'], 5, 'events[0].oss.object.eTag', /must be a string/],
    [['events', 0, 'eventTime'], 'yesterday', 'events[0].eventTime', /RFC 3339 timestamp/],
    [['events', 0, 'eventTime'], '2026-02-30T00:00:00Z', 'events[0].eventTime', /RFC 3339 timestamp/],
    [['events', 0, 'eventName'], undefined, 'events[0].eventName', /non-empty string/],
    [['events', 0, 'eventSource'], 'aws:s3', 'events[0].eventSource', /must be "acs:oss"/],
    [['events', 0, 'region'], 3, 'events[0].region', /non-empty string, got 3/],
    [['events', 1], 'x', 'events[1]', /must be an object, got a string/],
    [['events'], {}, 'events', /must be an array, got an object/],
  ])('rejects %j = %j naming %s', (path, value, field, message) => {
    // Prepare
    const event = withField(eventObject('fc/oss-put.json'), path, value);

    // Act & Assess
    expectError(() => fromOssEvent(event as never), {
      field,
      message: new RegExp(`^OSS event: .*${message.source}`),
    });
  });

  it('rejects more records than maxRecords', () => {
    expectError(() => fromOssEvent(eventBytes('fc/oss-put.json'), { maxRecords: 2 }), {
      field: 'events',
      message: 'OSS event: events has 3 records, over the limit of 2',
    });
    expect(fromOssEvent(eventBytes('fc/oss-put.json'), { maxRecords: 3 })).toHaveLength(3);
  });

  it('rejects a bad maxRecords option with CONFIG_INVALID', () => {
    expectError(() => fromOssEvent(eventBytes('fc/oss-put.json'), { maxRecords: -5 }), {
      code: ErrorCode.CONFIG_INVALID,
      message: /maxRecords must be a whole number/,
    });
  });
});

describe('fromS3Event', () => {
  it('maps the three records of the S3 fixture and URL-decodes the keys', () => {
    // Act
    const events = fromS3Event(eventObject('aws/s3-put.json') as never);

    // Assess
    expect(events.map((event) => event.key)).toEqual([
      'uploads/orders-1001.csv',
      'uploads/invoice 1001.pdf',
      'uploads/2026/report:11.json',
    ]);
    expect(events[0]).toEqual({
      source: 's3',
      bucket: 'orders-uploads-example',
      key: 'uploads/orders-1001.csv',
      size: 2048,
      eTag: '0cc175b9c0f1b6a831c399e269772661',
      eventType: 'ObjectCreated:Put',
      time: '2026-11-24T08:02:00.000Z',
      region: 'us-east-1',
    });
  });

  it('decodes %2B to a literal plus', () => {
    const event = withField(eventObject('aws/s3-put.json'), ['Records', 0, 's3', 'object', 'key'], 'a%2Bb+c');
    expect(fromS3Event(event as never)[0]?.key).toBe('a+b c');
  });

  it('maps an S3 removal without size or eTag', () => {
    // Prepare
    let event = withField(
      eventObject('aws/s3-put.json'),
      ['Records', 2, 'eventName'],
      'ObjectRemoved:Delete',
    );
    event = withField(event, ['Records', 2, 's3', 'object', 'size'], undefined);
    event = withField(event, ['Records', 2, 's3', 'object', 'eTag'], undefined);

    // Act
    const removed = fromS3Event(event as never)[2];

    // Assess
    expect(removed).toMatchObject({
      eventType: 'ObjectRemoved:Delete',
      size: 0,
      key: 'uploads/2026/report:11.json',
    });
    expect(removed).not.toHaveProperty('eTag');
  });

  it.each([
    [['Records', 1, 's3', 'object', 'key'], '%E0%A4%A', 'Records[1].s3.object.key', /not valid URL-encoding/],
    [['Records', 0, 's3', 'bucket', 'name'], undefined, 'Records[0].s3.bucket.name', /non-empty string/],
    [['Records', 2, 'awsRegion'], undefined, 'Records[2].awsRegion', /non-empty string/],
    [['Records', 0, 'eventSource'], 'aws:sqs', 'Records[0].eventSource', /must be "aws:s3"/],
    [['Records', 0, 's3'], undefined, 'Records[0].s3', /must be an object/],
  ])('rejects %j = %j naming %s', (path, value, field, message) => {
    const event = withField(eventObject('aws/s3-put.json'), path, value);
    expectError(() => fromS3Event(event as never), { field, message });
  });
});

describe('fromObjectEvent', () => {
  it('detects OSS and S3 events', () => {
    expect(fromObjectEvent(eventBytes('fc/oss-put.json')).map((event) => event.source)).toEqual([
      'oss',
      'oss',
      'oss',
    ]);
    expect(fromObjectEvent(eventBytes('aws/s3-put.json')).map((event) => event.source)).toEqual([
      's3',
      's3',
      's3',
    ]);
  });

  it('names both shapes when it recognises neither', () => {
    expectError(() => fromObjectEvent(eventBytes('fc/timer.json')), {
      field: 'events',
      message: /expected an OSS event \(an "events" array\) or an S3 event \(a "Records" array\)/,
    });
  });

  it('passes maxRecords on', () => {
    expectError(() => fromObjectEvent(eventBytes('aws/s3-put.json'), { maxRecords: 0 }), {
      field: 'Records',
      message: /over the limit of 0/,
    });
  });
});
