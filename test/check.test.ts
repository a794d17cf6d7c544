import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CHECK_INJECTED_WORK, CHECK_LOAD_ARGS, CHECK_THRESHOLDS } from "../bench/lib.js";
import type { CheckFile } from "../reports/check-report.js";
import { cli as runCli, type Outcome } from "./fixtures/cli.js";

/** The check's own runs take minutes at worst (--against builds a worktree). */
const cli = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Outcome> => runCli(args, { cwd, env, timeoutMs: 200_000 });


function checkJson(o: Outcome, cwd: string): CheckFile {
  const m = /^iobench check: (.+check\.json) and check\.md$/m.exec(o.stderr);
  assert.ok(m, `check.json path on stderr:\n${o.stderr}`);
  return JSON.parse(fs.readFileSync(path.resolve(cwd, m[1]!), "utf8")) as CheckFile;
}

/**
 * The check leaves out runs flagged CLIENT-STARVED or MACHINE-BUSY and then
 * has too few repeats for a verdict (INVALID, exit 2): right on a machine
 * other jobs keep busy, but then this test cannot tell what it asks. It
 * says so and stops rather than pass or fail on the neighbours' load.
 */
function tooBusy(o: Outcome): string | null {
  if (o.code !== 2 || !/too few usable repeats/.test(o.stdout)) return null;
  const left = o.stdout.match(/left out of the figures: .*/g) ?? [];
  return left.length > 0 ? `the machine was too busy for this test (${left.length} side(s) had noisy runs left out)` : null;
}

