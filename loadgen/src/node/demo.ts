import { request } from 'undici';
import { TARGET_FUNCTIONS } from '../../../contract/functions.ts';
import type { FunctionStatus, ScaleEvent, ScalingInfo } from '../../../contract/openfaas.ts';
import type { Plan } from '../../../contract/plan.ts';
import type { RunResults, SystemSample } from '../../../contract/results.ts';
import { POLICIES, type PolicyName, scaleUpsToMax } from '../../../gateway/autoscale/policies.ts';
import { EDITIONS, POLICY_EDITION } from '../../../gateway/editions.ts';
import { scaleLabels } from '../../../gateway/stack.ts';
import { Narrator, noteLine } from '../core/narrate.ts';
import { type DemoRule, TALK_DEMO } from '../core/plan.ts';
import { LoadEngine } from './engine.ts';
import { SystemWatcher } from './system.ts';

async function getJson<T>(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; body?: T }> {
  const res = await request(url, { headers, headersTimeout: 5000, bodyTimeout: 5000 });
  if (res.statusCode !== 200) {
    await res.body.dump();
    return { status: res.statusCode };
  }
  return { status: 200, body: (await res.body.json()) as T };
}

/** The rule a demo is shaped from, where it came from, and the policy it describes. */
export interface LearnedRule {
  rule: DemoRule;
  policy: string;
  /** How the rule was learnt, for the introduction. */
  source: string;
}

/**
 * The gateway's own alert rule (`GET /system/scaling`, the local gateway's) and, from its
 * functions' scale labels, how many scale-ups its policy needs from min to max. A gateway
 * without that route (OpenFaaS itself) is taken to run the talk's rule.
 */
export async function learnRule(target: string, headers: Record<string, string>): Promise<LearnedRule> {
  const base = target.replace(/\/+$/, '');
  const scaling = await getJson<ScalingInfo>(`${base}/system/scaling`, headers);
  if (scaling.status === 401)
    throw new Error(
      'the gateway asks for basic auth on /system/*: give --auth-user and --auth-password-file',
    );
  if (!scaling.body)
    return {
      rule: TALK_DEMO,
      policy: 'openfaas',
      source: 'no /system/scaling here: assuming the talk’s rule',
    };
  const info = scaling.body;
  const fns = await getJson<FunctionStatus[]>(`${base}/system/functions`, headers);
  const policyName = info.policy as PolicyName;
  const policy = POLICIES[policyName];
  const settings = {
    thresholdRps: info.rule.thresholdRps,
    forMs: info.rule.forS * 1000,
    repeatMs: info.rule.repeatS * 1000,
    scaleDownWindowMs: 0,
  };
  const defaults = EDITIONS[POLICY_EDITION[policyName] ?? 'openfaas-2018'].defaults;
  const steps = (fns.body ?? [])
    .filter((f) => (TARGET_FUNCTIONS as readonly string[]).includes(f.name))
    .map((f) => (policy ? scaleUpsToMax(policy, scaleLabels(f.name, f.labels, defaults), settings) : 1));
  return {
    rule: { ...info.rule, stepsToMax: Math.max(1, ...steps) },
    policy: info.policy,
    source: 'the gateway’s own rule (/system/scaling)',
  };
}

export interface DemoRunOptions {
  target: string;
  headers: Record<string, string>;
  plan: Plan;
  rule: DemoRule;
  /** Each line of the story as it happens. */
  say: (line: string) => void;
  /** Seconds between status lines. */
  statusEveryS?: number;
  onProblem?: (what: string) => void;
}

/** A demo under way: stop() ends the load early; `done` has the results with the story in `notes`. */
export interface DemoRun {
  stop(): void;
  done: Promise<RunResults>;
}

/** Polls the gateway's scale events and tells each new one, timed from the run's start. */
function scaleEventWatcher(options: DemoRunOptions, narrator: Narrator, startMs: number) {
  const url = `${options.target.replace(/\/+$/, '')}/system/scale-events`;
  const seen = new Set<string>();
  const poll = async () => {
    const { body } = await getJson<ScaleEvent[]>(url, options.headers).catch(() => ({ body: undefined }));
    for (const event of body ?? []) {
      const at = Date.parse(event.at);
      const key = `${event.at} ${event.function} ${event.to}`;
      if (at < startMs || seen.has(key)) continue;
      seen.add(key);
      options.say(noteLine(narrator.scale(event, (at - startMs) / 1000)));
    }
  };
  let busy: Promise<void> | undefined;
  const timer = setInterval(() => {
    busy ??= poll().finally(() => {
      busy = undefined;
    });
  }, 1000);
  return {
    /** Stops polling after one last look. */
    async stop() {
      clearInterval(timer);
      await busy;
      await poll();
    },
  };
}

/** Runs the plan with the Node engine and narrates it: the load's acts, scaling, first errors, the database. */
export function runDemo(options: DemoRunOptions): DemoRun {
  const narrator = new Narrator(options.plan, options.rule, options.statusEveryS);
  const startMs = Date.now();
  const watcher = new SystemWatcher({
    target: options.target,
    headers: options.headers,
    onSample: (sample: SystemSample) => {
      if (sample.db) narrator.db(sample.db);
    },
    ...(options.onProblem ? { onProblem: options.onProblem } : {}),
  });
  const scaling = scaleEventWatcher(options, narrator, startMs);
  const engine = new LoadEngine({
    target: options.target,
    plan: options.plan,
    maxInFlight: 512,
    connections: 64,
    timeoutMs: 30_000,
    demoRule: options.rule,
    onEvent: (event) => {
      if (event.type !== 'second') return;
      // After the plan's end several seconds may come together: each is told on its own.
      const seconds = [...new Set(event.stats.map((s) => s.t))].sort((a, b) => a - b);
      for (const t of seconds)
        for (const note of narrator.second(event.stats.filter((s) => s.t === t))) options.say(noteLine(note));
    },
  });
  const done = (async () => {
    const results = await engine.run();
    await scaling.stop();
    const system = await watcher.stop();
    return { ...results, system, notes: [...narrator.notes].sort((a, b) => a.t - b.t) };
  })();
  return { stop: () => engine.stop(), done };
}
