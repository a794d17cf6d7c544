import { test } from "node:test";
import assert from "node:assert/strict";
import { createHistogram, decodeHistogram, encodeHistogram } from "../contracts/histogram.js";
import type { ClientMeasurement, ErrorCounts } from "../contracts/client.js";
import { NO_ERRORS } from "../contracts/client.js";
import { SATURATION_THRESHOLD, clientSaturation, clientStarved, deriveFigures, otherCpuShare, perMessage, serverCpuSecondsBetween, switchesBetween, switchesByThread } from "../reports/derive.js";
import type { ClientCpuSnapshot, ProcSnapshot, SystemCpuSnapshot } from "../contracts/proc.js";
import type { RawRun } from "../contracts/run.js";
import { irqTimeInTasks, parseProcStat, parseSchedstat, parseStatCpuTicks, parseStatThreads, statusValue } from "../runner/proc.js";

const CLIENT_TIDS = [501, 502];

function measurement(over: Partial<ClientMeasurement> = {}): ClientMeasurement {
  const latency = createHistogram();
  for (let v = 1; v <= 1000; v++) latency.recordValue(v); // p50 = 500, p99 = 990, max = 1000
  const connect = createHistogram();
  connect.recordValueWithCount(200, 10);
  return {
    durationMs: 2000,
    messages: 1000,
    bytes: 64_000,
    latencyUs: latency,
    connectLatencyUs: connect,
    errors: { ...NO_ERRORS },
    errorsTotal: { ...NO_ERRORS },
    sessionsConnected: 10,
    uncorrectedLatencyUs: null,
    sessionsServed: 10,
    sessionsTimedOut: 0,
    connects: 10,
    connectsTotal: 10,
    timeline: { intervalMs: 500, messages: [100, 250, 250, 250, 250], measureStartIndex: 1 },
    threadIds: CLIENT_TIDS,
    firstEchoUs: null,
    ...over,
  };
}

/** Tasks as [tid, voluntary, involuntary, on-CPU ns?, run-queue wait ns?]. */
function proc(cpuTicks: number, tasks: [number, number, number, number?, number?][], rssBytes: number, hwmBytes = rssBytes): ProcSnapshot {
  return {
    cpuTicks,
    tasks: new Map(tasks.map(([tid, voluntary, involuntary, runNs = 0, waitNs = 0]) => [tid, { voluntary, involuntary, runNs, waitNs, slices: 0 }])),
    rssBytes,
    hwmBytes,
    threads: tasks.length,
  };
}

/** Threads as [tid, on-CPU time in 10 ms units, run-queue wait ms?, timeslices?]. */
function clientCpu(processCpuUs: number, threads: [number, number, number?, number?][]): ClientCpuSnapshot {
  return { processCpuUs, threads: new Map(threads.map(([tid, ticks, waitMs = 0, slices = 0]) => [tid, { runNs: ticks * 1e7, waitNs: waitMs * 1e6, slices }])) };
}

/** A 2 s window on 2 usable cores: a lightly loaded client unless a test says otherwise. */
function raw(over: Partial<RawRun> = {}): RawRun {
  return {
    measurement: measurement(),
    sampledWindowSec: 2,
    warmupSec: 1,
    connectionsRequested: 10,
    server: {
      before: proc(1000, [[100, 10, 1], [101, 20, 2], [102, 5, 5]], 10_000_000),
      // task 102 exited inside the window; task 103 was born inside it.
      after: proc(1150, [[100, 110, 3], [101, 220, 4], [103, 70, 1]], 12_000_000, 30_000_000),
      rssSamplesBytes: [11_000_000, 25_000_000, 12_000_000],
    },
    client: {
      before: clientCpu(1_000_000, [[501, 100], [502, 100], [9, 0]]),
      after: clientCpu(2_000_000, [[501, 200], [502, 140], [9, 500]]),
      usableCores: 2,
    },
    clockTicksPerSec: 100,
    ...over,
  };
}

