/**
 * The session script against the fixture server: open loop (rate, and the
 * coordinated-omission correction against a server that stalls), think
 * time, reconnects after N messages, ramp-up, size distributions, on each
 * session engine (the script is the engine core's, clients/engine/core.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { LoadClient } from "../clients/client.js";
import { CLIENT_ENGINES, DEFAULT_SCRIPT } from "../contracts/client.js";
import type { ClientEngine, ClientMeasurement, ClientOptions, LoadScript } from "../contracts/client.js";
import { decodeHistogram } from "../contracts/histogram.js";
import { startFixtureServer } from "./fixtures/echo-server.js";
import type { FixtureOptions, FixtureServer } from "./fixtures/echo-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function options(engine: ClientEngine, port: number, sessions: number, script: Partial<LoadScript>, sizeBytes = 64): ClientOptions {
  return {
    engine,
    host: "127.0.0.1",
    port,
    sessions,
    sizeBytes,
    clientThreads: 1,
    timeoutMs: 3000,
    connectTimeoutMs: 3000,
    connectConcurrency: 64,
    cpus: [],
    script: { ...DEFAULT_SCRIPT, ...script },
  };
}

/** Warm up, measure, finish against a fixture; returns the measurement and the fixture's counts. */
async function run(
  engine: ClientEngine,
  fixture: FixtureOptions,
  sessions: number,
  script: Partial<LoadScript>,
  warmMs: number,
  windowMs: number,
  sizeBytes = 64,
): Promise<{ m: ClientMeasurement; server: FixtureServer }> {
  const server = await startFixtureServer(fixture);
  try {
    const client = await LoadClient.start(options(engine, server.port, sessions, script, sizeBytes));
    try {
      await sleep(warmMs);
      client.beginMeasure();
      await sleep(windowMs);
      client.endMeasure();
      return { m: await client.finish(), server };
    } catch (err) {
      await client.stop();
      throw err;
    }
  } finally {
    await server.close();
  }
}

const NO_ERRORS = { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 };

