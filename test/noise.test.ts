/**
 * The noise rules on a real run: a CPU hog started on the client's CPU
 * while the runs go gets them flagged (CLIENT-STARVED or MACHINE-BUSY),
 * and the claims leave them out, naming them.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { judgeClaims } from "../reports/claims.js";
import { BUSY_THRESHOLD } from "../reports/rules.js";
import type { ResultsFile } from "../reports/schema.js";
import { summariseRuns } from "../reports/summary.js";
import { allowedCpus } from "../runner/proc.js";
import { cli } from "./fixtures/cli.js";

const cpus = allowedCpus();
const twoCpus = cpus.length >= 2 ? {} : { skip: "needs 2 usable CPUs: one for the server, one for the client and the hog" };

test("a CPU hog on the client's CPU gets the runs flagged, and the claims do not use them", { timeout: 90_000, ...twoCpus }, async () => {
  const [clientCpu, serverCpu] = [cpus[0]!, cpus[1]!];
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-noise-"));
  // A busy loop pinned where the client's thread is: the client wants its CPU and gets half of it at best.
  const hog = spawn("taskset", ["-c", String(clientCpu), process.execPath, "-e", "for (;;) {}"], { stdio: "ignore" });
  try {
    const args = ["bench", "--model", "iocp", "--threads", "1,2", "--connections", "64", "--duration", "1.5", "--warmup", "0.5", "--repeats", "1"];
    const run = await cli([...args, "--server-cpus", String(serverCpu), "--client-cpus", String(clientCpu), "--json", "--out", out], { timeoutMs: 80_000 });
    assert.equal(run.code, 0, run.stderr);
    const results = JSON.parse(run.stdout) as ResultsFile;
    assert.equal(results.runs.length, 2);
    for (const r of results.runs) {
      const f = r.figures!;
      const noisy = f.flags.filter((x) => x === "CLIENT-STARVED" || x === "MACHINE-BUSY");
      assert.ok(noisy.length > 0, `run ${r.config.index + 1} not flagged: wait ${f.clientRunQueueWaitMaxShare} (${f.clientRunQueueWaitPerSliceUs} µs/slice), others ${f.otherCpuShare}`);
      assert.ok((f.otherCpuShare ?? 0) >= BUSY_THRESHOLD, `the hog's share of the run's CPUs shows: ${f.otherCpuShare}`);
    }
    const claim2 = judgeClaims(results, summariseRuns(results))[1]!;
    assert.equal(claim2.verdict, "inconclusive");
    assert.match(claim2.measured.join("\n"), /left out: run 1 [A-Z-]*(CLIENT-STARVED|MACHINE-BUSY)/);
  } finally {
    hog.kill("SIGKILL");
    fs.rmSync(out, { recursive: true, force: true });
  }
});
