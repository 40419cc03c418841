/** Environment → validated, frozen configuration. Only entry points call `loadConfig`. */
export { readEnv } from './env-file.js';
export { describeConfig } from './describe.js';
export { type Env, type LoadConfigOptions, loadConfig } from './load.js';
export type {
  JwtConfig,
  LogLevel,
  NodeEnv,
  OptixConfig,
  RateLimitConfig,
  RedisConfig,
  SessionConfig,
} from './types.js';
export { ENV_VARIABLES, type EnvVariable } from './variables.js';
