import { authenticate, userView, type AuthResult } from '../auth/index.js';
import { toLdapsyncError } from '../shared/index.js';
import { cliLogger, openStoreOrReport } from './context.js';
import { ExitCode, jsonReplacer, writeJson, writeLine, type Io } from './io.js';
import { loadOrReport } from './load.js';

export interface LoginOptions {
  readonly config: string;
  readonly login: string;
  readonly json: boolean;
}

/**
 * `ldapsync login NAME[@DOMAIN]`: checks a login exactly as the daemon's POST /v1/authenticate does, and prints
 * the outcome and the stored user. Unlike the HTTP answer it names the reason of a refusal: whoever runs it can
 * read the config anyway.
 */
export async function loginCommand(options: LoginOptions, io: Io): Promise<ExitCode> {
  const config = await loadOrReport(options.config, io);
  if (config === undefined) return ExitCode.usage;
  const password = await readPassword(io, `Password for ${options.login}: `);
  if (password === undefined) {
    writeLine(io.stderr, 'interrupted');
    return ExitCode.failure;
  }
  const logger = cliLogger(config, io);
  const store = await openStoreOrReport(config, logger, io);
  if (store === undefined) return ExitCode.failure;

  let result: AuthResult;
  try {
    result = await authenticate({ login: options.login, password }, { config, store, logger });
  } catch (err) {
    const error = toLdapsyncError(err, 'auth.failed');
    if (options.json) writeJson(io.stdout, { outcome: 'error', error: { code: error.code, message: error.message } });
    else writeLine(io.stderr, `error: the login could not be checked: ${error.message}`);
    return ExitCode.failure;
  } finally {
    await store.close();
  }

  if (options.json) {
    writeJson(io.stdout, jsonOf(result));
  } else {
    for (const line of describe(result)) writeLine(io.stdout, line);
  }
  return result.outcome === 'ok' ? ExitCode.ok : ExitCode.failure;
}

function jsonOf(result: AuthResult): Readonly<Record<string, unknown>> {
  switch (result.outcome) {
    case 'ok':
      return { outcome: 'ok', profile: result.profile, change: result.change, runId: result.runId ?? null, user: userView(result.user) };
    case 'local':
      return { outcome: 'local', user: userView(result.user) };
    case 'unknown-domain':
      return { outcome: 'unknown-domain', domain: result.domain, user: null };
    case 'invalid':
      return { outcome: 'invalid', profile: result.profile, reason: result.reason, user: null };
    default: {
      const never: never = result;
      throw new Error(`unknown outcome ${String(never)}`);
    }
  }
}

function describe(result: AuthResult): string[] {
  switch (result.outcome) {
    case 'ok': {
      const change = result.change === 'unchanged' ? 'the stored row was current' : `the stored row was ${result.change} (run #${result.runId ?? '?'}, trigger login)`;
      return [`ok: ${result.user.login} (profile ${result.profile}); ${change}`, ...userLines(result.user)];
    }
    case 'local':
      return [`local: ${result.user.login} is a local user; the application checks its password`, ...userLines(result.user)];
    case 'unknown-domain':
      return [result.domain === null ? 'unknown-domain: no domain given and no defaultDomain configured' : `unknown-domain: no server profile lists the domain ${result.domain}`];
    case 'invalid':
      return [`invalid: refused by profile ${result.profile} (${result.reason})`];
    default: {
      const never: never = result;
      throw new Error(`unknown outcome ${String(never)}`);
    }
  }
}

function userLines(user: Parameters<typeof userView>[0]): string[] {
  return Object.entries(userView(user))
    .filter(([, value]) => value !== null)
    .map(([field, value]) => `  ${field}: ${typeof value === 'string' ? value : JSON.stringify(value, jsonReplacer)}`);
}

/**
 * The password from stdin. On a terminal: prompted on stderr and read in raw mode, so nothing is echoed
 * (Enter ends it, Backspace deletes, Ctrl-C or Ctrl-D on an empty line give up). From a pipe or file: the
 * first line, without its line ending. undefined when interrupted.
 */
export async function readPassword(io: Io, prompt: string): Promise<string | undefined> {
  const stdin = io.stdin;
  if (stdin.isTTY === true && stdin.setRawMode !== undefined) return readFromTerminal(io, prompt);
  return readFirstLine(io);
}

function readFromTerminal(io: Io, prompt: string): Promise<string | undefined> {
  const { stdin, stderr } = io;
  const setRawMode = stdin.setRawMode?.bind(stdin);
  stderr.write(prompt);
  setRawMode?.(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  return new Promise((resolve) => {
    let typed = '';
    const done = (value: string | undefined): void => {
      stdin.off('data', onData);
      setRawMode?.(false);
      stdin.pause();
      stderr.write('\n');
      resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const char of chunk) {
        if (char === '\r' || char === '\n') return done(typed);
        if (char === '\u0003') return done(undefined);
        if (char === '\u0004') return done(typed === '' ? undefined : typed);
        if (char === '\u007f' || char === '\b') typed = [...typed].slice(0, -1).join('');
        else typed += char;
      }
    };
    stdin.on('data', onData);
  });
}

function readFirstLine(io: Io): Promise<string> {
  const { stdin } = io;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      stdin.off('data', onData);
      stdin.off('end', done);
      stdin.off('error', reject);
      stdin.pause();
      const text = Buffer.concat(chunks).toString('utf8');
      const newline = text.indexOf('\n');
      resolve((newline < 0 ? text : text.slice(0, newline)).replace(/\r$/, ''));
    };
    const onData = (chunk: Buffer | string): void => {
      const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      chunks.push(buffer);
      if (buffer.includes(0x0a)) done();
    };
    stdin.on('data', onData);
    stdin.once('end', done);
    stdin.once('error', reject);
    stdin.resume();
  });
}
