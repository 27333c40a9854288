/**
 * A minimal BER writer for building LDAP responses byte by byte, so the decoder can be tested on exactly what a
 * server sends (including responses of servers that are not here, such as Active Directory).
 */
export function tlv(tag: number, content: Uint8Array | string): Buffer {
  const body = typeof content === 'string' ? Buffer.from(content, 'utf8') : Buffer.from(content);
  return Buffer.concat([Buffer.from([tag]), berLength(body.length), body]);
}

export function berLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  const octets: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) octets.unshift(n % 256);
  return Buffer.from([0x80 | octets.length, ...octets]);
}

export function integer(value: number, tag = 0x02): Buffer {
  const octets: number[] = [];
  let n = value;
  do {
    octets.unshift(n & 0xff);
    n >>= 8;
  } while (n !== 0 && n !== -1);
  // Keep the sign bit right.
  if (value >= 0 && (octets[0] as number) >= 0x80) octets.unshift(0);
  if (value < 0 && (octets[0] as number) < 0x80) octets.unshift(0xff);
  return tlv(tag, Buffer.from(octets));
}

export type WireValue = string | Uint8Array;

/** SearchResultEntry: [APPLICATION 4] { objectName, attributes SEQUENCE OF { type, vals SET OF value } } */
export function searchEntry(messageId: number, dn: string, attributes: ReadonlyArray<readonly [string, ReadonlyArray<WireValue>]>): Buffer {
  const list = Buffer.concat(
    attributes.map(([type, values]) => tlv(0x30, Buffer.concat([tlv(0x04, type), tlv(0x31, Buffer.concat(values.map((v) => tlv(0x04, v))))]))),
  );
  return tlv(0x30, Buffer.concat([integer(messageId), tlv(0x64, Buffer.concat([tlv(0x04, dn), tlv(0x30, list)]))]));
}

/** SearchResultDone (or any LDAPResult with `op`), optionally with controls. */
export function result(messageId: number, resultCode: number, options: { op?: number; matchedDN?: string; diagnostic?: string; controls?: Buffer } = {}): Buffer {
  const body = Buffer.concat([integer(resultCode, 0x0a), tlv(0x04, options.matchedDN ?? ''), tlv(0x04, options.diagnostic ?? '')]);
  const parts = [integer(messageId), tlv(options.op ?? 0x65, body)];
  if (options.controls !== undefined) parts.push(tlv(0xa0, options.controls));
  return tlv(0x30, Buffer.concat(parts));
}

/** The paged results control of a SearchResultDone with the given cookie. */
export function pagedResultsControl(cookie: Uint8Array): Buffer {
  return tlv(0x30, Buffer.concat([tlv(0x04, '1.2.840.113556.1.4.319'), tlv(0x04, tlv(0x30, Buffer.concat([integer(0), tlv(0x04, cookie)])))]));
}
