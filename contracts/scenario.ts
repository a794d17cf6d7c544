/**
 * The scenario file's shape (scenarios/format.ts checks and loads it): it
 * crosses from the scenario loader to the CLI and into results.json (the
 * effective scenario of a run).
 */

/** A message-size distribution: uniform between two sizes, or sizes with weights. */
export type SizeDistribution =
  | { uniform: { minBytes: number | string; maxBytes: number | string } }
  | { choice: { bytes: number | string; weight: number }[] };

/** A message size: bytes (64, or "4k"), a list of fixed sizes (one run each), or a distribution drawn per message. */
export type MessageSize = number | string | (number | string)[] | SizeDistribution;

/** The server side of a scenario: defaults for the models it runs against. */
export interface ScenarioServer {
  /** Models to run by default ("all" or names); --model overrides. */
  models?: string[];
  /** Server thread counts (or "per-connection"); --threads overrides. */
  threads?: (number | "per-connection")[];
  /** Protocol the sessions speak: echo, http (minimal HTTP/1.1 keep-alive, GET), or chat (one room: every session a member, `senders` of them sending; rates are per sender). */
  protocol?: "echo" | "http" | "chat";
  /** Per-message server work, as --work takes it: "cpu:50us" (spin), "block:2ms" (a blocking call, like a slow query); null for none. */
  work?: string | null;
  /** completion-routine accept style. */
  accept?: "poll" | "ring";
  /** Server's per-connection pending-echo limit, bytes. */
  bufferBytes?: number | string;
}

/** One scenario file. */
export interface Scenario {
  /** Short name (the built-ins' names are their file names). */
  name: string;
  /** One line saying what question the scenario asks. */
  description?: string;
  /** Concurrent sessions (TCP connections); a list sweeps over them. */
  sessions: number | number[];
  /** Sessions start connecting spread evenly over this many seconds (default 0: all at once). */
  rampUpSec?: number;
  /** Most new connections per second over the whole client (default 0: no limit). */
  connectRatePerSec?: number;
  messageSize: MessageSize;
  /** Messages on one connection before the session closes and reconnects (default "forever"). */
  messagesPerSession?: number | "forever";
  /** Closed loop: pause between an echo and the next message, ms (default 0). */
  thinkTimeMs?: number;
  /** "closed" (default): the next message once the echo is back (StableEchoClnt); "open": on a schedule at a target rate. */
  loop?: "closed" | "open";
  /** Open loop: target messages per second per session. */
  ratePerSessionPerSec?: number;
  /** Open loop: target messages per second over all sessions (split evenly). */
  rateTotalPerSec?: number;
  /** Warm-up before the measured window, seconds. */
  warmupSec?: number;
  /** Measured window, seconds. */
  durationSec?: number;
  /** Echo and connect timeout, ms. */
  timeoutMs?: number;
  /** server.protocol "chat" only: how many of the sessions (room members) send. */
  senders?: number;
  server?: ScenarioServer;
}
