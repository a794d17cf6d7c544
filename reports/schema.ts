/**
 * The file formats, defined once: results.json (the contract every other
 * output is drawn from: console table, CSV, charts, HTML, `bench check`),
 * baselines/NAME.json and scenario files. Each is a TypeBox schema, which
 * is at once the TypeScript type (Static<...>), the check a file read back
 * must pass (reports/validate.ts) and the JSON Schema published under
 * schemas/ (npm run schemas; a test keeps the files up to date). The types
 * other files declare for the same data are checked equal to these by the
 * compiler (reports/schema-agreement.ts).
 *
 * results.json is plain data only: numbers carry their unit in their name, a
 * figure that cannot be measured is `null` (never 0, never NaN), and a
 * failed run is a result like any other. Version 1. A change that renames or
 * removes a field, or changes a unit or a meaning, bumps RESULTS_VERSION;
 * adding a field does not (readers accept fields they do not know).
 */
import { CloneType, Type, type Static, type TLiteral, type TSchema } from "@sinclair/typebox";
import { MAX_BUFFER_BYTES, MAX_MESSAGE_BYTES, MAX_SESSIONS, MAX_THREADS, SIZE_PATTERN } from "../contracts/limits.js";

/** The `schema` tag of every results.json. */
export const RESULTS_SCHEMA = "iobench.results";
/** The version this code writes. */
export const RESULTS_VERSION = 1;
/** The `schema` tag of every baseline. */
export const BASELINE_SCHEMA = "iobench.baseline";
/** Version 2: the configuration key covers the whole setup (work, load, pinning...), spreads say their confidence. */
export const BASELINE_VERSION = 2;

export { MAX_BUFFER_BYTES, MAX_CHAT_FRAME_BYTES, MAX_HEADER_TIMEOUT_MS, MAX_MESSAGE_BYTES, MAX_SESSIONS, MAX_THREADS, SIZE_PATTERN, sizeValue } from "../contracts/limits.js";

// ---- building blocks ----------------------------------------------------------------------------

const text = (description: string): { description: string } => ({ description });
const Nullable = <T extends TSchema>(t: T, description?: string) => Type.Union([t, Type.Null()], description === undefined ? {} : { description });
const Count = (description: string) => Type.Integer({ minimum: 0, description });
const Num = (description: string) => Type.Number(text(description));
const Literals = <const L extends readonly string[]>(values: L, description?: string) =>
  Type.Union(
    values.map((v) => Type.Literal(v)) as TLiteral<L[number]>[],
    description === undefined ? {} : { description },
  );
/** A shared piece with a description of its own where it is used. */
const described = <T extends TSchema>(t: T, description: string): T => CloneType(t, { description });

// ---- pieces owned by other layers (their types are checked equal to these below) ---------------

export const ClientEngineSchema = Literals(["epoll", "uring"], "How a client worker thread drives its sessions: readiness (epoll) or io_uring (uring).");

export const SizeSpecSchema = Type.Union(
  [
    Type.Object({ kind: Type.Literal("fixed"), bytes: Type.Integer({ minimum: 1 }) }),
    Type.Object({ kind: Type.Literal("uniform"), minBytes: Type.Integer({ minimum: 1 }), maxBytes: Type.Integer({ minimum: 1 }) }),
    Type.Object({ kind: Type.Literal("choice"), bytes: Type.Array(Type.Integer({ minimum: 1 })), weights: Type.Array(Type.Number({ minimum: 0 })) }),
  ],
  text("Message sizes drawn per message: one size, uniform in [minBytes, maxBytes], or sizes with weights."),
);

const ErrorCountsProps = {
  connect: Count("connect() failed or timed out."),
  reset: Count("ECONNRESET / EPIPE or another socket error mid-session."),
  timeout: Count("The echo did not complete within timeoutMs."),
  mismatch: Count("The echoed bytes differ from the bytes sent."),
  closedEarly: Count("The server closed the connection before echoing every byte."),
};
export const ErrorCountsSchema = Type.Object(ErrorCountsProps);

export const WorkSpecSchema = Type.Object(
  {
    kind: Literals(["cpu", "block"]),
    durationUs: Type.Number({ minimum: 0, description: "CPU time to use (cpu) or time to stay blocked (block), µs." }),
  },
  text("Server work per message (--work)."),
);

export const MessageWorkSchema = Type.Object(
  { ...WorkSpecSchema.properties, messageBytes: Type.Integer({ minimum: 1, description: "Bytes that make one message on a connection (the run's message size)." }) },
  text("Server work per message, with the message size it counts bytes in: done once per messageBytes received on a connection."),
);

export const ChatFiguresSchema = Type.Object(
  {
    members: Count("Room members (connections)."),
    senders: Count("Members that send."),
    rateHz: Num("Frames per second per sender."),
    framesSent: Count("Frames the senders sent over the whole run."),
    deliveriesExpected: Count("Deliveries owed to the members still in the room at the end (frames sent × those members)."),
    deliveriesReceived: Count("Deliveries they received (whole and in order or not)."),
    missing: Count("Deliveries owed and never received."),
    outOfOrder: Count("Frames that repeated or stepped back in their sender's order at a member."),
    broken: Count("Frames that were not whole chat frames."),
    membersClosed: Count("Members the server closed (dropped as slow, or a failure)."),
  },
  text("Delivery accounting of a chat-fanout run (see clients/chat-client.ts)."),
);

// ---- the scenario file ----------------------------------------------------------------------------

const SessionsCount = Type.Integer({ minimum: 1, maximum: MAX_SESSIONS });
const ScenarioSize = Type.Union([Type.Integer({ minimum: 1, maximum: MAX_MESSAGE_BYTES }), Type.String({ pattern: SIZE_PATTERN })], {
  title: `a size in bytes from 1 to ${MAX_MESSAGE_BYTES} (64, "4k", "1M")`,
});

export const ScenarioServerSchema = Type.Object(
  {
    models: Type.Optional(Type.Array(Type.String(), { minItems: 1, description: 'Models to run by default ("all" or names); --model overrides.' })),
    threads: Type.Optional(
      Type.Array(Type.Union([Type.Integer({ minimum: 1, maximum: MAX_THREADS }), Type.Literal("per-connection")]), {
        minItems: 1,
        description: 'Server thread counts (or "per-connection"); --threads overrides.',
      }),
    ),
    protocol: Type.Optional(
      Literals(["echo", "http", "chat"], "What the sessions speak: echo, http (minimal HTTP/1.1 keep-alive), or chat (one room: every session a member, `senders` of them sending; rates are per sender)."),
    ),
    work: Type.Optional(Nullable(Type.String(), 'Per-message server work, as --work takes it: "cpu:50us" (spin), "block:2ms" (a blocking call, like a slow query); null for none.')),
    accept: Type.Optional(Literals(["poll", "ring"], "completion-routine accept style.")),
    bufferBytes: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: MAX_BUFFER_BYTES }), Type.String({ pattern: SIZE_PATTERN })], {
        title: `a size in bytes from 1 to ${MAX_BUFFER_BYTES} (64, "4k", "1M")`,
        description: "Server's per-connection pending-echo limit, bytes.",
      }),
    ),
  },
  { additionalProperties: false, description: "The server side of a scenario: defaults for the models it runs against." },
);

/** A command model's name (cmd:NAME), as --server-cmd and a scenario's `servers` spell NAME. */
export const COMMAND_NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$";

export const CommandServerSchema = Type.Object(
  {
    command: Type.String({
      minLength: 1,
      description: "The command line, run under sh -c once per run: {port}, {threads} and {host} are filled in (and IOBENCH_PORT, IOBENCH_THREADS, IOBENCH_HOST set).",
    }),
    protocols: Type.Optional(
      Type.Array(Literals(["echo", "http", "chat", "chat-raw"]), { minItems: 1, uniqueItems: true, description: 'What the server speaks (default ["echo"]).' }),
    ),
  },
  { additionalProperties: false, description: "Your own server, measured as model cmd:NAME (see docs/own-server.md)." },
);

