/**
 * Memory per connection and the server's file limit, as derive.ts reads
 * them from made-up samples: growth over the connections the server really
 * held (not the ones waiting in its accept queue), the client's growth over
 * its sessions, and SERVER-FD-LIMIT only when sessions are missing while
 * the server sits at its limit.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NO_ERRORS } from "../contracts/client.js";
import { createHistogram } from "../contracts/histogram.js";
import type { ProcSnapshot } from "../contracts/proc.js";
import type { RawRun } from "../contracts/run.js";
import { deriveFigures } from "../reports/derive.js";
import { parseOpenFileLimit } from "../runner/proc.js";

const MiB = 1024 * 1024;

function proc(rssBytes: number): ProcSnapshot {
  return { cpuTicks: 0, tasks: new Map(), rssBytes, hwmBytes: rssBytes, threads: 2 };
}

function raw(connected: number, server: Partial<NonNullable<RawRun["server"]>>, requested = 10_000): RawRun {
  const h = createHistogram();
  h.recordValue(100);
  const snap = { processCpuUs: 0, threads: new Map() };
  return {
    measurement: {
      durationMs: 1000,
      messages: 1,
      bytes: 64,
      latencyUs: h,
      uncorrectedLatencyUs: null,
      connectLatencyUs: h,
      firstEchoUs: null,
      errors: { ...NO_ERRORS },
      errorsTotal: { ...NO_ERRORS },
      sessionsConnected: connected,
      sessionsServed: connected,
      sessionsTimedOut: 0,
      connects: 0,
      connectsTotal: connected,
      timeline: { intervalMs: 500, messages: [1], measureStartIndex: 0 },
      threadIds: [],
    },
    sampledWindowSec: 1,
    warmupSec: 1,
    connectionsRequested: requested,
    server: { before: proc(50 * MiB), after: proc(110 * MiB), rssSamplesBytes: [120 * MiB], idleRssBytes: 20 * MiB, ...server },
    client: { before: snap, after: snap, usableCores: 2 },
    clockTicksPerSec: 100,
    clientMemory: { beforeBytes: 40 * MiB, endBytes: 80 * MiB },
  };
}

test("memory per connection: growth from idle to the window over the connections held, both sides", () => {
  const f = deriveFigures(raw(10_000, { openFiles: { count: 10_030, limit: 20_000 }, idleOpenFiles: 30 }));
  assert.equal(f.serverIdleRssBytes, 20 * MiB);
  assert.equal(f.serverRssBytesPerSession, (100 * MiB) / 10_000, "the largest RSS in the window less the idle RSS, per connection");
  assert.equal(f.clientRssBytesPerSession, (40 * MiB) / 10_000, "per session the client runs");
  assert.equal(deriveFigures(raw(2, {})).clientRssBytesPerSession, (40 * MiB) / 10_000, "connected or not: the client keeps them all");
  assert.deepEqual(f.flags, []);
  // A server that accepted only some of the sessions the client saw connected (the rest wait in its accept queue).
  const queued = deriveFigures(raw(10_000, { openFiles: { count: 1_030, limit: 20_000 }, idleOpenFiles: 30 }));
  assert.equal(queued.serverRssBytesPerSession, (100 * MiB) / 1_000);
  // Without the file counts: the client's count; without the idle RSS: nothing.
  assert.equal(deriveFigures(raw(5_000, {})).serverRssBytesPerSession, (100 * MiB) / 5_000);
  const { idleRssBytes: _idle, ...noIdle } = raw(5_000, {}).server!;
  assert.equal(deriveFigures({ ...raw(5_000, {}), server: noIdle }).serverRssBytesPerSession, null);
  assert.equal(deriveFigures({ ...raw(5_000, {}), server: null }).serverRssBytesPerSession, null);
});

test("SERVER-FD-LIMIT: sessions missing while the server holds as many files as its limit allows, and only then", () => {
  const atLimit = deriveFigures(raw(19_900, { openFiles: { count: 19_990, limit: 20_000 }, idleOpenFiles: 30 }, 25_000));
  assert.ok(atLimit.flags.includes("SERVER-FD-LIMIT"), atLimit.flags.join(","));
  assert.ok(atLimit.flags.includes("SESSIONS-MISSING"));
  const belowLimit = deriveFigures(raw(9_000, { openFiles: { count: 9_030, limit: 20_000 }, idleOpenFiles: 30 }));
  assert.ok(!belowLimit.flags.includes("SERVER-FD-LIMIT"), "missing sessions with files to spare are another problem");
  const allThere = deriveFigures(raw(10_000, { openFiles: { count: 10_030, limit: 10_040 }, idleOpenFiles: 30 }));
  assert.ok(!allThere.flags.includes("SERVER-FD-LIMIT"), "at the limit with every session connected is no refusal");
  assert.equal(parseOpenFileLimit("Limit                     Soft Limit           Hard Limit           Units\nMax open files            20000                20000                files\n"), 20_000);
  assert.equal(parseOpenFileLimit("Max open files            unlimited            unlimited            files\n"), undefined);
});
