import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { LdapDecodeError, MessageDecoder, type OperationResult } from '../../src/ldap/message-decoder.js';
import type { WireAttributes } from '../../src/ldap/wire-attributes.js';
import type { Entry } from '../../src/shared/index.js';
import { pagedResultsControl, result, searchEntry, tlv } from './ber.js';

interface Decoded {
  readonly entries: Array<{ id: number; entry: Entry }>;
  readonly results: Array<{ id: number; result: OperationResult }>;
  readonly references: Array<{ id: number; uris: ReadonlyArray<string> }>;
  readonly decoder: MessageDecoder;
}

function decoder(): Decoded {
  const entries: Decoded['entries'] = [];
  const results: Decoded['results'] = [];
  const references: Decoded['references'] = [];
  const decoder = new MessageDecoder({
    entry: (id, entry) => entries.push({ id, entry }),
    reference: (id, uris) => references.push({ id, uris }),
    result: (id, result) => results.push({ id, result }),
  });
  return { entries, results, references, decoder };
}

const ALICE: ReadonlyArray<readonly [string, ReadonlyArray<string | Uint8Array>]> = [
  ['objectClass', ['inetOrgPerson', 'posixAccount']],
  ['CN', ['Alice Andersen']],
  ['mail', ['alice@example.org', 'a.andersen@example.com']],
  ['jpegPhoto', [Uint8Array.from([0xff, 0xd8, 0x00, 0xd9])]],
  ['userCertificate;binary', [Uint8Array.from([0x30, 0x82, 0x01])]],
  ['cn;lang-nl', ['Alice']],
];
const alice = searchEntry(7, 'uid=alice,ou=people,dc=example,dc=org', ALICE);

