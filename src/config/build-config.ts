import { resolve } from 'node:path';
import { checkLdapFilter } from '../ldap/filter-check.js';
import { didYouMean } from '../shared/index.js';
import type { Secret } from '../shared/index.js';
import type { KeyPath } from './config-source.js';
import { checkCron } from './cron-check.js';
import { checkDnSyntax } from './dn-syntax.js';
import { parseDuration } from './duration.js';
import { deepFreeze, FrozenMap } from './frozen-map.js';
import type { LoadContext } from './load-context.js';
import type { MappingCompiler } from './mapping-compile.js';
import { isSensitiveKey } from './redactor.js';
import { resolveSecret } from './secrets.js';
import { canonicalTimeZone, suggestTimeZone } from './time-zone.js';
import type {
  Config,
  DeletesConfig,
  GroupQuery,
  HttpConfig,
  LogConfig,
  Profile,
  Scope,
  StoreConfig,
  TlsConfig,
  UserQuery,
} from './types.js';
import { checkListen, checkLdapUrl, checkStoreUrl } from './url-check.js';

const DEFAULT_STORE_URL = 'pglite://./.ldapsync/store';
const DEFAULT_SCHEDULE = '0 0 * * *';
const DEFAULT_LISTEN = '127.0.0.1:8089';
const SCOPES: ReadonlyArray<Scope> = ['base', 'one', 'sub'];
const LEVELS: ReadonlyArray<LogConfig['level']> = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
type ServerType = Profile['serverType'];

/**
 * Builds the typed Config from schema-checked data, applying defaults and running the checks a schema
 * cannot express: URLs, DNs, filters, cron, time zones, secrets, mappings, domains. Every problem is
 * recorded on the context; the result is meaningful only when the context holds no errors.
 */
export function buildConfig(ctx: LoadContext, mappings: MappingCompiler, file: string, hash: string): Config {
  const store = buildStore(ctx);
  const log: LogConfig = { level: ctx.oneOf(['log', 'level'], LEVELS, 'info') };
  const http = ctx.get(['http']) === undefined ? undefined : buildHttp(ctx);
  const hooksValue = ctx.get(['hooks']);
  const hooks = (Array.isArray(hooksValue) ? hooksValue : [])
    .filter((h): h is string => typeof h === 'string')
    .map((h) => resolve(ctx.baseDir, h));

  const servers: Array<readonly [string, Profile]> = [];
  const domainOwner = new Map<string, string>();
  for (const name of ctx.keys(['servers'])) {
    const profile = buildProfile(ctx, mappings, name, domainOwner);
    if (profile !== undefined) servers.push([name, deepFreeze(profile)]);
  }
  mappings.checkUnused();

  const defaultDomainText = ctx.string(['defaultDomain']);
  const defaultDomain = defaultDomainText?.toLowerCase();
  if (defaultDomain !== undefined && !domainOwner.has(defaultDomain)) {
    const suggestion = didYouMean(defaultDomain, domainOwner.keys());
    ctx.error('config.domain', `defaultDomain '${defaultDomain}' is not a domain of any server profile`, ['defaultDomain'], 'value', {
      hint: suggestion !== undefined ? `did you mean '${suggestion}'?` : undefined,
    });
  }

  return deepFreeze({
    file,
    hash,
    store,
    log,
    http,
    defaultDomain,
    hooks,
    servers: new FrozenMap(servers),
  });
}

function buildStore(ctx: LoadContext): StoreConfig {
  const path: KeyPath = ['store', 'url'];
  const text = ctx.string(path) ?? DEFAULT_STORE_URL;
  const checked = checkStoreUrl(text, ctx.baseDir);
  if (!checked.ok) {
    ctx.error('config.url', checked.message, path, { offset: checked.offset, length: checked.length });
    return { url: text, schema: ctx.string(['store', 'schema']) ?? 'ldapsync' };
  }
  if (checked.password !== undefined) {
    ctx.redactor.addValue(checked.password);
    ctx.redactor.addValue(encodeURIComponent(checked.password));
    // A password that comes from ${VAR} is fine; one spelt out in the file is a plain-text secret.
    const at = ctx.source.locate(path)?.offsetOf?.(checked.passwordOffset);
    if (at === undefined || !ctx.source.text.startsWith('${', at)) {
      ctx.warn('config.plain-secret', 'password written in plain text in the store URL; use ${VAR} in the URL or PGPASSWORD', path, {
        offset: checked.passwordOffset,
        length: checked.passwordLength,
      });
    }
  }
  return { url: checked.url, schema: ctx.string(['store', 'schema']) ?? 'ldapsync' };
}

function buildHttp(ctx: LoadContext): HttpConfig {
  const path: KeyPath = ['http', 'listen'];
  const value = ctx.get(path);
  const checked = checkListen(typeof value === 'string' || typeof value === 'number' ? value : DEFAULT_LISTEN);
  if (!checked.ok) ctx.error('config.listen', checked.message, path, { offset: checked.offset, length: checked.length });
  return {
    host: checked.ok ? checked.host : '127.0.0.1',
    port: checked.ok ? checked.port : 0,
    authToken: ctx.get(['http', 'token']) === undefined ? undefined : resolveSecret(ctx, ['http', 'token']),
    authenticate: ctx.boolean(['http', 'authenticate'], false),
  };
}

