import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { getContainerRuntimeClient, ImageName } from 'testcontainers';
import { describe, expect, inject, it } from 'vitest';
import { DEFAULT_MYSQL_IMAGE } from '../../mysql/container.ts';
import { MysqlProvisionError, provisionMysql } from '../../mysql/provision.ts';
import type { MysqlServer } from '../../mysql/server.ts';
import { alive } from '../support/process.ts';

// No registry answers here: the container path runs when its image is already present.
const image = process.env.MYSQL_IMAGE || DEFAULT_MYSQL_IMAGE;
const imagePresent = await getContainerRuntimeClient().then(
  (client) => client.image.exists(ImageName.fromString(image)),
  () => false,
);

async function selectOne(url: string): Promise<number> {
  const conn = await mysql.createConnection({ uri: url });
  const [[row]] = await conn.query<mysql.RowDataPacket[]>('SELECT 1 AS one');
  await conn.end();
  return Number(row?.one);
}

const portOpen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

describe('MySQL provisioning chain', () => {
  it('uses MYSQL_URL when it is set, and starts nothing', async () => {
    const server = await provisionMysql({ env: { MYSQL_URL: inject('mysqlUrl') }, database: 'given' });
    expect(server.origin).toBe('MYSQL_URL');
    expect(server.description).not.toContain(new URL(inject('mysqlUrl')).password || '\u0000');
    await server.close();
    expect(await selectOne(inject('mysqlUrl'))).toBe(1);
  });

  it.skipIf(!imagePresent)('starts a container with testcontainers and removes it on close', async () => {
    const server = await provisionMysql({ env: { MYSQL_PROVISION: 'docker', MYSQL_IMAGE: image } });
    expect(server.origin).toBe('docker');
    expect(await selectOne(server.url)).toBe(1);
    await server.close();
    expect(await portOpen(server.port)).toBe(false);
  });

  it('starts a private mariadbd on 127.0.0.1 and removes its datadir on close', async () => {
    const server = await provisionMysql({ env: { MYSQL_PROVISION: 'binary', PATH: process.env.PATH ?? '' } });
    expect(server.origin).toBe('binary');
    expect(server.host).toBe('127.0.0.1');
    expect(await selectOne(server.url)).toBe(1);
    const dataDir = /data in (\S+)/.exec(server.description)?.[1] as string;
    await server.close();
    expect(await portOpen(server.port)).toBe(false);
    await expect(access(dataDir)).rejects.toThrow();
  });

  it('falls through to the binary when no Docker engine answers, and says why', async () => {
    const lines: string[] = [];
    const server = await provisionMysql({
      env: { PATH: process.env.PATH ?? '' },
      log: (l) => lines.push(l),
      startContainer: () => Promise.reject(new Error('Could not find a working container runtime strategy')),
    });
    await server.close();
    expect(server.origin).toBe('binary');
    expect(lines.join('\n')).toContain('no Docker engine answers (start dockerd, or set DOCKER_HOST)');
  });

  it('says in one line that Docker cannot pull the image, not the registry error, and tries the binary', async () => {
    const lines: string[] = [];
    const server = await provisionMysql({
      env: { PATH: process.env.PATH ?? '', MYSQL_IMAGE: 'mysql:8.4.3' },
      log: (l) => lines.push(l),
      // What Docker answers offline when the image is absent.
      startContainer: () =>
        Promise.reject(
          new Error(
            '(HTTP code 500) server error - Get "https://registry-1.docker.io/v2/": dial tcp: lookup registry-1.docker.io on 127.0.0.53:53: no such host',
          ),
        ),
    });
    await server.close();
    expect(server.origin).toBe('binary');
    expect(lines.join('\n')).not.toContain('HTTP code 500');
    expect(lines).toContain(
      'MySQL: Docker has no mysql:8.4.3 image and cannot pull it (MYSQL_IMAGE names another) → trying a mariadbd/mysqld binary',
    );
  });

  it('fails with an error that lists the three ways when nothing works', async () => {
    const attempt = provisionMysql({
      env: { MYSQL_SEARCH_PATH: '/nonexistent' },
      startContainer: () => Promise.reject(new Error('Could not find a working container runtime strategy')),
    });
    await expect(attempt).rejects.toBeInstanceOf(MysqlProvisionError);
    await expect(attempt).rejects.toThrow(
      /MYSQL_URL is not set[\s\S]*no Docker engine answers[\s\S]*no mariadbd or mysqld on PATH[\s\S]*1\. set MYSQL_URL[\s\S]*2\. run a Docker engine[\s\S]*3\. install a MySQL or MariaDB server binary/,
    );
  });

  it('stops a private server an earlier start left on the datadir, and says that crash recovery ran', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sb-stale-'));
    const env = { MYSQL_PROVISION: 'binary', PATH: process.env.PATH ?? '' };
    const servers: MysqlServer[] = [];
    const start = async (log?: (l: string) => void) => {
      const server = await provisionMysql({ env, dataDir, ...(log ? { log } : {}) });
      servers.push(server);
      return server;
    };
    try {
      // An earlier start whose process was killed: its server is never closed.
      await start();
      const stalePid = Number((await readFile(path.join(dataDir, 'mariadbd', 'mysqld.pid'), 'utf8')).trim());
      const lines: string[] = [];
      const second = await start((l) => lines.push(l));
      expect(lines.join('\n')).toContain(`a server from an earlier start (pid ${stalePid}) still runs on`);
      expect(alive(stalePid)).toBe(false);
      expect(await selectOne(second.url)).toBe(1);
      // A server killed outright after a write: the next start recovers its data and says so.
      const conn = await mysql.createConnection({ uri: second.url });
      await conn.query('CREATE TABLE survived (id INT PRIMARY KEY) ENGINE=InnoDB');
      await conn.query('INSERT INTO survived VALUES (1), (2)');
      await conn.end();
      await second.kill?.();
      const after: string[] = [];
      const third = await start((l) => after.push(l));
      expect(after.join('\n')).toContain('InnoDB crash recovery ran');
      const check = await mysql.createConnection({ uri: third.url });
      const [rows] = await check.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM survived');
      await check.end();
      expect(Number(rows[0]?.n)).toBe(2);
    } finally {
      // Whatever failed, no server is left running (close is a no-op for one already stopped).
      for (const server of servers) await server.close().catch(() => {});
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown MYSQL_PROVISION value', async () => {
    await expect(provisionMysql({ env: { MYSQL_PROVISION: 'cloud' } })).rejects.toThrow(
      'MYSQL_PROVISION must be one of auto, url, docker, binary; got "cloud"',
    );
  });
});