test("rates, latency and server figures come from the samples", () => {
  const f = deriveFigures(raw());
  assert.equal(f.durationSec, 2);
  assert.equal(f.messagesPerSec, 500);
  assert.equal(f.bytesPerSec, 32_000);
  assert.equal(f.latencyUs?.count, 1000);
  assert.equal(f.latencyUs?.p50, 500);
  assert.equal(f.latencyUs?.p99, 990);
  assert.equal(f.latencyUs?.max, 1000);
  assert.equal(f.connectLatencyUs?.p50, 200);
  // 150 ticks at 100/s = 1.5 s over 1000 messages
  assert.equal(f.serverCpuSeconds, 1.5);
  assert.equal(f.serverCpuUsPerMessage, 1500);
  // tasks 100 and 101 by difference, 103 from zero, 102 (gone) left out
  assert.deepEqual(f.serverContextSwitches, { voluntary: 100 + 200 + 70, involuntary: 2 + 2 + 1, total: 375 });
  assert.deepEqual(f.serverContextSwitchesPerMessage, { voluntary: 0.37, involuntary: 0.005, total: 0.375 });
  assert.equal(f.serverRssBytes, 25_000_000, "RSS is the largest sample");
  assert.equal(f.serverPeakRssBytes, 30_000_000);
  assert.equal(f.serverThreadCount, 3);
  assert.deepEqual(f.timeline.messages, [100, 250, 250, 250, 250]);
  assert.deepEqual(f.flags, []);
});

test("the encoded histogram decodes to the measured one", () => {
  const f = deriveFigures(raw());
  assert.equal(f.latencyHistogram.encoding, "hdrhistogram-v2-compressed-base64");
  const h = decodeHistogram(f.latencyHistogram.data);
  assert.equal(h.totalCount, 1000);
  assert.equal(h.getValueAtPercentile(99), 990);
});

test("client CPU: whole process over its usable cores, busiest worker thread over one core", () => {
  const f = deriveFigures(raw());
  assert.equal(f.clientCpuSeconds, 1);
  assert.equal(f.clientCpuUtilisation, 0.25); // 1 s over 2 s × 2 cores
  // thread 501: 100 ticks = 1 s over 2 s; thread 9 (not a worker) is ignored though busier
  assert.equal(f.clientThreadMaxUtilisation, 0.5);
  assert.equal(f.clientSaturated, false);
  assert.equal(f.clientSaturatedReason, null);
});

test("a client worker thread busy >= 90% of a core flags the run", () => {
  const f = deriveFigures(
    raw({
      client: {
        before: clientCpu(0, [[501, 0], [502, 0]]),
        after: clientCpu(2_000_000, [[501, 186], [502, 14]]),
        usableCores: 2,
      },
    }),
  );
  assert.equal(f.clientSaturated, true);
  assert.match(f.clientSaturatedReason ?? "", /client thread was busy 93% of a core/);
  assert.deepEqual(f.flags, ["CLIENT-SATURATED"]);
});

test("the client process using >= 90% of its usable cores flags the run", () => {
  const f = deriveFigures(
    raw({
      client: {
        before: clientCpu(0, [[501, 0], [502, 0]]),
        after: clientCpu(3_640_000, [[501, 170], [502, 170]]),
        usableCores: 2,
      },
    }),
  );
  assert.equal(f.clientThreadMaxUtilisation, 0.85);
  assert.ok(Math.abs(f.clientCpuUtilisation - 0.91) < 1e-9);
  assert.equal(f.clientSaturated, true);
  assert.match(f.clientSaturatedReason ?? "", /91% of its 2 usable core/);
});

test("the saturation threshold is inclusive at 90% and not below", () => {
  assert.equal(clientSaturation(SATURATION_THRESHOLD, null, 4).saturated, true);
  assert.equal(clientSaturation(0.89, 0.89, 4).saturated, false);
  assert.equal(clientSaturation(0.1, SATURATION_THRESHOLD, 4).saturated, true);
});