export const CommandServersSchema = Type.Record(Type.String({ pattern: COMMAND_NAME_PATTERN }), CommandServerSchema, {
  additionalProperties: false,
  description: "Command models by NAME (letters, digits, '.', '_', '-'; at most 40): each becomes model cmd:NAME.",
});

export const MessageSizeSchema = Type.Union(
  [
    ScenarioSize,
    Type.Array(ScenarioSize, { minItems: 1, title: "a list of sizes" }),
    Type.Object({ uniform: Type.Object({ minBytes: ScenarioSize, maxBytes: ScenarioSize }, { additionalProperties: false }) }, { additionalProperties: false }),
    Type.Object(
      {
        choice: Type.Array(Type.Object({ bytes: ScenarioSize, weight: Type.Number({ minimum: 0, maximum: 1e9 }) }, { additionalProperties: false }), {
          minItems: 1,
          title: 'a non-empty list of {"bytes", "weight"}',
        }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    title: `a size in bytes from 1 to ${MAX_MESSAGE_BYTES} (64, "4k", "1M"), a list of sizes, {"uniform": {"minBytes", "maxBytes"}} or {"choice": [{"bytes", "weight"}, ...]}`,
    description: 'A message size: bytes (64, or "4k"), a list of fixed sizes (one run each), or a distribution drawn per message.',
  },
);

export const ScenarioSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String(text("The JSON Schema this file follows (schemas/scenario.schema.json), for editors; ignored by iobench."))),
    name: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]*$", title: "a name of letters, digits, '.', '_' or '-'", description: "Short name (the built-ins' names are their file names)." }),
    description: Type.Optional(Type.String(text("One line saying what question the scenario asks."))),
    sessions: Type.Union([SessionsCount, Type.Array(SessionsCount, { minItems: 1 })], { description: "Concurrent sessions (TCP connections); a list sweeps over them." }),
    rampUpSec: Type.Optional(Type.Number({ minimum: 0, maximum: 3600, description: "Sessions start connecting spread evenly over this many seconds (default 0: all at once)." })),
    connectRatePerSec: Type.Optional(Type.Number({ minimum: 0, maximum: 10_000_000, description: "Most new connections per second over the whole client (default 0: no limit)." })),
    messageSize: MessageSizeSchema,
    messagesPerSession: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1, maximum: 2 ** 31 - 1 }), Type.Literal("forever")], {
        title: 'a whole number from 1 or "forever"',
        description: 'Messages on one connection before the session closes and reconnects (default "forever").',
      }),
    ),
    thinkTimeMs: Type.Optional(Type.Number({ minimum: 0, maximum: 3_600_000, description: "Closed loop: pause between an echo and the next message, ms (default 0)." })),
    loop: Type.Optional(Literals(["closed", "open"], '"closed" (default): the next message once the echo is back (StableEchoClnt); "open": on a schedule at a target rate.')),
    ratePerSessionPerSec: Type.Optional(Type.Number({ minimum: 0.001, maximum: 1_000_000, description: "Open loop: target messages per second per session." })),
    rateTotalPerSec: Type.Optional(Type.Number({ minimum: 0.001, maximum: 100_000_000, description: "Open loop: target messages per second over all sessions (split evenly)." })),
    warmupSec: Type.Optional(Type.Number({ minimum: 0, maximum: 3600, description: "Warm-up before the measured window, seconds." })),
    durationSec: Type.Optional(Type.Number({ minimum: 0.001, maximum: 86_400, description: "Measured window, seconds." })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000, description: "Echo and connect timeout, ms." })),
    senders: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_SESSIONS, description: 'server.protocol "chat" only: how many of the sessions (room members) send.' })),
    server: Type.Optional(ScenarioServerSchema),
    servers: Type.Optional(described(CommandServersSchema, 'Your own servers, as model "cmd:NAME" (name them in server.models); --server-cmd NAME overrides one.')),
  },
  {
    additionalProperties: false,
    title: "iobench scenario",
    description:
      "A scenario: what load to apply, how long, and what the server does per message. Every field but name, sessions and messageSize is optional and defaults to the seed's pattern (closed loop, connect once, no pauses). Command-line flags override any field.",
  },
);

// ---- results.json ---------------------------------------------------------------------------------

export const EnvironmentSchema = Type.Object(
  {
    cpuModel: Type.String(text("CPU model string of the first core (os.cpus()).")),
    cores: Count("Logical CPUs the OS reports."),
    usableCores: Count("CPUs this process may run on (its affinity mask), which can be fewer."),
    memoryBytes: Count("Total memory, bytes."),
    kernel: Type.String(text("Kernel release (uname -r).")),
    node: Type.String(text('Node.js version, e.g. "v20.20.2".')),
    platform: Type.String(text('process.platform + "-" + process.arch, e.g. "linux-x64".')),
    gitCommit: Nullable(Type.String(), "HEAD commit of the iobench checkout, or null outside a git checkout (or before the first commit)."),
    gitDirty: Nullable(Type.Boolean(), "Uncommitted changes in the checkout; null when gitCommit is null."),
    nofileLimit: Nullable(Type.Object({ soft: Type.Integer(), hard: Type.Integer() }), "Open-file limit (soft, hard) the runs had, after iobench raised the soft limit."),
    clockTicksPerSec: Type.Integer(text("Clock ticks per second used to read /proc CPU times (USER_HZ).")),
  },
  text("The machine and software the sweep ran on."),
);

export const CompletionPortConfigSchema = Type.Object(
  {
    concurrency: Nullable(
      Type.Integer({ minimum: 0 }),
      "The most worker threads running completions at once; in BenchOptions null = the server's usable CPUs, resolved per run; in a run, null with wake \"all\" (no limit).",
    ),
    wake: Literals(["lifo", "all"], '"lifo": a completion port (one waiter released per completion batch, newest first); "all": every waiter wakes on each completion (the herd).'),
    blockNotice: Type.Boolean(text("With block: work, workers told the port when they blocked (standing in for the Windows kernel).")),
  },
  text("The iocp model's completion port (contracts/server.ts PortSettings, native/port.c)."),
);

export const ThreadsSettingSchema = Type.Union([Type.Integer({ minimum: 1 }), Type.Literal("per-connection")], text("Thread setting of a server: a count, or a thread per connection (blocking model only)."));

export const ChatLoadSchema = Type.Object(
  { senders: Type.Integer({ minimum: 1, description: "Members that send (the rest only receive)." }), rateHz: Num("Frames per second per sender.") },
  text("The sending side of a chat-fanout run."),
);

const ProtocolSchema = Literals(["echo", "http", "chat"]);

export const LoadOptionsSchema = Type.Object(
  {
    rampUpSec: Num("Sessions start connecting spread evenly over this, seconds."),
    connectRatePerSec: Num("Most new connections per second, whole client; 0 = no limit."),
    sizeDistribution: Nullable(SizeSpecSchema, "Message sizes drawn per message; null = the fixed size(s) of sizesBytes (then sizesBytes = [the largest size])."),
    messagesPerSession: Count("Messages per connection before the session closes (FIN) and reconnects; 0 = forever."),
    thinkTimeMs: Num("Closed loop: pause between an echo and the next message, ms."),
    loop: Literals(["closed", "open"], "closed: next message after the echo (StableEchoClnt); open: on a schedule at a target rate."),
    ratePerSessionPerSec: Nullable(Type.Number(), "Open loop: target messages per second per session, or null when given in total."),
    rateTotalPerSec: Nullable(Type.Number(), "Open loop: target messages per second over all sessions, or null when given per session."),
    protocol: described(ProtocolSchema, "Server protocol: echo, http, or chat (then BenchOptions.chat says who sends; the rates are per sender)."),
  },
  text(
    'The load script as asked for, beyond sessions and sizes. Every field at its default (rampUpSec 0, connectRatePerSec 0, sizeDistribution null, messagesPerSession 0, thinkTimeMs 0, loop "closed") is StableEchoClnt\'s pattern: connect once, next message as soon as the echo is back.',
  ),
);

