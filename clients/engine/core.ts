/**
 * The session core of one client worker thread: StableEchoClnt's loop for
 * many sessions at once, whatever moves the bytes (backend.ts). Per
 * session: connect (non-blocking), send a message, read until every byte
 * is back, verify it byte for byte, record the round trip, repeat. Any
 * error closes the session, which reconnects after a back-off.
 *
 * Hot path rules (a benchmark compares this loop with a C client): session
 * state lives in typed arrays indexed by the session number (no Map, no
 * objects per session), nothing is allocated per message, and the plain
 * closed loop consults nothing of the script per message.
 *
 * Time is read once per wait, when it returns (a clock read costs ~60-100
 * ns here, ~1 % of a message). A round trip runs from the moment its send
 * was due (the previous echo, or the connect, seen complete) to the moment
 * its echo is seen complete; both are the return time of the wait that
 * reported them. So the client's own work on a batch is charged to the
 * latency, never credited: a conservative figure, and the per-session
 * cycle time a closed loop really lives by.
 *
 * The script (contracts/client.ts LoadScript): ramp-up and think time are
 * timers; a connect rate is a token bucket; an open loop keeps each
 * session's intended send times and times every round trip from the
 * intended one (wrk2's correction for coordinated omission), and from the
 * actual send for the uncorrected figure.
 */
import { performance } from "node:perf_hooks";
import { sys } from "../../native/index.js";
import type { SizeSpec } from "../../contracts/client.js";
import { byteView, makePattern, messageShift, verifyChunk } from "../message.js";
import type { ByteView } from "../message.js";
import { FirstEchoRecorder } from "../first-echo.js";
import { FastRecorder, IntervalRecorder } from "../recorder.js";
import { isScripted } from "../script.js";
import { TimerHeap } from "../timer-heap.js";
import {
  E_CLOSED_EARLY,
  E_CONNECT,
  E_MISMATCH,
  E_TIMEOUT,
  LIVE_CONNECTED,
  LIVE_CONNECTS,
  LIVE_ERRORS,
  LIVE_MESSAGES,
  LIVE_SLOTS,
  LATENCY_INTERVAL_MS,
  Phase,
  TIMELINE_INTERVAL_MS,
  toErrorCounts,
} from "../shared.js";
import type { WorkerConfig, WorkerResult } from "../shared.js";
import { ACTIVE, BACKOFF, CLOSED, CONNECTING, PAUSED, QUEUED, RAMP, WAIT_MS, type Backend } from "./backend.js";

/** How often the session table is scanned for timeouts and due retries, ms. */
const SCAN_MS = 20;
/** Pause before a session retries after a connect error. */
const CONNECT_BACKOFF_MS = 100;
/** Pause before a session reconnects after another error (keeps a broken server from becoming a reconnect storm). */
const ERROR_BACKOFF_MS = 20;

/** The sessions of one worker thread. */
export class SessionCore {
  readonly cfg: WorkerConfig;
  readonly n: number;
  readonly firstSession: number;
  /** Every message is a slice of this (clients/message.ts): sends go straight out of it, echoes are checked against it. */
  readonly pattern: Buffer;
  private readonly patternView: ByteView;
  private readonly control: Int32Array;
  private readonly live: Float64Array;
  private readonly liveBase: number;
  private backend!: Backend;

  // Struct of arrays, indexed by session number; backends read them.
  readonly fd: Int32Array;
  readonly state: Uint8Array;
  /** Where the message in flight starts in the pattern. */
  readonly shift: Int32Array;
  /** Echo bytes of the message in flight received and verified. */
  readonly got: Int32Array;
  /** Size of the message in flight. */
  readonly len: Int32Array;
  private readonly seq: Int32Array;
  private readonly t0: Float64Array; // send time of the message in flight (open loop: intended), or connect start
  private readonly sentAt: Float64Array; // actual send time: t0 itself outside the open loop (the same array)
  private readonly retryAt: Float64Array;
  /** A PAUSED session's socket said something (kind + 1): it fails when its timer fires, so it never holds two timers. */
  private readonly deferred: Uint8Array;
  private readonly queue: Int32Array; // ring of QUEUED sessions
  private qHead = 0;
  private qLen = 0;
  private connecting = 0;
  private connectedNow = 0;
  /** Time of the last wait's return (performance.now() ms); backends set it. */
  now = 0;

