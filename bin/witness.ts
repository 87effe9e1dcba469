import { loadWitnessConfig, WitnessConfigError } from '../ledger/witness/config.ts';
import { startWitness } from '../ledger/witness/service.ts';
import { die, onShutdown, startFailure } from './run.ts';

/** npm run witness: the off-host witness that countersigns exchange log heads (docs/security.md). */
let config;
try {
  config = loadWitnessConfig(process.env);
} catch (e) {
  die(e instanceof WitnessConfigError ? e.message : `invalid witness configuration: ${(e as Error).message}`);
}
try {
  const running = await startWitness({ ...config, log: (l) => process.stderr.write(`${l}\n`) });
  process.stderr.write(`witness at ${running.url} (storage ${config.dataDir}${config.keyPem === null ? '; development key in its keys folder' : ''})\n`);
  onShutdown(() => running.close());
} catch (e) {
  die(startFailure('witness', e));
}
