#!/usr/bin/env node
/**
 * The iobench command line: `bench` (the default) runs a sweep and prints
 * the table; `serve` runs one model until Ctrl-C; `report` rebuilds a
 * results directory's report files from its results.json. Every problem ends as ONE
 * line "iobench: <problem>" on stderr with exit status 2 (usage: nothing
 * ran) or 1 (a run failed; what was measured is already in results.json).
 * IOBENCH_DEBUG=1 adds the stack trace.
 */
import os from "node:os";
import yargs from "yargs";
import { hideBin } from "yargs/helpers";
import { usableCores, toolVersion } from "../runner/environment.js";
import { UsageError, oneLine } from "../contracts/errors.js";
import { listLines, loadBuiltins, loadScenario } from "../scenarios/load.js";
import { bench } from "./bench.js";
import { check } from "./check.js";
import { checkFlags, checkOptions } from "./check-options.js";
import { benchFlags, benchOptions } from "./bench-options.js";
import { scalar } from "./parse.js";
import type { RawFlag } from "./parse.js";
import { report as reportCommand } from "./report.js";
import { conformCommand, conformFlags, conformOptions } from "./conform.js";
import { serve, serveFlags, serveOptions } from "./serve.js";
import { agent, agentFlags } from "./agent.js";

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/** The command being run: check maps every failure to 2 (its 1 means "regressed"). */
let command: "bench" | "serve" | "check" | "report" | "conform" | "agent" | undefined;

