/**
 * The completion-routine model: CmplRouEchoServ_win.cpp on io_uring.
 *
 * The seed: one thread, a non-blocking listening socket, and a loop:
 * accept(); on WSAEWOULDBLOCK, SleepEx(100, TRUE), an "alertable" wait
 * during which Windows runs the completion routines of this thread's
 * finished I/O; otherwise allocate the connection's PER_IO_DATA and post
 * WSARecv with ReadCompRoutine. ReadCompRoutine posts WSASend with
 * WriteCompRoutine (or closes the socket on 0 bytes); WriteCompRoutine posts
 * the next WSARecv.
 *
 * Here: N independent threads, each with ITS OWN port (an io_uring) and its
 * own connections, all polling the one listening socket. The alertable wait
 * is sys.portDequeue(ownPort, ..., 100): like SleepEx it returns as soon as
 * I/O has completed, and the thread then runs, for each completion, the
 * routine that I/O was posted with. The 100 ms stays: accept() is polled
 * between waits exactly as in the seed, and what that polling costs is one
 * of the chapter's claims. With `accept: "ring"` each thread posts its
 * accept on its ring instead (IORING_OP_ACCEPT), so nothing is polled: the
 * difference between the two runs is the price of the seed's loop.
 *
 * Each connection has one buffer of bufferBytes and one I/O in flight at a
 * time (recv, then send until all of it is out, then recv), so a client that
 * sends but never reads costs bufferBytes at most. Only the owning thread
 * touches a connection, so its per-I/O data is a plain object.
 *
 * Chat (--protocol chat, chat/completion-routine.ts): only a connection's
 * own thread posts its I/O, so a frame goes to the other threads through
 * an inbox plus a user completion on the owner's ring (QueueUserAPC).
 */
import { isMainThread, workerData } from "node:worker_threads";
import { sys, C, errname } from "../native/index.js";
import type { RunningServer, StartModel } from "./model.js";
import { ACCEPT_BACKOFF_MS, acceptFailure, boundPort, openListener } from "./listener.js";
import { ioFailure, isPeerGone, perConnectionCap } from "../protocol/echo.js";
import { workPerMessage } from "../protocol/work.js";
import type { MessageWork } from "../contracts/work.js";
import { httpThread, protocolData, stopProtocol, type HttpConnection, type ProtocolData } from "../protocol/choice.js";
import { StopFlag, poolThreads, signalReady, startThreads, whenExited, whenReady } from "./threads.js";

/** SleepEx(100, TRUE) of the seed. */
const ALERTABLE_WAIT_MS = 100;
/** Completions taken per wait. */
const MAX_COMPLETIONS = 256;
/** Submission slots of each thread's port. */
const PORT_ENTRIES = 4096;
/** Key of the accept posted on the ring (accept: "ring"). */
const ACCEPT_KEY = -1;
/** Per-I/O data (and buffers) are made this many at a time. */
const POOL_CHUNK = 64;
/** How long a stopping thread waits for its shut-down sockets' I/O to come back. */
const DRAIN_MS = 2_000;

/** What the supervisor gives each thread. */
export interface RoutineThreadData {
  model: "completion-routine" | "completion-routine-chat";
  listenFd: number;
  /** This thread's own port. */
  completionPort: number;
  bufferBytes: number;
  accept: "poll" | "ring";
  work: MessageWork | null;
  stop: SharedArrayBuffer;
  protocol: ProtocolData;
}

function isRoutineThreadData(data: unknown): data is RoutineThreadData {
  return typeof data === "object" && data !== null && (data as { model?: unknown }).model === "completion-routine";
}

// ---- the supervisor ----------------------------------------------------------------

export const start: StartModel = (options) => startRoutines(options, import.meta.url);

/**
 * Creates a port per thread and starts the threads of `file` (this file, or
 * the chat server's) with `extra` added to each one's RoutineThreadData.
 */
export async function startRoutines(
  options: Parameters<StartModel>[0],
  file: string,
  extra: (ports: number[]) => Partial<RoutineThreadData> & Record<string, unknown> = () => ({}),
): Promise<RunningServer> {
  const threads = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  // The seed's ioctlsocket(FIONBIO): accept() must return at once when
  // nobody waits, or the thread could not get back to its completions. A
  // ring accept waits in the kernel instead and wants a blocking socket.
  if (options.accept === "poll") sys.setNonBlocking(listenFd, true);
  const ports: number[] = [];
  for (let i = 0; i < threads; i++) {
    const p = sys.portCreate(PORT_ENTRIES);
    if (p < 0) {
      for (const q of ports) sys.portClose(q);
      sys.close(listenFd);
      throw new Error(`completion-routine: cannot create thread ${i}'s port (io_uring_setup): ${errname(p)}`);
    }
    ports.push(p);
  }
  const stop = new StopFlag();
  const more = extra(ports);
  const protocol = protocolData(options);
  const workers = startThreads(file, threads, (i): RoutineThreadData => ({
    model: "completion-routine",
    ...more,
    listenFd,
    completionPort: ports[i] ?? -1,
    bufferBytes: perConnectionCap(options),
    accept: options.accept,
    work: options.work,
    stop: stop.buffer,
    protocol,
  }));
  await whenReady(workers);

  return {
    host: options.host,
    port,
    async stop() {
      stopProtocol(protocol);
      stop.set(); // each thread sees it within one alertable wait
      sys.shutdown(listenFd, C.SHUT_RDWR); // ends the accepts posted on rings
      await whenExited(workers); // each closed its connections and its port
      sys.close(listenFd);
    },
  };
}

