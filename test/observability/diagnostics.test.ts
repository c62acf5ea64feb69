import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNEL_NAMES } from '../../lib/entries/diagnostics.js';
import type { ProducerOptions } from '../../lib/index.js';
import { useBroker } from '../support/broker-fixture.js';

const fixture = useBroker();
let events: Array<{ channel: string; event: Record<string, unknown> }>;
const listeners = Object.entries(CHANNEL_NAMES).map(([channel, name]) => {
  const listener = (event: unknown) => events.push({ channel, event: event as Record<string, unknown> });
  return { name, listener };
});

function producerFor(options: ProducerOptions = {}) {
  return fixture.producerFor({ retry: { baseDelayMs: 5 }, ...options });
}

/** The channels one send went through, in order. */
function sequenceOf(key: string): string[] {
  const start = events.find((e) => e.channel === 'start' && (e.event.keys as string[]).includes(key));
  if (!start) return [];
  return events.filter((e) => e.event.sendId === start.event.sendId).map((e) => e.channel);
}

function eventOf(key: string, channel: string) {
  const start = events.find((e) => e.channel === 'start' && (e.event.keys as string[]).includes(key));
  return events.find((e) => e.channel === channel && e.event.sendId === start?.event.sendId)?.event;
}

beforeEach(() => {
  events = [];
  for (const { name, listener } of listeners) subscribe(name, listener);
});
afterEach(() => {
  for (const { name, listener } of listeners) unsubscribe(name, listener);
});

describe('diagnostics channels', () => {
  it('sync success: start then success, with topic, mode, keys, message id and duration', async () => {
    const producer = producerFor();
    const result = await producer.send({ topic: 'orders', tag: 'T', keys: ['k-sync'], body: 'x' });
    expect(sequenceOf('k-sync')).toEqual(['start', 'success']);
    expect(eventOf('k-sync', 'start')).toMatchObject({
      topic: 'orders',
      mode: 'sync',
      tag: 'T',
      messageType: 'NORMAL',
    });
    const success = eventOf('k-sync', 'success');
    expect(success).toMatchObject({ messageId: result.messageId, attempts: 1, keys: ['k-sync'] });
    expect(success?.durationMs).toBeGreaterThan(0);
  });

  it('a retried send reports each failed attempt', async () => {
    const producer = producerFor();
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.failNextSends(2, 50001);
    await producer.send({ topic: 'orders', keys: ['k-retry'], body: 'x' });
    expect(sequenceOf('k-retry')).toEqual(['start', 'retry', 'retry', 'success']);
    expect(eventOf('k-retry', 'retry')).toMatchObject({
      attempt: 1,
      error: expect.objectContaining({ code: 'BROKER_INTERNAL' }),
    });
  });

  it('sync failure ends in error, with the attempt count', async () => {
    const producer = producerFor();
    await producer.send({ topic: 'orders', body: 'warm-up' });
    fixture.broker.faults.failNextSends(1, 40300);
    await expect(producer.send({ topic: 'orders', keys: ['k-fail'], body: 'x' })).rejects.toThrow();
    expect(sequenceOf('k-fail')).toEqual(['start', 'error']);
    expect(eventOf('k-fail', 'error')).toMatchObject({
      attempts: 1,
      error: expect.objectContaining({ code: 'FORBIDDEN' }),
    });
  });

  it('async failure is spooled after the error event', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diag-spool-'));
    try {
      const producer = producerFor({ spool: { dir }, retry: { maxAttempts: 1 } });
      await producer.send({ topic: 'orders', body: 'warm-up' });
      fixture.broker.faults.failNextSends(1, 50001);
      await producer.sendAsync({ topic: 'orders', keys: ['k-spool'], body: 'x' }).catch(() => undefined);
      expect(sequenceOf('k-spool')).toEqual(['start', 'error', 'spool']);
      expect(eventOf('k-spool', 'start')).toMatchObject({ mode: 'async' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('oneway: start then success; at a drain deadline, drop', async () => {
    const producer = producerFor();
    producer.sendOneway({ topic: 'metrics', keys: ['k-oneway'], body: 'x' });
    await producer.drain();
    expect(sequenceOf('k-oneway')).toEqual(['start', 'success']);
    fixture.broker.faults.delayMs = 2000;
    producer.sendOneway({ topic: 'metrics', keys: ['k-drop'], body: 'x' });
    await producer.drain({ timeoutMs: 100 });
    expect(sequenceOf('k-drop')).toEqual(['start', 'drop']);
  });

  it('publishes nothing and builds no payload when nobody subscribes', async () => {
    for (const { name, listener } of listeners) unsubscribe(name, listener);
    const producer = producerFor();
    await producer.send({ topic: 'orders', keys: ['k-quiet'], body: 'x' });
    expect(events).toEqual([]);
  });
});
