/**
 * Per-message server work (`--work`), to show claim 4 of docs/DESIGN.md: what a
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
import type { MessageWork, WorkSpec } from "../contracts/work.js";

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
