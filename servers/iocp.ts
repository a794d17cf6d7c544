/**
 * The completion-port model: IOCPEchoServ_win.cpp on io_uring.
 *
 * The seed: main() creates a completion port and starts N EchoThreadMain
 * threads that loop on GetQueuedCompletionStatus. main() accepts (blocking),
 * associates the socket with the port, allocates its PER_HANDLE_DATA
 * (socket, address) and a PER_IO_DATA (OVERLAPPED, WSABUF, buffer, rwMode
 * READ) and posts the first WSARecv. In EchoThreadMain a READ completion
 * turns its PER_IO_DATA into a WRITE and posts it with WSASend (the echo),
 * then posts a fresh PER_IO_DATA with the next WSARecv; a WRITE completion
 * frees its PER_IO_DATA; a 0-byte READ closes the socket.
 *
 * Here:
 * - the port is sys.portCreate (one io_uring every thread can post to and
 *   dequeue from), given the concurrency value where the seed's
 *   CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 0) passes 0 (0
 *   means the same here: the CPUs the server may run on). As on Windows, at
 *   most that many workers run completions at once and the others wait,
 *   released newest first, one per completion batch (native/port.c);
 *   --port-wake all instead wakes every waiter on each completion (the
 *   herd), to be measured beside it;
 * - EchoThreadMain loops on sys.portDequeue (GetQueuedCompletionStatusEx),
 *   up to MAX_COMPLETIONS completions a call; with --work, one a call (the
 *   seed's GetQueuedCompletionStatus), so the messages a worker has not
 *   started stay in the port for the others instead of queuing behind its
 *   work;
 * - a `--work block:` wait is bracketed by sys.portBlocking(port, true) and
 *   (port, false). The Windows kernel sees a worker block and releases
 *   another waiter by itself; Linux does not tell user space, so the model
 *   says it (--no-block-notice leaves it out, to show what the limit does
 *   to blocking work without it);
 * - the seed's main() is an acceptor thread (blocking sys.accept): the
 *   process's main thread is the supervisor and stays free for signals;
 * - threads share no JS objects, so the seed's structs are rows of Int32Arrays
 *   on SharedArrayBuffers, and the completion key names the PER_IO_DATA
 *   row: key = handle * 2 + buffer (each connection owns two);
 * - buffers are views on a SharedArrayBuffer arena (the addon requires it),
 *   grown in chunks of CHUNK_HANDLES connections as connections arrive. A
 *   connection past the cap (the process's hard fd limit, which accept
 *   would hit first anyway) is refused: accepted and closed at once.
 *
 * Memory per connection is bounded: its two buffers hold bufferBytes / 2
 * each. A READ completion sends its buffer back and posts the next recv
 * into the other one; when the other one is still being sent, the new echo
 * waits (QUEUED) and no recv is posted until that send ends. So a client
 * that sends but never reads costs bufferBytes at most, and the echoes go
 * out in order, one send in flight at a time.
 *
 * Chat (--protocol chat, chat/iocp.ts): any worker posts sends on any
 * socket; a frame is copied into every member's shared output ring under
 * that member's lock, and the worker posts the send if none is in flight.
 */
