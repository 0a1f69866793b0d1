import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfigError,
  mysqlSettingsFromUrl,
  parseConfig,
  readSecret,
  resolveMysqlSettings,
  shutdownGraceMs,
  VARIABLES,
  WATCHDOG_GRACE_MARGIN_MS,
} from '../../../functions/lib/config.ts';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('parseConfig accepted the environment');
}

describe('configuration defaults and overrides', () => {
  it('defaults: the talk’s behaviour on a cluster', () => {
    const c = parseConfig({});
    expect(c.http_port).toBe(3000);
    expect(c.CAT_SOURCE_URL).toBe('https://cataas.com/cat');
    expect(c.STORAGE_ENCODING).toBe('escaped-base64');
    expect(c.RANDSHOW_STRATEGY).toBe('order-by-rand');
    expect(c.SECRETS_DIR).toBe('/var/openfaas/secrets');
    expect(c.MYSQL_PASSWORD_SECRET).toBe('mysql-password');
    expect(c.DB_POOL_SIZE).toBe(10);
    expect(c.IMAGE_OVERSIZE).toBe('reject');
    expect(c.MYSQL_URL).toBeUndefined();
  });

  it('overrides: every default can be replaced from the environment', () => {
    const c = parseConfig({
      http_port: '8081',
      CAT_SOURCE_URL: 'http://127.0.0.1:8090/cat',
      STORAGE_ENCODING: 'raw',
      RANDSHOW_STRATEGY: 'random-id',
      DB_POOL_SIZE: '3',
      IMAGE_OVERSIZE: 'resize',
      MYSQL_URL: 'mysql://u:p@db:3307/cats',
    });
    expect(c).toMatchObject({
      http_port: 8081,
      CAT_SOURCE_URL: 'http://127.0.0.1:8090/cat',
      STORAGE_ENCODING: 'raw',
      RANDSHOW_STRATEGY: 'random-id',
      DB_POOL_SIZE: 3,
      IMAGE_OVERSIZE: 'resize',
      MYSQL_URL: 'mysql://u:p@db:3307/cats',
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseConfig({ DB_POOL_SIZE: '' }).DB_POOL_SIZE).toBe(10);
  });

  it('every variable has a default that parses, except FUNCTION, MYSQL_URL, the watchdog’s and node’s own and those whose absence means "derived"', () => {
    const without = Object.entries(VARIABLES)
      .filter(([, spec]) => spec.default === undefined)
      .map(([name]) => name);
    expect(without.sort()).toEqual([
      'DB_QUEUE_LIMIT',
      'FUNCTION',
      'MYSQL_URL',
      'NODE_OPTIONS',
      'SHUTDOWN_GRACE_MS',
      'exec_timeout',
      'healthcheck_interval',
      'write_timeout',
    ]);
  });
});

describe('shutdown grace', () => {
  it('default: none outside of-watchdog, so the local gateway’s replicas drain at once', () => {
    expect(shutdownGraceMs(parseConfig({}))).toBe(0);
  });

  it('default under of-watchdog: its healthcheck_interval plus a margin, else its write_timeout', () => {
    expect(shutdownGraceMs(parseConfig({ healthcheck_interval: '5s', write_timeout: '65s' }))).toBe(
      5000 + WATCHDOG_GRACE_MARGIN_MS,
    );
    expect(shutdownGraceMs(parseConfig({ write_timeout: '10s' }))).toBe(10_000 + WATCHDOG_GRACE_MARGIN_MS);
  });

  it('override: SHUTDOWN_GRACE_MS wins, 0 included', () => {
    expect(shutdownGraceMs(parseConfig({ SHUTDOWN_GRACE_MS: '0', healthcheck_interval: '5s' }))).toBe(0);
    expect(shutdownGraceMs(parseConfig({ SHUTDOWN_GRACE_MS: '2500' }))).toBe(2500);
  });

  it('reads durations as of-watchdog does: whole seconds or Go durations', () => {
    const ms = (v: string) => parseConfig({ healthcheck_interval: v }).healthcheck_interval;
    expect(ms('5')).toBe(5000);
    expect(ms('500ms')).toBe(500);
    expect(ms('1m30s')).toBe(90_000);
    expect(ms('1.5s')).toBe(1500);
    expect(problemsOf({ healthcheck_interval: '5 seconds' })).toEqual([
      'healthcheck_interval must be a Go duration (5s, 500ms, 1m) or whole seconds; got "5 seconds"',
    ]);
  });
});

describe('bad configuration', () => {
  it('names the variable, what is allowed and what it got', () => {
    expect(problemsOf({ DB_POOL_SIZE: 'lots' })).toEqual(['DB_POOL_SIZE must be integer 1–1000; got "lots"']);
    expect(problemsOf({ STORAGE_ENCODING: 'base64' })).toEqual([
      'STORAGE_ENCODING must be escaped-base64 | raw; got "base64"',
    ]);
  });

  it('reports every bad variable at once', () => {
    const problems = problemsOf({ http_port: '70000', RANDSHOW_STRATEGY: 'fast', DB_POOL_SIZE: '0' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/http_port.*"70000"/);
  });

  it('refuses a cat source that is not http or https', () => {
    expect(problemsOf({ CAT_SOURCE_URL: 'file:///etc/passwd' })[0]).toMatch(
      /^CAT_SOURCE_URL must be an http/,
    );
  });

  it('requires FUNCTION when the caller needs it', () => {
    expect(() => parseConfig({}, ['FUNCTION'])).toThrow(
      /FUNCTION is required: allowed randstore \| randshow \| dbstats/,
    );
  });
});

describe('secrets', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'sb-secrets-'));
    await writeFile(path.join(dir, 'mysql-password'), 's3cret!\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the password from the secret file, without its trailing newline', async () => {
    expect(await readSecret(dir, 'mysql-password')).toBe('s3cret!');
    const settings = await resolveMysqlSettings(
      parseConfig({ SECRETS_DIR: dir, MYSQL_HOST: 'db', MYSQL_USER: 'randshow' }),
    );
    expect(settings).toEqual({
      host: 'db',
      port: 3306,
      user: 'randshow',
      password: 's3cret!',
      database: 'systembreaker',
    });
  });

  it('says how to create a missing secret', async () => {
    await expect(readSecret(dir, 'nope')).rejects.toThrow(
      /secret nope could not be read .*faas-cli secret create nope/,
    );
  });

  it('takes everything from MYSQL_URL for local use, without a secret file', async () => {
    const settings = await resolveMysqlSettings(
      parseConfig({ MYSQL_URL: 'mysql://root:p%40ss@127.0.0.1:3307/cats' }),
    );
    expect(settings).toEqual({
      host: '127.0.0.1',
      port: 3307,
      user: 'root',
      password: 'p@ss',
      database: 'cats',
    });
    expect(mysqlSettingsFromUrl('mysql://u@h').port).toBe(3306);
  });
});
