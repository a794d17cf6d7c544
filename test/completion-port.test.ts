/**
 * Tests of the completion port (native/port.c), driven from real worker
 * threads: what each call completes, and the semantics of a Windows
 * completion port: every completion delivered exactly once, waiters
 * released newest first and one per completion batch, never more threads
 * running than the concurrency value, a blocking notice letting another
 * waiter run, a close that ends every parked waiter. The herd variant
 * (PORT_WAKE_ALL) is measured beside it where it shows the difference.
 * This file is also the worker script: in a worker it runs `workerMain`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import os from "node:os";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { sys, C, errname, type PortStats } from "../native/index.js";
import { closeAll, ok, str, text } from "./fixtures/sockets.js";

/** What a worker is asked to do (workerData). */
type Job =
  | { kind: "wait"; port: number; ctl: SharedArrayBuffer }
  | { kind: "post"; port: number; key: number }
  | { kind: "drain"; port: number; expected: number; seen: SharedArrayBuffer; total: SharedArrayBuffer }
  | { kind: "serve"; port: number; board: SharedArrayBuffer; times: SharedArrayBuffer; holdMs: number; notice: boolean };

/** What a worker posts back. */
interface Reply {
  r: number;
  completions: number[];
  tid: number;
  bad: number;
}

/** Cells of a "serve" board (Int32Array); the count of each key's takes follows from B_SEEN. */
const B_RUNNING = 0; // workers between a dequeue that returned and their next dequeue, as they count themselves
const B_MAX = 1; // the most B_RUNNING ever was
const B_TAKEN = 2;
const B_STARTED = 3;
const B_SEEN = 4;

