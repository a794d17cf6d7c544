/**
 * What the benchmark scripts share: building and starting the C yardsticks,
 * starting a model's server process, driving a server with iobench's client
 * through the CLI, and the statistics of interleaved repeats.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { guarded } from "../native/guard.js";
import { once } from "node:events";
import { createInterface } from "node:readline";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { CLOCK_TICKS_PER_SEC, readProcess } from "../runner/proc.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const REFERENCE = path.join(ROOT, "bench/reference");

/** A server process the benchmark started; stop() ends it. */
export interface StartedServer {
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** Builds the C yardsticks (make; on demand, never by npm install). */
export function buildReference(): void {
  execFileSync("make", ["-s", "-C", REFERENCE], { stdio: "inherit" });
}

/** Pins a command to CPUs with taskset (util-linux, on every Debian); it dies with this script (native/guard.ts). */
export function pinned(cpus: string, command: string, args: string[]): [string, string[]] {
  return cpus === "" ? guarded(command, args) : guarded("taskset", ["-c", cpus, command, ...args]);
}

async function firstLine(child: ChildProcess, what: string): Promise<string> {
  if (child.stdout === null) throw new Error(`${what}: no stdout`);
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
  try {
    for await (const line of lines) return line;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`${what} exited before it listened`);
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
  await exited;
  clearTimeout(timer);
}

/** A program that prints "{"event":"listening","port":N}" (or "listening N") first, pinned to `cpus`. */
export async function startListeningProgram(cpus: string, command: string, args: string[]): Promise<StartedServer> {
  const [cmd, all] = pinned(cpus, command, args);
  const child = spawn(cmd, all, { stdio: ["ignore", "pipe", "inherit"] });
  const line = await firstLine(child, command);
  const port = line.startsWith("{") ? Number((JSON.parse(line) as { port?: unknown }).port) : Number(line.split(" ")[1]);
  return { pid: child.pid ?? -1, port, stop: () => stopChild(child) };
}

/** The C epoll echo yardstick, pinned to `cpus`. */
export async function startReferenceServer(cpus: string, threads = 1): Promise<StartedServer> {
  const [cmd, args] = pinned(cpus, path.join(REFERENCE, "bin/echo-server"), ["0", String(threads)]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  const line = await firstLine(child, "echo-server");
  const port = Number(line.split(" ")[1]);
  return { pid: child.pid ?? -1, port, stop: () => stopChild(child) };
}

/** An iobench model in its own server process, pinned to `cpus`; `main` is another build's dist/servers/main.js to compare with. */
export async function startModelServer(
  model: string,
  threads: number | "per-connection",
  cpus: string,
  protocol: "echo" | "http" | "chat" = "echo",
  main = path.join(ROOT, "dist/servers/main.js"),
  more: Record<string, unknown> = {},
): Promise<StartedServer> {
  const options = {
    model, threads, host: "127.0.0.1", port: 0, backlog: 4096, bufferBytes: 65536,
    accept: "poll", maxConnectionThreads: 1024, protocol, ...more,
  };
  const [cmd, args] = pinned(cpus, process.execPath, [main, JSON.stringify(options)]);
  const child = spawn(cmd, args, { stdio: ["ignore", "pipe", "inherit"] });
  const event = JSON.parse(await firstLine(child, model)) as { event: string; port?: number; message?: string };
  if (event.event !== "listening" || event.port === undefined) throw new Error(`${model}: ${event.message ?? "did not start"}`);
  return { pid: child.pid ?? -1, port: event.port, stop: () => stopChild(child) };
}

/** The figures the benchmarks read from one iobench run. */
export interface ClientRun {
  messagesPerSec: number;
  serverCpuUsPerMessage: number | null;
  /** CPU of the whole client process (every thread) per message, µs. */
  clientCpuUsPerMessage: number;
  clientSaturated: boolean;
  errors: number;
}

/** The load of one client run. */
export interface ClientLoad {
  sessions: number;
  size: number;
  seconds: number;
  /** CPUs for the whole client process ("" = not pinned). */
  cpus: string;
}

/**
 * Drives a running server with iobench's own client (one CLI run, --json).
 * The whole process is pinned like the C client (taskset), not only its
 * worker threads: Node's main thread and helper threads must not borrow the
 * server's core.
 */
export function runIobenchClient(server: StartedServer, o: ClientLoad & { engine?: string }): ClientRun {
  const [cmd, args] = pinned(o.cpus, process.execPath, [
    path.join(ROOT, "dist/cli/main.js"), "bench",
    "--target", `127.0.0.1:${server.port}`, "--server-pid", String(server.pid),
    "--connections", String(o.sessions), "--size", String(o.size),
    "--duration", String(o.seconds), "--warmup", "1",
    "--client-threads", "1", ...(o.cpus === "" ? [] : ["--client-cpus", o.cpus]),
    ...(o.engine === undefined ? [] : ["--client-engine", o.engine]),
    "--json", "--out", path.join(ROOT, "results/bench"),
  ]);
  const out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  const results = JSON.parse(out) as { runs: { status: string; error?: string; figures?: Record<string, unknown>; errors?: Record<string, number> }[] };
  const run = results.runs[0];
  if (run === undefined || run.status !== "ok" || run.figures === undefined) throw new Error(`iobench run failed: ${run?.error ?? "no run"}`);
  const f = run.figures;
  const errors = Object.values(run.errors ?? {}).reduce((a, b) => a + b, 0);
  return {
    messagesPerSec: Number(f["messagesPerSec"]),
    serverCpuUsPerMessage: typeof f["serverCpuUsPerMessage"] === "number" ? f["serverCpuUsPerMessage"] : null,
    clientCpuUsPerMessage: (Number(f["clientCpuSeconds"]) * 1e6) / Number(f["messages"]),
    clientSaturated: f["clientSaturated"] === true,
    errors,
  };
}

/**
 * Drives a running server with the C ping-pong yardstick client. The server's
 * CPU is read from /proc around the run (it includes the client's connects,
 * a few ms against seconds of load).
 */
export function runReferenceClient(server: StartedServer, o: ClientLoad): ClientRun {
  const [cmd, args] = pinned(o.cpus, path.join(REFERENCE, "bin/pingpong-client"), [
    String(server.port), String(o.sessions), String(o.size), String(o.seconds),
  ]);
  const before = readProcess(server.pid).cpuTicks;
  const out = execFileSync(cmd, args, { encoding: "utf8" });
  const serverSec = (readProcess(server.pid).cpuTicks - before) / CLOCK_TICKS_PER_SEC;
  const r = JSON.parse(out) as { messages: number; messagesPerSec: number; errors: number; cpuSeconds: number };
  return {
    messagesPerSec: r.messagesPerSec,
    serverCpuUsPerMessage: (serverSec * 1e6) / r.messages,
    clientCpuUsPerMessage: (r.cpuSeconds * 1e6) / r.messages,
    clientSaturated: false,
    errors: r.errors,
  };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? NaN) : ((s[mid - 1] ?? NaN) + (s[mid] ?? NaN)) / 2;
}

/** Two disjoint CPUs for server and client, or none when the machine has one. */
export function cpuPair(): { server: string; client: string } {
  const n = Number(execFileSync("nproc", { encoding: "utf8" }).trim());
  return n >= 2 ? { server: "0", client: "1" } : { server: "", client: "" };
}

/** Reads `--name value` from argv with a default. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

/**
 * The load and noise thresholds the regression-check test (test/check.test.ts)
 * uses, and bench/check-reliability.ts measures: short enough for npm test,
 * wide enough that an unchanged re-run on 2 shared, noisy cores stays
 * within noise, and still far below the injected regression (cpu:200us,
 * about +2000 % CPU per message).
 */
// 5 repeats: a check needs 3 usable ones per side, and a run flagged MACHINE-BUSY (another job's compile) is left out.
export const CHECK_LOAD_ARGS = ["--model", "epoll", "--threads", "1", "--connections", "16", "--duration", "1", "--warmup", "0.3", "--repeats", "5"];
export const CHECK_THRESHOLDS = "cpu=20%,rate=30%,p99=60%";
/** The injected regression: a real cost per message in the candidate's server. */
export const CHECK_INJECTED_WORK = "cpu:200us";
