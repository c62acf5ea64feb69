import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, RocketMQError } from '../errors.js';
import type { PreparedMessage } from '../message.js';
import type { RedeliverOptions, RedeliverReport, Spool, SpoolRecord, SpoolSender } from './spool.js';

export const DEFAULT_SPOOL_DIR = join(tmpdir(), 'rocketmq-serverless-spool');
const RECORD_SUFFIX = '.json';
const PARTIAL_SUFFIX = '.partial';
const QUARANTINE_DIR = 'quarantine';
const FORMAT_VERSION = 1;
/** What the broker says about the message itself; resending it as it is cannot succeed. */
const BROKER_VERDICTS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCode.TOPIC_NOT_FOUND,
  ErrorCode.MESSAGE_TYPE_MISMATCH,
  ErrorCode.UNAUTHORIZED,
  ErrorCode.FORBIDDEN,
  ErrorCode.BAD_REQUEST,
  ErrorCode.MESSAGE_TOO_LARGE,
  ErrorCode.MESSAGE_INVALID,
]);
/** A partial file older than this was left by a process that died while writing it. */
const ABANDONED_PARTIAL_MS = 30_000;

interface StoredRecord {
  v: number;
  id: string;
  spooledAt: number;
  redeliveryAttempts: number;
  error: { code: ErrorCode; message: string };
  message: {
    topic: string;
    tag?: string;
    keys: string[];
    properties: Record<string, string>;
    body: string;
    messageGroup?: string;
    deliveryTimestamp?: number;
  };
}

function encode(record: SpoolRecord): string {
  const { message } = record;
  const stored: StoredRecord = {
    v: FORMAT_VERSION,
    id: record.id,
    spooledAt: record.spooledAt,
    redeliveryAttempts: record.redeliveryAttempts,
    error: record.error,
    message: {
      topic: message.topic,
      keys: [...message.keys],
      properties: { ...message.properties },
      body: message.body.toString('base64'),
      ...(message.tag !== undefined && { tag: message.tag }),
      ...(message.messageGroup !== undefined && { messageGroup: message.messageGroup }),
      ...(message.deliveryTimestamp !== undefined && { deliveryTimestamp: message.deliveryTimestamp }),
    },
  };
  return JSON.stringify(stored);
}

const isString = (value: unknown): value is string => typeof value === 'string';

/** Parses and checks a record; anything unexpected makes it corrupt rather than half-trusted. */
function decode(text: string): SpoolRecord {
  const raw = JSON.parse(text) as Partial<StoredRecord> | null;
  const m = raw?.message;
  const valid =
    raw !== null &&
    typeof raw === 'object' &&
    raw.v === FORMAT_VERSION &&
    isString(raw.id) &&
    typeof raw.spooledAt === 'number' &&
    typeof raw.redeliveryAttempts === 'number' &&
    isString(raw.error?.code) &&
    isString(raw.error?.message) &&
    m !== undefined &&
    isString(m.topic) &&
    isString(m.body) &&
    Array.isArray(m.keys) &&
    m.keys.every(isString) &&
    m.properties !== null &&
    typeof m.properties === 'object' &&
    Object.values(m.properties).every(isString) &&
    (m.tag === undefined || isString(m.tag)) &&
    (m.messageGroup === undefined || isString(m.messageGroup)) &&
    (m.deliveryTimestamp === undefined || typeof m.deliveryTimestamp === 'number');
  if (!valid || !raw || !m) throw new Error('record does not have the spool record shape');
  const properties: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(m.properties)) properties[key] = value;
  const message: PreparedMessage = {
    topic: m.topic,
    tag: m.tag,
    keys: m.keys,
    properties,
    body: Buffer.from(m.body, 'base64'),
    messageGroup: m.messageGroup,
    deliveryTimestamp: m.deliveryTimestamp,
  };
  return {
    id: raw.id as string,
    message,
    error: raw.error as StoredRecord['error'],
    spooledAt: raw.spooledAt as number,
    redeliveryAttempts: raw.redeliveryAttempts as number,
  };
}

export interface FileSpoolOptions {
  /** Directory of the records. @default `<os tmpdir>/rocketmq-serverless-spool`; env `ROCKETMQ_SPOOL_DIR` */
  dir?: string;
}

/**
 * One file per record. Writes go to a `.partial` file that is flushed to disk and then renamed, so a
 * crash leaves a whole record or a partial file, never a torn record. Unreadable records and abandoned
 * partial files that do not parse are moved to `quarantine/`; they are never resent and never crash a
 * redelivery.
 */
export class FileSpool implements Spool {
  readonly dir: string;
  readonly quarantineDir: string;
  #ready: Promise<void> | undefined;