import { BroadcastChannel, isMainThread, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { sys, C, errname, type PortStats } from "../native/index.js";
import type { RunningServer, StartModel } from "./model.js";
import { ACCEPT_BACKOFF_MS, acceptFailure, boundPort, openListener } from "./listener.js";
import { ioFailure, isPeerGone, perConnectionCap } from "../protocol/echo.js";
import { workPerMessage, type BlockingNotice } from "../protocol/work.js";
import type { MessageWork } from "../contracts/work.js";
import { protocolData, stopProtocol, type ProtocolData } from "../protocol/choice.js";
import { HttpDeadlines, HttpResponder, HTTP_STATE_INTS, httpMustClose, httpOpen, httpReadBytes } from "../protocol/http.js";
import { StopFlag, nameThread, poolThreads, signalReady, startThreads, whenExited, whenReady } from "./threads.js";

/** Completions taken per portDequeue call (with per-message work: 1). */
const MAX_COMPLETIONS = 256;
/** Submission slots of the port; the addon gives the completion queue twice as many. */
const PORT_ENTRIES = 8192;
/** Key of the user completion that tells a worker to exit (PostQueuedCompletionStatus). */
const STOP_KEY = -1;
/** The most connections, whatever the fd limit says (keys must stay well inside int32). */
const MAX_HANDLES = 1 << 20;

// ---- the seed's structs as rows of shared Int32Arrays -------------------------------------

/** PER_HANDLE_DATA, one row per connection in `handles`. */
export const H_FD = 0; // the socket, or -1 while the row is free
const H_STATE = 1; // both buffers' modes and the EOF/DEAD flags: see below
const H_NEXT_FREE = 2; // the free list's link
// Bytes of a message not complete yet (--work). Only the worker holding the
// connection's one recv completion touches it, and the next recv is posted
// after it is written, so the ring orders the accesses.
const H_CARRIED = 3;
export const H_INTS = 4; // 16-byte rows
/** PER_IO_DATA, one row per key in `ios` (two per connection). */
const IO_LEN = 0; // bytes the last READ put in the buffer
const IO_SENT = 1; // how many of them have been sent back
const IO_INTS = 2;
/** Cells of the `control` array. */
const CTL_FREE_HEAD = 0; // first free handle row, or -1
export const CTL_CHUNKS = 1; // arena chunks made so far
const CTL_NAP = 2; // never changes: the acceptor's back-off waits on it
const CTL_INTS = 3;

/** Connections per arena chunk: 2^CHUNK_SHIFT. */
const CHUNK_SHIFT = 6;
export const CHUNK_HANDLES = 1 << CHUNK_SHIFT;
/** Keys per chunk are twice the handles. */
const KEY_CHUNK_SHIFT = CHUNK_SHIFT + 1;
const KEY_IN_CHUNK = (1 << KEY_CHUNK_SHIFT) - 1;

/*
 * The state word. The seed keeps rwMode in each PER_IO_DATA and lets one
 * thread at a time touch a connection's data only because its I/O is
 * strictly alternating. Here a READ of one buffer and the WRITE of the other
 * may complete together and be dequeued by two workers at once, and each
 * wants to know what the other buffer is doing. So both buffers' modes (and
 * two flags) live in ONE Int32 of the per-handle data, and every decision is
 * a compareExchange from the word it was made on: of two racing workers one
 * wins, the other re-reads and decides again. No lock, no waiting, and each
 * buffer's own row (IO_LEN, IO_SENT) is only ever touched by the worker
 * holding that buffer's completion. Posts happen after the exchange, so a
 * completion can never come back for a mode the word does not show yet.
 */
/** The buffer is idle. */
const FREE = 0;
/** A recv into it is in flight. */
const READING = 1;
/** A send from it is in flight. */
const SENDING = 2;
/** It holds an echo waiting for the other buffer's send to end. */
const QUEUED = 3;
/** The peer sent EOF: no more recvs; close once the echo is out. */
const EOF = 1 << 4;
/** An error: drop the echo, close as soon as nothing is in flight. */
const DEAD = 1 << 5;

function modeOf(state: number, buffer: number): number {
  return (state >> (buffer << 1)) & 3;
}

function withMode(state: number, buffer: number, mode: number): number {
  return (state & ~(3 << (buffer << 1))) | (mode << (buffer << 1));
}

/** What every thread of one server gets. */
export interface IocpThreadData {
  model: "iocp" | "iocp-chat";
  role: "acceptor" | "worker";
  /** The worker's number, 0 up (its thread name iocp-worker-N); 0 for the acceptor. */
  index: number;
  completionPort: number;
  /** Tell the port around each `block:` wait (ServerOptions.completionPort.blockNotice). */
  blockNotice: boolean;
  listenFd: number;
  /** Bytes of one per-I/O buffer. */
  ioBytes: number;
  maxHandles: number;
  work: MessageWork | null;
  /** BroadcastChannel name on which the acceptor announces arena chunks. */
  arenaChannel: string;
  stop: SharedArrayBuffer;
  handles: SharedArrayBuffer;
  ios: SharedArrayBuffer;
  control: SharedArrayBuffer;
  protocol: ProtocolData;
  /** http: each connection's parser state, HTTP_STATE_INTS per handle row (continued by whichever worker dequeues its read). */
  httpStates: SharedArrayBuffer;
}

function isIocpThreadData(data: unknown): data is IocpThreadData {
  return typeof data === "object" && data !== null && (data as { model?: unknown }).model === "iocp";
}

// ---- the supervisor ----------------------------------------------------------------

let serverCount = 0;

export const start: StartModel = (options) => startIocp(options, import.meta.url);

/**
 * Creates the port and starts the workers and the acceptor of `file` (this
 * file, or the chat server's), `extra` added to (or replacing fields of)
 * each thread's IocpThreadData.
 */
export async function startIocp(
  options: Parameters<StartModel>[0],
  file: string,
  extra: Partial<IocpThreadData> & Record<string, unknown> = {},
): Promise<RunningServer> {
  const workers = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  const settings = options.completionPort;
  const completionPort = sys.portCreate(PORT_ENTRIES, settings.concurrency, settings.wake === "all" ? C.PORT_WAKE_ALL : C.PORT_WAKE_LIFO);
  if (completionPort < 0) {
    sys.close(listenFd);
    throw new Error(`iocp: cannot create the completion port (io_uring_setup): ${errname(completionPort)}`);
  }
  const maxHandles = handleRows();
  const stop = new StopFlag();
  const data: Omit<IocpThreadData, "role" | "index"> = {
    model: "iocp",
    completionPort,
    blockNotice: settings.blockNotice,
    listenFd,
    ioBytes: Math.max(1, Math.floor(perConnectionCap(options) / 2)),
    maxHandles,
    work: options.work,
    arenaChannel: `iobench-iocp-arena-${process.pid}-${serverCount++}-${completionPort}`,
    stop: stop.buffer,
    // Rows are committed by the kernel only when first touched: the cap costs address space, not memory.
    handles: new SharedArrayBuffer(maxHandles * H_INTS * 4),
    ios: new SharedArrayBuffer(2 * maxHandles * IO_INTS * 4),
    control: new SharedArrayBuffer(CTL_INTS * 4),
    protocol: protocolData(options),
    httpStates: new SharedArrayBuffer(options.protocol === "http" ? maxHandles * HTTP_STATE_INTS * 4 : 0),
    ...extra,
  };
  new Int32Array(data.control)[CTL_FREE_HEAD] = -1;
  // Workers first: an arena chunk announced before a worker listens would never reach it.
  const threads = startThreads(file, workers, (index) => ({ ...data, role: "worker", index }));
  await whenReady(threads);
  const acceptor = startThreads(file, 1, () => ({ ...data, role: "acceptor", index: 0 }));
  threads.push(...acceptor);
  await whenReady(acceptor);

  let lastStats: PortStats | null = null;
  return {
    host: options.host,
    port,
    async stop() {
      stopProtocol(data.protocol);
      stop.set();
      sys.shutdown(listenFd, C.SHUT_RDWR); // the acceptor's blocking accept() fails with EINVAL
      for (let i = 0; i < workers; i++) sys.portPostUser(completionPort, STOP_KEY);
      sys.portSubmit(completionPort);
      await whenExited(threads);
      // Every thread is gone, so nothing else touches the table now. An
      // operation still in the ring belongs to the thread that submitted it:
      // the kernel ends it with -ECANCELED, without touching its buffer,
      // now that its thread has exited. shutdown() sends the peer its FIN at
      // once rather than when the ring lets go of the socket.
      const handles = new Int32Array(data.handles);
      const made = Atomics.load(new Int32Array(data.control), CTL_CHUNKS) * CHUNK_HANDLES;
      for (let h = 0; h < made; h++) {
        const fd = handles[h * H_INTS + H_FD] ?? -1;
        if (fd < 0) continue;
        sys.shutdown(fd, C.SHUT_RDWR);
        sys.close(fd);
      }
      sys.close(listenFd);
      lastStats = sys.portStats(completionPort);
      sys.portClose(completionPort);
    },
    portStats: () => sys.portStats(completionPort) ?? lastStats,
  };
}

/** Handle rows a server makes room for: the hard fd limit, in whole chunks, at most MAX_HANDLES. */
export function handleRows(): number {
  const hardLimit = sys.getNofileLimit()[1];
  return Math.ceil(Math.min(Math.max(hardLimit, CHUNK_HANDLES), MAX_HANDLES) / CHUNK_HANDLES) * CHUNK_HANDLES;
}

// ---- what acceptor and workers share -----------------------------------------------------

/**
 * Node's docs list BroadcastChannel beside MessagePort for this function;
 * @types/node 20 lists only MessagePort.
 */
const receiveNow = receiveMessageOnPort as (port: MessagePort | BroadcastChannel) => { message: unknown } | undefined;

/** An arena chunk, as the acceptor announces it. */
interface ChunkNotice {
  index: number;
  buffer: SharedArrayBuffer;
}

function isChunkNotice(m: unknown): m is ChunkNotice {
  return typeof m === "object" && m !== null && typeof (m as { index?: unknown }).index === "number" &&
    (m as { buffer?: unknown }).buffer instanceof SharedArrayBuffer;
}

/**
 * The buffer arena as one thread sees it. The acceptor makes each chunk and
 * announces it before it posts any I/O into it; a worker that meets a key
 * in a chunk it has not seen yet takes the announcements waiting for it
 * (postMessage queues them at once, so they are there to take).
 */
export class Arena {
  private readonly chunks: Uint8Array[] = [];
  readonly channel: BroadcastChannel;

  constructor(name: string, readonly ioBytes: number) {
    this.channel = new BroadcastChannel(name);
  }

  /** The chunk holding key's buffer; the buffer starts at offset(key) in it. */
  chunkOf(key: number): Uint8Array {
    return this.chunks[key >>> KEY_CHUNK_SHIFT] ?? this.await(key >>> KEY_CHUNK_SHIFT);
  }

  offset(key: number): number {
    return (key & KEY_IN_CHUNK) * this.ioBytes;
  }

  /** Acceptor: makes chunk `index` and announces it to every worker. */
  add(index: number): void {
    const buffer = new SharedArrayBuffer(2 * CHUNK_HANDLES * this.ioBytes);
    this.chunks[index] = new Uint8Array(buffer);
    this.channel.postMessage({ index, buffer } satisfies ChunkNotice);
  }

  private await(index: number): Uint8Array {
    for (;;) {
      const got = this.chunks[index];
      if (got !== undefined) return got;
      const m = receiveNow(this.channel);
      if (m === undefined) throw new Error(`iocp: arena chunk ${index} was used before it was announced`);
      if (isChunkNotice(m.message)) this.chunks[m.message.index] = new Uint8Array(m.message.buffer);
    }
  }
}

/** The shared tables, viewed from one thread. */
export class Tables {
  readonly handles: Int32Array;
  readonly ios: Int32Array;
  readonly control: Int32Array;

  constructor(d: IocpThreadData) {
    this.handles = new Int32Array(d.handles);
    this.ios = new Int32Array(d.ios);
    this.control = new Int32Array(d.control);
  }

  /**
   * Gives handle row h back (any worker). A lock-free stack: only the
   * acceptor pops, so a popped row cannot come back under its feet (no ABA).
   */
  pushFree(h: number): void {
    for (;;) {
      const head = Atomics.load(this.control, CTL_FREE_HEAD);
      Atomics.store(this.handles, h * H_INTS + H_NEXT_FREE, head);
      if (Atomics.compareExchange(this.control, CTL_FREE_HEAD, head, h) === head) return;
    }
  }

  /** A free handle row, or -1 (acceptor only). */
  popFree(): number {
    for (;;) {
      const head = Atomics.load(this.control, CTL_FREE_HEAD);
      if (head < 0) return -1;
      const next = Atomics.load(this.handles, head * H_INTS + H_NEXT_FREE);
      if (Atomics.compareExchange(this.control, CTL_FREE_HEAD, head, next) === head) return head;
    }
  }
}

/** Fails the thread: a post the port refuses means the ring is broken or closed, not a client's doing. */
export function posted(r: number, what: string): void {
  if (r < 0) throw ioFailure(what, r);
}

// ---- main() of the seed: the acceptor thread ----------------------------------------------

/** What the acceptor does with a new connection's handle row: post its first I/O. */
export type OpenHandle = (d: IocpThreadData, t: Tables, arena: Arena, h: number, fd: number) => void;

/** Echo (and http, its parser state reset): the connection's first WSARecv, into its buffer 0. */
const openEcho: OpenHandle = (d, t, arena, h, fd) => {
  t.handles[h * H_INTS + H_CARRIED] = 0;
  if (d.protocol.name === "http") httpOpen(new Int32Array(d.httpStates), h * HTTP_STATE_INTS, fd, new HttpDeadlines(d.protocol.deadlines));
  Atomics.store(t.handles, h * H_INTS + H_STATE, withMode(FREE, 0, READING));
  const key = h * 2;
  posted(sys.portPostRecv(d.completionPort, fd, arena.chunkOf(key), arena.offset(key), readBytes(d), key), "post recv");
};

export function acceptorMain(d: IocpThreadData, open: OpenHandle = openEcho): void {
  nameThread("iocp-acceptor");
  const stop = new StopFlag(d.stop);
  const t = new Tables(d);
  const arena = new Arena(d.arenaChannel, d.ioBytes);

  /** PER_HANDLE_DATA for a new connection: a free row, or a new chunk of them, or -1 at the cap. */
  const allocate = (): number => {
    const h = t.popFree();
    if (h >= 0) return h;
    const index = Atomics.load(t.control, CTL_CHUNKS);
    const first = index * CHUNK_HANDLES;
    if (first + CHUNK_HANDLES > d.maxHandles) return -1;
    arena.add(index);
    for (let i = first; i < first + CHUNK_HANDLES; i++) t.handles[i * H_INTS + H_FD] = -1;
    Atomics.store(t.control, CTL_CHUNKS, index + 1);
    for (let i = first + CHUNK_HANDLES - 1; i > first; i--) t.pushFree(i);
    return first;
  };

  signalReady();

  while (!stop.isSet) {
    const fd = sys.accept(d.listenFd, true);
    if (fd < 0) {
      if (stop.isSet) break; // stop() shut the listener down
      const what = acceptFailure(fd);
      if (what === "backoff") Atomics.wait(t.control, CTL_NAP, 0, ACCEPT_BACKOFF_MS); // out of fds: the connection stays queued
      else if (what === "fatal") throw ioFailure("accept", fd);
      continue;
    }
    sys.setNoDelay(fd, true);
    const h = allocate();
    if (h < 0) {
      sys.close(fd); // more connections than handle rows: refuse this one
      continue;
    }
    // "Associate the socket with the port" is implicit: any fd can be posted.
    t.handles[h * H_INTS + H_FD] = fd;
    open(d, t, arena, h, fd);
    posted(sys.portSubmit(d.completionPort), "io_uring submit");
  }
  arena.channel.close();
}

// ---- EchoThreadMain: a worker --------------------------------------------------------------

export class EchoThread {
  protected readonly t: Tables;
  protected readonly handles: Int32Array;
  private readonly ios: Int32Array;
  protected readonly arena: Arena;
  protected readonly port: number;
  /** http: the answerer and every connection's parser state; null for echo. */
  private readonly http: HttpResponder | null;
  private readonly httpStates: Int32Array;
  /** The most one recv takes (http: the answer goes after it in the same buffer). */
  private readonly readBytes: number;
  /** Tells the port around a `block:` wait, or null. */
  private readonly notice: BlockingNotice | null;

  constructor(protected readonly d: IocpThreadData) {
    this.t = new Tables(d);
    this.handles = this.t.handles;
    this.ios = this.t.ios;
    this.arena = new Arena(d.arenaChannel, d.ioBytes);
    this.port = d.completionPort;
    this.http = d.protocol.name === "http" ? new HttpResponder(d.protocol.counters, d.protocol.deadlines) : null;
    this.httpStates = new Int32Array(d.httpStates);
    this.readBytes = readBytes(d);
    this.notice = d.blockNotice ? (blocking) => posted(sys.portBlocking(this.port, blocking), "port blocking notice") : null;
  }

  /** GetQueuedCompletionStatus in a loop, until a STOP_KEY user completion. */
  run(): void {
    const batch = this.d.work === null ? MAX_COMPLETIONS : 1;
    const out = new Int32Array(3 * batch);
    nameThread(`iocp-worker-${this.d.index}`);
    signalReady();
    for (;;) {
      const n = sys.portDequeue(this.port, out, batch, -1);
      if (n < 0) {
        if (n === -C.EINTR) continue;
        throw ioFailure("io_uring dequeue", n);
      }
      let stops = 0;
      for (let i = 0; i < 3 * n; i += 3) {
        const key = out[i]!;
        const op = out[i + 1]!;
        const result = out[i + 2]!;
        if (op === C.OP_RECV) this.onRead(key, result);
        else if (op === C.OP_SEND) this.onWrite(key, result);
        else if (op === C.OP_USER) stops++;
      }
      if (stops > 0) {
        // One batch may hold several workers' stop completions: pass the others on.
        for (let i = 1; i < stops; i++) posted(sys.portPostUser(this.port, STOP_KEY), "post stop");
        posted(sys.portSubmit(this.port), "io_uring submit"); // what this batch posted, too
        break;
      }
    }
    this.arena.channel.close();
  }

  /** A READ completion: do the messages' work, send the bytes back, read on into the other buffer. */
  protected onRead(key: number, result: number): void {
    const h = key >> 1;
    const b = key & 1;
    const cell = h * H_INTS + H_STATE;
    /** http: EOF when the connection closes once this answer is out (a refusal, or a closing request). */
    let last = 0;
    if (result > 0) {
      const carried = h * H_INTS + H_CARRIED;
      this.handles[carried] = workPerMessage(this.d.work, this.handles[carried]!, result, this.notice);
    }
    if (result > 0 && this.http !== null) {
      last = this.answer(key, result);
      if (last < 0) return; // no request complete yet: the next recv went into the same buffer
    } else if (result > 0) {
      this.ios[key * IO_INTS + IO_LEN] = result;
      this.ios[key * IO_INTS + IO_SENT] = 0;
    } else if (result < 0 && !endsConnection(result)) {
      throw ioFailure("recv", result);
    }
    for (;;) {
      const s = Atomics.load(this.handles, cell);
      if (result > 0 && (s & DEAD) === 0) {
        if (modeOf(s, b ^ 1) === SENDING) {
          // The previous echo is still going out: this one waits its turn,
          // and with both buffers full no recv is posted (the memory bound).
          if (Atomics.compareExchange(this.handles, cell, s, withMode(s, b, QUEUED) | last) === s) return;
        } else if (Atomics.compareExchange(this.handles, cell, s, withMode(withMode(s, b, SENDING), b ^ 1, last !== 0 ? FREE : READING) | last) === s) {
          this.postSend(key);
          if (last === 0) this.postRecv(key ^ 1);
          return;
        }
        continue;
      }
      // EOF (the seed's 0-byte READ), an error, or data after the other side failed.
      const next = withMode(s, b, FREE) | (result === 0 ? EOF : DEAD);
      if (modeOf(next, b ^ 1) === FREE) {
        if (Atomics.compareExchange(this.handles, cell, s, next) === s) return this.close(h);
        continue;
      }
      // The other buffer's send is in flight. After EOF it finishes the echo
      // and closes; after an error, wake it now (a peer that reset will not
      // read). Before the exchange: until then nobody can close this fd.
      if ((next & DEAD) !== 0) sys.shutdown(this.handles[h * H_INTS + H_FD]!, C.SHUT_RDWR);
      if (Atomics.compareExchange(this.handles, cell, s, next) === s) return;
    }
  }

  /** A WRITE completion: post the rest of a short send, else free the buffer and move on. */
  protected onWrite(key: number, result: number): void {
    const h = key >> 1;
    const b = key & 1;
    const cell = h * H_INTS + H_STATE;
    const row = key * IO_INTS;
    if (result > 0) {
      const sent = this.ios[row + IO_SENT]! + result;
      this.ios[row + IO_SENT] = sent;
      if (sent < this.ios[row + IO_LEN]! && (Atomics.load(this.handles, cell) & DEAD) === 0) {
        this.postSend(key);
        return;
      }
    } else if (result < 0 && !endsConnection(result)) {
      throw ioFailure("send", result);
    }
    for (;;) {
      const s = Atomics.load(this.handles, cell);
      let next = withMode(s, b, FREE);
      const other = modeOf(s, b ^ 1);
      if (result <= 0 || (s & DEAD) !== 0) {
        // Failed (or the other side did): drop any queued echo.
        next = (other === QUEUED ? withMode(next, b ^ 1, FREE) : next) | DEAD;
        if (modeOf(next, b ^ 1) === FREE) {
          if (Atomics.compareExchange(this.handles, cell, s, next) === s) return this.close(h);
          continue;
        }
        // A recv is in flight and the peer may never send again: wake it.
        sys.shutdown(this.handles[h * H_INTS + H_FD]!, C.SHUT_RDWR);
        if (Atomics.compareExchange(this.handles, cell, s, next) === s) return;
        continue;
      }
      if (other === QUEUED) {
        // The next echo goes out, and this buffer takes the next recv
        // (unless, http, that echo was the last answer: EOF is set then).
        const eof = (s & EOF) !== 0;
        next = withMode(withMode(next, b ^ 1, SENDING), b, eof ? FREE : READING);
        if (Atomics.compareExchange(this.handles, cell, s, next) === s) {
          this.postSend(key ^ 1);
          if (!eof) this.postRecv(key);
          return;
        }
        continue;
      }
      if (Atomics.compareExchange(this.handles, cell, s, next) === s) {
        // The other buffer is FREE only after EOF: that was the last echo.
        if (other === FREE) this.close(h);
        return; // else it is READING: the next echo comes from its completion
      }
    }
  }

  private postRecv(key: number): void {
    const fd = this.handles[(key >> 1) * H_INTS + H_FD]!;
    posted(sys.portPostRecv(this.port, fd, this.arena.chunkOf(key), this.arena.offset(key), this.readBytes, key), "post recv");
  }

  /**
   * http: answers the read in buffer `key` into the same buffer after the
   * read, and makes that answer what postSend sends. Reads of one
   * connection never overlap (the next recv is posted only after this one
   * is answered), so its parser state is only ever touched by one worker.
   * Returns EOF if the connection closes once the answer is out, 0 if not,
   * or -1 when no request completed and the next recv was posted instead.
   */
  private answer(key: number, result: number): number {
    const h = key >> 1;
    const at = h * HTTP_STATE_INTS;
    const chunk = this.arena.chunkOf(key);
    const from = this.arena.offset(key);
    const fd = this.handles[h * H_INTS + H_FD]!;
    const len = this.http!.reply(this.httpStates, at, chunk, from, result, chunk, from + this.readBytes, fd);
    if (len === 0 && !httpMustClose(this.httpStates, at) && (Atomics.load(this.handles, h * H_INTS + H_STATE) & DEAD) === 0) {
      this.postRecv(key);
      return -1;
    }
    this.ios[key * IO_INTS + IO_LEN] = this.readBytes + len;
    this.ios[key * IO_INTS + IO_SENT] = this.readBytes;
    return httpMustClose(this.httpStates, at) ? EOF : 0;
  }

  private postSend(key: number): void {
    const fd = this.handles[(key >> 1) * H_INTS + H_FD]!;
    const row = key * IO_INTS;
    const sent = this.ios[row + IO_SENT]!;
    const len = this.ios[row + IO_LEN]! - sent;
    posted(sys.portPostSend(this.port, fd, this.arena.chunkOf(key), this.arena.offset(key) + sent, len, key), "post send");
  }

  /** Nothing is in flight on h any more: close the socket, free its rows. */
  private close(h: number): void {
    const row = h * H_INTS;
    const fd = this.handles[row + H_FD]!;
    this.handles[row + H_FD] = -1;
    Atomics.store(this.handles, row + H_STATE, 0);
    this.http?.release(fd);
    sys.close(fd);
    this.t.pushFree(h);
  }
}

/** The most one recv takes: the whole buffer for echo; for http, what leaves room for its answer. */
function readBytes(d: IocpThreadData): number {
  return d.protocol.name === "http" ? httpReadBytes(d.ioBytes) : d.ioBytes;
}

/** recv/send results that end one connection quietly: the peer went, or stop() cancelled the I/O. */
export function endsConnection(r: number): boolean {
  return isPeerGone(r) || r === -C.ECANCELED;
}

if (!isMainThread && isIocpThreadData(workerData)) {
  if (workerData.role === "acceptor") acceptorMain(workerData);
  else new EchoThread(workerData).run();
}