export const ScenarioRecordSchema = Type.Object(
  {
    name: Type.String(text("The scenario's name.")),
    file: Type.String(text("The file it was read from (a built-in's source file, or the user's path).")),
    effective: described(ScenarioSchema, "The scenario after command-line overrides, in the scenario file format: a file with this content repeats the run."),
  },
  text("Where the options came from when --scenario was given."),
);

export const RateSweepSchema = Type.Object(
  {
    text: Type.String(text('--rate as given, e.g. "10k..200k:8", "5k,10k,20k" or "10%..120%:6".')),
    unit: Literals(
      ["msg/s", "closed-loop-max"],
      '"msg/s": each value is a total rate; "closed-loop-max": each value is a share of the closed-loop maximum of the same configuration, measured first in the same sweep (1 = 100 %).',
    ),
    spacing: Literals(["list", "geometric", "linear"], "How the values were made: listed one by one, or a range in equal ratios (geometric) or equal steps (linear)."),
    values: Type.Array(Type.Number({ exclusiveMinimum: 0 }), { minItems: 1, description: "The rates (or shares), ascending: one run per value and configuration." }),
  },
  text("A rate sweep (--rate as a list or a range): open loop at each rate, every configuration, interleaved."),
);

export const SloConditionSchema = Type.Union(
  [
    Type.Object(
      {
        kind: Type.Literal("latency"),
        percentile: Type.Number({ exclusiveMinimum: 0, maximum: 100, description: "Percentile of the corrected round trip (99 = p99, 100 = the largest)." }),
        boundUs: Type.Number({ exclusiveMinimum: 0, description: "The percentile must be at most this, µs." }),
      },
      text("A latency bound: the run's corrected round trip at `percentile` is at most `boundUs`."),
    ),
    Type.Object(
      { kind: Type.Literal("achieved"), minShare: Type.Number({ exclusiveMinimum: 0, maximum: 1, description: "achieved / offered must be at least this (0.99 = 99 %)." }) },
      text("A rate bound: the run achieved at least `minShare` of the rate it was offered."),
    ),
  ],
  text("One condition of a service-level objective."),
);

export const SloSchema = Type.Object(
  {
    text: Type.String(text('--slo as given, e.g. "p99=2ms,achieved=99%".')),
    conditions: Type.Array(SloConditionSchema, { minItems: 1, description: "Every one must hold (and no error, no unserved session) for a run to meet the objective." }),
  },
  text("A service-level objective (--slo): what a rate must meet to count as served."),
);

export const SearchOptionsSchema = Type.Object(
  {
    resolution: Type.Number({ exclusiveMinimum: 0, description: "The search stops when the rate that failed is at most (1 + resolution) × the rate that met the objective (0.05 = 5 %)." }),
    lowPerSec: Nullable(Type.Number({ exclusiveMinimum: 0 }), "The lowest rate the search may probe, msg/s; null = given as a share (lowShare), or the default (closed-loop maximum / 1024)."),
    highPerSec: Nullable(Type.Number({ exclusiveMinimum: 0 }), "The highest rate the search may probe, msg/s; null = a share (highShare), or the default (8 × the closed-loop maximum)."),
    lowShare: Nullable(Type.Number({ exclusiveMinimum: 0 }), "The lowest rate as a share of the closed-loop maximum, or null."),
    highShare: Nullable(Type.Number({ exclusiveMinimum: 0 }), "The highest rate as a share of the closed-loop maximum, or null."),
    maxProbes: Type.Integer({ minimum: 1, description: "Most probes one search runs (the closed-loop run not counted)." }),
    retries: Type.Integer({ minimum: 0, description: "How many more times a rate is probed when the client limited it or other processes disturbed it, before the search stops there (client-limited, disturbed)." }),
  },
  text("--find-max-rate: a search, per configuration and repeat, for the highest open-loop rate that meets the objective (options.slo)."),
);

export const AgentsOptionSchema = Type.Object(
  {
    redis: Type.String(text('The Redis the agents listen on, "redis://host:port/db" (credentials left out).')),
    count: Nullable(Type.Integer({ minimum: 1 }), "Agents to wait for (--agent-count); null = the agents registered when the sweep started."),
  },
  text("Where the agents are (iobench agent --redis) and how many a sweep waits for."),
);

export const SweepPartSchema = Type.Object(
  {
    name: Type.String(text('What the part is for, e.g. "claim 3"; each of its runs carries it as config.part.')),
    models: Type.Array(Type.String(), text("Canonical model names.")),
    threads: Type.Array(ThreadsSettingSchema),
    connections: Type.Array(Type.Integer({ minimum: 1 })),
    accepts: Type.Array(Literals(["poll", "ring"]), text("Accept styles (they matter to completion-routine only).")),
    work: Nullable(WorkSpecSchema, "Server work per message, or null."),
    load: described(LoadOptionsSchema, "The load script of every run of the part."),
    loadName: Nullable(Type.String(), 'A name for that load (the built-in scenario it follows, e.g. "connect-storm"), or null.'),
    warmupSec: Num("Warm-up of the part's runs, seconds (a thread per connection needs longer to start)."),
  },
  text("A group of configurations with its own load, run interleaved with the rest of the sweep (see BenchOptions.parts)."),
);