  constructor(options: FileSpoolOptions = {}) {
    this.dir = options.dir ?? process.env.ROCKETMQ_SPOOL_DIR ?? DEFAULT_SPOOL_DIR;
    this.quarantineDir = join(this.dir, QUARANTINE_DIR);
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= mkdir(this.quarantineDir, { recursive: true }).then(() => undefined);
    return this.#ready;
  }

  async #write(record: SpoolRecord): Promise<void> {
    const target = join(this.dir, `${record.id}${RECORD_SUFFIX}`);
    const partial = `${target}${PARTIAL_SUFFIX}`;
    const handle = await open(partial, 'w', 0o600);
    try {
      await handle.writeFile(encode(record));
      await handle.datasync();
    } finally {
      await handle.close();
    }
    await rename(partial, target);
  }

  async append(message: PreparedMessage, error: { code: ErrorCode; message: string }): Promise<string> {
    const spooledAt = Date.now();
    // Time first so a directory listing is already in spool order.
    const id = `${spooledAt.toString().padStart(15, '0')}-${randomBytes(6).toString('hex')}`;
    try {
      await this.#ensureDirs();
      await this.#write({ id, message, error, spooledAt, redeliveryAttempts: 0 });
    } catch (cause) {
      throw new RocketMQError(ErrorCode.SPOOL_FAILED, `could not write spool record in ${this.dir}`, {
        cause,
        topic: message.topic,
      });
    }
    return id;
  }

  async #quarantine(file: string): Promise<void> {
    await this.#ensureDirs();
    await rename(join(this.dir, file), join(this.quarantineDir, file)).catch(() => undefined);
  }

  /** Promotes or quarantines partial files left by a crash; returns how many were quarantined. */
  async #recoverPartials(files: string[]): Promise<number> {
    let quarantined = 0;
    for (const file of files.filter((name) => name.endsWith(PARTIAL_SUFFIX))) {
      const path = join(this.dir, file);
      const info = await stat(path).catch(() => undefined);
      if (!info || Date.now() - info.mtimeMs < ABANDONED_PARTIAL_MS) continue;
      try {
        decode(await readFile(path, 'utf8'));
        await rename(path, path.slice(0, -PARTIAL_SUFFIX.length));
      } catch {
        await this.#quarantine(file);
        quarantined++;
      }
    }
    return quarantined;
  }

  async #scan(): Promise<{ records: SpoolRecord[]; quarantined: number }> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], quarantined: 0 };
      throw error;
    }
    let quarantined = await this.#recoverPartials(files);
    files = await readdir(this.dir);
    const records: SpoolRecord[] = [];
    for (const file of files.filter((name) => name.endsWith(RECORD_SUFFIX)).sort()) {
      try {
        records.push(decode(await readFile(join(this.dir, file), 'utf8')));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        await this.#quarantine(file);
        quarantined++;
      }
    }
    return { records, quarantined };
  }

  async list(): Promise<SpoolRecord[]> {
    return (await this.#scan()).records;
  }

  async redeliver(send: SpoolSender, options: RedeliverOptions = {}): Promise<RedeliverReport> {
    const { records, quarantined } = await this.#scan();
    const report: RedeliverReport = { delivered: 0, failed: 0, rejected: 0, quarantined, remaining: 0 };
    const limit = options.limit ?? Number.POSITIVE_INFINITY;
    let stopped = false;
    for (const record of records) {
      const attempted = report.delivered + report.failed + report.rejected;
      if (
        stopped ||
        attempted >= limit ||
        (options.deadline !== undefined && Date.now() >= options.deadline)
      ) {
        report.remaining++;
        continue;
      }
      try {
        await send(record.message);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        const code = error instanceof RocketMQError ? error.code : ErrorCode.UNKNOWN;
        await this.#write({
          ...record,
          error: { code, message },
          redeliveryAttempts: record.redeliveryAttempts + 1,
        });
        if (error instanceof RocketMQError && error.code === ErrorCode.PRODUCER_CLOSED) {
          // The sender is gone, not the message: everything from here on stays for the next call.
          report.failed++;
          stopped = true;
          continue;
        }
        // A verdict that no resend can change: kept aside with its error instead of retried forever.
        if (error instanceof RocketMQError && BROKER_VERDICTS.has(error.code)) {
          await this.#quarantine(`${record.id}${RECORD_SUFFIX}`);
          report.rejected++;
        } else {
          report.failed++;
        }
        continue;
      }
      await unlink(join(this.dir, `${record.id}${RECORD_SUFFIX}`)).catch(() => undefined);
      report.delivered++;
    }
    return report;
  }
}
