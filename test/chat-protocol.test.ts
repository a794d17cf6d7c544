/**
 * The chat framing (protocol/chat.ts), pure: a stream cut at every
 * possible boundary yields the same frames; bad headers are caught wherever
 * they are split; the output ring keeps frames whole and bounded.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ChatCounters, FrameReader, HEADER_BYTES, OutRing, encodeFrame, scanFrames } from "../protocol/chat.js";

function payload(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

/** Three frames of different sizes, one of 1 byte, back to back. */
const FRAMES = [payload(5, 1), payload(1, 2), payload(9, 3)].map(encodeFrame);
const STREAM = Uint8Array.from(FRAMES.flatMap((f) => [...f]));

function feed(reader: FrameReader, pieces: Uint8Array[]): { frames: number[][]; error: string | null } {
  const frames: number[][] = [];
  for (const p of pieces) {
    const error = reader.push(p, 0, p.length, (f) => frames.push([...f]));
    if (error !== null) return { frames, error };
  }
  return { frames, error: null };
}

test("encodeFrame: big-endian length, then the payload", () => {
  assert.deepEqual([...encodeFrame(Uint8Array.of(9, 8, 7))], [0, 0, 0, 3, 9, 8, 7]);
  assert.deepEqual([...encodeFrame(new Uint8Array(258)).subarray(0, 4)], [0, 0, 1, 2]);
});

test("FrameReader: every split of the stream into three reads yields the same frames", () => {
  const expected = FRAMES.map((f) => [...f]);
  for (let i = 0; i <= STREAM.length; i++) {
    for (let j = i; j <= STREAM.length; j++) {
      const got = feed(new FrameReader(64), [STREAM.slice(0, i), STREAM.slice(i, j), STREAM.slice(j)]);
      assert.equal(got.error, null, `split at ${i},${j}`);
      assert.deepEqual(got.frames, expected, `split at ${i},${j}`);
    }
  }
});

test("FrameReader: one byte at a time, and the held frame is never larger than one frame", () => {
  const reader = new FrameReader(64);
  const frames: number[][] = [];
  for (const b of STREAM) {
    assert.equal(reader.push(Uint8Array.of(b), 0, 1, (f) => frames.push([...f])), null);
    assert.ok(reader.pendingBytes < HEADER_BYTES + 9);
  }
  assert.deepEqual(frames, FRAMES.map((f) => [...f]));
  assert.equal(reader.pendingBytes, 0);
});

test("FrameReader: keeps no buffer until a frame is split, then one as large as the largest split frame", () => {
  const reader = new FrameReader(65_536);
  const small = encodeFrame(payload(100, 1));
  const large = encodeFrame(payload(1000, 2));
  assert.deepEqual(feed(reader, [small, large]), { frames: [[...small], [...large]], error: null });
  assert.equal(reader.bufferBytes, 0, "whole frames need no buffer");
  assert.deepEqual(feed(reader, [small.slice(0, 2), small.slice(2, 50), small.slice(50)]).frames, [[...small]]);
  assert.equal(reader.bufferBytes, small.length);
  assert.deepEqual(feed(reader, [large.slice(0, 500), large.slice(500), small.slice(0, 9), small.slice(9)]).frames, [[...large], [...small]]);
  assert.equal(reader.bufferBytes, large.length, "grown to the larger frame, and kept");
});

test("FrameReader: push honours off and len", () => {
  const padded = Uint8Array.from([0xee, 0xee, ...STREAM, 0xee]);
  const got: number[][] = [];
  assert.equal(new FrameReader(64).push(padded, 2, STREAM.length, (f) => got.push([...f])), null);
  assert.deepEqual(got, FRAMES.map((f) => [...f]));
});

test("FrameReader: an oversized header fails as soon as its 4 bytes are in, at every split", () => {
  const max = 8;
  const big = Uint8Array.from([...FRAMES[0]!, 0, 0, 0, max + 1]); // a valid frame, then a header of max+1
  for (let i = 0; i <= big.length; i++) {
    const got = feed(new FrameReader(max), [big.slice(0, i), big.slice(i)]);
    assert.equal(got.error, "oversized", `split at ${i}`);
    assert.equal(got.frames.length, 1, `the frame before it still goes out (split at ${i})`);
  }
  // Exactly max is fine.
  assert.equal(feed(new FrameReader(max), [encodeFrame(payload(max, 0))]).error, null);
});

test("FrameReader: a zero-length frame is malformed, at every split", () => {
  const bad = Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 1, 42);
  for (let i = 0; i <= bad.length; i++) {
    assert.equal(feed(new FrameReader(64), [bad.slice(0, i), bad.slice(i)]).error, "malformed", `split at ${i}`);
  }
});

test("scanFrames: returns where the incomplete frame starts", () => {
  const seen: Array<[number, number]> = [];
  const cut = STREAM.length - 3;
  assert.equal(scanFrames(STREAM, 0, cut, 64, (at, len) => seen.push([at, len])), FRAMES[0]!.length + FRAMES[1]!.length);
  assert.deepEqual(seen, [[0, FRAMES[0]!.length], [FRAMES[0]!.length, FRAMES[1]!.length]]);
  assert.equal(scanFrames(STREAM, 0, STREAM.length, 4, () => undefined), "oversized");
});

test("OutRing: frames go in whole or not at all, wrap around, and come out in order", () => {
  const ring = new OutRing(new Uint8Array(10));
  const out: number[] = [];
  const drain = (max: number): void => {
    const n = Math.min(max, ring.contiguous);
    out.push(...ring.buf.subarray(ring.head, ring.head + n));
    ring.consume(n);
  };
  assert.ok(ring.put(Uint8Array.of(1, 2, 3, 4, 5, 6)));
  assert.equal(ring.put(Uint8Array.of(7, 8, 9, 10, 11)), false, "11 bytes do not fit in 10");
  assert.equal(ring.size, 6);
  drain(4); // head at 4
  assert.ok(ring.put(Uint8Array.of(7, 8, 9, 10, 11, 12, 13, 14))); // wraps: 2 queued + 8 = 10
  assert.equal(ring.size, 10);
  while (ring.size > 0) drain(3);
  assert.deepEqual(out, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
  assert.equal(ring.head, 0);
});

test("OutRing: state can live in a shared Int32Array at an offset", () => {
  const state = new Int32Array(new SharedArrayBuffer(16));
  const a = new OutRing(new Uint8Array(4), state, 2);
  assert.ok(a.put(Uint8Array.of(1, 2, 3)));
  assert.deepEqual([...state], [0, 0, 0, 3]);
  const again = new OutRing(a.buf, state, 2); // another thread's view
  assert.equal(again.size, 3);
  again.clear();
  assert.equal(a.size, 0);
});

test("ChatCounters: shared by every view of one buffer", () => {
  const c = new ChatCounters();
  const other = new ChatCounters(c.buffer);
  c.add("frames", 3);
  other.badFrame("oversized");
  other.add("slowDropped");
  assert.deepEqual(c.read(), { frames: 3, oversized: 1, malformed: 0, slowDropped: 1 });
});
