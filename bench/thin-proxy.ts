import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';
import { forwardable } from '../gateway/proxy.ts';

/**
 * The anchor of the gateway's benchmark: the thinnest Node proxy there is, an undici Pool that
 * pipes method, path, headers and body to one upstream and the answer back, with no routing,
 * no metrics and no choice of replica. What any Node proxy pays for the second HTTP hop.
 */
export async function startThinProxy(upstream: string): Promise<{ url: string; close(): Promise<void> }> {
  const pool = new Pool(upstream, { connections: 128, pipelining: 1, keepAliveTimeout: 30_000 });
  const server = createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    pool
      .request({
        method: req.method as 'GET',
        path: req.url ?? '/',
        headers: forwardable(req.headers),
        ...(hasBody ? { body: req } : {}),
      })
      .then((answer) => {
        res.writeHead(answer.statusCode, forwardable(answer.headers as IncomingHttpHeaders));
        answer.body.once('error', () => res.destroy());
        answer.body.pipe(res);
      })
      .catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await pool.close();
    },
  };
}
