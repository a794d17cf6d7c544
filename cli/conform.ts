/**
 * The conform command: the conformance suite iobench's own models pass
 * (clients/conform/), run against any server speaking one of its
 * protocols: one already running (--target host:port), one of the five
 * models, or your own server from its command line (--model cmd:NAME
 * --server-cmd NAME='...'). One line per check on stdout, pass or FAIL with
 * what was seen; exit 1 when a check failed.
 */
import type { Options } from "yargs";
import { CHECKS } from "../clients/conform/checks.js";
import { resultLine, type Check, type CheckResult } from "../clients/conform/suite.js";
import { RunFailure, UsageError } from "../contracts/errors.js";
import { DEFAULT_SERVER_OPTIONS, type ServerOptions } from "../contracts/server.js";
import { conform, type ConformServer } from "../runner/conform.js";
import { ServerStartError } from "../runner/server-process.js";
import { isCommandModel } from "../servers/models.js";
import { chatBufferFloor, checkServerOptions } from "../servers/options.js";
import { COMMAND_MODEL_FLAGS, commandModels } from "./command-models.js";
import { bytes, hostPort, integer, list, models, numericHost, scalar, threadsSetting, type RawFlag } from "./parse.js";

/** The longest a started server may take to listen, ms. */
const START_TIMEOUT_MS = 15_000;
const PROTOCOLS = Object.keys(CHECKS) as (keyof typeof CHECKS)[];

/** yargs definitions of every conform flag. */
export function conformFlags(): Record<string, Options> {
  const str = (description: string, defaultDescription?: string): Options => ({ type: "string", requiresArg: true, description, ...(defaultDescription ? { defaultDescription } : {}) });
  return {
    target: str("check a server that is already running, at host:port"),
    "server-pid": str("with --target: the server's pid, so the checks can watch its memory", "none: memory not checked"),
    model: str("check one of iobench's models, or your own (cmd:NAME with --server-cmd), started for the checks and stopped after", "the one --server-cmd"),
    ...COMMAND_MODEL_FLAGS,
    threads: str(`threads of the server iobench starts; "per-connection" for the blocking model`, "2; blocking with chat or chat-raw: per-connection"),
    host: str("numeric address the started server listens on", DEFAULT_SERVER_OPTIONS.host),
    protocol: { ...str("what the server speaks: the suite to run", "echo"), choices: PROTOCOLS },
    "max-frame": str("chat: the server's largest frame payload, bytes (a frame one byte longer must close its sender)", String(DEFAULT_SERVER_OPTIONS.maxFrameBytes)),
    only: str(`run only these checks, a comma list of their names (${PROTOCOLS.map((p) => `${p}: ${CHECKS[p].map((c) => c.id).join(" ")}`).join("; ")})`, "all of the protocol's"),
  };
}

/** What the conform command will do. */
export interface ConformOptions {
  server: ConformServer;
  /** How the server is named in the output. */
  label: string;
  protocol: keyof typeof CHECKS;
  checks: readonly Check[];
  maxFrameBytes: number;
}

