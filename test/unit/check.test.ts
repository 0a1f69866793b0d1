import { writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatNumber, formatOutput, formatPerf } from '../../check/perfdata.ts';
import { runPlugin, VERSION, verdict, withTimeout } from '../../check/plugin.ts';
import { histogramQuantile, increases, parseExposition } from '../../check/prometheus.ts';
import { alerts, parseRange, stateOf } from '../../check/range.ts';
import type { Gathered } from '../../check/reading.ts';
import { CRITICAL, OK, PluginError, UNKNOWN, WARNING } from '../../check/state.ts';
import pkg from '../../package.json' with { type: 'json' };

describe('threshold ranges', () => {
  // [range, values that raise the alert, values that do not]
  it.each([
    ['10', [-1, 10.5, 11], [0, 5, 10]],
    ['10:', [-1, 9.99], [10, 11, 1e9]],
    ['~:10', [10.01, 11], [-1e9, 0, 10]],
    ['10:20', [9, 21], [10, 15, 20]],
    ['@10:20', [10, 15, 20], [9.99, 20.01]],
    [':5', [-0.1, 5.1], [0, 5]],
    ['-5:-1', [-6, 0], [-5, -3, -1]],
    ['@10', [0, 10], [-1, 11]],
    ['1.5:2.5', [1.4, 2.6], [1.5, 2.5]],
    ['~:', [], [-1e9, 0, 1e9]],
  ] as const)('%s alerts for %j and not for %j', (text, raising, quiet) => {
    const range = parseRange('-w/--warning', text);
    for (const v of raising) expect(alerts(range, v), `${text} at ${v}`).toBe(true);
    for (const v of quiet) expect(alerts(range, v), `${text} at ${v}`).toBe(false);
  });

  it('never alerts for a value that could not be measured', () => {
    expect(alerts(parseRange('-c', '@0:100'), undefined)).toBe(false);
    expect(alerts(parseRange('-c', '@0:100'), Number.NaN)).toBe(false);
  });

  it.each([
    ['abc', '"abc" is not a number'],
    ['20:10', 'its start 20 is above its end 10'],
    ['@', 'it is empty'],
    ['', 'it is empty'],
    ['1:2:3', 'more than one colon'],
    ['~', '"~" is not a number'],
    ['1e3', '"1e3" is not a number'],
    ['10:abc', '"abc" is not a number'],
  ])('refuses %j, naming the option, the value and why', (text, why) => {
    let error: unknown;
    try {
      parseRange('-c/--critical', text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PluginError);
    expect((error as PluginError).state).toBe(UNKNOWN);
    expect((error as PluginError).message).toContain(
      `-c/--critical ${JSON.stringify(text)} is not a threshold range`,
    );
    expect((error as PluginError).message).toContain(why);
  });

  it('is CRITICAL when the critical range alerts, whatever the warning range says, then WARNING, then OK', () => {
    const thresholds = { warning: parseRange('-w', '80'), critical: parseRange('-c', '95') };
    expect(stateOf(50, thresholds)).toBe(OK);
    expect(stateOf(80, thresholds)).toBe(OK);
    expect(stateOf(81, thresholds)).toBe(WARNING);
    expect(stateOf(96, thresholds)).toBe(CRITICAL);
    // A critical range narrower than the warning one still wins where both alert.
    expect(stateOf(5, { warning: parseRange('-w', '10:'), critical: parseRange('-c', '@0:5') })).toBe(
      CRITICAL,
    );
    expect(stateOf(96, { critical: parseRange('-c', '95') })).toBe(CRITICAL);
    expect(stateOf(96, {})).toBe(OK);
  });
});

describe('perfdata', () => {
  it('quotes the label, adds the unit, repeats the ranges as given and drops trailing empty fields', () => {
    expect(
      formatPerf({
        label: 'time',
        value: 0.012,
        uom: 's',
        warning: parseRange('-w', '0.5'),
        critical: parseRange('-c', '2'),
        min: 0,
      }),
    ).toBe("'time'=0.012s;0.5;2;0");
    expect(formatPerf({ label: 'replicas', value: 4, uom: '', min: 0, max: 20 })).toBe("'replicas'=4;;;0;20");
    expect(formatPerf({ label: 'rate', value: 12.5, uom: '' })).toBe("'rate'=12.5");
    expect(formatPerf({ label: 'errors', value: 0, uom: '%', critical: parseRange('-c', '@10:20') })).toBe(
      "'errors'=0%;;@10:20",
    );
  });

  it('doubles a single quote in a label and writes U for a value that could not be told', () => {
    expect(formatPerf({ label: "cat's", value: 1, uom: 'c' })).toBe("'cat''s'=1c");
    expect(formatPerf({ label: 'p95', value: undefined, uom: 's', min: 0 })).toBe("'p95'=U;;;0");
    expect(formatPerf({ label: 'p95', value: Number.NaN, uom: 's' })).toBe("'p95'=U");
  });

  it('writes numbers in plain decimals, never with an exponent', () => {
    expect(formatNumber(1e-7)).toBe('0');
    expect(formatNumber(0.0000125)).toBe('0.000013');
    expect(formatNumber(1234567890)).toBe('1234567890');
    expect(formatNumber(-0.0000001)).toBe('0');
    expect(formatNumber(100)).toBe('100');
  });

  it('prints one status line with the perfdata, then the long text, and keeps | out of the text', () => {
    const out = formatOutput({
      subject: 'MYSQL',
      state: WARNING,
      text: 'SELECT a || b\nFROM cats',
      perf: [{ label: 'rows', value: 3, uom: '' }],
      details: ['x | y'],
    });
    expect(out).toBe("SYSTEMBREAKER MYSQL WARNING - SELECT a ¦¦ b FROM cats | 'rows'=3\nx ¦ y\n");
  });
});

describe('the Prometheus text parser', () => {
  const text = [
    '# HELP gateway_function_invocation_total Function invocations',
    '# TYPE gateway_function_invocation_total counter',
    '',
    'gateway_function_invocation_total{function_name="randshow.openfaas-fn",code="200"} 42',
    'gateway_function_invocation_total{code="503",function_name="randshow"} 3 1712345678000',
    'weird{path="C:\\\\cats\\"big\\" one\\nsecond",le="+Inf",} +Inf',
    'up 1',
    '  spaced { a = "b" }   -Inf  ',
    'nan_metric NaN',
    'nodejs_eventloop_lag_mean_seconds{replica="randstore-1"} Nan',
    'big -infinity',
    'sci 1.5e3\r',
  ].join('\n');

  it('reads names, labels with escaped quotes, backslashes and newlines, +Inf, -Inf, NaN in any case and timestamps', () => {
    const samples = parseExposition(text);
    expect(samples.map((s) => s.name)).toEqual([
      'gateway_function_invocation_total',
      'gateway_function_invocation_total',
      'weird',
      'up',
      'spaced',
      'nan_metric',
      'nodejs_eventloop_lag_mean_seconds',
      'big',
      'sci',
    ]);
    expect(samples[0]).toEqual({
      name: 'gateway_function_invocation_total',
      labels: { function_name: 'randshow.openfaas-fn', code: '200' },
      value: 42,
    });
    expect(samples[1]?.value).toBe(3);
    expect(samples[2]).toEqual({
      name: 'weird',
      labels: { path: 'C:\\cats"big" one\nsecond', le: '+Inf' },
      value: Number.POSITIVE_INFINITY,
    });
    expect(samples[3]).toEqual({ name: 'up', labels: {}, value: 1 });
    expect(samples[4]).toEqual({ name: 'spaced', labels: { a: 'b' }, value: Number.NEGATIVE_INFINITY });
    expect(samples[5]?.value).toBeNaN();
    // prom-client writes Nan; Prometheus reads any case, as Go's ParseFloat does.
    expect(samples[6]?.value).toBeNaN();
    expect(samples[7]?.value).toBe(Number.NEGATIVE_INFINITY);
    expect(samples[8]?.value).toBe(1500);
  });

  it.each([
    ['x{a="b} 1', 'unterminated label value'],
    ['x{a=b} 1', 'expected "\\""'],
    ['x{a="\\q"} 1', 'unknown escape'],
    ['x one', '"one" is not a sample value'],
    ['x 1 2 3', 'unexpected text after the value'],
    ['{a="b"} 1', 'expected a metric name'],
  ])('refuses %j, naming the line', (line, why) => {
    expect(() => parseExposition(`ok 1\n${line}`)).toThrow(`line 2: ${why}`);
  });
});

describe('counters over a window', () => {
  const at = (lines: string[]) => parseExposition(lines.join('\n'));
  const all = () => true;

  it('counts a series new in the window from 0 and a reset counter from its restart', () => {
    const before = at(['c{code="200"} 10', 'c{code="500"} 7']);
    const after = at(['c{code="200"} 15', 'c{code="500"} 2', 'c{code="404"} 4']);
    const grown = Object.fromEntries(increases(before, after, 'c', all).map((s) => [s.labels.code, s.value]));
    expect(grown).toEqual({ '200': 5, '500': 2, '404': 4 });
  });
});

describe('histogram_quantile', () => {
  const buckets = (counts: Array<[number, number]>) => counts.map(([le, count]) => ({ le, count }));

  it('interpolates linearly inside the bucket the rank falls in, as Prometheus does', () => {
    // 100 calls: 50 up to 0.1 s, 40 more up to 0.5 s, 10 more up to 1 s.
    const h = buckets([
      [0.1, 50],
      [0.5, 90],
      [1, 100],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    // rank 95 is the 5th of the 10 calls in (0.5, 1]: halfway.
    expect(histogramQuantile(0.95, h)).toBeCloseTo(0.75, 10);
    // rank 50 is the last call of the first bucket, which starts at 0.
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.1, 10);
    expect(histogramQuantile(0.25, h)).toBeCloseTo(0.05, 10);
  });

  it('gives the highest finite bound when the rank falls in +Inf, and NaN without calls or without +Inf', () => {
    const slow = buckets([
      [0.1, 1],
      [1, 2],
      [Number.POSITIVE_INFINITY, 100],
    ]);
    expect(histogramQuantile(0.95, slow)).toBe(1);
    expect(
      histogramQuantile(
        0.95,
        buckets([
          [0.1, 0],
          [Number.POSITIVE_INFINITY, 0],
        ]),
      ),
    ).toBeNaN();
    expect(histogramQuantile(0.95, buckets([[0.1, 3]]))).toBeNaN();
  });

  it('reads buckets in any order and evens out counts that dip', () => {
    const h = buckets([
      [Number.POSITIVE_INFINITY, 10],
      [1, 9],
      [0.5, 10],
    ]);
    expect(histogramQuantile(0.5, h)).toBeCloseTo(0.25, 10);
  });
});

describe('the verdict', () => {
  const thresholds = { warning: parseRange('-w', '5'), critical: parseRange('-c', '10') };
  const gathered: Gathered = {
    readings: [
      { metric: 'availability', perf: { label: 'time', value: 0.02, uom: 's', min: 0 }, text: 'answered' },
      { metric: 'rate', perf: { label: 'rate', value: 12, uom: '', min: 0 }, text: '12 calls/s' },
    ],
    failures: [{ metrics: ['replicas'], error: new PluginError(UNKNOWN, 'give -a') }],
  };

  it('decides on the chosen metric, gives its perfdata the ranges and tells the rest in the long text', () => {
    const out = verdict('function', 'rate', thresholds, gathered);
    expect(out.state).toBe(CRITICAL);
    expect(formatOutput(out)).toBe(
      "SYSTEMBREAKER FUNCTION CRITICAL - 12 calls/s (critical: 10) | 'time'=0.02s;;;0 'rate'=12;5;10;0\n" +
        'answered\nreplicas not read: give -a\n',
    );
  });

  it('takes the state and text of the chosen metric’s failure', () => {
    const out = verdict('function', 'replicas', thresholds, gathered);
    expect(out).toMatchObject({ state: UNKNOWN, text: 'give -a' });
  });
});

describe('the command line', () => {
  it('prints the help with every subject and metric, and exits UNKNOWN as the guidelines say, even beside a bad option', async () => {
    const { state, output } = await runPlugin(['function', '--bogus', '-h']);
    expect(state).toBe(UNKNOWN);
    expect(output).toContain('Usage: check_systembreaker function -H URL -f NAME');
    for (const word of ['availability', 'p95', 'replicas', 'connections', 'longest-query', '@N:M'])
      expect(output).toContain(word);
  });

  it('prints the name and the package version for -V', async () => {
    expect(VERSION).toBe(pkg.version);
    expect(await runPlugin(['-V'])).toEqual({
      state: UNKNOWN,
      output: `check_systembreaker ${pkg.version}\n`,
    });
  });

  it.each([
    [['function', '-H', 'http://127.0.0.1:9', '-f', 'randshow', '-w', '20:10'], '-w/--warning "20:10"'],
    [['function', '--bogus'], "Unknown option '--bogus'"],
    [['function', '-f', 'randshow'], 'function needs -H/--gateway URL'],
    [['function', '-H', 'http://127.0.0.1:9'], 'function needs -f/--function NAME'],
    [[], 'say what to check: function or mysql'],
    [['disk'], 'unknown subject "disk"'],
    [['toString'], 'unknown subject "toString"'],
    [['mysql', '-H', 'http://x', '-m', 'rate'], '-m/--metric "rate" is not a metric of mysql'],
    [['mysql'], 'mysql needs one of -H/--gateway URL'],
    [['mysql', '--mysql-url', 'mysql://root:pw@db/sb'], 'must not hold a password'],
    [['mysql', '-H', 'http://x', '-f', 'randshow'], '--function is for the function subject'],
    [
      ['function', '-H', 'http://x', '-f', 'randshow', '-a', 'admin'],
      '-a/--auth-user and --auth-password-file',
    ],
    [['function', '-H', 'http://x', '-f', 'randshow', '-t', '2'], '--window 5 must be less than the timeout'],
    [['function', '-H', 'http://x', '-f', 'randshow', '-t', 'soon'], '-t/--timeout "soon" is not a number'],
  ])('%j is UNKNOWN: %s, with the usage', async (args, message) => {
    const { state, output } = await runPlugin(args);
    expect(state).toBe(UNKNOWN);
    const [first, ...rest] = output.split('\n');
    expect(first).toMatch(/^SYSTEMBREAKER (FUNCTION |MYSQL )?UNKNOWN - /);
    expect(first).toContain(message);
    expect(rest.join('\n')).toContain('Usage: check_systembreaker');
  });

  it('ends UNKNOWN with "timed out after N s" when the work outlasts the timeout, and aborts it', async () => {
    let aborted = false;
    const run = withTimeout(0.05, (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise(() => {});
    });
    await expect(run).rejects.toMatchObject({ state: UNKNOWN, message: 'timed out after 0.05 s' });
    expect(aborted).toBe(true);
  });
});

/** A gateway that answers from a script: the metrics move on at each scrape. */
describe('the function check against a scripted gateway', () => {
  let server: Server;
  let gw: string;
  let scrapes = 0;
  const metrics = (ok: number, failed: number, fast: number) =>
    [
      // A replica's line the check has no use for, and could not parse: it must not matter.
      'odd_replica_metric{replica="randshow-1"} not-a-number',
      '# TYPE gateway_function_invocation_total counter',
      `gateway_function_invocation_total{function_name="randshow.openfaas-fn",code="200"} ${ok}`,
      `gateway_function_invocation_total{function_name="randshow.openfaas-fn",code="502"} ${failed}`,
      'gateway_function_invocation_total{function_name="randshowx",code="200"} 999',
      `gateway_functions_seconds_bucket{function_name="randshow.openfaas-fn",code="200",le="0.1"} ${fast}`,
      `gateway_functions_seconds_bucket{function_name="randshow.openfaas-fn",code="200",le="1"} ${ok}`,
      `gateway_functions_seconds_bucket{function_name="randshow.openfaas-fn",code="200",le="+Inf"} ${ok}`,
      `gateway_functions_seconds_bucket{function_name="randshow.openfaas-fn",code="502",le="0.1"} ${failed}`,
      `gateway_functions_seconds_bucket{function_name="randshow.openfaas-fn",code="502",le="1"} ${failed}`,
      `gateway_functions_seconds_bucket{function_name="randshow.openfaas-fn",code="502",le="+Inf"} ${failed}`,
    ].join('\n');

  function answer(req: IncomingMessage, res: ServerResponse) {
    if (req.url === '/function/randshow/_/health') return void res.writeHead(200).end('OK');
    if (req.url === '/metrics') {
      scrapes++;
      // 100 calls in the window: 90 OK (70 of them in 0.1 s), 10 failed fast.
      return void res.end(scrapes % 2 === 1 ? metrics(10, 0, 10) : metrics(100, 10, 80));
    }
    if (req.url === '/system/function/randshow') {
      if (req.headers.authorization !== `Basic ${Buffer.from('admin:s3cret').toString('base64')}`)
        return void res.writeHead(401).end('Unauthorized');
      return void res.end(
        JSON.stringify({ name: 'randshow', replicas: 4, availableReplicas: 3, labels: {} }),
      );
    }
    res.writeHead(404).end();
  }

  beforeAll(async () => {
    server = createServer(answer);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    gw = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const check = (...args: string[]) =>
    runPlugin(['function', '-H', gw, '-f', 'randshow', '--window', '0.2', ...args]);

  it('counts the calls of NAME.namespace only, tells errors and p95 from the window, and reads past other series', async () => {
    const errors = await check('-m', 'errors', '-w', '5', '-c', '20');
    expect(errors.state).toBe(WARNING);
    expect(errors.output).toMatch(
      /^SYSTEMBREAKER FUNCTION WARNING - randshow: 10% of 100 calls over 0\.\d s failed/,
    );
    expect(errors.output).toContain("'errors'=10%;5;20;0;100");
    const rate = /'rate'=([\d.]+);;;0/.exec(errors.output);
    // 100 calls in about 0.2 s; never the 999 of randshowx.
    expect(Number(rate?.[1])).toBeGreaterThan(100);
    expect(Number(rate?.[1])).toBeLessThan(600);
    // Summed over codes, 80 calls took at most 0.1 s (70 OK, 10 failed) and 20 more at most 1 s:
    // rank 95 is the 15th of those 20, three quarters into (0.1, 1].
    expect(errors.output).toContain("'p95'=0.775s;;;0");
  });

  it('reads replicas with basic auth, the max from the edition default without a label', async () => {
    const secret = path.join(os.tmpdir(), `sb-check-${process.pid}`);
    await writeFile(secret, 's3cret\n');
    const out = await check('-m', 'replicas', '-w', '~:3', '-a', 'admin', '--auth-password-file', secret);
    expect(out.state).toBe(WARNING);
    expect(out.output).toContain("'replicas'=4;~:3;;0;20");
    expect(out.output).toContain('randshow: 4 replicas, 3 available, at most 20');
  });

  it('asks for -a and --auth-password-file when /system answers 401, and only then is UNKNOWN', async () => {
    const replicas = await check('-m', 'replicas');
    expect(replicas.state).toBe(UNKNOWN);
    expect(replicas.output).toContain('give -a and --auth-password-file');
    const available = await check();
    expect(available.state).toBe(OK);
    expect(available.output).toMatch(/^SYSTEMBREAKER FUNCTION OK - randshow answered 200 in [\d.]+ ms/);
    expect(available.output).toContain('replicas not read: the gateway asks for credentials');
  });

  it('is CRITICAL with the status when the call is not 2xx', async () => {
    const out = await check('-f', 'randstore');
    expect(out.state).toBe(CRITICAL);
    expect(out.output).toMatch(
      /^SYSTEMBREAKER FUNCTION CRITICAL - randstore: GET \/function\/randstore\/_\/health answered 404/,
    );
  });
});
