import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Fc2HttpRequest,
  fromApiGatewayV1Event,
  fromApiGatewayV2Event,
  fromFc2HttpRequest,
  fromFcHttpEvent,
  fromHttpEvent,
  type HttpRequest,
  readJsonBody,
} from '../../lib/triggers/index.js';
import { anyValue, deliver, delivery, mutate, mutations, outcome } from './arbitraries.js';
import { expectNoProtoKeys, expectValidRequest } from './invariants.js';
import { eventObject } from './load-event.js';

// 2,500 + 1,000 + 1,000 + 4,000 + 1,000 + 1,500 = 11,000 generated cases for the HTTP family.

const MAPPERS = [fromHttpEvent, fromFcHttpEvent, fromApiGatewayV1Event, fromApiGatewayV2Event] as Array<
  (event: unknown, options?: { maxBodyBytes?: number }) => HttpRequest
>;

const FIXTURES = [
  'fc/http-order.json',
  'fc/http-order-base64.json',
  'aws/apigw-v1-order.json',
  'aws/apigw-v2-order.json',
].map((name) => eventObject(name));

describe('HTTP mappers on generated input', () => {
  it('map any value to a valid request or an EventError', () => {
    fc.assert(
      fc.property(anyValue, (event) => {
        for (const map of MAPPERS)
          outcome(
            () => map(event),
            (request) => expectValidRequest(request),
          );
      }),
      { numRuns: 2500 },
    );
  });

  it('map any JSON text to a valid request or an EventError', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), (text) => {
        outcome(
          () => fromHttpEvent(text),
          (request) => expectValidRequest(request),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('map random bytes to a valid request or an EventError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        outcome(
          () => fromHttpEvent(Buffer.from(bytes)),
          (request) => expectValidRequest(request),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('map mutated fixtures to a valid request or an EventError', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: FIXTURES.length - 1 }),
        mutations,
        delivery,
        fc.nat({ max: 120 }),
        (index, steps, how, maxBodyBytes) => {
          const event = deliver(mutate(FIXTURES[index] ?? {}, steps), how);
          outcome(
            () => fromHttpEvent(event as never, { maxBodyBytes }),
            (request) => expectValidRequest(request, maxBodyBytes),
          );
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('map mutated FC 2.0 requests and random bodies to a valid request or an EventError', () => {
    const { body: _body, ...fc2 } = eventObject('fc/fc2-http-order-request.json');
    fc.assert(
      fc.property(
        mutations,
        fc.oneof(fc.uint8Array({ maxLength: 128 }), anyValue),
        fc.nat({ max: 100 }),
        (steps, body, maxBodyBytes) => {
          const request = mutate(fc2, steps) as unknown as Fc2HttpRequest;
          outcome(
            () => fromFc2HttpRequest(request, body as Buffer, { maxBodyBytes }),
            (mapped) => expectValidRequest(mapped, maxBodyBytes),
          );
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('read any body as JSON or fail with an EventError, never polluting prototypes', () => {
    const bodies = fc.oneof(
      fc.json({ maxDepth: 4 }).map((text) => Buffer.from(text)),
      fc.uint8Array({ maxLength: 128 }).map((bytes) => Buffer.from(bytes)),
      fc
        .constantFrom('{"__proto__":{"polluted":1}}', '{"constructor":{"prototype":{"polluted":1}}}')
        .map((text) => Buffer.from(text)),
    );
    const contentTypes = fc.option(
      fc.constantFrom('application/json', 'text/plain', 'application/x+json', ''),
      {
        nil: undefined,
      },
    );
    fc.assert(
      fc.property(bodies, contentTypes, (body, contentType) => {
        const headers = Object.create(null) as Record<string, string>;
        if (contentType !== undefined) headers['content-type'] = contentType;
        const request: HttpRequest = { method: 'POST', path: '/', headers, query: {}, body, platform: 'fc3' };
        outcome(
          () => readJsonBody(request),
          (value) => {
            expectNoProtoKeys(value);
            expect(({} as Record<string, unknown>).polluted).toBeUndefined();
          },
        );
      }),
      { numRuns: 1500 },
    );
  });
});
