export { LdapsyncError, toLdapsyncError } from './errors.js';
export type { ErrorLocation } from './errors.js';
export { Secret } from './secret.js';
export { BINARY_ATTRIBUTES, makeEntry } from './entry.js';
export type { AttributeValue, Entry } from './entry.js';
export { createLogger, silentLogger } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { parseLdif } from './ldif.js';
export type { LdifRecord } from './ldif.js';
