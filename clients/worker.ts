/**
 * One client worker thread: StableEchoClnt's loop for many sessions at once
 * on one epoll set. Per session: connect (non-blocking), then send a
 * message, read until every byte is back, verify it byte for byte, record
 * the round trip, repeat. Any error closes the session, which reconnects.
 *
 * Hot path rules (a benchmark compares this loop with a C client): session
 * state lives in typed arrays indexed by the session number that epoll
 * hands back (no Map, no objects per session), nothing is allocated per
 * message, and a message costs one recv, one send and a share of one
 * epollWait and of one clock read.
 *
 * Time is read once per epollWait, when it returns (a clock read costs
 * ~60-100 ns here, ~1 % of a message). A round trip runs from the moment
 * its send was due (the previous echo, or the connect, seen complete) to
 * the moment its echo is seen complete; both are the return time of the
 * epollWait that reported them. So the client's own work on a batch is
 * charged to the latency, never credited: a conservative figure, and the
 * per-session cycle time a closed loop really lives by.
 *
 * Each socket is registered once, edge-triggered, for IN | OUT | RDHUP, and
 * never modified: no epoll_ctl per message, and the kernel does not re-poll
 * every drained socket on the next epoll_wait as it does level-triggered.
 * Edge-triggered needs each event handled until the socket has nothing
 * more to say: a recv shorter than asked for drained it (any later byte is
 * a new edge); a send shorter than asked for filled the buffer (room is a
 * new EPOLLOUT edge); after a hang-up we read on until recv reports it.
 */
import { performance } from "node:perf_hooks";
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { C, errname, sys } from "../native/index.js";
import { byteView, makePattern, messageShift, verifyChunk } from "./message.js";
import type { ByteView } from "./message.js";
import { FirstEchoRecorder } from "./first-echo.js";
import { FastRecorder } from "./recorder.js";
import { TimerHeap } from "./timer-heap.js";
import { HTTP_CLOSED, HTTP_DONE, HTTP_MISMATCH, HTTP_MORE, HttpSessions } from "./http-session.js";
import {
  E_CLOSED_EARLY,
  E_CONNECT,
  E_MISMATCH,
  E_RESET,
  E_TIMEOUT,
  LIVE_CONNECTED,
  LIVE_CONNECTS,
  LIVE_ERRORS,
  LIVE_MESSAGES,
  LIVE_SLOTS,
  Phase,
  TIMELINE_INTERVAL_MS,
  WORKER_TAG,
  toErrorCounts,
} from "./shared.js";
import type { WorkerConfig, WorkerReady, WorkerResult } from "./shared.js";
import { isScripted } from "./script.js";
import type { SizeSpec } from "../contracts/client.js";
import { UringEngine } from "./uring-engine.js";

/** Session states. */
const QUEUED = 0; // waiting for a connect slot
const CONNECTING = 1; // connect in flight, waiting for EPOLLOUT
const ACTIVE = 2; // connected, a message in flight
const BACKOFF = 3; // closed after an error, waiting to retry
const CLOSED = 4; // stopped
const RAMP = 5; // not yet started: a timer queues it (ramp-up)
const PAUSED = 6; // connected, no message in flight: a timer sends the next one (think time, open-loop schedule)

/** Events per epollWait; well above the number of ready sessions a batch usually has. */
const MAX_EVENTS = 512;
/** epollWait timeout: how late an idle worker may notice the phase word, a timeout or a due retry. */
const WAIT_MS = 20;
/** How often the session table is scanned for timeouts and due retries. */
const SCAN_MS = 20;
/** Pause before a session retries after a connect error. */
const CONNECT_BACKOFF_MS = 100;
/** Pause before a session reconnects after another error (keeps a broken server from becoming a reconnect storm). */
const ERROR_BACKOFF_MS = 20;
/** recv scratch: one per worker, verified right after each recv. */
const SCRATCH_BYTES = 65536;

