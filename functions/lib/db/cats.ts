import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import type {
  LongestQuery,
  ServerStats,
  StorageEncoding,
  Strategy,
  TableStats,
} from '../../../contract/functions.ts';
import type { Call } from '../call.ts';
import { flavourOf, type ServerFlavour } from './bounded.ts';
import type { Database } from './database.ts';

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

/** Every method keeps to the request's Call when given one (see Database). */
export interface CatRepository {
  insert(cat: NewCat, call?: Call): Promise<number>;
  /** One random cat, or null when the table is empty. */
  pickRandom(strategy: Strategy, call?: Call): Promise<StoredCat | null>;
  /** The cat with this id, or null. */
  findById(id: number, call?: Call): Promise<StoredCat | null>;
  tableStats(call?: Call): Promise<TableStats>;
  serverStats(call?: Call): Promise<ServerStats>;
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
  'Threads_running',
  'Max_used_connections',
  'Aborted_connects',
  'Connection_errors_max_connections',
  'Uptime',
];

/**
 * The randshow strategies. Each selects one whole row; they differ in what the server reads
 * to find it.
 */
const PICK_SQL: Record<Exclude<Strategy, 'random-id'>, string> = {
  // The talk's query: every row, blob included, copied into a temporary table and sorted.
  'order-by-rand': `SELECT ${COLUMNS} FROM cats ORDER BY RAND() LIMIT 1`,
  // Sorts only primary keys (no blobs), then reads one row by key: exactly uniform.
  'pk-subquery': `SELECT ${COLUMNS.replace(/(\w+)/g, 'c.$1')} FROM cats c JOIN (SELECT id FROM cats ORDER BY RAND() LIMIT 1) pick ON pick.id = c.id`,
};

/** random-id: a random id between MIN and MAX, then the first row at or above it. */
async function randomById(db: Database, call?: Call): Promise<StoredCat | null> {
  const [bounds] = await db.bounded<RowDataPacket[]>(
    'random-id-bounds',
    'SELECT MIN(id) AS lo, MAX(id) AS hi FROM cats',
    [],
    call,
  );
  if (!bounds || bounds.lo === null) return null;
  const lo = Number(bounds.lo);
  const hi = Number(bounds.hi);
  const pick = lo + Math.floor(Math.random() * (hi - lo + 1));
  const [row] = await db.bounded<CatRow[]>(
    'random-id',
    `SELECT ${COLUMNS} FROM cats WHERE id >= ? ORDER BY id LIMIT 1`,
    [pick],
    call,
  );
  if (row) return toCat(row);
  // Rows above the pick were deleted since MIN/MAX was read: take the highest left.
  const [below] = await db.bounded<CatRow[]>(
    'random-id',
    `SELECT ${COLUMNS} FROM cats ORDER BY id DESC LIMIT 1`,
    [],
    call,
  );
  return below ? toCat(below) : null;
}

async function insert(db: Database, cat: NewCat, call?: Call): Promise<number> {
  const result = await db.statement<ResultSetHeader>(
    'insert',
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
    true,
    call,
  );
  return result.insertId;
}

/**
 * Runs one read-only statement and resolves with its rows. The functions pass their
 * Database's bounded() (time limit, the request's deadline, metrics); the monitoring plugin
 * (check/) a plain mysql2 connection's query(), so both read the server the same way.
 */
export type ReadRows = <T>(name: string, sql: string, values: unknown[]) => Promise<T>;

/** Rows and bytes in the cats table. */
export async function readTableStats(read: ReadRows): Promise<TableStats> {
  // stored_bytes avoids reading every blob just to measure it.
  const [row] = await read<RowDataPacket[]>(
    'table-stats',
    'SELECT COUNT(*) AS n, COALESCE(SUM(stored_bytes), 0) AS blob_bytes, COALESCE(SUM(original_bytes), 0) AS original FROM cats',
    [],
  );
  return { rows: Number(row?.n), blobBytes: Number(row?.blob_bytes), originalBytes: Number(row?.original) };
}

