/**
 * The check command's flags: one mode (--save-baseline, --baseline,
 * --compare or --against), the noise thresholds, and the bench flags that
 * describe the load (for --save-baseline and --against; --baseline re-runs
 * the baseline's own configuration).
 */
import type { Options } from "yargs";
import { checkBaselineName } from "../reports/baseline.js";
import { FIGURES } from "../reports/samples.js";
import type { FigureName } from "../reports/samples.js";
import { DEFAULT_THRESHOLDS, type Thresholds } from "../reports/verdict.js";
import { UsageError, oneLine } from "../contracts/errors.js";
import { benchFlags } from "./bench-options.js";
import { list, scalar, type RawFlag } from "./parse.js";

/** Repeats per side when --repeats is not given: fewer make intervals too coarse to conclude anything. */
export const CHECK_DEFAULT_REPEATS = 6;
export const DEFAULT_BASELINES_DIR = "baselines";

/** What the check is asked to do. */
export type CheckMode =
  | { kind: "save-baseline"; name: string }
  | { kind: "baseline"; name: string }
  | { kind: "compare"; dirA: string; dirB: string }
  | { kind: "against"; ref: string };

export interface CheckOptions {
  mode: CheckMode;
  thresholds: Thresholds;
  baselinesDir: string;
}

/** Bench flags --baseline still takes: where results go, and the candidate's server work (to inject a known cost). */
const BASELINE_OVERRIDES = new Set(["out", "work", "json"]);

/** yargs definitions of the check flags (bench flags included). */
export function checkFlags(cores: number): Record<string, Options> {
  const bench = benchFlags(cores);
  const str = (description: string, extra: Partial<Options> = {}): Options => ({ type: "string", requiresArg: true, description, ...extra });
  return {
    "save-baseline": str("run the configuration and store it as baselines/NAME.json"),
    baseline: str("re-run baselines/NAME.json's configuration and compare with it (exit 1 if a figure regressed)"),
    compare: { type: "string", nargs: 2, description: "compare two results directories (or results.json files), A = baseline, B = candidate, without running" },
    against: str("build this git ref in a temporary worktree and run it and the working tree in alternating rounds (paired)"),
    threshold: str(
      `noise threshold per figure, e.g. cpu=5%,rate=10%,p99=10%: a change is a verdict only when its whole 95% interval lies past it`,
      { defaultDescription: FIGURES.map((f) => `${f.name}=${f.defaultThreshold * 100}%`).join(",") },
    ),
    "baselines-dir": str("where baselines are kept", { defaultDescription: DEFAULT_BASELINES_DIR }),
    ...bench,
    repeats: { ...bench.repeats, description: "repeats per side (--against: rounds, each running both sides)", defaultDescription: String(CHECK_DEFAULT_REPEATS) },
    work: { ...bench.work, description: `${String(bench.work!.description)}; with --baseline and --against, the candidate's only (to inject a known cost)` },
    json: { ...bench.json, description: "print check.json on stdout instead of the table" },
  };
}

/** "cpu=5%,rate=10%" over the defaults. */
export function parseThresholds(raw: RawFlag): Thresholds {
  const out: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const item of list("threshold", raw) ?? []) {
    const m = /^([a-z0-9]+)\s*=\s*(\d+(?:\.\d+)?)\s*%?$/i.exec(item);
    const name = m?.[1]!.toLowerCase() as FigureName | undefined;
    if (m === null || !FIGURES.some((f) => f.name === name)) {
      throw new UsageError(`--threshold item '${item}' must be FIGURE=PERCENT with FIGURE one of ${FIGURES.map((f) => f.name).join(", ")} (e.g. cpu=5%)`);
    }
    const fraction = Number(m[2]) / 100;
    if (!(fraction > 0 && fraction < 10)) throw new UsageError(`--threshold ${item}: the percentage must be above 0 and below 1000`);
    out[name!] = fraction;
  }
  return out;
}

/** The bench flags the user gave (long names), as yargs holds them. */
export function givenBenchFlags(args: Record<string, RawFlag>, cores: number): string[] {
  return Object.keys(benchFlags(cores)).filter((k) => args[k] !== undefined && !(k === "json" && args[k] === false));
}

/** Checks the check flags; throws UsageError naming the problem. */
export function checkOptions(args: Record<string, RawFlag>, cores: number): CheckOptions {
  const modes: CheckMode[] = [];
  const named = (flag: string, kind: "save-baseline" | "baseline"): void => {
    const v = scalar(args[flag]);
    if (v === undefined) return;
    try {
      modes.push({ kind, name: checkBaselineName(v) });
    } catch (err) {
      throw new UsageError(`--${flag}: ${oneLine(err)}`);
    }
  };
  named("save-baseline", "save-baseline");
  named("baseline", "baseline");
  const compare = args.compare;
  if (compare !== undefined) {
    const dirs = Array.isArray(compare) ? compare.map(String) : [String(compare)];
    if (dirs.length !== 2) throw new UsageError("--compare takes two results directories: --compare DIR_A DIR_B");
    modes.push({ kind: "compare", dirA: dirs[0]!, dirB: dirs[1]! });
  }
  const ref = scalar(args.against);
  if (ref !== undefined) modes.push({ kind: "against", ref });
  if (modes.length !== 1) {
    throw new UsageError(
      modes.length === 0
        ? "check needs one of --save-baseline NAME, --baseline NAME, --compare DIR_A DIR_B, --against REF"
        : "check takes one of --save-baseline, --baseline, --compare, --against, not several",
    );
  }
  const mode = modes[0]!;
  const given = givenBenchFlags(args, cores);
  if (mode.kind === "baseline") {
    const fixed = given.filter((k) => !BASELINE_OVERRIDES.has(k));
    if (fixed.length > 0) throw new UsageError(`--baseline re-runs the baseline's own configuration: --${fixed[0]} cannot change it (only --out and --work)`);
  }
  if (mode.kind === "compare") {
    const any = given.filter((k) => k !== "out" && k !== "json");
    if (any.length > 0) throw new UsageError(`--compare runs nothing: --${any[0]} does not apply`);
  }
  return { mode, thresholds: parseThresholds(args.threshold), baselinesDir: scalar(args["baselines-dir"]) ?? DEFAULT_BASELINES_DIR };
}
