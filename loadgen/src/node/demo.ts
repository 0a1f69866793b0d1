import { TARGET_FUNCTIONS } from '../../../contract/functions.ts';
import { demoRuleOf, type ScaleEvent, type ScalingInfo } from '../../../contract/openfaas.ts';
import type { Plan } from '../../../contract/plan.ts';
import type { RunResults, SystemSample } from '../../../contract/results.ts';
import { Narrator, noteLine } from '../core/narrate.ts';
import { type DemoRule, TALK_DEMO } from '../core/plan.ts';
import { LoadEngine } from './engine.ts';
import { getJson } from './gateway-client.ts';
import { SystemWatcher } from './system.ts';

/** The rule a demo is shaped from, where it came from, and the policy it describes. */
export interface LearnedRule {
  rule: DemoRule;
  policy: string;
  /** How the rule was learnt, for the introduction. */
  source: string;
}

/**
 * The gateway's own alert rule and how many scale-ups its policy needs from min to max
 * (`GET /system/scaling`, the local gateway's). A gateway without that route (OpenFaaS
 * itself) is taken to run the talk's rule.
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
  return {
    rule: demoRuleOf(scaling.body, TARGET_FUNCTIONS),
    policy: scaling.body.policy,
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
  const poll = async () => {
    const { body } = await getJson<ScaleEvent[]>(url, options.headers).catch(() => ({ body: undefined }));
    for (const note of narrator.scaleEvents(body ?? [], startMs)) options.say(noteLine(note));
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
      for (const note of narrator.seconds(event.stats)) options.say(noteLine(note));
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
