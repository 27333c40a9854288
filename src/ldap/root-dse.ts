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

export function rootDseOf(entry: Entry): RootDse {
  const texts = (name: string): string[] => (entry.attributes.get(name) ?? []).filter((v): v is string => typeof v === 'string');
  return {
    vendorName: texts('vendorname')[0],
    vendorVersion: texts('vendorversion')[0],
    namingContexts: texts('namingcontexts'),
    defaultNamingContext: texts('defaultnamingcontext')[0],
    supportedControls: texts('supportedcontrol'),
    supportedExtensions: texts('supportedextension'),
    supportedLdapVersion: texts('supportedldapversion').map(Number).filter(Number.isInteger),
    raw: entry,
  };
}