export const BenchOptionsSchema = Type.Object(
  {
    models: Type.Array(Type.String(), text('Canonical model names, in sweep order; ["external"] with --target and no --model.')),
    threads: Type.Array(ThreadsSettingSchema, text("Thread settings, in sweep order; [] with --target and no --threads (unknown).")),
    connections: Type.Array(Type.Integer({ minimum: 1 }), text("Concurrent client sessions (TCP connections), in sweep order.")),
    sizesBytes: Type.Array(Type.Integer({ minimum: 1 }), text("Message sizes, bytes, in sweep order.")),
    durationSec: Num("Measured window per run, seconds."),
    warmupSec: Num("Warm-up before each window (load applied, nothing recorded), seconds."),
    repeats: Type.Integer({ minimum: 1, description: "Times every configuration is run (rounds)." }),
    clientThreads: Nullable(Type.Integer({ minimum: 1 }), "Client worker threads; null = chosen per run by defaultClientThreads."),
    clientEngine: Nullable(ClientEngineSchema, "Client session engine asked for; null = per run (uring where io_uring is allowed and the sessions are echo, else epoll)."),
    timeoutMs: Type.Integer({ minimum: 1, description: "An echo (or a connect) not complete within this is a timeout (connect) error, ms." }),
    target: Nullable(Type.String(), '"host:port" of an external server to measure instead of starting one, or null.'),
    serverPid: Nullable(Type.Integer(), "Pid of the external server, for its /proc figures, or null."),
    serverCpus: Nullable(Type.Array(Type.Integer({ minimum: 0 })), "CPUs the server process is pinned to, or null (not pinned)."),
    clientCpus: Nullable(Type.Array(Type.Integer({ minimum: 0 })), "CPUs the client threads are pinned to, or null (not pinned)."),
    pinning: Type.Optional(
      Literals(
        ["default", "given", "none"],
        'How the CPU sets were chosen: "default" (iobench split the usable CPUs between server and client, as it does with 2 or more), "given" (--server-cpus / --client-cpus), "none" (--no-pin, a single CPU, or an external server). Absent in files written before it existed.',
      ),
    ),
    host: Type.String(text("Numeric address the server binds and the client connects to.")),
    bufferBytes: Type.Integer({ minimum: 1, description: "Server's per-connection pending-echo limit, bytes." }),
    headerTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: "http: a request head not complete within this closes its connection, ms. Absent in files written before it existed." })),
    accept: Literals(["poll", "ring"], "completion-routine accept style: poll (the seed's) or ring; the first of `accepts`."),
    accepts: Type.Optional(
      Type.Array(Literals(["poll", "ring"]), text("completion-routine accept styles swept (--accept poll,ring), in sweep order; other models run once, with the first. Absent in files written before it existed (= [accept]).")),
    ),
    completionPort: Type.Optional(
      described(CompletionPortConfigSchema, "The iocp model's completion port (--concurrency, --port-wake, --block-notice); absent when no iocp server is started (and in files written before it existed)."),
    ),
    work: Type.Optional(Nullable(WorkSpecSchema, "Server work per message (--work), or null for none. Absent in files written before it existed.")),
    chat: Type.Optional(ChatLoadSchema),
    protocol: Type.Optional(described(ProtocolSchema, "What server and client speak (absent: echo; chat also sets `chat`).")),
    httpMethod: Type.Optional(Literals(["GET", "POST"], "http: the method of every request (GET: a fixed answer; POST: the body echoed).")),
    profile: Type.Optional(Literals(["doctor", "flame"], "Run every server under clinic doctor or flame (absent: no profiling).")),
    clients: Type.Optional(Type.Array(Literals(["iobench", "autocannon", "wrk"]), text("The load generators, each run in turn on the same server and load (absent: iobench's own client)."))),
    out: Type.String(text("Results root directory (each sweep writes <out>/<timestamp>/results.json).")),
    json: Type.Boolean(text("Print results.json on stdout instead of the table.")),
    load: LoadOptionsSchema,
    rates: Type.Optional(described(RateSweepSchema, "--rate as a list or a range: a run per rate (absent: one rate, load.rateTotalPerSec, or the closed loop).")),
    slo: Type.Optional(described(SloSchema, "--slo: the objective a search looks for, and curves are drawn against (absent: none).")),
    search: Type.Optional(described(SearchOptionsSchema, "--find-max-rate: the search's settings (absent: no search).")),
    scenario: Nullable(ScenarioRecordSchema, "The scenario the options started from (--scenario), or null."),
    clientProcesses: Type.Optional(
      Nullable(Type.Integer({ minimum: 1 }), "Client processes on this machine the sessions are split over (--client-processes); null = per run, enough to hold the sessions under the open-file limit. Absent in files written before it existed (one)."),
    ),
    agents: Type.Optional(Nullable(AgentsOptionSchema, "--agents: the load comes from agents through Redis instead of this machine; null or absent: from this machine.")),
    servers: Type.Optional(described(CommandServersSchema, "The command models declared (--server-cmd, a scenario's servers), as declared. Absent when none was.")),
    parts: Type.Optional(
      Type.Array(
        SweepPartSchema,
        text("More groups of configurations, each with its own load, run in the same rounds as the sweep's own (interleaved): what the chapter's claims need beyond the main sweep (--claims, on by default for the default sweep). Absent or [] = none."),
      ),
    ),
  },
  text("The bench command's options after parsing and defaulting (what the user asked for)."),
);

export const RunLoadSchema = Type.Object(
  {
    scenario: Nullable(Type.String(), "Scenario name, or null without --scenario."),
    rampUpSec: LoadOptionsSchema.properties.rampUpSec,
    connectRatePerSec: LoadOptionsSchema.properties.connectRatePerSec,
    sizeDistribution: LoadOptionsSchema.properties.sizeDistribution,
    messagesPerSession: LoadOptionsSchema.properties.messagesPerSession,
    thinkTimeMs: LoadOptionsSchema.properties.thinkTimeMs,
    loop: LoadOptionsSchema.properties.loop,
    targetRatePerSessionPerSec: Nullable(Type.Number(), "Open loop: target messages per second per session (chat: frames per second per sender); null in closed loop."),
    targetRateTotalPerSec: Nullable(Type.Number(), "Open loop: target messages per second over all sessions (chat: deliveries, frames × members); null in closed loop."),
  },
  text("The load script of one run, resolved: the open-loop rate is per session here, whatever way it was asked for."),
);

export const PinningSchema = Type.Object(
  { serverCpus: Nullable(Type.Array(Type.Integer({ minimum: 0 }))), clientCpus: Nullable(Type.Array(Type.Integer({ minimum: 0 }))) },
  text("CPU pinning of a run; null = not pinned (the scheduler chose)."),
);

export const LoadPointSchema = Type.Object(
  {
    role: Literals(
      ["closed-loop-max", "rate", "probe"],
      '"closed-loop-max": the closed-loop run a rate sweep given in shares, or a search, starts from (its msg/s is the maximum); "rate": one rate of a rate sweep; "probe": one rate a search tried.',
    ),
    shareOfClosedLoopMax: Type.Optional(Type.Number(text("rate runs given as a share: the share (1 = 100 %) of the closed-loop maximum the rate was made from.")) ),
    search: Type.Optional(Type.Integer({ minimum: 0, description: "probe runs: the index of their search in results.searches." })),
    step: Type.Optional(Type.Integer({ minimum: 1, description: "probe runs: 1-based position of the probe in its search." })),
  },
  text("The part a run played in a load–latency curve or a search."),
);

export const RunConfigSchema = Type.Object(
  {
    index: Type.Integer({ minimum: 0, description: "0-based position of the run in the sweep (run order)." }),
    repeat: Type.Integer({
      minimum: 1,
      description: "1-based repeat (round) this run belongs to: runs of one round ran back to back, so claims and checks pair them by it.",
    }),
    part: Type.Optional(Type.String(text('The sweep part the run belongs to (BenchOptions.parts: "claim 3"...); absent for the sweep\'s own configurations.'))),
    model: Type.String(text('Canonical model name, or the --model label (or "external") with --target.')),
    threads: Nullable(ThreadsSettingSchema, "Server threads; null with --target when not given."),
    connections: Type.Integer({ minimum: 1, description: "Concurrent client sessions." }),
    sizeBytes: Type.Integer({ minimum: 1, description: "Bytes per message (with load.sizeDistribution: the largest message)." }),
    load: Type.Optional(described(RunLoadSchema, "How the sessions paced themselves. Absent in files written before scenarios: read as the closed loop.")),
    clientThreads: Type.Integer({ minimum: 1, description: "Client worker threads the sessions were spread over." }),
    clientEngine: Type.Optional(
      described(ClientEngineSchema, 'Client session engine the run used; absent in results written before it existed (= "epoll") or when the client never started.'),
    ),
    durationSec: Num("Requested measured window, seconds."),
    warmupSec: Num("Requested warm-up, seconds."),
    timeoutMs: Type.Integer({ minimum: 1, description: "Echo and connect timeout, ms." }),
    host: Type.String(text("Address the client connected to.")),
    port: Nullable(Type.Integer({ minimum: 0, maximum: 65535 }), "Port the client connected to (null if the server never listened)."),
    target: Type.Optional(Type.String(text('"host:port" when measuring an external server (--target), else absent.'))),
    serverPid: Type.Optional(Type.Integer(text("Pid of the server process: the one iobench started, or --server-pid; absent when unknown."))),
    bufferBytes: Nullable(Type.Integer({ minimum: 1 }), "Server's pending-echo limit, bytes (null for an external server or a command model)."),
    command: Type.Optional(Type.String(text("A command model's command line as run, {port}, {threads} and {host} filled in; absent for other models."))),
    headerTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, description: "http: the server's request-head timeout, ms (absent: not an http run, or an external server)." })),
    accept: Nullable(Literals(["poll", "ring"]), "completion-routine accept style (null for an external server or a command model)."),
    completionPort: Type.Optional(
      described(
        CompletionPortConfigSchema,
        "iocp runs of a server iobench started: how its completion port behaved (concurrency: the value the port had, null with wake \"all\"). Absent for other models and in files written before it existed (those iocp runs had the \"all\" behaviour).",
      ),
    ),
    work: Type.Optional(Nullable(MessageWorkSchema, "Server work per message (messageBytes = sizeBytes); null = none. Absent in files written before it existed.")),
    protocol: Type.Optional(described(ProtocolSchema, "What server and client spoke; absent = echo (results written before http existed); chat runs also carry `chat`.")),
    httpMethod: Type.Optional(Literals(["GET", "POST"], 'http: the method of every request; a "message" is then one request and its answer.')),
    client: Type.Optional(Literals(["autocannon", "wrk"], "The load generator, when not iobench's own client: an outside tool as a cross-check (same figures, same shape).")),
    pinning: PinningSchema,
    loadPoint: Type.Optional(described(LoadPointSchema, "Runs of a rate sweep or a search, and the closed-loop runs they start from (absent: a plain run).")),
    clientProcesses: Type.Optional(Type.Integer({ minimum: 2, description: "Client processes on this machine the sessions were split over (their results merged exactly: run.parts); absent: one, the runner's own process." })),
    agents: Type.Optional(Type.Integer({ minimum: 1, description: "Agents the sessions were split over (through Redis: run.parts has each one's share and figures); absent: the load came from this machine." })),
    chat: Type.Optional(
      described(
        ChatLoadSchema,
        "Present for a chat-fanout run (--protocol chat): `connections` members form one room, `sizeBytes` is the frame payload, and the figures count deliveries (messages = frames × members reached) with latency = fan-out delivery latency, µs.",
      ),
    ),
  },
  text("What one run measured against: one point of the sweep."),
);

