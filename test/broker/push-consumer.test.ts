import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = join(root, 'node_modules/.bin/tsx');

describe('PushConsumer', () => {
  it('is assigned the topic, consumes every message and gets a failed one again with attempt 2', async () => {
    // PushConsumer logs to $HOME/logs/rocketmq whatever logger it is given: keep that out of the real home.
    const home = mkdtempSync(join(tmpdir(), 'push-consumer-home-'));
    let stdout: string;
    try {
      ({ stdout } = await promisify(execFile)(tsx, ['test/broker/fixtures/push-consumer.ts'], {
        cwd: root,
        env: { ...process.env, HOME: home },
        timeout: 40_000,
      }));
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}');
    expect(result.succeeded).toBe(5);
    expect(result.attempts).toEqual({ m0: [1], m1: [1], m2: [1, 2], m3: [1], m4: [1] });
    expect(result.rpcCalls.QueryAssignment).toBeGreaterThanOrEqual(1);
    expect(result.rpcCalls.ChangeInvisibleDuration).toBe(1);
    expect(result.rpcCalls.AckMessage).toBe(5);
    // Shutdown waits for the open long-poll, which the broker keeps short.
    expect(result.shutdownMs).toBeLessThan(6000);
  });
});
