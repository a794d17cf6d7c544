/**
 * The blocking model: the classic echo server every networking course
 * starts from. A thread blocks in accept(), then serves that one client
 * with blocking recv()/send() until it closes, then accepts the next. No
 * readiness, no completions: the kernel parks the thread in each call.
 *
 * --threads N: a pool of N such threads on one listening socket, so at most
 * N clients are served at once (the rest wait in the listen backlog).
 * --threads per-connection: one acceptor thread that starts a new thread
 * for every connection, up to maxConnectionThreads alive at once (fewer if
 * the fd limit cannot afford that many: each thread has its own event loop).
 *
 * Memory is bounded by construction: a thread reads at most one buffer and
 * sends all of it back before it reads again.
 *
 * Stopping: a thread blocked in accept() or recv() sees no flag. The
 * supervisor wakes it: shutdown() on the listening socket makes accept()
 * fail, and shutdown() on the connection a thread serves (each publishes
 * its fd in a shared Int32Array) makes recv() return 0 and send() fail.
 *
 * Chat (--protocol chat, chat/blocking.ts): the same threads, started from
 * the chat file, whose thread class overrides serve(); the thread that reads
 * a frame writes it itself to every member with blocking sends, each
 * member's socket guarded by a per-slot lock held for one frame.
 */
import { readdirSync } from "node:fs";
import { Worker, isMainThread, workerData } from "node:worker_threads";
import { sys, C } from "../native/index.js";
import type { RunningServer, StartModel } from "./model.js";
import { ACCEPT_BACKOFF_MS, acceptFailure, boundPort, openListener } from "./listener.js";
import { ioFailure, isPeerGone, perConnectionCap, sendAll } from "../protocol/echo.js";
import { workPerMessage } from "../protocol/work.js";
import type { MessageWork } from "../contracts/work.js";
import { httpThread, protocolData, stopProtocol, type HttpThread, type ProtocolData } from "../protocol/choice.js";
import { StopFlag, signalReady, startThreads, threadOptions, whenExited, whenReady } from "./threads.js";

/** How often stop() repeats its wake-up shutdowns, for a thread that picked up a connection meanwhile. */
const SWEEP_MS = 50;
/** per-connection: after a thread could not start, the longest wait before trying again. */
const START_RETRY_MS = 1_000;
/**
 * A connection thread's V8 limits: the smallest heap and stack that serve
 * on every Node.js we test. An old generation of 5 MB starts a thread on
 * Node 20 and 22, Node 24's V8 needs 7; 8 leaves room for http and chat on
 * all three. They take a thread from 8.9 MB to about 7.4 MB of the server's
 * memory; the rest is what any Node.js worker costs (an isolate and a
 * Node.js environment: an empty worker is 7.0 MB), where a C server's
 * thread costs 12 KB. docs/blocking-threads.md has the figures and how they
 * were measured.
 */
const CONNECTION_THREAD_LIMITS = { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1, stackSizeMb: 0.5 };
/** A slot of the shared `serving` array that serves nothing. */
const IDLE = -1;

/** What every blocking thread shares: the listener, the stop flag, and where fds being served are published. */
export interface Shared {
  /** "blocking", or the tag of the chat file's threads. */
  model: string;
  /** The threads' entry file: this one, or the chat server's (its per-connection threads start it too). */
  file: string;
  listenFd: number;
  cap: number;
  work: MessageWork | null;
  stop: SharedArrayBuffer;
  /** Int32Array: the fd each slot is serving, or IDLE. */
  serving: SharedArrayBuffer;
  protocol: ProtocolData;
}

/** Per-thread data: a pool thread, the per-connection acceptor, or one connection's thread. */
export type ThreadData =
  | (Shared & { role: "pool"; slot: number })
  | (Shared & { role: "acceptor"; maxThreads: number; threadLimit: SharedArrayBuffer })
  | (Shared & { role: "connection"; slot: number; fd: number; started: SharedArrayBuffer });

function isThreadData(data: unknown): data is ThreadData {
  return typeof data === "object" && data !== null && (data as { model?: unknown }).model === "blocking";
}

// ---- the supervisor ----------------------------------------------------------------

export const start: StartModel = (options) => startBlocking(options, import.meta.url);

/**
 * Starts the threads of `file` (this file, or the chat server's), with
 * `extra` (given the slot count) added to every thread's data.
 */
