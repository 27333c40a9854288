import { describe, expect, it } from 'vitest';
import { guidToString, identityOf, sidToString } from '../../src/ldap/index.js';
import { makeEntry } from '../../src/shared/index.js';

// objectGUID 665ad4fc-3f1e-4a44-b0a9-1c5e8f3d2a7b as AD sends it: the first three fields little-endian.
const GUID_BYTES = Uint8Array.from([0xfc, 0xd4, 0x5a, 0x66, 0x1e, 0x3f, 0x44, 0x4a, 0xb0, 0xa9, 0x1c, 0x5e, 0x8f, 0x3d, 0x2a, 0x7b]);

/** A SID laid out as MS-DTYP 2.4.2.2 says: revision, count, 48-bit big-endian authority, little-endian sub-authorities. */
function sid(authority: number, ...subAuthorities: number[]): Uint8Array {
  const bytes = Buffer.alloc(8 + 4 * subAuthorities.length);
  bytes[0] = 1;
  bytes[1] = subAuthorities.length;
  bytes.writeUIntBE(authority, 2, 6);
  subAuthorities.forEach((value, i) => bytes.writeUInt32LE(value, 8 + 4 * i));
  return bytes;
}

describe('identities', () => {
  it('turns objectGUID bytes into the canonical GUID string', () => {
    expect(guidToString(GUID_BYTES)).toBe('665ad4fc-3f1e-4a44-b0a9-1c5e8f3d2a7b');
    expect(() => guidToString(new Uint8Array(15))).toThrow(/16 bytes/);
  });

  it('turns objectSid bytes into S-1-... strings', () => {
    expect(sidToString(sid(5, 32, 544))).toBe('S-1-5-32-544');
    expect(sidToString(sid(5, 21, 1004336348, 1177238915, 682003330, 512))).toBe('S-1-5-21-1004336348-1177238915-682003330-512');
    expect(() => sidToString(Uint8Array.from([1, 5, 0]))).toThrow(/security identifier/);
  });

  it('gives the identity of an entry by its idAttribute, in any case', () => {
    const entry = makeEntry('cn=x', { entryUUID: 'd3944326-7d7e-1041-83a4-01add141a21c', objectGUID: GUID_BYTES, objectSid: sid(5, 32, 544), empty: '' });
    expect(identityOf(entry, 'entryUUID')).toBe('d3944326-7d7e-1041-83a4-01add141a21c');
    expect(identityOf(entry, 'ENTRYUUID')).toBe('d3944326-7d7e-1041-83a4-01add141a21c');
    expect(identityOf(entry, 'objectGUID')).toBe('665ad4fc-3f1e-4a44-b0a9-1c5e8f3d2a7b');
    expect(identityOf(entry, 'objectSid')).toBe('S-1-5-32-544');
    expect(identityOf(entry, 'nsUniqueId')).toBeUndefined();
    expect(identityOf(entry, 'empty')).toBeUndefined();
    expect(identityOf(makeEntry('cn=x', { someId: Uint8Array.from([1, 2, 0xab]) }), 'someId')).toBe('0102ab');
  });
});
