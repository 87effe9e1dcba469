import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { composeServices } from '@apollo/composition';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { ResolverMap } from '../../subgraphs/kit/resolver-map.ts';
import { parse } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBareGateway } from '../../bench/bare.ts';
import type { AuditRecord } from '../../gateway/audit/record.ts';
import { fileAuditRecords } from '../helpers/audit.ts';
import { loadConfig } from '../../gateway/config.ts';
import { verificationKey } from '../../gateway/identity/keys.ts';
import { signToken } from '../../gateway/identity/token.ts';
import { silentLogger } from '../../gateway/log.ts';
import { startGateway, type RunningGateway } from '../../gateway/server.ts';
import { ROOT } from '../helpers/root.ts';

/**
 * With everything allowed the governed gateway answers exactly as a bare
 * @apollo/gateway on the same supergraph. Each federation shape below once broke that (it comes
 * from the federation-gateway-audit suite); both gateways run over the same small subgraphs.
 */
interface SubgraphDef {
  readonly name: string;
  readonly typeDefs: string;
  readonly resolvers: ResolverMap;
}

interface Answer {
  readonly status: number;
  readonly body: { data?: unknown; errors?: unknown[]; extensions?: Record<string, unknown> };
  readonly text: string;
  readonly requestId: string | null;
}

interface Federation {
  readonly governed: RunningGateway;
  readonly dataDir: string;
  ask(which: 'governed' | 'bare', query: string): Promise<Answer>;
  close(): Promise<void>;
}

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@interfaceObject", "@shareable"])';

