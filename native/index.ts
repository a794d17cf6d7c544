/**
 * The native addon: system calls, not models. Every loop, thread pool and
 * completion dispatch lives in the TypeScript model files; this module only
 * lets a (worker) thread make the calls Node.js cannot make by itself.
 *
 * Conventions, shared by every function below:
 * - A call that can fail returns a negative errno (-11 for EAGAIN, ...);
 *   `errnoName(-r)` turns it into "EAGAIN". Argument mistakes (wrong types,
 *   a buffer range outside its array) throw a TypeError/RangeError instead,
 *   because they are bugs, not conditions a server meets at run time.
 * - Blocking calls (accept/recv/send on a blocking socket, epollWait,
 *   portDequeue) really block the calling thread: call them from a worker.
 * - Buffers are Uint8Arrays; `off`/`len` select the bytes. For the completion
 *   port the Uint8Array must be a view on a SharedArrayBuffer, and the caller
 *   keeps it alive until the operation's completion is dequeued.
 */
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export interface NativeAddon {
  // ---- errors and process --------------------------------------------------
  /** Symbolic name of a positive errno value ("ECONNRESET"); "E<n>" if unknown. */
  errnoName(errno: number): string;
  /** Kernel thread id (gettid) of the calling thread, for /proc/self/task/<tid>. */
  gettid(): number;
  /** CPU time (user + system) the calling thread has used, µs (CLOCK_THREAD_CPUTIME_ID). */
  threadCpuUs(): number;
  /** Pins thread/process `tid` (0 = calling thread) to the given CPUs. 0 or -errno. */
  setAffinity(tid: number, cpus: number[]): number;
  /** RLIMIT_NOFILE as [soft, hard]. */
  getNofileLimit(): [number, number];
  /** Sets the soft RLIMIT_NOFILE (at most the hard limit). 0 or -errno. */
  setNofileLimit(soft: number): number;
  /**
   * PR_SET_PDEATHSIG(SIGKILL): the calling process is killed when the thread
   * that forked it exits. 0, or -ESRCH when its parent is no longer
   * `parentPid` (it died before the call), or -errno. See native/parent-death.h.
   */
  dieWithParent(parentPid: number): number;

  // ---- sockets ---------------------------------------------------------------
  /**
   * socket + SO_REUSEADDR + bind + listen on a numeric IPv4/IPv6 address;
   * with reusePort also SO_REUSEPORT, so several processes listen on one
   * port and the kernel spreads connections over them. Returns the
   * listening fd (blocking, close-on-exec) or -errno.
   */
  listen(host: string, port: number, backlog: number, reusePort?: boolean): number;
  /** The local port a socket is bound to, or -errno. */
  localPort(fd: number): number;
  /** accept4(); the new fd is close-on-exec and non-blocking when asked. fd or -errno. */
  accept(fd: number, nonBlocking: boolean): number;
  /**
   * socket + connect to a numeric IPv4/IPv6 address. For a non-blocking
   * socket a connect in progress still returns the fd: wait for EPOLLOUT and
   * read `socketError(fd)`. With sourceHost (numeric, same family) the
   * socket is bound to that address first, its port picked at connect time
   * (IP_BIND_ADDRESS_NO_PORT): each source address has its own ephemeral
   * ports toward a server. Returns the fd or -errno (the socket is closed).
   */
  connect(host: string, port: number, nonBlocking: boolean, sourceHost?: string): number;
  /** getsockopt(SO_ERROR): 0, or the pending error as -errno. */
  socketError(fd: number): number;
  /** recv(fd, buf+off, len, 0): bytes read (0 = the peer closed), or -errno. */
  recv(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** send(fd, buf+off, len, MSG_NOSIGNAL): bytes written, or -errno. */
  send(fd: number, buf: Uint8Array, off: number, len: number): number;
  /** shutdown(fd, how) with how = SHUT_RD | SHUT_WR | SHUT_RDWR. 0 or -errno. */
  shutdown(fd: number, how: number): number;
  /** close(fd). 0 or -errno. */
  close(fd: number): number;
  /** Sets or clears O_NONBLOCK. 0 or -errno. */
  setNonBlocking(fd: number, on: boolean): number;
  /** Sets TCP_NODELAY. 0 or -errno. */
  setNoDelay(fd: number, on: boolean): number;
  /** SO_LINGER {on, 0}: the next close() sends RST instead of FIN. 0 or -errno. */
  setLingerZero(fd: number): number;
  /** SO_RCVBUF / SO_SNDBUF in bytes (the kernel doubles it). 0 or -errno. */
  setBufferSizes(fd: number, rcv: number, snd: number): number;

  // ---- wake-ups and send queues (the chat fan-out) ------------------------------
  /** ioctl(SIOCOUTQ): bytes in a socket's send queue not yet acknowledged by the peer, or -errno. */
  sendQueued(fd: number): number;
  /** eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK): fd or -errno. Put it in an epoll set to be woken. */
  eventfdCreate(): number;
  /** Adds 1 to the eventfd's counter (wakes its epoll waiter). 0 or -errno. */
  eventfdSignal(fd: number): number;
  /** Resets the counter: what it held (0 if nothing), or -errno. */
  eventfdDrain(fd: number): number;

  // ---- readiness: epoll --------------------------------------------------------
  /** epoll_create1(EPOLL_CLOEXEC): epfd or -errno. */
  epollCreate(): number;
  /** epoll_ctl(epfd, op, fd, {events, data.u32 = key}). 0 or -errno. */
  epollCtl(epfd: number, op: number, fd: number, events: number, key: number): number;
  /**
   * epoll_wait: blocks up to timeoutMs (-1 = forever). Returns the number of
   * events n (0 on timeout) or -errno; event i is written as
   * out[2i] = events mask, out[2i+1] = key. `out.length >= 2 * maxEvents`.
   */
  epollWait(epfd: number, out: Int32Array, maxEvents: number, timeoutMs: number): number;

  // ---- completion: a port over io_uring (native/port.c) ------------------------------
  /**
   * Creates a completion port (CreateIoCompletionPort): an io_uring with
   * `entries` submission slots, usable by every thread of the process
   * through the returned id.
   *
   * `concurrency` (default 0) is the port's NumberOfConcurrentThreads: at
   * most that many threads run completions at once (0 = the CPUs the
   * calling thread may run on). `wake` (default PORT_WAKE_LIFO) is how
   * waiters are released: PORT_WAKE_LIFO as a Windows port (one waiter per
   * completion batch, newest first, none while `concurrency` threads run);
   * PORT_WAKE_ALL every waiter wakes on each completion and there is no
   * limit (the thundering herd, for comparison).
   * Returns the id (>= 0) or -errno (-ENOSYS/-EPERM where io_uring is off).
   */
  portCreate(entries: number, concurrency?: number, wake?: number): number;
  /** Posts accept4 on listenFd; completion result = new fd or -errno. 0 or -errno. */
  portPostAccept(port: number, listenFd: number, key: number): number;
  /** Posts recv into buf[off, off+len); result = bytes (0 = peer closed) or -errno. */
  portPostRecv(port: number, fd: number, buf: Uint8Array, off: number, len: number, key: number): number;
  /** Posts send of buf[off, off+len) (MSG_NOSIGNAL); result = bytes sent (may be short) or -errno. */
  portPostSend(port: number, fd: number, buf: Uint8Array, off: number, len: number, key: number): number;
  /**
   * Posts a user completion (a NOP) and submits it at once, so it wakes a
   * waiter, like PostQueuedCompletionStatus. 0 or -errno.
   */
  portPostUser(port: number, key: number): number;
  /**
   * Submits every posted operation now. Posting only queues: the next
   * portDequeue or portSubmit by any thread enters the kernel, so a thread
   * that posts but does not dequeue (an acceptor) must call this. The thread
   * that submits an operation runs its kernel-side completion work, and its
   * exit cancels what it submitted and is still pending. 0 or -errno.
   */
  portSubmit(port: number): number;
  /**
   * GetQueuedCompletionStatus(Ex): submits what is posted, then takes up to
   * maxCompletions completions, waiting up to timeoutMs (-1 = forever) for
   * the first. Safe to call from several threads at once. The calling thread
   * counts as running on the port from a call that returned completions
   * until its next call (or its exit). Returns n (0 on timeout) or -errno
   * (-EBADF once the port is closed); completion i is out[3i] = key,
   * out[3i+1] = op (OP_ACCEPT | OP_RECV | OP_SEND | OP_USER), out[3i+2] = result.
   */
  portDequeue(port: number, out: Int32Array, maxCompletions: number, timeoutMs: number): number;
  /**
   * What the Windows kernel sees by itself: the calling thread, running on
   * the port, is about to block (true: it stops counting, so a waiter may be
   * released) or is done blocking (false: it counts again, even above the
   * concurrency value). Call it once each side of the blocking call; a
   * thread not running on the port changes nothing. 0 or -EBADF.
   */
  portBlocking(port: number, blocking: boolean): number;
  /** The port's concurrency value, its state and its counters, or null if there is no such open port. */
  portStats(port: number): PortStats | null;
  /** Closes the port: waiters return -EBADF; the ring is freed once no thread is inside. */
  portClose(port: number): number;

  // ---- one thread's batched io_uring (the load client's uring engine) ---------------
  /**
   * Creates an io_uring owned by the calling thread (SINGLE_ISSUER |
   * DEFER_TASKRUN where the kernel has them) with `entries` SQ slots and
   * `cqEntries` CQ slots, and a provided-buffer ring of `bufCount` (a power
   * of two <= 32768) buffers of `bufSize` bytes carved out of `recvArea`.
   * Sends read from `sendArea`. The ring keeps both arrays alive until
   * uringClose. Returns the ring or -errno (-ENOSYS/-EPERM: no io_uring).
   */
  uringCreate(entries: number, cqEntries: number, recvArea: Uint8Array, bufSize: number, bufCount: number, sendArea: Uint8Array): UringHandle | number;
  /**
   * Posts `nOps` ops from `ops` (UK_OP_STRIDE int32 each: kind, fd, key, gen,
   * off, len), submits them with one io_uring_enter that also waits up to
   * timeoutMs (0 = no wait) for a completion, and copies up to maxOut
   * completions into `out` (UK_CQE_STRIDE int32 each: key, kind << 16 | gen,
   * res, cqe flags). Kinds: UK_SEND (sendArea[off, off+len), MSG_WAITALL,
   * a completion only on failure), UK_RECV (multishot recv into provided
   * buffers: IORING_CQE_F_BUFFER with the buffer id in flags >>> 16, and
   * IORING_CQE_F_MORE while it stays armed), UK_POLLOUT (writable or error:
   * a connect's end), UK_RECYCLE (buffer `off` back to the kernel; no
   * completion), UK_NONE (skipped). Returns the number of completions or -errno.
   */
  uringEnter(ring: UringHandle, ops: Int32Array, nOps: number, out: Int32Array, maxOut: number, timeoutMs: number): number;
  /**
   * Cancels every request of `kind` posted for (key, gen) before returning
   * (their completions follow, -ECANCELED). Matched by user data, O(1) in
   * the number of requests in flight. Count (0 if none) or -errno.
   */
  uringCancel(ring: UringHandle, kind: number, key: number, gen: number): number;
  /** Closes the ring: the kernel cancels what is in flight. 0, or -EBADF if already closed. */
  uringClose(ring: UringHandle): number;

  /** Numeric constants: errno values, EPOLL*, SHUT_*, OP_*, PORT_WAKE_*, UK_*. */
  readonly constants: NativeConstants;
}

/** A completion port's state and counters (portStats); counts are since portCreate. */
export interface PortStats {
  /** The concurrency value fixed at creation (0 resolved to the usable CPUs). */
  concurrency: number;
  /** PORT_WAKE_LIFO or PORT_WAKE_ALL. */
  wake: number;
  /** Threads running now (portBlocking(true) takes one out). */
  running: number;
  /** Threads inside portBlocking(true) .. (false). */
  blocked: number;
  /** Threads waiting inside portDequeue. */
  waiters: number;
  /** The most threads ever running at once. */
  maxRunning: number;
  /** Dequeues that returned completions, and the completions they returned. */
  batches: number;
  completions: number;
  /** Waits in io_uring_enter and on a waiter's futex (each a sleep, and a wake-up or a timeout). */
  enterWaits: number;
  futexWaits: number;
  /** Wake-ups after which the thread took nothing and waited again. */
  idleWakes: number;
  /** LIFO: waiters woken from their futex to wait for the next completion. */
  released: number;
  /** LIFO: NOPs posted to move a stale waiter out of io_uring_enter. */
  kicks: number;
}

/** An io_uring from uringCreate, usable only by the thread that created it. */
export type UringHandle = { readonly __uring: unique symbol };

export interface NativeConstants {
  readonly EAGAIN: number;
  readonly EINTR: number;
  readonly EINPROGRESS: number;
  readonly ECONNRESET: number;
  readonly ECONNREFUSED: number;
  readonly EPIPE: number;
  readonly EMFILE: number;
  readonly ENFILE: number;
  readonly EBADF: number;
  readonly EINVAL: number;
  readonly ENOTCONN: number;
  readonly ETIMEDOUT: number;
  readonly ECONNABORTED: number;
  readonly EADDRINUSE: number;
  readonly ENOSYS: number;
  readonly EPERM: number;
  readonly ECANCELED: number;
  readonly EPOLLIN: number;
  readonly EPOLLOUT: number;
  readonly EPOLLERR: number;
  readonly EPOLLHUP: number;
  readonly EPOLLRDHUP: number;
  readonly EPOLLET: number;
  readonly EPOLLONESHOT: number;
  readonly EPOLLEXCLUSIVE: number;
  readonly EPOLL_CTL_ADD: number;
  readonly EPOLL_CTL_MOD: number;
  readonly EPOLL_CTL_DEL: number;
  readonly SHUT_RD: number;
  readonly SHUT_WR: number;
  readonly SHUT_RDWR: number;
  readonly OP_ACCEPT: number;
  readonly OP_RECV: number;
  readonly OP_SEND: number;
  readonly OP_USER: number;
  readonly PORT_WAKE_LIFO: number;
  readonly PORT_WAKE_ALL: number;
  readonly UK_NONE: number;
  readonly UK_SEND: number;
  readonly UK_RECV: number;
  readonly UK_POLLOUT: number;
  readonly UK_RECYCLE: number;
  readonly UK_OP_STRIDE: number;
  readonly UK_CQE_STRIDE: number;
  readonly IORING_CQE_F_BUFFER: number;
  readonly IORING_CQE_F_MORE: number;
  readonly ENOBUFS: number;
}

function load(): NativeAddon {
  // dist/native/index.js sits two levels below the package root, where
  // node-gyp writes build/Release; native/index.ts one level.
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.resolve(here, "../../build/Release/iobench.node"),
    path.resolve(here, "../build/Release/iobench.node"),
  ];
  const file = candidates.find((f) => existsSync(f));
  if (file === undefined) {
    throw new Error("the native addon is not built (build/Release/iobench.node): run `npm install`");
  }
  return createRequire(import.meta.url)(file) as NativeAddon;
}

/** The addon, loaded once per thread. */
export const sys: NativeAddon = load();
export const C: NativeConstants = sys.constants;

/** "ECONNRESET" for a negative result r, for messages. */
export function errname(r: number): string {
  return sys.errnoName(-r);
}
