import { ConfigError } from '../errors.js';
import type { S3Objects } from './s3-objects.js';

/**
 * Claims on the segments of an {@link S3Spool}, so that of many redeliverers on many instances exactly
 * one works on a segment at a time. A claim is the object `<prefix>leases/<segment>/<generation>`,
 * created only if absent (`If-None-Match: *`): whoever finds generation `n` expired (or none) and
 * creates `n + 1` holds the segment. The holder renews by creating the next generation, which also
 * records how many records at the start of the segment it has delivered, so a crashed holder's
 * successor starts from there.
 */

/** A claim on a segment: the object `leases/<segment>/<generation>`, created only if absent. */
export interface Lease {
  segment: string;
  generation: number;
  expiresAt: number;
  /** Records at the start of the segment already delivered. */
  done: number;
}

const GENERATION_DIGITS = 10;
/** A claim is a line of JSON; anything much bigger is not one. */
const MAX_LEASE_BYTES = 64 * 1024;

export class S3Leases {
  readonly #objects: S3Objects;
  readonly #prefix: string;
  readonly #owner: string;
  readonly #leaseMs: number;
  #conditionalWrites: Promise<void> | undefined;

  /** `prefix` is the spool's own (`leases/` goes under it); `owner` names this spool in its claims. */
  constructor(objects: S3Objects, prefix: string, owner: string, leaseMs: number) {
    this.#objects = objects;
    this.#prefix = prefix;
    this.#owner = owner;
    this.#leaseMs = leaseMs;
  }

  #leasePrefix(segment: string): string {
    return `${this.#prefix}leases/${segment}/`;
  }

  #key(lease: Lease): string {
    return `${this.#leasePrefix(lease.segment)}${lease.generation.toString().padStart(GENERATION_DIGITS, '0')}`;
  }

  #body(lease: Lease): string {
    return JSON.stringify({ owner: this.#owner, expiresAt: lease.expiresAt, done: lease.done });
  }

  /**
   * A lease is only as good as the store's conditional create. Checked once per spool: a key created
   * with `If-None-Match: *` must refuse a second such create. A store that ignores the header (older
   * S3-compatible servers) would let two redeliverers hold one segment, so redelivery refuses to run.
   */
  checkConditionalWrites(location: string): Promise<void> {
    this.#conditionalWrites ??= (async () => {
      const key = `${this.#prefix}probe/${this.#owner}-${Date.now()}`;
      const first = await this.#objects.create(key, 'probe');
      const second = await this.#objects.create(key, 'probe');
      await this.#objects.delete(key).catch(() => undefined);
      if (!first || second) {
        throw new ConfigError(
          `the store behind ${location} does not honour conditional writes (If-None-Match: *): a second create of one key succeeded, so redeliverers could not claim segments safely; redelivery refused`,
        );
      }
    })().catch((error: unknown) => {
      this.#conditionalWrites = undefined;
      throw error;
    });
    return this.#conditionalWrites;
  }

  /** The latest claim on a segment; undefined when there is none, 'gone' when its holder just finished. */
  async current(segment: string): Promise<Lease | 'gone' | undefined> {
    const keys = await this.#objects.list(this.#leasePrefix(segment));
    const last = keys.at(-1);
    if (!last) return undefined;
    const generation = Number(last.key.slice(this.#leasePrefix(segment).length));
    const text = await this.#objects.get(last.key, MAX_LEASE_BYTES);
    // Deleted between the listing and the read: its holder finished the segment.
    if (text === undefined) return 'gone';
    try {
      if (typeof text !== 'string') throw new Error('oversized lease');
      const body = JSON.parse(text) as { expiresAt: unknown; done: unknown };
      const expiresAt = Number(body.expiresAt);
      const done = Number(body.done);
      if (
        !Number.isSafeInteger(generation) ||
        !Number.isFinite(expiresAt) ||
        !Number.isSafeInteger(done) ||
        done < 0
      ) {
        throw new Error('bad lease');
      }
      return { segment, generation, expiresAt, done };
    } catch {
      // An unreadable claim protects nothing: treat it as expired, keep its generation.
      return {
        segment,
        generation: Number.isSafeInteger(generation) ? generation : 0,
        expiresAt: 0,
        done: 0,
      };
    }
  }

  /** Takes the next generation of a segment's claim; undefined when it is held, or another got there first. */
  async claim(segment: string): Promise<Lease | undefined> {
    const current = await this.current(segment);
    if (current === 'gone') return undefined;
    const now = Date.now();
    if (current && current.expiresAt > now) return undefined;
    const lease: Lease = {
      segment,
      generation: current ? current.generation + 1 : 0,
      expiresAt: now + this.#leaseMs,
      done: current?.done ?? 0,
    };
    return (await this.#objects.create(this.#key(lease), this.#body(lease))) ? lease : undefined;
  }

  /**
   * Keeps a claim: when less than half of it is left, creates its next generation with a new expiry and
   * the progress so far. Undefined when it is lost (it expired while this redeliverer was stalled).
   */
  async renew(lease: Lease, done: number): Promise<Lease | undefined> {
    const now = Date.now();
    if (lease.expiresAt - now >= this.#leaseMs / 2) return lease;
    if (lease.expiresAt <= now) return undefined;
    const next: Lease = {
      segment: lease.segment,
      generation: lease.generation + 1,
      expiresAt: now + this.#leaseMs,
      done,
    };
    return (await this.#objects.create(this.#key(next), this.#body(next))) ? next : undefined;
  }

  /** Deletes every generation of a segment's claim up to this one (the earlier ones are expired holders'). */
  async release(lease: Lease): Promise<void> {
    for (let generation = lease.generation; generation >= 0; generation--) {
      await this.#objects.delete(this.#key({ ...lease, generation }));
    }
  }
}
