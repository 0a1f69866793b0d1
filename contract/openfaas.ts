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
}

/** One autoscaling decision of the local gateway, with its reason. */
export interface ScaleEvent {
  at: string;
  function: string;
  from: number;
  to: number;
  reason: string;
}

/** The body of `POST /system/scale-function/{name}` (faas-cli and the app send it). */
export const scaleRequest = z.object({
  serviceName: z.optional(z.string()),
  replicas: z.number().check(z.int(), z.minimum(0), z.maximum(100)),
});
export type ScaleRequest = z.infer<typeof scaleRequest>;
