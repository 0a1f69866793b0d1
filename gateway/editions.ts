import { TALK_RULE } from '../contract/openfaas.ts';
import type { PolicyName, ScaleLabels } from './autoscale/policies.ts';

/** What an OpenFaaS edition looks at when a function is deployed to it. */
export interface DeployRequest {
  name: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
}

/**
 * An OpenFaaS edition as the local gateway models it: its defaults for absent scale labels,
 * the most replicas it ever runs, and the deploy requests it refuses (with its own words).
 */
export interface Edition {
  title: string;
  defaults: ScaleLabels;
  /** What `/system/scale-function` makes of a requested replica count. */
  manualScale(replicas: number): number;
  /** Why this edition would refuse to deploy the function; empty when it accepts it. */
  refusals(fn: DeployRequest): string[];
}

const SCALE = 'com.openfaas.scale.';

/** `Atoi` as Go has it: an optional sign and digits only, else not a number. */
export const goAtoi = (v: string): number | undefined => (/^[+-]?\d+$/.test(v) ? Number(v) : undefined);

/** Community Edition's limit on replicas (faas-netes pkg/handlers/replica_reader.go: MaxReplicas = 5). */
export const CE_MAX_REPLICAS = 5;

/**
 * OpenFaaS Community Edition on Kubernetes (faas-netes). The rules and messages are those of
 * faas-netes pkg/handlers/validate.go (validateScalingLabels: zero=true, zero-duration, target
 * and type refused; min/max refused when an integer above MaxReplicas) and deploy.go
 * (buildAnnotations: cloud annotations and a multi-valued topic refused). The defaults and the
 * cap are the gateway's: openfaas/faas gateway/scaling/ranges.go (DefaultMinReplicas 1,
 * DefaultMaxReplicas 5, DefaultScalingFactor 10) and handlers/alerthandler.go
 * (CalculateReplicas caps max at DefaultMaxReplicas). Images must be pullable anonymously
 * (validate.go isAnonymous), which no file can show: see the README.
 */
const ce: Edition = {
  title: 'OpenFaaS Community Edition',
  defaults: { min: 1, max: CE_MAX_REPLICAS, factor: 10, target: 50, targetProportion: 0.9 },
  // gateway/scaling/ranges.go MakeHorizontalScalingHandler: below 1 → 1, above 5 → 5 (202 either way).
  manualScale: (replicas) => Math.min(CE_MAX_REPLICAS, Math.max(1, replicas)),
  refusals({ labels, annotations }) {
    const out: string[] = [];
    if (labels[`${SCALE}zero`] === 'true') out.push(`${SCALE}zero not available for Community Edition`);
    for (const key of ['zero-duration', 'target', 'type'])
      if (`${SCALE}${key}` in labels) out.push(`${SCALE}${key} not available for Community Edition`);
    for (const key of ['max', 'min']) {
      const n = goAtoi(labels[`${SCALE}${key}`] ?? '');
      if (n !== undefined && n > CE_MAX_REPLICAS)
        out.push(`${SCALE}${key} is set too high for Community Edition`);
    }
    if ((annotations.topic ?? '').includes(','))
      out.push('the topic annotation may only support one value in the Community Edition');
    for (const key of Object.keys(annotations))
      if (key.includes('amazonaws.com') || key.includes('gke.io'))
        out.push(`annotation ${JSON.stringify(key)} is not supported in the Community Edition`);
    return out;
  },
};

const PRO_TYPES = ['rps', 'capacity', 'cpu'];

/**
 * OpenFaaS Pro's autoscaler, from its documented labels (docs.openfaas.com/architecture/
 * autoscaling): type rps | capacity | cpu (default rps), target (default 50),
 * target-proportion (default 0.90), min (default 1), max (default 20), zero, zero-duration.
 * Its deploy-time checks are not public; these are the values the documentation allows.
 */
const pro: Edition = {
  title: 'OpenFaaS Pro',
  defaults: { min: 1, max: 20, factor: 20, target: 50, targetProportion: 0.9 },
  manualScale: (replicas) => replicas,
  refusals({ labels }) {
    const out: string[] = [];
    const type = labels[`${SCALE}type`];
    if (type !== undefined && !PRO_TYPES.includes(type))
      out.push(`${SCALE}type must be one of ${PRO_TYPES.join(', ')}; got ${JSON.stringify(type)}`);
    const positive = (key: string, max = Number.POSITIVE_INFINITY) => {
      const raw = labels[`${SCALE}${key}`];
      const n = Number(raw);
      if (raw !== undefined && !(n > 0 && n <= max))
        out.push(`${SCALE}${key} must be a number above 0${max < Infinity ? ` and at most ${max}` : ''}`);
    };
    positive('target');
    positive('target-proportion', 1);
    const min = Number(labels[`${SCALE}min`] ?? 1);
    const max = Number(labels[`${SCALE}max`] ?? 20);
    if (min > max) out.push(`${SCALE}min (${min}) is above ${SCALE}max (${max})`);
    return out;
  },
};

/**
 * The gateway of the 2018 talk: 5 more replicas a minute up to 20 (its default maximum then),
 * no edition checks at deploy time.
 */
const talk2018: Edition = {
  title: 'the talk’s OpenFaaS gateway (2018)',
  defaults: { min: 1, max: TALK_RULE.maxReplicas, factor: 20, target: 50, targetProportion: 0.9 },
  manualScale: (replicas) => replicas,
  refusals: () => [],
};

export const EDITIONS = { ce, pro, 'openfaas-2018': talk2018 } as const;
export type EditionName = keyof typeof EDITIONS;

/** The edition whose world each local scaling policy models (`off` keeps the local default, the talk's). */
export const POLICY_EDITION: Record<PolicyName, EditionName> = {
  'openfaas-2018': 'openfaas-2018',
  'openfaas-ce': 'ce',
  'rps-target': 'pro',
  off: 'openfaas-2018',
};

/** What each edition's deploy would refuse in a whole stack, one line per function and reason. */
export function stackRefusals(edition: Edition, functions: readonly DeployRequest[]): string[] {
  return functions.flatMap((fn) => edition.refusals(fn).map((r) => `${fn.name}: ${r}`));
}
