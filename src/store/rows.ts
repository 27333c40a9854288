import { sql, type RawBuilder } from 'kysely';
import type { ElementType } from './array-literal.js';
import type { BatchColumn } from './batch.js';
import { GROUP_FIELDS, sameValue, USER_FIELDS, type MappedRecord, type StoredGroup, type StoredUser, type StoredUserSummary, type TargetField } from '../reconcile/index.js';

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
 * A user row as a sync first reads it: its identity, its text fields in one JSON array text (what Postgres'
 * array_to_json prints: `[null,"a","b"]`), and its other fields (a number, the maps) as values. Reading
 * 100,000 rows so takes two thirds of the time and holds a third less than whole rows; `unpackUser` makes the
 * whole row.
 */
export interface PackedStoredUser extends StoredUserSummary {
  /** The fields of PACKED_USER_COLUMNS, in their order. */
  readonly packedFields: string;
  /** The fields of LOOSE_USER_COLUMNS, by field name. */
  readonly loose: Readonly<Record<string, unknown>>;
}

/** Text columns, packed; the others are read as values, since text alone would not tell 5 from "5". */
export const PACKED_USER_COLUMNS: ReadonlyArray<FieldColumn> = USER_COLUMNS.filter((c) => c.sqlType === 'text');
export const LOOSE_USER_COLUMNS: ReadonlyArray<FieldColumn> = USER_COLUMNS.filter((c) => c.sqlType !== 'text');

/** One object literal, as in toStoredUser: spreading a shared identity object made 100,000 rows a half larger. */
export function toPackedStoredUser(row: Row): PackedStoredUser {
  const loose: Record<string, unknown> = {};
  for (const c of LOOSE_USER_COLUMNS) loose[c.name] = row[c.column] ?? null;
  return {
    id: row['id'] as number,
    source: row['source'] as string,
    externalId: (row['external_id'] as string | null) ?? '',
    dn: (row['dn'] as string | null) ?? '',
    username: row['username'] as string,
    login: row['login'] as string,
    enabled: row['enabled'] as boolean,
    removedAt: (row['removed_at'] as Date | null) ?? null,
    packedFields: row['packed_fields'] as string,
    loose,
  };
}

/** The whole row of a packed one. */
export function unpackUser(row: PackedStoredUser): StoredUser {
  const { packedFields, loose, ...identity } = row;
  const values = JSON.parse(packedFields) as unknown[];
  const fields: Record<string, unknown> = { ...USER_BLANK };
  PACKED_USER_COLUMNS.forEach((c, i) => {
    const value = values[i];
    if (value !== null && value !== undefined) fields[c.name] = value;
  });
  for (const c of LOOSE_USER_COLUMNS) if (loose[c.name] !== null && loose[c.name] !== undefined) fields[c.name] = loose[c.name];
  return { ...identity, fields: fields as MappedRecord };
}

/** The values of one entry's packed fields, reused from entry to entry (JSON.stringify is done with it at once). */
const scratch: unknown[] = new Array<unknown>(PACKED_USER_COLUMNS.length);

/**
 * Whether a packed row's fields hold exactly these mapped fields: the loose ones are the same (`sameValue`),
 * and the text ones, put in an array, print as the row's text. Every packed value of a row is a string or
 * null, and JSON.stringify prints only strings as strings, so equal texts mean equal values. False may still
 * be the same record (a string escaped otherwise): the planner's comparison of the whole row then decides.
 */
export function holdsPackedFields(row: PackedStoredUser, fields: MappedRecord): boolean {
  for (const c of LOOSE_USER_COLUMNS) if (!sameValue(row.loose[c.name], fields[c.name])) return false;
  for (let i = 0; i < PACKED_USER_COLUMNS.length; i++) scratch[i] = fields[(PACKED_USER_COLUMNS[i] as FieldColumn).name] ?? null;
  return JSON.stringify(scratch) === row.packedFields;
}

/** The batch columns that carry mapped fields, read from each item's `fields`. */
export function fieldBatchColumns<T extends { readonly fields: MappedRecord }>(columns: ReadonlyArray<FieldColumn>): ReadonlyArray<BatchColumn<T>> {
  return columns.map((c) => ({ column: c.column, type: c.sqlType, value: (item: T) => item.fields[c.name] }));
}
