import { CRITICAL, PluginError } from './state.ts';

export interface HttpAnswer {
  status: number;
  body: string;
  /** From sending the request to the end of the body. */
  seconds: number;
}

/** Why a request got no answer, in the words of the error's code (ECONNREFUSED, ENOTFOUND, …). */
function noAnswer(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  return String(cause?.code ?? cause?.message ?? (err as Error).message);
}

/**
 * GET `url`, body read to the end. No answer at all (refused, no route, reset) is CRITICAL:
 * what the check looks at is down. When `signal` aborts (the plugin's timeout), its reason
 * is thrown.
 */
export async function httpGet(
  url: URL,
  signal: AbortSignal,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  const start = performance.now();
  try {
    const res = await fetch(url, { headers, signal, redirect: 'manual' });
    const body = await res.text();
    return { status: res.status, body, seconds: (performance.now() - start) / 1000 };
  } catch (err) {
    if (signal.aborted) throw signal.reason;
    throw new PluginError(CRITICAL, `cannot reach ${url.origin}: ${noAnswer(err)}`);
  }
}

/** `503 NO_REPLICAS: message` from the JSON error the gateway and the functions answer, else the status. */
export function describeAnswer(answer: HttpAnswer): string {
  try {
    const { error } = JSON.parse(answer.body) as { error?: { code?: string; message?: string } };
    if (error?.code) return `${answer.status} ${error.code}${error.message ? `: ${error.message}` : ''}`;
  } catch {
    // Not JSON: the status says it.
  }
  const text = answer.body.trim().slice(0, 80);
  return text ? `${answer.status} (${text})` : String(answer.status);
}

export const is2xx = (status: number): boolean => status >= 200 && status < 300;

/** `http://gw:8080/prefix/` + `function/randshow`, keeping a path prefix the gateway URL has. */
export function under(base: URL, relative: string): URL {
  const root = base.href.endsWith('/') ? base.href : `${base.href}/`;
  return new URL(relative, root);
}
