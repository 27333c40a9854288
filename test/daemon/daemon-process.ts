import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { LogLine } from './log-capture.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const cliEntry = fileURLToPath(new URL('../helpers/cli-entry.ts', import.meta.url));
const runEntry = fileURLToPath(new URL('./run-entry.ts', import.meta.url));
const cliHasRun = readFileSync(fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url)), 'utf8').includes("command('run')");

export interface DaemonExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * `ldapsync run` as a child process, started through the real CLI as an operator would, with its JSON log lines
 * collected for the test to wait on and read back.
 */
export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly exited: Promise<DaemonExit>;
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  #stderr = '';
  #exit: DaemonExit | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    let buffer = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const text = buffer.slice(0, newline).trim();
        buffer = buffer.slice(newline + 1);
        if (text !== '') this.#push(text);
        newline = buffer.indexOf('\n');
      }
    });
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.#stderr += chunk;
    });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      });
    });
  }

  static start(configFile: string, env: Readonly<Record<string, string | undefined>> = {}): DaemonProcess {
    const args = cliHasRun ? [cliEntry, 'run', '-c', configFile] : [runEntry, '-c', configFile];
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: repoRoot,
      env: {
        ...process.env,
        LOG_LEVEL: undefined,
        LDAPSYNC_FIRST_RUN_DELAY_MS: '500',
        LDAPSYNC_RETRY_BASE_MS: '500',
        LDAPSYNC_RETRY_MAX_MS: '2000',
        LDAPSYNC_RELOAD_DEBOUNCE_MS: '100',
        ...env,
      } as NodeJS.ProcessEnv,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new DaemonProcess(child);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get stderr(): string {
    return this.#stderr;
  }

  get exit(): DaemonExit | undefined {
    return this.#exit;
  }

  events(event: string, match: (line: LogLine) => boolean = () => true): LogLine[] {
    return this.lines.filter((line) => line.event === event && match(line));
  }

  /**
   * Waits for the `nth` (1-based, counting from `from`, an index into `lines`) line of `event` that matches, and
   * returns it. Fails with the log so far when the time runs out or the process exits first.
   */
  async waitFor(event: string, options: { match?: (line: LogLine) => boolean; from?: number; nth?: number; timeoutMs?: number } = {}): Promise<LogLine> {
    const { match = () => true, from = 0, nth = 1, timeoutMs = 20_000 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.lines.slice(from).filter((line) => line.event === event && match(line));
      if (found.length >= nth) return found[nth - 1] as LogLine;
      if (this.#exit !== undefined) throw new Error(`daemon exited (${JSON.stringify(this.#exit)}) before ${event}\n${this.describe()}`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`no ${event} (#${nth}) within ${timeoutMs} ms\n${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(remaining, 1_000));
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#waiters.add(done);
      });
    }
  }

  /** The index the next line will have: pass it as `from` to wait only for what comes after now. */
  mark(): number {
    return this.lines.length;
  }

  signal(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }

  /** SIGTERM, and the exit. */
  async stop(): Promise<DaemonExit> {
    if (this.#exit === undefined) this.signal('SIGTERM');
    return this.exited;
  }

  /** Last resort in teardown: a test that failed must not leave a daemon behind. */
  async kill(): Promise<void> {
    if (this.#exit !== undefined) return;
    this.signal('SIGKILL');
    await this.exited;
  }

  /** The log (events and messages) and stderr, for failure messages. */
  describe(): string {
    const log = this.lines.map((l) => `${String(l.event ?? '')} ${String(l.msg ?? '')}`).slice(-60).join('\n');
    return `--- log (last 60) ---\n${log}\n--- stderr ---\n${this.#stderr.slice(-3000)}`;
  }

  #push(text: string): void {
    try {
      this.lines.push(JSON.parse(text) as LogLine);
    } catch {
      this.lines.push({ level: 'raw', msg: text });
    }
    this.#wake();
  }

  #wake(): void {
    for (const waiter of [...this.#waiters]) {
      this.#waiters.delete(waiter);
      waiter();
    }
  }
}
