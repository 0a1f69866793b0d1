// A page that drives the app's EngineController outside Lit, for the engine tests: a host
// that only counts updates, and the worker from the bundle the test serves beside it.
import type { Plan } from '../../../contract/plan.ts';
import { EngineController, type EngineKind } from '../../../loadgen/src/app/engine-controller.ts';

const host = { addController() {}, requestUpdate() {} };
const seconds: number[] = [];
const controller = new EngineController(
  host as never,
  { onSecond: (stats) => seconds.push(...stats.map((s) => s.sent)), onCat() {} },
  () => new Worker('/engine.worker.js', { type: 'module' }),
);

Object.assign(globalThis, {
  engine: {
    start: (kind: EngineKind, target: string, plan: Plan) => controller.start(kind, target, plan, {}),
    stop: () => controller.stop(),
    reconnect: () => controller.reconnect(),
    state: () => ({
      status: controller.status,
      error: controller.error ?? null,
      sent: seconds.reduce((a, b) => a + b, 0),
      summary: controller.summary,
    }),
  },
});
