/**
 * More sessions than one process may open: the open-file limit (20,000
 * here, not raisable) caps one client process and one server process just
 * below 20,000 connections. So: S server processes of one model share one
 * port (iobench serve --reuse-port, the kernel spreads the connections),
 * and the client is split over client processes (--client-processes, each
 * its own limit; the sessions come from several 127.0.1.x source addresses
 * once one address's ephemeral ports would run out). Paced (open loop), so
 * the figure is what it takes to hold the connections, not raw throughput.
 * Prints whether every session connected without an error, and memory per
 * connection on both sides.
 *
 * Sessions connect spread over a ramp-up (--ramp-up s), as a fleet of
 * clients would: a burst of tens of thousands of connects overflows the
 * servers' accept queues (ListenOverflows), and a connection the kernel
 * dropped that way stalls its session for seconds of SYN/ACK retries.
 *
 *   npm run bench:many-sessions -- [--connections 40000] [--servers 3] [--processes 3] [--rate 20000] [--ramp-up 10] [--model epoll]
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import type { OkRun, ResultsFile } from "../reports/schema.js";
import { readOpenFiles, readRssBytes } from "../runner/proc.js";
import { stopChild, waitForLine } from "../test/fixtures/redis.js";
import { ROOT, arg, cpuPair, pinned } from "./lib.js";

const connections = arg("connections", 40_000);
const servers = arg("servers", 3);
const processes = arg("processes", 3);
const rate = arg("rate", 20_000);
const rampUp = arg("ramp-up", 10);
const mi = process.argv.indexOf("--model");
const model = mi >= 0 ? process.argv[mi + 1]! : "epoll";

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const cpu = cpuPair();
  const port = await freePort();
  const children: ChildProcess[] = [];
  try {
    for (let i = 0; i < servers; i++) {
      const [cmd, args] = pinned(cpu.server, process.execPath, [path.join(ROOT, "dist/cli/main.js"), "serve", "--model", model, "--threads", "1", "--port", String(port), "--reuse-port"]);
      const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"] });
      children.push(child);
      await waitForLine(child, /listening on/, 15_000, `server ${i + 1}`);
    }
    const pids = children.map((c) => c.pid!);
    const idle = pids.map((p) => readRssBytes(p) ?? 0);
    let atWindow: { rss: number; files: number }[] = [];
    // Read the servers while the load holds (the window is the last part of the run).
    const warmup = 20;
    const duration = 5;
    const sampler = setTimeout(() => (atWindow = pids.map((p) => ({ rss: readRssBytes(p) ?? 0, files: readOpenFiles(p)?.count ?? 0 }))), (warmup + duration / 2) * 1000);
    const [cmd, args] = pinned(cpu.client, process.execPath, [
      path.join(ROOT, "dist/cli/main.js"), "bench", "--target", `127.0.0.1:${port}`, "--model", model, "--threads", "1",
      "--connections", String(connections), "--client-processes", String(processes), "--rate", String(rate), "--ramp-up", String(rampUp),
      "--warmup", String(warmup), "--duration", String(duration), "--timeout", "20000", "--repeats", "1",
      ...(cpu.client === "" ? [] : ["--client-cpus", cpu.client]), "--json", "--out", path.join(ROOT, "results/bench"),
    ]);
    // Asynchronously, so the sampler above runs meanwhile; the JSON is read whatever the exit status (1 = a run was flagged).
    const bench = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    bench.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => bench.once("close", resolve));
    clearTimeout(sampler);
    const run = (JSON.parse(out) as ResultsFile).runs[0]!;
    if (run.status !== "ok") throw new Error(`run failed: ${run.error}`);
    const f = (run as OkRun).figures;
    const mib = (bytes: number): string => (bytes / 2 ** 20).toFixed(0);
    const lines = [
      `# ${connections} sessions from ${processes} client processes to ${servers} ${model} server processes on one port (SO_REUSEPORT), connecting over ${rampUp} s, open loop ${rate} msg/s`,
      "",
      `sessions connected at the window's end: ${f.sessionsConnected} of ${connections}`,
      `sessions served in the window: ${f.sessionsServed}`,
      `errors over the whole run: ${f.errorsTotal.total} (connect ${f.errorsTotal.connect}, reset ${f.errorsTotal.reset}, timeout ${f.errorsTotal.timeout})`,
      `messages/s: ${Math.round(f.messagesPerSec)} (target ${rate}); p50 ${f.latencyUs?.p50 ?? "-"} µs, p99 ${f.latencyUs?.p99 ?? "-"} µs`,
      `connections per server process: ${atWindow.map((s) => s.files).join(", ")} open files`,
      // Not divided per connection: a serve process's RSS right after it listens is still its start-up's (JIT, heap not yet collected) and can shrink under load; the runner's figure (a server it starts, sampled through the window) is the one to read.
      `server RSS: ${atWindow.map((s) => mib(s.rss)).join(", ")} MiB in the window (${idle.map(mib).join(", ")} MiB just after listening)`,
      `client memory per connection: ${((f.clientRssBytesPerSession ?? NaN) / 1024).toFixed(1)} KiB`,
      `source addresses: ${(run as OkRun).parts?.[0]?.sourceHosts.join(", ") || "one (the kernel's)"}`,
      `flags: ${f.flags.join(", ") || "none"}`,
      `all ${connections} connected, zero errors: ${f.sessionsConnected === connections && f.errorsTotal.total === 0 ? "yes" : "NO"}`,
    ];
    const dir = path.join(ROOT, "results/bench");
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `many-sessions-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
    fs.writeFileSync(file, JSON.stringify({ connections, servers, processes, rate, idle, atWindow, figures: f, parts: (run as OkRun).parts }, null, 2));
    process.stdout.write(`${lines.join("\n")}\n\nraw: ${file}\n`);
  } finally {
    for (const c of children) await stopChild(c);
  }
}

await main();
