/**
 * Thread plumbing shared by the model files, so each model file keeps only
 * what its seed program has: the accept loop, the per-thread loop, the
 * per-handle and per-I/O data.
 */
import fs from "node:fs";
import { Worker, parentPort } from "node:worker_threads";

/**
 * A stop request every thread of a server can see. Worker threads do not
 * share objects, so the flag lives in shared memory; a thread blocked in a
 * system call notices it after its wait times out or is woken.
 */
export class StopFlag {
  private readonly cell: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(4)) {
    this.cell = new Int32Array(buffer);
  }

  set(): void {
    Atomics.store(this.cell, 0, 1);
  }

  get isSet(): boolean {
    return Atomics.load(this.cell, 0) !== 0;
  }
}

/**
 * Options every server thread is started with. Under a profiler (the
 * runner sets IOBENCH_PROFILER): clinic injects its samplers through
 * NODE_OPTIONS ("-r sampler.js"), which worker threads would load too, each
 * writing the same per-process files at once (clinic then cannot decode
 * them); threads get the environment without NODE_OPTIONS, so only the
 * main thread samples (process-wide figures such as CPU cover every thread).
 */
export function threadOptions(): { env?: NodeJS.ProcessEnv } {
  if (process.env["IOBENCH_PROFILER"] === undefined) return {};
  const { NODE_OPTIONS: _dropped, ...env } = process.env;
  return { env };
}

/**
 * Starts `count` worker threads running `file` (a model file's compiled
 * URL, usually `import.meta.url`), each given `data(i)` as workerData.
 * A thread that throws takes the whole server down: a silently missing
 * thread would make every figure of the run a lie.
 */
export function startThreads(file: string | URL, count: number, data: (index: number) => unknown): Worker[] {
  const workers: Worker[] = [];
  for (let i = 0; i < count; i++) {
    const worker = new Worker(new URL(file), { workerData: data(i), ...threadOptions() });
    worker.on("error", (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`iobench server: a server thread failed: ${message}\n`);
      process.exit(70);
    });
    workers.push(worker);
  }
  return workers;
}

/**
 * Names the calling thread (its comm, at most 15 bytes), so `top -H`, a
 * debugger and the benchmarks' per-thread context switches
 * (Figures.serverContextSwitchesByThread) can tell a model's threads from
 * Node's own, which are all "node". A name is a convenience: without a
 * writable /proc the thread keeps Node's.
 */
export function nameThread(name: string): void {
  try {
    fs.writeFileSync("/proc/thread-self/comm", name.slice(0, 15));
  } catch {
    // no /proc mounted, or a kernel before 3.17 (no thread-self)
  }
}

/** Resolves when every given thread has exited. */
export function whenExited(workers: readonly Worker[]): Promise<void> {
  return Promise.all(
    workers.map((w) => (w.threadId === -1 ? Promise.resolve() : new Promise<void>((resolve) => w.once("exit", () => resolve())))),
  ).then(() => undefined);
}

/** The message signalReady() posts; unlikely to collide with a model's own messages. */
const READY = "iobench:thread-ready";

/**
 * Called by a server thread once its module has loaded and its loop is
 * about to run. Until then the thread may still be opening files, so a
 * server that reported "listening" earlier could be starved of fds (EMFILE)
 * or time by its first clients.
 */
export function signalReady(): void {
  parentPort?.postMessage(READY);
}

/**
 * Resolves when every given thread has called signalReady(); rejects if one
 * exits first. A start() awaits this before it resolves.
 */
export function whenReady(workers: readonly Worker[]): Promise<void> {
  return Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          const onMessage = (m: unknown): void => {
            if (m !== READY) return;
            w.off("message", onMessage);
            w.off("exit", onExit);
            resolve();
          };
          const onExit = (code: number): void => {
            w.off("message", onMessage);
            reject(new Error(`a server thread exited (code ${code}) before it was ready`));
          };
          w.on("message", onMessage);
          w.once("exit", onExit);
        }),
    ),
  ).then(() => undefined);
}

/** How long a lock waiter sleeps before it looks again (a missed wake-up costs no more). */
const LOCK_RECHECK_MS = 10;

/**
 * Takes the lock in cells[i] (0 free, 1 held), a futex-style lock over
 * shared memory for threads that share no objects: spin once, then sleep
 * in Atomics.wait. Hold it briefly; never two at once (no lock order).
 */
export function lockCell(cells: Int32Array, i: number): void {
  while (Atomics.compareExchange(cells, i, 0, 1) !== 0) Atomics.wait(cells, i, 1, LOCK_RECHECK_MS);
}

/** Releases lockCell's lock and wakes one waiter. */
export function unlockCell(cells: Int32Array, i: number): void {
  Atomics.store(cells, i, 0);
  Atomics.notify(cells, i, 1);
}

/** A model's thread count: per-connection never reaches a model without it (servers/options.ts refuses it first). */
export function poolThreads(o: { model: string; threads: number | "per-connection" }): number {
  if (o.threads === "per-connection") throw new Error(`threads per-connection reached the ${o.model} model, which has no such setting`);
  return o.threads;
}
