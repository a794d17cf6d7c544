/**
 * One part of a split load, run in this process: what a client process
 * (child.ts) and an agent (agent.ts) both do with the plan they are handed.
 * It keeps the schedule by its own clock (the reference start time plus
 * its measured offset), so every part opens and closes its window at the
 * same instant without a message on the way; an early end or a stop comes
 * as a signal. Every latency is timed here, send and echo on this host:
 * clock offsets only decide when the window opens.
 *
 * Its timelines start at the common start time, so the parts' per-second
 * latency histograms merge interval by interval.
 *
 * The part derives its own figures with the same rules as a one-process
 * run (reports/derive.ts: its CPU, its saturation, its memory per session),
 * and hands them over whole, histograms encoded, for an exact merge.
 */
import os from "node:os";
import { startDriver } from "../../clients/driver.js";
import { clientEngineFor, defaultClientThreads } from "../../clients/client.js";
import type { LiveCounters, LoadDriver } from "../../contracts/client.js";
import { oneLine } from "../../contracts/errors.js";
import { deriveFigures } from "../../reports/derive.js";
import { usableCores } from "../environment.js";
import { ensureOpenFileLimit } from "../limits.js";
import { CLOCK_TICKS_PER_SEC, readClientCpu, readRssBytes } from "../proc.js";
import type { PartPlan, PartResult, PartTiming } from "./messages.js";

/** How often the part tells the coordinator its live counters, ms. */
export const LIVE_EVERY_MS = 250;

/** What the part is told while it runs, and how it tells back. */
export interface PartHooks {
  /** This part's clock minus the reference, ms, and the round trip it was read with. */
  clock: { offsetMs: number; rttMs: number };
  /**
   * Aborted: the coordinator is done with the load. Before the window's
   * scheduled end, it closes the window early (the run ended early); after
   * it, it ends the cool-down: the load goes on past the window until then,
   * so the coordinator reads the server under load, as in a one-process run.
   */
  end: AbortSignal;
  /** Aborted: stop the load at once, no result wanted. */
  stop: AbortSignal;
  onLive(live: LiveCounters): void;
  /** Times the part's link to the coordinator dropped so far (Redis reconnects); processes: 0. */
  linkDrops(): number;
}

/** Resolves at local epoch time `at` (ms), or as soon as one of the signals aborts. */
function until(at: number, ...signals: AbortSignal[]): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      for (const s of signals) s.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, at - Date.now()));
    for (const s of signals) {
      if (s.aborted) return done();
      s.addEventListener("abort", done);
    }
  });
}

/** Runs the plan's share of the load on its schedule; never throws (a failure is a result). */
export async function runPart(plan: PartPlan, hooks: PartHooks): Promise<PartResult> {
  const { schedule } = plan;
  // Reference time -> this machine's: local = reference + offset.
  const startAt = schedule.startAtMs + hooks.clock.offsetMs;
  const windowAt = startAt + schedule.warmupMs;
  const endAt = windowAt + schedule.durationMs;
  const clientThreads = plan.client.clientThreads > 0 ? plan.client.clientThreads : defaultClientThreads(usableCores(), usableCores());
  const where = { host: os.hostname(), pid: process.pid, clientThreads: Math.min(clientThreads, plan.client.sessions) };
  const timing: PartTiming = { clockOffsetMs: hooks.clock.offsetMs, clockRttMs: hooks.clock.rttMs, loadStartLagMs: null, windowStartLagMs: null };
  let client: LoadDriver | null = null;
  let ticker: NodeJS.Timeout | undefined;
  try {
    hooks.onLive({ messages: 0, errors: 0, connected: 0, connects: 0 }); // the plan arrived
    await ensureOpenFileLimit(plan.client.sessions);
    await until(startAt, hooks.stop);
    if (hooks.stop.aborted) throw new Error("stopped before its start");
    timing.loadStartLagMs = Date.now() - startAt;
    const rssBefore = readRssBytes(process.pid);
    // Every part's timelines start at the common start: in this process's performance clock, now less the lag.
    const origin = performance.timeOrigin + performance.now() - Math.max(0, timing.loadStartLagMs);
    client = await startDriver("iobench", {
      ...plan.client,
      clientThreads,
      engine: clientEngineFor(plan.client.engine, plan.client.http !== undefined),
      timeOriginEpochMs: origin,
    });
    const running = client;
    ticker = setInterval(() => hooks.onLive(running.live()), LIVE_EVERY_MS);

    await until(windowAt, hooks.end, hooks.stop);
    if (hooks.stop.aborted) throw new Error("stopped during warm-up");
    const cpuBefore = readClientCpu();
    running.beginMeasure();
    const windowStart = performance.now();
    timing.windowStartLagMs = Date.now() - windowAt;
    await until(endAt, hooks.end, hooks.stop);
    running.endMeasure();
    const sampledWindowSec = (performance.now() - windowStart) / 1000;
    const cpuAfter = readClientCpu();
    const rssEnd = readRssBytes(process.pid);
    if (hooks.stop.aborted) throw new Error("stopped during its window");
    await until(Date.now() + plan.finishLimitMs, hooks.end, hooks.stop); // the cool-down, until the coordinator collects
    if (hooks.stop.aborted) throw new Error("stopped after its window");
    // The ticker goes on while the client hands over: a part still reporting is alive, not lost.

    const measurement = await Promise.race([
      running.finish(),
      new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error("its client did not hand over its results in time")), plan.finishLimitMs).unref()),
    ]);
    client = null;
    const figures = deriveFigures({
      measurement,
      sampledWindowSec,
      warmupSec: schedule.warmupMs / 1000,
      connectionsRequested: plan.client.sessions,
      sessionsChurn: plan.sessionsChurn,
      targetMessagesPerSec: plan.targetMessagesPerSec,
      server: null,
      client: { before: cpuBefore, after: cpuAfter, usableCores: plan.client.cpus.length > 0 ? plan.client.cpus.length : usableCores() },
      clockTicksPerSec: CLOCK_TICKS_PER_SEC,
      ...(rssBefore !== undefined && rssEnd !== undefined ? { clientMemory: { beforeBytes: rssBefore, endBytes: rssEnd } } : {}),
    });
    // The timeline's origin on the reference clock, the same number in every part: they merge interval by interval.
    if (figures.latencyTimeline !== undefined) figures.latencyTimeline.originEpochMs = schedule.startAtMs;
    return { status: "ok", figures, timing, linkDrops: hooks.linkDrops(), ...where };
  } catch (err) {
    return { status: "failed", error: oneLine(err), timing, linkDrops: hooks.linkDrops(), ...where };
  } finally {
    clearInterval(ticker);
    await client?.stop();
  }
}
