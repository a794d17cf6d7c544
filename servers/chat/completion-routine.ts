/**
 * The completion-routine model's chat server: N independent threads, each
 * with its own port (an io_uring) and its own connections, polling the one
 * listening socket between alertable waits, as in completion-routine.ts
 * (whose thread this one extends: the accept loop and the wait are the same).
 *
 * Fan-out, the APC way: only the thread that owns a connection posts I/O
 * for it, and routines run on that thread. A thread that reads a whole
 * frame queues it on its own connections and hands it to every other
 * thread: the frame goes into that thread's inbox (inboxes.ts, shared
 * memory) and the owner is sent a user completion on ITS port
 * (QueueUserAPC); when that thread's alertable wait returns, the wake-up's
 * routine takes the inbox and queues each frame on its connections.
 *
 * Each connection has one recv in flight, and at most one send, from its
 * output ring (protocol/chat.ts OutRing, bufferBytes, in shared memory as
 * the port requires). Frames are queued whole, so they never interleave; a
 * frame that does not fit drops that connection (counted) at once.
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../../native/index.js";
import type { StartModel } from "../model.js";
import { ioFailure } from "../../protocol/echo.js";
import { ChatCounters, HEADER_BYTES, OutRing } from "../../protocol/chat.js";
import { chatProtocol, chatReader, type ChatProtocol, type ChatReader } from "../../protocol/chat-raw.js";
import { Inboxes, makeInboxes, type InboxesData } from "./inboxes.js";
import { PerIoData, RoutineThread, endsConnection, startRoutines, type RoutineThreadData } from "../completion-routine.js";

/** Bytes one recv takes. */
const RECV_BYTES = 16 * 1024;
/** Key of each thread's wake-up (its first per-I/O data). */
const WAKE_KEY = 0;

interface ChatThreadData extends RoutineThreadData {
  model: "completion-routine-chat";
  /** Every thread's port, by thread index. */
  ports: number[];
  /** Int32Array, one cell per thread: 1 while a wake-up is posted and not yet run. */
  wakePending: SharedArrayBuffer;
  inboxes: InboxesData;
  cap: number;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  counters: SharedArrayBuffer;
}

export const start: StartModel = async (options) => {
  const counters = new ChatCounters();
  const server = await startRoutines(options, import.meta.url, (ports) => ({
    model: "completion-routine-chat",
    ports,
    wakePending: new SharedArrayBuffer(4 * ports.length),
    inboxes: makeInboxes(ports.length, Math.max(options.maxFrameBytes + HEADER_BYTES, RECV_BYTES)),
    cap: options.bufferBytes,
    maxFrameBytes: options.maxFrameBytes,
    framing: chatProtocol(options.protocol),
    counters: counters.buffer,
  }));
  return { ...server, stop: () => server.stop(), chatCounts: () => counters.read() };
};

/** Per-handle data: the connection's two per-I/O data (recv, send) and its chat state. */
class ChatConnection {
  readonly reader: ChatReader;
  readonly out: OutRing;
  /** Bytes of the send in flight; 0 = none. */
  sending = 0;
  recvPosted = false;
  /** Leaving the room: no more I/O is posted; closed once nothing is in flight. */
  dead = false;

  constructor(
    readonly recvIo: PerIoData,
    readonly sendIo: PerIoData,
    d: ChatThreadData,
  ) {
    this.reader = chatReader(d.framing, d.maxFrameBytes);
    this.out = new OutRing(sendIo.buf);
  }

  get fd(): number {
    return this.recvIo.fd;
  }
}

const recvRoutine = (t: RoutineThread, io: PerIoData, result: number): void => (t as ChatRoutineThread).onRecv(io, result);
const sendRoutine = (t: RoutineThread, io: PerIoData, result: number): void => (t as ChatRoutineThread).onSent(io, result);
const wakeRoutine = (t: RoutineThread): void => (t as ChatRoutineThread).onWake();

class ChatRoutineThread extends RoutineThread {
  private readonly chat: ChatThreadData;
  private readonly index: number;
  private readonly counters: ChatCounters;
  private readonly wakePending: Int32Array;
  private readonly inboxes: Inboxes;
  /** Connections by their recv key. */
  private readonly byKey = new Map<number, ChatConnection>();
  private readonly members = new Set<ChatConnection>();
  private readonly free: ChatConnection[] = [];

  constructor(d: ChatThreadData) {
    super(d);
    this.chat = d;
    this.index = d.ports.indexOf(d.completionPort);
    this.counters = new ChatCounters(d.counters);
    this.wakePending = new Int32Array(d.wakePending);
    this.inboxes = new Inboxes(d.inboxes, this.index);
    const wake = new PerIoData(WAKE_KEY, new Uint8Array(new SharedArrayBuffer(1)));
    wake.routine = wakeRoutine;
    this.ios.push(wake);
  }

