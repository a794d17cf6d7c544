/**
 * The console table: one row per run, drawn from results.json only. Warning
 * flags are printed in capitals on the row and explained under the table,
 * so a client-bound or corrupted run cannot pass for a good one.
 */
import type { Figures, ResultsFile, Run } from "./schema.js";
import { partProblemLines } from "./parts.js";

const NONE = "-";

function int(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

function fixed(x: number | null | undefined, digits: number): string {
  return x === null || x === undefined ? NONE : x.toFixed(digits);
}

function mib(bytes: number | null): string {
  return bytes === null ? NONE : (bytes / (1024 * 1024)).toFixed(1);
}

function kib(bytes: number | null | undefined): string {
  return bytes === null || bytes === undefined ? NONE : (bytes / 1024).toFixed(1);
}

interface Column {
  title: string;
  /** Shown only when this holds for the file (e.g. open-loop columns only when a run was open loop). */
  when?: (runs: readonly Run[]) => boolean;
  /** Right-aligned (numbers) or left-aligned (names). */
  right: boolean;
  cell(run: Run, f: Figures | null): string;
}

const COLUMNS: Column[] = [
  { title: "#", right: true, cell: (r) => String(r.config.index + 1) },
  { title: "model", right: false, cell: modelCell },
  { title: "threads", right: true, cell: (r) => (r.config.threads === null ? NONE : String(r.config.threads)) },
  { title: "conns", right: true, cell: (r) => String(r.config.connections) },
  { title: "size", right: true, cell: (r) => String(r.config.sizeBytes) },
  { title: "msg/s", right: true, cell: (_r, f) => (f === null ? NONE : int(f.messagesPerSec)) },
  { title: "MB/s", right: true, cell: (_r, f) => (f === null ? NONE : (f.bytesPerSec / 1e6).toFixed(2)) },
  { title: "p50 µs", right: true, cell: (_r, f) => (f?.latencyUs ? int(f.latencyUs.p50) : NONE) },
  { title: "p99 µs", right: true, cell: (_r, f) => (f?.latencyUs ? int(f.latencyUs.p99) : NONE) },
  { title: "p99.9 µs", right: true, cell: (_r, f) => (f?.latencyUs ? int(f.latencyUs.p99_9) : NONE) },
  { title: "p99 uncorr µs", right: true, when: anyOpenLoop, cell: (_r, f) => (f?.latencyUncorrectedUs ? int(f.latencyUncorrectedUs.p99) : NONE) },
  { title: "target msg/s", right: true, when: anyOpenLoop, cell: (_r, f) => (f?.openLoop ? int(f.openLoop.targetMessagesPerSec) : NONE) },
  { title: "conn/s", right: true, when: anyChurn, cell: (_r, f) => (f === null ? NONE : int(f.connectsPerSec)) },
  { title: "served", right: true, cell: (_r, f) => (f === null ? NONE : int(f.sessionsServed)) },
  { title: "cpu µs/msg", right: true, cell: (_r, f) => fixed(f?.serverCpuUsPerMessage, 1) },
  { title: "ctx-sw/msg", right: true, cell: (_r, f) => fixed(f?.serverContextSwitchesPerMessage?.total, 3) },
  { title: "RSS MiB", right: true, cell: (_r, f) => mib(f?.serverRssBytes ?? null) },
  { title: "srv KiB/conn", right: true, when: anyMemoryPerSession, cell: (_r, f) => kib(f?.serverRssBytesPerSession) },
  { title: "cli KiB/conn", right: true, when: anyMemoryPerSession, cell: (_r, f) => kib(f?.clientRssBytesPerSession) },
  { title: "errors", right: true, cell: (_r, f) => (f === null ? NONE : int(f.errors.total)) },
  { title: "flags", right: false, cell: flagsCell },
];

function anyOpenLoop(runs: readonly Run[]): boolean {
  return runs.some((r) => r.config.load?.loop === "open");
}

/** Memory per connection: in every run since it existed (older files have none). */
function anyMemoryPerSession(runs: readonly Run[]): boolean {
  return runs.some((r) => typeof r.figures?.serverRssBytesPerSession === "number" || typeof r.figures?.clientRssBytesPerSession === "number");
}

function anyChurn(runs: readonly Run[]): boolean {
  return runs.some((r) => (r.config.load?.messagesPerSession ?? 0) > 0);
}

/** The model, its completion port, and what was not the default: the protocol (http method) and an outside load generator. */
function modelCell(run: Run): string {
  const c = run.config;
  return `${c.model}${portCell(c)}${c.protocol === "http" ? ` http ${c.httpMethod ?? "GET"}` : ""}${c.client !== undefined ? ` via ${c.client}` : ""}`;
}

/** iocp: the port's concurrency value (c=2), or "herd" when every waiter woke; "no-notice" when blocking work went untold. */
function portCell(c: Run["config"]): string {
  const p = c.completionPort;
  if (p === undefined) return "";
  const notice = !p.blockNotice && c.work?.kind === "block" ? " no-notice" : "";
  return `${p.wake === "all" ? " herd" : ` c=${p.concurrency}`}${notice}`;
}

function flagsCell(run: Run, f: Figures | null): string {
  const flags: string[] = run.status === "failed" ? ["FAILED"] : [];
  if (f !== null) flags.push(...f.flags);
  return flags.length === 0 ? "" : `!! ${flags.join(" ")}`;
}

/** The run table as cells (the HTML and markdown reports print the same columns). */
export interface RunTable {
  header: string[];
  /** Per column: numbers are right-aligned. */
  right: boolean[];
  rows: string[][];
}

/** One row per run, as text cells. */
export function runTable(results: Pick<ResultsFile, "runs">): RunTable {
  const columns = COLUMNS.filter((c) => c.when === undefined || c.when(results.runs));
  return {
    header: columns.map((c) => c.title),
    right: columns.map((c) => c.right),
    rows: results.runs.map((run) => columns.map((c) => c.cell(run, run.figures))),
  };
}

/**
 * The parts of split loads (--client-processes, --agents): a row per part
 * of every such run, its share and what it measured, so a merged run can be
 * checked against its parts. Null when no run was split.
 */
export function partsTable(results: Pick<ResultsFile, "runs">): RunTable | null {
  const rows = results.runs.flatMap((run) =>
    (run.parts ?? []).map((p) => {
      const f = p.figures;
      return [
        String(run.config.index + 1),
        p.name,
        p.kind,
        p.host,
        int(p.sessions),
        p.status,
        f === null ? NONE : int(f.messagesPerSec),
        f?.latencyUs ? int(f.latencyUs.p99) : NONE,
        fixed(p.clockOffsetMs, 1),
        fixed(p.loadStartLagMs, 0),
        fixed(p.windowStartLagMs, 0),
        p.problems.join("; ") || (p.error ?? ""),
      ];
    }),
  );
  if (rows.length === 0) return null;
  return {
    header: ["#", "part", "kind", "host", "sessions", "status", "msg/s", "p99 µs", "clock offset ms", "start lag ms", "window lag ms", "problems"],
    right: [true, false, false, false, true, false, true, true, true, true, true, false],
    rows,
  };
}

/** The table as lines of text (no trailing newline), followed by notes for every flagged run. */
export function renderTable(results: ResultsFile): string {
  const { header, rows, right } = runTable(results);
  const widths = header.map((_h, i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, i) => (right[i]! ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [line(header), ...rows.map(line)];
  const notes = renderNotes(results.runs);
  if (results.runs.length === 0) out.push("(no run completed)");
  if (notes.length > 0) out.push("", ...notes);
  return out.join("\n");
}

function pctOf(x: number | null | undefined): string {
  return x === null || x === undefined ? "?" : `${Math.round(x * 100)}%`;
}

/** One explanation line per problem, naming the run. */
export function renderNotes(runs: readonly Run[]): string[] {
  const notes: string[] = [];
  for (const run of runs) {
    const c = run.config;
    const threads = c.threads === null ? "" : `, ${c.threads} threads`;
    const id = `run ${c.index + 1} (${c.part !== undefined ? `${c.part}: ` : ""}${c.model}${threads}, ${c.connections} conns, ${c.sizeBytes} B${c.repeat > 1 ? `, repeat ${c.repeat}` : ""})`;
    const f = run.figures;
    if (run.status === "failed") notes.push(`FAILED ${id}: ${run.error}`);
    if (f === null) continue;
    if (f.flags.includes("MISMATCH")) {
      notes.push(
        `MISMATCH ${id}: ${int(f.errorsTotal.mismatch)} echo(es) came back different from what was sent: the server corrupts data, its figures are not valid`,
      );
    }
    if (f.clientSaturated) {
      notes.push(`CLIENT-SATURATED ${id}: ${f.clientSaturatedReason ?? ""}: the client may be the bottleneck, figures may understate the server`);
    }
    const lag = f.openLoop?.clientSendLagUs;
    if (f.flags.includes("CLIENT-BEHIND") && lag !== undefined && lag !== null) {
      notes.push(
        `CLIENT-BEHIND ${id}: the client itself sent late (p99 ${int(lag.p99)} µs behind schedule, against a corrected p99 of ${f.latencyUs === null ? "-" : int(f.latencyUs.p99)} µs): part of the latency is the client's, not the server's`,
      );
    }
    if (f.flags.includes("CLIENT-STARVED")) {
      notes.push(
        `CLIENT-STARVED ${id}: a client thread waited for a CPU ${pctOf(f.clientRunQueueWaitMaxShare)} of the window (run queue, ${Math.round(f.clientRunQueueWaitPerSliceUs ?? 0)} µs each time): its throughput is a floor; the claims leave it out`,
      );
    }
    if (f.flags.includes("MACHINE-BUSY")) {
      notes.push(`MACHINE-BUSY ${id}: other processes used ${pctOf(f.otherCpuShare)} of the run's CPUs during the window: its figures may be off; the claims leave it out`);
    }
    if (f.flags.includes("ERRORS")) {
      const e = f.errors;
      notes.push(
        `ERRORS ${id}: connect ${e.connect}, reset ${e.reset}, timeout ${e.timeout}, closed early ${e.closedEarly} inside the window`,
      );
    }
    if (f.flags.includes("NO-MESSAGES")) notes.push(`NO-MESSAGES ${id}: no echo completed inside the measured window`);
    if (f.flags.includes("SESSIONS-MISSING")) {
      notes.push(`SESSIONS-MISSING ${id}: only ${f.sessionsConnected} of ${run.config.connections} sessions were connected at the end`);
    }
    if (f.flags.includes("SESSIONS-UNSERVED")) {
      notes.push(
        `SESSIONS-UNSERVED ${id}: ${f.sessionsServed} of ${c.connections} sessions completed an echo inside the window; ${f.sessionsNotServed} were never served (${f.sessionsTimedOut} had an echo time out)`,
      );
    }
    if (f.flags.includes("BELOW-TARGET-RATE") && f.openLoop !== null) {
      notes.push(
        `BELOW-TARGET-RATE ${id}: open loop achieved ${int(f.openLoop.achievedMessagesPerSec)} of the ${int(f.openLoop.targetMessagesPerSec)} msg/s asked for (${Math.round(f.openLoop.achievedRatio * 100)}%)`,
      );
    }
    if (f.flags.includes("SERVER-FD-LIMIT")) {
      notes.push(
        `SERVER-FD-LIMIT ${id}: the server held ${f.serverOpenFiles ?? "?"} files of its limit of ${f.serverOpenFileLimit ?? "?"} while ${c.connections - f.sessionsConnected} session(s) could not connect: it refused them for lack of file descriptors (split the server: iobench serve --reuse-port in several processes)`,
      );
    }
    for (const line of partProblemLines(run.parts)) notes.push(`${id}: ${line}`);
    if (f.flags.includes("SERVER-EXIT") && run.serverExit !== undefined) {
      const x = run.serverExit;
      notes.push(
        `SERVER-EXIT ${id}: the server did not exit cleanly when stopped (${x.killed ? "killed after the grace period" : x.signal !== null ? `signal ${x.signal}` : `exit code ${x.code}`})`,
      );
    }
  }
  return notes;
}
