import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

/** `npm run invoke -- -f order-fulfilment …` on both platforms, each with its embedded broker. */

function invoke(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'infra/invoke.ts', '-f', 'order-fulfilment', ...args],
      { env: { ...process.env, ROCKETMQ_ENDPOINTS: '', POWERTOOLS_LOG_LEVEL: 'WARN' }, timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('npm run invoke -- -f order-fulfilment', () => {
  it('FC: a CloudEvents batch from the RocketMQ trigger → the result, shipments in the tail', async () => {
    const run = await invoke(['-p', 'events/fc/rocketmq-orders.json', '--tail']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ processed: 2, failed: 0, retried: 0, deadLettered: 0 });
    expect(run.stderr.match(/\[broker\] shipments tag=ShipmentRequested/g)).toHaveLength(3);
  });

  it.each(['events/fc/rocketmq-orders-rawdata.json', 'events/fc/rocketmq-selfmanaged.json'])(
    'FC: %s too',
    async (path) => {
      const run = await invoke(['-p', path]);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ processed: 2 });
    },
  );

  it('AWS: the EventBridge schedule runs the poller, which exits cleanly when the broker is empty', async () => {
    const run = await invoke(['--platform', 'aws', '-p', 'events/aws/schedule-fulfilment.json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ processed: 0, failed: 0, retried: 0, deadLettered: 0 });
  });

  it('AWS: an FC RocketMQ event puts its messages on the broker for the poller to fulfil', async () => {
    const run = await invoke(['--platform', 'aws', '-p', 'events/fc/rocketmq-orders.json', '--tail']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/2 message\(s\) of the RocketMQ event put on the broker/);
    expect(JSON.parse(run.stdout)).toEqual({ processed: 2, failed: 0, retried: 0, deadLettered: 0 });
    expect(run.stderr.match(/\[broker\] shipments tag=ShipmentRequested/g)).toHaveLength(3);
  });

  it('a broken event exits 1 with EVENT_INVALID', async () => {
    const run = await invoke(['-p', 'events/fc/timer.json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/"code":"EVENT_INVALID"/);
  });
});
