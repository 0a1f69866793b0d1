import path from 'node:path';
import { parseArgs } from 'node:util';
import { FUNCTION_NAMES, type FunctionName } from '../contract/functions.ts';
import { readSecret } from '../functions/lib/config.ts';
import { migrate, passwordSecretName } from '../mysql/migrate.ts';
import { redact } from '../mysql/wait.ts';

const usage = `Usage: npm run db:migrate -- [--database NAME] [--users SECRETS_DIR] [--password-file FILE]

Applies sql/migrations to the server at MYSQL_URL (an admin account), creating the
database if needed. With --users, also creates or updates the least-privilege users
randstore, randshow and dbstats, reading their passwords from the files
SECRETS_DIR/{randstore,randshow,dbstats}-mysql-password. With --password-file, the
admin password comes from that file instead of MYSQL_URL (as in the Kubernetes Job).`;

const { values } = parseArgs({
  options: {
    database: { type: 'string' },
    users: { type: 'string' },
    'password-file': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (values.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
let url = process.env.MYSQL_URL;
if (url && values['password-file']) {
  const u = new URL(url);
  u.password = await readSecret(
    path.dirname(path.resolve(values['password-file'])),
    path.basename(values['password-file']),
  );
  url = u.toString();
}
if (!url) {
  process.stderr.write(
    `MYSQL_URL is not set: point it at the server, e.g. mysql://root:PASSWORD@127.0.0.1:3306/systembreaker\n\n${usage}\n`,
  );
  process.exit(2);
}
const database = values.database ?? (new URL(url).pathname.slice(1) || 'systembreaker');
let users: Record<FunctionName, string> | undefined;
if (values.users) {
  const dir = path.resolve(values.users);
  const entries = await Promise.all(
    FUNCTION_NAMES.map(async (u) => [u, await readSecret(dir, passwordSecretName(u))] as const),
  );
  users = Object.fromEntries(entries) as Record<FunctionName, string>;
}
const result = await migrate(url, { database, ...(users ? { users } : {}) });
process.stdout.write(
  `${redact(url)}: database ${database}; applied ${result.applied.length ? result.applied.join(', ') : 'nothing new'}` +
    `${result.alreadyApplied.length ? ` (already applied: ${result.alreadyApplied.join(', ')})` : ''}` +
    `${users ? '; users randstore, randshow, dbstats up to date' : ''}\n`,
);
