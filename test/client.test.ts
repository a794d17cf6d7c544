import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import { LoadClient, clientEngineFor, defaultClientThreads } from "../clients/client.js";
import { CLIENT_ENGINES, DEFAULT_SCRIPT } from "../contracts/client.js";
import type { ClientMeasurement, ClientOptions, ErrorCounts } from "../contracts/client.js";
import { sys } from "../native/index.js";
import { startFixtureServer } from "./fixtures/echo-server.js";
import type { FixtureOptions } from "./fixtures/echo-server.js";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function options(port: number, over: Partial<ClientOptions> = {}): ClientOptions {
  return {
    host: "127.0.0.1",
    port,
    sessions: 16,
    sizeBytes: 64,
    clientThreads: 2,
    timeoutMs: 2000,
    connectTimeoutMs: 2000,
    connectConcurrency: 64,
    cpus: [],
    ...over,
  };
}

/** Warm up, measure, finish: the runner's sequence, shortened. */
async function measure(opts: ClientOptions, warmMs: number, windowMs: number): Promise<ClientMeasurement> {
  const client = await LoadClient.start(opts);
  try {
    await sleep(warmMs);
    client.beginMeasure();
    await sleep(windowMs);
    client.endMeasure();
    return await client.finish();
  } catch (err) {
    await client.stop();
    throw err;
  }
}

/** Runs the client against a fixture server in the given mode. */
async function against(fixture: FixtureOptions, over: Partial<ClientOptions>, warmMs: number, windowMs: number): Promise<ClientMeasurement> {
  const server = await startFixtureServer(fixture);
  try {
    return await measure(options(server.port, over), warmMs, windowMs);
  } finally {
    await server.close();
  }
}

function total(e: ErrorCounts): number {
  return e.connect + e.reset + e.timeout + e.mismatch + e.closedEarly;
}

