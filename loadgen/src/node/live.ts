import type { EngineCommand, EngineEvent } from '../../../contract/engine.ts';
import { LoadEngine } from './engine.ts';

/**
 * The server engine's process, started by the local gateway with an IPC channel:
 * load is generated here, outside the gateway's event loop, and the gateway only relays.
 * It speaks the engine protocol of contract/engine.ts, as the browser engine's worker does.
 */
const send = (event: EngineEvent) => process.send?.(event);
let engine: LoadEngine | undefined;

process.on('message', (command: EngineCommand) => {
  try {
    if (command.type === 'start' && !engine) {
      const running = new LoadEngine({
        target: command.target,
        plan: command.plan,
        maxInFlight: command.maxInFlight,
        connections: Math.min(256, command.maxInFlight),
        timeoutMs: command.timeoutMs,
        onEvent: send,
        ...(command.demoRule ? { demoRule: command.demoRule } : {}),
      });
      engine = running;
      send({ type: 'state', running: true, plan: command.plan });
      void running.run().then((results) => {
        send({ type: 'state', running: false, plan: results.plan });
        process.disconnect?.();
      });
    } else if (command.type === 'update' && engine) {
      engine.update(command.change);
      send({ type: 'state', running: true, plan: engine.currentPlan });
    } else if (command.type === 'stop') {
      if (engine) engine.stop();
      else process.disconnect?.();
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
  }
});
// The gateway went away: stop generating load.
process.on('disconnect', () => {
  engine?.stop();
  setTimeout(() => process.exit(0), 100).unref();
});
