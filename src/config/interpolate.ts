/** A problem with one `${...}` reference, at an offset into the raw string. */
export interface InterpolationProblem {
  readonly code: 'config.env';
  readonly message: string;
  readonly offset: number;
}

export type Interpolation =
  | {
      readonly ok: true;
      readonly value: string;
      /** Maps an offset in `value` to the offset in the raw string it came from. */
      readonly rawOffset: (valueOffset: number) => number;
      /** Whether any `${...}` reference was substituted. */
      readonly substituted: boolean;
      /** Whether text outside `${...}` references remains (an escaped `$${` counts as text). */
      readonly hasLiteralText: boolean;
      /** Names of the variables that were read. */
      readonly variables: ReadonlyArray<string>;
    }
  | { readonly ok: false; readonly problems: ReadonlyArray<InterpolationProblem> };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Expands `${VAR}` and `${VAR:-default}` (the default applies when VAR is unset or empty, as in the shell)
 * and turns `$${` into a literal `${`. A reference to an unset variable without a default is a problem
 * positioned at its `$`; every problem in the string is reported.
 */
export function interpolate(raw: string, env: Readonly<Record<string, string | undefined>>): Interpolation {
  if (!raw.includes('${')) {
    return { ok: true, value: raw, rawOffset: identity, substituted: false, hasLiteralText: raw !== '', variables: [] };
  }
  let value = '';
  // origin[i] is the raw offset the i-th output character came from.
  const origin: number[] = [];
  const problems: InterpolationProblem[] = [];
  const variables: string[] = [];
  let substituted = false;
  let hasLiteralText = false;
  let i = 0;
  const emit = (text: string, from: number, each: boolean): void => {
    for (let k = 0; k < text.length; k++) origin.push(each ? from + k : from);
    value += text;
  };
  while (i < raw.length) {
    if (raw.startsWith('$${', i)) {
      emit('${', i + 1, true);
      hasLiteralText = true;
      i += 3;
      continue;
    }
    if (!raw.startsWith('${', i)) {
      emit(raw.charAt(i), i, true);
      hasLiteralText = true;
      i += 1;
      continue;
    }
    const close = raw.indexOf('}', i + 2);
    if (close === -1) {
      problems.push({ code: 'config.env', offset: i, message: "unterminated '${': close it with '}' or write '$${' for a literal '${'" });
      break;
    }
    const body = raw.slice(i + 2, close);
    const sep = body.indexOf(':-');
    const name = sep === -1 ? body : body.slice(0, sep);
    const fallback = sep === -1 ? undefined : body.slice(sep + 2);
    if (!NAME.test(name)) {
      problems.push({
        code: 'config.env',
        offset: i,
        message: `'\${${body}}' is not a variable reference; use \${NAME} or \${NAME:-default}`,
      });
    } else {
      variables.push(name);
      const set = env[name];
      const replacement = set !== undefined && set !== '' ? set : fallback;
      if (replacement === undefined) {
        problems.push({
          code: 'config.env',
          offset: i,
          message: `environment variable ${name} is not set and has no default (write \${${name}:-default})`,
        });
      } else {
        emit(replacement, i, false);
        substituted = true;
      }
    }
    i = close + 1;
  }
  if (problems.length > 0) return { ok: false, problems };
  const end = raw.length;
  return {
    ok: true,
    value,
    rawOffset: (offset) => (offset < origin.length ? (origin[offset] ?? end) : end),
    substituted,
    hasLiteralText,
    variables,
  };
}

function identity(offset: number): number {
  return offset;
}
