import { configOrExit } from './config.ts';
import { die, onShutdown, startFailure } from './run.ts';

const config = configOrExit();
// Loaded after the configuration is known good, so a bad value fails fast with one line.
const { startGateway } = await import('../gateway/server.ts');
try {
  const gw = await startGateway(config, { buildWebAtStart: true });
  process.stderr.write(`gateway at ${gw.url} (audit instance ${gw.instance}, ${gw.audit.kind} store)\n`);
  onShutdown(() => gw.close());
} catch (e) {
  die(startFailure('gateway', e, config.redisUrl));
}
