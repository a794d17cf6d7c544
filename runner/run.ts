/**
 * ONE run: start the server (or use an external one), start the load
 * client, warm up (nothing recorded), open the measured window with /proc
 * readings at both edges and RSS sampled inside it, close it, stop
 * everything, derive the figures. Whatever goes wrong becomes a FailedRun
 * carrying what was measured, never a thrown error: a sweep goes on.
 *
 * Two watches keep a run from hanging the sweep. A server that stops
 * answering (stopped by SIGSTOP, or no echo at all for a whole --timeout
 * while sessions time out) ends the run as failed. And a watchdog: no run
 * outlives warm-up + duration + its grace (runGraceMs); one that does is
 * ended, recorded as failed ("overran") with what it had measured.
 */
import path from "node:path";
import { startDriver } from "../clients/driver.js";
import type { LoadDriver } from "../contracts/client.js";
import type { ClientOptions, LoadScript } from "../contracts/client.js";
import { ChatLoadClient } from "../clients/chat-client.js";
import { deriveFigures } from "../reports/derive.js";
import type { ClientCpuSnapshot, ProcSnapshot } from "../contracts/proc.js";
import type { RawRun } from "../contracts/run.js";
import type { FailedRun, FailureKind, Figures, OkRun, PartRecord, ProfileOutcome, Run, RunConfig, RunLoad, ServerExit } from "../reports/schema.js";
import type { ServerOptions } from "../contracts/server.js";
import { usableCores } from "./environment.js";
import { oneLine } from "../contracts/errors.js";
import { ServerProcess, type ProfileRequest } from "./server-process.js";
import { PartsDriver } from "./parts/driver.js";
import { startParts, type PartsSetup } from "./parts/start.js";
import { localCpuSeconds, withParts, type PartFacts } from "../reports/parts.js";
import { CLOCK_TICKS_PER_SEC, allowedCpus, processExists, processStopped, readClientCpu, readOpenFiles, readProcess, readRssBytes, readSystemCpu } from "./proc.js";
import { CommandServer, type CommandSpec } from "./command-server.js";

/** Where the server of a run comes from. */
export type ServerSource =
  /** A server iobench starts: one of its models, or a command model (`command`: the user's own program, measured over its process tree). */
  | { kind: "spawn"; options: ServerOptions; cpus: number[] | null; startTimeoutMs: number; command?: CommandSpec }
  | { kind: "external"; host: string; port: number; pid: number | null };

/** Everything one run needs. */
export interface RunPlan {
  /** The configuration; port and serverPid are filled in by the run. */
  config: RunConfig;
  /** Run the server under clinic (a spawned server only). */
  profile?: "doctor" | "flame";
  server: ServerSource;
  /** CPUs for the client's worker threads, or null. */
  clientCpus: number[] | null;
  /** Connects in flight per client thread while sessions ramp up. */
  connectConcurrency: number;
  /** The watchdog's grace beyond warm-up + duration, ms; absent: runGraceMs(plan). */
  graceMs?: number;
  /** The load split over client processes or agents (runner/parts/); absent: this process runs it. */
  parts?: PartsSetup;
}


/** What a run is doing, for the progress display. */
export interface RunProgress {
  phase: "starting" | "warmup" | "measure" | "stopping";
  /** Seconds since the load started (warm-up + window). */
  elapsedSec: number;
  /** Warm-up + window, seconds. */
  totalSec: number;
  /** Completed messages per second over about the last second. */
  messagesPerSec: number;
  /** Errors since the load started. */
  errors: number;
  /** Sessions connected now. */
  connected: number;
  /** New connections per second over about the last second. */
  connectsPerSec: number;
}

/** Optional observers of a run. */
export interface RunHooks {
  /** Aborting ends the run early; it is recorded as failed ("interrupted") with what it measured. */
  signal?: AbortSignal;
  /** The sweep's results directory: a profiled run writes under <dir>/profiles/. */
  resultsDir?: string;
  onProgress?: (p: RunProgress) => void;
}

