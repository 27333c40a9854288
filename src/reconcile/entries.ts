import type { Skip } from './types.js';

interface Identified {
  readonly externalId: string;
  readonly dn: string;
}

export interface AcceptedEntries<T extends Identified> {
  /** Entries with an id no other entry (and no skip) shares, in directory order, by id. */
  readonly byId: ReadonlyMap<string, T>;
  /** The caller's skips followed by the entries refused here for sharing an id. */
  readonly skipped: ReadonlyArray<Skip>;
  /** How many entries the directory returned, usable or not. */
  readonly returned: number;
}

/**
 * Two entries with one id cannot both be the row with that id, and picking one by search order would make the
 * result depend on the server's whim; so every entry of a shared id is skipped and the stored row kept as is.
 * An id also named by a skip (its other entry failed to map) is treated the same way.
 */
export function acceptEntries<T extends Identified>(desired: Iterable<T>, callerSkips: ReadonlyArray<Skip>): AcceptedEntries<T> {
  const byId = new Map<string, T>();
  // Only ids seen more than once get a list: a directory of unique ids allocates nothing extra.
  const shared = new Map<string, T[]>();
  let returned = callerSkips.length;
  for (const entry of desired) {
    returned++;
    const first = byId.get(entry.externalId);
    if (first === undefined) {
      byId.set(entry.externalId, entry);
      continue;
    }
    const same = shared.get(entry.externalId);
    if (same === undefined) shared.set(entry.externalId, [first, entry]);
    else same.push(entry);
  }
  for (const skip of callerSkips) {
    if (skip.externalId === undefined) continue;
    const entry = byId.get(skip.externalId);
    if (entry !== undefined && !shared.has(skip.externalId)) shared.set(skip.externalId, [entry]);
  }

  const skipped: Skip[] = [...callerSkips];
  for (const [id, entries] of shared) {
    byId.delete(id);
    const dns = entries.map((e) => e.dn);
    for (const entry of entries) {
      const others = dns.filter((dn) => dn !== entry.dn);
      const also = others.length > 0 ? `also held by ${others.join('; ')}` : 'also held by an entry that was skipped';
      skipped.push({ kind: 'duplicate-id', dn: entry.dn, externalId: id, reason: `id ${JSON.stringify(id)} is ${also}` });
    }
  }
  return { byId, skipped, returned };
}

/** Matches stored rows to skipped entries: by id when the skip knows it, else by DN (case-insensitively). */
export class SkipIndex {
  readonly #ids = new Set<string>();
  readonly #dns = new Set<string>();

  constructor(skips: ReadonlyArray<Skip>) {
    for (const skip of skips) {
      if (skip.externalId !== undefined) this.#ids.add(skip.externalId);
      this.#dns.add(skip.dn.toLowerCase());
    }
  }

  covers(row: Identified): boolean {
    return this.#ids.has(row.externalId) || this.#dns.has(row.dn.toLowerCase());
  }
}
