import { describe, expect, it } from 'vitest';
import { mergeRangedAttributes, parseRangedKey } from '../../src/ldap/index.js';
import { MessageDecoder } from '../../src/ldap/message-decoder.js';
import { RangeRetrievalError } from '../../src/ldap/ranged-attributes.js';
import type { Entry } from '../../src/shared/index.js';
import { searchEntry, type WireValue } from './ber.js';

/*
 * There is no Active Directory here. These responses are built byte for byte as AD sends them (MS-ADTS
 * 3.1.1.3.1.3.3, MaxValRange 1500): the first search returns `member;range=0-1499`, each follow-up base search
 * for `member;range=N-*` returns the next 1500 values, and the last chunk has a `*` upper bound. They go through
 * the same decoder as real traffic before they are merged.
 */
const GROUP_DN = 'CN=Big Group,OU=Groups,DC=example,DC=com';
const MEMBERS = Array.from({ length: 3200 }, (_, i) => `CN=User ${i},CN=Users,DC=example,DC=com`);
const GUID = Uint8Array.from([0xfc, 0xd4, 0x5a, 0x66, 0x1e, 0x3f, 0x44, 0x4a, 0xb0, 0xa9, 0x1c, 0x5e, 0x8f, 0x3d, 0x2a, 0x7b]);

function decode(attributes: ReadonlyArray<readonly [string, ReadonlyArray<WireValue>]>): Entry {
  const entries: Entry[] = [];
  new MessageDecoder({ entry: (_, entry) => entries.push(entry), reference: () => undefined, result: () => undefined }).feed(searchEntry(4, GROUP_DN, attributes));
  return entries[0] as Entry;
}

const first = decode([
  ['objectGUID', [GUID]],
  ['cn', ['Big Group']],
  ['member;range=0-1499', MEMBERS.slice(0, 1500)],
]);
const second = decode([['member;range=1500-2999', MEMBERS.slice(1500, 3000)]]);
const last = decode([['member;range=3000-*', MEMBERS.slice(3000)]]);

describe('Active Directory range retrieval (recorded responses; no AD here)', () => {
  it('reads range keys', () => {
    expect(parseRangedKey('member;range=0-1499')).toEqual({ name: 'member', low: 0, high: 1499 });
    expect(parseRangedKey('member;range=3000-*')).toEqual({ name: 'member', low: 3000, high: undefined });
    expect(parseRangedKey('member')).toBeUndefined();
  });

  it('says what to ask for next after the first chunk', () => {
    const merged = mergeRangedAttributes(first);
    expect([...merged.next]).toEqual([['member', 1500]]);
    expect(merged.entry.attributes.get('member')).toHaveLength(1500);
    expect(merged.entry.attributes.get('cn')).toEqual(['Big Group']);
  });

  it('merges all chunks into one member attribute, in order, and then has nothing left to ask', () => {
    const merged = mergeRangedAttributes(first, second, last);
    expect(merged.next.size).toBe(0);
    expect(merged.entry.attributes.get('member')).toEqual(MEMBERS);
    expect([...merged.entry.attributes.keys()].sort()).toEqual(['cn', 'member', 'objectguid']);
    expect(merged.entry.attributes.get('objectguid')).toEqual([GUID]);
    expect(merged.entry.dn).toBe(GROUP_DN);
  });

  it('takes an attribute that fits in one chunk (range 0-*) as complete', () => {
    const merged = mergeRangedAttributes(decode([['member;range=0-*', MEMBERS.slice(0, 10)]]));
    expect(merged.next.size).toBe(0);
    expect(merged.entry.attributes.get('member')).toEqual(MEMBERS.slice(0, 10));
  });

  it('refuses chunks that do not line up rather than returning a group with members missing', () => {
    expect(() => mergeRangedAttributes(first, last)).toThrow(RangeRetrievalError);
    expect(() => mergeRangedAttributes(second)).toThrow(/expected the range starting at 0/);
    expect(() => mergeRangedAttributes(first, decode([['cn', ['Big Group']]]))).toThrow(/member;range=1500-\* .* did not return it/);
  });
});