// Every behaviour of the client holds on each session engine.
for (const engine of CLIENT_ENGINES) {
  test(`a correct echo server: messages flow, every one verified, no errors [${engine}]`, { timeout: 20_000 }, async () => {
    const m = await against({ mode: "correct" }, { engine, sessions: 24 }, 300, 700);
    assert.ok(m.messages > 0, "no message completed");
    assert.deepEqual(m.errorsTotal, { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 });
    assert.equal(m.sessionsConnected, 24);
    assert.equal(m.latencyUs.totalCount, m.messages);
    assert.equal(m.connectLatencyUs.totalCount, 24);
    assert.ok(m.latencyUs.getValueAtPercentile(50) >= 1);
    // 64-byte echoes: bytes and messages agree up to the messages in flight at the window's edges.
    assert.ok(Math.abs(m.bytes - m.messages * 64) <= 2 * 24 * 64, `bytes ${m.bytes} vs messages ${m.messages}`);
    assert.ok(m.durationMs >= 650 && m.durationMs < 5000, `durationMs ${m.durationMs}`);
    assert.equal(m.threadIds.length, 2);
    for (const tid of m.threadIds) assert.ok(Number.isInteger(tid) && tid > 0);
    // The timeline covers warm-up and window; the window's messages are inside it.
    const sum = m.timeline.messages.reduce((a, b) => a + b, 0);
    assert.equal(m.timeline.intervalMs, 500);
    assert.ok(sum >= m.messages, `timeline ${sum} < window ${m.messages}`);
    assert.ok(m.timeline.measureStartIndex >= 0 && m.timeline.measureStartIndex < m.timeline.messages.length);
  });

  test(`1 MiB messages: echoed in many pieces, every byte verified, no errors [${engine}]`, { timeout: 20_000 }, async () => {
    // uring: a message fills many provided buffers at once, so the multishot recv runs out and is re-armed.
    const m = await against({ mode: "correct" }, { engine, sessions: 2, sizeBytes: 1 << 20 }, 200, 800);
    assert.ok(m.messages > 0, "no message completed");
    assert.deepEqual(m.errorsTotal, { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 });
    // Bytes and messages agree up to the messages in flight at the window's edges.
    assert.ok(Math.abs(m.bytes - m.messages * (1 << 20)) <= 2 * 2 * (1 << 20), `bytes ${m.bytes} vs messages ${m.messages}`);
  });

  test(`a corrupting server: mismatches are counted [${engine}]`, { timeout: 20_000 }, async () => {
    const m = await against({ mode: "corrupting", every: 3 }, { engine, sessions: 8 }, 200, 600);
    assert.ok(m.errors.mismatch > 0, `mismatches: ${m.errors.mismatch}`);
    assert.ok(m.errorsTotal.mismatch >= m.errors.mismatch);
    assert.ok(m.messages > 0, "the uncorrupted echoes still count");
  });

  test(`a stalling server: timeouts are counted [${engine}]`, { timeout: 20_000 }, async () => {
    const m = await against({ mode: "stalling" }, { engine, sessions: 8, timeoutMs: 200 }, 100, 700);
    assert.equal(m.messages, 0);
    assert.ok(m.errors.timeout >= 8, `timeouts: ${m.errors.timeout}`);
    assert.equal(m.errors.mismatch, 0);
  });

  test(`a session given up on really closes its socket, while the client runs on [${engine}]`, { timeout: 20_000 }, async () => {
    // io_uring: a request in flight keeps a socket open past close(); the engine must cancel it first.
    const server = await startFixtureServer({ mode: "stalling" });
    const client = await LoadClient.start(options(server.port, { engine, sessions: 4, timeoutMs: 150 }));
    try {
      const deadline = Date.now() + 10_000;
      while (server.stats.closed < 4 && Date.now() < deadline) await sleep(20);
      assert.ok(server.stats.closed >= 4, `the server saw ${server.stats.closed} of 4 timed-out sessions close`);
      assert.ok(client.live().errors >= 4);
    } finally {
      await client.stop();
      await server.close();
    }
  });

  test(`a server that closes mid-echo: closedEarly is counted [${engine}]`, { timeout: 20_000 }, async () => {
    const m = await against({ mode: "closing", afterBytes: 100 }, { engine, sessions: 8 }, 100, 600);
    assert.ok(m.errors.closedEarly > 0, `closedEarly: ${m.errors.closedEarly}`);
    assert.ok(m.errors.closedEarly >= total(m.errors) / 2, JSON.stringify(m.errors));
    assert.ok(m.messages > 0, "the first message of each connection is echoed whole");
  });

  test(`a server that resets mid-echo: resets are counted [${engine}]`, { timeout: 20_000 }, async () => {
    const m = await against({ mode: "resetting", afterBytes: 100 }, { engine, sessions: 8 }, 100, 600);
    assert.ok(m.errors.reset > 0, `resets: ${m.errors.reset}`);
    assert.ok(m.messages > 0);
  });

  test(`nothing listening: connect errors are counted, nothing else [${engine}]`, { timeout: 20_000 }, async () => {
    // A port that was free a moment ago.
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const address = probe.address();
    assert.ok(address !== null && typeof address !== "string");
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const m = await measure(options(address.port, { engine, sessions: 4, connectConcurrency: 2 }), 50, 500);
    assert.ok(m.errors.connect > 0, `connect errors: ${m.errors.connect}`);
    assert.equal(m.messages, 0);
    assert.equal(m.sessionsConnected, 0);
    assert.equal(total(m.errorsTotal), m.errorsTotal.connect);
  });

  test(`2,000 sessions of 64 B all connect and exchange messages without an error [${engine}]`, { timeout: 30_000 }, async () => {
    const server = await startFixtureServer({ mode: "correct", holdUntilConnections: 2000 });
    const client = await LoadClient.start(options(server.port, { engine, sessions: 2000, connectConcurrency: 256, timeoutMs: 10_000 }));
    try {
      const deadline = Date.now() + 15_000;
      while ((client.live().connected < 2000 || server.stats.echoingConnections < 2000) && Date.now() < deadline) await sleep(50);
      client.beginMeasure();
      await sleep(1000);
      client.endMeasure();
      const m = await client.finish();
      assert.equal(m.sessionsConnected, 2000);
      assert.equal(m.connectLatencyUs.totalCount, 2000);
      assert.deepEqual(m.errorsTotal, { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 });
      assert.ok(m.messages >= 2000, `only ${m.messages} messages in the window`);
      assert.equal(server.stats.connections, 2000);
      assert.equal(server.stats.echoingConnections, 2000, "every session exchanged messages");
    } finally {
      await client.stop();
      await server.close();
    }
  });

  test(`live counters move, and stop() ends every session [${engine}]`, { timeout: 20_000 }, async () => {
    const server = await startFixtureServer({ mode: "correct" });
    const client = await LoadClient.start(options(server.port, { engine, sessions: 6, clientThreads: 3 }));
    try {
      const deadline = Date.now() + 5000;
      // Workers connect and publish their counters independently: wait for all.
      while ((client.live().messages < 100 || client.live().connected < 6) && Date.now() < deadline) await sleep(20);
      const live = client.live();
      assert.ok(live.messages >= 100, `messages ${live.messages}`);
      assert.equal(live.errors, 0);
      assert.equal(live.connected, 6);
      await client.stop();
      assert.equal(client.live().connected, 0);
    } finally {
      await client.stop();
      await server.close();
    }
  });
}

