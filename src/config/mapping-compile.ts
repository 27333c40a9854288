import { didYouMean } from '../shared/index.js';
import { compileMapping } from '../dsl/index.js';
import type { CompiledMapping, DslError, MappingKind, MappingValue } from '../dsl/index.js';
import type { KeyPath } from './config-source.js';
import type { LoadContext } from './load-context.js';
import { isRecord } from './load-context.js';

/** The fields of a mapping after `use` and names are resolved, with where each field's value is written. */
interface ResolvedMapping {
  readonly fields: Readonly<Record<string, MappingValue>>;
  /** Field name -> key path of its value in the file. */
  readonly origins: ReadonlyMap<string, KeyPath>;
}

/**
 * Resolves and compiles the mappings of a file. A profile's `mapping` is a name under top-level `mappings`,
 * or an inline map; an inline map (or a named one) may say `use: NAME` to start from a named mapping, and
 * every field it gives replaces that field of the named one (map fields such as userCustomFields are
 * replaced whole, not merged). Fields given nowhere keep the built-in default mapping. Every expression is
 * compiled, and each DSL error is placed at the character of the file it refers to.
 */
export class MappingCompiler {
  readonly #ctx: LoadContext;
  readonly #used = new Set<string>();
  readonly #cache = new Map<string, CompiledMapping | undefined>();

  constructor(ctx: LoadContext) {
    this.#ctx = ctx;
  }

  /** Compiles the mapping at `path` (a profile's users.mapping or groups.mapping); absent means the default. */
  compile(kind: MappingKind, path: KeyPath): CompiledMapping | undefined {
    const value = this.#ctx.get(path);
    if (typeof value === 'string') {
      if (!this.#exists(value, path)) return undefined;
      const key = `${kind}\u0000${value}`;
      if (!this.#cache.has(key)) this.#cache.set(key, this.#compileResolved(kind, this.#named(value, []), path, true));
      return this.#cache.get(key);
    }
    const resolved = value === undefined ? { fields: {}, origins: new Map<string, KeyPath>() } : this.#inline(path, []);
    return this.#compileResolved(kind, resolved, path, true);
  }

  /**
   * Checks the named mappings no profile uses, so a mistake in one is found now rather than on the day it is
   * put to use. Such a mapping may be meant for users or groups; it is an error only if it fails as both.
   */
  checkUnused(): void {
    for (const name of this.#ctx.keys(['mappings'])) {
      if (this.#used.has(name)) continue;
      const path: KeyPath = ['mappings', name];
      this.#ctx.warn('config.unused-mapping', `mapping '${name}' is not used by any profile`, path, 'key');
      const resolved = this.#named(name, []);
      if (resolved === undefined) continue;
      const attempts = (['users', 'groups'] as const).map((kind) => compileMapping(kind, resolved.fields));
      if (attempts.some((a) => a.ok)) continue;
      // The kind whose target fields it names is the one it was meant for; its errors are the ones to show.
      const unknownFields = (errors: ReadonlyArray<DslError>): number => errors.filter((e) => e.code === 'dsl.unknown-field').length;
      const likeliest = attempts
        .flatMap((a) => (a.ok ? [] : [a.errors]))
        .reduce((best, errors) =>
          unknownFields(errors) < unknownFields(best) || (unknownFields(errors) === unknownFields(best) && errors.length < best.length) ? errors : best,
        );
      for (const e of likeliest) this.#report(e, resolved, path);
    }
  }

  #compileResolved(kind: MappingKind, resolved: ResolvedMapping | undefined, path: KeyPath, report: boolean): CompiledMapping | undefined {
    if (resolved === undefined) return undefined;
    const result = compileMapping(kind, resolved.fields);
    if (result.ok) return result.mapping;
    if (report) for (const e of result.errors) this.#report(e, resolved, path);
    return undefined;
  }

  #exists(name: string, path: KeyPath): boolean {
    const names = this.#ctx.keys(['mappings']);
    if (names.includes(name)) return true;
    const suggestion = didYouMean(name, names);
    this.#ctx.error('config.mapping', `no mapping named '${name}' under mappings`, path, 'value', {
      hint: suggestion !== undefined ? `did you mean '${suggestion}'?` : names.length > 0 ? `mappings defined: ${names.join(', ')}` : 'define it under the top-level key mappings',
    });
    return false;
  }

  /** The named mapping `name`, following its `use` chain; `chain` holds the names already on the way, to catch cycles. */
  #named(name: string, chain: ReadonlyArray<string>): ResolvedMapping | undefined {
    this.#used.add(name);
    if (chain.includes(name)) {
      const cycle = [...chain, name];
      const from = cycle[cycle.length - 2] ?? name;
      this.#ctx.error('config.mapping', `mappings use each other in a cycle: ${cycle.join(' -> ')}`, ['mappings', from, 'use']);
      return undefined;
    }
    return this.#inline(['mappings', name], [...chain, name]);
  }

  /** A mapping written as a map at `path`, on top of the mapping its `use` names. */
  #inline(path: KeyPath, chain: ReadonlyArray<string>): ResolvedMapping | undefined {
    const value = this.#ctx.get(path);
    if (!isRecord(value)) return undefined;
    const fields: Record<string, MappingValue> = {};
    const origins = new Map<string, KeyPath>();
    const base = value['use'];
    if (typeof base === 'string') {
      if (!this.#exists(base, [...path, 'use'])) return undefined;
      const resolved = this.#named(base, chain);
      if (resolved === undefined) return undefined;
      Object.assign(fields, resolved.fields);
      for (const [field, origin] of resolved.origins) origins.set(field, origin);
    }
    for (const field of this.#ctx.keys(path)) {
      if (field === 'use') continue;
      const fieldValue = this.#value([...path, field]);
      if (!isMappingValue(fieldValue)) continue; // reported already, by the schema or the interpolation
      Object.defineProperty(fields, field, { value: fieldValue, enumerable: true, writable: true, configurable: true });
      origins.set(field, [...path, field]);
    }
    return { fields, origins };
  }

  /** A field's value; a map field without its entries whose `${VAR}` failed. */
  #value(path: KeyPath): unknown {
    const value = this.#ctx.get(path);
    if (!isRecord(value)) return value;
    const entries = this.#ctx.keys(path).flatMap((key) => {
      const entry = this.#ctx.get([...path, key]);
      return entry === undefined ? [] : [[key, entry] as const];
    });
    return Object.fromEntries(entries);
  }

  #report(e: DslError, resolved: ResolvedMapping, mappingPath: KeyPath): void {
    const dot = e.field.indexOf('.');
    const field = dot === -1 ? e.field : e.field.slice(0, dot);
    const key = dot === -1 ? undefined : e.field.slice(dot + 1);
    const origin = resolved.origins.get(field);
    const path = origin === undefined ? mappingPath : key === undefined ? origin : [...origin, key];
    const value = this.#ctx.get(path);
    const message = e.hint !== undefined && e.message.endsWith(` (${e.hint})`) ? e.message.slice(0, -(e.hint.length + 3)) : e.message;
    const anchor =
      e.code === 'dsl.unknown-field' || origin === undefined
        ? 'key'
        : typeof value === 'string' && e.source === value
          ? { offset: e.span.start, length: e.span.end - e.span.start }
          : 'value';
    this.#ctx.error(e.code, message, path, anchor, { hint: e.hint, cause: e });
  }
}

function isMappingValue(value: unknown): value is MappingValue {
  if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return true;
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  return Object.values(value).every((v) => v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean');
}
