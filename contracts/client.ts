/**
 * The load client's contract with the runner. The client is StableEchoClnt
 * scripted into many sessions: connect, send a message, read until every
 * byte is back, compare, record the round trip, repeat.
 */
import type { Histogram } from "hdr-histogram-js";
import type { LatencyIntervals } from "./histogram.js";

/** What a session sends in http mode: GET (a fixed answer body is expected) or POST of `sizeBytes` (echoed). */
export type HttpMethod = "GET" | "POST";

/**
 * How a client worker thread drives its sessions: `epoll` (readiness, a
 * recv and a send call per message: clients/worker.ts) or `uring` (io_uring,
 * one call per batch: clients/uring-engine.ts).
 */
export type ClientEngine = "epoll" | "uring";
export const CLIENT_ENGINES: readonly ClientEngine[] = ["epoll", "uring"];

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
  /** How sessions pace themselves beyond StableEchoClnt's closed loop; absent = DEFAULT_SCRIPT (the seed's pattern). */
  script?: LoadScript;
  /** Session engine of the worker threads; absent = clientEngineFor (clients/client.ts) chooses. */
  engine?: ClientEngine;
  /** http session mode: each message is a request with this method (POST: a body of sizeBytes, echoed). Absent: echo. */
  http?: HttpMethod;
  /**
   * Source addresses the sessions connect from, session i from
   * sourceHosts[i % length]: each brings its own ephemeral ports toward the
   * server, so more sessions than one address's port range can reach one
   * server address. Absent or empty: the kernel picks (one address).
   */
  sourceHosts?: string[];
  /**
   * This client is one part of a larger load (several processes or
   * machines): its sessions are numbers sessionOffset.. of totalSessions,
   * so source addresses, ramp-up slots and message patterns continue the
   * whole load's. Absent: the whole load (0 of sessions).
   */
  part?: { sessionOffset: number; totalSessions: number };
  /**
   * Origin of the timelines' intervals, epoch ms (absent: the client's
   * start). Clients that make one load together (processes, agents) are
   * given one origin, so their latency timelines merge exactly
   * (contracts/histogram.ts mergeIntervals). Not later than the start.
   */
  timeOriginEpochMs?: number;
}

/**
 * Message size: one size, sizes drawn uniformly from [minBytes, maxBytes],
 * or one of several sizes with weights. `sizeBytes` of ClientOptions must
 * be the largest size the spec can draw.
 */
export type SizeSpec =
  | { kind: "fixed"; bytes: number }
  | { kind: "uniform"; minBytes: number; maxBytes: number }
  | { kind: "choice"; bytes: number[]; weights: number[] };

/**
 * The session script: everything that departs from "connect once, then
 * send the next message as soon as the echo is back". Every field at its
 * default (DEFAULT_SCRIPT) is exactly that seed pattern, and the engine
 * then runs its plain closed loop with no per-message check of any of this.
 */
export interface LoadScript {
  /** Sessions start connecting spread evenly over this, ms (0 = all at once). */
  rampUpMs: number;
  /** Most new connections per second for the whole client (0 = no limit). */
  connectRatePerSec: number;
  /** Message size; null = always ClientOptions.sizeBytes. */
  size: SizeSpec | null;
  /** Messages per connection; after the last echo the session closes (FIN) and reconnects. 0 = one connection forever. */
  messagesPerSession: number;
  /** Closed loop: pause between an echo and the next message, ms. */
  thinkTimeMs: number;
  /**
   * Open loop: messages per second per session (0 = closed loop). Each
   * session sends on a fixed schedule (staggered randomly across sessions)
   * and, still one message in flight, sends a late message as soon as the
   * previous echo is back; latency counts from the intended send time
   * (wrk2's correction for coordinated omission), uncorrected from the
   * actual send.
   */
  ratePerSession: number;
}

/** The seed's pattern: closed loop, connect once, no pauses. */
export const DEFAULT_SCRIPT: Readonly<LoadScript> = {
  rampUpMs: 0,
  connectRatePerSec: 0,
  size: null,
  messagesPerSession: 0,
  thinkTimeMs: 0,
  ratePerSession: 0,
};

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
  /** Connections established since start (reconnects included). */
  connects: number;
}

