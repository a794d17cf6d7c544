/**
 * Whether a run met an objective, and whose miss it was (reports/slo.ts),
 * on real runs from the open-loop fixture with their figures altered.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHistogram } from "../contracts/histogram.js";
import { encodeForResults, summarise } from "../reports/derive.js";
import type { FailedRun, OkRun, SloCondition } from "../reports/schema.js";
import { judgeRun, latencyAt } from "../reports/slo.js";
import { curvesFixture } from "./fixtures/report-fixture.js";

/** A healthy open-loop run whose round trips are 1..1000 µs (p99 = 990 µs), at 4,000 msg/s of 4,000 offered. */
function run(): OkRun {
  const r = structuredClone(curvesFixture().runs.find((x) => x.status === "ok")!) as OkRun;
  const h = createHistogram();
  for (let v = 1; v <= 1000; v++) h.recordValue(v);
  const f = r.figures;
  f.latencyUs = summarise(h);
  f.latencyHistogram = encodeForResults(h);
  f.flags = [];
  f.errors = { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0, total: 0 };
  f.openLoop = { targetMessagesPerSec: 4000, achievedMessagesPerSec: 4000, achievedRatio: 1, clientSendLagUs: null };
  return r;
}

const p99 = (us: number): SloCondition => ({ kind: "latency", percentile: 99, boundUs: us });

test("latency conditions read the corrected histogram at any percentile", () => {
  const r = run();
  assert.equal(latencyAt(r.figures, 99), 990);
  assert.equal(latencyAt(r.figures, 95), 950, "a percentile the summary lacks comes from the histogram");
  assert.deepEqual(judgeRun(r, [p99(1000)]), { outcome: "met", reasons: [] });
  assert.deepEqual(judgeRun(r, [p99(900)]), { outcome: "missed", reasons: ["p99 990us > 900us"] });
  assert.equal(judgeRun(r, [{ kind: "latency", percentile: 95, boundUs: 949 }]).outcome, "missed");
  assert.equal(judgeRun(r, [{ kind: "latency", percentile: 100, boundUs: 1000 }]).outcome, "met");
});

test("the achieved share, errors, unserved sessions and a shortfall all miss the objective", () => {
  const short = run();
  short.figures.openLoop!.achievedRatio = 0.95;
  assert.equal(judgeRun(short, [p99(1000), { kind: "achieved", minShare: 0.99 }]).outcome, "missed");
  assert.equal(judgeRun(short, [p99(1000)]).outcome, "met", "95% is no BELOW-TARGET-RATE");
  short.figures.flags = ["BELOW-TARGET-RATE"];
  short.figures.openLoop!.achievedRatio = 0.8;
  assert.match(judgeRun(short, [p99(1000)]).reasons.join(), /achieved only 80.0%/);
  const errors = run();
  errors.figures.errors = { ...errors.figures.errors, timeout: 3, total: 3 };
  assert.deepEqual(judgeRun(errors, [p99(1000)]).reasons, ["3 error(s) inside the window"]);
  const unserved = run();
  unserved.figures.flags = ["SESSIONS-UNSERVED"];
  assert.equal(judgeRun(unserved, [p99(1000)]).outcome, "missed");
});

test("whose miss: a saturated client's is never the server's; a client behind only by what its send lag can explain", () => {
  const saturated = run();
  saturated.figures.flags = ["CLIENT-SATURATED"];
  assert.equal(judgeRun(saturated, [p99(1000)]).outcome, "met", "met is met, whatever the client");
  const j = judgeRun(saturated, [p99(500)]);
  assert.equal(j.outcome, "client-limited");
  assert.match(j.reasons[0]!, /the client itself was a limit: CLIENT-SATURATED/);
  // A client starved of CPU timed late whatever its lag says: its miss is not the server's either, even beside CLIENT-BEHIND.
  const starved = run();
  starved.figures.flags = ["CLIENT-STARVED", "CLIENT-BEHIND"];
  assert.equal(judgeRun(starved, [p99(500)]).outcome, "client-limited");

  const behind = run();
  behind.figures.flags = ["CLIENT-BEHIND"];
  behind.figures.openLoop!.clientSendLagUs = { count: 900, min: 1, p50: 20, p90: 100, p99: 300, p99_9: 390, max: 400, mean: 50 };
  // p99 990 µs: without up to 400 µs of the client's own lag it could be 590 µs: a bound of 600 µs might have been met.
  assert.equal(judgeRun(behind, [p99(600)]).outcome, "client-limited");
  // ... but not a bound of 500 µs: the server missed that whatever the client did.
  const server = judgeRun(behind, [p99(500)]);
  assert.equal(server.outcome, "missed");
  assert.match(server.reasons.at(-1)!, /the client was behind too \(send lag up to 400us\), not enough to explain the miss/);
});

test("a miss while other processes took the CPUs is disturbed, not the server's; a met run stays met; a client limit still comes first", () => {
  const busy = run();
  busy.figures.flags = ["MACHINE-BUSY"];
  busy.figures.otherCpuShare = 0.23;
  assert.deepEqual(judgeRun(busy, [p99(1000)]), { outcome: "met", reasons: [] }, "met with less CPU is met");
  assert.deepEqual(judgeRun(busy, [p99(500)]), { outcome: "disturbed", reasons: ["other processes took the CPUs: MACHINE-BUSY (23% of the run's CPUs)", "p99 990us > 500us"] });
  // Behind, but not enough to explain the miss: the client is no limit, the machine still is.
  busy.figures.flags = ["CLIENT-BEHIND", "MACHINE-BUSY"];
  busy.figures.openLoop!.clientSendLagUs = { count: 900, min: 1, p50: 20, p90: 100, p99: 300, p99_9: 390, max: 400, mean: 50 };
  const behind = judgeRun(busy, [p99(500)]);
  assert.equal(behind.outcome, "disturbed");
  assert.match(behind.reasons.at(-1)!, /the client was behind too/);
  busy.figures.flags = ["MACHINE-BUSY", "MISMATCH"];
  assert.equal(judgeRun(busy, [p99(500)]).outcome, "missed", "a corrupted echo is the server's miss, busy or not");
  busy.figures.flags = ["CLIENT-SATURATED", "MACHINE-BUSY"];
  const saturated = judgeRun(busy, [p99(500)]);
  assert.equal(saturated.outcome, "client-limited", "the client's limit is named first: it stops the search as a floor all the same");
  assert.match(saturated.reasons[0]!, /the client itself was a limit: CLIENT-SATURATED/);
});

test("failed runs: the server's failures miss, the harness's are failures", () => {
  const base = run();
  const failed = (failure: FailedRun["failure"]): FailedRun => ({ status: "failed", config: base.config, error: "x", failure, figures: null, startedAt: base.startedAt });
  assert.equal(judgeRun(failed("server-died"), [p99(1000)]).outcome, "missed");
  assert.equal(judgeRun(failed("server-unresponsive"), [p99(1000)]).outcome, "missed");
  assert.equal(judgeRun(failed("client"), [p99(1000)]).outcome, "failed");
  assert.equal(judgeRun(failed("internal"), [p99(1000)]).outcome, "failed");
});
