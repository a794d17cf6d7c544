/**
 * The node model's http side: a net.Socket whose chunks are answered by the
 * http state machine. Node hands a chunk of whatever size it read, so the
 * chunk is answered in slices of httpReadBytes(cap): when a write is refused
 * (past the high-water mark) the socket pauses and the unanswered rest of the
 * chunk waits for "drain". A connection so holds at most the high-water mark,
 * one slice's answer and one chunk, whatever the client does.
 *
 * The header timeout is a timer per connection (libuv owns the fd, so the
 * other models' table by fd cannot be used safely): armed from the accept
 * and whenever a head is left incomplete by a chunk, cleared when it
 * completes; when it fires, the connection is destroyed and counted.
 */
import type net from "node:net";
import { HttpResponder, HTTP_STATE_INTS, countHeaderTimeouts, httpHeadPending, httpMustClose, httpReadBytes, httpReplyBound, httpReset } from "./http.js";

/** This thread's responder per server (a thread serves one server; tests may start several). */
const responders = new WeakMap<SharedArrayBuffer, HttpResponder>();

function responderOf(counters: SharedArrayBuffer): HttpResponder {
  let r = responders.get(counters);
  if (r === undefined) {
    r = new HttpResponder(counters);
    responders.set(counters, r);
  }
  return r;
}

/**
 * Serves one accepted socket with the http protocol; `cap` is the
 * per-connection cap (the high-water mark); `onRead` sees each chunk's size
 * first (the model's --work).
 */
export function serveHttpSocket(socket: net.Socket, data: { counters: SharedArrayBuffer; headerTimeoutMs: number }, cap: number, onRead: (bytes: number) => void): void {
  const responder = responderOf(data.counters);
  const st = new Int32Array(HTTP_STATE_INTS);
  httpReset(st, 0);
  const step = httpReadBytes(cap);
  /** The part of a chunk not answered yet, while the socket waits for "drain". */
  let pending: Buffer | null = null;
  let clientEnded = false;
  let closing = false;
  /** Bytes answered so far: until the first request is complete, a silent connection is timed too. */
  let answered = 0;
  let late: NodeJS.Timeout | null = null;
  const expire = (): void => {
    late = null;
    countHeaderTimeouts(data.counters, 1);
    socket.destroy();
  };
  /** Times the head while one is on its way (a new connection's first included). */
  const retime = (): void => {
    const waiting = !closing && (httpHeadPending(st, 0) || answered === 0);
    if (waiting && late === null) late = setTimeout(expire, data.headerTimeoutMs);
    else if (!waiting && late !== null) {
      clearTimeout(late);
      late = null;
    }
  };

  /**
   * Answers chunk slice by slice; when the socket's buffer fills, pauses,
   * keeps the rest and returns false (wait for "drain").
   */
  const answer = (chunk: Buffer): boolean => {
    for (let off = 0; off < chunk.length && !closing; ) {
      const n = Math.min(step, chunk.length - off);
      const out = Buffer.allocUnsafe(httpReplyBound(n));
      const len = responder.reply(st, 0, chunk, off, n, out, 0);
      answered += len;
      off += n;
      if (httpMustClose(st, 0)) {
        // A refusal or a closing request was answered: close once it is out.
        closing = true;
        socket.end(out.subarray(0, len), () => socket.destroy());
        return false;
      }
      if (len > 0 && !socket.write(out.subarray(0, len))) {
        if (off < chunk.length) pending = chunk.subarray(off);
        socket.pause();
        return false;
      }
    }
    return true;
  };

  socket.on("data", (chunk: Buffer) => {
    onRead(chunk.length);
    if (!closing) answer(chunk);
    retime();
  });
  socket.on("close", () => {
    if (late !== null) clearTimeout(late);
  });
  retime();
  socket.on("drain", () => {
    const rest = pending;
    pending = null;
    const done = rest === null || answer(rest);
    retime();
    if (!done) return;
    if (closing) return;
    if (clientEnded) socket.end();
    else socket.resume();
  });
  socket.on("end", () => {
    clientEnded = true;
    if (pending === null && !closing) socket.end();
  });
}
