import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { UsageMeter } from './usage.ts';

/** What the gateway's metrics read of a function's replicas at scrape time. */
export interface ReplicaCount {
  name: string;
  desired: number;
  available: number;
  /** The live replicas' process ids, for their CPU. */
  pids: number[];
}

/** The OpenFaaS gateway's metric names, so the same alert rule and dashboards work locally. */
export interface GatewayMetrics {
  registry: Registry;
  invocations: Counter<'function_name' | 'code'>;
  seconds: Histogram<'function_name' | 'code'>;
  started: Counter<'function_name'>;
  /** Called at scrape time for replica counts and processes per function. */
  watchReplicas(read: () => ReplicaCount[]): void;
}

export function createGatewayMetrics(): GatewayMetrics {
  const registry = new Registry();
  const registers = [registry];
  let replicas: () => ReplicaCount[] = () => [];
  // One meter per function: each remembers its replicas' CPU at the previous scrape.
  const meters = new Map<string, UsageMeter>();
  new Gauge({
    name: 'gateway_service_count',
    help: 'Replicas of each function (desired).',
    labelNames: ['function_name'],
    registers,
    collect() {
      for (const f of replicas()) this.set({ function_name: f.name }, f.desired);
    },
  });
  new Gauge({
    name: 'gateway_service_available_replicas',
    help: 'Replicas of each function that are ready and take traffic.',
    labelNames: ['function_name'],
    registers,
    collect() {
      for (const f of replicas()) this.set({ function_name: f.name }, f.available);
    },
  });
  new Gauge({
    name: 'gateway_function_cpu_seconds_per_second',
    help: "CPU seconds per second of all of a function's replicas since the previous scrape (user + system, from /proc): 1 is one core busy.",
    labelNames: ['function_name'],
    registers,
    async collect() {
      for (const f of replicas()) {
        const meter = meters.get(f.name) ?? new UsageMeter();
        meters.set(f.name, meter);
        const usage = await meter.measure(f.pids);
        if (usage) this.set({ function_name: f.name }, usage.cpu / 1000);
      }
    },
  });
  return {
    registry,
    invocations: new Counter({
      name: 'gateway_function_invocation_total',
      help: 'Function invocations through the gateway, by HTTP status code.',
      labelNames: ['function_name', 'code'],
      registers,
    }),
    seconds: new Histogram({
      name: 'gateway_functions_seconds',
      help: 'Function invocation time through the gateway.',
      labelNames: ['function_name', 'code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    }),
    started: new Counter({
      name: 'gateway_function_invocation_started',
      help: 'Function invocations started through the gateway.',
      labelNames: ['function_name'],
      registers,
    }),
    watchReplicas(read) {
      replicas = read;
    },
  };
}

interface Family {
  meta: string[];
  samples: string[];
}

/**
 * Merges the Prometheus text of several replicas into one exposition, adding a
 * `replica` label to every sample and keeping each metric family in one block
 * (the format requires it).
 */
export function mergeReplicaMetrics(sources: Array<{ replica: string; text: string }>): string {
  const families = new Map<string, Family>();
  for (const { replica, text } of sources) {
    let current: Family | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const meta = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (meta) {
        const name = meta[2] as string;
        current = families.get(name);
        if (!current) {
          current = { meta: [], samples: [] };
          families.set(name, current);
        }
        if (current.meta.length < 2 && !current.meta.some((m) => m.startsWith(`# ${meta[1]} `)))
          current.meta.push(line);
        continue;
      }
      if (line.startsWith('#') || !current) continue;
      const label = `replica="${replica}"`;
      const brace = line.indexOf('{');
      const space = line.indexOf(' ');
      current.samples.push(
        brace >= 0 && brace < space
          ? `${line.slice(0, brace + 1)}${label},${line.slice(brace + 1)}`.replace(',}', '}')
          : `${line.slice(0, space)}{${label}}${line.slice(space)}`,
      );
    }
  }
  return (
    [...families.values()].map((f) => [...f.meta, ...f.samples].join('\n')).join('\n') +
    (families.size ? '\n' : '')
  );
}
