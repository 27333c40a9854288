import type { ConfigError } from './config-error.js';
import { pathKey } from './config-source.js';
import type { Anchor, ConfigSource, ErrorDetails, KeyPath } from './config-source.js';
import type { Redactor } from './redactor.js';

/** What the checks of one load share: the source to position errors, the inputs, and where errors go. */
export class LoadContext {
  readonly source: ConfigSource;
  readonly data: unknown;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
  /** Directory of the config file; relative paths resolve against it. */
  readonly baseDir: string;
  readonly redactor: Redactor;
  readonly errors: ConfigError[] = [];
  readonly warnings: ConfigError[] = [];
  readonly #rejected = new Set<string>();

  constructor(options: {
    readonly source: ConfigSource;
    readonly data: unknown;
    readonly env: Readonly<Record<string, string | undefined>>;
    readonly readFile: (path: string) => string;
    readonly baseDir: string;
    readonly redactor: Redactor;
  }) {
    this.source = options.source;
    this.data = options.data;
    this.env = options.env;
    this.readFile = options.readFile;
    this.baseDir = options.baseDir;
    this.redactor = options.redactor;
  }

  /** Marks values the schema rejected: later checks see them as absent, so one mistake gives one error. */
  reject(paths: ReadonlyArray<KeyPath>): void {
    for (const path of paths) this.#rejected.add(pathKey(path));
  }

  error(code: string, message: string, path: KeyPath, anchor: Anchor = 'value', details: ErrorDetails = {}): void {
    this.errors.push(this.source.error(code, message, path, anchor, details));
  }

  warn(code: string, message: string, path: KeyPath, anchor: Anchor = 'value', details: ErrorDetails = {}): void {
    this.warnings.push(this.source.error(code, message, path, anchor, details));
  }

  /** The value at a path of the data, or undefined (also for a value already reported: rejected by the schema, or a failed `${VAR}`). */
  get(path: KeyPath): unknown {
    if (this.source.locate(path)?.broken === true || this.#rejected.has(pathKey(path))) return undefined;
    let value: unknown = this.data;
    for (const segment of path) {
      if (typeof segment === 'number') value = Array.isArray(value) ? (value[segment] as unknown) : undefined;
      else value = isRecord(value) && Object.hasOwn(value, segment) ? value[segment] : undefined;
    }
    return value;
  }

  /** Whether the file gives the key at all, whatever its value. */
  given(path: KeyPath): boolean {
    return this.source.locate(path) !== undefined;
  }

  string(path: KeyPath): string | undefined {
    const value = this.get(path);
    return typeof value === 'string' ? value : undefined;
  }

  boolean(path: KeyPath, fallback: boolean): boolean {
    const value = this.get(path);
    return typeof value === 'boolean' ? value : fallback;
  }

  number(path: KeyPath): number | undefined {
    const value = this.get(path);
    return typeof value === 'number' ? value : undefined;
  }

  oneOf<T extends string>(path: KeyPath, allowed: ReadonlyArray<T>, fallback: T): T {
    const value = this.get(path);
    return allowed.find((a) => a === value) ?? fallback;
  }

  /** Keys of the map at a path, in file order. */
  keys(path: KeyPath): ReadonlyArray<string> {
    const value = this.get(path);
    if (!isRecord(value)) return [];
    const located = this.source.locate(path);
    return located !== undefined && located.kind === 'map' ? located.keys.filter((k) => Object.hasOwn(value, k)) : Object.keys(value);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