async function startFederation(defs: readonly SubgraphDef[]): Promise<Federation> {
  const tmp = mkdtempSync(path.join(tmpdir(), 'exchange-fedexact-'));
  const servers: ApolloServer[] = [];
  const services = [];
  for (const d of defs) {
    const server = new ApolloServer({ schema: buildSubgraphSchema({ typeDefs: parse(`${LINK}\n${d.typeDefs}`), resolvers: d.resolvers }) });
    const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' } });
    servers.push(server);
    services.push({ name: d.name, url, typeDefs: parse(`${LINK}\n${d.typeDefs}`) });
  }
  const composed = composeServices(services);
  if (composed.errors !== undefined) throw new Error(composed.errors.map((e) => e.message).join('; '));
  const supergraphPath = path.join(tmp, 'supergraph.graphql');
  writeFileSync(supergraphPath, composed.supergraphSdl);
  // A supergraph not written for the exchange: no datasets, so no grant or agreement lines.
  const policyDir = path.join(tmp, 'policies');
  mkdirSync(policyDir);
  // The model and its decision rules; no grant or agreement lines (they would name datasets this supergraph lacks).
  for (const f of ['model.conf', 'rules.csv']) copyFileSync(path.join(ROOT, 'policies', f), path.join(policyDir, f));
  writeFileSync(path.join(policyDir, 'grants.csv'), '');
  writeFileSync(path.join(policyDir, 'agreements.csv'), '');
  const dataDir = path.join(tmp, 'data');
  const config = loadConfig({ DATA_DIR: dataDir, POLICY_DIR: policyDir, SUPERGRAPH_PATH: supergraphPath, UNCLASSIFIED_FIELDS: 'allow', PORT: '0' });
  const governed = await startGateway(config, { log: silentLogger });
  const bare = await startBareGateway({ supergraphSdl: composed.supergraphSdl, subgraphUrls: new Map(), signingKey: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
  const token = signToken(verificationKey(config), { agency: 'tax', ttlSeconds: 600, sub: 'fedexact' }, { issuer: config.jwtIssuer, audience: config.jwtAudience });
  return {
    governed,
    dataDir,
    async ask(which, query) {
      const res = await fetch(which === 'governed' ? governed.url : bare.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(which === 'governed' ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query }),
      });
      const text = await res.text();
      return { status: res.status, body: JSON.parse(text) as Answer['body'], text, requestId: res.headers.get('x-request-id') };
    },
    async close() {
      await governed.close();
      await bare.close();
      for (const s of servers) await s.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** What the audit suite compares: the data, and whether there were errors. */
function outcome(a: Answer): { data: unknown; errors: boolean } {
  return { data: a.body.data ?? null, errors: (a.body.errors?.length ?? 0) > 0 };
}

describe('an interface object no subgraph can resolve', () => {
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([
      {
        name: 'a',
        typeDefs: 'interface Node @key(fields: "id") { id: ID! } type Query { a: Node }',
        resolvers: { Query: { a: () => ({ __typename: 'Node', id: 'n1' }) }, Node: { __resolveReference: () => { throw new Error('not resolvable'); } } },
      },
      {
        name: 'b',
        typeDefs: 'type Node @key(fields: "id", resolvable: false) @interfaceObject { id: ID! field: String } type Query { b: Node }',
        resolvers: { Query: { b: () => ({ __typename: 'Node', id: 'n1' }) }, Node: { field: () => 'foo' } },
      },
    ]);
  });
  afterAll(async () => {
    await fed.close();
  });

  it.each([
    ['{ b { id field } }', { data: { b: { id: 'n1', field: 'foo' } }, errors: false }],
    ['{ b { id } }', { data: { b: { id: 'n1' } }, errors: false }],
    ['{ a { id } }', { data: { a: null }, errors: true }],
  ])('answers %s as the bare gateway does', async (query, expected) => {
    const [governed, bare] = await Promise.all([fed.ask('governed', query), fed.ask('bare', query)]);
    expect(governed.status).toBe(200);
    expect(outcome(governed)).toEqual(expected);
    expect(outcome(governed)).toEqual(outcome(bare));
  });

  it('answers `{ a { field } }` with a clean null and no error, as the bare gateway does', async () => {
    const [governed, bare] = await Promise.all([fed.ask('governed', '{ a { field } }'), fed.ask('bare', '{ a { field } }')]);
    expect(governed.body).toEqual({ data: { a: null } });
    expect(governed.body).toEqual(bare.body);
  });
});

describe('an entity whose key one subgraph returns as null', () => {
  const books = [
    { id: '1', upc: 'b1', author: { name: 'Alice' } },
    { id: '2', upc: 'b2', author: { name: 'Bob' } },
    { id: '3', upc: 'b3', author: { name: 'Jack' } },
  ];
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([
      {
        name: 'a',
        typeDefs: 'type Query { bookContainers: [BookContainer] } type BookContainer { book: Book } type Book @key(fields: "upc") { upc: ID! }',
        resolvers: { Query: { bookContainers: () => books.map((b) => ({ book: { upc: b.upc } })) } },
      },
      {
        name: 'b',
        typeDefs: 'type Book @key(fields: "id") @key(fields: "upc") { id: ID! upc: ID! }',
        resolvers: {
          // b knows b1 and b2 only: the third book never gets the id that leads to its author.
          Book: { __resolveReference: (ref: { upc?: string }) => { const b = books.find((x) => x.upc === ref.upc); return b === undefined || b.id === '3' ? null : { id: b.id, upc: b.upc }; } },
        },
      },
      {
        name: 'c',
        typeDefs: 'type Book @key(fields: "id") { id: ID! author: Author } type Author { id: ID! name: String }',
        resolvers: { Book: { __resolveReference: (ref: { id: string }) => { const b = books.find((x) => x.id === ref.id); return b === undefined ? null : { id: b.id, author: { id: `a${b.id}`, name: b.author.name } }; } } },
      },
    ]);
  });
  afterAll(async () => {
    await fed.close();
  });

  it('keeps the book, nulls only its author, and names no internal alias anywhere in the answer', async () => {
    const query = '{ bookContainers { book { upc author { name } } } }';
    const [governed, bare] = await Promise.all([fed.ask('governed', query), fed.ask('bare', query)]);
    expect(governed.body.data).toEqual({
      bookContainers: [{ book: { upc: 'b1', author: { name: 'Alice' } } }, { book: { upc: 'b2', author: { name: 'Bob' } } }, { book: { upc: 'b3', author: null } }],
    });
    expect(outcome(governed)).toEqual(outcome(bare));
    expect(governed.text).not.toContain('__x_');
  });

  it('records the books read, by the keys the client selected', async () => {
    const governed = await fed.ask('governed', '{ bookContainers { book { upc author { name } } } }');
    const records = (await fileAuditRecords(fed.dataDir)).filter((r: AuditRecord) => r.requestId === governed.requestId);
    expect(records.find((r) => r.coordinate === 'Book.author')).toMatchObject({ decision: 'ALLOW', reason: 'UNCLASSIFIED_ALLOWED', count: 2 });
    expect([...records.find((r) => r.coordinate === 'Book.author')!.entityKeys].sort()).toEqual(['b1', 'b2', 'b3']);
  });
});

