/**
 * The mapping language (DESIGN §3): a YAML map from target fields to expressions, compiled once at load into
 * closures over an LDAP entry. Stages: lexer -> parser (AST with spans) -> checker (names, arity, types
 * against the target field) -> compiler (closures, constant folding); the interpreter is the reference
 * evaluator of the same AST.
 */
export type { Value } from './value.js';
export { USER_FIELDS, GROUP_FIELDS } from './fields.js';
export type { FieldType, TargetField, MappingKind } from './fields.js';
export { DEFAULT_USER_MAPPING, DEFAULT_GROUP_MAPPING } from './default-mapping.js';
export type { MappingValue } from './default-mapping.js';
export { DslError } from './dsl-error.js';
export type { Span } from './dsl-error.js';
export type { DslErrorCode } from './problem.js';
export { FORBIDDEN_NAMES } from './problem.js';
export { compileMapping, interpretMapping, compileExpression } from './mapping.js';
export type { CompileResult, CompiledMapping, MappedRecord } from './mapping.js';
export { FUNCTIONS } from './library.js';
export { normalizeDn } from './dn.js';
export { STEP_LIMIT } from './runtime.js';