/** How often the runner samples RSS and reports progress, ms. */
const TICK_MS = 250;

/** The client gets at least this long to stop its sessions and report, ms (more with a long --timeout). */
const FINISH_MIN_MS = 15_000;
/** The shortest silence (no echo while some fail) that makes a server unresponsive, ms (a short --timeout alone does not). */
const MIN_SILENCE_MS = 2_000;
/** A server asked to stop gets this long before SIGKILL, ms. */
const STOP_GRACE_MS = 5_000;
/** Beyond the sum of the bounds of a run's phases, ms. */
const WATCHDOG_SLACK_MS = 10_000;
/** After the watchdog ended a run's load, the longest it waits for the run to wind down before it gives up on it, ms. */
const WIND_DOWN_MS = 10_000;

type WatchEnd = "done" | "died" | "interrupted" | "unresponsive" | "overran";

/**
 * How far past warm-up + duration a run may go: the bounds of its other
 * phases added up (server start, the client's hand-over, the server's stop,
 * clinic's analysis under --profile) and a slack. 45 s at the defaults.
 */
export function runGraceMs(plan: Pick<RunPlan, "config" | "server" | "profile">): number {
  const start = plan.server.kind === "spawn" ? plan.server.startTimeoutMs : 0;
  return start + finishLimitMs(plan.config) + STOP_GRACE_MS + (plan.profile !== undefined ? PROFILE_LIMIT_MS : 0) + WATCHDOG_SLACK_MS;
}

function finishLimitMs(config: RunConfig): number {
  return Math.max(FINISH_MIN_MS, 2 * config.timeoutMs);
}

/** What the watchdog needs of a run in flight to end it. */
interface InFlight {
  server: ServerProcess | CommandServer | null;
  client: LoadDriver | null;
  phase: RunProgress["phase"];
  /** The figures, once derived. */
  figures: Figures | null;
}

/** The promise's value, or a rejection with `message` after ms: a stuck thread must not hang the sweep. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${message} within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The client's session script for a run's load (absent load: the seed's closed loop). */
export function scriptFor(load: RunLoad | undefined): LoadScript | undefined {
  if (load === undefined) return undefined;
  return {
    rampUpMs: load.rampUpSec * 1000,
    connectRatePerSec: load.connectRatePerSec,
    size: load.sizeDistribution,
    messagesPerSession: load.messagesPerSession,
    thinkTimeMs: load.thinkTimeMs,
    ratePerSession: load.targetRatePerSessionPerSec ?? 0,
  };
}

/** The load generator of a run: chat-fanout's room, or echo/http sessions (iobench's client or an outside tool), or parts of it. */
function startClient(plan: RunPlan, options: ClientOptions): Promise<LoadDriver> {
  const config = plan.config;
  if (plan.parts !== undefined) return startParts(config, plan.parts, options, finishLimitMs(config));
  if (config.chat === undefined) return startDriver(config.client ?? "iobench", options);
  const chat = { host: options.host, port: options.port, members: config.connections, payloadBytes: config.sizeBytes, timeoutMs: config.timeoutMs, ...config.chat };
  return ChatLoadClient.start(chat);
}

/** The CPUs a run's processes may use: the pinned sets when both are pinned, else every CPU this process may use. */
function runCpus(plan: RunPlan): number[] {
  const server = plan.server.kind === "spawn" ? plan.server.cpus : null;
  if (server === null || plan.clientCpus === null) return allowedCpus();
  return [...new Set([...server, ...plan.clientCpus])].sort((a, b) => a - b);
}

