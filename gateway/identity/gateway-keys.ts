import { developmentIdentityKeys } from '../../common/trust-keys.ts';
import type { Config } from '../config.ts';

export interface GatewaySigningKey {
  readonly privateKeyPem: string;
  readonly source: 'GATEWAY_SIGNING_KEY' | 'development key';
  /** True when the development pair was made just now. */
  readonly created: boolean;
}

/**
 * The private key the gateway signs forwarded identities with. A host configured with only
 * GATEWAY_PUBLIC_KEY runs subgraphs, not a gateway: asking it to sign is a configuration error.
 */
export function gatewaySigningKey(config: Config): GatewaySigningKey {
  const id = config.gatewayIdentity;
  switch (id.kind) {
    case 'configured':
      if (id.signingKeyPem === null) throw new Error('GATEWAY_PUBLIC_KEY is set but GATEWAY_SIGNING_KEY is not: the gateway needs its private key to sign identities for subgraphs');
      return { privateKeyPem: id.signingKeyPem, source: 'GATEWAY_SIGNING_KEY', created: false };
    case 'dev': {
      const pair = developmentIdentityKeys(config.dataDir);
      return { privateKeyPem: pair.privateKeyPem, source: 'development key', created: pair.created };
    }
  }
}
