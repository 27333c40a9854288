import type { Entry } from '../shared/index.js';
import { normalizeDn } from './dn.js';
import { readAll } from './runtime.js';
import type { Value } from './value.js';

/**
 * The mutable state of one compiled mapping while it evaluates one entry: lambda parameter slots, the step
 * counter that bounds the work, and the entry's normalised memberOf. Evaluation is synchronous and never
 * re-entered, so one frame per mapping suffices; `reset()` runs before every entry.
 */
export class Frame {
  steps = 0;
  readonly slots: Value[] = [];
  #memberOfEntry: Entry | undefined = undefined;
  #memberOf: ReadonlySet<string> = new Set();

  reset(): void {
    this.steps = 0;
    this.#memberOfEntry = undefined;
  }

  /** The entry's memberOf DNs, normalised once per entry however many isMemberOf() calls ask. */
  memberOf(entry: Entry): ReadonlySet<string> {
    if (this.#memberOfEntry !== entry) {
      this.#memberOf = normalizedMemberOf(entry);
      this.#memberOfEntry = entry;
    }
    return this.#memberOf;
  }
}

/** memberOf values come from the server; one that does not parse is compared by its lower-cased text. */
export function normalizedMemberOf(entry: Entry): ReadonlySet<string> {
  const set = new Set<string>();
  for (const value of readAll(entry, 'memberof', false)) {
    const text = value as string;
    set.add(normalizeDn(text) ?? text.trim().toLowerCase());
  }
  return set;
}