// Read once: a property load per use adds up on the hot path (the addon's
// functions ignore their receiver, so they can be called detached).
const { recv, send, epollWait } = sys;
const EPOLLIN = C.EPOLLIN;
const EPOLLOUT = C.EPOLLOUT;
const HANGUP = C.EPOLLRDHUP | C.EPOLLHUP | C.EPOLLERR;
const READABLE = EPOLLIN | HANGUP;
const INTEREST = EPOLLIN | EPOLLOUT | C.EPOLLRDHUP | C.EPOLLET;
const EAGAIN = -C.EAGAIN;
const EINTR = -C.EINTR;

/** The session engine of one worker thread. */
export class SessionEngine {
  private readonly n: number;
  private readonly firstSession: number;
  private readonly pattern: Buffer;
  private readonly patternView: ByteView;
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private readonly scratchView: ByteView = byteView(this.scratch);
  private readonly events = new Int32Array(2 * MAX_EVENTS);
  private readonly control: Int32Array;
  private readonly live: Float64Array;
  private readonly liveBase: number;
  private readonly epfd: number;

  // Struct of arrays, indexed by session number (also the epoll key).
  private readonly fd: Int32Array;
  private readonly state: Uint8Array;
  private readonly seq: Int32Array;
  private readonly shift: Int32Array;
  private readonly sent: Int32Array;
  private readonly got: Int32Array;
  private readonly len: Int32Array; // size of the message in flight
  private readonly t0: Float64Array; // send time of the message in flight (open loop: intended), or connect start
  private readonly sentAt: Float64Array; // actual send time: t0 itself in closed loop (same array)
  private readonly retryAt: Float64Array;
  private readonly queue: Int32Array; // ring of QUEUED sessions
  private qHead = 0;
  private qLen = 0;
  private connecting = 0;
  private connected = 0;

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
  private readonly served: Uint8Array; // completed an echo inside the window
  private readonly timedOut: Uint8Array; // an echo timed out inside the window
  private rng: number;
  private winConnects = 0;
  private totalConnects = 0;
  /** http session mode (clients/http-session.ts), or null for echo. */
  private readonly http: HttpSessions | null;

  private readonly latency = new FastRecorder();
  private readonly uncorrected: FastRecorder | null;
  private readonly connectLatency = new FastRecorder();
  private readonly firstEcho: FirstEchoRecorder;
  private measuring = false;
  private windowStarted = false;
  private winMessages = 0;
  private winBytes = 0;
  private readonly winErrors = new Float64Array(5);
  private readonly totalErrors = new Float64Array(5);
  private totalMessages = 0;
  private errorCount = 0;

  private readonly timeline: number[] = [];
  private timelineCount = 0;
  private nextTick: number;
  private nextScan = 0;
  private now = 0;

  constructor(private readonly cfg: WorkerConfig) {
    this.n = cfg.sessions;
    this.firstSession = cfg.firstSession;
    this.pattern = makePattern(cfg.sizeBytes);
    this.patternView = byteView(this.pattern);
    this.control = new Int32Array(cfg.control);
    this.live = new Float64Array(cfg.live);
    this.liveBase = cfg.index * LIVE_SLOTS;
    const n = this.n;
    this.fd = new Int32Array(n).fill(-1);
    this.state = new Uint8Array(n);
    this.seq = new Int32Array(n);
    this.shift = new Int32Array(n);
    this.sent = new Int32Array(n);
    this.got = new Int32Array(n);
    this.len = new Int32Array(n).fill(cfg.sizeBytes);
    this.t0 = new Float64Array(n);
    this.retryAt = new Float64Array(n);
    this.queue = new Int32Array(Math.max(1, n));

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
    const share = script.connectRatePerSec / Math.max(1, cfg.threadCount);
    this.connectRatePerMs = share / 1000;
    // Enough tokens for one wait period, so the loop's granularity does not lower the rate.
    this.connectBurst = Math.max(1, share * (WAIT_MS / 1000) * 2);
    this.timers = new TimerHeap(n);
    this.due = new Float64Array(this.intervalMs > 0 ? n : 0);
    this.left = new Int32Array(n);
    this.served = new Uint8Array(n);
    this.firstEcho = new FirstEchoRecorder(n);
    this.timedOut = new Uint8Array(n);
    this.rng = (0x2545f491 ^ Math.imul(cfg.index + 1, 0x9e3779b1)) | 0 || 1;

    this.http = cfg.http === null ? null : new HttpSessions(cfg.http, cfg.host, cfg.sizeBytes, this.pattern, n, SCRATCH_BYTES);
    // Timeline intervals count from the client's start, on every worker alike.
    const startLocal = cfg.startEpochMs - performance.timeOrigin;
    this.nextTick = startLocal + TIMELINE_INTERVAL_MS;
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

    const epfd = sys.epollCreate();
    if (epfd < 0) throw new Error(`client worker: epoll_create failed: ${errname(epfd)}`);
    this.epfd = epfd;
  }

