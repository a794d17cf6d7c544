/**
 * results.json, the contract every other output is drawn from (console
 * table, CSV, charts, HTML, `bench check`). Plain data only: numbers carry
 * their unit in their name, a figure that cannot be measured is `null`
 * (never 0, never NaN), and a failed run is a result like any other.
 *
 * Version 1. A change that renames or removes a field, or changes a unit or
 * a meaning, bumps RESULTS_VERSION; adding a field does not.
 */
import type { ClientEngine, ErrorCounts, SizeSpec } from "../contracts/client.js";
import type { Scenario } from "../contracts/scenario.js";
import type { MessageWork, WorkSpec } from "../contracts/work.js";
import type { ChatMeasurement } from "../contracts/client.js";

/** The `schema` tag of every results.json. */
export const RESULTS_SCHEMA = "iobench.results";
/** The version this code writes. */
export const RESULTS_VERSION = 1;

/** Top level of results.json. */
export interface ResultsFile {
  schema: typeof RESULTS_SCHEMA;
  version: typeof RESULTS_VERSION;
  /** When the sweep started, ISO 8601 UTC. */
  createdAt: string;
  /** When the file was last rewritten (after each run), ISO 8601 UTC. */
  updatedAt: string;
  /**
   * false while the sweep is running; stays false in a file left by a sweep
   * that was interrupted or crashed, so a reader knows runs are missing.
   */
  complete: boolean;
  /** The program that wrote the file. */
  tool: { name: "iobench"; version: string };
  environment: Environment;
  /** Every bench option, as parsed and defaulted (see BenchOptions). */
  options: BenchOptions;
  /** One entry per run, in the order they ran (round-robin over configurations). */
  runs: Run[];
}

/** The machine and software the sweep ran on. */
export interface Environment {
  /** CPU model string of the first core (os.cpus()). */
  cpuModel: string;
  /** Logical CPUs the OS reports. */
  cores: number;
  /** CPUs this process may run on (its affinity mask), which can be fewer. */
  usableCores: number;
  /** Total memory, bytes. */
  memoryBytes: number;
  /** Kernel release (uname -r). */
  kernel: string;
  /** Node.js version, e.g. "v20.20.2". */
  node: string;
  /** process.platform + "-" + process.arch, e.g. "linux-x64". */
  platform: string;
  /** HEAD commit of the iobench checkout, or null outside a git checkout (or before the first commit). */
  gitCommit: string | null;
  /** Uncommitted changes in the checkout; null when gitCommit is null. */
  gitDirty: boolean | null;
  /** Open-file limit (soft, hard) the runs had, after iobench raised the soft limit. */
  nofileLimit: { soft: number; hard: number } | null;
  /** Clock ticks per second used to read /proc CPU times (USER_HZ). */
  clockTicksPerSec: number;
}

/** Thread setting of a server: a count, or a thread per connection (blocking model only). */
export type ThreadsSetting = number | "per-connection";

