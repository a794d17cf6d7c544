/**
 * The chat protocol (exercise 6 of the chapter): every frame a client sends
 * is relayed, whole and unchanged, to every connected client (the sender
 * included, so a lone client sees its own frames come back).
 *
 * Frame format (both directions, byte-identical on the way out):
 *
 *     +----------------+---------------------------+
 *     | length: uint32 | payload: `length` bytes   |
 *     | big-endian     | (opaque to the server)    |
 *     +----------------+---------------------------+
 *
 * - 1 <= length <= maxFrameBytes (the payload; the header is not counted).
 * - length 0 is malformed; length > maxFrameBytes is oversized. Either
 *   closes the connection that sent it (counted); the server carries on.
 *   An oversized frame is refused as soon as its header arrives: the server
 *   never buffers more than one maximum frame per connection.
 * - Frames from different senders never interleave: each is queued whole
 *   on each receiver's output.
 * - Each connection's output is bounded (ServerOptions.bufferBytes): a
 *   client whose backlog would pass it is dropped (counted), so a client
 *   that stops reading costs the others nothing.
 *
 * This file is the pure part every model shares (framing, the bounded
 * output ring, the counters); how a frame reaches sockets other threads own
 * is each model's own idiom and lives in its chat section.
 */
import { DEFAULT_MAX_FRAME_BYTES } from "../contracts/server.js";

/** Bytes of the length prefix. */
export const HEADER_BYTES = 4;
/** What is wrong with a frame that closes its connection. */
export type FrameError = "oversized" | "malformed";

/** The whole frame (header + payload) for a payload. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

function lengthAt(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

/** The error of the header at buf[at, at+4), or null if it announces a valid frame. */
function headerError(buf: Uint8Array, at: number, maxFrameBytes: number): FrameError | null {
  const payload = lengthAt(buf, at);
  if (payload === 0) return "malformed";
  return payload > maxFrameBytes ? "oversized" : null;
}

/**
 * Finds the complete frames in buf[start, end) and calls onFrame(start,
 * length) for each (the whole frame: header included). Returns the offset
 * of the first byte not yet part of a complete frame (end if none), or the
 * error of the first bad header. Models that keep a partial frame in their
 * own receive buffer (iocp) call this directly; the others use FrameReader.
 */
export function scanFrames(
  buf: Uint8Array,
  start: number,
  end: number,
  maxFrameBytes: number,
  onFrame: (at: number, length: number) => void,
): number | FrameError {
  let at = start;
  while (end - at >= HEADER_BYTES) {
    const bad = headerError(buf, at, maxFrameBytes);
    if (bad !== null) return bad;
    const whole = HEADER_BYTES + lengthAt(buf, at);
    if (end - at < whole) break;
    onFrame(at, whole);
    at += whole;
  }
  return at;
}

/**
 * Cuts a byte stream into frames, whatever the reads' boundaries. A frame
 * that arrives in one read is handed out as a view on that read's buffer (no
 * copy); one split across reads is assembled in a buffer made when first
 * needed, as large as the largest frame split so far (at most one maximum
 * frame). Made up front, it cost every connection a maximum frame, and
 * every short-lived connection (the soak's injector opens 100 a second)
 * left one as garbage.
 */
export class FrameReader {
  private partial = new Uint8Array(0);
  private have = 0;

