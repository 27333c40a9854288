import { createHash, hash } from 'node:crypto';
import type { GroupQuery, Profile, UserQuery } from '../config/index.js';
import { WireAttributes } from '../ldap/index.js';
import type { Entry } from '../shared/index.js';
import { ldapsyncVersion } from '../shared/package-root.js';

/**
 * Entry digests let a resync know an entry's row holds its record without mapping the entry or reading the
 * row's fields: a user row keeps the digest of the entry it was last written from (`entry_digest`), and an
 * entry with the same digest, under the same DN, makes the same record.
 *
 * A digest is the record key (below) and a SHA-256 of the entry's DN and attributes as the server sent them. The
 * record key covers everything else a record is made from: the profile, its primary domain (logins), the id
 * and username attributes, the mapping's signature, and the ldapsync version (whose code does the mapping).
 * Any change to one of them changes every key, so the next sync compares every entry in full again, and
 * writes the new digests of rows that were unchanged.
 */
export function recordKey(profile: Profile, query: UserQuery): string {
  const made = [profile.name, profile.domains[0] ?? null, query.idAttribute.toLowerCase(), query.usernameAttribute.toLowerCase(), query.mapping.signature, ldapsyncVersion()];
  return createHash('sha256').update(JSON.stringify(made)).digest('base64').slice(0, 16);
}

/**
 * The key of a group's digest: what its row is made from besides the entry (the profile, the id, name and member
 * attributes, the mapping's signature, the ldapsync version), and what its members resolved against (the
 * fingerprint of the profile's live users, `Store.memberFingerprintOf`). A user created, renamed or removed
 * changes every group's key, so the next group sync resolves every group in full again.
 */
export function groupKey(profile: Profile, query: GroupQuery, members: string): string {
  const made = [profile.name, query.idAttribute.toLowerCase(), query.nameAttribute.toLowerCase(), query.memberAttribute, query.mapping.signature, ldapsyncVersion(), members];
  return createHash('sha256').update(JSON.stringify(made)).digest('base64').slice(0, 16);
}

/**
 * The entry's digest under `key`: of its DN and its attributes, so that equal digests mean the same DN too. undefined
 * when its attributes are not the server's bytes (then it is compared in full).
 */
export function entryDigest(entry: Entry, key: string): string | undefined {
  const attributes = entry.attributes;
  if (!(attributes instanceof WireAttributes)) return undefined;
  const digest = attributes.digest();
  return digest === undefined ? undefined : `${key}:${hash('sha256', `${digest} ${entry.dn}`, 'base64')}`;
}

