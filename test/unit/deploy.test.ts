import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { FUNCTION_NAMES } from '../../contract/functions.ts';
import {
  parseConfig,
  shutdownGraceMs,
  VARIABLES,
  WATCHDOG_GRACE_MARGIN_MS,
} from '../../functions/lib/config.ts';
import { registerServerMetrics } from '../../functions/lib/db/server-metrics.ts';
import { silentLogger } from '../../functions/lib/log.ts';
import { createMetrics } from '../../functions/lib/metrics.ts';
import { EDITIONS, stackRefusals } from '../../gateway/editions.ts';
import { createGatewayMetrics } from '../../gateway/metrics.ts';
import { parseStack, scaleLabels, substituteEnv } from '../../gateway/stack.ts';
import { K6_RW_METRICS } from '../../loadgen/k6/operator.ts';
import { DEFAULT_MYSQL_IMAGE } from '../../mysql/container.ts';
import { passwordSecretName } from '../../mysql/migrate.ts';
import { DOCKERFILE, functionImage } from '../support/dockerfile.ts';
import { queriedMetrics } from '../support/monitoring.ts';
import { kubernetesSdProblems, type PrometheusConfig, withPodsAsFiles } from '../support/prometheus.ts';
import { findTool } from '../support/tools.ts';

const run = promisify(execFile);

interface StackFunction {
  lang: string;
  handler: string;
  image: string;
  build_args?: Record<string, string>;
  environment: Record<string, string>;
  secrets: string[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  limits?: Record<string, string>;
  requests?: Record<string, string>;
  readonly_root_filesystem?: boolean;
}

interface Stack {
  version: string | number;
  provider: { name: string; gateway: string };
  configuration?: { copy?: string[] };
  functions: Record<string, StackFunction>;
}

const stackText = await readFile('stack.yml', 'utf8');
/** stack.yml as faas-cli reads it (envsubst first), with the environment given. */
const stackWith = (env: Record<string, string>) => parse(substituteEnv(stackText, env)) as Stack;
const stack = stackWith({});
const names = Object.keys(stack.functions);
const image = await functionImage();
const dockerfile = await readFile(DOCKERFILE, 'utf8');
const dockerEnv = image.env;
const k8s = (
  await Promise.all(
    ['namespace', 'mysql-config', 'mysql', 'migrate-job'].map(async (f) =>
      parseAllDocuments(await readFile(`deploy/kubernetes/${f}.yaml`, 'utf8')).map((d) => d.toJS()),
    ),
  )
).flat() as Array<{
  kind: string;
  metadata: { name: string; namespace?: string };
  // biome-ignore lint/suspicious/noExplicitAny: objects of several kinds, read field by field in the assertions
  spec?: any;
  data?: Record<string, string>;
}>;
const byKind = (kind: string, name: string) => k8s.find((d) => d.kind === kind && d.metadata.name === name);

describe('stack.yml', () => {
  it('is a faas-cli 1.0 stack for the openfaas provider with an overridable gateway', () => {
    expect(stackText).toMatch(/^version: 1\.0$/m);
    expect(stack.provider).toEqual({ name: 'openfaas', gateway: 'http://127.0.0.1:8080' });
    expect(stackWith({ OPENFAAS_URL: 'http://gw:8080' }).provider.gateway).toBe('http://gw:8080');
  });

  it.each(names)(
    '%s: builds from the function-image folder, which holds only the Dockerfile faas-cli will copy',
    async (name) => {
      const fn = stack.functions[name] as StackFunction;
      expect(fn.lang).toBe('dockerfile');
      expect(path.normalize(fn.handler)).toBe(path.dirname(DOCKERFILE));
      expect(await readdir(fn.handler)).toEqual(['Dockerfile']);
      expect(fn.build_args?.FUNCTION).toBe(name);
      expect(fn.image).toBe(`ttl.sh/systembreaker/${name}:0.1.0`);
      expect(stackWith({ REGISTRY: 'registry.example.com/you', TAG: '2' }).functions[name]?.image).toBe(
        `registry.example.com/you/${name}:2`,
      );
    },
  );

  it('copies into every build context paths of this project, the lockfile and the functions’ tests among them', () => {
    const copy = stack.configuration?.copy ?? [];
    for (const p of copy) {
      expect(existsSync(p), p).toBe(true);
      expect(path.relative('.', path.resolve(p)).startsWith('..')).toBe(false);
    }
    expect(copy).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'sql', 'functions']));
    // The Dockerfile's build stage runs npm run test:functions on these.
    expect(copy).toContain(/test:functions": "[^"]* (\S+)"/.exec(readFileSync('package.json', 'utf8'))?.[1]);
  });

