/**
 * Figures from raw samples: what the client measured plus the /proc
 * readings taken at the edges of the measured window. Pure: no I/O, no
 * clock, so every rule here is testable with made-up samples.
 *
 * The client-saturated rule. A load generator that is itself out of CPU
 * measures its own limit, not the server's. A run is flagged when, over the
 * measured window, either
 *   - any client worker thread was busy >= 90% of one core (that thread's
 *     sessions wait for it, not for the server), or
 *   - the client process as a whole used >= 90% of the cores it may use
 *     (its pinned CPUs, else every core this process may run on).
 * The figures are still reported; the flag says they may understate the server.
 *
 * The client-behind rule (open loop). A message due while its session sat
 * idle is sent by the client's timer; how late is the client's own delay
 * (clientSendLagUs), and it counts in the corrected latency as if the
 * server had caused it. A run is flagged CLIENT-BEHIND when the p99 of that
 * lag is at least CLIENT_LAG_FLOOR_US and at least CLIENT_LAG_SHARE of the
 * corrected p99 it reports: then a real part of the tail is the client's.
 * (The floor keeps tens of µs of timer slack at a 200 µs p99 from counting.)
 *
 * The noise rules. Saturation measures CPU the client USED; a client that
 * wanted a CPU and did not get it looks idle. So, from schedstat:
 *   - CLIENT-STARVED: a client worker thread waited on a run queue (runnable,
 *     not running) for >= 15% of the window, >= 200 µs each time it got a CPU
 *     (clientStarved): its throughput is a floor, as a saturated client's is;
 *   - MACHINE-BUSY: other processes (the CPUs' busy time, wall less idle in
 *     /proc/stat, minus the server's, the client's and the run's own
 *     interrupt work, otherCpuShare) used
 *     >= 10% of the run's CPUs over the window: every figure may be off.
 * Server and client CPU times come from schedstat's nanoseconds, not from
 * /proc/<pid>/stat's clock ticks (10 ms each, about 1 % of a 2 s window).
 */
import type { Histogram } from "hdr-histogram-js";
import type { ErrorCounts } from "../contracts/client.js";
import { decodeHistogram, encodeHistogram } from "../contracts/histogram.js";
import { BUSY_THRESHOLD, STARVED_THRESHOLD, STARVED_WAIT_PER_SLICE_US } from "./rules.js";
import type {
  ContextSwitches,
  EncodedHistogram,
  ErrorFigures,
  Figures,
  LatencySummaryUs,
  LatencyTimeline,
  OpenLoopFigures,
  RunFlag,
} from "./schema.js";
import type { ClientCpuSnapshot, ProcSnapshot } from "../contracts/proc.js";
import type { RawRun } from "../contracts/run.js";

/** Open loop: a run achieving less than this share of its target rate is flagged BELOW-TARGET-RATE. */
export const TARGET_RATE_SHORTFALL = 0.9;

/**
 * A server holding this close to its open-file limit (a few fds of slack:
 * servers back off accept() when out of fds and close a connection or two
 * meanwhile) while sessions are missing refused them for lack of fds.
 */
export const FD_LIMIT_SLACK = 32;

/** Memory growth per connected session, bytes; null when not measured or nothing connected. */
export function bytesPerSession(beforeBytes: number | undefined, afterBytes: number | null | undefined, sessions: number): number | null {
  if (beforeBytes === undefined || afterBytes === undefined || afterBytes === null || sessions <= 0) return null;
  return Math.max(0, afterBytes - beforeBytes) / sessions;
}

/**
 * Connections the server holds: the files it opened since it idled, when
 * both counts were read; else the sessions the client saw connected (a
 * connection waiting in the accept queue counts for the client, not yet
 * for the server: the blocking model with fewer threads than sessions).
 */
function connectionsHeld(raw: RawRun, sessionsConnected: number): number {
  const s = raw.server;
  if (s?.openFiles === undefined || s.idleOpenFiles === undefined) return sessionsConnected;
  return Math.max(0, s.openFiles.count - s.idleOpenFiles);
}

/** A thread (or a process) counts as saturated at this share of a core (of its usable cores). */
export const SATURATION_THRESHOLD = 0.9;

/** Client-behind rule: the client's own p99 send lag must reach this, µs ... */
export const CLIENT_LAG_FLOOR_US = 1000;
/** ... and this share of the corrected p99. */
export const CLIENT_LAG_SHARE = 0.1;

