/**
 * The client's io_uring engine (`--client-engine uring`): the same sessions
 * as the epoll engine in worker.ts (connect, send, read the whole echo,
 * verify it byte for byte, record, repeat; errors by kind, reconnect after
 * a back-off), with far fewer crossings into C and into the kernel.
 *
 * Why it is faster: the epoll engine pays, per message, one Node-API call
 * and one syscall for recv and again for send (~0.2-0.3 µs of call overhead
 * each, plus the syscall), and a share of an epoll_wait. Here a whole batch
 * of work is one Node-API call and one io_uring_enter (native/
 * uring-client.c): every send the batch produced goes in as an SQE, and the
 * same call waits for and returns the next completions in bulk. A connected
 * session keeps one multishot recv armed for its whole life (no re-arm per
 * message); the kernel reads each echo into a buffer it picks from a
 * provided-buffer ring, and the buffer goes back to the ring as an op of
 * the next batch once its bytes are verified. A send is MSG_WAITALL with
 * CQE_SKIP_SUCCESS: it completes only to report a failure. So a message is
 * one SQE and one CQE, and a few typed-array stores and loads in JS.
 *
 * Time and latency follow worker.ts exactly: time is read once per batch,
 * when the enter returns, and a round trip runs from the batch that started
 * the message to the batch that saw its echo complete.
 *
 * Stale completions: each connection of a session gets a new generation
 * number carried in the request's user data; a session that fails cancels
 * every request on its socket synchronously, closes it, and bumps the
 * generation, so whatever still trickles in for the old socket is dropped
 * (its buffer, if any, is still handed back).
 */
import { performance } from "node:perf_hooks";
import { C, errname, sys } from "../native/index.js";
import type { UringHandle } from "../native/index.js";
import { byteView, makePattern, messageShift, verifyChunk } from "./message.js";
import type { ByteView } from "./message.js";
import { FirstEchoRecorder } from "./first-echo.js";
import { FastRecorder } from "./recorder.js";
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
  toErrorCounts,
} from "./shared.js";
import type { WorkerConfig, WorkerResult } from "./shared.js";
import { DEFAULT_SCRIPT } from "../contracts/client.js";
import type { LoadScript } from "../contracts/client.js";

/** Session states (as in worker.ts). */
const QUEUED = 0;
const CONNECTING = 1;
const ACTIVE = 2;
const BACKOFF = 3;
const CLOSED = 4;

/** Completions taken per enter. */
const MAX_CQES = 1024;
/** How late an idle worker may notice the phase word, a timeout or a due retry, ms. */
const WAIT_MS = 20;
/** How often the session table is scanned for timeouts and due retries, ms. */
const SCAN_MS = 20;
const CONNECT_BACKOFF_MS = 100;
const ERROR_BACKOFF_MS = 20;
/** Receive buffers: each at most this big, all together at most RECV_AREA_MAX bytes. */
const BUF_MAX = 16384;
const BUF_MIN = 256;
const RECV_AREA_MAX = 64 << 20;
/** Echo bytes one session may have waiting when a batch starts that the buffers are sized for. */
const IN_FLIGHT_MAX = 256 << 10;
/** Most provided buffers the kernel takes in one ring. */
const BUF_COUNT_MAX = 32768;

const { uringEnter } = sys;
const UK_NONE = C.UK_NONE;
const UK_SEND = C.UK_SEND;
const UK_RECV = C.UK_RECV;
const UK_POLLOUT = C.UK_POLLOUT;
const UK_RECYCLE = C.UK_RECYCLE;
const OPS = C.UK_OP_STRIDE;
const CQE = C.UK_CQE_STRIDE;
const F_BUFFER = C.IORING_CQE_F_BUFFER;
const F_MORE = C.IORING_CQE_F_MORE;
const ENOBUFS = -C.ENOBUFS;
const GEN_MASK = 0xffff;
/** poll(2) bits a connect's POLLOUT completion may carry: POLLERR | POLLHUP. */
const POLL_FAILED = 0x008 | 0x010;

