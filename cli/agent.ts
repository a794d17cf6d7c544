/**
 * The agent command: `iobench agent --redis redis://HOST:PORT [--name N]`
 * on each load machine. Its flags are checked here; the agent itself
 * (runner/parts/agent.ts, with BullMQ and ioredis) is loaded only when
 * this command runs.
 */
import os from "node:os";
import type { Options } from "yargs";
import { RunFailure, UsageError, oneLine } from "../contracts/errors.js";
import { parseCpuList } from "../runner/cpus.js";
import { redisUrl, scalar, type RawFlag } from "./parse.js";

/** The agent command's flags. */
export function agentFlags(): Record<string, Options> {
  return {
    redis: { type: "string", requiresArg: true, description: "the Redis the coordinator (iobench bench --agents URL) uses, redis://host:port[/db]; password in IOBENCH_REDIS_PASSWORD" },
    name: { type: "string", requiresArg: true, description: "this agent's name, unique among the agents on that Redis (letters, digits, . _ -)", defaultDescription: "the host name" },
    "client-cpus": { type: "string", requiresArg: true, description: 'pin this agent\'s client threads to these CPUs, e.g. "0-3"', defaultDescription: "not pinned" },
  };
}

export interface AgentArgs {
  redis: string;
  name: string;
  clientCpus: number[];
}

/** An agent's name goes into Redis keys and a queue name. */
const AGENT_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Checks the agent's flags. */
export function agentOptions(args: Record<string, RawFlag>, cpuCount: number): AgentArgs {
  const url = scalar(args.redis);
  if (url === undefined) throw new UsageError("agent needs --redis redis://HOST:PORT (the Redis the coordinator's --agents names)");
  const name = scalar(args.name) ?? os.hostname().replace(/[^A-Za-z0-9._-]/g, "-").slice(0, 64);
  if (!AGENT_NAME.test(name)) throw new UsageError(`--name '${name}' must be 1-64 letters, digits, '.', '_' or '-'`);
  const cpus = scalar(args["client-cpus"]);
  return { redis: redisUrl("redis", url), name, clientCpus: cpus === undefined ? [] : parseCpuList("--client-cpus", cpus, cpuCount) };
}

/** Loads a module of the agents' side (it needs bullmq and ioredis); a missing package is one line saying what to install. */
export async function importAgentsPart<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw err;
    throw new RunFailure(`agents need the packages bullmq and ioredis, which are not installed here (npm install bullmq ioredis): ${oneLine(err)}`);
  }
}

/** Runs the agent until SIGINT/SIGTERM (the signal); resolves with the exit status. */
export async function agent(args: Record<string, RawFlag>, cpuCount: number, io: { stderr: NodeJS.WritableStream; signal: AbortSignal }): Promise<number> {
  const options = agentOptions(args, cpuCount);
  const { runAgent } = await importAgentsPart(() => import("../runner/parts/agent.js"));
  return runAgent(options, io);
}
