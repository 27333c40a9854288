import type { Scalar } from 'yaml';

/**
 * Maps an offset in a scalar's value to the offset in the file text of the character it came from, so an
 * error inside a string (a DSL span, a bad character in a DN) points at that character. The value is
 * aligned against the scalar's source: folded line breaks and indentation, `''` in single quotes and
 * escapes in double quotes are accounted for. When the two cannot be aligned (an unusual escape, a tag),
 * every offset maps to the scalar's start, which is still the right line.
 */
export function scalarOffsets(text: string, node: Scalar, value: string): (valueOffset: number) => number {
  const range = node.range;
  const start = range?.[0] ?? 0;
  const fallback = (): number => start;
  if (range === undefined || range === null) return fallback;
  const source = text.slice(range[0], range[1]);
  const map = align(source, value, node.type);
  if (map === undefined) return fallback;
  return (offset) => start + (offset < map.length ? (map[offset] ?? 0) : source.length);
}

function align(source: string, value: string, type: Scalar['type']): number[] | undefined {
  let j: number;
  switch (type) {
    case 'PLAIN':
    case undefined:
      j = 0;
      break;
    case 'QUOTE_SINGLE':
    case 'QUOTE_DOUBLE':
      j = 1;
      break;
    case 'BLOCK_LITERAL':
    case 'BLOCK_FOLDED': {
      const newline = source.indexOf('\n');
      if (newline === -1) return undefined;
      j = newline + 1;
      break;
    }
    default:
      return assertNever(type);
  }
  const map: number[] = [];
  let i = 0;
  while (i < value.length) {
    if (j >= source.length) return undefined;
    const v = value.charAt(i);
    const s = source.charAt(j);
    if (type === 'QUOTE_DOUBLE' && s === '\\') {
      const next = source.charAt(j + 1);
      if (next === '\n' || next === '\r') {
        // An escaped line break joins lines without producing a character.
        j += next === '\r' && source.charAt(j + 2) === '\n' ? 3 : 2;
        while (source.charAt(j) === ' ' || source.charAt(j) === '\t') j++;
        continue;
      }
      const length = next === 'x' ? 4 : next === 'u' ? 6 : next === 'U' ? 10 : 2;
      const produced = next === 'U' ? String.fromCodePoint(Number.parseInt(source.slice(j + 2, j + 10), 16) || 0).length : 1;
      for (let k = 0; k < produced; k++) map.push(j);
      i += produced;
      j += length;
      continue;
    }
    if (type === 'QUOTE_SINGLE' && s === "'" && source.charAt(j + 1) === "'" && v === "'") {
      map.push(j);
      i += 1;
      j += 2;
      continue;
    }
    if (v === s) {
      map.push(j);
      i += 1;
      j += 1;
      continue;
    }
    if (isSpace(s)) {
      // Folding: a line break (plus indentation) in the source became a space or vanished in the value.
      if (isSpace(v)) {
        map.push(j);
        i += 1;
      }
      j += 1;
      continue;
    }
    return undefined;
  }
  return map;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

function assertNever(value: never): never {
  throw new Error(`unexpected scalar type ${String(value)}`);
}
