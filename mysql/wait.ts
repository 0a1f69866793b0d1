import mysql from 'mysql2/promise';

/** Polls until MySQL accepts a login and answers a query; returns its VERSION(). */
export async function waitForMysql(url: string, timeoutMs: number, isAlive: () => boolean = () => true) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline && isAlive()) {
    try {
      const conn = await mysql.createConnection({ uri: url, connectTimeout: 2000 });
      try {
        const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT VERSION() AS v');
        return String(row?.v);
      } finally {
        await conn.end();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const reason = (lastError as Error | undefined)?.message ?? 'the server process exited';
  throw new Error(`MySQL at ${redact(url)} did not become ready in ${timeoutMs} ms: ${reason}`);
}

/** The URL without its password, for messages and logs. */
export function redact(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}
