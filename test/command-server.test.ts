/**
 * Command models (runner/command-server.ts, native/tree.c): a shell wrapper
 * does not hide the real server from the figures, a process that ends
 * inside the window still counts, a command that never listens is one
 * line, a server that ignores SIGTERM is killed and said to be, and nothing
 * of the tree outlives iobench, even when iobench is killed with SIGKILL.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import { session } from "../clients/conform/net.js";
import { CommandServer, type CommandSpec } from "../runner/command-server.js";
import { processExists, readProcess } from "../runner/proc.js";
import { readTree, treePids } from "../runner/process-tree.js";
import { ROOT } from "./conformance/server.js";

const C_ECHO = path.join(ROOT, "examples/bin/c-echo");

before(() => execFileSync("make", ["-s", "-C", path.join(ROOT, "examples")], { stdio: "inherit" }));

function start(command: string, startTimeoutMs = 10_000): Promise<CommandServer> {
  const spec: CommandSpec = { name: "t", command };
  return CommandServer.start({ spec, host: "127.0.0.1", threads: 2, cpus: null, startTimeoutMs });
}

/** Own CPU ticks (utime + stime) of one process. */
function ownTicks(pid: number): number {
  return readProcess(pid).cpuTicks;
}

async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return done();
}

describe("command models", { timeout: 60_000 }, () => {
  test("behind a shell wrapper, the server's CPU and threads are the tree's: the wrapper hides nothing", async () => {
    // sh stays the parent of c-echo (a command follows it), itself below iobench-tree's own sh -c.
    const server = await start(`sh -c '"$0" --port "$1" --threads "$2"; echo never' ${C_ECHO} {port} {threads}`);
    try {
      const pids = server.tree();
      assert.ok(pids.length >= 3, `the tree: ${pids.join(" ")}`);
      const echo = pids.find((p) => execFileSync("cat", [`/proc/${p}/comm`]).toString().trim() === "c-echo");
      assert.ok(echo !== undefined && echo !== pids[0] && !server.tree().slice(0, 2).includes(echo), "c-echo is below the wrapper, not the root");
      const before = server.readProcess();
      const wrappersBefore = pids.filter((p) => p !== echo).reduce((s, p) => s + ownTicks(p), 0);
      const target = { host: "127.0.0.1", port: server.port };
      await Promise.all(Array.from({ length: 16 }, (_, i) => session(target, 2000, 64, 10_000, i)));
      const after = server.readProcess();
      const wrappers = pids.filter((p) => p !== echo).reduce((s, p) => s + ownTicks(p), 0) - wrappersBefore;
      const tree = after.cpuTicks - before.cpuTicks;
      assert.ok(tree >= 5, `the tree used ${tree} ticks for 32,000 echoes`);
      assert.ok(wrappers <= 1, `the wrappers used ${wrappers} ticks: the CPU was c-echo's`);
      assert.ok(after.threads >= pids.length + 2, `c-echo's 2 threads and main are counted: ${after.threads}`);
    } finally {
      await server.stop();
    }
  });

  test("a process of the tree that ends inside the window still counts (in its parent's children time)", async () => {
    const burn = `${JSON.stringify(process.execPath)} -e 'const t = Date.now(); while (Date.now() - t < 600);'`;
    const server = await start(`sh -c 'sleep 0.3; ${burn.replaceAll("'", "'\\''")}; sleep 30' & exec ${C_ECHO} --port {port}`);
    try {
      const before = readTree(server.pid);
      await new Promise((r) => setTimeout(r, 2_000)); // the burner starts after 0.3 s and ends ~0.6 s later
      const after = readTree(server.pid);
      const comms = treePids(server.pid).map((p) => execFileSync("cat", [`/proc/${p}/comm`]).toString().trim());
      assert.ok(!comms.includes("node"), `the burner still runs: ${comms.join(" ")}`);
      assert.ok(after.cpuTicks - before.cpuTicks >= 20, `the tree's CPU grew by ${after.cpuTicks - before.cpuTicks} ticks while a child burned ~600 ms and exited`);
    } finally {
      await server.stop();
    }
  });

  test("--server-cpus pins the whole tree: the root sets its affinity before the command starts", async () => {
    const spec: CommandSpec = { name: "t", command: `sh -c '"$0" --port "$1"; true' ${C_ECHO} {port}` };
    const server = await CommandServer.start({ spec, host: "127.0.0.1", threads: 1, cpus: [0], startTimeoutMs: 10_000 });
    try {
      for (const pid of server.tree()) {
        const allowed = /^Cpus_allowed_list:\s*(\S+)/m.exec(execFileSync("cat", [`/proc/${pid}/status`]).toString())?.[1];
        assert.equal(allowed, "0", `pid ${pid}`);
      }
    } finally {
      await server.stop();
    }
  });

  test("a command that never listens: one line naming it and its command", async () => {
    await assert.rejects(start("sleep 30", 1000), /^ServerStartError: command model cmd:t did not listen on 127\.0\.0\.1:\d+ within 1 s \(sleep 30\)$/);
  });

  test("a server that ignores SIGTERM is killed after the grace period, and reported killed; its whole tree is gone", async () => {
    const server = await start(`trap '' TERM; sleep 300 & exec ${C_ECHO} --port {port}`);
    const pids = server.tree();
    const exit = await server.stop(500);
    assert.equal(exit.killed, true);
    assert.ok(await until(() => pids.every((p) => !processExists(p)), 2_000), `still alive: ${pids.filter(processExists).join(" ")}`);
  });

  test("SIGKILL of iobench takes the whole tree with it, a process that left the group included", async () => {
    const script = `
      import { CommandServer } from ${JSON.stringify(path.join(ROOT, "dist/runner/command-server.js"))};
      const s = await CommandServer.start({ spec: { name: "t", command: "setsid sleep 300 & sleep 300 & exec ${C_ECHO} --port {port}" }, host: "127.0.0.1", threads: 1, cpus: null, startTimeoutMs: 10000 });
      await new Promise((r) => setTimeout(r, 200));
      console.log(JSON.stringify(s.tree()));
      setInterval(() => undefined, 1000);`;
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
    const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once("line", resolve));
    const pids = JSON.parse(line) as number[];
    assert.ok(pids.length >= 4, `the tree: ${line}`);
    child.kill("SIGKILL");
    assert.ok(await until(() => pids.every((p) => !processExists(p)), 3_000), `still alive after iobench's SIGKILL: ${pids.filter(processExists).join(" ")}`);
  });
});
