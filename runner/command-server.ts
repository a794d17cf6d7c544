/**
 * A command model's server: the user's own program (`--model cmd:NAME
 * --server-cmd NAME='./my-server --port {port} --threads {threads}'`),
 * started and stopped by the runner as a built-in model is, and measured
 * over its whole process tree.
 *
 * The command line, with {port}, {threads} and {host} substituted (and
 * IOBENCH_PORT, IOBENCH_THREADS, IOBENCH_HOST in its environment), runs
 * under `sh -c` below build/Release/iobench-tree (native/tree.c), in a
 * session of its own: that root adopts any process of the tree whose parent
 * exits, passes SIGTERM to all of it, and kills all of it when iobench
 * dies. The server is ready once a process of the tree listens on the
 * port and the port accepts a connection. Stopping: SIGTERM, then after a
 * grace period SIGKILL to the tree's process group and every process the
 * last walk of the tree found, reported as killed.
 */
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import { constants } from "node:os";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import type { ProcSnapshot } from "../contracts/proc.js";
import { spawnGuarded } from "../native/guard.js";
import type { ServerExit } from "../reports/schema.js";
import { listenerText, listenersOf } from "./listeners.js";
import { readTree, treePids, treeRssBytes } from "./process-tree.js";
import { ServerStartError, exitsWithin } from "./server-process.js";

/** dist/runner/command-server.js -> build/Release/iobench-tree */
export const TREE = fileURLToPath(new URL("../../build/Release/iobench-tree", import.meta.url));

/** A command model as the user declared it. */
export interface CommandSpec {
  /** NAME of `cmd:NAME`. */
  name: string;
  /** The command line, with {port}, {threads} and {host} still in it. */
  command: string;
}

/** How to start one. */
export interface CommandStart {
  spec: CommandSpec;
  host: string;
  threads: number;
  /** CPUs the whole tree is pinned to, or null. */
  cpus: number[] | null;
  startTimeoutMs: number;
}

/** How often readiness is polled, ms. */
const POLL_MS = 50;
/** A tree listening on other ports only for this long is not going to listen on its own, ms. */
const ELSEWHERE_MS = 3_000;

/** The command line for one run. */
export function substitute(command: string, values: { host: string; port: number; threads: number }): string {
  return command.replaceAll("{port}", String(values.port)).replaceAll("{threads}", String(values.threads)).replaceAll("{host}", values.host);
}

/** A port free on `host` now (the kernel's choice), for the command to take. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen({ host, port: 0, exclusive: true }, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once("connect", () => done(true));
    s.once("error", () => done(false));
  });
}

const SIGNAL_NAMES = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** The tree root exits with the command's status as a shell reports it: 128 + N means signal N. */
function commandExit(code: number | null, signal: NodeJS.Signals | null): { code: number | null; signal: NodeJS.Signals | null } {
  if (signal === null && code !== null && code > 128 && SIGNAL_NAMES.has(code - 128)) return { code: null, signal: SIGNAL_NAMES.get(code - 128)! };
  return { code, signal };
}

function describe(exit: { code: number | null; signal: NodeJS.Signals | null }): string {
  return exit.signal !== null ? `killed by ${exit.signal}` : `exit code ${exit.code}`;
}

/** A running command model. */
export class CommandServer {
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  /** The tree as last walked, for the final SIGKILL. */
  private lastTree: number[] = [];

