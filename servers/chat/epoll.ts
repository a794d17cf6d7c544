/**
 * The epoll model's chat server: N event loops, each with its own epoll set
 * and its own connections, sharing the listening socket (EPOLLEXCLUSIVE):
 * epoll.ts's EventLoop, whose connections' events this file's loop handles.
 *
 * Fan-out: a connection belongs to the loop that accepted it, and only that
 * loop touches it. A loop that reads a whole frame sends it to its own
 * connections at once and hands a copy to every other loop: it appends the
 * frame to each other loop's inbox (inboxes.ts, shared memory) and wakes
 * each loop that is not already awake through that loop's eventfd, which
 * sits in its epoll set. Woken, a loop takes its whole inbox and sends each
 * frame to its connections. One sender's frames reach every inbox in the
 * order they were posted, and each frame is queued whole, so frames stay
 * whole and in per-sender order.
 *
 * Output bound: a frame goes straight to send(); what the kernel does not
 * take waits in the connection's ring (protocol/chat.ts OutRing, made only
 * when needed) and goes out on EPOLLOUT. A frame that does not fit in the
 * ring (bufferBytes) drops that connection, counted: nothing ever waits on
 * a client that does not read.
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../../native/index.js";
import type { StartModel } from "../model.js";
import { EventLoop, READ, startEpoll, type EpollThreadData } from "../epoll.js";
import { ioFailure, isPeerGone } from "../../protocol/echo.js";
import { ChatCounters, HEADER_BYTES, OutRing } from "../../protocol/chat.js";
import { chatProtocol, chatReader, type ChatProtocol, type ChatReader } from "../../protocol/chat-raw.js";
import { Inboxes, makeInboxes, type InboxesData } from "./inboxes.js";

/** Bytes one recv takes. */
const RECV_BYTES = 64 * 1024;
/** The epoll key of a loop's own eventfd (never an fd number). */
const WAKE_KEY = -2;

/** What the supervisor gives each loop besides epoll.ts's data. */
interface EpollChatThreadData extends EpollThreadData {
  model: "epoll-chat";
  /** Every loop's eventfd, by loop index. */
  wakeFds: number[];
  /** Int32Array, one cell per loop: 1 while a wake-up is pending (no need to signal again). */
  wakePending: SharedArrayBuffer;
  inboxes: InboxesData;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  counters: SharedArrayBuffer;
}

export const start: StartModel = async (options) => {
  const counters = new ChatCounters();
  const server = await startEpoll(options, import.meta.url, (threads) => {
    const wakeFds: number[] = [];
    for (let i = 0; i < threads; i++) {
      const fd = sys.eventfdCreate();
      if (fd < 0) {
        for (const f of wakeFds) sys.close(f);
        throw ioFailure("eventfd", fd);
      }
      wakeFds.push(fd);
    }
    return {
      data: {
        model: "epoll-chat",
        cap: options.bufferBytes,
        wakeFds,
        wakePending: new SharedArrayBuffer(4 * threads),
        inboxes: makeInboxes(threads, Math.max(options.maxFrameBytes + HEADER_BYTES, RECV_BYTES)),
        maxFrameBytes: options.maxFrameBytes,
        framing: chatProtocol(options.protocol),
        counters: counters.buffer,
      },
      release: () => wakeFds.forEach((fd) => sys.close(fd)),
    };
  });
  return { ...server, chatCounts: () => counters.read() };
};

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

/** The chat loop: frames read here go to this loop's members and, through the inboxes, to every other loop's. */
class ChatLoop extends EventLoop<Connection> {
  private readonly chat: EpollChatThreadData;
  private readonly counters: ChatCounters;
  private readonly wakePending: Int32Array;
  private readonly inboxes: Inboxes;
  private readonly buf = new Uint8Array(RECV_BYTES);

  constructor(d: EpollChatThreadData) {
    super(d);
    this.chat = d;
    this.counters = new ChatCounters(d.counters);
    this.wakePending = new Int32Array(d.wakePending);
    this.inboxes = new Inboxes(d.inboxes, d.index);
    this.ctl(C.EPOLL_CTL_ADD, d.wakeFds[d.index]!, C.EPOLLIN, WAKE_KEY);
  }

