/**
 * Writes every report output of a results directory from its results.json
 * data: report.html, report.md, results.csv and charts/<id>.png. Each file
 * is written atomically (like results.json), so a reader or an interrupted
 * sweep never leaves a half-written report.
 */
import fs from "node:fs";
import path from "node:path";
import { renderCsv } from "./csv.js";
import { renderHtml } from "./html.js";
import { chartPath, renderMarkdown } from "./markdown.js";
import { renderPng } from "./png.js";
import { writeFileAtomic } from "./results-file.js";
import type { ResultsFile } from "./schema.js";
import { reportView } from "./view.js";

/** Paths of the files written. */
export interface ReportFiles {
  html: string;
  markdown: string;
  csv: string;
  pngs: string[];
}

/** Writes the report files into `dir` (beside results.json). */
export function writeReport(dir: string, results: ResultsFile, options: { png?: boolean } = {}): ReportFiles {
  const view = reportView(results);
  const files: ReportFiles = {
    html: path.join(dir, "report.html"),
    markdown: path.join(dir, "report.md"),
    csv: path.join(dir, "results.csv"),
    pngs: [],
  };
  if (options.png !== false) {
    try {
      fs.mkdirSync(path.join(dir, "charts"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    for (const spec of view.charts) {
      const file = path.join(dir, chartPath(spec));
      writeFileAtomic(file, renderPng(spec));
      files.pngs.push(file);
    }
  }
  writeFileAtomic(files.csv, renderCsv(results.runs));
  writeFileAtomic(files.markdown, renderMarkdown(view));
  writeFileAtomic(files.html, renderHtml(view));
  return files;
}