  // The script; `scripted` false = the seed's closed loop, nothing below is consulted per message.
  private readonly scripted: boolean;
  private readonly think: number;
  private readonly perConnection: number;
  private readonly intervalMs: number; // open loop: ms between a session's intended sends; 0 = closed loop
  private readonly sizeSpec: SizeSpec | null;
  private readonly cumulativeWeights: Float64Array; // choice sizes: running sum of the weights
  private readonly connectRatePerMs: number; // this worker's share; 0 = no limit
  private readonly connectBurst: number;
  private tokens = 0;
  private tokensAt = 0;
  private readonly timers: TimerHeap;
  private readonly due: Float64Array; // open loop: intended send time of the next message
  private readonly left: Int32Array; // messages left on this connection
  private rng: number;

  // Measuring: the window (reset when it opens) and totals since start.
  private readonly latency = new FastRecorder();
  private readonly uncorrected: FastRecorder | null;
  private readonly connectLatency = new FastRecorder();
  private readonly firstEcho: FirstEchoRecorder;
  /** Every round trip, warm-up included, per interval of wall time (the latency timeline). */
  private readonly intervals: IntervalRecorder;
  /** Open loop: the client's own lateness in sending (see fireTimers); null in closed loop. */
  private readonly sendLag: FastRecorder | null;
  private measuring = false;
  private windowStarted = false;
  private winMessages = 0;
  private winBytes = 0;
  private winConnects = 0;
  private readonly winErrors = new Float64Array(5);
  private readonly served: Uint8Array; // completed an echo inside the window
  private readonly timedOut: Uint8Array; // an echo timed out inside the window
  private totalMessages = 0;
  private totalConnects = 0;
  private readonly totalErrors = new Float64Array(5);
  private errorCount = 0;
  private readonly timeline: number[] = [];
  private timelineCount = 0;
  private nextTick: number;
  private nextScan = 0;

  constructor(cfg: WorkerConfig) {
    this.cfg = cfg;
    const n = cfg.sessions;
    this.n = n;
    this.firstSession = cfg.firstSession;
    this.pattern = makePattern(cfg.sizeBytes);
    this.patternView = byteView(this.pattern);
    this.control = new Int32Array(cfg.control);
    this.live = new Float64Array(cfg.live);
    this.liveBase = cfg.index * LIVE_SLOTS;
    this.fd = new Int32Array(n).fill(-1);
    this.state = new Uint8Array(n);
    this.seq = new Int32Array(n);
    this.shift = new Int32Array(n);
    this.got = new Int32Array(n);
    this.len = new Int32Array(n).fill(cfg.sizeBytes);
    this.t0 = new Float64Array(n);
    this.retryAt = new Float64Array(n);
    this.deferred = new Uint8Array(n);
    this.queue = new Int32Array(Math.max(1, n));
    this.served = new Uint8Array(n);
    this.firstEcho = new FirstEchoRecorder(n);
    this.timedOut = new Uint8Array(n);

    const script = cfg.script;
    this.scripted = isScripted(script);
    this.think = script.thinkTimeMs;
    this.perConnection = script.messagesPerSession;
    this.intervalMs = script.ratePerSession > 0 ? 1000 / script.ratePerSession : 0;
    this.sizeSpec = script.size === null || script.size.kind === "fixed" ? null : script.size;
    const weights = script.size?.kind === "choice" ? script.size.weights : [];
    this.cumulativeWeights = new Float64Array(weights.length);
    weights.reduce((sum, w, i) => (this.cumulativeWeights[i] = sum + w), 0);
    this.sentAt = this.intervalMs > 0 ? new Float64Array(n) : this.t0;
    this.uncorrected = this.intervalMs > 0 ? new FastRecorder() : null;
    this.sendLag = this.intervalMs > 0 ? new FastRecorder() : null;
    const share = script.connectRatePerSec / Math.max(1, cfg.threadCount);
    this.connectRatePerMs = share / 1000;
    // Enough tokens for one wait period, so the loop's granularity does not lower the rate.
    this.connectBurst = Math.max(1, share * (WAIT_MS / 1000) * 2);
    this.timers = new TimerHeap(n);
    this.due = new Float64Array(this.intervalMs > 0 ? n : 0);
    this.left = new Int32Array(n);
    this.rng = (0x2545f491 ^ Math.imul(cfg.index + 1, 0x9e3779b1)) | 0 || 1;

    // Timeline intervals count from the client's start, on every worker alike.
    const startLocal = cfg.startEpochMs - performance.timeOrigin;
    this.nextTick = startLocal + TIMELINE_INTERVAL_MS;
    this.intervals = new IntervalRecorder(startLocal, LATENCY_INTERVAL_MS);
    this.tokensAt = startLocal;
    for (let s = 0; s < n; s++) {
      if (script.rampUpMs > 0) {
        // Session g of G starts at g/G of the ramp: the whole client ramps evenly.
        this.state[s] = RAMP;
        this.timers.push(startLocal + (script.rampUpMs * (cfg.firstSession + s)) / Math.max(1, cfg.totalSessions), s);
      } else {
        this.enqueue(s);
      }
    }
  }

