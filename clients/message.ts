/**
 * Message content: what each session sends and how its echo is checked.
 *
 * One read-only random pattern P of `size + SHIFT_SPAN` bytes is shared by
 * every session. Message (session s, seq n) is P[shift, shift + size) with
 * shift = (s * SHIFT_STRIDE + n) mod SHIFT_SPAN, so a session sends straight
 * out of P (no per-session send buffer) and checks its echo against P.
 * P is deterministic (seeded), so each worker thread builds its own
 * identical copy in plain memory: V8 reads a SharedArrayBuffer more slowly.
 *
 * What this catches:
 * - a stale echo (the previous message of the same session, or a byte echoed
 *   twice): consecutive seqs use shifts one apart, and P never repeats a byte
 *   at adjacent positions (P[i] !== P[i+1], including the wrap from
 *   SHIFT_SPAN - 1 to 0), so the very first stale byte differs;
 * - a flipped, lost or reordered byte: P is xorshift noise, not periodic;
 * - a misrouted echo (another session's bytes): caught unless both sessions'
 *   current shifts happen to be equal, i.e. (s1 - s2) * SHIFT_STRIDE + (n1 - n2)
 *   ≡ 0 mod SHIFT_SPAN. With random seq drift that is a 1 in 65536 chance per
 *   misrouted message, so a systematic misroute is still caught quickly.
 */

/** Number of distinct message shifts (P is this much longer than one message). */
export const SHIFT_SPAN = 65536;

/** Odd, so seq n and n+1 never map to the same shift; ≈ SHIFT_SPAN / golden ratio to spread sessions. */
export const SHIFT_STRIDE = 40503;

/** Up to this many bytes a JS word loop beats the call into Buffer.compare (measured: crossover near 200-250 B). */
const COMPARE_LOOP_MAX = 192;

/** The pattern's default seed; any non-zero 32-bit value works. */
export const DEFAULT_PATTERN_SEED = 0x9e3779b9;

/**
 * Fills `out` with the shared pattern: xorshift32 noise in which no byte
 * equals its neighbour and P[0] !== P[SHIFT_SPAN - 1] (the shift wrap).
 * Deterministic for a given seed, so every thread could rebuild it.
 */
export function fillPattern(out: Uint8Array, seed: number = DEFAULT_PATTERN_SEED): void {
  let x = seed | 0 || 1;
  let prev = -1;
  for (let i = 0; i < out.length; i++) {
    let b: number;
    do {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b = x & 0xff;
    } while (b === prev || (i === SHIFT_SPAN - 1 && b === out[0]));
    out[i] = b;
    prev = b;
  }
}

/**
 * Allocates and fills the pattern for messages of `size` bytes. With
 * `shared`, it lives in a SharedArrayBuffer so worker threads can read the
 * very same bytes without a copy.
 */
export function makePattern(size: number, shared = false, seed: number = DEFAULT_PATTERN_SEED): Buffer {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`message size must be a positive integer, got ${size}`);
  const length = size + SHIFT_SPAN;
  const p = shared ? Buffer.from(new SharedArrayBuffer(length)) : Buffer.alloc(length);
  fillPattern(p, seed);
  return p;
}

/** Where message (session, seq) starts in the pattern. Integer maths only: called once per message. */
export function messageShift(session: number, seq: number): number {
  return (Math.imul(session, SHIFT_STRIDE) + seq) & (SHIFT_SPAN - 1);
}

/**
 * Bytes with a DataView over them, made once per buffer: verification reads
 * 4 bytes at a time through the view (V8 bounds-checks every Uint8Array
 * access, so a byte loop costs ~2 ns per byte).
 */
export interface ByteView {
  readonly bytes: Buffer;
  readonly view: DataView;
}

/** Wraps a buffer for verifyChunk (do it once, not per message). */
export function byteView(bytes: Buffer): ByteView {
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

/**
 * Checks an echoed chunk: `len` bytes of `chunk` from `chunkOff` must equal
 * the message at `shift` from byte `received` on. Returns true when equal.
 * Call it right after every recv, so a long message is verified as it
 * arrives and no per-session receive buffer is needed.
 */
export function verifyChunk(pattern: ByteView, shift: number, received: number, chunk: ByteView, chunkOff: number, len: number): boolean {
  const base = shift + received;
  if (len > COMPARE_LOOP_MAX) {
    return chunk.bytes.compare(pattern.bytes, base, base + len, chunkOff, chunkOff + len) === 0;
  }
  const pv = pattern.view;
  const cv = chunk.view;
  // OR of XORs, no early exit: a mismatch is rare, a branch per word is not.
  let diff = 0;
  let i = 0;
  for (; i + 8 <= len; i += 8) {
    diff |= (cv.getInt32(chunkOff + i, true) ^ pv.getInt32(base + i, true)) | (cv.getInt32(chunkOff + i + 4, true) ^ pv.getInt32(base + i + 4, true));
  }
  const pb = pattern.bytes;
  const cb = chunk.bytes;
  for (; i < len; i++) diff |= (cb[chunkOff + i] as number) ^ (pb[base + i] as number);
  return diff === 0;
}

/** Index of the first byte where `chunk` departs from the message, or -1: for error messages and tests. */
export function firstMismatch(pattern: Uint8Array, shift: number, received: number, chunk: Uint8Array, chunkOff: number, len: number): number {
  const base = shift + received;
  for (let i = 0; i < len; i++) {
    if (chunk[chunkOff + i] !== pattern[base + i]) return i;
  }
  return -1;
}

/**
 * The POST body an outside tool (autocannon, wrk) sends every time: they
 * send one fixed string, so it is printable ASCII (one byte per character
 * in any encoding), drawn from the pattern so it is not periodic.
 */
export function outsideToolBody(size: number): string {
  const p = makePattern(size);
  let s = "";
  for (let i = 0; i < size; i++) s += String.fromCharCode(33 + ((p[i] as number) % 94));
  return s;
}
