/**
 * Per-message server work (`--work`), to show claim 4 of DESIGN.md: what a
 * server does with each message (compute, or wait on a database) can matter
 * more than its I/O model.
 *
 *   cpu:<duration>    spin on the serving thread until it has used that much
 *                     CPU time (thread CPU clock, so being preempted does not
 *                     shorten the work): 200us, 200µs, 0.2ms; a bare number is µs.
 *   block:<duration>  block the serving thread that long in a call that uses
 *                     no CPU (Atomics.wait on a private cell), like a slow
 *                     database query: 20ms, 500us; a bare number is ms.
 *
 * What "per message" means on a byte stream. Echo has no message boundaries:
 * the server sees reads, and one message may arrive in several reads (large
 * sizes) or several messages in one read (a pipelining client). Counting
 * reads would make the work depend on how TCP cut the stream. So the server
 * is told the message size (the runner passes the run's `--size`) and counts
 * bytes per connection: the work is done once for every `messageBytes`
 * received on a connection, at the read that completes the message, after
 * the recv and before the echo is sent. For iobench's ping-pong client that
 * is exactly once per message, just before its last bytes go back, so the
 * work adds to every round trip.
 */
import { sys } from "../native/index.js";

/** A parsed `--work` value: what to do per message. */
export interface WorkSpec {
  kind: "cpu" | "block";
  /** CPU time to use (cpu) or time to stay blocked (block), µs. */
  durationUs: number;
}

/** The work a server does, and the message size it counts bytes in. Plain data: it crosses to worker threads. */
export interface MessageWork extends WorkSpec {
  /** Bytes that make one message on a connection (the run's message size). */
  messageBytes: number;
}

/** The longest work per message accepted: past this a run would only measure the work. */
const MAX_DURATION_US = 10_000_000;

const UNIT_US: Record<string, number> = { us: 1, µs: 1, μs: 1, ms: 1000, s: 1_000_000 };

/** Parses a `--work` value; throws one line naming the problem. "none" (or "") means no work: null. */
export function parseWork(text: string): WorkSpec | null {
  const t = text.trim();
  if (t === "" || t.toLowerCase() === "none") return null;
  const m = /^(cpu|block):\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-zA-Zµμ]*)$/.exec(t);
  if (m === null) return badWork(text, "expected cpu:<time> or block:<time>, e.g. cpu:200us or block:20ms");
  const kind = m[1] as WorkSpec["kind"];
  const unitText = m[3]!.toLowerCase();
  const unit = unitText === "" ? (kind === "cpu" ? 1 : 1000) : UNIT_US[unitText];
  if (unit === undefined) return badWork(text, `unknown unit '${m[3]}' (us, µs, ms or s)`);
  const durationUs = Number(m[2]) * unit;
  if (!(durationUs > 0)) return badWork(text, "the time must be above 0 (use none for no work)");
  if (durationUs > MAX_DURATION_US) return badWork(text, `at most ${MAX_DURATION_US / 1_000_000} s per message`);
  return { kind, durationUs };
}

function badWork(text: string, why: string): never {
  throw new Error(`--work '${text}': ${why}`);
}

/** The spec as the user would write it: "cpu:200us", "block:20ms", or "none". */
export function formatWork(work: WorkSpec | null): string {
  if (work === null) return "none";
  const us = work.durationUs;
  return us >= 1000 && us % 1000 === 0 ? `${work.kind}:${us / 1000}ms` : `${work.kind}:${us}us`;
}

/** Checks work arriving as JSON (the server process's options); throws one line. */
export function checkMessageWork(work: unknown): MessageWork | null {
  if (work === null || work === undefined) return null;
  const w = work as Partial<MessageWork>;
  const ok =
    typeof work === "object" &&
    (w.kind === "cpu" || w.kind === "block") &&
    typeof w.durationUs === "number" &&
    w.durationUs > 0 &&
    w.durationUs <= MAX_DURATION_US &&
    Number.isSafeInteger(w.messageBytes) &&
    (w.messageBytes ?? 0) >= 1;
  if (!ok) throw new Error(`work must be null or {kind: "cpu"|"block", durationUs, messageBytes}, not ${JSON.stringify(work)}`);
  return { kind: w.kind!, durationUs: w.durationUs!, messageBytes: w.messageBytes! };
}

/** A cell no other thread waits on or wakes: Atomics.wait on it is a plain blocking sleep. */
const blockCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Called with true just before a `block:` wait and with false just after it:
 * how the iocp model tells its completion port what the Windows kernel would
 * see by itself (native/port.c, portBlocking).
 */
export type BlockingNotice = (blocking: boolean) => void;

/** One message's work on the calling thread. */
function doWork(work: WorkSpec, notice: BlockingNotice | null): void {
  if (work.kind === "block") {
    notice?.(true);
    Atomics.wait(blockCell, 0, 0, work.durationUs / 1000);
    notice?.(false);
    return;
  }
  const until = sys.threadCpuUs() + work.durationUs;
  while (sys.threadCpuUs() < until) {
    // spin: the thread's CPU clock is the work's measure
  }
}

/**
 * Called by a model after every recv that brought `received` bytes on a
 * connection which had `carried` bytes of an unfinished message before it:
 * does the work of every message these bytes complete, and returns the bytes
 * carried into the next message (the connection keeps it). With no work it
 * does nothing and returns 0. `notice` is told around each blocking wait.
 */
export function workPerMessage(work: MessageWork | null, carried: number, received: number, notice: BlockingNotice | null = null): number {
  if (work === null) return 0;
  let bytes = carried + received;
  while (bytes >= work.messageBytes) {
    doWork(work, notice);
    bytes -= work.messageBytes;
  }
  return bytes;
}
