import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defaultThreads } from "../cli/bench-options.js";

const MAIN = fileURLToPath(new URL("../cli/main.js", import.meta.url));

test("the default sweep covers 1, 2, 4 threads and the CPU count and twice it", () => {
  assert.deepEqual(defaultThreads(2), [1, 2, 4]);
  assert.deepEqual(defaultThreads(1), [1, 2, 4]);
  assert.deepEqual(defaultThreads(8), [1, 2, 4, 8, 16]);
});

test("bench writes the report beside results.json and prints its path", { timeout: 60_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-bench-report-"));
  try {
    const args = ["bench", "--model", "epoll", "--threads", "1", "--connections", "8", "--duration", "0.5", "--warmup", "0", "--repeats", "1", "--out", out];
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const killer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    clearTimeout(killer);
    assert.equal(code, 0, stderr);
    const m = /^iobench: report in (.+)$/m.exec(stderr);
    assert.ok(m, stderr);
    const dir = path.dirname(m[1]!);
    assert.equal(path.dirname(dir), out);
    for (const f of ["results.json", "report.html", "report.md", "results.csv"]) assert.ok(fs.existsSync(path.join(dir, f)), f);
    assert.ok(fs.readdirSync(path.join(dir, "charts")).some((f) => f.endsWith(".png")));
    assert.match(fs.readFileSync(path.join(dir, "report.html"), "utf8"), /epoll/);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});

test("an interrupted sweep keeps a report that says it is incomplete", { timeout: 60_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-bench-report-"));
  try {
    const args = ["bench", "--model", "epoll", "--threads", "1", "--connections", "8", "--duration", "1", "--warmup", "0", "--repeats", "3", "--out", out];
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let stopped = false;
    const killer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    child.stderr!.on("data", (d: Buffer) => {
      stderr += d.toString();
      // The first run is recorded (and its report written) once the second starts: stop the sweep there.
      if (!stopped && /\[2\/3\][^\n]*starting/.test(stderr)) {
        stopped = true; // once: a second Ctrl-C quits at once, without the report
        child.kill("SIGINT");
      }
    });
    const code = await new Promise<number | null>((resolve) => child.once("close", resolve));
    clearTimeout(killer);
    assert.equal(code, 130, stderr);
    const m = /^iobench: report in (.+)$/m.exec(stderr);
    assert.ok(m, stderr);
    const html = fs.readFileSync(m[1]!, "utf8");
    assert.match(html, /INCOMPLETE sweep/);
    assert.ok(fs.readdirSync(path.join(path.dirname(m[1]!), "charts")).length > 0, "the final report has its charts");
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
