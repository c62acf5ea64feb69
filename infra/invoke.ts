import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.js';
import { type LocalBroker, startLocalBroker } from './local-broker/index.js';

const USAGE = `Usage: npm run invoke -- -f <function> -p <event.json|-> [options]

Runs a function's handler locally the way its platform calls it, against the embedded broker unless
ROCKETMQ_ENDPOINTS is set. The result is printed as JSON on stdout; logs go to stderr.

Options:
  -f, --function <name>    order-confirmation | object-fanout | metrics-reporter | order-fulfilment
  -p, --path <file|->      the event, as a JSON file or "-" for stdin
      --platform <fc|aws>  fc (default): Buffer event + FC context; aws: Lambda event + context
                           (aws with an FC RocketMQ event: its messages go on the embedded broker
                           and a polling function runs on a scheduled event)
      --fc-http <3|2>      FC HTTP shape: 3 (default) event handler, 2 (request, response, context)
      --env-file <file>    load environment variables from a dotenv file first
      --timeout <seconds>  the function's timeout (default 60)
      --tail               print the messages the embedded broker received (stderr)
  -h, --help               this text

Exit codes: 0 success; 1 the handler failed, the event was invalid, or an HTTP status >= 400; 2 usage.`;

interface Options {
  functionName: string;
  eventPath: string;
  platform: 'fc' | 'aws';
  fcHttp: '2' | '3';
  envFile: string | undefined;
  timeoutSeconds: number;
  tail: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    args: argv,
    options: {
      function: { type: 'string', short: 'f' },
      path: { type: 'string', short: 'p' },
      platform: { type: 'string', default: 'fc' },
      'fc-http': { type: 'string', default: '3' },
      'env-file': { type: 'string' },
      timeout: { type: 'string', default: '60' },
      tail: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  if (!values.function) throw new UsageError('missing -f <function>');
  if (!values.path) throw new UsageError('missing -p <event.json|->');
  if (values.platform !== 'fc' && values.platform !== 'aws')
    throw new UsageError('--platform must be fc or aws');
  if (values['fc-http'] !== '2' && values['fc-http'] !== '3')
    throw new UsageError('--fc-http must be 2 or 3');
  const timeoutSeconds = Number(values.timeout);
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)
    throw new UsageError('--timeout must be whole seconds ≥ 1');
  return {
    functionName: values.function,
    eventPath: values.path,
    platform: values.platform,
    fcHttp: values['fc-http'],
    envFile: values['env-file'],
    timeoutSeconds,
    tail: values.tail ?? false,
  };
}

async function readEvent(path: string): Promise<Buffer> {
  if (path === '-') return buffer(process.stdin);
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(
      `cannot read the event ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseEventJson(raw: Buffer, path: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new UsageError(`event ${path} is not JSON: ${(error as Error).message}`);
  }
}

/** stdout carries only the result: everything else the process writes there is moved to stderr. */
function reserveStdout(): (text: string) => void {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  return (text) => write(text);
}

function isFailedHttp(result: unknown): boolean {
  const status = (result as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof status === 'number' && status >= 400;
}

async function invoke(options: Options, raw: Buffer, embedded: boolean): Promise<unknown> {
  const emulate = await import('./emulate.js');
  if (options.platform === 'aws') {
    const module = await emulate.loadFunction(options.functionName, 'aws');
    const { shutdownSharedProducer } = await import('../lib/index.js');
    const { shutdownSharedConsumer } = await import('../lib/consumer/index.js');
    try {
      let event = parseEventJson(raw, options.eventPath);
      // An FC RocketMQ event for a Lambda poller: its messages go on the embedded broker, then the schedule fires.
      const poller = await import('./poller-event.js');
      const messages = embedded ? poller.triggerMessages(event) : undefined;
      if (messages) {
        await poller.publish(messages);
        process.stderr.write(
          `[invoke] ${messages.length} message(s) of the RocketMQ event put on the broker; invoking on a scheduled event\n`,
        );
        event = poller.scheduledEvent(options.functionName);
      }
      return await module.handler(event, emulate.lambdaContext(options.functionName, options.timeoutSeconds));
    } finally {
      // A polling function leaves its consumer open for the next warm invocation; the CLI ends here.
      await shutdownSharedConsumer();
      await shutdownSharedProducer();
    }
  }
  const module = await emulate.loadFunction(options.functionName, 'fc');
  const context = emulate.fcContext(options.functionName, options.timeoutSeconds);
  await module.initializer?.(context);
  try {
    if (options.fcHttp === '2') {
      const event = parseEventJson(raw, options.eventPath);
      if (!emulate.isFcHttpEvent(event))
        throw new UsageError('--fc-http 2 needs an FC HTTP event (version "v1")');
      const call = emulate.fc2CallFrom(event);
      await module.handler(call.request, call.response, context);
      return await call.sent;
    }
    return await module.handler(raw, context);
  } finally {
    await module.preStop?.(context);
  }
}

function printTail(broker: LocalBroker): void {
  for (const topic of broker.topics.keys()) {
    for (const message of broker.messages(topic)) {
      const body = message.body.toString('utf8');
      process.stderr.write(
        `[broker] ${topic} tag=${message.tag ?? '-'} keys=${message.keys.join(',') || '-'} id=${message.messageId} ` +
          `${body.length > 120 ? `${body.slice(0, 117)}...` : body}\n`,
      );
    }
  }
}

async function invokeCommand(options: Options): Promise<number> {
  const printResult = reserveStdout();
  if (options.envFile) process.loadEnvFile(options.envFile);
  let broker: LocalBroker | undefined;
  try {
    const raw = await readEvent(options.eventPath);
    if (!process.env.ROCKETMQ_ENDPOINTS) {
      // `oldest`: a polling function's new consumer group reads what was put on the broker before it.
      broker = await startLocalBroker({ newGroupStart: 'oldest' });
      process.env.ROCKETMQ_ENDPOINTS = broker.endpoint;
    }
    const result = await invoke(options, raw, broker !== undefined);
    printResult(`${JSON.stringify(result ?? null, null, 2)}\n`);
    return isFailedHttp(result) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    const { code, message, name } = error as { code?: unknown; message?: string; name?: string };
    process.stderr.write(`${JSON.stringify({ errorType: name, code, errorMessage: message })}\n`);
    return 1;
  } finally {
    if (broker) {
      if (options.tail) printTail(broker);
      await broker.stop();
    }
  }
}

await runCli(USAGE, parseOptions, invokeCommand);
