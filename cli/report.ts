/**
 * The report command: rebuilds report.html, report.md, results.csv and the
 * PNG charts of a results directory from its results.json alone.
 */
import path from "node:path";
import { readResults } from "../reports/results-file.js";
import { writeReport } from "../reports/write-report.js";
import type { ReportFiles } from "../reports/write-report.js";
import type { ResultsFile } from "../reports/schema.js";
import { UsageError, oneLine } from "../contracts/errors.js";

/** Writes the report of `results` into `dir`; a failure to write is a one-line error naming the directory. */
export function writeReportFiles(dir: string, results: ResultsFile, options: { png?: boolean } = {}): ReportFiles {
  try {
    return writeReport(dir, results, options);
  } catch (err) {
    throw new Error(`cannot write the report into ${dir}: ${oneLine(err)}`);
  }
}

/** `iobench report <dir>`: resolves with the exit status. A missing or malformed results.json is a UsageError. */
export function report(target: string, io: { stdout: NodeJS.WritableStream }): number {
  let results: ResultsFile;
  try {
    results = readResults(target);
  } catch (err) {
    throw new UsageError(oneLine(err));
  }
  const dir = target.endsWith(".json") ? path.dirname(target) : target;
  const files = writeReportFiles(dir, results);
  io.stdout.write(`${files.html}\n${files.markdown}\n${files.csv}\n${files.pngs.length} chart(s) in ${path.join(dir, "charts")}\n`);
  return 0;
}
