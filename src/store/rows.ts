import { sql, type RawBuilder } from 'kysely';
import type { ElementType } from './array-literal.js';
import type { BatchColumn } from './batch.js';
import { GROUP_FIELDS, USER_FIELDS, type MappedRecord, type StoredGroup, type StoredGroupSummary, type StoredUser, type StoredUserSummary, type TargetField } from '../reconcile/index.js';

/** A mapped field and the column it is written to. */
export interface FieldColumn {
  readonly name: string;
  readonly column: string;
  readonly sqlType: ElementType;
}

function columnsOf(fields: ReadonlyArray<TargetField>): ReadonlyArray<FieldColumn> {
  return fields.map((f) => {
    // Column names end up in SQL text (a column definition list cannot be a parameter): allow nothing but these.
    if (!/^[a-z][a-z0-9_]*$/.test(f.column)) throw new Error(`unexpected column name ${JSON.stringify(f.column)}`);
    const sqlType: ElementType = f.type === 'string' ? 'text' : f.type === 'integer' ? 'bigint' : f.type === 'boolean' ? 'boolean' : 'jsonb';
    return { name: f.name, column: f.column, sqlType };
  });
}

/** The user columns a mapping fills; `enabled` is handled with the identity columns (it is NOT NULL). */
export const USER_COLUMNS: ReadonlyArray<FieldColumn> = columnsOf(USER_FIELDS.filter((f) => f.name !== 'enabled'));
export const GROUP_COLUMNS: ReadonlyArray<FieldColumn> = columnsOf(GROUP_FIELDS);

export function columnList(columns: ReadonlyArray<FieldColumn>, prefix = ''): RawBuilder<unknown> {
  return sql.raw(columns.map((c) => `${prefix}${c.column}`).join(', '));
}

/** `col = x.col, ...` */
export function assignments(columns: ReadonlyArray<FieldColumn>): RawBuilder<unknown> {
  return sql.raw(columns.map((c) => `${c.column} = x.${c.column}`).join(', '));
}

type Row = Readonly<Record<string, unknown>>;

/**
 * An object with every field of `columns`, all null: copies of it share one hidden class, so that 100,000
 * rows' fields stay compact objects instead of each becoming a dictionary as keys are added one by one.
 */
function blankFields(columns: ReadonlyArray<FieldColumn>): Readonly<Record<string, unknown>> {
  return Object.fromEntries(columns.map((c) => [c.name, null]));
}

const USER_BLANK = blankFields(USER_COLUMNS);
const GROUP_BLANK = blankFields(GROUP_COLUMNS);

function fieldsOf(row: Row, columns: ReadonlyArray<FieldColumn>, blank: Readonly<Record<string, unknown>>): MappedRecord {
  const fields: Record<string, unknown> = { ...blank };
  for (const c of columns) {
    const value = row[c.column];
    if (value !== null && value !== undefined) fields[c.name] = value;
  }
  return fields as MappedRecord;
}

/** The identity columns of a user row, as a sync reads them. */
export const USER_IDENTITY: ReadonlyArray<string> = ['id', 'source', 'external_id', 'dn', 'username', 'login', 'enabled', 'removed_at'];

/** The columns of a whole user row: what toStoredUser reads. */
export const USER_ROW_COLUMNS: ReadonlyArray<string> = [...USER_IDENTITY, ...USER_COLUMNS.map((c) => c.column)];

/** `USER_ROW_COLUMNS` for a select list, each prefixed (`u.`) when given. */
export function userRowColumnList(prefix = ''): RawBuilder<unknown> {
  return sql.raw(USER_ROW_COLUMNS.map((c) => `${prefix}${c}`).join(', '));
}

export function toStoredUser(row: Row): StoredUser {
  return {
    id: row['id'] as number,
    source: row['source'] as string,
    // `local` rows may have neither.
    externalId: (row['external_id'] as string | null) ?? '',
    dn: (row['dn'] as string | null) ?? '',
    username: row['username'] as string,
    login: row['login'] as string,
    enabled: row['enabled'] as boolean,
    removedAt: (row['removed_at'] as Date | null) ?? null,
    fields: fieldsOf(row, USER_COLUMNS, USER_BLANK),
  };
}

export function toStoredGroup(row: Row): StoredGroup {
  return {
    id: row['id'] as number,
    source: row['source'] as string,
    externalId: (row['external_id'] as string | null) ?? '',
    dn: (row['dn'] as string | null) ?? '',
    name: row['name'] as string,
    removedAt: (row['removed_at'] as Date | null) ?? null,
    fields: fieldsOf(row, GROUP_COLUMNS, GROUP_BLANK),
    memberIds: (row['member_ids'] as number[] | null) ?? [],
  };
}

/**
 * A user row as a sync first reads it: its identity, and the digest of the entry it was last written from
 * (null when it was written otherwise, or changed since: see migration 0005). No fields: a row whose entry
 * has the same digest holds its record, and only the other rows are read whole.
 */
export type DigestedUserSummary = StoredUserSummary & { readonly entryDigest: string | null };

/** One object literal, as in toStoredUser: spreading a shared identity object made 100,000 rows a half larger. */
export function toDigestedUserSummary(row: Row): DigestedUserSummary {
  return {
    id: row['id'] as number,
    source: row['source'] as string,
    externalId: (row['external_id'] as string | null) ?? '',
    dn: (row['dn'] as string | null) ?? '',
    username: row['username'] as string,
    login: row['login'] as string,
    enabled: row['enabled'] as boolean,
    removedAt: (row['removed_at'] as Date | null) ?? null,
    entryDigest: (row['entry_digest'] as string | null) ?? null,
  };
}

/** A group row as a group sync first reads it: its identity and the digest it was last written with (0006). */
export type DigestedGroupSummary = StoredGroupSummary & { readonly entryDigest: string | null };

export function toDigestedGroupSummary(row: Row): DigestedGroupSummary {
  return {
    id: row['id'] as number,
    source: row['source'] as string,
    externalId: (row['external_id'] as string | null) ?? '',
    dn: (row['dn'] as string | null) ?? '',
    name: row['name'] as string,
    removedAt: (row['removed_at'] as Date | null) ?? null,
    entryDigest: (row['entry_digest'] as string | null) ?? null,
  };
}

/** The batch columns that carry mapped fields, read from each item's `fields`. */
export function fieldBatchColumns<T extends { readonly fields: MappedRecord }>(columns: ReadonlyArray<FieldColumn>): ReadonlyArray<BatchColumn<T>> {
  return columns.map((c) => ({ column: c.column, type: c.sqlType, value: (item: T) => item.fields[c.name] }));
}
