import { describe, expect, it } from 'vitest';
import { errorText, forwardMessage, RETRY_PROPERTIES } from '../../../lib/consumer/forward.js';
import { ErrorCode, RocketMQError } from '../../../lib/errors.js';
import { received } from './fakes.js';

/** The message a failed one becomes on the retry or dead-letter topic. */

describe('forwardMessage', () => {
  it('keeps the original topic and message id through every round, and replaces the error', () => {
    const first = received({
      topic: 'orders',
      messageId: 'id-1',
      tag: 'Created',
      keys: ['K'],
      messageGroup: 'g',
      body: 'b',
    });
    const once = forwardMessage(
      {
        message: first,
        attempt: 1,
        outcome: {
          message: first,
          status: 'failed',
          attempt: 1,
          error: new RocketMQError(ErrorCode.BAD_REQUEST, 'no'),
        },
      },
      'orders-retry',
      1,
    );
    expect(once).toMatchObject({ topic: 'orders-retry', tag: 'Created', keys: ['K'], messageGroup: 'g' });
    expect(once.properties).toEqual({
      [RETRY_PROPERTIES.attempt]: '1',
      [RETRY_PROPERTIES.error]: 'RocketMQError: no',
      [RETRY_PROPERTIES.errorCode]: ErrorCode.BAD_REQUEST,
      [RETRY_PROPERTIES.originalTopic]: 'orders',
      [RETRY_PROPERTIES.originalMessageId]: 'id-1',
    });

    const again = received({
      topic: 'orders-retry',
      messageId: 'id-2',
      userProperties: Object.assign(Object.create(null), once.properties),
    });
    const twice = forwardMessage(
      {
        message: again,
        attempt: 2,
        outcome: { message: again, status: 'failed', attempt: 2, error: 'plain' },
      },
      'orders-dlq',
      2,
    );
    expect(twice.properties).toEqual({
      [RETRY_PROPERTIES.attempt]: '2',
      [RETRY_PROPERTIES.error]: 'plain',
      [RETRY_PROPERTIES.originalTopic]: 'orders',
      [RETRY_PROPERTIES.originalMessageId]: 'id-1',
    });
  });
});

describe('errorText', () => {
  it('is the name and message, cut to 1 KiB with an ellipsis', () => {
    expect(errorText(new TypeError('bad'))).toBe('TypeError: bad');
    const long = errorText(new Error('x'.repeat(5000)));
    expect(long).toHaveLength(1024);
    expect(long.endsWith('…')).toBe(true);
  });
});
