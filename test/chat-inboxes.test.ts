/**
 * The chat inboxes (servers/chat/inboxes.ts) under real threads: every
 * frame reaches every other thread once, whole and in its sender's order,
 * including when the inboxes are full and two threads wait on each other.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { Inboxes, makeInboxes, type InboxesData } from "../servers/chat/inboxes.js";

interface Job {
  inboxes: InboxesData;
  index: number;
  threads: number;
  frames: number;
  largest: number;
  /** Drain only while waiting for room (as a thread that never gets a wake-up would). */
  drainOnlyWhenFull: boolean;
}

interface Reply {
  received: number;
  broken: number;
  outOfOrder: number;
  /** Posts that found an inbox full (so the wait path ran). */
  waits: number;
}

/** Frame k of sender s: [s, k, length] then bytes derived from all three, so a torn or mixed-up frame shows. */
function frameOf(s: number, k: number, largest: number): Uint8Array {
  const length = 12 + ((k * 7919 + s * 104729) % (largest - 11));
  const f = new Uint8Array(length);
  const v = new DataView(f.buffer);
  v.setUint32(0, s);
  v.setUint32(4, k);
  v.setUint32(8, length);
  for (let i = 12; i < length; i++) f[i] = (i * 31 + k * 17 + s) & 0xff;
  return f;
}

function workerMain(job: Job): Reply {
  const inboxes = new Inboxes(job.inboxes, job.index);
  const next = new Array<number>(job.threads).fill(0);
  const reply: Reply = { received: 0, broken: 0, outOfOrder: 0, waits: 0 };
  const deliver = (f: Uint8Array): void => {
    const v = new DataView(f.buffer, f.byteOffset, f.byteLength);
    const s = v.getUint32(0);
    const k = v.getUint32(4);
    reply.received++;
    if (k !== next[s]) reply.outOfOrder++;
    next[s] = k + 1;
    const want = frameOf(s, k, job.largest);
    if (f.length !== want.length || !f.every((b, i) => b === want[i])) reply.broken++;
  };
  const waitDrain = (f: Uint8Array): void => {
    reply.waits++;
    deliver(f);
  };
  for (let k = 0; k < job.frames; k++) {
    inboxes.post(frameOf(job.index, k, job.largest), () => {}, job.drainOnlyWhenFull ? waitDrain : deliver);
    if (!job.drainOnlyWhenFull) inboxes.drain(deliver);
  }
  const expected = job.frames * (job.threads - 1);
  const deadline = Date.now() + 20_000;
  while (reply.received < expected && Date.now() < deadline) inboxes.drain(deliver);
  return reply;
}

function run(job: Omit<Job, "index" | "inboxes">): Promise<Reply[]> {
  const inboxes = makeInboxes(job.threads, job.largest);
  return Promise.all(
    Array.from(
      { length: job.threads },
      (_, index) =>
        new Promise<Reply>((resolve, reject) => {
          const w = new Worker(new URL(import.meta.url), { workerData: { ...job, index, inboxes } });
          w.once("message", (m: unknown) => resolve(m as Reply));
          w.once("error", reject);
          w.once("exit", (code) => reject(new Error(`worker exited (code ${code}) without a reply`)));
        }),
    ),
  );
}

function defineTests(): void {
  test("every frame reaches every other thread once, whole and in order (4 threads, frames up to 64 KiB)", { timeout: 60_000 }, async () => {
    const replies = await run({ threads: 4, frames: 1000, largest: 64 * 1024, drainOnlyWhenFull: false });
    for (const r of replies) assert.deepEqual({ ...r, waits: 0 }, { received: 3 * 1000, broken: 0, outOfOrder: 0, waits: 0 });
  });

  test("two threads that only drain while waiting for room on each other's full inbox both finish", { timeout: 60_000 }, async () => {
    // Each posts 300 frames of up to 256 KiB (the ring is 1 MiB) and never drains otherwise:
    // without draining in the wait, each would wait forever on the other.
    const replies = await run({ threads: 2, frames: 300, largest: 256 * 1024, drainOnlyWhenFull: true });
    for (const r of replies) {
      assert.equal(r.received, 300);
      assert.equal(r.broken, 0);
      assert.equal(r.outOfOrder, 0);
      assert.ok(r.waits > 0, "the inboxes never filled: the test did not reach the wait path");
    }
  });

  test("a frame longer than the inboxes were made for is refused, not waited on forever", () => {
    const inboxes = new Inboxes(makeInboxes(2, 1000), 0);
    assert.throws(() => inboxes.post(new Uint8Array(600 * 1024), () => {}, () => {}), /longer than the inboxes were made for/);
  });
}

if (!isMainThread) parentPort?.postMessage(workerMain(workerData as Job));
else defineTests();
