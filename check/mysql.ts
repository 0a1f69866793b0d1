import { setTimeout as sleep } from 'node:timers/promises';
import mysql from 'mysql2/promise';
import type { DbStats, ServerStats, TableStats } from '../contract/functions.ts';
import { type ReadRows, readServerStats, readTableStats } from '../functions/lib/db/cats.ts';
import { describeAnswer, httpGet, is2xx, under } from './http.ts';
import { formatNumber } from './perfdata.ts';
import { type Gathered, type Reading, settle } from './reading.ts';
import { CRITICAL, PluginError, UNKNOWN } from './state.ts';

export const MYSQL_METRICS = ['connections', 'aborted', 'refused', 'rows', 'bytes', 'longest-query'] as const;
export type MysqlMetric = (typeof MYSQL_METRICS)[number];

/** Where the numbers come from: dbstats through a gateway, or MySQL itself. */
export type MysqlSource =
  | { kind: 'dbstats'; gateway: URL }
  | { kind: 'direct'; url: URL; password: string; timeoutMs: number };

/** One reading of the server and the cats table; longestQuery undefined: the source does not report it. */
interface Snapshot {
  server: Omit<ServerStats, 'longestQuery'> & { longestQuery?: ServerStats['longestQuery'] };
  table: TableStats;
  at: number;
}

interface Reader {
  read(): Promise<Snapshot>;
  close(): void;
}

function dbstatsReader(gateway: URL, signal: AbortSignal): Reader {
  const url = under(gateway, 'function/dbstats');
  return {
    async read() {
      const answer = await httpGet(url, signal);
      if (!is2xx(answer.status))
        throw new PluginError(CRITICAL, `dbstats: GET ${url.pathname} answered ${describeAnswer(answer)}`);
      let stats: DbStats;
      try {
        stats = JSON.parse(answer.body) as DbStats;
      } catch {
        stats = {} as DbStats;
      }
      if (typeof stats.server?.threadsConnected !== 'number')
        throw new PluginError(UNKNOWN, `GET ${url.pathname} answered something that is not dbstats' report`);
      return { server: stats.server, table: stats, at: performance.now() };
    },
    close() {},
  };
}

async function directReader(source: Extract<MysqlSource, { kind: 'direct' }>, signal: AbortSignal) {
  const { url } = source;
  const where = `MySQL at ${url.host} as ${decodeURIComponent(url.username)}`;
  const failed = (err: unknown) => {
    if (signal.aborted) return signal.reason as Error;
    const e = err as { code?: string; message?: string };
    return new PluginError(CRITICAL, `${where}: ${[e.code, e.message].filter(Boolean).join(' ')}`);
  };
  const pending = mysql.createConnection({
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: source.password,
    database: decodeURIComponent(url.pathname.slice(1)),
    connectTimeout: source.timeoutMs,
  });
  // A connection that opens after the timeout is closed at once; one open is cut when it fires.
  pending.then(
    (c) => (signal.aborted ? c.destroy() : signal.addEventListener('abort', () => c.destroy())),
    () => {}, // reported below
  );
  const conn = await pending.catch((err: unknown) => {
    throw failed(err);
  });
  const read: ReadRows = async <T>(_name: string, sql: string, values: unknown[]) =>
    (await conn.query(sql, values))[0] as T;
  return {
    async read() {
      try {
        // One after the other, as dbstats does, so the count is not among the statements running.
        const server = await readServerStats(read);
        return { server, table: await readTableStats(read), at: performance.now() };
      } catch (err) {
        throw failed(err);
      }
    },
    close: () => conn.destroy(),
  } satisfies Reader;
}

/** Per second, from two readings of a counter; a counter that went down restarted with the server. */
const perSecond = (before: number, after: number, seconds: number) =>
  (after >= before ? after - before : after) / seconds;

const rounded = (n: number, places = 2) => formatNumber(Number(n.toFixed(places)));

/** 30410 → 29.7 KiB. */
function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const power = Math.min(units.length - 1, Math.max(0, Math.floor(Math.log(n) / Math.log(1024))));
  return `${rounded(n / 1024 ** power, 1)} ${units[power]}`;
}

function counterReadings(first: Snapshot, second: Snapshot): Reading[] {
  const seconds = (second.at - first.at) / 1000;
  const over = `over ${rounded(seconds, 1)} s`;
  const aborted = perSecond(first.server.abortedConnects, second.server.abortedConnects, seconds);
  const refused = perSecond(
    first.server.connectionErrorsMaxConnections,
    second.server.connectionErrorsMaxConnections,
    seconds,
  );
  return [
    {
      metric: 'aborted',
      perf: { label: 'aborted', value: aborted, uom: '', min: 0 },
      text: `${rounded(aborted)} aborted connects/s ${over}`,
    },
    {
      metric: 'refused',
      perf: { label: 'refused', value: refused, uom: '', min: 0 },
      text: `${rounded(refused)} connections/s refused at max_connections ${over}`,
    },
  ];
}

function longestQueryReading(server: Snapshot['server']): Reading {
  const longest = server.longestQuery;
  const perf = { label: 'longest-query', value: longest?.seconds ?? 0, uom: 's', min: 0 } as const;
  if (longest === undefined)
    return {
      metric: 'longest-query',
      perf: { ...perf, value: undefined },
      text: 'the longest query is not reported (a dbstats older than this check?)',
      unknown: 'dbstats does not report the longest query: deploy the dbstats of this release',
    };
  return {
    metric: 'longest-query',
    perf,
    text: longest
      ? `the longest statement has run ${rounded(longest.seconds, 1)} s: ${longest.statement}`
      : 'no statement of another connection runs on the database',
  };
}

function readings(first: Snapshot, second: Snapshot): Reading[] {
  const { server, table } = second;
  const inUse = (server.threadsConnected / server.maxConnections) * 100;
  return [
    {
      metric: 'connections',
      perf: { label: 'connections', value: inUse, uom: '%', min: 0, max: 100 },
      extra: [
        { label: 'threads', value: server.threadsConnected, uom: '', min: 0, max: server.maxConnections },
      ],
      text: `${server.threadsConnected} of ${server.maxConnections} connections in use (${rounded(inUse, 1)}%)`,
    },
    ...counterReadings(first, second),
    {
      metric: 'rows',
      perf: { label: 'rows', value: table.rows, uom: '', min: 0 },
      text: `${table.rows} ${table.rows === 1 ? 'cat' : 'cats'} stored`,
    },
    {
      metric: 'bytes',
      perf: { label: 'bytes', value: table.blobBytes, uom: 'B', min: 0 },
      text: `${bytes(table.blobBytes)} in the cats table`,
    },
    longestQueryReading(server),
  ];
}

/** Two readings `windowS` apart: the counters' rates from both, the rest from the second. */
export async function gatherMysql(
  source: MysqlSource,
  windowS: number,
  signal: AbortSignal,
): Promise<Gathered> {
  return settle(
    MYSQL_METRICS,
    (async () => {
      const reader =
        source.kind === 'dbstats'
          ? dbstatsReader(source.gateway, signal)
          : await directReader(source, signal);
      try {
        const first = await reader.read();
        await sleep(windowS * 1000, undefined, { signal }).catch(() => {
          throw signal.reason;
        });
        return readings(first, await reader.read());
      } finally {
        reader.close();
      }
    })(),
  );
}