/** The bench command's options after parsing and defaulting (what the user asked for). */
export interface BenchOptions {
  /** Canonical model names, in sweep order; ["external"] with --target and no --model. */
  models: string[];
  /** Thread settings, in sweep order; [] with --target and no --threads (unknown). */
  threads: ThreadsSetting[];
  /** Concurrent client sessions (TCP connections), in sweep order. */
  connections: number[];
  /** Message sizes, bytes, in sweep order. */
  sizesBytes: number[];
  /** Measured window per run, seconds. */
  durationSec: number;
  /** Warm-up before each window (load applied, nothing recorded), seconds. */
  warmupSec: number;
  /** Times every configuration is run (rounds). */
  repeats: number;
  /** Client worker threads; null = chosen per run by defaultClientThreads. */
  clientThreads: number | null;
  /** Client session engine asked for; null = per run, clientEngineFor (clients/client.ts): uring where allowed and the load is the plain closed loop, else epoll. */
  clientEngine: ClientEngine | null;
  /** An echo (or a connect) not complete within this is a timeout (connect) error, ms. */
  timeoutMs: number;
  /** "host:port" of an external server to measure instead of starting one, or null. */
  target: string | null;
  /** Pid of the external server, for its /proc figures, or null. */
  serverPid: number | null;
  /** CPUs the server process is pinned to, or null (not pinned). */
  serverCpus: number[] | null;
  /** CPUs the client threads are pinned to, or null (not pinned). */
  clientCpus: number[] | null;
  /** Numeric address the server binds and the client connects to. */
  host: string;
  /** Server's per-connection pending-echo limit, bytes. */
  bufferBytes: number;
  /** completion-routine accept style: poll (the seed's) or ring. */
  accept: "poll" | "ring";
  /** The iocp model's completion port (--concurrency, --port-wake, --block-notice); absent when no iocp server is started (and in files written before it existed). */
  completionPort?: CompletionPortConfig;
  /** Server work per message (--work), or null for none (see protocol/work.ts). Absent in files written before it existed. */
  work?: WorkSpec | null;
  /** chat-fanout (--protocol chat): the room's senders and their rate; absent for echo. */
  chat?: ChatLoad;
  /** What server and client speak (absent: echo; chat also sets `chat`). */
  protocol?: "echo" | "http" | "chat";
  /** http: the method of every request (GET: a fixed answer; POST: the body echoed). */
  httpMethod?: "GET" | "POST";
  /** Run every server under clinic doctor or flame (absent: no profiling). */
  profile?: "doctor" | "flame";
  /** The load generators, each run in turn on the same server and load (absent: iobench's own client). */
  clients?: ("iobench" | "autocannon" | "wrk")[];
  /** Results root directory (each sweep writes <out>/<timestamp>/results.json). */
  out: string;
  /** Print results.json on stdout instead of the table. */
  json: boolean;
  /** How sessions pace themselves (scenario fields and their flags); the seed's closed loop when nothing was asked. */
  load: LoadOptions;
  /** The scenario the options started from (--scenario), or null. */
  scenario: ScenarioRecord | null;
}

/**
 * The load script as asked for, beyond sessions and sizes. Every field at
 * its default (rampUpSec 0, connectRatePerSec 0, sizeDistribution null,
 * messagesPerSession 0, thinkTimeMs 0, loop "closed") is StableEchoClnt's
 * pattern: connect once, next message as soon as the echo is back.
 */
export interface LoadOptions {
  /** Sessions start connecting spread evenly over this, seconds. */
  rampUpSec: number;
  /** Most new connections per second, whole client; 0 = no limit. */
  connectRatePerSec: number;
  /** Message sizes drawn per message; null = the fixed size(s) of sizesBytes (then sizesBytes = [the largest size]). */
  sizeDistribution: SizeSpec | null;
  /** Messages per connection before the session closes (FIN) and reconnects; 0 = forever. */
  messagesPerSession: number;
  /** Closed loop: pause between an echo and the next message, ms. */
  thinkTimeMs: number;
  /** closed: next message after the echo (StableEchoClnt); open: on a schedule at a target rate. */
  loop: "closed" | "open";
  /** Open loop: target messages per second per session, or null when given in total. */
  ratePerSessionPerSec: number | null;
  /** Open loop: target messages per second over all sessions, or null when given per session. */
  rateTotalPerSec: number | null;
  /** Server protocol: echo, http, or chat (then BenchOptions.chat says who sends; the rates are per sender). */
  protocol: "echo" | "http" | "chat";
}

/** LoadOptions of the seed's pattern: what bench runs without --scenario or load flags. */
export const SEED_LOAD: Readonly<LoadOptions> = {
  rampUpSec: 0,
  connectRatePerSec: 0,
  sizeDistribution: null,
  messagesPerSession: 0,
  thinkTimeMs: 0,
  loop: "closed",
  ratePerSessionPerSec: null,
  rateTotalPerSec: null,
  protocol: "echo",
};

/** Where the options came from when --scenario was given. */
export interface ScenarioRecord {
  /** The scenario's name. */
  name: string;
  /** The file it was read from (a built-in's source file, or the user's path). */
  file: string;
  /** The scenario after command-line overrides, in the scenario file format (scenarios/format.ts): a file with this content repeats the run. */
  effective: Scenario;
}

