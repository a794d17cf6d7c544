/**
 * The epoll model's chat server: N event loops, each with its own epoll set
 * and its own connections, sharing the listening socket (EPOLLEXCLUSIVE),
 * as in epoll.ts.
 *
 * Fan-out: a connection belongs to the loop that accepted it, and only that
 * loop touches it. A loop that reads a whole frame sends it to its own
 * connections at once and hands a copy to every other loop: it posts the
 * frame on the room's BroadcastChannel (each loop's inbox; postMessage
 * queues it in every other loop's port at once) and wakes each loop that
 * is not already awake through that loop's eventfd, which sits in its epoll
 * set. Woken, a loop takes its whole inbox with receiveMessageOnPort and
 * sends each frame to its connections. One sender's frames reach every
 * inbox in the order they were posted, and each frame is queued whole, so
 * frames stay whole and in per-sender order.
 *
 * Output bound: a frame goes straight to send(); what the kernel does not
 * take waits in the connection's ring (protocol/chat.ts OutRing, made only
 * when needed) and goes out on EPOLLOUT. A frame that does not fit in the
 * ring (bufferBytes) drops that connection, counted: nothing ever waits on
 * a client that does not read.
 */
import { BroadcastChannel, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { sys, C } from "../../native/index.js";
import type { StartModel } from "../model.js";
import { ACCEPT_BACKOFF_MS, acceptFailure, boundPort, openListener } from "../listener.js";
import { ioFailure, isPeerGone } from "../../protocol/echo.js";
import { ChatCounters, OutRing } from "../../protocol/chat.js";
import { chatProtocol, chatReader, type ChatProtocol, type ChatReader } from "../../protocol/chat-raw.js";
import { StopFlag, poolThreads, signalReady, startThreads, whenExited, whenReady } from "../threads.js";

const MAX_EVENTS = 256;
/** epoll_wait's timeout: how soon an idle loop notices stop(). */
const WAIT_MS = 100;
/** Bytes one recv takes. */
const RECV_BYTES = 64 * 1024;
/** The epoll key of a loop's own eventfd (never an fd number). */
const WAKE_KEY = -2;

/** What the supervisor gives each loop. */
interface EpollChatThreadData {
  model: "epoll-chat";
  index: number;
  listenFd: number;
  /** Every loop's eventfd, by loop index. */
  wakeFds: number[];
  /** Int32Array, one cell per loop: 1 while a wake-up is pending (no need to signal again). */
  wakePending: SharedArrayBuffer;
  room: string;
  cap: number;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  stop: SharedArrayBuffer;
  counters: SharedArrayBuffer;
}

let serverCount = 0;

export const start: StartModel = async (options) => {
  const threads = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  sys.setNonBlocking(listenFd, true); // several loops may be woken for one connection
  const wakeFds: number[] = [];
  for (let i = 0; i < threads; i++) {
    const fd = sys.eventfdCreate();
    if (fd < 0) {
      for (const f of [...wakeFds, listenFd]) sys.close(f);
      throw ioFailure("eventfd", fd);
    }
    wakeFds.push(fd);
  }
  const stop = new StopFlag();
  const counters = new ChatCounters();
  const shared: Omit<EpollChatThreadData, "index"> = {
    model: "epoll-chat",
    listenFd,
    wakeFds,
    wakePending: new SharedArrayBuffer(4 * threads),
    room: `iobench-chat-epoll-${process.pid}-${serverCount++}`,
    cap: options.bufferBytes,
    maxFrameBytes: options.maxFrameBytes,
    framing: chatProtocol(options.protocol),
    stop: stop.buffer,
    counters: counters.buffer,
  };
  const workers = startThreads(import.meta.url, threads, (index) => ({ ...shared, index }));
  const stopAll = async (): Promise<void> => {
    stop.set();
    await whenExited(workers);
    for (const fd of [...wakeFds, listenFd]) sys.close(fd);
  };
  try {
    await whenReady(workers);
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { host: options.host, port, stop: stopAll, chatCounts: () => counters.read() };
};

/** @types/node 20 lists only MessagePort for this function; Node's docs list BroadcastChannel too. */
const receiveNow = receiveMessageOnPort as (port: MessagePort | BroadcastChannel) => { message: unknown } | undefined;

/** Per-handle data. */
class Connection {
  /** Bytes the kernel did not take yet; null while there are none. */
  out: OutRing | null = null;
  readonly reader: ChatReader;

  constructor(
    readonly fd: number,
    d: EpollChatThreadData,
  ) {
    this.reader = chatReader(d.framing, d.maxFrameBytes);
  }
}

function runLoop(d: EpollChatThreadData): void {
  const stop = new StopFlag(d.stop);
  const counters = new ChatCounters(d.counters);
  const wakePending = new Int32Array(d.wakePending);
  const room = new BroadcastChannel(d.room);
  const ep = sys.epollCreate();
  if (ep < 0) throw ioFailure("epoll_create1", ep);
  const buf = new Uint8Array(RECV_BYTES);
  const events = new Int32Array(2 * MAX_EVENTS);
  const connections = new Map<number, Connection>();
  let listenerBackAt = 0;

  const ctl = (op: number, fd: number, mask: number, key = fd): void => {
    const r = sys.epollCtl(ep, op, fd, mask, key);
    if (r < 0) throw ioFailure("epoll_ctl", r);
  };
  const READ = C.EPOLLIN | C.EPOLLRDHUP;
  const READ_WRITE = READ | C.EPOLLOUT;

  const close = (c: Connection): void => {
    connections.delete(c.fd);
    sys.close(c.fd);
  };

  /** Queues a whole frame on c: straight to the kernel if nothing waits, else in the ring. */
  const sendFrame = (c: Connection, frame: Uint8Array): void => {
    if (c.out !== null && c.out.size > 0) {
      if (c.out.put(frame)) return;
      counters.add("slowDropped");
      return close(c);
    }
    const r = sys.send(c.fd, frame, 0, frame.length);
    if (r === frame.length) return;
    if (r < 0 && r !== -C.EAGAIN && r !== -C.EINTR) {
      if (isPeerGone(r)) return close(c);
      throw ioFailure("send", r);
    }
    c.out ??= new OutRing(new Uint8Array(d.cap));
    c.out.put(frame.subarray(Math.max(r, 0))); // fits: the ring is empty and holds a largest frame
    ctl(C.EPOLL_CTL_MOD, c.fd, READ_WRITE);
  };

  const deliver = (frame: Uint8Array): void => {
    for (const c of connections.values()) sendFrame(c, frame);
  };

  /** Hands a frame to every other loop: into their inboxes, then wake those not already woken. */
  const handOn = (frame: Uint8Array): void => {
    room.postMessage(frame.slice()); // a view would clone the whole receive buffer
    for (let i = 0; i < d.wakeFds.length; i++) {
      if (i !== d.index && Atomics.exchange(wakePending, i, 1) === 0) sys.eventfdSignal(d.wakeFds[i]!);
    }
  };

  /** Our eventfd fired: clear the flag first, so a frame posted after this read wakes us again. */
  const drainInbox = (): void => {
    Atomics.store(wakePending, d.index, 0);
    sys.eventfdDrain(d.wakeFds[d.index]!);
    for (let m = receiveNow(room); m !== undefined; m = receiveNow(room)) deliver(m.message as Uint8Array);
  };

  const onFrame = (frame: Uint8Array): void => {
    counters.add("frames");
    deliver(frame);
    if (d.wakeFds.length > 1) handOn(frame);
  };

  const readFrames = (c: Connection): void => {
    const n = sys.recv(c.fd, buf, 0, buf.length);
    if (n === 0) return close(c); // the client left the room
    if (n < 0) {
      if (n === -C.EAGAIN || n === -C.EINTR) return;
      if (isPeerGone(n)) return close(c);
      throw ioFailure("recv", n);
    }
    const error = c.reader.push(buf, 0, n, onFrame);
    if (error === null) return;
    counters.badFrame(error);
    if (connections.has(c.fd)) close(c);
  };

  /** EPOLLOUT: send what the ring holds; once empty, stop asking for EPOLLOUT. */
  const flush = (c: Connection): void => {
    const out = c.out;
    if (out === null) return;
    while (out.size > 0) {
      const r = sys.send(c.fd, out.buf, out.head, out.contiguous);
      if (r < 0) {
        if (r === -C.EAGAIN || r === -C.EINTR) return;
        if (isPeerGone(r)) return close(c);
        throw ioFailure("send", r);
      }
      out.consume(r);
    }
    c.out = null; // an idle connection holds no ring
    ctl(C.EPOLL_CTL_MOD, c.fd, READ);
  };

  const acceptAll = (): void => {
    for (;;) {
      const fd = sys.accept(d.listenFd, true);
      if (fd >= 0) {
        sys.setNoDelay(fd, true);
        if (sys.epollCtl(ep, C.EPOLL_CTL_ADD, fd, READ, fd) < 0) {
          sys.close(fd);
          ctl(C.EPOLL_CTL_DEL, d.listenFd, 0);
          listenerBackAt = Date.now() + ACCEPT_BACKOFF_MS;
          return;
        }
        connections.set(fd, new Connection(fd, d));
        continue;
      }
      const what = acceptFailure(fd);
      if (what === "again") return;
      if (what === "retry") continue;
      if (what === "backoff") {
        ctl(C.EPOLL_CTL_DEL, d.listenFd, 0); // as in epoll.ts: out of fds, pause the listener
        listenerBackAt = Date.now() + ACCEPT_BACKOFF_MS;
        return;
      }
      throw ioFailure("accept", fd);
    }
  };

  ctl(C.EPOLL_CTL_ADD, d.listenFd, C.EPOLLIN | C.EPOLLEXCLUSIVE);
  ctl(C.EPOLL_CTL_ADD, d.wakeFds[d.index]!, C.EPOLLIN, WAKE_KEY);
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
    // A loop that is awake looks at its flag every turn: the eventfd only
    // needs to interrupt a loop asleep in epoll_wait.
    if (Atomics.load(wakePending, d.index) !== 0) {
      drainInbox();
      timeout = 0;
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
      if (key === WAKE_KEY) {
        drainInbox();
        continue;
      }
      const c = connections.get(key);
      if (c === undefined) continue;
      if (mask & (C.EPOLLERR | C.EPOLLHUP)) {
        close(c);
        continue;
      }
      if (mask & C.EPOLLOUT) flush(c);
      if (mask & (C.EPOLLIN | C.EPOLLRDHUP) && connections.get(key) === c) readFrames(c);
    }
  }
  for (const c of connections.values()) sys.close(c.fd);
  connections.clear();
  room.close();
  sys.close(ep);
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "epoll-chat") runLoop(workerData as EpollChatThreadData);
