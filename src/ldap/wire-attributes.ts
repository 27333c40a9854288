import { isUtf8 } from 'node:buffer';
import { hash } from 'node:crypto';
import { inspect } from 'node:util';
import { BINARY_ATTRIBUTES, type AttributeValue } from '../shared/index.js';

const SEQUENCE = 0x30;
const SET = 0x31;
const OCTET_STRING = 0x04;

/** Thrown when the bytes are not the BER of RFC 4511: the connection cannot continue after one. */
export class LdapDecodeError extends Error {
  override readonly name = 'LdapDecodeError';
}

/**
 * The attributes of one search result entry, decoded on first use.
 *
 * A page of entries is held until the caller has taken all of it, so whatever the decoder allocates per value
 * survives several young-generation collections and gets copied and promoted: decoding everything on arrival
 * spent more time in the garbage collector than in decoding. Until it is first read, an entry holds only its
 * DN and a copy of its attribute bytes (a few hundred bytes, one object); the strings and arrays are made when
 * the caller reads them, and die young when the caller is done with the entry.
 *
 * It is a real Map (the structure was validated when the entry arrived, so decoding cannot fail) and every
 * reading method decodes first, so callers cannot tell it from an eagerly filled one.
 */
export class WireAttributes extends Map<string, AttributeValue[]> {
  #bytes: Buffer | undefined;

  constructor(bytes: Buffer) {
    super();
    this.#bytes = bytes;
  }

  /**
   * A digest (SHA-256, base64) of the attributes exactly as the server sent them, values and their order alike:
   * equal digests mean equal attributes. undefined once the attributes have been decoded (their bytes are gone).
   */
  digest(): string | undefined {
    return this.#bytes === undefined ? undefined : hash('sha256', this.#bytes, 'base64');
  }

  /** The first value of one attribute (a lower-cased key), read without decoding the others. */
  first(key: string): AttributeValue | undefined {
    const bytes = this.#bytes;
    if (bytes === undefined) return super.get(key)?.[0];
    return firstValue(bytes, key);
  }

  /**
   * Lets go of the attributes, decoded or not, once the caller is done with the entry: it reads as empty from
   * then on. A page of entries is held until its last entry is taken, and with it whatever the entries decoded;
   * a first sync of 100,000 users peaked at 265-276 MB with entries let go of as they were mapped, against
   * 264-309 MB without (V8 promoted the decoded maps of the page being mapped whenever a collection fell inside it).
   */
  discard(): void {
    this.#bytes = undefined;
    super.clear();
  }

  #load(): void {
    const bytes = this.#bytes;
    if (bytes === undefined) return;
    this.#bytes = undefined;
    decodeAttributes(bytes, this);
  }

  override get(key: string): AttributeValue[] | undefined {
    this.#load();
    return super.get(key);
  }

  override has(key: string): boolean {
    this.#load();
    return super.has(key);
  }

  override get size(): number {
    this.#load();
    return super.size;
  }

  override keys(): MapIterator<string> {
    this.#load();
    return super.keys();
  }

  override values(): MapIterator<AttributeValue[]> {
    this.#load();
    return super.values();
  }

  override entries(): MapIterator<[string, AttributeValue[]]> {
    this.#load();
    return super.entries();
  }

  override [Symbol.iterator](): MapIterator<[string, AttributeValue[]]> {
    this.#load();
    return super[Symbol.iterator]();
  }

  override forEach(callback: (value: AttributeValue[], key: string, map: Map<string, AttributeValue[]>) => void, thisArg?: unknown): void {
    this.#load();
    super.forEach(callback, thisArg);
  }

  override set(key: string, value: AttributeValue[]): this {
    this.#load();
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    this.#load();
    return super.delete(key);
  }

  override clear(): void {
    this.#load();
    super.clear();
  }

  /** console.log and util.inspect read a Map's contents without calling its methods. */
  [inspect.custom](depth: number, options: object, inspectFn: typeof inspect): string {
    this.#load();
    return inspectFn(new Map(this), options);
  }
}

/**
 * Walks a PartialAttributeList (without its SEQUENCE header) checking every tag and length, and allocates
 * nothing: after it, decoding the same bytes cannot fail.
 */
export function validateAttributes(buf: Buffer, start: number, end: number): void {
  let pos = start;
  while (pos < end) {
    const attributeEnd = elementAt(buf, pos, end, SEQUENCE);
    pos = elementAt(buf, lengthEnd, attributeEnd, OCTET_STRING);
    const setEnd = elementAt(buf, pos, attributeEnd, SET);
    pos = lengthEnd;
    while (pos < setEnd) pos = elementAt(buf, pos, setEnd, OCTET_STRING);
    if (setEnd !== attributeEnd) throw new LdapDecodeError('attribute longer than its type and values');
  }
}

/** Checks the tag of the element at `pos` and returns where its content ends (and, in `lengthEnd`, starts). */
function elementAt(buf: Buffer, pos: number, limit: number, tag: number): number {
  if (pos >= limit) throw new LdapDecodeError('message ends inside an element');
  if (buf[pos] !== tag) throw new LdapDecodeError(`expected BER tag 0x${tag.toString(16)}, got 0x${(buf[pos] as number).toString(16)}`);
  return lengthAt(buf, pos + 1, limit);
}

/** Where the length octets read by `lengthAt` end; a module variable so the hot path allocates no pair. */
let lengthEnd = 0;

