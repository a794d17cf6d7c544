/**
 * Tests of the native addon's system calls (native/iobench.c): real sockets
 * on loopback and real epoll. The completion port has its own file
 * (completion-port.test.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import { sys, C, errname } from "../native/index.js";
import { closeAll, ok, pair, str, text } from "./fixtures/sockets.js";

test("errno names and constants", () => {
  assert.equal(sys.errnoName(C.EAGAIN), "EAGAIN");
  assert.equal(sys.errnoName(C.ECONNRESET), "ECONNRESET");
  assert.equal(sys.errnoName(9999), "E9999");
  assert.equal(errname(-C.EPIPE), "EPIPE");
  for (const [name, v] of Object.entries(C)) assert.ok(Number.isInteger(v), name);
});

test("process helpers: gettid, affinity, RLIMIT_NOFILE", () => {
  assert.equal(sys.gettid(), process.pid, "the main thread's tid is the pid");
  const all = os.cpus().map((_, i) => i);
  assert.equal(sys.setAffinity(0, all), 0);
  assert.equal(sys.setAffinity(0, []), -C.EINVAL);
  assert.throws(() => sys.setAffinity(0, [1 << 20]), RangeError);
  const [soft, hard] = sys.getNofileLimit();
  assert.ok(soft > 0 && soft <= hard);
  assert.equal(sys.setNofileLimit(soft), 0);
  assert.deepEqual(sys.getNofileLimit(), [soft, hard]);
});

test("loopback round trip: listen/connect/accept/send/recv", () => {
  const p = pair();
  try {
    assert.equal(sys.setNoDelay(p.client, true), 0);
    assert.equal(sys.setBufferSizes(p.client, 65536, 65536), 0);
    const buf = new Uint8Array(64);
    buf.set(text("hello"), 10);
    assert.equal(sys.send(p.client, buf, 10, 5), 5);
    const got = new Uint8Array(64);
    assert.equal(sys.recv(p.server, got, 3, 61), 5);
    assert.equal(str(got.subarray(3, 8)), "hello");
    assert.equal(sys.send(p.server, got, 3, 5), 5);
    assert.equal(sys.recv(p.client, buf, 0, 64), 5);
    assert.equal(str(buf.subarray(0, 5)), "hello");
    // FIN: the peer reads 0; SO_LINGER {1, 0}: the peer reads ECONNRESET.
    assert.equal(sys.shutdown(p.server, C.SHUT_WR), 0);
    assert.equal(sys.recv(p.client, buf, 0, 64), 0);
    assert.equal(sys.setLingerZero(p.client), 0);
    assert.equal(sys.close(p.client), 0);
    p.client = -1;
    assert.equal(sys.recv(p.server, buf, 0, 64), -C.ECONNRESET);
  } finally {
    closeAll(p.client, p.server, p.listen);
  }
});

test("IPv6 loopback round trip (where ::1 exists)", (t) => {
  const l = sys.listen("::1", 0, 4);
  if (l < 0) {
    t.skip(`no IPv6 loopback (${errname(l)})`);
    return;
  }
  sys.close(l);
  const p = pair("::1");
  try {
    const b = new Uint8Array([1, 2, 3]);
    assert.equal(sys.send(p.client, b, 0, 3), 3);
    const got = new Uint8Array(3);
    assert.equal(sys.recv(p.server, got, 0, 3), 3);
    assert.deepEqual(got, b);
  } finally {
    closeAll(p.client, p.server, p.listen);
  }
});

test("errors: ECONNREFUSED, EAGAIN, EBADF as negative errno", () => {
  const l = ok(sys.listen("127.0.0.1", 0, 1), "listen");
  const port = sys.localPort(l);
  sys.close(l);
  const r = sys.connect("127.0.0.1", port, false);
  assert.equal(r, -C.ECONNREFUSED);
  assert.equal(errname(r), "ECONNREFUSED");

  // A non-blocking connect reports the refusal through EPOLLOUT + SO_ERROR.
  const ep = ok(sys.epollCreate(), "epollCreate");
  const fd = sys.connect("127.0.0.1", port, true);
  try {
    if (fd >= 0) {
      assert.equal(sys.epollCtl(ep, C.EPOLL_CTL_ADD, fd, C.EPOLLOUT, 5), 0);
      const out = new Int32Array(2);
      assert.equal(sys.epollWait(ep, out, 1, 2000), 1);
      assert.equal(out[1], 5);
      assert.equal(sys.socketError(fd), -C.ECONNREFUSED);
    } else {
      assert.equal(fd, -C.ECONNREFUSED);
    }
  } finally {
    closeAll(fd, ep);
  }

  const p = pair("127.0.0.1", true);
  try {
    const buf = new Uint8Array(16);
    assert.equal(sys.recv(p.server, buf, 0, 16), -C.EAGAIN);
    assert.equal(sys.setNonBlocking(p.listen, true), 0);
    assert.equal(sys.accept(p.listen, false), -C.EAGAIN);
    assert.equal(sys.socketError(p.server), 0);
  } finally {
    closeAll(p.client, p.server, p.listen);
  }
  assert.equal(sys.recv(p.server, new Uint8Array(1), 0, 1), -C.EBADF);
  assert.equal(sys.close(p.server), -C.EBADF);
});

test("argument mistakes throw", () => {
  const buf = new Uint8Array(8);
  assert.throws(() => sys.recv(0, buf, 0, 9), RangeError);
  assert.throws(() => sys.recv(0, buf, 8, 1), RangeError);
  assert.throws(() => sys.send(0, buf, -1, 1), RangeError);
  assert.throws(() => sys.send(0, buf, 0.5, 1), RangeError);
  assert.throws(() => sys.send(0, buf.subarray(4), 0, 5), RangeError);
  assert.throws(() => sys.send(0, new Int32Array(2) as unknown as Uint8Array, 0, 1), TypeError);
  assert.throws(() => sys.listen("localhost", 0, 1), TypeError);
  assert.throws(() => sys.listen("127.0.0.1", 70000, 1), RangeError);
  assert.throws(() => sys.epollWait(0, new Int32Array(1), 1, 0), RangeError);
});

test("epoll: readiness with keys", () => {
  const a = pair();
  const b = pair();
  const ep = ok(sys.epollCreate(), "epollCreate");
  try {
    assert.equal(sys.epollCtl(ep, C.EPOLL_CTL_ADD, a.server, C.EPOLLIN, 0x7fffffff), 0);
    assert.equal(sys.epollCtl(ep, C.EPOLL_CTL_ADD, b.server, C.EPOLLIN | C.EPOLLRDHUP, -7), 0);
    const out = new Int32Array(16);
    assert.equal(sys.epollWait(ep, out, 8, 0), 0);
    assert.equal(sys.send(b.client, text("x"), 0, 1), 1);
    assert.equal(sys.epollWait(ep, out, 8, 2000), 1);
    assert.ok((out[0] ?? 0) & C.EPOLLIN);
    assert.equal(out[1], -7);
    assert.equal(sys.send(a.client, text("y"), 0, 1), 1);
    assert.equal(sys.epollWait(ep, out, 8, 2000), 2);
    assert.deepEqual(new Set([out[1], out[3]]), new Set([0x7fffffff, -7]));
    assert.equal(sys.epollCtl(ep, C.EPOLL_CTL_DEL, a.server, 0, 0), 0);
    assert.equal(errname(sys.epollCtl(ep, C.EPOLL_CTL_DEL, a.server, 0, 0)), "ENOENT");
  } finally {
    closeAll(ep, a.client, a.server, a.listen, b.client, b.server, b.listen);
  }
});
