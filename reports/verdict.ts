/**
 * The check's decision, as Criterion makes it: for each configuration and
 * figure, the relative change from baseline to candidate with a 95 %
 * confidence interval, and a verdict that is "regressed" (or "improved")
 * only when the WHOLE interval lies past the figure's noise threshold in
 * that direction. Anything else is "within noise", said as such. Pure: no
 * I/O; the same inputs always give the same check.
 *
 * The interval (reports/stats.ts): paired rounds (--against) get a t
 * interval on the per-round log ratios; independent repeats (--baseline,
 * --compare) Welch's t interval on the logs. Both hold their 95 % at the n
 * used, and both need MIN_REPEATS per side: with fewer, a side has no
 * verdict and the check is INVALID (exit 2), saying how many are needed.
 *
 * Before any figure is judged, each side's repeats are vetted: a failed run,
 * a corrupted echo or a run with no message makes the check INVALID (exit 2:
 * it cannot say "fine" about runs that did not work). Runs flagged
 * CLIENT-STARVED or MACHINE-BUSY are left out of the figures, by name;
 * client saturation, errors and NOISY figures (repeats far apart) are
 * warnings printed beside the verdicts.
 */
import { FIGURES, configLabel, sameKey, setupDifference } from "./samples.js";
import type { ConfigKey, ConfigSamples, FigureName, Repeat } from "./samples.js";
import { CONFIDENCE, dispersion, median, pairedChange, percent, unpairedChange } from "./stats.js";
import type { ChangeInterval } from "./stats.js";
import { NOISE_FLAGS, NOISY_DISPERSION } from "./rules.js";

/** Noise threshold per figure, as a fraction (0.05 = 5 %). */
export type Thresholds = Record<FigureName, number>;

export const DEFAULT_THRESHOLDS: Thresholds = Object.fromEntries(FIGURES.map((f) => [f.name, f.defaultThreshold])) as Thresholds;

export { CONFIDENCE };

/** Usable repeats (or pairs) each side needs before a figure gets a verdict. */
export const MIN_REPEATS = 3;

export type FigureVerdictKind = "regressed" | "improved" | "within-noise" | "insufficient" | "not-measured";

/** One figure of one configuration. */
export interface FigureVerdict {
  figure: FigureName;
  /** Usable repeats that measured it (paired: pairs), and their median, per side. */
  baseline: { n: number; median: number | null };
  candidate: { n: number; median: number | null };
  /** Relative change (geometric mean ratio - 1), fraction (+0.1 = candidate 10 % higher); null without a verdict. */
  change: number | null;
  /** The change's 95 % interval, fractions; null without a verdict. */
  changeLow: number | null;
  changeHigh: number | null;
  /** How the interval was made (paired t on log ratios, or Welch t on logs); null without one. */
  method: ChangeInterval["method"] | null;
  /** The noise threshold applied, fraction. */
  threshold: number;
  verdict: FigureVerdictKind;
}

/** One configuration. */
export interface ConfigVerdict {
  key: ConfigKey;
  label: string;
  figures: FigureVerdict[];
  /** Reasons this configuration's comparison cannot be trusted at all (failed runs, mismatches, too few repeats...). */
  problems: string[];
  /** Reasons to read its figures with care (client saturation, errors, flagged runs left out, NOISY figures). */
  warnings: string[];
}

export type Overall = "regressed" | "improved" | "within-noise" | "invalid";

/** Everything check.json holds besides where the data came from. */
export interface CheckOutcome {
  /** Pairs were measured back to back (interleaved), and compared pair by pair. */
  paired: boolean;
  thresholds: Thresholds;
  confidence: number;
  /** Usable repeats per side a verdict needs. */
  minRepeats: number;
  configurations: ConfigVerdict[];
  /** invalid if any problem; else regressed if any figure regressed; else improved if any improved; else within-noise. */
  overall: Overall;
  /** 0 nothing regressed, 1 something regressed, 2 the runs cannot be judged. */
  exitCode: 0 | 1 | 2;
}

function figureValue(r: Repeat, figure: FigureName): number | null {
  const v = r[figure];
  return v !== null && Number.isFinite(v) && v > 0 ? v : null;
}

/** A repeat the noise rules keep out of every figure (CLIENT-STARVED, MACHINE-BUSY). */
export function noisyRun(r: Repeat): boolean {
  return r.flags.some((f) => NOISE_FLAGS.has(f));
}

