/** Where a MySQL came from, in the order the provisioning chain tries. */
export type MysqlOrigin = 'MYSQL_URL' | 'docker' | 'binary';

/** A MySQL server the chain found or started. */
export interface MysqlServer {
  origin: MysqlOrigin;
  /** Admin (root) URL, with the database path set. */
  url: string;
  host: string;
  port: number;
  version: string;
  /** One line for banners and logs, without secrets. */
  description: string;
  /** Stops the server but keeps its data and port (outage tests); absent for MYSQL_URL. */
  stopServer?(): Promise<void>;
  /** Starts it again after stopServer or kill, on the same port. */
  startServer?(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would; absent for MYSQL_URL. */
  kill?(): Promise<void>;
  /** Stops and removes what was started; a no-op for a server that was given. */
  close(): Promise<void>;
}

/** The URL with another database selected; `''` selects none (a connection to the server only). */
export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}
