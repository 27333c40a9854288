/** One value of an LDAP attribute: text, or bytes for binary attributes (objectGUID, objectSid, jpegPhoto...). */
export type AttributeValue = string | Uint8Array;

/**
 * An LDAP entry as every stage sees it. Attribute names are lower-cased keys (LDAP names are
 * case-insensitive); options other than `;binary` and `;range=` are kept in the name.
 */
export interface Entry {
  readonly dn: string;
  readonly attributes: ReadonlyMap<string, ReadonlyArray<AttributeValue>>;
}

/**
 * Attributes whose values are bytes, not UTF-8 text. Readers (LDAP, LDIF) hand these on as Uint8Array.
 * Lower-cased.
 */
export const BINARY_ATTRIBUTES: ReadonlySet<string> = new Set([
  'objectguid',
  'objectsid',
  'jpegphoto',
  'photo',
  'thumbnailphoto',
  'usercertificate',
  'cacertificate',
  'usersmimecertificate',
  'userpkcs12',
  'msexchmailboxguid',
  'ms-ds-consistencyguid',
  'sidhistory',
  'tokengroups',
  'msds-generationid',
]);

/** Builds an entry from a plain object; names are lower-cased and single values wrapped. */
export function makeEntry(
  dn: string,
  attributes: Readonly<Record<string, AttributeValue | ReadonlyArray<AttributeValue>>>,
): Entry {
  const map = new Map<string, ReadonlyArray<AttributeValue>>();
  for (const [name, value] of Object.entries(attributes)) {
    const key = name.toLowerCase();
    const values = Array.isArray(value) ? (value as ReadonlyArray<AttributeValue>) : [value as AttributeValue];
    map.set(key, [...(map.get(key) ?? []), ...values]);
  }
  return { dn, attributes: map };
}
