import { test } from "node:test";
import assert from "node:assert/strict";
import { SHIFT_SPAN, byteView, firstMismatch, makePattern, messageShift, verifyChunk as verifyBytes } from "../clients/message.js";

/** verifyChunk on plain buffers (the client wraps its buffers once; tests wrap per call). */
function verifyChunk(p: Buffer, shift: number, received: number, chunk: Buffer, off: number, len: number): boolean {
  return verifyBytes(byteView(p), shift, received, byteView(chunk), off, len);
}

function message(p: Buffer, session: number, seq: number, size: number): Buffer {
  const shift = messageShift(session, seq);
  return Buffer.from(p.subarray(shift, shift + size));
}

test("the pattern is deterministic, has no equal neighbours and does not repeat at the shift wrap", () => {
  const a = makePattern(64);
  const b = makePattern(64, true);
  assert.equal(a.length, 64 + SHIFT_SPAN);
  assert.ok(a.equals(b));
  for (let i = 1; i < a.length; i++) assert.notEqual(a[i], a[i - 1], `P[${i}] equals P[${i - 1}]`);
  assert.notEqual(a[0], a[SHIFT_SPAN - 1]);
  // Noise, not a short period: every byte value occurs, none dominates.
  const counts = new Array<number>(256).fill(0);
  for (const x of a) counts[x] = (counts[x] as number) + 1;
  assert.ok(Math.min(...counts) > 0 && Math.max(...counts) < 3 * (a.length / 256));
});

test("consecutive messages of a session always differ, from the first byte on", () => {
  for (const size of [1, 2, 64, 1000]) {
    const p = makePattern(size);
    for (const session of [0, 1, 7, 9999]) {
      // Cover the shift wrap (65535 -> 0) too.
      for (let seq = 0; seq < SHIFT_SPAN + 3; seq += seq < 50 ? 1 : 997) {
        const m0 = message(p, session, seq, size);
        const m1 = message(p, session, seq + 1, size);
        assert.notEqual(m0[0], m1[0], `session ${session} seq ${seq} size ${size}`);
        // A stale echo of the previous message fails verification of the next.
        assert.equal(verifyChunk(p, messageShift(session, seq + 1), 0, m0, 0, size), false);
      }
    }
  }
});

test("distinct sessions start at distinct shifts", () => {
  const shifts = new Set<number>();
  for (let s = 0; s < 10_000; s++) shifts.add(messageShift(s, 0));
  assert.equal(shifts.size, 10_000);
  assert.equal(messageShift(3, 0) + 1, messageShift(3, 1));
  assert.ok(messageShift(123456, 7) >= 0 && messageShift(123456, 7) < SHIFT_SPAN);
});

test("verifyChunk accepts the message and catches one flipped byte at the start, middle and end", () => {
  for (const size of [1, 7, 8, 9, 16, 64, 191, 192, 193, 4096, 100_000]) {
    const p = makePattern(size);
    const shift = messageShift(42, 5);
    const good = message(p, 42, 5, size);
    assert.equal(verifyChunk(p, shift, 0, good, 0, size), true);
    assert.equal(firstMismatch(p, shift, 0, good, 0, size), -1);
    for (const at of new Set([0, size >> 1, size - 1])) {
      const bad = Buffer.from(good);
      bad[at] = (bad[at] as number) ^ 0x01;
      assert.equal(verifyChunk(p, shift, 0, bad, 0, size), false, `size ${size} flip at ${at}`);
      assert.equal(firstMismatch(p, shift, 0, bad, 0, size), at);
    }
  }
});

test("a flipped bit is caught at every position of short messages (word loop and its tail)", () => {
  for (const size of [13, 64, 200]) {
    const p = makePattern(size);
    const shift = messageShift(1, 2);
    const good = message(p, 1, 2, size);
    for (let at = 0; at < size; at++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(good);
        bad[at] = (bad[at] as number) ^ bit;
        assert.equal(verifyChunk(p, shift, 0, bad, 0, size), false, `size ${size} at ${at} bit ${bit}`);
      }
    }
  }
});

test("chunked verification: any split of the echo verifies, a flip in any chunk is caught", () => {
  const size = 10_000;
  const p = makePattern(size);
  const shift = messageShift(3, 99);
  const good = message(p, 3, 99, size);
  for (const chunk of [1, 7, 8, 13, 192, 193, 1000, 4096, size]) {
    // Each chunk lands at a different offset of a scratch buffer, as recv would put it.
    const scratch = Buffer.alloc(chunk + 13);
    let received = 0;
    while (received < size) {
      const len = Math.min(chunk, size - received);
      const off = received % 13;
      good.copy(scratch, off, received, received + len);
      assert.equal(verifyChunk(p, shift, received, scratch, off, len), true, `chunk ${chunk} at ${received}`);
      received += len;
    }
    // Flip the last byte of the chunk that holds byte 5000.
    const start = Math.floor(5000 / chunk) * chunk;
    const len = Math.min(chunk, size - start);
    const bad = Buffer.from(good.subarray(start, start + len));
    bad[len - 1] = (bad[len - 1] as number) ^ 0x80;
    assert.equal(verifyChunk(p, shift, start, bad, 0, len), false, `chunk ${chunk}`);
    // The same bytes checked at the wrong offset (a reordered chunk) fail too.
    if (len > 1 && start > 0) assert.equal(verifyChunk(p, shift, start - 1, good, start, len), false);
  }
});
