import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { renderCheckMarkdown, renderCheckTable, type CheckFile } from "../reports/check-report.js";
import { baselineFromResults, readBaseline, writeBaseline } from "../reports/baseline.js";
import { reportFixture } from "./fixtures/report-fixture.js";
import type { ConfigSamples, Repeat } from "../reports/samples.js";
import { seededRandom } from "../reports/stats.js";
import { DEFAULT_THRESHOLDS, judge, verdictOf } from "../reports/verdict.js";
import { parseThresholds } from "../cli/check-options.js";

const KEY = { model: "epoll", threads: 1, connections: 16, sizeBytes: 64, work: null, setup: "{}" };

/** n repeats around the given figures, ±2 % noise. */
function repeats(n: number, f: { rate: number; p99: number; cpu: number }, seed: number, extra: Partial<Repeat> = {}): Repeat[] {
  const random = seededRandom(seed);
  const jitter = (x: number): number => x * (1 + (random() - 0.5) * 0.04);
  return Array.from({ length: n }, (_, i) => ({
    round: i + 1, ok: true, error: null, rate: jitter(f.rate), p99: jitter(f.p99), cpu: jitter(f.cpu),
    messages: 1000, mismatches: 0, errors: 0, clientSaturated: false, flags: [], ...extra,
  }));
}

const samples = (r: Repeat[]): ConfigSamples[] => [{ key: KEY, repeats: r }];
const BASE = { rate: 30_000, p99: 4_000, cpu: 10 };

test("a verdict needs the whole interval past the threshold, in the figure's bad direction", () => {
  assert.equal(verdictOf(0.06, 0.2, 0.05, "lower"), "regressed", "cost up past 5 %");
  assert.equal(verdictOf(0.04, 0.2, 0.05, "lower"), "within-noise", "interval reaches inside the threshold");
  assert.equal(verdictOf(-0.3, -0.11, 0.1, "higher"), "regressed", "rate down past 10 %");
  assert.equal(verdictOf(0.11, 0.3, 0.1, "higher"), "improved");
  assert.equal(verdictOf(-0.3, -0.11, 0.1, "lower"), "improved");
  assert.equal(verdictOf(-0.5, 0.5, 0.1, "lower"), "within-noise");
});

