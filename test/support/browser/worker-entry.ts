// A page that runs the browser engine's worker directly with the engine protocol.
import type { EngineCommand, EngineEvent } from '../../../contract/engine.ts';
import type { RunResults } from '../../../contract/results.ts';

Object.assign(globalThis, {
  runWorker: (command: EngineCommand): Promise<RunResults> =>
    new Promise((resolve, reject) => {
      const worker = new Worker('/engine.worker.js', { type: 'module' });
      worker.onerror = (e) => reject(new Error(e.message));
      worker.onmessage = (e: MessageEvent<EngineEvent>) => {
        if (e.data.type !== 'done') return;
        worker.terminate();
        resolve(e.data.results);
      };
      worker.postMessage(command);
    }),
});
