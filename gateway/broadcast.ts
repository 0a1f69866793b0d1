/**
 * A stream of events and its subscribers: each gets every event sent after it subscribed,
 * and its `onEnd` once the stream closes for good (the gateway stops).
 */
export class Broadcast<T> {
  private readonly subscribers = new Map<(event: T) => void, () => void>();

  /** Returns the unsubscribe. */
  subscribe(listener: (event: T) => void, onEnd: () => void): () => void {
    this.subscribers.set(listener, onEnd);
    return () => this.subscribers.delete(listener);
  }

  send(event: T): void {
    for (const listener of this.subscribers.keys()) listener(event);
  }

  close(): void {
    const ends = [...this.subscribers.values()];
    this.subscribers.clear();
    for (const end of ends) end();
  }
}
