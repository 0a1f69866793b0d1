import type { Context } from 'hono';
import { ERRORS, type ErrorCode } from '../contract/errors.ts';
import { OPENFAAS_NAMESPACE } from '../contract/openfaas.ts';

/**
 * An answer the gateway gives itself: a code from the contract's table, which fixes its
 * status, and the functions' JSON shape. Routes throw it; one handler turns it into the response.
 */
export class GatewayError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.status = ERRORS[code];
  }
}

export const functionNotFound = (name: string) =>
  new GatewayError('FUNCTION_NOT_FOUND', `no function named ${JSON.stringify(name.slice(0, 100))}`);

/**
 * A namespace given on a route (`?namespace=`, a deploy's body): only OpenFaaS's default one
 * exists here. faas-netes CE answers others 400 "namespace must be: openfaas-fn" (pkg/handlers
 * reader.go, deploy.go, update.go, delete.go), and so does this gateway.
 */
export function checkNamespace(namespace: string | undefined): void {
  if (namespace !== undefined && namespace !== '' && namespace !== OPENFAAS_NAMESPACE)
    throw new GatewayError('BAD_REQUEST', `namespace must be: ${OPENFAAS_NAMESPACE}`);
}

/**
 * A function as invocation paths name it: `randshow`, or `randshow.openfaas-fn` as faas-cli's
 * go-sdk sends it (functions.go InvokeFunction appends the namespace, openfaas-fn by default) (a function name has no dot; what follows one is the namespace).
 */
export function splitFunctionName(raw: string): string {
  const dot = raw.indexOf('.');
  if (dot < 0) return raw;
  const [name, namespace] = [raw.slice(0, dot), raw.slice(dot + 1)];
  if (namespace !== OPENFAAS_NAMESPACE)
    throw new GatewayError(
      'FUNCTION_NOT_FOUND',
      `no function ${JSON.stringify(name.slice(0, 100))} in namespace ${JSON.stringify(namespace.slice(0, 100))}: the local gateway has ${OPENFAAS_NAMESPACE} only`,
    );
  return name;
}

const CALL_PATHS = {
  function: /^\/function\/([^/?]+)(\/[^?]*)?(\?.*)?$/,
  'async-function': /^\/async-function\/([^/?]+)(\/[^?]*)?(\?.*)?$/,
};

/**
 * The function a call names and the rest of its URL, from `/function/{name}[/path][?query]`
 * (or `/async-function/…`) as it came, so nothing is re-encoded. A name that is not even
 * valid percent-encoding, or is in another namespace, names no function here.
 */
export function calledFunction(
  rawUrl: string,
  route: keyof typeof CALL_PATHS,
): { name: string; path: string } {
  const [, raw = '', rest, search] = CALL_PATHS[route].exec(rawUrl) ?? [];
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    throw functionNotFound(raw);
  }
  return { name: splitFunctionName(decoded), path: `${rest ?? '/'}${search ?? ''}` };
}

/** The body of a request as JSON (its size bounded by the route's bodyLimit); not JSON → 400. An empty body is null. */
export async function readJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  try {
    return JSON.parse(text || 'null');
  } catch {
    throw new GatewayError('BAD_REQUEST', 'the body must be JSON');
  }
}
