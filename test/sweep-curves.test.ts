/**
 * How a sweep plans and runs open-loop curves (runner/sweep.ts): a rate
 * sweep's order, rates as shares of a closed-loop maximum measured first,
 * what happens when that maximum cannot be measured, and a search's probes
 * recorded in results.searches as they run.
 */
import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { benchOptions } from "../cli/bench-options.js";
import type { RawFlag } from "../cli/parse.js";
import { collectEnvironment } from "../runner/environment.js";
import { planSweep, runSearches, runSweep } from "../runner/sweep.js";
import type { SweepInput } from "../runner/sweep.js";
import type { OkRun, ResultsFile, Run } from "../reports/schema.js";
import { curvesFixture } from "./fixtures/report-fixture.js";

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

function input(args: Record<string, RawFlag>): SweepInput {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-sweep-curves-"));
  made.push(out);
  return { options: benchOptions({ out, duration: "1", warmup: "0", ...args }, 2, 2), target: null, usableCores: 2, startTimeoutMs: 5000, connectConcurrency: 8 };
}

const describe = (p: ReturnType<typeof planSweep>[number]): string => {
  const c = p.config;
  const rate = c.loadPoint?.role === "closed-loop-max" ? "closed" : (c.loadPoint?.shareOfClosedLoopMax ?? c.load?.targetRateTotalPerSec);
  return `${c.index} r${c.repeat} ${c.model}/${c.threads} ${rate}`;
};

test("a rate sweep: every configuration at every rate, the rate outermost within a round, rounds interleaved", () => {
  const plans = planSweep(input({ model: "epoll,iocp", threads: "1", rate: "1k,2k", repeats: "2" }));
  assert.deepEqual(plans.map(describe), [
    "0 r1 epoll/1 1000",
    "1 r1 iocp/1 1000",
    "2 r1 epoll/1 2000",
    "3 r1 iocp/1 2000",
    "4 r2 epoll/1 1000",
    "5 r2 iocp/1 1000",
    "6 r2 epoll/1 2000",
    "7 r2 iocp/1 2000",
  ]);
  const c = plans[2]!.config;
  assert.deepEqual([c.load?.loop, c.load?.targetRatePerSessionPerSec, c.loadPoint], ["open", 2000 / 256, { role: "rate" }]);
});

test("rates as shares: the closed-loop runs first (every round), each rate pending on the median of its configuration's", () => {
  const plans = planSweep(input({ model: "epoll", threads: "1,2", rate: "50%,100%", repeats: "2" }));
  assert.deepEqual(plans.map(describe), [
    "0 r1 epoll/1 closed",
    "1 r1 epoll/2 closed",
    "2 r2 epoll/1 closed",
    "3 r2 epoll/2 closed",
    "4 r1 epoll/1 0.5",
    "5 r1 epoll/2 0.5",
    "6 r1 epoll/1 1",
    "7 r1 epoll/2 1",
    "8 r2 epoll/1 0.5",
    "9 r2 epoll/2 0.5",
    "10 r2 epoll/1 1",
    "11 r2 epoll/2 1",
  ]);
  assert.equal(plans[0]!.config.load?.loop, "closed");
  assert.deepEqual(plans[5]!.pendingRate, { closedLoopRuns: [1, 3], share: 0.5 });
  // A search plans its closed-loop runs only: the probes depend on what they measure.
  assert.deepEqual(planSweep(input({ model: "epoll", threads: "1,2", "find-max-rate": true, slo: "p99=2ms", repeats: "2" })).map(describe), [
    "0 r1 epoll/1 closed",
    "1 r1 epoll/2 closed",
    "2 r2 epoll/1 closed",
    "3 r2 epoll/2 closed",
  ]);
});

/** Against a server that is not there (--server-pid of no process): every run fails at once. */
function nowhere(args: Record<string, RawFlag>): SweepInput {
  const i = input({ target: "127.0.0.1:9", "server-pid": "4194000", connections: "3", repeats: "1", ...args });
  return { ...i, target: { host: "127.0.0.1", port: 9 } };
}

