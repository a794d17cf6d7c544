/**
 * The check's decision, as Criterion makes it: for each configuration and
 * figure, the relative change from baseline to candidate with a bootstrap
 * confidence interval, and a verdict that is "regressed" (or "improved")
 * only when the WHOLE interval lies past the figure's noise threshold in
 * that direction. Anything else is "within noise", said as such. Pure: no
 * I/O; the same inputs always give the same check (seeded bootstrap).
 *
 * Before any figure is judged, each side's repeats are vetted: a failed run,
 * a corrupted echo or a run with no message makes the check INVALID (exit 2:
 * it cannot say "fine" about runs that did not work); client saturation and
 * other errors are warnings printed beside the verdicts.
 */
import { FIGURES, configLabel, sameKey } from "./samples.js";
import type { ConfigKey, ConfigSamples, FigureName, Repeat } from "./samples.js";
import { bootstrapChangeInterval, bootstrapPairedChangeInterval, median, medianChange, pairedChange } from "./stats.js";

/** Noise threshold per figure, as a fraction (0.05 = 5 %). */
export type Thresholds = Record<FigureName, number>;

export const DEFAULT_THRESHOLDS: Thresholds = Object.fromEntries(FIGURES.map((f) => [f.name, f.defaultThreshold])) as Thresholds;

/** Confidence level of every interval. */
export const CONFIDENCE = 0.95;

export type FigureVerdictKind = "regressed" | "improved" | "within-noise" | "not-measured";

/** One figure of one configuration. */
export interface FigureVerdict {
  figure: FigureName;
  /** Repeats that measured it, and their median, per side. */
  baseline: { n: number; median: number | null };
  candidate: { n: number; median: number | null };
  /** Relative change, fraction (+0.1 = candidate 10 % higher); null when not measured on both sides. */
  change: number | null;
  /** The change's 95 % bootstrap interval, fractions. */
  changeLow: number | null;
  changeHigh: number | null;
  /** The noise threshold applied, fraction. */
  threshold: number;
  verdict: FigureVerdictKind;
}

/** One configuration. */
export interface ConfigVerdict {
  key: ConfigKey;
  label: string;
  figures: FigureVerdict[];
  /** Reasons this configuration's comparison cannot be trusted at all (failed runs, mismatches...). */
  problems: string[];
  /** Reasons to read its figures with care (client saturation, errors, few repeats). */
  warnings: string[];
}

export type Overall = "regressed" | "improved" | "within-noise" | "invalid";

/** Everything check.json holds besides where the data came from. */
export interface CheckOutcome {
  /** Pairs were measured back to back (interleaved), and compared pair by pair. */
  paired: boolean;
  thresholds: Thresholds;
  confidence: number;
  configurations: ConfigVerdict[];
  /** invalid if any problem; else regressed if any figure regressed; else improved if any improved; else within-noise. */
  overall: Overall;
  /** 0 nothing regressed, 1 something regressed, 2 the runs cannot be judged. */
  exitCode: 0 | 1 | 2;
}

/** Fewer repeats than this per side gives intervals too coarse to trust: warn. */
const FEW_REPEATS = 3;

function figureValue(r: Repeat, figure: FigureName): number | null {
  const v = r[figure];
  return v !== null && Number.isFinite(v) && v > 0 ? v : null;
}

/** Problems (the repeats cannot be judged) and warnings of one side's repeats, worded with the side's name. */
export function vet(side: string, repeats: readonly Repeat[]): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const n = repeats.length;
  const failed = repeats.filter((r) => !r.ok);
  if (failed.length > 0) problems.push(`${side}: ${failed.length}/${n} run(s) failed (${failed[0]!.error ?? "no reason"})`);
  const mismatched = repeats.filter((r) => r.mismatches > 0);
  if (mismatched.length > 0) problems.push(`${side}: corrupted echoes (MISMATCH) in ${mismatched.length}/${n} run(s)`);
  const silent = repeats.filter((r) => r.ok && r.messages === 0);
  if (silent.length > 0) problems.push(`${side}: no message completed in ${silent.length}/${n} run(s)`);
  const saturated = repeats.filter((r) => r.clientSaturated);
  if (saturated.length > 0) warnings.push(`${side}: client-saturated in ${saturated.length}/${n} run(s): msg/s and p99 partly measure the client`);
  const erring = repeats.filter((r) => r.errors > 0);
  if (erring.length > 0) warnings.push(`${side}: errors (timeouts, resets, connects) in ${erring.length}/${n} run(s)`);
  const other = [...new Set(repeats.flatMap((r) => r.flags).filter((f) => f === "SESSIONS-MISSING" || f === "SERVER-EXIT"))];
  if (other.length > 0) warnings.push(`${side}: ${other.join(", ")}`);
  if (n < FEW_REPEATS) warnings.push(`${side}: only ${n} repeat(s): the interval cannot be narrower than the spread of so few`);
  return { problems, warnings };
}

