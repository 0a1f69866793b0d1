import { TALK_RULE } from '../../contract/openfaas.ts';
import { CE_MAX_REPLICAS } from '../editions.ts';

/** The scale labels OpenFaaS reads from a function (`com.openfaas.scale.*`). */
export interface ScaleLabels {
  min: number;
  max: number;
  /** Percentage of max added per alert (CE); 0 disables alert-based scaling. */
  factor: number;
  /** Target load per replica (rps-target). */
  target: number;
  /** Share of the target a replica should run at (OpenFaaS Pro's target-proportion). */
  targetProportion: number;
}

/** What the gateway measured for one function at one instant. */
export interface Observation {
  /** Milliseconds on the scaler's clock. */
  now: number;
  /** Replicas the function is set to now. */
  replicas: number;
  /** Successful (HTTP 200) invocations per second over the alert window: what the CE alert rule sees. */
  rate200: number;
  /** All invocations per second over the window. */
  rate: number;
}

export interface PolicySettings {
  /** The alert fires above this many 200s per second (the rule's `> 5`). */
  thresholdRps: number;
  /** …held for this long (the rule's `for: 5s`). */
  forMs: number;
  /** While the alert keeps firing, scale again this often (AlertManager's repeat). */
  repeatMs: number;
  /** rps-target scales down no lower than the highest wish in this window (an HPA's stabilisation). */
  scaleDownWindowMs: number;
}

export interface PolicyState {
  /** When the rate first went above the threshold in the current run, if it is above. */
  pendingSince?: number;
  firing: boolean;
  lastScaleAt?: number;
  /** rps-target: recent wishes, newest last. */
  wishes?: Array<{ at: number; replicas: number }>;
}

export interface Decision {
  replicas: number;
  state: PolicyState;
  /** Why the replicas changed, when they did. */
  reason?: string;
}

export type Policy = (
  obs: Observation,
  labels: ScaleLabels,
  state: PolicyState,
  settings: PolicySettings,
) => Decision;

export const INITIAL_STATE: PolicyState = { firing: false };

const clamp = (n: number, labels: ScaleLabels) => Math.min(labels.max, Math.max(labels.min, n));

/**
 * The alert both OpenFaaS rules share: `rate(…{code="200"}[window]) > threshold` for `forMs`.
 * Returns the new state and whether the alert fired, repeated or resolved at this instant.
 */
function alert(
  obs: Observation,
  state: PolicyState,
  settings: PolicySettings,
): { state: PolicyState; event?: 'fire' | 'repeat' | 'resolve' } {
  if (obs.rate200 <= settings.thresholdRps) {
    return state.firing ? { state: { firing: false }, event: 'resolve' } : { state: { firing: false } };
  }
  const pendingSince = state.pendingSince ?? obs.now;
  if (!state.firing) {
    if (obs.now - pendingSince < settings.forMs) return { state: { firing: false, pendingSince } };
    return { state: { firing: true, pendingSince, lastScaleAt: obs.now }, event: 'fire' };
  }
  if (obs.now - (state.lastScaleAt ?? obs.now) >= settings.repeatMs) {
    return { state: { ...state, lastScaleAt: obs.now }, event: 'repeat' };
  }
  return { state };
}

/**
 * The talk's 2018 gateway: while APIHighInvocationRate fires, 5 more replicas a minute
 * (1 → 5 → 10 → 15 → 20, up to max); when it clears, back to min at once.
 */
export const openfaas2018: Policy = (obs, labels, state, settings) => {
  const { state: next, event } = alert(obs, state, settings);
  if (event === 'fire' || event === 'repeat') {
    const step = TALK_RULE.step;
    const replicas = Math.min(labels.max, (Math.floor(obs.replicas / step) + 1) * step);
    return {
      replicas,
      state: next,
      reason: `APIHighInvocationRate ${event === 'fire' ? 'fired' : 'still firing'}: +${replicas - obs.replicas}`,
    };
  }
  if (event === 'resolve')
    return { replicas: labels.min, state: next, reason: 'alert resolved: back to min' };
  return { replicas: obs.replicas, state: next };
};

/**
 * OpenFaaS Community Edition today (openfaas/faas gateway/handlers/alerthandler.go,
 * CalculateReplicas): max is capped at 5 whatever the label says; each firing of the alert
 * adds ceil(max × factor / 100) replicas, up to max; resolved → min at once. A factor
 * outside 1–100 is an error there (plugin/external.go GetReplicas: "bad scaling factor"),
 * and the alert then changes nothing, not even on resolve.
 */
