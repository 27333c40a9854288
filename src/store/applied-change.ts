import type { FieldChanges, MappedRecord, RowId } from '../reconcile/index.js';

/** A sync_runs id (bigserial, as text). */
export type RunId = string;

interface EventBase {
  /** The profile. */
  readonly source: string;
  readonly runId: RunId;
  /** The user's or group's DN (for memberships: the group's). */
  readonly dn: string;
  /** The user's or group's external id (for memberships: the group's). */
  readonly externalId: string;
}

export interface UserCreated extends EventBase {
  readonly event: 'user.created';
  readonly userId: RowId;
  readonly username: string;
  readonly login: string;
  readonly enabled: boolean;
  /** Every mapped field as written, so that the audit log alone can rebuild the row. */
  readonly fields: MappedRecord;
}

export interface UserUpdated extends EventBase {
  readonly event: 'user.updated';
  readonly userId: RowId;
  readonly changes: FieldChanges;
  readonly revived: boolean;
}

export interface UserRemoved extends EventBase {
  readonly event: 'user.removed';
  readonly userId: RowId;
  /** `delete` also drops the user's memberships (no membership events are written for those). */
  readonly mode: 'disable' | 'delete';
  readonly reason: 'missing' | 'purge';
}

export interface GroupCreated extends EventBase {
  readonly event: 'group.created';
  readonly groupId: RowId;
  readonly name: string;
  readonly fields: MappedRecord;
}

export interface GroupUpdated extends EventBase {
  readonly event: 'group.updated';
  readonly groupId: RowId;
  readonly changes: FieldChanges;
  readonly revived: boolean;
}

export interface GroupRemoved extends EventBase {
  readonly event: 'group.removed';
  readonly groupId: RowId;
  readonly mode: 'disable' | 'delete';
  readonly reason: 'missing' | 'purge';
}

export interface MembershipAdded extends EventBase {
  readonly event: 'membership.added';
  readonly groupId: RowId;
  readonly userId: RowId;
  readonly userDn: string | undefined;
}

export interface MembershipRemoved extends EventBase {
  readonly event: 'membership.removed';
  readonly groupId: RowId;
  readonly userId: RowId;
  readonly userDn: string | undefined;
}

/** One change a committed run made: what the audit log, NOTIFY and hooks report. */
export type AppliedChange =
  | UserCreated
  | UserUpdated
  | UserRemoved
  | GroupCreated
  | GroupUpdated
  | GroupRemoved
  | MembershipAdded
  | MembershipRemoved;

/** Told of changes as a plan's writes make them: inside the transaction, so they happened only if it commits. */
export type OnApplied = (changes: ReadonlyArray<AppliedChange>) => void;

/** The changes a plan's writes have made, in order; `announce` hands those not yet announced to `onApplied`. */
export class AppliedChanges {
  readonly all: AppliedChange[] = [];
  readonly #onApplied: OnApplied | undefined;
  #announced = 0;

  constructor(onApplied: OnApplied | undefined) {
    this.#onApplied = onApplied;
  }

  push(change: AppliedChange): void {
    this.all.push(change);
  }

  announce(): void {
    if (this.#onApplied !== undefined && this.#announced < this.all.length) this.#onApplied(this.all.slice(this.#announced));
    this.#announced = this.all.length;
  }
}

/** The NOTIFY channel; payloads are `NotifyPayload` JSON. */
export const NOTIFY_CHANNEL = 'ldapsync_changes';

/**
 * What a listener receives: small (well under Postgres' 8000-byte limit) and enough to look the row up.
 * The channel is per database, so `schema` tells the stores of one database apart.
 */
export interface NotifyPayload {
  readonly event: AppliedChange['event'];
  readonly schema: string;
  readonly source: string;
  readonly runId: RunId;
  readonly externalId: string;
  readonly userId?: RowId;
  readonly groupId?: RowId;
}

/**
 * The `NotifyPayload` of a change as JSON text, written out directly: a first sync sends one per row (400,000
 * for 100,000 users in 1,000 groups), and building then stringifying an object for each cost a second there.
 * `prefix` is `notifyPrefix(schema, change)`, the same for every change of one run.
 */
export function notifyPayloadJson(prefix: string, change: AppliedChange): string {
  const head = `{"event":"${change.event}",${prefix},"externalId":${JSON.stringify(change.externalId)}`;
  switch (change.event) {
    case 'user.created':
    case 'user.updated':
    case 'user.removed':
      return `${head},"userId":${change.userId}}`;
    case 'group.created':
    case 'group.updated':
    case 'group.removed':
      return `${head},"groupId":${change.groupId}}`;
    case 'membership.added':
    case 'membership.removed':
      return `${head},"groupId":${change.groupId},"userId":${change.userId}}`;
    default:
      return change satisfies never;
  }
}

/** The members of a payload that one run's changes share: schema, source and run id. */
export function notifyPrefix(schema: string, change: AppliedChange): string {
  return `"schema":${JSON.stringify(schema)},"source":${JSON.stringify(change.source)},"runId":${JSON.stringify(change.runId)}`;
}