/** Runs one configuration. Never throws: failures come back as FailedRun. */
export async function runOnce(plan: RunPlan, hooks: RunHooks = {}): Promise<Run> {
  const limitMs = (plan.config.warmupSec + plan.config.durationSec) * 1000 + (plan.graceMs ?? runGraceMs(plan));
  const overrun = new AbortController();
  const flight: InFlight = { server: null, client: null, phase: "starting", figures: null };
  let over = false; // the watchdog has answered for the run: what the body does later is not reported
  const body = runBody(plan, { ...hooks, onProgress: (p) => (over ? undefined : hooks.onProgress?.(p)) }, overrun.signal, flight, limitMs);
  let limit: NodeJS.Timeout | undefined;
  let windDown: NodeJS.Timeout | undefined;
  const watchdog = new Promise<Run>((resolve) => {
    limit = setTimeout(() => {
      // First as an interruption: the load ends and what was measured is kept.
      overrun.abort();
      // Then, should the run not wind down (a stuck stop, a hand-over that never comes), without it.
      windDown = setTimeout(() => resolve(abandon(plan, flight, limitMs)), WIND_DOWN_MS);
    }, limitMs);
  });
  try {
    return await Promise.race([body, watchdog]);
  } finally {
    over = true;
    clearTimeout(limit);
    clearTimeout(windDown);
  }
}

/** A run the watchdog gave up on: its processes killed, what it had derived kept. */
function abandon(plan: RunPlan, flight: InFlight, limitMs: number): FailedRun {
  flight.server?.kill();
  void flight.client?.stop().catch(() => undefined);
  return {
    status: "failed",
    config: structuredClone(plan.config),
    error: `run overran its limit of ${(limitMs / 1000).toFixed(1)} s (warm-up + duration + grace) and did not wind down (stuck while ${flight.phase}): ended`,
    failure: "overran",
    figures: flight.figures,
    startedAt: new Date(Date.now() - limitMs - WIND_DOWN_MS).toISOString(),
  };
}

