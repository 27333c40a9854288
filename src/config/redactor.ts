import { didYouMean } from '../shared/index.js';

const SENSITIVE_KEY = /pas+w|pass|secret|token|credential|pwd/i;
const SECRET_KEYS: ReadonlyArray<string> = ['bindPassword', 'password', 'token'];
const URL_PASSWORD = /(\/\/[^/\s:@]*:)([^@/\s]+)@/g;
/** Shorter values would blank out ordinary words of messages; they are still masked by position. */
const MIN_REDACTED_LENGTH = 3;

/** Whether a key's value is treated as a credential in what is printed (`bindPassword`, `token`, a misspelt `bindPasword`). */
export function isSensitiveKey(key: string): boolean {
  return SENSITIVE_KEY.test(key) || didYouMean(key, SECRET_KEYS) !== undefined;
}

/**
 * Keeps credentials out of every message, hint and caret line produced while loading. It learns the text
 * ranges of the file that hold secrets before anything is reported (so caret lines are masked as they are
 * made), and the secret values read from the environment and from files as they are read (so a last pass
 * over all messages removes those wherever they ended up).
 */
export class Redactor {
  readonly #ranges: Array<readonly [number, number]> = [];
  readonly #values = new Set<string>();

  /** A range `[start, end)` of the file text that holds a secret. */
  addRange(start: number, end: number): void {
    this.#ranges.push([start, end]);
  }

  addValue(value: string): void {
    if (value.length >= MIN_REDACTED_LENGTH) this.#values.add(value);
  }

  /** For messages and hints: each known secret becomes `[secret]`, a URL's password `****`. */
  redact(text: string): string {
    let out = text.replace(URL_PASSWORD, '$1****@');
    for (const value of this.#values) out = out.split(value).join('[secret]');
    return out;
  }

  /** For caret lines: secrets become `*`s of the same length, so the caret still lines up. */
  mask(text: string): string {
    let out = text.replace(URL_PASSWORD, (_m, head: string, pass: string) => `${head}${'*'.repeat(pass.length)}@`);
    for (const value of this.#values) out = out.split(value).join('*'.repeat(value.length));
    return out;
  }

  /** A line of the file starting at offset `lineStart`, with the secret ranges and values masked. */
  maskLine(line: string, lineStart: number): string {
    let out = '';
    for (let i = 0; i < line.length; i++) {
      const at = lineStart + i;
      out += this.#ranges.some(([start, end]) => at >= start && at < end) ? '*' : line.charAt(i);
    }
    return this.mask(out);
  }
}