test("without a closed-loop maximum, share rates are recorded as skipped and searches as failed, never guessed", { timeout: 30_000 }, async () => {
  const shares = nowhere({ rate: "50%,100%" });
  const a = await runSweep(shares, planSweep(shares), { environment: collectEnvironment(null), toolVersion: "0" });
  assert.deepEqual(
    a.results.runs.map((r) => [r.config.index, r.status === "failed" ? r.failure : "ok"]),
    [
      [0, "server-start"],
      [1, "skipped"],
      [2, "skipped"],
    ],
  );
  assert.match((a.results.runs[1] as { error: string }).error, /50% of the closed-loop maximum of run\(s\) 1, which measured none/);
  const search = nowhere({ "find-max-rate": true, slo: "p99=2ms" });
  const b = await runSweep(search, planSweep(search), { environment: collectEnvironment(null), toolVersion: "0" });
  assert.equal(b.results.runs.length, 1);
  assert.equal(b.results.searches?.length, 1);
  assert.equal(b.results.searches![0]!.status, "failed");
  assert.match(b.results.searches![0]!.note, /no closed-loop maximum to start from/);
  assert.equal(b.results.complete, true);
});

test("a search's probes: each one run, judged and recorded in results.searches as the search goes", async () => {
  const i = input({ model: "epoll", threads: "1,2", "find-max-rate": true, slo: "p99=1ms", repeats: "1" });
  const templates = planSweep(i);
  const base = curvesFixture().runs.find((r): r is OkRun => r.status === "ok")!;
  const results: ResultsFile = { ...curvesFixture(), options: i.options, runs: [] };
  // The closed-loop runs: 10,000 msg/s at 1 thread, 16,000 at 2.
  for (const [k, mps] of [10_000, 16_000].entries()) {
    const r = structuredClone(base);
    r.config = { ...templates[k]!.config };
    r.figures.messagesPerSec = mps;
    results.runs.push(r);
  }
  // A simulated server: p99 under 1 ms up to 7,000 msg/s at 1 thread, 11,000 at 2.
  const order: string[] = [];
  const execute = (plan: (typeof templates)[number]): Promise<Run> => {
    const c = plan.config;
    const rate = c.load!.targetRateTotalPerSec!;
    order.push(`${c.threads}@${rate}`);
    const r = structuredClone(base);
    r.config = { ...c, index: results.runs.length };
    r.figures.flags = [];
    r.figures.errors.total = 0;
    r.figures.openLoop = { targetMessagesPerSec: rate, achievedMessagesPerSec: rate, achievedRatio: 1 };
    r.figures.latencyUs = { ...r.figures.latencyUs!, p99: rate <= (c.threads === 1 ? 7000 : 11_000) ? 800 : 5000 };
    results.runs.push(r);
    return Promise.resolve(r);
  };
  let saves = 0;
  await runSearches(i.options, "p99=1ms", templates, results, execute, () => saves++);
  const [one, two] = results.searches!;
  assert.equal(one!.status, "found");
  assert.ok(one!.lowPerSec! <= 7000 && 7000 < one!.highPerSec!, JSON.stringify(one));
  assert.ok(two!.lowPerSec! <= 11_000 && 11_000 < two!.highPerSec!, JSON.stringify(two));
  assert.equal(one!.closedLoopMessagesPerSec, 10_000);
  // The searches take turns: 1 thread, 2 threads, 1 thread...
  assert.deepEqual(order.slice(0, 4), ["1@10000", "2@16000", "1@5000", "2@8000"]);
  // Every probe points at its run, whose config says which search and step it was.
  for (const [id, s] of results.searches!.entries()) {
    s.probes.forEach((p, k) => {
      const run = results.runs[p.run]!;
      assert.deepEqual(run.config.loadPoint, { role: "probe", search: id, step: k + 1 });
      assert.equal(run.config.load?.targetRateTotalPerSec, p.offeredPerSec);
      assert.equal(p.outcome, (run.figures!.latencyUs!.p99 <= 1000 ? "met" : "missed"));
    });
  }
  assert.ok(saves >= one!.probes.length + two!.probes.length, "results.json rewritten after every probe");
});
