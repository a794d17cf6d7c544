/**
 * Nothing iobench starts outlives it, even a kill -9 (which runs no
 * clean-up): its server, wrk, clinic and the server clinic runs all die
 * with it (native/guard.ts). And why children are started from the main
 * thread only: the kernel's parent-death signal fires when the forking
 * *thread* exits.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { Worker } from "node:worker_threads";
import { GUARD, spawnGuarded } from "../native/guard.js";
import { wrkInstalled } from "../clients/wrk-client.js";
import { MAIN } from "./fixtures/cli.js";
import { unlessInstalled } from "./fixtures/optional.js";
import { tmpDirs } from "./fixtures/tmp.js";
import { alive, descendants, until } from "./fixtures/procs.js";

const tmpDir = tmpDirs("iobench-pdeath-");

/**
 * Starts `iobench bench args` (a long run), waits until processes matching
 * every pattern run below it, kill -9s it, and checks that every one of its
 * descendants is gone within a few seconds.
 */
async function killBenchAndCheck(args: string[], expect: RegExp[], startMs = 30_000): Promise<void> {
  const out = tmpDir();
  const bench = spawn(process.execPath, [MAIN, ...args, "--repeats", "1", "--duration", "600", "--warmup", "0", "--out", out], { stdio: "ignore" });
  let below: { pid: number; cmd: string }[] = [];
  try {
    await until(`${expect.join(", ")} under iobench`, () => {
      below = descendants(bench.pid!);
      return expect.every((re) => below.some((d) => re.test(d.cmd)));
    }, startMs);
  } catch (err) {
    bench.kill("SIGKILL");
    throw err;
  }
  // Let the run get going: a server killed before it has said "listening" would die anyway (writing to a pipe with no reader).
  await new Promise((r) => setTimeout(r, 2_000));
  below = descendants(bench.pid!);
  assert.ok(expect.every((re) => below.some((d) => re.test(d.cmd))), "still running before the kill");
  const exited = new Promise((r) => bench.once("exit", r));
  process.kill(bench.pid!, "SIGKILL");
  await exited;
  await until(`${below.map((d) => d.cmd.slice(0, 60)).join("; ")} to die with iobench`, () => below.every((d) => !alive(d.pid)), 5_000);
}

test("kill -9 of bench: its server dies with it", { timeout: 60_000 }, async () => {
  await killBenchAndCheck(["--model", "epoll", "--threads", "1", "--connections", "2"], [/servers\/main\.js/]);
});

test("kill -9 of bench: its server and wrk die with it", { timeout: 60_000, skip: wrkInstalled() ? false : "wrk is not installed" }, async () => {
  await killBenchAndCheck(["--model", "epoll", "--threads", "1", "--connections", "2", "--protocol", "http", "--client", "wrk"], [/servers\/main\.js/, /^wrk /]);
});

test("kill -9 of bench --profile: clinic and the server it runs die with it", { timeout: 120_000, skip: process.env.IOBENCH_SLOW_TESTS === "1" ? unlessInstalled("clinic") : "slow (clinic): set IOBENCH_SLOW_TESTS=1" }, async () => {
  await killBenchAndCheck(["--model", "epoll", "--threads", "1", "--connections", "2", "--profile", "doctor"], [/clinic/, /servers\/main\.js/], 90_000);
});

test("the guard: a child dies with this process's forking thread; so a worker thread's child would die with the worker, and guarded spawns refuse to start from one", { timeout: 30_000 }, async () => {
  // Started from a worker thread straight through the guard binary: the worker's exit kills it although this process lives on.
  const worker = new Worker(
    `const { spawn } = require("node:child_process"); const { workerData, parentPort } = require("node:worker_threads");
     const c = spawn(workerData.guard, [String(process.pid), "sleep", "30"], { stdio: "ignore" });
     c.unref(); setTimeout(() => parentPort.postMessage(c.pid), 300);
     setInterval(() => {}, 60_000); // the worker lives until terminate(): left idle it would exit, and kill the child, before the check below`,
    { eval: true, workerData: { guard: GUARD } },
  );
  const pid = await new Promise<number>((resolve) => worker.once("message", resolve));
  assert.ok(alive(pid), "the child runs while its worker thread lives");
  await worker.terminate();
  await until("the worker's child to die with the worker thread", () => !alive(pid), 5_000);

  // Which is why spawnGuarded refuses a worker thread.
  const refused = new Worker(
    `import("${new URL("../native/guard.js", import.meta.url).href}").then((g) => { try { g.spawnGuarded("sleep", ["1"], {}); postMessage("started"); } catch (e) { require("node:worker_threads").parentPort.postMessage(String(e.message)); } });`,
    { eval: true },
  );
  const message = await new Promise<string>((resolve) => refused.once("message", resolve));
  await refused.terminate();
  assert.match(message, /must be started from the main thread/);

  // From the main thread the child lives as long as this process does, and a guard whose parent is not the given pid runs nothing.
  const child = spawnGuarded("sleep", ["30"], { stdio: "ignore" });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(alive(child.pid!));
  child.kill("SIGKILL");
  const orphan = spawn(GUARD, ["1", "sleep", "30"], { stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => orphan.once("exit", resolve));
  assert.equal(code, 125, "the guard refuses when its parent is not the pid it was given");
});