  constructor(readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes this reader keeps for split frames. */
  get bufferBytes(): number {
    return this.partial.length;
  }

  /** Forgets any held partial frame (the reader is reused for a new connection). */
  reset(): void {
    this.have = 0;
  }

  /** Bytes of an incomplete frame held from earlier reads. */
  get pendingBytes(): number {
    return this.have;
  }

  /**
   * Feeds data[off, off+len); onFrame gets each whole frame (header
   * included), valid only during the call. Returns null, or the error that
   * must close the connection (no frame after it is handed out).
   */
  push(data: Uint8Array, off: number, len: number, onFrame: (frame: Uint8Array) => void): FrameError | null {
    let at = off;
    const end = off + len;
    if (this.have > 0) {
      // Complete the held frame: first its header, then its payload.
      if (this.have < HEADER_BYTES) {
        at = this.fill(data, at, end, HEADER_BYTES);
        if (this.have < HEADER_BYTES) return null;
        const bad = headerError(this.partial, 0, this.maxFrameBytes);
        if (bad !== null) return bad;
      }
      const need = HEADER_BYTES + lengthAt(this.partial, 0);
      at = this.fill(data, at, end, need);
      if (this.have < need) return null;
      this.have = 0;
      onFrame(this.partial.subarray(0, need));
    }
    const rest = scanFrames(data, at, end, this.maxFrameBytes, (start, length) => onFrame(data.subarray(start, start + length)));
    if (typeof rest === "string") return rest;
    if (rest < end) {
      // A whole header here was checked by scanFrames: an oversized frame has failed already.
      this.room(end - rest >= HEADER_BYTES ? HEADER_BYTES + lengthAt(data, rest) : HEADER_BYTES);
      this.partial.set(data.subarray(rest, end), 0);
      this.have = end - rest;
    }
    return null;
  }

  /** Makes the held frame's buffer hold `bytes`, keeping what it holds. */
  private room(bytes: number): void {
    if (bytes <= this.partial.length) return;
    const grown = new Uint8Array(bytes);
    grown.set(this.partial.subarray(0, this.have));
    this.partial = grown;
  }

  /** Copies from data[at, end) into the held frame until it has `upTo` bytes; returns the new `at`. */
  private fill(data: Uint8Array, at: number, end: number, upTo: number): number {
    const take = Math.min(upTo - this.have, end - at);
    this.room(upTo);
    this.partial.set(data.subarray(at, at + take), this.have);
    this.have += take;
    return at + take;
  }
}

/** Cells of an OutRing's state. */
const RING_HEAD = 0; // offset of the first queued byte
const RING_SIZE = 1; // bytes queued (in flight included)
/** Int32 cells one OutRing's state takes. */
export const RING_INTS = 2;

/**
 * A connection's bounded output: frames queued whole in a ring of
 * `buf.length` bytes (the cap), sent from its head. The state lives in an
 * Int32Array so the ring can sit in shared memory (iocp: any worker
 * queues, under the connection's lock); the buffer may be a view on a
 * SharedArrayBuffer so the kernel can send straight from it.
 */
export class OutRing {
  constructor(
    readonly buf: Uint8Array,
    private readonly state: Int32Array = new Int32Array(RING_INTS),
    private readonly base: number = 0,
  ) {}

  /** Bytes queued. */
  get size(): number {
    return this.state[this.base + RING_SIZE]!;
  }

  /** Queues the whole frame, or returns false (nothing queued) when it does not fit: the connection's backlog is over the cap. */
  put(frame: Uint8Array): boolean {
    const cap = this.buf.length;
    const size = this.size;
    if (size + frame.length > cap) return false;
    const tail = (this.state[this.base + RING_HEAD]! + size) % cap;
    const first = Math.min(frame.length, cap - tail);
    this.buf.set(frame.subarray(0, first), tail);
    if (first < frame.length) this.buf.set(frame.subarray(first), 0);
    this.state[this.base + RING_SIZE] = size + frame.length;
    return true;
  }

  /** Offset of the next bytes to send. */
  get head(): number {
    return this.state[this.base + RING_HEAD]!;
  }

  /** How many bytes from head can go in one send (up to the ring's end). */
  get contiguous(): number {
    return Math.min(this.size, this.buf.length - this.head);
  }

  /** n bytes from head were sent. */
  consume(n: number): void {
    const size = this.size - n;
    this.state[this.base + RING_SIZE] = size;
    // Back to 0 when empty, so small frames rarely wrap.
    this.state[this.base + RING_HEAD] = size === 0 ? 0 : (this.head + n) % this.buf.length;
  }

  /** Forgets everything queued. */
  clear(): void {
    this.state[this.base + RING_HEAD] = 0;
    this.state[this.base + RING_SIZE] = 0;
  }
}

/** What a chat server counts, for the run's record. */
export interface ChatCounts {
  /** Frames received whole and relayed. */
  frames: number;
  /** Connections closed for a frame longer than maxFrameBytes. */
  oversized: number;
  /** Connections closed for a frame of length 0. */
  malformed: number;
  /** Connections dropped because their output backlog passed the cap (a client not reading). */
  slowDropped: number;
}

const COUNT_NAMES = ["frames", "oversized", "malformed", "slowDropped"] as const;

/** ChatCounts in shared memory, so every thread of a server adds to one set. */
export class ChatCounters {
  private readonly cells: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4 * COUNT_NAMES.length)) {
    this.cells = new Int32Array(buffer);
  }

  add(name: keyof ChatCounts, n = 1): void {
    Atomics.add(this.cells, COUNT_NAMES.indexOf(name), n);
  }

  /** Counts a frame error by its kind. */
  badFrame(error: FrameError): void {
    this.add(error);
  }

  read(): ChatCounts {
    const c = this.cells;
    return { frames: Atomics.load(c, 0), oversized: Atomics.load(c, 1), malformed: Atomics.load(c, 2), slowDropped: Atomics.load(c, 3) };
  }
}
