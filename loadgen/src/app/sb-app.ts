/// <reference types="vite/client" />
import { css, html, LitElement, unsafeCSS } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { type DbStats, TARGET_FUNCTIONS } from '../../../contract/functions.ts';
import {
  demoRuleOf,
  type FunctionStatus,
  type ScaleEvent,
  type ScalingInfo,
} from '../../../contract/openfaas.ts';
import {
  checkPlan,
  DEFAULT_PLAN,
  mergePlan,
  noTrafficProblem,
  type Plan,
  type PlanChange,
} from '../../../contract/plan.ts';
import type { RunNote, RunResults, SecondStats } from '../../../contract/results.ts';
import k6Script from '../../k6/systembreaker.js?raw';
import { bakePlan } from '../core/k6.ts';
import { Narrator, noteLine } from '../core/narrate.ts';
import { seedDemoShape, TALK_DEMO } from '../core/plan.ts';
import { toCsv } from '../core/results.ts';
import { dbSample, functionSamples, SystemRecorder } from '../core/system.ts';
import { type ChartSpec, chartSpecs, marksOf, recordSample, recordSeconds } from './charts.ts';
import { EngineController, type EngineKind } from './engine-controller.ts';
import { PollController } from './poll-controller.ts';
import type { Target } from './sb-target.ts';
import { Timeline } from './timeline.ts';
import './sb-cat.ts';
import './sb-chart.ts';
import './sb-dial.ts';
import './sb-summary.ts';
import './sb-target.ts';

const STORAGE_KEY = 'systembreaker';

/** SystemBreaker: dial load at the functions and watch latency, errors, replicas and MySQL, live. */
@customElement('sb-app')
export class SbApp extends LitElement {
  @state() private target: Target = { baseUrl: location.origin, user: '', password: '' };
  @state() private plan: Plan = DEFAULT_PLAN;
  @state() private engineKind: EngineKind = 'browser';
  @state() private last: SecondStats[] = [];
  @state() private cat = { src: '', caption: '' };
  /** Why /system/* answered 401: no credentials given, or the wrong ones. */
  @state() private authProblem: string | undefined;
  private readonly timeline = new Timeline(300);
  /** The replicas and the database over the current run, for its export. */
  private system: SystemRecorder | undefined;
  /** The talk's demo, told as it happens (while one runs, and after, until the next run). */
  @state() private notes: RunNote[] = [];
  private narrator: Narrator | undefined;
  private readonly engine = new EngineController(this, {
    onSecond: (stats, wallStart) => this.record(stats, wallStart),
    onCat: (src, id) => {
      this.cat = { src, caption: `cat ${id}, served by randshow under load` };
    },
  });
  private readonly functions = new PollController<FunctionStatus[]>(
    this,
    () => this.getJson('/system/functions'),
    1000,
    (fns) => {
      recordSample(this.timeline, { t: 0, functions: functionSamples(fns) }, Date.now() / 1000);
      if (this.engine.status === 'running') this.system?.functions(Date.now(), fns);
    },
  );
  private readonly db = new PollController<DbStats>(
    this,
    () => this.getJson('/function/dbstats'),
    2000,
    (s) => {
      recordSample(this.timeline, { t: 0, db: dbSample(s) }, Date.now() / 1000);
      this.narrator?.db(dbSample(s));
      if (this.engine.status === 'running') this.system?.db(Date.now(), s);
    },
  );
  /** The gateway's scale events, told while the talk's demo runs. */
  private readonly scaleEvents = new PollController<ScaleEvent[] | undefined>(
    this,
    async () =>
      this.narrator && this.engine.running ? this.getJson<ScaleEvent[]>('/system/scale-events') : undefined,
    2000,
    (events) => this.tellScale(events ?? []),
  );
  /** The server engine does not hand over its cats: show one every few seconds. */
  private readonly serverCat = new PollController<void>(this, () => this.fetchServerCat(), 3000);

