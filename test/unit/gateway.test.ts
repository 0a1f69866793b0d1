import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../functions/lib/config.ts';
import { parseGatewayConfig } from '../../gateway/config.ts';
import { EDITIONS } from '../../gateway/editions.ts';
import { stackFor } from '../../gateway/local-stack.ts';
import { mergeReplicaMetrics } from '../../gateway/metrics.ts';
import { parseStack, scaleLabels, substituteEnv } from '../../gateway/stack.ts';

describe('stack.yml', () => {
  it('gives every function valid scale labels and an environment the config schema accepts', async () => {
    const functions = parseStack(await readFile('stack.yml', 'utf8'), {});
    expect(functions.map((f) => f.name)).toEqual(['randstore', 'randshow', 'dbstats']);
    for (const f of functions) {
      expect(f.scale.min).toBeLessThanOrEqual(f.scale.max);
      expect(() => parseConfig(f.environment, ['FUNCTION'])).not.toThrow();
      expect(f.environment.FUNCTION).toBe(f.name);
      expect(f.secrets).toEqual([f.environment.MYSQL_PASSWORD_SECRET]);
    }
  });

  it('substitutes ${VAR} and ${VAR:-default} as faas-cli does', () => {
    expect(substituteEnv('${REGISTRY:-ttl.sh/x}/a:${TAG:-1}', { TAG: '2' })).toBe('ttl.sh/x/a:2');
    const [fn] = parseStack(
      'version: 1.0\nprovider: {name: openfaas}\nfunctions:\n  f: {image: "${R:-r}/f"}\n',
      {
        R: 'registry.local',
      },
    );
    expect(fn?.image).toBe('registry.local/f');
  });

  it('defaults missing scale labels as the edition does (CE unless told), and names a bad one', () => {
    expect(scaleLabels('f', {})).toEqual({ min: 1, max: 5, factor: 10, target: 50, targetProportion: 0.9 });
    expect(scaleLabels('f', {}, EDITIONS.pro.defaults)).toMatchObject({
      max: 20,
      target: 50,
      targetProportion: 0.9,
    });
    expect(() => scaleLabels('f', { 'com.openfaas.scale.max': 'lots' })).toThrow(
      'f: label com.openfaas.scale.max must be a number from 1 to 1000; got "lots"',
    );
    expect(() => scaleLabels('f', { 'com.openfaas.scale.min': '5', 'com.openfaas.scale.max': '2' })).toThrow(
      /min \(5\) is above max \(2\)/,
    );
  });
});

describe('the stack as each policy’s edition sees it', () => {
  const config = (policy: string) => parseGatewayConfig({ SCALING_POLICY: policy, STACK_FILE: 'stack.yml' });
  const maxima = async (policy: string, env: NodeJS.ProcessEnv = {}) =>
    (await stackFor(config(policy), env)).map((f) => f.scale.max);

  it('default: the talk’s 20 replicas locally, CE’s 5 under openfaas-ce', async () => {
    expect(await maxima('openfaas-2018')).toEqual([20, 20, 1]);
    expect(await maxima('rps-target')).toEqual([20, 20, 1]);
    expect(await maxima('openfaas-ce')).toEqual([5, 5, 1]);
  });

  it('override: MAX_REPLICAS from the environment wins', async () => {
    expect(await maxima('openfaas-2018', { MAX_REPLICAS: '8' })).toEqual([8, 8, 1]);
  });

  it('refuses, in CE’s words, a stack CE would refuse', async () => {
    await expect(stackFor(config('openfaas-ce'), { MAX_REPLICAS: '20' })).rejects.toThrow(
      'OpenFaaS Community Edition (SCALING_POLICY=openfaas-ce) would refuse stack.yml:\n' +
        '  - randstore: com.openfaas.scale.max is set too high for Community Edition',
    );
  });
});

describe('replica metrics merge', () => {
  const text = (n: number) =>
    [
      '# HELP systembreaker_requests_total Requests.',
      '# TYPE systembreaker_requests_total counter',
      `systembreaker_requests_total{code="200",function_name="randshow"} ${n}`,
      '# HELP process_uptime Uptime.',
      '# TYPE process_uptime gauge',
      `process_uptime ${n}`,
      '',
    ].join('\n');

  it('labels every sample with its replica and keeps each family in one block', () => {
    const merged = mergeReplicaMetrics([
      { replica: 'randshow-1', text: text(1) },
      { replica: 'randshow-2', text: text(2) },
    ]);
    expect(merged.split('\n')).toEqual([
      '# HELP systembreaker_requests_total Requests.',
      '# TYPE systembreaker_requests_total counter',
      'systembreaker_requests_total{replica="randshow-1",code="200",function_name="randshow"} 1',
      'systembreaker_requests_total{replica="randshow-2",code="200",function_name="randshow"} 2',
      '# HELP process_uptime Uptime.',
      '# TYPE process_uptime gauge',
      'process_uptime{replica="randshow-1"} 1',
      'process_uptime{replica="randshow-2"} 2',
      '',
    ]);
  });
});
