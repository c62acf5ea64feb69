/** What the console makes of sample events and stored messages, without a server or a browser. */
import { describe, expect, it } from 'vitest';
import { ConsoleHub } from '../../infra/dev-console/hub.js';
import { BODY_PREVIEW_BYTES, MAX_MESSAGES } from '../../infra/dev-console/model.js';
import { readSamples } from '../../infra/dev-console/samples.js';
import type { StoredMessage } from '../../infra/local-broker/index.js';
import { FUNCTIONS_DIR, readManifests } from '../../infra/manifest.js';

describe('sample events', () => {
  it('each sample in events/ belongs to the function `npm run invoke` runs it with, on its platform', async () => {
    const samples = await readSamples(`${FUNCTIONS_DIR}/../events`, await readManifests());
    const table = Object.fromEntries(samples.map((s) => [s.path, `${s.functionName} ${s.platform}`]));
    expect(table).toEqual({
      'fc/http-order.json': 'order-confirmation fc',
      'fc/http-order-base64.json': 'order-confirmation fc',
      'fc/http-order-invalid.json': 'order-confirmation fc',
      'fc/fc2-http-order-request.json': 'order-confirmation fc',
      'fc/oss-put.json': 'object-fanout fc',
      'fc/timer.json': 'metrics-reporter fc',
      'fc/spool-redeliver.json': 'spool-redeliver fc',
      'fc/rocketmq-orders.json': 'order-fulfilment fc',
      'fc/rocketmq-orders-rawdata.json': 'order-fulfilment fc',
      'fc/rocketmq-selfmanaged.json': 'order-fulfilment fc',
      'aws/apigw-v1-order.json': 'order-confirmation aws',
      'aws/apigw-v2-order.json': 'order-confirmation aws',
      'aws/s3-put.json': 'object-fanout aws',
      'aws/schedule.json': 'metrics-reporter aws',
      'aws/spool-redeliver.json': 'spool-redeliver aws',
      'aws/schedule-fulfilment.json': 'order-fulfilment aws',
    });
  });
});

function stored(fields: Partial<StoredMessage>): StoredMessage {
  return {
    topic: 'orders',
    messageId: 'id-1',
    type: 'NORMAL',
    keys: [],
    properties: {},
    body: Buffer.from('{}'),
    bornTimestamp: 1,
    storeTimestamp: 2,
    queueId: 0,
    queueOffset: 0,
    ...fields,
  };
}

describe('stored messages as the page gets them', () => {
  const hub = () => new ConsoleHub({ embedded: true, endpoint: '127.0.0.1:1' }, []);

  it('a body that is not UTF-8 is shown as base64', () => {
    const view = hub().addMessage(stored({ body: Buffer.from([0xff, 0xfe, 0x00, 0x41]) }), null);
    expect(view).toMatchObject({ bodyEncoding: 'base64', body: '//4AQQ==', truncated: false, size: 4 });
  });

  it('a long body is cut at the preview size without breaking a character', () => {
    const body = Buffer.from(`${'a'.repeat(BODY_PREVIEW_BYTES - 1)}é${'b'.repeat(100)}`);
    const view = hub().addMessage(stored({ body }), null);
    expect(view.bodyEncoding).toBe('utf8');
    expect(view.truncated).toBe(true);
    expect(view.body).toBe('a'.repeat(BODY_PREVIEW_BYTES - 1));
    expect(view.size).toBe(body.length);
  });

  it('keeps the newest messages only, and counts every one per topic', () => {
    const shown = hub();
    for (let i = 0; i < MAX_MESSAGES + 5; i++) shown.addMessage(stored({ messageId: `m${i}` }), null);
    const { messages, graph } = shown.snapshot();
    expect(messages).toHaveLength(MAX_MESSAGES);
    expect(messages[0]?.messageId).toBe('m5');
    expect(graph.topics.orders).toBe(MAX_MESSAGES + 5);
    shown.close();
  });
});
