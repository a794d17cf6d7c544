/**
 * The search for the highest open-loop rate that meets an objective
 * (--find-max-rate), as a small state machine: it says which rate to probe
 * next, is told how each probe went (reports/slo.ts judges), and ends with
 * the rate found and the interval the limit lies in. No I/O: the sweep
 * (runner/sweep.ts) runs each probe as a full run.
 *
 * Bracket, then bisect. The first probe is the closed-loop maximum (clamped
 * to the bounds); while every probe met the objective the rate doubles, while
 * every probe missed it halves, each within the bounds. Once a rate that met
 * it (lo) lies below one that missed it (hi), each probe is their geometric
 * mean, until hi ≤ (1 + resolution) × lo. Every probe lies strictly between
 * lo and hi, so the bracket stays consistent whatever the noise: the limit
 * is reported as [lo, hi], both rates measured, lo the rate found.
 *
 * A probe the client limited says nothing of the server, nor does one that
 * missed while other processes took the CPUs ("disturbed", reports/slo.ts).
 * On a shared machine either is often a passing disturbance, so the rate is
 * probed again, up to `retries` more times; still so, the search ends there
 * ("client-limited", "disturbed"), which will not call it the server's
 * limit: the rate found is a floor. A probe that failed for a reason not the
 * server's ends it too ("failed").
 */
import type { Probe, SearchResult } from "../reports/schema.js";

/** Where a search may go and when it stops. */
export interface SearchBounds {
  /** The lowest and highest rate it may probe, msg/s. */
  lowPerSec: number;
  highPerSec: number;
  /** The first probe, msg/s (within the bounds). */
  startPerSec: number;
  /** Stop once the rate that missed is at most (1 + resolution) × the rate that met. */
  resolution: number;
  /** Most probes. */
  maxProbes: number;
  /** How many more times a rate the client limited, or other processes disturbed, is probed before the search stops there. */
  retries: number;
}

/** Rates are probed at 4 significant digits: finer than any resolution asked of a run a few seconds long. */
function round(rate: number): number {
  return Number(rate.toPrecision(4));
}

/** The outcomes that say nothing of the server, so the rate is probed again. */
type RetriedOutcome = Extract<Probe["outcome"], "client-limited" | "disturbed">;

const perSec = (x: number): string => `${Math.round(x).toLocaleString("en-US")} msg/s`;

export class RateSearch {
  private lo: number | null = null;
  private hi: number | null = null;
  private status: SearchResult["status"] = "running";
  private probes = 0;
  private stoppedAt: { rate: number; reasons: string[] } | null = null;
  /** A rate the client limited or others disturbed, to probe again, how many times it was, and how the last try went. */
  private again: { rate: number; times: number; outcome: RetriedOutcome } | null = null;

  constructor(private readonly bounds: SearchBounds) {
    if (!(bounds.lowPerSec > 0 && bounds.lowPerSec <= bounds.startPerSec && bounds.startPerSec <= bounds.highPerSec)) {
      throw new RangeError(`search bounds out of order: ${bounds.lowPerSec} <= ${bounds.startPerSec} <= ${bounds.highPerSec}`);
    }
  }

  /** The next rate to probe, msg/s, or null when the search is over. */
  next(): number | null {
    if (this.status !== "running") return null;
    if (this.again !== null) return this.probes >= this.bounds.maxProbes ? this.end(this.again.outcome) : this.again.rate;
    const { lowPerSec: low, highPerSec: high, resolution } = this.bounds;
    const { lo, hi } = this;
    let rate: number;
    if (lo === null && hi === null) rate = this.bounds.startPerSec;
    else if (hi === null) {
      if (lo! >= high) return this.end("above-ceiling");
      rate = Math.min(high, lo! * 2);
    } else if (lo === null) {
      if (hi <= low) return this.end("never-met");
      rate = Math.max(low, hi / 2);
    } else {
      if (hi <= lo * (1 + resolution)) return this.end("found");
      rate = Math.sqrt(lo * hi);
    }
    if (this.probes >= this.bounds.maxProbes) return this.end(lo !== null && hi !== null ? "found" : "failed");
    rate = round(rate);
    // Rounding must not land on a rate already decided (a bracket narrower than 4 digits).
    if (rate === lo || rate === hi) return this.end(lo !== null && hi !== null ? "found" : "failed");
    return rate;
  }

  private end(status: SearchResult["status"]): null {
    this.status = status;
    return null;
  }

  /** How the probe at `rate` went. */
  record(rate: number, outcome: Probe["outcome"], reasons: readonly string[] = []): void {
    if (this.status !== "running") throw new Error("the search is over");
    this.probes++;
    const times = this.again?.rate === rate ? this.again.times : 0;
    this.again = null;
    if (outcome === "met") this.lo = this.lo === null ? rate : Math.max(this.lo, rate);
    else if (outcome === "missed") this.hi = this.hi === null ? rate : Math.min(this.hi, rate);
    else {
      this.stoppedAt = { rate, reasons: [...reasons] };
      if (outcome !== "failed" && times < this.bounds.retries) this.again = { rate, times: times + 1, outcome };
      else this.status = outcome;
    }
  }

  /** The outcome so far: status, the rate found and the interval, and a sentence saying it. */
  result(objective: string): Pick<SearchResult, "status" | "foundPerSec" | "lowPerSec" | "highPerSec" | "note"> {
    const { lo, hi, status } = this;
    const n = `${this.probes} probe${this.probes === 1 ? "" : "s"}`;
    let note: string;
    switch (status) {
      case "found":
        note = `met ${objective} up to ${perSec(lo!)} and missed it at ${perSec(hi!)} (${((hi! / lo! - 1) * 100).toFixed(1)}% apart, ${n})`;
        break;
      case "client-limited":
      case "disturbed":
        note =
          `stopped at ${perSec(this.stoppedAt!.rate)}, where ${this.stoppedAt!.reasons[0] ?? (status === "disturbed" ? "other processes took the CPUs" : "the client itself was a limit")}; ` +
          (lo === null ? "no rate met the objective before it" : `the server met ${objective} up to ${perSec(lo)}`) +
          (hi === null ? ", and its own limit may lie higher" : ` and missed it at ${perSec(hi)}`);
        break;
      case "never-met":
        note = `missed ${objective} even at the lowest rate allowed, ${perSec(this.bounds.lowPerSec)} (${n})`;
        break;
      case "above-ceiling":
        note = `met ${objective} even at the highest rate allowed, ${perSec(this.bounds.highPerSec)}: the limit lies above (${n})`;
        break;
      case "failed":
        note = this.stoppedAt !== null ? `a probe at ${perSec(this.stoppedAt.rate)} failed for a reason not the server's: ${this.stoppedAt.reasons.join("; ")}` : `gave up after ${n} without a bracket`;
        break;
      default:
        note = `not finished (${n} so far)`;
    }
    return { status, foundPerSec: lo, lowPerSec: lo, highPerSec: hi, note };
  }
}
