import type { ScaleEvent } from '../../../contract/openfaas.ts';
import type { Plan } from '../../../contract/plan.ts';
import type { DbSample, RunNote, SecondStats } from '../../../contract/results.ts';
import { type DemoRule, stagesFor, TALK_DEMO } from './plan.ts';

const ALERT = 'APIHighInvocationRate';

const rateText = (n: number) => `${Number.isInteger(n) ? n : n.toFixed(1)}/s`;
const replicasText = (n: number) => `${n} replica${n === 1 ? '' : 's'}`;

/** What the database looked like: "MySQL 37/151 connections, 12 queries running". */
export const dbText = (db: DbSample) =>
  `MySQL ${db.threadsConnected}/${db.maxConnections} connections, ${db.queriesRunning} quer${db.queriesRunning === 1 ? 'y' : 'ies'} running`;

/** A scale event in the story's words, with the rate the alert saw against its threshold. */
export function scaleText(event: ScaleEvent, rule: Pick<DemoRule, 'thresholdRps'>): string {
  const change = `${event.from} → ${replicasText(event.to)}`;
  const seen = event.observedRps;
  const { thresholdRps } = rule;
  if (event.reason.startsWith(`${ALERT} fired`))
    return `${ALERT} fired for ${event.function} (${seen ?? '?'}/s > ${thresholdRps}): ${change}`;
  if (event.reason.startsWith(`${ALERT} still firing`))
    return `${ALERT} still firing for ${event.function} (${seen ?? '?'}/s > ${thresholdRps}): ${change}`;
  if (event.reason.startsWith('alert resolved'))
    return `${ALERT} resolved for ${event.function} (${seen ?? '?'}/s ≤ ${thresholdRps}): ${change}`;
  return `${event.function} scaled ${change} (${event.reason})`;
}

/** The plan's acts, from its stages: "load rising to 40/s", "holding 40/s", … */
function acts(plan: Plan, rule: DemoRule): Array<{ t: number; text: string }> {
  const { startRate, stages } = stagesFor(plan, rule);
  const out: Array<{ t: number; text: string }> = [];
  let from = startRate;
  let t = 0;
  for (const stage of stages) {
    const text =
      stage.target > from
        ? `load rising to ${rateText(stage.target)}`
        : stage.target < from
          ? `load dropping to ${rateText(stage.target)}`
          : `load holding at ${rateText(stage.target)}`;
    if (out.at(-1)?.text !== text) out.push({ t, text });
    t += stage.durationS;
    from = stage.target;
  }
  return out;
}

/**
 * Tells a run's story as it happens, from what the engine and the gateway report: the load's
 * acts, each scale event with the rate that caused it and the database at that moment, the
 * first error of each code, and a status line every `statusEveryS` seconds. Each call returns
 * the notes it added; `notes` holds them all.
 */
export class Narrator {
  readonly notes: RunNote[] = [];
  private lastDb: DbSample | undefined;
  private readonly seen = new Set<string>();
  private readonly toldScale = new Set<string>();
  private readonly acts: Array<{ t: number; text: string }>;
  private nextStatusT: number;

  constructor(
    plan: Plan,
    private readonly rule: DemoRule = TALK_DEMO,
    private readonly statusEveryS = 30,
  ) {
    this.acts = plan.profile === 'constant' ? [] : acts(plan, rule);
    this.nextStatusT = statusEveryS;
  }

  db(sample: DbSample): void {
    this.lastDb = sample;
  }

  /** Finished seconds as an engine reports them (after the plan's end several may come together). */
  seconds(stats: readonly SecondStats[]): RunNote[] {
    const ts = [...new Set(stats.map((s) => s.t))].sort((a, b) => a - b);
    return ts.flatMap((t) => this.second(stats.filter((s) => s.t === t)));
  }

  /** A finished second of the load (one entry per function). */
  second(stats: readonly SecondStats[]): RunNote[] {
    const added: RunNote[] = [];
    const t = stats[0]?.t;
    if (t === undefined) return added;
    while (this.acts.length > 0 && (this.acts[0]?.t ?? 0) <= t) {
      const act = this.acts.shift() as { t: number; text: string };
      added.push(this.add({ t: act.t, kind: 'load', text: act.text }));
    }
    for (const s of stats) {
      for (const [code, n] of Object.entries(s.byCode)) {
        if (this.seen.has(`${s.fn} ${code}`)) continue;
        this.seen.add(`${s.fn} ${code}`);
        added.push(
          this.add({ t, kind: 'errors', fn: s.fn, text: `first ${code} from ${s.fn} (${n} in this second)` }),
        );
      }
    }
    if (t + 1 >= this.nextStatusT) {
      this.nextStatusT += this.statusEveryS;
      added.push(this.add({ t: t + 1, kind: 'status', text: this.status(stats) }));
    }
    return added;
  }

  /**
   * The gateway's scale events as it lists them (`/system/scale-events`, polled): those since
   * the run began at `startMs` (epoch ms) that were not told yet, each timed from the start.
   */
  scaleEvents(events: readonly ScaleEvent[], startMs: number): RunNote[] {
    const added: RunNote[] = [];
    for (const event of events) {
      const at = Date.parse(event.at);
      const key = `${event.at} ${event.function} ${event.to}`;
      if (at < startMs || this.toldScale.has(key)) continue;
      this.toldScale.add(key);
      const db = this.lastDb ? ` · ${dbText(this.lastDb)}` : '';
      const text = `${scaleText(event, this.rule)}${db}`;
      added.push(this.add({ t: (at - startMs) / 1000, kind: 'scale', fn: event.function, text }));
    }
    return added;
  }

  private status(stats: readonly SecondStats[]): string {
    const dialled = stats.reduce((n, s) => n + s.dialled, 0);
    const achieved = stats.reduce((n, s) => n + s.completed, 0);
    const p99 = stats.map((s) => `${s.fn} p99 ${Math.round(s.p99)} ms`).join(', ');
    return `dialled ${rateText(dialled)}, answered ${achieved}/s · ${p99}${this.lastDb ? ` · ${dbText(this.lastDb)}` : ''}`;
  }

  private add(note: RunNote): RunNote {
    this.notes.push(note);
    return note;
  }
}

/** "t=27 s  …": a note as the terminal shows it. */
export const noteLine = (note: RunNote) => `t=${Math.round(note.t)} s`.padEnd(9) + note.text;
