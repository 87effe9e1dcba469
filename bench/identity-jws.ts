import { generateKeyPairSync } from 'node:crypto';
import { identitySigner, identityVerifier } from '../common/trust.ts';

/**
 * Cost of the gateway→subgraph identity per operation: signing a new identity, verifying a token
 * not seen before, and the cached paths a steady load takes. `npm exec tsx bench/identity-jws.ts`.
 */
const N = 20_000;

async function measure(label: string, n: number, op: (i: number) => unknown): Promise<void> {
  for (let i = 0; i < 1000; i++) await op(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op(i + 1000);
  const us = Number(process.hrtime.bigint() - started) / 1000 / n;
  process.stdout.write(`${label.padEnd(40)} ${us.toFixed(2)} µs/op\n`);
}

for (const [name, pair] of [
  ['EdDSA', generateKeyPairSync('ed25519')],
  ['ES256', generateKeyPairSync('ec', { namedCurve: 'prime256v1' })],
] as const) {
  const sign = identitySigner(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
  const verify = identityVerifier(pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), 'tax');
  const id = (i: number) => ({ sub: `user-${i}`, agency: 'amr', roles: [], purpose: null });
  const tokens: string[] = [];
  await measure(`${name} sign (new identity)`, N, async (i) => tokens.push(await sign(id(i), 'tax')));
  await measure(`${name} verify (new token)`, N, async (i) => {
    const r = await verify(tokens[i]);
    if (!r.ok) throw new Error(r.why);
  });
  await measure(`${name} sign (cached)`, N, () => sign(id(0), 'tax'));
  const operation = '{ _entities(representations: $representations) { ... on Enterprise { taxpayerStatus taxCreditGrade } } }';
  await measure(`${name} sign (cached, bound to operation)`, N, () => sign(id(0), 'tax', operation));
  await measure(`${name} verify (cached)`, N, () => verify(tokens[0]));
}
