/**
 * The flags of open-loop curves: --rate as a list or a range (a rate
 * sweep), --find-max-rate with --slo (a search for the highest rate that
 * meets an objective) and --search-resolution. Checked here into the
 * options' `rates`, `slo` and `search`; what they do is runner/sweep.ts and
 * runner/search.ts.
 *
 * Rates are messages per second in total: 5000, 5k, 1.5M (k = 1,000,
 * M = 1,000,000), or shares of the closed-loop maximum the sweep measures
 * first for each configuration: 50%. A list ("5k,10k,20k"), or a range with
 * its number of rates ("10k..200k:8", both ends included), spaced in equal
 * ratios (geometric, the default: a curve over decades) or equal steps
 * (--rate-spacing linear).
 */
import type { Options } from "yargs";
import { UsageError } from "../contracts/errors.js";
import { durationUs } from "../contracts/work.js";
import type { LoadOptions, RateSweep, SearchOptions, Slo, SloCondition } from "../reports/schema.js";
import { formatCondition } from "../reports/slo.js";
import { list, scalar } from "./parse.js";
import type { RawFlag } from "./parse.js";

/** The largest rate accepted, msg/s (as a single --rate). */
const MAX_RATE = 100_000_000;
/** Most rates in one sweep. */
const MAX_RATES = 100;
/** The search's resolution when not given. */
export const DEFAULT_RESOLUTION = 0.05;
/** Most probes one search runs: bracketing from the closed-loop maximum within [max/1024, 8 × max] and bisecting to 0.5 % takes 21, and a few retries. */
export const MAX_PROBES = 30;
/** A rate the client limited, or other processes disturbed, is probed again this many times before the search stops there. */
export const SEARCH_RETRIES = 2;

export const RATE_FLAGS: Record<string, Options> = {
  "rate-spacing": {
    type: "string",
    requiresArg: true,
    choices: ["geometric", "linear"],
    description: "a --rate range (low..high:N): rates in equal ratios (geometric) or equal steps (linear)",
    defaultDescription: "geometric",
  },
  "find-max-rate": {
    type: "boolean",
    description:
      "search, per configuration and repeat, for the highest open-loop rate that meets --slo: a closed-loop run first, then probes (each a full run) " +
      "doubling or halving from its msg/s, then bisecting to --search-resolution; --rate low..high bounds it",
  },
  slo: {
    type: "string",
    requiresArg: true,
    description: 'the objective, conditions that must all hold: pNN=<time> (corrected latency percentile, e.g. p99=2ms, p99.9=10ms), achieved=<share> (e.g. achieved=99%)',
  },
  "search-resolution": {
    type: "string",
    requiresArg: true,
    description: "--find-max-rate stops when the rate that missed the objective is within this of the one that met it",
    defaultDescription: `${DEFAULT_RESOLUTION * 100}%`,
  },
};

/** One rate: msg/s, or a share of the closed-loop maximum ("50%" = 0.5). */
interface RateValue {
  value: number;
  unit: RateSweep["unit"];
}

function rateValue(text: string): RateValue {
  const t = text.trim();
  const share = /^(\d+(?:\.\d+)?|\.\d+)%$/.exec(t);
  if (share !== null) {
    const v = Number(share[1]) / 100;
    if (!(v > 0 && v <= 100)) throw new UsageError(`--rate ${t}: a share of the closed-loop maximum must be above 0% and at most 10000%`);
    return { value: v, unit: "closed-loop-max" };
  }
  const m = /^(\d+(?:\.\d+)?|\.\d+)([kKM]?)$/.exec(t);
  if (m === null) throw new UsageError(`--rate must be messages per second (5000, 5k, 1.5M) or a share of the closed-loop maximum (80%), got '${t}'`);
  const v = Number(m[1]) * (m[2] === "" ? 1 : m[2] === "M" ? 1e6 : 1e3);
  if (!(v > 0 && v <= MAX_RATE)) throw new UsageError(`--rate must be above 0 and at most ${MAX_RATE.toLocaleString("en-US")} msg/s, got '${t}'`);
  return { value: v, unit: "msg/s" };
}

