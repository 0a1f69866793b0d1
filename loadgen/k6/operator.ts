import type { Plan } from '../../contract/plan.ts';
import { planToEnv } from '../src/core/k6.ts';

/** The trend stats k6 sends by remote write (K6_PROMETHEUS_RW_TREND_STATS). */
export const K6_RW_TREND_STATS = 'p(95),p(99)';

/**
 * What k6's remote-write output (xk6-output-prometheus-remote, pkg/remotewrite) names the
 * series the dashboard reads: a `k6_` prefix, `_total` on counters, `_p95` for the trend stat
 * p(95) (in seconds), every tag (`fn`, `scenario`) as a label.
 */
export const K6_RW_METRICS = [
  'k6_http_reqs_total',
  'k6_dropped_iterations_total',
  'k6_http_req_duration_p95',
];

/** The key of the script in its ConfigMap: the k6-operator mounts the ConfigMap at /test and runs /test/<file>. */
export const SCRIPT_FILE = 'systembreaker.js';

export interface OperatorOptions {
  plan: Plan;
  /** Runners the test is split over (k6 execution segments). */
  parallelism: number;
  /** The TestRun's name, also the `testid` tag of every sample. */
  name: string;
  namespace: string;
  /** The gateway as the runners reach it, e.g. the in-cluster http://gateway.openfaas:8080. */
  baseUrl: string;
  /** Prometheus's remote-write endpoint, to send k6's metrics beside the gateway's. */
  prometheusRw?: string | undefined;
  /** The k6 script (the committed bundle). */
  script: string;
}

/**
 * The manifests that run the k6 script on the grafana k6-operator: a ConfigMap holding it
 * and a TestRun (k6.io/v1alpha1). Field names from the operator's api/v1alpha1
 * (testrun_types.go; required: parallelism, script): `script.configMap` {name, file},
 * `arguments` — one string the operator splits on spaces without reading quotes, so no value
 * here holds a space — and `runner.env`. The operator adds --execution-segment and
 * --execution-segment-sequence itself when parallelism > 1 (pkg/resources/jobs/runner.go);
 * nothing here sets them.
 */
export function k6OperatorManifests(o: OperatorOptions): [Record<string, unknown>, Record<string, unknown>] {
  const env: Record<string, string> = {
    ...planToEnv(o.plan),
    BASE_URL: o.baseUrl,
    PARALLELISM: String(o.parallelism),
  };
  const args = [
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    '--tag',
    `testid=${o.name}`,
    ...(o.prometheusRw ? ['-o', 'experimental-prometheus-rw'] : []),
  ];
  const bad = args.find((a) => /[\s'"]/.test(a));
  if (bad) throw new Error(`a k6-operator argument cannot hold spaces or quotes; got ${JSON.stringify(bad)}`);
  const configMap = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: `${o.name}-script`, namespace: o.namespace },
    data: { [SCRIPT_FILE]: o.script },
  };
  const testRun = {
    apiVersion: 'k6.io/v1alpha1',
    kind: 'TestRun',
    metadata: { name: o.name, namespace: o.namespace },
    spec: {
      parallelism: o.parallelism,
      script: { configMap: { name: configMap.metadata.name, file: SCRIPT_FILE } },
      arguments: args.join(' '),
      ...(o.prometheusRw
        ? {
            runner: {
              env: [
                { name: 'K6_PROMETHEUS_RW_SERVER_URL', value: o.prometheusRw },
                // The p95 the dashboard reads (k6_http_req_duration_p95, in seconds), and p99.
                { name: 'K6_PROMETHEUS_RW_TREND_STATS', value: K6_RW_TREND_STATS },
              ],
            },
          }
        : {}),
    },
  };
  return [configMap, testRun];
}