export const LatencySummaryUsSchema = Type.Object(
  {
    count: Count("Values recorded."),
    min: Type.Number(),
    p50: Type.Number(),
    p90: Type.Number(),
    p99: Type.Number(),
    p99_9: Type.Number(),
    max: Type.Number(),
    mean: Type.Number(),
  },
  text("Latency summary, µs, read from one merged histogram (never averaged percentiles)."),
);

const NullableLatency = (description: string) => Nullable(LatencySummaryUsSchema, description);

export const EncodedHistogramSchema = Type.Object(
  {
    encoding: Type.Literal("hdrhistogram-v2-compressed-base64", text("HdrHistogram V2 compressed, base64 (hdr-histogram-js encodeIntoCompressedBase64).")),
    unit: Type.Literal("us", text("Unit of the recorded values.")),
    data: Type.String(),
  },
  text("An HdrHistogram kept whole, so later tools can merge and redraw it without re-running."),
);

export const ErrorFiguresSchema = Type.Object({ ...ErrorCountsProps, total: Count("The sum of the kinds.") }, text("Error counts by kind, plus their sum."));

export const ContextSwitchesSchema = Type.Object(
  { voluntary: Count("The thread waited."), involuntary: Count("The thread was preempted."), total: Count("voluntary + involuntary") },
  text("Voluntary and involuntary context switches."),
);

const PerMessage = (description: string) => Type.Number({ minimum: 0, description });
export const ContextSwitchesPerMessageSchema = Type.Object(
  { voluntary: PerMessage("Voluntary switches per message."), involuntary: PerMessage("Involuntary switches per message."), total: PerMessage("voluntary + involuntary, per message") },
  text("Context switches per message (fractions)."),
);

export const TimelineSchema = Type.Object(
  {
    intervalMs: Type.Number({ exclusiveMinimum: 0 }),
    messages: Type.Array(Type.Integer({ minimum: 0 })),
    measureStartIndex: Type.Integer({ minimum: 0, description: "Index of the first interval inside the measured window." }),
  },
  text("Completed messages per fixed interval, from the client's start (warm-up included)."),
);

export const LatencyIntervalSchema = Type.Object(
  {
    count: Count("Round trips completed in the interval."),
    p50Us: Nullable(Type.Number(), "Median round trip, µs; null when count is 0."),
    p99Us: Nullable(Type.Number(), "p99, µs; null when count is 0."),
    p99_9Us: Nullable(Type.Number(), "p99.9, µs; null when count is 0."),
    maxUs: Nullable(Type.Number(), "Largest round trip, µs; null when count is 0."),
    data: Type.String(text("The interval's histogram (see `encoding`), to merge or redraw exactly.")),
  },
  text("One interval of the latency timeline."),
);

export const LatencyTimelineSchema = Type.Object(
  {
    originEpochMs: Num("Start of interval 0, epoch ms: the client's start, or the origin shared by every client of one load (their intervals then merge exactly, interval by interval)."),
    intervalMs: Type.Number({ exclusiveMinimum: 0, description: "Width of every interval, ms." }),
    measureStartIndex: Count("Index of the interval the measured window opened in."),
    encoding: Type.Literal("hdrhistogram-v2-compressed-base64", text("How each interval's `data` is encoded (HdrHistogram V2 compressed, base64).")),
    unit: Type.Literal("us", text("Unit of the recorded values.")),
    intervals: Type.Array(LatencyIntervalSchema, text("Interval k holds the round trips that completed in [origin + k·intervalMs, origin + (k+1)·intervalMs), from the client's start to its stop (warm-up included, the last one partial).")),
  },
  text("Round-trip latency per interval of wall time through the run (open loop: corrected), so a stall shows where it happened."),
);

export const OpenLoopFiguresSchema = Type.Object(
  {
    targetMessagesPerSec: Type.Number(),
    achievedMessagesPerSec: Type.Number(),
    achievedRatio: Num("achieved / target."),
    clientSendLagUs: Type.Optional(
      NullableLatency(
        "How late the client itself sent the messages whose send time came while their session was idle (its timers, its loop, its CPU; the server's delay is not in it), µs; null when none. Absent from outside tools and files written before it existed.",
      ),
    ),
  },
  text("Open-loop rates, messages per second."),
);

export const RUN_FLAGS = [
  "CLIENT-SATURATED",
  "CLIENT-STARVED",
  "MACHINE-BUSY",
  "MISMATCH",
  "ERRORS",
  "NO-MESSAGES",
  "SESSIONS-MISSING",
  "SESSIONS-UNSERVED",
  "BELOW-TARGET-RATE",
  "CLIENT-BEHIND",
  "SERVER-EXIT",
  "SERVER-FD-LIMIT",
  "PARTIAL",
  "PART-LATE",
  "PART-LOST",
] as const;

export const RunFlagSchema = Literals(
  RUN_FLAGS,
  "A warning a run can carry: CLIENT-SATURATED (the client may have been the bottleneck), CLIENT-STARVED (a client worker thread waited for a CPU 15 % of the window or more, 200 µs or more each time: throughput is a floor), MACHINE-BUSY (other processes used 15 % or more of the run's CPUs, reports/rules.ts), MISMATCH (an echo came back different), ERRORS (errors other than mismatches inside the window), NO-MESSAGES, SESSIONS-MISSING (fewer sessions connected at the end than asked), SESSIONS-UNSERVED (some sessions completed no echo), BELOW-TARGET-RATE (open loop under 90 % of the target), CLIENT-BEHIND (open loop: the client itself sent late, so its own delay is a real part of the latency it reports; see reports/derive.ts), SERVER-EXIT (the server did not exit cleanly when asked to stop), " +
    "SERVER-FD-LIMIT (sessions were missing while the server held as many files as its open-file limit allows: it refused connections for lack of file descriptors), " +
    "PARTIAL (the load was split over processes or agents and some part returned nothing or failed, or measured a shorter window: the figures are the rest's; run.parts names it), PART-LATE (a part started its load or its window late), PART-LOST (a part's link to the coordinator dropped or went silent mid-run).",
);

const NullableCount = (description: string) => Nullable(Type.Number({ minimum: 0 }), description);

