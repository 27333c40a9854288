import type { ValidateFunction } from 'ajv/dist/2020.js';

/**
 * The config schema's validator, compiled ahead of time. Run from the source this is undefined, and the validator
 * is compiled when first needed; the bundle (scripts/bundle.ts) has this module replaced by ajv's standalone code
 * for the schema, which spares every process of the installed command the compile (about 70 ms here).
 */
export const precompiledValidator: ValidateFunction | undefined = undefined;
