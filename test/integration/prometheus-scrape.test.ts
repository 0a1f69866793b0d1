import { type ChildProcess, spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import { parseStack } from '../../gateway/stack.ts';
import { K6_RW_METRICS } from '../../loadgen/k6/operator.ts';
import { freePort } from '../../mysql/net.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { familyOf, queriedMetrics, queries } from '../support/monitoring.ts';
import { collectOutput, type FunctionProcess, ROOT, spawnFunction } from '../support/process.ts';
import { type Pod, type PrometheusConfig, withPodsAsFiles } from '../support/prometheus.ts';
import { findTool } from '../support/tools.ts';

const prometheus = findTool('PROMETHEUS_BIN', ['prometheus'], 'REQUIRE_PROMETHEUS');

/**
 * A cluster in miniature on loopback: each "pod" has an address of its own in 127.0.0.0/8,
 * so the ports the manifests name (8080 for a function, 8082 for the gateway) are the ports
 * that are scraped. Discovery is the only part played: Kubernetes pod discovery is swapped for
 * files holding the targets it would find (Debian's Prometheus has no Kubernetes discovery);
 * the relabelling, the scrapes and the rules are the real Prometheus's.
 */
const subnet = `127.${randomInt(100, 250)}.${randomInt(1, 250)}`;
const ip = (n: number) => `${subnet}.${n}`;

let db: TestDatabase;
let work: string;
let gatewayPod: Server;
let prom: ChildProcess | undefined;
let promUrl: string;
let promOutput: () => string = () => '';
const functions: FunctionProcess[] = [];
const pods: Pod[] = [];

beforeAll(async () => {
  if (prometheus.skip) return;
  db = await createTestDatabase();
  work = await mkdtemp(path.join(os.tmpdir(), 'sb-prom-'));

  // The function pods, annotated as stack.yml has faas-netes annotate them.
  const stack = parseStack(await readFile(path.join(ROOT, 'stack.yml'), 'utf8'), {});
  for (const [i, spec] of stack.entries()) {
    const pod: Pod = {
      name: `${spec.name}-7c9f-${i}`,
      namespace: 'openfaas-fn',
      ip: ip(10 + i),
      labels: { faas_function: spec.name },
      annotations: spec.annotations,
      containerPorts: [8080],
    };
    pods.push(pod);
    functions.push(
      await spawnFunction({ FUNCTION: spec.name, MYSQL_URL: db.url, HTTP_HOST: pod.ip, http_port: '8080' }),
    );
  }

  // The gateway pod, annotated as the OpenFaaS chart annotates it (gateway-dep.yaml), serving
  // the gateway's own metrics on 8082 as OpenFaaS's gateway does.
  const metrics = createGatewayMetrics();
  metrics.watchReplicas(() =>
    stack.map((s, i) => ({ name: s.name, desired: 1, available: 1, pids: [functions[i]?.proc.pid ?? 0] })),
  );
  metrics.invocations.inc({ function_name: 'randshow', code: '200' });
  metrics.seconds.observe({ function_name: 'randshow', code: '200' }, 0.01);
  pods.push({
    name: 'gateway-5d8f-0',
    namespace: 'openfaas',
    ip: ip(2),
    labels: { app: 'gateway' },
    annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8082' },
    containerPorts: [8080],
  });
  gatewayPod = createServer((req, res) => {
    if (req.url !== '/metrics') return void res.writeHead(404).end();
    void metrics.registry.metrics().then((text) => {
      res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text);
    });
  });
  await new Promise<void>((r) => gatewayPod.listen(8082, ip(2), r));
  // Annotated like a function but in another namespace: neither job may pick it up.
  pods.push({
    name: 'stray-0',
    namespace: 'default',
    ip: ip(3),
    labels: {},
    annotations: {
      'prometheus.io.scrape': 'true',
      'prometheus.io.port': '8080',
      'prometheus.io.path': '/_/metrics',
    },
    containerPorts: [8080],
  });

  const config = parse(
    await readFile(path.join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'),
  ) as PrometheusConfig;
  await writeFile(path.join(work, 'prometheus.yml'), stringify(await withPodsAsFiles(config, pods, work)));
  await copyFile(path.join(ROOT, 'deploy/prometheus/alert.rules.yml'), path.join(work, 'alert.rules.yml'));
  promUrl = `http://127.0.0.1:${await freePort()}`;
  prom = spawn(
    prometheus.path as string,
    [
      `--config.file=${path.join(work, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(work, 'data')}`,
      `--web.listen-address=${new URL(promUrl).host}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  promOutput = collectOutput(prom);
  for (let i = 0; (await fetch(`${promUrl}/-/ready`).catch(() => null))?.status !== 200; i++) {
    if (i >= 100 || prom.exitCode !== null) throw new Error(`Prometheus did not start:\n${promOutput()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    const exited = once(prom, 'exit');
    prom.kill('SIGTERM');
    await exited;
  }
  await Promise.all(functions.map((f) => f.stop()));
  await new Promise((r) => (gatewayPod ? gatewayPod.close(r) : r(undefined)));
  await db?.drop();
  if (work) await rm(work, { recursive: true, force: true });
});

async function api<T>(query: string): Promise<T> {
  const res = await fetch(`${promUrl}/api/v1/${query}`);
  const body = (await res.json()) as { status: string; data: T };
  if (body.status !== 'success') throw new Error(`${query}: ${JSON.stringify(body)}`);
  return body.data;
}

interface Target {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: string;
  lastError: string;
}

describe.skipIf(prometheus.skip)(
  `a real Prometheus with deploy/prometheus (${prometheus.path ?? prometheus.skip})`,
  () => {
    it('scrapes the gateway pod and every function pod where their annotations say, and nothing else', async () => {
      let targets: Target[] = [];
      for (let i = 0; i < 60; i++) {
        targets = await api<{ activeTargets: Target[] }>('targets?state=active')
          .then((d) => d.activeTargets)
          .catch(() => []);
        const pending = targets.filter((t) => t.labels.job !== 'prometheus' && t.health !== 'up');
        if (targets.length > 0 && pending.length === 0) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const scraped = targets
        .filter((t) => t.labels.job !== 'prometheus')
        .map((t) => `${t.labels.job} ${t.scrapeUrl} ${t.health}`)
        .sort();
      expect(scraped, promOutput()).toEqual(
        [
          `openfaas-pods http://${ip(2)}:8082/metrics up`,
          `openfaas-fn-pods http://${ip(10)}:8080/_/metrics up`,
          `openfaas-fn-pods http://${ip(11)}:8080/_/metrics up`,
          `openfaas-fn-pods http://${ip(12)}:8080/_/metrics up`,
        ].sort(),
      );
    });

    it('has every metric the dashboard and the rules query, from the job that should bring it', async () => {
      // k6's series arrive by remote write from a run, not by a scrape: the next test covers them.
      const wanted = (await queriedMetrics()).filter((m) => !K6_RW_METRICS.includes(m));
      const origin: Record<string, string[]> = {};
      for (let i = 0; i < 40; i++) {
        // Every scraped family with the job that scraped it (the target metadata of each job).
        const families = new Map<string, Set<string>>();
        for (const job of ['openfaas-pods', 'openfaas-fn-pods']) {
          const found = await api<Array<{ metric: string }>>(`targets/metadata?match_target={job="${job}"}`);
          for (const { metric } of found) families.set(metric, (families.get(metric) ?? new Set()).add(job));
        }
        for (const metric of wanted)
          origin[metric] = [...(families.get(metric) ?? families.get(familyOf(metric)) ?? [])].sort();
        if (wanted.every((m) => (origin[m]?.length ?? 0) > 0)) break;
        await new Promise((r) => setTimeout(r, 500));
      }
      const expected = Object.fromEntries(
        wanted.map((m) => [m, [m.startsWith('gateway_') ? 'openfaas-pods' : 'openfaas-fn-pods']]),
      );
      expect(origin).toEqual(expected);
      // And they are queryable: the MySQL counters dbstats exports on each scrape.
      const result = await api<{ result: unknown[] }>('query?query=max(systembreaker_mysql_max_connections)');
      expect(result.result).toHaveLength(1);
    });

    it('accepts every query of the dashboard and the rules (k6’s included)', async () => {
      const refused: string[] = [];
      for (const q of await queries()) {
        const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
        if (res.status !== 200) refused.push(`${q}: ${await res.text()}`);
      }
      expect(refused).toEqual([]);
    });

    it('loads the alert rules and evaluates them without error', async () => {
      let rules: Array<{ name: string; health: string }> = [];
      for (let i = 0; i < 40 && rules.length === 0; i++) {
        const data = await api<{ groups: Array<{ rules: Array<{ name: string; health: string }> }> }>(
          'rules',
        );
        rules = data.groups.flatMap((g) => g.rules);
        if (rules.some((r) => r.health === 'unknown')) rules = [];
        if (rules.length === 0) await new Promise((r) => setTimeout(r, 500));
      }
      expect(rules.map((r) => `${r.name} ${r.health}`)).toEqual([
        'APIHighInvocationRate ok',
        'MySQLConnectionsNearMax ok',
        'MySQLRefusingConnections ok',
      ]);
    });
  },
);