test("a worker thread that vanished is skipped; one born in the window counts from zero", () => {
  const f = deriveFigures(
    raw({
      client: {
        before: clientCpu(0, [[501, 50]]),
        after: clientCpu(100_000, [[502, 190]]),
        usableCores: 2,
      },
    }),
  );
  assert.equal(f.clientThreadMaxUtilisation, 0.95);
  const none = deriveFigures(raw({ client: { before: clientCpu(0, []), after: clientCpu(0, []), usableCores: 2 } }));
  assert.equal(none.clientThreadMaxUtilisation, null);
});

test("zero messages: per-message figures are null, nothing divides by zero", () => {
  const empty = measurement({
    messages: 0,
    bytes: 0,
    latencyUs: createHistogram(),
    connectLatencyUs: createHistogram(),
    sessionsConnected: 0,
  });
  const f = deriveFigures(raw({ measurement: empty }));
  assert.equal(f.messagesPerSec, 0);
  assert.equal(f.bytesPerSec, 0);
  assert.equal(f.latencyUs, null);
  assert.equal(f.connectLatencyUs, null);
  assert.equal(f.serverCpuUsPerMessage, null);
  assert.equal(f.serverContextSwitchesPerMessage, null);
  assert.equal(f.serverCpuSeconds, 1.5, "the server's CPU is still reported");
  assert.deepEqual(f.flags, ["NO-MESSAGES", "SESSIONS-MISSING"]);
  assert.equal(perMessage(5, 0), null);

  // A window of zero length (e.g. the server died at once) must not divide by zero either.
  const instant = deriveFigures(raw({ measurement: { ...empty, durationMs: 0 }, sampledWindowSec: 0 }));
  for (const [k, v] of Object.entries(instant)) {
    if (typeof v === "number") assert.ok(Number.isFinite(v), `${k} = ${v}`);
  }
  assert.doesNotMatch(JSON.stringify(instant), /NaN|Infinity/);
});

test("without server readings the server figures are null, not zero", () => {
  const f = deriveFigures(raw({ server: null }));
  assert.equal(f.serverCpuSeconds, null);
  assert.equal(f.serverCpuUsPerMessage, null);
  assert.equal(f.serverContextSwitches, null);
  assert.equal(f.serverRssBytes, null);
  assert.equal(f.messagesPerSec, 500);
});

test("errors are summed by kind and mismatches, errors, missing sessions and a dirty exit are flagged", () => {
  const errors: ErrorCounts = { connect: 1, reset: 2, timeout: 3, mismatch: 0, closedEarly: 4 };
  const errorsTotal: ErrorCounts = { ...errors, connect: 5, mismatch: 7 };
  const f = deriveFigures(
    raw({ measurement: measurement({ errors, errorsTotal, sessionsConnected: 9 }), serverExitedCleanly: false }),
  );
  assert.equal(f.errors.total, 10);
  assert.equal(f.errorsTotal.total, 21);
  assert.equal(f.errorsTotal.mismatch, 7);
  assert.deepEqual(f.flags, ["MISMATCH", "ERRORS", "SESSIONS-MISSING", "SERVER-EXIT"]);
});

test("context switches are summed by thread name, tasks born in the window from zero", () => {
  const named = (tasks: [number, string, number][]): ProcSnapshot => ({
    ...proc(0, [], 0),
    tasks: new Map(tasks.map(([tid, name, voluntary]) => [tid, { voluntary, involuntary: 1, runNs: 0, waitNs: 0, slices: 0, name }])),
  });
  const before = named([[1, "main", 10], [2, "iocp-worker-0", 5], [3, "iocp-worker-1", 5], [4, "node", 0]]);
  const after = named([[1, "main", 12], [2, "iocp-worker-0", 9], [3, "iocp-worker-1", 6], [5, "node", 3]]);
  const totals = Object.fromEntries(Object.entries(switchesByThread(before, after)).map(([k, v]) => [k, v.total]));
  assert.deepEqual(totals, { main: 2, "iocp-worker-0": 4, "iocp-worker-1": 1, node: 4 });
  assert.deepEqual(switchesByThread(before, after)["node"], { voluntary: 3, involuntary: 1, total: 4 });
  const unnamed = switchesByThread(proc(0, [[1, 1, 1]], 0), proc(0, [[1, 3, 2]], 0));
  assert.deepEqual(unnamed, { "?": { voluntary: 2, involuntary: 1, total: 3 } });
});

