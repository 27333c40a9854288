import type { GroupPlan, UserPlan } from '../reconcile/index.js';
import { jsonReplacer } from './io.js';

const show = (value: unknown): string => (value === null || value === undefined ? '∅' : JSON.stringify(value, jsonReplacer));

/** Caps long lists in human output; `--json` always has everything. */
const LIMIT = 50;

/** A section of `count` one-line items, of which only the first LIMIT are produced (a first sync adds a line per membership). */
function countedSection(title: string, count: number, lines: Iterable<string>): string[] {
  if (count === 0) return [];
  const out = [`${title} (${count}):`];
  for (const line of lines) {
    if (out.length > LIMIT) break;
    out.push(`  ${line}`);
  }
  if (count > LIMIT) out.push(`  … and ${count - LIMIT} more (use --json for all)`);
  return out;
}

function* membershipLines(plan: GroupPlan, which: 'add' | 'remove'): Generator<string> {
  for (const m of plan.memberships) {
    for (const ref of m[which]) yield `${which === 'add' ? '+' : '-'} ${ref.username ?? ref.dn ?? ref.id} ${which === 'add' ? '→' : '✕'} ${m.dn}`;
  }
}

/** `count` is how many there are, when `items` holds only the first of them. */
function section<T>(title: string, items: ReadonlyArray<T>, line: (item: T) => string[], count = items.length): string[] {
  if (count === 0) return [];
  const out = [`${title} (${count}):`];
  for (const item of items.slice(0, LIMIT)) out.push(...line(item).map((l, i) => (i === 0 ? `  ${l}` : `      ${l}`)));
  const shown = Math.min(items.length, LIMIT);
  if (count > shown) out.push(`  … and ${count - shown} more (use --json for all)`);
  return out;
}

type Change = UserPlan['changes'][number] | GroupPlan['changes'][number];
type ChangeOf<K extends Change['kind']> = Extract<Change, { kind: K }>;

function ofKind<K extends Change['kind']>(changes: ReadonlyArray<Change>, kind: K): Array<ChangeOf<K>> {
  return changes.filter((c): c is ChangeOf<K> => c.kind === kind);
}

/** A user change names its username, a group change its group name. */
function nameOf(change: Change): string {
  return 'username' in change ? change.username : change.name;
}

/** The plan as a person reads it: what would be created, changed (field by field), removed, and left alone. */
export function formatPlan(plan: UserPlan | GroupPlan): string[] {
  const noun = plan.kind === 'users' ? 'user' : 'group';
  const changes: ReadonlyArray<Change> = plan.changes;
  const conflicts = ofKind(changes, 'conflict');
  const lines: string[] = [];
  const creates = ofKind(changes, 'create');
  const createCount = plan.kind === 'users' && plan.createsAbridged === true ? plan.counts.created : creates.length;
  lines.push(...section(`create ${noun}s`, creates, (c) => [`+ ${nameOf(c)}  ${c.dn}`], createCount));
  lines.push(
    ...section(`update ${noun}s`, ofKind(changes, 'update'), (u) => [
      `~ ${nameOf(u)}  ${u.dn}${u.revive ? '  (back in the directory: revived)' : ''}`,
      ...Object.entries(u.changes).map(([field, ch]) => `${field}: ${show(ch.old)} → ${show(ch.new)}`),
    ]),
  );
  lines.push(
    ...section(`remove ${noun}s`, ofKind(changes, 'remove'), (r) => [
      `- ${r.mode} ${nameOf(r)}  ${r.dn}  (${r.reason === 'purge' ? 'disabled longer than purgeAfter' : 'gone from the directory'})`,
    ]),
  );
  lines.push(...section('conflicts (left alone)', conflicts, (c) => [`! ${c.login}  ${c.dn}: ${c.reason}`]));
  if (plan.kind === 'groups') {
    lines.push(...countedSection('memberships added', plan.counts.membershipsAdded, membershipLines(plan, 'add')));
    lines.push(...countedSection('memberships removed', plan.counts.membershipsRemoved, membershipLines(plan, 'remove')));
    lines.push(...section('members not synced (ignored)', plan.unresolved, (u) => [`? ${u.member} in ${u.groupDn} (${u.cause})`]));
    lines.push(...section('nesting cycles', plan.cycles, (c) => [c.join(' → ')]));
  }
  lines.push(...section('skipped entries (their rows are kept)', plan.skipped, (s) => [`? ${s.dn}: ${s.reason}`]));
  lines.push(...section(`missing from the directory, kept (deletes are off)`, plan.missing, (m) => [`· ${m.name}  ${m.dn}`]));
  const c = plan.counts;
  lines.push(
    `${plan.kind} of ${plan.profile}: ${c.created} to create, ${c.updated} to update, ${c.removed} to remove, ${c.unchanged} unchanged, ${c.skipped} skipped, ${c.conflicts} conflicts, ${c.missing} missing`,
  );
  if (plan.guard.tripped) lines.push(`delete guard: ${plan.guard.reason ?? 'tripped'}`);
  return lines;
}
