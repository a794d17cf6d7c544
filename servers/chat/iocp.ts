/**
 * The completion-port model's chat server: one port (io_uring) dequeued by
 * N workers, an acceptor thread, the per-handle rows and the buffer arena
 * of iocp.ts (whose acceptor and worker loop this file reuses).
 *
 * Fan-out, the IOCP way: any worker may post a send on any socket. The
 * worker that dequeues a READ finds the whole frames in that connection's
 * receive buffer and, for each, walks the room: it copies the frame into
 * every member's output ring and, when that member has no send in flight,
 * posts one itself. The WRITE completion may come back to any worker,
 * which posts the rest of the ring. A member's ring and send state sit in
 * shared memory under a per-handle lock (threads.ts lockCell) held for one
 * frame, so frames never interleave; each connection has one recv in flight
 * and its frames are relayed before the next recv is posted, so one
 * sender's frames keep their order.
 *
 * Per connection: key h*2 is the receive buffer (a partial frame stays at its
 * start until the rest arrives: it always holds one largest frame), key
 * h*2+1 the output ring of bufferBytes. A frame that does not fit the ring
 * drops that member (counted): its socket is shut down, its I/O completes,
 * and the last completion closes it. Nothing waits on a member that does
 * not read.
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../../native/index.js";
import type { StartModel } from "../model.js";
import { ioFailure } from "../../protocol/echo.js";
import { ChatCounters, HEADER_BYTES, OutRing, RING_INTS } from "../../protocol/chat.js";
import { chatProtocol, scanMessages, type ChatProtocol } from "../../protocol/chat-raw.js";
import { lockCell, unlockCell } from "../threads.js";
import {
  CHUNK_HANDLES,
  CTL_CHUNKS,
  EchoThread,
  H_FD,
  H_INTS,
  acceptorMain,
  endsConnection,
  handleRows,
  posted,
  startIocp,
  type IocpThreadData,
  type OpenHandle,
} from "../iocp.js";

/** The chat part of a handle's row, in `chatRows`. */
const R_LOCK = 0;
const R_RING = 1; // the OutRing's state: RING_INTS cells
const R_SENDING = R_RING + RING_INTS; // bytes of the send in flight; 0 = none
const R_FLAGS = R_SENDING + 1;
const R_HAVE = R_FLAGS + 1; // bytes of a partial frame at the start of the receive buffer
const R_INTS = 8;

/** A member of the room: frames are queued to it. */
const MEMBER = 1;
/** A recv is in flight. */
const RECEIVING = 2;

interface ChatData extends IocpThreadData {
  model: "iocp-chat";
  chatRows: SharedArrayBuffer;
  cap: number;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  counters: SharedArrayBuffer;
}

export const start: StartModel = async (options) => {
  const counters = new ChatCounters();
  // Each buffer holds bufferBytes: the ring its cap, the receive buffer at
  // least one largest frame (start.ts checks bufferBytes >= that).
  const server = await startIocp(options, import.meta.url, {
    model: "iocp-chat",
    ioBytes: Math.max(options.bufferBytes, options.maxFrameBytes + HEADER_BYTES),
    chatRows: new SharedArrayBuffer(4 * R_INTS * handleRows()),
    cap: options.bufferBytes,
    maxFrameBytes: options.maxFrameBytes,
    framing: chatProtocol(options.protocol),
    counters: counters.buffer,
  });
  return { ...server, chatCounts: () => counters.read() };
};

/** The acceptor's part: a new member joins the room and its first recv is posted. */
const openMember: OpenHandle = (d, _t, arena, h, fd) => {
  const rows = new Int32Array((d as ChatData).chatRows);
  const row = h * R_INTS;
  rows.fill(0, row + 1, row + R_INTS); // the lock cell is free already
  Atomics.store(rows, row + R_FLAGS, MEMBER | RECEIVING);
  const key = h * 2;
  posted(sys.portPostRecv(d.completionPort, fd, arena.chunkOf(key), arena.offset(key), d.ioBytes, key), "post recv");
};

class ChatThread extends EchoThread {
  private readonly rows: Int32Array;
  private readonly control: Int32Array;
  private readonly counters: ChatCounters;
  private readonly chat: ChatData;
  /** Each handle's ring, as this thread views it (made on first use). */
  private readonly rings: OutRing[] = [];
  /** A row leave() closed under its lock, to give back once the lock is let go; -1 = none. */
  private freeing = -1;

  constructor(d: ChatData) {
    super(d);
    this.chat = d;
    this.rows = new Int32Array(d.chatRows);
    this.control = this.t.control;
    this.counters = new ChatCounters(d.counters);
  }

  private ring(h: number): OutRing {
    let r = this.rings[h];
    if (r === undefined) {
      const key = h * 2 + 1;
      const at = this.arena.offset(key);
      r = new OutRing(this.arena.chunkOf(key).subarray(at, at + this.chat.cap), this.rows, h * R_INTS + R_RING);
      this.rings[h] = r;
    }
    return r;
  }

