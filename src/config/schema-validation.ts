import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import type { ConfigError } from './config-error.js';
import type { ConfigSource, KeyPath } from './config-source.js';
import { didYouMean } from '../shared/index.js';
import { precompiledValidator } from './precompiled-validator.js';

/** The schema file shipped with the package (`schema/` sits two levels above both `src/config/` and the bundle's `dist/bundle/`). */
const SCHEMA_URL: URL = new URL('../../schema/ldapsync.schema.json', import.meta.url);

let compiled: ValidateFunction | undefined;

function validator(): ValidateFunction {
  compiled ??= precompiledValidator ?? compileSchemaValidator().validate;
  return compiled;
}

/**
 * Compiles the schema file's validator. With `source`, ajv keeps the code it generates, for the bundle to embed
 * (scripts/bundle.ts): the same validator, without the compile at every start.
 */
export function compileSchemaValidator(options: { readonly source?: boolean } = {}): { readonly ajv: Ajv2020; readonly validate: ValidateFunction } {
  const schema = JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as Record<string, unknown>;
  // verbose: errors carry their parent schema, which lists the allowed keys for a did-you-mean.
  const ajv = new Ajv2020({
    allErrors: true,
    verbose: true,
    strict: true,
    allowUnionTypes: true,
    ownProperties: true,
    ...(options.source === true ? { code: { source: true, esm: true } } : {}),
  });
  // An annotation editors show for a failed pattern; we use it for the same purpose.
  ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
  return { ajv, validate: ajv.compile(schema) };
}

export interface SchemaResult {
  readonly errors: ReadonlyArray<ConfigError>;
  /** Paths of the values the schema rejected, so later checks can leave them alone rather than report them twice. */
  readonly rejected: ReadonlyArray<KeyPath>;
}

/** Validates the data against the schema; every violation becomes a positioned ConfigError. */
export function validateSchema(data: unknown, source: ConfigSource): SchemaResult {
  const validate = validator();
  if (validate(data)) return { errors: [], rejected: [] };
  const errors: ConfigError[] = [];
  const rejected: KeyPath[] = [];
  const raw = validate.errors ?? [];
  // A propertyNames failure is reported by its inner error, which names the property.
  const named = new Set(raw.filter((e) => e.propertyName !== undefined).map((e) => e.instancePath));
  for (const e of raw) {
    if (e.keyword === 'propertyNames' && named.has(e.instancePath)) continue;
    // A value that could not be read has its own error already.
    const path = pointerToPath(e.instancePath, source);
    if (source.locate(path)?.broken === true) continue;
    rejected.push(path);
    errors.push(translate(e, source));
  }
  return { errors, rejected };
}

function translate(e: ErrorObject, source: ConfigSource): ConfigError {
  const path = pointerToPath(e.instancePath, source);
  const params = e.params as Record<string, unknown>;
  const parent = (e.parentSchema ?? {}) as Record<string, unknown>;
  if (e.propertyName !== undefined) {
    const keyPath = [...path, e.propertyName];
    const custom = parent['patternErrorMessage'];
    const message = e.keyword === 'pattern' && typeof custom === 'string' ? custom : `key '${e.propertyName}': ${e.message ?? 'is not allowed'}`;
    return source.error('config.name', message, keyPath, 'key');
  }
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const allowed = Object.keys((parent['properties'] ?? {}) as Record<string, unknown>);
      const suggestion = didYouMean(key, allowed);
      const where = path.length === 0 ? 'at the top level' : 'here';
      return source.error('config.unknown-key', `unknown key '${key}'`, [...path, key], 'key', {
        hint: suggestion !== undefined ? `did you mean '${suggestion}'?` : `keys allowed ${where}: ${allowed.join(', ')}`,
      });
    }
    case 'required': {
      const key = String(params['missingProperty']);
      return source.error('config.required', `missing required key '${key}'`, [...path, key], 'key');
    }
    case 'type': {
      const types = Array.isArray(params['type']) ? (params['type'] as string[]) : [String(params['type'])];
      return source.error('config.type', `must be ${typeNames(types, path)}, not ${describe(e.data)}`, path);
    }
    case 'enum':
    case 'const': {
      const allowed = (params['allowedValues'] as unknown[] | undefined) ?? [params['allowedValue']];
      const suggestion = typeof e.data === 'string' ? didYouMean(e.data, allowed.map(String)) : undefined;
      return source.error('config.enum', `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, path, 'value', {
        hint: suggestion !== undefined ? `did you mean '${suggestion}'?` : undefined,
      });
    }
    case 'pattern': {
      const custom = parent['patternErrorMessage'];
      return source.error('config.pattern', typeof custom === 'string' ? custom : `must match ${String(params['pattern'])}`, path);
    }
    case 'minProperties':
    case 'maxProperties':
      if (isSecretSchema(parent)) return source.error('config.secret', 'give exactly one of { env: NAME } or { file: PATH }', path);
      return source.error('config.range', `must have ${e.keyword === 'minProperties' ? 'at least' : 'at most'} ${String(params['limit'])} entr${params['limit'] === 1 ? 'y' : 'ies'}`, path);
    case 'minItems':
      return source.error('config.range', `must list at least ${String(params['limit'])} item${params['limit'] === 1 ? '' : 's'}`, path);
    case 'uniqueItems':
      return source.error('config.duplicate', `items ${String(params['j'])} and ${String(params['i'])} are the same`, [...path, Number(params['i'])]);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
    case 'minLength':
    case 'maxLength':
    case 'maxItems':
      return source.error('config.range', e.message ?? 'out of range', path);
    default:
      return source.error('config.schema', e.message ?? 'does not match the schema', path);
  }
}

function isSecretSchema(schema: Record<string, unknown>): boolean {
  const props = schema['properties'];
  return typeof props === 'object' && props !== null && 'env' in props && 'file' in props;
}

function typeNames(types: ReadonlyArray<string>, path: KeyPath): string {
  const last = path[path.length - 1];
  if (types.includes('object') && types.includes('string') && (last === 'bindPassword' || last === 'token')) {
    return '{ env: NAME }, { file: PATH } or a string';
  }
  if (types.includes('object') && types.includes('string') && last === 'mapping') {
    return 'a mapping name or a map of target field -> expression';
  }
  const names = types.map((t) => (t === 'object' ? 'a map' : t === 'array' ? 'a list' : t === 'null' ? 'null' : t === 'integer' ? 'an integer' : `a ${t}`));
  return names.length <= 1 ? (names[0] ?? 'valid') : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1] ?? ''}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

/** JSON pointer -> key path; segments that index a list become numbers. */
function pointerToPath(pointer: string, source: ConfigSource): KeyPath {
  if (pointer === '') return [];
  const path: Array<string | number> = [];
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    path.push(source.locate(path)?.kind === 'list' ? Number(segment) : segment);
  }
  return path;
}
