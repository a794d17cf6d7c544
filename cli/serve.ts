/**
 * The serve command: run one model in this process until SIGINT/SIGTERM, so
 * any client (the seed's, nc, sockperf, a bench --target elsewhere) can be
 * pointed at it.
 */
import type { Options } from "yargs";
import { RunFailure, UsageError, oneLine } from "../contracts/errors.js";
import { DEFAULT_SERVER_OPTIONS } from "../contracts/server.js";
import type { ServerOptions } from "../contracts/server.js";
import { findModel } from "../servers/models.js";
import { checkServerOptions, MAX_THREADS, type OptionNames } from "../servers/options.js";
import { formatWork } from "../contracts/work.js";
import { bytes, integer, list, modelList, models, numericHost, scalar, threadsSetting } from "./parse.js";
import type { RawFlag } from "./parse.js";
import { ACCEPT_OPTION, BENCH_DEFAULTS, HEADER_TIMEOUT_OPTION, PROTOCOL_OPTION, WORK_OPTION, headerTimeoutOption, protocolFlag, workOption } from "./bench-options.js";
import { MAX_BUFFER_BYTES, MAX_CHAT_FRAME_BYTES, MAX_MESSAGE_BYTES } from "../contracts/limits.js";
import { PORT_FLAGS, portChoice } from "./port-options.js";
import { FD_MARGIN, ensureOpenFileLimit, openFileLimit } from "../runner/limits.js";

/** Defaults of the serve flags. */
export const SERVE_DEFAULTS = { model: "epoll", host: "127.0.0.1", port: 9000 } as const;

/** yargs definitions of every serve flag. */
export function serveFlags(cores: number): Record<string, Options> {
  const str = (description: string, defaultDescription: string, alias?: string): Options => ({
    type: "string",
    requiresArg: true,
    description,
    defaultDescription,
    ...(alias !== undefined ? { alias } : {}),
  });
  return {
    model: str(`server model: ${modelList()}`, SERVE_DEFAULTS.model, "m"),
    threads: str(`server threads; "per-connection" for the blocking model`, `${cores} (the usable CPUs)`, "t"),
    host: str("numeric address to listen on", SERVE_DEFAULTS.host),
    port: str("port to listen on (0 = any free port)", String(SERVE_DEFAULTS.port), "p"),
    buffer: str("pending-echo limit per connection, bytes", String(DEFAULT_SERVER_OPTIONS.bufferBytes)),
    "header-timeout": HEADER_TIMEOUT_OPTION,
    accept: ACCEPT_OPTION,
    ...PORT_FLAGS,
    work: WORK_OPTION,
    size: str("with --work: the message size the clients send, bytes (the work is done once per this many bytes received)", String(BENCH_DEFAULTS.sizeBytes), "s"),
    protocol: PROTOCOL_OPTION,
    "max-frame": str("chat: largest frame payload, bytes (a longer one closes its connection)", String(DEFAULT_SERVER_OPTIONS.maxFrameBytes)),
    "reuse-port": {
      type: "boolean",
      description: "listen with SO_REUSEPORT: several serve processes on one --port share its connections (the kernel spreads them), each with its own open-file limit",
      default: false,
    },
  };
}

/** The serve flag of each option, for checkServerOptions' messages. */
const SERVE_FLAG_NAMES: OptionNames = {
  threads: "--threads",
  host: "--host",
  port: "--port",
  bufferBytes: "--buffer",
  accept: "--accept",
  work: "--work",
  protocol: "--protocol",
  maxFrameBytes: "--max-frame",
  headerTimeoutMs: "--header-timeout",
};

