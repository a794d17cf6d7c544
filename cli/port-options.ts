/**
 * The iocp model's completion-port flags (--concurrency, --port-wake,
 * --block-notice), shared by bench and serve, checked against the models
 * and the work they apply to.
 */
import type { Options } from "yargs";
import type { CompletionPortConfig } from "../reports/schema.js";
import { UsageError } from "../contracts/errors.js";
import { MAX_CONCURRENCY } from "../contracts/server.js";
import type { WorkSpec } from "../contracts/work.js";
import { integer, scalar } from "./parse.js";
import type { RawFlag } from "./parse.js";

export const PORT_FLAGS: Record<string, Options> = {
  concurrency: {
    type: "string",
    requiresArg: true,
    description:
      "iocp model: the completion port's concurrency value, the most worker threads running completions at once " +
      "(CreateIoCompletionPort's NumberOfConcurrentThreads); workers beyond it wait, released newest first",
    defaultDescription: "the CPUs the server may use (what 0 means to CreateIoCompletionPort)",
  },
  "port-wake": {
    type: "string",
    requiresArg: true,
    choices: ["lifo", "all"],
    description:
      "iocp model: lifo = a completion port (one waiting worker released per completion batch, newest first, within the concurrency value); " +
      "all = every waiting worker wakes on each completion, no limit (the thundering herd, to compare)",
    defaultDescription: "lifo",
  },
  "block-notice": {
    type: "boolean",
    description:
      "iocp model with --work block:...: workers tell the port they block, so it releases another, as the Windows kernel does by itself; " +
      "--no-block-notice leaves it out",
    defaultDescription: "on",
  },
};

/**
 * The port as asked, or null when no iocp server is started (then none of
 * the flags may be given). `concurrency` stays null unless given: the
 * server's CPUs, resolved per run.
 */
export function portChoice(args: Record<string, RawFlag>, iocp: boolean, work: WorkSpec | null): CompletionPortConfig | null {
  const concurrencyText = scalar(args.concurrency);
  const wakeText = scalar(args["port-wake"]);
  const notice = args["block-notice"];
  const given = [concurrencyText !== undefined && "--concurrency", wakeText !== undefined && "--port-wake", notice !== undefined && "--block-notice"];
  const first = given.find((g) => g !== false);
  if (!iocp) {
    if (first !== undefined) throw new UsageError(`${first} applies to the iocp model, which this command does not start`);
    return null;
  }
  const wake = wakeText ?? "lifo";
  if (wake !== "lifo" && wake !== "all") throw new UsageError(`--port-wake must be lifo or all, got '${wake}'`);
  if (wake === "all" && concurrencyText !== undefined) throw new UsageError("--concurrency has no effect with --port-wake all (every waiter wakes, no limit)");
  if (notice !== undefined && work?.kind !== "block") throw new UsageError("--block-notice applies with --work block:<time> only");
  return {
    concurrency: concurrencyText === undefined ? null : integer("concurrency", concurrencyText, 1, MAX_CONCURRENCY),
    wake,
    blockNotice: notice !== false,
  };
}
