import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { Document, Node, Scalar } from 'yaml';
import { ConfigError } from './config-error.js';
import { interpolate } from './interpolate.js';
import { isSensitiveKey } from './redactor.js';
import type { Redactor } from './redactor.js';
import { scalarOffsets } from './scalar-offsets.js';

export type KeyPath = ReadonlyArray<string | number>;

/** Where a value of the data tree sits in the file. */
export interface Located {
  readonly kind: 'map' | 'list' | 'scalar';
  /** `[start, end)` of the key holding the value; undefined for the root and list items. */
  readonly keyRange: readonly [number, number] | undefined;
  /** `[start, end)` of the value; for an empty value (`key:`), the key's range. */
  readonly valueRange: readonly [number, number];
  /** For strings: maps an offset in the value (after interpolation) to an offset in the file text. */
  readonly offsetOf: ((valueOffset: number) => number) | undefined;
  /** For maps: the keys in file order. */
  readonly keys: ReadonlyArray<string>;
  /** For strings: whether the file spells out characters of the value, rather than only `${VAR}` references. */
  readonly literal: boolean;
  /** A string whose `${VAR}` could not be expanded, or an unknown alias (reported); later checks skip it, to avoid a cascade. */
  readonly broken: boolean;
}

/** Where to put the caret of an error at a path. */
export type Anchor = 'key' | 'value' | { readonly offset: number; readonly length?: number };

export interface ErrorDetails {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

/**
 * The file text with an index from key paths to positions: every error of every later check is made here,
 * so each one carries file:line:col, the key path and a caret line with secrets masked.
 */
export class ConfigSource {
  readonly file: string;
  readonly text: string;
  readonly #lines: LineCounter;
  readonly #located: ReadonlyMap<string, Located>;
  readonly #redactor: Redactor;

  constructor(file: string, text: string, lines: LineCounter, located: ReadonlyMap<string, Located>, redactor: Redactor) {
    this.file = file;
    this.text = text;
    this.#lines = lines;
    this.#located = located;
    this.#redactor = redactor;
  }

  locate(path: KeyPath): Located | undefined {
    return this.#located.get(pathKey(path));
  }

  /** 1-based line and column of a file offset. */
  position(offset: number): { readonly line: number; readonly column: number } {
    const { line, col } = this.#lines.linePos(offset);
    return { line, column: col };
  }

  /** An error at `path`; a path that is not in the file (a missing key) is placed at its nearest ancestor. */
  error(code: string, message: string, path: KeyPath, anchor: Anchor = 'value', details: ErrorDetails = {}): ConfigError {
    let depth = path.length;
    let located = this.locate(path);
    while (located === undefined && depth > 0) {
      depth -= 1;
      located = this.locate(path.slice(0, depth));
    }
    const exact = depth === path.length;
    let offset = 0;
    let length = 1;
    if (located !== undefined) {
      if (!exact || anchor === 'key') {
        const range = located.keyRange ?? located.valueRange;
        offset = range[0];
        length = range[1] - range[0];
      } else if (anchor === 'value') {
        offset = located.valueRange[0];
        length = located.valueRange[1] - located.valueRange[0];
      } else {
        const map = located.offsetOf ?? ((): number => located.valueRange[0]);
        offset = map(anchor.offset);
        const end = anchor.length !== undefined && anchor.length > 0 ? map(anchor.offset + anchor.length - 1) + 1 : offset + 1;
        length = end - offset;
      }
    }
    return this.errorAtOffset(code, message, displayPath(path), offset, length, details);
  }

