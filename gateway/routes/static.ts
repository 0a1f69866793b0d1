import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import type { GatewayEnv } from './types.ts';

/** The built SystemBreaker app at `/`. Vite fingerprints its assets; the index must always be fresh. */
export function staticRoutes(root: string): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get(
    '*',
    serveStatic({
      root,
      onFound: (path, c) => {
        c.header(
          'cache-control',
          /[\\/]assets[\\/]/.test(path) ? 'public, max-age=31536000, immutable' : 'no-cache',
        );
      },
    }),
  );
  return app;
}
