export type ServerFlavour = 'mysql' | 'mariadb';

/**
 * Puts a server-side time limit on a statement, so the server itself stops a query that
 * runs too long — an abandoned query would otherwise go on after the function gave up.
 * MariaDB: `SET STATEMENT max_statement_time=… FOR …` (seconds, any statement).
 * MySQL 8: the `MAX_EXECUTION_TIME(ms)` optimizer hint, which applies to SELECT only.
 */
export function boundStatement(sql: string, flavour: ServerFlavour, limitMs: number): string {
  if (limitMs <= 0) return sql;
  if (flavour === 'mariadb')
    return `SET STATEMENT max_statement_time=${(limitMs / 1000).toFixed(3)} FOR ${sql}`;
  return sql.replace(/^\s*SELECT\b/i, `SELECT /*+ MAX_EXECUTION_TIME(${Math.round(limitMs)}) */`);
}

export function flavourOf(version: string): ServerFlavour {
  return /mariadb/i.test(version) ? 'mariadb' : 'mysql';
}
