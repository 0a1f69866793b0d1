/// <reference types="k6" />
// The k6 entry: thin glue around the shared core, bundled into ../systembreaker.js by
// `npm run build:k6` (a test checks the committed bundle is up to date).
import { check } from 'k6';
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { outcomeCode } from '../../../contract/engine.ts';
import type { TargetFunction } from '../../../contract/functions.ts';
import type { Plan } from '../../../contract/plan.ts';
import { answerOf, k6Options, planFromEnv } from '../../src/core/k6.ts';
import { requestFor } from '../../src/core/requests.ts';

const baked = (globalThis as { SYSTEMBREAKER_PLAN?: Plan }).SYSTEMBREAKER_PLAN;
const plan: Plan = baked ?? planFromEnv(__ENV);
const BASE_URL = (__ENV.BASE_URL || 'http://127.0.0.1:8080').replace(/\/+$/, '');
const SUMMARY_FILE = __ENV.SUMMARY_FILE || 'systembreaker-summary.json';

// PARALLELISM: how many k6-operator runners share the run (each gets its segment).
export const options = k6Options(plan, Math.max(1, Math.floor(Number(__ENV.PARALLELISM) || 1)));

const errors = new Counter('systembreaker_errors');
const storedBytes = new Counter('systembreaker_stored_bytes');

export function setup(): void {
  const res = http.get(`${BASE_URL}/healthz`);
  if (res.status !== 200) {
    throw new Error(`no gateway answers at ${BASE_URL} (GET /healthz → ${res.status}); set -e BASE_URL=…`);
  }
}

function call(fn: TargetFunction): void {
  const spec = requestFor(fn, plan);
  const res = http.request(spec.method, `${BASE_URL}${spec.path}`, null, { tags: { fn } });
  const ok = check(res, { [`${fn} answers 2xx`]: (r) => r.status >= 200 && r.status < 300 });
  if (!ok) {
    errors.add(1, { fn, code: outcomeCode(answerOf(res)) ?? `HTTP_${res.status}` });
  } else if (fn === 'randstore') {
    storedBytes.add(Number(res.json('storedBytes') ?? 0));
  }
}

export function randstore(): void {
  call('randstore');
}

export function randshow(): void {
  call('randshow');
}

export function handleSummary(data: { metrics: Record<string, { values: Record<string, number> }> }) {
  const line = (name: string) => {
    const m = data.metrics[name];
    return m ? `${name}: ${JSON.stringify(m.values)}` : `${name}: -`;
  };
  const text = [
    `SystemBreaker k6 run against ${BASE_URL}: ${JSON.stringify(plan)}`,
    line('http_reqs'),
    line('http_req_failed'),
    line('http_req_duration{fn:randstore}'),
    line('http_req_duration{fn:randshow}'),
    line('dropped_iterations'),
    line('systembreaker_errors'),
    `full summary: ${SUMMARY_FILE}`,
    '',
  ].join('\n');
  return { stdout: text, [SUMMARY_FILE]: JSON.stringify(data, null, 2) };
}
