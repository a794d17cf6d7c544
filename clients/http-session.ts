/**
 * The client's http session mode: each message is one HTTP/1.1 request on
 * a keep-alive connection (one in flight per session, as StableEchoClnt
 * keeps one echo in flight), and its answer is checked as it arrives:
 * status 200, a Content-Length, and for POST a body equal byte for byte to
 * the body sent (the same shifting pattern as echo messages, so a stale or
 * misrouted answer is caught the same way). Anything else is a mismatch.
 *
 * Like the echo loop, nothing is allocated per message: per-session state
 * is typed arrays indexed by session, the request is built in one scratch
 * buffer, and the answer's head is parsed byte by byte without keeping it.
 */
import { type ByteView, byteView, verifyChunk } from "./message.js";
import type { HttpMethod } from "../contracts/client.js";

/** readable(): the answer is complete and verified. */
export const HTTP_DONE = 1;
/** readable(): the socket is drained, the answer not complete yet. */
export const HTTP_MORE = 0;
/** readable(): the answer is wrong (status, framing, body, or bytes past its end). */
export const HTTP_MISMATCH = -1;
/** readable(): the server closed before the answer was complete. */
export const HTTP_CLOSED = -2;
/** readable(): the socket failed (reset). */
export const HTTP_RESET = -3;

/** Answer parsing phases. */
const STATUS = 0; // matching "HTTP/1.1 200"
const STATUS_REST = 1; // the reason phrase, up to CR
const LINE_LF = 2; // after a CR
const LINE = 3; // start of a header line, or the empty line
const NAME = 4;
const VALUE = 5;
const SKIP = 6; // an uninteresting header's value
const HEAD_LF = 7; // after the empty line's CR
const BODY = 8;

const STATUS_PREFIX = Buffer.from("HTTP/1.1 200");
const CONTENT_LENGTH = Buffer.from("content-length");
/** pos value of a NAME that can no longer be Content-Length. */
const OTHER = -1;

/** The per-worker http sessions: request building and answer checking. */
export class HttpSessions {
  private readonly request: Buffer;
  private readonly headLength: number;
  private readonly requestLength: number;
  private readonly scratch: Buffer;
  private readonly scratchView: ByteView;
  private readonly patternView: ByteView;

  private readonly sent: Int32Array;
  private readonly phase: Uint8Array;
  private readonly pos: Int32Array;
  private readonly length: Int32Array; // Content-Length being read, then body bytes still to come
  private readonly bodyGot: Int32Array;
  private readonly hasLength: Uint8Array;
  /** Bytes of answers received since the last takeReceived(). */
  private received = 0;

