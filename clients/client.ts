/**
 * The load client: StableEchoClnt scripted into many sessions spread over
 * worker threads (clients/worker.ts). The main thread only steers (a phase
 * word in shared memory), reads live counters, and at the end merges what
 * the workers measured: histograms are added up, never their percentiles.
 */
import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { errname, sys } from "../native/index.js";
import { mergeEncoded, mergeIntervals } from "../contracts/histogram.js";
import {
  LIVE_CONNECTED,
  LIVE_CONNECTS,
  LIVE_ERRORS,
  LIVE_MESSAGES,
  LIVE_SLOTS,
  LATENCY_INTERVAL_MS,
  Phase,
  TIMELINE_INTERVAL_MS,
  WORKER_TAG,
} from "./shared.js";
import type { WorkerConfig, WorkerReply, WorkerResult } from "./shared.js";
import { CLIENT_ENGINES, DEFAULT_SCRIPT } from "../contracts/client.js";
import type { ClientEngine, ClientMeasurement, ClientOptions, ErrorCounts, LiveCounters, LoadScript } from "../contracts/client.js";
import { maxSize } from "./script.js";
import { uringProbe } from "./engine/uring.js";

/** File descriptors the process needs besides one per session (Node's own, epoll sets, stdio, a log file...). */
const FD_MARGIN = 128;
/** How long stop() waits for workers to close their sockets before terminating them. */
const STOP_GRACE_MS = 5000;

/**
 * Client threads to use when the user did not say: the cores the server
 * leaves free, but no more than serverThreads + 1 (a client thread does the
 * same recv/send per message as a server thread plus verification and
 * recording, so one spare thread keeps the client ahead). When the server
 * takes every core, half the machine (at least 1). 2 cores: always 1.
 */
export function defaultClientThreads(cpuCount: number, serverThreads: number): number {
  const cpus = Math.max(1, Math.floor(cpuCount));
  const server = Math.max(1, Math.floor(serverThreads));
  const free = cpus - server;
  if (free < 1) return Math.max(1, Math.floor(cpus / 2));
  return Math.max(1, Math.min(server + 1, free));
}

let probed: number | undefined;

/** 0 when the uring engine can run here, else -errno of its failed setup (probed once). */
export function uringSupport(): number {
  probed ??= uringProbe();
  return probed;
}

/**
 * The engine a client runs: the one asked for, else uring, the faster one
 * (see docs/benchmarks.md), where the kernel and its policy allow
 * io_uring (container seccomp profiles and kernel.io_uring_disabled often do
 * not) and the sessions are echo (http sessions are the epoll engine's),
 * else epoll. Every session script runs on both.
 */
export function clientEngineFor(asked: ClientEngine | undefined, http = false): ClientEngine {
  if (asked !== undefined) return asked;
  return uringSupport() === 0 && !http ? "uring" : "epoll";
}

/** Throws a one-line error for an option the client cannot run with. */
function checkOptions(o: ClientOptions): void {
  const positiveInt = (name: string, v: number): void => {
    if (!Number.isInteger(v) || v < 1) throw new Error(`client: ${name} must be a positive integer, got ${v}`);
  };
  positiveInt("sessions", o.sessions);
  positiveInt("sizeBytes", o.sizeBytes);
  positiveInt("clientThreads", o.clientThreads);
  positiveInt("connectConcurrency", o.connectConcurrency);
  if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65535) throw new Error(`client: port must be 1..65535, got ${o.port}`);
  if (!(o.timeoutMs > 0)) throw new Error(`client: timeoutMs must be > 0, got ${o.timeoutMs}`);
  if (!(o.connectTimeoutMs > 0)) throw new Error(`client: connectTimeoutMs must be > 0, got ${o.connectTimeoutMs}`);
  if (o.engine !== undefined && !CLIENT_ENGINES.includes(o.engine)) throw new Error(`client: engine must be ${CLIENT_ENGINES.join(" or ")}, got ${String(o.engine)}`);
  if (o.sizeBytes > 256 * 1024 * 1024) throw new Error(`client: sizeBytes ${o.sizeBytes} is over the 256 MiB limit`);
  if (o.script !== undefined) checkScript(o.script, o.sizeBytes);
  if (o.engine === "uring" && o.http !== undefined) throw new Error("client: http sessions run on the epoll engine only (--client-engine epoll)");
  if (o.timeOriginEpochMs !== undefined && !(o.timeOriginEpochMs <= performance.timeOrigin + performance.now())) {
    throw new Error(`client: timeOriginEpochMs ${o.timeOriginEpochMs} is later than now: the timelines' origin must not come after the client's start`);
  }
}

