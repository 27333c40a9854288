export { runSync } from './run-sync.js';
export type { SyncResult } from './run-sync.js';
export { desiredUser, desiredGroup, isSkip } from './desired.js';
export type { SyncCounts, SyncKind, SyncOutcome, SyncRequest, SyncTrigger } from './types.js';
export { callHooks, loadHooks } from './hooks.js';
