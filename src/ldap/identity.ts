import { LdapsyncError, type Entry } from '../shared/index.js';
import { WireAttributes } from './wire-attributes.js';

/**
 * The canonical string of a 16-byte GUID as Active Directory stores objectGUID: the first three fields are
 * little-endian, the last two big-endian, so bytes `fc d4 5a 66 ...` read `665ad4fc-...`.
 */
export function guidToString(bytes: Uint8Array): string {
  if (bytes.length !== 16) throw new LdapsyncError('ldap.identity', `a GUID has 16 bytes, this value has ${bytes.length}`);
  const hex = (indexes: ReadonlyArray<number>): string => indexes.map((i) => (bytes[i] as number).toString(16).padStart(2, '0')).join('');
  return [hex([3, 2, 1, 0]), hex([5, 4]), hex([7, 6]), hex([8, 9]), hex([10, 11, 12, 13, 14, 15])].join('-');
}

/** A binary security identifier (objectSid) in its string form, `S-1-5-21-...`. */
export function sidToString(bytes: Uint8Array): string {
  const count = bytes[1];
  if (bytes.length < 8 || count === undefined || bytes.length !== 8 + 4 * count) {
    throw new LdapsyncError('ldap.identity', `not a security identifier (${bytes.length} bytes)`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The identifier authority is a 48-bit big-endian number.
  const authority = view.getUint16(2) * 2 ** 32 + view.getUint32(4);
  const parts = [`S-${bytes[0] as number}`, String(authority)];
  for (let i = 0; i < count; i++) parts.push(String(view.getUint32(8 + 4 * i, true)));
  return parts.join('-');
}

/**
 * The stable identity of an entry, from its `idAttribute`: text attributes as they are (entryUUID, nsUniqueId,
 * ipaUniqueID), objectGUID and other 16-byte values as canonical GUID strings, objectSid as `S-1-...`, any
 * other bytes as lower-case hex. undefined when the entry has no (non-empty) value.
 */
export function identityOf(entry: Entry, idAttribute: string): string | undefined {
  const name = idAttribute.toLowerCase();
  const attributes = entry.attributes;
  // An entry as it came from the server is read for its id alone, its other attributes left undecoded.
  const value = attributes instanceof WireAttributes ? attributes.first(name) : attributes.get(name)?.[0];
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (value.length === 0) return undefined;
  if (name === 'objectsid') return sidToString(value);
  if (value.length === 16) return guidToString(value);
  return Buffer.from(value).toString('hex');
}
