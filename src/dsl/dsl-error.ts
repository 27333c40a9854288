import { LdapsyncError, type ErrorLocation } from '../shared/index.js';

/** UTF-16 offsets into an expression's text; `end` is exclusive. */
export interface Span {
  readonly start: number;
  readonly end: number;
}

export interface DslErrorDetails {
  /** Key path inside the mapping, e.g. `email` or `userCustomFields.employeeType`; '' for a lone expression. */
  readonly field: string;
  readonly source: string;
  readonly span: Span;
  readonly hint?: string | undefined;
  readonly cause?: unknown;
  /** Defaults to the field as the key path. */
  readonly where?: ErrorLocation;
}

/**
 * An error in a mapping: where in the expression (span), which field, and a hint such as a did-you-mean.
 * The message already ends with the hint, so printing `format()` alone loses nothing.
 */
export class DslError extends LdapsyncError {
  readonly field: string;
  readonly source: string;
  readonly span: Span;
  readonly hint: string | undefined;

  constructor(code: string, message: string, details: DslErrorDetails) {
    const where = details.where ?? (details.field !== '' ? { path: details.field } : {});
    const full = details.hint === undefined ? message : `${message} (${details.hint})`;
    super(code, full, where, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'DslError';
    this.field = details.field;
    this.source = details.source;
    this.span = details.span;
    this.hint = details.hint;
  }

  /** The line of the expression holding the span, and a caret line under the span (as the CEL implementations print). */
  caret(): string {
    const text = this.source;
    const start = Math.min(Math.max(this.span.start, 0), text.length);
    const lineStart = text.lastIndexOf('\n', start - 1) + 1;
    const newline = text.indexOf('\n', start);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd);
    // Tabs stay tabs in the padding so the caret lines up whatever the terminal's tab width.
    const pad = line.slice(0, start - lineStart).replace(/[^\t]/g, ' ');
    const width = Math.max(1, Math.min(this.span.end, lineEnd) - start);
    return `${line}\n${pad}${'^'.repeat(width)}`;
  }
}

/**
 * A failure while evaluating an expression on one entry. Internal: the mapping turns it into a DslError
 * naming the field and the entry. The span is filled in by the innermost call or operator that knows it.
 */
export class EvalFault extends Error {
  span: Span | undefined;

  constructor(message: string, span?: Span, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EvalFault';
    this.span = span;
  }
}

/** Throws an EvalFault; library functions use it for bad input such as `int('abc')`. */
export function fault(message: string): never {
  throw new EvalFault(message);
}

/** Gives an escaping error the span of the call or operator it escaped from, unless a deeper one already did. */
export function attachSpan(err: unknown, span: Span): EvalFault {
  if (err instanceof EvalFault) {
    if (err.span === undefined) err.span = span;
    return err;
  }
  const message = err instanceof Error ? err.message : String(err);
  return new EvalFault(message, span, { cause: err });
}
