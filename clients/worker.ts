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
import { C, errname, sys } from "../servers/native/index.js";
import { byteView, makePattern, messageShift, verifyChunk } from "./message.js";
import type { ByteView } from "./message.js";
import { FastRecorder } from "./recorder.js";
import {
  E_CLOSED_EARLY,
  E_CONNECT,
  E_MISMATCH,
  E_RESET,
  E_TIMEOUT,
  LIVE_CONNECTED,
  LIVE_ERRORS,
  LIVE_MESSAGES,
  LIVE_SLOTS,
  Phase,
  TIMELINE_INTERVAL_MS,
  WORKER_TAG,
  toErrorCounts,
} from "./shared.js";
import type { WorkerConfig, WorkerReady, WorkerResult } from "./shared.js";

/** Session states. */
const QUEUED = 0; // waiting for a connect slot
const CONNECTING = 1; // connect in flight, waiting for EPOLLOUT
const ACTIVE = 2; // connected, a message in flight
const BACKOFF = 3; // closed after an error, waiting to retry
const CLOSED = 4; // stopped

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
  private readonly size: number;
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
  private readonly t0: Float64Array; // send time of the message in flight, or connect start
  private readonly retryAt: Float64Array;
  private readonly queue: Int32Array; // ring of QUEUED sessions
  private qHead = 0;
  private qLen = 0;
  private connecting = 0;
  private connected = 0;

  private readonly latency = new FastRecorder();
  private readonly connectLatency = new FastRecorder();
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
    this.size = cfg.sizeBytes;
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
    this.t0 = new Float64Array(n);
    this.retryAt = new Float64Array(n);
    this.queue = new Int32Array(Math.max(1, n));
    for (let s = 0; s < n; s++) this.enqueue(s);
    // Timeline intervals count from the client's start, on every worker alike.
    const startLocal = cfg.startEpochMs - performance.timeOrigin;
    this.nextTick = startLocal + TIMELINE_INTERVAL_MS;

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
      this.startConnects();
      const k = epollWait(this.epfd, events, MAX_EVENTS, WAIT_MS);
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
    }
    return this.finish();
  }

  private onPhase(p: number): void {
    if (p >= Phase.Measure && !this.windowStarted) {
      // Whatever was counted during warm-up is not part of the window.
      this.windowStarted = true;
      this.latency.reset();
      this.winMessages = 0;
      this.winBytes = 0;
      this.winErrors.fill(0);
    }
    this.measuring = p === Phase.Measure;
  }

  // ---- the message loop ------------------------------------------------------

  /** An event on a connected session: echo bytes to read, room to send, or a hang-up. */
  private onActive(s: number, ev: number): void {
    if ((ev & READABLE) !== 0) {
      const hangup = (ev & HANGUP) !== 0;
      const fd = this.fd[s] as number;
      for (;;) {
        const got = this.got[s] as number;
        const want = this.size - got;
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
    if ((ev & EPOLLOUT) !== 0 && (this.sent[s] as number) < this.size) this.sendSome(s);
  }

  /** The whole echo is back and verified: record it and send the next message. */
  private complete(s: number): void {
    const t = this.now;
    if (this.measuring) {
      this.latency.record((t - (this.t0[s] as number)) * 1000);
      this.winMessages++;
    }
    this.totalMessages++;
    this.timelineCount++;
    this.startMessage(s, t);
  }

  /** Starts the session's next message at time t. */
  private startMessage(s: number, t: number): void {
    const seq = (this.seq[s] as number) + 1;
    this.seq[s] = seq;
    this.shift[s] = messageShift(this.firstSession + s, seq);
    this.got[s] = 0;
    this.sent[s] = 0;
    this.t0[s] = t;
    this.sendSome(s);
  }

  /** Sends what is left of the message in flight; a short send waits for the EPOLLOUT edge. */
  private sendSome(s: number): void {
    const sent = this.sent[s] as number;
    const r = send(this.fd[s] as number, this.pattern, (this.shift[s] as number) + sent, this.size - sent);
    if (r >= 0) this.sent[s] = sent + r;
    else if (r !== EAGAIN && r !== EINTR) this.fail(s, E_RESET);
  }

  // ---- connecting ----------------------------------------------------------------

  private enqueue(s: number): void {
    const cap = this.queue.length;
    this.queue[(this.qHead + this.qLen) % cap] = s;
    this.qLen++;
    this.state[s] = QUEUED;
  }

  /** Starts connects while fewer than connectConcurrency are in flight. */
  private startConnects(): void {
    const limit = this.cfg.connectConcurrency;
    while (this.qLen > 0 && this.connecting < limit) {
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
    this.state[s] = ACTIVE;
    this.startMessage(s, t);
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
    const echoLimit = now - this.cfg.timeoutMs;
    const connectLimit = now - this.cfg.connectTimeoutMs;
    for (let s = 0; s < this.n; s++) {
      const st = state[s];
      if (st === ACTIVE) {
        if ((t0[s] as number) < echoLimit) this.fail(s, E_TIMEOUT);
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
    return {
      type: "result",
      threadId: sys.gettid(),
      latency: this.latency.encode(),
      connectLatency: this.connectLatency.encode(),
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
  const engine = new SessionEngine(cfg);
  const ready: WorkerReady = { type: "ready", threadId: sys.gettid() };
  port.postMessage(ready);
  port.postMessage(engine.run());
}