  /** Runs the sessions over `backend` until the phase word says Stop; returns what was measured. */
  run(backend: Backend): WorkerResult {
    this.backend = backend;
    const control = this.control;
    let phase: number = Phase.WarmUp;
    for (;;) {
      const p = Atomics.load(control, 0);
      if (p !== phase) {
        phase = p;
        this.onPhase(p);
        if (p >= Phase.Stop) break;
      }
      if (this.timers.size > 0) this.fireTimers();
      this.startConnects();
      backend.poll(this.timers.size > 0 || this.connectRatePerMs > 0 ? this.waitMs() : WAIT_MS);
      const now = this.now;
      if (now >= this.nextScan) this.scan(now);
      while (now >= this.nextTick) {
        this.timeline.push(this.timelineCount);
        this.timelineCount = 0;
        this.nextTick += TIMELINE_INTERVAL_MS;
      }
      const live = this.live;
      const b = this.liveBase;
      live[b + LIVE_MESSAGES] = this.totalMessages;
      live[b + LIVE_ERRORS] = this.errorCount;
      live[b + LIVE_CONNECTED] = this.connectedNow;
      live[b + LIVE_CONNECTS] = this.totalConnects;
    }
    return this.finish();
  }

  private onPhase(p: number): void {
    if (p >= Phase.Measure && !this.windowStarted) {
      // Whatever was counted during warm-up is not part of the window.
      this.windowStarted = true;
      this.latency.reset();
      this.uncorrected?.reset();
      this.firstEcho.reset();
      this.served.fill(0);
      this.timedOut.fill(0);
      this.winConnects = 0;
      this.winMessages = 0;
      this.winBytes = 0;
      this.winErrors.fill(0);
    }
    this.measuring = p === Phase.Measure;
  }

  // ---- the message loop (what backends report) -----------------------------------

  /**
   * `n` echo bytes of session s arrived at view[off]: verify them against
   * the message in flight, completing it (and starting the next) when they
   * finish it. False when the session failed (a mismatch) and is closed.
   */
  received(s: number, view: ByteView, off: number, n: number): boolean {
    if (this.state[s] !== ACTIVE) {
      this.unexpected(s, E_MISMATCH);
      return false;
    }
    while (n > 0) {
      const got = this.got[s] as number;
      const want = (this.len[s] as number) - got;
      const take = n < want ? n : want;
      if (!verifyChunk(this.patternView, this.shift[s] as number, got, view, off, take)) {
        this.fail(s, E_MISMATCH);
        return false;
      }
      if (this.measuring) this.winBytes += take;
      if (take < want) {
        this.got[s] = got + take;
        return true;
      }
      this.complete(s);
      off += take;
      n -= take;
      // One message is in flight: bytes past its echo are bytes nobody sent.
      if (n > 0 && this.state[s] !== ACTIVE) {
        this.unexpected(s, E_MISMATCH);
        return false;
      }
    }
    return true;
  }

