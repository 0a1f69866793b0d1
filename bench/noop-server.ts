import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { compiledEntry } from '../gateway/function-bundle.ts';

const PLAIN = `
  const http = require('node:http');
  const s = http.createServer((req, res) => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end('ok'); });
  s.keepAliveTimeout = 65000;
  s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
  process.on('SIGTERM', () => process.exit(0));`;

export type NoopKind = 'plain' | 'function-server' | 'express';

/**
 * A no-op server in a process of its own (so it does not share the load tool's event loop):
 * plain node:http, our function server, or Express as the OpenFaaS node template uses it.
 */
export async function startNoopServer(
  kind: NoopKind = 'plain',
): Promise<{ url: string; stop(): Promise<void> }> {
  const script = (name: string) => fileURLToPath(new URL(`./servers/${name}.ts`, import.meta.url));
  // Compiled, as the function image runs its server: no TypeScript loader in the measured process.
  const args =
    kind === 'plain'
      ? ['-e', PLAIN]
      : [await compiledEntry(script(kind === 'express' ? 'noop-express' : 'noop-function-server'))];
  const proc: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(proc.stdout as NodeJS.ReadableStream, 'data')) as [Buffer];
  return {
    url: `http://127.0.0.1:${chunk.toString().trim()}`,
    async stop() {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