  // The charts render inside this element's shadow root, where uPlot's stylesheet must live too.
  static override styles = [
    unsafeCSS(uplotCss),
    css`
    :host { display: block; max-width: 1400px; margin: 0 auto; padding: 1rem; }
    header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; justify-content: space-between; }
    h1 { margin: 0; font-size: 1.4rem; letter-spacing: 0.02em; }
    h1 span { color: #ff6b6b; }
    section { background: #151821; border: 1px solid #242833; border-radius: 8px; padding: 0.8rem; margin-top: 0.8rem; }
    .grid { display: grid; gap: 0.8rem; grid-template-columns: repeat(auto-fit, minmax(min(100%, 420px), 1fr)); }
    .grid > * { background: #151821; border: 1px solid #242833; border-radius: 8px; padding: 0.5rem; min-width: 0; }
    .exports { display: flex; flex-wrap: wrap; gap: 0.5rem; margin-top: 0.6rem; }
    .exports button { font: inherit; padding: 0.3rem 0.6rem; background: #1a1d24; color: #eee; border: 1px solid #3a3f4b; border-radius: 4px; cursor: pointer; }
    .status { color: #999; font-size: 0.85rem; margin: 0.4rem 0 0; }
    .error { color: #ff6b6b; }
    sb-chart figure { margin: 0; }
    sb-chart figcaption { font-weight: 600; margin-bottom: 0.3rem; }
    .u-legend { font-size: 0.8rem; }
  `,
  ];

