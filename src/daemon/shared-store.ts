import type { StoreConfig } from '../config/index.js';
import type { Logger } from '../shared/index.js';
import type { Store } from '../store/index.js';

/**
 * A store that runs and requests borrow. When a reload moves to another store (a new URL or schema), the old one
 * is retired: it closes once the last sync or request that started on it has given it back, so that a running
 * sync finishes on the database it began in.
 */
export class SharedStore {
  readonly store: Store;
  /** Identifies the database: a reload to an equal key keeps this store. */
  readonly key: string;
  /** The URL without a password, and the schema: for log lines. */
  readonly label: string;
  readonly #logger: Logger;
  #borrowers = 0;
  #closed: Promise<void> | undefined;
  #whenIdle: (() => void) | undefined;

  constructor(store: Store, config: StoreConfig, logger: Logger) {
    this.store = store;
    this.key = storeKey(config);
    this.label = `${store.label} (schema ${store.schema})`;
    this.#logger = logger;
  }

  /** Borrows the store; the returned function gives it back (calling it again does nothing). */
  borrow(): () => void {
    this.#borrowers += 1;
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      this.#borrowers -= 1;
      if (this.#borrowers === 0) this.#whenIdle?.();
    };
  }

  /** Closes the store once nothing borrows it. Never throws; safe twice. */
  retire(): Promise<void> {
    if (this.#closed !== undefined) return this.#closed;
    const idle = this.#borrowers === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#whenIdle = resolve));
    this.#closed = idle.then(async () => {
      await this.store.close();
      this.#logger.info({ event: 'store.closed', store: this.label }, `closed the store ${this.label}`);
    });
    return this.#closed;
  }
}

export function storeKey(config: StoreConfig): string {
  return JSON.stringify([config.url, config.schema]);
}
