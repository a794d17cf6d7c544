/**
 * A sweep: models × threads × accept styles × connections × sizes, plus
 * extra parts with loads of their own (the claims'), repeated. Runs are
 * interleaved round-robin (round r runs every configuration once, in
 * order), so slow drift of the machine (thermal, other load) spreads over
 * every configuration instead of biasing the ones that ran last, and two
 * configurations can be compared round by round. results.json is
 * rewritten after every run: an interrupted sweep keeps what it measured.
 *
 * Open-loop curves add a dimension. A rate sweep (--rate as a list or a
 * range) runs every configuration at every rate, the rate outermost within
 * a round, so runs side by side are the models at one rate. Rates given as
 * shares of the closed-loop maximum, and searches (--find-max-rate), start
 * from one closed-loop run per configuration measured first; a search then
 * runs its probes one at a time per configuration, the searches of every
 * configuration and repeat taking turns (runner/search.ts).
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
import { RateSearch } from "./search.js";
import { judgeRun } from "../reports/slo.js";
import { configIdentity } from "../reports/curves.js";
import { median } from "../reports/stats.js";
import type { FailedRun, LoadPoint, SearchResult } from "../reports/schema.js";
import type { PartsSetup } from "./parts/start.js";
import type { PartsTransport } from "./parts/driver.js";
import { defaultClientProcesses } from "./parts/plan.js";
import { processTransport } from "./parts/processes.js";
import { FD_MARGIN } from "./limits.js";

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
  /** The hard open-file limit, for the default number of client processes; absent: one process per run unless --client-processes. */
  openFileHardLimit?: number;
  /** --agents: the load goes to these agents through Redis (runner/parts/agents.ts); absent: from this machine. */
  agents?: { transport: PartsTransport; count: number };
}

/**
 * How a run's load is split: over the agents; over client processes when
 * asked (--client-processes) or when one process's open files cannot hold
 * the sessions; else not at all (undefined: this process runs it).
 */