/** The load script of one run, resolved: the open-loop rate is per session here, whatever way it was asked for. */
export interface RunLoad extends Pick<LoadOptions, "rampUpSec" | "connectRatePerSec" | "sizeDistribution" | "messagesPerSession" | "thinkTimeMs" | "loop"> {
  /** Scenario name, or null without --scenario. */
  scenario: string | null;
  /** Open loop: target messages per second per session (chat: frames per second per sender); null in closed loop. */
  targetRatePerSessionPerSec: number | null;
  /** Open loop: target messages per second over all sessions (chat: deliveries, frames × members); null in closed loop. */
  targetRateTotalPerSec: number | null;
}

/** What one run measured against: one point of the sweep. */
export interface RunConfig {
  /** 0-based position of the run in the sweep (run order). */
  index: number;
  /** 1-based repeat (round) this run belongs to. */
  repeat: number;
  /** Canonical model name, or the --model label (or "external") with --target. */
  model: string;
  /** Server threads; null with --target when not given. */
  threads: ThreadsSetting | null;
  /** Concurrent client sessions. */
  connections: number;
  /** Bytes per message (with load.sizeDistribution: the largest message). */
  sizeBytes: number;
  /** How the sessions paced themselves. Absent in files written before scenarios: read as the closed loop. */
  load?: RunLoad;
  /** Client worker threads the sessions were spread over. */
  clientThreads: number;
  /** Client session engine the run used (asked for, or chosen by the client); absent in results written before it existed (= "epoll") or when the client never started. */
  clientEngine?: ClientEngine;
  /** Requested measured window, seconds. */
  durationSec: number;
  /** Requested warm-up, seconds. */
  warmupSec: number;
  /** Echo and connect timeout, ms. */
  timeoutMs: number;
  /** Address the client connected to. */
  host: string;
  /** Port the client connected to (null if the server never listened). */
  port: number | null;
  /** "host:port" when measuring an external server (--target), else absent. */
  target?: string;
  /** Pid of the server process: the one iobench started, or --server-pid; absent when unknown. */
  serverPid?: number;
  /** Server's pending-echo limit, bytes (null for an external server). */
  bufferBytes: number | null;
  /** completion-routine accept style (null for an external server). */
  accept: "poll" | "ring" | null;
  /**
   * iocp runs of a server iobench started: how its completion port behaved.
   * concurrency is the value the port had (the server's CPUs unless
   * --concurrency said otherwise), null with wake "all" (no limit). Absent
   * for other models and in files written before it existed (those iocp
   * runs had the "all" behaviour).
   */
  completionPort?: CompletionPortConfig;
  /**
   * Server work per message, with the message size it counts bytes in
   * (messageBytes = sizeBytes): done once per messageBytes received on a
   * connection. null = none. Absent in files written before it existed.
   */
  work?: MessageWork | null;
  /** What server and client spoke; absent = echo (results written before http existed); chat runs also carry `chat`. */
  protocol?: "echo" | "http" | "chat";
  /** http: the method of every request; a "message" is then one request and its answer. */
  httpMethod?: "GET" | "POST";
  /** The load generator, when not iobench's own client: an outside tool as a cross-check (same figures, same shape). */
  client?: "autocannon" | "wrk";
  pinning: Pinning;
  /**
   * Present for a chat-fanout run (--protocol chat): the server speaks chat,
   * `connections` members form one room, `sizeBytes` is the frame payload,
   * and the figures count deliveries (messages = frames × members reached)
   * with latency = fan-out delivery latency (send time to receipt), µs.
   */
  chat?: ChatLoad;
}

/** The iocp model's completion port (servers/model.ts PortSettings, native/port.c). */
export interface CompletionPortConfig {
  /** The most worker threads running completions at once; in BenchOptions null = the server's usable CPUs, resolved per run. */
  concurrency: number | null;
  /** "lifo": a completion port (one waiter released per completion batch, newest first); "all": every waiter wakes on each completion (the herd). */
  wake: "lifo" | "all";
  /** With block: work, workers told the port when they blocked (standing in for the Windows kernel). */
  blockNotice: boolean;
}

/** The sending side of a chat-fanout run. */
export interface ChatLoad {
  /** Members that send (the rest only receive). */
  senders: number;
  /** Frames per second per sender. */
  rateHz: number;
}

/** Delivery accounting of a chat-fanout run (see clients/chat-client.ts). */
export type ChatFigures = ChatMeasurement;

