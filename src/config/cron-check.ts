import { Cron } from 'croner';

export type CronSyntax =
  | { readonly ok: true }
  | { readonly ok: false; readonly offset: number; readonly length: number; readonly message: string };

const FIELDS: Readonly<Record<number, ReadonlyArray<string>>> = {
  5: ['minute', 'hour', 'day', 'month', 'dayOfWeek'],
  6: ['second', 'minute', 'hour', 'day', 'month', 'dayOfWeek'],
  7: ['second', 'minute', 'hour', 'day', 'month', 'dayOfWeek', 'year'],
};
const LABEL: Readonly<Record<string, string>> = { dayOfWeek: 'day-of-week', day: 'day-of-month' };

/**
 * Checks a cron expression with croner, the scheduler the daemon runs it with, so what passes here is
 * what will be scheduled. An expression that parses but can never fire (`0 0 31 2 *`) is refused too.
 * `offset` points at the offending field when croner names one.
 */
export function checkCron(expression: string, timezone: string | undefined): CronSyntax {
  try {
    // paused: nothing is scheduled; the object only parses and computes.
    const job = new Cron(expression, { paused: true, ...(timezone !== undefined ? { timezone } : {}) });
    const next = job.nextRun();
    job.stop();
    if (next === null) return { ok: false, offset: 0, length: expression.length, message: 'cron expression never fires (no such date)' };
    return { ok: true };
  } catch (err: unknown) {
    return place(expression, (err instanceof Error ? err.message : String(err)).replace(/^CronPattern:\s*/, ''));
  }
}

function place(expression: string, reason: string): CronSyntax {
  const parts = [...expression.matchAll(/\S+/g)].map((m) => ({ text: m[0], offset: m.index }));
  const whole = { ok: false as const, offset: 0, length: expression.length };
  const field = /^Invalid value for (\w+)/.exec(reason)?.[1];
  if (field !== undefined) {
    const index = FIELDS[parts.length]?.indexOf(field) ?? -1;
    const part = parts[index];
    const label = LABEL[field] ?? field;
    if (part !== undefined) {
      return { ok: false, offset: part.offset, length: part.text.length, message: `invalid cron expression: ${label} field '${part.text}' is out of range` };
    }
    return { ...whole, message: `invalid cron expression: bad ${label} field` };
  }
  const entry = /configuration entry (\d+)/.exec(reason)?.[1];
  const part = entry !== undefined ? parts[Number(entry) - 1] : undefined;
  if (part !== undefined) {
    return { ok: false, offset: part.offset, length: part.text.length, message: `invalid cron expression: field '${part.text}' contains illegal characters` };
  }
  if (/exactly five, six, or seven/.test(reason)) {
    return { ...whole, message: `invalid cron expression: ${parts.length} field${parts.length === 1 ? '' : 's'}; give 5 (minute hour day month weekday), 6 (seconds first) or a nickname such as @daily` };
  }
  return { ...whole, message: `invalid cron expression: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}` };
}
