import { type LogMessage, OPENFAAS_NAMESPACE } from '../contract/openfaas.ts';
import { Broadcast } from './broadcast.ts';

/** Lines kept per function, and the longest line kept whole: the store's memory is bounded. */
export const LOG_LINES_PER_FUNCTION = 2000;
export const LOG_LINE_MAX_CHARS = 8192;

export interface LogQuery {
  name: string;
  instance?: string;
  since?: Date;
  /** The last this many lines; 0 or less: all. */
  tail: number;
}

/**
 * The replicas' output, a ring of recent lines per function, as `GET /system/logs` serves it
 * (faas-provider logs.Message: name, namespace, instance, timestamp, text); followers get each
 * new line as it comes.
 */
export class LogStore {
  private readonly rings = new Map<string, LogMessage[]>();
  private readonly lines = new Broadcast<LogMessage>();

  add(name: string, instance: string, text: string, at = new Date()): void {
    const message: LogMessage = {
      name,
      namespace: OPENFAAS_NAMESPACE,
      instance,
      timestamp: at.toISOString(),
      text: text.length > LOG_LINE_MAX_CHARS ? `${text.slice(0, LOG_LINE_MAX_CHARS)}…` : text,
    };
    const ring = this.rings.get(name) ?? [];
    ring.push(message);
    if (ring.length > LOG_LINES_PER_FUNCTION) ring.splice(0, ring.length - LOG_LINES_PER_FUNCTION);
    this.rings.set(name, ring);
    this.lines.send(message);
  }

  /** The stored lines a query asks for, oldest first. */
  query(q: LogQuery): LogMessage[] {
    const since = q.since?.getTime();
    const lines = (this.rings.get(q.name) ?? []).filter(
      (m) =>
        (q.instance === undefined || m.instance === q.instance) &&
        (since === undefined || Date.parse(m.timestamp) >= since),
    );
    return q.tail > 0 ? lines.slice(-q.tail) : lines;
  }

  /**
   * Calls `listener` with each new line of the query's function and instance until the
   * returned unsubscribe is called, or `onEnd` once the store closes (the gateway stops).
   */
  follow(
    q: Pick<LogQuery, 'name' | 'instance'>,
    listener: (message: LogMessage) => void,
    onEnd: () => void,
  ): () => void {
    return this.lines.subscribe((m) => {
      if (m.name === q.name && (q.instance === undefined || m.instance === q.instance)) listener(m);
    }, onEnd);
  }

  /** Ends every follower. */
  close(): void {
    this.lines.close();
  }
}
