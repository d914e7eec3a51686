/**
 * marginlab's public entry (`import { defineConfig } from 'marginlab'`).
 */
export { defineConfig } from './config/index.js';
export type { ConfigEnv, ConfigInput, UserConfig, ResolvedConfig } from './config/index.js';
