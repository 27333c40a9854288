import type { Logger } from '../shared/index.js';
import type { Daemon } from './daemon.js';

export interface SignalHandling {
  /** Resolves when a SIGTERM or SIGINT has stopped the daemon gracefully. */
  readonly stopped: Promise<void>;
  /** Removes the handlers. */
  dispose(): void;
}

/**
 * SIGHUP reloads the config. SIGTERM or SIGINT stops the daemon gracefully (running syncs finish or roll back
 * within the shutdown timeout); a second one exits at once with code 1, and the open transaction rolls back
 * when its connection drops.
 */
export function handleSignals(daemon: Daemon, logger: Logger, exitNow: (code: number) => void = (code) => process.exit(code)): SignalHandling {
  let stopping = false;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));
  const onStop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn({ event: 'daemon.forced_exit', signal }, `${signal} again: exiting now; running syncs roll back`);
      exitNow(1);
      return;
    }
    stopping = true;
    void daemon.stop(signal).then(resolveStopped);
  };
  const onReload = (): void => {
    logger.info({ event: 'config.reload_requested', trigger: 'signal' }, 'SIGHUP: re-reading the config file');
    void daemon.reload('signal');
  };
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  process.on('SIGHUP', onReload);
  return {
    stopped,
    dispose: () => {
      process.off('SIGTERM', onStop);
      process.off('SIGINT', onStop);
      process.off('SIGHUP', onReload);
    },
  };
}
