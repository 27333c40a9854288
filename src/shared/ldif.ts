import { LdapsyncError } from './errors.js';
import { BINARY_ATTRIBUTES, type AttributeValue, type Entry } from './entry.js';

/** An entry read from LDIF, with the line its record starts on (for messages). */
export interface LdifRecord {
  readonly entry: Entry;
  readonly line: number;
}

/**
 * Parses LDIF content records (RFC 2849): folded lines, comments, `::` base64 values, multi-valued attributes,
 * an optional `version: 1`. Values of binary attributes (and `;binary` options) stay bytes; all others are UTF-8.
 * Change records and `:<` URL values are refused with the line they are on, since `map` evaluates entries as a
 * directory would return them.
 */
export function parseLdif(text: string, file = '<ldif>'): LdifRecord[] {
  const records: LdifRecord[] = [];
  let current: { dn: string; line: number; attributes: Map<string, AttributeValue[]> } | undefined;

  const flush = (): void => {
    if (current !== undefined) records.push({ entry: { dn: current.dn, attributes: current.attributes }, line: current.line });
    current = undefined;
  };

  for (const { text: line, number } of unfold(text)) {
    if (line === '') {
      flush();
      continue;
    }
    if (line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw ldifError(file, number, `expected "attribute: value", got ${JSON.stringify(line.slice(0, 40))}`);
    const name = line.slice(0, colon);
    const rest = line.slice(colon + 1);
    const { bytes, text: valueText } = decodeValue(rest, file, number);
    const key = name.toLowerCase();

    if (current === undefined) {
      if (key === 'version') continue;
      if (key !== 'dn') throw ldifError(file, number, `a record must start with "dn:", got "${name}:"`);
      current = { dn: valueText ?? new TextDecoder().decode(bytes), line: number, attributes: new Map() };
      continue;
    }
    if (key === 'changetype') throw ldifError(file, number, 'change records are not entries; give content records (as ldapsearch prints them)');
    const options = key.split(';');
    const base = options[0] ?? key;
    const binary = BINARY_ATTRIBUTES.has(base) || options.includes('binary');
    const attrName = options.filter((o) => o !== 'binary').join(';');
    const value: AttributeValue = binary ? (bytes ?? new TextEncoder().encode(valueText)) : (valueText ?? decodeUtf8(bytes, file, number));
    const values = current.attributes.get(attrName);
    if (values === undefined) current.attributes.set(attrName, [value]);
    else values.push(value);
  }
  flush();
  return records;
}

function* unfold(text: string): Generator<{ text: string; number: number }> {
  const lines = text.split(/\r?\n/);
  let buffer: string | undefined;
  let start = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line.startsWith(' ') && buffer !== undefined) {
      buffer += line.slice(1);
      continue;
    }
    if (buffer !== undefined) yield { text: buffer, number: start };
    buffer = line;
    start = i + 1;
  }
  if (buffer !== undefined) yield { text: buffer, number: start };
}

function decodeValue(rest: string, file: string, line: number): { bytes?: Uint8Array; text?: string } {
  if (rest.startsWith(':')) {
    const b64 = rest.slice(1).trim();
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw ldifError(file, line, 'invalid base64 value');
    return { bytes: new Uint8Array(Buffer.from(b64, 'base64')) };
  }
  if (rest.startsWith('<')) throw ldifError(file, line, 'URL values (":<") are not read; inline the value as base64 ("::")');
  return { text: rest.startsWith(' ') ? rest.replace(/^ +/, '') : rest };
}

function decodeUtf8(bytes: Uint8Array | undefined, file: string, line: number): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw ldifError(file, line, 'base64 value is not UTF-8 text; is this a binary attribute? add ";binary" to its name');
  }
}

function ldifError(file: string, line: number, message: string): LdapsyncError {
  return new LdapsyncError('ldif.syntax', message, { file, line, column: 1 });
}
