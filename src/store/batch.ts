import { sql, type Kysely, type RawBuilder } from 'kysely';
import { LdapsyncError } from '../shared/index.js';
import { NOTIFY_CHANNEL, notifyPayload, type AppliedChange } from './applied-change.js';
import type { Database } from './database.js';

/**
 * Rows per statement. Each batch is one JSON document read by json_to_recordset: one parameter, whatever the
 * row count, the same on Postgres and PGlite, and far fewer round trips and plans than a statement per row.
 */
export const BATCH_ROWS = 5000;

export function* chunks<T>(items: ReadonlyArray<T>, size = BATCH_ROWS): Generator<ReadonlyArray<T>> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export type Db = Kysely<Database>;

/** Runs a write and checks it touched exactly the rows the plan expected, so a stale plan rolls back. */
export async function execExpecting(db: Db, query: RawBuilder<unknown>, expected: number, what: string, table: string): Promise<void> {
  const result = await query.execute(db);
  const affected = Number(result.numAffectedRows ?? 0n);
  if (affected !== expected) {
    throw new LdapsyncError(
      'store.stale-plan',
      `${what}: ${affected} of ${expected} rows matched; the store changed after the plan was made, so nothing was written`,
      { table },
    );
  }
}

/**
 * Queues one NOTIFY per change inside the transaction: Postgres delivers them at commit and drops them on
 * rollback, so a listener never hears of a change that did not happen.
 */
export async function notifyAll(db: Db, schema: string, changes: ReadonlyArray<AppliedChange>): Promise<void> {
  for (const batch of chunks(changes)) {
    const payloads = batch.map((c) => JSON.stringify(notifyPayload(schema, c)));
    await sql`SELECT count(pg_notify(${NOTIFY_CHANNEL}, p)) FROM unnest(${payloads}::text[]) AS p`.execute(db);
  }
}
