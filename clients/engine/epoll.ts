/**
 * The epoll backend (`--client-engine epoll`): readiness, one recv and one
 * send call per message, and a share of one epoll_wait.
 *
 * Each socket is registered once, edge-triggered, for IN | OUT | RDHUP, and
 * never modified: no epoll_ctl per message, and the kernel does not re-poll
 * every drained socket on the next epoll_wait as it does level-triggered.
 * Edge-triggered needs each event handled until the socket has nothing
 * more to say: a recv shorter than asked for drained it (any later byte is
 * a new edge); a send shorter than asked for filled the buffer (room is a
 * new EPOLLOUT edge); after a hang-up we read on until recv reports it.
 *
 * http sessions (clients/http-session.ts) run here only: each message is a
 * request, its answer parsed and checked as it arrives.
 */
import { performance } from "node:perf_hooks";
import { C, errname, sys } from "../../native/index.js";
import { byteView } from "../message.js";
import type { ByteView } from "../message.js";
import { HTTP_CLOSED, HTTP_DONE, HTTP_MISMATCH, HTTP_MORE, HttpSessions } from "../http-session.js";
import { E_CLOSED_EARLY, E_CONNECT, E_MISMATCH, E_RESET } from "../shared.js";
import { ACTIVE, CONNECTING, type Backend } from "./backend.js";
import type { SessionCore } from "./core.js";

/** Events per epollWait; well above the number of ready sessions a batch usually has. */
const MAX_EVENTS = 512;
/** recv scratch: one per worker, verified right after each recv. */
const SCRATCH_BYTES = 65536;

// Read once: a property load per use adds up on the hot path (the addon's
// functions ignore their receiver, so they can be called detached).
const { recv, send, epollWait } = sys;
const EPOLLOUT = C.EPOLLOUT;
const HANGUP = C.EPOLLRDHUP | C.EPOLLHUP | C.EPOLLERR;
const READABLE = C.EPOLLIN | HANGUP;
const INTEREST = C.EPOLLIN | EPOLLOUT | C.EPOLLRDHUP | C.EPOLLET;
const EAGAIN = -C.EAGAIN;
const EINTR = -C.EINTR;

export class EpollBackend implements Backend {
  private readonly epfd: number;
  private readonly events = new Int32Array(2 * MAX_EVENTS);
  private readonly scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  private readonly scratchView: ByteView = byteView(this.scratch);
  /** Bytes of the message in flight handed to send(). */
  private readonly sent: Int32Array;
  /** http session mode, or null for echo. */
  private readonly http: HttpSessions | null;
  // The core's session arrays, held here too: one load less per use on the hot path.
  private readonly fd: Int32Array;
  private readonly state: Uint8Array;
  private readonly shift: Int32Array;
  private readonly got: Int32Array;
  private readonly len: Int32Array;
  private readonly pattern: Buffer;

  constructor(private readonly core: SessionCore) {
    const cfg = core.cfg;
    ({ fd: this.fd, state: this.state, shift: this.shift, got: this.got, len: this.len, pattern: this.pattern } = core);
    this.sent = new Int32Array(core.n);
    this.http = cfg.http === null ? null : new HttpSessions(cfg.http, cfg.host, cfg.sizeBytes, core.pattern, core.n, SCRATCH_BYTES);
    const epfd = sys.epollCreate();
    if (epfd < 0) throw new Error(`client worker: epoll_create failed: ${errname(epfd)}`);
    this.epfd = epfd;
  }

  watch(s: number, fd: number): void {
    // Registered once for the connection's life; the connect completes as an EPOLLOUT edge.
    const r = sys.epollCtl(this.epfd, C.EPOLL_CTL_ADD, fd, INTEREST, s);
    if (r < 0) throw new Error(`client worker: epoll_ctl(ADD) failed: ${errname(r)}`);
  }

  opened(): void {
    // Nothing to arm: the socket is in the set, edge-triggered, for its whole life.
  }

  /** Sends what is left of the message in flight; a short send waits for the EPOLLOUT edge. */
  send(s: number): void {
    if (this.http !== null) {
      this.http.start(s);
      return this.sendHttp(this.http, s);
    }
    this.sent[s] = 0;
    this.sendRest(s);
  }

