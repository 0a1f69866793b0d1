import { errorCodeOf } from './errors.ts';
import type { DemoRule } from './openfaas.ts';
import type { Plan, PlanChange } from './plan.ts';
import type { FunctionSummary, RunResults, SecondStats } from './results.ts';

/**
 * One protocol for every engine a controller drives: the browser engine's Web Worker
 * (postMessage) and the gateway's live server engine (commands over HTTP and IPC, events
 * as Server-Sent Events).
 */
export type EngineCommand =
  | {
      type: 'start';
      target: string;
      plan: Plan;
      maxInFlight: number;
      timeoutMs: number;
      /** The rule the seed-demo profile is shaped from (default: the talk's). */
      demoRule?: DemoRule;
    }
  | { type: 'update'; change: PlanChange }
  | { type: 'stop' };

export type EngineEvent =
  | { type: 'state'; running: boolean; plan: Plan | null }
  | { type: 'second'; stats: SecondStats[]; inFlight: number; summary: FunctionSummary[] }
  | { type: 'cat'; src: string; id: string }
  | { type: 'done'; results: RunResults }
  | { type: 'error'; message: string };

/** A call that got no HTTP answer: it ran out of time, or the connection failed. */
export type Failure = 'timeout' | 'network';

/** What came back for one call, as any engine sees it. */
export type Answer = { status: number; body?: string } | { failure: Failure };

/**
 * The code a call is counted under when it did not succeed, the same in every engine: the
 * error body's stable code; `HTTP_<status>` for an error without one; TIMEOUT or NETWORK
 * for no answer (a browser cannot tell a refused connection from any other, so no engine
 * does). Undefined for a success.
 */
export function outcomeCode(answer: Answer): string | undefined {
  if ('failure' in answer) return answer.failure === 'timeout' ? 'TIMEOUT' : 'NETWORK';
  if (answer.status < 400) return undefined;
  return errorCodeOf(answer.body ?? '') ?? `HTTP_${answer.status}`;
}
