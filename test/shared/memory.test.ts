import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../src/shared/index.js';

describe('collectGarbage', () => {
  it('collects what nothing refers to any more, in a process started without --expose-gc', async () => {
    expect(process.execArgv).not.toContain('--expose-gc');
    let entries: unknown[] | undefined = Array.from({ length: 100_000 }, (_, i) => ({ dn: `uid=user${i},ou=people,dc=example,dc=org` }));
    const ref = new WeakRef(entries);
    entries = undefined;
    // A WeakRef holds its target until the job that made it ends.
    await nextTurn();
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });
});
