import type { DeletesConfig } from '../config/index.js';
import type { SkipIndex } from './entries.js';
import type { MissingRow, RowId } from './types.js';

export interface OwnRow {
  readonly id: RowId;
  readonly externalId: string;
  readonly dn: string;
  readonly removedAt: Date | null;
}

export interface Removal<R extends OwnRow> {
  readonly row: R;
  readonly mode: 'disable' | 'delete';
  readonly reason: 'missing' | 'purge';
  readonly live: boolean;
}

export interface MissingOutcome<R extends OwnRow> {
  readonly removals: ReadonlyArray<Removal<R>>;
  /** Live rows whose entry is gone, when deletes are off. */
  readonly missing: ReadonlyArray<MissingRow>;
  /** Live rows that stay live although their entry is not in the plan (skipped, or missing with deletes off). */
  readonly kept: ReadonlyArray<R>;
}

/**
 * What becomes of the profile's rows that no usable entry asks for. A row a skipped entry points at is kept as
 * is: a mapping error must never look like a deletion. Without deletes, missing rows are only reported.
 * With deletes: live rows are disabled or deleted per `mode`; rows removed earlier are deleted in mode
 * `delete` (the operator asked for missing rows to go) or once they have been removed longer than
 * `purgeAfter`. Those last two never count against the guard: they remove no live row, and a bad search
 * result cannot cause them (the guard protected the run that first removed them).
 */
export function planMissing<R extends OwnRow>(
  rows: Iterable<R>,
  nameOf: (row: R) => string,
  wanted: ReadonlyMap<string, unknown>,
  skips: SkipIndex,
  deletes: DeletesConfig,
  now: Date,
): MissingOutcome<R> {
  const removals: Removal<R>[] = [];
  const missing: MissingRow[] = [];
  const kept: R[] = [];
  for (const row of rows) {
    if (wanted.has(row.externalId)) continue;
    const live = row.removedAt === null;
    if (skips.covers(row)) {
      if (live) kept.push(row);
      continue;
    }
    if (!deletes.enabled) {
      if (live) {
        missing.push({ id: row.id, externalId: row.externalId, dn: row.dn, name: nameOf(row) });
        kept.push(row);
      }
      continue;
    }
    if (live) {
      removals.push({ row, mode: deletes.mode, reason: 'missing', live: true });
    } else if (deletes.mode === 'delete') {
      removals.push({ row, mode: 'delete', reason: 'missing', live: false });
    } else if (deletes.purgeAfter !== undefined && row.removedAt !== null && now.getTime() - row.removedAt.getTime() > deletes.purgeAfter) {
      removals.push({ row, mode: 'delete', reason: 'purge', live: false });
    }
  }
  return { removals, missing, kept };
}
