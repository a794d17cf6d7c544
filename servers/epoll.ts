/**
 * The epoll model: the Linux counterpart of the completion-port servers.
 * Readiness, not completion: the kernel says "this socket can be read (or
 * written) now", and the thread makes the non-blocking call itself.
 *
 * N threads, each an independent event loop with its own epoll set. The
 * listening socket (non-blocking) sits in every set with EPOLLEXCLUSIVE, so
 * a new connection wakes one loop instead of all of them; the loop that
 * accepts a connection serves it until it closes. Level-triggered: a
 * socket that still has data keeps being reported, so one recv per wake-up
 * is enough and no connection can starve the others.
 *
 * Chat (--protocol chat, chat/epoll.ts): the same loop (EventLoop below,
 * extended by the chat file's thread class); a loop hands each frame to the
 * loops that own the other members: an inbox (BroadcastChannel) plus an
 * eventfd in the owner's epoll set to wake it.
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../native/index.js";
import type { RunningServer, StartModel } from "./model.js";
import { ACCEPT_BACKOFF_MS, acceptFailure, boundPort, openListener } from "./listener.js";
import { ioFailure, isPeerGone, perConnectionCap } from "../protocol/echo.js";
import { workPerMessage } from "../protocol/work.js";
import type { MessageWork } from "../contracts/work.js";
import { httpThread, protocolData, stopProtocol, type HttpConnection, type ProtocolData } from "../protocol/choice.js";
import { StopFlag, poolThreads, signalReady, startThreads, whenExited, whenReady } from "./threads.js";

/** Events taken per epoll_wait. */
const MAX_EVENTS = 256;
/** epoll_wait's timeout: how soon an idle loop notices stop() (and a paused listener's return). */
const WAIT_MS = 100;
/** What a connection is watched for while it is read: data, or the peer ending its side. */
export const READ = C.EPOLLIN | C.EPOLLRDHUP;

/** What the supervisor gives each loop (the chat server adds its own fields). */
export interface EpollThreadData {
  /** "epoll", or the tag of the chat file's threads. */
  model: string;
  /** Loop number, 0-based. */
  index: number;
  listenFd: number;
  cap: number;
  work: MessageWork | null;
  stop: SharedArrayBuffer;
  protocol: ProtocolData;
}

function isEpollThreadData(data: unknown): data is EpollThreadData {
  return typeof data === "object" && data !== null && (data as { model?: unknown }).model === "epoll";
}

// ---- the supervisor ----------------------------------------------------------------

export const start: StartModel = (options) => startEpoll(options, import.meta.url);

/** What a caller of startEpoll adds: fields of every loop's data, and what to release once every loop has exited. */
export interface EpollExtra {
  data: Record<string, unknown>;
  release?: () => void;
}

