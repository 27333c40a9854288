import { BerReader } from 'ldapts';
import type { GroupQuery, Profile } from '../config/types.js';
import type { Entry, Logger } from '../shared/index.js';
import { LdapConnection, PAGED_RESULTS_OID, resultError, type SearchHandle } from './connection.js';
import { escapeFilterValue } from './escape-filter-value.js';
import { LdapError, type LdapErrorWhere } from './ldap-error.js';
import type { OperationResult } from './message-decoder.js';
import { RangeRetrievalError, RangedAttributeMerger, hasRangedAttributes } from './ranged-attributes.js';
import { rootDseOf, type RootDse } from './root-dse.js';
import { EncodedFilter, FilterSyntaxError, parseFilter, type FilterNode } from './search-filter.js';

export interface DirectoryOptions {
  readonly logger: Logger;
  /** Log every LDAP operation at debug level (`--debug`); secrets never appear. */
  readonly debug?: boolean;
}

interface Query {
  readonly baseDN: string;
  readonly scope: 'base' | 'one' | 'sub';
  readonly filterText: string;
  readonly attributes: ReadonlyArray<string>;
}

const NO_COOKIE = Buffer.alloc(0);
/** Active Directory's default MaxValRange: the values of one attribute a ranged answer carries at most. */
const AD_RANGE_CHUNK = 1500;
/** LDAP_MATCHING_RULE_IN_CHAIN: Active Directory follows DN links transitively (members of member groups...). */
const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

/**
 * A profile's directory, bound with the service account: the user and group queries read as streams of pages,
 * counts, a user by name, and the root DSE.
 *
 * Pages are read with the paged results control and handed on one at a time. The next page is asked for before
 * the current one is handed on, so the server works while the caller does; at most two pages are in memory.
 */
export class Directory implements AsyncDisposable {
  readonly #profile: Profile;
  readonly #options: DirectoryOptions;
  readonly #connection: LdapConnection;
  /** Servers keep one paged-results state per connection: a second read at the same time gets its own. */
  #pagedReadActive = false;
  readonly #extraConnections = new Set<LdapConnection>();
  #closed = false;
  /** Set once the server has answered with a ranged attribute: from then on group members are asked for in ranges. */
  #rangedAnswerSeen = false;

  private constructor(profile: Profile, options: DirectoryOptions, connection: LdapConnection) {
    this.#profile = profile;
    this.#options = options;
    this.#connection = connection;
  }

  /** Connects (ldap, ldaps or StartTLS as configured) and binds with the profile's service account, or anonymously. */
  static async open(profile: Profile, options: DirectoryOptions): Promise<Directory> {
    const connection = await openBound(profile, options);
    return new Directory(profile, options, connection);
  }

  get profile(): Profile {
    return this.#profile;
  }

  async rootDse(): Promise<RootDse> {
    const [entry] = await this.#searchAll(this.#connection, { baseDN: '', scope: 'base', filterText: '(objectClass=*)', attributes: ['*', '+'] }, 'read the root DSE');
    if (entry === undefined) throw new LdapError('ldap.protocol', 'the server returned no root DSE (is anonymous read of it forbidden?)', this.#connection.where);
    return rootDseOf(entry);
  }

  /**
   * The entries of the profile's user query, a page at a time. `attributes` are names in any case, or undefined
   * for all user attributes; the username and id attributes are always added (operational ones such as
   * entryUUID or memberOf must be named to come back).
   */
  users(attributes?: ReadonlyArray<string>): AsyncIterable<ReadonlyArray<Entry>> {
    const query = this.#profile.users;
    return this.#paged(
      {
        baseDN: query.baseDN,
        scope: query.scope,
        filterText: query.filter,
        attributes: withRequired(attributes, [query.usernameAttribute, query.idAttribute]),
      },
      'users',
    );
  }

