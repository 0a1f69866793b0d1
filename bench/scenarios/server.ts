import { autocannonRun, type LoadResult } from '../autocannon.ts';
import { type NoopKind, startNoopServer } from '../noop-server.ts';
import { round } from '../stats.ts';

export interface ServerOverhead {
  connections: number;
  seconds: number;
  plain: LoadResult;
  functionServer: LoadResult;
  express: LoadResult;
  /** Our function server's requests/s ÷ plain node:http's. */
  oursOverPlain: number;
  /** …÷ the Express style of the official OpenFaaS node template. */
  oursOverExpress: number;
}

/** A no-op handler three ways, each in its own process, the same autocannon load on each. */
export async function benchServerOverhead(seconds: number, connections: number): Promise<ServerOverhead> {
  const measure = async (kind: NoopKind) => {
    const server = await startNoopServer(kind);
    try {
      await autocannonRun(`${server.url}/`, connections, 1); // warm-up
      return await autocannonRun(`${server.url}/`, connections, seconds);
    } finally {
      await server.stop();
    }
  };
  const plain = await measure('plain');
  const functionServer = await measure('function-server');
  const express = await measure('express');
  return {
    connections,
    seconds,
    plain,
    functionServer,
    express,
    oursOverPlain: round(functionServer.rps / plain.rps, 3),
    oursOverExpress: round(functionServer.rps / express.rps, 3),
  };
}