  private fd(h: number): number {
    return this.handles[h * H_INTS + H_FD]!;
  }

  /** A READ completion: relay each whole frame, keep a partial one, post the next recv. */
  protected override onRead(key: number, result: number): void {
    const h = key >> 1;
    const row = h * R_INTS;
    if (result < 0 && !endsConnection(result)) throw ioFailure("recv", result);
    if (result > 0 && (Atomics.load(this.rows, row + R_FLAGS) & MEMBER) !== 0) {
      const buf = this.arena.chunkOf(key);
      const start = this.arena.offset(key);
      const end = start + this.rows[row + R_HAVE]! + result;
      const rest = scanMessages(this.chat.framing, buf, start, end, this.chat.maxFrameBytes, (at, length) => this.broadcast(buf.subarray(at, at + length)));
      if (typeof rest !== "string") {
        buf.copyWithin(start, rest, end); // the partial frame moves to the front
        const have = end - rest;
        this.rows[row + R_HAVE] = have;
        lockCell(this.rows, row + R_LOCK);
        const member = (this.rows[row + R_FLAGS]! & MEMBER) !== 0;
        if (member) posted(sys.portPostRecv(this.port, this.fd(h), buf, start + have, this.d.ioBytes - have, key), "post recv");
        unlockCell(this.rows, row + R_LOCK);
        if (member) return;
      } else {
        this.counters.badFrame(rest);
      }
    }
    // EOF, an error, a bad frame, or data after the member was dropped: it leaves.
    this.locked(h, () => {
      this.rows[row + R_FLAGS] = this.rows[row + R_FLAGS]! & ~RECEIVING;
      this.leave(h);
    });
  }

  /** A WRITE completion: the ring gives up what was sent; post the rest. */
  protected override onWrite(key: number, result: number): void {
    const h = key >> 1;
    const row = h * R_INTS;
    if (result < 0 && !endsConnection(result)) throw ioFailure("send", result);
    this.locked(h, () => {
      this.rows[row + R_SENDING] = 0;
      if (result <= 0) return this.leave(h);
      const ring = this.ring(h);
      ring.consume(result);
      if ((this.rows[row + R_FLAGS]! & MEMBER) === 0) this.leave(h); // dropped meanwhile: close if nothing else is in flight
      else if (ring.size > 0) this.postRingSend(h);
    });
  }

  /** Queues a whole frame on every member, posting a send where none is in flight. */
  private broadcast(frame: Uint8Array): void {
    this.counters.add("frames");
    const made = Atomics.load(this.control, CTL_CHUNKS) * CHUNK_HANDLES;
    for (let g = 0; g < made; g++) {
      const row = g * R_INTS;
      if ((Atomics.load(this.rows, row + R_FLAGS) & MEMBER) === 0) continue;
      this.locked(g, () => {
        if ((this.rows[row + R_FLAGS]! & MEMBER) === 0) return;
        if (!this.ring(g).put(frame)) {
          this.counters.add("slowDropped");
          this.leave(g);
        } else if (this.rows[row + R_SENDING] === 0) {
          this.postRingSend(g);
        }
      });
    }
  }

  /** Under h's lock. */
  private postRingSend(h: number): void {
    const ring = this.ring(h);
    const n = ring.contiguous;
    this.rows[h * R_INTS + R_SENDING] = n;
    const key = h * 2 + 1;
    posted(sys.portPostSend(this.port, this.fd(h), this.arena.chunkOf(key), this.arena.offset(key) + ring.head, n, key), "post send");
  }

  /**
   * Under h's lock: out of the room. I/O in flight is woken by shutdown; the
   * completion that finds none left in flight closes the socket.
   */
  private leave(h: number): void {
    const row = h * R_INTS;
    const flags = this.rows[row + R_FLAGS]!;
    const busy = (flags & RECEIVING) !== 0 || this.rows[row + R_SENDING] !== 0;
    this.rows[row + R_FLAGS] = flags & ~MEMBER;
    if (busy) {
      if ((flags & MEMBER) !== 0) sys.shutdown(this.fd(h), C.SHUT_RDWR);
      return;
    }
    const fd = this.fd(h);
    if (fd < 0) return;
    this.ring(h).clear();
    this.rows[row + R_HAVE] = 0;
    this.handles[h * H_INTS + H_FD] = -1;
    sys.close(fd);
    // Freed after the lock is let go (locked() does it): the acceptor may reuse the row at once.
    this.freeing = h;
  }

  /** Runs body under h's lock, then frees a row that body closed. */
  private locked(h: number, body: () => void): void {
    lockCell(this.rows, h * R_INTS + R_LOCK);
    try {
      body();
    } finally {
      unlockCell(this.rows, h * R_INTS + R_LOCK);
    }
    if (this.freeing >= 0) {
      const f = this.freeing;
      this.freeing = -1;
      this.t.pushFree(f);
    }
  }
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "iocp-chat") {
  const d = workerData as ChatData & { role: "acceptor" | "worker" };
  if (d.role === "acceptor") acceptorMain(d, openMember);
  else new ChatThread(d).run();
}