/** Throws a one-line error for a script the engine cannot run (the scenario loader reports user mistakes earlier, by field). */
function checkScript(s: LoadScript, sizeBytes: number): void {
  const nonNegative = (name: string, v: number): void => {
    if (!(Number.isFinite(v) && v >= 0)) throw new Error(`client: script.${name} must be a finite number >= 0, got ${v}`);
  };
  nonNegative("rampUpMs", s.rampUpMs);
  nonNegative("connectRatePerSec", s.connectRatePerSec);
  nonNegative("thinkTimeMs", s.thinkTimeMs);
  nonNegative("ratePerSession", s.ratePerSession);
  if (!Number.isInteger(s.messagesPerSession) || s.messagesPerSession < 0) {
    throw new Error(`client: script.messagesPerSession must be a whole number >= 0, got ${s.messagesPerSession}`);
  }
  if (s.ratePerSession > 0 && s.thinkTimeMs > 0) throw new Error("client: script.thinkTimeMs applies to the closed loop only, not with ratePerSession");
  if (s.size !== null) {
    const max = maxSize(s.size);
    if (max !== sizeBytes) throw new Error(`client: sizeBytes ${sizeBytes} must be the largest size the script draws (${max})`);
    const sizes = s.size.kind === "fixed" ? [s.size.bytes] : s.size.kind === "uniform" ? [s.size.minBytes, s.size.maxBytes] : s.size.bytes;
    if (sizes.length === 0 || sizes.some((b) => !Number.isInteger(b) || b < 1)) throw new Error(`client: script.size has a size that is not a positive integer`);
    if (s.size.kind === "uniform" && s.size.minBytes > s.size.maxBytes) throw new Error("client: script.size minBytes is above maxBytes");
    if (s.size.kind === "choice" && (s.size.weights.length !== s.size.bytes.length || s.size.weights.some((w) => !(w >= 0)) || !s.size.weights.some((w) => w > 0))) {
      throw new Error("client: script.size weights must be one non-negative number per size, not all 0");
    }
  }
}

/**
 * Makes sure every session can have its socket: raises the soft
 * RLIMIT_NOFILE up to the hard limit when needed, otherwise throws.
 */
function ensureFileLimit(sessions: number): void {
  const need = sessions + FD_MARGIN;
  const [soft, hard] = sys.getNofileLimit();
  if (soft >= need) return;
  if (hard >= need) {
    const r = sys.setNofileLimit(hard);
    if (r === 0) return;
    throw new Error(`client: ${sessions} sessions need ${need} open files but the soft limit is ${soft} and raising it failed (${errname(r)}); raise it with \`ulimit -n ${need}\``);
  }
  throw new Error(
    `client: ${sessions} sessions need ${need} open files but the hard limit (RLIMIT_NOFILE) is ${hard}; raise it (\`ulimit -Hn ${need}\` as root, or nofile in /etc/security/limits.conf) or use fewer sessions`,
  );
}

/** Every session to one server address needs its own local port (per source address): check the ephemeral range holds them. */
function ensurePortRange(sessions: number): void {
  let text: string;
  try {
    text = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
  } catch {
    return; // not Linux /proc: let connect() report it
  }
  const [lo, hi] = text.trim().split(/\s+/).map(Number);
  if (lo === undefined || hi === undefined || !Number.isFinite(lo) || !Number.isFinite(hi)) return;
  const ports = hi - lo + 1;
  if (sessions > ports) {
    throw new Error(`client: ${sessions} sessions need as many local ports but net.ipv4.ip_local_port_range (${lo}-${hi}) has ${ports}; widen it with sysctl or use fewer sessions`);
  }
}

function sum(into: ErrorCounts, add: ErrorCounts): void {
  into.connect += add.connect;
  into.reset += add.reset;
  into.timeout += add.timeout;
  into.mismatch += add.mismatch;
  into.closedEarly += add.closedEarly;
}

function zeroErrors(): ErrorCounts {
  return { connect: 0, reset: 0, timeout: 0, mismatch: 0, closedEarly: 0 };
}

/** One worker thread and the result it will post. */
interface Thread {
  worker: Worker;
  threadId: number;
  result: Promise<WorkerResult>;
}

/** A running load client. Use: start → (warm-up) → beginMeasure → endMeasure → finish; stop() on error paths. */
export class LoadClient {
  private readonly control: Int32Array;
  private readonly liveCounters: Float64Array;
  private beginAt: number | undefined;
  private endAt: number | undefined;
  private connectedAtEnd = 0;
  private finished: Promise<ClientMeasurement> | undefined;

