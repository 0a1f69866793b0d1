import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parsePlan } from '../../contract/plan.ts';
import { K6_SCRIPT } from '../../loadgen/k6/build.ts';
import { k6OperatorManifests, SCRIPT_FILE } from '../../loadgen/k6/operator.ts';
import { k6Options, planFromEnv } from '../../loadgen/src/core/k6.ts';
import { runToEnd } from '../support/process.ts';

const plan = parsePlan({ rate: 2000, ratio: { randstore: 1, randshow: 3 }, profile: 'seed-demo' });
const script = await readFile(K6_SCRIPT, 'utf8');
const options = {
  plan,
  parallelism: 4,
  name: 'systembreaker',
  namespace: 'k6',
  baseUrl: 'http://gateway.openfaas:8080',
  script,
};

/** The `-e` variables of the operator's arguments, split as it splits them (on spaces, no quoting). */
function envOf(args: string): Record<string, string> {
  const words = args.split(' ');
  return Object.fromEntries(
    words.flatMap((w, i) =>
      words[i - 1] === '-e' ? [w.split(/=(.*)/s).slice(0, 2) as [string, string]] : [],
    ),
  );
}

describe('the k6-operator manifests', () => {
  const [configMap, testRun] = k6OperatorManifests(options) as [
    { kind: string; metadata: { name: string }; data: Record<string, string> },
    {
      apiVersion: string;
      kind: string;
      spec: { parallelism: number; script: { configMap: { name: string; file: string } }; arguments: string };
    },
  ];

  it('are a ConfigMap with the committed script and a TestRun of k6.io/v1alpha1 that runs it', () => {
    expect(configMap.kind).toBe('ConfigMap');
    expect(configMap.data).toEqual({ [SCRIPT_FILE]: script });
    expect(testRun).toMatchObject({ apiVersion: 'k6.io/v1alpha1', kind: 'TestRun' });
    // The operator mounts the ConfigMap at /test and runs /test/<file>: the key must be the file.
    expect(testRun.spec.script.configMap).toEqual({ name: configMap.metadata.name, file: SCRIPT_FILE });
    // Required by the CRD (config/crd/bases/k6.io_testruns.yaml): parallelism and script.
    expect(testRun.spec.parallelism).toBe(4);
  });

  it('carry the same plan as a local run, read back by the script’s own planFromEnv', () => {
    const env = envOf(testRun.spec.arguments);
    expect(planFromEnv(env)).toEqual(plan);
    expect(env.BASE_URL).toBe('http://gateway.openfaas:8080');
    expect(env.PARALLELISM).toBe('4');
  });

  it('set nothing that breaks the operator’s split: no segment flags, no empty, quoted or spaced argument', () => {
    const args = testRun.spec.arguments;
    expect(args).not.toMatch(/execution-segment/);
    expect(args.split(' ').every((a) => a !== '' && !/['"]/.test(a))).toBe(true);
    expect(args).toContain('--tag testid=systembreaker');
  });

  it('give every runner VUs: each scenario’s VUs are a multiple of the runners, so the total rate holds', () => {
    const k6 = k6Options(plan, 4);
    for (const scenario of Object.values(k6.scenarios)) {
      expect(scenario.preAllocatedVUs % 4).toBe(0);
      expect(scenario.maxVUs % 4).toBe(0);
      expect(scenario.preAllocatedVUs).toBeGreaterThanOrEqual(4);
    }
    // Each runner gets a quarter of every stage's rate (k6's equal segments): together, the plan's.
    expect(k6Options(plan, 4).scenarios.randshow?.stages).toEqual(
      k6Options(plan, 1).scenarios.randshow?.stages,
    );
  });

  it('send k6’s metrics to Prometheus by remote write only when asked', () => {
    const rw = 'http://prometheus.openfaas:9090/api/v1/write';
    const [, withRw] = k6OperatorManifests({ ...options, prometheusRw: rw }) as [
      unknown,
      { spec: { arguments: string; runner: { env: Array<{ name: string; value: string }> } } },
    ];
    expect(withRw.spec.arguments).toMatch(/ -o experimental-prometheus-rw$/);
    expect(withRw.spec.runner.env).toEqual([
      { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: rw },
      { name: 'K6_PROMETHEUS_RW_TREND_STATS', value: 'p(95),p(99)' },
    ]);
    expect(testRun.spec.arguments).not.toContain('-o ');
    expect(testRun.spec).not.toHaveProperty('runner');
  });

  it('are written by npm run k6:operator, which refuses a bad flag with exit 2', async () => {
    const ok = await runToEnd(
      [
        '--import',
        'tsx',
        'loadgen/k6/operator-cli.ts',
        '--parallelism',
        '4',
        '--rate',
        '2000',
        '--ratio',
        '1:3',
      ],
      {},
    );
    expect(ok.code).toBe(0);
    const docs = parseAllDocuments(ok.output).map((d) => d.toJS() as { kind: string });
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'TestRun']);
    const bad = await runToEnd(['--import', 'tsx', 'loadgen/k6/operator-cli.ts', '--parallelism', '0'], {});
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('--parallelism must be integer 1–1000; got "0"');
  });
});
