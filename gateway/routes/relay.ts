/**
 * Writes what a subscription delivers to a streamed answer, in order, until the client leaves
 * or the source ends (the server engine's events, a followed log).
 */
export async function relay<T>(
  subscribe: (push: (item: T) => void, end: () => void) => () => void,
  write: (item: T) => Promise<unknown>,
  onAbort: (stop: () => void) => void,
): Promise<void> {
  let queue: Promise<unknown> = Promise.resolve();
  await new Promise<void>((resolve) => {
    const unsubscribe = subscribe((item) => {
      queue = queue.then(() => write(item));
    }, resolve);
    onAbort(() => {
      unsubscribe();
      resolve();
    });
  });
  // A write that failed (the client went away meanwhile) ends the relay, not the gateway.
  await queue.catch(() => {});
}