  /** An error at a file offset; `length` characters are underlined when they are on the same line. */
  errorAtOffset(code: string, message: string, path: string | undefined, offset: number, length: number, details: ErrorDetails = {}): ConfigError {
    // An error at the very end of the file (an unclosed bracket) is shown after the last character, not on an empty line.
    if (offset >= this.text.length && offset > 0) offset = this.text.replace(/\s+$/, '').length;
    const { line, col } = this.#lines.linePos(offset);
    const lineStart = this.#lines.lineStarts[line - 1] ?? 0;
    let lineEnd = this.text.indexOf('\n', lineStart);
    if (lineEnd === -1) lineEnd = this.text.length;
    const lineText = this.#redactor.maskLine(this.text.slice(lineStart, lineEnd).replace(/\r$/, ''), lineStart);
    const pad = lineText.slice(0, col - 1).replace(/[^\t]/g, ' ');
    const underline = Math.max(1, Math.min(length, lineText.length - (col - 1)));
    const caret = `${lineText}\n${pad}^${'~'.repeat(underline - 1)}`;
    return new ConfigError(
      code,
      this.#redactor.redact(message),
      { file: this.file, line, column: col, ...(path !== undefined && path !== '' ? { path } : {}) },
      {
        hint: details.hint === undefined ? undefined : this.#redactor.redact(details.hint),
        caret,
        cause: details.cause,
      },
    );
  }
}

/** `servers.planetexpress.domains[0]`. */
export function displayPath(path: KeyPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A path as a map key; list indexes and digit-string keys coincide, as they do in JSON pointers. */
export function pathKey(path: KeyPath): string {
  return path.map(String).join('\u0000');
}

export interface ReadResult {
  readonly source: ConfigSource;
  /** The file as plain data (maps are own-property objects), strings interpolated; undefined when it did not parse. */
  readonly data: unknown;
  readonly errors: ReadonlyArray<ConfigError>;
  readonly warnings: ReadonlyArray<ConfigError>;
}

/**
 * Parses the YAML text, keeping positions, and turns it into plain data with `${VAR}` interpolation applied
 * to string values. Syntax errors stop here (their cascade would be noise); duplicate keys, unknown aliases,
 * non-string keys and unset variables are reported and the rest of the file still goes on to be checked.
 */
export function readConfigSource(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  redactor: Redactor,
): ReadResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: false });
  const located = new Map<string, Located>();
  const source = new ConfigSource(file, text, lines, located, redactor);
  const errors: ConfigError[] = [];
  const warnings: ConfigError[] = [];

  // Mask secrets first, so that even a syntax error's caret line cannot show one.
  maskSecrets(doc, redactor);

  for (const e of doc.errors) {
    errors.push(source.errorAtOffset('config.yaml', `YAML: ${e.message}`, undefined, e.pos[0], e.pos[1] - e.pos[0]));
  }
  for (const w of doc.warnings) {
    warnings.push(source.errorAtOffset('config.yaml', `YAML: ${w.message}`, undefined, w.pos[0], w.pos[1] - w.pos[0]));
  }
  if (errors.length > 0) return { source, data: undefined, errors, warnings };

  const walker = new Walker(doc, text, env, source, located, redactor, errors);
  const data = doc.contents === null ? null : walker.convert(doc.contents, [], undefined, false);
  return { source, data, errors, warnings };
}

function maskSecrets(doc: Document, redactor: Redactor): void {
  const visit = (node: unknown): void => {
    if (isMap(node)) {
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : undefined;
        if (typeof key === 'string' && isSensitiveKey(key) && isScalar(pair.value) && pair.value.range) {
          redactor.addRange(pair.value.range[0], pair.value.range[1]);
          if (typeof pair.value.value === 'string') redactor.addValue(pair.value.value);
        }
        visit(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) visit(item);
    }
  };
  visit(doc.contents);
}

const INT = /^[-+]?[0-9]+$/;
const FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BOOL = /^(true|True|TRUE|false|False|FALSE)$/;
const MAX_ALIASES = 100;

class Walker {
  readonly #doc: Document;
  readonly #text: string;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #source: ConfigSource;
  readonly #located: Map<string, Located>;
  readonly #redactor: Redactor;
  readonly #errors: ConfigError[];
  #aliases = 0;

  constructor(
    doc: Document,
    text: string,
    env: Readonly<Record<string, string | undefined>>,
    source: ConfigSource,
    located: Map<string, Located>,
    redactor: Redactor,
    errors: ConfigError[],
  ) {
    this.#doc = doc;
    this.#text = text;
    this.#env = env;
    this.#source = source;
    this.#located = located;
    this.#redactor = redactor;
    this.#errors = errors;
  }

