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

/** Reads a Server-Sent Events body to its end, calling `onEvent` with each `data:` payload parsed. */
export async function readEvents<T = LiveEvent>(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: T) => void,
): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
      const frame = buffer.slice(0, i);
      buffer = buffer.slice(i + 2);
      if (frame.startsWith('data: ')) onEvent(JSON.parse(frame.slice(6)) as T);
    }
  }
}