  /**
   * The entries of the profile's group query; adds the name, id and member attributes.
   *
   * On Active Directory (or once the server has answered in ranges) members are asked for in ranges: Windows
   * sends at most 1500 values of an attribute and marks the answer as a range, Samba only when asked, and
   * either way the rest is read until the last range. With `nestedVia: server` (and `flattenNested`), each
   * group's member values are instead the users of the user query that are its members in chain, as AD
   * resolves them (one search per group).
   */
  groups(attributes?: ReadonlyArray<string>): AsyncIterable<ReadonlyArray<Entry>> {
    const query = this.#groupQuery();
    const inChain = query.flattenNested && query.nestedVia === 'server';
    const member = query.memberAttribute;
    const ranged = !inChain && (this.#profile.serverType === 'ad' || this.#rangedAnswerSeen);
    // Named next to its ranged form, the attribute could come back twice; in chain it is not read at all.
    const requested = inChain || ranged ? attributes?.filter((name) => name.toLowerCase() !== member.toLowerCase()) : attributes;
    const required = [query.nameAttribute, query.idAttribute];
    if (ranged) required.push(`${member};range=0-${AD_RANGE_CHUNK - 1}`);
    else if (!inChain) required.push(member);
    const pages = this.#paged({ baseDN: query.baseDN, scope: query.scope, filterText: query.filter, attributes: withRequired(requested, required) }, 'groups');
    return inChain ? this.#withMembersInChain(pages, query) : pages;
  }

  /** How many entries the user or group query matches (read page by page, without attributes). */
  async count(which: 'users' | 'groups'): Promise<number> {
    const query = which === 'users' ? this.#profile.users : this.#groupQuery();
    let total = 0;
    for await (const page of this.#paged({ baseDN: query.baseDN, scope: query.scope, filterText: query.filter, attributes: ['1.1'] }, which)) {
      total += page.length;
    }
    return total;
  }

  /**
   * The user of the user query (base DN, scope, and its filter) whose username attribute equals `username`,
   * matched by the server's rules for that attribute (usually case-insensitive). The name is sent as a value,
   * never as filter text, so `*` or `)(` in it match only themselves. undefined if none; an error if several.
   */
  async findUser(username: string, attributes?: ReadonlyArray<string>): Promise<Entry | undefined> {
    const query = this.#profile.users;
    if (username === '') return undefined;
    const filterText = `(&${parenthesized(query.filter)}(${query.usernameAttribute}=${escapeFilterValue(username)}))`;
    const byName: FilterNode = { kind: 'equal', attribute: query.usernameAttribute, value: Buffer.from(username, 'utf8') };
    const filter = new EncodedFilter({ kind: 'and', filters: [filterOf(query.filter, this.#connection.where), byName] }, filterText);
    const where = { ...this.#connection.where, dn: query.baseDN };
    const entries: Entry[] = [];
    const started = Date.now();
    const handle = this.#connection.search(
      {
        baseDN: query.baseDN,
        scope: query.scope,
        filter,
        filterText,
        attributes: withRequired(attributes, [query.usernameAttribute, query.idAttribute]),
        // Two are enough to tell "exactly one" from "ambiguous".
        sizeLimit: 2,
      },
      (entry) => entries.push(entry),
    );
    const result = await handle.done;
    this.#debug('find user', { base: query.baseDN, filter: filterText, entries: entries.length, resultCode: result.resultCode, ms: Date.now() - started });
    const ambiguous = entries.length > 1;
    if (result.resultCode !== 0 && !(result.resultCode === 4 && ambiguous)) throw resultError(result, where, `find user ${JSON.stringify(username)} under ${query.baseDN}`);
    if (ambiguous) {
      throw new LdapError(
        'ldap.ambiguous-user',
        `more than one entry under ${query.baseDN} has ${query.usernameAttribute}=${username} (${entries.map((e) => e.dn).join('; ')}); narrow users.filter or use a unique usernameAttribute`,
        where,
      );
    }
    const [entry] = entries;
    return entry === undefined ? undefined : this.#completeRanges(entry, this.#connection);
  }

  /** Unbinds and closes every connection. Never throws; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#connection, ...this.#extraConnections].map((c) => c.close()));
    this.#extraConnections.clear();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async *#paged(query: Query, what: string): AsyncGenerator<ReadonlyArray<Entry>> {
    const where = { ...this.#connection.where, dn: query.baseDN };
    const filter = new EncodedFilter(filterOf(query.filterText, where), query.filterText);
    const { connection, release } = await this.#pagingConnection();
    try {
      yield* this.#pagesOn(connection, query, filter, what);
    } finally {
      release();
    }
  }

  /** The paged search itself, on a connection that no other paged search uses meanwhile. */
  async *#pagesOn(connection: LdapConnection, query: Query, filter: EncodedFilter, what: string): AsyncGenerator<ReadonlyArray<Entry>> {
    const where = { ...connection.where, dn: query.baseDN };
    const pageSize = this.#profile.pageSize;
    const request = (cookie: Buffer): { readonly handle: SearchHandle; readonly entries: Entry[]; readonly started: number } => {
      const entries: Entry[] = [];
      const handle = connection.search(
        { baseDN: query.baseDN, scope: query.scope, filter, filterText: query.filterText, attributes: query.attributes, page: { size: pageSize, cookie } },
        (entry) => entries.push(entry),
      );
      // Awaited below, unless the caller stops reading first; then its failure is of no interest.
      handle.done.catch(() => undefined);
      return { handle, entries, started: Date.now() };
    };
    let next: ReturnType<typeof request> | undefined = request(NO_COOKIE);
    let pageNumber = 0;
    try {
      while (next !== undefined) {
        const page = next;
        const result = await page.handle.done;
        if (result.resultCode !== 0) throw resultError(result, where, `read ${what} under ${query.baseDN} (filter ${query.filterText})`);
        const cookie = pagedCookie(result, where);
        next = cookie.length > 0 ? request(cookie) : undefined;
        pageNumber++;
        this.#debug('search page', {
          what,
          base: query.baseDN,
          scope: query.scope,
          filter: query.filterText,
          attributes: query.attributes,
          page: pageNumber,
          entries: page.entries.length,
          more: next !== undefined,
          ms: Date.now() - page.started,
        });
        const entries = this.#profile.serverType === 'openldap' ? page.entries : await this.#completeAllRanges(page.entries, connection);
        if (entries.length > 0) yield entries;
      }
    } finally {
      // The caller stopped early (or a page failed): the server need not produce the page asked for in advance.
      if (next !== undefined) connection.abandon(next.handle.messageId);
    }
  }

  /** Replaces each group's member values by the DNs of the users of the user query that are its members in chain. */
  async *#withMembersInChain(pages: AsyncIterable<ReadonlyArray<Entry>>, query: GroupQuery): AsyncGenerator<ReadonlyArray<Entry>> {
    let lookups: { readonly connection: LdapConnection; readonly release: () => void } | undefined;
    try {
      for await (const page of pages) {
        // The group read keeps a paged search open on its connection: the lookups page on one of their own.
        lookups ??= await this.#pagingConnection();
        const groups: Entry[] = [];
        for (const group of page) {
          const members = await this.#usersInChain(lookups.connection, group.dn);
          const attributes = new Map(group.attributes);
          attributes.set(query.memberAttribute.toLowerCase(), members);
          groups.push({ dn: group.dn, attributes });
        }
        yield groups;
      }
    } finally {
      lookups?.release();
    }
  }

  /** `(&(users.filter)(memberOf:1.2.840.113556.1.4.1941:=GROUP))` under the users' base: AD walks the nesting. */
  async #usersInChain(connection: LdapConnection, groupDn: string): Promise<string[]> {
    const users = this.#profile.users;
    const where = { ...connection.where, dn: users.baseDN };
    const filterText = `(&${parenthesized(users.filter)}(memberOf:${IN_CHAIN_RULE}:=${escapeFilterValue(groupDn)}))`;
    const inChain: FilterNode = { kind: 'extensible', attribute: 'memberOf', rule: IN_CHAIN_RULE, dnAttributes: false, value: Buffer.from(groupDn, 'utf8') };
    const filter = new EncodedFilter({ kind: 'and', filters: [filterOf(users.filter, where), inChain] }, filterText);
    const members: string[] = [];
    const query: Query = { baseDN: users.baseDN, scope: users.scope, filterText, attributes: ['1.1'] };
    for await (const page of this.#pagesOn(connection, query, filter, `members in chain of ${groupDn}`)) {
      for (const entry of page) members.push(entry.dn);
    }
    return members;
  }

