/**
 * Whether a failed send may have stored its message: said plainly on every error, and decided by the
 * send as a whole, so that a caller never treats an ambiguous failure as a clean one.
 */
import { describe, expect, it } from 'vitest';
import { createProducer, ErrorCode, type RocketMQError } from '../../lib/index.js';
import { classifyError } from '../../lib/producer/classify.js';
import type { Transport, TransportReceipt } from '../../lib/producer/transport.js';

const ctx = { topic: 'orders' };

function grpcError(code: number, details: string, requestWritten?: boolean) {
  const error = Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
  return requestWritten === undefined ? error : Object.assign(error, { requestWritten });
}

describe('classifyError: mayBeStored', () => {
  it.each([
    ['a gRPC deadline', grpcError(4, 'Deadline exceeded'), true],
    ['UNAVAILABLE after the request was written', grpcError(14, 'Connection dropped', true), true],
    [
      'UNAVAILABLE with nothing known (grpc-js reports a retried call’s connect error)',
      grpcError(14, 'No connection established'),
      true,
    ],
    ['CANCELLED', grpcError(1, 'Call cancelled'), true],
    ['connection refused before anything was written', grpcError(14, 'connect ECONNREFUSED', false), false],
    ['a broker verdict (40402)', Object.assign(new Error('x'), { code: 40402 }), false],
    ['a broker flush timeout (50402)', Object.assign(new Error('x'), { code: 50402 }), true],
    ['a local check', new TypeError('body size exceeds the limit'), false],
    ['INVALID_ARGUMENT', grpcError(3, 'invalid argument'), false],
  ])('%s → %s', (_label, thrown, expected) => {
    const error = classifyError(thrown, ctx);
    expect(error.mayBeStored).toBe(expected);
    expect(error.message).toMatch(expected ? /may|outcome/ : /.*/);
    if (!expected && (thrown as { code?: number }).code === 14)
      expect(error.message).toMatch(/never reached the broker/);
  });

  it('an empty body refused as "illegal" (50001 before 5.3.2, 41302 since) is a verdict, not retried', () => {
    const old = classifyError(
      Object.assign(new Error('the message is illegal, maybe msg body or properties length not matched.'), {
        code: 50001,
      }),
      ctx,
    );
    expect(old).toMatchObject({ code: ErrorCode.MESSAGE_INVALID, retryable: false, mayBeStored: false });
    expect(classifyError(Object.assign(new Error('empty'), { code: 41302 }), ctx)).toMatchObject({
      code: ErrorCode.MESSAGE_INVALID,
      retryable: false,
    });
  });
});

/** A fake transport that fails each attempt as scripted (fault injection for unit tests). */
function scriptedTransport(attempts: Array<() => Promise<TransportReceipt>>, answers = 1): Transport {
  let call = 0;
  return {
    generation: 0,
    answers,
    send: () => {
      const next = attempts[Math.min(call, attempts.length - 1)] as () => Promise<TransportReceipt>;
      call++;
      return next();
    },
    reset: () => false,
    forgetTopic: () => undefined,
    warmUp: async () => undefined,
    close: async () => undefined,
  };
}

describe('the send as a whole', () => {
  it('an attempt that timed out makes the send ambiguous even when the last attempt was refused before writing', async () => {
    const transport = scriptedTransport([
      async () => Promise.reject(grpcError(4, 'Deadline exceeded')),
      async () => Promise.reject(grpcError(14, 'connect ECONNREFUSED', false)),
    ]);
    const producer = createProducer({
      endpoints: '127.0.0.1:1',
      transportFactory: () => transport,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const error = (await producer
      .send({ topic: 'orders', body: 'x' })
      .catch((e: unknown) => e)) as RocketMQError;
    expect(error).toMatchObject({ code: ErrorCode.UNAVAILABLE, mayBeStored: true, attempts: 2 });
    expect(error.message).toMatch(/an earlier attempt may have stored the message/);
    await producer.shutdown({ timeoutMs: 100 });
  });

  it('a broker that never answered anything cannot have stored the message: no route, no send', async () => {
    const transport = scriptedTransport(
      [async () => Promise.reject(grpcError(14, 'No connection established'))],
      0,
    );
    const producer = createProducer({
      endpoints: '127.0.0.1:1',
      transportFactory: () => transport,
      retry: { maxAttempts: 1 },
    });
    const error = (await producer
      .send({ topic: 'orders', body: 'x' })
      .catch((e: unknown) => e)) as RocketMQError;
    expect(error).toMatchObject({ code: ErrorCode.UNAVAILABLE, mayBeStored: false });
    expect(error.message).toMatch(/never reached the broker/);
    await producer.shutdown({ timeoutMs: 100 });
  });

  it('an async send that a drain expires while it waited its turn says it was never sent', async () => {
    const never = scriptedTransport([() => new Promise<TransportReceipt>(() => undefined)]);
    const producer = createProducer({
      endpoints: '127.0.0.1:1',
      transportFactory: () => never,
      maxConcurrentSends: 1,
    });
    const outcomes = new Map<string, RocketMQError>();
    for (let i = 0; i < 3; i++) {
      producer.sendAsync(
        { topic: 'orders', keys: [`k${i}`], body: `${i}` },
        { onSuccess: () => undefined, onException: (f) => outcomes.set(`k${i}`, f.exception) },
      );
    }
    await producer.drain({ timeoutMs: 50 });
    // The first was on the wire; the other two never left the queue.
    expect(
      ['k0', 'k1', 'k2'].map((key) => [outcomes.get(key)?.code, outcomes.get(key)?.mayBeStored]),
    ).toEqual([
      [ErrorCode.TIMEOUT, true],
      [ErrorCode.TIMEOUT, false],
      [ErrorCode.TIMEOUT, false],
    ]);
    await producer.shutdown({ timeoutMs: 50 });
  });
});
