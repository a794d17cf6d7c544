/**
 * The bench command: check everything that can be checked before the first
 * run (models importable, address bindable, target resolvable, open-file
 * limit), run the sweep with progress on stderr, then print the table (or
 * the JSON) on stdout and the results path on stderr.
 */
import dns from "node:dns/promises";
import net from "node:net";
import path from "node:path";
import { renderTable } from "../reports/table.js";
import { serialiseResults } from "../reports/results-file.js";
import type { BenchOptions, ResultsFile, Run } from "../reports/schema.js";
import { collectEnvironment, toolVersion } from "../runner/environment.js";
import { RunFailure, UsageError, oneLine } from "../contracts/errors.js";
import { FD_MARGIN, ensureOpenFileLimit, openFileLimit } from "../runner/limits.js";
import { partProblemLines } from "../reports/parts.js";
import { importAgentsPart } from "./agent.js";
import { processExists } from "../runner/proc.js";
import { planSweep, runSweep } from "../runner/sweep.js";
import type { SweepInput, SweepOutcome } from "../runner/sweep.js";
import type { RunPlan } from "../runner/run.js";
import type { AgentPool } from "../runner/parts/agents.js";
import { isCommandModel, modelInfo } from "../servers/models.js";
import { CommandServer } from "../runner/command-server.js";
import { COMMAND_PREFIX, type ModelName } from "../contracts/server.js";
import { hostPort } from "./parse.js";
import { Progress } from "./progress.js";
import { writeReportFiles } from "./report.js";

/** A server may take this long to listen (threads start, rings are set up), ms. */
const START_TIMEOUT_MS = 15_000;
/** Connects in flight per client thread while sessions ramp up. */
const CONNECT_CONCURRENCY = 64;

/** Exit status of a sweep that was stopped with Ctrl-C (128 + SIGINT). */
export const EXIT_INTERRUPTED = 130;

/**
 * Imports every model's file now, and starts and stops every command model
 * once, so a missing model or a command that exits, never listens or
 * listens elsewhere is one line before anything runs.
 */
async function checkModelsLoad(options: BenchOptions): Promise<void> {
  for (const name of options.models) {
    if (isCommandModel(name)) {
      const spec = { name: name.slice(COMMAND_PREFIX.length), command: options.servers![name.slice(COMMAND_PREFIX.length)]!.command };
      const threads = options.threads.find((t) => typeof t === "number") ?? 1;
      try {
        await (await CommandServer.start({ spec, host: options.host, threads, cpus: options.serverCpus, startTimeoutMs: START_TIMEOUT_MS })).stop();
      } catch (err) {
        throw new RunFailure(oneLine(err));
      }
      continue;
    }
    const info = modelInfo(name as ModelName);
    try {
      await info.load();
    } catch (err) {
      throw new RunFailure(`model ${name} is not available: ${oneLine(err)}`);
    }
  }
}

/** Binding the address on port 0 proves it belongs to this machine. */
async function checkBindable(host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const s = net.createServer();
    s.once("error", (err: NodeJS.ErrnoException) => {
      reject(new UsageError(`--host ${host} cannot be listened on: ${err.code ?? oneLine(err)}`));
    });
    s.listen({ host, port: 0 }, () => s.close(() => resolve()));
  });
}

/** --target's host as a numeric address (the client connects to numeric addresses only). */
async function resolveTarget(target: string): Promise<{ host: string; port: number }> {
  const { host, port } = hostPort("target", target);
  if (net.isIP(host) !== 0) return { host, port };
  try {
    const { address } = await dns.lookup(host);
    return { host: address, port };
  } catch (err) {
    throw new UsageError(`--target host '${host}' does not resolve: ${(err as NodeJS.ErrnoException).code ?? oneLine(err)}`);
  }
}

/** Connects to the agents' Redis and finds them (runner/parts/agents.ts, loaded only for --agents). */
async function openAgents(url: string, count: number | null, stderr: NodeJS.WritableStream): Promise<AgentPool> {
  const { AgentPool } = await importAgentsPart(() => import("../runner/parts/agents.js"));
  try {
    return await AgentPool.open(url, count, (line) => void stderr.write(`iobench: ${line}\n`));
  } catch (err) {
    throw new RunFailure(oneLine(err));
  }
}

/** The one line summing up what went wrong in a finished sweep, or null if nothing did. */
function problemLine(runs: readonly Run[]): string | null {
  const failed = runs.filter((r) => r.status === "failed");
  const corrupt = runs.filter((r) => r.figures !== null && r.figures.errorsTotal.mismatch > 0);
  const parts: string[] = [];
  if (failed.length > 0) parts.push(`${failed.length} of ${runs.length} run(s) failed (first: ${failed[0]!.status === "failed" ? failed[0]!.error : ""})`);
  if (corrupt.length > 0) parts.push(`${corrupt.length} run(s) got corrupted echoes (MISMATCH)`);
  const silent = runs.filter((r) => r.status === "ok" && r.figures.messages === 0);
  if (silent.length > 0) parts.push(`${silent.length} run(s) completed no message (NO-MESSAGES)`);
  const partial = runs.filter((r) => r.status === "ok" && r.figures.flags.includes("PARTIAL"));
  if (partial.length > 0) parts.push(`${partial.length} run(s) are PARTIAL (first: ${partProblemLines(partial[0]!.parts).find((l) => l.includes(": PARTIAL: ")) ?? "a part of the load is missing"})`);
  return parts.length > 0 ? parts.join("; ") : null;
}

