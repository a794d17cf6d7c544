/**
 * The load client's contract with the runner. The client is StableEchoClnt
 * scripted into many sessions: connect, send a message, read until every
 * byte is back, compare, record the round trip, repeat.
 */
import type { Histogram } from "hdr-histogram-js";

export interface ClientOptions {
  /** Numeric address of the echo server. */
  host: string;
  port: number;
  /** Concurrent sessions (one TCP connection each). */
  sessions: number;
  /** Bytes per message. */
  sizeBytes: number;
  /** Client worker threads the sessions are spread over. */
  clientThreads: number;
  /** An echo not complete within this is a timeout error; the session reconnects. */
  timeoutMs: number;
  /** A connect not complete within this is a connect error; the session retries. */
  connectTimeoutMs: number;
  /** Most connects in flight per client thread, so thousands of sessions ramp up without overflowing the server's backlog. */
  connectConcurrency: number;
  /** Pin the client's threads to these CPUs (empty = no pinning). */
  cpus: number[];
}

/** Errors by kind. Every kind closes the session, which then reconnects. */
export interface ErrorCounts {
  /** connect() failed or timed out. */
  connect: number;
  /** ECONNRESET / EPIPE or another socket error mid-session. */
  reset: number;
  /** The echo did not complete within timeoutMs. */
  timeout: number;
  /** The echoed bytes differ from the bytes sent. */
  mismatch: number;
  /** The server closed the connection before echoing every byte. */
  closedEarly: number;
}

/** Counters the runner reads while a run is in flight, for progress. */
export interface LiveCounters {
  messages: number;
  errors: number;
  connected: number;
}

/** What the client measured, handed to the runner by finish(). */
export interface ClientMeasurement {
  /** Length of the measured window, ms. */
  durationMs: number;
  /** Messages whose echo completed and verified inside the window. */
  messages: number;
  /** Bytes echoed back and verified inside the window. */
  bytes: number;
  /** Round trip per message, µs, inside the window (merged over threads). */
  latencyUs: Histogram;
  /** Time from connect() to established, µs, over the whole run. */
  connectLatencyUs: Histogram;
  /** Errors inside the window. */
  errors: ErrorCounts;
  /** Errors over the whole run, warm-up included. */
  errorsTotal: ErrorCounts;
  /** Sessions connected when the window closed. */
  sessionsConnected: number;
  /** Completed messages per interval from the client's start (warm-up included). */
  timeline: { intervalMs: number; messages: number[]; measureStartIndex: number };
  /** Kernel thread ids of the client's worker threads (for /proc/self/task/<tid>). */
  threadIds: number[];
}

export const NO_ERRORS: Readonly<ErrorCounts> = { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 };