/** Checks conform flags into ConformOptions. */
export function conformOptions(args: Record<string, RawFlag>): ConformOptions {
  const protocol = scalar(args.protocol) ?? "echo";
  if (!(PROTOCOLS as string[]).includes(protocol)) throw new UsageError(`--protocol must be ${PROTOCOLS.join(", ")}, got '${protocol}'`);
  const suite = CHECKS[protocol as keyof typeof CHECKS];
  const only = list("only", args.only);
  for (const id of only ?? []) if (!suite.some((c) => c.id === id)) throw new UsageError(`--only: ${protocol} has no check '${id}' (its checks: ${suite.map((c) => c.id).join(", ")})`);
  const checks = only === undefined ? suite : suite.filter((c) => only.includes(c.id));
  const maxFrameBytes = bytes("max-frame", scalar(args["max-frame"]) ?? String(DEFAULT_SERVER_OPTIONS.maxFrameBytes), 1, 16 * 1024 * 1024);
  const host = numericHost("host", scalar(args.host) ?? DEFAULT_SERVER_OPTIONS.host);
  const commands = commandModels(args);
  const target = scalar(args.target);
  const base = { protocol: protocol as keyof typeof CHECKS, checks, maxFrameBytes };

  if (target !== undefined) {
    if (args.model !== undefined || commands.size > 0) throw new UsageError("--target checks a running server: give it, or --model / --server-cmd, not both");
    const { host: targetHost, port } = hostPort("target", target);
    const pidText = scalar(args["server-pid"]);
    const pid = pidText === undefined ? null : integer("server-pid", pidText, 1, 2 ** 22);
    return { ...base, server: { kind: "target", host: numericHost("target", targetHost), port, pid }, label: target };
  }
  if (args["server-pid"] !== undefined) throw new UsageError("--server-pid applies with --target only");
  let named = list("model", args.model);
  if (named === undefined) {
    if (commands.size !== 1) throw new UsageError("give the server to check: --target host:port, --model M, or one --server-cmd NAME='...'");
    named = [`cmd:${[...commands.keys()][0]!}`];
  }
  const resolved = models(named, new Set(commands.keys()));
  if (resolved.length !== 1) throw new UsageError("conform checks one server: give one --model");
  const model = resolved[0]!;
  const threadsText = scalar(args.threads);
  const threads = threadsText === undefined ? defaultThreads(model, protocol) : threadsSetting(threadsText);
  if (isCommandModel(model)) {
    if (threads === "per-connection") throw new UsageError(`--threads per-connection applies to the blocking model only, not ${model} (a command is given a number)`);
    const name = model.slice("cmd:".length);
    return { ...base, server: { kind: "command", spec: { name, command: commands.get(name)!.command }, host, threads, startTimeoutMs: START_TIMEOUT_MS }, label: model };
  }
  const options: ServerOptions = { ...DEFAULT_SERVER_OPTIONS, model, threads, host, protocol: protocol as ServerOptions["protocol"], maxFrameBytes };
  if (protocol === "chat" || protocol === "chat-raw") options.bufferBytes = Math.max(options.bufferBytes, chatBufferFloor(maxFrameBytes));
  const problem = checkServerOptions(options, { threads: "--threads", host: "--host", protocol: "--protocol", maxFrameBytes: "--max-frame" });
  if (problem !== null) throw new UsageError(problem);
  return { ...base, server: { kind: "model", options, startTimeoutMs: START_TIMEOUT_MS }, label: `${model} (${threads === "per-connection" ? "a thread per connection" : `${threads} threads`})` };
}

/**
 * The threads of a server conform starts: 2, so that work crosses threads;
 * but a chat room on a blocking pool of 2 would let only 2 members in at
 * once (each holds its thread), so blocking chat gets a thread per member.
 */
function defaultThreads(model: string, protocol: string): number | "per-connection" {
  return model === "blocking" && (protocol === "chat" || protocol === "chat-raw") ? "per-connection" : 2;
}

/** Runs the checks; resolves with the exit status (0 all passed, 1 one failed). */
export async function conformCommand(o: ConformOptions, io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): Promise<number> {
  let results: CheckResult[];
  try {
    results = await conform(o.server, o.checks, o.maxFrameBytes, {
      onStart: (where) => io.stderr.write(`iobench conform: ${o.label} at ${where}, protocol ${o.protocol}: ${o.checks.length} checks\n`),
      onResult: (r) => io.stdout.write(`${resultLine(r)}\n`),
    });
  } catch (err) {
    if (err instanceof ServerStartError) throw new RunFailure(err.message);
    throw err;
  }
  const failed = results.filter((r) => !r.ok);
  io.stderr.write(
    failed.length === 0 ? `iobench conform: all ${results.length} checks passed\n` : `iobench conform: ${failed.length} of ${results.length} checks failed: ${failed.map((r) => r.id).join(", ")}\n`,
  );
  return failed.length === 0 ? 0 : 1;
}