/** The client-behind verdict (see the rule at the top of this file). */
export function clientBehind(lagP99Us: number | null | undefined, latencyP99Us: number | null | undefined): boolean {
  if (lagP99Us === null || lagP99Us === undefined) return false;
  return lagP99Us >= CLIENT_LAG_FLOOR_US && (latencyP99Us === null || latencyP99Us === undefined || lagP99Us >= CLIENT_LAG_SHARE * latencyP99Us);
}

/** Sum of the error kinds. */
export function errorFigures(e: ErrorCounts): ErrorFigures {
  return { ...e, total: e.connect + e.reset + e.timeout + e.mismatch + e.closedEarly };
}

/** Percentile summary of a µs histogram, or null when it holds no value. */
export function summarise(h: Histogram): LatencySummaryUs | null {
  if (h.totalCount === 0) return null;
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p99_9: h.getValueAtPercentile(99.9),
    max: h.maxValue,
    mean: h.mean,
  };
}

/** The histogram as results.json keeps it. */
export function encodeForResults(h: Histogram): EncodedHistogram {
  return { encoding: "hdrhistogram-v2-compressed-base64", unit: "us", data: encodeHistogram(h) };
}

/** The latency timeline as results.json keeps it: each interval's histogram with its percentiles beside it (so a report needs no decoding). */
export function latencyTimeline(t: NonNullable<RawRun["measurement"]["latencyTimeline"]>): LatencyTimeline {
  return {
    originEpochMs: t.originEpochMs,
    intervalMs: t.intervalMs,
    measureStartIndex: t.measureStartIndex,
    encoding: "hdrhistogram-v2-compressed-base64",
    unit: "us",
    intervals: t.histograms.map((data) => {
      const s = summarise(decodeHistogram(data));
      return { count: s?.count ?? 0, p50Us: s?.p50 ?? null, p99Us: s?.p99 ?? null, p99_9Us: s?.p99_9 ?? null, maxUs: s?.max ?? null, data };
    }),
  };
}

/** x / n, or null when n is 0 (a per-message figure of a run without messages means nothing). */
export function perMessage(x: number, messages: number): number | null {
  return messages > 0 ? x / messages : null;
}

/**
 * Context switches between two readings, summed over tasks. A task that
 * exited in between is left out (its counts are gone from /proc); a task
 * born in between counts from zero.
 */
export function switchesBetween(before: ProcSnapshot, after: ProcSnapshot): ContextSwitches {
  let voluntary = 0;
  let involuntary = 0;
  for (const t of taskSwitches(before, after)) {
    voluntary += t.voluntary;
    involuntary += t.involuntary;
  }
  return { voluntary, involuntary, total: voluntary + involuntary };
}

/**
 * The same switches summed by thread name, so a model's own threads
 * (iocp-worker-N, iocp-acceptor) can be told from Node's ("main", "node");
 * a task whose name was not read counts as "?".
 */
export function switchesByThread(before: ProcSnapshot, after: ProcSnapshot): Record<string, ContextSwitches> {
  const by: Record<string, ContextSwitches> = {};
  for (const t of taskSwitches(before, after)) {
    const sum = (by[t.name] ??= { voluntary: 0, involuntary: 0, total: 0 });
    sum.voluntary += t.voluntary;
    sum.involuntary += t.involuntary;
    sum.total += t.voluntary + t.involuntary;
  }
  return by;
}

/** Each task's switches between two readings, by switchesBetween's rule. */
function taskSwitches(before: ProcSnapshot, after: ProcSnapshot): { name: string; voluntary: number; involuntary: number }[] {
  return [...after.tasks].map(([tid, a]) => {
    const b = before.tasks.get(tid) ?? { voluntary: 0, involuntary: 0 };
    return { name: a.name ?? "?", voluntary: Math.max(0, a.voluntary - b.voluntary), involuntary: Math.max(0, a.involuntary - b.involuntary) };
  });
}

/** The largest share of the window any of the given threads spent in `field` (on a CPU, or waiting for one), or null if none was readable. */
export function maxThreadShare(
  before: ClientCpuSnapshot,
  after: ClientCpuSnapshot,
  threadIds: readonly number[],
  windowSec: number,
  field: "runNs" | "waitNs",
): { share: number; tid: number } | null {
  if (windowSec <= 0) return null;
  let max: { share: number; tid: number } | null = null;
  for (const tid of threadIds) {
    const a = after.threads.get(tid);
    if (a === undefined) continue; // vanished before the end: nothing to compare
    const b = before.threads.get(tid)?.[field] ?? 0; // born inside the window
    const share = Math.max(0, a[field] - b) / 1e9 / windowSec;
    if (max === null || share > max.share) max = { share, tid };
  }
  return max;
}

