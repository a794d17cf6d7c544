/**
 * A sweep: models × threads × accept styles × connections × sizes, plus
 * extra parts with loads of their own (the claims'), repeated. Runs are
 * interleaved round-robin (round r runs every configuration once, in
 * order), so slow drift of the machine (thermal, other load) spreads over
 * every configuration instead of biasing the ones that ran last, and two
 * configurations can be compared round by round. results.json is
 * rewritten after every run: an interrupted sweep keeps what it measured.
 */
import { defaultClientThreads } from "../clients/client.js";
import { createResultsDir, writeResults } from "../reports/results-file.js";
import { RESULTS_SCHEMA, RESULTS_VERSION } from "../reports/schema.js";
import type { BenchOptions, ChatLoad, CompletionPortConfig, Environment, LoadOptions, ResultsFile, Run, RunConfig, RunLoad, SweepPart, ThreadsSetting } from "../reports/schema.js";
import { COMMAND_PREFIX, DEFAULT_SERVER_OPTIONS } from "../contracts/server.js";
import type { CommandModelName, ModelName, ServerOptions } from "../contracts/server.js";
import { commandModel, isCommandModel, modelInfo, type ModelInfo } from "../servers/models.js";
import { UsageError } from "../contracts/errors.js";
import { acceptsThreads, chatBufferFloor, checkServerOptions, honours } from "../servers/options.js";
import { runOnce } from "./run.js";
import type { RunPlan, RunProgress } from "./run.js";

/** What a sweep needs besides the user's options. */
export interface SweepInput {
  options: BenchOptions;
  /** --target resolved to a numeric address, or null to start a server per run. */
  target: { host: string; port: number } | null;
  /** CPUs this process may use (for the default client thread count and the saturation rule). */
  usableCores: number;
  /** How long a started server may take to listen, ms. */
  startTimeoutMs: number;
  /** Connects in flight per client thread while sessions ramp up. */
  connectConcurrency: number;
}

/** Client threads for one configuration: --client-threads, else one per pinned client CPU, else the client's default. */
export function clientThreadsFor(options: BenchOptions, threads: ThreadsSetting | null, usableCores: number): number {
  if (options.clientThreads !== null) return options.clientThreads;
  if (options.clientCpus !== null) return options.clientCpus.length;
  let serverThreads = typeof threads === "number" ? threads : usableCores;
  if (options.serverCpus !== null) serverThreads = Math.min(serverThreads, options.serverCpus.length);
  return defaultClientThreads(usableCores, serverThreads);
}

/** The load of one run: the open-loop rate resolved per session for its session count. */
export function runLoad(load: LoadOptions, sessions: number, scenario: string | null): RunLoad {
  let perSession: number | null = null;
  let total: number | null = null;
  if (load.loop === "open") {
    perSession = load.ratePerSessionPerSec ?? (load.rateTotalPerSec as number) / sessions;
    total = load.rateTotalPerSec ?? perSession * sessions;
  }
  return {
    scenario,
    rampUpSec: load.rampUpSec,
    connectRatePerSec: load.connectRatePerSec,
    sizeDistribution: load.sizeDistribution,
    messagesPerSession: load.messagesPerSession,
    thinkTimeMs: load.thinkTimeMs,
    loop: load.loop,
    targetRatePerSessionPerSec: perSession,
    targetRateTotalPerSec: total,
  };
}

/** A chat run's load: the rate is per sender, and the total counts deliveries (frames × members). */
function chatRunLoad(load: LoadOptions, chat: ChatLoad, members: number, scenario: string | null): RunLoad {
  return { ...runLoad(load, members, scenario), targetRatePerSessionPerSec: chat.rateHz, targetRateTotalPerSec: chat.rateHz * chat.senders * members };
}

/** A chat server for frames of `payloadBytes`: the largest frame at least that, and a backlog that holds it. */
function chatServerOptions(bufferBytes: number, payloadBytes: number): Pick<ServerOptions, "protocol" | "maxFrameBytes" | "bufferBytes"> {
  const maxFrameBytes = Math.max(DEFAULT_SERVER_OPTIONS.maxFrameBytes, payloadBytes);
  return { protocol: "chat", maxFrameBytes, bufferBytes: Math.max(bufferBytes, chatBufferFloor(maxFrameBytes)) };
}

/** The sweep's own configurations as a part: the options' models, threads, accepts, work and load. */
function mainPart(o: BenchOptions): SweepPart {
  return {
    name: "",
    models: o.models,
    threads: o.threads,
    connections: o.connections,
    accepts: o.accepts ?? [o.accept],
    work: o.work ?? null,
    load: o.load,
    loadName: o.scenario?.name ?? null,
    warmupSec: o.warmupSec,
  };
}

