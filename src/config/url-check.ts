import { isAbsolute, resolve } from 'node:path';

export type UrlCheck<T> =
  | ({ readonly ok: true } & T)
  | { readonly ok: false; readonly offset: number; readonly length: number; readonly message: string };

/**
 * An LDAP server URL: `ldap://host[:port]` or `ldaps://host[:port]`, nothing else. Credentials belong in
 * bindDN/bindPassword and the search base in users.baseDN, so a user part, path or query is refused.
 */
export function checkLdapUrl(text: string): UrlCheck<{ readonly url: string; readonly secure: boolean }> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  if (scheme === undefined) return { ok: false, offset: 0, length: text.length, message: 'not a URL: write ldap://host[:port] or ldaps://host[:port]' };
  const lower = scheme.toLowerCase();
  if (lower !== 'ldap' && lower !== 'ldaps') {
    return { ok: false, offset: 0, length: scheme.length, message: `unsupported URL scheme '${scheme}:': use ldap:// or ldaps://` };
  }
  const hostStart = scheme.length + 3;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, offset: hostStart, length: text.length - hostStart, message: 'malformed URL: write ldap://host[:port] or ldaps://host[:port]' };
  }
  if (url.username !== '' || url.password !== '') {
    return { ok: false, offset: hostStart, length: 1, message: 'the URL must not hold credentials: use bindDN and bindPassword' };
  }
  if (url.hostname === '') return { ok: false, offset: hostStart, length: 1, message: 'the URL has no host' };
  const rest = text.slice(hostStart).search(/[/?#]/);
  if (rest !== -1 && text.slice(hostStart + rest) !== '/') {
    return { ok: false, offset: hostStart + rest, length: text.length - hostStart - rest, message: 'the URL is only scheme://host[:port]; put the search base in users.baseDN' };
  }
  const port = url.port === '' ? '' : `:${url.port}`;
  return { ok: true, url: `${lower}://${url.hostname.toLowerCase()}${port}`, secure: lower === 'ldaps' };
}

/**
 * The store URL: `postgres://` / `postgresql://` as given, or `pglite://PATH` with PATH made absolute
 * against the config file's directory.
 */
export function checkStoreUrl(text: string, baseDir: string): UrlCheck<{ readonly url: string; readonly password: string | undefined; readonly passwordOffset: number; readonly passwordLength: number }> {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  if (scheme === undefined) {
    return { ok: false, offset: 0, length: text.length, message: 'not a URL: write postgres://user@host/db or pglite://PATH' };
  }
  const lower = scheme.toLowerCase();
  if (lower === 'pglite') {
    const path = text.slice('pglite://'.length);
    if (path === '') return { ok: false, offset: 0, length: text.length, message: 'pglite:// needs a directory path, e.g. pglite://./.ldapsync/store' };
    return { ok: true, url: `pglite://${isAbsolute(path) ? path : resolve(baseDir, path)}`, password: undefined, passwordOffset: 0, passwordLength: 0 };
  }
  if (lower !== 'postgres' && lower !== 'postgresql') {
    return { ok: false, offset: 0, length: scheme.length, message: `unsupported store URL scheme '${scheme}:': use postgres:// or pglite://` };
  }
  try {
    const url = new URL(text);
    const password = url.password === '' ? undefined : decodeURIComponent(url.password);
    const passwordOffset = password === undefined ? 0 : text.indexOf(':', scheme.length + 3) + 1;
    return { ok: true, url: text, password, passwordOffset, passwordLength: url.password.length };
  } catch {
    return { ok: false, offset: 0, length: text.length, message: 'malformed postgres URL: write postgres://user@host:port/database' };
  }
}

/** The HTTP listener: `host:port`, `[v6]:port`, `:port` or a port number; the host defaults to loopback. */
export function checkListen(value: string | number): UrlCheck<{ readonly host: string; readonly port: number }> {
  const text = String(value);
  const match = /^(?:(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]*):)?([0-9]{1,5})$/.exec(text);
  if (match === null) return { ok: false, offset: 0, length: text.length, message: 'listen must be host:port, [ipv6]:port, :port or a port number' };
  const port = Number(match[2]);
  if (port > 65535) return { ok: false, offset: text.length - (match[2] ?? '').length, length: (match[2] ?? '').length, message: 'port must be 0-65535' };
  const host = match[1] === undefined || match[1] === '' ? '127.0.0.1' : match[1].replace(/^\[|\]$/g, '');
  return { ok: true, host, port };
}
