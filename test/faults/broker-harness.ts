/**
 * The fault suite's broker: the embedded broker in a child process (broker-child.ts), driven over IPC,
 * that can be killed with SIGKILL and started again on the same port.
 *
 * The embedded broker keeps messages in memory, so whatever an incarnation stored dies with it. What
 * survives is the parent's ledger: the messages each incarnation reported as stored, over IPC while it
 * lived and in its ledger file (written synchronously before each ack, read back here once the process
 * is gone). "Stored" in the fault suite means "in the ledger of some incarnation"; a consumer can only
 * read back what the current incarnation holds.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BrokerStats, TopicMessageType } from '../../infra/local-broker/index.js';
import type { BrokerChildConfig, BrokerCommand, BrokerReport } from './broker-child.js';

const CHILD = fileURLToPath(new URL('./broker-child.ts', import.meta.url));
const START_TIMEOUT_MS = 20_000;
const COMMAND_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** One message as an incarnation reported it. */
export interface StoredEntry {
  incarnation: number;
  topic: string;
  keys: string[];
  messageId: string;
  /** `file` when the IPC report was lost with the process and only the ledger file had it. */
  source: 'ipc' | 'file';
}

const STORED_LINE = /^stored topic=(\S+) type=\S+ tag=\S+ keys=(\S+) id=(\S+) size=\d+$/;

function parseStored(line: string, incarnation: number, source: StoredEntry['source']): StoredEntry {
  const match = STORED_LINE.exec(line);
  if (!match) throw new Error(`unexpected ledger line from the broker: ${line}`);
  const [, topic = '', keys = '-', messageId = ''] = match;
  return { incarnation, topic, keys: keys === '-' ? [] : keys.split(','), messageId, source };
}

/** All processes forked by this module, so a failed test cannot leave one behind. */
const live = new Set<ChildProcess>();

export function killAllBrokerChildren(): void {
  for (const child of live) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  live.clear();
}

class Incarnation {
  readonly number: number;
  readonly child: ChildProcess;
  readonly ledgerFile: string;
  readonly stored: StoredEntry[] = [];
  readonly #ids = new Set<string>();
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #nextId = 1;
  #stderr = '';
  readonly exited: Promise<void>;
  endpoint = '';
  port = 0;

  constructor(number: number, config: BrokerChildConfig) {
    this.number = number;
    this.ledgerFile = config.ledgerFile;
    // node directly (never npx), so that the signal reaches the broker's own process.
    this.child = fork(CHILD, [JSON.stringify(config)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' },
    });
    live.add(this.child);
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    this.exited = once(this.child, 'exit').then(() => {
      live.delete(this.child);
      for (const { reject } of this.#pending.values()) reject(new Error(`broker #${number} exited`));
      this.#pending.clear();
    });
    this.child.on('message', (message: BrokerReport) => {
      if (message.kind === 'stored') this.#record(message.line, 'ipc');
      else if (message.kind === 'reply') {
        const waiter = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        if (message.error) waiter?.reject(new Error(message.error));
        else waiter?.resolve(message.result);
      }
    });
  }

  #record(line: string, source: StoredEntry['source']): void {
    const entry = parseStored(line, this.number, source);
    if (this.#ids.has(entry.messageId)) return;
    this.#ids.add(entry.messageId);
    this.stored.push(entry);
  }

  get stderr(): string {
    return this.#stderr;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async ready(): Promise<void> {
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (message: BrokerReport) => {
        if (message.kind === 'ready') {
          this.endpoint = message.endpoint;
          this.port = message.port;
          resolve();
        } else if (message.kind === 'fatal') reject(new Error(`broker #${this.number}: ${message.error}`));
      };
      this.child.on('message', onMessage);
      void this.exited.then(() =>
        reject(new Error(`broker #${this.number} exited before it listened: ${this.#stderr}`)),
      );
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`broker #${this.number} did not listen within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([ready, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  command(op: BrokerCommand['op'], extra: { ms?: number } = {}): Promise<unknown> {
    if (!this.alive) return Promise.reject(new Error(`broker #${this.number} is not running`));
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`broker #${this.number} did not answer ${op} within ${COMMAND_TIMEOUT_MS} ms`));
      }, COMMAND_TIMEOUT_MS);
      this.#pending.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ id, op, ...extra } as BrokerCommand);
    });
  }

  /** Once the process is gone: adds what only the ledger file knew. */
  mergeLedgerFile(): void {
    let text = '';
    try {
      text = readFileSync(this.ledgerFile, 'utf8');
    } catch {
      return;
    }
    // A line cut by the kill has no newline yet; writeSync of one short line is not split in practice.
    for (const line of text.split('\n')) if (line.startsWith('stored ')) this.#record(line, 'file');
  }

  async kill(): Promise<void> {
    if (this.alive) this.child.kill('SIGKILL');
    await this.exited;
    this.mergeLedgerFile();
  }

  async stop(): Promise<void> {
    if (this.alive) {
      const timer = setTimeout(() => this.child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await this.command('stop').catch(() => this.child.kill('SIGKILL'));
      await this.exited;
      clearTimeout(timer);
    }
    this.mergeLedgerFile();
  }
}

