#!/usr/bin/env node
import { runPlugin } from './plugin.ts';
import { UNKNOWN } from './state.ts';

void runPlugin(process.argv.slice(2))
  .catch((err: unknown) => ({ state: UNKNOWN, output: `SYSTEMBREAKER UNKNOWN - ${String(err)}\n` }))
  .then(({ state, output }) => {
    process.stdout.write(output);
    process.exitCode = state;
    // A server that never closes a socket (or a connection half made at the timeout) must not
    // keep a finished check running: the monitoring host waits for the process, not the output.
    setTimeout(() => process.exit(), 1000).unref();
  });
