/**
 * What the coordinator and the agents share on Redis: the connection, the
 * names of things, the agent registry and the clock. The only file that
 * imports ioredis; it and BullMQ are loaded when `agent` or `--agents`
 * asks for them, never on the default path (cli/ imports agent.ts and
 * agents.ts with import()).
 *
 * - The registry: every agent holds a key iobench:agent:NAME (its host,
 *   pid, cores) that expires unless refreshed, taken with NX so two agents
 *   cannot share a name. The coordinator lists the live ones.
 * - Work: one BullMQ queue per agent (iobench-agent-NAME): a worker takes
 *   as many jobs of a shared queue as it can, so only a queue of its own
 *   gives each agent exactly one part of each run.
 * - Control: an early end or a stop of a run is published on
 *   iobench:control:RUNID, which the agents of that run listen to.
 * - The clock: Redis TIME is the reference; each side reads its offset to
 *   it (the reading with the shortest round trip of a few).
 */
import os from "node:os";
import { Redis } from "ioredis";

/** An agent's registry key lives this long unless refreshed, s; agents refresh it every HEARTBEAT_MS. */
export const REGISTRY_TTL_SEC = 10;
export const HEARTBEAT_MS = 2000;

const PREFIX = "iobench";

/** The Redis key of an agent's registration. */
export function agentKey(name: string): string {
  return `${PREFIX}:agent:${name}`;
}

/** The BullMQ queue of one agent. */
export function agentQueue(name: string): string {
  return `${PREFIX}-agent-${name}`;
}

/** The channel on which a run's early end or stop is published. */
export function controlChannel(runId: string): string {
  return `${PREFIX}:control:${runId}`;
}

/** What an agent says about itself in the registry. */
export interface AgentInfo {
  name: string;
  host: string;
  pid: number;
  cores: number;
  version: string;
}

/**
 * A Redis connection for `url` (redis://host:port/db; the password from
 * IOBENCH_REDIS_PASSWORD). BullMQ's workers need maxRetriesPerRequest null.
 */
export function connect(url: string, opts: { lazy?: boolean } = {}): Redis {
  const password = process.env.IOBENCH_REDIS_PASSWORD;
  return new Redis(url, {
    maxRetriesPerRequest: null,
    lazyConnect: opts.lazy === true,
    connectionName: `iobench-${os.hostname()}-${process.pid}`,
    ...(password !== undefined && password !== "" ? { password } : {}),
  });
}

/** Connects, or throws one line naming the Redis and why, within `ms`. */
export async function connectChecked(url: string, ms = 5000): Promise<Redis> {
  const redis = connect(url, { lazy: true });
  let last = "";
  redis.on("error", (err: Error) => (last = err.message));
  try {
    await Promise.race([
      redis.connect(),
      new Promise((_resolve, reject) => setTimeout(() => reject(new Error(last || `no answer within ${ms / 1000} s`)), ms).unref()),
    ]);
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot reach Redis at ${url}: ${(err as Error).message || last}`);
  }
}

/**
 * This machine's clock (Date.now(), the clock the schedule is kept by)
 * minus Redis TIME, ms, from the reading with the shortest round trip of
 * `samples`: Redis read its clock somewhere inside the round trip, so the
 * offset is good to about half of it (plus Date.now()'s 1 ms steps).
 */
export async function clockOffset(redis: Redis, samples = 5): Promise<{ offsetMs: number; rttMs: number }> {
  let best = { offsetMs: 0, rttMs: Infinity };
  for (let i = 0; i < samples; i++) {
    const p0 = performance.now();
    const t0 = Date.now();
    const [sec, usec] = await redis.time();
    const t1 = Date.now();
    const rtt = performance.now() - p0;
    const redisMs = Number(sec) * 1000 + Number(usec) / 1000;
    if (rtt < best.rttMs) best = { offsetMs: (t0 + t1) / 2 - redisMs, rttMs: rtt };
  }
  return best;
}

/** The agents registered now, by name. */
export async function liveAgents(redis: Redis): Promise<AgentInfo[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", agentKey("*"), "COUNT", 100);
    cursor = next;
    keys.push(...found);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  const values = await redis.mget(...keys);
  const agents: AgentInfo[] = [];
  for (const v of values) {
    if (v === null) continue; // expired between SCAN and MGET
    try {
      agents.push(JSON.parse(v) as AgentInfo);
    } catch {
      // not ours: ignore
    }
  }
  return agents.sort((a, b) => a.name.localeCompare(b.name));
}