/** CPU pinning of a run; null = not pinned (the scheduler chose). */
export interface Pinning {
  serverCpus: number[] | null;
  clientCpus: number[] | null;
}

/** Latency summary, µs, read from one merged histogram (never averaged percentiles). */
export interface LatencySummaryUs {
  /** Values recorded. */
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p99_9: number;
  max: number;
  mean: number;
}

/** An HdrHistogram kept whole, so later tools can merge and redraw it without re-running. */
export interface EncodedHistogram {
  /** HdrHistogram V2 compressed, base64 (hdr-histogram-js encodeIntoCompressedBase64 / decodeFromCompressedBase64). */
  encoding: "hdrhistogram-v2-compressed-base64";
  /** Unit of the recorded values. */
  unit: "us";
  data: string;
}

/** Error counts by kind (see clients/types.ts ErrorCounts), plus their sum. */
export interface ErrorFigures extends ErrorCounts {
  total: number;
}

/** Voluntary (the thread waited) and involuntary (it was preempted) context switches. */
export interface ContextSwitches {
  voluntary: number;
  involuntary: number;
  /** voluntary + involuntary */
  total: number;
}

/** Completed messages per fixed interval, from the client's start (warm-up included). */
export interface Timeline {
  intervalMs: number;
  messages: number[];
  /** Index of the first interval inside the measured window. */
  measureStartIndex: number;
}

/** Open-loop rates, messages per second. */
export interface OpenLoopFigures {
  targetMessagesPerSec: number;
  achievedMessagesPerSec: number;
  /** achieved / target. */
  achievedRatio: number;
}

/** Warning flags a run can carry (the table prints them loudly). */
export type RunFlag =
  /** The client, not the server, may have been the bottleneck (see derive.ts for the rule). */
  | "CLIENT-SATURATED"
  /** At least one echo came back different from what was sent (errorsTotal.mismatch > 0). */
  | "MISMATCH"
  /** Errors other than mismatches inside the measured window. */
  | "ERRORS"
  /** No message completed inside the measured window. */
  | "NO-MESSAGES"
  /** Fewer sessions connected at the end of the window than asked for. */
  | "SESSIONS-MISSING"
  /** Some sessions completed no echo inside the window (the model could not serve them all: see sessionsServed). */
  | "SESSIONS-UNSERVED"
  /** Open loop: the achieved rate was below 90% of the target. */
  | "BELOW-TARGET-RATE"
  /** The server process did not exit cleanly (code 0) when asked to stop. */
  | "SERVER-EXIT";

/** The figures of one run. Server-side figures are null when not measurable (--target without --server-pid). */
export interface Figures {
  /** Measured window as actually timed, seconds (close to the requested duration). */
  durationSec: number;
  /** Warm-up as actually timed, seconds. */
  warmupSec: number;
  /** Messages echoed and verified inside the window. */
  messages: number;
  /** Bytes echoed and verified inside the window. */
  bytes: number;
  messagesPerSec: number;
  bytesPerSec: number;
  /**
   * Round trip per message inside the window, µs. null when no message
   * completed. Open loop: timed from the intended send time (corrected for
   * coordinated omission, as wrk2 does).
   */
  latencyUs: LatencySummaryUs | null;
  /** Open loop only: round trip from the actual send (uncorrected), µs; null in closed loop or without messages. */
  latencyUncorrectedUs: LatencySummaryUs | null;
  /** Open loop only: the uncorrected histogram; null in closed loop. */
  latencyUncorrectedHistogram: EncodedHistogram | null;
  /** Open loop only: target vs achieved rate; null in closed loop. */
  openLoop: OpenLoopFigures | null;
  /** connect() to established, µs, over the whole run (warm-up included). null when nothing connected. */
  connectLatencyUs: LatencySummaryUs | null;
  /** The merged round-trip histogram of the window. */
  latencyHistogram: EncodedHistogram;
  /** The merged connect-latency histogram of the whole run. */
  connectLatencyHistogram: EncodedHistogram;
  /** Errors inside the window, by kind. */
  errors: ErrorFigures;
  /** Errors over the whole run, warm-up included, by kind. */
  errorsTotal: ErrorFigures;
  /** Sessions connected when the window closed (compare with config.connections). */
  sessionsConnected: number;
  /** Sessions that completed at least one echo inside the window. */
  sessionsServed: number;
  /** config.connections - sessionsServed: sessions the server never answered inside the window. */
  sessionsNotServed: number;
  /** Sessions that had at least one echo time out inside the window. */
  sessionsTimedOut: number;
  /** Connections established inside the window (reconnects included). */
  connects: number;
  connectsPerSec: number;
  /** Connections established over the whole run, warm-up included. */
  connectsTotal: number;

