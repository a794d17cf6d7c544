/**
 * A load split into parts, driven as one: the LoadDriver the runner sees
 * for --client-processes and --agents. It hands every part its plan with
 * one start time on the reference clock, resolves start() at that instant
 * (so the runner's warm-up and window timers run with the parts'), sums
 * the parts' live counters for progress and the runner's watch, and at
 * the end merges what came back exactly (merge.ts). A part that falls
 * silent is waited for only briefly; one that returns nothing is recorded
 * as missing, never dropped quietly (reports/parts.ts judges them).
 *
 * How plans reach parts is the transport's: child processes over IPC
 * (processes.ts) or agents through BullMQ (agents.ts).
 */
import type { ClientMeasurement, LiveCounters, LoadDriver } from "../../contracts/client.js";
import { SILENT_MS, type PartFacts } from "../../reports/parts.js";
import { mergeParts } from "./merge.js";
import type { PartControl, PartPlan, PartResult, PartSchedule } from "./messages.js";

/** finish() gives up on a part silent this long (it reports every 250-500 ms until it hands over), ms. */
const GIVE_UP_SILENT_MS = SILENT_MS + 2000;
/** finish() ends this long before the runner's own limit, so the parts that did report are kept, ms. */
const FINISH_MARGIN_MS = 2000;
/** How often silences are measured, ms. */
const WATCH_MS = 250;

/** One part in flight. */
export interface PartLink {
  /** Its latest live counters (zeros until it reports). */
  readonly live: LiveCounters;
  /** performance.now() when it was last heard from. */
  readonly heardAt: number;
  send(control: PartControl): void;
  /** Its result; a string says why there is none (it exited, its job failed...). */
  readonly result: Promise<PartResult | string>;
  /** Releases what the link holds (kills a process that is still there). */
  dispose(): Promise<void>;
}

/** A part ready to be handed its plan. */
export interface PartSlot {
  readonly name: string;
  run(plan: PartPlan): PartLink;
  /** Gives the slot up without a plan. */
  cancel(): void;
}

/** How plans reach the parts. */
export interface PartsTransport {
  readonly kind: "process" | "agent";
  /** `count` parts ready to take a plan (processes: started and loaded; agents: the registered ones). */
  prepare(count: number): Promise<PartSlot[]>;
  /** The reference clock now, epoch ms. */
  referenceNow(): Promise<number>;
  /** How far ahead of now a start time must be for every part to get its plan in time, ms. */
  readonly leadMs: number;
}

const ZERO: LiveCounters = { messages: 0, errors: 0, connected: 0, connects: 0 };

/** A run's load over parts. Use as any LoadDriver; facts() tells what each part did. */
export class PartsDriver implements LoadDriver {
  private readonly silent: number[];
  private readonly results: (PartResult | string | null)[];
  private readonly watcher: NodeJS.Timeout;
  private windowEndsAt: number;
  private ended = false;
  private finished: Promise<ClientMeasurement> | undefined;

  private constructor(
    private readonly kind: "process" | "agent",
    private readonly plans: readonly PartPlan[],
    private readonly links: readonly PartLink[],
    private readonly finishLimitMs: number,
    /** The common start on this machine's clock, epoch ms. */
    private readonly startEpochMs: number,
  ) {
    this.silent = links.map(() => 0);
    this.results = links.map(() => null);
    // A result that comes after finish() gave up on its part stays out: the merge is done.
    links.forEach((l, i) => void l.result.then((r) => (this.results[i] ??= r)));
    this.windowEndsAt = performance.now() + plans[0]!.schedule.warmupMs + plans[0]!.schedule.durationMs;
    this.watcher = setInterval(() => this.watch(), WATCH_MS);
  }

