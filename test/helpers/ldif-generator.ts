import { createWriteStream } from 'node:fs';
import { once } from 'node:events';

export interface GeneratorOptions {
  /** Number of users; groups are a hundredth of that (at least one when there are users). */
  readonly users: number;
  /** Suffix the entries go under; default dc=example,dc=org. */
  readonly baseDN?: string;
}

const GIVEN = ['Amy', 'Bender', 'Hermes', 'Zoë', 'Leela', 'Philip', 'Åsa', 'José', 'Chloé', 'Dmitri', 'Émile', 'Kif', 'Linda', 'Scruffy'];
const FAMILY = ['Wong', 'Rodríguez', 'Conrad', 'Ångström', 'Turanga', 'Fry', 'Núñez', 'Kroker', 'Farnsworth', 'Müller', 'Øster', 'Smith'];
const TITLES = ['Engineer', 'Courier', 'Accountant', 'Captain', 'Janitor', 'Intern', 'Manager'];

/** Groups for a given user count: N/100, at least one when there are users. */
export function generatedGroupCount(users: number): number {
  return users === 0 ? 0 : Math.max(1, Math.floor(users / 100));
}

/** The uid of the i-th generated user (1-based): user000001. */
export function generatedUid(i: number): string {
  return `user${String(i).padStart(6, '0')}`;
}

/** The cn of the g-th generated group (0-based): group0000. */
export function generatedGroupName(g: number): string {
  return `group${String(g).padStart(4, '0')}`;
}

/**
 * The groups user i belongs to: about three, spread so that every group has members. Exported so tests can
 * check membership without reading the LDIF back.
 */
export function generatedMemberships(i: number, groups: number): ReadonlyArray<number> {
  if (groups === 0) return [];
  return [...new Set([(i - 1) % groups, (i * 7 + 3) % groups, (i * 31 + 11) % groups])].sort((a, b) => a - b);
}

/**
 * LDIF records, one string each, for `slapadd`: the people and groups ou's, N users (inetOrgPerson +
 * posixAccount, some non-ASCII names, one or two mail values) and N/100 groupOfNames. The same N always gives
 * the same text. slapadd bypasses overlays, so each user's memberOf is written here.
 */
export function* generateLdif(options: GeneratorOptions): Generator<string> {
  const base = options.baseDN ?? 'dc=example,dc=org';
  const people = `ou=people,${base}`;
  const groupsOu = `ou=groups,${base}`;
  const groups = generatedGroupCount(options.users);
  const groupDn = (g: number): string => `cn=${generatedGroupName(g)},${groupsOu}`;

  yield `dn: ${people}\nobjectClass: organizationalUnit\nou: people\n\n`;
  yield `dn: ${groupsOu}\nobjectClass: organizationalUnit\nou: groups\n\n`;

  const members: string[][] = Array.from({ length: groups }, () => []);
  for (let i = 1; i <= options.users; i++) {
    const uid = generatedUid(i);
    const dn = `uid=${uid},${people}`;
    const given = GIVEN[i % GIVEN.length] ?? 'Amy';
    const family = FAMILY[(i * 7) % FAMILY.length] ?? 'Wong';
    const lines = [
      `dn: ${dn}`,
      'objectClass: inetOrgPerson',
      'objectClass: posixAccount',
      `uid: ${uid}`,
      value('cn', `${given} ${family}`),
      value('givenName', given),
      value('sn', family),
      `mail: ${uid}@example.org`,
    ];
    if (i % 3 === 0) lines.push(value('mail', `${given}.${family}@example.com`.toLowerCase()));
    lines.push(
      `uidNumber: ${100_000 + i}`,
      'gidNumber: 100000',
      `homeDirectory: /home/${uid}`,
      'loginShell: /bin/bash',
      `title: ${TITLES[i % TITLES.length] ?? 'Engineer'}`,
      `employeeNumber: ${i}`,
      `telephoneNumber: +31 20 ${String(1_000_000 + i).slice(-7)}`,
    );
    if (i % 50 === 0) lines.push('employeeType: disabled');
    for (const g of generatedMemberships(i, groups)) {
      lines.push(`memberOf: ${groupDn(g)}`);
      members[g]?.push(dn);
    }
    yield lines.join('\n') + '\n\n';
  }
  for (let g = 0; g < groups; g++) {
    const lines = [`dn: ${groupDn(g)}`, 'objectClass: groupOfNames', `cn: ${generatedGroupName(g)}`, `description: generated group ${g}`];
    for (const member of members[g] ?? []) lines.push(`member: ${member}`);
    yield lines.join('\n') + '\n\n';
  }
}

/** Streams the generated LDIF to a file without holding it in memory. */
export async function writeGeneratedLdif(path: string, options: GeneratorOptions): Promise<void> {
  const out = createWriteStream(path, { encoding: 'utf8' });
  let chunk = '';
  for (const record of generateLdif(options)) {
    chunk += record;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** RFC 2849: values that are not plain ASCII go base64-encoded. */
function value(name: string, text: string): string {
  return /^[\x20-\x7e]*$/.test(text) && !text.startsWith(' ') && !text.startsWith(':') && !text.startsWith('<')
    ? `${name}: ${text}`
    : `${name}:: ${Buffer.from(text, 'utf8').toString('base64')}`;
}