test("too many sessions for the open-file limit: one clear line, no thread started", { timeout: 10_000 }, async (t) => {
  const [, hard] = sys.getNofileLimit();
  if (!(hard < 1_000_000)) {
    t.skip(`hard open-file limit is ${hard}`);
    return;
  }
  await assert.rejects(
    LoadClient.start(options(1, { sessions: hard })),
    (err: unknown) => err instanceof Error && /open files/.test(err.message) && /ulimit/.test(err.message) && !err.message.includes("\n"),
  );
});

test("every session script runs on the default engine; http sessions run on epoll, a one-line error when uring is asked for", { timeout: 20_000 }, async () => {
  const script = { ...DEFAULT_SCRIPT, thinkTimeMs: 5, ratePerSession: 0, messagesPerSession: 3 };
  await assert.rejects(
    LoadClient.start(options(1, { engine: "uring", http: "GET" })),
    (err: unknown) => err instanceof Error && /http sessions run on the epoll engine only/.test(err.message) && !err.message.includes("\n"),
  );
  assert.equal(clientEngineFor(undefined, true), "epoll");
  const server = await startFixtureServer({ mode: "correct" });
  try {
    for (const s of [script, DEFAULT_SCRIPT]) {
      const client = await LoadClient.start(options(server.port, { sessions: 2, script: s }));
      assert.equal(client.engine, clientEngineFor(undefined));
      await client.stop();
    }
  } finally {
    await server.close();
  }
});

test("option mistakes are one-line errors", async () => {
  await assert.rejects(LoadClient.start(options(1, { sessions: 0 })), /sessions must be a positive integer/);
  await assert.rejects(LoadClient.start(options(0)), /port must be 1\.\.65535/);
  await assert.rejects(LoadClient.start(options(1, { timeoutMs: 0 })), /timeoutMs must be > 0/);
});

test("defaultClientThreads leaves the server its cores and keeps the client ahead", () => {
  assert.equal(defaultClientThreads(2, 1), 1);
  assert.equal(defaultClientThreads(2, 2), 1);
  assert.equal(defaultClientThreads(1, 1), 1);
  assert.equal(defaultClientThreads(8, 1), 2);
  assert.equal(defaultClientThreads(8, 4), 4);
  assert.equal(defaultClientThreads(8, 8), 4);
  assert.equal(defaultClientThreads(16, 4), 5);
});
