import type { Entry } from '../shared/index.js';
import { LdapDecodeError, WireAttributes, validateAttributes } from './wire-attributes.js';

export { LdapDecodeError } from './wire-attributes.js';


export interface ResponseControl {
  readonly type: string;
  readonly critical: boolean;
  readonly value: Buffer | undefined;
}

/** Any response that ends an operation (SearchResultDone, BindResponse, ExtendedResponse...): an LDAPResult (RFC 4511 4.1.9). */
export interface OperationResult {
  readonly resultCode: number;
  readonly matchedDN: string;
  readonly diagnosticMessage: string;
  readonly referrals: ReadonlyArray<string>;
  /** The protocolOp tag, e.g. 0x65 for SearchResultDone. */
  readonly op: number;
  readonly controls: ReadonlyArray<ResponseControl>;
  /** ExtendedResponse only. */
  readonly responseName: string | undefined;
  readonly responseValue: Buffer | undefined;
}

/** Where decoded messages go. Entries and references come before the result of their search. */
export interface MessageSink {
  entry(messageId: number, entry: Entry): void;
  reference(messageId: number, uris: ReadonlyArray<string>): void;
  result(messageId: number, result: OperationResult): void;
}

const OP_SEARCH_ENTRY = 0x64;
const OP_SEARCH_REFERENCE = 0x73;
export const OP_EXTENDED_RESPONSE = 0x78;
const OP_INTERMEDIATE_RESPONSE = 0x79;

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const ENUMERATED = 0x0a;
const BOOLEAN = 0x01;
const CONTROLS = 0xa0;
const REFERRAL = 0xa3;
const EXTENDED_NAME = 0x8a;
const EXTENDED_VALUE = 0x8b;

/**
 * Turns the bytes of an LDAP connection into entries and results.
 *
 * This is the hot path of a sync (every entry passes through it), so it reads the BER of RFC 4511 messages
 * straight into `Entry` values: no intermediate message objects, chunks concatenated only when a message spans
 * them, and attribute values left as bytes until they are read (WireAttributes). Lengths are checked against
 * the enclosing element, so a malformed message is an error, never a read into the next one.
 */
export class MessageDecoder {
  readonly #sink: MessageSink;
  /** A message that has not fully arrived: its chunks so far, their length, and the length it needs. */
  #parts: Buffer[] = [];
  #partsLength = 0;
  #needed = 0;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;

  constructor(sink: MessageSink) {
    this.#sink = sink;
  }