export const openfaasCe: Policy = (obs, labels, state, settings) => {
  const { state: next, event } = alert(obs, state, settings);
  if (labels.factor <= 0 || labels.factor > 100) return { replicas: obs.replicas, state: next };
  const max = Math.min(labels.max, CE_MAX_REPLICAS);
  const step = Math.ceil((max * labels.factor) / 100);
  if (event === 'fire' || event === 'repeat') {
    return {
      replicas: Math.min(max, obs.replicas + step),
      state: next,
      reason: `APIHighInvocationRate ${event === 'fire' ? 'fired' : 'still firing'}: +${step}`,
    };
  }
  if (event === 'resolve')
    return { replicas: labels.min, state: next, reason: 'alert resolved: back to min' };
  return { replicas: obs.replicas, state: next };
};

/**
 * Replicas in proportion to load, as OpenFaaS Pro's rps mode or an HPA on a custom metric:
 * ceil(rate ÷ (target × proportion)), within min and max; up at once, down only as far as
 * the highest wish of the last scaleDownWindowMs.
 */
export const rpsTarget: Policy = (obs, labels, state, settings) => {
  const perReplica = Math.max(labels.target * labels.targetProportion, Number.EPSILON);
  const wish = clamp(Math.ceil(obs.rate / perReplica), labels);
  const wishes = [...(state.wishes ?? []), { at: obs.now, replicas: wish }].filter(
    (w) => obs.now - w.at <= settings.scaleDownWindowMs,
  );
  const stable = Math.max(...wishes.map((w) => w.replicas));
  const replicas = wish > obs.replicas ? wish : Math.min(obs.replicas, stable);
  const next = { firing: false, wishes };
  if (replicas === obs.replicas) return { replicas, state: next };
  return {
    replicas,
    state: next,
    reason: `${obs.rate.toFixed(1)} req/s ÷ (${labels.target} × ${labels.targetProportion}) per replica`,
  };
};

/** Fixed replicas: only /system/scale-function changes them. */
export const off: Policy = (obs, _labels, state) => ({ replicas: obs.replicas, state });

/**
 * How many times a policy changes the replicas on the way from min to max under a load that
 * keeps its alert firing (or, for rps-target, far above its target): what the seed-demo
 * profile must hold its peak for. Found by running the policy, not restated beside it.
 */
export function scaleUpsToMax(policy: Policy, labels: ScaleLabels, settings: PolicySettings): number {
  const rate = Math.max(settings.thresholdRps * 2, labels.max * labels.target * 2, 1);
  let state = INITIAL_STATE;
  let replicas = labels.min;
  let ups = 0;
  // The first look starts the alert's `for`, the second fires it, each further one a repeat.
  const times = [
    0,
    settings.forMs,
    ...Array.from({ length: 100 }, (_, i) => settings.forMs + (i + 1) * settings.repeatMs),
  ];
  for (const now of times) {
    if (replicas >= labels.max) break;
    const decision = policy({ now, replicas, rate200: rate, rate }, labels, state, settings);
    if (decision.replicas > replicas) ups++;
    replicas = decision.replicas;
    state = decision.state;
  }
  return ups;
}

export const POLICIES = {
  'openfaas-2018': openfaas2018,
  'openfaas-ce': openfaasCe,
  'rps-target': rpsTarget,
  off,
} as const satisfies Record<string, Policy>;

export type PolicyName = keyof typeof POLICIES;

/** What each policy does to replicas set by hand (/system/scale-function, faas-cli scale). */
export const MANUAL_SCALE_FATE: Record<PolicyName, string> = {
  'openfaas-2018':
    'openfaas-2018 keeps it until APIHighInvocationRate fires (it then adds 5 at a time) or resolves (back to min)',
  'openfaas-ce':
    'openfaas-ce keeps it until APIHighInvocationRate fires (it then adds replicas) or resolves (back to min)',
  'rps-target': 'rps-target replaces it at its next tick with what the request rate asks for',
  off: 'the scaling policy is off: it stays until scaled again',
};
export const POLICY_NAMES = Object.keys(POLICIES) as [PolicyName, ...PolicyName[]];
