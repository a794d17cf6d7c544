/**
 * Starting a run's load as parts: the source addresses this machine's
 * processes need, the split, and the driver over the transport.
 */
import type { ClientOptions } from "../../contracts/client.js";
import type { RunConfig } from "../../reports/schema.js";
import { ephemeralPorts } from "../limits.js";
import { PartsDriver, type PartsTransport } from "./driver.js";
import { sourceHostsFor, splitLoad } from "./plan.js";

/** How a run's load is split (config.clientProcesses or config.agents says how many). */
export interface PartsSetup {
  transport: PartsTransport;
  count: number;
  /** Client threads: config.clientThreads shared out (processes on this machine), or each part's own (agents; 0 = its choice). */
  threads: { total: number } | { each: number };
}

let runIds = 0;

/** The load split into parts, started: resolves at their common start time. */
export function startParts(config: RunConfig, setup: PartsSetup, options: ClientOptions, finishLimitMs: number): Promise<PartsDriver> {
  // Processes share this machine's ephemeral ports toward the server; each agent has its own machine's.
  const sources = setup.transport.kind === "process" ? sourceHostsFor(options.host, options.sessions, ephemeralPorts()) : [];
  if (typeof sources === "string") throw new Error(sources);
  const plans = splitLoad({
    runId: `${process.pid}-${Date.now()}-${++runIds}`,
    client: { ...options, sourceHosts: sources },
    parts: setup.count,
    threads: setup.threads,
    finishLimitMs,
    targetMessagesPerSec: config.load?.targetRateTotalPerSec ?? null,
    sessionsChurn: (config.load?.messagesPerSession ?? 0) > 0,
  });
  return PartsDriver.start(setup.transport, plans, { warmupMs: config.warmupSec * 1000, durationMs: config.durationSec * 1000, finishLimitMs });
}
