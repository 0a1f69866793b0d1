import { createLogger } from '../../functions/lib/log.ts';
import { startFunctionServer } from '../../functions/server/server.ts';

/** A no-op handler behind our function server (the adapter of-watchdog forwards to). */
const server = await startFunctionServer({
  handler: async () => new Response('ok', { headers: { 'content-type': 'text/plain' } }),
  host: '127.0.0.1',
  port: 0,
  maxBodyBytes: 65_536,
  drainTimeoutMs: 1000,
  log: createLogger('silent'),
});
process.stdout.write(`${server.port}\n`);
process.on('SIGTERM', () => process.exit(0));