async function runBody(plan: RunPlan, hooks: RunHooks, overrun: AbortSignal, flight: InFlight, limitMs: number): Promise<Run> {
  const config: RunConfig = structuredClone(plan.config);
  const startedAt = new Date().toISOString();
  const totalSec = config.warmupSec + config.durationSec;
  let server: ServerProcess | CommandServer | null = null;
  let client: LoadDriver | null = null;
  let serverExit: ServerExit | undefined;
  let profile: ProfileOutcome | undefined;
  const overranText = (where: string): string => `run overran its limit of ${(limitMs / 1000).toFixed(1)} s (warm-up + duration + grace) ${where}: ended`;

  const progress = (phase: RunProgress["phase"], elapsedSec = 0): void => {
    flight.phase = phase;
    hooks.onProgress?.({ phase, elapsedSec, totalSec, messagesPerSec: 0, errors: 0, connected: 0, connectsPerSec: 0 });
  };

  /** Stops whatever still runs; the server's exit status is kept for the record. */
  const cleanUp = async (): Promise<void> => {
    flight.phase = "stopping";
    const c = client;
    client = null;
    if (c !== null) await c.stop();
    const s = server;
    server = null;
    if (s !== null) {
      serverExit = await s.stop();
      if (plan.profile !== undefined && s instanceof ServerProcess) profile = profileOutcome(plan.profile, s, serverExit, hooks.resultsDir ?? ".");
    }
  };

  /** A split load: what each part did (its facts once the driver has them). */
  let partFacts: PartFacts[] | null = null;
  const partsOf = (figures: Figures | null): { figures: Figures | null; parts?: PartRecord[] } => {
    if (partFacts === null) return { figures };
    return withParts(figures, partFacts);
  };

  const failed = async (failure: FailureKind, error: string, figures: Figures | null = null): Promise<FailedRun> => {
    await cleanUp();
    return { status: "failed", config, error, failure, ...partsOf(figures), ...(serverExit ? { serverExit } : {}), startedAt };
  };

  try {
    progress("starting");
    if (hooks.signal?.aborted) return await failed("interrupted", "interrupted before the run started");

    let host: string;
    let port: number;
    let pid: number | null;
    if (plan.server.kind === "spawn") {
      const { options, cpus, startTimeoutMs, command } = plan.server;
      try {
        server =
          command !== undefined
            ? await CommandServer.start({ spec: command, host: options.host, threads: options.threads === "per-connection" ? 1 : options.threads, cpus, startTimeoutMs })
            : await ServerProcess.start({ ...profileRequest(plan, hooks), server: options, cpus, startTimeoutMs });
      } catch (err) {
        return await failed("server-start", `server failed to start: ${oneLine(err)}`);
      }
      flight.server = server;
      if (overrun.aborted) return await failed("overran", overranText("while the server started"));
      host = plan.server.options.host;
      port = server.port;
      pid = server.pid;
    } else {
      ({ host, port, pid } = plan.server);
      if (pid !== null && !processExists(pid)) return await failed("server-start", `server process ${pid} (--server-pid) does not exist`);
    }
    config.port = port;
    if (pid !== null) config.serverPid = pid;
    // A command model is read over its whole process tree (its pid is the tree's root); any other server is one process.
    const tree = server instanceof CommandServer ? server : null;
    if (tree !== null) config.command = tree.commandLine;
    const readServer = (p: number): ProcSnapshot => (tree !== null ? tree.readProcess() : readProcess(p));
    const serverRss = (p: number): number | undefined => (tree !== null ? tree.rssBytes() : readRssBytes(p));
    // What the server holds before any session: the base of its memory per session.
    const serverIdleRss = pid === null ? undefined : serverRss(pid);
    const serverIdleFiles = pid === null ? undefined : readOpenFiles(pid)?.count;

    const clientOptions: ClientOptions = {
      host,
      port,
      sessions: config.connections,
      sizeBytes: config.sizeBytes,
      clientThreads: config.clientThreads,
      timeoutMs: config.timeoutMs,
      connectTimeoutMs: config.timeoutMs,
      connectConcurrency: plan.connectConcurrency,
      cpus: plan.clientCpus ?? [],
      ...(config.clientEngine !== undefined ? { engine: config.clientEngine } : {}),
      ...(config.protocol === "http" ? { http: config.httpMethod ?? "GET" } : {}),
    };
    const script = scriptFor(config.load);
    if (script !== undefined) clientOptions.script = script;
    const clientRssBefore = plan.parts === undefined ? readRssBytes(process.pid) : undefined;
    try {
      client = await startClient(plan, clientOptions);
    } catch (err) {
      return await failed("client", `client failed to start: ${oneLine(err)}`);
    }
    const running: LoadDriver = client;
    const parts = running instanceof PartsDriver ? running : null;
    flight.client = client;
    if (overrun.aborted) return await failed("overran", overranText("while the client started"));
    // The engine used, when the options left it to the client; a chat room
    // has none to choose (net sockets); an outside tool keeps what was asked.
    if (running.engine !== undefined) config.clientEngine = running.engine;
    else if (config.chat !== undefined) delete config.clientEngine;

    // --- Shared by warm-up and window: wait, report progress, notice a dead server or Ctrl-C.
    const loadStart = performance.now();
    const rates: { at: number; messages: number; connects: number }[] = [];
    // The server answers if some message completed within a --timeout, or nothing failed meanwhile (a slow open loop).
    const answering = { at: loadStart, messages: 0, errors: 0 };
    let silence = "";
    const watch = (ms: number, phase: "warmup" | "measure", rss: number[] | null): Promise<WatchEnd> =>
      new Promise<WatchEnd>((resolve) => {
        let done = false;
        flight.phase = phase;
        const end = (why: WatchEnd): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearInterval(ticker);
          hooks.signal?.removeEventListener("abort", onAbort);
          overrun.removeEventListener("abort", onOverrun);
          resolve(why);
        };
        const onAbort = (): void => end("interrupted");
        const onOverrun = (): void => end("overran");
        const tick = (): void => {
          if (pid !== null && server === null && !processExists(pid)) return end("died");
          if (pid !== null && processStopped(pid)) {
            silence = `server process ${pid} was stopped (SIGSTOP or a debugger): it answers nothing while stopped`;
            return end("unresponsive");
          }
          if (rss !== null && pid !== null) {
            const r = serverRss(pid);
            if (r !== undefined) rss.push(r);
          }
          const now = performance.now();
          const live = running.live();
          if (live.messages > answering.messages) Object.assign(answering, { at: now, messages: live.messages, errors: live.errors });
          else if (now - answering.at >= Math.max(config.timeoutMs, MIN_SILENCE_MS) && live.errors > answering.errors) {
            silence = `server answered nothing for ${((now - answering.at) / 1000).toFixed(1)} s while ${live.errors - answering.errors} echo(es) or connect(s) failed`;
            return end("unresponsive");
          }
          rates.push({ at: now, messages: live.messages, connects: live.connects });
          while (rates.length > 2 && now - rates[1]!.at >= 1000) rates.shift();
          const first = rates[0]!;
          const dt = (now - first.at) / 1000;
          hooks.onProgress?.({
            phase,
            elapsedSec: (now - loadStart) / 1000,
            totalSec,
            messagesPerSec: dt > 0 ? (live.messages - first.messages) / dt : 0,
            connectsPerSec: dt > 0 ? (live.connects - first.connects) / dt : 0,
            errors: live.errors,
            connected: live.connected,
          });
        };
        const timer = setTimeout(() => end("done"), ms);
        const ticker = setInterval(tick, TICK_MS);
        hooks.signal?.addEventListener("abort", onAbort);
        overrun.addEventListener("abort", onOverrun);
        if (hooks.signal?.aborted) end("interrupted");
        if (overrun.aborted) end("overran");
        void server?.whenExited().then(() => end("died"));
        tick();
      });

    const deathMessage = (): string => server?.deathMessage() ?? `server process ${pid} is gone (died mid-run)`;

    const warm = await watch(config.warmupSec * 1000, "warmup", null);
    const warmupSec = (performance.now() - loadStart) / 1000;
    if (warm === "died") return await failed("server-died", `${deathMessage()} (during warm-up)`);
    if (warm === "interrupted") return await failed("interrupted", "interrupted during warm-up");
    if (warm === "overran") return await failed("overran", overranText("during warm-up"));
    if (warm === "unresponsive") return await failed("server-unresponsive", `${silence} (during warm-up)`);

    // --- The measured window.
    let serverBefore: ProcSnapshot | null = null;
    if (pid !== null) {
      try {
        serverBefore = readServer(pid);
      } catch {
        return await failed("server-died", `${deathMessage()} (before the window)`);
      }
    }
    const clientBefore: ClientCpuSnapshot = readClientCpu();
    const systemBefore = readSystemCpu();
    running.beginMeasure();
    const windowStart = performance.now();
    const rssSamples: number[] = [];
    const windowEnd = await watch(config.durationSec * 1000, "measure", rssSamples);
    running.endMeasure();
    const sampledWindowSec = (performance.now() - windowStart) / 1000;
    let serverAfter: ProcSnapshot | null = null;
    if (serverBefore !== null && pid !== null && windowEnd !== "died") {
      try {
        serverAfter = readServer(pid);
      } catch {
        serverAfter = null; // died right at the end: no server figures
      }
    }
    const clientAfter = readClientCpu();
    const clientRssEnd = clientRssBefore === undefined ? undefined : readRssBytes(process.pid);
    const serverFiles = pid === null || windowEnd === "died" ? undefined : readOpenFiles(pid);
    const systemAfter = readSystemCpu();
    const died = windowEnd === "died" || (serverBefore !== null && serverAfter === null);
    const deathText = died ? deathMessage() : "";

    progress("stopping", (performance.now() - loadStart) / 1000);
    let measurement;
    try {
      measurement = await withTimeout(running.finish(), finishLimitMs(config), "the client did not hand over its results");
    } catch (err) {
      if (parts !== null) partFacts = parts.facts();
      return await failed("client", `client failed: ${oneLine(err)}`);
    }
    if (parts !== null) partFacts = parts.facts();
    client = null;
    await cleanUp();

    const raw: RawRun = {
      measurement,
      sampledWindowSec,
      warmupSec,
      connectionsRequested: config.connections,
      sessionsChurn: (config.load?.messagesPerSession ?? 0) > 0,
      targetMessagesPerSec: config.load?.targetRateTotalPerSec ?? null,
      server:
        serverBefore !== null && serverAfter !== null
          ? {
              before: serverBefore,
              after: serverAfter,
              rssSamplesBytes: rssSamples,
              ...(serverIdleRss !== undefined ? { idleRssBytes: serverIdleRss } : {}),
              ...(serverFiles !== undefined ? { openFiles: serverFiles } : {}),
              ...(serverIdleFiles !== undefined ? { idleOpenFiles: serverIdleFiles } : {}),
            }
          : null,
      ...(clientRssBefore !== undefined && clientRssEnd !== undefined ? { clientMemory: { beforeBytes: clientRssBefore, endBytes: clientRssEnd } } : {}),
      client: { before: clientBefore, after: clientAfter, usableCores: plan.clientCpus?.length ?? usableCores() },
      system: { before: systemBefore, after: systemAfter, cpus: runCpus(plan) },
      ...(partFacts !== null ? { localPartsCpuSeconds: localCpuSeconds(partFacts) } : {}),
      clockTicksPerSec: CLOCK_TICKS_PER_SEC,
      ...(serverExit !== undefined ? { serverExitedCleanly: tree !== null ? CommandServer.stoppedCleanly(serverExit) : serverExit.code === 0 && !serverExit.killed } : {}),
    };
    const { figures: judged, parts: partRecords } = partsOf(deriveFigures(raw));
    const figures = judged!;
    flight.figures = figures;
    if (died) return await failed("server-died", `${deathText} after ${sampledWindowSec.toFixed(1)} s of the window`, figures);
    if (windowEnd === "interrupted") {
      return await failed("interrupted", `interrupted after ${sampledWindowSec.toFixed(1)} s of the window`, figures);
    }
    if (windowEnd === "overran") return await failed("overran", overranText(`after ${sampledWindowSec.toFixed(1)} s of the window`), figures);
    if (windowEnd === "unresponsive") return await failed("server-unresponsive", `${silence} (after ${sampledWindowSec.toFixed(1)} s of the window)`, figures);
    const ok: OkRun = { status: "ok", config, figures, ...(serverExit ? { serverExit } : {}), startedAt, ...(profile ? { profile } : {}), ...(partRecords ? { parts: partRecords } : {}) };
    return ok;
  } catch (err) {
    return await failed("internal", `internal error: ${oneLine(err)}`);
  } finally {
    await cleanUp();
  }
}

/** The longest clinic may take from the stop request to its exit (its analysis included); then it is killed. */
export const PROFILE_LIMIT_MS = 120_000;

function profileRequest(plan: RunPlan, hooks: RunHooks): { profile?: ProfileRequest } {
  if (plan.profile === undefined) return {};
  const dir = path.join(hooks.resultsDir ?? ".", "profiles", `run-${plan.config.index + 1}`);
  return { profile: { tool: plan.profile, dir, limitMs: PROFILE_LIMIT_MS } };
}

function profileOutcome(tool: "doctor" | "flame", server: ServerProcess, exit: ServerExit, resultsDir: string): ProfileOutcome {
  const html = server.profileHtml();
  if (html !== null) return { tool, html: path.relative(resultsDir, html) };
  const why = exit.killed ? `clinic ${tool} did not finish within ${PROFILE_LIMIT_MS / 1000} s and was killed` : `clinic ${tool} wrote no report (${server.deathMessage() ?? "no message"})`;
  return { tool, html: null, error: why };
}
