import type { Config, Profile } from '../config/index.js';
import { Directory, type RootDse } from '../ldap/index.js';
import { planUsers, type UserChange, type UserPlan } from '../reconcile/index.js';
import { createLogger, toLdapsyncError, type Entry, type Logger } from '../shared/index.js';
import { desiredUser, isSkip } from '../sync/index.js';
import { cliLogger, openStoreOrReport } from './context.js';
import { ExitCode, jsonReplacer, writeJson, writeLine, type Io } from './io.js';
import { loadOrReport, profileOrReport } from './load.js';

export interface TestOptions {
  readonly config: string;
  readonly server: string;
  readonly username: string | undefined;
  readonly debug: boolean;
  readonly json: boolean;
}

/** Names of controls an operator recognises, for the root DSE report. */
const CONTROL_NAMES: Readonly<Record<string, string>> = {
  '1.2.840.113556.1.4.319': 'paged results',
  '1.2.840.113556.1.4.473': 'server-side sort',
  '2.16.840.1.113730.3.4.9': 'virtual list view',
  '2.16.840.1.113730.3.4.2': 'ManageDsaIT',
  '2.16.840.1.113730.3.4.18': 'proxied authorization',
  '1.2.840.113556.1.4.417': 'show deleted',
  '1.2.840.113556.1.4.841': 'DirSync',
  '1.2.840.113556.1.4.1413': 'permissive modify',
  '1.2.840.113556.1.4.805': 'tree delete',
  '1.2.840.113556.1.4.529': 'extended DN',
  '1.2.840.113556.1.4.1339': 'domain scope',
  '1.3.6.1.4.1.4203.1.9.1.1': 'content synchronization (syncrepl)',
  '1.3.6.1.4.1.4203.1.10.1': 'subentries',
  '1.3.6.1.4.1.42.2.27.8.5.1': 'password policy',
  '1.3.6.1.1.12': 'assertion',
  '1.3.6.1.1.13.1': 'pre-read',
  '1.3.6.1.1.13.2': 'post-read',
  '1.3.6.1.1.22': "don't use copy",
  '1.2.826.0.1.3344810.2.3': 'matched values',
  '1.2.840.113556.1.4.1341': 'range retrieval (ranged attributes)',
  '1.2.840.113556.1.4.1338': 'verify name',
  '1.2.840.113556.1.4.1340': 'search options',
  '1.2.840.113556.1.4.1504': 'attribute scoped query',
  '1.2.840.113556.1.4.1852': 'quota control',
  '1.2.840.113556.1.4.1907': 'shutdown notify',
  '1.2.840.113556.1.4.1948': 'range retrieval without error',
  '1.2.840.113556.1.4.1974': 'force update',
  '1.2.840.113556.1.4.2026': 'input DN',
  '1.2.840.113556.1.4.2064': 'show recycled',
  '1.2.840.113556.1.4.2065': 'show deactivated link',
  '1.2.840.113556.1.4.2066': 'policy hints (deprecated)',
  '1.2.840.113556.1.4.2239': 'policy hints',
  '1.2.840.113556.1.4.2255': 'DirSync extended flags',
  '1.2.840.113556.1.4.2204': 'tree deletion extended',
  '1.2.840.113556.1.4.801': 'security descriptor flags',
  '1.2.840.113556.1.4.619': 'lazy commit',
  '1.2.840.113556.1.4.521': 'cross-domain move target',
  '1.2.840.113556.1.4.970': 'get stats',
  '1.2.840.113556.1.4.474': 'sort response',
  '1.2.840.113556.1.4.528': 'notification',
  '2.16.840.1.113730.3.4.10': 'virtual list view response',
};

interface Step {
  readonly step: string;
  readonly ms: number;
}

async function timed<T>(steps: Step[], step: string, fn: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await fn();
  steps.push({ step, ms: Math.round((performance.now() - started) * 10) / 10 });
  return result;
}

/** `ldapsync test SERVER [--username U]`: connectivity and identity of the server, or one user as a sync would see it. Writes nothing. */
export async function testCommand(options: TestOptions, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(options.config, io);
  if (config === undefined) return ExitCode.usage;
  const profile = profileOrReport(config, options.server, io);
  if (profile === undefined) return ExitCode.usage;
  const logger = options.debug ? createLogger({ level: 'debug', fd: 2, pretty: io.stderr.isTTY === true }) : cliLogger(config, io);

  const steps: Step[] = [];
  let directory: Directory | undefined;
  try {
    directory = await timed(steps, profile.startTLS ? 'connect, StartTLS and bind' : 'connect and bind', () =>
      Directory.open(profile, { logger, debug: options.debug }),
    );
    const opened = directory;
    return options.username === undefined
      ? await testServer(profile, opened, steps, options, io)
      : await testUser(config, profile, opened, options.username, logger, options, io);
  } catch (err) {
    const error = toLdapsyncError(err, 'ldap.failed', { profile: profile.name, url: profile.url });
    if (options.json) writeJson(io.stdout, { profile: profile.name, url: profile.url, ok: false, steps, error: { code: error.code, message: error.message } });
    else {
      for (const s of steps) writeLine(io.stdout, `  ✓ ${s.step} (${s.ms} ms)`);
      writeLine(io.stderr, `✗ ${profile.name} (${profile.url}): ${error.message}`);
    }
    return ExitCode.failure;
  } finally {
    await directory?.close();
  }
}