  /** Server process CPU time (user + system) inside the window, seconds. */
  serverCpuSeconds: number | null;
  /** serverCpuSeconds per message, µs; null when no message completed or the server was not measured. */
  serverCpuUsPerMessage: number | null;
  /** Context switches of the server's threads inside the window (threads that exited mid-window are not counted). */
  serverContextSwitches: ContextSwitches | null;
  /** serverContextSwitches per message; null when no message completed or the server was not measured. */
  serverContextSwitchesPerMessage: ContextSwitches | null;
  /** Largest resident set size sampled during the window (VmRSS), bytes. */
  serverRssBytes: number | null;
  /** Peak resident set size over the server's life (VmHWM) at the window's end, bytes. */
  serverPeakRssBytes: number | null;
  /** Server threads (tasks) at the window's end. */
  serverThreadCount: number | null;

  /** Client process CPU time (all threads, user + system) inside the window, seconds. */
  clientCpuSeconds: number;
  /** CPUs the client may use: its pinned set, else every usable core. */
  clientUsableCores: number;
  /** clientCpuSeconds / (window × clientUsableCores), 0..1. */
  clientCpuUtilisation: number;
  /** Busiest client worker thread's CPU time / window, 0..1 (null if no worker thread could be read). */
  clientThreadMaxUtilisation: number | null;
  /** The client may have limited the run (see derive.ts for the rule). */
  clientSaturated: boolean;
  /** Why clientSaturated is true, in words; null when false. */
  clientSaturatedReason: string | null;

  timeline: Timeline;
  /** Warnings, in a fixed order; [] when none. */
  flags: RunFlag[];
  /** chat-fanout runs only: frames sent, deliveries owed and received, and what went wrong. */
  chat?: ChatFigures;
}

/** A run that completed its window. */
export interface OkRun {
  status: "ok";
  config: RunConfig;
  figures: Figures;
  /** How the server process ended when stopped (absent for an external server). */
  serverExit?: ServerExit;
  /** Wall-clock start of the run, ISO 8601 UTC. */
  startedAt: string;
  /** --profile: what clinic produced for this run. */
  profile?: ProfileOutcome;
}

/** A clinic profile of a run's server. */
export interface ProfileOutcome {
  tool: "doctor" | "flame";
  /** The HTML report, relative to the results directory; null when clinic produced none. */
  html: string | null;
  /** Why there is no HTML (clinic failed, or was killed at the time limit). */
  error?: string;
}

/** A run that could not complete; a result, not a thrown error. */
export interface FailedRun {
  status: "failed";
  config: RunConfig;
  /** One line naming the problem, e.g. "server died mid-run (exit code 70): ...". */
  error: string;
  /** What the failure was: where it happened. */
  failure: FailureKind;
  /** What was measured before the failure (e.g. a server that died mid-window), or null. */
  figures: Figures | null;
  serverExit?: ServerExit;
  startedAt: string;
}

/** Where a run failed. */
export type FailureKind =
  /** The server process did not start or did not listen in time. */
  | "server-start"
  /** The server process died during the run. */
  | "server-died"
  /** The load client failed (start, measurement). */
  | "client"
  /** The user interrupted the sweep (Ctrl-C) during this run. */
  | "interrupted"
  /** Anything else (a bug): the message says what. */
  | "internal";

/** How a server process ended. */
export interface ServerExit {
  /** Exit code, or null when it ended by a signal. */
  code: number | null;
  /** Signal that ended it, or null. */
  signal: string | null;
  /** It had to be killed with SIGKILL after the grace period. */
  killed: boolean;
}

/** One run: tagged by status. */
export type Run = OkRun | FailedRun;
