import { inspect } from 'node:util';

const REDACTED = '[secret]';

/**
 * A credential that cannot leak by accident: it prints, serialises and inspects as `[secret]`.
 * Only `reveal()` gives the value, and only the code that sends it to a server calls that.
 */
export class Secret {
  readonly #value: string;
  /** Where it came from, for messages: `env:NAME`, `file:PATH` or `inline`. */
  readonly origin: string;

  constructor(value: string, origin: string) {
    this.#value = value;
    this.origin = origin;
    Object.freeze(this);
  }

  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [inspect.custom](): string {
    return REDACTED;
  }
}