export interface FaultBrokerOptions {
  /** Directory for the ledger files (one per incarnation). */
  dir: string;
  extraTopics?: Record<string, TopicMessageType>;
  credentials?: Record<string, string>;
  validateMessageType?: boolean;
  /** Response delay every incarnation starts with (and `reset()` returns to). @default 0 */
  delayMs?: number;
}

/** The broker across its incarnations: kill, restart on the same port, fault commands, the ledger. */
export class FaultBroker {
  readonly #options: FaultBrokerOptions;
  readonly incarnations: Incarnation[] = [];

  private constructor(options: FaultBrokerOptions) {
    this.#options = options;
  }

  static async start(options: FaultBrokerOptions): Promise<FaultBroker> {
    const broker = new FaultBroker(options);
    await broker.#spawn(0);
    return broker;
  }

  async #spawn(port: number): Promise<void> {
    const number = this.incarnations.length + 1;
    const incarnation = new Incarnation(number, {
      port,
      ledgerFile: `${this.#options.dir}/ledger-${number}.log`,
      ...(this.#options.extraTopics && { extraTopics: this.#options.extraTopics }),
      ...(this.#options.credentials && { credentials: this.#options.credentials }),
      ...(this.#options.delayMs !== undefined && { delayMs: this.#options.delayMs }),
      ...(this.#options.validateMessageType !== undefined && {
        validateMessageType: this.#options.validateMessageType,
      }),
    });
    this.incarnations.push(incarnation);
    await incarnation.ready();
  }

  get current(): Incarnation {
    const last = this.incarnations.at(-1);
    if (!last) throw new Error('no broker incarnation');
    return last;
  }

  get endpoint(): string {
    return this.current.endpoint;
  }

  get port(): number {
    return this.current.port;
  }

  /** SIGKILL: no drain, no goodbye; in-flight calls and the in-memory store die with the process. */
  kill(): Promise<void> {
    return this.current.kill();
  }

  /** A new incarnation on the same port (after a kill, or killing the current one first). */
  async restart(): Promise<void> {
    const { port } = this.current;
    await this.current.kill();
    await this.#spawn(port);
  }

  setDelay(ms: number): Promise<unknown> {
    return this.current.command('delay', { ms });
  }

  freezeConnections(): Promise<unknown> {
    return this.current.command('freeze');
  }

  reset(): Promise<unknown> {
    return this.current.command('reset');
  }

  /** The broker's counters; every message stored before the call has been reported when it resolves. */
  async stats(): Promise<BrokerStats> {
    return (await this.current.command('stats')) as BrokerStats;
  }

  /** Every message every incarnation reported as stored, optionally of one topic. */
  ledger(topic?: string): StoredEntry[] {
    const all = this.incarnations.flatMap((incarnation) => incarnation.stored);
    return topic === undefined ? all : all.filter((entry) => entry.topic === topic);
  }

  async close(): Promise<void> {
    await this.current.stop();
    for (const incarnation of this.incarnations) if (incarnation.alive) await incarnation.kill();
  }
}
