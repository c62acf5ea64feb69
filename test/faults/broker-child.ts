/**
 * One incarnation of the embedded broker, in a process of its own so that the fault suite can kill it
 * with SIGKILL. Forked by broker-harness.ts with an IPC channel; never import it (a vitest worker has an
 * IPC channel too, and would start a broker).
 *
 * Every stored message is reported twice, both times before the broker answers the producer (the
 * broker's `log` hook runs inside the SendMessage handler, ahead of the response):
 * - by a synchronous append to the ledger file named in the config. The write has reached the kernel
 *   when the hook returns, so it survives a SIGKILL that comes after the producer saw its ack;
 * - over IPC, so the parent can follow along while the process lives.
 * The parent's ledger for this incarnation is the union of both.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import {
  DEFAULT_TOPICS_FILE,
  type LocalBroker,
  loadTopics,
  startLocalBroker,
  type TopicMessageType,
} from '../../infra/local-broker/index.js';

export interface BrokerChildConfig {
  /** 0 for any free port; a restart passes the port of the incarnation before it. */
  port: number;
  /** File that receives one `stored …` line per message, synchronously. */
  ledgerFile: string;
  /** Topics on top of infra/local-broker/topics.json. */
  extraTopics?: Record<string, TopicMessageType>;
  credentials?: Record<string, string>;
  validateMessageType?: boolean;
  /** `faults.delayMs` from the start: answers lag behind storing, as on a broker that persists. */
  delayMs?: number;
}

export type BrokerCommand =
  | { id: number; op: 'delay'; ms: number }
  | { id: number; op: 'freeze' }
  | { id: number; op: 'reset' }
  | { id: number; op: 'stats' }
  | { id: number; op: 'stop' };

export type BrokerReport =
  | { kind: 'ready'; endpoint: string; port: number }
  | { kind: 'stored'; line: string }
  | { kind: 'reply'; id: number; result?: unknown; error?: string }
  | { kind: 'fatal'; error: string };

function ipc(): NonNullable<typeof process.send> {
  if (!process.send)
    throw new Error('broker-child.ts is forked by broker-harness.ts; it needs an IPC channel');
  return process.send.bind(process);
}
const send = ipc();
const report = (message: BrokerReport) => send(message);

/** Binding the port a killed incarnation held can race the kernel releasing it; try a few times. */
async function listen(config: BrokerChildConfig, log: (line: string) => void): Promise<LocalBroker> {
  const topics = { ...Object.fromEntries(loadTopics(DEFAULT_TOPICS_FILE)), ...config.extraTopics };
  for (let attempt = 1; ; attempt++) {
    try {
      return await startLocalBroker({
        port: config.port,
        topics,
        log,
        // The read-back consumer is a fresh group reading what was sent before it.
        newGroupStart: 'oldest',
        ...(config.credentials && { credentials: config.credentials }),
        ...(config.validateMessageType !== undefined && { validateMessageType: config.validateMessageType }),
      });
    } catch (error) {
      if (attempt >= 20 || !/EADDRINUSE|address already in use/i.test(String(error))) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as BrokerChildConfig;
  const ledger = openSync(config.ledgerFile, 'a');
  const broker = await listen(config, (line) => {
    writeSync(ledger, `${line}\n`);
    report({ kind: 'stored', line });
  });
  broker.faults.delayMs = config.delayMs ?? 0;
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= broker.stop().finally(() => closeSync(ledger));
    return stopping;
  };
  process.on('message', (command: BrokerCommand) => {
    const reply = (result?: unknown) => report({ kind: 'reply', id: command.id, result });
    try {
      switch (command.op) {
        case 'delay':
          broker.faults.delayMs = command.ms;
          return reply();
        case 'freeze':
          broker.faults.freezeConnections();
          return reply();
        case 'reset':
          broker.faults.reset();
          broker.faults.delayMs = config.delayMs ?? 0;
          return reply();
        case 'stats':
          // IPC keeps order: every `stored` report sent before this reply reaches the parent first.
          return reply(broker.stats());
        case 'stop':
          void stop().then(() => send({ kind: 'reply', id: command.id }, () => process.disconnect()));
          return;
      }
    } catch (error) {
      report({ kind: 'reply', id: command.id, error: String(error) });
    }
  });
  // The parent went away without stopping us: do not linger.
  process.on('disconnect', () => void stop().finally(() => process.exit(0)));
  report({ kind: 'ready', endpoint: broker.endpoint, port: broker.port });
}

main().catch((error: unknown) => {
  report({ kind: 'fatal', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
