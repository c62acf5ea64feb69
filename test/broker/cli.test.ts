import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { Producer } from 'rocketmq-client-nodejs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from './support.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// Node with tsx's loader, so that SIGTERM reaches the broker's own process: the tsx command relays
// signals to a child of its own, and on a loaded machine that relay was seen to end in exit 143.

interface Running {
  child: ChildProcess;
  lines: string[];
  /** Resolves with the first output line (stdout or stderr) matching `pattern`. */
  waitForLine(pattern: RegExp, timeoutMs?: number): Promise<string>;
  exited: Promise<{ code: number | null; at: number }>;
}

function run(args: string[], env: NodeJS.ProcessEnv = process.env): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const listeners = new Set<() => void>();
  for (const stream of [child.stdout, child.stderr]) {
    let partial = '';
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      const parts = (partial + chunk).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      for (const listener of listeners) listener();
    });
  }
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, at: Date.now() }));
  const waitForLine = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${lines.join('\n')}`));
      }, timeoutMs);
      const check = () => {
        const line = lines.find((candidate) => pattern.test(candidate));
        if (line === undefined) return;
        clearTimeout(timer);
        listeners.delete(check);
        resolve(line);
      };
      listeners.add(check);
      check();
    });
  return { child, lines, waitForLine, exited };
}

describe('npm run broker (cli.ts)', () => {
  it('prints the listening line, logs each stored message and stops on SIGTERM with exit 0', async () => {
    const broker = run([
      'infra/local-broker/cli.ts',
      '--port',
      '0',
      '--queues',
      '4',
      '--new-group-start',
      'oldest',
      '--proxy-mode',
      'local',
    ]);
    try {
      const listening = await broker.waitForLine(/listening on 127\.0\.0\.1:\d+/);
      const endpoint = /listening on (127\.0\.0\.1:\d+)/.exec(listening)?.[1] ?? '';
      const producer = new Producer({
        endpoints: endpoint,
        namespace: '',
        logger: silentLogger,
        topics: ['orders'],
      });
      await producer.startup();
      const receipt = await producer.send({
        topic: 'orders',
        tag: 'CliTag',
        keys: ['k1', 'k2'],
        body: Buffer.from('hello'),
      });
      await producer.shutdown();
      await broker.waitForLine(
        new RegExp(`^stored topic=orders type=NORMAL tag=CliTag keys=k1,k2 id=${receipt.messageId} size=5$`),
      );
    } finally {
      broker.child.kill('SIGTERM');
    }
    expect((await broker.exited).code).toBe(0);
    expect(broker.lines).toContain('stopped');
  });

  it('explains bad arguments and exits with 2', async () => {
    const badPort = run(['infra/local-broker/cli.ts', '--port', 'http']);
    const unknown = run(['infra/local-broker/cli.ts', '--prot', '1']);
    const credentials = run(['infra/local-broker/cli.ts', '--credentials', 'only-a-key']);
    const start = run(['infra/local-broker/cli.ts', '--new-group-start', 'end']);
    const queues = run(['infra/local-broker/cli.ts', '--queues', '0']);
    expect((await badPort.exited).code).toBe(2);
    expect(badPort.lines[0]).toBe('error: --port must be a number from 0 to 65535, got "http"');
    expect((await unknown.exited).code).toBe(2);
    expect(unknown.lines[0]).toMatch(/^error: Unknown option '--prot'/);
    expect((await credentials.exited).code).toBe(2);
    expect(credentials.lines[0]).toMatch(/--credentials must look like ACCESS_KEY:SECRET/);
    expect((await start.exited).code).toBe(2);
    expect(start.lines[0]).toBe('error: --new-group-start must be last or oldest, got "end"');
    expect((await queues.exited).code).toBe(2);
    expect(queues.lines[0]).toBe('error: --queues must be a number from 1 to 1024, got "0"');
    expect(badPort.lines).toContain('Usage: npm run broker -- [options]');
  });

  it('prints usage for --help and reports a bad topics file', async () => {
    const help = run(['infra/local-broker/cli.ts', '--help']);
    const badTopics = run(['infra/local-broker/cli.ts', '--port', '0', '--topics', 'package.json']);
    expect((await help.exited).code).toBe(0);
    expect(help.lines[0]).toBe('Usage: npm run broker -- [options]');
    expect((await badTopics.exited).code).toBe(1);
    expect(badTopics.lines.join('\n')).toMatch(
      /^error: Topics file package\.json: topic "name" has type "rocketmq-serverless"/,
    );
  });
});

describe('process lifetime', () => {
  it('a process that used the broker, a producer and a consumer exits by itself after shutting them down', async () => {
    const child = run(['test/broker/fixtures/lifecycle.ts']);
    const done = await child.waitForLine(/^done \d+$/, 20_000);
    const { code, at } = await child.exited;
    expect(code).toBe(0);
    expect(at - Number(done.split(' ')[1])).toBeLessThan(2000);
  });
});