function raiseMax(cells: Int32Array, at: number, value: number): void {
  for (;;) {
    const m = Atomics.load(cells, at);
    if (value <= m || Atomics.compareExchange(cells, at, m, value) === m) return;
  }
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
  if (job.kind === "serve") {
    // One completion per dequeue, held holdMs (asleep: it still counts as running unless the port is told).
    const board = new Int32Array(job.board);
    const times = new Float64Array(job.times);
    const nap = new Int32Array(new SharedArrayBuffer(4));
    Atomics.add(board, B_STARTED, 1);
    for (;;) {
      const n = sys.portDequeue(job.port, out, 1, -1);
      if (n < 0) return { r: n === -C.EBADF ? 0 : n, completions: [], tid, bad: 0 };
      raiseMax(board, B_MAX, Atomics.add(board, B_RUNNING, 1) + 1);
      const key = out[0] ?? 0;
      times[key] = performance.timeOrigin + performance.now();
      Atomics.add(board, B_SEEN + key, 1);
      Atomics.add(board, B_TAKEN, 1);
      if (job.notice) sys.portBlocking(job.port, true);
      Atomics.wait(nap, 0, 0, job.holdMs);
      if (job.notice) sys.portBlocking(job.port, false);
      Atomics.sub(board, B_RUNNING, 1);
    }
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

const TIMEOUT = { timeout: 20_000 };
const WAKES = [
  { name: "lifo", wake: C.PORT_WAKE_LIFO },
  { name: "all", wake: C.PORT_WAKE_ALL },
] as const;

/** A worker doing `job`: its reply, and its end (its thread gone, so it runs on no port any more). */
interface Started {
  reply: Promise<Reply>;
  exited: Promise<void>;
}

function startWorker(job: Job): Started {
  const w = new Worker(new URL(import.meta.url), { workerData: job });
  const exited = new Promise<void>((resolve) => w.once("exit", () => resolve()));
  const reply = new Promise<Reply>((resolve, reject) => {
    w.once("message", (m: unknown) => resolve(m as Reply));
    w.once("error", reject);
    w.once("exit", (code) => reject(new Error(`worker exited (code ${code}) without a reply`)));
  });
  return { reply, exited };
}

/** Runs this file as a worker doing `job`; resolves with its reply. */
function runWorker(job: Job): Promise<Reply> {
  return startWorker(job).reply;
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

/** A port, or undefined (test skipped) where io_uring is not allowed. */
function portOrSkip(t: { skip: (msg: string) => void }, entries = 64, concurrency = 0, wake: number = C.PORT_WAKE_LIFO): number | undefined {
  const p = sys.portCreate(entries, concurrency, wake);
  if (p === -C.ENOSYS || p === -C.EPERM) {
    t.skip(`io_uring unavailable here (${errname(p)})`);
    return undefined;
  }
  return ok(p, "portCreate");
}

function stats(port: number): PortStats {
  const s = sys.portStats(port);
  assert.ok(s !== null, `port ${port} has no stats: it is not open`);
  return s;
}

/** Sleeps (and their wake-ups) of every thread on the port so far. */
const sleeps = (port: number): number => stats(port).enterWaits + stats(port).futexWaits;

/** Dequeues exactly one completion as [key, op, result]. */
function dequeueOne(port: number, timeoutMs = 2000): [number, number, number] {
  const out = new Int32Array(3);
  const n = sys.portDequeue(port, out, 1, timeoutMs);
  assert.equal(n, 1, `portDequeue returned ${n < 0 ? errname(n) : n}`);
  return [out[0] ?? 0, out[1] ?? 0, out[2] ?? 0];
}

/** A parked "wait" worker. */
interface Parked extends Started {
  tid: number;
}

/**
 * Starts n "wait" workers one after the other, each blocked in portDequeue
 * (and, with LIFO, listed as a waiter) before the next starts: index i is
 * the (i+1)-th waiter, the last the newest.
 */
async function park(port: number, n: number, lifo: boolean): Promise<Parked[]> {
  const parked: Parked[] = [];
  for (let i = 0; i < n; i++) {
    const ctl = new Int32Array(new SharedArrayBuffer(8));
    const w = startWorker({ kind: "wait", port, ctl: ctl.buffer as SharedArrayBuffer });
    await blockedInDequeue(ctl);
    if (lifo) await until(() => stats(port).waiters === i + 1, 5000, `waiter ${i + 1} listed`);
    parked.push({ ...w, tid: Atomics.load(ctl, 1) });
  }
  return parked;
}

/** The index of the first of `workers` to reply, and its reply. */
function firstReply(workers: readonly Started[]): Promise<{ index: number; reply: Reply }> {
  return Promise.race(workers.map((w, index) => w.reply.then((reply) => ({ index, reply }))));
}

/** Starts `n` "serve" workers on port; `keys` sizes the per-key counts and times. */
async function serve(port: number, n: number, keys: number, holdMs: number, notice: boolean): Promise<{ board: Int32Array; times: Float64Array; workers: Started[] }> {
  const board = new Int32Array(new SharedArrayBuffer(4 * (B_SEEN + keys)));
  const times = new Float64Array(new SharedArrayBuffer(8 * keys));
  const job: Job = { kind: "serve", port, board: board.buffer as SharedArrayBuffer, times: times.buffer as SharedArrayBuffer, holdMs, notice };
  const workers = Array.from({ length: n }, () => startWorker(job));
  await until(() => Atomics.load(board, B_STARTED) === n, 5000, "serve workers start");
  return { board, times, workers };
}

/** Closes the port under `workers` and checks every one of them ended cleanly. */
async function closeUnder(port: number, workers: readonly Started[]): Promise<void> {
  assert.equal(sys.portClose(port), 0);
  const replies = await within(Promise.all(workers.map((w) => w.reply)), 5000, "workers after close");
  for (const r of replies) assert.ok(r.r >= 0, `a worker's dequeue failed: ${errname(r.r)}`);
}

function postKeys(port: number, from: number, to: number): void {
  for (let k = from; k < to; k++) {
    const r = sys.portPostUser(port, k);
    if (r !== 0) assert.fail(`portPostUser #${k}: ${errname(r)}`);
  }
}

// ---- tests ---------------------------------------------------------------------------

function defineTests(): void {
  test("accept, recv, send complete with their op, key and result", TIMEOUT, (t) => {
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

  test("buffer checks (SharedArrayBuffer only, range inside the array)", (t) => {
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

  test("completions beyond the CQ size are kept, even for a polling dequeue", TIMEOUT, (t) => {
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

  test("a user completion wakes a dequeue blocked in another worker thread", TIMEOUT, async (t) => {
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

  test("concurrency 0 is the CPUs the creating thread may run on; the arguments are checked", (t) => {
    const port = portOrSkip(t);
    if (port === undefined) return;
    try {
      const s = stats(port);
      assert.equal(s.concurrency, os.availableParallelism(), "os.availableParallelism() counts sched_getaffinity too");
      assert.equal(s.wake, C.PORT_WAKE_LIFO);
      assert.deepEqual([s.running, s.waiters, s.maxRunning], [0, 0, 0]);
      // A blocking notice from a thread that runs on no port changes nothing.
      assert.equal(sys.portBlocking(port, true), 0);
      assert.equal(stats(port).blocked, 0);
    } finally {
      sys.portClose(port);
    }
    assert.equal(sys.portStats(port), null);
    assert.equal(sys.portBlocking(port, true), -C.EBADF);
    assert.throws(() => sys.portCreate(8, -1), RangeError);
    assert.throws(() => sys.portCreate(8, 1, 7), RangeError);
    assert.throws(() => sys.portDequeue(0, new Int32Array(5), 2, 0), RangeError);
    assert.throws(() => sys.portDequeue(0, new Int32Array(3), 0, 0), RangeError);
    const three = ok(sys.portCreate(8, 3, C.PORT_WAKE_ALL), "portCreate");
    assert.deepEqual([stats(three).concurrency, stats(three).wake], [3, C.PORT_WAKE_ALL]);
    sys.portClose(three);
  });

  for (const { name, wake } of WAKES) {
    test(`${name}: 8 workers dequeuing one port get every completion exactly once`, TIMEOUT, async (t) => {
      const port = portOrSkip(t, 256, 2, wake);
      if (port === undefined) return;
      const expected = 10_000;
      try {
        const seen = new Int32Array(new SharedArrayBuffer(4 * expected));
        const total = new Int32Array(new SharedArrayBuffer(8));
        const job: Job = { kind: "drain", port, expected, seen: seen.buffer as SharedArrayBuffer, total: total.buffer as SharedArrayBuffer };
        const workers = Array.from({ length: 8 }, () => runWorker(job));
        await until(() => Atomics.load(total, 1) === workers.length, 5000, "drain workers start");
        // Posting races the workers' dequeues; a full SQ is submitted by the post itself.
        for (let k = 0; k < expected; k += 1000) {
          postKeys(port, k, k + 1000);
          assert.equal(sys.portSubmit(port), 0);
        }
        const replies = await within(Promise.all(workers), 15_000, "drain workers");
        for (const r of replies) {
          assert.ok(r.r >= 0, `a worker's dequeue failed: ${errname(r.r)}`);
          assert.equal(r.bad, 0, "completions with a wrong op, result or key");
        }
        assert.equal(replies.reduce((s, r) => s + r.r, 0), expected);
        const wrong = seen.findIndex((n) => n !== 1);
        assert.equal(wrong, -1, `key ${wrong} arrived ${seen[wrong]} times`);
        t.diagnostic(`per worker: ${replies.map((r) => r.r).join(", ")}; ${JSON.stringify(stats(port))}`);
      } finally {
        sys.portClose(port);
      }
    });
  }

  test("lifo: the newest waiter gets the next completion when none is running", TIMEOUT, async (t) => {
    const port = portOrSkip(t, 64, 4);
    if (port === undefined) return;
    try {
      const parked = await park(port, 5, true);
      const order: number[] = [];
      let left: Parked[] = [...parked];
      for (let k = 0; k < parked.length; k++) {
        assert.equal(stats(port).running, 0, "nobody runs before the post");
        assert.equal(sys.portPostUser(port, 100 + k), 0);
        const { index, reply } = await within(firstReply(left), 5000, `completion ${k}`);
        assert.deepEqual(reply.completions, [100 + k, C.OP_USER, 0]);
        const winner = left[index]!;
        order.push(parked.indexOf(winner));
        // Its thread ends, and with it its running on the port (as a Windows thread's exit).
        await within(winner.exited, 5000, "the winner's exit");
        await until(() => stats(port).running === 0, 5000, "the winner stops running");
        left = left.filter((w) => w !== winner);
      }
      assert.deepEqual(order, [4, 3, 2, 1, 0], "waiters released last-in-first-out");
    } finally {
      sys.portClose(port);
    }
  });

  test("one waiter is released per completion; the herd variant wakes them all", TIMEOUT, async (t) => {
    const woke = new Map<string, number>();
    for (const { name, wake } of WAKES) {
      const port = portOrSkip(t, 64, 8, wake);
      if (port === undefined) return;
      try {
        const parked = await park(port, 8, wake === C.PORT_WAKE_LIFO);
        await sleep(50); // every waiter settled where it sleeps
        const before = sleeps(port);
        assert.equal(sys.portPostUser(port, 7), 0);
        const { index, reply } = await within(firstReply(parked), 5000, "the one completion");
        assert.deepEqual(reply.completions, [7, C.OP_USER, 0]);
        await sleep(100);
        woke.set(name, sleeps(port) - before);
        if (wake === C.PORT_WAKE_LIFO) {
          assert.equal(index, 7, "the newest waiter took it");
          assert.equal(stats(port).waiters, 7, "the others still wait");
          for (const p of parked.filter((_, i) => i !== index)) assert.equal(threadState(p.tid), "S");
        }
        assert.equal(sys.portClose(port), 0);
        const replies = await within(Promise.all(parked.map((p) => p.reply)), 5000, "parked waiters after close");
        assert.equal(replies.filter((r) => r.r === -C.EBADF).length, 7, "exactly one waiter returned with the completion");
      } finally {
        sys.portClose(port);
      }
    }
    t.diagnostic(`wake-ups for one completion with 8 waiters: ${JSON.stringify(Object.fromEntries(woke))}`);
    // LIFO: the poller, at most one stale waiter left in io_uring_enter, and the next poller's release.
    assert.ok((woke.get("lifo") ?? Infinity) <= 3, `lifo woke ${woke.get("lifo")} threads`);
    assert.ok((woke.get("all") ?? 0) >= 8, `the herd woke only ${woke.get("all")} threads: it is no herd here`);
  });

  test("running never exceeds the concurrency value; the herd variant has no limit", TIMEOUT, async (t) => {
    const keys = 200;
    const seen = new Map<string, { js: number; c: number }>();
    for (const { name, wake } of WAKES) {
      const port = portOrSkip(t, 256, 2, wake);
      if (port === undefined) return;
      try {
        // Each worker holds its completion 2 ms asleep, untold: it runs all along.
        const { board, workers } = await serve(port, 8, keys, 2, false);
        postKeys(port, 0, keys);
        assert.equal(sys.portSubmit(port), 0);
        await until(() => Atomics.load(board, B_TAKEN) === keys, 10_000, "every completion taken");
        await until(() => Atomics.load(board, B_RUNNING) === 0, 5000, "workers back in dequeue");
        const c = stats(port).maxRunning;
        await closeUnder(port, workers);
        for (let k = 0; k < keys; k++) assert.equal(board[B_SEEN + k], 1, `key ${k} taken ${board[B_SEEN + k]} times`);
        seen.set(name, { js: Atomics.load(board, B_MAX), c });
      } finally {
        sys.portClose(port);
      }
    }
    t.diagnostic(`most running at once (as the workers saw it, as the port counted): ${JSON.stringify(Object.fromEntries(seen))}`);
    const lifo = seen.get("lifo")!;
    assert.ok(lifo.js <= 2, `${lifo.js} workers ran at once with concurrency 2`);
    assert.equal(lifo.c, 2, "the port counted the limit reached, never passed");
    assert.ok(seen.get("all")!.js > 2, "the herd variant stayed within 2: the test cannot tell a limit from none");
  });

  test("a blocking notice lets another waiter run; without it the limit holds the next completion", TIMEOUT, async (t) => {
    const gaps = new Map<boolean, number>();
    for (const notice of [true, false]) {
      const port = portOrSkip(t, 64, 1);
      if (port === undefined) return;
      try {
        const { board, times, workers } = await serve(port, 2, 2, 300, notice);
        postKeys(port, 0, 2);
        assert.equal(sys.portSubmit(port), 0);
        await until(() => Atomics.load(board, B_TAKEN) === 2, 5000, "both completions taken");
        gaps.set(notice, Math.abs((times[1] ?? 0) - (times[0] ?? 0)));
        await until(() => Atomics.load(board, B_RUNNING) === 0, 5000, "workers back in dequeue");
        await closeUnder(port, workers);
      } finally {
        sys.portClose(port);
      }
    }
    t.diagnostic(`ms between the two takes: with the notice ${gaps.get(true)?.toFixed(1)}, without ${gaps.get(false)?.toFixed(1)}`);
    assert.ok((gaps.get(true) ?? Infinity) < 150, "with the notice the second completion waited for the first one's block");
    assert.ok((gaps.get(false) ?? 0) >= 250, "without the notice the second completion was taken while the first worker still ran");
  });

  for (const { name, wake } of WAKES) {
    test(`${name}: portClose ends every parked waiter with -EBADF; later calls get -EBADF`, TIMEOUT, async (t) => {
      const port = portOrSkip(t, 64, 2, wake);
      if (port === undefined) return;
      const parked = await park(port, 6, wake === C.PORT_WAKE_LIFO);
      assert.equal(sys.portClose(port), 0);
      const replies = await within(Promise.all(parked.map((p) => p.reply)), 5000, "dequeues parked at close");
      for (const r of replies) assert.equal(r.r, -C.EBADF);
      await within(Promise.all(parked.map((p) => p.exited)), 5000, "parked workers' exit");
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
}

// Last, so every constant above is initialized when the tests or the worker run.
if (!isMainThread) {
  parentPort?.postMessage(workerMain(workerData as Job));
} else {
  defineTests();
}
