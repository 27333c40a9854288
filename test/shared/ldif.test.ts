import { describe, expect, it } from 'vitest';
import { parseLdif } from '../../src/shared/index.js';

describe('parseLdif', () => {
  it('reads folded lines, comments, base64 values and multi-valued attributes', () => {
    const text = [
      'version: 1',
      '',
      '# a person',
      'dn: uid=fry,ou=people,dc=example,dc=org',
      'objectClass: inetOrgPerson',
      'cn: Philip J.',
      '  Fry',
      'mail: fry@planetexpress.com',
      'mail: fry@example.com',
      'sn:: w4VuZ3N0csO2bQ==',
      '# a comment inside a record',
      '',
      'dn:: Y249Wm/DqyxkYz1leGFtcGxlLGRjPW9yZw==',
      'cn: Zoë',
      '',
    ].join('\n');
    const records = parseLdif(text);
    expect(records).toHaveLength(2);
    const fry = records[0]!;
    expect(fry.line).toBe(4);
    expect(fry.entry.dn).toBe('uid=fry,ou=people,dc=example,dc=org');
    expect(fry.entry.attributes.get('cn')).toEqual(['Philip J. Fry']);
    expect(fry.entry.attributes.get('mail')).toEqual(['fry@planetexpress.com', 'fry@example.com']);
    expect(fry.entry.attributes.get('sn')).toEqual(['Ångström']);
    expect(records[1]!.entry.dn).toBe('cn=Zoë,dc=example,dc=org');
  });

  it('keeps binary attributes as bytes', () => {
    const records = parseLdif('dn: cn=x\nobjectGUID:: /NRaZvAnJkyIzDIhQ0RVZg==\nuserCertificate;binary:: AAEC\n');
    const attrs = records[0]!.entry.attributes;
    expect(attrs.get('objectguid')?.[0]).toBeInstanceOf(Uint8Array);
    expect(Array.from(attrs.get('objectguid')![0] as Uint8Array).slice(0, 4)).toEqual([0xfc, 0xd4, 0x5a, 0x66]);
    expect(Array.from(attrs.get('usercertificate')![0] as Uint8Array)).toEqual([0, 1, 2]);
  });

  it('accepts CRLF line ends and a record without a trailing blank line', () => {
    const records = parseLdif('dn: cn=a\r\ncn: a\r\n\r\ndn: cn=b\r\ncn: b');
    expect(records.map((r) => r.entry.dn)).toEqual(['cn=a', 'cn=b']);
  });

  it('names the line of a record that does not start with dn', () => {
    expect(() => parseLdif('cn: a\n', 'x.ldif')).toThrowError(expect.objectContaining({ code: 'ldif.syntax', where: expect.objectContaining({ file: 'x.ldif', line: 1 }) }));
  });

  it('refuses change records and non-UTF-8 text with the line', () => {
    expect(() => parseLdif('dn: cn=a\nchangetype: modify\n')).toThrowError(expect.objectContaining({ code: 'ldif.syntax', where: expect.objectContaining({ line: 2 }) }));
    expect(() => parseLdif('dn: cn=a\n\ndn: cn=b\ncn:: //79\n')).toThrowError(expect.objectContaining({ where: expect.objectContaining({ line: 4 }) }));
  });

  it('refuses a line without a colon', () => {
    expect(() => parseLdif('dn: cn=a\nthis is not ldif\n')).toThrowError(expect.objectContaining({ where: expect.objectContaining({ line: 2 }) }));
  });
});
