/**
 * The http protocol: minimal HTTP/1.1 keep-alive, so that autocannon and wrk
 * can drive any model as an outside cross-check of iobench's own client.
 *
 * - GET (any target) answers a fixed small body; POST echoes its body;
 *   bodies are framed by Content-Length only (Transfer-Encoding is refused);
 * - requests may be pipelined: each is answered in order as it completes;
 * - a malformed request is answered 400, an over-long head 431, and the
 *   connection closes after that answer; both are counted;
 * - HTTP/1.0 or `Connection: close` get their answer, then the connection
 *   closes;
 * - a request head not complete within the header timeout closes its
 *   connection (counted): from the accept for a new connection, from its
 *   first byte for a later request. An idle keep-alive connection (no byte
 *   of a next request yet) and a body being streamed are not timed.
 *
 * The parser is a byte-at-a-time state machine that keeps no bytes, only a
 * few integers per connection (HTTP_STATE_INTS cells of an Int32Array), so a
 * request may be split anywhere between reads, a connection costs 32 bytes
 * of state, and the iocp model can keep those cells in shared memory and let
 * whichever worker dequeues a read continue the parse. A POST body is
 * streamed: its answer's head goes out as soon as the request's head is
 * complete, then each body byte as it arrives, so nothing waits for a whole
 * body and nothing is buffered beyond one read.
 *
 * The header timeout is kept for all models in one table of deadlines by
 * fd in shared memory (HttpDeadlines), which a sweeper on the server's
 * main thread scans: an expired connection is shut down, which ends the
 * read its thread has in flight (or makes its next one return 0), and the
 * thread closes it as if the client had. A thread arms and disarms its
 * connection's deadline only when a head begins or ends across reads (a
 * request read whole costs nothing), and releases it before close(), so a
 * number reused by a new connection is never shut down by mistake.
 *
 * Every model keeps its memory bound: one read of at most httpReadBytes(cap)
 * bytes always answers in at most cap - that many bytes (httpReplyBound), so a
 * model that reads no more until an answer is sent holds at most `cap`.
 */

/** Int32 cells of one connection's parser state. */
export const HTTP_STATE_INTS = 8;

/** The most bytes a request's head (request line and headers) may have: past it, 431 and close. */
export const HTTP_HEAD_LIMIT = 8192;

/** The largest Content-Length accepted (1 GiB): past it, 400 and close. */
export const HTTP_MAX_CONTENT_LENGTH = 1 << 30;

/** The body every GET answers. */
export const HTTP_GET_BODY = "Hello, world!\n";

