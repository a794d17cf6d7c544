/**
 * `npm run bench:verdicts`: the verdict rules' error rates, from simulated
 * sweeps (bench/verdict-sim.ts; seeded, so the table is the same on every
 * machine). For each claim rule and a range of true effects, how often a
 * default sweep (BENCH_DEFAULTS.repeats rounds) says supported, not
 * supported, inconclusive; for the check at its default repeats and
 * thresholds, how often an unchanged candidate is called REGRESSED and a
 * 30 % worse one is caught. Flags: --sweeps N (default 2000), --noise 0.1
 * (per-run log sd), --drift 0.1 (per-round), --rounds N.
 */
import { parseArgs } from "node:util";
import { BENCH_DEFAULTS } from "../cli/bench-options.js";
import { CHECK_DEFAULT_REPEATS } from "../cli/check-options.js";
import type { Verdict } from "../reports/claims.js";
import { claim1Case, claim2Cpu, claim2Throughput, claim3Case, claim4Case, checkRates, claimRates, type ClaimCase, type Noise } from "./verdict-sim.js";

const { values } = parseArgs({
  options: {
    sweeps: { type: "string", default: "2000" },
    noise: { type: "string", default: "0.1" },
    drift: { type: "string", default: "0.1" },
    rounds: { type: "string", default: String(BENCH_DEFAULTS.repeats) },
  },
});
const sweeps = Number(values.sweeps);
const noise: Noise = { perRun: Number(values.noise), drift: Number(values.drift) };
const rounds = Number(values.rounds);

const pct = (n: number): string => `${((100 * n) / sweeps).toFixed(1)}%`;
const VERDICTS: Verdict[] = ["supported", "not supported", "inconclusive", "not tested"];

const cases: ClaimCase[] = [
  ...[0.05, 0.3, 0.6, 0.9, 1.2].map(claim1Case),
  ...[-0.1, 0, 0.05, 0.1, 0.2, 0.4].map(claim2Throughput),
  ...[0.2, 0, -0.05, -0.1, -0.2, -0.4].map(claim2Cpu),
  ...[0.9, 1, 1.1, 1.3, 2, 10].map(claim3Case),
  ...[
    [4, 1],
    [4, 1.5],
    [2, 1.5],
    [1.5, 1.5],
    [1.2, 2],
  ].map(([t, m]) => claim4Case(t!, m!)),
];

const out: string[] = [];
out.push(`Verdict rates over ${sweeps} simulated sweeps per row: ${rounds} rounds, per-run noise ${noise.perRun} and round drift ${noise.drift} (log sd).`, "");
out.push(`| claim | true effect | claim true? | ${VERDICTS.join(" | ")} |`, `|---|---|---|${VERDICTS.map(() => "---:").join("|")}|`);
for (const c of cases) {
  const r = claimRates(c, rounds, noise, sweeps);
  out.push(`| ${c.claim} | ${c.truth} | ${c.claimTrue === null ? "at the margin" : c.claimTrue ? "yes" : "no"} | ${VERDICTS.map((v) => pct(r[v])).join(" | ")} |`);
}
out.push("", `check at ${CHECK_DEFAULT_REPEATS} repeats per side, default thresholds (${sweeps} trials per row):`, "");
out.push("| mode | true change of msg/s (CPU/msg the inverse) | regressed | improved | within noise | invalid |", "|---|---|---:|---:|---:|---:|");
for (const paired of [true, false]) {
  for (const change of [0, -0.1, -0.2, -0.3, 0.3]) {
    const r = checkRates(change, paired, CHECK_DEFAULT_REPEATS, noise, sweeps);
    out.push(`| ${paired ? "--against (paired)" : "--baseline / --compare"} | ${change >= 0 ? "+" : ""}${Math.round(change * 100)}% | ${pct(r.regressed)} | ${pct(r.improved)} | ${pct(r["within-noise"])} | ${pct(r.invalid)} |`);
  }
}
process.stdout.write(`${out.join("\n")}\n`);
