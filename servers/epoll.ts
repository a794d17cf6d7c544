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
 * Chat (--protocol chat, chat/epoll.ts): a loop hands each frame to the
 * loops that own the other members: an inbox (BroadcastChannel) plus an
 * eventfd in the owner's epoll set to wake it.
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../native/index.js";
import type { StartModel } from "./model.js";
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

/** What the supervisor gives each loop. */
interface EpollThreadData {
  model: "epoll";
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

export const start: StartModel = async (options) => {
  const threads = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  // Non-blocking: several loops are woken for one connection at times, and
  // the losers must get EAGAIN, not sleep inside accept().
  sys.setNonBlocking(listenFd, true);
  const stop = new StopFlag();
  const data: EpollThreadData = { model: "epoll", listenFd, cap: perConnectionCap(options), work: options.work, stop: stop.buffer, protocol: protocolData(options) };
  const workers = startThreads(import.meta.url, threads, () => data);
  const stopAll = async (): Promise<void> => {
    stopProtocol(data.protocol);
    stop.set();
    await whenExited(workers); // each loop sees the flag within WAIT_MS and closes its connections
    sys.close(listenFd);
  };
  try {
    await whenReady(workers);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { host: options.host, port, stop: stopAll };
};

// ---- per-handle data: one per connection --------------------------------------------

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

// ---- one event loop ------------------------------------------------------------------

function runLoop(d: EpollThreadData): void {
  const stop = new StopFlag(d.stop);
  const ep = sys.epollCreate();
  if (ep < 0) throw ioFailure("epoll_create1", ep);
  // One recv buffer for the whole thread: an idle connection costs a Map
  // entry and a small object, not a buffer (10,000 idle clients stay cheap).
  const buf = new Uint8Array(d.cap);
  const http = httpThread(d.protocol, d.cap);
  const events = new Int32Array(2 * MAX_EVENTS);
  const connections = new Map<number, Connection>();
  /** The listener is out of the set until this time (ms), after EMFILE; 0 = in the set. */
  let listenerBackAt = 0;

  // The key of an event is the fd: fds are unique while open, and the
  // listener's fd is never a connection's.
  const ctl = (op: number, fd: number, mask: number): void => {
    const r = sys.epollCtl(ep, op, fd, mask, fd);
    if (r < 0) throw ioFailure("epoll_ctl", r);
  };
  const READ = C.EPOLLIN | C.EPOLLRDHUP;
  // RDHUP is left out while waiting to write: a client that ended its side
  // would otherwise be reported again and again until we read, and we do
  // not read until the echo is drained.
  const WRITE = C.EPOLLOUT;

  const close = (c: Connection): void => {
    connections.delete(c.fd);
    c.http?.release();
    sys.close(c.fd); // also takes it out of the epoll set
  };

  /**
   * Out of fds (or of epoll watches): the pending connection stays pending,
   * and a level-triggered listener would wake us for it in a tight loop.
   * Take the listener out for a while; closing connections meanwhile frees
   * fds. (EPOLLEXCLUSIVE forbids EPOLL_CTL_MOD: DEL now, ADD later.)
   */
  const pauseListener = (): void => {
    ctl(C.EPOLL_CTL_DEL, d.listenFd, 0);
    listenerBackAt = Date.now() + ACCEPT_BACKOFF_MS;
  };

  const acceptAll = (): void => {
    for (;;) {
      const fd = sys.accept(d.listenFd, true);
      if (fd >= 0) {
        sys.setNoDelay(fd, true);
        const r = sys.epollCtl(ep, C.EPOLL_CTL_ADD, fd, READ, fd);
        if (r < 0) {
          // ENOSPC (max_user_watches) or ENOMEM: as good as out of fds.
          sys.close(fd);
          return pauseListener();
        }
        connections.set(fd, new Connection(fd, http?.connection(fd) ?? null));
        continue;
      }
      const what = acceptFailure(fd);
      if (what === "again") return;
      if (what === "retry") continue;
      if (what === "backoff") return pauseListener();
      throw ioFailure("accept", fd);
    }
  };

  /** EPOLLIN: one recv into the thread's buffer, the messages' work, the echo (http: the answer); what send() leaves is kept. */
  const readAndEcho = (c: Connection): void => {
    const n = sys.recv(c.fd, buf, 0, c.http === null ? buf.length : c.http.readBytes);
    if (n === 0) {
      // The client ended its side and everything before it has been echoed
      // (we read nothing while an echo is unsent): our side ends too.
      close(c);
      return;
    }
    if (n < 0) {
      if (n === -C.EAGAIN || n === -C.EINTR) return;
      if (isPeerGone(n)) return close(c);
      throw ioFailure("recv", n);
    }
    c.carried = workPerMessage(d.work, c.carried, n);
    // http: what goes back is the answer, written after the read in the same buffer.
    const from = c.http === null ? 0 : c.http.readBytes;
    const len = c.http === null ? n : c.http.reply(buf, n);
    const sent = len === 0 ? 0 : sys.send(c.fd, buf, from, len);
    if (sent === len) {
      if (c.http?.mustClose) close(c);
      return;
    }
    if (sent < 0 && sent !== -C.EAGAIN && sent !== -C.EINTR) {
      if (isPeerGone(sent)) return close(c);
      throw ioFailure("send", sent);
    }
    c.unsent = buf.slice(from + Math.max(sent, 0), from + len);
    c.unsentOff = 0;
    ctl(C.EPOLL_CTL_MOD, c.fd, WRITE);
  };

  /** EPOLLOUT: send what is left; once it is all gone, read again. */
  const flush = (c: Connection): void => {
    const unsent = c.unsent;
    if (unsent === null) return;
    const r = sys.send(c.fd, unsent, c.unsentOff, unsent.length - c.unsentOff);
    if (r < 0) {
      if (r === -C.EAGAIN || r === -C.EINTR) return;
      if (isPeerGone(r)) return close(c);
      throw ioFailure("send", r);
    }
    c.unsentOff += r;
    if (c.unsentOff < unsent.length) return;
    c.unsent = null;
    if (c.http?.mustClose) return close(c);
    ctl(C.EPOLL_CTL_MOD, c.fd, READ);
  };

  ctl(C.EPOLL_CTL_ADD, d.listenFd, C.EPOLLIN | C.EPOLLEXCLUSIVE);
  signalReady();
  while (!stop.isSet) {
    let timeout = WAIT_MS;
    if (listenerBackAt !== 0) {
      const left = listenerBackAt - Date.now();
      if (left <= 0) {
        listenerBackAt = 0;
        ctl(C.EPOLL_CTL_ADD, d.listenFd, C.EPOLLIN | C.EPOLLEXCLUSIVE);
      } else {
        timeout = Math.min(timeout, left);
      }
    }
    const n = sys.epollWait(ep, events, MAX_EVENTS, timeout);
    if (n < 0) {
      if (n === -C.EINTR) continue;
      throw ioFailure("epoll_wait", n);
    }
    for (let i = 0; i < n; i++) {
      const mask = events[2 * i] ?? 0;
      const key = events[2 * i + 1] ?? -1;
      if (key === d.listenFd) {
        acceptAll();
        continue;
      }
      const c = connections.get(key);
      if (c === undefined) continue;
      if (mask & (C.EPOLLERR | C.EPOLLHUP)) close(c); // reset, or both directions gone
      else if (mask & C.EPOLLOUT) flush(c);
      else if (mask & (C.EPOLLIN | C.EPOLLRDHUP)) readAndEcho(c); // RDHUP: read the rest, then EOF closes
    }
  }

  for (const c of connections.values()) close(c);
  sys.close(ep);
}

if (!isMainThread && isEpollThreadData(workerData)) runLoop(workerData);
