/**
 * The addon calls the chat servers added: eventfd (a loop's wake-up) and
 * SIOCOUTQ (the blocking model's backlog check), on real fds.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { sys, C } from "../native/index.js";

test("eventfd: signals add up, a drain reads them back and resets, an empty drain is 0", () => {
  const fd = sys.eventfdCreate();
  assert.ok(fd >= 0, `eventfdCreate: ${fd}`);
  try {
    assert.equal(sys.eventfdDrain(fd), 0);
    assert.equal(sys.eventfdSignal(fd), 0);
    assert.equal(sys.eventfdSignal(fd), 0);
    assert.equal(sys.eventfdDrain(fd), 2);
    assert.equal(sys.eventfdDrain(fd), 0);
    // It wakes an epoll waiter.
    const ep = sys.epollCreate();
    const out = new Int32Array(2);
    assert.equal(sys.epollCtl(ep, C.EPOLL_CTL_ADD, fd, C.EPOLLIN, 7), 0);
    assert.equal(sys.epollWait(ep, out, 1, 0), 0);
    sys.eventfdSignal(fd);
    assert.equal(sys.epollWait(ep, out, 1, 1000), 1);
    assert.equal(out[1], 7);
    sys.close(ep);
  } finally {
    sys.close(fd);
  }
  assert.ok(sys.eventfdSignal(fd) < 0, "a closed eventfd fails");
});

test("sendQueued: grows while the peer does not read, shrinks to 0 once it does", () => {
  const listener = sys.listen("127.0.0.1", 0, 4);
  const client = sys.connect("127.0.0.1", sys.localPort(listener), false);
  const server = sys.accept(listener, false);
  try {
    assert.equal(sys.sendQueued(client), 0);
    sys.setNonBlocking(client, true);
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    for (let i = 0; i < 200; i++) {
      const r = sys.send(client, chunk, 0, chunk.length);
      if (r < 0) break; // EAGAIN: everything the kernel takes is queued
      sent += r;
    }
    const queued = sys.sendQueued(client);
    assert.ok(queued > 0 && queued <= sent, `queued ${queued} of ${sent}`);
    const buf = new Uint8Array(1 << 20);
    for (let got = 0; got < sent; ) {
      const r = sys.recv(server, buf, 0, buf.length);
      assert.ok(r > 0, `recv: ${r}`);
      got += r;
    }
    assert.equal(sys.sendQueued(client), 0);
  } finally {
    for (const fd of [client, server, listener]) sys.close(fd);
  }
});
