import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { SyncKind, SyncOutcome } from '../sync/index.js';

/**
 * The daemon's Prometheus metrics, in a registry of its own (not prom-client's global one, so that two daemons in
 * one process, as in tests, do not share counters). Process metrics (memory, CPU, event loop) come with it.
 */
export class DaemonMetrics {
  readonly registry: Registry = new Registry();
  readonly #runs: Counter<'profile' | 'kind' | 'outcome'>;
  readonly #overlaps: Counter<'profile'>;
  readonly #lastSuccess: Gauge<'profile' | 'kind'>;
  readonly #entriesRead: Counter<'profile' | 'kind'>;
  readonly #changes: Counter<'profile' | 'kind' | 'change'>;
  readonly #duration: Histogram<'profile' | 'kind' | 'outcome'>;
  readonly #reloads: Counter<'trigger'>;
  readonly #rejections: Counter<'trigger'>;
  readonly #configInfo: Gauge<'hash'>;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'ldapsync_' });
    this.#runs = new Counter({
      name: 'ldapsync_sync_runs_total',
      help: 'Sync runs started by the daemon, by profile, kind and outcome (succeeded, failed, aborted by a safety limit, busy in another process).',
      labelNames: ['profile', 'kind', 'outcome'],
      registers,
    });
    this.#overlaps = new Counter({
      name: 'ldapsync_sync_overlaps_skipped_total',
      help: 'Scheduled runs skipped because the previous run of the profile was still going.',
      labelNames: ['profile'],
      registers,
    });
    this.#lastSuccess = new Gauge({
      name: 'ldapsync_sync_last_success_timestamp_seconds',
      help: 'When the last successful sync of the profile and kind finished, in seconds since the epoch.',
      labelNames: ['profile', 'kind'],
      registers,
    });
    this.#entriesRead = new Counter({
      name: 'ldapsync_sync_entries_read_total',
      help: 'LDAP entries read by sync runs.',
      labelNames: ['profile', 'kind'],
      registers,
    });
    this.#changes = new Counter({
      name: 'ldapsync_sync_changes_applied_total',
      help: 'Changes written to the store by sync runs, by change (created, updated, removed).',
      labelNames: ['profile', 'kind', 'change'],
      registers,
    });
    this.#duration = new Histogram({
      name: 'ldapsync_sync_duration_seconds',
      help: 'How long sync runs took.',
      labelNames: ['profile', 'kind', 'outcome'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600],
      registers,
    });
    this.#reloads = new Counter({
      name: 'ldapsync_config_reloads_total',
      help: 'Config files taken into force by a reload (file change or SIGHUP).',
      labelNames: ['trigger'],
      registers,
    });
    this.#rejections = new Counter({
      name: 'ldapsync_config_rejections_total',
      help: 'Config files rejected on reload; the last good file stayed in force.',
      labelNames: ['trigger'],
      registers,
    });
    this.#configInfo = new Gauge({
      name: 'ldapsync_config_info',
      help: 'The config in force: 1 for the sha256 of its file.',
      labelNames: ['hash'],
      registers,
    });
    for (const trigger of ['watch', 'signal']) {
      this.#reloads.inc({ trigger }, 0);
      this.#rejections.inc({ trigger }, 0);
    }
  }

  recordRun(profile: string, kind: SyncKind, outcome: SyncOutcome, finishedAt: number): void {
    this.#runs.inc({ profile, kind, outcome: outcome.status });
    switch (outcome.status) {
      case 'succeeded':
        this.#lastSuccess.set({ profile, kind }, finishedAt / 1000);
        this.#recordCounts(profile, kind, outcome.counts);
        this.#duration.observe({ profile, kind, outcome: outcome.status }, outcome.durationMs / 1000);
        return;
      case 'aborted':
        this.#entriesRead.inc({ profile, kind }, outcome.counts.read);
        this.#duration.observe({ profile, kind, outcome: outcome.status }, outcome.durationMs / 1000);
        return;
      case 'failed':
        this.#duration.observe({ profile, kind, outcome: outcome.status }, outcome.durationMs / 1000);
        return;
      case 'busy':
        return;
      default: {
        const never: never = outcome;
        throw new Error(`unknown sync outcome ${String(never)}`);
      }
    }
  }

  recordOverlap(profile: string): void {
    this.#overlaps.inc({ profile });
  }

  recordReload(trigger: 'watch' | 'signal', hash: string): void {
    this.#reloads.inc({ trigger });
    this.setConfig(hash);
  }

  recordRejection(trigger: 'watch' | 'signal'): void {
    this.#rejections.inc({ trigger });
  }

  setConfig(hash: string): void {
    this.#configInfo.reset();
    this.#configInfo.set({ hash }, 1);
  }

  #recordCounts(profile: string, kind: SyncKind, counts: { readonly read: number; readonly created: number; readonly updated: number; readonly removed: number }): void {
    this.#entriesRead.inc({ profile, kind }, counts.read);
    this.#changes.inc({ profile, kind, change: 'created' }, counts.created);
    this.#changes.inc({ profile, kind, change: 'updated' }, counts.updated);
    this.#changes.inc({ profile, kind, change: 'removed' }, counts.removed);
  }
}
