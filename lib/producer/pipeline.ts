import { clientLoggerAdapter, getLogger, type LibraryLog, libraryLog } from '../log.js';
import type { PreparedMessage } from '../message.js';
import type { RedeliverOptions, RedeliverReport, Spool } from '../spool/spool.js';
import { AdmissionGate } from './admission.js';
import { DrainPlan, SpoolWriter } from './drain-plan.js';
import { SendObserver } from './observe.js';
import type { resolveProducerOptions } from './options.js';
import { outcomeError, refusalError, type SendOutcome } from './outcome.js';
import { drainPending, type PendingSend } from './pending.js';
import { RetryingSender } from './retry.js';
import { type JobContext, SendJob, tellCallback } from './send-job.js';
import { type ProducerStats, StatsRecorder } from './stats.js';
import { createClientTransport, type Transport } from './transport.js';
import type { DrainResult, SendCallback } from './types.js';

/**
 * Everything between a prepared message and its outcome: the transport, the retry policy, the one
 * admission gate for async and oneway sends, one {@link SendJob} per pending send, the spool their
 * failures go to, and the books a drain reads.
 */
export class SendPipeline {
  readonly spool: Spool | undefined;
  readonly transport: Transport;
  readonly logger: LibraryLog;
  readonly #stats = new StatsRecorder();
  readonly #pending = new Set<PendingSend>();
  readonly #observer: SendObserver;
  readonly #sender: RetryingSender;
  readonly #drainPlan: DrainPlan;
  readonly #context: JobContext;
  readonly #sendTimeoutMs: number;
  readonly #maxBodyBytes: number;

  constructor(options: ReturnType<typeof resolveProducerOptions>) {
    const { config, spool, maxInFlight, maxInFlightBytes, maxConcurrentSends, track } = options;
    const limits = { maxInFlight, maxInFlightBytes, maxConcurrentSends };
    this.#sendTimeoutMs = config.sendTimeoutMs;
    this.#maxBodyBytes = config.maxBodyBytes;
    this.logger = libraryLog(options.logger ?? getLogger());
    this.spool = spool;
    const gate = new AdmissionGate(limits, config.sendTimeoutMs);
    this.#drainPlan = new DrainPlan({
      spool: this.spool,
      spoolReserveMs: options.spoolReserveMs,
      sendTimeoutMs: config.sendTimeoutMs,
      stalledFor: () => gate.stalledFor(),
    });
    this.transport = (options.transportFactory ?? createClientTransport)(
      config,
      clientLoggerAdapter(this.logger),
    );
    this.#observer = new SendObserver(this.logger, this.#stats);
    this.#sender = new RetryingSender(this.transport, config, this.#observer, this.#stats, this.logger);
    const spoolWriter = this.spool && new SpoolWriter(this.spool, this.logger);
    this.#context = {
      gate,
      sender: this.#sender,
      observer: this.#observer,
      sendTimeoutMs: config.sendTimeoutMs,
      maxAttempts: config.retry.maxAttempts,
      refusal: (reason, topic) => refusalError(reason, topic, limits, config.sendTimeoutMs),
      persist: spoolWriter && ((message, error, done) => spoolWriter.persist(message, error, done)),
      pending: this.#pending,
      track,
      tell: (callback, outcome, topic) => this.#tell(callback, outcome, topic),
    };
  }

  /** A sync send (or a resend from the spool): retried within `deadline`, outside the gate. */
  async deliver(message: PreparedMessage, deadline: number): Promise<SendOutcome> {
    const started = this.#observer.start(message, 'sync');
    const { trace } = started;
    const outcome = await this.#sender.deliver(started.message, trace, deadline, this.#context.maxAttempts);
    if (outcome.ok) this.#observer.success(trace, outcome.result.messageId, outcome.result.attempts);
    else this.#observer.failure(trace, outcome.error, outcome.attempts);
    return outcome;
  }

  /** Starts an async or oneway send through the gate; its outcome reaches `callback`, if any. */
  start(message: PreparedMessage, mode: 'async' | 'oneway', deadline: number, callback?: SendCallback): void {
    const started = this.#observer.start(message, mode);
    new SendJob(started.message, started.trace, { mode, deadline, callback }, this.#context).start();
  }

  /**
   * Resends what the spool holds, each resend a sync send bounded by the send timeout and by the
   * caller's deadline; records are checked again against the body limit before they are resent.
   */
  redeliver(options: RedeliverOptions | undefined): Promise<RedeliverReport> {
    if (!this.spool)
      return Promise.resolve({ delivered: 0, failed: 0, rejected: 0, quarantined: 0, remaining: 0 });
    const bound = options?.deadline ?? Number.POSITIVE_INFINITY;
    return this.spool.redeliver(
      async (message) => {
        const outcome = await this.deliver(message, Math.min(Date.now() + this.#sendTimeoutMs, bound));
        if (outcome.ok) return outcome.result;
        throw outcomeError(outcome);
      },
      { maxBodyBytes: this.#maxBodyBytes, ...options },
    );
  }

  /** Drains `sends` (default: every pending send of this pipeline) by `deadline`. */
  async drain(deadline: number, sends: ReadonlySet<PendingSend> = this.#pending): Promise<DrainResult> {
    const result = await drainPending(sends, this.#drainPlan.window(sends.size, deadline));
    if (result.expiredAsync + result.droppedOneway + result.notPersisted > 0) {
      this.logger.warn({ message: 'drain deadline reached with sends still open', ...result });
    }
    return result;
  }

  stats(): ProducerStats {
    return this.#stats.snapshot(this.#pending.size);
  }

  #tell(callback: SendCallback, outcome: SendOutcome, topic: string): void {
    try {
      tellCallback(callback, outcome, topic);
    } catch (error) {
      this.#stats.callbackErrors++;
      this.logger.error({ message: 'a send callback threw; the producer ignored it', error: error as Error });
    }
  }
}
