/**
 * The node model: the echo server a Node.js developer would write, scaled
 * over N worker threads the way Node allows it. Each thread runs its own
 * event loop (libuv: epoll underneath) with a plain `net.Server`, and all
 * of them listen on ONE listening socket: the supervisor opens it and every
 * thread calls `server.listen({ fd })`, so the kernel hands each new
 * connection to whichever loop accepts first.
 *
 * Per connection there is only what Node keeps for a socket; the echo is
 * "write what you read", with backpressure: when a write cannot be taken
 * at once the socket stops reading until the buffer drains.
 *
 * Chat (--protocol chat, chat/node.ts): the same threads (NodeThread below,
 * extended by the chat file's thread class, which serves each socket as a
 * member of the room); each thread writes a frame to its own sockets and
 * posts it on a BroadcastChannel; libuv wakes the other threads' loops,
 * which write it to theirs.
 */
import { readdirSync } from "node:fs";
import net from "node:net";
import { isMainThread, parentPort, workerData, type Worker } from "node:worker_threads";
import { sys } from "../native/index.js";
import type { RunningServer, StartModel } from "./model.js";
import { boundPort, openListener } from "./listener.js";
import { perConnectionCap } from "../protocol/echo.js";
import { workPerMessage } from "../protocol/work.js";
import type { MessageWork } from "../contracts/work.js";
import { protocolData, stopProtocol, type ProtocolData } from "../protocol/choice.js";
import { serveHttpSocket } from "../protocol/http-node.js";
import { poolThreads, startThreads, whenExited } from "./threads.js";

/** What the supervisor gives each thread (the chat server adds its own fields). */
export interface NodeThreadData {
  /** "node", or the tag of the chat file's threads. */
  model: string;
  listenFd: number;
  backlog: number;
  /** Write-buffer high-water mark: past it, a socket pauses reading. */
  highWaterMark: number;
  work: MessageWork | null;
  /** Int32Array [open connections, most allowed (0 = not set yet)], shared by every thread. */
  connections: SharedArrayBuffer;
  protocol: ProtocolData;
}

/** What a thread tells the supervisor once, after listen({ fd }). */
type ThreadReport = { kind: "listening" } | { kind: "error"; message: string };

/** The supervisor's message that ends a thread. */
const STOP = "stop";

function isNodeThreadData(data: unknown): data is NodeThreadData {
  return typeof data === "object" && data !== null && (data as { model?: unknown }).model === "node";
}

// ---- the supervisor (the server process's main thread) -------------------------

export const start: StartModel = (options) => startNode(options, import.meta.url);

/** Starts the threads of `file` (this file, or the chat server's), `extra` added to their data, on one listening socket. */
export async function startNode(options: Parameters<StartModel>[0], file: string, extra: Record<string, unknown> = {}): Promise<RunningServer> {
  const threads = poolThreads(options);
  const listenFd = openListener(options);
  const port = boundPort(listenFd);
  const connections = new SharedArrayBuffer(8);
  const data: NodeThreadData = {
    model: "node", listenFd, backlog: options.backlog, highWaterMark: perConnectionCap(options), work: options.work, connections, protocol: protocolData(options), ...extra,
  };
  const workers = startThreads(file, threads, () => data);

  const reports = await Promise.all(workers.map(firstReport));
  const failed = reports.find((r) => r.kind === "error");
  if (failed !== undefined) {
    await Promise.all(workers.map((w) => w.terminate()));
    // A thread that listened owns the fd now and closed it as it ended.
    if (reports.every((r) => r.kind === "error")) sys.close(listenFd);
    throw new Error(`node: a thread could not listen: ${failed.message}`);
  }
  Atomics.store(new Int32Array(connections), 1, connectionBudget(threads));

  return {
    host: options.host,
    port,
    async stop() {
      stopProtocol(data.protocol);
      for (const w of workers) w.postMessage(STOP);
      await whenExited(workers);
    },
  };
}

/** fds kept free for Node itself, beyond one per thread for a connection it accepts only to drop. */
const SPARE_FDS = 16;