  override connectedCallback(): void {
    super.connectedCallback();
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '{}') as {
        baseUrl?: string;
        plan?: Plan;
      };
      if (saved.baseUrl) this.target = { ...this.target, baseUrl: saved.baseUrl };
      if (saved.plan) this.plan = checkPlan(saved.plan);
    } catch (err) {
      // Settings saved by another version: start from the defaults, and say why.
      console.warn('SystemBreaker: saved settings ignored:', (err as Error).message);
    }
  }

  private save(): void {
    localStorage.setItem(STORAGE_KEY, JSON.stringify({ baseUrl: this.target.baseUrl, plan: this.plan }));
  }

  private headers(): Record<string, string> {
    return this.target.user
      ? { authorization: `Basic ${btoa(`${this.target.user}:${this.target.password}`)}` }
      : {};
  }

  private async getJson<T>(path: string): Promise<T> {
    const res = await fetch(`${this.target.baseUrl}${path}`, {
      headers: path.startsWith('/system/') ? this.headers() : {},
      cache: 'no-store',
    });
    if (path.startsWith('/system/')) this.authProblem = res.status === 401 ? this.authMessage() : undefined;
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  }

  /** What to do about a 401 from /system/* (OpenFaaS asks for basic auth there, not on /function/*). */
  private authMessage(): string {
    return this.target.user
      ? 'The gateway refused this user and password for /system/*: check them above.'
      : 'The gateway asks for its user and password for /system/* (replicas, scaling, the server engine): enter them above.';
  }

  private async fetchServerCat(): Promise<void> {
    if (!this.engine.running || this.engine.kind !== 'server') return;
    const res = await fetch(`${this.target.baseUrl}/function/randshow?format=raw&strategy=random-id`, {
      cache: 'no-store',
    });
    if (!res.ok) return;
    const blob = await res.blob();
    if (this.cat.src.startsWith('blob:')) URL.revokeObjectURL(this.cat.src);
    this.cat = {
      src: URL.createObjectURL(blob),
      caption: `cat ${res.headers.get('x-cat-id')}, fetched while the server engine runs`,
    };
  }

  private record(stats: SecondStats[], wallStart: number): void {
    recordSeconds(this.timeline, stats, wallStart);
    if (this.narrator && this.narrator.seconds(stats).length > 0) this.notes = [...this.narrator.notes];
    const t = stats.at(-1)?.t;
    this.last = stats.filter((s) => s.t === t);
  }

  private onPlanChange(part: Partial<Plan>): void {
    try {
      // Fields only: a plan being edited may pass through 0 (and a running one may be paused at 0).
      this.plan = checkPlan(mergePlan(this.plan, part));
    } catch {
      return; // the inputs keep their bounds; a half-typed value is ignored
    }
    this.save();
    const live: PlanChange = {};
    if (part.rate !== undefined) live.rate = this.plan.rate;
    if (part.ratio) live.ratio = this.plan.ratio;
    if (part.strategy) live.strategy = this.plan.strategy;
    if (Object.keys(live).length) this.engine.update(live);
  }

  private tellScale(events: readonly ScaleEvent[]): void {
    const narrator = this.narrator;
    if (!narrator) return;
    narrator.scaleEvents(events, this.engine.wallStart * 1000);
    this.notes = [...narrator.notes].sort((a, b) => a.t - b.t);
  }

  /**
   * The talk's demo: seed-demo at 1 : 3 with ORDER BY RAND(), shaped from the gateway's own
   * alert rule (`/system/scaling`; the talk's where the gateway has none), told as it happens.
   */
  private async playDemo(): Promise<void> {
    if (this.engine.status !== 'idle') return;
    const info = await this.getJson<ScalingInfo>('/system/scaling').catch(() => undefined);
    const rule = info ? demoRuleOf(info, TARGET_FUNCTIONS) : TALK_DEMO;
    const talk = checkPlan({
      rate: 1,
      ratio: { randstore: 1, randshow: 3 },
      strategy: 'order-by-rand',
      profile: 'seed-demo',
      durationS: this.plan.durationS,
    });
    // The dial shows the peak the rule needs (every function at twice the threshold).
    this.plan = { ...talk, rate: seedDemoShape(talk, rule).high };
    this.save();
    this.system = new SystemRecorder(Date.now());
    this.narrator = new Narrator(this.plan, rule);
    this.notes = [];
    await this.engine.start(this.engineKind, this.target.baseUrl, this.plan, this.headers(), rule);
  }

  private start(): void {
    if (noTrafficProblem(this.plan)) return; // the dial shows why, and Start is off
    this.narrator = undefined;
    this.notes = [];
    this.system = new SystemRecorder(Date.now());
    void this.engine.start(this.engineKind, this.target.baseUrl, this.plan, this.headers());
  }

  private download(name: string, type: string, text: string): void {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type }));
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  /** Chromium's 6 connections per origin allow 6 ÷ latency requests/s (browser engine). */
  private ceiling(): number {
    if (this.engineKind !== 'browser') return 0;
    const done = this.last.reduce((n, s) => n + s.completed, 0);
    if (done === 0) return 0;
    const meanP50 = this.last.reduce((n, s) => n + s.p50 * s.completed, 0) / done;
    return meanP50 > 0 ? 6 / (meanP50 / 1000) : 0;
  }

  private chart(spec: ChartSpec) {
    const marks = spec.marked ? marksOf(this.notes, this.engine.wallStart) : undefined;
    return html`<sb-chart .heading=${spec.heading} .unit=${spec.unit} .series=${spec.series} .data=${this.timeline.data(spec.keys)} .marks=${marks}></sb-chart>`;
  }

  /** Everything so far in the export format, with the replicas and the database beside the load. */
  private results(): RunResults | undefined {
    const results = this.engine.results();
    if (!results) return undefined;
    return {
      ...results,
      ...(this.system ? { system: this.system.samples } : {}),
      ...(this.notes.length ? { notes: this.notes } : {}),
    };
  }

  private async downloadReport(): Promise<void> {
    const results = this.results();
    if (!results) return;
    // The report's script and styles are a chunk of their own, fetched on the first export only.
    const { renderReport } = await import('../report/render.ts');
    const assets = await import('virtual:systembreaker-report');
    this.download('systembreaker-report.html', 'text/html', renderReport(results, assets));
  }

  protected override render() {
    const fns = TARGET_FUNCTIONS as readonly string[];
    const deployed = (this.functions.value ?? []).map((f) => f.name);
    const results = this.results();
    const problem = this.engine.running ? undefined : noTrafficProblem(this.plan);
    return html`
      <header>
        <h1>System<span>Breaker</span></h1>
        <sb-target .target=${this.target} @target-change=${(e: CustomEvent<Target>) => {
          this.target = e.detail;
          this.save();
          void this.functions.poll();
          void this.db.poll();
        }}></sb-target>
      </header>
      ${this.authProblem ? html`<p class="status error" role="alert" id="auth-needed">${this.authProblem}</p>` : ''}
      <section aria-label="Load">
        <sb-dial .plan=${this.plan} .engine=${this.engineKind} ?running=${this.engine.status !== 'idle'}
          @plan-change=${(e: CustomEvent<Partial<Plan>>) => this.onPlanChange(e.detail)}
          @engine-change=${(e: CustomEvent<EngineKind>) => {
            this.engineKind = e.detail;
          }}
          @start-run=${() => this.start()} @stop-run=${() => this.engine.stop()}></sb-dial>
        <div class="exports">
          <button id="play-demo" ?disabled=${this.engine.status !== 'idle'} @click=${() => void this.playDemo()}>Play the talk's demo</button>
          <button id="export-json" ?disabled=${!results} @click=${() => this.download('systembreaker-results.json', 'application/json', JSON.stringify(results, null, 2))}>Export JSON</button>
          <button id="export-csv" ?disabled=${!results} @click=${() => results && this.download('systembreaker-results.csv', 'text/csv', toCsv(results))}>Export CSV</button>
          <button id="export-html" ?disabled=${!results} @click=${() => void this.downloadReport()}>HTML report</button>
          <button id="export-k6" ?disabled=${!!problem} @click=${() => this.download('systembreaker-plan.js', 'text/javascript', bakePlan(k6Script, this.plan))}>Export as k6 script</button>
        </div>
        ${problem ? html`<p class="status error" role="alert" id="plan-problem">${problem}</p>` : ''}
        ${
          this.engine.status === 'lost'
            ? html`<p class="status error" role="alert">${this.engine.error} <button id="reconnect" @click=${() => this.engine.reconnect()}>Reconnect</button></p>`
            : this.engine.error
              ? html`<p class="status error" role="alert">${this.engine.error}</p>`
              : ''
        }
      </section>
      ${
        this.notes.length
          ? html`<section aria-label="The story"><ol id="story">${this.notes.map((n) => html`<li data-kind=${n.kind}>${noteLine(n)}</li>`)}</ol></section>`
          : ''
      }
      <section aria-label="Now">
        <sb-summary .last=${this.last} .summary=${this.engine.summary} .inFlight=${this.engine.inFlight} .ceiling=${this.ceiling()}></sb-summary>
      </section>
      <div class="grid">
        ${chartSpecs(this.timeline, fns, deployed).map((spec) => this.chart(spec))}
        <sb-cat .src=${this.cat.src} .caption=${this.cat.caption}></sb-cat>
      </div>
      <p class="status" id="poll-status">
        ${this.functions.error ? html`<span class="error">replicas: ${this.functions.error}</span>` : `replicas: ${deployed.length} functions`} ·
        ${this.db.error ? html`<span class="error">dbstats: ${this.db.error}</span>` : `dbstats: ${this.db.value ? `${this.db.value.rows} rows` : '…'}`}
        ${this.serverCat.error ? html` · <span class="error">cat: ${this.serverCat.error}</span>` : ''}
        ${this.scaleEvents.error ? html` · <span class="error">scale events: ${this.scaleEvents.error}</span>` : ''}
      </p>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sb-app': SbApp;
  }
}
