import { sql, type Kysely, type QueryResult, type RawBuilder } from 'kysely';
import { LdapsyncError } from '../shared/index.js';
import { NOTIFY_CHANNEL, notifyPayloadJson, notifyPrefix, type AppliedChange } from './applied-change.js';
import { arrayLiteral, type ElementType } from './array-literal.js';
import type { Database } from './database.js';

/**
 * Rows per statement: a batch travels in one or a few parameters, so a statement costs the same few round
 * trips whatever its row count, on Postgres and PGlite alike. Larger batches measured no faster.
 */
export const BATCH_ROWS = 5000;

/** A column of a batch and how to read its value from one item. */
export interface BatchColumn<T> {
  /** The column name in the batch (and usually in the table); a plain snake_case identifier. */
  readonly column: string;
  readonly type: ElementType;
  readonly value: (item: T) => unknown;
}

/**
 * How a packed batch travels: as the bytes (bytea) to Postgres, or as text to PGlite, whose bytea parameters
 * took 0.4-0.5 s and hundreds of MB of its memory for each 2.5 MB batch here (its first sync of 100,000 users:
 * 37 s and 1.1 GB, against 12 s and 644 MB as text).
 */
export type Wire = 'bytea' | 'text';

/**
 * The bytes a batch is packed into, sent as one parameter (see `Wire`): grown as needed and, in `runBatches`, used
 * again batch after batch. Packed into a string, each batch of a first sync (2.5 MB of users, 1 MB of NOTIFY payloads)
 * was a large object that outlived its statement in V8's heap until the next full collection: most of the 70 to
 * 80 MB that large objects held at the peak of a first sync of 100,000 users, or of its groups.
 */
export class PackBuffer {
  readonly wire: Wire;
  #bytes: Buffer;
  #used = 0;

  constructor(wire: Wire, size = 64 * 1024) {
    this.wire = wire;
    this.#bytes = Buffer.allocUnsafe(size);
  }

  /** Starts over: what was packed before is overwritten. */
  clear(): void {
    this.#used = 0;
  }

  text(value: string): void {
    // A UTF-16 code unit takes at most 3 bytes of UTF-8.
    this.#reserve(value.length * 3);
    this.#used += this.#bytes.write(value, this.#used, 'utf8');
  }

  byte(value: number): void {
    this.#reserve(1);
    this.#bytes[this.#used++] = value;
  }

  /** What was packed since `clear`: a view of the buffer, valid until the next `clear`. */
  get bytes(): Buffer {
    return this.#bytes.subarray(0, this.#used);
  }

  #reserve(bytes: number): void {
    if (this.#used + bytes <= this.#bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.#used + bytes, this.#bytes.length * 2));
    this.#bytes.copy(grown, 0, 0, this.#used);
    this.#bytes = grown;
  }
}

/**
 * The batch as a derived table `x` with the given columns, to select from, packed into `into`.
 *
 * Usually the rows travel packed in one parameter of UTF-8 text, as bytea or text (`Wire`): fields separated by
 * U+001F, rows by U+001E, NULL as U+001D. The server splits it with string_to_array, which parses faster than
 * array or JSON input (a fifth off a 100,000-row first sync). A batch with a value containing one of those control characters
 * travels as one array per column instead, and so does a batch of ids alone (memberships): integer arrays
 * parse faster than the split text (0.55 s against 0.40 s for a first sync's 300,000 memberships here).
 */
export function batchRows<T>(items: ReadonlyArray<T>, columns: ReadonlyArray<BatchColumn<T>>, into: PackBuffer): RawBuilder<unknown> {
  if (columns.every((c) => c.type === 'bigint')) return unnestRows(items, columns);
  if (!pack(items, columns, into)) return unnestRows(items, columns);
  const select = columns.map((c, i) => `f[${i + 1}]::${c.type} AS ${c.column}`).join(', ');
  // OFFSET 0 keeps the split in the subquery: pulled up, it would run once per column reference.
  return sql`(SELECT ${sql.raw(select)}
              FROM (SELECT string_to_array(line, E'\x1f', E'\x1d') AS f
                    FROM unnest(string_to_array(${packedText(into)}, E'\x1e')) AS line OFFSET 0) AS s
             ) AS x`;
}

/** What `into` holds, as a text expression of the statement. */
function packedText(into: PackBuffer): RawBuilder<string> {
  return into.wire === 'bytea' ? sql`convert_from(${into.bytes}, 'UTF8')` : sql`${into.bytes.toString('utf8')}::text`;
}

const FIELD_SEPARATOR = '\x1f';
const ROW_SEPARATOR = 0x1e;
const NULL_MARK = '\x1d';
const RESERVED = /[\x1d-\x1f]/;

