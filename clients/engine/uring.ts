/**
 * The io_uring backend (`--client-engine uring`): the same sessions as the
 * epoll backend with far fewer crossings into C and into the kernel.
 *
 * Why it is faster: the epoll backend pays, per message, one Node-API call
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
 * Stale completions: each connection of a session gets a new generation
 * number carried in the request's user data; a session that closes cancels
 * every request on its socket synchronously, closes it, and bumps the
 * generation, so whatever still trickles in for the old socket is dropped
 * (its buffer, if any, is still handed back).
 */
import { performance } from "node:perf_hooks";
import { C, errname, sys } from "../../native/index.js";
import type { UringHandle } from "../../native/index.js";
import { byteView } from "../message.js";
import type { ByteView } from "../message.js";
import { E_CONNECT, E_RESET } from "../shared.js";
import { ACTIVE, CONNECTING, type Backend } from "./backend.js";
import type { SessionCore } from "./core.js";

/** Completions taken per enter. */
const MAX_CQES = 1024;
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

/** 0 when this kernel, and the policy it runs under, let the backend set up its ring; else why not (-errno). */
export function uringProbe(): number {
  const area = Buffer.alloc(BUF_MIN * 16);
  const ring = sys.uringCreate(1, 2, area, BUF_MIN, 16, area);
  if (typeof ring === "number") return ring;
  sys.uringClose(ring);
  return 0;
}

/** Buffer size and count for `sessions` sessions of messages up to `size` bytes. */
export function receiveBuffers(size: number, sessions: number): { bufSize: number; bufCount: number } {
  const bufSize = Math.min(BUF_MAX, Math.max(BUF_MIN, size));
  // A batch may find every session's echo waiting, up to a socket buffer's worth
  // (IN_FLIGHT_MAX) each; twice that keeps ENOBUFS (and its re-arm) rare.
  const want = 2 * sessions * Math.ceil(Math.min(size, IN_FLIGHT_MAX) / bufSize);
  let bufCount = 16;
  while (bufCount < want && bufCount < BUF_COUNT_MAX && 2 * bufCount * bufSize <= RECV_AREA_MAX) bufCount *= 2;
  return { bufSize, bufCount };
}

export class UringBackend implements Backend {
  private readonly ring: UringHandle;
  private readonly recvArea: Buffer;
  private readonly recvView: ByteView;
  private readonly bufSize: number;
  private ops = new Int32Array(OPS * 1024);
  private nOps = 0;
  private readonly cqes = new Int32Array(CQE * MAX_CQES);
  /** Generation of each session's connection, carried in its requests' user data. */
  private readonly gen: Int32Array;
  // The core's session arrays, held here too: one load less per use on the hot path.
  private readonly fd: Int32Array;
  private readonly state: Uint8Array;
  private readonly shift: Int32Array;
  private readonly len: Int32Array;

  constructor(private readonly core: SessionCore) {
    ({ fd: this.fd, state: this.state, shift: this.shift, len: this.len } = core);
    const n = core.n;
    this.gen = new Int32Array(n);
    const { bufSize, bufCount } = receiveBuffers(core.cfg.sizeBytes, n);
    this.bufSize = bufSize;
    this.recvArea = Buffer.allocUnsafeSlow(bufSize * bufCount);
    this.recvView = byteView(this.recvArea);
    // SQ: a batch's sends and re-arms; CQ: every session's completions plus connects, doubled for slack.
    const entries = Math.min(4096, Math.max(256, 2 * n));
    const ring = sys.uringCreate(entries, Math.max(2 * entries, 4 * n + 2 * bufCount), this.recvArea, bufSize, bufCount, core.pattern);
    if (typeof ring === "number") throw new Error(`client engine uring: io_uring setup failed: ${errname(ring)} (use --client-engine epoll)`);
    this.ring = ring;
  }

  watch(s: number, fd: number): void {
    const g = ((this.gen[s] as number) + 1) & GEN_MASK;
    this.gen[s] = g;
    this.op(UK_POLLOUT, fd, s, g, 0, 0); // the non-blocking connect ends when the socket turns writable
  }