test("context switches of tasks present at both readings never go negative", () => {
  const s = switchesBetween(proc(0, [[1, 10, 10]], 0), proc(0, [[1, 5, 12]], 0));
  assert.deepEqual(s, { voluntary: 0, involuntary: 2, total: 2 });
});

test("/proc parsing copes with a command name holding spaces and parentheses", () => {
  const stat = "1234 (my (weird) name) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 7 0 12345 1000000 300 18446744073709551615";
  assert.equal(parseStatCpuTicks(stat), 325);
  assert.equal(parseStatThreads(stat), 7);
  const status = "Name:\tnode\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\nvoluntary_ctxt_switches:\t42\nnonvoluntary_ctxt_switches:\t7\n";
  assert.equal(statusValue(status, "VmRSS"), 10240 * 1024);
  assert.equal(statusValue(status, "VmHWM"), 20480 * 1024);
  assert.equal(statusValue(status, "voluntary_ctxt_switches"), 42);
  assert.equal(statusValue(status, "nonvoluntary_ctxt_switches"), 7);
  assert.equal(statusValue(status, "VmSwap"), 0);
});

test("open loop: target vs achieved rate, uncorrected latency, BELOW-TARGET-RATE under 90%", () => {
  const uncorrected = createHistogram();
  uncorrected.recordValueWithCount(100, 1000);
  // 1,000 messages in a 2 s window = 500 msg/s.
  const ok = deriveFigures(raw({ measurement: measurement({ uncorrectedLatencyUs: uncorrected }), targetMessagesPerSec: 520 }));
  assert.deepEqual(ok.openLoop, { targetMessagesPerSec: 520, achievedMessagesPerSec: 500, achievedRatio: 500 / 520 });
  assert.equal(ok.latencyUncorrectedUs?.p99, 100);
  assert.ok(ok.latencyUncorrectedHistogram !== null);
  assert.ok(!ok.flags.includes("BELOW-TARGET-RATE"));
  const short = deriveFigures(raw({ targetMessagesPerSec: 600 }));
  assert.ok(short.flags.includes("BELOW-TARGET-RATE"), "500 of 600 is below 90%");
  const closed = deriveFigures(raw());
  assert.equal(closed.openLoop, null);
  assert.equal(closed.latencyUncorrectedUs, null);
  assert.equal(closed.latencyUncorrectedHistogram, null);
});

test("sessions served: not-served count and SESSIONS-UNSERVED; reconnecting sessions are not SESSIONS-MISSING", () => {
  const f = deriveFigures(raw({ measurement: measurement({ sessionsServed: 2, sessionsTimedOut: 5, connects: 40 }) }));
  assert.equal(f.sessionsServed, 2);
  assert.equal(f.sessionsNotServed, 8);
  assert.equal(f.sessionsTimedOut, 5);
  assert.equal(f.connectsPerSec, 20);
  assert.ok(f.flags.includes("SESSIONS-UNSERVED"));
  assert.ok(!deriveFigures(raw()).flags.includes("SESSIONS-UNSERVED"));
  const churn = measurement({ sessionsConnected: 3 });
  assert.ok(deriveFigures(raw({ measurement: churn })).flags.includes("SESSIONS-MISSING"));
  assert.ok(!deriveFigures(raw({ measurement: churn, sessionsChurn: true })).flags.includes("SESSIONS-MISSING"));
});

