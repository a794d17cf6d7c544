/**
 * check.json (the check as plain data) and the two ways it is shown: a
 * console table and a markdown summary (for $GITHUB_STEP_SUMMARY). Both are
 * drawn from the CheckFile only.
 */
import { FIGURES } from "./samples.js";
import type { CheckOutcome, FigureVerdict, FigureVerdictKind } from "./verdict.js";

export const CHECK_SCHEMA = "iobench.check";
export const CHECK_VERSION = 2;

/** Where one side of the comparison came from. */
export interface CheckSide {
  /** The baseline's name, a results directory, a git ref, or "working tree". */
  label: string;
  /** The results.json (or baseline file) the side's figures are in. */
  file: string;
  /** Commit the side's code was at, when known. */
  gitCommit: string | null;
}

/** check.json. */
export interface CheckFile extends CheckOutcome {
  schema: typeof CHECK_SCHEMA;
  version: typeof CHECK_VERSION;
  createdAt: string;
  /** How the sides were obtained: a stored baseline re-run, two results dirs, or a git ref built and run interleaved. */
  mode: "baseline" | "compare" | "against";
  baseline: CheckSide;
  candidate: CheckSide;
}

const WORDS: Record<FigureVerdictKind, string> = {
  regressed: "REGRESSED",
  improved: "improved",
  "within-noise": "within noise",
  insufficient: "INSUFFICIENT",
  "not-measured": "not measured",
};

function pct(x: number | null): string {
  if (x === null) return "-";
  const p = x * 100;
  const digits = Math.abs(p) >= 100 ? 0 : 1;
  return `${p >= 0 ? "+" : ""}${p.toFixed(digits)}%`;
}

function num(x: number | null): string {
  if (x === null) return "-";
  return Math.abs(x) >= 100 ? Math.round(x).toLocaleString("en-US") : x.toFixed(1);
}

function label(f: FigureVerdict): string {
  return FIGURES.find((x) => x.name === f.figure)?.label ?? f.figure;
}

/** The table's rows: configuration, figure, medians, change, interval, threshold, verdict. */
function rows(check: CheckFile): string[][] {
  const out: string[][] = [];
  for (const c of check.configurations) {
    if (c.figures.length === 0) out.push([c.label, "-", "-", "-", "-", "-", "-", "INVALID"]);
    c.figures.forEach((f, i) =>
      out.push([
        i === 0 ? c.label : "",
        label(f),
        `${num(f.baseline.median)} (n=${f.baseline.n})`,
        `${num(f.candidate.median)} (n=${f.candidate.n})`,
        pct(f.change),
        f.changeLow === null ? "-" : `[${pct(f.changeLow)}, ${pct(f.changeHigh)}]`,
        `±${(f.threshold * 100).toFixed(0)}%`,
        WORDS[f.verdict],
      ]),
    );
  }
  return out;
}

const HEADER = ["configuration", "figure", "baseline", "candidate", "change", "95% interval", "noise", "verdict"];

function method(check: CheckFile): string {
  return check.paired ? "a t interval on the per-round log ratios" : "Welch's t interval on the logs of each side's repeats";
}

/** The one line that sums the check up. */
export function headline(check: CheckFile): string {
  const regressed = check.configurations.flatMap((c) => c.figures.filter((f) => f.verdict === "regressed").map((f) => `${c.label} ${label(f)} ${pct(f.change)}`));
  const improved = check.configurations.flatMap((c) => c.figures.filter((f) => f.verdict === "improved").map((f) => `${c.label} ${label(f)} ${pct(f.change)}`));
  switch (check.overall) {
    case "invalid":
      return `INVALID: the runs cannot be judged: ${check.configurations.flatMap((c) => c.problems)[0] ?? "?"}`;
    case "regressed":
      return `REGRESSED: ${regressed.join("; ")}`;
    case "improved":
      return `improved: ${improved.join("; ")} (nothing regressed)`;
    default:
      return "within noise: no figure moved past its noise threshold with 95% confidence";
  }
}

function notes(check: CheckFile): string[] {
  return check.configurations.flatMap((c) => [...c.problems.map((p) => `PROBLEM ${c.label}: ${p}`), ...c.warnings.map((w) => `warning ${c.label}: ${w}`)]);
}

function describe(check: CheckFile): string {
  return `baseline ${check.baseline.label} vs candidate ${check.candidate.label}${check.paired ? " (paired, interleaved rounds)" : ""}`;
}

/** The console table, notes under it, and the headline. */
export function renderCheckTable(check: CheckFile): string {
  const table = [HEADER, ...rows(check)];
  const widths = HEADER.map((_, i) => Math.max(...table.map((r) => r[i]!.length)));
  const right = new Set([2, 3, 4, 5, 6]);
  const lines = table.map((r) => r.map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd());
  return [`iobench check: ${describe(check)}`, ...lines, ...notes(check), `iobench check: ${headline(check)}`].join("\n");
}

/** The markdown summary: headline, table, notes. */
export function renderCheckMarkdown(check: CheckFile): string {
  const icon = check.overall === "regressed" ? "❌" : check.overall === "invalid" ? "⚠️" : "✅";
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  const md = [
    `### ${icon} iobench check: ${esc(headline(check))}`,
    "",
    `${esc(describe(check))}. A figure is **REGRESSED** or **improved** only when its whole 95% interval (${method(check)}) lies past the noise threshold; ` +
      `it needs ${check.minRepeats} usable repeats per side.`,
    "",
    `| ${HEADER.join(" | ")} |`,
    `|${HEADER.map((_, i) => (i >= 2 && i <= 6 ? "---:" : "---")).join("|")}|`,
    ...rows(check).map((r) => `| ${r.map((cell, i) => (i === 7 && cell === "REGRESSED" ? "**REGRESSED**" : esc(cell))).join(" | ")} |`),
  ];
  const n = notes(check);
  if (n.length > 0) md.push("", ...n.map((line) => `- ${esc(line)}`));
  return md.join("\n") + "\n";
}
