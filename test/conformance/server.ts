/**
 * A model's server process for the conformance tests: spawned exactly as
 * the runner spawns it (node dist/servers/main.js '<json>'), read through
 * its stdout line and /proc, and always killed afterwards.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { test } from "node:test";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runCheck, type Check, type ConformContext } from "../../clients/conform/suite.js";
import type { Target } from "../../clients/conform/net.js";
import { DEFAULT_MAX_FRAME_BYTES } from "../../contracts/server.js";

/** The package root: dist/test/conformance/ is three levels down. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const MAIN = path.join(ROOT, "dist/servers/main.js");

const START_TIMEOUT_MS = 10_000;
const KILL_AFTER_MS = 5_000;

/** How a server process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running server process. */
export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  /** 127.0.0.1 and the port, for the conformance clients. */
  readonly target: Target;
  readonly child: ChildProcess;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<Exit>;
  /** True while the process runs. */
  alive(): boolean;
  /** SIGTERM, then SIGKILL after 5 s; resolves with how it ended. Safe to call twice. */
  stop(): Promise<Exit>;
}

/** What a spawn may change: the fd limit (via `ulimit -n` in a shell that then execs node). */
export interface SpawnOptions {
  nofile?: number;
}

/** Spawns main.js with the given options JSON and returns its exit and output, whatever happens. */
export function spawnMain(options: Record<string, unknown>, spawnOptions: SpawnOptions = {}): ChildProcess {
  const json = JSON.stringify(options);
  if (spawnOptions.nofile === undefined) {
    return spawn(process.execPath, [MAIN, json], { stdio: ["ignore", "pipe", "pipe"] });
  }
  const script = `ulimit -n ${spawnOptions.nofile} && exec "$0" "$@"`;
  return spawn("bash", ["-c", script, process.execPath, MAIN, json], { stdio: ["ignore", "pipe", "pipe"] });
}

function exitOf(child: ChildProcess): Promise<Exit> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

/** The first stdout line, parsed, or an error naming what the process said. */
async function firstEvent(child: ChildProcess, stderr: () => string): Promise<Record<string, unknown>> {
  if (child.stdout === null) throw new Error("no stdout");
  const lines = createInterface({ input: child.stdout });
  const timer = setTimeout(() => child.kill("SIGKILL"), START_TIMEOUT_MS);
  try {
    for await (const line of lines) return JSON.parse(line) as Record<string, unknown>;
  } finally {
    clearTimeout(timer);
  }
  throw new Error(`the server exited before it listened: ${stderr().trim() || "(no stderr)"}`);
}

/** Starts a server process and resolves once it listens; throws the server's own message if it fails. */
export async function startServerProcess(options: Record<string, unknown>, spawnOptions: SpawnOptions = {}): Promise<ServerProcess> {
  const child = spawnMain({ host: "127.0.0.1", port: 0, threads: 2, ...options }, spawnOptions);
  let errText = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (s: string) => {
    errText += s;
  });
  const exited = exitOf(child);
  const stop = async (): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    }
    return exited;
  };
  let event: Record<string, unknown>;
  try {
    event = await firstEvent(child, () => errText);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  if (event["event"] !== "listening" || typeof event["port"] !== "number") {
    await stop();
    throw new Error(`the server did not start: ${String(event["message"] ?? JSON.stringify(event))}`);
  }
  return {
    pid: child.pid ?? -1,
    port: event["port"],
    target: { host: "127.0.0.1", port: event["port"] },
    child,
    stderr: () => errText,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop,
  };
}

/**
 * A server process whose last stdout line, {"event":"stopped",...}, the test
 * reads: `stopped()` stops it, checks that it stopped cleanly and wrote
 * nothing on stderr, and returns that line's fields.
 */
export async function startCountingServer(options: Record<string, unknown>): Promise<{ server: ServerProcess; stopped: () => Promise<Record<string, unknown>> }> {
  const server = await startServerProcess(options);
  let out = "";
  // The listening line was read; what follows is the stopped line.
  server.child.stdout?.setEncoding("utf8").on("data", (s: string) => (out += s));
  const stopped = async (): Promise<Record<string, unknown>> => {
    const exit = await server.stop();
    assert.equal(server.stderr(), "", "the server wrote on stderr");
    assert.deepEqual(exit, { code: 0, signal: null }, "the server did not stop cleanly");
    const line = out.split("\n").find((l) => l.includes('"stopped"'));
    assert.ok(line !== undefined, `no stopped line in ${JSON.stringify(out)}`);
    return JSON.parse(line) as Record<string, unknown>;
  };
  return { server, stopped };
}

/** Runs `body` against a fresh server process, which is stopped (or killed) afterwards whatever happens. */
export async function withServer<T>(options: Record<string, unknown>, body: (server: ServerProcess) => Promise<T>, spawnOptions: SpawnOptions = {}): Promise<T> {
  const server = await startServerProcess(options, spawnOptions);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

/** What a conformance check needs to know about a server process: its address, its memory, its largest chat frame. */
export function conformContext(server: ServerProcess, maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): ConformContext {
  return { target: server.target, serverRssBytes: () => rssBytes(server.pid), maxFrameBytes };
}

/** The server wrote nothing on stderr (no thread failed, nothing was logged about a client) and still runs. */
export function assertQuiet(server: ServerProcess): void {
  assert.equal(server.stderr(), "", "the server wrote on stderr");
  assert.ok(server.alive(), "the server process is gone");
}

/**
 * The checks `iobench conform` runs (clients/conform/), one test each,
 * each against a fresh server, plus what only a server iobench started can
 * show: nothing on stderr, still alive.
 */
export function conformCases(options: Record<string, unknown>, checks: readonly Check[], timeoutMs = 60_000): void {
  for (const check of checks) {
    test(`${check.id}: ${check.title}`, { timeout: timeoutMs }, () =>
      withServer(options, async (server) => {
        const result = await runCheck(check, conformContext(server));
        assert.ok(result.ok, result.detail);
        assertQuiet(server);
      }),
    );
  }
}

// ---- /proc ------------------------------------------------------------------------

/** Resident memory of a process, bytes (VmRSS). */
export function rssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (m === null) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) * 1024;
}

/** CPU time a process has used (all threads, user + system), seconds, at clock-tick resolution. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const CLK_TCK = 100; // USER_HZ: 100 on every Linux architecture Node runs on
  return (utime + stime) / CLK_TCK;
}

/** Open fds of a process. */
export function fdCount(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}
