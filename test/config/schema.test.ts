import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/index.js';
import { GROUP_FIELDS, USER_FIELDS } from '../../src/dsl/index.js';

type SchemaNode = { [key: string]: unknown };
const schema = JSON.parse(readFileSync(fileURLToPath(new URL('../../schema/ldapsync.schema.json', import.meta.url)), 'utf8')) as SchemaNode;
const defs = schema['$defs'] as Record<string, SchemaNode>;

/** Every subschema, with its JSON pointer. */
function* walk(node: unknown, pointer: string): Generator<readonly [string, SchemaNode]> {
  if (typeof node !== 'object' || node === null) return;
  if (Array.isArray(node)) {
    for (const [i, item] of node.entries()) yield* walk(item, `${pointer}/${i}`);
    return;
  }
  const n = node as SchemaNode;
  yield [pointer, n];
  for (const key of ['properties', '$defs']) {
    for (const [name, child] of Object.entries((n[key] ?? {}) as Record<string, unknown>)) yield* walk(child, `${pointer}/${key}/${name}`);
  }
  for (const key of ['items', 'additionalProperties', 'propertyNames']) yield* walk(n[key], `${pointer}/${key}`);
}

describe('schema/ldapsync.schema.json', () => {
  it('is a valid JSON Schema 2020-12 document', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true });
    ajv.addKeyword({ keyword: 'patternErrorMessage', schemaType: 'string' });
    expect(() => ajv.compile(schema)).not.toThrow();
  });

  it('closes every object with fixed keys (additionalProperties: false); only maps keyed by name take other keys', () => {
    const openByDesign = ['/properties/mappings', '/properties/servers', '/$defs/userMapping', '/$defs/groupMapping', '/$defs/mappingBody', '/$defs/mapField', '/$defs/mappingValue'];
    for (const [pointer, node] of walk(schema, '')) {
      const type = node['type'];
      const isObject = type === 'object' || (Array.isArray(type) && type.includes('object'));
      if (!isObject || openByDesign.includes(pointer)) continue;
      expect({ pointer, additionalProperties: node['additionalProperties'] }).toEqual({ pointer, additionalProperties: false });
    }
  });

  it('describes every property, for editors to show on hover', () => {
    for (const [pointer, node] of walk(schema, '')) {
      for (const [name, child] of Object.entries((node['properties'] ?? {}) as Record<string, SchemaNode>)) {
        const described = typeof child['description'] === 'string' || (typeof child['$ref'] === 'string' && typeof defs[String(child['$ref']).split('/').pop() ?? '']?.['description'] === 'string');
        expect({ property: `${pointer}/properties/${name}`, described }).toEqual({ property: `${pointer}/properties/${name}`, described: true });
      }
    }
  });

  it('offers exactly the mapping target fields the mapping language knows', () => {
    const names = (def: string): string[] => Object.keys((defs[def]?.['properties'] ?? {}) as object).filter((k) => k !== 'use').sort();
    expect(names('userMapping')).toEqual(USER_FIELDS.map((f) => f.name).sort());
    expect(names('groupMapping')).toEqual(GROUP_FIELDS.map((f) => f.name).sort());
    expect(names('mappingBody')).toEqual([...new Set([...USER_FIELDS, ...GROUP_FIELDS].map((f) => f.name))].sort());
  });

  it('a value the schema rejects is reported once, not again by a later check', () => {
    const text = 'servers:\n  pe:\n    url: ldap://x\n    domains: [a.com]\n    users:\n      baseDN: dc=a\n      mapping:\n        email: { a: mail }\n';
    const result = parseConfig(text, 'x.yaml', {}, () => '');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => [e.code, `${e.where.line}:${e.where.column}`, e.where.path])).toEqual([
      ['config.type', '8:16', 'servers.pe.users.mapping.email'],
    ]);
  });
});