// ---- the answers, made once ----------------------------------------------------------------

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const GET_KEEP = ascii(`HTTP/1.1 200 OK\r\nContent-Length: ${HTTP_GET_BODY.length}\r\n\r\n${HTTP_GET_BODY}`);
const GET_CLOSE = ascii(`HTTP/1.1 200 OK\r\nContent-Length: ${HTTP_GET_BODY.length}\r\nConnection: close\r\n\r\n${HTTP_GET_BODY}`);
const POST_HEAD = ascii("HTTP/1.1 200 OK\r\nContent-Length: ");
const CLOSE_LINE = ascii("\r\nConnection: close");
const CRLFCRLF = ascii("\r\n\r\n");
const BAD_REQUEST = ascii("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
const HEAD_TOO_LONG = ascii("HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");

/** The longest answer head a request can produce (a POST's, with 10 digits and Connection: close). */
const MAX_HEAD_REPLY = Math.max(GET_CLOSE.length, POST_HEAD.length + 10 + CLOSE_LINE.length + CRLFCRLF.length);
/** The longest refusal. */
const MAX_REFUSAL = Math.max(BAD_REQUEST.length, HEAD_TOO_LONG.length);
/** The shortest request that gets an answer head: "GET / HTTP/1.1\r\n\r\n". */
const MIN_REQUEST = 18;

/**
 * The most bytes the answer to one read of `n` bytes can have: body bytes
 * pass 1:1, each answer head needs a request head of at least MIN_REQUEST
 * bytes (but the first may have begun in an earlier read), and a refusal
 * ends everything.
 */
export function httpReplyBound(n: number): number {
  return n + (Math.ceil(n / MIN_REQUEST) + 1) * MAX_HEAD_REPLY + MAX_REFUSAL;
}

/**
 * How many bytes one read may take when the read and its answer must fit in
 * `capBytes` together; 0 when capBytes is too small for any answer.
 */
export function httpReadBytes(capBytes: number): number {
  // bound(n) <= n + (n / MIN + 2) * H + R: solve n + bound(n) <= cap for n.
  const fixed = 2 * MAX_HEAD_REPLY + MAX_REFUSAL;
  const n = Math.floor(((capBytes - fixed) * MIN_REQUEST) / (2 * MIN_REQUEST + MAX_HEAD_REPLY));
  return Math.max(0, n);
}

/** The smallest per-connection cap (--buffer) the http protocol accepts: room for a 64-byte read. */
export const HTTP_MIN_CAP_BYTES = 64 + httpReplyBound(64);

// ---- the state machine -----------------------------------------------------------------------

/** Cells of the state. */
const S_PHASE = 0;
const S_POS = 1; // position inside the token being matched
const S_CAND = 2; // candidate bits: methods, header names or Connection values still matching
const S_LENGTH = 3; // Content-Length being read, then body bytes still to come
const S_FLAGS = 4;
const S_HEAD = 5; // bytes of the current head so far
const S_TIMED = 6; // 1 while the connection's deadline is armed

/** Phases. */
const P_METHOD = 0;
const P_TARGET = 1;
const P_VERSION = 2;
const P_REQUEST_LF = 3; // after the request line's CR
const P_LINE = 4; // at the start of a header line (or the empty line)
const P_NAME = 5;
const P_VALUE = 6;
const P_VALUE_LF = 7; // after a header line's CR
const P_HEAD_LF = 8; // after the empty line's CR
const P_BODY = 9;
const P_CLOSED = 10; // answered for the last time: read nothing more

/** Flags. */
const F_POST = 1;
const F_HAS_LENGTH = 2;
const F_CLOSE = 4; // Connection: close
const F_KEEP_ALIVE = 8; // Connection: keep-alive
const F_HTTP10 = 16;
const F_LENGTH_DIGITS = 32; // the Content-Length value has begun
const F_VALUE_ENDED = 64; // white space after a matched value: only more white space may follow

/** Methods, by candidate bit. */
const METHODS = [ascii("GET"), ascii("POST")];
const ALL_METHODS = 3;
/** Headers that matter, by candidate bit: index 0 content-length, 1 transfer-encoding, 2 connection. */
const NAMES = [ascii("content-length"), ascii("transfer-encoding"), ascii("connection")];
const ALL_NAMES = 7;
const H_LENGTH = 1;
const H_TRANSFER = 2;
const H_CONNECTION = 4;
/** Connection values, by candidate bit. */
const CONNECTION_VALUES = [ascii("close"), ascii("keep-alive")];
const VERSION = ascii("HTTP/1.");

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;

/** tchar of RFC 9110: what a method or a header name may be made of. */
const TCHAR = new Uint8Array(256);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  if (/[A-Za-z0-9!#$%&'*+\-.^_`|~]/.test(ch)) TCHAR[c] = 1;
}

function lower(b: number): number {
  return b >= 65 && b <= 90 ? b | 0x20 : b;
}

/** The candidates among `cand` whose word has `b` at `pos`. */
function narrow(words: readonly Uint8Array[], cand: number, pos: number, b: number): number {
  for (let i = 0; i < words.length; i++) {
    const bit = 1 << i;
    if ((cand & bit) !== 0 && words[i]![pos] !== b) cand &= ~bit;
  }
  return cand;
}

/** The candidate among `cand` whose word is exactly `len` long, or 0. */
function complete(words: readonly Uint8Array[], cand: number, len: number): number {
  for (let i = 0; i < words.length; i++) if ((cand & (1 << i)) !== 0 && words[i]!.length === len) return 1 << i;
  return 0;
}

/** Puts a fresh connection's state in st[at, at + HTTP_STATE_INTS). */
export function httpReset(st: Int32Array, at: number): void {
  st.fill(0, at, at + HTTP_STATE_INTS);
  st[at + S_CAND] = ALL_METHODS;
}

/** After httpReply: the connection must close once the answer written so far is sent. */
export function httpMustClose(st: Int32Array, at: number): boolean {
  return st[at + S_PHASE] === P_CLOSED;
}

/** A head is on its way: past the first byte of a request (or the connection is new) and not complete. */
function headPending(phase: number, head: number): boolean {
  return phase !== P_BODY && phase !== P_CLOSED && (phase !== P_METHOD || head > 0);
}

/** True while the head of a request on this connection has begun and is not complete (for a model that times it itself). */
export function httpHeadPending(st: Int32Array, at: number): boolean {
  return headPending(st[at + S_PHASE]!, st[at + S_HEAD]!);
}

/** What one server's threads count together (an Int32Array on shared memory). */
const C_BAD_REQUEST = 0;
const C_HEAD_TOO_LONG = 1;
const C_REQUESTS = 2;
const C_HEADER_TIMEOUT = 3;
const COUNTER_INTS = 4;

/** The http protocol's counters of one server, readable from every thread. */
export interface HttpCounts {
  /** Requests answered 200. */
  requests: number;
  /** Malformed requests answered 400 (the connection then closed). */
  badRequests: number;
  /** Heads over HTTP_HEAD_LIMIT answered 431 (the connection then closed). */
  headsTooLong: number;
  /** Connections closed because a request head was not complete within the header timeout. */
  headerTimeouts: number;
}

/** A new, zeroed counter block for one server's threads. */
export function httpCounterBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(COUNTER_INTS * 4);
}

/** Reads a counter block. */
export function httpCounts(counters: SharedArrayBuffer): HttpCounts {
  const c = new Int32Array(counters);
  return {
    requests: Atomics.load(c, C_REQUESTS),
    badRequests: Atomics.load(c, C_BAD_REQUEST),
    headsTooLong: Atomics.load(c, C_HEAD_TOO_LONG),
    headerTimeouts: Atomics.load(c, C_HEADER_TIMEOUT),
  };
}

/** Counts connections closed for a head not complete in time. */
export function countHeaderTimeouts(counters: SharedArrayBuffer, n: number): void {
  Atomics.add(new Int32Array(counters), C_HEADER_TIMEOUT, n);
}

// ---- the header timeout -------------------------------------------------------------------

/** How often the sweeper looks at the deadlines (and the clock they count in advances), ms. */
export const HTTP_SWEEP_MS = 100;

/** Cells of a deadlines table before the one per fd. */
const D_CLOCK = 0; // sweeps so far (the clock deadlines are in)
const D_HIGH = 1; // the highest fd ever opened + 1: the sweep looks no further
const D_TICKS = 2; // the timeout, in sweeps
const D_FDS = 3;
/** A deadline being acted on by the sweeper: the owner waits before it closes the fd. */
const LOCKED = -1;
/** A connection the sweeper shut down: nothing arms it again until it is released. */
const EXPIRED = -2;

/**
 * The header deadlines of one server's connections, by fd, in shared
 * memory: 0 (not timed), a sweep count (the deadline), LOCKED or EXPIRED.
 * fds at or past the table's size (the open-file limit when the server
 * started) are not timed.
 */
export class HttpDeadlines {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  /** A table for fds below `fdLimit`, timing heads out after timeoutMs. */
  static create(timeoutMs: number, fdLimit: number): SharedArrayBuffer {
    const buffer = new SharedArrayBuffer((D_FDS + fdLimit) * 4);
    const cells = new Int32Array(buffer);
    cells[D_CLOCK] = 1;
    cells[D_TICKS] = Math.ceil(timeoutMs / HTTP_SWEEP_MS);
    return buffer;
  }

  private deadline(): number {
    // + 1: the sweep now under way may be nearly over.
    return Atomics.load(this.cells, D_CLOCK) + Atomics.load(this.cells, D_TICKS) + 1;
  }

  /** A new connection: its clock starts now. */
  open(fd: number): void {
    const at = D_FDS + fd;
    if (at >= this.cells.length) return;
    for (let high = Atomics.load(this.cells, D_HIGH); high < fd + 1; high = Atomics.load(this.cells, D_HIGH)) {
      if (Atomics.compareExchange(this.cells, D_HIGH, high, fd + 1) === high) break;
    }
    Atomics.store(this.cells, at, this.deadline());
  }

  /** A head has begun: time it (unless the sweeper has the connection). */
  arm(fd: number): void {
    const at = D_FDS + fd;
    if (at < this.cells.length) Atomics.compareExchange(this.cells, at, 0, this.deadline());
  }

  /** The head is complete: stop timing it (unless the sweeper has the connection). */
  disarm(fd: number): void {
    const at = D_FDS + fd;
    if (at >= this.cells.length) return;
    const v = Atomics.load(this.cells, at);
    if (v > 0) Atomics.compareExchange(this.cells, at, v, 0);
  }

  /** Before close(fd): waits out a sweeper acting on it, then frees the cell. */
  release(fd: number): void {
    const at = D_FDS + fd;
    if (at >= this.cells.length) return;
    for (;;) {
      const v = Atomics.load(this.cells, at);
      if (v === LOCKED) Atomics.wait(this.cells, at, LOCKED, 1);
      else if (Atomics.compareExchange(this.cells, at, v, 0) === v) return;
    }
  }

  /** One sweep: advances the clock, calls expire(fd) for each connection past its deadline; returns how many. */
  sweep(expire: (fd: number) => void): number {
    const now = Atomics.add(this.cells, D_CLOCK, 1) + 1;
    const end = D_FDS + Math.min(Atomics.load(this.cells, D_HIGH), this.cells.length - D_FDS);
    let n = 0;
    for (let at = D_FDS; at < end; at++) {
      const v = Atomics.load(this.cells, at);
      if (v <= 0 || v > now || Atomics.compareExchange(this.cells, at, v, LOCKED) !== v) continue;
      expire(at - D_FDS);
      n++;
      Atomics.store(this.cells, at, EXPIRED);
      Atomics.notify(this.cells, at);
    }
    return n;
  }
}

/**
 * One thread's http answerer. The per-connection state lives wherever the
 * model keeps it (an Int32Array and an offset); this object holds only the
 * server's shared counters.
 */
export class HttpResponder {
  private readonly counters: Int32Array;
  /** Requests answered since the last flush to the shared counter (one Atomics.add per read, not per request). */
  private answered = 0;
  private readonly deadlines: HttpDeadlines | null;

  /** `deadlines`: the server's HttpDeadlines buffer, or null when the model times heads itself. */
  constructor(counters: SharedArrayBuffer, deadlines: SharedArrayBuffer | null = null) {
    this.counters = new Int32Array(counters);
    this.deadlines = deadlines === null ? null : new HttpDeadlines(deadlines);
  }

  /** A new connection on `fd`: its state reset at st[at...], its head timed from now. */
  open(st: Int32Array, at: number, fd: number): void {
    httpOpen(st, at, fd, this.deadlines);
  }

  /** Before close(fd) (see HttpDeadlines.release). */
  release(fd: number): void {
    this.deadlines?.release(fd);
  }

  /**
   * Parses input[inOff, inOff + n) as the continuation of the connection
   * whose state is at st[at...], writes the answers it completes to out
   * from outOff, and returns how many bytes it wrote (at most
   * httpReplyBound(n); out must have that much room). After a refusal or a
   * closing answer, httpMustClose is true and further input is ignored.
   * `fd` is the connection's, for its header deadline (-1: not timed).
   */
  reply(st: Int32Array, at: number, input: Uint8Array, inOff: number, n: number, out: Uint8Array, outOff: number, fd = -1): number {
    if (out.length - outOff < httpReplyBound(n)) throw new RangeError(`http: ${out.length - outOff} bytes of answer room for a ${n}-byte read (needs ${httpReplyBound(n)})`);
    let phase = st[at + S_PHASE]!;
    let pos = st[at + S_POS]!;
    let cand = st[at + S_CAND]!;
    let length = st[at + S_LENGTH]!;
    let flags = st[at + S_FLAGS]!;
    let head = st[at + S_HEAD]!;
    let o = outOff;
    let i = inOff;
    const end = inOff + n;
    let refusal: Uint8Array | null = null;

    while (i < end && phase !== P_CLOSED) {
      if (phase === P_BODY) {
        const take = Math.min(length, end - i);
        if ((flags & F_POST) !== 0) {
          if (take <= 32) for (let k = 0; k < take; k++) out[o + k] = input[i + k]!;
          else out.set(input.subarray(i, i + take), o);
          o += take;
        }
        i += take;
        length -= take;
        if (length === 0) {
          if ((flags & F_CLOSE) !== 0) phase = P_CLOSED;
          else {
            phase = P_METHOD;
            cand = ALL_METHODS;
          }
        }
        continue;
      }
      const b = input[i++]!;
      if (++head > HTTP_HEAD_LIMIT) {
        refusal = HEAD_TOO_LONG;
        break;
      }
      switch (phase) {
        case P_METHOD:
          if (b === SP) {
            const m = complete(METHODS, cand, pos);
            if (m === 0) refusal = BAD_REQUEST;
            else {
              flags = m === 2 ? F_POST : 0;
              phase = P_TARGET;
              pos = 0;
            }
          } else if (TCHAR[b] === 1 && pos < 4) {
            cand = narrow(METHODS, cand, pos++, b);
          } else refusal = BAD_REQUEST;
          break;
        case P_TARGET:
          if (b === SP && pos > 0) {
            phase = P_VERSION;
            pos = 0;
          } else if (b > SP && b < 127) pos = 1;
          else refusal = BAD_REQUEST;
          break;
        case P_VERSION:
          if (pos < VERSION.length) {
            if (b === VERSION[pos]) pos++;
            else refusal = BAD_REQUEST;
          } else if (pos === VERSION.length && (b === 48 || b === 49)) {
            if (b === 48) flags |= F_HTTP10;
            pos++;
          } else if (pos > VERSION.length && b === CR) phase = P_REQUEST_LF;
          else refusal = BAD_REQUEST;
          break;
        case P_REQUEST_LF:
        case P_VALUE_LF:
          if (b === LF) phase = P_LINE;
          else refusal = BAD_REQUEST;
          break;
        case P_LINE:
          if (b === CR) phase = P_HEAD_LF;
          else if (TCHAR[b] === 1) {
            phase = P_NAME;
            cand = narrow(NAMES, ALL_NAMES, 0, lower(b));
            pos = 1;
          } else refusal = BAD_REQUEST; // includes obs-fold (a line starting with white space)
          break;
        case P_NAME:
          if (b === COLON) {
            cand = complete(NAMES, cand, pos);
            if (cand === H_TRANSFER) refusal = BAD_REQUEST; // Content-Length only
            else if (cand === H_LENGTH && (flags & F_HAS_LENGTH) !== 0) refusal = BAD_REQUEST; // a second Content-Length
            else {
              if (cand === H_LENGTH) {
                flags = (flags | F_HAS_LENGTH) & ~F_LENGTH_DIGITS;
                length = 0;
              } else if (cand === H_CONNECTION) cand = 3 << 8; // both Connection values, shifted clear of the name bits
              flags &= ~F_VALUE_ENDED;
              phase = P_VALUE;
              pos = 0;
            }
          } else if (TCHAR[b] === 1) {
            if (cand !== 0) cand = narrow(NAMES, cand, pos, lower(b));
            pos++;
          } else refusal = BAD_REQUEST;
          break;
        case P_VALUE:
          if (b === CR) {
            if (cand === H_LENGTH && (flags & F_LENGTH_DIGITS) === 0) refusal = BAD_REQUEST; // Content-Length with no digits
            else if (cand >= 1 << 8) {
              const v = complete(CONNECTION_VALUES, cand >> 8, pos);
              if (v === 1) flags |= F_CLOSE;
              else if (v === 2) flags |= F_KEEP_ALIVE;
            }
            phase = P_VALUE_LF;
          } else if (b === SP || b === HTAB) {
            if ((cand === H_LENGTH && (flags & F_LENGTH_DIGITS) !== 0) || (cand >= 1 << 8 && pos > 0)) flags |= F_VALUE_ENDED;
          } else if ((b < SP && b !== HTAB) || b === 127) {
            refusal = BAD_REQUEST;
          } else if (cand === H_LENGTH) {
            const d = b - 48;
            if (d < 0 || d > 9 || (flags & F_VALUE_ENDED) !== 0 || length > (HTTP_MAX_CONTENT_LENGTH - d) / 10) refusal = BAD_REQUEST;
            else {
              length = length * 10 + d;
              flags |= F_LENGTH_DIGITS;
            }
          } else if (cand >= 1 << 8) {
            cand = (flags & F_VALUE_ENDED) !== 0 ? 0 : narrow(CONNECTION_VALUES, cand >> 8, pos++, lower(b)) << 8;
          }
          break;
        case P_HEAD_LF:
          if (b !== LF) {
            refusal = BAD_REQUEST;
            break;
          }
          // The head is complete: answer it.
          this.answered++;
          if ((flags & F_HTTP10) !== 0 && (flags & F_KEEP_ALIVE) === 0) flags |= F_CLOSE;
          if ((flags & F_HAS_LENGTH) === 0) length = 0;
          if ((flags & F_POST) !== 0) o = writePostHead(out, o, length, (flags & F_CLOSE) !== 0);
          else {
            const a = (flags & F_CLOSE) !== 0 ? GET_CLOSE : GET_KEEP;
            out.set(a, o);
            o += a.length;
          }
          head = 0;
          pos = 0;
          if (length > 0) phase = P_BODY; // a GET's body is read and dropped
          else if ((flags & F_CLOSE) !== 0) phase = P_CLOSED;
          else {
            phase = P_METHOD;
            cand = ALL_METHODS;
          }
          break;
      }
      if (refusal !== null) break;
    }

    if (refusal !== null) {
      Atomics.add(this.counters, refusal === BAD_REQUEST ? C_BAD_REQUEST : C_HEAD_TOO_LONG, 1);
      out.set(refusal, o);
      o += refusal.length;
      phase = P_CLOSED;
    }
    if (this.answered !== 0) {
      Atomics.add(this.counters, C_REQUESTS, this.answered);
      this.answered = 0;
    }
    st[at + S_PHASE] = phase;
    st[at + S_POS] = pos;
    st[at + S_CAND] = cand;
    st[at + S_LENGTH] = length;
    st[at + S_FLAGS] = flags;
    st[at + S_HEAD] = head;
    if (this.deadlines !== null && fd >= 0) {
      // Touch the shared table only when a head begins or ends across reads.
      const pending = headPending(phase, head);
      if (pending !== (st[at + S_TIMED] === 1)) {
        if (pending) this.deadlines.arm(fd);
        else this.deadlines.disarm(fd);
        st[at + S_TIMED] = pending ? 1 : 0;
      }
    }
    return o - outOff;
  }
}

/** A new connection's state at st[at...], its head timed from now in `deadlines` (if given). */
export function httpOpen(st: Int32Array, at: number, fd: number, deadlines: HttpDeadlines | null): void {
  httpReset(st, at);
  if (deadlines === null) return;
  deadlines.open(fd);
  st[at + S_TIMED] = 1;
}

/** "HTTP/1.1 200 OK\r\nContent-Length: <length>[\r\nConnection: close]\r\n\r\n" at out[o]; returns the new end. */
function writePostHead(out: Uint8Array, o: number, length: number, close: boolean): number {
  out.set(POST_HEAD, o);
  o += POST_HEAD.length;
  let digits = 1;
  for (let x = length; x >= 10; x = Math.floor(x / 10)) digits++;
  for (let k = digits - 1, x = length; k >= 0; k--, x = Math.floor(x / 10)) out[o + k] = 48 + (x % 10);
  o += digits;
  if (close) {
    out.set(CLOSE_LINE, o);
    o += CLOSE_LINE.length;
  }
  out.set(CRLFCRLF, o);
  return o + CRLFCRLF.length;
}
