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
import { switchesBetween, switchesByThread } from "../reports/derive.js";
import type { ContextSwitches } from "../reports/schema.js";
import { median as statsMedian, percent, spread } from "../reports/stats.js";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const REFERENCE = path.join(ROOT, "bench/reference");

/** A server process the benchmark started; stop() ends it. */
export interface StartedServer {
  pid: number;
  port: number;
  /** Ends it; resolves with its {"event":"stopped"} line (an iobench model's counts), or null. */
  stop(): Promise<Record<string, unknown> | null>;
}

/** Builds the C yardsticks (make; on demand, never by npm install). */
export function buildReference(): void {
  execFileSync("make", ["-s", "-C", REFERENCE], { stdio: "inherit" });
}

/** Pins a command to CPUs with taskset (util-linux, on every Debian); it dies with this script (native/guard.ts). */
export function pinned(cpus: string, command: string, args: string[]): [string, string[]] {
  return cpus === "" ? guarded(command, args) : guarded("taskset", ["-c", cpus, command, ...args]);
}

/** A child's stdout lines: the first (awaited), and the last once it has exited. */
function watchLines(child: ChildProcess, what: string): { first: Promise<string>; last: () => string | undefined } {
  if (child.stdout === null) throw new Error(`${what}: no stdout`);
  let count = 0;
  let latest: string | undefined;
  const read = createInterface({ input: child.stdout });
  const first = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    read.on("line", (line) => {
      count++;
      latest = line;
      clearTimeout(timer);
      resolve(line);
    });
    read.once("close", () => {
      clearTimeout(timer);
      reject(new Error(`${what} exited before it listened`));
    });
  });
  return { first, last: () => (count > 1 ? latest : undefined) };
}

/** Stops a child (SIGTERM, SIGKILL after 5 s); resolves with its last line as JSON when it wrote one after the first. */
async function stopChild(child: ChildProcess, last: () => string | undefined): Promise<Record<string, unknown> | null> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
  await new Promise((resolve) => setImmediate(resolve)); // the last line's event
  try {
    return JSON.parse(last() ?? "null") as Record<string, unknown> | null;
  } catch {
    return null; // not a JSON line: a C yardstick's, or cut short by SIGKILL
  }
}

/** A program that prints "{"event":"listening","port":N}" (or "listening N") first, pinned to `cpus`. */
export async function startListeningProgram(cpus: string, command: string, args: string[]): Promise<StartedServer> {
  const [cmd, all] = pinned(cpus, command, args);
  const child = spawn(cmd, all, { stdio: ["ignore", "pipe", "inherit"] });
  const lines = watchLines(child, path.basename(command));
  const line = await lines.first;
  const event = line.startsWith("{") ? (JSON.parse(line) as { event?: string; port?: number; message?: string }) : { event: "listening", port: Number(line.split(" ")[1]) };
  if (event.event !== "listening" || event.port === undefined) {
    await stopChild(child, lines.last);
    throw new Error(`${path.basename(command)}: ${event.message ?? "did not start"}`);
  }
  return { pid: child.pid ?? -1, port: event.port, stop: () => stopChild(child, lines.last) };
}

/** The C yardsticks: the epoll echo server (`threads` loops) and the io_uring one (one thread, one ring). */
export type Yardstick = "c-epoll" | "c-uring";

/** A C yardstick, pinned to `cpus`. */
export function startReferenceServer(cpus: string, kind: Yardstick = "c-epoll", threads = 1): Promise<StartedServer> {
  const binary = kind === "c-epoll" ? "bin/echo-server" : "bin/uring-echo-server";
  return startListeningProgram(cpus, path.join(REFERENCE, binary), ["0", String(threads)]);
}

/** An iobench model in its own server process, pinned to `cpus`; `main` is another build's dist/servers/main.js to compare with, `more` adds or replaces server options. */
export function startModelServer(
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
  return startListeningProgram(cpus, process.execPath, [main, JSON.stringify(options)]);
}