/** How long a statement has run, in seconds: MariaDB counts milliseconds too, MySQL 8 whole seconds only. */
const RUNNING_SECONDS: Record<ServerFlavour, string> = { mariadb: 'TIME_MS / 1000', mysql: 'TIME' };
const STATEMENT_CHARS = 120;

/**
 * The statement of another connection on this database that has run longest, or null. Other
 * users' threads show only with the PROCESS privilege (sql/users.sql grants it to dbstats);
 * without it the list holds the asker's own threads, which are left out, so it reads null.
 */
async function longestQuery(read: ReadRows, flavour: ServerFlavour): Promise<LongestQuery | null> {
  const [row] = await read<RowDataPacket[]>(
    'longest-query',
    `SELECT ${RUNNING_SECONDS[flavour]} AS running_s, LEFT(INFO, ${STATEMENT_CHARS + 1}) AS info_head
     FROM information_schema.PROCESSLIST
     WHERE ID <> CONNECTION_ID() AND DB = DATABASE() AND COMMAND = 'Query' AND INFO IS NOT NULL
     ORDER BY running_s DESC LIMIT 1`,
    [],
  );
  if (!row) return null;
  const statement = String(row.info_head);
  return {
    seconds: Number(row.running_s),
    statement: statement.length > STATEMENT_CHARS ? `${statement.slice(0, STATEMENT_CHARS - 1)}…` : statement,
  };
}

/** The server's connection counters and limits, and the longest statement running on this database. */
export async function readServerStats(read: ReadRows): Promise<ServerStats> {
  const status = await read<RowDataPacket[]>(
    'server-stats',
    `SHOW GLOBAL STATUS WHERE Variable_name IN (${STATUS_NAMES.map(() => '?').join(', ')})`,
    STATUS_NAMES,
  );
  const [vars] = await read<RowDataPacket[]>(
    'server-stats',
    'SELECT @@max_connections AS max_connections, VERSION() AS version',
    [],
  );
  const value = (name: string) =>
    Number(
      status.find((r) => String(r.Variable_name).toLowerCase() === name.toLowerCase())?.Value ?? Number.NaN,
    );
  const version = String(vars?.version);
  return {
    version,
    threadsConnected: value('Threads_connected'),
    // Needs no privilege, and counts every client's statements, whatever their database.
    queriesRunning: Math.max(0, value('Threads_running') - 1),
    maxUsedConnections: value('Max_used_connections'),
    maxConnections: Number(vars?.max_connections),
    abortedConnects: value('Aborted_connects'),
    connectionErrorsMaxConnections: value('Connection_errors_max_connections'),
    uptimeSeconds: value('Uptime'),
    longestQuery: await longestQuery(read, flavourOf(version)),
  };
}

/** Reads as a function makes them: under the query time limit and the request's Call. */
function boundedReads(db: Database, call?: Call): ReadRows {
  return <T>(name: string, sql: string, values: unknown[]) => db.bounded<T>(name, sql, values, call);
}

/** All SQL of the functions lives here; callers get domain objects and AppErrors. */
export function createCatRepository(db: Database): CatRepository {
  return {
    insert: (cat, call) => insert(db, cat, call),
    async pickRandom(strategy, call) {
      if (strategy === 'random-id') return randomById(db, call);
      const [row] = await db.bounded<CatRow[]>(strategy, PICK_SQL[strategy], [], call);
      return row ? toCat(row) : null;
    },
    async findById(id, call) {
      const [row] = await db.bounded<CatRow[]>(
        'by-id',
        `SELECT ${COLUMNS} FROM cats WHERE id = ?`,
        [id],
        call,
      );
      return row ? toCat(row) : null;
    },
    tableStats: (call) => readTableStats(boundedReads(db, call)),
    serverStats: (call) => readServerStats(boundedReads(db, call)),
  };
}
