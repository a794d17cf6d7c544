import { test } from "node:test";
import assert from "node:assert/strict";
import { benchOptions, defaultPinning } from "../cli/bench-options.js";
import { CLAIM1_SESSIONS } from "../cli/claims-sweep.js";
import type { RawFlag } from "../cli/parse.js";
import { planSweep } from "../runner/sweep.js";

/** The plan of `iobench bench <args>` on a 2-CPU machine (CPUs 0 and 1). */
function plan(args: Record<string, RawFlag>) {
  const options = benchOptions(args, 2, 2, null, [0, 1]);
  return { options, plans: planSweep({ options, target: null, usableCores: 2, startTimeoutMs: 1000, connectConcurrency: 64 }) };
}

test("the default sweep pins the server and the client apart and adds the claims' runs to every round", () => {
  const { options, plans } = plan({});
  assert.deepEqual([options.serverCpus, options.clientCpus, options.pinning], [[1], [0], "default"]);
  assert.deepEqual(options.threads, [1, 2, 4], "the server's one CPU, and more");
  const round = plans.filter((p) => p.config.repeat === 1);
  assert.equal(plans.length, round.length * options.repeats);
  const label = (p: (typeof plans)[number]): string =>
    [p.config.part ?? "-", p.config.model, p.config.threads, p.config.connections, p.config.accept, p.config.load?.scenario ?? "-", p.config.work?.kind ?? "-"].join(" ");
  const parts = round.filter((p) => p.config.part !== undefined).map(label);
  assert.deepEqual(parts, [
    `claim 1 iocp 1 ${CLAIM1_SESSIONS} poll - -`,
    `claim 1 blocking per-connection ${CLAIM1_SESSIONS} poll - -`,
    "claim 3 completion-routine 1 64 poll connect-storm at 2000 connects/s -",
    "claim 3 completion-routine 1 64 ring connect-storm at 2000 connects/s -",
    "claim 4 epoll 1 64 poll db-work block",
    "claim 4 epoll 4 64 poll db-work block",
    "claim 4 iocp 1 64 poll db-work block",
    "claim 4 iocp 4 64 poll db-work block",
  ]);
  // Rounds interleave everything: round 2 starts after the last part of round 1.
  assert.equal(plans[round.length]!.config.repeat, 2);
  assert.equal(plans[round.length]!.config.part, undefined);
  const storm = round.find((p) => p.config.part === "claim 3")!;
  assert.equal(storm.config.load?.messagesPerSession, 1, "connect-storm reconnects after each message");
  assert.equal(storm.config.load?.connectRatePerSec, 2000, "at a pace one client CPU keeps");
  assert.ok(round.every((p) => p.server.kind === "spawn" && p.server.cpus?.join() === "1" && p.clientCpus?.join() === "0"));
  assert.equal(round.find((p) => p.config.threads === "per-connection")!.config.warmupSec, 3, "threads per connection get time to start");
});

test("a shaped sweep has no claims' runs unless asked; --no-pin and given CPUs are recorded as such", () => {
  assert.equal(plan({ model: "epoll" }).options.parts, undefined);
  assert.equal(plan({ model: "epoll", claims: true }).options.parts?.length, 4);
  assert.equal(plan({ claims: false }).options.parts, undefined);
  const free = plan({ pin: false, model: "epoll" }).options;
  assert.deepEqual([free.serverCpus, free.clientCpus, free.pinning], [null, null, "none"]);
  assert.equal(plan({ "server-cpus": "0", model: "epoll" }).options.pinning, "given");
  assert.equal(defaultPinning([3], 1), null, "one CPU: nothing to split");
  assert.deepEqual(defaultPinning([0, 1, 2, 3, 4], 5), { client: [0, 1], server: [2, 3, 4] });
});

test("--accept poll,ring runs completion-routine once per style and every other model once", () => {
  const { plans } = plan({ model: "completion-routine,epoll", threads: "1", accept: "poll,ring", repeats: "1" });
  assert.deepEqual(
    plans.map((p) => `${p.config.model} ${p.config.accept}`),
    ["completion-routine poll", "completion-routine ring", "epoll poll"],
  );
  const ring = plans[1]!;
  assert.equal(ring.server.kind === "spawn" && ring.server.options.accept, "ring");
});