  private constructor(
    private readonly threads: Thread[],
    control: SharedArrayBuffer,
    live: SharedArrayBuffer,
    private readonly startEpochMs: number,
    /** The session engine the worker threads run. */
    readonly engine: ClientEngine,
  ) {
    this.control = new Int32Array(control);
    this.liveCounters = new Float64Array(live);
  }

  /** Checks limits, starts the worker threads (pinned if asked) and resolves once every one runs. */
  static async start(opts: ClientOptions): Promise<LoadClient> {
    checkOptions(opts);
    const engine = clientEngineFor(opts.engine, opts.http !== undefined);
    ensureFileLimit(opts.sessions);
    ensurePortRange(Math.ceil(opts.sessions / Math.max(1, opts.sourceHosts?.length ?? 0)));
    const count = Math.min(opts.clientThreads, opts.sessions);
    const control = new SharedArrayBuffer(4);
    const live = new SharedArrayBuffer(8 * LIVE_SLOTS * count);
    const startEpochMs = opts.timeOriginEpochMs ?? performance.timeOrigin + performance.now();

    const workerUrl = new URL("./worker.js", import.meta.url);
    const pending: Promise<Thread>[] = [];
    let firstSession = opts.part?.sessionOffset ?? 0;
    for (let i = 0; i < count; i++) {
      const sessions = Math.floor(opts.sessions / count) + (i < opts.sessions % count ? 1 : 0);
      const cfg: WorkerConfig = {
        tag: WORKER_TAG,
        index: i,
        host: opts.host,
        port: opts.port,
        sizeBytes: opts.sizeBytes,
        http: opts.http ?? null,
        timeoutMs: opts.timeoutMs,
        connectTimeoutMs: opts.connectTimeoutMs,
        connectConcurrency: opts.connectConcurrency,
        engine,
        cpus: [...opts.cpus],
        firstSession,
        sessions,
        totalSessions: opts.part?.totalSessions ?? opts.sessions,
        threadCount: count,
        script: opts.script ?? DEFAULT_SCRIPT,
        control,
        live,
        startEpochMs,
        sourceHosts: [...(opts.sourceHosts ?? [])],
      };
      firstSession += sessions;
      pending.push(spawn(workerUrl, cfg));
    }
    const settled = await Promise.allSettled(pending);
    const threads = settled.flatMap((s) => (s.status === "fulfilled" ? [s.value] : []));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    const client = new LoadClient(threads, control, live, startEpochMs, engine);
    if (failed !== undefined) {
      await client.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return client;
  }

  /** Progress counters summed over workers (messages and errors since start, sessions connected now). */
  live(): LiveCounters {
    const c = this.liveCounters;
    let messages = 0;
    let errors = 0;
    let connected = 0;
    let connects = 0;
    for (let b = 0; b < c.length; b += LIVE_SLOTS) {
      messages += c[b + LIVE_MESSAGES] ?? 0;
      errors += c[b + LIVE_ERRORS] ?? 0;
      connected += c[b + LIVE_CONNECTED] ?? 0;
      connects += c[b + LIVE_CONNECTS] ?? 0;
    }
    return { messages, errors, connected, connects };
  }

  /** Opens the measured window: workers drop what they counted during warm-up. */
  beginMeasure(): void {
    if (this.beginAt !== undefined) return;
    this.beginAt = performance.now();
    Atomics.store(this.control, 0, Phase.Measure);
  }

  /** Closes the measured window; traffic goes on until finish() so the load stays steady. */
  endMeasure(): void {
    if (this.beginAt === undefined || this.endAt !== undefined) return;
    Atomics.store(this.control, 0, Phase.Cooldown);
    this.endAt = performance.now();
    this.connectedAtEnd = this.live().connected;
  }

  /** Ends the window if open, stops every worker and merges their results. Without beginMeasure the window is empty. */
  finish(): Promise<ClientMeasurement> {
    this.finished ??= this.collect();
    return this.finished;
  }

  /** Stops every worker (closing its sockets) without collecting results; for error paths. Never throws. */
  async stop(): Promise<void> {
    Atomics.store(this.control, 0, Phase.Stop);
    await Promise.all(
      this.threads.map(async (t) => {
        const exited = new Promise<void>((resolve) => {
          if (t.worker.threadId === -1) resolve();
          else t.worker.once("exit", () => resolve());
        });
        const timer = setTimeout(() => void t.worker.terminate(), STOP_GRACE_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  private async collect(): Promise<ClientMeasurement> {
    this.endMeasure();
    if (this.beginAt === undefined) this.connectedAtEnd = this.live().connected;
    Atomics.store(this.control, 0, Phase.Stop);
    // A worker sees Stop within one epollWait timeout; one that does not is
    // terminated, which rejects its result instead of hanging the caller.
    const guard = setTimeout(() => this.threads.forEach((t) => void t.worker.terminate()), STOP_GRACE_MS);
    const settled = await Promise.allSettled(this.threads.map((t) => t.result));
    clearTimeout(guard);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined) {
      await this.stop();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    const results = settled.map((s) => (s as PromiseFulfilledResult<WorkerResult>).value);
    await this.stop();

    const errors = zeroErrors();
    const errorsTotal = zeroErrors();
    const timeline: number[] = [];
    let messages = 0;
    let bytes = 0;
    let sessionsServed = 0;
    let sessionsTimedOut = 0;
    let connects = 0;
    let connectsTotal = 0;
    for (const r of results) {
      messages += r.messages;
      bytes += r.bytes;
      sessionsServed += r.sessionsServed;
      sessionsTimedOut += r.sessionsTimedOut;
      connects += r.connects;
      connectsTotal += r.connectsTotal;
      sum(errors, r.errors);
      sum(errorsTotal, r.errorsTotal);
      r.timeline.forEach((m, i) => (timeline[i] = (timeline[i] ?? 0) + m));
    }
    const begun = this.beginAt !== undefined;
    const beginEpoch = begun ? performance.timeOrigin + (this.beginAt as number) : this.startEpochMs;
    const latencyTimeline = mergeIntervals(results.map((r) => ({ originEpochMs: this.startEpochMs, intervalMs: LATENCY_INTERVAL_MS, histograms: r.latencyIntervals })));
    return {
      durationMs: begun ? (this.endAt as number) - (this.beginAt as number) : 0,
      messages,
      bytes,
      latencyUs: mergeEncoded(results.map((r) => r.latency)),
      uncorrectedLatencyUs: results.some((r) => r.uncorrectedLatency !== null) ? mergeEncoded(results.map((r) => r.uncorrectedLatency ?? "")) : null,
      connectLatencyUs: mergeEncoded(results.map((r) => r.connectLatency)),
      firstEchoUs: mergeEncoded(results.map((r) => r.firstEcho)),
      errors,
      errorsTotal,
      sessionsConnected: this.connectedAtEnd,
      sessionsServed,
      sessionsTimedOut,
      connects,
      connectsTotal,
      timeline: {
        intervalMs: TIMELINE_INTERVAL_MS,
        messages: timeline,
        measureStartIndex: Math.max(0, Math.floor((beginEpoch - this.startEpochMs) / TIMELINE_INTERVAL_MS)),
      },
      latencyTimeline: { ...latencyTimeline, measureStartIndex: Math.max(0, Math.floor((beginEpoch - this.startEpochMs) / LATENCY_INTERVAL_MS)) },
      sendLagUs: results.some((r) => r.sendLag !== null) ? mergeEncoded(results.map((r) => r.sendLag ?? "")) : null,
      threadIds: results.map((r) => r.threadId),
    };
  }
}

/**
 * Starts one worker; resolves once it is pinned and ready. Its `result`
 * rejects if the thread fails or exits without reporting: a silently
 * missing thread would make every figure of the run a lie.
 */
function spawn(url: URL, cfg: WorkerConfig): Promise<Thread> {
  const worker = new Worker(url, { workerData: cfg });
  let onReady: (threadId: number) => void = () => undefined;
  let onResult: (r: WorkerResult) => void = () => undefined;
  let onFail: (e: Error) => void = () => undefined;
  const ready = new Promise<number>((resolve, reject) => {
    onReady = resolve;
    onFail = reject;
  });
  const result = new Promise<WorkerResult>((resolve, reject) => {
    onResult = resolve;
    const failBefore = onFail;
    onFail = (e) => {
      failBefore(e);
      reject(e);
    };
  });
  // Nobody may await the result on an error path; the failure is reported through ready or finish().
  result.catch(() => undefined);
  let reported = false;
  worker.on("message", (m: WorkerReply) => {
    if (m.type === "ready") onReady(m.threadId);
    else {
      reported = true;
      onResult(m);
    }
  });
  worker.on("error", (err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    onFail(new Error(`client thread ${cfg.index} failed: ${message}`));
  });
  worker.on("exit", (code) => {
    if (!reported) onFail(new Error(`client thread ${cfg.index} exited (code ${code}) without reporting its results`));
  });
  return ready.then((threadId) => ({ worker, threadId, result }));
}
