/**
 * The server process the runner spawns, one model per process so that its
 * CPU time, context switches and memory can be read from /proc/<pid>:
 *
 *   node dist/servers/main.js '{"model":"epoll","threads":2,"port":0}'
 *
 * The argument is ServerOptions as JSON (missing fields take the defaults
 * of model.ts) plus an optional `cpus` list to pin the process to. Stdout
 * carries exactly one JSON line: {"event":"listening",...} once the server
 * accepts connections, or {"event":"error","message":...} if it could not
 * start. SIGTERM or SIGINT stops the server and exits 0; an http, chat or
 * iocp server first writes {"event":"stopped", ...} with what it counted:
 * "http" (protocol/http.ts), "chat" (protocol/chat.ts), "port" (the iocp
 * model's completion port: native/index.ts PortStats).
 */
import { readdirSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { RunningServer } from "./model.js";
import type { ServerOptions } from "../contracts/server.js";
import { DEFAULT_SERVER_OPTIONS } from "../contracts/server.js";

/** Longer than this to stop means a thread is stuck: exit 1 rather than hang the runner. */
const STOP_LIMIT_MS = 5_000;
/** After a clean stop, the longest the process waits to end by itself. */
const EXIT_GRACE_MS = 1_000;

/** What the runner may pass: ServerOptions, every field but `model` optional, plus CPUs to pin to. */
interface ProcessRequest {
  options: ServerOptions;
  cpus: number[] | undefined;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? text;
}

function parseRequest(arg: string | undefined): ProcessRequest {
  if (arg === undefined) throw new Error(`usage: main.js '{"model":"epoll","threads":2,"port":0}'`);
  let raw: unknown;
  try {
    raw = JSON.parse(arg);
  } catch (err) {
    throw new Error(`server options are not valid JSON: ${firstLine(err)}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new Error("server options must be a JSON object");
  const { cpus, ...fields } = raw as Record<string, unknown>;
  if (typeof fields["model"] !== "string") throw new Error('server options need "model" (a model name)');
  if (cpus !== undefined && !(Array.isArray(cpus) && cpus.length > 0 && cpus.every((c) => Number.isInteger(c) && c >= 0))) {
    throw new Error(`cpus must be a non-empty list of CPU numbers, not ${JSON.stringify(cpus)}`);
  }
  // Field types are checked by startServer, with the field's name in the message.
  const options = { ...DEFAULT_SERVER_OPTIONS, threads: availableParallelism(), ...fields } as ServerOptions;
  return { options, cpus: cpus as number[] | undefined };
}

/**
 * Pins every thread that exists now (the main thread, V8's and libuv's
 * helpers); threads started later inherit the mask of the thread that
 * starts them, so the model's threads are pinned too.
 */
async function pinTo(cpus: number[]): Promise<void> {
  const { sys, errname } = await import("../native/index.js");
  for (const tid of readdirSync("/proc/self/task")) {
    const r = sys.setAffinity(Number(tid), cpus);
    // ESRCH: the thread ended between the listing and the call.
    if (r < 0 && errname(r) !== "ESRCH") throw new Error(`cannot pin the server to CPUs ${cpus.join(",")}: ${errname(r)}`);
  }
}

function say(event: Record<string, unknown>): void {
  // Writes to a pipe or file are synchronous on Linux, so the line is out before any exit.
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function failStart(message: string): never {
  process.stderr.write(`iobench server: ${message}\n`);
  say({ event: "error", message });
  process.exit(1);
}

/**
 * Dies with the process that started it: the runner (which started it
 * under native/guard.ts, so this only repeats the request) or clinic under
 * --profile (which did not). If that parent died before the request, the
 * runner's own liveness decides.
 */
async function dieWithParent(): Promise<void> {
  const { sys } = await import("../native/index.js");
  sys.dieWithParent(process.ppid);
  const runner = Number(process.env["IOBENCH_RUNNER_PID"]);
  if (Number.isInteger(runner) && runner > 0) {
    try {
      process.kill(runner, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") process.exit(1);
    }
  }
}

async function main(): Promise<void> {
  await dieWithParent();
  let server: RunningServer | undefined;
  let stopping = false;

  const stop = (): void => {
    if (stopping || server === undefined) return;
    stopping = true;
    const limit = setTimeout(() => {
      process.stderr.write(`iobench server: stopping took over ${STOP_LIMIT_MS / 1000} s (a thread did not end); exiting\n`);
      process.exit(1);
    }, STOP_LIMIT_MS);
    const chatCounts = server.chatCounts?.bind(server);
    const portStats = server.portStats?.bind(server);
    server.stop().then(
      async () => {
        clearTimeout(limit);
        // What the server counted, as a last stdout line the runner and tests
        // may read: http (requests, refusals) or chat (frames relayed, closes).
        const { httpCountsOfProcess } = await import("../protocol/choice.js");
        const http = httpCountsOfProcess();
        const chat = chatCounts?.();
        const port = portStats?.() ?? undefined;
        if (http !== null || chat !== undefined || port !== undefined) {
          say({ event: "stopped", ...(http !== null ? { http } : {}), ...(chat !== undefined ? { chat } : {}), ...(port !== undefined ? { port } : {}) });
        }
        // End naturally rather than process.exit(): a profiler (clinic) flushes
        // its samples on "beforeExit" and a hard exit truncates them. Should
        // anything still hold the loop open, exit anyway shortly.
        process.exitCode = 0;
        setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
      },
      (err: unknown) => {
        process.stderr.write(`iobench server: stopping failed: ${firstLine(err)}\n`);
        process.exit(1);
      },
    );
  };
  // Installed before starting: a signal during start-up waits for the start, then stops.
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);

  try {
    const request = parseRequest(process.argv[2]);
    if (request.cpus !== undefined) await pinTo(request.cpus);
    const { startServer } = await import("./start.js");
    server = await startServer(request.options);
  } catch (err) {
    failStart(firstLine(err));
  }
  say({ event: "listening", host: server.host, port: server.port, pid: process.pid });
  if (signalled) stop();
}

// A fault anywhere after start-up ends the process with one line, never a stack trace.
process.on("uncaughtException", (err: unknown) => {
  process.stderr.write(`iobench server: ${firstLine(err)}\n`);
  process.exit(70);
});
process.on("unhandledRejection", (err: unknown) => {
  process.stderr.write(`iobench server: ${firstLine(err)}\n`);
  process.exit(70);
});

await main();
