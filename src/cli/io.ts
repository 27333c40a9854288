import type { Readable, Writable } from 'node:stream';

/** What a command may touch of the outside world; tests and the daemon can hand in their own. */
export interface Io {
  readonly stdout: Writable & { isTTY?: boolean };
  readonly stderr: Writable & { isTTY?: boolean };
  readonly stdin: Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

export function processIo(): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** DESIGN §6 exit codes. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  aborted: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function writeLine(stream: Writable, line = ''): void {
  stream.write(`${line}\n`);
}

/** One JSON document on stdout, bytes as base64 so that binary values survive. */
export function writeJson(stream: Writable, value: unknown, pretty = false): void {
  stream.write(`${JSON.stringify(value, jsonReplacer, pretty ? 2 : undefined)}\n`);
}

export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (typeof value === 'bigint') return value.toString();
  return value;
}