  /** Runs until the phase word says Stop; returns what was measured. */
  run(): WorkerResult {
    const control = this.control;
    const events = this.events;
    const state = this.state;
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
      const k = epollWait(this.epfd, events, MAX_EVENTS, this.timers.size > 0 || this.connectRatePerMs > 0 ? this.waitMs() : WAIT_MS);
      this.now = performance.now();
      if (k < 0 && k !== -C.EINTR) throw new Error(`client worker: epoll_wait failed: ${errname(k)}`);
      for (let i = 0; i < k; i++) {
        const ev = events[2 * i] as number;
        const s = events[2 * i + 1] as number;
        const st = state[s];
        if (st === ACTIVE) this.onActive(s, ev);
        else if (st === CONNECTING) this.onConnect(s, ev);
      }
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
      live[b + LIVE_CONNECTED] = this.connected;
      live[b + LIVE_CONNECTS] = this.totalConnects;
    }
    return this.finish();
  }

  private onPhase(p: number): void {
    if (p >= Phase.Measure && !this.windowStarted) {
      // Whatever was counted during warm-up is not part of the window.
      this.windowStarted = true;
      this.latency.reset();
      this.firstEcho.reset();
      this.uncorrected?.reset();
      this.served.fill(0);
      this.timedOut.fill(0);
      this.winConnects = 0;
      this.winMessages = 0;
      this.winBytes = 0;
      this.winErrors.fill(0);
    }
    this.measuring = p === Phase.Measure;
  }

  // ---- the message loop ------------------------------------------------------

  /** An event on a connected session: echo bytes to read, room to send, or a hang-up. */
  private onActive(s: number, ev: number): void {
    if (this.http !== null) return this.onActiveHttp(this.http, s, ev);
    if ((ev & READABLE) !== 0) {
      const hangup = (ev & HANGUP) !== 0;
      const fd = this.fd[s] as number;
      for (;;) {
        const got = this.got[s] as number;
        const want = (this.len[s] as number) - got;
        const len = want < SCRATCH_BYTES ? want : SCRATCH_BYTES;
        const r = recv(fd, this.scratch, 0, len);
        if (r > 0) {
          if (!verifyChunk(this.patternView, this.shift[s] as number, got, this.scratchView, 0, r)) {
            this.fail(s, E_MISMATCH);
            return;
          }
          if (this.measuring) this.winBytes += r;
          if (r === want) {
            this.complete(s);
            // After a hang-up the next message can never come back: read on
            // so recv reports it (edge-triggered: no later event would).
            if (!hangup || this.state[s] !== ACTIVE) return;
            continue;
          }
          this.got[s] = got + r;
          if (r < len && !hangup) break; // drained
        } else if (r === 0) {
          this.fail(s, E_CLOSED_EARLY);
          return;
        } else if (r === EAGAIN) {
          break;
        } else if (r !== EINTR) {
          this.fail(s, E_RESET);
          return;
        }
      }
    }
    if ((ev & EPOLLOUT) !== 0 && (this.sent[s] as number) < (this.len[s] as number)) this.sendSome(s);
  }

  /** The whole echo is back and verified: record it and send the next message. */
  private complete(s: number): void {
    const t = this.now;
    this.firstEcho.echoed(s, t, this.measuring);
    if (this.measuring) {
      this.latency.record((t - (this.t0[s] as number)) * 1000);
      this.winMessages++;
      this.served[s] = 1;
    }
    this.totalMessages++;
    this.timelineCount++;
    if (this.scripted) this.next(s, t);
    else this.startMessage(s, t);
  }

  /** Starts the session's next message at time t. */
  private startMessage(s: number, t: number): void {
    const seq = (this.seq[s] as number) + 1;
    this.seq[s] = seq;
    this.shift[s] = messageShift(this.firstSession + s, seq);
    this.got[s] = 0;
    this.sent[s] = 0;
    this.t0[s] = t;
    this.http?.start(s);
    this.sendSome(s);
  }

  /** Sends what is left of the message in flight; a short send waits for the EPOLLOUT edge. */
  private sendSome(s: number): void {
    if (this.http !== null) {
      const r = this.http.sendSome(send, this.fd[s] as number, s, this.shift[s] as number);
      if (r < 0 && r !== EAGAIN && r !== EINTR) this.fail(s, E_RESET);
      return;
    }
    const sent = this.sent[s] as number;
    const r = send(this.fd[s] as number, this.pattern, (this.shift[s] as number) + sent, (this.len[s] as number) - sent);
    if (r >= 0) this.sent[s] = sent + r;
    else if (r !== EAGAIN && r !== EINTR) this.fail(s, E_RESET);
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
    this.connected--;
    sys.close(this.fd[s] as number);
    this.fd[s] = -1;
    this.enqueue(s);
  }

  /** Runs every timer that is due: ramp-up starts and paused sessions' next messages. */
  private fireTimers(): void {
    const timers = this.timers;
    const now = performance.now();
    this.now = now;
    while (timers.size > 0 && timers.peekTime() <= now) {
      const s = timers.pop();
      const st = this.state[s];
      if (st === PAUSED) {
        this.state[s] = ACTIVE;
        this.send(s);
      } else if (st === RAMP) {
        this.enqueue(s);
      }
    }
  }

  /** epoll_wait timeout: until the next timer or connect token, at most WAIT_MS. */
  private waitMs(): number {
    let until = this.timers.peekTime() - this.now;
    if (this.connectRatePerMs > 0 && this.qLen > 0 && this.tokens < 1) until = Math.min(until, (1 - this.tokens) / this.connectRatePerMs);
    if (!(until > 0)) return 0;
    return until >= WAIT_MS ? WAIT_MS : Math.ceil(until);
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

  // ---- the http hook: the same loop, with requests and answers (clients/http-session.ts) ----

  private onActiveHttp(http: HttpSessions, s: number, ev: number): void {
    if ((ev & READABLE) !== 0) {
      const hangup = (ev & HANGUP) !== 0;
      for (;;) {
        const v = http.readable(recv, this.fd[s] as number, s, this.shift[s] as number, EAGAIN, EINTR);
        if (this.measuring) this.winBytes += http.takeReceived();
        else http.takeReceived();
        if (v === HTTP_MORE) break;
        if (v !== HTTP_DONE) return this.fail(s, v === HTTP_MISMATCH ? E_MISMATCH : v === HTTP_CLOSED ? E_CLOSED_EARLY : E_RESET);
        this.complete(s);
        if (!hangup || this.state[s] !== ACTIVE) return; // after a hang-up, read on until recv reports it
      }
    }
    if ((ev & EPOLLOUT) !== 0 && http.unsent(s)) this.sendSome(s);
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
    const fd = sys.connect(this.cfg.host, this.cfg.port, true);
    if (fd < 0) {
      this.countError(E_CONNECT);
      this.backoff(s, CONNECT_BACKOFF_MS);
      return;
    }
    sys.setNoDelay(fd, true);
    // Registered once for the connection's life; the connect completes as an EPOLLOUT edge.
    const r = sys.epollCtl(this.epfd, C.EPOLL_CTL_ADD, fd, INTEREST, s);
    if (r < 0) throw new Error(`client worker: epoll_ctl(ADD) failed: ${errname(r)}`);
    this.fd[s] = fd;
    this.state[s] = CONNECTING;
    this.t0[s] = t;
    this.firstEcho.connecting(s, t);
    this.connecting++;
  }

  /** EPOLLOUT (or an error) on a connecting socket: established, or a connect error. */
  private onConnect(s: number, ev: number): void {
    const fd = this.fd[s] as number;
    const err = sys.socketError(fd);
    if (err !== 0 || (ev & (C.EPOLLERR | C.EPOLLHUP)) !== 0) {
      this.fail(s, E_CONNECT);
      return;
    }
    const t = this.now;
    this.connectLatency.record((t - (this.t0[s] as number)) * 1000);
    this.connecting--;
    this.connected++;
    this.totalConnects++;
    if (this.measuring) this.winConnects++;
    this.state[s] = ACTIVE;
    if (this.scripted) this.connectedScripted(s, t);
    else this.startMessage(s, t);
  }

  // ---- errors, timeouts, retries -------------------------------------------------

  private countError(kind: number): void {
    this.errorCount++;
    this.totalErrors[kind] = (this.totalErrors[kind] as number) + 1;
    if (this.measuring) this.winErrors[kind] = (this.winErrors[kind] as number) + 1;
  }

  /** Counts the error, closes the session and schedules its reconnect. */
  private fail(s: number, kind: number): void {
    const st = this.state[s];
    if (st === CONNECTING) this.connecting--;
    else if (st === ACTIVE) this.connected--;
    this.countError(kind);
    if (kind === E_TIMEOUT && this.measuring) this.timedOut[s] = 1;
    const fd = this.fd[s] as number;
    // The client gives up on a session it still considers open (timeout,
    // mismatch): abort with RST so thousands of retries leave no TIME_WAIT.
    if (kind === E_TIMEOUT || kind === E_MISMATCH) sys.setLingerZero(fd);
    sys.close(fd); // also removes it from the epoll set
    this.fd[s] = -1;
    this.backoff(s, kind === E_CONNECT ? CONNECT_BACKOFF_MS : ERROR_BACKOFF_MS);
  }

  private backoff(s: number, ms: number): void {
    this.state[s] = BACKOFF;
    this.retryAt[s] = this.now + ms;
  }

  /** Every SCAN_MS: echo and connect timeouts, and sessions due to retry. */
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

  /** Closes every socket (FIN: a clean end for the server), then reports. */
  private finish(): WorkerResult {
    for (let s = 0; s < this.n; s++) {
      const fd = this.fd[s] as number;
      if (fd >= 0) sys.close(fd);
      this.fd[s] = -1;
      this.state[s] = CLOSED;
    }
    sys.close(this.epfd);
    this.connected = 0;
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
    };
  }
}

function isWorkerConfig(data: unknown): data is WorkerConfig {
  return typeof data === "object" && data !== null && (data as { tag?: unknown }).tag === WORKER_TAG;
}

if (!isMainThread && parentPort !== null && isWorkerConfig(workerData)) {
  const cfg = workerData;
  const port = parentPort;
  if (cfg.cpus.length > 0) {
    const r = sys.setAffinity(0, cfg.cpus);
    if (r < 0) throw new Error(`cannot pin a client thread to CPUs ${cfg.cpus.join(",")}: ${errname(r)}`);
  }
  const engine = cfg.engine === "uring" ? new UringEngine(cfg) : new SessionEngine(cfg);
  const ready: WorkerReady = { type: "ready", threadId: sys.gettid() };
  port.postMessage(ready);
  port.postMessage(engine.run());
}
