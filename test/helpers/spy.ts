import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SpiedRequest {
  readonly query: string;
  readonly variables: Record<string, unknown> | undefined;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly dataAccesses: number | null;
}

/** An HTTP proxy in front of a subgraph that records every request the gateway sends it. */
export interface Spy {
  readonly url: string;
  readonly requests: SpiedRequest[];
  close(): Promise<void>;
}

export async function startSpy(target: string): Promise<Spy> {
  const requests: SpiedRequest[] = [];
  const to = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let parsed: { query?: string; variables?: Record<string, unknown> } = {};
      try {
        parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
      } catch {
        // recorded with an empty query
      }
      const up = httpRequest(
        { host: to.hostname, port: to.port, path: req.url, method: req.method, headers: { ...req.headers, host: to.host } },
        (upRes) => {
          const accesses = upRes.headers['x-data-accesses'];
          requests.push({ query: parsed.query ?? '', variables: parsed.variables, headers: req.headers, dataAccesses: accesses === undefined ? null : Number(accesses) });
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${to.pathname}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
