/**
 * A load split into parts: what the coordinator (the runner of a run) hands
 * each part, and what a part hands back. A part is one client process on
 * this machine (--client-processes) or one agent on another machine
 * (--agents, a BullMQ job through Redis); both run the same thing
 * (runner/parts/part.ts) and answer in the same shape, so the split and the
 * exact merge are written once. Everything here crosses a process or a
 * machine as JSON: histograms travel encoded (contracts/histogram.ts).
 */
import type { ClientOptions, LiveCounters } from "../../contracts/client.js";
import type { Figures } from "../../reports/schema.js";

/**
 * When the parts run, on one reference clock: epoch ms of this machine for
 * processes on it, Redis TIME for agents. Each part converts with its own
 * measured offset, so one start time means one instant everywhere.
 */
export interface PartSchedule {
  /** Sessions start (warm-up begins), reference epoch ms. */
  startAtMs: number;
  warmupMs: number;
  durationMs: number;
}

/** One part's share of a run. */
export interface PartPlan {
  /** Unique per run (a control channel and the jobs are named after it). */
  runId: string;
  /** The part's name as results.json shows it ("process 2", or the agent's --name). */
  name: string;
  /**
   * Its client: its share of the sessions (part.sessionOffset of
   * part.totalSessions), of the connect rate and of the source addresses.
   * clientThreads 0 = the part chooses (an agent: its own cores).
   */
  client: ClientOptions;
  schedule: PartSchedule;
  /** The part gives up waiting for its own client to hand over after this, ms. */
  finishLimitMs: number;
  /** Open loop: this part's target messages per second, for its own BELOW-TARGET-RATE; null in closed loop. */
  targetMessagesPerSec: number | null;
  /** Sessions close and reconnect by design (messages per session). */
  sessionsChurn: boolean;
}

/** How a part ran against the schedule, and its clock. */
export interface PartTiming {
  /** Its clock minus the reference, ms (0 on the reference machine). */
  clockOffsetMs: number;
  /** Round trip of the reading the offset came from, ms (0 on the reference machine). */
  clockRttMs: number;
  /** Its sessions started this long after startAtMs, ms. */
  loadStartLagMs: number | null;
  /** Its measured window opened this long after startAtMs + warmupMs, ms. */
  windowStartLagMs: number | null;
}

/** Where a part ran. */
export interface PartWhere {
  host: string;
  pid: number;
  /** Client threads it ran (it may have chosen them). */
  clientThreads: number;
}

/** What a part hands back: its own figures (client side), or why it has none. */
export type PartResult =
  | ({ status: "ok"; figures: Figures; timing: PartTiming; linkDrops: number } & PartWhere)
  | ({ status: "failed"; error: string; timing: PartTiming | null; linkDrops: number } & PartWhere);

/** Messages between the coordinator and a part (IPC for processes; job progress and a Redis channel for agents). */
export type PartControl = { type: "end" } | { type: "stop" };
export type PartReport = { type: "ready" } | { type: "live"; live: LiveCounters } | { type: "result"; result: PartResult };
