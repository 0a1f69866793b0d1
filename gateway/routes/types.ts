import type { HttpBindings } from '@hono/node-server';

/** Every route module runs on @hono/node-server: the raw node:http objects are at hand. */
export type GatewayEnv = { Bindings: HttpBindings };
