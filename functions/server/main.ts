import { runMain } from '../lib/cli.ts';
import { ConfigError, parseConfig, shutdownGraceMs } from '../lib/config.ts';
import { createLogger } from '../lib/log.ts';
import { buildFunction } from './compose.ts';
import { startFunctionServer } from './server.ts';

/**
 * Entry point of a function replica: `FUNCTION=randstore node --import tsx functions/server/main.ts`.
 * Builds the dependencies once, serves until SIGTERM/SIGINT, drains, closes the pool.
 */
async function main(): Promise<void> {
  const config = parseConfig(process.env, ['FUNCTION']);
  const name = config.FUNCTION;
  const log = createLogger(config.LOG_LEVEL, { function: name, pid: process.pid });
  const fn = await buildFunction(name, config, log);
  const server = await startFunctionServer({
    handler: fn.handler,
    host: config.HTTP_HOST,
    port: config.http_port,
    maxBodyBytes: config.MAX_BODY_BYTES,
    drainTimeoutMs: config.DRAIN_TIMEOUT_MS,
    allowedHosts: config.ALLOWED_HOSTS,
    shutdownGraceMs: shutdownGraceMs(config),
    metrics: fn.metrics,
    log,
  });
  // Always announced, whatever LOG_LEVEL: the local gateway learns the replica's port from it.
  process.stdout.write(
    `${JSON.stringify({ msg: 'listening', function: name, pid: process.pid, url: server.url, port: server.port })}\n`,
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('draining', { signal, inFlight: server.inFlight() });
    const { timedOut } = await server.drain();
    await fn.close();
    log.info('stopped', { signal, timedOut });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  // Started by the local gateway with an IPC channel: when the gateway dies, so does its replica.
  if (process.connected) process.once('disconnect', () => void stop('gateway-exit'));
}

// One line on stderr and exit 2 for a bad configuration, 1 for anything else (DEBUG=1: the stack).
await runMain(async () => {
  try {
    await main();
  } catch (err) {
    if (err instanceof Error && !(err instanceof ConfigError))
      err.message = `function server failed to start: ${err.message}`;
    throw err;
  }
});
