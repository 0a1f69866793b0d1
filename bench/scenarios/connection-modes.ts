import { CONNECTION_MODES, type ConnectionMode } from '../../contract/functions.ts';
import { parsePlan } from '../../contract/plan.ts';
import { compiledEntry } from '../../gateway/function-bundle.ts';
import { Replica } from '../../gateway/replica.ts';
import { LoadEngine } from '../../loadgen/src/node/engine.ts';
import { migrate } from '../../mysql/migrate.ts';
import { provisionMysql } from '../../mysql/provision.ts';
import { seedCats } from '../../mysql/seed.ts';

export interface ModeRow {
  mode: ConnectionMode;
  maxConnections: number;
  replicas: number;
  poolPerReplica: string;
  rate: number;
  ok: number;
  tooManyConnections: number;
  otherErrors: number;
  p50Ms: number;
  p99Ms: number;
}

/**
 * The talk's failure and its fix side by side: 4 randshow replicas against a MySQL with
 * max_connections = 12, naive pools of 10 each vs pools sized by the budget.
 */
export async function benchConnectionModes(
  seconds: number,
  rate: number,
  env: NodeJS.ProcessEnv,
): Promise<ModeRow[]> {
  const [maxConnections, replicasN, program] = [12, 4, await compiledEntry()];
  const server = await provisionMysql({
    env,
    database: 'modes',
    serverArgs: [`--max-connections=${maxConnections}`],
  });
  try {
    await migrate(server.url, { database: 'modes' });
    await seedCats(server.url, 2000, 2048);
    const rows: ModeRow[] = [];
    for (const mode of CONNECTION_MODES) {
      const replicas = Array.from(
        { length: replicasN },
        (_, i) =>
          new Replica({
            id: `randshow-${mode}-${i}`,
            program,
            env: {
              PATH: process.env.PATH ?? '',
              FUNCTION: 'randshow',
              MYSQL_URL: server.url,
              LOG_LEVEL: 'warn',
              DB_POOL_SIZE: '10',
              DB_CONNECTION_MODE: mode,
              DB_BUDGET_MAX_REPLICAS: String(replicasN),
            },
          }),
      );
      try {
        await Promise.all(replicas.map((r) => r.ready));
        await new Promise((r) => setTimeout(r, 1500)); // budget pools learn max_connections
        const runs = await Promise.all(
          replicas.map((r) =>
            new LoadEngine({
              target: r.url, // a replica serves its function on any path
              plan: parsePlan({
                rate: rate / replicasN,
                durationS: seconds,
                ratio: { randstore: 0, randshow: 1 },
                strategy: 'order-by-rand',
              }),
              maxInFlight: 256,
              connections: 32,
              timeoutMs: 30_000,
            }).run(),
          ),
        );
        const show = runs.map((r) => r.summary.find((s) => s.fn === 'randshow'));
        const sum = (f: (s: NonNullable<(typeof show)[number]>) => number) =>
          show.reduce((n, s) => n + (s ? f(s) : 0), 0);
        rows.push({
          mode,
          maxConnections,
          replicas: replicasN,
          poolPerReplica:
            mode === 'naive' ? '10' : `${Math.floor((maxConnections * 0.8) / replicasN)} (budget)`,
          rate,
          ok: sum((s) => s.byClass['2xx']),
          tooManyConnections: sum((s) => s.byCode.DB_TOO_MANY_CONNECTIONS ?? 0),
          otherErrors: sum((s) => s.completed - s.byClass['2xx'] - (s.byCode.DB_TOO_MANY_CONNECTIONS ?? 0)),
          p50Ms: Math.max(...show.map((s) => s?.p50 ?? 0)),
          p99Ms: Math.max(...show.map((s) => s?.p99 ?? 0)),
        });
      } finally {
        await Promise.all(replicas.map((r) => r.drain()));
      }
    }
    return rows;
  } finally {
    await server.close();
  }
}
