import type { Span } from './dsl-error.js';

/** The stable codes of DslError; tests and callers switch on these, never on the wording. */
export type DslErrorCode =
  | 'dsl.syntax'
  | 'dsl.unterminated-string'
  | 'dsl.unknown-function'
  | 'dsl.unknown-field'
  | 'dsl.arity'
  | 'dsl.type'
  | 'dsl.forbidden-name'
  | 'dsl.runtime';

/**
 * An error found by the lexer, parser or checker, before it is given the field and source it belongs to.
 * Keeping these stages free of mapping context lets them run on a lone expression.
 */
export interface Problem {
  readonly code: DslErrorCode;
  readonly message: string;
  readonly span: Span;
  readonly hint?: string | undefined;
}

/**
 * Names that mean something to JavaScript's object model or reach the host. None of them can do harm here
 * (nothing is evaluated as JavaScript and entries are Maps), but an expression using one is almost certainly
 * an attempt or a mistake, so it is rejected where it stands rather than read as an LDAP attribute.
 */
export const FORBIDDEN_NAMES: ReadonlySet<string> = new Set([
  'constructor',
  '__proto__',
  'prototype',
  'this',
  'globalThis',
  'process',
  'require',
  'Function',
  'eval',
  'import',
]);