  convert(node: unknown, path: KeyPath, keyRange: readonly [number, number] | undefined, sensitive: boolean): unknown {
    let target: unknown = node;
    if (isAlias(target)) {
      const resolved = target.resolve(this.#doc);
      this.#aliases += 1;
      if (this.#aliases > MAX_ALIASES) {
        // Aliases of aliases expand exponentially ("billion laughs"); no real config needs this many.
        this.#record('scalar', path, keyRange, rangeOf(target, keyRange), undefined, [], true, true);
        if (this.#aliases === MAX_ALIASES + 1) {
          this.#errors.push(this.#source.error('config.yaml', `YAML: more than ${MAX_ALIASES} aliases expanded`, path));
        }
        return null;
      }
      if (resolved === undefined) {
        this.#record('scalar', path, keyRange, rangeOf(target, keyRange), undefined, [], true, true);
        this.#errors.push(this.#source.error('config.yaml', `YAML: unknown alias *${target.source}`, path));
        return null;
      }
      target = resolved;
    }
    if (target === null || target === undefined) {
      // `key:` with nothing after it.
      this.#record('scalar', path, keyRange, keyRange ?? [0, 0], undefined, [], false);
      return null;
    }
    if (isMap(target)) {
      const out: Record<string, unknown> = {};
      const keys: string[] = [];
      const firstSeen = new Map<string, number>();
      this.#record('map', path, keyRange, rangeOf(target, keyRange), undefined, keys, false);
      for (const pair of target.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        const range = isScalar(keyNode) || isMap(keyNode) || isSeq(keyNode) ? rangeOf(keyNode, undefined) : undefined;
        if (!isScalar(keyNode) || keyNode.value === null || typeof keyNode.value === 'object') {
          this.#errors.push(
            this.#source.errorAtOffset('config.type', 'keys must be plain strings', displayPath(path), range?.[0] ?? 0, 1),
          );
          continue;
        }
        const key = String(keyNode.value);
        const childPath = [...path, key];
        const previous = firstSeen.get(key);
        if (previous !== undefined) {
          const { line } = this.#source.position(previous);
          this.#errors.push(
            this.#source.errorAtOffset('config.duplicate-key', `duplicate key '${key}' (first given on line ${line})`, displayPath(childPath), range?.[0] ?? 0, key.length),
          );
          continue;
        }
        firstSeen.set(key, range?.[0] ?? 0);
        keys.push(key);
        const value = this.convert(pair.value, childPath, range, isSensitiveKey(key));
        // defineProperty keeps a key named `__proto__` an ordinary own property.
        Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
    if (isSeq(target)) {
      this.#record('list', path, keyRange, rangeOf(target, keyRange), undefined, [], false);
      return target.items.map((item, index) => this.convert(item, [...path, index], undefined, false));
    }
    if (isScalar(target)) return this.#scalar(target, path, keyRange, sensitive);
    return null;
  }

  #scalar(node: Scalar, path: KeyPath, keyRange: readonly [number, number] | undefined, sensitive: boolean): unknown {
    const range = rangeOf(node, keyRange);
    const value: unknown = node.value;
    if (typeof value !== 'string') {
      this.#record('scalar', path, keyRange, range, undefined, [], true);
      return value;
    }
    const inFile = scalarOffsets(this.#text, node, value);
    const result = interpolate(value, this.#env);
    if (!result.ok) {
      this.#record('scalar', path, keyRange, range, inFile, [], true, true);
      for (const problem of result.problems) {
        this.#errors.push(this.#source.error(problem.code, problem.message, path, { offset: problem.offset, length: 2 }));
      }
      return value;
    }
    this.#record('scalar', path, keyRange, range, (offset) => inFile(result.rawOffset(offset)), [], result.hasLiteralText);
    if (sensitive) this.#redactor.addValue(result.value);
    if (result.substituted && (node.type === 'PLAIN' || node.type === undefined)) {
      // An unquoted `${PAGE_SIZE}` takes the type its value would have had if written in place.
      if (INT.test(result.value) || FLOAT.test(result.value)) return Number(result.value);
      if (BOOL.test(result.value)) return result.value.toLowerCase() === 'true';
    }
    return result.value;
  }

  #record(
    kind: Located['kind'],
    path: KeyPath,
    keyRange: readonly [number, number] | undefined,
    valueRange: readonly [number, number],
    offsetOf: ((offset: number) => number) | undefined,
    keys: ReadonlyArray<string>,
    literal: boolean,
    broken = false,
  ): void {
    this.#located.set(pathKey(path), { kind, keyRange, valueRange, offsetOf, keys, literal, broken });
  }
}

function rangeOf(node: Node, fallback: readonly [number, number] | undefined): readonly [number, number] {
  const range = node.range;
  if (range) return [range[0], range[1]];
  return fallback ?? [0, 0];
}