  it.each(names)('%s: environment the config schema accepts, the secret it reads declared', (name) => {
    const fn = stack.functions[name] as StackFunction;
    for (const key of Object.keys(fn.environment)) expect(Object.keys(VARIABLES)).toContain(key);
    const config = parseConfig(fn.environment, ['FUNCTION']);
    expect(config.FUNCTION).toBe(name);
    expect(fn.secrets).toContain(config.MYSQL_PASSWORD_SECRET);
    expect(config.MYSQL_PASSWORD_SECRET).toBe(passwordSecretName(name as (typeof FUNCTION_NAMES)[number]));
    expect(config.MYSQL_USER).toBe(name);
    // Secrets are files, never environment.
    expect(Object.keys(fn.environment).some((k) => /PASSWORD$|SECRET_VALUE|MYSQL_URL/.test(k))).toBe(false);
  });

  it.each([
    ['as it stands', {}],
    ['with MAX_REPLICAS=20', { MAX_REPLICAS: '20' }],
  ])('%s: valid scale labels, limits, a read-only root and scrape annotations', (_, env) => {
    for (const [name, fn] of Object.entries(stackWith(env).functions)) {
      expect(() => scaleLabels(name, fn.labels)).not.toThrow();
      expect(fn.readonly_root_filesystem).toBe(true);
      expect(fn.limits?.memory).toMatch(/^\d+Mi$/);
      expect(fn.requests?.cpu).toMatch(/^\d+m$/);
      expect(fn.annotations).toMatchObject({
        'prometheus.io.scrape': 'true',
        'prometheus.io.port': '8080',
        'prometheus.io.path': '/_/metrics',
      });
      // budget mode sizes pools for the function's real maximum scale.
      expect(fn.environment.DB_BUDGET_MAX_REPLICAS).toBe(fn.labels['com.openfaas.scale.max']);
    }
  });

  it('deploys on OpenFaaS Community Edition as it stands: nothing faas-netes refuses, 5 replicas at most', () => {
    const functions = parseStack(stackText, {});
    expect(stackRefusals(EDITIONS.ce, functions)).toEqual([]);
    expect(functions.map((f) => f.scale.max)).toEqual([5, 5, 1]);
  });

  it('is OpenFaaS Pro’s (rps, target 50) and the talk’s 20 replicas with MAX_REPLICAS=20, which CE refuses', () => {
    const functions = parseStack(stackText, { MAX_REPLICAS: '20' }, EDITIONS.pro.defaults);
    expect(stackRefusals(EDITIONS.pro, functions)).toEqual([]);
    expect(functions.map((f) => [f.scale.max, f.scale.target])).toEqual([
      [20, 50],
      [20, 50],
      [1, 50],
    ]);
    expect(stackRefusals(EDITIONS.ce, functions)).toEqual([
      'randstore: com.openfaas.scale.max is set too high for Community Edition',
      'randshow: com.openfaas.scale.max is set too high for Community Edition',
    ]);
  });

  it('shares the connection budget among the functions without over-committing it', () => {
    const shares = Object.values(stack.functions).map((f) => Number(f.environment.DB_BUDGET_SHARE));
    expect(shares.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(1);
  });

  it('bounds randshow’s queries below the watchdog’s exec_timeout', () => {
    const limit = Number(stack.functions.randshow?.environment.DB_QUERY_TIMEOUT_MS);
    expect(limit).toBeGreaterThan(0);
    expect(limit).toBeLessThan(Number((dockerEnv.exec_timeout as string).replace(/s$/, '')) * 1000);
  });
});