/** The figures the benchmarks read from one iobench run. */
export interface ClientRun {
  /** Messages echoed in the measured window. */
  messages: number;
  messagesPerSec: number;
  serverCpuUsPerMessage: number | null;
  /** Context switches of the server's threads (voluntary + involuntary) per message. */
  serverSwitchesPerMessage: number | null;
  /** The same by thread name (Figures.serverContextSwitchesByThread), per message. */
  serverSwitchesByThread: Record<string, ContextSwitches> | null;
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
  /** runReferenceClient: a run of this long first, not measured, so a JIT-compiled server is warm (iobench's client warms up 1 s itself). */
  warmupSec?: number;
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
    "--duration", String(o.seconds), "--warmup", "1", "--repeats", "1",
    "--client-threads", "1", ...(o.cpus === "" ? [] : ["--client-cpus", o.cpus]),
    ...(o.engine === undefined ? [] : ["--client-engine", o.engine]),
    "--json", "--out", path.join(ROOT, "results/bench"),
  ]);
  let out: string;
  try {
    out = execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 64 << 20 });
  } catch (err) {
    // A run that completed no message exits 1 with its results on stdout: report its figures (errors and all).
    const stdout = (err as { stdout?: string }).stdout;
    if (typeof stdout !== "string" || !stdout.startsWith("{")) throw err;
    out = stdout;
  }
  const results = JSON.parse(out) as { runs: { status: string; error?: string; figures?: Record<string, unknown>; errors?: Record<string, number> }[] };
  const run = results.runs[0];
  if (run === undefined || run.status !== "ok" || run.figures === undefined) throw new Error(`iobench run failed: ${run?.error ?? "no run"}`);
  const f = run.figures;
  const errors = Object.values(run.errors ?? {}).reduce((a, b) => a + b, 0);
  const switches = f["serverContextSwitchesPerMessage"] as { total?: number } | null | undefined;
  const byThread = f["serverContextSwitchesByThread"] as Record<string, ContextSwitches> | null | undefined;
  return {
    messages: Number(f["messages"]),
    messagesPerSec: Number(f["messagesPerSec"]),
    serverCpuUsPerMessage: typeof f["serverCpuUsPerMessage"] === "number" ? f["serverCpuUsPerMessage"] : null,
    serverSwitchesPerMessage: typeof switches?.total === "number" ? switches.total : null,
    serverSwitchesByThread: byThread === null || byThread === undefined ? null : perMessage(byThread, Number(f["messages"])),
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
  const client = (sec: number): [string, string[]] =>
    pinned(o.cpus, path.join(REFERENCE, "bin/pingpong-client"), [String(server.port), String(o.sessions), String(o.size), String(sec)]);
  if ((o.warmupSec ?? 0) > 0) execFileSync(...client(o.warmupSec ?? 0), { encoding: "utf8" });
  const [cmd, args] = client(o.seconds);
  const before = readProcess(server.pid);
  const out = execFileSync(cmd, args, { encoding: "utf8" });
  const after = readProcess(server.pid);
  const serverSec = (after.cpuTicks - before.cpuTicks) / CLOCK_TICKS_PER_SEC;
  const r = JSON.parse(out) as { messages: number; messagesPerSec: number; errors: number; cpuSeconds: number };
  return {
    messages: r.messages,
    messagesPerSec: r.messagesPerSec,
    serverCpuUsPerMessage: (serverSec * 1e6) / r.messages,
    serverSwitchesPerMessage: switchesBetween(before, after).total / r.messages,
    serverSwitchesByThread: perMessage(switchesByThread(before, after), r.messages),
    clientCpuUsPerMessage: (r.cpuSeconds * 1e6) / r.messages,
    clientSaturated: false,
    errors: r.errors,
  };
}

function perMessage(counts: Record<string, ContextSwitches>, messages: number): Record<string, ContextSwitches> {
  const per = (s: ContextSwitches): ContextSwitches => ({ voluntary: s.voluntary / messages, involuntary: s.involuntary / messages, total: s.total / messages });
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, per(v)]));
}

/**
 * Runs every configuration once per round, `rounds` times, starting each
 * round one configuration further on, so the machine's drift spreads over
 * all of them; returns each configuration's results, round by round.
 */
export async function interleaved<R>(names: readonly string[], rounds: number, runOne: (name: string, round: number) => Promise<R>): Promise<Map<string, R[]>> {
  const results = new Map<string, R[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length]!;
      results.get(name)!.push(await runOne(name, r));
    }
  }
  return results;
}

/** Per-round ratios a[i] / b[i]. */
export function ratios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((x, i) => x / (b[i] ?? NaN));
}

/** "median [low–high, 94%]": per-round values with the order-statistic interval of their median and its true coverage (reports/stats.ts). */
export function interval(xs: readonly number[], digits = 3): string {
  const s = spread(xs);
  if (s === null) return "-";
  return `${s.median.toFixed(digits)} [${s.ciLow.toFixed(digits)}–${s.ciHigh.toFixed(digits)}, ${percent(s.ciConfidence)}]`;
}

/**
 * A goal on per-round values, judged by their median's interval: "met" when
 * the whole interval is on the goal's side, "NOT met" when the whole of it
 * is past it, "inconclusive" when it straddles the bound.
 */
export function goal(xs: readonly number[], op: "<=" | ">=", bound: number): string {
  const s = spread(xs);
  if (s === null) return "inconclusive (no figure)";
  // One or two rounds give an "interval" of the median that covers it 0 or 50 % of the time: no verdict on that.
  if (s.ciConfidence < 0.75) return `inconclusive (${xs.length} rounds: no interval)`;
  const good = (v: number): boolean => (op === "<=" ? v <= bound : v >= bound);
  const text = `goal ${op} ${bound}: `;
  if (good(s.ciLow) && good(s.ciHigh)) return `${text}met`;
  if (!good(s.ciLow) && !good(s.ciHigh)) return `${text}NOT met`;
  return `${text}inconclusive (the interval straddles ${bound})`;
}

/** The median, NaN for none (a bench whose runs all failed still prints its table). */
export function median(xs: readonly number[]): number {
  return xs.length === 0 ? NaN : statsMedian(xs);
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
