import { parseArgs } from 'node:util';
import { runCli } from './cli.js';
import { type DevServerOptions, startDevServer } from './dev-server.js';
import { startDevObjectSpool } from './local-s3.js';

const USAGE = `Usage: npm start -- [options]

The functions on your machine: the embedded broker, order-confirmation behind a local HTTP trigger,
order-fulfilment fed from orders by its RocketMQ trigger (batches as FC delivers them), object-fanout
fed by OSS events you post, metrics-reporter on a timer, a live tail of every message the broker
stores, and a console in the browser at /_dev/ (the workflow graph, the messages, the invocations with
their log lines, a button per sample event, the producer's health and the spool).

Options:
  --port <port>            HTTP port (default 3000, 0 for any free port)
  --broker-port <port>     embedded broker port (default 8081, 0 for any free port)
  --timer-interval <s>     seconds between metrics-reporter runs, 0 to disable (default 60)
  --spool s3               the functions spool to a local S3 server (the object spool), listed at /_dev/spool
  -h, --help               this text`;

type StartOptions = Omit<DevServerOptions, 'print'> & { spool?: 's3' };

function parseOptions(argv: string[]): StartOptions | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', default: process.env.PORT ?? '3000' },
      'broker-port': { type: 'string', default: '8081' },
      'timer-interval': { type: 'string', default: '60' },
      spool: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  if (values.spool !== undefined && values.spool !== 's3')
    throw new Error(`--spool takes s3, got "${values.spool}"`);
  const number = (value: string, name: string) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < 0)
      throw new Error(`${name} must be a whole number ≥ 0, got "${value}"`);
    return parsed;
  };
  const port = (value: string, name: string) => {
    const parsed = number(value, name);
    if (parsed > 65535) throw new Error(`${name} must be a port from 0 to 65535, got "${value}"`);
    return parsed;
  };
  return {
    port: port(values.port, '--port'),
    brokerPort: port(values['broker-port'], '--broker-port'),
    timerIntervalSeconds: number(values['timer-interval'], '--timer-interval'),
    ...(values.spool === 's3' && { spool: 's3' as const }),
  };
}

async function serve({ spool, ...options }: StartOptions): Promise<number> {
  // The functions' own logs show at INFO, beside the request lines and the tail (POWERTOOLS_LOG_LEVEL=WARN
  // quietens them).
  process.env.POWERTOOLS_LOG_LEVEL ??= 'INFO';
  const objectSpool = spool === 's3' ? await startDevObjectSpool() : undefined;
  const server = await startDevServer({
    ...options,
    print: (line) => process.stdout.write(`${line}\n`),
  }).catch(async (error: unknown) => {
    await objectSpool?.stop();
    throw error;
  });
  for (const line of objectSpool?.banner(server.url) ?? []) process.stdout.write(`${line}\n`);
  const stop = () => {
    process.stdout.write('\nstopping…\n');
    server
      .close()
      .then(() => objectSpool?.stop())
      .then(
        () => process.stdout.write('stopped.\n'),
        (error: unknown) => {
          process.stderr.write(`shutdown failed: ${(error as Error).message}\n`);
          process.exitCode = 1;
        },
      );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return 0;
}

await runCli(USAGE, parseOptions, serve);
