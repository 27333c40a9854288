import { closeSync, ftruncateSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  #spool: Spool | undefined;

  constructor(out: Destination) {
    this.#out = out;
  }

  write(line: string): boolean {
    if (this.#spool !== undefined) {
      this.#spool.write(line);
      return true;
    }
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

  /** Lines written while `log` runs go into `spool` instead of out (it runs synchronously: only its own lines). */
  spoolInto(spool: Spool, log: () => void): void {
    const outer = this.#spool;
    this.#spool = spool;
    try {
      log();
    } finally {
      this.#spool = outer;
    }
  }

  /** Writes out what `spool` holds, after every line written before. */
  release(spool: Spool): void {
    this.#release();
    this.#out.flushSync();
    // sonic-boom's descriptor, which its types leave out.
    spool.copyTo((this.#out as unknown as { fd: number }).fd);
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

/** Bytes of spooled lines collected before they go to the spool file in one write. */
const SPOOL_BYTES = 1024 * 1024;

/** The most UTF-8 bytes one UTF-16 code unit of a line can take. */
const MAX_BYTES_PER_UNIT = 3;

/**
 * Lines made now and written out later: into an unlinked temporary file (the page cache holds them, not the
 * process, and nothing is left behind however the process ends), or, where no such file can be made, in memory.
 *
 * Lines are encoded into one buffer, used again for every write. Collected in a string, each megabyte was a
 * string of its own, allocated as a large object: 80 of the 180 MB of large objects a first sync of 100,000
 * users allocated (V8's sampling heap profiler). They died young, so the peak RSS hardly moved.
 */
class Spool {
  #fd: number | undefined;
  readonly #buffer = Buffer.allocUnsafe(SPOOL_BYTES);
  #used = 0;
  /** Bytes the file holds, in whole writes. */
  #fileBytes = 0;
  #inMemory: Buffer[] = [];

  /** Whether a spool file was tried yet: only a spool that outgrows its first write needs one. */
  #opened = false;

  write(line: string): void {
    if (this.#used + line.length * MAX_BYTES_PER_UNIT > SPOOL_BYTES) {
      this.#save();
      if (line.length * MAX_BYTES_PER_UNIT > SPOOL_BYTES) {
        this.#store(Buffer.from(line, 'utf8'));
        return;
      }
    }
    this.#used += this.#buffer.write(line, this.#used, 'utf8');
  }

  /** Moves what the buffer holds to the file (or, failing that, to memory). */
  #save(): void {
    if (this.#used === 0) return;
    const bytes = this.#buffer.subarray(0, this.#used);
    this.#used = 0;
    this.#store(bytes);
  }

  /** `bytes` may be the buffer itself: it is written out or copied before this returns. */
  #store(bytes: Buffer): void {
    if (!this.#opened) this.#open();
    if (this.#fd !== undefined && this.#inMemory.length === 0) {
      try {
        writeFully(this.#fd, bytes);
        this.#fileBytes += bytes.length;
        return;
      } catch {
        // A full disk: the file keeps the whole writes before this one and is read back at the end; this one and
        // every later one are kept in memory, after them.
        try {
          ftruncateSync(this.#fd, this.#fileBytes);
        } catch {
          // Only what was written in full is read back anyway.
        }
      }
    }
    this.#inMemory.push(Buffer.from(bytes));
  }

  #open(): void {
    this.#opened = true;
    const path = join(tmpdir(), `ldapsync-lines-${process.pid}-${Math.random().toString(36).slice(2)}`);
    try {
      this.#fd = openSync(path, 'wx+', 0o600);
      unlinkSync(path);
    } catch {
      this.#fd = undefined;
    }
  }

  /** Writes everything spooled to `fd`, in order, then closes the spool. */
  copyTo(fd: number): void {
    try {
      if (!this.#opened) {
        // Never more than one write's worth: straight out.
        writeFully(fd, this.#buffer.subarray(0, this.#used));
        return;
      }
      this.#save();
      if (this.#fd !== undefined) {
        const chunk = this.#buffer;
        for (let position = 0; position < this.#fileBytes; ) {
          const read = readSync(this.#fd, chunk, 0, Math.min(chunk.length, this.#fileBytes - position), position);
          if (read === 0) break;
          writeFully(fd, chunk.subarray(0, read));
          position += read;
        }
      }
      for (const bytes of this.#inMemory) writeFully(fd, bytes);
    } finally {
      this.close();
    }
  }

  close(): void {
    this.#inMemory = [];
    this.#used = 0;
    this.#fileBytes = 0;
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }
}

function writeFully(fd: number, bytes: Buffer): void {
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
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

/** Lines queued by `DeferredLines.add` that are made in one go before the event loop gets a turn. */
const LINES_PER_TURN = 250;

/**
 * Lines that may only be written after something has happened (a run's audit lines, after its commit), made
 * ahead of time: `add` queues items, which are logged a slice at a time whenever the event loop would otherwise
 * wait (for Postgres to write the plan, say), and their JSON lines are kept aside; `release` logs what is left
 * and writes every line out, in order, before it returns; `discard` drops them all.
 *
 * Each line is made by the logger as usual, so it is the line it would have been but for its `time`, which is
 * when it was made. On destinations other than the CLI's and daemon's descriptors (a test's stream, a
 * terminal's pretty lines) the items are kept and logged by `release`.
 */
export interface DeferredLines<T> {
  add(items: ReadonlyArray<T>): void;
  /**
   * Makes lines now until at most `waiting` items are left to make: for a caller that keeps the event loop too
   * busy for idle turns (a first sync reading pages the socket has buffered already), so that the items it adds
   * wait in the spool as lines rather than in memory. Waiting for an idle turn, the events of a first sync of
   * 100,000 users outlived V8's young generation and died in the old one: it peaked at 238-278 MB RSS, and at
   * 197-227 MB with at most a batch of them waiting.
   */
  catchUp(waiting: number): void;
  release(): void;
  discard(): void;
}

export function deferLines<T>(logger: Logger, log: (item: T) => void): DeferredLines<T> {
  const sink = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym];
  const queue: T[] = [];
  let next = 0;
  if (!(sink instanceof LineSink)) {
    return {
      add: (items) => {
        for (const item of items) queue.push(item);
      },
      // Kept for `release`: only the descriptors have a spool to make lines into ahead of time.
      catchUp: () => undefined,
      release: () => logBurst(logger, () => queue.splice(0).forEach(log)),
      discard: () => void queue.splice(0),
    };
  }
  const spool = new Spool();
  let turn: NodeJS.Immediate | undefined;
  const logUpTo = (end: number): void => {
    sink.spoolInto(spool, () => {
      for (; next < end; next++) log(queue[next] as T);
    });
    // Logged items are let go of as the queue is worked through: all at once when none is left to make, and once
    // they outnumber those left (each item is moved at most once on average).
    if (next === queue.length) {
      queue.length = 0;
      next = 0;
    } else if (next >= LINES_PER_TURN && next >= queue.length - next) {
      queue.splice(0, next);
      next = 0;
    }
  };
  const work = (): void => {
    turn = undefined;
    logUpTo(Math.min(queue.length, next + LINES_PER_TURN));
    if (next < queue.length) turn = setImmediate(work);
  };
  const stop = (): void => {
    if (turn !== undefined) clearImmediate(turn);
    turn = undefined;
  };
  return {
    add: (items) => {
      for (const item of items) queue.push(item);
      if (turn === undefined && next < queue.length) turn = setImmediate(work);
    },
    catchUp: (waiting) => {
      if (queue.length - next > waiting) logUpTo(queue.length - waiting);
    },
    release: () => {
      stop();
      logUpTo(queue.length);
      sink.release(spool);
    },
    discard: () => {
      stop();
      queue.length = 0;
      next = 0;
      spool.close();
    },
  };
}

/** A logger that drops everything, for library code called without one and for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
