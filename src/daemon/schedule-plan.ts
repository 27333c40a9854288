import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { parse as parseYaml } from 'yaml';
import type { Config, Profile } from '../config/index.js';
import { Secret } from '../shared/index.js';
import type { SyncKind } from '../sync/index.js';

/** When a job is due: the first due time strictly after `after` (ms since the epoch), or undefined if never. */
export interface Timing {
  next(after: number): number | undefined;
}

/** What the daemon runs for one profile and when. */
export interface ProfilePlan {
  readonly name: string;
  /** The kinds whose sync is on, in run order: users first, then groups. Never empty. */
  readonly kinds: ReadonlyArray<SyncKind>;
  readonly schedule: string;
  readonly timezone: string | undefined;
  readonly timing: Timing;
}

/** The profiles whose users or groups sync is on, in file order. */
export function planSchedules(config: Config): ReadonlyMap<string, ProfilePlan> {
  const plans = new Map<string, ProfilePlan>();
  for (const profile of config.servers.values()) {
    const kinds = enabledKinds(profile);
    if (kinds.length === 0) continue;
    plans.set(
      profile.name,
      Object.freeze({
        name: profile.name,
        kinds,
        schedule: profile.schedule,
        timezone: profile.timezone,
        timing: cronTiming(profile.schedule, profile.timezone),
      }),
    );
  }
  return plans;
}

function enabledKinds(profile: Profile): ReadonlyArray<SyncKind> {
  const kinds: SyncKind[] = [];
  if (profile.users.sync) kinds.push('users');
  if (profile.groups?.sync === true) kinds.push('groups');
  return Object.freeze(kinds);
}

/**
 * Croner as a calculator only: the scheduler keeps its own timers (on its injectable clock) and asks croner
 * for the next matching instant, which covers 5- and 6-field patterns, time zones and DST.
 */
export function cronTiming(schedule: string, timezone: string | undefined): Timing {
  const cron = new Cron(schedule, { paused: true, ...(timezone === undefined ? {} : { timezone }) });
  return {
    next(after: number): number | undefined {
      return cron.nextRun(new Date(after))?.getTime();
    },
  };
}

/** What a reload changes, by profile name. */
export interface PlanDiff {
  /** Scheduled now and not before (a new profile, or one whose sync was off). */
  readonly added: ReadonlyArray<string>;
  /** Scheduled before and not now (removed, or its sync turned off). */
  readonly removed: ReadonlyArray<string>;
  /** Scheduled before and now, with a kind newly turned on: it runs soon, as a new profile does. */
  readonly enabled: ReadonlyArray<string>;
  /** Scheduled before and now, on another cron expression or time zone. */
  readonly rescheduled: ReadonlyArray<string>;
}

export function diffPlans(before: ReadonlyMap<string, ProfilePlan>, after: ReadonlyMap<string, ProfilePlan>): PlanDiff {
  const added: string[] = [];
  const enabled: string[] = [];
  const rescheduled: string[] = [];
  for (const [name, plan] of after) {
    const old = before.get(name);
    if (old === undefined) {
      added.push(name);
      continue;
    }
    if (plan.kinds.some((kind) => !old.kinds.includes(kind))) enabled.push(name);
    if (plan.schedule !== old.schedule || plan.timezone !== old.timezone) rescheduled.push(name);
  }
  const removed = [...before.keys()].filter((name) => !after.has(name));
  return { added, removed, enabled, rescheduled };
}

/** Which profiles of the file were added, removed or changed in any setting (mappings and secrets included). */
export interface ProfileDiff {
  readonly added: ReadonlyArray<string>;
  readonly removed: ReadonlyArray<string>;
  readonly changed: ReadonlyArray<string>;
}

/** Compares two sets of profile digests (see `profileDigests`). */
export function diffProfiles(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): ProfileDiff {
  const added: string[] = [];
  const changed: string[] = [];
  for (const [name, digest] of after) {
    const old = before.get(name);
    if (old === undefined) added.push(name);
    else if (old !== digest) changed.push(name);
  }
  const removed = [...before.keys()].filter((name) => !after.has(name));
  return { added, removed, changed };
}

/**
 * A digest per profile of everything that decides what it does: the loaded profile (with secrets counted by a
 * hash of their value, so that a rotated password is a change without the value leaving this function) and, from
 * the file's text, its YAML section and the named mappings it uses. The text is needed because a compiled mapping
 * keeps its expressions to itself: an edited expression is visible only there.
 */
export function profileDigests(config: Config, text: string): ReadonlyMap<string, string> {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    // The config loaded from this text, so it parses; should it not, the loaded profiles alone still count.
    raw = undefined;
  }
  const digests = new Map<string, string>();
  for (const profile of config.servers.values()) {
    digests.set(profile.name, sha256(`${loadedFingerprint(profile)}\n${JSON.stringify(rawSections(raw, profile.name))}`));
  }
  return digests;
}

function loadedFingerprint(profile: Profile): string {
  return JSON.stringify(profile, function replacer(this: Record<string, unknown>, key: string, value: unknown) {
    const original = key === '' ? value : this[key];
    if (original instanceof Secret) return `secret:${sha256(original.reveal())}`;
    if (original instanceof Map) return [...original.entries()];
    return value;
  });
}

/** The profile's YAML section and every named mapping it refers to (`mapping: NAME`, `use: NAME`), transitively. */
function rawSections(raw: unknown, name: string): unknown[] {
  const server = child(child(raw, 'servers'), name);
  const named = child(raw, 'mappings');
  const sections: unknown[] = [server];
  const seen = new Set<string>();
  const pending = [child(child(server, 'users'), 'mapping'), child(child(server, 'groups'), 'mapping')];
  while (pending.length > 0) {
    const mapping = pending.pop();
    const ref = typeof mapping === 'string' ? mapping : child(mapping, 'use');
    if (typeof ref !== 'string' || seen.has(ref)) continue;
    seen.add(ref);
    const target = child(named, ref);
    sections.push([ref, target]);
    pending.push(target);
  }
  return sections;
}

function child(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[key] : undefined;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