/**
 * Checks what can be checked, then runs the sweep with progress on stderr.
 * Shared by bench and check. Usage problems throw UsageError.
 */
export async function runBenchSweep(
  options: BenchOptions,
  cores: number,
  io: { stderr: NodeJS.WriteStream; signal: AbortSignal },
): Promise<{ outcome: SweepOutcome; planned: number; progress: Progress; report: { path: string | null; error: string | null } }> {
  const target = options.target === null ? null : await resolveTarget(options.target);
  if (target === null) {
    await checkModelsLoad(options); // without --target, canonical names (cli/parse.ts)
    await checkBindable(options.host);
  } else if (options.serverPid !== null && !processExists(options.serverPid)) {
    throw new UsageError(`--server-pid ${options.serverPid}: no such process`);
  }
  if (options.clients?.includes("wrk") === true) {
    const wrk = await import("../clients/wrk-client.js");
    if (!wrk.wrkInstalled()) throw new RunFailure(wrk.WRK_INSTALL_HINT);
  }
  // One process holds every session unless the load is split (over client processes or agents): then only
  // the server started here needs the limit raised, as far as it goes (it refuses the rest: SERVER-FD-LIMIT).
  const { hard } = await openFileLimit();
  const splittable = options.chat === undefined && (options.clients ?? ["iobench"]).every((c) => c === "iobench");
  const oneProcess = !splittable || options.clientProcesses === 1;
  const maxSessions = Math.max(...options.connections);
  const nofile = await ensureOpenFileLimit(oneProcess ? maxSessions : Math.min(maxSessions, hard - FD_MARGIN));

  // --agents: the agents are found once for the whole sweep (BullMQ and ioredis load only here).
  const agents = options.agents === null || options.agents === undefined ? null : await openAgents(options.agents.redis, options.agents.count, io.stderr);
  const input: SweepInput = {
    options,
    target,
    usableCores: cores,
    startTimeoutMs: START_TIMEOUT_MS,
    connectConcurrency: CONNECT_CONCURRENCY,
    openFileHardLimit: hard,
    ...(agents !== null ? { agents: { transport: agents, count: agents.count } } : {}),
  };
  let plans: RunPlan[];
  try {
    plans = planSweep(input);
    if (plans.length === 0) throw new UsageError("nothing to run: no model accepts the given --threads");
  } catch (err) {
    await agents?.close();
    throw err;
  }
  const progress = new Progress(io.stderr);
  // The report is rebuilt after every run, so an interrupted sweep keeps one (the PNG charts, the slow part, at the end
  // only); a failure to write it must not stop the sweep.
  let reportPath: string | null = null;
  let reportError: string | null = null;
  const rebuildReport = (results: ResultsFile, dir: string, final: boolean): void => {
    try {
      reportPath = writeReportFiles(dir, results, { png: final }).html;
      reportError = null;
    } catch (err) {
      reportError = oneLine(err);
    }
  };

  let outcome;
  try {
    outcome = await runSweep(
      input,
      plans,
      { environment: collectEnvironment(nofile), toolVersion: toolVersion() },
      {
        signal: io.signal,
        onRunStart: (plan, i, total) => progress.runStart(plan, i, total),
        onProgress: (p) => progress.update(p),
        onRunEnd: (run) => progress.runEnd(run),
        onResultsWritten: rebuildReport,
      },
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EROFS" || code === "ENOTDIR" || code === "EEXIST" || code === "ENOENT" || code === "EPERM") {
      throw new UsageError(`cannot write results under --out ${options.out}: ${oneLine(err)}`);
    }
    throw err;
  } finally {
    await agents?.close();
  }
  return { outcome, planned: plans.length, progress, report: { path: reportPath, error: reportError } };
}

/** Runs the bench command; resolves with the exit status. Usage problems throw UsageError. */
export async function bench(
  options: BenchOptions,
  cores: number,
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WriteStream; signal: AbortSignal },
): Promise<number> {
  const { outcome, planned, progress, report } = await runBenchSweep(options, cores, io);
  io.stdout.write(options.json ? serialiseResults(outcome.results) : `${renderTable(outcome.results)}\n`);
  progress.note(`iobench: results in ${outcome.file}`);
  if (report.error !== null) progress.note(`iobench: ${report.error}`);
  else if (report.path !== null) progress.note(`iobench: report in ${report.path}`);
  for (const run of outcome.results.runs) {
    for (const line of partProblemLines(run.parts)) progress.note(`iobench: run ${run.config.index + 1}: ${line}`);
    if (run.status !== "ok" || run.profile === undefined) continue;
    const p = run.profile;
    progress.note(`iobench: run ${run.config.index + 1}: clinic ${p.tool} ${p.html !== null ? `profile ${path.join(outcome.dir, p.html)}` : `failed: ${p.error ?? "no report"}`}`);
  }
  if (outcome.interrupted) {
    progress.note(`iobench: interrupted: ${outcome.results.runs.length} of ${planned} run(s) recorded`);
    return EXIT_INTERRUPTED;
  }
  const problem = problemLine(outcome.results.runs);
  if (problem !== null) {
    progress.note(`iobench: ${problem}`);
    return 1;
  }
  return 0;
}
