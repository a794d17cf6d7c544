/**
 * The uring engine's pieces below the session loop (which test/client.test.ts
 * runs against every fixture): buffer sizing and the native batch call.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { receiveBuffers, uringProbe } from "../clients/engine/uring.js";
import { C, sys } from "../native/index.js";
import type { UringHandle } from "../native/index.js";

test("receive buffers: a power of two, two per session while memory allows, at most 64 MiB", () => {
  for (const [size, sessions] of [[1, 1], [64, 256], [64, 10_000], [4096, 1000], [65536, 10_000], [256 << 20, 1]] as const) {
    const { bufSize, bufCount } = receiveBuffers(size, sessions);
    assert.ok(bufSize >= 256 && bufSize <= 16384, `bufSize ${bufSize}`);
    assert.equal(bufCount & (bufCount - 1), 0, `bufCount ${bufCount} is a power of two`);
    assert.ok(bufCount >= 16 && bufCount <= 32768);
    assert.ok(bufSize * bufCount <= 64 << 20, `${bufSize} x ${bufCount}`);
    if (bufCount < 2 * sessions) assert.ok(bufCount === 32768 || 2 * bufCount * bufSize > 64 << 20, `${size} B x ${sessions}: ${bufCount} buffers`);
  }
});

/** A connected pair of sockets through a loopback listener. */
function socketPair(): [number, number] {
  const l = sys.listen("127.0.0.1", 0, 4);
  assert.ok(l >= 0);
  const c = sys.connect("127.0.0.1", sys.localPort(l), false);
  const a = sys.accept(l, false);
  sys.close(l);
  assert.ok(c >= 0 && a >= 0);
  return [c, a];
}

test("uringEnter: a send reports nothing on success, the multishot recv delivers into provided buffers", { timeout: 10_000 }, (t) => {
  if (uringProbe() !== 0) {
    t.skip("io_uring is not allowed here");
    return;
  }
  const recvArea = Buffer.alloc(256 * 16);
  const sendArea = Buffer.from("hello, ring! and a second chunk");
  const ring = sys.uringCreate(8, 16, recvArea, 256, 16, sendArea) as UringHandle;
  const [c, a] = socketPair();
  const ops = new Int32Array(C.UK_OP_STRIDE * 4);
  const out = new Int32Array(C.UK_CQE_STRIDE * 8);
  try {
    ops.set([C.UK_RECV, a, 7, 3, 0, 0, C.UK_SEND, c, 9, 3, 0, 12]);
    const got: number[][] = [];
    let n = sys.uringEnter(ring, ops, 2, out, 8, 1000);
    for (let tries = 0; n >= 0 && got.length === 0 && tries < 50; tries++) {
      for (let i = 0; i < n; i++) got.push(Array.from(out.subarray(C.UK_CQE_STRIDE * i, C.UK_CQE_STRIDE * (i + 1))));
      if (got.length === 0) n = sys.uringEnter(ring, ops, 0, out, 8, 100);
    }
    assert.equal(got.length, 1, `one completion (the recv), not the send: ${JSON.stringify(got)}`);
    const [key, kindGen, res, flags] = got[0] as number[];
    assert.equal(key, 7);
    assert.equal(kindGen, (C.UK_RECV << 16) | 3);
    assert.equal(res, 12);
    assert.ok((flags! & C.IORING_CQE_F_BUFFER) !== 0 && (flags! & C.IORING_CQE_F_MORE) !== 0);
    const bid = flags! >>> 16;
    assert.equal(recvArea.toString("latin1", bid * 256, bid * 256 + 12), "hello, ring!");
    // The multishot recv is still armed: cancelling it by its user data ends it.
    assert.equal(sys.uringCancel(ring, C.UK_RECV, 7, 2), 0, "another generation matches nothing");
    assert.equal(sys.uringCancel(ring, C.UK_RECV, 7, 3), 1);
  } finally {
    sys.close(c);
    sys.close(a);
    assert.equal(sys.uringClose(ring), 0);
    assert.equal(sys.uringClose(ring), -C.EBADF);
  }
});

test("uringEnter and uringCreate refuse bad arguments with a thrown error, not a crash", (t) => {
  if (uringProbe() !== 0) {
    t.skip("io_uring is not allowed here");
    return;
  }
  const area = Buffer.alloc(256 * 16);
  assert.throws(() => sys.uringCreate(8, 16, area, 256, 12, area), RangeError); // not a power of two
  assert.throws(() => sys.uringCreate(8, 16, area, 512, 16, area), RangeError); // area too short
  const ring = sys.uringCreate(8, 16, area, 256, 16, area) as UringHandle;
  try {
    assert.throws(() => sys.uringEnter(ring, new Int32Array(6), 2, new Int32Array(8), 2, 0), RangeError);
    assert.throws(() => sys.uringEnter({} as UringHandle, new Int32Array(6), 0, new Int32Array(8), 2, 0), TypeError);
    // An op outside the send area, or an unknown kind, is refused as a whole batch.
    assert.equal(sys.uringEnter(ring, Int32Array.from([C.UK_SEND, 0, 0, 0, area.length - 4, 8]), 1, new Int32Array(8), 2, 0), -C.EINVAL);
    assert.equal(sys.uringEnter(ring, Int32Array.from([99, 0, 0, 0, 0, 0]), 1, new Int32Array(8), 2, 0), -C.EINVAL);
  } finally {
    sys.uringClose(ring);
  }
});