/**
 * How many connections the whole server may hold: the fds left under the
 * process's limit once every thread runs. libuv copes with EMFILE by
 * closing a spare fd, accepting and dropping what is pending, and
 * reopening the spare; but the fd table belongs to the process, so with
 * several loops another thread takes the freed fd, a loop loses its spare
 * for good, and its accept loop then spins on EMFILE. Never running out
 * avoids that: a connection past the budget is dropped at once, as libuv
 * would drop it.
 */
function connectionBudget(threads: number): number {
  const [soft] = sys.getNofileLimit();
  const open = readdirSync("/proc/self/fd").length;
  return Math.max(1, soft - open - SPARE_FDS - threads);
}

function firstReport(worker: Worker): Promise<ThreadReport> {
  return new Promise((resolve) => {
    worker.once("message", (m: ThreadReport) => resolve(m));
    worker.once("exit", (code) => resolve({ kind: "error", message: `the thread exited with code ${code}` }));
  });
}

// ---- one thread: a plain net.Server -----------------------------------------------

/** One thread: a net.Server on the shared fd; what a socket is served with is serveSocket() (the chat server overrides it). */
export class NodeThread {
  /** Sockets this thread serves. */
  protected readonly sockets = new Set<net.Socket>();

  constructor(protected readonly d: NodeThreadData) {}

  /** The echo: "write what you read", pausing the read while a write waits. */
  protected serveSocket(socket: net.Socket): void {
    const data = this.d;
    let carried = 0; // bytes of a message not complete yet (--work)
    if (data.protocol.name === "http") {
      return serveHttpSocket(socket, data.protocol, data.highWaterMark, (n) => (carried = workPerMessage(data.work, carried, n)));
    }
    socket.on("data", (chunk: Buffer) => {
      carried = workPerMessage(data.work, carried, chunk.length);
      if (!socket.write(chunk)) socket.pause();
    });
    socket.on("drain", () => socket.resume());
    socket.on("end", () => socket.end());
  }

  /** Called on the supervisor's stop, before the server closes. */
  protected stopping(): void {}

  run(): void {
    const port = parentPort;
    if (port === null) return;
    const data = this.d;
    const sockets = this.sockets;
    const open = new Int32Array(data.connections);
    /** Counts a new connection against the process-wide budget; false if it is over. */
    const admit = (): boolean => {
      const budget = Atomics.load(open, 1);
      if (Atomics.add(open, 0, 1) < budget || budget === 0) return true;
      Atomics.sub(open, 0, 1);
      return false;
    };

    const server = net.createServer({ allowHalfOpen: true, highWaterMark: data.highWaterMark }, (socket) => {
      if (!admit()) {
        socket.destroy(); // fds are about to run out: drop it now, as libuv would (see connectionBudget)
        return;
      }
      sockets.add(socket);
      socket.on("close", () => {
        sockets.delete(socket);
        Atomics.sub(open, 0, 1);
      });
      socket.setNoDelay(true);
      // ECONNRESET, EPIPE: the peer went away; without a listener it would take the server down.
      socket.on("error", () => socket.destroy());
      this.serveSocket(socket);
    });
    let listening = false;
    server.on("error", (err: Error) => {
      // Before listening: tell the supervisor. After: an accept failed for
      // one connection; keep serving the others.
      if (!listening) port.postMessage({ kind: "error", message: err.message } satisfies ThreadReport);
    });
    server.listen({ fd: data.listenFd, backlog: data.backlog }, () => {
      listening = true;
      port.postMessage({ kind: "listening" } satisfies ThreadReport);
    });

    port.on("message", (m: unknown) => {
      if (m !== STOP) return;
      this.stopping();
      // Closing the server closes the shared fd. Every thread does it; after
      // the first, close() meets EBADF, which libuv ignores (nothing opens an
      // fd while the server stops, so the number is not reused meanwhile; a
      // dup() per thread would rule that out, but the addon has none).
      server.close(() => port.close());
      for (const s of sockets) s.destroy();
    });
  }
}

if (!isMainThread && isNodeThreadData(workerData)) new NodeThread(workerData).run();
