import type { Context } from 'aws-lambda';
import type { FcContext } from '../../../lib/platforms/fc.js';
import type { ProducerOptions } from '../../../lib/producer/producer.js';
import type { Transport } from '../../../lib/producer/transport.js';

/**
 * Fakes for the platform wrappers' unit tests: a transport that answers every send after `delayMs`
 * (no broker, no network), and the contexts FC and Lambda pass, with only the fields the wrappers read.
 */
export function fakeTransport(delayMs = 0): Transport & { sent: string[] } {
  let next = 0;
  const sent: string[] = [];
  return {
    sent,
    generation: 0,
    answers: 0,
    send: async (message) => {
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      sent.push(message.topic);
      next += 1;
      return { messageId: `fake-${next}`, offset: next };
    },
    reset: () => false,
    forgetTopic: () => undefined,
    warmUp: async () => undefined,
    close: async () => undefined,
  };
}

/** Producer options for the shared producer the wrappers create, on a fake transport. */
export function fakeProducerOptions(transport: Transport): ProducerOptions {
  return { endpoints: 'fake:8081', namespace: '', transportFactory: () => transport };
}

export function fakeFcContext(requestId: string, fields: Partial<FcContext> = {}): FcContext {
  return { requestId, function: { name: 'fake-function', timeout: 10 }, ...fields };
}

export function fakeLambdaContext(awsRequestId: string, remainingMs = 10_000): Context {
  const deadline = Date.now() + remainingMs;
  return {
    awsRequestId,
    functionName: 'fake-function',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:fake-function',
    memoryLimitInMB: '128',
    logGroupName: '/aws/lambda/fake-function',
    logStreamName: 'fake-stream',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * Collects the JSON lines Powertools writes to stdout and stderr while `work` runs, at `level` on the shared
 * logger (the tests run it SILENT otherwise).
 */
export async function captureLogLines<T>(
  logger: { getLevelName(): string; setLogLevel(level: never): void },
  level: string,
  work: () => Promise<T>,
): Promise<{ result: T; records: Record<string, unknown>[] }> {
  const lines: string[] = [];
  const before = logger.getLevelName();
  logger.setLogLevel(level as never);
  // Powertools writes DEBUG and INFO to stdout, WARN and ERROR to stderr.
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as typeof stream.write;
  }
  try {
    const result = await work();
    const records = lines
      .flatMap((chunk) => chunk.split('\n'))
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    return { result, records };
  } finally {
    streams.forEach((stream, index) => {
      stream.write = writes[index] as typeof stream.write;
    });
    logger.setLogLevel(before as never);
  }
}