// ---- per-I/O data and the completion routines ----------------------------------------------

/** A completion routine: what runs on the posting thread when its I/O completes. */
export type CompletionRoutine = (thread: RoutineThread, io: PerIoData, result: number) => void;

/**
 * The seed's PER_IO_DATA: the socket, its buffer (a view on a
 * SharedArrayBuffer, as the port requires), and the routine to run when the
 * I/O posted with it completes. Pooled per thread and reused.
 */
export class PerIoData {
  fd = -1;
  /** Bytes the last recv brought. */
  len = 0;
  /** How many of them have been sent back. */
  sent = 0;
  /** Bytes of a message not complete yet (--work). */
  carried = 0;
  routine: CompletionRoutine = readCompRoutine;
  /** http: the connection's parser state; null for echo. */
  http: HttpConnection | null = null;

  constructor(
    /** Completion key: the index in the thread's `ios`. */
    readonly key: number,
    readonly buf: Uint8Array,
  ) {}
}

/** ReadCompRoutine: do the messages' work, send back what arrived; 0 bytes (the client closed) or an error ends the connection. */
function readCompRoutine(thread: RoutineThread, io: PerIoData, result: number): void {
  if (result <= 0 || thread.stopping) {
    if (result < 0 && !endsConnection(result)) throw ioFailure("recv", result);
    thread.close(io);
    return;
  }
  io.carried = workPerMessage(thread.work, io.carried, result);
  if (io.http !== null) {
    // http: the answer is written after the read in the same buffer; send that.
    io.sent = io.http.readBytes;
    io.len = io.sent + io.http.reply(io.buf, result);
    if (io.len > io.sent) thread.postSend(io);
    else if (io.http.mustClose) thread.close(io);
    else thread.postRecv(io); // no request complete yet: nothing to answer
    return;
  }
  io.len = result;
  io.sent = 0;
  thread.postSend(io);
}

/** WriteCompRoutine: post the rest of a short send, else the next recv. */
function writeCompRoutine(thread: RoutineThread, io: PerIoData, result: number): void {
  if (result <= 0 || thread.stopping) {
    if (result < 0 && !endsConnection(result)) throw ioFailure("send", result);
    thread.close(io);
    return;
  }
  io.sent += result;
  if (io.sent < io.len) thread.postSend(io);
  else if (io.http?.mustClose) thread.close(io); // http: a refusal or a closing request was answered
  else thread.postRecv(io);
}

/** recv/send results that end one connection quietly: the peer went, or the ring cancelled the I/O. */
export function endsConnection(r: number): boolean {
  return isPeerGone(r) || r === -C.ECANCELED;
}

// ---- one thread: main() of the seed -----------------------------------------------------------

export class RoutineThread {
  /** Set while stopping: routines close their connection instead of posting more. */
  stopping = false;
  /** Work per message (--work), done by the read routine. */
  readonly work: MessageWork | null;
  /** Per-I/O data by completion key. */
  protected readonly ios: PerIoData[] = [];
  private readonly pool: PerIoData[] = [];
  /** I/O posted and not completed yet, the ring accept included. */
  protected inFlight = 0;
  private acceptPosted = false;
  /** After an accept "backoff" (EMFILE...): no accept before this time (performance.now() ms); 0 = none. */
  private acceptAt = 0;
  private readonly out = new Int32Array(3 * MAX_COMPLETIONS);
  protected readonly port: number;
  private readonly stop: StopFlag;
  private readonly http;

  constructor(protected readonly d: RoutineThreadData) {
    this.port = d.completionPort;
    this.stop = new StopFlag(d.stop);
    this.work = d.work;
    this.http = httpThread(d.protocol, d.bufferBytes);
  }

  run(): void {
    const poll = this.d.accept === "poll";
    signalReady();
    while (!this.stop.isSet) {
      if (poll) {
        if (this.acceptPolled()) continue; // a new client: accept again at once, as the seed does
      } else if (!this.acceptPosted && this.acceptDue()) {
        this.postAccept();
      }
      this.alertableWait(ALERTABLE_WAIT_MS);
    }
    this.shutDown();
  }

