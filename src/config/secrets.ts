import { resolve } from 'node:path';
import { Secret } from '../shared/index.js';
import type { KeyPath } from './config-source.js';
import type { LoadContext } from './load-context.js';
import { isRecord } from './load-context.js';

/**
 * Resolves a secret given as `{ env: NAME }`, `{ file: PATH }` or a plain string (accepted with a
 * `config.plain-secret` warning, unless the string is only `${VAR}` references). The value is registered
 * with the redactor before anything else can print it. Undefined when absent or not resolvable (reported).
 */
export function resolveSecret(ctx: LoadContext, path: KeyPath): Secret | undefined {
  const value = ctx.get(path);
  if (typeof value === 'string') {
    ctx.redactor.addValue(value);
    const located = ctx.source.locate(path);
    if (located?.literal !== false) {
      ctx.warn('config.plain-secret', 'secret written in plain text in the file; give it as { env: NAME } or { file: PATH }', path);
    }
    if (value === '') {
      ctx.error('config.secret', 'empty secret', path);
      return undefined;
    }
    return new Secret(value, 'inline');
  }
  if (!isRecord(value)) return undefined;
  const name = value['env'];
  if (typeof name === 'string') {
    const secret = ctx.env[name];
    if (secret === undefined || secret === '') {
      ctx.error('config.env', `environment variable ${name} is ${secret === undefined ? 'not set' : 'empty'}`, [...path, 'env']);
      return undefined;
    }
    ctx.redactor.addValue(secret);
    return new Secret(secret, `env:${name}`);
  }
  const file = value['file'];
  if (typeof file === 'string') {
    const absolute = resolve(ctx.baseDir, file);
    let content: string;
    try {
      content = ctx.readFile(absolute);
    } catch (err: unknown) {
      const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : undefined;
      const reason = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (code ?? (err instanceof Error ? err.message : String(err)));
      ctx.error('config.secret-file', `cannot read secret file ${absolute}: ${reason}`, [...path, 'file'], 'value', { cause: err });
      return undefined;
    }
    // Editors and `echo` add a final newline that is not part of the secret.
    const secret = content.replace(/\r?\n$/, '');
    ctx.redactor.addValue(secret);
    if (secret === '') {
      ctx.error('config.secret-file', `secret file ${absolute} is empty`, [...path, 'file']);
      return undefined;
    }
    return new Secret(secret, `file:${absolute}`);
  }
  return undefined;
}
