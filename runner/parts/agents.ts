/**
 * Parts as agents (--agents redis://...): the coordinator's side. It finds
 * the registered agents (waiting for --agent-count of them), and for each
 * run adds one BullMQ job to each agent's own queue, with a start time on
 * the Redis clock far enough ahead for every agent to get its job first.
 * Job progress carries the live counters; the job's result is the part's
 * figures; an early end or a stop is published on the run's channel.
 */
import { Queue, QueueEvents, type Job } from "bullmq";
import type { Redis } from "ioredis";
import type { LiveCounters } from "../../contracts/client.js";
import type { PartLink, PartSlot, PartsTransport } from "./driver.js";
import type { PartControl, PartPlan, PartResult } from "./messages.js";
import { agentQueue, clockOffset, connect, connectChecked, controlChannel, liveAgents, type AgentInfo } from "./redis.js";

/** How long a sweep waits for --agent-count agents to register, ms. */
const WAIT_FOR_AGENTS_MS = 30_000;

/** One agent's queue and its events, opened once per sweep. */
interface AgentLine {
  info: AgentInfo;
  queue: Queue<PartPlan, PartResult>;
  events: QueueEvents;
}

class AgentLink implements PartLink {
  live: LiveCounters = { messages: 0, errors: 0, connected: 0, connects: 0 };
  heardAt = performance.now();
  readonly result: Promise<PartResult | string>;
  private job: Job<PartPlan, PartResult> | null = null;
  private readonly onProgress: (e: { jobId: string; data: unknown }) => void;

  constructor(
    private readonly line: AgentLine,
    private readonly redis: Redis,
    private readonly plan: PartPlan,
  ) {
    const jobId = `${plan.runId}-${line.info.name}`;
    this.onProgress = ({ jobId: id, data }) => {
      if (id !== jobId) return;
      this.heardAt = performance.now();
      if (typeof data === "object" && data !== null) this.live = data as LiveCounters;
    };
    line.events.on("progress", this.onProgress);
    this.result = line.queue
      .add("part", plan, { jobId, attempts: 1, removeOnComplete: true, removeOnFail: true })
      .then(async (job) => {
        this.job = job;
        const r = await job.waitUntilFinished(line.events);
        this.heardAt = performance.now();
        return r;
      })
      .catch((err: unknown) => `its job failed: ${(err as Error).message}`);
  }

  send(control: PartControl): void {
    void this.redis.publish(controlChannel(this.plan.runId), JSON.stringify(control)).catch(() => undefined);
  }

  async dispose(): Promise<void> {
    this.line.events.off("progress", this.onProgress);
    // A job its agent never finished (it died) must not wait for the agent's return: gone with the run.
    await this.job?.remove().catch(() => undefined);
  }
}

/** The agents of a sweep. */
export class AgentPool implements PartsTransport {
  readonly kind = "agent";
  /** Jobs reach a waiting worker within milliseconds; the lead also covers each agent reading its clock offset. */
  readonly leadMs = 1000;

  private constructor(
    private readonly url: string,
    private readonly redis: Redis,
    private readonly lines: AgentLine[],
  ) {}

  /** Connects and finds the agents: `count` of them (waiting up to 30 s for them), or every one registered now (at least one, no waiting). */
  static async open(url: string, count: number | null, say: (line: string) => void): Promise<AgentPool> {
    const redis = await connectChecked(url);
    try {
      let agents = await liveAgents(redis);
      const deadline = Date.now() + (count === null ? 0 : WAIT_FOR_AGENTS_MS);
      const want = count ?? 1;
      if (agents.length < want && count !== null) say(`waiting for ${want} agent(s) on ${url} (${agents.length} registered)`);
      while (agents.length < want && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        agents = await liveAgents(redis);
      }
      if (agents.length < want) {
        const within = count === null ? "" : ` within ${WAIT_FOR_AGENTS_MS / 1000} s`;
        throw new Error(`${agents.length} agent(s) registered on ${url}${within}, ${want} wanted: start them with iobench agent --redis ${url}`);
      }
      const chosen = agents.slice(0, count ?? agents.length);
      const lines = chosen.map((info) => ({
        info,
        queue: new Queue<PartPlan, PartResult>(agentQueue(info.name), { connection: redis }),
        events: new QueueEvents(agentQueue(info.name), { connection: connect(url) }),
      }));
      await Promise.all(lines.map((l) => l.events.waitUntilReady()));
      say(`agents: ${chosen.map((a) => `${a.name} (${a.host})`).join(", ")}`);
      return new AgentPool(url, redis, lines);
    } catch (err) {
      redis.disconnect();
      throw err;
    }
  }

  get count(): number {
    return this.lines.length;
  }

  async prepare(count: number): Promise<PartSlot[]> {
    if (count > this.lines.length) throw new Error(`${count} agent(s) wanted, ${this.lines.length} on ${this.url}`);
    // An agent that has gone since the sweep started still gets its job: it comes back missing, named in the run.
    return this.lines.slice(0, count).map((line) => ({
      name: line.info.name,
      run: (plan: PartPlan) => new AgentLink(line, this.redis, plan),
      cancel: () => undefined,
    }));
  }

  /** Redis TIME now, as seen from here (this clock corrected by its offset). */
  async referenceNow(): Promise<number> {
    const { offsetMs } = await clockOffset(this.redis);
    return Date.now() - offsetMs;
  }

  async close(): Promise<void> {
    await Promise.all(this.lines.flatMap((l) => [l.queue.close(), l.events.close()]));
    this.redis.disconnect();
  }
}
