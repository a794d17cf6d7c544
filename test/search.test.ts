/**
 * The search for the highest rate meeting an objective (runner/search.ts)
 * against simulated servers: a sharp limit, a noisy one (how far from the
 * true limit the rate found lands, over many searches), and the ways a
 * search ends without a bracket.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RateSearch } from "../runner/search.js";
import type { SearchBounds } from "../runner/search.js";
import { seededRandom } from "../reports/stats.js";
import type { Probe } from "../reports/schema.js";

const BOUNDS: SearchBounds = { lowPerSec: 10, highPerSec: 80_000, startPerSec: 10_000, resolution: 0.05, maxProbes: 30, retries: 2 };

/** What reports/slo.ts says of a probe that says nothing of the server. */
const REASONS: Partial<Record<Probe["outcome"], string[]>> = {
  "client-limited": ["the client itself was a limit: CLIENT-SATURATED"],
  disturbed: ["other processes took the CPUs: MACHINE-BUSY (31% of the run's CPUs)", "p99 5ms > 2ms"],
};

/** Runs a search to its end against `serve` (the outcome of a probe at a rate); returns it and the rates probed. */
function search(bounds: SearchBounds, serve: (rate: number) => Probe["outcome"]): { s: RateSearch; rates: number[] } {
  const s = new RateSearch(bounds);
  const rates: number[] = [];
  for (let r = s.next(); r !== null; r = s.next()) {
    rates.push(r);
    const outcome = serve(r);
    s.record(r, outcome, REASONS[outcome] ?? []);
    assert.ok(rates.length <= bounds.maxProbes, "the search ends within its probes");
  }
  return { s, rates };
}

test("a sharp limit is bracketed to the resolution: the rate found met, the one above it missed", () => {
  for (const limit of [9000, 9999, 10_001, 23_456, 61, 79_000]) {
    const { s, rates } = search(BOUNDS, (r) => (r <= limit ? "met" : "missed"));
    const out = s.result("p99=20ms");
    assert.equal(out.status, "found", `limit ${limit}: ${out.note}`);
    assert.ok(out.lowPerSec! <= limit && limit < out.highPerSec!, `limit ${limit} in [${out.lowPerSec}, ${out.highPerSec}]`);
    assert.ok(out.highPerSec! <= out.lowPerSec! * 1.05 * 1.0005, `${out.lowPerSec}..${out.highPerSec} within 5%`);
    assert.equal(out.foundPerSec, out.lowPerSec);
    assert.equal(rates[0], 10_000, "starts at the closed-loop maximum");
    assert.ok(rates.length <= 14, `${rates.length} probes for limit ${limit}`);
  }
});

test("a limit that noise blurs: the rate found stays near it (simulation over 2,000 searches)", () => {
  // Near its limit a real server meets the objective in some runs and misses it in
  // others: here the chance of meeting it falls from 1 to 0 over about ±4 % around it.
  const random = seededRandom(42);
  const limit = 10_000;
  const found: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const { s } = search({ ...BOUNDS, startPerSec: 10_000 * (0.8 + 0.4 * random()) }, (r) => {
      const chance = 1 / (1 + Math.exp((r / limit - 1) / 0.015));
      return random() < chance ? "met" : "missed";
    });
    const out = s.result("p99=2ms");
    assert.equal(out.status, "found");
    assert.ok(out.lowPerSec! < out.highPerSec!, "the bracket stays ordered whatever the noise");
    found.push(out.foundPerSec! / limit);
  }
  const within = (x: number): number => found.filter((f) => Math.abs(f - 1) <= x).length / found.length;
  // What a user can expect: within ±15 % (the acceptance test's margin) essentially always, within ±8 % nearly always.
  assert.ok(within(0.15) >= 0.995, `within 15%: ${within(0.15)}`);
  assert.ok(within(0.08) >= 0.95, `within 8%: ${within(0.08)}`);
  const mean = found.reduce((a, b) => a + b, 0) / found.length;
  assert.ok(Math.abs(mean - 1) < 0.03, `mean found / limit ${mean.toFixed(3)}: no large bias`);
});

test("the bounds end a search that never brackets: never met, or met even at the ceiling", () => {
  const never = search(BOUNDS, () => "missed");
  assert.equal(never.s.result("p99=1us").status, "never-met");
  assert.equal(Math.min(...never.rates), BOUNDS.lowPerSec, "it halved down to the floor");
  const always = search(BOUNDS, () => "met");
  const out = always.s.result("p99=1s");
  assert.equal(out.status, "above-ceiling");
  assert.equal(out.foundPerSec, BOUNDS.highPerSec);
  assert.equal(out.highPerSec, null);
  assert.match(out.note, /the limit lies above/);
});

