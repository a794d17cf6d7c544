import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ResultsFile } from "../reports/schema.js";
import { startFixtureServer } from "./fixtures/echo-server.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts `iobench bench ...` writing under a fresh results root; `during` may act on the running process. */
async function bench(args: string[], during?: (child: ChildProcess) => Promise<void>): Promise<Outcome & { results: ResultsFile }> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-run-test-"));
  const child = spawn(process.execPath, [MAIN, "bench", ...args, "--out", out], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const killer = setTimeout(() => child.kill("SIGKILL"), 40_000);
  try {
    if (during) await during(child);
    const code = await closed;
    const m = /^iobench: results in (.+)$/m.exec(stderr);
    assert.ok(m, `results path on stderr:\n${stderr}`);
    assert.ok(m[1]!.startsWith(out));
    const results = JSON.parse(fs.readFileSync(m[1]!, "utf8")) as ResultsFile;
    return { code, stdout, stderr, results };
  } finally {
    clearTimeout(killer);
    child.kill("SIGKILL");
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** Pids of the direct children of a process. */
/** The model server child of `pid`; other children (e.g. `git` asked for the commit) are short-lived and not it. */
function serverChildOf(pid: number): number | undefined {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, "utf8").trim().split(/\s+/))
      .filter((s) => s !== "")
      .map(Number)
      .find((child) => fs.readFileSync(`/proc/${child}/cmdline`, "utf8").includes("servers/main.js"));
  } catch {
    return undefined;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("bench node: results.json holds a measured run without mismatches, the table is on stdout", { timeout: 45_000 }, async () => {
  const o = await bench(["--model", "node", "--threads", "2", "--connections", "50", "--duration", "1", "--warmup", "0.5", "--repeats", "1"]);
  assert.equal(o.code, 0, o.stderr);
  const run = o.results.runs[0]!;
  assert.equal(o.results.runs.length, 1);
  assert.equal(o.results.complete, true);
  assert.equal(run.status, "ok");
  assert.equal(run.config.model, "node");
  assert.equal(run.config.threads, 2);
  assert.equal(run.config.connections, 50);
  const f = run.figures!;
  assert.ok(f.messages > 0, "messages were echoed");
  assert.ok(f.messagesPerSec > 0);
  assert.equal(f.errorsTotal.mismatch, 0);
  assert.ok(f.latencyUs !== null && f.latencyUs.p50 > 0);
  assert.ok(f.serverCpuSeconds !== null && f.serverCpuSeconds > 0, "the server's CPU was read from /proc");
  assert.ok(f.serverRssBytes !== null && f.serverRssBytes > 1_000_000);
  assert.ok(f.serverContextSwitches !== null);
  assert.equal(typeof run.config.serverPid, "number");
  assert.deepEqual(run.serverExit, { code: 0, signal: null, killed: false });
  assert.match(o.stdout, /^1\s+node\s+2\s+50\s+64\s+[\d,]+/m, o.stdout);
  assert.doesNotMatch(o.stdout, /iobench: /, "nothing but the table on stdout");
});

test("--target at a corrupting server: mismatches are counted and shown loudly", { timeout: 45_000 }, async () => {
  const fixture = await startFixtureServer({ mode: "corrupting", every: 5 });
  try {
    const o = await bench(["--target", `127.0.0.1:${fixture.port}`, "--connections", "8", "--duration", "1", "--warmup", "0.2", "--repeats", "1"]);
    const run = o.results.runs[0]!;
    assert.equal(run.config.model, "external");
    assert.equal(run.config.target, `127.0.0.1:${fixture.port}`);
    const f = run.figures!;
    assert.ok(f.errorsTotal.mismatch > 0, `mismatches counted: ${JSON.stringify(f.errorsTotal)}`);
    assert.ok(f.flags.includes("MISMATCH"));
    assert.equal(f.serverCpuSeconds, null, "no server figures without --server-pid");
    assert.match(o.stdout, /!! .*MISMATCH/);
    assert.match(o.stdout, /^MISMATCH run 1 .*came back different/m);
    assert.equal(o.code, 1, "a corrupting server fails the command");
    assert.match(o.stderr, /^iobench: 1 run\(s\) got corrupted echoes \(MISMATCH\)$/m);
    assert.ok(fixture.stats.corruptedChunks > 0);
  } finally {
    await fixture.close();
  }
});

test("a server killed mid-run is a failed run with partial figures, and the command fails", { timeout: 45_000 }, async () => {
  const o = await bench(["--model", "node", "--threads", "1", "--connections", "10", "--duration", "4", "--warmup", "0.3", "--repeats", "1"], async (child) => {
    let server: number | undefined;
    for (let i = 0; i < 100 && server === undefined; i++) {
      await sleep(50);
      server = serverChildOf(child.pid!);
    }
    assert.ok(server !== undefined, "the server process appeared");
    await sleep(1500); // well inside the window
    process.kill(server, "SIGKILL");
  });
  assert.equal(o.code, 1);
  const run = o.results.runs[0]!;
  assert.equal(run.status, "failed");
  if (run.status !== "failed") return;
  assert.equal(run.failure, "server-died");
  assert.match(run.error, /server died mid-run \(killed by SIGKILL\)/);
  assert.ok(run.figures !== null && run.figures.messages > 0, "what was measured before the death is kept");
  assert.equal(run.serverExit?.signal, "SIGKILL");
  assert.match(o.stderr, /^iobench: 1 of 1 run\(s\) failed \(first: server died mid-run/m);
  assert.doesNotMatch(o.stderr, /^\s+at /m);
});

test("Ctrl-C stops the sweep, keeps the interrupted run and exits 130", { timeout: 45_000 }, async () => {
  const o = await bench(["--model", "node", "--threads", "1", "--connections", "10", "--duration", "5", "--warmup", "0.3", "--repeats", "3"], async (child) => {
    await sleep(2000);
    child.kill("SIGINT");
  });
  assert.equal(o.code, 130, o.stderr);
  assert.equal(o.results.complete, false);
  assert.equal(o.results.runs.length, 1);
  const run = o.results.runs[0]!;
  assert.equal(run.status, "failed");
  if (run.status === "failed") assert.equal(run.failure, "interrupted");
  assert.match(o.stderr, /iobench: interrupted: 1 of 3 run\(s\) recorded/);
});
