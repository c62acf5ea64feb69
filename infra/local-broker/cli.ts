import { parseArgs } from 'node:util';
import { type LocalBrokerOptions, startLocalBroker } from './index.js';

const USAGE = `Usage: npm run broker -- [options]

Runs the embedded RocketMQ 5 broker in the foreground; stop it with Ctrl-C.
Every stored message is logged on its own line.

Options:
  --port <port>          port to listen on, 0 for any free port (default 8081, the proxy's gRPC port)
  --host <address>       address to bind (default 127.0.0.1)
  --topics <file>        JSON file mapping topic names to NORMAL, FIFO, DELAY, TRANSACTION or MIXED
                         (default infra/local-broker/topics.json)
  --credentials <AK:SK>  only accept requests signed with this key pair; repeat for more pairs
  --queues <n>           queues per topic (default 8)
  --new-group-start <last|oldest>
                         where a new consumer group starts: the newest message of each queue, like
                         the proxy (default), or the oldest stored message
  --proxy-mode <cluster|local>
                         answer a multi-message send like a cluster-mode (default) or local-mode proxy
  -h, --help             show this help
`;

class UsageError extends Error {}

const ARGUMENTS = {
  port: { type: 'string' },
  host: { type: 'string' },
  topics: { type: 'string' },
  credentials: { type: 'string', multiple: true },
  queues: { type: 'string' },
  'new-group-start': { type: 'string' },
  'proxy-mode': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parseOptions(argv: string[]): LocalBrokerOptions | 'help' {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof ARGUMENTS }>>['values'];
  try {
    parsed = parseArgs({ args: argv, options: ARGUMENTS, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.help) return 'help';
  const port = Number(parsed.port ?? '8081');
  if (!/^\d+$/.test(parsed.port ?? '8081') || port > 65_535) {
    throw new UsageError(`--port must be a number from 0 to 65535, got "${parsed.port}"`);
  }
  let credentials: Record<string, string> | undefined;
  for (const pair of parsed.credentials ?? []) {
    const separator = pair.indexOf(':');
    if (separator <= 0 || separator === pair.length - 1) {
      throw new UsageError(`--credentials must look like ACCESS_KEY:SECRET, got "${pair}"`);
    }
    credentials = { ...credentials, [pair.slice(0, separator)]: pair.slice(separator + 1) };
  }
  const options: LocalBrokerOptions = { port, host: parsed.host, topics: parsed.topics, credentials };
  if (parsed.queues !== undefined) {
    if (!/^\d+$/.test(parsed.queues) || Number(parsed.queues) < 1 || Number(parsed.queues) > 1024) {
      throw new UsageError(`--queues must be a number from 1 to 1024, got "${parsed.queues}"`);
    }
    options.queuesPerTopic = Number(parsed.queues);
  }
  const start = parsed['new-group-start'];
  if (start !== undefined) {
    if (start !== 'last' && start !== 'oldest') {
      throw new UsageError(`--new-group-start must be last or oldest, got "${start}"`);
    }
    options.newGroupStart = start;
  }
  const mode = parsed['proxy-mode'];
  if (mode !== undefined) {
    if (mode !== 'cluster' && mode !== 'local') {
      throw new UsageError(`--proxy-mode must be cluster or local, got "${mode}"`);
    }
    options.proxyMode = mode;
  }
  return options;
}

async function main(): Promise<void> {
  let options: LocalBrokerOptions | 'help';
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const broker = await startLocalBroker({ ...options, log: (line) => process.stdout.write(`${line}\n`) });
  const topics = [...broker.topics].map(([name, type]) => `${name}=${type}`).join(', ');
  const auth = options.credentials ? ', signed requests only' : '';
  process.stdout.write(`rocketmq local broker listening on ${broker.endpoint} (topics: ${topics}${auth})\n`);

  const shutdown = (signal: NodeJS.Signals) => {
    process.stdout.write(`${signal} received, stopping\n`);
    process.removeListener('SIGINT', shutdown);
    process.removeListener('SIGTERM', shutdown);
    // A second signal during the stop falls back to the default action and ends the process.
    broker.stop().then(
      () => process.stdout.write('stopped\n'),
      (error: unknown) => {
        process.stderr.write(`error while stopping: ${String(error)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
