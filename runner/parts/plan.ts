/**
 * How a run's load is split into parts (pure): sessions as evenly as they
 * go, each part continuing the whole load's session numbering (so ramp-up
 * slots, message patterns and source addresses are the whole load's), the
 * connect rate and the open-loop target in proportion, client threads
 * shared out. How many client processes a machine needs, and when one
 * source address's ephemeral ports run out, are decided here too.
 */
import type { ClientOptions } from "../../contracts/client.js";
import type { PartPlan } from "./messages.js";

/** Sessions per part: `total` over `parts`, the first ones one more when it does not divide. */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_v, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

/**
 * Client processes to hold `sessions` under the open-file limit: each
 * process needs one fd per session plus `margin` of its own. At least one.
 */
export function defaultClientProcesses(sessions: number, hardLimit: number, margin: number): number {
  const perProcess = Math.max(1, hardLimit - margin);
  return Math.max(1, Math.ceil(sessions / perProcess));
}

/**
 * The share of the ephemeral range one source address is given. connect()
 * takes the even ports of the range first (bind() the odd ones) and only
 * scans for an odd one once it has walked every even port: past half the
 * range every connect pays that walk (measured here: a client process's
 * connects went from ~50 µs to ~66 ms once ~12,000 sessions shared an
 * address). 0.4 keeps each address inside its even half, with room for
 * TIME_WAIT and other programs.
 */
export const PORT_SHARE = 0.4;

/**
 * Source addresses for `sessions` to one server address: none when one
 * address's ephemeral ports hold them; on loopback (127.0.0.0/8, every
 * address of it is this machine's) as many 127.0.1.x as it takes. Off
 * loopback an address cannot be made up: a string says what to do instead.
 */
export function sourceHostsFor(host: string, sessions: number, ports: number): string[] | string {
  const perAddress = Math.max(1, Math.floor(ports * PORT_SHARE));
  if (sessions <= perAddress) return [];
  const needed = Math.ceil(sessions / perAddress);
  if (!host.startsWith("127.")) {
    return `${sessions} sessions to ${host} need ${needed} source addresses' worth of local ports (one address has ${ports}): widen net.ipv4.ip_local_port_range, or spread the load over machines (--agents)`;
  }
  if (needed > 254) return `${sessions} sessions need ${needed} loopback source addresses; at most 254 are used`;
  return Array.from({ length: needed }, (_v, i) => `127.0.1.${i + 1}`);
}

/** What every part of one run shares. */
export interface SplitInput {
  runId: string;
  /** The whole load's client options (sessions = every part's). */
  client: ClientOptions;
  /** Parts to split into (fewer when there are fewer sessions). */
  parts: number;
  /** Client threads of each part: a total to share out (processes on one machine), or "each" part's own (agents: 0 = its choice). */
  threads: { total: number } | { each: number };
  finishLimitMs: number;
  /** Open loop: the whole load's target, messages/s; null in closed loop. */
  targetMessagesPerSec: number | null;
  sessionsChurn: boolean;
}

/** The parts' plans, without their schedule (the driver sets one start time for all). */
export function splitLoad(s: SplitInput): Omit<PartPlan, "schedule" | "name">[] {
  const total = s.client.sessions;
  const shares = splitEvenly(total, Math.min(s.parts, total));
  const threads = "total" in s.threads ? splitEvenly(Math.max(s.threads.total, shares.length), shares.length) : shares.map(() => (s.threads as { each: number }).each);
  let offset = 0;
  return shares.map((sessions, i) => {
    const share = sessions / total;
    const client: ClientOptions = {
      ...s.client,
      sessions,
      clientThreads: threads[i]!,
      part: { sessionOffset: offset, totalSessions: total },
      ...(s.client.script !== undefined ? { script: { ...s.client.script, connectRatePerSec: s.client.script.connectRatePerSec * share } } : {}),
    };
    offset += sessions;
    return {
      runId: s.runId,
      client,
      finishLimitMs: s.finishLimitMs,
      targetMessagesPerSec: s.targetMessagesPerSec === null ? null : s.targetMessagesPerSec * share,
      sessionsChurn: s.sessionsChurn,
    };
  });
}
