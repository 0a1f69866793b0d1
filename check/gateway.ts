import { setTimeout as sleep } from 'node:timers/promises';
import type { FunctionStatus } from '../contract/openfaas.ts';
import { EDITIONS, goAtoi } from '../gateway/editions.ts';
import { describeAnswer, httpGet, is2xx, under } from './http.ts';
import { formatNumber } from './perfdata.ts';
import { type Bucket, histogramQuantile, increases, parseExposition, type Sample } from './prometheus.ts';
import { type Gathered, merge, type Reading, settle } from './reading.ts';
import { CRITICAL, PluginError, UNKNOWN } from './state.ts';

export const FUNCTION_METRICS = ['availability', 'rate', 'p95', 'errors', 'replicas'] as const;
export type FunctionMetric = (typeof FUNCTION_METRICS)[number];

/**
 * What availability calls by default, touching no data. Behind of-watchdog 0.9.12 (the real
 * one, run here with an upstream that answers 418 to everything) the watchdog answers
 * `/_/health` itself with 200: on OpenFaaS it proves the gateway reaches a live pod, not that
 * the function answers; `--path` makes a call that goes through to it. The local gateway's
 * replicas answer it in the function server.
 */
export const DEFAULT_CALL_PATH = '/_/health';

/**
 * The max replicas of a function without a `com.openfaas.scale.max` label: OpenFaaS's
 * documented default (Pro, and the talk's gateway); Community Edition caps at 5 whatever the label.
 */
export const DEFAULT_MAX_REPLICAS = EDITIONS.pro.defaults.max;

export interface FunctionCheck {
  gateway: URL;
  fn: string;
  metricsUrl: URL;
  windowS: number;
  /** Appended to /function/NAME for availability's call. */
  path: string;
  auth?: { user: string; password: string };
}

/** One real call through the gateway; its time is availability's value. */
async function availability(o: FunctionCheck, signal: AbortSignal): Promise<Reading[]> {
  const url = under(o.gateway, `function/${encodeURIComponent(o.fn)}${o.path}`);
  const answer = await httpGet(url, signal);
  const call = `GET ${url.pathname}${url.search}`;
  if (!is2xx(answer.status))
    throw new PluginError(CRITICAL, `${o.fn}: ${call} answered ${describeAnswer(answer)}`);
  return [
    {
      metric: 'availability',
      perf: { label: 'time', value: answer.seconds, uom: 's', min: 0 },
      text: `${o.fn} answered ${answer.status} in ${formatNumber(Number((answer.seconds * 1000).toFixed(1)))} ms (${call})`,
    },
  ];
}

async function scrape(url: URL, signal: AbortSignal): Promise<{ samples: Sample[]; at: number }> {
  const answer = await httpGet(url, signal);
  const at = performance.now();
  if (!is2xx(answer.status)) {
    throw new PluginError(
      UNKNOWN,
      `the metrics at ${url.href} answered ${describeAnswer(answer)} (on OpenFaaS the gateway's metrics are on port 8082: give --metrics-url)`,
    );
  }
  // Only the gateway's own series matter here: a line of some replica's metric that does not
  // parse must not make the check UNKNOWN.
  const gatewayLines = answer.body
    .split('\n')
    .filter((line) => line.startsWith('gateway_'))
    .join('\n');
  try {
    return { samples: parseExposition(gatewayLines), at };
  } catch (err) {
    throw new PluginError(
      UNKNOWN,
      `the metrics at ${url.href} are not Prometheus text: ${(err as Error).message}`,
    );
  }
}

/** The invocations and time buckets of the function over the window, summed over its status codes. */
function windowOf(before: Sample[], after: Sample[], fn: string) {
  // OpenFaaS on Kubernetes names the function with its namespace: randshow.openfaas-fn.
  const mine = (l: Record<string, string>) =>
    l.function_name === fn || (l.function_name ?? '').startsWith(`${fn}.`);
  const calls = increases(before, after, 'gateway_function_invocation_total', mine);
  const byLe = new Map<string, number>();
  for (const b of increases(before, after, 'gateway_functions_seconds_bucket', mine))
    byLe.set(b.labels.le ?? '', (byLe.get(b.labels.le ?? '') ?? 0) + b.value);
  const buckets: Bucket[] = [...byLe].map(([le, count]) => ({
    le: le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le),
    count,
  }));
  return {
    total: calls.reduce((n, s) => n + s.value, 0),
    failed: calls.filter((s) => !/^2\d\d$/.test(s.labels.code ?? '')).reduce((n, s) => n + s.value, 0),
    p95: histogramQuantile(0.95, buckets),
  };
}