/** Checks serve flags into ServerOptions. */
export function serveOptions(args: Record<string, RawFlag>, cores: number): ServerOptions {
  const names = models(list("model", args.model) ?? [SERVE_DEFAULTS.model]);
  if (names.length !== 1) throw new UsageError("serve runs one model: give one --model");
  const model = names[0]!;
  const threadItems = list("threads", args.threads) ?? [String(Math.min(cores, MAX_THREADS))];
  if (threadItems.length !== 1) throw new UsageError("serve runs one thread setting: give one --threads");
  const threads = threadsSetting(threadItems[0]!);
  const accept = scalar(args.accept) ?? DEFAULT_SERVER_OPTIONS.accept;
  if (accept !== "poll" && accept !== "ring") throw new UsageError(`--accept must be poll or ring, got '${accept}'`);
  const work = workOption(args.work);
  const port = portChoice(args, model === "iocp", work);
  const messageBytes = bytes("size", scalar(args.size) ?? String(BENCH_DEFAULTS.sizeBytes), 1, MAX_MESSAGE_BYTES);
  const protocol = protocolFlag(args.protocol);
  const maxFrameBytes = bytes("max-frame", scalar(args["max-frame"]) ?? String(DEFAULT_SERVER_OPTIONS.maxFrameBytes), 1, MAX_CHAT_FRAME_BYTES);
  const bufferBytes = bytes("buffer", scalar(args.buffer) ?? String(DEFAULT_SERVER_OPTIONS.bufferBytes), 1, MAX_BUFFER_BYTES);
  const options: ServerOptions = {
    ...DEFAULT_SERVER_OPTIONS,
    model,
    threads,
    host: numericHost("host", scalar(args.host) ?? SERVE_DEFAULTS.host),
    port: integer("port", scalar(args.port) ?? String(SERVE_DEFAULTS.port), 0, 65535),
    bufferBytes,
    accept,
    work: work === null ? null : { ...work, messageBytes },
    protocol,
    maxFrameBytes,
    headerTimeoutMs: headerTimeoutOption(scalar(args["header-timeout"]), protocol),
    completionPort: port === null ? DEFAULT_SERVER_OPTIONS.completionPort : { ...port, concurrency: port.concurrency ?? 0 },
    ...(args["reuse-port"] === true ? { reusePort: true } : {}),
  };
  const problem = checkServerOptions(options, SERVE_FLAG_NAMES);
  if (problem !== null) throw new UsageError(problem);
  return options;
}

/** Serves until SIGINT/SIGTERM; resolves with the exit status. */
export async function serve(options: ServerOptions, io: { stdout: NodeJS.WritableStream; signal: AbortSignal }): Promise<number> {
  try {
    const info = findModel(options.model); // serve runs the built-in models only (cli/parse.ts models())
    if (info === undefined) throw new Error("not a built-in model");
    await info.load();
  } catch (err) {
    throw new RunFailure(`model ${options.model} is not available: ${oneLine(err)}`);
  }
  let startServer;
  try {
    ({ startServer } = await import("../servers/start.js"));
  } catch (err) {
    throw new RunFailure(`the server cannot be loaded: ${oneLine(err)}`);
  }
  // Every connection is a file: hold as many as the hard limit lets this process.
  await ensureOpenFileLimit((await openFileLimit()).hard - FD_MARGIN);
  let server;
  try {
    server = await startServer(options);
  } catch (err) {
    const message = oneLine(err);
    // The user picked the address: a busy or foreign one is a usage error.
    if (/already in use|EADDRINUSE|EADDRNOTAVAIL|EACCES/.test(message)) throw new UsageError(message);
    throw new RunFailure(`${options.model} server failed to start: ${message}`);
  }
  const where = server.host.includes(":") ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
  const work = options.work === null ? "" : `, work ${formatWork(options.work)} per ${options.work.messageBytes} B`;
  const speaks =
    options.protocol === "chat" ? `, chat (frames up to ${options.maxFrameBytes} bytes)` : options.protocol === "chat-raw" ? ", chat-raw (each read relayed as it came: the book's chat client and nc work)" : "";
  const http = options.protocol === "http" ? " (http)" : "";
  const stats = server.portStats?.() ?? null;
  const port = stats === null ? "" : options.completionPort.wake === "all" ? ", port wakes all waiters (no concurrency limit)" : `, port concurrency ${stats.concurrency}`;
  const shared = options.reusePort === true ? " (SO_REUSEPORT)" : "";
  io.stdout.write(`iobench: ${options.model} model${http}, ${options.threads} threads${port}${work}${speaks}, listening on ${where}${shared} (Ctrl-C stops)\n`);
  if (!io.signal.aborted) await new Promise<void>((resolve) => io.signal.addEventListener("abort", () => resolve(), { once: true }));
  await server.stop();
  if (options.protocol === "http") {
    const { httpCountsOfProcess } = await import("../protocol/choice.js");
    const h = httpCountsOfProcess();
    if (h !== null) io.stdout.write(`iobench: http: ${h.requests} requests answered; refused: ${h.badRequests} malformed, ${h.headsTooLong} heads too long; ${h.headerTimeouts} closed for a head not complete within ${options.headerTimeoutMs} ms\n`);
  }
  const chat = server.chatCounts?.();
  if (chat !== undefined) {
    const what = options.protocol === "chat-raw" ? "reads" : "frames";
    io.stdout.write(`iobench: chat: ${chat.frames} ${what} relayed; closed: ${chat.oversized} oversized, ${chat.malformed} malformed, ${chat.slowDropped} not reading\n`);
  }
  return 0;
}
