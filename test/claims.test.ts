import { test } from "node:test";
import assert from "node:assert/strict";
import { NOISE_MARGIN, claim1, claim2, claim3, claim4, clearlyBelow } from "../reports/claims.js";
import { spread } from "../reports/stats.js";
import type { Spread } from "../reports/stats.js";
import type { ConfigSummary } from "../reports/summary.js";

const s = (...values: number[]): Spread => spread(values)!;

/** A configuration summary with the given figures (repeats as lists). */
function summary(
  model: string,
  threads: number,
  f: { mps?: number[]; ctx?: number[]; connectP99?: number[]; work?: string; saturated?: boolean; unserved?: boolean },
): ConfigSummary {
  return {
    key: `${model}/${threads}/${f.work ?? ""}`,
    model,
    threads,
    connections: 256,
    sizeBytes: 64,
    work: f.work ?? null,
    runIndexes: [0, 1, 2],
    validRuns: 3,
    failedRuns: 0,
    mismatchRuns: 0,
    unservedRuns: f.unserved === true ? 1 : 0,
    clientSaturatedRuns: f.saturated === true ? 1 : 0,
    flags: f.saturated === true ? ["CLIENT-SATURATED"] : [],
    messagesPerSec: f.mps === undefined ? null : s(...f.mps),
    sessionsServed: null,
    latencyP50Us: null,
    latencyP99Us: null,
    latencyP99_9Us: null,
    connectP50Us: null,
    connectP99Us: f.connectP99 === undefined ? null : s(...f.connectP99),
    serverCpuUsPerMessage: null,
    contextSwitchesPerMessage: f.ctx === undefined ? null : s(...f.ctx),
  };
}

test("clearly below needs separated intervals and a gap beyond the noise margin", () => {
  assert.ok(clearlyBelow(s(10, 11, 10.5), s(20, 21, 20.5)));
  assert.ok(!clearlyBelow(s(10, 15, 20), s(14, 19, 24)), "overlapping intervals");
  // One repeat each: zero-width intervals, so only the margin guards against noise.
  assert.ok(!clearlyBelow(s(100), s(100 * (1 + NOISE_MARGIN / 2))));
  assert.ok(clearlyBelow(s(100), s(100 * (1 + NOISE_MARGIN * 2))));
});

test("claim 1: iocp serving all and switching less per message than blocking at every thread count up to the CPUs is support", () => {
  const low = [
    summary("iocp", 1, { ctx: [0.02, 0.03, 0.025] }),
    summary("blocking", 1, { ctx: [1, 1.01, 1.02] }),
    summary("iocp", 2, { ctx: [0.2, 0.3, 0.25] }),
    summary("blocking", 2, { ctx: [1, 1.01, 1.02] }),
  ];
  assert.equal(claim1(low, 2).verdict, "supported");
  // More threads than CPUs are claim 2's question: left out, whatever they show.
  const above = [...low, summary("iocp", 4, { ctx: [1.3, 1.4, 1.35] }), summary("blocking", 4, { ctx: [1, 1.01, 1.02] })];
  assert.equal(claim1(above, 2).verdict, "supported");
  assert.equal(claim1(above, 2).measured.length, 2);
  const within = [summary("iocp", 1, { ctx: [0.02, 0.03, 0.025] }), summary("blocking", 1, { ctx: [1, 1.01, 1.02] }), summary("iocp", 2, { ctx: [0.9, 1.1, 1] }), summary("blocking", 2, { ctx: [1, 1.01, 1.02] })];
  assert.equal(claim1(within, 2).verdict, "not supported");
  const higher = claim1([summary("iocp", 2, { ctx: [1.3, 1.4, 1.35] }), summary("blocking", 2, { ctx: [1, 1.01, 1.02] })], 2);
  assert.equal(higher.verdict, "not supported");
  assert.match(higher.reason, /more per message than blocking at 2 threads/);
  const unserved = claim1([summary("iocp", 1, { ctx: [0.02, 0.03, 0.025], unserved: true }), summary("blocking", 1, { ctx: [1, 1.01, 1.02] })], 2);
  assert.equal(unserved.verdict, "not supported");
  assert.match(unserved.reason, /iocp left sessions unserved/);
  const none = claim1([summary("iocp", 1, { ctx: [0.1] })], 2);
  assert.equal(none.verdict, "not tested");
  assert.match(none.testWith ?? "", /--model iocp,blocking/);
});

