/**
 * A load split into parts (runner/parts/, reports/parts.ts) on made-up
 * parts: the split adds up to the whole, the merge is exact (each bucket of
 * the merged histogram is the sum of the parts', which is what one client
 * recording every value would hold), and a part that fails, returns
 * nothing, starts late or saturates is named, never merged silently.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Histogram } from "hdr-histogram-js";
import { NO_ERRORS, type ClientMeasurement } from "../contracts/client.js";
import type { RawRun } from "../contracts/run.js";
import { createHistogram, decodeHistogram, encodeHistogram } from "../contracts/histogram.js";
import { deriveFigures } from "../reports/derive.js";
import { LATE_MS, SILENT_MS, localCpuSeconds, withParts, type PartFacts } from "../reports/parts.js";
import type { Figures } from "../reports/schema.js";
import { mergeParts } from "../runner/parts/merge.js";
import { defaultClientProcesses, sourceHostsFor, splitEvenly, splitLoad } from "../runner/parts/plan.js";
import { DEFAULT_SCRIPT } from "../contracts/client.js";

/** Deterministic values (a small LCG), so a failure repeats. */
function values(seed: number, n: number, max: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 1 + (x % max);
  });
}

function histogramOf(vs: readonly number[]): Histogram {
  const h = createHistogram();
  for (const v of vs) h.recordValue(v);
  return h;
}

/** The whole distribution (every bucket's value and cumulative count) and the encoding: two histograms are equal when these are. */
function buckets(h: Histogram): [string, string, number] {
  return [h.outputPercentileDistribution(1, 1), encodeHistogram(h), h.totalCount];
}

/** One part's figures, derived as a part derives them, from its own round trips. */
function part(latencies: number[], over: Partial<ClientMeasurement> = {}, windowSec = 2): Figures {
  const m: ClientMeasurement = {
    durationMs: windowSec * 1000,
    messages: latencies.length,
    bytes: latencies.length * 64,
    latencyUs: histogramOf(latencies),
    uncorrectedLatencyUs: null,
    connectLatencyUs: histogramOf([100, 200]),
    firstEchoUs: null,
    errors: { ...NO_ERRORS, timeout: 1 },
    errorsTotal: { ...NO_ERRORS, timeout: 2 },
    sessionsConnected: 10,
    sessionsServed: 10,
    sessionsTimedOut: 1,
    connects: 0,
    connectsTotal: 10,
    timeline: { intervalMs: 500, messages: [5, 10, 10, 10, 10], measureStartIndex: 1 },
    latencyTimeline: { originEpochMs: 1000, intervalMs: 1000, measureStartIndex: 1, histograms: [encodeHistogram(histogramOf([5, 6])), encodeHistogram(histogramOf(latencies))] },
    threadIds: [],
    ...over,
  };
  const snap = { processCpuUs: 0, threads: new Map() };
  return deriveFigures({
    measurement: m,
    sampledWindowSec: windowSec,
    warmupSec: 1,
    connectionsRequested: 10,
    server: null,
    client: { before: snap, after: { ...snap, processCpuUs: 400_000 }, usableCores: 2 },
    clockTicksPerSec: 100,
    clientMemory: { beforeBytes: 1_000_000, endBytes: 2_000_000 },
  });
}

function facts(name: string, figures: Figures | null, over: Partial<PartFacts> = {}): PartFacts {
  return {
    name,
    kind: "agent",
    host: `host-${name}`,
    pid: 1,
    sessions: 10,
    clientThreads: 1,
    sourceHosts: [],
    status: figures === null ? "missing" : "ok",
    clockOffsetMs: 0.4,
    clockRttMs: 0.3,
    loadStartLagMs: 3,
    windowStartLagMs: 2,
    figures,
    linkDrops: 0,
    silentMs: 300,
    ...over,
  };
}

test("the split adds up to the whole load and continues its session numbering", () => {
  assert.deepEqual(splitEvenly(10, 3), [4, 3, 3]);
  const client = {
    host: "127.0.0.1",
    port: 9,
    sessions: 10,
    sizeBytes: 64,
    clientThreads: 2,
    timeoutMs: 1000,
    connectTimeoutMs: 1000,
    connectConcurrency: 8,
    cpus: [0],
    script: { ...DEFAULT_SCRIPT, connectRatePerSec: 100 },
  };
  const plans = splitLoad({ runId: "r", client, parts: 3, threads: { total: 2 }, finishLimitMs: 1, targetMessagesPerSec: 300, sessionsChurn: false });
  assert.deepEqual(plans.map((p) => p.client.sessions), [4, 3, 3]);
  assert.deepEqual(plans.map((p) => p.client.part), [{ sessionOffset: 0, totalSessions: 10 }, { sessionOffset: 4, totalSessions: 10 }, { sessionOffset: 7, totalSessions: 10 }]);
  // Every part has a thread, however few there were to share.
  assert.deepEqual(plans.map((p) => p.client.clientThreads), [1, 1, 1]);
  const close = (a: number, b: number): void => assert.ok(Math.abs(a - b) < 1e-9, `${a} vs ${b}`);
  close(plans.reduce((a, p) => a + (p.client.script?.connectRatePerSec ?? 0), 0), 100);
  close(plans.reduce((a, p) => a + (p.targetMessagesPerSec ?? 0), 0), 300);
  // More parts than sessions: no part without a session.
  assert.equal(splitLoad({ runId: "r", client: { ...client, sessions: 2 }, parts: 3, threads: { each: 0 }, finishLimitMs: 1, targetMessagesPerSec: null, sessionsChurn: false }).length, 2);
});

