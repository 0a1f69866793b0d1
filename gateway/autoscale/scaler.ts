import type { ScaleEvent, ScalingInfo } from '../../contract/openfaas.ts';
import type { Logger } from '../../functions/lib/log.ts';
import type { ReplicaSet } from '../replica-set.ts';
import {
  INITIAL_STATE,
  POLICIES,
  type PolicyName,
  type PolicySettings,
  type PolicyState,
  scaleUpsToMax,
} from './policies.ts';
import { RateWindow } from './rate.ts';

export interface AutoscalerOptions {
  policy: PolicyName;
  settings: PolicySettings;
  windowMs: number;
  /** Which answers the alert rule counts: OpenFaaS's rule counts code="200" only. */
  alertCodes: '200' | '2xx';
  /** How often tick() is called, for those who ask (GET /system/scaling). */
  tickMs?: number;
  log: Logger;
}

/** Applies a policy to every function once per tick, from the invocations the gateway recorded. */
export class Autoscaler {
  readonly windows = new Map<string, RateWindow>();
  readonly events: ScaleEvent[] = [];
  private readonly states = new Map<string, PolicyState>();

  constructor(
    private readonly sets: ReadonlyArray<ReplicaSet>,
    private readonly options: AutoscalerOptions,
  ) {
    for (const set of sets) this.windows.set(set.name, new RateWindow());
  }

  /** The policy this autoscaler applies. */
  get policy(): PolicyName {
    return this.options.policy;
  }

  /** The policy and its alert rule, as `GET /system/scaling` shows them. */
  info(): ScalingInfo {
    const { settings } = this.options;
    return {
      policy: this.options.policy,
      rule: {
        thresholdRps: settings.thresholdRps,
        windowS: this.options.windowMs / 1000,
        forS: settings.forMs / 1000,
        repeatS: settings.repeatMs / 1000,
      },
      stepsToMax: Object.fromEntries(
        this.sets.map((set) => [
          set.name,
          scaleUpsToMax(POLICIES[this.options.policy], set.spec.scale, settings),
        ]),
      ),
      alertCodes: this.options.alertCodes,
      tickMs: this.options.tickMs ?? 1000,
    };
  }

  record(fn: string, status: number, now = Date.now()): void {
    const ok = this.options.alertCodes === '200' ? status === 200 : status >= 200 && status < 300;
    this.windows.get(fn)?.record(now, status, ok);
  }

  rates(fn: string, now = Date.now()) {
    return this.windows.get(fn)?.rates(now, this.options.windowMs) ?? { rate200: 0, rate: 0 };
  }

  tick(now = Date.now()): void {
    const policy = POLICIES[this.options.policy];
    for (const set of this.sets) {
      // The set's current spec: a deploy may have changed its labels.
      const { spec } = set;
      if (set.removed) continue;
      const replicas = set.desired;
      const rates = this.rates(spec.name, now);
      const decision = policy(
        { now, replicas, ...rates },
        spec.scale,
        this.states.get(spec.name) ?? INITIAL_STATE,
        this.options.settings,
      );
      this.states.set(spec.name, decision.state);
      if (decision.replicas !== replicas) {
        const event: ScaleEvent = {
          at: new Date(now).toISOString(),
          function: spec.name,
          from: replicas,
          to: decision.replicas,
          reason: decision.reason ?? this.options.policy,
          observedRps: Math.round(rates.rate200 * 10) / 10,
        };
        this.events.push(event);
        if (this.events.length > 200) this.events.shift();
        this.options.log.info('scaling', { ...event, policy: this.options.policy });
        set.scaleTo(decision.replicas);
      }
    }
  }
}
