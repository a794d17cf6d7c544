/**
 * One client worker thread: pins itself, runs its share of the sessions
 * (engine/core.ts) over the backend the client chose (engine/epoll.ts or
 * engine/uring.ts), and posts what it measured.
 */
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { errname, sys } from "../native/index.js";
import { SessionCore } from "./engine/core.js";
import { EpollBackend } from "./engine/epoll.js";
import { UringBackend } from "./engine/uring.js";
import { WORKER_TAG } from "./shared.js";
import type { WorkerConfig, WorkerReady } from "./shared.js";

function isWorkerConfig(data: unknown): data is WorkerConfig {
  return typeof data === "object" && data !== null && (data as { tag?: unknown }).tag === WORKER_TAG;
}

if (!isMainThread && parentPort !== null && isWorkerConfig(workerData)) {
  const cfg = workerData;
  if (cfg.cpus.length > 0) {
    const r = sys.setAffinity(0, cfg.cpus);
    if (r < 0) throw new Error(`cannot pin a client thread to CPUs ${cfg.cpus.join(",")}: ${errname(r)}`);
  }
  const core = new SessionCore(cfg);
  const backend = cfg.engine === "uring" ? new UringBackend(core) : new EpollBackend(core);
  const ready: WorkerReady = { type: "ready", threadId: sys.gettid() };
  parentPort.postMessage(ready);
  parentPort.postMessage(core.run(backend));
}
