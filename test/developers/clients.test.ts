import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CombinedGraphQLErrors, gql, InMemoryCache, ApolloClient } from '@apollo/client';
import { BatchHttpLink } from '@apollo/client/link/batch-http';
import { generate } from '@graphql-codegen/cli';
import type { ClientError } from 'graphql-request';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BATCH_REFUSAL } from '../../gateway/http/batch.ts';
import { startExchange, type Exchange } from '../helpers/exchange.ts';
import { ROOT } from '../helpers/root.ts';
import { exchangeClient as apolloClient, sharingDenials } from './guide/apollo-client.ts';
import { exchangeCodegen } from './guide/codegen.ts';
import { exchangeClient as requestClient } from './guide/graphql-request.ts';
import { exchangeClient as urqlClient } from './guide/urql.ts';

const ENT = '91445202MA4W3K7PX2';
const GUIDE = path.join(ROOT, 'test/developers/guide');
const operation = (name: string): string => readFileSync(path.join(GUIDE, 'operations', `${name}.graphql`), 'utf8');
const FIRST = operation('first-query');
const EMISSIONS = operation('emissions');

interface Denial {
  coordinate: string;
  reason: string;
  remedy: string | null;
}

describe('the guide’s client configurations against a running exchange', () => {
  let ex: Exchange;
  beforeAll(async () => {
    ex = await startExchange();
  });
  afterAll(async () => {
    await ex.close();
  });

  it('Apollo Client runs the first query and passes on the R-25 notice', async () => {
    const notices: string[] = [];
    const client = apolloClient({ url: ex.url, token: ex.token('tax'), purpose: 'tax-collection', onNotice: (n) => notices.push(n) });
    const { data, error } = await client.query({ query: gql(FIRST), variables: { uscc: ENT } });
    expect(error).toBeUndefined();
    expect((data as { enterprise: Record<string, unknown> } | undefined)?.enterprise).toMatchObject({ uscc: ENT, name: expect.any(String), taxpayerStatus: expect.any(String), insuredEmployees: expect.any(Number) });
    expect(notices[0]).toContain('may not be published');
  });

  it('Apollo Client with errorPolicy all keeps the answer of a denied-field query and reads extensions.sharing', async () => {
    const client = apolloClient({ url: ex.url, token: ex.token('tax'), purpose: 'tax-collection' });
    const result = await client.query({ query: gql(EMISSIONS), variables: { uscc: ENT, year: 2024 } });
    const { error } = result;
    const data = result.data as { enterprise: { name: string; emissions: unknown } } | undefined;
    expect(data?.enterprise.name).toEqual(expect.any(String));
    expect(data?.enterprise.emissions).toBeNull();
    expect(sharingDenials(error)).toEqual([expect.objectContaining({ coordinate: 'Enterprise.emissions', provider: 'eeb', reason: 'GRANT_REQUIRED', remedy: expect.stringContaining('eeb') })]);
  });

  it('Apollo Client shows the gateway’s 401 message, not a bare status code', async () => {
    const expired = ex.token('tax', [], -60);
    const client = apolloClient({ url: ex.url, token: expired, purpose: 'tax-collection' });
    const { error } = await client.query({ query: gql(FIRST), variables: { uscc: ENT } });
    expect(CombinedGraphQLErrors.is(error)).toBe(true);
    expect(error?.message).toContain('Not authenticated: token expired');
    if (CombinedGraphQLErrors.is(error)) expect(error.errors[0]?.extensions?.['code']).toBe('UNAUTHENTICATED');
  });

  it('Apollo Client’s BatchHttpLink gets the refusal naming the setting for each operation', async () => {
    const client = new ApolloClient({
      link: new BatchHttpLink({ uri: ex.url, headers: { authorization: `Bearer ${ex.token('tax')}` }, batchMax: 2, batchInterval: 5 }),
      cache: new InMemoryCache(),
      defaultOptions: { query: { errorPolicy: 'all' }, watchQuery: { errorPolicy: 'all' } },
    });
    const [a, b] = await Promise.allSettled([
      client.query({ query: gql(`query A { enterprise(uscc: "${ENT}") { name } }`) }),
      client.query({ query: gql('query B { catalog { totalCount } }') }),
    ]);
    for (const r of [a, b]) {
      const message = r?.status === 'fulfilled' ? r.value.error?.message : String(r?.reason);
      expect(message).toContain(BATCH_REFUSAL);
    }
  });

  it('urql’s default client sends the first query as GET, which passes CSRF prevention', async () => {
    const methods: string[] = [];
    const realFetch = globalThis.fetch;
    const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
      methods.push(init?.method ?? 'GET');
      return realFetch(input, init);
    });
    try {
      const client = urqlClient({ url: ex.url, token: ex.token('tax'), purpose: 'tax-collection' });
      const result = await client.query(FIRST, { uscc: ENT }).toPromise();
      expect(result.error).toBeUndefined();
      expect((result.data as { enterprise: { name: string } }).enterprise.name).toEqual(expect.any(String));
      expect((result.extensions as { sharing?: { notice?: string } } | undefined)?.sharing?.notice).toContain('may not be published');
    } finally {
      spy.mockRestore();
    }
    expect(methods).toEqual(['GET']);
  });

  it('urql reads extensions.sharing of a denied field', async () => {
    const client = urqlClient({ url: ex.url, token: ex.token('tax'), purpose: 'tax-collection' });
    const result = await client.query(EMISSIONS, { uscc: ENT, year: 2024 }).toPromise();
    expect((result.data as { enterprise: { emissions: unknown } }).enterprise.emissions).toBeNull();
    expect(result.error?.graphQLErrors.map((e) => e.extensions['sharing'])).toEqual([expect.objectContaining({ coordinate: 'Enterprise.emissions', reason: 'GRANT_REQUIRED' })]);
  });

  it('graphql-request runs the first query and a denied-field query with errorPolicy all', async () => {
    const client = requestClient({ url: ex.url, token: ex.token('tax'), purpose: 'tax-collection' });
    const first = await client.rawRequest<{ enterprise: { name: string } }>(FIRST, { uscc: ENT });
    expect(first.data.enterprise.name).toEqual(expect.any(String));
    expect((first.extensions as { sharing?: { notice?: string } } | undefined)?.sharing?.notice).toContain('may not be published');
    const denied = await client.rawRequest<{ enterprise: { emissions: unknown } }>(EMISSIONS, { uscc: ENT, year: 2024 });
    expect(denied.data.enterprise.emissions).toBeNull();
    expect(denied.errors?.map((e) => (e.extensions as { sharing: Denial }).sharing.reason)).toEqual(['GRANT_REQUIRED']);
  });

  it('graphql-request reports the 401 message of the gateway', async () => {
    const client = requestClient({ url: ex.url, token: 'not-a-token', purpose: 'tax-collection' });
    const err = (await client.request(FIRST, { uscc: ENT }).catch((e: unknown) => e)) as ClientError;
    expect(err.response.status).toBe(401);
    expect(err.response.errors?.[0]?.message).toContain('Not authenticated');
  });

  it('codegen generates types from the gateway URL and they type-check', async () => {
    const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-codegen-'));
    try {
      symlinkSync(path.join(ROOT, 'node_modules'), path.join(tmp, 'node_modules'));
      mkdirSync(path.join(tmp, 'gql'));
      const files: { filename: string; content: string }[] = await generate(
        { ...exchangeCodegen({ url: ex.url, token: ex.token('amr'), documents: [path.join(GUIDE, 'operations/*.graphql')], output: path.join(tmp, 'gql/') }), silent: true, cwd: tmp },
        false,
      );
      for (const f of files) writeFileSync(path.join(tmp, 'gql', path.basename(f.filename)), f.content, { flag: 'w' });
      const graphqlTs = files.find((f) => f.filename.endsWith('graphql.ts'))!.content;
      expect(graphqlTs).toContain('export type FirstQueryQuery');
      expect(graphqlTs).toContain('taxCreditGrade: TaxCreditGrade | null');
      // A program using the generated types, as an agency developer would write it.
      writeFileSync(
        path.join(tmp, 'use.ts'),
        [
          "import { FirstQueryDocument, MayReadDocument, type FirstQueryQuery, type MayReadQuery } from './gql/graphql';",
          'export const docs = [FirstQueryDocument, MayReadDocument];',
          "export const grade: NonNullable<FirstQueryQuery['enterprise']>['taxCreditGrade'] = 'A';",
          "export const decision: MayReadQuery['mayRead']['decision'] = 'DENY';",
          '',
        ].join('\n'),
      );
      writeFileSync(path.join(tmp, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', skipLibCheck: true }, include: ['use.ts', 'gql/*.ts'] }));
      const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
      expect(() => execFileSync(process.execPath, [tsc, '-p', tmp], { encoding: 'utf8', stdio: 'pipe' })).not.toThrow();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('docs/developers.md', () => {
  const guide = readFileSync(path.join(ROOT, 'docs/developers.md'), 'utf8');
  it.each(['apollo-client.ts', 'urql.ts', 'graphql-request.ts', 'codegen.ts', 'operations/first-query.graphql', 'operations/emissions.graphql', 'operations/may-read.graphql'])(
    'shows the tested %s verbatim',
    (file) => {
      expect(guide).toContain(readFileSync(path.join(GUIDE, file), 'utf8').trimEnd());
    },
  );
});
