import type { Secret } from '../shared/index.js';
import type { CompiledMapping } from '../dsl/index.js';

/**
 * The loaded configuration: a deeply frozen value built once from (file text, environment, secret files).
 * Later stages consume only this; they never see YAML or raw expression text.
 */
export interface Config {
  /** Absolute path of the file it was loaded from. */
  readonly file: string;
  /** sha256 of the file text, hex; recorded on every sync run. */
  readonly hash: string;
  readonly store: StoreConfig;
  readonly log: LogConfig;
  /** Absent when no HTTP listener is configured. */
  readonly http: HttpConfig | undefined;
  /** Lower-cased; a login without `@domain` uses it. */
  readonly defaultDomain: string | undefined;
  /** Absolute paths of hook modules exporting `onChange(event)`. */
  readonly hooks: ReadonlyArray<string>;
  /** Profiles in file order. */
  readonly servers: ReadonlyMap<string, Profile>;
}

export interface StoreConfig {
  /** `postgres://...` or `pglite://PATH` (PATH absolute, resolved against the config file's directory). */
  readonly url: string;
  /** Postgres schema holding ldapsync's tables. Default `ldapsync`. */
  readonly schema: string;
}

export interface LogConfig {
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface HttpConfig {
  /** `host:port`; host defaults to 127.0.0.1. */
  readonly host: string;
  readonly port: number;
  /** Bearer token required for /v1/authenticate from a non-loopback address. */
  readonly authToken: Secret | undefined;
  /** Whether POST /v1/authenticate is served at all. */
  readonly authenticate: boolean;
}

export interface TlsConfig {
  /** Absolute path of a PEM CA bundle. */
  readonly caFile: string | undefined;
  readonly rejectUnauthorized: boolean;
  readonly serverName: string | undefined;
}

export interface Timeouts {
  /** Milliseconds. */
  readonly connect: number;
  readonly operation: number;
}

export type Scope = 'base' | 'one' | 'sub';

export interface UserQuery {
  readonly baseDN: string;
  readonly scope: Scope;
  /** A valid LDAP filter (checked with ldapts' parser at load time). */
  readonly filter: string;
  readonly sync: boolean;
  readonly usernameAttribute: string;
  readonly idAttribute: string;
  readonly mapping: CompiledMapping;
}

export interface GroupQuery {
  readonly baseDN: string;
  readonly scope: Scope;
  readonly filter: string;
  readonly sync: boolean;
  readonly nameAttribute: string;
  readonly idAttribute: string;
  readonly memberAttribute: 'member' | 'uniqueMember' | 'memberUid';
  /** Members of member groups count as members (cycle-safe). */
  readonly flattenNested: boolean;
  /**
   * Who resolves nested groups when `flattenNested` is on: ldapsync from the groups it reads (`client`, the
   * default when absent), or Active Directory with in-chain matching (`server`), one search per group.
   */
  readonly nestedVia?: 'client' | 'server';
  readonly mapping: CompiledMapping;
}

export interface DeletesConfig {
  readonly enabled: boolean;
  /** Abort when removals exceed this percentage of the profile's live rows. Default 5. */
  readonly maxPercentage: number;
  /** Abort when removals exceed this count, if set. */
  readonly maxCount: number | undefined;
  readonly mode: 'disable' | 'delete';
  /** Milliseconds a disabled row is kept before it is deleted; undefined keeps it forever. */
  readonly purgeAfter: number | undefined;
}

export interface Profile {
  readonly name: string;
  /** `ldap://host:port` or `ldaps://host:port`. */
  readonly url: string;
  readonly startTLS: boolean;
  readonly tls: TlsConfig;
  readonly bindDN: string | undefined;
  readonly bindPassword: Secret | undefined;
  /** Lower-cased; the first is the primary (used for `login`). */
  readonly domains: ReadonlyArray<string>;
  readonly timeouts: Timeouts;
  readonly pageSize: number;
  /** `openldap` or `ad`: AD turns on range retrieval and AD error sub-codes. */
  readonly serverType: 'openldap' | 'ad' | 'generic';
  readonly users: UserQuery;
  readonly groups: GroupQuery | undefined;
  /** Cron expression (croner syntax); default `0 0 * * *`. */
  readonly schedule: string;
  /** IANA time zone; default the process's. */
  readonly timezone: string | undefined;
  readonly deletes: DeletesConfig;
}
