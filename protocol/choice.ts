/**
 * The protocol a server speaks, chosen once per server: the supervisor
 * makes a ProtocolData (plain data, so it crosses into worker threads) and
 * each thread turns it into what its loop calls. Echo needs nothing: a
 * model's echo path stays as it is, and only the http path goes through
 * the HttpThread a thread gets from httpThread().
 *
 * The http header timeout's sweeper runs here, on the supervisor's thread
 * (the server process's main thread), for every http server of the process.
 */
import type { ServerOptions } from "../contracts/server.js";
import { sys, C } from "../native/index.js";
import {
  HttpDeadlines,
  HttpResponder,
  HTTP_STATE_INTS,
  HTTP_SWEEP_MS,
  countHeaderTimeouts,
  httpCounterBuffer,
  httpCounts,
  httpMustClose,
  httpReadBytes,
  type HttpCounts,
} from "./http.js";

/** What the supervisor gives every thread about the protocol. */
export type ProtocolData =
  | { name: "echo" }
  | {
      name: "http";
      counters: SharedArrayBuffer;
      /** The header deadlines by fd (HttpDeadlines), swept on the supervisor's thread. */
      deadlines: SharedArrayBuffer;
      /** The header timeout, ms (for a model that times heads itself: node). */
      headerTimeoutMs: number;
    };

/** The http servers started in this process (the server process has one): their counters, and the deadlines of those still running. */
const httpServers: { counters: SharedArrayBuffer; buffer: SharedArrayBuffer; deadlines: HttpDeadlines | null }[] = [];
let sweeper: NodeJS.Timeout | undefined;

/** Largest deadline table: fds past it are not timed. */
const MAX_TIMED_FDS = 1 << 20;

/**
 * Shuts down every connection whose head is late: its thread's read then
 * ends (or returns 0) and the thread closes it as it would a client's close.
 */
function sweepAll(): void {
  for (const s of httpServers) {
    const n = s.deadlines?.sweep((fd) => sys.shutdown(fd, C.SHUT_RDWR)) ?? 0;
    if (n > 0) countHeaderTimeouts(s.counters, n);
  }
}

/** The supervisor's side: its thread data (servers/options.ts has checked the buffer holds an http answer). */
export function protocolData(options: Pick<ServerOptions, "protocol" | "bufferBytes" | "headerTimeoutMs">): ProtocolData {
  if (options.protocol !== "http") return { name: "echo" };
  const counters = httpCounterBuffer();
  const deadlines = HttpDeadlines.create(options.headerTimeoutMs, Math.min(sys.getNofileLimit()[0], MAX_TIMED_FDS));
  httpServers.push({ counters, buffer: deadlines, deadlines: new HttpDeadlines(deadlines) });
  sweeper ??= setInterval(sweepAll, HTTP_SWEEP_MS).unref();
  return { name: "http", counters, deadlines, headerTimeoutMs: options.headerTimeoutMs };
}

/**
 * The server is stopping: its deadlines are swept no more (its threads
 * close their fds without releasing them, and the numbers will be reused).
 * Every model's stop() calls this first.
 */
export function stopProtocol(data: ProtocolData): void {
  if (data.name !== "http") return;
  const s = httpServers.find((x) => x.buffer === data.deadlines);
  if (s !== undefined) s.deadlines = null;
}

/** The http counts of every http server this process started (for the server process's last line), or null if none. */
export function httpCountsOfProcess(): HttpCounts | null {
  if (httpServers.length === 0) return null;
  const sum: HttpCounts = { requests: 0, badRequests: 0, headsTooLong: 0, headerTimeouts: 0 };
  for (const c of httpServers.map((s) => httpCounts(s.counters))) {
    sum.requests += c.requests;
    sum.badRequests += c.badRequests;
    sum.headsTooLong += c.headsTooLong;
    sum.headerTimeouts += c.headerTimeouts;
  }
  return sum;
}

/**
 * One thread's http side, for a model that reads into a buffer of `cap`
 * bytes: the read takes its first `readBytes`, the answer is written after
 * them (so read and answer together never exceed the per-connection cap).
 */
export class HttpThread {
  /** The most one read may take. */
  readonly readBytes: number;
  private readonly responder: HttpResponder;

  constructor(data: { counters: SharedArrayBuffer; deadlines: SharedArrayBuffer }, cap: number) {
    this.responder = new HttpResponder(data.counters, data.deadlines);
    this.readBytes = httpReadBytes(cap);
  }

  /** A new connection's http side; its head is timed from now. */
  connection(fd: number): HttpConnection {
    return new HttpConnection(this.responder, this.readBytes, fd);
  }
}

/** One connection's parser state, and where its answers go. */
export class HttpConnection {
  private readonly st = new Int32Array(HTTP_STATE_INTS);

  constructor(
    private readonly responder: HttpResponder,
    /** The most one read may take; its answer is written from this offset of the same buffer. */
    readonly readBytes: number,
    private readonly fd: number,
  ) {
    responder.open(this.st, 0, fd);
  }

  /** Answers buf[0, n) (a read) into buf from readBytes on; returns the answer's length. */
  reply(buf: Uint8Array, n: number): number {
    return this.responder.reply(this.st, 0, buf, 0, n, buf, this.readBytes, this.fd);
  }

  /** Call before closing the fd: the header sweeper must not act on a number a new connection may get. */
  release(): void {
    this.responder.release(this.fd);
  }

  /** After reply: close once the answer is sent. */
  get mustClose(): boolean {
    return httpMustClose(this.st, 0);
  }
}

/** The thread's http side, or null when the server speaks echo. */
export function httpThread(data: ProtocolData, cap: number): HttpThread | null {
  return data.name === "http" ? new HttpThread(data, cap) : null;
}
