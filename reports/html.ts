/**
 * report.html: one self-contained page that opens offline. Chart.js (its
 * UMD build) and reports/chart-kit.js are inlined as scripts, the chart
 * specs as JSON; nothing is fetched. Warnings come first, then the claims,
 * so a reader cannot miss a run that is not to be trusted.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { testWithLabel } from "./claims.js";
import type { ClaimResult } from "./claims.js";
import { isOpenLoopChart } from "./curve-charts.js";
import { curveTable, maxRateTable, searchLines } from "./curve-tables.js";
import type { ChartSpec } from "./chart-kit.js";
import { PNG_HEIGHT, PNG_WIDTH } from "./png.js";
import { partsTable, runTable } from "./table.js";
import type { ResultsFile } from "./schema.js";
import { environmentRows, summaryTable } from "./view.js";
import type { ReportView } from "./view.js";

const require = createRequire(import.meta.url);

/** Chart.js's UMD build (defines the global `Chart`). */
function chartJsSource(): string {
  return fs.readFileSync(path.join(path.dirname(require.resolve("chart.js")), "chart.umd.min.js"), "utf8");
}

/** The compiled chart kit, beside this file, without its source-map comment. */
function chartKitSource(): string {
  const file = fileURLToPath(new URL("./chart-kit.js", import.meta.url));
  return fs.readFileSync(file, "utf8").replace(/^\/\/# sourceMappingURL=.*$/m, "");
}

/** Text safe inside HTML elements and attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A script's text can hold anything but its own end tag. */
function scriptSafe(js: string): string {
  return js.replace(/<\/(script)/gi, "<\\/$1");
}

function table(header: readonly string[], rows: readonly string[][], right: readonly boolean[] = []): string {
  const cell = (tag: string, text: string, i: number): string => `<${tag}${right[i] === true ? ' class="num"' : ""}>${escapeHtml(text)}</${tag}>`;
  const head = header.some((h) => h !== "") ? `<thead><tr>${header.map((h, i) => cell("th", h, i)).join("")}</tr></thead>` : "";
  return `<table>${head}<tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => cell("td", c, i)).join("")}</tr>`)
    .join("\n")}</tbody></table>`;
}

function warningsSection(warnings: readonly string[]): string {
  if (warnings.length === 0) {
    return `<section class="ok" id="warnings"><strong>No warnings.</strong> Every run completed, with no errors, no corrupted echoes and no client-saturated run.</section>`;
  }
  return `<section class="warn" id="warnings"><h2>⚠ ${warnings.length} warning(s): read before the figures</h2><ul>${warnings
    .map((w) => `<li>${escapeHtml(w)}</li>`)
    .join("")}</ul></section>`;
}

function claimCard(c: ClaimResult): string {
  const cls = c.verdict.replace(" ", "-");
  const measured = c.measured.length > 0 ? `<ul>${c.measured.map((m) => `<li>${escapeHtml(m)}</li>`).join("")}</ul>` : "";
  const testWith = c.testWith !== null ? `<p class="test">${testWithLabel(c)}: <code>${escapeHtml(c.testWith)}</code></p>` : "";
  const basis = c.basis !== null ? `<p class="basis">Rests on: ${escapeHtml(c.basis)}.</p>` : "";
  return `<div class="claim"><h3>Claim ${c.id} <span class="verdict ${cls}">${escapeHtml(c.verdict)}</span></h3><p class="text">${escapeHtml(c.claim)}</p>${basis}${measured}<p>${escapeHtml(c.reason)}.</p>${testWith}</div>`;
}

const STYLE = `
body{font-family:"DejaVu Sans",system-ui,sans-serif;margin:1.5rem auto;max-width:1400px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem} .sub{color:#555;margin-top:0}
section{margin:1.2rem 0}
.warn{background:#fde8e8;border:2px solid #c62828;padding:.6rem 1rem;border-radius:6px}
.warn h2{color:#b71c1c;margin:.2rem 0} .ok{background:#e8f5e9;border:1px solid #2e7d32;padding:.6rem 1rem;border-radius:6px}
.claims{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:.8rem}
.claim{border:1px solid #ccc;border-radius:6px;padding:.3rem .9rem} .claim h3{margin:.4rem 0} .claim .text{font-style:italic}
.verdict{font-size:.85rem;padding:.1rem .5rem;border-radius:4px;color:#fff;vertical-align:middle}
.supported{background:#2e7d32} .not-supported{background:#c62828} .inconclusive{background:#ef6c00} .not-tested{background:#757575}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(560px,1fr));gap:1rem}
figure{margin:0;border:1px solid #ddd;border-radius:6px;padding:.4rem} canvas{width:100% !important;height:auto !important}
figcaption{font-size:.85rem;color:#555}
table{border-collapse:collapse;font-size:.82rem;margin:.4rem 0} th,td{border:1px solid #ccc;padding:.2rem .45rem;text-align:left}
th{background:#f2f2f2} .num{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto} code{background:#f4f4f4;padding:.1rem .3rem}
`;

/** The whole page. */
/** The parts of split loads, when a run was split (--client-processes, --agents). */
function partsSection(r: ResultsFile): string {
  const parts = partsTable(r);
  return parts === null ? "" : `<section><h2>Parts of the load</h2><p class="sub">Each run's figures are the exact merge of its parts'.</p><div class="scroll">${table(parts.header, parts.rows, parts.right)}</div></section>`;
}

/** --profile: a link to each run's clinic HTML (paths are relative to the results directory, where the report is). */
function profilesSection(r: ReportView["results"]): string {
  const rows = r.runs.flatMap((run) => {
    if (run.status !== "ok" || run.profile === undefined) return [];
    const p = run.profile;
    const cell = p.html !== null ? `<a href="${escapeHtml(p.html)}">${escapeHtml(p.html)}</a>` : escapeHtml(`none: ${p.error ?? "no report"}`);
    return [`<li>run ${run.config.index + 1} (${escapeHtml(run.config.model)}): clinic ${escapeHtml(p.tool)} ${cell}</li>`];
  });
  return rows.length === 0 ? "" : `<section><h2>Profiles</h2><ul>${rows.join("")}</ul></section>`;
}

/** The open-loop section: the searches' outcomes and the curves' knees, when the sweep has any. */
function figure(c: ChartSpec): string {
  return `<figure><canvas id="chart-${escapeHtml(c.id)}" width="${PNG_WIDTH}" height="${PNG_HEIGHT}"></canvas><figcaption>${escapeHtml(c.caption)}</figcaption></figure>`;
}

function curvesSection(view: ReportView): string {
  if (view.curves.length === 0 && view.maxRates.length === 0) return "";
  const slo = view.results.options.slo;
  const parts = [`<section id="curves"><h2>Open loop: load–latency curves${view.maxRates.length > 0 ? " and the highest rate at the objective" : ""}</h2>`];
  parts.push(`<div class="charts">${view.charts.filter(isOpenLoopChart).map(figure).join("\n")}</div>`);
  if (view.maxRates.length > 0) {
    const t = maxRateTable(view.maxRates);
    parts.push(`<p class="sub">Objective: <code>${escapeHtml(slo?.text ?? "")}</code> (corrected latency; no error, every session served, at least 90% of the offered rate achieved).</p>`);
    parts.push(`<div class="scroll">${table(t.header, t.rows)}</div>`, `<ul>${searchLines(view.maxRates).map((l) => `<li>${escapeHtml(l)}</li>`).join("")}</ul>`);
  }
  if (view.curves.length > 0) {
    const t = curveTable(view.curves);
    parts.push(`<div class="scroll">${table(t.header, t.rows)}</div>`);
  }
  return `${parts.join("\n")}</section>`;
}

export function renderHtml(view: ReportView): string {
  const r = view.results;
  const runs = runTable(r);
  const summary = summaryTable(view);
  const data = JSON.stringify({ charts: view.charts }).replace(/</g, "\\u003c");
  const figures = view.charts
    .filter((c) => !isOpenLoopChart(c))
    .map(figure)
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>iobench report ${escapeHtml(r.createdAt)}</title><style>${STYLE}</style></head>
<body>
<h1>iobench report</h1>
<p class="sub">${escapeHtml(`${r.runs.length} run(s) of ${r.options.models.join(", ")}; started ${r.createdAt}; ${r.complete ? "complete" : "INCOMPLETE"}; ${r.environment.cpuModel}, ${r.environment.cores} cores`)}</p>
${warningsSection(view.warnings)}
<section><h2>The chapter's claims</h2><div class="claims">${view.claims.map(claimCard).join("\n")}</div></section>
${curvesSection(view)}
<section><h2>Summary per configuration</h2><p class="sub">Medians over repeats; msg/s shows the order-statistic interval of the median with its true confidence (75% at 3 repeats, 93.8% at 5; 95% needs 6) and min–max when they differ; n = valid runs / runs; served = sessions that completed an echo (median).</p><div class="scroll">${table(summary.header, summary.rows)}</div></section>
<section><h2>Charts</h2><div class="charts">${figures}</div></section>
<section><h2>Every run</h2><div class="scroll">${table(runs.header, runs.rows, runs.right)}</div></section>
${partsSection(r)}
${profilesSection(r)}
<section><h2>Environment</h2>${table(["", ""], environmentRows(r))}</section>
<script type="application/json" id="report-data">${data}</script>
<script>${scriptSafe(chartJsSource())}</script>
<script type="module">${scriptSafe(chartKitSource())}
const report = JSON.parse(document.getElementById("report-data").textContent);
for (const spec of report.charts) {
  const config = toChartConfig(spec);
  config.options.devicePixelRatio = Math.max(1, window.devicePixelRatio || 1);
  new Chart(document.getElementById("chart-" + spec.id), config);
}
document.documentElement.dataset.chartsDrawn = String(report.charts.length);
</script>
</body></html>
`;
}
