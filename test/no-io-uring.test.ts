/**
 * Where io_uring is forbidden (Docker's default seccomp profile, or
 * kernel.io_uring_disabled), the io_uring models must refuse to start with
 * one line saying so, and the other models must still run. The test
 * forbids it for real: test/fixtures/no-io-uring.c runs iobench under a
 * seccomp filter that fails io_uring_setup with EPERM.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ResultsFile } from "../reports/schema.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const MAIN = path.join(ROOT, "dist/cli/main.js");

function buildWrapper(dir: string): string {
  const bin = path.join(dir, "no-io-uring");
  execFileSync("cc", ["-O2", "-Wall", "-o", bin, path.join(ROOT, "test/fixtures/no-io-uring.c")], { stdio: "inherit" });
  return bin;
}

test("without io_uring, iocp and completion-routine refuse in one line and epoll still runs", { timeout: 60_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "iobench-no-uring-"));
  const wrapper = buildWrapper(dir);
  const args = ["bench", "--model", "iocp,completion-routine,epoll", "--threads", "1", "--connections", "8", "--duration", "0.5", "--warmup", "0.2", "--repeats", "1", "--out", dir];
  const r = spawnSync(wrapper, [process.execPath, MAIN, ...args], { encoding: "utf8", timeout: 50_000 });
  assert.equal(r.status, 1, `exit status; stderr:\n${r.stderr}`);
  for (const model of ["iocp", "completion-routine"]) {
    assert.match(r.stderr, new RegExp(`^.*${model} needs io_uring, which this machine does not allow \\(io_uring_setup: EPERM\\)$`, "m"));
  }
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
  const m = /^iobench: results in (.+)$/m.exec(r.stderr);
  assert.ok(m);
  const results = JSON.parse(fs.readFileSync(m[1]!, "utf8")) as ResultsFile;
  const byModel = new Map(results.runs.map((run) => [run.config.model, run]));
  assert.equal(byModel.get("iocp")?.status, "failed");
  assert.equal(byModel.get("completion-routine")?.status, "failed");
  const epoll = byModel.get("epoll");
  assert.equal(epoll?.status, "ok");
  assert.ok(epoll.figures !== null && epoll.figures.messages > 0, "epoll exchanged messages");
  assert.equal(epoll.config.clientEngine, "epoll", "the client's default engine falls back to epoll");

  const uring = spawnSync(wrapper, [process.execPath, MAIN, ...args.slice(0, 2), "epoll", ...args.slice(3), "--client-engine", "uring"], { encoding: "utf8", timeout: 20_000 });
  assert.equal(uring.status, 2, `exit status; stderr:\n${uring.stderr}`);
  assert.equal(uring.stderr.trim().split("\n").length, 1, `one line:\n${uring.stderr}`);
  assert.match(uring.stderr, /--client-engine uring needs io_uring, which this machine does not allow \(io_uring_setup: EPERM\)/);

  const serve = spawnSync(wrapper, [process.execPath, MAIN, "serve", "--model", "iocp"], { encoding: "utf8", timeout: 20_000 });
  assert.notEqual(serve.status, 0);
  assert.equal(serve.stderr.trim().split("\n").length, 1, `one line:\n${serve.stderr}`);
  assert.match(serve.stderr, /iocp needs io_uring/);
});