  /** Echo bytes verified outside received() (http answers): counted in the window. */
  receivedBytes(n: number): void {
    if (this.measuring) this.winBytes += n;
  }

  /** The whole echo is back and verified: record it and send the next message. */
  complete(s: number): void {
    const t = this.now;
    this.firstEcho.echoed(s, t, this.measuring);
    const us = (t - (this.t0[s] as number)) * 1000;
    this.intervals.record(t, us);
    if (this.measuring) {
      this.latency.record(us);
      this.winMessages++;
      this.served[s] = 1;
    }
    this.totalMessages++;
    this.timelineCount++;
    if (this.scripted) this.next(s, t);
    else this.startMessage(s, t);
  }

  /** Starts the session's next message, due at time t. */
  private startMessage(s: number, t: number): void {
    const seq = (this.seq[s] as number) + 1;
    this.seq[s] = seq;
    this.shift[s] = messageShift(this.firstSession + s, seq);
    this.got[s] = 0;
    this.t0[s] = t;
    this.backend.send(s);
  }

  /**
   * A session's socket spoke out of turn: bytes or an end while no message
   * is in flight. A PAUSED session fails when its timer fires (it keeps one
   * timer at most); any other fails now.
   */
  unexpected(s: number, kind: number): void {
    const st = this.state[s];
    if (st === PAUSED) {
      if (this.deferred[s] === 0) this.deferred[s] = kind + 1;
    } else if (st === ACTIVE || st === CONNECTING) {
      this.fail(s, kind);
    }
  }

  /** The server ended the session's stream. */
  ended(s: number): void {
    this.unexpected(s, E_CLOSED_EARLY);
  }

  // ---- the script (only when scripted) ---------------------------------------------

  /** After an echo: record the uncorrected figure, then close, pause or send on as the script says. */
  private next(s: number, t: number): void {
    if (this.uncorrected !== null && this.measuring) this.uncorrected.record((t - (this.sentAt[s] as number)) * 1000);
    if (this.perConnection > 0) {
      const left = (this.left[s] as number) - 1;
      this.left[s] = left;
      if (left <= 0) {
        this.hangUp(s);
        return;
      }
    }
    if (this.intervalMs > 0) {
      const due = (this.due[s] as number) + this.intervalMs;
      this.due[s] = due;
      if (due <= t) this.send(s);
      else this.pause(s, due);
    } else if (this.think > 0) {
      this.pause(s, t + this.think);
    } else {
      this.send(s);
    }
  }

  /** Starts a scripted session's next message now: its size drawn, its send time recorded. */
  private send(s: number): void {
    if (this.sizeSpec !== null) this.len[s] = this.drawSize(this.sizeSpec);
    if (this.intervalMs > 0) {
      this.sentAt[s] = this.now;
      this.startMessage(s, this.due[s] as number);
    } else {
      this.startMessage(s, this.now);
    }
  }

  private pause(s: number, at: number): void {
    this.state[s] = PAUSED;
    this.timers.push(at, s);
  }

  /** A scripted session has just connected. */
  private connectedScripted(s: number, t: number): void {
    this.left[s] = this.perConnection;
    if (this.intervalMs > 0) {
      // First connect: a random phase within one interval, so sessions do not send in lockstep.
      // A reconnect keeps the schedule: time spent reconnecting counts against latency, as a user would see it.
      if (this.due[s] === 0) this.due[s] = t + this.random() * this.intervalMs;
      const due = this.due[s] as number;
      if (due <= t) this.send(s);
      else this.pause(s, due);
    } else {
      this.send(s);
    }
  }

