import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { parseArgs } from 'node:util';
import { runCli, UsageError } from './cli.js';
import { type LocalBroker, startLocalBroker } from './local-broker/index.js';
import { FUNCTIONS_DIR, manifestEnvironment, readManifest } from './manifest.js';

const USAGE = `Usage: npm run invoke -- -f <function> (-p <event.json|-> | -d '<json>') [options]

Runs a function's handler locally the way its platform calls it, against the embedded broker unless
ROCKETMQ_ENDPOINTS is set: the platform's environment variables are set (Lambda's AWS_LAMBDA_*,
_HANDLER, AWS_LAMBDA_INITIALIZATION_TYPE=on-demand; FC's FC_*), then the function's own environment
from its function.json. The shell's variables win over both. The result is printed as JSON on stdout
(the error object when the handler failed or timed out); logs go to stderr.

Options:
  -f, --function <name>    a folder of functions/ with a function.json
  -p, --path <file|->      the event, as a JSON file or "-" for stdin
  -d, --data <json>        the event inline
      --platform <fc|aws>  fc (default): Buffer event + FC context; aws: Lambda event + context
                           (aws with an FC RocketMQ event: its messages go on the embedded broker
                           and a polling function runs on a scheduled event)
      --fc-http <3|2>      FC HTTP shape: 3 (default) event handler, 2 (request, response, context);
                           an FC 2.0 request sample (method, path, headers, body) is called as 2
      --env-file <file>    load environment variables from a dotenv file first
      --timeout <seconds>  the function's timeout (default: function.json's); the handler is
                           abandoned when it runs longer
      --fail-on-http-error exit 1 when an HTTP function answers with a status >= 400
      --tail               print the messages the embedded broker received (stderr)
  -h, --help               this text

Exit codes, as sam local invoke: 0 the handler returned (any HTTP status, unless
--fail-on-http-error); 1 it threw or timed out; 2 usage (bad option, unreadable or invalid JSON
event, an event of the other platform, a missing --env-file).`;

interface Options {
  functionName: string;
  eventPath: string | undefined;
  data: string | undefined;
  platform: 'fc' | 'aws';
  fcHttp: '2' | '3';
  envFile: string | undefined;
  timeoutSeconds: number | undefined;
  failOnHttpError: boolean;
  tail: boolean;
}