test("claim 2 needs runs at the CPU count and above it, and a non-saturated client to be supported", () => {
  const flat = [summary("iocp", 2, { mps: [100, 102, 101] }), summary("iocp", 4, { mps: [99, 101, 100] })];
  assert.equal(claim2(flat, 2).verdict, "supported");
  const helped = [summary("iocp", 2, { mps: [100, 102, 101] }), summary("iocp", 4, { mps: [150, 152, 151] })];
  assert.equal(claim2(helped, 2).verdict, "not supported");
  const saturated = [summary("iocp", 2, { mps: [100, 102, 101], saturated: true }), summary("iocp", 4, { mps: [99, 101, 100] })];
  const r = claim2(saturated, 2);
  assert.equal(r.verdict, "not tested");
  assert.match(r.reason, /CLIENT-SATURATED/);
  assert.match(r.testWith ?? "", /--server-cpus 0 --client-cpus 1/);
  // No run above the CPU count: not tested, whatever the figures.
  assert.equal(claim2([summary("iocp", 1, { mps: [1] }), summary("iocp", 2, { mps: [2] })], 2).verdict, "not tested");
  // Runs at 4 and 8 threads but none at the CPU count (2): not tested either.
  assert.equal(claim2([summary("iocp", 4, { mps: [1] }), summary("iocp", 8, { mps: [2] })], 2).verdict, "not tested");
});

test("claim 3 compares the polling completion-routine server with iocp at every thread count", () => {
  const slowAccept = [
    summary("completion-routine", 1, { mps: [100, 100, 100], connectP99: [90_000, 95_000, 99_000] }),
    summary("iocp", 1, { mps: [100, 100, 100], connectP99: [2_000, 2_100, 2_200] }),
  ];
  assert.equal(claim3(slowAccept, "poll").verdict, "supported");
  assert.equal(claim3(slowAccept, "ring").verdict, "not tested");
  const onlyOne = [
    ...slowAccept,
    summary("completion-routine", 2, { mps: [100, 100, 100], connectP99: [2_000, 2_100, 2_200] }),
    summary("iocp", 2, { mps: [100, 100, 100], connectP99: [2_000, 2_100, 2_200] }),
  ];
  const r = claim3(onlyOne, "poll");
  assert.equal(r.verdict, "not supported");
  assert.match(r.reason, /only at 1 of 1, 2 threads/);
  assert.equal(claim3([summary("iocp", 1, { mps: [1] })], "poll").verdict, "not tested");
});

test("claim 4 is not tested without --work runs and judged from them when present", () => {
  const plain = [summary("epoll", 1, { mps: [100] }), summary("iocp", 1, { mps: [100] })];
  const none = claim4(plain);
  assert.equal(none.verdict, "not tested");
  assert.match(none.testWith ?? "", /--work block:2ms/);
  const work = (m: string, t: number, mps: number[]): ConfigSummary => summary(m, t, { mps, work: "block:2ms" });
  const threadsMatter = [
    work("epoll", 1, [480, 490, 500]),
    work("epoll", 4, [1900, 1950, 2000]),
    work("iocp", 1, [470, 480, 490]),
    work("iocp", 4, [1950, 1990, 2010]),
  ];
  assert.equal(claim4(threadsMatter).verdict, "supported");
  const epollAlways = [
    work("epoll", 1, [1000, 1010, 1020]),
    work("epoll", 4, [4000, 4010, 4020]),
    work("iocp", 1, [400, 410, 420]),
    work("iocp", 4, [1000, 1010, 1020]),
  ];
  const r = claim4(epollAlways);
  assert.equal(r.verdict, "not supported");
  assert.match(r.reason, /epoll won at every configuration/);
});

test("a claim resting on single repeats is not tested, however large the difference", () => {
  const once = [summary("iocp", 1, { ctx: [0.01] }), summary("blocking", 1, { ctx: [1] })];
  const r = claim1(once, 2);
  assert.equal(r.verdict, "not tested");
  assert.match(r.reason, /fewer than 2 times/);
  assert.equal(claim2([summary("iocp", 2, { mps: [100] }), summary("iocp", 4, { mps: [500] })], 2).verdict, "not tested");
});