/** A thread's mean run-queue wait each time it was put on a CPU, µs; null when it never ran in the window. */
function waitPerSliceUs(before: ClientCpuSnapshot, after: ClientCpuSnapshot, tid: number): number | null {
  const a = after.threads.get(tid)!;
  const b = before.threads.get(tid) ?? { runNs: 0, waitNs: 0, slices: 0 };
  const slices = a.slices - b.slices;
  return slices > 0 ? (a.waitNs - b.waitNs) / slices / 1000 : null;
}

/**
 * Server CPU seconds inside the window: the schedstat nanoseconds of its
 * threads. A thread that ended inside the window takes its schedstat with
 * it; the process's clock ticks (dead threads included) then exceed the
 * live threads' sum by more than their 10 ms rounding, and the ticks are
 * the better figure.
 */
export function serverCpuSecondsBetween(before: ProcSnapshot, after: ProcSnapshot, clockTicksPerSec: number): number {
  let ns = 0;
  for (const [tid, a] of after.tasks) ns += Math.max(0, a.runNs - (before.tasks.get(tid)?.runNs ?? 0));
  const fromSchedstat = ns / 1e9;
  const fromTicks = Math.max(0, after.cpuTicks - before.cpuTicks) / clockTicksPerSec;
  return fromTicks > fromSchedstat + 2 / clockTicksPerSec ? fromTicks : fromSchedstat;
}

/** Run-queue wait of the server's threads inside the window, summed, seconds. */
function serverWaitSeconds(before: ProcSnapshot, after: ProcSnapshot): number {
  let ns = 0;
  for (const [tid, a] of after.tasks) ns += Math.max(0, a.waitNs - (before.tasks.get(tid)?.waitNs ?? 0));
  return ns / 1e9;
}

/**
 * Share of the run's CPUs that other processes used in the window: the
 * CPUs' busy time (the wall time less their idle, runner/proc.ts
 * parseProcStat) less what the server and the client used and the run's
 * own interrupt work: the irq and softirq fields where the kernel keeps
 * interrupt time out of the tasks' runtime, else the CPUs' ksoftirqd
 * threads (softirq that piled up, the run's own packets on loopback).
 * null when /proc/stat was not read.
 */
export function otherCpuShare(system: NonNullable<RawRun["system"]>, ownCpuSeconds: number, clockTicksPerSec: number): number | null {
  const { before, after } = system;
  const wallSec = (after.atMs - before.atMs) / 1000;
  let cpus = 0;
  let idleTicks = 0;
  let irqTicks = 0;
  let softirqThreadNs = 0;
  for (const cpu of system.cpus) {
    const a = after.cpus.get(cpu);
    const b = before.cpus.get(cpu);
    if (a === undefined || b === undefined) continue;
    cpus++;
    idleTicks += a.idleTicks - b.idleTicks;
    irqTicks += a.irqTicks - b.irqTicks;
    softirqThreadNs += (after.softirqThreadNs.get(cpu) ?? 0) - (before.softirqThreadNs.get(cpu) ?? 0);
  }
  const total = wallSec * cpus;
  if (total <= 0) return null;
  const ownInterrupts = after.irqInTasks ? softirqThreadNs / 1e9 : irqTicks / clockTicksPerSec;
  const others = total - idleTicks / clockTicksPerSec - ownCpuSeconds - ownInterrupts;
  return Math.min(1, Math.max(0, others / total));
}

/** The saturation verdict and its reason (see the rule at the top of this file). */
export function clientSaturation(
  processUtilisation: number,
  threadMaxUtilisation: number | null,
  usableCores: number,
): { saturated: boolean; reason: string | null } {
  const pct = (x: number): string => `${Math.round(x * 100)}%`;
  const reasons: string[] = [];
  if (threadMaxUtilisation !== null && threadMaxUtilisation >= SATURATION_THRESHOLD) {
    reasons.push(`a client thread was busy ${pct(threadMaxUtilisation)} of a core`);
  }
  if (processUtilisation >= SATURATION_THRESHOLD) {
    reasons.push(`the client used ${pct(processUtilisation)} of its ${usableCores} usable core(s)`);
  }
  return reasons.length > 0 ? { saturated: true, reason: reasons.join("; ") } : { saturated: false, reason: null };
}

