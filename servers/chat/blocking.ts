/**
 * The blocking model's chat server: the threads of blocking.ts (a pool of N,
 * or one per connection), each serving one client with blocking calls. In
 * chat a thread's client is a member of the room for as long as it stays.
 *
 * Fan-out, the blocking way: the thread that reads a whole frame writes it
 * itself, with a blocking send, to every member's socket, whichever thread
 * serves that member. Two threads may write to one socket at once, so each
 * member's slot has a lock (threads.ts lockCell), held for one whole
 * frame: frames never interleave. A thread reads its next frame only once
 * the previous one is written everywhere, so one sender's frames keep their
 * order.
 *
 * Output bound: a member's backlog is its socket's send queue (the kernel's
 * buffer, sized at join to hold more than the cap). Before each frame the
 * writer asks the kernel how much is queued (SIOCOUTQ); a frame that would
 * take it past bufferBytes drops that member (counted, its socket shut
 * down) instead of being written. So a blocking send never waits on a
 * client that stopped reading, and neither does any other member.
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../../native/index.js";
import type { StartModel } from "../model.js";
import { BlockingThread, startBlocking, type ThreadData } from "../blocking.js";
import { ioFailure, isPeerGone, sendAll } from "../../protocol/echo.js";
import { ChatCounters } from "../../protocol/chat.js";
import { chatProtocol, chatReader, type ChatProtocol, type ChatReader } from "../../protocol/chat-raw.js";
import { lockCell, unlockCell } from "../threads.js";

/** A slot that holds no member. */
const NONE = -1;

/** The room as every thread sees it: shared memory only. */
interface ChatRoom {
  /** Int32Array by slot: the member's fd, or NONE. Changed only under the slot's lock. */
  members: SharedArrayBuffer;
  /** Int32Array by slot: 0 free, 1 held. */
  locks: SharedArrayBuffer;
  cap: number;
  maxFrameBytes: number;
  /** Frames (chat) or each read as it came (chat-raw). */
  framing: ChatProtocol;
  counters: SharedArrayBuffer;
}

export const start: StartModel = async (options) => {
  const counters = new ChatCounters();
  const server = await startBlocking(options, import.meta.url, (slots) => {
    const members = new SharedArrayBuffer(4 * slots);
    new Int32Array(members).fill(NONE);
    const room: ChatRoom = { members, locks: new SharedArrayBuffer(4 * slots), cap: options.bufferBytes, maxFrameBytes: options.maxFrameBytes, framing: chatProtocol(options.protocol), counters: counters.buffer };
    return { model: "blocking-chat", room };
  });
  return { ...server, chatCounts: () => counters.read() };
};

type ChatThreadData = ThreadData & { model: "blocking-chat"; room: ChatRoom };

/** What a thread serves its members with: views of the room's shared memory, a reader and a receive buffer. */
interface MemberTools {
  room: ChatRoom;
  members: Int32Array;
  locks: Int32Array;
  counters: ChatCounters;
  reader: ChatReader;
  buf: Uint8Array;
}

/** blocking.ts's thread, in any role, serving each client as a member of the room. */
class ChatThread extends BlockingThread {
  /**
   * Made for the first member and kept: the thread serves one at a time.
   * Made per member, the buffers were garbage V8 did not collect in time
   * (a thread blocked in recv never returns to Node's event loop), over
   * 100 MiB in the soak (docs/soak.md).
   */
  private tools: MemberTools | null = null;

  protected override serve(slot: number, fd: number, buf: Uint8Array): void {
    const room = (this.d as ChatThreadData).room;
    this.tools ??= {
      room,
      members: new Int32Array(room.members),
      locks: new Int32Array(room.locks),
      counters: new ChatCounters(room.counters),
      reader: chatReader(room.framing, room.maxFrameBytes),
      buf,
    };
    this.tools.reader.reset();
    serveChatMember(this.tools, slot, fd);
  }
}

/** Serves one member until it leaves, is dropped, or sends a bad frame; the caller closes fd. */
function serveChatMember(tools: MemberTools, slot: number, fd: number): void {
  const { room, members, locks, counters, reader, buf } = tools;
  sys.setNoDelay(fd, true);
  // Room for more than the cap, so a send the SIOCOUTQ check lets through never blocks.
  sys.setBufferSizes(fd, 0, 2 * room.cap);
  lockCell(locks, slot);
  Atomics.store(members, slot, fd);
  unlockCell(locks, slot);

  /** Writes one whole frame to every member, under each member's lock. */
  const broadcast = (frame: Uint8Array): void => {
    counters.add("frames");
    for (let i = 0; i < members.length; i++) {
      if (Atomics.load(members, i) === NONE) continue;
      lockCell(locks, i);
      const to = Atomics.load(members, i);
      if (to !== NONE) writeFrame(i, to, frame);
      unlockCell(locks, i);
    }
  };

  /** Under slot i's lock. */
  const writeFrame = (i: number, to: number, frame: Uint8Array): void => {
    const queued = sys.sendQueued(to);
    if (queued >= 0 && queued + frame.length > room.cap) {
      counters.add("slowDropped");
      return leave(i, to);
    }
    const r = sendAll(to, frame, 0, frame.length);
    if (r < 0) {
      if (!isPeerGone(r)) throw ioFailure("send", r);
      leave(i, to);
    }
  };

  /** Under slot i's lock: out of the room; shutdown wakes the member's own thread, which closes it. */
  const leave = (i: number, to: number): void => {
    Atomics.store(members, i, NONE);
    sys.shutdown(to, C.SHUT_RDWR);
  };

  for (;;) {
    const n = sys.recv(fd, buf, 0, buf.length);
    if (n === 0) break; // the client left, was dropped, or stop() shut the socket down
    if (n < 0) {
      if (n === -C.EINTR) continue;
      if (isPeerGone(n)) break;
      throw ioFailure("recv", n);
    }
    const error = reader.push(buf, 0, n, broadcast);
    if (error !== null) {
      counters.badFrame(error);
      break;
    }
  }
  lockCell(locks, slot);
  Atomics.store(members, slot, NONE); // no writer can touch fd after this
  unlockCell(locks, slot);
}

if (!isMainThread && (workerData as { model?: unknown } | null)?.model === "blocking-chat") await new ChatThread(workerData as ChatThreadData).run();
