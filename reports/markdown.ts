/**
 * report.md: the report as GitHub-flavoured markdown, fit for a CI job
 * summary: warnings first, the claims, the summary table, the PNG charts
 * (relative links to charts/<id>.png), every run, the environment.
 */
import type { ChartSpec } from "./chart-kit.js";
import { isOpenLoopChart } from "./curve-charts.js";
import { curveTable, maxRateTable, searchLines } from "./curve-tables.js";
import { testWithLabel } from "./claims.js";
import { partsTable, runTable } from "./table.js";
import { environmentRows, summaryTable } from "./view.js";
import type { ReportView } from "./view.js";

/** A table cell: pipes and newlines would break the row. */
function cell(text: string): string {
  return text.replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
}

/** A markdown table. */
export function markdownTable(header: readonly string[], rows: readonly string[][], right: readonly boolean[] = []): string {
  const line = (cells: readonly string[]): string => `| ${cells.map(cell).join(" | ")} |`;
  return [line(header), `|${header.map((_h, i) => (right[i] === true ? "---:" : "---")).join("|")}|`, ...rows.map(line)].join("\n");
}

const VERDICT_MARK = { supported: "✅ supported", "not supported": "❌ not supported", inconclusive: "❔ inconclusive", "not tested": "➖ not tested" } as const;

/** Relative path of a chart's PNG inside the results directory. */
export function chartPath(spec: Pick<ChartSpec, "id">): string {
  return `charts/${spec.id}.png`;
}

/** The whole markdown report. */
export function renderMarkdown(view: ReportView): string {
  const r = view.results;
  const out: string[] = [`# iobench report`, "", `${r.runs.length} run(s) of ${r.options.models.join(", ")}, started ${r.createdAt}${r.complete ? "" : " — **INCOMPLETE**"}.`, ""];
  if (view.warnings.length > 0) {
    out.push(`> [!WARNING]`, `> **${view.warnings.length} warning(s): read before the figures**`, ...view.warnings.map((w) => `> - ${w}`), "");
  } else {
    out.push("No warnings: every run completed, with no errors, no corrupted echoes and no client-saturated run.", "");
  }
  out.push("## The chapter's claims", "");
  for (const c of view.claims) {
    out.push(`**Claim ${c.id}: ${VERDICT_MARK[c.verdict]}.** _${c.claim}_`, "");
    if (c.basis !== null) out.push(`Rests on: ${c.basis}.`, "");
    for (const m of c.measured) out.push(`- ${m}`);
    if (c.measured.length > 0) out.push("");
    out.push(`${c.reason}.${c.testWith !== null ? ` ${testWithLabel(c)}: \`${c.testWith}\`` : ""}`, "");
  }
  if (view.curves.length > 0 || view.maxRates.length > 0) {
    out.push(`## Open loop: load–latency curves${view.maxRates.length > 0 ? " and the highest rate at the objective" : ""}`, "");
    for (const c of view.charts.filter(isOpenLoopChart)) out.push(`![${c.title}](${chartPath(c)})`, "", `_${c.caption}_`, "");
  }
  if (view.maxRates.length > 0) {
    const t = maxRateTable(view.maxRates);
    out.push(`Objective: \`${r.options.slo?.text ?? ""}\` (corrected latency; no error, every session served, at least 90% of the offered rate achieved).`, "");
    out.push(markdownTable(t.header, t.rows), "", ...searchLines(view.maxRates).map((l) => `- ${l}`), "");
  }
  if (view.curves.length > 0) {
    const t = curveTable(view.curves);
    out.push(markdownTable(t.header, t.rows), "");
  }
  const s = summaryTable(view);
  out.push("## Summary per configuration", "", markdownTable(s.header, s.rows), "");
  const others = view.charts.filter((c) => !isOpenLoopChart(c));
  if (others.length > 0) {
    out.push("## Charts", "");
    for (const c of others) out.push(`![${c.title}](${chartPath(c)})`, "", `_${c.caption}_`, "");
  }
  const runs = runTable(r);
  out.push("## Every run", "", markdownTable(runs.header, runs.rows, runs.right), "");
  const parts = partsTable(r);
  if (parts !== null) out.push("## Parts of the load", "", "Each run's figures are the exact merge of its parts'.", "", markdownTable(parts.header, parts.rows, parts.right), "");
  out.push("## Environment", "", markdownTable(["what", "value"], environmentRows(r)), "");
  return out.join("\n");
}
