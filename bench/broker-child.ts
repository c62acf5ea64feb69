/**
 * The embedded broker, hosted in its own process for the benchmark (started by broker-process.ts with an
 * IPC channel); never import it. Unlike the CLI it logs nothing per stored message, so the broker's own cost stays what
 * the protocol needs; it answers `stats` requests with the broker's counters and its own CPU time.
 */
import { DEFAULT_TOPICS_FILE, loadTopics, startLocalBroker } from '../infra/local-broker/index.js';

/** Keeps the broker's heap small over a long run; the counters still count every stored message. */
const MAX_MESSAGES_PER_TOPIC = 20_000;

export type BrokerRequest = { id: number; type: 'stats' | 'stop' | 'freeze' | 'reset' };

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (!send) throw new Error('broker-child.ts runs under broker-process.ts (it needs an IPC channel)');
  // Extra NORMAL topics named on the command line (broker-process.ts adds the spot-check topic).
  const extra = Object.fromEntries(process.argv.slice(2).map((topic) => [topic, 'NORMAL' as const]));
  const topics = { ...Object.fromEntries(loadTopics(DEFAULT_TOPICS_FILE)), ...extra };
  const broker = await startLocalBroker({
    port: 0,
    topics,
    maxMessagesPerTopic: MAX_MESSAGES_PER_TOPIC,
    // The read-back consumer is a fresh group reading what was sent before it.
    newGroupStart: 'oldest',
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= broker.stop();
    return stopping;
  };
  process.on('message', (request: BrokerRequest) => {
    if (request.type === 'stats') {
      const cpu = process.cpuUsage();
      send({
        id: request.id,
        stats: broker.stats(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        rssBytes: process.memoryUsage.rss(),
      });
    } else if (request.type === 'freeze' || request.type === 'reset') {
      // The connections open now go silent (as after a frozen instance), or every fault is cleared.
      if (request.type === 'freeze') broker.faults.freezeConnections();
      else broker.faults.reset();
      send({ id: request.id });
    } else if (request.type === 'stop') {
      // Answer first, then let go of the channel: with nothing else open the process exits.
      void stop().then(() => send({ id: request.id, stopped: true }, () => process.disconnect()));
    }
  });
  // The parent went away without stopping us: stop rather than linger.
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  send({ ready: true, endpoint: broker.endpoint });
}

main().catch((error: unknown) => {
  process.stderr.write(`broker-child: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