export function partsFor(input: SweepInput, connections: number, clientThreads: number): PartsSetup | undefined {
  const o = input.options;
  // A chat room and the outside tools run in one process: they cannot be split.
  if (o.chat !== undefined || (o.clients ?? ["iobench"]).some((c) => c !== "iobench")) return undefined;
  if (input.agents !== undefined) return { transport: input.agents.transport, count: input.agents.count, threads: { each: o.clientThreads ?? 0 } };
  const count = o.clientProcesses ?? (input.openFileHardLimit === undefined ? 1 : defaultClientProcesses(connections, input.openFileHardLimit, FD_MARGIN));
  const processes = Math.min(count, connections);
  return processes > 1 ? { transport: processTransport, count: processes, threads: { total: clientThreads } } : undefined;
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

/** The open-loop load of a rate: the closed-loop load of a configuration, at `rate` msg/s in total. */
export function atRate(load: RunLoad, rate: number, sessions: number): RunLoad {
  return { ...load, loop: "open", targetRatePerSessionPerSec: rate / sessions, targetRateTotalPerSec: rate };
}

/** A plan whose rate is a share of a closed-loop maximum not measured yet: the sweep sets it once those runs are done. */
export interface PendingRate {
  /** Indexes (config.index) of the configuration's closed-loop runs, one per repeat: the maximum is their median. */
  closedLoopRuns: number[];
  share: number;
}

/** A RunPlan, possibly waiting for a closed-loop maximum to set its rate. */
export type SweepPlan = RunPlan & { pendingRate?: PendingRate };

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
              const clientThreads = clientThreadsFor(o, threads, input.usableCores);
              const split = partsFor(input, connections, clientThreads);
              const config: Template["config"] = {
                ...(part.name !== "" ? { part: part.name } : {}),
                model,
                threads,
                connections,
                sizeBytes,
                load: o.chat === undefined ? runLoad(part.load, connections, part.loadName) : chatRunLoad(part.load, o.chat, connections, part.loadName),
                clientThreads,
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
                ...(split?.transport.kind === "process" ? { clientProcesses: split.count } : {}),
                ...(split?.transport.kind === "agent" ? { agents: split.count } : {}),
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
                ...(split !== undefined ? { parts: split } : {}),
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
 * (BenchOptions.parts) once. With a rate sweep or a search, the closed-loop
 * runs come first, then the rates round by round (a search's probes are not
 * planned: runSweep runs them). The closed-loop runs are repeated like any
 * configuration: a share is of their median, and the search of repeat r
 * starts from the closed-loop run of repeat r, so repeated searches are
 * independent.
 */
export function planSweep(input: SweepInput): SweepPlan[] {
  const o = input.options;
  const templates = [mainPart(o), ...(o.parts ?? [])].flatMap((part) => partTemplates(input, part));
  for (const t of templates) {
    const problem = t.server.kind === "spawn" ? checkServerOptions(t.server.options, {}, modelEntry(t.config.model, o.servers)) : null;
    if (problem !== null) throw new UsageError(problem);
  }
  const plans: SweepPlan[] = [];
  const rates = o.rates;
  if (rates === undefined && o.search === undefined) {
    for (let repeat = 1; repeat <= o.repeats; repeat++) plans.push(...roundPlans(templates, repeat, (load) => load));
  } else {
    const closed = (load: RunLoad): RunLoad => ({ ...load, loop: "closed", targetRatePerSessionPerSec: null, targetRateTotalPerSec: null });
    const shares = rates?.unit === "closed-loop-max";
    const perRound = templates.length;
    if (shares || o.search !== undefined) {
      for (let repeat = 1; repeat <= o.repeats; repeat++) plans.push(...roundPlans(templates, repeat, closed).map((p) => withPoint(p, { role: "closed-loop-max" })));
    }
    const closedLoopRuns = (j: number): number[] => Array.from({ length: o.repeats }, (_, r) => r * perRound + j);
    for (let repeat = 1; repeat <= o.repeats && rates !== undefined; repeat++) {
      for (const value of rates.values) {
        roundPlans(templates, repeat, closed).forEach((p, j) => {
          const c = p.config;
          if (!shares) {
            plans.push(withPoint({ ...p, config: { ...c, load: atRate(c.load!, value, c.connections) } }, { role: "rate" }));
          } else {
            plans.push({ ...withPoint(p, { role: "rate", shareOfClosedLoopMax: value }), pendingRate: { closedLoopRuns: closedLoopRuns(j), share: value } });
          }
        });
      }
    }
  }
  plans.forEach((p, i) => (p.config.index = i));
  return plans;
}

function withPoint<P extends RunPlan>(plan: P, loadPoint: LoadPoint): P {
  return { ...plan, config: { ...plan.config, loadPoint } };
}

/** One round: every configuration once, in sweep order, at the load `loadOf` makes of the asked load. */
function roundPlans(templates: readonly Template[], repeat: number, loadOf: (load: RunLoad) => RunLoad): RunPlan[] {
  return templates.map((t) => {
    const { part, ...rest } = structuredClone(t.config);
    // index and repeat lead the config, as in every results.json written before parts existed.
    const config: RunConfig = { index: 0, repeat, ...(part !== undefined ? { part } : {}), ...rest };
    if (config.load !== undefined) config.load = loadOf(config.load);
    return { ...t, config };
  });
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
  /** `total`: the runs planned, or null when a search makes the count unknown ahead. */
  onRunStart?: (plan: RunPlan, position: number, total: number | null) => void;
  onProgress?: (p: RunProgress, plan: RunPlan, position: number, total: number | null) => void;
  onRunEnd?: (run: Run, position: number, total: number | null) => void;
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

/** The closed-loop maximum a run measured, or null when it did not (failed, or no message). */
function closedLoopMax(run: Run | undefined): number | null {
  return run?.status === "ok" && run.figures.messagesPerSec > 0 ? run.figures.messagesPerSec : null;
}

/** Where a search of one configuration may go, from its closed-loop maximum `max` (null: not measured); null when it cannot start. */
export function searchBounds(options: BenchOptions, max: number | null): ConstructorParameters<typeof RateSearch>[0] | null {
  const s = options.search!;
  const low = s.lowPerSec ?? (max === null ? null : (s.lowShare ?? 1 / 1024) * max);
  const high = s.highPerSec ?? (max === null ? null : (s.highShare ?? 8) * max);
  if (low === null || high === null || !(low < high)) return null;
  const start = max === null ? Math.sqrt(low * high) : Math.min(high, Math.max(low, max));
  return { lowPerSec: low, highPerSec: high, startPerSec: start, resolution: s.resolution, maxProbes: s.maxProbes, retries: s.retries };
}

/** A search in flight: the closed-loop plan its probes are made from, the state machine, and what results.json shows of it. */
interface ActiveSearch {
  template: RunPlan;
  search: RateSearch | null;
  result: SearchResult;
}

/** Writes an empty results.json (so the path exists from the start), then runs every plan, rewriting it after each; then the searches. */
export async function runSweep(
  input: SweepInput,
  plans: readonly SweepPlan[],
  meta: { environment: Environment; toolVersion: string },
  hooks: SweepHooks = {},
): Promise<SweepOutcome> {
  const o = input.options;
  const now = new Date();
  const dir = createResultsDir(o.out, now);
  const results: ResultsFile = {
    schema: RESULTS_SCHEMA,
    version: RESULTS_VERSION,
    createdAt: now.toISOString(),
    updatedAt: now.toISOString(),
    complete: false,
    tool: { name: "iobench", version: meta.toolVersion },
    environment: meta.environment,
    options: o,
    runs: [],
  };
  let file = writeResults(dir, results);
  let interrupted = false;
  const total = o.search === undefined ? plans.length : null;

  /** Records a run: its index is its place in results.runs; the file is rewritten. */
  const record = (run: Run, position: number): void => {
    results.runs.push(run);
    file = writeResults(dir, results);
    hooks.onResultsWritten?.(results, dir, false);
    hooks.onRunEnd?.(run, position, total);
    if (run.status === "failed" && run.failure === "interrupted") interrupted = true;
  };
  /** Runs one plan (unless the sweep is stopped) and records it; its index is set here. */
  const execute = async (planned: RunPlan): Promise<Run | null> => {
    if (hooks.signal?.aborted) interrupted = true;
    if (interrupted) return null;
    const position = results.runs.length;
    const plan: RunPlan = { ...planned, config: { ...planned.config, index: position } };
    hooks.onRunStart?.(plan, position, total);
    const run = await runOnce(plan, {
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      resultsDir: dir,
      onProgress: (p) => hooks.onProgress?.(p, plan, position, total),
    });
    record(run, position);
    return run;
  };

  for (const plan of plans) {
    if (plan.pendingRate === undefined) {
      await execute(plan);
    } else {
      const { closedLoopRuns, share } = plan.pendingRate;
      const maxima = closedLoopRuns.flatMap((k) => {
        const m = closedLoopMax(results.runs[k]);
        return m === null ? [] : [m];
      });
      const max = maxima.length === 0 ? null : median(maxima);
      const c = plan.config;
      if (max !== null) {
        await execute({ ...plan, config: { ...c, load: atRate(c.load!, share * max, c.connections) } });
      } else if (!interrupted) {
        const position = results.runs.length;
        const skipped: FailedRun = {
          status: "failed",
          config: { ...structuredClone(c), index: position },
          error: `not run: its rate is ${Number((share * 100).toPrecision(4))}% of the closed-loop maximum of run(s) ${closedLoopRuns.map((k) => k + 1).join(", ")}, which measured none`,
          failure: "skipped",
          figures: null,
          startedAt: new Date().toISOString(),
        };
        hooks.onRunStart?.(plan, position, total);
        record(skipped, position);
      }
    }
    if (interrupted) break;
  }

  if (o.search !== undefined && o.slo !== undefined && !interrupted) {
    const templates = plans.filter((p) => p.config.loadPoint?.role === "closed-loop-max");
    await runSearches(o, o.slo.text, templates, results, execute, () => (file = writeResults(dir, results)));
  }
  results.complete = !interrupted;
  file = writeResults(dir, results);
  hooks.onResultsWritten?.(results, dir, true);
  return { results, dir, file, interrupted };
}

/**
 * The searches: one per closed-loop run (a configuration in one round),
 * taking turns probe by probe in that order, so the drift of the machine
 * spreads over them as over a sweep's rounds. results.searches is updated
 * after every probe.
 */
export async function runSearches(
  o: BenchOptions,
  objective: string,
  templates: readonly RunPlan[],
  results: ResultsFile,
  execute: (plan: RunPlan) => Promise<Run | null>,
  save: () => void,
): Promise<void> {
  const active: ActiveSearch[] = templates.map((template) => {
    const c = template.config;
    const max = closedLoopMax(results.runs[c.index]);
    const bounds = searchBounds(o, max);
    const result: SearchResult = {
      ...configIdentity(c),
      repeat: c.repeat,
      closedLoopRun: c.index,
      closedLoopMessagesPerSec: max,
      status: bounds === null ? "failed" : "running",
      foundPerSec: null,
      lowPerSec: null,
      highPerSec: null,
      note: bounds === null ? `no closed-loop maximum to start from (run ${c.index + 1} measured none) and no bounds given in msg/s` : "not started",
      probes: [],
    };
    return { template, search: bounds === null ? null : new RateSearch(bounds), result };
  });
  results.searches = active.map((a) => a.result);
  save();
  while (active.some((a) => a.search !== null)) {
    for (const [id, a] of active.entries()) {
      if (a.search === null) continue;
      const rate = a.search.next();
      if (rate !== null) {
        const c = a.template.config;
        const loadPoint: LoadPoint = { role: "probe", search: id, step: a.result.probes.length + 1 };
        const run = await execute({ ...a.template, config: { ...c, load: atRate(c.load!, rate, c.connections), loadPoint } });
        if (run === null || (run.status === "failed" && run.failure === "interrupted")) return;
        const judged = judgeRun(run, o.slo!.conditions);
        a.result.probes.push({ run: run.config.index, offeredPerSec: rate, achievedPerSec: run.figures?.openLoop?.achievedMessagesPerSec ?? null, ...judged });
        a.search.record(rate, judged.outcome, judged.reasons);
      }
      Object.assign(a.result, a.search.result(objective));
      if (rate === null) a.search = null;
      save();
    }
  }
}