/** What --rate asks for. */
export type RateChoice =
  | { kind: "single"; perSec: number }
  | { kind: "sweep"; sweep: RateSweep }
  /** A range without a count: with --find-max-rate, the search's bounds. */
  | { kind: "range"; low: RateValue; high: RateValue };

/** Parses --rate (its last value, or every item of a comma list). */
export function rateChoice(raw: RawFlag, spacing: "geometric" | "linear"): RateChoice | undefined {
  const items = list("rate", raw);
  if (items === undefined) return undefined;
  const text = items.join(",");
  if (items.length === 1 && items[0]!.includes("..")) {
    const m = /^([^.:]+)\.\.([^.:]+)(?::(\d+))?$/.exec(items[0]!.trim());
    if (m === null) throw new UsageError(`--rate range must be low..high:N (N rates, both ends included), e.g. 10k..200k:8, got '${text}'`);
    const low = rateValue(m[1]!);
    const high = rateValue(m[2]!);
    if (low.unit !== high.unit) throw new UsageError(`--rate ${text}: give both ends in msg/s or both as shares (%)`);
    if (!(low.value < high.value)) throw new UsageError(`--rate ${text}: the low end must be below the high end`);
    if (m[3] === undefined) return { kind: "range", low, high };
    const n = Number(m[3]);
    if (!(n >= 2 && n <= MAX_RATES)) throw new UsageError(`--rate ${text}: the number of rates must be 2 to ${MAX_RATES}`);
    const at = (i: number): number =>
      spacing === "geometric" ? low.value * (high.value / low.value) ** (i / (n - 1)) : low.value + ((high.value - low.value) * i) / (n - 1);
    const values = [...new Set(Array.from({ length: n }, (_, i) => Number(at(i).toPrecision(4))))];
    return { kind: "sweep", sweep: { text, unit: low.unit, spacing, values } };
  }
  const values = items.map(rateValue);
  if (values.length === 1 && values[0]!.unit === "msg/s") return { kind: "single", perSec: values[0]!.value };
  if (values.length > MAX_RATES) throw new UsageError(`--rate: at most ${MAX_RATES} rates`);
  if (new Set(values.map((v) => v.unit)).size > 1) throw new UsageError(`--rate ${text}: give every rate in msg/s or every one as a share (%), not both`);
  const sorted = [...new Set(values.map((v) => v.value))].sort((a, b) => a - b);
  return { kind: "sweep", sweep: { text, unit: values[0]!.unit, spacing: "list", values: sorted } };
}

/** Parses --slo: conditions separated by commas, every one of which must hold. */
export function sloOption(text: string): Slo {
  const conditions: SloCondition[] = text.split(",").map((item): SloCondition => {
    const t = item.trim();
    const eq = t.indexOf("=");
    const name = eq < 0 ? t : t.slice(0, eq).trim().toLowerCase();
    const value = eq < 0 ? "" : t.slice(eq + 1).trim();
    if (name === "achieved") {
      const m = /^(\d+(?:\.\d+)?)%$/.exec(value);
      const share = m === null ? NaN : Number(m[1]) / 100;
      if (!(share > 0 && share <= 1)) throw new UsageError(`--slo ${t}: achieved must be a share above 0% and at most 100%, e.g. achieved=99%`);
      return { kind: "achieved", minShare: share };
    }
    const p = /^p(\d+(?:\.\d+)?)$/.exec(name);
    const percentile = name === "max" ? 100 : p === null ? NaN : Number(p[1]);
    if (eq < 0 || !(percentile > 0 && percentile <= 100)) {
      throw new UsageError(`--slo '${t}': each condition is pNN=<time> (p50, p99, p99.9, max; e.g. p99=2ms) or achieved=<share> (e.g. achieved=99%)`);
    }
    const bound = durationUs(value);
    if (bound === null || !(bound > 0)) throw new UsageError(`--slo ${t}: the bound must be a time with its unit, e.g. 850us, 2ms, 1s`);
    return { kind: "latency", percentile, boundUs: bound };
  });
  return { text: conditions.map(formatCondition).join(","), conditions };
}