const runName = (r: Repeat): string => (r.run === undefined ? `round ${r.round}` : `run ${r.run}`);

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
  const left = repeats.filter(noisyRun);
  if (left.length > 0) {
    warnings.push(`${side}: left out of the figures: ${left.map((r) => `${runName(r)} (${r.flags.filter((f) => NOISE_FLAGS.has(f)).join(", ")})`).join("; ")}`);
  }
  const saturated = repeats.filter((r) => r.clientSaturated);
  if (saturated.length > 0) warnings.push(`${side}: client-saturated in ${saturated.length}/${n} run(s): msg/s and p99 partly measure the client`);
  const erring = repeats.filter((r) => r.errors > 0);
  if (erring.length > 0) warnings.push(`${side}: errors (timeouts, resets, connects) in ${erring.length}/${n} run(s)`);
  const other = [...new Set(repeats.flatMap((r) => r.flags).filter((f) => f === "SESSIONS-MISSING" || f === "SERVER-EXIT"))];
  if (other.length > 0) warnings.push(`${side}: ${other.join(", ")}`);
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

/** The usable values of a figure: per side, or (paired) both members of the rounds where both are usable. */
function samplesOf(base: readonly Repeat[], cand: readonly Repeat[], figure: FigureName, paired: boolean): { b: number[]; c: number[] } {
  const value = (r: Repeat | undefined): number | null => (r === undefined || noisyRun(r) ? null : figureValue(r, figure));
  if (!paired) {
    const usable = (rs: readonly Repeat[]): number[] => rs.map(value).filter((v): v is number => v !== null);
    return { b: usable(base), c: usable(cand) };
  }
  const pairs = base.flatMap((br) => {
    const bv = value(br);
    const cv = value(cand.find((x) => x.round === br.round));
    return bv !== null && cv !== null ? [[bv, cv] as const] : [];
  });
  return { b: pairs.map((p) => p[0]), c: pairs.map((p) => p[1]) };
}

function judgeFigure(base: readonly Repeat[], cand: readonly Repeat[], figure: (typeof FIGURES)[number], threshold: number, paired: boolean): FigureVerdict {
  const { b, c } = samplesOf(base, cand, figure.name, paired);
  const measured = (rs: readonly Repeat[]): boolean => rs.some((r) => figureValue(r, figure.name) !== null);
  const verdict: FigureVerdict = {
    figure: figure.name,
    baseline: { n: b.length, median: b.length > 0 ? median(b) : null },
    candidate: { n: c.length, median: c.length > 0 ? median(c) : null },
    change: null,
    changeLow: null,
    changeHigh: null,
    method: null,
    threshold,
    verdict: measured(base) && measured(cand) ? "insufficient" : "not-measured",
  };
  if (verdict.verdict === "not-measured" || b.length < MIN_REPEATS || c.length < MIN_REPEATS) return verdict;
  const ci = paired ? pairedChange(b, c, CONFIDENCE)! : unpairedChange(b, c, CONFIDENCE)!;
  verdict.change = ci.change;
  verdict.changeLow = ci.low;
  verdict.changeHigh = ci.high;
  verdict.method = ci.method;
  verdict.verdict = verdictOf(ci.low, ci.high, threshold, figure.better);
  return verdict;
}

/** A NOISY warning for each figure whose usable repeats on one side differ by more than NOISY_DISPERSION. */
function noisyWarnings(side: string, repeats: readonly Repeat[]): string[] {
  return FIGURES.flatMap((f) => {
    const d = dispersion(repeats.filter((r) => !noisyRun(r)).map((r) => figureValue(r, f.name)).filter((v): v is number => v !== null));
    return d !== null && d > NOISY_DISPERSION ? [`${side}: ${f.label} NOISY: its repeats differ by ${percent(d)} (geometric CV, over ${percent(NOISY_DISPERSION)})`] : [];
  });
}

