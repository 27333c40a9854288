import { Filter, SearchFilter, type BerWriter, type SearchFilterValues } from 'ldapts';

/**
 * An LDAP search filter (RFC 4515) whose values are bytes, as the protocol carries them.
 *
 * ldapts' own parser turns each `\XX` escape into one UTF-16 character and then encodes the string as UTF-8,
 * so `(cn=Jos\c3\a9)` goes out as `JosÃ©` and `(objectGUID=\fc\d4...)` as different bytes: the search silently
 * matches nothing. Here escapes are bytes, text is UTF-8, and the BER is written from that.
 */
export type FilterNode =
  | { readonly kind: 'and' | 'or'; readonly filters: ReadonlyArray<FilterNode> }
  | { readonly kind: 'not'; readonly filter: FilterNode }
  | { readonly kind: 'equal' | 'greaterOrEqual' | 'lessOrEqual' | 'approx'; readonly attribute: string; readonly value: Uint8Array }
  | { readonly kind: 'present'; readonly attribute: string }
  | {
      readonly kind: 'substrings';
      readonly attribute: string;
      readonly initial: Uint8Array | undefined;
      readonly any: ReadonlyArray<Uint8Array>;
      readonly final: Uint8Array | undefined;
    }
  | {
      readonly kind: 'extensible';
      readonly attribute: string | undefined;
      readonly rule: string | undefined;
      readonly dnAttributes: boolean;
      readonly value: Uint8Array;
    };

export class FilterSyntaxError extends Error {
  override readonly name = 'FilterSyntaxError';
  /** Index in the filter text of the offending character. */
  readonly offset: number;

  constructor(message: string, offset: number) {
    super(message);
    this.offset = offset;
  }
}

const ATTRIBUTE = /^[A-Za-z0-9][A-Za-z0-9.-]*(?:;[A-Za-z0-9-]+)*/;
const RULE = /^[A-Za-z0-9][A-Za-z0-9.-]*/;

/**
 * Parses filter text. A filter without its outer parentheses is accepted (`objectClass=person`), as are spaces
 * between the parts of `&`, `|` and `!`, and an empty `(&)` or `(|)` (RFC 4526: true and false).
 */
export function parseFilter(text: string): FilterNode {
  const start = text.length - text.trimStart().length;
  const parenthesized = text.startsWith('(', start);
  // Without parentheses everything after "=" is the value, trailing spaces included (as ldapts reads it).
  const source = parenthesized ? text.slice(start) : `(${text.slice(start)})`;
  const parser = new Parser(source, parenthesized ? start : start - 1);
  const node = parser.filter();
  parser.end();
  return node;
}

class Parser {
  #pos = 0;
  readonly #text: string;
  /** Added to positions in errors: where `#text` starts in what the user wrote. */
  readonly #shift: number;

  constructor(text: string, shift: number) {
    this.#text = text;
    this.#shift = shift;
  }

