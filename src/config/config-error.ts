import { LdapsyncError } from '../shared/index.js';
import type { ErrorLocation } from '../shared/index.js';

/**
 * An error or warning about the configuration file. `code` is stable (`config.*`, or the `dsl.*` code of a
 * mapping expression error); `where` has the file, 1-based line and column, and the key path.
 */
export class ConfigError extends LdapsyncError {
  /** A suggestion such as `did you mean 'filter'?`. */
  readonly hint: string | undefined;
  /** The offending line of the file and, under it, a caret at the offending character. */
  readonly caret: string | undefined;

  constructor(
    code: string,
    message: string,
    where: ErrorLocation,
    details: { readonly hint?: string | undefined; readonly caret?: string | undefined; readonly cause?: unknown } = {},
  ) {
    super(code, message, where, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConfigError';
    this.hint = details.hint;
    this.caret = details.caret;
  }
}

/**
 * `ldapsync.yaml:14:7 servers.planetexpress.users.filter: unbalanced parentheses in LDAP filter`, then the
 * hint and the caret lines, indented under it.
 */
export function formatConfigError(e: ConfigError): string {
  const lines = [e.format()];
  if (e.hint !== undefined) lines.push(`  hint: ${e.hint}`);
  if (e.caret !== undefined) {
    const gutter = e.where.line !== undefined ? String(e.where.line) : '';
    const [source = '', marker = ''] = e.caret.split('\n');
    lines.push(`  ${gutter} | ${source}`, `  ${' '.repeat(gutter.length)} | ${marker}`);
  }
  return lines.join('\n');
}
