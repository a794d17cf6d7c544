/**
 * The check command: has the server got slower? One of four modes,
 *
 *   --save-baseline NAME   run the load, store baselines/NAME.json
 *   --baseline NAME        re-run that configuration, compare with the stored repeats
 *   --compare DIR_A DIR_B  compare two finished sweeps, run nothing
 *   --against REF          build REF in a temporary worktree; run REF and the working
 *                          tree in alternating rounds (ABBA), compare pair by pair
 *
 * then the verdicts of reports/verdict.ts as a table on stdout, check.json
 * and check.md beside the results (check.md also appended to
 * $GITHUB_STEP_SUMMARY when set). Exit 0 nothing regressed, 1 a figure
 * regressed, 2 usage errors or runs that cannot be judged.
 */
import fs from "node:fs";
import path from "node:path";
import { baselineFromResults, baselinePath, baselineSamples, readBaseline, writeBaseline } from "../reports/baseline.js";
import { CHECK_SCHEMA, CHECK_VERSION, renderCheckMarkdown, renderCheckTable } from "../reports/check-report.js";
import type { CheckFile, CheckSide } from "../reports/check-report.js";
import { checkResults, createResultsDir, resultsPath, writeFileAtomic, writeResults } from "../reports/results-file.js";
import { configLabel, groupRuns } from "../reports/samples.js";
import type { BenchOptions, ResultsFile } from "../reports/schema.js";
import { renderTable } from "../reports/table.js";
import { MIN_REPEATS, judge, vet } from "../reports/verdict.js";
import { spawnGuarded } from "../native/guard.js";
import { PACKAGE_ROOT } from "../runner/environment.js";
import { RunFailure, UsageError, oneLine } from "../contracts/errors.js";
import { buildRef } from "../runner/worktree.js";
import { loadScenario } from "../scenarios/load.js";
import { BENCH_DEFAULTS, benchOptions, workOption } from "./bench-options.js";
import { EXIT_INTERRUPTED, runBenchSweep } from "./bench.js";
import { CHECK_DEFAULT_REPEATS, givenBenchFlags, type CheckOptions } from "./check-options.js";
import { scalar, type RawFlag } from "./parse.js";

/** Exit status when the runs cannot be judged (failed, corrupted, missing) or the input is wrong. */
const EXIT_CANNOT_JUDGE = 2;

interface CheckIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WriteStream;
  signal: AbortSignal;
}

/** Runs the check; resolves with the exit status. */
export async function check(options: CheckOptions, args: Record<string, RawFlag>, cores: number, cpuCount: number, io: CheckIo): Promise<number> {
  const note = (line: string): void => void io.stderr.write(`${line}\n`);
  const mode = options.mode;
  if (mode.kind === "compare") {
    const a = readResults(mode.dirA);
    const b = readResults(mode.dirB);
    const dir = createResultsDir(outRoot(args));
    return finish({ mode: "compare", baseline: side(mode.dirA, a), candidate: side(mode.dirB, b), paired: false, base: a.results, cand: b.results, dir }, options, args, io);
  }

  // The load: the user's bench flags (and scenario), with more repeats by default (one repeat has no spread to judge),
  // and without the claims' runs unless asked for.
  const bench = async (): Promise<BenchOptions> => {
    const scenarioName = scalar(args.scenario);
    const o = benchOptions({ claims: false, ...args }, cores, cpuCount, scenarioName === undefined ? null : await loadScenario(scenarioName));
    return args.repeats === undefined ? { ...o, repeats: CHECK_DEFAULT_REPEATS } : o;
  };

  if (mode.kind === "save-baseline") {
    const { outcome } = await runBenchSweep({ ...(await bench()), json: false }, cores, io);
    io.stdout.write(`${renderTable(outcome.results)}\n`);
    if (outcome.interrupted) return EXIT_INTERRUPTED;
    const problems = groupRuns(outcome.results.runs).flatMap((g) => vet(configLabel(g.key), g.repeats).problems);
    if (outcome.results.options.repeats < MIN_REPEATS) problems.push(`${outcome.results.options.repeats} repeat(s): a check needs at least ${MIN_REPEATS} per side (--repeats ${MIN_REPEATS} or more)`);
    if (problems.length > 0) {
      note(`iobench check: baseline not saved: ${problems[0]!}`);
      return EXIT_CANNOT_JUDGE;
    }
    const file = writeBaseline(options.baselinesDir, baselineFromResults(mode.name, outcome.results));
    note(`iobench check: baseline saved in ${file} (results in ${outcome.file})`);
    return 0;
  }

  if (mode.kind === "baseline") {
    let stored;
    try {
      stored = readBaseline(options.baselinesDir, mode.name);
    } catch (err) {
      throw new UsageError(oneLine(err));
    }
    const work = args.work === undefined ? stored.options.work ?? null : workOption(args.work);
    const rerun: BenchOptions = { ...stored.options, out: outRoot(args), json: false, work };
    const { outcome } = await runBenchSweep(rerun, cores, io);
    if (outcome.interrupted) return EXIT_INTERRUPTED;
    return finish(
      {
        mode: "baseline",
        baseline: { label: mode.name, file: baselinePath(options.baselinesDir, mode.name), gitCommit: stored.environment.gitCommit },
        candidate: { label: "working tree", file: outcome.file, gitCommit: outcome.results.environment.gitCommit },
        paired: false,
        base: baselineSamples(stored),
        cand: outcome.results,
        dir: outcome.dir,
      },
      options,
      args,
      io,
    );
  }

  return against(mode.ref, await bench(), options, args, cores, io);
}