  /** The session's last message on this connection is back: close cleanly (FIN) and queue a reconnect. */
  private hangUp(s: number): void {
    this.connectedNow--;
    this.backend.close(s, false);
    this.fd[s] = -1;
    this.enqueue(s);
  }

  /**
   * Runs every timer that is due: ramp-up starts and paused sessions' next
   * messages. An open-loop message sent here was due while its session sat
   * idle, so how late it goes out is the client's own delay (its timers,
   * its loop, its CPU), never the server's: that is the send lag recorded.
   */
  private fireTimers(): void {
    const timers = this.timers;
    const now = performance.now();
    this.now = now;
    while (timers.size > 0 && timers.peekTime() <= now) {
      const at = timers.peekTime();
      const s = timers.pop();
      const st = this.state[s];
      if (st === PAUSED) {
        this.state[s] = ACTIVE;
        const kind = this.deferred[s] as number;
        if (this.sendLag !== null && this.measuring) this.sendLag.record((now - at) * 1000);
        if (kind === 0) this.send(s);
        else this.fail(s, kind - 1);
      } else if (st === RAMP) {
        this.enqueue(s);
      }
    }
  }

  /** The wait's timeout: until the next timer or connect token, at most WAIT_MS; fractional (a backend rounds it to what its wait can do). */
  private waitMs(): number {
    let until = this.timers.peekTime() - this.now;
    if (this.connectRatePerMs > 0 && this.qLen > 0 && this.tokens < 1) until = Math.min(until, (1 - this.tokens) / this.connectRatePerMs);
    if (!(until > 0)) return 0;
    return until >= WAIT_MS ? WAIT_MS : until;
  }

  /** xorshift32 in [0, 1). */
  private random(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x;
    return (x >>> 0) / 4294967296;
  }

  private drawSize(spec: SizeSpec): number {
    if (spec.kind === "uniform") return spec.minBytes + Math.floor(this.random() * (spec.maxBytes - spec.minBytes + 1));
    if (spec.kind === "fixed") return spec.bytes;
    const cumulative = this.cumulativeWeights;
    const r = this.random() * (cumulative[cumulative.length - 1] as number);
    for (let i = 0; i < cumulative.length; i++) if (r < (cumulative[i] as number)) return spec.bytes[i] as number;
    return spec.bytes[spec.bytes.length - 1] as number;
  }

  // ---- connecting ----------------------------------------------------------------

  private enqueue(s: number): void {
    const cap = this.queue.length;
    this.queue[(this.qHead + this.qLen) % cap] = s;
    this.qLen++;
    this.state[s] = QUEUED;
  }

  /** Starts connects while fewer than connectConcurrency are in flight (and, with a connect rate, while tokens last). */
  private startConnects(): void {
    const limit = this.cfg.connectConcurrency;
    const rated = this.connectRatePerMs > 0;
    if (rated && this.qLen > 0) {
      const now = performance.now();
      this.tokens = Math.min(this.connectBurst, this.tokens + (now - this.tokensAt) * this.connectRatePerMs);
      this.tokensAt = now;
    }
    while (this.qLen > 0 && this.connecting < limit) {
      if (rated) {
        if (this.tokens < 1) break;
        this.tokens--;
      }
      const s = this.queue[this.qHead] as number;
      this.qHead = (this.qHead + 1) % this.queue.length;
      this.qLen--;
      this.startConnect(s);
    }
  }

  private startConnect(s: number): void {
    const t = performance.now();
    this.now = t;
    const sources = this.cfg.sourceHosts;
    const fd = sources.length === 0 ? sys.connect(this.cfg.host, this.cfg.port, true) : sys.connect(this.cfg.host, this.cfg.port, true, sources[(this.firstSession + s) % sources.length]);
    if (fd < 0) {
      this.countError(E_CONNECT);
      this.backoff(s, CONNECT_BACKOFF_MS);
      return;
    }
    sys.setNoDelay(fd, true);
    this.fd[s] = fd;
    this.state[s] = CONNECTING;
    this.t0[s] = t;
    this.firstEcho.connecting(s, t);
    this.deferred[s] = 0;
    this.connecting++;
    this.backend.watch(s, fd);
  }

