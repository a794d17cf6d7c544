/**
 * Tests of the native addon (native): real sockets on loopback, real
 * epoll, and the io_uring completion port driven from several worker threads.
 * This file is also the worker script: in a worker it runs `workerMain`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import os from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { sys, C, errname } from "../native/index.js";

/** What a worker is asked to do (workerData). */
type Job =
  | { kind: "wait"; port: number; ctl: SharedArrayBuffer }
  | { kind: "post"; port: number; key: number }
  | { kind: "drain"; port: number; expected: number; seen: SharedArrayBuffer; total: SharedArrayBuffer };

/** What a worker posts back. */
interface Reply {
  r: number;
  completions: number[];
  tid: number;
  bad: number;
}

// ctl layout for "wait": [0] = 1 once the worker is about to dequeue, [1] = its tid.
function workerMain(job: Job): Reply {
  const out = new Int32Array(3 * 16);
  const tid = sys.gettid();
  if (job.kind === "post") {
    const r1 = sys.portPostUser(job.port, job.key);
    const r2 = sys.portSubmit(job.port);
    return { r: r1 < 0 ? r1 : r2, completions: [], tid, bad: 0 };
  }
  if (job.kind === "wait") {
    const ctl = new Int32Array(job.ctl);
    Atomics.store(ctl, 1, tid);
    Atomics.store(ctl, 0, 1);
    const r = sys.portDequeue(job.port, out, 16, -1);
    return { r, completions: r > 0 ? Array.from(out.subarray(0, 3 * r)) : [], tid, bad: 0 };
  }
  // drain: dequeue until every expected completion has been taken by some worker.
  const seen = new Int32Array(job.seen);
  const total = new Int32Array(job.total); // [0] = completions taken, [1] = workers started
  Atomics.add(total, 1, 1);
  const deadline = Date.now() + 15_000;
  let mine = 0;
  let bad = 0;
  while (Atomics.load(total, 0) < job.expected && Date.now() < deadline) {
    const n = sys.portDequeue(job.port, out, 16, 50);
    if (n < 0) return { r: n, completions: [], tid, bad };
    for (let i = 0; i < n; i++) {
      const key = out[3 * i] ?? -1;
      if (out[3 * i + 1] !== C.OP_USER || out[3 * i + 2] !== 0 || key < 0 || key >= seen.length) bad++;
      else Atomics.add(seen, key, 1);
    }
    mine += n;
    Atomics.add(total, 0, n);
  }
  return { r: mine, completions: [], tid, bad };
}

// ---- helpers (main thread) -------------------------------------------------------

const TIMEOUT = { timeout: 10_000 };

/** Runs this file as a worker doing `job`; resolves with its reply. */
function runWorker(job: Job): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: job });
    w.once("message", (m: unknown) => resolve(m as Reply));
    w.once("error", reject);
    w.once("exit", (code) => reject(new Error(`worker exited (code ${code}) without a reply`)));
  });
}