/**
 * The client-starved rule: the worker thread that waited longest on a run
 * queue waited for at least STARVED_THRESHOLD of the window, at least
 * STARVED_WAIT_PER_SLICE_US on average each time it got a CPU. The second
 * half tells competition from wake-up latency: on a virtual machine a
 * thread that sleeps and wakes 100,000 times a second waits a few µs each
 * time for its idle vCPU, which adds up to a large share of the window
 * with nothing else running; a CPU hog makes each wait last up to a
 * scheduler slice (milliseconds).
 */
export function clientStarved(waitShare: number | null, waitPerSliceUs: number | null): boolean {
  return waitShare !== null && waitShare >= STARVED_THRESHOLD && (waitPerSliceUs === null || waitPerSliceUs >= STARVED_WAIT_PER_SLICE_US);
}

/** Every figure of a run from its raw samples. */
export function deriveFigures(raw: RawRun): Figures {
  const m = raw.measurement;
  const durationSec = m.durationMs / 1000;
  const window = raw.sampledWindowSec > 0 ? raw.sampledWindowSec : durationSec;
  const rate = (x: number): number => (durationSec > 0 ? x / durationSec : 0);

  let serverCpuSeconds: number | null = null;
  let serverContextSwitches: ContextSwitches | null = null;
  let serverSwitchesByThread: Record<string, ContextSwitches> | null = null;
  let serverRssBytes: number | null = null;
  let serverPeakRssBytes: number | null = null;
  let serverThreadCount: number | null = null;
  let serverRunQueueWaitSec: number | null = null;
  if (raw.server !== null) {
    const { before, after, rssSamplesBytes } = raw.server;
    serverCpuSeconds = serverCpuSecondsBetween(before, after, raw.clockTicksPerSec);
    serverRunQueueWaitSec = serverWaitSeconds(before, after);
    serverContextSwitches = switchesBetween(before, after);
    serverSwitchesByThread = switchesByThread(before, after);
    serverRssBytes = rssSamplesBytes.reduce((a, b) => Math.max(a, b), Math.max(before.rssBytes, after.rssBytes));
    serverPeakRssBytes = after.hwmBytes;
    serverThreadCount = after.threads;
  }
  const perMsgSwitches =
    serverContextSwitches === null || m.messages === 0
      ? null
      : {
          voluntary: serverContextSwitches.voluntary / m.messages,
          involuntary: serverContextSwitches.involuntary / m.messages,
          total: serverContextSwitches.total / m.messages,
        };

  const clientCpuSeconds = Math.max(0, raw.client.after.processCpuUs - raw.client.before.processCpuUs) / 1e6;
  const usableCores = Math.max(1, raw.client.usableCores);
  const clientCpuUtilisation = window > 0 ? clientCpuSeconds / (window * usableCores) : 0;
  const clientThreadMaxUtilisation = maxThreadShare(raw.client.before, raw.client.after, m.threadIds, window, "runNs")?.share ?? null;
  const saturation = clientSaturation(clientCpuUtilisation, clientThreadMaxUtilisation, usableCores);
  const waiting = maxThreadShare(raw.client.before, raw.client.after, m.threadIds, window, "waitNs");
  const clientRunQueueWaitMaxShare = waiting?.share ?? null;
  const clientRunQueueWaitPerSliceUs = waiting === null ? null : waitPerSliceUs(raw.client.before, raw.client.after, waiting.tid);
  const otherShare =
    raw.system === undefined || window <= 0 ? null : otherCpuShare(raw.system, clientCpuSeconds + (serverCpuSeconds ?? 0) + (raw.localPartsCpuSeconds ?? 0), raw.clockTicksPerSec);

  const errors = errorFigures(m.errors);
  const errorsTotal = errorFigures(m.errorsTotal);
  const flags: RunFlag[] = [];
  if (saturation.saturated) flags.push("CLIENT-SATURATED");
  if (clientStarved(clientRunQueueWaitMaxShare, clientRunQueueWaitPerSliceUs)) flags.push("CLIENT-STARVED");
  if (otherShare !== null && otherShare >= BUSY_THRESHOLD) flags.push("MACHINE-BUSY");
  if (errorsTotal.mismatch > 0) flags.push("MISMATCH");
  if (errors.total - errors.mismatch > 0) flags.push("ERRORS");
  if (m.messages === 0) flags.push("NO-MESSAGES");
  if (m.sessionsConnected < raw.connectionsRequested && raw.sessionsChurn !== true) flags.push("SESSIONS-MISSING");
  if (m.messages > 0 && m.sessionsServed < raw.connectionsRequested) flags.push("SESSIONS-UNSERVED");
  let openLoop: OpenLoopFigures | null = null;
  if (raw.targetMessagesPerSec !== undefined && raw.targetMessagesPerSec !== null && raw.targetMessagesPerSec > 0) {
    const achieved = rate(m.messages);
    openLoop = { targetMessagesPerSec: raw.targetMessagesPerSec, achievedMessagesPerSec: achieved, achievedRatio: achieved / raw.targetMessagesPerSec };
    if (m.sendLagUs !== undefined) openLoop.clientSendLagUs = m.sendLagUs === null ? null : summarise(m.sendLagUs);
    if (openLoop.achievedRatio < TARGET_RATE_SHORTFALL) flags.push("BELOW-TARGET-RATE");
    if (clientBehind(openLoop.clientSendLagUs?.p99, m.latencyUs.totalCount > 0 ? m.latencyUs.getValueAtPercentile(99) : null)) flags.push("CLIENT-BEHIND");
  }
  if (raw.serverExitedCleanly === false) flags.push("SERVER-EXIT");
  const fds = raw.server?.openFiles;
  if (fds !== undefined && m.sessionsConnected < raw.connectionsRequested && fds.count >= fds.limit - FD_LIMIT_SLACK) flags.push("SERVER-FD-LIMIT");

  return {
    durationSec,
    warmupSec: raw.warmupSec,
    messages: m.messages,
    bytes: m.bytes,
    messagesPerSec: rate(m.messages),
    bytesPerSec: rate(m.bytes),
    latencyUs: summarise(m.latencyUs),
    latencyUncorrectedUs: m.uncorrectedLatencyUs === null ? null : summarise(m.uncorrectedLatencyUs),
    latencyUncorrectedHistogram: m.uncorrectedLatencyUs === null ? null : encodeForResults(m.uncorrectedLatencyUs),
    openLoop,
    connectLatencyUs: summarise(m.connectLatencyUs),
    firstEchoLatencyUs: m.firstEchoUs === null ? null : summarise(m.firstEchoUs),
    latencyHistogram: encodeForResults(m.latencyUs),
    connectLatencyHistogram: encodeForResults(m.connectLatencyUs),
    firstEchoLatencyHistogram: m.firstEchoUs === null || m.firstEchoUs.totalCount === 0 ? null : encodeForResults(m.firstEchoUs),
    errors,
    errorsTotal,
    sessionsConnected: m.sessionsConnected,
    sessionsServed: m.sessionsServed,
    sessionsNotServed: Math.max(0, raw.connectionsRequested - m.sessionsServed),
    sessionsTimedOut: m.sessionsTimedOut,
    connects: m.connects,
    connectsPerSec: rate(m.connects),
    connectsTotal: m.connectsTotal,
    serverCpuSeconds,
    serverCpuUsPerMessage: serverCpuSeconds === null ? null : perMessage(serverCpuSeconds * 1e6, m.messages),
    serverContextSwitches,
    serverContextSwitchesPerMessage: perMsgSwitches,
    serverContextSwitchesByThread: serverSwitchesByThread,
    serverRssBytes,
    serverPeakRssBytes,
    serverThreadCount,
    serverIdleRssBytes: raw.server?.idleRssBytes ?? null,
    serverRssBytesPerSession: bytesPerSession(raw.server?.idleRssBytes, serverRssBytes, connectionsHeld(raw, m.sessionsConnected)),
    serverOpenFiles: fds?.count ?? null,
    serverOpenFileLimit: fds?.limit ?? null,
    // The client keeps every session it runs, connected or not: its memory is per session asked for.
    clientRssBytesPerSession: bytesPerSession(raw.clientMemory?.beforeBytes, raw.clientMemory?.endBytes, raw.connectionsRequested),
    serverRunQueueWaitSec,
    clientCpuSeconds,
    clientUsableCores: usableCores,
    clientCpuUtilisation,
    clientThreadMaxUtilisation,
    clientSaturated: saturation.saturated,
    clientSaturatedReason: saturation.reason,
    clientRunQueueWaitMaxShare,
    clientRunQueueWaitPerSliceUs,
    otherCpuShare: otherShare,
    timeline: { ...m.timeline, messages: [...m.timeline.messages] },
    ...(m.latencyTimeline !== undefined ? { latencyTimeline: latencyTimeline(m.latencyTimeline) } : {}),
    flags,
    ...(m.chat !== undefined ? { chat: { ...m.chat } } : {}),
  };
}
