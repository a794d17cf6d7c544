/**
 * A run cannot hang the sweep or pass for a good one when its server
 * stopped answering: a server frozen with SIGSTOP, or one that answers
 * nothing while echoes time out, is a failed run (and bench exits
 * non-zero); a server that only pauses shorter than that is not; and the
 * watchdog ends a run that outlives warm-up + duration + its grace,
 * recording what it measured, while the sweep goes on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { FailedRun, ResultsFile, Run, RunConfig } from "../reports/schema.js";
import { readResults } from "../reports/results-file.js";
import { collectEnvironment } from "../runner/environment.js";
import { runGraceMs, runOnce, type RunPlan } from "../runner/run.js";
import { planSweep, runSweep, type SweepInput } from "../runner/sweep.js";
import { SEED_LOAD, type BenchOptions } from "../reports/schema.js";
import { startFixtureServer, type FixtureOptions } from "./fixtures/echo-server.js";
import { MAIN } from "./fixtures/cli.js";
import { tmpDirs } from "./fixtures/tmp.js";
import { alive, descendants, until } from "./fixtures/procs.js";

const tmpDir = tmpDirs("iobench-watch-");

function failed(run: Run | undefined): FailedRun {
  assert.ok(run !== undefined && run.status === "failed", `a failed run: ${JSON.stringify(run && { status: run.status })}`);
  return run;
}

test("a server frozen with SIGSTOP mid-run: a failed run (server-unresponsive) with what it measured, exit 1, and the server is gone", { timeout: 60_000 }, async () => {
  const out = tmpDir();
  const bench = spawn(process.execPath, [MAIN, "--model", "epoll", "--threads", "1", "--connections", "8", "--duration", "6", "--warmup", "0", "--repeats", "1", "--out", out], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  bench.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = new Promise<number | null>((resolve) => bench.once("close", resolve));
  let server = 0;
  await until("the server", () => (server = descendants(bench.pid!).find((d) => d.cmd.includes("servers/main.js"))?.pid ?? 0) !== 0, 20_000);
  await new Promise((r) => setTimeout(r, 1_500));
  process.kill(server, "SIGSTOP");
  const t0 = Date.now();
  assert.equal(await code, 1, stderr);
  assert.ok(Date.now() - t0 < 5_000, "the run ended as soon as the freeze was seen, not at the window's end");
  assert.match(stderr, /iobench: 1 of 1 run\(s\) failed \(first: server process \d+ was stopped \(SIGSTOP or a debugger\)/);
  const results = readResults(/results in (.+results\.json)/.exec(stderr)![1]!);
  const run = failed(results.runs[0]);
  assert.equal(run.failure, "server-unresponsive");
  assert.ok(run.figures !== null && run.figures.messages > 0, "what was measured before the freeze is kept");
  await until("the frozen server to be gone", () => !alive(server), 10_000);
});

/** Runs one configuration against a fixture server (external, no pid). */
async function againstFixture(fixture: FixtureOptions, timeoutMs: number, durationSec: number): Promise<Run> {
  const server = await startFixtureServer(fixture);
  try {
    const config: RunConfig = {
      index: 0, repeat: 1, model: "external", threads: null, connections: 4, sizeBytes: 64, clientThreads: 1,
      durationSec, warmupSec: 0, timeoutMs, host: "127.0.0.1", port: server.port, bufferBytes: null, accept: null,
      pinning: { serverCpus: null, clientCpus: null },
    };
    return await runOnce({ config, server: { kind: "external", host: "127.0.0.1", port: server.port, pid: null }, clientCpus: null, connectConcurrency: 8 });
  } finally {
    await server.close();
  }
}

test("a server that answers nothing while echoes time out is unresponsive; one that pauses shorter than that is not", { timeout: 60_000 }, async () => {
  const silent = failed(await againstFixture({ mode: "stalling" }, 500, 5));
  assert.equal(silent.failure, "server-unresponsive");
  assert.match(silent.error, /^server answered nothing for \d+\.\d s while \d+ echo\(es\) or connect\(s\) failed/);

  const pausing = await againstFixture({ mode: "pausing", pauseMs: 600, pauseEveryMs: 900 }, 300, 3);
  assert.equal(pausing.status, "ok", "pauses of 0.6 s are errors (timeouts), not a server that stopped answering");
  assert.ok(pausing.figures !== null && pausing.figures.errors.timeout > 0, "the pauses did cost timeouts");
});

function options(out: string, durationSec: number): BenchOptions {
  return {
    models: ["epoll"], threads: [1], connections: [4], sizesBytes: [64], durationSec, warmupSec: 0, repeats: 2, clientThreads: 1, clientEngine: null,
    timeoutMs: 1000, target: null, serverPid: null, serverCpus: null, clientCpus: null, host: "127.0.0.1", bufferBytes: 65536, accept: "poll",
    work: null, out, json: false, load: { ...SEED_LOAD }, scenario: null,
  };
}

test("the watchdog: a run outliving warm-up + duration + grace is ended and recorded as failed with what it measured; the sweep goes on", { timeout: 60_000 }, async () => {
  const out = tmpDir();
  const input: SweepInput = { options: options(out, 10), target: null, usableCores: 2, startTimeoutMs: 15_000, connectConcurrency: 8 };
  const plans: RunPlan[] = planSweep(input);
  assert.equal(runGraceMs(plans[0]!), 15_000 + 15_000 + 5_000 + 10_000, "the stated grace: start + hand-over + stop + slack");
  // A limit of 3 s for 10 s windows (a grace of -7 s): each run is ended 3 s after it started.
  const t0 = Date.now();
  const outcome = await runSweep(input, plans.map((p) => ({ ...p, graceMs: -7_000 })), { environment: collectEnvironment(null), toolVersion: "test" });
  assert.ok(Date.now() - t0 < 2 * 6_000, `each run ended at its limit, not after its window (${Date.now() - t0} ms)`);
  const results: ResultsFile = readResults(outcome.file);
  assert.equal(results.complete, true, "the sweep went on to its end");
  assert.equal(results.runs.length, 2);
  for (const r of results.runs) {
    const run = failed(r);
    assert.equal(run.failure, "overran");
    assert.match(run.error, /^run overran its limit of 3\.0 s \(warm-up \+ duration \+ grace\) after [12]\.\d s of the window: ended$/);
    assert.ok(run.figures !== null && run.figures.messages > 0, "what it measured is kept");
    assert.ok(run.config.serverPid !== undefined && !alive(run.config.serverPid), "its server was stopped");
  }
});
