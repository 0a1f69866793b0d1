import { Gauge, type Registry } from 'prom-client';
import { type Logger, rateLimitedWarn } from '../log.ts';
import type { CatRepository } from './cats.ts';

/** Each gauge: its name, its help, and the value of a scrape's reading it shows. */
const GAUGES: ReadonlyArray<[name: string, help: string, key: string]> = [
  ['systembreaker_mysql_threads_connected', 'MySQL Threads_connected.', 'threads'],
  [
    'systembreaker_mysql_queries_running',
    'Statements running on MySQL now, from every client (Threads_running, the scrape’s own not counted).',
    'running',
  ],
  ['systembreaker_mysql_max_connections', 'MySQL max_connections.', 'max'],
  ['systembreaker_mysql_max_used_connections', 'MySQL Max_used_connections.', 'maxUsed'],
  ['systembreaker_mysql_aborted_connects', 'MySQL Aborted_connects (a counter on the server).', 'aborted'],
  [
    'systembreaker_mysql_connection_errors_max_connections',
    'MySQL Connection_errors_max_connections: connections refused at max_connections (a counter on the server).',
    'refused',
  ],
  [
    'systembreaker_mysql_longest_query_seconds',
    'How long the longest statement of another connection on the project’s database has run (0: none runs).',
    'longest',
  ],
  ['systembreaker_cats_rows', 'Rows in the cats table.', 'rows'],
  ['systembreaker_cats_blob_bytes', 'Bytes in the cats LONGBLOBs.', 'blob'],
];

/**
 * The MySQL server's own counters, read at scrape time by the dbstats function, so the
 * alert on connections near max_connections and the dashboard need no separate exporter.
 */
export function registerServerMetrics(
  registry: Registry,
  cats: Pick<CatRepository, 'serverStats' | 'tableStats'>,
  log: Logger,
): void {
  const failed = rateLimitedWarn(
    log,
    'could not read the MySQL counters for a scrape; the gauges are left out',
  );
  const registers = [registry];
  let pending: Promise<void> | undefined;
  const values = new Map<string, number>();
  // One query round for all gauges of a scrape, not one per gauge.
  const refresh = () => {
    // One after the other, so the table count is not among the queries the status counts.
    pending ??= cats
      .serverStats()
      .then(async (server) => [server, await cats.tableStats()] as const)
      .then(([server, table]) => {
        values.set('threads', server.threadsConnected);
        values.set('running', server.queriesRunning);
        values.set('max', server.maxConnections);
        values.set('maxUsed', server.maxUsedConnections);
        values.set('aborted', server.abortedConnects);
        values.set('refused', server.connectionErrorsMaxConnections);
        values.set('longest', server.longestQuery?.seconds ?? 0);
        values.set('rows', table.rows);
        values.set('blob', table.blobBytes);
      })
      .catch((err: unknown) => {
        failed({ err });
        values.clear();
      })
      .finally(() => setTimeout(() => (pending = undefined), 500).unref());
    return pending;
  };
  const gauge = (name: string, help: string, key: string) =>
    new Gauge({
      name,
      help,
      registers,
      async collect() {
        await refresh();
        const v = values.get(key);
        if (v === undefined || Number.isNaN(v)) this.reset();
        else this.set(v);
      },
    });
  for (const [name, help, key] of GAUGES) gauge(name, help, key);
}
