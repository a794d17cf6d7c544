/**
 * The server under test as its own process (dist/servers/main.js), so its
 * CPU time, context switches and memory can be read from /proc apart from
 * the client's. Protocol with servers/main.ts: argv[2] is the JSON of
 * ServerOptions (+ optional cpus); the process prints one stdout line,
 * {"event":"listening","host","port","pid"} or {"event":"error","message"};
 * SIGTERM asks it to stop, and it exits 0 when it stopped cleanly.
 */
import type { ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import readline from "node:readline";
import { spawnGuarded } from "../native/guard.js";
import { missingPackage, optionalBin } from "../contracts/optional.js";
import type { ServerOptions } from "../contracts/server.js";
import type { ServerExit } from "../reports/schema.js";

/** dist/runner/server-process.js -> dist/servers/main.js */
const SERVER_MAIN = fileURLToPath(new URL("../servers/main.js", import.meta.url));

/**
 * Servers still running, killed if iobench exits without stopping them (an
 * error, a second Ctrl-C). A kill -9 of iobench runs no exit hook: then the
 * kernel kills them (they run under native/guard.ts).
 */
const live = new Set<ChildProcess>();
/** Children that are clinic (its own process group, with the server it runs). */
const profiled = new WeakSet<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => {
    for (const child of live) killGroupOrChild(child, "SIGKILL");
  });
}

/** A profiled server runs in its own process group (clinic and the server): signal all of it, as Ctrl-C would. */
function killGroupOrChild(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (profiled.has(child) && child.pid !== undefined) process.kill(-child.pid, signal);
    else child.kill(signal);
  } catch {
    // already gone
  }
}

/** A clinic profile of the server: which tool, where it writes, how long it may take to stop and analyse. */
export interface ProfileRequest {
  tool: "doctor" | "flame";
  /** Directory for clinic's data and HTML (created). */
  dir: string;
  /** From the stop request to clinic's exit (the analysis included), at most this long, ms; then it is killed. */
  limitMs: number;
}

/** True when `exited` resolves within ms; false when the time ran out first (the caller then kills). */
export async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([exited.then(() => true), timeUp]);
  } finally {
    clearTimeout(timer);
  }
}

/** A server that did not start: the message is one line for the user. */
export class ServerStartError extends Error {
  override readonly name = "ServerStartError";
}

/** How to start a server process. */
export interface ServerProcessOptions {
  server: ServerOptions;
  /** CPUs to pin the server process to, or null. */
  cpus: number[] | null;
  /** Give up if it has not said "listening" within this, ms. */
  startTimeoutMs: number;
  /** Run the server under clinic (NO_INSIGHT=1 in its environment, or clinic exits silently). */
  profile?: ProfileRequest;
}

function firstLine(s: string): string {
  return s.split("\n").find((l) => l.trim() !== "")?.trim() ?? s.trim();
}

function describeExit(code: number | null, signal: NodeJS.Signals | null): string {
  return signal !== null ? `killed by ${signal}` : `exit code ${code}`;
}

/** A running server process. */
export class ServerProcess {
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exitedPromise: Promise<void>;
  private killed = false;

