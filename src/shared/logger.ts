import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type pinoPretty from 'pino-pretty';

export type { Logger } from 'pino';

export interface LoggerOptions {
  readonly level?: LevelWithSilent;
  /** Pretty lines for a person at a terminal; JSON lines otherwise (what journald and log shippers want). */
  readonly pretty?: boolean;
  /** The file descriptor lines go to: stdout (1, the daemon's, for journald) or stderr (2, the CLI's, so that stdout stays the command's output). */
  readonly fd?: 1 | 2;
  /** A stream instead of a descriptor (tests). */
  readonly destination?: NodeJS.WritableStream;
}

/**
 * Every field that could carry a credential is censored, whatever the path to it, so that an audit line or a
 * debug line can never leak one even if a caller logs a whole object.
 */
const REDACT_PATHS = [
  'password',
  'bindPassword',
  'token',
  'secret',
  '*.password',
  '*.bindPassword',
  '*.token',
  '*.secret',
  'req.headers.authorization',
];

let lastMs = Number.NaN;
let lastTime = '';

/** pino's isoTime, formatted once per millisecond: a first sync writes hundreds of thousands of lines a second. */
function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = (process.env['LOG_LEVEL'] as LevelWithSilent | undefined) ?? options.level ?? 'info';
  const base = {
    level,
    base: { app: 'ldapsync' },
    timestamp: isoTime,
    redact: { paths: REDACT_PATHS, censor: '[secret]' },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const fd = options.fd ?? 1;
  if (options.pretty === true) {
    // In-thread and synchronous, so that no line is lost when a command exits right after logging. Loaded only
    // for a terminal: JSON lines (the daemon's, a CLI's in a pipe) do without it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof pinoPretty;
    return pino(base, pretty({ destination: fd, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'app,pid,hostname' }));
  }
  // Synchronous writes: a line is on its descriptor before the next change is logged, so a killed process loses
  // no audit line of a committed run. They are also faster here for a burst: sonic-boom's asynchronous mode
  // took 2.9 s for 300,000 audit lines that synchronous writes put out in 1.4 s.
  if (options.destination !== undefined) return pino(base, options.destination);
  blockingWrites(fd);
  return pino(base, new LineSink(pino.destination({ dest: fd, sync: true })));
}

/**
 * Makes writes to a pipe or socket on `fd` wait for room instead of failing. Node puts stdio pipes and sockets
 * in non-blocking mode once process.stdout or process.stderr is touched, and sonic-boom's synchronous writes
 * meet a full pipe by sleeping 100 ms: a first sync's audit lines into `| tee`, or journald's socket, took
 * 12 s for 100,000 lines instead of 0.9 s. Files and terminals block already.
 */
function blockingWrites(fd: 1 | 2): void {
  const stream = fd === 1 ? process.stdout : process.stderr;
  const handle = (stream as unknown as { _handle?: { setBlocking?: (blocking: boolean) => number } })._handle;
  handle?.setBlocking?.(true);
}

type Destination = ReturnType<typeof pino.destination>;

/** Lines held back inside a burst before they are written, in one write. */
const BURST_BYTES = 64 * 1024;

/**
 * Where JSON lines go: straight to sonic-boom's synchronous writes, one a line, except inside `logBurst`, where
 * they are held back and written 64 KB at a time, all of them before `logBurst` returns. A write a line cost
 * 2.4 s of the 400,000 audit lines of a first sync of 100,000 users and 1,000 groups here.
 */
class LineSink {
  readonly #out: Destination;
  #held = '';
  #bursts = 0;

  constructor(out: Destination) {
    this.#out = out;
  }

  write(line: string): boolean {
    if (this.#bursts === 0) return this.#out.write(line);
    this.#held += line;
    if (this.#held.length >= BURST_BYTES) this.#release();
    return true;
  }

  burst<T>(log: () => T): T {
    this.#bursts++;
    try {
      return log();
    } finally {
      this.#bursts--;
      this.#release();
    }
  }

  flushSync(): void {
    this.#release();
    this.#out.flushSync();
  }

  flush(done?: (err?: Error) => void): void {
    this.#release();
    this.#out.flush(done);
  }

  #release(): void {
    if (this.#held === '') return;
    const held = this.#held;
    this.#held = '';
    this.#out.write(held);
  }
}

/**
 * Logs many lines at once (a run's audit lines): `log` calls the logger as usual, and its lines reach the
 * descriptor in few large writes, every one of them before this returns. Other destinations (a test's stream) see
 * each line as it is logged.
 */
export function logBurst<T>(logger: Logger, log: () => T): T {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  return stream instanceof LineSink ? stream.burst(log) : log();
}

/** A logger that drops everything, for library code called without one and for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
