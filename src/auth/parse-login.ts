import type { Config, Profile } from '../config/index.js';

/** Where a login goes, before the store or the directory is asked anything. */
export type LoginRoute =
  /** `name@domain` of a profile, or a bare name that falls back to the default domain. */
  | { readonly kind: 'profile'; readonly name: string; readonly domain: string; readonly profile: Profile }
  /** A domain no profile lists; `domain` is null for a bare name without a default domain. */
  | { readonly kind: 'unknown-domain'; readonly name: string; readonly domain: string | null };

export interface ParsedLogin {
  /** Trimmed; may be empty. */
  readonly name: string;
  /** Lower-cased; undefined when the login has no `@`. */
  readonly domain: string | undefined;
}

/** Splits at the last `@`, so a name that itself contains `@` keeps it: `a@b@example.com` is `a@b` in example.com. */
export function parseLogin(login: string): ParsedLogin {
  const text = login.trim();
  const at = text.lastIndexOf('@');
  if (at < 0) return { name: text, domain: undefined };
  return { name: text.slice(0, at).trim(), domain: text.slice(at + 1).trim().toLowerCase() };
}

/** The profile that lists `domain` (lower case); the config guarantees a domain belongs to one profile at most. */
export function profileForDomain(config: Config, domain: string): Profile | undefined {
  for (const profile of config.servers.values()) {
    if (profile.domains.includes(domain)) return profile;
  }
  return undefined;
}

/**
 * The profile a login belongs to (DESIGN §2): the one listing its domain, case-insensitively; a bare name goes
 * to `defaultDomain`. Whether a local user claims a bare name first is for the caller to ask the store.
 */
export function routeLogin(parsed: ParsedLogin, config: Config): LoginRoute {
  const domain = parsed.domain ?? config.defaultDomain;
  if (domain === undefined) return { kind: 'unknown-domain', name: parsed.name, domain: null };
  const profile = profileForDomain(config, domain);
  if (profile === undefined) return { kind: 'unknown-domain', name: parsed.name, domain };
  return { kind: 'profile', name: parsed.name, domain, profile };
}

/** The login a profile's row of `username` has: `username@primary-domain` (as the sync's desiredUser builds it). */
export function storedLoginOf(profile: Profile, username: string): string {
  const primary = profile.domains[0];
  return primary === undefined ? username : `${username}@${primary}`;
}
