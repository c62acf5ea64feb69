/**
 * Group commit, shared by the spools: records handed over while a write is under way go out together
 * in the next one, as one segment, with at most {@link MAX_FLUSHERS} writes at a time. What a segment is
 * written to — a file, an object — is the spool's business, through `write`.
 */

/** One write holds at most this much; a larger backlog goes out in several writes. */
export const MAX_FLUSH_BYTES = 4 * 1024 * 1024;
/**
 * Writes under way at once. Two let one write while the other waits for its sync; more would only queue
 * on the same disk or connection.
 */
const MAX_FLUSHERS = 2;

interface Queued {
  line: string;
  resolve(id: string): void;
  reject(error: unknown): void;
}

/** Writes one segment of `lines`; resolves with the segment's name once it is durable. */
export type SegmentWriter = (lines: string) => Promise<string>;

export class GroupCommit {
  readonly #write: SegmentWriter;
  #queue: Queued[] = [];
  #flushers = 0;
  #scheduled = false;
  #estimateMs = 0;

  constructor(write: SegmentWriter) {
    this.#write = write;
  }

  /**
   * Queues an encoded record; resolves with its id (`<segment>:<line>`) once it is durable, or rejects
   * with what the write threw, passed through `wrap`.
   */
  append(line: string, wrap: (cause: unknown) => unknown): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.#queue.push({ line, resolve, reject: (cause) => reject(wrap(cause)) });
      this.#schedule();
    });
  }

  /**
   * Takes every queued record for a write the caller makes itself, now (a synchronous one); `written`
   * reports its outcome, with the segment's name or the error.
   */
  takeAll():
    | { lines: string; written(outcome: { name: string; ms: number } | { error: unknown }): void }
    | undefined {
    if (this.#queue.length === 0) return undefined;
    const batch = this.#queue.splice(0);
    return {
      lines: batch.map((queued) => queued.line).join(''),
      written: (outcome) => this.#settle(batch, outcome),
    };
  }

  /** The slowest recent write, decaying: storage that was slow a moment ago is likely slow still. */
  get flushEstimateMs(): number {
    return this.#estimateMs;
  }

  #settle(batch: Queued[], outcome: { name: string; ms: number } | { error: unknown }): void {
    if ('error' in outcome) {
      for (const queued of batch) queued.reject(outcome.error);
      return;
    }
    this.#estimateMs = Math.max(outcome.ms, this.#estimateMs * 0.8);
    for (const [index, queued] of batch.entries()) queued.resolve(`${outcome.name}:${index}`);
  }

  /**
   * Starts a flusher, on the next microtask so that every append of the current tick joins its write,
   * unless {@link MAX_FLUSHERS} already run.
   */
  #schedule(): void {
    if (this.#scheduled || this.#flushers >= MAX_FLUSHERS) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      if (this.#queue.length === 0) return;
      this.#flushers++;
      void this.#flushLoop().finally(() => {
        this.#flushers--;
        if (this.#queue.length > 0) this.#schedule();
      });
    });
  }

  /** One flusher: writes what is queued, one segment at a time, until the queue is empty. */
  async #flushLoop(): Promise<void> {
    while (this.#queue.length > 0) {
      let bytes = 0;
      let count = 0;
      while (count < this.#queue.length && (count === 0 || bytes < MAX_FLUSH_BYTES)) {
        bytes += (this.#queue[count] as Queued).line.length;
        count++;
      }
      const batch = this.#queue.splice(0, count);
      const started = performance.now();
      try {
        const name = await this.#write(batch.map((queued) => queued.line).join(''));
        this.#settle(batch, { name, ms: performance.now() - started });
      } catch (error) {
        this.#settle(batch, { error });
      }
    }
  }
}
