import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  type MessageOptions,
  Producer,
  type ProducerOptions,
  SimpleConsumer,
  type SimpleConsumerOptions,
} from 'rocketmq-client-nodejs';
import grpcPb from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/service_grpc_pb.js';
import { afterEach } from 'vitest';
import type { LocalBroker } from '../../infra/local-broker/index.js';
import { silentLogger } from '../support/silent-logger.js';

export type MessagingClient = InstanceType<typeof grpcPb.MessagingServiceClient>;

export { silentLogger };

const openClients = new Set<{ shutdown(): Promise<unknown> }>();

/** Shuts down every client a test created, before the broker of the file is stopped in afterAll. */
export function shutDownClientsAfterEach(): void {
  afterEach(async () => {
    const clients = [...openClients];
    openClients.clear();
    await Promise.allSettled(clients.map((client) => client.shutdown()));
  });
}

/** Shuts a client down now instead of after the test. */
export async function stopClient(client: { shutdown(): Promise<unknown> }): Promise<void> {
  openClients.delete(client);
  await client.shutdown();
}

/** A bare generated gRPC client, for requests the official client never sends. */
export function rawClient(broker: LocalBroker): MessagingClient {
  const client = new grpcPb.MessagingServiceClient(broker.endpoint, credentials.createInsecure());
  openClients.add({ shutdown: async () => client.close() });
  return client;
}

export function clientMetadata(entries: Record<string, string> = {}): Metadata {
  const metadata = new Metadata();
  metadata.set('x-mq-client-id', 'raw-test-client');
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

/** Promise form of a generated unary call: `unary((done) => client.queryRoute(request, done))`. */
export function unary<Response>(
  invoke: (done: (error: ServiceError | null, response: Response) => void) => unknown,
): Promise<Response> {
  return new Promise((resolve, reject) => {
    invoke((error, response) => (error ? reject(error) : resolve(response)));
  });
}

export async function startProducer(
  broker: LocalBroker,
  options: Partial<ProducerOptions> = {},
): Promise<Producer> {
  const producer = new Producer({
    endpoints: broker.endpoint,
    namespace: '',
    logger: silentLogger,
    ...options,
  });
  openClients.add(producer);
  await producer.startup();
  return producer;
}

export async function startConsumer(
  broker: LocalBroker,
  consumerGroup: string,
  subscriptions: Record<string, string>,
  options: Partial<SimpleConsumerOptions> = {},
): Promise<SimpleConsumer> {
  const consumer = new SimpleConsumer({
    endpoints: broker.endpoint,
    namespace: '',
    logger: silentLogger,
    consumerGroup,
    subscriptions: new Map(Object.entries(subscriptions)),
    awaitDuration: 1000,
    ...options,
  });
  openClients.add(consumer);
  await consumer.startup();
  return consumer;
}

export function message(topic: string, text: string, extra: Partial<MessageOptions> = {}): MessageOptions {
  return { topic, body: Buffer.from(text), ...extra };
}

/** The status code a client call failed with (the client hides it on `code`, or deeper on startup errors). */
export async function failureCode(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
  } catch (error) {
    let current: unknown = error;
    while (current instanceof Error) {
      const code = (current as Error & { code?: number }).code;
      if (code !== undefined) return code;
      current = current.cause;
    }
    return current instanceof Error ? current.message : String(error);
  }
  throw new Error('expected the call to fail');
}

/** Receives until `count` messages arrived or `rounds` receives came back empty-handed. */
export async function receiveAll(
  consumer: SimpleConsumer,
  count: number,
  { ack = true, invisibleMs = 15_000, batch = 32, rounds = 5 } = {},
) {
  const received = [];
  let emptyRounds = 0;
  while (received.length < count && emptyRounds < rounds) {
    const batchReceived = await consumer.receive(batch, invisibleMs);
    if (batchReceived.length === 0) emptyRounds++;
    for (const view of batchReceived) {
      received.push(view);
      if (ack) await consumer.ack(view);
    }
  }
  return received;
}
