import { test } from "node:test";
import assert from "node:assert/strict";
import { createHistogram } from "../contracts/histogram.js";
import { NO_ERRORS } from "../contracts/client.js";
import { deriveFigures } from "../reports/derive.js";
import { renderTable } from "../reports/table.js";
import type { Figures, ResultsFile, Run, RunConfig } from "../reports/schema.js";

function config(index: number, model: string): RunConfig {
  return {
    index,
    repeat: 1,
    model,
    threads: 2,
    connections: 100,
    sizeBytes: 64,
    clientThreads: 1,
    durationSec: 1,
    warmupSec: 0,
    timeoutMs: 1000,
    host: "127.0.0.1",
    port: 9000,
    bufferBytes: 65536,
    accept: "poll",
    pinning: { serverCpus: null, clientCpus: null },
  };
}

function figures(over: { mismatch?: number; clientBusyTicks?: number; messages?: number }): Figures {
  const h = createHistogram();
  if ((over.messages ?? 1) > 0) h.recordValueWithCount(250, 10);
  return deriveFigures({
    measurement: {
      durationMs: 1000,
      messages: over.messages ?? 123_456,
      bytes: 7_901_184,
      latencyUs: h,
      connectLatencyUs: h,
      errors: { ...NO_ERRORS, mismatch: over.mismatch ?? 0 },
      errorsTotal: { ...NO_ERRORS, mismatch: over.mismatch ?? 0 },
      sessionsConnected: 100,
      uncorrectedLatencyUs: null,
      sessionsServed: 100,
      sessionsTimedOut: 0,
      connects: 100,
      connectsTotal: 100,
      timeline: { intervalMs: 500, messages: [1, 2], measureStartIndex: 0 },
      threadIds: [7],
      firstEchoUs: null,
    },
    sampledWindowSec: 1,
    warmupSec: 0,
    connectionsRequested: 100,
    server: null,
    client: {
      before: { processCpuUs: 0, threads: new Map([[7, { runNs: 0, waitNs: 0, slices: 0 }]]) },
      after: { processCpuUs: 100_000, threads: new Map([[7, { runNs: (over.clientBusyTicks ?? 10) * 1e7, waitNs: 0, slices: 0 }]]) },
      usableCores: 2,
    },
    clockTicksPerSec: 100,
  });
}

function results(runs: Run[]): ResultsFile {
  return {
    schema: "iobench.results",
    version: 1,
    createdAt: "2026-11-23T09:41:07.000Z",
    updatedAt: "2026-11-23T09:41:09.000Z",
    complete: true,
    tool: { name: "iobench", version: "0" },
    environment: {
      cpuModel: "x",
      cores: 2,
      usableCores: 2,
      memoryBytes: 1,
      kernel: "k",
      node: "v20",
      platform: "linux-x64",
      gitCommit: null,
      gitDirty: null,
      nofileLimit: null,
      clockTicksPerSec: 100,
    },
    options: {} as ResultsFile["options"],
    runs,
  };
}

test("the table shows one row per run with its figures, flags in capitals and a note for each", () => {
  const runs: Run[] = [
    { status: "ok", config: config(0, "epoll"), figures: figures({}), startedAt: "" },
    { status: "ok", config: config(1, "iocp"), figures: figures({ mismatch: 3, clientBusyTicks: 95 }), startedAt: "" },
    {
      status: "failed",
      config: config(2, "blocking"),
      error: "server died mid-run (exit code 70): boom",
      failure: "server-died",
      figures: figures({ messages: 0 }),
      startedAt: "",
    },
    { status: "failed", config: config(3, "node"), error: "server failed to start: nope", failure: "server-start", figures: null, startedAt: "" },
  ];
  const text = renderTable(results(runs));
  const lines = text.split("\n");
  assert.match(lines[0]!, /model\s+threads\s+conns\s+size\s+msg\/s\s+MB\/s\s+p50 µs\s+p99 µs\s+p99\.9 µs\s+served\s+cpu µs\/msg\s+ctx-sw\/msg\s+RSS MiB\s+errors\s+flags/);
  assert.match(lines[1]!, /^1\s+epoll\s+2\s+100\s+64\s+123,456\s+7\.90\s+250\s+250\s+250\s+100\s+-\s+-\s+-\s+0$/);
  assert.match(lines[2]!, /iocp .* 3\s+!! CLIENT-SATURATED MISMATCH$/);
  assert.match(lines[3]!, /blocking .*!! FAILED NO-MESSAGES$/);
  assert.match(lines[4]!, /^4\s+node .*!! FAILED$/);
  assert.match(text, /^MISMATCH run 2 \(iocp, 2 threads, 100 conns, 64 B\): 3 echo\(es\) came back different/m);
  assert.match(text, /^CLIENT-SATURATED run 2 .*busy 95% of a core/m);
  assert.match(text, /^FAILED run 3 .*server died mid-run \(exit code 70\): boom$/m);
  assert.match(text, /^FAILED run 4 .*server failed to start: nope$/m);
  assert.doesNotMatch(text, /^epoll.*!!/m);
});

test("an empty sweep says so", () => {
  assert.match(renderTable(results([])), /no run completed/);
});

test("open-loop and reconnect columns appear only when a run needs them; unserved sessions get a note", () => {
  const closed = renderTable(results([{ status: "ok", config: config(0, "epoll"), figures: figures({}), startedAt: "" }]));
  assert.doesNotMatch(closed, /p99 uncorr|target msg\/s|conn\/s/);

  const load = {
    scenario: "c10k",
    rampUpSec: 0,
    connectRatePerSec: 0,
    sizeDistribution: null,
    messagesPerSession: 1,
    thinkTimeMs: 0,
    loop: "open" as const,
    targetRatePerSessionPerSec: 10,
    targetRateTotalPerSec: 1000,
  };
  const f: Figures = {
    ...figures({}),
    latencyUncorrectedUs: { count: 1, min: 1, p50: 40, p90: 41, p99: 42, p99_9: 43, max: 44, mean: 40 },
    openLoop: { targetMessagesPerSec: 1000, achievedMessagesPerSec: 990, achievedRatio: 0.99 },
    connectsPerSec: 77,
    sessionsServed: 60,
    sessionsNotServed: 40,
    sessionsTimedOut: 7,
    flags: ["SESSIONS-UNSERVED"],
  };
  const text = renderTable(results([{ status: "ok", config: { ...config(0, "blocking"), load }, figures: f, startedAt: "" }]));
  const [header, row] = text.split("\n");
  assert.match(header!, /p99\.9 µs\s+p99 uncorr µs\s+target msg\/s\s+conn\/s\s+served/);
  assert.match(row!, /\s42\s+1,000\s+77\s+60\s/);
  assert.match(text, /^SESSIONS-UNSERVED run 1 \(blocking, .*\): 60 of 100 sessions completed an echo inside the window; 40 were never served \(7 had an echo time out\)$/m);
});
