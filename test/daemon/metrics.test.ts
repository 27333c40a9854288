import { describe, expect, it } from 'vitest';
import { DaemonMetrics } from '../../src/daemon/metrics.js';

const counts = { read: 120, created: 3, updated: 2, removed: 1, unchanged: 114, skipped: 0, conflicts: 0 };

describe('DaemonMetrics', () => {
  it('exposes runs by outcome, last success, entries read, changes applied, durations, reloads and rejections', async () => {
    const metrics = new DaemonMetrics();
    metrics.recordRun('pe', 'users', { status: 'succeeded', runId: '1', counts, durationMs: 1500 }, Date.parse('2025-03-01T10:00:00Z'));
    metrics.recordRun('pe', 'users', { status: 'failed', runId: '2', error: new Error('down'), durationMs: 40 }, Date.now());
    metrics.recordRun('pe', 'groups', { status: 'busy', reason: 'locked by another process' }, Date.now());
    metrics.recordOverlap('pe');
    metrics.recordReload('signal', 'abc');
    metrics.recordRejection('watch');
    const text = await metrics.registry.metrics();
    expect(text).toContain('ldapsync_sync_runs_total{profile="pe",kind="users",outcome="succeeded"} 1');
    expect(text).toContain('ldapsync_sync_runs_total{profile="pe",kind="users",outcome="failed"} 1');
    expect(text).toContain('ldapsync_sync_runs_total{profile="pe",kind="groups",outcome="busy"} 1');
    expect(text).toContain('ldapsync_sync_last_success_timestamp_seconds{profile="pe",kind="users"} 1740823200');
    expect(text).toContain('ldapsync_sync_entries_read_total{profile="pe",kind="users"} 120');
    expect(text).toContain('ldapsync_sync_changes_applied_total{profile="pe",kind="users",change="created"} 3');
    expect(text).toContain('ldapsync_sync_duration_seconds_count{profile="pe",kind="users",outcome="succeeded"} 1');
    expect(text).toContain('ldapsync_sync_overlaps_skipped_total{profile="pe"} 1');
    expect(text).toContain('ldapsync_config_reloads_total{trigger="signal"} 1');
    expect(text).toContain('ldapsync_config_rejections_total{trigger="watch"} 1');
    expect(text).toContain('ldapsync_config_info{hash="abc"} 1');
    expect(text).toContain('ldapsync_process_resident_memory_bytes');
  });

  it('keeps two daemons in one process apart', async () => {
    const a = new DaemonMetrics();
    const b = new DaemonMetrics();
    a.recordOverlap('pe');
    expect(await b.registry.metrics()).not.toContain('ldapsync_sync_overlaps_skipped_total{profile="pe"}');
  });
});