for (const engine of CLIENT_ENGINES) {
test(`open loop against a healthy server achieves its target rate, corrected and uncorrected latency both recorded [${engine}]`, { timeout: 20_000 }, async () => {
  // 20 sessions × 50 msg/s = 1,000 msg/s, far below what the fixture can echo.
  const { m } = await run(engine, { mode: "correct" }, 20, { ratePerSession: 50 }, 400, 1500);
  const achieved = m.messages / (m.durationMs / 1000);
  assert.ok(achieved > 850 && achieved < 1150, `achieved ${achieved.toFixed(0)} msg/s against a target of 1,000`);
  assert.deepEqual(m.errors, NO_ERRORS);
  assert.ok(m.uncorrectedLatencyUs !== null);
  assert.equal(m.uncorrectedLatencyUs.totalCount, m.latencyUs.totalCount);
  assert.equal(m.sessionsServed, 20);
  // Every message this idle load sends was due while its session waited: each has its send lag.
  const lag = m.sendLagUs;
  assert.ok(lag !== undefined && lag !== null);
  assert.ok(lag.totalCount >= 0.9 * m.messages && lag.totalCount <= m.messages + 20, `send lags ${lag.totalCount} for ${m.messages} messages`);
  // uring waits to the µs, so its timers are not whole-ms late (epoll_wait's are, up to 1 ms).
  if (engine === "uring") assert.ok(lag.getValueAtPercentile(50) < 400, `median send lag ${lag.getValueAtPercentile(50)} µs`);
});

test(`open loop against a server that stalls 200 ms: corrected p99 far above uncorrected p99 (coordinated omission) [${engine}]`, { timeout: 20_000 }, async () => {
  // 4 sessions × 400 msg/s; a 200 ms stall every 700 ms. Each stall delays one
  // message per session by up to 200 ms as sent (uncorrected: ~0.4% of
  // messages), but ~80 intended sends per session (~30% of them) as scheduled.
  const { m } = await run(engine, { mode: "pausing", pauseMs: 200, pauseEveryMs: 700 }, 4, { ratePerSession: 400 }, 300, 2000);
  assert.ok(m.uncorrectedLatencyUs !== null);
  const corrected = m.latencyUs.getValueAtPercentile(99);
  const uncorrected = m.uncorrectedLatencyUs.getValueAtPercentile(99);
  assert.ok(corrected >= 100_000, `corrected p99 ${corrected} µs should reflect the 200 ms stalls`);
  assert.ok(corrected >= 3 * uncorrected, `corrected p99 ${corrected} µs vs uncorrected p99 ${uncorrected} µs`);
  // Both histograms saw the stalls: the worst uncorrected round trip is the stall itself.
  assert.ok(m.uncorrectedLatencyUs.maxValue >= 100_000, `uncorrected max ${m.uncorrectedLatencyUs.maxValue} µs`);
  assert.deepEqual(m.errors, NO_ERRORS);
});

test(`the latency timeline shows a stall in the second it happened, and counts every round trip [${engine}]`, { timeout: 20_000 }, async () => {
  // The fixture stalls 300 ms from 2.5 s after it listens, the client starting
  // right after: the stall falls in the timeline's third interval [2 s, 3 s).
  // (The first second is not compared: the fixture shares this process's
  // main thread, which is busy starting the client's threads.)
  const server = await startFixtureServer({ mode: "pausing", pauseMs: 300, pauseEveryMs: 2500 });
  try {
    const client = await LoadClient.start(options(engine, server.port, 4, { ratePerSession: 200 }));
    await sleep(1200);
    client.beginMeasure();
    await sleep(2400);
    const m = await client.finish();
    const t = m.latencyTimeline;
    assert.ok(t !== undefined);
    assert.equal(t.intervalMs, 1000);
    assert.equal(t.measureStartIndex, 1);
    assert.equal(t.histograms.length, 4, "intervals from the start to the stop at ~3.7 s");
    const h = t.histograms.map(decodeHistogram);
    const p99 = h.map((x) => x.getValueAtPercentile(99));
    assert.ok(p99[2]! >= 150_000, `the stalled second's p99 ${p99[2]} µs`);
    assert.ok(p99[1]! * 3 < p99[2]! && p99[3]! * 3 < p99[2]!, `p99 per second ${p99.join(", ")} µs: only the third one stalled`);
    assert.equal(
      h.reduce((n, x) => n + x.totalCount, 0),
      client.live().messages,
      "every round trip of the run is in one interval",
    );
  } finally {
    await server.close();
  }
});

test(`closed loop against the same stalling server records one latency only (no uncorrected histogram) [${engine}]`, { timeout: 20_000 }, async () => {
  const { m } = await run(engine, { mode: "pausing", pauseMs: 100, pauseEveryMs: 400 }, 4, {}, 200, 600);
  assert.equal(m.uncorrectedLatencyUs, null);
  assert.ok(m.messages > 0);
});

test(`messages per session: every session closes after N echoes and reconnects (connect count) [${engine}]`, { timeout: 20_000 }, async () => {
  const sessions = 4;
  const perSession = 5;
  const { m, server } = await run(engine, { mode: "correct" }, sessions, { messagesPerSession: perSession }, 200, 800);
  assert.ok(m.messages > 10 * perSession, `messages ${m.messages}`);
  // Each connection carries exactly 5 messages; at the window's edges a session may be mid-connection.
  assert.ok(Math.abs(m.connects - m.messages / perSession) <= 2 * sessions, `connects ${m.connects} vs messages ${m.messages} / ${perSession}`);
  assert.ok(m.connectsTotal >= m.connects);
  assert.ok(server.stats.connections >= m.connectsTotal, `the server accepted ${server.stats.connections} for ${m.connectsTotal} connects`);
  assert.deepEqual(m.errorsTotal, NO_ERRORS);
  assert.equal(m.sessionsServed, sessions);
});

test(`connect to first echo: timed per connection, first echoes inside the window only [${engine}]`, { timeout: 20_000 }, async () => {
  // The server holds each new connection's echoes 40 ms (slow to take new clients): the first echo shows it, later ones do not.
  const { m } = await run(engine, { mode: "correct", firstEchoDelayMs: 40 }, 8, { messagesPerSession: 4 }, 200, 1000);
  const first = m.firstEchoUs!;
  assert.ok(first.totalCount > 0 && Math.abs(first.totalCount - m.connects) <= 8, `first echoes ${first.totalCount} for ${m.connects} connects in the window`);
  // (The fixture times its hold in whole ms: a first echo may come up to 1 ms early.)
  assert.ok(first.getValueAtPercentile(10) >= 39_000, `first echo p10 ${first.getValueAtPercentile(10)} µs`);
  assert.ok(m.latencyUs.getValueAtPercentile(50) < 40_000, "three round trips in four are not held");
  // Long-lived sessions connect in the warm-up: no first echo falls in the window.
  const still = await run(engine, { mode: "correct" }, 4, {}, 200, 500);
  assert.equal(still.m.firstEchoUs!.totalCount, 0);
});

test(`without messages per session a session connects once [${engine}]`, { timeout: 20_000 }, async () => {
  const { m } = await run(engine, { mode: "correct" }, 4, {}, 200, 500);
  assert.equal(m.connectsTotal, 4);
  assert.equal(m.connects, 0, "every connect happened in the warm-up");
});

test(`a connect rate caps new connections per second [${engine}]`, { timeout: 20_000 }, async () => {
  // One message per connection, so every echo costs a connect: the rate, not the server, sets the pace.
  const { m } = await run(engine, { mode: "correct" }, 8, { messagesPerSession: 1, connectRatePerSec: 40 }, 300, 1500);
  const perSec = m.connects / (m.durationMs / 1000);
  assert.ok(perSec <= 48 && perSec >= 25, `${perSec.toFixed(1)} connects/s against a limit of 40`);
  assert.deepEqual(m.errorsTotal, NO_ERRORS);
});

test(`think time paces a closed loop [${engine}]`, { timeout: 20_000 }, async () => {
  const sessions = 4;
  const { m } = await run(engine, { mode: "correct" }, sessions, { thinkTimeMs: 50 }, 200, 1000);
  const perSessionPerSec = m.messages / sessions / (m.durationMs / 1000);
  // At most 20 per second per session (a 50 ms pause after each echo); the echo adds a little.
  assert.ok(perSessionPerSec <= 21, `${perSessionPerSec.toFixed(1)} msg/s per session`);
  assert.ok(perSessionPerSec >= 8, `${perSessionPerSec.toFixed(1)} msg/s per session`);
});

test(`ramp-up spreads the connects over its length [${engine}]`, { timeout: 20_000 }, async () => {
  const server = await startFixtureServer({ mode: "correct" });
  try {
    const client = await LoadClient.start(options(engine, server.port, 10, { rampUpMs: 1500, thinkTimeMs: 20 }));
    try {
      await sleep(300);
      const early = client.live().connected;
      await sleep(1700);
      const late = client.live().connected;
      assert.ok(early >= 1 && early <= 6, `${early} of 10 connected after 300 ms of a 1.5 s ramp`);
      assert.equal(late, 10);
    } finally {
      await client.stop();
    }
  } finally {
    await server.close();
  }
});

test(`a uniform size distribution: sizes vary per message, every echo verified [${engine}]`, { timeout: 20_000 }, async () => {
  const { m } = await run(engine, { mode: "correct" }, 4, { size: { kind: "uniform", minBytes: 10, maxBytes: 2000 } }, 200, 600, 2000);
  assert.ok(m.messages > 50);
  const mean = m.bytes / m.messages;
  assert.ok(mean > 600 && mean < 1400, `mean message ${mean.toFixed(0)} B, expected about 1005`);
  assert.deepEqual(m.errorsTotal, NO_ERRORS);
});

test(`a weighted choice of sizes: the mean follows the weights, a zero weight is never drawn [${engine}]`, { timeout: 20_000 }, async () => {
  const { m } = await run(engine, { mode: "correct" }, 4, { size: { kind: "choice", bytes: [100, 1000, 3000], weights: [3, 1, 0] } }, 200, 600, 3000);
  assert.ok(m.messages > 50);
  const mean = m.bytes / m.messages;
  // Expected 0.75 × 100 + 0.25 × 1000 = 325; a drawn 3000 would move it far up.
  assert.ok(mean > 220 && mean < 450, `mean message ${mean.toFixed(0)} B, expected about 325`);
  assert.deepEqual(m.errorsTotal, NO_ERRORS);
});
}

test("the client refuses a script it cannot run, in one line", async () => {
  await assert.rejects(LoadClient.start(options("epoll", 9, 1, { ratePerSession: 10, thinkTimeMs: 5 })), /thinkTimeMs applies to the closed loop only/);
  await assert.rejects(LoadClient.start(options("epoll", 9, 1, { size: { kind: "uniform", minBytes: 1, maxBytes: 100 } }, 64)), /largest size/);
});