  protected open(fd: number): Connection {
    return new Connection(fd, this.chat);
  }

  protected onEvent(c: Connection, mask: number): void {
    if (mask & (C.EPOLLERR | C.EPOLLHUP)) return this.close(c);
    if (mask & C.EPOLLOUT) this.flush(c);
    if (mask & (C.EPOLLIN | C.EPOLLRDHUP) && this.connections.get(c.fd) === c) this.readFrames(c);
  }

  protected override onOtherKey(key: number): void {
    if (key === WAKE_KEY) this.drainInbox();
  }

  /** A loop that is awake looks at its flag every turn: the eventfd only needs to interrupt a loop asleep in epoll_wait. */
  protected override beforeWait(timeout: number): number {
    if (Atomics.load(this.wakePending, this.chat.index) === 0) return timeout;
    this.drainInbox();
    return 0;
  }

  /** Queues a whole frame on c: straight to the kernel if nothing waits, else in the ring. */
  private sendFrame(c: Connection, frame: Uint8Array): void {
    if (c.out !== null && c.out.size > 0) {
      if (c.out.put(frame)) return;
      this.counters.add("slowDropped");
      return this.close(c);
    }
    const r = sys.send(c.fd, frame, 0, frame.length);
    if (r === frame.length) return;
    if (r < 0 && r !== -C.EAGAIN && r !== -C.EINTR) {
      if (isPeerGone(r)) return this.close(c);
      throw ioFailure("send", r);
    }
    c.out ??= new OutRing(new Uint8Array(this.chat.cap));
    c.out.put(frame.subarray(Math.max(r, 0))); // fits: the ring is empty and holds a largest frame
    this.ctl(C.EPOLL_CTL_MOD, c.fd, READ | C.EPOLLOUT);
  }

  private readonly deliver = (frame: Uint8Array): void => {
    for (const c of this.connections.values()) this.sendFrame(c, frame);
  };

  /** Wakes loop i unless a wake-up is already pending there. */
  private readonly wake = (i: number): void => {
    if (Atomics.exchange(this.wakePending, i, 1) === 0) sys.eventfdSignal(this.chat.wakeFds[i]!);
  };

  /** Our eventfd fired: clear the flag first, so a frame posted after this read wakes us again. */
  private drainInbox(): void {
    Atomics.store(this.wakePending, this.chat.index, 0);
    sys.eventfdDrain(this.chat.wakeFds[this.chat.index]!);
    this.inboxes.drain(this.deliver);
  }

  private readonly onFrame = (frame: Uint8Array): void => {
    this.counters.add("frames");
    this.deliver(frame);
    if (this.chat.wakeFds.length > 1) this.inboxes.post(frame, this.wake, this.deliver);
  };

  private readFrames(c: Connection): void {
    const n = sys.recv(c.fd, this.buf, 0, this.buf.length);
    if (n === 0) return this.close(c); // the client left the room
    if (n < 0) {
      if (n === -C.EAGAIN || n === -C.EINTR) return;
      if (isPeerGone(n)) return this.close(c);
      throw ioFailure("recv", n);
    }
    const error = c.reader.push(this.buf, 0, n, this.onFrame);
    if (error === null) return;
    this.counters.badFrame(error);
    if (this.connections.has(c.fd)) this.close(c);
  }

  /** EPOLLOUT: send what the ring holds; once empty, stop asking for EPOLLOUT. */
  private flush(c: Connection): void {
    const out = c.out;
    if (out === null) return;
    while (out.size > 0) {
      const r = sys.send(c.fd, out.buf, out.head, out.contiguous);
      if (r < 0) {
        if (r === -C.EAGAIN || r === -C.EINTR) return;
        if (isPeerGone(r)) return this.close(c);
        throw ioFailure("send", r);
      }
      out.consume(r);
    }
    c.out = null; // an idle connection holds no ring
    this.ctl(C.EPOLL_CTL_MOD, c.fd, READ);
  }
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "epoll-chat") new ChatLoop(workerData as EpollChatThreadData).run();
