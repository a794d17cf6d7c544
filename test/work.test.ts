import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { sys } from "../native/index.js";
import { formatWork, parseWork } from "../contracts/work.js";
import { workPerMessage } from "../protocol/work.js";
import type { ResultsFile } from "../reports/schema.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

test("--work specs parse with their units and refuse what they cannot mean", () => {
  assert.deepEqual(parseWork("cpu:200us"), { kind: "cpu", durationUs: 200 });
  assert.deepEqual(parseWork("cpu:200µs"), { kind: "cpu", durationUs: 200 });
  assert.deepEqual(parseWork("cpu:0.5ms"), { kind: "cpu", durationUs: 500 });
  assert.deepEqual(parseWork("cpu:50"), { kind: "cpu", durationUs: 50 }, "a bare cpu number is µs");
  assert.deepEqual(parseWork("block:20ms"), { kind: "block", durationUs: 20_000 });
  assert.deepEqual(parseWork("block:500us"), { kind: "block", durationUs: 500 });
  assert.deepEqual(parseWork("block:3"), { kind: "block", durationUs: 3000 }, "a bare block number is ms");
  assert.equal(parseWork("none"), null);
  for (const [bad, why] of [
    ["cpu", /expected cpu:<time> or block:<time>/],
    ["sleep:5ms", /expected cpu:<time>/],
    ["cpu:5parsecs", /unknown unit 'parsecs'/],
    ["cpu:0", /above 0/],
    ["block:-1ms", /expected/],
    ["block:11s", /at most 10 s/],
  ] as const) {
    assert.throws(() => parseWork(bad), (err: Error) => why.test(err.message) && !err.message.includes("\n"), bad);
  }
  assert.equal(formatWork(parseWork("block:20ms")), "block:20ms");
  assert.equal(formatWork(parseWork("cpu:0.25ms")), "cpu:250us");
});

test("work is done once per message-size bytes, however the bytes arrive", () => {
  // Thread CPU time counts the spins exactly: preemption neither adds to it nor takes from it.
  const cpu = { kind: "cpu" as const, durationUs: 4_000, messageBytes: 64 };
  const spent = (f: () => number): { result: number; us: number } => {
    const before = sys.threadCpuUs();
    const result = f();
    return { result, us: sys.threadCpuUs() - before };
  };
  const partial = spent(() => workPerMessage(cpu, 0, 40));
  assert.equal(partial.result, 40, "40 bytes of a 64-byte message are carried");
  assert.ok(partial.us < 2_000, `no work before the message is complete (${partial.us} µs)`);
  const three = spent(() => workPerMessage(cpu, 40, 24 + 2 * 64 + 10));
  assert.equal(three.result, 10, "three messages completed, 10 bytes of a fourth carried");
  assert.ok(three.us >= 3 * 4_000 && three.us < 3 * 4_000 + 2_000, `three messages, three spins (${three.us} µs)`);
  assert.equal(workPerMessage(null, 5, 1000), 0, "no work: nothing carried");

  const block = { kind: "block" as const, durationUs: 2_000, messageBytes: 10 };
  const t0 = performance.now();
  const blocked = spent(() => workPerMessage(block, 0, 20));
  assert.ok(performance.now() - t0 >= 2 * 2 - 0.1, "two messages: two blocking calls");
  assert.ok(blocked.us < 2_000, `a blocking call uses no CPU (${blocked.us} µs)`);
});

test("block:20ms caps every one-thread model near 50 messages/s (each model does the work per message)", { timeout: 90_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-work-test-"));
  try {
    const args = ["bench", "--model", "all", "--threads", "1", "--connections", "4", "--duration", "1", "--warmup", "0.2", "--work", "block:20ms", "--repeats", "1", "--json", "--out", out];
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 80_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    clearTimeout(killer);
    assert.equal(code, 0);
    const results = JSON.parse(stdout) as ResultsFile;
    assert.equal(results.runs.length, 5);
    for (const run of results.runs) {
      assert.equal(run.status, "ok", `${run.config.model}`);
      if (run.status !== "ok") continue;
      assert.deepEqual(run.config.work, { kind: "block", durationUs: 20_000, messageBytes: 64 });
      // A 20 ms wait per message on one thread allows 50 messages/s at most; without the work it would be thousands.
      assert.ok(run.figures.messages > 0, `${run.config.model} exchanged messages`);
      assert.ok(run.figures.messagesPerSec < 60, `${run.config.model}: ${run.figures.messagesPerSec} msg/s`);
    }
    assert.deepEqual(results.options.work, { kind: "block", durationUs: 20_000 });
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
