/**
 * The runs the chapter's claims need beyond the default sweep (--claims,
 * on for the default sweep), each group with the load its claim is about,
 * interleaved in the sweep's rounds so each comparison is paired:
 *
 * - claim 1: iocp at as many threads as the server has CPUs vs the blocking
 *   model with a thread per connection, every session served on both sides.
 *   64 sessions, not the default 256: each connection thread is a Node.js
 *   worker (its own V8 isolate), and 256 of them do not all start within a
 *   warm-up on one server CPU here (2-core machine: 5-10 of 256 served);
 *   64 start within CLAIM1_WARMUP_SEC.
 * - claim 3: completion-routine with the seed's polling accept vs accepting
 *   on its ring, under connect-storm's reconnecting load (a session connects,
 *   echoes one message, closes, reconnects), timed to each first echo. The
 *   connects are paced (CLAIM3_CONNECTS_PER_SEC): unpaced, 64 sessions
 *   reconnecting as fast as they can saturate the one client CPU of a
 *   2-core machine, and a saturated client times its own queue; paced, both
 *   servers get the same offered load and the first echo shows the accept.
 * - claim 4: epoll and iocp under db-work's blocking 2 ms per message, at
 *   the server's CPU count of threads and at four times it.
 */
import connectStorm from "../scenarios/builtin/connect-storm.js";
import dbWork from "../scenarios/builtin/db-work.js";
import type { BenchOptions, SweepPart } from "../reports/schema.js";
import { parseWork } from "../contracts/work.js";
import { MAX_THREADS } from "../contracts/limits.js";
import { CLAIM3_CONNECTS_PER_SEC } from "../reports/rules.js";

/** Sessions of claim 1's runs (see the file comment). */
export const CLAIM1_SESSIONS = 64;
/** Warm-up of claim 1's runs: 64 connection threads start within it on one CPU. */
export const CLAIM1_WARMUP_SEC = 3;

/** The claims' parts for a sweep whose server has `serverCpus` CPUs. */
export function claimParts(o: Pick<BenchOptions, "load" | "warmupSec">, serverCpus: number): SweepPart[] {
  const seedLoad = { ...o.load };
  const part = (p: Partial<SweepPart> & Pick<SweepPart, "name" | "models" | "threads" | "connections">): SweepPart => ({
    accepts: ["poll"],
    work: null,
    load: seedLoad,
    loadName: null,
    warmupSec: o.warmupSec,
    ...p,
  });
  const sessions = (n: number | number[]): number[] => (Array.isArray(n) ? n : [n]);
  return [
    part({ name: "claim 1", models: ["iocp"], threads: [serverCpus], connections: [CLAIM1_SESSIONS], warmupSec: CLAIM1_WARMUP_SEC }),
    part({ name: "claim 1", models: ["blocking"], threads: ["per-connection"], connections: [CLAIM1_SESSIONS], warmupSec: CLAIM1_WARMUP_SEC }),
    part({
      name: "claim 3",
      models: ["completion-routine"],
      threads: [1],
      connections: sessions(connectStorm.sessions),
      accepts: ["poll", "ring"],
      load: { ...seedLoad, messagesPerSession: connectStorm.messagesPerSession, connectRatePerSec: CLAIM3_CONNECTS_PER_SEC },
      loadName: `${connectStorm.name} at ${CLAIM3_CONNECTS_PER_SEC} connects/s`,
    }),
    part({
      name: "claim 4",
      models: ["epoll", "iocp"],
      threads: [serverCpus, Math.min(MAX_THREADS, 4 * serverCpus)],
      connections: sessions(dbWork.sessions),
      work: parseWork(dbWork.server.work),
      loadName: dbWork.name,
    }),
  ];
}
