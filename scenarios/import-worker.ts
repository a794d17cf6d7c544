/**
 * Imports a user's scenario module in a worker thread and posts back its
 * default export as plain data. The module is the user's code: in a thread
 * of its own, a top-level await that never settles, a loop that never ends
 * or a timer that keeps running cannot hang iobench or keep it alive; the
 * loader waits a bounded time and then ends the thread (scenarios/load.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { NotPlainData, plainCopy } from "./plain.js";

/** What the thread posts. */
export type ImportReply =
  | { kind: "ok"; value: unknown }
  | { kind: "no-default" }
  | { kind: "not-plain"; field: string; problem: string }
  | { kind: "error"; message: string };

function reply(r: ImportReply): void {
  parentPort!.postMessage(r);
}

const { url } = workerData as { url: string };
try {
  const mod = (await import(url)) as { default?: unknown };
  if (mod.default === undefined) reply({ kind: "no-default" });
  else reply({ kind: "ok", value: plainCopy(mod.default) });
} catch (err) {
  if (err instanceof NotPlainData) reply({ kind: "not-plain", field: err.field, problem: err.message });
  else reply({ kind: "error", message: err instanceof Error ? err.message : String(err) });
}