/** rate, errors and p95 from the gateway's counters, read `windowS` apart. */
async function traffic(o: FunctionCheck, signal: AbortSignal): Promise<Reading[]> {
  const first = await scrape(o.metricsUrl, signal);
  await sleep(o.windowS * 1000, undefined, { signal }).catch(() => {
    throw signal.reason;
  });
  const second = await scrape(o.metricsUrl, signal);
  const seconds = (second.at - first.at) / 1000;
  const { total, failed, p95 } = windowOf(first.samples, second.samples, o.fn);
  const over = `over ${formatNumber(Number(seconds.toFixed(1)))} s`;
  const errors = total > 0 ? (failed / total) * 100 : 0;
  const p95Known = Number.isFinite(p95);
  return [
    {
      metric: 'rate',
      perf: { label: 'rate', value: total / seconds, uom: '', min: 0 },
      text: `${o.fn}: ${formatNumber(Number((total / seconds).toFixed(2)))} calls/s ${over} (${total} calls)`,
    },
    {
      metric: 'p95',
      perf: { label: 'p95', value: p95Known ? p95 : undefined, uom: 's', min: 0 },
      text: p95Known
        ? `${o.fn}: p95 ${formatNumber(Number((p95 * 1000).toFixed(1)))} ms of ${total} calls ${over}`
        : `${o.fn}: no calls ${over}, so no p95`,
    },
    {
      metric: 'errors',
      perf: { label: 'errors', value: errors, uom: '%', min: 0, max: 100 },
      text: `${o.fn}: ${formatNumber(Number(errors.toFixed(2)))}% of ${total} calls ${over} failed (${failed} not 2xx)`,
    },
  ];
}

async function replicas(o: FunctionCheck, signal: AbortSignal): Promise<Reading[]> {
  const url = under(o.gateway, `system/function/${encodeURIComponent(o.fn)}`);
  const headers: Record<string, string> = o.auth
    ? { authorization: `Basic ${Buffer.from(`${o.auth.user}:${o.auth.password}`).toString('base64')}` }
    : {};
  const answer = await httpGet(url, signal, headers);
  if (answer.status === 401) {
    throw new PluginError(
      UNKNOWN,
      o.auth
        ? `the gateway refused the credentials of ${o.auth.user} for ${url.pathname} (401)`
        : `the gateway asks for credentials for ${url.pathname} (401): give -a and --auth-password-file`,
    );
  }
  if (!is2xx(answer.status))
    throw new PluginError(CRITICAL, `${o.fn}: GET ${url.pathname} answered ${describeAnswer(answer)}`);
  const status = JSON.parse(answer.body) as Partial<FunctionStatus>;
  if (typeof status.replicas !== 'number')
    throw new PluginError(UNKNOWN, `GET ${url.pathname} answered no replicas: is it an OpenFaaS gateway?`);
  const max = goAtoi(status.labels?.['com.openfaas.scale.max'] ?? '') ?? DEFAULT_MAX_REPLICAS;
  const available =
    typeof status.availableReplicas === 'number' ? `, ${status.availableReplicas} available` : '';
  return [
    {
      metric: 'replicas',
      perf: { label: 'replicas', value: status.replicas, uom: '', min: 0, max },
      text: `${o.fn}: ${status.replicas} ${status.replicas === 1 ? 'replica' : 'replicas'}${available}, at most ${max}`,
    },
  ];
}

/**
 * Everything about a function at once: its call, then the window of its gateway counters
 * (after the call, so the check's own call does not count in the rate), and its replicas.
 */
export async function gatherFunction(o: FunctionCheck, signal: AbortSignal): Promise<Gathered> {
  const called = settle(['availability'], availability(o, signal));
  const counted = called.then(() => settle(['rate', 'p95', 'errors'], traffic(o, signal)));
  const scaled = settle(['replicas'], replicas(o, signal));
  return merge(await Promise.all([called, counted, scaled]));
}
