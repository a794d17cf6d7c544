/**
 * The rules between server options, written once. The command line (bench
 * and serve), the sweep planner and the server entry (start.ts) all ask
 * checkServerOptions; each turns a problem into its own kind of error, and
 * names the options its own way (flags on the command line, fields in the
 * server process's JSON). What each model accepts is data: its
 * capabilities in models.ts.
 */
import { isIP } from "node:net";
import type { PortSettings, ServerOptions } from "../contracts/server.js";
import { COMMAND_PREFIX, DEFAULT_SERVER_OPTIONS, MAX_CONCURRENCY, type ModelName } from "../contracts/server.js";
import { checkMessageWork } from "../contracts/work.js";
import { HEADER_BYTES } from "../protocol/chat.js";
import { HTTP_MIN_CAP_BYTES } from "../protocol/http.js";
import { MAX_BUFFER_BYTES, MAX_CHAT_FRAME_BYTES, MAX_HEADER_TIMEOUT_MS, MAX_THREADS } from "../contracts/limits.js";
import { MODELS, PROTOCOLS, isCommandModel, modelInfo, modelNames, type ModelInfo, type ModelOption } from "./models.js";

export { MAX_THREADS };

/** How a caller names each option in its messages: `--buffer` on the command line, `bufferBytes` in JSON. */
export type OptionNames = Partial<Record<keyof ServerOptions, string>>;

/** The smallest per-connection buffer a chat server with frames up to `maxFrameBytes` can work with: one whole frame. */
export function chatBufferFloor(maxFrameBytes: number): number {
  return maxFrameBytes + HEADER_BYTES;
}

/** Whether `info`'s model runs with this --threads setting. */
export function acceptsThreads(info: ModelInfo, threads: ServerOptions["threads"]): boolean {
  return threads === "per-connection" ? info.capabilities.perConnection : Number.isInteger(threads) && threads >= 1 && threads <= MAX_THREADS;
}

/** Whether `info`'s model honours `option` (any model may be given its default). */
export function honours(info: ModelInfo, option: ModelOption): boolean {
  return info.capabilities.options.includes(option);
}

/** "the blocking model", "the a or b models": the models with a capability, for messages. */
function modelsThat(has: (m: ModelInfo) => boolean): string {
  const names = MODELS.filter(has).map((m) => m.name);
  return `the ${names.join(" or ")} model${names.length === 1 ? "" : "s"}`;
}

/** Why `threads` does not run on any of `models`, or null when one of them takes it. */
export function threadsProblem(models: readonly ModelInfo[], threads: ServerOptions["threads"], names: OptionNames = {}): string | null {
  if (models.some((m) => acceptsThreads(m, threads))) return null;
  const flag = names.threads ?? "threads";
  if (threads === "per-connection") return `${flag} per-connection applies to ${modelsThat((m) => m.capabilities.perConnection)} only`;
  const perConnection = models.some((m) => m.capabilities.perConnection) ? ' or "per-connection"' : "";
  return `${flag} must be a whole number from 1 to ${MAX_THREADS}${perConnection}, not ${JSON.stringify(threads)}`;
}

/** How a command model is told to speak more than echo. */
function protocolHint(info: ModelInfo): string {
  if (!isCommandModel(info.name)) return "";
  return ` (it speaks ${info.capabilities.protocols.join(", ")}; declare more with --server-protocols ${info.name.slice(COMMAND_PREFIX.length)}=echo,http)`;
}

function isPositiveInt(n: unknown, max: number): n is number {
  return typeof n === "number" && Number.isInteger(n) && n >= 1 && n <= max;
}

/** Whether `o` gives `option` its default value. */
function isDefault(o: ServerOptions, option: ModelOption): boolean {
  const [a, b] = [o[option], DEFAULT_SERVER_OPTIONS[option]];
  return typeof a === "object" ? JSON.stringify(a) === JSON.stringify(b) : a === b;
}

/** What is wrong with the iocp model's port settings, or null. */
function portProblem(p: PortSettings, name: string): string | null {
  if (typeof p !== "object" || p === null) return `${name} must be {concurrency, wake, blockNotice}, not ${JSON.stringify(p)}`;
  if (!(p.concurrency === 0 || isPositiveInt(p.concurrency, MAX_CONCURRENCY))) {
    return `${name}.concurrency must be a whole number from 0 (the usable CPUs) to ${MAX_CONCURRENCY}, not ${JSON.stringify(p.concurrency)}`;
  }
  if (p.wake !== "lifo" && p.wake !== "all") return `${name}.wake must be "lifo" or "all", not ${JSON.stringify(p.wake)}`;
  if (typeof p.blockNotice !== "boolean") return `${name}.blockNotice must be true or false, not ${JSON.stringify(p.blockNotice)}`;
  return null;
}

