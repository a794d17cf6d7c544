/**
 * The protocol a server speaks, chosen once per server: the supervisor
 * makes a ProtocolData (plain data, so it crosses into worker threads) and
 * each thread turns it into what its loop calls. Echo needs nothing: a
 * model's echo path stays as it is, and only the http path goes through
 * the HttpThread a thread gets from httpThread().
 */
import type { ServerOptions } from "../contracts/server.js";
import { HttpResponder, HTTP_STATE_INTS, httpCounterBuffer, httpCounts, httpMustClose, httpReadBytes, httpReset, type HttpCounts } from "./http.js";

/** What the supervisor gives every thread about the protocol. */
export type ProtocolData = { name: "echo" } | { name: "http"; counters: SharedArrayBuffer };

/** Counter blocks of the http servers started in this process (the server process has one). */
const httpServers: SharedArrayBuffer[] = [];

/** The supervisor's side: its thread data (servers/options.ts has checked the buffer holds an http answer). */
export function protocolData(options: Pick<ServerOptions, "protocol" | "bufferBytes">): ProtocolData {
  if (options.protocol !== "http") return { name: "echo" };
  const counters = httpCounterBuffer();
  httpServers.push(counters);
  return { name: "http", counters };
}

/** The http counts of every http server this process started (for the server process's last line), or null if none. */
export function httpCountsOfProcess(): HttpCounts | null {
  if (httpServers.length === 0) return null;
  const sum: HttpCounts = { requests: 0, badRequests: 0, headsTooLong: 0 };
  for (const c of httpServers.map(httpCounts)) {
    sum.requests += c.requests;
    sum.badRequests += c.badRequests;
    sum.headsTooLong += c.headsTooLong;
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

  constructor(data: { counters: SharedArrayBuffer }, cap: number) {
    this.responder = new HttpResponder(data.counters);
    this.readBytes = httpReadBytes(cap);
  }

  /** A new connection's http side. */
  connection(): HttpConnection {
    return new HttpConnection(this.responder, this.readBytes);
  }
}

/** One connection's parser state, and where its answers go. */
export class HttpConnection {
  private readonly st = new Int32Array(HTTP_STATE_INTS);

  constructor(
    private readonly responder: HttpResponder,
    /** The most one read may take; its answer is written from this offset of the same buffer. */
    readonly readBytes: number,
  ) {
    httpReset(this.st, 0);
  }

  /** Answers buf[0, n) (a read) into buf from readBytes on; returns the answer's length. */
  reply(buf: Uint8Array, n: number): number {
    return this.responder.reply(this.st, 0, buf, 0, n, buf, this.readBytes);
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
