/**
 * Runs the embedded broker in a separate Node process, so its gRPC server does not share the event loop
 * (or the heap) of the producers being measured. Talks to it over an IPC channel: its counters give the
 * number of messages it stored, and its CPU time shows which side of the connection was busy.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { BrokerStats } from '../infra/local-broker/index.js';

/** A topic only the consumer spot check uses, so a fresh consumer group sees just its messages. */
export const SPOT_TOPIC = 'bench-spot';

const CHILD = fileURLToPath(new URL('./broker-child.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export interface BrokerSnapshot {
  stats: BrokerStats;
  /** user + system CPU time of the broker process since it started. */
  cpuMs: number;
  rssBytes: number;
}

export interface BrokerProcess {
  readonly endpoint: string;
  readonly pid: number;
  snapshot(): Promise<BrokerSnapshot>;
  /** `freeze`: the connections open now stop answering, new ones work; `reset`: every fault off. */
  fault(kind: 'freeze' | 'reset'): Promise<void>;
  stop(): Promise<void>;
}

type Reply = { id: number } & Partial<BrokerSnapshot> & { stopped?: boolean };

export async function startBrokerProcess(): Promise<BrokerProcess> {
  // The broker's process gets node directly (not npx) so that signals reach it.
  const child: ChildProcess = fork(CHILD, [SPOT_TOPIC], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (reply: Reply) => void>();
  let nextId = 1;
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the broker process did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the broker process exited with ${code} before it listened`));
    });
    child.on('message', (message: { ready?: boolean; endpoint?: string } & Reply) => {
      if (message.ready && message.endpoint) {
        clearTimeout(timer);
        resolve(message.endpoint);
        return;
      }
      pending.get(message.id)?.(message);
      pending.delete(message.id);
    });
  });
  const request = (type: 'stats' | 'stop' | 'freeze' | 'reset') =>
    new Promise<Reply>((resolve, reject) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, type }, (error) => {
        if (error) {
          pending.delete(id);
          reject(error);
        }
      });
    });
  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    pid: child.pid ?? -1,
    async snapshot() {
      const reply = await request('stats');
      return { stats: reply.stats as BrokerStats, cpuMs: reply.cpuMs ?? 0, rssBytes: reply.rssBytes ?? 0 };
    },
    async fault(kind) {
      await request(kind);
    },
    stop() {
      stopped ??= (async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const exited = once(child, 'exit');
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await request('stop').catch(() => child.kill('SIGTERM'));
        await exited;
        clearTimeout(timer);
      })();
      return stopped;
    },
  };
}
