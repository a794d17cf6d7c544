import { after, test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Worker } from "node:worker_threads";
import { createResultsDir, timestampName, writeFileAtomic } from "../reports/results-file.js";
import { RESULTS_SCHEMA, RESULTS_VERSION, SEED_LOAD } from "../reports/schema.js";
import type { BenchOptions, ResultsFile } from "../reports/schema.js";
import { collectEnvironment } from "../runner/environment.js";
import { planSweep, runSweep } from "../runner/sweep.js";

const made: string[] = [];
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the file's tests end. */
function tmpDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-results-test-"));
  made.push(dir);
  return dir;
}

test("results directories are named by UTC second and never reused", () => {
  const date = new Date(Date.UTC(2026, 10, 23, 9, 41, 7, 555));
  assert.equal(timestampName(date), "2026-11-23T09-41-07Z");
  const root = path.join(tmpDir(), "nested", "root");
  const a = createResultsDir(root, date);
  const b = createResultsDir(root, date);
  assert.equal(path.basename(a), "2026-11-23T09-41-07Z");
  assert.equal(path.basename(b), "2026-11-23T09-41-07Z-2");
  assert.ok(fs.statSync(a).isDirectory() && fs.statSync(b).isDirectory());
});

test("a reader never sees a partial results file while it is rewritten", { timeout: 30_000 }, async () => {
  const dir = tmpDir();
  const file = path.join(dir, "results.json");
  // Each version is ~2 MB, so a non-atomic write would be caught half done.
  const version = (n: number): string => JSON.stringify({ n, pad: "x".repeat(2_000_000 + (n % 7) * 1000) });
  writeFileAtomic(file, version(0));
  const stop = new SharedArrayBuffer(4);
  const reader = new Worker(
    `
    const { workerData, parentPort } = require("node:worker_threads");
    const fs = require("node:fs");
    const flag = new Int32Array(workerData.stop);
    let reads = 0, bad = 0, last = -1, backwards = 0;
    while (Atomics.load(flag, 0) === 0) {
      const text = fs.readFileSync(workerData.file, "utf8");
      reads++;
      try {
        const n = JSON.parse(text).n;
        if (n < last) backwards++;
        last = n;
      } catch { bad++; }
    }
    parentPort.postMessage({ reads, bad, backwards, last });
    `,
    { eval: true, workerData: { file, stop } },
  );
  const result = new Promise<{ reads: number; bad: number; backwards: number; last: number }>((resolve, reject) => {
    reader.once("message", resolve);
    reader.once("error", reject);
  });
  const WRITES = 60;
  for (let n = 1; n <= WRITES; n++) {
    writeFileAtomic(file, version(n));
    await new Promise((r) => setImmediate(r));
  }
  Atomics.store(new Int32Array(stop), 0, 1);
  const r = await result;
  assert.ok(r.reads > 0, "the reader read");
  assert.equal(r.bad, 0, `${r.bad} of ${r.reads} reads saw a partial file`);
  assert.equal(r.backwards, 0);
  assert.equal(JSON.parse(fs.readFileSync(file, "utf8")).n, WRITES);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f !== "results.json"),
    [],
    "no temporary file is left behind",
  );
});

function options(out: string): BenchOptions {
  return {
    models: ["external"],
    threads: [],
    connections: [3, 5],
    sizesBytes: [64],
    durationSec: 1,
    warmupSec: 0,
    repeats: 2,
    clientThreads: 1,
    clientEngine: "epoll",
    timeoutMs: 1000,
    target: "127.0.0.1:9",
    // No such process: every run fails at once, which is all this test needs.
    serverPid: 4_194_000,
    serverCpus: null,
    clientCpus: null,
    host: "127.0.0.1",
    bufferBytes: 65536,
    accept: "poll",
    out,
    json: false,
    load: { ...SEED_LOAD },
    scenario: null,
  };
}

test("results.json is rewritten after every run, keeping the earlier ones, with every schema field", { timeout: 30_000 }, async () => {
  const out = tmpDir();
  const input = {
    options: options(out),
    target: { host: "127.0.0.1", port: 9 },
    usableCores: 2,
    startTimeoutMs: 5000,
    connectConcurrency: 8,
  };
  const plans = planSweep(input);
  // Round-robin: round 1 runs every configuration, then round 2.
  assert.deepEqual(
    plans.map((p) => [p.config.repeat, p.config.connections]),
    [[1, 3], [1, 5], [2, 3], [2, 5]],
  );
  const seen: number[] = [];
  let dirSeen = "";
  const outcome = await runSweep(
    input,
    plans,
    { environment: collectEnvironment(null), toolVersion: "9.9.9" },
    {
      onRunEnd: () => {
        // The file on disk already holds this run and every earlier one.
        dirSeen = fs.readdirSync(out)[0]!;
        const onDisk = JSON.parse(fs.readFileSync(path.join(out, dirSeen, "results.json"), "utf8")) as ResultsFile;
        seen.push(onDisk.runs.length);
        assert.equal(onDisk.complete, false);
      },
    },
  );
  assert.deepEqual(seen, [1, 2, 3, 4]);
  assert.equal(outcome.file, path.join(out, dirSeen, "results.json"));
  assert.equal(outcome.interrupted, false);

  const r = JSON.parse(fs.readFileSync(outcome.file, "utf8")) as ResultsFile;
  assert.equal(r.schema, RESULTS_SCHEMA);
  assert.equal(r.version, RESULTS_VERSION);
  assert.equal(r.complete, true);
  assert.ok(!Number.isNaN(Date.parse(r.createdAt)) && !Number.isNaN(Date.parse(r.updatedAt)));
  assert.deepEqual(r.tool, { name: "iobench", version: "9.9.9" });
  for (const key of ["cpuModel", "cores", "usableCores", "memoryBytes", "kernel", "node", "platform", "gitCommit", "gitDirty", "nofileLimit", "clockTicksPerSec"]) {
    assert.ok(key in r.environment, `environment.${key}`);
  }
  assert.deepEqual(r.options, options(out));
  assert.equal(r.runs.length, 4);
  for (const [i, run] of r.runs.entries()) {
    assert.equal(run.status, "failed");
    assert.equal(run.config.index, i);
    assert.equal(run.config.target, "127.0.0.1:9");
    assert.equal(run.figures, null);
    if (run.status === "failed") {
      assert.equal(run.failure, "server-start");
      assert.match(run.error, /4194000.*does not exist/);
    }
    for (const key of ["repeat", "model", "threads", "connections", "sizeBytes", "clientThreads", "durationSec", "warmupSec", "timeoutMs", "host", "port", "pinning"]) {
      assert.ok(key in run.config, `config.${key}`);
    }
  }
});

test("an aborted sweep stops, says so and keeps complete: false", { timeout: 30_000 }, async () => {
  const out = tmpDir();
  const input = { options: options(out), target: { host: "127.0.0.1", port: 9 }, usableCores: 2, startTimeoutMs: 5000, connectConcurrency: 8 };
  const controller = new AbortController();
  const outcome = await runSweep(input, planSweep(input), { environment: collectEnvironment(null), toolVersion: "0" }, {
    signal: controller.signal,
    onRunEnd: (_run, i) => {
      if (i === 1) controller.abort();
    },
  });
  assert.equal(outcome.interrupted, true);
  const r = JSON.parse(fs.readFileSync(outcome.file, "utf8")) as ResultsFile;
  assert.equal(r.complete, false);
  assert.equal(r.runs.length, 2);
});
