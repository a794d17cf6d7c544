import { test } from "node:test";
import assert from "node:assert/strict";
import { judgeClaims } from "../reports/claims.js";
import type { ClaimResult } from "../reports/claims.js";
import type { ResultsFile, RunFlag } from "../reports/schema.js";
import { summariseRuns } from "../reports/summary.js";
import { claim1Case, claim2Cpu, claim2Throughput, claim3Case, claim4Case, simulateSweep, type ClaimCase } from "../bench/verdict-sim.js";

/** A quiet machine: 2 % per-run noise, 20 % drift between rounds (pairing cancels it). */
const QUIET = { perRun: 0.02, drift: 0.2 };

function sweep(c: ClaimCase, rounds = 4, seed = 1): ResultsFile {
  return simulateSweep(c.configs, rounds, QUIET, seed);
}

function claim(results: ResultsFile, id: ClaimResult["id"]): ClaimResult {
  return judgeClaims(results, summariseRuns(results))[id - 1]!;
}

/** Adds a flag to the runs of a configuration in the given rounds. */
function flag(results: ResultsFile, match: (c: ResultsFile["runs"][number]["config"]) => boolean, rounds: number[], f: RunFlag): void {
  for (const r of results.runs) if (match(r.config) && rounds.includes(r.config.repeat)) r.figures!.flags.push(f);
}

test("claim 1: decided on context switches against a thread per connection, with the pool shown apart", () => {
  const yes = claim(sweep(claim1Case(0.05)), 1);
  assert.equal(yes.verdict, "supported", yes.reason);
  assert.equal(yes.basis, "server context switches per message");
  assert.match(yes.measured[0]!, /iocp 1 thread vs blocking, thread per connection .*paired t, 4 rounds/);
  assert.equal(claim(sweep(claim1Case(1.3)), 1).verdict, "not supported");
  // Within the margin: neither, whatever the rounds.
  assert.equal(claim(sweep(claim1Case(0.9), 6), 1).verdict, "inconclusive");
  // No thread per connection in the sweep: not tested, with the command that would test it.
  const pool = sweep(claim1Case(0.05));
  pool.runs = pool.runs.filter((r) => r.config.threads !== "per-connection");
  const missing = claim(pool, 1);
  assert.equal(missing.verdict, "not tested");
  assert.match(missing.testWith!, /--threads 1,per-connection/);
});

test("claim 1: a thread-per-connection server that left sessions unserved is not the same load: inconclusive", () => {
  const r = sweep(claim1Case(0.05));
  for (const run of r.runs) if (run.config.threads === "per-connection") run.figures!.flags.push("SESSIONS-UNSERVED");
  const c = claim(r, 1);
  assert.equal(c.verdict, "inconclusive");
  assert.match(c.reason, /left sessions unserved/);
});

test("claim 2: supported only by equivalence; a real gain is not supported; flagged runs leave it inconclusive, named", () => {
  assert.equal(claim(sweep(claim2Throughput(0)), 2).verdict, "supported");
  assert.equal(claim(sweep(claim2Throughput(0.5)), 2).verdict, "not supported");
  // A gain of 20 % with only 3 rounds at 10 % noise: not "supported" for want of evidence.
  const wide = simulateSweep(claim2Throughput(0.2).configs, 3, { perRun: 0.1, drift: 0.1 }, 4);
  assert.notEqual(claim(wide, 2).verdict, "supported");
  const busy = sweep(claim2Throughput(0));
  flag(busy, (c) => c.threads === 2, [1, 2], "MACHINE-BUSY");
  const c = claim(busy, 2);
  assert.equal(c.verdict, "inconclusive");
  assert.match(c.measured.join("\n"), /left out: run \d+ MACHINE-BUSY/);
  assert.match(c.reason, /fewer than 3 usable rounds.*quieter machine/);
  assert.match(c.testWith!, /--repeats 8/);
});

test("claim 2: with the client the limit, the verdict rests on server CPU per message, and says so", () => {
  const yes = claim(sweep(claim2Cpu(0.3)), 2);
  assert.equal(yes.verdict, "supported", yes.reason);
  assert.match(yes.basis!, /server CPU µs per message/);
  assert.match(yes.measured.join("\n"), /throughput \(msg\/s\): no round where both runs count; left out: run 1 CLIENT-SATURATED/);
  assert.equal(claim(sweep(claim2Cpu(-0.5)), 2).verdict, "not supported");
  // Client-starved runs are a floor as well: left out of throughput.
  const starved = sweep(claim2Throughput(0));
  flag(starved, () => true, [1, 2, 3, 4], "CLIENT-STARVED");
  assert.equal(claim(starved, 2).verdict, "inconclusive", "starved runs are left out of CPU too: nothing to judge");
});

test("claim 3: the polling accept against the ring accept on the time to the first echo", () => {
  assert.equal(claim(sweep(claim3Case(5)), 3).verdict, "supported");
  assert.equal(claim(sweep(claim3Case(1)), 3).verdict, "not supported");
  const c = claim(sweep(claim3Case(5)), 3);
  assert.equal(c.basis, "connect-to-first-echo p99 (µs)");
  assert.match(c.measured[0]!, /completion-routine 1 thread \(poll accept\) vs completion-routine 1 thread \(ring accept\) \(connect-storm, 64 sessions\)/);
  // Long-lived sessions never time a first echo inside the window: not tested, and the reason says what load would.
  const still = sweep(claim3Case(5));
  for (const r of still.runs) r.figures!.firstEchoLatencyUs = null;
  const n = claim(still, 3);
  assert.equal(n.verdict, "not tested");
  assert.match(n.reason, /reconnect/);
  // Only one accept style: not tested.
  const poll = sweep(claim3Case(5));
  poll.runs = poll.runs.filter((r) => r.config.accept === "poll");
  assert.equal(claim(poll, 3).verdict, "not tested");
});

test("claim 4: the thread effect against the model effect under the same work, with the arithmetic bound beside", () => {
  const yes = claim(sweep(claim4Case(4, 1)), 4);
  assert.equal(yes.verdict, "supported", yes.reason);
  assert.match(yes.measured.join("\n"), /iocp, 4 threads, 64 conns, 64 B, work block:2ms: [0-9,]+ \[87.5% CI .*, n=4\] msg\/s measured; bound 4 ÷ 2ms = 2,000 msg\/s/);
  assert.match(yes.measured.join("\n"), /thread effect: iocp 4 threads vs iocp 1 thread/);
  assert.match(yes.measured.join("\n"), /model effect: epoll vs iocp, 1 thread/);
  assert.equal(claim(sweep(claim4Case(1.2, 3)), 4).verdict, "not supported");
  assert.equal(claim(sweep(claim4Case(1.5, 1.5)), 4).verdict, "inconclusive");
  // A client-saturated run is a floor: left out.
  const sat = sweep(claim4Case(4, 1));
  flag(sat, (c) => c.model === "epoll" && c.threads === 4, [1, 2], "CLIENT-SATURATED");
  assert.equal(claim(sat, 4).verdict, "inconclusive");
  const none = sweep(claim4Case(4, 1));
  none.runs = none.runs.filter((r) => r.config.work === null);
  assert.equal(claim(none, 4).verdict, "not tested");
});
