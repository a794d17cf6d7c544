/**
 * The model table of DESIGN.md as data: the CLI resolves names and aliases
 * here, the README table and `--help` are drawn from it, and the server
 * process imports a model's file only when that model is asked for.
 */
import type { ModelName } from "../contracts/server.js";
import type { StartModel } from "./model.js";

export interface ModelInfo {
  name: ModelName;
  aliases: string[];
  seed: string;
  primitive: string;
  threadsMeaning: string;
  /** Source file, relative to the package root. */
  file: string;
  /** Needs io_uring (fails at start with one line where it is unavailable). */
  usesIoUring: boolean;
  load(): Promise<StartModel>;
  /** The model's chat server (--protocol chat): the same model's idiom, with cross-thread fan-out. */
  loadChat(): Promise<StartModel>;
}

export const MODELS: readonly ModelInfo[] = [
  {
    name: "blocking",
    aliases: [],
    seed: "classic thread-per-connection echo",
    primitive: "blocking accept/recv/send",
    threadsMeaning: "N threads, each serving one connection at a time (per-connection: a thread per connection)",
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
    file: "servers/completion-routine.ts",
    usesIoUring: true,
    load: async () => (await import("./completion-routine.js")).start,
    loadChat: async () => (await import("./chat/completion-routine.js")).start,
  },
  {
    name: "iocp",
    aliases: ["completion-port"],
    seed: "IOCPEchoServ_win.cpp",
    primitive: "one io_uring completion queue dequeued by N worker threads; an acceptor thread accepts",
    threadsMeaning: "N worker threads on one port",
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
    file: "servers/node.ts",
    usesIoUring: false,
    load: async () => (await import("./node.js")).start,
    loadChat: async () => (await import("./chat/node.js")).start,
  },
];

/** The model a CLI name or alias means, or undefined. */
export function findModel(name: string): ModelInfo | undefined {
  const n = name.toLowerCase();
  return MODELS.find((m) => m.name === n || m.aliases.includes(n));
}

/** Every accepted spelling, for error messages and --help. */
export function modelNames(): string[] {
  return MODELS.flatMap((m) => [m.name, ...m.aliases]);
}
