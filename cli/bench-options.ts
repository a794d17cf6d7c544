/**
 * The bench command's flags: their --help text and defaults (one table, so
 * the help cannot drift from the behaviour) and their checking into
 * BenchOptions.
 */
import type { Options } from "yargs";
import { MAX_BUFFER_BYTES, MAX_HEADER_TIMEOUT_MS, MAX_MESSAGE_BYTES, MAX_SESSIONS } from "../contracts/limits.js";
import type { BenchOptions, ThreadsSetting } from "../reports/schema.js";
import { effectiveScenario } from "../scenarios/effective.js";
import type { LoadedScenario } from "../scenarios/load.js";
import { overlap, parseCpuList } from "../runner/cpus.js";
import { PROTOCOLS, isCommandModel } from "../servers/models.js";
import { modelEntry } from "../runner/sweep.js";
import { COMMAND_MODEL_FLAGS, commandModels, scenarioCommands, serversRecord } from "./command-models.js";
import { allowedCpus } from "../runner/proc.js";
import { claimParts } from "./claims-sweep.js";
import { MAX_THREADS, threadsProblem } from "../servers/options.js";
import { UsageError } from "../contracts/errors.js";
import { missingPackage, optionalPackageDir } from "../contracts/optional.js";
import { uringSupport } from "../clients/client.js";
import { errname } from "../native/index.js";
import { CLIENT_ENGINES } from "../contracts/client.js";
import type { ClientEngine } from "../contracts/client.js";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../contracts/server.js";
import { parseWork, type WorkSpec } from "../contracts/work.js";
import { bytes, decimal, hostPort, integer, list, modelList, models, numericHost, redisUrl, scalar, threadsSetting } from "./parse.js";
import type { RawFlag } from "./parse.js";
import { loadOptions, scenarioDefaults, scenarioSizes } from "./load-options.js";
import { CHAT_DEFAULTS, chatChoice } from "./chat-options.js";
import { PORT_FLAGS, portChoice } from "./port-options.js";
import { RATE_FLAGS, curveChoice, rateChoice } from "./rate-options.js";

/** Defaults that are not taken from elsewhere. */
/** --accept, shared by bench and serve. */
export const ACCEPT_OPTION: Options = {
  type: "string",
  requiresArg: true,
  choices: ["poll", "ring"],
  description: "completion-routine model: poll a non-blocking accept between waits (the seed) or post accept on the ring",
  defaultDescription: DEFAULT_SERVER_OPTIONS.accept,
};

/** --work, shared by bench and serve. */
export const WORK_OPTION: Options = {
  type: "string",
  requiresArg: true,
  description:
    "server work per message: cpu:<time> spins that much thread CPU time (200us, 0.2ms), block:<time> blocks the thread " +
    "that long like a slow database query (20ms, 500us); done once per message-size bytes received on a connection",
  defaultDescription: "none",
};

