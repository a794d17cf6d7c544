/**
 * The echo protocol, the seed programs' own: every byte a connection
 * receives is sent back on it, in order, until the client closes. It works
 * with the seed client, `nc`, sockperf and any echo client.
 *
 * The loops that move the bytes belong to the model files (they ARE the
 * models); this file holds only what every model means by "echo": how much
 * one connection may hold, which errors just end a connection, and how a
 * blocking send is finished. Chat and HTTP will sit beside it as
 * protocol/chat.ts and protocol/http.ts.
 */
import { sys, C, errname } from "../native/index.js";
import type { ServerOptions } from "../contracts/server.js";

/**
 * The most one read takes for one connection. Every model reads no more on
 * a connection until all of that read has been sent back, so this is also
 * the most a connection holds unsent: a client that sends but never reads
 * costs the server at most this much, whatever it sends.
 */
export function perConnectionCap(options: Pick<ServerOptions, "bufferBytes">): number {
  return options.bufferBytes;
}

/**
 * The peer went away (reset, or closed while we were still sending): end
 * this connection quietly. A client may always do that; it must never take
 * the server down. EPIPE is also what send() gets after stop() shut the
 * socket down to wake a blocked thread.
 */
export function isPeerGone(r: number): boolean {
  return r === -C.ECONNRESET || r === -C.EPIPE || r === -C.ENOTCONN || r === -C.ETIMEDOUT || r === -C.ECONNABORTED;
}

/**
 * The error a model throws for a result that is neither data nor a peer
 * going away (EBADF, EFAULT, ...): a bug, which must stop the run loudly
 * rather than skew its figures.
 */
export function ioFailure(call: string, r: number): Error {
  return new Error(`${call} failed: ${errname(r)}`);
}

/**
 * Sends buf[off, off+len) on a blocking socket, all of it. A blocking
 * send() may still take only part (a signal, a large buffer), and echo owes
 * the client every byte, so loop until it is all gone. Returns 0, or the
 * -errno that ended the connection.
 */
export function sendAll(fd: number, buf: Uint8Array, off: number, len: number): number {
  while (len > 0) {
    const r = sys.send(fd, buf, off, len);
    if (r < 0) {
      if (r === -C.EINTR) continue;
      return r;
    }
    off += r;
    len -= r;
  }
  return 0;
}