/** Rejects if p has not settled within ms, so a hang fails the test instead of stalling it. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves once `check` holds, polling; rejects after ms. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`${what}: not reached within ${ms} ms`);
    await sleep(5);
  }
}

/** Kernel state letter of thread tid of this process ("S" = sleeping in a syscall). */
function threadState(tid: number): string {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/** Waits until a "wait" worker is blocked inside portDequeue. */
async function blockedInDequeue(ctl: Int32Array): Promise<void> {
  await until(() => Atomics.load(ctl, 0) === 1, 5000, "worker start");
  const tid = Atomics.load(ctl, 1);
  await until(() => threadState(tid) === "S", 5000, `thread ${tid} blocking`);
}

function ok(r: number, what: string): number {
  assert.ok(r >= 0, `${what} failed: ${r < 0 ? errname(r) : r}`);
  return r;
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A connected loopback pair: client fd, server-side fd, listening fd. */
interface Pair {
  listen: number;
  client: number;
  server: number;
}

function pair(host = "127.0.0.1", serverNonBlocking = false): Pair {
  const l = ok(sys.listen(host, 0, 16), "listen");
  const c = ok(sys.connect(host, ok(sys.localPort(l), "localPort"), false), "connect");
  const s = ok(sys.accept(l, serverNonBlocking), "accept");
  return { listen: l, client: c, server: s };
}

function closeAll(...fds: number[]): void {
  for (const fd of fds) if (fd >= 0) sys.close(fd);
}

/** A port, or undefined (test skipped) where io_uring is not allowed. */
function portOrSkip(t: { skip: (msg: string) => void }, entries = 64): number | undefined {
  const p = sys.portCreate(entries);
  if (p === -C.ENOSYS || p === -C.EPERM) {
    t.skip(`io_uring unavailable here (${errname(p)})`);
    return undefined;
  }
  return ok(p, "portCreate");
}

/** Dequeues exactly one completion as [key, op, result]. */
function dequeueOne(port: number, timeoutMs = 2000): [number, number, number] {
  const out = new Int32Array(3);
  const n = sys.portDequeue(port, out, 1, timeoutMs);
  assert.equal(n, 1, `portDequeue returned ${n < 0 ? errname(n) : n}`);
  return [out[0] ?? 0, out[1] ?? 0, out[2] ?? 0];
}

// ---- tests ---------------------------------------------------------------------------

function defineTests(): void {
  test("errno names and constants", () => {
    assert.equal(sys.errnoName(C.EAGAIN), "EAGAIN");
    assert.equal(sys.errnoName(C.ECONNRESET), "ECONNRESET");
    assert.equal(sys.errnoName(9999), "E9999");
    assert.equal(errname(-C.EPIPE), "EPIPE");
    const ops = [C.OP_ACCEPT, C.OP_RECV, C.OP_SEND, C.OP_USER];
    assert.equal(new Set(ops).size, 4);
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
    assert.throws(() => sys.portDequeue(0, new Int32Array(5), 2, 0), RangeError);
    assert.throws(() => sys.portDequeue(0, new Int32Array(3), 0, 0), RangeError);
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
  test("port: accept, recv, send complete with their op, key and result", TIMEOUT, (t) => {
    const port = portOrSkip(t);
    if (port === undefined) return;
    const l = ok(sys.listen("127.0.0.1", 0, 16), "listen");
    let client = -1;
    let server = -1;
    try {
      const sab = new Uint8Array(new SharedArrayBuffer(64));
      assert.equal(sys.portPostAccept(port, l, 101), 0);
      assert.equal(sys.portDequeue(port, new Int32Array(3), 1, 0), 0, "nothing completes before a connect");
      client = ok(sys.connect("127.0.0.1", sys.localPort(l), false), "connect");
      const [k1, op1, fd] = dequeueOne(port);
      assert.deepEqual([k1, op1], [101, C.OP_ACCEPT]);
      server = ok(fd, "accepted fd");

      assert.equal(sys.portPostRecv(port, server, sab, 8, 56, -102), 0);
      assert.equal(sys.send(client, text("ping"), 0, 4), 4);
      assert.deepEqual(dequeueOne(port), [-102, C.OP_RECV, 4]);
      assert.equal(str(sab.subarray(8, 12)), "ping");

      sab.set(text("pong"), 32);
      assert.equal(sys.portPostSend(port, server, sab, 32, 4, 103), 0);
      assert.deepEqual(dequeueOne(port), [103, C.OP_SEND, 4]);
      const got = new Uint8Array(8);
      assert.equal(sys.recv(client, got, 0, 8), 4);
      assert.equal(str(got.subarray(0, 4)), "pong");

      // The peer's FIN completes a recv with 0; a bad fd completes with -EBADF.
      assert.equal(sys.portPostRecv(port, server, sab, 0, 64, 104), 0);
      assert.equal(sys.shutdown(client, C.SHUT_WR), 0);
      assert.deepEqual(dequeueOne(port), [104, C.OP_RECV, 0]);
      assert.equal(sys.portPostRecv(port, 1_000_000, sab, 0, 1, 105), 0);
      assert.deepEqual(dequeueOne(port), [105, C.OP_RECV, -C.EBADF]);

      // Several completions per dequeue, in posting order for NOPs.
      for (let k = 0; k < 3; k++) assert.equal(sys.portPostUser(port, 200 + k), 0);
      const out = new Int32Array(6);
      assert.equal(sys.portDequeue(port, out, 2, 1000), 2);
      assert.deepEqual(Array.from(out), [200, C.OP_USER, 0, 201, C.OP_USER, 0]);
      assert.deepEqual(dequeueOne(port), [202, C.OP_USER, 0]);

      // A dequeue that times out returns 0 no sooner than asked.
      const t0 = process.hrtime.bigint();
      assert.equal(sys.portDequeue(port, out, 2, 100), 0);
      assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 >= 99);
    } finally {
      closeAll(client, server, l);
      sys.portClose(port);
    }
  });

  test("port: buffer checks (SharedArrayBuffer only, range inside the array)", (t) => {
    const port = portOrSkip(t);
    if (port === undefined) return;
    try {
      assert.throws(() => sys.portPostRecv(port, 0, new Uint8Array(16), 0, 16, 1), TypeError);
      assert.throws(() => sys.portPostSend(port, 0, new Uint8Array(16), 0, 16, 1), TypeError);
      const sab = new Uint8Array(new SharedArrayBuffer(32), 8, 16);
      assert.throws(() => sys.portPostRecv(port, 0, sab, 0, 17, 1), RangeError);
      assert.throws(() => sys.portPostSend(port, 0, sab, 10, 7, 1), RangeError);
      assert.equal(sys.portDequeue(port, new Int32Array(3), 1, 0), 0, "nothing was posted by the throwing calls");
    } finally {
      sys.portClose(port);
    }
  });

  test("port: completions beyond the CQ size are kept, even for a polling dequeue", TIMEOUT, (t) => {
    const port = portOrSkip(t, 8);
    if (port === undefined) return;
    const posted = 6000; // the CQ holds max(2 * entries, 4096): the rest overflow in the kernel
    try {
      for (let k = 0; k < posted; k++) assert.equal(sys.portPostUser(port, k), 0);
      assert.equal(sys.portSubmit(port), 0);
      const out = new Int32Array(3 * 64);
      let got = 0;
      let next = 0;
      for (let n = sys.portDequeue(port, out, 64, 0); n > 0; n = sys.portDequeue(port, out, 64, 0)) {
        for (let i = 0; i < n; i++) if (out[3 * i] === next) next++;
        got += n;
      }
      assert.equal(got, posted);
      assert.equal(next, posted, "NOP completions arrive in posting order");
    } finally {
      sys.portClose(port);
    }
  });

  test("port: a user completion wakes a dequeue blocked in another worker thread", TIMEOUT, async (t) => {
    const port = portOrSkip(t);
    if (port === undefined) return;
    try {
      const ctl = new Int32Array(new SharedArrayBuffer(8));
      const waiter = runWorker({ kind: "wait", port, ctl: ctl.buffer as SharedArrayBuffer });
      await blockedInDequeue(ctl);
      const poster = await within(runWorker({ kind: "post", port, key: 77 }), 5000, "poster");
      assert.equal(poster.r, 0);
      const got = await within(waiter, 5000, "blocked dequeue");
      assert.equal(got.r, 1);
      assert.deepEqual(got.completions, [77, C.OP_USER, 0]);
      assert.notEqual(got.tid, poster.tid);
      assert.notEqual(got.tid, process.pid);
    } finally {
      sys.portClose(port);
    }
  });

  test("port: 4 workers dequeuing one port get every completion exactly once", TIMEOUT, async (t) => {
    const port = portOrSkip(t, 256);
    if (port === undefined) return;
    const expected = 10_000;
    try {
      const seen = new Int32Array(new SharedArrayBuffer(4 * expected));
      const total = new Int32Array(new SharedArrayBuffer(8));
      const job: Job = {
        kind: "drain",
        port,
        expected,
        seen: seen.buffer as SharedArrayBuffer,
        total: total.buffer as SharedArrayBuffer,
      };
      const workers = [runWorker(job), runWorker(job), runWorker(job), runWorker(job)];
      await until(() => Atomics.load(total, 1) === workers.length, 5000, "drain workers start");
      // Posting races the workers' dequeues; a full SQ is submitted by the post itself.
      for (let k = 0; k < expected; k++) {
        const r = sys.portPostUser(port, k);
        if (r !== 0) assert.fail(`portPostUser #${k}: ${errname(r)}`);
        if (k % 1000 === 999) assert.equal(sys.portSubmit(port), 0);
      }
      assert.equal(sys.portSubmit(port), 0);
      const replies = await within(Promise.all(workers), 9000, "drain workers");
      for (const r of replies) {
        assert.ok(r.r >= 0, `a worker's dequeue failed: ${errname(r.r)}`);
        assert.equal(r.bad, 0, "completions with a wrong op, result or key");
      }
      assert.equal(replies.reduce((s, r) => s + r.r, 0), expected);
      const wrong = seen.findIndex((n) => n !== 1);
      assert.equal(wrong, -1, `key ${wrong} arrived ${seen[wrong]} times`);
      t.diagnostic(`per worker: ${replies.map((r) => r.r).join(", ")}`);
    } finally {
      sys.portClose(port);
    }
  });

  test("port: portClose wakes blocked dequeues with -EBADF; later calls get -EBADF", TIMEOUT, async (t) => {
    const port = portOrSkip(t);
    if (port === undefined) return;
    const ctls = [new Int32Array(new SharedArrayBuffer(8)), new Int32Array(new SharedArrayBuffer(8))];
    const waiters = ctls.map((ctl) => runWorker({ kind: "wait", port, ctl: ctl.buffer as SharedArrayBuffer }));
    for (const ctl of ctls) await blockedInDequeue(ctl);
    assert.equal(sys.portClose(port), 0);
    const replies = await within(Promise.all(waiters), 5000, "dequeues blocked at close");
    for (const r of replies) assert.equal(r.r, -C.EBADF);
    const sab = new Uint8Array(new SharedArrayBuffer(4));
    assert.equal(sys.portDequeue(port, new Int32Array(3), 1, 0), -C.EBADF);
    assert.equal(sys.portPostUser(port, 1), -C.EBADF);
    assert.equal(sys.portPostRecv(port, 0, sab, 0, 4, 1), -C.EBADF);
    assert.equal(sys.portSubmit(port), -C.EBADF);
    assert.equal(sys.portClose(port), -C.EBADF);
    assert.equal(sys.portDequeue(-1, new Int32Array(3), 1, 0), -C.EBADF);
    // The slot is reusable and a new port gets a new id.
    const again = ok(sys.portCreate(8), "portCreate after close");
    assert.notEqual(again, port);
    assert.equal(sys.portClose(again), 0);
  });
}

// Last, so every constant above is initialized when the tests or the worker run.
if (!isMainThread) {
  parentPort?.postMessage(workerMain(workerData as Job));
} else {
  defineTests();
}
