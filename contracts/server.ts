/**
 * What a server model is asked to do: the options that cross from the
 * command line and the sweep planner to the server process (as JSON) and
 * into results.json. Which options each model accepts, and the rules
 * between them, are servers/models.ts (capabilities) and servers/options.ts.
 */
import type { MessageWork } from "./work.js";

/** Default largest chat payload, bytes. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024;
/** Default http header timeout, ms. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;

/** Canonical model names, as the CLI and results.json spell them. */
export type ModelName = "blocking" | "completion-routine" | "iocp" | "epoll" | "node";

/** A command model's name: the user's own server, run from a command line (`cmd:NAME`). */
export type CommandModelName = `cmd:${string}`;
export const COMMAND_PREFIX = "cmd:";

export interface ServerOptions {
  /** A built-in model, or a command model (started by the runner from its command line, not by the server process). */
  model: ModelName | CommandModelName;
  /** Thread count; "per-connection" only for the blocking model. */
  threads: number | "per-connection";
  /** Numeric address to bind (127.0.0.1 unless the user said otherwise). */
  host: string;
  /** 0 = an ephemeral port. */
  port: number;
  backlog: number;
  /**
   * Listen with SO_REUSEPORT: several server processes on one port, the
   * kernel spreading connections over them (each process its own
   * open-file limit). Absent: false.
   */
  reusePort?: boolean;
  /**
   * The most a connection's pending echo may hold in the server: a client
   * that sends but never reads stops being read from once this is full.
   */
  bufferBytes: number;
  /** completion-routine only: poll a non-blocking accept (the seed) or post accept on the ring. */
  accept: "poll" | "ring";
  /** blocking --threads per-connection: the most threads alive at once. */
  maxConnectionThreads: number;
  /** Work done for every message received (--work), or null; see protocol/work.ts for what "per message" means. */
  work: MessageWork | null;
  /**
   * What the server speaks: "echo" (the seeds' protocol), "http" (minimal
   * HTTP/1.1 keep-alive, protocol/http.ts), "chat" (exercise 6:
   * length-prefixed frames relayed to every client, see protocol/chat.ts)
   * or "chat-raw" (the book's chat: each recv's bytes relayed as they are,
   * protocol/chat-raw.ts). In chat, bufferBytes caps each connection's
   * output backlog.
   */
  protocol: "echo" | "http" | "chat" | "chat-raw";
  /** chat: the largest frame payload, bytes; a longer one closes its connection. chat-raw: the largest piece relayed at once. */
  maxFrameBytes: number;
  /** http: a request head not complete within this closes its connection (counted), ms. */
  headerTimeoutMs: number;
  /** iocp only: how its completion port behaves. */
  completionPort: PortSettings;
}

/**
 * The iocp model's completion port (native/port.c). "lifo" is a Windows
 * completion port: at most `concurrency` threads run completions at once,
 * waiters are released newest first, one per completion batch. "all" is
 * the shared queue without either (every waiter wakes on each completion:
 * the thundering herd), kept to be measured beside it.
 */
export interface PortSettings {
  /** CreateIoCompletionPort's NumberOfConcurrentThreads; 0 = the CPUs the server may run on (sched_getaffinity). Ignored by "all". */
  concurrency: number;
  wake: "lifo" | "all";
  /**
   * With `block:` work: a worker tells the port it is about to block and
   * when it is done, standing in for the Windows kernel, which sees it by
   * itself and releases another waiter meanwhile. false = the port is not
   * told (what the limit does to blocking work without that).
   */
  blockNotice: boolean;
}

/** The largest concurrency value accepted: as many as the most threads. */
export const MAX_CONCURRENCY = 1024;

export const DEFAULT_PORT_SETTINGS: PortSettings = { concurrency: 0, wake: "lifo", blockNotice: true };

export const DEFAULT_SERVER_OPTIONS: Omit<ServerOptions, "model" | "threads"> = {
  host: "127.0.0.1",
  port: 0,
  backlog: 4096,
  bufferBytes: 64 * 1024,
  accept: "poll",
  maxConnectionThreads: 1024,
  work: null,
  protocol: "echo",
  maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
  headerTimeoutMs: DEFAULT_HEADER_TIMEOUT_MS,
  completionPort: DEFAULT_PORT_SETTINGS,
};