/** Packs the rows into `into`; false when a value holds one of the separators (what was packed is then of no use). */
function pack<T>(items: ReadonlyArray<T>, columns: ReadonlyArray<BatchColumn<T>>, into: PackBuffer): boolean {
  const fields = new Array<string>(columns.length);
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T;
    for (let j = 0; j < columns.length; j++) {
      const column = columns[j] as BatchColumn<T>;
      const value = column.value(item);
      let text: string;
      if (value === null || value === undefined) text = NULL_MARK;
      else if (column.type === 'jsonb') text = JSON.stringify(value); // JSON escapes every control character
      else if (column.type === 'boolean') text = value === true ? 't' : 'f';
      else {
        text = typeof value === 'string' ? value : String(value);
        if (RESERVED.test(text)) return false;
      }
      fields[j] = text;
    }
    if (i > 0) into.byte(ROW_SEPARATOR);
    into.text(fields.join(FIELD_SEPARATOR));
  }
  return true;
}

/** `unnest($1::text[], $2::bigint[], ...) AS x(col1, col2, ...)`: the batch as one array per column. */
export function unnestRows<T>(items: ReadonlyArray<T>, columns: ReadonlyArray<BatchColumn<T>>): RawBuilder<unknown> {
  const arrays = columns.map((c) => sql`${arrayLiteral(items.map(c.value), c.type)}::${sql.raw(c.type)}[]`);
  return sql`unnest(${sql.join(arrays)}) AS x(${sql.raw(columns.map((c) => c.column).join(', '))})`;
}

export function* chunks<T>(items: ReadonlyArray<T>, size = BATCH_ROWS): Generator<ReadonlyArray<T>> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

export type Db = Kysely<Database>;

/**
 * One statement per batch of `items`, in order, each handed with its result to `done` once it has run. A
 * statement is built (its rows packed into its parameter) while the one before it runs on the server; one is in
 * flight at a time. `build` packs its batch into the buffer it is given (`batchRows(part, columns, into)`): two
 * take turns, and each is packed again only once the statement that sent it has run.
 */
export async function runBatches<T, R>(
  db: Db,
  wire: Wire,
  items: ReadonlyArray<T>,
  build: (part: ReadonlyArray<T>, into: PackBuffer) => RawBuilder<R>,
  done?: (part: ReadonlyArray<T>, result: QueryResult<R>) => void,
  rows = BATCH_ROWS,
): Promise<void> {
  let running: { readonly part: ReadonlyArray<T>; readonly result: Promise<QueryResult<R>> } | undefined;
  const finish = async (batch: { readonly part: ReadonlyArray<T>; readonly result: Promise<QueryResult<R>> }): Promise<void> => {
    // Awaited whether or not anyone wants the result: a statement must not outlive the transaction it runs in.
    const result = await batch.result;
    done?.(batch.part, result);
  };
  const buffers = [new PackBuffer(wire), new PackBuffer(wire)] as const;
  let turn = 0;
  for (const part of chunks(items, rows)) {
    // The statement before the one in flight has run: its buffer is free.
    const into = buffers[turn++ % 2] as PackBuffer;
    into.clear();
    const query = build(part, into);
    if (running !== undefined) await finish(running);
    running = { part, result: query.execute(db) };
  }
  if (running !== undefined) await finish(running);
}

/** `runBatches` of writes, each checked like `execExpecting`. */
export function execBatches<T>(
  db: Db,
  wire: Wire,
  items: ReadonlyArray<T>,
  build: (part: ReadonlyArray<T>, into: PackBuffer) => RawBuilder<unknown>,
  what: string,
  table: string,
  rows = BATCH_ROWS,
): Promise<void> {
  return runBatches(db, wire, items, build, (part, result) => expectAffected(result, part.length, what, table), rows);
}

/** Runs a write and checks it touched exactly the rows the plan expected, so a stale plan rolls back. */
export async function execExpecting(db: Db, query: RawBuilder<unknown>, expected: number, what: string, table: string): Promise<void> {
  expectAffected(await query.execute(db), expected, what, table);
}

function expectAffected(result: QueryResult<unknown>, expected: number, what: string, table: string): void {
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
export async function notifyAll(db: Db, wire: Wire, schema: string, changes: ReadonlyArray<AppliedChange>): Promise<void> {
  const first = changes[0];
  if (first === undefined) return;
  // One run's changes share schema, source and run id.
  const prefix = notifyPrefix(schema, first);
  await runBatches(db, wire, changes, (batch, into) => {
    // JSON escapes every control character, so the row separator can join the payloads.
    for (let i = 0; i < batch.length; i++) {
      if (i > 0) into.byte(ROW_SEPARATOR);
      into.text(notifyPayloadJson(prefix, batch[i] as AppliedChange));
    }
    return sql`SELECT count(pg_notify(${NOTIFY_CHANNEL}, p)) FROM unnest(string_to_array(${packedText(into)}, E'\x1e')) AS p`;
  });
}
