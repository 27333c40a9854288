import type { TestTls } from './slapd-tls.js';

/** The fixed names and credentials of every test server; tests read them from the handle, not from here. */
export const SLAPD_BASE_DN = 'dc=example,dc=org';
export const SLAPD_ADMIN_DN = `cn=admin,${SLAPD_BASE_DN}`;
export const SLAPD_ADMIN_PASSWORD = 'admin-secret';
export const SLAPD_READER_DN = `cn=reader,${SLAPD_BASE_DN}`;
export const SLAPD_READER_PASSWORD = 'reader-secret';

export interface SlapdConfigOptions {
  readonly dir: string;
  readonly dataDir: string;
  /** Entries the reader account may get from one search without paging (its soft and hard size limit). */
  readonly readerSizeLimit: number;
  /** Entries the reader may get from all pages of one paged search; undefined for no limit. */
  readonly readerPagedTotalLimit: number | undefined;
  /** Without TLS the server refuses StartTLS. */
  readonly tls: TestTls | undefined;
}

/**
 * The cn=config of a test server, as LDIF for `slapadd -n0`: the mdb database with the memberof and refint
 * overlays, the schemas the fixtures use, TLS with the run's certificates, and a reader account whose size
 * limit is small while paged searches stay unlimited (`size.prtotal=unlimited`), so that only a client that
 * pages reads the whole directory.
 */
export function slapdConfigLdif(options: SlapdConfigOptions): string {
  const { dir, dataDir, tls, readerSizeLimit, readerPagedTotalLimit } = options;
  const tlsSettings =
    tls === undefined
      ? ''
      : `olcTLSCACertificateFile: ${tls.caFile}
olcTLSCertificateFile: ${tls.certFile}
olcTLSCertificateKeyFile: ${tls.keyFile}
`;
  const schemas = ['core', 'cosine', 'inetorgperson', 'nis'].map((name) => `include: file:///etc/ldap/schema/${name}.ldif\n`).join('\n');
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcArgsFile: ${dir}/slapd.args
olcLogLevel: none
${tlsSettings}
dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb
olcModuleLoad: memberof
olcModuleLoad: refint

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

${schemas}
dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: 500

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: ${dataDir}
olcSuffix: ${SLAPD_BASE_DN}
olcRootDN: ${SLAPD_ADMIN_DN}
olcRootPW: ${SLAPD_ADMIN_PASSWORD}
olcDbMaxSize: 4294967296
olcDbNoSync: TRUE
olcDbIndex: objectClass eq
olcDbIndex: uid,cn,sn,mail eq
olcDbIndex: entryUUID eq
olcDbIndex: member,uniqueMember,memberUid eq
olcLimits: {0}dn.exact="${SLAPD_READER_DN}" size.soft=${readerSizeLimit} size.hard=${readerSizeLimit} size.prtotal=${readerPagedTotalLimit ?? 'unlimited'}
olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none
olcAccess: {1}to * by users read by anonymous read

dn: olcOverlay={0}memberof,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcMemberOf
olcOverlay: {0}memberof
olcMemberOfRefInt: TRUE
olcMemberOfGroupOC: groupOfNames
olcMemberOfMemberAD: member
olcMemberOfMemberOfAD: memberOf

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
olcRefintAttribute: uniqueMember
`;
}

/** The entries every test server starts with: the suffix and the reader account. */
export function slapdBaseLdif(): string {
  return `dn: ${SLAPD_BASE_DN}
objectClass: dcObject
objectClass: organization
dc: example
o: Example Org

dn: ${SLAPD_READER_DN}
objectClass: applicationProcess
objectClass: simpleSecurityObject
cn: reader
description: read-only account of the ldapsync tests
userPassword: ${SLAPD_READER_PASSWORD}

`;
}