/**
 * An iocp run's completion port: the concurrency value resolved here, the
 * server's CPUs unless --concurrency was given (the server process sees the
 * same affinity: it is this process's child, pinned to --server-cpus if
 * given), so results.json says what the port had; null with wake "all".
 */
function portConfig(o: BenchOptions, usableCores: number): CompletionPortConfig {
  const asked = o.completionPort ?? { concurrency: null, wake: "lifo", blockNotice: true };
  if (asked.wake === "all") return { ...asked, concurrency: null };
  return { ...asked, concurrency: asked.concurrency ?? o.serverCpus?.length ?? usableCores };
}

/** One configuration of a part, not yet numbered into a round. */
type Template = Omit<RunPlan, "config"> & { config: Omit<RunConfig, "index" | "repeat"> };

/**
 * The configurations of one part, in sweep order: each model with the
 * thread settings it accepts (servers/models.ts capabilities), and with
 * every accept style if it honours --accept (completion-routine), else once
 * with the first.
 */
function partTemplates(input: SweepInput, part: SweepPart): Template[] {
  const o = input.options;
  const out: Template[] = [];
  const external = input.target !== null;
  const threadSettings: (ThreadsSetting | null)[] = part.threads.length > 0 ? part.threads : [null];
  for (const model of part.models) {
    const info = external ? null : modelEntry(model, o.servers);
    const command = isCommandModel(model) ? o.servers?.[model.slice(COMMAND_PREFIX.length)] : undefined;
    // iobench's own server options mean nothing to a command model (nor to an outside server).
    const ours = info !== null && command === undefined;
    const acceptHonoured = info !== null && honours(info, "accept");
    for (const threads of threadSettings) {
      if (threads !== null && info !== null && !acceptsThreads(info, threads)) continue;
      for (const accept of acceptHonoured ? part.accepts : part.accepts.slice(0, 1)) {
        for (const connections of part.connections) {
          for (const sizeBytes of o.sizesBytes) {
            for (const client of o.clients ?? ["iobench" as const]) {
              const work = part.work === null ? null : { ...part.work, messageBytes: sizeBytes };
              const port = external || model !== "iocp" ? null : portConfig(o, input.usableCores);
              const config: Template["config"] = {
                ...(part.name !== "" ? { part: part.name } : {}),
                model,
                threads,
                connections,
                sizeBytes,
                load: o.chat === undefined ? runLoad(part.load, connections, part.loadName) : chatRunLoad(part.load, o.chat, connections, part.loadName),
                clientThreads: clientThreadsFor(o, threads, input.usableCores),
                ...(o.clientEngine !== null ? { clientEngine: o.clientEngine } : {}),
                durationSec: o.durationSec,
                warmupSec: part.warmupSec,
                timeoutMs: o.timeoutMs,
                host: external ? input.target!.host : o.host,
                port: external ? input.target!.port : null,
                ...(external ? { target: o.target! } : {}),
                bufferBytes: ours ? o.bufferBytes : null,
                ...(o.protocol === "http" && ours && o.headerTimeoutMs !== undefined ? { headerTimeoutMs: o.headerTimeoutMs } : {}),
                accept: ours ? accept : null,
                ...(port !== null ? { completionPort: port } : {}),
                work,
                ...(o.protocol !== undefined && o.protocol !== "echo" ? { protocol: o.protocol } : {}),
                ...(o.protocol === "http" ? { httpMethod: o.httpMethod ?? "GET" } : {}),
                ...(client !== "iobench" ? { client } : {}),
                pinning: { serverCpus: external ? null : o.serverCpus, clientCpus: o.clientCpus },
                ...(o.chat !== undefined ? { chat: { ...o.chat } } : {}),
              };
              out.push({
                config,
                server: external
                  ? { kind: "external", host: input.target!.host, port: input.target!.port, pid: o.serverPid }
                  : {
                      kind: "spawn",
                      options: {
                        ...DEFAULT_SERVER_OPTIONS,
                        model: model as ModelName | CommandModelName,
                        threads: threads ?? input.usableCores,
                        host: o.host,
                        port: 0,
                        bufferBytes: o.bufferBytes,
                        ...(o.headerTimeoutMs !== undefined ? { headerTimeoutMs: o.headerTimeoutMs } : {}),
                        // --accept is the completion-routine model's: the others get their default.
                        accept: acceptHonoured ? accept : DEFAULT_SERVER_OPTIONS.accept,
                        ...(port !== null ? { completionPort: { ...port, concurrency: port.concurrency ?? 0 } } : {}),
                        work,
                        protocol: o.protocol ?? "echo",
                        ...(o.chat !== undefined ? chatServerOptions(o.bufferBytes, sizeBytes) : {}),
                      },
                      cpus: o.serverCpus,
                      startTimeoutMs: input.startTimeoutMs,
                      ...(command !== undefined ? { command: { name: model.slice(COMMAND_PREFIX.length), command: command.command } } : {}),
                    },
                clientCpus: o.clientCpus,
                connectConcurrency: input.connectConcurrency,
                ...(o.profile !== undefined && !external ? { profile: o.profile } : {}),
              });
            }
          }
        }
      }
    }
  }
  return out;
}