  /** Decodes every whole message in the data so far; keeps the rest for the next chunk. */
  feed(chunk: Buffer): void {
    let buf: Buffer;
    if (this.#partsLength === 0) {
      buf = chunk;
    } else {
      this.#parts.push(chunk);
      this.#partsLength += chunk.length;
      if (this.#partsLength < this.#needed) return;
      buf = Buffer.concat(this.#parts, this.#partsLength);
      this.#parts = [];
      this.#partsLength = 0;
    }
    let pos = 0;
    while (pos < buf.length) {
      const total = messageLength(buf, pos);
      if (total === -1 || pos + total > buf.length) {
        const rest = buf.subarray(pos);
        this.#parts = [rest];
        this.#partsLength = rest.length;
        // Unknown until the length octets are in: concatenate with whatever comes next.
        this.#needed = total === -1 ? 0 : total;
        return;
      }
      this.#decodeMessage(buf, pos, pos + total);
      pos += total;
    }
  }


  #decodeMessage(buf: Buffer, start: number, end: number): void {
    this.#buf = buf;
    this.#pos = start;
    const messageEnd = this.#enter(SEQUENCE, end);
    const messageId = this.#integer(messageEnd);
    const op = this.#tag(messageEnd);
    const opEnd = this.#contentEnd(messageEnd);
    switch (op) {
      case OP_SEARCH_ENTRY:
        this.#sink.entry(messageId, this.#entry(opEnd));
        return;
      case OP_SEARCH_REFERENCE: {
        const uris: string[] = [];
        while (this.#pos < opEnd) uris.push(this.#string(OCTET_STRING, opEnd));
        this.#sink.reference(messageId, uris);
        return;
      }
      case OP_INTERMEDIATE_RESPONSE:
        // Only sent for operations (sync, cancel) this client never starts.
        return;
      default: {
        const result = this.#result(op, opEnd, messageEnd);
        this.#sink.result(messageId, result);
      }
    }
  }

  /** The DN now; the attributes are checked now and decoded when first read (see WireAttributes). */
  #entry(end: number): Entry {
    const dn = this.#string(OCTET_STRING, end);
    const listEnd = this.#enter(SEQUENCE, end);
    validateAttributes(this.#buf, this.#pos, listEnd);
    const bytes = Buffer.allocUnsafe(listEnd - this.#pos);
    this.#buf.copy(bytes, 0, this.#pos, listEnd);
    this.#pos = end;
    return { dn, attributes: new WireAttributes(bytes) };
  }

  #result(op: number, opEnd: number, messageEnd: number): OperationResult {
    const resultCode = this.#integer(opEnd, ENUMERATED);
    const matchedDN = this.#string(OCTET_STRING, opEnd);
    const diagnosticMessage = this.#string(OCTET_STRING, opEnd);
    const referrals: string[] = [];
    let responseName: string | undefined;
    let responseValue: Buffer | undefined;
    while (this.#pos < opEnd) {
      const tag = this.#buf[this.#pos];
      if (tag === REFERRAL) {
        const end = this.#enter(REFERRAL, opEnd);
        while (this.#pos < end) referrals.push(this.#string(OCTET_STRING, end));
      } else if (tag === EXTENDED_NAME) {
        responseName = this.#string(EXTENDED_NAME, opEnd);
      } else if (tag === EXTENDED_VALUE) {
        const end = this.#enter(EXTENDED_VALUE, opEnd);
        responseValue = Buffer.from(this.#buf.subarray(this.#pos, end));
        this.#pos = end;
      } else {
        // serverSaslCreds and anything newer: not used here.
        this.#tag(opEnd);
        this.#pos = this.#contentEnd(opEnd);
      }
    }
    const controls: ResponseControl[] = [];
    if (this.#pos < messageEnd && this.#buf[this.#pos] === CONTROLS) {
      const end = this.#enter(CONTROLS, messageEnd);
      while (this.#pos < end) controls.push(this.#control(end));
    }
    return { op, resultCode, matchedDN, diagnosticMessage, referrals, controls, responseName, responseValue };
  }

  #control(end: number): ResponseControl {
    const controlEnd = this.#enter(SEQUENCE, end);
    const type = this.#string(OCTET_STRING, controlEnd);
    let critical = false;
    let value: Buffer | undefined;
    if (this.#pos < controlEnd && this.#buf[this.#pos] === BOOLEAN) {
      const booleanEnd = this.#enter(BOOLEAN, controlEnd);
      critical = this.#buf[this.#pos] !== 0;
      this.#pos = booleanEnd;
    }
    if (this.#pos < controlEnd && this.#buf[this.#pos] === OCTET_STRING) {
      const valueEnd = this.#enter(OCTET_STRING, controlEnd);
      value = Buffer.from(this.#buf.subarray(this.#pos, valueEnd));
      this.#pos = valueEnd;
    }
    this.#pos = controlEnd;
    return { type, critical, value };
  }

  /** Reads the tag (which must be `tag`) and length of an element; returns where its content ends. */
  #enter(tag: number, limit: number): number {
    const actual = this.#tag(limit);
    if (actual !== tag) throw new LdapDecodeError(`expected BER tag 0x${tag.toString(16)}, got 0x${actual.toString(16)}`);
    return this.#contentEnd(limit);
  }

  #tag(limit: number): number {
    if (this.#pos >= limit) throw new LdapDecodeError('message ends inside an element');
    return this.#buf[this.#pos++] as number;
  }

  #contentEnd(limit: number): number {
    if (this.#pos >= limit) throw new LdapDecodeError('message ends inside a length');
    let length = this.#buf[this.#pos++] as number;
    if (length >= 0x80) {
      let octets = length & 0x7f;
      if (octets === 0 || octets > 4) throw new LdapDecodeError('unsupported BER length form');
      if (this.#pos + octets > limit) throw new LdapDecodeError('message ends inside a length');
      length = 0;
      while (octets-- > 0) length = length * 256 + (this.#buf[this.#pos++] as number);
    }
    const end = this.#pos + length;
    if (end > limit) throw new LdapDecodeError('element longer than the message that holds it');
    return end;
  }

  #integer(limit: number, tag = INTEGER): number {
    const end = this.#enter(tag, limit);
    const size = end - this.#pos;
    if (size === 0 || size > 4) throw new LdapDecodeError('integer of unsupported size');
    const negative = (this.#buf[this.#pos] as number) >= 0x80;
    let value = 0;
    while (this.#pos < end) value = value * 256 + (this.#buf[this.#pos++] as number);
    return negative ? value - 2 ** (8 * size) : value;
  }

  #string(tag: number, limit: number): string {
    const end = this.#enter(tag, limit);
    const value = this.#buf.toString('utf8', this.#pos, end);
    this.#pos = end;
    return value;
  }
}

/** Total length (header included) of the message at `pos`, or -1 when its length octets have not arrived. */
function messageLength(buf: Buffer, pos: number): number {
  if (buf.length - pos < 2) return -1;
  if (buf[pos] !== SEQUENCE) throw new LdapDecodeError(`not an LDAP message (first byte 0x${(buf[pos] as number).toString(16)})`);
  const first = buf[pos + 1] as number;
  if (first < 0x80) return 2 + first;
  const octets = first & 0x7f;
  if (octets === 0 || octets > 4) throw new LdapDecodeError('unsupported BER length form');
  if (buf.length - pos < 2 + octets) return -1;
  let length = 0;
  for (let i = 0; i < octets; i++) length = length * 256 + (buf[pos + 2 + i] as number);
  return 2 + octets + length;
}
