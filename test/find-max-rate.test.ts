/**
 * --find-max-rate against a server of known capacity: epoll, one thread
 * pinned to one CPU, spinning 100 µs of CPU per message, serves at most
 * 1 / (100 µs + its own cost per message), a little under 10,000 msg/s.
 * The search must find, at p99 = 20 ms, a rate within 15 % of the closed-loop
 * throughput measured in the same job; and the curve must cross the bound
 * there: p99 below it at lower rates, above it at higher ones (checked on the
 * probes, and on a rate sweep around the rate found).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ResultsFile } from "../reports/schema.js";
import { cli } from "./fixtures/cli.js";

const slow = process.env.IOBENCH_SLOW_TESTS === "1" ? {} : { skip: "slow (about 40 s of runs): IOBENCH_SLOW_TESTS=1 runs it (.ci/run does)" };
const BOUND_US = 20_000;
const KNOWN = ["--model", "epoll", "--threads", "1", "--work", "cpu:100us", "--server-cpus", "1", "--client-cpus", "0", "--duration", "2", "--warmup", "1", "--repeats", "1", "--json"];

async function bench(args: string[], out: string): Promise<ResultsFile> {
  const o = await cli(["bench", ...KNOWN, "--out", out, ...args], { timeoutMs: 150_000 });
  assert.equal(o.code, 0, o.stderr);
  return JSON.parse(o.stdout) as ResultsFile;
}

test("the search finds a known server's capacity at p99 = 20 ms, and the curve crosses the bound there", { timeout: 300_000, ...slow }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-find-max-rate-"));
  try {
    const r = await bench(["--find-max-rate", "--slo", "p99=20ms"], out);
    const s = r.searches?.[0];
    assert.ok(s !== undefined && r.searches!.length === 1);
    const closed = s.closedLoopMessagesPerSec!;
    // 100 µs of CPU per message on one CPU: never 10,000 msg/s, and the server's own cost is far below another 100 µs.
    assert.ok(closed > 5000 && closed < 10_000, `closed-loop ${closed.toFixed(0)} msg/s`);
    assert.equal(s.status, "found", s.note);
    const found = s.foundPerSec!;
    assert.ok(Math.abs(found - closed) <= 0.15 * closed, `found ${found} msg/s vs closed-loop ${closed.toFixed(0)} msg/s: ${s.note}`);
    assert.ok(s.highPerSec! <= found * 1.06, `bracketed to 5%: ${found}..${s.highPerSec}`);

    const p99 = (run: number): number => r.runs[run]!.figures!.latencyUs!.p99;
    for (const p of s.probes) {
      // A try the client limited, or other processes disturbed, says nothing of the server (reports/slo.ts): the search probed that rate again, and that try counts.
      if (p.outcome === "client-limited" || p.outcome === "disturbed") {
        assert.ok(s.probes.some((q) => q.offeredPerSec === p.offeredPerSec && q.outcome !== "client-limited" && q.outcome !== "disturbed"), `${p.outcome} at ${p.offeredPerSec} and never probed there again`);
        continue;
      }
      if (p.offeredPerSec <= found) assert.ok(p99(p.run) <= BOUND_US, `probe at ${p.offeredPerSec}: p99 ${p99(p.run)} µs`);
      else assert.ok(p99(p.run) > BOUND_US, `probe at ${p.offeredPerSec}: p99 ${p99(p.run)} µs`);
    }

    // The curve around it, measured afresh: well below the rate found the tail is far under the bound, above it far over.
    const rates = [0.5, 0.75, 1.3, 1.6].map((k) => Math.round(found * k));
    const curve = await bench(["--rate", rates.join(",")], out);
    for (const run of curve.runs) {
      const offered = run.config.load!.targetRateTotalPerSec!;
      const tail = run.figures!.latencyUs!.p99;
      assert.equal(run.status, "ok");
      if (offered < found) assert.ok(tail <= BOUND_US, `at ${offered} msg/s (below ${found}): p99 ${tail} µs`);
      else assert.ok(tail > BOUND_US, `at ${offered} msg/s (above ${found}): p99 ${tail} µs`);
    }
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
