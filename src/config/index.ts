export { loadConfig, parseConfig } from './load-config.js';
export type { LoadResult } from './load-config.js';
export { ConfigError, formatConfigError } from './config-error.js';
export { checkDnSyntax } from './dn-syntax.js';
export type { DnSyntax } from './dn-syntax.js';
export type {
  Config,
  DeletesConfig,
  GroupQuery,
  HttpConfig,
  LogConfig,
  Profile,
  Scope,
  StoreConfig,
  TlsConfig,
  Timeouts,
  UserQuery,
} from './types.js';