/** The profile, or undefined when a mapping of it did not compile (its errors are recorded). */
function buildProfile(ctx: LoadContext, mappings: MappingCompiler, name: string, domainOwner: Map<string, string>): Profile | undefined {
  const at = (...rest: Array<string | number>): KeyPath => ['servers', name, ...rest];
  const serverType = ctx.oneOf<ServerType>(at('type'), ['openldap', 'ad', 'generic'], 'generic');

  let url = ctx.string(at('url')) ?? '';
  let secure = false;
  if (ctx.string(at('url')) !== undefined) {
    const checked = checkLdapUrl(url);
    if (checked.ok) {
      url = checked.url;
      secure = checked.secure;
    } else {
      ctx.error('config.url', checked.message, at('url'), { offset: checked.offset, length: checked.length });
    }
  }
  const startTLS = ctx.boolean(at('startTLS'), false);
  if (startTLS && secure) ctx.error('config.tls', 'startTLS upgrades ldap:// connections; an ldaps:// connection is already encrypted', at('startTLS'));
  if (ctx.given(at('tls')) && !secure && !startTLS && ctx.string(at('url')) !== undefined) {
    // Someone who wrote TLS settings believes the connection is encrypted; it is not.
    ctx.warn('config.tls', 'tls settings have no effect: the URL is ldap:// and startTLS is off, so the connection is not encrypted', at('tls'), 'key');
  }

  const caFile = ctx.string(at('tls', 'caFile'));
  const tls: TlsConfig = {
    caFile: caFile === undefined ? undefined : resolve(ctx.baseDir, caFile),
    rejectUnauthorized: ctx.boolean(at('tls', 'rejectUnauthorized'), true),
    serverName: ctx.string(at('tls', 'serverName')),
  };

  const bindDN = ctx.string(at('bindDN'));
  if (bindDN !== undefined) checkBindDn(ctx, bindDN, at('bindDN'), serverType);
  let bindPassword: Secret | undefined;
  if (ctx.given(at('bindPassword'))) {
    bindPassword = resolveSecret(ctx, at('bindPassword'));
    if (!ctx.given(at('bindDN'))) {
      ctx.error('config.required', 'bindPassword is given but bindDN is not', at('bindPassword'), 'key');
    }
  } else if (ctx.given(at('bindDN')) && !ctx.keys(at()).some((key) => key !== 'bindPassword' && isSensitiveKey(key))) {
    // A DN with an empty password is an unauthenticated bind: servers treat it as anonymous, silently.
    // (Not said when a misspelt bindPassword has been reported already.)
    ctx.error('config.required', 'bindDN is given but bindPassword is not', at('bindDN'), 'key');
  }

  const domainsValue = ctx.get(at('domains'));
  const domains = (Array.isArray(domainsValue) ? domainsValue : []).filter((d): d is string => typeof d === 'string').map((d) => d.toLowerCase());
  domains.forEach((domain, index) => {
    const owner = domainOwner.get(domain);
    if (owner !== undefined && owner !== name) {
      ctx.error('config.domain', `domain '${domain}' is already served by profile '${owner}'; a login must lead to one profile`, at('domains', index));
    }
    domainOwner.set(domain, owner ?? name);
  });

  const timeouts = {
    connect: duration(ctx, at('timeouts', 'connect'), 10_000),
    operation: duration(ctx, at('timeouts', 'operation'), 30_000),
  };

  const timezoneText = ctx.string(at('timezone'));
  let timezone: string | undefined;
  if (timezoneText !== undefined) {
    timezone = canonicalTimeZone(timezoneText);
    if (timezone === undefined) {
      const suggestion = suggestTimeZone(timezoneText);
      ctx.error('config.timezone', `unknown time zone '${timezoneText}'`, at('timezone'), 'value', {
        hint: suggestion !== undefined ? `did you mean '${suggestion}'?` : 'use an IANA name such as Europe/Amsterdam or UTC',
      });
    }
  }
  const schedule = ctx.string(at('schedule')) ?? DEFAULT_SCHEDULE;
  if (ctx.string(at('schedule')) !== undefined) {
    const checked = checkCron(schedule, timezone);
    if (!checked.ok) ctx.error('config.cron', checked.message, at('schedule'), { offset: checked.offset, length: checked.length });
  }

  const purgeAfter = ctx.get(at('deletes', 'purgeAfter'));
  const deletes: DeletesConfig = {
    enabled: ctx.boolean(at('deletes', 'enabled'), false),
    maxPercentage: ctx.number(at('deletes', 'maxPercentage')) ?? 5,
    maxCount: ctx.number(at('deletes', 'maxCount')),
    mode: ctx.oneOf(at('deletes', 'mode'), ['disable', 'delete'], 'disable'),
    purgeAfter: purgeAfter === undefined ? undefined : duration(ctx, at('deletes', 'purgeAfter'), 0),
  };

  const isAd = serverType === 'ad';
  const idDefault = isAd ? 'objectGUID' : 'entryUUID';
  const usersQuery = query(ctx, at('users'), isAd ? '(&(objectCategory=person)(objectClass=user))' : '(objectClass=person)');
  const usersMapping = mappings.compile('users', at('users', 'mapping'));
  const hasGroups = ctx.get(at('groups')) !== undefined;
  const groupsQuery = hasGroups
    ? query(ctx, at('groups'), isAd ? '(objectClass=group)' : '(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=posixGroup))')
    : undefined;
  const groupsMapping = hasGroups ? mappings.compile('groups', at('groups', 'mapping')) : undefined;
  if (usersMapping === undefined || (hasGroups && groupsMapping === undefined)) return undefined;

  const users: UserQuery = {
    ...usersQuery,
    usernameAttribute: ctx.string(at('users', 'usernameAttribute')) ?? (isAd ? 'sAMAccountName' : 'uid'),
    idAttribute: ctx.string(at('users', 'idAttribute')) ?? idDefault,
    mapping: usersMapping,
  };
  const groups: GroupQuery | undefined =
    groupsQuery === undefined || groupsMapping === undefined
      ? undefined
      : {
          ...groupsQuery,
          nameAttribute: ctx.string(at('groups', 'nameAttribute')) ?? 'cn',
          idAttribute: ctx.string(at('groups', 'idAttribute')) ?? ctx.string(at('users', 'idAttribute')) ?? idDefault,
          memberAttribute: ctx.oneOf(at('groups', 'memberAttribute'), ['member', 'uniqueMember', 'memberUid'], 'member'),
          flattenNested: ctx.boolean(at('groups', 'flattenNested'), false),
          nestedVia: nestedVia(ctx, at('groups'), serverType),
          mapping: groupsMapping,
        };

  return {
    name,
    url,
    startTLS,
    tls,
    bindDN,
    bindPassword,
    domains,
    timeouts,
    pageSize: ctx.number(at('pageSize')) ?? 500,
    serverType,
    users,
    groups,
    schedule,
    timezone,
    deletes,
  };
}

