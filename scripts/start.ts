import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runMain } from '../functions/lib/cli.ts';
import { ConfigError } from '../functions/lib/env.ts';
import { createLogger } from '../functions/lib/log.ts';
import type { PolicyName } from '../gateway/autoscale/policies.ts';
import { exposureProblem, parseGatewayConfig } from '../gateway/config.ts';
import { EDITIONS, POLICY_EDITION } from '../gateway/editions.ts';
import type { Gateway } from '../gateway/gateway.ts';
import { startLocalStack } from '../gateway/local-stack.ts';

const APP_DIR = fileURLToPath(new URL('../loadgen/dist/', import.meta.url));

/** "openfaas-2018 — the talk's OpenFaaS gateway (2018); replicas at most: randstore 20, …". */
function scalingLine(policy: PolicyName, gateway: Gateway): string {
  const maxima = [...gateway.sets.values()].map((s) => `${s.name} ${s.spec.scale.max}`).join(', ');
  return `${policy} — ${EDITIONS[POLICY_EDITION[policy]].title}; replicas at most: ${maxima} (MAX_REPLICAS)`;
}

/**
 * A line on stderr. Its reader may be gone (`npm start | head`, a closed terminal): a write to
 * a closed pipe fails quietly rather than ending the process in the middle of its shutdown.
 */
function say(line: string): void {
  process.stderr.write(`${line}\n`);
}
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

/**
 * `npm start`: the whole demo on this machine, stopped by Ctrl-C. package.json runs it with
 * `node --import tsx`, not the tsx CLI: the CLI relays Ctrl-C to its child and sends SIGKILL if
 * the child has not acknowledged within 2 × 30 ms (tsx's relaySignalToChild), which a busy
 * process misses, leaving MySQL and the replicas behind.
 */
async function main(): Promise<void> {
  const config = parseGatewayConfig(process.env);
  const exposed = exposureProblem(config);
  if (exposed) throw new ConfigError([exposed]);
  const log = createLogger(config.LOG_LEVEL, { component: 'gateway' });
  let basicAuth: { user: string; password: string } | undefined;
  if (config.GATEWAY_BASIC_AUTH_FILE) {
    const text = (await readFile(config.GATEWAY_BASIC_AUTH_FILE, 'utf8')).trim();
    const colon = text.indexOf(':');
    if (colon < 1)
      throw new ConfigError([
        `GATEWAY_BASIC_AUTH_FILE must hold user:password; ${config.GATEWAY_BASIC_AUTH_FILE} does not`,
      ]);
    basicAuth = { user: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  const logDir = path.resolve(config.DATA_DIR, 'logs');
  await mkdir(logDir, { recursive: true });
  const replicaLog = createWriteStream(path.join(logDir, 'replicas.log'), { flags: 'a' });

  const stack = await startLocalStack({
    config,
    persistent: true,
    env: process.env,
    log,
    onStep: say,
    onReplicaLog: (id, line) => replicaLog.write(`${id} ${line}\n`),
    ...(existsSync(APP_DIR) ? { staticDir: APP_DIR } : {}),
    ...(basicAuth ? { basicAuth } : {}),
  });
  const g = stack.gateway.url;
  process.stdout.write(
    [
      '',
      'SystemBreaker is running',
      `  app            ${g}/${existsSync(APP_DIR) ? '' : '   (not built: npm run build:app)'}`,
      `  functions      ${g}/function/randstore (POST)  ${g}/function/randshow  ${g}/function/dbstats`,
      `  system API     ${g}/system/functions${basicAuth ? '   (basic auth)' : ''}`,
      `  metrics        ${g}/metrics`,
      `  cat source     ${stack.catSource.url}/cat`,
      `  MySQL          ${stack.mysql.description}`,
      `  scaling        ${scalingLine(config.SCALING_POLICY, stack.gateway)}`,
      `  replica logs   ${path.join(logDir, 'replicas.log')}`,
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second Ctrl-C: the user will not wait for the drain.
      say(`\n${signal} again: killing the replicas and MySQL now (MySQL recovers on the next start)`);
      await stack.kill().catch(() => {});
      process.exit(130);
    }
    stopping = true;
    say(`\n${signal}: stopping replicas, cat source and MySQL… (Ctrl-C again to kill them at once)`);
    await stack.stop();
    replicaLog.end();
    say('stopped: nothing of this stack is left running');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGHUP', () => void stop('SIGHUP'));
}

await runMain(main);
