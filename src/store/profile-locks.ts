import type pg from 'pg';

/** Releases a held lock; never throws. */
export type Release = () => Promise<void>;

/** Keeps two syncs of one profile from interleaving. */
export interface ProfileLocks {
  /** The release function, or undefined when `wait` is false and someone else holds the lock. */
  acquire(source: string, wait: boolean): Promise<Release | undefined>;
  /** Whether nobody (in any process sharing the store) holds the lock right now. */
  isFree(source: string): Promise<boolean>;
}

/**
 * Postgres session advisory locks, so that replicas sharing a database exclude each other too. Each holder gets
 * its own connection for the duration (a session lock lives as long as its session): borrowing one from the
 * query pool would let waiting holders starve the sync they wait for. If that connection dies, Postgres drops
 * the lock; the sync's own transaction is atomic, so the worst case is a second run that finds nothing to do.
 */
export class AdvisoryLocks implements ProfileLocks {
  readonly #schema: string;
  readonly #connect: () => Promise<pg.Client>;

  constructor(schema: string, connect: () => Promise<pg.Client>) {
    this.#schema = schema;
    this.#connect = connect;
  }

  #key(source: string): string {
    return JSON.stringify(['ldapsync', this.#schema, source]);
  }

  async acquire(source: string, wait: boolean): Promise<Release | undefined> {
    const client = await this.#connect();
    const key = this.#key(source);
    try {
      if (wait) {
        await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [key]);
      } else {
        const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked', [key]);
        if (rows[0]?.locked !== true) {
          await client.end().catch(() => undefined);
          return undefined;
        }
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      // Ending the session releases the lock even if the unlock statement fails.
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
      await client.end().catch(() => undefined);
    };
  }

  async isFree(source: string): Promise<boolean> {
    const release = await this.acquire(source, false);
    if (release === undefined) return false;
    await release();
    return true;
  }
}

/**
 * The embedded store is opened by one process only, so an in-process lock per profile excludes all others.
 * Waiters queue in arrival order.
 */
export class InProcessLocks implements ProfileLocks {
  readonly #tails = new Map<string, Promise<void>>();

  async acquire(source: string, wait: boolean): Promise<Release | undefined> {
    const previous = this.#tails.get(source);
    if (previous !== undefined && !wait) return undefined;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tail = (previous ?? Promise.resolve()).then(() => held);
    this.#tails.set(source, tail);
    await previous;
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      release();
      if (this.#tails.get(source) === tail) this.#tails.delete(source);
    };
  }

  async isFree(source: string): Promise<boolean> {
    return !this.#tails.has(source);
  }
}
