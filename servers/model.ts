/**
 * What every server model provides, and the options they share. A model is
 * started inside the server process (servers/main.ts) by its supervisor
 * thread, which owns signals; the model's own threads are worker threads.
 */
import { DEFAULT_MAX_FRAME_BYTES, type ChatCounts } from "../protocol/chat.js";

import type { MessageWork } from "../protocol/work.js";
import type { PortStats } from "../native/index.js";

/** Canonical model names, as the CLI and results.json spell them. */
export type ModelName = "blocking" | "completion-routine" | "iocp" | "epoll" | "node";

export interface ServerOptions {
  model: ModelName;
  /** Thread count; "per-connection" only for the blocking model. */
  threads: number | "per-connection";
  /** Numeric address to bind (127.0.0.1 unless the user said otherwise). */
  host: string;
  /** 0 = an ephemeral port. */
  port: number;
  backlog: number;
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
   * HTTP/1.1 keep-alive, protocol/http.ts) or "chat" (exercise 6:
   * length-prefixed frames relayed to every client, see protocol/chat.ts).
   * In chat, bufferBytes caps each connection's output backlog.
   */
  protocol: "echo" | "http" | "chat";
  /** chat: the largest frame payload, bytes; a longer one closes its connection. */
  maxFrameBytes: number;
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

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** Ends every thread, closes every fd; resolves when all threads have exited. */
  stop(): Promise<void>;
  /** chat: what the server counted so far (frames relayed, connections closed and why). */
  chatCounts?(): ChatCounts;
  /** iocp: the completion port's counters (after stop(), as they were when it closed). */
  portStats?(): PortStats | null;
}

export type StartModel = (options: ServerOptions) => Promise<RunningServer>;

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
  completionPort: DEFAULT_PORT_SETTINGS,
};