  /** A new client joins the room: its per-I/O data (reused if any), and the first recv. */
  protected override open(fd: number): void {
    sys.setNoDelay(fd, true);
    let c = this.free.pop();
    if (c === undefined) {
      const arena = new SharedArrayBuffer(RECV_BYTES + this.chat.cap);
      const recvIo = new PerIoData(this.ios.length, new Uint8Array(arena, 0, RECV_BYTES));
      const sendIo = new PerIoData(this.ios.length + 1, new Uint8Array(arena, RECV_BYTES, this.chat.cap));
      recvIo.routine = recvRoutine;
      sendIo.routine = sendRoutine;
      this.ios.push(recvIo, sendIo);
      c = new ChatConnection(recvIo, sendIo, this.chat);
      this.byKey.set(recvIo.key, c);
    }
    c.recvIo.fd = fd;
    c.sendIo.fd = fd;
    c.dead = false;
    this.members.add(c);
    this.postChatRecv(c);
  }

  /** closesocket, called for each per-I/O data still open when the thread stops. */
  override close(io: PerIoData): void {
    const c = this.byKey.get(io.key) ?? this.byKey.get(io.key - 1);
    if (c !== undefined && c.fd >= 0) this.release(c);
  }

  private postChatRecv(c: ChatConnection): void {
    c.recvPosted = true;
    this.posted(sys.portPostRecv(this.port, c.fd, c.recvIo.buf, 0, RECV_BYTES, c.recvIo.key), "post recv");
  }

  private postChatSend(c: ChatConnection): void {
    c.sending = c.out.contiguous;
    this.posted(sys.portPostSend(this.port, c.fd, c.out.buf, c.out.head, c.sending, c.sendIo.key), "post send");
  }

  /** ReadCompRoutine: relay the whole frames, post the next recv. */
  onRecv(io: PerIoData, result: number): void {
    const c = this.byKey.get(io.key)!;
    c.recvPosted = false;
    if (result <= 0 || this.stopping || c.dead) {
      if (result < 0 && !endsConnection(result)) throw ioFailure("recv", result);
      return this.leave(c);
    }
    const error = c.reader.push(c.recvIo.buf, 0, result, (frame) => this.relay(frame));
    if (error !== null) {
      this.counters.badFrame(error);
      return this.leave(c);
    }
    if (!c.dead) this.postChatRecv(c);
  }

  /** WriteCompRoutine: the ring gives up what was sent; post the rest, if any. */
  onSent(io: PerIoData, result: number): void {
    const c = this.byKey.get(io.key - 1)!;
    c.sending = 0;
    if (result <= 0 || this.stopping) {
      if (result < 0 && !endsConnection(result)) throw ioFailure("send", result);
      return this.leave(c);
    }
    c.out.consume(result);
    if (!c.dead && c.out.size > 0) this.postChatSend(c);
    else this.closeIfIdle(c);
  }

  /** The wake-up's routine (the APC): take the inbox, queue each frame here. */
  onWake(): void {
    this.inFlight++; // another thread posted it: it was never counted here
    Atomics.store(this.wakePending, this.index, 0);
    this.inboxes.drain(this.deliver);
  }

  private relay(frame: Uint8Array): void {
    this.counters.add("frames");
    this.deliver(frame);
    if (this.chat.ports.length > 1) this.inboxes.post(frame, this.wake, this.deliver);
  }

  /** Posts the wake-up to thread i unless one is already posted there. */
  private readonly wake = (i: number): void => {
    if (Atomics.exchange(this.wakePending, i, 1) !== 0) return;
    // Not counted in this thread's inFlight: it completes on the other thread's port.
    const r = sys.portPostUser(this.chat.ports[i]!, WAKE_KEY);
    if (r < 0) throw ioFailure("post wake-up", r);
  };

  /** Queues a whole frame on every member of this thread. */
  private readonly deliver = (frame: Uint8Array): void => {
    if (this.stopping) return;
    for (const c of this.members) {
      if (!c.out.put(frame)) {
        this.counters.add("slowDropped");
        this.leave(c);
      } else if (c.sending === 0) {
        this.postChatSend(c);
      }
    }
  };

  /** Out of the room: shut the socket so the I/O in flight ends now; close once none is. */
  private leave(c: ChatConnection): void {
    if (!c.dead) {
      c.dead = true;
      this.members.delete(c);
      if (c.recvPosted || c.sending > 0) sys.shutdown(c.fd, C.SHUT_RDWR);
    }
    this.closeIfIdle(c);
  }

  private closeIfIdle(c: ChatConnection): void {
    if (c.dead && !c.recvPosted && c.sending === 0 && c.fd >= 0) this.release(c);
  }

  private release(c: ChatConnection): void {
    sys.close(c.fd);
    c.recvIo.fd = -1;
    c.sendIo.fd = -1;
    c.dead = true;
    this.members.delete(c);
    c.out.clear();
    c.reader.reset();
    this.free.push(c);
  }
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "completion-routine-chat") {
  new ChatRoutineThread(workerData as ChatThreadData).run();
}