/**
 * Every WorkerConfig field, and whether this engine honours it. A field
 * added to WorkerConfig (a new session feature in worker.ts) fails to
 * compile here until it is implemented or marked false; a false one that a
 * run sets stops the engine with one line instead of being ignored.
 */
const CONFIG_FIELDS = {
  tag: true, index: true, host: true, port: true, sizeBytes: true, timeoutMs: true, connectTimeoutMs: true,
  connectConcurrency: true, engine: true, cpus: true, firstSession: true, sessions: true, control: true, live: true,
  startEpochMs: true, totalSessions: true, threadCount: true,
  // Only at DEFAULT_SCRIPT (the seed's closed loop): see uringRefusal.
  script: true,
  // http sessions (clients/http-session.ts) run on worker.ts's epoll engine only.
  http: false,
} satisfies Record<keyof WorkerConfig, boolean>;

/**
 * Why the uring engine cannot run this session script (one line), or null:
 * it runs the seed's closed loop only; ramp-up, connect rates, size
 * distributions, think time, messages per session and open loop are
 * worker.ts's (--client-engine epoll).
 */
export function uringRefusal(script: LoadScript): string | null {
  for (const field of Object.keys(DEFAULT_SCRIPT) as (keyof LoadScript)[]) {
    if (script[field] !== DEFAULT_SCRIPT[field]) return `the uring client engine runs the plain closed loop only: script.${field} needs --client-engine epoll`;
  }
  return null;
}

/** Throws one line naming a feature the run asks for that this engine does not have. */
function refuseUnsupported(cfg: WorkerConfig): void {
  for (const [field, honoured] of Object.entries(CONFIG_FIELDS)) {
    const v: unknown = cfg[field as keyof WorkerConfig];
    if (!honoured && v !== undefined && v !== null && v !== false && v !== 0) {
      throw new Error(`client engine uring does not support ${field}; use --client-engine epoll`);
    }
  }
  const refusal = uringRefusal(cfg.script);
  if (refusal !== null) throw new Error(refusal);
}

/** 0 when this kernel, and the policy it runs under, let the engine set up its ring; else why not (-errno). */
export function uringProbe(): number {
  const area = Buffer.alloc(BUF_MIN * 16);
  const ring = sys.uringCreate(1, 2, area, BUF_MIN, 16, area);
  if (typeof ring === "number") return ring;
  sys.uringClose(ring);
  return 0;
}

/** Buffer size and count for `sessions` sessions of `size`-byte messages. */
export function receiveBuffers(size: number, sessions: number): { bufSize: number; bufCount: number } {
  const bufSize = Math.min(BUF_MAX, Math.max(BUF_MIN, size));
  // A batch may find every session's echo waiting, up to a socket buffer's worth
  // (IN_FLIGHT_MAX) each; twice that keeps ENOBUFS (and its re-arm) rare.
  const want = 2 * sessions * Math.ceil(Math.min(size, IN_FLIGHT_MAX) / bufSize);
  let bufCount = 16;
  while (bufCount < want && bufCount < BUF_COUNT_MAX && 2 * bufCount * bufSize <= RECV_AREA_MAX) bufCount *= 2;
  return { bufSize, bufCount };
}

/** The io_uring session engine of one worker thread. */
export class UringEngine {
  private readonly n: number;
  private readonly size: number;
  private readonly firstSession: number;
  private readonly pattern: Buffer;
  private readonly patternView: ByteView;
  private readonly recvArea: Buffer;
  private readonly recvView: ByteView;
  private readonly bufSize: number;
  private readonly ring: UringHandle;
  private ops = new Int32Array(OPS * 1024);
  private nOps = 0;
  private readonly cqes = new Int32Array(CQE * MAX_CQES);
  private readonly control: Int32Array;
  private readonly live: Float64Array;
  private readonly liveBase: number;

  // Struct of arrays, indexed by session number (the key of its requests).
  private readonly fd: Int32Array;
  private readonly gen: Int32Array;
  private readonly state: Uint8Array;
  private readonly seq: Int32Array;
  private readonly shift: Int32Array;
  private readonly got: Int32Array;
  private readonly t0: Float64Array;
  private readonly retryAt: Float64Array;
  private readonly queue: Int32Array;
  private qHead = 0;
  private qLen = 0;
  private connecting = 0;
  private connected = 0;