function parseOptions(argv: string[]): Options | undefined {
  const { values } = parseArgs({
    // npm run invoke puts a `--` first: Node 20 itself reads `--env-file` anywhere on its command line
    // (and exits 9 when the file is missing) unless a `--` comes before it.
    args: argv[0] === '--' ? argv.slice(1) : argv,
    options: {
      function: { type: 'string', short: 'f' },
      path: { type: 'string', short: 'p' },
      data: { type: 'string', short: 'd' },
      platform: { type: 'string', default: 'fc' },
      'fc-http': { type: 'string', default: '3' },
      'env-file': { type: 'string' },
      timeout: { type: 'string' },
      'fail-on-http-error': { type: 'boolean', default: false },
      tail: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  if (!values.function) throw new UsageError('missing -f <function>');
  if (values.path === undefined && values.data === undefined)
    throw new UsageError("missing the event: -p <event.json|-> or -d '<json>'");
  if (values.path !== undefined && values.data !== undefined)
    throw new UsageError('give the event once: -p or -d, not both');
  if (values.platform !== 'fc' && values.platform !== 'aws')
    throw new UsageError('--platform must be fc or aws');
  if (values['fc-http'] !== '2' && values['fc-http'] !== '3')
    throw new UsageError('--fc-http must be 2 or 3');
  let timeoutSeconds: number | undefined;
  if (values.timeout !== undefined) {
    timeoutSeconds = Number(values.timeout);
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)
      throw new UsageError('--timeout must be whole seconds ≥ 1');
  }
  return {
    functionName: values.function,
    eventPath: values.path,
    data: values.data,
    platform: values.platform,
    fcHttp: values['fc-http'],
    envFile: values['env-file'],
    timeoutSeconds,
    failOnHttpError: values['fail-on-http-error'] ?? false,
    tail: values.tail ?? false,
  };
}

async function readEvent(options: Options): Promise<Buffer> {
  if (options.data !== undefined) return Buffer.from(options.data);
  const path = options.eventPath as string;
  if (path === '-') return buffer(process.stdin);
  try {
    return await readFile(path);
  } catch (error) {
    throw new UsageError(
      `cannot read the event ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    );
  }
}

function parseEventJson(raw: Buffer, source: string): unknown {
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (error) {
    throw new UsageError(`event ${source} is not JSON: ${(error as Error).message}`);
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

/** Sets each variable the shell has not set. */
function applyEnvironment(values: Record<string, string>): void {
  for (const [name, value] of Object.entries(values)) {
    if (process.env[name] === undefined || process.env[name] === '') process.env[name] = value;
  }
}

interface Prepared {
  options: Options;
  event: unknown;
  raw: Buffer;
  source: string;
  timeoutSeconds: number;
  memory: number;
}

/** Runs the handler's call under the function's timeout, which starts when the platform calls it. */
type Timed = <T>(call: () => Promise<T>) => Promise<T>;

async function invoke(prepared: Prepared, embedded: boolean, timed: Timed): Promise<unknown> {
  const { options, raw, timeoutSeconds, memory } = prepared;
  const emulate = await import('./emulate.js');
  if (options.platform === 'aws') {
    const module = await emulate.loadFunction(options.functionName, 'aws');
    const { shutdownSharedProducer } = await import('../lib/index.js');
    const { shutdownSharedConsumer } = await import('../lib/consumer/index.js');
    try {
      let event = prepared.event;
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
      const context = emulate.lambdaContext(options.functionName, timeoutSeconds, memory);
      return await timed(() => module.handler(event, context));
    } finally {
      // A polling function leaves its consumer open for the next warm invocation; the CLI ends here.
      await shutdownSharedConsumer();
      await shutdownSharedProducer();
    }
  }
  const module = await emulate.loadFunction(options.functionName, 'fc');
  const context = emulate.fcContext(options.functionName, timeoutSeconds, memory);
  await module.initializer?.(context);
  try {
    const event = prepared.event;
    if (emulate.isFc2RequestSample(event)) {
      const call = emulate.fc2CallFromRequest(event);
      return await timed(async () => {
        await module.handler(call.request, call.response, context);
        return call.sent;
      });
    }
    if (options.fcHttp === '2') {
      if (!emulate.isFcHttpEvent(event))
        throw new UsageError('--fc-http 2 needs an FC HTTP event (version "v1") or an FC 2.0 request sample');
      const call = emulate.fc2CallFrom(event);
      return await timed(async () => {
        await module.handler(call.request, call.response, context);
        return call.sent;
      });
    }
    return await timed(() => module.handler(raw, context));
  } finally {
    await module.preStop?.(context);
  }
}

/** What a failed invocation prints as its result, in the shape Lambda and SAM use. */
function errorResult(error: unknown): Record<string, unknown> {
  const { code, message, name, stack } = error as {
    code?: unknown;
    message?: string;
    name?: string;
    stack?: string;
  };
  return {
    errorType: name ?? 'Error',
    errorMessage: message ?? String(error),
    ...(code !== undefined && { code }),
    trace: (stack ?? '')
      .split('\n')
      .slice(1, 6)
      .map((line) => line.trim()),
  };
}

class InvokeTimeout extends Error {
  override name = 'TimeoutError';
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

async function prepare(options: Options): Promise<Prepared> {
  if (options.envFile) {
    try {
      process.loadEnvFile(options.envFile);
    } catch (error) {
      throw new UsageError(
        `cannot read the env file ${options.envFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  const { listFunctions } = await import('./emulate.js');
  const known = await listFunctions();
  if (!known.includes(options.functionName))
    throw new UsageError(`unknown function "${options.functionName}"; functions: ${known.join(', ')}`);
  const manifest = await readManifest(options.functionName, FUNCTIONS_DIR);
  const source = options.data !== undefined ? '--data' : (options.eventPath as string);
  const raw = await readEvent(options);
  const event = parseEventJson(raw, source);
  const { eventPlatform } = await import('./emulate.js');
  const from = eventPlatform(event);
  if (from !== undefined && from !== options.platform) {
    const names = { fc: 'Function Compute', aws: 'AWS Lambda' };
    throw new UsageError(
      `event ${source} is a ${names[from]} event; invoke it with --platform ${from}, or give a ${names[options.platform]} event`,
    );
  }
  const timeoutSeconds = options.timeoutSeconds ?? manifest.timeout;
  const { platformEnvironment } = await import('./emulate.js');
  // Before the function loads: Powertools and the library read these when they start.
  applyEnvironment(platformEnvironment(options.platform, { ...manifest, timeout: timeoutSeconds }));
  applyEnvironment(manifestEnvironment(manifest, options.platform));
  return { options, event, raw, source, timeoutSeconds, memory: manifest.memory };
}

async function invokeCommand(options: Options): Promise<number> {
  const printResult = reserveStdout();
  let broker: LocalBroker | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const prepared = await prepare(options);
    if (!process.env.ROCKETMQ_ENDPOINTS) {
      // `oldest`: a polling function's new consumer group reads what was put on the broker before it.
      broker = await startLocalBroker({ newGroupStart: 'oldest' });
      process.env.ROCKETMQ_ENDPOINTS = broker.endpoint;
    }
    const { timeoutSeconds } = prepared;
    const timed: Timed = (call) => {
      const timedOut = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          const message =
            options.platform === 'aws'
              ? `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`
              : `Function timed out after ${timeoutSeconds} seconds`;
          reject(new InvokeTimeout(message));
        }, timeoutSeconds * 1000);
      });
      return Promise.race([call(), timedOut]);
    };
    const result = await invoke(prepared, broker !== undefined, timed);
    printResult(`${JSON.stringify(result ?? null, null, 2)}\n`);
    return options.failOnHttpError && isFailedHttp(result) ? 1 : 0;
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    const result = errorResult(error);
    printResult(`${JSON.stringify(result, null, 2)}\n`);
    const { errorType, code, errorMessage } = result;
    process.stderr.write(`${JSON.stringify({ errorType, code, errorMessage })}\n`);
    return 1;
  } finally {
    clearTimeout(timer);
    if (broker) {
      if (options.tail) printTail(broker);
      await broker.stop();
    }
  }
}

await runCli(USAGE, parseOptions, invokeCommand);
// Once the result is out the platform freezes or ends the instance: whatever the handler left running
// (an abandoned call after a timeout, a timer) does not hold the process.
process.exit();