  opened(s: number): void {
    this.armRecv(s);
  }

  /** One send of the whole message. */
  send(s: number): void {
    this.op(UK_SEND, this.fd[s] as number, s, this.gen[s] as number, this.shift[s] as number, this.len[s] as number);
  }

  /**
   * A request in flight holds the socket open past close(), so cancel them
   * first: the connect's poll, or the recv and any send (ops of this batch
   * not yet submitted for it are dropped instead). With `abort`, RST
   * instead of FIN: thousands of retries leave no TIME_WAIT.
   */
  close(s: number, abort: boolean): void {
    const fd = this.fd[s] as number;
    if (fd < 0) return;
    this.dropOps(s);
    const g = this.gen[s] as number;
    if (this.state[s] === CONNECTING) sys.uringCancel(this.ring, UK_POLLOUT, s, g);
    else {
      sys.uringCancel(this.ring, UK_RECV, s, g);
      sys.uringCancel(this.ring, UK_SEND, s, g);
    }
    if (abort) sys.setLingerZero(fd);
    sys.close(fd);
    this.gen[s] = (g + 1) & GEN_MASK;
  }

  poll(ms: number): void {
    const core = this.core;
    const cqes = this.cqes;
    const state = this.state;
    const gen = this.gen;
    const k = uringEnter(this.ring, this.ops, this.nOps, cqes, MAX_CQES, ms);
    this.nOps = 0;
    core.now = performance.now();
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
      if (kind === UK_RECV) this.onRecv(s, res, flags);
      else if (kind === UK_SEND) {
        if (state[s] === ACTIVE) core.fail(s, E_RESET); // only a failed send completes
      } else if (kind === UK_POLLOUT && state[s] === CONNECTING) this.onConnect(s, res);
    }
  }

  /**
   * Closes the ring, which cancels every request in flight and so lets go
   * of the sockets, then every socket (FIN: a clean end for the server).
   */
  end(): void {
    sys.uringClose(this.ring);
    const fd = this.fd;
    for (let s = 0; s < fd.length; s++) if ((fd[s] as number) >= 0) sys.close(fd[s] as number);
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

  /** Turns the session's queued, unsubmitted ops into no-ops: their fd is about to be closed (and may be reused). */
  private dropOps(s: number): void {
    const o = this.ops;
    for (let b = 0; b < this.nOps * OPS; b += OPS) {
      if (o[b] !== UK_RECYCLE && o[b + 2] === s) o[b] = UK_NONE;
    }
  }

  // ---- completions -----------------------------------------------------------------

  /** A multishot recv completion: echo bytes in a provided buffer, the end of the stream, or an error. */
  private onRecv(s: number, res: number, flags: number): void {
    const core = this.core;
    if (res > 0 && (flags & F_BUFFER) !== 0) {
      const bid = flags >>> 16;
      const ok = core.received(s, this.recvView, bid * this.bufSize, res);
      this.recycle(bid); // after received(): the bytes are read before the kernel may reuse them
      // The kernel ended the multishot (e.g. CQ overflow): arm it again while the session lives on.
      if (ok && (flags & F_MORE) === 0 && (this.fd[s] as number) >= 0) this.armRecv(s);
      return;
    }
    if ((flags & F_BUFFER) !== 0) this.recycle(flags >>> 16);
    if (res === 0) core.ended(s);
    else if (res === ENOBUFS) this.armRecv(s); // every buffer was in use: the ring has some back by now
    else if (res < 0) core.unexpected(s, E_RESET);
  }

  /** The connecting socket turned writable (or failed): established, or a connect error. */
  private onConnect(s: number, res: number): void {
    const core = this.core;
    if (res < 0 || (res & POLL_FAILED) !== 0 || sys.socketError(this.fd[s] as number) !== 0) core.fail(s, E_CONNECT);
    else core.connected(s);
  }
}