export const FiguresSchema = Type.Object(
  {
    durationSec: Num("Measured window as actually timed, seconds (close to the requested duration)."),
    warmupSec: Num("Warm-up as actually timed, seconds."),
    messages: Count("Messages echoed and verified inside the window."),
    bytes: Count("Bytes echoed and verified inside the window."),
    messagesPerSec: Type.Number({ minimum: 0 }),
    bytesPerSec: Type.Number({ minimum: 0 }),
    latencyUs: NullableLatency("Round trip per message inside the window, µs; null when no message completed. Open loop: timed from the intended send time (corrected for coordinated omission, as wrk2 does)."),
    latencyUncorrectedUs: NullableLatency("Open loop only: round trip from the actual send (uncorrected), µs; null in closed loop or without messages."),
    latencyUncorrectedHistogram: Nullable(EncodedHistogramSchema, "Open loop only: the uncorrected histogram; null in closed loop."),
    openLoop: Nullable(OpenLoopFiguresSchema, "Open loop only: target vs achieved rate; null in closed loop."),
    connectLatencyUs: NullableLatency("connect() to established, µs, over the whole run (warm-up included); null when nothing connected."),
    firstEchoLatencyUs: Type.Optional(
      NullableLatency(
        "connect() to the first echo of that connection, µs, for first echoes inside the window: what a new client waits before it is served (the kernel completes a handshake from the listen backlog whether or not the server has called accept(), so connect latency alone cannot show a slow accept). null when no connection got its first echo in the window (long-lived sessions), for outside clients and chat. Absent in files written before it existed.",
      ),
    ),
    latencyHistogram: described(EncodedHistogramSchema, "The merged round-trip histogram of the window."),
    connectLatencyHistogram: described(EncodedHistogramSchema, "The merged connect-latency histogram of the whole run."),
    firstEchoLatencyHistogram: Type.Optional(Nullable(EncodedHistogramSchema, "The merged first-echo histogram of the window (see firstEchoLatencyUs); null when not recorded.")),
    errors: described(ErrorFiguresSchema, "Errors inside the window, by kind."),
    errorsTotal: described(ErrorFiguresSchema, "Errors over the whole run, warm-up included, by kind."),
    sessionsConnected: Count("Sessions connected when the window closed (compare with config.connections)."),
    sessionsServed: Count("Sessions that completed at least one echo inside the window."),
    sessionsNotServed: Count("config.connections - sessionsServed: sessions the server never answered inside the window."),
    sessionsTimedOut: Count("Sessions that had at least one echo time out inside the window."),
    connects: Count("Connections established inside the window (reconnects included)."),
    connectsPerSec: Type.Number({ minimum: 0 }),
    connectsTotal: Count("Connections established over the whole run, warm-up included."),
    serverCpuSeconds: NullableCount("Server process CPU time (user + system) inside the window, seconds: its threads' schedstat ns (the clock ticks when a thread ended inside the window; see derive.ts)."),
    serverCpuUsPerMessage: NullableCount("serverCpuSeconds per message, µs; null when no message completed or the server was not measured."),
    serverContextSwitches: Nullable(ContextSwitchesSchema, "Context switches of the server's threads inside the window (threads that exited mid-window are not counted)."),
    serverContextSwitchesPerMessage: Nullable(ContextSwitchesPerMessageSchema, "serverContextSwitches per message; null when no message completed or the server was not measured."),
    serverContextSwitchesByThread: Type.Optional(
      Nullable(
        Type.Record(Type.String(), ContextSwitchesSchema),
        'serverContextSwitches summed by thread name: the thread\'s comm ("iocp-worker-N" and "iocp-acceptor" for the iocp model\'s threads, "node" for Node\'s helper threads), "main" for the process\'s first thread; null when the server was not measured. Absent in files written before it existed.',
      ),
    ),
    serverRssBytes: NullableCount("Largest resident set size sampled during the window (VmRSS), bytes."),
    serverPeakRssBytes: NullableCount("Peak resident set size over the server's life (VmHWM) at the window's end, bytes."),
    serverThreadCount: NullableCount("Server threads (tasks) at the window's end."),
    serverIdleRssBytes: Type.Optional(NullableCount("Server RSS once it listened, before any session connected, bytes.")),
    serverRssBytesPerSession: Type.Optional(
      NullableCount(
        "(serverRssBytes - serverIdleRssBytes) / the connections the server held (files it opened since it idled; else sessionsConnected): what the server pays in memory per connection under this load, bytes; null when not measured or it held none.",
      ),
    ),
    serverOpenFiles: Type.Optional(NullableCount("Files the server process held open at the window's end.")),
    serverOpenFileLimit: Type.Optional(NullableCount("The server process's open-file limit (soft RLIMIT_NOFILE).")),
    clientRssBytesPerSession: Type.Optional(
      NullableCount("Client RSS growth from before its sessions started to the window's end, per session it runs (config.connections), bytes (several client processes or agents: their growth summed over their sessions); null when not measured."),
    ),
    serverRunQueueWaitSec: Type.Optional(
      NullableCount("Time the server's threads spent runnable but waiting for a CPU inside the window, summed over threads, seconds (schedstat). Absent in files written before it existed."),
    ),
    clientCpuSeconds: Type.Number({ minimum: 0, description: "Client process CPU time (all threads, user + system) inside the window, seconds." }),
    clientUsableCores: Type.Integer({ minimum: 1, description: "CPUs the client may use: its pinned set, else every usable core." }),
    clientCpuUtilisation: Type.Number({ minimum: 0, description: "clientCpuSeconds / (window × clientUsableCores), 0..1." }),
    clientThreadMaxUtilisation: NullableCount("Busiest client worker thread's CPU time (schedstat) / window, 0..1 (null if no worker thread could be read)."),
    clientSaturated: Type.Boolean(text("The client may have limited the run (see derive.ts for the rule).")),
    clientSaturatedReason: Nullable(Type.String(), "Why clientSaturated is true, in words; null when false."),
    clientRunQueueWaitMaxShare: Type.Optional(
      NullableCount("Largest share of the window a client worker thread waited for a CPU (schedstat run-queue time), 0..1; null if none could be read. Absent in files written before it existed."),
    ),
    clientRunQueueWaitPerSliceUs: Type.Optional(
      NullableCount("That thread's mean run-queue wait each time it got a CPU, µs (schedstat wait ÷ timeslices); null if unknown. Absent in files written before it existed."),
    ),
    otherCpuShare: Type.Optional(
      NullableCount("Share of the run's CPUs (pinned sets, else all) other processes used in the window, 0..1 (/proc/stat; see derive.ts); null when not read. Absent in files written before it existed."),
    ),
    timeline: TimelineSchema,
    latencyTimeline: Type.Optional(described(LatencyTimelineSchema, "Round-trip latency per second through the run. Absent from outside tools, chat rooms and files written before it existed.")),
    flags: Type.Array(RunFlagSchema, text("Warnings, in a fixed order; [] when none.")),
    chat: Type.Optional(ChatFiguresSchema),
  },
  text("The figures of one run. Server-side figures are null when not measurable (--target without --server-pid)."),
);