  /**
   * Prepares the parts, hands each its plan (plans without a schedule: the
   * schedule is set here) and resolves at the common start time.
   */
  static async start(
    transport: PartsTransport,
    plans: readonly Omit<PartPlan, "schedule" | "name">[],
    timing: { warmupMs: number; durationMs: number; finishLimitMs: number },
  ): Promise<PartsDriver> {
    const slots = await transport.prepare(plans.length);
    let refNow: number;
    try {
      refNow = await transport.referenceNow();
    } catch (err) {
      for (const s of slots) s.cancel();
      throw err;
    }
    const localAtRef = Date.now();
    const schedule: PartSchedule = { startAtMs: refNow + transport.leadMs, warmupMs: timing.warmupMs, durationMs: timing.durationMs };
    const full = plans.map((p, i) => ({ ...p, name: slots[i]!.name, schedule }));
    const links = full.map((p, i) => slots[i]!.run(p));
    // The start time on this machine's clock: what the reference said, plus the time since.
    const startLocal = localAtRef + transport.leadMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startLocal - Date.now())));
    return new PartsDriver(transport.kind, full, links, timing.finishLimitMs, startLocal);
  }

  private watch(): void {
    const now = performance.now();
    this.links.forEach((l, i) => {
      if (this.results[i] === null) this.silent[i] = Math.max(this.silent[i]!, now - l.heardAt);
    });
  }

  live(): LiveCounters {
    const sum = { ...ZERO };
    for (const l of this.links) {
      sum.messages += l.live.messages;
      sum.errors += l.live.errors;
      sum.connected += l.live.connected;
      sum.connects += l.live.connects;
    }
    return sum;
  }

  /** The parts open their windows on the schedule: nothing to tell them. */
  beginMeasure(): void {}

  /** Before the scheduled end (the run ended early), the parts are told to close their windows now. */
  endMeasure(): void {
    if (this.ended) return;
    this.ended = true;
    if (performance.now() < this.windowEndsAt - WATCH_MS) for (const l of this.links) l.send({ type: "end" });
  }

  finish(): Promise<ClientMeasurement> {
    this.finished ??= this.collect();
    return this.finished;
  }

  private async collect(): Promise<ClientMeasurement> {
    this.endMeasure();
    // The parts keep the load on past their windows until told: now they stop it and hand over.
    for (const l of this.links) l.send({ type: "end" });
    // Wait for every part's result while it keeps reporting; give up on one that fell silent, and on all before the runner would.
    const deadline = performance.now() + Math.max(WATCH_MS, this.finishLimitMs - FINISH_MARGIN_MS);
    await new Promise<void>((resolve) => {
      const check = (): void => {
        const now = performance.now();
        this.links.forEach((l, i) => {
          if (this.results[i] !== null) return;
          if (now - l.heardAt >= GIVE_UP_SILENT_MS) this.results[i] = `not heard from for ${((now - l.heardAt) / 1000).toFixed(1)} s`;
          else if (now >= deadline) this.results[i] = `nothing came back within ${((this.finishLimitMs - FINISH_MARGIN_MS) / 1000).toFixed(0)} s of the window's end`;
        });
        if (this.results.every((r) => r !== null)) resolve();
        else setTimeout(check, WATCH_MS);
      };
      check();
    });
    this.watch();
    clearInterval(this.watcher);
    await Promise.all(this.links.map((l) => l.dispose()));
    const ok = this.results.flatMap((r) => (r !== null && typeof r !== "string" && r.status === "ok" ? [r.figures] : []));
    if (ok.length === 0) throw new Error(`no part of the load measured anything (${this.facts().map((f) => `${f.name}: ${f.error ?? f.status}`).join("; ")})`);
    return mergeParts(ok, this.startEpochMs);
  }

  /** What each part did, for reports/parts.ts: its share, its timing, its figures or why there are none. */
  facts(): PartFacts[] {
    return this.plans.map((plan, i) => {
      const r = this.results[i] ?? null;
      const got = r !== null && typeof r !== "string" ? r : null;
      const error = r === null ? "still running when the run ended" : typeof r === "string" ? r : r.status === "failed" ? r.error : undefined;
      return {
        name: plan.name,
        kind: this.kind,
        host: got?.host ?? "",
        pid: got?.pid ?? null,
        sessions: plan.client.sessions,
        clientThreads: got?.clientThreads ?? Math.max(1, plan.client.clientThreads),
        sourceHosts: plan.client.sourceHosts ?? [],
        status: got === null ? "missing" : got.status,
        ...(error !== undefined ? { error } : {}),
        clockOffsetMs: got?.timing?.clockOffsetMs ?? null,
        clockRttMs: got?.timing?.clockRttMs ?? null,
        loadStartLagMs: got?.timing?.loadStartLagMs ?? null,
        windowStartLagMs: got?.timing?.windowStartLagMs ?? null,
        figures: got?.status === "ok" ? got.figures : null,
        linkDrops: got?.linkDrops ?? 0,
        silentMs: this.silent[i]!,
      };
    });
  }

  async stop(): Promise<void> {
    clearInterval(this.watcher);
    for (const l of this.links) l.send({ type: "stop" });
    await Promise.all(this.links.map((l) => l.dispose()));
  }
}
