import type { Profile } from '../config/index.js';
import { Directory, LdapError } from '../ldap/index.js';
import type { Logger } from '../shared/index.js';

/** Failures that mean the connection is no good any more (the server restarted, dropped an idle connection...). */
const CONNECTION_FAILURES: ReadonlySet<string> = new Set(['ldap.server-gone', 'ldap.closed', 'ldap.timeout', 'ldap.connection-refused']);

interface Slot {
  readonly directory: Promise<Directory>;
  users: number;
  retired: boolean;
}

interface ProfileSlots {
  readonly profile: Profile;
  readonly slots: Slot[];
  next: number;
}

/**
 * A few connections per profile bound as its service account, kept open between logins for the user searches.
 * Only searches run on them: a password is always checked by `verifyPassword` on a connection of its own, which
 * is closed right after, so a pooled connection is never bound as a user and never carries one user's identity
 * into the next search. Searches are multiplexed (LDAP message ids), so a handful of connections serve many
 * concurrent logins.
 *
 * A profile is keyed by its object: a config reload brings new profile objects, and the connections of the old
 * one are closed once the searches running on them end.
 */
export class DirectoryPool {
  readonly #size: number;
  readonly #profiles = new Map<string, ProfileSlots>();
  #closed = false;

  constructor(options: { readonly size?: number } = {}) {
    this.#size = Math.max(1, options.size ?? 2);
  }

  /**
   * Runs `fn` with a service-bound directory of the profile. A pooled connection that turns out to be dead is
   * replaced and `fn` runs once more on a fresh one; a fresh one failing means the server is really unreachable.
   */
  async use<T>(profile: Profile, logger: Logger, fn: (directory: Directory) => Promise<T>): Promise<T> {
    const first = this.#take(profile, logger);
    try {
      return await this.#run(first, fn);
    } catch (err) {
      if (!(err instanceof LdapError) || !CONNECTION_FAILURES.has(err.code) || first.fresh) throw err;
      logger.info({ event: 'auth.ldap_reconnect', profile: profile.name, code: err.code }, `a kept LDAP connection of ${profile.name} failed (${err.code}); reconnecting`);
      this.#discard(profile, first.slot);
      return this.#run(this.#take(profile, logger), fn);
    }
  }

  /**
   * Keeps the connections of these profiles only: after a reload, those of profiles that were removed or changed
   * are closed (once their searches end) instead of waiting for a login that may never come.
   */
  retain(profiles: Iterable<Profile>): void {
    const current = new Set(profiles);
    for (const [name, entry] of this.#profiles) {
      if (current.has(entry.profile)) continue;
      this.#profiles.delete(name);
      for (const slot of entry.slots) this.#retire(slot);
    }
  }

  /** Closes every connection. Safe twice; never throws. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#profiles.values()].flatMap((p) => p.slots);
    this.#profiles.clear();
    await Promise.all(all.map((slot) => closeSlot(slot)));
  }

  async #run<T>(taken: { readonly slot: Slot }, fn: (directory: Directory) => Promise<T>): Promise<T> {
    const { slot } = taken;
    slot.users += 1;
    try {
      return await fn(await slot.directory);
    } finally {
      slot.users -= 1;
      if (slot.retired && slot.users === 0) void closeSlot(slot);
    }
  }

  #take(profile: Profile, logger: Logger): { readonly slot: Slot; readonly fresh: boolean } {
    if (this.#closed) throw new LdapError('ldap.closed', 'the authenticator was closed', { profile: profile.name, url: profile.url });
    let entry = this.#profiles.get(profile.name);
    if (entry !== undefined && entry.profile !== profile) {
      for (const slot of entry.slots) this.#retire(slot);
      entry = undefined;
    }
    if (entry === undefined) {
      entry = { profile, slots: [], next: 0 };
      this.#profiles.set(profile.name, entry);
    }
    if (entry.slots.length < this.#size) {
      const slot: Slot = { directory: Directory.open(profile, { logger }), users: 0, retired: false };
      // A slot whose connection could not be opened is dropped, so the next login tries again.
      slot.directory.catch(() => this.#discard(profile, slot));
      entry.slots.push(slot);
      return { slot, fresh: true };
    }
    const slot = entry.slots[entry.next % entry.slots.length] as Slot;
    entry.next = (entry.next + 1) % entry.slots.length;
    return { slot, fresh: false };
  }

  #discard(profile: Profile, slot: Slot): void {
    const entry = this.#profiles.get(profile.name);
    if (entry !== undefined) {
      const index = entry.slots.indexOf(slot);
      if (index >= 0) entry.slots.splice(index, 1);
    }
    this.#retire(slot);
  }

  #retire(slot: Slot): void {
    if (slot.retired) return;
    slot.retired = true;
    if (slot.users === 0) void closeSlot(slot);
  }
}

async function closeSlot(slot: Slot): Promise<void> {
  try {
    await (await slot.directory).close();
  } catch {
    // The connection never opened: nothing to close.
  }
}
