/**
 * The verdict rules' error rates, over many seeded simulated sweeps at the
 * defaults (bench/verdict-sim.ts; `npm run bench:verdicts` prints the whole
 * table): 10 % run-to-run noise plus 10 % drift between rounds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { BENCH_DEFAULTS } from "../cli/bench-options.js";
import { CHECK_DEFAULT_REPEATS } from "../cli/check-options.js";
import { checkRates, claim1Case, claim2Cpu, claim2Throughput, claim3Case, claim4Case, claimRates, type ClaimCase } from "../bench/verdict-sim.js";

const NOISE = { perRun: 0.1, drift: 0.1 };
const SWEEPS = 1000;
const ROUNDS = BENCH_DEFAULTS.repeats;

function rates(c: ClaimCase): ReturnType<typeof claimRates> {
  const r = claimRates(c, ROUNDS, NOISE, SWEEPS);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v / SWEEPS])) as ReturnType<typeof claimRates>;
}

test("claim 2 is 'supported' in at most 5 % of default sweeps where more threads truly add 20 % (throughput, or CPU when the client is the limit)", () => {
  const gain = rates(claim2Throughput(0.2));
  assert.ok(gain.supported <= 0.05, `supported in ${gain.supported * 100}%`);
  const cheaper = rates(claim2Cpu(-0.2));
  assert.ok(cheaper.supported <= 0.05, `supported in ${cheaper.supported * 100}%`);
  // Where more threads truly change nothing, the rule never says they help.
  assert.ok(rates(claim2Throughput(0))["not supported"] <= 0.05);
});

test("a false claim is 'supported' in at most 5 % of default sweeps; a clear one in at least 90 %", () => {
  const falseCases = [claim1Case(1.2), claim3Case(1), claim4Case(1.2, 2)];
  for (const c of falseCases) {
    const r = rates(c);
    assert.ok(r.supported <= 0.05, `claim ${c.claim} (${c.truth}): supported in ${r.supported * 100}%`);
  }
  const clearCases = [claim1Case(0.1), claim3Case(10), claim4Case(4, 1)];
  for (const c of clearCases) {
    const r = rates(c);
    assert.ok(r.supported >= 0.9, `claim ${c.claim} (${c.truth}): supported in only ${r.supported * 100}%`);
  }
});

test("check at its defaults: at most 5 % false alarms on unchanged pairs, at least 90 % of 30 % regressions caught", () => {
  for (const paired of [true, false]) {
    const same = checkRates(0, paired, CHECK_DEFAULT_REPEATS, NOISE, SWEEPS);
    assert.ok(same.regressed / SWEEPS <= 0.05, `${paired ? "paired" : "unpaired"}: false alarms ${same.regressed / 10}%`);
    const worse = checkRates(-0.3, paired, CHECK_DEFAULT_REPEATS, NOISE, SWEEPS);
    assert.ok(worse.regressed / SWEEPS >= 0.9, `${paired ? "paired" : "unpaired"}: caught only ${worse.regressed / 10}%`);
  }
});
