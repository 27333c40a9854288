/** Where an error happened, as precisely as the stage that raised it knows. */
export interface ErrorLocation {
  /** Config file path. */
  readonly file?: string;
  /** 1-based line and column in `file`. */
  readonly line?: number;
  readonly column?: number;
  /** Key path in the config file, e.g. `servers.planetexpress.users.filter`. */
  readonly path?: string;
  /** Server profile name. */
  readonly profile?: string;
  /** LDAP URL (never with credentials). */
  readonly url?: string;
  /** Entry DN. */
  readonly dn?: string;
  /** Store table or migration. */
  readonly table?: string;
}

/**
 * The one error base class. `code` is a stable literal tests and callers switch on; the message is for people.
 * Every error raised by ldapsync is one of these; anything else caught is wrapped once with `toLdapsyncError`.
 */
export class LdapsyncError extends Error {
  readonly code: string;
  readonly where: ErrorLocation;

  constructor(code: string, message: string, where: ErrorLocation = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LdapsyncError';
    this.code = code;
    this.where = where;
  }

  /** `file:line:col path: message`, the form every config and DSL error is printed in. */
  format(): string {
    const w = this.where;
    const parts: string[] = [];
    if (w.file !== undefined) {
      parts.push(w.line !== undefined ? `${w.file}:${w.line}:${w.column ?? 1}` : w.file);
    }
    if (w.path !== undefined && w.path !== '') parts.push(w.path);
    const head = parts.join(' ');
    return head === '' ? this.message : `${head}: ${this.message}`;
  }
}

/** Turns anything thrown into an LdapsyncError exactly once. */
export function toLdapsyncError(err: unknown, code = 'internal', where: ErrorLocation = {}): LdapsyncError {
  if (err instanceof LdapsyncError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LdapsyncError(code, message, where, { cause: err });
}
