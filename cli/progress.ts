/**
 * Progress on stderr (never stdout, which carries the table or the JSON):
 * a bar with elapsed/total, live msg/s (against the target in open loop),
 * connects/s when sessions reconnect by design, errors and sessions connected,
 * redrawn in place on a terminal and printed as a plain line every few
 * seconds otherwise, plus one summary line per finished run.
 */
import type { RunPlan, RunProgress } from "../runner/run.js";
import type { Run } from "../reports/schema.js";

/** Where progress goes: a stream that may be a terminal. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

const BAR_WIDTH = 20;
/** Without a terminal, a progress line at most this often, ms. */
const PLAIN_EVERY_MS = 3000;
/** Runs shorter than this get no bar, only their summary line, seconds. */
const MIN_BAR_SEC = 1;

function label(plan: RunPlan, position: number, total: number | null): string {
  const c = plan.config;
  const threads = c.threads === null ? "" : ` t=${c.threads}`;
  const scenario = c.load?.scenario ? ` ${c.load.scenario}` : "";
  const point = c.loadPoint;
  const rate = point === undefined ? "" : point.role === "closed-loop-max" ? " closed loop" : ` @ ${int(c.load?.targetRateTotalPerSec ?? 0)} msg/s${point.role === "probe" ? ` (search ${(point.search ?? 0) + 1}, probe ${point.step ?? 0})` : ""}`;
  const part = c.part !== undefined ? ` (${c.part})` : "";
  const accept = c.model === "completion-routine" && c.accept === "ring" ? " accept=ring" : "";
  return `[${position + 1}${total === null ? "" : `/${total}`}]${part}${scenario} ${c.model}${threads}${accept} c=${c.connections} ${c.sizeBytes}B${rate}`;
}

function int(x: number): string {
  return Math.round(x).toLocaleString("en-US");
}

/** Draws the progress of a sweep. */
export class Progress {
  private lastPlainAt = 0;
  private barShown = false;
  private current = "";
  private connections = 0;
  private target: number | null = null;
  private churn = false;

  constructor(private readonly out: ProgressStream) {}

  private get tty(): boolean {
    return this.out.isTTY === true;
  }

  private clearBar(): void {
    if (this.barShown) this.out.write("\r\x1b[K");
    this.barShown = false;
  }

  /** A run begins. */
  runStart(plan: RunPlan, position: number, total: number | null): void {
    this.current = label(plan, position, total);
    this.connections = plan.config.connections;
    this.target = plan.config.load?.targetRateTotalPerSec ?? null;
    this.churn = (plan.config.load?.messagesPerSession ?? 0) > 0;
    this.lastPlainAt = Date.now();
    if (!this.tty) this.out.write(`${this.current}: starting (${plan.config.warmupSec}s warm-up + ${plan.config.durationSec}s)\n`);
  }

  /** The run reports progress (about four times a second). */
  update(p: RunProgress): void {
    if (p.totalSec < MIN_BAR_SEC || p.phase === "starting" || p.phase === "stopping") return;
    const filled = Math.min(BAR_WIDTH, Math.round((p.elapsedSec / p.totalSec) * BAR_WIDTH));
    const bar = `[${"#".repeat(filled)}${"-".repeat(BAR_WIDTH - filled)}]`;
    const text =
      `${this.current} ${bar} ${p.elapsedSec.toFixed(1)}/${p.totalSec.toFixed(1)}s ${p.phase === "warmup" ? "warm-up" : "measure"}` +
      `  ${int(p.messagesPerSec)}${this.target === null ? "" : `/${int(this.target)}`} msg/s` +
      `${this.churn ? `  ${int(p.connectsPerSec)} conn/s` : ""}  errors ${int(p.errors)}  sessions ${int(p.connected)}/${int(this.connections)}`;
    if (this.tty) {
      const width = this.out.columns !== undefined && this.out.columns > 0 ? this.out.columns : 120;
      this.out.write(`\r\x1b[K${text.slice(0, Math.max(20, width - 1))}`);
      this.barShown = true;
    } else if (Date.now() - this.lastPlainAt >= PLAIN_EVERY_MS) {
      this.lastPlainAt = Date.now();
      this.out.write(`${text}\n`);
    }
  }

  /** A run ended: one line with its headline figures or its failure. */
  runEnd(run: Run): void {
    this.clearBar();
    const f = run.figures;
    const figures =
      f === null
        ? ""
        : ` ${int(f.messagesPerSec)} msg/s, p99 ${f.latencyUs === null ? "-" : int(f.latencyUs.p99)} µs` +
          `${f.latencyUncorrectedUs === null ? "" : ` (uncorrected ${int(f.latencyUncorrectedUs.p99)} µs)`}` +
          `, served ${int(f.sessionsServed)}/${int(run.config.connections)}, errors ${int(f.errors.total)}`;
    const flags = f === null || f.flags.length === 0 ? "" : ` !! ${f.flags.join(" ")}`;
    const status = run.status === "failed" ? ` FAILED: ${run.error}` : "";
    this.out.write(`${this.current}:${figures}${flags}${status}\n`);
  }

  /** Prints a message line without tearing the bar. */
  note(text: string): void {
    this.clearBar();
    this.out.write(`${text}\n`);
  }
}