/** Checks the curve flags against the load and the rest of the options; the options' `rates`, `slo` and `search`. */
export function curveChoice(
  args: Record<string, RawFlag>,
  rate: RateChoice | undefined,
  load: LoadOptions,
  context: { chat: boolean; outsideClient: boolean },
): { rates?: RateSweep; slo?: Slo; search?: SearchOptions } {
  const find = args["find-max-rate"] === true;
  const sloText = scalar(args.slo);
  const resolutionText = scalar(args["search-resolution"]);
  const sweep = rate?.kind === "sweep" ? rate.sweep : undefined;
  if (!find && resolutionText !== undefined) throw new UsageError("--search-resolution applies with --find-max-rate");
  if (!find && sloText !== undefined && sweep === undefined) throw new UsageError("--slo applies with --find-max-rate or a --rate sweep (a list or a range)");
  if (args["rate-spacing"] !== undefined && !(rate?.kind === "sweep" && rate.sweep.spacing !== "list")) {
    throw new UsageError("--rate-spacing applies to a --rate range with its number of rates, low..high:N");
  }
  if (rate?.kind === "range" && !find) throw new UsageError(`--rate ${String(scalar(args.rate))}: give the number of rates, low..high:N (e.g. 10k..200k:8)`);
  if (!find && sweep === undefined) return {};
  const what = find ? "--find-max-rate" : "a --rate sweep";
  if (context.chat) throw new UsageError(`${what} is for echo and http sessions: a chat room's rate is per sender`);
  if (context.outsideClient) throw new UsageError(`${what} needs iobench's own client (the open loop with its correction): leave out --client`);
  if (args["rate-per-session"] !== undefined) throw new UsageError(`${what} sets rates in total: leave out --rate-per-session`);
  if (args["closed-loop"] === true) throw new UsageError(`${what} runs the open loop: leave out --closed-loop`);
  if (load.thinkTimeMs > 0) throw new UsageError(`${what} runs the open loop, which paces by its rate: leave out --think-time`);
  const slo = sloText === undefined ? undefined : sloOption(sloText);
  if (!find) return { rates: sweep!, ...(slo !== undefined ? { slo } : {}) };
  if (slo === undefined) throw new UsageError("--find-max-rate needs --slo, the objective to meet, e.g. --slo p99=2ms or --slo p99=2ms,achieved=99%");
  if (rate !== undefined && rate.kind !== "range") {
    throw new UsageError("with --find-max-rate, --rate gives the search's bounds as a range without a count, low..high (e.g. 1k..100k or 10%..200%)");
  }
  let resolution = DEFAULT_RESOLUTION;
  if (resolutionText !== undefined) {
    const m = /^(\d+(?:\.\d+)?)%$/.exec(resolutionText.trim());
    resolution = m === null ? NaN : Number(m[1]) / 100;
    if (!(resolution >= 0.005 && resolution <= 1)) throw new UsageError(`--search-resolution must be a share from 0.5% to 100%, e.g. 5%, got '${resolutionText}'`);
  }
  const bound = (v: RateValue | undefined, unit: RateSweep["unit"]): number | null => (v !== undefined && v.unit === unit ? v.value : null);
  const low = rate?.kind === "range" ? rate.low : undefined;
  const high = rate?.kind === "range" ? rate.high : undefined;
  return {
    slo,
    search: {
      resolution,
      lowPerSec: bound(low, "msg/s"),
      highPerSec: bound(high, "msg/s"),
      lowShare: bound(low, "closed-loop-max"),
      highShare: bound(high, "closed-loop-max"),
      maxProbes: MAX_PROBES,
      retries: SEARCH_RETRIES,
    },
  };
}
