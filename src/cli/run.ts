import { Daemon, handleSignals, settingsFromEnv, type DaemonSettings } from '../daemon/index.js';
import { LdapsyncError, createLogger, type LoggerOptions } from '../shared/index.js';
import { ExitCode, writeLine, type Io } from './io.js';

export interface RunOptions {
  /** Absolute path of the config file. */
  readonly config: string;
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

/**
 * `ldapsync run`: the daemon, until SIGTERM or SIGINT. Exit 0 after a graceful stop, 2 if the config file is
 * invalid at start (or a setting in the environment is), 1 if it cannot start otherwise (store unreachable,
 * HTTP port taken).
 */
export async function runCommand(options: RunOptions, io: Io): Promise<ExitCode> {
  const envLevel = io.env['LOG_LEVEL'];
  if (envLevel !== undefined && envLevel !== '' && !LEVELS.has(envLevel)) {
    writeLine(io.stderr, `LOG_LEVEL must be one of ${[...LEVELS].join(', ')}, not "${envLevel}"`);
    return ExitCode.usage;
  }
  let settings: DaemonSettings;
  try {
    settings = settingsFromEnv(io.env);
  } catch (err) {
    writeLine(io.stderr, err instanceof Error ? err.message : String(err));
    return ExitCode.usage;
  }

  // JSON lines on stdout for journald and log shippers; pretty lines for a person at a terminal.
  const logger = createLogger({
    level: envLevel !== undefined && envLevel !== '' ? (envLevel as LoggerOptions['level']) : 'info',
    pretty: io.stdout.isTTY === true,
    ...(io.stdout === process.stdout ? {} : { destination: io.stdout }),
  });
  const daemon = new Daemon({ file: options.config, env: io.env, logger, settings });
  const signals = handleSignals(daemon, logger);
  try {
    await daemon.start();
  } catch (err) {
    if (!(err instanceof LdapsyncError && err.code === 'config.invalid')) {
      logger.fatal({ event: 'daemon.start_failed', err }, `the daemon could not start: ${err instanceof Error ? err.message : String(err)}`);
    }
    await daemon.stop('start failed');
    signals.dispose();
    return err instanceof LdapsyncError && err.code === 'config.invalid' ? ExitCode.usage : ExitCode.failure;
  }
  await signals.stopped;
  signals.dispose();
  return ExitCode.ok;
}