  filter(): FilterNode {
    this.#spaces();
    this.#expect('(');
    this.#spaces();
    const c = this.#text[this.#pos];
    let node: FilterNode;
    if (c === '&' || c === '|') {
      this.#pos++;
      const filters: FilterNode[] = [];
      for (this.#spaces(); this.#text[this.#pos] === '('; this.#spaces()) filters.push(this.filter());
      node = { kind: c === '&' ? 'and' : 'or', filters };
    } else if (c === '!') {
      this.#pos++;
      node = { kind: 'not', filter: this.filter() };
      this.#spaces();
    } else {
      node = this.#item();
    }
    this.#expect(')');
    return node;
  }

  end(): void {
    this.#spaces();
    if (this.#pos < this.#text.length) throw this.#error('text after the end of the filter');
  }

  #item(): FilterNode {
    const start = this.#pos;
    const attribute = this.#match(ATTRIBUTE);
    let dnAttributes = false;
    let rule: string | undefined;
    if (/^:dn:/i.test(this.#text.slice(this.#pos, this.#pos + 4))) {
      dnAttributes = true;
      this.#pos += 3;
    }
    if (this.#text[this.#pos] === ':' && this.#text[this.#pos + 1] !== '=') {
      this.#pos++;
      rule = this.#match(RULE);
      if (rule === undefined) throw this.#error('a matching rule is expected after ":"');
    }
    if (this.#text.startsWith(':=', this.#pos)) {
      this.#pos += 2;
      if (attribute === undefined && rule === undefined) throw this.#error('an extensible match needs an attribute or a matching rule', start);
      return { kind: 'extensible', attribute, rule, dnAttributes, value: this.#value(false) };
    }
    if (attribute === undefined) throw this.#error('an attribute name is expected', start);
    if (dnAttributes || rule !== undefined) throw this.#error('":=" is expected in an extensible match');
    const operator = this.#text.slice(this.#pos, this.#pos + 2);
    if (operator === '>=' || operator === '<=' || operator === '~=') {
      this.#pos += 2;
      const kind = operator === '>=' ? 'greaterOrEqual' : operator === '<=' ? 'lessOrEqual' : 'approx';
      return { kind, attribute, value: this.#value(false) };
    }
    if (this.#text[this.#pos] !== '=') throw this.#error('"=", ">=", "<=", "~=" or ":=" is expected');
    this.#pos++;
    if (this.#text.startsWith('*)', this.#pos)) {
      this.#pos++;
      return { kind: 'present', attribute };
    }
    const parts = [this.#value(true)];
    while (this.#text[this.#pos] === '*') {
      this.#pos++;
      parts.push(this.#value(true));
    }
    if (parts.length === 1) return { kind: 'equal', attribute, value: parts[0] as Uint8Array };
    const initial = parts[0] as Uint8Array;
    const final = parts[parts.length - 1] as Uint8Array;
    return {
      kind: 'substrings',
      attribute,
      initial: initial.length > 0 ? initial : undefined,
      any: parts.slice(1, -1).filter((p) => p.length > 0),
      final: final.length > 0 ? final : undefined,
    };
  }

  /** An assertion value up to `)` (or `*` in an equality/substring value): UTF-8 text with `\XX` byte escapes. */
  #value(stopAtStar: boolean): Uint8Array {
    const bytes: number[] = [];
    for (;;) {
      const c = this.#text[this.#pos];
      if (c === undefined) throw this.#error('the filter ends inside a value; is a ")" missing?');
      if (c === ')' || (stopAtStar && c === '*')) return Uint8Array.from(bytes);
      if (c === '(') throw this.#error('"(" in a value must be escaped as \\28');
      if (c === '\\') {
        const hex = this.#text.slice(this.#pos + 1, this.#pos + 3);
        if (!/^[0-9A-Fa-f]{2}$/.test(hex)) throw this.#error('"\\" must be followed by two hex digits (\\5c for a backslash)');
        bytes.push(Number.parseInt(hex, 16));
        this.#pos += 3;
        continue;
      }
      const codePoint = this.#text.codePointAt(this.#pos) as number;
      const char = String.fromCodePoint(codePoint);
      for (const byte of Buffer.from(char, 'utf8')) bytes.push(byte);
      this.#pos += char.length;
    }
  }

  #match(pattern: RegExp): string | undefined {
    const match = pattern.exec(this.#text.slice(this.#pos));
    if (match === null) return undefined;
    this.#pos += match[0].length;
    return match[0];
  }

  #expect(c: string): void {
    if (this.#text[this.#pos] !== c) throw this.#error(this.#pos >= this.#text.length ? `the filter ends where "${c}" is expected` : `"${c}" is expected`);
    this.#pos++;
  }

  #spaces(): void {
    while (this.#text[this.#pos] === ' ') this.#pos++;
  }

  #error(message: string, at = this.#pos): FilterSyntaxError {
    return new FilterSyntaxError(message, Math.max(0, Math.min(at + this.#shift, this.#shift + this.#text.length)));
  }
}

/** The context tags of RFC 4511 4.5.1.7, by node kind. */
const TAG: Readonly<Record<FilterNode['kind'], SearchFilterValues>> = {
  and: SearchFilter.and,
  or: SearchFilter.or,
  not: SearchFilter.not,
  equal: SearchFilter.equalityMatch,
  substrings: SearchFilter.substrings,
  greaterOrEqual: SearchFilter.greaterOrEqual,
  lessOrEqual: SearchFilter.lessOrEqual,
  present: SearchFilter.present,
  approx: SearchFilter.approxMatch,
  extensible: SearchFilter.extensibleMatch,
};

/** The BER of a filter (RFC 4511 4.5.1.7). */
export function encodeFilter(node: FilterNode): Buffer {
  const tag = TAG[node.kind];
  switch (node.kind) {
    case 'and':
    case 'or':
      return tlv(tag, Buffer.concat(node.filters.map(encodeFilter)));
    case 'not':
      return tlv(tag, encodeFilter(node.filter));
    case 'equal':
    case 'greaterOrEqual':
    case 'lessOrEqual':
    case 'approx':
      return tlv(tag, Buffer.concat([octets(node.attribute), octets(node.value)]));
    case 'substrings': {
      const parts: Buffer[] = [];
      if (node.initial !== undefined) parts.push(tlv(0x80, node.initial));
      for (const part of node.any) parts.push(tlv(0x81, part));
      if (node.final !== undefined) parts.push(tlv(0x82, node.final));
      return tlv(tag, Buffer.concat([octets(node.attribute), tlv(0x30, Buffer.concat(parts))]));
    }
    case 'present':
      return tlv(tag, Buffer.from(node.attribute, 'utf8'));
    case 'extensible': {
      const parts: Buffer[] = [];
      if (node.rule !== undefined) parts.push(tlv(0x81, Buffer.from(node.rule, 'utf8')));
      if (node.attribute !== undefined) parts.push(tlv(0x82, Buffer.from(node.attribute, 'utf8')));
      parts.push(tlv(0x83, node.value));
      if (node.dnAttributes) parts.push(Buffer.from([0x84, 0x01, 0xff]));
      return tlv(tag, Buffer.concat(parts));
    }
    default:
      return assertNever(node);
  }
}

/**
 * A filter for ldapts' SearchRequest: ldapts writes a request by asking its filter to write itself, and this
 * one writes bytes encoded by `encodeFilter`.
 */
export class EncodedFilter extends Filter {
  readonly type: SearchFilterValues;
  readonly #bytes: Buffer;
  readonly #text: string;

  constructor(node: FilterNode, text: string) {
    super();
    this.#bytes = encodeFilter(node);
    this.type = TAG[node.kind];
    this.#text = text;
  }

  override write(writer: BerWriter): void {
    for (const byte of this.#bytes) writer.writeByte(byte);
  }

  toString(): string {
    return this.#text;
  }
}

function octets(value: string | Uint8Array): Buffer {
  return tlv(0x04, typeof value === 'string' ? Buffer.from(value, 'utf8') : value);
}

function tlv(tag: number, content: Uint8Array): Buffer {
  const length = content.length;
  let header: number[];
  if (length < 0x80) header = [tag, length];
  else {
    const octetsOfLength: number[] = [];
    for (let n = length; n > 0; n = Math.floor(n / 256)) octetsOfLength.unshift(n % 256);
    header = [tag, 0x80 | octetsOfLength.length, ...octetsOfLength];
  }
  return Buffer.concat([Buffer.from(header), content]);
}

function assertNever(value: never): never {
  throw new Error(`unexpected filter node ${JSON.stringify(value)}`);
}
