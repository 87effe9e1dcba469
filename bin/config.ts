import { loadConfig, type Config, type ConfigDefaults } from '../gateway/config.ts';
import { loadedOrExit } from './run.ts';

/** The gateway's configuration (also read by the CLI), or the process stops with one clear line. */
export function configOrExit(defaults?: ConfigDefaults): Config {
  return loadedOrExit(() => loadConfig(process.env, defaults));
}
