import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { buildConfig } from './build-config.js';
import { ConfigError } from './config-error.js';
import { readConfigSource } from './config-source.js';
import { LoadContext } from './load-context.js';
import { MappingCompiler } from './mapping-compile.js';
import { Redactor } from './redactor.js';
import { validateSchema } from './schema-validation.js';
import type { Config } from './types.js';

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: ReadonlyArray<ConfigError> }
  | { readonly ok: false; readonly errors: ReadonlyArray<ConfigError>; readonly warnings: ReadonlyArray<ConfigError> };

/** Reads and loads a config file; secret files are read relative to its directory. */
export async function loadConfig(path: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err: unknown) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : err instanceof Error ? err.message : String(err);
    const error = new ConfigError('config.read', `cannot read the config file: ${reason}`, { file: path }, { cause: err });
    return { ok: false, errors: [error], warnings: [] };
  }
  return parseConfig(text, path, env, (secretPath) => readFileSync(secretPath, 'utf8'));
}

/**
 * Loads a config from its text: a pure function of (text, env) and of what `readFile` returns for secret
 * files. `file` names the file in errors and anchors relative paths. All errors of the file come back at
 * once: YAML syntax first (nothing else is checked when the YAML does not parse), otherwise every schema
 * violation and every failed check of URLs, DNs, filters, cron, time zones, secrets and expressions.
 */
export function parseConfig(
  text: string,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
  readFile: (path: string) => string,
): LoadResult {
  const redactor = new Redactor();
  const read = readConfigSource(text, file, env, redactor);
  if (read.data === undefined) return finish(read.errors, read.warnings, redactor);

  const ctx = new LoadContext({ source: read.source, data: read.data, env, readFile, baseDir: dirname(resolve(file)), redactor });
  ctx.warnings.push(...read.warnings);
  if (read.data === null) {
    ctx.error('config.required', 'the file is empty; it needs at least servers', []);
    return finish(ctx.errors, ctx.warnings, redactor);
  }
  const schema = validateSchema(read.data, read.source);
  ctx.errors.push(...read.errors, ...schema.errors);
  ctx.reject(schema.rejected);
  const hash = createHash('sha256').update(text).digest('hex');
  const config = buildConfig(ctx, new MappingCompiler(ctx), resolve(file), hash);
  if (ctx.errors.length > 0) return finish(ctx.errors, ctx.warnings, redactor);
  return { ok: true, config, warnings: Object.freeze(scrub(ctx.warnings, redactor)) };
}

function finish(errors: ReadonlyArray<ConfigError>, warnings: ReadonlyArray<ConfigError>, redactor: Redactor): LoadResult {
  return { ok: false, errors: Object.freeze(scrub(errors, redactor)), warnings: Object.freeze(scrub(warnings, redactor)) };
}

/**
 * In file order, each problem once (a named mapping used by several profiles is compiled, and fails, for
 * each), with every secret learnt during the load taken out of the text.
 */
function scrub(list: ReadonlyArray<ConfigError>, redactor: Redactor): ConfigError[] {
  const seen = new Set<string>();
  const out: ConfigError[] = [];
  for (const e of list) {
    const key = `${e.code}\u0000${e.where.line ?? 0}:${e.where.column ?? 0}\u0000${e.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const message = redactor.redact(e.message);
    const hint = e.hint === undefined ? undefined : redactor.redact(e.hint);
    const caret = e.caret === undefined ? undefined : redactor.mask(e.caret);
    const changed = message !== e.message || hint !== e.hint || caret !== e.caret;
    // The cause may hold the same text; when anything had to be redacted it is dropped rather than trusted.
    out.push(new ConfigError(e.code, message, e.where, { hint, caret, cause: changed ? undefined : e.cause }));
  }
  return out.sort((a, b) => (a.where.line ?? 0) - (b.where.line ?? 0) || (a.where.column ?? 0) - (b.where.column ?? 0));
}
