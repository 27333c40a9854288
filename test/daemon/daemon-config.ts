import { rename, writeFile } from 'node:fs/promises';
import type { StoreConfig } from '../../src/config/index.js';
import type { SlapdInfo } from '../helpers/slapd.js';

export interface TestProfile {
  readonly name: string;
  /** Default: the test server's plain LDAP URL. */
  readonly url?: string;
  /** Cron; 6 fields give seconds. */
  readonly schedule: string;
  /** The users mapping's displayName expression. Default `cn`. */
  readonly displayName?: string;
  /** Sync groups (groupOfNames under ou=groups) too. */
  readonly groups?: boolean;
  /** Turn the users sync off. */
  readonly usersOff?: boolean;
  /** A file holding the reader's password, read as a `{ file: }` secret. */
  readonly passwordFile: string;
  /** Operation timeout; short so that a stopped server fails a run quickly. */
  readonly operationTimeout?: string;
  /** Turn deletes on with this maximum percentage (off by default, as in the product). */
  readonly deletesMaxPercentage?: number;
}

export interface TestConfig {
  readonly slapd: SlapdInfo;
  readonly store: StoreConfig;
  readonly profiles: ReadonlyArray<TestProfile>;
  readonly logLevel?: string;
  /** Port for the HTTP listener on 127.0.0.1; absent: none. */
  readonly httpPort?: number;
}

/** An ldapsync.yaml for profiles that sync the test server's people (and groups) with the reader account. */
export function configYaml(config: TestConfig): string {
  const lines = [
    `store:`,
    `  url: "${config.store.url}"`,
    `  schema: ${config.store.schema}`,
    `log:`,
    `  level: ${config.logLevel ?? 'info'}`,
  ];
  if (config.httpPort !== undefined) lines.push(`http:`, `  listen: 127.0.0.1:${config.httpPort}`);
  lines.push(`servers:`);
  for (const p of config.profiles) {
    lines.push(
      `  ${p.name}:`,
      `    url: ${p.url ?? config.slapd.url}`,
      `    bindDN: "${config.slapd.readerDN}"`,
      `    bindPassword: { file: "${p.passwordFile}" }`,
      `    domains: [${p.name}.example.org]`,
      `    timeouts: { connect: 2s, operation: ${p.operationTimeout ?? '5s'} }`,
      `    schedule: "${p.schedule}"`,
      `    users:`,
      `      baseDN: "ou=people,${config.slapd.baseDN}"`,
      `      filter: (objectClass=inetOrgPerson)`,
      `      usernameAttribute: uid`,
      `      idAttribute: entryUUID`,
      `      sync: ${p.usersOff === true ? 'false' : 'true'}`,
      `      mapping:`,
      `        displayName: "${p.displayName ?? 'cn'}"`,
    );
    if (p.groups === true) {
      lines.push(
        `    groups:`,
        `      baseDN: "ou=groups,${config.slapd.baseDN}"`,
        `      filter: (objectClass=groupOfNames)`,
        `      memberAttribute: member`,
        `      idAttribute: entryUUID`,
      );
    }
    if (p.deletesMaxPercentage !== undefined) {
      lines.push(`    deletes:`, `      enabled: true`, `      maxPercentage: ${p.deletesMaxPercentage}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Replaces the file the way vim, `sed -i` and most editors do: a new file renamed over the old one. */
export async function saveByRename(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}`;
  await writeFile(temporary, text);
  await rename(temporary, file);
}
