/**
 * Command models on the command line: `--server-cmd NAME='./my-server
 * --port {port} --threads {threads}'` (repeatable) declares the model
 * `cmd:NAME`; `--server-protocols NAME=echo,http` says what it speaks
 * (echo unless told). A scenario file's `servers` section declares them
 * the same way; a flag wins over the scenario's entry of the same name.
 */
import type { Options } from "yargs";
import { UsageError } from "../contracts/errors.js";
import type { ServerOptions } from "../contracts/server.js";
import { COMMAND_NAME_PATTERN, type CommandServer } from "../reports/schema.js";
import type { LoadedScenario } from "../scenarios/load.js";
import { PROTOCOLS } from "../servers/models.js";
import type { RawFlag } from "./parse.js";

/** What a command model is: its command line (placeholders kept) and the protocols it speaks. */
export interface CommandDeclaration {
  command: string;
  protocols: ServerOptions["protocol"][];
}

/** Declared command models, by NAME (without "cmd:"). */
export type CommandModels = ReadonlyMap<string, CommandDeclaration>;

const NAME = new RegExp(COMMAND_NAME_PATTERN);

export const COMMAND_MODEL_FLAGS: Record<string, Options> = {
  "server-cmd": {
    type: "string",
    requiresArg: true,
    description:
      "declare your own server as model cmd:NAME, as NAME='command line' (repeatable): {port}, {threads} and {host} are filled in per run; " +
      "it is started and stopped like a built-in model and measured over its whole process tree (see docs/own-server.md)",
  },
  "server-protocols": {
    type: "string",
    requiresArg: true,
    description: "what a --server-cmd model speaks, as NAME=echo,http,chat,chat-raw (repeatable)",
    defaultDescription: "echo",
  },
};

/** NAME=VALUE items of a repeatable flag, split at the first "=". */
function pairs(flag: string, raw: RawFlag): [string, string][] {
  if (raw === undefined) return [];
  return (Array.isArray(raw) ? raw : [raw]).map((item) => {
    const text = String(item);
    const eq = text.indexOf("=");
    if (eq <= 0) throw new UsageError(`--${flag} must be NAME=${flag === "server-cmd" ? "'command line'" : "protocol,..."}, got '${text}'`);
    const name = text.slice(0, eq).trim();
    if (!NAME.test(name)) throw new UsageError(`--${flag}: '${name}' is not a model name (letters, digits, . _ -; at most 40)`);
    return [name, text.slice(eq + 1).trim()];
  });
}

/** Checks a command model's protocols. */
export function protocolsOf(name: string, list: readonly string[]): ServerOptions["protocol"][] {
  for (const p of list) {
    if (!(PROTOCOLS as readonly string[]).includes(p)) throw new UsageError(`cmd:${name} protocols must be among ${PROTOCOLS.join(", ")}, got '${p}'`);
  }
  if (list.length === 0) throw new UsageError(`cmd:${name} must speak at least one protocol`);
  return [...new Set(list)] as ServerOptions["protocol"][];
}

/** The command models the flags declare, over those of a scenario (`declared`). */
export function commandModels(args: Record<string, RawFlag>, declared: CommandModels = new Map()): Map<string, CommandDeclaration> {
  const models = new Map(declared);
  const seen = new Set<string>();
  for (const [name, command] of pairs("server-cmd", args["server-cmd"])) {
    if (seen.has(name)) throw new UsageError(`--server-cmd ${name} is given twice`);
    seen.add(name);
    if (command === "") throw new UsageError(`--server-cmd ${name} has an empty command line`);
    models.set(name, { command, protocols: models.get(name)?.protocols ?? ["echo"] });
  }
  for (const [name, list] of pairs("server-protocols", args["server-protocols"])) {
    const model = models.get(name);
    if (model === undefined) throw new UsageError(`--server-protocols ${name}: no --server-cmd ${name} declares that model`);
    models.set(name, { ...model, protocols: protocolsOf(name, list.split(",").map((p) => p.trim())) });
  }
  return models;
}

/** A scenario's `servers` section as declared command models. */
export function scenarioCommands(loaded: LoadedScenario | null): CommandModels {
  const servers = loaded?.scenario.servers ?? {};
  return new Map(Object.entries(servers).map(([name, s]) => [name, { command: s.command, protocols: s.protocols ?? ["echo"] }]));
}

/** The declared command models as results.json records them (options.servers), or nothing when there are none. */
export function serversRecord(models: CommandModels): { servers?: Record<string, CommandServer> } {
  if (models.size === 0) return {};
  return { servers: Object.fromEntries([...models].map(([name, d]) => [name, { command: d.command, protocols: [...d.protocols] }])) };
}
