import type { Plan } from '../core/plan.ts';
import type { FunctionSummary, SecondStats } from '../core/recorder.ts';
import type { RunResults } from '../core/results.ts';

/** From the app to the browser engine's worker. */
export type WorkerCommand =
  | { type: 'start'; target: string; plan: Plan; maxInFlight: number }
  | { type: 'update'; change: Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>> }
  | { type: 'stop' };

/** From the worker to the app. */
export type WorkerEvent =
  | { type: 'second'; stats: SecondStats[]; inFlight: number; summary: FunctionSummary[] }
  | { type: 'cat'; src: string; id: string }
  | { type: 'done'; results: RunResults };