describe('function image', () => {
  it('runs the compiled function server behind of-watchdog in http mode, as a non-root user', () => {
    expect(dockerEnv.mode).toBe('http');
    expect(dockerEnv.fprocess).toBe('node dist/functions/server/main.js');
    expect(existsSync('functions/server/main.ts')).toBe(true);
    expect(new URL(dockerEnv.upstream_url as string).port).toBe(dockerEnv.http_port);
    expect(dockerfile).toMatch(/^USER 10001:10001$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/npm run test:functions/);
  });

  it('uses nothing that only Alpine (busybox) or only Debian has', () => {
    const run = image.stages
      .flatMap((s) => s.instructions)
      .filter((i) => ['RUN', 'HEALTHCHECK'].includes(i.cmd));
    for (const i of run)
      expect(i.args).not.toMatch(/\b(adduser|addgroup|useradd|groupadd|apk|apt-get|wget|curl)\b/);
    expect(image.final.instructions.find((i) => i.cmd === 'HEALTHCHECK')?.args).toContain(
      '"fwatchdog", "-run-healthcheck"',
    );
  });

  it('gives the watchdog more time than the cat source and the database may take', () => {
    const seconds = (v: string) => Number(v.replace(/s$/, ''));
    const config = parseConfig({});
    expect(seconds(dockerEnv.exec_timeout as string) * 1000).toBeGreaterThan(
      config.SOURCE_TIMEOUT_MS + config.DB_CONNECT_TIMEOUT_MS,
    );
    expect(seconds(dockerEnv.write_timeout as string)).toBeGreaterThan(
      seconds(dockerEnv.exec_timeout as string),
    );
  });

  it('serves through the watchdog’s grace after SIGTERM and still drains within Kubernetes’ 30 s', () => {
    // faas-netes sets no terminationGracePeriodSeconds on function pods: Kubernetes' default, 30 s.
    const config = parseConfig(dockerEnv);
    expect(shutdownGraceMs(config)).toBe(5000 + WATCHDOG_GRACE_MARGIN_MS);
    expect(shutdownGraceMs(config) + config.DRAIN_TIMEOUT_MS).toBeLessThan(30_000);
  });
});