/** A --work value as a WorkSpec, or a usage error naming the problem. */
export function workOption(raw: RawFlag): WorkSpec | null {
  const text = scalar(raw);
  if (text === undefined) return null;
  try {
    return parseWork(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** --protocol, shared by bench and serve. */
export const PROTOCOL_OPTION: Options = {
  type: "string",
  requiresArg: true,
  choices: ["echo", "http", "chat", "chat-raw"],
  description:
    "what server and client speak: the seed's echo (StableEchoClnt sessions); minimal HTTP/1.1 keep-alive (GET: a fixed body; POST: its body echoed); " +
    "chat (length-prefixed frames relayed to every client: one room of --connections members, --senders of them sending on a schedule, latency = fan-out delivery time; see --scenario chat-fanout); " +
    "or chat-raw (serve only: the book's chat, each read relayed as it came, for its chat client and nc)",
  defaultDescription: DEFAULT_SERVER_OPTIONS.protocol,
};

export const HEADER_TIMEOUT_OPTION: Options = {
  ...str("http: the server closes a connection whose request head is not complete within this, ms (counted)", String(DEFAULT_SERVER_OPTIONS.headerTimeoutMs)),
};

/** Checks --header-timeout (http servers only). */
export function headerTimeoutOption(text: string | undefined, protocol: ServerOptions["protocol"]): number {
  if (text !== undefined && protocol !== "http") throw new UsageError("--header-timeout applies with --protocol http only");
  return integer("header-timeout", text ?? String(DEFAULT_SERVER_OPTIONS.headerTimeoutMs), 1, MAX_HEADER_TIMEOUT_MS);
}

/** Checks --protocol (or a scenario's server.protocol, which arrives as the same flag text). */
export function protocolFlag(raw: RawFlag): ServerOptions["protocol"] {
  const p = scalar(raw) ?? DEFAULT_SERVER_OPTIONS.protocol;
  if (!(PROTOCOLS as readonly string[]).includes(p)) throw new UsageError(`--protocol must be ${PROTOCOLS.join(", ")}, got '${p}'`);
  return p as ServerOptions["protocol"];
}

/** The protocols a sweep can measure: chat-raw relays bytes with no framing, so no client can tell one message from the next. */
function measurableProtocol(p: ServerOptions["protocol"]): Exclude<ServerOptions["protocol"], "chat-raw"> {
  if (p === "chat-raw") {
    throw new UsageError("--protocol chat-raw cannot be measured: its relay has no message boundaries to time (measure --protocol chat; serve chat-raw with iobench serve, check it with iobench conform)");
  }
  return p;
}

export const BENCH_DEFAULTS = {
  connections: 256,
  sizeBytes: 64,
  // The default sweep (every model × 3 thread counts plus the claims' 8 configurations, × 4 rounds) takes about
  // 4 minutes on 2 cores. 4 rounds, not 3: a paired t interval on 3 is 60 % wider (t 4.30/√3 against 3.18/√4),
  // and the claims decide far more often (docs/verdicts.md, npm run bench:verdicts); the windows are shorter to pay for it.
  durationSec: 1.5,
  warmupSec: 0.5,
  repeats: 4,
  timeoutMs: 5000,
  host: "127.0.0.1",
  out: "results",
} as const;

function str(description: string, defaultDescription?: string, alias?: string): Options {
  return {
    type: "string",
    requiresArg: true,
    description,
    ...(defaultDescription !== undefined ? { defaultDescription } : {}),
    ...(alias !== undefined ? { alias } : {}),
  };
}

/**
 * Thread counts swept when --threads is not given: 1, 2 and 4, plus the
 * server's CPU count (its pinned set, else the usable CPUs) and twice it,
 * so the default sweep shows each model at, below and above one thread per
 * server CPU (docs/DESIGN.md, claim 2).
 */
export function defaultThreads(cores: number): number[] {
  return [...new Set([1, 2, 4, cores, cores * 2])].filter((t) => t <= MAX_THREADS).sort((a, b) => a - b);
}

/** yargs definitions of every bench flag (values are checked by benchOptions, not by yargs). */
export function benchFlags(cores: number): Record<string, Options> {
  return {
    model: str(`server model(s) to measure, a comma list or "all": ${modelList()}, or cmd:NAME (your own server: --server-cmd)`, "all (and every --server-cmd)", "m"),
    ...COMMAND_MODEL_FLAGS,
    threads: str(
      `server thread count(s), a comma list; "per-connection" runs a thread per connection (blocking model only)`,
      `${defaultThreads(defaultPinning(allowedCpus(), cores)?.server.length ?? cores).join(",")} (1, 2, 4, the server's CPUs and twice that)`,
      "t",
    ),
    connections: str("concurrent client sessions (TCP connections), a comma list", String(BENCH_DEFAULTS.connections), "c"),
    size: str("message size(s) in bytes (4k = 4096), a comma list", String(BENCH_DEFAULTS.sizeBytes), "s"),
    duration: str("measured window per run, seconds", String(BENCH_DEFAULTS.durationSec), "d"),
    warmup: str("warm-up before each window (load on, nothing recorded), seconds", String(BENCH_DEFAULTS.warmupSec), "w"),
    repeats: str("times to run every configuration, interleaved round-robin", String(BENCH_DEFAULTS.repeats), "r"),
    "client-threads": str(
      "client worker threads",
      "one per --client-cpus CPU, else the CPUs the server leaves free (at most server threads + 1)",
    ),
    "client-engine": {
      type: "string",
      requiresArg: true,
      choices: [...CLIENT_ENGINES],
      description: "client session engine: epoll (a recv and a send call per message) or uring (io_uring, one call per batch)",
      defaultDescription: "uring where the kernel allows io_uring (and the sessions are echo), else epoll",
    },
    timeout: str("an echo or a connect taking longer than this is a timeout error, ms", String(BENCH_DEFAULTS.timeoutMs)),
    target: str("measure an external server at host:port instead of starting one (--model/--threads then only label the run)"),
    "server-pid": str("pid of the --target server, for its CPU, context-switch and memory figures", "none: no server figures"),
    "server-cpus": str('pin the server process to these CPUs, e.g. "0" or "0-1" or "0,2"', "the upper half of the usable CPUs (see --pin)"),
    "client-cpus": str("pin the client threads to these CPUs (must not overlap --server-cpus)", "the lower half of the usable CPUs (see --pin)"),
    pin: {
      type: "boolean",
      description:
        "with 2 or more usable CPUs and neither --server-cpus nor --client-cpus, pin the server to the upper half and the client to the lower half " +
        "(disjoint sets, so neither takes the other's CPU); --no-pin lets the scheduler place both",
      defaultDescription: "true",
    },
    claims: {
      type: "boolean",
      description:
        "add the runs the chapter's claims need (claim 1: iocp vs a thread per connection at 64 sessions; claim 3: polling vs ring accept under connect-storm; " +
        "claim 4: epoll and iocp under block:2ms work), interleaved in the same rounds; --no-claims leaves them out",
      defaultDescription: "on for the default sweep (no flag that shapes the load or the models), off otherwise",
    },
    host: str("numeric address the server binds and the client connects to", BENCH_DEFAULTS.host),
    buffer: str("server's pending-echo limit per connection, bytes", String(DEFAULT_SERVER_OPTIONS.bufferBytes)),
    "header-timeout": HEADER_TIMEOUT_OPTION,
    accept: str(
      `${String(ACCEPT_OPTION.description)}; a comma list (poll,ring) runs completion-routine once per style (other models once)`,
      DEFAULT_SERVER_OPTIONS.accept,
    ),
    ...PORT_FLAGS,
    work: WORK_OPTION,
    protocol: PROTOCOL_OPTION,
    senders: str("chat: members that send (their rate: --rate-per-session each, or --rate over all of them)", `${CHAT_DEFAULTS.senders} (at most --connections)`),
    client: str("load generator(s), a comma list: iobench's own client, or outside HTTP tools as a cross-check (autocannon, wrk; with --protocol http)", "iobench"),
    profile: str("run the server under clinic doctor or flame (NO_INSIGHT=1 is set for it) and link the HTML from results.json; bounded in time"),
    "http-method": { ...str("--protocol http: each message is a GET (a fixed answer) or a POST of --size bytes (echoed)", "GET"), choices: ["GET", "POST"] },
    out: str("results root: each sweep writes <out>/<UTC timestamp>/results.json", BENCH_DEFAULTS.out, "o"),
    json: { type: "boolean", description: "print results.json on stdout instead of the table", default: false },
    scenario: str("a built-in scenario by name (see --list-scenarios) or a scenario file (.json, .js); flags override its fields", "none: the flags alone"),
    "list-scenarios": { type: "boolean", description: "print the built-in scenarios, one per line, and exit" },
    "ramp-up": str("sessions start connecting spread evenly over this, seconds", "0: all at once"),
    "connect-rate": str("most new connections per second, whole client", "0: no limit"),
    "messages-per-session": str('messages per connection before the session closes and reconnects, or "forever"', "forever"),
    "think-time": str("closed loop: pause between an echo and the next message, ms", "0"),
    rate: str(
      "open loop: target messages per second over all sessions (latency timed from the intended send time): 5000 or 5k; " +
        "a list (5k,10k,20k) or a range with its count (10k..200k:8) runs each rate; 50% is a share of the closed-loop maximum, measured first",
      "closed loop",
    ),
    ...RATE_FLAGS,
    "rate-per-session": str("open loop: target messages per second per session", "closed loop"),
    "closed-loop": { type: "boolean", description: "closed loop even if the scenario says open (next message once the echo is back)" },
    "client-processes": str(
      "client processes on this machine the sessions are split over (each its own open-file limit; results merged exactly, run.parts keeps each one's)",
      "enough to hold --connections under the open-file limit, else 1",
    ),
    agents: str("run the load on agents (iobench agent --redis URL on each load machine) through this Redis, redis://host:port[/db]; the sessions are split over them"),
    "agent-count": str("with --agents: wait (up to 30 s) for this many agents and use them", "the agents registered when the sweep starts"),
  };
}

function isClientEngine(v: string): v is ClientEngine {
  return (CLIENT_ENGINES as readonly string[]).includes(v);
}

/**
 * Checks bench flags into BenchOptions. `cores` = CPUs this process may
 * use; `cpuCount` = CPUs of the machine; `allowed` = the CPUs this process
 * may use (its affinity list), which default pinning splits.
 */
export function benchOptions(
  args: Record<string, RawFlag>,
  cores: number,
  cpuCount: number,
  loaded: LoadedScenario | null = null,
  allowed: readonly number[] = allowedCpus(),
): BenchOptions {
  const fromScenario = scenarioDefaults(loaded);
  const sizesFromScenario = loaded === null ? null : scenarioSizes(loaded.scenario.messageSize);
  // A flag given wins over the scenario field it names.
  const given = (flag: string): RawFlag => args[flag] ?? fromScenario[flag];
  const opt = (name: string): string | undefined => scalar(given(name));
  const target = scalar(args.target);
  if (target !== undefined) hostPort("target", target);
  const external = target !== undefined;

  const commands = commandModels(args, scenarioCommands(loaded));
  const servers = serversRecord(commands);
  let modelNames: string[]; // with --target, a label
  if (external) {
    if (commands.size > 0) throw new UsageError("--server-cmd starts your server for each run; --target measures one already running: give one of them");
    const named = list("model", args.model);
    if (named !== undefined && named.length > 1) throw new UsageError("with --target, --model is a label for the one external server: give one name");
    modelNames = named === undefined ? ["external"] : models(named);
  } else {
    modelNames = models(given("model"), new Set(commands.keys()));
  }

  const serverPidText = opt("server-pid");
  if (serverPidText !== undefined && !external) throw new UsageError("--server-pid applies with --target only (iobench knows the pid of a server it starts)");
  const serverCpusText = opt("server-cpus");
  if (serverCpusText !== undefined && external) throw new UsageError("--server-cpus cannot pin an external server (--target): pin it where you start it");
  let serverCpus = serverCpusText === undefined ? null : parseCpuList("--server-cpus", serverCpusText, cpuCount);
  const clientCpusText = opt("client-cpus");
  let clientCpus = clientCpusText === undefined ? null : parseCpuList("--client-cpus", clientCpusText, cpuCount);
  if (serverCpus !== null && clientCpus !== null) {
    const shared = overlap(serverCpus, clientCpus);
    if (shared.length > 0) throw new UsageError(`--server-cpus and --client-cpus overlap (CPU ${shared.join(",")}): the figures would mix server and client`);
  }
  const cpusGiven = serverCpus !== null || clientCpus !== null;
  if (args.pin === false && cpusGiven) throw new UsageError("--no-pin contradicts --server-cpus/--client-cpus: give one or the other");
  let pinning: BenchOptions["pinning"] = cpusGiven ? "given" : "none";
  const split = cpusGiven || args.pin === false || external ? null : defaultPinning(allowed, cores);
  if (split !== null) {
    serverCpus = split.server;
    clientCpus = split.client;
    pinning = "default";
  }

  const threadItems = list("threads", given("threads"));
  let threads: ThreadsSetting[] = threadItems === undefined ? [] : [...new Set(threadItems.map(threadsSetting))];
  if (external) {
    if (threads.length > 1) throw new UsageError("with --target, --threads is a label for the external server: give one value");
  } else {
    if (threads.length === 0) threads = defaultThreads(serverCpus?.length ?? cores);
    const infos = modelNames.map((m) => modelEntry(m, servers.servers));
    for (const t of threads) {
      const problem = threadsProblem(infos, t, { threads: "--threads" });
      if (problem !== null) throw new UsageError(problem);
    }
  }

  const protocol = measurableProtocol(protocolFlag(given("protocol")));
  const defaultConnections = protocol === "chat" ? CHAT_DEFAULTS.members : BENCH_DEFAULTS.connections;
  const connections = [...new Set((list("connections", given("connections")) ?? [String(defaultConnections)]).map((c) => integer("connections", c, 1, MAX_SESSIONS)))];
  // --size replaces the scenario's sizes, distribution included.
  const sizeFlag = list("size", args.size);
  const sizeTexts = sizeFlag ?? sizesFromScenario?.sizes ?? [String(BENCH_DEFAULTS.sizeBytes)];
  const sizesBytes = [...new Set(sizeTexts.map((s) => bytes("size", s, 1, MAX_MESSAGE_BYTES)))];
  const distribution = sizeFlag === undefined ? (sizesFromScenario?.distribution ?? null) : null;

  const spacing = scalar(args["rate-spacing"]) ?? "geometric";
  if (spacing !== "geometric" && spacing !== "linear") throw new UsageError(`--rate-spacing must be geometric or linear, got '${spacing}'`);
  const rate = rateChoice(args.rate, spacing);
  let load = loadOptions(args, given, loaded, distribution, rate);
  const work = workOption(given("work") ?? undefined);
  const chatRun = chatChoice(protocol, given, load, connections, sizesBytes, work);
  load = chatRun !== undefined ? chatRun.load : { ...load, protocol };
  // An http session sends every request at one size (its Content-Length): a distribution would be ignored, not drawn.
  if (protocol === "http" && load.sizeDistribution !== null) throw new UsageError("--protocol http sends every request at one size: give --size (a list sweeps sizes), not a message-size distribution");
  if (work !== null && load.sizeDistribution !== null) {
    throw new UsageError("server work counts one message per --size bytes received, so it cannot be combined with a message-size distribution: give --size");
  }
  if (work !== null && external) throw new UsageError("--work is done by a server iobench starts; it cannot apply to an external server (--target)");
  const completionPort = portChoice(args, !external && modelNames.includes("iocp"), work);
  const clientThreadsText = opt("client-threads");
  const accepts = [...new Set(list("accept", given("accept")) ?? [DEFAULT_SERVER_OPTIONS.accept])];
  const clientEngine = opt("client-engine") ?? null;
  if (clientEngine !== null && !isClientEngine(clientEngine)) throw new UsageError(`--client-engine must be ${CLIENT_ENGINES.join(" or ")}, got '${clientEngine}'`);
  if (clientEngine !== null && chatRun !== undefined) throw new UsageError("--client-engine applies to echo sessions; a chat room runs on the main thread's sockets");
  if (clientEngine === "uring" && uringSupport() !== 0) {
    throw new UsageError(`--client-engine uring needs io_uring, which this machine does not allow (io_uring_setup: ${errname(uringSupport())}); use --client-engine epoll`);
  }
  for (const a of accepts) if (a !== "poll" && a !== "ring") throw new UsageError(`--accept must be poll or ring (or both: poll,ring), got '${a}'`);
  const httpMethod = opt("http-method");
  if (httpMethod !== undefined && httpMethod !== "GET" && httpMethod !== "POST") throw new UsageError(`--http-method must be GET or POST, got '${httpMethod}'`);
  if (httpMethod !== undefined && protocol !== "http") throw new UsageError("--http-method applies with --protocol http only");
  const profile = opt("profile");
  if (profile === "bubbleprof") throw new UsageError("--profile bubbleprof is refused: clinic bubbleprof hangs on Node 20 (use doctor or flame)");
  if (profile !== undefined && profile !== "doctor" && profile !== "flame") throw new UsageError(`--profile must be doctor or flame, got '${profile}'`);
  if (profile !== undefined && external) throw new UsageError("--profile runs the server under clinic: it cannot profile an external server (--target)");
  const command = modelNames.find(isCommandModel);
  if (profile !== undefined && command !== undefined) throw new UsageError(`--profile runs iobench's own Node.js servers under clinic: it cannot profile ${command} (profile it with your own tools)`);
  if (profile !== undefined && optionalPackageDir("clinic") === null) throw new UsageError(missingPackage("clinic"));
  const clients = [...new Set(list("client", args.client) ?? ["iobench"])].map((c) => {
    if (c !== "iobench" && c !== "autocannon" && c !== "wrk") throw new UsageError(`--client must be iobench, autocannon or wrk, got '${c}'`);
    if (c !== "iobench" && protocol !== "http") throw new UsageError(`--client ${c} speaks HTTP only: add --protocol http`);
    if (c === "autocannon" && optionalPackageDir("autocannon") === null) throw new UsageError(missingPackage("autocannon"));
    return c;
  });
  const curves = curveChoice(args, rate, load, { chat: chatRun !== undefined, outsideClient: clients.some((c) => c !== "iobench") });
  const clientProcessesText = opt("client-processes");
  const agentsText = opt("agents");
  const agentCountText = opt("agent-count");
  if (agentCountText !== undefined && agentsText === undefined) throw new UsageError("--agent-count applies with --agents only");
  if (agentsText !== undefined && clientProcessesText !== undefined) throw new UsageError("--client-processes splits the load on this machine; with --agents it runs on the agents: give one of them");
  const splitLoad = agentsText !== undefined || (clientProcessesText !== undefined && clientProcessesText !== "1");
  if (splitLoad && chatRun !== undefined) throw new UsageError("a chat room runs in one process: --client-processes and --agents apply to echo and http sessions");
  if (splitLoad && clients.some((c) => c !== "iobench")) throw new UsageError("--client-processes and --agents split iobench's own client, not an outside tool (--client)");
  const options: BenchOptions = {
    models: modelNames,
    threads,
    connections,
    sizesBytes,
    durationSec: decimal("duration", opt("duration") ?? String(BENCH_DEFAULTS.durationSec), 0, 86_400, true),
    warmupSec: decimal("warmup", opt("warmup") ?? String(BENCH_DEFAULTS.warmupSec), 0, 3_600),
    repeats: integer("repeats", opt("repeats") ?? String(BENCH_DEFAULTS.repeats), 1, 1000),
    clientThreads: clientThreadsText === undefined ? null : integer("client-threads", clientThreadsText, 1, MAX_THREADS),
    clientEngine,
    timeoutMs: integer("timeout", opt("timeout") ?? String(BENCH_DEFAULTS.timeoutMs), 1, 3_600_000),
    target: target ?? null,
    serverPid: serverPidText === undefined ? null : integer("server-pid", serverPidText, 1, 2 ** 22),
    serverCpus,
    clientCpus,
    host: numericHost("host", opt("host") ?? BENCH_DEFAULTS.host),
    bufferBytes: bytes("buffer", opt("buffer") ?? String(DEFAULT_SERVER_OPTIONS.bufferBytes), 1, MAX_BUFFER_BYTES),
    headerTimeoutMs: headerTimeoutOption(opt("header-timeout"), protocol),
    pinning,
    accept: accepts[0] as "poll" | "ring",
    accepts: accepts as ("poll" | "ring")[],
    ...(completionPort !== null ? { completionPort } : {}),
    work,
    ...(protocol !== "echo" ? { protocol } : {}),
    ...(protocol === "http" ? { httpMethod: httpMethod ?? "GET" } : {}),
    ...(chatRun !== undefined ? { chat: chatRun.chat } : {}),
    ...(clients.length !== 1 || clients[0] !== "iobench" ? { clients } : {}),
    ...(profile !== undefined ? { profile } : {}),
    out: opt("out") ?? BENCH_DEFAULTS.out,
    json: args.json === true,
    load,
    ...curves,
    scenario: null,
    clientProcesses: clientProcessesText === undefined ? null : integer("client-processes", clientProcessesText, 1, 1000),
    agents: agentsText === undefined ? null : { redis: redisUrl("agents", agentsText), count: agentCountText === undefined ? null : integer("agent-count", agentCountText, 1, 1000) },
    ...servers,
  };
  if (loaded !== null) options.scenario = { name: loaded.scenario.name, file: loaded.file, effective: effectiveScenario(loaded.scenario, options) };
  if (claimsWanted(args, loaded)) {
    if (external || protocol !== "echo" || clients.some((c) => c !== "iobench") || work !== null || load.loop !== "closed" || options.rates !== undefined || options.search !== undefined) {
      throw new UsageError("--claims adds echo runs of iobench's own models and client: it cannot go with --target, --protocol, --client, --work, an open loop, a rate sweep or --find-max-rate");
    }
    options.parts = claimParts(options, serverCpus?.length ?? cores);
  }
  return options;
}

/** Flags that shape the sweep: with any of them, --claims is off unless asked for. */
const SHAPING_FLAGS = [
  "model", "server-cmd", "server-protocols", "threads", "connections", "size", "work", "accept", "protocol", "target", "client", "senders", "http-method", "profile",
  "ramp-up", "connect-rate", "messages-per-session", "think-time", "rate", "rate-per-session", "find-max-rate", "slo",
];

/** --claims as given, else on for the default sweep (no scenario, no flag that shapes the sweep). */
function claimsWanted(args: Record<string, RawFlag>, loaded: LoadedScenario | null): boolean {
  if (typeof args.claims === "boolean") return args.claims;
  return loaded === null && SHAPING_FLAGS.every((f) => args[f] === undefined);
}

/**
 * The default CPU sets: the client on the lower half of the usable CPUs,
 * the server on the upper half (on 2 CPUs: client 0, server 1); null when
 * fewer than 2 CPUs are usable.
 */
export function defaultPinning(allowed: readonly number[], cores: number): { server: number[]; client: number[] } | null {
  const cpus = allowed.length > 0 ? [...allowed] : Array.from({ length: cores }, (_, i) => i);
  if (cpus.length < 2) return null;
  const half = Math.floor(cpus.length / 2);
  return { client: cpus.slice(0, half), server: cpus.slice(half) };
}
