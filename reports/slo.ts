/**
 * Service-level objectives (--slo) and whether one run met one: the rule a
 * search (runner/search.ts) decides by and the curves are drawn against.
 * Pure: a run in, a verdict with its reasons out.
 *
 * A run meets the objective when it completed, every condition holds, and
 * nothing says the rate was not really served: no error inside the window,
 * no session left unserved, no shortfall below 90 % of the offered rate
 * (BELOW-TARGET-RATE). Latency conditions read the corrected histogram
 * (timed from the intended send, as wrk2 does).
 *
 * Whose miss. A run that missed while the client was saturated or starved
 * (CLIENT-SATURATED, CLIENT-STARVED: its CPU, so anything it timed, or its
 * waits for one, which make its timestamps late) is "client-limited": it
 * says nothing of the server, and a search stops there rather than call it
 * the server's limit. A client that was only behind its schedule
 * (CLIENT-BEHIND) delayed each message by its own send lag at most, so a
 * latency percentile still above the bound once the largest send lag is
 * taken off is the server's miss all the same; errors and unserved sessions
 * are the server's too. Any other miss beside CLIENT-BEHIND is
 * "client-limited".
 *
 * A miss the client does not explain, while other processes took the run's
 * CPUs (MACHINE-BUSY), is "disturbed": the server had less CPU than the run
 * gave it, so on a shared machine the miss may be the neighbours' and says
 * nothing of the server's limit. A met run stays met: the server met the
 * objective even with less CPU.
 */
import { decodeHistogram } from "../contracts/histogram.js";
import type { Figures, Probe, Run, RunFlag, SloCondition } from "./schema.js";

/** Flags that say the client may have set the figures: saturated or starved of CPU (nothing it timed can be trusted) and behind (by its send lag, which is measured). */
export const CLIENT_LIMIT_FLAGS: readonly RunFlag[] = ["CLIENT-SATURATED", "CLIENT-STARVED", "CLIENT-BEHIND"];

/** Failures that are the server's doing: a rate at which the server dies or stops answering is a rate it did not serve. */
const SERVER_FAILURES = new Set(["server-died", "server-unresponsive"]);

/** "p99", "p99.9", "max" */
export function percentileName(p: number): string {
  return p === 100 ? "max" : `p${p}`;
}

/** A µs duration as people write it: 850us, 2ms, 1.5s. */
export function formatUs(us: number): string {
  if (us >= 1_000_000) return `${Number((us / 1_000_000).toPrecision(4))}s`;
  if (us >= 1000) return `${Number((us / 1000).toPrecision(4))}ms`;
  return `${Number(us.toPrecision(4))}us`;
}

/** One condition as --slo takes it: "p99=2ms", "achieved=99%". */
export function formatCondition(c: SloCondition): string {
  return c.kind === "latency" ? `${percentileName(c.percentile)}=${formatUs(c.boundUs)}` : `achieved=${Number((c.minShare * 100).toPrecision(4))}%`;
}

/** The corrected round trip at a percentile, µs, or null without messages. */
export function latencyAt(f: Figures, percentile: number): number | null {
  const s = f.latencyUs;
  if (s === null) return null;
  const known: Record<number, number> = { 50: s.p50, 90: s.p90, 99: s.p99, 99.9: s.p99_9, 100: s.max };
  return known[percentile] ?? decodeHistogram(f.latencyHistogram.data).getValueAtPercentile(percentile);
}

/** One way a run missed the objective, and whether it is the server's whatever the client did. */
interface Miss {
  reason: string;
  server: boolean;
}

/** How a run's figures miss the conditions (none when they meet them all); `lagMaxUs` = the client's largest own send lag. */
function misses(f: Figures, conditions: readonly SloCondition[], lagMaxUs: number): Miss[] {
  const out: Miss[] = [];
  for (const c of conditions) {
    if (c.kind === "latency") {
      const v = latencyAt(f, c.percentile);
      if (v === null) out.push({ reason: "no message completed inside the window", server: false });
      else if (v > c.boundUs) out.push({ reason: `${percentileName(c.percentile)} ${formatUs(v)} > ${formatUs(c.boundUs)}`, server: v - lagMaxUs > c.boundUs });
    } else {
      const share = f.openLoop?.achievedRatio;
      if (share === undefined) out.push({ reason: "not an open-loop run: no offered rate to compare with", server: false });
      else if (share < c.minShare) out.push({ reason: `achieved ${(share * 100).toFixed(1)}% of the offered rate < ${formatCondition(c).slice("achieved=".length)}`, server: false });
    }
  }
  if (f.errors.total > 0) out.push({ reason: `${f.errors.total} error(s) inside the window`, server: true });
  if (f.flags.includes("MISMATCH")) out.push({ reason: "echoes came back corrupted (MISMATCH)", server: true });
  if (f.flags.includes("SESSIONS-UNSERVED")) out.push({ reason: `${f.sessionsNotServed} session(s) never served inside the window`, server: true });
  if (f.flags.includes("BELOW-TARGET-RATE") && f.openLoop !== null && !out.some((m) => m.reason.startsWith("achieved"))) {
    out.push({ reason: `achieved only ${(f.openLoop.achievedRatio * 100).toFixed(1)}% of the offered rate (BELOW-TARGET-RATE)`, server: false });
  }
  return out;
}

/** Whether one run met the objective, and why not (see the file comment for whose miss it is). */
export function judgeRun(run: Run, conditions: readonly SloCondition[]): Pick<Probe, "outcome" | "reasons"> {
  if (run.status === "failed") {
    return { outcome: SERVER_FAILURES.has(run.failure) ? "missed" : "failed", reasons: [`${run.failure}: ${run.error}`] };
  }
  const f = run.figures;
  const lagMax = f.openLoop?.clientSendLagUs?.max ?? 0;
  const found = misses(f, conditions, lagMax);
  if (found.length === 0) return { outcome: "met", reasons: [] };
  const reasons = found.map((m) => m.reason);
  const limits = CLIENT_LIMIT_FLAGS.filter((flag) => f.flags.includes(flag));
  if (limits.length > 0 && (limits.some((l) => l !== "CLIENT-BEHIND") || !found.some((m) => m.server))) {
    return { outcome: "client-limited", reasons: [`the client itself was a limit: ${limits.join(", ")}`, ...reasons] };
  }
  if (limits.length > 0) reasons.push(`the client was behind too (send lag up to ${formatUs(lagMax)}), not enough to explain the miss`);
  // A corrupted echo is the server's whatever the CPUs did.
  if (!f.flags.includes("MACHINE-BUSY") || f.flags.includes("MISMATCH")) return { outcome: "missed", reasons };
  const other = f.otherCpuShare ?? null;
  const share = other === null ? "" : ` (${Math.round(other * 100)}% of the run's CPUs)`;
  return { outcome: "disturbed", reasons: [`other processes took the CPUs: MACHINE-BUSY${share}`, ...reasons] };
}
