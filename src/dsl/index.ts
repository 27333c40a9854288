/**
 * The mapping language (DESIGN §3): a YAML map from target fields to expressions, compiled once at load into
 * closures over an LDAP entry. Stages: lexer -> parser (AST with spans) -> checker (names, arity, types
 * against the target field) -> compiler (closures, constant folding); the interpreter is the reference
 * evaluator of the same AST.
 *
 * In brief: a bare name is an attribute's first value or null (case-insensitive), `values(x)` all of them,
 * `x[i]` the i-th (negative from the end), `attr('msDS-x')` a name that is not an identifier, `dn` the DN.
 * Literals: 'text' or "text" with JavaScript escapes, numbers (also 0x…), true, false, null, [lists].
 * Precedence, loosest first: `?:`, `??`, `||`, `&&`, `== !=`, `< <= > >= in`, `&`, `+ -`, `* / %`, `! -`.
 * Null: `+` and arithmetic with a null operand give null (`'homes/' + uid` is null without a uid);
 * concat() and join() skip nulls; `<` and friends with a null are false; `==` compares null as a value;
 * `&&`, `||`, `!`, `?:` read null as false. No coercion: `'1' == 1` is a type error, convert with int().
 * A part that does not depend on the entry is evaluated at load, so `bytes('1 GiB')` costs nothing per entry
 * and `int('abc')` is reported at load (code dsl.runtime) rather than on every entry.
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
export { STEP_LIMIT } from './runtime.js';