/** Starts the loops of `file` (this file, or the chat server's) on one listening socket. */
export async function startEpoll(options: Parameters<StartModel>[0], file: string, extra: (threads: number) => EpollExtra = () => ({ data: {} })): Promise<RunningServer> {
  const threads = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  // Non-blocking: several loops are woken for one connection at times, and
  // the losers must get EAGAIN, not sleep inside accept().
  sys.setNonBlocking(listenFd, true);
  let more: EpollExtra;
  try {
    more = extra(threads);
  } catch (err) {
    sys.close(listenFd);
    throw err;
  }
  const stop = new StopFlag();
  const data = { model: "epoll", listenFd, cap: perConnectionCap(options), work: options.work, stop: stop.buffer, protocol: protocolData(options), ...more.data };
  const workers = startThreads(file, threads, (index) => ({ ...data, index }));
  const stopAll = async (): Promise<void> => {
    stopProtocol(data.protocol);
    stop.set();
    await whenExited(workers); // each loop sees the flag within WAIT_MS and closes its connections
    more.release?.();
    sys.close(listenFd);
  };
  try {
    await whenReady(workers);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { host: options.host, port, stop: stopAll };
}

// ---- one event loop ------------------------------------------------------------------

/**
 * One thread's event loop: its epoll set, the shared listener in it, and
 * its connections (per-handle data of type H), served until stop(). What a
 * connection's events mean is the subclass's: echo below, chat in chat/epoll.ts.
 */
export abstract class EventLoop<H extends { readonly fd: number }> {
  protected readonly ep: number;
  /** Connections by fd (the key of their events). */
  protected readonly connections = new Map<number, H>();
  private readonly stop: StopFlag;
  private readonly events = new Int32Array(2 * MAX_EVENTS);
  /** The listener is out of the set until this time (ms), after EMFILE; 0 = in the set. */
  private listenerBackAt = 0;

  constructor(protected readonly d: EpollThreadData) {
    this.stop = new StopFlag(d.stop);
    const ep = sys.epollCreate();
    if (ep < 0) throw ioFailure("epoll_create1", ep);
    this.ep = ep;
  }

  /** A new connection's per-handle data. */
  protected abstract open(fd: number): H;
  /** An event on one of this loop's connections. */
  protected abstract onEvent(c: H, mask: number): void;
  /** An event whose key is not a connection's (the chat server's wake-up). */
  protected onOtherKey(_key: number): void {}
  /** Each turn, before the wait: what the loop must do first; returns the wait's timeout. */
  protected beforeWait(timeout: number): number {
    return timeout;
  }

  /** epoll_ctl that must not fail; the key is the fd unless given. */
  protected ctl(op: number, fd: number, mask: number, key = fd): void {
    const r = sys.epollCtl(this.ep, op, fd, mask, key);
    if (r < 0) throw ioFailure("epoll_ctl", r);
  }

  protected close(c: H): void {
    this.connections.delete(c.fd);
    sys.close(c.fd); // also takes it out of the epoll set
  }

  /**
   * Out of fds (or of epoll watches): the pending connection stays pending,
   * and a level-triggered listener would wake us for it in a tight loop.
   * Take the listener out for a while; closing connections meanwhile frees
   * fds. (EPOLLEXCLUSIVE forbids EPOLL_CTL_MOD: DEL now, ADD later.)
   */
  private pauseListener(): void {
    this.ctl(C.EPOLL_CTL_DEL, this.d.listenFd, 0);
    this.listenerBackAt = Date.now() + ACCEPT_BACKOFF_MS;
  }

  private acceptAll(): void {
    for (;;) {
      const fd = sys.accept(this.d.listenFd, true);
      if (fd >= 0) {
        sys.setNoDelay(fd, true);
        if (sys.epollCtl(this.ep, C.EPOLL_CTL_ADD, fd, READ, fd) < 0) {
          // ENOSPC (max_user_watches) or ENOMEM: as good as out of fds.
          sys.close(fd);
          return this.pauseListener();
        }
        this.connections.set(fd, this.open(fd));
        continue;
      }
      const what = acceptFailure(fd);
      if (what === "again") return;
      if (what === "retry") continue;
      if (what === "backoff") return this.pauseListener();
      throw ioFailure("accept", fd);
    }
  }

  run(): void {
    const d = this.d;
    const events = this.events;
    this.ctl(C.EPOLL_CTL_ADD, d.listenFd, C.EPOLLIN | C.EPOLLEXCLUSIVE);
    signalReady();
    while (!this.stop.isSet) {
      let timeout = WAIT_MS;
      if (this.listenerBackAt !== 0) {
        const left = this.listenerBackAt - Date.now();
        if (left <= 0) {
          this.listenerBackAt = 0;
          this.ctl(C.EPOLL_CTL_ADD, d.listenFd, C.EPOLLIN | C.EPOLLEXCLUSIVE);
        } else {
          timeout = Math.min(timeout, left);
        }
      }
      const n = sys.epollWait(this.ep, events, MAX_EVENTS, this.beforeWait(timeout));
      if (n < 0) {
        if (n === -C.EINTR) continue;
        throw ioFailure("epoll_wait", n);
      }
      for (let i = 0; i < n; i++) {
        const mask = events[2 * i] ?? 0;
        const key = events[2 * i + 1] ?? -1;
        if (key === d.listenFd) {
          this.acceptAll();
          continue;
        }
        const c = this.connections.get(key);
        if (c === undefined) this.onOtherKey(key);
        else this.onEvent(c, mask);
      }
    }
    for (const c of this.connections.values()) this.close(c); // deleting the entry being visited is safe in a Map
    sys.close(this.ep);
  }
}

// ---- the echo loop ---------------------------------------------------------------------
class Connection {
  /**
   * The part of the last echo that send() did not take: a copy, because the
   * recv buffer is shared by the whole thread. While it is set the
   * connection waits for EPOLLOUT and is not read, so it never holds more
   * than one read (the per-connection cap).
   */
  unsent: Uint8Array | null = null;
  unsentOff = 0;
  /** Bytes of a message not complete yet (--work). */
  carried = 0;

  constructor(
    readonly fd: number,
    /** http: the parser's state; null for echo. */
    readonly http: HttpConnection | null,
  ) {}
}

/** The echo: read, do the messages' work, send it back; what send() leaves waits for EPOLLOUT. */
class EchoLoop extends EventLoop<Connection> {
  // One recv buffer for the whole thread: an idle connection costs a Map
  // entry and a small object, not a buffer (10,000 idle clients stay cheap).
  private readonly buf: Uint8Array;
  private readonly http;

  constructor(d: EpollThreadData) {
    super(d);
    this.buf = new Uint8Array(d.cap);
    this.http = httpThread(d.protocol, d.cap);
  }

  protected open(fd: number): Connection {
    return new Connection(fd, this.http?.connection(fd) ?? null);
  }

  protected override close(c: Connection): void {
    c.http?.release();
    super.close(c);
  }

  protected onEvent(c: Connection, mask: number): void {
    if (mask & (C.EPOLLERR | C.EPOLLHUP)) this.close(c); // reset, or both directions gone
    else if (mask & C.EPOLLOUT) this.flush(c);
    else if (mask & (C.EPOLLIN | C.EPOLLRDHUP)) this.readAndEcho(c); // RDHUP: read the rest, then EOF closes
  }

  /** EPOLLIN: one recv into the thread's buffer, the messages' work, the echo (http: the answer); what send() leaves is kept. */
  private readAndEcho(c: Connection): void {
    const buf = this.buf;
    const n = sys.recv(c.fd, buf, 0, c.http === null ? buf.length : c.http.readBytes);
    if (n === 0) {
      // The client ended its side and everything before it has been echoed
      // (we read nothing while an echo is unsent): our side ends too.
      this.close(c);
      return;
    }
    if (n < 0) {
      if (n === -C.EAGAIN || n === -C.EINTR) return;
      if (isPeerGone(n)) return this.close(c);
      throw ioFailure("recv", n);
    }
    c.carried = workPerMessage(this.d.work, c.carried, n);
    // http: what goes back is the answer, written after the read in the same buffer.
    const from = c.http === null ? 0 : c.http.readBytes;
    const len = c.http === null ? n : c.http.reply(buf, n);
    const sent = len === 0 ? 0 : sys.send(c.fd, buf, from, len);
    if (sent === len) {
      if (c.http?.mustClose) this.close(c);
      return;
    }
    if (sent < 0 && sent !== -C.EAGAIN && sent !== -C.EINTR) {
      if (isPeerGone(sent)) return this.close(c);
      throw ioFailure("send", sent);
    }
    c.unsent = buf.slice(from + Math.max(sent, 0), from + len);
    c.unsentOff = 0;
    // RDHUP is left out while waiting to write: a client that ended its side
    // would otherwise be reported again and again until we read, and we do
    // not read until the echo is drained.
    this.ctl(C.EPOLL_CTL_MOD, c.fd, C.EPOLLOUT);
  }

  /** EPOLLOUT: send what is left; once it is all gone, read again. */
  private flush(c: Connection): void {
    const unsent = c.unsent;
    if (unsent === null) return;
    const r = sys.send(c.fd, unsent, c.unsentOff, unsent.length - c.unsentOff);
    if (r < 0) {
      if (r === -C.EAGAIN || r === -C.EINTR) return;
      if (isPeerGone(r)) return this.close(c);
      throw ioFailure("send", r);
    }
    c.unsentOff += r;
    if (c.unsentOff < unsent.length) return;
    c.unsent = null;
    if (c.http?.mustClose) return this.close(c);
    this.ctl(C.EPOLL_CTL_MOD, c.fd, READ);
  }
}

if (!isMainThread && isEpollThreadData(workerData)) new EchoLoop(workerData).run();
