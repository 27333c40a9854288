import type { Entry } from '../shared/index.js';
import { normalizeDn } from './dn.js';
import { asText } from './runtime.js';
import type { Value } from './value.js';

/** Distinct memberOf values whose normal form is remembered; a directory has far fewer groups than this. */
const MEMBER_OF_CACHE_SIZE = 10_000;

/**
 * The mutable state of one compiled mapping: lambda parameter slots and the step counter that bounds the
 * work on one entry, plus a cache of normalised group DNs (every member of a group carries the same memberOf
 * value, so each is parsed once, not once per entry). Evaluation is synchronous and never re-entered, so one
 * frame per mapping suffices; `reset()` runs before every entry.
 */
export class Frame {
  steps = 0;
  readonly slots: Value[] = [];
  readonly #normalized = new Map<string, string>();

  reset(): void {
    this.steps = 0;
  }

  /** Whether the entry's memberOf holds the group `wanted` (already normalised). */
  isMemberOf(entry: Entry, wanted: string): boolean {
    const values = entry.attributes.get('memberof');
    if (values === undefined) return false;
    for (const value of values) {
      const text = asText(value);
      let normal = this.#normalized.get(text);
      if (normal === undefined) {
        normal = normalizeMemberOf(text);
        if (this.#normalized.size >= MEMBER_OF_CACHE_SIZE) this.#normalized.clear();
        this.#normalized.set(text, normal);
      }
      if (normal === wanted) return true;
    }
    return false;
  }
}

/** memberOf values come from the server; one that does not parse is compared by its lower-cased text. */
export function normalizeMemberOf(text: string): string {
  return normalizeDn(text) ?? text.trim().toLowerCase();
}
