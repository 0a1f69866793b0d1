import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { EngineEvent } from '../../contract/engine.ts';
import { readJson } from '../errors.ts';
import type { LiveLoad } from '../live-load.ts';
import { relay } from './relay.ts';
import type { GatewayEnv } from './types.ts';

/** The live server engine's API: its state, its events as Server-Sent Events, start, change, stop. */
export function liveLoadRoutes(liveLoad: LiveLoad): Hono<GatewayEnv> {
  const app = new Hono<GatewayEnv>();
  app.get('/system/loadgen', (c) => c.json(liveLoad.state()));
  app.post('/system/loadgen/start', async (c) => c.json(liveLoad.start(await readJson(c)), 202));
  app.patch('/system/loadgen', async (c) => c.json(liveLoad.update(await readJson(c))));
  app.post('/system/loadgen/stop', (c) => c.json(liveLoad.stop(), 202));
  app.get('/system/loadgen/events', (c) =>
    streamSSE(c, (stream) =>
      relay(
        (push: (event: EngineEvent) => void, end) => liveLoad.subscribe(push, end),
        (event) => stream.writeSSE({ data: JSON.stringify(event) }),
        (stop) => stream.onAbort(stop),
      ),
    ),
  );
  return app;
}
