import { makeEntry, type Entry } from '../../src/shared/index.js';

/** Philip J. Fry as the Planet Express OpenLDAP test directory has him, plus what the examples need. */
export const fry: Entry = makeEntry('cn=Philip J. Fry,ou=people,dc=planetexpress,dc=com', {
  objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
  cn: 'Philip J. Fry',
  givenName: 'Philip',
  sn: 'Fry',
  uid: 'fry',
  mail: ['fry@planetexpress.com', 'Philip.Fry@Example.com'],
  ou: 'Delivering Crew',
  title: 'Delivery boy',
  description: 'Human',
  employeeType: 'Delivery boy',
  telephoneNumber: '+1 555 0101',
  st: 'NY',
  l: 'New New York',
  o: 'Planet Express',
  memberOf: ['cn=ship_crew,ou=people,dc=planetexpress,dc=com'],
});

/** Hermes: office staff, one mail address, none at the preferred domain. */
export const hermes: Entry = makeEntry('cn=Hermes Conrad,ou=people,dc=planetexpress,dc=com', {
  cn: 'Hermes Conrad',
  givenName: 'Hermes',
  sn: 'Conrad',
  uid: 'hermes',
  mail: 'hermes@planetexpress.com',
  ou: 'Office Management',
  employeeType: 'Bureaucrat',
  memberOf: ['cn=admin_staff,ou=people,dc=planetexpress,dc=com'],
});

/** bytes fc d4 5a 66 d1 2e 4f 4b 9a 3e 01 23 45 67 89 ab: the GUID 665ad4fc-2ed1-4b4f-9a3e-0123456789ab. */
export const OBJECT_GUID = Uint8Array.from([
  0xfc, 0xd4, 0x5a, 0x66, 0xd1, 0x2e, 0x4f, 0x4b, 0x9a, 0x3e, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab,
]);

/** S-1-5-21-3623811015-3361044348-30300820-1013 in its binary form. */
export const OBJECT_SID = Uint8Array.from([
  0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x15, 0x00, 0x00, 0x00, 0xc7, 0xf7, 0xfe, 0xd7, 0x7c, 0x77, 0x55,
  0xc8, 0x94, 0x5a, 0xce, 0x01, 0xf5, 0x03, 0x00, 0x00,
]);

/** An Active Directory user: sAMAccountName, a disabled flag, FILETIME and generalized time, binary GUID and SID. */
export const adUser: Entry = makeEntry('CN=Amy Wong,CN=Users,DC=example,DC=com', {
  objectClass: ['top', 'person', 'organizationalPerson', 'user'],
  cn: 'Amy Wong',
  sAMAccountName: 'amy',
  givenName: 'Amy',
  sn: 'Wong',
  mail: 'amy@example.com',
  company: 'Wong Ranch',
  st: 'Mars',
  info: 'Intern',
  userAccountControl: '514',
  // 2024-01-17T21:20:00.000Z
  accountExpires: '133500000000000000',
  whenChanged: '20240131123456.0Z',
  objectGUID: OBJECT_GUID,
  objectSid: OBJECT_SID,
  memberOf: ['CN=Interns,OU=Groups,DC=example,DC=com', 'CN=Domain Users,CN=Users,DC=example,DC=com'],
});

/** An enabled AD user whose account never expires. */
export const adService: Entry = makeEntry('CN=svc-backup,CN=Users,DC=example,DC=com', {
  sAMAccountName: 'svc-backup',
  userAccountControl: '66048',
  accountExpires: '9223372036854775807',
  whenChanged: '20231224000000Z',
  objectGUID: new Uint8Array(16),
});