  /** Session s's connect completed (the backend checked it succeeded). */
  connected(s: number): void {
    const t = this.now;
    this.connectLatency.record((t - (this.t0[s] as number)) * 1000);
    this.connecting--;
    this.connectedNow++;
    this.totalConnects++;
    if (this.measuring) this.winConnects++;
    this.state[s] = ACTIVE;
    this.backend.opened(s);
    if (this.scripted) this.connectedScripted(s, t);
    else this.startMessage(s, t);
  }

  // ---- errors, timeouts, retries -------------------------------------------------

  private countError(kind: number): void {
    this.errorCount++;
    this.totalErrors[kind] = (this.totalErrors[kind] as number) + 1;
    if (this.measuring) this.winErrors[kind] = (this.winErrors[kind] as number) + 1;
  }

  /** Counts the error, closes the session (CONNECTING or ACTIVE) and schedules its reconnect. */
  fail(s: number, kind: number): void {
    const st = this.state[s];
    if (st === CONNECTING) this.connecting--;
    else if (st === ACTIVE) this.connectedNow--;
    this.countError(kind);
    if (kind === E_TIMEOUT && this.measuring) this.timedOut[s] = 1;
    // The client gives up on a session it still considers open (timeout,
    // mismatch): abort with RST so thousands of retries leave no TIME_WAIT.
    this.backend.close(s, kind === E_TIMEOUT || kind === E_MISMATCH);
    this.fd[s] = -1;
    this.backoff(s, kind === E_CONNECT ? CONNECT_BACKOFF_MS : ERROR_BACKOFF_MS);
  }

  private backoff(s: number, ms: number): void {
    this.state[s] = BACKOFF;
    this.retryAt[s] = this.now + ms;
  }

  /** Every SCAN_MS: echo timeouts (from the actual send), connect timeouts, and sessions due to retry. */
  private scan(now: number): void {
    this.nextScan = now + SCAN_MS;
    const state = this.state;
    const t0 = this.t0;
    const sentAt = this.sentAt;
    const echoLimit = now - this.cfg.timeoutMs;
    const connectLimit = now - this.cfg.connectTimeoutMs;
    for (let s = 0; s < this.n; s++) {
      const st = state[s];
      if (st === ACTIVE) {
        if ((sentAt[s] as number) < echoLimit) this.fail(s, E_TIMEOUT);
      } else if (st === CONNECTING) {
        if ((t0[s] as number) < connectLimit) this.fail(s, E_CONNECT);
      } else if (st === BACKOFF) {
        if ((this.retryAt[s] as number) <= now) this.enqueue(s);
      }
    }
  }

  // ---- the end ---------------------------------------------------------------------

  /** Closes every socket, then reports. */
  private finish(): WorkerResult {
    this.backend.end();
    this.fd.fill(-1);
    this.state.fill(CLOSED);
    this.connectedNow = 0;
    this.live[this.liveBase + LIVE_CONNECTED] = 0;
    this.timeline.push(this.timelineCount);
    this.timers.clear();
    let served = 0;
    let timedOut = 0;
    for (let s = 0; s < this.n; s++) {
      served += this.served[s] as number;
      timedOut += this.timedOut[s] as number;
    }
    return {
      type: "result",
      threadId: sys.gettid(),
      latency: this.latency.encode(),
      uncorrectedLatency: this.uncorrected === null ? null : this.uncorrected.encode(),
      sessionsServed: served,
      sessionsTimedOut: timedOut,
      connects: this.winConnects,
      connectsTotal: this.totalConnects,
      connectLatency: this.connectLatency.encode(),
      firstEcho: this.firstEcho.encode(),
      messages: this.winMessages,
      bytes: this.winBytes,
      errors: toErrorCounts(this.winErrors),
      errorsTotal: toErrorCounts(this.totalErrors),
      timeline: this.timeline,
      latencyIntervals: this.intervals.finish(performance.now()),
      sendLag: this.sendLag === null ? null : this.sendLag.encode(),
    };
  }
}
