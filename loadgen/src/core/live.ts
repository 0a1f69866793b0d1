import type { Plan } from './plan.ts';
import type { FunctionSummary, SecondStats } from './recorder.ts';

/**
 * Messages of the live-controlled server engine. The app sends control requests to the
 * gateway (`/system/loadgen/…`) and receives these as Server-Sent Events; the gateway
 * relays them from the engine's process.
 */
export type LiveEvent =
  | { type: 'state'; running: boolean; plan: Plan | null }
  | { type: 'second'; stats: SecondStats[]; inFlight: number; summary: FunctionSummary[] }
  | { type: 'done'; summary: FunctionSummary[] }
  | { type: 'error'; message: string };

/** What the gateway tells the engine's process. */
export type LiveCommand =
  | { type: 'start'; target: string; plan: Plan; maxInFlight: number }
  | { type: 'update'; change: Partial<Pick<Plan, 'rate' | 'ratio' | 'strategy'>> }
  | { type: 'stop' };
