/**
 * The outside load generators (autocannon, wrk) as drivers: against a model
 * speaking http they must report requests, a latency histogram and no
 * errors; against wrong answers, mismatches. wrk's report conversion alone.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { startDriver } from "../clients/driver.js";
import { unlessInstalled } from "./fixtures/optional.js";
import type { ClientKind } from "../contracts/client.js";
import type { ClientMeasurement, ClientOptions } from "../contracts/client.js";
import { WRK_INSTALL_HINT, measurementOf, wrkInstalled } from "../clients/wrk-client.js";
import { DEFAULT_SERVER_OPTIONS } from "../contracts/server.js";
import { startServer } from "../servers/start.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function drive(kind: ClientKind, port: number, over: Partial<ClientOptions> = {}): Promise<ClientMeasurement> {
  const d = await startDriver(kind, {
    host: "127.0.0.1", port, sessions: 8, sizeBytes: 200, clientThreads: 1, timeoutMs: 2000,
    connectTimeoutMs: 2000, connectConcurrency: 64, cpus: [], http: "GET", ...over,
  });
  try {
    await sleep(300);
    d.beginMeasure();
    await sleep(700);
    d.endMeasure();
    return await d.finish();
  } catch (err) {
    await d.stop();
    throw err;
  }
}

const NO_ERRORS = { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 };

for (const kind of ["autocannon", "wrk"] as const) {
  test(`${kind} against the epoll model's http: requests counted, latency recorded, bodies checked`, {
    timeout: 30_000,
    skip: kind === "wrk" ? (!wrkInstalled() ? WRK_INSTALL_HINT : false) : unlessInstalled("autocannon"),
  }, async () => {
    const server = await startServer({ ...DEFAULT_SERVER_OPTIONS, model: "epoll", threads: 1, protocol: "http" });
    try {
      for (const http of ["GET", "POST"] as const) {
        const m = await drive(kind, server.port, { http });
        assert.ok(m.messages > 0, `${kind} ${http}: no request counted`);
        assert.deepEqual(m.errors, NO_ERRORS, `${kind} ${http}`);
        assert.ok(m.durationMs > 300 && m.durationMs < 5000, `${kind} ${http}: window ${m.durationMs} ms`);
        assert.equal(m.latencyUs.totalCount, m.messages, `${kind} ${http}: one latency per request`);
        assert.ok(m.latencyUs.getValueAtPercentile(50) >= 1);
      }
    } finally {
      await server.stop();
    }
  });
}

test("outside tools refuse the echo protocol in one line", async () => {
  await assert.rejects(startDriver("autocannon", {
    host: "127.0.0.1", port: 1, sessions: 1, sizeBytes: 1, clientThreads: 1, timeoutMs: 1000,
    connectTimeoutMs: 1000, connectConcurrency: 1, cpus: [],
  }), /autocannon speaks HTTP only/);
});

test("wrk's report becomes a measurement: its quantiles survive the histogram, status and body errors are mismatches", () => {
  const quantilesUs = Array.from({ length: 999 }, (_, i) => 100 + i); // q(i/1000) = 100 + i - 1 µs
  const m = measurementOf({
    requests: 10_000, bytes: 1_000_000, durationUs: 2_000_000,
    errors: { connect: 0, read: 1, write: 2, status: 3, timeout: 4 }, mismatches: 5, maxUs: 5000, quantilesUs,
  }, 8);
  assert.equal(m.durationMs, 2000);
  assert.equal(m.messages, 10_000 - 3 - 5);
  assert.deepEqual(m.errors, { connect: 0, reset: 3, timeout: 4, mismatch: 8, closedEarly: 0 });
  assert.equal(m.latencyUs.totalCount, 10_000);
  assert.ok(Math.abs(m.latencyUs.getValueAtPercentile(50) - 599) <= 1, `p50 ${m.latencyUs.getValueAtPercentile(50)}`);
  assert.ok(Math.abs(m.latencyUs.getValueAtPercentile(99) - 1089) <= 2, `p99 ${m.latencyUs.getValueAtPercentile(99)}`);
  assert.ok(Math.abs(m.latencyUs.maxValue - 5000) <= 5, `max ${m.latencyUs.maxValue}`);
});
