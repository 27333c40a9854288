import type { Config, Profile } from '../config/index.js';
import type { Logger } from '../shared/index.js';
import type { RunCounts } from '../store/index.js';

export type SyncKind = 'users' | 'groups';
export type SyncTrigger = 'schedule' | 'cli' | 'reload' | 'login';

export interface SyncRequest {
  /** The config the run started under; a reload during the run does not change it. */
  readonly config: Config;
  readonly profile: Profile;
  readonly kind: SyncKind;
  readonly trigger: SyncTrigger;
  readonly dryRun: boolean;
  /** Command-line overrides of the profile's `deletes`. */
  readonly deletes?: { readonly enabled?: boolean; readonly maxPercentage?: number };
  readonly logger: Logger;
  /** Aborting rolls the run back (nothing written) and ends it as failed. */
  readonly signal?: AbortSignal;
  /**
   * The result's plan must list every change (`--json`). Otherwise a first sync of users writes each page as it
   * reads it, and its plan lists only the first creates (`createsAbridged`).
   */
  readonly wholePlan?: boolean;
  /** Called as pages arrive, for progress bars. */
  readonly onProgress?: (progress: { readonly read: number }) => void;
}

/** A run's counts as recorded, and how many entries it read. */
export type SyncCounts = RunCounts & { readonly read: number };

/** How one run ended. `aborted` means a safety limit stopped it before anything was written. */
export type SyncOutcome =
  | { readonly status: 'succeeded'; readonly runId: string | undefined; readonly counts: SyncCounts; readonly durationMs: number }
  | { readonly status: 'aborted'; readonly runId: string | undefined; readonly counts: SyncCounts; readonly reason: string; readonly durationMs: number }
  | { readonly status: 'busy'; readonly reason: string }
  | { readonly status: 'failed'; readonly runId: string | undefined; readonly error: Error; readonly durationMs: number };
