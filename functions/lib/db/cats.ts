import type { Pool, ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type { RandshowStrategy, StorageEncoding } from '../config.ts';
import { type FunctionMetrics, timed } from '../metrics.ts';
import { classifyDbError } from './pool.ts';

export interface NewCat {
  sourceUrl: string;
  mime: string;
  width: number;
  height: number;
  originalBytes: number;
  sha256: string;
  encoding: StorageEncoding;
  data: Buffer;
}

export interface StoredCat extends Omit<NewCat, 'data'> {
  id: number;
  createdAt: Date;
  storedBytes: number;
  data: Buffer;
}

export interface TableStats {
  rows: number;
  blobBytes: number;
  originalBytes: number;
}

export interface ServerStats {
  version: string;
  threadsConnected: number;
  maxUsedConnections: number;
  maxConnections: number;
  abortedConnects: number;
  connectionErrorsMaxConnections: number;
  uptimeSeconds: number;
}

export interface CatRepository {
  insert(cat: NewCat): Promise<number>;
  /** One random cat, or null when the table is empty. */
  pickRandom(strategy: RandshowStrategy): Promise<StoredCat | null>;
  tableStats(): Promise<TableStats>;
  serverStats(): Promise<ServerStats>;
}

const COLUMNS =
  'id, created_at, source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image';

interface CatRow extends RowDataPacket {
  id: number;
  created_at: Date;
  source_url: string;
  mime: string;
  width: number;
  height: number;
  original_bytes: number;
  stored_bytes: number;
  sha256: string;
  encoding: StorageEncoding;
  image: Buffer;
}

function toCat(row: CatRow): StoredCat {
  return {
    id: Number(row.id),
    createdAt: row.created_at,
    sourceUrl: row.source_url,
    mime: row.mime,
    width: row.width,
    height: row.height,
    originalBytes: row.original_bytes,
    storedBytes: row.stored_bytes,
    sha256: row.sha256,
    encoding: row.encoding,
    data: row.image,
  };
}

const STATUS_NAMES = [
  'Threads_connected',
  'Max_used_connections',
  'Aborted_connects',
  'Connection_errors_max_connections',
  'Uptime',
];

/** All SQL of the functions lives here; callers get domain objects and AppErrors. */
export function createCatRepository(pool: Pool, metrics?: FunctionMetrics): CatRepository {
  async function query<T>(name: string, run: () => Promise<T>): Promise<T> {
    const step = async () => {
      try {
        return await run();
      } catch (err) {
        throw classifyDbError(err);
      }
    };
    return metrics ? timed(metrics.dbQuerySeconds, { query: name }, step) : step();
  }

  async function randomById(): Promise<StoredCat | null> {
    const [[bounds]] = await pool.query<RowDataPacket[]>('SELECT MIN(id) AS lo, MAX(id) AS hi FROM cats');
    if (!bounds || bounds.lo === null) return null;
    const lo = Number(bounds.lo);
    const hi = Number(bounds.hi);
    const pick = lo + Math.floor(Math.random() * (hi - lo + 1));
    const [rows] = await pool.query<CatRow[]>(
      `SELECT ${COLUMNS} FROM cats WHERE id >= ? ORDER BY id LIMIT 1`,
      [pick],
    );
    if (rows[0]) return toCat(rows[0]);
    // Rows above the pick were deleted since MIN/MAX was read: take the highest left.
    const [below] = await pool.query<CatRow[]>(`SELECT ${COLUMNS} FROM cats ORDER BY id DESC LIMIT 1`);
    return below[0] ? toCat(below[0]) : null;
  }

  return {
    insert: (cat) =>
      query('insert', async () => {
        const [result] = await pool.execute<ResultSetHeader>(
          `INSERT INTO cats (source_url, mime, width, height, original_bytes, stored_bytes, sha256, encoding, image)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            cat.sourceUrl,
            cat.mime,
            cat.width,
            cat.height,
            cat.originalBytes,
            cat.data.byteLength,
            cat.sha256,
            cat.encoding,
            cat.data,
          ],
        );
        return result.insertId;
      }),

    pickRandom: (strategy) =>
      query(strategy, async () => {
        if (strategy === 'random-id') return randomById();
        // The talk's query: the whole table, blob included, sorted by a random key.
        const [rows] = await pool.query<CatRow[]>(`SELECT ${COLUMNS} FROM cats ORDER BY RAND() LIMIT 1`);
        return rows[0] ? toCat(rows[0]) : null;
      }),

    tableStats: () =>
      query('table-stats', async () => {
        // stored_bytes avoids reading every blob just to measure it.
        const [[row]] = await pool.query<RowDataPacket[]>(
          'SELECT COUNT(*) AS n, COALESCE(SUM(stored_bytes), 0) AS blob_bytes, COALESCE(SUM(original_bytes), 0) AS original FROM cats',
        );
        return {
          rows: Number(row?.n),
          blobBytes: Number(row?.blob_bytes),
          originalBytes: Number(row?.original),
        };
      }),

    serverStats: () =>
      query('server-stats', async () => {
        const [status] = await pool.query<RowDataPacket[]>(
          `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_NAMES.map(() => '?').join(', ')})`,
          STATUS_NAMES,
        );
        const [[vars]] = await pool.query<RowDataPacket[]>(
          'SELECT @@max_connections AS max_connections, VERSION() AS version',
        );
        const value = (name: string) =>
          Number(
            status.find((r) => String(r.Variable_name).toLowerCase() === name.toLowerCase())?.Value ??
              Number.NaN,
          );
        return {
          version: String(vars?.version),
          threadsConnected: value('Threads_connected'),
          maxUsedConnections: value('Max_used_connections'),
          maxConnections: Number(vars?.max_connections),
          abortedConnects: value('Aborted_connects'),
          connectionErrorsMaxConnections: value('Connection_errors_max_connections'),
          uptimeSeconds: value('Uptime'),
        };
      }),
  };
}
