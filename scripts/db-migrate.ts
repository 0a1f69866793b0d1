import path from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTION_NAMES, type FunctionName } from '../contract/functions.ts';
import { runMain, UsageError } from '../functions/lib/cli.ts';
import { readSecret } from '../functions/lib/config.ts';
import { migrate, passwordSecretName } from '../mysql/migrate.ts';
import { redact } from '../mysql/wait.ts';

const usage = `Usage: npm run db:migrate -- [--database NAME] [--users SECRETS_DIR] [--password-file FILE]

Applies sql/migrations to the server at MYSQL_URL (an admin account), creating the
database if needed. With --users, also creates or updates the least-privilege users
randstore, randshow and dbstats, reading their passwords from the files
SECRETS_DIR/{randstore,randshow,dbstats}-mysql-password. With --password-file, the
admin password comes from that file instead of MYSQL_URL (as in the Kubernetes Job).`;

/** A password file the migration needs; its absence says which file and what it must hold. */
const passwordFile = (dir: string, name: string, what: string) =>
  readSecret(dir, name, `it must hold ${what}`);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      database: { type: 'string' },
      users: { type: 'string' },
      'password-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      verbose: { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  let url = process.env.MYSQL_URL;
  if (!url)
    throw new UsageError(
      `MYSQL_URL is not set: point it at the server, e.g. mysql://root:PASSWORD@127.0.0.1:3306/systembreaker\n\n${usage}`,
    );
  if (values['password-file']) {
    const file = path.resolve(values['password-file']);
    const u = new URL(url);
    u.password = await passwordFile(path.dirname(file), path.basename(file), 'the admin password');
    url = u.toString();
  }
  const database = values.database ?? (new URL(url).pathname.slice(1) || 'systembreaker');
  let users: Record<FunctionName, string> | undefined;
  if (values.users) {
    const dir = path.resolve(values.users);
    const entries = await Promise.all(
      FUNCTION_NAMES.map(
        async (u) =>
          [u, await passwordFile(dir, passwordSecretName(u), `the password of the MySQL user ${u}`)] as const,
      ),
    );
    users = Object.fromEntries(entries) as Record<FunctionName, string>;
  }
  const result = await migrate(url, { database, ...(users ? { users } : {}) }).catch((err: unknown) => {
    const e = err as { code?: string; message?: string };
    throw new Error(`${redact(url)}: ${e.code ? `${e.code}: ` : ''}${e.message ?? String(err)}`);
  });
  process.stdout.write(
    `${redact(url)}: database ${database}; applied ${result.applied.length ? result.applied.join(', ') : 'nothing new'}` +
      `${result.alreadyApplied.length ? ` (already applied: ${result.alreadyApplied.join(', ')})` : ''}` +
      `${users ? '; users randstore, randshow, dbstats up to date' : ''}\n`,
  );
}

await runMain(main);
