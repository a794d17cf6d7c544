/**
 * Parts as client processes on this machine (--client-processes): each a
 * child (child.ts) with its own open-file limit, started under the exec
 * guard so it dies with iobench, talking over Node's IPC channel. The
 * reference clock is this machine's: offsets are 0.
 */
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { spawnGuarded } from "../../native/guard.js";
import type { LiveCounters } from "../../contracts/client.js";
import type { PartLink, PartSlot, PartsTransport } from "./driver.js";
import type { PartControl, PartPlan, PartReport, PartResult } from "./messages.js";

const CHILD = fileURLToPath(new URL("./child.js", import.meta.url));
/** A child must be loaded and say "ready" within this, ms. */
const READY_MS = 15_000;
/** A child asked to stop gets this long before SIGKILL, ms. */
const STOP_GRACE_MS = 5_000;
/** The last stderr kept for a child that dies without a result. */
const STDERR_KEEP = 2000;

/** Why a child ended without a result, with the last line it wrote. */
function exitText(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
  const last = stderr.trim().split("\n").pop()?.trim();
  return `the process ${how} without a result${last ? `: ${last}` : ""}`;
}

class ProcessLink implements PartLink {
  live: LiveCounters = { messages: 0, errors: 0, connected: 0, connects: 0 };
  heardAt = performance.now();
  readonly result: Promise<PartResult | string>;

  constructor(
    private readonly child: ChildProcess,
    exited: Promise<string>,
    plan: PartPlan,
  ) {
    this.result = new Promise((resolve) => {
      child.on("message", (m: PartReport) => {
        this.heardAt = performance.now();
        if (m.type === "live") this.live = m.live;
        else if (m.type === "result") resolve(m.result);
      });
      void exited.then(resolve); // after a result, a no-op
    });
    child.send({ type: "run", plan }, () => undefined);
  }

  send(control: PartControl): void {
    // A child that has just finished may close its channel under us: the send then fails, harmlessly.
    if (this.child.connected) this.child.send(control, () => undefined);
  }

  async dispose(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
    this.send({ type: "stop" });
    await gone;
    clearTimeout(timer);
  }
}

/** Starts one child and resolves once it is ready for its plan. */
async function startChild(name: string): Promise<PartSlot> {
  const child = spawnGuarded(process.execPath, [CHILD], { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  child.on("error", () => undefined); // a failed send or kill; its exit says what became of it
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_KEEP)));
  const exited = new Promise<string>((resolve) => child.once("exit", (code, signal) => resolve(exitText(code, signal, stderr))));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${READY_MS / 1000} s`)), READY_MS);
    child.once("message", () => {
      clearTimeout(timer);
      resolve();
    });
    void exited.then((why) => {
      clearTimeout(timer);
      reject(new Error(`${name}: ${why}`));
    });
  }).catch((err: unknown) => {
    child.kill("SIGKILL");
    throw err;
  });
  return { name, run: (plan) => new ProcessLink(child, exited, plan), cancel: () => child.kill("SIGKILL") };
}

/** Client processes on this machine. */
export const processTransport: PartsTransport = {
  kind: "process",
  // A child has its plan within milliseconds of being sent it.
  leadMs: 100,
  async referenceNow() {
    return Date.now();
  },
  async prepare(count) {
    const started = await Promise.allSettled(Array.from({ length: count }, (_v, i) => startChild(`process ${i + 1}`)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (failed !== undefined) {
      // The ones that did start are waiting for a plan: stop them.
      for (const s of started) if (s.status === "fulfilled") s.value.cancel();
      throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
    }
    return started.map((s) => (s as PromiseFulfilledResult<PartSlot>).value);
  },
};