  constructor(
    readonly method: HttpMethod,
    host: string,
    private readonly sizeBytes: number,
    private readonly pattern: Buffer,
    sessions: number,
    scratchBytes: number,
  ) {
    const head = method === "POST" ? `POST /echo HTTP/1.1\r\nHost: ${host}\r\nContent-Length: ${sizeBytes}\r\n\r\n` : `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    this.headLength = Buffer.byteLength(head);
    this.requestLength = this.headLength + (method === "POST" ? sizeBytes : 0);
    this.request = Buffer.allocUnsafeSlow(this.requestLength);
    this.request.write(head, 0, "latin1");
    this.scratch = Buffer.allocUnsafeSlow(scratchBytes);
    this.scratchView = byteView(this.scratch);
    this.patternView = byteView(pattern);
    this.sent = new Int32Array(sessions);
    this.phase = new Uint8Array(sessions);
    this.pos = new Int32Array(sessions);
    this.length = new Int32Array(sessions);
    this.bodyGot = new Int32Array(sessions);
    this.hasLength = new Uint8Array(sessions);
  }

  /** A new request on session s: nothing sent, no answer yet. */
  start(s: number): void {
    this.sent[s] = 0;
    this.phase[s] = STATUS;
    this.pos[s] = 0;
    this.length[s] = 0;
    this.bodyGot[s] = 0;
    this.hasLength[s] = 0;
  }

  /** True while part of session s's request is still to send. */
  unsent(s: number): boolean {
    return (this.sent[s] as number) < this.requestLength;
  }

  /**
   * Sends what is left of session s's request (its body is the pattern at
   * `shift`); returns send()'s result. The request is rebuilt in the
   * scratch on every call: cheap, and a short send resumes correctly.
   */
  sendSome(send: (fd: number, buf: Uint8Array, off: number, len: number) => number, fd: number, s: number, shift: number): number {
    if (this.method === "POST") this.pattern.copy(this.request, this.headLength, shift, shift + this.sizeBytes);
    const sent = this.sent[s] as number;
    const r = send(fd, this.request, sent, this.requestLength - sent);
    if (r > 0) this.sent[s] = sent + r;
    return r;
  }

  /** Bytes of answers read since the last call. */
  takeReceived(): number {
    const r = this.received;
    this.received = 0;
    return r;
  }

  /**
   * Reads session s's socket until its answer is complete or the socket is
   * drained (edge-triggered: read until recv says so); `shift` is the POST
   * body's place in the pattern. Returns HTTP_DONE, HTTP_MORE or an error.
   */
  readable(recv: (fd: number, buf: Uint8Array, off: number, len: number) => number, fd: number, s: number, shift: number, eagain: number, eintr: number): number {
    const scratch = this.scratch;
    for (;;) {
      const r = recv(fd, scratch, 0, scratch.length);
      if (r === 0) return HTTP_CLOSED;
      if (r < 0) {
        if (r === eagain) return HTTP_MORE;
        if (r === eintr) continue;
        return HTTP_RESET;
      }
      this.received += r;
      const v = this.take(s, shift, r);
      if (v !== HTTP_MORE) return v;
      if (r < scratch.length) return HTTP_MORE; // drained
    }
  }

  /** Parses scratch[0, n) as the continuation of session s's answer. */
  private take(s: number, shift: number, n: number): number {
    const b = this.scratch;
    let phase = this.phase[s] as number;
    let pos = this.pos[s] as number;
    let length = this.length[s] as number;
    let i = 0;
    let result = HTTP_MORE;
    while (i < n) {
      if (phase === BODY) {
        const take = Math.min(length, n - i);
        if (this.method === "POST" && !verifyChunk(this.patternView, shift, this.bodyGot[s] as number, this.scratchView, i, take)) return HTTP_MISMATCH;
        this.bodyGot[s] = (this.bodyGot[s] as number) + take;
        length -= take;
        i += take;
        if (length === 0) {
          result = HTTP_DONE;
          break;
        }
        continue;
      }
      const c = b[i++] as number;
      switch (phase) {
        case STATUS:
          if (c !== STATUS_PREFIX[pos]) return HTTP_MISMATCH;
          if (++pos === STATUS_PREFIX.length) phase = STATUS_REST;
          break;
        case STATUS_REST:
        case SKIP:
          if (c === 13) phase = LINE_LF;
          break;
        case LINE_LF:
          if (c !== 10) return HTTP_MISMATCH;
          phase = LINE;
          break;
        case LINE:
          if (c === 13) phase = HEAD_LF;
          else {
            phase = NAME;
            pos = (c | 0x20) === CONTENT_LENGTH[0] ? 1 : OTHER;
          }
          break;
        case NAME:
          if (c === 58) {
            if (pos === CONTENT_LENGTH.length) {
              if (this.hasLength[s] === 1) return HTTP_MISMATCH;
              this.hasLength[s] = 1;
              length = 0;
              phase = VALUE;
            } else phase = SKIP;
          } else if (pos !== OTHER) pos = (c | 0x20) === CONTENT_LENGTH[pos] ? pos + 1 : OTHER;
          break;
        case VALUE:
          if (c === 13) phase = LINE_LF;
          else if (c >= 48 && c <= 57) {
            length = length * 10 + (c - 48);
            if (length > 0x3fffffff) return HTTP_MISMATCH;
          } else if (c !== 32 && c !== 9) return HTTP_MISMATCH;
          break;
        case HEAD_LF:
          if (c !== 10 || this.hasLength[s] === 0) return HTTP_MISMATCH; // Content-Length framing only
          if (this.method === "POST" && length !== this.sizeBytes) return HTTP_MISMATCH;
          if (length === 0) result = HTTP_DONE;
          else phase = BODY;
          break;
      }
      if (result === HTTP_DONE) break;
    }
    this.phase[s] = phase;
    this.pos[s] = pos;
    this.length[s] = length;
    // One request is in flight: bytes past its answer are an answer nobody asked for.
    if (result === HTTP_DONE && i < n) return HTTP_MISMATCH;
    return result;
  }
}
