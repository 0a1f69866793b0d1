/** One sample of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export class ExpositionError extends Error {
  override readonly name = 'ExpositionError';
}

const NAME = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const LABEL_NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const ESCAPES: Record<string, string> = { '\\': '\\', '"': '"', n: '\n' };

/** Reads one line; `at` walks along it. */
class LineReader {
  at = 0;
  constructor(
    readonly line: string,
    readonly number: number,
  ) {}

  fail(what: string): never {
    throw new ExpositionError(
      `line ${this.number}: ${what} at column ${this.at + 1}: ${this.line.slice(0, 200)}`,
    );
  }

  match(pattern: RegExp, what: string): string {
    pattern.lastIndex = this.at;
    const m = pattern.exec(this.line);
    if (!m) this.fail(`expected ${what}`);
    this.at += m[0].length;
    return m[0];
  }

  skipSpaces(): void {
    while (this.line[this.at] === ' ' || this.line[this.at] === '\t') this.at++;
  }

  expect(char: string): void {
    if (this.line[this.at] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.at++;
  }

  /** A double-quoted label value with \\, \" and \n escapes. */
  quoted(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const c = this.line[this.at++];
      if (c === undefined) this.fail('unterminated label value');
      if (c === '"') return out;
      if (c === '\\') {
        const e = ESCAPES[this.line[this.at++] ?? ''];
        if (e === undefined) this.fail('unknown escape in a label value');
        out += e;
      } else {
        out += c;
      }
    }
  }

  labels(): Record<string, string> {
    const labels: Record<string, string> = {};
    this.expect('{');
    for (;;) {
      this.skipSpaces();
      if (this.line[this.at] === '}') break;
      const name = this.match(LABEL_NAME, 'a label name');
      this.skipSpaces();
      this.expect('=');
      this.skipSpaces();
      labels[name] = this.quoted();
      this.skipSpaces();
      if (this.line[this.at] === ',') this.at++;
      else if (this.line[this.at] !== '}') this.fail('expected "," or "}"');
    }
    this.at++;
    return labels;
  }
}

/**
 * A sample value as Prometheus reads it (Go's ParseFloat): a float, or Inf, Infinity or NaN
 * in any case with an optional sign — prom-client writes `Nan` for a gauge that has none.
 */
function sampleValue(token: string, reader: LineReader): number {
  if (/^[+-]?nan$/i.test(token)) return Number.NaN;
  const inf = /^([+-]?)inf(inity)?$/i.exec(token);
  if (inf) return inf[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const n = Number(token);
  if (token === '' || Number.isNaN(n)) reader.fail(`${JSON.stringify(token)} is not a sample value`);
  return n;
}

/**
 * The samples of a text exposition (version 0.0.4, which the OpenFaaS gateway and prom-client
 * write): comments and blank lines skipped, a timestamp after the value ignored. A line that
 * does not parse is an ExpositionError naming it.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const reader = new LineReader(line, i + 1);
    reader.skipSpaces();
    const name = reader.match(NAME, 'a metric name');
    reader.skipSpaces();
    const labels = reader.line[reader.at] === '{' ? reader.labels() : {};
    reader.skipSpaces();
    const [token = '', timestamp, ...extra] = line.slice(reader.at).trim().split(/\s+/);
    if (extra.length > 0 || (timestamp !== undefined && !/^-?\d+$/.test(timestamp)))
      reader.fail('unexpected text after the value');
    samples.push({ name, labels, value: sampleValue(token, reader) });
  });
  return samples;
}

/** The samples of `name` whose labels pass `keep`, by their label set. */
function seriesOf(samples: readonly Sample[], name: string, keep: (l: Record<string, string>) => boolean) {
  const series = new Map<string, Sample>();
  for (const s of samples)
    if (s.name === name && keep(s.labels)) series.set(JSON.stringify(Object.entries(s.labels).sort()), s);
  return series;
}

/**
 * How much each series of counter `name` grew from `before` to `after`, as Prometheus'
 * increase() reads two samples: a series new in `after` started from 0, and one that went
 * down was reset (its process restarted) and counted again from 0.
 */
export function increases(
  before: readonly Sample[],
  after: readonly Sample[],
  name: string,
  keep: (labels: Record<string, string>) => boolean,
): Sample[] {
  const first = seriesOf(before, name, keep);
  return [...seriesOf(after, name, keep)].map(([key, s]) => {
    const was = first.get(key)?.value ?? 0;
    return { ...s, value: s.value >= was ? s.value - was : s.value };
  });
}

export interface Bucket {
  /** The bucket's upper bound (`le`), +Inf for the last. */
  le: number;
  /** Observations at or below le (cumulative). */
  count: number;
}

/**
 * The q-quantile of a histogram as Prometheus' histogram_quantile() estimates it
 * (prometheus/promql/quantile.go, bucketQuantile: buckets made monotonic first, the rank
 * q × count, linear interpolation inside its bucket, from 0 below the first positive bound,
 * the highest finite bound for a rank in +Inf): find the
 * bucket the rank falls in and interpolate linearly inside it, from 0 for the first bucket;
 * a rank in the +Inf bucket gives the highest finite bound. NaN without observations or
 * without a +Inf bucket.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const last = sorted.at(-1);
  if (sorted.length < 2 || last?.le !== Number.POSITIVE_INFINITY) return Number.NaN;
  // Counts read a moment apart can dip; Prometheus evens them out the same way.
  for (let i = 1; i < sorted.length; i++)
    sorted[i] = { le: sorted[i]?.le ?? 0, count: Math.max(sorted[i]?.count ?? 0, sorted[i - 1]?.count ?? 0) };
  const total = sorted.at(-1)?.count ?? 0;
  if (total <= 0) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const rank = q * total;
  const b = sorted.findIndex((bucket) => bucket.count >= rank);
  const bucket = sorted[b] as Bucket;
  if (b === sorted.length - 1) return sorted[sorted.length - 2]?.le ?? Number.NaN;
  if (b === 0 && bucket.le <= 0) return bucket.le;
  const below = b === 0 ? { le: 0, count: 0 } : (sorted[b - 1] as Bucket);
  const inBucket = bucket.count - below.count;
  return below.le + (bucket.le - below.le) * ((rank - below.count) / inBucket);
}
