/**
 * A load split over client processes or agents: how the parts' own
 * verdicts become the run's, and what is said about a part that did not
 * hold up. Pure, like derive.ts.
 *
 * The merged figures come from the parts that measured (runner/parts/
 * merge.ts); here:
 *   - the client side (CPU, saturation, memory per session) is the parts':
 *     the coordinator's own process ran no session;
 *   - a part that failed, returned nothing, or measured a window shorter
 *     than the others makes the run PARTIAL: its figures are the rest's,
 *     never a silent merge;
 *   - a part that started its load or its window late is PART-LATE, one
 *     whose link to the coordinator dropped or went silent is PART-LOST;
 *   - a saturated part makes the run CLIENT-SATURATED, the reason naming it;
 *     a starved one (its threads waited for a CPU) CLIENT-STARVED.
 * Each problem is written into the part's record, so the flags name parts.
 */
import { RUN_FLAGS, type Figures, type PartRecord, type RunFlag } from "./schema.js";
import { bytesPerSession } from "./derive.js";

/** A part whose sessions or window started more than this after the common time is late, ms. */
export const LATE_MS = 250;
/**
 * A part whose window is shorter than this share of the longest one missed
 * a tenth of the run: PARTIAL. (Less is absorbed: the merged rate is the
 * sum of the parts' rates, runner/parts/merge.ts.)
 */
export const SHORT_WINDOW = 0.9;
/** A part not heard from for this long mid-run has lost its link, ms. */
export const SILENT_MS = 3000;

/** What the coordinator knows of one part when the run ends. */
export interface PartFacts extends Omit<PartRecord, "problems"> {
  /** Times its link dropped (Redis reconnects), as the part counted them. */
  linkDrops: number;
  /** Longest time it was not heard from while the run went on, ms. */
  silentMs: number;
}

/** The part's problems, each with the run flag it raises. */
export function partProblems(p: PartFacts, longestWindowSec: number): { flag: RunFlag; text: string }[] {
  const out: { flag: RunFlag; text: string }[] = [];
  const sec = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  if (p.status === "failed") out.push({ flag: "PARTIAL", text: `failed: ${p.error ?? "no reason given"}` });
  if (p.status === "missing") out.push({ flag: "PARTIAL", text: `returned nothing${p.error !== undefined ? ` (${p.error})` : ""}` });
  if (p.loadStartLagMs !== null && p.loadStartLagMs > LATE_MS) out.push({ flag: "PART-LATE", text: `its sessions started ${sec(p.loadStartLagMs)} after the common start` });
  if (p.windowStartLagMs !== null && p.windowStartLagMs > LATE_MS) out.push({ flag: "PART-LATE", text: `its window opened ${sec(p.windowStartLagMs)} late` });
  if (p.figures !== null && p.figures.durationSec < SHORT_WINDOW * longestWindowSec) {
    out.push({ flag: "PARTIAL", text: `measured ${p.figures.durationSec.toFixed(2)} s of a ${longestWindowSec.toFixed(2)} s window` });
  }
  if (p.linkDrops > 0) out.push({ flag: "PART-LOST", text: `its link to the coordinator dropped ${p.linkDrops} time(s)` });
  if (p.silentMs >= SILENT_MS) out.push({ flag: "PART-LOST", text: `not heard from for ${sec(p.silentMs)} mid-run` });
  if (p.figures?.clientSaturated === true) out.push({ flag: "CLIENT-SATURATED", text: `client saturated: ${p.figures.clientSaturatedReason ?? ""}` });
  if (p.figures?.flags.includes("CLIENT-STARVED") === true) {
    const share = p.figures.clientRunQueueWaitMaxShare;
    out.push({ flag: "CLIENT-STARVED", text: `a client thread waited for a CPU${share !== null && share !== undefined ? ` ${Math.round(share * 100)} % of the window` : ""}` });
  }
  return out;
}

/** Client flags a part raises for the whole run: whatever it says about its own client. */
const CLIENT_FLAGS: readonly RunFlag[] = ["CLIENT-SATURATED", "CLIENT-STARVED"];

/** CPU the parts that ran on this machine (client processes) used in their windows, seconds: the run's own load, not another process's. */
export function localCpuSeconds(facts: readonly PartFacts[]): number {
  return facts.reduce((a, p) => a + (p.kind === "process" && p.figures !== null ? p.figures.clientCpuSeconds : 0), 0);
}

