/**
 * --client-processes for real: the load split over child processes against
 * a real server, their figures merged exactly into the run (counts summed,
 * histograms added bucket by bucket), each part kept in run.parts; a part
 * killed mid-run is named and the run marked PARTIAL; and the agents'
 * packages (bullmq, ioredis) are never loaded on this path: the run passes
 * with them hidden, while --agents under the same hiding fails at once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { decodeHistogram, mergeEncoded, mergeIntervals } from "../contracts/histogram.js";
import type { OkRun, ResultsFile } from "../reports/schema.js";
import { MAIN, cli } from "./fixtures/cli.js";
import { alive, descendants } from "./fixtures/procs.js";

const HIDE = fileURLToPath(new URL("./fixtures/hide-packages.js", import.meta.url));
const HIDDEN = { ...process.env, IOBENCH_HIDE_PACKAGES: "bullmq,ioredis", NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import ${HIDE}`.trim() };

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "iobench-procs-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const RUN = ["bench", "--model", "epoll", "--threads", "1", "--repeats", "1", "--warmup", "0.5", "--client-engine", "epoll", "--json"];

test("three client processes: the run is the exact merge of its parts, and nothing of the agents is loaded", async (t) => {
  const out = tmp(t);
  // Open loop at a modest rate: three processes share the one client CPU, and flat-out they would starve each other (CLIENT-STARVED, rightly).
  const r = await cli([...RUN, "--connections", "60", "--client-processes", "3", "--rate", "3000", "--duration", "1", "--out", out], { env: HIDDEN, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  const results = JSON.parse(r.stdout) as ResultsFile;
  const run = results.runs[0] as OkRun;
  assert.equal(run.status, "ok");
  assert.equal(run.config.clientProcesses, 3);
  const parts = run.parts ?? [];
  assert.deepEqual(parts.map((p) => [p.name, p.kind, p.status, p.sessions]), [["process 1", "process", "ok", 20], ["process 2", "process", "ok", 20], ["process 3", "process", "ok", 20]]);
  const figs = parts.map((p) => p.figures!);
  const f = run.figures;
  assert.ok(f.messages > 0);
  assert.equal(f.messages, figs.reduce((a, p) => a + p.messages, 0), "merged messages = the parts' sum");
  assert.equal(f.bytes, figs.reduce((a, p) => a + p.bytes, 0));
  assert.equal(f.sessionsConnected, 60);
  const merged = decodeHistogram(f.latencyHistogram.data);
  const expected = mergeEncoded(figs.map((p) => p.latencyHistogram.data));
  assert.equal(merged.totalCount, f.messages);
  assert.equal(merged.outputPercentileDistribution(1, 1), expected.outputPercentileDistribution(1, 1), "merged histogram = the parts' histograms added");
  // Per second too: the parts share one origin, the run's intervals are theirs added.
  const seconds = mergeIntervals(figs.map((p) => ({ originEpochMs: p.latencyTimeline!.originEpochMs, intervalMs: p.latencyTimeline!.intervalMs, histograms: p.latencyTimeline!.intervals.map((i) => i.data) })));
  assert.deepEqual(f.latencyTimeline!.intervals.map((i) => i.count), seconds.histograms.map((h) => decodeHistogram(h).totalCount));
  // Memory per connection, both sides, in every run.
  assert.ok((f.serverRssBytesPerSession ?? 0) > 0, `server bytes per session: ${f.serverRssBytesPerSession}`);
  assert.ok((f.clientRssBytesPerSession ?? 0) > 0, `client bytes per session: ${f.clientRssBytesPerSession}`);
  assert.deepEqual(f.flags, [], `other cpu ${f.otherCpuShare}, parts cpu ${figs.map((p) => p.clientCpuSeconds).join(",")}, ${f.serverCpuSeconds}`);
  for (const p of parts) assert.ok(p.pid !== null && !alive(p.pid), `${p.name} (pid ${p.pid}) outlived the run`);
  // The report shows the parts beside the merged run, and memory per connection.
  const dir = readdirSync(out).find((d) => d.endsWith("Z"))!;
  const md = readFileSync(path.join(out, dir, "report.md"), "utf8");
  assert.match(md, /## Parts of the load[\s\S]*\| 1 \| process 3 \| process \|/);
  assert.match(md, /srv KiB\/conn \| cli KiB\/conn/);

  // The same hiding makes --agents fail at once, in one line: the hiding works, so the run above really did without them.
  const agents = await cli(["bench", "--agents", "redis://127.0.0.1:1", "--model", "epoll", "--out", out], { env: HIDDEN });
  assert.equal(agents.code, 1);
  assert.match(agents.stderr, /^iobench: agents need the packages bullmq and ioredis.*hidden by the test/m);
});

test("a client process killed mid-run is named and the run marked PARTIAL, not merged silently", async (t) => {
  const out = tmp(t);
  const child = spawn(process.execPath, [MAIN, ...RUN, "--connections", "40", "--client-processes", "2", "--duration", "3", "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once("close", resolve));
  t.after(() => child.kill("SIGKILL"));
  // Into the window (0.5 s warm-up), then kill the second part.
  let victim: number | undefined;
  for (let i = 0; i < 100 && victim === undefined; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const parts = descendants(child.pid!).filter((d) => d.cmd.includes("parts/child.js"));
    if (parts.length === 2 && stderr.includes("measure")) victim = parts[1]!.pid;
  }
  assert.ok(victim !== undefined, `the two client processes never showed: ${stderr}`);
  process.kill(victim, "SIGKILL");
  const code = await closed;
  assert.equal(code, 1, stderr);
  const run = (JSON.parse(stdout) as ResultsFile).runs[0] as OkRun;
  assert.ok(run.figures.flags.includes("PARTIAL"), run.figures.flags.join(","));
  const killed = run.parts!.find((p) => p.status === "missing");
  assert.ok(killed !== undefined, "the killed part is in run.parts");
  assert.match(killed.problems.join(" "), /returned nothing.*SIGKILL/);
  assert.match(stderr, new RegExp(`iobench: run 1: ${killed.name}: PARTIAL: returned nothing`));
  assert.match(stderr, /1 run\(s\) are PARTIAL/);
  const survivor = run.parts!.find((p) => p.status === "ok")!;
  assert.equal(run.figures.messages, survivor.figures!.messages, "the figures are the surviving part's");
});

test("client processes die with iobench, kill -9 included", async (t) => {
  const out = tmp(t);
  const child = spawn(process.execPath, [MAIN, ...RUN, "--connections", "20", "--client-processes", "2", "--duration", "10", "--out", out], { stdio: ["ignore", "ignore", "pipe"] });
  t.after(() => child.kill("SIGKILL"));
  let parts: number[] = [];
  for (let i = 0; i < 100 && parts.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    parts = descendants(child.pid!).filter((d) => d.cmd.includes("parts/child.js")).map((d) => d.pid);
  }
  assert.equal(parts.length, 2, "the two client processes never showed");
  child.kill("SIGKILL");
  for (let i = 0; i < 40 && parts.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(parts.filter(alive), [], "a client process outlived iobench");
});