  private readonly latency = new FastRecorder();
  private readonly connectLatency = new FastRecorder();
  private readonly firstEcho: FirstEchoRecorder;
  private measuring = false;
  private windowStarted = false;
  private winMessages = 0;
  private winBytes = 0;
  private readonly served: Uint8Array; // completed an echo inside the window
  private readonly timedOut: Uint8Array; // an echo timed out inside the window
  private winConnects = 0;
  private totalConnects = 0;
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
    refuseUnsupported(cfg);
    const n = cfg.sessions;
    this.n = n;
    this.size = cfg.sizeBytes;
    this.firstSession = cfg.firstSession;
    this.pattern = makePattern(cfg.sizeBytes);
    this.patternView = byteView(this.pattern);
    this.control = new Int32Array(cfg.control);
    this.live = new Float64Array(cfg.live);
    this.liveBase = cfg.index * LIVE_SLOTS;
    this.fd = new Int32Array(n).fill(-1);
    this.gen = new Int32Array(n);
    this.state = new Uint8Array(n);
    this.seq = new Int32Array(n);
    this.shift = new Int32Array(n);
    this.got = new Int32Array(n);
    this.t0 = new Float64Array(n);
    this.retryAt = new Float64Array(n);
    this.served = new Uint8Array(n);
    this.firstEcho = new FirstEchoRecorder(n);
    this.timedOut = new Uint8Array(n);
    this.queue = new Int32Array(Math.max(1, n));
    for (let s = 0; s < n; s++) this.enqueue(s);
    this.nextTick = cfg.startEpochMs - performance.timeOrigin + TIMELINE_INTERVAL_MS;