test("server CPU: its threads' schedstat ns; the clock ticks when a thread ended inside the window", () => {
  const before = proc(100, [[1, 0, 0, 1e9], [2, 0, 0, 2e9]], 0);
  const after = proc(250, [[1, 0, 0, 1.7e9], [2, 0, 0, 2.80123e9]], 0);
  // 150 ticks say 1.5 s to 10 ms; schedstat says 1.50123 s.
  assert.ok(Math.abs(serverCpuSecondsBetween(before, after, 100) - 1.50123) < 1e-9);
  // Thread 2 ended with 0.8 s of the window: only the ticks still count it.
  const gone = proc(250, [[1, 0, 0, 1.7e9]], 0);
  assert.equal(serverCpuSecondsBetween(before, gone, 100), 1.5);
  assert.deepEqual(parseSchedstat("123456789 2345 17\n"), { runNs: 123456789, waitNs: 2345, slices: 17 });
});

test("CLIENT-STARVED: a worker waited on a run queue 15% of the window, 200 µs or more each time it got a CPU", () => {
  // 2 s window: thread 501 waited 400 ms over 1,000 slices (400 µs each): starved.
  const starved = deriveFigures(raw({ client: { before: clientCpu(0, [[501, 0, 0, 0], [502, 0]]), after: clientCpu(1_000_000, [[501, 100, 400, 1000], [502, 10]]), usableCores: 2 } }));
  assert.ok(starved.flags.includes("CLIENT-STARVED"), JSON.stringify(starved.flags));
  assert.equal(starved.clientRunQueueWaitMaxShare, 0.2);
  assert.equal(starved.clientRunQueueWaitPerSliceUs, 400);
  // The same wait spread over 200,000 wake-ups (2 µs each) is an idle vCPU waking, not competition.
  const waking = deriveFigures(raw({ client: { before: clientCpu(0, [[501, 0, 0, 0]]), after: clientCpu(1_000_000, [[501, 100, 400, 200_000]]), usableCores: 2 } }));
  assert.ok(!waking.flags.includes("CLIENT-STARVED"));
  assert.equal(clientStarved(0.149, 1000), false);
  assert.equal(clientStarved(0.15, 199), false);
  assert.equal(clientStarved(0.15, 200), true);
  assert.equal(clientStarved(null, null), false);
});

/** A /proc/stat reading at `atMs`: [cpu, idle ticks, irq + softirq ticks], and ksoftirqd's ns by CPU. */
function system(atMs: number, cpus: [number, number, number][], softirqNs: [number, number][], irqInTasks: boolean): SystemCpuSnapshot {
  return { atMs, cpus: new Map(cpus.map(([cpu, idle, irq]) => [cpu, { idleTicks: idle, irqTicks: irq }])), softirqThreadNs: new Map(softirqNs), irqInTasks };
}

