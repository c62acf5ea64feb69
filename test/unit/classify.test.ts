import {
  BadRequestException,
  NotFoundException,
  TooManyRequestsException,
  UnauthorizedException,
} from 'rocketmq-client-nodejs';
import { describe, expect, it } from 'vitest';
import { ErrorCode, RocketMQError } from '../../lib/index.js';
import { classifyError, looksLikeStaleChannel } from '../../lib/producer/classify.js';

const ctx = { topic: 'orders' };

function grpcError(code: number, details: string) {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

describe('classifyError', () => {
  it.each([
    [
      new NotFoundException(40402, 'No topic route info in name server for the topic: nope'),
      ErrorCode.TOPIC_NOT_FOUND,
      false,
    ],
    [new UnauthorizedException(40100, 'signature mismatch'), ErrorCode.UNAUTHORIZED, false],
    [
      new BadRequestException(40014, 'TopicMessageType validate failed'),
      ErrorCode.MESSAGE_TYPE_MISMATCH,
      false,
    ],
    [new BadRequestException(40004, 'illegal tag'), ErrorCode.BAD_REQUEST, false],
    [new TooManyRequestsException(42900, 'slow down'), ErrorCode.TOO_MANY_REQUESTS, true],
    [Object.assign(new Error('x'), { code: 41301 }), ErrorCode.MESSAGE_TOO_LARGE, false],
    [Object.assign(new Error('x'), { code: 40300 }), ErrorCode.FORBIDDEN, false],
    [Object.assign(new Error('x'), { code: 50001 }), ErrorCode.BROKER_INTERNAL, true],
    [Object.assign(new Error('x'), { code: 50402 }), ErrorCode.BROKER_TIMEOUT, true],
    [grpcError(14, 'No connection established'), ErrorCode.UNAVAILABLE, true],
    [grpcError(4, 'Deadline exceeded'), ErrorCode.TIMEOUT, true],
    [grpcError(16, 'unauthenticated'), ErrorCode.UNAUTHORIZED, false],
    [grpcError(3, 'invalid argument'), ErrorCode.BAD_REQUEST, false],
    [grpcError(9, 'failed precondition'), ErrorCode.BAD_REQUEST, false],
    [
      grpcError(8, 'Received message larger than max (5000000 vs. 4194304)'),
      ErrorCode.MESSAGE_TOO_LARGE,
      false,
    ],
    [grpcError(8, 'resource exhausted'), ErrorCode.TOO_MANY_REQUESTS, true],
    [
      new TypeError('Message body size exceeds the threshold, max size=4194304 bytes'),
      ErrorCode.MESSAGE_TOO_LARGE,
      false,
    ],
    [
      new TypeError('Current message type not match with topic accept message types'),
      ErrorCode.MESSAGE_TYPE_MISMATCH,
      false,
    ],
    [new Error('Producer is not running now'), ErrorCode.PRODUCER_CLOSED, false],
    [new Error('something else'), ErrorCode.UNKNOWN, false],
    ['a string', ErrorCode.UNKNOWN, false],
  ])('%s → %s', (thrown, code, retryable) => {
    const error = classifyError(thrown, ctx);
    expect(error).toBeInstanceOf(RocketMQError);
    expect(error.code).toBe(code);
    expect(error.retryable).toBe(retryable);
    expect(error.topic).toBe('orders');
    expect(error.cause).toBe(thrown);
  });

  it('keeps the broker status and drops the client prefix that carries nothing', () => {
    const error = classifyError(new NotFoundException(40402, 'No topic route info'), ctx);
    expect(error.status).toBe(40402);
    expect(error.message).not.toContain('request-id=undefined');
    expect(error.message).toContain('No topic route info');
  });

  it('treats UNAVAILABLE, DEADLINE_EXCEEDED and our own timeout as possibly stale channels, not 4xx', () => {
    expect(looksLikeStaleChannel(classifyError(grpcError(14, 'x'), ctx))).toBe(true);
    expect(looksLikeStaleChannel(classifyError(grpcError(4, 'x'), ctx))).toBe(true);
    expect(looksLikeStaleChannel(classifyError(grpcError(1, 'Call cancelled'), ctx))).toBe(true);
    expect(looksLikeStaleChannel(new RocketMQError(ErrorCode.TIMEOUT, 'ours'))).toBe(true);
    expect(looksLikeStaleChannel(classifyError(new TooManyRequestsException(42900, 'x'), ctx))).toBe(false);
    expect(looksLikeStaleChannel(classifyError(new NotFoundException(40402, 'x'), ctx))).toBe(false);
  });
});