/**
 * Every run of the sweep, in the order they will run: round r runs every
 * configuration of the sweep's own part and then of each extra part
 * (BenchOptions.parts) once.
 */
export function planSweep(input: SweepInput): RunPlan[] {
  const o = input.options;
  const templates = [mainPart(o), ...(o.parts ?? [])].flatMap((part) => partTemplates(input, part));
  for (const t of templates) {
    const problem = t.server.kind === "spawn" ? checkServerOptions(t.server.options, {}, modelEntry(t.config.model, o.servers)) : null;
    if (problem !== null) throw new UsageError(problem);
  }
  const plans: RunPlan[] = [];
  for (let repeat = 1; repeat <= o.repeats; repeat++) {
    for (const t of templates) {
      const { part, ...rest } = structuredClone(t.config);
      // index and repeat lead the config, as in every results.json written before parts existed.
      const config: RunConfig = { index: plans.length, repeat, ...(part !== undefined ? { part } : {}), ...rest };
      plans.push({ ...t, config });
    }
  }
  return plans;
}

/** The model table entry of a model name: a built-in model, or a command model declared in `servers`. */
export function modelEntry(name: string, servers: BenchOptions["servers"]): ModelInfo {
  if (!isCommandModel(name)) return modelInfo(name as ModelName);
  const declared = servers?.[name.slice(COMMAND_PREFIX.length)];
  if (declared === undefined) throw new UsageError(`unknown model '${name}': declare it with --server-cmd ${name.slice(COMMAND_PREFIX.length)}='...'`);
  return commandModel(name, declared.protocols);
}

/** Observers of a sweep (progress display). */
export interface SweepHooks {
  /** Aborting stops the sweep: the current run is recorded as interrupted, no further run starts. */
  signal?: AbortSignal;
  onRunStart?: (plan: RunPlan, position: number, total: number) => void;
  onProgress?: (p: RunProgress, plan: RunPlan, position: number, total: number) => void;
  onRunEnd?: (run: Run, position: number, total: number) => void;
  /** After every rewrite of results.json (after each run, and once more at the end: `final`), e.g. to rebuild the report beside it. */
  onResultsWritten?: (results: ResultsFile, dir: string, final: boolean) => void;
}

/** The outcome of a sweep. */
export interface SweepOutcome {
  results: ResultsFile;
  /** The results directory and its results.json. */
  dir: string;
  file: string;
  /** The sweep was stopped before its last run. */
  interrupted: boolean;
}

/** Writes an empty results.json (so the path exists from the start), then runs every plan, rewriting it after each. */
export async function runSweep(
  input: SweepInput,
  plans: readonly RunPlan[],
  meta: { environment: Environment; toolVersion: string },
  hooks: SweepHooks = {},
): Promise<SweepOutcome> {
  const now = new Date();
  const dir = createResultsDir(input.options.out, now);
  const results: ResultsFile = {
    schema: RESULTS_SCHEMA,
    version: RESULTS_VERSION,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    complete: false,
    tool: { name: "iobench", version: meta.toolVersion },
    environment: meta.environment,
    options: input.options,
    runs: [],
  };
  let file = writeResults(dir, results);
  let interrupted = false;
  for (const [i, plan] of plans.entries()) {
    if (hooks.signal?.aborted) {
      interrupted = true;
      break;
    }
    hooks.onRunStart?.(plan, i, plans.length);
    const run = await runOnce(plan, {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      resultsDir: dir,
      onProgress: (p) => hooks.onProgress?.(p, plan, i, plans.length),
    });
    results.runs.push(run);
    file = writeResults(dir, results);
    hooks.onResultsWritten?.(results, dir, false);
    hooks.onRunEnd?.(run, i, plans.length);
    if (run.status === "failed" && run.failure === "interrupted") {
      interrupted = true;
      break;
    }
  }
  results.complete = !interrupted;
  file = writeResults(dir, results);
  hooks.onResultsWritten?.(results, dir, true);
  return { results, dir, file, interrupted };
}
