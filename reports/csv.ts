/**
 * results.csv: one row per run, RFC 4180 (comma-separated, quoted when
 * needed, CRLF line ends), drawn from results.json. Columns, in order (the
 * docs/reports.md lists them too): an empty cell is a figure that was not measured.
 */
import type { Run } from "./schema.js";
import { workLabel } from "./summary.js";

type Cell = string | number | boolean | null | undefined;

/** Column name and how to read it from a run. Units are in the names, as in results.json. */
export const CSV_COLUMNS: [string, (r: Run) => Cell][] = [
  ["index", (r) => r.config.index],
  ["repeat", (r) => r.config.repeat],
  ["status", (r) => r.status],
  ["failure", (r) => (r.status === "failed" ? r.failure : "")],
  ["model", (r) => r.config.model],
  ["threads", (r) => r.config.threads],
  ["connections", (r) => r.config.connections],
  ["size_bytes", (r) => r.config.sizeBytes],
  ["work", (r) => workLabel(r.config)],
  ["client_threads", (r) => r.config.clientThreads],
  ["duration_sec", (r) => r.figures?.durationSec],
  ["messages", (r) => r.figures?.messages],
  ["messages_per_sec", (r) => r.figures?.messagesPerSec],
  ["bytes_per_sec", (r) => r.figures?.bytesPerSec],
  ["latency_p50_us", (r) => r.figures?.latencyUs?.p50],
  ["latency_p90_us", (r) => r.figures?.latencyUs?.p90],
  ["latency_p99_us", (r) => r.figures?.latencyUs?.p99],
  ["latency_p99_9_us", (r) => r.figures?.latencyUs?.p99_9],
  ["latency_max_us", (r) => r.figures?.latencyUs?.max],
  ["connect_p50_us", (r) => r.figures?.connectLatencyUs?.p50],
  ["connect_p99_us", (r) => r.figures?.connectLatencyUs?.p99],
  ["server_cpu_us_per_message", (r) => r.figures?.serverCpuUsPerMessage],
  ["server_context_switches_per_message", (r) => r.figures?.serverContextSwitchesPerMessage?.total],
  ["server_rss_bytes", (r) => r.figures?.serverRssBytes],
  ["client_cpu_utilisation", (r) => r.figures?.clientCpuUtilisation],
  ["client_saturated", (r) => r.figures?.clientSaturated],
  ["errors", (r) => r.figures?.errors.total],
  ["mismatches", (r) => r.figures?.errorsTotal.mismatch],
  ["flags", (r) => [...(r.status === "failed" ? ["FAILED"] : []), ...(r.figures?.flags ?? [])].join(" ")],
  ["error", (r) => (r.status === "failed" ? r.error : "")],
  ["started_at", (r) => r.startedAt],
  ["part", (r) => r.config.part],
  ["accept", (r) => r.config.accept],
  ["first_echo_p99_us", (r) => r.figures?.firstEchoLatencyUs?.p99],
  ["client_run_queue_wait_share", (r) => r.figures?.clientRunQueueWaitMaxShare],
  ["other_cpu_share", (r) => r.figures?.otherCpuShare],
];

/** One CSV field, quoted when it holds a comma, a quote or a line break. */
export function csvField(value: Cell): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The CSV text: a header row, then a row per run. */
export function renderCsv(runs: readonly Run[]): string {
  const rows = [CSV_COLUMNS.map(([name]) => name), ...runs.map((r) => CSV_COLUMNS.map(([, read]) => csvField(read(r))))];
  return rows.map((cells) => cells.join(",")).join("\r\n") + "\r\n";
}
