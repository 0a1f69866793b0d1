import type { TestProject } from 'vitest/node';
import { provisionMysql } from '../../mysql/provision.ts';
import type { MysqlServer } from '../../mysql/server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    mysqlUrl: string;
    mysqlOrigin: string;
    mysqlImage: string;
  }
}

let server: MysqlServer | undefined;

/** One throwaway MySQL for the integration suite; each test file makes its own database in it. */
export async function setup(project: TestProject): Promise<void> {
  server = await provisionMysql({
    database: 'systembreaker_test',
    log: (line) => process.stderr.write(`[integration] ${line}\n`),
  });
  process.stderr.write(
    `[integration] MySQL for the tests: ${server.description} (origin: ${server.origin})\n`,
  );
  project.provide('mysqlUrl', server.url);
  project.provide('mysqlOrigin', server.origin);
  project.provide('mysqlImage', process.env.MYSQL_IMAGE ?? '');
}

export async function teardown(): Promise<void> {
  await server?.close();
}