  private constructor(
    private readonly child: ChildProcess,
    private readonly stderrLines: string[],
    /** Resolves when the command's stderr has ended (its last line is in). */
    private readonly stderrDone: Promise<void>,
    readonly name: string,
    /** The command line as run. */
    readonly commandLine: string,
    /** The tree's root (iobench-tree). */
    readonly pid: number,
    readonly host: string,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => {
      // "exit", not "close": a process that escaped the tree could hold the pipes open.
      child.once("exit", (code, signal) => {
        this.exitInfo ??= commandExit(code, signal);
        resolve();
      });
    });
  }

  /** Starts the command and resolves once it listens on its port; throws ServerStartError (one line naming the model) otherwise. */
  static async start(o: CommandStart): Promise<CommandServer> {
    const label = `command model cmd:${o.spec.name}`;
    if (!existsSync(TREE)) throw new ServerStartError(`${TREE} is missing: run npm install (or npm run build) to build it`);
    const port = await freePort(o.host);
    const commandLine = substitute(o.spec.command, { host: o.host, port, threads: o.threads });
    const cpus = o.cpus === null ? "-" : o.cpus.join(",");
    // detached: a session and process group of its own. Under the guard (which execs the root in place), like every child.
    const child = spawnGuarded(TREE, [String(process.pid), cpus, "sh", "-c", commandLine], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, IOBENCH_PORT: String(port), IOBENCH_THREADS: String(o.threads), IOBENCH_HOST: o.host },
    });
    const stderrLines: string[] = [];
    const stderr = readline.createInterface({ input: child.stderr! });
    stderr.on("line", (line) => {
      if (line.trim() === "") return;
      stderrLines.push(line.trim());
      if (stderrLines.length > 20) stderrLines.shift();
    });
    const stderrDone = new Promise<void>((resolve) => stderr.once("close", resolve));
    child.stdout!.resume(); // its output is not ours to read; never let the pipe fill
    const spawned = await new Promise<Error | null>((resolve) => {
      child.once("spawn", () => resolve(null));
      child.once("error", resolve);
    });
    if (spawned !== null || child.pid === undefined) throw new ServerStartError(`${label} cannot be started: ${spawned?.message ?? "no pid"}`);
    const server = new CommandServer(child, stderrLines, stderrDone, o.spec.name, commandLine, child.pid, o.host, port);
    const problem = await server.whenListening(label, o.startTimeoutMs);
    if (problem !== null) {
      await server.stop(1000);
      throw new ServerStartError(problem);
    }
    return server;
  }

  /**
   * Null once a process of the tree listens on the port and it accepts;
   * else why not, in one line. A tree that has listened on other ports
   * only, for ELSEWHERE_MS on end, is taken to ignore {port}.
   */
  private async whenListening(label: string, timeoutMs: number): Promise<string | null> {
    const where = listenerText({ address: this.host, port: this.port });
    const deadline = performance.now() + timeoutMs;
    let elsewhere: string[] = [];
    let elsewhereSince = Infinity;
    for (;;) {
      if (this.exitInfo !== null) {
        // Its last words may still be in the pipe (bounded: a process that escaped the tree could hold it open).
        await Promise.race([this.stderrDone, new Promise((resolve) => setTimeout(resolve, 200))]);
        const why = this.stderrLines.at(-1);
        return `${label} exited before listening on ${where} (${describe(this.exitInfo)})${why ? `: ${why}` : ""}`;
      }
      const listening = listenersOf(this.tree());
      if (listening.some((l) => l.port === this.port) && (await accepts(this.host, this.port))) return null;
      elsewhere = [...new Set(listening.map(listenerText))];
      const now = performance.now();
      elsewhereSince = elsewhere.length === 0 ? Infinity : Math.min(elsewhereSince, now);
      if (now > deadline || now - elsewhereSince > ELSEWHERE_MS) break;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    if (elsewhere.length > 0) return `${label} listens on ${elsewhere.join(", ")}, not on ${where}: does its command take {port}? (${this.commandLine})`;
    return `${label} did not listen on ${where} within ${timeoutMs / 1000} s (${this.commandLine})`;
  }

  /** The tree's pids now (remembered for the final kill). */
  tree(): number[] {
    const pids = treePids(this.pid);
    if (pids.length > 0) this.lastTree = pids;
    return pids;
  }

  /** CPU, context switches and memory of the whole tree; throws if it is gone. */
  readProcess(): ProcSnapshot {
    this.tree();
    return readTree(this.pid);
  }

  rssBytes(): number | undefined {
    return treeRssBytes(this.pid);
  }

  get exit(): { code: number | null; signal: NodeJS.Signals | null } | null {
    return this.exitInfo;
  }

  /** One line saying how it died, or null while it runs. */
  deathMessage(): string | null {
    if (this.exitInfo === null) return null;
    const why = this.stderrLines.at(-1);
    return `command model cmd:${this.name} died mid-run (${describe(this.exitInfo)})${why ? `: ${why}` : ""}`;
  }

  whenExited(): Promise<void> {
    return this.exited;
  }

  /** SIGKILL to the whole tree now. */
  kill(): void {
    for (const pid of [-this.pid, ...this.lastTree]) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone already
      }
    }
  }

  /**
   * SIGTERM to the tree (its root passes it on), up to graceMs for all of it
   * to exit, then SIGKILL. A command that ended on SIGTERM stopped as asked.
   */
  async stop(graceMs = 5000): Promise<ServerExit> {
    let killed = false;
    if (this.exitInfo === null) {
      this.tree();
      this.child.kill("SIGTERM");
      if (!(await exitsWithin(this.exited, graceMs))) {
        killed = true;
        this.kill();
        await this.exited;
      }
    }
    const info = this.exitInfo ?? { code: null, signal: null };
    return { code: info.code, signal: info.signal, killed };
  }

  /** Whether the command stopped as asked: exit 0, or ended by the SIGTERM it was sent, without being killed. */
  static stoppedCleanly(exit: ServerExit): boolean {
    return !exit.killed && (exit.code === 0 || exit.signal === "SIGTERM");
  }
}