/**
 * The run's figures with the parts' client side and flags, and each part's
 * record with its problems. `merged` is deriveFigures of the merged
 * measurement (its client fields are the idle coordinator's: replaced).
 */
export function withParts(merged: Figures, facts: readonly PartFacts[]): { figures: Figures; parts: PartRecord[] };
export function withParts(merged: Figures | null, facts: readonly PartFacts[]): { figures: Figures | null; parts: PartRecord[] };
export function withParts(merged: Figures | null, facts: readonly PartFacts[]): { figures: Figures | null; parts: PartRecord[] } {
  const measured = facts.flatMap((p) => (p.figures !== null ? [p.figures] : []));
  const longest = Math.max(0, ...measured.map((f) => f.durationSec));
  const flags = new Set<RunFlag>((merged?.flags ?? []).filter((f) => !CLIENT_FLAGS.includes(f)));
  const reasons: string[] = [];
  const parts = facts.map(({ linkDrops: _drops, silentMs: _silent, ...record }, i) => {
    const problems = partProblems(facts[i]!, longest);
    for (const p of problems) flags.add(p.flag);
    for (const f of record.figures?.flags ?? []) if (CLIENT_FLAGS.includes(f)) flags.add(f);
    if (record.figures?.clientSaturated === true) reasons.push(`${record.name}: ${record.figures.clientSaturatedReason ?? ""}`);
    return { ...record, problems: problems.map((p) => `${p.flag}: ${p.text}`) };
  });

  if (merged === null) return { figures: null, parts };

  // Client CPU: summed; cores: each machine's once (processes on this machine share its cores).
  const coresByHost = new Map<string, number>();
  for (const p of facts) if (p.figures !== null) coresByHost.set(p.host, Math.max(coresByHost.get(p.host) ?? 0, p.figures.clientUsableCores));
  const cores = Math.max(1, [...coresByHost.values()].reduce((a, b) => a + b, 0));
  const cpuSeconds = measured.reduce((a, f) => a + f.clientCpuSeconds, 0);
  const threadMax = measured.map((f) => f.clientThreadMaxUtilisation).filter((u): u is number => u !== null);
  // The thread that waited longest for a CPU, in whichever part it ran.
  const waited = measured.filter((f) => f.clientRunQueueWaitMaxShare !== null && f.clientRunQueueWaitMaxShare !== undefined);
  const mostWaiting = waited.reduce<Figures | null>((w, f) => (w === null || (f.clientRunQueueWaitMaxShare as number) > (w.clientRunQueueWaitMaxShare as number) ? f : w), null);
  // Memory: every part's growth over every part's sessions.
  const grown = measured.filter((f) => f.clientRssBytesPerSession !== null && f.clientRssBytesPerSession !== undefined);
  const sessionsOf = new Map(facts.flatMap((p) => (p.figures !== null ? [[p.figures, p.sessions] as const] : [])));
  const growth = grown.reduce((a, f) => a + (f.clientRssBytesPerSession as number) * (sessionsOf.get(f) ?? 0), 0);
  const grownSessions = grown.reduce((a, f) => a + (sessionsOf.get(f) ?? 0), 0);

  const figures: Figures = {
    ...merged,
    clientCpuSeconds: cpuSeconds,
    clientUsableCores: cores,
    clientCpuUtilisation: merged.durationSec > 0 ? cpuSeconds / (merged.durationSec * cores) : 0,
    clientThreadMaxUtilisation: threadMax.length > 0 ? Math.max(...threadMax) : null,
    clientSaturated: reasons.length > 0,
    clientSaturatedReason: reasons.length > 0 ? reasons.join("; ") : null,
    clientRunQueueWaitMaxShare: mostWaiting?.clientRunQueueWaitMaxShare ?? null,
    clientRunQueueWaitPerSliceUs: mostWaiting?.clientRunQueueWaitPerSliceUs ?? null,
    clientRssBytesPerSession: grown.length === measured.length && measured.length > 0 ? bytesPerSession(0, growth, grownSessions) : null,
    flags: RUN_FLAGS.filter((f) => flags.has(f)),
  };
  return { figures, parts };
}

/** "process 2: PARTIAL: returned nothing (...)", one line per problem of every part, for the console and the report. */
export function partProblemLines(parts: readonly PartRecord[] | undefined): string[] {
  return (parts ?? []).flatMap((p) => p.problems.map((text) => `${p.name}: ${text}`));
}