/** Prints an error as one line (plus its stack under IOBENCH_DEBUG=1) and returns the exit status it calls for. */
function report(err: unknown): number {
  process.stderr.write(`iobench: ${oneLine(err)}\n`);
  if (process.env.IOBENCH_DEBUG === "1" && err instanceof Error && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
  return err instanceof UsageError || command === "check" ? EXIT_USAGE : EXIT_FAILURE;
}

/** Parses argv, runs the command, resolves with the exit status. */
async function main(argv: string[]): Promise<number> {
  const cores = usableCores();
  const cpuCount = os.cpus().length;
  let chosen: { command: "bench" | "serve" | "check" | "report" | "conform" | "agent"; args: Record<string, RawFlag> } | undefined;

  const parser = yargs(argv)
    .scriptName("iobench")
    .usage(
      "Usage:\n  $0 [bench] [flags]  measure server I/O models under echo load and print a table\n  $0 serve [flags]    run one model until Ctrl-C\n" +
        "  $0 check [flags]    compare with a baseline, two results dirs or a git ref; exit 1 if a figure regressed\n" +
        "  $0 report <dir>     rebuild a results directory's report (HTML, markdown, CSV, PNG) from its results.json\n" +
        "  $0 conform [flags]  run the conformance checks against a server (yours, or a model); exit 1 if one fails\n" +
        "  $0 agent --redis URL  run on a load machine: take parts of the load from a coordinator (bench --agents URL)",
    )
    .command(
      ["bench", "$0"],
      "run a benchmark sweep: models × threads × connections × sizes × repeats (the default command)",
      (y) => y.options(benchFlags(cores)),
      (args) => {
        chosen = { command: "bench", args: args as Record<string, RawFlag> };
      },
    )
    .command(
      "serve",
      "serve one model on a fixed port until SIGINT/SIGTERM",
      (y) => y.options(serveFlags(cores)),
      (args) => {
        chosen = { command: "serve", args: args as Record<string, RawFlag> };
      },
    )
    .command(
      "check",
      "regression check: --save-baseline NAME, --baseline NAME, --compare DIR_A DIR_B or --against REF (exit 0 fine, 1 regressed, 2 cannot judge)",
      (y) => y.options(checkFlags(cores)),
      (args) => {
        chosen = { command: "check", args: args as Record<string, RawFlag> };
      },
    )
    .command(
      "conform",
      "conformance checks of an echo, chat, chat-raw or http server: --target host:port, --model M, or --server-cmd NAME='...' (exit 0 all passed, 1 one failed)",
      (y) => y.options(conformFlags()),
      (args) => {
        chosen = { command: "conform", args: args as Record<string, RawFlag> };
      },
    )
    .command(
      "agent",
      "run as a load agent: take this machine's part of each run from the coordinator (iobench bench --agents URL) through Redis, until SIGINT/SIGTERM",
      (y) => y.options(agentFlags()),
      (args) => {
        chosen = { command: "agent", args: args as Record<string, RawFlag> };
      },
    )
    .command(
      "report <dir>",
      "rebuild report.html, report.md, results.csv and charts/*.png of a results directory from its results.json",
      (y) => y.positional("dir", { type: "string", description: "results directory (or its results.json)" }),
      (args) => {
        chosen = { command: "report", args: args as Record<string, RawFlag> };
      },
    )
    .strict()
    .parserConfiguration({ "duplicate-arguments-array": true })
    .exitProcess(false)
    .fail((message: string | undefined, err: Error | undefined) => {
      // yargs words some problems over several lines ("Invalid values:\n  Argument: ..."): keep them on one.
      const text = message !== undefined && message !== null ? message.replace(/\s*\n\s*/g, " ") : oneLine(err);
      throw new UsageError(`${text} (see iobench --help)`);
    })
    .help()
    .alias("help", "h")
    .version(toolVersion())
    .wrap(Math.min(120, process.stdout.columns ?? 120))
    .epilog(
      "Lists take commas or repeated flags (--threads 1,2,4). Results: <out>/<UTC timestamp>/results.json and its report (report.html, report.md, results.csv, charts/), rewritten after every run. " +
        "Exit status: 0 ok; 1 a run failed, echoed corrupted data or completed no message; 2 bad usage; 130 interrupted.",
    );
  await parser.parseAsync();
  if (chosen === undefined) return 0; // --help or --version was printed
  command = chosen.command;
  // Checked before anything runs, so a bad flag costs nothing.
  const checkOpts = chosen.command === "check" ? checkOptions(chosen.args, cores) : undefined;

  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) {
      controller.abort();
      if (chosen?.command !== "serve" && chosen?.command !== "agent") process.stderr.write("\niobench: stopping after cleaning up this run (Ctrl-C again quits at once)\n");
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  if (chosen.command === "agent") return agent(chosen.args, cpuCount, { stderr: process.stderr, signal: controller.signal });
  if (chosen.command === "report") return reportCommand(String(chosen.args.dir), { stdout: process.stdout });
  if (chosen.command === "conform") return conformCommand(conformOptions(chosen.args), { stdout: process.stdout, stderr: process.stderr });
  if (chosen.command === "serve") {
    return serve(serveOptions(chosen.args, cores), { stdout: process.stdout, signal: controller.signal });
  }
  if (checkOpts !== undefined) {
    return check(checkOpts, chosen.args, cores, cpuCount, { stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
  }
  if (chosen.args["list-scenarios"] === true) {
    process.stdout.write(`${listLines(await loadBuiltins()).join("\n")}\n`);
    return 0;
  }
  const scenarioName = scalar(chosen.args.scenario);
  const scenario = scenarioName === undefined ? null : await loadScenario(scenarioName);
  const options = benchOptions(chosen.args, cores, cpuCount, scenario);
  return bench(options, cores, { stdout: process.stdout, stderr: process.stderr, signal: controller.signal });
}

process.on("uncaughtException", (err) => process.exit(report(err)));
process.on("unhandledRejection", (err) => process.exit(report(err)));

/** `npm run bench -- check ...` runs `iobench bench check ...`: that is the check command. */
function commandLine(argv: string[]): string[] {
  return argv[0] === "bench" && argv[1] === "check" ? argv.slice(1) : argv;
}

/**
 * process.exit() does not wait for writes to a pipe: `bench --json | jq`
 * would get the first 64 KiB of results.json. Exit once both streams have
 * taken everything written before.
 */
function exitAfterFlush(code: number): void {
  let pending = 2;
  const done = (): void => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write("", done);
  process.stderr.write("", done);
}

main(commandLine(hideBin(process.argv))).then(exitAfterFlush, (err: unknown) => exitAfterFlush(report(err)));
