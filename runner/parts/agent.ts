/**
 * `iobench agent`: a load machine's worker. It registers under its name,
 * takes the jobs of its own BullMQ queue one at a time (each job: its part
 * of one run), runs each with part.ts (on the schedule, by its own clock
 * corrected by its offset to Redis TIME, read when the job arrives),
 * reports live counters as job progress, listens on the run's control
 * channel for an early end or a stop, and returns its figures as the job's
 * result. It runs until SIGINT/SIGTERM.
 */
import os from "node:os";
import { Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { oneLine } from "../../contracts/errors.js";
import { toolVersion } from "../environment.js";
import type { PartControl, PartPlan, PartResult } from "./messages.js";
import { runPart } from "./part.js";
import { HEARTBEAT_MS, REGISTRY_TTL_SEC, agentKey, agentQueue, clockOffset, connectChecked, controlChannel, type AgentInfo } from "./redis.js";

/** Progress goes to Redis at most this often, ms (the coordinator counts a part silent after 3 s). */
const PROGRESS_EVERY_MS = 500;

export interface AgentOptions {
  redis: string;
  name: string;
  /** Pin this agent's client threads to these CPUs (empty: not pinned). */
  clientCpus: number[];
}

/** Runs the agent until `signal` aborts; resolves with the exit status. */
export async function runAgent(opts: AgentOptions, io: { stderr: NodeJS.WritableStream; signal: AbortSignal }): Promise<number> {
  const say = (line: string): void => void io.stderr.write(`iobench agent ${opts.name}: ${line}\n`);
  const redis = await connectChecked(opts.redis);
  const info: AgentInfo = { name: opts.name, host: os.hostname(), pid: process.pid, cores: os.availableParallelism(), version: toolVersion() };
  const taken = await redis.set(agentKey(opts.name), JSON.stringify(info), "EX", REGISTRY_TTL_SEC, "NX");
  if (taken !== "OK") {
    const holder = await redis.get(agentKey(opts.name));
    redis.disconnect();
    throw new Error(`agent name ${opts.name} is in use on ${opts.redis} (${holder ?? "just now"}): give another --name`);
  }
  // Counted while a job runs: each drop of the link to Redis is named in the run.
  let drops = 0;
  redis.on("close", () => drops++);
  const heartbeat = setInterval(() => void redis.set(agentKey(opts.name), JSON.stringify(info), "EX", REGISTRY_TTL_SEC).catch(() => undefined), HEARTBEAT_MS);

  const worker = new Worker<PartPlan, PartResult>(agentQueue(opts.name), (job) => runJob(job, redis, opts, say, () => drops), {
    connection: redis.duplicate(),
    concurrency: 1,
    // A job whose agent died is failed, never handed to it again when it comes back.
    maxStalledCount: 0,
  });
  worker.on("error", (err) => say(`worker: ${oneLine(err)}`));
  await worker.waitUntilReady();
  say(`ready on ${opts.redis} (queue ${agentQueue(opts.name)}, ${info.cores} cores)`);

  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  say("stopping");
  clearInterval(heartbeat);
  await worker.close(true);
  await redis.del(agentKey(opts.name)).catch(() => undefined);
  redis.disconnect();
  return 0;
}

/** One job: one part of one run. */
async function runJob(job: Job<PartPlan, PartResult>, redis: Redis, opts: AgentOptions, say: (line: string) => void, drops: () => number): Promise<PartResult> {
  const plan: PartPlan = { ...job.data, client: { ...job.data.client, cpus: opts.clientCpus } };
  const clock = await clockOffset(redis);
  const { startAtMs, warmupMs, durationMs } = plan.schedule;
  // A job that waited out its run (the agent was down) is no use to anyone.
  if (Date.now() - clock.offsetMs > startAtMs + warmupMs + durationMs) throw new Error("the run this part belonged to is over");
  say(`run ${plan.runId}: ${plan.client.sessions} sessions to ${plan.client.host}:${plan.client.port}, clock offset ${clock.offsetMs.toFixed(1)} ms (round trip ${clock.rttMs.toFixed(1)} ms)`);

  const end = new AbortController();
  const stop = new AbortController();
  const control = redis.duplicate();
  await control.subscribe(controlChannel(plan.runId));
  control.on("message", (_channel: string, text: string) => {
    const m = JSON.parse(text) as PartControl;
    if (m.type === "end") end.abort();
    else if (m.type === "stop") stop.abort();
  });
  const dropsBefore = drops();
  let sentAt = 0;
  try {
    const result = await runPart(plan, {
      clock,
      end: end.signal,
      stop: stop.signal,
      onLive: (live) => {
        const now = performance.now();
        if (now - sentAt < PROGRESS_EVERY_MS) return;
        sentAt = now;
        void job.updateProgress({ ...live }).catch(() => undefined);
      },
      linkDrops: () => drops() - dropsBefore,
    });
    say(`run ${plan.runId}: ${result.status === "ok" ? `${result.figures.messages} messages` : `failed: ${result.error}`}`);
    return result;
  } finally {
    control.disconnect();
  }
}