describe('MessageDecoder', () => {
  it('decodes a search entry with lower-cased names, text values and binary values as bytes', () => {
    const { entries, decoder: d } = decoder();
    d.feed(alice);
    expect(entries).toHaveLength(1);
    const [{ id, entry }] = entries as [{ id: number; entry: Entry }];
    expect(id).toBe(7);
    expect(entry.dn).toBe('uid=alice,ou=people,dc=example,dc=org');
    expect([...entry.attributes.keys()]).toEqual(['objectclass', 'cn', 'mail', 'jpegphoto', 'usercertificate', 'cn;lang-nl']);
    expect(entry.attributes.get('mail')).toEqual(['alice@example.org', 'a.andersen@example.com']);
    expect(entry.attributes.get('jpegphoto')).toEqual([Uint8Array.from([0xff, 0xd8, 0x00, 0xd9])]);
    expect(entry.attributes.get('jpegphoto')?.[0]).toBeInstanceOf(Uint8Array);
    expect(entry.attributes.get('usercertificate')).toEqual([Uint8Array.from([0x30, 0x82, 0x01])]);
  });

  it('gives the same entries whatever the chunking: one byte at a time, or many messages in one chunk', () => {
    const bytes = Buffer.concat([alice, searchEntry(7, 'cn=Zoë Ångström,dc=example,dc=org', [['cn', ['Zoë Ångström']]]), result(7, 0)]);
    const whole = decoder();
    whole.decoder.feed(bytes);
    const trickle = decoder();
    for (let i = 0; i < bytes.length; i++) trickle.decoder.feed(bytes.subarray(i, i + 1));
    const view = (d: Decoded): unknown => d.entries.map(({ entry }) => [entry.dn, [...entry.attributes]]);
    expect(view(trickle)).toEqual(view(whole));
    expect(trickle.entries.map((e) => e.entry.dn)).toEqual(['uid=alice,ou=people,dc=example,dc=org', 'cn=Zoë Ångström,dc=example,dc=org']);
    expect(trickle.results).toHaveLength(1);
  });

  it('reads long-form lengths: an attribute with 3,000 values in a 100 kB message', () => {
    const members = Array.from({ length: 3000 }, (_, i) => `uid=user${String(i).padStart(6, '0')},ou=people,dc=example,dc=org`);
    const message = searchEntry(2, 'cn=everyone,ou=groups,dc=example,dc=org', [['member', members]]);
    expect(message.length).toBeGreaterThan(100_000);
    const { entries, decoder: d } = decoder();
    for (let i = 0; i < message.length; i += 16_384) d.feed(message.subarray(i, i + 16_384));
    expect(entries[0]?.entry.attributes.get('member')).toEqual(members);
  });

  it('hands on a text attribute whose value is not UTF-8 as bytes instead of changing it', () => {
    const { entries, decoder: d } = decoder();
    d.feed(searchEntry(3, 'cn=x', [['description', [Uint8Array.from([0x41, 0xff, 0x42])]], ['sn', ['a \uFFFD is text']]]));
    expect(entries[0]?.entry.attributes.get('description')).toEqual([Uint8Array.from([0x41, 0xff, 0x42])]);
    expect(entries[0]?.entry.attributes.get('sn')).toEqual(['a \uFFFD is text']);
  });

  it('keeps an attribute sent without values (types only) with none', () => {
    const { entries, decoder: d } = decoder();
    d.feed(searchEntry(3, 'cn=x', [['mail', []]]));
    expect(entries[0]?.entry.attributes.get('mail')).toEqual([]);
    expect(entries[0]?.entry.attributes.has('mail')).toBe(true);
  });

  it('attributes behave as a Map however they are read first', () => {
    const reads: Array<(attributes: ReadonlyMap<string, unknown>) => unknown> = [
      (a) => a.size,
      (a) => a.has('cn'),
      (a) => a.get('cn'),
      (a) => [...a.keys()],
      (a) => [...a.values()],
      (a) => [...a.entries()],
      (a) => [...a],
      (a) => {
        const seen: string[] = [];
        a.forEach((_, key) => seen.push(key));
        return seen;
      },
      (a) => new Map(a).size,
    ];
    for (const read of reads) {
      const { entries, decoder: d } = decoder();
      d.feed(alice);
      const attributes = (entries[0] as { entry: Entry }).entry.attributes;
      read(attributes);
      expect(attributes.size).toBe(6);
      expect(attributes).toBeInstanceOf(Map);
      expect([...attributes.keys()]).toHaveLength(6);
    }
    const { entries, decoder: d } = decoder();
    d.feed(alice);
    expect(inspect(entries[0]?.entry.attributes)).toContain('alice@example.org');
  });

  it('reads one attribute without decoding the others, and digests the attributes as they came until they are decoded', () => {
    const decode = (bytes: Buffer): Entry => {
      const d = decoder();
      d.decoder.feed(bytes);
      return (d.entries[0] as { entry: Entry }).entry;
    };
    const wire = (entry: Entry) => entry.attributes as WireAttributes;
    const entry = decode(alice);
    expect(wire(entry).first('mail')).toBe('alice@example.org');
    expect(wire(entry).first('jpegphoto')).toEqual(Uint8Array.from([0xff, 0xd8, 0x00, 0xd9]));
    expect(wire(entry).first('usercertificate')).toEqual(Uint8Array.from([0x30, 0x82, 0x01]));
    expect(wire(entry).first('cn;lang-nl')).toBe('Alice');
    expect(wire(entry).first('title')).toBeUndefined();

    const digest = wire(entry).digest();
    expect(digest).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(wire(decode(alice)).digest()).toBe(digest);
    // The same values in another order are other attributes as far as the digest goes.
    const reordered = ALICE.map(([type, values]) => [type, type === 'mail' ? [...values].reverse() : values] as const);
    expect(wire(decode(searchEntry(7, 'uid=alice,ou=people,dc=example,dc=org', reordered))).digest()).not.toBe(digest);

    // Once read as a Map, the bytes are gone: no digest, and first() answers from the decoded values.
    expect(entry.attributes.get('cn')).toEqual(['Alice Andersen']);
    expect(wire(entry).digest()).toBeUndefined();
    expect(wire(entry).first('mail')).toBe('alice@example.org');
  });

  it('lets go of the attributes once discarded, decoded or not, and leaves the values already taken as they were', () => {
    const d = decoder();
    d.decoder.feed(Buffer.concat([alice, searchEntry(8, 'uid=bob,ou=people,dc=example,dc=org', [['mail', ['bob@example.org']]])]));
    const [decoded, raw] = d.entries.map((e) => e.entry) as [Entry, Entry];
    const mail = decoded.attributes.get('mail');
    (decoded.attributes as WireAttributes).discard();
    (raw.attributes as WireAttributes).discard();
    expect(mail).toEqual(['alice@example.org', 'a.andersen@example.com']);
    for (const entry of [decoded, raw]) {
      expect(entry.attributes.size).toBe(0);
      expect(entry.attributes.get('mail')).toBeUndefined();
      expect((entry.attributes as WireAttributes).first('mail')).toBeUndefined();
      expect((entry.attributes as WireAttributes).digest()).toBeUndefined();
    }
  });

  it('decodes results: code, matched DN, diagnostic message, referrals and the paged results cookie', () => {
    const { results, decoder: d } = decoder();
    d.feed(result(9, 32, { matchedDN: 'dc=example,dc=org', diagnostic: 'no such entry' }));
    d.feed(result(10, 0, { controls: pagedResultsControl(Uint8Array.from([1, 2, 3])) }));
    const referral = tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 11]), tlv(0x65, Buffer.concat([Buffer.from([0x0a, 0x01, 10]), tlv(0x04, ''), tlv(0x04, ''), tlv(0xa3, tlv(0x04, 'ldap://dc2.example.com/dc=example,dc=com'))]))]));
    d.feed(referral);
    expect(results.map((r) => [r.id, r.result.resultCode, r.result.matchedDN, r.result.diagnosticMessage])).toEqual([
      [9, 32, 'dc=example,dc=org', 'no such entry'],
      [10, 0, '', ''],
      [11, 10, '', ''],
    ]);
    expect(results[1]?.result.controls[0]?.type).toBe('1.2.840.113556.1.4.319');
    expect(results[2]?.result.referrals).toEqual(['ldap://dc2.example.com/dc=example,dc=com']);
  });

  it('passes continuation references on without chasing them', () => {
    const { references, decoder: d } = decoder();
    d.feed(tlv(0x30, Buffer.concat([Buffer.from([0x02, 0x01, 5]), tlv(0x73, tlv(0x04, 'ldap://example.com/CN=Configuration,DC=example,DC=com'))])));
    expect(references).toEqual([{ id: 5, uris: ['ldap://example.com/CN=Configuration,DC=example,DC=com'] }]);
  });

  it('refuses bytes that are not LDAP, and an element longer than its message', () => {
    expect(() => decoder().decoder.feed(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n'))).toThrow(LdapDecodeError);
    // An attribute list that claims more bytes than the entry holds.
    const broken = Buffer.from(alice);
    const listHeader = broken.indexOf(Buffer.from([0x30, 0x81]), 40);
    broken[listHeader + 2] = 0xff;
    expect(() => decoder().decoder.feed(broken)).toThrow(/longer than the message/);
  });
});