/** The end of the content whose length octets start at `pos`; sets `lengthEnd` to where the content starts. */
function lengthAt(buf: Buffer, pos: number, limit: number): number {
  if (pos >= limit) throw new LdapDecodeError('message ends inside a length');
  let length = buf[pos++] as number;
  if (length >= 0x80) {
    let octets = length & 0x7f;
    if (octets === 0 || octets > 4) throw new LdapDecodeError('unsupported BER length form');
    if (pos + octets > limit) throw new LdapDecodeError('message ends inside a length');
    length = 0;
    while (octets-- > 0) length = length * 256 + (buf[pos++] as number);
  }
  lengthEnd = pos;
  const end = pos + length;
  if (end > limit) throw new LdapDecodeError('element longer than the message that holds it');
  return end;
}

/** The content end of a validated element at `pos` (its start goes to `lengthEnd`), without checks. */
function skipHeader(buf: Buffer, pos: number): number {
  let length = buf[pos + 1] as number;
  pos += 2;
  if (length >= 0x80) {
    let octets = length & 0x7f;
    length = 0;
    while (octets-- > 0) length = length * 256 + (buf[pos++] as number);
  }
  lengthEnd = pos;
  return pos + length;
}

const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;

/** Fills the map through Map's own methods: its overrides would try to decode again. */
function decodeAttributes(buf: Buffer, target: Map<string, AttributeValue[]>): void {
  let pos = 0;
  let index = 0;
  while (pos < buf.length) {
    const attributeEnd = skipHeader(buf, pos);
    const typeEnd = skipHeader(buf, lengthEnd);
    const { key, binary } = attributeKey(buf, lengthEnd, typeEnd, index++);
    const setEnd = skipHeader(buf, typeEnd);
    pos = lengthEnd;
    let values = mapGet.call(target, key) as AttributeValue[] | undefined;
    while (pos < setEnd) {
      const valueEnd = skipHeader(buf, pos);
      const valueStart = lengthEnd;
      // Binary values are copied out of the entry's bytes so that each value stands alone.
      const value = binary ? new Uint8Array(buf.subarray(valueStart, valueEnd)) : text(buf, valueStart, valueEnd);
      // Most attributes have one value: an array literal holds exactly one, where push() would reserve room for 17.
      if (values === undefined) {
        values = [value];
        mapSet.call(target, key, values);
      } else {
        values.push(value);
      }
      pos = valueEnd;
    }
    // An attribute sent without values (a types-only search) is still there, with none.
    if (values === undefined) mapSet.call(target, key, []);
    pos = attributeEnd;
  }
}

/** The first value of the attribute `key` in a validated attribute list, decoded as decodeAttributes would. */
function firstValue(buf: Buffer, key: string): AttributeValue | undefined {
  let pos = 0;
  let index = 0;
  while (pos < buf.length) {
    const attributeEnd = skipHeader(buf, pos);
    const typeEnd = skipHeader(buf, lengthEnd);
    const known = attributeKey(buf, lengthEnd, typeEnd, index++);
    if (known.key === key) {
      const setEnd = skipHeader(buf, typeEnd);
      if (lengthEnd < setEnd) {
        const valueEnd = skipHeader(buf, lengthEnd);
        return known.binary ? new Uint8Array(buf.subarray(lengthEnd, valueEnd)) : text(buf, lengthEnd, valueEnd);
      }
    }
    pos = attributeEnd;
  }
  return undefined;
}

interface AttributeKey {
  readonly key: string;
  readonly binary: boolean;
  /** The attribute description as it came over the wire. */
  readonly bytes: Buffer;
}

/**
 * Attribute names are case-insensitive: keys are lower-cased, `;binary` is dropped (its values are bytes), and
 * `;range=` is kept for the range merging. Entries of one directory list the same names in the same order, so
 * the name seen at the same position last time is checked first, byte by byte, without making a string.
 */
const recentByPosition: (AttributeKey | undefined)[] = [];
const byDescription = new Map<string, AttributeKey>();

function attributeKey(buf: Buffer, start: number, end: number, index: number): AttributeKey {
  const recent = recentByPosition[index];
  if (recent !== undefined && sameBytes(recent.bytes, buf, start, end)) return recent;
  const description = buf.toString('latin1', start, end);
  let known = byDescription.get(description);
  if (known === undefined) {
    const options = description.toLowerCase().split(';');
    const base = options[0] ?? '';
    known = {
      key: options.filter((o) => o !== 'binary').join(';'),
      binary: BINARY_ATTRIBUTES.has(base) || options.includes('binary'),
      bytes: Buffer.from(description, 'latin1'),
    };
    // A server that invents names per entry must not grow this without bound.
    if (byDescription.size > 10_000) byDescription.clear();
    byDescription.set(description, known);
  }
  if (index < 256) recentByPosition[index] = known;
  return known;
}

function sameBytes(known: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== buf[start + i]) return false;
  return true;
}

/**
 * A value of a text attribute. Decoding replaces invalid UTF-8 with U+FFFD; only then is it worth checking
 * whether the bytes were text at all, and if not they are handed on as bytes rather than silently changed.
 */
function text(buf: Buffer, start: number, end: number): AttributeValue {
  const value = buf.toString('utf8', start, end);
  if (value.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) return new Uint8Array(buf.subarray(start, end));
  return value;
}
