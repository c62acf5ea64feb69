import { AsyncLocalStorage } from 'node:async_hooks';
import type { PendingSend } from './producer/pending.js';
import { parseTraceparent } from './triggers/traceparent.js';

/**
 * What belongs to one invocation while it runs, carried across awaits:
 * - the W3C `traceparent` of the work in progress, so every message sent while handling a traced
 *   request carries it and consumers can continue the trace. The platform wrappers set it from the
 *   incoming HTTP header or the platform's own trace id; without OpenTelemetry this is the whole
 *   mechanism, with it the bridge replaces the value by the send span's own context;
 * - the async and oneway sends it started, so its drain waits for, and expires, only its own sends when
 *   one instance serves several requests at once (FC instance concurrency).
 */
export interface InvocationScope {
  traceparent: string | undefined;
  readonly sends: Set<PendingSend>;
}

const storage = new AsyncLocalStorage<InvocationScope>();

/** Runs `work` as one invocation: the sends it starts are its own. */
export function runInvocation<T>(work: (scope: InvocationScope) => T): T {
  const scope: InvocationScope = { traceparent: undefined, sends: new Set() };
  return storage.run(scope, () => work(scope));
}

export function currentInvocation(): InvocationScope | undefined {
  return storage.getStore();
}

/**
 * The producer's `track` hook for the invocation scope: counts a send with the invocation that started
 * it, if any, until it settles.
 */
export function trackInInvocation(send: PendingSend): (() => void) | undefined {
  const scope = storage.getStore();
  if (!scope) return undefined;
  scope.sends.add(send);
  return () => {
    scope.sends.delete(send);
  };
}

export function runWithTraceparent<T>(traceparent: string | undefined, work: () => T): T {
  if (traceparent === undefined) return work();
  const current = storage.getStore();
  return storage.run({ traceparent, sends: current?.sends ?? new Set() }, work);
}

export function currentTraceparent(): string | undefined {
  return storage.getStore()?.traceparent;
}

/**
 * Lambda's X-Ray header (`Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`)
 * carries the same ids as a W3C traceparent: the root's two hex parts form the trace id.
 */
export function traceparentFromXRay(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const fields = new Map(
    header.split(';').map((part) => {
      const [key, ...rest] = part.trim().split('=');
      return [key ?? '', rest.join('=')] as const;
    }),
  );
  const root = /^1-([0-9a-f]{8})-([0-9a-f]{24})$/.exec(fields.get('Root') ?? '');
  const parent = fields.get('Parent') ?? '';
  if (!root || !/^[0-9a-f]{16}$/.test(parent)) return undefined;
  const traceparent = `00-${root[1]}${root[2]}-${parent}-${fields.get('Sampled') === '1' ? '01' : '00'}`;
  return parseTraceparent(traceparent);
}