  async #pagingConnection(): Promise<{ readonly connection: LdapConnection; readonly release: () => void }> {
    // A closed directory's connection fails every request with ldap.closed; no new connection is opened for it.
    if (this.#closed) return { connection: this.#connection, release: () => undefined };
    if (!this.#pagedReadActive) {
      this.#pagedReadActive = true;
      return { connection: this.#connection, release: () => (this.#pagedReadActive = false) };
    }
    const extra = await openBound(this.#profile, this.#options);
    this.#extraConnections.add(extra);
    return {
      connection: extra,
      release: () => {
        this.#extraConnections.delete(extra);
        void extra.close();
      },
    };
  }

  async #searchAll(connection: LdapConnection, query: Query, operation: string): Promise<Entry[]> {
    const entries: Entry[] = [];
    const started = Date.now();
    const where = { ...connection.where, dn: query.baseDN };
    const handle = connection.search(
      { baseDN: query.baseDN, scope: query.scope, filter: new EncodedFilter(filterOf(query.filterText, where), query.filterText), filterText: query.filterText, attributes: query.attributes },
      (entry) => entries.push(entry),
    );
    const result = await handle.done;
    this.#debug('search', { base: query.baseDN, scope: query.scope, filter: query.filterText, attributes: query.attributes, entries: entries.length, ms: Date.now() - started });
    if (result.resultCode !== 0) throw resultError(result, where, operation);
    return entries;
  }

  async #completeAllRanges(entries: Entry[], connection: LdapConnection): Promise<Entry[]> {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as Entry;
      if (hasRangedAttributes(entry)) entries[i] = await this.#completeRanges(entry, connection);
    }
    return entries;
  }

  /** Active Directory range retrieval: asks for the rest of each ranged attribute until its last chunk. */
  async #completeRanges(entry: Entry, connection: LdapConnection): Promise<Entry> {
    if (!hasRangedAttributes(entry)) return entry;
    this.#rangedAnswerSeen = true;
    const where = { ...connection.where, dn: entry.dn };
    try {
      const merger = new RangedAttributeMerger(entry);
      while (!merger.complete) {
        const attributes = [...merger.result().next].map(([name, low]) => `${name};range=${low}-*`);
        const [more] = await this.#searchAll(connection, { baseDN: entry.dn, scope: 'base', filterText: '(objectClass=*)', attributes }, `read ${attributes.join(', ')} of ${entry.dn}`);
        if (more === undefined) throw new RangeRetrievalError(`${entry.dn} disappeared while its ranged attributes were read`);
        merger.add(more);
      }
      return merger.result().entry;
    } catch (err) {
      if (err instanceof RangeRetrievalError) throw new LdapError('ldap.protocol', `range retrieval: ${err.message}`, where, { cause: err });
      throw err;
    }
  }

  #groupQuery(): GroupQuery {
    const query = this.#profile.groups;
    if (query === undefined) throw new LdapError('ldap.no-group-query', 'the profile has no groups query (servers.<name>.groups)', this.#connection.where);
    return query;
  }

  #debug(operation: string, fields: Readonly<Record<string, unknown>>): void {
    if (this.#options.debug === true) this.#options.logger.debug({ profile: this.#profile.name, op: operation, ...fields }, `ldap ${operation}`);
  }
}

