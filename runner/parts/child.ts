/**
 * A client process: one part of a load split over processes on this
 * machine (--client-processes). processes.ts starts it (under the exec
 * guard, so it dies with iobench) with an IPC channel; it says "ready",
 * runs the one plan it is sent (part.ts), reports live counters and its
 * result, and exits. Its own process means its own open-file limit: that
 * is the point of it.
 */
import type { PartControl, PartPlan, PartReport } from "./messages.js";
import { runPart } from "./part.js";

/** Sends a report; a parent that is gone makes the send fail, and then there is nobody to run for. */
function report(m: PartReport): void {
  if (process.send === undefined || !process.connected) process.exit(1);
  process.send(m);
}

if (process.send !== undefined) {
  const end = new AbortController();
  const stop = new AbortController();
  let plan: PartPlan | null = null;
  process.on("disconnect", () => process.exit(1)); // the coordinator is gone: no result is wanted
  process.on("message", (m: { type: "run"; plan: PartPlan } | PartControl) => {
    if (m.type === "end") end.abort();
    else if (m.type === "stop") stop.abort();
    else if (plan === null) {
      plan = m.plan;
      void run(plan);
    }
  });
  const run = async (p: PartPlan): Promise<void> => {
    const result = await runPart(p, {
      clock: { offsetMs: 0, rttMs: 0 },
      end: end.signal,
      stop: stop.signal,
      onLive: (live) => report({ type: "live", live }),
      linkDrops: () => 0,
    });
    report({ type: "result", result });
    process.disconnect();
  };
  report({ type: "ready" });
}