async function testServer(profile: Profile, directory: Directory, steps: Step[], options: TestOptions, io: Io): Promise<ExitCode> {
  const dse = await timed(steps, 'read the root DSE', () => directory.rootDse());
  const users = await timed(steps, 'count users', () => directory.count('users'));
  const groups = profile.groups === undefined ? undefined : await timed(steps, 'count groups', () => directory.count('groups'));
  if (options.json) {
    const { raw: _raw, ...identity } = dse;
    writeJson(io.stdout, { profile: profile.name, url: profile.url, ok: true, bindDN: profile.bindDN ?? null, steps, rootDse: identity, counts: { users, groups: groups ?? null } });
    return ExitCode.ok;
  }
  writeLine(io.stdout, `${profile.name}: ${profile.url}${profile.startTLS ? ' with StartTLS' : ''}, bound as ${profile.bindDN ?? '(anonymous)'}`);
  for (const s of steps) writeLine(io.stdout, `  ✓ ${s.step} (${s.ms} ms)`);
  for (const line of describeServer(dse)) writeLine(io.stdout, `  ${line}`);
  writeLine(io.stdout, `  users: ${users} match ${profile.users.filter} under ${profile.users.baseDN}`);
  if (profile.groups !== undefined) writeLine(io.stdout, `  groups: ${groups} match ${profile.groups.filter} under ${profile.groups.baseDN}`);
  return ExitCode.ok;
}

function describeServer(dse: RootDse): string[] {
  const vendor = [dse.vendorName, dse.vendorVersion].filter((v) => v !== undefined).join(' ');
  return [
    `server: ${vendor === '' ? 'vendor not announced' : vendor}; LDAP v${dse.supportedLdapVersion.join(', v') || '?'}`,
    `naming contexts: ${dse.namingContexts.join('; ') || 'none announced'}`,
    `controls: ${[...new Set(dse.supportedControls)].map((oid) => (CONTROL_NAMES[oid] === undefined ? oid : `${CONTROL_NAMES[oid]} (${oid})`)).join(', ') || 'none announced'}`,
  ];
}

async function testUser(config: Config, profile: Profile, directory: Directory, username: string, logger: Logger, options: TestOptions, io: Io): Promise<ExitCode> {
  const query = profile.users;
  const entry = await directory.findUser(username, ['*', ...query.mapping.attributes]);
  if (entry === undefined) {
    const message = `no entry with ${query.usernameAttribute}=${username} matches the user query (${query.filter} under ${query.baseDN})`;
    if (options.json) writeJson(io.stdout, { profile: profile.name, ok: false, error: { code: 'ldap.no-such-user', message } });
    else writeLine(io.stderr, message);
    return ExitCode.failure;
  }
  const desired = desiredUser(entry, profile, query);
  if (isSkip(desired)) {
    if (options.json) writeJson(io.stdout, { profile: profile.name, ok: false, dn: entry.dn, attributes: rawAttributes(entry), skipped: desired });
    else {
      printAttributes(entry, io);
      writeLine(io.stderr, `a sync would skip this entry (its stored row, if any, is kept): ${desired.reason}`);
    }
    return ExitCode.failure;
  }

  const store = await openStoreOrReport(config, logger, io);
  if (store === undefined) return ExitCode.failure;
  let plan: UserPlan;
  try {
    const own = await store.usersByExternalIds(profile.name, [desired.externalId]);
    const others = await store.usersWithLogins([desired.login], profile.name);
    // Only this entry is planned, so nothing else may count as missing: deletes are off for the preview.
    plan = planUsers({ profile: profile.name, desired: [desired], stored: [...own, ...others], skipped: [], deletes: { ...profile.deletes, enabled: false }, now: new Date() });
  } finally {
    await store.close();
  }
  const change = plan.changes[0];
  if (options.json) {
    writeJson(io.stdout, { profile: profile.name, ok: true, dn: entry.dn, externalId: desired.externalId, username: desired.username, login: desired.login, attributes: rawAttributes(entry), mapped: desired.fields, sync: change ?? { kind: 'unchanged' } });
    return ExitCode.ok;
  }
  printAttributes(entry, io);
  writeLine(io.stdout, `mapped (${profile.name}, login ${desired.login}, id ${desired.externalId}):`);
  for (const [field, value] of Object.entries(desired.fields)) writeLine(io.stdout, `  ${field}: ${JSON.stringify(value, jsonReplacer)}`);
  writeLine(io.stdout, `a sync would: ${describeChange(change)}`);
  return ExitCode.ok;
}

function describeChange(change: UserChange | undefined): string {
  if (change === undefined) return 'change nothing (the stored row is up to date)';
  switch (change.kind) {
    case 'create':
      return 'create this user';
    case 'update':
      return [
        `update the stored row${change.revive ? ' (it was removed and comes back)' : ''}:`,
        ...Object.entries(change.changes).map(([f, c]) => `  ${f}: ${JSON.stringify(c.old, jsonReplacer)} → ${JSON.stringify(c.new, jsonReplacer)}`),
      ].join('\n');
    case 'remove':
      return `remove the stored row (${change.mode})`;
    case 'conflict':
      return `leave it alone: ${change.reason}`;
  }
}

function rawAttributes(entry: Entry): Record<string, ReadonlyArray<unknown>> {
  return Object.fromEntries(entry.attributes);
}

function printAttributes(entry: Entry, io: Io): void {
  writeLine(io.stdout, `dn: ${entry.dn}`);
  for (const [name, values] of entry.attributes) {
    for (const value of values) writeLine(io.stdout, `  ${name}: ${typeof value === 'string' ? value : `(${value.length} bytes) ${Buffer.from(value).toString('base64')}`}`);
  }
}
