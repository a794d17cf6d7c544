/**
 * What the client's main thread and its worker threads share: the phase
 * word, the live-counter layout, the worker's configuration and its reply.
 * A worker busy in its loop never sees postMessage, so control goes through
 * shared memory that it reads on every loop iteration.
 */
import type { HttpMethod } from "../contracts/client.js";
import type { ClientEngine, ErrorCounts, LoadScript } from "../contracts/client.js";

/** Values of the phase word (Int32 slot 0 of the control buffer). They only ever increase. */
export const Phase = {
  /** Sessions connect and exchange messages; nothing is counted in the window yet. */
  WarmUp: 0,
  /** The measured window: workers reset their window counters on entering it. */
  Measure: 1,
  /** Window closed: traffic goes on (steady load while the runner samples), nothing more is counted in it. */
  Cooldown: 2,
  /** Close every socket, post the results, exit. */
  Stop: 3,
} as const;
export type PhaseValue = (typeof Phase)[keyof typeof Phase];

/** Float64 slots per worker in the live-counter buffer: 4 used, padded to a 64-byte cache line so workers never write to one line. */
export const LIVE_SLOTS = 8;
/** Slot offsets: completed messages since start, errors since start, sessions connected now. */
export const LIVE_MESSAGES = 0;
export const LIVE_ERRORS = 1;
export const LIVE_CONNECTED = 2;
/** Connections established since start. */
export const LIVE_CONNECTS = 3;

/** Width of one timeline interval, ms. */
export const TIMELINE_INTERVAL_MS = 500;
/** Width of one latency-timeline interval, ms. */
export const LATENCY_INTERVAL_MS = 1000;

/** Error kinds in the order workers count them in a Float64Array. */
export const ERROR_KINDS = ["connect", "reset", "timeout", "mismatch", "closedEarly"] as const satisfies readonly (keyof ErrorCounts)[];
export const E_CONNECT = 0;
export const E_RESET = 1;
export const E_TIMEOUT = 2;
export const E_MISMATCH = 3;
export const E_CLOSED_EARLY = 4;

/** Turns a worker's per-kind counts back into ErrorCounts. */
export function toErrorCounts(counts: ArrayLike<number>): ErrorCounts {
  return {
    connect: counts[E_CONNECT] ?? 0,
    reset: counts[E_RESET] ?? 0,
    timeout: counts[E_TIMEOUT] ?? 0,
    mismatch: counts[E_MISMATCH] ?? 0,
    closedEarly: counts[E_CLOSED_EARLY] ?? 0,
  };
}

/** Marks workerData as ours, so the worker module does nothing if loaded some other way. */
export const WORKER_TAG = "iobench-client-worker";

/** Everything one worker thread needs (its workerData). */
export interface WorkerConfig {
  tag: typeof WORKER_TAG;
  /** Worker number, 0-based: its slot in the live counters. */
  index: number;
  host: string;
  port: number;
  sizeBytes: number;
  timeoutMs: number;
  connectTimeoutMs: number;
  connectConcurrency: number;
  /** Session engine: worker.ts's epoll loop or uring-engine.ts. */
  engine: ClientEngine;
  /** CPUs to pin this thread to; empty = no pinning. */
  cpus: number[];
  /** Global index of this worker's first session (message shifts depend on it). */
  firstSession: number;
  /** Sessions this worker runs. */
  sessions: number;
  /** Sessions of the whole client (ramp-up spreads over all of them). */
  totalSessions: number;
  /** Client thread count: connect rates are split evenly over them. */
  threadCount: number;
  script: LoadScript;
  /** Int32 [phase]. */
  control: SharedArrayBuffer;
  /** Float64 [workers * LIVE_SLOTS]. */
  live: SharedArrayBuffer;
  /** Origin of the timelines' intervals, epoch ms: the client's start, or the one given for a load of several clients, so the timelines of all workers (and clients) line up. */
  startEpochMs: number;
  /** http session mode (clients/http-session.ts): the request method; null = echo. */
  http: HttpMethod | null;
  /** Source addresses, session i (global) from sourceHosts[i % length]; empty = the kernel picks. */
  sourceHosts: string[];
}

/** A worker's first message, once pinned and ready. */
export interface WorkerReady {
  type: "ready";
  threadId: number;
}

/** A worker's last message, after it closed its sockets. */
export interface WorkerResult {
  type: "result";
  threadId: number;
  /** Round trips inside the window, encoded histogram (µs). */
  latency: string;
  /** Open loop: round trips from the actual send, encoded (µs); null in closed loop. */
  uncorrectedLatency: string | null;
  /** Sessions that completed an echo inside the window. */
  sessionsServed: number;
  /** Sessions with an echo timeout inside the window. */
  sessionsTimedOut: number;
  /** Connections established inside the window, and over the run. */
  connects: number;
  connectsTotal: number;
  /** Connect latency over the whole run, encoded histogram (µs). */
  connectLatency: string;
  /** connect() to first echo, first echoes inside the window, encoded histogram (µs): clients/first-echo.ts. */
  firstEcho: string;
  /** Messages completed and verified inside the window. */
  messages: number;
  /** Bytes received and verified inside the window. */
  bytes: number;
  errors: ErrorCounts;
  errorsTotal: ErrorCounts;
  /** Completed messages per TIMELINE_INTERVAL_MS from the origin. */
  timeline: number[];
  /** Round trips per LATENCY_INTERVAL_MS from the origin, warm-up included, one encoded histogram each (µs). */
  latencyIntervals: string[];
  /** Open loop: how late this thread itself sent messages whose time came while their session was idle, encoded (µs); null in closed loop. */
  sendLag: string | null;
}

export type WorkerReply = WorkerReady | WorkerResult;