    const { bufSize, bufCount } = receiveBuffers(cfg.sizeBytes, n);
    this.bufSize = bufSize;
    this.recvArea = Buffer.allocUnsafeSlow(bufSize * bufCount);
    this.recvView = byteView(this.recvArea);
    // SQ: a batch's sends and re-arms; CQ: every session's completions plus connects, doubled for slack.
    const entries = Math.min(4096, Math.max(256, 2 * n));
    const ring = sys.uringCreate(entries, Math.max(2 * entries, 4 * n + 2 * bufCount), this.recvArea, bufSize, bufCount, this.pattern);
    if (typeof ring === "number") throw new Error(`client engine uring: io_uring setup failed: ${errname(ring)} (use --client-engine epoll)`);
    this.ring = ring;
  }

  /** Runs until the phase word says Stop; returns what was measured. */
  run(): WorkerResult {
    const control = this.control;
    const cqes = this.cqes;
    const state = this.state;
    const gen = this.gen;
    let phase: number = Phase.WarmUp;
    for (;;) {
      const p = Atomics.load(control, 0);
      if (p !== phase) {
        phase = p;
        this.onPhase(p);
        if (p >= Phase.Stop) break;
      }
      this.startConnects();
      const k = uringEnter(this.ring, this.ops, this.nOps, cqes, MAX_CQES, WAIT_MS);
      this.nOps = 0;
      this.now = performance.now();
      if (k < 0) throw new Error(`client worker: io_uring_enter failed: ${errname(k)}`);
      for (let i = 0; i < k; i++) {
        const b = CQE * i;
        const s = cqes[b] as number;
        const kg = cqes[b + 1] as number;
        const res = cqes[b + 2] as number;
        const flags = cqes[b + 3] as number;
        const kind = kg >>> 16;
        if ((kg & GEN_MASK) !== ((gen[s] as number) & GEN_MASK)) {
          // An old connection's request: only its buffer matters.
          if ((flags & F_BUFFER) !== 0) this.recycle(flags >>> 16);
          continue;
        }
        const st = state[s];
        if (kind === UK_RECV) this.onRecv(s, res, flags);
        else if (kind === UK_SEND) {
          if (st === ACTIVE) this.fail(s, E_RESET); // only a failed send completes
        } else if (kind === UK_POLLOUT && st === CONNECTING) this.onConnect(s, res);
      }
      const now = this.now;
      if (now >= this.nextScan) this.scan(now);
      while (now >= this.nextTick) {
        this.timeline.push(this.timelineCount);
        this.timelineCount = 0;
        this.nextTick += TIMELINE_INTERVAL_MS;
      }
      const live = this.live;
      const lb = this.liveBase;
      live[lb + LIVE_MESSAGES] = this.totalMessages;
      live[lb + LIVE_ERRORS] = this.errorCount;
      live[lb + LIVE_CONNECTED] = this.connected;
      live[lb + LIVE_CONNECTS] = this.totalConnects;
    }
    return this.finish();
  }

  private onPhase(p: number): void {
    if (p >= Phase.Measure && !this.windowStarted) {
      this.windowStarted = true;
      this.latency.reset();
      this.firstEcho.reset();
      this.winMessages = 0;
      this.winBytes = 0;
      this.winErrors.fill(0);
      this.served.fill(0);
      this.timedOut.fill(0);
      this.winConnects = 0;
    }
    this.measuring = p === Phase.Measure;
  }

  // ---- ops -------------------------------------------------------------------------

  private op(kind: number, fd: number, key: number, gen: number, off: number, len: number): void {
    if (this.nOps * OPS === this.ops.length) {
      const bigger = new Int32Array(this.ops.length * 2);
      bigger.set(this.ops);
      this.ops = bigger;
    }
    const o = this.ops;
    const b = this.nOps++ * OPS;
    o[b] = kind;
    o[b + 1] = fd;
    o[b + 2] = key;
    o[b + 3] = gen;
    o[b + 4] = off;
    o[b + 5] = len;
  }

  private recycle(bid: number): void {
    this.op(UK_RECYCLE, -1, 0, 0, bid, 0);
  }

  private armRecv(s: number): void {
    this.op(UK_RECV, this.fd[s] as number, s, this.gen[s] as number, 0, 0);
  }

  // ---- the message loop ------------------------------------------------------------

  /** A multishot recv completion: echo bytes in a provided buffer, the end of the stream, or an error. */
  private onRecv(s: number, res: number, flags: number): void {
    if (res > 0 && (flags & F_BUFFER) !== 0) {
      const bid = flags >>> 16;
      const ok = this.state[s] === ACTIVE && this.consume(s, bid * this.bufSize, res);
      this.recycle(bid); // after consume: the bytes are read before the kernel may reuse them
      if (!ok) {
        if (this.state[s] === ACTIVE) this.fail(s, E_MISMATCH);
        return;
      }
      if ((flags & F_MORE) === 0) this.armRecv(s); // the kernel ended the multishot (e.g. CQ overflow)
    } else if ((flags & F_BUFFER) !== 0) {
      this.recycle(flags >>> 16);
    }
    if (res > 0 || this.state[s] !== ACTIVE) return;
    if (res === 0) this.fail(s, E_CLOSED_EARLY);
    else if (res === ENOBUFS) this.armRecv(s); // every buffer was in use: the ring has some back by now
    else this.fail(s, E_RESET);
  }

  /** Verifies `len` echoed bytes at recvArea[off]; completes messages as they fill. False on a mismatch. */
  private consume(s: number, off: number, len: number): boolean {
    while (len > 0) {
      const got = this.got[s] as number;
      const want = this.size - got;
      const take = len < want ? len : want;
      if (!verifyChunk(this.patternView, this.shift[s] as number, got, this.recvView, off, take)) return false;
      if (this.measuring) this.winBytes += take;
      if (take === want) this.complete(s);
      else this.got[s] = got + take;
      off += take;
      len -= take;
    }
    return true;
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
    this.startMessage(s, t);
  }

  /** Starts the session's next message at time t: one send of all of it. */
  private startMessage(s: number, t: number): void {
    const seq = (this.seq[s] as number) + 1;
    this.seq[s] = seq;
    const shift = messageShift(this.firstSession + s, seq);
    this.shift[s] = shift;
    this.got[s] = 0;
    this.t0[s] = t;
    this.op(UK_SEND, this.fd[s] as number, s, this.gen[s] as number, shift, this.size);
  }

  // ---- connecting ----------------------------------------------------------------------

  private enqueue(s: number): void {
    const cap = this.queue.length;
    this.queue[(this.qHead + this.qLen) % cap] = s;
    this.qLen++;
    this.state[s] = QUEUED;
  }

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
    const g = ((this.gen[s] as number) + 1) & GEN_MASK;
    this.gen[s] = g;
    this.fd[s] = fd;
    this.state[s] = CONNECTING;
    this.t0[s] = t;
    this.firstEcho.connecting(s, t);
    this.connecting++;
    this.op(UK_POLLOUT, fd, s, g, 0, 0); // the non-blocking connect ends when the socket turns writable
  }

  /** The connecting socket turned writable (or failed): established, or a connect error. */
  private onConnect(s: number, res: number): void {
    if (res < 0 || (res & POLL_FAILED) !== 0 || sys.socketError(this.fd[s] as number) !== 0) {
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
    this.armRecv(s);
    this.startMessage(s, t);
  }

  // ---- errors, timeouts, retries ---------------------------------------------------------

  private countError(kind: number): void {
    this.errorCount++;
    this.totalErrors[kind] = (this.totalErrors[kind] as number) + 1;
    if (this.measuring) this.winErrors[kind] = (this.winErrors[kind] as number) + 1;
  }

  /** Counts the error, ends every request on the socket, closes it and schedules the reconnect. */
  private fail(s: number, kind: number): void {
    const st = this.state[s];
    if (st === CONNECTING) this.connecting--;
    else if (st === ACTIVE) this.connected--;
    this.countError(kind);
    if (kind === E_TIMEOUT && this.measuring) this.timedOut[s] = 1;
    this.closeSocket(s, st === CONNECTING, kind === E_TIMEOUT || kind === E_MISMATCH);
    this.state[s] = BACKOFF;
    this.retryAt[s] = this.now + (kind === E_CONNECT ? CONNECT_BACKOFF_MS : ERROR_BACKOFF_MS);
  }

  /**
   * A request in flight holds the socket open past close(), so cancel them
   * first: the connect's poll, or the recv and any send (ops of this batch
   * not yet submitted for it are dropped instead). With `abort`, RST
   * instead of FIN: thousands of retries leave no TIME_WAIT.
   */
  private closeSocket(s: number, connecting: boolean, abort: boolean): void {
    const fd = this.fd[s] as number;
    if (fd < 0) return;
    this.dropOps(s);
    const g = this.gen[s] as number;
    if (connecting) sys.uringCancel(this.ring, UK_POLLOUT, s, g);
    else {
      sys.uringCancel(this.ring, UK_RECV, s, g);
      sys.uringCancel(this.ring, UK_SEND, s, g);
    }
    if (abort) sys.setLingerZero(fd);
    sys.close(fd);
    this.fd[s] = -1;
    this.gen[s] = ((this.gen[s] as number) + 1) & GEN_MASK;
  }

  /** Turns the session's queued, unsubmitted ops into no-ops: their fd is about to be closed (and may be reused). */
  private dropOps(s: number): void {
    const o = this.ops;
    for (let b = 0; b < this.nOps * OPS; b += OPS) {
      if (o[b] !== UK_RECYCLE && o[b + 2] === s) o[b] = UK_NONE;
    }
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

  // ---- the end -------------------------------------------------------------------------------

  /**
   * Closes the ring, which cancels every request in flight and so lets go
   * of the sockets, and every socket (FIN: a clean end for the server);
   * then reports.
   */
  private finish(): WorkerResult {
    sys.uringClose(this.ring);
    for (let s = 0; s < this.n; s++) {
      const fd = this.fd[s] as number;
      if (fd >= 0) sys.close(fd);
      this.fd[s] = -1;
      this.state[s] = CLOSED;
    }
    this.connected = 0;
    this.live[this.liveBase + LIVE_CONNECTED] = 0;
    this.timeline.push(this.timelineCount);
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
      uncorrectedLatency: null, // closed loop only
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