export const PartRecordSchema = Type.Object(
  {
    name: Type.String(text('The part: "process N" on this machine, or the agent\'s --name.')),
    kind: Literals(["process", "agent"], "A client process on this machine (--client-processes) or an agent through Redis (--agents)."),
    host: Type.String(text("Host name of the machine it ran on.")),
    pid: Nullable(Type.Integer(), "Its process id on that machine, or null when it never answered."),
    sessions: Type.Integer({ minimum: 0, description: "Sessions it ran (its share of config.connections)." }),
    clientThreads: Type.Integer({ minimum: 1, description: "Its client worker threads." }),
    sourceHosts: Type.Array(Type.String(), text("Source addresses its sessions connected from; [] = the kernel's choice.")),
    status: Literals(["ok", "failed", "missing"], "ok: it measured its window and handed its figures over; failed: it reported an error; missing: nothing came back (killed, or its link was lost)."),
    error: Type.Optional(Type.String(text("Why it failed or is missing."))),
    problems: Type.Array(Type.String(), text('What the run\'s flags say about this part, each "FLAG: in words" ("PART-LATE: its sessions started 0.42 s after the common start", ...); [] when none.')),
    clockOffsetMs: Nullable(Type.Number(), "Its clock minus the coordinator's reference (Redis TIME for agents), ms, measured at its start; 0 for processes on this machine; null when unknown. Only the alignment of intervals depends on it: every latency is timed on one host."),
    clockRttMs: Nullable(Type.Number(), "Round trip of the clock reading the offset came from, ms (the offset is good to about half of it); null when unknown."),
    loadStartLagMs: Nullable(Type.Number(), "How long after the common start time its sessions started, ms."),
    windowStartLagMs: Nullable(Type.Number(), "How long after the common time its measured window opened, ms."),
    figures: Nullable(FiguresSchema, "Its own figures (client side only: server fields are null), from which the run's are merged exactly; null when it returned none."),
  },
  text("One part of a load split over client processes or agents: its share, its clock, and what it measured."),
);

export const ServerExitSchema = Type.Object(
  {
    code: Nullable(Type.Integer(), "Exit code, or null when it ended by a signal."),
    signal: Nullable(Type.String(), "Signal that ended it, or null."),
    killed: Type.Boolean(text("It had to be killed with SIGKILL after the grace period.")),
  },
  text("How a server process ended."),
);

export const ProfileOutcomeSchema = Type.Object(
  {
    tool: Literals(["doctor", "flame"]),
    html: Nullable(Type.String(), "The HTML report, relative to the results directory; null when clinic produced none."),
    error: Type.Optional(Type.String(text("Why there is no HTML (clinic failed, or was killed at the time limit)."))),
  },
  text("A clinic profile of a run's server."),
);

export const OkRunSchema = Type.Object(
  {
    status: Type.Literal("ok"),
    config: RunConfigSchema,
    figures: FiguresSchema,
    serverExit: Type.Optional(described(ServerExitSchema, "How the server process ended when stopped (absent for an external server).")),
    startedAt: Type.String(text("Wall-clock start of the run, ISO 8601 UTC.")),
    profile: Type.Optional(described(ProfileOutcomeSchema, "--profile: what clinic produced for this run.")),
    parts: Type.Optional(Type.Array(PartRecordSchema, text("The load split over client processes or agents: each part's share and figures (the run's figures are their exact merge); absent when one process ran the load."))),
  },
  text("A run that completed its window."),
);

export const FAILURE_KINDS = ["server-start", "server-died", "server-unresponsive", "client", "interrupted", "overran", "internal", "skipped"] as const;

export const FailureKindSchema = Literals(
  FAILURE_KINDS,
  "Where a run failed: server-start (did not start or listen in time), server-died (died during the run), server-unresponsive (stopped answering: frozen, or no echo while sessions timed out), client (the load client failed), interrupted (Ctrl-C), overran (the run outlived warm-up + window + the watchdog's grace and was ended), internal (a bug: the message says what), skipped (not run: its rate is a share of a closed-loop maximum whose run failed).",
);

export const FailedRunSchema = Type.Object(
  {
    status: Type.Literal("failed"),
    config: RunConfigSchema,
    error: Type.String(text('One line naming the problem, e.g. "server died mid-run (exit code 70): ...".')),
    failure: FailureKindSchema,
    figures: Nullable(FiguresSchema, "What was measured before the failure (e.g. a server that died mid-window), or null."),
    serverExit: Type.Optional(ServerExitSchema),
    startedAt: Type.String(),
    parts: Type.Optional(Type.Array(PartRecordSchema, text("As in an ok run: what each part of a split load did."))),
  },
  text("A run that could not complete; a result, not a thrown error."),
);

export const RunSchema = Type.Union([OkRunSchema, FailedRunSchema], text("One run: tagged by status."));

export const ProbeSchema = Type.Object(
  {
    run: Type.Integer({ minimum: 0, description: "Index of the probe's run in `runs`." }),
    offeredPerSec: Type.Number(text("The open-loop rate offered, msg/s.")),
    achievedPerSec: Nullable(Type.Number(), "The rate achieved inside the window, msg/s; null when nothing was measured."),
    outcome: Literals(
      ["met", "missed", "client-limited", "disturbed", "failed"],
      '"met": every condition held; "missed": the server missed the objective; "client-limited": the objective was missed while the client itself was a limit (CLIENT-SATURATED, CLIENT-STARVED, CLIENT-BEHIND), so it says nothing of the server; "disturbed": missed while other processes took the run\'s CPUs (MACHINE-BUSY) and the client was not a limit: the server had less CPU than the run gave it, so the miss says nothing of its limit; "failed": the run failed for a reason that is not the server\'s (the client, the harness).',
    ),
    reasons: Type.Array(Type.String(), text("Why, one line per condition missed or flag (empty when met).")),
  },
  text("One rate a search tried: a full run (server start, warm-up, window)."),
);

export const SearchResultSchema = Type.Object(
  {
    model: Type.String(),
    threads: Nullable(ThreadsSettingSchema),
    connections: Type.Integer({ minimum: 1 }),
    sizeBytes: Type.Integer({ minimum: 1 }),
    work: Nullable(Type.String(), 'Per-message server work as a label ("cpu:100us"), or null.'),
    repeat: Type.Integer({ minimum: 1, description: "Searches of one configuration are repeated independently (--repeats): which one this is." }),
    closedLoopRun: Nullable(Type.Integer({ minimum: 0 }), "Index of the closed-loop run the search started from, or null when there was none."),
    closedLoopMessagesPerSec: Nullable(Type.Number(), "Its msg/s (the closed-loop maximum), or null when that run failed."),
    status: Literals(
      ["running", "found", "client-limited", "disturbed", "never-met", "above-ceiling", "failed"],
      '"found": bracketed to the resolution; "client-limited": stopped at a probe where the client was the limit, so foundPerSec is only a floor; "disturbed": stopped at a probe still disturbed (other processes took the CPUs) after its retries, so foundPerSec is only a floor; "never-met": even the lowest rate allowed missed the objective; "above-ceiling": even the highest rate allowed met it; "failed": no closed-loop maximum to start from, or a run failed for a reason not the server\'s; "running": not finished (an interrupted sweep).',
    ),
    foundPerSec: Nullable(Type.Number(), "The highest rate that met the objective (every probe below it met it too), msg/s; null when none did."),
    lowPerSec: Nullable(Type.Number(), "The interval the limit lies in: the rate that met the objective (= foundPerSec) ..."),
    highPerSec: Nullable(Type.Number(), "... and the lowest rate above it that the server missed, msg/s; null when none was (client-limited, disturbed, above-ceiling)."),
    note: Type.String(text("The outcome in one sentence.")),
    probes: Type.Array(ProbeSchema, text("Every probe, in the order run.")),
  },
  text("One search (--find-max-rate) for the highest open-loop rate at which a configuration meets the objective: bracketed by doubling or halving from its closed-loop maximum, then bisected in equal ratios to the resolution."),
);

export const ResultsFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String(text("Where this file's JSON Schema is (schemas/results.schema.json of the iobench that wrote it), for editors; ignored when read."))),
    schema: Type.Literal(RESULTS_SCHEMA),
    version: Type.Literal(RESULTS_VERSION),
    createdAt: Type.String(text("When the sweep started, ISO 8601 UTC.")),
    updatedAt: Type.String(text("When the file was last rewritten (after each run), ISO 8601 UTC.")),
    complete: Type.Boolean(text("false while the sweep is running; stays false in a file left by a sweep that was interrupted or crashed, so a reader knows runs are missing.")),
    tool: Type.Object({ name: Type.Literal("iobench"), version: Type.String() }, text("The program that wrote the file.")),
    environment: EnvironmentSchema,
    options: described(BenchOptionsSchema, "Every bench option, as parsed and defaulted."),
    runs: Type.Array(RunSchema, text("One entry per run, in the order they ran (round-robin over configurations).")),
    searches: Type.Optional(Type.Array(SearchResultSchema, text("--find-max-rate: one search per configuration and repeat, with every probe (absent: no search)."))),
  },
  { title: "iobench results.json", description: "One sweep: its options, the machine, and every run measured so far." },
);