test("client processes and source addresses: as many as the limits call for, no more", () => {
  assert.equal(defaultClientProcesses(1000, 20_000, 128), 1);
  assert.equal(defaultClientProcesses(19_872, 20_000, 128), 1);
  assert.equal(defaultClientProcesses(19_873, 20_000, 128), 2);
  assert.equal(defaultClientProcesses(40_000, 20_000, 128), 3);
  assert.deepEqual(sourceHostsFor("127.0.0.1", 10_000, 28_232), []);
  assert.deepEqual(sourceHostsFor("127.0.0.1", 20_000, 28_232), ["127.0.1.1", "127.0.1.2"], "no address past the even half of its ports");
  assert.deepEqual(sourceHostsFor("127.0.0.1", 40_000, 28_232), ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"]);
  const off = sourceHostsFor("10.0.0.5", 40_000, 28_232);
  assert.equal(typeof off, "string", "an address off loopback cannot be made up");
  assert.match(off as string, /ip_local_port_range/);
});

test("the merge is exact: counts add up and the merged histogram holds every part's values, bucket by bucket", () => {
  const a = values(1, 5000, 20_000);
  const b = values(2, 3000, 900);
  const c = values(3, 100, 5_000_000);
  const parts = [part(a), part(b, { timeline: { intervalMs: 500, messages: [7, 1, 2, 3, 4, 5], measureStartIndex: 2 } }), part(c)];
  const merged = mergeParts(parts, 5000);
  assert.equal(merged.messages, a.length + b.length + c.length);
  // The rate over the merged window is the sum of the parts' rates, windows of unequal length included.
  const uneven = mergeParts([part(a, {}, 2), part(b, {}, 1.5)], 0);
  assert.ok(Math.abs(uneven.messages / (uneven.durationMs / 1000) - (a.length / 2 + b.length / 1.5)) < 1e-6);
  assert.equal(merged.bytes, 64 * (a.length + b.length + c.length));
  assert.equal(merged.errors.timeout, 3);
  assert.equal(merged.errorsTotal.timeout, 6);
  assert.equal(merged.sessionsConnected, 30);
  // One client that recorded every round trip, as results.json keeps it (encoded: its max is its bucket's).
  const one = decodeHistogram(encodeHistogram(histogramOf([...a, ...b, ...c])));
  assert.deepEqual(buckets(merged.latencyUs), buckets(one));
  assert.equal(merged.latencyUs.getValueAtPercentile(99), one.getValueAtPercentile(99));
  // Not an average of the parts' p99s: with these parts that would be far off.
  const averaged = parts.reduce((s, p) => s + (p.latencyUs?.p99 ?? 0), 0) / parts.length;
  assert.ok(Math.abs(averaged - one.getValueAtPercentile(99)) > 1000, "the test's parts must tell an average from a merge");
  // Timelines line up where the windows opened: part 2's window opened one interval later in its own count.
  assert.deepEqual(merged.timeline, { intervalMs: 500, messages: [7, 11, 22, 23, 24, 25], measureStartIndex: 2 });
  // Per-second latency: interval by interval, the origin moved to this machine's clock.
  assert.equal(merged.latencyTimeline?.originEpochMs, 5000);
  assert.deepEqual(buckets(decodeHistogram(merged.latencyTimeline!.histograms[1]!)), buckets(one));
});

/** What the coordinator derives from: the parts' merged measurement, its own process idle (it ran no session). */
function coordinatorRaw(parts: readonly Figures[], connections: number, extra: Partial<RawRun> = {}): RawRun {
  const idle = { processCpuUs: 0, threads: new Map() };
  return {
    measurement: mergeParts(parts, 0),
    sampledWindowSec: 2,
    warmupSec: 1,
    connectionsRequested: connections,
    server: null,
    client: { before: idle, after: idle, usableCores: 2 },
    clockTicksPerSec: 100,
    ...extra,
  };
}

test("the run's client side is the parts': CPU summed, cores of each machine once, memory over every session", () => {
  const parts = [part(values(1, 100, 50)), part(values(2, 100, 50))];
  const merged = deriveFigures(coordinatorRaw(parts, 20));
  const { figures } = withParts(merged, [facts("a", parts[0]!), facts("b", parts[1]!, { host: "host-a" })]);
  assert.equal(figures.clientCpuSeconds, 0.8);
  assert.equal(figures.clientUsableCores, 2, "two parts on one machine share its cores");
  assert.equal(figures.clientRssBytesPerSession, 100_000);
  assert.deepEqual(figures.flags, ["ERRORS"]);
});

test("client processes on this machine are the run's own CPU, not another process's: no MACHINE-BUSY for them", () => {
  const parts = [part(values(1, 100, 50), {}, 2), part(values(2, 100, 50), {}, 2)];
  // Two CPUs over 2 s (400 ticks), 320 of them idle: 0.8 s busy, what the two parts used.
  const cpu = (idleTicks: number) => ({ idleTicks, irqTicks: 0 });
  const system: RawRun["system"] = {
    before: { atMs: 0, cpus: new Map([[0, cpu(0)], [1, cpu(0)]]), softirqThreadNs: new Map(), irqInTasks: false },
    after: { atMs: 2_000, cpus: new Map([[0, cpu(160)], [1, cpu(160)]]), softirqThreadNs: new Map(), irqInTasks: false },
    cpus: [0, 1],
  };
  const busy = (local: PartFacts[]) => deriveFigures(coordinatorRaw(parts, 20, { system, localPartsCpuSeconds: localCpuSeconds(local) })).flags.includes("MACHINE-BUSY");
  const processes = [facts("p1", parts[0]!, { kind: "process" }), facts("p2", parts[1]!, { kind: "process" })];
  assert.equal(localCpuSeconds(processes), 0.8);
  assert.equal(busy(processes), false);
  assert.equal(busy([facts("a1", parts[0]!), facts("a2", parts[1]!)]), true, "agents run elsewhere: CPU used here is another process's");
});

test("a part that returned nothing, failed, started late, fell silent, saturated or starved is named and flagged", () => {
  const ok = part(values(1, 100, 50));
  const merged = deriveFigures(coordinatorRaw([ok], 30));
  const saturated: Figures = { ...ok, clientSaturated: true, clientSaturatedReason: "a client thread was busy 97% of a core", flags: ["CLIENT-SATURATED"] };
  const starved: Figures = { ...ok, clientRunQueueWaitMaxShare: 0.31, clientRunQueueWaitPerSliceUs: 900, flags: ["CLIENT-STARVED"] };
  const { figures, parts } = withParts(merged, [
    facts("fine", ok),
    facts("gone", null, { error: "the process was killed by SIGKILL without a result" }),
    facts("late", saturated, { loadStartLagMs: LATE_MS + 200, silentMs: SILENT_MS + 1 }),
    facts("starved", starved),
  ]);
  for (const f of ["PARTIAL", "PART-LATE", "PART-LOST", "CLIENT-SATURATED", "CLIENT-STARVED"] as const) assert.ok(figures.flags.includes(f), `${f} in ${figures.flags.join(",")}`);
  assert.deepEqual(parts[0]!.problems, []);
  assert.match(parts[1]!.problems.join("; "), /^PARTIAL: returned nothing.*SIGKILL/);
  assert.match(parts[2]!.problems.join("; "), /PART-LATE: its sessions started 0\.45 s after the common start/);
  assert.match(parts[2]!.problems.join("; "), /PART-LOST: not heard from/);
  assert.match(figures.clientSaturatedReason ?? "", /^late: a client thread was busy 97%/);
  assert.deepEqual(parts[3]!.problems, ["CLIENT-STARVED: a client thread waited for a CPU 31 % of the window"]);
  assert.equal(figures.clientRunQueueWaitMaxShare, 0.31);
  assert.ok(!withParts(merged, [facts("fine", ok)]).figures.flags.includes("CLIENT-STARVED"));
  // Judging again changes nothing (a failed run's figures pass through twice).
  assert.deepEqual(withParts(figures, [facts("fine", ok), facts("gone", null), facts("late", saturated, { loadStartLagMs: LATE_MS + 200, silentMs: SILENT_MS + 1 }), facts("starved", starved)]).figures.flags, figures.flags);
  // A part whose window is materially shorter measured less than the run: PARTIAL, even though it returned figures.
  const short = withParts(merged, [facts("fine", ok), facts("short", part(values(4, 10, 50), {}, 1.7))]);
  assert.ok(short.figures.flags.includes("PARTIAL"));
  assert.match(short.parts[1]!.problems[0] ?? "", /^PARTIAL: measured 1\.70 s of a 2\.00 s window/);
  assert.deepEqual(withParts(merged, [facts("fine", ok), facts("nearly", part(values(4, 10, 50), {}, 1.9))]).figures.flags, merged.flags, "a window 5 % short is absorbed");
});
