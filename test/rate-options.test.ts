/**
 * The flags of open-loop curves (cli/rate-options.ts): --rate as a list or a
 * range, shares of the closed-loop maximum, --slo, --find-max-rate and their
 * conflicts, checked as benchOptions checks them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { benchOptions } from "../cli/bench-options.js";
import { rateChoice, sloOption } from "../cli/rate-options.js";
import type { RawFlag } from "../cli/parse.js";

const options = (args: Record<string, RawFlag>) => benchOptions({ model: "epoll", threads: "1", ...args }, 2, 2);

test("--rate: one rate stays the plain open loop; lists and ranges become a sweep", () => {
  assert.deepEqual(rateChoice("5k", "geometric"), { kind: "single", perSec: 5000 });
  const one = options({ rate: "1.5M" });
  assert.equal(one.load.rateTotalPerSec, 1_500_000);
  assert.equal(one.rates, undefined);

  const list = options({ rate: "20k,5k,10k" });
  assert.deepEqual(list.rates, { text: "20k,5k,10k", unit: "msg/s", spacing: "list", values: [5000, 10_000, 20_000] });
  assert.equal(list.load.loop, "open");
  assert.equal(list.load.rateTotalPerSec, null);

  // Geometric by default: equal ratios, both ends included, 4 significant digits.
  const geo = options({ rate: "1k..100k:3" });
  assert.deepEqual(geo.rates?.values, [1000, 10_000, 100_000]);
  const lin = options({ rate: "10k..40k:4", "rate-spacing": "linear" });
  assert.deepEqual(lin.rates?.values, [10_000, 20_000, 30_000, 40_000]);
  assert.equal(lin.rates?.spacing, "linear");

  const shares = options({ rate: "10%..120%:2" });
  assert.deepEqual(shares.rates, { text: "10%..120%:2", unit: "closed-loop-max", spacing: "geometric", values: [0.1, 1.2] });
  assert.deepEqual(options({ rate: "80%" }).rates?.values, [0.8]);
});

test("--slo: latency percentiles and the achieved share, in canonical form", () => {
  assert.deepEqual(sloOption("p99=2ms"), { text: "p99=2ms", conditions: [{ kind: "latency", percentile: 99, boundUs: 2000 }] });
  const s = sloOption(" P99.9 = 850us , achieved=99%,max=1s");
  assert.deepEqual(s.conditions, [
    { kind: "latency", percentile: 99.9, boundUs: 850 },
    { kind: "achieved", minShare: 0.99 },
    { kind: "latency", percentile: 100, boundUs: 1_000_000 },
  ]);
  assert.equal(s.text, "p99.9=850us,achieved=99%,max=1s");
});

test("--find-max-rate: the objective, the resolution and the bounds", () => {
  const o = options({ "find-max-rate": true, slo: "p99=20ms" });
  assert.deepEqual(o.search, { resolution: 0.05, lowPerSec: null, highPerSec: null, lowShare: null, highShare: null, maxProbes: 30, retries: 2 });
  assert.equal(o.slo?.text, "p99=20ms");
  assert.equal(o.load.loop, "closed", "the closed loop runs first; probes set their own rates");
  const bounded = options({ "find-max-rate": true, slo: "p99=20ms", rate: "1k..50k", "search-resolution": "2%" });
  assert.deepEqual([bounded.search?.lowPerSec, bounded.search?.highPerSec, bounded.search?.resolution], [1000, 50_000, 0.02]);
  assert.equal(bounded.load.loop, "open");
  const shares = options({ "find-max-rate": true, slo: "p99=20ms", rate: "25%..200%" });
  assert.deepEqual([shares.search?.lowShare, shares.search?.highShare], [0.25, 2]);
});

const REFUSED: [Record<string, RawFlag>, RegExp][] = [
  [{ rate: "fast" }, /--rate must be messages per second .* got 'fast'/],
  [{ rate: "10k..5k:3" }, /the low end must be below the high end/],
  [{ rate: "1k..10%:3" }, /both ends in msg\/s or both as shares/],
  [{ rate: "1k..10k" }, /give the number of rates, low..high:N/],
  [{ rate: "1k..10k:1" }, /the number of rates must be 2 to 100/],
  [{ rate: "1k,50%" }, /every rate in msg\/s or every one as a share/],
  [{ rate: "0%" }, /above 0%/],
  [{ rate: "1k,2k", "rate-per-session": "5" }, /give one of --rate .* and --rate-per-session/],
  [{ rate: "1k,2k", "closed-loop": true }, /contradict/],
  [{ rate: "1k,2k", "think-time": "5" }, /--think-time applies to the closed loop only/],
  [{ rate: "1k,2k", "rate-spacing": "linear" }, /--rate-spacing applies to a --rate range/],
  [{ slo: "p99=2ms" }, /--slo applies with --find-max-rate or a --rate sweep/],
  [{ "search-resolution": "5%" }, /--search-resolution applies with --find-max-rate/],
  [{ "find-max-rate": true }, /--find-max-rate needs --slo/],
  [{ "find-max-rate": true, slo: "p99" }, /each condition is pNN=<time>/],
  [{ "find-max-rate": true, slo: "p99=fast" }, /the bound must be a time with its unit/],
  [{ "find-max-rate": true, slo: "p101=2ms" }, /each condition is pNN=<time>/],
  [{ "find-max-rate": true, slo: "achieved=120%" }, /achieved must be a share above 0% and at most 100%/],
  [{ "find-max-rate": true, slo: "p99=2ms", rate: "1k..10k:4" }, /--rate gives the search's bounds as a range without a count/],
  [{ "find-max-rate": true, slo: "p99=2ms", "search-resolution": "0.1%" }, /--search-resolution must be a share from 0.5% to 100%/],
  [{ "find-max-rate": true, slo: "p99=2ms", protocol: "chat" }, /for echo and http sessions/],
  [{ "find-max-rate": true, slo: "p99=2ms", protocol: "http", client: "wrk" }, /needs iobench's own client/],
];

for (const [args, pattern] of REFUSED) {
  test(`refused: ${JSON.stringify(args)}`, () => {
    assert.throws(() => options(args), (err: Error) => err.name === "UsageError" && pattern.test(err.message));
  });
}