// ---- baselines/NAME.json ---------------------------------------------------------------------------

export const SpreadSchema = Type.Object(
  {
    n: Type.Integer({ minimum: 0, description: "Repeats the figure was measured in (null figures left out)." }),
    median: Type.Number(),
    min: Type.Number(),
    max: Type.Number(),
    ciLow: Num("Low end of the order-statistic interval of the median (reports/stats.ts medianInterval)."),
    ciHigh: Num("High end of the order-statistic interval of the median."),
    ciConfidence: Num("The interval's true coverage: 0.95 from 6 repeats on, less below (0.75 at 3, 0.9375 at 5); 0 for one repeat."),
    dispersion: Nullable(Type.Number(), "Geometric coefficient of variation of the repeats (exp of the sd of their logs, minus 1); null for one."),
  },
  text("Median, min–max and the median's interval over the repeats."),
);

export const ConfigKeySchema = Type.Object(
  {
    model: Type.String(),
    threads: Nullable(ThreadsSettingSchema),
    connections: Type.Integer({ minimum: 1 }),
    sizeBytes: Type.Integer({ minimum: 1 }),
    work: Nullable(Type.String(), "Server work per message as written (block:2ms), or null: apart from `setup`, since `check --work` injects it on purpose."),
    setup: Type.String(text("Every other field of the run's config but the per-run ones (index, repeat, port, serverPid), as sorted JSON.")),
  },
  text("What identifies one configuration across two sweeps: everything that changes the load or the measuring tool."),
);

export const RepeatSchema = Type.Object(
  {
    round: Type.Integer({ minimum: 1, description: "1-based round the repeat ran in (pairs repeats of interleaved sweeps)." }),
    ok: Type.Boolean(text('The run completed its window (status "ok").')),
    error: Nullable(Type.String(), "Why it failed, when it did."),
    rate: Nullable(Type.Number(), "Messages per second; null when not measured."),
    p99: Nullable(Type.Number(), "p99 round trip, µs; null when no message completed."),
    cpu: Nullable(Type.Number(), "Server CPU µs per message; null when not measured."),
    messages: Count("Messages inside the window."),
    mismatches: Count("Echoes that came back different (whole run)."),
    errors: Count("Other errors inside the window (timeouts, resets, connect failures)."),
    clientSaturated: Type.Boolean(),
    flags: Type.Array(Type.String(), text("The run's warning flags, as results.json has them.")),
    run: Type.Optional(Type.Integer({ minimum: 1, description: "1-based position of the run in its sweep (config.index + 1), to name it." })),
  },
  text("One repeat of one configuration, reduced."),
);

export const FigureNameSchema = Literals(["rate", "p99", "cpu"]);

export const BaselineConfigSchema = Type.Object(
  {
    key: ConfigKeySchema,
    summary: Type.Record(FigureNameSchema, Nullable(SpreadSchema), text("Per figure over the repeats: median, min, max, the median's interval and its confidence (null: not measured).")),
    repeats: Type.Array(RepeatSchema, text("Every repeat, raw: what a check compares against.")),
  },
  text("One configuration of a baseline."),
);

export const BaselineFileSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String(text("Where this file's JSON Schema is, for editors; ignored when read."))),
    schema: Type.Literal(BASELINE_SCHEMA),
    version: Type.Literal(BASELINE_VERSION),
    name: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$" }),
    createdAt: Type.String(text("When the runs were made, ISO 8601 UTC.")),
    tool: Type.Object({ name: Type.Literal("iobench"), version: Type.String() }),
    environment: described(EnvironmentSchema, "The machine and checkout the runs were made on (gitCommit says which code)."),
    options: described(BenchOptionsSchema, "The bench options, as parsed: `check --baseline` re-runs these (but its own --out)."),
    configurations: Type.Array(BaselineConfigSchema),
  },
  {
    title: "iobench baseline",
    description: "A run kept to compare later runs with (baselines/NAME.json): the configuration, the machine, and per configuration a summary and every repeat's raw figures.",
  },
);

// ---- the types ---------------------------------------------------------------------------------------

export type Scenario = Static<typeof ScenarioSchema>;
export type ScenarioServer = Static<typeof ScenarioServerSchema>;
export type CommandServer = Static<typeof CommandServerSchema>;
export type MessageSize = Static<typeof MessageSizeSchema>;
export type ResultsFile = Static<typeof ResultsFileSchema>;
export type Environment = Static<typeof EnvironmentSchema>;
export type ThreadsSetting = Static<typeof ThreadsSettingSchema>;
export type CompletionPortConfig = Static<typeof CompletionPortConfigSchema>;
export type BenchOptions = Static<typeof BenchOptionsSchema>;
export type SweepPart = Static<typeof SweepPartSchema>;
export type LoadOptions = Static<typeof LoadOptionsSchema>;
export type ScenarioRecord = Static<typeof ScenarioRecordSchema>;
export type RunLoad = Static<typeof RunLoadSchema>;
export type RunConfig = Static<typeof RunConfigSchema>;
export type ChatLoad = Static<typeof ChatLoadSchema>;
export type ChatFigures = Static<typeof ChatFiguresSchema>;
export type Pinning = Static<typeof PinningSchema>;
export type LatencySummaryUs = Static<typeof LatencySummaryUsSchema>;
export type EncodedHistogram = Static<typeof EncodedHistogramSchema>;
export type ErrorFigures = Static<typeof ErrorFiguresSchema>;
export type ContextSwitches = Static<typeof ContextSwitchesSchema>;
export type ContextSwitchesPerMessage = Static<typeof ContextSwitchesPerMessageSchema>;
export type Timeline = Static<typeof TimelineSchema>;
export type OpenLoopFigures = Static<typeof OpenLoopFiguresSchema>;
export type RateSweep = Static<typeof RateSweepSchema>;
export type SloCondition = Static<typeof SloConditionSchema>;
export type Slo = Static<typeof SloSchema>;
export type SearchOptions = Static<typeof SearchOptionsSchema>;
export type LoadPoint = Static<typeof LoadPointSchema>;
export type Probe = Static<typeof ProbeSchema>;
export type SearchResult = Static<typeof SearchResultSchema>;
export type LatencyTimeline = Static<typeof LatencyTimelineSchema>;
export type LatencyInterval = Static<typeof LatencyIntervalSchema>;
export type RunFlag = Static<typeof RunFlagSchema>;
export type PartRecord = Static<typeof PartRecordSchema>;
export type AgentsOption = Static<typeof AgentsOptionSchema>;
export type Figures = Static<typeof FiguresSchema>;
export type OkRun = Static<typeof OkRunSchema>;
export type ProfileOutcome = Static<typeof ProfileOutcomeSchema>;
export type FailedRun = Static<typeof FailedRunSchema>;
export type FailureKind = Static<typeof FailureKindSchema>;
export type ServerExit = Static<typeof ServerExitSchema>;
export type Run = Static<typeof RunSchema>;
export type BaselineConfig = Static<typeof BaselineConfigSchema>;
export type BaselineFile = Static<typeof BaselineFileSchema>;

/** LoadOptions of the seed's pattern: what bench runs without --scenario or load flags. */
export const SEED_LOAD: Readonly<LoadOptions> = {
  rampUpSec: 0,
  connectRatePerSec: 0,
  sizeDistribution: null,
  messagesPerSession: 0,
  thinkTimeMs: 0,
  loop: "closed",
  ratePerSessionPerSec: null,
  rateTotalPerSec: null,
  protocol: "echo",
};
