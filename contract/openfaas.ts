import * as z from 'zod/mini';

/**
 * OpenFaaS's shapes as the local gateway speaks them. Field names are faas-provider's
 * (types.FunctionStatus, the scale-function request); the local gateway fills what it has.
 */
export interface FunctionStatus {
  name: string;
  image: string;
  namespace: string;
  envProcess: string;
  envVars: Record<string, string>;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  secrets: string[];
  replicas: number;
  availableReplicas: number;
  invocationCount: number;
  /** What the replicas use together; absent where it cannot be measured. */
  usage?: FunctionUsage;
}

/**
 * faas-provider types.FunctionUsage: `cpu` is the CPU used since the last measurement,
 * "equivalent to Kubernetes' concept of millicores", and `totalMemoryBytes` the memory in
 * bytes, both over all the function's replicas.
 */
export interface FunctionUsage {
  cpu: number;
  totalMemoryBytes: number;
}

/** The one namespace the local gateway has, as faas-netes CE's default. */
export const OPENFAAS_NAMESPACE = 'openfaas-fn';

/** faas-provider types.VersionInfo. */
export interface VersionInfo {
  sha: string;
  release: string;
}

/** `GET /system/info`: the gateway's GatewayInfo (faas gateway/types/inforequest.go). */
export interface GatewayInfo {
  provider: { provider: string; orchestration: string; version: VersionInfo };
  version: VersionInfo;
  arch: string;
}

/** One line of `GET /system/logs` (faas-provider logs.Message). */
export interface LogMessage {
  name: string;
  namespace: string;
  instance: string;
  /** RFC 3339. */
  timestamp: string;
  text: string;
}

/** One autoscaling decision of the local gateway, with its reason. */
export interface ScaleEvent {
  at: string;
  function: string;
  from: number;
  to: number;
  reason: string;
  /** The successful calls per second the alert rule saw over its window when it decided. */
  observedRps?: number;
}

/**
 * The talk's OpenFaaS (2018): the APIHighInvocationRate alert,
 * `rate(gateway_function_invocation_total{code="200"}[10s]) > 5` held `for: 5s`, and while it
 * fires 5 more replicas a minute, up to 20 (its default maximum); resolved: back to min.
 * The local gateway's defaults and the `seed-demo` profile are both derived from these numbers.
 */
export const TALK_RULE = {
  thresholdRps: 5,
  windowS: 10,
  forS: 5,
  repeatS: 60,
  step: 5,
  maxReplicas: 20,
} as const;

/** An alert rule's timing, as the demo needs it: what the local gateway reports at /system/scaling. */
export interface AlertRule {
  /** The alert fires above this many successful calls per second per function… */
  thresholdRps: number;
  /** …measured over this window… */
  windowS: number;
  /** …held for this long; … */
  forS: number;
  /** …and while it fires the policy scales again this often. */
  repeatS: number;
}

/** What the seed-demo profile is shaped from: an alert rule and how many scale-ups take a function from min to max. */
export interface DemoRule extends AlertRule {
  stepsToMax: number;
}

/** `GET /system/scaling` of the local gateway: the policy and its alert rule. */
export interface ScalingInfo {
  policy: string;
  rule: AlertRule;
  /** Per function: how many times its policy scales it on the way from min to max. */
  stepsToMax: Record<string, number>;
  /** Which answers the alert counts. */
  alertCodes: '200' | '2xx';
  /** How often the autoscaler looks at the rates, ms. */
  tickMs: number;
}

/** The rule a demo of these functions is shaped from: the gateway's, long enough for the slowest to reach max. */
export function demoRuleOf(info: ScalingInfo, functions: readonly string[]): DemoRule {
  return { ...info.rule, stepsToMax: Math.max(1, ...functions.map((fn) => info.stepsToMax[fn] ?? 1)) };
}

const stringMap = z.optional(z.nullable(z.record(z.string(), z.string())));

/**
 * The body of `POST`/`PUT /system/functions`: faas-provider's types.FunctionDeployment, as
 * `faas-cli deploy` sends it (maps may come as null; fields the local stack has no use for,
 * such as limits and constraints, are accepted and ignored, as Go's decoder ignores unknown ones).
 */
export const functionDeployment = z.looseObject({
  service: z.string().check(z.minLength(1)),
  image: z.string(),
  namespace: z.optional(z.string()),
  envProcess: z.optional(z.string()),
  envVars: stringMap,
  labels: stringMap,
  annotations: stringMap,
  secrets: z.optional(z.nullable(z.array(z.string()))),
});
export type FunctionDeployment = z.infer<typeof functionDeployment>;

/** The body of `DELETE /system/functions` (faas-provider types.DeleteFunctionRequest). */
export const deleteFunctionRequest = z.looseObject({
  functionName: z.string().check(z.minLength(1)),
  namespace: z.optional(z.string()),
});

/** The body of `POST /system/scale-function/{name}` (faas-cli and the app send it). */
export const scaleRequest = z.object({
  serviceName: z.optional(z.string()),
  replicas: z.number().check(z.int(), z.minimum(0), z.maximum(100)),
});
export type ScaleRequest = z.infer<typeof scaleRequest>;