describe('an interface object whose concrete types only one subgraph knows', () => {
  const accounts = [
    { type: 'Admin', id: 'u1', name: 'Alice', isMain: false },
    { type: 'Admin', id: 'u2', name: 'Bob', isMain: true },
    { type: 'Regular', id: 'u3', name: 'Charlie', isMain: false },
  ];
  let fed: Federation;
  beforeAll(async () => {
    fed = await startFederation([
      {
        name: 'a',
        typeDefs: 'interface Account @key(fields: "id") { id: ID! } type Admin implements Account @key(fields: "id") { id: ID! isMain: Boolean! } type Regular implements Account @key(fields: "id") { id: ID! isMain: Boolean! } type Query { ping: String }',
        resolvers: {
          Account: { __resolveReference: (ref: { id: string }) => { const a = accounts.find((x) => x.id === ref.id); return a === undefined ? null : { __typename: a.type, id: a.id, isMain: a.isMain }; } },
          Admin: { __resolveReference: (ref: { id: string }) => { const a = accounts.find((x) => x.id === ref.id && x.type === 'Admin'); return a === undefined ? null : { id: a.id, isMain: a.isMain }; } },
          Regular: { __resolveReference: (ref: { id: string }) => { const a = accounts.find((x) => x.id === ref.id && x.type === 'Regular'); return a === undefined ? null : { id: a.id, isMain: a.isMain }; } },
        },
      },
      {
        name: 'b',
        typeDefs: 'type Account @key(fields: "id") @interfaceObject { id: ID! name: String! } type Query { accounts: [Account] }',
        resolvers: {
          // A wrong __typename on purpose: the gateway must learn the concrete type from subgraph a.
          Query: { accounts: () => accounts.map((a) => ({ __typename: 'Never', id: a.id })) },
          Account: { __resolveReference: (ref: { id: string }) => ({ id: ref.id }), name: (a: { id: string }) => accounts.find((x) => x.id === a.id)?.name },
        },
      },
    ]);
  });
  afterAll(async () => {
    await fed.close();
  });

  it('answers `... on Admin { __typename }` with the type names, as the bare gateway does', async () => {
    const query = '{ accounts { ... on Admin { __typename } } }';
    const [governed, bare] = await Promise.all([fed.ask('governed', query), fed.ask('bare', query)]);
    expect(governed.body.data).toEqual({ accounts: [{ __typename: 'Admin' }, { __typename: 'Admin' }, {}] });
    expect(outcome(governed)).toEqual(outcome(bare));
  });

  it('names in the audit the accounts the plan fetched as Account, though the client selected no key', async () => {
    const governed = await fed.ask('governed', '{ accounts { ... on Admin { isMain } } }');
    expect(governed.body.data).toEqual({ accounts: [{ isMain: false }, { isMain: true }, {}] });
    const records = (await fileAuditRecords(fed.dataDir)).filter((r: AuditRecord) => r.requestId === governed.requestId);
    const isMain = records.find((r) => r.coordinate === 'Admin.isMain');
    expect(isMain).toMatchObject({ decision: 'ALLOW', count: 2 });
    // The entity fetch named each account as an Account (the interface object), whatever its concrete type.
    expect([...isMain!.entityKeys].sort()).toEqual(['u1', 'u2', 'u3']);
  });
});
