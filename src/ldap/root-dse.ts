import type { Entry } from '../shared/index.js';

/** What a server says about itself in its root DSE (RFC 4512 5.1), as `ldapsync test` reports it. */
export interface RootDse {
  readonly vendorName: string | undefined;
  readonly vendorVersion: string | undefined;
  readonly namingContexts: ReadonlyArray<string>;
  /** Active Directory's domain partition; undefined elsewhere. */
  readonly defaultNamingContext: string | undefined;
  readonly supportedControls: ReadonlyArray<string>;
  readonly supportedExtensions: ReadonlyArray<string>;
  readonly supportedLdapVersion: ReadonlyArray<number>;
  readonly raw: Entry;
}

/**
 * Neither OpenLDAP nor Active Directory publish vendorName; each has a root DSE of its own shape, which
 * names the product just as well for an admin reading `ldapsync test`.
 */
function vendorFromShape(entry: Entry): string | undefined {
  const objectClasses = (entry.attributes.get('objectclass') ?? []).map((v) => (typeof v === 'string' ? v.toLowerCase() : ''));
  if (objectClasses.includes('openldaprootdse')) return 'OpenLDAP';
  if (entry.attributes.has('domaincontrollerfunctionality')) return 'Active Directory';
  return undefined;
}

export function rootDseOf(entry: Entry): RootDse {
  const texts = (name: string): string[] => (entry.attributes.get(name) ?? []).filter((v): v is string => typeof v === 'string');
  return {
    vendorName: texts('vendorname')[0] ?? vendorFromShape(entry),
    vendorVersion: texts('vendorversion')[0],
    namingContexts: texts('namingcontexts'),
    defaultNamingContext: texts('defaultnamingcontext')[0],
    supportedControls: texts('supportedcontrol'),
    supportedExtensions: texts('supportedextension'),
    supportedLdapVersion: texts('supportedldapversion').map(Number).filter(Number.isInteger),
    raw: entry,
  };
}