/** The verdict of one interval against one threshold, for a figure where `better` is the good direction. */
export function verdictOf(low: number, high: number, threshold: number, better: "higher" | "lower"): FigureVerdictKind {
  const worseLow = better === "lower" ? low : -high; // the interval, turned so that positive is worse
  const worseHigh = better === "lower" ? high : -low;
  if (worseLow > threshold) return "regressed";
  if (worseHigh < -threshold) return "improved";
  return "within-noise";
}

function judgeFigure(base: readonly Repeat[], cand: readonly Repeat[], figure: (typeof FIGURES)[number], threshold: number, paired: boolean): FigureVerdict {
  let b: number[];
  let c: number[];
  if (paired) {
    // Only rounds where both members of the pair measured the figure.
    const pairs = base.flatMap((br) => {
      const cr = cand.find((x) => x.round === br.round);
      const bv = figureValue(br, figure.name);
      const cv = cr === undefined ? null : figureValue(cr, figure.name);
      return bv !== null && cv !== null ? [[bv, cv] as const] : [];
    });
    b = pairs.map((p) => p[0]);
    c = pairs.map((p) => p[1]);
  } else {
    b = base.map((r) => figureValue(r, figure.name)).filter((v): v is number => v !== null);
    c = cand.map((r) => figureValue(r, figure.name)).filter((v): v is number => v !== null);
  }
  const verdict: FigureVerdict = {
    figure: figure.name,
    baseline: { n: b.length, median: b.length > 0 ? median(b) : null },
    candidate: { n: c.length, median: c.length > 0 ? median(c) : null },
    change: null,
    changeLow: null,
    changeHigh: null,
    threshold,
    verdict: "not-measured",
  };
  if (b.length === 0 || c.length === 0) return verdict;
  const ci = paired ? bootstrapPairedChangeInterval(b, c, { confidence: CONFIDENCE }) : bootstrapChangeInterval(b, c, { confidence: CONFIDENCE });
  verdict.change = paired ? pairedChange(b, c) : medianChange(b, c);
  verdict.changeLow = ci.low;
  verdict.changeHigh = ci.high;
  verdict.verdict = verdictOf(ci.low, ci.high, threshold, figure.better);
  return verdict;
}

/** Compares every configuration of the baseline with the candidate's. */
export function judge(
  baseline: readonly ConfigSamples[],
  candidate: readonly ConfigSamples[],
  options: { paired: boolean; thresholds: Thresholds },
): CheckOutcome {
  const configurations: ConfigVerdict[] = [];
  for (const base of baseline) {
    const label = configLabel(base.key);
    const cand = candidate.find((c) => sameKey(c.key, base.key));
    if (cand === undefined) {
      configurations.push({ key: base.key, label, figures: [], problems: [`the candidate has no run of ${label}`], warnings: [] });
      continue;
    }
    const vb = vet("baseline", base.repeats);
    const vc = vet("candidate", cand.repeats);
    const figures = FIGURES.map((f) => judgeFigure(base.repeats, cand.repeats, f, options.thresholds[f.name], options.paired));
    const problems = [...vb.problems, ...vc.problems];
    const warnings = [...vb.warnings, ...vc.warnings];
    for (const f of figures.filter((v) => v.verdict === "not-measured")) {
      // One side measured it and the other did not: the two runs are not alike.
      const label = FIGURES.find((x) => x.name === f.figure)!.label;
      if ((f.baseline.n > 0) !== (f.candidate.n > 0)) problems.push(`${label} was measured on one side only`);
      else warnings.push(`${label} was not measured (an external server without --server-pid, or no message)`);
    }
    configurations.push({ key: base.key, label, figures, problems, warnings });
  }
  for (const cand of candidate) {
    if (!baseline.some((b) => sameKey(b.key, cand.key))) {
      const label = configLabel(cand.key);
      configurations.push({ key: cand.key, label, figures: [], problems: [`the baseline has no run of ${label}`], warnings: [] });
    }
  }
  if (configurations.length === 0) {
    configurations.push({ key: { model: "-", threads: null, connections: 0, sizeBytes: 0 }, label: "-", figures: [], problems: ["no runs to compare"], warnings: [] });
  }
  const verdicts = configurations.flatMap((c) => c.figures.map((f) => f.verdict));
  let overall: Overall = "within-noise";
  if (configurations.some((c) => c.problems.length > 0)) overall = "invalid";
  else if (verdicts.includes("regressed")) overall = "regressed";
  else if (verdicts.includes("improved")) overall = "improved";
  const exitCode = overall === "invalid" ? 2 : overall === "regressed" ? 1 : 0;
  return { paired: options.paired, thresholds: options.thresholds, confidence: CONFIDENCE, configurations, overall, exitCode };
}
