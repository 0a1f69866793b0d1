import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { decodeFromStorage } from '../functions/lib/codec.ts';
import { createLogger } from '../functions/lib/log.ts';
import { parseGatewayConfig } from '../gateway/config.ts';
import { DATABASE, type LocalStack, startLocalStack } from '../gateway/local-stack.ts';

/** What every fault case gets: a local stack of its own (MySQL it may stop), and helpers. */
export interface FaultContext {
  stack: LocalStack;
  gw: string;
  /** Everything the replicas and the gateway logged. */
  logs: string[];
  /** Runs SQL as the admin on the stack's MySQL. */
  sql<T = mysql.RowDataPacket[]>(statement: string, values?: unknown[]): Promise<T>;
  rows(): Promise<number>;
  /** Rows whose image does not decode to its sha256. */
  invalidRows(): Promise<number[]>;
  password(user: string): Promise<string>;
  close(): Promise<void>;
}

/** The cat source timeout the fault stack runs with: `slow` and `drip` go past it. */
// 3 s: on two cores busy with the rest of the suite (the function images' containers too), the
// local cat source took over 1.5 s to draw a cat, and healthy randstore calls timed out.
export const SOURCE_TIMEOUT_MS = 3000;

export async function createFaultContext(stackFile: string): Promise<FaultContext> {
  const logs: string[] = [];
  const { MYSQL_URL: _, ...env } = process.env;
  const stack = await startLocalStack({
    config: parseGatewayConfig({
      GATEWAY_PORT: '0',
      CAT_SOURCE_PORT: '0',
      STACK_FILE: stackFile,
      SCALING_POLICY: 'off',
      REPLICA_POOL_SIZE: '10',
    }),
    persistent: false,
    env,
    log: createLogger('info', { component: 'gateway' }, (line) => logs.push(line)),
    onReplicaLog: (id, line) => logs.push(`${id} ${line}`),
    replicaEnv: {
      SOURCE_TIMEOUT_MS: String(SOURCE_TIMEOUT_MS),
      DB_CONNECT_TIMEOUT_MS: '1000',
      MAX_BODY_BYTES: '65536',
    },
    catSource: { slowMs: SOURCE_TIMEOUT_MS * 3, hugeBytes: 32 * 1024 * 1024 },
  });
  const sql = async <T>(statement: string, values?: unknown[]) => {
    const conn = await mysql.createConnection({ uri: stack.mysql.url });
    try {
      const [rows] = await conn.query(statement, values);
      return rows as T;
    } finally {
      await conn.end();
    }
  };
  return {
    stack,
    gw: stack.gateway.url,
    logs,
    sql,
    async rows() {
      const [row] = await sql<Array<{ n: number }>>(`SELECT COUNT(*) AS n FROM ${DATABASE}.cats`);
      return Number(row?.n);
    },
    async invalidRows() {
      const all = await sql<
        Array<{ id: number; image: Buffer; encoding: 'raw' | 'escaped-base64'; sha256: string }>
      >(`SELECT id, image, encoding, sha256 FROM ${DATABASE}.cats`);
      return all
        .filter((r) => {
          try {
            return (
              createHash('sha256').update(decodeFromStorage(r.image, r.encoding)).digest('hex') !== r.sha256
            );
          } catch {
            return true;
          }
        })
        .map((r) => Number(r.id));
    },
    async password(user) {
      return (await readFile(path.join(stack.secretsDir, `${user}-mysql-password`), 'utf8')).trim();
    },
    close: () => stack.stop(),
  };
}