test("a rate the client limits is probed again; still limited, the search ends there and says so instead of naming a server limit", () => {
  // The server meets the objective up to 30k; the client gives out at 20k.
  const { s, rates } = search(BOUNDS, (r) => (r >= 20_000 ? "client-limited" : r <= 30_000 ? "met" : "missed"));
  const out = s.result("p99=2ms");
  assert.equal(out.status, "client-limited");
  assert.equal(out.foundPerSec, 10_000, "what the server was seen to meet: a floor");
  assert.equal(out.highPerSec, null, "no rate was missed by the server");
  assert.deepEqual(rates, [10_000, 20_000, 20_000, 20_000], "the first try and two retries");
  assert.match(out.note, /client itself was a limit.*met p99=2ms up to 10,000 msg\/s, and its own limit may lie higher/);
  // A passing disturbance: limited once, clean the next time: the search goes on.
  let disturbed = false;
  const passing = search(BOUNDS, (r) => {
    if (r === 20_000 && !disturbed) {
      disturbed = true;
      return "client-limited";
    }
    return r <= 30_000 ? "met" : "missed";
  });
  const ok = passing.s.result("p99=2ms");
  assert.equal(ok.status, "found");
  assert.ok(ok.lowPerSec! <= 30_000 && 30_000 < ok.highPerSec!);
  assert.deepEqual(passing.rates.slice(0, 3), [10_000, 20_000, 20_000]);
  // A run that failed for the harness's reasons ends it at once.
  const failed = search(BOUNDS, (r) => (r > 10_000 ? "failed" : "met"));
  assert.equal(failed.s.result("x").status, "failed");
});

test("a rate other processes disturbed is probed again; still disturbed, the search ends there with a floor and says why; a passing disturbance lets it go on", () => {
  // The server meets the objective up to 30k; from 20k up every probe misses on a busy machine.
  const { s, rates } = search(BOUNDS, (r) => (r >= 20_000 ? "disturbed" : r <= 30_000 ? "met" : "missed"));
  const out = s.result("p99=2ms");
  assert.equal(out.status, "disturbed");
  assert.equal(out.foundPerSec, 10_000, "what the server was seen to meet: a floor");
  assert.equal(out.highPerSec, null, "no rate was missed by the server");
  assert.deepEqual(rates, [10_000, 20_000, 20_000, 20_000], "the first try and two retries");
  assert.equal(out.note, "stopped at 20,000 msg/s, where other processes took the CPUs: MACHINE-BUSY (31% of the run's CPUs); the server met p99=2ms up to 10,000 msg/s, and its own limit may lie higher");
  // Disturbed at the last probe a search may run: it still ends as disturbed, not as the server's limit.
  assert.equal(search({ ...BOUNDS, maxProbes: 3 }, (r) => (r >= 20_000 ? "disturbed" : "met")).s.result("x").status, "disturbed");
  // Disturbed twice, clean the third time: the search goes on and brackets the server's own limit.
  let tries = 0;
  const passing = search(BOUNDS, (r) => (r === 20_000 && ++tries <= 2 ? "disturbed" : r <= 30_000 ? "met" : "missed"));
  const ok = passing.s.result("p99=2ms");
  assert.equal(ok.status, "found", ok.note);
  assert.ok(ok.lowPerSec! <= 30_000 && 30_000 < ok.highPerSec!, `[${ok.lowPerSec}, ${ok.highPerSec}]`);
  assert.deepEqual(passing.rates.slice(0, 4), [10_000, 20_000, 20_000, 20_000]);
  // The budget is the rate's, whichever way it was spoiled: client-limited, then disturbed twice, ends there.
  const spoiled: Probe["outcome"][] = ["client-limited", "disturbed", "disturbed"];
  const mixed = search(BOUNDS, (r) => (r === 20_000 ? spoiled.shift()! : "met"));
  assert.equal(mixed.s.result("x").status, "disturbed");
  assert.deepEqual(mixed.rates, [10_000, 20_000, 20_000, 20_000]);
});

test("a search gives up within its probes", () => {
  const { s, rates } = search({ ...BOUNDS, resolution: 0.0001, maxProbes: 5 }, (r) => (r <= 12_345 ? "met" : "missed"));
  assert.equal(rates.length, 5);
  const out = s.result("p99=2ms");
  assert.equal(out.status, "found");
  assert.ok(out.lowPerSec! <= 12_345 && 12_345 < out.highPerSec!, "what it has is still an honest bracket");
  assert.throws(() => new RateSearch({ ...BOUNDS, startPerSec: 5 }), /out of order/);
});
