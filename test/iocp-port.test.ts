/**
 * The iocp model on its completion port, as the runner starts it (a server
 * process, independent `net` clients): more workers than the concurrency
 * value serve every echo while at most that many run at once; `block:` work
 * told to the port lets the other workers run; a stop ends workers parked
 * behind the limit. The port's counters come from the server's
 * {"event":"stopped","port":...} line.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { PortStats } from "../native/index.js";
import type { PortSettings } from "../contracts/server.js";
import { connect, pattern, readBytes, session } from "../clients/conform/net.js";
import { startCountingServer, type ServerProcess } from "./conformance/server.js";
import { readProcess } from "../runner/proc.js";

const TIMEOUT = { timeout: 30_000 };

/** Starts an iocp server process; `stopped()` stops it and returns its port's counters. */
async function iocp(threads: number, port: Partial<PortSettings>, extra: Record<string, unknown> = {}): Promise<{ server: ServerProcess; stopped: () => Promise<PortStats> }> {
  const completionPort: PortSettings = { concurrency: 0, wake: "lifo", blockNotice: true, ...port };
  const { server, stopped } = await startCountingServer({ model: "iocp", threads, completionPort, ...extra });
  return { server, stopped: async () => (await stopped())["port"] as PortStats };
}

test("8 workers on concurrency 2 serve every echo, never more than 2 at once", TIMEOUT, async (t) => {
  const { server, stopped } = await iocp(8, { concurrency: 2 });
  try {
    await Promise.all(Array.from({ length: 64 }, (_, i) => session(server.target, 20, 100, 10_000, i)));
  } finally {
    const s = await stopped();
    t.diagnostic(JSON.stringify(s));
    assert.equal(s.concurrency, 2);
    assert.ok(s.maxRunning <= 2, `${s.maxRunning} workers ran at once`);
    assert.ok(s.completions >= 64 * 20 * 2, `only ${s.completions} completions for 1,280 echoes`);
  }
});

test("block: work told to the port lets the other workers run; untold, it queues behind the limit", TIMEOUT, async (t) => {
  const took = new Map<boolean, number>();
  for (const blockNotice of [true, false]) {
    // 4 workers, concurrency 1, 100 ms of blocking per 64-byte message, 4 messages at once.
    const work = { kind: "block", durationUs: 100_000, messageBytes: 64 };
    const { server, stopped } = await iocp(4, { concurrency: 1, blockNotice }, { work });
    try {
      const sockets = await Promise.all(Array.from({ length: 4 }, () => connect(server.target)));
      const t0 = performance.now();
      await Promise.all(
        sockets.map(async (s, i) => {
          const reply = readBytes(s, 64, 5_000);
          s.write(pattern(64, i));
          assert.deepEqual(await reply, pattern(64, i));
        }),
      );
      took.set(blockNotice, performance.now() - t0);
      for (const s of sockets) s.destroy();
    } finally {
      const s = await stopped();
      assert.ok(s.maxRunning <= (blockNotice ? 4 : 1), `${s.maxRunning} ran at once`);
    }
  }
  t.diagnostic(`4 echoes of 100 ms blocking work: told ${took.get(true)?.toFixed(0)} ms, untold ${took.get(false)?.toFixed(0)} ms`);
  assert.ok((took.get(true) ?? Infinity) < 300, "told, the 4 blocking waits did not overlap");
  assert.ok((took.get(false) ?? 0) >= 380, "untold, the blocking waits overlapped: the limit did not hold");
});

test("a stop ends 16 workers parked behind concurrency 1", TIMEOUT, async () => {
  const { server, stopped } = await iocp(16, { concurrency: 1 });
  await Promise.all(Array.from({ length: 8 }, (_, i) => session(server.target, 5, 64, 10_000, i)));
  const t0 = performance.now();
  const s = await stopped();
  assert.ok(performance.now() - t0 < 3_000, "stopping took more than 3 s");
  assert.deepEqual([s.running, s.waiters, s.maxRunning], [0, 0, 1]);
});

test("the herd variant serves every echo too", TIMEOUT, async () => {
  const { server, stopped } = await iocp(8, { wake: "all" });
  try {
    await Promise.all(Array.from({ length: 32 }, (_, i) => session(server.target, 10, 100, 10_000, i)));
  } finally {
    const s = await stopped();
    assert.equal(s.waiters, 0, "the herd lists no waiters");
  }
});

test("the workers and the acceptor carry their names, so their context switches can be told from Node's", TIMEOUT, async () => {
  const { server, stopped } = await iocp(3, { concurrency: 1 });
  try {
    await session(server.target, 5, 64, 10_000, 0); // every worker is past its start (whenReady) by now
    const names = [...readProcess(server.pid).tasks.values()].map((t) => t.name ?? "?");
    assert.deepEqual(names.filter((n) => n.startsWith("iocp-")).sort(), ["iocp-acceptor", "iocp-worker-0", "iocp-worker-1", "iocp-worker-2"]);
    assert.equal(names.filter((n) => n === "main").length, 1, "the first thread is named main");
  } finally {
    await stopped();
  }
});
