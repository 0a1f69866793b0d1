import { describe, expect, it } from 'vitest';
import { EDITIONS, stackRefusals } from '../../gateway/editions.ts';

const fn = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  name: 'f',
  labels,
  annotations,
});
const ce = (labels: Record<string, string>, annotations?: Record<string, string>) =>
  EDITIONS.ce.refusals(fn(labels, annotations));

describe('OpenFaaS Community Edition’s deploy checks (faas-netes)', () => {
  it('refuses scale to zero, its duration, and the Pro-only scaling type and target', () => {
    expect(ce({ 'com.openfaas.scale.zero': 'true' })).toEqual([
      'com.openfaas.scale.zero not available for Community Edition',
    ]);
    expect(ce({ 'com.openfaas.scale.zero': 'false' })).toEqual([]);
    expect(ce({ 'com.openfaas.scale.zero-duration': '15m' })).toEqual([
      'com.openfaas.scale.zero-duration not available for Community Edition',
    ]);
    expect(ce({ 'com.openfaas.scale.type': 'rps', 'com.openfaas.scale.target': '20' })).toEqual([
      'com.openfaas.scale.target not available for Community Edition',
      'com.openfaas.scale.type not available for Community Edition',
    ]);
  });

  it('refuses min or max above 5, accepts 5, and lets a value that is not an integer through as Go’s Atoi does', () => {
    expect(ce({ 'com.openfaas.scale.min': '5', 'com.openfaas.scale.max': '5' })).toEqual([]);
    expect(ce({ 'com.openfaas.scale.max': '6' })).toEqual([
      'com.openfaas.scale.max is set too high for Community Edition',
    ]);
    expect(ce({ 'com.openfaas.scale.min': '20' })).toEqual([
      'com.openfaas.scale.min is set too high for Community Edition',
    ]);
    expect(ce({ 'com.openfaas.scale.max': '20.5' })).toEqual([]);
  });

  it('refuses cloud-provider annotations and a topic with several values', () => {
    expect(ce({}, { 'iam.gke.io/gcp-service-account': 'x' })).toEqual([
      'annotation "iam.gke.io/gcp-service-account" is not supported in the Community Edition',
    ]);
    expect(ce({}, { topic: 'a,b' })).toEqual([
      'the topic annotation may only support one value in the Community Edition',
    ]);
    expect(ce({}, { topic: 'a', 'prometheus.io.scrape': 'true' })).toEqual([]);
  });

  it('scales by hand as CE’s gateway does: 0 becomes 1, above 5 becomes 5', () => {
    expect([0, 1, 3, 5, 20].map(EDITIONS.ce.manualScale)).toEqual([1, 1, 3, 5, 5]);
  });

  it('names the function in each refusal of a stack', () => {
    const stack = [
      { ...fn({ 'com.openfaas.scale.max': '20' }), name: 'randshow' },
      { ...fn({}), name: 'dbstats' },
    ];
    expect(stackRefusals(EDITIONS.ce, stack)).toEqual([
      'randshow: com.openfaas.scale.max is set too high for Community Edition',
    ]);
  });
});

describe('OpenFaaS Pro’s documented labels', () => {
  it('accepts rps, capacity and cpu scaling with a positive target, and refuses others', () => {
    const pro = (labels: Record<string, string>) => EDITIONS.pro.refusals(fn(labels));
    expect(
      pro({
        'com.openfaas.scale.type': 'capacity',
        'com.openfaas.scale.target': '20',
        'com.openfaas.scale.max': '40',
      }),
    ).toEqual([]);
    expect(pro({ 'com.openfaas.scale.type': 'memory' })).toEqual([
      'com.openfaas.scale.type must be one of rps, capacity, cpu; got "memory"',
    ]);
    expect(pro({ 'com.openfaas.scale.target': '0' })).toEqual([
      'com.openfaas.scale.target must be a number above 0',
    ]);
    expect(pro({ 'com.openfaas.scale.min': '30' })).toEqual([
      'com.openfaas.scale.min (30) is above com.openfaas.scale.max (20)',
    ]);
  });
});
