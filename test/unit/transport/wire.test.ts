import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GrpcCallError, GrpcStatus } from '../../../lib/transport/errors.js';
import {
  decodeGrpcMessage,
  frame,
  grpcTimeout,
  httpStatusToGrpc,
  unframe,
} from '../../../lib/transport/lean/wire.js';

describe('gRPC message frames', () => {
  it('unframes what it framed, however the answer is cut into chunks', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.array(fc.nat(305), { maxLength: 4 }),
        (body, cuts) => {
          const framed = frame(body);
          expect(framed.subarray(0, 5)).toEqual(Buffer.from([0, ...beUint32(body.length)]));
          const points = [...new Set(cuts.map((cut) => Math.min(cut, framed.length)))].sort((a, b) => a - b);
          const chunks = [0, ...points].map((start, index) =>
            framed.subarray(start, points[index] ?? framed.length),
          );
          expect(Buffer.from(unframe(chunks))).toEqual(Buffer.from(body));
        },
      ),
    );
  });

  it.each([
    ['no frame header', Buffer.from([0, 0, 0]), 'answer has no message frame'],
    ['a compressed frame', Buffer.from([1, 0, 0, 0, 0]), 'answer is compressed, which was not negotiated'],
    ['a frame shorter than its length', Buffer.from([0, 0, 0, 0, 9, 1, 2]), 'answer frame is cut short'],
  ])('refuses an answer with %s as INTERNAL, written', (_case, data, message) => {
    const error = catchError(() => unframe([data]));
    expect(error).toBeInstanceOf(GrpcCallError);
    expect(error).toMatchObject({ code: GrpcStatus.INTERNAL, details: message, requestWritten: true });
  });
});

describe('gRPC headers', () => {
  it('sends the timeout in whole milliseconds, rounded up, at least 1', () => {
    expect([grpcTimeout(0), grpcTimeout(-5), grpcTimeout(0.2), grpcTimeout(1500)]).toEqual([
      '1m',
      '1m',
      '1m',
      '1500m',
    ]);
  });

  it("maps HTTP answers to gRPC's status for them", () => {
    const statuses = [400, 401, 403, 404, 429, 502, 503, 504, 500, 418];
    expect(statuses.map(httpStatusToGrpc)).toEqual([13, 16, 7, 12, 14, 14, 14, 14, 2, 2]);
  });

  it('decodes a percent-encoded grpc-message, and keeps one that is not', () => {
    expect(decodeGrpcMessage('topic%20not%20found%3A%20%E2%9C%93')).toBe('topic not found: ✓');
    expect(decodeGrpcMessage('100%')).toBe('100%');
    expect(decodeGrpcMessage(undefined)).toBe('');
    expect(decodeGrpcMessage(['a'])).toBe('');
  });
});

function beUint32(value: number): number[] {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32BE(value);
  return [...bytes];
}

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