/**
 * The first thing wrong with `o` (one line naming the option), or null.
 * `o.model` must be a canonical name: a name is resolved once, where it
 * comes in (cli/parse.ts, start.ts). A command model brings its own entry
 * (`info`, from commandModel()).
 */
export function checkServerOptions(o: ServerOptions, names: OptionNames = {}, info?: ModelInfo): string | null {
  const n = (field: keyof ServerOptions): string => names[field] ?? field;
  if (info === undefined) {
    if (!MODELS.some((m) => m.name === o.model)) return `unknown model "${String(o.model)}" (one of: ${modelNames().join(", ")})`;
    info = modelInfo(o.model as ModelName);
  }
  const threads = threadsProblem([info], o.threads, names);
  if (threads !== null) return o.threads === "per-connection" ? `${threads} (not ${info.name})` : threads;
  if (typeof o.host !== "string" || isIP(o.host) === 0) return `${n("host")} must be a numeric IPv4 or IPv6 address, not ${JSON.stringify(o.host)}`;
  if (!(Number.isInteger(o.port) && o.port >= 0 && o.port <= 65535)) return `${n("port")} must be a whole number from 0 to 65535, not ${JSON.stringify(o.port)}`;
  if (!isPositiveInt(o.backlog, 1 << 20)) return `${n("backlog")} must be a positive whole number, not ${JSON.stringify(o.backlog)}`;
  if (!isPositiveInt(o.bufferBytes, MAX_BUFFER_BYTES)) return `${n("bufferBytes")} must be a whole number from 1 to ${MAX_BUFFER_BYTES}, not ${JSON.stringify(o.bufferBytes)}`;
  if (o.accept !== "poll" && o.accept !== "ring") return `${n("accept")} must be "poll" or "ring", not ${JSON.stringify(o.accept)}`;
  if (!(PROTOCOLS as readonly string[]).includes(o.protocol)) return `${n("protocol")} must be ${PROTOCOLS.map((p) => `"${p}"`).join(", ")}, not ${JSON.stringify(o.protocol)}`;
  if (!info.capabilities.protocols.includes(o.protocol)) return `${n("protocol")} ${o.protocol} is not spoken by the ${info.name} model${protocolHint(info)}`;
  if (!isPositiveInt(o.maxFrameBytes, MAX_CHAT_FRAME_BYTES)) return `${n("maxFrameBytes")} must be a whole number from 1 to ${MAX_CHAT_FRAME_BYTES}, not ${JSON.stringify(o.maxFrameBytes)}`;
  if (!isPositiveInt(o.headerTimeoutMs, MAX_HEADER_TIMEOUT_MS)) return `${n("headerTimeoutMs")} must be a whole number from 1 to ${MAX_HEADER_TIMEOUT_MS}, not ${JSON.stringify(o.headerTimeoutMs)}`;
  if (!isPositiveInt(o.maxConnectionThreads, 1 << 16)) return `${n("maxConnectionThreads")} must be a positive whole number, not ${JSON.stringify(o.maxConnectionThreads)}`;
  const port = portProblem(o.completionPort, n("completionPort"));
  if (port !== null) return port;
  for (const option of ["accept", "maxConnectionThreads", "completionPort", "work"] as const) {
    if (!isDefault(o, option) && !honours(info, option)) {
      return `${n(option)} applies to ${modelsThat((m) => honours(m, option))} only, not ${info.name}`;
    }
  }
  try {
    checkMessageWork(o.work);
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
  const chat = o.protocol === "chat" || o.protocol === "chat-raw";
  if (chat && o.work !== null && o.work !== undefined) return `${n("work")} applies to ${n("protocol")} echo or http, not ${o.protocol}`;
  if (chat && o.bufferBytes < chatBufferFloor(o.maxFrameBytes)) {
    return `${n("bufferBytes")} ${o.bufferBytes} must hold one largest chat frame (${n("maxFrameBytes")} ${o.maxFrameBytes} + ${HEADER_BYTES})`;
  }
  if (o.protocol === "http" && o.bufferBytes < HTTP_MIN_CAP_BYTES) return `${n("bufferBytes")} must be at least ${HTTP_MIN_CAP_BYTES} for the http protocol, not ${o.bufferBytes}`;
  return null;
}
