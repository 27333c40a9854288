import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

export interface LogLine {
  readonly level: string;
  readonly event?: string;
  readonly msg?: string;
  readonly [key: string]: unknown;
}

/** A real pino logger whose JSON lines a test can read back. */
export function captureLogger(): { readonly logger: Logger; readonly lines: LogLine[]; events(name: string): LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim() !== '') lines.push(JSON.parse(text) as LogLine);
      callback();
    },
  });
  const logger = pino({ level: 'debug', formatters: { level: (label: string) => ({ level: label }) } }, stream);
  return { logger, lines, events: (name) => lines.filter((l) => l.event === name) };
}