/** Where a side's data comes from. */
function side(label: string, r: { file: string; results: ResultsFile }): CheckSide {
  return { label, file: r.file, gitCommit: r.results.environment.gitCommit };
}

function outRoot(args: Record<string, RawFlag>): string {
  return scalar(args.out) ?? BENCH_DEFAULTS.out;
}

/** A results directory (or a results.json) as a check reads it; usage error when it is not one, or breaks the schema. */
function readResults(where: string): { file: string; results: ResultsFile } {
  const file = fs.existsSync(where) && fs.statSync(where).isDirectory() ? resultsPath(where) : where;
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--compare ${where}: ${code === "ENOENT" ? "no results.json there" : code ?? "not valid JSON"}`);
  }
  try {
    return { file, results: checkResults(data, file) };
  } catch (err) {
    throw new UsageError(`--compare ${where}: ${oneLine(err)}`);
  }
}

/** Judges, prints the table, writes check.json and check.md, returns the exit status. */
function finish(
  input: {
    mode: CheckFile["mode"];
    baseline: CheckSide;
    candidate: CheckSide;
    paired: boolean;
    base: ResultsFile | ReturnType<typeof baselineSamples>;
    cand: ResultsFile;
    dir: string;
  },
  options: CheckOptions,
  args: Record<string, RawFlag>,
  io: CheckIo,
): number {
  const base = Array.isArray(input.base) ? input.base : groupRuns(input.base.runs);
  // --work with --baseline or --against is the candidate's only: an injected cost, not another configuration.
  const ignoreWork = input.mode !== "compare" && args.work !== undefined;
  const outcome = judge(base, groupRuns(input.cand.runs), { paired: input.paired, thresholds: options.thresholds, ignoreWork });
  const file: CheckFile = {
    schema: CHECK_SCHEMA,
    version: CHECK_VERSION,
    createdAt: new Date().toISOString(),
    mode: input.mode,
    baseline: input.baseline,
    candidate: input.candidate,
    ...outcome,
  };
  const md = renderCheckMarkdown(file);
  writeFileAtomic(path.join(input.dir, "check.json"), JSON.stringify(file, null, 2) + "\n");
  writeFileAtomic(path.join(input.dir, "check.md"), md);
  const summary = process.env.GITHUB_STEP_SUMMARY;
  if (summary !== undefined && summary !== "") fs.appendFileSync(summary, `${md}\n`);
  io.stdout.write(args.json === true ? JSON.stringify(file, null, 2) + "\n" : `${renderCheckTable(file)}\n`);
  io.stderr.write(`iobench check: ${path.join(input.dir, "check.json")} and check.md\n`);
  return outcome.exitCode;
}

// ---- --against REF ----------------------------------------------------------------------------

/**
 * The bench flags to hand both sides' CLIs, as given (--repeats, --out,
 * --json and --work are the check's), plus what this iobench chose by
 * default that another version might choose otherwise: the models and the
 * CPU sets of default pinning, so an older ref's CLI runs the same setup.
 */
function passThroughArgs(args: Record<string, RawFlag>, cores: number, load: BenchOptions): string[] {
  const out: string[] = [];
  for (const flag of givenBenchFlags(args, cores)) {
    if (flag === "repeats" || flag === "out" || flag === "json" || flag === "work") continue;
    const v = args[flag];
    if (typeof v === "boolean") {
      out.push(v ? `--${flag}` : `--no-${flag}`);
      continue;
    }
    for (const item of Array.isArray(v) ? v : [v]) out.push(`--${flag}`, String(item));
  }
  if (args.model === undefined && args.target === undefined) out.push("--model", load.models.join(","));
  if (load.pinning === "default") out.push("--server-cpus", load.serverCpus!.join(","), "--client-cpus", load.clientCpus!.join(","));
  return out;
}

/** One round of one side: `node <cli> bench ... --repeats 1 --json`, its progress on our stderr. */
function runRound(cli: string, benchArgs: string[], out: string, io: CheckIo): Promise<ResultsFile> {
  return new Promise((resolve, reject) => {
    const child = spawnGuarded(process.execPath, [cli, "bench", ...benchArgs, "--repeats", "1", "--json", "--out", out], {
      stdio: ["ignore", "pipe", "pipe"],
      signal: io.signal,
    });
    let stdout = "";
    let lastError = "";
    child.stdout!.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on("data", (d: Buffer) => {
      const text = d.toString();
      io.stderr.write(text);
      const line = text.split("\n").find((l) => l.startsWith("iobench: ") && !l.startsWith("iobench: results in"));
      if (line !== undefined) lastError = line;
    });
    child.once("error", (err) => reject(io.signal.aborted ? new RunFailure("interrupted") : err));
    child.once("close", (code) => {
      // Exit 1 = a run failed or echoed wrong bytes: still a result, judged (and refused) by the verdict.
      if (code !== 0 && code !== 1) return reject(new RunFailure(`${cli} bench exited ${code}: ${lastError || "no message"}`));
      try {
        resolve(JSON.parse(stdout) as ResultsFile);
      } catch {
        reject(new RunFailure(`${cli} bench printed no results (exit ${code}): ${lastError || "no message"}`));
      }
    });
  });
}

/** Appends a round's runs to a side's merged results, numbered by round. */
function merge(into: ResultsFile | null, round: ResultsFile, r: number): ResultsFile {
  const merged = into ?? { ...round, runs: [] };
  for (const run of round.runs) merged.runs.push({ ...run, config: { ...run.config, repeat: r, index: merged.runs.length } });
  merged.options = { ...merged.options, repeats: r };
  return merged;
}

async function against(ref: string, load: BenchOptions, options: CheckOptions, args: Record<string, RawFlag>, cores: number, io: CheckIo): Promise<number> {
  const note = (line: string): void => void io.stderr.write(`${line}\n`);
  const work = args.work === undefined ? [] : ["--work", scalar(args.work)!];
  const benchArgs = passThroughArgs(args, cores, load);
  const built = await buildRef(ref, note, io.signal);
  try {
    const dir = createResultsDir(outRoot(args));
    const scratch = path.join(dir, "rounds");
    const sides = {
      baseline: { cli: built.cli, args: benchArgs, results: null as ResultsFile | null },
      candidate: { cli: path.join(PACKAGE_ROOT, "dist/cli/main.js"), args: [...benchArgs, ...work], results: null as ResultsFile | null },
    };
    for (let r = 1; r <= load.repeats; r++) {
      // ABBA: the side that runs first alternates, so a steady drift favours neither.
      const order = r % 2 === 1 ? (["baseline", "candidate"] as const) : (["candidate", "baseline"] as const);
      for (const name of order) {
        note(`iobench check: round ${r}/${load.repeats}: ${name === "baseline" ? `${ref} (${built.commit.slice(0, 12)})` : "working tree"}`);
        const s = sides[name];
        try {
          s.results = merge(s.results, await runRound(s.cli, s.args, scratch, io), r);
        } catch (err) {
          if (io.signal.aborted) return EXIT_INTERRUPTED;
          throw err;
        }
        if (io.signal.aborted) return EXIT_INTERRUPTED;
      }
    }
    const write = (name: "baseline" | "candidate"): string => {
      const sub = path.join(dir, name);
      fs.mkdirSync(sub);
      return writeResults(sub, { ...sides[name].results!, complete: true });
    };
    const baseFile = write("baseline");
    const candFile = write("candidate");
    fs.rmSync(scratch, { recursive: true, force: true });
    return finish(
      {
        mode: "against",
        baseline: { label: ref, file: baseFile, gitCommit: built.commit },
        candidate: { label: "working tree", file: candFile, gitCommit: sides.candidate.results!.environment.gitCommit },
        paired: true,
        base: sides.baseline.results!,
        cand: sides.candidate.results!,
        dir,
      },
      options,
      args,
      io,
    );
  } finally {
    built.remove();
  }
}