describe('Kubernetes manifests', () => {
  it('run the same MySQL image the local chain defaults to, with sql/tuning.cnf as its config', async () => {
    const mysql = byKind('Deployment', 'mysql');
    const container = mysql?.spec.template.spec.containers[0];
    expect(container.image).toBe(DEFAULT_MYSQL_IMAGE);
    expect(byKind('ConfigMap', 'systembreaker-mysql-tuning')?.data?.['systembreaker.cnf']).toBe(
      await readFile('sql/tuning.cnf', 'utf8'),
    );
    expect(container.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toContain(
      '/etc/mysql/conf.d/systembreaker.cnf',
    );
    expect(byKind('PersistentVolumeClaim', 'mysql-data')).toBeDefined();
  });

  it('serve MySQL where stack.yml points the functions', () => {
    const service = byKind('Service', 'mysql');
    for (const fn of Object.values(stack.functions)) {
      expect(fn.environment.MYSQL_HOST).toBe(
        `${service?.metadata.name}.${service?.metadata.namespace}.svc.cluster.local`,
      );
    }
  });

  it('migrate with the function users and passwords that stack.yml’s secrets hold', () => {
    const job = byKind('Job', 'systembreaker-migrate');
    const container = job?.spec.template.spec.containers[0];
    expect(container.command.slice(0, 2)).toEqual(['node', 'dist/scripts/db-migrate.js']);
    expect(existsSync('scripts/db-migrate.ts')).toBe(true);
    expect(container.env.map((e: { name: string }) => e.name)).toEqual(['MYSQL_URL']);
    const mount = container.volumeMounts[0].mountPath;
    expect(container.command).toContain(mount);
    expect(job?.spec.template.spec.volumes[0].secret.secretName).toBe('systembreaker-mysql');
    const secretNames = Object.values(stack.functions).flatMap((f) => f.secrets);
    expect(secretNames.sort()).toEqual(FUNCTION_NAMES.map(passwordSecretName).sort());
  });
});

const promtool = findTool('PROMTOOL_BIN', ['promtool'], 'REQUIRE_PROMTOOL');
const prometheusConfig = parse(
  await readFile('deploy/prometheus/prometheus.yml', 'utf8'),
) as PrometheusConfig;

describe('monitoring', () => {
  it.skipIf(promtool.skip)('promtool accepts the alert rules', async () => {
    const { stdout } = await run(promtool.path as string, [
      'check',
      'rules',
      'deploy/prometheus/alert.rules.yml',
    ]);
    expect(stdout).toContain('SUCCESS: 3 rules found');
  });

  it.skipIf(promtool.skip)('promtool accepts the Prometheus configuration, with its rules', async () => {
    // Debian's promtool has no Kubernetes discovery: it checks the file with the pod discovery
    // swapped for files; the discovery blocks are checked against Prometheus's own fields below.
    const dir = await mkdtemp(path.join(os.tmpdir(), 'sb-promtool-'));
    try {
      const config = await withPodsAsFiles(prometheusConfig, [], dir);
      await writeFile(path.join(dir, 'prometheus.yml'), stringify(config));
      await copyFile('deploy/prometheus/alert.rules.yml', path.join(dir, 'alert.rules.yml'));
      const { stdout } = await run(promtool.path as string, [
        'check',
        'config',
        path.join(dir, 'prometheus.yml'),
      ]);
      expect(stdout).toContain('SUCCESS: 3 rules found');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('keeps the jobs of the Prometheus OpenFaaS installs, and scrapes the function namespace by annotation', () => {
    expect(kubernetesSdProblems(prometheusConfig)).toEqual([]);
    const jobs = Object.fromEntries(prometheusConfig.scrape_configs.map((j) => [j.job_name, j]));
    expect(Object.keys(jobs)).toEqual(['prometheus', 'openfaas-pods', 'openfaas-fn-pods']);
    expect(jobs['openfaas-pods']?.kubernetes_sd_configs).toEqual([
      { role: 'pod', namespaces: { names: ['openfaas'] } },
    ]);
    expect(jobs['openfaas-fn-pods']?.kubernetes_sd_configs).toEqual([
      { role: 'pod', namespaces: { names: ['openfaas-fn'] } },
    ]);
    expect(prometheusConfig.rule_files).toEqual(['alert.rules.yml']);
  });

  it('keeps OpenFaaS CE’s APIHighInvocationRate rule as OpenFaaS has it', async () => {
    const rules = parse(await readFile('deploy/prometheus/alert.rules.yml', 'utf8'));
    const rule = rules.groups[0].rules[0];
    expect(rule).toMatchObject({
      alert: 'APIHighInvocationRate',
      expr: 'sum(rate(gateway_function_invocation_total{code="200"}[10s])) BY (function_name) > 5',
      for: '5s',
    });
  });

  it('queries on the dashboard and in the rules only metrics the gateway, the functions or k6 export', async () => {
    const exported = new Set<string>();
    const gateway = createGatewayMetrics();
    // As the function server makes them: with the process metrics (CPU, memory) too.
    const fn = createMetrics('x', { processMetrics: true });
    registerServerMetrics(
      fn.registry,
      {
        serverStats: () => Promise.reject(new Error('not scraped here')),
        tableStats: () => Promise.reject(new Error('not scraped here')),
      },
      silentLogger,
    );
    for (const m of [...gateway.registry.getMetricsAsArray(), ...fn.registry.getMetricsAsArray()]) {
      const name = (m as unknown as { name: string }).name;
      for (const suffix of ['', '_bucket', '_sum', '_count']) exported.add(name + suffix);
    }
    for (const name of K6_RW_METRICS) exported.add(name);
    const used = await queriedMetrics();
    expect(used.filter((m) => !exported.has(m))).toEqual([]);
    expect(used.length).toBeGreaterThan(8);
  });
});

describe('sql/tuning.cnf as server options', () => {
  it('turns every [mysqld] setting into an option, keeping loose- prefixes', async () => {
    const { tuningArgs, cnfToArgs } = await import('../../mysql/tuning.ts');
    const args = await tuningArgs();
    expect(args).toContain('--max_connections=500');
    expect(args).toContain('--loose-query_cache_type=0');
    expect(args).toContain('--max_allowed_packet=64M');
    expect(args.every((a) => a.startsWith('--'))).toBe(true);
    expect(cnfToArgs('[client]\nuser=x\n[mysqld]\n# note\nskip-log-bin\nwait_timeout = 60 ; why\n')).toEqual([
      '--skip-log-bin',
      '--wait_timeout=60',
    ]);
  });
});