  private constructor(
    private readonly child: ChildProcess,
    /** The server's recent stderr lines (kept up to date by the reader started in start()). */
    private readonly stderrLines: readonly string[],
    readonly pid: number,
    readonly host: string,
    readonly port: number,
    private readonly profile: ProfileRequest | undefined,
  ) {
    this.exitedPromise = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null): void => {
        this.exitInfo ??= { code, signal };
        live.delete(child);
        resolve();
      };
      // "close" comes after "exit" once stdio is drained, so the last stderr line is in.
      child.once("close", done);
    });
  }

  /** Starts a server process and resolves once it listens; throws ServerStartError otherwise. */
  static async start(options: ServerProcessOptions): Promise<ServerProcess> {
    installExitHook();
    const payload: Record<string, unknown> = { ...options.server };
    if (options.cpus !== null) payload.cpus = options.cpus;
    const profile = options.profile;
    let child: ChildProcess;
    if (profile === undefined) {
      child = spawnGuarded(process.execPath, [SERVER_MAIN, JSON.stringify(payload)], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, IOBENCH_RUNNER_PID: String(process.pid) } });
    } else {
      const clinic = optionalBin("clinic");
      if (clinic === null) throw new ServerStartError(missingPackage("clinic"));
      mkdirSync(profile.dir, { recursive: true });
      // detached: its own process group, so stop() can Ctrl-C clinic and the server together.
      child = spawnGuarded(process.execPath, [clinic, profile.tool, "--dest", profile.dir, "--", process.execPath, SERVER_MAIN, JSON.stringify(payload)], {
        stdio: ["ignore", "pipe", "pipe"],
        cwd: profile.dir,
        detached: true,
        env: { ...process.env, NO_INSIGHT: "1", IOBENCH_PROFILER: profile.tool, IOBENCH_RUNNER_PID: String(process.pid) },
      });
      profiled.add(child);
    }
    live.add(child);

    const stderrLines: string[] = [];
    readline.createInterface({ input: child.stderr! }).on("line", (line) => {
      if (line.trim() === "") return;
      stderrLines.push(line.trim());
      if (stderrLines.length > 20) stderrLines.shift();
    });
    const stdout = readline.createInterface({ input: child.stdout! });

    let timer: NodeJS.Timeout | undefined;
    const outcome = await new Promise<
      { ok: true; host: string; port: number; pid: number } | { ok: false; message: string }
    >((resolve) => {
      timer = setTimeout(() => {
        resolve({ ok: false, message: `server did not report listening within ${options.startTimeoutMs / 1000} s` });
      }, options.startTimeoutMs);
      child.once("error", (err) => resolve({ ok: false, message: `cannot start the server process: ${err.message}` }));
      const onLine = (line: string): void => {
        if (profile !== undefined && !line.startsWith("{")) return; // clinic's own banner
        stdout.off("line", onLine);
        let event: unknown;
        try {
          event = JSON.parse(line);
        } catch {
          resolve({ ok: false, message: `server printed an unexpected line: ${line.slice(0, 200)}` });
          return;
        }
        const e = event as { event?: unknown; host?: unknown; port?: unknown; pid?: unknown; message?: unknown };
        if (e.event === "listening" && typeof e.port === "number") {
          resolve({
            ok: true,
            host: typeof e.host === "string" ? e.host : options.server.host,
            port: e.port,
            pid: typeof e.pid === "number" ? e.pid : child.pid!,
          });
        } else if (e.event === "error") {
          resolve({ ok: false, message: firstLine(String(e.message ?? "unknown error")) });
        } else {
          resolve({ ok: false, message: `server printed an unexpected line: ${line.slice(0, 200)}` });
        }
      };
      stdout.on("line", onLine);
      child.once("exit", (code, signal) => {
        // Let a final stderr line arrive before describing the death.
        setTimeout(() => {
          const why = stderrLines.at(-1);
          resolve({ ok: false, message: `server exited before listening (${describeExit(code, signal)})${why ? `: ${why}` : ""}` });
        }, 50);
      });
    });
    clearTimeout(timer);

    if (!outcome.ok) {
      if (child.exitCode === null && child.signalCode === null) {
        killGroupOrChild(child, "SIGKILL");
        await new Promise<void>((resolve) => child.once("exit", () => resolve()));
      }
      live.delete(child);
      throw new ServerStartError(outcome.message);
    }
    // Later stdout lines are not part of the protocol; keep draining them so the pipe never fills.
    stdout.on("line", () => undefined);
    return new ServerProcess(child, stderrLines, outcome.pid, outcome.host, outcome.port, profile);
  }

  /** After stop(): the HTML clinic wrote (a path inside the profile's dir), or null if there is none. */
  profileHtml(): string | null {
    if (this.profile === undefined) return null;
    const html = readdirSync(this.profile.dir).find((f) => f.endsWith(`.clinic-${this.profile!.tool}.html`));
    return html === undefined ? null : path.join(this.profile.dir, html);
  }

  /** How the process ended, or null while it runs. */
  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  /** One line saying how it died (exit status and its last stderr line), or null while it runs. */
  deathMessage(): string | null {
    if (this.exitInfo === null) return null;
    const why = this.stderrLines.at(-1);
    return `server died mid-run (${describeExit(this.exitInfo.code, this.exitInfo.signal)})${why ? `: ${why}` : ""}`;
  }

  /** SIGKILL now (and its process group under a profiler), for a run that is given up on. */
  kill(): void {
    this.killed = true;
    killGroupOrChild(this.child, "SIGKILL");
  }

  /** Resolves when the process has exited, for whatever reason. */
  whenExited(): Promise<void> {
    return this.exitedPromise;
  }

  /**
   * SIGTERM, wait up to graceMs for the exit, then SIGKILL. Resolves with how
   * it ended. Profiled: SIGINT to clinic and the server (Ctrl-C), and the
   * profile's limit for clinic to analyse and exit.
   */
  async stop(graceMs = 5000): Promise<ServerExit> {
    if (this.profile !== undefined) graceMs = this.profile.limitMs;
    if (this.exitInfo === null) {
      killGroupOrChild(this.child, this.profile !== undefined ? "SIGINT" : "SIGTERM");
      // A stopped server (SIGSTOP) would take the signal only once continued.
      killGroupOrChild(this.child, "SIGCONT");
      if (!(await exitsWithin(this.exitedPromise, graceMs))) {
        this.killed = true;
        killGroupOrChild(this.child, "SIGKILL");
        await this.exitedPromise;
      }
    }
    const info = this.exitInfo ?? { code: null, signal: null };
    return { code: info.code, signal: info.signal, killed: this.killed };
  }
}