test("judge: the same figures are within noise; a 3x cost and a halved rate regress, named by figure", () => {
  const same = judge(samples(repeats(5, BASE, 1)), samples(repeats(5, BASE, 2)), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(same.overall, "within-noise");
  assert.equal(same.exitCode, 0);
  assert.ok(same.configurations[0]!.figures.every((f) => f.verdict === "within-noise"));

  const worse = judge(samples(repeats(5, BASE, 1)), samples(repeats(5, { rate: 15_000, p99: 4_000, cpu: 30 }, 3)), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(worse.exitCode, 1);
  const byName = Object.fromEntries(worse.configurations[0]!.figures.map((f) => [f.figure, f.verdict]));
  assert.deepEqual(byName, { rate: "regressed", p99: "within-noise", cpu: "regressed" });
  const file: CheckFile = {
    schema: "iobench.check", version: 2, createdAt: "", mode: "compare",
    baseline: { label: "A", file: "a", gitCommit: null }, candidate: { label: "B", file: "b", gitCommit: null }, ...worse,
  };
  assert.match(renderCheckTable(file), /iobench check: REGRESSED: epoll t1 c16 64B msg\/s -50\.\d%; epoll t1 c16 64B cpu µs\/msg \+\d+%/);
  assert.match(renderCheckMarkdown(file), /\| \*\*REGRESSED\*\* \|/);

  const better = judge(samples(repeats(5, BASE, 1)), samples(repeats(5, { ...BASE, cpu: 5 }, 4)), { paired: true, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(better.overall, "improved");
  assert.equal(better.exitCode, 0);
});

test("judge refuses to say fine about runs that did not work, and warns about saturated clients", () => {
  const corrupt = judge(samples(repeats(5, BASE, 1)), samples(repeats(5, BASE, 2, { mismatches: 3 })), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(corrupt.overall, "invalid");
  assert.equal(corrupt.exitCode, 2);
  assert.match(corrupt.configurations[0]!.problems[0]!, /candidate: corrupted echoes \(MISMATCH\) in 5\/5/);

  const failed = repeats(5, BASE, 2);
  failed[1] = { ...failed[1]!, ok: false, error: "server died mid-run", rate: null, p99: null, cpu: null, messages: 0 };
  assert.equal(judge(samples(repeats(5, BASE, 1)), samples(failed), { paired: false, thresholds: DEFAULT_THRESHOLDS }).exitCode, 2);

  const missing = judge(samples(repeats(5, BASE, 1)), [], { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(missing.exitCode, 2, "a configuration with no candidate runs cannot pass");

  const saturated = judge(samples(repeats(5, BASE, 1, { clientSaturated: true })), samples(repeats(5, BASE, 2)), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(saturated.exitCode, 0);
  assert.match(saturated.configurations[0]!.warnings.join("\n"), /baseline: client-saturated in 5\/5/);
});

test("--threshold overrides per figure and refuses what it cannot read", () => {
  assert.deepEqual(parseThresholds("cpu=2%,p99=20"), { rate: 0.1, p99: 0.2, cpu: 0.02 });
  assert.deepEqual(parseThresholds(undefined), DEFAULT_THRESHOLDS);
  assert.throws(() => parseThresholds("latency=5%"), /FIGURE one of rate, p99, cpu/);
  assert.throws(() => parseThresholds("cpu=0%"), /above 0/);
});

test("a baseline file round-trips and a wrong one is refused with one line", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-baseline-test-"));
  try {
    const b = baselineFromResults("main", reportFixture());
    writeBaseline(dir, b);
    const { $schema, ...read } = readBaseline(dir, "main");
    assert.deepEqual(read, b);
    assert.equal(typeof $schema, "string", "a baseline says where its JSON Schema is");
    fs.writeFileSync(path.join(dir, "bare.json"), JSON.stringify({ schema: "iobench.baseline", version: 2, name: "bare", options: {}, configurations: [] }));
    assert.throws(() => readBaseline(dir, "bare"), /bare\.json: field "createdAt" must be a string, got nothing/);
    assert.throws(() => readBaseline(dir, "other"), /no baseline 'other'.*--save-baseline other/);
    assert.throws(() => readBaseline(dir, "../etc/passwd"), /must be letters, digits/);
    fs.writeFileSync(path.join(dir, "old.json"), JSON.stringify({ ...b, version: 1 }));
    assert.throws(() => readBaseline(dir, "old"), /baseline version 1; this iobench reads version 2: save it again/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fewer than 3 usable repeats on a side: no verdict, INVALID (exit 2), saying how many are needed", () => {
  // One repeat each, 10 % apart: the old check called this REGRESSED from a zero-width interval.
  const one = judge(samples(repeats(1, BASE, 1)), samples(repeats(1, { ...BASE, rate: 27_000 }, 2)), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(one.overall, "invalid");
  assert.equal(one.exitCode, 2);
  assert.ok(one.configurations[0]!.figures.every((f) => f.verdict === "insufficient" && f.change === null));
  assert.match(one.configurations[0]!.problems.join("\n"), /too few usable repeats for a verdict \(msg\/s 1 vs 1, .*\): at least 3 per side are needed; run --repeats 3 or more/);
  // Three each: judged.
  assert.notEqual(judge(samples(repeats(3, BASE, 1)), samples(repeats(3, BASE, 2)), { paired: false, thresholds: DEFAULT_THRESHOLDS }).overall, "invalid");
});

test("runs flagged CLIENT-STARVED or MACHINE-BUSY are left out by name; too few left is INVALID; NOISY repeats are a warning", () => {
  const base = repeats(4, BASE, 1).map((r, i) => ({ ...r, run: i + 1 }));
  const cand = repeats(4, BASE, 2).map((r, i) => ({ ...r, run: i + 5 }));
  cand[0] = { ...cand[0]!, flags: ["MACHINE-BUSY"], rate: 1 }; // a hog's run: it would regress msg/s if it counted
  const left = judge(samples(base), samples(cand), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(left.overall, "within-noise");
  assert.match(left.configurations[0]!.warnings.join("\n"), /candidate: left out of the figures: run 5 \(MACHINE-BUSY\)/);
  assert.equal(left.configurations[0]!.figures[0]!.candidate.n, 3);
  cand[1] = { ...cand[1]!, flags: ["CLIENT-STARVED"] };
  const short = judge(samples(base), samples(cand), { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(short.exitCode, 2);
  assert.match(short.configurations[0]!.problems.join("\n"), /run --repeats 5 or more \(flagged runs are left out\)/);
  const wild = repeats(4, BASE, 3).map((r, i) => ({ ...r, rate: r.rate! * (i % 2 === 0 ? 0.6 : 1.4) }));
  assert.match(judge(samples(base), samples(wild), { paired: false, thresholds: DEFAULT_THRESHOLDS }).configurations[0]!.warnings.join("\n"), /candidate: msg\/s NOISY/);
});

test("the configuration key covers the whole setup: unlike runs are not compared, and the check says what differs", () => {
  const other = { ...KEY, setup: JSON.stringify({ accept: "ring" }) };
  const out = judge(samples(repeats(3, BASE, 1)), [{ key: other, repeats: repeats(3, BASE, 2) }], { paired: false, thresholds: DEFAULT_THRESHOLDS });
  assert.equal(out.exitCode, 2);
  assert.match(out.configurations[0]!.problems[0]!, /the candidate has no run of epoll t1 c16 64B with the same setup: the nearest differs in accept/);
  // Server work is part of it too, unless the check injected it on purpose (--work).
  const worked = { ...KEY, work: "cpu:200us" };
  assert.equal(judge(samples(repeats(3, BASE, 1)), [{ key: worked, repeats: repeats(3, BASE, 2) }], { paired: false, thresholds: DEFAULT_THRESHOLDS }).exitCode, 2);
  assert.equal(judge(samples(repeats(3, BASE, 1)), [{ key: worked, repeats: repeats(3, BASE, 2) }], { paired: false, thresholds: DEFAULT_THRESHOLDS, ignoreWork: true }).exitCode, 0);
});