/** The problem line of figures without enough usable repeats, saying how many are needed. */
function insufficientProblem(figures: readonly FigureVerdict[], base: readonly Repeat[], cand: readonly Repeat[], paired: boolean): string | null {
  const short = figures.filter((f) => f.verdict === "insufficient");
  if (short.length === 0) return null;
  const label = (f: FigureVerdict): string => FIGURES.find((x) => x.name === f.figure)!.label;
  const left = Math.max(base.filter(noisyRun).length, cand.filter(noisyRun).length);
  const counts = short.map((f) => `${label(f)} ${f.baseline.n} vs ${f.candidate.n}`).join(", ");
  return (
    `too few usable ${paired ? "rounds (pairs)" : "repeats"} for a verdict (${counts}): at least ${MIN_REPEATS} per side are needed; ` +
    `run --repeats ${MIN_REPEATS + left} or more${left > 0 ? " (flagged runs are left out)" : ""}`
  );
}

/** Why a configuration of one side has no match on the other: the nearest one's differing fields. */
function missing(side: "baseline" | "candidate", key: ConfigKey, others: readonly ConfigSamples[], ignoreWork: boolean): string {
  const near = others.find((o) => o.key.model === key.model && o.key.threads === key.threads && o.key.connections === key.connections && o.key.sizeBytes === key.sizeBytes);
  const why = near === undefined ? "" : `: the nearest differs in ${setupDifference(near.key, key).filter((f) => !(ignoreWork && f === "work")).join(", ")}`;
  return `the ${side} has no run of ${configLabel(key)} with the same setup${why}`;
}

/**
 * Compares every configuration of the baseline with the candidate's.
 * `ignoreWork`: the candidate's server work was injected on purpose
 * (check --work), so configurations match whatever their work.
 */
export function judge(
  baseline: readonly ConfigSamples[],
  candidate: readonly ConfigSamples[],
  options: { paired: boolean; thresholds: Thresholds; ignoreWork?: boolean },
): CheckOutcome {
  const ignoreWork = options.ignoreWork === true;
  const configurations: ConfigVerdict[] = [];
  for (const base of baseline) {
    const label = configLabel(base.key);
    const cand = candidate.find((c) => sameKey(c.key, base.key, ignoreWork));
    if (cand === undefined) {
      configurations.push({ key: base.key, label, figures: [], problems: [missing("candidate", base.key, candidate, ignoreWork)], warnings: [] });
      continue;
    }
    const vb = vet("baseline", base.repeats);
    const vc = vet("candidate", cand.repeats);
    const figures = FIGURES.map((f) => judgeFigure(base.repeats, cand.repeats, f, options.thresholds[f.name], options.paired));
    const problems = [...vb.problems, ...vc.problems];
    const warnings = [...vb.warnings, ...vc.warnings, ...noisyWarnings("baseline", base.repeats), ...noisyWarnings("candidate", cand.repeats)];
    const short = insufficientProblem(figures, base.repeats, cand.repeats, options.paired);
    if (short !== null) problems.push(short);
    for (const f of figures.filter((v) => v.verdict === "not-measured")) {
      // One side measured it and the other did not: the two runs are not alike.
      const name = FIGURES.find((x) => x.name === f.figure)!.label;
      const on = (rs: readonly Repeat[]): boolean => rs.some((r) => figureValue(r, f.figure) !== null);
      if (on(base.repeats) !== on(cand.repeats)) problems.push(`${name} was measured on one side only`);
      else warnings.push(`${name} was not measured (an external server without --server-pid, or no message)`);
    }
    configurations.push({ key: base.key, label, figures, problems, warnings });
  }
  for (const cand of candidate) {
    if (!baseline.some((b) => sameKey(b.key, cand.key, ignoreWork))) {
      configurations.push({ key: cand.key, label: configLabel(cand.key), figures: [], problems: [missing("baseline", cand.key, baseline, ignoreWork)], warnings: [] });
    }
  }
  if (configurations.length === 0) {
    const none: ConfigKey = { model: "-", threads: null, connections: 0, sizeBytes: 0, work: null, setup: "{}" };
    configurations.push({ key: none, label: "-", figures: [], problems: ["no runs to compare"], warnings: [] });
  }
  const verdicts = configurations.flatMap((c) => c.figures.map((f) => f.verdict));
  let overall: Overall = "within-noise";
  if (configurations.some((c) => c.problems.length > 0)) overall = "invalid";
  else if (verdicts.includes("regressed")) overall = "regressed";
  else if (verdicts.includes("improved")) overall = "improved";
  const exitCode = overall === "invalid" ? 2 : overall === "regressed" ? 1 : 0;
  return { paired: options.paired, thresholds: options.thresholds, confidence: CONFIDENCE, minRepeats: MIN_REPEATS, configurations, overall, exitCode };
}
