/**
 * The model table of the README as data: names and aliases, what each model
 * accepts (its capabilities: servers/options.ts checks every request
 * against them), the README table and `--help`. The server process
 * imports a model's file only when that model is asked for.
 */
import { COMMAND_PREFIX, type CommandModelName, type ModelName, type ServerOptions } from "../contracts/server.js";
import type { StartModel } from "./model.js";

/** What a model accepts beyond what every model honours. */
export interface ModelCapabilities {
  /** `--threads per-connection` (a thread per connection) besides a thread count. */
  perConnection: boolean;
  /** Protocols it speaks (ServerOptions.protocol). */
  protocols: readonly ServerOptions["protocol"][];
  /** Options only some models honour that this one does: any other model must get them at their default. */
  options: readonly ModelOption[];
}

/** Options that only some models honour. */
export type ModelOption = "accept" | "maxConnectionThreads" | "completionPort" | "work";

/** Every protocol a server may speak (ServerOptions.protocol). */
export const PROTOCOLS: readonly ServerOptions["protocol"][] = ["echo", "http", "chat", "chat-raw"];
const ALL_PROTOCOLS = PROTOCOLS;

export interface ModelInfo {
  name: ModelName | CommandModelName;
  aliases: string[];
  seed: string;
  primitive: string;
  /** What `--threads N` means for this model (prose for the README and --help; the rule is `capabilities`). */
  threadsMeaning: string;
  capabilities: ModelCapabilities;
  /** Source file, relative to the package root. */
  file: string;
  /** Needs io_uring (fails at start with one line where it is unavailable). */
  usesIoUring: boolean;
  load(): Promise<StartModel>;
  /** The model's chat server (--protocol chat or chat-raw): the same model's idiom, with cross-thread fan-out. */
  loadChat(): Promise<StartModel>;
}

/** A user's own server, run from its command line (`--model cmd:NAME --server-cmd NAME='...'`, runner/command-server.ts). */
export function commandModel(name: CommandModelName, protocols: readonly ServerOptions["protocol"][] = ["echo"]): ModelInfo {
  const notHere = (): Promise<StartModel> => Promise.reject(new Error(`${name} is a command: the runner starts it, not the server process`));
  return {
    name,
    aliases: [],
    seed: "your own server",
    primitive: "whatever its command runs (measured over its whole process tree)",
    threadsMeaning: "the number given to its command as {threads}",
    capabilities: { perConnection: false, protocols, options: [] },
    file: "",
    usesIoUring: false,
    load: notHere,
    loadChat: notHere,
  };
}

/** Whether a model name is a command model's (`cmd:NAME`). */
export function isCommandModel(name: string): name is CommandModelName {
  return name.startsWith(COMMAND_PREFIX);
}

/** One of the five models iobench itself runs. */
export type BuiltinModel = ModelInfo & { name: ModelName };

export const MODELS: readonly BuiltinModel[] = [
  {
    name: "blocking",
    aliases: [],
    seed: "classic thread-per-connection echo",
    primitive: "blocking accept/recv/send",
    threadsMeaning: "N threads, each serving one connection at a time (per-connection: a thread per connection)",
    capabilities: { perConnection: true, protocols: ALL_PROTOCOLS, options: ["maxConnectionThreads", "work"] },
    file: "servers/blocking.ts",
    usesIoUring: false,
    load: async () => (await import("./blocking.js")).start,
    loadChat: async () => (await import("./chat/blocking.js")).start,
  },
  {
    name: "completion-routine",
    aliases: ["apc"],
    seed: "CmplRouEchoServ_win.cpp",
    primitive: "io_uring ring per thread, completions run as callbacks during an alertable wait; non-blocking accept polled between waits",
    threadsMeaning: "N independent threads, each with its own ring",
    capabilities: { perConnection: false, protocols: ALL_PROTOCOLS, options: ["accept", "work"] },
    file: "servers/completion-routine.ts",
    usesIoUring: true,
    load: async () => (await import("./completion-routine.js")).start,
    loadChat: async () => (await import("./chat/completion-routine.js")).start,
  },
  {
    name: "iocp",
    aliases: ["completion-port"],
    seed: "IOCPEchoServ_win.cpp",
    primitive: "a completion port on one io_uring: at most --concurrency workers run at once (default: the CPUs), waiters released newest first, one per completion batch; an acceptor thread accepts",
    threadsMeaning: "N worker threads on one port",
    capabilities: { perConnection: false, protocols: ALL_PROTOCOLS, options: ["completionPort", "work"] },
    file: "servers/iocp.ts",
    usesIoUring: true,
    load: async () => (await import("./iocp.js")).start,
    loadChat: async () => (await import("./chat/iocp.js")).start,
  },
  {
    name: "epoll",
    aliases: [],
    seed: "the Linux counterpart",
    primitive: "readiness: one epoll set per thread (EPOLLEXCLUSIVE listener), non-blocking recv/send",
    threadsMeaning: "N event loops sharing the listening socket",
    capabilities: { perConnection: false, protocols: ALL_PROTOCOLS, options: ["work"] },
    file: "servers/epoll.ts",
    usesIoUring: false,
    load: async () => (await import("./epoll.js")).start,
    loadChat: async () => (await import("./chat/epoll.js")).start,
  },
  {
    name: "node",
    aliases: [],
    seed: "what a Node.js developer would write",
    primitive: "net.Server (libuv) in N worker threads sharing one listening fd",
    threadsMeaning: "N event loops",
    capabilities: { perConnection: false, protocols: ALL_PROTOCOLS, options: ["work"] },
    file: "servers/node.ts",
    usesIoUring: false,
    load: async () => (await import("./node.js")).start,
    loadChat: async () => (await import("./chat/node.js")).start,
  },
];

/** The model a CLI name or alias means, or undefined. */
export function findModel(name: string): BuiltinModel | undefined {
  const n = name.toLowerCase();
  return MODELS.find((m) => m.name === n || m.aliases.includes(n));
}

/** The entry of a canonical model name (resolved once, where the name came in). */
export function modelInfo(name: ModelName): BuiltinModel {
  const info = MODELS.find((m) => m.name === name);
  if (info === undefined) throw new Error(`unknown model "${String(name)}" (one of: ${modelNames().join(", ")})`);
  return info;
}

/** Every accepted spelling, for error messages and --help. */
export function modelNames(): string[] {
  return MODELS.flatMap((m) => [m.name, ...m.aliases]);
}
