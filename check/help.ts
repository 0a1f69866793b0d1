import { DEFAULT_CALL_PATH, DEFAULT_MAX_REPLICAS } from './gateway.ts';
import { DEFAULT_TIMEOUT_S, DEFAULT_WINDOW_S, PLUGIN, USAGE } from './options.ts';
import { RANGE_FORMS } from './range.ts';

/** What -h prints: every option, every metric with its unit, the threshold format, examples. */
export function helpText(version: string): string {
  return `${PLUGIN} ${version} (SystemBreaker)
Checks the SystemBreaker functions through an OpenFaaS gateway (or the local one of
\`npm start\`) and the MySQL behind them, for Nagios, Icinga, Opsview and the like.

${USAGE}

Subjects and metrics (-m; the first is the default). Every run reads all the metrics of
its subject and prints perfdata for each; -w and -c apply to the one chosen.
  function
    availability  one GET <gateway>/function/NAME${DEFAULT_CALL_PATH} (change the part after
                  the name with --path, e.g. --path '/?format=json&strategy=random-id' for
                  randshow); it writes nothing: the watchdog (or the function server) answers
                  it. Not 2xx or no answer: CRITICAL. Value: its time in s ('time').
    rate          calls/s through the gateway over --window ('rate')
    p95           95th percentile of the call time over --window, in s, estimated from the
                  gateway's buckets as Prometheus' histogram_quantile does ('p95'; U without calls)
    errors        % of the calls over --window that were not 2xx ('errors')
    replicas      replicas from GET <gateway>/system/function/NAME, max from the label
                  com.openfaas.scale.max (${DEFAULT_MAX_REPLICAS} without it) ('replicas')
    rate, p95 and errors come from the gateway's Prometheus counters
    (gateway_function_invocation_total, gateway_functions_seconds) read --window apart,
    after the availability call, so the check's own call is not counted.
  mysql (through dbstats with -H, or directly with --mysql-url)
    connections   Threads_connected as % of max_connections ('connections'; also 'threads')
    aborted       Aborted_connects per second over --window ('aborted')
    refused       Connection_errors_max_connections per second over --window ('refused')
    rows          rows in the cats table ('rows')
    bytes         bytes stored in the cats table ('bytes', B)
    longest-query seconds the longest statement of another connection on the database has
                  run ('longest-query', s; 0 when none). Directly, the user needs PROCESS.

Options:
  -H, --gateway URL          the gateway, e.g. http://127.0.0.1:8080
  -f, --function NAME        the function (function subject)
  -m, --metric NAME          what -w and -c apply to (see above)
  -w, --warning RANGE        WARNING when the metric is in alert for RANGE
  -c, --critical RANGE       CRITICAL when the metric is in alert for RANGE
  -t, --timeout S            give up after S seconds: UNKNOWN (default ${DEFAULT_TIMEOUT_S})
      --window S             seconds between the two readings of counters; less than
                             the timeout (default ${DEFAULT_WINDOW_S})
      --path PATH            availability's call after /function/NAME (default ${DEFAULT_CALL_PATH})
      --metrics-url URL      the gateway's Prometheus metrics (default <gateway>/metrics;
                             on OpenFaaS they are on port 8082 of the gateway)
  -a, --auth-user USER       basic auth for /system/* (replicas), with
      --auth-password-file FILE  the file holding its password (never on the command line)
      --mysql-url URL        mysql://USER@HOST[:PORT]/DATABASE, no password in it
      --mysql-password-file FILE  the file holding the MySQL password
  -h, --help                 this text
  -V, --version              the plugin's version

Threshold ranges (Monitoring Plugins guidelines): the alert fires when the value is
  ${RANGE_FORMS.split(', ').join('\n  ')}
  ~ is minus infinity; 10: means 10 to infinity.

Exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (bad options, timeout, -h, -V).
Output: one status line, 'SYSTEMBREAKER SUBJECT STATE - text | perfdata', then the
other metrics and anything that could not be read, one a line.

Examples:
  ${PLUGIN} function -H http://127.0.0.1:8080 -f randshow -w 0.5 -c 2
  ${PLUGIN} function -H http://gateway.openfaas:8080 --metrics-url http://gateway.openfaas:8082/metrics \\
      -f randshow -m p95 -w 0.5 -c 2
  ${PLUGIN} function -H http://gateway.openfaas:8080 -f randstore -m replicas -w ~:19 \\
      -a admin --auth-password-file /etc/nagios/openfaas-password
  ${PLUGIN} mysql -H http://127.0.0.1:8080 -m connections -w 80 -c 95
  ${PLUGIN} mysql --mysql-url mysql://monitor@db:3306/systembreaker --mysql-password-file /etc/nagios/mysql-password \\
      -m longest-query -w 5 -c 30
`;
}