export async function startBlocking(options: Parameters<StartModel>[0], file: string, extra: (slots: number) => Record<string, unknown> = () => ({})): Promise<RunningServer> {
  const perConnection = options.threads === "per-connection";
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  const stop = new StopFlag();
  const slots = options.threads === "per-connection" ? options.maxConnectionThreads : options.threads;
  const serving = new SharedArrayBuffer(4 * slots);
  new Int32Array(serving).fill(IDLE);
  const shared: Shared = { model: "blocking", file, listenFd, cap: perConnectionCap(options), work: options.work, stop: stop.buffer, serving, protocol: protocolData(options), ...extra(slots) };

  let workers: Worker[];
  const threadLimit = new SharedArrayBuffer(4);
  const fdsBefore = openFds();
  if (perConnection) {
    // The acceptor starts the connection threads itself; a connection
    // thread's failure fails the acceptor, which startThreads reports.
    workers = startThreads(file, 1, () => ({ ...shared, role: "acceptor", maxThreads: slots, threadLimit }));
  } else {
    workers = startThreads(file, slots, (slot) => ({ ...shared, role: "pool", slot }));
  }

  const stopAll = async (): Promise<void> => {
    stopProtocol(shared.protocol);
    stop.set();
    sys.shutdown(listenFd, C.SHUT_RDWR); // every blocked accept() now fails
    const fds = new Int32Array(serving);
    // shutdown(), never close(): the fd belongs to its thread, and
    // shutdown on a number that was reused meanwhile harms nothing that is
    // not being stopped anyway.
    const sweep = (): void => {
      for (let i = 0; i < fds.length; i++) {
        const fd = Atomics.load(fds, i);
        if (fd !== IDLE) sys.shutdown(fd, C.SHUT_RDWR);
      }
    };
    sweep();
    const timer = setInterval(sweep, SWEEP_MS);
    try {
      await whenExited(workers);
    } finally {
      clearInterval(timer);
    }
    sys.close(listenFd);
  };
  try {
    await whenReady(workers);
    if (perConnection) Atomics.store(new Int32Array(threadLimit), 0, Math.min(slots, affordableThreads(fdsBefore)));
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { host: options.host, port, stop: stopAll };
}

/** fds kept free for Node itself when sizing the per-connection thread limit. */
const SPARE_FDS = 16;

function openFds(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * per-connection: how many connection threads the fd limit affords. A
 * thread costs its connection plus its own event loop's fds (measured on
 * the acceptor, which has just started). Running out instead would be
 * worse than waiting: a Worker that fails to start for want of fds leaks
 * some of the fds it did open (Node 20), so the server would not recover.
 */
function affordableThreads(fdsBeforeAcceptor: number): number {
  const [soft] = sys.getNofileLimit();
  const open = openFds();
  const perThread = open - fdsBeforeAcceptor + 1;
  const n = Math.floor((soft - open - SPARE_FDS) / perThread);
  if (n < 1) throw new Error(`blocking per-connection: the fd limit (ulimit -n ${soft}) leaves no room for a connection thread`);
  return n;
}

// ---- serving one connection (any role) ------------------------------------------------

/** recv up to one buffer, do the messages' work, send it all back (http: send its answer), until the client closes. */
function serveConnection(fd: number, buf: Uint8Array, work: MessageWork | null, http: HttpThread | null): void {
  sys.setNoDelay(fd, true);
  let carried = 0; // bytes of a message not complete yet (--work)
  const conn = http?.connection(fd) ?? null;
  try {
    for (;;) {
      const n = sys.recv(fd, buf, 0, conn === null ? buf.length : conn.readBytes);
      if (n === 0) return; // the client closed its side (or stop(), or a late http head, shut ours down)
      if (n < 0) {
        if (n === -C.EINTR) continue;
        if (isPeerGone(n)) return;
        throw ioFailure("recv", n);
      }
      carried = workPerMessage(work, carried, n);
      const r = conn === null ? sendAll(fd, buf, 0, n) : sendAll(fd, buf, conn.readBytes, conn.reply(buf, n));
      if (r < 0) {
        if (isPeerGone(r)) return;
        throw ioFailure("send", r);
      }
      if (conn?.mustClose) return; // http: answered a refusal or a closing request
    }
  } finally {
    conn?.release(); // before the caller closes the fd
  }
}

/** Serves one connection (in its slot, with this thread's buffer) until the client leaves; the caller closes fd. */
type Serve = (slot: number, fd: number, buf: Uint8Array, http: HttpThread | null) => void;

/** One thread of the model, in its role; the chat server's threads extend it and override serve(). */
export class BlockingThread {
  constructor(protected readonly d: ThreadData) {}

  /** Echo: the seed's recv/send loop. */
  protected serve(_slot: number, fd: number, buf: Uint8Array, http: HttpThread | null): void {
    serveConnection(fd, buf, this.d.work, http);
  }

  async run(): Promise<void> {
    const d = this.d;
    const serve: Serve = (slot, fd, buf, http) => this.serve(slot, fd, buf, http);
    if (d.role === "pool") runPoolThread(d, serve);
    else if (d.role === "acceptor") await runAcceptor(d);
    else runConnectionThread(d, serve);
  }
}

/** A cell nobody else sees: waiting on it is a plain sleep. */
const napCell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps the calling thread (it has nothing else to do: that is the model). */
function sleep(ms: number): void {
  Atomics.wait(napCell, 0, 0, ms);
}

/**
 * A blocking accept, or -1 when stopping. Out of fds (EMFILE), the
 * connection stays queued; sleep before trying again instead of spinning.
 */
function acceptOne(d: Shared, stop: StopFlag): number {
  while (!stop.isSet) {
    const fd = sys.accept(d.listenFd, false);
    if (fd >= 0) return fd;
    if (stop.isSet) break; // stop() shut the listener down: accept() fails with EINVAL
    const what = acceptFailure(fd);
    if (what === "backoff") sleep(ACCEPT_BACKOFF_MS);
    else if (what === "fatal") throw ioFailure("accept", fd);
  }
  return -1;
}

// ---- --threads N: a pool thread --------------------------------------------------------

function runPoolThread(d: Shared & { slot: number }, serve: Serve): void {
  const stop = new StopFlag(d.stop);
  const serving = new Int32Array(d.serving);
  const buf = new Uint8Array(d.cap); // this thread serves one client at a time: one buffer
  const http = httpThread(d.protocol, d.cap);
  signalReady();
  for (;;) {
    const fd = acceptOne(d, stop);
    if (fd < 0) return;
    // Publish before checking the flag: either stop() sees this fd and
    // shuts it down, or this thread sees the flag (Atomics are ordered).
    Atomics.store(serving, d.slot, fd);
    if (!stop.isSet) serve(d.slot, fd, buf, http);
    Atomics.store(serving, d.slot, IDLE);
    sys.close(fd);
  }
}

// ---- --threads per-connection: the acceptor and one thread per connection ---------------

async function runAcceptor(d: Shared & { maxThreads: number; threadLimit: SharedArrayBuffer }): Promise<void> {
  const stop = new StopFlag(d.stop);
  const serving = new Int32Array(d.serving);
  // started[slot] = 1 once that slot's thread runs: a thread that fails
  // before (out of fds or memory) never touched its connection.
  const started = new SharedArrayBuffer(4 * d.maxThreads);
  const startedCells = new Int32Array(started);
  const freeSlots = Array.from({ length: d.maxThreads }, (_, i) => d.maxThreads - 1 - i);
  const alive = new Set<Worker>();
  /**
   * After a thread could not start (out of fds or memory), no thread starts
   * before this time (ms), or before some thread ends and frees what it
   * held: a failed start costs real CPU, so retrying on a timer alone would
   * burn it while the server is full.
   */
  let retryAt = 0;
  let wake: (() => void) | undefined;
  const pause = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, ms);
    });

  /** The connection's thread could not start: close the connection (as libuv does when out of fds) and back off. */
  const couldNotStart = (fd: number, slot: number): void => {
    Atomics.store(serving, slot, IDLE);
    sys.close(fd);
    freeSlots.push(slot);
    retryAt = Date.now() + START_RETRY_MS;
  };

  const startConnectionThread = (fd: number, slot: number): void => {
    Atomics.store(startedCells, slot, 0);
    const data: ThreadData = { ...d, role: "connection", slot, fd, started };
    let thread: Worker;
    try {
      thread = new Worker(new URL(d.file), { workerData: data, resourceLimits: CONNECTION_THREAD_LIMITS, ...threadOptions() });
    } catch {
      couldNotStart(fd, slot);
      return;
    }
    alive.add(thread);
    let failure: unknown;
    thread.on("error", (err: unknown) => (failure = err));
    thread.once("exit", () => {
      alive.delete(thread);
      wake?.();
      if (Atomics.load(startedCells, slot) === 0) {
        // It never ran (a failed start may end with an error or without
        // one): the connection is still ours to close.
        couldNotStart(fd, slot);
      } else if (failure === undefined) {
        freeSlots.push(slot); // it served its client and closed the fd
        retryAt = 0;
      } else {
        // It failed while serving: a bug. Thrown here, it fails this thread,
        // and through it the server, with the thread's own message.
        throw failure;
      }
    });
  };

  signalReady();
  const threadLimit = new Int32Array(d.threadLimit); // 0 until the supervisor has sized it
  while (!stop.isSet) {
    // At the limit, wait for a connection thread to end (one that ended but
    // is not joined yet still holds its fds); after a thread could not
    // start, wait before starting another.
    const limit = Atomics.load(threadLimit, 0);
    const full = freeSlots.length === 0 || alive.size >= limit;
    const wait = full ? (limit === 0 ? 5 : ACCEPT_BACKOFF_MS) : retryAt - Date.now();
    if (wait > 0) {
      await pause(wait);
      continue;
    }
    const fd = acceptOne(d, stop);
    if (fd < 0) break;
    const slot = freeSlots.pop() ?? 0;
    Atomics.store(serving, slot, fd); // published before the flag is checked, as in the pool
    if (stop.isSet) {
      Atomics.store(serving, slot, IDLE);
      sys.close(fd);
      break;
    }
    startConnectionThread(fd, slot);
    // This thread spends its life blocked in accept(); give its event loop a
    // turn now so connection threads that ended are joined and their slots freed.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  await whenExited([...alive]);
}

function runConnectionThread(d: Shared & { slot: number; fd: number; started: SharedArrayBuffer }, serve: Serve): void {
  Atomics.store(new Int32Array(d.started), d.slot, 1);
  const stop = new StopFlag(d.stop);
  const serving = new Int32Array(d.serving);
  if (!stop.isSet) serve(d.slot, d.fd, new Uint8Array(d.cap), httpThread(d.protocol, d.cap));
  Atomics.store(serving, d.slot, IDLE);
  sys.close(d.fd);
}

if (!isMainThread && isThreadData(workerData)) await new BlockingThread(workerData).run();
