import type cliProgress from 'cli-progress';
import { runSync, type SyncKind, type SyncResult } from '../sync/index.js';
import { cliLogger, openStoreOrReport } from './context.js';
import { ExitCode, writeJson, writeLine, type Io } from './io.js';
import { loadOrReport, profileOrReport } from './load.js';
import { formatPlan } from './plan-output.js';

export interface SyncOptions {
  readonly config: string;
  readonly kind: SyncKind;
  readonly server: string;
  readonly dryRun: boolean;
  readonly delete: boolean | undefined;
  readonly maxDeletePercentage: number | undefined;
  readonly json: boolean;
}

/** `ldapsync sync users|groups SERVER`: one reconciliation, its plan printed, exit 0 / 1 failed / 3 aborted by the guard. */
export async function syncCommand(options: SyncOptions, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(options.config, io);
  if (config === undefined) return ExitCode.usage;
  const profile = profileOrReport(config, options.server, io);
  if (profile === undefined) return ExitCode.usage;
  if (options.kind === 'groups' && profile.groups === undefined) {
    writeLine(io.stderr, `profile "${profile.name}" has no groups query`);
    return ExitCode.usage;
  }
  const logger = cliLogger(config, io);
  const store = await openStoreOrReport(config, logger, io);
  if (store === undefined) return ExitCode.failure;

  const progress = !options.json && io.stderr.isTTY === true ? await progressBar(options.kind, io) : undefined;
  progress?.start(0, 0);
  let result: SyncResult;
  try {
    result = await runSync(
      {
        config,
        profile,
        kind: options.kind,
        trigger: 'cli',
        dryRun: options.dryRun,
        deletes: {
          ...(options.delete === undefined ? {} : { enabled: options.delete }),
          ...(options.maxDeletePercentage === undefined ? {} : { maxPercentage: options.maxDeletePercentage }),
        },
        logger,
        wholePlan: options.json,
        onProgress: ({ read }) => progress?.update(read),
      },
      store,
    );
  } finally {
    progress?.stop();
    await store.close();
  }

  if (options.json) writeJson(io.stdout, jsonResult(options, result));
  else printResult(options, result, io);
  switch (result.status) {
    case 'succeeded':
      return ExitCode.ok;
    case 'aborted':
      return ExitCode.aborted;
    case 'busy':
    case 'failed':
      return ExitCode.failure;
  }
}

/** The bar on a terminal's stderr; its library is loaded only then. */
async function progressBar(kind: SyncKind, io: Io): Promise<cliProgress.SingleBar> {
  const { default: bars } = await import('cli-progress');
  return new bars.SingleBar({ format: `reading ${kind} | {value} entries`, stream: io.stderr });
}

function jsonResult(options: SyncOptions, result: SyncResult): unknown {
  const base = { profile: options.server, kind: options.kind, dryRun: options.dryRun, status: result.status };
  switch (result.status) {
    case 'succeeded':
      return { ...base, runId: result.runId ?? null, counts: result.counts, durationMs: result.durationMs, plan: result.plan };
    case 'aborted':
      return { ...base, runId: result.runId ?? null, counts: result.counts, reason: result.reason, plan: result.plan };
    case 'busy':
      return { ...base, reason: result.reason };
    case 'failed':
      return { ...base, runId: result.runId ?? null, error: { code: (result.error as { code?: string }).code ?? 'internal', message: result.error.message } };
  }
}

function printResult(options: SyncOptions, result: SyncResult, io: Io): void {
  if (result.status !== 'busy' && result.status !== 'failed' && result.plan !== undefined) {
    for (const line of formatPlan(result.plan)) writeLine(io.stdout, line);
  }
  switch (result.status) {
    case 'succeeded':
      writeLine(io.stdout, options.dryRun ? 'dry run: nothing was written' : `run ${result.runId ?? ''} succeeded in ${(result.durationMs / 1000).toFixed(1)} s`);
      return;
    case 'aborted':
      writeLine(io.stderr, `aborted: ${result.reason}`);
      return;
    case 'busy':
      writeLine(io.stderr, `not run: ${result.reason}`);
      return;
    case 'failed':
      writeLine(io.stderr, `failed: ${result.error.message}`);
      return;
  }
}
