import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm start -- --spool s3` as a user runs it (a child process): the functions spool to a local S3
 * server, /_dev/spool lists what is there, and a message spooled while the broker refuses sends comes
 * back through spool-redeliver once it accepts them again.
 */

const ROOT = resolve(import.meta.dirname, '..', '..');
let child: ChildProcess;
let output = '';
let url: string;

async function waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  const started = Date.now();
  for (;;) {
    const match = pattern.exec(output);
    if (match) return match;
    if (child.exitCode !== null) throw new Error(`npm start exited ${child.exitCode}:\n${output}`);
    if (Date.now() - started > timeoutMs) throw new Error(`no ${pattern} in:\n${output}`);
    await once(child.stdout as NodeJS.EventEmitter, 'data');
  }
}

interface SpoolListing {
  spool: string;
  records: { topic: string; keys: string[] }[];
}

async function call<T = unknown>(method: string, path: string): Promise<{ status: number; body: T }> {
  const response = await fetch(`${url}${path}`, { method });
  return { status: response.status, body: (await response.json()) as T };
}

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, POWERTOOLS_LOG_LEVEL: 'WARN' };
  for (const name of Object.keys(env)) {
    if (name.startsWith('ROCKETMQ_SPOOL') || name === 'ROCKETMQ_ENDPOINTS') delete env[name];
  }
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'infra/start.ts',
      '--spool',
      's3',
      '--port',
      '0',
      '--broker-port',
      '0',
      '--timer-interval',
      '0',
    ],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk: string) => {
    output += chunk;
  });
  url = (await waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1] as string;
  await waitFor(/Object spool: s3:\/\/spool\/dev\/ on a local S3 server(.|\n)*function=spool-redeliver/);
}, 90_000);

afterAll(async () => {
  if (child.exitCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

describe('npm start -- --spool s3', () => {
  it('the banner says how to watch a spooled message come back', () => {
    expect(output).toContain(`${url}/_dev/spool`);
    expect(output).toContain(`${url}/_dev/broker?sends=fail`);
    expect(output).toContain(`${url}/_dev/timer?function=spool-redeliver`);
  });

  it('/_dev/spool answers: the object spool, empty', async () => {
    expect(await call('GET', '/_dev/spool')).toEqual({
      status: 200,
      body: { spool: 's3://spool/dev/', records: [] },
    });
    expect((await call('POST', '/_dev/spool')).status).toBe(405);
    expect((await call('POST', '/_dev/broker?sends=maybe')).status).toBe(422);
  });

  it('sends refused by the broker are spooled in the bucket and come back through spool-redeliver', async () => {
    expect((await call('POST', '/_dev/broker?sends=fail')).body).toEqual({ sends: 'failing' });
    const fanout = await call('POST', '/_dev/oss');
    expect(fanout.status).toBe(200);
    expect(fanout.body).toMatchObject({ sent: 0, failed: 3, spooled: 3 });

    const spooled = await call<SpoolListing>('GET', '/_dev/spool');
    expect(spooled.body.spool).toBe('s3://spool/dev/');
    expect(spooled.body.records).toHaveLength(3);
    const keys = spooled.body.records.map((record) => record.keys[0]).sort();
    for (const record of spooled.body.records) expect(record.topic).toBe('object-events');

    expect((await call('POST', '/_dev/broker?sends=ok')).body).toEqual({ sends: 'ok' });
    const before = (await call<unknown[]>('GET', '/_dev/messages?topic=object-events')).body.length;
    const redelivered = await call('POST', '/_dev/timer?function=spool-redeliver');
    expect(redelivered.body).toEqual({
      delivered: 3,
      failed: 0,
      quarantined: 0,
      left: 0,
      spool: 's3://spool/dev/',
    });
    const stored = (await call<{ keys: string[] }[]>('GET', '/_dev/messages?topic=object-events')).body;
    expect(
      stored
        .slice(before)
        .map((m) => m.keys[0])
        .sort(),
    ).toEqual(keys);
    expect((await call<SpoolListing>('GET', '/_dev/spool')).body.records).toEqual([]);
  }, 90_000);

  it('stops on SIGTERM with the S3 server, exit 0', async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code, output).toBe(0);
    expect(output).toMatch(/stopped\./);
  }, 60_000);
});
