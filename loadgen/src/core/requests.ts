import type { TargetFunction } from '../../../contract/functions.ts';
import type { Plan } from '../../../contract/plan.ts';

export interface RequestSpec {
  method: 'GET' | 'POST';
  /** Path below the gateway: /function/{name}… */
  path: string;
}

/** What one call of a function is, the same in every engine. */
export function requestFor(fn: TargetFunction, plan: Pick<Plan, 'strategy'>): RequestSpec {
  return fn === 'randstore'
    ? { method: 'POST', path: '/function/randstore' }
    : { method: 'GET', path: `/function/randshow?strategy=${plan.strategy}` };
}