test("check: an unchanged re-run is within noise (exit 0); an injected cpu:200us per message regresses (exit 1, naming cpu)", { timeout: 180_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-check-test-"));
  try {
    const saved = await cli(["bench", "check", "--save-baseline", "ci", ...CHECK_LOAD_ARGS, "--out", "results"], dir);
    assert.equal(saved.code, 0, saved.stderr);
    assert.ok(fs.existsSync(path.join(dir, "baselines/ci.json")));

    const summary = path.join(dir, "summary.md");
    const unchanged = await cli(["check", "--baseline", "ci", "--threshold", CHECK_THRESHOLDS, "--out", "results"], dir, { ...process.env, GITHUB_STEP_SUMMARY: summary });
    const busy = tooBusy(unchanged);
    if (busy !== null) return t.skip(busy);
    const same = checkJson(unchanged, dir);
    assert.equal(unchanged.code, 0, `unchanged re-run:\n${unchanged.stdout}`);
    assert.equal(same.overall === "within-noise" || same.overall === "improved", true);
    assert.match(unchanged.stdout, /iobench check: (within noise|improved)/);
    assert.match(fs.readFileSync(summary, "utf8"), /### ✅ iobench check/, "check.md appended to $GITHUB_STEP_SUMMARY");

    const injected = await cli(["check", "--baseline", "ci", "--work", CHECK_INJECTED_WORK, "--threshold", CHECK_THRESHOLDS, "--out", "results"], dir);
    const busyInjected = tooBusy(injected);
    if (busyInjected !== null) return t.skip(busyInjected);
    assert.equal(injected.code, 1, `injected regression:\n${injected.stdout}\n${injected.stderr}`);
    assert.match(injected.stdout, /iobench check: REGRESSED: .*cpu µs\/msg \+\d+%/);
    const cpu = checkJson(injected, dir).configurations[0]!.figures.find((f) => f.figure === "cpu")!;
    assert.equal(cpu.verdict, "regressed");
    assert.ok(cpu.changeLow! > 1, `cpu:200us per message is far more than double an echo's cost (${cpu.changeLow})`);

    // --compare runs nothing: the baseline's sweep against itself, and never against the injected one,
    // which ran another configuration (server work): unlike runs are not compared, and the check says why.
    const baseDir = path.dirname(/results in (.+results\.json)\)/.exec(saved.stderr)![1]!);
    const injectedDir = path.dirname(checkJson(injected, dir).candidate.file);
    const compared = await cli(["check", "--compare", baseDir, injectedDir, "--threshold", CHECK_THRESHOLDS], dir);
    assert.equal(compared.code, 2, compared.stdout);
    assert.match(compared.stdout, /the candidate has no run of epoll t1 c16 64B with the same setup: the nearest differs in work/);
    const itself = await cli(["check", "--compare", baseDir, baseDir], dir);
    assert.equal(itself.code, 0, itself.stdout);
    assert.doesNotMatch(itself.stdout, /[0-9]%.*(REGRESSED|improved)/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("check: bad use is one line and exit 2", { timeout: 60_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-check-test-"));
  try {
    for (const [args, pattern] of [
      [["check"], /check needs one of --save-baseline NAME, --baseline NAME, --compare DIR_A DIR_B, --against REF/],
      [["check", "--baseline", "a", "--against", "HEAD"], /one of .* not several/],
      [["check", "--baseline", "nope"], /no baseline 'nope'/],
      [["check", "--baseline", "x", "--connections", "5"], /--baseline re-runs the baseline's own configuration: --connections/],
      [["check", "--compare", "nowhere", "nowhere2"], /--compare nowhere: no results.json there/],
      [["check", "--against", "no-such-ref-xyz", "--model", "epoll"], /--against no-such-ref-xyz: not a commit/],
      [["check", "--baseline", "x", "--threshold", "cpu=abc"], /--threshold item 'cpu=abc'/],
    ] as const) {
      const o = await cli([...args], dir);
      assert.equal(o.code, 2, `${args.join(" ")}: ${o.stderr}`);
      const lines = o.stderr.split("\n").filter((l) => l.trim() !== "");
      assert.equal(lines.length, 1, o.stderr);
      assert.match(lines[0]!, pattern);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// About a minute (it builds HEAD: addon and TypeScript), so npm test leaves it to .ci/run,
// which sets IOBENCH_SLOW_TESTS=1; run it by hand the same way.
const slow = process.env.IOBENCH_SLOW_TESTS === "1" ? {} : { skip: "slow (builds a worktree): IOBENCH_SLOW_TESTS=1 runs it (.ci/run does)" };

test("check --against HEAD: builds HEAD in a worktree, runs it interleaved with this tree, catches cpu:200us, removes the worktree", { timeout: 240_000, ...slow }, async (t) => {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  // The check's own worktrees (runner/worktree.ts makes them under iobench-against-*): others on this repository come and go meanwhile.
  const worktrees = (): string[] =>
    execFileSync("git", ["worktree", "list", "--porcelain"], { cwd: root, encoding: "utf8" })
      .split("\n")
      .filter((l) => l.startsWith("worktree ") && l.includes("iobench-against-"))
      .sort();
  let before: string[];
  try {
    before = worktrees();
  } catch {
    t.skip("not a git checkout");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-check-test-"));
  try {
    const load = ["--model", "epoll", "--threads", "1", "--connections", "16", "--duration", "0.5", "--warmup", "0.2", "--repeats", "4"];
    const o = await cli(["check", "--against", "HEAD", ...load, "--work", CHECK_INJECTED_WORK, "--threshold", CHECK_THRESHOLDS, "--out", "results"], dir);
    assert.equal(o.code, 1, `${o.stdout}\n${o.stderr}`);
    assert.match(o.stdout, /\(paired, interleaved rounds\)/);
    assert.match(o.stdout, /REGRESSED: .*cpu µs\/msg/);
    assert.match(o.stderr, /round 1\/4: HEAD[\s\S]*round 1\/4: working tree[\s\S]*round 2\/4: working tree[\s\S]*round 2\/4: HEAD/, "ABBA order");
    const c = checkJson(o, dir);
    assert.equal(c.mode, "against");
    assert.ok(fs.existsSync(path.resolve(dir, c.baseline.file)) && fs.existsSync(path.resolve(dir, c.candidate.file)));
    assert.deepEqual(worktrees(), before, "the temporary worktree is gone");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