test("MACHINE-BUSY: other processes' share of the run's CPUs: wall less idle, less the server's, the client's and the run's interrupt work", () => {
  // CPUs 0 and 1 over 2 s: 60 idle ticks = 0.6 s, so 3.4 s busy; the run used 1.5 s (server) + 1 s (client) + 0.1 s (ksoftirqd).
  const window = (irqInTasks: boolean, idle: number, irq: number) => ({
    before: system(0, [[0, 0, 0], [1, 0, 0], [2, 0, 0]], [[0, 0]], irqInTasks),
    after: system(2000, [[0, idle / 2, irq / 2], [1, idle / 2, irq / 2], [2, 0, 0]], [[0, 1e8]], irqInTasks),
    cpus: [0, 1],
  });
  const inTasks = window(true, 60, 50);
  assert.ok(Math.abs(otherCpuShare(inTasks, 2.5, 100)! - 0.2) < 1e-9, "CPU 2 (never idle) is not the run's; the irq ticks are in the tasks' runtime already");
  const apart = window(false, 60, 50);
  assert.ok(Math.abs(otherCpuShare(apart, 2.5, 100)! - 0.1) < 1e-9, "irq accounted apart: its 0.5 s is the run's packets, ksoftirqd's time inside it");
  const f = deriveFigures(raw({ system: inTasks }));
  assert.ok(Math.abs(f.otherCpuShare! - 0.2) < 1e-9);
  assert.ok(f.flags.includes("MACHINE-BUSY"));
  const quiet = deriveFigures(raw({ system: window(true, 90, 0) }));
  assert.ok(!quiet.flags.includes("MACHINE-BUSY"), `others ${quiet.otherCpuShare}: 12.5 %, under the threshold`);
  assert.equal(deriveFigures(raw()).otherCpuShare, null, "not read: null, no flag");
  const stat = "cpu  1 2 3 4 5 6 7 8 0 0\ncpu0 10 1 20 100 5 3 4 2 0 0\nintr 1\n";
  assert.deepEqual(parseProcStat(stat).get(0), { idleTicks: 100 + 5, irqTicks: 3 + 4 });
});

test("interrupt time is the tasks' only when the kernel says it does not account it apart", () => {
  assert.equal(irqTimeInTasks("CONFIG_TICK_CPU_ACCOUNTING=y\n# CONFIG_IRQ_TIME_ACCOUNTING is not set\nCONFIG_HZ=250\n"), true);
  assert.equal(irqTimeInTasks("CONFIG_IRQ_TIME_ACCOUNTING=y\n"), false);
  assert.equal(irqTimeInTasks(undefined), false, "no config: accounted apart, so a quiet run never reads busy");
});

test("the first echo after each connect is summarised when the client timed it, null otherwise", () => {
  const first = createHistogram();
  first.recordValueWithCount(100_000, 10);
  const f = deriveFigures(raw({ measurement: measurement({ firstEchoUs: first }) }));
  assert.ok(Math.abs(f.firstEchoLatencyUs!.p99 - 100_000) <= 100, "to the histogram's 3 significant digits");
  assert.ok(f.firstEchoLatencyHistogram !== null);
  const none = deriveFigures(raw({ measurement: measurement({ firstEchoUs: createHistogram() }) }));
  assert.equal(none.firstEchoLatencyUs, null);
  assert.equal(none.firstEchoLatencyHistogram, null);
});

test("the latency timeline keeps every interval's histogram whole, with its percentiles beside it", () => {
  const quiet = createHistogram();
  for (let v = 100; v < 200; v++) quiet.recordValue(v);
  const stalled = createHistogram();
  for (let v = 100; v < 200; v++) stalled.recordValue(v * 1000);
  const encoded = [quiet, createHistogram(), stalled].map(encodeHistogram);
  const f = deriveFigures(raw({ measurement: measurement({ latencyTimeline: { originEpochMs: 5000, intervalMs: 1000, histograms: encoded, measureStartIndex: 1 } }) }));
  const t = f.latencyTimeline;
  assert.ok(t !== undefined);
  assert.deepEqual([t.originEpochMs, t.intervalMs, t.measureStartIndex, t.encoding, t.unit], [5000, 1000, 1, "hdrhistogram-v2-compressed-base64", "us"]);
  assert.deepEqual(
    t.intervals.map((i) => [i.count, i.p50Us, i.maxUs]),
    [
      [100, 149, 199],
      [0, null, null],
      [100, stalled.getValueAtPercentile(50), decodeHistogram(encoded[2]!).maxValue],
    ],
  );
  assert.equal(t.intervals[2]!.p99Us, stalled.getValueAtPercentile(99));
  assert.equal(decodeHistogram(t.intervals[2]!.data).totalCount, 100);
  // Without one (an outside tool), the figure is absent, not empty.
  assert.equal("latencyTimeline" in deriveFigures(raw()), false);
});