  private sendRest(s: number): void {
    const sent = this.sent[s] as number;
    const r = send(this.fd[s] as number, this.pattern, (this.shift[s] as number) + sent, (this.len[s] as number) - sent);
    if (r >= 0) this.sent[s] = sent + r;
    else if (r !== EAGAIN && r !== EINTR) this.core.fail(s, E_RESET);
  }

  close(s: number, abort: boolean): void {
    const fd = this.fd[s] as number;
    if (abort) sys.setLingerZero(fd);
    sys.close(fd); // also removes it from the epoll set
  }

  poll(ms: number): void {
    const events = this.events;
    const state = this.state;
    // epoll_wait counts whole ms: a timer is up to 1 ms late here (the uring backend waits to the µs).
    const k = epollWait(this.epfd, events, MAX_EVENTS, Math.ceil(ms));
    this.core.now = performance.now();
    if (k < 0 && k !== EINTR) throw new Error(`client worker: epoll_wait failed: ${errname(k)}`);
    for (let i = 0; i < k; i++) {
      const ev = events[2 * i] as number;
      const s = events[2 * i + 1] as number;
      const st = state[s];
      if (st === ACTIVE) this.onActive(s, ev);
      else if (st === CONNECTING) this.onConnect(s, ev);
    }
  }

  end(): void {
    const fd = this.fd;
    for (let s = 0; s < fd.length; s++) if ((fd[s] as number) >= 0) sys.close(fd[s] as number);
    sys.close(this.epfd);
  }

  /** EPOLLOUT (or an error) on a connecting socket: established, or a connect error. */
  private onConnect(s: number, ev: number): void {
    const core = this.core;
    if (sys.socketError(this.fd[s] as number) !== 0 || (ev & (C.EPOLLERR | C.EPOLLHUP)) !== 0) core.fail(s, E_CONNECT);
    else core.connected(s);
  }

  /** An event on a connected session: echo bytes to read, room to send, or a hang-up. */
  private onActive(s: number, ev: number): void {
    if (this.http !== null) return this.onActiveHttp(this.http, s, ev);
    const core = this.core;
    if ((ev & READABLE) !== 0) {
      const hangup = (ev & HANGUP) !== 0;
      const fd = this.fd[s] as number;
      for (;;) {
        const want = (this.len[s] as number) - (this.got[s] as number);
        const len = want < SCRATCH_BYTES ? want : SCRATCH_BYTES;
        const r = recv(fd, this.scratch, 0, len);
        if (r > 0) {
          if (!core.received(s, this.scratchView, 0, r)) return;
          if (r === want) {
            // After a hang-up the next message can never come back: read on
            // so recv reports it (edge-triggered: no later event would).
            if (!hangup || this.state[s] !== ACTIVE) return;
            continue;
          }
          if (r < len && !hangup) break; // drained
        } else if (r === 0) {
          return core.fail(s, E_CLOSED_EARLY);
        } else if (r === EAGAIN) {
          break;
        } else if (r !== EINTR) {
          return core.fail(s, E_RESET);
        }
      }
    }
    if ((ev & EPOLLOUT) !== 0 && (this.sent[s] as number) < (this.len[s] as number)) this.sendRest(s);
  }

  // ---- http: the same loop, with requests and answers (clients/http-session.ts) ----

  private sendHttp(http: HttpSessions, s: number): void {
    const core = this.core;
    const r = http.sendSome(send, this.fd[s] as number, s, this.shift[s] as number);
    if (r < 0 && r !== EAGAIN && r !== EINTR) core.fail(s, E_RESET);
  }

  private onActiveHttp(http: HttpSessions, s: number, ev: number): void {
    const core = this.core;
    if ((ev & READABLE) !== 0) {
      const hangup = (ev & HANGUP) !== 0;
      for (;;) {
        const v = http.readable(recv, this.fd[s] as number, s, this.shift[s] as number, EAGAIN, EINTR);
        core.receivedBytes(http.takeReceived());
        if (v === HTTP_MORE) break;
        if (v !== HTTP_DONE) return core.fail(s, v === HTTP_MISMATCH ? E_MISMATCH : v === HTTP_CLOSED ? E_CLOSED_EARLY : E_RESET);
        core.complete(s);
        if (!hangup || this.state[s] !== ACTIVE) return; // after a hang-up, read on until recv reports it
      }
    }
    if ((ev & EPOLLOUT) !== 0 && http.unsent(s)) this.sendHttp(http, s);
  }
}
