import { pathToFileURL } from 'node:url';
import type { AppliedChange } from '../store/index.js';
import { toLdapsyncError, type Logger } from '../shared/index.js';

/** A hook module: any JS or TS module exporting `onChange(event)`. */
export interface Hook {
  readonly path: string;
  readonly onChange: (event: AppliedChange) => unknown;
}

const loaded = new Map<string, Promise<Hook>>();

async function importHook(path: string): Promise<Hook> {
  // TypeScript hooks are loaded through tsx so that operators need no build step for a small script.
  const mod = (/\.[cm]?tsx?$/.test(path)
    ? await (await import('tsx/esm/api')).tsImport(pathToFileURL(path).href, import.meta.url)
    : await import(pathToFileURL(path).href)) as { onChange?: unknown; default?: { onChange?: unknown } };
  const onChange = mod.onChange ?? mod.default?.onChange;
  if (typeof onChange !== 'function') {
    throw toLdapsyncError(new Error(`hook module ${path} does not export a function onChange(event)`), 'sync.hook');
  }
  return { path, onChange: onChange as Hook['onChange'] };
}

/** Loads each hook module once per process; a module that fails to load is reported and left out. */
export async function loadHooks(paths: ReadonlyArray<string>, logger: Logger): Promise<Hook[]> {
  const hooks: Hook[] = [];
  for (const path of paths) {
    let hook = loaded.get(path);
    if (hook === undefined) {
      hook = importHook(path);
      loaded.set(path, hook);
    }
    try {
      hooks.push(await hook);
    } catch (err) {
      loaded.delete(path);
      logger.error({ event: 'hook.load_failed', hook: path, err: toLdapsyncError(err).message }, `hook ${path} could not be loaded`);
    }
  }
  return hooks;
}

/**
 * Calls every hook for every change of a committed run, in order. A hook that throws is logged and the next
 * one is called: the run is committed and stays so.
 */
export async function callHooks(hooks: ReadonlyArray<Hook>, changes: ReadonlyArray<AppliedChange>, logger: Logger): Promise<void> {
  for (const change of changes) {
    for (const hook of hooks) {
      try {
        await hook.onChange(change);
      } catch (err) {
        logger.error(
          { event: 'hook.failed', hook: hook.path, change: change.event, runId: change.runId, err: toLdapsyncError(err).message },
          `hook ${hook.path} failed on ${change.event}`,
        );
      }
    }
  }
}