function query(ctx: LoadContext, path: KeyPath, defaultFilter: string): { baseDN: string; scope: Scope; filter: string; sync: boolean } {
  const baseDN = ctx.string([...path, 'baseDN']) ?? '';
  if (ctx.string([...path, 'baseDN']) !== undefined) checkDn(ctx, baseDN, [...path, 'baseDN']);
  const filter = ctx.string([...path, 'filter']) ?? defaultFilter;
  if (ctx.string([...path, 'filter']) !== undefined) {
    const checked = checkLdapFilter(filter);
    if (!checked.ok) ctx.error('config.filter', checked.message, [...path, 'filter'], { offset: checked.offset });
  }
  return {
    baseDN,
    scope: ctx.oneOf([...path, 'scope'], SCOPES, 'sub'),
    filter,
    sync: ctx.boolean([...path, 'sync'], true),
  };
}

function checkDn(ctx: LoadContext, dn: string, path: KeyPath): void {
  const checked = checkDnSyntax(dn);
  if (!checked.ok) ctx.error('config.dn', `invalid DN: ${checked.message}`, path, { offset: checked.offset });
}

/**
 * `nestedVia: server` asks Active Directory for each group's members in chain (LDAP_MATCHING_RULE_IN_CHAIN,
 * 1.2.840.113556.1.4.1941): only AD has that rule, and it follows DN-valued `member` links.
 */
function nestedVia(ctx: LoadContext, path: KeyPath, serverType: ServerType): 'client' | 'server' {
  const via = ctx.oneOf<'client' | 'server'>([...path, 'nestedVia'], ['client', 'server'], 'client');
  if (via !== 'server') return via;
  if (serverType !== 'ad') {
    ctx.error('config.nested-via', "nestedVia: server uses Active Directory's in-chain matching rule; it needs type: ad (or use nestedVia: client)", [...path, 'nestedVia']);
  }
  const member = ctx.string([...path, 'memberAttribute']);
  if (member !== undefined && member !== 'member') {
    ctx.error('config.nested-via', `nestedVia: server resolves member links; memberAttribute ${member} has none`, [...path, 'nestedVia']);
  }
  if (!ctx.boolean([...path, 'flattenNested'], false)) {
    ctx.warn('config.nested-via', 'nestedVia has no effect while flattenNested is false: only direct members are synced', [...path, 'nestedVia']);
  }
  return via;
}

/** Active Directory also binds as `user@domain` (UPN) or `DOMAIN\user`. */
function checkBindDn(ctx: LoadContext, dn: string, path: KeyPath, serverType: ServerType): void {
  if (serverType === 'ad' && (/^[^@\s=,]+@[^@\s=,]+$/.test(dn) || /^[^\\\s=,]+\\[^\\\s=,]+$/.test(dn))) return;
  checkDn(ctx, dn, path);
}

function duration(ctx: LoadContext, path: KeyPath, fallback: number): number {
  const value = ctx.get(path);
  if (value === undefined) return fallback;
  return parseDuration(value) ?? fallback;
}
