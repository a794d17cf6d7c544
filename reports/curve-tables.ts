/**
 * The report's tables of open-loop curves and searches, as text cells
 * (the HTML and markdown reports print the same): per configuration, the
 * highest rate meeting the objective with its interval, and each curve's
 * knee and saturation point. Pure.
 */
import type { Curve, MaxRate } from "./curves.js";
import type { ThreadsSetting } from "./schema.js";
import { compact } from "./view.js";

export interface TextTable {
  header: string[];
  rows: string[][];
}

const threads = (t: ThreadsSetting | null): string => (t === null ? "-" : String(t));
const rate = (x: number | null): string => (x === null ? "-" : compact(x));

/** One row per configuration searched (repeats together). */
export function maxRateTable(rates: readonly MaxRate[]): TextTable {
  return {
    header: ["model", "threads", "conns", "size B", "work", "max msg/s at the objective", "limit between (met – missed)", "closed-loop msg/s", "of closed loop", "searches"],
    rows: rates.map((r) => [
      r.model,
      threads(r.threads),
      String(r.connections),
      String(r.sizeBytes),
      r.work ?? "-",
      r.foundPerSec === null ? "none met it" : `${rate(r.foundPerSec)}${r.floor === null ? "" : ` (${r.floor})`}`,
      `${rate(r.lowPerSec)} – ${r.highPerSec === null ? "not missed" : rate(r.highPerSec)}`,
      rate(r.closedLoopPerSec),
      r.foundPerSec === null || r.closedLoopPerSec === null ? "-" : `${Math.round((100 * r.foundPerSec) / r.closedLoopPerSec)}%`,
      r.searches.map((s) => s.status).join(", "),
    ]),
  };
}

/** One line per search: what it found, in words, and its probes. */
export function searchLines(rates: readonly MaxRate[]): string[] {
  return rates.flatMap((r) =>
    r.searches.map((s) => {
      const probes = s.probes.map((p) => `${compact(p.offeredPerSec)} ${p.outcome}`).join(", ");
      return `${s.model}, ${threads(s.threads)} thread(s)${r.searches.length > 1 ? `, search ${s.repeat}` : ""}: ${s.note}. Probes: ${probes === "" ? "none" : probes}.`;
    }),
  );
}

/** One row per curve: its rates, where the tail bent (the knee), where the server stopped keeping up, (with an objective) how far it met it, and the rates whose figures the client may have set. */
export function curveTable(all: readonly Curve[]): TextTable {
  const objective = all.some((c) => c.objective !== undefined);
  return {
    header: [
      "model",
      "threads",
      "conns",
      "size B",
      "work",
      "rates",
      "knee: achieved msg/s (p99 µs)",
      "first rate not kept up with",
      "closed-loop msg/s",
      ...(objective ? ["met the objective up to (first missed)"] : []),
      "client a limit at",
    ],
    rows: all.map((c) => {
      const knee = c.knee === null ? null : c.points[c.knee]!;
      const sat = c.saturation === null ? null : c.points[c.saturation]!;
      return [
        c.model,
        threads(c.threads),
        String(c.connections),
        String(c.sizeBytes),
        c.work ?? "-",
        `${c.points.length} (${rate(c.points[0]!.offeredPerSec)} – ${rate(c.points.at(-1)!.offeredPerSec)})`,
        knee === null ? "none in range" : `${rate(knee.achievedPerSec)} (${rate(knee.p99Us)})`,
        sat === null ? "none" : `${rate(sat.offeredPerSec)} (achieved ${rate(sat.achievedPerSec)}${sat.clientLimited ? "; the client was a limit" : ""})`,
        rate(c.closedLoopPerSec),
        ...(objective ? [c.objective === undefined ? "-" : `${c.objective.metUpToPerSec === null ? "none" : rate(c.objective.metUpToPerSec)} (${c.objective.firstMissedPerSec === null ? "none missed" : rate(c.objective.firstMissedPerSec)})`] : []),
        c.points.some((p) => p.clientLimited) ? c.points.filter((p) => p.clientLimited).map((p) => rate(p.offeredPerSec)).join(", ") : "none",
      ];
    }),
  };
}