  /** The seed's accept(): true if a connection was accepted and its first recv posted. */
  private acceptPolled(): boolean {
    if (!this.acceptDue()) return false;
    const fd = sys.accept(this.d.listenFd, true);
    if (fd >= 0) {
      this.open(fd);
      return true;
    }
    this.acceptFailed(fd);
    return false;
  }

  /** SleepEx(ms, TRUE): wait for completions and run each one's routine. */
  private alertableWait(ms: number): void {
    const out = this.out;
    const n = sys.portDequeue(this.port, out, MAX_COMPLETIONS, ms);
    if (n < 0) {
      if (n === -C.EINTR) return;
      throw ioFailure("io_uring dequeue", n);
    }
    for (let i = 0; i < 3 * n; i += 3) {
      const key = out[i]!;
      const result = out[i + 2]!;
      this.inFlight--;
      if (key === ACCEPT_KEY) {
        this.acceptCompRoutine(result);
      } else {
        const io = this.ios[key]!;
        io.routine(this, io, result);
      }
    }
  }

  /** The completion routine of a ring accept: start serving the client, post the next accept. */
  private acceptCompRoutine(result: number): void {
    this.acceptPosted = false;
    if (this.stopping || this.stop.isSet) {
      if (result >= 0) sys.close(result);
      return;
    }
    if (result >= 0) this.open(result);
    else this.acceptFailed(result);
    if (this.acceptDue()) this.postAccept();
  }

  private acceptFailed(r: number): void {
    if (this.stop.isSet) return; // stop() shut the listener down: accept fails with EINVAL
    const what = acceptFailure(r);
    // Out of fds: the client stays queued; trying again at once would spin.
    if (what === "backoff") this.acceptAt = performance.now() + ACCEPT_BACKOFF_MS;
    else if (what === "fatal") throw ioFailure("accept", r);
  }

  private acceptDue(): boolean {
    if (this.acceptAt === 0) return true;
    if (performance.now() < this.acceptAt) return false;
    this.acceptAt = 0;
    return true;
  }

  /** A new client: its PER_IO_DATA, and the first WSARecv. */
  protected open(fd: number): void {
    sys.setNoDelay(fd, true);
    let io = this.pool.pop();
    if (io === undefined) {
      this.grow();
      io = this.pool.pop()!;
    }
    io.fd = fd;
    io.carried = 0;
    io.http = this.http?.connection(fd) ?? null;
    this.postRecv(io);
  }

  /** POOL_CHUNK more per-I/O data, their buffers cut from one SharedArrayBuffer. */
  private grow(): void {
    const size = this.d.bufferBytes;
    const arena = new SharedArrayBuffer(POOL_CHUNK * size);
    for (let i = POOL_CHUNK - 1; i >= 0; i--) {
      const io = new PerIoData(this.ios.length, new Uint8Array(arena, i * size, size));
      this.ios.push(io);
      this.pool.push(io);
    }
  }

  /** closesocket and free: nothing is in flight on io any more. */
  close(io: PerIoData): void {
    io.http?.release();
    sys.close(io.fd);
    io.fd = -1;
    this.pool.push(io);
  }

  postRecv(io: PerIoData): void {
    io.routine = readCompRoutine;
    const len = io.http === null ? io.buf.length : io.http.readBytes;
    this.posted(sys.portPostRecv(this.port, io.fd, io.buf, 0, len, io.key), "post recv");
  }

  postSend(io: PerIoData): void {
    io.routine = writeCompRoutine;
    this.posted(sys.portPostSend(this.port, io.fd, io.buf, io.sent, io.len - io.sent, io.key), "post send");
  }

  private postAccept(): void {
    this.posted(sys.portPostAccept(this.port, this.d.listenFd, ACCEPT_KEY), "post accept");
    this.acceptPosted = true;
  }

  /** Counts a post; one the port refuses means the ring is broken, not a client's doing. */
  protected posted(r: number, what: string): void {
    if (r < 0) throw ioFailure(what, r);
    this.inFlight++;
  }

  /**
   * Stop: shut every connection down so its posted I/O completes at once,
   * run those completions (the routines now close instead of posting), then
   * close the port. No buffer is let go while the kernel may still fill it.
   */
  private shutDown(): void {
    this.stopping = true;
    for (const io of this.ios) if (io.fd >= 0) sys.shutdown(io.fd, C.SHUT_RDWR);
    const deadline = performance.now() + DRAIN_MS;
    while (this.inFlight > 0 && performance.now() < deadline) this.alertableWait(ALERTABLE_WAIT_MS);
    for (const io of this.ios) if (io.fd >= 0) this.close(io);
    sys.portClose(this.port);
  }
}

if (!isMainThread && isRoutineThreadData(workerData)) new RoutineThread(workerData).run();
