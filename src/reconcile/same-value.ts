import type { FieldChange, MappedRecord } from './types.js';

/**
 * Whether a mapped value and a stored value mean the same thing, so that an unchanged entry never produces an
 * update. `undefined`, `null` and a missing object key are one "no value" (a mapping that yields nothing and a
 * NULL column agree; JSON drops undefined keys anyway); objects (jsonb) compare by content, whatever their key
 * order; dates by instant; an integer read back as a bigint equals the same number.
 */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const aMissing = a === null || a === undefined;
  const bMissing = b === null || b === undefined;
  if (aMissing || bMissing) return aMissing && bMissing;
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    return (typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number') && String(a) === String(b);
  }
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => sameValue(item, b[i]));
  }
  const left = a as Readonly<Record<string, unknown>>;
  const right = b as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(left)) {
    if (!sameValue(left[key], right[key])) return false;
  }
  for (const key of Object.keys(right)) {
    if (!(key in left) && !sameValue(undefined, right[key])) return false;
  }
  return true;
}

/** Adds one field's change to `diff`, making it on the first change: an unchanged record allocates nothing. */
export function noteChange(diff: Record<string, FieldChange> | undefined, name: string, old: unknown, next: unknown): Record<string, FieldChange> {
  const into = diff ?? {};
  into[name] = { old: old ?? null, new: next ?? null };
  return into;
}

/** Notes every field of `names` whose stored and wanted values differ (by `sameValue`). */
export function noteFieldChanges(
  diff: Record<string, FieldChange> | undefined,
  names: ReadonlyArray<string>,
  stored: MappedRecord,
  wanted: MappedRecord,
): Record<string, FieldChange> | undefined {
  let out = diff;
  for (const name of names) {
    const a = stored[name];
    const b = wanted[name];
    if (a !== b && !sameValue(a, b)) out = noteChange(out, name, a, b);
  }
  return out;
}