/** A connection bound as the profile's service account; anonymous when it has no password. */
async function openBound(profile: Profile, options: DirectoryOptions): Promise<LdapConnection> {
  const connection = await LdapConnection.open(profile, options);
  try {
    if (profile.bindPassword === undefined) {
      if (profile.bindDN !== undefined) {
        options.logger.warn({ profile: profile.name, bindDN: profile.bindDN }, 'bindDN has no bindPassword: binding anonymously');
      }
      await connection.bind('', '');
    } else {
      await connection.bind(profile.bindDN ?? '', profile.bindPassword.reveal());
    }
    return connection;
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** The requested names plus the required ones, without case-insensitive duplicates; undefined means all (`*`). */
function withRequired(requested: ReadonlyArray<string> | undefined, required: ReadonlyArray<string>): string[] {
  const names = requested === undefined ? ['*'] : [...requested];
  const seen = new Set(names.map((n) => n.toLowerCase()));
  const unique = names.filter((n, i) => names.findIndex((m) => m.toLowerCase() === n.toLowerCase()) === i);
  for (const name of required) {
    if (!seen.has(name.toLowerCase())) {
      seen.add(name.toLowerCase());
      unique.push(name);
    }
  }
  return unique;
}

function parenthesized(filter: string): string {
  const trimmed = filter.trim();
  return trimmed.startsWith('(') ? trimmed : `(${trimmed})`;
}

function filterOf(text: string, where: LdapErrorWhere): FilterNode {
  try {
    return parseFilter(text);
  } catch (err) {
    if (!(err instanceof FilterSyntaxError)) throw err;
    throw new LdapError('ldap.protocol', `the filter ${text} is not a valid LDAP filter: ${err.message} at character ${err.offset + 1}`, where, { cause: err });
  }
}

/** The cookie of the paged results control of a SearchResultDone; empty when it was the last page. */
function pagedCookie(result: OperationResult, where: LdapErrorWhere): Buffer {
  const control = result.controls.find((c) => c.type === PAGED_RESULTS_OID);
  // A server that ignored the (non-critical) control sent everything in one go.
  if (control?.value === undefined) return NO_COOKIE;
  try {
    const reader = new BerReader(control.value);
    reader.readSequence();
    reader.readInt();
    return reader.readString(0x04, true) ?? NO_COOKIE;
  } catch (err) {
    throw new LdapError('ldap.protocol', `the server's paged results control cannot be read: ${(err as Error).message}`, where, { cause: err });
  }
}
