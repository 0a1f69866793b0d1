import type { EngineEvent } from '../../../contract/engine.ts';

/** Reads a Server-Sent Events body to its end, calling `onEvent` with each `data:` payload parsed. */
export async function readEvents<T = EngineEvent>(
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
