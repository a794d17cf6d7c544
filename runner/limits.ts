/**
 * The open-file limit. Every session costs the client one fd and the server
 * one fd; a limit too low would show up mid-run as a storm of connect
 * errors, so it is raised (soft up to hard) or refused before any run. The
 * server process inherits the limit, so this runs before it is spawned.
 */
import { readFileSync } from "node:fs";
import type * as Native from "../native/index.js";
import { UsageError, oneLine } from "../contracts/errors.js";

/** Fds a process needs beyond one per session (Node itself, epoll sets, stdio, files). */
export const FD_MARGIN = 128;

/** The native addon, loaded on demand so a missing build is one line, not a stack trace. */
async function addon(): Promise<typeof Native> {
  try {
    return await import("../native/index.js");
  } catch (err) {
    throw new UsageError(`the native addon cannot be loaded: ${oneLine(err)}`);
  }
}

/**
 * Makes sure `sessions` sessions fit under RLIMIT_NOFILE, raising the soft
 * limit when needed. Returns the limit in force; throws UsageError if the
 * hard limit is too low.
 */
export async function ensureOpenFileLimit(sessions: number): Promise<{ soft: number; hard: number }> {
  const { sys, errname } = await addon();
  const need = sessions + FD_MARGIN;
  const [soft, hard] = sys.getNofileLimit();
  if (soft >= need) return { soft, hard };
  if (hard < need) {
    throw new UsageError(
      `open-file limit too low: ${sessions} connections need ${need} open files but the hard limit is ${hard} (raise it with \`ulimit -Hn ${need}\` as root, or use fewer --connections)`,
    );
  }
  const r = sys.setNofileLimit(hard);
  if (r < 0) {
    throw new UsageError(`open-file limit too low: need ${need}, soft limit is ${soft} and raising it failed (${errname(r)}); run \`ulimit -n ${need}\` first`);
  }
  return { soft: hard, hard };
}

/** Ports in net.ipv4.ip_local_port_range: how many sessions one source address can open to one server address. */
export function ephemeralPorts(): number {
  try {
    const [lo, hi] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (lo !== undefined && hi !== undefined && Number.isFinite(lo) && Number.isFinite(hi)) return hi - lo + 1;
  } catch {
    // not Linux /proc: the kernel's default range
  }
  return 60999 - 32768 + 1;
}

/** The open-file limit as [soft, hard]. */
export async function openFileLimit(): Promise<{ soft: number; hard: number }> {
  const [soft, hard] = (await addon()).sys.getNofileLimit();
  return { soft, hard };
}
