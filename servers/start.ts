/**
 * Starting a server model inside the current process: check the options,
 * make sure the machine can run the model at all, then load the model's
 * file and let it start its threads. Every failure is one line a user can
 * act on; the server process (main.ts) and the tests call this.
 */
import { isIP } from "node:net";
import { sys, errname } from "../native/index.js";
import type { RunningServer, ServerOptions, StartModel } from "./model.js";
import { findModel, modelNames, type ModelInfo } from "./models.js";
import { openListener } from "./listener.js";
import { checkMessageWork } from "../protocol/work.js";
import { HEADER_BYTES } from "../protocol/chat.js";
import { MAX_BUFFER_BYTES, MAX_CHAT_FRAME_BYTES, MAX_HEADER_TIMEOUT_MS } from "../reports/limits.js";

/** Entries of the probe ring: the smallest io_uring worth asking for. */
const PROBE_ENTRIES = 8;

/** Starts the model `options.model` (a name or an alias) and resolves once it listens. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const info = findModel(String(options.model));
  if (info === undefined) throw new Error(`unknown model "${String(options.model)}" (one of: ${modelNames().join(", ")})`);
  checkOptions(info, options);
  options = { ...options, work: checkMessageWork(options.work) };
  if (info.usesIoUring) probeIoUring(info);
  // A model may word a busy port its own way; try it here so the user always
  // reads the same line. SO_REUSEADDR lets the model bind it again at once.
  if (options.port !== 0) sys.close(openListener(options));
  const start = await loadModel(info, options.protocol === "chat");
  return start({ ...options, model: info.name });
}

async function loadModel(info: ModelInfo, chat: boolean): Promise<StartModel> {
  try {
    return await (chat ? info.loadChat() : info.load());
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new Error(`model ${info.name} cannot be loaded (${info.file}): ${message}`);
  }
}

/** io_uring can be compiled out, or forbidden by seccomp (Docker's default profile): say so before any thread starts. */
function probeIoUring(info: ModelInfo): void {
  const port = sys.portCreate(PROBE_ENTRIES);
  if (port < 0) throw new Error(`${info.name} needs io_uring, which this machine does not allow (io_uring_setup: ${errname(port)})`);
  sys.portClose(port);
}

function isPositiveInt(n: unknown, max: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= max;
}

/** Rejects options no model could honour, with the option's name in the message. */
function checkOptions(info: ModelInfo, o: ServerOptions): void {
  if (o.threads === "per-connection") {
    if (info.name !== "blocking") throw new Error(`threads "per-connection" is only for the blocking model, not ${info.name}`);
  } else if (!isPositiveInt(o.threads, 1024)) {
    throw new Error(`threads must be a whole number from 1 to 1024${info.name === "blocking" ? ' or "per-connection"' : ""}, not ${JSON.stringify(o.threads)}`);
  }
  if (typeof o.host !== "string" || isIP(o.host) === 0) throw new Error(`host must be a numeric IPv4 or IPv6 address, not ${JSON.stringify(o.host)}`);
  if (!(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) throw new Error(`port must be a whole number from 0 to 65535, not ${JSON.stringify(o.port)}`);
  if (!isPositiveInt(o.backlog, 1 << 20)) throw new Error(`backlog must be a positive whole number, not ${JSON.stringify(o.backlog)}`);
  if (!isPositiveInt(o.bufferBytes, MAX_BUFFER_BYTES)) throw new Error(`bufferBytes must be a whole number from 1 to ${MAX_BUFFER_BYTES}, not ${JSON.stringify(o.bufferBytes)}`);
  if (o.accept !== "poll" && o.accept !== "ring") throw new Error(`accept must be "poll" or "ring", not ${JSON.stringify(o.accept)}`);
  if (o.protocol !== "echo" && o.protocol !== "http" && o.protocol !== "chat") throw new Error(`protocol must be "echo", "http" or "chat", not ${JSON.stringify(o.protocol)}`);
  if (!isPositiveInt(o.maxFrameBytes, MAX_CHAT_FRAME_BYTES)) throw new Error(`maxFrameBytes must be a whole number from 1 to ${MAX_CHAT_FRAME_BYTES}, not ${JSON.stringify(o.maxFrameBytes)}`);
  if (o.protocol === "chat" && o.work !== null && o.work !== undefined) throw new Error("work applies to the echo protocol only, not chat");
  if (o.protocol === "chat" && o.bufferBytes < o.maxFrameBytes + HEADER_BYTES) {
    throw new Error(`chat: bufferBytes (${o.bufferBytes}) must hold at least one largest frame (maxFrameBytes ${o.maxFrameBytes} + ${HEADER_BYTES})`);
  }
  if (!isPositiveInt(o.headerTimeoutMs, MAX_HEADER_TIMEOUT_MS)) throw new Error(`headerTimeoutMs must be a whole number from 1 to ${MAX_HEADER_TIMEOUT_MS}, not ${JSON.stringify(o.headerTimeoutMs)}`);
  if (!isPositiveInt(o.maxConnectionThreads, 1 << 16)) throw new Error(`maxConnectionThreads must be a positive whole number, not ${JSON.stringify(o.maxConnectionThreads)}`);
}