/** What the client measured, handed to the runner by finish(). */
export interface ClientMeasurement {
  /** Length of the measured window, ms. */
  durationMs: number;
  /** Messages whose echo completed and verified inside the window. */
  messages: number;
  /** Bytes echoed back and verified inside the window. */
  bytes: number;
  /** Round trip per message, µs, inside the window (merged over threads); open loop: from the intended send time (corrected). */
  latencyUs: Histogram;
  /** Open loop only: round trip from the actual send (uncorrected, what a naive client reports); null in closed loop. */
  uncorrectedLatencyUs: Histogram | null;
  /** Time from connect() to established, µs, over the whole run. */
  connectLatencyUs: Histogram;
  /** Time from connect() to that connection's first echo, µs, for first echoes inside the window; null when the client does not time it (outside tools, chat). */
  firstEchoUs: Histogram | null;
  /** Errors inside the window. */
  errors: ErrorCounts;
  /** Errors over the whole run, warm-up included. */
  errorsTotal: ErrorCounts;
  /** Sessions connected when the window closed. */
  sessionsConnected: number;
  /** Sessions that completed at least one echo inside the window. */
  sessionsServed: number;
  /** Sessions that had at least one echo time out inside the window. */
  sessionsTimedOut: number;
  /** Connections established inside the window (first connects and reconnects). */
  connects: number;
  /** Connections established over the whole run. */
  connectsTotal: number;
  /** Completed messages per interval from the client's start (warm-up included). */
  timeline: { intervalMs: number; messages: number[]; measureStartIndex: number };
  /**
   * Round trips per interval of wall time from the timeline origin (warm-up
   * included; open loop: corrected), merged over threads; measureStartIndex
   * is the interval the window opened in. Absent from outside tools and
   * chat rooms.
   */
  latencyTimeline?: LatencyIntervals & { measureStartIndex: number };
  /**
   * Open loop: how late the client itself sent messages whose time came
   * while their session was idle (timer and loop delay: the server's delay
   * is not in it), inside the window, µs; null in closed loop, absent from
   * outside tools.
   */
  sendLagUs?: Histogram | null;
  /** Kernel thread ids of the client's worker threads (for /proc/self/task/<tid>). */
  threadIds: number[];
  /**
   * chat-fanout runs only: the room's delivery accounting. messages and
   * bytes then count deliveries (one frame to one member) and latencyUs is
   * the fan-out latency, send to delivery.
   */
  chat?: ChatMeasurement;
}

export const NO_ERRORS: Readonly<ErrorCounts> = { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 };

/** What a chat-fanout run asks of the client. */
export interface ChatClientOptions {
  host: string;
  port: number;
  /** Members of the room (one TCP connection each). */
  members: number;
  /** How many of them send (the first ones). */
  senders: number;
  /** Frames per second each sender sends. */
  rateHz: number;
  /** Payload bytes per frame (at least CHAT_FIELDS_BYTES). */
  payloadBytes: number;
  /** How long finish() waits for frames still on their way; also the connect and join limit, ms. */
  timeoutMs: number;
}

/** The chat part of a run's figures (reports/schema.ts Figures.chat). */
export interface ChatMeasurement {
  members: number;
  senders: number;
  rateHz: number;
  /** Frames the senders sent over the whole run. */
  framesSent: number;
  /** Deliveries owed to the members still in the room at the end (frames sent × those members). */
  deliveriesExpected: number;
  /** Deliveries they received (whole and in order or not). */
  deliveriesReceived: number;
  /** Deliveries owed and never received. */
  missing: number;
  /** Frames that repeated or stepped back in their sender's order at a member. */
  outOfOrder: number;
  /** Frames that were not whole chat frames. */
  broken: number;
  /** Members the server closed (dropped as slow, or a failure). */
  membersClosed: number;
}

/** Which program generates the load. */
export type ClientKind = "iobench" | "autocannon" | "wrk";

export const CLIENT_KINDS: readonly ClientKind[] = ["iobench", "autocannon", "wrk"];

/** A running load generator. */
export interface LoadDriver {
  /** iobench's client: the session engine its threads run (outside tools: absent). */
  readonly engine?: ClientEngine;
  /** Counters for progress (an outside tool that reports only at its end shows zeros). */
  live(): LiveCounters;
  beginMeasure(): void;
  endMeasure(): void;
  /** Ends the window if open, stops the load and reports the window. */
  finish(): Promise<ClientMeasurement>;
  /** Stops the load on an error path. */
  stop(): Promise<void>;
}
