import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { z } from 'zod';
import { PROFILES } from '../../contract/plan.ts';
import { runMain } from '../../functions/lib/cli.ts';
import { httpUrl, int, parseEnv, type VariableSpec } from '../../functions/lib/env.ts';
import { planFromText } from '../src/core/plan.ts';
import { K6_SCRIPT } from './build.ts';
import { k6OperatorManifests } from './operator.ts';

const usage = `Usage: npm run k6:operator -- [options] > k6-testrun.yaml

Writes a ConfigMap with the k6 script and a TestRun for the grafana k6-operator, which runs the
script split over --parallelism runners on the cluster; the total rate stays the one given.

  --parallelism N      runners (default 4)
  --rate N --ratio R --duration D --profile P --strategy S
                       the plan, as for npm run load (profiles: ${PROFILES.join(', ')})
  --base-url URL       the gateway as the runners reach it (default http://gateway.openfaas:8080)
  --name NAME          the TestRun, and the testid tag (default systembreaker)
  --namespace NS       where both go (default default)
  --prometheus-rw URL  send k6's metrics there (-o experimental-prometheus-rw), e.g.
                       http://prometheus.openfaas:9090/api/v1/write
  --out FILE           write there instead of to stdout`;

/** A Kubernetes object name (RFC 1123 label). */
const kubeName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/);
const FLAGS = {
  '--parallelism': { schema: int(1, 1000), allowed: 'integer 1–1000', default: '4', description: '' },
  '--base-url': {
    schema: httpUrl,
    allowed: 'an http(s) URL',
    default: 'http://gateway.openfaas:8080',
    description: '',
  },
  '--name': {
    schema: kubeName,
    allowed: 'a Kubernetes name (a-z, 0-9, -)',
    default: 'systembreaker',
    description: '',
  },
  '--namespace': {
    schema: kubeName,
    allowed: 'a Kubernetes name (a-z, 0-9, -)',
    default: 'default',
    description: '',
  },
  '--prometheus-rw': {
    schema: httpUrl.optional(),
    allowed: 'an http(s) URL',
    default: undefined,
    description: '',
  },
} satisfies Record<string, VariableSpec>;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      parallelism: { type: 'string' },
      rate: { type: 'string' },
      ratio: { type: 'string' },
      duration: { type: 'string' },
      profile: { type: 'string' },
      strategy: { type: 'string' },
      'base-url': { type: 'string' },
      name: { type: 'string' },
      namespace: { type: 'string' },
      'prometheus-rw': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  {
    const flags = parseEnv(FLAGS, {
      '--parallelism': values.parallelism,
      '--base-url': values['base-url'],
      '--name': values.name,
      '--namespace': values.namespace,
      '--prometheus-rw': values['prometheus-rw'],
    });
    const manifests = k6OperatorManifests({
      plan: planFromText(values),
      parallelism: flags['--parallelism'],
      name: flags['--name'],
      namespace: flags['--namespace'],
      baseUrl: flags['--base-url'],
      prometheusRw: flags['--prometheus-rw'],
      script: await readFile(K6_SCRIPT, 'utf8'),
    });
    const yaml = manifests.map((m) => stringify(m, { lineWidth: 0 })).join('---\n');
    if (values.out) await writeFile(values.out, yaml);
    else process.stdout.write(yaml);
  }
}

await runMain(main);
